"""Every bad-input rule of the validation pipeline, with the message it produces."""

from __future__ import annotations

import re

import pytest
import yaml

from securebase.organization_facts import MemberAccount, OrganizationFacts
from securebase.problems import ConfigurationError
from securebase.settings import SettingsError, settings_from_mapping
from securebase.validation import load_landing_zone
from tests.support import customer_fields

MAILBOX = "aws-accounts@securebase-provider.example"


def _settings(**values):
    return settings_from_mapping({"rootEmailMailbox": MAILBOX, **values}, source="Pulumi.dev.yaml")


def _write(project, files):
    folder = project / "customers"
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        (folder / name).write_text(text)
    return project


def _problems(project, settings=None, organization=None):
    with pytest.raises(ConfigurationError) as raised:
        load_landing_zone(settings or _settings(), project, organization=organization)
    return str(raised.value)


# One customer file with one bad field; the expected message fragment names the file, field and rule.
SINGLE_FILE_CASES = [
    (
        "unknown field",
        customer_fields(colour="blue"),
        r"customers/cust-c\.yaml:6: colour: extra inputs are not permitted.*Fix: remove the field",
    ),
    (
        "missing field",
        customer_fields(prefix=None),
        r"customers/cust-c\.yaml: prefix: field required.*Fix: add the field",
    ),
    (
        "unknown tier",
        customer_fields(tier="retail"),
        r"c\.yaml:2: tier: unknown tier \(got 'retail'\)\. Fix: use one of: fintech, healthcare, gov-federal",
    ),
    (
        "framework not allowed",
        customer_fields(framework="hipaa"),
        r"c\.yaml:3: framework: framework is not allowed for tier fintech \(got 'hipaa'\)\. "
        r"Fix: tier fintech runs under framework soc2",
    ),
    ("unknown framework", customer_fields(framework="pci"), r"framework: unknown framework \(got 'pci'\)"),
    (
        "short account id",
        customer_fields(account_id="12345"),
        r"account_id: does not match the pattern \^\\d\{12\}\$ \(got '12345'\)",
    ),
    (
        "unquoted account id",
        customer_fields(account_id=222233334444),
        r"account_id: write the account id as a quoted string",
    ),
    (
        "bad contact email",
        customer_fields(contact_email="john at acme"),
        r"contact_email: must be an email address .*\(got 'john at acme'\)",
    ),
    ("bad root email", customer_fields(root_email="root@"), r"root_email: must be an email address"),
    ("bad prefix", customer_fields(prefix="Acme_Corp"), r"prefix: does not match the pattern"),
    (
        "negative price",
        customer_fields(monthly_base_price_usd=-5),
        r"monthly_base_price_usd: input should be greater than or equal to 0",
    ),
    (
        "account name too long",
        customer_fields(account_name="x" * 51),
        r"account_name: string should have at most 50 characters",
    ),
    ("tags not a mapping", customer_fields(tags=["a"]), r"tags: input should be a valid dictionary"),
]


@pytest.mark.parametrize(
    "fields, expected", [case[1:] for case in SINGLE_FILE_CASES], ids=[case[0] for case in SINGLE_FILE_CASES]
)
def test_customer_file_rule(tmp_path, fields, expected):
    project = _write(tmp_path, {"cust-c.yaml": fields})

    assert re.search(expected, _problems(project)), _problems(project)


def test_yaml_syntax_error_names_line(tmp_path):
    project = _write(tmp_path, {"broken.yaml": "name: Broken\ntier: [fintech\nprefix: b\n"})

    assert re.search(r"customers/broken\.yaml:3: invalid YAML: expected ',' or '\]'", _problems(project))


def test_yaml_error_at_end_names_last_line(tmp_path):
    """PyYAML places an unclosed bracket at the end one line past the file; the report names the last line."""
    project = _write(tmp_path, {"broken.yaml": "name: Broken\ntier: fintech\ntags: {a: 1\n"})

    assert "customers/broken.yaml:3: invalid YAML: expected ',' or '}', but got '<stream end>'" in _problems(project)


