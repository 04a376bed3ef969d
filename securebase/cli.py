"""The `securebase` command: validate, simulate, verify and lock, over the same library the program uses.

Exit status: 0 when everything passed, 1 when the configuration is invalid or a check
failed, 2 for usage errors (a missing file, a bad option, an unreachable endpoint,
missing credentials). Errors go to stderr as one line, or as a numbered list for
configuration problems, and never as a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import socket
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from securebase.aws_sessions import account_sessions
from securebase.checks.results import CheckResult
from securebase.problems import ConfigurationError, yaml_error_line
from securebase.settings import CONFIG_NAMESPACE, Settings, SettingsError, settings_from_mapping
from securebase.validation import LandingZoneConfig, load_landing_zone

log = logging.getLogger("securebase")

# Above this many results, the human table lists only those that did not pass.
MAX_ROWS_SHOWN = 100


class CommandError(Exception):
    """A problem the user fixes before the command can run; `exit_code` is 2 for usage errors."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Project:
    """A project folder's stack config, settings and validated configuration."""

    project_dir: Path
    stack: str
    stack_config: dict[str, Any]
    settings: Settings
    config: LandingZoneConfig


# --- loading the project ---------------------------------------------------------------


def read_stack_config(project_dir: Path, stack: str) -> dict[str, Any]:
    """Return the config section of Pulumi.<stack>.yaml, keyed by full config key."""
    if not project_dir.is_dir():
        raise CommandError(f"project folder {project_dir} not found; pass --project-dir with the SecureBase project")
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise CommandError(
            f"stack file {path} not found; pass --stack with the name of an existing Pulumi.<stack>.yaml, "
            f"or create it with `pulumi stack init {stack}`"
        )
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        line = yaml_error_line(error, text)
        where = f"{path.name}:{line}" if line is not None else path.name
        reason = getattr(error, "problem", None) or str(error)
        raise CommandError(f"{where}: invalid YAML: {reason}; correct the YAML syntax at that line", 1) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("config") or {}, dict):
        raise CommandError(f"{path.name}: expected a mapping with a config: section of key: value pairs", 1)
    return dict(raw.get("config") or {})


def settings_from_stack_config(stack_config: dict[str, Any], stack: str) -> Settings:
    """Validate the `securebase:` keys of a stack config; raises SettingsError."""
    prefix = f"{CONFIG_NAMESPACE}:"
    values = {key[len(prefix) :]: value for key, value in stack_config.items() if key.startswith(prefix)}
    return settings_from_mapping(values, source=f"Pulumi.{stack}.yaml")


def load_project(project_dir: Path, stack: str) -> Project:
    """Read the stack config and validate the customer files.

    Raises CommandError, SettingsError or ConfigurationError.
    """
    project_dir = project_dir.resolve()
    stack_config = read_stack_config(project_dir, stack)
    settings = settings_from_stack_config(stack_config, stack)
    config = load_landing_zone(settings, project_dir)
    return Project(project_dir=project_dir, stack=stack, stack_config=stack_config, settings=settings, config=config)


def select_customers(config: LandingZoneConfig, keys: Sequence[str] | None, option: str = "--customer"):
    """Return the customers named in `keys` (all when empty); raises CommandError on an unknown key.

    `option` names where the keys came from, for the error message.
    """
    if not keys:
        return config.customers
    known = {customer.key: customer for customer in config.customers}
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise CommandError(
            f"unknown customer {', '.join(repr(key) for key in unknown)} in {option}; "
            f"use a customer file name without .yaml: {', '.join(sorted(known))}"
        )
    return tuple(known[key] for key in dict.fromkeys(keys))


def read_stack_outputs(path: Path | None) -> dict[str, Any] | None:
    """Read `pulumi stack output --json` output from `path`; raises CommandError when unreadable."""
    if path is None:
        return None
    if not path.is_file():
        raise CommandError(f"stack outputs file {path} not found; write it with `pulumi stack output --json > {path}`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise CommandError(
            f"stack outputs file {path} is not valid JSON ({error}); write it with `pulumi stack output --json`"
        ) from None
    if not isinstance(data, dict):
        raise CommandError(
            f"stack outputs file {path} must hold a JSON object; write it with `pulumi stack output --json`"
        )
    return data


