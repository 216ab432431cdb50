//! The hierarchy against brute force, and its pruning.

use super::*;
use rand::{Rng, SeedableRng};

fn random(n: usize, d: usize, seed: u64, equal_norms: bool) -> (Vec<f64>, Vec<f64>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut dec = vec![0.0; n * d];
    for row in dec.chunks_exact_mut(d) {
        for x in row.iter_mut() {
            *x = rng.gen_range(-1.0..1.0);
        }
        if equal_norms {
            let r = norm(row);
            row.iter_mut().for_each(|x| *x *= 0.1 / r);
        }
    }
    let th = dec
        .chunks_exact(d)
        .map(|r| {
            0.5 * dot(r, r)
                + if equal_norms {
                    0.0
                } else {
                    rng.gen_range(0.0..1e-3)
                }
        })
        .collect();
    (dec, th)
}

/// Brute force against the hierarchy: the same argmax and the same set within reach, for
/// random points, decoders of equal and of random norms, d = 1..4, and random w.
#[test]
fn queries_equal_brute_force() {
    for (d, n, equal) in [
        (1, 50, false),
        (2, 333, true),
        (2, 200, false),
        (3, 500, true),
        (4, 77, false),
    ] {
        let (dec, th) = random(n, d, d as u64 + n as u64, equal);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let w: Vec<f64> = (0..n)
            .map(|_| {
                if rng.gen_bool(0.3) {
                    -rng.gen_range(0.0..0.02)
                } else {
                    0.0
                }
            })
            .collect();
        let alive: Vec<bool> = (0..n).map(|i| i % 7 != 3).collect();
        let tree = DecoderTree::build(&dec, d, &th, &alive, &w);
        let mut scratch = Scratch::default();
        for _ in 0..200 {
            let y: Vec<f64> = (0..d).map(|_| rng.gen_range(-0.2..0.2)).collect();
            let g = rng.gen_range(0.5..2.0);
            let can_fire = |i: usize| alive[i];
            let value =
                |i: usize| alive[i].then(|| dot(&dec[i * d..(i + 1) * d], &y) + w[i] * g - th[i]);
            let brute = (0..n).filter_map(|i| value(i).map(|v| (v, i))).fold(
                None,
                |b: Option<(f64, usize)>, (v, i)| match b {
                    Some((bv, bi)) if bv > v || (bv == v && bi < i) => Some((bv, bi)),
                    _ => Some((v, i)),
                },
            );
            assert_eq!(
                tree.argmax(&y, g, f64::NEG_INFINITY, can_fire, &mut scratch.stack),
                brute
            );
            let above0 = brute.filter(|b| b.0 > 0.0);
            assert_eq!(
                tree.argmax(&y, g, 0.0, can_fire, &mut scratch.stack),
                above0
            );
            // Within reach over a piece where y moves in a random box and w's decay.
            let lo: Vec<f64> = (0..d).map(|_| -rng.gen_range(0.0..0.02)).collect();
            let hi: Vec<f64> = (0..d).map(|_| rng.gen_range(0.0..0.02)).collect();
            let r = Reach {
                lo: &lo,
                hi: &hi,
                wgrow: rng.gen_range(0.0..0.5),
                slack: 1e-3,
            };
            assert!(tree.within_reach(&y, g, &r, can_fire, n, &mut scratch));
            let mut out = scratch.band.clone();
            let reach = |i: usize| {
                let di = &dec[i * d..(i + 1) * d];
                let s: f64 = (0..d).map(|k| (di[k] * lo[k]).max(di[k] * hi[k])).sum();
                s + r.wgrow * (-w[i] * g).max(0.0)
            };
            let mut want: Vec<u32> = (0..n as u32)
                .filter(|&i| {
                    let i = i as usize;
                    value(i).is_some_and(|v| v + reach(i) * (1.0 + 1e-12) + r.slack > 0.0)
                })
                .collect();
            out.sort_unstable();
            want.sort_unstable();
            assert_eq!(out, want);
        }
    }
}

/// Updating one neuron's w keeps every node's extremes equal to a rebuild's.
#[test]
fn updates_equal_a_refresh() {
    let (dec, th) = random(300, 2, 3, true);
    let alive = vec![true; 300];
    let mut w = vec![0.0; 300];
    let mut tree = DecoderTree::build(&dec, 2, &th, &alive, &w);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    for _ in 0..500 {
        let j = rng.gen_range(0..300);
        w[j] = rng.gen_range(-1.0..1.0);
        tree.update_w(j, &alive, &w);
    }
    let fresh = DecoderTree::build(&dec, 2, &th, &alive, &w);
    for (a, b) in tree.nodes.iter().zip(&fresh.nodes) {
        assert_eq!((a.wmax, a.wmin, a.tmin), (b.wmax, b.wmin, b.tmin));
    }
}

