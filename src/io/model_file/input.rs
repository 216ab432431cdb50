//! Command inputs c(t): `[input]` of a model and `input` of a learning model's phases, read by
//! one parser ([`build_signal`]) from one raw representation (a TOML table).

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

/// The signal a kind builds.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Zero,
    Constant,
    PiecewiseConstant,
    PiecewiseLinear,
    /// A natural cubic spline through random knots ([`Signal::smooth_random`]), its standard
    /// deviation and knot spacing read from the fields `amplitude` and `correlation_time`.
    SmoothRandom {
        amplitude: &'static str,
        correlation_time: &'static str,
    },
}

/// An input kind: its name in the file, the signal it builds and the fields it takes besides
/// `kind`.
struct Kind {
    name: &'static str,
    shape: Shape,
    fields: &'static [&'static str],
}

/// Every input kind. `[input]` takes all but `ou` (its `kind` is read by serde as an
/// [`InputKind`]); a phase's `input` takes them all. `ou` is `smooth_random` spelled as the
/// learning models first did: `sigma` for `amplitude`, `tau` for `correlation_time`.
const KINDS: &[Kind] = &[
    Kind {
        name: "zero",
        shape: Shape::Zero,
        fields: &[],
    },
    Kind {
        name: "constant",
        shape: Shape::Constant,
        fields: &["values"],
    },
    Kind {
        name: "piecewise_constant",
        shape: Shape::PiecewiseConstant,
        fields: &["times", "values"],
    },
    Kind {
        name: "piecewise_linear",
        shape: Shape::PiecewiseLinear,
        fields: &["times", "values"],
    },
    Kind {
        name: "smooth_random",
        shape: Shape::SmoothRandom {
            amplitude: "amplitude",
            correlation_time: "correlation_time",
        },
        fields: &["amplitude", "correlation_time", "mean"],
    },
    Kind {
        name: "ou",
        shape: Shape::SmoothRandom {
            amplitude: "sigma",
            correlation_time: "tau",
        },
        fields: &["tau", "sigma", "mean"],
    },
];

impl RawInput {
    /// `[input]` as the table [`build_signal`] reads (serde has already refused unknown fields,
    /// unknown kinds and wrongly typed numbers, with the line and column).
    pub(super) fn into_table(self) -> toml::Table {
        let numbers =
            |v: Vec<f64>| toml::Value::Array(v.into_iter().map(toml::Value::Float).collect());
        let fields = [
            ("times", self.times.map(numbers)),
            ("values", self.values),
            ("amplitude", self.amplitude.map(toml::Value::Float)),
            (
                "correlation_time",
                self.correlation_time.map(toml::Value::Float),
            ),
            ("mean", self.mean.map(numbers)),
        ];
        let mut t: toml::Table = fields
            .into_iter()
            .filter_map(|(name, v)| Some((name.to_owned(), v?)))
            .collect();
        t.insert("kind".to_owned(), self.kind.name().into());
        t
    }
}