def region_of(stack_config: dict[str, Any], override: str | None) -> str:
    """Return the region from the option, else the stack's aws:region, else us-east-1."""
    from securebase.offline.emulator import DEFAULT_REGION

    return override or str(stack_config.get("aws:region") or DEFAULT_REGION)


def revenue_lines(config: LandingZoneConfig) -> list[dict[str, Any]]:
    """Return each customer's monthly base price, by key."""
    return [
        {
            "customer": customer.key,
            "name": customer.name,
            "tier": customer.tier,
            "monthlyBasePriceUsd": float(customer.monthly_base_price_usd),
        }
        for customer in config.customers
    ]


def _usd(amount: Decimal | float) -> str:
    return f"${amount:,.2f}"


# --- validate -----------------------------------------------------------------------------


def command_validate(args: argparse.Namespace) -> int:
    from securebase.lockfile import unlocked_customers, unlocked_reminder

    project = load_project(Path(args.project_dir), args.stack)
    config = project.config
    documents = sum(len(documents) for documents in config.guardrails.values())
    tiers = config.tiers_in_use
    # The lock was read and checked by load_project, so it is readable here.
    unlocked = unlocked_customers(project.project_dir / project.settings.account_lock, config.customers)
    if args.format == "json":
        _print_json(
            {
                "valid": True,
                "customers": len(config.customers),
                "tiers": tiers,
                "guardrailDocuments": documents,
                "monthlyRevenueUsd": float(config.monthly_revenue_usd),
                "unlockedCustomers": unlocked,
            }
        )
    else:
        print(
            f"Configuration is valid: {len(config.customers)} customers in {len(tiers)} tiers "
            f"({', '.join(tiers) or 'none'}), {documents} guardrail documents, monthly revenue "
            f"{_usd(config.monthly_revenue_usd)}."
        )
        if unlocked:
            print(f"Reminder: {unlocked_reminder(unlocked, project.settings.account_lock)}.")
    return 0


# --- simulate -----------------------------------------------------------------------------


@dataclass
class Simulation:
    """Everything `simulate` found: the plan, the timeline, the checks and the emulator's notes."""

    organization_id: str
    emulator: str
    plan: Any
    timeline: Any
    results: list[CheckResult]
    outputs: dict[str, Any]
    program_messages: list[tuple[str, str]]
    seed_changes: list[str]


def organization_seed(project: Project, scp_enabled: bool):
    """Return the starting state that matches the project: its adopted accounts and OUs."""
    from securebase.lockfile import read_lock
    from securebase.offline.emulator import OrganizationSeed, SeedAccount, SeedOU

    settings = project.settings
    locked = read_lock(project.project_dir / settings.account_lock)
    accounts = []
    for customer in project.config.customers:
        if customer.account_id is None:
            continue
        email = str((locked.get(customer.key) or {}).get("root_email") or customer.root_email)
        accounts.append(SeedAccount(id=customer.account_id, email=email, name=customer.account_name))
    ous = []
    if settings.customers_ou_id:
        ous.append(SeedOU(id=settings.customers_ou_id, name=settings.customers_ou_name))
    for tier, ou_id in sorted(settings.tier_ou_ids.items()):
        # NOTE: an adopted tier OU is seeded under the adopted customers OU, or under the root
        # when the customers OU is created by the program; AWS cannot move an OU afterwards.
        ous.append(
            SeedOU(id=ou_id, name=project.config.catalog.tiers[tier].ou_name, parent_id=settings.customers_ou_id)
        )
    return OrganizationSeed(scp_enabled=scp_enabled, accounts=tuple(accounts), ous=tuple(ous))


