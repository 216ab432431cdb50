//! Excitatory and inhibitory input currents of neurons, reconstructed from a run, for the E/I
//! balance measure ([`crate::analysis::learning_metrics::ei_balance`]).
//!
//! Why: an EBN is tightly balanced — each neuron's excitation is cancelled by inhibition within
//! a few milliseconds (Boerlin et al. 2013; Denève & Machens 2016). The engines never store a
//! neuron's inputs by sign, but everything that makes them is known after a run: the spikes, the
//! readout, the input and the weights. So the currents are rebuilt here, exactly at the points
//! where they are evaluated, with no cost to the simulation.
//!
//! Neuron i's input is split into **components**, each counted as excitation when positive and
//! inhibition when negative (magnitudes):
//!
//! - feedforward `D_iᵀ c(t)` (the command, plus `K x` when a teacher is fed back);
//! - slow recurrent `D_iᵀ M x̂(t)` (low-rank slow weights `Ω_s = Dᵀ M D`);
//! - learned `D_iᵀ U Ψ(·)` (when a learned current is given), plus its offset `P_i Ψ(·)` if any;
//! - fast recurrent, **per presynaptic spike**: a spike of `j ≠ i` delivers the charge
//!   `−Ω_f[i,j]` (the neuron's own reset is not an input), counted in the bin where it arrives.
//!
//! Time is cut into bins; in each, the continuous components are averaged over
//! `POINTS_PER_BIN` evenly spaced points and the fast charges are summed and divided by the bin
//! width, so both are currents (V/s). The leak is not an input.

use crate::analysis::learning_metrics::{ei_balance, EiBalance};
use crate::engine::Spike;
use crate::model::basis::LearnedCurrent;
use crate::model::network::Network;
use crate::model::signal::Signal;

/// Points per bin at which the continuous components are evaluated.
pub(crate) const POINTS_PER_BIN: usize = 4;

/// Default bin width, s: resolves the few-millisecond tracking of tight balance.
pub(crate) const DEFAULT_BIN: f64 = 5e-3;

/// Most neurons whose currents are rebuilt (evenly spaced among those asked for).
pub(crate) const MAX_NEURONS: usize = 100;

/// What drives the neurons during the window.
#[derive(Clone, Debug)]
pub struct Drive<'a> {
    /// The network (decoders, fast weights; low-rank weights only).
    pub network: &'a Network,
    /// The low-rank slow core `M` in force (row-major d×d).
    pub slow_core: &'a [f64],
    /// The feedforward input (absolute time).
    pub input: &'a Signal,
    /// The learned current, if any.
    pub learned: Option<&'a LearnedCurrent>,
}

/// Excitatory and inhibitory currents, `bins × neurons` row-major, as magnitudes.
#[derive(Clone, Debug, PartialEq)]
pub struct Currents {
    /// The neurons (columns).
    pub neurons: Vec<usize>,
    /// Bin width, s.
    pub bin: f64,
    /// Excitation, V/s.
    pub excitation: Vec<f64>,
    /// Inhibition (magnitude), V/s.
    pub inhibition: Vec<f64>,
}

/// Rebuilds the E and I currents of `neurons` (at most `MAX_NEURONS` of them are used, evenly
/// spaced) over `[start, end)` in bins of `bin` seconds (a last partial bin is dropped).
///
/// `spikes` are every spike of the run in firing order (those before `start` set the filtered
/// spike trains a learned basis on `r` reads); `xhat_start` is the readout at `start` (taken from
/// the engine, so that kicks and placements are honoured). `None` for dense weights, a window
/// shorter than one bin, no neurons, or mismatched shapes.
pub fn input_currents(
    drive: &Drive,
    spikes: &[Spike],
    xhat_start: &[f64],
    neurons: &[usize],
    start: f64,
    end: f64,
    bin: f64,
) -> Option<Currents> {
    // The readout at `start` includes the spikes at `start`.
    let first = spikes.partition_point(|s| s.time.secs() <= start);
    let mut trains = Trains::at(drive, start);
    trains.add(&spikes[..first]);
    let window = Window {
        xhat_start,
        neurons,
        start,
        end,
        bin,
    };
    currents_after(drive, trains, &spikes[first..], &window)
}

/// The filtered spike trains `r(start)` a learned basis on the trains reads (nothing for
/// another basis), summed from the spikes up to `start` in firing order.
#[derive(Clone, Debug)]
pub(crate) struct Trains {
    values: Vec<f64>,
    lambda: f64,
    start: f64,
}

