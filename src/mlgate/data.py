"""The obesity dataset: schema, validating loader, seeded generator, the train/test split, and
`holdout`: the one rule (load, split, pick the classes) that training, the gate and the model card
share, so all three score the same rows over the same classes.

The schema is the one of the UCI "Estimation of obesity levels based on eating habits and physical
condition" CSV, so the real file and the generated one load through the same code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import DataError

if TYPE_CHECKING:  # pandas costs ~0.5 s to import; callers that load data pay for it
    import pandas as pd

    from .config import DataConfig

__all__ = [
    "CATEGORIES",
    "CLASSES",
    "COLUMNS",
    "NUMERIC_RANGES",
    "TARGET",
    "Dataset",
    "Holdout",
    "Split",
    "file_sha256",
    "frame_sha256",
    "generate",
    "holdout",
    "load",
    "split",
]

TARGET = "NObeyesdad"
# Ordered by BMI band, which is also the order reports and cards list them in.
CLASSES = (
    "Insufficient_Weight",
    "Normal_Weight",
    "Overweight_Level_I",
    "Overweight_Level_II",
    "Obesity_Type_I",
    "Obesity_Type_II",
    "Obesity_Type_III",
)
_FREQUENCY = ("no", "Sometimes", "Frequently", "Always")
CATEGORIES: dict[str, tuple[str, ...]] = {
    "Gender": ("Female", "Male"),
    "family_history_with_overweight": ("yes", "no"),
    "FAVC": ("yes", "no"),
    "CAEC": _FREQUENCY,
    "SMOKE": ("yes", "no"),
    "SCC": ("yes", "no"),
    "CALC": _FREQUENCY,
    "MTRANS": ("Public_Transportation", "Automobile", "Walking", "Motorbike", "Bike"),
}
# Plausible bounds: values outside are data errors, not outliers.
NUMERIC_RANGES: dict[str, tuple[float, float]] = {
    "Age": (10, 100),
    "Height": (1.2, 2.2),
    "Weight": (30, 200),
    "FCVC": (1, 3),
    "NCP": (1, 4),
    "CH2O": (1, 3),
    "FAF": (0, 3),
    "TUE": (0, 2),
}
COLUMNS = (
    "Gender",
    "Age",
    "Height",
    "Weight",
    "family_history_with_overweight",
    "FAVC",
    "FCVC",
    "NCP",
    "CAEC",
    "SMOKE",
    "CH2O",
    "SCC",
    "FAF",
    "TUE",
    "CALC",
    "MTRANS",
    TARGET,
)


@dataclass(frozen=True)
class Dataset:
    frame: pd.DataFrame
    path: str
    sha256: str
    rows_read: int
    duplicates_dropped: int

    @property
    def features(self) -> list[str]:
        return [c for c in COLUMNS if c != TARGET]


@dataclass(frozen=True)
class Split:
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series

    @property
    def holdout_sha256(self) -> str:
        """Identifies the holdout rows and labels: two gates can tell they scored the same rows."""
        return frame_sha256(self.X_test.assign(**{TARGET: self.y_test}))


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def frame_sha256(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def load(path: str | Path, target: str = TARGET) -> Dataset:
    """Read and validate the CSV; exact duplicate rows are dropped (the UCI file has 24)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: data file not found (run 'mlgate data generate' or pass --data)")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path}: not a readable CSV ({first}); check the file") from None
    _validate(frame, str(path), target)
    rows = len(frame)
    frame = frame.drop_duplicates(ignore_index=True)
    return Dataset(
        frame=frame,
        path=str(path),
        sha256=file_sha256(path),
        rows_read=rows,
        duplicates_dropped=rows - len(frame),
    )


