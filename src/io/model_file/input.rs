//! Command inputs c(t): `[input]` of a model and `input` of a learning model's phases.

use super::*;

/// Finite values can still give a signal with infinite coefficients (slopes between values of
/// ±1e308, a spline through huge knots): refuses them, naming `field`.
pub(super) fn check_finite_signal(
    signal: Signal,
    field: &str,
    expected: &str,
) -> Result<Signal, BuildError> {
    let mut poly = vec![0.0; (MAX_DEGREE + 1) * signal.dims()];
    for &t in signal.knots() {
        signal.local_polynomial(t, &mut poly);
        if let Some(x) = poly.iter().copied().find(|x| !x.is_finite()) {
            return Err(BuildError::new(
                field,
                expected,
                format!("a coefficient {x} in the segment starting at {t} s"),
            ));
        }
    }
    Ok(signal)
}

pub(super) fn build_input(
    input: RawInput,
    d: usize,
    duration: f64,
    seed: u64,
) -> Result<Signal, BuildError> {
    let kind = input.kind;
    let present = [
        ("times", input.times.is_some()),
        ("values", input.values.is_some()),
        ("amplitude", input.amplitude.is_some()),
        ("correlation_time", input.correlation_time.is_some()),
        ("mean", input.mean.is_some()),
    ];
    for (field, given) in present {
        if given && !kind.fields().contains(&field) {
            return Err(field_not_of_kind(
                format!("input.{field}"),
                field,
                kind.name(),
                "`kind`",
                kind.fields(),
            ));
        }
    }
    let missing = |field: &str, what: &str| {
        BuildError::new(
            format!("input.{field}"),
            format!("{what} (required with kind = \"{}\")", kind.name()),
            format!("no `{field}` field"),
        )
    };
    match kind {
        InputKind::Zero => Ok(Signal::zero(d)),
        InputKind::Constant => {
            let v = input
                .values
                .ok_or_else(|| missing("values", "a vector of d numbers"))?;
            let values = vector(&v, "input.values")?;
            finite_vector(
                "input.values",
                &values,
                d,
                "one per dimension, network.dims",
            )?;
            Ok(Signal::constant(&values))
        }
        InputKind::PiecewiseConstant | InputKind::PiecewiseLinear => {
            let times = input
                .times
                .ok_or_else(|| missing("times", "a list of segment start times in seconds"))?;
            let v = input
                .values
                .ok_or_else(|| missing("values", "one d-vector per entry of `input.times`"))?;
            let values = matrix(&v, "input.values")?;
            if let InputKind::PiecewiseConstant = kind {
                Signal::piecewise_constant(d, &times, &values)
            } else {
                check_finite_signal(
                    Signal::piecewise_linear(d, &times, &values)?,
                    "input.values",
                    "values and times giving finite slopes",
                )
            }
        }
        InputKind::SmoothRandom => {
            let amplitude = input
                .amplitude
                .ok_or_else(|| missing("amplitude", "a standard deviation of the knot values"))?;
            let h = input
                .correlation_time
                .ok_or_else(|| missing("correlation_time", "a knot spacing in seconds"))?;
            let h = positive("input.correlation_time", h, "time in seconds")?;
            let mean = input.mean.unwrap_or_else(|| vec![0.0; d]);
            finite_vector("input.mean", &mean, d, "one per dimension, network.dims")?;
            // ceil(duration / h) + 1 knots, each with d values; compared in f64 (no overflow).
            let knots = (duration / h).ceil() + 1.0;
            if knots * d as f64 > MAX_INPUT_SAMPLES as f64 {
                return Err(BuildError::new(
                    "input.correlation_time",
                    format!(
                        "at most {MAX_INPUT_SAMPLES} random knot values \
                         ((simulate.duration / input.correlation_time + 1) × network.dims)"
                    ),
                    format!("{h} s over {duration} s: {knots} knots × {d} dims"),
                ));
            }
            let mut rng = rng_stream(seed, Stream::Input);
            check_finite_signal(
                Signal::smooth_random(&mean, amplitude, h, duration, &mut rng)?,
                "input.amplitude",
                "an amplitude, mean and correlation time giving a finite spline",
            )
        }
    }
}

