//! A run directory replaced as a whole: the files of a run are written into a staging
//! directory next to `--out`, and one rename puts the complete run in place.
//!
//! Why: a run writes several files (`spikes.csv`, `readout.csv`, `summary.json`, …) that only
//! make sense together. Renaming them into place one by one lets a crash, a signal or a full
//! disk in the middle leave the new `spikes.csv` next to the old `readout.csv`, which
//! `ebnsim plot` and scripts read as one run. [`OutputDir`] gives the directory one of two
//! states, never a mix:
//!
//! 1. [`OutputDir::prepare`] checks `--out` before the simulation (fails in milliseconds when it
//!    names a file or cannot be created), takes a lock against a second ebnsim writing into the
//!    same directory, removes what an earlier, killed run left behind, and creates the staging
//!    directory `.NAME.ebnsim-new.PID` next to `NAME`;
//! 2. the caller writes every file into [`OutputDir::path`];
//! 3. [`OutputDir::commit`] carries over the entries of the old directory that are not run
//!    outputs (the user's own files, `figures/`: hard links, nothing copied when the file
//!    system allows) and exchanges the two directories with one `renameat2(RENAME_EXCHANGE)`
//!    (Linux; elsewhere two renames), then deletes the old run.
//!
//! Dropping an `OutputDir` without committing (an error, an interrupted run) removes the staging
//! directory and leaves the old run untouched. Only `SIGKILL` (or a power cut) can leave the
//! staging directory behind; the directory itself still holds the complete old or new run, and
//! the next run into it removes the leftover. Writing into a directory that is, or contains, the
//! working directory is refused: replacing it would leave the shell in a deleted directory.

use crate::error::OutputError;
use crate::io::record::{sync_dir, RUN_OUTPUTS, SUMMARY_JSON};
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// Most entries carried over from the old directory (the user's files and folders inside it).
const MAX_CARRIED: usize = 100_000;

/// Why an output directory could not be prepared or committed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputDirError {
    /// `--out` names something that is not a directory.
    #[error("{path}: expected a directory for the run's outputs, found a file")]
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// `--out` is the working directory or one of its parents.
    #[error(
        "{path}: expected a directory of the run's own; it is (or contains) the working \
         directory, which a run would replace as a whole"
    )]
    ContainsWorkingDirectory {
        /// The path given.
        path: PathBuf,
    },
    /// Another process holds the directory's lock.
    #[error(
        "{path}: another ebnsim process{} is writing a run into this directory; wait for it or \
         choose another --out",
        pid.map_or(String::new(), |p| format!(" (pid {p})"))
    )]
    Busy {
        /// The directory.
        path: PathBuf,
        /// The process holding the lock, when it could be read.
        pid: Option<u32>,
    },
    /// The old directory holds more entries than a run carries over.
    #[error(
        "{path}: holds more than {MAX_CARRIED} files and folders that are not run outputs; a \
         run replaces its directory as a whole: choose a directory of its own"
    )]
    TooManyEntries {
        /// The directory.
        path: PathBuf,
    },
    /// `--resume` found no interrupted run with a checkpoint next to the directory.
    #[error(
        "{path}: expected an interrupted run to resume (a killed run with checkpoints leaves \
         .{name}.ebnsim-new.PID/{marker} next to it), found none"
    )]
    NothingToResume {
        /// The directory.
        path: PathBuf,
        /// Its name.
        name: String,
        /// The checkpoint file looked for.
        marker: String,
    },
    /// A file system operation failed.
    #[error(transparent)]
    Write(#[from] OutputError),
}

impl OutputDirError {
    /// Whether the error is the caller's input (a path that cannot be a run directory) rather
    /// than the environment (a busy directory, a full disk): the CLI exits 2 for these.
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            OutputDirError::NotADirectory { .. }
                | OutputDirError::ContainsWorkingDirectory { .. }
                | OutputDirError::TooManyEntries { .. }
                | OutputDirError::NothingToResume { .. }
        )
    }
}

fn io_err(path: &Path, source: io::Error) -> OutputDirError {
    OutputDirError::Write(OutputError {
        path: path.to_path_buf(),
        source,
    })
}

