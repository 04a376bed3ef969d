"""Tier and framework catalog shipped with the package."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from types import MappingProxyType

import yaml
from pydantic import BaseModel, ConfigDict, Field


class Tier(BaseModel):
    """A service tier: its OU, its framework and its default price."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    title: str
    ou_name: str
    framework: str
    monthly_base_price_usd: Decimal = Field(ge=0)


class Framework(BaseModel):
    """A compliance framework and the guardrail set that enforces it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    title: str
    guardrails: str


class Catalog(BaseModel):
    """All tiers and frameworks, and the guardrail set every customer gets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tiers: Mapping[str, Tier]
    frameworks: Mapping[str, Framework]
    baseline_guardrails: str

    def framework_for_tier(self, tier: str) -> Framework:
        """Return the framework that a tier runs under."""
        return self.frameworks[self.tiers[tier].framework]


def load_catalog() -> Catalog:
    """Load the bundled tier catalog."""
    text = resources.files(__package__).joinpath("tiers.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    tiers = {key: Tier(key=key, **value) for key, value in raw["tiers"].items()}
    frameworks = {key: Framework(key=key, **value) for key, value in raw["frameworks"].items()}
    for tier in tiers.values():
        if tier.framework not in frameworks:
            raise ValueError(f"tiers.yaml: tier {tier.key} names unknown framework {tier.framework}")
    return Catalog(
        tiers=MappingProxyType(tiers),
        frameworks=MappingProxyType(frameworks),
        baseline_guardrails=raw["baseline_guardrails"],
    )
