"""OrganizationConfigAggregator: one AWS Config view over every account of the organization."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from securebase.components import TYPE_PREFIX

ORGANIZATIONS_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations"


@dataclass(frozen=True)
class OrganizationConfigAggregatorArgs:
    """Inputs of OrganizationConfigAggregator."""

    aggregator_name: str
    role_name: str
    tags: dict[str, str]
    # The organization resource, whose trusted access for config.amazonaws.com the aggregator needs.
    depends_on: Sequence[pulumi.Resource]


class OrganizationConfigAggregator(pulumi.ComponentResource):
    """An organization aggregator in the management account, over all regions, and the role it reads with."""

    role: aws.iam.Role
    aggregator: aws.cfg.ConfigurationAggregator

    def __init__(self, name: str, args: OrganizationConfigAggregatorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{TYPE_PREFIX}:OrganizationConfigAggregator", name, None, opts)
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
        self.role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            assume_role_policy=json.dumps(trust, separators=(",", ":")),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-role-policy",
            role=self.role.name,
            policy_arn=ORGANIZATIONS_POLICY_ARN,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.aggregator = aws.cfg.ConfigurationAggregator(
            f"{name}-aggregator",
            name=args.aggregator_name,
            organization_aggregation_source=aws.cfg.ConfigurationAggregatorOrganizationAggregationSourceArgs(
                role_arn=self.role.arn, all_regions=True
            ),
            tags=args.tags,
            # The role must carry its policy before Config validates it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment, *args.depends_on]),
        )
        self.register_outputs({"aggregatorArn": self.aggregator.arn})
