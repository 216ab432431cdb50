//! A phase's teacher `ẋ = f(x) + c(t)`, integrated window by window: the dense output and the
//! kernel's input `c + K x` are held for [`TEACHER_WINDOW`] seconds ahead and [`KEEP`] behind,
//! so a phase of any length needs the memory of a few windows.
//!
//! Why the pieces change nothing: the integration steps on exactly as one call over the whole
//! phase would ([`Integration`]: the same steps, to the bit), each window's input to the engine
//! has the very pieces of the whole-phase input over the window ([`Signal::linear_combination_between`],
//! ending in a knot where the whole-phase input has one) and goes to the engine by
//! [`Plastic::extend_input`], which leaves its state untouched. A phase shorter than a window
//! is integrated in one piece, as before.

use super::*;
use crate::model::ode::Integration;

/// Length of a teacher window, s: how far ahead the teacher is integrated at a time.
pub(crate) const TEACHER_WINDOW: f64 = 10.0;

/// Kept behind the start of the epoch or step being run, s: the E/I balance reads the input of
/// the phase's last [`EI_WINDOW`] seconds.
const KEEP: f64 = EI_WINDOW + 1.0;

/// The teacher of one phase, integrated as far as the run needs.
pub(super) struct PhaseTeacher<'a> {
    field: &'a dyn VectorField,
    /// The phase's command `c` in absolute time.
    c: Signal,
    k: f64,
    t_s: f64,
    t_e: f64,
    run: Integration,
    /// Windows integrated: the steps reach `t_s + windows · TEACHER_WINDOW` (or `t_e`).
    windows: usize,
    /// The engine's input `c + K x` over the windows held (K > 0).
    drive: Signal,
    label: String,
}

impl<'a> PhaseTeacher<'a> {
    /// The teacher of the phase `[t_s, t_e]` from `x0`, integrated over its first window, with
    /// command `c` and feedback gain `k`; `label` names the phase in errors.
    pub(super) fn new(
        field: &'a dyn VectorField,
        c: Signal,
        x0: &[f64],
        (t_s, t_e): (f64, f64),
        k: f64,
        label: String,
    ) -> Result<PhaseTeacher<'a>, RunError> {
        let run = Integration::new(field, &c, x0, t_s, t_e, Tolerance::default())
            .map_err(|e| sim(format!("{label}: teacher: {e}")))?;
        let drive = Signal::zero(c.dims());
        let mut teacher = PhaseTeacher {
            field,
            c,
            k,
            t_s,
            t_e,
            run,
            windows: 0,
            drive,
            label,
        };
        teacher.cover(t_s, t_s)?;
        Ok(teacher)
    }

    /// The dense output held (from [`KEEP`] seconds before the last `from` of
    /// [`PhaseTeacher::cover`] on).
    pub(super) fn solution(&self) -> &DenseSolution {
        self.run.solution()
    }

    /// The engine's input `c + K x` over the windows held (`c` when K = 0).
    pub(super) fn drive(&self) -> &Signal {
        if self.k > 0.0 {
            &self.drive
        } else {
            &self.c
        }
    }

    /// The teacher's state at the phase's end (once covered to it).
    pub(super) fn end_state(&self) -> &[f64] {
        self.run.solution().end_state()
    }

    /// The end of the window that holds `t`: steps reach past it.
    fn window_of(&self, t: f64) -> usize {
        let mut w = ((t - self.t_s) / TEACHER_WINDOW).floor().max(0.0) as usize + 1;
        while self.t_s + w as f64 * TEACHER_WINDOW <= t {
            w += 1;
        }
        w
    }

    /// Integrates on so that the teacher covers the epoch or step `[from, to]` (its steps reach
    /// past `to`, or the phase's end), forgetting what lies more than [`KEEP`] before `from`.
    /// Returns whether the engine's input changed (then give it [`PhaseTeacher::drive`] by
    /// [`Plastic::extend_input`]).
    pub(super) fn cover(&mut self, from: f64, to: f64) -> Result<bool, RunError> {
        let w = self.window_of(to);
        if w <= self.windows || self.run.done() {
            return Ok(false);
        }
        self.windows = w;
        let until = (self.t_s + w as f64 * TEACHER_WINDOW).min(self.t_e);
        self.run
            .advance(self.field, &self.c, until)
            .map_err(|e| sim(format!("{}: teacher: {e}", self.label)))?;
        self.run.forget_before(from - KEEP);
        if self.k <= 0.0 {
            return Ok(false);
        }
        self.drive = self.window_drive(from - KEEP)?;
        Ok(true)
    }

    /// `c + K x` over the knots from `from` to where the steps stand (the whole-phase input's
    /// pieces there): the teacher's held segments as a signal (zero before them), ending, when
    /// the phase goes on, in a knot at the steps' end (holding the state there, never used: the
    /// next window replaces it first).
    fn window_drive(&self, from: f64) -> Result<Signal, RunError> {
        let sol = self.run.solution();
        let d = sol.dims();
        let zeros = vec![0.0; d];
        let first = sol.segments().next().map_or(sol.end_time(), |s| s.start);
        let lead = (first != 0.0).then_some((0.0, 0, zeros.as_slice()));
        let segments = sol.segments().map(|s| (s.start, s.degree, s.coeffs));
        let open = !self.run.done();
        let tail = open.then_some((sol.end_time(), 0, sol.end_state()));
        let x = Signal::from_polynomials(d, lead.into_iter().chain(segments).chain(tail))?;
        let to = if open { sol.end_time() } else { f64::INFINITY };
        Ok(self
            .c
            .linear_combination_between(1.0, &x, self.k, (from, to))?)
    }
}

