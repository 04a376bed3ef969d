"""Control catalogs and the assessment that rates requirements from check results."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import yaml

from securebase.catalog import load_catalog
from securebase.checks.results import CheckResult
from securebase.controls import (
    ACCOUNT_PLACEMENT_CHECK,
    BASELINE_GUARDRAILS_CHECK,
    FRAMEWORK_GUARDRAILS_CHECK,
    CatalogError,
    FrameworkCatalog,
    Rating,
    Requirement,
    assess,
    bundled_controls_dir,
    guardrail_controls,
    load_framework_catalog,
    mapped_checks,
    rate,
    requirement_matches,
)
from securebase.controls.catalog import CatalogSource
from securebase.customers import Customer
from securebase.guardrails import GuardrailDocument, bundled_catalog_dir, load_guardrail_set

FRAMEWORKS = ("hipaa", "soc2", "fedramp-moderate")


def securebase_check_ids() -> set[str]:
    """Return the ids of the checks that `securebase verify` and the security baseline checks run."""
    from securebase.checks import security_baseline
    from securebase.checks.organization import registered_checks

    ids = {function.check_id for function in registered_checks()}
    return ids | {security_baseline.TRAIL_CHECK, security_baseline.CONFIG_CHECK, security_baseline.ACCESS_CHECK}
AT = "2026-12-01T02:00:00Z"


def make_customer(**overrides: Any) -> Customer:
    fields: dict[str, Any] = {
        "key": "medicorp-health",
        "source": "customers/medicorp-health.yaml",
        "name": "MediCorp Solutions Inc",
        "tier": "healthcare",
        "framework": "hipaa",
        "prefix": "medicorp",
        "contact_email": "compliance@medicorp.com",
        "root_email": "aws-accounts+medicorp-health@securebase-provider.example",
        "root_email_field": "root_email",
        "account_name": "MediCorp Solutions Inc",
        "monthly_base_price_usd": Decimal(15000),
        "account_id": "333344445555",
    }
    fields.update(overrides)
    return Customer(**fields)


def make_result(check_id: str, status: str = "PASS", *, customer: str | None = "medicorp-health",
                source: str = "securebase", resource: str = "333344445555") -> CheckResult:
    return CheckResult(check_id, check_id, status, f"{check_id} is {status}", customer, resource, AT, source)


def make_catalog(*requirements: Requirement) -> FrameworkCatalog:
    source = CatalogSource(name="Prowler", version="5.46.0", file="hipaa_aws.json", license="Apache-2.0",
                           prowler_framework="hipaa_aws")
    return FrameworkCatalog(framework="hipaa", source=source, requirements=requirements)


def requirement(**overrides: Any) -> Requirement:
    fields: dict[str, Any] = {
        "id": "164.312(b)",
        "title": "Audit controls",
        "section": "164.312 Technical Safeguards",
        "securebase_checks": ("trail.logs-every-account",),
        "prowler_checks": ("cloudtrail_multi_region_enabled",),
    }
    fields.update(overrides)
    return Requirement(**fields)


def assess_one(results: list[CheckResult], req: Requirement | None = None, **options: Any):
    options.setdefault("sources_run", ("securebase", "prowler"))
    options.setdefault("guardrails", {})
    assessment = assess(make_customer(), results, controls=make_catalog(req or requirement()), **options)
    return assessment.requirements[0]


def bundled_guardrails() -> dict[str, list[GuardrailDocument]]:
    tiers = load_catalog()
    sets = [framework.guardrails for framework in tiers.frameworks.values()] + [tiers.baseline_guardrails]
    loaded = {}
    for set_name in sets:
        documents, problems = load_guardrail_set(
            set_name, catalog_dir=bundled_catalog_dir(), platform_role_name="OrganizationAccountAccessRole",
            max_size=10_240,
        )
        assert problems == [], f"guardrail set {set_name} has problems: {problems}"
        loaded[set_name] = documents
    return loaded


# Catalog files ------------------------------------------------------------------------------


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_catalog_loads_for_framework(framework):
    catalog = load_framework_catalog(framework)
    assert catalog.framework == framework
    assert len(catalog.requirements) >= 20, f"{framework} catalog has only {len(catalog.requirements)} requirements"
    assert "Prowler 5.46.0" in catalog.attribution
    assert "Apache License 2.0" in catalog.attribution


def test_catalog_covers_every_tier_framework():
    for framework in load_catalog().frameworks:
        assert load_framework_catalog(framework).requirements, f"no requirements for framework {framework}"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_catalog_file_has_attribution_notice(framework):
    text = (bundled_controls_dir() / f"{framework}.yaml").read_text()
    assert "NOTICE" in text.splitlines()[1]
    assert "Apache License 2.0" in text[:600]
    assert "tools/import_prowler_compliance.py" in text[:600]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_catalog_check_ids_known(framework):
    known = securebase_check_ids()
    for item in load_framework_catalog(framework).requirements:
        unknown = set(item.securebase_checks) - known
        assert not unknown, f"{framework} {item.id} maps unknown SecureBase checks {sorted(unknown)}"


# Components whose settings the catalog names, as `Component: setting`.
PLATFORM_COMPONENTS = {
    "AccountBaseline",
    "CustomerAccount",
    "IdentityCenterAccess",
    "LogArchive",
    "OrganizationConfigAggregator",
    "OrganizationTrail",
}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_catalog_settings_name_components(framework):
    for item in load_framework_catalog(framework).requirements:
        for setting in item.settings:
            component, _, what = setting.partition(": ")
            assert component in PLATFORM_COMPONENTS, f"{framework} {item.id}: unknown component in {setting!r}"
            assert what, f"{framework} {item.id}: setting {setting!r} does not say what is set"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_guardrail_citation_resolves(framework):
    """Each requirement a guardrail document cites must exist in the framework's catalog."""
    tiers = load_catalog()
    guardrails = bundled_guardrails()
    catalog = load_framework_catalog(framework)
    sets = (tiers.frameworks[framework].guardrails, tiers.baseline_guardrails)
    for set_name in sets:
        for document in guardrails[set_name]:
            for cited in document.requirements.get(framework, ()):
                matches = [item.id for item in catalog.requirements if requirement_matches(item.id, cited)]
                assert matches, f"{document.source} cites {framework} {cited}, which the control catalog lacks"


