"""Checks that the security baseline works in AWS: trail, Config recording and contact access.

Each check takes a session factory and the validated configuration and returns one
result per customer. The factory returns a boto3 session in the given account, or
in the management account for None; sessions into customer accounts assume the
platform role. A check that cannot read what it needs reports ERROR, never PASS.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from securebase.checks.results import CheckResult
from securebase.components.identity_center import user_name_for
from securebase.customers import Customer
from securebase.security_baseline import log_bucket_name_for
from securebase.validation import LandingZoneConfig

logger = logging.getLogger("securebase")

SessionFactory = Callable[[str | None], boto3.session.Session]
AWS_ERRORS = (ClientError, BotoCoreError)

TRAIL_CHECK = "trail.logs-every-account"
TRAIL_TITLE = "CloudTrail logs every customer account to the central bucket"
CONFIG_CHECK = "config.recording-every-account"
CONFIG_TITLE = "Config records in every customer account"
ACCESS_CHECK = "identity.contact-access-isolated"
ACCESS_TITLE = "Each contact has access to their own account and to no other"


@dataclass(frozen=True)
class _Organization:
    id: str
    management_account_id: str
    active_accounts: frozenset[str]
    account_ids: dict[str, str | None]  # customer key -> account id, None when not found


def _read_organization(session: boto3.session.Session, config: LandingZoneConfig) -> _Organization:
    """Read the organization and find each customer's account: by account_id, else by root email."""
    client = session.client("organizations")
    description = client.describe_organization()["Organization"]
    accounts = []
    for page in client.get_paginator("list_accounts").paginate():
        accounts += page["Accounts"]
    by_email = {account["Email"].lower(): account["Id"] for account in accounts}
    account_ids = {
        customer.key: customer.account_id or by_email.get(customer.root_email.lower()) for customer in config.customers
    }
    return _Organization(
        id=description["Id"],
        management_account_id=description["MasterAccountId"],
        active_accounts=frozenset(account["Id"] for account in accounts if account["Status"] == "ACTIVE"),
        account_ids=account_ids,
    )


def _error_results(check_id: str, title: str, config: LandingZoneConfig, error: Exception) -> list[CheckResult]:
    logger.error("check %s could not run: %s", check_id, error)
    return [
        CheckResult(check_id, title, "ERROR", f"could not read AWS: {error}", customer=customer.key)
        for customer in config.customers
    ]


def check_trail_logs_every_account(session_for: SessionFactory, config: LandingZoneConfig) -> list[CheckResult]:
    """Check that the organization trail is logging, multi-region and writes to the central bucket.

    An organization trail logs every member account, so a customer passes when the
    trail is sound and its account is an active member of the organization.
    """
    session = session_for(None)
    trail_name = config.settings.trail_name
    try:
        organization = _read_organization(session, config)
        cloudtrail = session.client("cloudtrail")
        trails = cloudtrail.describe_trails(trailNameList=[trail_name], includeShadowTrails=False)["trailList"]
        status = cloudtrail.get_trail_status(Name=trails[0]["TrailARN"]) if trails else {}
    except AWS_ERRORS as error:
        return _error_results(TRAIL_CHECK, TRAIL_TITLE, config, error)

    expected_bucket = log_bucket_name_for(config.settings, organization.management_account_id, session.region_name)
    problems = []
    if not trails:
        problems.append(f"trail {trail_name} not found in the management account")
    else:
        trail = trails[0]
        if not trail.get("IsOrganizationTrail"):
            problems.append("it is not an organization trail")
        if not trail.get("IsMultiRegionTrail"):
            problems.append("it is not multi-region")
        if not trail.get("LogFileValidationEnabled"):
            problems.append("log file validation is off")
        if not trail.get("KmsKeyId"):
            problems.append("logs are not encrypted with a KMS key")
        if trail.get("S3BucketName") != expected_bucket:
            problems.append(f"it writes to bucket {trail.get('S3BucketName')!r}, not {expected_bucket!r}")
        if not status.get("IsLogging"):
            problems.append("logging is stopped")
    resource = trails[0]["TrailARN"] if trails else trail_name

    results = []
    for customer in config.customers:
        account_id = organization.account_ids[customer.key]
        customer_problems = list(problems)
        if account_id is None:
            customer_problems.append(f"no account found for root email {customer.root_email}")
        elif account_id not in organization.active_accounts:
            customer_problems.append(f"account {account_id} is not an active member of {organization.id}")
        if customer_problems:
            detail = f"trail {trail_name}: " + "; ".join(customer_problems)
            results.append(CheckResult(TRAIL_CHECK, TRAIL_TITLE, "FAIL", detail, customer.key, resource))
        else:
            detail = f"organization trail {trail_name} logs account {account_id} to {expected_bucket}"
            results.append(CheckResult(TRAIL_CHECK, TRAIL_TITLE, "PASS", detail, customer.key, resource))
    return results


