"""Connectors: read a feed, cut it into raw batches, publish them to ``<prefix>.raw.<source>``."""
