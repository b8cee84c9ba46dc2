import importlib
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

from mlgate import fingerprint
from mlgate.config import load_params

REPO = Path(__file__).resolve().parents[2]


def _git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def _project(tmp_path) -> Path:
    root = tmp_path / "repo"
    (root / "src" / "mlgate").mkdir(parents=True)
    shutil.copy(REPO / "params.yaml", root)
    shutil.copy(REPO / "requirements.lock", root)
    shutil.copytree(REPO / "data", root / "data")
    for path in fingerprint.TRAINING_CODE:
        shutil.copy(REPO / path, root / path)
    return root


def test_same_inputs_same_fingerprint_and_each_input_counts(tmp_path):
    root = _project(tmp_path)
    params = load_params(root / "params.yaml")
    base = fingerprint.of_worktree(params, root / params.data.path, root)
    assert fingerprint.of_worktree(params, root / params.data.path, root).value == base.value

    text = (root / "params.yaml").read_text()
    (root / "params.yaml").write_text(text.replace("margin: 0.03", "margin: 0.05"))
    gate_only = load_params(root / "params.yaml")
    assert gate_only.gate.margin == 0.05
    assert fingerprint.of_worktree(gate_only, root / params.data.path, root).value == base.value

    (root / "params.yaml").write_text(text.replace("n_estimators: 100", "n_estimators: 50"))
    changed = load_params(root / "params.yaml")
    assert fingerprint.of_worktree(changed, root / params.data.path, root).value != base.value

    (root / "params.yaml").write_text(text)
    with open(root / "src/mlgate/train.py", "a") as fh:
        fh.write("\n# a code change\n")
    assert fingerprint.of_worktree(params, root / params.data.path, root).value != base.value


def test_revision_fingerprint_equals_worktree(tmp_path):
    root = _project(tmp_path)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "init")
    params = load_params(root / "params.yaml")
    worktree = fingerprint.of_worktree(params, root / params.data.path, root)
    assert fingerprint.of_revision("HEAD", root=root).value == worktree.value
    (root / "data" / "obesity.csv").write_text((root / "data" / "obesity.csv").read_text()[:-200])
    _git(root, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qam", "less data")
    assert fingerprint.of_revision("HEAD", root=root).value != worktree.value
    assert fingerprint.of_revision("HEAD~1", root=root).value == worktree.value


def _bump(lock: Path, package: str) -> None:
    """Edit the lock as an upgrade PR would: every locked line of `package` gets `.post99`."""
    lines = lock.read_text().splitlines()
    bumped = [
        re.sub(r"^([^=\s]+==[^\s;]+)", r"\1.post99", ln) if ln.startswith(f"{package}==") else ln
        for ln in lines
    ]
    assert bumped != lines, f"{package} is not in {lock}"
    lock.write_text("\n".join(bumped) + "\n")


def test_fingerprint_reads_the_lock_not_the_installed_packages(tmp_path, monkeypatch):
    root = _project(tmp_path)
    params = load_params(root / "params.yaml")
    base = fingerprint.of_worktree(params, root / params.data.path, root)
    assert "scikit-learn==" + metadata.version("scikit-learn") in base.packages
    assert fingerprint.installed_mismatches(base.packages) == []

    # Another scikit-learn "installed": a dist-info found before site-packages, as an upgrade in
    # the environment would leave it. The lock did not change, so neither does the fingerprint.
    site = tmp_path / "site"
    info = site / "scikit_learn-0.20.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: scikit-learn\nVersion: 0.20.0\n")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    assert metadata.version("scikit-learn") == "0.20.0"
    assert fingerprint.of_worktree(params, root / params.data.path, root).value == base.value
    locked = next(p for p in base.packages if p.startswith("scikit-learn=="))
    assert fingerprint.installed_mismatches(base.packages) == [
        f"scikit-learn 0.20.0 installed, requirements.lock pins {locked.split('==')[1]}"
    ]


