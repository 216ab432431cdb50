//! Step 1 of a phase (module docs): removing neurons, then the phase's perturbations — a kick of
//! network and teacher, voltage noise, one delayed spike, weight noise on the learned synapses —
//! and the basin test of the weights as they stand.

use super::*;

/// Removes the phase's neurons: `kill_fraction` of all N among the alive ones, then
/// `kill_neurons`.
pub(super) fn kill<E: Plastic>(
    engine: &mut E,
    ctx: &Ctx<'_>,
    st: &mut State,
    pi: usize,
    phase: &Phase,
) -> Result<(), RunError> {
    let n = ctx.n;
    if phase.kill_fraction > 0.0 {
        let mut alive: Vec<usize> = (0..n).filter(|&i| engine.alive()[i]).collect();
        rand::seq::SliceRandom::shuffle(&mut alive[..], &mut st.perturb);
        let count = ((phase.kill_fraction * n as f64).round() as usize).min(alive.len());
        engine.kill(&alive[..count])?;
    }
    if !phase.kill_neurons.is_empty() {
        engine
            .kill(&phase.kill_neurons)
            .map_err(|e| phase_field(e, pi, "kill_neurons"))?;
    }
    Ok(())
}

/// Sets a kick (of the network and of the teacher start `x0`), voltage noise and one delayed
/// spike.
pub(super) fn perturb<E: Plastic>(
    engine: &mut E,
    ctx: &Ctx<'_>,
    st: &mut State,
    pi: usize,
    phase: &Phase,
    x0: &mut [f64],
    t_s: f64,
) -> Result<(), RunError> {
    if let Some(kick) = &phase.kick {
        engine.readout(&mut st.xhat);
        for ((a, b), k) in st.xhat.iter_mut().zip(x0.iter_mut()).zip(kick) {
            *a += k;
            *b += k;
        }
        engine
            .place_readout(&st.xhat)
            .map_err(|e| phase_field(e, pi, "kick"))?;
    }
    match phase.noise {
        Some(noise) => {
            engine.set_voltage_noise(
                noise.sigma,
                noise.interval,
                phase_noise_seed(ctx.model.seed(), pi),
            )?;
            st.noisy = true;
        }
        None if st.noisy => {
            engine.set_voltage_noise(0.0, 1.0, 0)?;
            st.noisy = false;
        }
        None => {}
    }
    if let Some((after, delay)) = phase.delay_spike {
        engine.delay_next_spike(t_s + after, delay)?;
    }
    Ok(())
}

/// Adds the phase's weight noise to the offsets P and reports their size.
pub(super) fn weight_noise<E: Plastic>(
    engine: &mut E,
    ctx: &Ctx<'_>,
    st: &mut State,
    pi: usize,
    phase: &Phase,
) -> Result<Option<WeightNoiseReport>, RunError> {
    let (d, n, nb) = (ctx.d, ctx.n, ctx.nb);
    Ok(match phase.weight_noise {
        Some(sigma) => {
            let p = st.offsets.get_or_insert_with(|| vec![0.0; n * nb]);
            for w in p.iter_mut() {
                *w += sigma
                    * rand::Rng::sample::<f64, _>(&mut st.weight_rng, rand_distr::StandardNormal);
            }
            set_offsets(engine, &ctx.basis, d, nb, p)
                .map_err(|e| phase_field(e, pi, "weight_noise"))?;
            let norm = p.iter().map(|x| x * x).sum::<f64>().sqrt();
            let low_rank = low_rank_norm(ctx.model.network.decoders(), d, &st.u, nb);
            Some(WeightNoiseReport {
                sigma,
                offsets_norm: norm,
                relative_norm: (low_rank > 0.0).then(|| norm / low_rank).and_then(finite),
            })
        }
        None => None,
    })
}

/// The phase's basin test, over its range or the box of the training states so far.
pub(super) fn basins<E: Plastic + Clone>(
    engine: &E,
    ctx: &Ctx<'_>,
    st: &mut State,
    pi: usize,
    phase: &Phase,
) -> Result<Option<BasinReport>, RunError> {
    let d = ctx.d;
    Ok(match &phase.basins {
        None => None,
        Some(test) => {
            let (lo, hi) = match test.range {
                Some((a, b)) => (vec![a; d], vec![b; d]),
                None if !st.train_states.is_empty() => state_box(&st.train_states, d),
                None => {
                    return Err(BuildError::new(
                        format!("phase[{pi}].basins.range"),
                        "a range (required before any training phase)",
                        "none",
                    )
                    .into())
                }
            };
            for r in 0..d {
                for col in 0..d {
                    st.core[r * d + col] = if ctx.linear { st.u[r * d + col] } else { 0.0 };
                }
            }
            Some(basin_test(
                engine,
                test,
                &lo,
                &hi,
                &st.core,
                ctx.field.as_ref(),
            )?)
        }
    })
}
