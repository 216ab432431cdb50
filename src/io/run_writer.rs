//! Writing a run's files while it runs: `spikes.csv`, `readout.csv` and the state monitor's
//! files grow piece by piece, so a long run's memory stays flat in simulated time.
//!
//! Why: a 10⁵-s run records ~10 GB of spikes and samples; kept until the end, a crash at the end
//! loses it all. [`RunWriter`] appends each piece ([`Simulation::forget_recorded`] then drops it
//! from memory) to a temporary file next to its final name, with the same bytes the whole-run
//! writers of [`crate::io::record`] produce; [`RunWriter::finish`] syncs and renames them,
//! writes `network.json`, removes other runs' files and writes `summary.json` last — the order
//! of [`crate::io::record::write_run`]. The statistics of `summary.json` that need two passes
//! (the ISI CV and the NRMSE need a mean first) read the written files back
//! ([`RunWriter::replay_spikes`], [`RunWriter::replay_targets`]), so they equal those of a
//! run kept in memory to the bit; the samples come from their binary copy
//! (`io::sample_copy`) when it holds them, with the same bits and no parsing.
//!
//! [`Simulation::forget_recorded`]: crate::simulation::Simulation::forget_recorded

use crate::engine::Spike;
use crate::error::OutputError;
use crate::io::network_file::{NetworkFile, NETWORK_JSON};
use crate::io::record::{
    create_temp, output_error, readout_header, readout_rows, remove_stale_outputs, spike_rows,
    sync_dir, write_json, Readout, Summary, READOUT_CSV, SPIKES_CSV, SPIKES_HEADER,
    STATE_AT_SPIKES_CSV, STATE_CSV, SUMMARY_JSON,
};
use crate::io::sample_copy::SampleCopy;
use crate::io::state_csv::{at_spikes_header, at_spikes_rows, state_header, state_rows};
use crate::model::network::Network;
use crate::monitor::StateRecord;
use crate::time::Time;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Where a growing file stood at a checkpoint: its name, its temporary file's name (both in the
/// run's directory) and its length in bytes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct FilePosition {
    name: String,
    temp: String,
    len: u64,
    /// Rows written after the header (`readout.csv` only, while it has a binary copy): where a
    /// resumed run's binary copy of the samples starts.
    rows: Option<u64>,
}

/// One file being written: its final path, its temporary path and the open writer.
#[derive(Debug)]
struct Growing {
    path: PathBuf,
    temp: PathBuf,
    out: Counted,
}

/// A buffered file that counts the bytes written to it: where the next row goes, without a
/// system call (a learning run asks after every epoch).
#[derive(Debug)]
struct Counted {
    file: BufWriter<File>,
    bytes: u64,
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Growing {
    fn create(
        dir: &Path,
        name: &str,
        header: impl FnOnce(&mut Counted) -> io::Result<()>,
    ) -> Result<Growing, OutputError> {
        let path = dir.join(name);
        let (temp, file) = create_temp(dir, name).map_err(|e| output_error(&path, e))?;
        let mut g = Growing {
            path,
            temp,
            out: Counted {
                file: BufWriter::with_capacity(1 << 16, file),
                bytes: 0,
            },
        };
        let r = header(&mut g.out);
        g.check(r)?;
        Ok(g)
    }

    fn check(&self, r: io::Result<()>) -> Result<(), OutputError> {
        r.map_err(|e| output_error(&self.path, e))
    }

    /// Flushes and syncs the temporary file.
    fn sync(&mut self) -> Result<(), OutputError> {
        let r = self
            .out
            .flush()
            .and_then(|()| self.out.file.get_ref().sync_all());
        self.check(r)
    }

    /// Syncs and tells where the file stands.
    fn position(&mut self) -> Result<FilePosition, OutputError> {
        self.sync()?;
        let len = self
            .out
            .file
            .get_ref()
            .metadata()
            .map_err(|e| output_error(&self.path, e))?
            .len();
        let name = |p: &Path| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        };
        Ok(FilePosition {
            name: name(&self.path),
            temp: name(&self.temp),
            len,
            rows: None,
        })
    }

