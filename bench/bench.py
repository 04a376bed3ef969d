"""Measure `validate` and `simulate` at growing numbers of generated customers.

Usage: .venv/bin/python bench/bench.py [--sizes 10,100,1000,5000] [--accounts new|adopted]

Each size runs in its own child process, so the peak resident memory it reports
(ru_maxrss) belongs to that size alone. Customers are spread over the three bundled
tiers. With `--accounts new` (the default) every customer gets a new account, with no
account_id and no lock entry. With `--accounts adopted` every customer names an
existing account and has a matching lock entry, and the emulator seeds those
accounts first. The "N new" estimate is always the list-scheduled time to create N
new accounts in lanes of maxAccountCreationsInProgress, next to the lower bound that
limit sets. The figures depend on the machine; docs/benchmarks.md records one run.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
TIERS = (("fintech", "soc2"), ("healthcare", "hipaa"), ("gov-federal", "fedramp-moderate"))


def generate_project(folder: Path, count: int, adopted: bool = False) -> Path:
    """Write a project with `count` valid customer files and the bundled stack settings into `folder`.

    With `adopted`, each customer names an existing account and the lock pins it.
    """
    project = folder / "project"
    customers = project / "customers"
    customers.mkdir(parents=True)
    shutil.copy(REPO / "Pulumi.dev.yaml", project / "Pulumi.dev.yaml")
    lock = {}
    for number in range(1, count + 1):
        tier, framework = TIERS[number % len(TIERS)]
        key = f"customer-{number:05d}"
        fields = {
            "name": f"Customer {number:05d} LLC",
            "tier": tier,
            "framework": framework,
            "prefix": f"c{number:05d}",
            "contact_email": f"security@customer-{number:05d}.example",
        }
        if adopted:
            fields["account_id"] = f"{700000000000 + number}"
            lock[key] = {
                "account_id": fields["account_id"],
                "root_email": f"aws-accounts+{key}@securebase-provider.example",
            }
        (customers / f"{key}.yaml").write_text(yaml.safe_dump(fields, sort_keys=False), encoding="utf-8")
    if adopted:
        (project / "accounts.lock.yaml").write_text(yaml.safe_dump({"accounts": lock}), encoding="utf-8")
    return project


def new_account_estimate(count: int, limit: int) -> tuple[float, float]:
    """Return the estimated seconds to create `count` new accounts, and the lower bound the limit sets.

    The tasks mirror the program: the organization, the customers OU and a tier OU,
    then the accounts, each waiting for the one `limit` places before it.
    """
    from securebase.offline.plan import OPERATION_SECONDS, Task, estimate_timeline

    seconds = OPERATION_SECONDS
    tasks = [
        Task(key="organization", seconds=seconds["Read"]),
        Task(key="customers-ou", seconds=seconds["CreateOrganizationalUnit"], waits_for=("organization",)),
        Task(key="tier-ou", seconds=seconds["CreateOrganizationalUnit"], waits_for=("customers-ou",)),
    ]
    for index in range(count):
        waits = (f"account-{index - limit}",) if index >= limit else ("tier-ou",)
        tasks.append(
            Task(
                key=f"account-{index}",
                seconds=seconds["CreateAccount"] + seconds["MoveAccount"],
                waits_for=waits,
                limited=True,
            )
        )
    timeline = estimate_timeline(tasks, limit)
    return timeline.parallel_seconds, math.ceil(count / limit) * seconds["CreateAccount"]


def peak_memory_mb() -> float:
    """Return this process's peak resident memory in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(count: int, adopted: bool) -> dict:
    """Validate and simulate `count` generated customers in this process; return the figures."""
    from securebase.cli import load_project, simulate

    with tempfile.TemporaryDirectory() as folder:
        project_dir = generate_project(Path(folder), count, adopted)
        started = time.perf_counter()
        project = load_project(project_dir, "dev")
        validate_seconds = time.perf_counter() - started
        validate_peak = peak_memory_mb()

        started = time.perf_counter()
        result = simulate(project)
        simulate_seconds = time.perf_counter() - started
    failed = [item for item in result.results if item.status != "PASS"]
    limit = project.settings.quotas.max_account_creations_in_progress
    estimate, bound = new_account_estimate(count, limit)
    return {
        "customers": count,
        "validate_seconds": validate_seconds,
        "validate_peak_mb": validate_peak,
        "simulate_seconds": simulate_seconds,
        "simulate_peak_mb": peak_memory_mb(),
        "resources": len(result.plan.steps),
        "checks": len(result.results),
        "checks_not_passed": len(failed),
        "account_creations": result.timeline.account_creations,
        "simulated_estimate_seconds": result.timeline.parallel_seconds,
        "new_accounts_estimate_seconds": estimate,
        "limit_lower_bound_seconds": bound,
        "peak_in_flight": result.timeline.max_account_creations_in_flight,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="10,100,1000,5000", help="comma-separated customer counts to measure (default: %(default)s)"
    )
    parser.add_argument(
        "--recursion-limit",
        type=int,
        help="Python recursion limit in each measured process (default: Python's, 1000); the Pulumi SDK "
        "walks the chain of new accounts recursively, so about 5,000 new accounts need more",
    )
    parser.add_argument(
        "--accounts",
        choices=("new", "adopted"),
        default="new",
        help="whether generated customers get new accounts or adopt existing ones (default: new)",
    )
    parser.add_argument(
        "--timeout", type=float, default=3600, help="seconds each size may run before it is stopped (default: 3600)"
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child is not None:
        if args.recursion_limit:
            sys.setrecursionlimit(args.recursion_limit)
        print(json.dumps(measure(args.child, args.accounts == "adopted")))
        return 0

    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    print(f"accounts: {args.accounts}; recursion limit: {args.recursion_limit or sys.getrecursionlimit()}")
    print(
        f"{'customers':>9} {'validate s':>10} {'ms/cust':>8} {'peak MiB':>8} "
        f"{'simulate s':>10} {'ms/cust':>8} {'peak MiB':>8} {'checks':>7} {'failed':>6} "
        f"{'simulated':>10} {'N new':>9} {'bound':>9} {'in flight':>9}"
    )
    for size in sizes:
        command = [sys.executable, __file__, "--child", str(size), "--accounts", args.accounts]
        if args.recursion_limit:
            command += ["--recursion-limit", str(args.recursion_limit)]
        try:
            completed = subprocess.run(command, capture_output=True, text=True, check=False, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            print(f"{size:>9} timed out after {args.timeout:.0f} s", flush=True)
            continue
        if completed.returncode != 0:
            last_line = (completed.stderr.strip().splitlines() or ["no error output"])[-1]
            print(f"{size:>9} failed: {last_line}", flush=True)
            continue
        row = json.loads(completed.stdout.strip().splitlines()[-1])
        print(
            f"{row['customers']:>9} {row['validate_seconds']:>10.2f} "
            f"{1000 * row['validate_seconds'] / size:>8.2f} {row['validate_peak_mb']:>8.0f} "
            f"{row['simulate_seconds']:>10.2f} {1000 * row['simulate_seconds'] / size:>8.2f} "
            f"{row['simulate_peak_mb']:>8.0f} {row['checks']:>7} {row['checks_not_passed']:>6} "
            f"{row['simulated_estimate_seconds'] / 60:>8.1f} m "
            f"{row['new_accounts_estimate_seconds'] / 60:>7.1f} m {row['limit_lower_bound_seconds'] / 60:>7.1f} m "
            f"{row['peak_in_flight']:>9}",
            flush=True,
        )
    print(
        "simulated: estimated deployment time of the simulated run. N new: estimated time to create N new "
        "accounts. bound: ceil(N / 5) x 4 min, the least time 5 account creations in progress allow."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
