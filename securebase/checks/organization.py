"""The verification checklist: does the organization match the customer files?

Every check reads a snapshot of the organization taken once with read-only calls
(List*, Describe*), so a check never changes AWS. Checks are plain functions that
take a CheckContext and yield CheckResult records. Modules that add checks (trails,
Config, Identity Center) decorate them with `@register_check` and are imported
before `run_checks`:

    @register_check
    @check("cloudtrail.organization-trail", "An organization trail logs every account")
    def organization_trail(context): ...

A check that raises a botocore error yields one ERROR result, which never counts as
a pass.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions
import yaml

from securebase.aws_sessions import paginate as _paginate
from securebase.checks.results import CheckResult
from securebase.customers import Customer
from securebase.guardrails import POLICY_NAME_PREFIX, GuardrailDocument
from securebase.organization_facts import SCP_TYPE
from securebase.validation import LandingZoneConfig

log = logging.getLogger("securebase")

CheckFunction = Callable[["CheckContext"], Iterable[CheckResult]]


@dataclass(frozen=True)
class AccountState:
    """A member account as ListAccounts returns it."""

    id: str
    email: str
    name: str
    status: str


@dataclass(frozen=True)
class PolicyState:
    """An SCP and its document as DescribePolicy returns it."""

    id: str
    name: str
    content: str
    aws_managed: bool


@dataclass
class OrganizationSnapshot:
    """The part of the organization the checklist reads, taken once through read-only calls.

    `parents` maps an account or OU id to its parent's id for every target the
    checks look at. `customers_ou_id` and `tier_ou_ids` are None where the OU was not
    found.
    """

    organization_id: str
    root_id: str
    management_account_id: str
    accounts: dict[str, AccountState] = field(default_factory=dict)
    parents: dict[str, str] = field(default_factory=dict)
    ou_names: dict[str, str] = field(default_factory=dict)
    accounts_in_ou: dict[str, list[str]] = field(default_factory=dict)
    policies: dict[str, PolicyState] = field(default_factory=dict)
    attachments: dict[str, list[str]] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    customers_ou_id: str | None = None
    tier_ou_ids: dict[str, str | None] = field(default_factory=dict)
    customer_account_ids: dict[str, str | None] = field(default_factory=dict)

    def ancestors(self, target_id: str) -> list[str]:
        """Return the target's parents from the nearest up to the root."""
        chain = []
        current = self.parents.get(target_id)
        while current is not None and current not in chain:
            chain.append(current)
            current = self.parents.get(current)
        return chain

    def effective_policies(self, target_id: str) -> list[PolicyState]:
        """Return the SCPs attached to the target or to any of its ancestors, each once."""
        found: dict[str, PolicyState] = {}
        for node in [target_id, *self.ancestors(target_id)]:
            for policy_id in self.attachments.get(node, []):
                found.setdefault(policy_id, self.policies[policy_id])
        return list(found.values())


@dataclass
class CheckContext:
    """Input of every check: the configuration, the snapshot and a way to make clients.

    `customers` are the customers selected for this run (all unless the user chose some).
    `make_client(service)` returns a boto3 client with the same credentials and endpoint,
    for checks of other services.
    """

    config: LandingZoneConfig
    organization: OrganizationSnapshot
    customers: tuple[Customer, ...]
    make_client: Callable[[str], Any] | None = None
    # Sessions in the management account (None) or a customer account, for the security baseline checks.
    session_for: Callable[[str | None], Any] | None = None

    def client(self, service: str):
        """Return a boto3 client for `service`; raises RuntimeError when none can be made."""
        if self.make_client is None:
            raise RuntimeError(f"no AWS session is available for {service} checks")
        return self.make_client(service)


def check(check_id: str, title: str) -> Callable[[CheckFunction], CheckFunction]:
    """Give a check function its stable id and title, which ERROR results use."""

    def decorate(function: CheckFunction) -> CheckFunction:
        function.check_id = check_id  # type: ignore[attr-defined]
        function.title = title  # type: ignore[attr-defined]
        return function

    return decorate


_EXTRA_CHECKS: list[CheckFunction] = []


