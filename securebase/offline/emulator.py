"""An emulated AWS organization that the Pulumi program deploys into during `securebase simulate`.

`OrganizationEmulator` is a `pulumi.runtime.Mocks`: every resource the program
registers is applied to the organization through boto3, and every provider invoke
is read back from it. By default moto runs in-process (`moto.mock_aws`), and with an
endpoint URL the calls go to a moto or LocalStack server on the loopback interface.

moto accepts calls that AWS rejects, so the emulator adds the AWS rule that matters
for ordering: attaching an SCP fails with PolicyTypeNotEnabledException until the
SERVICE_CONTROL_POLICY type is enabled on the root. A missing dependency in the
program then fails the simulation instead of passing silently.

The emulator also replaces Pulumi's state: a resource that already exists in
the organization (an OU of the same name under the same parent, a policy of the same
name, an account with the same root email, an attachment already made) is reused
instead of created again, so a second run against the same organization is a no-op.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from urllib.parse import urlparse

import boto3
import botocore.config
import botocore.exceptions
import pulumi

from securebase.aws_sessions import paginate as _paginate
from securebase.organization_facts import SCP_TYPE

log = logging.getLogger("securebase")

ORGANIZATION = "aws:organizations/organization:Organization"
ORGANIZATIONAL_UNIT = "aws:organizations/organizationalUnit:OrganizationalUnit"
POLICY = "aws:organizations/policy:Policy"
POLICY_ATTACHMENT = "aws:organizations/policyAttachment:PolicyAttachment"
ACCOUNT = "aws:organizations/account:Account"

GET_ORGANIZATION = "aws:organizations/getOrganization:getOrganization"
GET_POLICIES_FOR_TARGET = "aws:organizations/getPoliciesForTarget:getPoliciesForTarget"
GET_POLICY = "aws:organizations/getPolicy:getPolicy"

# Fake credentials for the emulator only: simulate never signs a request with real ones.
FAKE_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}
DEFAULT_REGION = "us-east-1"
# The account moto serves requests from when no credentials map to another one.
MOTO_MANAGEMENT_ACCOUNT_ID = "123456789012"
LOOPBACK_NAMES = ("localhost",)


ResourceHandler = Callable[[pulumi.runtime.MockResourceArgs], tuple[str, dict[str, Any]]]
CallHandler = Callable[[pulumi.runtime.MockCallArgs], dict[str, Any]]


# AWS managed policies the security baseline attaches, by name; moto loads only these.
EMULATED_MANAGED_POLICIES = (
    "AWS_ConfigRole",
    "AWSConfigRoleForOrganizations",
    "ViewOnlyAccess",
    "ReadOnlyAccess",
    "SecurityAudit",
)
# State key under which baseline handlers list their API calls (see emulator_baseline).
BASELINE_OPERATIONS_KEY = "__operations"


class EmulatorError(Exception):
    """The emulated organization could not be set up or reached; the message gives the fix."""


class EmulatedAWSError(Exception):
    """An AWS error that the emulator raises where moto would accept the call."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True)
class SeedAccount:
    """An account that exists in the organization before the program runs."""

    id: str
    email: str
    name: str


@dataclass(frozen=True)
class SeedOU:
    """An OU that exists before the program runs. A `parent_id` of None means the root."""

    id: str
    name: str
    parent_id: str | None = None


@dataclass(frozen=True)
class OrganizationSeed:
    """Starting state of the emulated organization, like a real management account's."""

    scp_enabled: bool = True
    accounts: tuple[SeedAccount, ...] = ()
    ous: tuple[SeedOU, ...] = ()


@dataclass
class Operation:
    """One AWS API call the emulator made for a resource, e.g. CreateAccount."""

    name: str
    detail: str = ""


def check_loopback_endpoint(endpoint_url: str) -> None:
    """Raise ValueError unless the endpoint URL is http(s) on a loopback address."""
    parsed = urlparse(endpoint_url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"invalid endpoint URL {endpoint_url!r}; use http://127.0.0.1:PORT")
    host = parsed.hostname
    if host in LOOPBACK_NAMES:
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"endpoint host {host!r} is not a loopback address; the emulator must listen on 127.0.0.1 or ::1"
        )


