"""`securebase simulate`: the real program applied to an emulated organization, checked through boto3."""

from __future__ import annotations

import math
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws

from securebase.cli import Project, load_project, simulate
from securebase.offline.emulator import (
    POLICY_ATTACHMENT,
    EmulatedAWSError,
    OrganizationEmulator,
    OrganizationSeed,
    emulator_client,
    emulator_settings,
    seed_organization,
)
from tests.support import REPO, make_project

FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
GOV_ACCOUNT_ID = "456789012345"


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch):
    """Point boto3 at fake credentials only; monkeypatch restores the environment afterwards."""
    for name, value in FAKE_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def bundled_project(tmp_path: Path) -> Project:
    """Copy the bundled project (customers, lock, stack file) into tmp_path and load it."""
    project_dir = make_project(tmp_path)
    (project_dir / "Pulumi.dev.yaml").write_text((REPO / "Pulumi.dev.yaml").read_text())
    return load_project(project_dir, "dev")


def write_customer(project_dir: Path, key: str, **fields) -> None:
    (project_dir / "customers" / f"{key}.yaml").write_text(yaml.safe_dump(fields, sort_keys=False))


def organizations():
    return boto3.client("organizations", region_name="us-east-1")


def child_ou(client, parent_id: str, name: str) -> str:
    for ou in client.list_organizational_units_for_parent(ParentId=parent_id)["OrganizationalUnits"]:
        if ou["Name"] == name:
            return ou["Id"]
    raise AssertionError(f"no OU named {name} under {parent_id}")


def tier_ou_ids(client) -> dict[str, str]:
    """Return the tier OU ids found by walking root -> Customers -> tier OU name."""
    root_id = client.list_roots()["Roots"][0]["Id"]
    customers_ou = child_ou(client, root_id, "Customers")
    return {
        "customers": customers_ou,
        "fintech": child_ou(client, customers_ou, "Customers-Fintech"),
        "healthcare": child_ou(client, customers_ou, "Customers-Healthcare"),
        "gov-federal": child_ou(client, customers_ou, "Customers-GovFederal"),
    }


def parent_of(client, child_id: str) -> str:
    return client.list_parents(ChildId=child_id)["Parents"][0]["Id"]


def attached_names(client, target_id: str) -> set[str]:
    policies = client.list_policies_for_target(TargetId=target_id, Filter="SERVICE_CONTROL_POLICY")["Policies"]
    return {policy["Name"] for policy in policies}


def account_by_email(client, email: str) -> dict:
    matches = [account for account in client.list_accounts()["Accounts"] if account["Email"] == email]
    assert len(matches) == 1, f"expected one account with root email {email}, found {len(matches)}"
    return matches[0]


def organization_counts(client) -> dict[str, int]:
    root_id = client.list_roots()["Roots"][0]["Id"]
    ous, pending = 0, [root_id]
    while pending:
        children = client.list_organizational_units_for_parent(ParentId=pending.pop())["OrganizationalUnits"]
        ous += len(children)
        pending += [ou["Id"] for ou in children]
    return {
        "accounts": len(client.list_accounts()["Accounts"]),
        "ous": ous,
        "policies": len(client.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]),
    }


def test_bundled_accounts_land_in_tier_ous(tmp_path):
    project = bundled_project(tmp_path)
    with mock_aws():
        result = simulate(project)
        client = organizations()
        ous = tier_ou_ids(client)

        assert parent_of(client, "222233334444") == ous["fintech"], "acme-finance should sit in Customers-Fintech"
        assert parent_of(client, "333344445555") == ous["healthcare"], "medicorp-health should be in Healthcare"
        federal = account_by_email(client, "aws-accounts+federal-energy-board@securebase-provider.example")
        assert parent_of(client, federal["Id"]) == ous["gov-federal"], "federal-energy-board should be in GovFederal"
    assert all(item.status == "PASS" for item in result.results), [r for r in result.results if r.status != "PASS"]


def test_emulated_accounts_own_no_snapshots():
    """moto's default public AMIs stay out, or their snapshots show up as each account's own to Prowler."""
    with emulator_settings(), mock_aws():
        ec2 = boto3.Session(region_name="us-east-1").client("ec2")
        assert ec2.describe_images(Owners=["amazon"])["Images"] == []
        assert ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"] == []


def test_bundled_guardrails_attached_to_ous(tmp_path):
    project = bundled_project(tmp_path)
    with mock_aws():
        simulate(project)
        client = organizations()
        ous = tier_ou_ids(client)
        baseline = {
            "securebase-baseline-audit-logging-integrity",
            "securebase-baseline-encryption-defaults",
            "securebase-baseline-organization-integrity",
        }
        assert baseline <= attached_names(client, ous["customers"]), "baseline belongs on the Customers OU"
        fintech = attached_names(client, ous["fintech"])
        healthcare = attached_names(client, ous["healthcare"])
        gov = attached_names(client, ous["gov-federal"])

    assert {"securebase-soc2-data-protection", "securebase-soc2-security-monitoring"} <= fintech
    assert not any("hipaa" in name or "fedramp" in name for name in fintech), fintech
    assert {"securebase-hipaa-phi-encryption", "securebase-hipaa-public-exposure"} <= healthcare
    assert not any("soc2" in name or "fedramp" in name for name in healthcare), healthcare
    assert len([name for name in gov if name.startswith("securebase-fedramp-moderate-")]) == 4, gov


