#!/usr/bin/env bash
# Creates tests/reference/.venv with the pinned reference simulators (NEST, Brian2, NEURON) unless
# it already holds them. Needs python3.11 (or $PYTHON) and pip access to PyPI; about 1.5 minutes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
py="${PYTHON:-python3.11}"
command -v "$py" >/dev/null || py=python3
stamp="$venv/.requirements.txt"
if [ -x "$venv/bin/python" ] && cmp -s "$here/requirements.txt" "$stamp"; then
  exit 0
fi
echo "== creating $venv (pinned requirements)"
rm -rf "$venv"
"$py" -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip setuptools wheel
"$venv/bin/pip" install -q -r "$here/requirements.txt"
cp "$here/requirements.txt" "$stamp"
