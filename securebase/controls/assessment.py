"""Assessment: one customer's check results rated against its framework's requirements.

Ratings are strict, because a report that calls a requirement met without proof is
worse than one that shows a gap:

- MET: at least one mapped check passed, none failed, and every other mapped check is
  NOT APPLICABLE.
- PARTLY MET: at least one mapped check passed, and another failed or has no result.
- NOT MET: no mapped check passed and at least one failed.
- NO EVIDENCE: no mapped check has a PASS or FAIL, or no check is mapped at all.

A Prowler check is NOT APPLICABLE when Prowler finished its run and reported no finding
for it: Prowler reports nothing for a check when the account has no resource of that
kind. This is how Prowler rates its own compliance requirements. When Prowler did not
run or did not finish, such a check has no result instead. An ERROR result means the
check could not run or could not decide (Prowler's MANUAL), so it counts as no result.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from securebase.catalog import Catalog, load_catalog
from securebase.checks.results import CheckResult
from securebase.controls.catalog import (
    FrameworkCatalog,
    GuardrailControl,
    Requirement,
    guardrail_controls,
    load_framework_catalog,
)
from securebase.customers import Customer
from securebase.guardrails import GuardrailDocument, bundled_catalog_dir, load_guardrail_set

SECUREBASE_SOURCE = "securebase"
PROWLER_SOURCE = "prowler"
SOURCE_NAMES = {SECUREBASE_SOURCE: "securebase verify", PROWLER_SOURCE: "Prowler"}
# Failing results listed per check in a requirement's gaps. The rest are counted.
MAX_FAILURES_LISTED = 5

NOT_APPLICABLE_REASON = "Prowler found no resource of this kind in the account"
NO_CHECK_GAP = "No automated check covers this requirement, so its evidence must come from the customer's own records."

CheckState = Literal["PASS", "FAIL", "NOT APPLICABLE", "NO RESULT"]


class Rating(StrEnum):
    """How far a requirement is evidenced as met."""

    MET = "MET"
    PARTLY_MET = "PARTLY MET"
    NOT_MET = "NOT MET"
    NO_EVIDENCE = "NO EVIDENCE"

    @property
    def css_class(self) -> str:
        """Return the rating as a CSS class name, e.g. `partly-met`."""
        return self.value.lower().replace(" ", "-")


@dataclass(frozen=True)
class CheckEvidence:
    """The customer's results of one mapped check, reduced to one state."""

    check_id: str
    source: str
    state: CheckState
    results: tuple[CheckResult, ...]
    reason: str = ""

    @property
    def last_checked(self) -> str | None:
        """Return the latest `checked_at` among the results, or None without results."""
        return max((result.checked_at for result in self.results), default=None)

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        """Return the FAIL results."""
        return tuple(result for result in self.results if result.status == "FAIL")

    @property
    def title(self) -> str:
        """Return the check's title from its results, or its id when it has none."""
        return next((result.title for result in self.results if result.title), self.check_id)


@dataclass(frozen=True)
class RequirementAssessment:
    """One requirement with its controls, its evidence and its rating."""

    requirement: Requirement
    guardrails: tuple[GuardrailControl, ...]
    evidence: tuple[CheckEvidence, ...]
    rating: Rating
    gaps: tuple[str, ...]


@dataclass(frozen=True)
class SectionSummary:
    """Requirement counts per rating within one section of the framework."""

    section: str
    counts: Mapping[Rating, int]

    @property
    def total(self) -> int:
        """Return the number of requirements in the section."""
        return sum(self.counts.values())


@dataclass(frozen=True)
class Assessment:
    """A customer's requirements, each rated from that customer's results only."""

    customer: str
    framework: str
    requirements: tuple[RequirementAssessment, ...]
    sources_run: frozenset[str]
    attribution: str

    def counts(self) -> dict[Rating, int]:
        """Return the number of requirements per rating, every rating present."""
        found = Counter(item.rating for item in self.requirements)
        return {rating: found.get(rating, 0) for rating in Rating}

    def sections(self) -> list[SectionSummary]:
        """Return per-section counts in the order sections first appear in the catalog."""
        grouped: dict[str, Counter[Rating]] = {}
        for item in self.requirements:
            grouped.setdefault(item.requirement.section, Counter())[item.rating] += 1
        return [
            SectionSummary(section=section, counts={rating: found.get(rating, 0) for rating in Rating})
            for section, found in grouped.items()
        ]


def assess(
    customer: Customer,
    results: Iterable[CheckResult],
    *,
    sources_run: Collection[str] = (SECUREBASE_SOURCE,),
    sources_completed: Collection[str] = (),
    guardrails: Mapping[str, Sequence[GuardrailDocument]] | None = None,
    controls: FrameworkCatalog | None = None,
    tiers: Catalog | None = None,
) -> Assessment:
    """Rate every requirement of the customer's framework from the customer's results.

    `sources_run` names the scanners that ran (`securebase`, `prowler`), so a check of a
    scanner that did not run is reported as not run rather than as missing.
    `sources_completed` names those that also finished: only then can a Prowler check
    without a finding be NOT APPLICABLE. `guardrails`
    defaults to the bundled guardrail catalog. Raises ValueError when a result belongs to
    another customer or to none, because a report must be built from one customer's
    evidence only.
    """
    tiers = tiers or load_catalog()
    controls = controls or load_framework_catalog(customer.framework)
    framework = tiers.frameworks[customer.framework]
    if guardrails is None:
        guardrails = _bundled_guardrails([framework.guardrails, tiers.baseline_guardrails])

    by_check: dict[tuple[str, str], list[CheckResult]] = defaultdict(list)
    for result in results:
        if result.customer != customer.key:
            raise ValueError(
                f"result {result.check_id} on {result.resource or 'no resource'} belongs to customer "
                f"{result.customer!r}, not {customer.key!r}; pass only the customer's own evidence"
            )
        by_check[(result.source, result.check_id)].append(result)

    assessed = []
    for requirement in controls.requirements:
        found = guardrail_controls(
            requirement.id, customer.framework, guardrails, framework.guardrails, tiers.baseline_guardrails
        )
        assessed.append(_assess_requirement(requirement, found, by_check, set(sources_run), set(sources_completed)))
    return Assessment(
        customer=customer.key,
        framework=customer.framework,
        requirements=tuple(assessed),
        sources_run=frozenset(sources_run),
        attribution=controls.attribution,
    )


