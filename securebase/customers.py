"""Customer files: one YAML file per customer, whose file name stem is the customer key."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from securebase.problems import Problem, problems_from_pydantic, yaml_error_line
from securebase.settings import EMAIL_PATTERN

CUSTOMER_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,48}[a-z0-9]$")
CUSTOMER_FILE_SUFFIXES = (".yaml", ".yml")


class CustomerFile(BaseModel):
    """The fields an operator writes in a customer file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200, description="Customer's legal or display name.")
    tier: str = Field(description="Service tier; decides the OU and the framework.")
    framework: str = Field(description="Compliance framework; must be the one the tier runs under.")
    account_id: str | None = Field(
        None, pattern=r"^\d{12}$", description="Existing 12-digit account to adopt; omit to vend a new one."
    )
    prefix: str = Field(
        pattern=r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$",
        description="Short name used in resource names inside the customer's account.",
    )
    contact_email: str = Field(description="Customer contact who gets access and reports.")
    root_email: str | None = Field(
        None, description="Account root email; by default a plus-address of the provider mailbox."
    )
    account_name: str | None = Field(
        None, min_length=1, max_length=50, pattern=r"^[\x20-\x7e]+$", description="AWS account name; default: name."
    )
    monthly_base_price_usd: Decimal | None = Field(None, ge=0, description="Monthly base price; default from the tier.")
    tags: dict[str, str] = Field(default_factory=dict, description="Extra tags on the customer's account.")

    @field_validator("account_id", mode="before")
    @classmethod
    def _account_id_must_be_quoted(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError('write the account id as a quoted string, e.g. "012345678901", so leading zeros survive')
        return value

    @field_validator("contact_email", "root_email")
    @classmethod
    def _check_email(cls, value: str | None) -> str | None:
        if value is not None and (not EMAIL_PATTERN.match(value) or not 6 <= len(value) <= 64):
            raise ValueError("must be an email address of 6 to 64 characters, e.g. name@example.com")
        return value


@dataclass(frozen=True)
class Customer:
    """A validated customer with every default resolved."""

    key: str
    source: str
    name: str
    tier: str
    framework: str
    prefix: str
    contact_email: str
    root_email: str
    root_email_field: str
    account_name: str
    monthly_base_price_usd: Decimal
    account_id: str | None = None
    extra_tags: tuple[tuple[str, str], ...] = ()
    lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)

    @property
    def adopted(self) -> bool:
        """Whether the account already exists and is adopted rather than vended."""
        return self.account_id is not None


@dataclass(frozen=True)
class LoadedFile:
    """A customer file that parsed, with the line of each top-level field."""

    key: str
    path: Path
    model: CustomerFile
    lines: dict[str, int]


def customer_files(folder: Path) -> list[Path]:
    """List the customer files in `folder`, sorted, skipping hidden files."""
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and path.suffix in CUSTOMER_FILE_SUFFIXES and not path.name.startswith(".")
    )


def duplicate_key_problems(node: yaml.Node | None, display_path: str, parent: str = "") -> list[Problem]:
    """Report each key that a mapping in the file repeats, at any depth.

    PyYAML keeps the last value of a repeated key without a word, so a second
    `monthly_base_price_usd:` would silently replace the first.
    """
    problems: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        first_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            name = str(key_node.value)
            field = f"{parent}.{name}" if parent else name
            line = key_node.start_mark.line + 1
            if name in first_lines:
                problems.append(
                    Problem(
                        source=display_path,
                        field=field,
                        rule=f"the key already appears on line {first_lines[name]}, and YAML keeps only the last value",
                        fix="keep one of the two lines",
                        line=line,
                    )
                )
            else:
                first_lines[name] = line
            problems += duplicate_key_problems(value_node, display_path, field)
    elif isinstance(node, yaml.SequenceNode):
        for number, item in enumerate(node.value):
            problems += duplicate_key_problems(item, display_path, f"{parent}[{number}]")
    return problems


def parse_customer_file(path: Path, display_path: str) -> tuple[LoadedFile | None, list[Problem]]:
    """Parse one customer file; return it when its fields parsed, and every problem found."""
    key = path.stem
    problems: list[Problem] = []
    if not CUSTOMER_KEY_PATTERN.match(key):
        problems.append(
            Problem(
                source=display_path,
                field="(file name)",
                value=key,
                rule="customer key must be 3 to 50 lowercase letters, digits or hyphens, starting with a letter",
                fix="rename the file, e.g. acme-finance.yaml",
            )
        )

    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except UnicodeDecodeError:
        problems.append(Problem(source=display_path, field="", rule="file is not UTF-8 text", fix="save it as UTF-8"))
        return None, problems
    except yaml.YAMLError as error:
        reason = getattr(error, "problem", None) or str(error)
        problems.append(
            Problem(
                source=display_path,
                field="",
                rule=f"invalid YAML: {reason}",
                fix="correct the YAML syntax at that line",
                line=yaml_error_line(error, text),
            )
        )
        return None, problems

    if not isinstance(data, dict):
        problems.append(
            Problem(
                source=display_path,
                field="",
                value=type(data).__name__ if data is not None else "empty file",
                rule="a customer file must be a mapping of field names to values",
                fix="write fields such as name:, tier: and framework: at the top level",
            )
        )
        return None, problems

    problems += duplicate_key_problems(node, display_path)
    lines = {
        str(key_node.value): key_node.start_mark.line + 1
        for key_node, _ in (node.value if isinstance(node, yaml.MappingNode) else [])
    }
    try:
        model = CustomerFile.model_validate(data)
    except ValidationError as error:
        problems += problems_from_pydantic(error, source=display_path, lines=lines)
        return None, problems
    # A file with an invalid name still goes through the later checks, so every problem shows at once.
    return LoadedFile(key=key, path=path, model=model, lines=lines), problems
