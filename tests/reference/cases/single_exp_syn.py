"""Case 2: single neurons driven by input spike trains through exponential synapses — ebnsim
vs NEST iaf_psc_exp_ps, for tau_syn != tau_m and tau_syn = tau_m.

ebnsim has no external spike sources, so the input trains are made by the network itself: three
driver neurons with piecewise-constant drives fire irregularly and reach the tested neurons only
through slow (exponential, rate lambda_d) weights; the tested neurons have no fast input and no
connections among themselves. Decoder = identity (every neuron its own input channel). NEST gets
the drivers' spike times from ebnsim's spikes.csv through spike_generators (precise_times)."""
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import numpy as np

from common import (Check, CaseResult, NestMap, first_divergence, fmt, nest_init, nest_spikes,
                    run_ebnsim, write_results)

DURATION = 1.0  # s
H = 0.01  # ms: NEST resolution = connection delay = t_ref (NEST's minimum of each)
H_FINE = 0.002  # ms: a second run shows the later-spike mismatch shrinking with h
N_DRV, N_TGT = 3, 20
TOL_FIRST = 1e-12  # s


def build(lam_v, lam_d, seed):
    rng = np.random.default_rng(seed)
    n = N_DRV + N_TGT
    thr = np.ones(n)
    omega = np.concatenate([np.ones(N_DRV), rng.uniform(0.5, 1.5, N_TGT)])
    # drivers: drives switching every 20 ms, V∞ between 0.9 and 4 thresholds (irregular trains)
    seg = 0.02
    times = np.arange(0.0, DURATION, seg)
    drv = rng.uniform(0.9, 4.0, (len(times), N_DRV)) * lam_v
    tgt_drive = rng.uniform(0.2, 0.9, N_TGT) * lam_v  # sub-threshold V∞ on their own
    values = np.hstack([drv, np.tile(tgt_drive, (len(times), 1))])
    # slow weights: peak PSP of a weight w is about w/(e λ) (λ_v = λ_d) or w/(4λ_d) (λ_v = 2λ_d)
    peak = 1.0 / (math.e * lam_v) if lam_v == lam_d else 1.0 / (4.0 * lam_d)
    w = rng.uniform(-0.4, 0.8, (N_TGT, N_DRV)) / peak
    slow = np.zeros((n, n))
    slow[N_DRV:, :N_DRV] = w
    fast = np.diag(omega)
    model = {
        "name": "exp-syn",
        "network": {"neurons": n, "dims": n, "lambda_d": lam_d, "lambda_v": lam_v,
                    "decoder": np.eye(n), "thresholds": thr, "fast_weights": fast,
                    "slow_weights": slow},
        "input": {"kind": "piecewise_constant", "times": times, "values": values},
        "simulate": {"duration": DURATION},
        "record": {"readout_dt": 0.01},
    }
    return model, thr, omega, tgt_drive, w


def nest_run(lam_v, lam_d, drv_times, thr, omega, tgt_drive, w, H=H):
    nest = nest_init(H)
    m = NestMap(lam_v, scale=1.0, c_m=1.0)
    tau_s = 1000.0 / lam_d
    tg = nest.Create("iaf_psc_exp_ps", N_TGT, params=dict(
        E_L=0.0, C_m=m.c_m, tau_m=m.tau_m, tau_syn_ex=tau_s, tau_syn_in=tau_s, t_ref=H, V_m=0.0))
    for k in range(N_TGT):
        i = N_DRV + k
        tg[k].set(V_th=float(m.volt(thr[i])), I_e=float(m.current(tgt_drive[k])),
                  V_reset=float(m.reset(thr[i], omega[i], drive=tgt_drive[k], t_ref_ms=H)))
    gens = []
    for j in range(N_DRV):
        st = [t * 1000.0 - H for t in drv_times[j]]  # delivered after the delay H
        g = nest.Create("spike_generator", params=dict(precise_times=True, spike_times=st))
        gens.append(g)
        for k in range(N_TGT):
            nest.Connect(g, tg[k], syn_spec=dict(weight=float(m.exp_weight(w[k, j])), delay=H))
    sr = nest.Create("spike_recorder")
    nest.Connect(tg, sr)
    nest.Simulate(DURATION * 1000.0)
    t, s = nest_spikes(sr)
    first_id = tg[0].global_id
    return t, s - first_id


