"""Compliance reports rendered from the recorded scans in tests/fixtures, checked as HTML and as PDF text.

The fixture scans come from real runs of `securebase scan` (Prowler included) against the
emulated organization, so the tests read their expected values from the fixture rather than
naming particular findings.
"""

from __future__ import annotations

import json
import logging
import shutil
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from securebase.cli import load_project
from securebase.controls import Rating, assess, load_framework_catalog
from securebase.evidence import EvidenceError, UnknownCustomerError, latest, parse_utc
from securebase.report import build_report_context, render_html, render_report, requirement_anchor
from securebase.settings import settings_from_mapping
from securebase.validation import load_landing_zone
from tests.support import REPO, make_project, stack_config

FIXTURES = REPO / "tests" / "fixtures" / "scans"
# Federal before its account was vended, and ACME scanned without Prowler installed.
PARTIAL_FIXTURES = REPO / "tests" / "fixtures" / "scans-partial"
VOID_ELEMENTS = {"meta", "br", "hr", "img", "link", "input"}


class _TreeParser(HTMLParser):
    """Build an ElementTree from the report's HTML, which closes every non-void element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = ElementTree.TreeBuilder()

    def handle_starttag(self, tag, attrs):
        self.builder.start(tag, {name: value or "" for name, value in attrs})
        if tag in VOID_ELEMENTS:
            self.builder.end(tag)

    def handle_startendtag(self, tag, attrs):
        self.builder.start(tag, {name: value or "" for name, value in attrs})
        self.builder.end(tag)

    def handle_endtag(self, tag):
        if tag not in VOID_ELEMENTS:
            self.builder.end(tag)

    def handle_data(self, data):
        self.builder.data(data)


def parse_html(text: str) -> ElementTree.Element:
    parser = _TreeParser()
    parser.feed(text)
    parser.close()
    return parser.builder.close()


def text_of(element: ElementTree.Element) -> str:
    return " ".join(" ".join(element.itertext()).split())


def with_class(root: ElementTree.Element, tag: str, name: str) -> list[ElementTree.Element]:
    return [element for element in root.iter(tag) if name in element.get("class", "").split()]


def by_id(root: ElementTree.Element, element_id: str) -> ElementTree.Element:
    found = [element for element in root.iter() if element.get("id") == element_id]
    assert len(found) == 1, f"expected one element with id {element_id!r}, found {len(found)}"
    return found[0]


def pdf_text(path: Path) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(path).pages]


def squeeze(text: str) -> str:
    """Drop all whitespace, so a value broken across PDF lines still matches."""
    return "".join(text.split())


class _Rendered:
    def __init__(self, html_path: Path, pdf_path: Path):
        self.html_path = html_path
        self.pdf_path = pdf_path
        self.html = html_path.read_text(encoding="utf-8")
        self.root = parse_html(self.html)
        self.pages = pdf_text(pdf_path)
        self.pdf = "\n".join(self.pages)


@pytest.fixture(scope="module")
def config():
    values = {key.split(":", 1)[1]: value for key, value in stack_config().items() if key.startswith("securebase:")}
    return load_landing_zone(settings_from_mapping(values, "Pulumi.dev.yaml"), REPO)


class _WarningCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def rendering(config, tmp_path_factory):
    """Render every bundled customer's report from the fixture, plus reports from missing and partial scans."""
    out = tmp_path_factory.mktemp("reports")
    collector = _WarningCollector()
    weasyprint_logger = logging.getLogger("weasyprint")
    weasyprint_logger.addHandler(collector)
    try:
        reports = {
            customer.key: _Rendered(*render_report(config, customer.key, FIXTURES, out / customer.key))
            for customer in config.customers
        }
        empty = tmp_path_factory.mktemp("no-evidence")
        missing = _Rendered(*render_report(config, "medicorp-health", empty, out / "missing"))
        partial = _Rendered(*render_report(config, "federal-energy-board", PARTIAL_FIXTURES, out / "partial"))
        no_prowler = _Rendered(*render_report(config, "acme-finance", PARTIAL_FIXTURES, out / "no-prowler"))
    finally:
        weasyprint_logger.removeHandler(collector)
    return {
        "reports": reports,
        "missing": missing,
        "partial": partial,
        "no_prowler": no_prowler,
        "warnings": collector.messages,
    }


