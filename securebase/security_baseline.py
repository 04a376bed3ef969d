"""Build the security baseline on top of the landing zone.

Organization level: the central log bucket and key (in the management account or a
log-archive account), the organization trail and an organization Config aggregator.
Per customer account: an AccountBaseline. Identity Center: each contact's user,
group and read-only assignment to their own account.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from securebase.components.account_baseline import AccountBaseline, AccountBaselineArgs, DetectiveControls, role_arn
from securebase.components.config_aggregator import OrganizationConfigAggregator, OrganizationConfigAggregatorArgs
from securebase.components.identity_center import (
    ContactAccess,
    ExistingUser,
    IdentityCenterAccess,
    IdentityCenterAccessArgs,
    IdentityCenterError,
    IdentityCenterInstance,
    find_existing_users,
    read_instance,
    user_name_for,
)
from securebase.components.log_archive import (
    LogArchive,
    LogArchiveArgs,
    bucket_policy_document,
    key_policy_document,
    minified,
    trail_arn,
)
from securebase.components.organization_trail import OrganizationTrail, OrganizationTrailArgs
from securebase.landing_zone import LandingZone
from securebase.problems import ConfigurationError, Problem
from securebase.settings import Settings
from securebase.validation import LandingZoneConfig

# Threat detection each framework calls for. HIPAA (164.308(a)(1)(ii)(D) and
# 164.308(a)(6)) and FedRAMP Moderate (SI-4, IR-4) need monitoring and a findings
# view, so both get GuardDuty and Security Hub. SOC 2 (CC7.2) needs anomaly
# detection, which GuardDuty gives. A framework missing here gets both.
FRAMEWORK_DETECTIVE_CONTROLS = {
    "soc2": DetectiveControls(guardduty=True, security_hub=False),
    "hipaa": DetectiveControls(guardduty=True, security_hub=True),
    "fedramp-moderate": DetectiveControls(guardduty=True, security_hub=True),
}
DEFAULT_DETECTIVE_CONTROLS = DetectiveControls(guardduty=True, security_hub=True)
# HIPAA keeps required documentation for 6 years from creation or last effective
# date (45 CFR 164.316(b)(2)(i)); 6 x 365 days plus 2 leap days.
HIPAA_RETENTION_DAYS = 2192
AGGREGATOR_NAME = "securebase-organization"
AGGREGATOR_ROLE_NAME = "securebase-config-aggregator"


@dataclass
class SecurityBaseline:
    """The registered security components, with per-customer ones by customer key."""

    log_archive: LogArchive
    trail: OrganizationTrail
    aggregator: OrganizationConfigAggregator
    identity: IdentityCenterAccess
    accounts: dict[str, AccountBaseline] = field(default_factory=dict)


def home_region() -> str | None:
    """Return the stack's aws:region, where the trail, bucket and Config recorders live."""
    return pulumi.Config("aws").get("region")


def log_archive_account_id(config: LandingZoneConfig) -> str:
    """Return the log-archive account id: the setting, else the management account."""
    assert config.organization is not None, "read the organization before building"
    return config.settings.log_archive_account_id or config.organization.management_account_id


def log_bucket_name_for(settings: Settings, management_account_id: str, region: str) -> str:
    """Return the central log bucket's name: the setting, or securebase-logs-<log archive account>-<region>."""
    if settings.log_bucket_name:
        return settings.log_bucket_name
    return f"securebase-logs-{settings.log_archive_account_id or management_account_id}-{region}"


def log_bucket_name(config: LandingZoneConfig, region: str) -> str:
    """Return the central log bucket's name for a configuration read with its organization."""
    assert config.organization is not None, "read the organization before building"
    return log_bucket_name_for(config.settings, config.organization.management_account_id, region)


def detective_controls(framework: str) -> DetectiveControls:
    """Return the threat detection services a framework calls for."""
    return FRAMEWORK_DETECTIVE_CONTROLS.get(framework, DEFAULT_DETECTIVE_CONTROLS)


