//! Piecewise-polynomial input signals `c(t)` (d components).
//!
//! Every input the engines accept — piecewise constant, piecewise linear, a smooth random signal
//! (a natural cubic spline through random knots) — is a sequence of polynomial segments of degree
//! ≤ 3. Segment starts are *knots*: events of the exact engine, where the drive polynomial changes.
//! Inside a segment the exact engine needs the polynomial re-expanded around the current interval
//! start, which `Signal::local_polynomial` does exactly (a Taylor shift).

use crate::closed_form::expo::MAX_DEGREE;
use crate::error::BuildError;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

const STRIDE: usize = MAX_DEGREE + 1;

/// A d-dimensional piecewise-polynomial signal; the last segment holds to +∞.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
pub struct Signal {
    dims: usize,
    starts: Vec<f64>,
    degrees: Vec<usize>,
    /// `coeffs[(seg * STRIDE + k) * dims + j]`: coefficient of `(t − start)^k` in component `j`.
    coeffs: Vec<f64>,
}

fn check_finite(field: &str, x: f64) -> Result<(), BuildError> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(BuildError::new(field, "a finite number", format!("{x}")))
    }
}

fn check_times(field: &str, times: &[f64]) -> Result<(), BuildError> {
    if times.is_empty() {
        return Err(BuildError::new(
            field,
            "at least one segment start time",
            "an empty list",
        ));
    }
    for (i, &t) in times.iter().enumerate() {
        if !t.is_finite() {
            // (The field's name is formatted only for the error.)
            check_finite(&format!("{field}[{i}]"), t)?;
        }
    }
    if times[0] != 0.0 {
        return Err(BuildError::new(
            format!("{field}[0]"),
            "the first segment to start at 0",
            format!("{}", times[0]),
        ));
    }
    for i in 1..times.len() {
        if times[i] <= times[i - 1] {
            return Err(BuildError::new(
                format!("{field}[{i}]"),
                format!("strictly increasing times (> {})", times[i - 1]),
                format!("{}", times[i]),
            ));
        }
    }
    Ok(())
}

fn check_values(
    field: &str,
    dims: usize,
    n: usize,
    times_field: &str,
    values: &[Vec<f64>],
) -> Result<(), BuildError> {
    if values.len() != n {
        return Err(BuildError::new(
            field,
            format!("one value per entry of `{times_field}` ({n})"),
            format!("{} values", values.len()),
        ));
    }
    for (i, v) in values.iter().enumerate() {
        if v.len() != dims {
            return Err(BuildError::new(
                format!("{field}[{i}]"),
                format!("a vector of {dims} components (network.dims)"),
                format!("{} components", v.len()),
            ));
        }
        for (j, &x) in v.iter().enumerate() {
            if !x.is_finite() {
                check_finite(&format!("{field}[{i}][{j}]"), x)?;
            }
        }
    }
    Ok(())
}

impl Signal {
    /// The zero signal.
    pub fn zero(dims: usize) -> Signal {
        Signal {
            dims,
            starts: vec![0.0],
            degrees: vec![0],
            coeffs: vec![0.0; STRIDE * dims],
        }
    }

    /// A constant signal.
    pub fn constant(values: &[f64]) -> Signal {
        let mut s = Signal::zero(values.len());
        s.coeffs[..values.len()].copy_from_slice(values);
        s
    }

    /// Piecewise constant: `values[i]` holds from `times[i]` to `times[i+1]`, the last to the end.
    ///
    /// `times` must start at 0 and increase strictly. Errors name the fields `input.times` and
    /// `input.values`.
    pub fn piecewise_constant(
        dims: usize,
        times: &[f64],
        values: &[Vec<f64>],
    ) -> Result<Signal, BuildError> {
        check_times("input.times", times)?;
        check_values("input.values", dims, times.len(), "input.times", values)?;
        let mut coeffs = vec![0.0; times.len() * STRIDE * dims];
        for (i, v) in values.iter().enumerate() {
            coeffs[i * STRIDE * dims..i * STRIDE * dims + dims].copy_from_slice(v);
        }
        Ok(Signal {
            dims,
            starts: times.to_vec(),
            degrees: vec![0; times.len()],
            coeffs,
        })
    }

