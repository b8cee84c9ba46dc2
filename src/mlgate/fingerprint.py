"""Content hash of the training inputs: the link between a git tree and a model version.

fingerprint = sha256(canonical JSON of {data sha256, training-relevant params, hash of the
training code, scikit-learn version}). The same inputs give the same fingerprint in a working tree
and at any git revision, so `release` can tell what a commit changed without training anything.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .config import Params, load_params, parse_params
from .errors import ConfigError, DataError, UsageError
from .git import git

__all__ = ["TRAINING_CODE", "Fingerprint", "compute", "of_revision", "of_worktree"]

# The modules whose code decides what a training run produces (pipeline, split, data checks).
TRAINING_CODE = (
    "src/mlgate/train.py",
    "src/mlgate/data.py",
    "src/mlgate/estimators.py",  # the pipeline around the estimator, and the trusted types
    "src/mlgate/schema.py",  # which rows are valid and how columns are typed
)


@dataclass(frozen=True)
class Fingerprint:
    value: str
    data_sha256: str
    code_sha256: str
    params: Params


def compute(params: Params, data_sha256: str, code_sha256: str, sklearn_version: str) -> str:
    payload = {
        "data_sha256": data_sha256,
        "params": params.training_inputs(),
        "code_sha256": code_sha256,
        "sklearn": sklearn_version,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _sklearn_version() -> str:
    return metadata.version("scikit-learn")


def _code_sha256(read: callable) -> str:
    digest = hashlib.sha256()
    for path in TRAINING_CODE:
        digest.update(path.encode() + b"\0" + read(path) + b"\0")
    return digest.hexdigest()


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
            f"{data_path}: data file not found (run 'mlgate data generate' or pass --data)"
        )
    data_sha = file_sha256(data_path)
    code_sha = _code_sha256(read)
    return Fingerprint(
        compute(params, data_sha, code_sha, _sklearn_version()), data_sha, code_sha, params
    )


def of_revision(
    rev: str, params_path: str = "params.yaml", root: str | Path = "."
) -> Fingerprint | None:
    """The fingerprint of the tree at git revision `rev`; None when it has no params file."""
    root = Path(root)

    def show(path: str) -> bytes | None:
        return git(root, "show", f"{rev}:{path}", binary=True)

    if git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}") is None:
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
    code_sha = _code_sha256(lambda p: code[p] if code[p] is not None else _packaged_code(p))
    return Fingerprint(
        compute(params, data_sha, code_sha, _sklearn_version()), data_sha, code_sha, params
    )


def load_worktree(params_path: str | Path, data_override: str | None = None) -> Fingerprint:
    params = load_params(params_path)
    return of_worktree(params, data_override or params.data.path, Path(params_path).parent)
