//! SVG figures of run outputs: each figure function writes a well-formed SVG with the expected
//! lines and labels; `ebnsim plot` draws a run directory written by `ebnsim learn` on a short
//! learning model; malformed run files give errors naming the file.

use ebnsim::engine::Spike;
use ebnsim::io::figures::{
    before_after_figure, learning_curve_figure, metric_chart, phase_plane_figure, plot_run,
    raster_figure, readout_figure, FigureError, MetricChart, Series, Tolerance, Window,
};
use ebnsim::io::record::{write_run, Readout, Summary};
use ebnsim::io::run_dir::{PhaseSpan, RunDirError};
use ebnsim::learning::protocol::CurvePoint;
use ebnsim::time::Time;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Readout colours of components 0 and 1, the teacher's grey and the raster ticks' colour as
/// the SVG backend writes them.
const BLUE: &str = "stroke=\"#1F77B4\"";
const RED: &str = "stroke=\"#D62728\"";
const GREY: &str = "stroke=\"#6E6E6E\"";
const TICK: &str = "stroke=\"#141414\"";

/// Reads `path` and checks that it is one SVG document with balanced text elements.
fn svg(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.starts_with("<svg "), "{}", path.display());
    assert!(text.trim_end().ends_with("</svg>"), "{}", path.display());
    assert_eq!(text.matches("<svg").count(), 1);
    assert_eq!(
        text.matches("<text").count(),
        text.matches("</text>").count()
    );
    assert!(!text.contains("NaN"), "{}: NaN coordinates", path.display());
    text
}

/// The contents of the `<text>` elements.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .map(|t| {
            let body = &t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()];
            body.trim()
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&")
        })
        .collect()
}

fn has_text(svg: &str, want: &str) -> bool {
    texts(svg).iter().any(|t| t == want)
}

/// Polylines drawn with `stroke` (one attribute string above).
fn lines_of(svg: &str, stroke: &str) -> usize {
    svg.split('<')
        .filter(|e| e.starts_with("polyline") && e.contains(stroke))
        .count()
}

/// Number of points of a `<polyline …>` element's text.
fn points_of(element: &str) -> usize {
    let list = element.split("points=\"").nth(1).unwrap();
    list[..list.find('"').unwrap()].split_whitespace().count()
}

/// The largest number of points of the polylines drawn with `stroke`.
fn longest_line(svg: &str, stroke: &str) -> usize {
    svg.split('<')
        .filter(|e| e.starts_with("polyline") && e.contains(stroke))
        .map(points_of)
        .max()
        .unwrap_or(0)
}

/// A 2-D readout of a rotation, t in [0, 3] s every 1 ms, the target a slightly different one.
fn rotation() -> Readout {
    let mut r = Readout::new(2, true);
    for i in 0..=3000 {
        let t = i as f64 * 1e-3;
        let w = 2.0 * std::f64::consts::PI * 1.5;
        r.push(
            t,
            &[(w * t).cos() * 1.02, (w * t).sin()],
            Some(&[(w * t).cos(), (w * t).sin()]),
        );
    }
    r
}

fn phases() -> Vec<PhaseSpan> {
    vec![
        PhaseSpan {
            name: "train".into(),
            start: 0.0,
            duration: 2.0,
            feedback_gain: 30.0,
            learning_rate: 100.0,
        },
        PhaseSpan {
            name: "autonomous".into(),
            start: 2.0,
            duration: 1.0,
            feedback_gain: 0.0,
            learning_rate: 0.0,
        },
    ]
}

#[test]
fn readout_figure_draws_one_line_per_component_and_names_the_phases() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("readout.svg");
    readout_figure(&p, &rotation(), Window::new(1.0, 3.0), &phases()).unwrap();
    let s = svg(&p);
    // One readout trace per panel and one key sample each.
    assert_eq!(lines_of(&s, BLUE), 2);
    assert_eq!(lines_of(&s, RED), 2);
    // The teacher is dashed: many short pieces, in both panels.
    assert!(lines_of(&s, GREY) > 20, "{}", lines_of(&s, GREY));
    for label in [
        "time (s)",
        "component 0",
        "component 1",
        "teacher x",
        "readout x̂0",
        "readout x̂1",
        "train",
        "autonomous",
        "readout and teacher, t in [1, 3] s",
    ] {
        assert!(has_text(&s, label), "missing {label:?} in {:?}", texts(&s));
    }
    // 2000 samples per component are thinned to at most 2 × 900 points.
    let points = longest_line(&s, BLUE);
    assert!((900..=1800).contains(&points), "{points}");

    // A readout without target: no teacher, no teacher key; one dimension, one panel.
    let mut r = Readout::new(1, false);
    for i in 0..100 {
        r.push(i as f64 * 0.01, &[i as f64], None);
    }
    readout_figure(&p, &r, Window::new(0.0, 1.0), &[]).unwrap();
    let s = svg(&p);
    assert_eq!((lines_of(&s, BLUE), lines_of(&s, GREY)), (2, 0));
    assert!(!has_text(&s, "teacher x") && !has_text(&s, "component 1"));
}

