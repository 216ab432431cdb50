#!/usr/bin/env bash
# Wall time of two ebnsim binaries on one model, measured alternately (A, B, A, B, …) so that a
# machine whose speed drifts treats both alike: the medians of the whole process's wall time and
# of `wall_seconds` (summary.json: the simulation alone, no model loading or output), and their
# ratios, all from this one run.
#
#   benches/ab.sh BIN_A BIN_B MODEL [ROUNDS]     (ROUNDS: runs of each, default 15)
#   AB_COMMAND=learn benches/ab.sh …             (`ebnsim learn` instead of `ebnsim run`)
#
# e.g. the binary of another commit against this one's on the timing case's N = 1600 model:
#   benches/ab.sh /tmp/old/ebnsim target/release/ebnsim tests/reference/.work/timing-1600.toml
# or the learning run of issue 11:
#   AB_COMMAND=learn benches/ab.sh /tmp/old/ebnsim target/release/ebnsim models/van-der-pol-learn.toml 5
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 BIN_A BIN_B MODEL [ROUNDS]" >&2
  exit 2
fi
a=$1 b=$2 model=$3 rounds=${4:-15} command=${AB_COMMAND:-run}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for _ in $(seq "$rounds"); do
  for side in A B; do
    bin=$a
    [ "$side" = B ] && bin=$b
    start=$(date +%s.%N)
    "$bin" "$command" "$model" --out "$out/$side" --quiet
    end=$(date +%s.%N)
    python3 -c "import json, sys; print(sys.argv[1], float(sys.argv[3]) - float(sys.argv[2]), json.load(open(sys.argv[4]))['wall_seconds'])" \
      "$side" "$start" "$end" "$out/$side/summary.json"
  done
done | python3 -c "
import statistics, sys
runs = {}
for line in sys.stdin:
    side, process, wall = line.split()
    runs.setdefault(side, ([], []))
    runs[side][0].append(float(process))
    runs[side][1].append(float(wall))
for what, k in (('process', 0), ('wall_seconds', 1)):
    for side in sorted(runs):
        v = sorted(runs[side][k])
        print(f'{side} {what}: median {statistics.median(v):.5f} s, min {v[0]:.5f} s, max {v[-1]:.5f} s ({len(v)} runs)')
    print(f'B / A {what} (medians): {statistics.median(runs[\"B\"][k]) / statistics.median(runs[\"A\"][k]):.3f}')
"
