"""Evidence store: each customer's scan results, one folder per scan.

Layout under the evidence folder:

    <customer key>/<scan start, UTC, e.g. 20261204T201500Z>/scan.json     what ran, when, and whether partial
    <customer key>/<scan start>/results.json                             the customer's CheckResult records
    <customer key>/<scan start>/prowler/                                 Prowler's raw output, when it ran

A customer's folder contains nothing about any other customer, so it can be handed to
that customer or their auditor alone. Every write checks that each result names the
scan's customer. A scan is written to a hidden staging folder and renamed into place
at the end, so an interrupted scan never shows up as the latest one.
"""

from __future__ import annotations

import csv
import json
import logging
import re
import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from securebase.checks.results import CheckResult
from securebase.customers import CUSTOMER_KEY_PATTERN, Customer

logger = logging.getLogger("securebase")

SCAN_FORMAT = 1
SCAN_FILE = "scan.json"
RESULTS_FILE = "results.json"
PROWLER_FOLDER = "prowler"
SCAN_FOLDER_PATTERN = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")
STAGING_PREFIX = ".staging-"

SourceStatus = Literal["completed", "failed", "not-run"]


class EvidenceError(Exception):
    """An evidence folder or file that is missing, unreadable or not in the evidence format."""


class UnknownCustomerError(KeyError):
    """A customer key that the configuration does not contain."""

    def __str__(self) -> str:
        # KeyError would print the message inside quotes, as the repr of its argument.
        return str(self.args[0])


def find_customer(customers: Iterable[Customer], key: str) -> Customer:
    """Return the customer with `key`. Raises UnknownCustomerError listing the known keys."""
    customers = list(customers)
    for customer in customers:
        if customer.key == key:
            return customer
    known = ", ".join(customer.key for customer in customers) or "none"
    raise UnknownCustomerError(f"customer {key!r} not found; customers in this configuration: {known}")


@dataclass(frozen=True)
class SourceRun:
    """One scanner's part in a scan: `securebase` (verify) or `prowler`."""

    name: str
    status: SourceStatus
    detail: str = ""
    result_count: int = 0


@dataclass(frozen=True)
class ScanRecord:
    """Metadata of one scan, stored as scan.json beside the results."""

    customer: str
    customer_name: str
    framework: str
    account_id: str | None
    started_at: str
    finished_at: str
    sources: tuple[SourceRun, ...]
    partial_reasons: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        """Whether part of the scan did not run or did not finish, so its evidence is incomplete."""
        return bool(self.partial_reasons)

    @property
    def sources_run(self) -> frozenset[str]:
        """Return the names of the scanners that were started, whether or not they finished."""
        return frozenset(source.name for source in self.sources if source.status != "not-run")

    @property
    def sources_completed(self) -> frozenset[str]:
        """Return the names of the scanners that finished their run."""
        return frozenset(source.name for source in self.sources if source.status == "completed")

    def source(self, name: str) -> SourceRun | None:
        """Return the run of one scanner, or None when the scan does not mention it."""
        return next((source for source in self.sources if source.name == name), None)

    def as_dict(self) -> dict[str, Any]:
        """Return the record as plain data for scan.json."""
        data = asdict(self)
        data["format"] = SCAN_FORMAT
        data["partial"] = self.partial
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScanRecord:
        """Build a record from scan.json data. Raises KeyError or TypeError on a missing or unknown field."""
        fields = {key: value for key, value in data.items() if key not in ("format", "partial")}
        fields["sources"] = tuple(SourceRun(**source) for source in fields.get("sources", ()))
        fields["partial_reasons"] = tuple(fields.get("partial_reasons", ()))
        return cls(**fields)


@dataclass(frozen=True)
class Scan:
    """One stored scan: its folder, metadata and results."""

    path: Path
    record: ScanRecord
    results: tuple[CheckResult, ...] = field(default=())


def customer_folder(evidence_dir: Path, customer_key: str) -> Path:
    """Return a customer's evidence folder. Raises ValueError for a key that is not a customer key.

    The check keeps a key such as `../other` from pointing outside the evidence folder.
    """
    if not CUSTOMER_KEY_PATTERN.match(customer_key):
        raise ValueError(f"invalid customer key {customer_key!r}: expected lowercase letters, digits and hyphens")
    return evidence_dir / customer_key


def scan_folder_name(started_at: str) -> str:
    """Turn an ISO 8601 UTC time such as 2026-12-04T20:15:00Z into the folder name 20261204T201500Z."""
    return parse_utc(started_at).strftime("%Y%m%dT%H%M%SZ")