@pytest.fixture(scope="module")
def medicorp(rendering):
    return rendering["reports"]["medicorp-health"]


def expected_assessment(config, key):
    customer = next(customer for customer in config.customers if customer.key == key)
    scan = latest(key, FIXTURES)
    return assess(customer, scan.results, sources_run=scan.record.sources_run,
                  sources_completed=scan.record.sources_completed, guardrails=config.guardrails, tiers=config.catalog)


def first_rated(assessment, rating):
    return next(item for item in assessment.requirements if item.rating is rating)


def not_met_by_prowler(assessment):
    """Return the first NOT MET requirement with a failing Prowler check."""
    return next(
        item
        for item in assessment.requirements
        if item.rating is Rating.NOT_MET
        and any(evidence.source == "prowler" and evidence.state == "FAIL" for evidence in item.evidence)
    )


# Files and layout -------------------------------------------------------------------------------


def test_report_files_named_for_customer(medicorp):
    today = datetime.now(UTC).strftime("%Y%m%d")
    assert medicorp.html_path.name == f"medicorp-health-hipaa-report-{today}.html"
    assert medicorp.pdf_path.name == f"medicorp-health-hipaa-report-{today}.pdf"
    assert medicorp.pdf_path.read_bytes().startswith(b"%PDF-")


def test_stylesheet_applied_without_warnings(rendering):
    assert rendering["warnings"] == [], f"WeasyPrint rejected CSS or HTML: {rendering['warnings'][:5]}"


def test_cover_facts(medicorp):
    record = latest("medicorp-health", FIXTURES).record
    cover = text_of(by_id(medicorp.root, "cover"))
    assert "MediCorp Solutions Inc (medicorp-health)" in cover
    assert "Healthcare" in cover
    assert "HIPAA Security Rule" in cover
    assert "333344445555" in cover
    assert datetime.now(UTC).strftime("%d %B %Y") in cover
    assert parse_utc(record.started_at).strftime("%Y-%m-%d %H:%M UTC") in cover
    assert "Scan complete." in cover
    verify_run, prowler_run = record.source("securebase"), record.source("prowler")
    assert f"securebase verify: completed ({verify_run.detail})" in cover
    assert f"Prowler: completed ({prowler_run.detail})" in cover
    assert prowler_run.result_count > 0, "the fixture should hold a Prowler run with findings"


def test_cover_counts_match_assessment(config, medicorp):
    counts = expected_assessment(config, "medicorp-health").counts()
    boxes = with_class(by_id(medicorp.root, "headline-counts"), "div", "count-box")
    displayed_counts = {text_of(box).split(" ", 1)[1]: int(text_of(box).split(" ", 1)[0]) for box in boxes}
    assert displayed_counts == {rating.value: counts[rating] for rating in Rating}
    assert counts[Rating.MET] > 0, "the fixture should have met requirements"
    assert counts[Rating.NOT_MET] > 0, "the fixture should have requirements not met"


def test_cover_lists_met_and_not_met(config, medicorp):
    assessment = expected_assessment(config, "medicorp-health")
    highlights = text_of(by_id(medicorp.root, "highlights"))
    not_met = first_rated(assessment, Rating.NOT_MET)
    assert f"{not_met.requirement.id} {not_met.requirement.title[:40]}" in highlights
    assert not_met.gaps[0][:60] in highlights
    met = first_rated(assessment, Rating.MET)
    passed_checks = [evidence for evidence in met.evidence if evidence.state == "PASS"]
    last_checked = max(evidence.last_checked for evidence in passed_checks)
    count = len(passed_checks)
    passed = f"{count} check passed" if count == 1 else f"{count} checks passed"
    assert f"{met.requirement.id} {met.requirement.title[:40]}" in highlights
    assert f"{passed}, last checked {last_checked}" in highlights


def test_summary_table_counts_per_section(config, medicorp):
    expected = expected_assessment(config, "medicorp-health").sections()
    table = by_id(medicorp.root, "summary-table")
    rows = [row for row in table.iter("tr") if row.get("data-section")]
    assert [row.get("data-section") for row in rows] == [summary.section for summary in expected]
    for row, summary in zip(rows, expected, strict=True):
        cells = {cell.get("data-rating"): int(text_of(cell)) for cell in row.iter("td") if cell.get("data-rating")}
        for rating in Rating:
            assert cells[rating.value] == summary.counts[rating], f"{summary.section} {rating.value}"
        assert cells["total"] == summary.total
    footer = text_of(next(table.iter("tfoot")))
    assert footer.endswith(str(len(load_framework_catalog("hipaa").requirements)))


