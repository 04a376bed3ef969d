"""The adopted organization and the customers OU that every tier OU sits under."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from securebase.components import TYPE_PREFIX
from securebase.organization_facts import SCP_TYPE, OrganizationFacts

# Trusted access the landing zone relies on. Principals already enabled stay enabled:
# the program only adds to the live list, so adopting the organization never
# switches off an integration someone else set up.
REQUIRED_SERVICE_PRINCIPALS = ("cloudtrail.amazonaws.com", "config.amazonaws.com", "sso.amazonaws.com")


@dataclass(frozen=True)
class OrganizationFoundationArgs:
    """Inputs of OrganizationFoundation."""

    facts: OrganizationFacts
    customers_ou_name: str
    customers_ou_id: str | None
    tags: dict[str, str]


class OrganizationFoundation(pulumi.ComponentResource):
    """The organization, adopted with SCPs enabled, and the customers OU under its root.

    Every policy attachment depends on `organization`, so the engine enables the SCP
    policy type on the root before it attaches anything.
    """

    organization: aws.organizations.Organization
    customers_ou: aws.organizations.OrganizationalUnit
    customers_ou_id: pulumi.Output[str]

    def __init__(self, name: str, args: OrganizationFoundationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{TYPE_PREFIX}:OrganizationFoundation", name, None, opts)
        facts = args.facts

        policy_types = sorted(facts.enabled_policy_types | facts.root_policy_types | {SCP_TYPE})
        principals = sorted(facts.service_access_principals | set(REQUIRED_SERVICE_PRINCIPALS))
        self.organization = aws.organizations.Organization(
            f"{name}-organization",
            feature_set="ALL",
            enabled_policy_types=policy_types,
            aws_service_access_principals=principals,
            opts=pulumi.ResourceOptions(parent=self, import_=facts.id, protect=True, retain_on_delete=True),
        )
        if not facts.scp_enabled_on_root:
            pulumi.log.warn(
                f"the SERVICE_CONTROL_POLICY type is disabled on root {facts.root_id}; this update enables it "
                "before attaching any guardrail",
                resource=self.organization,
            )

        self.customers_ou = aws.organizations.OrganizationalUnit(
            f"{name}-customers-ou",
            name=args.customers_ou_name,
            parent_id=facts.root_id,
            tags=args.tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                import_=args.customers_ou_id,
                protect=True,
                depends_on=[self.organization],
            ),
        )
        self.customers_ou_id = self.customers_ou.id
        self.register_outputs({"organizationId": self.organization.id, "customersOuId": self.customers_ou.id})