    /// Opens the temporary file of `pos` in `dir` again, cut back to its length at the
    /// checkpoint, to append from there.
    fn reopen(dir: &Path, pos: &FilePosition) -> Result<Growing, OutputError> {
        let path = dir.join(&pos.name);
        let temp = dir.join(&pos.temp);
        let err = |e| output_error(&path, e);
        if !temp.exists() && path.exists() {
            // Killed while finishing, after this file's rename: it is still the growing one.
            fs::rename(&path, &temp).map_err(err)?;
        }
        let file = fs::OpenOptions::new()
            .write(true)
            .open(&temp)
            .map_err(err)?;
        let len = file.metadata().map_err(err)?.len();
        if len < pos.len {
            return Err(err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{} holds {len} bytes, fewer than the {} of the checkpoint",
                    temp.display(),
                    pos.len
                ),
            )));
        }
        file.set_len(pos.len).map_err(err)?;
        let mut file = BufWriter::with_capacity(1 << 16, file);
        io::Seek::seek(&mut file, io::SeekFrom::End(0)).map_err(err)?;
        let out = Counted {
            file,
            bytes: pos.len,
        };
        Ok(Growing { path, temp, out })
    }

    /// Where the next row goes: the file's length so far, in bytes.
    fn offset(&self) -> u64 {
        self.out.bytes
    }

    /// The temporary file's rows from byte `from` on (from the start: after the header), with
    /// everything appended so far (flushes the buffer).
    fn rows_from(&mut self, from: u64) -> Result<Rows, OutputError> {
        let err = |e| output_error(&self.path, e);
        self.out.flush().map_err(err)?;
        let mut f = File::open(&self.temp).map_err(err)?;
        io::Seek::seek(&mut f, io::SeekFrom::Start(from)).map_err(err)?;
        let mut rows = Rows::new(f);
        if from == 0 {
            // The header, passed over whatever it holds (as `lines().skip(1)` would).
            let _ = rows.next_row();
        }
        Ok(rows)
    }

    /// An error about the row `line` of this file that cannot be read back.
    fn bad_row(&self, line: &str) -> OutputError {
        output_error(
            &self.path,
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unreadable row `{line}`"),
            ),
        )
    }
}

/// The rows of a file read back through one reused line buffer: the lines of
/// [`BufRead::lines`] (without their `\n` or `\r\n`, the last one with or without), with
/// no allocation per row.
struct Rows {
    reader: BufReader<File>,
    line: Vec<u8>,
}

impl Rows {
    /// The rows of `file` from where it stands.
    fn new(file: File) -> Rows {
        Rows {
            reader: BufReader::with_capacity(1 << 16, file),
            line: Vec::new(),
        }
    }

    /// The next row, `None` at the end of the file; a row that is not UTF-8 is the error of
    /// [`BufRead::read_line`].
    fn next_row(&mut self) -> io::Result<Option<&str>> {
        self.line.clear();
        if self.reader.read_until(b'\n', &mut self.line)? == 0 {
            return Ok(None);
        }
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
            if self.line.last() == Some(&b'\r') {
                self.line.pop();
            }
        }
        match std::str::from_utf8(&self.line) {
            Ok(line) => Ok(Some(line)),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            )),
        }
    }
}

/// The files of one run being written into a directory (see the module docs).
#[derive(Debug)]
pub struct RunWriter {
    dir: PathBuf,
    dims: usize,
    spikes: Growing,
    readout: Growing,
    state: Option<Growing>,
    at_spikes: Option<Growing>,
    /// The samples in binary, for the replays ([`SampleCopy`]), when it could be made (it
    /// also counts the rows of `readout.csv`, for a checkpoint).
    copy: Option<SampleCopy>,
    /// Finished (the files renamed), or to be kept unfinished: nothing to remove when dropped.
    done: bool,
    keep: bool,
}

impl RunWriter {
    /// Starts the files of a run in `dir` (created if missing): `readout.csv` of `dims`
    /// components (with the target's when `with_target`), and the state monitor's files when
    /// `state` gives its columns (and whether it samples at spikes).
    pub fn create(
        dir: &Path,
        dims: usize,
        with_target: bool,
        state: Option<(&[String], bool)>,
    ) -> Result<RunWriter, OutputError> {
        fs::create_dir_all(dir).map_err(|e| output_error(dir, e))?;
        let spikes = Growing::create(dir, SPIKES_CSV, |w| w.write_all(SPIKES_HEADER))?;
        let readout = Growing::create(dir, READOUT_CSV, |w| readout_header(w, dims, with_target))?;
        let mut writer = RunWriter {
            dir: dir.to_path_buf(),
            dims,
            spikes,
            readout,
            state: None,
            at_spikes: None,
            copy: SampleCopy::new(dir, 0),
            done: false,
            keep: false,
        };
        if let Some((columns, at_spikes)) = state {
            writer.state = Some(Growing::create(dir, STATE_CSV, |w| {
                state_header(w, columns)
            })?);
            if at_spikes {
                writer.at_spikes = Some(Growing::create(dir, STATE_AT_SPIKES_CSV, |w| {
                    at_spikes_header(w, columns)
                })?);
            }
        }
        Ok(writer)
    }