def compare(t_e, k_e, t_n, k_n):
    # first spike of every target: no refractory period has happened yet
    firsts = []
    for k in range(N_TGT):
        a, b = t_e[k_e == k], t_n[k_n == k]
        if len(a) and len(b):
            firsts.append(abs(a[0] - b[0]))
        elif len(a) != len(b):
            firsts.append(math.inf)
    err_first = max(firsts) if firsts else math.inf
    # all spikes, neuron by neuron
    per = []
    count_mismatch = 0
    for k in range(N_TGT):
        a, b = t_e[k_e == k], t_n[k_n == k]
        if len(a) != len(b):
            count_mismatch += 1
            m = min(len(a), len(b))
            a, b = a[:m], b[:m]
        if len(a):
            per.append(float(np.max(np.abs(a - b))))
    err_all = max(per) if per else math.inf
    return firsts, err_first, err_all, count_mismatch


def one(lam_v, lam_d, seed, label, res, fine=False):
    model, thr, omega, tgt_drive, w = build(lam_v, lam_d, seed)
    run = run_ebnsim(model, f"exp-syn-{seed}")
    drv_times = [run.spikes_of(j) for j in range(N_DRV)]
    sel = run.neurons >= N_DRV
    t_e, k_e = run.times[sel], run.neurons[sel] - N_DRV
    t_n, k_n = nest_run(lam_v, lam_d, drv_times, thr, omega, tgt_drive, w)
    firsts, err_first, err_all, count_mismatch = compare(t_e, k_e, t_n, k_n)
    fine_txt = ""
    if fine:
        t_f, k_f = nest_run(lam_v, lam_d, drv_times, thr, omega, tgt_drive, w, H=H_FINE)
        _, _, err_fine, _ = compare(t_e, k_e, t_f, k_f)
        ratio = err_fine / err_all
        res.checks.append(Check(
            f"{label}: later spikes, mismatch(h = {H_FINE} ms) / mismatch(h = {H} ms)", ratio,
            2.0 * H_FINE / H, "", note="first order in h: the t_ref = h clamp explains it"))
        fine_txt = f"; with h = {H_FINE} ms: {fmt(err_fine)} (ratio {fmt(ratio)})"
    # bound of the t_ref = h mismatch: V misses ∫ I_syn over h at each target spike, about
    # h·max|I_syn|; the resulting time shift is that over the slope of V at the next crossing
    res.checks.append(Check(f"{label}: first spike of each of {N_TGT} neurons", err_first,
                            TOL_FIRST, "s", note=f"{len(firsts)} neurons with spikes"))
    res.checks.append(Check(f"{label}: every spike (reported; t_ref = h mismatch after a spike)",
                            err_all, math.nan, "s",
                            note=f"{len(t_e)} ebnsim / {len(t_n)} NEST target spikes, "
                                 f"{count_mismatch} neurons with different counts"))
    return (f"| {label} | {sum(len(x) for x in drv_times)} | {len(t_e)} / {len(t_n)} | "
            f"{len(firsts)} | {fmt(err_first)} | {fmt(err_all)}{fine_txt} |")


def main(out):
    t0 = time.perf_counter()
    res = CaseResult(
        id="single-exp-syn",
        title="Single neurons driven by input spikes through exponential synapses",
        reference="NEST 3.10 iaf_psc_exp_ps (spike_generator with precise_times)",
        tolerance=f"first spike of every neuron within {TOL_FIRST:g} s; later spikes reported",
        why="Until a neuron's first spike both simulators integrate the same linear ODE "
            "(exponential currents from identical input spike times; NEST's exp_ps propagators "
            "are exact, also for tau_syn = tau_m) and locate the crossing to rounding. After a "
            "spike NEST clamps V for t_ref >= h (here h = 0.01 ms) while the synaptic current keeps "
            "flowing, so later spikes differ by about h·I_syn/V' — NEST's refractory period, "
            "not a simulator error (MAPPING.md).",
    )
    rows = ["| synapses | driver spikes | target spikes ebnsim / NEST | neurons that fired | "
            "max \\|Δt\\| first spikes (s) | max \\|Δt\\| all spikes, h = 0.01 ms (s) |",
            "|---|---|---|---|---|---|"]
    rows.append(one(20.0, 10.0, 11, "τ_syn = 100 ms ≠ τ_m = 50 ms", res, fine=True))
    rows.append(one(10.0, 10.0, 12, "τ_syn = τ_m = 100 ms", res))
    res.details = (f"{N_DRV} drivers (irregular trains from piecewise-constant drives), {N_TGT} "
                   f"tested neurons with random constant sub-threshold drives, resets and weights "
                   f"(excitatory and inhibitory), {DURATION:g} s. NEST resolution, delay and t_ref "
                   f"{H} ms (and {H_FINE} ms once); generator times are ebnsim's spike times minus the delay.\n\n"
                   + "\n".join(rows))
    res.wall = time.perf_counter() - t0
    write_results([res], out)


if __name__ == "__main__":
    main(sys.argv[1])
