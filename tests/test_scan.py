"""Evidence store, Prowler output parsing, and scans run with a stand-in verify and Prowler."""

from __future__ import annotations

import json
import os
import stat
import sys
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from securebase.checks.results import CheckResult
from securebase.evidence import (
    EvidenceError,
    ScanRecord,
    SourceRun,
    UnknownCustomerError,
    customer_folder,
    format_utc,
    latest,
    list_scans,
    load_scan,
    new_staging_folder,
    parse_prowler_output,
    write_scan,
)
from securebase.scan import PROWLER_FRAMEWORKS, prowler_command, scan_all, scan_customer
from securebase.settings import settings_from_mapping
from securebase.validation import load_landing_zone
from tests.support import REPO, stack_config

FIXTURES = REPO / "tests" / "fixtures" / "scans"
MEDICORP_OCSF = next(FIXTURES.glob("medicorp-health/*/prowler/prowler-output.ocsf.json"))


@pytest.fixture(scope="module")
def config():
    values = {key.split(":", 1)[1]: value for key, value in stack_config().items() if key.startswith("securebase:")}
    return load_landing_zone(settings_from_mapping(values, "Pulumi.dev.yaml"), REPO)


def make_record(customer: str = "medicorp-health", started_at: str = "2026-12-01T02:00:00Z", **overrides) -> ScanRecord:
    fields = {
        "customer": customer,
        "customer_name": "MediCorp Solutions Inc",
        "framework": "hipaa",
        "account_id": "333344445555",
        "started_at": started_at,
        "finished_at": started_at,
        "sources": (SourceRun("securebase", "completed", "1 result", 1),),
    }
    fields.update(overrides)
    return ScanRecord(**fields)


def make_result(check_id: str = "account.active", customer: str | None = "medicorp-health", status: str = "PASS"):
    return CheckResult(check_id, "Account is active", status, "Account is ACTIVE.", customer, "333344445555",
                       "2026-12-01T02:00:00Z")


def fake_session(account_id: str | None) -> boto3.Session:
    # Static placeholder keys: nothing here calls AWS.
    return boto3.Session(aws_access_key_id="testing-key", aws_secret_access_key="testing-secret",
                         aws_session_token="testing-token", region_name="us-east-1")


def verify_for(results: list[CheckResult]):
    calls = []

    def run_verify(config, customer, session_factory):
        calls.append(customer.key)
        return results

    run_verify.calls = calls
    return run_verify


def fake_prowler(
    tmp_path: Path, *, exit_code: int = 0, findings: list | None = None, write_output: bool = True
) -> Path:
    """Write an executable that records its arguments and environment and writes Prowler-shaped output."""
    script = tmp_path / "bin" / "prowler"
    script.parent.mkdir(exist_ok=True)
    record = tmp_path / "prowler-call.json"
    body = json.loads(MEDICORP_OCSF.read_text()) if findings is None else findings
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "args = sys.argv[1:]\n"
        f"json.dump({{'args': args, 'env': dict(os.environ)}}, open({str(record)!r}, 'w'))\n"
        "out = args[args.index('--output-directory') + 1]\n"
        "name = args[args.index('--output-filename') + 1]\n"
        f"if {write_output}: json.dump({body!r}, open(os.path.join(out, name + '.ocsf.json'), 'w'))\n"
        "print('prowler: scan finished')\n"
        f"sys.exit({exit_code})\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


# Evidence store ---------------------------------------------------------------------------------


def test_write_and_latest_round_trip(tmp_path):
    folder = write_scan(tmp_path, make_record(), [make_result()])
    assert folder == tmp_path / "medicorp-health" / "20261201T020000Z"
    scan = latest("medicorp-health", tmp_path)
    assert scan is not None
    assert scan.path == folder
    assert scan.record == make_record()
    assert scan.results == (make_result(),)


def test_latest_picks_newest(tmp_path):
    write_scan(tmp_path, make_record(started_at="2026-12-02T00:00:00Z"), [])
    write_scan(tmp_path, make_record(started_at="2026-12-01T00:00:00Z"), [])
    second = write_scan(tmp_path, make_record(started_at="2026-12-02T00:00:00Z"), [make_result()])
    assert second.name == "20261202T000000Z-2"
    assert latest("medicorp-health", tmp_path).path == second


def test_latest_none_without_scans(tmp_path):
    assert latest("medicorp-health", tmp_path) is None
    assert list_scans("medicorp-health", tmp_path) == []


