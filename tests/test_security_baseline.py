"""Security baseline on the recorded resource graph: log bucket, organization trail, Config, per-account controls."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from securebase.checks.security_baseline import (
    check_config_recording_every_account,
    check_contact_access_isolated,
    check_trail_logs_every_account,
)
from securebase.offline.emulator_baseline import HANDLERS, MotoClients, answer_identity_invoke
from securebase.settings import SettingsError, settings_from_mapping
from securebase.validation import load_landing_zone
from tests.support import ACCOUNT, ORGANIZATION, bundled_accounts, make_project
from tests.support_baseline import (
    BUCKET_POLICY,
    KMS_KEY,
    TRAIL,
    BaselineRun,
    FakeIdentityOrganization,
    run_baseline,
)

ORG_ID = "o-a1b2c3d4e5"
MANAGEMENT = "111122223333"
BUCKET = f"securebase-logs-{MANAGEMENT}-us-east-1"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{MANAGEMENT}:trail/securebase-org-trail"
ROLE = "OrganizationAccountAccessRole"
# Fake credentials only. moto loads AWS managed IAM policies only when this variable requests it.
MOTO_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
}
DEFAULT_QUOTAS = {
    "maxScpsPerTarget": 10,
    "maxScpSize": 10240,
    "maxOuDepth": 5,
    "maxTagsPerResource": 50,
    "maxTagKeyLength": 128,
    "maxTagValueLength": 256,
    "maxAccountCreationsInProgress": 5,
}


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> BaselineRun:
    project = make_project(tmp_path_factory.mktemp("bundled"))
    return run_baseline(project, FakeIdentityOrganization(accounts=bundled_accounts()))


def statements_by_sid(policy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {statement["Sid"]: statement for statement in policy["Statement"]}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def customer_account_ids(result: BaselineRun) -> dict[str, str]:
    """Return the account id of each customer, by customer key, as the recording has it."""
    return {account.name.removesuffix("-account"): account.id for account in result.run.of_type(ACCOUNT)}


def bucket_policy(result: BaselineRun) -> dict[str, Any]:
    return json.loads(result.run.named("log-archive-policy").inputs["policy"])


# Case: organization trail bucket policy (organization o-a1b2c3d4e5, management account 111122223333).


def test_bucket_policy_lets_cloudtrail_read_acl(bundled):
    statement = statements_by_sid(bucket_policy(bundled))["AllowCloudTrailGetBucketAcl"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert statement["Action"] == "s3:GetBucketAcl"
    assert statement["Resource"] == BUCKET_ARN


@pytest.mark.parametrize(
    "sid, prefix",
    [
        ("AllowCloudTrailWriteManagementAccountLogs", f"AWSLogs/{MANAGEMENT}/*"),
        ("AllowCloudTrailWriteOrganizationLogs", f"AWSLogs/{ORG_ID}/*"),
    ],
)
def test_bucket_policy_cloudtrail_writes_conditioned(bundled, sid, prefix):
    statement = statements_by_sid(bucket_policy(bundled))[sid]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert statement["Action"] == "s3:PutObject"
    assert statement["Resource"] == f"{BUCKET_ARN}/{prefix}"
    conditions = statement["Condition"]["StringEquals"]
    assert conditions["s3:x-amz-acl"] == "bucket-owner-full-control"
    assert conditions["aws:SourceArn"] == TRAIL_ARN
    assert set(statement["Condition"]) == {"StringEquals"}


def test_bucket_policy_cloudtrail_writes_only_two_prefixes(bundled):
    resources = set()
    for statement in bucket_policy(bundled)["Statement"]:
        if statement["Effect"] == "Allow" and statement["Principal"] == {"Service": "cloudtrail.amazonaws.com"}:
            if "s3:PutObject" in as_list(statement["Action"]):
                resources.update(as_list(statement["Resource"]))
    assert resources == {f"{BUCKET_ARN}/AWSLogs/{MANAGEMENT}/*", f"{BUCKET_ARN}/AWSLogs/{ORG_ID}/*"}


def test_bucket_policy_grants_nothing_to_everyone(bundled):
    for statement in bucket_policy(bundled)["Statement"]:
        principal = statement["Principal"]
        everyone = principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS", [])))
        if everyone:
            assert statement["Effect"] == "Deny", f"{statement['Sid']} allows the * principal"


def test_bucket_policy_every_write_requires_owner_acl(bundled):
    for statement in bucket_policy(bundled)["Statement"]:
        if statement["Effect"] == "Allow" and "s3:PutObject" in as_list(statement["Action"]):
            acl = statement["Condition"]["StringEquals"]["s3:x-amz-acl"]
            assert acl == "bucket-owner-full-control", statement["Sid"]


def test_bucket_policy_denies_plain_http(bundled):
    statement = statements_by_sid(bucket_policy(bundled))["DenyInsecureTransport"]
    assert statement["Effect"] == "Deny"
    assert statement["Action"] == "s3:*"
    assert set(statement["Resource"]) == {BUCKET_ARN, f"{BUCKET_ARN}/*"}
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_bucket_policy_config_writes_for_organization(bundled):
    statement = statements_by_sid(bucket_policy(bundled))["AllowConfigWriteDeliveries"]
    assert statement["Principal"] == {"Service": "config.amazonaws.com"}
    assert statement["Resource"] == f"{BUCKET_ARN}/AWSLogs/*/Config/*"
    assert statement["Condition"]["StringEquals"]["aws:SourceOrgID"] == "o-a1b2c3d4e5"
    assert statement["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"
    check = statements_by_sid(bucket_policy(bundled))["AllowConfigCheckBucket"]
    assert check["Resource"] == BUCKET_ARN
    assert check["Condition"]["StringEquals"]["aws:SourceOrgID"] == "o-a1b2c3d4e5"


def test_trail_depends_on_policy_and_organization(bundled):
    run = bundled.run
    trail = run.named("organization-trail-trail")
    policy = run.named("log-archive-policy")
    organization = run.of_type(ORGANIZATION)[0]
    assert policy.urn in trail.all_dependencies, f"{trail.urn} does not wait for {policy.urn}"
    assert organization.urn in trail.all_dependencies, f"{trail.urn} does not wait for {organization.urn}"
    assert "cloudtrail.amazonaws.com" in organization.inputs["awsServiceAccessPrincipals"]


def test_trail_is_organization_wide_and_encrypted(bundled):
    run = bundled.run
    trail = run.named("organization-trail-trail")
    key = run.named("log-archive-key")
    assert trail.inputs["name"] == "securebase-org-trail"
    assert trail.inputs["isOrganizationTrail"] is True
    assert trail.inputs["isMultiRegionTrail"] is True
    assert trail.inputs["enableLogFileValidation"] is True
    assert trail.inputs["s3BucketName"] == BUCKET
    assert trail.inputs["kmsKeyId"] == key.outputs["arn"]
    assert bundled.provider_of(trail) is None, "the trail must be created in the management account"


def test_key_policy_lets_cloudtrail_encrypt(bundled):
    policy = json.loads(bundled.run.named("log-archive-key").inputs["policy"])
    statements = statements_by_sid(policy)
    admin = statements["AllowKeyAccountAdministration"]
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"}
    encrypt = statements["AllowCloudTrailEncryptOrganizationLogs"]
    assert encrypt["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert encrypt["Action"] == "kms:GenerateDataKey*"
    assert encrypt["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN
    context = encrypt["Condition"]["StringLike"]["kms:EncryptionContext:aws:cloudtrail:arn"]
    assert context == f"arn:aws:cloudtrail:*:{MANAGEMENT}:trail/*"
    config = statements["AllowConfigEncryptDeliveries"]
    assert config["Condition"]["StringEquals"]["aws:SourceOrgID"] == "o-a1b2c3d4e5"


def test_log_bucket_controls(bundled):
    run = bundled.run
    key_arn = run.named("log-archive-key").outputs["arn"]
    assert run.named("log-archive-key").inputs["enableKeyRotation"] is True
    assert run.named("log-archive-bucket").protect is True
    assert run.named("log-archive-key").protect is True
    versioning = run.named("log-archive-versioning").inputs["versioningConfiguration"]
    assert versioning["status"] == "Enabled"
    rule = run.named("log-archive-encryption").inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key_arn}
    block = run.named("log-archive-public-access-block").inputs
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block[flag] is True, flag
    lifecycle = run.named("log-archive-lifecycle").inputs["rules"][0]
    assert lifecycle["status"] == "Enabled"
    assert lifecycle["expiration"]["days"] == 2557
    assert run.named("log-archive-bucket").inputs["objectLockEnabled"] is False
    assert not run.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")


def test_bucket_name_setting(tmp_path):
    result = run_baseline(make_project(tmp_path), logBucketName="acme.audit-logs")
    run = result.run
    assert run.named("log-archive-bucket").inputs["bucket"] == "acme.audit-logs"
    assert run.named("log-archive-key-alias").inputs["name"] == "alias/acme-audit-logs"
    assert run.named("organization-trail-trail").inputs["s3BucketName"] == "acme.audit-logs"
    statements = statements_by_sid(json.loads(run.named("log-archive-policy").inputs["policy"]))
    assert statements["AllowCloudTrailGetBucketAcl"]["Resource"] == "arn:aws:s3:::acme.audit-logs"


def test_object_lock_and_retention_settings(tmp_path):
    project = make_project(tmp_path)
    result = run_baseline(project, logRetentionDays=3000, logObjectLockMode="COMPLIANCE")
    run = result.run
    assert run.named("log-archive-bucket").inputs["objectLockEnabled"] is True
    lock = run.named("log-archive-object-lock").inputs["rule"]["defaultRetention"]
    assert lock == {"mode": "COMPLIANCE", "days": 3000}
    assert run.named("log-archive-lifecycle").inputs["rules"][0]["expiration"]["days"] == 3000


def test_retention_below_hipaa_is_rejected(tmp_path):
    project = make_project(tmp_path)
    with pytest.raises(Exception, match=r"securebase:logRetentionDays.*HIPAA customers \(medicorp-health\)"):
        run_baseline(project, logRetentionDays=365)


def test_log_archive_account_uses_assumed_role(tmp_path):
    archive = "444455556666"
    project = make_project(tmp_path)
    org = FakeIdentityOrganization(accounts={**bundled_accounts(), archive: "logs@provider.example"})
    result = run_baseline(project, org, logArchiveAccountId=archive)
    run = result.run
    expected = f"arn:aws:iam::{archive}:role/{ROLE}"
    for resource in run.resources:
        if resource.name.startswith("log-archive-") and resource.custom and resource.type != "pulumi:providers:aws":
            assert result.assumed_role_arn(resource) == expected, resource.urn
    assert run.named("log-archive-bucket").inputs["bucket"] == f"securebase-logs-{archive}-us-east-1"
    key_policy = json.loads(run.named("log-archive-key").inputs["policy"])
    admin = statements_by_sid(key_policy)["AllowKeyAccountAdministration"]
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{archive}:root"}
    assert result.provider_of(run.named("organization-trail-trail")) is None
    # The trail is still the management account's, so the policy names its prefix and ARN.
    statements = statements_by_sid(json.loads(run.named("log-archive-policy").inputs["policy"]))
    assert statements["AllowCloudTrailWriteManagementAccountLogs"]["Resource"].endswith(f"/AWSLogs/{MANAGEMENT}/*")


def test_log_archive_account_must_be_member(tmp_path):
    project = make_project(tmp_path)
    with pytest.raises(Exception, match=r"securebase:logArchiveAccountId.*not a member of organization"):
        run_baseline(project, logArchiveAccountId="999988887777")


def test_log_archive_account_not_a_customer(tmp_path):
    project = make_project(tmp_path)
    with pytest.raises(Exception, match=r"log-archive account is customer acme-finance's account"):
        run_baseline(project, logArchiveAccountId="222233334444")


def test_policy_size_limit_is_checked(tmp_path):
    project = make_project(tmp_path)
    quotas = {**DEFAULT_QUOTAS, "maxBucketPolicySize": 1024}
    with pytest.raises(Exception, match=r"log bucket policy .* above the limit of 1024"):
        run_baseline(project, quotas=quotas)


def test_config_aggregator_covers_organization(bundled):
    run = bundled.run
    aggregator = run.named("config-aggregator-aggregator")
    source = aggregator.inputs["organizationAggregationSource"]
    assert source["allRegions"] is True
    assert source["roleArn"] == run.named("config-aggregator-role").outputs["arn"]
    attachment = run.named("config-aggregator-role-policy")
    assert attachment.inputs["policyArn"].endswith("/AWSConfigRoleForOrganizations")
    assert run.of_type(ORGANIZATION)[0].urn in aggregator.all_dependencies


# Per-account baseline.


def test_baseline_uses_customer_account_provider(bundled):
    run = bundled.run
    accounts = customer_account_ids(bundled)
    checked = 0
    for key, account_id in accounts.items():
        expected = f"arn:aws:iam::{account_id}:role/{ROLE}"
        for resource in run.resources:
            if (
                resource.name.startswith(f"{key}-baseline-")
                and resource.custom
                and resource.type != "pulumi:providers:aws"
            ):
                assert bundled.assumed_role_arn(resource) == expected, f"{resource.urn} ({key})"
                checked += 1
    assert checked >= 3 * 9


def test_baseline_provider_region_is_home(bundled):
    for provider in bundled.run.of_type("pulumi:providers:aws"):
        if provider.name.endswith("-baseline-provider"):
            assert provider.inputs["region"] == "us-east-1", provider.urn


@pytest.mark.parametrize(
    "key, guardduty, security_hub",
    [("acme-finance", True, False), ("medicorp-health", True, True), ("federal-energy-board", True, True)],
)
def test_detective_controls_follow_framework(bundled, key, guardduty, security_hub):
    names = {resource.name for resource in bundled.run.resources}
    assert (f"{key}-baseline-guardduty" in names) is guardduty
    assert (f"{key}-baseline-security-hub" in names) is security_hub


def test_config_recorder_and_delivery(bundled):
    run = bundled.run
    key_arn = run.named("log-archive-key").outputs["arn"]
    recorder = run.named("acme-finance-baseline-config-recorder")
    assert recorder.inputs["name"] == "acme-recorder"
    assert recorder.inputs["recordingGroup"]["allSupported"] is True
    assert recorder.inputs["recordingGroup"]["includeGlobalResourceTypes"] is True
    channel = run.named("acme-finance-baseline-config-delivery")
    assert channel.inputs["s3BucketName"] == BUCKET
    assert channel.inputs["s3KmsKeyArn"] == key_arn
    assert recorder.urn in channel.all_dependencies
    assert run.named("log-archive-policy").urn in channel.all_dependencies
    status = run.named("acme-finance-baseline-config-recorder-status")
    assert status.inputs["isEnabled"] is True
    assert channel.urn in status.all_dependencies


def test_account_controls(bundled):
    run = bundled.run
    password = run.named("medicorp-health-baseline-password-policy").inputs
    assert password["minimumPasswordLength"] >= 14
    assert password["passwordReusePrevention"] == 24
    assert password["maxPasswordAge"] == 90
    for flag in ("requireLowercaseCharacters", "requireUppercaseCharacters", "requireNumbers", "requireSymbols"):
        assert password[flag] is True, flag
    assert run.named("medicorp-health-baseline-ebs-encryption").inputs["enabled"] is True
    block = run.named("medicorp-health-baseline-s3-public-access-block").inputs
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block[flag] is True, flag


def test_baseline_outputs_exported(bundled):
    outputs = bundled.run.outputs["securityBaseline"]
    assert outputs["logBucket"] == BUCKET
    assert outputs["trailArn"] == TRAIL_ARN
    assert outputs["customers"]["acme-finance"]["securityHub"] is False
    assert bundled.run.outputs["customers"]["acme-finance"]["accountId"] == "222233334444"


def test_key_and_bucket_policy_types(bundled):
    assert len(bundled.run.of_type(BUCKET_POLICY)) == 1
    assert len(bundled.run.of_type(KMS_KEY)) == 1
    assert len(bundled.run.of_type(TRAIL)) == 1


def test_invalid_baseline_registers_nothing(tmp_path):
    project = make_project(tmp_path)
    captured = []

    class Recording(FakeIdentityOrganization):
        def new_resource(self, args):
            captured.append(args.typ)
            return super().new_resource(args)

    org = Recording(accounts=bundled_accounts())
    with pytest.raises(Exception, match=r"logRetentionDays"):
        run_baseline(project, org, logRetentionDays=30)
    assert captured == []


@pytest.mark.parametrize(
    "key, value, field",
    [
        ("logArchiveAccountId", "12345", "securebase:logArchiveAccountId"),
        ("logRetentionDays", 0, "securebase:logRetentionDays"),
        ("logObjectLockMode", "FOREVER", "securebase:logObjectLockMode"),
        ("logBucketName", "Logs_Bucket", "securebase:logBucketName"),
        ("trailName", "x", "securebase:trailName"),
        ("identityStoreId", "store-1", "securebase:identityStoreId"),
        ("accessSessionDuration", "PT13H", "securebase:accessSessionDuration"),
        ("quotas", {"maxBucketPolicySize": 10}, "securebase:quotas.maxBucketPolicySize"),
    ],
)
def test_invalid_baseline_setting_rejected(key, value, field):
    values = {"rootEmailMailbox": "aws-accounts@securebase-provider.example", key: value}
    with pytest.raises(SettingsError) as raised:
        settings_from_mapping(values, "Pulumi.dev.yaml")
    assert [problem.field for problem in raised.value.problems] == [field]


def test_baseline_settings_defaults():
    settings = settings_from_mapping({"rootEmailMailbox": "aws-accounts@securebase-provider.example"}, "test")
    assert settings.log_retention_days == 2557
    assert settings.log_object_lock_mode is None
    assert settings.log_archive_account_id is None
    assert settings.trail_name == "securebase-org-trail"
    assert settings.access_session_duration == "PT1H"
    assert settings.quotas.max_bucket_policy_size == 20480
    assert settings.quotas.max_key_policy_size == 32768


# In-process moto: the baseline applied through the emulator handlers, then checked.


class MotoOrganization(FakeIdentityOrganization):
    """Landing-zone resources from the fake, baseline resources and Identity Center reads from moto."""

    clients: Any = None

    def new_resource(self, args):
        handler = HANDLERS.get(args.typ)
        if handler is not None:
            return handler(args, self.clients)
        return super().new_resource(args)

    def call(self, args):
        answer = answer_identity_invoke(args, self.clients)
        if answer is not None:
            return answer
        return super().call(args)


@pytest.fixture(scope="class")
def moto_session():
    """A moto management account in us-east-1 with fake credentials; the environment is restored after."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        for key, value in MOTO_ENVIRONMENT.items():
            monkeypatch.setenv(key, value)
        for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
            monkeypatch.delenv(key, raising=False)
        with mock_aws():
            yield boto3.session.Session(region_name="us-east-1")


