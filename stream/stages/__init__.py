"""Pure, synchronous stages. Agents (stream/worker/agents.py) own every I/O around them."""

from stream.native import package_path

# the compiled stages (stream/native.py), while they match these sources
__path__ = package_path(__name__, __path__)
