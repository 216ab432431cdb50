//! After a phase and after the last one: the phase's metrics ([`PhaseReport`]: errors, rates,
//! oscillation and attractor statistics of autonomous phases, E/I balance) and the run's
//! [`Summary`] with the top-level field error and fixed points.

use super::records::{Mark, PhaseTally};
use super::*;

/// What a phase's report needs besides the run state.
pub(super) struct PhaseEnd<'a> {
    pub(super) pi: usize,
    pub(super) phase: &'a Phase,
    pub(super) t_s: f64,
    /// The teacher's start state of the phase.
    pub(super) x0: &'a [f64],
    /// The phase's input `c + K x`.
    pub(super) drive: &'a Signal,
    /// Teacher states of a training phase (empty otherwise).
    pub(super) states: &'a [f64],
    /// Where the phase's records start.
    pub(super) first: Mark,
    pub(super) basins: Option<BasinReport>,
    pub(super) weight_noise: Option<WeightNoiseReport>,
}

/// The metrics of the phase that just ended.
pub(super) fn phase_report<E: Plastic>(
    engine: &E,
    ctx: &Ctx<'_>,
    st: &mut State,
    end: PhaseEnd<'_>,
) -> Result<PhaseReport, RunError> {
    let PhaseEnd {
        pi,
        phase,
        t_s,
        x0,
        drive,
        states,
        first,
        basins,
        weight_noise,
    } = end;
    let (d, dt, lambda_d) = (ctx.d, ctx.dt, ctx.lambda_d);
    let (model, opts, basis, field) = (ctx.model, ctx.opts, &ctx.basis, &ctx.field);
    let Phase {
        duration,
        feedback_gain: k,
        ..
    } = *phase;
    let t_e = t_s + duration;
    // The second passes (the first ones were taken as the records came), with what the E/I
    // balance needs: the first sample of its window and the spikes after it.
    st.account();
    let Some(PhaseTally {
        mut error,
        stats: mut spike_stats,
    }) = st.tally.phase.take()
    else {
        return Err(sim(format!("phase[{pi}]: its statistics were not started")));
    };
    let ei_from = (t_e - EI_WINDOW).max(t_s);
    let mut ei_start: Option<(f64, Vec<f64>)> = None;
    st.each_sample(first, |t, xhat, x| {
        error.second(x);
        if ei_start.is_none() && t >= ei_from {
            ei_start = Some((t, xhat.to_vec()));
        }
    })?;
    let nrmse = (error.samples() > 0).then(|| error.nrmse());
    let t0 = ei_start.as_ref().map_or(f64::INFINITY, |s| s.0);
    let mut after = Vec::new();
    st.each_spike(first, |p| {
        spike_stats.second(p);
        after.extend(p.iter().filter(|s| s.time.secs() > t0));
    })?;
    let stats = spike_stats.finish(3);
    let autonomous = phase.zero_input && k == 0.0;
    let (mut nrmse_1s, mut pe, mut ae, mut attractor) = (None, None, None, None);
    let mut learned_attractor = None;
    if autonomous && st.sample_count() > first.samples {
        // The phase's first second; its whole readout when the oscillation or attractor
        // statistics read it.
        let lorenz = model.target.kind == crate::model::dynamics::TargetKind::Lorenz && d == 3;
        let whole = model.target.oscillates() || lorenz;
        let (mut times, mut net, mut reference) = (Vec::new(), Vec::new(), Vec::new());
        st.each_sample(first, |t, xhat, x| {
            if whole || t - t_s < 1.0 {
                times.push(t - t_s);
                net.extend_from_slice(xhat);
                reference.extend_from_slice(x);
            }
        })?;
        let (net, reference) = (&net[..], &reference[..]);
        let (u, x) = (&st.u, &mut st.x);
        nrmse_1s = finite(nrmse_between(&times, net, reference, d, 0.0, 1.0));
        if model.target.oscillates() {
            let mut proj = vec![0.0; d];
            proj[0] = 1.0;
            let hyst = Hysteresis::default();
            let on = oscillation(&times, net, d, &proj, &hyst);
            let or = oscillation(&times, reference, d, &proj, &hyst);
            let (p, am) = match (on, or) {
                (Some(o1), Some(o2)) => (
                    finite(period_error(&o1, &o2)),
                    finite(amplitude_error(&o1, &o2)),
                ),
                _ => (None, None),
            };
            pe = Some(p);
            ae = Some(am);
        }
        if lorenz {
            // The reference is the target's attractor itself: its flow from the phase's
            // start over ATTRACTOR_REFERENCE seconds, not one window as short as the phase.
            let span = ATTRACTOR_REFERENCE.max(duration);
            let long = integrate_span(
                field.as_ref(),
                &Signal::zero(d),
                x0,
                t_s,
                t_s + span,
                Tolerance::default(),
            )
            .map_err(|e| sim(format!("phase[{pi}] ({}): reference: {e}", phase.name)))?;
            let samples = (span / dt).floor() as usize;
            let sample = |sol: &DenseSolution, x: &mut [f64]| {
                let mut times = Vec::with_capacity(samples);
                let mut states = Vec::with_capacity(samples * d);
                for i in 0..samples {
                    let t = i as f64 * dt;
                    sol.eval(t_s + t, x);
                    times.push(t);
                    states.extend_from_slice(x);
                }
                (times, states)
            };
            let (ref_times, ref_states) = sample(&long, x);
            // The learned field alone, integrated without spikes from the same start: tells
            // a learning failure (this differs too) from a spiking one (only the network
            // differs).
            let learned = LearnedField { basis, u, lambda_d };
            let alone = integrate_span(
                &learned,
                &Signal::zero(d),
                x0,
                t_s,
                t_s + span,
                Tolerance::default(),
            )
            .ok()
            .map(|sol| sample(&sol, x));
            let options = crate::analysis::learning_metrics::AttractorOptions::lorenz();
            attractor = crate::analysis::learning_metrics::attractor_stats(
                &times,
                net,
                &ref_times,
                &ref_states,
                d,
                &options,
            );
            learned_attractor = alone.and_then(|(lt, ls)| {
                crate::analysis::learning_metrics::attractor_stats(
                    &lt,
                    &ls,
                    &ref_times,
                    &ref_states,
                    d,
                    &options,
                )
            });
        }
    }
    let ei = match ei_start {
        Some(start) => ei_balance(engine, ctx, st, (start, &after, t_e), drive)?,
        None => None,
    };
    let u = &st.u;
    Ok(PhaseReport {
        name: phase.name.clone(),
        start_time: t_s,
        duration,
        feedback_gain: k,
        learning_rate: if opts.frozen {
            0.0
        } else {
            phase.learning_rate
        },
        alive: stats.alive,
        spikes: (st.spike_count() - first.spikes) as u64,
        nrmse: nrmse.and_then(finite),
        mean_rate_hz: stats.rate_hz,
        cv_isi: stats.cv_mean,
        nrmse_1s,
        period_error: pe,
        amplitude_error: ae,
        field_error: phase
            .learns()
            .then(|| field_err(basis, u, field.as_ref(), lambda_d, states))
            .and_then(finite),
        attractor,
        learned_field_attractor: learned_attractor,
        ei_balance: ei,
        basins,
        weight_noise,
    })
}

