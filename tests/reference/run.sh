#!/usr/bin/env bash
# The validation suite, one command from a fresh clone: creates the reference simulators' virtual
# environment (tests/reference/.venv) if needed, builds ebnsim (release), runs every case, writes
# docs/validation.md, and exits non-zero if a case leaves its tolerance.
#   tests/reference/run.sh               everything (timing included: it is reported, never fails)
#   tests/reference/run.sh --no-timing   skip item 4's timing runs
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
"$here/setup.sh"
(cd "$repo" && cargo build --release --locked --quiet)
export EBNSIM_BIN="${CARGO_TARGET_DIR:-$repo/target}/release/ebnsim"
export PYNEST_QUIET=1 NEURON_MODULE_OPTIONS=-nogui
cd "$here"
exec "$here/.venv/bin/python" "$here/suite.py" "$@"
