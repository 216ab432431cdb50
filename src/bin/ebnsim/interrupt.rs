//! Ctrl-C (SIGINT) and SIGTERM for `run` and `learn`, and the staging of `--out` around them.
//!
//! The first signal asks the run to stop at its next readout sample, or before its outputs are
//! put in place when it comes during the writes: `--out` keeps the old run, the staging
//! directory is removed, and the exit code is the shell's 128 + signal. When the process has not
//! ended [`GRACE`] later (stuck in a long model check or a huge write), or on a second signal,
//! it removes its temporaries and exits at once — never during a commit, which holds the lock
//! of the temporaries' list.

use crate::progress::Progress;
use ebnsim::io::output_dir::OutputDir;
use signal_hook::consts::{SIGINT, SIGTERM, SIGXFSZ};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How long a run may take to stop by itself after the first signal.
const GRACE: Duration = Duration::from_secs(3);

/// Whether a stop was asked, by which signal, and what to remove when ending at once.
pub(crate) struct Interrupt {
    requested: Arc<AtomicBool>,
    signal: Arc<AtomicI32>,
    temporaries: Arc<Mutex<Vec<PathBuf>>>,
}

fn name(sig: i32) -> &'static str {
    if sig == SIGTERM {
        "SIGTERM"
    } else {
        "SIGINT"
    }
}

/// Removes the temporaries (waiting for a commit in progress) and exits with 128 + `sig`.
fn end_now(temporaries: &Mutex<Vec<PathBuf>>, sig: i32) -> ! {
    let list = temporaries.lock().unwrap_or_else(PoisonError::into_inner);
    for p in list.iter() {
        let _ = std::fs::remove_dir_all(p).or_else(|_| std::fs::remove_file(p));
    }
    eprintln!(
        "error: interrupted by {}: ended at once, --out left as it was",
        name(sig)
    );
    std::process::exit(128 + sig);
}

impl Interrupt {
    /// Handles SIGINT and SIGTERM on a thread of their own (the default action when that is
    /// not possible), and takes SIGXFSZ's default action (ending the process) away.
    pub(crate) fn install() -> Interrupt {
        let me = Interrupt::none();
        // SIGXFSZ too: a file-size limit (`ulimit -f`) then fails the write with EFBIG, which
        // the run reports and cleans up after, instead of killing the process mid-write.
        let mut signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGXFSZ]) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot handle signals; Ctrl-C ends the run at once");
                return me;
            }
        };
        let (requested, signal, temporaries) = (
            Arc::clone(&me.requested),
            Arc::clone(&me.signal),
            Arc::clone(&me.temporaries),
        );
        std::thread::spawn(move || {
            for sig in signals.forever() {
                if sig == SIGXFSZ {
                    continue;
                }
                if requested.swap(true, Ordering::SeqCst) {
                    end_now(&temporaries, sig);
                }
                signal.store(sig, Ordering::SeqCst);
                let t = Arc::clone(&temporaries);
                std::thread::spawn(move || {
                    std::thread::sleep(GRACE);
                    end_now(&t, sig);
                });
            }
        });
        me
    }

    /// For commands that keep the default signal handling.
    pub(crate) fn none() -> Interrupt {
        Interrupt {
            requested: Arc::new(AtomicBool::new(false)),
            signal: Arc::new(AtomicI32::new(SIGINT)),
            temporaries: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub(crate) fn requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    /// A run stopped at `at` by a signal: drops the staged outputs, reports, gives the code.
    pub(crate) fn stopped(&self, dir: OutputDir, out: &Path, at: f64) -> ExitCode {
        drop(dir);
        self.exit(&format!(
            "at t = {at} s: nothing written, {} left as it was",
            out.display()
        ))
    }

    /// Reports the interruption and gives the shell's exit code for the signal.
    pub(crate) fn exit(&self, what: &str) -> ExitCode {
        let sig = self.signal.load(Ordering::SeqCst);
        eprintln!("error: interrupted by {} {what}", name(sig));
        ExitCode::from(128 + sig.clamp(0, 127) as u8)
    }
}

/// Checks `--out` and prepares its staging directory before any simulation: a path that
/// cannot hold a run fails in milliseconds.
/// With `resume`, the staging directory of the killed run into `out` is taken over instead.
pub(crate) fn prepare_out(
    out: &Path,
    resume: bool,
    stop: &Interrupt,
) -> Result<OutputDir, ExitCode> {
    let dir = if resume {
        OutputDir::resume(out, ebnsim::checkpoint::RUN_CHECKPOINT)
    } else {
        OutputDir::prepare(out)
    };
    let dir = dir.map_err(|e| {
        eprintln!("error: --out: {e}");
        ExitCode::from(if e.is_input() { 2 } else { 1 })
    })?;
    *stop
        .temporaries
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = dir.temporaries();
    Ok(dir)
}

/// Puts the written run in place, unless a stop was asked during the writes.
pub(crate) fn commit_out(dir: OutputDir, out: &Path, stop: &Interrupt) -> Result<(), ExitCode> {
    let mut temporaries = stop
        .temporaries
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    temporaries.clear();
    if stop.requested() {
        drop(dir);
        return Err(stop.exit(&format!(
            "while writing the outputs: {} left as it was",
            out.display()
        )));
    }
    dir.commit().map_err(|e| {
        eprintln!("error: {e}; {} left as it was", out.display());
        ExitCode::from(1)
    })
}

/// `--resume` of a run killed after it had written all its files (before putting them in
/// place): puts them in place, nothing is run again.
pub(crate) fn commit_finished(
    dir: OutputDir,
    out: &Path,
    stop: &Interrupt,
    quiet: bool,
) -> ExitCode {
    match commit_out(dir, out, stop) {
        Ok(()) => {
            if !quiet {
                eprintln!(
                    "the interrupted run had written all its files; put in place at {}",
                    out.display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

/// Shows the progress and asks to stop on a signal.
pub(crate) fn tick(progress: &Progress, stop: &Interrupt, t: f64) -> ControlFlow<()> {
    progress.at(t);
    if stop.requested() {
        ControlFlow::Break(())
    } else {
        ControlFlow::Continue(())
    }
}
