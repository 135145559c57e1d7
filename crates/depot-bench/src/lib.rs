//! Helpers shared by depot's benchmarks: inputs built in memory, and the raw durable-write
//! floor that the upload pipeline is compared against.

use std::io::Write;
use std::path::Path;

/// The machine's floor for one durable file: write, fsync, rename, fsync the directory —
/// what any correct store must do at least once per file.
pub fn ecriture_brute(dir: &Path, nom: &str, octets: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{nom}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(octets)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(nom))?;
    std::fs::File::open(dir)?.sync_all()
}

pub mod coeurs;
pub mod gros;
pub mod rush;
