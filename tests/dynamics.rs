//! Target systems and the adaptive teacher solver against exact solutions and known values.
//!
//! Accuracy contract under test: with the default tolerance the dense output — evaluated at
//! step boundaries *and inside steps* — has relative error ≤ 1e-9 (the teacher's contract, docs/architecture.md §2).

use ebnsim::model::dynamics::{DampedPendulum, DoubleWell, Linear, Lorenz, VanDerPol, VectorField};
use ebnsim::model::ode::{integrate, DenseSolution, OdeError, Tolerance, DENSE_DEGREE};
use ebnsim::model::signal::Signal;
use ebnsim::model::teacher::LinearTeacher;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const TOL: f64 = 1e-9;

/// Sample times: an irrational-stride sweep plus the 1/4, 1/2 and 3/4 points of every step (so
/// the dense polynomials are tested inside steps, not only at their ends).
fn sample_times(sol: &DenseSolution, sweep: usize) -> Vec<f64> {
    let (t0, t1) = (sol.start_time(), sol.end_time());
    let mut ts: Vec<f64> = (0..=sweep)
        .map(|i| t0 + (t1 - t0) * ((i as f64 * 0.618_033_988_749_894_9) % 1.0))
        .collect();
    for s in sol.segments() {
        for q in [0.25, 0.5, 0.75] {
            ts.push(s.start + q * (s.end - s.start));
        }
    }
    ts.push(t1);
    ts
}

/// Largest `‖x(t) − x_ref(t)‖∞ / max(‖x_ref(t)‖∞, floor)` over `times`.
fn max_rel_error(
    sol: &DenseSolution,
    times: &[f64],
    floor: f64,
    reference: impl Fn(f64, &mut [f64]),
) -> f64 {
    let d = sol.dims();
    let (mut x, mut r) = (vec![0.0; d], vec![0.0; d]);
    let mut worst = 0.0f64;
    for &t in times {
        sol.eval(t, &mut x);
        reference(t, &mut r);
        let err = x
            .iter()
            .zip(&r)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        let norm = r.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        worst = worst.max(err / norm.max(floor));
    }
    worst
}

/// `exp(M)` for a 2×2 matrix by scaling and squaring a Taylor series (independent of the crate).
fn expm2(m: [[f64; 2]; 2]) -> [[f64; 2]; 2] {
    let norm = m.iter().flatten().fold(0.0f64, |a, v| a.max(v.abs())) * 2.0;
    let mut s = 0;
    while norm / 2f64.powi(s) > 0.25 {
        s += 1;
    }
    let k = 2f64.powi(-s);
    let a = [[m[0][0] * k, m[0][1] * k], [m[1][0] * k, m[1][1] * k]];
    let mul = |p: [[f64; 2]; 2], q: [[f64; 2]; 2]| {
        let mut r = [[0.0; 2]; 2];
        for i in 0..2 {
            for j in 0..2 {
                r[i][j] = p[i][0] * q[0][j] + p[i][1] * q[1][j];
            }
        }
        r
    };
    let mut term = [[1.0, 0.0], [0.0, 1.0]];
    let mut sum = term;
    for n in 1..30 {
        term = mul(term, a);
        for row in term.iter_mut() {
            for v in row.iter_mut() {
                *v /= n as f64;
            }
        }
        for i in 0..2 {
            for j in 0..2 {
                sum[i][j] += term[i][j];
            }
        }
    }
    for _ in 0..s {
        sum = mul(sum, sum);
    }
    sum
}

#[test]
fn rotation_matches_the_closed_form_inside_steps() {
    let w = 2.0 * std::f64::consts::PI * 1.3;
    let f = Linear::new(&[vec![0.0, -w], vec![w, 0.0]]).unwrap();
    let x0 = [1.0, 0.5];
    let sol = integrate(&f, &Signal::zero(2), &x0, 20.0, Tolerance::default()).unwrap();
    let times = sample_times(&sol, 20_000);
    let err = max_rel_error(&sol, &times, 0.0, |t, out| {
        let (c, s) = ((w * t).cos(), (w * t).sin());
        out[0] = c * x0[0] - s * x0[1];
        out[1] = s * x0[0] + c * x0[1];
    });
    assert!(err <= TOL, "rotation: relative error {err:e}");
}

