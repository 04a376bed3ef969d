"""Failures that operators of account-vending programs have hit, each as a test."""

from __future__ import annotations

import json
import math
import shutil

import pytest

from securebase.guardrails import bundled_catalog_dir
from securebase.offline.runtime import ProgramError
from tests.support import (
    ACCOUNT,
    ATTACHMENT,
    OU,
    POLICY,
    FakeOrganization,
    customer_fields,
    make_project,
    run_landing_zone,
    seed_customers,
)

# pulumi-aws replaces an account when any of these change (AWS-documented provider behaviour).
REPLACING_ACCOUNT_INPUTS = {"email", "iamUserAccessToBilling", "roleName"}
CASE1_ACCOUNT = "210987654321"
CASE1_ROOT_EMAIL = "aws-accounts+bluefin-capital@securebase-provider.example"


def _case1_project(tmp_path, **overrides):
    customers = {
        "bluefin-capital": customer_fields(
            **{"name": "Bluefin Capital LLC", "prefix": "bluefin", "account_id": CASE1_ACCOUNT, **overrides}
        ),
        "medicorp-health": seed_customers()["medicorp-health"],
    }
    lock = {
        "bluefin-capital": {"account_id": CASE1_ACCOUNT, "root_email": CASE1_ROOT_EMAIL},
    }
    return make_project(tmp_path, customers=customers, lock=lock)


def _case1_org():
    return FakeOrganization(
        accounts={
            CASE1_ACCOUNT: CASE1_ROOT_EMAIL,
            "333344445555": "aws-accounts+medicorp-health@securebase-provider.example",
        }
    )


def _account_change(before, after):
    """Return the account inputs that differ, and whether any of them would replace it."""
    changed = {
        key for key in before.inputs.keys() | after.inputs.keys() if before.inputs.get(key) != after.inputs.get(key)
    }
    replacing = (changed & REPLACING_ACCOUNT_INPUTS) - set(after.ignore_changes)
    return changed, replacing


def _ou_of(run, account):
    (ou_urn,) = account.property_dependencies["parentId"]
    return run.by_urn()[ou_urn].inputs["name"]


def _policies_on(run, ou_name):
    by_urn = run.by_urn()
    names = set()
    for attachment in run.of_type(ATTACHMENT):
        (target,) = attachment.property_dependencies["targetId"]
        (policy,) = attachment.property_dependencies["policyId"]
        if by_urn[target].inputs["name"] == ou_name:
            names.add(by_urn[policy].inputs["name"])
    return names


# Case 1: edits that would replace an account.


def test_case1a_name_edit_updates_in_place(tmp_path):
    before = run_landing_zone(_case1_project(tmp_path / "a"), _case1_org()).named("bluefin-capital-account")
    after = run_landing_zone(_case1_project(tmp_path / "b", name="Bluefin Capital Holdings LLC"), _case1_org()).named(
        "bluefin-capital-account"
    )

    changed, replacing = _account_change(before, after)

    assert after.urn == before.urn
    assert changed == {"name", "tags"}
    assert replacing == set()
    assert after.protect


def test_case1b_tier_change_moves_account(tmp_path):
    before_run = run_landing_zone(_case1_project(tmp_path / "a"), _case1_org())
    after_run = run_landing_zone(_case1_project(tmp_path / "b", tier="healthcare", framework="hipaa"), _case1_org())
    before = before_run.named("bluefin-capital-account")
    after = after_run.named("bluefin-capital-account")

    changed, replacing = _account_change(before, after)

    assert after.urn == before.urn
    assert replacing == set()
    assert "parentId" in changed
    assert _ou_of(before_run, before) == "Customers-Fintech"
    assert _ou_of(after_run, after) == "Customers-Healthcare"
    assert _policies_on(after_run, "Customers-Healthcare")
    assert all(name.startswith("securebase-hipaa-") for name in _policies_on(after_run, "Customers-Healthcare"))
    assert not any(name.startswith("securebase-soc2-") for name in _policies_on(after_run, "Customers-Healthcare"))
    assert not [ou for ou in after_run.of_type(OU) if ou.inputs["name"] == "Customers-Fintech"]


def test_case1c_root_email_edit_rejected(tmp_path):
    org = _case1_org()
    project = _case1_project(tmp_path, root_email="new-root@bluefin.example")

    with pytest.raises(ProgramError) as raised:
        run_landing_zone(project, org)

    message = str(raised.value)
    assert "customers/bluefin-capital.yaml" in message
    assert "root_email" in message
    assert "manual step" in message
    assert org.calls == [], "an AWS call was made before the edit was rejected"
    assert raised.value.run.resources == []


