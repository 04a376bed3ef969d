"""The landing zone's recorded resource graph for the seed customers."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from securebase.offline.runtime import ProgramError
from tests.support import (
    ACCOUNT,
    ATTACHMENT,
    ORGANIZATION,
    OU,
    POLICY,
    FakeOrganization,
    bundled_accounts,
    customer_fields,
    make_project,
    run_landing_zone,
    seed_customers,
)


@pytest.fixture
def seed_run(tmp_path):
    project = make_project(tmp_path, customers=seed_customers())
    return run_landing_zone(project)


def _ou_names(run):
    return {resource.urn: resource.inputs["name"] for resource in run.of_type(OU)}


def _attachments_by_ou(run):
    """Map each OU name to the policy names attached to it."""
    policies = {resource.urn: resource.inputs["name"] for resource in run.of_type(POLICY)}
    ous = _ou_names(run)
    attached: dict[str, set[str]] = {}
    for attachment in run.of_type(ATTACHMENT):
        deps = attachment.property_dependencies
        (policy_urn,) = deps["policyId"]
        (target_urn,) = deps["targetId"]
        attached.setdefault(ous[target_urn], set()).add(policies[policy_urn])
    return attached


def _parent_ou_name(run, account):
    (ou_urn,) = account.property_dependencies["parentId"]
    return _ou_names(run)[ou_urn]


def test_seed_customers_routed_to_tier_ous(seed_run):
    accounts = {resource.name: resource for resource in seed_run.of_type(ACCOUNT)}

    assert _parent_ou_name(seed_run, accounts["acme-finance-account"]) == "Customers-Fintech"
    assert _parent_ou_name(seed_run, accounts["medicorp-health-account"]) == "Customers-Healthcare"


def test_framework_guardrails_attach_to_own_tier_only(seed_run):
    attached = _attachments_by_ou(seed_run)
    fintech = attached["Customers-Fintech"]
    healthcare = attached["Customers-Healthcare"]

    assert fintech, "the fintech OU has no guardrails"
    assert healthcare, "the healthcare OU has no guardrails"
    assert all(name.startswith("securebase-soc2-") for name in fintech), fintech
    assert all(name.startswith("securebase-hipaa-") for name in healthcare), healthcare


def test_baseline_attached_once_above_tiers(seed_run):
    attached = _attachments_by_ou(seed_run)
    baseline = [name for names in attached.values() for name in names if name.startswith("securebase-baseline-")]

    assert attached["Customers"] == set(baseline)
    assert len(baseline) == len(set(baseline)), "a baseline guardrail is attached more than once"


def test_tier_without_customers_has_no_ou(seed_run):
    names = set(_ou_names(seed_run).values())

    assert names == {"Customers", "Customers-Fintech", "Customers-Healthcare"}
    assert not any("fedramp" in resource.name for resource in seed_run.resources)


def test_attachment_dependencies(seed_run):
    by_urn = seed_run.by_urn()
    organization = seed_run.named("organization-organization").urn
    for attachment in seed_run.of_type(ATTACHMENT):
        deps = attachment.all_dependencies
        policy_urns = attachment.property_dependencies["policyId"]
        target_urns = attachment.property_dependencies["targetId"]

        assert [by_urn[urn].type for urn in policy_urns] == [POLICY], attachment.urn
        assert [by_urn[urn].type for urn in target_urns] == [OU], attachment.urn
        assert organization in deps, f"{attachment.urn} does not wait for the SCP policy type"


def test_resource_names_unique(seed_run):
    counts = Counter((resource.type, resource.name) for resource in seed_run.resources)
    urns = Counter(resource.urn for resource in seed_run.resources)

    assert [key for key, count in counts.items() if count > 1] == []
    assert [urn for urn, count in urns.items() if count > 1] == []


def test_seed_revenue_is_sum_of_base_prices(seed_run):
    assert seed_run.outputs["monthlyRevenueUsd"] == 23000


def test_outputs_list_account_ou_and_guardrails(seed_run):
    acme = seed_run.outputs["customers"]["acme-finance"]

    assert acme["accountId"] == "222233334444"
    assert acme["ou"] == "Customers-Fintech"
    assert any(name.startswith("securebase-soc2-") for name in acme["guardrails"])
    assert any(name.startswith("securebase-baseline-") for name in acme["guardrails"])
    assert not any(name.startswith("securebase-hipaa-") for name in acme["guardrails"])


def test_accounts_protected_and_adopted(seed_run):
    for account in seed_run.of_type(ACCOUNT):
        assert account.protect, f"{account.urn} is not protected"
        assert {"roleName", "iamUserAccessToBilling", "email"} <= set(account.ignore_changes), account.urn
        assert account.inputs["closeOnDeletion"] is False, account.urn
    assert seed_run.named("acme-finance-account").import_id == "222233334444"
    assert seed_run.named("medicorp-health-account").import_id == "333344445555"


def test_organization_adopted_with_scp_enabled(seed_run):
    organization = seed_run.named("organization-organization")

    assert organization.type == ORGANIZATION
    assert organization.import_id == "o-a1b2c3d4e5"
    assert organization.protect
    assert organization.retain_on_delete
    assert "SERVICE_CONTROL_POLICY" in organization.inputs["enabledPolicyTypes"]


def test_account_tags_carry_compliance_fields(seed_run):
    tags = seed_run.named("medicorp-health-account").inputs["tags"]

    assert tags == {
        "securebase:customer": "MediCorp Solutions Inc",
        "securebase:customer-key": "medicorp-health",
        "securebase:tier": "healthcare",
        "securebase:framework": "hipaa",
        "securebase:prefix": "medicorp",
        "managed-by": "securebase",
    }


def test_policies_sent_minified(seed_run):
    for policy in seed_run.of_type(POLICY):
        content = policy.inputs["content"]

        assert content == json.dumps(json.loads(content), separators=(",", ":"), ensure_ascii=False), policy.urn


def _plan_signature(run):
    """Return what the engine would plan for each resource, keyed by (type, name)."""
    by_urn = run.by_urn()

    def names(urns):
        return tuple(sorted(by_urn[urn].name for urn in urns if urn in by_urn))

    return {
        (resource.type, resource.name): (
            resource.inputs,
            by_urn[resource.parent].name if resource.parent in by_urn else resource.parent,
            names(resource.all_dependencies),
            resource.import_id,
            resource.protect,
            resource.ignore_changes,
        )
        for resource in run.resources
    }


def test_fourth_customer_changes_only_its_resources(tmp_path):
    customers = {
        **seed_customers(),
        "federal-energy-board": {
            "name": "Federal Energy Review Board",
            "tier": "gov-federal",
            "framework": "fedramp-moderate",
            "prefix": "ferb",
            "contact_email": "isso@ferb.example.gov",
        },
    }
    before = _plan_signature(run_landing_zone(make_project(tmp_path / "before", customers=customers)))
    customers["northwind-payments"] = customer_fields()
    after = _plan_signature(run_landing_zone(make_project(tmp_path / "after", customers=customers)))

    added = set(after) - set(before)
    changed = {key for key in before if key in after and before[key] != after[key]}

    assert set(before) <= set(after), "a resource disappeared"
    assert ("securebase:index:CustomerAccount", "northwind-payments") in added
    assert (ACCOUNT, "northwind-payments-account") in added
    assert [key for key in added if "northwind-payments" not in key[1]] == [], "a shared resource was added"
    assert changed == set(), f"existing resources changed: {sorted(changed)}"


def test_adopted_account_must_be_member(tmp_path):
    project = make_project(tmp_path, customers=seed_customers())
    org = FakeOrganization(accounts={"222233334444": bundled_accounts()["222233334444"]})

    with pytest.raises(ProgramError, match=r"medicorp-health\.yaml:4: account_id: account is not a member") as raised:
        run_landing_zone(project, org)

    assert raised.value.run.resources == []
