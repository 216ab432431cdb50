"""Spikes and networks to the formats other tools read: Neo, NWB, SONATA and NIR.

Every package is optional and imported only by the function that needs it (``pip install neo``,
``pynwb``, ``h5py`` or ``nir``). Spike times stay float64 seconds, bit for bit; files are written
atomically (a temporary file in the same directory, then renamed), so a failed write leaves the
previous file, if any, untouched.

NIR caveat: NIR describes the network's equations, not ebnsim's *same-instant rule* (when
several neurons are at threshold at one instant, the most above it fires first and the others
see its effect before they may fire). A simulator that runs the graph resets and serialises
simultaneous spikes its own way — on a time grid, typically all at once — so its spikes differ
from ebnsim's wherever they coincide (docs/architecture.md §1). Its LIF reset is absolute: the
self-reset of a spike from threshold, ``V → T − (|D_i|² + μ)``, is exact for crossings (which
fire exactly at threshold) and not for a neuron that fires above threshold in a cascade.
"""

from __future__ import annotations

import datetime
import os
import tempfile
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

SORTING = {"none": 0, "by_id": 1, "by_time": 2}
"""The values of SONATA's ``sorting`` enum (an HDF5 enum over uint8)."""


def _need(module: str, package: str):
    try:
        return __import__(module)
    except ImportError:
        raise ImportError(f"this export needs the `{package}` package: pip install {package}") from None