def test_bundled_account_tags(tmp_path):
    project = bundled_project(tmp_path)
    with mock_aws():
        simulate(project)
        client = organizations()
        tags = {tag["Key"]: tag["Value"] for tag in client.list_tags_for_resource(ResourceId="222233334444")["Tags"]}

    assert tags["securebase:customer-key"] == "acme-finance"
    assert tags["securebase:tier"] == "fintech"
    assert tags["securebase:framework"] == "soc2"
    assert tags["securebase:customer"] == "ACME Finance Inc"
    assert tags["managed-by"] == "securebase"


def test_program_warns_of_unlocked_customer(tmp_path):
    project = bundled_project(tmp_path)
    write_customer(project.project_dir, "globex-bank", name="Globex Bank", tier="fintech", framework="soc2",
                   prefix="globex", contact_email="it@globex.example")
    project = load_project(project.project_dir, "dev")
    with mock_aws():
        result = simulate(project)

    warnings = [message for severity, message in result.program_messages if "securebase lock" in message]
    assert warnings == [
        "accounts.lock.yaml does not list globex-bank yet; run `securebase lock` and commit accounts.lock.yaml, "
        "so that a later edit cannot change their root emails"
    ]


def test_scp_disabled_root_ends_enabled(tmp_path):
    project = bundled_project(tmp_path)
    with mock_aws():
        result = simulate(project, scp_enabled=False)
        client = organizations()
        root = client.list_roots()["Roots"][0]
        ous = tier_ou_ids(client)
        attached = {tier: attached_names(client, ou_id) for tier, ou_id in ous.items()}

    enabled = [item["Type"] for item in root["PolicyTypes"] if item["Status"] == "ENABLED"]
    assert "SERVICE_CONTROL_POLICY" in enabled
    assert any("disabled" in message for _, message in result.program_messages), result.program_messages
    attachments = [step for step in result.plan.steps if step.type == POLICY_ATTACHMENT]
    assert len(attachments) == 12
    assert all(step.operations == ("AttachPolicy",) for step in attachments), attachments
    assert len([name for name in attached["customers"] if name.startswith("securebase-")]) == 3
    assert len([name for name in attached["gov-federal"] if name.startswith("securebase-")]) == 4


def test_attachment_rejected_while_scp_disabled():
    with mock_aws():
        client = emulator_client()
        seed_organization(client, OrganizationSeed(scp_enabled=False))
        root_id = client.list_roots()["Roots"][0]["Id"]
        policy_id = client.create_policy(
            Name="securebase-test",
            Description="",
            Type="SERVICE_CONTROL_POLICY",
            Content='{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}',
        )["Policy"]["PolicySummary"]["Id"]
        emulator = OrganizationEmulator(client)
        import pulumi

        args = pulumi.runtime.MockResourceArgs(
            typ=POLICY_ATTACHMENT, name="early", inputs={"policyId": policy_id, "targetId": root_id}, custom=True
        )
        with pytest.raises(EmulatedAWSError, match="PolicyTypeNotEnabledException"):
            emulator.new_resource(args)
        assert client.list_targets_for_policy(PolicyId=policy_id)["Targets"] == []


def test_adopted_gov_account_moved_without_create(tmp_path):
    project_dir = make_project(tmp_path)
    (project_dir / "Pulumi.dev.yaml").write_text((REPO / "Pulumi.dev.yaml").read_text())
    write_customer(
        project_dir,
        "doe-field-office",
        name="DOE Field Office",
        tier="gov-federal",
        framework="fedramp-moderate",
        account_id=GOV_ACCOUNT_ID,
        prefix="doefo",
        contact_email="isso@doe-field.example.gov",
    )
    project = load_project(project_dir, "dev")
    with mock_aws():
        result = simulate(project)
        client = organizations()
        ous = tier_ou_ids(client)
        parent = parent_of(client, GOV_ACCOUNT_ID)
        count = len(client.list_accounts()["Accounts"])

    assert parent == ous["gov-federal"]
    step = next(step for step in result.plan.steps if step.name == "doe-field-office-account")
    assert step.operations[0] == "Read", step.operations
    assert "CreateAccount" not in step.operations
    assert "MoveAccount" in step.operations
    # Management account, three seeded adopted accounts and one new one (federal-energy-board).
    assert count == 5