def test_latest_ignores_staging_folder(tmp_path):
    write_scan(tmp_path, make_record(started_at="2026-12-01T00:00:00Z"), [])
    new_staging_folder(tmp_path, "medicorp-health", "2026-12-03T00:00:00Z")
    assert latest("medicorp-health", tmp_path).path.name == "20261201T000000Z"


def test_write_rejects_other_customer_result(tmp_path):
    with pytest.raises(ValueError, match=r"belongs to customer 'acme-finance', not 'medicorp-health'"):
        write_scan(tmp_path, make_record(), [make_result(customer="acme-finance")])
    assert list_scans("medicorp-health", tmp_path) == []


def test_write_rejects_organization_result(tmp_path):
    with pytest.raises(ValueError, match=r"belongs to customer None"):
        write_scan(tmp_path, make_record(), [make_result("scp.size", customer=None)])


def test_load_rejects_foreign_result_in_file(tmp_path):
    folder = write_scan(tmp_path, make_record(), [make_result()])
    payload = json.loads((folder / "results.json").read_text())
    payload["results"].append(make_result(customer="acme-finance").as_dict())
    (folder / "results.json").write_text(json.dumps(payload))
    with pytest.raises(EvidenceError, match=r"results\[1\] \(account\.active\) belongs to customer 'acme-finance'"):
        load_scan(folder)


def test_load_rejects_misplaced_scan(tmp_path):
    folder = write_scan(tmp_path, make_record(), [])
    moved = tmp_path / "acme-finance" / folder.name
    moved.parent.mkdir()
    folder.rename(moved)
    message = r"scan is for customer 'medicorp-health' but is stored under 'acme-finance'"
    with pytest.raises(EvidenceError, match=message):
        latest("acme-finance", tmp_path)


def test_load_reports_invalid_json(tmp_path):
    folder = write_scan(tmp_path, make_record(), [])
    (folder / "scan.json").write_text("{not json")
    with pytest.raises(EvidenceError, match=r"scan\.json: invalid JSON"):
        load_scan(folder)


def test_load_reports_missing_results(tmp_path):
    folder = write_scan(tmp_path, make_record(), [])
    (folder / "results.json").unlink()
    with pytest.raises(EvidenceError, match=r"results\.json not found; the scan folder is incomplete"):
        load_scan(folder)


@pytest.mark.parametrize("key", ["../acme-finance", "ACME", "a", "medicorp/health", ""])
def test_customer_folder_rejects_bad_key(tmp_path, key):
    with pytest.raises(ValueError, match="invalid customer key"):
        customer_folder(tmp_path, key)


def test_scan_record_partial_and_sources():
    record = make_record(
        sources=(SourceRun("securebase", "completed"), SourceRun("prowler", "not-run", "not installed")),
        partial_reasons=("Prowler timed out after 60 seconds",),
    )
    assert record.partial is True
    assert record.sources_run == frozenset({"securebase"})
    assert record.as_dict()["partial"] is True
    assert ScanRecord.from_dict(record.as_dict()) == record


# Prowler output -----------------------------------------------------------------------------------


def evaluated(raw: list[dict]) -> list[dict]:
    """Return the findings Prowler evaluated, leaving out MANUAL ones."""
    return [item for item in raw if item["status_code"] != "MANUAL"]


def test_parse_ocsf_fixture():
    """Prowler 5's real JSON-OCSF output, recorded against the emulated organization, is read in full."""
    results = parse_prowler_output(MEDICORP_OCSF, "medicorp-health", "333344445555")
    raw = json.loads(MEDICORP_OCSF.read_text())
    assert len(evaluated(raw)) < len(raw), "the recorded run should include MANUAL findings"
    assert len(results) == len(raw)
    assert {result.source for result in results} == {"prowler"}
    assert {result.customer for result in results} == {"medicorp-health"}
    assert {result.status for result in results} == {"PASS", "FAIL", "ERROR"}
    for result, item in zip(results, raw, strict=True):
        assert result.check_id == item["metadata"]["event_code"]
        if item["status_code"] == "MANUAL":
            assert result.status == "ERROR"
            assert result.detail == f"Prowler needs a manual review: {item['status_detail']}"
        else:
            assert result.status == item["status_code"]
        assert result.resource == item["resources"][0]["uid"]
        assert result.checked_at == format_utc(datetime.fromtimestamp(item["time"], tz=UTC))
        assert result.title == item["finding_info"]["title"]


