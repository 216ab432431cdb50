//! The kernel's shared-state layout (`V_i = D_iᵀ y + w_i`, next crossing through a hierarchy of
//! decoder cones and certified steps) against its per-neuron layout and the actor engine, on
//! networks large enough for the hierarchy to matter (hundreds to thousands of neurons, many
//! leaves): spike for spike with fast delays, refractory periods, kills, input changes, a learned
//! current, frame renormalisation and switches of layout; no missed crossing under dense
//! sampling; grazing crossings among many neurons.

#![allow(clippy::needless_range_loop)] // matrix-building loops read better with indices

mod common;

use common::{assert_same_spikes, assert_same_spikes_or_event_tie};
use ebnsim::engine::actors::ActorEngine;
use ebnsim::engine::kernel::{Kernel, Layout};
use ebnsim::engine::{Control, Engine, Plastic, Spike};
use ebnsim::error::SimError;
use ebnsim::model::basis::{Basis, LearnedCurrent};
use ebnsim::model::network::{random_decoder, Network, NetworkBuilder};
use ebnsim::model::refractory::RefractoryMode;
use ebnsim::model::signal::Signal;
use ebnsim::time::Time;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const LIMIT: usize = 5000;

#[derive(Clone, Debug)]
struct Case {
    net: Network,
    input: Signal,
    x0: Vec<f64>,
}

fn kernel(c: &Case, layout: Layout) -> Kernel {
    let mut k = Kernel::new(c.net.clone(), c.input.clone(), &c.x0).unwrap();
    k.set_cascade_limit(LIMIT);
    k.set_layout(layout);
    k
}

fn actors(c: &Case) -> ActorEngine {
    let mut k = ActorEngine::new(c.net.clone(), c.input.clone(), &c.x0).unwrap();
    k.set_cascade_limit(LIMIT);
    k
}

/// A random network of `n_lo..n_hi` neurons (log-uniform), d = 1..=4, with the given options.
fn big_case(seed: u64, (n_lo, n_hi): (usize, usize), delay: bool, refractory: bool) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let d = rng.gen_range(1..5);
    let n = (rng.gen_range((n_lo as f64).ln()..(n_hi as f64).ln())).exp() as usize;
    // Decoder norms: equal (the usual EBN) or varying; the scale shrinks with N so that the
    // spike count stays moderate.
    let scale = rng.gen_range(0.05..0.2) * (40.0 / n as f64).sqrt().max(0.05);
    let normalize = d > 1 && rng.gen_bool(0.6);
    let rows = random_decoder(d, n, scale, normalize, &mut rng);
    let lambda_d = rng.gen_range(4.0..25.0);
    let lambda_v = if rng.gen_bool(0.4) {
        lambda_d
    } else {
        rng.gen_range(3.0..40.0)
    };
    let damping = rng.gen_range(0.0..20.0);
    let mut a = vec![vec![0.0; d]; d];
    for (i, row) in a.iter_mut().enumerate() {
        row[i] = -damping;
    }
    for i in 0..d {
        for j in i + 1..d {
            let w = rng.gen_range(-30.0..30.0);
            a[i][j] = w;
            a[j][i] = -w;
        }
    }
    let mut b = NetworkBuilder::new(rows.clone())
        .lambda_d(lambda_d)
        .lambda_v(lambda_v)
        .mu(if rng.gen_bool(0.5) {
            0.0
        } else {
            rng.gen_range(1e-6..1e-3) * scale
        })
        .linear_dynamics(a);
    if rng.gen_bool(0.3) {
        // Explicit thresholds, jittered around the usual ‖D_i‖²/2.
        let th = (0..n)
            .map(|i| {
                let r2: f64 = rows.iter().map(|row| row[i] * row[i]).sum();
                0.5 * r2 * rng.gen_range(0.8..1.2)
            })
            .collect();
        b = b.thresholds(th);
    }
    if delay {
        b = b.fast_delay(rng.gen_range(1e-5..5e-4));
    }
    if refractory {
        b = b
            .refractory_periods((0..n).map(|_| rng.gen_range(0.0..3e-3)).collect())
            .refractory_mode(if rng.gen_bool(0.5) {
                RefractoryMode::Clamp
            } else {
                RefractoryMode::Hold
            });
    }
    let net = b.build().unwrap();
    let amp = rng.gen_range(5.0..30.0);
    let input = match rng.gen_range(0..3) {
        0 => {
            let times: Vec<f64> = (0..4).map(|i| i as f64 * 0.05).collect();
            let values: Vec<Vec<f64>> = (0..4)
                .map(|_| (0..d).map(|_| rng.gen_range(-amp..amp)).collect())
                .collect();
            Signal::piecewise_constant(d, &times, &values).unwrap()
        }
        1 => {
            let times: Vec<f64> = (0..5).map(|i| i as f64 * 0.04).collect();
            let values: Vec<Vec<f64>> = (0..5)
                .map(|_| (0..d).map(|_| rng.gen_range(-amp..amp)).collect())
                .collect();
            Signal::piecewise_linear(d, &times, &values).unwrap()
        }
        _ => Signal::smooth_random(&vec![0.0; d], amp, 0.05, 0.3, &mut rng).unwrap(),
    };
    let x0 = (0..d).map(|_| rng.gen_range(-0.1..0.1)).collect();
    Case { net, input, x0 }
}