def emulator_client(endpoint_url: str | None = None, region: str = DEFAULT_REGION, service: str = "organizations"):
    """Return a boto3 client for the emulator, signed with fake credentials only."""
    if endpoint_url is not None:
        check_loopback_endpoint(endpoint_url)
    config = botocore.config.Config(connect_timeout=3, read_timeout=60, retries={"max_attempts": 2})
    session = boto3.session.Session(region_name=region, **FAKE_CREDENTIALS)
    client = session.client(service, endpoint_url=endpoint_url, config=config)
    if service == "organizations":
        # moto 5.2 finds a request's account by scanning every account's IAM keys, which
        # costs O(accounts) per call. This header names the management account directly.
        # Other emulators ignore it.
        client.meta.events.register("before-sign.organizations.*", _pin_moto_account)
    return client


def _pin_moto_account(request, **_: Any) -> None:
    request.headers["x-moto-account-id"] = MOTO_MANAGEMENT_ACCOUNT_ID


@contextlib.contextmanager
def emulated_aws(endpoint_url: str | None = None) -> Iterator[None]:
    """Run the body against moto in-process, or against the server at `endpoint_url` when given.

    In-process moto sets and afterwards restores fake AWS credentials in the environment.
    """
    if endpoint_url is not None:
        check_loopback_endpoint(endpoint_url)
        yield
        return
    from moto import mock_aws

    with emulator_settings(), mock_aws():
        yield


# moto reads these when it creates an account's backends. Managed policies: the Config and
# aggregator roles attach AWS managed policies, which moto loads only on request. Default
# AMIs: moto otherwise gives every account about 1,300 public AMIs whose snapshots it lists
# as the account's own, so Prowler reported 1,301 unencrypted snapshots in every customer account.
EMULATOR_ENVIRONMENT = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true", "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}


@contextlib.contextmanager
def emulator_settings() -> Iterator[None]:
    """Set moto up as the landing zone needs it, and restore the previous settings afterwards.

    Sets EMULATOR_ENVIRONMENT, and trims moto's AWS managed policies to the ones SecureBase attaches.
    """
    import moto.iam.models as moto_iam

    previous = {name: os.environ.get(name) for name in EMULATOR_ENVIRONMENT}
    os.environ.update(EMULATOR_ENVIRONMENT)
    # moto 5.2 parses all of its managed policies (about 1,300) for every account's IAM backend.
    # That made simulate take seconds per customer, so only the ones SecureBase attaches are kept.
    every_policy = json.loads(moto_iam.aws_managed_policies_data)
    needed = {name: every_policy[name] for name in EMULATED_MANAGED_POLICIES if name in every_policy}
    try:
        with mock.patch.object(moto_iam, "aws_managed_policies_data", json.dumps(needed)):
            yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _chosen_ids(account_id: str | None = None, ou_id: str | None = None) -> Iterator[bool]:
    """Make moto give the next new account or OU this id, when moto runs in this process.

    The Organizations API offers no way to choose an account id, and moto draws ids
    at random, so the emulator replaces moto 5.2's id generators in
    `moto.organizations.utils` for one call. This works for `mock_aws` and for a
    moto server thread in this process, and not for a server in another process.
    Yields whether the ids could be set.
    """
    try:
        from moto.organizations import utils as moto_utils
    except ImportError:
        yield False
        return
    patches = []
    if account_id is not None:
        patches.append(mock.patch.object(moto_utils, "make_random_account_id", return_value=account_id))
    if ou_id is not None:
        patches.append(mock.patch.object(moto_utils, "make_random_ou_id", return_value=ou_id))
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        yield True


def _moto_serves_in_process(organization_id: str, management_account_id: str) -> bool:
    """Return whether the organization lives in this process's moto backend."""
    try:
        from moto.organizations.models import organizations_backends
    except ImportError:
        return False
    backend = organizations_backends[management_account_id]["global"]
    return backend.org is not None and backend.org.id == organization_id


