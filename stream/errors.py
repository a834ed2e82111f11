"""Errors raised inside the stream package."""

from schemas.errors import CustomsWatchError, TerminalError, TransientError


class WarehouseUnavailable(TransientError):
    """ClickHouse did not answer or refused for a reason that may pass; retry the batch."""


class WarehouseRejected(TerminalError):
    """ClickHouse rejected the batch itself; retrying the same rows cannot succeed."""


class WarehouseLocked(CustomsWatchError):
    """The embedded data directory is owned by a running worker."""