/// The command input described by table `t` (`[input]` of a model, `prefix = "input."`, or the
/// `input` of phase `i`, `prefix = "phase[i].input."`), with `d` components over `duration`
/// seconds (of the run, or of the phase: its knots are in phase time). Errors name fields by
/// `prefix` and the duration as `simulate.duration` or `phase[i].duration`.
///
/// Kinds and their fields besides `kind` (all finite):
/// - `zero`: c(t) = 0;
/// - `constant`: `values`, d numbers;
/// - `piecewise_constant`, `piecewise_linear`: `times` (segment starts in seconds, from 0,
///   strictly increasing) and `values` (one d-vector per time), held or interpolated;
/// - `smooth_random`: `amplitude` (≥ 0), `correlation_time` (> 0 s), `mean` (d numbers,
///   default zeros): [`Signal::smooth_random`], whose knots are drawn from `rng` — at most
///   `budget` knot values (what is left of [`MAX_INPUT_SAMPLES`] for the whole model, which
///   this input then uses up by its own);
/// - `ou`: `smooth_random` with `sigma` for `amplitude` and `tau` for `correlation_time`.
///
/// `ou` is **not** an Ornstein–Uhlenbeck process (the name is historical): it is the same signal
/// as `smooth_random` — a natural cubic spline through knots every `tau` seconds (from the start
/// to `ceil(duration / tau) · tau`), whose knot values are independent normal draws
/// `mean + sigma · N(0, 1)` per dimension; after the last knot the last value holds. Its samples
/// are thus Gaussian with standard deviation `sigma` at the knots only (smaller between them), it
/// is C² rather than nowhere differentiable, and values more than `tau` apart are independent (no
/// exponential autocorrelation).
///
/// `rng` is only drawn from by the random kinds: a model passes its own [`Stream::Input`]
/// generator, a learning model one generator for all phases, in phase order.
pub(super) fn build_signal<R: rand::Rng>(
    t: &toml::Table,
    prefix: &str,
    d: usize,
    duration: f64,
    rng: &mut R,
    budget: &mut f64,
) -> Result<Signal, BuildError> {
    let f = |name: &str| format!("{prefix}{name}");
    let duration_field = match prefix.strip_suffix("input.") {
        Some(owner) if !owner.is_empty() => format!("{owner}duration"),
        _ => "simulate.duration".to_owned(),
    };
    let names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
    let kinds = format!("one of {}", names.join(", "));
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
    let Some(Kind { shape, fields, .. }) = KINDS.iter().find(|k| k.name == kind) else {
        return Err(BuildError::new(f("kind"), kinds, format!("\"{kind}\"")));
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
    // Errors of the signal builders name `input.*` and `simulate.duration`: renamed to the
    // fields of this table.
    let rename = |mut e: BuildError| {
        if let Some(rest) = e.field.strip_prefix("input.") {
            let rest = match (*shape, rest) {
                (Shape::SmoothRandom { amplitude, .. }, "amplitude") => amplitude,
                (
                    Shape::SmoothRandom {
                        correlation_time, ..
                    },
                    "correlation_time",
                ) => correlation_time,
                _ => rest,
            };
            e.field = f(rest);
        } else if e.field == "simulate.duration" {
            e.field = duration_field.clone();
        }
        e
    };
    match *shape {
        Shape::Zero => Ok(Signal::zero(d)),
        Shape::Constant => {
            let values = vector(get("values", "a vector of d numbers")?, &f("values"))?;
            finite_vector(&f("values"), &values, d, "one per dimension, network.dims")?;
            Ok(Signal::constant(&values))
        }
        Shape::PiecewiseConstant | Shape::PiecewiseLinear => {
            let times = vector(
                get("times", "a list of segment start times in seconds")?,
                &f("times"),
            )?;
            let per_time = format!("one d-vector per entry of `{}`", f("times"));
            let values = matrix(get("values", &per_time)?, &f("values"))?;
            if *shape == Shape::PiecewiseConstant {
                Signal::piecewise_constant(d, &times, &values).map_err(rename)
            } else {
                check_finite_signal(
                    Signal::piecewise_linear(d, &times, &values).map_err(rename)?,
                    &f("values"),
                    "values and times giving finite slopes",
                )
            }
        }
        Shape::SmoothRandom {
            amplitude: amplitude_field,
            correlation_time: h_field,
        } => {
            let amplitude = number(
                get(amplitude_field, "a standard deviation of the knot values")?,
                &f(amplitude_field),
            )?;
            let h = number(get(h_field, "a knot spacing in seconds")?, &f(h_field))?;
            let h = positive(&f(h_field), h, "knot spacing in seconds")?;
            if !(amplitude.is_finite() && amplitude >= 0.0) {
                return Err(BuildError::new(
                    f(amplitude_field),
                    "a finite non-negative standard deviation of the knot values",
                    format!("{amplitude}"),
                ));
            }
            let mean = match t.get("mean") {
                None => vec![0.0; d],
                Some(v) => vector(v, &f("mean"))?,
            };
            finite_vector(&f("mean"), &mean, d, "one per dimension, network.dims")?;
            // ceil(duration / h) + 1 knots, each with d values; compared in f64 (no overflow).
            let knots = (duration / h).ceil() + 1.0;
            if knots * d as f64 > *budget {
                let others = MAX_INPUT_SAMPLES as f64 - *budget;
                return Err(BuildError::new(
                    f(h_field),
                    format!(
                        "at most {MAX_INPUT_SAMPLES} random knot values \
                         (({duration_field} / {} + 1) × network.dims){}",
                        f(h_field),
                        if others > 0.0 {
                            format!(" over all inputs, {others} taken by earlier phases")
                        } else {
                            String::new()
                        }
                    ),
                    format!("{h} s over {duration} s: {knots} knots × {d} dims"),
                ));
            }
            *budget -= knots * d as f64;
            check_finite_signal(
                Signal::smooth_random(&mean, amplitude, h, duration, rng).map_err(rename)?,
                &f(amplitude_field),
                "an amplitude, mean and correlation time giving a finite spline",
            )
        }
    }
}
