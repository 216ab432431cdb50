//! Streams and closed loops: a streamed run gives exactly the records of the same run without
//! streaming, back-pressure loses nothing, closing the receiver stops the run cleanly, and a
//! closed loop is the same run whichever way its controller is driven — and holds a set point.
//! A streamed learning run is the run of `run_phases`, its messages arrive in order, and closing
//! its receiver stops it.

use ebnsim::closed_loop::{
    closed_loop, closed_loop_async, spawn_plant, ClosedLoopConfig, ClosedLoopError,
};
use ebnsim::io::model_file::{load, parse_learning, LearningModel, Model};
use ebnsim::learning::protocol::{run_phases, CurvePoint, LearnError, LearnProgress, PhaseOptions};
use ebnsim::prelude::*;
use ebnsim::stream::{stream_learning, Batch, StreamConfig, StreamError};

fn oscillator() -> Model {
    load(std::path::Path::new("models/boerlin-oscillator.toml")).unwrap()
}

/// The oscillator with a readout every ms and a state monitor of three neurons (at spikes too).
fn sim(model: &Model) -> Simulation {
    Simulation::from_model(model)
        .record_state(StateMonitorSpec {
            neurons: NeuronSelection::List(vec![0, 5, 9]),
            dt: 0.0035,
            variables: vec![StateVariable::V, StateVariable::R],
            at_spikes: true,
        })
        .build()
        .unwrap()
}

/// The batches' spikes, readout times and readout values, concatenated.
fn concat(batches: &[Batch]) -> (Vec<Spike>, Vec<f64>, Vec<f64>) {
    let (mut spikes, mut times, mut xhat) = (vec![], vec![], vec![]);
    for b in batches {
        assert!(b.spikes.iter().all(|s| s.time.secs() > b.t0 || b.t0 == 0.0));
        assert!(b.spikes.iter().all(|s| s.time.secs() <= b.t1));
        spikes.extend_from_slice(&b.spikes);
        let r = b.readout.as_ref().unwrap();
        times.extend_from_slice(&r.times);
        xhat.extend_from_slice(&r.xhat);
    }
    (spikes, times, xhat)
}

#[test]
fn streamed_run_equals_the_run_without_streaming() {
    let model = oscillator();
    let mut direct = sim(&model);
    direct.run_until(1.0).unwrap();
    let direct = direct.finish();
    // Slices that do not divide the sample intervals, and a channel of one batch whose
    // consumer is slow: the simulation waits, nothing is lost.
    let (rx, handle) = sim(&model)
        .stream(StreamConfig {
            until: 1.0,
            batch: 0.0237,
            capacity: 1,
        })
        .unwrap();
    let mut batches = Vec::new();
    while let Ok(b) = rx.recv_blocking() {
        if batches.len() % 10 == 0 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        batches.push(b);
    }
    let streamed = handle.join().unwrap().unwrap();
    assert_eq!(batches.len(), (1.0_f64 / 0.0237).ceil() as usize);
    for w in batches.windows(2) {
        assert_eq!(w[0].t1, w[1].t0, "contiguous slices");
    }
    assert_eq!(batches.last().unwrap().t1, 1.0);
    let (spikes, rt, rx_) = concat(&batches);
    assert!(!spikes.is_empty());
    // Bit for bit: spikes, readout samples, state samples and samples at spikes.
    assert_eq!(spikes, direct.spikes);
    let r = direct.readout.as_ref().unwrap();
    assert_eq!((rt, rx_), (r.times.clone(), r.xhat.clone()));
    let s = direct.state.as_ref().unwrap();
    // The state monitor's regular samples and samples at spikes.
    let (mut st, mut reg, mut at) = (vec![], vec![], vec![]);
    for b in &batches {
        let bs = b.state.as_ref().unwrap();
        assert_eq!(bs.columns, s.columns);
        st.extend_from_slice(&bs.times);
        reg.extend_from_slice(&bs.values);
        at.extend_from_slice(&bs.at_spikes.as_ref().unwrap().values);
    }
    assert_eq!(st, s.times);
    assert_eq!(reg, s.values);
    assert_eq!(at, s.at_spikes.as_ref().unwrap().values);
    // The thread's record is the whole run's.
    assert_eq!(streamed.spikes, direct.spikes);
    assert_eq!(streamed.readout, direct.readout);
    assert_eq!(streamed.state, direct.state);
}

