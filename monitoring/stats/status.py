"""The four statuses a monitoring check can end in."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Outcome of a check. The values are those of ``monitoring.choices.CheckStatus``; they are
    repeated here because this package stays free of Django."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"
