from pathlib import Path

import pandas as pd
import pytest

from mlgate import data
from mlgate.errors import DataError

from ..obesity import generator, schema

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "data" / "obesity.csv"
# sha256 of the UCI file "Estimation of obesity levels based on eating habits and physical
# condition" as published (data/README.md): the committed copy must be that file, byte for byte.
UCI_SHA256 = "5e9f57cc217cc64dd0cc68f602990d8d15664be12db7bbd12dfb8b5b5a41daa4"
TARGET = "NObeyesdad"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return generator().generate(rows=600, seed=3)


def test_generator_is_deterministic(frame):
    assert generator().generate(rows=600, seed=3).equals(frame)
    assert not generator().generate(rows=600, seed=4).equals(frame)


def test_generator_matches_the_schema_in_params(frame, tmp_path):
    assert tuple(frame.columns) == tuple(schema().names)
    assert schema().classes == generator().CLASSES
    path = tmp_path / "gen.csv"
    frame.to_csv(path, index=False)
    loaded = data.load(path, schema())
    assert set(loaded.frame[TARGET]) == set(schema().classes)
    # labels follow BMI bands, with noise near the edges
    bmi = frame.Weight / frame.Height**2
    means = bmi.groupby(frame[TARGET]).mean().reindex(schema().classes)
    assert means.is_monotonic_increasing


def test_committed_dataset_is_the_real_uci_file():
    assert data.file_sha256(COMMITTED) == UCI_SHA256


def test_real_uci_file_loads_unchanged():
    dataset = data.load(COMMITTED, schema())
    assert dataset.rows_read == 2111
    assert dataset.duplicates_dropped == 24
    assert len(dataset.frame) == 2087


def _write(tmp_path, frame) -> Path:
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.drop(columns=["FAVC"]), "missing column(s) FAVC"),
        (lambda f: f.assign(Extra=1), "unexpected column(s) Extra"),
        (
            lambda f: f.assign(MTRANS=f.MTRANS.where(f.index != 3, "Rocket")),
            "unknown category 'Rocket' (CSV line 5)",
        ),
        (
            lambda f: f.assign(NObeyesdad=f.NObeyesdad.where(f.index != 7, None)),
            "column NObeyesdad has 1 missing value(s) (CSV line 9)",
        ),
        (
            lambda f: f.assign(Age=f.Age.astype(object).where(f.index != 2, "old")),
            "column Age must be numeric, got 'old' on CSV line 4",
        ),
        (
            lambda f: f.assign(Height=f.Height.where(f.index != 0, 7.5)),
            "column Height value 7.5 on CSV line 2 is outside",
        ),
        (
            lambda f: pd.concat(
                [f[f.NObeyesdad != "Normal_Weight"], f[f.NObeyesdad == "Normal_Weight"].head(1)]
            ),
            "class Normal_Weight (1) has fewer than 2 rows",
        ),
    ],
    ids=[
        "missing-column",
        "extra-column",
        "unknown-category",
        "nan-target",
        "non-numeric",
        "out-of-range",
        "rare-class",
    ],
)
def test_invalid_data_is_rejected_with_the_place(tmp_path, frame, mutate, message):
    with pytest.raises(DataError) as excinfo:
        data.load(_write(tmp_path, mutate(frame.copy())), schema())
    assert message in str(excinfo.value)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(DataError, match="data file not found"):
        data.load(tmp_path / "none.csv", schema())
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="not a readable CSV"):
        data.load(tmp_path / "empty.csv", schema())


def test_split_is_stratified_and_reproducible(frame, tmp_path):
    dataset = data.load(_write(tmp_path, frame), schema())
    a = data.split(dataset, 0.2, 42)
    b = data.split(dataset, 0.2, 42)
    assert a.holdout_sha256 == b.holdout_sha256
    assert len(a.X_test) == 120
    shares = a.y_test.value_counts(normalize=True) - dataset.frame[TARGET].value_counts(
        normalize=True
    )
    assert shares.abs().max() < 0.02
    assert data.split(dataset, 0.2, 7).holdout_sha256 != a.holdout_sha256
