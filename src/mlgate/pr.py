"""The pull-request check in one process (`mlgate pr`): what changed, where to compare, the gate.

1. Revisions. GitHub checks out a merge commit (`refs/pull/N/merge`): its first parent is the base
   the PR is merged into and its second the PR's head. The event's `pull_request.base.sha` is
   the base branch when the event was created and can be stale, so the merge commit's parents
   win; a merge queue's event names its own `base_sha` and `head_sha`.
2. Did a training input change? `git diff` of the files the fingerprint reads
   (`fingerprint.input_paths`) between the base and the working tree. None changed: nothing to
   gate, and the report says so for the head it describes (it replaces an older verdict).
3. The registry: the configured one (`--tracking-uri`, MLFLOW_TRACKING_URI, or an http(s) URI in
   params.yaml), else a job-local sqlite registry in a temporary folder. In the job-local one the
   base commit's model is trained (the base's params.yaml and data file, read from git, trained by
   the code installed now, i.e. the PR's) and made champion, so the gate compares the PR with its
   base on the same holdout. The report says when the comparison ran there.
4. Train and register the challenger, gate it (`challenge.run_gate`, which sets `pr-<N>` on a
   pass), and return everything the CLI writes: report, JSON verdict, Actions outputs.

Why one process: every `mlgate` process pays for importing MLflow and scikit-learn; the PR check
used to pay it four times.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import data, github, report, verdict
from .champion import Who, make_champion
from .config import Params, resolve_tracking_uri
from .errors import UsageError
from .fingerprint import input_paths, of_revision, of_worktree
from .git import git, resolve
from .policy import PolicyChange, binding, commit

if TYPE_CHECKING:
    from .challenge import GateRun
    from .registry import Registry
    from .train import TrainResult

__all__ = [
    "LOCAL_REGISTRY",
    "PrCheck",
    "Revisions",
    "changed_inputs",
    "check",
    "publish",
    "render_markdown",
    "render_text",
    "revisions",
]

LOCAL_REGISTRY = "job-local"


@dataclass(frozen=True)
class Revisions:
    """The commits a PR check compares: `base` (the champion's side) and `head` (the PR's)."""

    base: str
    head: str  # the PR's head commit: the one the report describes
    tree: str  # the commit checked out (GitHub's merge commit of head into base)
    base_from: str  # how the base was found, for the report


@dataclass(frozen=True)
class PrCheck:
    """What `mlgate pr` found and did."""

    revisions: Revisions
    pr_number: str | None
    changed: tuple[str, ...]  # training inputs that differ from the base; () nothing to gate
    registry: str | None = None  # "remote" or LOCAL_REGISTRY; None when nothing was gated
    base_version: str | None = None  # job-local: the base commit's model, made champion
    notes: tuple[str, ...] = ()  # what a reader of the verdict must know about the comparison
    trained: TrainResult | None = None
    gate: GateRun | None = None

    @property
    def gated(self) -> bool:
        return self.gate is not None

    @property
    def passed(self) -> bool:
        return self.gate is None or self.gate.result.passed

    @property
    def headline(self) -> str:
        if self.gate is None:
            return f"nothing to gate at {self.revisions.head[:7]}"
        return f"{self.gate.result.verdict} at {self.revisions.head[:7]}"

    def context_json(self) -> dict[str, Any]:
        rev = self.revisions
        return {
            "pr_number": self.pr_number,
            "head_sha": rev.head,
            "base_sha": rev.base,
            "tree_sha": rev.tree,
            "base_from": rev.base_from,
            "changed_inputs": list(self.changed),
            "registry": self.registry,
            "base_version": self.base_version,
            "notes": list(self.notes),
            # The rules the PR changed (None: none): the verdict above used the base's.
            "policy_change": (
                self.gate.policy.to_json() if self.gate and self.gate.policy else None
            ),
        }

    def to_json(self) -> dict[str, Any]:
        """The gate's JSON verdict (verdict.py's format) with a `pr` section."""
        if self.gate is None:
            return {"pr": self.context_json()}
        payload = verdict.to_json(self.gate.result, self.gate.links)
        return {**payload, "pr": self.context_json()}


# --- revisions and changes ---------------------------------------------------------------------


def revisions(
    root: str | Path = ".",
    base: str | None = None,
    head: str | None = None,
    event: dict[str, Any] | None = None,
) -> Revisions:
    """Base and head of the check: explicit arguments, else the merge commit's parents, else the
    event's (a merge queue's `base_sha`, a PR's base merged with HEAD)."""
    event = github.event() if event is None else event
    tree = _commit(root, "HEAD")
    parents = (git(root, "rev-list", "--parents", "-n", "1", tree) or "").split()[1:]
    queue = event.get("merge_group") or {}
    pull = event.get("pull_request") or {}
    if base:
        found, how = _commit(root, base), "--base"
    elif queue.get("base_sha"):
        found, how = _commit(root, queue["base_sha"]), "the merge queue's base_sha"
    elif len(parents) == 2:
        # refs/pull/N/merge: the first parent is the base branch the merge was computed on, even
        # when the event's base.sha names an older tip of it.
        found, how = parents[0], "the merge commit's first parent"
    elif (pull.get("base") or {}).get("sha"):
        tip = _commit(root, pull["base"]["sha"])
        found, how = git(root, "merge-base", tip, tree) or tip, "merge-base with the PR's base"
    else:
        raise UsageError(
            f"cannot tell the PR's base: HEAD ({tree[:12]}) is not a merge commit and no"
            " pull_request/merge_group event is at hand; pass --base SHA"
        )
    if head:
        described = _commit(root, head)
    elif queue.get("head_sha"):
        described = queue["head_sha"]
    elif len(parents) == 2 and not base:
        described = parents[1]
    else:
        described = (pull.get("head") or {}).get("sha") or tree
    return Revisions(base=found, head=described, tree=tree, base_from=how)


