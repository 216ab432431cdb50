"""The interchange exports, against the real packages: spike times kept to the bit."""

import datetime

import numpy as np
import pytest

import ebnsim
from ebnsim import interchange
from conftest import MODELS

# Times that a float32 or a decimal round trip would change; neuron 2 never fires.
T = np.array([0.0, 0.1 + 1e-15, 0.1 + 2e-15, 0.25, 1.0 / 3.0, 0.7], dtype=np.float64)
I = np.array([0, 1, 0, 3, 1, 0], dtype=np.int64)
N = 4


@pytest.fixture(scope="module")
def run():
    sim = ebnsim.Simulation.from_file(MODELS / "boerlin-oscillator.toml")
    sim.run(sim.duration)
    return sim


def test_neo_spike_trains():
    neo = pytest.importorskip("neo")
    trains = interchange.to_neo(T, I, N, t_stop=1.0)
    assert len(trains) == N and all(isinstance(s, neo.SpikeTrain) for s in trains)
    assert [s.annotations["neuron"] for s in trains] == list(range(N))
    assert np.array_equal(trains[0].rescale("s").magnitude, T[I == 0])
    assert trains[0].dtype == np.float64 and len(trains[2]) == 0
    assert float(trains[3].t_stop.rescale("s").magnitude) == 1.0
    with pytest.raises(ValueError, match="within"):
        interchange.to_neo(T, I, N, t_stop=0.5)


def test_nwb_round_trip(tmp_path):
    pynwb = pytest.importorskip("pynwb")
    path = tmp_path / "run.nwb"
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    interchange.write_nwb(path, T, I, N, session_start_time=start, identifier="test")
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        units = io.read().units
        assert list(units.id[:]) == list(range(N))
        for j in range(N):
            got = np.asarray(units["spike_times"][j], dtype=np.float64)
            assert np.array_equal(got, T[I == j]), j
    assert [p.name for p in tmp_path.iterdir()] == ["run.nwb"]  # no temporary left


def test_sonata_round_trip(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "spikes.h5"
    interchange.write_sonata(path, T, I, population="net")
    with h5py.File(path, "r") as f:
        assert f.attrs["magic"] == 0x0A7A and list(f.attrs["version"]) == [0, 1]
        g = f["spikes"]["net"]
        enum = h5py.check_enum_dtype(g.attrs.get_id("sorting").dtype)
        assert enum == {"none": 0, "by_id": 1, "by_time": 2}
        assert g.attrs["sorting"] == 2
        assert g["timestamps"].attrs["units"] == "s"
        assert g["timestamps"].dtype == np.float64 and g["node_ids"].dtype == np.uint64
    t, i = interchange.read_sonata(path)
    assert np.array_equal(t, T) and np.array_equal(i, I)
    interchange.write_sonata(path, T, I, sorting="by_id")
    t, i = interchange.read_sonata(path, "ebnsim")
    assert np.all(np.diff(i) >= 0)
    order = np.lexsort((T, I))
    assert np.array_equal(t, T[order]) and np.array_equal(i, I[order])


def test_nir_round_trip(tmp_path, run):
    nir = pytest.importorskip("nir")
    net = run.network()
    graph = run.to_nir()
    assert isinstance(graph, nir.NIRGraph)
    path = tmp_path / "net.nir"
    nir.write(path, graph)
    back = interchange.from_nir(nir.read(path))
    assert np.array_equal(back["decoder"], net["decoder"])
    assert np.array_equal(back["thresholds"], net["thresholds"])
    assert back["lambda_v"] == net["lambda_v"] and back["lambda_d"] == net["lambda_d"]
    assert back["mu"] == pytest.approx(net["mu"], rel=1e-6, abs=1e-15)
    assert np.allclose(back["core"], net["core"], rtol=1e-12, atol=1e-12)
    # The recurrence the graph describes is the model's fast weights −(DᵀD + μI) off the
    # diagonal (the reset takes the diagonal).
    g = nir.read(path).nodes
    d = net["decoder"]
    offdiag = g["fast"].weight @ g["decode"].weight + g["self"].weight
    expected = -(d.T @ d)
    np.fill_diagonal(expected, 0.0)
    assert np.allclose(offdiag, expected, atol=1e-15)
    assert np.allclose(g["lif"].v_threshold - g["lif"].v_reset, np.sum(d * d, axis=0) + net["mu"])


def test_a_real_run_exports_exactly(tmp_path, run):
    pytest.importorskip("h5py")
    pytest.importorskip("neo")
    t, i = run.spikes()
    run.write_sonata(tmp_path / "s.h5")
    rt, ri = interchange.read_sonata(tmp_path / "s.h5")
    assert np.array_equal(rt, t) and np.array_equal(ri, i)
    trains = run.to_neo()
    assert sum(len(s) for s in trains) == len(t)
    assert np.array_equal(np.sort(np.concatenate([s.magnitude for s in trains])), np.sort(t))


def test_bad_spike_arrays_are_refused():
    with pytest.raises(ValueError, match="equal length"):
        interchange.write_sonata("x.h5", T, I[:-1])
    with pytest.raises(ValueError, match="firing order"):
        interchange.to_neo(T[::-1], I, N, t_stop=1.0)
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        interchange.to_nwb(T, I + 1, N)
    with pytest.raises(ValueError, match="finite"):
        interchange.to_nwb(np.array([np.nan]), np.array([0]), N)
