//! The spike raster with its inter-spike-interval histogram ([`raster_figure`]).

use super::*;

/// Writes a spike raster over `window` (neurons `0..neurons`; beyond `MAX_RASTER_NEURONS`
/// every k-th neuron) next to a histogram of all inter-spike intervals inside the window (every
/// neuron; log-spaced bins on a log ms axis). `neurons` is raised to cover the largest index in
/// `spikes`. An empty window gives an empty raster, not an error.
///
/// Errors: an invalid window, or the file cannot be written.
pub fn raster_figure(
    path: &Path,
    spikes: &[Spike],
    neurons: usize,
    window: Window,
) -> Result<(), FigureError> {
    let w = window.check(path)?;
    let n = spikes
        .iter()
        .map(|s| s.neuron as usize + 1)
        .max()
        .unwrap_or(0)
        .max(neurons)
        .max(1);
    let stride = n.div_ceil(MAX_RASTER_NEURONS);
    // Only the neurons that fired in the window hold memory (a file may name neuron 4294967295
    // in two lines).
    let mut trains: std::collections::BTreeMap<usize, Vec<f64>> = Default::default();
    for s in spikes {
        let t = s.time.secs();
        if w.contains(t) {
            trains.entry(s.neuron as usize).or_default().push(t);
        }
    }
    let count: usize = trains.values().map(Vec::len).sum();
    let mut isis_ms = Vec::new();
    let mut zero_isis = 0usize;
    for train in trains.values_mut() {
        train.sort_by(f64::total_cmp);
        for pair in train.windows(2) {
            let isi = (pair[1] - pair[0]) * 1e3;
            if isi > 0.0 {
                isis_ms.push(isi);
            } else {
                zero_isis += 1;
            }
        }
    }
    let rate = count as f64 / (n as f64 * (w.end - w.start));
    let title = format!(
        "{count} spikes of {n} neurons in [{}, {}] s ({} Hz per neuron)",
        tick(w.start),
        tick(w.end),
        short(rate)
    );
    let raster_caption = if stride > 1 {
        format!("raster (every {stride}th neuron)")
    } else {
        "raster".to_string()
    };
    let hist_caption = if zero_isis > 0 {
        format!("ISIs ({zero_isis} zero ISIs not shown)")
    } else {
        "inter-spike intervals".to_string()
    };
    render(path, (1100, 520), |root| {
        let area = title_strip(root, &title, &[])?;
        let (left, right) = area.split_horizontally(740);
        let mut chart = chart_on(&left, Some(&raster_caption))
            .build_cartesian_2d(w.start..w.end, -0.5..(n as f64 - 0.5))?;
        mesh(
            &mut chart,
            ("time (s)", Scale::Linear),
            ("neuron", Scale::Linear),
        )?;
        let half = 0.4 * stride as f64;
        let style = TICK.stroke_width(1);
        chart.draw_series(trains.iter().filter(|(i, _)| *i % stride == 0).flat_map(
            |(&i, train)| {
                train.iter().map(move |&t| {
                    PathElement::new(vec![(t, i as f64 - half), (t, i as f64 + half)], style)
                })
            },
        ))?;
        draw_isi_histogram(&right, &hist_caption, &isis_ms)
    })
}

pub(super) fn draw_isi_histogram(area: &Area<'_>, caption: &str, isis_ms: &[f64]) -> DrawResult {
    pub(super) const BINS: usize = 30;
    let (lo, hi) = isis_ms
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let (lo, hi) = if lo > hi {
        (1.0, 1000.0)
    } else if hi / lo < 2.0 {
        (lo / 1.5, hi * 1.5)
    } else {
        (lo, hi * 1.0001)
    };
    let (llo, lhi) = (lo.log10(), hi.log10());
    let edge = |i: usize| 10f64.powf(llo + (lhi - llo) * i as f64 / BINS as f64);
    let mut counts = [0usize; BINS];
    for &v in isis_ms {
        let b = ((v.log10() - llo) / (lhi - llo) * BINS as f64).floor();
        counts[(b.max(0.0) as usize).min(BINS - 1)] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.08;
    let mut chart =
        chart_on(area, Some(caption)).build_cartesian_2d((lo..hi).log_scale(), 0.0..top)?;
    mesh(
        &mut chart,
        ("ISI (ms, log scale)", Scale::Log(lo, hi)),
        ("count", Scale::Linear),
    )?;
    let fill = PALETTE[0].mix(0.75).filled();
    chart.draw_series(
        counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &c)| Rectangle::new([(edge(i), 0.0), (edge(i + 1), c as f64)], fill)),
    )?;
    if isis_ms.is_empty() {
        chart.draw_series(std::iter::once(
            EmptyElement::at((lo, top)) + Text::new("no ISIs in the window", (10, 10), font(13)),
        ))?;
    }
    Ok(())
}
