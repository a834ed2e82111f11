"""Connectors: one module per kind of feed, each cutting a feed into raw records."""
