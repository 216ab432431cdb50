//! A run directory holds one complete run whatever happens to the process writing it: real
//! signals (SIGINT, SIGTERM at several moments, SIGKILL at many), a write error (a file-size
//! limit, the kernel's EFBIG) and a full disk (a 1 MiB tmpfs, where the machine allows mounting
//! one). Afterwards `--out` holds the complete old run or the complete new run, byte for byte,
//! and no temporary files; a second writer into the same directory is refused.
#![cfg(target_os = "linux")]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ebnsim");

/// The shipped smooth-random model (persistent spiking) with another duration, readout step
/// and seed.
fn model(dir: &Path, name: &str, duration: f64, readout_dt: f64, seed: u64) -> PathBuf {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/smooth-random-2d.toml");
    let text = fs::read_to_string(shipped)
        .unwrap()
        .replace("duration = 2.0 ", &format!("duration = {duration:?} "))
        .replace("seed = 5 ", &format!("seed = {seed} "));
    assert!(text.contains(&format!("duration = {duration:?}")));
    let path = dir.join(name);
    fs::write(
        &path,
        format!("{text}\n[record]\nreadout_dt = {readout_dt:?}\n"),
    )
    .unwrap();
    path
}

fn command(model: &Path, out: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("run").arg(model).arg("--out").arg(out).arg("--quiet");
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

fn run(model: &Path, out: &Path) -> Output {
    let o = command(model, out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

/// Every file of a run directory; `summary.json` without its wall time (which differs between
/// two runs of one model).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        let mut bytes = fs::read(e.path()).unwrap();
        if name == "summary.json" {
            let text = String::from_utf8(bytes).unwrap();
            bytes = text
                .lines()
                .filter(|l| !l.contains("\"wall_seconds\""))
                .collect::<Vec<_>>()
                .join("\n")
                .into_bytes();
        }
        files.insert(name, bytes);
    }
    files
}

/// Hidden entries next to `out` (staging directories, old runs, locks).
fn leftovers(parent: &Path) -> Vec<String> {
    fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

/// Waits until `parent` holds a staging directory (the run has started and prepared `--out`),
/// and, with `file`, until that file has been written into it.
fn wait_for_staging(parent: &Path, file: Option<&str>, child: &mut Child) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        for e in fs::read_dir(parent).unwrap().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.contains(".ebnsim-new.") && file.is_none_or(|f| e.path().join(f).is_file()) {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("no staging directory appeared in {}", parent.display());
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on the pid of a child this test spawned and has not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

#[test]
fn sigint_and_sigterm_during_the_simulation_leave_the_old_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run(&model(tmp.path(), "old.toml", 1.0, 1e-3, 1), &out);
    let old = snapshot(&out);
    // About 30 s of computing: only an interruption ends it within the test.
    let long = model(tmp.path(), "long.toml", 3000.0, 1e-2, 2);
    for (sig, code, name) in [
        (libc::SIGINT, 130, "SIGINT"),
        (libc::SIGTERM, 143, "SIGTERM"),
    ] {
        let mut child = command(&long, &out).spawn().unwrap();
        assert!(wait_for_staging(tmp.path(), None, &mut child));
        std::thread::sleep(Duration::from_millis(150));
        let sent = Instant::now();
        signal(&child, sig);
        let o = child.wait_with_output().unwrap();
        assert!(sent.elapsed() < Duration::from_secs(5), "slow to stop");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{err}");
        assert!(
            err.contains(&format!("interrupted by {name} at t = ")),
            "{err}"
        );
        assert!(err.contains("left as it was"), "{err}");
        assert_eq!(snapshot(&out), old);
        assert_eq!(leftovers(tmp.path()), Vec::<String>::new());
    }
}

#[test]
fn sigint_during_the_writes_leaves_one_complete_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run(&model(tmp.path(), "old.toml", 1.0, 1e-3, 1), &out);
    let old = snapshot(&out);
    // 10⁶ readout rows (~90 MB), written while the run goes on; once the growing readout has
    // its full length the simulation is over and the run reads its files back (the summary's
    // second pass), renames them and writes network.json and summary.json: the writes.
    let big = model(tmp.path(), "big.toml", 100.0, 1e-4, 2);
    let reference = tmp.path().join("reference");
    run(&big, &reference);
    let full = fs::metadata(reference.join("readout.csv")).unwrap().len();
    fs::remove_dir_all(&reference).unwrap();
    let mut child = command(&big, &out).spawn().unwrap();
    assert!(wait_for_staging(tmp.path(), None, &mut child));
    let complete = || {
        fs::read_dir(tmp.path()).unwrap().flatten().any(|e| {
            let staging = e.file_name().to_string_lossy().contains(".ebnsim-new.");
            staging
                && fs::read_dir(e.path())
                    .into_iter()
                    .flatten()
                    .flatten()
                    .any(|f| {
                        let n = f.file_name().to_string_lossy().into_owned();
                        n.starts_with(".readout.csv.")
                            && f.metadata().is_ok_and(|m| m.len() >= full)
                            || n == "readout.csv"
                    })
        })
    };
    while !complete() && child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(1));
    }
    signal(&child, libc::SIGINT);
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    eprintln!("SIGINT during the writes: exit {:?}", o.status.code());
    match o.status.code() {
        Some(130) => {
            assert!(err.contains("while writing the outputs"), "{err}");
            assert_eq!(snapshot(&out), old);
        }
        // The signal came after the commit: the new run is in place, whole.
        Some(0) => assert_eq!(snapshot(&out).len(), 4),
        other => panic!("exit {other:?}: {err}"),
    }
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new());
}