/// Deferred changes, flushed, leave every node's extremes equal to a rebuild's — a few at a
/// time (one path each), many (one sweep), or more than N (flushed on the way) — and until
/// then `wabs` bounds every |w| and `argmax_among` sees the new values.
#[test]
fn deferred_updates_equal_a_refresh() {
    let n = 300;
    let (dec, th) = random(n, 2, 3, true);
    let mut alive = vec![true; n];
    alive[7] = false;
    let mut w = vec![0.0; n];
    let mut tree = DecoderTree::build(&dec, 2, &th, &alive, &w);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for changes in [1usize, 5, 30, 200, 2 * n + 100] {
        for _ in 0..changes {
            let j = rng.gen_range(0..n);
            w[j] = rng.gen_range(-2.0..2.0);
            tree.defer_w(j, w[j], &alive);
            let all: Vec<u32> = (0..n as u32).collect();
            let wabs = (0..n)
                .filter(|&i| alive[i])
                .map(|i| w[i].abs())
                .fold(0.0, f64::max);
            assert!(tree.wabs() >= wabs);
            let y = [0.3, -0.2];
            let best = tree.argmax_among(&all, &y, 1.0, f64::NEG_INFINITY, |_| true);
            let value = |i: usize| dec[2 * i] * y[0] + dec[2 * i + 1] * y[1] + w[i] - th[i];
            let want =
                (0..n)
                    .map(|i| (value(i), i))
                    .fold(None, |b: Option<(f64, usize)>, (v, i)| {
                        if b.is_none_or(|(bv, _)| v > bv) {
                            Some((v, i))
                        } else {
                            b
                        }
                    });
            assert_eq!(best, want);
        }
        tree.flush(&alive);
        assert!(!tree.is_stale());
        let fresh = DecoderTree::build(&dec, 2, &th, &alive, &w);
        for (a, b) in tree.nodes.iter().zip(&fresh.nodes) {
            assert_eq!(
                (a.wmax, a.wmin, a.tmin),
                (b.wmax, b.wmin, b.tmin),
                "{changes} changes"
            );
        }
    }
}

/// For equal-norm decoders in 2-D, the descent opens few leaves (the point of the tree).
#[test]
fn a_query_visits_few_nodes() {
    let n = 20_000;
    let (dec, th) = random(n, 2, 5, true);
    let alive = vec![true; n];
    let w = vec![0.0; n];
    let tree = DecoderTree::build(&dec, 2, &th, &alive, &w);
    let mut stack = Vec::new();
    let y = [0.03, 0.04];
    let best = tree.argmax(&y, 1.0, f64::NEG_INFINITY, |_| true, &mut stack);
    assert!(best.is_some());
    let evaluated = tree.evaluated.get();
    assert!(evaluated < 200, "{evaluated} neurons evaluated of {n}");
}

/// One dimension, positive decoders of different norms, EBN thresholds `(D² + μ)/2`: every
/// cone is trivial, and only the envelope tells the nodes apart (members near threshold at
/// `y ≈ T_i / D_i`). The descent opens fewer leaves, and finds what brute force finds.
#[test]
fn the_envelope_prunes_in_one_dimension() {
    let n = 1600;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let scale = (20.0 / n as f64).sqrt();
    let dec: Vec<f64> = (0..n).map(|_| rng.gen_range(0.05..0.15) * scale).collect();
    let mu = 1e-4;
    let th: Vec<f64> = dec.iter().map(|x| 0.5 * (x * x + mu)).collect();
    // Most neurons rested (w = 0), a tenth spiked recently.
    let w: Vec<f64> = (0..n)
        .map(|_| {
            if rng.gen_bool(0.1) {
                -rng.gen_range(0.0..mu)
            } else {
                0.0
            }
        })
        .collect();
    let alive = vec![true; n];
    let tree = DecoderTree::build(&dec, 1, &th, &alive, &w);
    let mut stack = Vec::new();
    for y in [0.008, 0.0099, 0.0105, 0.0112] {
        let value = |i: usize| dec[i] * y + w[i] - th[i];
        let brute = (0..n).fold(None, |b: Option<(f64, usize)>, i| match b {
            Some((bv, bi)) if bv > value(i) || (bv == value(i) && bi < i) => Some((bv, bi)),
            _ => Some((value(i), i)),
        });
        tree.evaluated.set(0);
        let best = tree.argmax(&[y], 1.0, f64::NEG_INFINITY, |_| true, &mut stack);
        assert_eq!(best, brute);
        let evaluated = tree.evaluated.get();
        // (The cone bound alone evaluates 230–360 here.)
        assert!(
            evaluated < 160,
            "y = {y}: {evaluated} neurons evaluated of {n}"
        );
    }
}
