//! The `ebnsim` command-line tool: run model files, write spikes, readout and a summary; run
//! learning models (`ebnsim learn`) and write the learned weights and learning curve.

use clap::{Parser, Subcommand, ValueEnum};
use ebnsim::engine::EngineKind;
use ebnsim::io::model_file;
use ebnsim::io::weights_file;
use ebnsim::learning::protocol::{run_phases_into, LearnError, LearnProgress, PhaseOptions};
use ebnsim::run::{run_model_into_with, CheckpointPlan, RunError, RunOptions};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::ops::ControlFlow;

mod checkpoints;
mod interrupt;
mod progress;
use interrupt::{commit_finished, commit_out, prepare_out, tick, Interrupt};
use progress::Progress;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exact, continuous-time simulation of efficient balanced spiking networks.
#[derive(Parser, Debug)]
#[command(name = "ebnsim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a model file and write spikes.csv, readout.csv, network.json and summary.json into
    /// --out, which the run replaces as a whole when every file is complete (a learning model
    /// file runs its phases as `learn` does; with --weights, with learning off). Ctrl-C stops
    /// the run and leaves --out as it was.
    Run {
        /// The model file (TOML; see docs/model-format.md).
        model: PathBuf,
        /// Output directory (created if missing; replaced as a whole when the run is complete).
        #[arg(long, required_unless_present = "resume")]
        out: Option<PathBuf>,
        /// Write a checkpoint every S simulated seconds (at the first readout sample at or
        /// after each): a run killed by SIGKILL, a crash or a power cut can then be continued
        /// with --resume, to the same outputs byte for byte.
        #[arg(long, value_name = "S", allow_negative_numbers = true)]
        checkpoint_every: Option<f64>,
        /// Continue the killed run into DIR (its --out) from its last checkpoint, with the same
        /// model file and options; checkpoints go on at the same interval.
        #[arg(long, value_name = "DIR")]
        resume: Option<PathBuf>,
        /// Engine to use instead of the model file's `simulate.engine`.
        #[arg(long, value_enum)]
        engine: Option<EngineArg>,
        /// Dense-stepper time step in seconds, instead of `simulate.dt`.
        #[arg(long, allow_negative_numbers = true)]
        dt: Option<f64>,
        /// Longest same-instant cascade before the run stops (default: N).
        #[arg(long)]
        cascade_limit: Option<usize>,
        /// Learned weights (weights.json of `ebnsim learn`): runs a learning model file's
        /// phases with these weights and learning switched off.
        #[arg(long)]
        weights: Option<PathBuf>,
        /// Seed instead of the model file's `seed`: every random draw (decoder, inputs, and for
        /// a learning model random bases, kills and noise) is made from it, exactly as if the
        /// file said `seed = N`; summary.json's `seed` is this one.
        #[arg(long)]
        seed: Option<u64>,
        /// Run the model even when its estimated cost is absurd (more than 1e10 spikes, or
        /// 1e13 dense neuron updates: an unstable target, a typo in the duration).
        #[arg(long)]
        force: bool,
        /// No progress bar and no closing line.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Run a learning model's phases (train, test, autonomous): writes spikes.csv, readout.csv,
    /// summary.json, network.json, weights.json and learning_curve.csv into --out.
    Learn {
        /// The learning model file (TOML with [basis] and [[phase]]; see docs/model-format.md).
        model: PathBuf,
        /// Output directory (created if missing; replaced as a whole when the run is complete).
        #[arg(long, required_unless_present = "resume")]
        out: Option<PathBuf>,
        /// Write a checkpoint every S simulated seconds (at the first epoch end, or step of a
        /// phase without learning, at or after each): engine, learner, random streams and
        /// position in the phases. A killed run continues with --resume, to the same outputs.
        #[arg(long, value_name = "S", allow_negative_numbers = true)]
        checkpoint_every: Option<f64>,
        /// Continue the killed run into DIR (its --out) from its last checkpoint, with the same
        /// model file and options.
        #[arg(long, value_name = "DIR")]
        resume: Option<PathBuf>,
        /// Continue learning from these weights (weights.json of an earlier `ebnsim learn` of
        /// a model with the same basis and lambda_d) instead of zero.
        #[arg(long)]
        weights: Option<PathBuf>,
        /// Engine to use instead of the model file's `simulate.engine` (default exact).
        #[arg(long, value_enum)]
        engine: Option<EngineArg>,
        /// Dense-stepper time step in seconds, instead of `simulate.dt` (default 1e-4).
        #[arg(long, allow_negative_numbers = true)]
        dt: Option<f64>,
        /// Seed instead of the model file's `seed` (decoder, inputs, random bases, kills and
        /// noise all derive from it).
        #[arg(long)]
        seed: Option<u64>,
        /// Run phases even when their estimated cost is absurd (more than 1e10 spikes to
        /// follow the teacher, or 1e13 dense neuron updates; checked at each phase's start).
        #[arg(long)]
        force: bool,
        /// No progress bar and no closing line.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Run a model over seeds × values of some of its fields (a sweep spec, see docs/sweep.md)
    /// and write one row per run into --out/table.csv.
    Sweep {
        /// The sweep spec (TOML: `model`, `seeds`, `[[vary]]`).
        spec: PathBuf,
        /// Output directory (created if missing): table.csv, and run-NNNN/ with --runs.
        #[arg(long)]
        out: PathBuf,
        /// Runs at once (default: the number of cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Only every n-th run from the k-th (k/n, 0-based k); the table keeps the global run
        /// numbers, so the shards' rows concatenate to the whole sweep.
        #[arg(long)]
        shard: Option<String>,
        /// Also write each run's directory (run-0007/: the files of `ebnsim run`).
        #[arg(long)]
        runs: bool,
        /// No progress bar and no closing line.
        #[arg(long, short)]
        quiet: bool,
    },
    #[cfg(feature = "plot")]
    /// Draw the figures (SVG) of a run directory: readout.svg, raster.svg, and when the files
    /// allow, before_after.svg, learning_curve.svg, phase_plane.svg.
    Plot {
        /// A directory written by `ebnsim run` or `ebnsim learn`.
        run_dir: PathBuf,
        /// Output directory (default: RUN_DIR/figures).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Length of the windows drawn, s (readout, raster and phase plane: the run's last
        /// seconds).
        #[arg(long, default_value_t = ebnsim::io::figures::DEFAULT_WINDOW, allow_negative_numbers = true)]
        window: f64,
    },
}

/// 2 for a run refused before it started (parameters that cannot make an engine: the caller's
/// input, as for a bad model file), 1 for a simulation that failed.
pub(crate) fn exit_code(e: &RunError) -> ExitCode {
    ExitCode::from(if matches!(e, RunError::Build(_)) {
        2
    } else {
        1
    })
}

/// Shows what the run warns about (also with `--quiet`: these are not progress).
fn warn(summary: &ebnsim::io::record::Summary) {
    for w in summary.warnings() {
        eprintln!("warning: {w}");
    }
}

/// What `learn` runs: `ebnsim learn`, or `ebnsim run` of a learning model (then `frozen`).
struct LearnArgs<'a> {
    model: &'a Path,
    out: &'a Path,
    /// `--checkpoint-every` and whether `--resume` was given.
    checkpoints: (Option<f64>, bool),
    weights: Option<&'a Path>,
    frozen: bool,
    engine: Option<EngineArg>,
    dt: Option<f64>,
    seed: Option<u64>,
    force: bool,
    quiet: bool,
    stop: &'a Interrupt,
}

