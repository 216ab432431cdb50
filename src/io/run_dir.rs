//! Reading a run directory back: `readout.csv`, `spikes.csv`, `learning_curve.csv` and the
//! parts of `summary.json` that figures need (sizes and the `phases` list).
//!
//! Why: `ebnsim plot RUN_DIR` draws a run that finished earlier, possibly written by another
//! version or edited by hand, so every file is checked against the format its writer produces
//! ([`crate::io::record`], [`crate::learning::protocol`]; docs/model-format.md) and a file that does not match
//! gives a [`RunDirError`] naming the file, the line (or JSON field) and what was expected —
//! never a panic. A file that is simply absent is not an error: [`read_run_dir`] reports it as
//! `None`, and the caller draws what the other files allow.

use crate::engine::Spike;
use crate::io::record::{Readout, READOUT_CSV, SPIKES_CSV, SUMMARY_JSON};
use crate::learning::protocol::{CurvePoint, PhaseReport, LEARNING_CURVE_CSV};
use crate::time::Time;
use std::io;
use std::path::{Path, PathBuf};

/// A run-directory file that could not be read or does not have the expected format.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunDirError {
    /// The file exists but could not be read (permissions, not UTF-8, ...).
    #[error("{file}: cannot read: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A line of a CSV file that does not match its format.
    #[error("{file}: line {line}: expected {expected}, got {got}")]
    Csv {
        /// The file.
        file: PathBuf,
        /// 1-based line number (the header is line 1).
        line: usize,
        /// What the line should contain.
        expected: String,
        /// What it contains (shortened when long).
        got: String,
    },
    /// A JSON file that does not parse, or a field of the wrong type or missing.
    #[error("{file}: `{field}`: expected {expected}, got {got}")]
    Json {
        /// The file.
        file: PathBuf,
        /// Path of the field (`phases[1].start_time`; empty for the whole document).
        field: String,
        /// What the field should contain.
        expected: String,
        /// What it contains.
        got: String,
    },
    /// A directory with none of the files of a run.
    #[error(
        "{dir}: expected a run directory (with readout.csv, spikes.csv, learning_curve.csv or \
         summary.json), found none of them"
    )]
    NotARunDir {
        /// The directory.
        dir: PathBuf,
    },
}

/// One phase of a learning run as far as drawing is concerned: an entry of `summary.json`'s
/// `phases` list (or a [`PhaseReport`]).
#[derive(Clone, Debug, PartialEq)]
pub struct PhaseSpan {
    /// The phase's name.
    pub name: String,
    /// Start time, s (absolute).
    pub start: f64,
    /// Duration, s.
    pub duration: f64,
    /// Feedback gain K, 1/s.
    pub feedback_gain: f64,
    /// Learning rate η (0: no learning in this phase).
    pub learning_rate: f64,
}

impl PhaseSpan {
    /// End time, s.
    pub fn end(&self) -> f64 {
        self.start + self.duration
    }

    /// Whether the weights learn during this phase (η > 0).
    pub fn is_training(&self) -> bool {
        self.learning_rate > 0.0
    }
}

impl From<&PhaseReport> for PhaseSpan {
    fn from(p: &PhaseReport) -> Self {
        PhaseSpan {
            name: p.name.clone(),
            start: p.start_time,
            duration: p.duration,
            feedback_gain: p.feedback_gain,
            learning_rate: p.learning_rate,
        }
    }
}

/// What figures need from `summary.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// Number of neurons N.
    pub neurons: usize,
    /// Number of dimensions d.
    pub dims: usize,
    /// Simulated duration, s.
    pub duration: f64,
    /// The phases of a learning run, in order (empty for `ebnsim run` on a plain model).
    pub phases: Vec<PhaseSpan>,
}

/// The files of a run directory that exist, each read and checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunFiles {
    /// `readout.csv`.
    pub readout: Option<Readout>,
    /// `spikes.csv`.
    pub spikes: Option<Vec<Spike>>,
    /// `learning_curve.csv` (learning runs).
    pub curve: Option<Vec<CurvePoint>>,
    /// `summary.json`.
    pub summary: Option<RunSummary>,
}

