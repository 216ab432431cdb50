//! This example demonstrates in particular:
//!
//! * learning a nonlinear vector field (Van der Pol) with the local rule on the exact engine:
//!   teacher by Dormand–Prince dense output, feedback `K (x − x̂)`, cubic monomials of the
//!   readout as the presynaptic basis, the prototype's η schedule (constant, then decay);
//! * switching phases on a running engine: after training the input and the feedback are removed
//!   and the network runs the learned dynamics on its own, once with all neurons and once with
//!   half of them removed;
//! * the same protocol, same seeds, on the published setting — forward Euler at dt = 0.1 ms with
//!   one spike per step — side by side;
//! * measuring what matters (field error, autonomous period and amplitude, 1-s NRMSE).
//!
//! Run with `cargo run --release --example learn_van_der_pol [-- SECONDS]` (default 500 s of
//! training, as the prototype's best setting; about 15 s of wall time for the exact engine).
//!
//! ```text
//!   c(t) + K x(t) ──► Dᵀ· ──► [ 50 LIF neurons ] ──► x̂ = D r ──► Ψ(x̂) ──► U ──┐
//!                               ▲  fast DᵀD + μI, slow Dᵀ(−K I)D              │
//!                               └───────────────── Dᵀ U Ψ(x̂) ◄─────────────────┘
//!   dU/dt = η (x − x̂) Ψ(x̂)ᵀ   (local: postsynaptic feedback current × presynaptic activity)
//! ```

use ebnsim::analysis::learning_metrics::{
    amplitude_error, learned_field_error, nrmse_between, oscillation, period_error, Hysteresis,
};
use ebnsim::engine::dense::{DenseConfig, DenseStepper, Integrator, SpikeRule};
use ebnsim::engine::kernel::Kernel;
use ebnsim::learning::rule::{train, Learner, Plastic, Schedule};
use ebnsim::model::basis::Basis;
use ebnsim::model::dynamics::{VanDerPol, VectorField};
use ebnsim::model::network::{random_decoder, Network, NetworkBuilder};
use ebnsim::model::ode::{integrate, DenseSolution, Tolerance};
use ebnsim::model::signal::Signal;
use ebnsim::seed::{rng_stream, Stream};
use ebnsim::time::Time;

const D: usize = 2;
const N: usize = 50;
const LAMBDA_D: f64 = 10.0;
const K: f64 = 30.0;

