#!/usr/bin/env bash
# Regenerates the figures of docs/learning-results.md from the shipped learning models, with the
# project's own tools: `ebnsim learn`, `ebnsim plot` and the kill_sweep example; each model's
# summary.json is kept next to its figures (the numbers the figures show). About 8 minutes of wall
# time on 2 cores. Run from anywhere: bash docs/figures/make-figures.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked --bin ebnsim --example kill_sweep --example noise_robustness
bin="${CARGO_TARGET_DIR:-target}/release/ebnsim"
sweep="${CARGO_TARGET_DIR:-target}/release/examples/kill_sweep"
runs=$(mktemp -d)
trap 'rm -rf "$runs"' EXIT
for m in van-der-pol-learn double-well-1d-learn double-well-2d-learn lorenz-learn; do
  case "$m" in
    lorenz-learn) window=30 ;;
    *) window=8 ;;
  esac
  "$bin" learn "models/$m.toml" --out "$runs/$m" --quiet
  "$bin" plot "$runs/$m" --out "docs/figures/$m" --window "$window"
  cp "$runs/$m/summary.json" "docs/figures/$m/summary.json"
done
"$sweep" models/van-der-pol-learn.toml docs/figures/van-der-pol-learn
"$sweep" models/lorenz-learn.toml docs/figures/lorenz-learn
"${CARGO_TARGET_DIR:-target}/release/examples/noise_robustness" 3 docs/figures/noise-robustness
echo "figures written under docs/figures/"
