//! The relaxation index against a scan of every neuron.

use super::{Relaxation, NONE};

/// An index over explicit neurons: decoders `d` (either sign), `q_i = 1`, frame values `w`,
/// laid out as `build` lays them out, its bounds exact at `y`.
fn index(d: &[f64], w: &[f64], y: f64) -> Relaxation {
    let n = d.len();
    let mut rx = Relaxation {
        valid: true,
        q: vec![1.0; n],
        decoder: d.iter().map(|x| x.abs()).collect(),
        slot: vec![NONE; n],
        ..Relaxation::default()
    };
    rx.lay_out(d, w, |_| true, y);
    rx
}

/// Every query's minimum and band equal a scan of `κ_i = −(D_i Y + w_i)`, while `Y` moves
/// both ways and neurons' `w` change or they stop and start being able to fire.
#[test]
fn the_index_equals_a_scan() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for n in [1usize, 2, 3, 7, 64, 100, 700] {
        let d: Vec<f64> = (0..n)
            .map(|_| rng.gen_range(0.5..1.5) * if rng.gen_bool(0.7) { 1.0 } else { -1.0 })
            .collect();
        let mut w: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let mut fires = vec![true; n];
        let mut y = 0.0;
        let mut rx = index(&d, &w, y);
        let mut band = Vec::new();
        for step in 0..600 {
            y += rng.gen_range(-0.3..0.3);
            if step % 3 == 0 {
                let i = rng.gen_range(0..n);
                fires[i] = rng.gen_bool(0.9);
                w[i] = rng.gen_range(-1.0..1.0) - d[i] * y;
                rx.touch(i, w[i], fires[i], y);
            }
            let kappa = |i: usize| {
                if fires[i] {
                    d[i].abs() * (-d[i].signum() * y - w[i] / d[i].abs())
                } else {
                    f64::INFINITY
                }
            };
            let scan = (0..n).map(kappa).fold(f64::INFINITY, f64::min);
            // A ceiling below the smallest κ finds nobody; one above finds it; no ceiling
            // finds it too. The band under a ceiling is complete either way.
            let ceiling = match step % 3 {
                0 => scan - 0.25,
                1 => scan + 0.25,
                _ => f64::INFINITY,
            };
            let kmin = rx.min_at(y, ceiling);
            let want = if scan <= ceiling { scan } else { f64::INFINITY };
            assert_eq!(kmin, want, "n = {n}, step {step}, ceiling {ceiling}");
            for bound in [scan - 0.25, scan, scan + 0.5] {
                rx.within(y, bound, &mut band);
                band.sort_unstable();
                let want: Vec<u32> = (0..n)
                    .filter(|&i| kappa(i) <= bound)
                    .map(|i| i as u32)
                    .collect();
                assert_eq!(band, want, "n = {n}, step {step}, bound {bound}");
            }
        }
    }
}
