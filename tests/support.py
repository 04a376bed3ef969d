"""Test support: a fake organization that answers the program's reads, and a runner."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

from securebase.offline.runtime import RecordedRun, run_program
from securebase.program import run

REPO = Path(__file__).resolve().parent.parent
ACCOUNT = "aws:organizations/account:Account"
OU = "aws:organizations/organizationalUnit:OrganizationalUnit"
POLICY = "aws:organizations/policy:Policy"
ATTACHMENT = "aws:organizations/policyAttachment:PolicyAttachment"
ORGANIZATION = "aws:organizations/organization:Organization"


@dataclass
class FakeOrganization(pulumi.runtime.Mocks):
    """An organization as the provider's reads return it; fails on any call it does not handle."""

    accounts: dict[str, str] = field(default_factory=dict)
    scp_enabled: bool = True
    policies_on_target: dict[str, list[str]] = field(default_factory=dict)
    organization_id: str = "o-a1b2c3d4e5"
    management_account_id: str = "111122223333"
    root_id: str = "r-ab12"
    calls: list[str] = field(default_factory=list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.resource_id:
            return args.resource_id, dict(args.inputs)
        digest = hashlib.sha256(f"{args.typ}/{args.name}".encode()).hexdigest()
        if args.typ == ACCOUNT:
            return str(int(digest, 16))[:12].rjust(12, "9"), dict(args.inputs)
        if args.typ == OU:
            return f"ou-{digest[:4]}-{digest[4:12]}", dict(args.inputs)
        if args.typ == POLICY:
            return f"p-{digest[:8]}", dict(args.inputs)
        if args.typ.startswith("securebase:index:"):
            return "", dict(args.inputs)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> Any:
        self.calls.append(args.token)
        if args.token == "aws:organizations/getOrganization:getOrganization":
            return self._organization()
        if args.token == "aws:organizations/getPoliciesForTarget:getPoliciesForTarget":
            names = self.policies_on_target.get(args.args["targetId"], [])
            return {"ids": [f"p-{name}" for name in names], "targetId": args.args["targetId"], "id": "x"}
        if args.token == "aws:organizations/getPolicy:getPolicy":
            return {"name": args.args["policyId"][2:], "id": args.args["policyId"]}
        raise AssertionError(f"unhandled call {args.token} with {args.args}")

    def _organization(self) -> dict[str, Any]:
        accounts = [
            {
                "id": self.management_account_id,
                "email": "management@provider.example",
                "name": "Management",
                "state": "ACTIVE",
                "status": "ACTIVE",
                "arn": "arn",
            }
        ]
        accounts += [
            {"id": account_id, "email": email, "name": account_id, "state": "ACTIVE", "status": "ACTIVE", "arn": "arn"}
            for account_id, email in self.accounts.items()
        ]
        policy_types = [{"type": "SERVICE_CONTROL_POLICY", "status": "ENABLED"}] if self.scp_enabled else []
        return {
            "id": self.organization_id,
            "arn": f"arn:aws:organizations::{self.management_account_id}:organization/{self.organization_id}",
            "featureSet": "ALL",
            "masterAccountId": self.management_account_id,
            "accounts": accounts,
            "roots": [{"id": self.root_id, "arn": "arn", "name": "Root", "policyTypes": policy_types}],
            "enabledPolicyTypes": [],
            "awsServiceAccessPrincipals": [],
        }


def stack_config(path: Path = REPO / "Pulumi.dev.yaml", **overrides: Any) -> dict[str, Any]:
    """Return the stack config of Pulumi.dev.yaml, with `securebase:` keys overridden."""
    config = yaml.safe_load(path.read_text())["config"]
    for key, value in overrides.items():
        config[f"securebase:{key}"] = value
    return config


def make_project(tmp_path: Path, customers: dict[str, dict[str, Any]] | None = None, lock: dict | None = None) -> Path:
    """Copy the project skeleton into tmp_path with the given customer files (default: the bundled ones)."""
    project = tmp_path / "project"
    (project / "customers").mkdir(parents=True)
    if customers is None:
        for path in (REPO / "customers").glob("*.yaml"):
            shutil.copy(path, project / "customers" / path.name)
        shutil.copy(REPO / "accounts.lock.yaml", project / "accounts.lock.yaml")
    else:
        for key, fields in customers.items():
            (project / "customers" / f"{key}.yaml").write_text(yaml.safe_dump(fields, sort_keys=False))
    if lock is not None:
        (project / "accounts.lock.yaml").write_text(yaml.safe_dump({"accounts": lock}))
    return project


def run_landing_zone(project: Path, org: FakeOrganization | None = None, **settings: Any) -> RecordedRun:
    """Run the real program on `project` against a fake organization."""
    org = org or FakeOrganization(accounts=bundled_accounts())
    return run_program(lambda: run(project), mocks=org, config=stack_config(**settings))


def bundled_accounts() -> dict[str, str]:
    """Return the existing accounts the bundled customers adopt, with their root emails."""
    return {
        "222233334444": "aws-accounts+acme-finance@securebase-provider.example",
        "333344445555": "aws-accounts+medicorp-health@securebase-provider.example",
    }


def customer_fields(**overrides: Any) -> dict[str, Any]:
    """Return the fields of a valid fintech customer file, with `overrides` applied (None removes)."""
    fields: dict[str, Any] = {
        "name": "Northwind Payments Ltd",
        "tier": "fintech",
        "framework": "soc2",
        "prefix": "northwind",
        "contact_email": "security@northwind.example",
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value is not None}


def seed_customers() -> dict[str, dict[str, Any]]:
    """Return the two seed customers' fields as shipped in customers/."""
    return {
        key: yaml.safe_load((REPO / "customers" / f"{key}.yaml").read_text())
        for key in ("acme-finance", "medicorp-health")
    }


def urn_names(run: RecordedRun, urns: set[str]) -> set[str]:
    """Return the logical names of the given URNs."""
    return {urn.split("::")[-1] for urn in urns}
