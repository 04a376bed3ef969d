"""The `scan` and `report` commands: store each customer's evidence, then render its report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from securebase.aws_sessions import account_sessions
from securebase.checks.results import CheckResult
from securebase.customers import Customer
from securebase.validation import LandingZoneConfig


def session_factory(project: Any, endpoint_url: str | None, region: str | None):
    """Return sessions in the management account (None) or a customer account through the platform role."""
    from securebase.cli import management_session

    return account_sessions(management_session(project, region), project.settings.platform_role_name, endpoint_url)


def verify_function(project: Any, endpoint_url: str | None, region: str | None, stack_outputs: Any):
    """Return the verify step of a scan: the whole verification checklist, for one customer."""
    from securebase.cli import verify

    def run_verify(config: LandingZoneConfig, customer: Customer, session_for: Any) -> list[CheckResult]:
        return verify(
            project,
            endpoint_url=endpoint_url,
            stack_outputs=stack_outputs,
            customers=[customer.key],
            region=region,
        )

    return run_verify


def command_scan(args: argparse.Namespace) -> int:
    """Scan one customer or all, and print where each scan was stored."""
    from securebase.cli import (
        CommandError,
        _check_endpoint,
        load_project,
        management_session,
        read_live_organization,
        read_stack_outputs,
        select_customers,
    )
    from securebase.evidence import EvidenceError, load_scan
    from securebase.scan import find_prowler, scan_customer

    _check_endpoint(args.endpoint_url)
    if bool(args.customer) == bool(args.all):
        raise CommandError("name one customer, or pass --all to scan every customer")
    project = load_project(Path(args.project_dir), args.stack)
    customers = select_customers(project.config, None if args.all else [args.customer], option="CUSTOMER")
    outputs = read_stack_outputs(Path(args.stack_outputs) if args.stack_outputs else None)
    evidence_dir = Path(args.evidence_dir) if args.evidence_dir else project.project_dir / "evidence"
    session_for = session_factory(project, args.endpoint_url, args.region)
    run_verify = verify_function(project, args.endpoint_url, args.region, outputs)
    # A vended account's id is in no customer file, so find it as verify does: from the stack outputs,
    # the account lock or the root email. An unreachable endpoint stops here, before any scan is stored.
    organization = read_live_organization(
        project, management_session(project, args.region), args.endpoint_url, outputs
    )

    complete = True
    stored = []
    prowler = find_prowler()
    for number, customer in enumerate(customers, 1):
        if args.format == "text":
            # A Prowler run takes minutes per account, so print what runs before it starts.
            scanners = "securebase verify and Prowler" if prowler else "securebase verify (Prowler is not on PATH)"
            print(f"Scanning {customer.key} ({number} of {len(customers)}) with {scanners}...", flush=True)
        try:
            folder = scan_customer(
                project.config,
                customer,
                session_for,
                evidence_dir,
                run_verify,
                account_id=organization.customer_account_ids.get(customer.key),
                endpoint_url=args.endpoint_url,
            )
            scan = load_scan(folder)
        except EvidenceError as error:
            raise CommandError(str(error), 1) from None
        partial = "; ".join(scan.record.partial_reasons)
        complete = complete and not partial
        stored.append(
            {"customer": customer.key, "folder": str(folder), "results": len(scan.results), "partial": partial}
        )
        if args.format == "text":
            status = f"partial: {partial}" if partial else "complete"
            if not partial and "prowler" not in scan.record.sources_run:
                status = "complete, securebase verify only: Prowler was not run"
            print(f"{customer.key}: {len(scan.results)} results stored in {folder} ({status})")
    if args.format == "json":
        print(json.dumps({"complete": complete, "scans": stored}, indent=2))
    return 0 if complete else 1


def command_report(args: argparse.Namespace) -> int:
    """Render one customer's report as HTML and PDF from its latest scan."""
    from securebase.cli import CommandError, load_project
    from securebase.evidence import EvidenceError, UnknownCustomerError, find_customer
    from securebase.report import render_report

    project = load_project(Path(args.project_dir), args.stack)
    try:
        find_customer(project.config.customers, args.customer)
    except UnknownCustomerError as error:
        raise CommandError(str(error)) from None
    evidence_dir = Path(args.evidence_dir) if args.evidence_dir else project.project_dir / "evidence"
    out_dir = Path(args.output_dir) if args.output_dir else project.project_dir / "reports" / args.customer
    if not evidence_dir.is_dir():
        # Most likely a mistyped --evidence-dir: a report from it would replace a good one with an empty one.
        raise CommandError(
            f"evidence folder {evidence_dir} not found; pass the --evidence-dir that `securebase scan` wrote to, "
            "or run `securebase scan` first"
        )
    try:
        html_path, pdf_path = render_report(project.config, args.customer, evidence_dir, out_dir)
    except EvidenceError as error:
        raise CommandError(str(error), 1) from None
    if args.format == "json":
        print(json.dumps({"customer": args.customer, "html": str(html_path), "pdf": str(pdf_path)}, indent=2))
    else:
        print(f"{args.customer}: report written to {html_path} and {pdf_path}")
    return 0


def _add_endpoint_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--endpoint-url", metavar="URL", help="endpoint of an emulator on 127.0.0.1 (default: AWS)")
    command.add_argument(
        "--region", metavar="REGION", help="AWS region of the clients (default: the stack's aws:region)"
    )


def add_parsers(commands: Any, add_project_options: Any) -> None:
    """Add the scan and report subcommands to the securebase parser."""
    from securebase.cli import add_stack_outputs_option

    scan_parser = commands.add_parser(
        "scan",
        help="collect compliance evidence for one customer or all",
        description="Run the verification checklist and, when `prowler` is on PATH, Prowler with the "
        "customer's framework, then store the results under evidence/<customer>/<time>/.",
    )
    add_project_options(scan_parser)
    scan_parser.add_argument("customer", nargs="?", metavar="CUSTOMER", help="customer key (file name without .yaml)")
    scan_parser.add_argument("--all", action="store_true", help="scan every customer")
    _add_endpoint_options(scan_parser)
    scan_parser.add_argument(
        "--evidence-dir", metavar="DIR", help="folder of stored scans (default: evidence/ in the project)"
    )
    add_stack_outputs_option(scan_parser, "the OU and account ids the program created")
    scan_parser.set_defaults(handler=command_scan)

    report_parser = commands.add_parser(
        "report",
        help="render a customer's compliance report as HTML and PDF",
        description="Render the compliance report of one customer from its latest stored scan.",
    )
    add_project_options(report_parser)
    report_parser.add_argument("customer", metavar="CUSTOMER", help="customer key (file name without .yaml)")
    report_parser.add_argument(
        "--evidence-dir", metavar="DIR", help="folder of stored scans (default: evidence/ in the project)"
    )
    report_parser.add_argument(
        "--output-dir",
        metavar="DIR",
        help="folder for the HTML and PDF report (default: reports/CUSTOMER in the project)",
    )
    report_parser.set_defaults(handler=command_report)
