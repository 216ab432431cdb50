//! Fuzzing of the certified crossing search against a double-double (≈ 32-digit) evaluation of
//! the same closed form: random exponential polynomials `V(τ) = v0 e^{-λ_V τ} + Σ b_k R_k(τ) +
//! s E(τ)`, with thresholds placed at, just above and just below their maximum (grazing cases),
//! must give a time where the precise voltage is at threshold (up to the evaluation's rounding)
//! and no earlier sample where it is above; `None` only when no sample is above.
//!
//! `EBNSIM_FUZZ_CASES` (default 300) sets the number of trajectories, `EBNSIM_FUZZ_SEED` the
//! generator's seed.

use crate::closed_form::crossing::{first_crossing, CrossingStats};
use crate::closed_form::expo::{Membrane, Trajectory, MAX_DEGREE};
use rand::{Rng, SeedableRng};

/// A double-double number `hi + lo`, |lo| ≤ ulp(hi)/2.
#[derive(Clone, Copy, Debug)]
struct Dd {
    hi: f64,
    lo: f64,
}

fn two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    let bb = s - a;
    Dd {
        hi: s,
        lo: (a - (s - bb)) + (b - bb),
    }
}

fn quick(a: f64, b: f64) -> Dd {
    let s = a + b;
    Dd {
        hi: s,
        lo: b - (s - a),
    }
}

impl Dd {
    fn of(x: f64) -> Dd {
        Dd { hi: x, lo: 0.0 }
    }
    fn add(self, o: Dd) -> Dd {
        let s = two_sum(self.hi, o.hi);
        let t = two_sum(self.lo, o.lo);
        let v = quick(s.hi, s.lo + t.hi);
        quick(v.hi, v.lo + t.lo)
    }
    fn neg(self) -> Dd {
        Dd {
            hi: -self.hi,
            lo: -self.lo,
        }
    }
    fn mul(self, o: Dd) -> Dd {
        let p = self.hi * o.hi;
        let e = self.hi.mul_add(o.hi, -p);
        quick(p, e + (self.hi * o.lo + self.lo * o.hi))
    }
    fn div_f64(self, b: f64) -> Dd {
        let q1 = self.hi / b;
        let p = q1 * b;
        let e = q1.mul_add(b, -p);
        let r = self.add(Dd { hi: -p, lo: -e });
        quick(q1, r.hi / b)
    }
    fn to_f64(self) -> f64 {
        self.hi + self.lo
    }
}

/// `e^x` in double-double: `x = k ln 2 + r`, `r / 2^10` by Taylor, squared back.
fn exp_dd(x: Dd) -> Dd {
    const LN2: Dd = Dd {
        hi: std::f64::consts::LN_2,
        lo: 2.319_046_813_846_299_6e-17,
    };
    let k = (x.hi / LN2.hi).round();
    let r = x.add(LN2.mul(Dd::of(k)).neg());
    let r = r.div_f64(1024.0);
    let mut term = Dd::of(1.0);
    let mut sum = Dd::of(1.0);
    for n in 1..=20 {
        term = term.mul(r).div_f64(n as f64);
        sum = sum.add(term);
    }
    for _ in 0..10 {
        sum = sum.mul(sum);
    }
    let scale = 2f64.powi(k as i32);
    Dd {
        hi: sum.hi * scale,
        lo: sum.lo * scale,
    }
}

/// `∫_0^τ e^{-λ(τ-u)} u^k du = Σ_m (−λ)^m τ^{k+m+1} k!/(k+m+1)!` (an alternating series; the
/// cases keep λτ ≤ 12, where its largest term costs at most 6 of the 32 digits).
fn r_dd(lambda: f64, tau: f64, k: usize) -> Dd {
    let lt = Dd::of(lambda).mul(Dd::of(tau)).neg();
    // The first term, τ^{k+1} k!/(k+1)! = τ^{k+1}/(k+1).
    let mut term = Dd::of(1.0);
    for _ in 0..=k {
        term = term.mul(Dd::of(tau));
    }
    term = term.div_f64((k + 1) as f64);
    let mut sum = term;
    for m in 1..200 {
        term = term.mul(lt).div_f64((k + m + 1) as f64);
        sum = sum.add(term);
        if term.hi.abs() < 1e-40 * sum.hi.abs().max(1e-300) {
            break;
        }
    }
    sum
}

