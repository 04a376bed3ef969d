"""`securebase verify`: the checklist catches each kind of drift in an organization."""

from __future__ import annotations

import json

import pytest
from moto import mock_aws

from securebase.checks.organization import (
    CheckContext,
    check,
    register_check,
    registered_checks,
    run_checks,
    unregister_check,
)
from securebase.checks.results import CheckResult
from securebase.cli import verify
from tests.test_simulate import (
    account_by_email,
    bundled_project,
    fake_credentials,  # noqa: F401 - autouse fixture shared with the simulate tests
    organizations,
    simulate,
    tier_ou_ids,
)

ACME = "222233334444"
MEDICORP = "333344445555"


def results_of(results: list[CheckResult], check_id: str, customer: str | None = None) -> list[CheckResult]:
    return [item for item in results if item.check_id == check_id and (customer is None or item.customer == customer)]


def failed(results: list[CheckResult]) -> list[tuple[str, str | None]]:
    return sorted((item.check_id, item.customer) for item in results if item.status != "PASS")


def policy_id_named(client, name: str) -> str:
    policies = client.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]
    return next(policy["Id"] for policy in policies if policy["Name"] == name)


@pytest.fixture
def deployed(tmp_path):
    """Yield a project simulated into moto, with moto still running, and an Organizations client."""
    project = bundled_project(tmp_path)
    with mock_aws():
        simulate(project)
        yield project, organizations()


def test_clean_organization_passes(deployed):
    project, _ = deployed
    results = verify(project)

    assert failed(results) == []
    check_ids = {item.check_id for item in results}
    assert check_ids == {
        "account.active",
        "account.in-tier-ou",
        "guardrails.framework-applied",
        "guardrails.baseline-applied",
        "guardrails.no-foreign-framework",
        "account.tags",
        "ou.no-unmanaged-accounts",
        "scp.size",
        "scp.count-per-target",
        "trail.logs-every-account",
        "config.recording-every-account",
        "identity.contact-access-isolated",
    }


def test_account_moved_out_of_ou(deployed):
    project, client = deployed
    ous = tier_ou_ids(client)
    client.move_account(AccountId=ACME, SourceParentId=ous["fintech"], DestinationParentId=ous["healthcare"])
    results = verify(project)

    [placement] = results_of(results, "account.in-tier-ou", "acme-finance")
    assert placement.status == "FAIL"
    assert ous["healthcare"] in placement.detail
    assert ous["fintech"] in placement.detail
    [foreign] = results_of(results, "guardrails.no-foreign-framework", "acme-finance")
    assert foreign.status == "FAIL", "HIPAA guardrails now apply to a SOC 2 customer"
    assert results_of(results, "account.in-tier-ou", "medicorp-health")[0].status == "PASS"


def test_guardrail_detached(deployed):
    project, client = deployed
    ous = tier_ou_ids(client)
    policy_id = policy_id_named(client, "securebase-soc2-data-protection")
    client.detach_policy(PolicyId=policy_id, TargetId=ous["fintech"])
    results = verify(project)

    [framework] = results_of(results, "guardrails.framework-applied", "acme-finance")
    assert framework.status == "FAIL"
    assert "securebase-soc2-data-protection" in framework.detail
    assert failed(results) == [("guardrails.framework-applied", "acme-finance")]


def test_baseline_detached(deployed):
    project, client = deployed
    ous = tier_ou_ids(client)
    policy_id = policy_id_named(client, "securebase-baseline-organization-integrity")
    client.detach_policy(PolicyId=policy_id, TargetId=ous["customers"])
    results = verify(project)

    assert failed(results) == [
        ("guardrails.baseline-applied", "acme-finance"),
        ("guardrails.baseline-applied", "federal-energy-board"),
        ("guardrails.baseline-applied", "medicorp-health"),
    ]


def test_guardrail_content_changed(deployed):
    project, client = deployed
    policy_id = policy_id_named(client, "securebase-hipaa-phi-encryption")
    allow_all = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
    client.update_policy(PolicyId=policy_id, Content=allow_all)
    results = verify(project)

    [framework] = results_of(results, "guardrails.framework-applied", "medicorp-health")
    assert framework.status == "FAIL"
    assert "content differs" in framework.detail


