"""Item 4: wall time of the same network in ebnsim (exact), NEST (iaf_psc_delta_ps, 1 thread) and
Brian2 (cpp_standalone, simulation only, compile excluded), N = 100, 400, 1600, 10 s simulated.
Printed and reported, never held to a tolerance (the machine is shared).

Environment: EBNSIM_TIMING_SIZES (default "100,400,1600"; "100,400,1600,6400" adds the large size,
opt-in: NEST and Brian2 hold N² = 41 M synapses there, NEST needs 5.6 GB and a minute, ebnsim's
shared-state layout about two minutes), EBNSIM_TIMING_NEST_MAX (largest N run in NEST, default
6400; larger sizes show "—" for NEST),
EBNSIM_TIMING_DURATION (default 10 s)."""
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
NEST_MAX = int(os.environ.get("EBNSIM_TIMING_NEST_MAX", "6400"))
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
    # Certified steps of the shared-state layout's crossing search per spike (0: per-neuron).
    steps = r.summary["counters"].get("bound_steps", 0) / max(len(r.times), 1)
    return r.summary["wall_seconds"], r.wall, len(r.times), steps


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
    rows = ["| N | ebnsim engine (s) | ebnsim process (s) | spikes | certified steps per spike | "
            "NEST Simulate (s) | spikes | Brian2 run (s) | spikes | NEST / ebnsim | "
            "Brian2 / ebnsim |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for n in SIZES:
        D, c = network(n)
        thr, wf, ws = ebn_weights(D, np.array([[-LAM]]), LAM, MU)
        we, wp, se, steps = ebnsim(n, D, c)
        if n <= NEST_MAX:
            wn, sn = nest_time(n, D, c)
        else:
            wn, sn = math.nan, None
        tb, ib, wb_total, wb = run_brian2(D, thr, wf, np.zeros_like(ws), LAM, LAM,
                                          [0.0, DURATION / 2], c, DURATION, DELAY / 1000.0,
                                          fast_delay=DELAY / 1000.0,
                                          directory=str(WORK / f"brian2-timing-{n}"))
        nest_cells = (f"{wn:.3f} | {sn}" if sn is not None else "— | —")
        nest_ratio = f"{wn / we:.3g}" if sn is not None else "—"
        line = (f"| {n} | {we:.4f} | {wp:.3f} | {se} | {steps:.1f} | {nest_cells} | {wb:.3f} | "
                f"{len(tb)} | {nest_ratio} | {wb / we:.3g} |")
        print(line, flush=True)
        rows.append(line)
        if sn is not None:
            res.checks.append(Check(f"N = {n}: NEST / ebnsim wall time", wn / we, math.nan))
        res.checks.append(Check(f"N = {n}: Brian2 / ebnsim wall time", wb / we, math.nan))
    res.details = (f"The fast-only 1-D EBN of the NEST case (positive decoders scaled by √(20/N), "
                   f"μ = {MU}, fast delay 0.1 ms, input stepped at half time), {DURATION:g} s. "
                   "Each simulator's simulation phase only: ebnsim's `wall_seconds` (the engine and "
                   "its in-memory records; no model loading, and not the writing of the files, "
                   "done between readout samples), NEST's Simulate calls (not the network construction), "
                   "Brian2's measured run of the compiled binary; ebnsim's whole process "
                   "(model loading and outputs included) is the second column. The spike counts "
                   "differ because the three do different things near coincident spikes (NEST "
                   "drops inputs during t_ref, Brian2 rounds spikes to the grid), see the cases "
                   "above. Brian2 at dt = 0.1 ms is a grid simulation, a different accuracy class "
                   "from the two precise simulators. Brian2 ran as: "
                   f"{brian2_ebn.LAST_MODE}. NEST runs up to N = {NEST_MAX} "
                   "(EBNSIM_TIMING_NEST_MAX; N = 6400 is opt-in, EBNSIM_TIMING_SIZES). "
                   "Where the time goes: below 1024 neurons ebnsim's default layout is the "
                   "per-neuron one (O(N·d) per event). From 1024 on, this low-rank network runs "
                   "in the shared-state layout: O(d) per event. With its constant input pieces "
                   "and no slow current, every voltage relaxes to a fixed rest, and the next "
                   "crossing is the smallest of one coordinate per neuron, found by the "
                   "relaxation index (a 4-ary tree over the neurons in order of rate: about 5 inner "
                   "nodes and 2 leaves of 8 neurons per descent at N = 1600); the other networks use certified steps through a "
                   "hierarchy of decoder groups (docs/architecture.md §6). 'Certified steps per "
                   "spike' counts the hierarchy's steps (0 where the relaxation index decided "
                   "every search; a spike and its delivery are two events, each with its own "
                   "search); a grid simulator does O(N) per step.\n\n"
                   + "\n".join(rows))
    res.wall = time.perf_counter() - t_start
    write_results([res], out)


if __name__ == "__main__":
    main(sys.argv[1])
