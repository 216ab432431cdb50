//! End to end through the public API: a teacher trajectory, metrics, and a run directory that
//! reads back to the same numbers.

use ebnsim::analysis::metrics;
use ebnsim::engine::Spike;
use ebnsim::io::record::{self, Readout, Summary};
use ebnsim::model::signal::Signal;
use ebnsim::model::teacher::{LinearTeacher, Target};
use ebnsim::time::Time;
use std::fs;

#[test]
fn run_directory_reads_back_exactly() {
    let input = Signal::piecewise_constant(
        2,
        &[0.0, 0.05, 0.1],
        &[vec![0.0, 0.0], vec![50.0, 0.0], vec![0.0, 0.0]],
    )
    .unwrap();
    let teacher = LinearTeacher::new(&[-4.8, -22.4, 40.0, 0.0], &[0.0, 0.0], &input).unwrap();
    let target: &dyn Target = &teacher;
    let mut readout = Readout::new(target.dims(), true);
    let mut x = [0.0; 2];
    for i in 0..=100 {
        let t = i as f64 * 1e-3;
        target.state_at(t, &mut x);
        let xhat = [x[0] + 0.01, x[1] - 0.01];
        readout.push(t, &xhat, Some(&x));
    }
    let rmse = readout.rmse().unwrap();
    assert!((rmse - 0.01).abs() < 1e-12, "{rmse}");

    let spikes: Vec<Spike> = (0..30)
        .map(|k| Spike {
            time: Time::from_secs(0.1 * k as f64 / 30.0),
            neuron: k % 3,
        })
        .collect();
    let summary = Summary {
        model: "test".into(),
        engine: "exact".into(),
        neurons: 3,
        dims: 2,
        duration: 0.1,
        spikes: spikes.len() as u64,
        mean_rate_hz: metrics::mean_rate_hz(spikes.len(), 3, 0.1),
        cv_isi: metrics::isi_cv(&spikes, 3, 3),
        readout_rmse: Some(rmse),
        readout_nrmse: readout.nrmse(),
        ..Summary::default()
    };
    assert!(
        summary.cv_isi.unwrap() < 1e-9,
        "regular trains: {:?}",
        summary.cv_isi
    );

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let network = ebnsim::model::network::NetworkBuilder::new(vec![
        vec![0.1, -0.1, 0.05],
        vec![0.0, 0.1, -0.1],
    ])
    .build()
    .unwrap();
    record::write_run(&out, &network, &spikes, &readout, None, &summary).unwrap();
    let nf = ebnsim::io::network_file::NetworkFile::read(
        &out.join(ebnsim::io::network_file::NETWORK_JSON),
    )
    .unwrap();
    assert_eq!(nf, ebnsim::io::network_file::NetworkFile::of(&network));
    assert_eq!((nf.neurons, nf.dims), (3, 2));

    let csv = fs::read_to_string(out.join(record::SPIKES_CSV)).unwrap();
    let back: Vec<(f64, u32)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let (t, n) = l.split_once(',').unwrap();
            (t.parse().unwrap(), n.parse().unwrap())
        })
        .collect();
    assert_eq!(back.len(), spikes.len());
    for (s, (t, n)) in spikes.iter().zip(&back) {
        assert_eq!(s.time.secs().to_bits(), t.to_bits());
        assert_eq!(s.neuron, *n);
    }

    let csv = fs::read_to_string(out.join(record::READOUT_CSV)).unwrap();
    assert!(csv.starts_with("time,xhat0,xhat1,x0,x1\n"));
    let rows: Vec<Vec<f64>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), readout.len());
    let x_back: Vec<f64> = rows.iter().flat_map(|r| r[3..5].to_vec()).collect();
    assert_eq!(&x_back, readout.x.as_ref().unwrap());

    let text = fs::read_to_string(out.join(record::SUMMARY_JSON)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    // Also read the number text back with Rust's (correctly rounded) parser.
    let rmse_text = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("\"readout_rmse\": "))
        .unwrap()
        .trim_end_matches(',');
    assert_eq!(rmse_text.parse::<f64>().unwrap().to_bits(), rmse.to_bits());
    // 30 spikes / (3 neurons · 0.1 s), as computed in floating point (99.99999999999999),
    // read back exactly (serde_json with `float_roundtrip`).
    let rate = metrics::mean_rate_hz(30, 3, 0.1);
    assert_eq!(
        json["mean_rate_hz"].as_f64().unwrap().to_bits(),
        rate.to_bits()
    );
    assert_eq!(json["engine"], "exact");
}