    /// Piecewise linear through `(times[i], values[i])`; the last value holds to the end.
    pub fn piecewise_linear(
        dims: usize,
        times: &[f64],
        values: &[Vec<f64>],
    ) -> Result<Signal, BuildError> {
        check_times("input.times", times)?;
        check_values("input.values", dims, times.len(), "input.times", values)?;
        let n = times.len();
        let mut coeffs = vec![0.0; n * STRIDE * dims];
        let mut degrees = vec![0; n];
        for i in 0..n {
            let base = i * STRIDE * dims;
            coeffs[base..base + dims].copy_from_slice(&values[i]);
            if i + 1 < n {
                degrees[i] = 1;
                let h = times[i + 1] - times[i];
                for j in 0..dims {
                    coeffs[base + dims + j] = (values[i + 1][j] - values[i][j]) / h;
                }
            }
        }
        Ok(Signal {
            dims,
            starts: times.to_vec(),
            degrees,
            coeffs,
        })
    }

    /// A smooth random signal: a natural cubic spline through knots every `correlation_time`
    /// seconds, whose values are independent normal draws with standard deviation `amplitude`
    /// (plus `mean`), covering `[0, duration]`; the last knot's value holds afterwards.
    pub fn smooth_random<R: Rng>(
        mean: &[f64],
        amplitude: f64,
        correlation_time: f64,
        duration: f64,
        rng: &mut R,
    ) -> Result<Signal, BuildError> {
        let dims = mean.len();
        for (j, &m) in mean.iter().enumerate() {
            check_finite(&format!("input.mean[{j}]"), m)?;
        }
        if !(amplitude.is_finite() && amplitude >= 0.0) {
            return Err(BuildError::new(
                "input.amplitude",
                "a finite non-negative number",
                format!("{amplitude}"),
            ));
        }
        if !(correlation_time.is_finite() && correlation_time > 0.0) {
            return Err(BuildError::new(
                "input.correlation_time",
                "a finite positive time in seconds",
                format!("{correlation_time}"),
            ));
        }
        if !(duration.is_finite() && duration >= 0.0) {
            return Err(BuildError::new(
                "simulate.duration",
                "a finite non-negative time",
                format!("{duration}"),
            ));
        }
        let h = correlation_time;
        let knots = ((duration / h).ceil() as usize).clamp(1, 50_000_000) + 1;
        let mut y = vec![vec![0.0; knots]; dims];
        for i in 0..knots {
            for (j, yj) in y.iter_mut().enumerate() {
                let z: f64 = StandardNormal.sample(rng);
                yj[i] = mean[j] + amplitude * z;
            }
        }
        // Natural spline second derivatives: M[i-1] + 4 M[i] + M[i+1] = 6 (y[i-1] - 2 y[i] + y[i+1]) / h².
        let mut second = vec![vec![0.0; knots]; dims];
        if knots > 2 {
            for (yj, mj) in y.iter().zip(second.iter_mut()) {
                let m = knots - 2;
                let rhs: Vec<f64> = (1..=m)
                    .map(|i| 6.0 * (yj[i - 1] - 2.0 * yj[i] + yj[i + 1]) / (h * h))
                    .collect();
                // Thomas algorithm for the tridiagonal (1, 4, 1) system.
                let mut cp = vec![0.0; m];
                let mut dp = vec![0.0; m];
                cp[0] = 1.0 / 4.0;
                dp[0] = rhs[0] / 4.0;
                for i in 1..m {
                    let den = 4.0 - cp[i - 1];
                    cp[i] = 1.0 / den;
                    dp[i] = (rhs[i] - dp[i - 1]) / den;
                }
                mj[m] = dp[m - 1];
                for i in (1..m).rev() {
                    mj[i] = dp[i - 1] - cp[i - 1] * mj[i + 1];
                }
            }
        }
        let mut starts = Vec::with_capacity(knots);
        let mut degrees = Vec::with_capacity(knots);
        let mut coeffs = vec![0.0; knots * STRIDE * dims];
        for i in 0..knots {
            starts.push(i as f64 * h);
            let base = i * STRIDE * dims;
            if i + 1 < knots {
                degrees.push(3);
                for j in 0..dims {
                    let (y0, y1) = (y[j][i], y[j][i + 1]);
                    let (m0, m1) = (second[j][i], second[j][i + 1]);
                    coeffs[base + j] = y0;
                    coeffs[base + dims + j] = (y1 - y0) / h - h * (2.0 * m0 + m1) / 6.0;
                    coeffs[base + 2 * dims + j] = m0 / 2.0;
                    coeffs[base + 3 * dims + j] = (m1 - m0) / (6.0 * h);
                }
            } else {
                degrees.push(0);
                for j in 0..dims {
                    coeffs[base + j] = y[j][i];
                }
            }
        }
        Ok(Signal {
            dims,
            starts,
            degrees,
            coeffs,
        })
    }

