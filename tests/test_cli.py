"""The securebase command: exit codes, messages and the emulator server path."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
import pytest
import yaml

from securebase.cli import main
from tests.support import REPO, make_project
from tests.test_simulate import (
    FAKE_ENVIRONMENT,
    fake_credentials,  # noqa: F401 - autouse fixture shared with the simulate tests
    organization_counts,
    write_customer,
)


@pytest.fixture
def project_dir(tmp_path) -> Path:
    """Return a copy of the bundled project: customers, lock and stack file."""
    folder = make_project(tmp_path)
    (folder / "Pulumi.dev.yaml").write_text((REPO / "Pulumi.dev.yaml").read_text())
    return folder


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err, captured.err
    return code, captured.out, captured.err


@pytest.fixture
def moto_server():
    """Start a moto server on 127.0.0.1 with a free port; yield its URL, reset and stop it afterwards."""
    from moto.server import ThreadedMotoServer

    from securebase.offline.emulator import emulator_settings

    stack = contextlib.ExitStack()
    stack.enter_context(emulator_settings())
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=120).read()
    try:
        yield url
    finally:
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=120).read()
        server.stop()
        stack.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- validate ---------------------------------------------------------------------------------


def test_validate_valid_project(capsys, project_dir):
    code, out, err = run_cli(capsys, "validate", "--project-dir", str(project_dir))

    assert code == 0
    assert out.count("\n") == 1
    assert out.startswith("Configuration is valid: 3 customers in 3 tiers")
    assert "$48,000.00" in out
    assert err == ""


def test_validate_lists_every_problem(capsys, project_dir):
    write_customer(
        project_dir,
        "bad-email",
        name="Bad",
        tier="fintech",
        framework="soc2",
        prefix="bad",
        contact_email="not-an-email",
    )
    write_customer(
        project_dir,
        "bad-tier",
        name="Bad Tier",
        tier="retail",
        framework="soc2",
        prefix="badtier",
        contact_email="it@bad-tier.example",
    )
    code, out, err = run_cli(capsys, "validate", "--project-dir", str(project_dir))

    assert code == 1
    assert out == ""
    assert "2 configuration problems found" in err
    assert "  1. customers/bad-email.yaml:5: contact_email:" in err
    assert "  2. customers/bad-tier.yaml:2: tier: unknown tier" in err


def test_validate_json(capsys, project_dir):
    code, out, _ = run_cli(capsys, "validate", "--project-dir", str(project_dir), "--format", "json")

    assert code == 0
    assert json.loads(out)["customers"] == 3
    assert json.loads(out)["unlockedCustomers"] == []


def test_validate_reminds_to_lock(capsys, project_dir):
    write_customer(
        project_dir,
        "globex-bank",
        name="Globex Bank",
        tier="fintech",
        framework="soc2",
        prefix="globex",
        contact_email="it@globex.example",
    )
    code, out, err = run_cli(capsys, "validate", "--project-dir", str(project_dir))

    assert code == 0, err
    assert out.startswith("Configuration is valid: 4 customers")
    assert ("Reminder: accounts.lock.yaml does not list globex-bank yet; run `securebase lock` and commit "
            "accounts.lock.yaml, so that a later edit cannot change their root emails.") in out

    code, out, _ = run_cli(capsys, "validate", "--project-dir", str(project_dir), "--format", "json")
    assert json.loads(out)["unlockedCustomers"] == ["globex-bank"]


def test_lock_reminder_names_first_ten():
    from securebase.lockfile import unlocked_reminder

    keys = [f"customer-{number:03d}" for number in range(12)]
    message = unlocked_reminder(keys, "accounts.lock.yaml")

    assert message.startswith("accounts.lock.yaml does not list customer-000, customer-001,")
    assert "customer-009 and 2 more yet;" in message
    assert "customer-010" not in message


def test_missing_customer_folder(capsys, project_dir):
    for path in (project_dir / "customers").iterdir():
        path.unlink()
    (project_dir / "customers").rmdir()
    code, _, err = run_cli(capsys, "validate", "--project-dir", str(project_dir))

    assert code == 1
    assert "customer folder" in err
    assert "not found" in err
    assert "securebase:customersDir" in err


def test_missing_stack_file(capsys, project_dir):
    code, _, err = run_cli(capsys, "validate", "--project-dir", str(project_dir), "--stack", "prod")

    assert code == 2
    assert err.count("\n") == 1
    assert "Pulumi.prod.yaml not found" in err
    assert "pulumi stack init prod" in err


def test_missing_project_folder(capsys, tmp_path):
    code, _, err = run_cli(capsys, "validate", "--project-dir", str(tmp_path / "nowhere"))

    assert code == 2
    assert "project folder" in err
    assert "--project-dir" in err


def test_broken_customer_yaml(capsys, project_dir):
    (project_dir / "customers" / "acme-finance.yaml").write_text("name: [unclosed\ntier: fintech\n")
    code, _, err = run_cli(capsys, "validate", "--project-dir", str(project_dir))

    assert code == 1
    assert "customers/acme-finance.yaml:" in err
    assert "invalid YAML" in err


def test_broken_stack_yaml(capsys, project_dir):
    (project_dir / "Pulumi.dev.yaml").write_text("config:\n  securebase:quotas: {unclosed\n")
    code, _, err = run_cli(capsys, "validate", "--project-dir", str(project_dir))

    assert code == 1
    assert err.count("\n") == 1
    assert "Pulumi.dev.yaml:" in err
    assert "invalid YAML" in err


def test_invalid_setting(capsys, project_dir):
    config = yaml.safe_load((project_dir / "Pulumi.dev.yaml").read_text())
    config["config"]["securebase:rootEmailMailbox"] = "not-an-email"
    (project_dir / "Pulumi.dev.yaml").write_text(yaml.safe_dump(config))
    code, _, err = run_cli(capsys, "validate", "--project-dir", str(project_dir))

    assert code == 1
    assert "securebase:rootEmailMailbox" in err


def test_unknown_subcommand(capsys):
    code = main(["deploy"])
    err = capsys.readouterr().err

    assert code == 2
    assert "invalid choice" in err


def test_help_names_what_options_set(capsys):
    code = main(["simulate", "--help"])
    out = capsys.readouterr().out

    assert code == 0
    assert "--scp-disabled" in out
    assert "Pulumi.NAME.yaml" in out


# --- simulate -------------------------------------------------------------------------------


def test_simulate_text_output(capsys, project_dir):
    code, out, _ = run_cli(capsys, "simulate", "--project-dir", str(project_dir))

    assert code == 0
    assert "Wave 1 (13 resources in parallel):" in out
    assert "  Organization       organization-organization" in out
    assert "Estimated deployment: total about 5 minutes" in out
    assert "52 checks: 52 passed, 0 failed, 0 could not run." in out
    assert "total" in out
    assert "$48,000.00" in out


def test_simulate_unknown_customer(capsys, project_dir):
    code, _, err = run_cli(capsys, "simulate", "--project-dir", str(project_dir), "--customer", "globex")

    assert code == 2
    assert "unknown customer 'globex' in --customer" in err
    assert "acme-finance" in err


def test_simulate_rejects_remote_endpoint(capsys, project_dir):
    code, _, err = run_cli(
        capsys, "simulate", "--project-dir", str(project_dir), "--endpoint-url", "http://10.0.0.5:4566"
    )

    assert code == 2
    assert "not a loopback address" in err


def test_simulate_unreachable_endpoint(capsys, project_dir):
    url = f"http://127.0.0.1:{closed_port()}"
    code, _, err = run_cli(capsys, "simulate", "--project-dir", str(project_dir), "--endpoint-url", url)

    assert code == 2
    assert f"cannot reach the emulator at {url}" in err


def test_simulate_invalid_configuration(capsys, project_dir):
    write_customer(
        project_dir,
        "bad-framework",
        name="Bad",
        tier="fintech",
        framework="hipaa",
        prefix="bad",
        contact_email="it@bad.example",
    )
    code, out, err = run_cli(capsys, "simulate", "--project-dir", str(project_dir))

    assert code == 1
    assert out == ""
    assert "framework is not allowed for tier fintech" in err


def test_simulate_against_server_twice(capsys, project_dir, moto_server):
    first, _, _ = run_cli(capsys, "simulate", "--project-dir", str(project_dir), "--endpoint-url", moto_server)
    client = boto3.client("organizations", endpoint_url=moto_server, region_name="us-east-1")
    before = organization_counts(client)
    second, out, _ = run_cli(
        capsys, "simulate", "--project-dir", str(project_dir), "--endpoint-url", moto_server, "--format", "json"
    )
    after = organization_counts(client)
    document = json.loads(out)

    assert (first, second) == (0, 0)
    assert after == before
    assert document["timeline"]["accountCreations"] == 0
    actions = {step["action"] for wave in document["plan"]["waves"] for step in wave}
    assert "create" not in actions


# --- verify ---------------------------------------------------------------------------------


def test_verify_against_server(capsys, project_dir, moto_server):
    run_cli(capsys, "simulate", "--project-dir", str(project_dir), "--endpoint-url", moto_server)
    code, out, _ = run_cli(capsys, "verify", "--project-dir", str(project_dir), "--endpoint-url", moto_server)

    assert code == 0
    assert "52 checks: 52 passed" in out


def test_verify_drift_exits_one(capsys, project_dir, moto_server):
    run_cli(capsys, "simulate", "--project-dir", str(project_dir), "--endpoint-url", moto_server)
    client = boto3.client("organizations", endpoint_url=moto_server, region_name="us-east-1")
    client.tag_resource(ResourceId="222233334444", Tags=[{"Key": "managed-by", "Value": "someone-else"}])
    code, out, _ = run_cli(
        capsys, "verify", "--project-dir", str(project_dir), "--endpoint-url", moto_server, "--format", "json"
    )
    document = json.loads(out)

    assert code == 1
    assert document["passed"] is False
    assert [item["check_id"] for item in document["checks"] if item["status"] == "FAIL"] == ["account.tags"]


def test_verify_missing_credentials(capsys, project_dir, monkeypatch, tmp_path):
    for name in FAKE_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    code, _, err = run_cli(capsys, "verify", "--project-dir", str(project_dir))

    assert code == 2
    assert err.count("\n") == 1
    assert "no AWS credentials found" in err


def test_verify_unreachable_endpoint(capsys, project_dir):
    url = f"http://127.0.0.1:{closed_port()}"
    code, _, err = run_cli(capsys, "verify", "--project-dir", str(project_dir), "--endpoint-url", url)

    assert code == 2
    assert "cannot reach" in err


def test_verify_missing_stack_outputs(capsys, project_dir, tmp_path):
    missing = tmp_path / "outputs.json"
    code, _, err = run_cli(capsys, "verify", "--project-dir", str(project_dir), "--stack-outputs", str(missing))

    assert code == 2
    assert "pulumi stack output --json" in err


def test_verify_invalid_stack_outputs(capsys, project_dir, tmp_path):
    broken = tmp_path / "outputs.json"
    broken.write_text("{not json")
    code, _, err = run_cli(capsys, "verify", "--project-dir", str(project_dir), "--stack-outputs", str(broken))

    assert code == 2
    assert "is not valid JSON" in err


def test_verify_unknown_customer(capsys, project_dir):
    code, _, err = run_cli(capsys, "verify", "--project-dir", str(project_dir), "--customer", "nobody")

    assert code == 2
    assert "unknown customer 'nobody'" in err


# --- lock -----------------------------------------------------------------------------------


def test_lock_adds_only_missing_entries(capsys, project_dir):
    lock = project_dir / "accounts.lock.yaml"
    original = lock.read_text()
    write_customer(
        project_dir,
        "globex-health",
        name="Globex Health",
        tier="healthcare",
        framework="hipaa",
        prefix="globex",
        contact_email="it@globex.example",
        account_id="012345678901",
    )
    code, out, _ = run_cli(capsys, "lock", "--project-dir", str(project_dir))

    assert code == 0
    assert "Added 1 entries to accounts.lock.yaml" in out
    assert "globex-health: aws-accounts+globex-health@securebase-provider.example, account 012345678901" in out
    text = lock.read_text()
    assert text.startswith(original), "existing lines, comments included, must stay as they were"
    entries = yaml.safe_load(text)["accounts"]
    assert entries["globex-health"] == {
        "account_id": "012345678901",
        "root_email": "aws-accounts+globex-health@securebase-provider.example",
    }


def test_lock_second_run_adds_nothing(capsys, project_dir):
    write_customer(
        project_dir,
        "initech",
        name="Initech",
        tier="fintech",
        framework="soc2",
        prefix="initech",
        contact_email="it@initech.example",
    )
    run_cli(capsys, "lock", "--project-dir", str(project_dir))
    text = (project_dir / "accounts.lock.yaml").read_text()
    code, out, _ = run_cli(capsys, "lock", "--project-dir", str(project_dir))

    assert code == 0
    assert "nothing added" in out
    assert (project_dir / "accounts.lock.yaml").read_text() == text


def test_lock_creates_missing_file(capsys, project_dir, tmp_path):
    (project_dir / "accounts.lock.yaml").unlink()
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"customers": {"federal-energy-board": {"accountId": "999988887777"}}}))
    code, _, _ = run_cli(capsys, "lock", "--project-dir", str(project_dir), "--stack-outputs", str(outputs))
    entries = yaml.safe_load((project_dir / "accounts.lock.yaml").read_text())["accounts"]

    assert code == 0
    assert sorted(entries) == ["acme-finance", "federal-energy-board", "medicorp-health"]
    assert entries["federal-energy-board"]["account_id"] == "999988887777"
    assert entries["acme-finance"]["account_id"] == "222233334444"


def test_lock_keeps_changed_email_entry(capsys, project_dir):
    # The lock pins acme-finance's email; a file that changes it is invalid and nothing is written.
    lock = project_dir / "accounts.lock.yaml"
    original = lock.read_text()
    path = project_dir / "customers" / "acme-finance.yaml"
    path.write_text(path.read_text() + "root_email: changed@acme.example\n")
    code, _, err = run_cli(capsys, "lock", "--project-dir", str(project_dir))

    assert code == 1
    assert "root email differs" in err
    assert lock.read_text() == original


def test_lock_rejects_flow_style(capsys, project_dir):
    (project_dir / "accounts.lock.yaml").write_text("accounts: {}\n")
    code, _, err = run_cli(capsys, "lock", "--project-dir", str(project_dir))

    assert code == 1
    assert "block style" in err


# --- python -m securebase -------------------------------------------------------------------


def test_python_module_entry_point(project_dir):
    completed = subprocess.run(
        [sys.executable, "-m", "securebase", "validate", "--project-dir", str(project_dir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("Configuration is valid")


def test_simulate_parallel_option(capsys, project_dir):
    code, out, _ = run_cli(capsys, "simulate", "--project-dir", str(project_dir), "--parallel", "1", "--format", "json")
    timeline = json.loads(out)["timeline"]

    assert code == 0
    assert timeline["maxParallel"] == 1
    assert timeline["parallelSeconds"] == timeline["sequentialSeconds"]


def test_simulate_parallel_rejects_zero(capsys, project_dir):
    code = main(["simulate", "--project-dir", str(project_dir), "--parallel", "0"])
    err = capsys.readouterr().err

    assert code == 2
    assert "must be at least 1, got 0" in err


def test_simulate_scp_disabled_flag(capsys, project_dir):
    code, out, _ = run_cli(capsys, "simulate", "--project-dir", str(project_dir), "--scp-disabled", "--format", "json")
    document = json.loads(out)
    organization = next(
        step for wave in document["plan"]["waves"] for step in wave if step["name"] == "organization-organization"
    )

    assert code == 0
    assert "EnablePolicyType" in organization["operations"]
    assert document["passed"] is True


def test_simulate_recursion_limit_message(capsys, project_dir, monkeypatch):
    import securebase.offline.runtime

    def deep_chain(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(securebase.offline.runtime, "run_program", deep_chain)
    code, _, err = run_cli(capsys, "simulate", "--project-dir", str(project_dir))

    assert code == 1
    assert "exceeded Python's recursion limit" in err
    assert "while ordering 1 new account;" in err


def test_results_table_hides_passes():
    from securebase.checks.organization import format_results
    from securebase.checks.results import CheckResult

    results = [
        CheckResult(check_id="account.active", title="t", status="PASS", detail="ok", customer="a"),
        CheckResult(check_id="account.active", title="t", status="FAIL", detail="gone", customer="b"),
    ]
    lines = format_results(results, show_all=False)

    assert not any(line.startswith("PASS") for line in lines)
    assert any(line.startswith("FAIL") for line in lines)
    assert "  account.active: 1 passed, 1 failed, 0 errors" in lines
    assert lines[-1] == "2 checks: 1 passed, 1 failed, 0 could not run."