def test_summary_has_chart(medicorp):
    summary = by_id(medicorp.root, "summary")
    charts = list(summary.iter("svg"))
    assert len(charts) == 1
    bars = [rect for rect in charts[0].iter("rect") if rect.find("title") is not None]
    assert bars, "the chart draws no bars"
    assert {text_of(bar.find("title")).split(":")[0] for bar in bars} <= {rating.value for rating in Rating}


def test_one_section_per_requirement(config, medicorp):
    catalog = load_framework_catalog("hipaa")
    sections = with_class(medicorp.root, "section", "requirement")
    assert [section.get("data-requirement") for section in sections] == [item.id for item in catalog.requirements]
    assessment = expected_assessment(config, "medicorp-health")
    expected = {item.requirement.id: item.rating for item in assessment.requirements}
    for section in sections:
        requirement_id = section.get("data-requirement")
        assert section.get("data-rating") == expected[requirement_id].value, requirement_id
        headings = [text_of(heading) for heading in section.iter("h4")]
        assert headings == ["Controls", "Evidence", "Gaps"], requirement_id


def test_requirement_not_met_shows_failure(config, medicorp):
    item = not_met_by_prowler(expected_assessment(config, "medicorp-health"))
    section = next(s for s in with_class(medicorp.root, "section", "requirement")
                   if s.get("data-requirement") == item.requirement.id)
    assert section.get("data-rating") == "NOT MET"
    rows = [text_of(row) for row in with_class(section, "tr", "state-fail")]
    failing = [evidence for evidence in item.evidence if evidence.state == "FAIL"]
    assert len(rows) == len(failing)
    for evidence, row in zip(failing, rows, strict=True):
        source = "Prowler" if evidence.source == "prowler" else "SecureBase"
        assert row.startswith(f"{evidence.check_id} {source} FAIL {evidence.last_checked} "), row
        assert f"{len(evidence.failures)} of {len(evidence.results)} failed." in row
    gaps = text_of(with_class(section, "ul", "gaps")[0])
    first_failure = failing[0].failures[0]
    assert first_failure.resource in gaps
    assert first_failure.detail[:60] in gaps


def test_not_applicable_checks_listed(config, medicorp):
    """Prowler checks without a finding are named under the evidence, not shown as results."""
    assessment = expected_assessment(config, "medicorp-health")
    item = next(
        item
        for item in assessment.requirements
        if item.rating is Rating.MET and any(evidence.state == "NOT APPLICABLE" for evidence in item.evidence)
    )
    section = next(s for s in with_class(medicorp.root, "section", "requirement")
                   if s.get("data-requirement") == item.requirement.id)
    listed = text_of(with_class(section, "p", "not-applicable")[0])
    table = text_of(with_class(section, "table", "evidence")[0])
    for evidence in item.evidence:
        if evidence.state == "NOT APPLICABLE":
            assert evidence.check_id in listed
            assert evidence.check_id not in table
        else:
            assert evidence.check_id in table


def test_requirement_lists_guardrail_controls(medicorp):
    section = next(s for s in with_class(medicorp.root, "section", "requirement")
                   if s.get("data-requirement") == "164.312(a)(2)(iv)")
    controls = text_of(with_class(section, "ul", "controls")[0])
    assert "Guardrail hipaa/phi-encryption" in controls
    assert "DenyUnencryptedRdsClusters" in controls
    assert "Guardrail baseline/encryption-defaults" in controls
    assert "Setting AccountBaseline: EBS encryption by default" in controls
    evidence = text_of(with_class(section, "table", "evidence")[0])
    assert "guardrails.framework-applied SecureBase PASS" in evidence
    assert "account.in-tier-ou SecureBase PASS" in evidence


def test_shared_responsibility(medicorp):
    section = text_of(by_id(medicorp.root, "shared-responsibility"))
    assert "The SecureBase platform" in section
    assert "MediCorp Solutions Inc" in section
    assert "business associate agreements" in section
    assert "security of the cloud itself" in section