def _spikes(t, i, n_neurons: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Checked spike arrays: equal lengths, finite non-decreasing times, neurons in range."""
    t = np.asarray(t, dtype=np.float64)
    i = np.asarray(i)
    if t.ndim != 1 or i.ndim != 1 or len(t) != len(i):
        raise ValueError(
            f"spikes: expected two 1-D arrays of equal length (times, neurons), got shapes {t.shape} and {i.shape}"
        )
    if not np.all(np.isfinite(t)):
        raise ValueError("spikes: expected finite times, got a NaN or infinite time")
    if len(t) > 1 and np.any(np.diff(t) < 0):
        k = int(np.argmax(np.diff(t) < 0))
        raise ValueError(f"spikes: expected times in firing order, got {t[k + 1]!r} after {t[k]!r}")
    if len(i) and not np.issubdtype(i.dtype, np.integer):
        raise ValueError(f"spikes: expected integer neuron indices, got dtype {i.dtype}")
    i = i.astype(np.int64)
    if len(i) and (i.min() < 0 or (n_neurons is not None and i.max() >= n_neurons)):
        raise ValueError(
            f"spikes: expected neuron indices in [0, {n_neurons}), got {int(i.min())}..{int(i.max())}"
        )
    return t, i


def _per_neuron(t: np.ndarray, i: np.ndarray, n: int) -> List[np.ndarray]:
    order = np.argsort(i, kind="stable")
    bounds = np.searchsorted(i[order], np.arange(n + 1))
    ts = t[order]
    return [ts[bounds[j] : bounds[j + 1]] for j in range(n)]


def _atomic(path, write) -> None:
    """Calls ``write(tmp_path)`` on a temporary file next to ``path``, then renames it."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    suffix = ".tmp" + os.path.splitext(path)[1]  # (readers that check the extension see it)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=suffix, dir=folder)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


# -- Neo ------------------------------------------------------------------------------------


def to_neo(t, i, n_neurons: int, t_stop: float, t_start: float = 0.0):
    """One ``neo.SpikeTrain`` per neuron (times in s, float64 as given; annotation ``neuron``)."""
    neo = _need("neo", "neo")
    pq = _need("quantities", "quantities")
    t, i = _spikes(t, i, n_neurons)
    if len(t) and (t[0] < t_start or t[-1] > t_stop):
        raise ValueError(f"to_neo: expected spikes within [{t_start}, {t_stop}] s, got {t[0]}..{t[-1]}")
    return [
        neo.SpikeTrain(
            times * pq.s, t_start=t_start * pq.s, t_stop=t_stop * pq.s, dtype=np.float64, neuron=j
        )
        for j, times in enumerate(_per_neuron(t, i, n_neurons))
    ]


# -- NWB ------------------------------------------------------------------------------------


def to_nwb(
    t,
    i,
    n_neurons: int,
    *,
    session_description: str = "ebnsim run",
    identifier: Optional[str] = None,
    session_start_time: Optional[datetime.datetime] = None,
):
    """A ``pynwb.NWBFile`` whose Units table holds one unit per neuron (id = neuron index,
    spike_times float64 s; a neuron without spikes keeps an empty unit)."""
    pynwb = _need("pynwb", "pynwb")
    import uuid

    t, i = _spikes(t, i, n_neurons)
    start = session_start_time or datetime.datetime.now(datetime.timezone.utc)
    nwb = pynwb.NWBFile(
        session_description=session_description,
        identifier=identifier or str(uuid.uuid4()),
        session_start_time=start,
    )
    for j, times in enumerate(_per_neuron(t, i, n_neurons)):
        nwb.add_unit(spike_times=times, id=j)
    return nwb


def write_nwb(path, t, i, n_neurons: int, **kw) -> None:
    """:func:`to_nwb`, written to ``path`` atomically."""
    pynwb = _need("pynwb", "pynwb")
    nwb = to_nwb(t, i, n_neurons, **kw)

    def write(tmp):
        with pynwb.NWBHDF5IO(tmp, "w") as io:
            io.write(nwb)

    _atomic(path, write)


# -- SONATA ---------------------------------------------------------------------------------


def write_sonata(path, t, i, population: str = "ebnsim", sorting: str = "by_time") -> None:
    """A SONATA spike file: ``/spikes/<population>/timestamps`` (float64, ``units = "s"``) and
    ``node_ids`` (uint64), the group's ``sorting`` attribute as SONATA's HDF5 enum
    (none/by_id/by_time over uint8), root attributes ``magic`` and ``version``; atomic."""
    h5py = _need("h5py", "h5py")
    t, i = _spikes(t, i)
    if sorting not in SORTING:
        raise ValueError(f"write_sonata: expected sorting in {sorted(SORTING)}, got {sorting!r}")
    if sorting == "by_id":
        order = np.lexsort((t, i))
        t, i = t[order], i[order]

    def write(tmp):
        with h5py.File(tmp, "w") as f:
            f.attrs.create("magic", 0x0A7A, dtype=np.uint32)
            f.attrs.create("version", np.array([0, 1], dtype=np.uint32))
            g = f.create_group("spikes").create_group(population)
            g.attrs.create("sorting", SORTING[sorting], dtype=h5py.enum_dtype(SORTING, basetype="u1"))
            ts = g.create_dataset("timestamps", data=t, dtype=np.float64)
            ts.attrs["units"] = "s"
            g.create_dataset("node_ids", data=i.astype(np.uint64), dtype=np.uint64)

    _atomic(path, write)


def read_sonata(path, population: Optional[str] = None) -> Tuple[np.ndarray, np.ndarray]:
    """``(t, i)`` of a SONATA spike file's population (the only one when not named), times in
    s (converted from ms when the file says so)."""
    h5py = _need("h5py", "h5py")
    with h5py.File(os.fspath(path), "r") as f:
        pops = list(f["spikes"])
        if population is None:
            if len(pops) != 1:
                raise ValueError(f"read_sonata: expected one population or a name, got {pops}")
            population = pops[0]
        g = f["spikes"][population]
        t = g["timestamps"][()].astype(np.float64)
        units = g["timestamps"].attrs.get("units", "s")
        units = units.decode() if isinstance(units, bytes) else units
        if units == "ms":
            t = t / 1e3
        elif units != "s":
            raise ValueError(f"read_sonata: expected timestamps in s or ms, got units {units!r}")
        return t, g["node_ids"][()].astype(np.int64)


# -- NIR ------------------------------------------------------------------------------------


def to_nir(network: Dict[str, Any]):
    """The EBN of ``network`` (:meth:`ebnsim.Simulation.network`) as a ``nir.NIRGraph``.

    With V_i' = −λ_V V_i + D_iᵀ c + D_iᵀ K x̂ − Σ_j (D_iᵀ D_j + μ δ_ij) o_j(t − δ) and
    x̂' = −λ_d x̂ + D o (K the slow core, ``network["core"]``):

    - ``lif``: LIF with τ = 1/λ_V, r = τ (so r I/τ = I), v_leak = 0, v_threshold = T_i,
      v_reset = T_i − (|D_i|² + μ) (the self-reset of a spike from threshold);
    - ``encode``: Linear Dᵀ (N × d) from ``input`` (c, d components);
    - ``decode``: Linear D (d × N) of the spikes; ``delay``: the fast delay δ (when > 0);
      ``fast``: Linear −Dᵀ (N × d) back to ``lif``; ``self``: Linear diag(|D_i|²) (N × N),
      cancelling the fast path's self term, which the reset already applies;
    - ``readout``: LI with τ = 1/λ_d, r = τ: x̂; ``slow``: Linear Dᵀ K (N × d) into ``lif``;
    - ``output``: the N spike trains.

    Only low-rank networks (``weights == "low_rank"``). Note the module's caveat on
    simultaneous spikes.
    """
    nir = _need("nir", "nir")
    if network.get("weights") != "low_rank":
        raise ValueError(
            f"to_nir: expected a low-rank network (weights = \"low_rank\"), got weights = {network.get('weights')!r}"
        )
    dec = np.asarray(network["decoder"], dtype=np.float64)
    d, n = dec.shape
    th = np.asarray(network["thresholds"], dtype=np.float64)
    lv, ld, mu = float(network["lambda_v"]), float(network["lambda_d"]), float(network["mu"])
    core = np.asarray(network["core"], dtype=np.float64).reshape(d, d)
    norms2 = np.sum(dec * dec, axis=0)
    tau_v = np.full(n, 1.0 / lv)
    tau_d = np.full(d, 1.0 / ld)
    nodes = {
        "input": nir.Input(input_type={"input": np.array([d])}),
        "encode": nir.Linear(weight=dec.T.copy()),
        "lif": nir.LIF(
            tau=tau_v, r=tau_v.copy(), v_leak=np.zeros(n), v_threshold=th.copy(), v_reset=th - (norms2 + mu)
        ),
        "decode": nir.Linear(weight=dec.copy()),
        "fast": nir.Linear(weight=-dec.T),
        "self": nir.Linear(weight=np.diag(norms2)),
        "readout": nir.LI(tau=tau_d, r=tau_d.copy(), v_leak=np.zeros(d)),
        "slow": nir.Linear(weight=dec.T @ core),
        "output": nir.Output(output_type={"output": np.array([n])}),
    }
    edges = [
        ("input", "encode"),
        ("encode", "lif"),
        ("lif", "decode"),
        ("lif", "self"),
        ("self", "lif"),
        ("fast", "lif"),
        ("decode", "readout"),
        ("readout", "slow"),
        ("slow", "lif"),
        ("lif", "output"),
    ]
    delay = float(network.get("fast_delay", 0.0))
    if delay > 0:
        nodes["delay"] = nir.Delay(delay=np.full(d, delay))
        edges += [("decode", "delay"), ("delay", "fast")]
    else:
        edges.append(("decode", "fast"))
    return nir.NIRGraph(nodes=nodes, edges=edges)


def from_nir(graph) -> Dict[str, Any]:
    """What :func:`to_nir` put in a graph: ``decoder`` (d × N), ``thresholds``, ``lambda_v``,
    ``lambda_d``, ``mu``, ``core`` and ``fast_delay``."""
    nodes = graph.nodes
    dec = np.asarray(nodes["decode"].weight, dtype=np.float64)
    lif = nodes["lif"]
    th = np.asarray(lif.v_threshold, dtype=np.float64)
    norms2 = np.sum(dec * dec, axis=0)
    mu = th - np.asarray(lif.v_reset, dtype=np.float64) - norms2
    # K from Dᵀ K by least squares (exact when D has full row rank).
    core, *_ = np.linalg.lstsq(dec.T, np.asarray(nodes["slow"].weight, dtype=np.float64), rcond=None)
    delay = float(np.asarray(nodes["delay"].delay).ravel()[0]) if "delay" in nodes else 0.0
    return {
        "decoder": dec,
        "thresholds": th,
        "lambda_v": float(1.0 / np.asarray(lif.tau).ravel()[0]),
        "lambda_d": float(1.0 / np.asarray(nodes["readout"].tau).ravel()[0]),
        "mu": float(np.median(mu)),
        "core": core,
        "fast_delay": delay,
    }