/// A run directory being written; see the module docs for the protocol.
#[derive(Debug)]
pub struct OutputDir {
    /// The directory the run replaces (absolute, symlinks resolved).
    target: PathBuf,
    /// Where the run's files are written.
    staging: PathBuf,
    /// Run outputs of the old run to keep (see [`OutputDir::keep`]).
    keep: Vec<OsString>,
    lock: Option<Lock>,
    /// Adopted by [`OutputDir::resume`] with the run's files complete (see
    /// [`OutputDir::finished`]).
    finished: bool,
}

impl OutputDir {
    /// Checks `target`, creates it (and its parents) when missing, locks it, removes the
    /// leftovers of killed runs and creates the staging directory.
    pub fn prepare(target: &Path) -> Result<OutputDir, OutputDirError> {
        OutputDir::open(target, None)
    }

    /// [`OutputDir::prepare`] for a run that continues a killed one: the staging directory that
    /// run left (the newest holding the file `marker`, its checkpoint) becomes this run's,
    /// with everything written in it; other leftovers are removed as usual. Without one, a
    /// staging directory holding `summary.json` (written last, after the checkpoint is removed)
    /// is a run killed after it finished writing and before its commit: it is adopted as
    /// [`OutputDir::finished`], to be committed as it is.
    pub fn resume(target: &Path, marker: &str) -> Result<OutputDir, OutputDirError> {
        OutputDir::open(target, Some(marker))
    }

