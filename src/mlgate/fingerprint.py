"""Content hash of the training inputs: the link between a git tree and a model version.

fingerprint = sha256(canonical JSON of {data sha256, training-relevant params, hash of the
training code, the locked lines of the packages that shape the model}). The same inputs give the
same fingerprint in a working tree and at any git revision, on any machine and any day, so
`release` can tell what a commit changed without training anything.

Package versions come from the tree's `requirements.lock`, never from what is installed: a new
scikit-learn release on PyPI changes nothing until a commit changes the lock, and a revert of that
commit gives back the old fingerprint (and so the old champion). `installed_mismatches` tells when
the running environment does not match the lock it claims.

A repository without `requirements.lock` (a project that pins nothing) still works: its
fingerprint covers params, data and training code only, and there is no lock for the installed
packages to disagree with. A new scikit-learn that a workflow happens to install then retrains
nothing; committing a lock is the fix, and is itself a change of the training inputs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .config import Params, parse_params
from .errors import ConfigError, DataError, UsageError
from .git import git, resolve

__all__ = [
    "LOCKFILE",
    "MODEL_PACKAGES",
    "TRAINING_CODE",
    "Fingerprint",
    "compute",
    "environment_warning",
    "input_paths",
    "installed_mismatches",
    "locked_lines",
    "mismatch_message",
    "of_revision",
    "of_worktree",
    "uncommitted_inputs",
]

# The modules whose code decides what a training run produces (pipeline, split, data checks).
TRAINING_CODE = (
    "src/mlgate/train.py",
    "src/mlgate/data.py",
    "src/mlgate/estimators.py",  # the pipeline around the estimator, and the trusted types
    "src/mlgate/schema.py",  # which rows are valid and how columns are typed
)
LOCKFILE = "requirements.lock"
# The packages whose version changes what `fit` learns or predicts from the same CSV:
# scikit-learn (the estimators, the encoders, their defaults), numpy (random streams behind
# random_state, float arithmetic), scipy (the sparse matrices and solvers scikit-learn calls) and
# pandas (how the CSV's text becomes numbers and categories). MLflow, skops and the rest store or
# serve the model but do not change it, so a bump of theirs does not retrain.
MODEL_PACKAGES = ("numpy", "pandas", "scikit-learn", "scipy")
_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")
_FIX = f"install the lock: uv pip install --require-hashes -r {LOCKFILE}"


def input_paths(params: Params, params_path: str = "params.yaml") -> tuple[str, ...]:
    """The files the fingerprint reads: a change to any of them may change the trained model.

    `mlgate pr` asks git whether a pull request touched them; `compute` hashes their content.
    """
    return (params_path, params.data.path, *TRAINING_CODE, *project_code(params), LOCKFILE)


def uncommitted_inputs(params: Params, root: str | Path = ".") -> tuple[str, ...] | None:
    """The tracked training inputs that differ from HEAD (what a version trained now would not
    match in its recorded commit); None outside a git repository or before its first commit."""
    if resolve(root, "HEAD") is None:
        return None
    listed = git(root, "diff", "--name-only", "HEAD", "--", *input_paths(params)) or ""
    return tuple(listed.splitlines())


@dataclass(frozen=True)
class Fingerprint:
    value: str
    data_sha256: str
    code_sha256: str
    params: Params
    # "name==version ; marker" for each locked line of MODEL_PACKAGES; empty without a lock.
    packages: tuple[str, ...] = ()


def compute(params: Params, data_sha256: str, code_sha256: str, packages: tuple[str, ...]) -> str:
    payload = {
        "data_sha256": data_sha256,
        "params": params.training_inputs(),
        "code_sha256": code_sha256,
        "packages": list(packages),
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_lines(text: str | None) -> tuple[str, ...]:
    """The lock's requirement lines for MODEL_PACKAGES, hashes and comments left out.

    A universal lock may pin one package twice under different markers (numpy for Python < 3.14
    and >= 3.14): every line counts, so the fingerprint is the same whichever Python reads it.
    """
    if text is None:
        return ()
    lines = []
    for raw in text.splitlines():
        match = _REQUIREMENT.match(raw.strip())
        if match and _canonical_name(match.group(1)) in MODEL_PACKAGES:
            name, version, marker = match.groups()
            line = f"{_canonical_name(name)}=={version}"
            lines.append(f"{line} ; {marker.strip()}" if marker else line)
    return tuple(sorted(lines))


def installed_mismatches(packages: tuple[str, ...]) -> list[str]:
    """'<name> <installed> installed, <lock> pins <locked>' for each locked line that applies to
    this interpreter and differs from what is installed; empty when they agree."""
    from packaging.markers import Marker

    found = []
    for line in packages:
        requirement, _, marker = line.partition(" ; ")
        if marker and not Marker(marker).evaluate():
            continue
        name, _, locked = requirement.partition("==")
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not"
        if installed != locked:
            found.append(f"{name} {installed} installed, {LOCKFILE} pins {locked}")
    return found


def mismatch_message(mismatches: list[str]) -> str:
    """One line: what differs and how to fix it."""
    return f"{'; '.join(mismatches)}: the fingerprint claims the locked versions; {_FIX}"


def environment_warning(fingerprint: Fingerprint) -> str | None:
    """One line when the installed model packages differ from the lock, else None.

    In CI (`CI=true`) it is an error instead: a version registered there would claim a
    fingerprint whose environment it was not trained in.
    """
    mismatches = installed_mismatches(fingerprint.packages)
    if not mismatches:
        return None
    if os.environ.get("CI", "").lower() == "true":
        raise ConfigError(mismatch_message(mismatches))
    return mismatch_message(mismatches)


def _code_sha256(read: callable, project: dict[str, bytes | None] | None = None) -> str:
    digest = hashlib.sha256()
    for path in TRAINING_CODE:
        digest.update(path.encode() + b"\0" + read(path) + b"\0")
    for path, text in sorted((project or {}).items()):
        if text is not None:
            digest.update(path.encode() + b"\0" + text + b"\0")
    return digest.hexdigest()


def project_code(params: Params) -> tuple[str, ...]:
    """Where a `model.estimator` class of the project's own would live, relative to the
    repository root: its module's file is training code too (a changed class retrains)."""
    from .estimators import ALIASES

    spec = params.model.estimator
    if spec in ALIASES.get(params.data.task, {}) or "." not in spec:
        return ()
    module = spec.rpartition(".")[0].replace(".", "/")
    return (f"{module}.py", f"{module}/__init__.py")