#[test]
fn boerlin_oscillator_matches_a_matrix_exponential() {
    let a = [[-4.8, -22.4], [40.0, 0.0]];
    let f = Linear::new(&[a[0].to_vec(), a[1].to_vec()]).unwrap();
    let x0 = [1.0, -0.5];
    let sol = integrate(&f, &Signal::zero(2), &x0, 2.0, Tolerance::default()).unwrap();
    let times = sample_times(&sol, 5_000);
    let err = max_rel_error(&sol, &times, 0.0, |t, out| {
        let e = expm2([[a[0][0] * t, a[0][1] * t], [a[1][0] * t, a[1][1] * t]]);
        out[0] = e[0][0] * x0[0] + e[0][1] * x0[1];
        out[1] = e[1][0] * x0[0] + e[1][1] * x0[1];
    });
    assert!(err <= TOL, "damped oscillator: relative error {err:e}");
}

/// Integrates the Boerlin oscillator driven by `input` and compares with the exact
/// [`LinearTeacher`]; also checks that every knot inside the span is a step boundary.
fn driven_linear_error(input: &Signal, t_end: f64) -> f64 {
    let a = [-4.8, -22.4, 40.0, 0.0];
    let f = Linear::from_row_major(2, &a).unwrap();
    let x0 = [0.3, -0.2];
    let sol = integrate(&f, input, &x0, t_end, Tolerance::default()).unwrap();
    let exact = LinearTeacher::new(&a, &x0, input).unwrap();
    let starts: Vec<f64> = sol.segments().map(|s| s.start).collect();
    for &k in input.knots().iter().filter(|&&k| k > 0.0 && k < t_end) {
        assert!(
            starts.binary_search_by(|s| s.total_cmp(&k)).is_ok(),
            "knot {k} is not a step boundary"
        );
    }
    let times = sample_times(&sol, 5_000);
    // Relative to the state's size along the run (it passes near 0 when driven).
    let scale = times.iter().fold(0.0f64, |m, &t| {
        let mut x = [0.0; 2];
        exact.state_at(t, &mut x);
        m.max(x[0].abs()).max(x[1].abs())
    });
    max_rel_error(&sol, &times, 1e-2 * scale, |t, out| exact.state_at(t, out))
}

#[test]
fn driven_linear_system_with_piecewise_constant_input_respects_knots() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let times: Vec<f64> = (0..40).map(|i| i as f64 * 0.1).collect();
    let values: Vec<Vec<f64>> = times
        .iter()
        .map(|_| vec![rng.gen_range(-50.0..50.0), rng.gen_range(-50.0..50.0)])
        .collect();
    let input = Signal::piecewise_constant(2, &times, &values).unwrap();
    let err = driven_linear_error(&input, 4.2);
    assert!(
        err <= TOL,
        "piecewise-constant input: relative error {err:e}"
    );
}

#[test]
fn driven_linear_system_with_piecewise_linear_input_respects_knots() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let mut t = 0.0;
    let mut times = Vec::new();
    while t < 3.0 {
        times.push(t);
        t += rng.gen_range(0.01..0.2);
    }
    let values: Vec<Vec<f64>> = times
        .iter()
        .map(|_| vec![rng.gen_range(-50.0..50.0), rng.gen_range(-50.0..50.0)])
        .collect();
    let input = Signal::piecewise_linear(2, &times, &values).unwrap();
    let err = driven_linear_error(&input, 3.0);
    assert!(err <= TOL, "piecewise-linear input: relative error {err:e}");
}

#[test]
fn driven_linear_system_with_smooth_random_input() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let input = Signal::smooth_random(&[0.0, 0.0], 20.0, 0.05, 5.0, &mut rng).unwrap();
    let err = driven_linear_error(&input, 5.0);
    assert!(err <= TOL, "spline input: relative error {err:e}");
}

/// Upward zero crossings of component `j` of the dense output, each refined on its step's
/// polynomial by bisection to full precision.
fn upward_crossings(sol: &DenseSolution, j: usize) -> Vec<f64> {
    let mut out = Vec::new();
    let mut x = vec![0.0; sol.dims()];
    for s in sol.segments() {
        let h = s.end - s.start;
        let v = |u: f64, x: &mut [f64]| {
            s.eval_local(u, x);
            x[j]
        };
        let (a, b) = (v(0.0, &mut x), v(h, &mut x));
        if a < 0.0 && b >= 0.0 {
            let (mut lo, mut hi) = (0.0, h);
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if mid <= lo || mid >= hi {
                    break;
                }
                if v(mid, &mut x) < 0.0 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            out.push(s.start + 0.5 * (lo + hi));
        }
    }
    out
}