def register_check(function: CheckFunction) -> CheckFunction:
    """Add a check function to the checklist after the built-in ones; use as a decorator."""
    if function not in _EXTRA_CHECKS:
        _EXTRA_CHECKS.append(function)
    return function


def unregister_check(function: CheckFunction) -> None:
    """Remove a check added with `register_check`; a check not registered is ignored."""
    if function in _EXTRA_CHECKS:
        _EXTRA_CHECKS.remove(function)


def registered_checks() -> list[CheckFunction]:
    """Return the built-in checks, the security baseline checks, then every registered extra check."""
    from securebase.checks.security_baseline import BASELINE_CHECKS

    return [*ORGANIZATION_CHECKS, *BASELINE_CHECKS, *_EXTRA_CHECKS]


def run_checks(context: CheckContext, checks: Iterable[CheckFunction] | None = None) -> list[CheckResult]:
    """Run each check and return every result; an AWS error in a check becomes one ERROR result."""
    results: list[CheckResult] = []
    for function in registered_checks() if checks is None else checks:
        check_id = getattr(function, "check_id", function.__name__)
        try:
            results += list(function(context))
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
            log.warning("check %s could not run: %s", check_id, error)
            results.append(
                CheckResult(
                    check_id=check_id,
                    title=getattr(function, "title", check_id),
                    status="ERROR",
                    detail=f"the check could not read AWS: {error}",
                )
            )
    return results


# --- reading the organization ------------------------------------------------------


def read_lock_account_ids(config: LandingZoneConfig) -> dict[str, str]:
    """Return the account ids the account lock pins, by customer key; an unreadable lock gives none."""
    path = config.project_dir / config.settings.account_lock
    if not path.exists():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        return {}
    entries = raw.get("accounts") if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        return {}
    return {
        str(key): str(entry["account_id"])
        for key, entry in entries.items()
        if isinstance(entry, dict) and entry.get("account_id")
    }


def read_organization(
    client, config: LandingZoneConfig, stack_outputs: Mapping[str, Any] | None = None
) -> OrganizationSnapshot:
    """Read what the checklist needs from AWS Organizations with List and Describe calls only.

    `stack_outputs` (as `pulumi stack output --json` prints them) give the OU and
    account ids the program created. Without them, OUs are found by name under the
    root, and accounts by the lock file or their root email.
    """
    organization = client.describe_organization()["Organization"]
    root_id = client.list_roots()["Roots"][0]["Id"]
    snapshot = OrganizationSnapshot(
        organization_id=organization["Id"],
        root_id=root_id,
        management_account_id=organization["MasterAccountId"],
    )
    for account in _paginate(client, "list_accounts", "Accounts"):
        snapshot.accounts[account["Id"]] = AccountState(
            id=account["Id"],
            email=account["Email"],
            name=account["Name"],
            status=account.get("State") or account.get("Status", ""),
        )

    outputs = stack_outputs or {}
    output_customers = outputs.get("customers") or {}
    settings = config.settings

    snapshot.customers_ou_id = settings.customers_ou_id or outputs.get("customersOuId")
    if snapshot.customers_ou_id is None:
        snapshot.customers_ou_id = _child_ou_named(client, snapshot, root_id, settings.customers_ou_name)
    if snapshot.customers_ou_id is not None and snapshot.customers_ou_id not in snapshot.ou_names:
        described = client.describe_organizational_unit(OrganizationalUnitId=snapshot.customers_ou_id)
        snapshot.ou_names[snapshot.customers_ou_id] = described["OrganizationalUnit"]["Name"]
    if snapshot.customers_ou_id is not None:
        _read_subtree(client, snapshot, snapshot.customers_ou_id)
        _read_ancestors(client, snapshot, snapshot.customers_ou_id)

    output_tier_ous = {
        entry.get("tier"): entry.get("ouId") for entry in output_customers.values() if isinstance(entry, dict)
    }
    for tier in config.tiers_in_use:
        ou_id = settings.tier_ou_ids.get(tier) or output_tier_ous.get(tier)
        if ou_id is None and snapshot.customers_ou_id is not None:
            ou_id = _child_ou_named(client, snapshot, snapshot.customers_ou_id, config.catalog.tiers[tier].ou_name)
        snapshot.tier_ou_ids[tier] = ou_id
        if ou_id is not None and ou_id not in snapshot.parents:
            _read_subtree(client, snapshot, ou_id)
            _read_ancestors(client, snapshot, ou_id)

    locked = read_lock_account_ids(config)
    by_email = {account.email.lower(): account.id for account in snapshot.accounts.values()}
    for customer in config.customers:
        output_entry = output_customers.get(customer.key) or {}
        account_id = (
            customer.account_id
            or output_entry.get("accountId")
            or locked.get(customer.key)
            or by_email.get(customer.root_email.lower())
        )
        snapshot.customer_account_ids[customer.key] = account_id
        if account_id is None or account_id not in snapshot.accounts:
            continue
        if account_id not in snapshot.parents:
            _read_ancestors(client, snapshot, account_id)
        tags = _paginate(client, "list_tags_for_resource", "Tags", ResourceId=account_id)
        snapshot.tags[account_id] = {tag["Key"]: tag["Value"] for tag in tags}

    for summary in _paginate(client, "list_policies", "Policies", Filter=SCP_TYPE):
        policy_id = summary["Id"]
        document = client.describe_policy(PolicyId=policy_id)["Policy"]
        snapshot.policies[policy_id] = PolicyState(
            id=policy_id,
            name=summary["Name"],
            content=document["Content"],
            aws_managed=bool(summary.get("AwsManaged", False)),
        )
        for target in _paginate(client, "list_targets_for_policy", "Targets", PolicyId=policy_id):
            snapshot.attachments.setdefault(target["TargetId"], []).append(policy_id)
    return snapshot