/// A frozen run writes no weights.json: keeps the directory's own when it is the `--weights`
/// file the run read (else it goes with the old run).
fn keep_read_weights(
    dir: &mut ebnsim::io::output_dir::OutputDir,
    out: &Path,
    weights: Option<&Path>,
) {
    let old = out.join(weights_file::WEIGHTS_JSON);
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if weights.is_some_and(|w| same(w, &old)) {
        dir.keep(weights_file::WEIGHTS_JSON);
    }
}

/// `ebnsim learn`, and `ebnsim run` of a learning model.
fn learn(args: LearnArgs) -> ExitCode {
    let LearnArgs {
        model,
        out,
        checkpoints: (checkpoint_every, resume),
        weights,
        frozen,
        engine,
        dt,
        seed,
        force,
        quiet,
        stop,
    } = args;
    if let Some(dt) = dt {
        if !(dt.is_finite() && dt > 0.0) {
            eprintln!("error: --dt: expected a finite positive time step in seconds, got {dt}");
            return ExitCode::from(2);
        }
    }
    let text = std::fs::read_to_string(model).map_err(|source| ebnsim::error::ModelError::Io {
        file: model.to_path_buf(),
        source,
    });
    let parsed = match text {
        Ok(text) => model_file::parse_learning_seeded(&text, model, seed).map(|m| (m, text)),
        Err(e) => Err(e),
    };
    let (m, text) = match parsed {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut opts = PhaseOptions {
        frozen,
        engine: engine.map(EngineArg::kind),
        dt,
        force,
        ..PhaseOptions::default()
    };
    if let Some(w) = weights {
        let w = match weights_file::read(w) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        if w.basis != m.basis || w.lambda_d != m.network.lambda_d() {
            eprintln!(
                "error: {}: the weights are on a different basis or lambda_d than {} (learned \
                 by model `{}`): expected the basis and lambda_d of the model file",
                weights.map_or(String::new(), |p| p.display().to_string()),
                model.display(),
                printable(&w.model)
            );
            return ExitCode::from(2);
        }
        opts.initial_weights = Some(w.u);
        opts.initial_offsets = w.offsets;
    }
    let plan = CheckpointPlan {
        every: checkpoint_every,
        resume,
        fingerprint: checkpoints::fingerprint(
            model,
            &text,
            &format!(
                "seed {}, engine {:?}, dt {:?}, frozen {frozen}, weights {}",
                m.seed(),
                opts.engine,
                opts.dt,
                weights.map_or("none".to_string(), checkpoints::file_checksum)
            ),
        ),
    };
    let mut dir = match prepare_out(out, resume, stop) {
        Ok(d) => d,
        Err(code) => return code,
    };
    if dir.finished() {
        if frozen {
            keep_read_weights(&mut dir, out, weights);
        }
        return commit_finished(dir, out, stop, quiet);
    }
    let total: f64 = m.phases.iter().map(|p| p.duration).sum();
    let bar = Progress::new(quiet, total);
    let progress = |message| match message {
        LearnProgress::Time(t) => tick(&bar, stop, t),
        _ if stop.requested() => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    };
    // The records go to the staging directory as they come: memory stays flat.
    let result = run_phases_into(&m, &opts, dir.path(), &plan, progress);
    bar.finish();
    let output = match result {
        Ok(o) => o,
        Err(LearnError::Stopped { at }) => return stop.stopped(dir, out, at),
        Err(LearnError::Run(e)) => return checkpoints::run_failed(&e, dir, model, out, &plan),
    };
    if frozen {
        keep_read_weights(&mut dir, out, weights);
    }
    if let Err(code) = commit_out(dir, out, stop) {
        return code;
    }
    warn(&output.summary);
    if !quiet {
        let s = &output.summary;
        println!(
            "{}: {} engine, {} phases, {} neurons, {} s: {} spikes ({:.2} Hz per neuron), field error {}, {:.3} s wall -> {}",
            printable(&s.model),
            s.engine,
            output.phases.len(),
            s.neurons,
            s.duration,
            s.spikes,
            s.mean_rate_hz,
            output.field_error.map_or("n/a".to_string(), |r| format!("{r:.4}")),
            s.wall_seconds,
            out.display()
        );
        for p in &output.phases {
            let opt = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{v:.4}"));
            print!(
                "  {}: NRMSE {}, {:.1} Hz, {} alive",
                p.name,
                opt(p.nrmse),
                p.mean_rate_hz,
                p.alive
            );
            if let (Some(pe), Some(ae)) = (p.period_error, p.amplitude_error) {
                print!(
                    ", period error {}, amplitude error {}, 1-s NRMSE {}",
                    opt(pe),
                    opt(ae),
                    opt(p.nrmse_1s)
                );
            }
            println!();
        }
    }
    ExitCode::SUCCESS
}

/// What `ebnsim sweep` was given.
struct SweepArgs {
    spec: PathBuf,
    out: PathBuf,
    threads: Option<usize>,
    shard: Option<String>,
    runs: bool,
    quiet: bool,
}

/// `ebnsim sweep`: checks the spec and builds every run's model, then runs the shard's runs
/// and writes table.csv.
fn sweep(args: SweepArgs) -> ExitCode {
    use ebnsim::ensemble::{Ensemble, EnsembleOptions, Shard, SweepSpec, TABLE_CSV};
    let shard = match args.shard.as_deref().map(str::parse::<Shard>) {
        None => Shard::ALL,
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            eprintln!("error: {}: --shard: {e}", args.spec.display());
            return ExitCode::from(2);
        }
    };
    if args.threads == Some(0) {
        eprintln!("error: --threads: expected at least 1, got 0");
        return ExitCode::from(2);
    }
    let ensemble = match SweepSpec::load(&args.spec).and_then(|s| Ensemble::new(s, shard)) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    // The whole sweep (table.csv and the run directories) replaces --out as one run does.
    // Interrupted (default signal handling: the runs in flight cannot stop early), it leaves
    // --out as it was and a staging directory the next sweep or run into it removes.
    let dir = match prepare_out(&args.out, false, &Interrupt::none()) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let opts = EnsembleOptions {
        threads,
        run_dirs: args.runs.then(|| dir.path().to_path_buf()),
    };
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::with_draw_target(
            Some(ensemble.len() as u64),
            ProgressDrawTarget::stderr(),
        );
        b.set_style(
            ProgressStyle::with_template(
                "{bar:40} {pos}/{len} runs  {elapsed} elapsed, ~{eta} left",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    };
    let result = ensemble.run(&opts, |_| bar.inc(1));
    bar.finish_and_clear();
    let rows = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    if let Err(e) = ensemble.write_table(&dir.path().join(TABLE_CSV), &rows) {
        eprintln!("error: {e}; {} left as it was", args.out.display());
        return ExitCode::from(1);
    }
    if let Err(code) = commit_out(dir, &args.out, &Interrupt::none()) {
        return code;
    }
    let table = args.out.join(TABLE_CSV);
    if !args.quiet {
        println!(
            "{}: {} of {} runs (shard {shard}), {threads} at once -> {}",
            args.spec.display(),
            rows.len(),
            ensemble.spec().len(),
            table.display()
        );
    }
    ExitCode::SUCCESS
}

#[cfg(feature = "plot")]
/// `ebnsim plot`: draws the figures and lists the files written.
fn plot(run_dir: &Path, out: Option<&Path>, window: f64) -> ExitCode {
    let out = out.map_or_else(|| run_dir.join("figures"), Path::to_path_buf);
    match ebnsim::io::figures::plot_run(run_dir, &out, window) {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            // A malformed run file or a bad --window is the caller's input: 2, as elsewhere.
            use ebnsim::io::figures::FigureError;
            let input = matches!(e, FigureError::Read(_) | FigureError::InvalidLength { .. });
            ExitCode::from(if input { 2 } else { 1 })
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum EngineArg {
    Exact,
    Dense,
}

impl EngineArg {
    fn kind(self) -> EngineKind {
        match self {
            EngineArg::Exact => EngineKind::Exact,
            EngineArg::Dense => EngineKind::Dense,
        }
    }
}

/// `s` for a terminal: control characters (escape sequences in a model's `name`) shown as
/// `\u{1b}` escapes instead of acting on the terminal.
pub(crate) fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,progress=info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let stop = match cli.command {
        Command::Run { .. } | Command::Learn { .. } => Interrupt::install(),
        _ => Interrupt::none(),
    };
    match cli.command {
        Command::Run {
            model,
            out,
            checkpoint_every,
            resume,
            engine,
            dt,
            cascade_limit,
            weights,
            seed,
            force,
            quiet,
        } => {
            if cascade_limit == Some(0) {
                eprintln!("error: --cascade-limit: expected at least 1 spike per instant, got 0");
                return ExitCode::from(2);
            }
            let out = match checkpoints::out_dir(out, resume.as_deref(), checkpoint_every) {
                Ok(o) => o,
                Err(code) => return code,
            };
            let text = std::fs::read_to_string(&model).unwrap_or_default();
            if model_file::is_learning_model(&text) {
                // A learning model: its phases, as `ebnsim learn` (frozen, with --weights).
                if cascade_limit.is_some() {
                    eprintln!(
                        "error: --cascade-limit does not apply to a learning model (set \
                         `cascade_limit` in the file)"
                    );
                    return ExitCode::from(2);
                }
                return learn(LearnArgs {
                    model: &model,
                    out: &out,
                    checkpoints: (checkpoint_every, resume.is_some()),
                    weights: weights.as_deref(),
                    frozen: weights.is_some(),
                    engine,
                    dt,
                    seed,
                    force,
                    quiet,
                    stop: &stop,
                });
            }
            if let Some(w) = &weights {
                eprintln!(
                    "error: --weights {}: expected a learning model file ([basis] and \
                     [[phase]]), {} is not one",
                    w.display(),
                    model.display()
                );
                return ExitCode::from(2);
            }
            if let Some(dt) = dt {
                if !(dt.is_finite() && dt > 0.0) {
                    eprintln!(
                        "error: --dt: expected a finite positive time step in seconds, got {dt}"
                    );
                    return ExitCode::from(2);
                }
            }
            let m = match model_file::load(&model).and_then(|m| match seed {
                Some(s) => m.with_seed(s),
                None => Ok(m),
            }) {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let opts = RunOptions {
                engine: engine.map(EngineArg::kind),
                dt,
                cascade_limit,
                force,
            };
            let plan = CheckpointPlan {
                every: checkpoint_every,
                resume: resume.is_some(),
                fingerprint: checkpoints::fingerprint(
                    &model,
                    &text,
                    &format!(
                        "seed {}, engine {:?}, dt {:?}, cascade limit {:?}",
                        m.seed(),
                        opts.engine,
                        opts.dt,
                        opts.cascade_limit
                    ),
                ),
            };
            let dir = match prepare_out(&out, plan.resume, &stop) {
                Ok(d) => d,
                Err(code) => return code,
            };
            if dir.finished() {
                return commit_finished(dir, &out, &stop, quiet);
            }
            let bar = Progress::new(quiet, m.simulate.duration);
            // The files grow in the staging directory while the run goes on (flat memory).
            let result =
                run_model_into_with(&m, &opts, dir.path(), &plan, |t| tick(&bar, &stop, t));
            bar.finish();
            let summary = match result {
                Ok(s) => s,
                Err(RunError::Stopped { at }) => return stop.stopped(dir, &out, at),
                Err(e) => return checkpoints::run_failed(&e, dir, &model, &out, &plan),
            };
            if let Err(code) = commit_out(dir, &out, &stop) {
                return code;
            }
            warn(&summary);
            if !quiet {
                let s = &summary;
                println!(
                    "{}: {} engine, {} neurons, {} s: {} spikes ({:.2} Hz per neuron), readout RMSE {}, {:.3} s wall -> {}",
                    printable(&s.model),
                    s.engine,
                    s.neurons,
                    s.duration,
                    s.spikes,
                    s.mean_rate_hz,
                    s.readout_rmse.map_or("n/a".to_string(), |r| format!("{r:.4}")),
                    s.wall_seconds,
                    out.display()
                );
            }
            ExitCode::SUCCESS
        }
        Command::Learn {
            model,
            out,
            checkpoint_every,
            resume,
            weights,
            engine,
            dt,
            seed,
            force,
            quiet,
        } => {
            let out = match checkpoints::out_dir(out, resume.as_deref(), checkpoint_every) {
                Ok(o) => o,
                Err(code) => return code,
            };
            learn(LearnArgs {
                model: &model,
                out: &out,
                checkpoints: (checkpoint_every, resume.is_some()),
                weights: weights.as_deref(),
                frozen: false,
                engine,
                dt,
                seed,
                force,
                quiet,
                stop: &stop,
            })
        }
        Command::Sweep {
            spec,
            out,
            threads,
            shard,
            runs,
            quiet,
        } => sweep(SweepArgs {
            spec,
            out,
            threads,
            shard,
            runs,
            quiet,
        }),
        #[cfg(feature = "plot")]
        Command::Plot {
            run_dir,
            out,
            window,
        } => plot(&run_dir, out.as_deref(), window),
    }
}