/// Reads every run file present in `dir` ([`READOUT_CSV`], [`SPIKES_CSV`],
/// `LEARNING_CURVE_CSV`, [`SUMMARY_JSON`]); absent files are `None`. Fails on the first
/// malformed file, or with [`RunDirError::NotARunDir`] when none is present.
pub fn read_run_dir(dir: &Path) -> Result<RunFiles, RunDirError> {
    fn opt<T>(
        path: PathBuf,
        read: impl FnOnce(&Path) -> Result<T, RunDirError>,
    ) -> Result<Option<T>, RunDirError> {
        if path.is_file() {
            read(&path).map(Some)
        } else {
            Ok(None)
        }
    }
    let files = RunFiles {
        readout: opt(dir.join(READOUT_CSV), read_readout)?,
        spikes: opt(dir.join(SPIKES_CSV), read_spikes)?,
        curve: opt(dir.join(LEARNING_CURVE_CSV), read_learning_curve)?,
        summary: opt(dir.join(SUMMARY_JSON), read_summary)?,
    };
    if files == RunFiles::default() {
        return Err(RunDirError::NotARunDir {
            dir: dir.to_path_buf(),
        });
    }
    Ok(files)
}

fn read_text(path: &Path) -> Result<String, RunDirError> {
    std::fs::read_to_string(path).map_err(|source| RunDirError::Io {
        file: path.to_path_buf(),
        source,
    })
}

/// At most 60 characters of `s`, for error messages.
fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    format!("`{out}`")
}

/// A CSV file's lines after the header, checked for the header, non-empty and with `columns`
/// fields; yields (1-based line number, fields).
struct CsvRows<'a> {
    file: &'a Path,
    lines: std::iter::Enumerate<std::str::Lines<'a>>,
    columns: usize,
}

impl<'a> CsvRows<'a> {
    fn err(&self, line: usize, expected: impl Into<String>, got: &str) -> RunDirError {
        RunDirError::Csv {
            file: self.file.to_path_buf(),
            line,
            expected: expected.into(),
            got: shorten(got),
        }
    }

    fn next_row(&mut self) -> Option<Result<(usize, Vec<&'a str>), RunDirError>> {
        let (i, line) = self.lines.next()?;
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != self.columns {
            return Some(Err(self.err(
                i + 1,
                format!("{} comma-separated fields", self.columns),
                line,
            )));
        }
        Some(Ok((i + 1, fields)))
    }

    fn number(&self, line: usize, field: &str, what: &str) -> Result<f64, RunDirError> {
        field
            .trim()
            .parse::<f64>()
            .map_err(|_| self.err(line, format!("a number ({what})"), field))
    }
}

/// Splits `text` into its header (line 1) and rows; the header must be present.
fn csv<'a>(
    file: &'a Path,
    text: &'a str,
    header_hint: &str,
) -> Result<(&'a str, CsvRows<'a>), RunDirError> {
    let mut lines = text.lines().enumerate();
    let header = match lines.next() {
        Some((_, h)) if !h.is_empty() => h,
        _ => {
            return Err(RunDirError::Csv {
                file: file.to_path_buf(),
                line: 1,
                expected: format!("the header `{header_hint}`"),
                got: "an empty file".into(),
            })
        }
    };
    Ok((
        header,
        CsvRows {
            file,
            lines,
            columns: header.split(',').count(),
        },
    ))
}

