//! This example demonstrates in particular:
//!
//! * the classic test of spike coding: after learning, one spike of the autonomous network is
//!   delayed by 1 ms (`delay_spike` in a phase); the spike trains that follow differ from the
//!   unperturbed run's, while the readout — the coded dynamics — barely moves;
//! * comparing two runs of one model that differ in one phase option, spike by spike.
//!
//! Run with `cargo run --release --example delay_one_spike [-- MODEL]` (default
//! `models/van-der-pol-learn.toml`; two trainings, about 30 s of wall time).

use ebnsim::io::model_file::{load_learning, LearningModel, Phase};
use ebnsim::learning::protocol::{run_phases, LearnOutput, PhaseOptions};
use std::path::PathBuf;

/// The model's phases up to its first training phase, then one autonomous phase of 3 s
/// (with one delayed spike, when `delay` is given).
fn variant(model: &LearningModel, delay: Option<(f64, f64)>) -> LearnOutput {
    let mut model = model.clone();
    model.keep_through_training().expect("a training phase");
    model.phases.push(Phase {
        delay_spike: delay,
        ..Phase::autonomous("autonomous", 3.0, model.network.dims())
    });
    run_phases(&model, &PhaseOptions::default(), |_| {}).expect("the phases run")
}

fn main() {
    let path = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "models/van-der-pol-learn.toml".into()),
    );
    let model = load_learning(&path).expect("a valid learning model");
    let plain = variant(&model, None);
    let delayed = variant(&model, Some((0.5, 1e-3)));
    let start = plain.phases.last().expect("phases").start_time;
    let t_delay = start + 0.5;

    // Spikes: identical up to the delayed one, then different trains.
    let first_diff = plain
        .spikes
        .iter()
        .zip(&delayed.spikes)
        .position(|(a, b)| a != b)
        .expect("the delay changes the spikes");
    let at = plain.spikes[first_diff].time.secs();
    let after: Vec<_> = plain
        .spikes
        .iter()
        .filter(|s| s.time.secs() > t_delay + 1.0)
        .collect();
    let delayed_set: std::collections::HashSet<_> = delayed.spikes.iter().collect();
    let same_after = after.iter().filter(|s| delayed_set.contains(*s)).count();

    // Readout: the largest difference between the two runs over the phase, against the size of
    // the signal.
    let d = plain.readout.dims;
    let first = plain
        .readout
        .times
        .iter()
        .position(|&t| t >= start)
        .expect("samples");
    let (a, b) = (
        &plain.readout.xhat[first * d..],
        &delayed.readout.xhat[first * d..],
    );
    let max_diff = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    let rms = (a.iter().map(|x| x * x).sum::<f64>() / a.len() as f64).sqrt();
    let teacher = plain.readout.x.as_ref().expect("teacher");
    let coding = teacher[first * d..]
        .iter()
        .zip(a)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    println!(
        "{}: one spike delayed by 1 ms at t ≥ {t_delay:.3} s",
        plain.summary.model
    );
    println!("  first differing spike: #{first_diff} at {at:.6} s");
    println!(
        "  spikes more than 1 s after the delay still at the same time and neuron: {same_after} of {} ({:.1} %)",
        after.len(),
        100.0 * same_after as f64 / after.len().max(1) as f64
    );
    println!(
        "  readout: largest difference between the runs {max_diff:.4} (readout RMS {rms:.3}; the \
         network's own largest deviation from the teacher in the unperturbed run {coding:.4})"
    );
    assert!(at >= t_delay, "nothing changes before the delayed spike");
    assert!(
        same_after * 2 < after.len(),
        "the spike trains diverge after one delayed spike"
    );
}