/// Runs in 1 ms chunks (stops must not matter) up to `until`, 3000 spikes or an error.
fn run(e: &mut dyn Engine, until: f64) -> (Vec<Spike>, Option<SimError>) {
    let mut spikes = Vec::new();
    let mut t = 0.0;
    while t < until && spikes.len() < 3000 {
        t = (t + 1e-3).min(until);
        if let Err(err) = e.run_until(Time::from_secs(t), &mut spikes) {
            return (spikes, Some(err));
        }
    }
    (spikes, None)
}

/// `c` for 0.2 s in the shared-state layout, the per-neuron layout and (up to 600 neurons) the
/// actors: the same spikes (up to near-ties and gradual drift) and, where all agree, the same
/// error.
fn layouts_agree(c: &Case) -> Result<(), TestCaseError> {
    let mut shared = kernel(c, Layout::Shared);
    prop_assert!(shared.uses_shared_state());
    let (a, ea) = run(&mut shared, 0.2);
    let mut per = kernel(c, Layout::PerNeuron);
    prop_assert!(!per.uses_shared_state());
    let (b, eb) = run(&mut per, 0.2);
    let periods = c.net.refractory().map(|r| r.periods().to_vec());
    let same = |a: &[Spike], b: &[Spike]| match &periods {
        Some(p) => assert_same_spikes_or_event_tie(a, b, 1e-9, c.net.fast_delay(), p),
        None => assert_same_spikes(a, b, 1e-9),
    };
    let n = same(&a, &b);
    if n == a.len() && n == b.len() {
        prop_assert_eq!(ea.is_some(), eb.is_some(), "{:?} vs {:?}", ea, eb);
    }
    if c.net.neurons() <= 600 {
        let (x, _) = run(&mut actors(c), 0.2);
        same(&a, &x);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Shared state equals the per-neuron layout and the actors, spike for spike (up to
    /// near-ties and gradual drift), on networks of 30–3000 neurons.
    #[test]
    fn shared_state_equals_per_neuron_and_actors(
        seed in any::<u64>(),
        delay in any::<bool>(),
        refractory in any::<bool>(),
    ) {
        layouts_agree(&big_case(seed, (30, 3000), delay, refractory))?;
    }

    /// Kills, an input change and a placed readout at random times: both layouts agree and
    /// killed neurons stay silent.
    #[test]
    fn shared_state_follows_perturbations(seed in any::<u64>(), f1 in 0.0..1.0f64, f2 in 0.0..1.0f64) {
        let c = big_case(seed, (100, 2000), seed % 3 == 0, seed % 2 == 0);
        let (n, d) = (c.net.neurons(), c.net.dims());
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xabc);
        let dead: Vec<usize> = (0..n).filter(|_| rng.gen_bool(0.4)).collect();
        let input = Signal::smooth_random(&vec![0.0; d], 20.0, 0.05, 0.3, &mut rng).unwrap();
        let place: Vec<f64> = (0..d).map(|_| rng.gen_range(-0.2..0.2)).collect();
        let until = 0.15;
        let (t_kill, t_switch) = (f1 * until, f2 * until);
        // Runs in chunks and stops after the chunk that passes CAP spikes (both layouts stop
        // at the same chunk while they agree), so that dense cases stay quick.
        const CAP: usize = 3000;
        let script = |e: &mut Kernel| {
            let mut spikes = Vec::new();
            let mut steps = [(t_kill, 0), (t_switch, 1), (0.5 * until, 2), (until, 3)];
            steps.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut t_run = 0.0;
            for (t, what) in steps {
                while t_run < t {
                    t_run = (t_run + until / 32.0).min(t);
                    if e.run_until(Time::from_secs(t_run), &mut spikes).is_err()
                        || spikes.len() > CAP
                    {
                        return spikes;
                    }
                }
                match what {
                    0 => e.kill(&dead).unwrap(),
                    1 => e.set_input(input.clone()).unwrap(),
                    2 => e.place_readout(&place).unwrap(),
                    _ => {}
                }
            }
            spikes
        };
        let a = script(&mut kernel(&c, Layout::Shared));
        let b = script(&mut kernel(&c, Layout::PerNeuron));
        for s in &a {
            prop_assert!(
                s.time.secs() <= t_kill || !dead.contains(&(s.neuron as usize)),
                "killed neuron {} fired at {}", s.neuron, s.time.secs()
            );
        }
        assert_same_spikes(&a, &b, 1e-9);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Between events, densely sampled voltages of a large shared-state network never exceed
    /// threshold (beyond rounding), and they equal the per-neuron layout's.
    #[test]
    fn no_missed_crossings_in_the_hierarchy(seed in any::<u64>(), delay in any::<bool>()) {
        let c = big_case(seed, (200, 2000), delay, false);
        let n = c.net.neurons();
        let th = c.net.thresholds().to_vec();
        let mut k = kernel(&c, Layout::Shared);
        let (mut v, mut spikes) = (vec![0.0; n], Vec::new());
        for step in 1..=2000 {
            let t = step as f64 * 2e-5;
            if k.run_until(Time::from_secs(t), &mut spikes).is_err() {
                break;
            }
            k.voltages(&mut v);
            for i in 0..n {
                prop_assert!(v[i] <= th[i] + 1e-12 * th[i].abs().max(1e-3),
                    "neuron {} at t = {}: V − T = {:e}", i, t, v[i] - th[i]);
            }
        }
    }

    /// Many neurons with one decoder and one parabolic voltage, thresholds a little apart:
    /// the lowest threshold grazes or not, exactly as a single neuron would (the hierarchy
    /// neither misses nor invents a grazing crossing, nor picks the wrong neuron).
    #[test]
    fn grazing_among_many(log_delta in -11.0f64..-3.0, sign in any::<bool>(), a in 5.0f64..300.0, k0 in 0usize..300) {
        let delta = if sign { 10f64.powf(log_delta) } else { -(10f64.powf(log_delta)) };
        let t_star = 0.1;
        let (net, input, p0) = common::parabola(delta, a, t_star);
        let n = 300;
        let mut rng = ChaCha8Rng::seed_from_u64(k0 as u64);
        // Thresholds 1 (neuron k0) and 1 + up to 1e-2 (the others).
        let th: Vec<f64> = (0..n)
            .map(|i| if i == k0 { 1.0 } else { 1.0 + rng.gen_range(1e-6..1e-2) })
            .collect();
        let many = NetworkBuilder::new(vec![vec![1.0; n]])
            .lambda_v(net.lambda_v())
            .thresholds(th)
            .build()
            .unwrap();
        let mut k = Kernel::new(many, input, &[p0]).unwrap();
        k.set_layout(Layout::Shared);
        prop_assert!(k.uses_shared_state());
        let mut spikes = Vec::new();
        k.run_until(Time::from_secs(2.0 * t_star), &mut spikes).unwrap();
        let first = spikes.first();
        prop_assert_eq!(first.is_some(), delta < 0.0, "δ = {}: {:?}", delta, first);
        if let Some(s) = first {
            prop_assert_eq!(s.neuron as usize, k0);
            let exact = (t_star - (-delta / a).sqrt()).max(0.0);
            prop_assert!((s.time.secs() - exact).abs() <= 1e-7, "{} vs {}", s.time.secs(), exact);
        }
    }
}

/// A fast-only network (A = −λ_d I: no slow current) of `n_lo..n_hi` neurons, d = 1..=3, with
/// decoders in one orthant (every fast connection inhibits) or not, a fast delay or none, and
/// optional refractory periods (hold mode): the networks whose certified band the kernel carries across
/// spikes and, when inhibitory, across deliveries.
fn fast_only_case(
    seed: u64,
    (n_lo, n_hi): (usize, usize),
    inhibitory: bool,
    refractory: bool,
) -> Case {
    fast_only_case_in(seed, (n_lo, n_hi), (inhibitory, refractory), None)
}

/// [`fast_only_case`], with `relaxed = Some(held)`: one dimension and a piecewise-constant input
/// (the intervals the kernel's relaxation index serves), each piece held `held` s.
fn fast_only_case_in(
    seed: u64,
    (n_lo, n_hi): (usize, usize),
    (inhibitory, refractory): (bool, bool),
    relaxed: Option<f64>,
) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let d = if relaxed.is_some() {
        1
    } else {
        rng.gen_range(1..4)
    };
    let n = (rng.gen_range((n_lo as f64).ln()..(n_hi as f64).ln())).exp() as usize;
    let scale = rng.gen_range(0.05..0.2) * (40.0 / n as f64).sqrt().max(0.05);
    let mut rows = random_decoder(d, n, scale, d > 1 && rng.gen_bool(0.5), &mut rng);
    if inhibitory {
        rows.iter_mut().flatten().for_each(|x| *x = x.abs());
    }
    let lambda_d = rng.gen_range(4.0..25.0);
    let lambda_v = if rng.gen_bool(0.4) {
        lambda_d
    } else {
        rng.gen_range(3.0..40.0)
    };
    let a = (0..d)
        .map(|i| {
            (0..d)
                .map(|j| if i == j { -lambda_d } else { 0.0 })
                .collect()
        })
        .collect();
    let mut b = NetworkBuilder::new(rows)
        .lambda_d(lambda_d)
        .lambda_v(lambda_v)
        .mu(rng.gen_range(0.0..1e-2) * scale * scale)
        .linear_dynamics(a);
    if rng.gen_bool(0.85) {
        b = b.fast_delay(rng.gen_range(1e-5..5e-4));
    }
    if refractory {
        // (With a clamp, a delivery and the end of a period an ulp apart decide whether the
        // input is discarded: `layouts_agree` stops there, see assert_same_spikes_or_event_tie.)
        let mode = if rng.gen_bool(0.5) {
            RefractoryMode::Hold
        } else {
            RefractoryMode::Clamp
        };
        b = b
            .refractory_periods((0..n).map(|_| rng.gen_range(0.0..3e-3)).collect())
            .refractory_mode(mode);
    }
    let net = b.build().unwrap();
    let amp = rng.gen_range(5.0..40.0);
    let input = if let Some(held) = relaxed {
        // (Some pieces may drive no neuron above threshold, or every neuron.)
        let times: Vec<f64> = (0..4).map(|i| i as f64 * held).collect();
        let values: Vec<Vec<f64>> = (0..4)
            .map(|_| vec![rng.gen_range(-0.2 * amp..amp)])
            .collect();
        Signal::piecewise_constant(d, &times, &values).unwrap()
    } else if rng.gen_bool(0.5) {
        let times: Vec<f64> = (0..4).map(|i| i as f64 * 0.05).collect();
        let values: Vec<Vec<f64>> = (0..4)
            .map(|_| (0..d).map(|_| rng.gen_range(0.0..amp)).collect())
            .collect();
        Signal::piecewise_constant(d, &times, &values).unwrap()
    } else {
        Signal::smooth_random(&vec![0.0; d], amp, 0.05, 0.3, &mut rng).unwrap()
    };
    Case {
        net,
        input,
        x0: vec![0.0; d],
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Carrying a certified band across spikes and inhibitory deliveries changes no spike:
    /// the shared state equals the per-neuron layout and the actors on fast-only networks.
    #[test]
    fn carried_bands_change_nothing(
        seed in any::<u64>(),
        inhibitory in any::<bool>(),
        refractory in any::<bool>(),
    ) {
        layouts_agree(&fast_only_case(seed, (30, 3000), inhibitory, refractory))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The relaxation index (one dimension, constant input pieces, no slow current) changes no
    /// spike: the shared state equals the per-neuron layout and the actors, with decoders of
    /// one sign or both, delays or none, refractory periods or none.
    #[test]
    fn the_relaxation_index_changes_nothing(
        seed in any::<u64>(),
        inhibitory in any::<bool>(),
        refractory in any::<bool>(),
        held in 0.01..0.06f64,
    ) {
        let c = fast_only_case_in(seed, (30, 3000), (inhibitory, refractory), Some(held));
        layouts_agree(&c)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Rests near threshold: neuron k0's rest lies δ above its threshold (or below), the others'
    /// thresholds at least 10⁻⁶ higher. It fires first, at `ln((p − V₀)/(p − T))/λ_V`, exactly
    /// when δ > 0 — whether the relaxation index takes the interval or, for a rest within
    /// rounding of threshold, leaves it to the hierarchy.
    #[test]
    fn rests_near_threshold(log_delta in -11.0f64..-3.0, above in any::<bool>(), k0 in 0usize..300) {
        let delta = if above { 10f64.powf(log_delta) } else { -(10f64.powf(log_delta)) };
        let (n, lambda) = (300, 10.0);
        let mut rng = ChaCha8Rng::seed_from_u64(k0 as u64);
        let th: Vec<f64> = (0..n)
            .map(|i| if i == k0 { 1.0 } else { 1.0 + rng.gen_range(1e-6..1e-2) })
            .collect();
        let net = NetworkBuilder::new(vec![vec![1.0; n]])
            .lambda_v(lambda)
            .lambda_d(lambda)
            .linear_dynamics(vec![vec![-lambda]])
            .thresholds(th)
            .build()
            .unwrap();
        // The rest p = c / λ_V = 1 + δ; every voltage starts at 0.
        let input = Signal::constant(&[lambda * (1.0 + delta)]);
        let mut k = Kernel::new(net, input, &[0.0]).unwrap();
        k.set_layout(Layout::Shared);
        let t_star = if delta > 0.0 { ((1.0 + delta) / delta).ln() / lambda } else { 3.0 };
        let mut spikes = Vec::new();
        k.run_until(Time::from_secs(1.5 * t_star), &mut spikes).unwrap();
        // (A rest within ~10⁶ ulps of threshold is left to the hierarchy.)
        let relaxed = k.counters().relaxed_searches > 0;
        if delta.abs() > 1e-9 {
            prop_assert!(relaxed, "δ = {}: {:?}", delta, k.counters());
        } else if delta.abs() < 1e-10 {
            prop_assert!(!relaxed, "δ = {}: {:?}", delta, k.counters());
        }
        let first = spikes.first();
        prop_assert_eq!(first.is_some(), delta > 0.0, "δ = {}: {:?}", delta, first);
        if let Some(s) = first {
            prop_assert_eq!(s.neuron as usize, k0);
            // The root's conditioning: V's slope there is λ_V δ.
            let tol = 1e-14 / (lambda * delta) + 1e-12;
            prop_assert!((s.time.secs() - t_star).abs() <= tol, "{} vs {}", s.time.secs(), t_star);
        }
    }
}

/// The validation suite's timing network (1-D, positive decoders, 0.1-ms delay, constant input):
/// the relaxation index decides every crossing search, without a step of the hierarchy — with
/// the per-neuron layout's spikes.
#[test]
fn the_relaxation_index_decides_the_timing_network() {
    let c = timing_network(false);
    let mut k = kernel(&c, Layout::Shared);
    let mut spikes = Vec::new();
    k.run_until(Time::from_secs(1.0), &mut spikes).unwrap();
    let counters = k.counters();
    assert!(counters.spikes > 1000, "{counters:?}");
    let events = counters.spikes + counters.deliveries;
    assert!(
        counters.relaxed_searches as f64 >= 0.99 * events as f64,
        "{counters:?}"
    );
    assert!(
        counters.bound_steps as f64 <= 0.01 * events as f64,
        "{counters:?}"
    );
    let mut per = Vec::new();
    kernel(&c, Layout::PerNeuron)
        .run_until(Time::from_secs(1.0), &mut per)
        .unwrap();
    assert_eq!(assert_same_spikes(&spikes, &per, 1e-9), spikes.len());
}

/// The timing network of the validation suite at N = 1600; `ramp`: its input rises by 10⁻⁶
/// per second instead of staying constant (so that the relaxation index does not apply).
fn timing_network(ramp: bool) -> Case {
    let n = 1600;
    let mut rng = ChaCha8Rng::seed_from_u64(1600);
    let d: Vec<f64> = (0..n)
        .map(|_| rng.gen_range(0.05..0.15) * (20.0 / n as f64).sqrt())
        .collect();
    let net = NetworkBuilder::new(vec![d])
        .lambda_d(10.0)
        .lambda_v(10.0)
        .mu(1e-4)
        .fast_delay(1e-4)
        .linear_dynamics(vec![vec![-10.0]])
        .build()
        .unwrap();
    let input = if ramp {
        Signal::piecewise_linear(1, &[0.0, 10.0], &[vec![10.0], vec![10.00001]]).unwrap()
    } else {
        Signal::piecewise_constant(1, &[0.0], &[vec![10.0]]).unwrap()
    };
    Case {
        net,
        input,
        x0: vec![0.0],
    }
}

/// The timing network with a slowly ramping input (so the relaxation index does not apply):
/// with the band carried across spikes and deliveries, a spike costs about 1.4 certified steps
/// of the hierarchy (2.4 when every event asked it anew).
#[test]
fn the_band_is_carried_across_spikes_and_inhibitory_deliveries() {
    let c = timing_network(true);
    let mut k = kernel(&c, Layout::Shared);
    let mut spikes = Vec::new();
    k.run_until(Time::from_secs(1.0), &mut spikes).unwrap();
    let counters = k.counters();
    let per_spike = counters.bound_steps as f64 / counters.spikes as f64;
    assert!(counters.spikes > 1000, "{counters:?}");
    assert!(
        per_spike < 1.8,
        "{per_spike} certified steps per spike: {counters:?}"
    );
    let mut per = Vec::new();
    kernel(&c, Layout::PerNeuron)
        .run_until(Time::from_secs(1.0), &mut per)
        .unwrap();
    assert_eq!(assert_same_spikes(&spikes, &per, 1e-9), spikes.len());
}

/// A fast membrane (λ_V = 400 /s) renormalises the frame of the `w`'s every ~0.6 s: a 2-s run
/// equals the per-neuron layout's.
#[test]
fn frame_renormalisation_changes_nothing() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let net = NetworkBuilder::new(random_decoder(2, 400, 0.02, true, &mut rng))
        .lambda_v(400.0)
        .lambda_d(10.0)
        .mu(1e-6)
        .linear_dynamics(vec![vec![-1.0, -10.0], vec![10.0, -1.0]])
        .build()
        .unwrap();
    let input = Signal::smooth_random(&[0.0, 0.0], 10.0, 0.05, 2.0, &mut rng).unwrap();
    let c = Case {
        net,
        input,
        x0: vec![0.0, 0.0],
    };
    let mut spikes = [Vec::new(), Vec::new()];
    for (layout, out) in [Layout::Shared, Layout::PerNeuron]
        .into_iter()
        .zip(&mut spikes)
    {
        let mut k = kernel(&c, layout);
        k.run_until(Time::from_secs(2.0), out).unwrap();
    }
    assert!(spikes[0].len() > 500, "{} spikes", spikes[0].len());
    let late = spikes[0].iter().filter(|s| s.time.secs() > 1.5).count();
    assert!(late > 50, "{late} spikes after 1.5 s");
    let n = assert_same_spikes(&spikes[0], &spikes[1], 1e-9);
    assert!(
        n > spikes[0].len() / 2,
        "compared {n} of {}",
        spikes[0].len()
    );
}

/// Voltage noise switches the kernel to the per-neuron layout and back; across both switches
/// the voltages carry over, and the run equals one that stays per-neuron (same noise draws).
#[test]
fn noise_switches_layouts_and_back() {
    let c = big_case(11, (800, 801), false, false);
    let n = c.net.neurons();
    let mut runs = Vec::new();
    for layout in [Layout::Shared, Layout::PerNeuron] {
        let mut k = kernel(&c, layout);
        let mut spikes = Vec::new();
        k.run_until(Time::from_secs(0.05), &mut spikes).unwrap();
        let mut before = vec![0.0; n];
        k.voltages(&mut before);
        k.set_voltage_noise(1e-3, 1e-3, 7).unwrap();
        assert!(!k.uses_shared_state());
        let mut after = vec![0.0; n];
        k.voltages(&mut after);
        for (x, y) in before.iter().zip(&after) {
            assert!((x - y).abs() <= 1e-15 * x.abs().max(1.0), "{x} vs {y}");
        }
        k.run_until(Time::from_secs(0.1), &mut spikes).unwrap();
        k.voltages(&mut before);
        k.set_voltage_noise(0.0, 1e-3, 7).unwrap();
        assert_eq!(k.uses_shared_state(), layout == Layout::Shared);
        k.voltages(&mut after);
        for (x, y) in before.iter().zip(&after) {
            assert!((x - y).abs() <= 1e-14 * x.abs().max(1e-3), "{x} vs {y}");
        }
        k.run_until(Time::from_secs(0.2), &mut spikes).unwrap();
        runs.push(spikes);
    }
    assert!(runs[0].len() > 100, "{} spikes", runs[0].len());
    assert_same_spikes(&runs[0], &runs[1], 1e-9);
}

/// A 3-per-axis RBF basis on `d` dimensions and weights `U` drawn from `seed`.
fn random_learned(d: usize, seed: u64) -> (Basis, Vec<f64>) {
    let basis = Basis::rbf_grid(d, -0.5, 0.5, 3, 0.3).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let u = (0..d * basis.len())
        .map(|_| rng.gen_range(-3.0..3.0))
        .collect();
    (basis, u)
}

/// A learned current `D U Ψ(x̂)` (shared: no offsets) keeps the shared layout and equals the
/// per-neuron layout; offsets switch to the per-neuron one.
#[test]
fn learned_current_in_the_shared_layout() {
    let c = big_case(5, (500, 501), false, false);
    let (basis, u) = random_learned(c.net.dims(), 2);
    let mut runs = Vec::new();
    for layout in [Layout::Shared, Layout::PerNeuron] {
        let mut k = kernel(&c, layout);
        let l = LearnedCurrent::new(basis.clone(), u.clone()).unwrap();
        k.set_learned_current(Some(l)).unwrap();
        assert_eq!(k.uses_shared_state(), layout == Layout::Shared);
        let mut spikes = Vec::new();
        k.run_until(Time::from_secs(0.2), &mut spikes).unwrap();
        runs.push(spikes);
    }
    assert!(runs[0].len() > 100, "{} spikes", runs[0].len());
    assert_same_spikes(&runs[0], &runs[1], 1e-9);
    let mut k = kernel(&c, Layout::Shared);
    let mut l = LearnedCurrent::new(basis.clone(), u).unwrap();
    l.set_offsets(Some(vec![0.0; c.net.neurons() * basis.len()]))
        .unwrap();
    k.set_learned_current(Some(l)).unwrap();
    assert!(!k.uses_shared_state());
}

/// The default layout with a learned current: the shared state from
/// `Layout::AUTO_SHARED_MIN_LEARNED` neurons on (per neuron below it), with the spikes of a
/// per-neuron run.
#[test]
fn auto_layout_with_a_learned_current_starts_lower() {
    let min = Layout::AUTO_SHARED_MIN_LEARNED;
    assert!(min < Layout::AUTO_SHARED_MIN);
    for (n, shared) in [(min - 1, false), (min, true), (300, true)] {
        let c = big_case(7, (n, n + 1), false, false);
        assert_eq!(c.net.neurons(), n);
        let (basis, u) = random_learned(c.net.dims(), 3);
        let mut runs = Vec::new();
        for layout in [Layout::Auto, Layout::PerNeuron] {
            let mut k = kernel(&c, layout);
            assert!(!k.uses_shared_state(), "N = {n} without a learned current");
            let l = LearnedCurrent::new(basis.clone(), u.clone()).unwrap();
            k.set_learned_current(Some(l)).unwrap();
            assert_eq!(
                k.uses_shared_state(),
                shared && layout == Layout::Auto,
                "N = {n}, {layout:?}"
            );
            let mut spikes = Vec::new();
            k.run_until(Time::from_secs(0.2), &mut spikes).unwrap();
            runs.push(spikes);
        }
        assert!(runs[0].len() > 20, "N = {n}: {} spikes", runs[0].len());
        assert_same_spikes(&runs[0], &runs[1], 1e-9);
    }
}

/// Explicit N×N weights use the per-neuron layout.
#[test]
fn dense_weights_use_the_per_neuron_layout() {
    let c = big_case(1, (50, 51), false, false);
    let dense = Case {
        net: c.net.to_dense(),
        ..c
    };
    assert!(!kernel(&dense, Layout::Shared).uses_shared_state());
}

/// The default layout: per neuron below `Layout::AUTO_SHARED_MIN`; shared state above it, both
/// on a 2-D network whose steps are cheap and on a 1-D network of positive decoders with delayed
/// inhibition (many neurons racing to threshold), where the search's band decides each piece in
/// a few steps per spike — with the spikes of a run that was per-neuron throughout.
#[test]
fn auto_layout_follows_size() {
    let small = big_case(1, (200, 201), false, false);
    assert!(!kernel(&small, Layout::Auto).uses_shared_state());

    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let n = 2000;
    let net = NetworkBuilder::new(random_decoder(2, n, 0.03, true, &mut rng))
        .lambda_v(20.0)
        .lambda_d(10.0)
        .mu(1e-6)
        .linear_dynamics(vec![vec![-4.8, -22.4], vec![40.0, 0.0]])
        .build()
        .unwrap();
    let input = Signal::smooth_random(&[0.0, 0.0], 10.0, 0.05, 0.5, &mut rng).unwrap();
    let cheap = Case {
        net,
        input,
        x0: vec![0.0, 0.0],
    };
    let mut k = kernel(&cheap, Layout::Auto);
    let mut spikes = Vec::new();
    k.run_until(Time::from_secs(0.5), &mut spikes).unwrap();
    assert!(spikes.len() > 100, "{} spikes", spikes.len());
    assert!(
        k.uses_shared_state(),
        "the 2-D network stays in the shared state"
    );

    let n = 1100;
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let d: Vec<f64> = (0..n)
        .map(|_| rng.gen_range(0.05..0.15) * (20.0 / n as f64).sqrt())
        .collect();
    let net = NetworkBuilder::new(vec![d])
        .lambda_v(10.0)
        .lambda_d(10.0)
        .mu(1e-4)
        .fast_delay(1e-4)
        .linear_dynamics(vec![vec![-10.0]])
        .build()
        .unwrap();
    let racing = Case {
        net,
        input: Signal::constant(&[20.0]),
        x0: vec![0.0],
    };
    let mut runs = Vec::new();
    for layout in [Layout::Auto, Layout::PerNeuron] {
        let mut k = kernel(&racing, layout);
        assert_eq!(k.uses_shared_state(), layout == Layout::Auto);
        let mut spikes = Vec::new();
        k.run_until(Time::from_secs(0.3), &mut spikes).unwrap();
        assert_eq!(
            k.uses_shared_state(),
            layout == Layout::Auto,
            "{layout:?} at the end"
        );
        if layout == Layout::Auto {
            let per_spike = k.counters().bound_steps as f64 / spikes.len() as f64;
            assert!(per_spike < 20.0, "{per_spike} certified steps per spike");
        }
        runs.push(spikes);
    }
    assert!(runs[0].len() > 300, "{} spikes", runs[0].len());
    assert_same_spikes(&runs[0], &runs[1], 1e-9);
}

/// Excitation through the relaxation index's same-instant query: a volley of the positive
/// neurons (their inhibition delayed by 5 ms) raises the one negative-decoder neuron, whose rest
/// lies below threshold (outside the index), above threshold at a delivery instant; it fires
/// there, in both layouts and in the actors, at the same times.
#[test]
fn volleys_lift_a_neuron_outside_the_relaxation_index() {
    let n = 11;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut d: Vec<f64> = (0..n - 1)
        .map(|_| 0.1 * rng.gen_range(0.97..1.03))
        .collect();
    d.push(-0.05);
    let net = NetworkBuilder::new(vec![d])
        .lambda_d(10.0)
        .lambda_v(10.0)
        .mu(1e-4)
        .fast_delay(5e-3)
        .linear_dynamics(vec![vec![-10.0]])
        .build()
        .unwrap();
    let c = Case {
        net,
        input: Signal::constant(&[10.0]),
        x0: vec![0.0],
    };
    let mut spikes = Vec::new();
    let mut k = kernel(&c, Layout::Shared);
    k.run_until(Time::from_secs(1.0), &mut spikes).unwrap();
    assert!(k.counters().relaxed_searches > 100, "{:?}", k.counters());
    let outside = spikes.iter().filter(|s| s.neuron as usize == n - 1).count();
    assert!(outside >= 3, "the negative neuron fired {outside} times");
    // Each at a delivery: a positive neuron's spike 5 ms earlier (its rest is below threshold,
    // so only the same-instant rule fires it).
    for s in spikes.iter().filter(|s| s.neuron as usize == n - 1) {
        let t = s.time.secs();
        assert!(
            spikes
                .iter()
                .any(|p| (p.neuron as usize) < n - 1 && (p.time.secs() + 5e-3 - t).abs() < 1e-12),
            "a spike of the negative neuron at {t} with no delivery then"
        );
    }
    let mut per = Vec::new();
    kernel(&c, Layout::PerNeuron)
        .run_until(Time::from_secs(1.0), &mut per)
        .unwrap();
    assert_eq!(assert_same_spikes(&spikes, &per, 1e-9), spikes.len());
    let mut act = Vec::new();
    actors(&c)
        .run_until(Time::from_secs(1.0), &mut act)
        .unwrap();
    assert_eq!(assert_same_spikes(&spikes, &act, 1e-9), spikes.len());
}
