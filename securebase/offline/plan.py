"""Deployment plan and estimated timeline of a recorded program run.

The plan lists every AWS operation in waves. Only custom resources count, because
components are not operations. A resource's wave is the length of the longest chain
of dependencies that leads to it, so every resource of one wave can run in parallel.

The timeline is a list schedule of the same dependency graph. Each resource starts
as soon as everything it waits for has finished. Workers are unbounded unless a
`max_parallel` is given, but at most `max_account_creations` CreateAccount operations
run at once, as AWS Organizations allows. Durations come from OPERATION_SECONDS,
which docs/timeline.md explains. They are estimates, so the timeline is an estimate too.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from securebase.offline.emulator import ACCOUNT, ORGANIZATION, ORGANIZATIONAL_UNIT, POLICY, POLICY_ATTACHMENT
from securebase.offline.runtime import RecordedResource, RecordedRun

# Estimated seconds per AWS API operation; docs/timeline.md gives the reason for each.
OPERATION_SECONDS: Mapping[str, float] = {
    "CreateAccount": 240.0,
    "MoveAccount": 5.0,
    "CreateOrganizationalUnit": 3.0,
    "CreatePolicy": 2.0,
    "UpdatePolicy": 2.0,
    "AttachPolicy": 3.0,
    "EnablePolicyType": 5.0,
    "EnableAWSServiceAccess": 2.0,
    "TagResource": 1.0,
    "UntagResource": 1.0,
    "Read": 2.0,
    # Any other resource type (S3 bucket, trail, Config recorder): one create call.
    "CreateResource": 3.0,
}
# Any other state-changing call the emulator reports (CreateKey, PutBucketPolicy, CreateTrail, ...).
OTHER_CALL_SECONDS = 2.0
# Provider resources configure credentials in the engine and make no AWS call.
PROVIDER_TYPE_PREFIX = "pulumi:providers:"
# The operation that counts against the "account creations in progress" quota.
LIMITED_OPERATION = "CreateAccount"

_CREATE_OPERATIONS = {
    ORGANIZATIONAL_UNIT: ("CreateOrganizationalUnit",),
    POLICY: ("CreatePolicy",),
    POLICY_ATTACHMENT: ("AttachPolicy",),
    # The provider creates the account in the root, then moves it to parent_id.
    ACCOUNT: ("CreateAccount", "MoveAccount"),
    ORGANIZATION: ("Read",),
}


@dataclass(frozen=True)
class Task:
    """One unit of work for the scheduler: its duration and the tasks it waits for."""

    key: str
    seconds: float
    waits_for: tuple[str, ...] = ()
    limited: bool = False


@dataclass(frozen=True)
class PlannedStep:
    """One resource operation of the plan."""

    urn: str
    type: str
    name: str
    parent: str
    waits_for: tuple[str, ...]
    operations: tuple[str, ...]
    seconds: float
    wave: int

    @property
    def creates_account(self) -> bool:
        """Whether the step runs CreateAccount and so takes an account-creation slot."""
        return LIMITED_OPERATION in self.operations

    @property
    def action(self) -> str:
        """Return what happens to the resource: create, import, update or none."""
        if not self.operations:
            return "none"
        first = self.operations[0]
        if first.startswith("Create") or first == "AttachPolicy":
            return "create"
        if first == "Read":
            return "import" if len(self.operations) == 1 else "import+update"
        return "update"


@dataclass(frozen=True)
class Plan:
    """Every resource operation of a run, ordered by wave and then by name."""

    steps: tuple[PlannedStep, ...]

    def waves(self) -> list[list[PlannedStep]]:
        """Return the steps grouped by wave, first wave first."""
        grouped: dict[int, list[PlannedStep]] = {}
        for step in self.steps:
            grouped.setdefault(step.wave, []).append(step)
        return [grouped[wave] for wave in sorted(grouped)]

    def tasks(self) -> list[Task]:
        """Return the steps as scheduler tasks keyed by URN."""
        return [
            Task(key=step.urn, seconds=step.seconds, waits_for=step.waits_for, limited=step.creates_account)
            for step in self.steps
        ]

    def count(self, operation: str) -> int:
        """Return how many steps include `operation`."""
        return sum(1 for step in self.steps if operation in step.operations)


@dataclass(frozen=True)
class ScheduledTask:
    """When one task starts and finishes in the estimated schedule, in seconds from the start."""

    key: str
    start: float
    finish: float
    limited: bool


@dataclass(frozen=True)
class Timeline:
    """Estimated deployment duration, parallel and sequential, in seconds."""

    parallel_seconds: float
    sequential_seconds: float
    lower_bound_seconds: float
    critical_path_seconds: float
    max_account_creations: int
    account_creations: int
    max_account_creations_in_flight: int
    max_parallel: int | None = None
    schedule: tuple[ScheduledTask, ...] = field(repr=False, default=())


def default_operations(resource: RecordedResource) -> tuple[str, ...]:
    """Return the operations `pulumi up` would run for a resource in an empty stack."""
    if resource.import_id:
        return ("Read",)
    return _CREATE_OPERATIONS.get(resource.type, ("CreateResource",))


def build_plan(
    run: RecordedRun,
    operations: Mapping[tuple[str, str], Sequence[str]] | None = None,
    durations: Mapping[str, float] = OPERATION_SECONDS,
) -> Plan:
    """Build the plan of a recorded run.

    `operations` maps (type, logical name) to the API calls made for a resource, as
    the emulator records them; resources missing from it get `default_operations`.
    """
    records = run.by_urn()
    custom = {
        urn: record
        for urn, record in records.items()
        if record.custom and not record.type.startswith(PROVIDER_TYPE_PREFIX)
    }
    children: dict[str, list[str]] = {}
    for record in records.values():
        children.setdefault(record.parent, []).append(record.urn)

    def custom_descendants(urn: str) -> set[str]:
        found: set[str] = set()
        pending = list(children.get(urn, []))
        while pending:
            child = pending.pop()
            if child in custom:
                found.add(child)
            pending += children.get(child, [])
        return found

    def resolve(dependency: str, seen: set[str]) -> set[str]:
        if dependency in custom:
            return {dependency}
        record = records.get(dependency)
        if record is None or dependency in seen:
            return set()
        seen.add(dependency)
        if record.custom:
            # A provider is not an operation, but it waits for what its inputs come from,
            # such as the account whose role it assumes, and so does every resource using it.
            found: set[str] = set()
            for upstream in record.all_dependencies:
                found |= resolve(upstream, seen)
            return found
        # Waiting for a component means waiting for every resource under it.
        return custom_descendants(dependency)

    waits: dict[str, tuple[str, ...]] = {}
    for urn, record in custom.items():
        needed: set[str] = set()
        dependencies = set(record.all_dependencies)
        if record.provider:
            dependencies.add(record.provider)
        for dependency in dependencies:
            needed |= resolve(dependency, set())
        needed.discard(urn)
        waits[urn] = tuple(sorted(needed))

    waves = _waves(waits)
    steps = []
    for urn, record in custom.items():
        if operations is not None and (record.type, record.name) in operations:
            names = tuple(operations[(record.type, record.name)])
        else:
            names = default_operations(record)
        parent = records[record.parent].name if record.parent in records else ""
        steps.append(
            PlannedStep(
                urn=urn,
                type=record.type,
                name=record.name,
                parent=parent,
                waits_for=waits[urn],
                operations=names,
                seconds=sum(durations.get(name, OTHER_CALL_SECONDS) for name in names),
                wave=waves[urn],
            )
        )
    steps.sort(key=lambda step: (step.wave, step.type, step.name))
    return Plan(steps=tuple(steps))


def _waves(waits: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Return each node's wave: 1 for no dependencies, else 1 + the largest wave it waits for."""
    order = _topological_order(waits)
    wave: dict[str, int] = {}
    for key in order:
        wave[key] = 1 + max((wave[dependency] for dependency in waits[key]), default=0)
    return wave


