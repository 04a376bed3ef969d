"""Validation pipeline: customer files and settings in, one immutable configuration out.

Steps, in order: the shape of each customer file (pydantic), the catalog rules for each
customer, checks across files (duplicates, the account lock), the guardrail catalog,
and AWS quotas. Every problem from every step is collected and raised once, so an
operator fixes the whole list in one pass. Nothing here calls AWS: checks that need
the live organization take an `OrganizationFacts` read beforehand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import yaml

from securebase.catalog import Catalog, load_catalog
from securebase.customers import Customer, LoadedFile, customer_files, parse_customer_file
from securebase.guardrails import POLICY_NAME_PREFIX, GuardrailDocument, bundled_catalog_dir, load_guardrail_set
from securebase.organization_facts import OrganizationFacts
from securebase.problems import ConfigurationError, Problem, yaml_error_line
from securebase.settings import Settings
from securebase.tags import ALLOWED_CHARACTERS, disallowed_characters

MANAGED_TAG_KEYS = (
    "securebase:customer",
    "securebase:customer-key",
    "securebase:tier",
    "securebase:framework",
    "securebase:prefix",
    "managed-by",
)
# A new OU starts with the AWS managed FullAWSAccess policy attached, and it takes a slot.
DEFAULT_POLICIES_ON_NEW_TARGET = 1


@dataclass(frozen=True)
class LandingZoneConfig:
    """Validated input of the landing zone: settings, customers and guardrails."""

    settings: Settings
    catalog: Catalog
    project_dir: Path
    customers: tuple[Customer, ...]
    guardrails: Mapping[str, tuple[GuardrailDocument, ...]] = field(default_factory=dict)
    organization: OrganizationFacts | None = None

    @property
    def tiers_in_use(self) -> list[str]:
        """Return the tiers with at least one customer, in catalog order."""
        used = {customer.tier for customer in self.customers}
        return [tier for tier in self.catalog.tiers if tier in used]

    def customers_in_tier(self, tier: str) -> list[Customer]:
        """Return the customers of one tier, sorted by key."""
        return [customer for customer in self.customers if customer.tier == tier]

    def guardrails_for_tier(self, tier: str) -> tuple[GuardrailDocument, ...]:
        """Return the documents of the tier's framework."""
        return self.guardrails[self.catalog.framework_for_tier(tier).guardrails]

    @property
    def baseline(self) -> tuple[GuardrailDocument, ...]:
        """Return the documents every customer gets."""
        return self.guardrails[self.catalog.baseline_guardrails]

    @property
    def monthly_revenue_usd(self) -> Decimal:
        """Return the sum of every customer's monthly base price."""
        return sum((customer.monthly_base_price_usd for customer in self.customers), Decimal(0))


def load_landing_zone(
    settings: Settings,
    project_dir: Path,
    *,
    organization: OrganizationFacts | None = None,
    catalog: Catalog | None = None,
) -> LandingZoneConfig:
    """Validate the customer files against settings and, when given, the live organization.

    Raises ConfigurationError listing every problem found.
    """
    catalog = catalog or load_catalog()
    problems: list[Problem] = []
    folder = project_dir / settings.customers_dir

    if not folder.is_dir():
        raise ConfigurationError(
            [
                Problem(
                    source="stack settings",
                    field="securebase:customersDir",
                    value=settings.customers_dir,
                    rule=f"customer folder {folder} not found",
                    fix="create the folder or set securebase:customersDir to the folder of customer files",
                )
            ]
        )

    loaded: list[LoadedFile] = []
    for path in customer_files(folder):
        parsed, found = parse_customer_file(path, _display(path, project_dir))
        problems += found
        if parsed is not None:
            loaded.append(parsed)

    customers = []
    for item in loaded:
        customer, found = _resolve_customer(item, settings, catalog, project_dir, organization)
        problems += found
        if customer is not None:
            customers.append(customer)
    customers.sort(key=lambda customer: customer.key)

    problems += _check_settings(settings, catalog)
    problems += _check_duplicates(customers)
    file_keys = {path.stem for path in customer_files(folder)}
    problems += _check_account_lock(customers, file_keys, settings, project_dir)
    if organization is not None:
        problems += _check_against_organization(customers, organization)

    guardrails, found = _load_guardrails(settings, catalog, customers, project_dir)
    problems += found
    if not found:
        problems += _check_policy_counts(settings, catalog, customers, guardrails, organization)

    if problems:
        raise ConfigurationError(problems)
    return LandingZoneConfig(
        settings=settings,
        catalog=catalog,
        project_dir=project_dir,
        customers=tuple(customers),
        guardrails=MappingProxyType(guardrails),
        organization=organization,
    )


