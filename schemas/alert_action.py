"""A triage action on an alert: who did what, when, and the state before and after.

Published by the ops console on ``<prefix>.alert-actions`` (keyed by alert id) after it is
committed to the console's store; the sink lands it in ClickHouse (``alert_actions``), and
the worker reads approved suppressions from it. Events are immutable: a correction is a new
event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ActionKind = Literal[
    "claim",
    "assign",
    "status",
    "close",
    "reopen",
    "comment",
    "suppression_requested",
    "suppression_approved",
    "suppression_rejected",
]
Outcome = Literal["confirmed", "false_positive", "not_relevant"]


class Suppression(BaseModel):
    """Alerts of ``rule`` on ``party_key`` raised before ``until`` are stored but marked and
    not published to watchers (once a lead approved it)."""

    model_config = ConfigDict(frozen=True)

    suppression_id: int
    party_key: str
    rule: str
    until: datetime
    reason: str


class AlertAction(BaseModel):
    """Value of a ``<prefix>.alert-actions`` message, keyed by alert id."""

    model_config = ConfigDict(frozen=True)

    event_id: str = Field(description="Unique id of this event (uuid4 hex).")
    alert_id: str
    action: ActionKind
    actor: str = Field(description="User name of who acted.")
    actor_role: Literal["viewer", "analyst", "lead"]
    at: datetime
    before: dict[str, str | None] = Field(default_factory=dict)
    after: dict[str, str | None] = Field(default_factory=dict)
    comment: str = ""
    rule: str = Field(default="", description="The alert's rule, for outcomes per rule.")
    outcome: Outcome | None = None
    suppression: Suppression | None = None
