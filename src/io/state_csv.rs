//! `state.csv` and `state_at_spikes.csv`: what a state monitor recorded (`[record] state` in a
//! model file).

use crate::error::OutputError;
use crate::io::decimal;
use crate::io::record::write_atomic;
#[cfg(doc)]
use crate::io::record::{STATE_AT_SPIKES_CSV, STATE_CSV};
use crate::monitor::{SpikeSamples, StateRecord};
use std::io::{self, Write};
use std::path::Path;

/// Writes [`STATE_CSV`] atomically: header `time,` then the record's columns (`v_0,v_3,r_0,r_3`:
/// variables in the order given, neurons in the order given), one row per sample, floats in
/// shortest round-trip form.
pub(crate) fn write_state_csv(path: &Path, state: &StateRecord) -> Result<(), OutputError> {
    write_atomic(path, |w| {
        state_header(w, &state.columns)?;
        state_rows(w, state)
    })
}

/// The header line of [`STATE_CSV`].
pub(crate) fn state_header(w: &mut impl Write, columns: &[String]) -> io::Result<()> {
    w.write_all(b"time")?;
    for c in columns {
        write!(w, ",{c}")?;
    }
    w.write_all(b"\n")
}

/// The rows of [`STATE_CSV`] for the samples of `state` (the regular ones, not `at_spikes`).
pub(crate) fn state_rows(w: &mut impl Write, state: &StateRecord) -> io::Result<()> {
    // (As `write!(w, "{t}")`, `write!(w, ",{v}")` write them: io::decimal.)
    let mut rows = decimal::Rows::new(w);
    for (k, &t) in state.times.iter().enumerate() {
        rows.f64(t);
        for &v in state.row(k) {
            rows.f64(v);
        }
        rows.end()?;
    }
    rows.finish()
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
        at_spikes_header(w, columns)?;
        at_spikes_rows(w, columns.len(), samples)
    })
}

/// The header line of [`STATE_AT_SPIKES_CSV`].
pub(crate) fn at_spikes_header(w: &mut impl Write, columns: &[String]) -> io::Result<()> {
    w.write_all(b"time,neuron")?;
    for c in columns {
        write!(w, ",{c}")?;
    }
    w.write_all(b"\n")
}

/// The rows of [`STATE_AT_SPIKES_CSV`] for `samples` of `columns` values each.
pub(crate) fn at_spikes_rows(
    w: &mut impl Write,
    columns: usize,
    samples: &SpikeSamples,
) -> io::Result<()> {
    let mut rows = decimal::Rows::new(w);
    for (k, (&t, &j)) in samples.times.iter().zip(&samples.neurons).enumerate() {
        rows.f64(t);
        rows.u64(u64::from(j));
        for &v in &samples.values[k * columns..(k + 1) * columns] {
            rows.f64(v);
        }
        rows.end()?;
    }
    rows.finish()
}