/// `V(τ)` in double-double, and the magnitude of its terms (the scale of f64 rounding).
fn v_dd(lv: f64, ld: f64, tr: &Trajectory, tau: f64) -> (f64, f64) {
    let leak = exp_dd(Dd::of(lv).mul(Dd::of(tau)).neg());
    let mut v = Dd::of(tr.v0).mul(leak);
    let mut mag = (tr.v0 * leak.hi).abs();
    for k in 0..=tr.degree {
        let term = Dd::of(tr.drive[k]).mul(r_dd(lv, tau, k));
        mag += term.hi.abs();
        v = v.add(term);
    }
    // E(τ) = e^{-λ_V τ} ∫_0^τ e^{(λ_V − λ_d) u} du = e^{-λ_V τ} τ Σ (δτ)^m / (m+1)!
    let dt = Dd::of(lv - ld).mul(Dd::of(tau));
    let mut term = Dd::of(tau);
    let mut e = term;
    for m in 1..200 {
        term = term.mul(dt).div_f64((m + 1) as f64);
        e = e.add(term);
        if term.hi.abs() < 1e-40 * e.hi.abs().max(1e-300) {
            break;
        }
    }
    let slow = Dd::of(tr.slow).mul(e.mul(leak));
    mag += slow.hi.abs();
    (v.add(slow).to_f64(), mag)
}

fn cases() -> usize {
    std::env::var("EBNSIM_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300)
}

#[test]
fn double_double_reference_is_accurate() {
    // exp of f64 arguments against mpmath's, as hi + lo pairs (40 digits): 28 digits or better.
    for (x, hi, lo) in [
        (1.0, std::f64::consts::E, 1.445_646_891_729_250_2e-16),
        (-3.7, 0.024_723_526_470_339_388, -1.294_857_794_723_138e-18),
        (0.1, 1.105_170_918_075_647_7, -8.149_523_913_327_619e-17),
        (-11.5, 1.013_009_359_863_071e-5, 1.809_542_175_343_215_2e-22),
    ] {
        let got = exp_dd(Dd::of(x));
        let err = (got.hi - hi) + (got.lo - lo);
        assert!(
            err.abs() <= 1e-28 * hi,
            "exp({x}) = {got:?}, off by {err:e}"
        );
    }
    let (l, t) = (7.0, 0.9);
    let r0 = r_dd(l, t, 0).to_f64();
    let want = -(-l * t).exp_m1() / l;
    assert!((r0 - want).abs() <= 4e-16 * want, "{r0} vs {want}");
}

#[test]
fn crossing_search_agrees_with_a_double_double_reference() {
    let seed = std::env::var("EBNSIM_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261203u64);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    const SAMPLES: usize = 600;
    let mut crossings = 0;
    for case in 0..cases() {
        let lv: f64 = rng.gen_range(2.0..80.0);
        let ld = if rng.gen_bool(0.2) {
            lv
        } else {
            rng.gen_range(2.0..80.0)
        };
        let degree = rng.gen_range(0..=3.min(MAX_DEGREE));
        let end: f64 = rng.gen_range(0.1..12.0) / lv.max(ld);
        let mut drive = [0.0; MAX_DEGREE + 1];
        for (k, b) in drive.iter_mut().enumerate().take(degree + 1) {
            *b = rng.gen_range(-1.0..1.0) * 30.0 / end.powi(k as i32);
        }
        let tr = Trajectory {
            v0: rng.gen_range(-1.0..1.0),
            drive,
            slow: if rng.gen_bool(0.7) {
                rng.gen_range(-30.0..30.0)
            } else {
                0.0
            },
            degree,
        };
        let m = Membrane::new(lv, ld);
        // The threshold at, just above or just below the sampled maximum after the start:
        // grazing crossings, and near misses.
        let max = (1..=SAMPLES)
            .map(|i| m.value_of(&tr, end * i as f64 / SAMPLES as f64))
            .fold(f64::NEG_INFINITY, f64::max);
        let rel = [0.0, 1e-12, -1e-12, 1e-9, -1e-9, 1e-4, -1e-4, 0.3][rng.gen_range(0..8)];
        let th = max + rel * max.abs().max(1e-3);
        if tr.v0 >= th {
            continue;
        }
        let found = first_crossing(&m, &tr, th, 0.0, 0.0, end, &mut CrossingStats::default());
        let tol = |mag: f64| 64.0 * f64::EPSILON * mag.max(th.abs());
        let horizon = found.unwrap_or(end);
        if let Some(t) = found {
            crossings += 1;
            let (v, mag) = v_dd(lv, ld, &tr, t);
            assert!(
                v >= th - tol(mag),
                "case {case}: V({t}) = {v} below T = {th} (tol {}) for {tr:?}, λ_V {lv}, λ_d {ld}",
                tol(mag)
            );
        }
        // No earlier time where the precise voltage is above threshold beyond rounding: sampled
        // in f64, re-evaluated precisely where close.
        for i in 0..=SAMPLES {
            let s = horizon * i as f64 / SAMPLES as f64;
            if found.is_some() && s >= horizon {
                break;
            }
            if m.value_of(&tr, s) < th - 1e-6 * th.abs().max(1.0) {
                continue;
            }
            let (v, mag) = v_dd(lv, ld, &tr, s);
            assert!(
                v <= th + tol(mag),
                "case {case}: missed: V({s}) = {v} above T = {th} before {found:?} for {tr:?}, \
                 λ_V {lv}, λ_d {ld}"
            );
        }
    }
    assert!(crossings > 0, "no case crossed");
}
