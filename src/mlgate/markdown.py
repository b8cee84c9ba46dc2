"""Text placed inside markdown, by the one rule the gate report and the model card share.

A message, a reason or a label can hold newlines and `|`; inside a table cell or a one-line bullet
either would break the layout (a new row, a new column), so both are neutralised the same way
wherever mlgate writes markdown.
"""

from __future__ import annotations

__all__ = ["cell", "inline"]


def inline(text: object) -> str:
    """`text` on one line: every run of whitespace (newlines included) becomes one space."""
    return " ".join(str(text).split())


def cell(text: object) -> str:
    """`text` safe inside a markdown table cell or a one-line bullet: on one line, `|` escaped."""
    return inline(text).replace("|", "\\|")
