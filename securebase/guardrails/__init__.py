"""Guardrail catalog: one JSON document per concern, in one folder per guardrail set.

Each file wraps an SCP with the framework requirements it serves (see README.md in
this folder). Documents are sent minified because the Organizations API counts every
character it receives, whitespace included, against the SCP size quota. A document
still above the quota once minified is split into parts that each fit. Splitting
keeps the meaning because every statement is a Deny, and a request denied by any
attached policy is denied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from securebase.problems import Problem

PLATFORM_ROLE_PLACEHOLDER = "{{platform_role_name}}"
POLICY_NAME_PREFIX = "securebase-"


@dataclass(frozen=True)
class GuardrailDocument:
    """One SCP as it is sent to AWS, with the catalog file it came from."""

    set_name: str
    name: str
    source: str
    description: str
    requirements: dict[str, tuple[str, ...]]
    content: str
    statement_ids: tuple[str, ...] = field(default=())

    @property
    def policy_name(self) -> str:
        """Return the SCP name in AWS Organizations."""
        return f"{POLICY_NAME_PREFIX}{self.set_name}-{self.name}"


def bundled_catalog_dir() -> Path:
    """Return the folder of the guardrail catalog shipped with the package."""
    return Path(str(resources.files(__package__)))


def minify(policy: dict[str, Any]) -> str:
    """Serialize a policy without optional whitespace, as the SCP size quota counts it."""
    return json.dumps(policy, separators=(",", ":"), ensure_ascii=False)


def load_guardrail_set(
    set_name: str,
    *,
    catalog_dir: Path,
    platform_role_name: str,
    max_size: int,
) -> tuple[list[GuardrailDocument], list[Problem]]:
    """Load every document of one guardrail set, minified and split to fit `max_size`."""
    folder = catalog_dir / set_name
    if not folder.is_dir():
        problem = Problem(
            source=str(catalog_dir),
            field=set_name,
            rule="guardrail set folder not found",
            fix=f"create {folder} with the set's JSON documents, or correct guardrailCatalogDir",
        )
        return [], [problem]

    documents: list[GuardrailDocument] = []
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.json")):
        loaded, found = _load_document(path, set_name, platform_role_name, max_size)
        documents += loaded
        problems += found
    if not documents and not problems:
        problems.append(
            Problem(
                source=str(folder),
                field="",
                rule="guardrail set has no JSON documents",
                fix="add at least one document, or point the framework at another set",
            )
        )
    return documents, problems


def _load_document(
    path: Path, set_name: str, platform_role_name: str, max_size: int
) -> tuple[list[GuardrailDocument], list[Problem]]:
    source = str(path)
    text = path.read_text(encoding="utf-8")
    try:
        raw = json.loads(text.replace(PLATFORM_ROLE_PLACEHOLDER, platform_role_name))
    except json.JSONDecodeError as error:
        return [], [
            Problem(
                source=source,
                field="",
                rule=f"invalid JSON: {error.msg}",
                fix="correct the JSON syntax at that line",
                line=error.lineno,
            )
        ]

    shape_problems = _check_shape(raw, source)
    if shape_problems:
        return [], shape_problems

    policy = raw["Policy"]
    requirements = {key: tuple(value) for key, value in raw.get("Requirements", {}).items()}
    base = dict(
        set_name=set_name,
        source=source,
        description=raw["Description"],
        requirements=requirements,
    )
    content = minify(policy)
    statements = policy["Statement"]
    if len(content) <= max_size:
        ids = tuple(statement.get("Sid", "") for statement in statements)
        return [GuardrailDocument(name=path.stem, content=content, statement_ids=ids, **base)], []

    parts, problems = _split(policy, source, max_size)
    documents = [
        GuardrailDocument(
            name=f"{path.stem}-part{number}",
            content=minify(part),
            statement_ids=tuple(statement.get("Sid", "") for statement in part["Statement"]),
            **base,
        )
        for number, part in enumerate(parts, 1)
    ]
    return documents, problems


def _check_shape(raw: Any, source: str) -> list[Problem]:
    problems = []

    def add(field_name: str, rule: str, fix: str) -> None:
        problems.append(Problem(source=source, field=field_name, rule=rule, fix=fix))

    if not isinstance(raw, dict):
        add("", "document must be a JSON object", "wrap the policy as {Description, Requirements, Policy}")
        return problems
    unknown = sorted(set(raw) - {"Description", "Requirements", "Policy"})
    for key in unknown:
        add(key, "unknown key", "keep only Description, Requirements and Policy")
    if not isinstance(raw.get("Description"), str) or not raw.get("Description"):
        add("Description", "missing or empty", "say what the document protects and why")
    requirements = raw.get("Requirements", {})
    if not isinstance(requirements, dict) or not all(
        isinstance(ids, list) and all(isinstance(item, str) for item in ids) for ids in requirements.values()
    ):
        add("Requirements", "must map a framework to a list of requirement ids", 'write {"soc2": ["CC6.1"]}')
    policy = raw.get("Policy")
    if not isinstance(policy, dict) or not isinstance(policy.get("Statement"), list) or not policy["Statement"]:
        add("Policy.Statement", "missing or empty statement list", "add the policy with at least one statement")
    return problems


def _split(policy: dict[str, Any], source: str, max_size: int) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Pack statements in order into as few documents as fit, first fit."""
    header = {key: value for key, value in policy.items() if key != "Statement"}
    parts: list[list[dict[str, Any]]] = []
    problems = []
    for statement in policy["Statement"]:
        alone = minify({**header, "Statement": [statement]})
        if len(alone) > max_size:
            problems.append(
                Problem(
                    source=source,
                    field=f"Policy.Statement[{statement.get('Sid', '?')}]",
                    rule=f"statement is {len(alone)} characters minified, above the SCP size limit of {max_size}",
                    fix="split the statement into smaller ones, or raise securebase:quotas.maxScpSize "
                    "if AWS raised your quota",
                )
            )
            continue
        for part in parts:
            if len(minify({**header, "Statement": [*part, statement]})) <= max_size:
                part.append(statement)
                break
        else:
            parts.append([statement])
    return [{**header, "Statement": part} for part in parts], problems