def test_parse_ocsf_drops_other_account(tmp_path):
    raw = json.loads(MEDICORP_OCSF.read_text())[:2]
    raw[1]["cloud"]["account"]["uid"] = "222233334444"
    path = tmp_path / "out.ocsf.json"
    path.write_text(json.dumps(raw))
    results = parse_prowler_output(path, "medicorp-health", "333344445555")
    assert [result.check_id for result in results] == [raw[0]["metadata"]["event_code"]]


def test_parse_ocsf_marks_muted_failure(tmp_path):
    raw = json.loads(MEDICORP_OCSF.read_text())
    failing = next(item for item in raw if item["status_code"] == "FAIL")
    failing["status"] = "Suppressed"
    path = tmp_path / "out.ocsf.json"
    path.write_text(json.dumps([failing]))
    [result] = parse_prowler_output(path, "medicorp-health", "333344445555")
    assert result.status == "FAIL"
    assert result.detail.endswith("(muted in Prowler)")


def test_parse_ocsf_prefers_unix_time(tmp_path):
    """time_dt is Prowler's local time without an offset, so the Unix time decides."""
    raw = json.loads(MEDICORP_OCSF.read_text())[:1]
    raw[0]["time_dt"] = "2025-12-01T03:00:00.123456"
    raw[0]["time"] = 1764554400
    path = tmp_path / "out.ocsf.json"
    path.write_text(json.dumps(raw))
    assert parse_prowler_output(path, "medicorp-health", "333344445555")[0].checked_at == "2025-12-01T02:00:00Z"


def test_parse_ocsf_time_dt_without_epoch(tmp_path):
    raw = json.loads(MEDICORP_OCSF.read_text())[:1]
    raw[0]["time_dt"] = "2025-12-01T02:00:00.5+00:00"
    del raw[0]["time"]
    path = tmp_path / "out.ocsf.json"
    path.write_text(json.dumps(raw))
    assert parse_prowler_output(path, "medicorp-health", "333344445555")[0].checked_at == "2025-12-01T02:00:00Z"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"findings": []}', r"expected a JSON list of OCSF detection findings"),
        ('[{"status_code": "PASS"}]', r"finding \[0\] is not an OCSF detection finding"),
        ("[1, 2", r"invalid JSON"),
    ],
)
def test_parse_ocsf_invalid(tmp_path, content, message):
    path = tmp_path / "out.ocsf.json"
    path.write_text(content)
    with pytest.raises(EvidenceError, match=message):
        parse_prowler_output(path, "medicorp-health", "333344445555")


def test_parse_ocsf_unknown_status(tmp_path):
    raw = json.loads(MEDICORP_OCSF.read_text())[:1]
    raw[0]["status_code"] = "INFO"
    path = tmp_path / "out.ocsf.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(EvidenceError, match=r"unknown status 'INFO'"):
        parse_prowler_output(path, "medicorp-health", "333344445555")


