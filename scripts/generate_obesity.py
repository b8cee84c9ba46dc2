"""A synthetic dataset with the schema of the UCI obesity file, for benchmarks and tests.

    python scripts/generate_obesity.py --rows 2111 --seed 42 --out obesity.csv

The labels follow BMI bands with noise (see `generate`), so a model's true score can be measured
on as many fresh rows as a benchmark needs. The schema is the one params.yaml declares for
data/obesity.csv; mlgate itself knows nothing about it.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2111)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default="obesity.csv")
    args = parser.parse_args(argv)
    generate(args.rows, args.seed).to_csv(args.out, index=False)
    print(f"wrote {args.out}: {args.rows} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
