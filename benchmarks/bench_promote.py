"""Time `mlgate promote` with the gate's stored evidence against the same move without it.

One project is built once (embedded sqlite registry, real CLI): `train` (v1), `promote` v1,
`train` after a change to model.params (v2), `gate` (v2 against v1: the gate stores both models'
predictions on the holdout, and the split's row positions, with v2's run). Each repetition copies
that project three times:

  evidence    v2's stored gate record as the gate wrote it: the card is written from it
  no evidence the same record without `predictions` and `split` (what a gate before they were
              stored left): the command loads v1 and v2 from the registry to score the holdout
  before      the same project moved by mlgate as it was before champion moves reused evidence
              (commit BEFORE, its src/ taken from this repository's git history and run with
              this interpreter and these packages; params.yaml without the keys it did not know
              yet, which a promotion does not read)

and runs `mlgate promote obesity_classifier 2 Production --reason bench` in each, rotating which
goes first. `evidence` and `no evidence` must end with v2 champion and the same model card (same
numbers, whichever way the predictions were obtained). Prints the medians and the paired ratios.

Python's bytecode cache is on (PYTHONDONTWRITEBYTECODE is dropped), as in an installed package:
the template's build writes it. `--no-bytecode-cache` makes every command compile what it imports,
as the first command of a fresh CI job does.

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
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MODEL = "obesity_classifier"
CHALLENGER_PARAMS = {"n_estimators": 150, "max_depth": 20, "random_state": 7}
PROMOTE = ["promote", MODEL, "2", "Production", "--reason", "bench"]
# The last commit before champion moves wrote the card from the gate's stored evidence.
BEFORE = "f08df7b"
VARIANTS = ("evidence", "no evidence", "before")
BYTECODE: dict[str, Any] = {"cache": True, "prefix": None}


def environment(src: Path | None = None) -> dict[str, str]:
    # No MLFLOW_TRACKING_URI: params.yaml's embedded registry in the project folder.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLFLOW_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not BYTECODE["cache"]:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = BYTECODE["prefix"]  # empty: no cached bytecode found
    if src is not None:  # another mlgate's source ahead of the installed one
        env["PYTHONPATH"] = str(src)
    return env


def run(
    mlgate: str, args: list[str], cwd: Path, ok: tuple[int, ...] = (0,), src: Path | None = None
) -> float:
    command = [mlgate, *args]
    if src is not None:
        command = [sys.executable, "-c", "import sys; from mlgate.cli import main; main()", *args]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=environment(src), capture_output=True, text=True)
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


def before_source(tmp: Path) -> Path:
    """src/ of mlgate at BEFORE, from this repository's history."""
    dest = tmp / "before"
    dest.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", BEFORE, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "src"


def copy(template: Path, dest: Path, variant: str) -> Path:
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
    if "split" not in payload:
        sys.exit("the gate stored no split: the card would split the data again")
    if variant != "evidence":
        del payload["predictions"], payload["split"]
        records[0].write_text(json.dumps(payload))
    if variant == "before":
        path = dest / "params.yaml"
        path.write_text(before_params(path.read_text()))
    return dest


def before_params(text: str) -> str:
    """params.yaml as BEFORE's parser reads it: the keys added since then (which it refuses and a
    promotion does not use) dropped, `model.estimator` under its old name `model.type`."""
    import yaml

    raw = yaml.safe_load(text)
    known = yaml.safe_load(
        subprocess.run(
            ["git", "-C", str(REPO), "show", f"{BEFORE}:params.yaml"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    raw["model"]["type"] = raw["model"].pop("estimator")
    kept = {}
    for section, values in raw.items():
        if section not in known:
            continue
        if isinstance(values, dict):
            values = {k: v for k, v in values.items() if k in known[section]}
        kept[section] = values
    return yaml.safe_dump(kept, sort_keys=False)


def card(project: Path) -> str:
    """The champion's card, its move times masked (the two promotions run seconds apart)."""
    text = (project / "model_cards" / f"{MODEL}.md").read_text()
    return re.sub(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?Z?", "<time>", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="promotions timed per variant")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="every command compiles what it imports (a fresh CI job's first command)",
    )
    args = parser.parse_args()

    import mlflow

    mlgate = str(Path(sys.executable).with_name("mlgate"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-promote-"))
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    loads = [os.getloadavg()[0]]
    try:
        before = before_source(tmp)
        template = build(mlgate, tmp / "template")
        for variant in VARIANTS:  # untimed: writes the bytecode of BEFORE's modules too
            project = copy(template, tmp / f"warm-{variant}".replace(" ", "-"), variant)
            run(mlgate, PROMOTE, project, src=before if variant == "before" else None)
            shutil.rmtree(project)
        BYTECODE["cache"] = not args.no_bytecode_cache
        BYTECODE["prefix"] = str(tmp / "no-pycache")
        for rep in range(args.repeats):
            order = VARIANTS[rep % 3 :] + VARIANTS[: rep % 3]
            cards = {}
            for variant in order:
                project = copy(template, tmp / f"{variant}-{rep}".replace(" ", "-"), variant)
                src = before if variant == "before" else None
                times[variant].append(run(mlgate, PROMOTE, project, src=src))
                cards[variant] = card(project)
                shutil.rmtree(project)
            if cards["evidence"] != cards["no evidence"]:
                sys.exit("the card written from the stored evidence differs from the loaded one")
            loads.append(os.getloadavg()[0])
            print(
                f"  rep {rep + 1}: "
                + "  ".join(f"{v} {times[v][-1]:.2f} s" for v in VARIANTS)
                + f"  (load {loads[-1]:.1f})",
                flush=True,
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"\nPython {platform.python_version()}, mlflow {mlflow.__version__}, {os.cpu_count()}"
        f" cores; {args.repeats} promotions per variant, embedded sqlite registry; bytecode"
        f" cache {'off' if args.no_bytecode_cache else 'on'}; load average (1 min)"
        f" {min(loads):.1f}-{max(loads):.1f}"
    )
    print(f"command: mlgate {' '.join(PROMOTE)}; before = {BEFORE}\n")
    print(f"| {'variant':<12} | {'median s':>8} | {'min s':>6} | {'max s':>6} |")
    print(f"|{'-' * 14}|{'-' * 9}:|{'-' * 7}:|{'-' * 7}:|")
    for variant, values in times.items():
        print(
            f"| {variant:<12} | {statistics.median(values):>8.2f} | {min(values):>6.2f}"
            f" | {max(values):>6.2f} |"
        )
    # The variants of a repetition run back to back, so their ratio cancels most of a shared
    # machine's changing load; the median of those ratios is the figure to quote.
    for baseline in ("no evidence", "before"):
        paired = [e / b for e, b in zip(times["evidence"], times[baseline], strict=True)]
        print(
            f"\nevidence / {baseline}: paired median {statistics.median(paired):.2f}x"
            f" (per repetition: {', '.join(f'{r:.2f}' for r in paired)}); ratio of medians"
            f" {statistics.median(times['evidence']) / statistics.median(times[baseline]):.2f}x"
        )


if __name__ == "__main__":
    main()