def simulate(
    project: Project,
    *,
    endpoint_url: str | None = None,
    scp_enabled: bool = True,
    customers: Sequence[str] | None = None,
    region: str | None = None,
    create_account_seconds: float | None = None,
    max_parallel: int | None = None,
) -> Simulation:
    """Deploy the project into an emulated organization, then plan, estimate and check it.

    Raises CommandError when the emulator cannot be reached or rejects the deployment.
    """
    import boto3
    import botocore.exceptions

    from securebase.checks.organization import CheckContext, read_organization, run_checks
    from securebase.offline import emulator as emulation
    from securebase.offline import emulator_baseline
    from securebase.offline.plan import OPERATION_SECONDS, build_plan, estimate_timeline
    from securebase.offline.runtime import ProgramError, run_program
    from securebase.program import run as run_landing_zone

    selected = select_customers(project.config, customers)
    region = region_of(project.stack_config, region)
    durations = dict(OPERATION_SECONDS)
    if create_account_seconds is not None:
        durations["CreateAccount"] = create_account_seconds
    where = endpoint_url or "moto in-process"

    with emulation.emulated_aws(endpoint_url):
        client = emulation.emulator_client(endpoint_url, region)
        try:
            seed_changes = emulation.seed_organization(client, organization_seed(project, scp_enabled))
        except botocore.exceptions.EndpointConnectionError:
            raise CommandError(
                f"cannot reach the emulator at {endpoint_url}; start one with `moto_server -H 127.0.0.1 -p PORT` "
                "or correct --endpoint-url"
            ) from None
        except botocore.exceptions.ClientError as error:
            raise CommandError(f"the emulator at {where} rejected the organization setup: {error}") from None
        except emulation.EmulatorError as error:
            raise CommandError(str(error)) from None

        clients = emulator_baseline.MotoClients.fake(project.settings.platform_role_name, region, endpoint_url)
        emulator = emulation.OrganizationEmulator(
            client,
            extra_resources=emulator_baseline.resource_handlers(clients),
            extra_calls=emulator_baseline.call_handlers(clients),
        )
        try:
            recorded = run_program(
                lambda: run_landing_zone(project.project_dir),
                mocks=emulator,
                config=project.stack_config,
                stack=project.stack,
            )
        except ProgramError as error:
            raise CommandError(str(error), 1) from None
        except RecursionError:
            # The Pulumi SDK (3.272) walks depends_on chains recursively. The program raises the
            # limit for its chains of new accounts, so this means that margin was too small.
            new_accounts = sum(1 for customer in project.config.customers if not customer.adopted)
            accounts = f"{new_accounts} new account{'s' if new_accounts != 1 else ''}"
            raise CommandError(
                f"the Pulumi SDK exceeded Python's recursion limit ({sys.getrecursionlimit()}) while "
                f"ordering {accounts}; `pulumi up` fails the same way, so vend fewer new accounts per "
                "update",
                1,
            ) from None
        except (emulation.EmulatedAWSError, botocore.exceptions.ClientError, NotImplementedError) as error:
            failures = emulator.failures or [str(error)]
            listed = "\n".join(f"  {number}. {failure}" for number, failure in enumerate(failures, 1))
            raise CommandError(f"the emulated deployment failed; nothing else was applied:\n{listed}", 1) from None

        operations = {key: [operation.name for operation in value] for key, value in emulator.operations.items()}
        plan = build_plan(recorded, operations, durations)
        timeline = estimate_timeline(
            plan.tasks(), project.settings.quotas.max_account_creations_in_progress, max_parallel
        )
        snapshot = read_organization(client, project.config, recorded.outputs)
        context = CheckContext(
            config=project.config,
            organization=snapshot,
            customers=tuple(selected),
            make_client=lambda service: emulation.emulator_client(endpoint_url, region, service),
            session_for=account_sessions(
                boto3.session.Session(region_name=region, **emulation.FAKE_CREDENTIALS),
                project.settings.platform_role_name,
                endpoint_url,
            ),
        )
        results = run_checks(context)
    return Simulation(
        organization_id=snapshot.organization_id,
        emulator=where,
        plan=plan,
        timeline=timeline,
        results=results,
        outputs=recorded.outputs,
        program_messages=recorded.logs,
        seed_changes=seed_changes,
    )