#[test]
fn van_der_pol_period_matches_the_known_value() {
    // Period of the μ = 1 limit cycle (e.g. Strogatz; many digits in the literature).
    const PERIOD: f64 = 6.663_286_859_323_13;
    let f = VanDerPol::new(1.0, 1.0, 1.0).unwrap();
    let sol = integrate(
        &f,
        &Signal::zero(2),
        &[2.0, 0.0],
        200.0,
        Tolerance::default(),
    )
    .unwrap();
    let zc: Vec<f64> = upward_crossings(&sol, 0)
        .into_iter()
        .filter(|&t| t > 30.0)
        .collect();
    assert!(zc.len() > 20);
    let period = (zc[zc.len() - 1] - zc[0]) / (zc.len() - 1) as f64;
    let rel = (period - PERIOD).abs() / PERIOD;
    // Cycle to cycle, not only on average.
    let worst = zc
        .windows(2)
        .map(|w| ((w[1] - w[0]) - PERIOD).abs() / PERIOD)
        .fold(0.0f64, f64::max);
    assert!(rel <= 1e-7, "period {period} vs {PERIOD}: {rel:e}");
    assert!(worst <= 1e-7, "single-cycle period error {worst:e}");

    // The scaled system (prototype regime) is the same cycle: period / time_scale.
    let g = VanDerPol::default();
    let sol = integrate(
        &g,
        &Signal::zero(2),
        &[1.0, 0.0],
        30.0,
        Tolerance::default(),
    )
    .unwrap();
    let zc: Vec<f64> = upward_crossings(&sol, 0)
        .into_iter()
        .filter(|&t| t > 5.0)
        .collect();
    let p = (zc[zc.len() - 1] - zc[0]) / (zc.len() - 1) as f64;
    let rel = (p - PERIOD / g.time_scale()).abs() / (PERIOD / g.time_scale());
    assert!(rel <= 1e-7, "scaled period {p}: {rel:e}");
}

#[test]
fn undamped_pendulum_conserves_energy() {
    for (time_scale, amplitude) in [(1.0, 1.0), (2.0, 0.5)] {
        let f =
            DampedPendulum::new(0.0, 2.0 * std::f64::consts::PI, time_scale, amplitude).unwrap();
        // A large swing (θ = 2.5 rad), ~100 periods.
        let x0 = [2.5 * amplitude, 0.0];
        let e0 = f.energy(&x0);
        let sol = integrate(
            &f,
            &Signal::zero(2),
            &x0,
            200.0 / time_scale,
            Tolerance::default(),
        )
        .unwrap();
        let mut x = [0.0; 2];
        let mut worst = 0.0f64;
        for t in sample_times(&sol, 20_000) {
            sol.eval(t, &mut x);
            worst = worst.max((f.energy(&x) - e0).abs() / e0);
        }
        assert!(worst <= TOL, "energy drift {worst:e}");
    }
}

#[test]
fn lorenz_agrees_with_a_tight_tolerance_run() {
    for f in [
        Lorenz::default(),
        Lorenz::canonical(10.0, 28.0, 8.0 / 3.0).unwrap(),
    ] {
        // About 2 time units of the canonical system (Lyapunov exponent 0.9).
        let t_end = 2.0 / f.time_scale();
        let x0 = if f.amplitude() == 1.0 {
            [1.0, 1.0, 20.0]
        } else {
            [0.1, 0.1, -0.5]
        };
        let z = Signal::zero(3);
        let sol = integrate(&f, &z, &x0, t_end, Tolerance::default()).unwrap();
        let tight = integrate(&f, &z, &x0, t_end, Tolerance::new(1e-13, 1e-15)).unwrap();
        let times = sample_times(&sol, 5_000);
        let scale = times.iter().fold(0.0f64, |m, &t| {
            let mut x = [0.0; 3];
            tight.eval(t, &mut x);
            x.iter().fold(m, |m, v| m.max(v.abs()))
        });
        let err = max_rel_error(&sol, &times, scale, |t, out| tight.eval(t, out));
        assert!(err <= TOL, "Lorenz {f:?}: relative error {err:e}");
    }
}