def _child_ou_named(client, snapshot: OrganizationSnapshot, parent_id: str, name: str) -> str | None:
    for ou in _paginate(client, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent_id):
        snapshot.ou_names[ou["Id"]] = ou["Name"]
        snapshot.parents.setdefault(ou["Id"], parent_id)
        if ou["Name"] == name:
            return ou["Id"]
    return None


def _read_subtree(client, snapshot: OrganizationSnapshot, ou_id: str) -> None:
    """Record every OU and account under `ou_id`, with their parents."""
    pending = [ou_id]
    seen = set()
    while pending:
        parent_id = pending.pop()
        if parent_id in seen:
            continue
        seen.add(parent_id)
        accounts = _paginate(client, "list_accounts_for_parent", "Accounts", ParentId=parent_id)
        snapshot.accounts_in_ou[parent_id] = [account["Id"] for account in accounts]
        for account in accounts:
            snapshot.parents[account["Id"]] = parent_id
        for ou in _paginate(client, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent_id):
            snapshot.ou_names[ou["Id"]] = ou["Name"]
            snapshot.parents[ou["Id"]] = parent_id
            pending.append(ou["Id"])


def _read_ancestors(client, snapshot: OrganizationSnapshot, child_id: str) -> None:
    """Record the parents of `child_id` up to the root, asking only for those not known yet."""
    current = child_id
    while current != snapshot.root_id:
        parent_id = snapshot.parents.get(current)
        if parent_id is None:
            parents = client.list_parents(ChildId=current)["Parents"]
            if not parents:
                return
            parent_id = parents[0]["Id"]
            snapshot.parents[current] = parent_id
        current = parent_id


# --- the checks ----------------------------------------------------------------------


def _result(check_function: CheckFunction, status: str, detail: str, customer: str | None = None, resource=""):
    return CheckResult(
        check_id=check_function.check_id,  # type: ignore[attr-defined]
        title=check_function.title,  # type: ignore[attr-defined]
        status=status,  # type: ignore[arg-type]
        detail=detail,
        customer=customer,
        resource=resource,
    )


def _customer_accounts(
    context: CheckContext, check_function: CheckFunction
) -> Iterator[tuple[Customer, str | None, CheckResult | None]]:
    """Yield each selected customer with its account id, or an ERROR result when the account is missing."""
    snapshot = context.organization
    for customer in context.customers:
        account_id = snapshot.customer_account_ids.get(customer.key)
        if account_id is None or account_id not in snapshot.accounts:
            error = _result(
                check_function,
                "ERROR",
                "the customer's account was not found, so this could not be checked (see account.active)",
                customer.key,
                account_id or "",
            )
            yield customer, None, error
        else:
            yield customer, account_id, None


