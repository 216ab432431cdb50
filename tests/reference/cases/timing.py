"""Item 4: wall time of the same network in ebnsim (exact), NEST (iaf_psc_delta_ps, 1 thread) and
Brian2 (cpp_standalone, simulation only, compile excluded), N = 100, 400, 1600, 10 s simulated.
Printed and reported, never held to a tolerance (the machine is shared)."""
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import numpy as np

import brian2_ebn
from brian2_ebn import run_brian2
from common import WORK, Check, CaseResult, NestMap, ebn_weights, fmt, nest_init, run_ebnsim, write_results

LAM = 10.0
MU = 1e-4
DELAY = 0.1  # ms = NEST resolution = Brian2 dt
DURATION = float(os.environ.get("EBNSIM_TIMING_DURATION", "10.0"))
SIZES = [int(x) for x in os.environ.get("EBNSIM_TIMING_SIZES", "100,400,1600").split(",")]
SCALE = 1000.0


def network(n):
    rng = np.random.default_rng(100 + n)
    D = rng.uniform(0.05, 0.15, (1, n)) * math.sqrt(20.0 / n)  # readout resolution kept as N grows
    c = np.array([[LAM * 1.0], [LAM * 2.0]])
    return D, c


def ebnsim(n, D, c):
    model = {
        "name": f"timing-{n}",
        "network": {"neurons": n, "dims": 1, "lambda_d": LAM, "lambda_v": LAM, "mu": MU,
                    "fast_delay": DELAY / 1000.0, "decoder": D},
        "target": {"kind": "linear", "a": [[-LAM]]},
        "input": {"kind": "piecewise_constant", "times": [0.0, DURATION / 2], "values": c},
        "simulate": {"duration": DURATION, "cascade_limit": 100 * n},
        "record": {"readout_dt": 0.01},
    }
    r = run_ebnsim(model, f"timing-{n}")
    checks = r.summary["counters"]["proven_absent"] / max(len(r.times), 1)
    return r.summary["wall_seconds"], len(r.times), checks


def nest_time(n, D, c):
    thr, wf, _ = ebn_weights(D, np.array([[-LAM]]), LAM, MU)
    nest = nest_init(DELAY)
    m = NestMap(LAM, scale=SCALE, c_m=1.0)
    pop = nest.Create("iaf_psc_delta_ps", n, params=dict(E_L=0.0, C_m=1.0, tau_m=m.tau_m,
                                                         t_ref=DELAY, V_m=0.0))
    pop.V_th = m.volt(thr).tolist()
    ids = np.array(pop.global_id)
    pre, post = np.meshgrid(np.arange(n), np.arange(n))
    off = pre != post
    nest.Connect(ids[pre[off]], ids[post[off]], conn_spec="one_to_one",
                 syn_spec=dict(weight=m.delta_weight(wf[post[off], pre[off]]),
                               delay=np.full(off.sum(), DELAY)))
    sr = nest.Create("spike_recorder")
    nest.Connect(pop, sr)
    wall = 0.0
    for k, cc in enumerate(c):
        drive = D.T @ cc
        pop.I_e = m.current(drive).tolist()
        pop.V_reset = m.reset(thr, np.diag(wf), drive=drive, t_ref_ms=DELAY).tolist()
        t0 = time.perf_counter()
        nest.Simulate(DURATION / 2 * 1000.0)
        wall += time.perf_counter() - t0
    return wall, int(sr.n_events)


def main(out):
    t_start = time.perf_counter()
    res = CaseResult(
        id="timing",
        title=f"Timing: the same network, {DURATION:g} s simulated",
        reference="NEST 3.10 iaf_psc_delta_ps (1 thread, resolution 0.1 ms); Brian2 2.9 "
                  "cpp_standalone (dt = 0.1 ms, compile excluded, 1 thread)",
        tolerance="reported only",
        why="Wall times on a shared 2-core machine, one run each: ratios, not benchmarks.",
    )
    rows = ["| N | ebnsim exact (s) | spikes | ebnsim bound checks per spike | NEST (s) | spikes | "
            "Brian2 run (s) | spikes | NEST / ebnsim | Brian2 / ebnsim |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for n in SIZES:
        D, c = network(n)
        thr, wf, ws = ebn_weights(D, np.array([[-LAM]]), LAM, MU)
        we, se, checks = ebnsim(n, D, c)
        wn, sn = nest_time(n, D, c)
        tb, ib, wb_total, wb = run_brian2(D, thr, wf, np.zeros_like(ws), LAM, LAM,
                                          [0.0, DURATION / 2], c, DURATION, DELAY / 1000.0,
                                          fast_delay=DELAY / 1000.0,
                                          directory=str(WORK / f"brian2-timing-{n}"))
        line = (f"| {n} | {we:.3f} | {se} | {checks:.0f} | {wn:.3f} | {sn} | {wb:.3f} | {len(tb)} | "
                f"{wn / we:.1f} | {wb / we:.1f} |")
        print(line, flush=True)
        rows.append(line)
        res.checks.append(Check(f"N = {n}: NEST / ebnsim wall time", wn / we, math.nan))
        res.checks.append(Check(f"N = {n}: Brian2 / ebnsim wall time", wb / we, math.nan))
    res.details = (f"The fast-only 1-D EBN of the NEST case (positive decoders scaled by √(20/N), "
                   f"μ = {MU}, fast delay 0.1 ms, input stepped at half time), {DURATION:g} s. "
                   "Each simulator's simulation phase only: ebnsim's `wall_seconds` (no model "
                   "loading or output), NEST's Simulate calls (not the network construction), "
                   "Brian2's measured run of the compiled binary. The spike counts differ because "
                   "the three do different things near coincident spikes (NEST drops inputs during "
                   "t_ref, Brian2 rounds spikes to the grid), see the cases above. Brian2 at "
                   "dt = 0.1 ms is a grid simulation, a different accuracy class from the two "
                   f"precise simulators. Brian2 ran as: {brian2_ebn.LAST_MODE}. Where the time goes: "
                   "ebnsim does O(N) work per spike and per delayed delivery (the bound checks "
                   "that prove a neuron cannot cross before the next event, ~2.6 N per spike "
                   "here), a grid simulator O(N) per step; this network's population fires "
                   "~6000 spikes/s at N = 1600 (0.6 per 0.1-ms step), so both do the same order "
                   "of work and Brian2's per-neuron step is the cheaper one — ebnsim's advantage "
                   "is accuracy per unit of work, not raw speed on large, delayed, high-rate "
                   "networks.\n\n"
                   + "\n".join(rows))
    res.wall = time.perf_counter() - t_start
    write_results([res], out)


if __name__ == "__main__":
    main(sys.argv[1])
