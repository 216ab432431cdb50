//! `[basis]` of a learning model.

use super::*;

pub(super) fn pair(field: &str, v: &[f64], what: &str) -> Result<(f64, f64), BuildError> {
    if v.len() != 2 || !v.iter().all(|x| x.is_finite()) || v[0] > v[1] {
        return Err(BuildError::new(
            field,
            format!("[lo, hi]: two finite numbers, lo ≤ hi ({what})"),
            format!("{v:?}"),
        ));
    }
    Ok((v[0], v[1]))
}

pub(super) fn build_basis(
    b: RawBasis,
    d: usize,
    n: usize,
    seed: u64,
) -> Result<crate::model::basis::Basis, BuildError> {
    use crate::model::basis::Basis;
    let on_trains = match b.on.as_deref() {
        None | Some("xhat") => false,
        Some("r") if b.kind == "tanh_random" => true,
        Some("r") => {
            return Err(BuildError::new(
                "basis.on",
                "\"xhat\" for this kind (on = \"r\", the filtered spike trains, goes with \
                 kind = \"tanh_random\")",
                "\"r\"",
            ))
        }
        Some(other) => {
            return Err(BuildError::new(
                "basis.on",
                "\"xhat\" (the readout) or \"r\" (the filtered spike trains)",
                format!("\"{other}\""),
            ))
        }
    };
    let fields: &[&str] = match b.kind.as_str() {
        "rbf_grid" => &["range", "per_dim", "width"],
        "monomials" => &["degree"],
        "tanh_random" => &["count", "gains", "offsets"],
        "linear" => &[],
        other => {
            return Err(BuildError::new(
                "basis.kind",
                "one of rbf_grid, monomials, tanh_random, linear",
                format!("\"{other}\""),
            ))
        }
    };
    let present = [
        ("range", b.range.is_some()),
        ("per_dim", b.per_dim.is_some()),
        ("width", b.width.is_some()),
        ("degree", b.degree.is_some()),
        ("count", b.count.is_some()),
        ("gains", b.gains.is_some()),
        ("offsets", b.offsets.is_some()),
    ];
    for (field, given) in present {
        if given && !fields.contains(&field) {
            return Err(field_not_of_kind(
                format!("basis.{field}"),
                field,
                &b.kind,
                "`kind` and `on`",
                fields,
            ));
        }
    }
    let missing = |field: &str, what: &str| {
        BuildError::new(
            format!("basis.{field}"),
            format!("{what} (required with kind = \"{}\")", b.kind),
            format!("no `{field}` field"),
        )
    };
    match b.kind.as_str() {
        "rbf_grid" => {
            let range = b
                .range
                .ok_or_else(|| missing("range", "[lo, hi], the grid's extent per dimension"))?;
            let (lo, hi) = pair("basis.range", &range, "the grid's extent per dimension")?;
            let per_dim = b
                .per_dim
                .ok_or_else(|| missing("per_dim", "the number of centres per dimension"))?;
            Basis::rbf_grid(d, lo, hi, per_dim, b.width.unwrap_or(1.0))
        }
        "monomials" => {
            let degree = b
                .degree
                .ok_or_else(|| missing("degree", "the highest total degree"))?;
            Basis::monomials(d, degree)
        }
        "tanh_random" => {
            let count = b
                .count
                .ok_or_else(|| missing("count", "the number of random features"))?;
            if count == 0 || count > 100_000 {
                return Err(BuildError::new(
                    "basis.count",
                    "1 to 100000 features",
                    format!("{count}"),
                ));
            }
            let gains = pair(
                "basis.gains",
                &b.gains.unwrap_or_else(|| vec![1.0, 1.0]),
                "gains of the projections",
            )?;
            let offsets = pair(
                "basis.offsets",
                &b.offsets.unwrap_or_else(|| vec![-1.0, 1.0]),
                "offsets",
            )?;
            let mut rng = rng_stream(seed, Stream::Learning);
            if on_trains {
                // tanh(M r + θ): M ~ N(0, g²/N) with g the upper end of `gains`.
                Basis::tanh_on_trains(d, n, count, gains.1, offsets, &mut rng)
            } else {
                Basis::tanh_random(d, count, gains, offsets, &mut rng)
            }
        }
        _ => Ok(Basis::Linear { dims: d }),
    }
}
