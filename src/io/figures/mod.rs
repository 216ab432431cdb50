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

mod axes;
use axes::*;
mod traces;
pub use traces::*;
mod raster;
pub use raster::*;
mod lines;
pub use lines::*;
mod phase_plane;
pub use phase_plane::*;

/// File name of the readout figure written by [`plot_run`].
pub(crate) const READOUT_SVG: &str = "readout.svg";
/// File name of the before/after figure written by [`plot_run`].
pub(crate) const BEFORE_AFTER_SVG: &str = "before_after.svg";
/// File name of the raster figure written by [`plot_run`].
pub(crate) const RASTER_SVG: &str = "raster.svg";
/// File name of the learning-curve figure written by [`plot_run`].
pub(crate) const LEARNING_CURVE_SVG: &str = "learning_curve.svg";
/// File name of the phase-plane figure written by [`plot_run`].
pub(crate) const PHASE_PLANE_SVG: &str = "phase_plane.svg";
/// Every figure [`plot_run`] draws; it removes from its output directory those it does not
/// draw this time (left by plotting an earlier, different run into the same directory).
pub(crate) const FIGURES: [&str; 5] = [
    READOUT_SVG,
    BEFORE_AFTER_SVG,
    RASTER_SVG,
    LEARNING_CURVE_SVG,
    PHASE_PLANE_SVG,
];
/// Default length of the windows drawn by [`plot_run`], s.
pub const DEFAULT_WINDOW: f64 = 10.0;
/// Most dimensions drawn by the time-series figures (one panel each).
pub(crate) const MAX_PANELS: usize = 4;
/// Most neurons shown in a raster: beyond it every k-th neuron is shown.
pub(crate) const MAX_RASTER_NEURONS: usize = 200;

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

/// Draws every figure that the run directory `dir`'s files allow into `out` (created if
/// missing), and returns the files written, in this order:
///
/// - `READOUT_SVG` (readout.csv): the last `window` seconds of the run, phases marked;
/// - `BEFORE_AFTER_SVG` (readout.csv and ≥ 2 phases in summary.json): the first seconds of
///   the first phase against the first seconds of the phase after the last training phase (the
///   last phase when every phase trains), both `min(window, the two phases' durations)` long;
/// - `RASTER_SVG` (spikes.csv): the last `window` seconds;
/// - `LEARNING_CURVE_SVG` (a non-empty learning_curve.csv);
/// - `PHASE_PLANE_SVG` (readout.csv with d ≥ 2): the last `window` seconds.
///
/// Figures of `FIGURES` it does not draw are removed from `out`, so that `out` never shows
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
