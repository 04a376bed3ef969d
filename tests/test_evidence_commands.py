"""The scan and report commands, run after simulate against a moto server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from pathlib import Path

import boto3
import pypdf
import pytest

from securebase import cli
from tests.test_cli import closed_port, moto_server, project_dir, run_cli  # noqa: F401 - fixtures
from tests.test_simulate import fake_credentials  # noqa: F401 - autouse fixture


def test_scan_all_then_report(capsys, project_dir, moto_server, tmp_path, monkeypatch):  # noqa: F811
    # A Prowler installed on this machine must not run here: it takes minutes per account.
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    evidence = tmp_path / "evidence"
    code, _, err = run_cli(capsys, "simulate", "--project-dir", str(project_dir), "--endpoint-url", moto_server)
    assert code == 0, err

    code, out, err = run_cli(
        capsys,
        "scan",
        "--all",
        "--project-dir",
        str(project_dir),
        "--endpoint-url",
        moto_server,
        "--evidence-dir",
        str(evidence),
    )

    assert code == 0, err
    for key in ("acme-finance", "federal-energy-board", "medicorp-health"):
        assert f"{key}: " in out
        assert "(complete, securebase verify only: Prowler was not run)" in out
        assert len(list((evidence / key).iterdir())) == 1, key
    assert "Scanning acme-finance (1 of 3) with securebase verify (Prowler is not on PATH)..." in out

    code, out, err = run_cli(
        capsys,
        "report",
        "medicorp-health",
        "--project-dir",
        str(project_dir),
        "--evidence-dir",
        str(evidence),
        "--output-dir",
        str(tmp_path / "reports"),
    )

    assert code == 0, err
    (pdf,) = (tmp_path / "reports").glob("*.pdf")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert "MediCorp Solutions Inc" in text
    assert "HIPAA" in text
    assert "ACME" not in text


def recording_prowler(folder, calls):
    """Write a `prowler` that appends its arguments and endpoint to `calls` and reports no findings."""
    script = folder / "prowler"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "args = sys.argv[1:]\n"
        f"with open({str(calls)!r}, 'a') as log:\n"
        "    log.write(json.dumps({'args': args, 'endpoint': os.environ.get('AWS_ENDPOINT_URL')}) + '\\n')\n"
        "out = os.path.join(args[args.index('--output-directory') + 1], "
        "args[args.index('--output-filename') + 1] + '.ocsf.json')\n"
        "json.dump([], open(out, 'w'))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def test_scan_prowler_endpoint_and_account(
    capsys, project_dir, moto_server, tmp_path, monkeypatch  # noqa: F811
):
    """Prowler reaches the emulator given by --endpoint-url, and the federal account the program vended."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    code, _, err = run_cli(capsys, "simulate", "--project-dir", str(project_dir), "--endpoint-url", moto_server)
    assert code == 0, err
    organizations = boto3.client("organizations", endpoint_url=moto_server, region_name="us-east-1")
    federal_id = next(
        account["Id"]
        for account in organizations.list_accounts()["Accounts"]
        if account["Email"] == "aws-accounts+federal-energy-board@securebase-provider.example"
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "prowler-calls.jsonl"
    recording_prowler(bin_dir, calls)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    code, out, err = run_cli(
        capsys, "scan", "--all", "--project-dir", str(project_dir), "--endpoint-url", moto_server,
        "--evidence-dir", str(tmp_path / "evidence"), "--format", "json",
    )

    assert code == 0, err
    scans = {scan["customer"]: scan for scan in json.loads(out)["scans"]}
    assert all(scan["partial"] == "" for scan in scans.values()), scans
    recorded = [json.loads(line) for line in calls.read_text().splitlines()]
    assert [call["endpoint"] for call in recorded] == [moto_server] * 3
    roles = [call["args"][call["args"].index("--role") + 1] for call in recorded]
    assert roles == [
        "arn:aws:iam::222233334444:role/OrganizationAccountAccessRole",
        f"arn:aws:iam::{federal_id}:role/OrganizationAccountAccessRole",
        "arn:aws:iam::333344445555:role/OrganizationAccountAccessRole",
    ]
    (federal_scan,) = (tmp_path / "evidence" / "federal-energy-board").iterdir()
    assert json.loads((federal_scan / "scan.json").read_text())["account_id"] == federal_id


def test_scan_customer_required(capsys, project_dir):  # noqa: F811
    code, _, err = run_cli(capsys, "scan", "--project-dir", str(project_dir))

    assert code == 2
    assert "name one customer, or pass --all" in err


def test_scan_unknown_customer(capsys, project_dir):  # noqa: F811
    code, _, err = run_cli(capsys, "scan", "nobody", "--project-dir", str(project_dir))

    assert code == 2
    assert "unknown customer 'nobody' in CUSTOMER; use a customer file name without .yaml" in err


def test_report_unknown_customer(capsys, project_dir):  # noqa: F811
    code, _, err = run_cli(capsys, "report", "nobody", "--project-dir", str(project_dir))

    assert code == 2
    assert "customer 'nobody' not found; customers in this configuration: acme-finance" in err


def test_report_without_scan_says_so(capsys, project_dir, tmp_path):  # noqa: F811
    (tmp_path / "none").mkdir()
    code, out, err = run_cli(
        capsys,
        "report",
        "acme-finance",
        "--project-dir",
        str(project_dir),
        "--evidence-dir",
        str(tmp_path / "none"),
        "--output-dir",
        str(tmp_path / "out"),
        "--format",
        "json",
    )

    assert code == 0, err
    (html,) = (tmp_path / "out").glob("*.html")
    assert "no scan" in html.read_text().lower()
    assert "report for acme-finance: No scan found." in err
    assert "Run a scan of this customer, then generate the report again." in err


def test_report_missing_evidence_folder(capsys, project_dir, tmp_path):  # noqa: F811
    """A mistyped --evidence-dir stops the report instead of replacing a good one with an empty one."""
    missing = tmp_path / "evidnce"
    code, _, err = run_cli(capsys, "report", "acme-finance", "--project-dir", str(project_dir),
                           "--evidence-dir", str(missing), "--output-dir", str(tmp_path / "out"))

    assert code == 2
    assert f"securebase report: error: evidence folder {missing} not found" in err
    assert not (tmp_path / "out").exists()


def test_serve_keeps_emulator_until_interrupted(capsys, project_dir, monkeypatch):  # noqa: F811
    def interrupt():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_wait_for_interrupt", interrupt)
    port = closed_port()

    code, out, err = run_cli(capsys, "simulate", "--project-dir", str(project_dir), "--serve", str(port))

    assert code == 0, err
    log_path = Path(tempfile.gettempdir()) / f"securebase-emulator-{port}.log"
    assert f"The emulated organization is serving at http://127.0.0.1:{port} (request log: {log_path})." in out
    assert "Emulator stopped." in out
    assert '"POST / HTTP/1.1" 200' in log_path.read_text()
    assert "HTTP/1.1" not in err


def test_serve_with_endpoint_rejected(capsys, project_dir):  # noqa: F811
    code, _, err = run_cli(
        capsys,
        "simulate",
        "--project-dir",
        str(project_dir),
        "--serve",
        "5999",
        "--endpoint-url",
        "http://127.0.0.1:5998",
    )

    assert code == 2
    assert "use either --serve or --endpoint-url" in err


@pytest.mark.parametrize("argv", [["scan", "--help"], ["report", "--help"]])
def test_help_exits_zero(capsys, argv):
    code, out, _ = run_cli(capsys, *argv)

    assert code == 0
    assert "--evidence-dir" in out


def test_serve_port_in_use(capsys, project_dir):  # noqa: F811
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        code, _, err = run_cli(capsys, "simulate", "--project-dir", str(project_dir), "--serve", str(port))

    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in err
