"""Errors raised by connectors and the publisher."""

from schemas.errors import TransientError


class PublishFailed(TransientError):
    """The broker did not acknowledge a batch."""