def test_parse_csv(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text(
        "AUTH_METHOD;TIMESTAMP;ACCOUNT_UID;CHECK_ID;CHECK_TITLE;STATUS;STATUS_EXTENDED;MUTED;RESOURCE_UID\n"
        "profile;2026-12-01 02:04:00.123456+00:00;333344445555;guardduty_is_enabled;GuardDuty is enabled;PASS;"
        "GuardDuty detector is enabled.;False;arn:aws:guardduty:us-east-1:333344445555:detector/4ab2\n"
        "profile;2026-12-01 02:05:00+00:00;333344445555;vpc_flow_logs_enabled;VPC flow logs;FAIL;"
        "VPC vpc-0d1e has no flow logs.;True;arn:aws:ec2:us-east-1:333344445555:vpc/vpc-0d1e\n"
        "profile;2026-12-01 02:06:00+00:00;333344445555;account_maintain_current_contact_details;Contacts;MANUAL;"
        "Check the contacts.;False;arn:aws:iam::333344445555:root\n"
    )
    results = parse_prowler_output(path, "medicorp-health", "333344445555")
    assert [(result.check_id, result.status) for result in results] == [
        ("guardduty_is_enabled", "PASS"),
        ("vpc_flow_logs_enabled", "FAIL"),
        ("account_maintain_current_contact_details", "ERROR"),
    ]
    assert results[2].detail == "Prowler needs a manual review: Check the contacts."
    assert results[0].checked_at == "2026-12-01T02:04:00Z"
    assert results[1].detail == "VPC vpc-0d1e has no flow logs. (muted in Prowler)"


def test_parse_csv_missing_column(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("CHECK_ID;STATUS\nguardduty_is_enabled;PASS\n")
    with pytest.raises(EvidenceError, match=r"line 2 is not a Prowler CSV finding"):
        parse_prowler_output(path, "medicorp-health", "333344445555")


def test_parse_unknown_format(tmp_path):
    path = tmp_path / "out.html"
    path.write_text("<html></html>")
    with pytest.raises(EvidenceError, match="unknown Prowler output format"):
        parse_prowler_output(path, "medicorp-health", "333344445555")


# Scans ------------------------------------------------------------------------------------------------


def test_scan_without_prowler(tmp_path, config):
    run_verify = verify_for([
        make_result(),
        make_result("account.tags", customer="acme-finance"),
        make_result("scp.size", customer=None),
    ])
    folder = scan_customer(config, "medicorp-health", fake_session, tmp_path, run_verify,
                           prowler=str(tmp_path / "no-such-prowler"))
    scan = load_scan(folder)
    assert run_verify.calls == ["medicorp-health"]
    assert [result.check_id for result in scan.results] == ["account.active"]
    assert scan.record.partial is False
    assert scan.record.source("securebase") == SourceRun("securebase", "completed", "1 result", 1)
    prowler = scan.record.source("prowler")
    assert prowler.status == "not-run"
    assert "not installed" in prowler.detail
    assert scan.record.account_id == "333344445555"
    assert scan.record.framework == "hipaa"


def test_scan_runs_prowler_through_role(tmp_path, config):
    prowler = fake_prowler(tmp_path)
    environ = {"PATH": os.environ["PATH"], "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}
    folder = scan_customer(config, "medicorp-health", fake_session, tmp_path / "evidence", verify_for([make_result()]),
                           prowler=str(prowler), environ=environ)

    call = json.loads((tmp_path / "prowler-call.json").read_text())
    args = call["args"]
    assert args[:4] == ["aws", "--compliance", "hipaa_aws", "--role"]
    assert args[4] == "arn:aws:iam::333344445555:role/OrganizationAccountAccessRole"
    assert call["env"]["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert call["env"]["AWS_ACCESS_KEY_ID"] == "testing-key"
    assert call["env"]["AWS_SESSION_TOKEN"] == "testing-token"
    assert call["env"]["AWS_DEFAULT_REGION"] == "us-east-1"

    scan = load_scan(folder)
    assert scan.record.partial is False
    assert scan.record.source("prowler").status == "completed"
    assert scan.record.sources_run == frozenset({"securebase", "prowler"})
    prowler_results = [result for result in scan.results if result.source == "prowler"]
    assert len(prowler_results) == len(json.loads(MEDICORP_OCSF.read_text()))
    assert (folder / "prowler" / "prowler-output.ocsf.json").is_file()
    assert "scan finished" in (folder / "prowler" / "prowler.log").read_text()


def test_scan_passes_endpoint_from_environment(tmp_path, config, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    prowler = fake_prowler(tmp_path)
    scan_customer(config, "medicorp-health", fake_session, tmp_path / "evidence", verify_for([]), prowler=str(prowler))
    call = json.loads((tmp_path / "prowler-call.json").read_text())
    assert call["env"]["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"


def test_scan_prowler_failure_is_partial(tmp_path, config):
    prowler = fake_prowler(tmp_path, exit_code=1)
    folder = scan_customer(config, "medicorp-health", fake_session, tmp_path / "evidence", verify_for([make_result()]),
                           prowler=str(prowler))
    scan = load_scan(folder)
    assert scan.record.partial is True
    assert scan.record.partial_reasons == ("Prowler exited with code 1: prowler: scan finished",)
    assert scan.record.source("prowler") == SourceRun("prowler", "failed", scan.record.partial_reasons[0])
    assert [result.source for result in scan.results] == ["securebase"]


def test_scan_prowler_without_output_is_partial(tmp_path, config):
    prowler = fake_prowler(tmp_path, write_output=False)
    folder = scan_customer(config, "medicorp-health", fake_session, tmp_path / "evidence", verify_for([]),
                           prowler=str(prowler))
    [reason] = load_scan(folder).record.partial_reasons
    assert reason == ("Prowler finished without writing prowler-output.ocsf.json; see prowler/prowler.log in the "
                      "scan folder")
    assert (folder / "prowler" / "prowler.log").is_file()


def test_scan_prowler_bad_output_is_partial(tmp_path, config):
    prowler = fake_prowler(tmp_path, findings=[{"status_code": "PASS"}])
    folder = scan_customer(config, "medicorp-health", fake_session, tmp_path / "evidence", verify_for([]),
                           prowler=str(prowler))
    [reason] = load_scan(folder).record.partial_reasons
    assert reason.startswith("Prowler's output could not be read: ")
    assert "finding [0] is not an OCSF detection finding" in reason


def test_scan_prowler_timeout_is_partial(tmp_path, config):
    script = tmp_path / "bin" / "prowler"
    script.parent.mkdir()
    script.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(30)\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    folder = scan_customer(config, "medicorp-health", fake_session, tmp_path / "evidence", verify_for([]),
                           prowler=str(script), prowler_timeout=0.5)
    record = load_scan(folder).record
    assert record.partial_reasons == ("Prowler timed out after 0.5 seconds",)


def test_scan_customer_without_account(tmp_path, config):
    prowler = fake_prowler(tmp_path)
    folder = scan_customer(config, "federal-energy-board", fake_session, tmp_path / "evidence", verify_for([]),
                           prowler=str(prowler))
    record = load_scan(folder).record
    assert record.account_id is None
    assert record.partial_reasons == ("the customer has no AWS account yet, so Prowler could not scan it",)
    assert not (tmp_path / "prowler-call.json").exists()


def test_scan_verify_failure_is_partial(tmp_path, config):
    def broken_verify(config, customer, session_factory):
        raise RuntimeError("AccessDenied when calling ListAccounts")

    folder = scan_customer(config, "acme-finance", fake_session, tmp_path, broken_verify,
                           prowler=str(tmp_path / "no-such-prowler"))
    record = load_scan(folder).record
    assert record.partial_reasons == ("securebase verify failed: RuntimeError: AccessDenied when calling ListAccounts",)
    assert record.source("securebase").status == "failed"


def test_scan_verify_errors_are_partial(tmp_path, config):
    folder = scan_customer(config, "medicorp-health", fake_session, tmp_path,
                           verify_for([make_result(), make_result("account.tags", status="ERROR")]),
                           prowler=str(tmp_path / "no-such-prowler"))
    record = load_scan(folder).record
    assert record.partial_reasons == ("1 securebase verify check could not run",)


def test_scan_unknown_customer(tmp_path, config):
    message = r"^customer 'globex' not found; customers in this configuration: acme-finance, "
    with pytest.raises(UnknownCustomerError, match=message):
        scan_customer(config, "globex", fake_session, tmp_path, verify_for([]))


def test_scan_all_customers(tmp_path, config):
    folders = scan_all(config, fake_session, tmp_path, verify_for([]), prowler=str(tmp_path / "no-such-prowler"))
    assert sorted(folders) == sorted(customer.key for customer in config.customers)
    for key, folder in folders.items():
        assert folder.parent == tmp_path / key


def test_prowler_framework_ids_complete(config):
    assert set(PROWLER_FRAMEWORKS) == set(config.catalog.frameworks)


def test_prowler_command_needs_account(config):
    federal = next(customer for customer in config.customers if customer.key == "federal-energy-board")
    with pytest.raises(ValueError, match="federal-energy-board has no account id yet"):
        prowler_command(federal, None, "OrganizationAccountAccessRole", Path("/tmp/out"))


def test_scan_vended_account(tmp_path, config):
    """A vended account's id, found in the organization, reaches Prowler and the scan record."""
    findings = json.loads(MEDICORP_OCSF.read_text())
    for finding in findings:
        finding["cloud"]["account"]["uid"] = "182123048110"
    prowler = fake_prowler(tmp_path, findings=findings)
    folder = scan_customer(config, "federal-energy-board", fake_session, tmp_path / "evidence", verify_for([]),
                           prowler=str(prowler), account_id="182123048110")
    call = json.loads((tmp_path / "prowler-call.json").read_text())
    assert call["args"][4] == "arn:aws:iam::182123048110:role/OrganizationAccountAccessRole"
    scan = load_scan(folder)
    assert scan.record.account_id == "182123048110"
    assert scan.record.partial is False
    assert {result.source for result in scan.results} == {"prowler"}


def test_scan_file_account_wins(tmp_path, config):
    prowler = fake_prowler(tmp_path)
    folder = scan_customer(config, "medicorp-health", fake_session, tmp_path / "evidence", verify_for([]),
                           prowler=str(prowler), account_id="999988887777")
    assert load_scan(folder).record.account_id == "333344445555"
    call = json.loads((tmp_path / "prowler-call.json").read_text())
    assert call["args"][4] == "arn:aws:iam::333344445555:role/OrganizationAccountAccessRole"
