#!/usr/bin/env bash
# Static security checks run by `make lint` (and so `make test`): bandit over the project's own
# code failing on any HIGH severity finding, then the dependency vulnerability audit (which skips,
# saying why, when the vulnerability service is out of reach). Each check's time is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

timed() {
  local name=$1; shift
  local start=$SECONDS
  "$@"
  echo "$name: ok in $((SECONDS - start)) s"
}

# Configuration (excluded folders) in pyproject.toml [tool.bandit].
timed bandit "$VENV/bin/bandit" -c pyproject.toml -r . --severity-level high -q
timed dependency-audit "$VENV/bin/python" scripts/dependency_audit.py
