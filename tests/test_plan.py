"""Plan waves and the list-scheduled timeline."""

from __future__ import annotations

import math

import pytest

from securebase.offline.plan import (
    OPERATION_SECONDS,
    Task,
    build_plan,
    describe_duration,
    estimate_timeline,
)
from tests.support import ACCOUNT, ATTACHMENT, OU, POLICY, make_project, run_landing_zone

CREATE = OPERATION_SECONDS["CreateAccount"]


def lanes(count: int, limit: int = 5, seconds: float = CREATE, after: tuple[str, ...] = ()) -> list[Task]:
    """Return `count` account creations chained in `limit` lanes, as the program registers them."""
    tasks = []
    for index in range(count):
        waits = (f"account-{index - limit}",) if index >= limit else after
        tasks.append(Task(key=f"account-{index}", seconds=seconds, waits_for=waits, limited=True))
    return tasks


def test_hundred_accounts_near_lower_bound():
    timeline = estimate_timeline(lanes(100), max_account_creations=5)
    lower_bound = math.ceil(100 / 5) * CREATE

    assert timeline.lower_bound_seconds == lower_bound
    assert timeline.parallel_seconds <= 1.05 * lower_bound
    assert timeline.parallel_seconds >= lower_bound
    assert timeline.max_account_creations_in_flight == 5


def test_unchained_accounts_respect_limit():
    tasks = [Task(key=f"account-{index}", seconds=CREATE, limited=True) for index in range(100)]
    timeline = estimate_timeline(tasks, max_account_creations=5)

    assert timeline.max_account_creations_in_flight == 5
    assert timeline.parallel_seconds == pytest.approx(20 * CREATE)
    assert timeline.sequential_seconds == pytest.approx(100 * CREATE)


def test_unlimited_tasks_all_run_at_once():
    tasks = [Task(key=f"policy-{index}", seconds=2.0) for index in range(50)]
    timeline = estimate_timeline(tasks, max_account_creations=5)

    assert timeline.parallel_seconds == 2.0
    assert timeline.sequential_seconds == 100.0
    assert timeline.account_creations == 0


def test_dependencies_delay_start():
    tasks = [
        Task(key="organization", seconds=2.0),
        Task(key="ou", seconds=3.0, waits_for=("organization",)),
        *lanes(6, after=("ou",)),
    ]
    timeline = estimate_timeline(tasks, max_account_creations=5)
    starts = {item.key: item.start for item in timeline.schedule}

    assert starts["ou"] == 2.0
    assert starts["account-0"] == 5.0
    assert starts["account-5"] == 5.0 + CREATE
    assert timeline.parallel_seconds == 5.0 + 2 * CREATE
    assert timeline.critical_path_seconds == 5.0 + 2 * CREATE


def test_limit_of_one_serializes_creations():
    timeline = estimate_timeline(lanes(3, limit=5), max_account_creations=1)

    assert timeline.parallel_seconds == 3 * CREATE
    assert timeline.max_account_creations_in_flight == 1


def test_longest_chain_starts_first():
    # Two creations, one followed by a long chain: with one slot, the chained one must go first.
    tasks = [
        Task(key="short", seconds=10.0, limited=True),
        Task(key="long", seconds=10.0, limited=True),
        Task(key="after-long", seconds=100.0, waits_for=("long",)),
    ]
    timeline = estimate_timeline(tasks, max_account_creations=1)

    assert timeline.parallel_seconds == 110.0


@pytest.mark.parametrize(
    ("tasks", "message"),
    [
        ([Task(key="a", seconds=1, waits_for=("b",)), Task(key="b", seconds=1, waits_for=("a",))], "cycle"),
        ([Task(key="a", seconds=1, waits_for=("missing",))], "not in the plan"),
    ],
)
def test_invalid_graphs_rejected(tasks, message):
    with pytest.raises(ValueError, match=message):
        estimate_timeline(tasks, max_account_creations=5)