def test_second_run_creates_nothing(tmp_path):
    project = bundled_project(tmp_path)
    with mock_aws():
        simulate(project)
        client = organizations()
        before = organization_counts(client)
        second = simulate(project)
        after = organization_counts(client)

    assert after == before
    creates = [step.name for step in second.plan.steps if any(op.startswith("Create") for op in step.operations)]
    assert creates == []
    assert [step.name for step in second.plan.steps if "AttachPolicy" in step.operations] == []
    assert second.timeline.parallel_seconds < 60


def six_new_customers(project_dir: Path) -> None:
    tiers = [("fintech", "soc2"), ("healthcare", "hipaa"), ("gov-federal", "fedramp-moderate")]
    for path in (project_dir / "customers").glob("*.yaml"):
        path.unlink()
    (project_dir / "accounts.lock.yaml").unlink()
    for number in range(6):
        tier, framework = tiers[number % 3]
        write_customer(
            project_dir,
            f"new-customer-{number}",
            name=f"New Customer {number}",
            tier=tier,
            framework=framework,
            prefix=f"new{number}",
            contact_email=f"it@new{number}.example",
        )


def test_six_new_accounts_timeline(tmp_path):
    project_dir = make_project(tmp_path)
    (project_dir / "Pulumi.dev.yaml").write_text((REPO / "Pulumi.dev.yaml").read_text())
    six_new_customers(project_dir)
    project = load_project(project_dir, "dev")
    with mock_aws():
        result = simulate(project)

    timeline = result.timeline
    plan = result.plan
    assert timeline.account_creations == 6
    assert timeline.max_account_creations_in_flight <= 5
    account = next(step for step in plan.steps if step.creates_account)
    # Everything an account waits for: the organization, the customers OU and its tier OU.
    organization = next(step for step in plan.steps if step.name == "organization-organization")
    customers_ou = next(step for step in plan.steps if step.name == "organization-customers-ou")
    tier_ou = next(step for step in plan.steps if step.name == "fintech-ou")
    before_accounts = organization.seconds + customers_ou.seconds + tier_ou.seconds
    # The maximum chain of work that waits for an account, apart from the next account in its
    # lane: the account's security baseline.
    waiting = {
        step.urn: [other for other in plan.steps if step.urn in other.waits_for and not other.creates_account]
        for step in plan.steps
    }

    def after(urn: str) -> float:
        return max((other.seconds + after(other.urn) for other in waiting[urn]), default=0.0)

    after_account = max(after(step.urn) for step in plan.steps if step.creates_account)
    rounds = math.ceil(6 / 5)
    assert after_account > 0
    assert timeline.parallel_seconds == pytest.approx(before_accounts + rounds * account.seconds + after_account)
    assert timeline.sequential_seconds > timeline.parallel_seconds


def test_cli_simulate_in_process_json(tmp_path, capsys):
    import json

    from securebase.cli import main

    project = bundled_project(tmp_path)
    code = main(["simulate", "--project-dir", str(project.project_dir), "--format", "json"])
    document = json.loads(capsys.readouterr().out)

    assert code == 0
    assert document["passed"] is True
    assert document["revenue"]["totalMonthlyUsd"] == 48000.0
    assert document["timeline"]["accountCreations"] == 1
    first_wave = [step["name"] for step in document["plan"]["waves"][0]]
    assert "organization-organization" in first_wave


def test_unhandled_type_and_invoke_fail():
    import pulumi

    with mock_aws():
        client = emulator_client()
        seed_organization(client, OrganizationSeed())
        emulator = OrganizationEmulator(client)
        bucket = pulumi.runtime.MockResourceArgs(typ="aws:s3/bucket:Bucket", name="logs", inputs={}, custom=True)
        with pytest.raises(NotImplementedError, match="no handler for resource type aws:s3/bucket:Bucket"):
            emulator.new_resource(bucket)
        invoke = pulumi.runtime.MockCallArgs(token="aws:index/getRegion:getRegion", args={}, provider="")
        with pytest.raises(NotImplementedError, match="no handler for invoke aws:index/getRegion:getRegion"):
            emulator.call(invoke)
    assert len(emulator.failures) == 2


def test_extra_handlers_are_used():
    import pulumi

    with mock_aws():
        client = emulator_client()
        seed_organization(client, OrganizationSeed())
        emulator = OrganizationEmulator(
            client,
            extra_resources={"aws:s3/bucket:Bucket": lambda args: ("logs-bucket", {"bucket": "logs-bucket"})},
            extra_calls={"aws:index/getRegion:getRegion": lambda args: {"name": "us-east-1"}},
        )
        bucket = pulumi.runtime.MockResourceArgs(typ="aws:s3/bucket:Bucket", name="logs", inputs={}, custom=True)
        invoke = pulumi.runtime.MockCallArgs(token="aws:index/getRegion:getRegion", args={}, provider="")

        assert emulator.new_resource(bucket) == ("logs-bucket", {"bucket": "logs-bucket"})
        assert emulator.call(invoke) == {"name": "us-east-1"}
    assert [operation.name for operation in emulator.operations[("aws:s3/bucket:Bucket", "logs")]] == ["CreateResource"]
