//! Figures of run outputs, drawn as SVG files by the crate itself.
//!
//! Why: a spiking network's results are read from pictures first — does the readout follow the
//! teacher, how does learning converge, what do the spike trains look like — and a figure that
//! needs a separate script, a Python stack or a plotting program is a figure that does not get
//! drawn, or gets drawn from different data. These functions take the in-memory outputs of a
//! run ([`Readout`], [`Spike`]s, [`CurvePoint`]s, [`PhaseSpan`]s) and write one SVG file each,
//! atomically ([`crate::io::record::write_atomic`]); [`plot_run`] draws every figure a run
//! directory's files allow (what `ebnsim plot RUN_DIR` does).
//!
//! Drawing uses the `plotters` crate with only its SVG backend: text is written as SVG `<text>`
//! elements and laid out by the viewer, so no font files or system libraries are needed. Long
//! traces are thinned for drawing (min/max per pixel column for time series, a stride for
//! trajectories), which keeps files small without hiding peaks.
//!
//! | figure | function | file of [`plot_run`] |
//! |---|---|---|
//! | readout vs teacher, one panel per dimension (≤ 4), phase boundaries | [`readout_figure`] | `readout.svg` |
//! | two windows side by side (before vs after learning) | [`before_after_figure`] | `before_after.svg` |
//! | spike raster and ISI histogram | [`raster_figure`] | `raster.svg` |
//! | learning curve (field error, window NRMSE; log y) | [`learning_curve_figure`] | `learning_curve.svg` |
//! | phase plane (x̂ vs x in dimensions 0 and 1; for d = 1, x against dx/dt) | [`phase_plane_figure`] | `phase_plane.svg` |
//! | a metric against a parameter, several series, tolerance lines | [`metric_chart`] | — |
//!
//! The library never prints; errors are [`FigureError`]s naming the figure file.

use crate::engine::Spike;
use crate::error::OutputError;
use crate::io::record::{write_atomic, Readout};
use crate::io::run_dir::{read_run_dir, PhaseSpan, RunDirError};
use crate::learning::protocol::CurvePoint;
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// File name of the readout figure written by [`plot_run`].
pub const READOUT_SVG: &str = "readout.svg";
/// File name of the before/after figure written by [`plot_run`].
pub const BEFORE_AFTER_SVG: &str = "before_after.svg";
/// File name of the raster figure written by [`plot_run`].
pub const RASTER_SVG: &str = "raster.svg";
/// File name of the learning-curve figure written by [`plot_run`].
pub const LEARNING_CURVE_SVG: &str = "learning_curve.svg";
/// File name of the phase-plane figure written by [`plot_run`].
pub const PHASE_PLANE_SVG: &str = "phase_plane.svg";
/// Every figure [`plot_run`] draws; it removes from its output directory those it does not
/// draw this time (left by plotting an earlier, different run into the same directory).
pub const FIGURES: [&str; 5] = [
    READOUT_SVG,
    BEFORE_AFTER_SVG,
    RASTER_SVG,
    LEARNING_CURVE_SVG,
    PHASE_PLANE_SVG,
];
/// Default length of the windows drawn by [`plot_run`], s.
pub const DEFAULT_WINDOW: f64 = 10.0;
/// Most dimensions drawn by the time-series figures (one panel each).
pub const MAX_PANELS: usize = 4;
/// Most neurons shown in a raster: beyond it every k-th neuron is shown.
pub const MAX_RASTER_NEURONS: usize = 200;

/// A figure that could not be drawn or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FigureError {
    /// The SVG file could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// A run-directory file could not be read ([`plot_run`]).
    #[error(transparent)]
    Read(#[from] RunDirError),
    /// A time window that is not a finite interval with its start before its end.
    #[error("{path}: time window [{start}, {end}] s: expected finite times, start before end")]
    InvalidWindow {
        /// The figure file.
        path: PathBuf,
        /// Start of the window, s.
        start: f64,
        /// End of the window, s.
        end: f64,
    },
    /// A window length that is not a finite positive number of seconds ([`plot_run`]).
    #[error("window length: expected a finite number of seconds > 0, got {got}")]
    InvalidLength {
        /// The length given.
        got: f64,
    },
    /// Nothing to draw: e.g. no readout sample in the window, or no positive value on a log axis.
    #[error("{path}: nothing to draw: {what}")]
    NoData {
        /// The figure file.
        path: PathBuf,
        /// What was missing.
        what: String,
    },
    /// The drawing library reported an error.
    #[error("{path}: cannot draw the figure: {message}")]
    Draw {
        /// The figure file.
        path: PathBuf,
        /// The drawing library's message.
        message: String,
    },
}