    fn open(target: &Path, adopt: Option<&str>) -> Result<OutputDir, OutputDirError> {
        let abs = match fs::metadata(target) {
            Ok(m) if !m.is_dir() => {
                return Err(OutputDirError::NotADirectory {
                    path: target.to_path_buf(),
                })
            }
            Ok(_) => target.canonicalize().map_err(|e| io_err(target, e))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let parent = match target.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
                fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
                let name = target.file_name().ok_or_else(|| {
                    io_err(
                        target,
                        io::Error::new(io::ErrorKind::NotFound, "no such directory"),
                    )
                })?;
                parent
                    .canonicalize()
                    .map_err(|e| io_err(parent, e))?
                    .join(name)
            }
            Err(e) => return Err(io_err(target, e)),
        };
        if let Ok(cwd) = std::env::current_dir().and_then(|c| c.canonicalize()) {
            if cwd.starts_with(&abs) {
                return Err(OutputDirError::ContainsWorkingDirectory {
                    path: target.to_path_buf(),
                });
            }
        }
        let (parent, name) = match (abs.parent(), abs.file_name()) {
            (Some(p), Some(n)) => (p.to_path_buf(), n.to_os_string()),
            _ => {
                return Err(OutputDirError::ContainsWorkingDirectory {
                    path: target.to_path_buf(),
                })
            }
        };
        let sibling = |what: &str| {
            let mut s = OsString::from(".");
            s.push(&name);
            s.push(format!(".ebnsim-{what}"));
            parent.join(s)
        };
        let lock = Lock::acquire(&sibling("lock"), target)?;
        let staging = sibling(&format!("new.{}", std::process::id()));
        let mut finished = false;
        if let Some(marker) = adopt {
            let prefix = format!(".{}.ebnsim-new.", name.to_string_lossy());
            let found = match newest_with(&parent, &prefix, marker) {
                Some(found) => found,
                None => {
                    finished = true;
                    // Newer than the directory's own run: an older one at a staging name is the
                    // run a commit replaced, killed while it was being deleted.
                    let summary_time = |dir: &Path| {
                        fs::metadata(dir.join(SUMMARY_JSON))
                            .and_then(|m| m.modified())
                            .ok()
                    };
                    newest_with(&parent, &prefix, SUMMARY_JSON)
                        .filter(|found| summary_time(found) > summary_time(&abs))
                        .ok_or_else(|| OutputDirError::NothingToResume {
                            path: target.to_path_buf(),
                            name: name.to_string_lossy().into_owned(),
                            marker: marker.to_string(),
                        })?
                }
            };
            if found != staging {
                fs::rename(&found, &staging).map_err(|e| io_err(&found, e))?;
            }
        }
        remove_leftovers(&parent, &name, &abs, &staging)?;
        if !abs.is_dir() {
            fs::create_dir(&abs).map_err(|e| io_err(target, e))?;
        }
        if adopt.is_none() {
            fs::create_dir(&staging).map_err(|e| io_err(&staging, e))?;
        }
        if let Ok(m) = fs::metadata(&abs) {
            let _ = fs::set_permissions(&staging, m.permissions());
        }
        Ok(OutputDir {
            target: abs,
            staging,
            keep: Vec::new(),
            lock: Some(lock),
            finished,
        })
    }

    /// Whether [`OutputDir::resume`] found the killed run's files complete (killed after
    /// writing `summary.json`, before its commit): nothing is left to run, only
    /// [`OutputDir::commit`].
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// The staging directory: write the run's files here.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// What preparing created next to the target (the staging directory and the lock file):
    /// what a process that has to end at once, without unwinding, removes first.
    pub fn temporaries(&self) -> Vec<PathBuf> {
        let mut v = vec![self.staging.clone()];
        v.extend(self.lock.as_ref().map(|l| l.path.clone()));
        v
    }

    /// The directory the run replaces (absolute).
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Keeps the old run's output `name` (one of the run-output files, e.g. the `weights.json` a
    /// frozen run read from this directory) unless the new run writes its own. Other run
    /// outputs of the old run are dropped; files that are not run outputs are always kept.
    pub fn keep(&mut self, name: &str) {
        self.keep.push(name.into());
    }

    /// Puts the staged run in place of the target: carries the old directory's other entries
    /// over, exchanges the two directories and deletes the old run. On error the old run is
    /// left as it was and the staging directory is removed.
    pub fn commit(mut self) -> Result<(), OutputDirError> {
        let mut budget = MAX_CARRIED;
        match fs::read_dir(&self.target) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry.map_err(|e| io_err(&self.target, e))?;
                    let name = entry.file_name();
                    if !self.carries(&name) || self.staging.join(&name).exists() {
                        continue;
                    }
                    carry(&entry.path(), &self.staging.join(&name), &mut budget).map_err(|e| {
                        match e {
                            Carry::Budget => OutputDirError::TooManyEntries {
                                path: self.target.clone(),
                            },
                            Carry::Io(path, e) => io_err(&path, e),
                        }
                    })?;
                }
            }
            // The directory was removed during the run: the new run simply takes its place.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&self.target, e)),
        }
        sync_dir(&self.staging);
        let old = exchange(&self.staging, &self.target).map_err(|e| io_err(&self.target, e))?;
        if let Some(parent) = self.target.parent() {
            sync_dir(parent);
        }
        if let Some(old) = old {
            if let Err(e) = fs::remove_dir_all(&old) {
                tracing::warn!(path = %old.display(), error = %e, "cannot remove the old run");
            }
        }
        // The staging path now holds nothing of ours (or the old run, removed above).
        self.staging = PathBuf::new();
        Ok(())
    }

    /// Leaves the staging directory where it is (a run with a checkpoint that failed: it can be
    /// resumed with [`OutputDir::resume`]) and releases the lock; returns the staging path.
    pub fn abandon(mut self) -> PathBuf {
        std::mem::take(&mut self.staging)
    }

    /// Whether an entry of the old directory is carried into the new run.
    fn carries(&self, name: &OsStr) -> bool {
        let s = name.to_string_lossy();
        let output = RUN_OUTPUTS.iter().any(|o| *o == s);
        let kept = !output || self.keep.iter().any(|k| k == name);
        kept && !is_temporary(&s)
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.staging.as_os_str().is_empty() {
            let _ = fs::remove_dir_all(&self.staging);
        }
        if let Some(lock) = self.lock.take() {
            lock.release();
        }
    }
}

/// Whether `name` is a temporary file of [`crate::io::record::write_atomic`]
/// (`.NAME.PID.N.tmp`) for one of the run outputs: never carried into a new run.
fn is_temporary(name: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|n| n.strip_suffix(".tmp"))
        .is_some_and(|n| RUN_OUTPUTS.iter().any(|o| n.starts_with(&format!("{o}."))))
}

