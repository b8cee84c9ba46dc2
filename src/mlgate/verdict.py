"""The JSON verdict: the gate's `--json` file, and the record stored with the challenger's run.

`to_json` writes it; `save` stores it as the run's `mlgate/gate.json`; `load` reads back the part
later steps rely on (`GateSummary`: the model card shows it). The stored record and the PR's
`--json` file are one format, so what a card cites is what the PR showed.

`to_json` returns the verdict, `schema_version` 1 (full description in
docs/gate-json-schema.md). Keys are stable; a change that removes or renames one bumps
`schema_version`. Numbers are plain floats, and absent values are `null`:

    schema_version, verdict ("pass" | "fail" | "pass (no champion)"), passed, mode,
    comparable, note, challenger {version, run_id}, champion {version, run_id} | null,
    holdout {sha256, n_rows}, policy {primary_metric, margin, thresholds, max_class_drop,
    alpha, confidence, n_bootstrap, seed, interval, allow_schema_change, max_size_ratio,
    max_latency_ratio}, metrics [{metric, champion, challenger, delta, ci_lo, ci_hi, passed}],
    per_class [{class, champion_f1, challenger_f1, delta, support}],
    checks [{name, candidate, baseline, threshold, direction, passed, message}],
    mcnemar {b, c, p_value, alpha, label} | null, links {label: url}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .gate import GateResult
    from .registry import Registry

__all__ = ["GATE_ARTIFACT", "SCHEMA_VERSION", "GateSummary", "load", "save", "to_json"]

GATE_ARTIFACT = "mlgate/gate.json"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class GateSummary:
    """The verdict a version's last gate recorded (its run's gate.json)."""

    verdict: str
    champion_version: str | None
    holdout_sha256: str | None
    checks: tuple[tuple[str, bool, str], ...]  # (name, passed, message)

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> GateSummary:
        champion = payload.get("champion") or {}
        return cls(
            verdict=str(payload.get("verdict")),
            champion_version=champion.get("version"),
            holdout_sha256=(payload.get("holdout") or {}).get("sha256"),
            checks=tuple(
                (c["name"], bool(c["passed"]), c.get("message") or "")
                for c in payload.get("checks", [])
            ),
        )


def save(registry: Registry, run_id: str, result: GateResult) -> None:
    """Store the full evidence with the run: the model card and `release` read it back."""
    registry.log_run_dict(run_id, to_json(result), GATE_ARTIFACT)


def load(registry: Registry, run_id: str | None) -> GateSummary | None:
    """The recorded verdict of a run; None when it was never gated."""
    payload = registry.load_run_dict(run_id, GATE_ARTIFACT) if run_id else None
    return GateSummary.from_json(payload) if payload else None


def to_json(result: GateResult, links: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The JSON verdict (schema_version 1, see the module docstring)."""
    cfg = result.config
    ref = result.champion
    return {
        "schema_version": SCHEMA_VERSION,
        "verdict": result.verdict,
        "passed": result.passed,
        "mode": result.mode,
        "comparable": result.comparable,
        "note": result.note,
        "challenger": _ref_json(result.challenger),
        "champion": _ref_json(ref),
        "holdout": {"sha256": result.holdout.sha256, "n_rows": result.holdout.n_rows},
        "policy": {
            "primary_metric": cfg.primary_metric,
            "margin": cfg.margin,
            "thresholds": {k: float(v) for k, v in cfg.thresholds.items()},
            "max_class_drop": cfg.max_class_drop,
            "alpha": cfg.alpha,
            "confidence": cfg.confidence,
            "n_bootstrap": cfg.n_bootstrap,
            "seed": cfg.seed,
            "interval": "percentile",
            "allow_schema_change": cfg.allow_schema_change,
            "max_size_ratio": cfg.max_size_ratio,
            "max_latency_ratio": cfg.max_latency_ratio,
        },
        "metrics": [
            {
                "metric": row.metric,
                "champion": _num_json(row.champion),
                "challenger": _num_json(row.challenger),
                "delta": _num_json(row.delta),
                "ci_lo": _num_json(row.ci_lo),
                "ci_hi": _num_json(row.ci_hi),
                "passed": row.passed,
            }
            for row in result.metrics
        ],
        "per_class": [
            {
                "class": row.label,
                "champion_f1": _num_json(row.champion_f1),
                "challenger_f1": _num_json(row.challenger_f1),
                "delta": _num_json(row.delta),
                "support": row.support,
            }
            for row in result.per_class
        ],
        "checks": [
            {
                "name": c.name,
                "candidate": _num_json(c.candidate),
                "baseline": _num_json(c.baseline),
                "threshold": _num_json(c.threshold),
                "direction": c.direction,
                "passed": c.passed,
                "message": c.message,
            }
            for c in result.checks
        ],
        "mcnemar": None
        if result.mcnemar is None
        else {
            "b": result.mcnemar.b,
            "c": result.mcnemar.c,
            "p_value": _num_json(result.mcnemar.p_value),
            "alpha": result.mcnemar.alpha,
            "label": result.mcnemar.label,
        },
        "links": dict(links or {}),
    }


def _ref_json(ref: Any) -> dict[str, Any] | None:
    return None if ref is None else {"version": ref.version, "run_id": ref.run_id}


def _num_json(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
