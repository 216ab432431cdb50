//! Fixtures shared by several test files.
#![allow(dead_code)] // every test binary uses a part

use ebnsim::engine::Spike;
use ebnsim::model::network::{Network, NetworkBuilder};
use ebnsim::model::signal::Signal;

/// One neuron (d = 1, decoder 1, threshold 1, leak 20 /s) whose voltage follows the parabola
/// `V(t) = 1 − δ − a (t − t*)²` exactly — it grazes its threshold at `t*` when δ → 0: the input
/// is `c = V' + λ_V V` (a quadratic). Returns the network, the input and `V(0)` (the initial
/// state `x(0)`, since the decoder is 1).
pub fn parabola(delta: f64, a: f64, t_star: f64) -> (Network, Signal, f64) {
    let lv = 20.0;
    // V(t) = p0 + p1 t + p2 t²; c = V' + λ V.
    let (p0, p1, p2) = (1.0 - delta - a * t_star * t_star, 2.0 * a * t_star, -a);
    let c = vec![vec![p1 + lv * p0], vec![2.0 * p2 + lv * p1], vec![lv * p2]];
    let input = Signal::from_segments(1, &[0.0], &[c]).unwrap();
    let net = NetworkBuilder::new(vec![vec![1.0]])
        .lambda_v(lv)
        .thresholds(vec![1.0])
        .build()
        .unwrap();
    (net, input, p0)
}

/// Spike-for-spike agreement, up to `tol` in time. Comparison stops, legitimately, where
/// (a) two spikes of one run are closer than `tol` — their order is not determined by the model
/// to that precision — or (b) the runs have been drifting apart gradually: rounding differences
/// (low-rank vs dense weights, one evaluation order vs another) grow in a sensitive network, and
/// the spike before already differed by more than `tol / 1000`. A bug shows instead as a jump
/// from agreement to disagreement. Returns the number of spikes compared.
pub fn assert_same_spikes(a: &[Spike], b: &[Spike], tol: f64) -> usize {
    compare_spikes(a, b, tol).unwrap_or_else(|(_, message)| panic!("{message}"))
}

/// [`assert_same_spikes`] for networks with refractory periods (`periods[j]`, s) and a fast
/// delay (`delay`, s), where a third near-tie is legitimate: before the first difference, one
/// spike's delivery (`t + delay`) and another's period end (`t + periods[j]`) lie within a few
/// ulps of each other. Two layouts' spike times may be an ulp apart (the same crossing, rounded
/// through different sums), and that decides whether the delivery comes before or after the
/// period ends — whether a clamped neuron discards the input or takes it.
pub fn assert_same_spikes_or_event_tie(
    a: &[Spike],
    b: &[Spike],
    tol: f64,
    delay: f64,
    periods: &[f64],
) -> usize {
    match compare_spikes(a, b, tol) {
        Ok(n) => n,
        Err((i, message)) => {
            let at = [a.get(i), b.get(i)]
                .into_iter()
                .flatten()
                .map(|s| s.time.secs())
                .fold(f64::INFINITY, f64::min);
            assert!(
                delivery_meets_period_end(&a[..i.min(a.len())], delay, periods, at)
                    || delivery_meets_period_end(&b[..i.min(b.len())], delay, periods, at),
                "{message} (and no delivery meets a period end before it)"
            );
            i
        }
    }
}

/// Whether, among `spikes`, a delivery and a period end up to `until` are within 8 ulps.
fn delivery_meets_period_end(spikes: &[Spike], delay: f64, periods: &[f64], until: f64) -> bool {
    let mut deliveries: Vec<f64> = spikes.iter().map(|s| s.time.secs() + delay).collect();
    deliveries.sort_by(f64::total_cmp);
    spikes.iter().any(|s| {
        let end = s.time.secs() + periods[s.neuron as usize];
        let close = 8.0 * f64::EPSILON * end.abs();
        let k = deliveries.partition_point(|&t| t < end - close);
        end <= until && deliveries.get(k).is_some_and(|&t| t <= end + close)
    })
}