    /// A general piecewise polynomial: segment `i` starts at `starts[i]` and is
    /// `Σ_k coeffs[i][k][j] (t − starts[i])^k` in component `j`, degree `coeffs[i].len() − 1 ≤ 3`.
    pub fn from_segments(
        dims: usize,
        starts: &[f64],
        coeffs: &[Vec<Vec<f64>>],
    ) -> Result<Signal, BuildError> {
        check_times("input.times", starts)?;
        if coeffs.len() != starts.len() {
            return Err(BuildError::new(
                "input.coefficients",
                format!("one polynomial per segment ({})", starts.len()),
                format!("{}", coeffs.len()),
            ));
        }
        let mut flat = vec![0.0; starts.len() * STRIDE * dims];
        let mut degrees = Vec::with_capacity(starts.len());
        for (i, seg) in coeffs.iter().enumerate() {
            if seg.is_empty() || seg.len() > STRIDE {
                return Err(BuildError::new(
                    format!("input.coefficients[{i}]"),
                    format!("1 to {STRIDE} coefficient vectors (degree ≤ {MAX_DEGREE})"),
                    format!("{}", seg.len()),
                ));
            }
            check_values(
                &format!("input.coefficients[{i}]"),
                dims,
                seg.len(),
                "degree",
                seg,
            )?;
            degrees.push(seg.len() - 1);
            for (k, ck) in seg.iter().enumerate() {
                let base = (i * STRIDE + k) * dims;
                flat[base..base + dims].copy_from_slice(ck);
            }
        }
        Ok(Signal {
            dims,
            starts: starts.to_vec(),
            degrees,
            coeffs: flat,
        })
    }

    /// A signal from flat polynomial segments `(start, degree, coeffs)` with
    /// `coeffs[k * dims + j]` the coefficient of `(t − start)^k` in component `j` (the layout of
    /// `Signal::local_polynomial` and of the teacher's dense output).
    pub fn from_polynomials<'a>(
        dims: usize,
        segments: impl IntoIterator<Item = (f64, usize, &'a [f64])>,
    ) -> Result<Signal, BuildError> {
        let mut sig = Signal {
            dims,
            starts: Vec::new(),
            degrees: Vec::new(),
            coeffs: Vec::new(),
        };
        for (i, (start, degree, c)) in segments.into_iter().enumerate() {
            if degree > MAX_DEGREE || c.len() < (degree + 1) * dims {
                return Err(BuildError::new(
                    format!("input.coefficients[{i}]"),
                    format!("degree ≤ {MAX_DEGREE} with (degree + 1) × {dims} coefficients"),
                    format!("degree {degree}, {} coefficients", c.len()),
                ));
            }
            sig.starts.push(start);
            sig.degrees.push(degree);
            let base = sig.coeffs.len();
            sig.coeffs.resize(base + STRIDE * dims, 0.0);
            for (k, row) in c.chunks_exact(dims).take(degree + 1).enumerate() {
                sig.coeffs[base + k * dims..base + (k + 1) * dims].copy_from_slice(row);
            }
        }
        check_times("input.times", &sig.starts)?;
        if let Some(i) = sig.coeffs.iter().position(|x| !x.is_finite()) {
            check_finite(
                &format!("input.coefficients[{}]", i / (STRIDE * dims.max(1))),
                sig.coeffs[i],
            )?;
        }
        Ok(sig)
    }

