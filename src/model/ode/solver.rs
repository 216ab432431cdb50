//! The adaptive integrator itself ([`integrate_span`]): input validation, the initial step, one
//! Dormand–Prince step with its error norm, and the knot-by-knot stepping loop.

use super::*;

/// The right-hand side `f(x) + c(t)` over one knot interval, `c` from the segment's polynomial
/// re-expanded at the interval start `t_a`, so that the knot at the interval's end is evaluated
/// from the left.
pub(super) struct Rhs<'a> {
    pub(super) f: &'a dyn VectorField,
    pub(super) t_a: f64,
    pub(super) degree: usize,
    pub(super) poly: Vec<f64>,
    pub(super) evaluations: usize,
}

impl Rhs<'_> {
    pub(super) fn eval(&mut self, t: f64, x: &[f64], out: &mut [f64]) {
        self.evaluations += 1;
        self.f.eval(x, out);
        let d = out.len();
        let u = t - self.t_a;
        for (j, o) in out.iter_mut().enumerate() {
            let mut c = 0.0;
            for k in (0..=self.degree).rev() {
                c = c * u + self.poly[k * d + j];
            }
            *o += c;
        }
    }
}

pub(super) fn error_norm(y0: &[f64], y1: &[f64], e: &[f64], tol: &Tolerance) -> f64 {
    let mut acc = 0.0;
    for ((a, b), e) in y0.iter().zip(y1).zip(e) {
        let sk = tol.atol + tol.rtol * a.abs().max(b.abs());
        let r = e / sk;
        acc += r * r;
    }
    let n = y0.len() as f64;
    let v = (acc / n).sqrt();
    if v.is_nan() {
        f64::INFINITY
    } else {
        v
    }
}

pub(super) fn all_finite(x: &[f64]) -> bool {
    x.iter().all(|v| v.is_finite())
}

pub(super) fn max_abs(x: &[f64]) -> f64 {
    x.iter().fold(0.0, |m, v| m.max(v.abs()))
}

/// Solves `ẋ = f(x) + c(t)`, `x(t0) = x0`, on `[t0, t_end]` with adaptive Dormand–Prince 5(4),
/// stopping at every knot of `input` (module docs); returns the dense output.
///
/// Requirements (else [`OdeError::Invalid`], fields `target.initial`, `input`, `simulate.duration`,
/// `target.rtol`, …): `x0.len() == f.dims() == input.dims() ≥ 1`, `x0` finite, `0 ≤ t0 ≤ t_end`
/// finite, a valid [`Tolerance`]. `t_end == t0` gives a solution with no steps.
pub fn integrate_span(
    f: &dyn VectorField,
    input: &Signal,
    x0: &[f64],
    t0: f64,
    t_end: f64,
    tol: Tolerance,
) -> Result<DenseSolution, OdeError> {
    let mut run = Integration::new(f, input, x0, t0, t_end, tol)?;
    run.advance(f, input, t_end)?;
    Ok(run.sol)
}

/// An integration of [`integrate_span`] that goes on piece by piece ([`Integration::advance`])
/// and forgets the segments no longer needed ([`Integration::forget_before`]): the same steps,
/// to the bit, as one call over the whole span, with memory for the pieces held only. Why: a
/// long phase's teacher need not be kept whole.
#[derive(Clone, Debug)]
pub(crate) struct Integration {
    sol: DenseSolution,
    tol: Tolerance,
    t_end: f64,
    /// The right-hand side's state: its interval start, input polynomial and evaluations.
    t_a: f64,
    degree: usize,
    poly: Vec<f64>,
    y: Vec<f64>,
    y1: Vec<f64>,
    tmp: Vec<f64>,
    err: Vec<f64>,
    k: [Vec<f64>; 7],
    t: f64,
    /// The end of the knot interval being stepped through (`None`: between intervals).
    seg_end: Option<f64>,
    h_prop: f64,
    fac_old: f64,
    rejected_last: bool,
    attempts: usize,
}

