"""markdown.py: the one rule for text inside the report's and the card's markdown."""

import pytest

from mlgate.markdown import cell, inline


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("plain", "plain", id="plain"),
        pytest.param("a | b", "a \\| b", id="pipe-escaped"),
        pytest.param("first\nsecond\r\nthird", "first second third", id="lines-joined"),
        pytest.param("  wide\t gap  ", "wide gap", id="whitespace-collapsed"),
        pytest.param(3, "3", id="not-a-string"),
    ],
)
def test_a_cell_stays_on_one_line_in_its_column(text, expected):
    assert cell(text) == expected


def test_inline_keeps_pipes_outside_tables():
    assert inline("a |\n b") == "a | b"
