//! The linear target family [`Linear`] (`ẋ = A x`), its parameters and validation.

use super::*;

pub(super) const LINEAR_PARAMS: &[Parameter] = &[param(
    "a",
    None,
    "the d×d matrix A of ẋ = A x + c, as rows (1/s)",
)];

/// `ẋ = A x`: the linear target (Boerlin et al. 2013 use `A = [[−4.8, −22.4], [40, 0]]`).
///
/// No `time_scale` or `amplitude`: scaling the state leaves a linear field unchanged, and a time
/// scale is a factor on `A`. With a piecewise-polynomial input the solution also has a closed
/// form, [`crate::model::teacher::LinearTeacher`]; this field is for the generic solver (and tests it).
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    pub(super) dims: usize,
    /// Row-major `A`: `a[i * d + k]`.
    pub(super) a: Vec<f64>,
}

impl Linear {
    /// From the rows of `A` (square, finite). Errors name `target.a` (empty or not square) or
    /// `target.a[i][k]` (non-finite entry).
    pub fn new(rows: &[Vec<f64>]) -> Result<Linear, BuildError> {
        let d = rows.len();
        if d == 0 {
            return Err(BuildError::new(
                "target.a",
                "a non-empty square matrix (rows)",
                "no rows",
            ));
        }
        let mut a = Vec::with_capacity(d * d);
        for (i, row) in rows.iter().enumerate() {
            if row.len() != d {
                return Err(BuildError::new(
                    format!("target.a[{i}]"),
                    format!("a row of {d} entries (A is square, {d} rows)"),
                    format!("{} entries", row.len()),
                ));
            }
            for (k, &v) in row.iter().enumerate() {
                a.push(finite(&format!("a[{i}][{k}]"), v)?);
            }
        }
        Ok(Linear { dims: d, a })
    }

    /// From `A` in row-major order (`a[i * dims + k]`), as [`crate::model::teacher::LinearTeacher`]
    /// takes it. Errors name `target.a`.
    pub fn from_row_major(dims: usize, a: &[f64]) -> Result<Linear, BuildError> {
        if dims == 0 || a.len() != dims * dims {
            return Err(BuildError::new(
                "target.a",
                format!("a {dims}×{dims} matrix ({} entries, dims ≥ 1)", dims * dims),
                format!("{} entries", a.len()),
            ));
        }
        let rows: Vec<Vec<f64>> = a.chunks(dims).map(<[f64]>::to_vec).collect();
        Linear::new(&rows)
    }

    /// `A`, row-major.
    pub fn a(&self) -> &[f64] {
        &self.a
    }
}

impl VectorField for Linear {
    fn dims(&self) -> usize {
        self.dims
    }

    fn eval(&self, x: &[f64], out: &mut [f64]) {
        let d = self.dims;
        for (i, o) in out.iter_mut().enumerate().take(d) {
            *o = self.a[i * d..(i + 1) * d]
                .iter()
                .zip(x)
                .map(|(a, x)| a * x)
                .sum();
        }
    }

    fn jacobian(&self, _x: &[f64], out: &mut [f64]) -> bool {
        let n = self.a.len().min(out.len());
        out[..n].copy_from_slice(&self.a[..n]);
        true
    }
}
