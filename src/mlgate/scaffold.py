"""`mlgate init`: put mlgate into an existing git repository.

Writes params.yaml (its `data:` block inferred from a CSV when one is given), the four workflows,
model_cards/ and a block of .gitignore lines. `plan` decides every file's content and whether it
would be created, overwritten or left alone; `apply` writes them. An existing file that would
change is an error unless `force`, and then nothing at all is written.

The workflows are written for the user's repository, not for mlgate's own: they install mlgate
as a pinned tool (`mlgate==` the running version; the repository's requirements.lock, when there
is one, pins the model's packages with hashes), read the registered model's name from params.yaml
at run time, and filter no paths of mlgate's source tree. Their security shape (permissions,
the comment workflow that never runs PR code, the production environment) is that of mlgate's own
.github/workflows, which a test compares step by step.
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

__all__ = [
    "GITIGNORE_BEGIN",
    "GITIGNORE_END",
    "WORKFLOWS",
    "Plan",
    "PlannedFile",
    "apply",
    "next_steps",
    "plan",
    "template",
    "workflow",
]

WORKFLOWS = ("ci.yml", "pr.yml", "pr-comment.yml", "promote.yml")
GITIGNORE_BEGIN = "# >>> mlgate"
GITIGNORE_END = "# <<< mlgate"
# Steps shared by the workflows: (placeholder, step file, the `if:` it runs under or None).
_STEPS = (
    ("@@INSTALL@@", "install-step.yml", None),
    ("@@INSTALL_REMOTE@@", "install-step.yml", "steps.registry.outputs.kind == 'remote'"),
    ("@@INSTALL_CONFIGURED@@", "install-step.yml", "steps.registry.outputs.configured == 'true'"),
    ("@@MODEL_NAME_REMOTE@@", "model-name-step.yml", "steps.registry.outputs.kind == 'remote'"),
    (
        "@@MODEL_NAME_CONFIGURED@@",
        "model-name-step.yml",
        "steps.registry.outputs.configured == 'true'",
    ),
)
_GATE = {
    "classification": (
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
    "regression": (
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
    contents = {
        Path("params.yaml"): _params(found, data_path, name, task),
        **{Path(".github/workflows") / w: workflow(w) for w in WORKFLOWS},
        Path("model_cards/README.md"): template("model_cards.md"),
    }
    files = [_planned(root, path, text) for path, text in contents.items()]
    files.append(_gitignore(root))
    return Plan(root, tuple(files), name, found)


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
    """What a person does next, in order; the section names are those of docs/github-setup.md."""
    steps = []
    if planned.schema is None:
        steps.append(
            "Describe your data: mlgate data infer-schema --data data/train.csv --target COLUMN "
            "--write params.yaml (then check the ranges and categories it wrote)"
        )
    name = planned.model_name
    steps += [
        f"Train once locally: mlgate train (registers {name} in ./mlflow.db)",
        "Commit: git add params.yaml .github model_cards .gitignore && git commit -m 'mlgate'",
        "What a merge to main does: its model, if it passes the gate, becomes @champion (recorded "
        "in 'mlgate history'). With promotion.use_stages: false, as written, no version changes "
        f"stage (nothing goes to Staging or Production): deploy models:/{name}@champion, or set it "
        "true to move Production/Archived stages too",
        "Add the registry secrets MLFLOW_TRACKING_URI (and MLFLOW_TRACKING_USERNAME/PASSWORD): "
        "docs/github-setup.md, section 1 'Secrets'",
        "Create the 'production' environment with required reviewers and its own registry "
        "secrets: docs/github-setup.md, section 2 'The production environment'",
        "Protect main and require the 'gate' check: docs/github-setup.md, section 3 "
        "'Branch protection on main'",
    ]
    return steps


def _model_name(root: Path) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", root.resolve().name).strip("_.-") or "model"
    return f"{base}_model"


def _params(found: schema_mod.Schema | None, data_path: str, name: str, task: str | None) -> str:
    if found is not None:
        block = schema_mod.render(found, data_path)
        task = found.task
    else:
        task = task or "classification"
        block = (
            "data:\n"
            f"  path: {data_path}          # the committed CSV\n"
            "  # Describe it: mlgate data infer-schema --data data/train.csv --target COLUMN"
            " --write params.yaml\n"
            f"  task: {task}  # classification | regression\n"
        )
    staging = "0.3" if task == "regression" else "0.85"
    return Template(template("params.yaml")).substitute(
        data_block=block,
        name=name,
        gate_block=Template(_GATE[task]).substitute(staging=staging),
        aliases=", ".join(ALIASES[task]),
        staging=staging,
        staged_by="R²" if task == "regression" else "accuracy",
    )


def workflow(file: str, version: str | None = None) -> str:
    """A workflow as `init` writes it: the shared steps in place, mlgate pinned to `version`
    (default: the running mlgate's)."""
    from . import __version__

    text = template(f"workflows/{file}")
    for placeholder, step, condition in _STEPS:
        if placeholder in text:
            text = text.replace(placeholder + "\n", _step(step, condition))
    text = re.sub(r"\n{3,}", "\n\n", text)  # a step file ends with a blank line, as steps do
    return text.replace("@@MLGATE_VERSION@@", version or __version__)


def _step(file: str, condition: str | None) -> str:
    """A step file, with `if: <condition>` after its name line when given."""
    lines = template(file).splitlines(keepends=True)
    if condition is not None:
        at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("- name:"))
        lines.insert(at + 1, f"        if: {condition}\n")
    return "".join(lines)


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