/// Reads `readout.csv`: header `time,xhat0,…,xhat{d-1}` optionally followed by
/// `,x0,…,x{d-1}` (the target), then one row of numbers per sample, times finite and
/// non-decreasing.
pub(crate) fn read_readout(path: &Path) -> Result<Readout, RunDirError> {
    let text = read_text(path)?;
    let hint = "time,xhat0,…,xhat{d-1}[,x0,…,x{d-1}]";
    let (header, mut rows) = csv(path, &text, hint)?;
    let names: Vec<&str> = header.split(',').collect();
    let d = names.iter().filter(|n| n.starts_with("xhat")).count();
    let with_target = names.len() == 1 + 2 * d;
    let header_ok = d > 0
        && names[0] == "time"
        && (names.len() == 1 + d || with_target)
        && (0..d).all(|j| names[1 + j] == format!("xhat{j}"))
        && (!with_target || (0..d).all(|j| names[1 + d + j] == format!("x{j}")));
    if !header_ok {
        return Err(rows.err(1, format!("the header `{hint}`"), header));
    }
    let mut readout = Readout::new(d, with_target);
    let mut prev = f64::NEG_INFINITY;
    while let Some(row) = rows.next_row() {
        let (line, fields) = row?;
        let t = rows.number(line, fields[0], "time in seconds")?;
        if !t.is_finite() || t < prev {
            return Err(rows.err(
                line,
                format!("a finite time not before the previous one ({prev} s)"),
                fields[0],
            ));
        }
        prev = t;
        let mut v = Vec::with_capacity(fields.len() - 1);
        for (k, f) in fields[1..].iter().enumerate() {
            v.push(rows.number(line, f, names[1 + k])?);
        }
        let (xhat, x) = v.split_at(d);
        readout.push(t, xhat, with_target.then_some(x));
    }
    Ok(readout)
}

/// Reads `spikes.csv`: header `time,neuron`, then one row per spike (time in seconds, finite;
/// neuron a 0-based index).
pub(crate) fn read_spikes(path: &Path) -> Result<Vec<Spike>, RunDirError> {
    let text = read_text(path)?;
    let (header, mut rows) = csv(path, &text, "time,neuron")?;
    if header != "time,neuron" {
        return Err(rows.err(1, "the header `time,neuron`", header));
    }
    let mut spikes = Vec::new();
    while let Some(row) = rows.next_row() {
        let (line, fields) = row?;
        let t = rows.number(line, fields[0], "spike time in seconds")?;
        if !t.is_finite() {
            return Err(rows.err(line, "a finite spike time", fields[0]));
        }
        let neuron = fields[1]
            .trim()
            .parse::<u32>()
            .map_err(|_| rows.err(line, "a neuron index (integer ≥ 0)", fields[1]))?;
        spikes.push(Spike {
            time: Time::from_secs(t),
            neuron,
        });
    }
    Ok(spikes)
}

/// Reads `learning_curve.csv`: header `time,phase,field_error,window_nrmse`, then one row per
/// point (time finite; phase a 0-based index; the errors numbers, `NaN` allowed).
pub(crate) fn read_learning_curve(path: &Path) -> Result<Vec<CurvePoint>, RunDirError> {
    let hint = "time,phase,field_error,window_nrmse";
    let text = read_text(path)?;
    let (header, mut rows) = csv(path, &text, hint)?;
    if header != hint {
        return Err(rows.err(1, format!("the header `{hint}`"), header));
    }
    let mut curve = Vec::new();
    while let Some(row) = rows.next_row() {
        let (line, fields) = row?;
        let time = rows.number(line, fields[0], "time in seconds")?;
        if !time.is_finite() {
            return Err(rows.err(line, "a finite time", fields[0]));
        }
        let phase = fields[1]
            .trim()
            .parse::<usize>()
            .map_err(|_| rows.err(line, "a phase index (integer ≥ 0)", fields[1]))?;
        curve.push(CurvePoint {
            time,
            phase,
            field_error: rows.number(line, fields[2], "field_error")?,
            window_nrmse: rows.number(line, fields[3], "window_nrmse")?,
        });
    }
    Ok(curve)
}

