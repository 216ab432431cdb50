//! This example demonstrates in particular:
//!
//! * robustness to losing neurons, as a curve: a shipped learning model is trained once; then, at
//!   each of ten stages, 10 % of N more is removed (`kill_fraction = 0.1`, cumulative: 0 %, 10 %,
//!   …, 90 % removed), the network tracks a teacher started at its readout for 1 s with feedback
//!   (no learning) and runs alone for 4 s (60 s for Lorenz) — the same test at every stage;
//! * the metrics of each stage (period and amplitude errors and 1-s NRMSE for oscillators, std
//!   ratios and loop period error for Lorenz), written as `kill_sweep.csv` and plotted as
//!   `kill_sweep.svg` (error vs fraction of neurons removed);
//! * building a learning model's phases in code (`Phase::autonomous` with struct-update syntax)
//!   on top of a model file.
//!
//! Run with `cargo run --release --example kill_sweep [-- MODEL [OUT_DIR [SEED]]]` (default
//! `models/van-der-pol-learn.toml`, `out/kill-sweep`, the file's seed).

use ebnsim::io::figures::{metric_chart, MetricChart, Series, Tolerance};
use ebnsim::io::model_file::{load_learning, parse_learning_seeded, Phase, PhaseStart};
use ebnsim::learning::protocol::{run_phases, PhaseOptions};
use ebnsim::model::dynamics::TargetKind;
use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model_path = PathBuf::from(
        args.first()
            .map_or("models/van-der-pol-learn.toml", String::as_str),
    );
    let out_dir = PathBuf::from(args.get(1).map_or("out/kill-sweep", String::as_str));
    let seed: Option<u64> = args.get(2).and_then(|s| s.parse().ok());
    let mut model = load_learning(&model_path).expect("a valid learning model");
    if let Some(seed) = seed {
        let text = std::fs::read_to_string(&model_path).expect("a learning model file");
        model = parse_learning_seeded(&text, &model_path, Some(seed)).expect("a valid model");
    }
    // Keep the phases up to the first training phase, then add the stages in code.
    let training = model.keep_through_training().expect("a training phase");
    let lorenz = model.target.kind == TargetKind::Lorenz;
    let duration = if lorenz { 60.0 } else { 4.0 };
    let d = model.network.dims();
    // Each stage: remove 10 % of N, track a teacher started at the readout for 1 s with feedback
    // (no learning), then run alone — the same test at every stage as for the intact network.
    for k in 0..10 {
        model.phases.push(Phase {
            feedback_gain: 30.0,
            start: PhaseStart::Readout,
            kill_fraction: if k == 0 { 0.0 } else { 0.1 },
            ..Phase::autonomous(format!("resync-{}", 10 * k), 1.0, d)
        });
        model
            .phases
            .push(Phase::autonomous(format!("killed-{}", 10 * k), duration, d));
    }
    let started = std::time::Instant::now();
    let out = run_phases(&model, &PhaseOptions::default(), |_| {}).expect("the phases run");
    println!(
        "{}: trained {} s, {} stages of {duration} s, {:.1} s wall",
        model.name,
        model.phases[training].duration,
        (model.phases.len() - training - 1) / 2,
        started.elapsed().as_secs_f64()
    );

    let n = model.network.neurons() as f64;
    let mut csv = String::new();
    let (mut fraction, mut series): (Vec<f64>, Vec<(String, Vec<f64>)>) = (Vec::new(), Vec::new());
    if lorenz {
        csv.push_str("fraction_removed,alive,std_ratio_worst,loop_period_error,rate_hz\n");
        series.push(("|std ratio − 1| (worst coordinate)".into(), Vec::new()));
        series.push(("|loop period error|".into(), Vec::new()));
    } else {
        csv.push_str("fraction_removed,alive,period_error,amplitude_error,nrmse_1s,rate_hz\n");
        series.push(("|period error|".into(), Vec::new()));
        series.push(("|amplitude error|".into(), Vec::new()));
        series.push(("1-s NRMSE".into(), Vec::new()));
    }
    println!("| removed | alive | metrics | rate (Hz) |");
    println!("|---|---|---|---|");
    let stages: Vec<_> = out.phases[training + 1..]
        .iter()
        .filter(|p| p.name.starts_with("killed-"))
        .collect();
    for p in &stages {
        let f = 1.0 - p.alive as f64 / n;
        fraction.push(f);
        let values: Vec<f64> = if lorenz {
            let a = p.attractor.as_ref();
            let worst = a.map_or(f64::NAN, |a| {
                a.std_ratios
                    .iter()
                    .map(|r| (r - 1.0).abs())
                    .fold(0.0, f64::max)
            });
            vec![worst, a.map_or(f64::NAN, |a| a.loop_period_error.abs())]
        } else {
            vec![
                p.period_error.flatten().map_or(f64::NAN, f64::abs),
                p.amplitude_error.flatten().map_or(f64::NAN, f64::abs),
                p.nrmse_1s.unwrap_or(f64::NAN),
            ]
        };
        let _ = writeln!(
            csv,
            "{f},{},{},{}",
            p.alive,
            values
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(","),
            p.mean_rate_hz
        );
        println!(
            "| {:.0} % | {} | {} | {:.1} |",
            100.0 * f,
            p.alive,
            values
                .iter()
                .zip(&series)
                .map(|(v, (name, _))| format!("{name} {v:.4}"))
                .collect::<Vec<_>>()
                .join(", "),
            p.mean_rate_hz
        );
        for ((_, s), v) in series.iter_mut().zip(&values) {
            s.push(*v);
        }
    }
    std::fs::create_dir_all(&out_dir).expect("output directory");
    let csv_path = out_dir.join("kill_sweep.csv");
    ebnsim::io::record::write_atomic(&csv_path, |w| {
        use std::io::Write as _;
        w.write_all(csv.as_bytes())
    })
    .expect("kill_sweep.csv written");
    println!("wrote {}", csv_path.display());
    let tolerances = if lorenz {
        vec![
            Tolerance {
                name: "std ratio target 10 %".into(),
                value: 0.1,
            },
            Tolerance {
                name: "loop period target 5 %".into(),
                value: 0.05,
            },
        ]
    } else {
        vec![
            Tolerance {
                name: "period target 0.5 %".into(),
                value: 0.005,
            },
            Tolerance {
                name: "amplitude target 1 %".into(),
                value: 0.01,
            },
            Tolerance {
                name: "NRMSE target 0.05".into(),
                value: 0.05,
            },
        ]
    };
    let svg = out_dir.join("kill_sweep.svg");
    metric_chart(
        &svg,
        &MetricChart {
            title: format!(
                "{}: autonomous errors vs neurons removed (N = {n})",
                model.name
            ),
            x_label: "fraction of neurons removed after learning".into(),
            y_label: if lorenz {
                "relative error".into()
            } else {
                "|relative error|, 1-s NRMSE".into()
            },
            series: series
                .into_iter()
                .map(|(name, v)| Series {
                    name,
                    points: fraction.iter().copied().zip(v).collect(),
                })
                .collect(),
            tolerances,
            log_y: true,
        },
    )
    .expect("kill_sweep.svg written");
    println!("wrote {}", svg.display());

    // Up to half of the neurons removed, the learned dynamics must survive (issue 3).
    let half = stages[..=5].iter().all(|p| {
        if lorenz {
            p.attractor.as_ref().is_some_and(|a| {
                a.std_ratios.iter().all(|r| (r - 1.0).abs() <= 0.1)
                    && a.loop_period_error.abs() <= 0.05
            })
        } else {
            p.period_error.flatten().is_some_and(|e| e.abs() <= 0.005)
                && p.amplitude_error.flatten().is_some_and(|e| e.abs() <= 0.01)
                && p.nrmse_1s.is_some_and(|e| e <= 0.05)
        }
    });
    println!("every metric within its target up to 50 % removed: {half}");
}
