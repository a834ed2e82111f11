"""Root of the project's error hierarchy, with transient/terminal markers for retry logic."""


class CustomsWatchError(Exception):
    """Base of every error raised on purpose by customs-watch."""


class TransientError(CustomsWatchError):
    """Worth retrying: the same call may succeed later (broker or ClickHouse unavailable)."""


class TerminalError(CustomsWatchError):
    """Retrying cannot help: the input or the configuration is wrong."""


class InvalidRuleData(TerminalError):
    """A rule data file is missing, malformed, or lacks its source."""


class InvalidMapping(TerminalError):
    """A tabular mapping file is malformed: unknown field, empty or clashing aliases."""