def test_attribution(medicorp):
    about = text_of(by_id(medicorp.root, "about"))
    assert "Prowler 5.46.0" in about
    assert "Apache License 2.0" in about


# PDF ----------------------------------------------------------------------------------------------------


def test_pdf_text(config, medicorp):
    assessment = expected_assessment(config, "medicorp-health")
    not_met = first_rated(assessment, Rating.NOT_MET)
    met = first_rated(assessment, Rating.MET)
    assert len(medicorp.pages) > 5
    first = squeeze(medicorp.pages[0])
    for expected in ("HIPAA Security Rule", "MediCorp Solutions Inc", "333344445555", "Scan complete.",
                     "NOT MET", "MET", not_met.requirement.id, not_met.requirement.title[:40],
                     not_met.gaps[0][:60], met.requirement.id, met.requirement.title[:40], "passed, last checked"):
        assert squeeze(expected) in first, f"page 1 lacks {expected!r}"
    assert "Summary by section" in medicorp.pages[1]
    assert "164.308 Administrative Safeguards" in medicorp.pages[1]
    whole = squeeze(medicorp.pdf)
    assert squeeze("Shared responsibility") in whole
    failing_check = next(evidence.check_id for evidence in not_met_by_prowler(assessment).evidence
                         if evidence.state == "FAIL")
    assert squeeze(failing_check) in whole
    assert squeeze("Page 2 of") in whole


# Missing and partial scans --------------------------------------------------------------------------


def test_missing_scan_says_so(rendering):
    missing = rendering["missing"]
    status = by_id(missing.root, "scan-status")
    assert "status-missing" in status.get("class")
    assert text_of(status).startswith("No scan found.")
    assert squeeze("No scan found.") in squeeze(missing.pages[0])
    assert "Scan time no scan" in text_of(by_id(missing.root, "cover"))


def test_missing_scan_nothing_met(rendering):
    missing = rendering["missing"]
    ratings = {section.get("data-rating") for section in with_class(missing.root, "section", "requirement")}
    assert ratings == {"NO EVIDENCE"}


def test_partial_scan_says_so(rendering):
    federal = rendering["partial"]
    status = by_id(federal.root, "scan-status")
    assert "status-partial" in status.get("class")
    text = text_of(status)
    assert text.startswith("Partial scan.")
    assert "the customer has no AWS account yet, so Prowler could not scan it" in text
    first = squeeze(federal.pages[0])
    assert squeeze("Partial scan.") in first
    assert squeeze("the customer has no AWS account yet") in first
    assert "AWS account not created yet" in text_of(by_id(federal.root, "cover"))


def test_partial_scan_guardrails_not_met_without_account(rendering):
    """Guardrails attached to an OU are no evidence for an account that is not in it yet."""
    federal = rendering["partial"]
    ratings = {section.get("data-rating") for section in with_class(federal.root, "section", "requirement")}
    assert "MET" not in ratings


def test_prowler_not_run_notice(rendering):
    acme = rendering["no_prowler"]
    cover = text_of(by_id(acme.root, "cover"))
    assert "Prowler: not run (Prowler is not installed" in cover
    assert text_of(by_id(acme.root, "scan-status")) == (
        "Scan complete, without Prowler: only the securebase verify checks have results."
    )
    assert "Prowler was not run in this scan" in cover


# Isolation --------------------------------------------------------------------------------------------


def identifying_values(config, customer) -> list[str]:
    values = [customer.name, customer.key, customer.contact_email, config.catalog.frameworks[customer.framework].title]
    # The federal account was vended in the emulated organization, so only its scan records the id.
    account_id = customer.account_id or latest(customer.key, FIXTURES).record.account_id
    values.append(account_id)
    return values


@pytest.mark.parametrize(
    ("key", "rendered"),
    [
        ("acme-finance", "reports"),
        ("medicorp-health", "reports"),
        ("federal-energy-board", "reports"),
        ("federal-energy-board", "partial"),
        ("acme-finance", "no_prowler"),
    ],
)
def test_report_names_no_other_customer(config, rendering, key, rendered):
    report = rendering[rendered][key] if rendered == "reports" else rendering[rendered]
    html = report.html
    pdf = squeeze(report.pdf)
    own = next(customer for customer in config.customers if customer.key == key)
    assert own.name in html
    assert squeeze(own.name) in pdf
    for other in config.customers:
        if other.key == key:
            continue
        for value in identifying_values(config, other):
            assert value not in html, f"{key}'s HTML report mentions {other.key}'s {value!r}"
            assert squeeze(value) not in pdf, f"{key}'s PDF report mentions {other.key}'s {value!r}"