def test_duplicate_keys_reported(tmp_path):
    """PyYAML keeps the last of two equal keys silently, so validation names every repeat."""
    fields = customer_fields(monthly_base_price_usd=9000)
    text = yaml.safe_dump(fields, sort_keys=False) + "monthly_base_price_usd: 1\ntags:\n  team: a\n  team: b\n"
    project = _write(tmp_path, {"alpha-co.yaml": text})
    lines = text.splitlines()
    price_lines = [number for number, line in enumerate(lines, 1) if line.startswith("monthly_base_price_usd:")]
    message = _problems(project)

    assert len(price_lines) == 2
    assert (f"customers/alpha-co.yaml:{price_lines[1]}: monthly_base_price_usd: the key already appears on line "
            f"{price_lines[0]}, and YAML keeps only the last value. Fix: keep one of the two lines") in message
    last = len(lines)
    assert f"customers/alpha-co.yaml:{last}: tags.team: the key already appears on line {last - 1}" in message


def test_file_must_be_mapping(tmp_path):
    project = _write(tmp_path, {"listy.yaml": "- name: x\n"})

    assert "customers/listy.yaml: a customer file must be a mapping of field names to values (got 'list')" in _problems(
        project
    )


def test_empty_file_rejected(tmp_path):
    project = _write(tmp_path, {"empty.yaml": ""})

    assert (
        "customers/empty.yaml: a customer file must be a mapping of field names to values (got 'empty file')"
        in _problems(project)
    )


def test_file_name_must_be_customer_key(tmp_path):
    project = _write(tmp_path, {"Acme_Finance.yaml": customer_fields()})

    assert "(file name): customer key must be 3 to 50 lowercase letters" in _problems(project)


@pytest.mark.parametrize(
    "field_name, first, second",
    [
        ("account_id", "222233334444", "222233334444"),
        ("prefix", "acme", "acme"),
        ("account_name", "ACME Finance", "acme finance"),
        ("contact_email", "ops@acme.example", "OPS@acme.example"),
        ("root_email", "root@acme.example", "Root@Acme.example"),
    ],
)
def test_duplicates_across_files(tmp_path, field_name, first, second):
    a = customer_fields(**{"name": "Alpha", "prefix": "alpha", "contact_email": "a@alpha.example", field_name: first})
    b = customer_fields(**{"name": "Beta", "prefix": "beta", "contact_email": "b@beta.example", field_name: second})
    project = _write(tmp_path, {"alpha-co.yaml": a, "beta-co.yaml": b})
    message = _problems(project)

    assert re.search(
        rf"customers/alpha-co\.yaml(:\d+)?: {field_name}: .* must be unique across customers, compared ignoring "
        rf"case, but customers/alpha-co\.yaml and customers/beta-co\.yaml both use it \(got '{re.escape(first)}'\)",
        message,
    ), message
    assert f"Fix: give customers/beta-co.yaml its own {field_name}" in message


def test_duplicate_key_across_suffixes(tmp_path):
    project = _write(
        tmp_path,
        {
            "acme.yaml": customer_fields(),
            "acme.yml": customer_fields(name="Other", prefix="other", contact_email="x@y.example"),
        },
    )

    assert "customer key is used by customers/acme.yaml, customers/acme.yml" in _problems(project)


def test_every_problem_reported_in_one_pass(tmp_path):
    project = _write(
        tmp_path,
        {
            "alpha-co.yaml": customer_fields(tier="retail"),
            "beta-co.yaml": "name: [unclosed\n",
            "gamma-co.yaml": customer_fields(name="Gamma", prefix="gamma", contact_email="bad"),
        },
    )
    message = _problems(project)

    assert message.startswith("3 configuration problems found; nothing was changed:")
    assert "alpha-co.yaml:2: tier: unknown tier" in message
    assert "beta-co.yaml:1: invalid YAML" in message
    assert "gamma-co.yaml:5: contact_email: must be an email address" in message


def test_missing_customer_folder(tmp_path):
    message = _problems(tmp_path)

    assert "stack settings: securebase:customersDir: customer folder" in message
    assert "Fix: create the folder or set securebase:customersDir" in message


def test_lock_invalid_yaml(tmp_path):
    project = _write(tmp_path, {"alpha-co.yaml": customer_fields()})
    (project / "accounts.lock.yaml").write_text("accounts: [\n")

    assert "accounts.lock.yaml:1: invalid YAML" in _problems(project)


def test_lock_account_id_differs(tmp_path):
    project = _write(tmp_path, {"alpha-co.yaml": customer_fields(account_id="222233334444")})
    (project / "accounts.lock.yaml").write_text(
        yaml.safe_dump({"accounts": {"alpha-co": {"account_id": "999988887777"}}})
    )

    assert "account_id: account id differs from '999988887777' pinned in accounts.lock.yaml" in _problems(project)


