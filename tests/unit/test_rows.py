"""Row hashes, training-row records, clean rows and the repeatable hash split."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from mlgate import rows

from ..obesity import generator


@pytest.mark.parametrize(
    "value", [21, 21.0, "21", " 21 ", "21.0", np.int64(21), np.float64(21.0), np.float32(21.0)]
)
def test_one_text_form_per_number_whatever_its_type(value: object) -> None:
    assert rows.canonical_value(value) == "21"


def test_canonical_value_of_decimals_strings_and_missing() -> None:
    assert rows.canonical_value(1.62) == rows.canonical_value("1.62") == "1.62"
    assert rows.canonical_value(float("nan")) == rows.canonical_value(None) == ""
    assert rows.canonical_value(" yes ") == "yes"
    assert rows.canonical_value(True) == "true"
    assert rows.canonical_value("inf") == "inf"


def test_hashes_survive_a_column_turning_float_when_the_file_changes() -> None:
    before = "Age,Weight,Gender\n21,64,Female\n23,77,Male\n"
    # A row appended with a decimal weight makes pandas read the whole column as float64.
    after = before + "30,80.5,Male\n"
    old = pd.read_csv(io.StringIO(before))
    new = pd.read_csv(io.StringIO(after))
    assert old["Weight"].dtype != new["Weight"].dtype
    assert rows.row_hashes(new)[:2].tolist() == rows.row_hashes(old).tolist()


def test_hashes_ignore_column_order_and_the_columns_left_out() -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "label": ["p", "q"]})
    reordered = frame[["label", "b", "a"]].assign(label=["changed", "labels"])
    assert (
        rows.row_hashes(frame, ["a", "b"]).tolist()
        == rows.row_hashes(reordered, ["b", "a"]).tolist()
    )
    assert rows.row_hashes(frame).tolist() != rows.row_hashes(reordered).tolist()


def test_different_rows_hash_differently_and_columns_must_exist() -> None:
    frame = generator().generate(500, seed=3).drop_duplicates()
    hashes = rows.row_hashes(frame)
    assert hashes.dtype == np.uint64
    assert np.unique(hashes).size == len(frame)
    with pytest.raises(ValueError, match="nope"):
        rows.row_hashes(frame, ["Age", "nope"])


def test_record_round_trips_sorted_unique_in_eight_bytes_a_row() -> None:
    hashes = np.array([5, 2**64 - 1, 5, 0, 77], dtype=np.uint64)
    blob = rows.encode(hashes)
    assert len(blob) == len(b"mlgate-rows-v1\n") + 4 * 8
    assert rows.decode(blob).tolist() == [0, 5, 77, 2**64 - 1]


@pytest.mark.parametrize("blob", [b"", b"not a record", b"mlgate-rows-v1\n123"])
def test_decode_refuses_anything_else(blob: bytes) -> None:
    with pytest.raises(ValueError, match="training-row record"):
        rows.decode(blob)


def test_clean_rows_counts_and_says_why() -> None:
    holdout = np.array([1, 2, 3, 4, 5], dtype=np.uint64)
    clean = rows.clean_rows(holdout, np.array([2, 4, 9], dtype=np.uint64), np.array([5, 4]))
    assert clean.mask.tolist() == [True, False, True, False, False]
    assert (clean.n_clean, clean.seen_by_champion, clean.seen_by_challenger) == (2, 2, 1)
    assert clean.reason() == (
        "2 of 5 holdout rows are clean: 2 were in the champion's training rows; "
        "1 duplicate a row in the challenger's training rows"
    )
    assert rows.clean_rows(holdout, None).reason() is None


def test_hash_split_keeps_each_rows_side_when_rows_are_added() -> None:
    frame = generator().generate(3000, seed=11).drop_duplicates(ignore_index=True)
    hashes = rows.row_hashes(frame)
    old = np.arange(len(frame)) < 2500  # v1 had the first 2500 rows, v2 has them all
    before = rows.hash_split(hashes[old], 0.2, salt=42)
    after = rows.hash_split(hashes, 0.2, salt=42)
    assert after[old].tolist() == before.tolist()
    # The champion's training rows never enter the new holdout: every holdout row is clean.
    clean = rows.clean_rows(hashes[after], hashes[old][~before])
    assert clean.n_clean == after.sum()


def test_hash_split_share_and_salt() -> None:
    hashes = rows.row_hashes(pd.DataFrame({"i": np.arange(20_000)}))
    share = rows.hash_split(hashes, 0.2, salt=42).mean()
    assert share == pytest.approx(0.2, abs=3 * np.sqrt(0.2 * 0.8 / 20_000))
    other = rows.hash_split(hashes, 0.2, salt=7)
    overlap = (other & rows.hash_split(hashes, 0.2, salt=42)).mean()
    assert overlap == pytest.approx(0.04, abs=0.01)  # independent: 0.2 x 0.2
    with pytest.raises(ValueError, match="test_size"):
        rows.hash_split(hashes, 1.5, salt=0)


def test_training_record_round_trips_through_json() -> None:
    import json

    frame = generator().generate(300, seed=2).drop(columns=[generator().TARGET])
    record = json.loads(json.dumps(rows.training_record(frame, {"model": {"type": "x"}})))
    assert rows.read_record(record).tolist() == np.unique(rows.row_hashes(frame)).tolist()
    assert record["inputs"] == {"model": {"type": "x"}}
    with pytest.raises(ValueError, match="training record"):
        rows.read_record({"format": "other"})
    with pytest.raises(ValueError, match="training record"):
        rows.read_record({**record, "rows": "%%%"})


def test_data_change_finds_relabelled_added_and_removed_rows() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3, 4], "b": ["x", "y", "z", "w"]})
    labels = np.array(["p", "q", "p", "q"], dtype=object)
    record = json.loads(
        json.dumps(rows.training_record(frame.iloc[:3], {"model": {}}, frame, labels))
    )
    # The new file: row 2 relabelled, row 4 removed, a row added; column order and int/float
    # forms do not matter.
    new = pd.DataFrame({"b": ["x", "y", "z", "v"], "a": [1.0, 2.0, 3.0, 5.0]})
    change = rows.data_change(record, new, ["p", "p", "p", "q"])
    assert (change.disputed, change.added, change.removed, change.recorded) == (1, 1, 1, 4)
    assert change.labels.tolist() == ["p", "q", "p", None]
    assert change.agreed.tolist() == [True, False, True, False]
    # A record from before labelled data files were kept says nothing.
    assert rows.data_change(rows.training_record(frame, {}), new, labels) is None