def _display(path: Path, project_dir: Path) -> str:
    try:
        return str(path.relative_to(project_dir))
    except ValueError:
        return str(path)


def _resolve_customer(
    item: LoadedFile,
    settings: Settings,
    catalog: Catalog,
    project_dir: Path,
    organization: OrganizationFacts | None,
) -> tuple[Customer | None, list[Problem]]:
    model = item.model
    source = _display(item.path, project_dir)
    problems: list[Problem] = []

    def add(field_name: str, value: object, rule: str, fix: str) -> None:
        problems.append(
            Problem(source=source, field=field_name, value=value, rule=rule, fix=fix, line=item.lines.get(field_name))
        )

    tier = catalog.tiers.get(model.tier)
    if tier is None:
        add("tier", model.tier, "unknown tier", f"use one of: {', '.join(catalog.tiers)}")
    elif model.framework != tier.framework:
        allowed = tier.framework
        if model.framework not in catalog.frameworks:
            rule = "unknown framework"
        else:
            rule = f"framework is not allowed for tier {model.tier}"
        add("framework", model.framework, rule, f"tier {model.tier} runs under framework {allowed}; use {allowed}")

    quotas = settings.quotas
    for key, value in model.tags.items():
        tag_field = f"tags.{key}"
        if key.lower().startswith("aws:"):
            add(tag_field, key, "tag keys starting with aws: are reserved by AWS", "rename the tag key")
        if key in MANAGED_TAG_KEYS:
            add(tag_field, key, "tag key is set by SecureBase", "remove the tag or rename its key")
        if len(key) > quotas.max_tag_key_length:
            add(tag_field, key, f"tag key is longer than {quotas.max_tag_key_length} characters", "shorten the key")
        if len(value) > quotas.max_tag_value_length:
            add(tag_field, value, f"tag value is longer than {quotas.max_tag_value_length} characters", "shorten it")
        for part, text in (("key", key), ("value", value)):
            bad = disallowed_characters(text)
            if bad:
                add(
                    tag_field,
                    text,
                    f"tag {part} contains {' '.join(repr(c) for c in bad)}, which AWS rejects",
                    f"use only {ALLOWED_CHARACTERS}",
                )
    tag_count = len(MANAGED_TAG_KEYS) + len(model.tags)
    if tag_count > quotas.max_tags_per_resource:
        add(
            "tags",
            len(model.tags),
            f"{tag_count} tags on the account ({len(MANAGED_TAG_KEYS)} set by SecureBase), "
            f"above the limit of {quotas.max_tags_per_resource}",
            f"remove at least {tag_count - quotas.max_tags_per_resource} tags",
        )

    if model.root_email is not None:
        root_email, root_field = model.root_email, "root_email"
    else:
        root_email = settings.derived_root_email(item.key)
        root_field = "root_email (derived from securebase:rootEmailMailbox)"
    if model.account_id is not None and organization is not None:
        live = organization.accounts.get(model.account_id)
        if live is not None and model.root_email is None:
            root_email, root_field = live.email, "root_email (read from AWS)"

    if problems or tier is None:
        return None, problems
    price = model.monthly_base_price_usd
    return (
        Customer(
            key=item.key,
            source=source,
            name=model.name,
            tier=model.tier,
            framework=model.framework,
            prefix=model.prefix,
            contact_email=model.contact_email,
            root_email=root_email,
            root_email_field=root_field,
            account_name=model.account_name or model.name[:50],
            monthly_base_price_usd=tier.monthly_base_price_usd if price is None else price,
            account_id=model.account_id,
            extra_tags=tuple(sorted(model.tags.items())),
            lines=item.lines,
        ),
        [],
    )


def _check_settings(settings: Settings, catalog: Catalog) -> list[Problem]:
    problems = []
    for tier in settings.tier_ou_ids:
        if tier not in catalog.tiers:
            problems.append(
                Problem(
                    source="stack settings",
                    field=f"securebase:tierOuIds.{tier}",
                    value=tier,
                    rule="unknown tier",
                    fix=f"use one of: {', '.join(catalog.tiers)}",
                )
            )
    depth = settings.customers_ou_depth + 1
    if depth > settings.quotas.max_ou_depth:
        problems.append(
            Problem(
                source="stack settings",
                field="securebase:customersOuDepth",
                value=settings.customers_ou_depth,
                rule=f"tier OUs would sit {depth} levels under the root, above the OU nesting limit of "
                f"{settings.quotas.max_ou_depth}",
                fix="place the customers OU higher in the tree",
            )
        )
    return problems


