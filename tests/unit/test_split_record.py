"""A split stored with the gate's evidence rebuilds the same holdout without splitting again, and
only for the inputs it was made from."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from mlgate import data
from mlgate.config import DataConfig, load_params

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "data" / "obesity.csv"


@pytest.fixture(scope="module")
def made() -> tuple[DataConfig, data.Holdout]:
    cfg = load_params(ROOT / "params.yaml").data
    return cfg, data.holdout(cfg, COMMITTED)


def test_the_stored_rows_rebuild_train_test_splits_parts(made, monkeypatch) -> None:
    cfg, split = made
    record = data.split_record(cfg, split)
    import sklearn.model_selection

    def refuse(*args, **kwargs):
        raise AssertionError("the stored rows should spare the split")

    monkeypatch.setattr(sklearn.model_selection, "train_test_split", refuse)
    rebuilt = data.holdout(cfg, COMMITTED, known=record)

    for part in ("X_train", "X_test"):
        pd.testing.assert_frame_equal(getattr(rebuilt.split, part), getattr(split.split, part))
    for part in ("y_train", "y_test"):
        pd.testing.assert_series_equal(getattr(rebuilt.split, part), getattr(split.split, part))
    assert rebuilt.sha256 == split.sha256
    assert rebuilt.classes == split.classes


@pytest.mark.parametrize(
    "change",
    [{"test_size": 0.25}, {"random_state": 7}],
    ids=["test_size", "random_state"],
)
def test_other_settings_split_again(made, change) -> None:
    cfg, split = made
    record = data.split_record(cfg, split)
    other = dataclasses.replace(cfg, **change)
    assert data.known_rows(record, other, split.dataset) is None
    assert data.holdout(other, COMMITTED, known=record).sha256 != split.sha256


def test_another_file_splits_again(made, tmp_path) -> None:
    cfg, split = made
    record = data.split_record(cfg, split)
    shorter = tmp_path / "obesity.csv"
    lines = COMMITTED.read_text().splitlines(keepends=True)
    shorter.write_text("".join(lines[:-40]))
    assert data.known_rows(record, cfg, data.load(shorter, cfg.schema)) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda r: {**r, "test": r["test"][:-1]},  # a row missing
        lambda r: {**r, "train": r["train"] + r["test"][:1]},  # a row twice
        lambda r: {**r, "test": "0,1,2"},  # not a list
        lambda r: {**r, "test": [str(i) for i in r["test"]]},  # not positions
        lambda r: {k: v for k, v in r.items() if k != "key"},  # no key
    ],
    ids=["missing", "twice", "not-a-list", "not-positions", "no-key"],
)
def test_a_damaged_record_is_ignored(made, damage) -> None:
    cfg, split = made
    assert data.known_rows(damage(data.split_record(cfg, split)), cfg, split.dataset) is None
    assert data.known_rows(None, cfg, split.dataset) is None
