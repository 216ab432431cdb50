"""The Python API on its own terms: networks from code, monitors, errors, sweeps."""

import math

import numpy as np
import pytest

import ebnsim
from conftest import MODELS, read_csv_matrix, run_cli

BAD_MODEL = """name = "bad"
[network]
neurons = 2
dims = 1
lambda_d = {lambda_d}
decoder = [[0.1, -0.1]]
[simulate]
duration = 0.1
"""


def test_a_network_built_in_code_equals_its_model_file():
    # models/perfect-integrator.toml, written out in code.
    net = ebnsim.Network(
        [[0.10, 0.11, 0.09, 0.12, 0.08, -0.10, -0.11, -0.09, -0.12, -0.08]], lambda_d=10.0, mu=1e-4
    )
    assert (net.neurons, net.dims) == (10, 1)
    inp = ebnsim.Input.piecewise_constant([0.0, 0.2, 0.4], [[2.0], [0.0], [-3.0]])
    sim = ebnsim.Simulation(net, inp, readout_dt=1e-3, A=[[0.0]], x0=[0.0])
    assert sim.duration is None
    sim.run(1.0)
    ref = ebnsim.Simulation.from_file(MODELS / "perfect-integrator.toml")
    ref.run(ref.duration)
    t, i = sim.spikes()
    assert len(t) > 10
    assert np.array_equal(t, ref.spikes()[0]) and np.array_equal(i, ref.spikes()[1])
    assert np.array_equal(sim.readout()["xhat"], ref.readout()["xhat"])
    assert sim.summary()["readout_rmse"] == ref.summary()["readout_rmse"]
    assert np.array_equal(net.to_dict()["decoder"], ref.network()["decoder"])


def test_state_monitor_is_exact_against_the_closed_form():
    # One neuron, d = 1, constant input below threshold: V(t) = D c / λ_V (1 − e^{−λ_V t}).
    d, c, lam = 0.5, 2.0, 10.0
    net = ebnsim.Network([[d]], lambda_d=lam)
    sim = ebnsim.Simulation(
        net, ebnsim.Input.constant([c]), state={"dt": 0.01, "variables": ["v", "r"]}
    )
    sim.run(0.5)
    s = sim.state()
    assert s["columns"] == ["v_0", "r_0"] and list(s["neurons"]) == [0]
    assert np.array_equal(s["t"], np.arange(51) * 0.01)
    exact = d * c / lam * -np.expm1(-lam * s["t"])
    assert np.max(np.abs(s["v"][:, 0] - exact)) <= 4e-16 * np.max(exact)
    assert np.all(s["r"] == 0.0) and len(sim.spikes()[0]) == 0


def test_state_at_spikes_is_at_threshold():
    # Above threshold the neuron fires; just before each reset its voltage is its threshold.
    net = ebnsim.Network([[0.5]], lambda_d=10.0)
    sim = ebnsim.Simulation(
        net, ebnsim.Input.constant([4.0]), state={"dt": 0.05, "at_spikes": True}
    )
    sim.run(1.0)
    t, i = sim.spikes()
    at = sim.state()["at_spikes"]
    threshold = net.to_dict()["thresholds"][0]
    assert len(t) >= 5 and np.array_equal(at["t"], t) and np.array_equal(at["neuron"], i)
    # (to rounding: the voltage is rebuilt from the shared state after each reset)
    assert np.max(np.abs(at["values"][:, 0] - threshold)) <= 1e-13 * threshold
    # First crossing in closed form: V∞ (1 − e^{−λ t}) = T.
    v_inf = 0.5 * 4.0 / 10.0
    first = -math.log1p(-threshold / v_inf) / 10.0
    assert abs(t[0] - first) <= 4 * np.spacing(first)


def test_state_monitor_of_a_model_file_equals_state_csv(cli, tmp_path):
    text = (MODELS / "boerlin-oscillator.toml").read_text()
    text = text.replace(
        "[record]\n", '[record]\nstate = { neurons = [0, 3, 7], dt = 0.01, variables = ["v", "r"] }\n', 1
    )
    model = tmp_path / "with-state.toml"
    model.write_text(text)
    done = run_cli(cli, ["run", str(model)], tmp_path / "out")
    assert done.returncode == 0, done.stderr
    header, data = read_csv_matrix(tmp_path / "out" / "state.csv")
    sim = ebnsim.Simulation.from_file(model)
    sim.run(sim.duration)
    s = sim.state()
    assert header == ["time"] + s["columns"]
    assert np.array_equal(data[:, 0], s["t"]) and np.array_equal(data[:, 1:], s["values"])
    assert list(s["neurons"]) == [0, 3, 7] and s["v"].shape == (len(s["t"]), 3)


