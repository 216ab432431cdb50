#!/usr/bin/env bash
# Wall time of two ebnsim binaries on one model, measured alternately (A, B, A, B, …) so that a
# machine whose speed drifts treats both alike: the medians of `wall_seconds` (summary.json: the
# simulation alone, no model loading or output) and their ratio, all from this one run.
#
#   benches/ab.sh BIN_A BIN_B MODEL [ROUNDS]     (ROUNDS: runs of each, default 15)
#
# e.g. the binary of another commit against this one's on the timing case's N = 1600 model:
#   benches/ab.sh /tmp/old/ebnsim target/release/ebnsim tests/reference/.work/timing-1600.toml
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 BIN_A BIN_B MODEL [ROUNDS]" >&2
  exit 2
fi
a=$1 b=$2 model=$3 rounds=${4:-15}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for _ in $(seq "$rounds"); do
  for side in A B; do
    bin=$a
    [ "$side" = B ] && bin=$b
    "$bin" run "$model" --out "$out/$side" --quiet
    python3 -c "import json, sys; print(sys.argv[1], json.load(open(sys.argv[2]))['wall_seconds'])" \
      "$side" "$out/$side/summary.json"
  done
done | python3 -c "
import statistics, sys
runs = {}
for line in sys.stdin:
    side, wall = line.split()
    runs.setdefault(side, []).append(float(wall))
for side in sorted(runs):
    v = sorted(runs[side])
    print(f'{side}: median {statistics.median(v):.5f} s, min {v[0]:.5f} s, max {v[-1]:.5f} s ({len(v)} runs)')
print(f'B / A (medians): {statistics.median(runs[\"B\"]) / statistics.median(runs[\"A\"]):.3f}')
"