@check("account.active", "Every customer account exists and is ACTIVE")
def account_active(context: CheckContext) -> Iterator[CheckResult]:
    snapshot = context.organization
    for customer in context.customers:
        account_id = snapshot.customer_account_ids.get(customer.key)
        account = snapshot.accounts.get(account_id or "")
        if account is None:
            where = f"account {account_id}" if account_id else f"no account with root email {customer.root_email}"
            yield _result(
                account_active,
                "FAIL",
                f"{where} in organization {snapshot.organization_id}; run `pulumi up`, or correct account_id "
                f"in {customer.source}",
                customer.key,
                account_id or "",
            )
        elif account.status != "ACTIVE":
            yield _result(
                account_active, "FAIL", f"account status is {account.status}, not ACTIVE", customer.key, account.id
            )
        else:
            yield _result(account_active, "PASS", "account is ACTIVE", customer.key, account.id)


@check("account.in-tier-ou", "Every customer account sits in its tier OU, compared by OU id")
def account_in_tier_ou(context: CheckContext) -> Iterator[CheckResult]:
    snapshot = context.organization
    for customer, account_id, error in _customer_accounts(context, account_in_tier_ou):
        if error is not None:
            yield error
            continue
        tier_ou_id = snapshot.tier_ou_ids.get(customer.tier)
        ou_name = context.config.catalog.tiers[customer.tier].ou_name
        parent_id = snapshot.parents.get(account_id)
        if tier_ou_id is None:
            yield _result(
                account_in_tier_ou,
                "FAIL",
                f"tier OU {ou_name} was not found under the customers OU; run `pulumi up`",
                customer.key,
                account_id,
            )
        elif parent_id != tier_ou_id:
            parent_name = snapshot.ou_names.get(parent_id or "", "the root" if parent_id == snapshot.root_id else "")
            yield _result(
                account_in_tier_ou,
                "FAIL",
                f"account is in {parent_id} {parent_name}".rstrip()
                + f", expected tier OU {tier_ou_id} ({ou_name}); run `pulumi up` to move it back",
                customer.key,
                account_id,
            )
        else:
            yield _result(
                account_in_tier_ou, "PASS", f"account is in {tier_ou_id} ({ou_name})", customer.key, account_id
            )


def _compare_guardrails(
    snapshot: OrganizationSnapshot, account_id: str, documents: Iterable[GuardrailDocument]
) -> tuple[list[str], list[str]]:
    """Return the expected policy names that are missing, and those whose content differs."""
    effective = {policy.name: policy for policy in snapshot.effective_policies(account_id)}
    missing, changed = [], []
    for document in documents:
        policy = effective.get(document.policy_name)
        if policy is None:
            missing.append(document.policy_name)
        elif not _same_document(policy.content, document.content):
            changed.append(document.policy_name)
    return missing, changed


def _same_document(live: str, expected: str) -> bool:
    try:
        return json.loads(live) == json.loads(expected)
    except ValueError:
        return live == expected


def _guardrail_results(
    check_function: CheckFunction,
    context: CheckContext,
    documents_of: Callable[[Customer], Iterable[GuardrailDocument]],
) -> Iterator[CheckResult]:
    for customer, account_id, error in _customer_accounts(context, check_function):
        if error is not None:
            yield error
            continue
        documents = list(documents_of(customer))
        missing, changed = _compare_guardrails(context.organization, account_id, documents)
        problems = []
        if missing:
            problems.append(f"not applied: {', '.join(missing)}")
        if changed:
            problems.append(f"content differs from the catalog: {', '.join(changed)}")
        if problems:
            yield _result(
                check_function,
                "FAIL",
                "; ".join(problems) + "; run `pulumi up` to attach and update them",
                customer.key,
                account_id,
            )
        else:
            names = ", ".join(document.policy_name for document in documents)
            yield _result(check_function, "PASS", f"applied: {names}", customer.key, account_id)


@check("guardrails.framework-applied", "The framework's guardrails apply to every customer account")
def framework_guardrails_applied(context: CheckContext) -> Iterator[CheckResult]:
    yield from _guardrail_results(
        framework_guardrails_applied, context, lambda customer: context.config.guardrails_for_tier(customer.tier)
    )


