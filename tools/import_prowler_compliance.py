"""Import framework requirements from Prowler's compliance files into SecureBase's control catalog.

Prowler (Apache License 2.0) ships one JSON file per framework in its wheel, under
prowler/compliance/aws/. This script copies each requirement's id, title, section,
description and Prowler check ids into securebase/controls/<framework>.yaml, and keeps
the fields SecureBase owns in that file (platform settings, SecureBase checks and
requirements that SecureBase added) as they are.

Usage, from the repository root:

    pip download --no-deps prowler==5.46.0 -d /tmp/prowler-wheel
    python tools/import_prowler_compliance.py /tmp/prowler-wheel/prowler-5.46.0-py3-none-any.whl

The argument may also be a folder holding the unpacked `prowler/compliance/aws/` tree.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
CONTROLS_DIR = REPO / "securebase" / "controls"
COMPLIANCE_PATH = "prowler/compliance/aws"


def hipaa_id(prowler_id: str, name: str) -> str:
    """Turn `164_308_a_1_ii_a` into the regulation's citation `164.308(a)(1)(ii)(A)`.

    Paragraph levels of 45 CFR 164 go (a), (1), (ii), (A), so the fourth level is upper case.
    """
    part, section, *levels = prowler_id.split("_")
    cited = [level.upper() if depth == 3 else level for depth, level in enumerate(levels)]
    return f"{part}.{section}" + "".join(f"({level})" for level in cited)


def soc2_id(prowler_id: str, name: str) -> str:
    """Take the criterion reference (e.g. `CC6.1`, `A1.2`) from the start of the name.

    The name is used instead of the Prowler id because Prowler's id `cc_a_1_1` belongs to criterion A1.2.
    """
    return name.split(" ", 1)[0]


def nist_id(prowler_id: str, name: str) -> str:
    """Turn `ac-2-12-a` into the NIST SP 800-53 form `AC-2(12)(a)`."""
    family, number, *enhancements = prowler_id.split("-")
    return f"{family.upper()}-{number}" + "".join(f"({item})" for item in enhancements)


def hipaa_title(name: str, attributes: dict[str, Any]) -> str:
    return name.split(" ", 1)[1]


def soc2_title(name: str, attributes: dict[str, Any]) -> str:
    return name.split(" ", 1)[1]


NIST_ID_PATTERN = re.compile(r"^[A-Z]{2}-\d")
TRAILING_NIST_ID = re.compile(r"\s*\([A-Z]{2}-[^ ]*\)$")


def nist_title(name: str, attributes: dict[str, Any]) -> str:
    """Drop the control id from a name such as `AC-2(1) Automated ...` or `Access Enforcement (AC-3)`.

    Prowler names some requirements by their id alone (`AC-2(f)`). Those take the title
    of the control they belong to, from the subsection.
    """
    title = TRAILING_NIST_ID.sub("", name.strip())
    if NIST_ID_PATTERN.match(title):
        title = title.split(" ", 1)[1] if " " in title else ""
    if not title:
        parent = attributes.get("SubSection", "")
        title = TRAILING_NIST_ID.sub("", parent)
        if NIST_ID_PATTERN.match(title):
            title = title.split(" ", 1)[1] if " " in title else title
    return title


@dataclass(frozen=True)
class FrameworkSource:
    """Source of one framework in Prowler, with the functions that read its ids and titles."""

    key: str
    prowler_framework: str
    requirement_id: Callable[[str, str], str]
    title: Callable[[str, dict[str, Any]], str]


FRAMEWORKS = (
    FrameworkSource("hipaa", "hipaa_aws", hipaa_id, hipaa_title),
    FrameworkSource("soc2", "soc2_aws", soc2_id, soc2_title),
    FrameworkSource("fedramp-moderate", "fedramp_moderate_revision_4_aws", nist_id, nist_title),
)

# Prowler 5.46.0 names 164_308_a_4_ii_c "164.308(a)(4)(ii)(B) Access authorization", a copy of
# the entry before it. The regulation's (ii)(C) is access establishment and modification.
TITLE_CORRECTIONS = {
    ("hipaa", "164_308_a_4_ii_c"): "Access establishment and modification",
}

# Prowler 5.46.0 spells the SOC 2 sections "Additional Criterial for ...", but the AICPA term is "criteria".
SECTION_CORRECTIONS = {"Additional Criterial": "Additional Criteria"}

# Fields in a catalog requirement that SecureBase writes by hand and an import keeps.
SECUREBASE_FIELDS = ("settings", "securebase_checks")


def read_compliance_files(source: Path) -> tuple[dict[str, dict[str, Any]], str]:
    """Read the three frameworks' JSON from a Prowler wheel or unpacked tree, and return it with Prowler's version."""
    names = {framework.prowler_framework for framework in FRAMEWORKS}
    files: dict[str, dict[str, Any]] = {}
    if source.is_file():
        with zipfile.ZipFile(source) as wheel:
            for name in names:
                files[name] = json.loads(wheel.read(f"{COMPLIANCE_PATH}/{name}.json"))
        match = re.match(r"prowler-([^-]+)-", source.name)
        version = match.group(1) if match else "unknown"
    else:
        for name in names:
            files[name] = json.loads((source / COMPLIANCE_PATH / f"{name}.json").read_text(encoding="utf-8"))
        version = "unknown"
    return files, version


def correct_section(section: str) -> str:
    for wrong, right in SECTION_CORRECTIONS.items():
        section = section.replace(wrong, right)
    return section


def convert(framework: FrameworkSource, raw: dict[str, Any], existing: dict[str, Any]) -> list[dict[str, Any]]:
    """Build the catalog's requirement list, keeping SecureBase's fields from `existing`."""
    previous_by_id = {item["id"]: item for item in existing.get("requirements", [])}
    requirements = []
    for entry in raw["Requirements"]:
        attributes = entry["Attributes"][0] if entry.get("Attributes") else {}
        requirement_id = framework.requirement_id(entry["Id"], entry["Name"])
        title = TITLE_CORRECTIONS.get((framework.key, entry["Id"])) or framework.title(entry["Name"], attributes)
        cited = entry["Name"].split(" ", 1)[0]
        corrected = (framework.key, entry["Id"]) in TITLE_CORRECTIONS
        if framework.key == "hipaa" and cited != requirement_id and not corrected:
            raise SystemExit(
                f"{framework.prowler_framework}: requirement {entry['Id']} is named {entry['Name']!r}, "
                f"which does not match its id {requirement_id}; check it and add a TITLE_CORRECTIONS entry"
            )
        item: dict[str, Any] = {
            "id": requirement_id,
            "title": title,
            "section": correct_section(attributes.get("Section", "")),
            "description": " ".join(entry.get("Description", "").split()),
            "prowler_id": entry["Id"],
        }
        previous = previous_by_id.get(requirement_id, {})
        for field_name in SECUREBASE_FIELDS:
            if previous.get(field_name):
                item[field_name] = previous[field_name]
        item["prowler_checks"] = sorted(set(entry.get("Checks", [])))
        requirements.append(item)

    imported = {item["id"] for item in requirements}
    for item in existing.get("requirements", []):
        # Requirements that SecureBase added (no prowler_id) survive an import unchanged.
        if "prowler_id" not in item and item["id"] not in imported:
            requirements.append(item)
    return requirements


def header(framework: FrameworkSource, version: str) -> str:
    return (
        f"# SecureBase control catalog for {framework.key}.\n"
        f"# NOTICE: requirement ids, titles, sections, descriptions and prowler_checks come from\n"
        f"# Prowler {version} ({COMPLIANCE_PATH}/{framework.prowler_framework}.json), Copyright Prowler\n"
        "# contributors, licensed under the Apache License 2.0, converted by\n"
        "# tools/import_prowler_compliance.py. settings, securebase_checks and requirements without\n"
        "# a prowler_id are SecureBase's own and survive a re-import.\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="Prowler wheel (.whl) or a folder containing prowler/compliance/aws")
    parser.add_argument("--out", type=Path, default=CONTROLS_DIR, help="catalog folder (default: %(default)s)")
    args = parser.parse_args(argv)

    if not args.source.exists():
        print(f"error: {args.source} not found; download it with pip download --no-deps prowler==<version>",
              file=sys.stderr)
        return 2
    files, version = read_compliance_files(args.source)
    for framework in FRAMEWORKS:
        path = args.out / f"{framework.key}.yaml"
        existing = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
        raw = files[framework.prowler_framework]
        catalog = {
            "framework": framework.key,
            "source": {
                "name": "Prowler",
                "version": version,
                "file": f"{COMPLIANCE_PATH}/{framework.prowler_framework}.json",
                "license": "Apache-2.0",
                "prowler_framework": framework.prowler_framework,
                "prowler_name": raw.get("Name", ""),
            },
            "requirements": convert(framework, raw, existing or {}),
        }
        body = yaml.safe_dump(catalog, sort_keys=False, allow_unicode=True, width=110)
        path.write_text(header(framework, version) + body, encoding="utf-8")
        print(f"wrote {path} with {len(catalog['requirements'])} requirements")
    return 0


if __name__ == "__main__":
    sys.exit(main())