def test_model_errors_carry_the_cli_message(cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_MODEL.format(lambda_d=-1.0))
    done = run_cli(cli, ["run", str(bad)], tmp_path / "out")
    assert done.returncode == 2
    with pytest.raises(ebnsim.ModelError) as err:
        ebnsim.Simulation.from_file(bad)
    assert done.stderr.strip() == f"error: {err.value}"
    assert "network.lambda_d" in str(err.value) and str(bad) in str(err.value)
    assert isinstance(err.value, ValueError) and isinstance(err.value, ebnsim.EbnsimError)
    bad.write_text("name = [")
    with pytest.raises(ebnsim.ModelError, match="TOML"):
        ebnsim.Simulation.from_file(bad)
    with pytest.raises(ebnsim.ModelError, match="cannot read"):
        ebnsim.Simulation.from_file(tmp_path / "missing.toml")


def test_bad_parameters_raise_build_errors_naming_the_field():
    with pytest.raises(ebnsim.BuildError, match="lambda_d"):
        ebnsim.Network([[0.1, -0.1]], lambda_d=-1.0)
    with pytest.raises(ebnsim.BuildError, match="input.times"):
        ebnsim.Input.piecewise_constant([0.5, 1.0], [[1.0], [2.0]])
    with pytest.raises(ebnsim.BuildError, match="engine"):
        ebnsim.Simulation.from_file(MODELS / "boerlin-oscillator.toml", engine="euler")
    with pytest.raises(ebnsim.BuildError, match="dt"):
        ebnsim.Simulation.from_file(MODELS / "boerlin-oscillator.toml", dt=0.0)
    with pytest.raises(ebnsim.BuildError, match="correlation_time"):
        ebnsim.Input.smooth_random([0.0], 1.0, 1e-12, 1e6, seed=1)
    with pytest.raises(ebnsim.BuildError, match="seed"):
        ebnsim.Simulation.from_file(MODELS / "boerlin-oscillator.toml", seed=-3)
    with pytest.raises(ebnsim.BuildError, match="state.neurons"):
        ebnsim.Simulation(
            ebnsim.Network([[0.1, -0.1]]), ebnsim.Input.constant([1.0]), state={"dt": 0.1, "neurons": [-1]}
        )
    # A NaN input would make every trajectory undefined: refused before anything runs.
    with pytest.raises(ebnsim.BuildError, match="field `input`"):
        ebnsim.Simulation(ebnsim.Network([[0.1, -0.1]]), ebnsim.Input.constant([float("nan")]))
    sim = ebnsim.Simulation.from_file(MODELS / "boerlin-oscillator.toml")
    sim.run(0.1)
    for t in (float("nan"), float("inf"), 0.05):
        with pytest.raises(ebnsim.BuildError, match="field `t`"):
            sim.run_until(t)
    assert sim.time == 0.1  # unchanged by the refused calls


def test_a_cascade_past_its_limit_is_a_simulation_error():
    sim = ebnsim.Simulation.from_file(MODELS / "boerlin-oscillator.toml", cascade_limit=1)
    with pytest.raises(ebnsim.SimulationError, match="boerlin-oscillator.toml") as err:
        sim.run(sim.duration)
    assert isinstance(err.value, RuntimeError)


def test_smooth_random_input_equals_the_model_files(tmp_path):
    model = MODELS / "smooth-random-2d.toml"
    ref = ebnsim.Simulation.from_file(model)
    ref.run(ref.duration)
    net = ref.network()
    text = model.read_text()
    assert 'kind = "smooth_random"' in text
    import tomllib  # Python ≥ 3.11 in the test venv

    spec = tomllib.loads(text)
    inp = ebnsim.Input.smooth_random(
        spec["input"].get("mean", [0.0] * net["dims"]),
        spec["input"]["amplitude"],
        spec["input"]["correlation_time"],
        spec["simulate"]["duration"],
        seed=spec["seed"],
    )
    sim = ebnsim.Simulation(
        ebnsim.Network(net["decoder"], lambda_d=net["lambda_d"], lambda_v=net["lambda_v"], mu=net["mu"], nu=net["nu"], a=spec["target"]["a"]),
        inp,
        A=spec["target"]["a"],
        x0=spec["target"].get("initial"),
    )
    sim.run(ref.duration)
    assert len(sim.spikes()[0]) > 100
    assert np.array_equal(sim.spikes()[0], ref.spikes()[0])