def test_lock_edits_change_the_fingerprint_only_for_model_packages(tmp_path):
    root = _project(tmp_path)
    params = load_params(root / "params.yaml")
    base = fingerprint.of_worktree(params, root / params.data.path, root).value
    lock = root / "requirements.lock"
    original = lock.read_text()
    for package in fingerprint.MODEL_PACKAGES:
        _bump(lock, package)
        assert fingerprint.of_worktree(params, root / params.data.path, root).value != base
        lock.write_text(original)
    for package in ("mlflow", "skops", "click"):  # store, serve, print: the model is the same
        _bump(lock, package)
        assert fingerprint.of_worktree(params, root / params.data.path, root).value == base
        lock.write_text(original)
    # Comments and hashes are not versions: a re-compile that only reorders them changes nothing.
    lock.write_text(original.replace("    # via", "    #   via"))
    assert fingerprint.of_worktree(params, root / params.data.path, root).value == base


def test_revision_fingerprint_reads_that_revisions_lock(tmp_path):
    root = _project(tmp_path)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "init")
    before = fingerprint.of_revision("HEAD", root=root)
    _bump(root / "requirements.lock", "scikit-learn")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qam", "bump sklearn")
    after = fingerprint.of_revision("HEAD", root=root)
    assert after.value != before.value
    assert [p for p in after.packages if p not in before.packages] == [
        next(p for p in after.packages if p.startswith("scikit-learn=="))
    ]
    _git(root, "-c", "user.name=t", "-c", "user.email=t@e", "revert", "--no-edit", "HEAD")
    assert fingerprint.of_revision("HEAD", root=root).value == before.value
    params = load_params(root / "params.yaml")
    assert fingerprint.of_worktree(params, root / params.data.path, root).value == before.value


def test_the_projects_own_estimator_is_training_code(tmp_path):
    """A class in the repository (model.estimator by import path) retrains when it changes, in
    the working tree and at a git revision alike."""
    root = _project(tmp_path)
    (root / "models").mkdir()
    (root / "models" / "mine.py").write_text("class Forest: ...\n")
    text = (root / "params.yaml").read_text()
    (root / "params.yaml").write_text(
        text.replace("estimator: random_forest", "estimator: models.mine.Forest")
    )
    params = load_params(root / "params.yaml")
    assert fingerprint.project_code(params) == ("models/mine.py", "models/mine/__init__.py")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "init")
    base = fingerprint.of_worktree(params, root / params.data.path, root)
    assert fingerprint.of_revision("HEAD", root=root).value == base.value
    (root / "models" / "mine.py").write_text("class Forest:\n    depth = 3\n")
    assert fingerprint.of_worktree(params, root / params.data.path, root).value != base.value
    _git(root, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qam", "deeper")
    assert fingerprint.of_revision("HEAD", root=root).value != base.value
    assert fingerprint.project_code(load_params(REPO / "params.yaml")) == ()  # an alias


def test_a_repository_without_a_lock_fingerprints_params_data_and_code(tmp_path, monkeypatch):
    """A user's project that pins no packages: the fingerprint covers params, data and code, the
    same in the tree and at a revision; nothing to compare installed packages with, so even CI
    has no environment error; adding a lock later is a change of the training inputs."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "examples" / "diabetes", root)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "init")
    params = load_params(root / "params.yaml")
    unlocked = fingerprint.of_worktree(params, root / params.data.path, root)
    assert unlocked.packages == ()
    assert fingerprint.of_revision("HEAD", root=root).value == unlocked.value
    monkeypatch.setenv("CI", "true")
    assert fingerprint.environment_warning(unlocked) is None
    assert "requirements.lock" in fingerprint.input_paths(params)  # a lock added later counts
    shutil.copy(REPO / "requirements.lock", root)
    locked = fingerprint.of_worktree(params, root / params.data.path, root)
    assert locked.packages and locked.value != unlocked.value
