"""Sanctions screening: watchlists, their index, the name matcher."""

from stream.native import package_path

# the compiled matcher (stream/native.py), while it matches these sources
__path__ = package_path(__name__, __path__)