def mapped_checks(requirement: Requirement, guardrails: Sequence[GuardrailControl]) -> list[tuple[str, str]]:
    """List (source, check id) pairs that evidence a requirement, without repeats, SecureBase's first."""
    checks = [(SECUREBASE_SOURCE, check) for check in requirement.securebase_checks]
    checks += [(SECUREBASE_SOURCE, check) for control in guardrails for check in control.evidence_checks]
    checks += [(PROWLER_SOURCE, check) for check in requirement.prowler_checks]
    return list(dict.fromkeys(checks))


def rate(states: Sequence[CheckState]) -> Rating:
    """Rate a requirement from the states of its mapped checks."""
    passed = states.count("PASS")
    failed = states.count("FAIL")
    if passed == 0 and failed == 0:
        return Rating.NO_EVIDENCE
    if passed + states.count("NOT APPLICABLE") == len(states):
        return Rating.MET
    if passed == 0:
        return Rating.NOT_MET
    return Rating.PARTLY_MET


def _assess_requirement(
    requirement: Requirement,
    guardrails: list[GuardrailControl],
    by_check: Mapping[tuple[str, str], list[CheckResult]],
    sources_run: set[str],
    sources_completed: set[str],
) -> RequirementAssessment:
    evidence = [
        _check_evidence(source, check_id, by_check.get((source, check_id), []), sources_run, sources_completed)
        for source, check_id in mapped_checks(requirement, guardrails)
    ]
    rating = rate([item.state for item in evidence])
    return RequirementAssessment(
        requirement=requirement,
        guardrails=tuple(guardrails),
        evidence=tuple(evidence),
        rating=rating,
        gaps=tuple(_gaps(evidence)),
    )


def _check_evidence(
    source: str, check_id: str, results: list[CheckResult], sources_run: set[str], sources_completed: set[str]
) -> CheckEvidence:
    ordered = tuple(sorted(results, key=lambda result: (result.checked_at, result.resource)))
    statuses = {result.status for result in ordered}
    if "FAIL" in statuses:
        return CheckEvidence(check_id, source, "FAIL", ordered)
    if "PASS" in statuses:
        return CheckEvidence(check_id, source, "PASS", ordered)
    if source not in sources_run:
        reason = f"{SOURCE_NAMES.get(source, source)} was not run in this scan"
    elif ordered:
        reason = f"the check gave no PASS or FAIL ({ordered[-1].detail.rstrip('.')})"
    elif source == PROWLER_SOURCE and source in sources_completed:
        # Prowler writes no finding for a check when the account has no resource it applies to.
        return CheckEvidence(check_id, source, "NOT APPLICABLE", ordered, NOT_APPLICABLE_REASON)
    elif source == PROWLER_SOURCE:
        reason = "Prowler did not finish in this scan"
    else:
        reason = f"{SOURCE_NAMES.get(source, source)} returned no result"
    return CheckEvidence(check_id, source, "NO RESULT", ordered, reason)


def _gaps(evidence: list[CheckEvidence]) -> list[str]:
    if not evidence:
        return [NO_CHECK_GAP]
    gaps = []
    for item in evidence:
        failures = item.failures
        for result in failures[:MAX_FAILURES_LISTED]:
            where = f" on {result.resource}" if result.resource else ""
            gaps.append(f"{item.check_id} failed{where}: {result.detail}")
        if len(failures) > MAX_FAILURES_LISTED:
            gaps.append(f"{item.check_id} failed on {len(failures) - MAX_FAILURES_LISTED} more resources")

    missing: dict[str, list[str]] = defaultdict(list)
    for item in evidence:
        if item.state == "NO RESULT":
            missing[item.reason].append(item.check_id)
    for reason, checks in missing.items():
        if len(checks) == 1:
            gaps.append(f"No result for {checks[0]} because {reason}.")
        else:
            gaps.append(f"No result for {len(checks)} checks because {reason}: {', '.join(checks)}.")
    return gaps


def _bundled_guardrails(set_names: list[str]) -> dict[str, list[GuardrailDocument]]:
    """Load guardrail sets from the bundled catalog for their Requirements fields only."""
    loaded = {}
    for set_name in set_names:
        # The role name and size limit do not matter here: only Requirements and statement ids are read.
        documents, _ = load_guardrail_set(
            set_name, catalog_dir=bundled_catalog_dir(), platform_role_name="platform-role", max_size=1_000_000
        )
        loaded[set_name] = documents
    return loaded