    /// Leaves the temporary files in place when dropped unfinished (a run with checkpoints:
    /// what a resumed run continues).
    pub(crate) fn keep_on_drop(&mut self) {
        self.keep = true;
    }

    /// Every file being written.
    fn growing(&self) -> impl Iterator<Item = &Growing> {
        [Some(&self.spikes), Some(&self.readout)]
            .into_iter()
            .chain([self.state.as_ref(), self.at_spikes.as_ref()])
            .flatten()
    }

    /// Syncs every file and tells where each stands (for a checkpoint).
    pub(crate) fn positions(&mut self) -> Result<Vec<FilePosition>, OutputError> {
        let readout = FilePosition {
            rows: self.copy.as_ref().map(SampleCopy::end),
            ..self.readout.position()?
        };
        let mut out = vec![self.spikes.position()?, readout];
        for g in [&mut self.state, &mut self.at_spikes].into_iter().flatten() {
            out.push(g.position()?);
        }
        Ok(out)
    }

    /// Continues the files of a run in `dir` from a checkpoint's `positions` (what was
    /// appended after it is cut off).
    pub(crate) fn reopen(
        dir: &Path,
        dims: usize,
        positions: &[FilePosition],
    ) -> Result<RunWriter, OutputError> {
        let find = |name: &str| positions.iter().find(|p| p.name == name);
        let missing = |name: &str| {
            output_error(
                &dir.join(name),
                io::Error::new(io::ErrorKind::NotFound, "not in the checkpoint"),
            )
        };
        let open = |name: &str| -> Result<Growing, OutputError> {
            Growing::reopen(dir, find(name).ok_or_else(|| missing(name))?)
        };
        Ok(RunWriter {
            dir: dir.to_path_buf(),
            dims,
            spikes: open(SPIKES_CSV)?,
            readout: open(READOUT_CSV)?,
            state: find(STATE_CSV)
                .map(|p| Growing::reopen(dir, p))
                .transpose()?,
            at_spikes: find(STATE_AT_SPIKES_CSV)
                .map(|p| Growing::reopen(dir, p))
                .transpose()?,
            copy: find(READOUT_CSV)
                .and_then(|p| p.rows)
                .and_then(|rows| SampleCopy::new(dir, rows)),
            done: false,
            keep: false,
        })
    }

    /// Appends a piece of the run: its spikes, readout samples and state samples, in order.
    pub fn append(
        &mut self,
        spikes: &[Spike],
        readout: Option<&Readout>,
        state: Option<&StateRecord>,
    ) -> Result<(), OutputError> {
        let r = spike_rows(&mut self.spikes.out, spikes);
        self.spikes.check(r)?;
        if let Some(readout) = readout {
            let r = readout_rows(&mut self.readout.out, readout);
            self.readout.check(r)?;
            if let Some(Err(e)) = self.copy.as_mut().map(|c| c.append(readout)) {
                // Only a faster path: the replays parse the file instead.
                tracing::debug!(error = %e, "binary copy of the readout dropped");
                self.copy = None;
            }
        }
        if let (Some(g), Some(s)) = (&mut self.state, state) {
            let r = state_rows(&mut g.out, s);
            g.check(r)?;
            if let (Some(g), Some(at)) = (&mut self.at_spikes, &s.at_spikes) {
                let r = at_spikes_rows(&mut g.out, s.columns.len(), at);
                g.check(r)?;
            }
        }
        Ok(())
    }

    /// Makes everything appended so far durable (the files stay temporary until
    /// [`RunWriter::finish`]); the replays read what was synced.
    pub fn sync(&mut self) -> Result<(), OutputError> {
        self.spikes.sync()?;
        self.readout.sync()?;
        for g in [&mut self.state, &mut self.at_spikes].into_iter().flatten() {
            g.sync()?;
        }
        Ok(())
    }

    /// The byte offsets in `spikes.csv` and `readout.csv` where the next rows go: a place to
    /// read back from ([`RunWriter::replay_spikes_from`], [`RunWriter::replay_samples_from`]).
    pub(crate) fn offsets(&self) -> (u64, u64) {
        (self.spikes.offset(), self.readout.offset())
    }

    /// Reads the spikes written so far back, in order, in pieces of up to 4096.
    pub fn replay_spikes(&mut self, f: impl FnMut(&[Spike])) -> Result<(), OutputError> {
        self.replay_spikes_from(0, f)
    }

