"""The EBN in Brian2: v' = −λ_V v + Dᵀc(t) + I_s, I_s' = −λ_d I_s, threshold T_i, reset v −= Ω_ii,
one Synapses object carrying the fast jump (v_post −= Ω_f[post, pre], pre ≠ post, optional delay)
and the slow jump (I_s,post += Ω_s[post, pre], autapses included). cpp_standalone."""
import os
import shutil
import tempfile
import time

import numpy as np

LAST_MODE = None  # how the last run_brian2 ran: "cpp_standalone" or the runtime target


def run_brian2(D, thr, wf, ws, lam_d, lam_v, c_times, c_values, duration, dt, fast_delay=0.0,
               directory=None, rule="all"):
    """Returns (spike times s, neurons, compile+run wall s, run-only wall s). c is piecewise constant:
    c_values[k] holds from c_times[k] (c_times on a grid of a common step)."""
    import brian2 as b2

    b2.BrianLogger.log_level_error()
    directory = directory or tempfile.mkdtemp(prefix="b2_ebn_")
    global LAST_MODE
    have_cxx = any(shutil.which(c) for c in (os.environ.get("CXX", "g++"), "c++", "g++"))
    standalone = rule == "all" and have_cxx
    LAST_MODE = ("cpp_standalone" if standalone else
                 "runtime, numpy target" + ("" if have_cxx else " (no C++ compiler found)"))
    if standalone:
        b2.set_device("cpp_standalone", directory=directory, build_on_run=True)
        b2.prefs.devices.cpp_standalone.openmp_threads = 0
    else:
        b2.set_device("runtime")
        b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = dt * b2.second
    d, n = D.shape
    # piecewise-constant input on a regular grid for TimedArray
    step = np.min(np.diff(list(c_times) + [duration])) if len(c_times) > 1 else duration
    grid = np.arange(0.0, duration + step / 2, step)
    idx = np.searchsorted(np.asarray(c_times), grid + 1e-12, side="right") - 1
    vals = np.asarray(c_values)[idx]  # (len(grid), d)
    ns = {"lam_v": lam_v * b2.Hz, "lam_d": lam_d * b2.Hz}
    for k in range(d):
        ns[f"c{k}"] = b2.TimedArray(vals[:, k] * b2.Hz, dt=step * b2.second)
    drive = " + ".join(f"D{k}*c{k}(t)" for k in range(d))
    slow = bool(np.any(ws))
    # Without slow weights I_s is left out: Brian2's 'exact' solution of the coupled pair is
    # singular (NaN) when lam_v == lam_d.
    eqs = (f"""
    dv/dt = -lam_v*v + I_in + I_s : 1
    dI_s/dt = -lam_d*I_s : Hz
""" if slow else """
    dv/dt = -lam_v*v + I_in : 1
""") + f"""
    I_in = {drive} : Hz (constant over dt)
    T : 1 (constant)
    Om : 1 (constant)
    fire : 1
    """ + "".join(f"D{k} : 1 (constant)\n" for k in range(d))
    threshold = "v > T" if rule == "all" else "fire > 0.5"
    G = b2.NeuronGroup(n, eqs, threshold=threshold, reset="v -= Om", method="exact", namespace=ns)
    extra = []
    if rule != "all":
        thr_arr = np.asarray(thr, dtype=float)

        @b2.network_operation(when="thresholds", order=-1)
        def one_per_step():
            over = G.v_[:] - thr_arr
            f = np.zeros(n)
            k = int(np.argmax(over))
            if over[k] > 0:
                f[k] = 1.0
            G.fire_[:] = f

        extra.append(one_per_step)
    G.T = thr
    G.Om = np.diag(wf)
    for k in range(d):
        setattr(G, f"D{k}", D[k])
    S = b2.Synapses(G, G, model="wf : 1 (constant)" + ("\nws : Hz (constant)" if slow else ""),
                    on_pre="v_post -= wf" + ("\nI_s_post += ws" if slow else ""))
    pre, post = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    S.connect(i=pre.ravel(), j=post.ravel())
    w_fast = wf[post, pre].copy()
    w_fast[pre == post] = 0.0
    S.wf = w_fast.ravel()
    if slow:
        S.ws = ws[post, pre].ravel() * b2.Hz
    if fast_delay > 0:
        assert not np.any(ws), "one Synapses object: a fast delay would delay the slow jumps too"
        S.delay = fast_delay * b2.second
    mon = b2.SpikeMonitor(G)
    net = b2.Network(G, S, mon, *extra)
    t0 = time.perf_counter()
    net.run(duration * b2.second, namespace={})
    total = time.perf_counter() - t0
    run_only = b2.device._last_run_time if standalone else total
    t = np.asarray(mon.t / b2.second) + dt
    i = np.asarray(mon.i)
    if standalone:
        b2.device.reinit()
        b2.device.activate()
    return t, i, total, run_only
