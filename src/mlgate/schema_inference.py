"""Draft a dataset schema from a CSV: what `mlgate data infer-schema` and `mlgate init` write.

The rules are deliberately simple and stated once (`infer`'s docstring, docs/tutorial.md): the
draft is a starting point a person reviews, not a guess mlgate relies on.
"""

from __future__ import annotations

import difflib
import math
from typing import TYPE_CHECKING, Any

from .data import csv_line
from .errors import DataError
from .schema import TASKS, Column, Schema
from .task import CLASSIFICATION, REGRESSION
from .task import named as task_named

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MAX_CATEGORIES", "MAX_INTEGER_CLASSES", "WIDEN", "infer", "widen"]

# Inference: a text column with more distinct values than this is free text or an id, not a
# category one-hot encoding could use.
MAX_CATEGORIES = 50
# Inference: a numeric target with at most this many distinct integer values is a class label.
MAX_INTEGER_CLASSES = 10
# Inference widens an observed range by this share of its width on each side.
WIDEN = 0.1


def infer(frame: pd.DataFrame, target: str, task: str | None = None, where: str = "data") -> Schema:
    """A schema for a frame read as text (`read_csv(path)`); each rule is documented in
    docs/tutorial.md ("Your own model").

    - a column whose every cell parses as a number is numeric, its range the observed one
      widened by `widen`; other columns are categorical with their observed values, sorted;
    - an id is ignored: a text column with every value distinct or more than MAX_CATEGORIES
      values, or an integer column counting rows (every value distinct, consecutive);
    - a column with empty cells is `required: false`;
    - the task, unless given: a text target, or integers with at most MAX_INTEGER_CLASSES
      distinct values, is classification; any other numeric target is regression.
    """
    import pandas as pd

    if frame.empty:
        raise DataError(f"{where}: no data rows; add rows to the CSV")
    if target not in frame.columns:
        columns = [str(c) for c in frame.columns]
        close = difflib.get_close_matches(target, columns, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise DataError(
            f"{where}: no target column {target!r}{hint}; columns: {', '.join(columns)}; "
            "pass --target with one of them"
        )
    if task is not None and task not in TASKS:
        raise DataError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    labels = frame[target]
    empty = labels.index[labels.isna()]
    if len(empty):
        lines = ", ".join(str(csv_line(i)) for i in empty[:5])
        raise DataError(
            f"{where}: target {target} has {len(empty)} missing value(s) (CSV line {lines}); "
            "drop those rows"
        )
    numbers = pd.to_numeric(labels, errors="coerce")
    if task is None:
        integers = numbers.notna().all() and (numbers == numbers.round()).all()
        small = integers and numbers.nunique() <= MAX_INTEGER_CLASSES
        task = (REGRESSION if numbers.notna().all() and not small else CLASSIFICATION).name
    if not task_named(task).has_classes and numbers.isna().any():
        bad = labels.index[numbers.isna()][0]
        raise DataError(
            f"{where}: regression target {target} must be numeric, got {labels[bad]!r} on CSV "
            f"line {csv_line(bad)}; fix the value, or pass --task classification for labels"
        )
    columns = []
    for name in frame.columns:
        if name == target:
            if task_named(task).has_classes:
                classes = tuple(sorted(labels.astype(str).unique(), key=_natural))
                if len(classes) < 2:
                    raise DataError(
                        f"{where}: target {target} has a single class ({classes[0]!r}); nothing "
                        "to classify: add rows of another class, or choose another --target"
                    )
                columns.append(Column(str(name), "categorical", values=classes))
            else:
                if numbers.nunique() < 2:
                    raise DataError(
                        f"{where}: regression target {target} has a single value "
                        f"({labels.iloc[0]!r}); there is nothing to predict"
                    )
                lo, hi = widen(float(numbers.min()), float(numbers.max()), _integral(numbers))
                columns.append(Column(str(name), "numeric", lo, hi))
            continue
        columns.append(_infer_column(str(name), frame[name], pd))
    return Schema(task=task, target=target, columns=tuple(columns))


def _infer_column(name: str, cells: Any, pd: Any) -> Column:
    required = not cells.isna().any()
    present = cells.dropna()
    if present.empty:
        return Column(name, "ignore", required=required)
    numbers = pd.to_numeric(present, errors="coerce")
    distinct = present.nunique()
    if numbers.notna().all():
        integral = _integral(numbers)
        counting = (
            integral
            and distinct == len(present)
            and numbers.max() - numbers.min() == len(present) - 1
        )
        if counting and len(present) > 2:
            return Column(name, "ignore", required=required)
        lo, hi = widen(float(numbers.min()), float(numbers.max()), integral)
        return Column(name, "numeric", lo, hi, required=required)
    if distinct > MAX_CATEGORIES or (distinct == len(present) and len(present) > 2):
        return Column(name, "ignore", required=required)
    values = tuple(sorted(present.astype(str).unique(), key=_natural))
    return Column(name, "categorical", values=values, required=required)


def _integral(numbers: Any) -> bool:
    return bool((numbers == numbers.round()).all())


def _natural(value: str) -> tuple[int, float, str]:
    """Numbers in numeric order (2 before 10), then text in alphabetical order."""
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def widen(lo: float, hi: float, integral: bool = False) -> tuple[float, float]:
    """The observed range [lo, hi] widened by WIDEN (10 %) of its width on each side, so that
    new rows slightly beyond the training data still validate while a unit mistake (a height of
    175 for 1.75) does not; a range that was non-negative stays so. The bounds are rounded
    outward to two significant digits of the width (integers for integer columns).
    """
    width = hi - lo or abs(hi) or 1.0
    low, high = lo - WIDEN * width, hi + WIDEN * width
    if lo >= 0:
        low = max(low, 0.0)
    step = 10.0 ** (math.floor(math.log10(width)) - 1)
    if integral:
        step = max(step, 1.0)
    # the tolerance keeps float noise (0.2 / 0.1 = 1.999...) from widening by a whole step
    low = math.floor(low / step + 1e-9) * step
    high = math.ceil(high / step - 1e-9) * step
    digits = max(0, -math.floor(math.log10(step)))
    low, high = round(low, digits), round(high, digits)
    if integral or step >= 1:
        return int(low), int(high)
    return low, high
