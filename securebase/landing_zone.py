"""Build the landing zone's components from a validated configuration."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from securebase.components.customer_account import CustomerAccount, CustomerAccountArgs
from securebase.components.guardrail_set import GuardrailSet, GuardrailSetArgs
from securebase.components.organization import OrganizationFoundation, OrganizationFoundationArgs
from securebase.components.tier_ou import TierOU, TierOUArgs
from securebase.customers import Customer
from securebase.tags import clean_tag_value
from securebase.validation import LandingZoneConfig


@dataclass
class LandingZone:
    """The registered components, by tier and by customer key."""

    foundation: OrganizationFoundation
    baseline: GuardrailSet
    tier_ous: dict[str, TierOU] = field(default_factory=dict)
    guardrails: dict[str, GuardrailSet] = field(default_factory=dict)
    accounts: dict[str, CustomerAccount] = field(default_factory=dict)


def creation_lanes(customers: list[Customer], limit: int) -> dict[str, str | None]:
    """Assign each new account the account it must wait for, so at most `limit` are created at once.

    New accounts are dealt round-robin, in key order, into `limit` lanes, and each
    waits for the previous one in its lane. With AWS's typical equal creation times
    this takes ceil(n / limit) rounds, the minimum the limit allows. Adopted
    accounts are not created, so they take no lane.
    """
    new = sorted((customer for customer in customers if not customer.adopted), key=lambda c: c.key)
    waits_for: dict[str, str | None] = {}
    for index, customer in enumerate(new):
        waits_for[customer.key] = new[index - limit].key if index >= limit else None
    return waits_for


def account_tags(config: LandingZoneConfig, customer: Customer) -> dict[str, str]:
    """Return the compliance tags of a customer's account, with values cleaned for AWS."""
    max_length = config.settings.quotas.max_tag_value_length
    tags = {
        "securebase:customer": clean_tag_value(customer.name, max_length),
        "securebase:customer-key": customer.key,
        "securebase:tier": customer.tier,
        "securebase:framework": customer.framework,
        "securebase:prefix": customer.prefix,
        "managed-by": config.settings.managed_by,
    }
    tags.update(dict(customer.extra_tags))
    return tags


def build_landing_zone(config: LandingZoneConfig) -> LandingZone:
    """Register every component; the configuration must already be validated."""
    assert config.organization is not None, "read the organization before building"
    settings = config.settings
    platform_tags = {"managed-by": settings.managed_by}

    foundation = OrganizationFoundation(
        "organization",
        OrganizationFoundationArgs(
            facts=config.organization,
            customers_ou_name=settings.customers_ou_name,
            customers_ou_id=settings.customers_ou_id,
            tags=platform_tags,
        ),
    )
    baseline = GuardrailSet(
        config.catalog.baseline_guardrails,
        GuardrailSetArgs(
            set_name=config.catalog.baseline_guardrails,
            documents=config.baseline,
            target_id=foundation.customers_ou_id,
            scp_enabled_by=foundation.organization,
            tags=platform_tags,
        ),
    )
    zone = LandingZone(foundation=foundation, baseline=baseline)

    for tier_key in config.tiers_in_use:
        tier = config.catalog.tiers[tier_key]
        framework = config.catalog.framework_for_tier(tier_key)
        tier_ou = TierOU(
            tier_key,
            TierOUArgs(
                tier=tier_key,
                ou_name=tier.ou_name,
                parent_id=foundation.customers_ou_id,
                tags=platform_tags,
                adopt_id=settings.tier_ou_ids.get(tier_key),
            ),
        )
        zone.tier_ous[tier_key] = tier_ou
        zone.guardrails[tier_key] = GuardrailSet(
            framework.guardrails,
            GuardrailSetArgs(
                set_name=framework.guardrails,
                documents=config.guardrails_for_tier(tier_key),
                target_id=tier_ou.ou_id,
                scp_enabled_by=foundation.organization,
                tags={**platform_tags, "securebase:framework": framework.key},
            ),
        )

    waits_for = creation_lanes(list(config.customers), settings.quotas.max_account_creations_in_progress)
    for customer in config.customers:
        tier = config.catalog.tiers[customer.tier]
        previous = waits_for.get(customer.key)
        zone.accounts[customer.key] = CustomerAccount(
            customer.key,
            CustomerAccountArgs(
                customer=customer,
                parent_id=zone.tier_ous[customer.tier].ou_id,
                ou_name=tier.ou_name,
                role_name=settings.platform_role_name,
                billing_access=settings.billing_access,
                tags=account_tags(config, customer),
                create_after=[zone.accounts[previous].account] if previous else [],
            ),
        )
    return zone


def export_outputs(config: LandingZoneConfig, zone: LandingZone) -> None:
    """Export what an operator needs: each customer's account, OU and guardrails, and revenue."""
    customers = {}
    for customer in config.customers:
        tier = config.catalog.tiers[customer.tier]
        customers[customer.key] = {
            "name": customer.name,
            "tier": customer.tier,
            "framework": customer.framework,
            "accountId": zone.accounts[customer.key].account_id,
            "ou": tier.ou_name,
            "ouId": zone.tier_ous[customer.tier].ou_id,
            "guardrails": zone.baseline.policy_names + zone.guardrails[customer.tier].policy_names,
            "monthlyBasePriceUsd": float(customer.monthly_base_price_usd),
        }
    pulumi.export("customers", customers)
    pulumi.export("customersOuId", zone.foundation.customers_ou_id)
    pulumi.export("monthlyRevenueUsd", float(config.monthly_revenue_usd))