def command_simulate(args: argparse.Namespace) -> int:
    _check_endpoint(args.endpoint_url)
    if args.serve is not None and args.endpoint_url is not None:
        raise CommandError("use either --serve or --endpoint-url: --serve starts its own emulator")
    project = load_project(Path(args.project_dir), args.stack)
    seconds = None if args.create_account_minutes is None else args.create_account_minutes * 60
    if args.serve is None:
        return _simulate_and_print(args, project, args.endpoint_url, seconds)

    from securebase.offline.emulator import emulator_settings

    with emulator_settings():
        server = _start_emulator_server(args.serve)
        endpoint_url = f"http://127.0.0.1:{args.serve}"
        try:
            with _emulator_request_log(args.serve) as log_path:
                exit_code = _simulate_and_print(args, project, endpoint_url, seconds)
                _serve_until_interrupted(server, endpoint_url, log_path)
        finally:
            server.stop()
    return exit_code


def _start_emulator_server(port: int):
    """Start a moto server thread on 127.0.0.1, in this process so adopted accounts keep their ids."""
    from moto.server import ThreadedMotoServer

    # moto's server thread waits forever when its port is taken, so the port is tried here first.
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise CommandError(
                f"cannot listen on 127.0.0.1:{port} ({error.strerror}); choose another --serve port"
            ) from None
    # A fresh emulated organization, also when earlier emulation ran in this process.
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server


@contextlib.contextmanager
def _emulator_request_log(port: int) -> Iterator[Path]:
    """Send the emulator's request log to a file, yield its path, and restore the logger afterwards.

    moto's server logs every request through werkzeug, with a traceback for each API moto
    lacks. A Prowler scan causes thousands of them, which would bury simulate's output.
    """
    import tempfile

    path = Path(tempfile.gettempdir()) / f"securebase-emulator-{port}.log"
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    request_logger = logging.getLogger("werkzeug")
    saved = (request_logger.handlers, request_logger.level, request_logger.propagate)
    # werkzeug adds its own terminal handler only to a logger without handlers.
    request_logger.handlers = [handler]
    request_logger.setLevel(logging.INFO)
    request_logger.propagate = False
    try:
        yield path
    finally:
        request_logger.handlers, level, request_logger.propagate = saved
        request_logger.setLevel(level)
        handler.close()


def _serve_until_interrupted(server, endpoint_url: str, log_path: Path) -> None:
    print()
    print(f"The emulated organization is serving at {endpoint_url} (request log: {log_path}).")
    print("In another shell, run for example:")
    print("  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1")
    print(f"  securebase verify --endpoint-url {endpoint_url}")
    print(f"  securebase scan --all --endpoint-url {endpoint_url}")
    print("Press Ctrl-C to stop it.", flush=True)
    try:
        _wait_for_interrupt()
    except KeyboardInterrupt:
        print("Emulator stopped.")


def _wait_for_interrupt() -> None:
    threading.Event().wait()


def _simulate_and_print(args: argparse.Namespace, project: Project, endpoint_url: str | None, seconds) -> int:
    from securebase.checks.organization import format_results, passed
    from securebase.offline.plan import format_plan, format_timeline

    result = simulate(
        project,
        endpoint_url=endpoint_url,
        scp_enabled=not args.scp_disabled,
        customers=args.customer,
        region=args.region,
        create_account_seconds=seconds,
        max_parallel=args.parallel,
    )
    ok = passed(result.results)
    config = project.config
    if args.format == "json":
        _print_json(
            {
                "organizationId": result.organization_id,
                "emulator": result.emulator,
                "plan": {"waves": [[_step_json(step) for step in wave] for wave in result.plan.waves()]},
                "timeline": _timeline_json(result.timeline),
                "checks": [item.as_dict() for item in result.results],
                "revenue": {
                    "customers": revenue_lines(config),
                    "totalMonthlyUsd": float(config.monthly_revenue_usd),
                },
                "programMessages": [{"severity": s, "message": m} for s, m in result.program_messages],
                "passed": ok,
            }
        )
        return 0 if ok else 1

    plan = result.plan
    print(
        f"Simulated `pulumi up` of {len(config.customers)} customers into organization {result.organization_id} "
        f"({result.emulator})."
    )
    for change in result.seed_changes:
        print(f"  emulator setup: {change}")
    for severity, message in result.program_messages:
        print(f"  program {severity}: {message}")
    print()
    print(f"Plan: {len(plan.steps)} resource operations in {len(plan.waves())} waves.")
    for line in format_plan(plan):
        print(line)
    print()
    for line in format_timeline(result.timeline):
        print(line)
    print()
    print("Verification checklist against the emulated organization:")
    show_all = args.all_results or len(result.results) <= MAX_ROWS_SHOWN
    for line in format_results(result.results, show_all=show_all):
        print(line)
    print()
    print("Monthly revenue:")
    width = max((len(customer.key) for customer in config.customers), default=0)
    for customer in config.customers:
        print(f"  {customer.key:<{width}}  {customer.tier:<12} {_usd(customer.monthly_base_price_usd):>14}")
    print(f"  {'total':<{width}}  {'':<12} {_usd(config.monthly_revenue_usd):>14}")
    return 0 if ok else 1


