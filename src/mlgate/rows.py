"""Row identity: stable content hashes, the training-row record, clean rows and hash splits.

A gate may only score both models on rows that *neither* trained on. A stratified shuffle split
of a different row set (rows added or fixed, another `test_size` or `random_state`) sends rows
the champion trained on into the new holdout, and a model scored on rows it learned looks better
than it is. So every version records which rows it trained on, as 64-bit content hashes, and the
gate keeps only the holdout rows whose hash is in neither model's record.

A row's hash is computed from a canonical text form of its feature values, never from pandas'
in-memory representation: `21`, `21.0` and `"21"` read from two versions of a file (a column
becomes float when one value gains a decimal) are the same value. Column order does not matter
(values are keyed by column name). The target is left out on purpose: a model that trained on a
row whose label was later corrected has still seen its features, so the corrected row is not
clean. Distinct rows whose features collide in 64 bits are astronomically rare (about n²/2⁶⁵:
1e-13 for 2,000 rows) and would only make the gate drop a clean row, never keep a dirty one.

`hash_split` is the repeatable alternative to a shuffle split: a row is in the holdout iff its
salted hash falls below `test_size`, so its side never depends on the other rows and a data
refresh never moves an old row across (Lakshmanan, Robinson & Munn, *Machine Learning Design
Patterns*, 2020, "Repeatable Splitting").
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "TRAINING_RECORD",
    "CleanRows",
    "DataChange",
    "canonical_value",
    "clean_rows",
    "data_change",
    "decode",
    "encode",
    "hash_split",
    "read_record",
    "record_columns",
    "row_hashes",
    "training_record",
]

#: The run artifact in which a version records what it trained on (rows and configuration).
TRAINING_RECORD = "mlgate/training.json"

_SEP = "\x1f"  # unit separator: cannot appear in a CSV value that the loader accepted
_MAGIC = b"mlgate-rows-v1\n"


def canonical_value(value: Any) -> str:
    """One text form per value, whatever type the reader gave it.

    Numbers (int, float, numpy scalars and numeric strings) become the shortest round-trip form
    of their float value, with integral values written without a decimal point ("21", not
    "21.0"); missing values become ""; other values their stripped text.
    """
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | float | np.integer | np.floating):
        return _number(float(value))
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return _number(number) if math.isfinite(number) else text


def _number(number: float) -> str:
    if math.isnan(number):
        return ""
    if number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number)


def row_hashes(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> np.ndarray:
    """uint64 content hash of each row of `frame` over `columns` (default: all), in row order."""
    names = sorted(str(c) for c in (frame.columns if columns is None else columns))
    lookup = {str(c): c for c in frame.columns}
    missing = [n for n in names if n not in lookup]
    if missing:
        raise ValueError(f"cannot hash rows: column(s) {', '.join(missing)} not in the frame")
    values = [frame[lookup[n]].tolist() for n in names]
    out = np.empty(len(frame), dtype=np.uint64)
    for i, row in enumerate(zip(*values, strict=True)):
        text = _SEP.join(f"{n}={canonical_value(v)}" for n, v in zip(names, row, strict=True))
        digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
        out[i] = int.from_bytes(digest, "little")
    return out


def encode(hashes: Iterable[int] | np.ndarray) -> bytes:
    """The training-row record: a header line, then the sorted unique hashes (8 bytes each)."""
    unique = np.unique(np.asarray(hashes, dtype=np.uint64))
    return _MAGIC + unique.astype("<u8").tobytes()


def decode(blob: bytes) -> np.ndarray:
    """Inverse of `encode`; raises ValueError for anything that is not such a record."""
    if not blob.startswith(_MAGIC) or (len(blob) - len(_MAGIC)) % 8:
        raise ValueError("not an mlgate training-row record (expected header 'mlgate-rows-v1')")
    return np.frombuffer(blob[len(_MAGIC) :], dtype="<u8").astype(np.uint64)


def training_record(
    features: pd.DataFrame,
    inputs: dict[str, Any],
    data: pd.DataFrame | None = None,
    labels: Sequence[Any] | np.ndarray | None = None,
) -> dict[str, Any]:
    """The JSON a version logs: its training rows' hashes and its training configuration.

    `features`: the training rows without the target; `inputs`: `Params.training_inputs()`,
    from which cross-validation rebuilds this version's configuration. `data` and `labels`:
    every row of the version's data file (features, and the target of each row): with them
    cross-validation retrains this version's *recipe*, its configuration on its own data,
    not on a later file (~22 KB for 1,670 training rows, ~40 KB more for 2,087 labelled rows).
    """
    import base64

    record = {
        "format": _MAGIC.decode().strip(),
        "n_rows": len(features),
        # The hashed columns: a later holdout is hashed on the same ones, so a version trained
        # on another schema (a column added or removed since) still recognises its rows.
        "columns": sorted(str(c) for c in features.columns),
        "rows": base64.b64encode(encode(row_hashes(features))[len(_MAGIC) :]).decode("ascii"),
        "inputs": inputs,
    }
    if data is not None and labels is not None:
        record["data"] = _labelled(row_hashes(data, list(features.columns)), labels)
    return record


def _labelled(hashes: np.ndarray, labels: Sequence[Any] | np.ndarray) -> dict[str, Any]:
    """Sorted row hashes with each row's label, as an index into the distinct label texts."""
    import base64

    texts = np.asarray([canonical_value(v) for v in np.asarray(labels, dtype=object)], dtype=object)
    order = np.argsort(hashes, kind="stable")
    values, index = np.unique(texts[order].astype(str), return_inverse=True)
    return {
        "rows": base64.b64encode(hashes[order].astype("<u8").tobytes()).decode("ascii"),
        "values": values.tolist(),
        "labels": base64.b64encode(index.astype("<u4").tobytes()).decode("ascii"),
    }


