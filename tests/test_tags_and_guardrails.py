"""Tag cleaning and the guardrail loader's minify and split rules."""

from __future__ import annotations

import json

import pytest

from securebase.guardrails import load_guardrail_set, minify
from securebase.tags import clean_tag_value, disallowed_characters


@pytest.mark.parametrize(
    "raw, cleaned",
    [
        ("O'Neil & Partners, Ltd. (Healthcare)", "ONeil and Partners Ltd. Healthcare"),
        ("Müller GmbH", "Müller GmbH"),
        ("  spaced\tout  ", "spaced out"),
        ("a/b=c+d-e@f:g_h.i", "a/b=c+d-e@f:g_h.i"),
        ("x" * 300, "x" * 256),
    ],
)
def test_clean_tag_value(raw, cleaned):
    assert clean_tag_value(raw) == cleaned


def test_clean_tag_value_is_idempotent():
    once = clean_tag_value("O'Neil & Partners, Ltd. (Healthcare)")

    assert clean_tag_value(once) == once
    assert disallowed_characters(once) == []


def test_disallowed_characters_listed_once_in_order():
    assert disallowed_characters("Q&A (beta) & more") == ["&", "(", ")"]


def _write_set(tmp_path, documents):
    folder = tmp_path / "catalog" / "demo"
    folder.mkdir(parents=True)
    for name, content in documents.items():
        (folder / f"{name}.json").write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
    return tmp_path / "catalog"


def _document(statements):
    return {
        "Description": "Demo.",
        "Requirements": {"soc2": ["CC6.1"]},
        "Policy": {"Version": "2012-10-17", "Statement": statements},
    }


def _statement(sid, padding=0):
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Action": ["s3:DeleteBucket"] + [f"s3:Get{'X' * padding}{n}" for n in range(3)],
        "Resource": "*",
    }


def test_placeholder_substituted(tmp_path):
    statement = _statement("DenyA")
    statement["Condition"] = {"ArnNotLike": {"aws:PrincipalARN": "arn:aws:iam::*:role/{{platform_role_name}}"}}
    catalog = _write_set(tmp_path, {"one": _document([statement])})
    documents, problems = load_guardrail_set(
        "demo", catalog_dir=catalog, platform_role_name="PlatformAdmin", max_size=10240
    )

    assert problems == []
    assert "arn:aws:iam::*:role/PlatformAdmin" in documents[0].content
    assert documents[0].policy_name == "securebase-demo-one"


def test_split_parts_each_fit(tmp_path):
    statements = [_statement(f"DenyPart{n}", padding=40) for n in range(12)]
    catalog = _write_set(tmp_path, {"big": _document(statements)})
    documents, problems = load_guardrail_set("demo", catalog_dir=catalog, platform_role_name="R", max_size=1200)

    assert problems == []
    assert len(documents) > 1
    assert all(len(document.content) <= 1200 for document in documents)
    assert sorted(sid for d in documents for sid in d.statement_ids) == sorted(f"DenyPart{n}" for n in range(12))
    assert [d.name for d in documents] == [f"big-part{n}" for n in range(1, len(documents) + 1)]


def test_invalid_json_names_line(tmp_path):
    catalog = _write_set(tmp_path, {"bad": '{\n  "Description": "x",\n  "Policy": {\n}}}'})
    _, problems = load_guardrail_set("demo", catalog_dir=catalog, platform_role_name="R", max_size=10240)

    assert len(problems) == 1
    assert "bad.json:4: invalid JSON" in str(problems[0])


def test_wrong_shape_reported(tmp_path):
    catalog = _write_set(tmp_path, {"odd": {"Policy": {"Statement": []}, "Extra": 1}})
    _, problems = load_guardrail_set("demo", catalog_dir=catalog, platform_role_name="R", max_size=10240)
    text = "\n".join(str(problem) for problem in problems)

    assert "Extra: unknown key" in text
    assert "Description: missing or empty" in text
    assert "Policy.Statement: missing or empty statement list" in text


def test_minify_drops_whitespace():
    assert minify({"a": [1, 2], "b": {"c": "d e"}}) == '{"a":[1,2],"b":{"c":"d e"}}'
