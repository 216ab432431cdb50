//! A binary copy of the readout rows a run writes, for the statistics that read them back.
//!
//! Why: the two-pass statistics (a window's or a phase's NRMSE, the whole run's) read the
//! samples again after they were written. Parsing `readout.csv` back cost a learning run about
//! 8 % of its time (a 500-s training phase is 500,000 rows, each read four times). The copy
//! holds the very `f64`s the rows were written from; `readout.csv` writes shortest round-trip
//! decimals, which parse back to the same bits, so the statistics are the same either way.
//!
//! The copy lives in an unnamed temporary file in the run's directory: it takes no memory and
//! disappears when closed, even when the process is killed. It is only a faster path: when it
//! cannot be made or written (a full disk), it is dropped and the replays parse `readout.csv`.

use crate::io::record::Readout;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Bytes of one stored number.
const F64_BYTES: usize = std::mem::size_of::<f64>();

/// The rows of `readout.csv` from row `first` on (0: the first sample), as native-endian `f64`s:
/// time, `x̂` and the target `x` when there is one.
#[derive(Debug)]
pub(crate) struct SampleCopy {
    file: BufWriter<File>,
    /// The row of `readout.csv` the copy's first row is (rows before it were written by an
    /// earlier process, before a resume).
    first: u64,
    /// Rows held.
    rows: u64,
    /// Numbers per row, fixed by the first row appended (1 + d, or 1 + 2d with a target).
    width: Option<usize>,
}

impl SampleCopy {
    /// An empty copy in `dir` whose first row will be row `first` of `readout.csv`; `None` when
    /// no temporary file can be made there.
    pub(crate) fn new(dir: &Path, first: u64) -> Option<SampleCopy> {
        match tempfile::tempfile_in(dir) {
            Ok(file) => Some(SampleCopy {
                file: BufWriter::with_capacity(1 << 16, file),
                first,
                rows: 0,
                width: None,
            }),
            Err(e) => {
                tracing::debug!(dir = %dir.display(), error = %e, "no binary copy of the readout");
                None
            }
        }
    }

    /// Appends `readout`'s rows (an error: a failed write, or rows of another width).
    pub(crate) fn append(&mut self, readout: &Readout) -> io::Result<()> {
        let d = readout.dims;
        let width = 1 + d + readout.x.as_ref().map_or(0, |_| d);
        if readout.times.is_empty() {
            return Ok(());
        }
        if *self.width.get_or_insert(width) != width {
            return Err(io::Error::other("rows of another width"));
        }
        for (t, xhat, target) in readout.rows() {
            for v in std::iter::once(&t).chain(xhat).chain(target) {
                self.file.write_all(&v.to_ne_bytes())?;
            }
        }
        self.rows += readout.times.len() as u64;
        Ok(())
    }

    /// The row of `readout.csv` after the last one held.
    pub(crate) fn end(&self) -> u64 {
        self.first + self.rows
    }

    /// Whether the replay from row `row` of `readout.csv` can be read from the copy.
    pub(crate) fn holds(&self, row: u64) -> bool {
        row >= self.first && row <= self.end()
    }

    /// Shows the rows from row `row` of `readout.csv` on (where [`SampleCopy::holds`] it) to
    /// `f`, in order: time, `x̂` (`d` numbers) and the target `x` (empty without one).
    pub(crate) fn replay_from(
        &mut self,
        row: u64,
        d: usize,
        mut f: impl FnMut(f64, &[f64], &[f64]),
    ) -> io::Result<()> {
        let Some(width) = self.width else {
            return Ok(());
        };
        debug_assert!(self.holds(row));
        self.file.flush()?;
        let file = self.file.get_mut();
        let start = (row - self.first) * (width * F64_BYTES) as u64;
        let end = self.rows * (width * F64_BYTES) as u64;
        let result = (|| {
            file.seek(SeekFrom::Start(start))?;
            let row_bytes = width * F64_BYTES;
            // Whole rows per read: 64 KiB or one row.
            let per_read = ((1 << 16) / row_bytes).max(1);
            let mut bytes = vec![0; per_read * row_bytes];
            let mut values = vec![0.0; width];
            let mut left = end - start;
            while left > 0 {
                let take = (left as usize).min(bytes.len());
                file.read_exact(&mut bytes[..take])?;
                for chunk in bytes[..take].chunks_exact(row_bytes) {
                    for (v, b) in values.iter_mut().zip(chunk.chunks_exact(F64_BYTES)) {
                        *v = f64::from_ne_bytes(b.try_into().expect("8 bytes"));
                    }
                    f(values[0], &values[1..1 + d], &values[1 + d..]);
                }
                left -= take as u64;
            }
            Ok(())
        })();
        // Appending goes on at the end whatever happened.
        file.seek(SeekFrom::End(0))?;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readout(t0: f64, n: usize, target: bool) -> Readout {
        let times: Vec<f64> = (0..n).map(|i| t0 + i as f64 * 1e-3).collect();
        let xhat: Vec<f64> = times.iter().flat_map(|t| [t.sin(), -t / 3.0]).collect();
        let x = target.then(|| times.iter().flat_map(|t| [t.cos(), 0.1 + t]).collect());
        Readout {
            dims: 2,
            times,
            xhat,
            x,
        }
    }

    fn rows(r: &Readout) -> Vec<(f64, Vec<f64>, Vec<f64>)> {
        let d = r.dims;
        (0..r.times.len())
            .map(|i| {
                let x =
                    r.x.as_ref()
                        .map_or(vec![], |x| x[i * d..(i + 1) * d].to_vec());
                (r.times[i], r.xhat[i * d..(i + 1) * d].to_vec(), x)
            })
            .collect()
    }

    #[test]
    fn replays_the_rows_appended_from_any_row_and_appends_after_a_replay() {
        let tmp = tempfile::tempdir().unwrap();
        let mut copy = SampleCopy::new(tmp.path(), 7).unwrap();
        // Pieces longer than one read (64 KiB: 1365 rows of 5 numbers), and an empty one.
        let pieces = [
            readout(0.0, 3000, true),
            readout(3.0, 0, true),
            readout(3.0, 5, true),
        ];
        let mut all = Vec::new();
        for p in &pieces {
            copy.append(p).unwrap();
            all.extend(rows(p));
            let mut got = Vec::new();
            copy.replay_from(7, 2, |t, xh, x| got.push((t, xh.to_vec(), x.to_vec())))
                .unwrap();
            assert_eq!(got, all);
        }
        for from in [7, 8, 1372, 3006, 3012] {
            assert!(copy.holds(from));
            let mut got = Vec::new();
            copy.replay_from(from, 2, |t, xh, x| got.push((t, xh.to_vec(), x.to_vec())))
                .unwrap();
            assert_eq!(got, all[(from - 7) as usize..], "from row {from}");
        }
        assert!(!copy.holds(6) && !copy.holds(3013));
        // Rows of another width are refused.
        assert!(copy.append(&readout(4.0, 2, false)).is_err());
    }

    #[test]
    fn rows_without_a_target_have_an_empty_target() {
        let tmp = tempfile::tempdir().unwrap();
        let mut copy = SampleCopy::new(tmp.path(), 0).unwrap();
        let r = readout(0.5, 4, false);
        copy.append(&r).unwrap();
        let mut got = Vec::new();
        copy.replay_from(0, 2, |t, xh, x| got.push((t, xh.to_vec(), x.to_vec())))
            .unwrap();
        assert_eq!(got, rows(&r));
        assert!(got.iter().all(|(_, _, x)| x.is_empty()));
    }
}