#[test]
fn before_after_has_two_titled_columns() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ba.svg");
    before_after_figure(
        &p,
        &rotation(),
        Window::new(0.0, 1.0),
        Window::new(2.0, 3.0),
        ["before learning", "after learning"],
    )
    .unwrap();
    let s = svg(&p);
    assert!(has_text(&s, "before learning") && has_text(&s, "after learning"));
    // 2 columns × component 0, plus its key sample.
    assert_eq!(lines_of(&s, BLUE), 3);
    assert_eq!(lines_of(&s, RED), 3);
    assert_eq!(texts(&s).iter().filter(|t| *t == "time (s)").count(), 4);
}

#[test]
fn raster_draws_one_tick_per_spike_in_the_window_and_an_isi_histogram() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("raster.svg");
    // Neuron i fires every (i + 1) × 10 ms from 0 to 1 s.
    let mut spikes = Vec::new();
    for i in 0..5u32 {
        let mut t = 0.0;
        while t <= 1.0 {
            spikes.push(Spike {
                time: Time::from_secs(t),
                neuron: i,
            });
            t += (i + 1) as f64 * 0.01;
        }
    }
    spikes.sort_by(|a, b| a.time.secs().total_cmp(&b.time.secs()));
    let w = Window::new(0.25, 0.75);
    let inside = spikes
        .iter()
        .filter(|s| (0.25..=0.75).contains(&s.time.secs()))
        .count();
    raster_figure(&p, &spikes, 8, w).unwrap();
    let s = svg(&p);
    assert_eq!(lines_of(&s, TICK), inside);
    let title = format!("{inside} spikes of 8 neurons in [0.25, 0.75] s");
    assert!(
        texts(&s).iter().any(|t| t.starts_with(&title)),
        "{:?}",
        texts(&s)
    );
    for label in [
        "neuron",
        "ISI (ms, log scale)",
        "count",
        "inter-spike intervals",
    ] {
        assert!(has_text(&s, label), "missing {label:?}");
    }
    // Five distinct ISIs (10..50 ms): five histogram bars.
    assert_eq!(
        s.matches("<rect").count() - 1,
        5,
        "bars (the background is a rect too)"
    );

    // Many neurons: every k-th is shown.
    let many: Vec<Spike> = (0..1000u32)
        .map(|i| Spike {
            time: Time::from_secs(0.5),
            neuron: i,
        })
        .collect();
    raster_figure(&p, &many, 1000, Window::new(0.0, 1.0)).unwrap();
    let s = svg(&p);
    assert_eq!(lines_of(&s, TICK), 200);
    assert!(has_text(&s, "raster (every 5th neuron)"));
    assert!(has_text(&s, "no ISIs in the window"));
}

#[test]
fn learning_curve_and_metric_chart() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("curve.svg");
    let curve: Vec<CurvePoint> = (1..=20)
        .map(|i| CurvePoint {
            time: i as f64 * 0.1,
            phase: 0,
            field_error: 1.0 / i as f64,
            window_nrmse: if i == 3 { f64::NAN } else { 0.2 / i as f64 },
        })
        .collect();
    learning_curve_figure(&p, &curve, &phases()).unwrap();
    let s = svg(&p);
    for label in [
        "learning curve",
        "field error",
        "window NRMSE (readout vs teacher)",
        "train",
        "time (s)",
        "error (log scale)",
        "0.01",
        "0.1",
        "1",
    ] {
        assert!(has_text(&s, label), "missing {label:?} in {:?}", texts(&s));
    }
    // Only the training phase is marked: not the autonomous one.
    assert!(!has_text(&s, "autonomous"));
    // Both series and their key samples; the NaN point is left out of the red line.
    assert_eq!((lines_of(&s, BLUE), lines_of(&s, RED)), (2, 2));
    assert_eq!(longest_line(&s, RED), 19);
    assert_eq!(longest_line(&s, BLUE), 20);

    let p = dir.path().join("kill.svg");
    let chart = MetricChart {
        title: "error vs fraction of neurons killed".into(),
        x_label: "fraction killed".into(),
        y_label: "relative error".into(),
        series: vec![
            Series {
                name: "|period error|".into(),
                points: vec![(0.0, 0.003), (0.25, 0.004), (0.5, 0.005), (0.75, 0.03)],
            },
            Series {
                name: "|amplitude error|".into(),
                points: vec![(0.0, 0.004), (0.25, 0.0), (0.5, 0.006), (0.75, 0.08)],
            },
        ],
        tolerances: vec![Tolerance {
            name: "tolerance 1 %".into(),
            value: 0.01,
        }],
        log_y: true,
    };
    metric_chart(&p, &chart).unwrap();
    let s = svg(&p);
    for label in [
        "error vs fraction of neurons killed",
        "fraction killed",
        "relative error",
        "|period error|",
        "|amplitude error|",
        "tolerance 1 %",
    ] {
        assert!(has_text(&s, label), "missing {label:?} in {:?}", texts(&s));
    }
    // One marker per drawable point: the 0 is not on a log axis.
    assert_eq!(s.matches("<circle").count(), 7);
    // Nothing positive on a log axis: an error naming the file.
    let bad = MetricChart {
        series: vec![Series {
            name: "zero".into(),
            points: vec![(0.0, 0.0), (1.0, -1.0)],
        }],
        ..chart
    };
    let e = metric_chart(&p, &bad).unwrap_err();
    assert!(matches!(e, FigureError::NoData { .. }), "{e}");
    assert!(e.to_string().contains("kill.svg"), "{e}");
}

