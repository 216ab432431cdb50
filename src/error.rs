//! Typed errors, one per phase: building a network or input ([`BuildError`]), reading a model
//! file ([`ModelError`]), running ([`SimError`]), and writing outputs ([`OutputError`]).
//!
//! Every message names the field (as its path in the model file, e.g. `network.decoder`), what
//! was expected and what was found.

use std::path::PathBuf;

/// A parameter, shape or value that cannot make a valid network, input or run.
///
/// Fatal: nothing was built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("field `{field}`: expected {expected}, got {got}")]
pub struct BuildError {
    /// Path of the offending field, as written in a model file (`network.lambda_d`).
    pub field: String,
    /// What a valid value looks like.
    pub expected: String,
    /// What was given.
    pub got: String,
}

impl BuildError {
    /// A new error for `field`.
    pub(crate) fn new(
        field: impl Into<String>,
        expected: impl Into<String>,
        got: impl Into<String>,
    ) -> Self {
        BuildError {
            field: field.into(),
            expected: short_numbers(expected.into()),
            got: short_numbers(got.into()),
        }
    }
}

/// A number in a message: Rust's shortest round-trip form, in scientific notation when plain
/// decimals would be long (`1e-300`, not three hundred zeros).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Num(pub f64);

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a = self.0.abs();
        if a == 0.0 || !a.is_finite() || (1e-5..1e16).contains(&a) {
            write!(f, "{}", self.0)
        } else {
            write!(f, "{:e}", self.0)
        }
    }
}

/// Rewrites the long plain decimals in `s` (more than 24 characters, as `{}` prints tiny and
/// huge f64s) in the short form of [`Num`].
pub(crate) fn short_numbers(s: String) -> String {
    let is_num = |c: char| c.is_ascii_digit() || c == '.';
    if s.len() < 25 {
        return s;
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let (head, tail) = rest.split_at(start);
        out.push_str(head);
        let end = tail.find(|c: char| !is_num(c)).unwrap_or(tail.len());
        let token = &tail[..end];
        match token.parse::<f64>() {
            Ok(x) if token.len() > 24 && !token.ends_with('.') => out.push_str(&Num(x).to_string()),
            _ => out.push_str(token),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// A model file that could not be read, parsed or turned into a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The file could not be read.
    #[error("{file}: cannot read the model file: {source}")]
    Io {
        /// The model file.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Not TOML, or a field of the wrong type, or an unknown or missing field.
    #[error("{file}: {message}")]
    Syntax {
        /// The model file.
        file: PathBuf,
        /// The parser's message, with line, column and key.
        message: String,
    },
    /// A field with a value that the model does not accept.
    #[error("{file}: {error}")]
    Invalid {
        /// The model file.
        file: PathBuf,
        /// Which field, what was expected, what was found.
        error: BuildError,
    },
}

/// A run that could not continue. Fatal: the simulation state is left at the failing event.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// More same-instant spikes than the limit (N): the network is ping-ponging at one instant.
    #[error(
        "same-instant cascade at t = {} s{} exceeded {limit} spikes among neurons {} \
         (neurons keep pushing each other over threshold without time advancing). An absolute \
         refractory period (`network.refractory_period`, e.g. 0.002 s) stops such volleys, as \
         in NEST and Brian2; otherwise check for zero or negative resets (mu, decoder norms) or \
         explicit fast weights that excite; a legitimately long volley (large initial error, \
         delayed fast connections) needs a larger `simulate.cascade_limit`",
        Num(*time),
        if since < time {
            format!(" (spikes less than a picosecond apart since t = {} s)", Num(*since))
        } else {
            String::new()
        },
        neuron_list(neurons)
    )]
    Cascade {
        /// Time of the cascade, s.
        time: f64,
        /// When it began, s: `time`, or earlier for spikes less than a picosecond apart.
        since: f64,
        /// The limit that was exceeded.
        limit: usize,
        /// The first distinct neurons that fired in the cascade (at most 12), in firing order.
        neurons: Vec<u32>,
    },
    /// The learning actor could not update the weights.
    #[error("learning: {message}")]
    Learning {
        /// What went wrong.
        message: String,
    },
    /// A readout sample or the target (teacher) is not finite: the network's state or the
    /// target's dynamics overflowed. Stopping here keeps `inf` and `NaN` out of the outputs.
    #[error(
        "{what} is not finite at t = {} s (component {component}: {value}): {hint}",
        Num(*time)
    )]
    NonFinite {
        /// Sample time, s.
        time: f64,
        /// `the readout x̂` or `the target x`.
        what: &'static str,
        /// The first component that is not finite.
        component: usize,
        /// Its value.
        value: f64,
        /// What to check.
        hint: &'static str,
    },
    /// A run was asked to go backwards in time, or to an infinite time.
    #[error(
        "cannot run to t = {} s: expected a finite time not before the current t = {} s",
        Num(*target),
        Num(*now)
    )]
    InvalidTarget {
        /// Current time, s.
        now: f64,
        /// Requested time, s.
        target: f64,
    },
}

/// An output that could not be written. Nothing partial is left: files are written to a
/// temporary name and renamed into place.
#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot write output: {source}")]
pub struct OutputError {
    /// The file or directory.
    pub path: PathBuf,
    /// The underlying error.
    pub source: std::io::Error,
}

impl SimError {
    /// [`SimError::NonFinite`] unless the readout sample `xhat` and the target `x` (if any)
    /// taken at `time` are finite.
    pub(crate) fn check_sample(time: f64, xhat: &[f64], x: Option<&[f64]>) -> Result<(), SimError> {
        if let Some((component, &value)) = x
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .find(|(_, v)| !v.is_finite())
        {
            return Err(SimError::NonFinite {
                time,
                what: "the target x",
                component,
                value,
                hint: "its dynamics overflow over the run (check `target` and the input, or a \
                       shorter duration)",
            });
        }
        if let Some((component, &value)) = xhat.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(SimError::NonFinite {
                time,
                what: "the readout x̂",
                component,
                value,
                hint: "the network's state overflowed (an unstable network: check the weights, \
                       `target.a` and the input; the dense stepper also diverges when dt is too \
                       long)",
            });
        }
        Ok(())
    }
}

/// `0, 3, 7` (and `…` when the list was cut at its bound).
fn neuron_list(neurons: &[u32]) -> String {
    let mut s = neurons
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if neurons.len() >= 12 {
        s.push_str(", …");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_numbers_are_shortened() {
        let tiny = format!("{}", 1e-300);
        let huge = format!("{}", 1.5e300);
        let e = BuildError::new("simulate.dt", "a step", format!("{tiny} s, then {huge}"));
        assert_eq!(e.got, "1e-300 s, then 1.5e300");
        // Short numbers, indices and versions stay as written.
        let s = "neurons 0, 3, 7 at t = 0.012779196556193959 s, version 0.1.0, 12345678";
        assert_eq!(short_numbers(s.to_string()), s);
        assert_eq!(Num(0.25).to_string(), "0.25");
        assert_eq!(Num(-2e-7).to_string(), "-2e-7");
        assert_eq!(Num(f64::NAN).to_string(), "NaN");
    }
}
