"""Errors raised by connectors and the publisher."""

from schemas.errors import TerminalError, TransientError


class PublishFailed(TransientError):
    """The broker did not acknowledge a batch."""


class FileRejected(TerminalError):
    """A whole file cannot be read (not the format, encoding or header its mapping says)."""


class SourceUnavailable(TransientError):
    """A polled endpoint could not be read (after retries, or with a refusal)."""
