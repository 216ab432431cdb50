//! Perturbations as events: one delayed spike (exact kernel and stepper), a kick of network and
//! teacher at a phase start, and phase voltage noise — each does what it says and nothing else.

use ebnsim::engine::dense::{DenseConfig, DenseStepper};
use ebnsim::engine::kernel::Kernel;
use ebnsim::engine::Control;
use ebnsim::engine::{Engine, Spike};
use ebnsim::model::network::{random_decoder, Network, NetworkBuilder};
use ebnsim::model::signal::Signal;
use ebnsim::time::Time;
use rand::SeedableRng;

/// A 2-D oscillator network of 30 neurons driven by a constant input (a few hundred spikes/s).
fn network() -> (Network, Signal) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let rows = random_decoder(2, 30, 0.1, true, &mut rng);
    let net = NetworkBuilder::new(rows)
        .lambda_d(10.0)
        .lambda_v(20.0)
        .mu(1e-4)
        .linear_dynamics(vec![vec![-4.8, -22.4], vec![40.0, 0.0]])
        .build()
        .unwrap();
    (net, Signal::constant(&[3.0, -2.0]))
}

fn first_at_or_after(spikes: &[Spike], t: f64) -> Spike {
    *spikes.iter().find(|s| s.time.secs() >= t).unwrap()
}

#[test]
fn kernel_delays_exactly_one_spike() {
    let (net, input) = network();
    let (from, delay) = (0.3, 2e-3);
    let mut plain = Kernel::new(net.clone(), input.clone(), &[0.0, 0.0]).unwrap();
    let mut a = Vec::new();
    plain.run_until(Time::from_secs(1.0), &mut a).unwrap();
    let held = first_at_or_after(&a, from);

    let mut k = Kernel::new(net, input, &[0.0, 0.0]).unwrap();
    k.delay_next_spike(from, delay).unwrap();
    let mut b = Vec::new();
    k.run_until(Time::from_secs(1.0), &mut b).unwrap();
    // Identical before the held spike.
    let before = a.iter().take_while(|s| s.time < held.time).count();
    assert!(before > 20, "the test needs history: {before}");
    assert_eq!(&a[..before], &b[..before]);
    // The held neuron is silent until its release, then fires exactly `delay` later.
    let released = b[before..]
        .iter()
        .find(|s| s.neuron == held.neuron)
        .unwrap();
    assert_eq!(released.time.secs(), held.time.secs() + delay);
    // Others fired meanwhile (the network compensates), and the trains diverge afterwards.
    assert!(b[before..]
        .iter()
        .take_while(|s| s.time < released.time)
        .any(|s| s.neuron != held.neuron));
    assert_ne!(a[before..], b[before..]);
    // Only one spike is delayed: a second request is needed for another.
    assert_eq!(k.counters().spikes as usize, b.len());
    assert!(k.delay_next_spike(f64::NAN, 1e-3).is_err());
    assert!(k.delay_next_spike(0.0, -1e-3).is_err());
}

#[test]
fn kernel_drops_a_held_spike_of_a_killed_neuron() {
    let (net, input) = network();
    let mut plain = Kernel::new(net.clone(), input.clone(), &[0.0, 0.0]).unwrap();
    let mut a = Vec::new();
    plain.run_until(Time::from_secs(0.5), &mut a).unwrap();
    let held = first_at_or_after(&a, 0.3);
    let mut k = Kernel::new(net, input, &[0.0, 0.0]).unwrap();
    k.delay_next_spike(0.3, 0.05).unwrap();
    let mut b = Vec::new();
    // Stop inside the hold, kill the held neuron: it never fires again.
    k.run_until(Time::from_secs(held.time.secs() + 0.01), &mut b)
        .unwrap();
    k.kill(&[held.neuron as usize]).unwrap();
    let n = b.len();
    k.run_until(Time::from_secs(1.0), &mut b).unwrap();
    assert!(b[n..].iter().all(|s| s.neuron != held.neuron));
    assert!(b.len() > n + 10);
}

