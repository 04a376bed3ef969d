"""Compliance report for one customer, as HTML (Jinja2) and PDF (WeasyPrint).

A report is built from one customer's record and that customer's evidence folder, and
nothing else: the template receives no list of customers, so it cannot name another one.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from securebase.checks.organization import read_lock_account_ids
from securebase.checks.results import utc_now
from securebase.controls import PROWLER_SOURCE, SECUREBASE_SOURCE, Assessment, Rating, assess
from securebase.customers import Customer
from securebase.evidence import Scan, find_customer, latest, parse_utc
from securebase.report.chart import COLORS, section_chart
from securebase.report.responsibility import shared_responsibility
from securebase.validation import LandingZoneConfig

logger = logging.getLogger("securebase")

TEMPLATE = "report.html"
# Requirements listed per rating on the cover. The rest are counted and left to the summary.
COVER_HIGHLIGHTS = 4
STYLESHEET = "report.css"


@dataclass(frozen=True)
class ScanStatus:
    """Cover statement about the evidence: whether a scan exists and is complete."""

    state: str
    headline: str
    reasons: tuple[str, ...]


def render_report(config: LandingZoneConfig, customer_key: str, evidence_dir: Path, out_dir: Path) -> tuple[Path, Path]:
    """Write the customer's latest compliance report as HTML and PDF, and return both paths.

    Without a scan, or with a partial one, the report still renders and its cover states that.
    Raises UnknownCustomerError (a KeyError) for a customer key the configuration does not
    contain, and EvidenceError when the customer's latest scan cannot be read.
    """
    context = build_report_context(config, customer_key, evidence_dir)
    customer = find_customer(config.customers, customer_key)
    html = render_html(context)

    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{customer.key}-{customer.framework}-report-{context['report_date_compact']}"
    html_path = out_dir / f"{stem}.html"
    pdf_path = out_dir / f"{stem}.pdf"
    html_path.write_text(html, encoding="utf-8")
    write_pdf(html, pdf_path)
    logger.info("report for %s written to %s and %s", customer.key, html_path, pdf_path)
    status = context["status"]
    if status.state != "complete":
        logger.warning("report for %s: %s %s", customer.key, status.headline, " ".join(status.reasons))
    return html_path, pdf_path


def build_report_context(config: LandingZoneConfig, customer_key: str, evidence_dir: Path) -> dict[str, Any]:
    """Load the customer's latest scan, assess it, and gather the template context.

    A scan that no longer matches the customer's framework or account is shown on the
    cover but its results are not used, so every requirement is rated NO EVIDENCE. The
    customer's account comes from the customer file or the account lock; for a vended
    account that neither names yet, the scan's account is taken.
    """
    customer = find_customer(config.customers, customer_key)
    account_id = customer.account_id or read_lock_account_ids(config).get(customer.key)
    scan = latest(customer.key, evidence_dir)
    usable = scan is not None and not scan_mismatches(scan, customer, account_id)
    assessment = assess(
        customer,
        scan.results if scan and usable else (),
        sources_run=scan.record.sources_run if scan and usable else frozenset(),
        sources_completed=scan.record.sources_completed if scan and usable else frozenset(),
        guardrails=config.guardrails or None,
        tiers=config.catalog,
    )
    return report_context(config, customer, scan, assessment, account_id=account_id)


def report_context(
    config: LandingZoneConfig,
    customer: Customer,
    scan: Scan | None,
    assessment: Assessment,
    now: str | None = None,
    account_id: str | None = None,
) -> dict[str, Any]:
    """Gather everything the template shows, from this customer and this customer's scan only.

    `account_id` is the customer's account from the customer file or the lock (default: the
    customer file's); without one, the scan's account is shown.
    """
    account_id = account_id or customer.account_id
    status = scan_status(scan, customer, account_id)
    if account_id is None and scan is not None:
        account_id = scan.record.account_id
    generated = parse_utc(now or utc_now())
    framework = config.catalog.frameworks[customer.framework]
    tier = config.catalog.tiers[customer.tier]
    counts = assessment.counts()
    relies_on_prowler = sum(
        1
        for item in assessment.requirements
        if any(evidence.source == PROWLER_SOURCE for evidence in item.evidence)
    )
    return {
        "customer": {
            "key": customer.key,
            "name": customer.name,
            "account_id": account_id,
            "contact_email": customer.contact_email,
        },
        "tier_title": tier.title,
        "framework_title": framework.title,
        "report_date": generated.strftime("%d %B %Y"),
        "report_date_compact": generated.strftime("%Y%m%d"),
        "generated_at": generated.strftime("%Y-%m-%d %H:%M UTC"),
        "scan": scan.record if scan else None,
        "scan_folder": scan.path.name if scan else None,
        "scan_time": _scan_time(scan),
        "status": status,
        "assessment": assessment,
        "counts": counts,
        "total": len(assessment.requirements),
        "sections": assessment.sections(),
        "chart": section_chart(assessment.sections()),
        "highlights": cover_highlights(assessment),
        "open_items": [item for item in assessment.requirements if item.rating in (Rating.NOT_MET, Rating.PARTLY_MET)],
        "prowler_run": PROWLER_SOURCE in assessment.sources_run,
        "verify_run": SECUREBASE_SOURCE in assessment.sources_run,
        "relies_on_prowler": relies_on_prowler,
        "responsibility": shared_responsibility(customer.framework),
        "Rating": Rating,
        "colors": {rating.value: color for rating, color in COLORS.items()},
        "PROWLER_SOURCE": PROWLER_SOURCE,
    }


def cover_highlights(assessment: Assessment) -> dict[str, Any]:
    """Pick the first NOT MET and MET requirements for the cover, and count the rest."""
    not_met = [item for item in assessment.requirements if item.rating is Rating.NOT_MET]
    met = [item for item in assessment.requirements if item.rating is Rating.MET]
    shown_not_met = not_met[:COVER_HIGHLIGHTS]
    shown_met = met[:COVER_HIGHLIGHTS]
    more = len(not_met) + len(met) - len(shown_not_met) - len(shown_met)
    return {"not_met": shown_not_met, "met": shown_met, "more": more}


def scan_mismatches(scan: Scan, customer: Customer, account_id: str | None = None) -> list[str]:
    """List the ways the scan no longer matches the customer's record, e.g. after a change of tier.

    `account_id` is the customer's known account (default: the customer file's). When none
    is known, any account the scan found is taken as the customer's.
    """
    account_id = account_id or customer.account_id
    mismatches = []
    if scan.record.framework != customer.framework:
        mismatches.append(
            f"the scan checked framework {scan.record.framework}, but the customer's framework is now "
            f"{customer.framework}"
        )
    if account_id is not None and scan.record.account_id != account_id:
        mismatches.append(
            f"the scan checked account {scan.record.account_id or '(none)'}, but the customer's account is now "
            f"{account_id}"
        )
    return mismatches


def scan_status(scan: Scan | None, customer: Customer, account_id: str | None = None) -> ScanStatus:
    """State on the cover whether the evidence is missing, outdated, partial or complete."""
    if scan is None:
        return ScanStatus(
            state="missing",
            headline="No scan found. No requirement could be checked, so every requirement is rated NO EVIDENCE.",
            reasons=("Run a scan of this customer, then generate the report again.",),
        )
    mismatches = scan_mismatches(scan, customer, account_id)
    if mismatches:
        return ScanStatus(
            state="outdated",
            headline="Outdated scan. It no longer matches the customer's record, so its results are not used "
            "and every requirement is rated NO EVIDENCE.",
            reasons=(*mismatches, "Run a new scan of this customer, then generate the report again."),
        )
    if scan.record.partial:
        return ScanStatus(
            state="partial",
            headline="Partial scan. Some checks did not run, so this report does not show the full picture.",
            reasons=scan.record.partial_reasons,
        )
    if PROWLER_SOURCE not in scan.record.sources_run:
        return ScanStatus(
            state="complete",
            headline="Scan complete, without Prowler: only the securebase verify checks have results.",
            reasons=(),
        )
    return ScanStatus(state="complete", headline="Scan complete.", reasons=())


def render_html(context: dict[str, Any]) -> str:
    """Render the report template with its stylesheet inlined."""
    package_dir = resources.files("securebase.report")
    environment = Environment(
        loader=FileSystemLoader(str(package_dir)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["anchor"] = requirement_anchor
    stylesheet = package_dir.joinpath(STYLESHEET).read_text(encoding="utf-8")
    return environment.get_template(TEMPLATE).render(stylesheet=stylesheet, **context)


def requirement_anchor(requirement_id: str) -> str:
    """Turn a requirement id such as 164.312(a)(2)(iv) into an HTML id such as req-164-312-a-2-iv."""
    return "req-" + "-".join(re.findall(r"[A-Za-z0-9]+", requirement_id))


def write_pdf(html: str, path: Path) -> None:
    """Lay out the HTML as a PDF with WeasyPrint."""
    # Imported here because WeasyPrint loads Pango at import time, which HTML-only callers do not need.
    from weasyprint import HTML

    HTML(string=html).write_pdf(path)


def _scan_time(scan: Scan | None) -> str | None:
    if scan is None:
        return None
    started = parse_utc(scan.record.started_at)
    finished = parse_utc(scan.record.finished_at)
    minutes = max((finished - started).total_seconds(), 0) / 60
    duration = "under 1 min" if minutes < 1 else f"{minutes:.0f} min"
    return f"{started.strftime('%Y-%m-%d %H:%M UTC')} ({duration})"


__all__ = [
    "ScanStatus",
    "build_report_context",
    "render_html",
    "render_report",
    "report_context",
    "requirement_anchor",
    "scan_mismatches",
    "scan_status",
    "write_pdf",
]