/// What a pass of a phase's teacher of its own (the same steps as the run's, window by window)
/// gives before the phase runs.
pub(super) struct FirstPass {
    /// Teacher states of a training phase (η > 0 in the file, frozen or not), for the field
    /// error: [`FIELD_SAMPLES`] evenly spread over the phase (none for other phases).
    pub(super) states: Vec<f64>,
    /// The spikes it takes to follow the teacher ([`crate::run::cost`]'s estimate).
    pub(super) spikes: f64,
}

/// Integrates the teacher of phase `pi` from `x0` once before the phase runs: its training
/// states and its spike estimate; an overflowing teacher fails here, before the phase.
pub(super) fn first_pass(
    ctx: &Ctx<'_>,
    (pi, phase): (usize, &Phase),
    c: &Signal,
    x0: &[f64],
    t_s: f64,
) -> Result<FirstPass, RunError> {
    use crate::run::cost::{SpikeEstimate, SAMPLES};
    let label = format!("phase[{pi}] ({})", phase.name);
    let t_e = t_s + phase.duration;
    // Only the states: no input to build (K = 0).
    let mut teacher = PhaseTeacher::new(ctx.field.as_ref(), c.clone(), x0, (t_s, t_e), 0.0, label)?;
    let mut estimate = SpikeEstimate::new(&ctx.model.network, phase.duration);
    let wanted = if phase.learns() { FIELD_SAMPLES } else { 0 };
    let mut states = Vec::with_capacity(wanted * ctx.d);
    let mut x = vec![0.0; ctx.d];
    // The states' and the estimate's sample times, merged in time order.
    let (mut i, mut k) = (0, 0);
    while i < wanted || k <= SAMPLES {
        let ts = if i < wanted {
            t_s + phase.duration * (i as f64 + 0.5) / FIELD_SAMPLES as f64
        } else {
            f64::INFINITY
        };
        let te = if k <= SAMPLES {
            estimate.time(t_s, k)
        } else {
            f64::INFINITY
        };
        let t = ts.min(te);
        teacher.cover(t, t)?;
        teacher.solution().eval(t, &mut x);
        if ts == t {
            states.extend_from_slice(&x);
            i += 1;
        }
        if te == t {
            estimate.add(&x);
            k += 1;
        }
    }
    Ok(FirstPass {
        states,
        spikes: estimate.total(),
    })
}

