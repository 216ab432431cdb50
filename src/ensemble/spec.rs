//! Sweep spec files: the model, the seeds, the varied fields; and setting a field of a model
//! file's TOML tree by its path.

use std::path::{Path, PathBuf};

use super::SweepError;
use crate::io::model_file;

/// Most runs a spec may ask for (seeds × values).
pub(crate) const MAX_RUNS: usize = 10_000_000;

/// A sweep spec, read and checked (every run's model is built by [`super::Ensemble::new`]).
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSpec {
    /// The spec file (used in messages).
    pub file: PathBuf,
    /// The model file, resolved against the spec file's directory.
    pub model: PathBuf,
    /// The seeds, in the spec's order.
    pub seeds: Vec<u64>,
    /// The varied fields, in the spec's order (the last varies fastest).
    pub vary: Vec<Vary>,
    /// Whether the model file is a learning model (`[basis]` and `[[phase]]`).
    pub learning: bool,
    /// The model file's text.
    pub(crate) text: String,
}

/// One `[[vary]]` entry: a numeric model field and the values it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Vary {
    /// The field's path in the model file: table keys joined by `.`, array elements by index
    /// (`network.mu`, `phase.3.kill_fraction`).
    pub field: String,
    /// Its values (finite, at least one).
    pub values: Vec<f64>,
}

/// One run of a sweep: its global number, seed and the varied fields' values.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// Run number, from 0, in the order seeds × values (last field fastest).
    pub index: usize,
    /// The seed the model is drawn with (as `ebnsim run MODEL --seed S`).
    pub seed: u64,
    /// One value per varied field, in the spec's order.
    pub values: Vec<f64>,
}

impl SweepSpec {
    /// Reads and checks the spec file at `path` and reads the model file it names.
    ///
    /// Errors: [`SweepError::Io`] when the spec cannot be read, [`SweepError::Syntax`] for text
    /// that is not TOML, [`SweepError::Field`] for a missing, unknown or malformed key,
    /// [`SweepError::Model`] (context: field `model`) when the model file cannot be read.
    pub fn load(path: &Path) -> Result<SweepSpec, SweepError> {
        let text = std::fs::read_to_string(path).map_err(|source| SweepError::Io {
            file: path.to_path_buf(),
            source,
        })?;
        SweepSpec::parse(&text, path)
    }

    /// As [`SweepSpec::load`], from the spec's text; `file` names it in messages and its
    /// directory is where a relative `model` is looked up.
    pub fn parse(text: &str, file: &Path) -> Result<SweepSpec, SweepError> {
        let field = |field: &str, expected: &str, got: String| SweepError::Field {
            file: file.to_path_buf(),
            field: field.to_owned(),
            expected: expected.to_owned(),
            got,
        };
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| SweepError::Syntax {
                file: file.to_path_buf(),
                message: e.to_string(),
            })?;
        for key in table.keys() {
            if !matches!(key.as_str(), "model" | "seeds" | "vary") {
                return Err(field(
                    key,
                    "one of the keys `model`, `seeds`, `vary`",
                    format!("unknown key `{key}`"),
                ));
            }
        }
        let model = match table.get("model") {
            Some(toml::Value::String(s)) if !s.is_empty() => s.clone(),
            Some(v) => return Err(field("model", "a model file name", describe(v))),
            None => return Err(field("model", "a model file name", "nothing".into())),
        };
        let model = file.parent().unwrap_or(Path::new("")).join(model);
        let seeds = parse_seeds(table.get("seeds"), &field)?;
        let mut vary: Vec<Vary> = Vec::new();
        match table.get("vary") {
            None => {}
            Some(toml::Value::Array(entries)) => {
                for (i, e) in entries.iter().enumerate() {
                    let v = parse_vary(e, i, &field)?;
                    if vary.iter().any(|w| w.field == v.field) {
                        return Err(field(
                            &format!("vary[{i}].field"),
                            "a field not varied already",
                            format!("`{}` a second time", v.field),
                        ));
                    }
                    vary.push(v);
                }
            }
            Some(v) => {
                return Err(field(
                    "vary",
                    "[[vary]] tables with `field` and `values`",
                    describe(v),
                ))
            }
        }
        let runs = vary
            .iter()
            .try_fold(seeds.len(), |n, v| n.checked_mul(v.values.len()))
            .filter(|&n| n <= MAX_RUNS);
        if runs.is_none() {
            return Err(field(
                "vary",
                &format!("at most {MAX_RUNS} runs (seeds × values)"),
                "more".into(),
            ));
        }
        let text = std::fs::read_to_string(&model).map_err(|source| SweepError::Model {
            spec: file.to_path_buf(),
            context: "field `model`".into(),
            source: Box::new(crate::error::ModelError::Io {
                file: model.clone(),
                source,
            }),
        })?;
        Ok(SweepSpec {
            file: file.to_path_buf(),
            learning: model_file::is_learning_model(&text),
            model,
            seeds,
            vary,
            text,
        })
    }

    /// Number of runs: seeds × the number of values of every varied field.
    pub fn len(&self) -> usize {
        self.vary
            .iter()
            .fold(self.seeds.len(), |n, v| n * v.values.len())
    }

    /// Whether the sweep has no runs (never, for a checked spec).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Run `index`: its seed and values (`index < self.len()`).
    pub fn run(&self, index: usize) -> RunSpec {
        let mut rest = index;
        let mut values = vec![0.0; self.vary.len()];
        for (slot, v) in values.iter_mut().zip(&self.vary).rev() {
            *slot = v.values[rest % v.values.len()];
            rest /= v.values.len();
        }
        RunSpec {
            index,
            seed: self.seeds[rest % self.seeds.len()],
            values,
        }
    }

    /// Every run, in run order.
    pub fn runs(&self) -> impl Iterator<Item = RunSpec> + '_ {
        (0..self.len()).map(|i| self.run(i))
    }

    /// The model file's text with the varied fields set to `values` (the file's own text when
    /// nothing is varied).
    pub fn model_text(&self, values: &[f64]) -> Result<String, SweepError> {
        if self.vary.is_empty() {
            return Ok(self.text.clone());
        }
        let mut table: toml::Table =
            self.text
                .parse()
                .map_err(|e: toml::de::Error| SweepError::Model {
                    spec: self.file.clone(),
                    context: "the model file".into(),
                    source: Box::new(crate::error::ModelError::Syntax {
                        file: self.model.clone(),
                        message: e.to_string(),
                    }),
                })?;
        for (v, &x) in self.vary.iter().zip(values) {
            set_field(&mut table, &v.field, x).map_err(|(expected, got)| SweepError::Field {
                file: self.file.clone(),
                field: v.field.clone(),
                expected,
                got,
            })?;
        }
        Ok(toml::to_string(&table).unwrap_or_default())
    }
}