def check_config_recording_every_account(session_for: SessionFactory, config: LandingZoneConfig) -> list[CheckResult]:
    """Check in each customer account that a recorder records all resources and delivers to the central bucket."""
    management = session_for(None)
    try:
        organization = _read_organization(management, config)
    except AWS_ERRORS as error:
        return _error_results(CONFIG_CHECK, CONFIG_TITLE, config, error)
    expected_bucket = log_bucket_name_for(config.settings, organization.management_account_id, management.region_name)

    results = []
    for customer in config.customers:
        account_id = organization.account_ids[customer.key]
        if account_id is None:
            detail = f"no account found for root email {customer.root_email}"
            results.append(CheckResult(CONFIG_CHECK, CONFIG_TITLE, "FAIL", detail, customer.key))
            continue
        try:
            results.append(_config_result(session_for(account_id), customer, account_id, expected_bucket))
        except AWS_ERRORS as error:
            logger.error("check %s could not read account %s: %s", CONFIG_CHECK, account_id, error)
            detail = f"could not read AWS Config in account {account_id}: {error}"
            results.append(CheckResult(CONFIG_CHECK, CONFIG_TITLE, "ERROR", detail, customer.key, account_id))
    return results


def _config_result(
    session: boto3.session.Session, customer: Customer, account_id: str, expected_bucket: str
) -> CheckResult:
    client = session.client("config")
    recorders = client.describe_configuration_recorders()["ConfigurationRecorders"]
    statuses = {
        status["name"]: status
        for status in client.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    }
    channels = client.describe_delivery_channels()["DeliveryChannels"]

    problems = []
    if not recorders:
        problems.append("no configuration recorder")
    for recorder in recorders:
        group = recorder.get("recordingGroup", {})
        if not group.get("allSupported"):
            problems.append(f"recorder {recorder['name']} does not record all supported resource types")
        if not group.get("includeGlobalResourceTypes"):
            problems.append(f"recorder {recorder['name']} does not record global resources such as IAM")
        if not statuses.get(recorder["name"], {}).get("recording"):
            problems.append(f"recorder {recorder['name']} is not recording")
    buckets = [channel.get("s3BucketName") for channel in channels]
    if expected_bucket not in buckets:
        problems.append(f"no delivery channel to {expected_bucket} (channels deliver to {buckets or 'nothing'})")

    if problems:
        return CheckResult(CONFIG_CHECK, CONFIG_TITLE, "FAIL", "; ".join(problems), customer.key, account_id)
    detail = f"recorder {recorders[0]['name']} is recording and delivers to {expected_bucket}"
    return CheckResult(CONFIG_CHECK, CONFIG_TITLE, "PASS", detail, customer.key, account_id)


def check_contact_access_isolated(session_for: SessionFactory, config: LandingZoneConfig) -> list[CheckResult]:
    """Check that each contact reaches their own account and no other customer's account.

    A contact reaches an account when an account assignment there names their user
    or a group they belong to, under any permission set of the instance.
    """
    session = session_for(None)
    try:
        organization = _read_organization(session, config)
        instance = _instance(session, config)
        if instance is None:
            error = "IAM Identity Center has no instance; enable it or set securebase:identityCenterInstanceArn"
            return [
                CheckResult(ACCESS_CHECK, ACCESS_TITLE, "ERROR", error, customer=customer.key)
                for customer in config.customers
            ]
        instance_arn, store_id = instance
        accounts = {account for account in organization.account_ids.values() if account}
        principals_by_account = _assigned_principals(session.client("sso-admin"), instance_arn, accounts)
        identity = session.client("identitystore")
        contact_principals = {
            customer.key: _contact_principals(identity, store_id, customer.contact_email)
            for customer in config.customers
        }
    except AWS_ERRORS as error:
        return _error_results(ACCESS_CHECK, ACCESS_TITLE, config, error)

    results = []
    for customer in config.customers:
        account_id = organization.account_ids[customer.key]
        principals = contact_principals[customer.key]
        problems = []
        if principals is None:
            problems.append(f"no Identity Center user named {user_name_for(customer.contact_email)}")
        elif account_id is None:
            problems.append(f"no account found for root email {customer.root_email}")
        else:
            if not principals & principals_by_account.get(account_id, set()):
                problems.append(f"the contact has no access to their account {account_id}")
            for other in config.customers:
                other_account = organization.account_ids[other.key]
                if other.key == customer.key or other_account is None or other_account == account_id:
                    continue
                if principals & principals_by_account.get(other_account, set()):
                    problems.append(f"the contact has access to {other.key}'s account {other_account}")

        if problems:
            detail = f"{customer.contact_email}: " + "; ".join(problems)
            results.append(CheckResult(ACCESS_CHECK, ACCESS_TITLE, "FAIL", detail, customer.key, account_id or ""))
        else:
            detail = f"{customer.contact_email} has access to account {account_id} only, among customer accounts"
            results.append(CheckResult(ACCESS_CHECK, ACCESS_TITLE, "PASS", detail, customer.key, account_id or ""))
    return results


