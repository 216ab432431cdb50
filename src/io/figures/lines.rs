//! Line charts: the learning curve ([`learning_curve_figure`]) and a metric against a parameter
//! ([`metric_chart`]), on one shared line-chart drawer.

use super::*;

/// A line chart with named series, horizontal reference lines and vertical marks.
pub(super) struct Lines<'a> {
    pub(super) title: &'a str,
    pub(super) x_label: &'a str,
    pub(super) y_label: &'a str,
    pub(super) series: &'a [Series],
    pub(super) hlines: &'a [Tolerance],
    /// (x, label) of vertical dashed lines.
    pub(super) vlines: &'a [(f64, String)],
    pub(super) log_y: bool,
    pub(super) markers: bool,
}

pub(super) fn line_chart(path: &Path, spec: &Lines<'_>) -> Result<(), FigureError> {
    let keep = |y: f64| y.is_finite() && (!spec.log_y || y > 0.0);
    let points = || {
        spec.series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|p| p.0.is_finite() && keep(p.1))
    };
    let (x0, x1) = extent(
        points().map(|p| p.0).chain(spec.vlines.iter().map(|v| v.0)),
        0.02,
    )
    .ok_or_else(|| no_data(path, "no finite point in any series"))?;
    let ys = points()
        .map(|p| p.1)
        .chain(spec.hlines.iter().map(|t| t.value).filter(|&v| keep(v)));
    let (y0, y1) = if spec.log_y {
        let (lo, hi) = extent(ys.map(f64::log10), 0.05)
            .ok_or_else(|| no_data(path, "no positive value for a log axis"))?;
        (
            floor_125(10f64.powf(lo)),
            10f64.powf(hi + 0.1 * (hi - lo).max(0.5)),
        )
    } else {
        let (lo, hi) = extent(ys, 0.05).ok_or_else(|| no_data(path, "no finite value"))?;
        (lo, hi + 0.1 * (hi - lo))
    };
    render(path, (900, 520), |root| {
        if spec.log_y {
            draw_lines(root, spec, x0..x1, (y0..y1).log_scale(), (y0, y1))
        } else {
            draw_lines(root, spec, x0..x1, y0..y1, (y0, y1))
        }
    })
}

pub(super) fn draw_lines<Y>(
    root: &Area<'_>,
    spec: &Lines<'_>,
    x: Range<f64>,
    y: Y,
    (y0, y1): (f64, f64),
) -> DrawResult
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let keep = |y: f64| y.is_finite() && (!spec.log_y || y > 0.0);
    let (x0, x1) = (x.start, x.end);
    let key: Vec<KeyEntry> = spec
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                s.name.clone(),
                PALETTE[i % PALETTE.len()].stroke_width(2),
                false,
            )
        })
        .collect();
    let area = title_strip(root, spec.title, &key)?;
    let mut chart = chart_on(&area, None).build_cartesian_2d(x, y)?;
    let y_scale = if spec.log_y {
        Scale::Log(y0, y1)
    } else {
        Scale::Linear
    };
    mesh(
        &mut chart,
        (spec.x_label, Scale::Linear),
        (spec.y_label, y_scale),
    )?;
    for (xv, label) in spec.vlines {
        if !(x0..=x1).contains(xv) {
            continue;
        }
        chart.draw_series(DashedLineSeries::new(
            [(*xv, y0), (*xv, y1)],
            5,
            4,
            MARK.stroke_width(1),
        ))?;
        if !label.is_empty() {
            chart.draw_series(std::iter::once(
                EmptyElement::at((*xv, y1))
                    + Text::new(
                        label.clone(),
                        (5, 4),
                        font(12).color(&MARK).pos(Pos::new(HPos::Left, VPos::Top)),
                    ),
            ))?;
        }
    }
    for t in spec.hlines.iter().filter(|t| keep(t.value)) {
        chart.draw_series(DashedLineSeries::new(
            [(x0, t.value), (x1, t.value)],
            8,
            4,
            TEACHER.stroke_width(1),
        ))?;
    }
    for (i, s) in spec.series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|p| p.0.is_finite() && keep(p.1))
            .collect();
        chart.draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))?;
        if spec.markers {
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        }
    }
    // Tolerance names last, on a light box above their line's left end, over the data.
    for t in spec.hlines.iter().filter(|t| keep(t.value)) {
        let w = text_width(&t.name, 12);
        chart.draw_series(std::iter::once(
            EmptyElement::at((x0, t.value))
                + Rectangle::new([(4, -18), (10 + w, -2)], WHITE.mix(0.8).filled())
                + Text::new(
                    t.name.clone(),
                    (7, -3),
                    font(12)
                        .color(&TEACHER)
                        .pos(Pos::new(HPos::Left, VPos::Bottom)),
                ),
        ))?;
    }
    Ok(())
}

