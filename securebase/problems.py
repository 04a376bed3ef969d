"""Problems found in configuration, reported all at once with the fix for each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

_UNSET = object()


@dataclass(frozen=True)
class Problem:
    """One invalid value: where it is, which rule it breaks and how to fix it."""

    source: str
    field: str
    rule: str
    fix: str
    value: Any = _UNSET
    line: int | None = None

    def __str__(self) -> str:
        location = self.source if self.line is None else f"{self.source}:{self.line}"
        got = "" if self.value is _UNSET else f" (got {self.value!r})"
        field = f" {self.field}:" if self.field else ""
        return f"{location}:{field} {self.rule}{got}. Fix: {self.fix}"

    def as_dict(self) -> dict[str, Any]:
        """Return the problem as plain data for JSON output."""
        return {
            "source": self.source,
            "line": self.line,
            "field": self.field,
            "value": None if self.value is _UNSET else self.value,
            "rule": self.rule,
            "fix": self.fix,
        }


class ConfigurationError(Exception):
    """Invalid customer files or settings, carrying every problem found in one pass."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems)
        self.problems = sorted(problems, key=lambda p: (p.source, p.line or 0, p.field, p.rule))

    def __str__(self) -> str:
        count = len(self.problems)
        lines = [f"{count} configuration problem{'s' if count != 1 else ''} found; nothing was changed:"]
        lines += [f"  {number}. {problem}" for number, problem in enumerate(self.problems, 1)]
        return "\n".join(lines)


_PYDANTIC_FIXES = {
    "missing": "add the field",
    "extra_forbidden": "remove the field or correct its spelling",
    "string_type": "write the value as a quoted string",
    "string_pattern_mismatch": "use a value that matches the pattern",
    "literal_error": "use one of the allowed values",
    "int_parsing": "write a whole number",
    "int_type": "write a whole number",
    "decimal_parsing": "write a number",
    "greater_than_equal": "use a larger value",
    "string_too_long": "shorten the value",
    "string_too_short": "write a non-empty value",
    "dict_type": "write a mapping of keys to values",
    "value_error": "correct the value as described",
}


def yaml_error_line(error: Exception, text: str) -> int | None:
    """Return the 1-based line of a YAML error in `text`, or None when PyYAML gives no position.

    At the end of the input PyYAML points one line past the last one, so the line is
    capped at the file's last line.
    """
    mark = getattr(error, "problem_mark", None)
    if mark is None:
        return None
    last_line = max(len(text.splitlines()), 1)
    return min(mark.line + 1, last_line)


def problems_from_pydantic(
    error: ValidationError,
    *,
    source: str,
    field_prefix: str = "",
    lines: dict[str, int] | None = None,
) -> list[Problem]:
    """Convert a pydantic error into problems, one per invalid field.

    `lines` maps a top-level field name to its line in the source file.
    """
    problems = []
    for detail in error.errors(include_url=False):
        path = ".".join(str(part) for part in detail["loc"])
        top = str(detail["loc"][0]) if detail["loc"] else ""
        kind = detail["type"]
        message = detail["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if kind == "missing":
            value: Any = _UNSET
        else:
            value = detail.get("input", _UNSET)
        if kind == "string_pattern_mismatch":
            message = f"does not match the pattern {detail.get('ctx', {}).get('pattern')}"
        problems.append(
            Problem(
                source=source,
                field=f"{field_prefix}{path}",
                rule=message[0].lower() + message[1:] if message else kind,
                fix=_PYDANTIC_FIXES.get(kind, "correct the value"),
                value=value,
                line=(lines or {}).get(top),
            )
        )
    return problems
