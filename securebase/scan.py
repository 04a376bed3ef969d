"""Scan: collect one customer's evidence from `securebase verify` and, when installed, Prowler.

A scan always leaves a stored record, even when a scanner fails, so a report can say
plainly what was and was not checked. Only results that name the customer are kept.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from securebase.checks.results import CheckResult, utc_now
from securebase.customers import Customer
from securebase.evidence import (
    PROWLER_FOLDER,
    EvidenceError,
    ScanRecord,
    SourceRun,
    find_customer,
    new_staging_folder,
    parse_prowler_output,
    write_scan,
)
from securebase.validation import LandingZoneConfig

logger = logging.getLogger("securebase")

# Prowler's names for the compliance frameworks, as `prowler aws --list-compliance` prints them (Prowler 5.46.0).
PROWLER_FRAMEWORKS = {
    "hipaa": "hipaa_aws",
    "soc2": "soc2_aws",
    "fedramp-moderate": "fedramp_moderate_revision_4_aws",
}
PROWLER_OUTPUT_NAME = "prowler-output"
# NOTE: an estimate, not measured here. A compliance run on an account with few resources
# takes minutes, and one with many Regions and resources can take most of an hour.
PROWLER_TIMEOUT_SECONDS = 3600

# A session factory takes an account id and returns a boto3 session in that account, or in
# the management account for None, as the security baseline checks expect.
SessionFactory = Callable[[str | None], Any]
VerifyFunction = Callable[[LandingZoneConfig, Customer, SessionFactory], Iterable[CheckResult]]


def scan_customer(
    config: LandingZoneConfig,
    customer: Customer | str,
    session_factory: SessionFactory,
    evidence_dir: Path,
    run_verify: VerifyFunction,
    *,
    prowler: str | None = None,
    prowler_timeout: float = PROWLER_TIMEOUT_SECONDS,
    environ: Mapping[str, str] | None = None,
    account_id: str | None = None,
    endpoint_url: str | None = None,
) -> Path:
    """Scan one customer, store the evidence under `evidence_dir`, and return the scan folder.

    `run_verify(config, customer, session_factory)` returns check results, and only those
    naming this customer are kept. Prowler runs when `prowler` (default: `prowler` on
    PATH) exists and the customer has an account, assuming the platform role in that
    account with `--role`. Prowler gets `environ` (default: this process's environment)
    with AWS_ENDPOINT_URL set to `endpoint_url` when given, so it reaches the same
    emulator as verify rather than AWS. When the management-account session
    `session_factory(None)` has credentials, Prowler gets them, so both scanners act as the
    same identity and Prowler assumes the role with them. `account_id` is the customer's
    account when the customer file names none, as for an account the program vended; the
    file's own account id wins. Raises UnknownCustomerError (a KeyError) for a customer
    key the configuration does not contain.
    """
    customer = find_customer(config.customers, customer if isinstance(customer, str) else customer.key)
    account_id = customer.account_id or account_id
    started_at = utc_now()
    staging = new_staging_folder(evidence_dir, customer.key, started_at)
    partial: list[str] = []

    verify_results, verify_run = _run_verify(config, customer, session_factory, run_verify, partial)
    prowler_results, prowler_run = _run_prowler(
        config, customer, account_id, session_factory, staging, prowler, prowler_timeout, environ, endpoint_url, partial
    )
    record = ScanRecord(
        customer=customer.key,
        customer_name=customer.name,
        framework=customer.framework,
        account_id=account_id,
        started_at=started_at,
        finished_at=utc_now(),
        sources=(verify_run, prowler_run),
        partial_reasons=tuple(partial),
    )
    folder = write_scan(evidence_dir, record, [*verify_results, *prowler_results], staging=staging)
    logger.info("scan of %s stored in %s%s", customer.key, folder, " (partial)" if partial else "")
    return folder


def scan_all(
    config: LandingZoneConfig,
    session_factory: SessionFactory,
    evidence_dir: Path,
    run_verify: VerifyFunction,
    **options: Any,
) -> dict[str, Path]:
    """Scan every customer in key order, and return each customer's scan folder by key."""
    return {
        customer.key: scan_customer(config, customer, session_factory, evidence_dir, run_verify, **options)
        for customer in config.customers
    }


def find_prowler(prowler: str | None = None) -> str | None:
    """Return the path of the Prowler executable (default: `prowler` on PATH), or None when it is missing."""
    return shutil.which(prowler or "prowler")


def prowler_command(
    customer: Customer, account_id: str | None, role_name: str, output_dir: Path, prowler: str = "prowler"
) -> list[str]:
    """Return the Prowler command line that checks the customer's account against its framework."""
    if account_id is None:
        raise ValueError(f"customer {customer.key} has no account id yet, so Prowler has no account to scan")
    return [
        prowler,
        "aws",
        "--compliance",
        PROWLER_FRAMEWORKS[customer.framework],
        "--role",
        f"arn:aws:iam::{account_id}:role/{role_name}",
        "--output-formats",
        "json-ocsf",
        "--output-directory",
        str(output_dir),
        "--output-filename",
        PROWLER_OUTPUT_NAME,
        # Prowler exits with 3 when any check fails, but a finished run with failures is a success here.
        "--ignore-exit-code-3",
    ]


def _run_verify(
    config: LandingZoneConfig,
    customer: Customer,
    session_factory: SessionFactory,
    run_verify: VerifyFunction,
    partial: list[str],
) -> tuple[list[CheckResult], SourceRun]:
    try:
        results = list(run_verify(config, customer, session_factory))
    # Any failure of verify (AWS errors, a bug in a check) must still leave a scan record
    # stating that verify did not finish, so the report cannot present the scan as complete.
    except Exception as error:  # noqa: BLE001
        logger.exception("securebase verify failed for customer %s", customer.key)
        partial.append(f"securebase verify failed: {type(error).__name__}: {error}")
        return [], SourceRun("securebase", "failed", f"{type(error).__name__}: {error}")

    own = [result for result in results if result.customer == customer.key]
    dropped = len(results) - len(own)
    if dropped:
        logger.debug("scan of %s: left out %d results about other customers or the whole organization",
                     customer.key, dropped)
    errors = sum(1 for result in own if result.status == "ERROR")
    detail = _count(len(own), "result") + (f", {_count(errors, 'check')} could not run" if errors else "")
    if errors:
        partial.append(f"{_count(errors, 'securebase verify check')} could not run")
    return own, SourceRun("securebase", "completed", detail, len(own))


def _run_prowler(
    config: LandingZoneConfig,
    customer: Customer,
    account_id: str | None,
    session_factory: SessionFactory,
    staging: Path,
    prowler: str | None,
    timeout: float,
    environ: Mapping[str, str] | None,
    endpoint_url: str | None,
    partial: list[str],
) -> tuple[list[CheckResult], SourceRun]:
    executable = find_prowler(prowler)
    if executable is None:
        detail = f"Prowler is not installed: no {prowler or 'prowler'} executable found"
        return [], SourceRun("prowler", "not-run", detail)
    if account_id is None:
        partial.append("the customer has no AWS account yet, so Prowler could not scan it")
        return [], SourceRun("prowler", "not-run", "the customer has no AWS account yet")

    output_dir = staging / PROWLER_FOLDER
    output_dir.mkdir()
    command = prowler_command(customer, account_id, config.settings.platform_role_name, output_dir, executable)
    env = {**(os.environ if environ is None else environ), **_session_environment(session_factory)}
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    logger.info("running Prowler for %s: %s", customer.key, " ".join(command))
    try:
        completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return _prowler_failed(customer, partial, f"Prowler timed out after {timeout:g} seconds")
    except OSError as error:
        return _prowler_failed(customer, partial, f"Prowler could not start: {error}")
    log = output_dir / "prowler.log"
    log.write_text(completed.stdout + completed.stderr, encoding="utf-8")

    output = output_dir / f"{PROWLER_OUTPUT_NAME}.ocsf.json"
    if completed.returncode != 0:
        last_line = (completed.stderr.strip() or completed.stdout.strip() or "no output").splitlines()[-1]
        return _prowler_failed(customer, partial, f"Prowler exited with code {completed.returncode}: {last_line}")
    if not output.is_file():
        reason = f"Prowler finished without writing {output.name}; see {PROWLER_FOLDER}/{log.name} in the scan folder"
        return _prowler_failed(customer, partial, reason)
    try:
        results = parse_prowler_output(output, customer.key, account_id)
    except EvidenceError as error:
        return _prowler_failed(customer, partial, f"Prowler's output could not be read: {error}")
    return results, SourceRun("prowler", "completed", _count(len(results), "finding"), len(results))


def _prowler_failed(customer: Customer, partial: list[str], reason: str) -> tuple[list[CheckResult], SourceRun]:
    logger.warning("scan of %s: %s", customer.key, reason)
    partial.append(reason)
    return [], SourceRun("prowler", "failed", reason)


def _session_environment(session_factory: SessionFactory) -> dict[str, str]:
    """Return the management-account session's credentials and Region as AWS_* variables, or none."""
    session = session_factory(None)
    get_credentials = getattr(session, "get_credentials", None)
    credentials = get_credentials() if callable(get_credentials) else None
    if credentials is None:
        return {}
    frozen = credentials.get_frozen_credentials()
    env = {"AWS_ACCESS_KEY_ID": frozen.access_key, "AWS_SECRET_ACCESS_KEY": frozen.secret_key}
    if frozen.token:
        env["AWS_SESSION_TOKEN"] = frozen.token
    region = getattr(session, "region_name", None)
    if region:
        env["AWS_DEFAULT_REGION"] = region
    return env


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
