//! Field helpers shared by every section: kind checks, positive numbers, vectors and
//! matrices read from TOML values.

use super::*;

/// The error for a field `name` (at `path`) that kind `kind` does not take: it lists the fields
/// it does take, besides `besides`.
pub(super) fn field_not_of_kind(
    path: String,
    name: &str,
    kind: &str,
    besides: &str,
    fields: &[&str],
) -> BuildError {
    let allowed = if fields.is_empty() {
        "none".to_owned()
    } else {
        fields.join(", ")
    };
    BuildError::new(
        path,
        format!("only the fields of kind = \"{kind}\" (besides {besides}: {allowed})"),
        format!("`{name}` is set"),
    )
}

pub(super) fn positive(field: &str, x: f64, what: &str) -> Result<f64, BuildError> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(BuildError::new(
            field,
            format!("a finite positive {what}"),
            format!("{x}"),
        ))
    }
}

pub(super) fn finite_vector(
    field: &str,
    v: &[f64],
    len: usize,
    what: &str,
) -> Result<(), BuildError> {
    if v.len() != len {
        return Err(BuildError::new(
            field,
            format!("{len} numbers ({what})"),
            format!("{} numbers", v.len()),
        ));
    }
    for (i, &x) in v.iter().enumerate() {
        if !x.is_finite() {
            return Err(BuildError::new(
                format!("{field}[{i}]"),
                "a finite number",
                format!("{x}"),
            ));
        }
    }
    Ok(())
}

pub(super) fn number(v: &toml::Value, field: &str) -> Result<f64, BuildError> {
    match v {
        toml::Value::Float(x) => Ok(*x),
        toml::Value::Integer(i) => Ok(*i as f64),
        other => Err(BuildError::new(
            field,
            "a number",
            format!("a {}", other.type_str()),
        )),
    }
}

pub(super) fn vector(v: &toml::Value, field: &str) -> Result<Vec<f64>, BuildError> {
    match v {
        toml::Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, x)| number(x, &format!("{field}[{i}]")))
            .collect(),
        other => Err(BuildError::new(
            field,
            "an array of numbers",
            format!("a {}", other.type_str()),
        )),
    }
}

pub(super) fn matrix(v: &toml::Value, field: &str) -> Result<Vec<Vec<f64>>, BuildError> {
    match v {
        toml::Value::Array(rows) => rows
            .iter()
            .enumerate()
            .map(|(i, row)| vector(row, &format!("{field}[{i}]")))
            .collect(),
        other => Err(BuildError::new(
            field,
            "an array of arrays of numbers (one vector per time)",
            format!("a {}", other.type_str()),
        )),
    }
}
