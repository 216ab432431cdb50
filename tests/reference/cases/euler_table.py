"""Case 6: the Boerlin oscillator in the published Euler style (forward Euler, one spike per step,
dt = 1e-4 s) and other grid settings, against the exact run: a table to cite."""
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import numpy as np

from common import (Check, CaseResult, fmt, network_stats, population_van_rossum,
                    random_decoder, run_ebnsim, write_results)
from cases.oscillator_brian2 import DURATION, LAM_D, N, oscillator_model

SETTINGS = [  # (integrator, rule, dt)
    ("euler", "one_per_step", 1e-4),
    ("euler", "greedy", 1e-4),
    ("euler", "all", 1e-4),
    ("exponential", "one_per_step", 1e-4),
    ("euler", "one_per_step", 1e-5),
    ("exponential", "greedy", 1e-5),
    ("exponential", "greedy", 1e-6),
]
TAU_VR = 0.01  # s, van Rossum time constant


def main(out):
    t0 = time.perf_counter()
    res = CaseResult(
        id="euler-table",
        title="Boerlin oscillator on a grid (the published Euler style) vs exact",
        reference="ebnsim's dense stepper (the published scheme: forward Euler, one spike per "
                  "step, dt = 1e-4 s) against ebnsim's exact engine",
        tolerance="reported, not held; one check: the grid converges (greedy, dt = 1e-6: spike "
                  "count within 5 % of exact)",
        why="How far a grid simulation is from the exact dynamics is a property of the scheme, "
            "not a pass/fail criterion; the table gives the numbers to cite.",
    )
    D = random_decoder(2, N, 0.1, 7)
    ex = run_ebnsim(oscillator_model(D, tag="euler-exact"), "euler-exact")
    se = network_stats(ex.times, ex.neurons, N, DURATION, D, LAM_D, ex.readout)
    rows = ["| integrator | spike rule | dt (s) | spikes | rate (Hz) | mean CV ISI | readout RMSE | "
            "RMS x̂ − x̂_exact | van Rossum distance (τ = 10 ms, per spike) |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| exact | — | — | {se['spikes']} | {fmt(se['rate_hz'])} | {fmt(se['cv_isi'])} | "
            f"{fmt(se['readout_rmse'])} | 0 | 0 |"]
    for integ, rule, dt in SETTINGS:
        tag = f"euler-{integ}-{rule}-{dt:g}"
        r = run_ebnsim(oscillator_model(D, engine="dense", dt=dt, integrator=integ, rule=rule,
                                        tag=tag), tag)
        s = network_stats(r.times, r.neurons, N, DURATION, D, LAM_D, ex.readout)
        xd = float(np.sqrt(np.mean(np.sum((s["xhat"] - se["xhat"]) ** 2, axis=1))))
        vr = population_van_rossum((ex.times, ex.neurons), (r.times, r.neurons), N, TAU_VR)
        rows.append(f"| {integ} | {rule} | {dt:g} | {s['spikes']} | {fmt(s['rate_hz'])} | "
                    f"{fmt(s['cv_isi'])} | {fmt(s['readout_rmse'])} | {fmt(xd)} | {fmt(vr)} |")
        if (integ, rule, dt) == ("euler", "one_per_step", 1e-4):
            res.checks.append(Check("published Euler (one per step, dt = 1e-4): spikes / exact − 1",
                                    s["spikes"] / se["spikes"] - 1, math.nan))
            res.checks.append(Check("published Euler: readout RMSE / exact − 1",
                                    s["readout_rmse"] / se["readout_rmse"] - 1, math.nan))
            res.checks.append(Check("published Euler: van Rossum distance per spike", vr, math.nan))
        if (integ, rule, dt) == ("exponential", "greedy", 1e-6):
            res.checks.append(Check("greedy, dt = 1e-6: spikes / exact − 1",
                                    s["spikes"] / se["spikes"] - 1, 0.05))
    res.details = ("The same network as the Brian2 case (N = 40, decoder seed 7, 1 s). van Rossum "
                   "distance: mean over neurons of the squared distance (exponential kernel, "
                   "τ = 10 ms; one unmatched spike counts 1/2) divided by the exact run's mean "
                   "spike count per neuron: 0 for identical trains, ~1 for unrelated ones. "
                   "RMS x̂ − x̂_exact: how far the grid's readout is from the exact readout, "
                   "sampled every 1 ms. At the level of individual spikes every grid run — even "
                   "dt = 1e-6 — is about as far from the exact run as unrelated trains of the "
                   "same rates (the networks part within ~50 ms, see the Brian2 case); what "
                   "converges with dt is the statistics: spike count, CV, readout.\n\n"
                   + "\n".join(rows))
    res.wall = time.perf_counter() - t0
    write_results([res], out)


if __name__ == "__main__":
    main(sys.argv[1])