def test_hipaa_prowler_title_corrected():
    item = load_framework_catalog("hipaa").requirement("164.308(a)(4)(ii)(C)")
    assert item.title == "Access establishment and modification"
    assert item.prowler_id == "164_308_a_4_ii_c"


def test_soc2_ids_taken_from_names():
    catalog = load_framework_catalog("soc2")
    assert catalog.requirement("A1.2").prowler_id == "cc_a_1_1"
    assert all("Criterial" not in item.section for item in catalog.requirements)


def test_fedramp_ids_in_nist_form():
    catalog = load_framework_catalog("fedramp-moderate")
    assert catalog.requirement("AC-2(12)(a)").prowler_id == "ac-2-12-a"
    assert catalog.requirement("AC-2(f)").title == "Account Management"
    added = catalog.requirement("SA-9(5)")
    assert added.prowler_id is None
    assert added.prowler_checks == ()


def test_catalog_missing_file(tmp_path):
    with pytest.raises(CatalogError, match=r"control catalog .*nist\.yaml not found"):
        load_framework_catalog("nist", tmp_path)


def test_catalog_invalid_field(tmp_path):
    raw = yaml.safe_load((bundled_controls_dir() / "hipaa.yaml").read_text())
    raw["requirements"][0]["securebase_checks"] = ["Trail Logs"]
    (tmp_path / "hipaa.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(CatalogError, match=r"requirements\.0\.securebase_checks: .*invalid SecureBase check ids"):
        load_framework_catalog("hipaa", tmp_path)


def test_catalog_duplicate_requirement(tmp_path):
    raw = yaml.safe_load((bundled_controls_dir() / "soc2.yaml").read_text())
    raw["requirements"].append(raw["requirements"][0])
    (tmp_path / "soc2.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(CatalogError, match=r"requirement 'CC1\.3' is listed twice"):
        load_framework_catalog("soc2", tmp_path)


def test_catalog_framework_mismatch(tmp_path):
    text = (bundled_controls_dir() / "soc2.yaml").read_text()
    (tmp_path / "hipaa.yaml").write_text(text)
    with pytest.raises(CatalogError, match=r"framework is 'soc2', expected 'hipaa'"):
        load_framework_catalog("hipaa", tmp_path)


# Matching guardrails to requirements --------------------------------------------------------


@pytest.mark.parametrize(
    ("requirement_id", "cited", "expected"),
    [
        ("AC-2(1)", "AC-2", True),
        ("AC-2(j)", "AC-2", True),
        ("AC-2", "AC-2", True),
        ("SC-28", "SC-2", False),
        ("SC-2", "SC-28", False),
        ("AC-2(1)", "AC-2(12)", False),
        ("164.312(a)(2)(iv)", "164.312(a)(2)(iv)", True),
        ("164.312(a)(2)(iv)", "164.312(a)(1)", False),
        ("CC6.10", "CC6.1", False),
    ],
)
def test_requirement_matches(requirement_id, cited, expected):
    assert requirement_matches(requirement_id, cited) is expected


def test_guardrail_evidence_checks_exist():
    assert {FRAMEWORK_GUARDRAILS_CHECK, BASELINE_GUARDRAILS_CHECK, ACCOUNT_PLACEMENT_CHECK} <= securebase_check_ids()


def test_guardrail_controls_for_hipaa_encryption():
    tiers = load_catalog()
    controls = guardrail_controls(
        "164.312(a)(2)(iv)", "hipaa", bundled_guardrails(), "hipaa", tiers.baseline_guardrails
    )
    labels = {control.label for control in controls}
    assert "hipaa/phi-encryption" in labels
    assert "baseline/encryption-defaults" in labels
    by_label = {control.label: control for control in controls}
    assert by_label["hipaa/phi-encryption"].evidence_checks == (FRAMEWORK_GUARDRAILS_CHECK, ACCOUNT_PLACEMENT_CHECK)
    assert by_label["baseline/encryption-defaults"].evidence_checks == (BASELINE_GUARDRAILS_CHECK,
                                                                        ACCOUNT_PLACEMENT_CHECK)


def test_guardrail_controls_skip_other_frameworks():
    """A SOC 2 guardrail set is never offered as a control for a HIPAA requirement."""
    controls = guardrail_controls("164.312(a)(2)(iv)", "hipaa", bundled_guardrails(), "hipaa", "baseline")
    assert all(control.set_name in ("hipaa", "baseline") for control in controls)


def test_mapped_checks_without_repeats():
    req = requirement(securebase_checks=("account.in-tier-ou", "trail.logs-every-account"))
    tiers = load_catalog()
    controls = guardrail_controls("164.312(b)", "hipaa", bundled_guardrails(), "hipaa", tiers.baseline_guardrails)
    checks = mapped_checks(req, controls)
    assert len(checks) == len(set(checks))
    assert checks[0] == ("securebase", "account.in-tier-ou")
    assert ("securebase", FRAMEWORK_GUARDRAILS_CHECK) in checks
    assert ("securebase", BASELINE_GUARDRAILS_CHECK) in checks
    assert checks[-1] == ("prowler", "cloudtrail_multi_region_enabled")


# Ratings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([], Rating.NO_EVIDENCE),
        (["NO RESULT"], Rating.NO_EVIDENCE),
        (["NO RESULT", "NO RESULT"], Rating.NO_EVIDENCE),
        (["PASS"], Rating.MET),
        (["PASS", "PASS"], Rating.MET),
        (["PASS", "NO RESULT"], Rating.PARTLY_MET),
        (["PASS", "FAIL"], Rating.PARTLY_MET),
        (["FAIL"], Rating.NOT_MET),
        (["FAIL", "NO RESULT"], Rating.NOT_MET),
        (["NOT APPLICABLE"], Rating.NO_EVIDENCE),
        (["PASS", "NOT APPLICABLE"], Rating.MET),
        (["PASS", "NOT APPLICABLE", "NO RESULT"], Rating.PARTLY_MET),
        (["FAIL", "NOT APPLICABLE"], Rating.NOT_MET),
    ],
)
def test_rate(states, expected):
    assert rate(states) is expected