def test_foreign_account_in_customer_ou(deployed):
    project, client = deployed
    ous = tier_ou_ids(client)
    root_id = client.list_roots()["Roots"][0]["Id"]
    stray = client.create_account(Email="stray@elsewhere.example", AccountName="Stray")["CreateAccountStatus"]
    client.move_account(AccountId=stray["AccountId"], SourceParentId=root_id, DestinationParentId=ous["healthcare"])
    results = verify(project)

    unmanaged = [item for item in results_of(results, "ou.no-unmanaged-accounts") if item.status == "FAIL"]
    assert len(unmanaged) == 1
    assert ous["healthcare"] in unmanaged[0].resource
    assert stray["AccountId"] in unmanaged[0].detail
    assert failed(results) == [("ou.no-unmanaged-accounts", None)]


def test_tag_changed(deployed):
    project, client = deployed
    client.tag_resource(ResourceId=MEDICORP, Tags=[{"Key": "securebase:tier", "Value": "fintech"}])
    results = verify(project)

    [tags] = results_of(results, "account.tags", "medicorp-health")
    assert tags.status == "FAIL"
    assert "securebase:tier is 'fintech', expected 'healthcare'" in tags.detail
    assert failed(results) == [("account.tags", "medicorp-health")]


def test_foreign_framework_attached(deployed):
    project, client = deployed
    ous = tier_ou_ids(client)
    client.attach_policy(PolicyId=policy_id_named(client, "securebase-fedramp-moderate-data-protection"), TargetId=ACME)
    results = verify(project)

    [foreign] = results_of(results, "guardrails.no-foreign-framework", "acme-finance")
    assert foreign.status == "FAIL"
    assert "securebase-fedramp-moderate-data-protection" in foreign.detail
    assert ous["fintech"]


def test_too_many_scps_on_target(deployed):
    project, client = deployed
    content = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}'
    for number in range(10):
        created = client.create_policy(
            Name=f"extra-{number}", Description="", Type="SERVICE_CONTROL_POLICY", Content=content
        )
        client.attach_policy(PolicyId=created["Policy"]["PolicySummary"]["Id"], TargetId=ACME)
    results = verify(project)

    [count] = [item for item in results_of(results, "scp.count-per-target") if ACME in item.resource]
    assert count.status == "FAIL"
    assert "11 SCPs attached, above the limit of 10" in count.detail


def test_missing_account_fails_active(deployed):
    project, client = deployed
    federal = account_by_email(client, "aws-accounts+federal-energy-board@securebase-provider.example")
    client.remove_account_from_organization(AccountId=federal["Id"])
    results = verify(project)

    [active] = results_of(results, "account.active", "federal-energy-board")
    assert active.status == "FAIL"
    [placement] = results_of(results, "account.in-tier-ou", "federal-energy-board")
    assert placement.status == "ERROR", "a check that cannot run must not pass"


def test_stack_outputs_give_tier_ou(deployed, tmp_path):
    project, client = deployed
    ous = tier_ou_ids(client)
    # Stack outputs that name a different OU than the one the account sits in.
    outputs = {"customers": {"acme-finance": {"tier": "fintech", "ouId": ous["healthcare"], "accountId": ACME}}}
    results = verify(project, stack_outputs=outputs)

    [placement] = results_of(results, "account.in-tier-ou", "acme-finance")
    assert placement.status == "FAIL"


def test_customer_filter(deployed):
    project, _ = deployed
    results = verify(project, customers=["medicorp-health"])

    customers = {item.customer for item in results if item.customer is not None}
    assert customers == {"medicorp-health"}


def test_registered_check_runs(deployed):
    project, _ = deployed

    @check("test.extra", "An extra check registered by another module")
    def extra(context: CheckContext):
        yield CheckResult(check_id="test.extra", title=extra.title, status="PASS", detail=context.organization.root_id)

    register_check(extra)
    try:
        results = verify(project)
    finally:
        unregister_check(extra)
    assert [item.check_id for item in results][-1] == "test.extra"
    assert extra not in registered_checks()


def test_check_error_is_recorded(deployed):
    import botocore.exceptions

    project, _ = deployed

    @check("test.broken", "A check whose AWS call fails")
    def broken(context: CheckContext):
        raise botocore.exceptions.ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ListTrails")
        yield  # pragma: no cover - makes this a generator

    from securebase.checks.organization import read_organization

    snapshot = read_organization(organizations(), project.config)
    results = run_checks(CheckContext(config=project.config, organization=snapshot, customers=()), [broken])
    assert [(item.check_id, item.status) for item in results] == [("test.broken", "ERROR")]
    assert "AccessDenied" in results[0].detail


def test_results_serialize_to_json(deployed):
    project, _ = deployed
    results = verify(project)
    document = json.loads(json.dumps([item.as_dict() for item in results]))

    assert document[0]["check_id"] == "account.active"
    assert document[0]["customer"] == "acme-finance"