/// Writes the learning curve: the field error and the window NRMSE (readout vs teacher since
/// the previous point) against time on a log y axis; the training phases among `phases` (may
/// be empty) are marked by dashed lines at their start (named) and end. Non-finite and
/// non-positive values are left out.
///
/// Errors: no positive finite value, or the file cannot be written.
pub fn learning_curve_figure(
    path: &Path,
    curve: &[CurvePoint],
    phases: &[PhaseSpan],
) -> Result<(), FigureError> {
    let series = [
        Series {
            name: "field error".into(),
            points: curve.iter().map(|p| (p.time, p.field_error)).collect(),
        },
        Series {
            name: "window NRMSE (readout vs teacher)".into(),
            points: curve.iter().map(|p| (p.time, p.window_nrmse)).collect(),
        },
    ];
    let mut vlines = Vec::new();
    for ph in phases.iter().filter(|p| p.is_training()) {
        vlines.push((ph.start, ph.name.clone()));
        vlines.push((ph.end(), String::new()));
    }
    line_chart(
        path,
        &Lines {
            title: "learning curve",
            x_label: "time (s)",
            y_label: "error (log scale)",
            series: &series,
            hlines: &[],
            vlines: &vlines,
            log_y: true,
            markers: false,
        },
    )
}

/// Writes a chart of metrics against a parameter (see [`MetricChart`]): one line with point
/// markers per series, tolerance lines dashed grey with their names at the right.
///
/// Errors: no drawable point (finite, and positive on a log axis), or the file cannot be
/// written.
///
/// ```
/// use ebnsim::io::figures::{metric_chart, MetricChart, Series, Tolerance};
/// let path = std::env::temp_dir().join("ebnsim-doc-kill.svg");
/// metric_chart(
///     &path,
///     &MetricChart {
///         title: "Van der Pol: errors vs neurons removed".into(),
///         x_label: "fraction of neurons killed".into(),
///         y_label: "|relative error|, NRMSE".into(),
///         series: vec![
///             Series {
///                 name: "|period error|".into(),
///                 points: vec![(0.0, 0.0032), (0.25, 0.0035), (0.5, 0.0040), (0.75, 0.012)],
///             },
///             Series {
///                 name: "|amplitude error|".into(),
///                 points: vec![(0.0, 0.0040), (0.25, 0.0043), (0.5, 0.0049), (0.75, 0.02)],
///             },
///             Series {
///                 name: "1-s NRMSE".into(),
///                 points: vec![(0.0, 0.031), (0.25, 0.033), (0.5, 0.037), (0.75, 0.09)],
///             },
///         ],
///         tolerances: vec![
///             Tolerance { name: "period / amplitude target 1 %".into(), value: 0.01 },
///             Tolerance { name: "NRMSE target 0.05".into(), value: 0.05 },
///         ],
///         log_y: true,
///     },
/// )?;
/// assert!(std::fs::read_to_string(&path)?.contains("|period error|"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn metric_chart(path: &Path, chart: &MetricChart) -> Result<(), FigureError> {
    line_chart(
        path,
        &Lines {
            title: &chart.title,
            x_label: &chart.x_label,
            y_label: &chart.y_label,
            series: &chart.series,
            hlines: &chart.tolerances,
            vlines: &[],
            log_y: chart.log_y,
            markers: true,
        },
    )
}