def changed_inputs(
    root: str | Path, params: Params, params_path: str, base: str
) -> tuple[str, ...]:
    """The training inputs (files the fingerprint reads) that differ between `base` and the
    working tree."""
    out = git(
        root, "diff", "--name-only", "--no-renames", base, "--", *input_paths(params, params_path)
    )
    return tuple(out.splitlines()) if out else ()


def _commit(root: str | Path, rev: str) -> str:
    sha = resolve(root, rev)
    if sha is None:
        raise UsageError(
            f"git revision {rev!r} not found in {Path(root).resolve()}; check out with"
            " fetch-depth: 0 (actions/checkout) or fetch it"
        )
    return sha


# --- the check ---------------------------------------------------------------------------------


def check(
    params: Params,
    *,
    params_path: str = "params.yaml",
    root: str | Path = ".",
    tracking_uri: str | None = None,
    base: str | None = None,
    head: str | None = None,
    pr: str | None = None,
    event: dict[str, Any] | None = None,
    policy_from: str | None = None,
) -> PrCheck:
    """The whole PR check; see the module docstring. Returns before importing MLflow when no
    training input changed."""
    event = github.event() if event is None else event
    revs = revisions(root, base, head, event)
    number = pr or github.pr_number(event)
    if policy_from is not None:
        commit(policy_from, root)  # a wrong --policy-from is an error even with nothing to gate
    changed = changed_inputs(root, params, params_path, revs.base)
    if not changed:
        return PrCheck(revisions=revs, pr_number=number, changed=())
    # The PR's model is trained below: a value its estimator refuses is the PR's error (exit 2),
    # found before any registry is opened or the base's model trained.
    from .train import build_pipeline

    build_pipeline(params, root)
    # The rules that judge the PR are the base's (policy.py), never the PR's own params.yaml.
    judged, change = binding(params, policy_from or revs.base, root, params_path)
    uri = _configured_uri(params, tracking_uri)
    if uri is not None:
        from .registry import connect

        return _gate(connect(uri), judged, change, revs, number, changed, "remote", None, ())
    with tempfile.TemporaryDirectory(prefix="mlgate-pr-", dir=os.environ.get("RUNNER_TEMP")) as tmp:
        registry = _local_registry(Path(tmp), params)
        # Made champion under the binding rules' alias: a PR renaming `promotion.champion_alias`
        # must not leave the gate without a champion to compare with.
        base_version, notes = _base_champion(registry, judged, params_path, root, revs, Path(tmp))
        return _gate(
            registry, judged, change, revs, number, changed, LOCAL_REGISTRY, base_version, notes
        )


def _configured_uri(params: Params, override: str | None) -> str | None:
    """A registry someone configured: --tracking-uri, MLFLOW_TRACKING_URI, or a server URI in
    params.yaml. params.yaml's local sqlite default is not one: a PR job must not write the
    checkout's database."""
    uri = resolve_tracking_uri(params, override)
    explicit = override or os.environ.get("MLFLOW_TRACKING_URI")
    return uri if explicit or uri.startswith(("http://", "https://", "databricks")) else None


def _local_registry(folder: Path, params: Params) -> Registry:
    from .registry import connect

    registry = connect(f"sqlite:///{folder / 'registry.db'}")
    registry.ensure_experiment(params.mlflow.experiment_name, str(folder / "artifacts"))
    return registry


