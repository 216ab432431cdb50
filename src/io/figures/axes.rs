//! Drawing helpers every figure shares: rendering to an atomic SVG file, fonts and tick labels,
//! axes and their scales, title strips with keys, extents, and thinning long traces.

use super::*;

/// Renders a figure of `size` pixels with `draw` and writes it to `path` atomically.
pub(super) fn render(
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

pub(super) fn no_data(path: &Path, what: impl Into<String>) -> FigureError {
    FigureError::NoData {
        path: path.to_path_buf(),
        what: what.into(),
    }
}

/// A text style of `size` pixels (plotters' SVG backend writes sizes divided by 1.24).
pub(super) fn font(size: u32) -> TextStyle<'static> {
    TextStyle::from((FONT, f64::from(size) * 1.24).into_font())
}

/// A tick label: short decimals, exponent form outside [1e-3, 1e5).
pub(super) fn tick(v: f64) -> String {
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
pub(super) fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (2 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{v:.digits$}")
}

pub(super) fn chart_on<'a, 'b>(
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
pub(super) enum Scale {
    Linear,
    /// A log axis over `[lo, hi]`.
    Log(f64, f64),
}

impl Scale {
    /// Labels to ask for. On a log axis of at most 2.2 decades, enough for plotters to place
    /// the multiples 2..9 of each power of ten (then 1, 2 and 5 are labelled, see
    /// [`Scale::label`]); on a wider one, the powers of ten only.
    pub(super) fn labels(self, linear: usize) -> usize {
        match self {
            Scale::Linear => linear,
            Scale::Log(lo, hi) if self.fine() => {
                10 * ((hi / lo).log10().floor().max(1.0) as usize) + 1
            }
            Scale::Log(..) => 8,
        }
    }

    pub(super) fn fine(self) -> bool {
        matches!(self, Scale::Log(lo, hi) if (hi / lo).log10() <= 2.2)
    }

    pub(super) fn label(self, v: f64) -> String {
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
pub(super) fn floor_125(v: f64) -> f64 {
    let p = 10f64.powi(v.log10().floor() as i32);
    let m = [5.0, 2.0, 1.0]
        .into_iter()
        .find(|&m| m * p <= v)
        .unwrap_or(1.0);
    m * p * (1.0 - 1e-9)
}

/// Draws the axes, light grid and labels of `chart`.
pub(super) fn mesh<X, Y>(
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
pub(super) type KeyEntry = (String, ShapeStyle, bool);

/// Rough width in pixels of `text` in a sans-serif font of `size` pixels.
pub(super) fn text_width(text: &str, size: u32) -> i32 {
    (text.chars().count() as f64 * f64::from(size) * 0.58).ceil() as i32
}

/// Splits a title strip off the top of `root`: the title on the left, the key (a short line
/// sample and label per entry) on the right — or on a second line when both do not fit —
/// outside every plot. Returns the rest.
pub(super) fn title_strip<'a>(
    root: &Area<'a>,
    title: &str,
    key: &[KeyEntry],
) -> DrawResult<Area<'a>> {
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
pub(super) fn extent(values: impl IntoIterator<Item = f64>, pad: f64) -> Option<(f64, f64)> {
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
pub(super) fn sample_range(times: &[f64], w: Window) -> Range<usize> {
    let lo = times.partition_point(|&t| t < w.start);
    let hi = times.partition_point(|&t| t <= w.end);
    lo..hi.max(lo)
}

/// Thins a time series to at most `2 × buckets` points: the minimum and maximum of each run of
/// consecutive samples, in time order. Non-finite values are dropped.
pub(super) fn thin_series(points: Vec<(f64, f64)>, buckets: usize) -> Vec<(f64, f64)> {
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
pub(super) fn thin_path(points: Vec<(f64, f64)>, max: usize) -> Vec<(f64, f64)> {
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
