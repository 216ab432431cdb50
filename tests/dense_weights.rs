//! Learned slow weights that are not of the low-rank form: `W = Dᵀ U + P` with a fixed offset
//! `P` (N × N_b) beyond the learned `U` (`LearnedCurrent::set_offsets`).
//!
//! - An offset of low-rank form `P = Dᵀ V` gives the spikes of `U + V` without offsets, on the
//!   exact kernel (to 1e-9 s) and on the dense stepper (same steps): the per-neuron path equals
//!   the low-rank one.
//! - A random `P` changes the spikes, and the kernel and the stepper agree on them as dt → 0.
//! - Learning changes `U` only: with `P = Dᵀ V` and `U₀`, `U` evolves as `U₀ + V` does without
//!   offsets, minus V; `P` stays as it was.
//! - A phase's `weight_noise = { sigma }` runs, is reported, is deterministic for a seed, leaves
//!   the kill draws alone, and malformed values name the field.
//! - `weights.json` carries `offsets` when present and reads files without them.

use ebnsim::engine::dense::{DenseConfig, DenseStepper, Integrator, SpikeRule};
use ebnsim::engine::kernel::Kernel;
use ebnsim::engine::{Control, Plastic};
use ebnsim::engine::{Engine, Spike};
use ebnsim::io::model_file::parse_learning;
use ebnsim::learning::protocol::{run_phases, run_phases_on, PhaseOptions};
use ebnsim::model::basis::{Basis, LearnedCurrent};
use ebnsim::model::network::{random_decoder, Network, NetworkBuilder};
use ebnsim::model::signal::Signal;
use ebnsim::seed::{rng_stream, Stream};
use ebnsim::time::Time;
use rand::Rng;
use std::path::Path;

const N: usize = 30;
const D: usize = 2;

fn network() -> Network {
    let decoder = random_decoder(D, N, 0.05, true, &mut rng_stream(3, Stream::Decoder));
    let k = 30.0;
    NetworkBuilder::new(decoder)
        .lambda_d(10.0)
        .mu(2.5e-5)
        .linear_dynamics(vec![vec![-k - 10.0, 0.0], vec![0.0, -k - 10.0]])
        .build()
        .unwrap()
}

fn basis() -> Basis {
    Basis::rbf_grid(D, -2.0, 2.0, 5, 1.0).unwrap()
}

fn input(duration: f64) -> Signal {
    Signal::smooth_random(
        &[0.0, 0.0],
        20.0,
        0.05,
        duration,
        &mut rng_stream(3, Stream::Input),
    )
    .unwrap()
}

fn normals(count: usize, scale: f64, seed: u64) -> Vec<f64> {
    let mut rng = rng_stream(seed, Stream::Learning);
    (0..count)
        .map(|_| scale * rng.sample::<f64, _>(rand_distr::StandardNormal))
        .collect()
}

/// `Dᵀ V` (N × N_b) for V (d × N_b).
fn low_rank(net: &Network, v: &[f64], nb: usize) -> Vec<f64> {
    let mut p = vec![0.0; N * nb];
    for i in 0..N {
        let di = net.decoder(i);
        for b in 0..nb {
            p[i * nb + b] = (0..D).map(|j| di[j] * v[j * nb + b]).sum();
        }
    }
    p
}

fn current(u: &[f64], offsets: Option<Vec<f64>>) -> LearnedCurrent {
    let mut l = LearnedCurrent::new(basis(), u.to_vec()).unwrap();
    l.set_offsets(offsets).unwrap();
    l
}

fn run(engine: &mut dyn Engine, until: f64) -> Vec<Spike> {
    let mut s = Vec::new();
    engine.run_until(Time::from_secs(until), &mut s).unwrap();
    s
}

fn kernel(learned: LearnedCurrent, duration: f64) -> Kernel {
    let mut k = Kernel::new(network(), input(duration), &[0.0, 0.0]).unwrap();
    k.set_learned_current(Some(learned)).unwrap();
    k
}

fn stepper(learned: LearnedCurrent, duration: f64, config: DenseConfig) -> DenseStepper {
    let mut s = DenseStepper::new(&network(), input(duration), &[0.0, 0.0], config).unwrap();
    s.set_learned_current(Some(learned)).unwrap();
    s
}