/// The E/I balance over the phase's last `EI_WINDOW` seconds, from its first readout sample
/// there (`start`: time and readout) to `t_e` ([`crate::analysis::balance`]): the filtered
/// trains at that sample from every spike before, the currents from the spikes `after` it.
fn ei_balance<E: Plastic>(
    engine: &E,
    ctx: &Ctx<'_>,
    st: &mut State,
    ((t0, xhat0), after, t_e): ((f64, Vec<f64>), &[Spike], f64),
    input: &Signal,
) -> Result<Option<crate::analysis::learning_metrics::EiBalance>, RunError> {
    use crate::analysis::balance::{currents_after, Drive, Trains, Window, DEFAULT_BIN};
    let network = &ctx.model.network;
    let learned = engine.learned_current();
    let core = st.core.clone();
    let drive = Drive {
        network,
        slow_core: &core,
        input,
        learned,
    };
    let mut trains = Trains::at(&drive, t0);
    if trains.needed() {
        st.each_spike(Mark::default(), |p| trains.add(p))?;
    }
    let alive: Vec<usize> = (0..ctx.n).filter(|&i| engine.alive()[i]).collect();
    let window = Window {
        xhat_start: &xhat0,
        neurons: &alive,
        start: t0,
        end: t_e,
        bin: DEFAULT_BIN,
    };
    Ok(currents_after(&drive, trains, after, &window).and_then(|c| c.balance()))
}