fn parse_seeds(
    v: Option<&toml::Value>,
    field: &impl Fn(&str, &str, String) -> SweepError,
) -> Result<Vec<u64>, SweepError> {
    const EXPECTED: &str =
        "a non-empty array of distinct seeds (integers ≥ 0) or { from = A, to = B }";
    let seed = |v: &toml::Value, at: &str| match v {
        toml::Value::Integer(i) if *i >= 0 => Ok(*i as u64),
        v => Err(field(at, "a seed (an integer ≥ 0)", describe(v))),
    };
    let seeds = match v {
        None => return Err(field("seeds", EXPECTED, "nothing".into())),
        Some(toml::Value::Array(a)) => {
            let mut out = Vec::with_capacity(a.len());
            for (i, s) in a.iter().enumerate() {
                let s = seed(s, &format!("seeds[{i}]"))?;
                if out.contains(&s) {
                    return Err(field(
                        &format!("seeds[{i}]"),
                        "distinct seeds",
                        format!("{s} a second time"),
                    ));
                }
                out.push(s);
            }
            out
        }
        Some(toml::Value::Table(t)) => {
            if let Some(k) = t.keys().find(|k| !matches!(k.as_str(), "from" | "to")) {
                return Err(field(
                    &format!("seeds.{k}"),
                    "only `from` and `to`",
                    format!("unknown key `{k}`"),
                ));
            }
            let get = |k: &str| match t.get(k) {
                Some(v) => seed(v, &format!("seeds.{k}")),
                None => Err(field(&format!("seeds.{k}"), "a seed", "nothing".into())),
            };
            let (from, to) = (get("from")?, get("to")?);
            if to < from || to - from >= MAX_RUNS as u64 {
                return Err(field(
                    "seeds",
                    &format!("from ≤ to, at most {MAX_RUNS} seeds"),
                    format!("from = {from}, to = {to}"),
                ));
            }
            (from..=to).collect()
        }
        Some(v) => return Err(field("seeds", EXPECTED, describe(v))),
    };
    if seeds.is_empty() {
        return Err(field("seeds", EXPECTED, "an empty array".into()));
    }
    Ok(seeds)
}

fn parse_vary(
    e: &toml::Value,
    i: usize,
    field: &impl Fn(&str, &str, String) -> SweepError,
) -> Result<Vary, SweepError> {
    let at = format!("vary[{i}]");
    let toml::Value::Table(t) = e else {
        return Err(field(&at, "a table with `field` and `values`", describe(e)));
    };
    if let Some(k) = t.keys().find(|k| !matches!(k.as_str(), "field" | "values")) {
        return Err(field(
            &format!("{at}.{k}"),
            "only `field` and `values`",
            format!("unknown key `{k}`"),
        ));
    }
    let name = match t.get("field") {
        Some(toml::Value::String(s)) if valid_path(s) => s.clone(),
        Some(v) => {
            return Err(field(
                &format!("{at}.field"),
                "a field path such as \"network.mu\" or \"phase.3.kill_fraction\"",
                describe(v),
            ))
        }
        None => {
            return Err(field(
                &format!("{at}.field"),
                "a field path",
                "nothing".into(),
            ))
        }
    };
    if name == "seed" {
        return Err(field(
            &name,
            "a model field other than `seed` (list the seeds in `seeds`)",
            "`seed`".into(),
        ));
    }
    let values = match t.get("values") {
        Some(toml::Value::Array(a)) if !a.is_empty() => {
            let mut out = Vec::with_capacity(a.len());
            for (j, v) in a.iter().enumerate() {
                match v {
                    toml::Value::Integer(x) => out.push(*x as f64),
                    toml::Value::Float(x) if x.is_finite() => out.push(*x),
                    v => {
                        return Err(field(
                            &name,
                            "finite numbers in `values`",
                            format!("values[{j}] = {}", describe(v)),
                        ))
                    }
                }
            }
            out
        }
        Some(v) => {
            return Err(field(
                &name,
                "a non-empty array of numbers in `values`",
                describe(v),
            ))
        }
        None => return Err(field(&name, "`values`", "nothing".into())),
    };
    Ok(Vary {
        field: name,
        values,
    })
}