impl Integration {
    /// Starts an integration of [`integrate_span`]'s arguments (checked as there).
    pub(crate) fn new(
        f: &dyn VectorField,
        input: &Signal,
        x0: &[f64],
        t0: f64,
        t_end: f64,
        tol: Tolerance,
    ) -> Result<Integration, OdeError> {
        let d = f.dims();
        validate(f, input, x0, t0, t_end, &tol)?;
        Ok(Integration {
            sol: DenseSolution {
                dims: d,
                t0,
                times: vec![t0],
                coeffs: Vec::new(),
                x0: x0.to_vec(),
                end_state: x0.to_vec(),
                stats: SolverStats::default(),
            },
            tol,
            t_end,
            t_a: t0,
            degree: 0,
            poly: vec![0.0; (MAX_DEGREE + 1) * d],
            y: x0.to_vec(),
            y1: vec![0.0; d],
            tmp: vec![0.0; d],
            err: vec![0.0; d],
            k: std::array::from_fn(|_| vec![0.0; d]),
            t: t0,
            seg_end: None,
            h_prop: f64::NAN, // proposed step; set by the starting heuristic
            fac_old: 1e-4,
            rejected_last: false,
            attempts: 0,
        })
    }

    /// The segments held: from the last [`Integration::forget_before`] to where the stepping
    /// stands ([`DenseSolution::end_time`]; its `end_state` is the state there).
    pub(crate) fn solution(&self) -> &DenseSolution {
        &self.sol
    }

    /// Whether the span is integrated to its end.
    pub(crate) fn done(&self) -> bool {
        self.t >= self.t_end
    }

    /// Drops the segments that end at or before `t` (none while fewer than two are held).
    pub(crate) fn forget_before(&mut self, t: f64) {
        let steps = self.sol.steps();
        let drop = self.sol.times[..steps]
            .partition_point(|&s| s <= t)
            .saturating_sub(1)
            .min(steps.saturating_sub(1));
        if drop > 0 {
            let d = self.sol.dims;
            self.sol.times.drain(..drop);
            self.sol.coeffs.drain(..drop * STRIDE * d);
        }
    }

    /// Steps on (with the same `f` and `input` as [`Integration::new`]) until the steps reach
    /// `until` or the span's end: afterwards the solution covers `[.., until]` (or the span).
    pub(crate) fn advance(
        &mut self,
        f: &dyn VectorField,
        input: &Signal,
        until: f64,
    ) -> Result<(), OdeError> {
        let mut rhs = Rhs {
            f,
            t_a: self.t_a,
            degree: self.degree,
            poly: std::mem::take(&mut self.poly),
            evaluations: self.sol.stats.evaluations,
        };
        let result = self.step_until(&mut rhs, input, until);
        self.t_a = rhs.t_a;
        self.degree = rhs.degree;
        self.poly = rhs.poly;
        self.sol.stats.evaluations = rhs.evaluations;
        // The state where the stepping stands (what `eval` gives at the end time).
        self.sol.end_state.clone_from(&self.y);
        result
    }

