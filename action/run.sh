#!/usr/bin/env bash
# Run the mlgate command the job asked for. Always exits 0 and records mlgate's exit code in the
# step's outputs: the report or card must still be uploaded when mlgate fails; verdict.sh then
# fails the step with that code.
set -uo pipefail

fail() { # a usage error of the workflow itself: one line, exit code 2, nothing run
  echo "::error title=mlgate $COMMAND::$1"
  echo "exit_code=2" >> "$GITHUB_OUTPUT"
  exit 0
}
read_model_name() { # sets $name: params' mlflow.registered_model_name, checked
  name="$(python -c 'import sys; from mlgate.config import load_params; print(load_params(sys.argv[1]).mlflow.registered_model_name)' "$PARAMS")" \
    || fail "could not read the model's name from $PARAMS (mlgate data check says why)."
  # Checked before it reaches a command line.
  if ! [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]]; then
    fail "mlflow.registered_model_name in $PARAMS must be letters, digits, '_', '.' or '-'."
  fi
}
record_card() { # the card the command (re)wrote, for the card job
  local card="model_cards/$1.md"
  if [ -n "$(git status --porcelain -- "$card" 2> /dev/null)" ]; then
    echo "card=$card" >> "$GITHUB_OUTPUT"
  fi
}

status=0
if [[ "$COMMAND" =~ ^(release|promote|rollback)$ ]] && [ "${GITHUB_REF:-}" != refs/heads/main ]; then
  fail "$COMMAND runs on refs/heads/main only, not on ${GITHUB_REF:-no ref}."
fi
if [[ "$COMMAND" =~ ^(release|promote|rollback)$ ]] && [ -z "${MLFLOW_TRACKING_URI:-}" ]; then
  echo "::notice::No MLFLOW_TRACKING_URI secret in the 'production' environment: nothing to $COMMAND (docs/github-setup.md, section 1)."
  echo "exit_code=0" >> "$GITHUB_OUTPUT"
  exit 0
fi
case "$COMMAND" in
  check)
    mlgate data check --params "$PARAMS" || status=$?
    ;;
  pr)
    mlgate pr --params "$PARAMS" --report "$REPORT_DIR/gate.md" --json "$REPORT_DIR/gate.json" || status=$?
    echo "report=$REPORT_DIR/gate.md" >> "$GITHUB_OUTPUT"
    echo "json=$REPORT_DIR/gate.json" >> "$GITHUB_OUTPUT"
    if [ "${GITHUB_EVENT_NAME:-}" = pull_request ]; then
      "$GITHUB_ACTION_PATH/action/package-report.sh" "$status"
    fi
    ;;
  cleanup)
    if [ -z "${MLFLOW_TRACKING_URI:-}" ]; then
      echo "No registry configured (MLFLOW_TRACKING_URI): nothing to clean up."
    elif ! [[ "$PR_NUMBER" =~ ^[1-9][0-9]*$ ]]; then
      fail "cleanup runs for a pull request event."
    else
      read_model_name
      # Deleting an alias needs MANAGE on the model; a PR credential with EDIT only is refused:
      # the alias stays, worth a warning, not a red run. Anything else fails the job.
      mlgate alias "$name" "pr-$PR_NUMBER" --params "$PARAMS" --delete --if-exists 2> "$RUNNER_TEMP/cleanup.err" || status=$?
      cat "$RUNNER_TEMP/cleanup.err" >&2
      if [ "$status" = 3 ] && grep -q "refused deleting @pr-$PR_NUMBER of " "$RUNNER_TEMP/cleanup.err"; then
        echo "::warning::pr-$PR_NUMBER stays on $name: the registry refused to delete it (deleting an alias needs MANAGE on the model)."
        status=0
      fi
    fi
    ;;
  release)
    # The rules that bind the release are those of the last released commit (mlgate release
    # finds it in the alias history), else of the push's `before`: never a commit inside the
    # push. policy-from overrides both.
    args=(--params "$PARAMS" --before "$BEFORE_SHA")
    [ -z "$POLICY_FROM" ] || args+=(--policy-from "$POLICY_FROM")
    mlgate release "${args[@]}" || status=$?
    if [ "$status" = 0 ] || [ "$status" = 1 ]; then
      read_model_name
      record_card "$name"
    fi
    ;;
  promote | rollback)
    read_model_name
    [ -n "$REASON" ] || fail "$COMMAND needs a reason."
    if [ "$COMMAND" = promote ]; then
      [[ "$VERSION" =~ ^[1-9][0-9]*$ ]] || fail "promote needs a version number, got '$VERSION'."
      mlgate promote "$name" "$VERSION" Production --params "$PARAMS" --reason "$REASON" || status=$?
    elif [ -z "$VERSION" ]; then
      mlgate rollback "$name" --params "$PARAMS" --reason "$REASON" || status=$?
    else
      [[ "$VERSION" =~ ^[1-9][0-9]*$ ]] || fail "the version must be a number, got '$VERSION'."
      mlgate rollback "$name" --params "$PARAMS" --to "$VERSION" --reason "$REASON" || status=$?
    fi
    record_card "$name"
    ;;
esac
echo "exit_code=$status" >> "$GITHUB_OUTPUT"
