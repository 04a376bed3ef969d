"""IdentityCenterAccess: each customer contact's sign-in, group and read-only access to their own account.

Contacts are IAM Identity Center users whose user name is the contact email in
lowercase. A contact who already has a user (created by hand, by an earlier run or
by another tool) keeps it: the program reads existing users before it registers any
and adopts them instead of creating a second one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from securebase.components import TYPE_PREFIX

VIEW_ONLY_POLICY_ARN = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
SECURITY_AUDIT_POLICY_ARN = "arn:aws:iam::aws:policy/SecurityAudit"
# ViewOnlyAccess lists resources and reads their configuration but not their data,
# such as S3 objects or DynamoDB items, which may hold PHI or CUI. SecurityAudit adds
# the configuration reads that compliance reports need.
READ_ONLY_POLICY_ARNS = (VIEW_ONLY_POLICY_ARN, SECURITY_AUDIT_POLICY_ARN)
# User type that marks the users SecureBase created, so a later run distinguishes them
# from users it adopted and must never delete.
MANAGED_USER_TYPE = "SecureBase customer contact"
# IAM Identity Center limits a permission set name to 32 characters.
MAX_PERMISSION_SET_NAME = 32
# Failure text of a user read that found no user. pulumi-aws 7.51 (the Terraform
# provider's data source) passes on GetUserId's ResourceNotFoundException. Any other
# failure, such as AccessDeniedException, is raised.
_NOT_FOUND = re.compile(r"ResourceNotFoundException|couldn't find resource|no Identity Store User found")


class IdentityCenterError(Exception):
    """Identity Center cannot be read, or is not set up as the landing zone needs."""


@dataclass(frozen=True)
class IdentityCenterInstance:
    """The IAM Identity Center instance and its identity store."""

    instance_arn: str
    identity_store_id: str


@dataclass(frozen=True)
class ExistingUser:
    """An Identity Center user as the identity store returns it."""

    user_id: str
    user_name: str
    display_name: str
    given_name: str | None = None
    family_name: str | None = None
    emails: tuple[tuple[str, str, bool], ...] = ()  # (value, type, primary)
    user_type: str | None = None


def user_name_for(email: str) -> str:
    """Return the Identity Center user name of a contact: the email in lowercase."""
    return email.strip().lower()


def permission_set_name(tier: str) -> str:
    """Return the name of a tier's permission set, cut to the Identity Center limit."""
    return f"SecureBase-{tier}"[:MAX_PERMISSION_SET_NAME]


def read_instance(instance_arn: str | None, identity_store_id: str | None) -> IdentityCenterInstance:
    """Return the configured instance, or the organization's one instance read through ListInstances."""
    if instance_arn and identity_store_id:
        return IdentityCenterInstance(instance_arn, identity_store_id)
    if instance_arn or identity_store_id:
        raise IdentityCenterError(
            "securebase:identityCenterInstanceArn and securebase:identityStoreId must be set together; "
            "set both, or neither to read them from IAM Identity Center"
        )
    instances = aws.ssoadmin.get_instances()
    arns = list(instances.arns or [])
    stores = list(instances.identity_store_ids or [])
    if not arns or not stores:
        raise IdentityCenterError(
            "IAM Identity Center has no instance in this account and region; enable IAM Identity Center "
            "for the organization, or set securebase:identityCenterInstanceArn and securebase:identityStoreId"
        )
    if len(arns) > 1:
        raise IdentityCenterError(
            f"IAM Identity Center returned {len(arns)} instances ({', '.join(arns)}); "
            "set securebase:identityCenterInstanceArn and securebase:identityStoreId to the organization's instance"
        )
    return IdentityCenterInstance(arns[0], stores[0])


def find_existing_users(identity_store_id: str, emails: Sequence[str]) -> dict[str, ExistingUser]:
    """Find the existing user of each contact email, keyed by the email in lowercase.

    Each email is looked up by unique user name, first in lowercase and then as
    written. Emails still missing are matched, ignoring letter case, against one
    full listing of the identity store, because an exact lookup misses a user
    whose name has a third spelling (`Dana.Smith@...` for `dana.smith@...`).
    """
    found: dict[str, ExistingUser] = {}
    for email in emails:
        key = user_name_for(email)
        if key in found:
            continue
        for spelling in dict.fromkeys([key, email.strip()]):
            user = _get_user_by_name(identity_store_id, spelling)
            if user is not None:
                found[key] = user
                break

    missing = [email for email in emails if user_name_for(email) not in found]
    if not missing:
        return found
    by_folded_name: dict[str, list[ExistingUser]] = defaultdict(list)
    for user in _list_users(identity_store_id):
        by_folded_name[user.user_name.lower()].append(user)
    for email in missing:
        matches = by_folded_name.get(user_name_for(email), [])
        if matches:
            found[user_name_for(email)] = _pick_user(email, matches)
    return found


