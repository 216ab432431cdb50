//! Where the phases' spikes, readout samples and state samples go: kept in memory (the
//! library calls that return them, [`run_phases_with`]) or written to the run's files as they
//! come and forgotten ([`run_phases_into`]: memory flat in simulated time). The metrics read
//! them back through [`State::each_spike`] and [`State::each_sample`] either way — from memory
//! or from the files, the same numbers in the same order — so both give the same bits.

use super::*;
use crate::io::run_writer::RunWriter;

/// A place in the records: how many spikes and samples came before it and, when they are
/// written out, the byte offsets of the next rows of `spikes.csv` and `readout.csv`.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct Mark {
    pub(super) spikes: usize,
    pub(super) samples: usize,
    spike_byte: u64,
    sample_byte: u64,
}

/// The first passes of the two-pass statistics, taken as the records come (before they are
/// written out): the second passes alone read them back.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Tally {
    /// Spikes and samples counted so far.
    spikes: usize,
    samples: usize,
    /// The whole run's ISI CV and readout error (`summary.json`).
    pub(super) run_isi: metrics::IsiCvStream,
    pub(super) run_error: metrics::ReadoutErrorStream,
    /// The phase's readout error and spike statistics, from its first record.
    pub(super) phase: Option<PhaseTally>,
}

/// The first passes of a phase's statistics.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct PhaseTally {
    pub(super) error: metrics::ReadoutErrorStream,
    pub(super) stats: crate::analysis::learning_metrics::SpikeStatsStream,
}

impl Tally {
    /// Nothing counted yet: a run of `n` neurons and `d` dimensions.
    pub(super) fn new(n: usize, d: usize) -> Tally {
        Tally {
            spikes: 0,
            samples: 0,
            run_isi: metrics::IsiCvStream::new(n),
            run_error: metrics::ReadoutErrorStream::new(d),
            phase: None,
        }
    }
}

impl State {
    /// Counts the records not counted yet into the first passes of [`Tally`].
    pub(super) fn account(&mut self) {
        let counted = self.sample_count();
        let tally = &mut self.tally;
        let spikes = &self.spikes[tally.spikes - self.flushed.spikes..];
        tally.run_isi.first(spikes);
        if let Some(p) = &mut tally.phase {
            p.stats.first(spikes);
        }
        tally.spikes += spikes.len();
        let r = &self.readout;
        let (d, x) = (r.dims, r.x.as_deref().unwrap_or(&[]));
        for k in tally.samples - self.flushed.samples..r.len() {
            let (xhat, x) = (&r.xhat[k * d..(k + 1) * d], &x[k * d..(k + 1) * d]);
            tally.run_error.first(xhat, x);
            if let Some(p) = &mut tally.phase {
                p.error.first(xhat, x);
            }
        }
        tally.samples = counted;
    }

    /// Starts the first passes of a phase over `[t_s, t_e)` from the next record on (the
    /// neurons alive now: kills come at phase starts only).
    pub(super) fn start_phase_tally(&mut self, alive: &[bool], (t_s, t_e): (f64, f64)) {
        self.account();
        self.tally.phase = Some(PhaseTally {
            error: metrics::ReadoutErrorStream::new(self.readout.dims),
            stats: crate::analysis::learning_metrics::SpikeStatsStream::new(alive, t_s, t_e),
        });
    }

    /// Spikes recorded so far.
    pub(super) fn spike_count(&self) -> usize {
        self.flushed.spikes + self.spikes.len()
    }

    /// Readout samples recorded so far.
    pub(super) fn sample_count(&self) -> usize {
        self.flushed.samples + self.readout.len()
    }

    /// Writes what is held to the run's files and forgets it (the state monitor first sees
    /// the spikes held; nothing happens when the records stay in memory).
    pub(super) fn flush<E: Plastic>(&mut self, engine: &mut E) -> Result<(), RunError> {
        self.account();
        if self.out.is_none() {
            return Ok(());
        }
        self.observe(engine);
        let Some(out) = &mut self.out else {
            return Ok(());
        };
        out.append(
            &self.spikes,
            Some(&self.readout),
            self.monitor.as_ref().map(|m| m.record()),
        )?;
        let (spike_byte, sample_byte) = out.offsets();
        self.flushed = Mark {
            spikes: self.flushed.spikes + self.spikes.len(),
            samples: self.flushed.samples + self.readout.len(),
            spike_byte,
            sample_byte,
        };
        self.spikes.clear();
        self.readout.clear();
        self.monitor_seen = 0;
        if let Some(m) = &mut self.monitor {
            m.forget();
        }
        Ok(())
    }

    /// The place the records have reached (flushed first, when written out).
    pub(super) fn mark<E: Plastic>(&mut self, engine: &mut E) -> Result<Mark, RunError> {
        self.flush(engine)?;
        Ok(Mark {
            spikes: self.spike_count(),
            samples: self.sample_count(),
            ..self.flushed
        })
    }

    /// Shows the spikes recorded since `from` (a [`State::mark`]; `Mark::default()`: every
    /// spike) to `f`, in firing order, in pieces.
    pub(super) fn each_spike(
        &mut self,
        from: Mark,
        mut f: impl FnMut(&[Spike]),
    ) -> Result<(), RunError> {
        let held = match &mut self.out {
            Some(out) => {
                if from.spikes < self.flushed.spikes {
                    out.replay_spikes_from(from.spike_byte, &mut f)?;
                }
                &self.spikes[..]
            }
            None => &self.spikes[from.spikes - self.flushed.spikes..],
        };
        f(held);
        Ok(())
    }

    /// Shows the readout samples recorded since `from` (as [`State::each_spike`]) to `f`, in
    /// order: time, `x̂` and the teacher `x`.
    pub(super) fn each_sample(
        &mut self,
        from: Mark,
        mut f: impl FnMut(f64, &[f64], &[f64]),
    ) -> Result<(), RunError> {
        let first = match &mut self.out {
            Some(out) => {
                if from.samples < self.flushed.samples {
                    out.replay_samples_from(from.sample_byte, Some(from.samples as u64), &mut f)?;
                }
                0
            }
            None => from.samples - self.flushed.samples,
        };
        for (t, xhat, x) in self.readout.rows().skip(first) {
            f(t, xhat, x);
        }
        Ok(())
    }

    /// [`metrics::nrmse`] of the readout against the teacher over the samples since `from`
    /// (`None` without samples), read twice: the normalization needs the teacher's mean.
    pub(super) fn nrmse_since(&mut self, from: Mark) -> Result<Option<f64>, RunError> {
        let mut error = metrics::ReadoutErrorStream::new(self.readout.dims);
        self.each_sample(from, |_, xhat, x| error.first(xhat, x))?;
        if error.samples() == 0 {
            return Ok(None);
        }
        self.each_sample(from, |_, _, x| error.second(x))?;
        Ok(Some(error.nrmse()))
    }
}

/// The run's files, for [`State::out`]: started in `dir`, or continued from a checkpoint's
/// positions.
pub(super) fn writer(
    dir: &std::path::Path,
    st: &State,
    files: Option<&[crate::io::run_writer::FilePosition]>,
) -> Result<RunWriter, RunError> {
    let d = st.readout.dims;
    Ok(match files {
        Some(files) => RunWriter::reopen(dir, d, files)?,
        None => {
            let state = st.monitor.as_ref().map(|m| {
                (
                    m.record().columns.as_slice(),
                    m.record().at_spikes.is_some(),
                )
            });
            RunWriter::create(dir, d, true, state)?
        }
    })
}