    /// `a·self + b·other`, segment by segment over the union of both signals' knots (exact up
    /// to rounding: each piece is the sum of the two Taylor-shifted polynomials).
    pub fn linear_combination(&self, a: f64, other: &Signal, b: f64) -> Result<Signal, BuildError> {
        self.linear_combination_between(a, other, b, (f64::NEG_INFINITY, f64::INFINITY))
    }

    /// [`Signal::linear_combination`] over the knots from the one at or before `from` to `to`
    /// only (zero before): the same pieces there, to the bit. Why: a long phase's input is
    /// given to the engine window by window.
    pub(crate) fn linear_combination_between(
        &self,
        a: f64,
        other: &Signal,
        b: f64,
        (from, to): (f64, f64),
    ) -> Result<Signal, BuildError> {
        if other.dims != self.dims {
            return Err(BuildError::new(
                "input",
                format!("{} components", self.dims),
                format!("{}", other.dims),
            ));
        }
        let d = self.dims;
        let mut knots: Vec<f64> = self.starts.iter().chain(&other.starts).copied().collect();
        knots.sort_by(f64::total_cmp);
        knots.dedup();
        let first = knots.partition_point(|&k| k <= from).saturating_sub(1);
        let last = knots.partition_point(|&k| k <= to);
        let knots = &knots[first..last.max(first)];
        let (mut p, mut q) = (vec![0.0; STRIDE * d], vec![0.0; STRIDE * d]);
        let mut out = Signal {
            dims: d,
            starts: Vec::new(),
            degrees: Vec::new(),
            coeffs: Vec::new(),
        };
        if knots.first().is_some_and(|&k| k > 0.0) {
            out.starts.push(0.0);
            out.degrees.push(0);
            out.coeffs.resize(STRIDE * d, 0.0);
        }
        let (mut hp, mut hq) = (0, 0);
        for &t in knots {
            let dp = self.local_polynomial_in(self.segment_near(t, &mut hp), t, &mut p);
            let dq = other.local_polynomial_in(other.segment_near(t, &mut hq), t, &mut q);
            out.starts.push(t);
            out.degrees.push(dp.max(dq));
            out.coeffs
                .extend(p.iter().zip(&q).map(|(x, y)| a * x + b * y));
        }
        check_times("input.times", &out.starts)?;
        Ok(out)
    }

    /// Number of components d.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Highest polynomial degree of any segment.
    pub fn degree(&self) -> usize {
        self.degrees.iter().copied().max().unwrap_or(0)
    }

    /// Refuses a signal with a coefficient that is not finite (a NaN or infinite input would
    /// make every trajectory undefined): the error names `field`, what was `expected`, and the
    /// coefficient and segment.
    pub fn check_finite(&self, field: &str, expected: &str) -> Result<(), BuildError> {
        if let Some(k) = self.coeffs.iter().position(|x| !x.is_finite()) {
            let segment = k / (STRIDE * self.dims.max(1));
            return Err(BuildError::new(
                field,
                expected,
                format!(
                    "a coefficient {} in the segment starting at {} s",
                    self.coeffs[k], self.starts[segment]
                ),
            ));
        }
        Ok(())
    }

    /// Segment start times (the knots); the first is 0.
    pub fn knots(&self) -> &[f64] {
        &self.starts
    }

    /// Index of the segment that contains `t` (the last segment starting at or before `t`).
    pub(crate) fn segment_at(&self, t: f64) -> usize {
        self.starts.partition_point(|&s| s <= t).saturating_sub(1)
    }