/// The same neurons in the same order and times within `tol` s.
fn assert_same_spikes(a: &[Spike], b: &[Spike], tol: f64) {
    assert_eq!(a.len(), b.len(), "spike counts differ");
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        assert_eq!(x.neuron, y.neuron, "spike {k}: {x:?} vs {y:?}");
        assert!(
            (x.time.secs() - y.time.secs()).abs() <= tol,
            "spike {k}: {x:?} vs {y:?}"
        );
    }
}

#[test]
fn offsets_must_be_finite_and_fit_the_network() {
    let nb = basis().len();
    let mut l = LearnedCurrent::new(basis(), vec![0.0; D * nb]).unwrap();
    assert!(l.set_offsets(Some(vec![1.0; nb + 1])).is_err());
    assert!(l.set_offsets(Some(vec![f64::NAN; nb])).is_err());
    assert!(l.set_offsets(Some(Vec::new())).is_err());
    l.set_offsets(Some(vec![0.5; 3 * nb])).unwrap();
    assert_eq!(l.offset_rows(), Some(3));
    // Three rows for a network of 30 neurons: refused by both engines, naming the offsets.
    let e = Kernel::new(network(), input(0.1), &[0.0, 0.0])
        .unwrap()
        .set_learned_current(Some(l.clone()))
        .unwrap_err();
    assert_eq!(e.field, "offsets");
    let mut s =
        DenseStepper::new(&network(), input(0.1), &[0.0, 0.0], DenseConfig::default()).unwrap();
    assert_eq!(s.set_learned_current(Some(l)).unwrap_err().field, "offsets");
    // Without a learned current there is nothing to offset.
    let mut k = Kernel::new(network(), input(0.1), &[0.0, 0.0]).unwrap();
    assert!(k.set_learned_offsets(Some(vec![0.0; N * nb])).is_err());
    assert!(s.set_learned_offsets(Some(vec![0.0; N * nb])).is_err());
}

/// (i) `P = Dᵀ V` on top of U equals U + V without offsets, spike for spike.
#[test]
fn low_rank_offsets_equal_the_low_rank_path_on_the_kernel() {
    let (nb, dur) = (basis().len(), 1.0);
    let u = normals(D * nb, 10.0, 1);
    let v = normals(D * nb, 5.0, 2);
    let uv: Vec<f64> = u.iter().zip(&v).map(|(a, b)| a + b).collect();
    let p = low_rank(&network(), &v, nb);
    let a = run(&mut kernel(current(&u, Some(p.clone())), dur), dur);
    let b = run(&mut kernel(current(&uv, None), dur), dur);
    eprintln!("{} spikes", a.len());
    assert!(a.len() > 200, "{} spikes", a.len());
    assert_same_spikes(&a, &b, 1e-9);
    // Set after the fact, at a time inside the run, the offsets take effect from then on.
    let mut k = kernel(current(&u, None), dur);
    let mut c = run(&mut k, 0.3);
    k.set_learned_offsets(Some(p)).unwrap();
    let mut k2 = kernel(current(&u, None), dur);
    let mut d = run(&mut k2, 0.3);
    k2.set_learned_weights(&uv).unwrap();
    k.run_until(Time::from_secs(dur), &mut c).unwrap();
    k2.run_until(Time::from_secs(dur), &mut d).unwrap();
    assert!(c.len() > 200, "{} spikes", c.len());
    assert_same_spikes(&c, &d, 1e-9);
}

/// (ii) The same on the dense stepper, with both integrators: identical steps.
#[test]
fn low_rank_offsets_equal_the_low_rank_path_on_the_stepper() {
    let (nb, dur) = (basis().len(), 1.0);
    let u = normals(D * nb, 10.0, 1);
    let v = normals(D * nb, 5.0, 2);
    let uv: Vec<f64> = u.iter().zip(&v).map(|(a, b)| a + b).collect();
    let p = low_rank(&network(), &v, nb);
    for integrator in [Integrator::Exponential, Integrator::Euler] {
        let config = DenseConfig {
            dt: 1e-4,
            integrator,
            spike_rule: SpikeRule::OnePerStep,
        };
        let a = run(&mut stepper(current(&u, Some(p.clone())), dur, config), dur);
        let b = run(&mut stepper(current(&uv, None), dur, config), dur);
        assert!(a.len() > 200, "{} spikes", a.len());
        assert_same_spikes(&a, &b, 0.0);
    }
}

