"""Strict YAML reading: a repeated key at any depth is refused with both line numbers."""

from __future__ import annotations

import pytest

from mlgate import yamltext
from mlgate.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "gate:\n  mode: enabled\nmodel: {}\ngate:\n  margin: 0.05\n",
            "`gate` appears twice (lines 1 and 4)",
        ),
        (
            "data:\n  test_size: 0.2\n  test_size: 0.3\n",
            "`data.test_size` appears twice (lines 2 and 3)",
        ),
        (
            "card:\n  caveats:\n    - {a: 1}\n    - {b: 1, b: 2}\n",
            "`card.caveats[1].b` appears twice",
        ),
        ("a:\n  1: x\n  1.0: y\n", "appears twice (lines 2 and 3)"),
    ],
)
def test_a_repeated_key_is_one_line_naming_both_lines(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        yamltext.load(text, "params.yaml")
    assert str(caught.value).startswith("params.yaml: key ")
    assert message in str(caught.value)
    assert str(caught.value).endswith("; keep one")
    assert "\n" not in str(caught.value)


def test_merge_keys_and_aliases_are_not_repeats() -> None:
    text = "base: &b {x: 1, y: 2}\nmine:\n  <<: *b\n  x: 3\nagain: *b\n"
    assert yamltext.load(text, "f.yaml") == {
        "base": {"x": 1, "y": 2},
        "mine": {"x": 3, "y": 2},
        "again": {"x": 1, "y": 2},
    }


def test_syntax_errors_and_empty_documents() -> None:
    assert yamltext.load("", "f.yaml") is None
    with pytest.raises(ConfigError, match=r"^f\.yaml: YAML syntax error at line 2, column 1: "):
        yamltext.load("a: [\n", "f.yaml")
