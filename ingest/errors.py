"""Errors raised by connectors and the publisher."""

from schemas.errors import TerminalError, TransientError


class SourceUnavailable(TransientError):
    """The feed could not be read right now."""


class TopicMissing(TerminalError):
    """The raw topic for a source does not exist; the worker would never read it."""


class PublishFailed(TransientError):
    """The broker did not acknowledge a batch."""