def _topological_order(waits: Mapping[str, Sequence[str]]) -> list[str]:
    remaining = {key: len(dependencies) for key, dependencies in waits.items()}
    dependents: dict[str, list[str]] = {key: [] for key in waits}
    for key, dependencies in waits.items():
        for dependency in dependencies:
            if dependency not in waits:
                raise ValueError(f"{key} waits for {dependency}, which is not in the plan")
            dependents[dependency].append(key)
    ready = sorted(key for key, count in remaining.items() if count == 0)
    order: list[str] = []
    while ready:
        key = ready.pop()
        order.append(key)
        for dependent in dependents[key]:
            remaining[dependent] -= 1
            if remaining[dependent] == 0:
                ready.append(dependent)
    if len(order) != len(waits):
        cycle = sorted(key for key, count in remaining.items() if count > 0)
        raise ValueError(f"dependency cycle among: {', '.join(cycle[:5])}; remove one of the depends_on")
    return order


def estimate_timeline(tasks: Sequence[Task], max_account_creations: int, max_parallel: int | None = None) -> Timeline:
    """List-schedule `tasks` with at most `max_account_creations` limited tasks at once.

    Workers are unbounded unless `max_parallel` caps all running tasks, as
    `pulumi up --parallel` does. Among ready tasks, the one with the longest
    remaining chain of work starts first (then by key), the usual priority rule
    for list scheduling.
    """
    if max_account_creations < 1:
        raise ValueError(f"max_account_creations must be at least 1, got {max_account_creations}")
    if max_parallel is not None and max_parallel < 1:
        raise ValueError(f"max_parallel must be at least 1, got {max_parallel}")
    by_key = {task.key: task for task in tasks}
    waits = {task.key: tuple(task.waits_for) for task in tasks}
    order = _topological_order(waits)

    dependents: dict[str, list[str]] = {key: [] for key in by_key}
    for task in tasks:
        for dependency in task.waits_for:
            dependents[dependency].append(task.key)
    # Remaining work from the start of each task to the end of the graph, its priority.
    tail: dict[str, float] = {}
    for key in reversed(order):
        tail[key] = by_key[key].seconds + max((tail[child] for child in dependents[key]), default=0.0)
    # Earliest finish with no limit: the critical path.
    earliest: dict[str, float] = {}
    for key in order:
        earliest[key] = by_key[key].seconds + max((earliest[dep] for dep in waits[key]), default=0.0)
    critical_path = max(earliest.values(), default=0.0)

    remaining = {key: len(dependencies) for key, dependencies in waits.items()}
    ready_limited: list[tuple[float, str]] = []
    ready_other: list[tuple[float, str]] = []
    running: list[tuple[float, str]] = []
    schedule: dict[str, ScheduledTask] = {}
    slots = max_account_creations
    workers = math.inf if max_parallel is None else max_parallel
    now = 0.0

    def release(key: str) -> None:
        queue = ready_limited if by_key[key].limited else ready_other
        heapq.heappush(queue, (-tail[key], key))

    def start(key: str) -> None:
        task = by_key[key]
        schedule[key] = ScheduledTask(key=key, start=now, finish=now + task.seconds, limited=task.limited)
        heapq.heappush(running, (now + task.seconds, key))

    def start_ready() -> None:
        nonlocal slots
        while len(running) < workers:
            limited_next = ready_limited[0] if ready_limited and slots > 0 else None
            other_next = ready_other[0] if ready_other else None
            if limited_next is None and other_next is None:
                return
            if other_next is None or (limited_next is not None and limited_next < other_next):
                heapq.heappop(ready_limited)
                slots -= 1
                start(limited_next[1])
            else:
                heapq.heappop(ready_other)
                start(other_next[1])

    for key in sorted(key for key, count in remaining.items() if count == 0):
        release(key)
    while ready_limited or ready_other or running:
        start_ready()
        if not running:
            break
        now, key = heapq.heappop(running)
        finished = [key]
        while running and running[0][0] == now:
            finished.append(heapq.heappop(running)[1])
        for done in finished:
            if by_key[done].limited:
                slots += 1
            for dependent in dependents[done]:
                remaining[dependent] -= 1
                if remaining[dependent] == 0:
                    release(dependent)

    limited = [task for task in tasks if task.limited]
    rounds = math.ceil(len(limited) / max_account_creations)
    lower_bound = max(
        critical_path,
        rounds * min((task.seconds for task in limited), default=0.0),
        sum(task.seconds for task in limited) / max_account_creations,
    )
    if max_parallel is not None:
        lower_bound = max(lower_bound, sum(task.seconds for task in tasks) / max_parallel)
    return Timeline(
        parallel_seconds=max((item.finish for item in schedule.values()), default=0.0),
        sequential_seconds=sum(task.seconds for task in tasks),
        lower_bound_seconds=lower_bound,
        critical_path_seconds=critical_path,
        max_account_creations=max_account_creations,
        account_creations=len(limited),
        max_account_creations_in_flight=_max_in_flight(item for item in schedule.values() if item.limited),
        max_parallel=max_parallel,
        schedule=tuple(sorted(schedule.values(), key=lambda item: (item.start, item.key))),
    )


