"""`mlgate init`: put mlgate into an existing git repository.

Writes params.yaml (its `data:` block inferred from a CSV when one is given), the four workflows,
model_cards/ and a block of .gitignore lines. `plan` decides every file's content and whether it
would be created, overwritten or left alone; `apply` writes them. An existing file that would
change is an error unless `force`, and then nothing at all is written.

The workflows are short: each job checks out and calls mlgate's GitHub Action (action.yml at the
root of mlgate's repository), pinned to a full commit SHA with the version in a comment, the form
Dependabot updates. The action installs the repository's requirements.lock (or mlgate's) and
mlgate itself with hashes, reads the model's name from params.yaml at run time, and holds the
steps, so an upgrade is one reviewed line per job. Their security shape (permissions, the
comment workflow that never runs PR code, the production environment) is that of mlgate's own
.github/workflows, which a test compares job by job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from . import schema as schema_mod
from .data import read_csv
from .errors import UsageError
from .estimators import ALIASES
from .schema_inference import infer
from .task import CLASSIFICATION, REGRESSION
from .task import DEFAULT as DEFAULT_TASK
from .task import NAMES as TASK_NAMES
from .task import named as task_named

__all__ = [
    "DOCS_SECTIONS",
    "GITIGNORE_BEGIN",
    "GITIGNORE_END",
    "WORKFLOWS",
    "Action",
    "Plan",
    "PlannedFile",
    "action_pin",
    "apply",
    "next_steps",
    "plan",
    "template",
    "workflow",
]

WORKFLOWS = ("ci.yml", "pr.yml", "pr-comment.yml", "promote.yml")
GITIGNORE_BEGIN = "# >>> mlgate"
GITIGNORE_END = "# <<< mlgate"
# docs/github-setup.md's sections that the next steps link to (anchors as GitHub renders them).
DOCS_SECTIONS = {
    "secrets": "1-secrets-two-credentials",
    "environment": "2-the-production-environment",
    "protection": "3-branch-protection-on-main",
}
_LABELS = {"r2": "R²"}  # how params.yaml's comments name a metric
_GATE = {
    CLASSIFICATION: (
        "  primary_metric: f1_macro\n"
        "  # Non-inferiority margin: the largest macro-F1 loss a pass may hide. Three verdicts on\n"
        "  # the 95% interval [L, U] of (challenger - champion), on holdout rows neither model\n"
        "  # trained on: pass when L >= -margin, fail when L < -margin and U < 0, inconclusive\n"
        "  # otherwise. Every report states the smallest loss it blocks with 95% probability.\n"
        "  margin: 0.03\n"
        "  evidence: cv                    # an inconclusive holdout: cross-validate both configs\n"
        "  on_inconclusive: fail           # fail: block | warn: exit 0, no alias | pass\n"
        "  max_class_drop: 0.10            # no class's F1 may drop more than this\n"
        "  # Absolute floors on the holdout, the first release included: a model below one is\n"
        "  # never released, whatever the champion scores.\n"
        "  thresholds:\n"
        "    accuracy: $staging\n"
        "    f1_macro: $staging\n"
    ),
    REGRESSION: (
        "  primary_metric: rmse            # rmse | mae | r2\n"
        "  # Non-inferiority margin: the largest error increase a pass may hide, a share of the\n"
        "  # champion's error (relative) or in the target's units (absolute). Three verdicts on\n"
        "  # the 95% interval [L, U] of the increase, on holdout rows neither model trained on:\n"
        "  # pass when U <= margin, fail when U > margin and L > 0, inconclusive otherwise.\n"
        "  # mlgate's docs/performance.md measures it on a 90-row holdout.\n"
        "  margin: 0.10\n"
        "  margin_kind: relative           # relative | absolute\n"
        "  evidence: cv                    # an inconclusive holdout: cross-validate both configs\n"
        "  on_inconclusive: fail           # fail: block | warn: exit 0, no alias | pass\n"
        "  max_slice_loss: 0.10            # per value of data.slice_by, in the same units\n"
        "  # Absolute floor on the holdout, the first release included: a model below it is\n"
        "  # never released. R² 0 is what predicting the mean scores; $staging asks for that\n"
        "  # share of the target's variance explained.\n"
        "  thresholds:\n"
        "    r2: $staging\n"
    ),
}


def template(name: str) -> str:
    """A file shipped with mlgate under mlgate/templates/."""
    return resources.files("mlgate").joinpath("templates", name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Action:
    """mlgate's GitHub Action as the workflows pin it: `repository@commit # v<version>`."""

    repository: str  # OWNER/REPO
    commit: str  # 40 hex digits
    version: str  # mlgate's version at that commit, for the comment Dependabot keeps current

    @property
    def uses(self) -> str:
        return f"{self.repository}@{self.commit} # v{self.version}"

    def docs(self, page: str, section: str | None = None) -> str:
        """A page of mlgate's docs at the pinned commit, by the repository's URL."""
        anchor = f"#{DOCS_SECTIONS[section]}" if section else ""
        return f"https://github.com/{self.repository}/blob/{self.commit}/docs/{page}{anchor}"


