//! `state.csv` and `state_at_spikes.csv`: what a state monitor recorded (`[record] state` in a
//! model file).

use crate::error::OutputError;
use crate::io::record::write_atomic;
#[cfg(doc)]
use crate::io::record::{STATE_AT_SPIKES_CSV, STATE_CSV};
use crate::monitor::{SpikeSamples, StateRecord};
use std::io::Write;
use std::path::Path;

/// Writes [`STATE_CSV`] atomically: header `time,` then the record's columns (`v_0,v_3,r_0,r_3`:
/// variables in the order given, neurons in the order given), one row per sample, floats in
/// shortest round-trip form.
pub(crate) fn write_state_csv(path: &Path, state: &StateRecord) -> Result<(), OutputError> {
    write_atomic(path, |w| {
        w.write_all(b"time")?;
        for c in &state.columns {
            write!(w, ",{c}")?;
        }
        w.write_all(b"\n")?;
        for (k, t) in state.times.iter().enumerate() {
            write!(w, "{t}")?;
            for v in state.row(k) {
                write!(w, ",{v}")?;
            }
            w.write_all(b"\n")?;
        }
        Ok(())
    })
}

/// Writes [`STATE_AT_SPIKES_CSV`] atomically: header `time,neuron,` then the state record's
/// `columns`, one row per spike of a recorded neuron in firing order, with the values just
/// before that spike's reset (see [`SpikeSamples`]).
pub fn write_state_at_spikes_csv(
    path: &Path,
    columns: &[String],
    samples: &SpikeSamples,
) -> Result<(), OutputError> {
    write_atomic(path, |w| {
        w.write_all(b"time,neuron")?;
        for c in columns {
            write!(w, ",{c}")?;
        }
        w.write_all(b"\n")?;
        let c = columns.len();
        for (k, (t, j)) in samples.times.iter().zip(&samples.neurons).enumerate() {
            write!(w, "{t},{j}")?;
            for v in &samples.values[k * c..(k + 1) * c] {
                write!(w, ",{v}")?;
            }
            w.write_all(b"\n")?;
        }
        Ok(())
    })
}
