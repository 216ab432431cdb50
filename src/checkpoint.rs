//! Checkpoints: a simulation's whole state as bytes, to continue it later to the bit.
//!
//! Why: a run of hours should survive a crash, a kill or a full disk without starting over.
//! [`Simulation::checkpoint`] writes everything the run's future depends on — the engine (voltages,
//! slow currents, the event queue, the crossing search in progress and its certificates, the
//! noise generators' positions), the monitors and the records not yet taken — so that
//! [`Simulation::from_checkpoint`] continues exactly as the uninterrupted run would have: the same
//! spikes to the bit (tested on every engine and layout). `ebnsim run --checkpoint-every` writes
//! such a state with the position of its output files; `--resume` continues from it.
//!
//! Format: the 8 bytes `EBNSIMCK`, a format number (u32, little-endian), the length of the
//! version string of the ebnsim that wrote it and that string, an FNV-1a 64 checksum of the
//! payload, then the payload ([`postcard`] of the state: floats as their exact bits). A
//! checkpoint is read only by the ebnsim version that wrote it (the state's layout is internal);
//! anything else — another file, another version, a damaged payload — is a [`CheckpointError`].

use crate::simulation::Simulation;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// File name of a streamed run's checkpoint inside its staging directory.
pub const RUN_CHECKPOINT: &str = "checkpoint.ebnsim";

const MAGIC: &[u8; 8] = b"EBNSIMCK";
/// The state's layout; 2 since the counters hold `relaxed_searches`, 3 since a streamed run's
/// file positions hold the readout's row count.
const FORMAT: u32 = 3;
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why bytes could not be read back as a checkpoint.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The bytes do not start with the checkpoint header.
    #[error("expected an ebnsim checkpoint (starting with `EBNSIMCK`), got other bytes")]
    NotACheckpoint,
    /// Written by another version of ebnsim (or in another format).
    #[error(
        "expected a checkpoint of ebnsim {VERSION} (format {FORMAT}), got one of ebnsim \
         {version} (format {format}): resume with the version that wrote it"
    )]
    Version {
        /// The version that wrote it.
        version: String,
        /// Its format number.
        format: u32,
    },
    /// The checkpoint is of another run (another model file, seed or option).
    #[error("expected a checkpoint of this run ({expected}), got one of {found}")]
    OtherRun {
        /// What this run is.
        expected: String,
        /// What the checkpoint's run was.
        found: String,
    },
    /// The payload does not match its checksum or does not decode.
    #[error("expected an intact checkpoint, got a damaged one ({0})")]
    Damaged(String),
}

/// FNV-1a, 64 bits: enough to tell a damaged payload (or an edited model file) from an intact
/// one; not a cryptographic hash.
pub fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `value` as checkpoint bytes (header, checksum, payload).
pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising plain data into a vector does not fail (no maps with non-string keys, no
    // sequences of unknown length in postcard); an error here is a bug.
    let payload = postcard::to_stdvec(value).expect("checkpoint state serialises");
    let mut out = Vec::with_capacity(payload.len() + 32);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&(VERSION.len() as u32).to_le_bytes());
    out.extend_from_slice(VERSION.as_bytes());
    out.extend_from_slice(&checksum(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Reads what [`encode`] wrote.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CheckpointError> {
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or(CheckpointError::NotACheckpoint)?;
    let damaged = || CheckpointError::Damaged("truncated header".into());
    let u32_at = |b: &[u8]| -> Result<u32, CheckpointError> {
        Ok(u32::from_le_bytes(
            b.get(..4)
                .ok_or_else(damaged)?
                .try_into()
                .unwrap_or_default(),
        ))
    };
    let format = u32_at(rest)?;
    let len = u32_at(&rest[4..])? as usize;
    let version = rest.get(8..8 + len).ok_or_else(damaged)?;
    let version = String::from_utf8_lossy(version).into_owned();
    if format != FORMAT || version != VERSION {
        return Err(CheckpointError::Version { version, format });
    }
    let rest = &rest[8 + len..];
    let sum = u64::from_le_bytes(
        rest.get(..8)
            .ok_or_else(damaged)?
            .try_into()
            .unwrap_or_default(),
    );
    let payload = &rest[8..];
    if checksum(payload) != sum {
        return Err(CheckpointError::Damaged("checksum mismatch".into()));
    }
    postcard::from_bytes(payload).map_err(|e| CheckpointError::Damaged(e.to_string()))
}

impl Simulation {
    /// The simulation's whole state as checkpoint bytes (see the [module docs](self)):
    /// [`Simulation::from_checkpoint`] of them continues exactly where this one is.
    ///
    /// ```
    /// use ebnsim::prelude::*;
    /// let model = ebnsim::io::model_file::load(std::path::Path::new("models/boerlin-oscillator.toml"))?;
    /// let mut sim = Simulation::from_model(&model).build()?;
    /// sim.run_until(0.4)?;
    /// let saved = sim.checkpoint();
    /// sim.run_until(1.0)?;
    /// let mut again = Simulation::from_checkpoint(&saved)?;
    /// again.run_until(1.0)?;
    /// assert_eq!(again.spikes(), sim.spikes());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn checkpoint(&self) -> Vec<u8> {
        encode(self)
    }

    /// Continues a simulation from [`Simulation::checkpoint`] bytes (of this ebnsim version).
    pub fn from_checkpoint(bytes: &[u8]) -> Result<Simulation, CheckpointError> {
        decode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_old_and_damaged_bytes_are_refused() {
        let bytes = encode(&(1.5f64, vec![1u32, 2, 3], f64::NAN));
        let (a, b, c): (f64, Vec<u32>, f64) = decode(&bytes).unwrap();
        assert_eq!((a, b), (1.5, vec![1, 2, 3]));
        assert!(c.is_nan());
        assert_eq!(
            decode::<u8>(b"hello world"),
            Err(CheckpointError::NotACheckpoint)
        );
        let mut other = bytes.clone();
        other[8] = 9;
        assert!(matches!(
            decode::<(f64, Vec<u32>, f64)>(&other),
            Err(CheckpointError::Version { format: 9, .. })
        ));
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(
            decode::<(f64, Vec<u32>, f64)>(&flipped),
            Err(CheckpointError::Damaged(_))
        ));
        for cut in 0..bytes.len() {
            assert!(decode::<(f64, Vec<u32>, f64)>(&bytes[..cut]).is_err());
        }
    }
}
