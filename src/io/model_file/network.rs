//! `[network]`: the decoder, thresholds, weights and the size limits.

use super::*;

pub(super) fn build_network(
    net: RawNetwork,
    a: Option<Vec<Vec<f64>>>,
    seed: u64,
    model_file: &Path,
) -> Result<Network, BuildError> {
    let (n, d) = (net.neurons, net.dims);
    if d == 0 {
        return Err(BuildError::new("network.dims", "at least 1 dimension", "0"));
    }
    if n == 0 {
        return Err(BuildError::new("network.neurons", "at least 1 neuron", "0"));
    }
    if d > MAX_DIMS {
        return Err(BuildError::new(
            "network.dims",
            format!("at most {MAX_DIMS}"),
            format!("{d}"),
        ));
    }
    let sizes = format!("network.dims = {d}, network.neurons = {n}");
    let mut thresholds = net.thresholds;
    let rows = match net.decoder {
        RawDecoder::File(name) => {
            let path = model_file
                .parent()
                .unwrap_or_else(|| Path::new(""))
                .join(&name);
            let field = "network.decoder.file";
            let f = crate::io::network_file::NetworkFile::read(&path).map_err(|e| {
                BuildError::new(
                    field,
                    "a readable network.json (written by a run)",
                    format!("{}: {e}", path.display()),
                )
            })?;
            if f.neurons != n || f.dims != d {
                return Err(BuildError::new(
                    field,
                    format!("a network of {sizes}"),
                    format!("{}: {} neurons, {} dims", path.display(), f.neurons, f.dims),
                ));
            }
            check_size(n, d, &sizes)?;
            if thresholds.is_none() {
                thresholds = Some(f.thresholds);
            }
            f.decoder
        }
        RawDecoder::Explicit(rows) => {
            if rows.len() != d {
                return Err(BuildError::new(
                    "network.decoder",
                    format!("{d} rows (one per dimension, network.dims) of {n} numbers each"),
                    format!("{} rows", rows.len()),
                ));
            }
            for (k, row) in rows.iter().enumerate() {
                if row.len() != n {
                    return Err(BuildError::new(
                        format!("network.decoder[{k}]"),
                        format!("{n} numbers (one per neuron, network.neurons)"),
                        format!("{} numbers", row.len()),
                    ));
                }
            }
            check_size(n, d, &sizes)?;
            rows
        }
        RawDecoder::Random(r) => {
            check_size(n, d, &sizes)?;
            let DecoderDistribution::Normal = r.random;
            let scale = positive("network.decoder.scale", r.scale, "standard deviation")?;
            let mut rng = rng_stream(seed, Stream::Decoder);
            random_decoder(d, n, scale, r.normalize, &mut rng)
        }
    };

    let mut builder = NetworkBuilder::new(rows)
        .lambda_d(net.lambda_d)
        .mu(net.mu)
        .nu(net.nu)
        .fast_delay(net.fast_delay)
        .representation(match net.weights {
            RawWeights::Auto => WeightRepr::Auto,
            RawWeights::LowRank => WeightRepr::LowRank,
            RawWeights::Dense => WeightRepr::Dense,
        });
    if let Some(lambda_v) = net.lambda_v {
        builder = builder.lambda_v(lambda_v);
    }
    if let Some(v) = &net.refractory_period {
        let field = "network.refractory_period";
        let periods = match v {
            toml::Value::Array(_) => vector(v, field)?,
            _ => vec![number(v, field)?],
        };
        if periods.is_empty() || periods.len() > n {
            return Err(BuildError::new(
                field,
                format!("one period in seconds, or {n} (one per neuron, network.neurons)"),
                format!("{} periods", periods.len()),
            ));
        }
        builder = builder
            .refractory_periods(periods)
            .refractory_mode(net.refractory);
    }
    if let Some(t) = thresholds {
        finite_vector(
            "network.thresholds",
            &t,
            n,
            "one per neuron, network.neurons",
        )?;
        for (i, &x) in t.iter().enumerate() {
            if x <= 0.0 {
                return Err(BuildError::new(
                    format!("network.thresholds[{i}]"),
                    "a positive threshold",
                    format!("{x}"),
                ));
            }
        }
        builder = builder.thresholds(t);
    }
    if let Some(a) = a {
        builder = builder.linear_dynamics(a);
    }
    if let Some(w) = net.fast_weights {
        builder = builder.fast_weights(w);
    }
    if let Some(w) = net.slow_weights {
        builder = builder.slow_weights(w);
    }
    let network = builder.build()?;
    check_finite_network(&network)?;
    Ok(network)
}

/// Finite inputs can still overflow (a decoder entry of 1e200 has ‖D_i‖² = ∞): refuses networks
/// whose derived thresholds, resets or weights are not finite.
pub(super) fn check_finite_network(net: &Network) -> Result<(), BuildError> {
    for (i, &t) in net.thresholds().iter().enumerate() {
        let reset = net.fast_weight(i, i);
        if !t.is_finite() || !reset.is_finite() {
            return Err(BuildError::new(
                format!("network.decoder (column {i})"),
                "a finite threshold (|D_i|^2 + mu + nu)/2 and reset |D_i|^2 + mu (decoder entries \
                 and costs too large overflow)",
                format!("threshold {t}, reset {reset}"),
            ));
        }
    }
    let bad = |w: &[f64]| w.iter().copied().find(|x| !x.is_finite());
    match net.weights() {
        Weights::LowRank { core } => {
            if let Some(x) = bad(core) {
                return Err(BuildError::new(
                    "target.a",
                    "A + lambda_d I with finite entries",
                    format!("an entry {x}"),
                ));
            }
        }
        Weights::Dense { fast, slow } => {
            for (field, w) in [
                ("network.fast_weights", fast),
                ("network.slow_weights", slow),
            ] {
                if let Some(x) = bad(w) {
                    return Err(BuildError::new(
                        field,
                        "finite weights (derived from network.decoder, target.a and lambda_d \
                         unless given)",
                        format!("a weight {x}"),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Refuses networks too large to hold in memory (before anything is allocated).
pub(super) fn check_size(n: usize, d: usize, sizes: &str) -> Result<(), BuildError> {
    if n > MAX_NEURONS {
        return Err(BuildError::new(
            "network.neurons",
            format!("at most {MAX_NEURONS} neurons"),
            format!("{n}"),
        ));
    }
    match n.checked_mul(d) {
        Some(entries) if entries <= MAX_DECODER_ENTRIES => Ok(()),
        _ => Err(BuildError::new(
            "network.neurons",
            format!("a decoder of at most {MAX_DECODER_ENTRIES} entries (neurons × dims)"),
            sizes.to_owned(),
        )),
    }
}
