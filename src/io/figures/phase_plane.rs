//! The phase plane ([`phase_plane_figure`]): x̂ against x in two dimensions, or x against dx/dt.

use super::*;

/// Central differences `(v, dv/dt)` over ±`h` samples.
pub(super) fn with_derivative(times: &[f64], v: &[f64], h: usize) -> Vec<(f64, f64)> {
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
