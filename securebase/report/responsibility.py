"""Shared-responsibility statement: what the platform operates and what stays with the customer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Responsibility:
    """The split of duties printed in every report, with lines specific to the framework."""

    platform: tuple[str, ...]
    customer: tuple[str, ...]
    aws: str
    scope: str


PLATFORM = (
    "Provides a dedicated AWS account for the customer in an organizational unit (OU) for the customer's tier.",
    "Attaches and maintains the service control policies (guardrails) for the framework and the baseline, "
    "and keeps the platform role that manages them out of the customer's reach.",
    "Runs the organization CloudTrail trail and AWS Config recording in the account, and protects them from "
    "being stopped or changed.",
    "Applies the account baseline settings named in this report, such as EBS encryption by default.",
    "Scans the account when a scan is requested and produces this report from the results.",
)
CUSTOMER = (
    "Designs, builds and secures the workloads and data it runs in the account, within the guardrails.",
    "Manages the people and roles it grants access to, their permissions and their sign-in methods.",
    "Configures the AWS services it uses (encryption keys, network exposure, backups, logging of its own "
    "applications) and fixes the findings this report lists for its resources.",
    "Keeps the policies, procedures, training and records the framework requires outside the cloud platform.",
    "Responds to security incidents in its workloads and tells the platform team of any that affect the account.",
)
FRAMEWORK_LINES = {
    "hipaa": (
        "Signs the business associate agreements HIPAA requires and keeps electronic protected health "
        "information only in HIPAA-eligible AWS services.",
        "Carries out the administrative and physical safeguards, such as risk analysis, workforce training "
        "and contingency planning.",
    ),
    "soc2": (
        "Maintains its system description and the control environment, risk assessment and monitoring "
        "activities that an auditor tests outside the cloud platform.",
    ),
    "fedramp-moderate": (
        "Maintains the System Security Plan and the authorization package, and the agency-defined parameters "
        "of each control.",
    ),
}
AWS = (
    "AWS is responsible for the security of the cloud itself: the facilities, hardware, network and the software "
    "that runs AWS services."
)
SCOPE = (
    "A rating in this report covers only what automated checks can see in the customer's AWS account. "
    "A requirement rated MET is evidenced for the cloud platform part of its scope, not for the customer's "
    "procedures, which an auditor assesses separately."
)


def shared_responsibility(framework: str) -> Responsibility:
    """Return the statement for one framework. Unknown frameworks get the general lines only."""
    return Responsibility(
        platform=PLATFORM,
        customer=CUSTOMER + FRAMEWORK_LINES.get(framework, ()),
        aws=AWS,
        scope=SCOPE,
    )
