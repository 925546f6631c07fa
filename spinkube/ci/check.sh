#!/usr/bin/env bash
# Cluster-free checks of spinkube/: bash spinkube/ci/check.sh (from anywhere). Needs kubectl
# (its built-in kustomize renders the overlays); without it, one line says so and exit 1.
# Self-installing: a venv in spinkube/.venv with the pins of ci/requirements.txt;
# falls back to `pip install --target` (or apt-get python3-venv as root) where venv is missing.
# The schema packages of the CloudNativePG, Gateway API and KEDA kinds come from npm
# (ci/models/package-lock.json, installed into .venv/node).
# The checks are pytest tests (ci/test_*.py; ci/conftest.py renders the overlays once):
# pytest prints a dot per test, the problems of any that failed, the connection budget,
# and ends with "N passed" (or "N failed, M passed"); exit 1 if any failed. Extra
# arguments go to pytest (e.g. `check.sh -k routes`, `check.sh -v`).
# `check.sh --run SCRIPT.py ARGS...` runs a script with the same tools instead.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SPINKUBE="$(dirname "$HERE")"
VENV="$SPINKUBE/.venv"
REQ="$HERE/requirements.txt"
PY="${PYTHON:-python3}"
STAMP="$VENV/.requirements.sha"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"

log() { echo "check.sh: $*" >&2; }

# Every check renders the overlays with `kubectl kustomize`: stop before installing anything.
if [ "${1:-}" != "--run" ] && ! command -v kubectl >/dev/null 2>&1; then
  echo "kubectl not found: install kubectl (it carries kustomize) — https://kubernetes.io/docs/tasks/tools/" >&2
  exit 1
fi

install_venv() {
  rm -rf "$VENV"
  "$PY" -m venv "$VENV" >/dev/null 2>&1 || return 1
  "$VENV/bin/python" -m pip --version >/dev/null 2>&1 || return 1
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ" || return 1
  echo "$want" > "$STAMP"
}

install_target() {   # no venv module: plain site dir under .venv, used via PYTHONPATH
  rm -rf "$VENV"
  mkdir -p "$VENV/site"
  "$PY" -m pip install --quiet --disable-pip-version-check --target "$VENV/site" -r "$REQ" || return 1
  echo "$want" > "$STAMP"
}

if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  log "installing pinned tools into $VENV"
  if ! install_venv; then
    # Debian ships venv's ensurepip (python3-venv) and pip (python3-pip) separately.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      log "venv failed: apt-get install python3-venv python3-pip"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip) >/dev/null 2>&1 || true
    fi
    install_venv || { log "venv unavailable: pip install --target"; install_target; }
  fi
fi

if [ -x "$VENV/bin/python" ]; then
  RUN=("$VENV/bin/python")
else
  export PYTHONPATH="$VENV/site${PYTHONPATH:+:$PYTHONPATH}"
  RUN=("$PY")
fi
if [ "${1:-}" = "--run" ]; then
  shift
  exec "${RUN[@]}" "$@"
fi
# The custom resources' schema packages (npm, pinned by ci/models/package-lock.json) in
# $VENV/node. Without node/npm, or offline, the tests that need them fail and say why.
NODE_DIR="$VENV/node"
NODE_LOCK="$HERE/models/package-lock.json"
node_want="$(sha256sum "$NODE_LOCK" | cut -d' ' -f1)"
if [ "$(cat "$NODE_DIR/.lock.sha" 2>/dev/null)" != "$node_want" ] && command -v npm >/dev/null 2>&1; then
  log "installing the pinned schema packages (ci/models) into $NODE_DIR"
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
  cp "$HERE/models/package.json" "$NODE_LOCK" "$NODE_DIR/"
  if (cd "$NODE_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null 2>&1); then
    echo "$node_want" > "$NODE_DIR/.lock.sha"
  else
    log "npm ci failed: the models check will fail"
  fi
fi
export SPINKUBE_NODE_MODULES="$NODE_DIR/node_modules"
# The dev overlay reads generated, git-ignored credentials: create them as a deploy would.
bash "$SPINKUBE/scripts/create-secrets.sh" dev >/dev/null
# No cache or bytecode files in the tree: no .pytest_cache (-p no:cacheprovider), no __pycache__.
export PYTHONDONTWRITEBYTECODE=1
exec "${RUN[@]}" -m pytest "$HERE" -q -p no:cacheprovider "$@"
