#!/usr/bin/env python3
"""The learning targets each shipped learning model states in its `# Expect` comment, checked
on the summary.json of its run (tests/golden/check.sh runs them and calls this).

    python3 tests/golden/learning_targets.py DIR     (DIR/<model name>/summary.json)

Why: the golden hashes say whether a learning run's bits changed; these say whether what it
learned is still good enough when they do (a change of rounding, e.g. another kernel layout).
Exit 1, naming the model, the field and the value, when a target is missed.
"""
import json
import sys
from pathlib import Path

AUTONOMOUS = ("autonomous", "autonomous-half-killed")


def phases(summary, names):
    by_name = {p["name"]: p for p in summary["phases"]}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise KeyError(f"no phase {missing}")
    return [by_name[n] for n in names]


def van_der_pol(s):
    # field_error < 0.05; in both autonomous phases |period_error| <= 0.005,
    # |amplitude_error| <= 0.01, nrmse_1s <= 0.05.
    yield "field_error", s["field_error"], s["field_error"] < 0.05
    for p in phases(s, AUTONOMOUS):
        n = p["name"]
        yield f"{n}.period_error", p["period_error"], abs(p["period_error"]) <= 0.005
        yield f"{n}.amplitude_error", p["amplitude_error"], abs(p["amplitude_error"]) <= 0.01
        yield f"{n}.nrmse_1s", p["nrmse_1s"], p["nrmse_1s"] <= 0.05


def basins(s, starts):
    for p in phases(s, AUTONOMOUS):
        b = p["basins"]
        yield f"{p['name']}.basins", (b["correct"], b["starts"]), b["correct"] == b["starts"] == starts


def double_well_1d(s):
    # field_error below about 0.1; fixed_points.max_error <= 0.02; both autonomous phases'
    # basins all correct (12 starts).
    yield "field_error", s["field_error"], s["field_error"] < 0.1
    e = s["fixed_points"]["max_error"]
    yield "fixed_points.max_error", e, e <= 0.02
    yield from basins(s, 12)


def double_well_2d(s):
    # fixed_points.max_error_stable <= 0.02; both autonomous phases' basins all correct (36).
    e = s["fixed_points"]["max_error_stable"]
    yield "fixed_points.max_error_stable", e, e <= 0.02
    yield from basins(s, 36)


def lorenz(s):
    # In both autonomous phases' `attractor`: std ratios within 10 % of 1, loop period error
    # within 5 %.
    for p in phases(s, AUTONOMOUS):
        a = p["attractor"]
        n = p["name"]
        r = a["std_ratios"]
        yield f"{n}.attractor.std_ratios", r, all(abs(x - 1.0) <= 0.1 for x in r)
        e = a["loop_period_error"]
        yield f"{n}.attractor.loop_period_error", e, abs(e) <= 0.05


TARGETS = {
    "van-der-pol-learn": van_der_pol,
    "double-well-1d-learn": double_well_1d,
    "double-well-2d-learn": double_well_2d,
    "lorenz-learn": lorenz,
}


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(sys.argv[1])
    failed = 0
    for name, targets in TARGETS.items():
        path = root / name / "summary.json"
        try:
            summary = json.loads(path.read_text())
            checks = list(targets(summary))
        except (OSError, KeyError, TypeError, ValueError) as e:
            print(f"learning targets: {path}: unreadable ({e!r})", file=sys.stderr)
            failed += 1
            continue
        for field, value, ok in checks:
            if not ok:
                print(f"learning targets: {name}: {field} = {value} misses its target", file=sys.stderr)
                failed += 1
    shipped = {
        p.stem
        for p in Path("models").glob("*.toml")
        if any(line.startswith("[[phase]]") for line in p.read_text().splitlines())
    }
    unchecked = sorted(shipped - TARGETS.keys())
    if unchecked:
        print(f"learning targets: no targets for {unchecked} (add them here)", file=sys.stderr)
        failed += 1
    if failed:
        return 1
    print(f"learning targets: all met ({len(TARGETS)} models)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