    /// [`Signal::segment_at`] starting the look-up at `*hint` (the segment of a nearby earlier
    /// call; updated): the same segment, without a binary search when `t` lies in that segment
    /// or the next one.
    #[inline]
    pub(crate) fn segment_near(&self, t: f64, hint: &mut usize) -> usize {
        let n = self.starts.len();
        let fits = |i: usize| {
            i < n && (i == 0 || self.starts[i] <= t) && (i + 1 == n || t < self.starts[i + 1])
        };
        let seg = if fits(*hint) {
            *hint
        } else if fits(*hint + 1) {
            *hint + 1
        } else {
            self.segment_at(t)
        };
        *hint = seg;
        seg
    }

    /// [`Signal::next_knot_after`] with the look-up of [`Signal::segment_near`].
    #[inline]
    pub(crate) fn next_knot_near(&self, t: f64, hint: &mut usize) -> f64 {
        let seg = self.segment_near(t, hint);
        if self.starts[seg] <= t {
            self.starts.get(seg + 1).copied().unwrap_or(f64::INFINITY)
        } else {
            self.starts[0]
        }
    }

    /// The first knot strictly after `t`, or +∞.
    pub(crate) fn next_knot_after(&self, t: f64) -> f64 {
        let i = self.starts.partition_point(|&s| s <= t);
        self.starts.get(i).copied().unwrap_or(f64::INFINITY)
    }

    /// `c(t)` into `out` (length d).
    pub fn eval(&self, t: f64, out: &mut [f64]) {
        let seg = self.segment_at(t);
        let s = t - self.starts[seg];
        let d = self.dims;
        let base = seg * STRIDE * d;
        for (j, o) in out.iter_mut().enumerate().take(d) {
            let mut v = 0.0;
            for k in (0..=self.degrees[seg]).rev() {
                v = v * s + self.coeffs[base + k * d + j];
            }
            *o = v;
        }
    }

    /// Coefficients of `c(t0 + u) = Σ_k out[k][j] u^k` in the segment containing `t0`, valid until
    /// the next knot; returns the segment's degree. `out` is `(MAX_DEGREE+1) × d`, flattened
    /// `out[k * d + j]`; entries above the degree are set to 0.
    pub(crate) fn local_polynomial(&self, t0: f64, out: &mut [f64]) -> usize {
        self.local_polynomial_in(self.segment_at(t0), t0, out)
    }

    /// [`Signal::local_polynomial`] in segment `seg`, which must be `segment_at(t0)`.
    pub(crate) fn local_polynomial_in(&self, seg: usize, t0: f64, out: &mut [f64]) -> usize {
        let deg = self.degrees[seg];
        let s0 = t0 - self.starts[seg];
        let d = self.dims;
        let a = &self.coeffs[seg * STRIDE * d..(seg + 1) * STRIDE * d];
        out[..STRIDE * d].fill(0.0);
        for j in 0..d {
            let mut p = [0.0; STRIDE];
            for (k, pk) in p.iter_mut().enumerate().take(deg + 1) {
                *pk = a[k * d + j];
            }
            for (m, v) in taylor_shift(&p, deg, s0).iter().enumerate().take(deg + 1) {
                out[m * d + j] = *v;
            }
        }
        deg
    }
}

/// Re-expands `Σ_k p_k (s + u)^k` as a polynomial in `u`: coefficient of `u^m` is
/// `Σ_{k≥m} C(k, m) p_k s^{k−m}` (exact up to rounding; degree ≤ [`MAX_DEGREE`]).
pub(crate) fn taylor_shift(p: &[f64; STRIDE], degree: usize, s: f64) -> [f64; STRIDE] {
    let mut out = [0.0; STRIDE];
    for (m, o) in out.iter_mut().enumerate().take(degree + 1) {
        let mut pow = 1.0;
        for (k, pk) in p.iter().enumerate().take(degree + 1).skip(m) {
            *o += BINOMIAL[k][m] * pk * pow;
            pow *= s;
        }
    }
    out
}

