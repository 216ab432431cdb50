"""Shared helpers of the validation suite: writing ebnsim model files, running the release binary,
reading its outputs, spike-train statistics and the result records every case returns.

Units: ebnsim works in seconds and dimensionless voltages; NEST and NEURON in ms, mV, pA, pF.
The conversions live in MAPPING.md and in `NestMap` below, nowhere else.
"""
from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import time
from dataclasses import dataclass, field, asdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WORK = Path(os.environ.get("EBNSIM_VALIDATION_WORK", HERE / ".work"))
BIN = Path(os.environ.get("EBNSIM_BIN", REPO / "target" / "release" / "ebnsim"))


# --------------------------------------------------------------------------------------------
# Model files


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        x = float(v)
        if not math.isfinite(x):
            raise ValueError(f"non-finite value {x} in a model file")
        return repr(x)  # shortest round-trip form: ebnsim reads back the same f64
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, np.ndarray):
        return _toml_value(v.tolist())
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v)} to TOML")


def to_toml(model: dict) -> str:
    """Top-level scalars first, then one [table] per dict value."""
    lines = []
    for k, v in model.items():
        if not isinstance(v, dict):
            lines.append(f"{k} = {_toml_value(v)}")
    for k, v in model.items():
        if isinstance(v, dict):
            lines.append(f"\n[{k}]")
            for kk, vv in v.items():
                lines.append(f"{kk} = {_toml_value(vv)}")
    return "\n".join(lines) + "\n"


@dataclass
class Run:
    """One ebnsim run: spikes in firing order, readout samples, summary.json."""

    times: np.ndarray  # s
    neurons: np.ndarray
    readout: np.ndarray  # columns: time, xhat0.., x0..
    summary: dict
    wall: float  # s, the whole process

    def spikes_of(self, i: int) -> np.ndarray:
        return self.times[self.neurons == i]


def read_spikes(path: Path):
    with open(path) as f:
        rd = csv.reader(f)
        header = next(rd)
        assert header == ["time", "neuron"], header
        rows = [(float(t), int(n)) for t, n in rd]
    if not rows:
        return np.zeros(0), np.zeros(0, dtype=int)
    t, n = zip(*rows)
    return np.array(t), np.array(n, dtype=int)


