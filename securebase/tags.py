"""Tag values that AWS Organizations accepts.

AWS allows letters, digits, white space and `_ . : / = + - @` in tag keys and values.
Values taken from customer data (a company name, say) are cleaned by one fixed rule
so the same input always yields the same tag and never a rejected request:

1. `&` becomes ` and `, because it usually joins names.
2. Every other character outside the allowed set is removed.
3. Runs of white space become one space, and the ends are trimmed.
4. The result is cut to the maximum value length.

Reports and outputs keep the original text; only tags carry the cleaned value.
"""

from __future__ import annotations

import re

# \w covers Unicode letters, digits and the underscore, which AWS allows.
_DISALLOWED = re.compile(r"[^\w\s.:/=+\-@]")
_SPACES = re.compile(r"\s+")
ALLOWED_CHARACTERS = "letters, digits, spaces and _ . : / = + - @"


def clean_tag_value(value: str, max_length: int = 256) -> str:
    """Return `value` cleaned by the rule in this module's docstring."""
    cleaned = value.replace("&", " and ")
    cleaned = _DISALLOWED.sub("", cleaned)
    cleaned = _SPACES.sub(" ", cleaned).strip()
    return cleaned[:max_length].rstrip()


def disallowed_characters(value: str) -> list[str]:
    """Return the distinct characters of `value` that AWS rejects in tags, in order."""
    seen: list[str] = []
    for character in _DISALLOWED.findall(value):
        if character not in seen:
            seen.append(character)
    return seen