def test_case1c_derived_root_email_change_rejected(tmp_path):
    org = _case1_org()
    project = _case1_project(tmp_path)

    with pytest.raises(ProgramError) as raised:
        run_landing_zone(project, org, rootEmailMailbox="aws-root@other-provider.example")

    message = str(raised.value)
    assert "customers/bluefin-capital.yaml" in message
    assert "root_email (derived from securebase:rootEmailMailbox)" in message
    assert "manual step" in message
    assert org.calls == []


def test_case1_removed_file_rejected(tmp_path):
    project = _case1_project(tmp_path)
    (project / "customers" / "bluefin-capital.yaml").unlink()

    with pytest.raises(ProgramError, match=r"accounts\.bluefin-capital: the lock pins an account whose customer file"):
        run_landing_zone(project, _case1_org())


# Case 2: adopting an existing account.

GOV_ACCOUNT = "456789012345"


def _gov_project(tmp_path):
    customers = {
        "capitol-records-agency": customer_fields(
            name="Capitol Records Agency",
            tier="gov-federal",
            framework="fedramp-moderate",
            prefix="cra",
            account_id=GOV_ACCOUNT,
        )
    }
    return make_project(tmp_path, customers=customers)


def test_case2_existing_account_adopted_into_tier_ou(tmp_path):
    org = FakeOrganization(accounts={GOV_ACCOUNT: "root@cra.example.gov"})
    run = run_landing_zone(_gov_project(tmp_path), org)
    account = run.named("capitol-records-agency-account")

    assert account.import_id == GOV_ACCOUNT
    assert account.protect
    assert {"roleName", "iamUserAccessToBilling"} <= set(account.ignore_changes)
    assert _ou_of(run, account) == "Customers-GovFederal"
    assert [resource.name for resource in run.of_type(ACCOUNT)] == ["capitol-records-agency-account"]


def test_case2_second_run_plans_the_same(tmp_path):
    org = FakeOrganization(accounts={GOV_ACCOUNT: "root@cra.example.gov"})
    project = _gov_project(tmp_path)
    first = run_landing_zone(project, org)
    second = run_landing_zone(project, org)

    def signature(run):
        return sorted((r.type, r.name, json.dumps(r.inputs, sort_keys=True), r.import_id) for r in run.resources)

    assert signature(first) == signature(second)


# Case 3: SCPs not enabled on the root.


def test_case3_scp_type_enabled_before_attachments(tmp_path):
    org = FakeOrganization(accounts={GOV_ACCOUNT: "root@cra.example.gov"}, scp_enabled=False)
    run = run_landing_zone(_gov_project(tmp_path), org)
    organization = run.named("organization-organization")

    assert "SERVICE_CONTROL_POLICY" in organization.inputs["enabledPolicyTypes"]
    for attachment in run.of_type(ATTACHMENT):
        assert organization.urn in attachment.all_dependencies, attachment.urn
    assert any("SERVICE_CONTROL_POLICY type is disabled on root r-ab12" in message for _, message in run.logs)


# Case 4: too many SCPs on an OU.

GOV_OU = "ou-gov1-11112222"


def _case4_org():
    return FakeOrganization(
        accounts={GOV_ACCOUNT: "root@cra.example.gov"},
        policies_on_target={GOV_OU: ["FullAWSAccess", "LegacyDenyRegions"]},
    )


def test_case4_policy_count_over_limit_rejected(tmp_path):
    with pytest.raises(ProgramError) as raised:
        run_landing_zone(
            _gov_project(tmp_path),
            _case4_org(),
            tierOuIds={"gov-federal": GOV_OU},
            quotas={"maxScpsPerTarget": 5},
        )

    message = str(raised.value)
    assert f"Customers-GovFederal ({GOV_OU}) would carry 6 SCPs" in message
    assert "fedramp-moderate" in message
    assert "limit of 5" in message
    assert "LegacyDenyRegions" in message
    assert raised.value.run.resources == [], "something was registered before the error"


def test_case4_policy_count_within_raised_limit(tmp_path):
    run = run_landing_zone(
        _gov_project(tmp_path),
        _case4_org(),
        tierOuIds={"gov-federal": GOV_OU},
        quotas={"maxScpsPerTarget": 10},
    )

    assert len(_policies_on(run, "Customers-GovFederal")) == 4
    assert run.named("gov-federal-ou").import_id == GOV_OU


# Case 5: whitespace counts toward the SCP size limit.


