"""ebnsim: exact, continuous-time simulation of efficient balanced spiking networks.

A Python face on the Rust library: the same engines, model files, seeds and messages as the
``ebnsim`` command line, with numpy arrays in and out and SI units (seconds, 1/s) throughout.

>>> import ebnsim
>>> sim = ebnsim.Simulation.from_file("models/boerlin-oscillator.toml")
>>> sim.run(sim.duration)                                  # doctest: +SKIP
>>> t, i = sim.spikes()                                    # doctest: +SKIP

``t`` (float64 seconds) and ``i`` (int64 neurons, 0-based) equal the rows of the ``spikes.csv``
that ``ebnsim run`` writes for the same file and seed, to the bit. Stopping and going on
(``run`` in pieces, sampling the readout or the state) never moves a spike.

A learning model file (``[basis]`` and ``[[phase]]``) runs its phases as a whole:
``sim.run(sim.duration)`` once, then ``sim.weights()``, ``sim.learning_curve()`` and the
per-phase metrics in ``sim.summary()["phases"]``.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterable, Iterator, Optional, Sequence, Tuple

import numpy as np

from . import errors
from .errors import BuildError, EbnsimError, ModelError, OutputError, SimulationError
from . import _ebnsim

__version__ = _ebnsim.__version__

__all__ = [
    "Simulation",
    "Network",
    "Input",
    "learn",
    "sweep",
    "EbnsimError",
    "ModelError",
    "BuildError",
    "SimulationError",
    "OutputError",
    "errors",
]


def _f64(x, ndim: int, name: str) -> np.ndarray:
    """A C-contiguous float64 array of `ndim` dimensions (1-D input accepted for 2-D as one row)."""
    a = np.ascontiguousarray(np.asarray(x, dtype=np.float64))
    if ndim == 2 and a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != ndim:
        raise BuildError(f"field `{name}`: expected a {ndim}-D array, got shape {a.shape}")
    return a


def _count(v, name: str) -> int:
    """A non-negative integer (a seed, a neuron index, a limit), or a BuildError naming it."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or int(v) < 0:
        raise BuildError(f"field `{name}`: expected a non-negative integer, got {v!r}")
    if int(v) >= 2**64:
        raise BuildError(f"field `{name}`: expected an integer below 2^64, got {v!r}")
    return int(v)


def _network_dict(text: str) -> Dict[str, Any]:
    """``network.json`` as a dict of numpy arrays (decoder d × N, thresholds N, core d × d)."""
    raw = json.loads(text)
    out: Dict[str, Any] = dict(raw)
    d = raw["dims"]
    out["decoder"] = np.asarray(raw["decoder"], dtype=np.float64).reshape(d, raw["neurons"])
    out["thresholds"] = np.asarray(raw["thresholds"], dtype=np.float64)
    if raw.get("core") is not None:
        out["core"] = np.asarray(raw["core"], dtype=np.float64).reshape(d, d)
    periods = raw.get("refractory_period")
    out["refractory_period"] = (
        np.zeros(raw["neurons"]) if periods is None else np.asarray(periods, dtype=np.float64)
    )
    out.setdefault("refractory", None)
    return out


class Network:
    """N leaky integrate-and-fire neurons encoding d dimensions (the model format's ``[network]``).

    ``decoder`` is d × N: column j is neuron j's decoding direction D_j. Defaults follow the
    model format: ``lambda_v = lambda_d``, thresholds ``(|D_j|² + mu + nu) / 2``, weights from
    the decoder (low rank) unless ``fast_weights``/``slow_weights`` (N × N) are given, ``a`` the
    target's d × d matrix A for the slow weights, no refractory period. Units: 1/s and s.
    """

    def __init__(
        self,
        decoder,
        *,
        lambda_d: float = 10.0,
        lambda_v: Optional[float] = None,
        mu: float = 0.0,
        nu: float = 0.0,
        fast_delay: float = 0.0,
        thresholds=None,
        a=None,
        fast_weights=None,
        slow_weights=None,
        refractory_period=0.0,
        refractory_mode: str = "clamp",
    ):
        dec = _f64(decoder, 2, "decoder")
        periods = np.atleast_1d(np.asarray(refractory_period, dtype=np.float64))
        self._inner = _ebnsim.Network(
            dec,
            lambda_d=float(lambda_d),
            lambda_v=None if lambda_v is None else float(lambda_v),
            mu=float(mu),
            nu=float(nu),
            fast_delay=float(fast_delay),
            thresholds=None if thresholds is None else _f64(thresholds, 1, "thresholds"),
            a=None if a is None else _f64(a, 2, "a"),
            fast_weights=None if fast_weights is None else _f64(fast_weights, 2, "fast_weights"),
            slow_weights=None if slow_weights is None else _f64(slow_weights, 2, "slow_weights"),
            refractory_period=np.ascontiguousarray(periods),
            refractory_mode=refractory_mode,
        )

    @property
    def neurons(self) -> int:
        """Number of neurons N."""
        return self._inner.neurons

    @property
    def dims(self) -> int:
        """Number of encoded dimensions d."""
        return self._inner.dims

    def to_dict(self) -> Dict[str, Any]:
        """The network as ``network.json`` describes it, with numpy arrays."""
        return _network_dict(self._inner.to_json())

    def __repr__(self) -> str:
        return f"ebnsim.Network(neurons={self.neurons}, dims={self.dims})"