@pytest.fixture(scope="class")
def moto_landing_zone(tmp_path_factory, moto_session):
    """Three adopted customers whose accounts exist in moto, with the baseline applied to moto.

    Class-scoped because loading AWS managed policies into moto takes seconds per
    account; tests that change AWS state undo the change before they end.
    """
    organizations = moto_session.client("organizations")
    organization = organizations.create_organization(FeatureSet="ALL")["Organization"]
    customers = {}
    accounts = {}
    for index, (tier, framework) in enumerate(
        [("fintech", "soc2"), ("healthcare", "hipaa"), ("gov-federal", "fedramp-moderate")]
    ):
        key = f"customer-{index}"
        email = f"aws-accounts+{key}@securebase-provider.example"
        status = organizations.create_account(Email=email, AccountName=key)["CreateAccountStatus"]
        accounts[status["AccountId"]] = email
        customers[key] = {
            "name": f"Customer {index}",
            "tier": tier,
            "framework": framework,
            "account_id": status["AccountId"],
            "prefix": f"cust{index}",
            "contact_email": f"Contact@Customer-{index}.example",
        }
    project = make_project(tmp_path_factory.mktemp("moto"), customers)
    org = MotoOrganization(
        accounts=accounts,
        organization_id=organization["Id"],
        management_account_id=organization["MasterAccountId"],
    )
    org.clients = MotoClients(moto_session, ROLE)
    result = run_baseline(project, org)
    settings = settings_from_mapping({"rootEmailMailbox": "aws-accounts@securebase-provider.example"}, "test")
    config = load_landing_zone(settings, project)
    return result, config, org.clients


