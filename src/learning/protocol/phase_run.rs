//! Steps 2–4 of a phase (module docs): where the teacher starts and its integration over the
//! phase, the input `c + K x` and the slow core `L − K I`, and the run to the phase's end —
//! with the local rule learning epoch by epoch when η > 0 — sampling readout and teacher on the
//! global grid.

use super::checkpoint::Within;
use super::teacher::{PhaseTeacher, TEACHER_WINDOW};
use super::*;

/// The teacher's start state of the phase (`start`): the previous phase's end, `target.initial`
/// with the network placed there too, or the network's readout.
pub(super) fn teacher_start<E: Plastic>(
    engine: &mut E,
    ctx: &Ctx<'_>,
    st: &mut State,
    pi: usize,
    phase: &Phase,
) -> Result<Vec<f64>, RunError> {
    let model = ctx.model;
    Ok(match phase.start {
        PhaseStart::Continue => st.teacher_end.clone(),
        PhaseStart::Teacher => {
            engine
                .place_readout(&model.target.initial)
                .map_err(|e| phase_field(e, pi, "start"))?;
            model.target.initial.clone()
        }
        PhaseStart::Readout => {
            engine.readout(&mut st.xhat);
            st.xhat.clone()
        }
    })
}

/// Sets the slow core `L − K I` (`L = U` for the linear basis, else 0).
pub(super) fn set_core<E: Plastic>(
    engine: &mut E,
    ctx: &Ctx<'_>,
    k: f64,
    u: &[f64],
    core: &mut [f64],
) -> Result<(), BuildError> {
    let d = ctx.d;
    for r in 0..d {
        for col in 0..d {
            let l = if ctx.linear { u[r * d + col] } else { 0.0 };
            core[r * d + col] = l - if r == col { k } else { 0.0 };
        }
    }
    engine.set_slow_core(core)
}

/// Runs the network to `upto`, sampling readout and teacher at the grid times before it (and at
/// it, when `inclusive`), and the state monitor, if any, at its own sample times.
fn take_samples<E: Plastic>(
    engine: &mut E,
    ctx: &Ctx<'_>,
    st: &mut State,
    teacher: &DenseSolution,
    upto: f64,
    inclusive: bool,
) -> Result<(), SimError> {
    loop {
        let tr = st.next_sample as f64 * ctx.dt;
        let tm = st.monitor.as_ref().map_or(f64::INFINITY, |m| m.next_time());
        let ts = tr.min(tm);
        if ts > upto || (!inclusive && ts >= upto) {
            return Ok(());
        }
        engine.run_until(
            Time::from_secs(ts.max(engine.time().secs())),
            &mut st.spikes,
        )?;
        if tr == ts {
            engine.readout(&mut st.xhat);
            teacher.eval_hinted(ts, &mut st.x, &mut st.teacher_hint);
            crate::error::SimError::check_sample(ts, &st.xhat, Some(&st.x))?;
            st.readout.push(ts, &st.xhat, Some(&st.x));
            st.next_sample += 1;
        }
        if tm == ts {
            st.observe(engine);
            if let Some(m) = &mut st.monitor {
                m.sample(|v| engine.voltages(v));
            }
        }
    }
}

/// What a phase's loop shows after every epoch or step (for checkpoints).
pub(super) type WithinHook<'h, E> =
    dyn FnMut(&E, &mut State, Within) -> Result<(), LearnError> + 'h;