    fn step_until(
        &mut self,
        rhs: &mut Rhs<'_>,
        input: &Signal,
        until: f64,
    ) -> Result<(), OdeError> {
        let (t_end, tol) = (self.t_end, self.tol);
        let sol = &mut self.sol;
        let (y, y1, tmp, err, k) = (
            &mut self.y,
            &mut self.y1,
            &mut self.tmp,
            &mut self.err,
            &mut self.k,
        );
        while self.t < t_end && self.t < until {
            let t = self.t;
            let seg_end = match self.seg_end {
                Some(e) => e,
                None => {
                    // One knot interval [t, seg_end]: the input is one polynomial here.
                    let seg_end = input.next_knot_after(t).min(t_end);
                    let floor = 16.0 * f64::EPSILON * t.abs().max(seg_end.abs());
                    if seg_end - t <= floor {
                        // An interval below the time resolution: nothing to integrate.
                        self.t = seg_end;
                        if let Some(last) = sol.times.last_mut() {
                            *last = seg_end;
                        }
                        continue;
                    }
                    rhs.t_a = t;
                    rhs.degree = input.local_polynomial(t, &mut rhs.poly);
                    rhs.eval(t, y, &mut k[0]);
                    if !all_finite(&k[0]) {
                        return Err(OdeError::NonFinite {
                            time: t,
                            state: y.clone(),
                        });
                    }
                    if self.h_prop.is_nan() {
                        self.h_prop = initial_step(rhs, t, y, &k[0], seg_end - t, &tol, tmp, y1);
                    }
                    self.seg_end = Some(seg_end);
                    seg_end
                }
            };
            // The interval's start: the floor of the original loop.
            let floor = 16.0 * f64::EPSILON * rhs.t_a.abs().max(seg_end.abs());
            while self.t < seg_end && self.t < until {
                let t = self.t;
                let remaining = seg_end - t;
                let mut h = self.h_prop;
                let truncated = h >= 0.99 * remaining;
                if truncated {
                    h = remaining;
                }
                if h.is_nan() || h <= floor {
                    return Err(OdeError::StepSizeUnderflow {
                        time: t,
                        step: h,
                        norm: max_abs(y),
                    });
                }
                self.attempts += 1;
                if self.attempts > tol.max_steps {
                    return Err(OdeError::TooManySteps {
                        time: t,
                        target: t_end,
                        limit: tol.max_steps,
                    });
                }
                dp_step(rhs, t, h, y, k, y1, tmp, err);
                let e = if all_finite(y1) && all_finite(&k[6]) {
                    error_norm(y, y1, err, &tol)
                } else {
                    f64::INFINITY
                };
                if e <= 1.0 {
                    // Accept.
                    let fac11 = e.powf(EXPO1);
                    let fac = (fac11 / self.fac_old.powf(BETA) / SAFE)
                        .clamp(1.0 / FAC_MAX, 1.0 / FAC_MIN);
                    let mut h_new = h / fac;
                    if self.rejected_last {
                        h_new = h_new.min(h);
                    }
                    if truncated && !self.rejected_last {
                        h_new = h_new.max(self.h_prop);
                    }
                    self.fac_old = e.max(1e-4);
                    self.rejected_last = false;
                    push_segment(sol, h, y, y1, k);
                    let t_new = if truncated { seg_end } else { t + h };
                    sol.times.push(t_new);
                    self.t = t_new;
                    std::mem::swap(y, y1);
                    let (first, rest) = k.split_at_mut(1);
                    std::mem::swap(&mut first[0], &mut rest[5]); // FSAL: k1 ← k7
                    self.h_prop = h_new;
                    sol.stats.accepted += 1;
                } else {
                    // Reject: shrink (by 10 when the step produced non-finite values).
                    let shrink = if e.is_finite() {
                        (e.powf(EXPO1) / SAFE).min(1.0 / FAC_MIN)
                    } else {
                        10.0
                    };
                    self.h_prop = h / shrink;
                    self.rejected_last = true;
                    sol.stats.rejected += 1;
                }
            }
            if self.t >= seg_end {
                self.seg_end = None;
                if seg_end < t_end {
                    sol.stats.knots += 1;
                }
            }
        }
        Ok(())
    }
}

pub(super) fn validate(
    f: &dyn VectorField,
    input: &Signal,
    x0: &[f64],
    t0: f64,
    t_end: f64,
    tol: &Tolerance,
) -> Result<(), BuildError> {
    let d = f.dims();
    if d == 0 {
        return Err(BuildError::new(
            "target",
            "a vector field of at least 1 dimension",
            "0 dimensions",
        ));
    }
    if x0.len() != d {
        return Err(BuildError::new(
            "target.initial",
            format!("a vector of {d} components (the target's dimension)"),
            format!("{} components", x0.len()),
        ));
    }
    for (j, &v) in x0.iter().enumerate() {
        if !v.is_finite() {
            return Err(BuildError::new(
                format!("target.initial[{j}]"),
                "a finite number",
                format!("{v}"),
            ));
        }
    }
    if input.dims() != d {
        return Err(BuildError::new(
            "input",
            format!("an input of {d} components (the target's dimension)"),
            format!("{} components", input.dims()),
        ));
    }
    if !(t0.is_finite() && t0 >= 0.0) {
        return Err(BuildError::new(
            "target.start",
            "a finite start time ≥ 0",
            format!("{t0}"),
        ));
    }
    if !(t_end.is_finite() && t_end >= t0) {
        return Err(BuildError::new(
            "simulate.duration",
            format!("a finite end time ≥ the start time {t0}"),
            format!("{t_end}"),
        ));
    }
    tol.validate()
}