def parse_utc(text: str) -> datetime:
    """Parse an ISO 8601 time, taking a time without an offset as UTC. Raises ValueError when invalid."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_utc(value: datetime) -> str:
    """Format a time as ISO 8601 UTC with seconds, the form CheckResult uses."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def new_staging_folder(evidence_dir: Path, customer_key: str, started_at: str) -> Path:
    """Create the hidden folder a scan writes into until `write_scan` moves it into place."""
    folder = customer_folder(evidence_dir, customer_key)
    staging = folder / f"{STAGING_PREFIX}{scan_folder_name(started_at)}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    return staging


def write_scan(
    evidence_dir: Path, record: ScanRecord, results: Iterable[CheckResult], *, staging: Path | None = None
) -> Path:
    """Store a scan and return its folder.

    Raises ValueError when a result names another customer or none, so one customer's
    folder never contains another's evidence.
    """
    results = list(results)
    for result in results:
        if result.customer != record.customer:
            raise ValueError(
                f"result {result.check_id} on {result.resource or 'no resource'} belongs to customer "
                f"{result.customer!r}, not {record.customer!r}; it cannot be stored in {record.customer}'s evidence"
            )
    folder = customer_folder(evidence_dir, record.customer)
    staging = staging or new_staging_folder(evidence_dir, record.customer, record.started_at)

    payload = {"format": SCAN_FORMAT, "customer": record.customer, "results": [item.as_dict() for item in results]}
    (staging / RESULTS_FILE).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    (staging / SCAN_FILE).write_text(json.dumps(record.as_dict(), indent=2) + "\n", encoding="utf-8")

    target = folder / scan_folder_name(record.started_at)
    number = 2
    while target.exists():
        target = folder / f"{scan_folder_name(record.started_at)}-{number}"
        number += 1
    staging.rename(target)
    return target


def list_scans(customer: Customer | str, evidence_dir: Path) -> list[Path]:
    """List a customer's scan folders, oldest first, leaving out staging folders."""
    key = customer if isinstance(customer, str) else customer.key
    folder = customer_folder(evidence_dir, key)
    if not folder.is_dir():
        return []
    scans = [path for path in folder.iterdir() if path.is_dir() and SCAN_FOLDER_PATTERN.match(path.name)]
    return sorted(scans, key=_scan_sort_key)


def latest(customer: Customer | str, evidence_dir: Path) -> Scan | None:
    """Load the customer's most recent scan, or return None when the customer has none."""
    scans = list_scans(customer, evidence_dir)
    return load_scan(scans[-1]) if scans else None


def load_scan(folder: Path) -> Scan:
    """Load one scan folder. Raises EvidenceError naming the file and what is wrong with it."""
    record_data = _read_json(folder / SCAN_FILE)
    try:
        record = ScanRecord.from_dict(record_data)
    except (KeyError, TypeError) as error:
        raise EvidenceError(f"{folder / SCAN_FILE}: not a SecureBase scan record ({error})") from None
    if folder.parent.name != record.customer:
        raise EvidenceError(
            f"{folder / SCAN_FILE}: scan is for customer {record.customer!r} but is stored under "
            f"{folder.parent.name!r}; move it to that customer's folder"
        )

    payload = _read_json(folder / RESULTS_FILE)
    raw_results = payload.get("results") if isinstance(payload, dict) else None
    if not isinstance(raw_results, list):
        raise EvidenceError(f"{folder / RESULTS_FILE}: expected an object with a results list")
    results = []
    for number, item in enumerate(raw_results):
        try:
            result = CheckResult.from_dict(item)
        except TypeError as error:
            raise EvidenceError(f"{folder / RESULTS_FILE}: results[{number}] is not a check result ({error})") from None
        if result.customer != record.customer:
            raise EvidenceError(
                f"{folder / RESULTS_FILE}: results[{number}] ({result.check_id}) belongs to customer "
                f"{result.customer!r}, not {record.customer!r}; remove it from this customer's evidence"
            )
        results.append(result)
    return Scan(path=folder, record=record, results=tuple(results))


def _scan_sort_key(path: Path) -> tuple[str, int]:
    stamp, _, number = path.name.partition("-")
    return stamp, int(number or 1)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvidenceError(f"{path} not found; the scan folder is incomplete, run the scan again") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise EvidenceError(f"{path}: invalid JSON ({error})") from None


# Prowler output ---------------------------------------------------------------------------


