//! Learning with the local rule on the exact engine: the damped oscillator of Boerlin et al.,
//! learned from zero with the linear basis Ψ = x̂, recovers U = A + λ_d I (issue 3's criterion:
//! within 1 %).

use ebnsim::engine::kernel::Kernel;
use ebnsim::engine::{Control, Plastic};
use ebnsim::learning::rule::{train, Learner, Schedule};
use ebnsim::model::basis::Basis;
use ebnsim::model::dynamics::Linear;
use ebnsim::model::network::{random_decoder, NetworkBuilder};
use ebnsim::model::ode::{integrate, Tolerance};
use ebnsim::model::signal::Signal;
use ebnsim::seed::{rng_stream, Stream};

/// Learns A from zero on `basis` for `duration` seconds with learning epochs of `epoch` seconds;
/// returns U, the target A + λ_d I (linear-basis layout) and the spike count.
fn learn_oscillator_on(basis: Basis, duration: f64, epoch: f64) -> (Vec<f64>, [f64; 4], usize) {
    let a = vec![vec![-4.8, -22.4], vec![40.0, 0.0]];
    let (d, n, lambda_d) = (2, 50, 10.0);
    let (k, eta) = (100.0, 1000.0);
    let decoder = random_decoder(d, n, 0.05, true, &mut rng_stream(1, Stream::Decoder));
    let mu = 0.01 * 0.05 * 0.05;
    // Slow core L − K I with L = 0: nothing of A is wired by hand.
    let net = NetworkBuilder::new(decoder)
        .lambda_d(lambda_d)
        .mu(mu)
        .linear_dynamics(vec![vec![-k - lambda_d, 0.0], vec![0.0, -k - lambda_d]])
        .build()
        .unwrap();
    let c = Signal::smooth_random(
        &[0.0, 0.0],
        10.0,
        0.05,
        duration,
        &mut rng_stream(1, Stream::Input),
    )
    .unwrap();
    let field = Linear::new(&a).unwrap();
    let teacher = integrate(&field, &c, &[0.0, 0.0], duration, Tolerance::default()).unwrap();
    let drive = c
        .linear_combination(1.0, &teacher.to_signal().unwrap(), k)
        .unwrap();
    let mut kernel = Kernel::new(net, drive, &[0.0, 0.0]).unwrap();
    let mut learner = Learner::new(basis, lambda_d);
    let schedule = Schedule {
        duration,
        epoch,
        feedback_gain: k,
        learning_rate: eta,
        learning_rate_decay: None,
    };
    let spikes = train(&mut kernel, &mut learner, &teacher, &[0.0; 4], &schedule).unwrap();
    let want = [a[0][0] + lambda_d, a[0][1], a[1][0], a[1][1] + lambda_d];
    (learner.weights().to_vec(), want, spikes.len())
}

/// [`learn_oscillator_on`] with the linear basis (the exact slow-core path).
fn learn_oscillator(duration: f64, epoch: f64) -> (Vec<f64>, [f64; 4], usize) {
    learn_oscillator_on(Basis::Linear { dims: 2 }, duration, epoch)
}

#[test]
fn linear_oscillator_is_learned_with_the_linear_basis() {
    let (u, want, spikes) = learn_oscillator(20.0, 1e-3);
    let err: f64 = u
        .iter()
        .zip(&want)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt();
    let norm: f64 = want.iter().map(|y| y * y).sum::<f64>().sqrt();
    eprintln!(
        "U = {u:?}, relative error {:.4}, {spikes} spikes",
        err / norm
    );
    assert!(err / norm < 0.01, "U = {u:?} vs {want:?}");
}

#[test]
fn halving_the_learning_epoch_does_not_change_the_result() {
    // Operator splitting: weights are constant within an epoch. Over 5 s of learning from zero
    // (U still moving fast), epochs of 1 ms and 0.5 ms give the same weights to within 1 % of
    // their size — the splitting error is far below the learning signal.
    let (u1, _, _) = learn_oscillator(5.0, 1e-3);
    let (u2, _, _) = learn_oscillator(5.0, 5e-4);
    let diff: f64 = u1
        .iter()
        .zip(&u2)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt();
    let norm: f64 = u1.iter().map(|x| x * x).sum::<f64>().sqrt();
    eprintln!(
        "epoch 1 ms: {u1:?}\nepoch 0.5 ms: {u2:?}\nrelative difference {:.2e}",
        diff / norm
    );
    assert!(diff / norm < 0.01, "{u1:?} vs {u2:?}");
}

use ebnsim::analysis::learning_metrics::learned_field_error;
use ebnsim::model::dynamics::{VanDerPol, VectorField};

