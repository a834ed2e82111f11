"""Suppressions approved in the ops console, applied to alerts. Pure.

A lead's approval (an ``suppression_approved`` event on ``<prefix>.alert-actions``) names a
party (the alert's party key: importer, else exporter) and a rule until a time. An alert of
that rule and party raised before then is still stored (its version goes to the sink) but
carries ``suppressed_by`` and is not published to watchers on ``<prefix>.alerts``.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

from schemas.alert import Alert
from schemas.alert_action import AlertAction, Suppression

Key = tuple[str, str]


def fold(book: MutableMapping[Key, Suppression], action: AlertAction) -> None:
    """Take one action event into the book of suppressions (others are ignored); of two
    approvals for one party and rule the one lasting longer wins."""
    rule = action.suppression
    if action.action != "suppression_approved" or rule is None:
        return
    key = (rule.party_key, rule.rule)
    held = book.get(key)
    if held is None or rule.until > held.until:
        book[key] = rule


def mark(alert: Alert, book: Mapping[Key, Suppression]) -> Alert:
    """The alert with ``suppressed_by`` set when an approved suppression covers it."""
    rule = book.get((alert.partition_key(), alert.rule))
    if rule is None or alert.created_at >= rule.until or alert.suppressed_by is not None:
        return alert
    why = f"suppression {rule.suppression_id} until {rule.until:%Y-%m-%d}: {rule.reason}"
    return alert.model_copy(update={"suppressed_by": why})