def _max_in_flight(items) -> int:
    events = []
    for item in items:
        events.append((item.start, 1))
        events.append((item.finish, -1))
    # A task that finishes at the moment another starts frees its slot first.
    events.sort(key=lambda event: (event[0], event[1]))
    current = peak = 0
    for _, change in events:
        current += change
        peak = max(peak, current)
    return peak


def describe_duration(seconds: float) -> str:
    """Return a rounded duration for people, e.g. '45 seconds' or 'about 8 minutes'."""
    if seconds < 90:
        return f"{seconds:.0f} seconds"
    minutes = seconds / 60
    if minutes < 120:
        return f"about {minutes:.0f} minutes"
    return f"about {minutes / 60:.1f} hours"


def format_plan(plan: Plan) -> list[str]:
    """Return the plan as text lines, one block per wave."""
    lines = []
    names = {step.urn: step.name for step in plan.steps}
    for number, wave in enumerate(plan.waves(), 1):
        count = f"{len(wave)} resource" if len(wave) == 1 else f"{len(wave)} resources in parallel"
        lines.append(f"Wave {number} ({count}):")
        for step in wave:
            waits = ", ".join(names[urn] for urn in step.waits_for) or "nothing"
            operations = ", ".join(step.operations) or "no change"
            short_type = step.type.rsplit(":", 1)[-1]
            lines.append(
                f"  {short_type:<18} {step.name:<48} in {step.parent or '(stack)'}; "
                f"{step.action}: {operations}; waits for {waits}"
            )
    return lines


def format_timeline(timeline: Timeline) -> list[str]:
    """Return the timeline summary as text lines."""
    return [
        f"Estimated deployment: total {describe_duration(timeline.parallel_seconds)}, against "
        f"{describe_duration(timeline.sequential_seconds)} sequential "
        f"({timeline.parallel_seconds:.0f} s parallel, {timeline.sequential_seconds:.0f} s sequential).",
        f"  Account creations: {timeline.account_creations}, at most {timeline.max_account_creations} in "
        f"progress at once (peak in this schedule: {timeline.max_account_creations_in_flight}).",
        f"  Lower bound set by the dependencies and the creation limit: "
        f"{describe_duration(timeline.lower_bound_seconds)} ({timeline.lower_bound_seconds:.0f} s).",
        f"  Operations at once: {timeline.max_parallel or 'unbounded'}, apart from the creation limit.",
        "  Durations per operation are estimates from docs/timeline.md; AWS publishes none for CreateAccount.",
    ]