#[test]
fn scaled_systems_are_the_canonical_ones_rescaled() {
    // x(t) = a (y(s t) − offset): checks the documented convention end to end.
    let z2 = Signal::zero(2);
    let canon = VanDerPol::new(1.0, 1.0, 1.0).unwrap();
    let scaled = VanDerPol::new(1.0, 8.0, 0.5).unwrap();
    let y = integrate(&canon, &z2, &[2.0, 0.0], 8.0, Tolerance::default()).unwrap();
    let x = integrate(&scaled, &z2, &[1.0, 0.0], 1.0, Tolerance::default()).unwrap();
    let (mut xv, mut yv) = ([0.0; 2], [0.0; 2]);
    for i in 0..=1000 {
        let t = i as f64 * 1e-3;
        x.eval(t, &mut xv);
        y.eval(8.0 * t, &mut yv);
        for j in 0..2 {
            assert!((xv[j] - 0.5 * yv[j]).abs() <= 1e-9, "t = {t}");
        }
    }
    let z3 = Signal::zero(3);
    let canon = Lorenz::canonical(10.0, 28.0, 8.0 / 3.0).unwrap();
    let scaled = Lorenz::default();
    let y = integrate(&canon, &z3, &[1.0, 2.0, 20.0], 1.0, Tolerance::default()).unwrap();
    let x = integrate(&scaled, &z3, &[0.1, 0.2, -0.5], 2.0, Tolerance::default()).unwrap();
    let (mut xv, mut yv) = ([0.0; 3], [0.0; 3]);
    for i in 0..=1000 {
        let t = i as f64 * 2e-3;
        x.eval(t, &mut xv);
        y.eval(0.5 * t, &mut yv);
        let back = [yv[0] / 10.0, yv[1] / 10.0, (yv[2] - 25.0) / 10.0];
        for j in 0..3 {
            assert!(
                (xv[j] - back[j]).abs() <= 1e-8,
                "t = {t}: {xv:?} vs {back:?}"
            );
        }
    }
}

#[test]
fn built_in_fields_match_the_prototype_formulas() {
    // shared/prototype/ebn.py, g_numpy, transcribed literally.
    let (s, mu, a) = (8.0, 1.0, 0.5);
    let vdp = |x: [f64; 2]| {
        let (y1, y2) = (x[0] / a, x[1] / a);
        [s * a * y2, s * a * (mu * (1.0 - y1 * y1) * y2 - y1)]
    };
    let (ls, sg, rho, be, la, zo) = (0.5, 10.0, 28.0, 8.0 / 3.0, 10.0, 25.0);
    let lorenz = |x: [f64; 3]| {
        let (bx, by, bz) = (la * x[0], la * x[1], la * x[2] + zo);
        [
            ls * sg * (by - bx) / la,
            ls * (bx * (rho - bz) - by) / la,
            ls * (bx * by - be * bz) / la,
        ]
    };
    let dwell = |x: f64| 5.0 * (x - x * x * x);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let close = |p: &[f64], q: &[f64]| {
        p.iter()
            .zip(q)
            .all(|(u, v)| (u - v).abs() <= 1e-13 * v.abs().max(1.0))
    };
    for _ in 0..100 {
        let x2 = [rng.gen_range(-2.0..2.0), rng.gen_range(-2.0..2.0)];
        let x3 = [
            rng.gen_range(-2.0..2.0),
            rng.gen_range(-2.0..2.0),
            rng.gen_range(-2.0..2.0),
        ];
        let mut o2 = [0.0; 2];
        VanDerPol::default().eval(&x2, &mut o2);
        assert!(close(&o2, &vdp(x2)), "{o2:?} vs {:?}", vdp(x2));
        let mut o3 = [0.0; 3];
        Lorenz::default().eval(&x3, &mut o3);
        assert!(close(&o3, &lorenz(x3)), "{o3:?} vs {:?}", lorenz(x3));
        DoubleWell::two_d(5.0).unwrap().eval(&x2, &mut o2);
        assert!(close(&o2, &[dwell(x2[0]), dwell(x2[1])]));
        let mut o1 = [0.0];
        DoubleWell::default().eval(&x2[..1], &mut o1);
        assert!(close(&o1, &[dwell(x2[0])]));
    }
}

