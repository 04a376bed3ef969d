"""Test support: a fake organization that serves the program's reads, and a runner."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

from securebase.components.identity_center import MANAGED_USER_TYPE
from securebase.offline.runtime import RecordedRun, run_program
from securebase.program import run

REPO = Path(__file__).resolve().parent.parent
ACCOUNT = "aws:organizations/account:Account"
OU = "aws:organizations/organizationalUnit:OrganizationalUnit"
POLICY = "aws:organizations/policy:Policy"
ATTACHMENT = "aws:organizations/policyAttachment:PolicyAttachment"
ORGANIZATION = "aws:organizations/organization:Organization"
INSTANCE_ARN = "arn:aws:sso:::instance/ssoins-1111222233334444"
IDENTITY_STORE_ID = "d-1234567890"
USER = "aws:identitystore/user:User"
GROUP = "aws:identitystore/group:Group"
MEMBERSHIP = "aws:identitystore/groupMembership:GroupMembership"
PERMISSION_SET = "aws:ssoadmin/permissionSet:PermissionSet"
ASSIGNMENT = "aws:ssoadmin/accountAssignment:AccountAssignment"
PROVIDER = "pulumi:providers:aws"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
TRAIL = "aws:cloudtrail/trail:Trail"
KMS_KEY = "aws:kms/key:Key"


@dataclass
class FakeOrganization(pulumi.runtime.Mocks):
    """An organization as the provider's reads return it; fails on any call it does not handle.

    It has one Identity Center instance whose store contains `users` (user name to user
    id). Lookups by user name match exactly, as the GetUserId API does.
    """

    accounts: dict[str, str] = field(default_factory=dict)
    scp_enabled: bool = True
    policies_on_target: dict[str, list[str]] = field(default_factory=dict)
    organization_id: str = "o-a1b2c3d4e5"
    management_account_id: str = "111122223333"
    root_id: str = "r-ab12"
    calls: list[str] = field(default_factory=list)

    def _new_organization_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
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

    def _call_organization(self, args: pulumi.runtime.MockCallArgs) -> Any:
        self.calls.append(args.token)
        if args.token == "aws:organizations/getOrganization:getOrganization":
            return self._organization()
        if args.token == "aws:organizations/getPoliciesForTarget:getPoliciesForTarget":
            names = self.policies_on_target.get(args.args["targetId"], [])
            return {"ids": [f"p-{name}" for name in names], "targetId": args.args["targetId"], "id": "x"}
        if args.token == "aws:organizations/getPolicy:getPolicy":
            return {"name": args.args["policyId"][2:], "id": args.args["policyId"]}
        raise AssertionError(f"unhandled call {args.token} with {args.args}")

    users: dict[str, str] = field(default_factory=dict)
    # User names whose user type marks them as created by SecureBase.
    managed_users: set[str] = field(default_factory=set)
    instances: list[tuple[str, str]] = field(default_factory=lambda: [(INSTANCE_ARN, IDENTITY_STORE_ID)])

    def call(self, args: pulumi.runtime.MockCallArgs) -> Any:
        if args.token == "aws:ssoadmin/getInstances:getInstances":
            self.calls.append("getInstances")
            return {
                "arns": [arn for arn, _ in self.instances],
                "identityStoreIds": [store for _, store in self.instances],
                "id": "instances",
            }
        if args.token == "aws:identitystore/getUser:getUser":
            self.calls.append("getUser")
            assert args.args["identityStoreId"] == IDENTITY_STORE_ID, args.args
            unique = args.args["alternateIdentifier"]["uniqueAttribute"]
            assert unique["attributePath"] == "UserName", unique
            user_name = unique["attributeValue"]
            if user_name not in self.users:
                # The shape in which the engine reports a failed provider read.
                return {}, [
                    (
                        "alternateIdentifier",
                        "reading IdentityStore User (d-1234567890): operation error identitystore: GetUserId, "
                        "https response error StatusCode: 404, ResourceNotFoundException: USER not found.",
                    )
                ]
            return self._user(user_name)
        if args.token == "aws:identitystore/getUsers:getUsers":
            self.calls.append("getUsers")
            return {
                "identityStoreId": args.args["identityStoreId"],
                "id": args.args["identityStoreId"],
                "users": [self._user(name) for name in self.users],
            }
        return self._call_organization(args)

    def _user(self, user_name: str) -> dict[str, Any]:
        return {
            "id": self.users[user_name],
            "userId": self.users[user_name],
            "userName": user_name,
            "displayName": f"Existing {user_name}",
            "identityStoreId": IDENTITY_STORE_ID,
            "names": [
                {
                    "givenName": "Existing",
                    "familyName": user_name,
                    "formatted": "",
                    "honorificPrefix": "",
                    "honorificSuffix": "",
                    "middleName": "",
                }
            ],
            "emails": [{"value": user_name, "type": "work", "primary": True}],
            "userType": MANAGED_USER_TYPE if user_name in self.managed_users else "",
        }

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        resource_id, state = self._new_organization_resource(args)
        digest = hashlib.sha256(f"{args.typ}/{args.name}".encode()).hexdigest()
        if args.typ == USER:
            user_id = resource_id.split("/", 1)[1] if args.resource_id else f"u-{digest[:12]}"
            return f"{IDENTITY_STORE_ID}/{user_id}", {**state, "userId": user_id}
        if args.typ == GROUP:
            return resource_id, {**state, "groupId": f"g-{digest[:12]}"}
        if args.typ == PERMISSION_SET:
            return resource_id, {**state, "arn": f"{INSTANCE_ARN}/ps-{digest[:16]}"}
        if args.typ == "aws:s3/bucket:Bucket":
            return state["bucket"], {**state, "arn": f"arn:aws:s3:::{state['bucket']}"}
        if args.typ == KMS_KEY:
            return f"key-{digest[:8]}", {
                **state,
                "arn": f"arn:aws:kms:us-east-1:{self.management_account_id}:key/{digest[:8]}",
                "keyId": digest[:8],
            }
        if args.typ == TRAIL:
            return state["name"], {
                **state,
                "arn": f"arn:aws:cloudtrail:us-east-1:{self.management_account_id}:trail/{state['name']}",
            }
        if args.typ == "aws:iam/role:Role":
            return state["name"], {**state, "arn": f"arn:aws:iam::000000000000:role/{state['name']}"}
        return resource_id, state

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