def _check_duplicates(customers: list[Customer]) -> list[Problem]:
    """Report values that must be unique across customer files, one problem per clash."""
    checks = (
        ("account_id", lambda c: c.account_id, "account ids"),
        ("prefix", lambda c: c.prefix.lower(), "prefixes"),
        ("account_name", lambda c: c.account_name.lower(), "account names"),
        ("contact_email", lambda c: c.contact_email.lower(), "contact emails"),
        ("root_email", lambda c: c.root_email.lower(), "root emails"),
    )
    problems = []
    for field_name, value_of, plural in checks:
        groups: dict[str, list[Customer]] = defaultdict(list)
        for customer in customers:
            value = value_of(customer)
            if value is not None:
                groups[value].append(customer)
        for clashing in groups.values():
            if len(clashing) < 2:
                continue
            first, *others = clashing
            problems.append(
                Problem(
                    source=first.source,
                    field=field_name,
                    value=getattr(first, field_name),
                    line=first.lines.get(field_name),
                    rule=f"{plural} must be unique across customers, compared ignoring case, but "
                    f"{_and_list([c.source for c in clashing])} {'both' if len(clashing) == 2 else 'all'} use it",
                    fix=f"give {_and_list([c.source for c in others])} "
                    f"{'its' if len(others) == 1 else 'each their'} own {field_name}",
                )
            )
    keys: dict[str, list[Customer]] = defaultdict(list)
    for customer in customers:
        keys[customer.key].append(customer)
    for key, clashing in keys.items():
        if len(clashing) > 1:
            problems.append(
                Problem(
                    source=clashing[0].source,
                    field="(file name)",
                    value=key,
                    rule=f"customer key is used by {', '.join(c.source for c in clashing)}",
                    fix="keep one file per customer: delete or rename the others",
                )
            )
    return problems


