"""Consumers of the alerts topic outside the worker: a terminal tail and a webhook."""