/// A time interval `[start, end]`, s.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    /// Start, s.
    pub start: f64,
    /// End, s.
    pub end: f64,
}

impl Window {
    /// The window `[start, end]`.
    pub fn new(start: f64, end: f64) -> Window {
        Window { start, end }
    }

    fn check(self, path: &Path) -> Result<Window, FigureError> {
        if self.start.is_finite() && self.end.is_finite() && self.start < self.end {
            Ok(self)
        } else {
            Err(FigureError::InvalidWindow {
                path: path.to_path_buf(),
                start: self.start,
                end: self.end,
            })
        }
    }

    fn contains(self, t: f64) -> bool {
        self.start <= t && t <= self.end
    }
}

/// One named line of a [`MetricChart`].
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// `(x, y)` points, drawn in the given order; non-finite values (and values ≤ 0 on a log
    /// axis) are left out.
    pub points: Vec<(f64, f64)>,
}

/// A horizontal reference line of a [`MetricChart`] (a tolerance or target).
#[derive(Clone, Debug, PartialEq)]
pub struct Tolerance {
    /// Label written next to the line.
    pub name: String,
    /// Its y value.
    pub value: f64,
}

/// A metric against a parameter: several named series, optional tolerance lines, linear or
/// logarithmic y axis (e.g. "error vs fraction of neurons killed").
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricChart {
    /// Title above the chart.
    pub title: String,
    /// x-axis label, with units.
    pub x_label: String,
    /// y-axis label, with units.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
    /// Horizontal reference lines.
    pub tolerances: Vec<Tolerance>,
    /// Logarithmic y axis.
    pub log_y: bool,
}

type DrawResult<T = ()> = Result<T, Box<dyn std::error::Error>>;
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

const FONT: &str = "sans-serif";
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
];
const TEACHER: RGBColor = RGBColor(110, 110, 110);
const MARK: RGBColor = RGBColor(60, 60, 60);
const TICK: RGBColor = RGBColor(20, 20, 20);

/// Renders a figure of `size` pixels with `draw` and writes it to `path` atomically.
fn render(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> DrawResult,
) -> Result<(), FigureError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        let result = root
            .fill(&WHITE)
            .map_err(Into::into)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(Into::into));
        result.map_err(|e| FigureError::Draw {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    }
    write_atomic(path, |w| std::io::Write::write_all(w, svg.as_bytes()))?;
    Ok(())
}

fn no_data(path: &Path, what: impl Into<String>) -> FigureError {
    FigureError::NoData {
        path: path.to_path_buf(),
        what: what.into(),
    }
}

/// A text style of `size` pixels (plotters' SVG backend writes sizes divided by 1.24).
fn font(size: u32) -> TextStyle<'static> {
    TextStyle::from((FONT, f64::from(size) * 1.24).into_font())
}

/// A tick label: short decimals, exponent form outside [1e-3, 1e5).
fn tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        return "0".into();
    }
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.0e}");
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// A number for titles: 3 significant digits.
fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (2 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{v:.digits$}")
}

fn chart_on<'a, 'b>(
    area: &'a Area<'b>,
    caption: Option<&str>,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut b = ChartBuilder::on(area);
    b.margin(6)
        .margin_right(18)
        .x_label_area_size(44)
        .y_label_area_size(62);
    if let Some(c) = caption {
        b.caption(c, font(15));
    }
    b
}

/// How an axis is labelled.
#[derive(Clone, Copy)]
enum Scale {
    Linear,
    /// A log axis over `[lo, hi]`.
    Log(f64, f64),
}

impl Scale {
    /// Labels to ask for. On a log axis of at most 2.2 decades, enough for plotters to place
    /// the multiples 2..9 of each power of ten (then 1, 2 and 5 are labelled, see
    /// [`Scale::label`]); on a wider one, the powers of ten only.
    fn labels(self, linear: usize) -> usize {
        match self {
            Scale::Linear => linear,
            Scale::Log(lo, hi) if self.fine() => {
                10 * ((hi / lo).log10().floor().max(1.0) as usize) + 1
            }
            Scale::Log(..) => 8,
        }
    }