/// The `input` table of phase `i`: kinds `zero`, `constant`, `piecewise_constant`,
/// `piecewise_linear` (as in `[input]`, field paths `phase[i].input.*`) and `ou`.
///
/// `ou` is **not** an Ornstein–Uhlenbeck process (the name is historical): it is the same signal
/// as `[input] kind = "smooth_random"` — a natural cubic spline through knots every `tau` seconds
/// (from the phase start to `ceil(duration / tau) · tau`), whose knot values are independent
/// normal draws `mean + sigma · N(0, 1)` per dimension; after the last knot the last value holds.
/// Its samples are thus Gaussian with standard deviation `sigma` at the knots only (smaller
/// between them), it is C² rather than nowhere differentiable, and values more than `tau` apart
/// are independent (no exponential autocorrelation). The knots of all phases are drawn one after
/// the other from one [`Stream::Input`] generator (`rng`).
pub(super) fn build_phase_input<R: rand::Rng>(
    t: &toml::Table,
    i: usize,
    d: usize,
    duration: f64,
    rng: &mut R,
) -> Result<(Signal, bool), BuildError> {
    let f = |name: &str| format!("phase[{i}].input.{name}");
    let kinds = "one of ou, zero, constant, piecewise_constant, piecewise_linear";
    let kind = match t.get("kind") {
        Some(toml::Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(BuildError::new(
                f("kind"),
                kinds,
                format!("a {}", other.type_str()),
            ))
        }
        None => return Err(BuildError::new(f("kind"), kinds, "no `kind` field")),
    };
    let fields: &[&str] = match kind {
        "ou" => &["tau", "sigma", "mean"],
        "zero" => &[],
        "constant" => &["values"],
        "piecewise_constant" | "piecewise_linear" => &["times", "values"],
        other => return Err(BuildError::new(f("kind"), kinds, format!("\"{other}\""))),
    };
    for key in t.keys() {
        if key != "kind" && !fields.contains(&key.as_str()) {
            return Err(field_not_of_kind(f(key), key, kind, "`kind`", fields));
        }
    }
    let get = |name: &str, what: &str| {
        t.get(name).ok_or_else(|| {
            BuildError::new(
                f(name),
                format!("{what} (required with kind = \"{kind}\")"),
                format!("no `{name}` field"),
            )
        })
    };
    // Errors of the shared builders name `input.*`: renamed to this phase's path.
    let rename = |mut e: BuildError| {
        if let Some(rest) = e.field.strip_prefix("input.") {
            e.field = f(rest);
        } else if e.field == "simulate.duration" {
            e.field = format!("phase[{i}].duration");
        }
        e
    };
    let signal = match kind {
        "zero" => return Ok((Signal::zero(d), true)),
        "constant" => {
            let values = vector(get("values", "a vector of d numbers")?, &f("values"))?;
            finite_vector(&f("values"), &values, d, "one per dimension, network.dims")?;
            Signal::constant(&values)
        }
        "ou" => {
            let tau = number(get("tau", "a correlation time in seconds")?, &f("tau"))?;
            let tau = positive(&f("tau"), tau, "correlation time in seconds")?;
            let sigma = number(
                get("sigma", "an amplitude (standard deviation)")?,
                &f("sigma"),
            )?;
            if !(sigma.is_finite() && sigma >= 0.0) {
                return Err(BuildError::new(
                    f("sigma"),
                    "a finite non-negative amplitude",
                    format!("{sigma}"),
                ));
            }
            let mean = match t.get("mean") {
                None => vec![0.0; d],
                Some(v) => vector(v, &f("mean"))?,
            };
            finite_vector(&f("mean"), &mean, d, "one per dimension, network.dims")?;
            let knots = (duration / tau).ceil() + 1.0;
            if knots * d as f64 > MAX_INPUT_SAMPLES as f64 {
                return Err(BuildError::new(
                    f("tau"),
                    format!(
                        "at most {MAX_INPUT_SAMPLES} random knot values \
                         ((duration / tau + 1) × network.dims)"
                    ),
                    format!("{tau} s over {duration} s"),
                ));
            }
            Signal::smooth_random(&mean, sigma, tau, duration, rng).map_err(rename)?
        }
        _ => {
            let times = vector(
                get("times", "a list of segment start times in seconds")?,
                &f("times"),
            )?;
            let values = matrix(
                get("values", "one d-vector per entry of `times`")?,
                &f("values"),
            )?;
            if kind == "piecewise_constant" {
                Signal::piecewise_constant(d, &times, &values).map_err(rename)?
            } else {
                check_finite_signal(
                    Signal::piecewise_linear(d, &times, &values).map_err(rename)?,
                    &f("values"),
                    "values and times giving finite slopes",
                )?
            }
        }
    };
    Ok((signal, false))
}
