#!/usr/bin/env bash
# The validation suite, one command from a fresh clone: creates the reference simulators' virtual
# environment (tests/reference/.venv) if needed, builds ebnsim (release), runs every case, writes
# docs/validation.md, and exits non-zero if a case leaves its tolerance.
#   tests/reference/run.sh               everything (timing included: it is reported, never fails)
#   tests/reference/run.sh --no-timing   skip item 4's timing runs
#   EBNSIM_TIMING_SIZES=100,400,1600,6400 tests/reference/run.sh timing
#                                        the timing case alone with the opt-in N = 6400 (minutes;
#                                        a partial run does not rewrite docs/validation.md)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
"$here/setup.sh"
(cd "$repo" && cargo build --release --locked --quiet)
export EBNSIM_BIN="${CARGO_TARGET_DIR:-$repo/target}/release/ebnsim"
export PYNEST_QUIET=1 NEURON_MODULE_OPTIONS=-nogui
cd "$here"
exec "$here/.venv/bin/python" "$here/suite.py" "$@"
