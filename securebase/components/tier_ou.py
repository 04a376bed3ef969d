"""TierOU: the OU that contains every customer account of one tier."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from securebase.components import TYPE_PREFIX


@dataclass(frozen=True)
class TierOUArgs:
    """Inputs of TierOU."""

    tier: str
    ou_name: str
    parent_id: pulumi.Input[str]
    tags: dict[str, str]
    adopt_id: str | None = None


class TierOU(pulumi.ComponentResource):
    """One OU per tier in use, created under the customers OU or adopted by id."""

    ou: aws.organizations.OrganizationalUnit
    ou_id: pulumi.Output[str]

    def __init__(self, name: str, args: TierOUArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{TYPE_PREFIX}:TierOU", name, None, opts)
        # Not protected: when a tier's last customer moves to another tier, its OU is
        # deleted after the move, and AWS rejects deleting an OU that still contains
        # accounts. An adopted OU existed before SecureBase, so it is only forgotten.
        self.ou = aws.organizations.OrganizationalUnit(
            f"{name}-ou",
            name=args.ou_name,
            parent_id=args.parent_id,
            tags={**args.tags, "securebase:tier": args.tier},
            opts=pulumi.ResourceOptions(parent=self, import_=args.adopt_id, retain_on_delete=args.adopt_id is not None),
        )
        self.ou_id = self.ou.id
        self.register_outputs({"ouId": self.ou.id, "ouName": args.ou_name})