def seed_organization(client, seed: OrganizationSeed) -> list[str]:
    """Create the organization and the seeded accounts and OUs that are missing.

    An organization that already exists (a second run against one server) keeps its
    SCP setting. Returns a line per change made, for the log.
    """
    changes: list[str] = []
    try:
        organization = client.describe_organization()["Organization"]
        created = False
    except client.exceptions.AWSOrganizationsNotInUseException:
        organization = client.create_organization(FeatureSet="ALL")["Organization"]
        created = True
        changes.append(f"created organization {organization['Id']} with all features")
    root = client.list_roots()["Roots"][0]
    if created:
        enabled = any(item["Type"] == SCP_TYPE and item["Status"] == "ENABLED" for item in root.get("PolicyTypes", []))
        if seed.scp_enabled and not enabled:
            client.enable_policy_type(RootId=root["Id"], PolicyType=SCP_TYPE)
            changes.append(f"enabled {SCP_TYPE} on root {root['Id']}")
        elif not seed.scp_enabled and enabled:
            client.disable_policy_type(RootId=root["Id"], PolicyType=SCP_TYPE)
            changes.append(f"disabled {SCP_TYPE} on root {root['Id']}")

    in_process = _moto_serves_in_process(organization["Id"], organization["MasterAccountId"])
    existing_accounts = {account["Id"] for account in _paginate(client, "list_accounts", "Accounts")}
    for account in seed.accounts:
        if account.id in existing_accounts:
            continue
        if not in_process:
            raise EmulatorError(
                f"account {account.id} is not in the emulated organization {organization['Id']}, and the "
                "Organizations API cannot create an account with a chosen id; run simulate without "
                "--endpoint-url, or create the account in the emulator first"
            )
        with _chosen_ids(account_id=account.id):
            status = client.create_account(Email=account.email, AccountName=account.name)
        got = status["CreateAccountStatus"]["AccountId"]
        if got != account.id:
            raise EmulatorError(f"moto gave account id {got} instead of {account.id}; moto may have changed")
        changes.append(f"added existing account {account.id} ({account.email})")

    for ou in seed.ous:
        parent_id = ou.parent_id or root["Id"]
        try:
            client.describe_organizational_unit(OrganizationalUnitId=ou.id)
            continue
        except client.exceptions.OrganizationalUnitNotFoundException:
            pass
        if not in_process:
            raise EmulatorError(
                f"OU {ou.id} is not in the emulated organization, and the Organizations API cannot create "
                "an OU with a chosen id; run simulate without --endpoint-url, or create the OU first"
            )
        with _chosen_ids(ou_id=ou.id):
            got = client.create_organizational_unit(ParentId=parent_id, Name=ou.name)["OrganizationalUnit"]["Id"]
        if got != ou.id:
            raise EmulatorError(f"moto gave OU id {got} instead of {ou.id}; moto may have changed")
        changes.append(f"added existing OU {ou.id} ({ou.name})")
    return changes


@dataclass
class _Index:
    """Lookups by natural key, built once per run because the emulator is the only writer."""

    accounts_by_email: dict[str, str] = field(default_factory=dict)
    ous_by_parent_and_name: dict[tuple[str, str], str] = field(default_factory=dict)
    policies_by_name: dict[str, str] = field(default_factory=dict)