/// The run's output once every phase has run: the summary (with the phases' reports, the
/// field error over all training states and the learned field's fixed points) and the weights,
/// and the run's files when the records were written out (still to be finished).
pub(super) fn finish<E: Plastic>(
    engine: &E,
    engine_name: &str,
    ctx: Ctx<'_>,
    mut st: State,
    wall: f64,
) -> Result<(LearnOutput, Option<RunWriter>), RunError> {
    let Ctx {
        model,
        n,
        d,
        lambda_d,
        basis,
        nb,
        field,
        total,
        ..
    } = ctx;
    // The second passes of the whole run's statistics.
    st.account();
    let mut isi = st.tally.run_isi.clone();
    st.each_spike(Mark::default(), |p| isi.second(p))?;
    let mut error = st.tally.run_error.clone();
    st.each_sample(Mark::default(), |_, _, x| error.second(x))?;
    let has_error = error.samples() > 0;
    let spike_count = st.spike_count();
    let State {
        u,
        offsets,
        spikes,
        readout,
        reports,
        curve,
        train_states,
        monitor,
        out,
        ..
    } = st;
    let field_error = (!train_states.is_empty())
        .then(|| field_err(&basis, &u, field.as_ref(), lambda_d, &train_states))
        .and_then(finite);

    let fixed = (!train_states.is_empty()
        && model.target.kind != crate::model::dynamics::TargetKind::Lorenz)
        .then(|| fixed_point_report(&basis, &u, field.as_ref(), lambda_d, &train_states));

    let counters = engine.counters();
    let mut summary = Summary {
        model: model.name.clone(),
        engine: engine_name.into(),
        seed: model.seed(),
        neurons: n,
        dims: d,
        duration: total,
        spikes: spike_count as u64,
        mean_rate_hz: metrics::mean_rate_hz(spike_count, n, total),
        cv_isi: isi.finish(3),
        readout_rmse: has_error.then(|| error.rmse()).and_then(finite),
        readout_nrmse: (has_error && d > 0).then(|| error.nrmse()).and_then(finite),
        wall_seconds: wall,
        counters,
        ..Summary::default()
    };
    summary.extra.insert(
        "phases".into(),
        serde_json::to_value(&reports).unwrap_or_default(),
    );
    summary.extra.insert(
        "field_error".into(),
        field_error.map_or(serde_json::Value::Null, Into::into),
    );
    summary
        .extra
        .insert("target".into(), model.target.kind.name().into());
    summary.extra.insert(
        "basis".into(),
        crate::io::weights_file::basis_kind(&basis).into(),
    );
    summary.extra.insert("basis_size".into(), nb.into());
    summary.add_warnings();
    if let Some(f) = fixed {
        summary.extra.insert(
            "fixed_points".into(),
            serde_json::to_value(&f).unwrap_or_default(),
        );
    }
    summary.extra.insert(
        "weights".into(),
        if offsets.is_some() {
            "low_rank_plus_offsets"
        } else {
            "low_rank"
        }
        .into(),
    );
    let output = LearnOutput {
        spikes,
        readout,
        state: monitor.map(crate::monitor::StateMonitor::into_record),
        summary,
        phases: reports,
        weights: u,
        offsets,
        basis,
        curve,
        field_error,
    };
    Ok((output, out))
}