def run_ebnsim(model: dict, tag: str, engine: str | None = None, dt: float | None = None,
               cascade_limit: int | None = None) -> Run:
    """Writes `model` to WORK/tag.toml, runs the release binary on it, reads the outputs."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"{tag}.toml"
    path.write_text(to_toml(model))
    out = WORK / tag
    cmd = [str(BIN), "run", str(path), "--out", str(out), "--quiet"]
    if engine:
        cmd += ["--engine", engine]
    if dt is not None:
        cmd += ["--dt", repr(dt)]
    if cascade_limit is not None:
        cmd += ["--cascade-limit", str(cascade_limit)]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"ebnsim failed on {path}: {p.stderr.strip()}")
    times, neurons = read_spikes(out / "spikes.csv")
    readout = np.loadtxt(out / "readout.csv", delimiter=",", skiprows=1, ndmin=2)
    summary = json.loads((out / "summary.json").read_text())
    return Run(times, neurons, readout, summary, wall)


def ebnsim_version() -> str:
    p = subprocess.run([str(BIN), "--version"], capture_output=True, text=True)
    return p.stdout.strip()


# --------------------------------------------------------------------------------------------
# EBN weights (docs/architecture.md §1)


def ebn_weights(D: np.ndarray, A: np.ndarray, lambda_d: float, mu: float, nu: float = 0.0):
    """Thresholds, fast weights Ω_f = DᵀD + μI and slow weights Ω_s = Dᵀ(A + λ_d I)D."""
    d, n = D.shape
    thr = (np.sum(D * D, axis=0) + mu + nu) / 2.0
    wf = D.T @ D + mu * np.eye(n)
    ws = D.T @ (A + lambda_d * np.eye(d)) @ D
    return thr, wf, ws


def random_decoder(d: int, n: int, scale: float, seed: int) -> np.ndarray:
    """Normal columns rescaled to norm `scale` (the `normalize = true` generator, drawn here with
    numpy so that every simulator gets the same explicit matrix)."""
    rng = np.random.default_rng(seed)
    D = rng.standard_normal((d, n))
    return D * (scale / np.linalg.norm(D, axis=0))


# --------------------------------------------------------------------------------------------
# Statistics


def rates(times, neurons, n, duration):
    return np.bincount(neurons, minlength=n) / duration


def cv_isi(times, neurons, n, min_spikes=3):
    """Mean over neurons with at least `min_spikes` spikes of the CV of their ISIs."""
    cvs = []
    for i in range(n):
        t = np.sort(times[neurons == i])
        if len(t) >= min_spikes:
            isi = np.diff(t)
            if isi.mean() > 0:
                cvs.append(isi.std() / isi.mean())
    return float(np.mean(cvs)) if cvs else float("nan")


def first_divergence(t_a, n_a, t_b, n_b, tol):
    """Spike-for-spike comparison of two spike sequences (sorted by time, ties in any order).

    Returns (k, t): the number k of leading spikes that agree (same neuron, |Δt| ≤ tol, spikes
    within `tol` of each other compared as sets) and the time of the first disagreement (the
    earlier of the two spikes there; inf if the sequences agree to the end of the shorter one and
    have the same length), plus the largest |Δt| over the agreeing prefix."""
    oa = np.lexsort((n_a, t_a))
    ob = np.lexsort((n_b, t_b))
    t_a, n_a, t_b, n_b = t_a[oa], n_a[oa], t_b[ob], n_b[ob]
    m = min(len(t_a), len(t_b))
    k = 0
    max_dt = 0.0
    while k < m:
        # a group of spikes within tol of spike k in either run: compare as sets
        ga = k
        while ga < len(t_a) and t_a[ga] - t_a[k] <= tol:
            ga += 1
        gb = k
        while gb < len(t_b) and t_b[gb] - t_b[k] <= tol:
            gb += 1
        if ga != gb:
            break
        sa = sorted(zip(n_a[k:ga], t_a[k:ga]))
        sb = sorted(zip(n_b[k:gb], t_b[k:gb]))
        if [s[0] for s in sa] != [s[0] for s in sb]:
            break
        dts = [abs(x[1] - y[1]) for x, y in zip(sa, sb)]
        if max(dts) > tol:
            break
        max_dt = max(max_dt, max(dts))
        k = ga
    if k == m and len(t_a) == len(t_b):
        return k, math.inf, max_dt
    cands = []
    if k < len(t_a):
        cands.append(t_a[k])
    if k < len(t_b):
        cands.append(t_b[k])
    return k, float(min(cands)), max_dt


def van_rossum(ta: np.ndarray, tb: np.ndarray, tau: float) -> float:
    """van Rossum distance (closed form, exponential kernel of time constant tau), squared
    distance normalised so that one unmatched spike contributes 1/2: D² = (Σ_aa + Σ_bb − 2Σ_ab)/2."""

    def s(x, y):
        if len(x) == 0 or len(y) == 0:
            return 0.0
        return float(np.exp(-np.abs(x[:, None] - y[None, :]) / tau).sum())

    d2 = (s(ta, ta) + s(tb, tb) - 2.0 * s(ta, tb)) / 2.0
    return math.sqrt(max(d2, 0.0))


def population_van_rossum(run_a, run_b, n, tau):
    """Mean over neurons of the van Rossum distance, divided by the mean spike count per neuron
    of the first run (0: identical trains; ~1: unrelated trains of equal rate, roughly)."""
    ds, counts = [], []
    for i in range(n):
        a = run_a[0][run_a[1] == i]
        b = run_b[0][run_b[1] == i]
        ds.append(van_rossum(a, b, tau) ** 2)
        counts.append(len(a))
    mc = max(np.mean(counts), 1e-300)
    return float(np.mean(ds) / mc)


def readout_rmse(readout: np.ndarray, d: int) -> float:
    """RMS over samples of |x̂ − x| (the target columns of readout.csv)."""
    xh = readout[:, 1:1 + d]
    x = readout[:, 1 + d:1 + 2 * d]
    return float(np.sqrt(np.mean(np.sum((xh - x) ** 2, axis=1))))


# --------------------------------------------------------------------------------------------
# Results


@dataclass
class Check:
    quantity: str
    measured: float
    tolerance: float
    unit: str = ""
    ok: bool | None = None  # None: reported only (not held to a tolerance)
    note: str = ""

    def __post_init__(self):
        if self.ok is None and self.tolerance is not None and math.isfinite(self.tolerance):
            self.ok = bool(abs(self.measured) <= self.tolerance)


@dataclass
class CaseResult:
    id: str
    title: str
    reference: str  # simulator(s) and model(s)
    tolerance: str  # one line: what it is held to
    why: str  # why that tolerance
    checks: list = field(default_factory=list)
    details: str = ""  # markdown: tables, explanations
    wall: float = 0.0

    @property
    def passed(self) -> bool:
        return all(c.ok is not False for c in self.checks)

    def to_json(self):
        d = asdict(self)
        d["passed"] = self.passed
        return d


def write_results(results, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([r.to_json() for r in results], indent=1, default=float))


def fmt(x, digits=3):
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if math.isnan(x):
        return "n/a"
    if x == 0:
        return "0"
    if abs(x) >= 1e4 or abs(x) < 1e-3:
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


# --------------------------------------------------------------------------------------------
# NEST mapping (MAPPING.md): ms, mV, pA, pF


@dataclass
class NestMap:
    """Maps one EBN neuron onto a NEST `iaf_psc_*_ps` neuron.

    V_nest = scale·V (mV), t_nest = 1000·t (ms), E_L = 0, tau_m = 1000/λ_V, C_m = c_m pF. Then a
    current of x /s in ebnsim (dV/dt units) is scale·c_m·x/1000 pA in NEST, a fast weight w
    (a jump of −w in V) is a delta weight −scale·w mV, a slow weight w (1/s, the jump of the
    exponential current) is an exponential-synapse weight scale·c_m·w/1000 pA."""

    lambda_v: float
    scale: float = 1.0
    c_m: float = 1.0

    @property
    def tau_m(self):
        return 1000.0 / self.lambda_v

    def current(self, x):  # 1/s -> pA
        return self.scale * self.c_m * np.asarray(x, dtype=float) / 1000.0

    def volt(self, v):  # EBN units -> mV
        return self.scale * np.asarray(v, dtype=float)

    def delta_weight(self, w_fast):  # Ω_f[i, j] -> mV
        return -self.scale * np.asarray(w_fast, dtype=float)

    def exp_weight(self, w_slow):  # Ω_s[i, j] (1/s) -> pA
        return self.scale * self.c_m * np.asarray(w_slow, dtype=float) / 1000.0

    def reset(self, thr, omega_ii, drive=None, t_ref_ms=0.0):
        """V_reset for the subtractive reset V -> T - Ω_ii. NEST needs t_ref >= resolution and
        clamps V to V_reset during t_ref; with a constant drive c (1/s) the EBN voltage after t_ref
        is V∞ + (T - Ω - V∞)e^{-λ t_ref}, V∞ = c/λ: setting V_reset to it makes the trajectories
        equal after t_ref (exact for a neuron whose only input during t_ref is the constant drive)."""
        v = np.asarray(thr, dtype=float) - np.asarray(omega_ii, dtype=float)
        if drive is not None and t_ref_ms > 0:
            vinf = np.asarray(drive, dtype=float) / self.lambda_v
            v = vinf + (v - vinf) * math.exp(-self.lambda_v * t_ref_ms / 1000.0)
        return self.scale * v


def nest_init(resolution_ms: float):
    os.environ.setdefault("PYNEST_QUIET", "1")
    import nest

    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.set(resolution=resolution_ms, local_num_threads=1, rng_seed=1)
    return nest


def nest_spikes(rec):
    ev = rec.get("events")
    t = np.asarray(ev["times"], dtype=float) / 1000.0
    n = np.asarray(ev["senders"], dtype=int)
    o = np.lexsort((n, t))
    return t[o], n[o]


def readout_from_spikes(times, neurons, D, lambda_d, sample_times):
    """x̂(t) = Σ_k D_{n_k} e^{−λ_d (t − t_k)} over spikes t_k ≤ t (spikes at a sample count)."""
    d = D.shape[0]
    out = np.zeros((len(sample_times), d))
    order = np.argsort(times, kind="stable")
    times, neurons = times[order], neurons[order]
    r = np.zeros(d)
    t_last = 0.0
    k = 0
    for s, ts in enumerate(sample_times):
        while k < len(times) and times[k] <= ts:
            r = r * math.exp(-lambda_d * (times[k] - t_last)) + D[:, neurons[k]]
            t_last = times[k]
            k += 1
        out[s] = r * math.exp(-lambda_d * (ts - t_last))
    return out


def network_stats(times, neurons, n, duration, D, lambda_d, readout_csv):
    """Rates, CV of ISIs and the readout error against the target columns of an ebnsim
    readout.csv (the same target for every simulator)."""
    d = D.shape[0]
    ts = readout_csv[:, 0]
    x = readout_csv[:, 1 + d:1 + 2 * d]
    xh = readout_from_spikes(times, neurons, D, lambda_d, ts)
    err = float(np.sqrt(np.mean(np.sum((xh - x) ** 2, axis=1))))
    return {
        "spikes": int(len(times)),
        "rate_hz": len(times) / n / duration,
        "cv_isi": cv_isi(times, neurons, n),
        "readout_rmse": err,
        "xhat": xh,
    }


def per_neuron_max_dt(t_a, n_a, t_b, n_b, n):
    """Neuron by neuron: (number of neurons whose spike counts differ, the largest |Δt| between
    their k-th spikes over the neurons with equal counts)."""
    differ, worst = 0, 0.0
    for i in range(n):
        a, b = np.sort(t_a[n_a == i]), np.sort(t_b[n_b == i])
        if len(a) != len(b):
            differ += 1
            continue
        if len(a):
            worst = max(worst, float(np.max(np.abs(a - b))))
    return differ, worst


# --------------------------------------------------------------------------------------------
# Fast-only EBNs (cases ebn-fast, ebn-refractory): A = −λ_d I, so Ω_s = Dᵀ(A + λ_d I)D = 0, and a
# piecewise-constant input c (`values[k]`, 1/s per dimension, from `times[k]` on).


def inhibitory_decoder_1d(n, seed, low=0.05, high=0.15):
    """A 1×n decoder of positive entries drawn uniformly from [low, high): every fast connection
    Ω_f[i,j] = D_i·D_j > 0 inhibits, so every neuron reaches threshold continuously (V = T) and
    NEST's V_reset can express the subtractive reset (MAPPING.md, trap 1)."""
    return np.random.default_rng(seed).uniform(low, high, (1, n))


