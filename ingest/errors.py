"""Errors raised by connectors and the publisher."""

from schemas.errors import TerminalError, TransientError


class PublishFailed(TransientError):
    """The broker did not acknowledge a batch."""


class FileRejected(TerminalError):
    """A whole file cannot be read (not the format, encoding or header its mapping says)."""


class FolderRefused(TerminalError):
    """A watched folder the watcher will not write in (its done/ or failed/ is a link)."""


class SourceBusy(TerminalError):
    """Another connector holds the source's resume points (runs on the same source)."""


class SourceUnavailable(TransientError):
    """A polled endpoint could not be read (after retries, or with a refusal)."""
