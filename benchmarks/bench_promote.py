"""Time `mlgate promote` with the gate's stored evidence against the same move without it.

One project is built once (embedded sqlite registry, real CLI): `train` (v1), `promote` v1,
`train` after a change to model.params (v2), `gate` (v2 against v1: the gate stores both models'
predictions on the holdout with v2's run). Each repetition copies that project twice:

  evidence    v2's stored gate record as the gate wrote it: the card is written from it
  no evidence the same record without its `predictions` (what a gate before they were stored
              left): the command loads v1 and v2 from the registry to score the holdout

and runs `mlgate promote obesity_classifier 2 Production --reason bench` in each, alternating
which goes first. Both must end with v2 champion and the same model card (same numbers, whichever
way the predictions were obtained). Prints the medians and their ratio.

    .venv/bin/python benchmarks/bench_promote.py --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODEL = "obesity_classifier"
CHALLENGER_PARAMS = {"n_estimators": 150, "max_depth": 20, "random_state": 7}
PROMOTE = ["promote", MODEL, "2", "Production", "--reason", "bench"]


def environment() -> dict[str, str]:
    # No MLFLOW_TRACKING_URI: params.yaml's embedded registry in the project folder.
    return {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLFLOW_"))}


def run(mlgate: str, args: list[str], cwd: Path, ok: tuple[int, ...] = (0,)) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [mlgate, *args], cwd=cwd, env=environment(), capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode not in ok:
        sys.exit(f"mlgate {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return seconds


def build(mlgate: str, root: Path) -> Path:
    import yaml

    root.mkdir(parents=True)
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    shutil.copytree(REPO / "data", root / "data")
    run(mlgate, ["train"], root)
    run(mlgate, ["promote", MODEL, "1", "Production", "--reason", "base"], root)
    raw = yaml.safe_load((root / "params.yaml").read_text())
    raw["model"]["params"] = CHALLENGER_PARAMS
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    run(mlgate, ["train"], root)
    run(mlgate, ["gate"], root, ok=(0, 1))
    return root


def copy(template: Path, dest: Path, evidence: bool) -> Path:
    """A copy of the project; MLflow stores absolute artifact paths, rewritten to the copy."""
    shutil.copytree(template, dest)
    with sqlite3.connect(dest / "mlflow.db") as db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
            for column in db.execute(f'PRAGMA table_info("{table}")').fetchall():
                if "CHAR" in column[2].upper() or "TEXT" in column[2].upper():
                    db.execute(
                        f'UPDATE "{table}" SET "{column[1]}" = replace("{column[1]}", ?, ?)'
                        f' WHERE instr("{column[1]}", ?) > 0',
                        (str(template), str(dest), str(template)),
                    )
    records = list(dest.rglob("mlgate/gate.json"))
    if len(records) != 1:
        sys.exit(f"expected one stored gate record in {dest}, found {len(records)}")
    payload = json.loads(records[0].read_text())
    if "predictions" not in payload:
        sys.exit("the gate stored no predictions: nothing to compare")
    if not evidence:
        del payload["predictions"]
        records[0].write_text(json.dumps(payload))
    return dest


def card(project: Path) -> str:
    """The champion's card, its move times masked (the two promotions run seconds apart)."""
    text = (project / "model_cards" / f"{MODEL}.md").read_text()
    return re.sub(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?Z?", "<time>", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="promotions timed per variant")
    args = parser.parse_args()

    import mlflow

    mlgate = str(Path(sys.executable).with_name("mlgate"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-promote-"))
    times: dict[str, list[float]] = {"evidence": [], "no evidence": []}
    try:
        template = build(mlgate, tmp / "template")
        for rep in range(args.repeats):
            order = ["evidence", "no evidence"] if rep % 2 == 0 else ["no evidence", "evidence"]
            cards = {}
            for variant in order:
                project = copy(
                    template, tmp / f"{variant}-{rep}".replace(" ", "-"), variant == "evidence"
                )
                times[variant].append(run(mlgate, PROMOTE, project))
                cards[variant] = card(project)
                shutil.rmtree(project)
            if cards["evidence"] != cards["no evidence"]:
                sys.exit("the card written from the stored evidence differs from the loaded one")
            print(
                f"  rep {rep + 1}: "
                + "  ".join(f"{v} {times[v][-1]:.2f} s" for v in ("evidence", "no evidence")),
                flush=True,
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"\nPython {platform.python_version()}, mlflow {mlflow.__version__}, {os.cpu_count()}"
        f" cores; {args.repeats} promotions per variant, embedded sqlite registry"
    )
    print(f"command: mlgate {' '.join(PROMOTE)}\n")
    print(f"| {'variant':<12} | {'median s':>8} |")
    print(f"|{'-' * 14}|{'-' * 9}:|")
    for variant, values in times.items():
        print(f"| {variant:<12} | {statistics.median(values):>8.2f} |")
    ratio = statistics.median(times["evidence"]) / statistics.median(times["no evidence"])
    # The two variants of a repetition run back to back, so their ratio cancels most of a
    # shared machine's changing load; the median of those ratios is the figure to quote.
    paired = [e / n for e, n in zip(times["evidence"], times["no evidence"], strict=True)]
    print(f"\nwith evidence / without: {ratio:.2f}x (ratio of medians)")
    print(
        f"paired ratio, median of {len(paired)}: {statistics.median(paired):.2f}x"
        f" (per repetition: {', '.join(f'{r:.2f}' for r in paired)})"
    )


if __name__ == "__main__":
    main()
