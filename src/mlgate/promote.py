"""Moving the champion: the alias, the Production stage, and the alias history.

MLflow has no compare-and-swap for aliases, so a move re-reads `@champion` right before writing
and aborts if it is not what the caller decided against (workflows also serialise promotions with
a concurrency group). Every move is appended to the history: one registered-model tag per move,
keyed by time and a random suffix, so concurrent writers never overwrite each other's entries.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .config import PromotionConfig
from .errors import ConflictError, NotFoundError, UsageError

if TYPE_CHECKING:
    from .registry import Registry

__all__ = [
    "HISTORY_PREFIX",
    "Move",
    "Promotion",
    "Who",
    "history",
    "make_champion",
    "record_move",
    "previous_champion",
    "UNCHANGED",
]

HISTORY_PREFIX = "mlgate.history."
# Sentinel for `expected_champion`: "don't check" (explicit overrides decide against nothing).
UNCHANGED: Any = object()


@dataclass(frozen=True)
class Who:
    """Who asked for a move, and from where."""

    actor: str
    commit: str | None = None
    run_url: str | None = None


@dataclass(frozen=True)
class Move:
    at: str
    alias: str
    from_version: str | None
    to_version: str | None
    kind: str  # release | rollback | promote | manual
    actor: str
    reason: str
    commit: str | None = None
    run_url: str | None = None
    key: str = field(default="", compare=False)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "key"}


@dataclass(frozen=True)
class Promotion:
    name: str
    version: str
    previous: str | None
    archived: list[str]
    changed: bool
    move: Move | None


def history(registry: Registry, name: str) -> list[Move]:
    """Every recorded alias move of `name`, oldest first (one registry call)."""
    tags = registry.get_model(name).tags
    moves = []
    for key in sorted(k for k in tags if k.startswith(HISTORY_PREFIX)):
        try:
            moves.append(Move(**json.loads(tags[key]), key=key))
        except (TypeError, ValueError):
            continue  # a hand-edited or foreign tag is not history
    return moves


def record_move(registry: Registry, name: str, move: Move) -> Move:
    """Append one entry; the key sorts by time and cannot collide with a concurrent writer's."""
    key = f"{HISTORY_PREFIX}{time.time_ns():020d}.{secrets.token_hex(3)}"
    from .registry import translate

    with translate(registry.uri, f"recording the move of @{move.alias}"):
        registry.client.set_registered_model_tag(name, key, json.dumps(move.to_json(), sort_keys=True))
    return Move(**move.to_json(), key=key)


def previous_champion(registry: Registry, name: str, alias: str = "champion") -> str | None:
    """The version that held `alias` before the current holder, from the history."""
    current = registry.aliases(name).get(alias)
    for move in reversed(history(registry, name)):
        if move.alias == alias and move.to_version == current and move.from_version:
            return move.from_version
    return None


def make_champion(
    registry: Registry,
    name: str,
    version: str,
    *,
    cfg: PromotionConfig,
    who: Who,
    reason: str,
    kind: str,
    expected_champion: Any = UNCHANGED,
    drop_aliases: tuple[str, ...] = (),
) -> Promotion:
    """Make `version` the champion: alias, Production stage (previous archived), history.

    Idempotent: when `version` already holds the alias (and Production), nothing is written.
    `expected_champion` is the holder the caller decided against (None: no champion); if the
    alias moved since, ConflictError is raised before anything changes.
    Order of writes: stage, then alias, then history. A crash between them leaves a state that
    re-running the same command completes (each step checks before it writes).
    """
    if not reason.strip():
        raise UsageError("a reason is required for every champion move (pass --reason TEXT)")
    target = registry.get_version(name, version)  # unknown version -> exit 2, before any write
    if target.status not in ("READY", "", None):
        raise UsageError(f"{name} v{version} is {target.status}, not READY; wait or pick another")
    alias = cfg.champion_alias
    current = registry.aliases(name).get(alias)
    if expected_champion is not UNCHANGED and current != expected_champion and current != str(version):
        raise ConflictError(
            f"@{alias} of {name} moved to v{current} (expected"
            f" {'v' + expected_champion if expected_champion else 'no champion'}) while this ran;"
            " re-run to decide against the new champion"
        )
    archived = _to_production(registry, name, target) if cfg.use_stages else []
    move = None
    if current != str(version):
        # Last re-read before the alias write: the narrowest window MLflow allows.
        latest = registry.aliases(name).get(alias)
        if latest != current:
            raise ConflictError(
                f"@{alias} of {name} moved to v{latest} during this promotion; re-run to retry"
            )
        registry.set_alias(name, alias, str(version))
        move = record_move(
            registry,
            name,
            Move(
                at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                alias=alias,
                from_version=current,
                to_version=str(version),
                kind=kind,
                actor=who.actor,
                reason=reason,
                commit=who.commit,
                run_url=who.run_url,
            ),
        )
        registry.set_version_tags(
            name, str(version), {"mlgate.champion_since": move.at, "mlgate.promoted_by": who.actor}
        )
    for extra in drop_aliases:
        holders = registry.aliases(name)
        if holders.get(extra) == str(version):
            registry.delete_alias(name, extra)
    return Promotion(
        name=name,
        version=str(version),
        previous=current,
        archived=archived,
        changed=move is not None or bool(archived),
        move=move,
    )


def _to_production(registry: Registry, name: str, target: Any) -> list[str]:
    """Move `target` to Production, archiving the others in the same server-side transaction."""
    others = [
        v.version
        for v in registry.versions(name)
        if v.current_stage == "Production" and v.version != target.version
    ]
    if target.current_stage != "Production" or others:
        registry.transition(name, target.version, "Production", archive_existing=True)
    return others


def require_history(registry: Registry, name: str, alias: str) -> list[Move]:
    moves = [m for m in history(registry, name) if m.alias == alias]
    if not moves:
        raise NotFoundError(f"{name} has no recorded @{alias} moves; nothing to roll back to")
    return moves