def _base_champion(
    registry: Registry,
    params: Params,
    params_path: str,
    root: str | Path,
    revs: Revisions,
    folder: Path,
) -> tuple[str | None, tuple[str, ...]]:
    """Train the base commit's model into the job-local registry and make it champion.

    Its params.yaml and data file come from git at the base; the code and packages are the ones
    running (the PR's). Its fingerprint says so: base params and data, this tree's code and lock.
    """
    from .train import train

    short = revs.base[:7]
    local = f"Compared in a {LOCAL_REGISTRY} registry (no MLflow registry configured):"
    found = of_revision(revs.base, params_path, root)
    if found is None:
        return None, (
            f"{local} base {short} has no usable {params_path} or data file, so there is no"
            " champion and only the absolute thresholds apply.",
        )
    name = params.mlflow.registered_model_name
    base_params = replace(found.params, mlflow=replace(params.mlflow, registered_model_name=name))
    data_file = folder / "base" / base_params.data.path
    data_file.parent.mkdir(parents=True, exist_ok=True)
    data_file.write_bytes(git(root, "show", f"{revs.base}:{base_params.data.path}", binary=True))
    fingerprint = of_worktree(base_params, data_file, root)
    trained = train(
        base_params,
        registry,
        data.holdout(base_params.data, data_file),
        fingerprint=fingerprint,
        context_tags={"git_sha": revs.base},
        figure_path=folder / "base" / "confusion_matrix.png",
    )
    make_champion(
        registry,
        name,
        trained.version,
        cfg=params.promotion,
        who=Who(actor="mlgate pr", commit=revs.base),
        reason=f"base {short} of the pull request (job-local registry)",
        kind="promote",
    )
    same = (fingerprint.code_sha256, fingerprint.packages) == (found.code_sha256, found.packages)
    return trained.version, (
        f"{local} the champion v{trained.version} is base {short}'s model, trained from its"
        f" params.yaml and data by this pull request's own code and packages (the PR"
        f" {'does not change' if same else 'changes'} the training code or locked model"
        " packages the fingerprint hashes).",
    )


def _gate(
    registry: Registry,
    params: Params,
    policy: PolicyChange,
    revs: Revisions,
    number: str | None,
    changed: tuple[str, ...],
    kind: str,
    base_version: str | None,
    notes: tuple[str, ...],
) -> PrCheck:
    from .challenge import run_gate
    from .train import train

    trained = train(
        params, registry, data.holdout(params.data), context_tags=github.context_tags(number)
    )
    gate = run_gate(
        registry,
        params,
        data_path=params.data.path,
        challenger_ref=trained.version,
        pr_number=number,
        policy=policy,
    )
    return PrCheck(
        revisions=revs,
        pr_number=number,
        changed=changed,
        registry=kind,
        base_version=base_version,
        notes=notes,
        trained=trained,
        gate=gate,
    )


# --- outputs -----------------------------------------------------------------------------------


def render_markdown(result: PrCheck) -> str:
    """The sticky PR comment: the marker, the gate's headline, the warning of a change to the
    rules that judge it, the head it describes and how the comparison was made, then the rest of
    the gate's report."""
    rev = result.revisions
    head = f"head `{rev.head[:7]}` (base `{rev.base[:7]}`, {rev.base_from})"
    if result.gate is None:
        return (
            f"{report.MARKER}\n## mlgate: nothing to gate at `{rev.head[:7]}`\n\n"
            "No training input (params.yaml, the data file, the training code, the lock)"
            f" differs from the base in {head}: no model was trained or judged for this push.\n"
        )
    gate = result.gate
    headline, _, body = report.render_step_summary(gate.result, gate.links).partition("\n")
    # A change to the rules that judge it is what a reviewer must see first, before the context.
    warning = report.warning(gate)
    context = [
        *([report.warning_block(warning)] if warning else []),
        f"Gate of {head}.",
        *(f"> ℹ️ {note}" for note in result.notes),
    ]
    return f"{report.MARKER}\n{headline}\n\n" + "\n\n".join(context) + "\n" + body


def render_text(result: PrCheck) -> str:
    """The terminal lines around the gate's text."""
    rev = result.revisions
    lines = [f"base {rev.base[:12]} ({rev.base_from}), head {rev.head[:12]}"]
    if result.gate is None:
        lines.append(f"mlgate pr: {result.headline} (no training input changed)")
        return "\n".join(lines)
    lines.append(f"training inputs changed: {', '.join(result.changed)}")
    lines.extend(f"note: {note}" for note in result.notes)
    lines.append(report.render_run(result.gate).rstrip("\n"))
    return "\n".join(lines)


def publish(
    result: PrCheck, *, report_path: str | None = None, json_path: str | None = None
) -> None:
    """The report (the PR comment) and JSON verdict where asked, the step summary and outputs.

    A run with nothing to gate writes a report too (it replaces an older verdict in the comment)
    but no JSON verdict, as there is none.
    """
    gate = result.gate
    github.publish(
        {
            "gated": result.gated,
            "verdict": gate.result.verdict if gate else "nothing to gate",
            "passed": result.passed,
            "head_sha": result.revisions.head,
            "base_sha": result.revisions.base,
            "registry": result.registry,
            "challenger_version": gate.challenger if gate else None,
            "champion_version": gate.champion if gate else None,
        },
        summary=[render_markdown(result).split("\n", 1)[1]],
        files=[
            (report_path, lambda: render_markdown(result)),
            (
                json_path if result.gated else None,
                lambda: json.dumps(result.to_json(), indent=2) + "\n",
            ),
        ],
    )