@dataclass(frozen=True, eq=False)
class DataChange:
    """How a data file differs from the file a version recorded, row by row (by features).

    `labels`: for each row of the new file, the recorded version's label text of the same
    features, or None where that version's file did not have the row.
    """

    labels: np.ndarray  # object, one per row of the new file
    agreed: np.ndarray  # bool per row of the new file: both files have it, with the same label
    disputed: int  # rows of both files whose label differs
    added: int  # rows only in the new file
    removed: int  # rows only in the recorded file
    recorded: int  # rows of the recorded file


def data_change(
    record: dict[str, Any], data: pd.DataFrame, labels: Sequence[Any] | np.ndarray
) -> DataChange | None:
    """Compare a version's recorded data file with `data`/`labels` (None: it recorded none, or
    on columns `data` lacks)."""
    import base64

    section = record.get("data")
    columns = record_columns(record)
    if not isinstance(section, dict) or columns is None or not set(columns) <= set(data.columns):
        return None
    try:
        hashes = np.frombuffer(base64.b64decode(section["rows"], validate=True), "<u8")
        index = np.frombuffer(base64.b64decode(section["labels"], validate=True), "<u4")
        values = [str(v) for v in section["values"]]
    except (KeyError, TypeError, ValueError):
        return None
    if hashes.size != index.size or (index.size and int(index.max()) >= len(values)):
        return None
    new_hashes = row_hashes(data, columns)
    position = np.searchsorted(hashes, new_hashes)
    inside = position < hashes.size
    found = inside.copy()
    found[inside] = hashes[position[inside]] == new_hashes[inside]
    recorded = np.full(new_hashes.size, None, dtype=object)
    recorded[found] = np.asarray(values, dtype=object)[index[position[found]]]
    texts = np.asarray([canonical_value(v) for v in np.asarray(labels, dtype=object)], dtype=object)
    agree = found & (recorded == texts)
    return DataChange(
        labels=recorded,
        agreed=agree,
        disputed=int((found & ~agree).sum()),
        added=int((~found).sum()),
        removed=int(hashes.size - np.unique(new_hashes[found]).size),
        recorded=int(hashes.size),
    )


