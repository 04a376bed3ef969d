"""Facts read from the live organization before the program registers anything."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

SCP_TYPE = "SERVICE_CONTROL_POLICY"


@dataclass(frozen=True)
class MemberAccount:
    """An account in the organization as DescribeOrganization lists it."""

    id: str
    email: str
    name: str
    status: str


@dataclass(frozen=True)
class OrganizationFacts:
    """State of the organization that validation and the landing zone depend on."""

    id: str
    root_id: str
    management_account_id: str
    feature_set: str
    root_policy_types: frozenset[str]
    enabled_policy_types: frozenset[str]
    service_access_principals: frozenset[str]
    accounts: Mapping[str, MemberAccount] = field(default_factory=dict)
    policies_on_target: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def scp_enabled_on_root(self) -> bool:
        """Whether SCPs can be attached anywhere in the organization yet."""
        return SCP_TYPE in self.root_policy_types


def read_organization_facts(adopted_ou_ids: list[str]) -> OrganizationFacts:
    """Read the organization through provider invokes, which are reads and run in preview too.

    `adopted_ou_ids` are OUs whose attached SCPs count toward the per-target quota.
    """
    from pulumi_aws import organizations

    organization = organizations.get_organization()
    root = organization.roots[0]
    root_types = frozenset(policy.type for policy in root.policy_types if policy.status == "ENABLED")
    accounts = {
        account.id: MemberAccount(id=account.id, email=account.email, name=account.name, status=account.state)
        for account in organization.accounts or []
    }
    policies: dict[str, tuple[str, ...]] = {}
    for ou_id in adopted_ou_ids:
        attached = organizations.get_policies_for_target(target_id=ou_id, filter=SCP_TYPE)
        names = [organizations.get_policy(policy_id=policy_id).name for policy_id in attached.ids or []]
        policies[ou_id] = tuple(sorted(names))
    return OrganizationFacts(
        id=organization.id,
        root_id=root.id,
        management_account_id=organization.master_account_id,
        feature_set=organization.feature_set,
        root_policy_types=root_types,
        enabled_policy_types=frozenset(organization.enabled_policy_types or []),
        service_access_principals=frozenset(organization.aws_service_access_principals or []),
        accounts=accounts,
        policies_on_target=policies,
    )
