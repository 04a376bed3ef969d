"""AccountBaseline: the security controls every customer account gets, in one place.

Every resource here goes through a provider that assumes the platform role in the
customer's own account, so adding a control to all accounts is one change here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from securebase.components import TYPE_PREFIX

CONFIG_ROLE_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"


@dataclass(frozen=True)
class DetectiveControls:
    """Threat detection services a framework calls for in each customer account."""

    guardduty: bool
    security_hub: bool


@dataclass(frozen=True)
class PasswordPolicy:
    """IAM password policy of a customer account.

    The CIS AWS Foundations Benchmark requires at least 14 characters and 24
    remembered passwords. Every character class is required as well.
    """

    minimum_length: int = 14
    reuse_prevention: int = 24
    max_age_days: int = 90


@dataclass(frozen=True)
class AccountBaselineArgs:
    """Inputs of AccountBaseline."""

    prefix: str
    account_id: pulumi.Input[str]
    role_name: str
    region: str
    log_bucket_name: pulumi.Input[str]
    log_key_arn: pulumi.Input[str]
    controls: DetectiveControls
    tags: dict[str, str]
    password_policy: PasswordPolicy = field(default_factory=PasswordPolicy)
    # The log bucket and key policies: Config checks that it may write before it
    # accepts a delivery channel.
    delivery_depends_on: Sequence[pulumi.Resource] = field(default=())


def role_arn(account_id: str, role_name: str) -> str:
    """Return the ARN of a role in an account."""
    return f"arn:aws:iam::{account_id}:role/{role_name}"


class AccountBaseline(pulumi.ComponentResource):
    """Config recording to the central bucket, S3 and EBS defaults, password policy and threat detection."""

    provider: aws.Provider
    recorder: aws.cfg.Recorder
    delivery_channel: aws.cfg.DeliveryChannel
    recorder_status: aws.cfg.RecorderStatus
    guardduty: aws.guardduty.Detector | None
    security_hub: aws.securityhub.Account | None

    def __init__(self, name: str, args: AccountBaselineArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{TYPE_PREFIX}:AccountBaseline", name, None, opts)
        self.provider = aws.Provider(
            f"{name}-provider",
            region=args.region,
            assume_roles=[
                aws.ProviderAssumeRoleArgs(
                    role_arn=pulumi.Output.from_input(args.account_id).apply(
                        lambda account_id: role_arn(account_id, args.role_name)
                    ),
                    session_name="securebase",
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )

        def child(**options: Any) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=self.provider, **options)

        self._record_configuration(name, args, child)

        aws.s3.AccountPublicAccessBlock(
            f"{name}-s3-public-access-block",
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child(),
        )
        aws.ebs.EncryptionByDefault(f"{name}-ebs-encryption", enabled=True, opts=child())
        policy = args.password_policy
        aws.iam.AccountPasswordPolicy(
            f"{name}-password-policy",
            minimum_password_length=policy.minimum_length,
            password_reuse_prevention=policy.reuse_prevention,
            max_password_age=policy.max_age_days,
            require_lowercase_characters=True,
            require_uppercase_characters=True,
            require_numbers=True,
            require_symbols=True,
            allow_users_to_change_password=True,
            opts=child(),
        )

        # NOTE: a GuardDuty or Security Hub delegated administrator that auto-enables
        # members creates the detector or hub first, so creating it here fails. Adopt it
        # with `pulumi import`, or turn off auto-enable for SecureBase's accounts.
        self.guardduty = None
        if args.controls.guardduty:
            self.guardduty = aws.guardduty.Detector(
                f"{name}-guardduty",
                enable=True,
                finding_publishing_frequency="FIFTEEN_MINUTES",
                tags=args.tags,
                opts=child(),
            )
        self.security_hub = None
        if args.controls.security_hub:
            # Security Hub reads resource state from Config, so it starts after recording does.
            self.security_hub = aws.securityhub.Account(
                f"{name}-security-hub",
                enable_default_standards=True,
                auto_enable_controls=True,
                control_finding_generator="SECURITY_CONTROL",
                opts=child(depends_on=[self.recorder_status]),
            )

        self.register_outputs(
            {
                "recorderName": self.recorder.name,
                "deliveryChannelName": self.delivery_channel.name,
                "guardduty": args.controls.guardduty,
                "securityHub": args.controls.security_hub,
            }
        )

    def _record_configuration(self, name: str, args: AccountBaselineArgs, child: Any) -> None:
        """Register the Config recorder, its role, the delivery channel and the recorder status."""
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowConfigAssumeRole",
                    "Effect": "Allow",
                    "Principal": {"Service": "config.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        config_role = aws.iam.Role(
            f"{name}-config-role",
            name=f"{args.prefix}-config-recorder",
            assume_role_policy=json.dumps(trust, separators=(",", ":")),
            tags=args.tags,
            opts=child(),
        )
        role_policy = aws.iam.RolePolicyAttachment(
            f"{name}-config-role-policy",
            role=config_role.name,
            policy_arn=CONFIG_ROLE_POLICY_ARN,
            opts=child(),
        )
        # One recorder per account, in the home region, which also records global
        # resources such as IAM. A second region recording them would double the items.
        self.recorder = aws.cfg.Recorder(
            f"{name}-config-recorder",
            name=f"{args.prefix}-recorder",
            role_arn=config_role.arn,
            recording_group=aws.cfg.RecorderRecordingGroupArgs(all_supported=True, include_global_resource_types=True),
            opts=child(depends_on=[role_policy]),
        )
        self.delivery_channel = aws.cfg.DeliveryChannel(
            f"{name}-config-delivery",
            name=f"{args.prefix}-delivery",
            s3_bucket_name=args.log_bucket_name,
            s3_kms_key_arn=args.log_key_arn,
            snapshot_delivery_properties=aws.cfg.DeliveryChannelSnapshotDeliveryPropertiesArgs(
                delivery_frequency="TwentyFour_Hours"
            ),
            # AWS accepts a delivery channel only once a recorder exists.
            opts=child(depends_on=[self.recorder, *args.delivery_depends_on]),
        )
        self.recorder_status = aws.cfg.RecorderStatus(
            f"{name}-config-recorder-status",
            name=self.recorder.name,
            is_enabled=True,
            # Recording starts only when a delivery channel exists.
            opts=child(depends_on=[self.delivery_channel]),
        )
