"""LogArchive: the central log bucket and the KMS key that encrypts it.

The organization trail and every customer account's Config delivery channel write
here. The bucket and key live in the management account, or in a log-archive
account that the platform reaches by assuming its platform role.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from securebase.components import TYPE_PREFIX

CLOUDTRAIL_PRINCIPAL = "cloudtrail.amazonaws.com"
CONFIG_PRINCIPAL = "config.amazonaws.com"
OWNER_FULL_CONTROL = "bucket-owner-full-control"
# How long a log object that was overwritten or deleted stays recoverable as a
# noncurrent version. Current objects expire after the retention setting instead.
NONCURRENT_VERSION_DAYS = 90


def trail_arn(region: str, management_account_id: str, trail_name: str) -> str:
    """Return the ARN an organization trail gets, known before the trail exists."""
    return f"arn:aws:cloudtrail:{region}:{management_account_id}:trail/{trail_name}"


def bucket_policy_document(
    bucket_name: str,
    *,
    management_account_id: str,
    organization_id: str,
    trail_arn: str,
) -> dict[str, Any]:
    """Build the log bucket's policy.

    CloudTrail may read the bucket ACL and write under the management account's
    prefix and the organization's prefix, each write only with the
    bucket-owner-full-control ACL and only for `trail_arn`. AWS Config may write
    under `AWSLogs/<account>/Config/` on behalf of accounts in this organization
    only (`aws:SourceOrgID`), so the policy stays the same size, and unchanged, as
    customers come and go. No statement allows anything to the `*` principal: the
    one statement that names `*` denies requests sent without TLS.
    """
    bucket_arn = f"arn:aws:s3:::{bucket_name}"
    write_conditions = {"StringEquals": {"s3:x-amz-acl": OWNER_FULL_CONTROL, "aws:SourceArn": trail_arn}}
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "AllowCloudTrailGetBucketAcl",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL_PRINCIPAL},
            "Action": "s3:GetBucketAcl",
            "Resource": bucket_arn,
            "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
        },
        {
            "Sid": "AllowCloudTrailWriteManagementAccountLogs",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL_PRINCIPAL},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/AWSLogs/{management_account_id}/*",
            "Condition": write_conditions,
        },
        {
            "Sid": "AllowCloudTrailWriteOrganizationLogs",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL_PRINCIPAL},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/AWSLogs/{organization_id}/*",
            "Condition": write_conditions,
        },
    ]
    source_organization = {"aws:SourceOrgID": organization_id}
    statements += [
        {
            "Sid": "AllowConfigCheckBucket",
            "Effect": "Allow",
            "Principal": {"Service": CONFIG_PRINCIPAL},
            "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
            "Resource": bucket_arn,
            "Condition": {"StringEquals": source_organization},
        },
        {
            "Sid": "AllowConfigWriteDeliveries",
            "Effect": "Allow",
            "Principal": {"Service": CONFIG_PRINCIPAL},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/AWSLogs/*/Config/*",
            "Condition": {"StringEquals": {"s3:x-amz-acl": OWNER_FULL_CONTROL, **source_organization}},
        },
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def key_policy_document(
    *,
    key_account_id: str,
    management_account_id: str,
    organization_id: str,
    trail_arn: str,
) -> dict[str, Any]:
    """Build the log key's policy: the key's account administers it, CloudTrail and Config encrypt with it.

    Without the first statement nobody in the key's account could manage the key,
    and AWS rejects such a policy unless the lockout check is bypassed.
    """
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AllowKeyAccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{key_account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "AllowCloudTrailEncryptOrganizationLogs",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL_PRINCIPAL},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceArn": trail_arn},
                "StringLike": {
                    "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{management_account_id}:trail/*"
                },
            },
        },
        {
            "Sid": "AllowCloudTrailDescribeKey",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL_PRINCIPAL},
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
        },
    ]
    statements.append(
        {
            "Sid": "AllowConfigEncryptDeliveries",
            "Effect": "Allow",
            "Principal": {"Service": CONFIG_PRINCIPAL},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceOrgID": organization_id}},
        }
    )
    return {"Version": "2012-10-17", "Statement": statements}


def minified(document: dict[str, Any]) -> str:
    """Return a policy as compact JSON; S3 and KMS count every character they are sent."""
    return json.dumps(document, separators=(",", ":"))


@dataclass(frozen=True)
class LogArchiveArgs:
    """Inputs of LogArchive."""

    bucket_name: str
    region: str
    key_account_id: str
    management_account_id: str
    organization_id: str
    trail_arn: str
    retention_days: int
    tags: dict[str, str]
    object_lock_mode: str | None = None
    # Role to assume in the log-archive account; None keeps the default (management) provider.
    assume_role_arn: str | None = None
    depends_on: Sequence[pulumi.Resource] = field(default=())


class LogArchive(pulumi.ComponentResource):
    """Versioned, SSE-KMS, TLS-only, private log bucket with lifecycle retention and optional Object Lock.

    The bucket and key are protected: deleting either would lose or strand the audit logs.
    """

    provider: aws.Provider | None
    key: aws.kms.Key
    bucket: aws.s3.Bucket
    bucket_policy: aws.s3.BucketPolicy
    bucket_name: pulumi.Output[str]
    key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: LogArchiveArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{TYPE_PREFIX}:LogArchive", name, None, opts)
        self.provider = None
        if args.assume_role_arn:
            self.provider = aws.Provider(
                f"{name}-provider",
                region=args.region,
                assume_roles=[aws.ProviderAssumeRoleArgs(role_arn=args.assume_role_arn, session_name="securebase")],
                opts=pulumi.ResourceOptions(parent=self),
            )

        def child(**options: Any) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=self.provider, **options)

        self.key = aws.kms.Key(
            f"{name}-key",
            description="SecureBase: encrypts the organization trail and AWS Config deliveries",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=minified(
                key_policy_document(
                    key_account_id=args.key_account_id,
                    management_account_id=args.management_account_id,
                    organization_id=args.organization_id,
                    trail_arn=args.trail_arn,
                )
            ),
            tags=args.tags,
            opts=child(protect=True, depends_on=list(args.depends_on)),
        )
        # KMS alias names allow no dots, which bucket names may contain.
        aws.kms.Alias(
            f"{name}-key-alias",
            name=f"alias/{args.bucket_name.replace('.', '-')}",
            target_key_id=self.key.key_id,
            opts=child(),
        )

        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=args.bucket_name,
            object_lock_enabled=args.object_lock_mode is not None,
            force_destroy=False,
            tags=args.tags,
            opts=child(protect=True),
        )
        # ACLs off: every object belongs to the bucket owner, whichever account wrote it.
        # CloudTrail and Config still send the bucket-owner-full-control ACL, which S3 accepts.
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child(),
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child(),
        )
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child(),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=self.key.arn
                    ),
                    # A bucket key cuts KMS requests (and their cost) for the many small log objects.
                    bucket_key_enabled=True,
                )
            ],
            opts=child(),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-logs-after-retention",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.retention_days),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=NONCURRENT_VERSION_DAYS
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                )
            ],
            opts=child(),
        )
        if args.object_lock_mode is not None:
            aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock",
                bucket=self.bucket.id,
                object_lock_enabled="Enabled",
                rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                    default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                        mode=args.object_lock_mode, days=args.retention_days
                    )
                ),
                opts=child(),
            )

        # After the public access block and ownership controls, so S3 never evaluates the
        # policy against a bucket that still accepts public or ACL-based access.
        self.bucket_policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=self.bucket.bucket.apply(
                lambda bucket_name: minified(
                    bucket_policy_document(
                        bucket_name,
                        management_account_id=args.management_account_id,
                        organization_id=args.organization_id,
                        trail_arn=args.trail_arn,
                    )
                )
            ),
            opts=child(depends_on=[public_access, ownership]),
        )
        self.bucket_name = self.bucket.bucket
        self.key_arn = self.key.arn
        self.register_outputs({"bucketName": self.bucket.bucket, "keyArn": self.key.arn})