def test_ou_depth_over_limit(tmp_path):
    project = _write(tmp_path, {"alpha-co.yaml": customer_fields()})
    message = _problems(project, _settings(customersOuDepth=5))

    assert (
        "securebase:customersOuDepth: tier OUs would sit 6 levels under the root, above the OU nesting limit of 5"
        in message
    )


def test_unknown_tier_in_adopted_ous(tmp_path):
    project = _write(tmp_path, {"alpha-co.yaml": customer_fields()})

    assert "securebase:tierOuIds.retail: unknown tier" in _problems(
        project, _settings(tierOuIds={"retail": "ou-ab12-cd34ef56"})
    )


def _facts(accounts):
    return OrganizationFacts(
        id="o-a1b2c3d4e5",
        root_id="r-ab12",
        management_account_id="111122223333",
        feature_set="ALL",
        root_policy_types=frozenset({"SERVICE_CONTROL_POLICY"}),
        enabled_policy_types=frozenset(),
        service_access_principals=frozenset(),
        accounts=accounts,
    )


def test_management_account_rejected(tmp_path):
    project = _write(tmp_path, {"alpha-co.yaml": customer_fields(account_id="111122223333")})
    facts = _facts({"111122223333": MemberAccount("111122223333", "m@x.example", "Management", "ACTIVE")})

    assert "account_id: the management account cannot be a customer account" in _problems(project, organization=facts)


def test_suspended_account_rejected(tmp_path):
    project = _write(tmp_path, {"alpha-co.yaml": customer_fields(account_id="222233334444")})
    facts = _facts({"222233334444": MemberAccount("222233334444", "r@x.example", "Alpha", "SUSPENDED")})

    assert "account status is SUSPENDED, not ACTIVE" in _problems(project, organization=facts)


def test_adopted_root_email_differs_from_aws(tmp_path):
    project = _write(
        tmp_path, {"alpha-co.yaml": customer_fields(account_id="222233334444", root_email="a@alpha.example")}
    )
    facts = _facts({"222233334444": MemberAccount("222233334444", "other@alpha.example", "Alpha", "ACTIVE")})

    assert (
        "root_email: root email differs from 'other@alpha.example' in AWS; a root email change is a manual step"
        in _problems(project, organization=facts)
    )


SETTINGS_CASES = [
    ("unknown key", {"customerDir": "x"}, r"Pulumi\.dev\.yaml: securebase:customerDir: extra inputs are not permitted"),
    (
        "zero limit",
        {"quotas": {"maxScpsPerTarget": 0}},
        r"securebase:quotas\.maxScpsPerTarget: input should be greater than or equal to 1",
    ),
    (
        "plus mailbox",
        {"rootEmailMailbox": "ops+aws@x.example"},
        r"securebase:rootEmailMailbox: must be an email address without a plus part",
    ),
    ("bad ou id", {"customersOuId": "Customers"}, r"securebase:customersOuId: does not match the pattern"),
    ("bad billing", {"billingAccess": "MAYBE"}, r"securebase:billingAccess: input should be 'ALLOW' or 'DENY'"),
    ("bad tier ou", {"tierOuIds": {"fintech": "x"}}, r"securebase:tierOuIds: fintech: 'x' is not an OU id"),
]


@pytest.mark.parametrize(
    "values, expected", [case[1:] for case in SETTINGS_CASES], ids=[case[0] for case in SETTINGS_CASES]
)
def test_settings_rule(values, expected):
    with pytest.raises(SettingsError) as raised:
        _settings(**values)

    assert re.search(expected, str(raised.value)), str(raised.value)


def test_missing_mailbox_setting():
    with pytest.raises(SettingsError, match=r"securebase:rootEmailMailbox: field required"):
        settings_from_mapping({}, source="Pulumi.dev.yaml")


def test_lock_entry_of_broken_file_not_missing(tmp_path):
    project = _write(tmp_path, {"alpha-co.yaml": customer_fields(contact_emial="a@alpha.example")})
    (project / "accounts.lock.yaml").write_text(
        yaml.safe_dump({"accounts": {"alpha-co": {"root_email": "r@x.example"}}})
    )
    message = _problems(project)

    assert "contact_emial: extra inputs are not permitted" in message
    assert "customer file is missing" not in message
