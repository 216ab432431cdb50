//! This example demonstrates in particular:
//!
//! * learning a multistable field — the prototype's 2-D double well with four attractors at
//!   (±1, ±1) — with 196 Gaussian RBFs on the readout, K = 30, η = 1000 decaying to 3 % over
//!   the second half;
//! * checking what multistability needs: the learned field's fixed points (located by Newton,
//!   classified by their Jacobians) and its basins on a grid of initial states.
//!
//! Run with `cargo run --release --example learn_double_well_2d [-- SECONDS]` (default 150 s, as models/double-well-2d-learn.toml).
//! Issue 3's targets: fixed points within 0.02, 100 % correct basins.

use ebnsim::analysis::learning_metrics::{fixed_points, FixedPointOptions};
use ebnsim::engine::kernel::Kernel;
use ebnsim::engine::Engine;
use ebnsim::engine::{Control, Plastic};
use ebnsim::learning::rule::{train, Learner, Schedule};
use ebnsim::model::basis::Basis;
use ebnsim::model::dynamics::DoubleWell;
use ebnsim::model::network::{random_decoder, NetworkBuilder};
use ebnsim::model::ode::{integrate, Tolerance};
use ebnsim::model::signal::Signal;
use ebnsim::seed::{rng_stream, Stream};
use ebnsim::time::Time;

fn main() {
    let train_s: f64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(150.0);
    let (d, n, lambda_d, k) = (2, 100, 10.0, 30.0);
    let decoder = random_decoder(d, n, 0.05, true, &mut rng_stream(5, Stream::Decoder));
    let net = NetworkBuilder::new(decoder)
        .lambda_d(lambda_d)
        .mu(0.01 * 0.05 * 0.05)
        .linear_dynamics(vec![vec![-k - lambda_d, 0.0], vec![0.0, -k - lambda_d]])
        .build()
        .expect("valid network");
    let field = DoubleWell::two_d(5.0).expect("field");
    let x0 = [1.0, 1.0];
    let c = Signal::smooth_random(
        &[0.0, 0.0],
        6.0,
        0.05,
        train_s,
        &mut rng_stream(5, Stream::Input),
    )
    .expect("valid input");
    let teacher = integrate(&field, &c, &x0, train_s, Tolerance::default()).expect("teacher");
    let drive = c
        .linear_combination(1.0, &teacher.to_signal().expect("signal"), k)
        .expect("drive");
    let mut kernel = Kernel::new(net, drive, &x0).expect("kernel");
    kernel.set_cascade_limit(1000);
    let mut learner = Learner::new(
        Basis::rbf_grid(2, -2.0, 2.0, 14, 1.0).expect("basis"),
        lambda_d,
    );
    let schedule = Schedule {
        duration: train_s,
        epoch: 1e-3,
        feedback_gain: k,
        learning_rate: 1000.0,
        learning_rate_decay: Some((0.5, 0.03)),
    };
    let started = std::time::Instant::now();
    let spikes =
        train(&mut kernel, &mut learner, &teacher, &[0.0; 4], &schedule).expect("training");
    println!(
        "2-D double well, N = {n}, {train_s} s: {} spikes, {:.1} s wall",
        spikes.len(),
        started.elapsed().as_secs_f64()
    );

    let (u, basis) = (learner.weights().to_vec(), learner.basis().clone());
    let nb = basis.len();
    let learned = |x: &[f64], out: &mut [f64]| {
        let mut psi = vec![0.0; nb];
        basis.eval(x, &mut psi);
        for (j, (o, row)) in out.iter_mut().zip(u.chunks_exact(nb)).enumerate() {
            *o = -lambda_d * x[j] + row.iter().zip(&psi).map(|(a, b)| a * b).sum::<f64>();
        }
    };
    let fps = fixed_points(
        learned,
        &[-1.5, -1.5],
        &[1.5, 1.5],
        &FixedPointOptions::default(),
    );
    let stable: Vec<[f64; 2]> = fps
        .iter()
        .filter(|f| f.stability.is_attracting())
        .map(|f| [f.x[0], f.x[1]])
        .collect();
    println!("stable fixed points: {stable:?}");
    assert_eq!(stable.len(), 4, "four attractors expected: {stable:?}");
    for want in [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]] {
        let near = stable
            .iter()
            .any(|p| (p[0] - want[0]).abs() <= 0.02 && (p[1] - want[1]).abs() <= 0.02);
        assert!(
            near,
            "no learned attractor within 0.02 of {want:?}: {stable:?}"
        );
    }
    // Basins: starts on a grid (away from the separatrices x = 0, y = 0) end in the quadrant
    // they start in, as under the true field.
    let (mut correct, mut total) = (0, 0);
    for i in 0..12 {
        for j in 0..12 {
            let mut x = [-1.45 + 0.26 * i as f64, -1.45 + 0.26 * j as f64];
            if x[0].abs() < 0.1 || x[1].abs() < 0.1 {
                continue;
            }
            let start = x;
            let mut f = [0.0; 2];
            for _ in 0..20_000 {
                learned(&x, &mut f);
                x[0] += 1e-3 * f[0];
                x[1] += 1e-3 * f[1];
            }
            total += 1;
            correct +=
                (x[0].signum() == start[0].signum() && x[1].signum() == start[1].signum()) as usize;
        }
    }
    println!("basins of the learned field: {correct}/{total} starts end in their own quadrant");
    assert_eq!(correct, total);

    // Basins on the spiking network itself: placed at a start with zero coding error, no input
    // and no feedback, it must settle at the attractor of the start's quadrant.
    let t0 = kernel.time().secs();
    kernel.set_input(Signal::zero(d)).expect("input");
    kernel.set_slow_core(&[0.0; 4]).expect("core");
    let (mut correct, mut total) = (0, 0);
    for i in 0..6 {
        for j in 0..6 {
            let start = [-1.25 + 0.5 * i as f64, -1.25 + 0.5 * j as f64];
            let mut k = kernel.clone();
            k.place_readout(&start).expect("state");
            let mut spikes = Vec::new();
            k.run_until(Time::from_secs(t0 + 1.0), &mut spikes)
                .expect("autonomous run");
            let mut xhat = [0.0; 2];
            k.readout(&mut xhat);
            total += 1;
            let same = (0..2).all(|c| {
                xhat[c].signum() == start[c].signum() && (xhat[c].abs() - 1.0).abs() < 0.15
            });
            correct += same as usize;
        }
    }
    println!(
        "basins of the spiking network: {correct}/{total} starts settle in their own quadrant"
    );
    assert_eq!(correct, total);
}
