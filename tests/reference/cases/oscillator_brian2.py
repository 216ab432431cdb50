"""Case 5: the full Boerlin oscillator (fast + slow) — ebnsim exact, ebnsim's dense stepper and
Brian2 (cpp_standalone) at dt = 1e-5 s: first spikes, rates, CV of ISIs, readout error."""
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import numpy as np

import brian2_ebn
from brian2_ebn import run_brian2
from common import (WORK, Check, CaseResult, ebn_weights, first_divergence, fmt, network_stats,
                    random_decoder, run_ebnsim, write_results)

N, LAM_D, LAM_V, MU = 40, 10.0, 20.0, 1e-6
A = np.array([[-4.8, -22.4], [40.0, 0.0]])
C_TIMES = [0.0, 0.05, 0.1]
C_VALUES = [[0.0, 0.0], [50.0, 0.0], [0.0, 0.0]]
DURATION = 1.0
DT = 1e-5
N_FIRST = 10
TOL_RATE = 0.05
TOL_CV = 0.10
TOL_RMSE = 0.15


def oscillator_model(D, engine="exact", dt=DT, integrator="exponential", rule="all", tag="osc"):
    return {
        "name": tag,
        "network": {"neurons": N, "dims": 2, "lambda_d": LAM_D, "lambda_v": LAM_V, "mu": MU,
                    "decoder": D},
        "target": {"kind": "linear", "a": A},
        "input": {"kind": "piecewise_constant", "times": C_TIMES, "values": C_VALUES},
        "simulate": {"duration": DURATION, "engine": engine, "dt": dt, "integrator": integrator,
                     "spike_rule": rule},
        "record": {"readout_dt": 1e-3},
    }


