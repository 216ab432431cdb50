//! The dense stepper converges to the exact kernel as dt shrinks: same first spikes (neuron for
//! neuron) and spike-time errors that shrink in proportion to dt (first order: spikes are
//! quantised to the grid), before the network's sensitivity makes trajectories diverge.

use ebnsim::engine::dense::{DenseConfig, DenseStepper, Integrator, SpikeRule};
use ebnsim::engine::kernel::Kernel;
use ebnsim::engine::{Engine, Spike};
use ebnsim::model::network::{random_decoder, Network, NetworkBuilder};
use ebnsim::model::signal::Signal;
use ebnsim::time::Time;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn boerlin(seed: u64, n: usize, mu: f64) -> (Network, Signal) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rows = random_decoder(2, n, 0.1, true, &mut rng);
    let net = NetworkBuilder::new(rows)
        .lambda_d(10.0)
        .lambda_v(20.0)
        .mu(mu)
        .linear_dynamics(vec![vec![-4.8, -22.4], vec![40.0, 0.0]])
        .build()
        .unwrap();
    // A kick on a grid-aligned knot, so the input itself adds no grid error.
    let input = Signal::piecewise_constant(
        2,
        &[0.0, 0.05, 0.1],
        &[vec![0.0, 0.0], vec![50.0, 10.0], vec![0.0, 0.0]],
    )
    .unwrap();
    (net, input)
}

fn spikes(engine: &mut dyn Engine, until: f64) -> Vec<Spike> {
    let mut s = Vec::new();
    engine.run_until(Time::from_secs(until), &mut s).unwrap();
    s
}

/// Largest time error over the first `k` spikes, requiring the same neurons in the same order.
fn first_spikes_error(exact: &[Spike], dense: &[Spike], k: usize) -> f64 {
    assert!(
        exact.len() >= k && dense.len() >= k,
        "need {k} spikes: {} / {}",
        exact.len(),
        dense.len()
    );
    let mut err: f64 = 0.0;
    for i in 0..k {
        assert_eq!(
            exact[i].neuron, dense[i].neuron,
            "spike {i}: {:?} vs {:?}",
            exact[i], dense[i]
        );
        err = err.max((exact[i].time.secs() - dense[i].time.secs()).abs());
    }
    err
}

fn converges(integrator: Integrator, rule: SpikeRule, seed: u64) {
    let (net, input) = boerlin(seed, 30, 1e-3);
    let until = 0.12;
    let exact = spikes(
        &mut Kernel::new(net.clone(), input.clone(), &[0.0, 0.0]).unwrap(),
        until,
    );
    let k = 8;
    let mut errors = Vec::new();
    for &dt in &[1e-5, 1e-6, 1e-7] {
        let cfg = DenseConfig {
            dt,
            integrator,
            spike_rule: rule,
        };
        let dense = spikes(
            &mut DenseStepper::new(&net, input.clone(), &[0.0, 0.0], cfg).unwrap(),
            until,
        );
        let err = first_spikes_error(&exact, &dense, k);
        // First order: within a few steps of the exact time.
        assert!(
            err <= 5.0 * dt,
            "{integrator:?} {rule:?} dt = {dt}: error {err}"
        );
        errors.push(err);
    }
    // Two decades of dt buy (close to) two decades of accuracy.
    assert!(
        errors[0] / errors[2] > 30.0,
        "{integrator:?} {rule:?}: errors {errors:?}"
    );
}

#[test]
fn exponential_stepper_converges_at_first_order() {
    for seed in 0..3 {
        converges(Integrator::Exponential, SpikeRule::Greedy, seed);
        converges(Integrator::Exponential, SpikeRule::OnePerStep, seed);
    }
}

#[test]
fn euler_stepper_converges_at_first_order() {
    for seed in 0..3 {
        converges(Integrator::Euler, SpikeRule::OnePerStep, seed);
    }
}