def _validate(frame: pd.DataFrame, where: str, target: str) -> None:
    import pandas as pd

    expected = [c if c != TARGET else target for c in COLUMNS]
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise DataError(
            f"{where}: missing column(s) {', '.join(missing)}; the UCI schema needs all 17"
        )
    extra = [c for c in frame.columns if c not in expected]
    if extra:
        raise DataError(f"{where}: unexpected column(s) {', '.join(map(str, extra))}; remove them")
    for column in expected:
        nan_rows = frame.index[frame[column].isna()]
        if len(nan_rows):
            rows = ", ".join(str(i + 2) for i in nan_rows[:5])
            raise DataError(
                f"{where}: column {column} has {len(nan_rows)} missing value(s) (CSV line {rows});"
                " fill or drop those rows"
            )
    for column, (lo, hi) in NUMERIC_RANGES.items():
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = frame.index[values.isna()]
        if len(bad):
            raise DataError(
                f"{where}: column {column} must be numeric, got {frame[column][bad[0]]!r}"
                f" on CSV line {bad[0] + 2}"
            )
        out = frame.index[(values < lo) | (values > hi)]
        if len(out):
            raise DataError(
                f"{where}: column {column} value {float(values[out[0]]):g} on CSV line {out[0] + 2}"
                f" is outside [{lo:g}, {hi:g}]"
            )
    allowed = dict(CATEGORIES, **{target: CLASSES})
    for column, values in allowed.items():
        unknown = sorted(set(frame[column].astype(str)) - set(values))
        if unknown:
            line = int(frame.index[frame[column].astype(str) == unknown[0]][0]) + 2
            raise DataError(
                f"{where}: column {column} has unknown category {unknown[0]!r} (CSV line {line});"
                f" expected one of {', '.join(values)}"
            )
    counts = frame[target].value_counts()
    rare = [f"{c} ({counts.get(c, 0)})" for c in CLASSES if 0 < counts.get(c, 0) < 2]
    if rare:
        raise DataError(
            f"{where}: class {', '.join(rare)} has fewer than 2 rows; a stratified split needs"
            " at least 2 per class: add rows or remove the class"
        )
    if counts.size < 2:
        raise DataError(f"{where}: {target} has fewer than 2 classes; nothing to classify")


def split(dataset: Dataset, target: str, test_size: float, random_state: int) -> Split:
    """Stratified split: the same data and params give the same holdout, row for row."""
    from sklearn.model_selection import train_test_split

    frame = dataset.frame
    X = frame.drop(columns=[target])
    y = frame[target]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=random_state, stratify=y
    )
    return Split(X_train, X_test, y_train, y_test)


@dataclass(frozen=True)
class Holdout:
    """A loaded dataset, its split and the classes every score is computed over."""

    dataset: Dataset
    split: Split
    classes: list[str]

    @property
    def sha256(self) -> str:
        return self.split.holdout_sha256


def holdout(cfg: DataConfig, path: str | Path | None = None) -> Holdout:
    """Load, split and pick the classes: the one rule training, the gate and the card share.

    The classes are those present in the whole dataset, in CLASSES order: the labels the model
    could learn. The stratified split puts every class with enough rows into the test split, so
    this agrees with the test split's labels; where a class is too rare to reach it, it still
    counts (with F1 0) instead of silently dropping out of the macro averages.
    """
    dataset = load(path or cfg.path, cfg.target)
    parts = split(dataset, cfg.target, cfg.test_size, cfg.random_state)
    present = set(dataset.frame[cfg.target])
    return Holdout(dataset, parts, [c for c in CLASSES if c in present])


# --- generator -------------------------------------------------------------------------------

# BMI bands behind the labels (WHO cut-offs, with the UCI file's split of the overweight band).
_BANDS = (18.5, 25.0, 27.5, 30.0, 35.0, 40.0)
# Class shares and P(Male | class), as in the UCI file.
_SHARE = (0.129, 0.136, 0.137, 0.137, 0.166, 0.141, 0.154)
_MALE = (0.36, 0.51, 0.50, 0.64, 0.56, 0.99, 0.01)
_BMI_RANGE = (
    (15.0, 18.5),
    (18.5, 25.0),
    (25.0, 27.5),
    (27.5, 30.0),
    (30.0, 35.0),
    (35.0, 40.0),
    (40.0, 50.0),
)