def _pick_user(email: str, matches: list[ExistingUser]) -> ExistingUser:
    """Choose one of several users whose names differ only in case, the same one on every run."""
    exact = [user for user in matches if user.user_name == email.strip()]
    chosen = exact[0] if exact else sorted(matches, key=lambda user: (user.user_name, user.user_id))[0]
    if len(matches) > 1:
        others = ", ".join(f"{user.user_name} ({user.user_id})" for user in matches if user is not chosen)
        pulumi.log.warn(
            f"Identity Center has {len(matches)} users named {email} ignoring case; SecureBase uses "
            f"{chosen.user_name} ({chosen.user_id}) and leaves {others} alone. Remove the duplicates "
            "in IAM Identity Center so each contact has one sign-in."
        )
    return chosen


def _get_user_by_name(identity_store_id: str, user_name: str) -> ExistingUser | None:
    try:
        result = aws.identitystore.get_user(
            identity_store_id=identity_store_id,
            alternate_identifier=aws.identitystore.GetUserAlternateIdentifierArgs(
                unique_attribute=aws.identitystore.GetUserAlternateIdentifierUniqueAttributeArgs(
                    attribute_path="UserName", attribute_value=user_name
                )
            ),
        )
    except Exception as error:  # noqa: BLE001 - the SDK raises a bare Exception for a failed invoke
        if _NOT_FOUND.search(str(error)):
            return None
        raise IdentityCenterError(f"failed to look up Identity Center user {user_name}: {error}") from error
    return _existing_user(result)


def _list_users(identity_store_id: str) -> list[ExistingUser]:
    try:
        result = aws.identitystore.get_users(identity_store_id=identity_store_id)
    except Exception as error:  # noqa: BLE001 - the SDK raises a bare Exception for a failed invoke
        raise IdentityCenterError(f"failed to list the users of identity store {identity_store_id}: {error}") from error
    return [_existing_user(user) for user in result.users or []]


def _existing_user(result: Any) -> ExistingUser:
    names = list(getattr(result, "names", None) or [])
    emails = tuple(
        (email.value, email.type or "work", bool(email.primary))
        for email in getattr(result, "emails", None) or []
        if email.value
    )
    return ExistingUser(
        user_id=result.user_id,
        user_name=result.user_name,
        display_name=result.display_name or result.user_name,
        given_name=names[0].given_name if names else None,
        family_name=names[0].family_name if names else None,
        emails=emails,
        user_type=getattr(result, "user_type", None) or None,
    )


@dataclass(frozen=True)
class ContactAccess:
    """One customer's contact and the account they may read."""

    customer_key: str
    customer_name: str
    tier: str
    contact_email: str
    account_id: pulumi.Input[str]
    existing_user: ExistingUser | None = None


@dataclass(frozen=True)
class IdentityCenterAccessArgs:
    """Inputs of IdentityCenterAccess."""

    instance: IdentityCenterInstance
    tiers: Sequence[str]
    contacts: Sequence[ContactAccess]
    session_duration: str
    tags: dict[str, str]
    managed_policy_arns: Sequence[str] = field(default=READ_ONLY_POLICY_ARNS)