/// Runs the phase to `t_e`; when it learns, epoch by epoch with the local rule, taking learning
/// curve points. `from` continues a phase from a checkpoint's position; `at` is shown the
/// position after every epoch (training) or step (otherwise), for checkpoints.
#[allow(clippy::too_many_arguments)]
pub(super) fn run<E: Plastic>(
    engine: &mut E,
    ctx: &Ctx<'_>,
    st: &mut State,
    (pi, phase): (usize, &Phase),
    teacher: &mut PhaseTeacher<'_>,
    states: &[f64],
    t_s: f64,
    progress: &mut dyn FnMut(LearnProgress) -> ControlFlow<()>,
    (from, at): (Option<Within>, &mut WithinHook<'_, E>),
) -> Result<(), LearnError> {
    let Phase {
        duration,
        feedback_gain: k,
        ..
    } = *phase;
    let t_e = t_s + duration;
    let last = pi + 1 == ctx.model.phases.len();
    let learns = phase.learns() && !ctx.opts.frozen;
    if learns {
        let schedule = Schedule {
            duration,
            epoch: phase.epoch,
            feedback_gain: k,
            learning_rate: phase.learning_rate,
            learning_rate_decay: phase.learning_rate_decay,
        };
        let mut window_start = match from {
            Some(w) => w.window_start,
            None => {
                engine.record_intervals(true);
                engine.flush();
                engine.take_intervals(&mut st.log);
                st.mark(engine)?
            }
        };
        let epochs = (duration / phase.epoch).ceil() as usize;
        let curve_every = (epochs / CURVE_POINTS).max(1);
        let done = from.map_or(0, |w| w.epochs_done);
        for e in done + 1..=epochs {
            let t = t_s + (e as f64 * phase.epoch).min(duration);
            cover(engine, teacher, engine.time().secs(), t)?;
            engine.boundary_at(t);
            take_samples(engine, ctx, st, teacher.solution(), t, false)?;
            engine.run_until(Time::from_secs(t), &mut st.spikes)?;
            engine.flush();
            engine.take_intervals(&mut st.log);
            st.learner.integrate(&st.log, teacher.solution());
            st.learner
                .apply(schedule.learning_rate_at((t - t_s) / duration));
            st.u.copy_from_slice(st.learner.weights());
            if ctx.linear {
                set_core(engine, ctx, k, &st.u, &mut st.core)?;
            } else {
                engine.set_learned_weights(&st.u)?;
            }
            if e % curve_every == 0 || e == epochs {
                let window_nrmse = st.nrmse_since(window_start)?.unwrap_or(f64::NAN);
                window_start = st.mark(engine)?;
                let point = CurvePoint {
                    time: t,
                    phase: pi,
                    field_error: field_err(
                        &ctx.basis,
                        &st.u,
                        ctx.field.as_ref(),
                        ctx.lambda_d,
                        states,
                    ),
                    window_nrmse,
                };
                st.curve.push(point);
                progress::report(progress, LearnProgress::Curve(point), t)?;
            }
            if t >= st.next_report {
                st.next_report = t + ctx.report_every;
                progress::report(progress, LearnProgress::Time(t), t)?;
            }
            let within = Within {
                epochs_done: e,
                window_start,
                t,
            };
            st.flush(engine)?;
            at(engine, st, within)?;
        }
        engine.record_intervals(false);
    } else {
        let mut t = from.map_or(t_s, |w| w.t);
        while t < t_e {
            // (At most a teacher window: what the teacher holds ahead.)
            let step = (t + (ctx.report_every * 10.0).min(TEACHER_WINDOW)).min(t_e);
            cover(engine, teacher, t, step)?;
            take_samples(engine, ctx, st, teacher.solution(), step, false)?;
            engine.run_until(Time::from_secs(step), &mut st.spikes)?;
            t = step;
            progress::report(progress, LearnProgress::Time(step), step)?;
            let within = Within {
                epochs_done: 0,
                window_start: Default::default(),
                t,
            };
            st.flush(engine)?;
            at(engine, st, within)?;
        }
    }
    if last {
        cover(engine, teacher, t_e, t_e)?;
        take_samples(engine, ctx, st, teacher.solution(), t_e, true)?;
    }
    engine.run_until(Time::from_secs(t_e), &mut st.spikes)?;
    Ok(())
}

/// Integrates the teacher over the epoch or step `[from, to]` ([`PhaseTeacher::cover`]) and
/// gives the engine its input there when it changed.
fn cover<E: Plastic>(
    engine: &mut E,
    teacher: &mut PhaseTeacher<'_>,
    from: f64,
    to: f64,
) -> Result<(), RunError> {
    if teacher.cover(from, to)? {
        engine.extend_input(teacher.drive().clone())?;
    }
    Ok(())
}
