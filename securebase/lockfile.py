"""The account lock: the root email (and account id, once known) pinned for each customer.

`add_missing_entries` adds an entry for every customer the lock does not list yet and
never changes an entry that exists, because a pinned root email is what stops an edit
from replacing an account. New entries are appended as text so the file's comments
and the order of existing entries stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from securebase.customers import Customer

LOCK_HEADER = """\
# Root emails pinned for every customer account. AWS changes a root email only
# through the account's root user, so SecureBase rejects any edit that would change
# one. `securebase lock` adds entries for new customers; edit an entry by hand only
# after changing the email in AWS.
"""


class LockFileError(Exception):
    """The lock file cannot be read or extended safely; the message gives the fix."""


@dataclass(frozen=True)
class LockEntry:
    """One customer's pinned values."""

    key: str
    root_email: str
    account_id: str | None = None

    def as_yaml_lines(self, indent: int) -> list[str]:
        """Return the entry as block-style YAML lines at `indent` spaces."""
        pad = " " * indent
        lines = [f"{pad}{self.key}:"]
        if self.account_id:
            lines.append(f"{pad}{pad}account_id: {_quote(self.account_id)}")
        lines.append(f"{pad}{pad}root_email: {_quote(self.root_email)}")
        return lines


def _quote(value: str) -> str:
    # Always double-quoted, so an account id keeps its leading zeros.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_lock(path: Path) -> dict[str, dict[str, Any]]:
    """Return the lock's entries by customer key; a missing file has none."""
    if not path.exists():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise LockFileError(f"{path} is not valid YAML ({error}); correct it before running lock") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not isinstance(raw.get("accounts") or {}, dict):
        raise LockFileError(f"{path} must contain a mapping under accounts:; correct it before running lock")
    return {str(key): value if isinstance(value, dict) else {} for key, value in (raw.get("accounts") or {}).items()}


def unlocked_customers(path: Path, customers: Iterable[Customer]) -> list[str]:
    """Return the keys of customers the lock does not list yet, sorted.

    Raises LockFileError when the lock cannot be read.
    """
    existing = read_lock(path)
    return sorted(customer.key for customer in customers if customer.key not in existing)


# Customers named in the reminder; a first run with thousands of customers names only these.
REMINDER_NAMES_SHOWN = 10


def unlocked_reminder(keys: Iterable[str], lock_name: str) -> str:
    """Return the reminder to lock new customers' root emails, naming the first few."""
    keys = list(keys)
    named = ", ".join(keys[:REMINDER_NAMES_SHOWN])
    if len(keys) > REMINDER_NAMES_SHOWN:
        named += f" and {len(keys) - REMINDER_NAMES_SHOWN} more"
    return (
        f"{lock_name} does not list {named} yet; run `securebase lock` and commit {lock_name}, "
        "so that a later edit cannot change their root emails"
    )


def missing_entries(
    customers: Iterable[Customer], existing: Mapping[str, Any], known_account_ids: Mapping[str, str] | None = None
) -> list[LockEntry]:
    """Return an entry for each customer without one, sorted by key.

    `known_account_ids` gives account ids learned elsewhere (stack outputs) for
    customers whose file has none.
    """
    known = known_account_ids or {}
    entries = []
    for customer in sorted(customers, key=lambda item: item.key):
        if customer.key in existing:
            continue
        entries.append(
            LockEntry(
                key=customer.key,
                root_email=customer.root_email,
                account_id=customer.account_id or known.get(customer.key),
            )
        )
    return entries


def add_missing_entries(
    path: Path, customers: Iterable[Customer], known_account_ids: Mapping[str, str] | None = None
) -> list[LockEntry]:
    """Append an entry for each customer not in the lock at `path`, creating the file if needed.

    Returns the entries added. Raises LockFileError when the file cannot be
    extended without rewriting what it already holds.
    """
    existing = read_lock(path)
    added = missing_entries(customers, existing, known_account_ids)
    if not added:
        return []

    if not path.exists() or not path.read_text(encoding="utf-8").strip():
        text = LOCK_HEADER + "accounts:\n"
        indent = 2
    else:
        text = path.read_text(encoding="utf-8")
        indent = _entry_indent(text, path)
        if not text.endswith("\n"):
            text += "\n"
    for entry in added:
        text += "\n".join(entry.as_yaml_lines(indent)) + "\n"

    # Check the result before writing: every old entry unchanged, every new one present.
    result = yaml.safe_load(text)
    accounts = result.get("accounts") if isinstance(result, dict) else None
    if not isinstance(accounts, dict) or any(accounts.get(key) != value for key, value in existing.items()):
        raise LockFileError(
            f"cannot append to {path} without changing it; keep accounts: as the last key, in block style"
        )
    path.write_text(text, encoding="utf-8")
    return added


def _entry_indent(text: str, path: Path) -> int:
    """Return the indent of the entries under accounts:, when appending to the file's end keeps them inside it."""
    node = yaml.compose(text)
    if not isinstance(node, yaml.MappingNode) or not node.value:
        raise LockFileError(f"{path} must contain a mapping under accounts:; correct it before running lock")
    last_key, last_value = node.value[-1]
    if last_key.value != "accounts":
        raise LockFileError(f"cannot append to {path}: accounts: must be the last key in the file; move it there")
    if isinstance(last_value, yaml.MappingNode) and last_value.value:
        if last_value.flow_style:
            raise LockFileError(f"cannot append to {path}: write accounts: in block style, one entry per line")
        return last_value.value[0][0].start_mark.column
    if isinstance(last_value, yaml.ScalarNode) and last_value.value in ("", "~", "null"):
        if last_value.value:
            raise LockFileError(f"cannot append to {path}: replace accounts: {last_value.value} with accounts:")
        return 2
    raise LockFileError(f"cannot append to {path}: write accounts: in block style, one entry per line")