def main(out):
    t0 = time.perf_counter()
    res = CaseResult(
        id="oscillator-brian2",
        title="Boerlin oscillator (fast + slow connections): Brian2 and the dense stepper at dt = 1e-5 s",
        reference="Brian2 2.9 (cpp_standalone, method 'exact', dt = 1e-5 s); ebnsim's dense "
                  "stepper (exponential integrator, spike rule 'all', dt = 1e-5 s)",
        tolerance=f"Brian2 = ebnsim's dense stepper spike for spike over the whole run, with "
                  f"Brian2's own rule (all neurons above threshold fire) and with one spike per "
                  f"step; Brian2's first spike = the exact one (same neuron, within one step); the dense stepper at dt = 1e-6 (greedy) within "
                  f"{TOL_RATE:.0%} (rate), {TOL_CV} (CV, absolute) and {TOL_RMSE:.0%} (readout "
                  "RMSE) of the exact run. Brian2's statistics at dt = 1e-5: reported, not held",
        why="Brian2's 'exact' method and the dense stepper both propagate the linear dynamics "
            "exactly over a step with the input held, test the threshold at the end of the step "
            "and apply the spikes' effects together: the same discrete map, so they must agree "
            "to rounding — and do, spike for spike. Against continuous time a grid delays each "
            "spike by less than a step until the first near-tie — here the second spike already: "
            "the exact run's first spike pushes an opposite neuron over threshold at the same "
            "instant, which a grid can only fire a step later (rule all) or defer (one per step). "
            "And at dt = 1e-5 s the grid "
            "changes the statistics far beyond the issue's tolerances, in Brian2 as in any "
            "stepper: with Brian2's own rule neurons whose spikes overshoot set off opposite "
            "neurons in the next step — a ping-pong that never stops (1.6 million spikes for the "
            "exact run's 720, at dt = 1e-6 too); with one spike per step the network loses "
            "~30 % of its spikes. The statistics only converge as dt → 1e-6 with a sequential "
            "(greedy) rule, which Brian2 has no built-in form of; that run is the one held to "
            "the statistical tolerances.",
    )
    D = random_decoder(2, N, 0.1, 7)
    thr, wf, ws = ebn_weights(D, A, LAM_D, MU)
    ex = run_ebnsim(oscillator_model(D, tag="osc-exact"), "osc-exact")
    runs = {"ebnsim exact": (ex.times, ex.neurons)}
    # Brian2's own rule (all above threshold fire) and the one-spike-per-step rule, each against
    # ebnsim's dense stepper with the same rule at the same dt
    walls = {}
    for rule, label in (("all", "rule all"), ("one_per_step", "one per step")):
        de = run_ebnsim(oscillator_model(D, engine="dense", rule=rule, tag=f"osc-dense-{rule}"),
                        f"osc-dense-{rule}")
        tb, ib, wall_b, run_b = run_brian2(D, thr, wf, ws, LAM_D, LAM_V, C_TIMES, C_VALUES,
                                           DURATION, DT, directory=str(WORK / "brian2-osc"),
                                           rule=rule)
        walls[rule] = (wall_b, run_b, brian2_ebn.LAST_MODE)
        runs[f"ebnsim dense, {label}, dt = 1e-5"] = (de.times, de.neurons)
        runs[f"Brian2, {label}, dt = 1e-5"] = (tb, ib)
        k, t_div, _ = first_divergence(de.times, de.neurons, tb, ib, DT / 100)
        res.checks.append(Check(f"Brian2 = dense stepper ({label}): spikes after the first "
                                "difference", max(len(de.times), len(tb)) - k, 0,
                                note=f"{k} of {len(de.times)} / {len(tb)} spikes identical "
                                     f"(|Δt| ≤ {DT / 100:g} s); first difference at {fmt(t_div)} s"))
    # the first spike vs the exact run: the grid fires it at the end of the step it crossed in
    o = np.lexsort((ex.neurons, ex.times))
    te, ne = ex.times[o], ex.neurons[o]
    for rule_label in ("rule all", "one per step"):
        tb, ib = runs[f"Brian2, {rule_label}, dt = 1e-5"]
        o = np.lexsort((ib, tb))
        tb, ib = tb[o], ib[o]
        lag = tb[0] - te[0] if ib[0] == ne[0] else math.inf
        res.checks.append(Check(f"first spike: Brian2 ({rule_label}) − exact, same neuron, lag "
                                "(must be in [0, dt])", lag if lag >= 0 else math.inf, DT, "s",
                                note=f"exact: neuron {ne[0]} at {float(te[0])!r} s; then "
                                     + ", ".join(f"{n} at {t:.9f}" for t, n in zip(te[1:4], ne[1:4]))
                                     + f"; Brian2: " + ", ".join(f"{n} at {t:.9f}" for t, n in
                                                                  zip(tb[:4], ib[:4]))))
    # convergence of the grid: the dense stepper at dt = 1e-6 with the greedy rule
    g = run_ebnsim(oscillator_model(D, engine="dense", rule="greedy", dt=1e-6, tag="osc-greedy"),
                   "osc-greedy")
    runs["ebnsim dense, greedy, dt = 1e-6"] = (g.times, g.neurons)
    # grid runs: snap times to their grid, so that a spike at a readout sample counts in every
    # run alike (Brian2's t + dt and the stepper's k·dt differ in the last bit)
    for name, (t, n) in list(runs.items()):
        if name != "ebnsim exact":
            step = 1e-6 if "1e-6" in name else DT
            runs[name] = (np.round(t / step) * step, n)
    stats = {name: network_stats(t, n, N, DURATION, D, LAM_D, ex.readout)
             for name, (t, n) in runs.items()}
    ref = stats["ebnsim exact"]
    rows = ["| run | spikes | rate (Hz) | mean CV ISI | readout RMSE | first divergence from exact (s) |",
            "|---|---|---|---|---|---|"]
    for name, st in stats.items():
        div = "—" if name == "ebnsim exact" else fmt(
            first_divergence(ex.times, ex.neurons, runs[name][0], runs[name][1], DT)[1])
        rows.append(f"| {name} | {st['spikes']} | {fmt(st['rate_hz'])} | {fmt(st['cv_isi'])} | "
                    f"{fmt(st['readout_rmse'])} | {div} |")
        if name == "ebnsim exact" or name.startswith("ebnsim dense, rule") or \
                name.startswith("ebnsim dense, one"):
            continue
        held = name.startswith("ebnsim dense, greedy")
        res.checks.append(Check(f"{name}: rate / exact − 1", st["rate_hz"] / ref["rate_hz"] - 1,
                                TOL_RATE if held else math.nan))
        res.checks.append(Check(f"{name}: mean CV ISI − exact", st["cv_isi"] - ref["cv_isi"],
                                TOL_CV if held else math.nan))
        res.checks.append(Check(f"{name}: readout RMSE / exact − 1",
                                st["readout_rmse"] / ref["readout_rmse"] - 1,
                                TOL_RMSE if held else math.nan))
    wall_b, run_b, mode_all = walls["all"]
    res.details = (f"N = {N}, λ_d = {LAM_D}, λ_V = {LAM_V}, μ = {MU}, A = [[−4.8, −22.4], [40, 0]], "
                   "decoder columns of norm 0.1 drawn with numpy (seed 7) and written explicitly "
                   f"into the model file, kick 50 /s along x0 over [0.05, 0.1) s, {DURATION:g} s. "
                   f"Brian2 rule all ({mode_all}): build + run {wall_b:.1f} s (run alone {run_b:.2f} s); "
                   f"one per step (numpy target + network_operation) {walls['one_per_step'][0]:.1f} s. "
                   "Readout RMSE "
                   "against the target x(t), sampled every 1 ms, x̂ recomputed from the spikes "
                   "for every run.\n\n" + "\n".join(rows))
    res.wall = time.perf_counter() - t0
    write_results([res], out)


if __name__ == "__main__":
    main(sys.argv[1])