class TestMotoDeployment:
    """The bundled baseline applied to one moto organization, then checked and changed."""

    def test_moto_baseline_passes_checks(self, moto_landing_zone):
        _, config, clients = moto_landing_zone
        for check in (
            check_trail_logs_every_account,
            check_config_recording_every_account,
            check_contact_access_isolated,
        ):
            results = check(clients.session, config)
            assert [result.customer for result in results] == ["customer-0", "customer-1", "customer-2"]
            for result in results:
                assert result.status == "PASS", f"{result.check_id} {result.customer}: {result.detail}"

    def test_moto_bucket_and_trail_state(self, moto_landing_zone, moto_session):
        result, config, clients = moto_landing_zone
        bucket = result.run.named("log-archive-bucket").id
        s3 = moto_session.client("s3")
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        assert "AllowCloudTrailWriteOrganizationLogs" in statements_by_sid(policy)
        for account_id in (customer.account_id for customer in config.customers):
            block = clients("s3control", account_id).get_public_access_block(AccountId=account_id)
            assert block["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True, account_id
            assert clients("ec2", account_id).get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is True
            assert (
                clients("iam", account_id).get_account_password_policy()["PasswordPolicy"]["MinimumPasswordLength"]
                == 14
            )

    def test_moto_stopped_recorder_fails(self, moto_landing_zone):
        _, config, clients = moto_landing_zone
        account_id = config.customers[1].account_id
        config_client = clients("config", account_id)
        config_client.stop_configuration_recorder(ConfigurationRecorderName="cust1-recorder")
        try:
            results = {
                result.customer: result for result in check_config_recording_every_account(clients.session, config)
            }
        finally:
            config_client.start_configuration_recorder(ConfigurationRecorderName="cust1-recorder")
        assert results["customer-1"].status == "FAIL"
        assert "recorder cust1-recorder is not recording" in results["customer-1"].detail
        assert results["customer-0"].status == "PASS"

    def test_moto_cross_customer_assignment_fails(self, moto_landing_zone):
        result, config, clients = moto_landing_zone
        assignment = result.run.named("identity-center-customer-0-assignment").inputs
        other_account = config.customers[2].account_id
        cross_assignment = {
            "InstanceArn": assignment["instanceArn"],
            "TargetId": other_account,
            "TargetType": "AWS_ACCOUNT",
            "PermissionSetArn": assignment["permissionSetArn"],
            "PrincipalType": "GROUP",
            "PrincipalId": assignment["principalId"],
        }
        sso = clients("sso-admin")
        sso.create_account_assignment(**cross_assignment)
        try:
            results = {result.customer: result for result in check_contact_access_isolated(clients.session, config)}
        finally:
            sso.delete_account_assignment(**cross_assignment)
        assert results["customer-0"].status == "FAIL"
        assert f"access to customer-2's account {other_account}" in results["customer-0"].detail
        assert results["customer-1"].status == "PASS"

    def test_moto_contacts_created_once_in_lowercase(self, moto_landing_zone):
        result, config, clients = moto_landing_zone
        store_id = result.run.outputs["securityBaseline"]["identityStoreId"]
        users = clients("identitystore").list_users(IdentityStoreId=store_id)["Users"]
        assert sorted(user["UserName"] for user in users) == [
            "contact@customer-0.example",
            "contact@customer-1.example",
            "contact@customer-2.example",
        ]

    def test_moto_lookup_finds_created_user(self, moto_landing_zone):
        result, config, clients = moto_landing_zone
        store_id = result.run.outputs["securityBaseline"]["identityStoreId"]
        request = SimpleNamespace(
            token="aws:identitystore/getUser:getUser",
            args={
                "identityStoreId": store_id,
                "alternateIdentifier": {
                    "uniqueAttribute": {"attributePath": "UserName", "attributeValue": "contact@customer-1.example"}
                },
            },
        )
        answer = answer_identity_invoke(request, clients)
        assert answer["userName"] == "contact@customer-1.example"
        assert answer["userId"] == result.run.named("identity-center-customer-1-user").outputs["userId"]
        missing = SimpleNamespace(
            token=request.token,
            args={
                **request.args,
                "alternateIdentifier": {
                    "uniqueAttribute": {"attributePath": "UserName", "attributeValue": "nobody@customer-1.example"}
                },
            },
        )
        state, failures = answer_identity_invoke(missing, clients)
        assert "ResourceNotFoundException" in failures[0][1]

    def test_moto_stopped_trail_fails(self, moto_landing_zone, moto_session):
        result, config, clients = moto_landing_zone
        cloudtrail = moto_session.client("cloudtrail")
        cloudtrail.stop_logging(Name="securebase-org-trail")
        try:
            results = check_trail_logs_every_account(clients.session, config)
        finally:
            cloudtrail.start_logging(Name="securebase-org-trail")
        assert {result.status for result in results} == {"FAIL"}
        assert "logging is stopped" in results[0].detail

    def test_moto_vended_account_found_by_email(self, moto_landing_zone):
        _, config, clients = moto_landing_zone
        # As for a vended customer: no account id in the file, root email in other letter case.
        vended = dataclasses.replace(
            config.customers[0], account_id=None, root_email=config.customers[0].root_email.upper()
        )
        vended_config = dataclasses.replace(config, customers=(vended, *config.customers[1:]))
        for check in (
            check_trail_logs_every_account,
            check_config_recording_every_account,
            check_contact_access_isolated,
        ):
            results = {result.customer: result for result in check(clients.session, vended_config)}
            assert results["customer-0"].status == "PASS", f"{check.__name__}: {results['customer-0'].detail}"

    def test_moto_unknown_customer_account_fails(self, moto_landing_zone):
        _, config, clients = moto_landing_zone
        missing = dataclasses.replace(config.customers[0], account_id=None, root_email="nobody@provider.example")
        missing_config = dataclasses.replace(config, customers=(missing, *config.customers[1:]))
        for check in (
            check_trail_logs_every_account,
            check_config_recording_every_account,
            check_contact_access_isolated,
        ):
            results = {result.customer: result for result in check(clients.session, missing_config)}
            assert results["customer-0"].status == "FAIL", check.__name__
            assert "no account found for root email nobody@provider.example" in results["customer-0"].detail
            assert results["customer-1"].status == "PASS", check.__name__

    def test_check_error_when_aws_unreadable(self, moto_landing_zone):
        _, config, _ = moto_landing_zone

        def denied_session(account_id):
            """Return a session whose Organizations client rejects DescribeOrganization as AWS does without rights."""
            client = boto3.session.Session(region_name="us-east-1").client("organizations")
            stubber = Stubber(client)
            stubber.add_client_error("describe_organization", "AccessDeniedException", "not authorized")
            stubber.activate()
            return SimpleNamespace(client=lambda service: client, region_name="us-east-1")

        for check in (
            check_trail_logs_every_account,
            check_config_recording_every_account,
            check_contact_access_isolated,
        ):
            results = check(denied_session, config)
            assert {result.status for result in results} == {"ERROR"}, check.__name__
            assert "AccessDeniedException" in results[0].detail

    def test_missing_managed_policy_still_fails(self, moto_landing_zone):
        _, _, clients = moto_landing_zone
        permission_set = clients("sso-admin").list_permission_sets(
            InstanceArn=clients("sso-admin").list_instances()["Instances"][0]["InstanceArn"]
        )["PermissionSets"][0]
        args = SimpleNamespace(
            provider="",
            inputs={
                "instanceArn": permission_set.split("/ps-")[0],
                "permissionSetArn": permission_set,
                "managedPolicyArn": "arn:aws:iam::aws:policy/job-function/NoSuchPolicy",
            },
        )
        with pytest.raises(Exception, match="NoSuchEntity"):
            HANDLERS["aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment"](args, clients)


@pytest.fixture
def fresh_moto():
    """An empty moto with fake credentials, for a test that sets up its own organization."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        for key, value in MOTO_ENVIRONMENT.items():
            monkeypatch.setenv(key, value)
        for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
            monkeypatch.delenv(key, raising=False)
        with mock_aws():
            yield


def test_emulator_hook_deploys_and_checks(fresh_moto, tmp_path):
    """The bundled project through OrganizationEmulator with the baseline handlers, checked, then run again."""
    from securebase.cli import load_project, organization_seed
    from securebase.offline.emulator import OrganizationEmulator, emulator_client, seed_organization
    from securebase.offline.emulator_baseline import OPERATIONS_KEY, call_handlers, resource_handlers
    from securebase.offline.runtime import run_program
    from tests.support import REPO
    from tests.support_baseline import baseline_program

    project_dir = make_project(tmp_path)
    (project_dir / "Pulumi.dev.yaml").write_text((REPO / "Pulumi.dev.yaml").read_text())
    project = load_project(project_dir, "dev")
    client = emulator_client()
    seed_organization(client, organization_seed(project, scp_enabled=True))
    clients = MotoClients.fake(ROLE, "us-east-1")

    def deploy() -> dict[tuple[str, str], list[str]]:
        """Run the program once and return the AWS calls that changed state, by resource."""
        writes: dict[tuple[str, str], list[str]] = {}

        def capture(handler):
            def run(args):
                resource_id, state = handler(args)
                writes[(args.typ, args.name)] = state[OPERATIONS_KEY]
                return resource_id, state

            return run

        extra = {type_token: capture(handler) for type_token, handler in resource_handlers(clients).items()}
        emulator = OrganizationEmulator(client, extra_resources=extra, extra_calls=call_handlers(clients))
        recorded = run_program(lambda: baseline_program(project_dir), mocks=emulator, config=project.stack_config)
        assert emulator.failures == []
        assert recorded.outputs["securityBaseline"]["trailArn"].endswith(":trail/securebase-org-trail")
        return writes

    first = deploy()
    assert first[("aws:s3/bucket:Bucket", "log-archive-bucket")] == ["CreateBucket"]
    assert first[("aws:cloudtrail/trail:Trail", "organization-trail-trail")] == ["CreateTrail", "StartLogging"]
    assert first[("aws:identitystore/group:Group", "identity-center-acme-finance-group")] == ["CreateGroup"]
    for check in (check_trail_logs_every_account, check_config_recording_every_account, check_contact_access_isolated):
        results = check(clients.session, project.config)
        assert len(results) == 3, check.__name__
        for result in results:
            assert result.status == "PASS", f"{result.check_id} {result.customer}: {result.detail}"

    # A second run against the same organization reuses everything instead of failing or duplicating.
    second = deploy()
    creates = {key: calls for key, calls in second.items() if any(call.startswith("Create") for call in calls)}
    assert creates == {}
    store_id = clients("sso-admin").list_instances()["Instances"][0]["IdentityStoreId"]
    identity = clients("identitystore")
    assert len(identity.list_users(IdentityStoreId=store_id)["Users"]) == 3
    assert len(identity.list_groups(IdentityStoreId=store_id)["Groups"]) == 3
    assert len(clients("cloudtrail").describe_trails()["trailList"]) == 1
    assert len(clients("kms").list_keys()["Keys"]) == 1
    for customer in project.config.customers:
        account_id = customer.account_id or _account_by_email(clients, customer.root_email)
        assert len(clients("guardduty", account_id).list_detectors()["DetectorIds"]) == 1, customer.key
    assert all(result.status == "PASS" for result in check_contact_access_isolated(clients.session, project.config))


def _account_by_email(clients, email: str) -> str:
    accounts = clients("organizations").list_accounts()["Accounts"]
    return next(account["Id"] for account in accounts if account["Email"].lower() == email.lower())