#[test]
fn phase_plane_in_two_and_one_dimensions() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pp.svg");
    phase_plane_figure(&p, &rotation(), Window::new(0.0, 3.0)).unwrap();
    let s = svg(&p);
    assert!(has_text(&s, "phase plane, t in [0, 3] s"));
    assert!(has_text(&s, "component 0") && has_text(&s, "component 1"));
    assert_eq!(lines_of(&s, BLUE), 2);
    assert!(lines_of(&s, GREY) > 20);
    assert_eq!(s.matches("<circle").count(), 1, "the start dot");

    // d = 1: dx/dt against x. x = sin(2πt): the derivative's range is about ±2π.
    let mut r = Readout::new(1, true);
    for i in 0..=2000 {
        let t = i as f64 * 1e-3;
        let x = (2.0 * std::f64::consts::PI * t).sin();
        r.push(t, &[x], Some(&[x]));
    }
    phase_plane_figure(&p, &r, Window::new(0.0, 2.0)).unwrap();
    let s = svg(&p);
    assert!(has_text(&s, "phase line: dx/dt against x, t in [0, 2] s"));
    assert!(has_text(&s, "dx/dt (1/s)") && has_text(&s, "x"));
    assert_eq!(lines_of(&s, BLUE), 2);
    assert!(lines_of(&s, GREY) > 20);
}

#[test]
fn invalid_windows_and_empty_windows_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.svg");
    let r = rotation();
    for w in [Window::new(2.0, 1.0), Window::new(0.0, f64::NAN)] {
        let e = readout_figure(&p, &r, w, &[]).unwrap_err();
        assert!(matches!(e, FigureError::InvalidWindow { .. }), "{e}");
        assert!(e.to_string().contains("r.svg"));
    }
    let e = phase_plane_figure(&p, &r, Window::new(10.0, 11.0)).unwrap_err();
    assert!(matches!(e, FigureError::NoData { .. }), "{e}");
    assert!(!p.exists(), "nothing is written on error");
    let e = plot_run(dir.path(), &dir.path().join("f"), 0.0).unwrap_err();
    assert!(matches!(e, FigureError::InvalidLength { .. }), "{e}");
}

#[test]
fn plot_run_on_a_plain_run_directory() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let spikes = [Spike {
        time: Time::from_secs(0.5),
        neuron: 3,
    }];
    let summary = Summary {
        neurons: 10,
        dims: 2,
        duration: 3.0,
        ..Summary::default()
    };
    let network = ebnsim::model::network::NetworkBuilder::new(vec![vec![0.1; 10], vec![-0.1; 10]])
        .build()
        .unwrap();
    write_run(&run, &network, &spikes, &rotation(), None, &summary).unwrap();
    let out = dir.path().join("figs");
    let files = plot_run(&run, &out, 1.0).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["readout.svg", "raster.svg", "phase_plane.svg"]);
    for f in &files {
        assert!(f.starts_with(&out));
        svg(f);
    }
    // The last second of the run.
    assert!(has_text(
        &svg(&out.join("readout.svg")),
        "readout and teacher, t in [2, 3] s"
    ));
    // No spike in the last second: an empty raster, 10 neurons from summary.json.
    let raster = svg(&out.join("raster.svg"));
    assert_eq!(lines_of(&raster, TICK), 0);
    assert!(texts(&raster)
        .iter()
        .any(|t| t.starts_with("0 spikes of 10 neurons")));
}

