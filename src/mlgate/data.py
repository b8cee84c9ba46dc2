"""The dataset: read and validate the CSV against params.yaml's schema (schema.py), split it, and
`holdout`: the one rule (load, split, pick the classes) that training, the gate and the model card
share, so all three score the same rows over the same classes.

Validation errors are one line naming the column, the CSV line and the fix.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import DataError, first_line
from .schema import Column, Schema
from .task import named as task_named

if TYPE_CHECKING:  # pandas costs ~0.5 s to import; callers that load data pay for it
    import pandas as pd

    from .config import DataConfig

__all__ = [
    "Dataset",
    "Holdout",
    "Split",
    "csv_line",
    "file_sha256",
    "frame_sha256",
    "holdout",
    "known_rows",
    "load",
    "read_csv",
    "split",
    "split_key",
    "split_record",
    "validate",
]


@dataclass(frozen=True)
class Dataset:
    frame: pd.DataFrame
    path: str
    sha256: str
    rows_read: int
    duplicates_dropped: int
    schema: Schema

    @property
    def features(self) -> list[str]:
        return [c.name for c in self.schema.features]


@dataclass(frozen=True)
class Split:
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series

    @property
    def holdout_sha256(self) -> str:
        """Identifies the holdout rows and labels: two gates can tell they scored the same rows."""
        return frame_sha256(self.X_test.assign(**{str(self.y_test.name): self.y_test}))


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def frame_sha256(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def load(path: str | Path, schema: Schema) -> Dataset:
    """Read and validate the CSV; exact duplicate rows are dropped (the UCI file has 24)."""
    path = Path(path)
    frame = read_csv(path, schema)
    validate(frame, schema, str(path))
    rows = len(frame)
    frame = frame.drop_duplicates(ignore_index=True)
    return Dataset(
        frame=frame,
        path=str(path),
        sha256=file_sha256(path),
        rows_read=rows,
        duplicates_dropped=rows - len(frame),
        schema=schema,
    )


def read_csv(path: str | Path, schema: Schema | None = None) -> pd.DataFrame:
    """The CSV as a frame: categorical and ignored columns as text, exactly as written (so
    `1` and `1.0` stay different categories), numeric ones parsed. Without a schema every
    column is text (what `infer` reads)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"{path}: data file not found (check data.path in params.yaml or pass --data)"
        )
    if schema is None:
        dtype: Any = str
    else:
        dtype = {c.name: str for c in schema.columns if c.kind != "numeric"}
    try:
        frame = pd.read_csv(path, dtype=dtype)
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{path}: not a readable CSV (the file is empty); write a header row and data"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV ({first_line(exc)}); check the file") from None
    if frame.empty:
        raise DataError(f"{path}: the CSV has a header but no data rows; add rows")
    return frame


def csv_line(index: Any) -> int:
    """CSV line of a row: the header is line 1 (rows keep their index from `read_csv`)."""
    return int(index) + 2


def validate(frame: pd.DataFrame, schema: Schema, where: str) -> None:
    """Raise `DataError` at the first problem: columns, empty cells, types, ranges, categories,
    then what the task needs of the target."""
    import pandas as pd

    if frame.empty:
        raise DataError(f"{where}: no data rows; add rows to the CSV")
    missing = [c for c in schema.names if c not in frame.columns]
    if missing:
        raise DataError(
            f"{where}: missing column(s) {', '.join(missing)}; data.schema in params.yaml needs "
            f"all {len(schema.columns)} (add them to the CSV or remove them from data.schema)"
        )
    extra = [str(c) for c in frame.columns if c not in schema.names]
    if extra:
        raise DataError(
            f"{where}: unexpected column(s) {', '.join(extra)}; remove them, or list them in "
            "data.schema (type: ignore keeps an id out of the model)"
        )
    for column in schema.columns:
        empty = frame.index[frame[column.name].isna()]
        if len(empty) and column.required:
            lines = ", ".join(str(csv_line(i)) for i in empty[:5])
            optional = (
                ""
                if column.name == schema.target
                else f" or set data.schema.{column.name}.required: false"
            )
            raise DataError(
                f"{where}: column {column.name} has {len(empty)} missing value(s) (CSV line "
                f"{lines}); fill or drop those rows{optional}"
            )
    for column in schema.columns:
        cells = frame[column.name].dropna()
        if column.kind == "numeric":
            _check_numeric(cells, column, schema, where, pd)
        elif column.kind == "categorical":
            _check_categories(cells, column, where)
    _check_target(frame[schema.target], schema, where)


def _check_numeric(cells: Any, column: Column, schema: Schema, where: str, pd: Any) -> None:
    values = pd.to_numeric(cells, errors="coerce")
    bad = cells.index[values.isna()]
    if len(bad):
        if column.name == schema.target:
            fix = "a regression target must be a number (set data.task: classification for labels)"
        else:
            fix = f"fix the value, or declare data.schema.{column.name} categorical"
        raise DataError(
            f"{where}: column {column.name} must be numeric, got {cells[bad[0]]!r} on CSV line "
            f"{csv_line(bad[0])}; {fix}"
        )
    lo = -math.inf if column.minimum is None else column.minimum
    hi = math.inf if column.maximum is None else column.maximum
    out = values.index[(values < lo) | (values > hi)]
    if len(out):
        value = float(values[out[0]])
        bound = "min" if value < lo else "max"
        raise DataError(
            f"{where}: column {column.name} value {value:g} on CSV line {csv_line(out[0])} is "
            f"outside [{lo:g}, {hi:g}]; fix the value, or change data.schema.{column.name}.{bound}"
            " if it is plausible"
        )