def action_pin(given: str | None) -> Action:
    """The action to pin: `given` (OWNER/REPO@<40-hex commit>) or, when None, the repository and
    commit this mlgate was built from (`mlgate --version`)."""
    from . import __version__
    from .provenance import ACTION_REF, built_from

    if given is None:
        given = built_from()
        if given is None:
            raise UsageError(
                "this mlgate build records no repository and commit to pin its GitHub Action "
                "to; pass --action OWNER/REPO@<40-hex commit> (mlgate's repository and a commit "
                "of it)"
            )
    if not ACTION_REF.fullmatch(given):
        raise UsageError(
            f"--action {given}: pin the action to a full commit SHA, OWNER/REPO@<40 hex digits> "
            "(for a tag: git ls-remote https://github.com/OWNER/REPO TAG prints its commit)"
        )
    repository, _, commit = given.partition("@")
    return Action(repository, commit, __version__)


@dataclass(frozen=True)
class PlannedFile:
    path: Path  # relative to the repository
    content: str
    action: str  # create | overwrite | unchanged | update (the .gitignore block)


@dataclass(frozen=True)
class Plan:
    root: Path
    files: tuple[PlannedFile, ...]
    model_name: str
    schema: schema_mod.Schema | None
    action: Action
    data_path: str

    @property
    def conflicts(self) -> list[Path]:
        return [f.path for f in self.files if f.action == "overwrite"]


def plan(
    root: str | Path,
    *,
    data: str | Path | None = None,
    target: str | None = None,
    task: str | None = None,
    model_name: str | None = None,
    action: str | None = None,
) -> Plan:
    """What `init` would write into the repository at `root`, and what exists already."""
    root = Path(root)
    if not root.is_dir():
        raise UsageError(f"{root}: no such directory; create the repository first")
    if not (root / ".git").exists():
        raise UsageError(f"{root}: not the top of a git repository; run 'git init' there first")
    if (data is None) != (target is None):
        raise UsageError("give --data and --target together (the schema is inferred from both)")
    found = None
    data_path = "data/train.csv"
    if data is not None and target is not None:
        data = Path(data)
        try:
            data_path = data.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            raise UsageError(
                f"--data {data} is outside {root}; the workflows train from a file committed in "
                "the repository: copy it in first"
            ) from None
        found = infer(read_csv(data), target, task, str(data))
    name = model_name or _model_name(root)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise UsageError(f"model name {name!r} must be letters, digits, '_', '.' or '-'")
    pin = action_pin(action)  # after the data's checks: their message names the first problem
    contents = {
        Path("params.yaml"): _params(found, data_path, name, task),
        **{Path(".github/workflows") / w: workflow(w, pin) for w in WORKFLOWS},
        Path("model_cards/README.md"): template("model_cards.md"),
    }
    files = [_planned(root, path, text) for path, text in contents.items()]
    files.append(_gitignore(root))
    return Plan(root, tuple(files), name, found, pin, data_path)