    /// Reads the spikes written from byte `from` of `spikes.csv` on (an offset of
    /// [`RunWriter::offsets`]; 0: every spike) back, in order, in pieces of up to 4096.
    pub(crate) fn replay_spikes_from(
        &mut self,
        from: u64,
        mut f: impl FnMut(&[Spike]),
    ) -> Result<(), OutputError> {
        let mut piece = Vec::with_capacity(4096);
        let g = &mut self.spikes;
        let mut rows = g.rows_from(from)?;
        while let Some(line) = rows.next_row().map_err(|e| output_error(&g.path, e))? {
            let (t, n) = line.split_once(',').ok_or_else(|| g.bad_row(line))?;
            let time = t
                .parse::<f64>()
                .ok()
                .and_then(Time::new)
                .ok_or_else(|| g.bad_row(line))?;
            let neuron = n.parse::<u32>().map_err(|_| g.bad_row(line))?;
            piece.push(Spike { time, neuron });
            if piece.len() == 4096 {
                f(&piece);
                piece.clear();
            }
        }
        f(&piece);
        Ok(())
    }

    /// Reads the target `x` of every readout sample written so far back, in order (nothing
    /// when the readout has no target).
    pub fn replay_targets(&mut self, mut f: impl FnMut(&[f64])) -> Result<(), OutputError> {
        let d = self.dims;
        self.replay_samples_from(0, Some(0), |_, _, x| {
            if d > 0 && x.len() == d {
                f(x)
            }
        })
    }

    /// Reads the readout samples written from byte `from` of `readout.csv` on (an offset of
    /// [`RunWriter::offsets`]; 0: every sample) back, in order: time, `x̂` and the target `x`
    /// (empty without a target). `row` is the same place as a row number (0: the first
    /// sample), when known: the samples then come from their binary copy, when it holds them,
    /// with the same bits.
    pub(crate) fn replay_samples_from(
        &mut self,
        from: u64,
        row: Option<u64>,
        mut f: impl FnMut(f64, &[f64], &[f64]),
    ) -> Result<(), OutputError> {
        let d = self.dims;
        if let (Some(row), Some(copy)) = (row, &mut self.copy) {
            if copy.holds(row) {
                return copy.replay_from(row, d, f).map_err(|e| {
                    let e = io::Error::new(e.kind(), format!("its binary copy: {e}"));
                    output_error(&self.readout.path, e)
                });
            }
        }
        let mut row = Vec::with_capacity(1 + 2 * d);
        let g = &mut self.readout;
        let mut rows = g.rows_from(from)?;
        while let Some(line) = rows.next_row().map_err(|e| output_error(&g.path, e))? {
            row.clear();
            for field in line.split(',') {
                row.push(field.parse::<f64>().map_err(|_| g.bad_row(line))?);
            }
            if row.len() != 1 + d && row.len() != 1 + 2 * d {
                return Err(g.bad_row(line));
            }
            f(row[0], &row[1..1 + d], &row[1 + d..]);
        }
        Ok(())
    }

    /// Completes the run: syncs and renames the growing files, writes `network.json`, removes
    /// the files of other runs (the run outputs not written now), writes `summary.json` and
    /// then removes the checkpoint (the last step: a run killed before it is resumable, after it
    /// complete). The files named in `also` (written into the directory by the caller before)
    /// are kept.
    pub fn finish(
        mut self,
        network: &Network,
        summary: &Summary,
        also: &[&str],
    ) -> Result<(), OutputError> {
        self.sync()?;
        let mut keep = vec![SPIKES_CSV, READOUT_CSV, NETWORK_JSON, SUMMARY_JSON];
        keep.extend_from_slice(also);
        for g in self.growing() {
            fs::rename(&g.temp, &g.path).map_err(|e| output_error(&g.path, e))?;
        }
        self.done = true;
        if self.state.is_some() {
            keep.push(STATE_CSV);
        }
        if self.at_spikes.is_some() {
            keep.push(STATE_AT_SPIKES_CSV);
        }
        sync_dir(&self.dir);
        NetworkFile::of(network).write(&self.dir.join(NETWORK_JSON))?;
        remove_stale_outputs(&self.dir, &keep)?;
        write_json(&self.dir.join(SUMMARY_JSON), summary)?;
        // Last: killed before, the run resumes from its checkpoint; after, its files are
        // complete (`OutputDir::resume` commits them as they are).
        remove_checkpoint(&self.dir);
        Ok(())
    }
}