@check("guardrails.baseline-applied", "The baseline guardrails apply to every customer account")
def baseline_guardrails_applied(context: CheckContext) -> Iterator[CheckResult]:
    yield from _guardrail_results(baseline_guardrails_applied, context, lambda customer: context.config.baseline)


@check("guardrails.no-foreign-framework", "No other framework's guardrails apply to a customer account")
def no_foreign_framework(context: CheckContext) -> Iterator[CheckResult]:
    catalog = context.config.catalog
    # Longest set names first, so a set named like another's prefix is matched whole.
    sets = sorted({framework.guardrails for framework in catalog.frameworks.values()}, key=len, reverse=True)
    for customer, account_id, error in _customer_accounts(context, no_foreign_framework):
        if error is not None:
            yield error
            continue
        own = {catalog.framework_for_tier(customer.tier).guardrails, catalog.baseline_guardrails}
        foreign = []
        for policy in context.organization.effective_policies(account_id):
            set_name = next((name for name in sets if policy.name.startswith(f"{POLICY_NAME_PREFIX}{name}-")), None)
            if set_name is not None and set_name not in own:
                foreign.append(f"{policy.name} ({set_name})")
        if foreign:
            yield _result(
                no_foreign_framework,
                "FAIL",
                f"guardrails of another framework apply: {', '.join(sorted(foreign))}; detach them from the "
                "account or its OUs, or move the account to its tier OU",
                customer.key,
                account_id,
            )
        else:
            yield _result(
                no_foreign_framework, "PASS", "no other framework's guardrails apply", customer.key, account_id
            )


@check("account.tags", "Every customer account carries the tags its customer file gives")
def account_tags_match(context: CheckContext) -> Iterator[CheckResult]:
    # Imported here because the landing-zone module imports Pulumi, which verify needs only for this.
    from securebase.landing_zone import account_tags

    for customer, account_id, error in _customer_accounts(context, account_tags_match):
        if error is not None:
            yield error
            continue
        expected = account_tags(context.config, customer)
        live = {
            key: value
            for key, value in context.organization.tags.get(account_id, {}).items()
            if not key.startswith("aws:")
        }
        differences = []
        for key, value in sorted(expected.items()):
            if key not in live:
                differences.append(f"{key} missing (expected {value!r})")
            elif live[key] != value:
                differences.append(f"{key} is {live[key]!r}, expected {value!r}")
        for key in sorted(set(live) - set(expected)):
            differences.append(f"{key} is set but not in the customer file")
        if differences:
            yield _result(
                account_tags_match,
                "FAIL",
                "; ".join(differences) + "; run `pulumi up` to restore the tags",
                customer.key,
                account_id,
            )
        else:
            yield _result(account_tags_match, "PASS", f"{len(expected)} tags match", customer.key, account_id)


@check("ou.no-unmanaged-accounts", "No account outside the customer files sits in a customer OU")
def no_unmanaged_accounts(context: CheckContext) -> Iterator[CheckResult]:
    snapshot = context.organization
    managed = {account_id for account_id in snapshot.customer_account_ids.values() if account_id}
    ou_ids = []
    if snapshot.customers_ou_id is not None:
        ou_ids.append(snapshot.customers_ou_id)
        ou_ids += sorted(ou for ou in snapshot.accounts_in_ou if ou != snapshot.customers_ou_id)
    for ou_id in ou_ids:
        name = snapshot.ou_names.get(ou_id, "")
        unmanaged = sorted(
            account_id for account_id in snapshot.accounts_in_ou.get(ou_id, []) if account_id not in managed
        )
        if unmanaged:
            described = ", ".join(
                f"{account_id} ({snapshot.accounts[account_id].name})"
                if account_id in snapshot.accounts
                else account_id
                for account_id in unmanaged
            )
            yield _result(
                no_unmanaged_accounts,
                "FAIL",
                f"accounts without a customer file: {described}; add a customer file or move them out",
                resource=f"{ou_id} {name}".strip(),
            )
        else:
            yield _result(
                no_unmanaged_accounts, "PASS", "every account has a customer file", resource=f"{ou_id} {name}".strip()
            )