/// Reads the fields figures need from `summary.json`: `neurons`, `dims`, `duration` and, when
/// present, `phases` (each with `name`, `start_time`, `duration`, and optionally
/// `feedback_gain` and `learning_rate`, 0 when absent).
pub(crate) fn read_summary(path: &Path) -> Result<RunSummary, RunDirError> {
    let text = read_text(path)?;
    let err = |field: &str, expected: &str, got: String| RunDirError::Json {
        file: path.to_path_buf(),
        field: field.to_string(),
        expected: expected.to_string(),
        got,
    };
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| err("", "a JSON document", format!("a syntax error ({e})")))?;
    let show = |v: Option<&serde_json::Value>| {
        v.map_or("nothing (missing)".to_string(), |v| shorten(&v.to_string()))
    };
    let count = |field: &str| {
        let v = doc.get(field);
        v.and_then(|v| v.as_u64())
            .map(|n| n as usize)
            .ok_or_else(|| err(field, "an integer ≥ 0", show(v)))
    };
    let num = |obj: &serde_json::Value, key: &str, field: &str, default: Option<f64>| match (
        obj.get(key),
        default,
    ) {
        (None, Some(d)) => Ok(d),
        (v, _) => v
            .and_then(|v| v.as_f64())
            .filter(|x| x.is_finite())
            .ok_or_else(|| err(field, "a finite number", show(v))),
    };
    let neurons = count("neurons")?;
    let most = crate::io::model_file::MAX_NEURONS;
    if neurons > most {
        return Err(err(
            "neurons",
            &format!("at most {most} neurons (the largest network a model file may ask for)"),
            show(doc.get("neurons")),
        ));
    }
    let dims = count("dims")?;
    let duration = num(&doc, "duration", "duration", None)?;
    let mut phases = Vec::new();
    match doc.get("phases") {
        None => {}
        Some(serde_json::Value::Array(list)) => {
            for (i, p) in list.iter().enumerate() {
                let f = |key: &str| format!("phases[{i}].{key}");
                let name = p.get("name");
                phases.push(PhaseSpan {
                    name: name
                        .and_then(|v| v.as_str())
                        .ok_or_else(|| err(&f("name"), "a string", show(name)))?
                        .to_string(),
                    start: num(p, "start_time", &f("start_time"), None)?,
                    duration: num(p, "duration", &f("duration"), None)?,
                    feedback_gain: num(p, "feedback_gain", &f("feedback_gain"), Some(0.0))?,
                    learning_rate: num(p, "learning_rate", &f("learning_rate"), Some(0.0))?,
                });
            }
        }
        Some(other) => return Err(err("phases", "a list", show(Some(other)))),
    }
    Ok(RunSummary {
        neurons,
        dims,
        duration,
        phases,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn round_trips_the_writers() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Readout::new(2, true);
        r.push(0.0, &[0.1, -0.2], Some(&[1.0 / 3.0, 0.0]));
        r.push(0.001, &[0.3, 0.4], Some(&[0.5, f64::NAN]));
        let p = dir.path().join(READOUT_CSV);
        crate::io::record::write_readout_csv(&p, &r).unwrap();
        let back = read_readout(&p).unwrap();
        assert_eq!(back.dims, 2);
        assert_eq!(back.times, r.times);
        assert_eq!(back.xhat, r.xhat);
        let x = back.x.unwrap();
        assert_eq!(x[..3], r.x.as_ref().unwrap()[..3]);
        assert!(x[3].is_nan());

        let spikes = vec![
            Spike {
                time: Time::from_secs(0.1 + 0.2),
                neuron: 7,
            },
            Spike {
                time: Time::from_secs(1.5),
                neuron: 0,
            },
        ];
        let p = dir.path().join(SPIKES_CSV);
        crate::io::record::write_spikes_csv(&p, &spikes).unwrap();
        assert_eq!(read_spikes(&p).unwrap(), spikes);

        let curve = vec![CurvePoint {
            time: 2.0,
            phase: 1,
            field_error: 0.5,
            window_nrmse: f64::NAN,
        }];
        let p = dir.path().join(LEARNING_CURVE_CSV);
        crate::learning::protocol::write_learning_curve(&p, &curve).unwrap();
        let back = read_learning_curve(&p).unwrap();
        assert_eq!(
            (back[0].time, back[0].phase, back[0].field_error),
            (2.0, 1, 0.5)
        );
        assert!(back[0].window_nrmse.is_nan());
    }

    #[test]
    fn readout_without_target_and_bad_headers() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "r.csv", "time,xhat0\n0,1\n0.5,2\n");
        let r = read_readout(&p).unwrap();
        assert_eq!((r.dims, r.len(), r.x.is_none()), (1, 2, true));
        for bad in [
            "",
            "t,xhat0\n",
            "time\n",
            "time,xhat0,x1\n",
            "time,xhat1,xhat0\n",
            "time,xhat0,xhat1,x0\n",
        ] {
            let p = write(dir.path(), "r.csv", bad);
            let e = read_readout(&p).unwrap_err();
            assert!(
                matches!(e, RunDirError::Csv { line: 1, .. }),
                "{bad:?}: {e}"
            );
            assert!(e.to_string().contains("r.csv"), "{e}");
        }
    }

    #[test]
    fn malformed_rows_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, &str, usize, &str); 7] = [
            (
                "readout.csv",
                "time,xhat0\n0,1\n0.1\n",
                3,
                "2 comma-separated",
            ),
            ("readout.csv", "time,xhat0\n0,1\n0.1,abc\n", 3, "xhat0"),
            ("readout.csv", "time,xhat0\n0.2,1\n0.1,1\n", 3, "not before"),
            ("spikes.csv", "time,neuron\n0.1,-3\n", 2, "neuron index"),
            ("spikes.csv", "time,neuron\ninf,3\n", 2, "finite"),
            (
                "learning_curve.csv",
                "time,phase,field_error,window_nrmse\n1,0,x,1\n",
                2,
                "field_error",
            ),
            ("learning_curve.csv", "time,phase\n", 1, "header"),
        ];
        for (name, text, line, what) in cases {
            let p = write(dir.path(), name, text);
            let e = match name {
                "readout.csv" => read_readout(&p).map(|_| ()),
                "spikes.csv" => read_spikes(&p).map(|_| ()),
                _ => read_learning_curve(&p).map(|_| ()),
            }
            .unwrap_err();
            let msg = e.to_string();
            assert!(
                matches!(e, RunDirError::Csv { line: l, .. } if l == line),
                "{text:?}: {msg}"
            );
            assert!(msg.contains(name) && msg.contains(what), "{msg}");
        }
    }

    #[test]
    fn summary_phases_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            SUMMARY_JSON,
            r#"{"neurons": 50, "dims": 2, "duration": 3.5, "phases": [
                {"name": "train", "start_time": 0, "duration": 3, "learning_rate": 100,
                 "feedback_gain": 30, "nrmse": 0.1},
                {"name": "free", "start_time": 3, "duration": 0.5}]}"#,
        );
        let s = read_summary(&p).unwrap();
        assert_eq!((s.neurons, s.dims, s.duration), (50, 2, 3.5));
        assert_eq!(s.phases.len(), 2);
        assert!(s.phases[0].is_training() && !s.phases[1].is_training());
        assert_eq!(s.phases[1].end(), 3.5);
        for (text, field) in [
            ("{", ""),
            (r#"{"dims": 2, "duration": 1}"#, "neurons"),
            (
                r#"{"neurons": 2, "dims": 1, "duration": 1, "phases": 3}"#,
                "phases",
            ),
            (
                r#"{"neurons": 2, "dims": 1, "duration": 1, "phases": [{"name": "a", "duration": 1}]}"#,
                "phases[0].start_time",
            ),
        ] {
            let p = write(dir.path(), SUMMARY_JSON, text);
            let e = read_summary(&p).unwrap_err();
            assert!(
                matches!(&e, RunDirError::Json { field: f, .. } if f == field),
                "{text}: {e}"
            );
            assert!(e.to_string().contains(SUMMARY_JSON), "{e}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        let dir = tempfile::tempdir().unwrap();
        let garbage: [&[u8]; 5] = [
            b"\xff\xfe\x00garbage",
            b"time,xhat0,x0\n1,2,3,4,5\n,,\n",
            b"time,neuron\n\n\n",
            b",,,,\n,,,,\n",
            b"time,xhat0,xhat1,x0,x1\n0,1,2,3,4\n0.001,NaN,inf,-inf,1e308\n0.002,1,2",
        ];
        for g in garbage {
            for name in [READOUT_CSV, SPIKES_CSV, LEARNING_CURVE_CSV, SUMMARY_JSON] {
                let p = dir.path().join(name);
                std::fs::write(&p, g).unwrap();
                let r = match name {
                    READOUT_CSV => read_readout(&p).map(|_| ()),
                    SPIKES_CSV => read_spikes(&p).map(|_| ()),
                    LEARNING_CURVE_CSV => read_learning_curve(&p).map(|_| ()),
                    _ => read_summary(&p).map(|_| ()),
                };
                let e = r.unwrap_err();
                assert!(e.to_string().contains(name), "{e}");
            }
        }
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_run_dir(empty.path()),
            Err(RunDirError::NotARunDir { .. })
        ));
    }
}