#[test]
fn stepper_delays_one_spike_by_whole_steps() {
    let (net, input) = network();
    let cfg = DenseConfig {
        dt: 1e-4,
        ..DenseConfig::default()
    };
    let mut plain = DenseStepper::new(&net, input.clone(), &[0.0, 0.0], cfg).unwrap();
    let mut a = Vec::new();
    plain.run_until(Time::from_secs(1.0), &mut a).unwrap();
    let held = first_at_or_after(&a, 0.3);
    let mut s = DenseStepper::new(&net, input, &[0.0, 0.0], cfg).unwrap();
    // 0.26 ms rounds to 3 steps.
    s.delay_next_spike(0.3, 2.6e-4).unwrap();
    let mut b = Vec::new();
    s.run_until(Time::from_secs(1.0), &mut b).unwrap();
    let before = a.iter().take_while(|x| x.time < held.time).count();
    assert_eq!(&a[..before], &b[..before]);
    let released = b[before..]
        .iter()
        .find(|x| x.neuron == held.neuron)
        .unwrap();
    let steps = (released.time.secs() - held.time.secs()) / 1e-4;
    assert!((steps - 3.0).abs() < 1e-6, "{steps}");
    // One spike per step: nobody else fires in the release step.
    assert_eq!(
        b.iter().filter(|x| x.time == released.time).count(),
        1,
        "one spike per step"
    );
}

#[test]
fn stepper_places_its_readout() {
    let (net, input) = network();
    let mut s = DenseStepper::new(&net, input, &[0.0, 0.0], DenseConfig::default()).unwrap();
    let mut spikes = Vec::new();
    s.run_until(Time::from_secs(0.10005), &mut spikes).unwrap();
    s.place_readout(&[0.3, -0.2]).unwrap();
    let mut x = [0.0; 2];
    s.readout(&mut x);
    assert!(
        (x[0] - 0.3).abs() < 1e-12 && (x[1] + 0.2).abs() < 1e-12,
        "{x:?}"
    );
    let mut v = vec![0.0; 30];
    s.voltages(&mut v);
    assert!(v.iter().all(|&v| v == 0.0));
    assert!(s.place_readout(&[0.3]).is_err());
}

/// Two phases; the second may carry extra options.
fn kicked_model(second_phase_extra: &str) -> ebnsim::io::model_file::LearningModel {
    let text = format!(
        r#"
name = "kick"
seed = 3
[network]
neurons = 30
dims = 2
lambda_d = 10.0
mu = 2.5e-5
decoder = {{ random = "normal", scale = 0.05, normalize = true }}
[target]
kind = "van_der_pol"
initial = [1.0, 0.0]
[basis]
kind = "monomials"
degree = 3
[[phase]]
name = "train"
duration = 1.0
input = {{ kind = "ou", tau = 0.05, sigma = 2.0 }}
feedback_gain = 30.0
learning_rate = 100.0
[[phase]]
name = "autonomous"
duration = 0.5
{second_phase_extra}
"#
    );
    ebnsim::io::model_file::parse_learning(&text, std::path::Path::new("kick.toml")).unwrap()
}

#[test]
fn a_kick_moves_network_and_teacher_together() {
    let run = |extra: &str| {
        ebnsim::learning::protocol::run_phases(&kicked_model(extra), &Default::default(), |_| {})
            .unwrap()
    };
    let plain = run("");
    let kicked = run("kick = [0.25, -0.5]");
    // Sample 1000 is t = 1.0 s, the second phase's start, taken after the kick.
    let r = (&plain.readout, &kicked.readout);
    assert_eq!(r.0.times[1000], 1.0);
    assert_eq!(
        r.0.xhat[..2000],
        r.1.xhat[..2000],
        "the same up to the kick"
    );
    let (x0, x1) = (r.0.x.as_ref().unwrap(), r.1.x.as_ref().unwrap());
    for (j, k) in [0.25, -0.5].iter().enumerate() {
        assert!((x1[2000 + j] - x0[2000 + j] - k).abs() < 1e-12, "teacher");
        assert!(
            (r.1.xhat[2000 + j] - r.0.xhat[2000 + j] - k).abs() < 1e-12,
            "readout"
        );
    }
}

#[test]
fn named_neurons_are_removed_at_the_phase_start() {
    let out = ebnsim::learning::protocol::run_phases(
        &kicked_model("kill_neurons = [0, 3, 3]"),
        &Default::default(),
        |_| {},
    )
    .unwrap();
    assert_eq!(out.phases[1].alive, 28);
    let before = out.spikes.iter().filter(|s| s.time.secs() < 1.0);
    assert!(before.clone().any(|s| s.neuron == 0 || s.neuron == 3));
    assert!(out
        .spikes
        .iter()
        .filter(|s| s.time.secs() >= 1.0)
        .all(|s| s.neuron != 0 && s.neuron != 3));
}