/// `C(k, m)` for `k, m ≤ MAX_DEGREE` (small integers: exact in f64, the same values the
/// recurrence `C(k, m) = C(k−1, m)·k/(k−m)` gives, without its divisions on a hot path).
const BINOMIAL: [[f64; STRIDE]; STRIDE] = {
    let mut t = [[0.0; STRIDE]; STRIDE];
    let mut k = 0;
    while k < STRIDE {
        t[k][0] = 1.0;
        let mut m = 1;
        while m <= k {
            t[k][m] = t[k - 1][m - 1] + if m < k { t[k - 1][m] } else { 0.0 };
            m += 1;
        }
        k += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn piecewise_constant_and_linear_evaluate() {
        let s =
            Signal::piecewise_constant(2, &[0.0, 0.5], &[vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap();
        let mut out = [0.0; 2];
        s.eval(0.2, &mut out);
        assert_eq!(out, [1.0, 2.0]);
        s.eval(0.7, &mut out);
        assert_eq!(out, [3.0, 4.0]);
        assert_eq!(s.next_knot_after(0.2), 0.5);
        assert_eq!(s.next_knot_after(0.5), f64::INFINITY);
        let l = Signal::piecewise_linear(1, &[0.0, 1.0], &[vec![0.0], vec![2.0]]).unwrap();
        let mut o = [0.0];
        l.eval(0.25, &mut o);
        assert!((o[0] - 0.5).abs() < 1e-15);
        l.eval(3.0, &mut o);
        assert_eq!(o[0], 2.0);
    }

    #[test]
    fn malformed_inputs_name_their_field() {
        let e = Signal::piecewise_constant(1, &[0.0, 0.5, 0.4], &vec![vec![0.0]; 3]).unwrap_err();
        assert_eq!(e.field, "input.times[2]");
        let e = Signal::piecewise_constant(1, &[0.1], &[vec![0.0]]).unwrap_err();
        assert_eq!(e.field, "input.times[0]");
        let e = Signal::piecewise_constant(2, &[0.0], &[vec![0.0]]).unwrap_err();
        assert_eq!(e.field, "input.values[0]");
        let e = Signal::piecewise_constant(1, &[0.0], &[vec![f64::NAN]]).unwrap_err();
        assert_eq!(e.field, "input.values[0][0]");
    }

    #[test]
    fn local_polynomial_is_an_exact_taylor_shift() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let s = Signal::smooth_random(&[0.0, 1.0], 2.0, 0.05, 1.0, &mut rng).unwrap();
        let d = 2;
        let mut poly = [0.0; STRIDE * 2];
        for &t0 in &[0.0, 0.013, 0.37, 0.99] {
            let deg = s.local_polynomial(t0, &mut poly);
            for &u in &[0.0, 0.001, 0.01] {
                if s.segment_at(t0 + u) != s.segment_at(t0) {
                    continue;
                }
                let mut direct = [0.0; 2];
                s.eval(t0 + u, &mut direct);
                for j in 0..d {
                    let v: f64 = (0..=deg).map(|k| poly[k * d + j] * u.powi(k as i32)).sum();
                    assert!((v - direct[j]).abs() < 1e-12, "{v} vs {}", direct[j]);
                }
            }
        }
    }

    #[test]
    fn smooth_random_is_continuous_and_smooth_at_knots() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let s = Signal::smooth_random(&[0.0], 1.0, 0.1, 1.0, &mut rng).unwrap();
        for &k in &s.knots()[1..s.knots().len() - 1] {
            let (mut l, mut r) = ([0.0], [0.0]);
            s.eval(k - 1e-9, &mut l);
            s.eval(k, &mut r);
            assert!((l[0] - r[0]).abs() < 1e-6);
        }
        let mut seen = 0.0f64;
        for i in 0..1000 {
            let mut o = [0.0];
            s.eval(i as f64 * 1e-3, &mut o);
            seen = seen.max(o[0].abs());
        }
        assert!(seen > 0.1, "signal should vary: {seen}");
    }
}