def apply(planned: Plan, *, force: bool = False) -> list[PlannedFile]:
    """Write the plan; refuses (writing nothing) to overwrite a changed file, unless `force`."""
    if planned.conflicts and not force:
        listed = ", ".join(str(p) for p in planned.conflicts)
        raise UsageError(f"{listed} already exist(s) and would change; pass --force to overwrite")
    for item in planned.files:
        if item.action == "unchanged":
            continue
        path = planned.root / item.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(item.content, encoding="utf-8")
    return list(planned.files)


def next_steps(planned: Plan) -> list[str]:
    """The three steps that follow `init` (README, "Use mlgate in your repository"); the docs
    are linked at the pinned commit of mlgate's repository."""
    docs = planned.action.docs
    if planned.schema is None:
        describe = (
            f"Describe your data: mlgate data infer-schema --data {planned.data_path} --target "
            "COLUMN --write params.yaml, then check the ranges and categories it wrote"
        )
    else:
        describe = (
            "Check params.yaml: the data: block was inferred from your CSV (ranges, categories);"
            " the model: block is the model the first pull request trains"
        )
    return [
        describe,
        f"Commit the data file with what init wrote, push, and open a pull request (its 'gate' "
        f"check trains and gates the model): git add {planned.data_path} params.yaml .github "
        "model_cards .gitignore && git commit -m 'Gate the model with mlgate'. Merged, its model "
        "becomes @champion (recorded in 'mlgate history'); with promotion.use_stages: false, as "
        "written, no version changes stage (nothing goes to Staging or Production): deploy "
        f"models:/{planned.model_name}@champion, or set it true to move Production/Archived "
        "stages too",
        "In the repository's settings: the registry secrets "
        f"({docs('github-setup.md', 'secrets')}), the 'production' environment with required "
        f"reviewers ({docs('github-setup.md', 'environment')}), and the 'gate' check required "
        f"on main ({docs('github-setup.md', 'protection')})",
    ]


def _model_name(root: Path) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", root.resolve().name).strip("_.-") or "model"
    return f"{base}_model"


def _params(found: schema_mod.Schema | None, data_path: str, name: str, task: str | None) -> str:
    if found is not None:
        block = schema_mod.render(found, data_path)
        task = found.task
    else:
        task = task or DEFAULT_TASK
        block = (
            "data:\n"
            f"  path: {data_path}          # the committed CSV\n"
            "  # Describe it: mlgate data infer-schema --data data/train.csv --target COLUMN"
            " --write params.yaml\n"
            f"  task: {task}  # {' | '.join(TASK_NAMES)}\n"
        )
    staging = f"{task_named(task).staging_threshold:g}"
    return Template(template("params.yaml")).substitute(
        data_block=block,
        name=name,
        gate_block=Template(_GATE[task_named(task)]).substitute(staging=staging),
        aliases=", ".join(ALIASES[task]),
        staging=staging,
        staged_by=_LABELS.get(task_named(task).staging_metric, task_named(task).staging_metric),
    )


def workflow(file: str, action: Action) -> str:
    """A workflow as `init` writes it: every job's mlgate step pinned to `action`."""
    return template(f"workflows/{file}").replace("@@ACTION@@", action.uses)


def _planned(root: Path, path: Path, content: str) -> PlannedFile:
    target = root / path
    if not target.exists():
        return PlannedFile(path, content, "create")
    same = target.read_text(encoding="utf-8", errors="replace") == content
    return PlannedFile(path, content, "unchanged" if same else "overwrite")


def _gitignore(root: Path) -> PlannedFile:
    """Appends mlgate's block, or replaces the block a previous `init` wrote; the user's own
    lines are never touched, so this never needs --force."""
    path = Path(".gitignore")
    block = template("gitignore")
    current = (root / path).read_text(encoding="utf-8") if (root / path).exists() else ""
    pattern = re.compile(
        rf"^{re.escape(GITIGNORE_BEGIN)}$.*?^{re.escape(GITIGNORE_END)}$\n?",
        re.DOTALL | re.MULTILINE,
    )
    if pattern.search(current):
        updated = pattern.sub(lambda _: block, current, count=1)
    else:
        updated = current + ("\n" if current and not current.endswith("\n") else "") + block
    if updated == current:
        return PlannedFile(path, updated, "unchanged")
    return PlannedFile(path, updated, "update" if current else "create")
