//! `state.csv`: what a state monitor recorded (`[record] state` in a model file).

use crate::error::OutputError;
use crate::io::record::write_atomic;
#[cfg(doc)]
use crate::io::record::STATE_CSV;
use crate::monitor::StateRecord;
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
