"""Platform settings read from the Pulumi stack configuration (the `securebase:` namespace).

Every AWS quota the program enforces is a setting here, with the quota in force in
late 2026 as its default, so an operator whose limits were raised changes config
instead of code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from securebase.problems import Problem, problems_from_pydantic

CONFIG_NAMESPACE = "securebase"
OU_ID_PATTERN = r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$"
EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class _CamelModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class Quotas(_CamelModel):
    """AWS limits checked before any write, defaulting to the AWS Organizations quotas."""

    max_scps_per_target: int = Field(10, ge=1, description="SCPs attached to one root, OU or account.")
    max_scp_size: int = Field(10_240, ge=256, description="Characters in one SCP document as sent.")
    max_ou_depth: int = Field(5, ge=1, description="OU nesting levels under the root.")
    max_tags_per_resource: int = Field(50, ge=1)
    max_tag_key_length: int = Field(128, ge=1)
    max_tag_value_length: int = Field(256, ge=1)
    max_account_creations_in_progress: int = Field(5, ge=1)
    max_bucket_policy_size: int = Field(20_480, ge=1024, description="Characters in one S3 bucket policy.")
    max_key_policy_size: int = Field(32_768, ge=1024, description="Characters in one KMS key policy.")


class Settings(_CamelModel):
    """Platform settings shared by every customer of one stack."""

    customers_dir: str = Field("customers", description="Folder of customer files, relative to the project.")
    account_lock: str = Field(
        "accounts.lock.yaml",
        description="File that pins each vended account's root email, relative to the project.",
    )
    root_email_mailbox: str = Field(
        description=(
            "Provider mailbox that receives account root mail. A customer without root_email "
            "gets the plus-address LOCAL+<customer key>@DOMAIN of this mailbox."
        )
    )
    platform_role_name: str = Field(
        "OrganizationAccountAccessRole",
        pattern=r"^[\w+=,.@-]{1,64}$",
        description="Role the platform assumes in every customer account; guardrails exempt and protect it.",
    )
    billing_access: Literal["ALLOW", "DENY"] = Field(
        "DENY", description="Whether IAM users in a vended account may see its billing."
    )
    customers_ou_name: str = Field("Customers", min_length=1, max_length=128)
    customers_ou_id: str | None = Field(None, pattern=OU_ID_PATTERN, description="Adopt this OU as the customers OU.")
    customers_ou_depth: int = Field(1, ge=1, description="Level of the customers OU under the root.")
    tier_ou_ids: dict[str, str] = Field(default_factory=dict, description="Existing tier OUs to adopt, by tier.")
    managed_by: str = Field("securebase", description="Value of the managed-by tag.")
    guardrail_catalog_dir: str | None = Field(
        None, description="Folder of guardrail documents replacing the bundled catalog."
    )
    quotas: Quotas = Field(default_factory=Quotas)

    # Security baseline: organization trail, log archive, Config and Identity Center.
    log_archive_account_id: str | None = Field(
        None,
        pattern=r"^\d{12}$",
        description="Account of the central log bucket and its KMS key, reached through "
        "platformRoleName; default: the management account.",
    )
    log_bucket_name: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        description="Name of the central log bucket; default: securebase-logs-<log archive account id>-<region>.",
    )
    log_retention_days: int = Field(
        2557,
        ge=1,
        description="Days a log object is kept before the lifecycle rule deletes it. The default of 7 years "
        "(2,557 days) covers HIPAA's 6-year retention, counted from the day a record was last in effect.",
    )
    log_object_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] | None = Field(
        None,
        description="S3 Object Lock mode that keeps each log object for logRetentionDays; off by default. "
        "AWS enables Object Lock only when the bucket is created: switching it on later needs a new bucket, "
        "and the preview fails because the log bucket is protected.",
    )
    trail_name: str = Field(
        "securebase-org-trail", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$", description="Organization trail name."
    )
    identity_center_instance_arn: str | None = Field(
        None,
        pattern=r"^arn:aws[a-z-]*:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$",
        description="IAM Identity Center instance; default: the one instance ListInstances returns.",
    )
    identity_store_id: str | None = Field(
        None,
        pattern=r"^d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        description="Identity store of that instance; default: the one ListInstances returns.",
    )
    access_session_duration: str = Field(
        "PT1H",
        pattern=r"^PT([1-9]|1[0-2])H$",
        description="Session length of the contacts' permission sets, as ISO 8601 hours from PT1H to PT12H.",
    )

    @field_validator("root_email_mailbox")
    @classmethod
    def _check_mailbox(cls, value: str) -> str:
        if not EMAIL_PATTERN.match(value) or "+" in value.split("@")[0]:
            raise ValueError("must be an email address without a plus part, e.g. aws-accounts@provider.example")
        return value

    @field_validator("tier_ou_ids")
    @classmethod
    def _check_tier_ou_ids(cls, value: dict[str, str]) -> dict[str, str]:
        for tier, ou_id in value.items():
            if not re.match(OU_ID_PATTERN, ou_id):
                raise ValueError(f"{tier}: {ou_id!r} is not an OU id like ou-ab12-cd34ef56")
        return value

    def derived_root_email(self, customer_key: str) -> str:
        """Return the plus-address of the provider mailbox for one customer."""
        local, domain = self.root_email_mailbox.split("@", 1)
        return f"{local}+{customer_key}@{domain}"


class SettingsError(Exception):
    """Invalid stack settings, with every problem found."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems)
        self.problems = problems

    def __str__(self) -> str:
        lines = [f"{len(self.problems)} problem(s) in the stack settings:"]
        lines += [f"  {number}. {problem}" for number, problem in enumerate(self.problems, 1)]
        return "\n".join(lines)


def settings_from_mapping(values: Mapping[str, Any], source: str) -> Settings:
    """Build settings from camelCase keys, reporting every invalid key at once.

    `source` names where the values came from (e.g. `Pulumi.dev.yaml`) for the messages.
    """
    try:
        return Settings.model_validate(dict(values))
    except ValidationError as error:
        problems = problems_from_pydantic(error, source=source, field_prefix=f"{CONFIG_NAMESPACE}:")
        raise SettingsError(problems) from None


def setting_keys() -> list[str]:
    """Return the camelCase config keys that settings accept."""
    return [field.alias or name for name, field in Settings.model_fields.items()]