def _packaged_code(path: str) -> bytes:
    # Outside a checkout of this project the installed modules are the training code.
    return (Path(__file__).parent / Path(path).name).read_bytes()


def of_worktree(params: Params, data_path: str | Path, root: str | Path = ".") -> Fingerprint:
    """The fingerprint of the files as they are on disk (what `train` would produce now)."""
    from .data import file_sha256

    root = Path(root)

    def read(path: str) -> bytes:
        local = root / path
        return local.read_bytes() if local.is_file() else _packaged_code(path)

    if not Path(data_path).is_file():
        raise DataError(
            f"{data_path}: data file not found (check data.path in params.yaml or pass --data)"
        )
    data_sha = file_sha256(data_path)
    project = {
        p: (root / p).read_bytes() if (root / p).is_file() else None for p in project_code(params)
    }
    code_sha = _code_sha256(read, project)
    lock = root / LOCKFILE
    packages = locked_lines(lock.read_text() if lock.is_file() else None)
    return Fingerprint(
        compute(params, data_sha, code_sha, packages), data_sha, code_sha, params, packages
    )


def of_revision(
    rev: str, params_path: str = "params.yaml", root: str | Path = "."
) -> Fingerprint | None:
    """The fingerprint of the tree at git revision `rev`; None when it has no params file."""
    root = Path(root)

    def show(path: str) -> bytes | None:
        return git(root, "show", f"{rev}:{path}", binary=True)

    if resolve(root, rev) is None:
        raise UsageError(
            f"git revision {rev!r} not found in {root.resolve()}; fetch it or pass --before SHA"
        )
    text = show(params_path)
    if text is None:
        return None
    try:
        params = parse_params(text.decode(), f"{rev}:{params_path}")
    except ConfigError:
        return None  # an old, invalid params file cannot be what a champion was trained from
    data = show(params.data.path)
    if data is None:
        return None
    code = {path: show(path) for path in TRAINING_CODE}
    data_sha = hashlib.sha256(data).hexdigest()
    project = {path: show(path) for path in project_code(params)}
    code_sha = _code_sha256(
        lambda p: code[p] if code[p] is not None else _packaged_code(p), project
    )
    lock = show(LOCKFILE)
    packages = locked_lines(lock.decode() if lock is not None else None)
    return Fingerprint(
        compute(params, data_sha, code_sha, packages), data_sha, code_sha, params, packages
    )