def _step_json(step) -> dict[str, Any]:
    return {
        "type": step.type,
        "name": step.name,
        "parent": step.parent,
        "waitsFor": [urn.rsplit("::", 1)[-1] for urn in step.waits_for],
        "operations": list(step.operations),
        "action": step.action,
        "seconds": step.seconds,
        "wave": step.wave,
    }


def _timeline_json(timeline) -> dict[str, Any]:
    return {
        "parallelSeconds": timeline.parallel_seconds,
        "sequentialSeconds": timeline.sequential_seconds,
        "lowerBoundSeconds": timeline.lower_bound_seconds,
        "criticalPathSeconds": timeline.critical_path_seconds,
        "accountCreations": timeline.account_creations,
        "maxAccountCreationsInProgress": timeline.max_account_creations,
        "maxParallel": timeline.max_parallel,
        "peakAccountCreationsInFlight": timeline.max_account_creations_in_flight,
    }


# --- verify -------------------------------------------------------------------------------


NO_CREDENTIALS_MESSAGE = (
    "no AWS credentials found; set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
    "for a read-only role in the management account"
)


def management_session(project: Project, region: str | None):
    """Return a boto3 session from the standard credential chain; raises CommandError without credentials."""
    import boto3

    session = boto3.session.Session(region_name=region_of(project.stack_config, region))
    if session.get_credentials() is None:
        raise CommandError(NO_CREDENTIALS_MESSAGE)
    return session


def add_stack_outputs_option(command: argparse.ArgumentParser, what: str) -> None:
    """Add --stack-outputs, the JSON of `pulumi stack output --json`, to a subcommand."""
    command.add_argument(
        "--stack-outputs",
        metavar="FILE",
        help=f"JSON from `pulumi stack output --json`, giving {what}",
    )


def verify(
    project: Project,
    *,
    endpoint_url: str | None = None,
    stack_outputs: dict[str, Any] | None = None,
    customers: Sequence[str] | None = None,
    region: str | None = None,
) -> list[CheckResult]:
    """Run the checklist against the organization that the standard credential chain reaches.

    Raises CommandError for missing credentials, an unreachable endpoint, or an
    account that is not an organization's management account.
    """
    from securebase.checks.organization import CheckContext, run_checks

    selected = select_customers(project.config, customers)
    session = management_session(project, region)

    def make_client(service: str):
        return session.client(service, endpoint_url=endpoint_url, config=_client_config())

    context = CheckContext(
        config=project.config,
        organization=read_live_organization(project, session, endpoint_url, stack_outputs),
        customers=tuple(selected),
        make_client=make_client,
        session_for=account_sessions(session, project.settings.platform_role_name, endpoint_url),
    )
    return run_checks(context)


