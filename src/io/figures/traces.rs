//! The time-series figures: readout against teacher ([`readout_figure`]) and two windows side by
//! side ([`before_after_figure`]), with the panels and phase marks they share.

use super::*;

/// Component `k` of `x̂` (or of the target) over the samples `r`.
pub(super) fn component(
    readout: &Readout,
    r: Range<usize>,
    k: usize,
    target: bool,
) -> Vec<(f64, f64)> {
    let d = readout.dims;
    let data = if target {
        match &readout.x {
            Some(x) => x,
            None => return Vec::new(),
        }
    } else {
        &readout.xhat
    };
    r.map(|i| (readout.times[i], data[i * d + k])).collect()
}

pub(super) fn teacher_style() -> ShapeStyle {
    TEACHER.stroke_width(2)
}

pub(super) fn readout_style(k: usize) -> ShapeStyle {
    PALETTE[k % PALETTE.len()].stroke_width(1)
}

/// One time-series panel: readout (coloured) of component `k`, the teacher (dashed grey) on
/// top of it.
pub(super) struct TracePanel<'a> {
    pub(super) readout: &'a Readout,
    pub(super) window: Window,
    pub(super) k: usize,
    pub(super) y: (f64, f64),
    pub(super) caption: Option<String>,
    pub(super) phases: &'a [PhaseSpan],
    pub(super) phase_names: bool,
    pub(super) buckets: usize,
}

pub(super) fn draw_trace_panel(area: &Area<'_>, p: &TracePanel<'_>) -> DrawResult {
    let mut chart = chart_on(area, p.caption.as_deref())
        .build_cartesian_2d(p.window.start..p.window.end, p.y.0..p.y.1)?;
    mesh(
        &mut chart,
        ("time (s)", Scale::Linear),
        (&format!("component {}", p.k), Scale::Linear),
    )?;
    let r = sample_range(&p.readout.times, p.window);
    let pts = thin_series(component(p.readout, r.clone(), p.k, false), p.buckets);
    chart.draw_series(LineSeries::new(pts, readout_style(p.k)))?;
    if p.readout.x.is_some() {
        let pts = thin_series(component(p.readout, r, p.k, true), p.buckets);
        chart.draw_series(DashedLineSeries::new(pts, 7, 4, teacher_style()))?;
    }
    draw_phase_marks(&mut chart, p.phases, p.window, p.y, p.phase_names)
}

/// The key of the time-series figures: the teacher (if any), then the readout's components.
pub(super) fn trace_key(readout: &Readout, rows: usize) -> Vec<KeyEntry> {
    let mut key = Vec::new();
    if readout.x.is_some() {
        key.push(("teacher x".to_string(), teacher_style(), true));
    }
    for k in 0..rows {
        key.push((format!("readout x̂{k}"), readout_style(k), false));
    }
    key
}

/// Vertical dashed lines at the phase starts inside `w`; with `names`, each phase overlapping
/// `w` is named at the top, from its start (or the window's start).
pub(super) fn draw_phase_marks(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    phases: &[PhaseSpan],
    w: Window,
    y: (f64, f64),
    names: bool,
) -> DrawResult {
    for ph in phases {
        if ph.end() <= w.start || ph.start >= w.end {
            continue;
        }
        if ph.start > w.start {
            chart.draw_series(DashedLineSeries::new(
                [(ph.start, y.0), (ph.start, y.1)],
                5,
                4,
                MARK.stroke_width(1),
            ))?;
        }
        if names {
            let at = ph.start.max(w.start);
            let label = EmptyElement::at((at, y.1))
                + Text::new(
                    ph.name.clone(),
                    (5, 4),
                    font(12).color(&MARK).pos(Pos::new(HPos::Left, VPos::Top)),
                );
            chart.draw_series(std::iter::once(label))?;
        }
    }
    Ok(())
}