def _and_list(items: list[str]) -> str:
    """Join items as English does: a, b and c."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _check_account_lock(
    customers: list[Customer], file_keys: set[str], settings: Settings, project_dir: Path
) -> list[Problem]:
    """Compare customers with the account lock, which pins values AWS cannot change in place.

    `file_keys` are the stems of every customer file, including files with problems, so a
    file that failed to parse is not mistaken for a missing one.
    """
    path = project_dir / settings.account_lock
    if not path.exists():
        return []
    source = _display(path, project_dir)
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        return [
            Problem(
                source=source,
                field="",
                rule=f"invalid YAML: {getattr(error, 'problem', error)}",
                fix="correct the YAML syntax, or regenerate the lock with `securebase lock`",
                line=yaml_error_line(error, text),
            )
        ]
    entries = raw.get("accounts", {}) if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        return [
            Problem(
                source=source,
                field="accounts",
                rule="the lock must be a mapping under accounts: of customer key to root_email and account_id",
                fix="regenerate the lock with `securebase lock`",
            )
        ]

    problems = []
    by_key = {customer.key: customer for customer in customers}
    for key, entry in sorted(entries.items()):
        entry = entry if isinstance(entry, dict) else {}
        customer = by_key.get(key)
        if customer is None and key in file_keys:
            continue  # the file's own problems are reported, and the lock is checked once it parses
        if customer is None:
            problems.append(
                Problem(
                    source=source,
                    field=f"accounts.{key}",
                    rule="the lock pins an account whose customer file is missing; SecureBase never closes or "
                    "removes an account",
                    fix=f"restore the customer file for {key}, or offboard the account by hand and then "
                    "delete its lock entry",
                )
            )
            continue
        locked_email = str(entry.get("root_email", ""))
        if locked_email and locked_email.lower() != customer.root_email.lower():
            problems.append(
                Problem(
                    source=customer.source,
                    field=customer.root_email_field,
                    value=customer.root_email,
                    line=customer.lines.get("root_email"),
                    rule=f"root email differs from {locked_email!r} pinned in {source}; changing a root "
                    "email is a manual step, because AWS changes it only through the account's root user "
                    "and the provider would replace the account",
                    fix=f"restore the root email; to change it, do so by hand as the root user in the AWS "
                    f"console, then update accounts.{key}.root_email in {source}",
                )
            )
        locked_id = entry.get("account_id")
        if locked_id and customer.account_id and str(locked_id) != customer.account_id:
            problems.append(
                Problem(
                    source=customer.source,
                    field="account_id",
                    value=customer.account_id,
                    line=customer.lines.get("account_id"),
                    rule=f"account id differs from {locked_id!r} pinned in {source}",
                    fix="restore the account id; one customer key always refers to the same account",
                )
            )
    return problems


def _check_against_organization(customers: list[Customer], organization: OrganizationFacts) -> list[Problem]:
    problems = []
    for customer in customers:
        if customer.account_id is None:
            continue
        live = organization.accounts.get(customer.account_id)
        if customer.account_id == organization.management_account_id:
            problems.append(
                Problem(
                    source=customer.source,
                    field="account_id",
                    value=customer.account_id,
                    line=customer.lines.get("account_id"),
                    rule="the management account cannot be a customer account",
                    fix="give the customer's own account id",
                )
            )
        elif live is None:
            problems.append(
                Problem(
                    source=customer.source,
                    field="account_id",
                    value=customer.account_id,
                    line=customer.lines.get("account_id"),
                    rule=f"account is not a member of organization {organization.id}",
                    fix="invite the account to the organization and accept the invitation, or correct the id",
                )
            )
        elif live.status != "ACTIVE":
            problems.append(
                Problem(
                    source=customer.source,
                    field="account_id",
                    value=customer.account_id,
                    line=customer.lines.get("account_id"),
                    rule=f"account status is {live.status}, not ACTIVE",
                    fix="adopt only active accounts; reopen the account or remove the customer",
                )
            )
        elif customer.root_email_field == "root_email" and live.email.lower() != customer.root_email.lower():
            # An address that differs only in letter case is the same mailbox, so it is not a change.
            problems.append(
                Problem(
                    source=customer.source,
                    field="root_email",
                    value=customer.root_email,
                    line=customer.lines.get("root_email"),
                    rule=f"root email differs from {live.email!r} in AWS; a root email change is a manual step",
                    fix="write the email AWS has, or change it by hand as the root user first",
                )
            )
    return problems


def _load_guardrails(
    settings: Settings, catalog: Catalog, customers: list[Customer], project_dir: Path
) -> tuple[dict[str, tuple[GuardrailDocument, ...]], list[Problem]]:
    catalog_dir = bundled_catalog_dir()
    if settings.guardrail_catalog_dir is not None:
        catalog_dir = project_dir / settings.guardrail_catalog_dir
    sets = [catalog.baseline_guardrails]
    sets += sorted({catalog.framework_for_tier(customer.tier).guardrails for customer in customers})
    guardrails: dict[str, tuple[GuardrailDocument, ...]] = {}
    problems: list[Problem] = []
    for set_name in sets:
        documents, found = load_guardrail_set(
            set_name,
            catalog_dir=catalog_dir,
            platform_role_name=settings.platform_role_name,
            max_size=settings.quotas.max_scp_size,
        )
        guardrails[set_name] = tuple(documents)
        problems += found
    return guardrails, problems


def _check_policy_counts(
    settings: Settings,
    catalog: Catalog,
    customers: list[Customer],
    guardrails: Mapping[str, tuple[GuardrailDocument, ...]],
    organization: OrganizationFacts | None,
) -> list[Problem]:
    """Check that every target's SCPs fit the per-target quota before anything is attached."""
    limit = settings.quotas.max_scps_per_target
    targets = [
        ("customers OU", settings.customers_ou_name, settings.customers_ou_id, catalog.baseline_guardrails),
    ]
    for tier in sorted({customer.tier for customer in customers}):
        framework = catalog.framework_for_tier(tier)
        targets.append(
            (f"tier {tier} OU", catalog.tiers[tier].ou_name, settings.tier_ou_ids.get(tier), framework.guardrails)
        )

    problems = []
    for label, ou_name, ou_id, set_name in targets:
        existing = DEFAULT_POLICIES_ON_NEW_TARGET
        existing_note = "FullAWSAccess, which AWS attaches to every new OU"
        if ou_id is not None and organization is not None and ou_id in organization.policies_on_target:
            unmanaged = [
                name for name in organization.policies_on_target[ou_id] if not name.startswith(POLICY_NAME_PREFIX)
            ]
            existing = len(unmanaged)
            existing_note = ", ".join(unmanaged) or "none"
        documents = guardrails[set_name]
        total = existing + len(documents)
        if total > limit:
            problems.append(
                Problem(
                    source="stack settings",
                    field="securebase:quotas.maxScpsPerTarget",
                    value=limit,
                    rule=f"{label} {ou_name}{f' ({ou_id})' if ou_id else ''} would carry {total} SCPs: "
                    f"{existing} already attached ({existing_note}) and {len(documents)} for guardrail set "
                    f"{set_name}, above the limit of {limit}",
                    fix="detach policies SecureBase does not manage from that OU, merge guardrail documents, "
                    "or raise the limit if AWS raised your quota",
                )
            )
    return problems