def _deny_statement(number: int, action_count: int) -> dict:
    return {
        "Sid": f"DenyGeneratedStatement{number:02d}",
        "Effect": "Deny",
        "Action": [f"ec2:DeleteFlowLogs{index}" for index in range(action_count)],
        "Resource": "*",
        "Condition": {"ArnNotLike": {"aws:PrincipalARN": ["arn:aws:iam::*:role/{{platform_role_name}}"]}},
    }


def _write_document(path, statement_count, action_count):
    document = {
        "Description": "Generated guardrail for size tests.",
        "Requirements": {"soc2": ["CC6.1"]},
        "Policy": {
            "Version": "2012-10-17",
            "Statement": [_deny_statement(number, action_count) for number in range(statement_count)],
        },
    }
    path.write_text(json.dumps(document, indent=4))
    policy = json.dumps(document["Policy"], indent=4).replace("{{platform_role_name}}", "OrganizationAccountAccessRole")
    minified = json.dumps(json.loads(policy), separators=(",", ":"))
    return len(policy), len(minified)


@pytest.fixture
def size_catalog(tmp_path):
    catalog = tmp_path / "catalog"
    shutil.copytree(bundled_catalog_dir() / "baseline", catalog / "baseline")
    (catalog / "soc2").mkdir()
    sizes = {
        "fifteen": _write_document(catalog / "soc2" / "fifteen.json", 15, 5),
        "twenty-three": _write_document(catalog / "soc2" / "twenty-three.json", 23, 3),
    }
    return catalog, sizes


def test_case5_fixture_sizes_match_case(size_catalog):
    _, sizes = size_catalog
    indented, minified = sizes["fifteen"]

    assert 8_500 < indented < 9_500, "the indented document is about 9,100 characters"
    assert 4_000 < minified < 5_120, "the minified document is about 4,350 characters"
    assert 5_120 < sizes["twenty-three"][1] < 10_240


def _soc2_contents(run):
    return {
        policy.inputs["name"]: policy.inputs["content"]
        for policy in run.of_type(POLICY)
        if policy.inputs["name"].startswith("securebase-soc2-")
    }


def test_case5_documents_minified_and_split(tmp_path, size_catalog):
    catalog, _ = size_catalog
    project = make_project(tmp_path, customers={"northwind-payments": customer_fields()})
    run = run_landing_zone(project, guardrailCatalogDir=str(catalog), quotas={"maxScpSize": 5120})
    contents = _soc2_contents(run)

    assert set(contents) == {
        "securebase-soc2-fifteen",
        "securebase-soc2-twenty-three-part1",
        "securebase-soc2-twenty-three-part2",
    }
    assert all(len(content) <= 5120 for content in contents.values())
    sids = [s["Sid"] for name, c in contents.items() if "twenty-three" in name for s in json.loads(c)["Statement"]]
    assert sorted(sids) == [f"DenyGeneratedStatement{number:02d}" for number in range(23)]


def test_case5_larger_limit_keeps_one_document(tmp_path, size_catalog):
    catalog, _ = size_catalog
    project = make_project(tmp_path, customers={"northwind-payments": customer_fields()})
    run = run_landing_zone(project, guardrailCatalogDir=str(catalog), quotas={"maxScpSize": 10240})

    assert set(_soc2_contents(run)) == {"securebase-soc2-fifteen", "securebase-soc2-twenty-three"}


def test_case5_statement_too_large_rejected(tmp_path, size_catalog):
    catalog, _ = size_catalog
    _write_document(catalog / "soc2" / "huge.json", 1, 400)
    project = make_project(tmp_path, customers={"northwind-payments": customer_fields()})

    with pytest.raises(
        ProgramError,
        match=r"huge\.json: Policy\.Statement\[DenyGeneratedStatement00\]: "
        r"statement is \d+ characters minified, above the SCP size limit of 5120",
    ):
        run_landing_zone(project, guardrailCatalogDir=str(catalog), quotas={"maxScpSize": 5120})


# Case 6: emails that differ only in case.


@pytest.mark.parametrize("field_name", ["contact_email", "root_email"])
def test_case6_emails_differing_in_case_rejected(tmp_path, field_name):
    customers = {
        "northwind-payments": customer_fields(**{field_name: "Security@Northwind.example"}),
        "southwind-payments": customer_fields(
            name="Southwind Payments", prefix="southwind", **{field_name: "security@northwind.example"}
        ),
    }
    if field_name == "root_email":
        customers["northwind-payments"]["contact_email"] = "a@northwind.example"
        customers["southwind-payments"]["contact_email"] = "b@southwind.example"
    project = make_project(tmp_path, customers=customers)

    with pytest.raises(ProgramError) as raised:
        run_landing_zone(project)

    message = str(raised.value)
    clash_lines = [line for line in message.splitlines() if "must be unique" in line]
    assert len(clash_lines) == 1, message
    assert "customers/northwind-payments.yaml" in clash_lines[0]
    assert "customers/southwind-payments.yaml" in clash_lines[0]
    assert f"{field_name}:" in clash_lines[0]