#[test]
fn closing_the_receiver_stops_the_run_cleanly() {
    let model = oscillator();
    let (rx, handle) = sim(&model)
        .stream(StreamConfig {
            until: 100.0,
            batch: 0.01,
            capacity: 2,
        })
        .unwrap();
    for _ in 0..5 {
        rx.recv_blocking().unwrap();
    }
    drop(rx);
    match handle.join().unwrap() {
        Err(StreamError::Stopped { at, recorded }) => {
            // Five batches taken, at most `capacity` waiting, one being sent.
            assert!(
                (0.05 - 1e-12..=0.08 + 1e-12).contains(&at),
                "stopped at {at}"
            );
            assert!(recorded.spikes.iter().all(|s| s.time.secs() <= at));
            assert!(!recorded.readout.unwrap().is_empty());
        }
        other => panic!("expected Stopped, got {other:?}"),
    }
}

#[test]
fn bad_stream_configurations_are_refused() {
    let model = oscillator();
    for config in [
        StreamConfig {
            until: 1.0,
            batch: 0.0,
            capacity: 1,
        },
        StreamConfig {
            until: 1.0,
            batch: 0.1,
            capacity: 0,
        },
        StreamConfig {
            until: f64::NAN,
            batch: 0.1,
            capacity: 1,
        },
    ] {
        assert!(sim(&model).stream(config).is_err());
    }
}

/// A PI controller holding x̂0 at 0.3 (c0 damps, c1 sets the level), with its state.
fn controller() -> impl FnMut(f64, &[f64]) -> Vec<f64> {
    let mut integral = 0.0;
    move |_t, xhat| {
        let e = 0.3 - xhat[0];
        integral += e * 0.005;
        vec![40.0 * e, -(10.0 * e + 150.0 * integral)]
    }
}

fn loop_config(until: f64) -> ClosedLoopConfig {
    ClosedLoopConfig {
        period: 0.005,
        until,
        // A step disturbance on the controlled component at 1 s.
        exogenous: Some(
            Signal::piecewise_constant(2, &[0.0, 1.0], &[vec![0.0, 0.0], vec![0.0, 10.0]]).unwrap(),
        ),
    }
}

#[test]
fn closed_loop_holds_a_set_point_against_a_step() {
    let model = oscillator();
    let sim = Simulation::from_model(&model)
        .record_readout(1e-3)
        .build()
        .unwrap();
    let rec = closed_loop(sim, &loop_config(2.5), controller()).unwrap();
    let r = rec.readout.unwrap();
    let rms = |from: f64, to: f64| {
        let e: Vec<f64> = (0..r.len())
            .filter(|&k| r.times[k] >= from && r.times[k] < to)
            .map(|k| r.xhat[2 * k] - 0.3)
            .collect();
        (e.iter().map(|v| v * v).sum::<f64>() / e.len() as f64).sqrt()
    };
    // Measured: 0.034 before the step, 0.029 after it settles (the readout's spiking noise).
    assert!(rms(0.75, 1.0) < 0.045, "{}", rms(0.75, 1.0));
    assert!(rms(1.8, 2.5) < 0.045, "{}", rms(1.8, 2.5));
}