/// What one run of the protocol measured.
#[derive(Debug)]
struct Report {
    spikes: usize,
    wall: f64,
    field_error: f64,
    /// (label, 1-s NRMSE, period error, amplitude error) of the autonomous runs.
    autonomous: Vec<(&'static str, f64, f64, f64)>,
}

/// Trains `engine` on the teacher, then runs it autonomously with all and with half the neurons.
fn protocol<E: Plastic + Clone>(mut engine: E, teacher: &DenseSolution, train_s: f64) -> Report {
    let field = VanDerPol::default();
    let mut learner = Learner::new(Basis::monomials(2, 3).expect("basis"), LAMBDA_D);
    let schedule = Schedule {
        duration: train_s,
        epoch: 1e-3,
        feedback_gain: K,
        learning_rate: 100.0,
        learning_rate_decay: Some((0.7, 0.1)),
    };
    let started = std::time::Instant::now();
    let spikes = train(&mut engine, &mut learner, teacher, &[0.0; 4], &schedule).expect("training");
    let wall = started.elapsed().as_secs_f64();

    // Field error over the states the teacher visited in the second half of training.
    let mut states = Vec::new();
    let mut x = [0.0; D];
    for i in 0..4000 {
        teacher.eval(train_s * (0.5 + 0.5 * i as f64 / 4000.0), &mut x);
        states.extend_from_slice(&x);
    }
    let (u, basis) = (learner.weights().to_vec(), learner.basis().clone());
    let nb = basis.len();
    let learned = |x: &[f64], out: &mut [f64]| {
        let mut psi = vec![0.0; nb];
        basis.eval(x, &mut psi);
        for (o, row) in out.iter_mut().zip(u.chunks_exact(nb)) {
            *o = row.iter().zip(&psi).map(|(a, b)| a * b).sum();
        }
    };
    let field_error = learned_field_error(learned, |x, o| field.eval(x, o), LAMBDA_D, &states, D);

    // Autonomous phase: no input, no feedback (slow core L = 0), the learned current stays.
    let t0 = engine.time().secs();
    engine.set_input(Signal::zero(D)).expect("input");
    engine.set_slow_core(&[0.0; D * D]).expect("core");
    let mut x0 = [0.0; D];
    teacher.eval(t0, &mut x0);
    let reference =
        integrate(&field, &Signal::zero(D), &x0, 4.0, Tolerance::default()).expect("teacher");
    let mut halved = engine.clone();
    let mut order: Vec<usize> = (0..N).collect();
    rand::seq::SliceRandom::shuffle(&mut order[..], &mut rng_stream(2, Stream::Perturbation));
    halved.kill(&order[..N / 2]).expect("valid indices");
    let mut autonomous = Vec::new();
    for (label, e) in [
        ("all 50 neurons", &mut engine),
        ("25 neurons left", &mut halved),
    ] {
        let (mut times, mut net, mut reference_states) = (Vec::new(), Vec::new(), Vec::new());
        let (mut auto_spikes, mut xhat) = (Vec::new(), [0.0; D]);
        for i in 0..=4000 {
            let t = i as f64 * 1e-3;
            e.run_until(Time::from_secs(t0 + t), &mut auto_spikes)
                .expect("autonomous run");
            e.readout(&mut xhat);
            reference.eval(t, &mut x);
            times.push(t);
            net.extend_from_slice(&xhat);
            reference_states.extend_from_slice(&x);
        }
        let nrmse = nrmse_between(&times, &net, &reference_states, D, 0.0, 1.0);
        let h = Hysteresis::default();
        let (pe, ae) = match (
            oscillation(&times, &net, D, &[1.0, 0.0], &h),
            oscillation(&times, &reference_states, D, &[1.0, 0.0], &h),
        ) {
            (Some(a), Some(b)) => (period_error(&a, &b), amplitude_error(&a, &b)),
            _ => (f64::NAN, f64::NAN),
        };
        autonomous.push((label, nrmse, pe, ae));
    }
    Report {
        spikes: spikes.len(),
        wall,
        field_error,
        autonomous,
    }
}

fn network() -> Network {
    let decoder = random_decoder(D, N, 0.05, true, &mut rng_stream(2, Stream::Decoder));
    NetworkBuilder::new(decoder)
        .lambda_d(LAMBDA_D)
        .mu(0.01 * 0.05 * 0.05)
        .linear_dynamics(vec![vec![-K - LAMBDA_D, 0.0], vec![0.0, -K - LAMBDA_D]]) // core −K I
        .build()
        .expect("valid network")
}

fn print(name: &str, r: &Report) {
    println!(
        "{name}: {} spikes in training, {:.2} s wall, field error {:.4}",
        r.spikes, r.wall, r.field_error
    );
    for (label, nrmse, pe, ae) in &r.autonomous {
        println!(
            "  autonomous, {label}: 1-s NRMSE {nrmse:.4}, period error {:+.3} %, amplitude error {:+.3} %",
            100.0 * pe,
            100.0 * ae
        );
    }
}

fn main() {
    let train_s: f64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500.0);
    let field = VanDerPol::default(); // period 0.833 s, amplitude ~1
    let c = Signal::smooth_random(
        &[0.0, 0.0],
        2.0,
        0.05,
        train_s,
        &mut rng_stream(2, Stream::Input),
    )
    .expect("valid input");
    let teacher =
        integrate(&field, &c, &[1.0, 0.0], train_s, Tolerance::default()).expect("teacher");
    let drive = c
        .linear_combination(1.0, &teacher.to_signal().expect("signal"), K)
        .expect("drive");

    let mut kernel = Kernel::new(network(), drive.clone(), &[1.0, 0.0]).expect("kernel");
    kernel.set_cascade_limit(1000);
    let exact = protocol(kernel, &teacher, train_s);
    print("exact engine", &exact);

    let cfg = DenseConfig {
        dt: 1e-4,
        integrator: Integrator::Euler,
        spike_rule: SpikeRule::OnePerStep,
    };
    let stepper = DenseStepper::new(&network(), drive, &[1.0, 0.0], cfg).expect("stepper");
    let dense = protocol(stepper, &teacher, train_s);
    print("Euler, dt = 0.1 ms, one spike per step", &dense);

    // Issue 3's targets for Van der Pol (N ≤ 50, ≤ 500 s of training), on the exact engine, with
    // all neurons and with half of them removed. (The wall time, ≤ 30 s, is printed above, not
    // asserted: machines differ and are shared.)
    assert!(
        exact.field_error < 0.05,
        "field error {}",
        exact.field_error
    );
    for (label, nrmse, pe, ae) in &exact.autonomous {
        assert!(pe.abs() <= 0.005, "{label}: period error {pe}");
        assert!(ae.abs() <= 0.01, "{label}: amplitude error {ae}");
        assert!(*nrmse <= 0.05, "{label}: autonomous 1-s NRMSE {nrmse}");
    }
}
