"""Run the Pulumi program in-process through the SDK's mock runtime and record every resource.

The recording keeps what the engine would use to plan: each resource's type, name,
parent, dependencies, inputs and options. Tests assert on it, and `securebase
simulate` turns it into waves and a timeline.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await


@dataclass(frozen=True)
class RecordedResource:
    """One resource registration as the engine receives it."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]
    inputs: dict[str, Any]
    import_id: str
    protect: bool
    retain_on_delete: bool
    ignore_changes: tuple[str, ...]
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    # URN of the explicit provider resource, or "" for the engine's default provider.
    provider: str = ""

    @property
    def all_dependencies(self) -> set[str]:
        """Return every URN this resource waits for, through inputs or depends_on."""
        found = set(self.dependencies)
        for urns in self.property_dependencies.values():
            found.update(urns)
        return found


@dataclass
class RecordedRun:
    """Every resource a program registered, in registration order, and its stack outputs."""

    resources: list[RecordedResource]
    outputs: dict[str, Any]
    logs: list[tuple[str, str]]

    def by_urn(self) -> dict[str, RecordedResource]:
        """Return the resources keyed by URN."""
        return {resource.urn: resource for resource in self.resources}

    def of_type(self, type_token: str) -> list[RecordedResource]:
        """Return the resources of one type token, e.g. aws:organizations/account:Account."""
        return [resource for resource in self.resources if resource.type == type_token]

    def named(self, name: str) -> RecordedResource:
        """Return the one resource with this logical name."""
        matches = [resource for resource in self.resources if resource.name == name]
        if len(matches) != 1:
            raise KeyError(f"expected one resource named {name!r}, found {len(matches)}")
        return matches[0]


class ProgramError(Exception):
    """The program ended with a RunError; `run` contains what it registered before that."""

    def __init__(self, message: str, run: RecordedRun):
        super().__init__(message)
        self.run = run


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Mock monitor that keeps the parent, dependencies and options of each registration.

    The SDK calls it from several threads, so the records sit behind a lock.
    """

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self._lock = threading.Lock()
        self.records: list[RecordedResource] = []

    def RegisterResource(self, request):  # noqa: N802 - name fixed by the gRPC interface
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs = rpc.deserialize_properties(request.object)
        outputs = rpc.deserialize_properties(response.object) if response.object else {}
        record = RecordedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=request.custom,
            dependencies=tuple(request.dependencies),
            property_dependencies={key: tuple(value.urns) for key, value in request.propertyDependencies.items()},
            inputs=_plain(inputs),
            import_id=request.importId,
            protect=request.protect,
            retain_on_delete=request.retainOnDelete,
            ignore_changes=tuple(request.ignoreChanges),
            id=response.id,
            outputs=_plain(outputs),
            provider=request.provider.rsplit("::", 1)[0] if request.provider else "",
        )
        with self._lock:
            self.records.append(record)
        return response


class _LogCollector:
    """Engine stand-in that keeps pulumi.log messages instead of printing them."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def Log(self, request):  # noqa: N802 - name fixed by the gRPC interface
        from pulumi.runtime.proto import engine_pb2

        severity = engine_pb2.LogSeverity.Name(request.severity).lower()
        if severity != "debug":
            self.messages.append((severity, request.message))

    def GetRootResource(self, request):  # noqa: N802
        raise NotImplementedError

    def SetRootResource(self, request):  # noqa: N802
        raise NotImplementedError


def run_program(
    program: Callable[[], None],
    *,
    mocks: pulumi.runtime.Mocks,
    config: dict[str, Any],
    project: str = "securebase",
    stack: str = "dev",
    preview: bool = False,
) -> RecordedRun:
    """Run `program` under the mock runtime with `config` as the stack config.

    `config` maps full keys (`securebase:customersDir`) to values; structured values
    are passed as JSON text, as the Pulumi CLI passes them.
    """
    text_config = {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
    pulumi.runtime.set_all_config(text_config)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
    collector = _LogCollector()
    settings = pulumi.runtime.settings.SETTINGS
    settings.engine = collector
    settings.rpc_manager.clear()
    settings.outputs.clear()

    exported: dict[str, Any] = {}

    async def body() -> None:
        program()
        # The mock runtime registers the stack's outputs before the program runs, so
        # the exports are read from the root stack resource and resolved here.
        root = pulumi.runtime.settings.get_root_resource()
        if root is not None:
            exported.update(await pulumi.Output.from_input(getattr(root, "outputs", {})).future() or {})

    try:
        _sync_await(run_pulumi_func(body))
    except pulumi.RunError as error:
        partial = RecordedRun(resources=list(monitor.records), outputs={}, logs=collector.messages)
        raise ProgramError(str(error), partial) from None
    return RecordedRun(resources=list(monitor.records), outputs=_plain(exported), logs=collector.messages)


def _plain(value: Any) -> Any:
    """Turn deserialized properties into plain JSON-like data."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items() if not key.startswith("__")}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
