//! Fixtures shared by several test files.

use ebnsim::model::network::{Network, NetworkBuilder};
use ebnsim::model::signal::Signal;

/// One neuron (d = 1, decoder 1, threshold 1, leak 20 /s) whose voltage follows the parabola
/// `V(t) = 1 − δ − a (t − t*)²` exactly — it grazes its threshold at `t*` when δ → 0: the input
/// is `c = V' + λ_V V` (a quadratic). Returns the network, the input and `V(0)` (the initial
/// state `x(0)`, since the decoder is 1).
pub fn parabola(delta: f64, a: f64, t_star: f64) -> (Network, Signal, f64) {
    let lv = 20.0;
    // V(t) = p0 + p1 t + p2 t²; c = V' + λ V.
    let (p0, p1, p2) = (1.0 - delta - a * t_star * t_star, 2.0 * a * t_star, -a);
    let c = vec![vec![p1 + lv * p0], vec![2.0 * p2 + lv * p1], vec![lv * p2]];
    let input = Signal::from_segments(1, &[0.0], &[c]).unwrap();
    let net = NetworkBuilder::new(vec![vec![1.0]])
        .lambda_v(lv)
        .thresholds(vec![1.0])
        .build()
        .unwrap();
    (net, input, p0)
}
