//! Mutation fuzzing of the model-file and weights-file readers, on the stable toolchain: every
//! shipped model and a few weights files are mutated (hostile numbers in place of numbers,
//! deleted, duplicated and swapped lines, flipped bytes, truncations), and every mutant must be
//! read within a second, without a panic, into a model or an error whose message starts with
//! the file's name. Mutants that parse are also built into a simulation (small networks).
//!
//! `EBNSIM_FUZZ_CASES` (default 200) sets the mutants per seed file and `EBNSIM_FUZZ_SEED` the
//! generator's seed, so a longer hunt is `EBNSIM_FUZZ_CASES=20000 cargo test --release --test
//! fuzz_readers`. A failure prints the mutant; keep it in `tests/fuzz/` (read by
//! `kept_cases_still_read_cleanly`) once fixed.

use ebnsim::io::{model_file, weights_file};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const HOSTILE: [&str; 22] = [
    "0",
    "-1",
    "-0.0",
    "1e308",
    "-1e308",
    "1e-320",
    "nan",
    "inf",
    "-inf",
    "4294967296",
    "18446744073709551615",
    "9223372036854775807",
    "1e18",
    "1000000000",
    "\"x\"",
    "[]",
    "{}",
    "true",
    "[[1e300]]",
    "[1, [2]]",
    "{ kind = 3 }",
    "\"\u{1b}[2J\"",
];

fn cases() -> usize {
    std::env::var("EBNSIM_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200)
}

fn seed() -> u64 {
    std::env::var("EBNSIM_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261203)
}

/// One to three mutations of `text`.
fn mutate(text: &str, rng: &mut ChaCha8Rng) -> String {
    let mut s = text.to_owned();
    for _ in 0..rng.gen_range(1..=3) {
        let lines: Vec<&str> = s.lines().collect();
        if lines.is_empty() {
            break;
        }
        s = match rng.gen_range(0..6) {
            // A number (or a word) replaced by a hostile value.
            0 | 1 => {
                let starts: Vec<usize> = s
                    .char_indices()
                    .filter(|&(i, c)| {
                        (c.is_ascii_digit() || c == '-' || c == '"')
                            && !s[..i].ends_with(|p: char| p.is_ascii_alphanumeric() || p == '.')
                    })
                    .map(|(i, _)| i)
                    .collect();
                if starts.is_empty() {
                    s
                } else {
                    let at = starts[rng.gen_range(0..starts.len())];
                    let end = s[at + 1..]
                        .find(|c: char| !(c.is_ascii_alphanumeric() || ".+-_\"".contains(c)))
                        .map_or(s.len(), |k| at + 1 + k);
                    let value = HOSTILE[rng.gen_range(0..HOSTILE.len())];
                    format!("{}{value}{}", &s[..at], &s[end..])
                }
            }
            2 => {
                let k = rng.gen_range(0..lines.len());
                let mut l = lines.clone();
                l.remove(k);
                l.join("\n")
            }
            3 => {
                let k = rng.gen_range(0..lines.len());
                let mut l = lines.clone();
                l.insert(k, lines[k]);
                l.join("\n")
            }
            4 => {
                let (a, b) = (rng.gen_range(0..lines.len()), rng.gen_range(0..lines.len()));
                let mut l = lines.clone();
                l.swap(a, b);
                l.join("\n")
            }
            _ => {
                let mut bytes = s.into_bytes();
                let k = rng.gen_range(0..bytes.len());
                if rng.gen_bool(0.5) {
                    bytes[k] = rng.gen_range(b' '..=b'~');
                } else {
                    bytes.truncate(k);
                }
                String::from_utf8_lossy(&bytes).into_owned()
            }
        };
    }
    s
}

/// Reads `text` as the reader for `file` would, checking the contract; `Err` describes a
/// violation.
fn check(text: &str, file: &Path) -> Result<(), String> {
    let name = file.display().to_string();
    let started = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<(), String> {
        if file.extension().is_some_and(|e| e == "json") {
            if let Err(e) = weights_file::parse(text, file) {
                let m = e.to_string();
                if !m.starts_with(&name) {
                    return Err(format!("message without the file name: {m}"));
                }
            }
            return Ok(());
        }
        let result = if model_file::is_learning_model(text) {
            model_file::parse_learning(text, file).map(|_| ())
        } else {
            model_file::parse(text, file).map(|m| {
                if m.network.neurons() <= 10_000 {
                    // Building must not panic either; a refusal is an answer.
                    let _ = ebnsim::simulation::Simulation::from_model(&m).build();
                }
            })
        };
        match result {
            Err(e) if !e.to_string().starts_with(&name) => {
                Err(format!("message without the file name: {e}"))
            }
            _ => Ok(()),
        }
    }));
    let took = started.elapsed();
    match outcome {
        Err(_) => Err("panicked".into()),
        Ok(Err(e)) => Err(e),
        Ok(Ok(())) if took > Duration::from_secs(1) => Err(format!("took {took:?}")),
        Ok(Ok(())) => Ok(()),
    }
}

/// The seed files: every shipped model and weights files of each basis kind.
fn seeds(dir: &Path) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let mut models: Vec<PathBuf> = std::fs::read_dir(root.join("models"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    models.sort();
    for p in models {
        let name = p.file_name().unwrap().to_owned();
        out.push((dir.join(name), std::fs::read_to_string(&p).unwrap()));
    }
    use ebnsim::model::basis::Basis;
    let bases = [
        Basis::Linear { dims: 2 },
        Basis::rbf_grid(2, -1.0, 1.0, 3, 1.0).unwrap(),
        Basis::monomials(2, 2).unwrap(),
        Basis::tanh_random(
            2,
            4,
            (0.5, 1.0),
            (-1.0, 1.0),
            &mut ChaCha8Rng::seed_from_u64(1),
        )
        .unwrap(),
    ];
    for (k, basis) in bases.into_iter().enumerate() {
        let nb = basis.len();
        let path = dir.join(format!("weights-{k}.json"));
        let w = weights_file::Weights {
            model: "fuzz".into(),
            seed: 1,
            lambda_d: 10.0,
            basis,
            u: (0..2 * nb).map(|i| i as f64 * 0.25 - 1.0).collect(),
            offsets: (k == 1).then(|| vec![0.5; 3 * nb]),
        };
        weights_file::write(&path, &w).unwrap();
        out.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
    }
    out
}

#[test]
fn mutated_model_and_weights_files_never_panic_hang_or_lose_the_file_name() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed());
    let mut failures = Vec::new();
    for (file, text) in seeds(tmp.path()) {
        assert_eq!(
            check(&text, &file),
            Ok(()),
            "the seed file {}",
            file.display()
        );
        for _ in 0..cases() {
            let mutant = mutate(&text, &mut rng);
            if let Err(why) = check(&mutant, &file) {
                failures.push(format!(
                    "{}: {why}\n--- mutant ---\n{mutant}\n---",
                    file.display()
                ));
                if failures.len() >= 3 {
                    break;
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn kept_cases_still_read_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "toml" || x == "json") {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            assert_eq!(check(&text, &path), Ok(()), "{}", path.display());
            n += 1;
        }
    }
    assert!(n > 0, "no kept cases in {}", dir.display());
}