def _check_categories(cells: Any, column: Column, where: str) -> None:
    text = cells.astype(str)
    unknown = text[~text.isin(column.values)]
    if len(unknown):
        shown = ", ".join(column.values[:12]) + (", ..." if len(column.values) > 12 else "")
        raise DataError(
            f"{where}: column {column.name} has unknown category {unknown.iloc[0]!r} (CSV line "
            f"{csv_line(unknown.index[0])}); expected one of {shown} (or add it to "
            f"data.schema.{column.name}.values)"
        )


def _check_target(target: Any, schema: Schema, where: str) -> None:
    if not task_named(schema.task).has_classes:
        if target.nunique() < 2:
            raise DataError(
                f"{where}: regression target {schema.target} has a single value "
                f"({target.iloc[0]!r}); there is nothing to predict"
            )
        return
    counts = target.astype(str).value_counts()
    if counts.size < 2:
        only = counts.index[0] if counts.size else "none"
        raise DataError(
            f"{where}: {schema.target} has fewer than 2 classes (only {only!r}); nothing to "
            "classify: add rows of another class"
        )
    rare = [f"{c} ({counts[c]})" for c in schema.classes if 0 < counts.get(c, 0) < 2]
    if rare:
        raise DataError(
            f"{where}: class {', '.join(rare)} has fewer than 2 rows; a stratified split needs"
            " at least 2 per class: add rows or remove the class"
        )


def split(
    dataset: Dataset,
    test_size: float,
    random_state: int,
    rows: tuple[Sequence[int], Sequence[int]] | None = None,
) -> Split:
    """The same data and params give the same holdout, row for row. Classification splits are
    stratified (every class keeps its share); ignored columns are not model inputs.

    `rows`: the (train, test) row positions an earlier split of these same inputs chose (see
    `split_record`); the parts are then taken as train_test_split takes them, without importing
    scikit-learn (~1 s), which a champion move with stored evidence otherwise needs for nothing.
    """
    schema = dataset.schema
    frame = dataset.frame
    X = frame[dataset.features]
    y = frame[schema.target]
    task = task_named(schema.task)
    if not task.has_classes:
        y = y.astype(float)
    if rows is not None:
        train, test = rows
        return Split(X.take(train), X.take(test), y.take(train), y.take(test))
    from sklearn.model_selection import train_test_split

    stratify = y if task.stratified else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=random_state, stratify=stratify
    )
    return Split(X_train, X_test, y_train, y_test)


@dataclass(frozen=True)
class Holdout:
    """A loaded dataset, its split and the classes every score is computed over."""

    dataset: Dataset
    split: Split
    classes: list[str]  # empty for regression

    @property
    def sha256(self) -> str:
        return self.split.holdout_sha256


def holdout(
    cfg: DataConfig, path: str | Path | None = None, known: Mapping[str, Any] | None = None
) -> Holdout:
    """Load, split and pick the classes: the one rule training, the gate and the card share.

    The classes are those present in the whole dataset, in the schema's order: the labels the
    model could learn. The stratified split puts every class with enough rows into the test
    split, so this agrees with the test split's labels; where a class is too rare to reach it,
    it still counts (with F1 0) instead of silently dropping out of the macro averages.
    """
    schema = cfg.schema
    dataset = load(path or cfg.path, schema)
    rows = known_rows(known, cfg, dataset)
    parts = split(dataset, cfg.test_size, cfg.random_state, rows)
    present = set(dataset.frame[schema.target].astype(str))
    return Holdout(dataset, parts, [c for c in schema.classes if c in present])


def split_key(cfg: DataConfig, dataset: Dataset) -> str:
    """What a split depends on: the file's bytes, the data settings, the packages that read and
    split it, and this module's code. Equal keys give the same split, row for row."""
    from importlib import metadata

    # Where the file and params.yaml were read from is not what was split.
    settings = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("path", "source")}
    inputs = {
        "file": dataset.sha256,
        "settings": settings,
        "packages": {p: metadata.version(p) for p in ("numpy", "pandas", "scikit-learn")},
        "code": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def split_record(cfg: DataConfig, holdout: Holdout) -> dict[str, Any]:
    """The split's row positions with its key: stored beside predictions on the holdout, so a
    later reader of the same inputs rebuilds the same holdout without splitting again."""
    index = holdout.dataset.frame.index
    return {
        "key": split_key(cfg, holdout.dataset),
        "train": [int(i) for i in index.get_indexer(holdout.split.X_train.index)],
        "test": [int(i) for i in index.get_indexer(holdout.split.X_test.index)],
    }


def known_rows(
    known: Mapping[str, Any] | None, cfg: DataConfig, dataset: Dataset
) -> tuple[list[int], list[int]] | None:
    """The positions of a stored `split_record` when its key is these inputs' and they cover
    every row once; None otherwise (the caller splits)."""
    if not known or known.get("key") != split_key(cfg, dataset):
        return None
    train, test = known.get("train"), known.get("test")
    if not isinstance(train, list) or not isinstance(test, list):
        return None
    if not all(type(i) is int for i in train + test):  # a hand-edited record: split again
        return None
    if sorted(train + test) != list(range(len(dataset.frame))):
        return None
    return train, test