/// Removes `.NAME.ebnsim-new.*` and `.NAME.ebnsim-old.*` left in `parent` by runs that were
/// killed (the caller holds the lock, so none belongs to a live run). When the target itself is
/// missing (a run killed between the two renames of the fallback exchange), the old run is
/// moved back first.
fn remove_leftovers(
    parent: &Path,
    name: &OsStr,
    target: &Path,
    ours: &Path,
) -> Result<(), OutputDirError> {
    let prefix = format!(".{}.ebnsim-", name.to_string_lossy());
    let entries = fs::read_dir(parent).map_err(|e| io_err(parent, e))?;
    for entry in entries.flatten() {
        let n = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = n.strip_prefix(&prefix) else {
            continue;
        };
        if entry.path() == ours {
            continue;
        }
        if rest.starts_with("old.") && !target.exists() {
            fs::rename(entry.path(), target).map_err(|e| io_err(target, e))?;
            tracing::warn!(path = %target.display(), "restored the run of an interrupted write");
        } else if rest.starts_with("new.") || rest.starts_with("old.") {
            tracing::info!(path = %entry.path().display(), "removing a killed run's leftover");
            fs::remove_dir_all(entry.path()).map_err(|e| io_err(&entry.path(), e))?;
        }
    }
    Ok(())
}

/// The directory `PREFIX*` in `parent` whose file `marker` was modified last.
fn newest_with(parent: &Path, prefix: &str, marker: &str) -> Option<PathBuf> {
    fs::read_dir(parent)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .filter_map(|e| {
            let modified = fs::metadata(e.path().join(marker)).ok()?.modified().ok()?;
            Some((modified, e.path()))
        })
        .max()
        .map(|(_, p)| p)
}

enum Carry {
    Budget,
    Io(PathBuf, io::Error),
}

/// Recreates `from` at `to`: directories entry by entry, files as hard links (copies where the
/// file system refuses a link), symbolic links as links.
fn carry(from: &Path, to: &Path, budget: &mut usize) -> Result<(), Carry> {
    *budget = budget.checked_sub(1).ok_or(Carry::Budget)?;
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| Carry::Io(p, e)
    };
    let meta = fs::symlink_metadata(from).map_err(io(from))?;
    if meta.is_dir() {
        fs::create_dir(to).map_err(io(to))?;
        let _ = fs::set_permissions(to, meta.permissions());
        for entry in fs::read_dir(from).map_err(io(from))? {
            let entry = entry.map_err(io(from))?;
            carry(&entry.path(), &to.join(entry.file_name()), budget)?;
        }
        return Ok(());
    }
    if fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    #[cfg(unix)]
    if meta.file_type().is_symlink() {
        let target = fs::read_link(from).map_err(io(from))?;
        return std::os::unix::fs::symlink(target, to).map_err(io(to));
    }
    fs::copy(from, to).map(|_| ()).map_err(io(to))
}

/// Swaps `staging` and `target`; returns where the old run now is (to be deleted).
fn exchange(staging: &Path, target: &Path) -> io::Result<Option<PathBuf>> {
    if !target.exists() {
        fs::rename(staging, target)?;
        return Ok(None);
    }
    #[cfg(target_os = "linux")]
    {
        match rename_exchange(staging, target) {
            Ok(()) => return Ok(Some(staging.to_path_buf())),
            // Not supported by this file system or kernel: fall back to two renames.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {}
            Err(e) => return Err(e),
        }
    }
    let name = staging
        .to_string_lossy()
        .replace(".ebnsim-new.", ".ebnsim-old.");
    let old = PathBuf::from(name);
    fs::rename(target, &old)?;
    if let Err(e) = fs::rename(staging, target) {
        let _ = fs::rename(&old, target);
        return Err(e);
    }
    Ok(Some(old))
}

