"""A spike-coding network built and run from Python, the way a NEST or Brian2 script reads.

    python python/examples/nest_style.py [--out FIGURE.png]

Creates 40 neurons encoding a 2-D damped oscillator (the Boerlin et al. 2013 example), drives it
with a pulse, records spikes and the readout (NEST: spike_recorder and multimeter; Brian2:
SpikeMonitor and StateMonitor), then checks what it saw. With matplotlib installed it draws a
raster and the readout against the target into FIGURE.png (default: nest_style.png).
"""

import argparse

import numpy as np

import ebnsim

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="nest_style.png", help="figure file (PNG)")
args = parser.parse_args()

# -- the population (nest.Create / NeuronGroup) --------------------------------------------
# 40 decoding directions spread over the circle, norm 0.1: neuron j's voltage is
# V_j = D_jᵀ (x − x̂), its threshold (|D_j|² + μ) / 2, its leak λ_V.
n, d = 40, 2
angles = 2 * np.pi * np.arange(n) / n
decoder = 0.1 * np.vstack([np.cos(angles), np.sin(angles)])  # d × N
A = np.array([[-4.8, -22.4], [40.0, 0.0]])  # the target dynamics x' = A x + c(t), 1/s

net = ebnsim.Network(decoder, lambda_d=10.0, lambda_v=20.0, mu=1e-6, a=A)

# -- the stimulus (a step current generator / TimedArray) ----------------------------------
stimulus = ebnsim.Input.piecewise_constant([0.0, 0.05, 0.1], [[0, 0], [50, 0], [0, 0]])

# -- recorders (spike_recorder + multimeter / SpikeMonitor + StateMonitor) -----------------
sim = ebnsim.Simulation(
    net,
    stimulus,
    readout_dt=1e-3,  # the readout x̂ and the target x, sampled exactly every ms
    A=A,
    state={"dt": 1e-3, "neurons": [0, 10, 20], "variables": ["v"]},
)

# -- nest.Simulate(1000.0) / run(1 * second): but in seconds, and with no time step --------
sim.run(1.0)

t, i = sim.spikes()
readout = sim.readout()
state = sim.state()
summary = sim.summary()
print(
    f"{len(t)} spikes ({summary['mean_rate_hz']:.1f} Hz per neuron), "
    f"readout RMSE {summary['readout_rmse']:.4f}, "
    f"{summary['counters']['cascade_spikes']} spikes at the same instant as another"
)

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib is not installed: no figure")
else:
    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, figsize=(7, 7), sharex=True)
    ax1.plot(t, i, "|", markersize=4, color="k")
    ax1.set_ylabel("neuron")
    for k in range(d):
        ax2.plot(readout["t"], readout["x"][:, k], color=f"C{k}", lw=2, alpha=0.4, label=f"x{k}")
        ax2.plot(readout["t"], readout["xhat"][:, k], color=f"C{k}", lw=1, label=f"x̂{k}")
    ax2.set_ylabel("state")
    ax2.legend(ncol=4, fontsize="small")
    ax3.plot(state["t"], state["v"])
    ax3.set_ylabel("V (neurons 0, 10, 20)")
    ax3.set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"figure: {args.out}")

# -- what a reader can check ---------------------------------------------------------------
assert len(t) > 100, "the pulse drives the oscillator: the network must fire"
assert np.all(np.diff(t) >= 0), "spikes come in firing order"
assert readout["xhat"].shape == (1001, 2) and state["v"].shape == (1001, 3)
assert summary["readout_rmse"] < 0.1, "the readout tracks the target"
# No neuron's voltage is ever above its threshold at a sample: it fires on reaching it.
thresholds = net.to_dict()["thresholds"][state["neurons"]]
assert np.all(state["v"] <= thresholds * (1 + 1e-12))
