//! The `ebnsim` command-line tool: run model files, write spikes, readout and a summary.

use clap::{Parser, Subcommand, ValueEnum};
use ebnsim::engine::EngineKind;
use ebnsim::model_file;
use ebnsim::record::write_run;
use ebnsim::run::{run_model, RunOptions};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;
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
    /// Run a model file and write spikes.csv, readout.csv and summary.json into --out.
    Run {
        /// The model file (TOML; see docs/model-format.md).
        model: PathBuf,
        /// Output directory (created if missing; files are replaced atomically).
        #[arg(long)]
        out: PathBuf,
        /// Engine to use instead of the model file's `simulate.engine`.
        #[arg(long, value_enum)]
        engine: Option<EngineArg>,
        /// Dense-stepper time step in seconds, instead of `simulate.dt`.
        #[arg(long, allow_negative_numbers = true)]
        dt: Option<f64>,
        /// Longest same-instant cascade before the run stops (default: N).
        #[arg(long)]
        cascade_limit: Option<usize>,
        /// No progress bar and no closing line.
        #[arg(long, short)]
        quiet: bool,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum EngineArg {
    Exact,
    Dense,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            model,
            out,
            engine,
            dt,
            cascade_limit,
            quiet,
        } => {
            if let Some(dt) = dt {
                if !(dt.is_finite() && dt > 0.0) {
                    eprintln!(
                        "error: --dt: expected a finite positive time step in seconds, got {dt}"
                    );
                    return ExitCode::from(2);
                }
            }
            let m = match model_file::load(&model) {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let opts = RunOptions {
                engine: engine.map(|e| match e {
                    EngineArg::Exact => EngineKind::Exact,
                    EngineArg::Dense => EngineKind::Dense,
                }),
                dt,
                cascade_limit,
            };
            let bar = if quiet {
                ProgressBar::hidden()
            } else {
                let b = ProgressBar::with_draw_target(
                    Some((m.simulate.duration * 1e3).ceil() as u64),
                    ProgressDrawTarget::stderr(),
                );
                b.set_style(
                    ProgressStyle::with_template(
                        "{bar:40} {pos}/{len} ms simulated  {elapsed} elapsed, ~{eta} left",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                b
            };
            let result = run_model(&m, &opts, |t| bar.set_position((t * 1e3) as u64));
            bar.finish_and_clear();
            let output = match result {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("error: {}: {e}", model.display());
                    return ExitCode::from(1);
                }
            };
            if let Err(e) = write_run(&out, &output.spikes, &output.readout, &output.summary) {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
            if !quiet {
                let s = &output.summary;
                println!(
                    "{}: {} engine, {} neurons, {} s: {} spikes ({:.2} Hz per neuron), readout RMSE {}, {:.3} s wall -> {}",
                    s.model,
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
    }
}