/// Refuses phase `pi` when it is estimated to be absurd — more spikes or dense neuron updates
/// than [`crate::run::cost`] allows a run — unless `opts.force`.
pub(super) fn check_cost(
    ctx: &Ctx<'_>,
    (pi, phase): (usize, &Phase),
    spikes: f64,
) -> Result<(), RunError> {
    use crate::run::cost::{too_many_spikes, MAX_DENSE_WORK, MAX_ESTIMATED_SPIKES};
    if ctx.opts.force {
        return Ok(());
    }
    let field = format!("phase[{pi}].duration");
    let dense = ctx.opts.engine.unwrap_or(ctx.model.engine) == crate::engine::EngineKind::Dense;
    if dense {
        let dt = ctx.opts.dt.unwrap_or(ctx.model.dense.dt);
        let work = (phase.duration / dt).ceil() * ctx.n as f64;
        if work > MAX_DENSE_WORK {
            return Err(BuildError::new(
                field,
                format!(
                    "a dense phase of at most {MAX_DENSE_WORK:e} neuron updates (steps × N; pass \
                     --force, PhaseOptions::force, to run it anyway)"
                ),
                format!("{work:.1e}"),
            )
            .into());
        }
    } else if spikes > MAX_ESTIMATED_SPIKES {
        let err = too_many_spikes(&field, spikes, phase.duration, "the target");
        return Err(err.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Control, Engine};
    use crate::model::ode::integrate_span;

    /// Van der Pol with a fast fluctuating command: an 80-s phase, eight windows.
    const MODEL: &str = r#"
name = "windows"
seed = 3
[network]
neurons = 16
dims = 2
lambda_d = 10.0
mu = 1e-4
decoder = { random = "normal", scale = 0.1, normalize = true }
[target]
kind = "van_der_pol"
initial = [1.0, 0.0]
[basis]
kind = "linear"
[[phase]]
duration = 80.0
input = { kind = "ou", tau = 0.05, sigma = 0.5 }
feedback_gain = 20.0
"#;

    #[test]
    fn windows_give_the_whole_phase_teacher_and_run_to_the_bit() {
        let model =
            crate::io::model_file::parse_learning(MODEL, std::path::Path::new("w.toml")).unwrap();
        let field = model.target.field().unwrap();
        let (t_s, k) = (2.5, 20.0);
        let t_e = t_s + model.phases[0].duration;
        let c = shift(&model.phases[0].input, t_s).unwrap();
        let x0 = [0.3, -0.2];
        // The whole phase at once, as before windows.
        let whole =
            integrate_span(field.as_ref(), &c, &x0, t_s, t_e, Tolerance::default()).unwrap();
        let zeros = [0.0; 2];
        let x = Signal::from_polynomials(
            2,
            std::iter::once((0.0, 0, &zeros[..]))
                .chain(whole.segments().map(|s| (s.start, s.degree, s.coeffs))),
        )
        .unwrap();
        let whole_drive = c.linear_combination(1.0, &x, k).unwrap();
        let start = |input: Signal| {
            let mut kernel =
                crate::engine::kernel::Kernel::new(model.network.clone(), Signal::zero(2), &x0)
                    .unwrap();
            let mut spikes = Vec::new();
            kernel
                .run_until(crate::time::Time::from_secs(t_s), &mut spikes)
                .unwrap();
            kernel.set_input(input).unwrap();
            (kernel, spikes)
        };
        let (mut a, mut spikes_a) = start(whole_drive);
        a.run_until(crate::time::Time::from_secs(t_e), &mut spikes_a)
            .unwrap();
        // Window by window, in steps of 0.37 s, the teacher compared at every millisecond.
        let label = "phase".to_string();
        let mut teacher =
            PhaseTeacher::new(field.as_ref(), c.clone(), &x0, (t_s, t_e), k, label).unwrap();
        let (mut b, mut spikes_b) = start(teacher.drive().clone());
        let (mut t, mut extended, mut checked) = (t_s, 0, 0);
        let (mut xa, mut xb) = ([0.0; 2], [0.0; 2]);
        while t < t_e {
            let step = (t + 0.37).min(t_e);
            if teacher.cover(t, step).unwrap() {
                b.extend_input(teacher.drive().clone()).unwrap();
                extended += 1;
            }
            let held = teacher.solution().segments().len();
            assert!(
                held < whole.steps() / 2,
                "{held} of {} steps held",
                whole.steps()
            );
            let mut s = t;
            while s <= step {
                whole.eval(s, &mut xa);
                teacher.solution().eval(s, &mut xb);
                assert_eq!(xa.map(f64::to_bits), xb.map(f64::to_bits), "teacher at {s}");
                (s, checked) = (s + 1e-3, checked + 1);
            }
            b.run_until(crate::time::Time::from_secs(step), &mut spikes_b)
                .unwrap();
            t = step;
        }
        assert_eq!(extended, 7, "windows after the first");
        assert!(checked > 79_000);
        assert_eq!(teacher.end_state(), whole.end_state());
        assert!(spikes_a.len() > 1000, "{} spikes", spikes_a.len());
        let bits = |v: &[crate::engine::Spike]| {
            v.iter()
                .map(|s| (s.time.secs().to_bits(), s.neuron))
                .collect::<Vec<_>>()
        };
        assert!(bits(&spikes_a) == bits(&spikes_b), "the spikes differ");
        assert_eq!(a.counters(), b.counters());
    }
}