def _instance(session: boto3.session.Session, config: LandingZoneConfig) -> tuple[str, str] | None:
    settings = config.settings
    if settings.identity_center_instance_arn and settings.identity_store_id:
        return settings.identity_center_instance_arn, settings.identity_store_id
    instances = session.client("sso-admin").list_instances()["Instances"]
    if not instances:
        return None
    return instances[0]["InstanceArn"], instances[0]["IdentityStoreId"]


def _assigned_principals(sso: Any, instance_arn: str, account_ids: set[str]) -> dict[str, set[str]]:
    """Return the user and group ids assigned to each account, under every permission set of the instance."""
    permission_sets = []
    for page in sso.get_paginator("list_permission_sets").paginate(InstanceArn=instance_arn):
        permission_sets += page["PermissionSets"]
    principals: dict[str, set[str]] = defaultdict(set)
    for account_id in sorted(account_ids):
        for permission_set in permission_sets:
            pages = sso.get_paginator("list_account_assignments").paginate(
                InstanceArn=instance_arn, AccountId=account_id, PermissionSetArn=permission_set
            )
            for page in pages:
                principals[account_id].update(assignment["PrincipalId"] for assignment in page["AccountAssignments"])
    return principals


def _contact_principals(identity: Any, store_id: str, email: str) -> set[str] | None:
    """Return the contact's user id and the ids of the groups they belong to, or None without a user."""
    user_id = None
    for spelling in dict.fromkeys([user_name_for(email), email.strip()]):
        try:
            user_id = identity.get_user_id(
                IdentityStoreId=store_id,
                AlternateIdentifier={"UniqueAttribute": {"AttributePath": "UserName", "AttributeValue": spelling}},
            )["UserId"]
            break
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
    if user_id is None:
        # Same choice as the program makes among users whose names differ only in case.
        matches = []
        for page in identity.get_paginator("list_users").paginate(IdentityStoreId=store_id):
            matches += [user for user in page["Users"] if user["UserName"].lower() == user_name_for(email)]
        exact = [user for user in matches if user["UserName"] == email.strip()]
        ordered = exact or sorted(matches, key=lambda user: (user["UserName"], user["UserId"]))
        user_id = ordered[0]["UserId"] if ordered else None
    if user_id is None:
        return None
    principals = {user_id}
    pages = identity.get_paginator("list_group_memberships_for_member").paginate(
        IdentityStoreId=store_id, MemberId={"UserId": user_id}
    )
    for page in pages:
        principals.update(membership["GroupId"] for membership in page["GroupMemberships"])
    return principals


def _in_checklist(
    function: Callable[[SessionFactory, LandingZoneConfig], list[CheckResult]], check_id: str, title: str
):
    """Adapt a baseline check to the verify checklist: it runs on the selected customers only."""

    def run(context: Any) -> list[CheckResult]:
        selected = {customer.key for customer in context.customers}
        if context.session_for is None:
            return [
                CheckResult(check_id, title, "ERROR", "no AWS session was given for this check", customer=key)
                for key in sorted(selected)
            ]
        return [result for result in function(context.session_for, context.config) if result.customer in selected]

    run.check_id = check_id  # type: ignore[attr-defined]
    run.title = title  # type: ignore[attr-defined]
    run.__name__ = function.__name__
    return run


BASELINE_CHECKS = (
    _in_checklist(check_trail_logs_every_account, TRAIL_CHECK, TRAIL_TITLE),
    _in_checklist(check_config_recording_every_account, CONFIG_CHECK, CONFIG_TITLE),
    _in_checklist(check_contact_access_isolated, ACCESS_CHECK, ACCESS_TITLE),
)
