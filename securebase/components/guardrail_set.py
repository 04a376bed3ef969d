"""GuardrailSet: one guardrail set's SCPs, created and attached to one target."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from securebase.components import TYPE_PREFIX
from securebase.guardrails import GuardrailDocument


@dataclass(frozen=True)
class GuardrailSetArgs:
    """Inputs of GuardrailSet."""

    set_name: str
    documents: Sequence[GuardrailDocument]
    target_id: pulumi.Input[str]
    scp_enabled_by: pulumi.Resource
    tags: dict[str, str]


class GuardrailSet(pulumi.ComponentResource):
    """SCPs of one guardrail set, each attached to the target after it exists.

    Each attachment takes the policy id and the target id as inputs, so the engine
    orders every policy and target before its attachment, and `scp_enabled_by`
    (the adopted organization) orders the SCP policy type before all of them.
    """

    policies: dict[str, aws.organizations.Policy]
    attachments: dict[str, aws.organizations.PolicyAttachment]
    policy_names: list[str]

    def __init__(self, name: str, args: GuardrailSetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{TYPE_PREFIX}:GuardrailSet", name, None, opts)
        self.policies = {}
        self.attachments = {}
        self.policy_names = []
        for document in args.documents:
            requirements = "; ".join(
                f"{framework} {', '.join(ids)}" for framework, ids in sorted(document.requirements.items())
            )
            policy = aws.organizations.Policy(
                f"{name}-{document.name}",
                name=document.policy_name,
                type="SERVICE_CONTROL_POLICY",
                description=_description(document.description, requirements),
                content=document.content,
                tags={**args.tags, "securebase:guardrail-set": args.set_name},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[args.scp_enabled_by]),
            )
            attachment = aws.organizations.PolicyAttachment(
                f"{name}-{document.name}-attachment",
                policy_id=policy.id,
                target_id=args.target_id,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[args.scp_enabled_by]),
            )
            self.policies[document.name] = policy
            self.attachments[document.name] = attachment
            self.policy_names.append(document.policy_name)
        self.register_outputs({"policyNames": self.policy_names})


def _description(text: str, requirements: str) -> str:
    # Organizations limits a policy description to 512 characters.
    full = f"{text} Serves: {requirements}." if requirements else text
    return full if len(full) <= 512 else full[:509] + "..."