class Input:
    """A command input c(t) of d components (the model format's ``[input]``), in absolute time.

    Build one with :meth:`zero`, :meth:`constant`, :meth:`piecewise_constant`, :meth:`piecewise_linear` or
    :meth:`smooth_random`.
    """

    def __init__(self, inner):
        self._inner = inner

    @staticmethod
    def zero(dims: int) -> "Input":
        """No input (d components), the model format's ``kind = "zero"``."""
        return Input(_ebnsim.Input.constant(np.zeros(int(dims))))

    @staticmethod
    def constant(values: Sequence[float]) -> "Input":
        """The same value at all times (d components)."""
        return Input(_ebnsim.Input.constant(_f64(values, 1, "input.values")))

    @staticmethod
    def piecewise_constant(times: Sequence[float], values) -> "Input":
        """``values[k]`` (K × d) holds from ``times[k]`` (starting at 0) to ``times[k + 1]``."""
        return Input(
            _ebnsim.Input.piecewise_constant(
                _f64(times, 1, "input.times"), _f64(values, 2, "input.values")
            )
        )

    @staticmethod
    def piecewise_linear(times: Sequence[float], values) -> "Input":
        """Linear through ``(times[k], values[k])``; the last value holds to the end."""
        return Input(
            _ebnsim.Input.piecewise_linear(
                _f64(times, 1, "input.times"), _f64(values, 2, "input.values")
            )
        )

    @staticmethod
    def smooth_random(
        mean: Sequence[float], amplitude: float, correlation_time: float, duration: float, seed: int
    ) -> "Input":
        """A natural cubic spline through normal draws (standard deviation ``amplitude``, plus
        ``mean``) every ``correlation_time`` s over ``[0, duration]``, drawn from ``seed`` exactly
        as a model file's ``kind = "smooth_random"`` input with that seed."""
        return Input(
            _ebnsim.Input.smooth_random(
                _f64(mean, 1, "input.mean"),
                float(amplitude),
                float(correlation_time),
                float(duration),
                _count(seed, "seed"),
            )
        )

    @property
    def dims(self) -> int:
        """Number of components d."""
        return self._inner.dims


