//! A proportional–integral controller holds the Boerlin oscillator's readout at a set point
//! against a step disturbance, in a lockstep closed loop (`ebnsim::closed_loop`).
//!
//! The network of `models/boerlin-oscillator.toml` (40 neurons encoding x' = A x + c,
//! A = [[-4.8, -22.4], [40, 0]]) is driven along its second input component by the controller:
//! c = (u0, u1 + w(t)), where w is a disturbance of +10 /s switched on at t = 2 s. At rest x0 = −c1/40,
//! so holding x̂0 at the set point 0.3 takes u1 = −12 /s before the step and −22 /s after it
//! (found by the integral term); u0 = K0 (0.3 − x̂0) damps the oscillator's ringing. Every
//! 5 ms the controller reads x̂(t) and sets u for the next 5 ms (one period of latency at most);
//! the engine waits for it, so the run is exact within each period.
//!
//! Run with `cargo run --release --example closed_loop`. It prints the tracking errors and
//! asserts bounds on them (measured: see the asserts).

use ebnsim::closed_loop::{closed_loop_async, ClosedLoopConfig};
use ebnsim::prelude::*;

const SET_POINT: f64 = 0.3;
const PERIOD: f64 = 0.005;
const STEP_AT: f64 = 2.0;
const UNTIL: f64 = 4.0;
/// Gain on the first input component: damps the oscillation (c0 = K0 e adds K0 to its decay).
const K0: f64 = 40.0;
/// Proportional and integral gains on the second component (it sets the level of x0).
const KP: f64 = 10.0;
const KI: f64 = 150.0;

/// RMS and largest |x̂0 − set point| over samples with time in `[from, to)`.
fn errors(readout: &ebnsim::io::record::Readout, from: f64, to: f64) -> (f64, f64) {
    let (rms, max, _) = stats(readout, from, to);
    (rms, max)
}

/// RMS, largest and mean of x̂0 − set point over samples with time in `[from, to)`.
fn stats(readout: &ebnsim::io::record::Readout, from: f64, to: f64) -> (f64, f64, f64) {
    let (mut sum, mut mean, mut n, mut max) = (0.0, 0.0, 0, 0.0_f64);
    for (k, &t) in readout.times.iter().enumerate() {
        if t >= from && t < to {
            let e = readout.xhat[k * readout.dims] - SET_POINT;
            sum += e * e;
            mean += e;
            n += 1;
            max = max.max(e.abs());
        }
    }
    ((sum / n as f64).sqrt(), max, mean / n as f64)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model =
        ebnsim::io::model_file::load(std::path::Path::new("models/boerlin-oscillator.toml"))?;
    let sim = Simulation::from_model(&model)
        .record_readout(1e-3)
        .build()?;
    let disturbance =
        Signal::piecewise_constant(2, &[0.0, STEP_AT], &[vec![0.0, 0.0], vec![0.0, 10.0]])?;
    let config = ClosedLoopConfig {
        period: PERIOD,
        until: UNTIL,
        exogenous: Some(disturbance),
    };
    // x0 falls when c1 rises: c1 is the negated PI output on the error r − x̂0; c0 damps.
    let mut integral = 0.0;
    let recorded = closed_loop_async(sim, config, |_t, xhat| {
        let e = SET_POINT - xhat[0];
        integral += e * PERIOD;
        vec![K0 * e, -(KP * e + KI * integral)]
    })
    .await?;
    let readout = recorded.readout.as_ref().expect("readout recorded");
    let (rms_before, max_before) = errors(readout, 1.0, STEP_AT);
    let (_, max_step) = errors(readout, STEP_AT, STEP_AT + 1.0);
    let (rms_after, max_after, mean_after) = stats(readout, STEP_AT + 1.0, UNTIL);
    println!(
        "{} spikes; set point {SET_POINT}, period {PERIOD} s, gains K0 {K0}, KP {KP}, KI {KI}",
        recorded.spikes.len()
    );
    println!("before the step, t in [1, 2) s:  RMS error {rms_before:.4}, max {max_before:.4}");
    println!("after the step,  t in [2, 3) s:  max error {max_step:.4}");
    println!("settled again,   t in [3, 4) s:  RMS error {rms_after:.4}, max {max_after:.4}, mean {mean_after:+.4}");
    // Measured (seed 7): RMS 0.028 before and after the step (the readout's spiking noise:
    // each spike moves x̂ by 0.1), largest error 0.06; 0.24 just after the step.
    assert!(rms_before < 0.04 && rms_after < 0.04, "RMS tracking error");
    assert!(max_before < 0.1 && max_after < 0.1, "largest settled error");
    assert!(max_step < 0.35, "largest error after the step");
    assert!(
        mean_after.abs() < 0.01,
        "no offset left by the step (integral action)"
    );
    Ok(())
}