def test_assess_all_pass_is_met():
    item = assess_one([
        make_result("trail.logs-every-account"),
        make_result("cloudtrail_multi_region_enabled", source="prowler"),
    ])
    assert item.rating is Rating.MET
    assert item.gaps == ()


def test_assess_no_results_is_no_evidence():
    item = assess_one([])
    assert item.rating is Rating.NO_EVIDENCE
    assert item.rating is not Rating.MET


def test_assess_missing_check_never_met():
    item = assess_one([make_result("trail.logs-every-account")])
    assert item.rating is Rating.PARTLY_MET
    assert any("cloudtrail_multi_region_enabled" in gap for gap in item.gaps)


def test_assess_requirement_without_checks():
    item = assess_one([make_result("trail.logs-every-account")],
                      requirement(securebase_checks=(), prowler_checks=()))
    assert item.rating is Rating.NO_EVIDENCE
    assert item.gaps == ("No automated check covers this requirement, so its evidence must come from the "
                         "customer's own records.",)


def test_assess_one_fail_among_passes():
    item = assess_one([
        make_result("trail.logs-every-account"),
        make_result("cloudtrail_multi_region_enabled", source="prowler", resource="trail-a"),
        make_result("cloudtrail_multi_region_enabled", "FAIL", source="prowler", resource="trail-b"),
    ])
    assert item.rating is Rating.PARTLY_MET
    prowler = next(evidence for evidence in item.evidence if evidence.source == "prowler")
    assert prowler.state == "FAIL"
    assert len(prowler.failures) == 1
    assert item.gaps[0] == "cloudtrail_multi_region_enabled failed on trail-b: cloudtrail_multi_region_enabled is FAIL"