def test_sweep_over_seeds_and_values_equals_single_runs(cli, tmp_path):
    model = MODELS / "smooth-random-2d.toml"
    table = ebnsim.sweep(model, seeds=[3, 4], vary={"network.mu": [1e-6, 1e-3]}, threads=2, table="dict")
    assert list(table["run"]) == [0, 1, 2, 3] and list(table["seed"]) == [3, 3, 4, 4]
    assert list(table["network.mu"]) == [1e-6, 1e-3, 1e-6, 1e-3]
    # Run 3 alone, as docs/sweep.md says: the field set in the file, the seed on the CLI.
    text = model.read_text().replace("mu = 1e-6", "mu = 1e-3", 1)
    alone = tmp_path / "run3.toml"
    alone.write_text(text)
    sim = ebnsim.Simulation.from_file(alone, seed=4)
    sim.run(sim.duration)
    s = sim.summary()
    assert table["spikes"][3] == s["spikes"] and table["readout_rmse"][3] == s["readout_rmse"]
    assert table["spikes"][0] != table["spikes"][1]
    # The same table as `ebnsim sweep` writes (all but the wall times).
    spec = tmp_path / "spec.toml"
    spec.write_text(f'model = "{model}"\nseeds = [3, 4]\n[[vary]]\nfield = "network.mu"\nvalues = [1e-6, 1e-3]\n')
    done = __import__("subprocess").run([str(cli), "sweep", str(spec), "--out", str(tmp_path / "sw"), "--quiet"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    header, data = read_csv_matrix(tmp_path / "sw" / "table.csv")
    for j, name in enumerate(header):
        if name != "wall_seconds":
            assert np.array_equal(np.asarray(table[name], dtype=np.float64), data[:, j], equal_nan=True), name


def test_sweep_errors_name_the_field():
    with pytest.raises(ebnsim.ModelError, match="network.mu"):
        ebnsim.sweep(MODELS / "smooth-random-2d.toml", seeds=[1], vary={"network.mu": [-1.0]})
    with pytest.raises(ebnsim.ModelError, match="seeds"):
        ebnsim.sweep(MODELS / "smooth-random-2d.toml", seeds=[])


def _interrupt_after(seconds):
    import os
    import signal
    import threading

    # Python's own Ctrl-C handler, whatever this process inherited: a process started in the
    # background by a shell without job control starts with SIGINT ignored, and Python then
    # leaves it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def test_ctrl_c_stops_a_long_run_where_it_stands():
    sim = ebnsim.Simulation.from_file(MODELS / "boerlin-oscillator.toml")
    timer = _interrupt_after(0.2)
    with pytest.raises(KeyboardInterrupt):
        sim.run(1e5)  # far longer than the test waits
    timer.join()
    # Stopped at a consistent time: going on from there gives the uninterrupted spikes.
    stopped = sim.time
    assert 0 < stopped < 1e5
    sim.run_until(stopped + 1.0)
    ref = ebnsim.Simulation.from_file(MODELS / "boerlin-oscillator.toml")
    ref.run_until(stopped + 1.0)
    assert np.array_equal(sim.spikes()[0], ref.spikes()[0])


def test_ctrl_c_stops_learning_and_keeps_nothing():
    sim = ebnsim.Simulation.from_file(MODELS / "double-well-2d-learn.toml")
    timer = _interrupt_after(0.3)
    with pytest.raises(KeyboardInterrupt):
        sim.run(sim.duration)
    timer.join()
    assert sim.weights() is None and sim.time == 0.0


def test_too_many_readout_samples_is_refused_like_the_cli(cli, tmp_path):
    text = (MODELS / "boerlin-oscillator.toml").read_text().replace("readout_dt = 1e-3", "readout_dt = 1e-9", 1)
    model = tmp_path / "dense-samples.toml"
    model.write_text(text)
    done = run_cli(cli, ["run", str(model)], tmp_path / "out")
    assert done.returncode != 0
    with pytest.raises(ebnsim.ModelError, match="record.readout_dt") as err:
        ebnsim.Simulation.from_file(model)
    assert done.stderr.strip() == f"error: {err.value}"


def test_an_absurd_run_is_refused_like_the_cli_unless_forced(cli, tmp_path):
    # An unstable target: the readout, and the spikes that make it, would grow like e^(100 t).
    text = (MODELS / "boerlin-oscillator.toml").read_text()
    text = text.replace("a = [[-4.8, -22.4],", "a = [[100.0, -22.4],", 1)
    model = tmp_path / "unstable.toml"
    model.write_text(text)
    done = run_cli(cli, ["run", str(model)], tmp_path / "out")
    assert done.returncode == 2 and "--force" in done.stderr
    with pytest.raises(ebnsim.BuildError, match="simulate.duration") as err:
        ebnsim.Simulation.from_file(model)
    assert "force=True" in str(err.value) and "spikes" in str(err.value)
    sim = ebnsim.Simulation.from_file(model, force=True)
    assert sim.time == 0.0