/// Hairer's starting step size (HNW I, II.4): from the sizes of `x`, `ẋ` and a finite-difference
/// second derivative, capped by `span`.
#[allow(clippy::too_many_arguments)]
pub(super) fn initial_step(
    rhs: &mut Rhs<'_>,
    t: f64,
    y: &[f64],
    f0: &[f64],
    span: f64,
    tol: &Tolerance,
    y1: &mut [f64],
    f1: &mut [f64],
) -> f64 {
    let d = y.len() as f64;
    let sk = |v: f64| tol.atol + tol.rtol * v.abs();
    let dnf = (f0
        .iter()
        .zip(y)
        .map(|(f, y)| (f / sk(*y)).powi(2))
        .sum::<f64>()
        / d)
        .sqrt();
    let dny = (y.iter().map(|y| (y / sk(*y)).powi(2)).sum::<f64>() / d).sqrt();
    let mut h = if dnf <= 1e-10 || dny <= 1e-10 {
        1e-6
    } else {
        0.01 * dny / dnf
    };
    h = h.min(span);
    for ((o, a), b) in y1.iter_mut().zip(y).zip(f0) {
        *o = a + h * b;
    }
    rhs.eval(t + h, y1, f1);
    let der2 = (f1
        .iter()
        .zip(f0)
        .zip(y)
        .map(|((a, b), y)| ((a - b) / sk(*y)).powi(2))
        .sum::<f64>()
        / d)
        .sqrt()
        / h;
    let der12 = der2.max(dnf);
    let h1 = if der12.is_finite() && der12 > 1e-15 {
        (0.01 / der12).powf(0.2)
    } else {
        (h * 1e-3).max(1e-6)
    };
    let h = (100.0 * h).min(h1).min(span);
    if h.is_finite() && h > 0.0 {
        h
    } else {
        span.min(1e-6)
    }
}

/// One Dormand–Prince step from `(t, y)` with `k[0] = f(t, y)`: the 5th-order solution into
/// `y1`, stages into `k[1..7]` (`k[6] = f(t + h, y1)`), the error estimate into `err`.
#[allow(clippy::too_many_arguments)]
pub(super) fn dp_step(
    rhs: &mut Rhs<'_>,
    t: f64,
    h: f64,
    y: &[f64],
    k: &mut [Vec<f64>; 7],
    y1: &mut [f64],
    tmp: &mut [f64],
    err: &mut [f64],
) {
    let d = y.len();
    for i in 0..d {
        tmp[i] = y[i] + h * A21 * k[0][i];
    }
    rhs.eval(t + C2 * h, tmp, &mut k[1]);
    for i in 0..d {
        tmp[i] = y[i] + h * (A31 * k[0][i] + A32 * k[1][i]);
    }
    rhs.eval(t + C3 * h, tmp, &mut k[2]);
    for i in 0..d {
        tmp[i] = y[i] + h * (A41 * k[0][i] + A42 * k[1][i] + A43 * k[2][i]);
    }
    rhs.eval(t + C4 * h, tmp, &mut k[3]);
    for i in 0..d {
        tmp[i] = y[i] + h * (A51 * k[0][i] + A52 * k[1][i] + A53 * k[2][i] + A54 * k[3][i]);
    }
    rhs.eval(t + C5 * h, tmp, &mut k[4]);
    for i in 0..d {
        tmp[i] = y[i]
            + h * (A61 * k[0][i] + A62 * k[1][i] + A63 * k[2][i] + A64 * k[3][i] + A65 * k[4][i]);
    }
    rhs.eval(t + h, tmp, &mut k[5]);
    for i in 0..d {
        y1[i] = y[i]
            + h * (A71 * k[0][i] + A73 * k[2][i] + A74 * k[3][i] + A75 * k[4][i] + A76 * k[5][i]);
    }
    rhs.eval(t + h, y1, &mut k[6]);
    for i in 0..d {
        err[i] = h
            * (E1 * k[0][i]
                + E3 * k[2][i]
                + E4 * k[3][i]
                + E5 * k[4][i]
                + E6 * k[5][i]
                + E7 * k[6][i]);
    }
}
