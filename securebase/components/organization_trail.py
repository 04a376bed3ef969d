"""OrganizationTrail: one multi-region CloudTrail trail that logs every account of the organization."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from securebase.components import TYPE_PREFIX


@dataclass(frozen=True)
class OrganizationTrailArgs:
    """Inputs of OrganizationTrail."""

    trail_name: str
    bucket_name: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    tags: dict[str, str]
    # The bucket policy that lets CloudTrail write, and the organization resource that
    # enables CloudTrail's trusted access: CreateTrail fails without either.
    depends_on: Sequence[pulumi.Resource]


class OrganizationTrail(pulumi.ComponentResource):
    """The organization trail, created in the management account with the default provider.

    AWS creates organization trails only in the management account or in a delegated
    administrator account, and the trail then logs every member account, including
    accounts that join later.
    """

    trail: aws.cloudtrail.Trail
    trail_arn: pulumi.Output[str]

    def __init__(self, name: str, args: OrganizationTrailArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{TYPE_PREFIX}:OrganizationTrail", name, None, opts)
        self.trail = aws.cloudtrail.Trail(
            f"{name}-trail",
            name=args.trail_name,
            s3_bucket_name=args.bucket_name,
            kms_key_id=args.kms_key_arn,
            is_organization_trail=True,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        self.trail_arn = self.trail.arn
        self.register_outputs({"trailArn": self.trail.arn, "trailName": args.trail_name})
