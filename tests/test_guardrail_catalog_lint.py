"""Lint every document in the guardrail catalog: shape, statement ids, platform-role exemption, size, IAM validity."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from parliament import analyze_policy_string

CATALOG = Path(__file__).resolve().parent.parent / "securebase" / "guardrails"
PLACEHOLDER = "{{platform_role_name}}"
DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
# IAM role names are at most 64 characters, so the size check uses the longest name a customer can configure.
MAX_LENGTH_ROLE_NAME = "R" * 64
# The SCP size quota before May 2026, in characters; documents stay under it so they fit older organizations too.
MAX_SCP_SIZE = 5120
# The per-target SCP quota before May 2026 was 5, and FullAWSAccess takes one of the slots.
MAX_DOCUMENTS_PER_SET = 4

FRAMEWORKS = ("soc2", "hipaa", "fedramp-moderate")
SETS = ("baseline", *FRAMEWORKS)
REQUIREMENT_ID = {
    # AICPA trust services criteria (2017): CC1.1 to CC9.2 and the A, C, PI and P series.
    "soc2": re.compile(r"(CC[1-9]|A1|C1|PI1|P[1-8])\.[1-9]"),
    # Sections of 45 CFR Part 164 Subpart C, such as 164.308(a)(1)(ii)(D).
    "hipaa": re.compile(r"164\.3(06|08|10|12|14|16)(\([A-Za-z0-9]+\))+"),
    # NIST SP 800-53 controls and enhancements, such as SA-9(5).
    "fedramp-moderate": re.compile(r"[A-Z]{2}-[1-9][0-9]?(\([1-9][0-9]?\))?"),
}
STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "Condition"}
PASCAL_CASE_WORDS = r"(?:[A-Z][a-z0-9]+)+"

# Parliament finding types to skip, each mapped to the reason it cannot point to a mistake in a Deny-only SCP.
# None is needed with parliament 1.6.4: its resource checks (RESOURCE_MISMATCH, RESOURCE_STAR and
# RESOURCE_EFFECTIVELY_STAR) run only on Allow statements. Every other finding fails the test.
IGNORED_FINDINGS: dict[str, str] = {}

DOCUMENT_PATHS = sorted(CATALOG.glob("*/*.json"))
DOCUMENT_IDS = [path.relative_to(CATALOG).as_posix() for path in DOCUMENT_PATHS]
catalog_documents = pytest.mark.parametrize("path", DOCUMENT_PATHS, ids=DOCUMENT_IDS)


def document_name(path: Path) -> str:
    return path.relative_to(CATALOG).as_posix()


def load_document(path: Path, role_name: str = DEFAULT_ROLE_NAME) -> Any:
    """Read a catalog document with the placeholder replaced, as the program loads it."""
    text = path.read_text(encoding="utf-8").replace(PLACEHOLDER, role_name)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        pytest.fail(f"{document_name(path)}: invalid JSON at line {error.lineno}: {error.msg}")


def policy_of(path: Path, role_name: str = DEFAULT_ROLE_NAME) -> dict[str, Any]:
    document = load_document(path, role_name)
    assert isinstance(document, dict), f"{document_name(path)}: document must be a JSON object"
    policy = document.get("Policy")
    assert isinstance(policy, dict), f"{document_name(path)}: Policy is missing or not a JSON object"
    return policy


def statements_of(path: Path) -> list[dict[str, Any]]:
    statements = policy_of(path).get("Statement")
    assert isinstance(statements, list) and statements, f"{document_name(path)}: Policy.Statement is missing or empty"
    return statements


def test_catalog_has_expected_sets():
    found = sorted({path.parent.name for path in DOCUMENT_PATHS})
    assert found == sorted(SETS), f"guardrail catalog {CATALOG} has sets {found}, expected {sorted(SETS)}"


@pytest.mark.parametrize("set_name", SETS)
def test_set_fits_attachment_quota(set_name):
    documents = sorted(path.name for path in CATALOG.glob(f"{set_name}/*.json"))
    assert len(documents) <= MAX_DOCUMENTS_PER_SET, (
        f"guardrail set {set_name} has {len(documents)} documents {documents}, but one target takes at most "
        f"{MAX_DOCUMENTS_PER_SET} besides FullAWSAccess; merge documents of related concerns"
    )


@catalog_documents
def test_file_name_is_kebab_case(path):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*\.json", path.name), (
        f"{document_name(path)}: file name must be kebab-case and name the concern, like organization-integrity.json"
    )


@catalog_documents
def test_placeholder_is_only_platform_role(path):
    placeholders = set(re.findall(r"\{\{.*?\}\}", path.read_text(encoding="utf-8")))
    unknown = sorted(placeholders - {PLACEHOLDER})
    assert not unknown, f"{document_name(path)}: unknown placeholders {unknown}; only {PLACEHOLDER} is substituted"


@catalog_documents
def test_wrapper_shape(path):
    name = document_name(path)
    document = load_document(path)

    assert isinstance(document, dict), f"{name}: document must be a JSON object"
    assert set(document) == {"Description", "Requirements", "Policy"}, (
        f"{name}: top-level keys are {sorted(document)}, expected Description, Policy and Requirements"
    )
    assert isinstance(document["Description"], str) and document["Description"].strip(), (
        f"{name}: Description must say what the document protects and why"
    )

    policy = document["Policy"]
    assert isinstance(policy, dict), f"{name}: Policy must be a JSON object"
    assert set(policy) == {"Version", "Statement"}, (
        f"{name}: Policy keys are {sorted(policy)}, expected Version, Statement"
    )
    assert policy["Version"] == "2012-10-17", f"{name}: Policy.Version is {policy['Version']!r}, expected '2012-10-17'"
    assert isinstance(policy["Statement"], list) and policy["Statement"], f"{name}: Policy.Statement must be a list"

    problems = []
    for index, statement in enumerate(policy["Statement"]):
        label = f"Statement[{index}] {statement.get('Sid', '(no Sid)')}"
        unknown = sorted(set(statement) - STATEMENT_KEYS)
        if unknown:
            problems.append(f"{label}: unknown keys {unknown}; SCP statements here take {sorted(STATEMENT_KEYS)}")
        missing = sorted({"Sid", "Effect", "Resource", "Condition"} - set(statement))
        if missing:
            problems.append(f"{label}: missing {missing}")
        if ("Action" in statement) == ("NotAction" in statement):
            problems.append(f"{label}: needs exactly one of Action or NotAction")
        if statement.get("Effect") != "Deny":
            problems.append(f"{label}: Effect is {statement.get('Effect')!r}, but catalog SCPs only deny")
    assert not problems, f"{name}: invalid statements:\n" + "\n".join(problems)


@catalog_documents
def test_requirements_name_real_frameworks(path):
    name = document_name(path)
    set_name = path.parent.name
    document = load_document(path)
    requirements = document.get("Requirements") if isinstance(document, dict) else None

    assert isinstance(requirements, dict), f"{name}: Requirements must map a framework to a list of requirement ids"
    unknown = sorted(set(requirements) - set(FRAMEWORKS))
    assert not unknown, f"{name}: Requirements has unknown frameworks {unknown}, expected some of {list(FRAMEWORKS)}"
    expected = set(FRAMEWORKS) if set_name == "baseline" else {set_name}
    missing = sorted(expected - set(requirements))
    assert not missing, f"{name}: Requirements must list ids for {missing}"

    problems = []
    for framework, ids in requirements.items():
        if not isinstance(ids, list) or not ids:
            problems.append(f"{framework}: expected a non-empty list of requirement ids, got {ids!r}")
            continue
        for requirement in ids:
            if not isinstance(requirement, str) or not REQUIREMENT_ID[framework].fullmatch(requirement):
                problems.append(f"{framework}: {requirement!r} is not a {framework} requirement id")
        duplicates = sorted(item for item, count in Counter(map(str, ids)).items() if count > 1)
        if duplicates:
            problems.append(f"{framework}: duplicate ids {duplicates}")
    assert not problems, f"{name}: invalid Requirements:\n" + "\n".join(problems)


@catalog_documents
def test_statement_ids_start_with_effect(path):
    name = document_name(path)
    statements = statements_of(path)
    sids = [statement.get("Sid", "") for statement in statements]

    problems = []
    for statement, sid in zip(statements, sids, strict=True):
        effect = statement.get("Effect", "")
        if not re.fullmatch(PASCAL_CASE_WORDS, sid):
            problems.append(f"{sid!r} is not PascalCase, like DenyLeaveOrganization")
        elif not re.fullmatch(re.escape(effect) + PASCAL_CASE_WORDS, sid):
            problems.append(f"{sid!r} must start with its effect {effect!r} and then name the concern")
    duplicates = sorted(sid for sid, count in Counter(sids).items() if count > 1)
    if duplicates:
        problems.append(f"duplicate statement ids {duplicates}")
    assert not problems, f"{name}: invalid statement ids:\n" + "\n".join(problems)


@catalog_documents
def test_deny_exempts_platform_role(path):
    name = document_name(path)
    platform_role_arn = f"arn:aws:iam::*:role/{DEFAULT_ROLE_NAME}"

    missing = []
    for statement in statements_of(path):
        if statement.get("Effect") != "Deny":
            continue
        exempt_arns = []
        for key, values in statement.get("Condition", {}).get("ArnNotLike", {}).items():
            # IAM matches condition key names case-insensitively.
            if key.lower() == "aws:principalarn":
                exempt_arns += [values] if isinstance(values, str) else values
        if platform_role_arn not in exempt_arns:
            missing.append(statement.get("Sid", "(no Sid)"))
    assert not missing, (
        f"{name}: Deny statements {missing} do not exempt the platform role; add "
        f'"ArnNotLike": {{"aws:PrincipalARN": ["arn:aws:iam::*:role/{PLACEHOLDER}"]}} to their Condition'
    )


@catalog_documents
def test_minified_policy_fits_scp_size(path):
    policy = policy_of(path, role_name=MAX_LENGTH_ROLE_NAME)
    size = len(json.dumps(policy, separators=(",", ":")))
    assert size <= MAX_SCP_SIZE, (
        f"{document_name(path)}: Policy is {size} characters minified with a {len(MAX_LENGTH_ROLE_NAME)}-character "
        f"role name, above the SCP limit of {MAX_SCP_SIZE}; move statements into another document of the set"
    )


@catalog_documents
def test_parliament_reports_no_findings(path):
    policy = policy_of(path)
    findings = analyze_policy_string(json.dumps(policy, indent=2), filepath=document_name(path)).findings

    reported = [finding for finding in findings if finding.issue not in IGNORED_FINDINGS]
    assert not reported, f"{document_name(path)}: parliament findings:\n" + "\n".join(
        f"{finding.issue}: {finding.detail} at {finding.location}" for finding in reported
    )