#[cfg(target_os = "linux")]
fn rename_exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path holds a NUL byte"))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// An exclusive advisory lock (`flock`) on `.NAME.ebnsim-lock`, holding the owner's pid. The
/// kernel releases it when the process dies, however it dies.
#[derive(Debug)]
struct Lock {
    path: PathBuf,
    /// Held open: closing it releases the lock.
    _file: File,
}

impl Lock {
    fn acquire(path: &Path, target: &Path) -> Result<Lock, OutputDirError> {
        use std::io::{Read, Seek, Write};
        loop {
            let mut file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(|e| io_err(path, e))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                use std::os::unix::io::AsRawFd;
                // SAFETY: flock on a file descriptor this function owns.
                let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
                if r != 0 {
                    let e = io::Error::last_os_error();
                    if e.kind() == io::ErrorKind::WouldBlock {
                        let mut s = String::new();
                        let _ = file.read_to_string(&mut s);
                        return Err(OutputDirError::Busy {
                            path: target.to_path_buf(),
                            pid: s.trim().parse().ok(),
                        });
                    }
                    return Err(io_err(path, e));
                }
                // The holder before us may have removed the file after we opened it: then our
                // lock is on a deleted file and protects nothing; open it again.
                let ours = file.metadata().map_err(|e| io_err(path, e))?;
                match fs::metadata(path) {
                    Ok(m) if m.ino() == ours.ino() && m.dev() == ours.dev() => {}
                    _ => continue,
                }
            }
            let _ = file.set_len(0);
            let _ = file.rewind();
            let _ = write!(file, "{}", std::process::id());
            return Ok(Lock {
                path: path.to_path_buf(),
                _file: file,
            });
        }
    }

    /// Removes the lock file, then unlocks (closing the file).
    fn release(self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn commit_replaces_the_run_and_keeps_the_users_files() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("run");
        fs::create_dir_all(out.join("figures")).unwrap();
        fs::write(out.join("spikes.csv"), "old").unwrap();
        fs::write(out.join("weights.json"), "old weights").unwrap();
        fs::write(out.join("notes.txt"), "mine").unwrap();
        fs::write(out.join("figures/raster.svg"), "<svg/>").unwrap();
        fs::write(out.join(".readout.csv.77.0.tmp"), "half").unwrap();
        let dir = OutputDir::prepare(&out).unwrap();
        fs::write(dir.path().join("spikes.csv"), "new").unwrap();
        // Until the commit the old run is untouched.
        assert_eq!(fs::read_to_string(out.join("spikes.csv")).unwrap(), "old");
        dir.commit().unwrap();
        assert_eq!(names(&out), ["figures", "notes.txt", "spikes.csv"]);
        assert_eq!(fs::read_to_string(out.join("spikes.csv")).unwrap(), "new");
        assert_eq!(fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
        assert!(out.join("figures/raster.svg").is_file());
        assert_eq!(
            names(tmp.path()),
            ["run"],
            "no staging, old run or lock left"
        );
    }

    #[test]
    fn resume_adopts_a_finished_staging_directory_without_its_checkpoint() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("run");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("spikes.csv"), "old").unwrap();
        // Nothing to resume: a staging directory without checkpoint or summary (killed early).
        let early = tmp.path().join(".run.ebnsim-new.4242");
        fs::create_dir(&early).unwrap();
        fs::write(early.join("spikes.csv"), "half").unwrap();
        assert!(matches!(
            OutputDir::resume(&out, "checkpoint.ebnsim"),
            Err(OutputDirError::NothingToResume { .. })
        ));
        // Killed between writing summary.json and the commit.
        let done = tmp.path().join(".run.ebnsim-new.4243");
        fs::create_dir(&done).unwrap();
        fs::write(done.join("spikes.csv"), "new").unwrap();
        fs::write(done.join(SUMMARY_JSON), "{}").unwrap();
        let dir = OutputDir::resume(&out, "checkpoint.ebnsim").unwrap();
        assert!(dir.finished());
        dir.commit().unwrap();
        assert_eq!(fs::read_to_string(out.join("spikes.csv")).unwrap(), "new");
        assert_eq!(names(&out), ["spikes.csv", SUMMARY_JSON]);
        // The run a commit replaced, left at a staging name by a kill while it was deleted,
        // is older than the directory's own run: not put back.
        let replaced = tmp.path().join(".run.ebnsim-new.4245");
        fs::create_dir(&replaced).unwrap();
        fs::write(replaced.join(SUMMARY_JSON), "{}").unwrap();
        let t = fs::metadata(out.join(SUMMARY_JSON))
            .unwrap()
            .modified()
            .unwrap();
        File::options()
            .write(true)
            .open(replaced.join(SUMMARY_JSON))
            .unwrap()
            .set_modified(t - std::time::Duration::from_secs(60))
            .unwrap();
        assert!(matches!(
            OutputDir::resume(&out, "checkpoint.ebnsim"),
            Err(OutputDirError::NothingToResume { .. })
        ));
        fs::remove_dir_all(&replaced).unwrap();
        // A staging directory with a checkpoint is resumed, not finished.
        let killed = tmp.path().join(".run.ebnsim-new.4244");
        fs::create_dir(&killed).unwrap();
        fs::write(killed.join("checkpoint.ebnsim"), "c").unwrap();
        let dir = OutputDir::resume(&out, "checkpoint.ebnsim").unwrap();
        assert!(!dir.finished());
        assert!(dir.path().join("checkpoint.ebnsim").is_file());
    }

    #[test]
    fn keep_carries_a_named_output_over() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("run");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("weights.json"), "w").unwrap();
        let mut dir = OutputDir::prepare(&out).unwrap();
        dir.keep("weights.json");
        dir.commit().unwrap();
        assert_eq!(fs::read_to_string(out.join("weights.json")).unwrap(), "w");
    }

    #[test]
    fn dropping_leaves_the_old_run_and_nothing_else() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("run");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("spikes.csv"), "old").unwrap();
        {
            let dir = OutputDir::prepare(&out).unwrap();
            fs::write(dir.path().join("spikes.csv"), "new").unwrap();
        }
        assert_eq!(fs::read_to_string(out.join("spikes.csv")).unwrap(), "old");
        assert_eq!(names(tmp.path()), ["run"]);
    }

    #[test]
    fn a_second_writer_is_refused_and_leftovers_are_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("run");
        let first = OutputDir::prepare(&out).unwrap();
        match OutputDir::prepare(&out) {
            Err(OutputDirError::Busy { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Busy, got {other:?}"),
        }
        drop(first);
        // A killed run's staging and old directories.
        fs::create_dir(tmp.path().join(".run.ebnsim-new.999999")).unwrap();
        fs::create_dir(tmp.path().join(".run.ebnsim-old.999998")).unwrap();
        let dir = OutputDir::prepare(&out).unwrap();
        dir.commit().unwrap();
        assert_eq!(names(tmp.path()), ["run"]);
    }

    #[test]
    fn a_run_killed_between_the_fallback_renames_is_restored() {
        let tmp = tempfile::tempdir().unwrap();
        let old = tmp.path().join(".run.ebnsim-old.4242");
        fs::create_dir(&old).unwrap();
        fs::write(old.join("spikes.csv"), "old").unwrap();
        let out = tmp.path().join("run");
        drop(OutputDir::prepare(&out).unwrap());
        assert_eq!(fs::read_to_string(out.join("spikes.csv")).unwrap(), "old");
    }

    #[test]
    fn files_and_the_working_directory_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, "x").unwrap();
        let e = OutputDir::prepare(&file).unwrap_err();
        assert!(matches!(e, OutputDirError::NotADirectory { .. }), "{e}");
        assert!(e.is_input());
        assert!(e.to_string().contains("found a file"), "{e}");
        let cwd = std::env::current_dir().unwrap();
        let e = OutputDir::prepare(&cwd).unwrap_err();
        assert!(
            matches!(e, OutputDirError::ContainsWorkingDirectory { .. }),
            "{e}"
        );
    }

    #[test]
    fn temporaries_are_recognised() {
        assert!(is_temporary(".readout.csv.123.4.tmp"));
        assert!(!is_temporary(".mine.tmp"));
        assert!(!is_temporary("readout.csv"));
    }
}