class Simulation:
    """A network, its input and an engine, advanced in time on request.

    From a model file: :meth:`from_file`. From code::

        net = ebnsim.Network(decoder, lambda_d=10.0, mu=1e-6)
        sim = ebnsim.Simulation(net, ebnsim.Input.constant([2.0]), readout_dt=1e-3)
        sim.run(1.0)

    Keyword arguments of the constructor: ``readout_dt`` (s; readout sampled at k·readout_dt),
    ``engine`` (``"exact"``, the default, or ``"dense"`` with ``dt``, ``integrator``
    ``"exponential"``/``"euler"`` and ``spike_rule`` ``"one_per_step"``/``"greedy"``/
    ``"all_above"``), ``x0`` (initial encoded state), ``A`` (d × d: the readout is compared with
    the target x' = A x + c), ``cascade_limit``, ``state`` (a dict: ``dt``, ``neurons``
    (default all), ``variables`` (``("v",)`` by default, ``"r"`` the filtered spike trains),
    ``at_spikes``) and ``record_spikes`` (the neurons whose spikes are kept; default all).
    """

    def __init__(
        self,
        network: Network,
        input: Input,
        *,
        readout_dt: Optional[float] = 1e-3,
        engine: str = "exact",
        dt: Optional[float] = None,
        integrator: Optional[str] = None,
        spike_rule: Optional[str] = None,
        x0=None,
        A=None,
        cascade_limit: Optional[int] = None,
        state: Optional[Dict[str, Any]] = None,
        record_spikes: Optional[Iterable[int]] = None,
    ):
        state = dict(state or {})
        unknown = set(state) - {"dt", "neurons", "variables", "at_spikes"}
        if unknown:
            raise BuildError(
                f"field `state`: expected the keys dt, neurons, variables, at_spikes, got {sorted(unknown)}"
            )
        neurons = state.get("neurons")
        variables = state.get("variables")
        self._sim = _ebnsim.Simulation(
            network._inner,
            input._inner,
            readout_dt=None if readout_dt is None else float(readout_dt),
            engine=engine,
            dt=None if dt is None else float(dt),
            integrator=integrator,
            spike_rule=spike_rule,
            x0=None if x0 is None else [float(v) for v in np.ravel(x0)],
            a=None if A is None else [float(v) for v in np.ravel(_f64(A, 2, "A"))],
            cascade_limit=None if cascade_limit is None else _count(cascade_limit, "cascade_limit"),
            state_neurons=None if neurons is None else [_count(n, "state.neurons") for n in neurons],
            state_dt=None if state.get("dt") is None else float(state["dt"]),
            state_variables=None if variables is None else [str(v) for v in variables],
            state_at_spikes=bool(state.get("at_spikes", False)),
            spike_neurons=None if record_spikes is None else [_count(n, "record_spikes") for n in record_spikes],
        )

    @classmethod
    def from_file(
        cls,
        path: "os.PathLike[str] | str",
        seed: Optional[int] = None,
        engine: Optional[str] = None,
        *,
        dt: Optional[float] = None,
        cascade_limit: Optional[int] = None,
        weights: "os.PathLike[str] | str | None" = None,
        force: bool = False,
    ) -> "Simulation":
        """The simulation a model file describes, as ``ebnsim run`` runs it.

        ``seed`` replaces the file's ``seed`` (every random draw is redrawn, as ``--seed``),
        ``engine`` (``"exact"``/``"dense"``) and ``dt`` the file's ``simulate.engine`` and
        ``simulate.dt``, ``cascade_limit`` its limit; ``weights`` (a ``weights.json`` of
        ``ebnsim learn``) runs a learning model's phases with those weights, learning off;
        ``force`` runs a model whose estimated cost is absurd (``--force``).
        """
        self = cls.__new__(cls)
        self._sim = _ebnsim.Simulation.from_file(
            os.fspath(path),
            seed=None if seed is None else _count(seed, "seed"),
            engine=engine,
            dt=None if dt is None else float(dt),
            cascade_limit=None if cascade_limit is None else _count(cascade_limit, "cascade_limit"),
            weights=None if weights is None else os.fspath(weights),
            force=bool(force),
        )
        return self

    # -- time ------------------------------------------------------------------------------

    @property
    def duration(self) -> Optional[float]:
        """The model file's ``simulate.duration`` (a learning model: its phases' total), s;
        ``None`` for a network built in code."""
        return self._sim.duration

    @property
    def time(self) -> float:
        """Time up to which the simulation has run, s."""
        return self._sim.time

    @property
    def is_learning(self) -> bool:
        """Whether this runs a learning model's phases."""
        return self._sim.is_learning

    def run(self, duration: float) -> None:
        """Runs on for ``duration`` seconds (the interpreter lock is released meanwhile; Ctrl-C
        stops the run at a consistent time)."""
        self.run_until(self.time + float(duration))

    def run_until(self, t: float) -> None:
        """Runs every event at or before ``t`` (s)."""
        self._sim.run_until(float(t))

    # -- what was recorded -----------------------------------------------------------------

    def spikes(self) -> Tuple[np.ndarray, np.ndarray]:
        """``(t, i)``: every spike so far in firing order, times in s (float64) and neurons
        (int64, 0-based) — the rows of ``spikes.csv``."""
        return self._sim.spikes()

    def readout(self) -> Optional[Dict[str, Any]]:
        """``{"t": (K,), "xhat": (K, d), "x": (K, d) or None}``: the readout x̂ and the target x
        sampled exactly at k·readout_dt so far; ``None`` without a readout interval."""
        r = self._sim.readout()
        if r is None:
            return None
        t, xhat, x, d = r
        k = len(t)
        return {
            "t": t,
            "xhat": xhat.reshape(k, d),
            "x": None if x is None else x.reshape(k, d),
        }

    def state(self) -> Optional[Dict[str, Any]]:
        """The state monitor's samples: ``{"t": (K,), "neurons": (M,), "v": (K, M), "r": (K, M),
        "columns": [...], "values": (K, C)}`` (``v``/``r`` as recorded) plus ``"at_spikes"``
        (``{"t", "neuron", "values"}``, each neuron's columns just before its reset) when asked;
        ``None`` without a state monitor."""
        s = self._sim.state()
        if s is None:
            return None
        columns, t, values, at = s
        k = len(t)
        c = len(columns)
        values = values.reshape(k, c)
        out: Dict[str, Any] = {"t": t, "columns": list(columns), "values": values}
        variables = []
        for name in columns:
            v = name.split("_", 1)[0]
            if v not in variables:
                variables.append(v)
        m = c // max(len(variables), 1)
        out["neurons"] = np.asarray(
            [int(name.split("_", 1)[1]) for name in columns[:m]], dtype=np.int64
        )
        for j, v in enumerate(variables):
            out[v] = values[:, j * m : (j + 1) * m]
        if at is not None:
            at_t, at_i, at_v = at
            out["at_spikes"] = {"t": at_t, "neuron": at_i, "values": at_v.reshape(len(at_t), c)}
        return out

    def counters(self) -> Dict[str, int]:
        """What the engine did so far (``summary.json``'s ``counters``)."""
        return json.loads(self._sim.counters_json())

    def summary(self) -> Dict[str, Any]:
        """``summary.json`` of the run up to now (the fields of ``ebnsim run``; a learning model
        adds ``phases``, ``field_error``, ``basis``)."""
        return json.loads(self._sim.summary_json())

    def network(self) -> Dict[str, Any]:
        """The network that runs, as ``network.json`` describes it, with numpy arrays."""
        return _network_dict(self._sim.network_json())

    def weights(self) -> Optional[np.ndarray]:
        """A learning run's weights U (d × N_b), or ``None`` (not run yet, or not learning)."""
        w = self._sim.weights()
        if w is None:
            return None
        u, d, nb = w
        return u.reshape(d, nb)

    def learning_curve(self) -> Optional[Dict[str, np.ndarray]]:
        """A learning run's curve: ``{"time", "phase", "field_error", "window_nrmse"}``."""
        c = self._sim.learning_curve()
        if c is None:
            return None
        cols = list(zip(*c)) if c else [(), (), (), ()]
        return {
            "time": np.asarray(cols[0], dtype=np.float64),
            "phase": np.asarray(cols[1], dtype=np.int64),
            "field_error": np.asarray(cols[2], dtype=np.float64),
            "window_nrmse": np.asarray(cols[3], dtype=np.float64),
        }

    # -- streaming -------------------------------------------------------------------------

    def stream(self, until: Optional[float] = None, every: float = 0.1) -> Iterator[Dict[str, Any]]:
        """Runs to ``until`` (default: the model's duration) in pieces of ``every`` seconds,
        yielding after each piece a batch ``{"time": end of the piece, "t", "i": its spikes,
        "readout": its readout samples (the dict of :meth:`readout`) or None, "state": its
        state samples (``{"t", "values"}``) or None}``.

        The batches are the run's own: cutting a run into pieces never moves a spike or a
        sample. Stop iterating to stop the run (the simulation stays at the last piece's end).
        A learning model runs its phases as a whole, so it cannot be streamed piece by piece."""
        if self.is_learning:
            raise BuildError(
                "field `stream`: expected a plain model (a learning model runs its phases as a whole)"
            )
        end = self.duration if until is None else float(until)
        if end is None:
            raise BuildError("field `until`: expected an end time for a network built in code, got None")
        every = float(every)
        if not (every > 0 and np.isfinite(every)):
            raise BuildError(f"field `every`: expected a finite positive interval in seconds, got {every}")
        if not (np.isfinite(end) and end >= self.time):
            raise BuildError(f"field `until`: expected a finite time not before t = {self.time} s, got {end}")

        def counts():
            r, s = self._sim.readout(), self._sim.state()
            return len(self._sim.spikes()[0]), 0 if r is None else len(r[0]), 0 if s is None else len(s[1])

        seen = counts()
        k = 0
        start = self.time
        while self.time < end:
            k += 1
            t = min(end, start + k * every)
            self.run_until(t)
            st, si = self.spikes()
            r, s = self.readout(), self.state()
            yield {
                "time": t,
                "t": st[seen[0] :],
                "i": si[seen[0] :],
                "readout": None if r is None else {key: None if v is None else v[seen[1] :] for key, v in r.items()},
                "state": None if s is None else {"t": s["t"][seen[2] :], "values": s["values"][seen[2] :]},
            }
            seen = counts()

    # -- interchange -----------------------------------------------------------------------

    def to_neo(self):
        """The spikes as one ``neo.SpikeTrain`` per neuron (``pip install neo``)."""
        from . import interchange

        t, i = self.spikes()
        return interchange.to_neo(t, i, self.network()["neurons"], t_stop=self.time)

    def write_nwb(self, path, **kw) -> None:
        """The spikes as an NWB file's Units table (``pip install pynwb``), written atomically."""
        from . import interchange

        t, i = self.spikes()
        interchange.write_nwb(path, t, i, self.network()["neurons"], **kw)

    def write_sonata(self, path, population: str = "ebnsim") -> None:
        """The spikes as a SONATA spike file (``pip install h5py``), written atomically."""
        from . import interchange

        t, i = self.spikes()
        interchange.write_sonata(path, t, i, population=population)

    def to_nir(self):
        """The network as a NIR graph (``pip install nir``; see ``ebnsim.interchange``)."""
        from . import interchange

        return interchange.to_nir(self.network())

    def __repr__(self) -> str:
        n = self.network()
        kind = "learning" if self.is_learning else "plain"
        return f"ebnsim.Simulation({kind}, neurons={n['neurons']}, dims={n['dims']}, t={self.time})"