/// Trains a Van der Pol oscillator (the prototype's regime: period 0.83 s, |D_i| = 0.05, K = 30)
/// on `basis` for `duration` seconds; returns the field error over the teacher's states.
fn learn_vdp(basis: Basis, eta: f64, duration: f64) -> (f64, usize, f64) {
    let (d, n, lambda_d, k) = (2, 50, 10.0, 30.0);
    let decoder = random_decoder(d, n, 0.05, true, &mut rng_stream(2, Stream::Decoder));
    let net = NetworkBuilder::new(decoder)
        .lambda_d(lambda_d)
        .mu(0.01 * 0.05 * 0.05)
        .linear_dynamics(vec![vec![-k - lambda_d, 0.0], vec![0.0, -k - lambda_d]])
        .build()
        .unwrap();
    // The prototype's VdP regime: input std 2 (its sig_c), start on the cycle.
    let c = Signal::smooth_random(
        &[0.0, 0.0],
        2.0,
        0.05,
        duration,
        &mut rng_stream(2, Stream::Input),
    )
    .unwrap();
    let field = VanDerPol::default();
    let teacher = integrate(&field, &c, &[1.0, 0.0], duration, Tolerance::default()).unwrap();
    let drive = c
        .linear_combination(1.0, &teacher.to_signal().unwrap(), k)
        .unwrap();
    let mut kernel = Kernel::new(net, drive, &[1.0, 0.0]).unwrap();
    kernel.set_cascade_limit(1000);
    let mut learner = Learner::new(basis, lambda_d);
    let schedule = Schedule {
        duration,
        epoch: 1e-3,
        feedback_gain: k,
        learning_rate: eta,
        learning_rate_decay: None,
    };
    let started = std::time::Instant::now();
    let spikes = train(&mut kernel, &mut learner, &teacher, &[0.0; 4], &schedule).unwrap();
    let wall = started.elapsed().as_secs_f64();
    // Field error over states the teacher visited (second half of training).
    let mut states = Vec::new();
    let mut x = [0.0; 2];
    for i in 0..2000 {
        teacher.eval(duration * (0.5 + 0.5 * i as f64 / 2000.0), &mut x);
        states.extend_from_slice(&x);
    }
    let u = learner.weights().to_vec();
    let basis = learner.basis().clone();
    let nb = basis.len();
    let learned = |x: &[f64], out: &mut [f64]| {
        let mut psi = vec![0.0; nb];
        basis.eval(x, &mut psi);
        for (o, row) in out.iter_mut().zip(u.chunks_exact(nb)) {
            *o = row.iter().zip(&psi).map(|(a, b)| a * b).sum();
        }
    };
    let g = |x: &[f64], out: &mut [f64]| field.eval(x, out);
    (
        learned_field_error(learned, g, lambda_d, &states, d),
        spikes.len(),
        wall,
    )
}

#[test]
fn van_der_pol_field_is_being_learned_with_nonlinear_bases() {
    // Before learning (U = 0) the field error is ‖g + λ_d x‖/‖g‖ > 1. Twenty seconds of the
    // local rule through the fitted learned current bring it well down, for cubic monomials
    // (η = 100) and for 196 Gaussian RBFs (η = 1000) — the prototype's settings. (Issue 3's
    // targets need ≥ 200 s and an η schedule; that is the model files' and examples' job.)
    let (err, spikes, wall) = learn_vdp(Basis::monomials(2, 3).unwrap(), 100.0, 20.0);
    eprintln!("monomials, 20 s: field error {err:.4}, {spikes} spikes, {wall:.2} s wall");
    assert!(err < 0.3, "monomials: field error {err}");
    let (err, spikes, wall) = learn_vdp(
        Basis::rbf_grid(2, -2.3, 2.3, 14, 1.0).unwrap(),
        1000.0,
        20.0,
    );
    eprintln!("rbf 196, 20 s: field error {err:.4}, {spikes} spikes, {wall:.2} s wall");
    assert!(err < 0.45, "RBF: field error {err}");
}

#[test]
fn learned_current_path_learns_the_oscillator_like_the_core_path() {
    // Degree-1 monomials {1, x0, x1} go through the fitted learned current, not the exact
    // slow core: they must learn the same U (and a zero constant column).
    let a = [[-4.8, -22.4], [40.0, 0.0]];
    let lambda_d = 10.0;
    let (u, _, spikes) = learn_oscillator_on(Basis::monomials(2, 1).unwrap(), 10.0, 1e-3);
    eprintln!("U = {u:?}, {spikes} spikes");
    let want = [
        0.0,
        a[0][0] + lambda_d,
        a[0][1],
        0.0,
        a[1][0],
        a[1][1] + lambda_d,
    ];
    for (got, want) in u.iter().zip(want) {
        assert!((got - want).abs() < 0.2, "U = {u:?}");
    }
}

#[test]
fn learning_rate_schedule_decays_over_the_last_part() {
    let s = Schedule {
        duration: 10.0,
        epoch: 1e-3,
        feedback_gain: 30.0,
        learning_rate: 100.0,
        learning_rate_decay: Some((0.7, 0.1)),
    };
    assert_eq!(s.learning_rate_at(0.5), 100.0);
    assert!((s.learning_rate_at(0.85) - 100.0 * 0.1f64.sqrt()).abs() < 1e-9);
    assert!((s.learning_rate_at(1.0) - 10.0).abs() < 1e-9);
}

