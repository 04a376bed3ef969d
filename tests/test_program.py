"""The Pulumi program's entry point: settings from stack config and errors without tracebacks."""

from __future__ import annotations

import sys

import pytest

from securebase.offline.runtime import ProgramError, run_program
from securebase.program import run
from tests.support import REPO, FakeOrganization, bundled_accounts, stack_config


def _run_with_config(config, org=None):
    org = org or FakeOrganization()
    return run_program(lambda: run(REPO), mocks=org, config=config), org


def test_invalid_settings_stop_before_any_call():
    config = stack_config(quotas={"maxScpsPerTarget": "many"}, billingAccess="MAYBE")
    org = FakeOrganization()

    with pytest.raises(ProgramError) as raised:
        run_program(lambda: run(REPO), mocks=org, config=config)

    message = str(raised.value)
    assert message.startswith("2 problem(s) in the stack settings:")
    assert "Pulumi.dev.yaml: securebase:billingAccess: input should be 'ALLOW' or 'DENY' (got 'MAYBE')" in message
    assert "securebase:quotas.maxScpsPerTarget: input should be a valid integer" in message
    assert org.calls == []
    assert raised.value.run.resources == []


def test_missing_mailbox_setting_reported():
    config = stack_config()
    del config["securebase:rootEmailMailbox"]

    with pytest.raises(ProgramError, match=r"securebase:rootEmailMailbox: field required\. Fix: add the field"):
        _run_with_config(config)


def test_scalar_settings_converted():
    config = stack_config(customersOuDepth="2", platformRoleName="1234", quotas='{"maxScpsPerTarget": 9}')

    run, _ = _run_with_config(config, FakeOrganization(accounts=bundled_accounts()))
    account = run.named("federal-energy-board-account")

    assert account.inputs["roleName"] == "1234"


def test_unknown_setting_rejected():
    config = stack_config(customerDir="elsewhere")

    with pytest.raises(ProgramError, match=r"securebase:customerDir: extra inputs are not permitted"):
        _run_with_config(config)


def test_recursion_limit_fits_creation_chain(tmp_path):
    from tests.support import customer_fields, make_project, run_landing_zone

    customers = {
        f"customer-{number:02d}": customer_fields(
            name=f"Customer {number}", prefix=f"cust{number}", contact_email=f"c{number}@example.com"
        )
        for number in range(40)
    }
    project = make_project(tmp_path, customers=customers)
    original = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        run_landing_zone(project, quotas={"maxAccountCreationsInProgress": 1})
        raised_to = sys.getrecursionlimit()
    finally:
        sys.setrecursionlimit(original)

    assert raised_to >= 1000 + 10 * 40
