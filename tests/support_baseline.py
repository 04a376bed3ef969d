"""Test support for the security baseline: a fake organization that also serves Identity Center reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from securebase.offline import runtime
from securebase.offline.runtime import RecordedResource, RecordedRun
from securebase.program import run
from tests.support import (  # noqa: F401 - constants shared with the baseline tests
    ASSIGNMENT,
    BUCKET_POLICY,
    GROUP,
    IDENTITY_STORE_ID,
    INSTANCE_ARN,
    KMS_KEY,
    MEMBERSHIP,
    PERMISSION_SET,
    PROVIDER,
    TRAIL,
    USER,
    FakeOrganization,
    bundled_accounts,
    stack_config,
)

FakeIdentityOrganization = FakeOrganization


def baseline_program(project: Path) -> None:
    """Run the real program, which builds the landing zone and then the security baseline."""
    run(project)


class ProviderRecordingMonitor(runtime.RecordingMonitor):
    """RecordingMonitor that also keeps the provider reference (`urn::id`) of each registration."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.providers: dict[str, str] = {}

    def RegisterResource(self, request):  # noqa: N802 - name fixed by the gRPC interface
        response = super().RegisterResource(request)
        with self._lock:
            self.providers[response.urn] = request.provider
        return response


@dataclass
class BaselineRun:
    """A recorded run and the provider reference of each resource, by URN."""

    run: RecordedRun
    providers: dict[str, str]

    def provider_of(self, resource: RecordedResource) -> RecordedResource | None:
        """Return the explicit provider resource of `resource`, or None for the default provider."""
        reference = self.providers.get(resource.urn, "")
        if not reference or "::" not in reference:
            return None
        urn = reference.rsplit("::", 1)[0]
        provider = self.run.by_urn().get(urn)
        if provider is None or provider.name.startswith("default"):
            return None
        return provider

    def assumed_role_arn(self, resource: RecordedResource) -> str | None:
        """Return the role ARN that the provider of `resource` assumes, or None for the default provider."""
        provider = self.provider_of(resource)
        if provider is None:
            return None
        roles = provider.inputs.get("assumeRoles")
        if isinstance(roles, str):
            roles = json.loads(roles)
        return roles[0]["roleArn"] if roles else None


def run_baseline(project: Path, org: FakeIdentityOrganization | None = None, **settings: Any) -> BaselineRun:
    """Run the landing zone and its security baseline on `project` against a fake organization.

    This repeats `runtime.run_program` with a monitor that also records providers.
    """
    org = org or FakeIdentityOrganization(accounts=bundled_accounts())
    config = stack_config(**settings)
    text_config = {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
    pulumi.runtime.set_all_config(text_config)
    monitor = ProviderRecordingMonitor(org)
    pulumi.runtime.set_mocks(org, project="securebase", stack="dev", preview=False, monitor=monitor)
    collector = runtime._LogCollector()
    pulumi_settings = pulumi.runtime.settings.SETTINGS
    pulumi_settings.engine = collector
    pulumi_settings.rpc_manager.clear()
    pulumi_settings.outputs.clear()
    exported: dict[str, Any] = {}

    async def body() -> None:
        baseline_program(project)
        root = pulumi.runtime.settings.get_root_resource()
        if root is not None:
            # get_root_resource is typed as Resource, but the root is the Stack, which has outputs.
            exported.update(await pulumi.Output.from_input(root.outputs).future() or {})  # type: ignore[attr-defined]

    runtime._sync_await(runtime.run_pulumi_func(body))
    run = RecordedRun(resources=list(monitor.records), outputs=runtime._plain(exported), logs=collector.messages)
    return BaselineRun(run=run, providers=dict(monitor.providers))


def policy_of(resource: RecordedResource) -> dict[str, Any]:
    """Return the parsed `policy` input of a bucket policy or key."""
    return json.loads(resource.inputs["policy"])