def read_live_organization(project: Project, session, endpoint_url: str | None, stack_outputs: dict[str, Any] | None):
    """Read the organization's snapshot through the management session.

    Raises CommandError for missing credentials, an unreachable endpoint, or an
    account that is not an organization's management account.
    """
    import botocore.exceptions

    from securebase.checks.organization import read_organization

    client = session.client("organizations", endpoint_url=endpoint_url, config=_client_config())
    try:
        return read_organization(client, project.config, stack_outputs)
    except botocore.exceptions.EndpointConnectionError as error:
        raise CommandError(
            f"cannot reach {error.kwargs.get('endpoint_url', endpoint_url)}; check --endpoint-url or the network"
        ) from None
    except botocore.exceptions.NoCredentialsError:
        raise CommandError(NO_CREDENTIALS_MESSAGE) from None
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise CommandError(
            f"cannot read the organization ({code}): {error}; use credentials of the management account "
            "with organizations:Describe* and organizations:List* permissions"
        ) from None


def _client_config():
    import botocore.config

    return botocore.config.Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 3})


def command_verify(args: argparse.Namespace) -> int:
    from securebase.checks.organization import format_results, passed

    _check_endpoint(args.endpoint_url)
    project = load_project(Path(args.project_dir), args.stack)
    outputs = read_stack_outputs(Path(args.stack_outputs) if args.stack_outputs else None)
    results = verify(
        project, endpoint_url=args.endpoint_url, stack_outputs=outputs, customers=args.customer, region=args.region
    )
    ok = passed(results)
    if args.format == "json":
        _print_json({"passed": ok, "checks": [item.as_dict() for item in results]})
    else:
        show_all = args.all_results or len(results) <= MAX_ROWS_SHOWN
        for line in format_results(results, show_all=show_all):
            print(line)
    return 0 if ok else 1


# --- lock ---------------------------------------------------------------------------------


def command_lock(args: argparse.Namespace) -> int:
    from securebase.lockfile import LockFileError, add_missing_entries

    project = load_project(Path(args.project_dir), args.stack)
    outputs = read_stack_outputs(Path(args.stack_outputs) if args.stack_outputs else None) or {}
    known = {
        key: str(entry["accountId"])
        for key, entry in (outputs.get("customers") or {}).items()
        if isinstance(entry, dict) and entry.get("accountId")
    }
    path = project.project_dir / project.settings.account_lock
    try:
        added = add_missing_entries(path, project.config.customers, known)
    except LockFileError as error:
        raise CommandError(str(error), 1) from None
    if args.format == "json":
        _print_json(
            {
                "lockFile": str(path),
                "added": [
                    {"customer": entry.key, "rootEmail": entry.root_email, "accountId": entry.account_id}
                    for entry in added
                ],
            }
        )
        return 0
    if not added:
        print(f"{path.name} already lists every customer; nothing added.")
        return 0
    print(f"Added {len(added)} entries to {path.name}:")
    for entry in added:
        account = f", account {entry.account_id}" if entry.account_id else ", account id not known yet"
        print(f"  {entry.key}: {entry.root_email}{account}")
    return 0


# --- argument parsing ---------------------------------------------------------------------