def learn(
    path, seed: Optional[int] = None, engine: Optional[str] = None, *, dt=None, weights=None, force=False
) -> Simulation:
    """Runs a learning model's phases (as ``ebnsim learn``; with ``weights``, continuing from
    them with learning off, as ``ebnsim run --weights``) and returns the finished simulation.
    ``force=True`` runs phases estimated to be absurd (``ebnsim learn --force``)."""
    sim = Simulation.from_file(path, seed=seed, engine=engine, dt=dt, weights=weights, force=force)
    if not sim.is_learning:
        raise ModelError(
            f"{os.fspath(path)}: expected a learning model file ([basis] and [[phase]]), got a plain model"
        )
    sim.run(sim.duration)
    return sim


def _toml_value(v) -> str:
    """A number or string as a TOML value (floats in Python's shortest round-trip form)."""
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a TOML basic string
    if isinstance(v, (bool, np.bool_)):
        raise BuildError(f"field `vary`: expected numbers, got {v!r}")
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return repr(float(v)) if np.isfinite(v) else json.dumps(str(v))


def sweep(
    path,
    seeds: Iterable[int],
    vary: Optional[Dict[str, Sequence[float]]] = None,
    *,
    threads: int = 1,
    table: str = "auto",
):
    """Runs a model file over ``seeds`` × the values of each varied field, as ``ebnsim sweep``
    (docs/sweep.md): ``vary`` maps a field's path (``"network.mu"``, ``"input.amplitude"``,
    ``"phase.1.kill_fraction"``) to its values; runs are the product, the last field fastest,
    ``threads`` at once (results do not depend on it). Returns the table of ``table.csv``: one
    row per run with ``run``, ``seed``, the varied fields and the metrics — a pandas DataFrame
    (``table="pandas"``, or ``"auto"`` when pandas is installed) or a dict of numpy arrays
    (``"dict"``; absent values NaN)."""
    if table not in ("auto", "pandas", "dict"):
        raise BuildError(f'field `table`: expected "auto", "pandas" or "dict", got {table!r}')
    model = os.path.abspath(os.fspath(path))
    lines = [f"model = {_toml_value(model)}", "seeds = [" + ", ".join(_toml_value(_count(s, "seeds")) for s in seeds) + "]"]
    for field, values in (vary or {}).items():
        lines += ["", "[[vary]]", f"field = {_toml_value(str(field))}"]
        lines.append("values = [" + ", ".join(_toml_value(v) for v in np.ravel(values).tolist()) + "]")
    spec_file = os.path.join(os.path.dirname(model), "<python sweep>")
    columns, rows = _ebnsim.sweep("\n".join(lines) + "\n", spec_file, threads=_count(threads, "threads"))
    cols: Dict[str, np.ndarray] = {}
    for j, name in enumerate(columns):
        cells = [r[j] for r in rows]
        if cells and all(isinstance(c, int) for c in cells):
            cols[name] = np.asarray(cells, dtype=np.int64)
        else:
            cols[name] = np.asarray([np.nan if c is None else c for c in cells], dtype=np.float64)
    if table != "dict":
        try:
            import pandas as pd
        except ImportError:
            if table == "pandas":
                raise ImportError("sweep(table='pandas') needs pandas: pip install pandas") from None
            return cols
        return pd.DataFrame(cols)
    return cols
