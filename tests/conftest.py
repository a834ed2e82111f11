"""Fixtures every test folder may use: the session's one broker and a pipeline per test."""

from tests.services import bootstrap, pipeline

__all__ = ["bootstrap", "pipeline"]