    fn fine(self) -> bool {
        matches!(self, Scale::Log(lo, hi) if (hi / lo).log10() <= 2.2)
    }

    fn label(self, v: f64) -> String {
        match self {
            Scale::Linear => tick(v),
            Scale::Log(..) => {
                // The decade of v, robust to v = 0.0999… from repeated multiplication.
                let l = v.log10();
                let e = if (l - l.round()).abs() < 1e-9 {
                    l.round()
                } else {
                    l.floor()
                };
                let m = v / 10f64.powf(e);
                let shown: &[f64] = if self.fine() {
                    &[1.0, 2.0, 5.0]
                } else {
                    &[1.0]
                };
                if shown.iter().any(|k| (m - k).abs() < 1e-6) {
                    tick(v)
                } else {
                    String::new()
                }
            }
        }
    }
}

/// Just below the largest 1, 2 or 5 × 10^k ≤ `v`: a log axis starting there has a round
/// start (a hair below it: plotters labels from the first power of ten inside the range, and a
/// start rounded a hair above 10^k would lose a decade of labels).
fn floor_125(v: f64) -> f64 {
    let p = 10f64.powi(v.log10().floor() as i32);
    let m = [5.0, 2.0, 1.0]
        .into_iter()
        .find(|&m| m * p <= v)
        .unwrap_or(1.0);
    m * p * (1.0 - 1e-9)
}

/// Draws the axes, light grid and labels of `chart`.
fn mesh<X, Y>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<X, Y>>,
    (x_desc, x_scale): (&str, Scale),
    (y_desc, y_scale): (&str, Scale),
) -> DrawResult
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let x_fmt = |v: &f64| x_scale.label(*v);
    let y_fmt = |v: &f64| y_scale.label(*v);
    chart
        .configure_mesh()
        .bold_line_style(BLACK.mix(0.08))
        .light_line_style(TRANSPARENT)
        .label_style(font(12))
        .axis_desc_style(font(13))
        .x_labels(x_scale.labels(8))
        .y_labels(y_scale.labels(6))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()?;
    Ok(())
}

/// One entry of a figure's key: label, line style, dashed.
type KeyEntry = (String, ShapeStyle, bool);

/// Rough width in pixels of `text` in a sans-serif font of `size` pixels.
fn text_width(text: &str, size: u32) -> i32 {
    (text.chars().count() as f64 * f64::from(size) * 0.58).ceil() as i32
}