#[test]
fn sigkill_at_any_moment_leaves_the_old_or_the_new_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let reference = tmp.path().join("reference");
    let new_model = model(tmp.path(), "new.toml", 30.0, 1e-4, 2);
    let started = Instant::now();
    run(&new_model, &reference);
    let whole = started.elapsed();
    let new = snapshot(&reference);
    run(&model(tmp.path(), "old.toml", 1.0, 1e-3, 1), &out);
    let old = snapshot(&out);
    let (mut saw_old, mut saw_new) = (0, 0);
    for k in 0..12 {
        let mut child = command(&new_model, &out).spawn().unwrap();
        std::thread::sleep(whole.mul_f64(k as f64 / 10.0));
        // SAFETY: as in `signal`; the child may have exited already (then kill fails harmlessly).
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let _ = child.wait().unwrap();
        let now = snapshot(&out);
        if now == old {
            saw_old += 1;
        } else {
            assert!(now == new, "kill {k}: a mix of two runs: {:?}", now.keys());
            saw_new += 1;
        }
        // Only the hidden staging directory and the lock file of a killed run may be left.
        for l in leftovers(tmp.path()) {
            assert!(
                l.starts_with(".out.ebnsim-new.") || l == ".out.ebnsim-lock",
                "kill {k}: left {l}"
            );
        }
        if saw_new > 0 && k % 2 == 0 {
            // Back to the old run, so later kills can show a mix if there were one.
            run(&model(tmp.path(), "old.toml", 1.0, 1e-3, 1), &out);
        }
    }
    assert!(saw_old > 0, "no kill landed before the commit");
    // The next run removes what the killed ones left.
    run(&new_model, &out);
    assert_eq!(snapshot(&out), new);
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new());
    eprintln!("killed runs: {saw_old} left the old run, {saw_new} the new one");
}

/// Runs `model` into `out` with the file-size limit `bytes`: a write beyond it raises SIGXFSZ,
/// whose default action (ending the process) ebnsim takes away, so the write fails with EFBIG.
fn run_with_file_limit(model: &Path, out: &Path, bytes: u64) -> Output {
    let mut c = command(model, out);
    // SAFETY: only async-signal-safe calls (signal, setrlimit) between fork and exec.
    unsafe {
        c.pre_exec(move || {
            // The default action, whatever the test harness inherited.
            libc::signal(libc::SIGXFSZ, libc::SIG_DFL);
            let lim = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    c.output().unwrap()
}

#[test]
fn a_write_error_leaves_the_old_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run(&model(tmp.path(), "old.toml", 1.0, 1e-3, 1), &out);
    fs::write(out.join("notes.txt"), "the user's own file").unwrap();
    let old = snapshot(&out);
    // readout.csv of this run is ~1.7 MB; spikes.csv fits under the limit.
    let o = run_with_file_limit(&model(tmp.path(), "new.toml", 20.0, 1e-3, 2), &out, 400_000);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    // Named by its place in --out, not in the staging directory.
    let named = format!("{}: cannot write output", out.join("readout.csv").display());
    assert!(
        err.contains(&named) && err.contains("left as it was"),
        "{err}"
    );
    assert_eq!(snapshot(&out), old);
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new());
}

#[test]
fn a_full_disk_leaves_the_old_run() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = tmp.path().join("disk");
    fs::create_dir(&disk).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&disk)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        // Mounting needs root; `a_write_error_leaves_the_old_run` covers the same path there.
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    }
    let result = std::panic::catch_unwind(|| {
        let out = disk.join("out");
        run(&model(tmp.path(), "old.toml", 1.0, 1e-3, 1), &out);
        let old = snapshot(&out);
        let o = command(&model(tmp.path(), "new.toml", 20.0, 1e-3, 2), &out)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains("No space left on device"), "{err}");
        assert_eq!(snapshot(&out), old);
        assert_eq!(leftovers(&disk), Vec::<String>::new());
    });
    let _ = Command::new("umount").arg(&disk).status();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn a_second_run_into_the_same_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let long = model(tmp.path(), "long.toml", 3000.0, 1e-2, 2);
    let mut first = command(&long, &out).spawn().unwrap();
    assert!(wait_for_staging(tmp.path(), None, &mut first));
    let o = command(&model(tmp.path(), "short.toml", 1.0, 1e-3, 1), &out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("another ebnsim process (pid {})", first.id())),
        "{err}"
    );
    signal(&first, libc::SIGINT);
    assert_eq!(first.wait().unwrap().code(), Some(130));
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new());
}

#[test]
fn an_out_that_cannot_hold_a_run_fails_before_simulating() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    fs::write(&file, "x").unwrap();
    let long = model(tmp.path(), "long.toml", 3000.0, 1e-2, 2);
    let started = Instant::now();
    let o = command(&long, &file).output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("expected a directory for the run's outputs, found a file"),
        "{err}"
    );
    // Inside a file: the parent cannot be created.
    let o = command(&long, &file.join("sub")).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
