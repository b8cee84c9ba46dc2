#!/usr/bin/env bash
# Install mlgate into the job's Python, every package checked against a hash:
#   uv        pip --require-hashes from requirements-uv.lock;
#   packages  the repository's lockfile ($LOCK) when it has one, else mlgate's own
#             (the fingerprint records its numpy, pandas, scikit-learn and scipy lines, so a
#             change of lockfile retrains the model);
#   mlgate    from the action's own files, --no-deps, built by the hash-pinned setuptools of
#             action/build.txt without build isolation (nothing unpinned is fetched to build it).
# Bytecode is compiled at install: every later process of the job imports mlflow, scikit-learn
# and pandas from it instead of compiling them again (PYTHONDONTWRITEBYTECODE runners).
set -euo pipefail
action="$GITHUB_ACTION_PATH"
python="$(command -v python)"
export UV_CACHE_DIR="${UV_CACHE_DIR:-$CACHE_DIR}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

python -m pip install -q --require-hashes --no-deps -r "$action/requirements-uv.lock"
uv_pip() { python -m uv pip "$@" --python "$python" --compile-bytecode; }

if [ -f "$LOCK" ]; then
  lock="$LOCK"
else
  lock="$action/requirements.lock"
  echo "No $LOCK in the repository: installing mlgate's own lockfile."
fi
uv_pip install -q --require-hashes -r "$action/action/build.txt"
uv_pip install -q --require-hashes -r "$lock"
uv_pip install -q --no-deps --no-build-isolation --reinstall-package mlgate "$action"
if ! python -m uv pip check --python "$python" > "$RUNNER_TEMP/mlgate-pip-check.txt"; then
  cat "$RUNNER_TEMP/mlgate-pip-check.txt"
  echo "::error title=mlgate::$lock does not hold what mlgate needs; add mlgate's dependencies (its pyproject.toml) to it and compile it again with --generate-hashes."
  exit 2
fi
mlgate --version
