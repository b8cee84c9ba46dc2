#!/usr/bin/env bash
# Fail the step with mlgate's exit code, with one annotation that says what it means.
set -euo pipefail
case "${EXIT_CODE:-}" in
  0) exit 0 ;;
  1) echo "::error title=mlgate $COMMAND::The gate failed (exit 1): see the report." ;;
  2) echo "::error title=mlgate $COMMAND::Configuration or data error (exit 2)." ;;
  3) echo "::error title=mlgate $COMMAND::Registry or infrastructure error (exit 3)." ;;
  "") echo "::error title=mlgate $COMMAND::mlgate did not run (a step before it failed)." ; exit 1 ;;
  *) echo "::error title=mlgate $COMMAND::mlgate exited with $EXIT_CODE." ;;
esac
exit "$EXIT_CODE"