/// Removes a completed run's checkpoint from its directory `dir`, and the temporary files
/// (`.NAME.PID.N.tmp`, NAME a run output or the checkpoint) a killed writer left there.
pub(crate) fn remove_checkpoint(dir: &Path) {
    let _ = fs::remove_file(dir.join(crate::checkpoint::RUN_CHECKPOINT));
    let ours = |name: &str| {
        let inner = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp"));
        inner.is_some_and(|n| {
            crate::io::record::RUN_OUTPUTS
                .iter()
                .chain([&crate::checkpoint::RUN_CHECKPOINT])
                .any(|o| n.starts_with(&format!("{o}.")))
        })
    };
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if ours(&name) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

impl Drop for RunWriter {
    /// A run that did not finish leaves no temporary file behind.
    fn drop(&mut self) {
        if !self.done && !self.keep {
            for g in self.growing() {
                let _ = fs::remove_file(&g.temp);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_the_lines_of_buf_read() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("rows.csv");
        for text in [
            "",
            "a",
            "a\n",
            "a\r\nb\n",
            "a\nb",
            "a\r\nb\r\n\n\r\nc\r",
            "x\ry\n\n",
            "1,2\n3,4\r\n5,6",
        ] {
            fs::write(&path, text).unwrap();
            let expected: Vec<String> = BufReader::new(File::open(&path).unwrap())
                .lines()
                .map(Result::unwrap)
                .collect();
            let mut rows = Rows::new(File::open(&path).unwrap());
            let mut got = Vec::new();
            while let Some(line) = rows.next_row().unwrap() {
                got.push(line.to_string());
            }
            assert_eq!(got, expected, "{text:?}");
        }
        // A row that is not UTF-8: the same error, and the rows after it still come.
        fs::write(&path, b"a\n\xff1\r\nb").unwrap();
        let expected: Vec<Result<String, String>> = BufReader::new(File::open(&path).unwrap())
            .lines()
            .map(|l| l.map_err(|e| format!("{:?}: {e}", e.kind())))
            .collect();
        let mut rows = Rows::new(File::open(&path).unwrap());
        let mut got = Vec::new();
        loop {
            match rows.next_row() {
                Ok(Some(line)) => got.push(Ok(line.to_string())),
                Ok(None) => break,
                Err(e) => got.push(Err(format!("{:?}: {e}", e.kind()))),
            }
        }
        assert_eq!(got, expected);
        assert!(got[1].is_err());
    }

    #[test]
    fn spikes_and_samples_read_back_as_written() {
        let tmp = tempfile::tempdir().unwrap();
        let mut w = RunWriter::create(tmp.path(), 1, true, None).unwrap();
        let spike = |t: f64, neuron: u32| Spike {
            time: Time::new(t).unwrap(),
            neuron,
        };
        let first: Vec<Spike> = (0..5000).map(|i| spike(i as f64 * 1e-3, i % 7)).collect();
        w.append(&first, None, None).unwrap();
        let (from, _) = w.offsets();
        let second = vec![spike(5.5, 3), spike(6.25, 0)];
        let readout = Readout {
            dims: 1,
            times: vec![0.0, 0.5],
            xhat: vec![1.5, -2.0],
            x: Some(vec![0.25, 3.0]),
        };
        w.append(&second, Some(&readout), None).unwrap();
        let mut all = Vec::new();
        w.replay_spikes(|p| all.extend_from_slice(p)).unwrap();
        assert_eq!(all, [first, second.clone()].concat());
        let mut tail = Vec::new();
        w.replay_spikes_from(from, |p| tail.extend_from_slice(p))
            .unwrap();
        assert_eq!(tail, second);
        let mut samples = Vec::new();
        w.replay_samples_from(0, None, |t, xh, x| {
            samples.push((t, xh.to_vec(), x.to_vec()))
        })
        .unwrap();
        assert_eq!(
            samples,
            [(0.0, vec![1.5], vec![0.25]), (0.5, vec![-2.0], vec![3.0])]
        );
        // The same from the binary copy, from the start and from the second row.
        assert!(w.copy.is_some());
        let mut copied = Vec::new();
        w.replay_samples_from(0, Some(0), |t, xh, x| {
            copied.push((t, xh.to_vec(), x.to_vec()))
        })
        .unwrap();
        assert_eq!(copied, samples);
        copied.clear();
        w.replay_samples_from(u64::MAX, Some(1), |t, xh, x| {
            copied.push((t, xh.to_vec(), x.to_vec()))
        })
        .unwrap();
        assert_eq!(copied, samples[1..]);
        // A row that cannot be read back names the file and the row.
        w.spikes.out.write_all(b"0.5;1\n").unwrap();
        let err = w.replay_spikes(|_| {}).unwrap_err();
        assert!(err.path.ends_with(SPIKES_CSV), "{err:?}");
        assert!(
            err.source.to_string().contains("unreadable row `0.5;1`"),
            "{err}"
        );
    }
}