def check_security_baseline(config: LandingZoneConfig, region: str | None) -> list[Problem]:
    """Check the baseline's settings and AWS's policy size limits before anything is registered."""
    assert config.organization is not None, "read the organization before checking"
    settings = config.settings
    problems: list[Problem] = []
    if not region:
        problems.append(
            Problem(
                source="stack settings",
                field="aws:region",
                rule="the security baseline needs the stack's region for the trail, log bucket and Config",
                fix="run `pulumi config set aws:region <region>`, e.g. us-east-1",
            )
        )
        region = "us-east-1"

    hipaa = [customer.key for customer in config.customers if customer.framework == "hipaa"]
    if hipaa and settings.log_retention_days < HIPAA_RETENTION_DAYS:
        problems.append(
            Problem(
                source="stack settings",
                field="securebase:logRetentionDays",
                value=settings.log_retention_days,
                rule=f"HIPAA customers ({', '.join(hipaa)}) need logs kept at least {HIPAA_RETENTION_DAYS} days "
                "(6 years)",
                fix=f"set securebase:logRetentionDays to {HIPAA_RETENTION_DAYS} or more; the default is 2557 (7 years)",
            )
        )

    archive = settings.log_archive_account_id
    customer_accounts = {customer.account_id: customer for customer in config.customers if customer.account_id}
    if archive and archive in customer_accounts:
        problems.append(
            Problem(
                source="stack settings",
                field="securebase:logArchiveAccountId",
                value=archive,
                rule=f"the log-archive account is customer {customer_accounts[archive].key}'s account",
                fix="use an account of the provider that no customer can reach",
            )
        )
    elif (
        archive and archive not in config.organization.accounts and archive != config.organization.management_account_id
    ):
        problems.append(
            Problem(
                source="stack settings",
                field="securebase:logArchiveAccountId",
                value=archive,
                rule=f"account is not a member of organization {config.organization.id}",
                fix="give an account of the organization, or remove the setting to keep logs in the management account",
            )
        )

    problems += _check_policy_sizes(config, region)
    return problems


def _check_policy_sizes(config: LandingZoneConfig, region: str) -> list[Problem]:
    """Render both policies and compare their size with AWS's limits."""
    assert config.organization is not None
    quotas = config.settings.quotas
    arn = trail_arn(region, config.organization.management_account_id, config.settings.trail_name)
    bucket_policy = minified(
        bucket_policy_document(
            log_bucket_name(config, region),
            management_account_id=config.organization.management_account_id,
            organization_id=config.organization.id,
            trail_arn=arn,
        )
    )
    key_policy = minified(
        key_policy_document(
            key_account_id=log_archive_account_id(config),
            management_account_id=config.organization.management_account_id,
            organization_id=config.organization.id,
            trail_arn=arn,
        )
    )
    problems = []
    for label, size, limit, quota_field in (
        ("log bucket policy", len(bucket_policy), quotas.max_bucket_policy_size, "maxBucketPolicySize"),
        ("log key policy", len(key_policy), quotas.max_key_policy_size, "maxKeyPolicySize"),
    ):
        if size > limit:
            problems.append(
                Problem(
                    source="stack settings",
                    field=f"securebase:quotas.{quota_field}",
                    value=limit,
                    rule=f"the {label} would be {size} characters, above the limit of {limit}",
                    fix=f"raise securebase:quotas.{quota_field} to the limit AWS enforces",
                )
            )
    return problems


def read_identity_center(config: LandingZoneConfig) -> tuple[IdentityCenterInstance, dict[str, ExistingUser]]:
    """Read the Identity Center instance and each contact's existing user; raises IdentityCenterError."""
    settings = config.settings
    instance = read_instance(settings.identity_center_instance_arn, settings.identity_store_id)
    emails = [customer.contact_email for customer in config.customers]
    return instance, find_existing_users(instance.identity_store_id, emails)


@dataclass(frozen=True)
class BaselineReads:
    """Region and Identity Center state, read after the baseline's checks pass and before registration."""

    region: str
    instance: IdentityCenterInstance
    existing_users: dict[str, ExistingUser]


def prepare_security_baseline(config: LandingZoneConfig) -> BaselineReads:
    """Check the baseline's settings and limits, then read Identity Center, all before any registration.

    Raises pulumi.RunError with every problem, or with the Identity Center failure.
    Call it before build_landing_zone so that invalid input registers nothing at all.
    """
    region = home_region()
    problems = check_security_baseline(config, region)
    if problems:
        raise pulumi.RunError(str(ConfigurationError(problems)))
    assert region is not None
    try:
        instance, existing_users = read_identity_center(config)
    except IdentityCenterError as error:
        raise pulumi.RunError(str(error)) from None
    return BaselineReads(region=region, instance=instance, existing_users=existing_users)


