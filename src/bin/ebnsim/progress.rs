//! Progress of a long run: a bar on a terminal, and when stderr is not one (a batch job, a
//! pipe) a `tracing` line every [`EVERY`] of wall time (or `EBNSIM_PROGRESS_SECONDS`; target
//! `progress`, shown by default, `RUST_LOG` can silence it), so a log shows the run is alive and
//! how far it is.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::cell::Cell;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Wall time between two progress lines when stderr is not a terminal (default).
const EVERY: Duration = Duration::from_secs(10);

/// [`EVERY`], or `EBNSIM_PROGRESS_SECONDS` when that is a positive number.
fn every() -> Duration {
    std::env::var("EBNSIM_PROGRESS_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(EVERY, Duration::from_secs_f64)
}

/// The progress of one run of `total` simulated seconds.
pub(crate) struct Progress {
    bar: ProgressBar,
    total: f64,
    /// `Some(last line)` when progress goes to lines, not to the bar.
    lines: Option<Cell<Instant>>,
    every: Duration,
    started: Instant,
}

impl Progress {
    /// Nothing shown with `quiet`.
    pub(crate) fn new(quiet: bool, total: f64) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = if quiet || !terminal {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::with_draw_target(
                Some((total * 1e3).ceil() as u64),
                ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} ms simulated  {elapsed} elapsed, ~{eta} left",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        };
        let started = Instant::now();
        Progress {
            bar,
            total,
            lines: (!quiet && !terminal).then(|| Cell::new(started)),
            every: every(),
            started,
        }
    }

    /// The run has reached `t` s simulated.
    pub(crate) fn at(&self, t: f64) {
        let ms = (t * 1e3) as u64;
        if ms != self.bar.position() {
            self.bar.set_position(ms);
        }
        if let Some(last) = &self.lines {
            let now = Instant::now();
            if now.duration_since(last.get()) >= self.every {
                last.set(now);
                let done = if self.total > 0.0 {
                    t / self.total
                } else {
                    1.0
                };
                let wall = now.duration_since(self.started).as_secs_f64();
                let left = if done > 0.0 {
                    wall * (1.0 - done) / done
                } else {
                    f64::NAN
                };
                tracing::info!(
                    target: "progress",
                    "{t:.3} of {:.3} s simulated ({:.1} %), {wall:.0} s elapsed, ~{left:.0} s left",
                    self.total,
                    100.0 * done
                );
            }
        }
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