/// The number of spikes `a` and `b` agree on, or the first difference that no near-tie or drift
/// explains (its index and a message).
fn compare_spikes(a: &[Spike], b: &[Spike], tol: f64) -> Result<usize, (usize, String)> {
    let near_tie = |s: &[Spike], i: usize| {
        (i > 0
            && s.get(i)
                .is_some_and(|x| (x.time.secs() - s[i - 1].time.secs()).abs() < tol))
            || s.get(i + 1)
                .is_some_and(|x| (x.time.secs() - s[i].time.secs()).abs() < tol)
    };
    let mut drift: f64 = 0.0;
    for i in 0..a.len().max(b.len()) {
        let (same, diff) = match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => {
                let diff = (x.time.secs() - y.time.secs()).abs();
                (x.neuron == y.neuron && diff <= tol, diff)
            }
            _ => (false, f64::INFINITY),
        };
        if !same {
            if near_tie(a, i) || near_tie(b, i) || drift > tol / 1000.0 {
                return Ok(i);
            }
            return Err((
                i,
                format!(
                    "spike {i} differs without a near-tie or gradual drift (previous difference \
                     {drift:e} s): {:?} vs {:?}",
                    a.get(i.saturating_sub(1)..(i + 2).min(a.len())),
                    b.get(i.saturating_sub(1)..(i + 2).min(b.len()))
                ),
            ));
        }
        drift = diff;
    }
    Ok(a.len())
}

/// Runs `ebnsim ARGS… --checkpoint-every EVERY --out OUT` and SIGKILLs it `extra_ms[k]` ms after
/// its first checkpoint appears (resuming with `--resume OUT` from the second round on, when a
/// killed run left something to resume), then resumes to the end. Returns how many kills
/// landed; `OUT` then holds the finished run.
pub fn kill_and_resume(
    bin: &str,
    args: &[&std::ffi::OsStr],
    every: &str,
    out: &std::path::Path,
    extra_ms: &[u64],
) -> usize {
    use std::process::Command;
    use std::time::{Duration, Instant};
    let parent = out.parent().unwrap().to_path_buf();
    let name = out.file_name().unwrap().to_string_lossy().into_owned();
    let staging_prefix = format!(".{name}.ebnsim-new.");
    let staging_exists = || {
        std::fs::read_dir(&parent).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(&staging_prefix)
        })
    };
    let mut kills = 0;
    for (round, &extra) in extra_ms.iter().enumerate() {
        let resume = round > 0 && staging_exists();
        let mut cmd = Command::new(bin);
        cmd.args(args).args(["-q", "--checkpoint-every", every]);
        cmd.arg(if resume { "--resume" } else { "--out" }).arg(out);
        let mut child = cmd.spawn().unwrap();
        let checkpoint = parent
            .join(format!("{staging_prefix}{}", child.id()))
            .join("checkpoint.ebnsim");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !checkpoint.exists() && child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "no checkpoint written");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(extra));
        let _ = child.kill(); // SIGKILL; nothing when it already finished
        if child.wait().unwrap().success() {
            return kills;
        }
        kills += 1;
        assert!(
            staging_exists(),
            "round {round}: the killed run left nothing to resume"
        );
    }
    let status = Command::new(bin)
        .args(args)
        .arg("-q")
        .arg("--resume")
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success(), "the last resume failed");
    kills
}

/// The entries of `dir` whose names start with `.NAME.` of `out` (staging, lock, old run).
pub fn leftovers(out: &std::path::Path) -> Vec<String> {
    let name = out.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!(".{name}.")))
        .collect()
}

/// Every file of a directory but `summary.json`'s `wall_seconds`.
pub fn run_files(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).unwrap();
            let text = if name == "summary.json" {
                text.lines()
                    .filter(|l| !l.contains("wall_seconds"))
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                text
            };
            (name, text)
        })
        .collect();
    out.sort();
    out
}

/// A 1-D network holding x ≈ 1 against a leak: ~12 spikes/s per neuron, forever.
pub fn hold_model(duration: f64, readout_dt: f64) -> String {
    format!(
        r#"name = "long-hold"
seed = 1
[network]
neurons = 10
dims = 1
lambda_d = 10.0
mu = 1e-4
decoder = [[0.10, 0.11, 0.09, 0.12, 0.08, -0.10, -0.11, -0.09, -0.12, -0.08]]
[target]
kind = "linear"
a = [[-1.0]]
initial = [0.0]
[input]
kind = "constant"
values = [1.0]
[simulate]
duration = {duration:?}
engine = "exact"
[record]
readout_dt = {readout_dt:?}
"#
    )
}

/// A short Van der Pol learning protocol (30 neurons): training with OU input and voltage noise, weight noise, a free run, a kill.
pub const SHORT_VDP: &str = r#"
name = "short-vdp"
seed = 5

[network]
neurons = 30
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
duration = 3.0
input = { kind = "ou", tau = 0.05, sigma = 2.0 }
feedback_gain = 30.0
learning_rate = 100.0
learning_rate_decay = { start = 0.7, to = 0.1 }
noise = { sigma = 0.02 }

[[phase]]
name = "autonomous"
duration = 1.5
input = { kind = "zero" }
start = "teacher"
weight_noise = { sigma = 0.001 }

[[phase]]
name = "killed"
duration = 1.0
input = { kind = "zero" }
start = "readout"
kill_fraction = 0.5
"#;