def fast_ebn_model(D, times, values, lam, mu, delay, duration, name, refractory_period=0.0):
    """The ebnsim model file (λ_d = λ_V = lam; delay in s). With refractory_period > 0 (s) the
    neurons are refractory with `refractory = "clamp"` (NEST's t_ref semantics)."""
    d, n = D.shape
    net = {"neurons": n, "dims": d, "lambda_d": lam, "lambda_v": lam, "mu": mu,
           "fast_delay": delay, "decoder": D}
    if refractory_period > 0:
        net.update(refractory_period=refractory_period, refractory="clamp")
    return {
        "name": name,
        "network": net,
        "target": {"kind": "linear", "a": -lam * np.eye(d)},
        "input": {"kind": "piecewise_constant", "times": list(times), "values": values},
        "simulate": {"duration": duration, "cascade_limit": 1000 * n},
        "record": {"readout_dt": 1e-3},
    }


def nest_fast_ebn(D, times, values, lam, mu, delay_ms, res_ms, duration, scale,
                  t_ref_ms=None):
    """The same network in NEST (iaf_psc_delta_ps, all-to-all delta connections without autapses;
    MAPPING.md). Returns (spike times in s, neuron indices), sorted by time.

    t_ref_ms None: the EBN has no refractory period; NEST's t_ref is its minimum, the resolution,
    and V_reset is compensated for the drive over t_ref (trap 2). t_ref_ms = τ (ms, a multiple of
    the resolution): ebnsim's `refractory = "clamp"` of period τ, which is NEST's own semantics,
    so V_reset = T − Ω_ii exactly and nothing is compensated."""
    d, n = D.shape
    thr, wf, _ = ebn_weights(D, -lam * np.eye(d), lam, mu)
    nest = nest_init(res_ms)
    m = NestMap(lam, scale=scale, c_m=1.0)
    compensate = t_ref_ms is None
    t_ref = res_ms if compensate else t_ref_ms
    pop = nest.Create("iaf_psc_delta_ps", n, params=dict(
        E_L=0.0, C_m=m.c_m, tau_m=m.tau_m, t_ref=t_ref, V_m=0.0))
    pop.V_th = m.volt(thr).tolist()
    if not compensate:
        pop.V_reset = m.reset(thr, np.diag(wf)).tolist()

    ids = np.array(pop.global_id if n > 1 else [pop.global_id])
    pre, post = np.meshgrid(np.arange(n), np.arange(n))
    off = pre != post
    nest.Connect(ids[pre[off]], ids[post[off]], conn_spec="one_to_one",
                 syn_spec=dict(weight=m.delta_weight(wf[post[off], pre[off]]),
                               delay=np.full(off.sum(), delay_ms)))
    sr = nest.Create("spike_recorder")
    nest.Connect(pop, sr)
    ends = list(times[1:]) + [duration]
    for t_start, t_end, c in zip(times, ends, values):
        drive = D.T @ np.asarray(c, dtype=float)
        pop.I_e = m.current(drive).tolist()
        if compensate:
            pop.V_reset = m.reset(thr, np.diag(wf), drive=drive, t_ref_ms=t_ref).tolist()
        nest.Simulate((t_end - t_start) * 1000.0)
    t, s = nest_spikes(sr)
    return t, s - ids[0]
