"""The scan and report commands, run after simulate against a moto server on 127.0.0.1."""

from __future__ import annotations

import pypdf
import pytest

from securebase import cli
from tests.test_cli import closed_port, moto_server, project_dir, run_cli  # noqa: F401 - fixtures
from tests.test_simulate import fake_credentials  # noqa: F401 - autouse fixture


def test_scan_all_then_report(capsys, project_dir, moto_server, tmp_path):  # noqa: F811
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
        assert "(complete)" in out
        assert len(list((evidence / key).iterdir())) == 1, key

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


def test_scan_customer_required(capsys, project_dir):  # noqa: F811
    code, _, err = run_cli(capsys, "scan", "--project-dir", str(project_dir))

    assert code == 2
    assert "name one customer, or pass --all" in err


def test_scan_unknown_customer(capsys, project_dir):  # noqa: F811
    code, _, err = run_cli(capsys, "scan", "nobody", "--project-dir", str(project_dir))

    assert code == 2
    assert "'nobody'" in err


def test_report_unknown_customer(capsys, project_dir):  # noqa: F811
    code, _, err = run_cli(capsys, "report", "nobody", "--project-dir", str(project_dir))

    assert code == 2
    assert "customer 'nobody' not found; customers in this configuration: acme-finance" in err


def test_report_without_scan_says_so(capsys, project_dir, tmp_path):  # noqa: F811
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


def test_serve_keeps_emulator_until_interrupted(capsys, project_dir, monkeypatch):  # noqa: F811
    def interrupt():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_wait_for_interrupt", interrupt)
    port = closed_port()

    code, out, err = run_cli(capsys, "simulate", "--project-dir", str(project_dir), "--serve", str(port))

    assert code == 0, err
    assert f"The emulated organization is serving at http://127.0.0.1:{port}" in out
    assert "Emulator stopped." in out


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