/// Splits a title strip off the top of `root`: the title on the left, the key (a short line
/// sample and label per entry) on the right — or on a second line when both do not fit —
/// outside every plot. Returns the rest.
fn title_strip<'a>(root: &Area<'a>, title: &str, key: &[KeyEntry]) -> DrawResult<Area<'a>> {
    let entry_width = |label: &str| 28 + text_width(label, 12);
    let key_width: i32 = key.iter().map(|(l, ..)| entry_width(l) + 18).sum();
    let (width, _) = root.dim_in_pixel();
    let one_line = 16 + text_width(title, 17) + 32 + key_width <= width as i32;
    let (strip, rest) = root.split_vertically(if one_line { 44 } else { 70 });
    strip.draw(&Text::new(
        title.to_string(),
        (16, 22),
        font(17).pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;
    let y = if one_line { 22 } else { 54 };
    let mut x = width as i32 - 16;
    for (label, style, dashed) in key.iter().rev() {
        x -= entry_width(label);
        if *dashed {
            for k in 0..3 {
                let x0 = x + 9 * k;
                strip.draw(&PathElement::new(vec![(x0, y), (x0 + 6, y)], *style))?;
            }
        } else {
            strip.draw(&PathElement::new(
                vec![(x, y), (x + 24, y)],
                style.stroke_width(2),
            ))?;
        }
        strip.draw(&Text::new(
            label.clone(),
            (x + 28, y),
            font(12).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        x -= 18;
    }
    Ok(rest)
}

/// `[lo, hi]` covering the finite `values`, padded by `pad` of the span; `None` without any.
fn extent(values: impl IntoIterator<Item = f64>, pad: f64) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return None;
    }
    let span = hi - lo;
    let span = if span > 0.0 { span } else { lo.abs().max(1e-3) };
    Some((lo - pad * span, hi + pad * span))
}

/// Indices of the samples of `times` (sorted) inside `w`.
fn sample_range(times: &[f64], w: Window) -> Range<usize> {
    let lo = times.partition_point(|&t| t < w.start);
    let hi = times.partition_point(|&t| t <= w.end);
    lo..hi.max(lo)
}

/// Thins a time series to at most `2 × buckets` points: the minimum and maximum of each run of
/// consecutive samples, in time order. Non-finite values are dropped.
fn thin_series(points: Vec<(f64, f64)>, buckets: usize) -> Vec<(f64, f64)> {
    let points: Vec<(f64, f64)> = points
        .into_iter()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if points.len() <= 2 * buckets.max(1) {
        return points;
    }
    let chunk = points.len().div_ceil(buckets.max(1));
    let mut out = Vec::with_capacity(2 * buckets + 2);
    for c in points.chunks(chunk) {
        let (mut imin, mut imax) = (0, 0);
        for (i, p) in c.iter().enumerate() {
            if p.1 < c[imin].1 {
                imin = i;
            }
            if p.1 > c[imax].1 {
                imax = i;
            }
        }
        let (a, b) = (imin.min(imax), imin.max(imax));
        out.push(c[a]);
        if b != a {
            out.push(c[b]);
        }
    }
    out
}

/// Thins a trajectory to at most `max` points by keeping every k-th (and the last).
fn thin_path(points: Vec<(f64, f64)>, max: usize) -> Vec<(f64, f64)> {
    let points: Vec<(f64, f64)> = points
        .into_iter()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let stride = points.len().div_ceil(max.max(1)).max(1);
    if stride == 1 {
        return points;
    }
    let mut out: Vec<(f64, f64)> = points.iter().copied().step_by(stride).collect();
    if let Some(&last) = points.last() {
        if out.last() != Some(&last) {
            out.push(last);
        }
    }
    out
}

/// Component `k` of `x̂` (or of the target) over the samples `r`.
fn component(readout: &Readout, r: Range<usize>, k: usize, target: bool) -> Vec<(f64, f64)> {
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

fn teacher_style() -> ShapeStyle {
    TEACHER.stroke_width(2)
}

fn readout_style(k: usize) -> ShapeStyle {
    PALETTE[k % PALETTE.len()].stroke_width(1)
}

/// One time-series panel: readout (coloured) of component `k`, the teacher (dashed grey) on
/// top of it.
struct TracePanel<'a> {
    readout: &'a Readout,
    window: Window,
    k: usize,
    y: (f64, f64),
    caption: Option<String>,
    phases: &'a [PhaseSpan],
    phase_names: bool,
    buckets: usize,
}

fn draw_trace_panel(area: &Area<'_>, p: &TracePanel<'_>) -> DrawResult {
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
fn trace_key(readout: &Readout, rows: usize) -> Vec<KeyEntry> {
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
fn draw_phase_marks(
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
fn trace_extent(readout: &Readout, windows: &[Window], k: usize) -> Option<(f64, f64)> {
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

fn check_samples(path: &Path, readout: &Readout, w: Window) -> Result<(), FigureError> {
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
/// panel per dimension (the first [`MAX_PANELS`]): teacher dashed grey, readout coloured.
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
/// seconds after learning), one row per dimension (the first [`MAX_PANELS`]) with the same y
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

/// Writes a spike raster over `window` (neurons `0..neurons`; beyond [`MAX_RASTER_NEURONS`]
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
    let mut trains: Vec<Vec<f64>> = vec![Vec::new(); n];
    for s in spikes {
        let t = s.time.secs();
        if w.contains(t) {
            trains[s.neuron as usize].push(t);
        }
    }
    let count: usize = trains.iter().map(Vec::len).sum();
    let mut isis_ms = Vec::new();
    let mut zero_isis = 0usize;
    for train in &mut trains {
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
        chart.draw_series(
            trains
                .iter()
                .enumerate()
                .step_by(stride)
                .flat_map(|(i, train)| {
                    train.iter().map(move |&t| {
                        PathElement::new(vec![(t, i as f64 - half), (t, i as f64 + half)], style)
                    })
                }),
        )?;
        draw_isi_histogram(&right, &hist_caption, &isis_ms)
    })
}

fn draw_isi_histogram(area: &Area<'_>, caption: &str, isis_ms: &[f64]) -> DrawResult {
    const BINS: usize = 30;
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

/// A line chart with named series, horizontal reference lines and vertical marks.
struct Lines<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    series: &'a [Series],
    hlines: &'a [Tolerance],
    /// (x, label) of vertical dashed lines.
    vlines: &'a [(f64, String)],
    log_y: bool,
    markers: bool,
}

fn line_chart(path: &Path, spec: &Lines<'_>) -> Result<(), FigureError> {
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

fn draw_lines<Y>(
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

/// Central differences `(v, dv/dt)` over ±`h` samples.
fn with_derivative(times: &[f64], v: &[f64], h: usize) -> Vec<(f64, f64)> {
    (h..v.len().saturating_sub(h))
        .filter_map(|i| {
            let dt = times[i + h] - times[i - h];
            (dt > 0.0).then(|| (v[i], (v[i + h] - v[i - h]) / dt))
        })
        .collect()
}

/// Writes the phase plane over `window`: for d ≥ 2, component 1 against component 0 of the
/// readout (coloured, start marked by a dot) and of the teacher (dashed grey); for d = 1, the
/// derivative against the value (`dx/dt` against `x`, central differences over ±10 ms, which
/// smooths the readout's spike jumps), i.e. the field the network realises against the
/// teacher's.
///
/// Errors: an invalid window, fewer than 2 samples in it, or the file cannot be written.
pub fn phase_plane_figure(
    path: &Path,
    readout: &Readout,
    window: Window,
) -> Result<(), FigureError> {
    let w = window.check(path)?;
    check_samples(path, readout, w)?;
    let r = sample_range(&readout.times, w);
    let d = readout.dims;
    let pair = |target: bool| -> Vec<(f64, f64)> {
        let data = if target {
            readout.x.as_deref()
        } else {
            Some(&readout.xhat[..])
        };
        let Some(data) = data else { return Vec::new() };
        if d >= 2 {
            r.clone().map(|i| (data[i * d], data[i * d + 1])).collect()
        } else {
            let times = &readout.times[r.clone()];
            let dt = (times[times.len() - 1] - times[0]) / (times.len() - 1) as f64;
            let h = if dt > 0.0 {
                (0.01 / dt).round().max(1.0) as usize
            } else {
                1
            };
            with_derivative(times, &data[r.clone()], h)
        }
    };
    let readout_pts = thin_path(pair(false), 4000);
    let teacher_pts = thin_path(pair(true), 4000);
    if readout_pts.len() < 2 {
        return Err(no_data(path, "the window is too short for derivatives"));
    }
    let all = || readout_pts.iter().chain(&teacher_pts);
    let (x0, x1) = extent(all().map(|p| p.0), 0.05).unwrap_or((-1.0, 1.0));
    let (y0, y1) = extent(all().map(|p| p.1), 0.05).unwrap_or((-1.0, 1.0));
    let (xl, yl, what) = if d >= 2 {
        ("component 0", "component 1", "phase plane")
    } else {
        ("x", "dx/dt (1/s)", "phase line: dx/dt against x")
    };
    let title = format!("{what}, t in [{}, {}] s", tick(w.start), tick(w.end));
    let mut key = Vec::new();
    if !teacher_pts.is_empty() {
        key.push(("teacher x".to_string(), teacher_style(), true));
    }
    key.push((
        "readout x̂ (dot: start)".to_string(),
        readout_style(0),
        false,
    ));
    render(path, (760, 720), |root| {
        let area = title_strip(root, &title, &key)?;
        let mut chart = chart_on(&area, None).build_cartesian_2d(x0..x1, y0..y1)?;
        mesh(&mut chart, (xl, Scale::Linear), (yl, Scale::Linear))?;
        chart.draw_series(LineSeries::new(
            readout_pts.iter().copied(),
            readout_style(0),
        ))?;
        if !teacher_pts.is_empty() {
            chart.draw_series(DashedLineSeries::new(
                teacher_pts.iter().copied(),
                7,
                4,
                teacher_style(),
            ))?;
        }
        chart.draw_series(std::iter::once(Circle::new(
            readout_pts[0],
            4,
            PALETTE[0].filled(),
        )))?;
        Ok(())
    })
}

/// Draws every figure that the run directory `dir`'s files allow into `out` (created if
/// missing), and returns the files written, in this order:
///
/// - [`READOUT_SVG`] (readout.csv): the last `window` seconds of the run, phases marked;
/// - [`BEFORE_AFTER_SVG`] (readout.csv and ≥ 2 phases in summary.json): the first seconds of
///   the first phase against the first seconds of the phase after the last training phase (the
///   last phase when every phase trains), both `min(window, the two phases' durations)` long;
/// - [`RASTER_SVG`] (spikes.csv): the last `window` seconds;
/// - [`LEARNING_CURVE_SVG`] (a non-empty learning_curve.csv);
/// - [`PHASE_PLANE_SVG`] (readout.csv with d ≥ 2): the last `window` seconds.
///
/// Figures of [`FIGURES`] it does not draw are removed from `out`, so that `out` never shows
/// the figures of two runs.
///
/// Errors: a malformed run file, an invalid `window`, or a figure that cannot be drawn,
/// written or (stale) removed (files written before it stay).
pub fn plot_run(dir: &Path, out: &Path, window: f64) -> Result<Vec<PathBuf>, FigureError> {
    if !(window.is_finite() && window > 0.0) {
        return Err(FigureError::InvalidLength { got: window });
    }
    let files = read_run_dir(dir)?;
    std::fs::create_dir_all(out).map_err(|source| OutputError {
        path: out.to_path_buf(),
        source,
    })?;
    let phases = files.summary.as_ref().map_or(&[][..], |s| &s.phases[..]);
    let first_time = files
        .readout
        .as_ref()
        .and_then(|r| r.times.first().copied())
        .unwrap_or(0.0);
    let end = files
        .readout
        .as_ref()
        .and_then(|r| r.times.last().copied())
        .or_else(|| files.summary.as_ref().map(|s| s.duration))
        .or_else(|| {
            let spikes = files.spikes.as_ref()?;
            spikes.iter().map(|s| s.time.secs()).reduce(f64::max)
        })
        .unwrap_or(0.0);
    let start = (end - window).max(first_time.min(end));
    let last = Window::new(start, if end > start { end } else { start + window });
    let mut written = Vec::new();
    if let Some(r) = &files.readout {
        let p = out.join(READOUT_SVG);
        readout_figure(&p, r, last, phases)?;
        written.push(p);
        if phases.len() >= 2 {
            let first = &phases[0];
            let after = match phases.iter().rposition(PhaseSpan::is_training) {
                Some(i) if i + 1 < phases.len() => &phases[i + 1],
                _ => &phases[phases.len() - 1],
            };
            let len = window.min(first.duration).min(after.duration);
            let p = out.join(BEFORE_AFTER_SVG);
            before_after_figure(
                &p,
                r,
                Window::new(first.start, first.start + len),
                Window::new(after.start, after.start + len),
                [
                    &format!("before: first {} s of '{}'", tick(len), first.name),
                    &format!("after: first {} s of '{}'", tick(len), after.name),
                ],
            )?;
            written.push(p);
        }
    }
    if let Some(spikes) = &files.spikes {
        let p = out.join(RASTER_SVG);
        let neurons = files.summary.as_ref().map_or(0, |s| s.neurons);
        raster_figure(&p, spikes, neurons, last)?;
        written.push(p);
    }
    if let Some(curve) = files.curve.as_ref().filter(|c| !c.is_empty()) {
        let p = out.join(LEARNING_CURVE_SVG);
        learning_curve_figure(&p, curve, phases)?;
        written.push(p);
    }
    if let Some(r) = files.readout.as_ref().filter(|r| r.dims >= 2) {
        let p = out.join(PHASE_PLANE_SVG);
        phase_plane_figure(&p, r, last)?;
        written.push(p);
    }
    for name in FIGURES {
        let p = out.join(name);
        if !written.contains(&p) && p.is_file() {
            std::fs::remove_file(&p).map_err(|source| OutputError { path: p, source })?;
        }
    }
    Ok(written)
}