#[test]
fn double_well_relaxes_to_its_attractors() {
    let f = DoubleWell::new(2, 5.0, 0.8).unwrap();
    let z = Signal::zero(2);
    for (x0, want) in [
        ([0.3, -0.1], [0.8, -0.8]),
        ([-1.5, 0.05], [-0.8, 0.8]),
        ([-0.01, -2.0], [-0.8, -0.8]),
    ] {
        let sol = integrate(&f, &z, &x0, 10.0, Tolerance::default()).unwrap();
        for (x, w) in sol.end_state().iter().zip(want) {
            assert!((x - w).abs() < 1e-10, "{:?}", sol.end_state());
        }
    }
}

/// `ẋ = x²`: blows up at `t = 1/x0`.
#[derive(Debug)]
struct Square;

impl VectorField for Square {
    fn dims(&self) -> usize {
        1
    }
    fn eval(&self, x: &[f64], out: &mut [f64]) {
        out[0] = x[0] * x[0];
    }
}

/// A field undefined (NaN) beyond `x = 1.5`, with `ẋ = 1`.
#[derive(Debug)]
struct Partial;

impl VectorField for Partial {
    fn dims(&self) -> usize {
        1
    }
    fn eval(&self, x: &[f64], out: &mut [f64]) {
        out[0] = if x[0] > 1.5 { f64::NAN } else { 1.0 };
    }
}

#[test]
fn blow_up_is_an_error_naming_the_time() {
    let z = Signal::zero(1);
    let e = integrate(&Square, &z, &[1.0], 2.0, Tolerance::default()).unwrap_err();
    let t = e.time().unwrap();
    assert!(
        matches!(
            e,
            OdeError::StepSizeUnderflow { .. } | OdeError::NonFinite { .. }
        ),
        "{e}"
    );
    assert!((0.999..=1.0).contains(&t), "blow-up reported at {t}");
    assert!(e.to_string().contains("t = "));

    let e = integrate(&Partial, &z, &[0.0], 2.0, Tolerance::default()).unwrap_err();
    assert!((1.49..=1.5 + 1e-9).contains(&e.time().unwrap()), "{e}");

    #[derive(Debug)]
    struct Nan;
    impl VectorField for Nan {
        fn dims(&self) -> usize {
            1
        }
        fn eval(&self, _x: &[f64], out: &mut [f64]) {
            out[0] = f64::NAN;
        }
    }
    let e = integrate(&Nan, &z, &[0.0], 1.0, Tolerance::default()).unwrap_err();
    assert!(
        matches!(e, OdeError::NonFinite { time, .. } if time == 0.0),
        "{e}"
    );
}

#[test]
fn reruns_are_bit_identical() {
    let run = || {
        let mut rng = ChaCha8Rng::seed_from_u64(21);
        let input = Signal::smooth_random(&[0.0, 0.0], 2.0, 0.05, 20.0, &mut rng).unwrap();
        integrate(
            &VanDerPol::default(),
            &input,
            &[1.0, 0.0],
            20.0,
            Tolerance::default(),
        )
        .unwrap()
    };
    let (a, b) = (run(), run());
    assert_eq!(a.steps(), b.steps());
    assert!(a.steps() > 100);
    for (s, t) in a.segments().zip(b.segments()) {
        assert_eq!(s.start.to_bits(), t.start.to_bits());
        assert_eq!(s.degree, DENSE_DEGREE);
        assert!(s
            .coeffs
            .iter()
            .zip(t.coeffs)
            .all(|(p, q)| p.to_bits() == q.to_bits()));
    }
    assert_eq!(a, b);
}

#[test]
fn a_later_start_continues_the_same_solution() {
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let input = Signal::smooth_random(&[0.0, 0.0], 2.0, 0.05, 3.0, &mut rng).unwrap();
    let f = VanDerPol::default();
    let whole = integrate(&f, &input, &[1.0, 0.0], 3.0, Tolerance::default()).unwrap();
    let mut x_mid = [0.0; 2];
    whole.eval(1.234, &mut x_mid);
    let rest =
        ebnsim::model::ode::integrate_span(&f, &input, &x_mid, 1.234, 3.0, Tolerance::default())
            .unwrap();
    assert_eq!(rest.start_time(), 1.234);
    assert_eq!(rest.end_time(), 3.0);
    let times = sample_times(&rest, 2_000);
    let err = max_rel_error(&rest, &times, 0.1, |t, out| whole.eval(t, out));
    assert!(err <= TOL, "restart: relative error {err:e}");
}