impl Trains {
    /// No spike yet; kept only when `drive`'s learned basis reads the trains.
    pub(crate) fn at(drive: &Drive, start: f64) -> Trains {
        let on_trains = drive.learned.is_some_and(|l| l.basis().on_trains());
        Trains {
            values: vec![
                0.0;
                if on_trains {
                    drive.network.neurons()
                } else {
                    0
                }
            ],
            lambda: drive.network.lambda_d(),
            start,
        }
    }

    /// Whether the basis reads the trains (else [`Trains::add`] does nothing).
    pub(crate) fn needed(&self) -> bool {
        !self.values.is_empty()
    }

    /// Adds the spikes of a piece at or before `start` (in firing order).
    pub(crate) fn add(&mut self, spikes: &[Spike]) {
        if self.values.is_empty() {
            return;
        }
        for s in spikes.iter().filter(|s| s.time.secs() <= self.start) {
            if let Some(r) = self.values.get_mut(s.neuron as usize) {
                *r += (-self.lambda * (self.start - s.time.secs())).exp();
            }
        }
    }
}

/// The window of [`input_currents`]: readout at its start, neurons, span and bin width.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window<'a> {
    pub(crate) xhat_start: &'a [f64],
    pub(crate) neurons: &'a [usize],
    pub(crate) start: f64,
    pub(crate) end: f64,
    pub(crate) bin: f64,
}

/// [`input_currents`] from the trains at the window's start and the spikes after it.
pub(crate) fn currents_after(
    drive: &Drive,
    trains: Trains,
    spikes: &[Spike],
    window: &Window,
) -> Option<Currents> {
    let Window {
        xhat_start,
        neurons,
        start,
        end,
        bin,
    } = *window;
    let net = drive.network;
    let (n, d) = (net.neurons(), net.dims());
    let usable = net.is_low_rank() && bin > 0.0 && end - start >= bin;
    if !usable
        || neurons.is_empty()
        || neurons.iter().any(|&i| i >= n)
        || xhat_start.len() != d
        || drive.slow_core.len() != d * d
        || drive.input.dims() != d
    {
        return None;
    }
    let step = neurons.len().div_ceil(MAX_NEURONS);
    let cols: Vec<usize> = neurons.iter().copied().step_by(step).collect();
    let m = cols.len();
    let bins = ((end - start) / bin).floor() as usize;
    let mut learned = drive.learned.cloned();
    let on_trains = learned.as_ref().is_some_and(|l| l.basis().on_trains());
    let trains = trains.values;
    let mut exc = vec![0.0; bins * m];
    let mut inh = vec![0.0; bins * m];
    let mut walk = Walk {
        net,
        xhat: xhat_start.to_vec(),
        trains,
        t: start,
    };
    let mut next = 0;
    let (mut c, mut g, mut l) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
    let weight = 1.0 / POINTS_PER_BIN as f64;
    for b in 0..bins {
        let (e_row, i_row) = (&mut exc[b * m..(b + 1) * m], &mut inh[b * m..(b + 1) * m]);
        let bin_end = start + (b + 1) as f64 * bin;
        for q in 0..=POINTS_PER_BIN {
            // Spikes up to the next point (the last pass: to the bin end).
            let tp = start + (b as f64 + (q as f64 + 0.5) * weight) * bin;
            while next < spikes.len()
                && (spikes[next].time.secs() <= tp
                    || (q == POINTS_PER_BIN && spikes[next].time.secs() < bin_end))
            {
                let s = spikes[next];
                next += 1;
                let j = s.neuron as usize;
                if j >= n {
                    continue;
                }
                walk.spike(s.time.secs(), j);
                for (col, &i) in cols.iter().enumerate() {
                    if i != j {
                        split(
                            -net.fast_weight(i, j) / bin,
                            &mut e_row[col],
                            &mut i_row[col],
                        );
                    }
                }
            }
            if q == POINTS_PER_BIN {
                break;
            }
            walk.decay_to(tp);
            drive.input.eval(tp, &mut c);
            for (r, gr) in g.iter_mut().enumerate() {
                *gr = (0..d)
                    .map(|k| drive.slow_core[r * d + k] * walk.xhat[k])
                    .sum();
            }
            match &mut learned {
                Some(lc) if on_trains => lc.current(&walk.trains, &mut l),
                Some(lc) => lc.current(&walk.xhat, &mut l),
                None => l.fill(0.0),
            }
            for (col, &i) in cols.iter().enumerate() {
                let di = net.decoder(i);
                let dot = |v: &[f64]| di.iter().zip(v).map(|(a, b)| a * b).sum::<f64>();
                // The learned part includes the neuron's offset `P_i Ψ`, if any.
                let off = learned.as_ref().map_or(0.0, |lc| lc.offset_current(i));
                for part in [dot(&c), dot(&g), dot(&l) + off] {
                    split(weight * part, &mut e_row[col], &mut i_row[col]);
                }
            }
        }
    }
    Some(Currents {
        neurons: cols,
        bin,
        excitation: exc,
        inhibition: inh,
    })
}