/// y extent of components `k` of readout and target over the windows, with headroom on top for
/// labels.
pub(super) fn trace_extent(readout: &Readout, windows: &[Window], k: usize) -> Option<(f64, f64)> {
    let mut values = Vec::new();
    for &w in windows {
        let r = sample_range(&readout.times, w);
        for target in [false, true] {
            values.extend(
                component(readout, r.clone(), k, target)
                    .into_iter()
                    .map(|p| p.1),
            );
        }
    }
    let (lo, hi) = extent(values, 0.05)?;
    Some((lo, hi + 0.12 * (hi - lo)))
}

pub(super) fn check_samples(path: &Path, readout: &Readout, w: Window) -> Result<(), FigureError> {
    if readout.dims == 0 {
        return Err(no_data(path, "the readout has no dimension"));
    }
    if sample_range(&readout.times, w).len() < 2 {
        return Err(no_data(
            path,
            format!("fewer than 2 readout samples in [{}, {}] s", w.start, w.end),
        ));
    }
    Ok(())
}

/// Writes the readout `x̂` against the teacher `x` (if the readout has one) over `window`, one
/// panel per dimension (the first `MAX_PANELS`): teacher dashed grey, readout coloured.
/// `phases` (may be empty) mark phase starts inside the window with dashed lines, and name each
/// phase at the top of the first panel.
///
/// Errors: an invalid window, fewer than 2 samples in it, or the file cannot be written.
pub fn readout_figure(
    path: &Path,
    readout: &Readout,
    window: Window,
    phases: &[PhaseSpan],
) -> Result<(), FigureError> {
    let w = window.check(path)?;
    check_samples(path, readout, w)?;
    let rows = readout.dims.min(MAX_PANELS);
    let mut ys = Vec::with_capacity(rows);
    for k in 0..rows {
        ys.push(trace_extent(readout, &[w], k).unwrap_or((-1.0, 1.0)));
    }
    let title = if readout.x.is_some() {
        format!(
            "readout and teacher, t in [{}, {}] s",
            tick(w.start),
            tick(w.end)
        )
    } else {
        format!("readout x̂, t in [{}, {}] s", tick(w.start), tick(w.end))
    };
    let height = 60 + 210 * rows as u32;
    render(path, (1000, height), |root| {
        let area = title_strip(root, &title, &trace_key(readout, rows))?;
        for (k, cell) in area.split_evenly((rows, 1)).iter().enumerate() {
            draw_trace_panel(
                cell,
                &TracePanel {
                    readout,
                    window: w,
                    k,
                    y: ys[k],
                    caption: None,
                    phases,
                    phase_names: k == 0,
                    buckets: 900,
                },
            )?;
        }
        Ok(())
    })
}

/// Writes two windows of the readout side by side, `titles[0]` over `before` on the left and
/// `titles[1]` over `after` on the right (e.g. the first seconds of training and the first
/// seconds after learning), one row per dimension (the first `MAX_PANELS`) with the same y
/// range in both columns.
///
/// Errors: an invalid window, fewer than 2 samples in one, or the file cannot be written.
pub fn before_after_figure(
    path: &Path,
    readout: &Readout,
    before: Window,
    after: Window,
    titles: [&str; 2],
) -> Result<(), FigureError> {
    let windows = [before.check(path)?, after.check(path)?];
    for w in windows {
        check_samples(path, readout, w)?;
    }
    let rows = readout.dims.min(MAX_PANELS);
    let ys: Vec<(f64, f64)> = (0..rows)
        .map(|k| trace_extent(readout, &windows, k).unwrap_or((-1.0, 1.0)))
        .collect();
    let height = 60 + 210 * rows as u32;
    render(path, (1200, height), |root| {
        let area = title_strip(root, "readout and teacher", &trace_key(readout, rows))?;
        let cells = area.split_evenly((rows, 2));
        for k in 0..rows {
            for (c, w) in windows.iter().enumerate() {
                draw_trace_panel(
                    &cells[2 * k + c],
                    &TracePanel {
                        readout,
                        window: *w,
                        k,
                        y: ys[k],
                        caption: (k == 0).then(|| titles[c].to_string()),
                        phases: &[],
                        phase_names: false,
                        buckets: 500,
                    },
                )?;
            }
        }
        Ok(())
    })
}