/// (iii) A random P changes the spikes; kernel and stepper agree on them as dt → 0.
#[test]
fn random_offsets_change_the_spikes_and_the_stepper_converges_to_the_kernel() {
    let (nb, dur) = (basis().len(), 0.02);
    let u = normals(D * nb, 10.0, 1);
    // About 1 % of ‖DᵀU‖ per synapse: much larger offsets drive nearly opposite neurons up
    // together (P is not balanced), which pins them at threshold and makes them ping-pong.
    let p = normals(N * nb, 0.003, 3);
    let exact = run(&mut kernel(current(&u, Some(p.clone())), dur), dur);
    let without = run(&mut kernel(current(&u, None), dur), dur);
    assert!(exact.len() >= 6, "{} spikes", exact.len());
    let differ = exact.len() != without.len()
        || exact
            .iter()
            .zip(&without)
            .any(|(a, b)| a.neuron != b.neuron || (a.time.secs() - b.time.secs()).abs() > 1e-6);
    assert!(differ, "the offsets changed nothing");
    // The stepper's spikes are quantised to the grid and its OnePerStep rule splits
    // same-instant spikes over steps: the first 2 spikes at dt = 10 µs, the first 6 at 1 µs.
    let mut errors = Vec::new();
    for (dt, k) in [(1e-5, 2), (1e-6, 6)] {
        let config = DenseConfig {
            dt,
            integrator: Integrator::Exponential,
            spike_rule: SpikeRule::OnePerStep,
        };
        let dense = run(&mut stepper(current(&u, Some(p.clone())), dur, config), dur);
        let mut err: f64 = 0.0;
        for i in 0..k {
            assert_eq!(
                exact[i].neuron, dense[i].neuron,
                "dt {dt}: spike {i}: {:?} vs {:?}",
                exact[i], dense[i]
            );
            err = err.max((exact[i].time.secs() - dense[i].time.secs()).abs());
        }
        eprintln!("dt {dt}: first {k} spikes within {err:.2e} s");
        assert!(err <= 3.0 * dt, "dt {dt}: error {err}");
        errors.push(err);
    }
    assert!(errors[1] < errors[0], "no convergence: {errors:?}");
}

/// A learning model on the RBF basis: a short training phase, then an autonomous one.
fn learning_model(extra_train: &str, extra_auto: &str, basis_kind: &str) -> String {
    format!(
        r#"
name = "dense-weights"
seed = 11

[network]
neurons = {N}
dims = 2
lambda_d = 10.0
mu = 2.5e-5
decoder = {{ random = "normal", scale = 0.05, normalize = true }}

[target]
kind = "van_der_pol"
initial = [1.0, 0.0]

[basis]
{basis_kind}

[[phase]]
name = "train"
duration = 0.5
input = {{ kind = "ou", tau = 0.05, sigma = 2.0 }}
feedback_gain = 30.0
learning_rate = 100.0
{extra_train}

[[phase]]
name = "autonomous"
duration = 0.3
input = {{ kind = "zero" }}
start = "teacher"
{extra_auto}
"#
    )
}

const RBF: &str = "kind = \"rbf_grid\"\nrange = [-2.5, 2.5]\nper_dim = 5";