/// Adds a signed current to excitation (positive) or inhibition (magnitude of a negative one).
fn split(x: f64, exc: &mut f64, inh: &mut f64) {
    if x > 0.0 {
        *exc += x;
    } else {
        *inh -= x;
    }
}

/// The readout and filtered spike trains, carried from event to event.
struct Walk<'a> {
    net: &'a Network,
    xhat: Vec<f64>,
    /// Empty unless a learned basis reads the trains.
    trains: Vec<f64>,
    t: f64,
}

impl Walk<'_> {
    fn decay_to(&mut self, t: f64) {
        let f = (-self.net.lambda_d() * (t - self.t)).exp();
        self.xhat.iter_mut().for_each(|x| *x *= f);
        self.trains.iter_mut().for_each(|r| *r *= f);
        self.t = t;
    }

    fn spike(&mut self, t: f64, j: usize) {
        self.decay_to(t);
        for (x, dj) in self.xhat.iter_mut().zip(self.net.decoder(j)) {
            *x += dj;
        }
        if let Some(r) = self.trains.get_mut(j) {
            *r += 1.0;
        }
    }
}

impl Currents {
    /// The balance of these currents ([`ei_balance`] over every column).
    pub fn balance(&self) -> Option<EiBalance> {
        ei_balance(
            &self.excitation,
            &self.inhibition,
            &vec![true; self.neurons.len()],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::network::NetworkBuilder;
    use crate::time::Time;

    fn net() -> Network {
        NetworkBuilder::new(vec![vec![0.1, -0.1]])
            .lambda_d(10.0)
            .build()
            .unwrap()
    }

    #[test]
    fn feedforward_fast_and_slow_components_land_on_their_sides() {
        let net = net();
        let input = Signal::constant(&[1.0]);
        let core = [-2.0];
        let drive = Drive {
            network: &net,
            slow_core: &core,
            input: &input,
            learned: None,
        };
        let bin = 0.01;
        // One spike of neuron 0 at 15 ms: neuron 1 receives −Ω_f[1,0] = −(−0.01) > 0.
        let spikes = [Spike {
            time: Time::from_secs(0.015),
            neuron: 0,
        }];
        let c = input_currents(&drive, &spikes, &[0.0], &[0, 1], 0.0, 0.03, bin).unwrap();
        assert_eq!(c.neurons, vec![0, 1]);
        assert_eq!(c.excitation.len(), 3 * 2);
        // Bin 0: no readout yet, only the input: neuron 0 excited by 0.1, neuron 1 inhibited.
        assert!((c.excitation[0] - 0.1).abs() < 1e-12);
        assert_eq!(c.inhibition[0], 0.0);
        assert_eq!(c.excitation[1], 0.0);
        assert!((c.inhibition[1] - 0.1).abs() < 1e-12);
        // Bin 1: neuron 1 gets the fast charge 0.01 / bin = 1 as excitation; the slow current
        // D_1 M x̂ = (−0.1)(−2)(0.1 e^{−λ(t−0.015)}) > 0 after the spike adds to it.
        let slow = |t: f64| 0.1 * 2.0 * 0.1 * (-10.0 * (t - 0.015)).exp();
        let expected = 1.0 + (slow(0.01625) + slow(0.01875)) / 4.0;
        assert!(
            (c.excitation[3] - expected).abs() < 1e-12,
            "{}",
            c.excitation[3]
        );
        assert!((c.inhibition[3] - 0.1).abs() < 1e-12);
        // Neuron 0 is not driven by its own spike; its slow current is inhibitory.
        let expected0 = (slow(0.01625) + slow(0.01875)) / 4.0;
        assert!((c.inhibition[2] - expected0).abs() < 1e-12);
        assert!((c.excitation[2] - 0.1).abs() < 1e-12);
    }

    #[test]
    fn degenerate_windows_give_none() {
        let net = net();
        let input = Signal::zero(1);
        let drive = Drive {
            network: &net,
            slow_core: &[0.0],
            input: &input,
            learned: None,
        };
        assert!(input_currents(&drive, &[], &[0.0], &[0], 0.0, 0.001, 0.01).is_none());
        assert!(input_currents(&drive, &[], &[0.0], &[], 0.0, 1.0, 0.01).is_none());
        assert!(input_currents(&drive, &[], &[0.0], &[5], 0.0, 1.0, 0.01).is_none());
        assert!(input_currents(&drive, &[], &[0.0, 1.0], &[0], 0.0, 1.0, 0.01).is_none());
    }
}
