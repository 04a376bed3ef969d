"""Control catalog: each framework's requirements, the SecureBase controls that serve them,
and the checks whose results evidence them.

One YAML file per framework sits in this package (`hipaa.yaml`, `soc2.yaml`,
`fedramp-moderate.yaml`). Requirement ids, titles, sections, descriptions and Prowler
check ids are imported from Prowler's compliance files by
tools/import_prowler_compliance.py. `settings` and `securebase_checks` are SecureBase's.
Guardrail controls are not written in the catalog: they are read at run time from the
`Requirements` field of each guardrail document, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from securebase.guardrails import GuardrailDocument

CHECK_ID_PATTERN = r"^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$"
PROWLER_CHECK_PATTERN = r"^[a-z0-9_]+$"

# Check ids from `securebase verify` that show a guardrail set is attached where it belongs.
FRAMEWORK_GUARDRAILS_CHECK = "guardrails.framework-applied"
BASELINE_GUARDRAILS_CHECK = "guardrails.baseline-applied"
# An SCP applies only to accounts inside the OU it is attached to, so an attached guardrail
# is evidence for a customer only together with the account sitting in its tier OU.
ACCOUNT_PLACEMENT_CHECK = "account.in-tier-ou"


class CatalogError(ValueError):
    """A control catalog file that is missing or does not match the catalog format."""


class Requirement(BaseModel):
    """One framework requirement with the platform settings and checks mapped to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, description="Citation as the framework writes it, e.g. 164.312(b) or CC6.1.")
    title: str = Field(min_length=1)
    section: str = Field(min_length=1, description="Part of the framework the requirement belongs to.")
    description: str = ""
    prowler_id: str | None = Field(
        None, description="Requirement id in Prowler; none for requirements SecureBase added."
    )
    settings: tuple[str, ...] = Field((), description="Platform settings that serve it, as `Component: setting`.")
    securebase_checks: tuple[str, ...] = ()
    prowler_checks: tuple[str, ...] = ()

    @field_validator("securebase_checks")
    @classmethod
    def _check_securebase_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [item for item in value if not re.match(CHECK_ID_PATTERN, item)]
        if bad:
            raise ValueError(
                f"invalid SecureBase check ids {bad}; write them as area.name, e.g. trail.logs-every-account"
            )
        return value

    @field_validator("prowler_checks")
    @classmethod
    def _check_prowler_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [item for item in value if not re.match(PROWLER_CHECK_PATTERN, item)]
        if bad:
            raise ValueError(f"invalid Prowler check ids {bad}; Prowler ids are lower_snake_case")
        return value


class CatalogSource(BaseModel):
    """Origin of the imported part of a catalog, for the attribution notice."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: str
    file: str
    license: str
    prowler_framework: str
    prowler_name: str = ""


class FrameworkCatalog(BaseModel):
    """All requirements of one framework, in the order the framework lists them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    framework: str
    source: CatalogSource
    requirements: tuple[Requirement, ...]

    @property
    def attribution(self) -> str:
        """Return the notice that credits the imported requirement data."""
        source = self.source
        return (
            f"Requirement ids, titles, descriptions and {source.name} check mappings come from "
            f"{source.name} {source.version} ({source.file}), licensed under the Apache License 2.0."
        )

    def requirement(self, requirement_id: str) -> Requirement:
        """Return one requirement by id. Raises KeyError when the catalog has none."""
        for item in self.requirements:
            if item.id == requirement_id:
                return item
        raise KeyError(f"{self.framework} catalog has no requirement {requirement_id!r}")


def bundled_controls_dir() -> Path:
    """Return the folder of the control catalogs shipped with the package."""
    return Path(str(resources.files(__package__)))


def load_framework_catalog(framework: str, controls_dir: Path | None = None) -> FrameworkCatalog:
    """Load and validate one framework's catalog. Raises CatalogError naming the file and field."""
    folder = controls_dir or bundled_controls_dir()
    path = folder / f"{framework}.yaml"
    if not path.is_file():
        known = sorted(item.stem for item in folder.glob("*.yaml"))
        raise CatalogError(f"control catalog {path} not found; catalogs exist for: {', '.join(known) or 'none'}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise CatalogError(f"{path}: invalid YAML: {error}") from None
    try:
        catalog = FrameworkCatalog.model_validate(raw)
    except ValidationError as error:
        lines = [f"{path}: {len(error.errors())} problem(s) in the control catalog:"]
        for problem in error.errors():
            location = ".".join(str(part) for part in problem["loc"])
            lines.append(f"  {location}: {problem['msg']}")
        raise CatalogError("\n".join(lines)) from None
    if catalog.framework != framework:
        raise CatalogError(f"{path}: framework is {catalog.framework!r}, expected {framework!r} from the file name")
    seen: set[str] = set()
    for item in catalog.requirements:
        if item.id in seen:
            raise CatalogError(f"{path}: requirement {item.id!r} is listed twice")
        seen.add(item.id)
    return catalog


@dataclass(frozen=True)
class GuardrailControl:
    """A guardrail document whose Requirements field names a requirement."""

    set_name: str
    document: str
    description: str
    statement_ids: tuple[str, ...]
    evidence_checks: tuple[str, ...]

    @property
    def label(self) -> str:
        """Return the name shown in reports, e.g. `hipaa/phi-encryption`."""
        return f"{self.set_name}/{self.document}"


def requirement_matches(requirement_id: str, cited_id: str) -> bool:
    """Return whether a guardrail that cites `cited_id` serves `requirement_id`.

    A citation of a whole control also serves its enhancements and items: a guardrail
    for AC-2 serves AC-2(1) and AC-2(j). The `(` keeps SC-2 from matching SC-28.
    """
    return requirement_id == cited_id or requirement_id.startswith(f"{cited_id}(")


def guardrail_controls(
    requirement_id: str,
    framework: str,
    guardrails: Mapping[str, Sequence[GuardrailDocument]],
    framework_set: str,
    baseline_set: str,
) -> list[GuardrailControl]:
    """List the guardrail documents of the framework's set and the baseline that serve a requirement.

    Documents that were split to fit the SCP size quota come back as one control per source file.
    """
    controls: dict[tuple[str, str], GuardrailControl] = {}
    sets = ((framework_set, FRAMEWORK_GUARDRAILS_CHECK), (baseline_set, BASELINE_GUARDRAILS_CHECK))
    for set_name, evidence_check in sets:
        for document in guardrails.get(set_name, ()):
            cited = document.requirements.get(framework, ())
            if not any(requirement_matches(requirement_id, item) for item in cited):
                continue
            name = Path(document.source).stem
            key = (set_name, name)
            previous = controls.get(key)
            statements = (previous.statement_ids if previous else ()) + document.statement_ids
            controls[key] = GuardrailControl(
                set_name=set_name,
                document=name,
                description=document.description,
                statement_ids=statements,
                evidence_checks=(evidence_check, ACCOUNT_PLACEMENT_CHECK),
            )
    return list(controls.values())