def record_columns(payload: dict[str, Any]) -> list[str] | None:
    """The columns a `training_record`'s hashes cover (None: the record does not say)."""
    columns = payload.get("columns")
    return [str(c) for c in columns] if isinstance(columns, list) else None


def read_record(payload: dict[str, Any]) -> np.ndarray:
    """The sorted training-row hashes of a `training_record`; ValueError when it is not one."""
    import base64
    import binascii

    if payload.get("format") != _MAGIC.decode().strip() or "rows" not in payload:
        raise ValueError("not an mlgate training record (expected format 'mlgate-rows-v1')")
    try:
        return decode(_MAGIC + base64.b64decode(payload["rows"], validate=True))
    except binascii.Error:
        raise ValueError("not an mlgate training record (rows are not base64)") from None


@dataclass(frozen=True)
class CleanRows:
    """Which holdout rows both models may be scored on, and why the others were dropped."""

    mask: np.ndarray  # bool per holdout row: True = neither model trained on it
    n_holdout: int
    seen_by_champion: int  # holdout rows the champion trained on
    seen_by_challenger: int  # holdout rows (duplicates by content) the challenger trained on
    note: str | None = None  # why rows were left out when no record could say which

    @property
    def n_clean(self) -> int:
        return int(self.mask.sum())

    def reason(self) -> str | None:
        """Why fewer rows than the holdout, in words; None when every row is clean."""
        if self.note:
            return self.note
        if self.n_clean == self.n_holdout:
            return None
        parts = []
        if self.seen_by_champion:
            parts.append(f"{self.seen_by_champion} were in the champion's training rows")
        if self.seen_by_challenger:
            parts.append(
                f"{self.seen_by_challenger} duplicate a row in the challenger's training rows"
            )
        return f"{self.n_clean} of {self.n_holdout} holdout rows are clean: " + "; ".join(parts)


def clean_rows(
    holdout: np.ndarray,
    champion_train: np.ndarray | None,
    challenger_train: np.ndarray | None = None,
    challenger_holdout: np.ndarray | None = None,
) -> CleanRows:
    """Holdout rows in neither training record. A missing record (None) excludes nothing.

    `holdout`: the holdout's hashes on the champion's recorded columns; `challenger_holdout`:
    on the challenger's, when they differ (default: the same hashes).
    """
    holdout = np.asarray(holdout, dtype=np.uint64)
    other = holdout if challenger_holdout is None else np.asarray(challenger_holdout, np.uint64)
    empty = np.zeros(holdout.size, dtype=bool)
    by_champ = empty if champion_train is None else np.isin(holdout, champion_train)
    by_chall = empty if challenger_train is None else np.isin(other, challenger_train)
    return CleanRows(
        mask=~(by_champ | by_chall),
        n_holdout=int(holdout.size),
        seen_by_champion=int(by_champ.sum()),
        seen_by_challenger=int((by_chall & ~by_champ).sum()),
    )


def hash_split(hashes: np.ndarray, test_size: float, salt: int | str) -> np.ndarray:
    """bool per row: True = holdout. A row's side depends only on its content and the salt.

    The salted hash is mapped to [0, 1); rows below `test_size` are held out. Class shares of
    the holdout then follow the data's up to binomial noise (stratification in expectation).
    """
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1, got {test_size}")
    key = hashlib.blake2b(str(salt).encode("utf-8"), digest_size=8).digest()
    salted = np.asarray(hashes, dtype=np.uint64) ^ np.uint64(int.from_bytes(key, "little"))
    # A 64-bit finaliser (splitmix64) so that the XOR with the salt reshuffles every bit.
    z = salted.copy()
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53) < test_size
