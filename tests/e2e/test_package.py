"""The package a release publishes, end to end: built from a GitHub clone of this repository,
checked by twine, uploaded to a real package index (pypiserver on 127.0.0.1, standing in for
PyPI), installed from it by name with --require-hashes into a fresh venv, and run.

The installed mlgate names the repository and commit it was built from (`mlgate --version`), and
`mlgate init` pins mlgate's GitHub Action to that commit without being told.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

from mlgate import __version__

from ..conftest import REPO, free_port

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MLGATE_", "GITHUB_"))}
    done = subprocess.run(
        args, cwd=cwd, env={**clean, **env}, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done


def _github_clone(target: Path) -> str:
    """This repository's tree committed in a repository whose origin is on GitHub; its commit."""
    files = _run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], REPO)
    for rel in files.stdout.splitlines():
        if (REPO / rel).is_file() and not rel.startswith(("tests/", "benchmarks/")):
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, target / rel)
    git = ["git", "-c", "user.name=Ada", "-c", "user.email=ada@example.org"]
    _run([*git, "init", "-q", "-b", "main"], target)
    _run([*git, "add", "-A"], target)
    _run([*git, "commit", "-q", "-m", "release"], target)
    _run(["git", "remote", "add", "origin", "https://github.com/acme/mlgate.git"], target)
    return _run(["git", "rev-parse", "HEAD"], target).stdout.strip()


@pytest.fixture
def index(tmp_path: Path):
    """pypiserver serving (and accepting uploads into) a folder, on 127.0.0.1."""
    packages = tmp_path / "packages"
    packages.mkdir()
    port = free_port()
    # -a . -P .: uploads without authentication; no fallback to the public index.
    command = [str(BIN / "pypi-server"), "run", "-i", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(
        [*command, "-a", ".", "-P", ".", "--disable-fallback", str(packages)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/simple/", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("pypiserver did not answer within 60 s") from None
                time.sleep(0.3)
        yield url, packages
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_publish_then_install_by_name_with_hashes(tmp_path: Path, index) -> None:
    url, packages = index
    source = tmp_path / "mlgate"
    commit = _github_clone(source)

    # What the release workflow runs: the build backend locked by hash.
    dist = tmp_path / "dist"
    uv = str(BIN / "uv")
    build = [uv, "build", "--build-constraint", "action/build.txt", "--require-hashes"]
    _run([*build, "--out-dir", str(dist)], source)
    files = sorted(p for p in dist.iterdir() if p.suffix in (".whl", ".gz"))
    built = [p.name for p in files]
    assert built == [f"mlgate-{__version__}-py3-none-any.whl", f"mlgate-{__version__}.tar.gz"]
    _run([str(BIN / "twine"), "check", "--strict", *map(str, files)], tmp_path)
    upload = [str(BIN / "twine"), "upload", "--repository-url", url, "-u", "ci", "-p", "x"]
    _run([*upload, "--non-interactive", *map(str, files)], tmp_path)
    assert sorted(p.name for p in packages.iterdir()) == built

    # Install by name from the index, every file checked against the hash of what was built.
    hashes = " ".join(f"--hash=sha256:{hashlib.sha256(p.read_bytes()).hexdigest()}" for p in files)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"mlgate=={__version__} {hashes}\n")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path)
    python = venv / "bin" / "python"
    install = [uv, "pip", "install", "--python", str(python), "--no-deps", "--require-hashes"]
    _run([*install, "--index-url", f"{url}/simple/", "-r", str(requirements)], tmp_path)
    # mlgate's dependencies are this test environment's (not on the local index): appended to
    # the venv's path, after its own site-packages, where the installed mlgate comes first.
    site = Path(sysconfig.get_paths()["purelib"])
    venv_site = next((venv / "lib").glob("python*/site-packages"))
    (venv_site / "test-dependencies.pth").write_text(f"{site}\n")

    mlgate = str(venv / "bin" / "mlgate")
    where = _run([str(python), "-c", "import mlgate; print(mlgate.__file__)"], tmp_path)
    assert where.stdout.startswith(str(venv_site))
    version = _run([mlgate, "--version"], tmp_path)
    assert version.stdout == f"mlgate {__version__} (built from acme/mlgate@{commit})\n"

    repo = tmp_path / "team"
    repo.mkdir()
    _run(["git", "init", "-q"], repo)
    init = _run([mlgate, "init", "--task", "classification"], repo)
    assert f"The workflows call acme/mlgate@{commit} # v{__version__}." in init.stdout
    pr = (repo / ".github" / "workflows" / "pr.yml").read_text()
    assert f"uses: acme/mlgate@{commit} # v{__version__}\n" in pr