use ebnsim::analysis::learning_metrics::{fixed_points, FixedPointOptions};
use ebnsim::model::dynamics::DoubleWell;

#[test]
fn double_well_1d_fixed_points_and_basins_are_learned() {
    // The prototype's setting: x' = 5(x − x³), 25 RBFs on [−2, 2], K = 30, η = 1000, N = 50 —
    // but 60 s with η decaying over the last 30 % (measured: 20 s at constant η left the left
    // well's fixed point at −0.944). Issue 3's targets: fixed points within 0.02, 100 % correct
    // basins.
    let (d, n, lambda_d, k, duration) = (1, 50, 10.0, 30.0, 60.0);
    let decoder = random_decoder(d, n, 0.05, true, &mut rng_stream(3, Stream::Decoder));
    let net = NetworkBuilder::new(decoder)
        .lambda_d(lambda_d)
        .mu(0.01 * 0.05 * 0.05)
        .linear_dynamics(vec![vec![-k - lambda_d]])
        .build()
        .unwrap();
    let c = Signal::smooth_random(
        &[0.0],
        6.0,
        0.05,
        duration,
        &mut rng_stream(3, Stream::Input),
    )
    .unwrap();
    let field = DoubleWell::one_d(5.0).unwrap();
    let teacher = integrate(&field, &c, &[1.0], duration, Tolerance::default()).unwrap();
    let drive = c
        .linear_combination(1.0, &teacher.to_signal().unwrap(), k)
        .unwrap();
    let mut kernel = Kernel::new(net, drive, &[1.0]).unwrap();
    kernel.set_cascade_limit(1000);
    let mut learner = Learner::new(Basis::rbf_grid(1, -2.0, 2.0, 25, 1.0).unwrap(), lambda_d);
    let schedule = Schedule {
        duration,
        epoch: 1e-3,
        feedback_gain: k,
        learning_rate: 1000.0,
        learning_rate_decay: Some((0.7, 0.1)),
    };
    train(&mut kernel, &mut learner, &teacher, &[0.0], &schedule).unwrap();
    // The network's autonomous dynamics: x̂' = −λ_d x̂ + U Ψ(x̂).
    let (u, basis) = (learner.weights().to_vec(), learner.basis().clone());
    let learned = |x: &[f64], out: &mut [f64]| {
        let mut psi = vec![0.0; basis.len()];
        basis.eval(x, &mut psi);
        out[0] = -lambda_d * x[0] + u.iter().zip(&psi).map(|(a, b)| a * b).sum::<f64>();
    };
    let fps = fixed_points(learned, &[-1.6], &[1.6], &FixedPointOptions::default());
    let xs: Vec<(f64, bool)> = fps
        .iter()
        .map(|f| (f.x[0], f.stability.is_attracting()))
        .collect();
    eprintln!("learned fixed points: {xs:?}");
    assert_eq!(xs.len(), 3, "{xs:?}");
    for ((x, stable), (want, want_stable)) in
        xs.iter().zip([(-1.0, true), (0.0, false), (1.0, true)])
    {
        assert!((x - want).abs() <= 0.02 && *stable == want_stable, "{xs:?}");
    }
    // Basins on the spiking network itself: placed at a start (zero coding error), with no input
    // and no feedback, it must settle in the well the start is in.
    use ebnsim::engine::Engine;
    use ebnsim::time::Time;
    let t0 = kernel.time().secs();
    kernel.set_input(Signal::zero(1)).unwrap();
    kernel.set_slow_core(&[0.0]).unwrap();
    for i in 0..12 {
        let x0 = -1.5 + 3.0 * i as f64 / 11.0;
        let mut k = kernel.clone();
        k.place_readout(&[x0]).unwrap();
        let mut spikes = Vec::new();
        k.run_until(Time::from_secs(t0 + 1.0), &mut spikes).unwrap();
        let mut xhat = [0.0];
        k.readout(&mut xhat);
        assert!(
            xhat[0].signum() == x0.signum() && (xhat[0].abs() - 1.0).abs() < 0.1,
            "network started at {x0} ends at {}",
            xhat[0]
        );
    }
    // Basins in 1-D: every start on a grid flows to the same side as under the true field (the
    // unstable point separates them); starts within 0.05 of the separatrix are not asked.
    for i in 0..=60 {
        let x0 = -1.5 + 0.05 * i as f64;
        if x0.abs() < 0.05 {
            continue;
        }
        let (mut x, mut f) = (x0, [0.0]);
        for _ in 0..20_000 {
            learned(&[x], &mut f);
            x += 1e-3 * f[0];
        }
        assert_eq!(x.signum(), x0.signum(), "start {x0} ends at {x}");
    }
}