#[test]
fn phase_noise_changes_the_spikes_deterministically() {
    let run = |extra: &str| {
        ebnsim::learning::protocol::run_phases(&kicked_model(extra), &Default::default(), |_| {})
            .unwrap()
    };
    let plain = run("");
    let noisy = run("noise = { sigma = 0.01 }");
    let again = run("noise = { sigma = 0.01 }");
    assert_eq!(noisy.spikes, again.spikes, "same seed, same noise");
    let first_phase = plain.spikes.iter().filter(|s| s.time.secs() < 1.0).count();
    assert_eq!(plain.spikes[..first_phase], noisy.spikes[..first_phase]);
    assert_ne!(plain.spikes[first_phase..], noisy.spikes[first_phase..]);
    // Small noise: the readout still follows the learned dynamics about as well.
    let (a, b) = (
        plain.phases[1].nrmse.unwrap(),
        noisy.phases[1].nrmse.unwrap(),
    );
    assert!(b < a + 0.2, "noisy {b} vs plain {a}");
    // A delayed spike in a phase: spike trains differ after it, not before.
    let delayed = run("delay_spike = { after = 0.2, delay = 1e-3 }");
    let upto = plain
        .spikes
        .iter()
        .take_while(|s| s.time.secs() < 1.2)
        .count();
    assert_eq!(plain.spikes[..upto], delayed.spikes[..upto]);
    assert_ne!(plain.spikes[upto..], delayed.spikes[upto..]);
}

/// A 1-D double well: `basins` at a phase start tests the spiking network itself — an untrained
/// network (U = 0, it decays to 0) fails it, a trained one passes.
#[test]
fn basin_tests_tell_trained_from_untrained_networks() {
    let text = r#"
name = "basins"
seed = 3
[network]
neurons = 50
dims = 1
lambda_d = 10.0
mu = 2.5e-5
decoder = { random = "normal", scale = 0.05, normalize = true }
[target]
kind = "double_well"
initial = [1.0]
[basis]
kind = "rbf_grid"
range = [-2.0, 2.0]
per_dim = 25
width = 1.0
[[phase]]
name = "untrained"
duration = 0.1
basins = { per_dim = 4, duration = 1.0, range = [-1.5, 1.5] }
[[phase]]
name = "train"
duration = 20.0
input = { kind = "ou", tau = 0.05, sigma = 6.0 }
feedback_gain = 30.0
learning_rate = 1000.0
learning_rate_decay = { start = 0.7, to = 0.1 }
[[phase]]
name = "trained"
duration = 0.1
basins = { per_dim = 4, duration = 1.0 }
"#;
    let model =
        ebnsim::io::model_file::parse_learning(text, std::path::Path::new("basins.toml")).unwrap();
    let out = ebnsim::learning::protocol::run_phases(&model, &Default::default(), |_| {}).unwrap();
    let (before, after) = (
        out.phases[0].basins.as_ref().unwrap(),
        out.phases[2].basins.as_ref().unwrap(),
    );
    assert_eq!((before.starts, after.starts), (4, 4));
    // Untrained: every start decays towards 0 while the true flow reaches ±1.
    assert_eq!(before.correct, 0, "{before:?}");
    assert!(before.max_distance > 0.5);
    // Trained, on the box of the training states (the default range).
    assert_eq!(after.correct, 4, "{after:?}");
    assert!(after.max_distance < 0.15);
    assert!(after.box_lo[0] < -1.0 && after.box_hi[0] > 1.0, "{after:?}");
    // Without training before it and without a range, the test has no box: an error naming it.
    let bad = text.replace(
        "basins = { per_dim = 4, duration = 1.0, range = [-1.5, 1.5] }",
        "basins = { per_dim = 4, duration = 1.0 }",
    );
    let model =
        ebnsim::io::model_file::parse_learning(&bad, std::path::Path::new("basins.toml")).unwrap();
    let err = ebnsim::learning::protocol::run_phases(&model, &Default::default(), |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("phase[0].basins.range"), "{err}");
}
