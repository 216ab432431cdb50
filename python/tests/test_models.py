"""From Python, every shipped model file gives the command line's outputs, to the bit."""

import pytest
import numpy as np

import ebnsim
from conftest import MODELS, read_csv_matrix, read_json, read_spikes_csv, run_cli

PLAIN = sorted(p.name for p in MODELS.glob("*.toml") if "-learn" not in p.name)
LEARNING = sorted(p.name for p in MODELS.glob("*-learn.toml"))

# summary.json fields that depend on the machine, not the run.
VOLATILE = {"wall_seconds"}


def test_every_shipped_model_is_covered():
    assert len(PLAIN) >= 6 and len(LEARNING) >= 4
    assert all(ebnsim._ebnsim.is_learning_model((MODELS / m).read_text()) for m in LEARNING)
    assert not any(ebnsim._ebnsim.is_learning_model((MODELS / m).read_text()) for m in PLAIN)


def check_summary(sim, cli_dir):
    ours = sim.summary()
    theirs = read_json(cli_dir / "summary.json")
    for k in VOLATILE:
        ours.pop(k), theirs.pop(k)
    assert ours == theirs


@pytest.mark.parametrize("model", PLAIN)
def test_plain_model_equals_ebnsim_run(model, cli, tmp_path):
    out = tmp_path / "cli"
    done = run_cli(cli, ["run", str(MODELS / model)], out)
    assert done.returncode == 0, done.stderr
    sim = ebnsim.Simulation.from_file(MODELS / model)
    assert not sim.is_learning
    sim.run(sim.duration)
    t, i = sim.spikes()
    ct, ci = read_spikes_csv(out / "spikes.csv")
    assert t.dtype == np.float64 and i.dtype == np.int64
    assert len(t) > 0
    assert np.array_equal(t, ct) and np.array_equal(i, ci)
    # The readout and target samples, and the summary (all but the wall time), too.
    header, data = read_csv_matrix(out / "readout.csv")
    r = sim.readout()
    d = r["xhat"].shape[1]
    assert header[0] == "time" and len(header) == 1 + 2 * d
    assert np.array_equal(r["t"], data[:, 0])
    assert np.array_equal(r["xhat"], data[:, 1 : 1 + d])
    assert np.array_equal(r["x"], data[:, 1 + d :])
    check_summary(sim, out)
    net = sim.network()
    assert net == net and net["neurons"] == read_json(out / "network.json")["neurons"]
    assert np.array_equal(net["decoder"], np.asarray(read_json(out / "network.json")["decoder"]))


@pytest.mark.parametrize("model", LEARNING)
def test_learning_model_equals_ebnsim_run(model, cli, tmp_path):
    out = tmp_path / "cli"
    done = run_cli(cli, ["run", str(MODELS / model)], out)
    assert done.returncode == 0, done.stderr
    sim = ebnsim.Simulation.from_file(MODELS / model)
    assert sim.is_learning and sim.weights() is None
    sim.run(sim.duration)
    t, i = sim.spikes()
    ct, ci = read_spikes_csv(out / "spikes.csv")
    assert len(t) > 0
    assert np.array_equal(t, ct) and np.array_equal(i, ci)
    check_summary(sim, out)
    w = read_json(out / "weights.json")
    u = sim.weights()
    assert np.array_equal(u.ravel(), np.asarray(w["u"], dtype=np.float64).ravel())
    curve = sim.learning_curve()
    header, data = read_csv_matrix(out / "learning_curve.csv")
    assert np.array_equal(curve["time"], data[:, header.index("time")])
    assert np.array_equal(curve["field_error"], data[:, header.index("field_error")])


def test_seed_and_engine_overrides_equal_the_cli(cli, tmp_path):
    model = MODELS / "smooth-random-2d.toml"
    out = tmp_path / "cli"
    done = run_cli(cli, ["run", str(model), "--seed", "11", "--engine", "dense", "--dt", "1e-4"], out)
    assert done.returncode == 0, done.stderr
    sim = ebnsim.Simulation.from_file(model, seed=11, engine="dense", dt=1e-4)
    sim.run(sim.duration)
    t, i = sim.spikes()
    ct, ci = read_spikes_csv(out / "spikes.csv")
    assert len(t) > 0 and np.array_equal(t, ct) and np.array_equal(i, ci)
    check_summary(sim, out)
    # Another seed draws another input: other spikes.
    other = ebnsim.Simulation.from_file(model, seed=12)
    other.run(other.duration)
    assert not np.array_equal(other.spikes()[0][:50], t[:50])


def test_a_run_in_pieces_equals_one_run():
    model = MODELS / "boerlin-oscillator.toml"
    whole = ebnsim.Simulation.from_file(model)
    whole.run(whole.duration)
    pieces = ebnsim.Simulation.from_file(model)
    for t in [0.013, 0.1, 0.1, 0.33333, 0.7, pieces.duration]:
        pieces.run_until(t)
    assert pieces.time == whole.time
    for a, b in zip(whole.spikes(), pieces.spikes()):
        assert np.array_equal(a, b)
    streamed = ebnsim.Simulation.from_file(model)
    batches = list(streamed.stream(every=0.07))
    assert batches[-1]["time"] == streamed.duration
    t = np.concatenate([b["t"] for b in batches])
    i = np.concatenate([b["i"] for b in batches])
    assert np.array_equal(t, whole.spikes()[0]) and np.array_equal(i, whole.spikes()[1])
    assert all(np.all(b["t"] <= b["time"]) for b in batches)
    xhat = np.concatenate([b["readout"]["xhat"] for b in batches])
    assert np.array_equal(xhat, whole.readout()["xhat"])


def test_learning_models_run_their_phases_whole():
    sim = ebnsim.Simulation.from_file(MODELS / "double-well-1d-learn.toml")
    with pytest.raises(ebnsim.BuildError, match="as a whole"):
        sim.run(0.5 * sim.duration)
    with pytest.raises(ebnsim.BuildError, match="has not"):
        sim.summary()
