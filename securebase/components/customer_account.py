"""CustomerAccount: one customer's AWS account, vended or adopted, in its tier OU."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from securebase.components import TYPE_PREFIX
from securebase.customers import Customer

# DescribeAccount returns neither the access role name nor the billing setting, so
# an adopted account would show a permanent diff on them, and a change to either
# (or to the email) makes the provider replace the account. The root email changes
# only through the root user, so it is ignored too: validation compares it with the
# account lock instead, ignoring letter case.
IGNORED_ACCOUNT_PROPERTIES = ["email", "roleName", "iamUserAccessToBilling"]


@dataclass(frozen=True)
class CustomerAccountArgs:
    """Inputs of CustomerAccount."""

    customer: Customer
    parent_id: pulumi.Input[str]
    ou_name: str
    role_name: str
    billing_access: str
    tags: dict[str, str]
    create_after: Sequence[pulumi.Resource] = field(default=())


class CustomerAccount(pulumi.ComponentResource):
    """The customer's account, protected so no edit or missing file can close, remove or replace it."""

    account: aws.organizations.Account
    account_id: pulumi.Output[str]

    def __init__(self, name: str, args: CustomerAccountArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{TYPE_PREFIX}:CustomerAccount", name, None, opts)
        customer = args.customer
        self.account = aws.organizations.Account(
            f"{name}-account",
            name=customer.account_name,
            email=customer.root_email,
            parent_id=args.parent_id,
            role_name=args.role_name,
            iam_user_access_to_billing=args.billing_access,
            close_on_deletion=False,
            tags=args.tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                import_=customer.account_id,
                protect=True,
                ignore_changes=IGNORED_ACCOUNT_PROPERTIES,
                depends_on=list(args.create_after),
                custom_timeouts=pulumi.CustomTimeouts(create="30m"),
            ),
        )
        self.account_id = self.account.id
        self.register_outputs({"accountId": self.account.id, "ou": args.ou_name})
