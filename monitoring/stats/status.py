"""The four statuses a monitoring check can end in, and the one order they rank in."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Status(StrEnum):
    """Outcome of a check. The values are those of ``monitoring.choices.CheckStatus``; they are
    repeated here because this package stays free of Django."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"


# Least to most severe. "unknown" ranks below "ok" because it is no judgement at all: wherever
# statuses combine (a health score, a bias report, an alert threshold) any known one outranks it.
STATUS_ORDER = (Status.UNKNOWN, Status.OK, Status.WARNING, Status.CRITICAL)
_RANK = {status: rank for rank, status in enumerate(STATUS_ORDER)}


def status_rank(status: str) -> int:
    """The position of ``status`` in :data:`STATUS_ORDER` (higher is worse); ValueError for a
    value that is not a status."""
    try:
        return _RANK[Status(status)]
    except ValueError:
        raise ValueError(f"unknown status {status!r}") from None


def status_worst(statuses: Iterable[str]) -> str:
    """The most severe of ``statuses``; "unknown" when there are none (or only unknown ones)."""
    return str(max(statuses, key=status_rank, default=Status.UNKNOWN))
