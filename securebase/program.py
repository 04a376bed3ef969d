"""Entry point of the Pulumi program: settings, validation, organization read, components."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pulumi

from securebase.landing_zone import build_landing_zone, export_outputs
from securebase.lockfile import unlocked_customers, unlocked_reminder
from securebase.organization_facts import read_organization_facts
from securebase.problems import ConfigurationError
from securebase.security_baseline import build_security_baseline, prepare_security_baseline
from securebase.settings import CONFIG_NAMESPACE, Settings, SettingsError, settings_from_mapping
from securebase.validation import load_landing_zone


def stack_config_values() -> dict[str, Any]:
    """Return this stack's `securebase:` config as a mapping of camelCase key to value.

    Structured values (objects and lists) arrive as JSON text; scalars stay text, and
    pydantic converts them to the setting's type.
    """
    from pulumi.runtime import config as runtime_config

    # NOTE: the SDK has no public call that lists config keys; CONFIG and the
    # PULUMI_CONFIG environment variable are where pulumi 3.272 keeps them.
    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{CONFIG_NAMESPACE}:"
    values: dict[str, Any] = {}
    for key, text in raw.items():
        if not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        values[name] = text
        if isinstance(text, str) and text.lstrip()[:1] in ("{", "["):
            try:
                values[name] = json.loads(text)
            except ValueError:
                pass  # pydantic reports the text as an invalid value for the setting
    return values


def load_settings(stack: str) -> Settings:
    """Validate this stack's settings; raises SettingsError with every problem."""
    return settings_from_mapping(stack_config_values(), source=f"Pulumi.{stack}.yaml")


def run(project_dir: Path) -> None:
    """Run the landing-zone program; any invalid input ends it before a resource is registered."""
    try:
        settings = load_settings(pulumi.get_stack())
        # Offline checks first, so an invalid file is rejected before any AWS call.
        load_landing_zone(settings, project_dir)
        adopted_ous = [ou_id for ou_id in [settings.customers_ou_id, *settings.tier_ou_ids.values()] if ou_id]
        facts = read_organization_facts(adopted_ous)
        config = load_landing_zone(settings, project_dir, organization=facts)
    except (SettingsError, ConfigurationError) as error:
        # RunError ends the program with the message alone, without a Python traceback.
        raise pulumi.RunError(str(error)) from None
    unlocked = unlocked_customers(project_dir / settings.account_lock, config.customers)
    if unlocked:
        pulumi.log.warn(unlocked_reminder(unlocked, settings.account_lock))
    # Raises RunError on invalid baseline settings or an unreadable Identity Center, still
    # before any resource is registered.
    baseline_reads = prepare_security_baseline(config)
    _allow_deep_creation_chains(config)
    zone = build_landing_zone(config)
    export_outputs(config, zone)
    build_security_baseline(config, zone, baseline_reads)


def _allow_deep_creation_chains(config) -> None:
    """Raise Python's recursion limit to fit the chain of new accounts.

    The creation lanes make each new account wait for one created before it, so n new
    accounts form chains ceil(n / limit) long. The Pulumi SDK (3.272) walks such a chain
    recursively when it checks dependencies for cycles, using a few frames per link, and
    fails with RecursionError at about 1,000 new accounts with Python's default limit.
    """
    new_accounts = sum(1 for customer in config.customers if not customer.adopted)
    chain_length = math.ceil(new_accounts / config.settings.quotas.max_account_creations_in_progress)
    # NOTE: 10 frames per link is a measured margin, not a documented figure.
    needed = 1_000 + 10 * chain_length
    if sys.getrecursionlimit() < needed:
        sys.setrecursionlimit(needed)
