//! `[record]`: the readout interval and the state monitor (`record.state`).

use std::collections::HashSet;

use crate::monitor::{NeuronSelection, StateMonitorSpec, StateVariable};

use super::*;

/// `[record]` of a model with `n` neurons simulated for `duration` seconds.
pub(super) fn build_record(
    raw: Option<RawRecord>,
    n: usize,
    duration: f64,
) -> Result<Record, BuildError> {
    let (readout_dt, state) = match raw {
        None => (None, None),
        Some(r) => (r.readout_dt, r.state),
    };
    let readout_dt = match readout_dt {
        None => DEFAULT_READOUT_DT,
        Some(x) => positive("record.readout_dt", x, "sampling interval in seconds")?,
    };
    let samples = (duration / readout_dt).floor();
    if samples > crate::run::MAX_READOUT_SAMPLES {
        return Err(BuildError::new(
            "record.readout_dt",
            format!(
                "at most {} readout samples over the run's {} s",
                crate::run::MAX_READOUT_SAMPLES,
                crate::error::Num(duration)
            ),
            format!(
                "{} s ({} samples)",
                crate::error::Num(readout_dt),
                crate::error::Num(samples)
            ),
        ));
    }
    let state = match state {
        None => None,
        Some(s) => Some(build_state(s, n, duration)?),
    };
    Ok(Record { readout_dt, state })
}

fn build_state(
    s: RawStateMonitor,
    n: usize,
    duration: f64,
) -> Result<StateMonitorSpec, BuildError> {
    let dt = positive("record.state.dt", s.dt, "sampling interval in seconds")?;
    let expected = "\"all\" or a non-empty list of neuron indices";
    let neurons = match &s.neurons {
        None => NeuronSelection::All,
        Some(toml::Value::String(x)) if x == "all" => NeuronSelection::All,
        Some(toml::Value::String(x)) => {
            return Err(BuildError::new(
                "record.state.neurons",
                expected,
                format!("\"{x}\""),
            ))
        }
        Some(toml::Value::Array(items)) => {
            if items.is_empty() {
                return Err(BuildError::new(
                    "record.state.neurons",
                    expected,
                    "an empty list",
                ));
            }
            let mut seen = HashSet::with_capacity(items.len());
            let mut list = Vec::with_capacity(items.len());
            for (k, item) in items.iter().enumerate() {
                let field = format!("record.state.neurons[{k}]");
                let i = match item {
                    toml::Value::Integer(i) => *i,
                    other => {
                        return Err(BuildError::new(
                            field,
                            "a neuron index (an integer)",
                            format!("a {}", other.type_str()),
                        ))
                    }
                };
                if i < 0 || i as u64 >= n as u64 {
                    return Err(BuildError::new(
                        field,
                        format!("a neuron index below network.neurons = {n}"),
                        format!("{i}"),
                    ));
                }
                let i = i as usize;
                if !seen.insert(i) {
                    return Err(BuildError::new(
                        field,
                        "each neuron at most once",
                        format!("{i} again"),
                    ));
                }
                list.push(i);
            }
            NeuronSelection::List(list)
        }
        Some(other) => {
            return Err(BuildError::new(
                "record.state.neurons",
                expected,
                format!("a {}", other.type_str()),
            ))
        }
    };
    let names = s.variables.unwrap_or_else(|| vec!["v".to_owned()]);
    if names.is_empty() {
        return Err(BuildError::new(
            "record.state.variables",
            "a non-empty list of \"v\" and \"r\"",
            "an empty list",
        ));
    }
    let mut variables = Vec::with_capacity(names.len());
    for (k, name) in names.iter().enumerate() {
        let field = format!("record.state.variables[{k}]");
        let v = match name.as_str() {
            "v" => StateVariable::V,
            "r" => StateVariable::R,
            other => {
                return Err(BuildError::new(
                    field,
                    "\"v\" (membrane voltage) or \"r\" (filtered spike train)",
                    format!("\"{other}\""),
                ))
            }
        };
        if variables.contains(&v) {
            return Err(BuildError::new(
                field,
                "each variable at most once",
                format!("\"{name}\" again"),
            ));
        }
        variables.push(v);
    }
    let count = match &neurons {
        NeuronSelection::All => n,
        NeuronSelection::List(l) => l.len(),
    };
    // Compared in f64: no overflow.
    let times = (duration / dt).floor() + 1.0;
    let samples = times * count as f64 * variables.len() as f64;
    if samples > MAX_STATE_SAMPLES as f64 {
        return Err(BuildError::new(
            "record.state.dt",
            format!(
                "at most {MAX_STATE_SAMPLES} state samples ((floor(duration / record.state.dt) \
                 + 1) × neurons × variables)"
            ),
            format!(
                "{dt} s over {duration} s: {times} times × {count} neurons × {} variables",
                variables.len()
            ),
        ));
    }
    Ok(StateMonitorSpec {
        neurons,
        dt,
        variables,
        at_spikes: s.at_spikes,
    })
}