def _check_endpoint(endpoint_url: str | None) -> None:
    from securebase.offline.emulator import check_loopback_endpoint

    if endpoint_url is None:
        return
    try:
        check_loopback_endpoint(endpoint_url)
    except ValueError as error:
        raise CommandError(f"{error}; pass --endpoint-url http://127.0.0.1:PORT") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid whole number {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _port(text: str) -> int:
    value = _positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"must be a TCP port from 1 to 65535, got {value}")
    return value


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of every subcommand and option."""
    parser = argparse.ArgumentParser(
        prog="securebase",
        description="Validate, simulate and verify a SecureBase landing zone (one YAML file per customer).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_project_options(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--project-dir",
            default=".",
            metavar="DIR",
            help="project folder with Pulumi.<stack>.yaml and the customer files (default: current folder)",
        )
        command.add_argument(
            "--stack",
            default="dev",
            metavar="NAME",
            help="stack whose settings are read from Pulumi.NAME.yaml (default: dev)",
        )
        command.add_argument(
            "--format",
            choices=("text", "json"),
            default="text",
            help="output format: text for people, json for CI (default: text)",
        )

    def add_aws_options(command: argparse.ArgumentParser, endpoint_help: str) -> None:
        command.add_argument("--endpoint-url", metavar="URL", help=endpoint_help)
        command.add_argument(
            "--region", metavar="REGION", help="AWS region of the clients (default: the stack's aws:region)"
        )
        command.add_argument(
            "--customer",
            action="append",
            metavar="KEY",
            help="check only this customer (file name without .yaml); repeat for several (default: all)",
        )
        command.add_argument(
            "--all-results",
            action="store_true",
            help=f"list every check result, also when there are more than {MAX_ROWS_SHOWN}",
        )

    validate_parser = commands.add_parser(
        "validate",
        help="check the stack settings and customer files, without AWS",
        description="Check Pulumi.<stack>.yaml and every customer file; print every problem at once.",
    )
    add_project_options(validate_parser)
    validate_parser.set_defaults(handler=command_validate)

    simulate_parser = commands.add_parser(
        "simulate",
        help="run the program against an emulated organization and print plan, timeline and checks",
        description="Run the Pulumi program against an emulated AWS organization (moto), then print the "
        "plan in waves, the estimated deployment time, the verification checklist and revenue.",
    )
    add_project_options(simulate_parser)
    add_aws_options(
        simulate_parser,
        "moto or LocalStack server on 127.0.0.1 to deploy into (default: moto in this process)",
    )
    simulate_parser.add_argument(
        "--scp-disabled",
        action="store_true",
        help="start the emulated organization with the SERVICE_CONTROL_POLICY type disabled on the root",
    )
    simulate_parser.add_argument(
        "--create-account-minutes",
        type=float,
        metavar="MINUTES",
        help="estimated minutes one CreateAccount takes, for the timeline (default: 4)",
    )
    simulate_parser.add_argument(
        "--parallel",
        type=_positive_int,
        metavar="N",
        help="operations the timeline runs at once, like `pulumi up --parallel N` (default: unbounded)",
    )
    simulate_parser.add_argument(
        "--serve",
        type=_port,
        metavar="PORT",
        help="run the emulator as a server on 127.0.0.1:PORT and keep it running after the simulation, "
        "so verify and scan can use it with --endpoint-url",
    )
    simulate_parser.set_defaults(handler=command_simulate)

    verify_parser = commands.add_parser(
        "verify",
        help="check a live organization against the customer files with read-only calls",
        description="Run the verification checklist against the organization of the current AWS credentials "
        "(standard credential chain) with read-only Organizations calls.",
    )
    add_project_options(verify_parser)
    add_aws_options(verify_parser, "Organizations endpoint of an emulator on 127.0.0.1 (default: AWS)")
    add_stack_outputs_option(verify_parser, "the OU and account ids the program created")
    verify_parser.set_defaults(handler=command_verify)

    lock_parser = commands.add_parser(
        "lock",
        help="add account lock entries for customers not in it yet",
        description="Add a root_email (and account_id when known) entry to the account lock for every "
        "customer without one. Existing entries are never changed.",
    )
    add_project_options(lock_parser)
    add_stack_outputs_option(lock_parser, "the ids of accounts the program created")
    lock_parser.set_defaults(handler=command_lock)

    from securebase.evidence_commands import add_parsers as add_evidence_parsers

    add_evidence_parsers(commands, add_project_options)
    return parser


class _StderrHandler(logging.StreamHandler):
    """A log handler that writes to sys.stderr as it is at each record.

    A handler that kept the stream of its first call would write to a closed file once
    the caller replaced sys.stderr, as pytest's capture does between tests.
    """

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _configure_logging(verbose: bool) -> None:
    if not any(isinstance(handler, _StderrHandler) for handler in log.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("securebase: %(levelname)s: %(message)s"))
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(logging.DEBUG if verbose else logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one securebase command and return its exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:
        return int(exit_request.code or 0)
    _configure_logging(args.verbose)
    try:
        return args.handler(args)
    except CommandError as error:
        print(f"securebase {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except (SettingsError, ConfigurationError) as error:
        print(str(error), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