def test_limit_below_one_rejected():
    with pytest.raises(ValueError, match="at least 1"):
        estimate_timeline([], max_account_creations=0)


def test_plan_waves_of_bundled_program(tmp_path):
    run = run_landing_zone(make_project(tmp_path))
    plan = build_plan(run)
    wave_of = {step.name: step.wave for step in plan.steps}

    assert all(step.type.startswith("aws:") for step in plan.steps), "components are not operations"
    assert wave_of["organization-organization"] == 1
    assert wave_of["organization-customers-ou"] == 2
    assert wave_of["fintech-ou"] == 3
    assert wave_of["acme-finance-account"] == 4
    assert wave_of["baseline-organization-integrity-attachment"] == 3
    assert wave_of["soc2-data-protection-attachment"] == 4
    for step in plan.steps:
        for dependency in step.waits_for:
            waited = next(other for other in plan.steps if other.urn == dependency)
            assert waited.wave < step.wave, f"{step.name} waits for {waited.name} in a later wave"


def test_plan_default_operations(tmp_path):
    run = run_landing_zone(make_project(tmp_path))
    plan = build_plan(run)
    operations = {step.name: step.operations for step in plan.steps}

    assert operations["acme-finance-account"] == ("Read",), "an adopted account is imported"
    assert operations["federal-energy-board-account"] == ("CreateAccount", "MoveAccount")
    assert plan.count("CreateAccount") == 1
    types = {step.type for step in plan.steps}
    assert {ACCOUNT, OU, POLICY, ATTACHMENT} <= types


def test_plan_expands_component_dependencies(tmp_path):
    customers = {
        f"new-{number}": {
            "name": f"New {number}",
            "tier": "fintech",
            "framework": "soc2",
            "prefix": f"new{number}",
            "contact_email": f"it@new{number}.example",
        }
        for number in range(7)
    }
    run = run_landing_zone(make_project(tmp_path, customers=customers))
    plan = build_plan(run)
    by_name = {step.name: step for step in plan.steps}
    names = {step.urn: step.name for step in plan.steps}

    # Customers are dealt into 5 lanes in key order: new-5 waits for new-0, new-6 for new-1.
    assert "new-0-account" in {names[urn] for urn in by_name["new-5-account"].waits_for}
    assert "new-1-account" in {names[urn] for urn in by_name["new-6-account"].waits_for}
    timeline = estimate_timeline(plan.tasks(), max_account_creations=5)
    assert timeline.max_account_creations_in_flight == 5
    assert timeline.account_creations == 7


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(45, "45 seconds"), (480, "about 8 minutes"), (16 * 60, "about 16 minutes"), (3 * 3600, "about 3.0 hours")],
)
def test_describe_duration(seconds, expected):
    assert describe_duration(seconds) == expected


def test_max_parallel_caps_all_tasks():
    tasks = [Task(key=f"import-{index}", seconds=8.0) for index in range(100)]
    unbounded = estimate_timeline(tasks, max_account_creations=5)
    capped = estimate_timeline(tasks, max_account_creations=5, max_parallel=8)

    assert unbounded.parallel_seconds == 8.0
    assert capped.parallel_seconds == math.ceil(100 / 8) * 8.0
    assert capped.lower_bound_seconds == 100 * 8.0 / 8


def test_max_parallel_with_creations():
    tasks = lanes(10) + [Task(key=f"policy-{index}", seconds=2.0) for index in range(20)]
    timeline = estimate_timeline(tasks, max_account_creations=5, max_parallel=8)
    running_at_start = [item for item in timeline.schedule if item.start == 0.0]

    assert len(running_at_start) == 8
    assert timeline.max_account_creations_in_flight <= 5
    # Creations go first (longest chains), and the policies fill the three other workers meanwhile.
    assert timeline.parallel_seconds == pytest.approx(2 * CREATE)


def test_max_parallel_below_one_rejected():
    with pytest.raises(ValueError, match="max_parallel must be at least 1"):
        estimate_timeline([], max_account_creations=5, max_parallel=0)