def test_assess_all_fail_is_not_met():
    item = assess_one([
        make_result("trail.logs-every-account", "FAIL"),
        make_result("cloudtrail_multi_region_enabled", "FAIL", source="prowler"),
    ])
    assert item.rating is Rating.NOT_MET


def test_assess_error_counts_as_no_result():
    item = assess_one([
        make_result("trail.logs-every-account", "ERROR"),
        make_result("cloudtrail_multi_region_enabled", source="prowler"),
    ])
    assert item.rating is Rating.PARTLY_MET
    verify = item.evidence[0]
    assert verify.state == "NO RESULT"
    assert verify.reason == "the check gave no PASS or FAIL (trail.logs-every-account is ERROR)"
    assert item.gaps == ("No result for trail.logs-every-account because the check gave no PASS or FAIL "
                         "(trail.logs-every-account is ERROR).",)


def test_prowler_no_finding_not_applicable():
    """After a finished Prowler run, a check without findings is NOT APPLICABLE, as in Prowler's own ratings."""
    item = assess_one([make_result("trail.logs-every-account")],
                      requirement(prowler_checks=("cloudtrail_multi_region_enabled", "s3_bucket_default_encryption")),
                      sources_completed=("securebase", "prowler"))
    assert item.rating is Rating.MET
    assert [evidence.state for evidence in item.evidence] == ["PASS", "NOT APPLICABLE", "NOT APPLICABLE"]
    assert item.evidence[1].reason == "Prowler found no resource of this kind in the account"
    assert item.gaps == ()


def test_not_applicable_alone_no_evidence():
    item = assess_one([], requirement(securebase_checks=()), sources_completed=("prowler",))
    assert item.rating is Rating.NO_EVIDENCE


def test_prowler_unfinished_no_result():
    """A Prowler run that failed proves nothing about checks it did not report."""
    item = assess_one([make_result("trail.logs-every-account")], sources_completed=("securebase",))
    assert item.rating is Rating.PARTLY_MET
    assert item.gaps == ("No result for cloudtrail_multi_region_enabled because Prowler did not finish in this scan.",)