def _targets_in_use(context: CheckContext) -> list[str]:
    """Return the root, the customer OUs and the customer accounts, each once."""
    snapshot = context.organization
    targets = [snapshot.root_id]
    if snapshot.customers_ou_id is not None:
        targets.append(snapshot.customers_ou_id)
        targets += sorted(ou for ou in snapshot.accounts_in_ou if ou != snapshot.customers_ou_id)
    targets += sorted(
        account_id for account_id in snapshot.customer_account_ids.values() if account_id in snapshot.accounts
    )
    seen: dict[str, None] = {}
    for target in targets:
        seen.setdefault(target, None)
    return list(seen)


@check("scp.size", "Every SCP in use fits the SCP size limit")
def scp_size(context: CheckContext) -> Iterator[CheckResult]:
    snapshot = context.organization
    limit = context.config.settings.quotas.max_scp_size
    in_use = sorted(
        {policy_id for target in _targets_in_use(context) for policy_id in snapshot.attachments.get(target, [])}
    )
    for policy_id in in_use:
        policy = snapshot.policies[policy_id]
        size = len(policy.content)
        resource = f"{policy_id} {policy.name}"
        if size > limit:
            yield _result(
                scp_size,
                "FAIL",
                f"{size} characters, above the limit of {limit}; split the document or raise "
                "securebase:quotas.maxScpSize if AWS raised your quota",
                resource=resource,
            )
        else:
            yield _result(scp_size, "PASS", f"{size} of {limit} characters", resource=resource)


@check("scp.count-per-target", "No root, OU or account carries more SCPs than the limit")
def scp_count_per_target(context: CheckContext) -> Iterator[CheckResult]:
    snapshot = context.organization
    limit = context.config.settings.quotas.max_scps_per_target
    for target in _targets_in_use(context):
        count = len(snapshot.attachments.get(target, []))
        name = snapshot.ou_names.get(target) or (snapshot.accounts[target].name if target in snapshot.accounts else "")
        resource = f"{target} {name}".strip()
        if count > limit:
            yield _result(
                scp_count_per_target,
                "FAIL",
                f"{count} SCPs attached, above the limit of {limit}; detach unmanaged policies",
                resource=resource,
            )
        else:
            yield _result(scp_count_per_target, "PASS", f"{count} of {limit} SCPs attached", resource=resource)


ORGANIZATION_CHECKS: tuple[CheckFunction, ...] = (
    account_active,
    account_in_tier_ou,
    framework_guardrails_applied,
    baseline_guardrails_applied,
    no_foreign_framework,
    account_tags_match,
    no_unmanaged_accounts,
    scp_size,
    scp_count_per_target,
)


def passed(results: Iterable[CheckResult]) -> bool:
    """Return whether every result passed; ERROR counts as a failure."""
    return all(result.status == "PASS" for result in results)


def format_results(results: list[CheckResult], show_all: bool = True) -> list[str]:
    """Return the results as a text table, then a summary per check id.

    With `show_all` False, only results that did not pass are listed.
    """
    rows = [result for result in results if show_all or result.status != "PASS"]
    lines = []
    if rows:
        headers = ("STATUS", "CHECK", "CUSTOMER", "RESOURCE", "DETAIL")
        table = [(r.status, r.check_id, r.customer or "-", r.resource or "-", r.detail) for r in rows]
        widths = [max(len(headers[i]), *(len(row[i]) for row in table)) for i in range(4)]
        lines.append("  ".join(headers[i].ljust(widths[i]) for i in range(4)) + "  " + headers[4])
        for row in table:
            lines.append("  ".join(row[i].ljust(widths[i]) for i in range(4)) + "  " + row[4])
    counts: dict[str, dict[str, int]] = {}
    for result in results:
        counts.setdefault(result.check_id, {"PASS": 0, "FAIL": 0, "ERROR": 0})[result.status] += 1
    total = {status: sum(item[status] for item in counts.values()) for status in ("PASS", "FAIL", "ERROR")}
    if not show_all:
        for check_id, item in counts.items():
            lines.append(f"  {check_id}: {item['PASS']} passed, {item['FAIL']} failed, {item['ERROR']} errors")
    lines.append(
        f"{len(results)} checks: {total['PASS']} passed, {total['FAIL']} failed, {total['ERROR']} could not run."
    )
    return lines
