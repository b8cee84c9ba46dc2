"""Write the examples' CSVs from datasets that ship inside scikit-learn (nothing is downloaded).

    python examples/make_data.py

- diabetes/data/diabetes.csv: load_diabetes(scaled=False), 442 patients, ten baseline variables
  and `progression`, a quantitative measure of disease progression one year later (regression).
  Sex is coded 1/2 in the source; the numbers are kept as they are.
- breast_cancer/data/breast_cancer.csv: load_breast_cancer(), 569 tumours, 30 measurements and
  `diagnosis` (malignant | benign; binary classification).

Deterministic: the same scikit-learn release writes the same bytes (a test checks the committed
files against this script's output).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from sklearn.datasets import load_breast_cancer, load_diabetes

HERE = Path(__file__).resolve().parent


def diabetes() -> pd.DataFrame:
    frame = load_diabetes(scaled=False, as_frame=True).frame.rename(
        columns={"target": "progression"}
    )
    # Whole numbers (age, sex, cholesterol counts, the target) are written without a ".0".
    for column in frame.columns:
        if (frame[column] == frame[column].round()).all():
            frame[column] = frame[column].astype(int)
    return frame


def breast_cancer() -> pd.DataFrame:
    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.drop(columns=["target"])
    frame["diagnosis"] = bunch.target_names[bunch.target]
    return frame


FILES = {
    "diabetes/data/diabetes.csv": diabetes,
    "breast_cancer/data/breast_cancer.csv": breast_cancer,
}


def main() -> int:
    for relative, build in FILES.items():
        path = HERE / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        build().to_csv(path, index=False)
        print(f"wrote {path.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