/// (iv) Learning with offsets: U moves as without them (P = DᵀV with U₀ vs U₀ + V), P is fixed.
#[test]
fn learning_changes_u_only() {
    let model = parse_learning(&learning_model("", "", RBF), Path::new("m.toml")).unwrap();
    let nb = model.basis.len();
    let u0 = normals(D * nb, 3.0, 4);
    let v = normals(D * nb, 3.0, 5);
    let uv: Vec<f64> = u0.iter().zip(&v).map(|(a, b)| a + b).collect();
    let p = low_rank(&model.network, &v, nb);

    let with = PhaseOptions {
        initial_weights: Some(u0.clone()),
        initial_offsets: Some(p.clone()),
        ..PhaseOptions::default()
    };
    let mut k = Kernel::new(
        model.network.clone(),
        Signal::zero(D),
        &model.target.initial,
    )
    .unwrap();
    k.set_cascade_limit(model.cascade_limit);
    let a = run_phases_on(&mut k, "exact", &model, &with, |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    let without = PhaseOptions {
        initial_weights: Some(uv.clone()),
        ..PhaseOptions::default()
    };
    let b = run_phases(&model, &without, |_| {}).unwrap();

    // P is untouched, in the output and in the engine.
    assert_eq!(a.offsets.as_deref(), Some(&p[..]));
    assert_eq!(k.learned_current().unwrap().offsets(), Some(&p[..]));
    assert_eq!(b.offsets, None);
    assert_eq!(a.summary.extra["weights"], "low_rank_plus_offsets");
    assert_eq!(b.summary.extra["weights"], "low_rank");
    // The same network activity (W equal), so the same updates ΔU.
    assert_same_spikes(&a.spikes, &b.spikes, 1e-9);
    let (mut diff, mut moved, mut norm): (f64, f64, f64) = (0.0, 0.0, 0.0);
    for i in 0..D * nb {
        diff = diff.max((a.weights[i] + v[i] - b.weights[i]).abs());
        moved = moved.max((b.weights[i] - uv[i]).abs());
        norm = norm.max(b.weights[i].abs());
    }
    eprintln!("U moved by up to {moved:.3}; with vs without offsets: {diff:.2e}");
    assert!(moved > 1e-3, "learning did nothing");
    assert!(diff <= 1e-9 * norm.max(1.0), "{diff}");
}

fn weight_noise_model(sigma: &str, kill: &str) -> String {
    learning_model(
        "",
        &format!("weight_noise = {{ sigma = {sigma} }}\n{kill}"),
        RBF,
    )
}

/// (v) `weight_noise` in a phase: runs, is reported, deterministic, kills unchanged.
#[test]
fn weight_noise_phase_runs_is_reported_and_deterministic() {
    let parse = |t: &str| parse_learning(t, Path::new("m.toml")).unwrap();
    let noisy = parse(&weight_noise_model("0.01", "kill_fraction = 0.3"));
    assert_eq!(noisy.phases[1].weight_noise, Some(0.01));
    assert_eq!(noisy.phases[0].weight_noise, None);
    let quiet = parse(&learning_model("", "kill_fraction = 0.3", RBF));
    let runs: Vec<_> = [&noisy, &noisy, &quiet]
        .iter()
        .map(|m| {
            let mut k = Kernel::new(m.network.clone(), Signal::zero(D), &m.target.initial).unwrap();
            k.set_cascade_limit(m.cascade_limit);
            let out = run_phases_on(&mut k, "exact", m, &PhaseOptions::default(), |_| {
                std::ops::ControlFlow::Continue(())
            })
            .unwrap();
            (out, k.alive().to_vec())
        })
        .collect();
    let (a, b, c) = (&runs[0], &runs[1], &runs[2]);
    // Deterministic for a seed: same spikes, same offsets.
    assert!(a.0.spikes == b.0.spikes, "not deterministic");
    assert_eq!(a.0.offsets, b.0.offsets);
    // The kill draws do not depend on the weight noise (its own stream).
    assert_eq!(a.1, c.1);
    assert!(a.0.spikes != c.0.spikes, "weight noise changed nothing");
    // Reported in the phase that adds it.
    let nb = noisy.basis.len();
    let p = a.0.offsets.as_ref().unwrap();
    assert_eq!(p.len(), N * nb);
    let rms = (p.iter().map(|x| x * x).sum::<f64>() / p.len() as f64).sqrt();
    assert!((rms - 0.01).abs() < 0.001, "rms {rms}");
    assert!(a.0.phases[0].weight_noise.is_none());
    let r = a.0.phases[1].weight_noise.as_ref().unwrap();
    eprintln!("weight noise: {r:?}");
    assert_eq!(r.sigma, 0.01);
    let norm = p.iter().map(|x| x * x).sum::<f64>().sqrt();
    assert_eq!(r.offsets_norm, norm);
    assert!(r.relative_norm.is_some_and(|x| x > 0.0 && x.is_finite()));
    let json = serde_json::to_value(&a.0.phases).unwrap();
    assert_eq!(json[1]["weight_noise"]["sigma"], 0.01);
    assert!(json[0].get("weight_noise").is_none());
    // U learned in the first phase is not touched by the noise.
    assert_eq!(a.0.weights, c.0.weights);

    // On the dense stepper too, and with the linear basis (learned through the slow core: the
    // offset rides on a learned current with U = 0).
    let out = run_phases(
        &noisy,
        &PhaseOptions {
            engine: Some(ebnsim::engine::EngineKind::Dense),
            ..PhaseOptions::default()
        },
        |_| {},
    )
    .unwrap();
    assert_eq!(out.offsets, a.0.offsets);
    let linear = parse(&learning_model(
        "",
        "weight_noise = { sigma = 0.005 }",
        "kind = \"linear\"",
    ));
    let linear_quiet = parse(&learning_model("", "", "kind = \"linear\""));
    let x = run_phases(&linear, &PhaseOptions::default(), |_| {}).unwrap();
    let y = run_phases(&linear_quiet, &PhaseOptions::default(), |_| {}).unwrap();
    assert_eq!(x.offsets.as_ref().map(Vec::len), Some(N * D));
    let first = x.phases[0].spikes as usize;
    assert!(
        x.spikes[..first] == y.spikes[..first],
        "the first phase differs"
    );
    assert!(x.spikes != y.spikes, "weight noise changed nothing");
}

#[test]
fn malformed_weight_noise_names_the_field() {
    for bad in ["-1.0", "nan", "inf", "\"big\""] {
        let text = weight_noise_model(bad, "");
        let e = parse_learning(&text, Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("phase[1].weight_noise.sigma") || e.contains("sigma"),
            "{bad}: {e}"
        );
        if bad != "\"big\"" {
            assert!(e.contains("phase[1].weight_noise.sigma"), "{bad}: {e}");
        }
    }
    let text = learning_model("", "weight_noise = { sd = 1.0 }", RBF);
    let e = parse_learning(&text, Path::new("m.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("sd"), "{e}");
}

/// (vi) weights.json carries offsets when present; files without them still read.
#[test]
fn weights_file_offsets_round_trip_and_old_files_read() {
    use ebnsim::io::weights_file::{parse, read, write, Weights};
    let dir = tempfile::tempdir().unwrap();
    let nb = basis().len();
    let mut w = Weights {
        model: "m".into(),
        seed: 1,
        lambda_d: 10.0,
        basis: basis(),
        u: normals(D * nb, 1.0, 6),
        offsets: Some(normals(N * nb, 0.3, 7)),
    };
    let path = dir.path().join("w.json");
    write(&path, &w).unwrap();
    assert_eq!(read(&path).unwrap(), w);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["offsets"].as_array().unwrap().len(), N);
    w.offsets = None;
    write(&path, &w).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("offsets"), "written only when present");
    assert_eq!(read(&path).unwrap(), w);
    // A version-1 file of before offsets existed.
    let old = r#"{"format": "ebnsim-weights", "version": 1, "model": "m", "seed": 0,
        "dims": 1, "lambda_d": 10.0, "basis": {"kind": "linear", "on": "xhat", "size": 1},
        "u": [[2.0]]}"#;
    let o = parse(old, Path::new("old.json")).unwrap();
    assert_eq!((o.u, o.offsets), (vec![2.0], None));
    // Bad offsets name the field.
    let bad = old.replace(
        "\"u\": [[2.0]]",
        "\"u\": [[2.0]], \"offsets\": [[1.0], [1.0, 2.0]]",
    );
    let e = parse(&bad, Path::new("bad.json")).unwrap_err().to_string();
    assert!(e.contains("`offsets[1]`"), "{e}");
    let bad = old.replace("\"u\": [[2.0]]", "\"u\": [[2.0]], \"offsets\": []");
    let e = parse(&bad, Path::new("bad.json")).unwrap_err().to_string();
    assert!(e.contains("`offsets`"), "{e}");
}

