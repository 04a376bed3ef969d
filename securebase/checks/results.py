"""Check results: the evidence record shared by verify, scan, reports and later billing.

A result names the customer it is about (or none, for organization-wide checks), so
one customer's evidence can be handed over without another's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Status = Literal["PASS", "FAIL", "ERROR"]


def utc_now() -> str:
    """Return the current UTC time in ISO 8601 with seconds, e.g. 2026-12-04T20:15:00Z."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check on one resource.

    `check_id` is stable across releases (e.g. `account.in-tier-ou`) because the
    control catalog maps framework requirements to it. `status` is ERROR when the
    check could not run, which never counts as evidence that a control works.
    """

    check_id: str
    title: str
    status: Status
    detail: str
    customer: str | None = None
    resource: str = ""
    checked_at: str = field(default_factory=utc_now)
    source: str = "securebase"

    def as_dict(self) -> dict[str, Any]:
        """Return the result as plain data for JSON."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        """Build a result from `as_dict` output."""
        return cls(**data)