#[test]
fn closed_loop_is_the_same_run_in_every_driver() {
    let model = oscillator();
    let build = || {
        Simulation::from_model(&model)
            .record_readout(1e-3)
            .build()
            .unwrap()
    };
    let direct = closed_loop(build(), &loop_config(1.5), controller()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let asynced = rt
        .block_on(closed_loop_async(build(), loop_config(1.5), controller()))
        .unwrap();
    // A hand-written async controller on the plant's channels.
    let plant = spawn_plant(build(), loop_config(1.5)).unwrap();
    let mut control = controller();
    rt.block_on(async {
        while let Ok(obs) = plant.observations.recv().await {
            plant
                .controls
                .send(control(obs.time, &obs.readout))
                .await
                .unwrap();
        }
    });
    let channels = plant.handle.join().unwrap().unwrap();
    assert!(!direct.spikes.is_empty());
    assert_eq!(asynced.spikes, direct.spikes);
    assert_eq!(channels.spikes, direct.spikes);
    assert_eq!(asynced.readout, direct.readout);
}

#[test]
fn closed_loop_stops_when_the_controller_goes_away() {
    let model = oscillator();
    let plant = spawn_plant(
        Simulation::from_model(&model).build().unwrap(),
        loop_config(1.0),
    )
    .unwrap();
    for _ in 0..3 {
        plant.observations.recv_blocking().unwrap();
        plant.controls.send_blocking(vec![0.0, 0.0]).unwrap();
    }
    drop(plant.controls);
    match plant.handle.join().unwrap() {
        Err(ClosedLoopError::Stopped { at, .. }) => assert!((at - 0.015).abs() < 1e-12, "{at}"),
        other => panic!("expected Stopped, got {other:?}"),
    }
    // A control of the wrong size is an error, not a panic.
    let sim = Simulation::from_model(&model).build().unwrap();
    let err = closed_loop(sim, &loop_config(0.1), |_, _| vec![1.0]).unwrap_err();
    assert!(matches!(err, ClosedLoopError::Input(_)), "{err}");
}

#[test]
fn set_input_keeps_the_run_exact() {
    // Switching to the same input mid-run re-bases the closed forms there: the same spikes, to
    // rounding.
    let model = oscillator();
    let mut a = Simulation::from_model(&model).build().unwrap();
    a.run_until(0.5).unwrap();
    let mut b = Simulation::from_model(&model).build().unwrap();
    b.run_until(0.2).unwrap();
    b.set_input(model.input.clone()).unwrap();
    b.run_until(0.5).unwrap();
    assert_eq!(a.spikes().len(), b.spikes().len());
    for (x, y) in a.spikes().iter().zip(b.spikes()) {
        assert_eq!(x.neuron, y.neuron);
        assert!((x.time.secs() - y.time.secs()).abs() < 1e-12, "{x:?} {y:?}");
    }
    assert!(b.set_input(Signal::zero(3)).is_err());
}

/// Van der Pol on 20 neurons: 0.4 s of training, then 0.2 s autonomous (fast in debug builds).
const TINY_LEARNING: &str = r#"
name = "tiny-vdp"
seed = 7

[network]
neurons = 20
dims = 2
lambda_d = 10.0
mu = 2.5e-5
decoder = { random = "normal", scale = 0.05, normalize = true }

[target]
kind = "van_der_pol"
initial = [1.0, 0.0]

[basis]
kind = "monomials"
degree = 3

[[phase]]
name = "train"
duration = 0.4
input = { kind = "ou", tau = 0.05, sigma = 2.0 }
feedback_gain = 30.0
learning_rate = 100.0
learning_rate_decay = { start = 0.5, to = 0.1 }

[[phase]]
name = "autonomous"
duration = 0.2
input = { kind = "zero" }
start = "teacher"
"#;

fn tiny_learning() -> LearningModel {
    parse_learning(TINY_LEARNING, std::path::Path::new("tiny.toml")).unwrap()
}

/// Bitwise equality of learning curves (a window without samples has NaN NRMSE).
fn curve_bits(curve: &[CurvePoint]) -> Vec<(u64, usize, u64, u64)> {
    curve
        .iter()
        .map(|p| {
            (
                p.time.to_bits(),
                p.phase,
                p.field_error.to_bits(),
                p.window_nrmse.to_bits(),
            )
        })
        .collect()
}

#[test]
fn streamed_learning_equals_run_phases() {
    let model = tiny_learning();
    let direct = run_phases(&model, &PhaseOptions::default(), |_| {}).unwrap();
    // A channel of one message and a slow consumer: the run waits, nothing is lost.
    let (rx, handle) = stream_learning(model.clone(), PhaseOptions::default(), 1).unwrap();
    let mut messages = Vec::new();
    while let Ok(m) = rx.recv_blocking() {
        if messages.len() % 50 == 0 {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        messages.push(m);
    }
    let streamed = handle.join().unwrap().unwrap();
    // The same run, to the bit.
    assert_eq!(streamed.weights, direct.weights);
    assert_eq!(streamed.offsets, direct.offsets);
    assert_eq!(streamed.spikes, direct.spikes);
    assert_eq!(streamed.readout, direct.readout);
    assert_eq!(curve_bits(&streamed.curve), curve_bits(&direct.curve));
    assert_eq!(
        format!("{:?}", streamed.phases),
        format!("{:?}", direct.phases)
    );
    assert_eq!(
        streamed.field_error.map(f64::to_bits),
        direct.field_error.map(f64::to_bits)
    );
    assert!(!direct.curve.is_empty());
    // The curve points sent are the output's curve; phases start and end in order, each with
    // its report, and times never go back.
    let sent: Vec<CurvePoint> = messages
        .iter()
        .filter_map(|m| match m {
            LearnProgress::Curve(p) => Some(*p),
            _ => None,
        })
        .collect();
    assert_eq!(curve_bits(&sent), curve_bits(&direct.curve));
    let mut phase: Option<usize> = None;
    let mut ended = Vec::new();
    let mut last_time = 0.0;
    for m in &messages {
        match m {
            LearnProgress::PhaseStarted {
                index,
                name,
                start_time,
                duration,
            } => {
                assert_eq!(phase, None, "a phase starts while {phase:?} runs");
                assert_eq!(*index, ended.len());
                assert_eq!(*name, model.phases[*index].name);
                assert_eq!(*duration, model.phases[*index].duration);
                assert_eq!(*start_time, direct.phases[*index].start_time);
                phase = Some(*index);
            }
            LearnProgress::PhaseEnded { index, report } => {
                assert_eq!(phase, Some(*index));
                ended.push(format!("{report:?}"));
                phase = None;
            }
            LearnProgress::Curve(p) => {
                assert_eq!(phase, Some(p.phase));
                assert!(p.time >= last_time);
                last_time = p.time;
            }
            LearnProgress::Time(t) => {
                assert!(*t >= last_time, "time {t} after {last_time}");
                last_time = *t;
            }
        }
    }
    assert_eq!(phase, None);
    let reports: Vec<String> = direct.phases.iter().map(|r| format!("{r:?}")).collect();
    assert_eq!(ended, reports);
    assert!(matches!(messages.last(), Some(LearnProgress::Time(t)) if (*t - 0.6).abs() < 1e-12));
    assert!(messages.len() > direct.curve.len() + 4);
}

#[test]
fn dropping_the_learning_receiver_stops_the_run() {
    let (rx, handle) = stream_learning(tiny_learning(), PhaseOptions::default(), 1).unwrap();
    let first = rx.recv_blocking().unwrap();
    assert!(matches!(
        first,
        LearnProgress::PhaseStarted { index: 0, .. }
    ));
    drop(rx);
    match handle.join().unwrap() {
        Err(LearnError::Stopped { at }) => assert!((0.0..0.6).contains(&at), "stopped at {at}"),
        other => panic!("expected Stopped, got {other:?}"),
    }
}

#[test]
fn a_learning_stream_needs_a_capacity() {
    let e = stream_learning(tiny_learning(), PhaseOptions::default(), 0).unwrap_err();
    assert_eq!(e.field, "stream.capacity");
    assert!(e.to_string().contains("stream.capacity"), "{e}");
}

#[test]
fn a_failing_learning_stream_is_not_stopped() {
    // Initial weights of the wrong size: the run fails (not "stopped") before any message.
    let opts = PhaseOptions {
        initial_weights: Some(vec![0.0; 3]),
        ..PhaseOptions::default()
    };
    let (rx, handle) = stream_learning(tiny_learning(), opts, 4).unwrap();
    assert!(
        rx.recv_blocking().is_err(),
        "no message, the channel closes"
    );
    assert!(matches!(handle.join().unwrap(), Err(LearnError::Run(_))));
}