def test_foreign_evidence_rejected(config, tmp_path):
    """A result of another customer planted in a customer's folder stops the report instead of showing up in it."""
    evidence = tmp_path / "evidence"
    shutil.copytree(FIXTURES / "medicorp-health", evidence / "medicorp-health")
    results_file = next((evidence / "medicorp-health").glob("*/results.json"))
    payload = json.loads(results_file.read_text())
    planted = dict(payload["results"][0], customer="acme-finance", detail="Account 222233334444 is ACTIVE.")
    payload["results"].append(planted)
    results_file.write_text(json.dumps(payload))
    with pytest.raises(EvidenceError, match="belongs to customer 'acme-finance', not 'medicorp-health'"):
        render_report(config, "medicorp-health", evidence, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_unknown_customer(config, tmp_path):
    with pytest.raises(UnknownCustomerError, match=r"^customer 'globex' not found"):
        render_report(config, "globex", FIXTURES, tmp_path)


@pytest.mark.parametrize("framework", ["hipaa", "soc2", "fedramp-moderate"])
def test_requirement_anchors_unique(framework):
    ids = [item.id for item in load_framework_catalog(framework).requirements]
    anchors = {requirement_anchor(requirement_id) for requirement_id in ids}
    assert len(anchors) == len(ids)


def test_outdated_scan_not_used(config, tmp_path):
    """A scan of an account the customer no longer has is named on the cover, and its results are ignored."""
    evidence = tmp_path / "evidence"
    shutil.copytree(FIXTURES / "medicorp-health", evidence / "medicorp-health")
    scan_file = next((evidence / "medicorp-health").glob("*/scan.json"))
    record = json.loads(scan_file.read_text())
    record["account_id"] = "333344440000"
    scan_file.write_text(json.dumps(record))

    root = parse_html(render_html(build_report_context(config, "medicorp-health", evidence)))
    status = by_id(root, "scan-status")
    assert "status-outdated" in status.get("class")
    text = text_of(status)
    assert text.startswith("Outdated scan.")
    assert "the scan checked account 333344440000, but the customer's account is now 333344445555" in text
    ratings = {section.get("data-rating") for section in with_class(root, "section", "requirement")}
    assert ratings == {"NO EVIDENCE"}


def test_vended_account_taken_from_scan(rendering):
    """A vended account in no customer file or lock entry is shown from the scan, and the scan is used."""
    federal = rendering["reports"]["federal-energy-board"]
    account_id = latest("federal-energy-board", FIXTURES).record.account_id
    assert account_id is not None
    assert f"AWS account {account_id}" in text_of(by_id(federal.root, "cover"))
    assert "status-complete" in by_id(federal.root, "scan-status").get("class")
    ratings = {section.get("data-rating") for section in with_class(federal.root, "section", "requirement")}
    assert "MET" in ratings


def test_locked_account_differs_from_scan(tmp_path):
    """Once the lock pins the vended account, a scan of any other account is outdated."""
    project_dir = make_project(tmp_path)
    lock = yaml.safe_load((project_dir / "accounts.lock.yaml").read_text())
    lock["accounts"]["federal-energy-board"]["account_id"] = "444455556666"
    (project_dir / "accounts.lock.yaml").write_text(yaml.safe_dump(lock))
    shutil.copy(REPO / "Pulumi.dev.yaml", project_dir / "Pulumi.dev.yaml")
    config = load_project(project_dir, "dev").config

    root = parse_html(render_html(build_report_context(config, "federal-energy-board", FIXTURES)))
    text = text_of(by_id(root, "scan-status"))
    scanned = latest("federal-energy-board", FIXTURES).record.account_id
    assert text.startswith("Outdated scan.")
    assert f"the scan checked account {scanned}, but the customer's account is now 444455556666" in text
    assert "AWS account 444455556666" in text_of(by_id(root, "cover"))
