"""The gate policy that judges a change comes from the protected branch, not from the change.

A pull request edits params.yaml, and params.yaml holds the rules that judge it (`gate:`) and
the release rules (`promotion:`). Judged by its own file, a PR could relax the gate in the same
commit that makes the model worse. So `gate` in a PR and `release` after a merge take those two
sections from the commit before the change (`--policy-from REV`: the PR's base, the merge's first
parent), as GitHub takes CODEOWNERS from the base branch; the change's own rules apply from the
next change on.

`binding(params, rev)` returns the params to judge with (training sections from the tree, policy
sections from `rev`) and a `PolicyChange`: which policy settings, and which files of the code that
runs the gate or of the workflows, differ between `rev` and the tree, for the report's warning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import GateConfig, Params, PromotionConfig, parse_params
from .errors import ConfigError, UsageError
from .git import git, resolve

__all__ = ["GUARDED_PATHS", "PolicyChange", "binding", "commit"]

# Files whose change alters how a model is judged or released: the package that runs the gate
# (any module runs in the gate's process), what installs it, the workflows and CODEOWNERS.
# docs/github-setup.md's CODEOWNERS lines cover the same paths.
GUARDED_PATHS = (
    ".github",
    "src/mlgate",
    "pyproject.toml",
    "requirements.lock",
    "requirements-test.lock",
)


@dataclass(frozen=True)
class PolicyChange:
    """What a change does to the rules that judge it, compared with `base`."""

    base: str  # the revision as given
    base_sha: str
    source: str  # where the binding rules came from
    settings: tuple[tuple[str, Any, Any], ...]  # (gate.margin, base value, new value)
    files: tuple[str, ...]  # changed files under GUARDED_PATHS
    new_gate: GateConfig  # the change's own rules, for information
    # The base's model.trusted_types: the skops types a stored model may hold when it is loaded.
    trusted_types: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.settings or self.files)

    @property
    def gate_settings_changed(self) -> bool:
        return any(key.startswith("gate.") for key, _, _ in self.settings)

    def describe(self) -> str:
        """One line: what changed, and that the base's rules are the binding ones."""
        parts = []
        if self.settings:
            parts.append(
                "policy "
                + ", ".join(f"{k} {_show(old)} → {_show(new)}" for k, old, new in self.settings)
            )
        if self.files:
            shown = ", ".join(self.files[:8]) + (" …" if len(self.files) > 8 else "")
            parts.append(f"gate code or workflows ({shown})")
        return (
            f"this change modifies the rules that judge it: {'; '.join(parts)}."
            f" The binding verdict uses the rules of {self.base_sha[:12]} ({self.source});"
            " the new rules apply from the next change on, after an owner's review"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base_sha,
            "source": self.source,
            "settings": [{"key": k, "base": old, "new": new} for k, old, new in self.settings],
            "files": list(self.files),
        }


def binding(
    params: Params, rev: str, root: str | Path = ".", params_path: str = "params.yaml"
) -> tuple[Params, PolicyChange]:
    """`params` with `gate:` and `promotion:` taken from revision `rev`, and what differs."""
    root = Path(root)
    sha = commit(rev, root)
    rel = _relative(params_path, root)
    text = git(root, "show", f"{sha}:{rel}", binary=True)
    base_trusted: tuple[str, ...] = ()
    if text is None:
        base_gate, base_promotion = GateConfig(), PromotionConfig()
        source = f"mlgate's defaults: {rel} does not exist there"
    else:
        try:
            base = parse_params(text.decode("utf-8", "replace"), f"{sha[:12]}:{rel}")
        except ConfigError as exc:
            base = Params()
            source = f"mlgate's defaults: {rel} is invalid there ({exc})"
        else:
            source = f"{rel} at {sha[:12]}"
        base_gate, base_promotion = base.gate, base.promotion
        base_trusted = base.model.trusted_types
    settings = (
        *_differences("gate", base_gate, params.gate),
        *_differences("promotion", base_promotion, params.promotion),
    )
    if set(base_trusted) != set(params.model.trusted_types):
        trusted = ("model.trusted_types", list(base_trusted), list(params.model.trusted_types))
        settings = (*settings, trusted)
    listed = git(root, "diff", "--name-only", sha, "--", *GUARDED_PATHS) or ""
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "--", *GUARDED_PATHS)
    files = tuple(sorted({*listed.splitlines(), *(untracked or "").splitlines()}))
    change = PolicyChange(
        base=rev,
        base_sha=sha,
        source=source,
        settings=settings,
        files=files,
        new_gate=params.gate,
        trusted_types=base_trusted,
    )
    judged = dataclasses.replace(params, gate=base_gate, promotion=base_promotion)
    return judged, change


def commit(rev: str, root: str | Path = ".") -> str:
    """The commit `--policy-from REV` names; UsageError when there is none."""
    sha = resolve(root, rev)
    if sha is None:
        raise UsageError(
            f"--policy-from {rev!r}: no such commit in {Path(root).resolve()}; fetch it"
            " (checkout with fetch-depth: 0) or name the base commit"
        )
    return sha


def _differences(section: str, old: Any, new: Any) -> list[tuple[str, Any, Any]]:
    out = []
    for f in dataclasses.fields(old):
        a, b = _plain(getattr(old, f.name)), _plain(getattr(new, f.name))
        if a != b:
            out.append((f"{section}.{f.name}", a, b))
    return out


def _plain(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else value


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v:g}" for k, v in sorted(value.items())) + "}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _relative(params_path: str, root: Path) -> str:
    path = Path(params_path)
    if not path.is_absolute():
        return path.as_posix()
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise UsageError(
            f"{params_path} is outside {root.resolve()}; run from the repository's top level"
        ) from None