fn valid_path(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(|p| !p.is_empty())
}

/// A TOML value, for messages: `"text"`, `a table`, `an array`, or the number.
fn describe(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("the string {s:?}"),
        toml::Value::Table(_) => "a table".into(),
        toml::Value::Array(a) if a.is_empty() => "an empty array".into(),
        toml::Value::Array(_) => "an array".into(),
        toml::Value::Boolean(b) => format!("the boolean {b}"),
        toml::Value::Datetime(d) => format!("the date {d}"),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(x) => x.to_string(),
    }
}

/// Sets the numeric field at `path` (keys joined by `.`, array elements by index) to `x`.
/// An absent key is inserted (the model parser then rejects an unknown one). Errors are
/// `(expected, got)`.
pub(crate) fn set_field(
    table: &mut toml::Table,
    path: &str,
    x: f64,
) -> Result<(), (String, String)> {
    let parts: Vec<&str> = path.split('.').collect();
    let (last, inner) = parts
        .split_last()
        .ok_or(("a field path".into(), "nothing".into()))?;
    let mut at = toml::Value::Table(std::mem::take(table));
    let result = set_in(&mut at, inner, last, x, path);
    if let toml::Value::Table(t) = at {
        *table = t;
    }
    result
}

fn set_in(
    node: &mut toml::Value,
    inner: &[&str],
    last: &str,
    x: f64,
    path: &str,
) -> Result<(), (String, String)> {
    let mut node = node;
    let mut walked = String::new();
    let next_parts = inner.iter().skip(1).chain(std::iter::once(&last));
    for (part, next) in inner.iter().zip(next_parts) {
        if let toml::Value::Table(t) = &*node {
            if !t.contains_key(*part) && next.parse::<usize>().is_ok() {
                let here = if walked.is_empty() {
                    (*part).to_owned()
                } else {
                    format!("{walked}.{part}")
                };
                return Err((
                    format!("an array `{here}` (e.g. [[{here}]] tables) with an entry {next}"),
                    format!("no `{here}` in the model file"),
                ));
            }
        }
        let here = if walked.is_empty() {
            (*part).to_owned()
        } else {
            format!("{walked}.{part}")
        };
        node = match node {
            toml::Value::Table(t) => t
                .entry((*part).to_owned())
                .or_insert_with(|| toml::Value::Table(toml::Table::new())),
            toml::Value::Array(a) => {
                let n = a.len();
                match part.parse::<usize>() {
                    Ok(i) if i < n => &mut a[i],
                    _ => {
                        return Err((
                            format!("an index below {n} into `{walked}` (it has {n} entries)"),
                            format!("`{part}`"),
                        ))
                    }
                }
            }
            v => {
                return Err((
                    format!("`{walked}` to be a table or an array, to reach `{path}`"),
                    describe(v),
                ))
            }
        };
        walked = here;
    }
    let slot = match node {
        toml::Value::Table(t) => match t.get_mut(last) {
            Some(v) => v,
            None => {
                // Absent but perhaps valid (the model parser checks): an integer when integral
                // (it also reads as a float), else a float.
                let v = if x.fract() == 0.0 && x.abs() < 9.2e18 {
                    toml::Value::Integer(x as i64)
                } else {
                    toml::Value::Float(x)
                };
                t.insert(last.to_owned(), v);
                return Ok(());
            }
        },
        toml::Value::Array(a) => {
            let n = a.len();
            match last.parse::<usize>() {
                Ok(i) if i < n => &mut a[i],
                _ => {
                    return Err((
                        format!("an index below {n} into `{walked}` (it has {n} entries)"),
                        format!("`{last}`"),
                    ))
                }
            }
        }
        v => {
            return Err((
                format!("`{walked}` to be a table or an array, to reach `{path}`"),
                describe(v),
            ))
        }
    };
    match slot {
        toml::Value::Integer(_) => {
            if x.fract() == 0.0 && x.abs() < 9.2e18 {
                *slot = toml::Value::Integer(x as i64);
            } else {
                return Err((
                    "an integer value (the model file's field is an integer)".into(),
                    x.to_string(),
                ));
            }
        }
        toml::Value::Float(_) => *slot = toml::Value::Float(x),
        v => {
            return Err((
                "a numeric field (the model file has a number there)".into(),
                format!("a non-numeric field: {}", describe(v)),
            ))
        }
    }
    Ok(())
}