class OrganizationEmulator(pulumi.runtime.Mocks):
    """Mocks that apply each registered resource to the emulated organization through boto3.

    Raises on any resource type or invoke token it does not handle. Calls are
    serialized with a lock because the SDK registers resources from several threads.
    `operations` maps (type, logical name) to the AWS calls made for that resource.

    `extra_resources` and `extra_calls` add handlers for other type tokens and
    invoke tokens (the security baseline's S3, CloudTrail and Config resources, say),
    with the signatures of `Mocks.new_resource` and `Mocks.call`.
    """

    def __init__(
        self,
        client,
        extra_resources: Mapping[str, ResourceHandler] | None = None,
        extra_calls: Mapping[str, CallHandler] | None = None,
    ):
        self.client = client
        self.operations: dict[tuple[str, str], list[Operation]] = {}
        self.failures: list[str] = []
        self.extra_resources = dict(extra_resources or {})
        self.extra_calls = dict(extra_calls or {})
        self._lock = threading.RLock()
        self._index: _Index | None = None

    # --- Pulumi mock interface -------------------------------------------------------

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if not args.custom:
            return "", {}
        handlers = {
            ORGANIZATION: self._apply_organization,
            ORGANIZATIONAL_UNIT: self._apply_organizational_unit,
            POLICY: self._apply_policy,
            POLICY_ATTACHMENT: self._apply_policy_attachment,
            ACCOUNT: self._apply_account,
        }
        handler = handlers.get(args.typ)
        with self._lock:
            if handler is None and args.typ in self.extra_resources:
                return self._apply_extra(args)
            if handler is None:
                message = f"the emulator has no handler for resource type {args.typ} ({args.name}); add one"
                self.failures.append(message)
                raise NotImplementedError(message)
            operations = self.operations.setdefault((args.typ, args.name), [])
            try:
                return handler(args, operations)
            except (EmulatedAWSError, botocore.exceptions.ClientError) as error:
                message = f"{args.typ} {args.name}: {error}"
                self.failures.append(message)
                log.debug("emulated AWS rejected %s", message)
                raise

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        with self._lock:
            if args.token == GET_ORGANIZATION:
                return self._read_organization()
            if args.token == GET_POLICIES_FOR_TARGET:
                return self._read_policies_for_target(args.args)
            if args.token == GET_POLICY:
                return self._read_policy(args.args["policyId"])
            if args.token in self.extra_calls:
                return self.extra_calls[args.token](args)
            message = f"the emulator has no handler for invoke {args.token} with {args.args}; add one"
            self.failures.append(message)
            raise NotImplementedError(message)

    def _apply_extra(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        operations = self.operations.setdefault((args.typ, args.name), [])
        try:
            resource_id, state = self.extra_resources[args.typ](args)
        except (EmulatedAWSError, botocore.exceptions.ClientError) as error:
            message = f"{args.typ} {args.name}: {error}"
            self.failures.append(message)
            raise
        # Handlers list the state-changing API calls they made; none means the resource already existed.
        calls = state.pop(BASELINE_OPERATIONS_KEY, None)
        if calls is None:
            operations.append(Operation("Read" if args.resource_id else "CreateResource", args.typ))
        else:
            operations.extend(Operation(name, args.typ) for name in calls)
        return resource_id, state

    # --- reads (provider invokes) ---------------------------------------------------

    def _root(self) -> dict[str, Any]:
        return self.client.list_roots()["Roots"][0]

    def _read_organization(self) -> dict[str, Any]:
        organization = self.client.describe_organization()["Organization"]
        root = self._root()
        accounts = [
            {
                "id": account["Id"],
                "arn": account["Arn"],
                "email": account["Email"],
                "name": account["Name"],
                "state": account.get("State", account.get("Status", "")),
                "status": account.get("Status", account.get("State", "")),
            }
            for account in _paginate(self.client, "list_accounts", "Accounts")
        ]
        root_types = [{"type": item["Type"], "status": item["Status"]} for item in root.get("PolicyTypes", [])]
        principals = [
            item["ServicePrincipal"]
            for item in _paginate(self.client, "list_aws_service_access_for_organization", "EnabledServicePrincipals")
        ]
        management_id = organization["MasterAccountId"]
        return {
            "id": organization["Id"],
            "arn": organization["Arn"],
            "featureSet": organization["FeatureSet"],
            "masterAccountId": management_id,
            "masterAccountArn": organization.get("MasterAccountArn", ""),
            "masterAccountEmail": organization.get("MasterAccountEmail", ""),
            "accounts": accounts,
            "nonMasterAccounts": [account for account in accounts if account["id"] != management_id],
            "roots": [{"id": root["Id"], "arn": root["Arn"], "name": root["Name"], "policyTypes": root_types}],
            "enabledPolicyTypes": [item["type"] for item in root_types if item["status"] == "ENABLED"],
            "awsServiceAccessPrincipals": principals,
        }

    def _read_policies_for_target(self, arguments: dict[str, Any]) -> dict[str, Any]:
        target_id = arguments["targetId"]
        policy_filter = arguments.get("filter", SCP_TYPE)
        policies = _paginate(
            self.client, "list_policies_for_target", "Policies", TargetId=target_id, Filter=policy_filter
        )
        return {
            "id": target_id,
            "targetId": target_id,
            "filter": policy_filter,
            "ids": [policy["Id"] for policy in policies],
        }

    def _read_policy(self, policy_id: str) -> dict[str, Any]:
        policy = self.client.describe_policy(PolicyId=policy_id)["Policy"]
        summary = policy["PolicySummary"]
        return {
            "id": policy_id,
            "policyId": policy_id,
            "arn": summary["Arn"],
            "name": summary["Name"],
            "description": summary.get("Description", ""),
            "type": summary["Type"],
            "awsManaged": summary.get("AwsManaged", False),
            "content": policy["Content"],
        }

    # --- writes (resources) ---------------------------------------------------------

    def _lookups(self) -> _Index:
        if self._index is not None:
            return self._index
        index = _Index()
        for account in _paginate(self.client, "list_accounts", "Accounts"):
            index.accounts_by_email[account["Email"].lower()] = account["Id"]
        for policy in _paginate(self.client, "list_policies", "Policies", Filter=SCP_TYPE):
            index.policies_by_name[policy["Name"]] = policy["Id"]
        pending = [self._root()["Id"]]
        while pending:
            parent_id = pending.pop()
            for ou in _paginate(
                self.client, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent_id
            ):
                index.ous_by_parent_and_name[(parent_id, ou["Name"])] = ou["Id"]
                pending.append(ou["Id"])
        self._index = index
        return index

    def _apply_organization(self, args, operations: list[Operation]) -> tuple[str, dict[str, Any]]:
        organization = self.client.describe_organization()["Organization"]
        if args.resource_id and args.resource_id != organization["Id"]:
            raise EmulatedAWSError(
                "AWSOrganizationsNotInUseException",
                f"import id {args.resource_id} is not the emulated organization {organization['Id']}",
            )
        operations.append(Operation("Read", organization["Id"]))
        root = self._root()
        enabled = {item["Type"] for item in root.get("PolicyTypes", []) if item["Status"] == "ENABLED"}
        for policy_type in args.inputs.get("enabledPolicyTypes", []):
            if policy_type not in enabled:
                self.client.enable_policy_type(RootId=root["Id"], PolicyType=policy_type)
                operations.append(Operation("EnablePolicyType", f"{policy_type} on {root['Id']}"))
        current = {
            item["ServicePrincipal"]
            for item in _paginate(self.client, "list_aws_service_access_for_organization", "EnabledServicePrincipals")
        }
        for principal in args.inputs.get("awsServiceAccessPrincipals", []):
            if principal not in current:
                self.client.enable_aws_service_access(ServicePrincipal=principal)
                operations.append(Operation("EnableAWSServiceAccess", principal))
        outputs = self._read_organization()
        return organization["Id"], {**args.inputs, **outputs}

    def _apply_organizational_unit(self, args, operations: list[Operation]) -> tuple[str, dict[str, Any]]:
        name = args.inputs["name"]
        parent_id = args.inputs["parentId"]
        index = self._lookups()
        if args.resource_id:
            ou = self.client.describe_organizational_unit(OrganizationalUnitId=args.resource_id)
            ou_id = ou["OrganizationalUnit"]["Id"]
            operations.append(Operation("Read", ou_id))
        elif (parent_id, name) in index.ous_by_parent_and_name:
            ou_id = index.ous_by_parent_and_name[(parent_id, name)]
        else:
            ou = self.client.create_organizational_unit(
                ParentId=parent_id, Name=name, Tags=_tag_list(args.inputs.get("tags") or {})
            )
            ou_id = ou["OrganizationalUnit"]["Id"]
            index.ous_by_parent_and_name[(parent_id, name)] = ou_id
            operations.append(Operation("CreateOrganizationalUnit", f"{name} under {parent_id}"))
        self._set_tags(ou_id, args.inputs.get("tags") or {}, operations)
        described = self.client.describe_organizational_unit(OrganizationalUnitId=ou_id)["OrganizationalUnit"]
        return ou_id, {**args.inputs, "arn": described["Arn"], "accounts": []}

    def _apply_policy(self, args, operations: list[Operation]) -> tuple[str, dict[str, Any]]:
        inputs = args.inputs
        name = inputs["name"]
        index = self._lookups()
        policy_id = args.resource_id or index.policies_by_name.get(name)
        if policy_id is None:
            created = self.client.create_policy(
                Name=name,
                Description=inputs.get("description", ""),
                Content=inputs["content"],
                Type=inputs.get("type", SCP_TYPE),
                Tags=_tag_list(inputs.get("tags") or {}),
            )
            policy_id = created["Policy"]["PolicySummary"]["Id"]
            index.policies_by_name[name] = policy_id
            operations.append(Operation("CreatePolicy", name))
        else:
            current = self.client.describe_policy(PolicyId=policy_id)["Policy"]
            changed = current["Content"] != inputs["content"] or current["PolicySummary"].get(
                "Description", ""
            ) != inputs.get("description", "")
            if changed:
                self.client.update_policy(
                    PolicyId=policy_id, Content=inputs["content"], Description=inputs.get("description", "")
                )
                operations.append(Operation("UpdatePolicy", name))
        self._set_tags(policy_id, inputs.get("tags") or {}, operations)
        arn = self.client.describe_policy(PolicyId=policy_id)["Policy"]["PolicySummary"]["Arn"]
        return policy_id, {**inputs, "arn": arn, "awsManaged": False}

    def _apply_policy_attachment(self, args, operations: list[Operation]) -> tuple[str, dict[str, Any]]:
        policy_id = args.inputs["policyId"]
        target_id = args.inputs["targetId"]
        policy = self.client.describe_policy(PolicyId=policy_id)["Policy"]["PolicySummary"]
        policy_type = policy["Type"]
        root = self._root()
        enabled = {item["Type"] for item in root.get("PolicyTypes", []) if item["Status"] == "ENABLED"}
        if policy_type not in enabled:
            # moto attaches anyway, but AWS rejects the call, so the emulator does too.
            raise EmulatedAWSError(
                "PolicyTypeNotEnabledException",
                f"cannot attach {policy['Name']} ({policy_id}) to {target_id}: the {policy_type} policy type "
                f"is not enabled on root {root['Id']}",
            )
        attached = _paginate(
            self.client, "list_policies_for_target", "Policies", TargetId=target_id, Filter=policy_type
        )
        if all(item["Id"] != policy_id for item in attached):
            self.client.attach_policy(PolicyId=policy_id, TargetId=target_id)
            operations.append(Operation("AttachPolicy", f"{policy['Name']} to {target_id}"))
        # The provider's id for an attachment is "<target id>:<policy id>".
        return f"{target_id}:{policy_id}", dict(args.inputs)

    def _apply_account(self, args, operations: list[Operation]) -> tuple[str, dict[str, Any]]:
        inputs = args.inputs
        index = self._lookups()
        email = inputs["email"]
        if args.resource_id:
            account_id = self.client.describe_account(AccountId=args.resource_id)["Account"]["Id"]
            operations.append(Operation("Read", account_id))
        elif email.lower() in index.accounts_by_email:
            account_id = index.accounts_by_email[email.lower()]
        else:
            request = {
                "Email": email,
                "AccountName": inputs["name"],
                "Tags": _tag_list(inputs.get("tags") or {}),
            }
            if inputs.get("roleName"):
                request["RoleName"] = inputs["roleName"]
            if inputs.get("iamUserAccessToBilling"):
                request["IamUserAccessToBilling"] = inputs["iamUserAccessToBilling"]
            status = self.client.create_account(**request)["CreateAccountStatus"]
            # NOTE: moto 5.2 finishes CreateAccount at once. AWS returns IN_PROGRESS, and the
            # provider polls DescribeCreateAccountStatus until SUCCEEDED or FAILED.
            if status.get("State") == "FAILED":
                raise EmulatedAWSError("CreateAccountFailed", f"{email}: {status.get('FailureReason', '')}")
            account_id = status["AccountId"]
            index.accounts_by_email[email.lower()] = account_id
            operations.append(Operation("CreateAccount", email))

        parent_id = inputs.get("parentId")
        if parent_id:
            current_parent = self.client.list_parents(ChildId=account_id)["Parents"][0]["Id"]
            if current_parent != parent_id:
                self.client.move_account(
                    AccountId=account_id, SourceParentId=current_parent, DestinationParentId=parent_id
                )
                operations.append(Operation("MoveAccount", f"{account_id} from {current_parent} to {parent_id}"))
        self._set_tags(account_id, inputs.get("tags") or {}, operations)
        account = self.client.describe_account(AccountId=account_id)["Account"]
        outputs = {
            **inputs,
            "arn": account["Arn"],
            "status": account.get("Status", account.get("State", "")),
            "state": account.get("State", account.get("Status", "")),
            "joinedMethod": account.get("JoinedMethod", ""),
            "tagsAll": dict(inputs.get("tags") or {}),
        }
        return account_id, outputs

    def _set_tags(self, resource_id: str, wanted: dict[str, str], operations: list[Operation]) -> None:
        """Make the resource's tags equal `wanted`, as the provider does, keeping keys that start with aws:."""
        current = {
            tag["Key"]: tag["Value"]
            for tag in _paginate(self.client, "list_tags_for_resource", "Tags", ResourceId=resource_id)
        }
        extra = sorted(key for key in current if key not in wanted and not key.startswith("aws:"))
        changed = {key: value for key, value in wanted.items() if current.get(key) != value}
        if extra:
            self.client.untag_resource(ResourceId=resource_id, TagKeys=extra)
            operations.append(Operation("UntagResource", f"{resource_id}: {', '.join(extra)}"))
        if changed:
            self.client.tag_resource(ResourceId=resource_id, Tags=_tag_list(changed))
            operations.append(Operation("TagResource", f"{resource_id}: {', '.join(sorted(changed))}"))


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]
