//! The files of a learning run: `learning_curve.csv`, and the whole run directory.

use super::{CurvePoint, LearnOutput, LearningModel};

/// File name of the learning curve inside a run directory.
pub(crate) const LEARNING_CURVE_CSV: &str = "learning_curve.csv";

/// Writes `learning_curve.csv` atomically: header `time,phase,field_error,window_nrmse`, one row
/// per [`CurvePoint`], floats in shortest round-trip form (`NaN` where undefined).
pub(crate) fn write_learning_curve(
    path: &std::path::Path,
    curve: &[CurvePoint],
) -> Result<(), crate::error::OutputError> {
    use std::fmt::Write as _;
    let mut text = String::from("time,phase,field_error,window_nrmse\n");
    for p in curve {
        let _ = writeln!(
            text,
            "{},{},{},{}",
            p.time, p.phase, p.field_error, p.window_nrmse
        );
    }
    crate::io::record::write_atomic(path, |w| {
        use std::io::Write as _;
        w.write_all(text.as_bytes())
    })
}

/// Writes a learning run directory: `spikes.csv`, `readout.csv`, `network.json` (the network
/// as built: decoder, thresholds, λ's, the initial slow core; the learned weights are in
/// `weights.json`), `weights.json` (unless `with_weights` is false), `learning_curve.csv`,
/// `state.csv` and `state_at_spikes.csv` (with a state monitor), then
/// removes the other files of `io::record::RUN_OUTPUTS` left by an earlier run (an
/// existing `weights.json` is kept when `with_weights` is false: it may be the weights the run
/// reads), writes `summary.json` and, last, removes a checkpoint of the run (killed before that,
/// the run can be resumed; after, its files are complete).
pub fn write_learn_run(
    dir: &std::path::Path,
    model: &LearningModel,
    out: &LearnOutput,
    with_weights: bool,
) -> Result<(), crate::error::OutputError> {
    std::fs::create_dir_all(dir).map_err(|source| crate::error::OutputError {
        path: dir.to_path_buf(),
        source,
    })?;
    crate::io::record::write_spikes_csv(&dir.join(crate::io::record::SPIKES_CSV), &out.spikes)?;
    crate::io::record::write_readout_csv(&dir.join(crate::io::record::READOUT_CSV), &out.readout)?;
    if with_weights {
        write_weights(dir, model, out)?;
    }
    write_learning_curve(&dir.join(LEARNING_CURVE_CSV), &out.curve)?;
    {
        use crate::io::network_file::{NetworkFile, NETWORK_JSON};
        use crate::io::record::{READOUT_CSV, SPIKES_CSV, SUMMARY_JSON};
        NetworkFile::of(&model.network).write(&dir.join(NETWORK_JSON))?;
        let mut keep = vec![
            SPIKES_CSV,
            READOUT_CSV,
            NETWORK_JSON,
            crate::io::weights_file::WEIGHTS_JSON,
            LEARNING_CURVE_CSV,
            SUMMARY_JSON,
        ];
        crate::io::record::write_state(dir, out.state.as_ref(), &mut keep)?;
        crate::io::record::remove_stale_outputs(dir, &keep)?;
    }
    crate::io::record::write_json(&dir.join(crate::io::record::SUMMARY_JSON), &out.summary)?;
    // Last (as `RunWriter::finish`): a kill before it leaves a resumable run, after it a
    // complete one.
    crate::io::run_writer::remove_checkpoint(dir);
    Ok(())
}

/// Writes `weights.json` of a learning run into `dir` atomically.
pub(super) fn write_weights(
    dir: &std::path::Path,
    model: &LearningModel,
    out: &LearnOutput,
) -> Result<(), crate::error::OutputError> {
    crate::io::weights_file::write(
        &dir.join(crate::io::weights_file::WEIGHTS_JSON),
        &crate::io::weights_file::Weights {
            model: model.name.clone(),
            seed: model.seed(),
            lambda_d: model.network.lambda_d(),
            basis: out.basis.clone(),
            u: out.weights.clone(),
            offsets: out.offsets.clone(),
        },
    )
}
