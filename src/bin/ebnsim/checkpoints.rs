//! `--checkpoint-every` and `--resume` of `run` and `learn`: which directory, what identifies a
//! run, and what a failed run with checkpoints keeps.

use crate::exit_code;
use ebnsim::io::output_dir::OutputDir;
use ebnsim::run::{CheckpointPlan, RunError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The run's directory: `--out`, or `--resume`'s (the same when both are given), and a valid
/// `--checkpoint-every`.
pub(crate) fn out_dir(
    out: Option<PathBuf>,
    resume: Option<&Path>,
    every: Option<f64>,
) -> Result<PathBuf, ExitCode> {
    if let Some(s) = every.filter(|s| !(s.is_finite() && *s > 0.0)) {
        eprintln!(
            "error: --checkpoint-every: expected a finite positive interval in simulated \
             seconds, got {s}"
        );
        return Err(ExitCode::from(2));
    }
    match (out, resume) {
        (Some(o), Some(r)) if o != r => {
            eprintln!(
                "error: --out {} and --resume {}: expected the same directory (or --resume alone)",
                o.display(),
                r.display()
            );
            Err(ExitCode::from(2))
        }
        (Some(o), _) => Ok(o),
        (None, Some(r)) => Ok(r.to_path_buf()),
        (None, None) => {
            eprintln!("error: expected --out DIR (or --resume DIR)");
            Err(ExitCode::from(2))
        }
    }
}

/// What identifies a run for `--resume`: the model file's name and checksum and `options`
/// (every option that changes the outputs).
pub(crate) fn fingerprint(model: &Path, text: &str, options: &str) -> String {
    format!(
        "model file {} (checksum {:016x}), {options}",
        crate::printable(&model.file_name().unwrap_or_default().to_string_lossy()),
        ebnsim::checkpoint::checksum(text.as_bytes()),
    )
}

/// A file's checksum for a fingerprint (`unreadable` when it cannot be read: the run then
/// fails on it anyway).
pub(crate) fn file_checksum(path: &Path) -> String {
    std::fs::read(path).map_or("unreadable".into(), |b| {
        format!("{:016x}", ebnsim::checkpoint::checksum(&b))
    })
}

/// Reports a failed `run` into `out`; a run with checkpoints keeps its staging directory (and
/// checkpoint) for `--resume`, others leave nothing.
pub(crate) fn run_failed(
    e: &RunError,
    dir: OutputDir,
    model: &Path,
    out: &Path,
    plan: &CheckpointPlan,
) -> ExitCode {
    let what = match e {
        // Named by its place in --out, not in the staging directory the user never sees.
        RunError::Output(e) => format!("{e}").replacen(
            &dir.path().display().to_string(),
            &out.display().to_string(),
            1,
        ),
        RunError::Checkpoint { .. } => format!("--resume: {e}"),
        e => format!("{}: {e}", model.display()),
    };
    let resumable = plan.resume || plan.every.is_some();
    if resumable
        && dir
            .path()
            .join(ebnsim::checkpoint::RUN_CHECKPOINT)
            .is_file()
    {
        let _ = dir.abandon();
        eprintln!(
            "error: {what}; {} left as it was, the run's last checkpoint kept for `--resume {}`",
            out.display(),
            out.display()
        );
    } else {
        drop(dir);
        eprintln!("error: {what}; {} left as it was", out.display());
    }
    match e {
        RunError::Output(_) => ExitCode::from(1),
        RunError::Checkpoint { .. } => ExitCode::from(2),
        e => exit_code(e),
    }
}