def build_security_baseline(config: LandingZoneConfig, zone: LandingZone, reads: BaselineReads) -> SecurityBaseline:
    """Register every security component on top of the landing zone and export their outputs.

    `reads` comes from prepare_security_baseline, which runs before anything is registered.
    """
    assert config.organization is not None, "read the organization before building"
    organization = config.organization
    settings = config.settings
    region, instance, existing_users = reads.region, reads.instance, reads.existing_users

    platform_tags = {"managed-by": settings.managed_by}
    archive_account = log_archive_account_id(config)
    arn = trail_arn(region, organization.management_account_id, settings.trail_name)

    log_archive = LogArchive(
        "log-archive",
        LogArchiveArgs(
            bucket_name=log_bucket_name(config, region),
            region=region,
            key_account_id=archive_account,
            management_account_id=organization.management_account_id,
            organization_id=organization.id,
            trail_arn=arn,
            retention_days=settings.log_retention_days,
            object_lock_mode=settings.log_object_lock_mode,
            tags=platform_tags,
            assume_role_arn=None
            if archive_account == organization.management_account_id
            else role_arn(archive_account, settings.platform_role_name),
        ),
    )
    trail = OrganizationTrail(
        "organization-trail",
        OrganizationTrailArgs(
            trail_name=settings.trail_name,
            bucket_name=log_archive.bucket_name,
            kms_key_arn=log_archive.key_arn,
            tags=platform_tags,
            depends_on=[log_archive.bucket_policy, log_archive.key, zone.foundation.organization],
        ),
    )
    aggregator = OrganizationConfigAggregator(
        "config-aggregator",
        OrganizationConfigAggregatorArgs(
            aggregator_name=AGGREGATOR_NAME,
            role_name=AGGREGATOR_ROLE_NAME,
            tags=platform_tags,
            depends_on=[zone.foundation.organization],
        ),
    )

    accounts: dict[str, AccountBaseline] = {}
    for customer in config.customers:
        accounts[customer.key] = AccountBaseline(
            f"{customer.key}-baseline",
            AccountBaselineArgs(
                prefix=customer.prefix,
                account_id=zone.accounts[customer.key].account.id,
                role_name=settings.platform_role_name,
                region=region,
                log_bucket_name=log_archive.bucket_name,
                log_key_arn=log_archive.key_arn,
                controls=detective_controls(customer.framework),
                tags={**platform_tags, "securebase:customer-key": customer.key},
                delivery_depends_on=[log_archive.bucket_policy, log_archive.key],
            ),
        )

    identity = IdentityCenterAccess(
        "identity-center",
        IdentityCenterAccessArgs(
            instance=instance,
            tiers=config.tiers_in_use,
            contacts=[
                ContactAccess(
                    customer_key=customer.key,
                    customer_name=customer.name,
                    tier=customer.tier,
                    contact_email=customer.contact_email,
                    account_id=zone.accounts[customer.key].account.id,
                    existing_user=existing_users.get(user_name_for(customer.contact_email)),
                )
                for customer in config.customers
            ],
            session_duration=settings.access_session_duration,
            tags=platform_tags,
        ),
    )
    baseline = SecurityBaseline(
        log_archive=log_archive, trail=trail, aggregator=aggregator, identity=identity, accounts=accounts
    )
    export_security_outputs(config, baseline, instance)
    return baseline


def export_security_outputs(
    config: LandingZoneConfig, baseline: SecurityBaseline, instance: IdentityCenterInstance
) -> None:
    """Export where logs go and what each customer's account and contact got."""
    customers = {}
    for customer in config.customers:
        controls = detective_controls(customer.framework)
        customers[customer.key] = {
            "guardduty": controls.guardduty,
            "securityHub": controls.security_hub,
            "contactUserName": user_name_for(customer.contact_email),
            "contactUserAdopted": customer.key in baseline.identity.adopted_users,
            "permissionSetArn": baseline.identity.permission_sets[customer.tier].arn,
        }
    pulumi.export(
        "securityBaseline",
        {
            "logBucket": baseline.log_archive.bucket_name,
            "logKeyArn": baseline.log_archive.key_arn,
            "logRetentionDays": config.settings.log_retention_days,
            "trailArn": baseline.trail.trail_arn,
            "configAggregator": AGGREGATOR_NAME,
            "identityCenterInstanceArn": instance.instance_arn,
            "identityStoreId": instance.identity_store_id,
            "customers": customers,
        },
    )