/// Van der Pol, 20 neurons: 1 s of training, 0.5 s autonomous.
const TINY: &str = r#"
name = "tiny-vdp"
seed = 3

[network]
neurons = 20
dims = 2
lambda_d = 10.0
mu = 2.5e-5
decoder = { random = "normal", scale = 0.05, normalize = true }

[target]
kind = "van_der_pol"
mu = 1.0
time_scale = 8.0
amplitude = 0.5
initial = [1.0, 0.0]

[basis]
kind = "monomials"
on = "xhat"
degree = 3

[[phase]]
name = "train"
duration = 1.0
input = { kind = "ou", tau = 0.05, sigma = 2.0 }
feedback_gain = 30.0
learning_rate = 100.0

[[phase]]
name = "autonomous"
duration = 0.5
input = { kind = "zero" }
feedback_gain = 0.0
learning_rate = 0.0
"#;

fn ebnsim(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ebnsim"))
        .args(args)
        .output()
        .unwrap()
}

fn learned_run(dir: &Path) -> PathBuf {
    let model = dir.join("tiny.toml");
    std::fs::write(&model, TINY).unwrap();
    let run = dir.join("run");
    let o = ebnsim(&[
        "learn".as_ref(),
        model.as_os_str(),
        "--out".as_ref(),
        run.as_os_str(),
        "--quiet".as_ref(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    run
}

#[test]
fn cli_plot_draws_every_figure_of_a_learning_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = learned_run(dir.path());

    // Default output directory RUN_DIR/figures; the files written are listed on stdout.
    let o = ebnsim(&["plot".as_ref(), run.as_os_str()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let listed: Vec<PathBuf> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(PathBuf::from)
        .collect();
    let figures = run.join("figures");
    let want: Vec<PathBuf> = [
        "readout.svg",
        "before_after.svg",
        "raster.svg",
        "learning_curve.svg",
        "phase_plane.svg",
    ]
    .iter()
    .map(|n| figures.join(n))
    .collect();
    assert_eq!(listed, want);
    for f in &want {
        svg(f);
    }
    let readout = svg(&figures.join("readout.svg"));
    assert!(has_text(&readout, "train") && has_text(&readout, "autonomous"));
    let ba = svg(&figures.join("before_after.svg"));
    assert!(
        has_text(&ba, "before: first 0.5 s of 'train'"),
        "{:?}",
        texts(&ba)
    );
    assert!(has_text(&ba, "after: first 0.5 s of 'autonomous'"));
    let raster = svg(&figures.join("raster.svg"));
    let spikes = std::fs::read_to_string(run.join("spikes.csv")).unwrap();
    assert_eq!(
        lines_of(&raster, TICK),
        spikes.lines().count() - 1,
        "all 1.5 s drawn"
    );

    // --out and --window: the last 0.2 s.
    let out = dir.path().join("elsewhere");
    let o = ebnsim(&[
        "plot".as_ref(),
        run.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--window".as_ref(),
        "0.2".as_ref(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8(o.stdout).unwrap().lines().count(), 5);
    assert!(has_text(
        &svg(&out.join("readout.svg")),
        "readout and teacher, t in [1.3, 1.5] s"
    ));

    // A bad window length is refused.
    let o = ebnsim(&[
        "plot".as_ref(),
        run.as_os_str(),
        "--window".as_ref(),
        "-1".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("window length"));
}

#[test]
fn cli_plot_names_a_malformed_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    std::fs::create_dir(&run).unwrap();
    std::fs::write(
        run.join("readout.csv"),
        "time,xhat0,x0\n0,0.1,0\n0.001,oops,0\n",
    )
    .unwrap();
    let o = ebnsim(&["plot".as_ref(), run.as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("readout.csv") && err.contains("line 3") && err.contains("xhat0"),
        "{err}"
    );
    assert!(!run.join("figures").join("readout.svg").exists());

    // The library error is typed: which file, which line.
    let e = plot_run(&run, &run.join("figures"), 1.0).unwrap_err();
    match e {
        FigureError::Read(RunDirError::Csv { file, line, .. }) => {
            assert_eq!((file, line), (run.join("readout.csv"), 3));
        }
        other => panic!("unexpected {other}"),
    }

    // Binary garbage: an error naming the file, not a panic.
    std::fs::write(run.join("readout.csv"), b"\x00\xff\xfe garbage \x01").unwrap();
    let o = ebnsim(&["plot".as_ref(), run.as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("readout.csv"));

    // An empty directory is not a run directory.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = ebnsim(&["plot".as_ref(), empty.as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("expected a run directory"));
}