def test_prowler_manual_no_result():
    """Only MANUAL findings (stored as ERROR) leave a check with no result, never NOT APPLICABLE."""
    item = assess_one([make_result("trail.logs-every-account"),
                       make_result("cloudtrail_multi_region_enabled", "ERROR", source="prowler")],
                      sources_completed=("securebase", "prowler"))
    assert item.rating is Rating.PARTLY_MET
    assert item.evidence[1].state == "NO RESULT"


def test_assess_prowler_not_run():
    item = assess_one([make_result("trail.logs-every-account")], sources_run=("securebase",))
    assert item.rating is Rating.PARTLY_MET
    assert item.gaps == ("No result for cloudtrail_multi_region_enabled because Prowler was not run in this scan.",)


def test_assess_groups_missing_checks():
    item = assess_one([], requirement(prowler_checks=("guardduty_is_enabled", "securityhub_enabled")),
                      sources_run=("securebase",))
    assert item.gaps == (
        "No result for trail.logs-every-account because securebase verify returned no result.",
        "No result for 2 checks because Prowler was not run in this scan: guardduty_is_enabled, securityhub_enabled.",
    )


def test_assess_failures_listed_up_to_limit():
    results = [make_result("trail.logs-every-account", "FAIL", resource=f"trail-{number}") for number in range(8)]
    item = assess_one(results, requirement(prowler_checks=()))
    assert item.rating is Rating.NOT_MET
    assert len(item.gaps) == 6
    assert item.gaps[-1] == "trail.logs-every-account failed on 3 more resources"


def test_assess_source_keeps_checks_apart():
    """A Prowler result never counts for a SecureBase check of the same id, nor the reverse."""
    item = assess_one([make_result("trail.logs-every-account", source="prowler")],
                      requirement(prowler_checks=()))
    assert item.rating is Rating.NO_EVIDENCE


def test_assess_rejects_other_customer():
    results = [make_result("trail.logs-every-account", customer="acme-finance")]
    with pytest.raises(ValueError, match=r"belongs to customer 'acme-finance', not 'medicorp-health'"):
        assess_one(results)


def test_assess_rejects_organization_result():
    results = [make_result("scp.size", customer=None)]
    with pytest.raises(ValueError, match=r"belongs to customer None, not 'medicorp-health'"):
        assess_one(results)


def test_assess_guardrail_needs_account_in_ou():
    """An attached guardrail is evidence only while the account sits in the OU it is attached to."""
    req = requirement(id="164.312(a)(2)(iv)", securebase_checks=(), prowler_checks=())
    guardrails = bundled_guardrails()
    attached = [make_result(FRAMEWORK_GUARDRAILS_CHECK), make_result(BASELINE_GUARDRAILS_CHECK)]

    outside = assess_one(attached, req, guardrails=guardrails)
    assert outside.rating is Rating.PARTLY_MET
    assert any(ACCOUNT_PLACEMENT_CHECK in gap for gap in outside.gaps)

    inside = assess_one([*attached, make_result(ACCOUNT_PLACEMENT_CHECK)], req, guardrails=guardrails)
    assert inside.rating is Rating.MET
    assert {control.label for control in inside.guardrails} >= {"hipaa/phi-encryption", "baseline/encryption-defaults"}


def test_assess_bundled_catalog_counts():
    assessment = assess(make_customer(), [], sources_run=())
    counts = assessment.counts()
    assert counts[Rating.NO_EVIDENCE] == len(assessment.requirements)
    assert sum(counts.values()) == len(load_framework_catalog("hipaa").requirements)
    sections = assessment.sections()
    assert [summary.section for summary in sections] == ["164.308 Administrative Safeguards",
                                                         "164.312 Technical Safeguards"]
    assert sum(summary.total for summary in sections) == len(assessment.requirements)


def test_assess_uses_customer_framework():
    customer = make_customer(key="acme-finance", framework="soc2", tier="fintech")
    assessment = assess(customer, [make_result("account.in-tier-ou", customer="acme-finance")])
    assert assessment.framework == "soc2"
    assert assessment.requirements[0].requirement.id == "CC1.3"