/// `ebnsim learn` writes the offsets a phase's weight noise made; `ebnsim run --weights` and
/// `ebnsim learn --weights` use them; offsets for another N are refused.
#[test]
#[cfg(feature = "cli")]
fn cli_writes_and_uses_offsets() {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.toml");
    std::fs::write(&model, weight_noise_model("0.01", "")).unwrap();
    let ebnsim = |args: &[&std::ffi::OsStr]| {
        let o = Command::new(env!("CARGO_BIN_EXE_ebnsim"))
            .args(args)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let a = dir.path().join("a");
    let (code, err) = ebnsim(&[
        "learn".as_ref(),
        model.as_os_str(),
        "--out".as_ref(),
        a.as_os_str(),
        "--quiet".as_ref(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let w = ebnsim::io::weights_file::read(&a.join("weights.json")).unwrap();
    let nb = w.basis.len();
    assert_eq!(w.offsets.as_ref().map(Vec::len), Some(N * nb));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["phases"][1]["weight_noise"]["sigma"], 0.01);
    assert_eq!(summary["weights"], "low_rank_plus_offsets");

    // Frozen run with the learned weights and offsets: the library with the same weights and
    // offsets gives the same spikes; without the offsets, other spikes.
    let quiet = dir.path().join("q.toml");
    std::fs::write(&quiet, learning_model("", "", RBF)).unwrap();
    let r = dir.path().join("r");
    let (code, err) = ebnsim(&[
        "run".as_ref(),
        quiet.as_os_str(),
        "--weights".as_ref(),
        a.join("weights.json").as_os_str(),
        "--out".as_ref(),
        r.as_os_str(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let m = parse_learning(&learning_model("", "", RBF), Path::new("q.toml")).unwrap();
    let frozen = |offsets: Option<Vec<f64>>| {
        run_phases(
            &m,
            &PhaseOptions {
                initial_weights: Some(w.u.clone()),
                initial_offsets: offsets,
                frozen: true,
                ..PhaseOptions::default()
            },
            |_| {},
        )
        .unwrap()
    };
    let lib = frozen(w.offsets.clone());
    let csv = std::fs::read_to_string(r.join("spikes.csv")).unwrap();
    assert_eq!(csv.lines().count() - 1, lib.spikes.len());
    assert!(
        frozen(None).spikes != lib.spikes,
        "the offsets changed nothing"
    );

    // Continue learning from them: the offsets are carried on unchanged (the quiet model adds
    // none), U moves.
    let c = dir.path().join("c");
    let (code, err) = ebnsim(&[
        "learn".as_ref(),
        quiet.as_os_str(),
        "--weights".as_ref(),
        a.join("weights.json").as_os_str(),
        "--out".as_ref(),
        c.as_os_str(),
        "--quiet".as_ref(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let wc = ebnsim::io::weights_file::read(&c.join("weights.json")).unwrap();
    assert_eq!(wc.offsets, w.offsets);
    assert_ne!(wc.u, w.u);

    // Offsets for another number of neurons: refused, naming them.
    let other = dir.path().join("o.toml");
    std::fs::write(
        &other,
        learning_model("", "", RBF).replace(&format!("neurons = {N}"), "neurons = 20"),
    )
    .unwrap();
    let (code, err) = ebnsim(&[
        "run".as_ref(),
        other.as_os_str(),
        "--weights".as_ref(),
        a.join("weights.json").as_os_str(),
        "--out".as_ref(),
        dir.path().join("x").as_os_str(),
    ]);
    assert_ne!(code, Some(0));
    assert!(err.contains("weights.offsets"), "{err}");
}

/// A learned current with `P = 0` gives the spikes of none (to rounding), and so does one whose
/// offsets are removed again.
#[test]
fn removing_offsets_restores_the_plain_path() {
    let (nb, dur) = (basis().len(), 0.5);
    let u = normals(D * nb, 10.0, 1);
    let plain = run(&mut kernel(current(&u, None), dur), dur);
    let zero = run(&mut kernel(current(&u, Some(vec![0.0; N * nb])), dur), dur);
    assert_same_spikes(&plain, &zero, 1e-9);
    let mut k = kernel(current(&u, Some(normals(N * nb, 2.0, 3))), dur);
    k.set_learned_offsets(None).unwrap();
    assert_same_spikes(&run(&mut k, dur), &plain, 1e-9);
}