def generate(rows: int = 2111, seed: int = 42, label_noise: float = 0.6) -> pd.DataFrame:
    """A synthetic dataset with the UCI schema whose labels follow BMI bands with noise.

    Each row draws a class, then a BMI inside that class's band, a height by gender, and the
    weight that gives that BMI. The label is re-derived from BMI plus Gaussian noise of
    `label_noise` BMI units, so rows near a band edge are sometimes labelled as the neighbour:
    a good model scores about 0.9, never 1.0. Lifestyle columns lean with the BMI as in the survey.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    cls = rng.choice(len(CLASSES), size=rows, p=np.array(_SHARE) / sum(_SHARE))
    male = rng.random(rows) < np.take(_MALE, cls)
    lo, hi = np.take(_BMI_RANGE, cls, axis=0).T
    bmi = lo + (hi - lo) * rng.beta(5, 5, rows)  # most rows sit well inside their band
    height = np.clip(
        np.where(male, rng.normal(1.76, 0.075, rows), rng.normal(1.63, 0.07, rows)), 1.45, 1.98
    )
    weight = np.clip(bmi * height**2, 39, 173)
    bmi = weight / height**2
    label = np.digitize(bmi + rng.normal(0, label_noise, rows), _BANDS)
    heavy = (bmi - 17) / 33  # 0 (thin) .. 1 (very heavy): how strongly habits lean

    def pick(options: tuple[str, ...], weights: list[list[float]]) -> np.ndarray:
        # interpolate between the category weights of a thin and of a heavy person
        w = np.outer(1 - heavy, weights[0]) + np.outer(heavy, weights[1])
        w = np.clip(w, 1e-6, None)
        u = rng.random(rows)[:, None]
        return np.array(options)[(np.cumsum(w / w.sum(1, keepdims=True), 1) < u).sum(1)]

    # Each class has its own habit profile, as the survey's respondents (and the UCI file's
    # oversampled rows) cluster by class; a fixed seed keeps the profiles the same for all seeds.
    profile = np.random.default_rng(2019).random((len(CLASSES), 6))

    def scale(low: float, high: float, trait: int, spread: float) -> np.ndarray:
        center = low + (high - low) * (0.15 + 0.7 * profile[cls, trait])
        value = np.clip(center + rng.normal(0, spread, rows), low, high)
        # the survey answers are integers; the UCI file's oversampled rows are not
        return np.where(rng.random(rows) < 0.5, np.round(value), np.round(value, 6))

    frame = pd.DataFrame(
        {
            "Gender": np.where(male, "Male", "Female"),
            "Age": np.round(np.clip(rng.gamma(9, 1.2, rows) + 8 + 18 * profile[cls, 5], 14, 61), 1),
            "Height": np.round(height, 2),
            "Weight": np.round(weight, 1),
            "family_history_with_overweight": pick(("yes", "no"), [[0.45, 0.55], [0.98, 0.02]]),
            "FAVC": pick(("yes", "no"), [[0.75, 0.25], [0.95, 0.05]]),
            "FCVC": scale(1, 3, 0, 0.35),
            "NCP": scale(1, 4, 1, 0.5),
            "CAEC": pick(_FREQUENCY, [[0.03, 0.65, 0.27, 0.05], [0.02, 0.93, 0.03, 0.02]]),
            "SMOKE": pick(("yes", "no"), [[0.02, 0.98], [0.02, 0.98]]),
            "CH2O": scale(1, 3, 2, 0.35),
            "SCC": pick(("yes", "no"), [[0.09, 0.91], [0.01, 0.99]]),
            "FAF": scale(0, 3, 3, 0.45),
            "TUE": scale(0, 2, 4, 0.3),
            "CALC": pick(_FREQUENCY, [[0.40, 0.55, 0.05, 0.0], [0.20, 0.78, 0.02, 0.0]]),
            "MTRANS": pick(
                CATEGORIES["MTRANS"],
                [[0.70, 0.20, 0.06, 0.02, 0.02], [0.76, 0.22, 0.01, 0.005, 0.005]],
            ),
            TARGET: np.take(CLASSES, label),
        }
    )
    return frame