def parse_prowler_output(path: Path, customer_key: str, account_id: str | None) -> list[CheckResult]:
    """Read Prowler's JSON-OCSF (`*.ocsf.json`) or CSV (`*.csv`) output as the customer's check results.

    MANUAL findings become ERROR results, because Prowler could not decide them and a
    check that only produced them has no result rather than nothing to check. Muted FAIL findings
    stay FAIL with a note, because muting hides a failure without fixing it. Findings on
    an account other than `account_id` are left out and logged, so a misdirected run
    cannot put another account's findings in this customer's evidence. Raises
    EvidenceError when the file cannot be read in either format.
    """
    if path.name.endswith(".json"):
        findings = _ocsf_findings(path)
    elif path.suffix == ".csv":
        findings = _csv_findings(path)
    else:
        raise EvidenceError(f"{path}: unknown Prowler output format; expected a .ocsf.json or .csv file")

    results = []
    foreign: set[str] = set()
    for finding in findings:
        if account_id and finding["account"] and finding["account"] != account_id:
            foreign.add(finding["account"])
            continue
        status, detail = finding["status"], finding["detail"]
        if status == "MANUAL":
            status, detail = "ERROR", f"Prowler needs a manual review: {detail}"
        elif status not in ("PASS", "FAIL"):
            raise EvidenceError(f"{path}: finding for {finding['check_id']} has unknown status {status!r}")
        if finding["muted"] and status == "FAIL":
            detail = f"{detail} (muted in Prowler)"
        results.append(
            CheckResult(
                check_id=finding["check_id"],
                title=finding["title"],
                status=status,
                detail=detail,
                customer=customer_key,
                resource=finding["resource"],
                checked_at=finding["checked_at"],
                source="prowler",
            )
        )
    if foreign:
        logger.warning(
            "%s: left out findings for accounts %s, which are not customer %s's account %s",
            path, ", ".join(sorted(foreign)), customer_key, account_id,
        )
    return results


def _ocsf_findings(path: Path) -> list[dict[str, Any]]:
    data = _read_json(path)
    if not isinstance(data, list):
        raise EvidenceError(f"{path}: expected a JSON list of OCSF detection findings")
    findings = []
    for number, item in enumerate(data):
        try:
            resources = item.get("resources") or [{}]
            findings.append(
                {
                    "check_id": item["metadata"]["event_code"],
                    "title": item.get("finding_info", {}).get("title", ""),
                    "status": str(item["status_code"]).upper(),
                    "detail": item.get("status_detail") or item.get("message") or "",
                    "resource": resources[0].get("uid", ""),
                    "account": str(item.get("cloud", {}).get("account", {}).get("uid", "")),
                    "muted": str(item.get("status", "")).lower() == "suppressed",
                    "checked_at": _ocsf_time(item),
                }
            )
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            raise EvidenceError(f"{path}: finding [{number}] is not an OCSF detection finding ({error})") from None
    return findings


def _ocsf_time(item: dict[str, Any]) -> str:
    # Prowler 5 writes time_dt in the scanning machine's local time without an offset. The
    # Unix seconds in time are unambiguous, so time_dt is only the fallback.
    if item.get("time") is not None:
        return format_utc(datetime.fromtimestamp(int(item["time"]), tz=UTC))
    if item.get("time_dt"):
        return format_utc(parse_utc(str(item["time_dt"])))
    raise ValueError("no time or time_dt")


def _csv_findings(path: Path) -> list[dict[str, Any]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter=";"))
    except UnicodeDecodeError as error:
        raise EvidenceError(f"{path}: not UTF-8 text ({error})") from None
    findings = []
    for number, row in enumerate(rows, 2):
        try:
            findings.append(
                {
                    "check_id": row["CHECK_ID"],
                    "title": row.get("CHECK_TITLE", ""),
                    "status": row["STATUS"].upper(),
                    "detail": row.get("STATUS_EXTENDED", ""),
                    "resource": row.get("RESOURCE_UID", ""),
                    "account": row.get("ACCOUNT_UID", ""),
                    "muted": row.get("MUTED", "").lower() == "true",
                    "checked_at": format_utc(parse_utc(row["TIMESTAMP"])),
                }
            )
        except (KeyError, AttributeError, ValueError) as error:
            raise EvidenceError(
                f"{path}: line {number} is not a Prowler CSV finding ({error}); expected ';'-separated "
                "columns CHECK_ID, STATUS and TIMESTAMP"
            ) from None
    return findings