def test_case6_stored_email_differing_in_case_unchanged(tmp_path):
    customers = {"bluefin-capital": customer_fields(account_id=CASE1_ACCOUNT, root_email=CASE1_ROOT_EMAIL)}
    lock = {"bluefin-capital": {"account_id": CASE1_ACCOUNT, "root_email": CASE1_ROOT_EMAIL.upper()}}
    project = make_project(tmp_path, customers=customers, lock=lock)
    org = FakeOrganization(accounts={CASE1_ACCOUNT: CASE1_ROOT_EMAIL.upper()})

    account = run_landing_zone(project, org).named("bluefin-capital-account")

    assert "email" in account.ignore_changes
    assert account.import_id == CASE1_ACCOUNT


# Case 7: account creation is throttled.


def test_case7_new_accounts_never_exceed_creation_limit(tmp_path):
    tiers = [("fintech", "soc2"), ("healthcare", "hipaa"), ("gov-federal", "fedramp-moderate")]
    customers = {}
    for number in range(6):
        tier, framework = tiers[number % 3]
        customers[f"customer-{number}"] = customer_fields(
            name=f"Customer {number}",
            prefix=f"cust{number}",
            tier=tier,
            framework=framework,
            contact_email=f"contact{number}@example.com",
        )
    run = run_landing_zone(make_project(tmp_path, customers=customers))
    accounts = {resource.urn: resource for resource in run.of_type(ACCOUNT)}

    # Round of each creation when every CreateAccount takes one unit and starts as soon as it may.
    rounds: dict[str, int] = {}

    def round_of(urn):
        if urn not in rounds:
            waits = [other for other in accounts[urn].all_dependencies if other in accounts]
            rounds[urn] = 1 + max((round_of(other) for other in waits), default=0)
        return rounds[urn]

    per_round: dict[int, int] = {}
    for urn in accounts:
        per_round[round_of(urn)] = per_round.get(round_of(urn), 0) + 1

    assert len(accounts) == 6
    assert max(per_round.values()) <= 5, per_round
    assert len(per_round) == math.ceil(6 / 5), per_round


def test_case7_adopted_accounts_take_no_lane(tmp_path):
    customers = {
        f"customer-{number}": customer_fields(
            name=f"Customer {number}",
            prefix=f"cust{number}",
            contact_email=f"contact{number}@example.com",
            account_id=f"10000000000{number}",
        )
        for number in range(7)
    }
    org = FakeOrganization(
        accounts={f"10000000000{n}": f"aws-accounts+customer-{n}@securebase-provider.example" for n in range(7)}
    )
    run = run_landing_zone(make_project(tmp_path, customers=customers), org)

    for account in run.of_type(ACCOUNT):
        assert not [dep for dep in account.all_dependencies if "-account" in dep], account.urn


# Case 8: tag values with characters AWS rejects.


def test_case8_tag_values_cleaned(tmp_path):
    name = "O'Neil & Partners, Ltd. (Healthcare)"
    customers = {"oneil-partners": customer_fields(name=name, tier="healthcare", framework="hipaa", prefix="oneil")}
    run = run_landing_zone(make_project(tmp_path, customers=customers))
    account = run.named("oneil-partners-account")

    assert account.inputs["tags"]["securebase:customer"] == "ONeil and Partners Ltd. Healthcare"
    assert account.inputs["name"] == name
    assert run.outputs["customers"]["oneil-partners"]["name"] == name
    for resource in run.resources:
        tags = resource.inputs.get("tags") or {}
        assert len(tags) <= 50, resource.urn
        assert not any(key.lower().startswith("aws:") for key in tags), resource.urn


def test_case8_operator_tags_checked(tmp_path):
    extra = {f"cost-center-{number}": "finance" for number in range(45)}
    extra["aws:owner"] = "ops"
    extra["project"] = "Q&A (beta)"
    customers = {"northwind-payments": customer_fields(tags=extra)}

    with pytest.raises(ProgramError) as raised:
        run_landing_zone(make_project(tmp_path, customers=customers))

    message = str(raised.value)
    assert "tags.aws:owner: tag keys starting with aws: are reserved by AWS" in message
    assert "tags.project: tag value contains '&' '(' ')', which AWS rejects" in message
    assert "53 tags on the account (6 set by SecureBase), above the limit of 50" in message