class IdentityCenterAccess(pulumi.ComponentResource):
    """A read-only permission set per tier, and per customer a user, a group and one account assignment.

    Each customer's group is assigned to that customer's account only, so a contact
    never reaches another customer's account through SecureBase.
    """

    permission_sets: dict[str, aws.ssoadmin.PermissionSet]
    users: dict[str, aws.identitystore.User]
    groups: dict[str, aws.identitystore.Group]
    assignments: dict[str, aws.ssoadmin.AccountAssignment]
    adopted_users: list[str]
    identity_store_id: str

    def __init__(self, name: str, args: IdentityCenterAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{TYPE_PREFIX}:IdentityCenterAccess", name, None, opts)
        instance = args.instance
        self.identity_store_id = instance.identity_store_id
        self.permission_sets = {}
        self.users = {}
        self.groups = {}
        self.assignments = {}
        self.adopted_users = []

        attachments: dict[str, list[pulumi.Resource]] = {}
        for tier in args.tiers:
            permission_set = aws.ssoadmin.PermissionSet(
                f"{name}-{tier}-permission-set",
                name=permission_set_name(tier),
                description=f"SecureBase read-only access for {tier} customer contacts",
                instance_arn=instance.instance_arn,
                session_duration=args.session_duration,
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            attachments[tier] = [
                aws.ssoadmin.ManagedPolicyAttachment(
                    f"{name}-{tier}-{policy_arn.rsplit('/', 1)[-1]}",
                    instance_arn=instance.instance_arn,
                    permission_set_arn=permission_set.arn,
                    managed_policy_arn=policy_arn,
                    opts=pulumi.ResourceOptions(parent=self),
                )
                for policy_arn in args.managed_policy_arns
            ]
            self.permission_sets[tier] = permission_set

        for contact in args.contacts:
            key = contact.customer_key
            user = self._user(name, contact)
            group = aws.identitystore.Group(
                f"{name}-{key}-group",
                identity_store_id=instance.identity_store_id,
                display_name=f"SecureBase-{key}",
                description=f"Contacts of SecureBase customer {contact.customer_name}"[:1024],
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.identitystore.GroupMembership(
                f"{name}-{key}-membership",
                identity_store_id=instance.identity_store_id,
                group_id=group.group_id,
                member_id=user.user_id,
                opts=pulumi.ResourceOptions(parent=self),
            )
            # Assigning provisions the permission set into the account, so its
            # policies are attached first; attaching later would need a re-provision.
            self.assignments[key] = aws.ssoadmin.AccountAssignment(
                f"{name}-{key}-assignment",
                instance_arn=instance.instance_arn,
                permission_set_arn=self.permission_sets[contact.tier].arn,
                principal_type="GROUP",
                principal_id=group.group_id,
                target_type="AWS_ACCOUNT",
                target_id=contact.account_id,
                opts=pulumi.ResourceOptions(parent=self, depends_on=attachments[contact.tier]),
            )
            self.users[key] = user
            self.groups[key] = group

        self.register_outputs(
            {
                "permissionSets": {tier: ps.arn for tier, ps in self.permission_sets.items()},
                "adoptedUsers": sorted(self.adopted_users),
            }
        )

    def _user(self, name: str, contact: ContactAccess) -> aws.identitystore.User:
        """Register the contact's user: created, kept if SecureBase created it, or adopted with its live values."""
        existing = contact.existing_user
        resource_name = f"{name}-{contact.customer_key}-user"
        identity_store_id = self.identity_store_id

        if existing is None or existing.user_type == MANAGED_USER_TYPE:
            # A user SecureBase created follows the customer file. Its import id only
            # matters if the stack's state was lost: the engine ignores it otherwise.
            user_name = user_name_for(contact.contact_email)
            local_part = user_name.split("@", 1)[0]
            return aws.identitystore.User(
                resource_name,
                identity_store_id=identity_store_id,
                user_name=existing.user_name if existing else user_name,
                display_name=f"{local_part} ({contact.customer_name})"[:1024],
                name=aws.identitystore.UserNameArgs(given_name=local_part, family_name=contact.customer_name[:1024]),
                emails=aws.identitystore.UserEmailsArgs(value=user_name, type="work", primary=True),
                user_type=MANAGED_USER_TYPE,
                opts=pulumi.ResourceOptions(
                    parent=self, import_=f"{identity_store_id}/{existing.user_id}" if existing else None
                ),
            )

        self.adopted_users.append(contact.customer_key)
        # Import needs inputs equal to the live user, or the engine rejects the import,
        # so the adopted user keeps its own name, spelling and email. Retained on delete:
        # SecureBase did not create it, so offboarding removes its access, not the user.
        email = existing.emails[0] if existing.emails else None
        email_args = None
        if email is not None:
            email_args = aws.identitystore.UserEmailsArgs(value=email[0], type=email[1], primary=email[2])
        name_args = None
        if existing.given_name or existing.family_name:
            name_args = aws.identitystore.UserNameArgs(
                given_name=existing.given_name or "", family_name=existing.family_name or ""
            )
        return aws.identitystore.User(
            resource_name,
            identity_store_id=identity_store_id,
            user_name=existing.user_name,
            display_name=existing.display_name,
            name=name_args,
            emails=email_args,
            user_type=existing.user_type,
            opts=pulumi.ResourceOptions(
                parent=self,
                import_=f"{identity_store_id}/{existing.user_id}",
                retain_on_delete=True,
            ),
        )
