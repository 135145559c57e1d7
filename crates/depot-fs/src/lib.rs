//! # depot-fs — dossiers and pieces on a local filesystem, durably
//!
//! The embedded default store of depot: [`FsStore`] implements depot-core's
//! [`DossierStore`], [`PieceStore`], [`CredentialStore`], [`KeyStore`], and the sessions'
//! and throttling counts' stores ([`sessions`]) on a data directory.
//!
//! ## Layout (format 3)
//!
//! ```text
//! <data>/depot-fs.format          "depot-fs 3\n": the format marker (refused if another)
//! <data>/dossiers/<NUMERO>.slots  one record file per dossier: two checksummed slots
//! <data>/dossiers/<NUMERO>.rec    a record written by format 2, until its next save
//! <data>/dossiers/<NUMERO>.journal  the dossier's journal: one JSON entry per line, appended
//! <data>/dossiers/<NUMERO>.lock   the dossier's lock file (empty; flock)
//! <data>/identifiants/<NUMERO>.phc  the password hash (PHC string)
//! <data>/pieces/<NUMERO>/<ID>     one file per deposited content, write-once
//! <data>/cles/recepisse.ed25519   the récépissé signing key's seed (hex, 0600), write-once
//! <data>/cles/publiques.json      every public key ever published (replaced atomically)
//! <data>/cles/.verrou             lock file of the published list (empty; flock)
//! <data>/sessions/…, <data>/compteurs/…   sessions and throttling counts (see [`sessions`])
//! .*.tmp                          temporary files, in the directory of their target
//! ```
//!
//! Every name comes from an id the core generated and validated (`NumeroDossier`,
//! `FichierId`); nothing derives from a candidate's file name. A subdirectory that is a
//! symbolic link is refused for writes, and contents are opened with `O_NOFOLLOW`.
//!
//! ## Durability argument
//!
//! A new file is: create a temporary file with `O_EXCL` in the target's directory → write →
//! `fsync` the file → make it visible under its final name → `fsync` the directory. A reader
//! sees either the old file or the new one, never a half-written one, because the final name
//! only ever designates a complete, synced file; the directory `fsync` makes the new name
//! itself survive a power loss before the call returns (and so before the client is told
//! « fichier enregistré »). Newly created directories are `fsync`ed in their parent too.
//!
//! - Contents are made visible with `link(2)`, which fails if the name exists: write-once
//!   holds even between two processes racing on the same id. They keep a temporary name
//!   while written: `O_TMPFILE` (no name, `linkat(2)` at the end) was tried and measured
//!   slower on ext4, which puts such an inode on its orphan list and takes it off again,
//!   both journaled.
//! - A record file holds two slots (`emplacements`): a save of version `v` overwrites slot
//!   `v mod 2` in place and `fdatasync`s it, then appends the save's journal entries and
//!   `fdatasync`s the journal — two flushes, no new inode, no rename, no directory flush
//!   (format 2 replaced a `.rec` file at each save: three flushes, one of them a metadata
//!   commit). The slot being written never holds the other version, so a crash in the
//!   middle leaves the previous version whole next to a torn slot. A record file is
//!   created, and rewritten when a record outgrows its slot, as every new file is (one
//!   slot written, the other a placeholder naming the previous version).
//! - Every slot carries the n°, the version, its length and SHA-256, and the journal bytes
//!   of its save with the journal's length before them. A slot whose length or checksum
//!   does not match is unreadable, never parsed as valid.
//! - **Torn or damaged.** A save appends to the journal only once its slot is durable, and
//!   every save appends (a save without an entry appends a line that is none). So when one
//!   slot is unreadable, the journal says which case it is: no longer than the other
//!   slot's save left it — a save torn by a crash, never acknowledged, and the other slot
//!   is the record; longer — a later slot was durable, then damaged: the record is
//!   reported [`StorageError::Corrupt`], never served one version behind (that could be a
//!   closure acknowledged and lost).
//! - **A crash between the slot and the journal.** The slot is durable, its entries are
//!   not in the journal yet. The next save appends them first (the slot says where the
//!   journal ended before them and holds their bytes); [`DossierStore::journal`] reads them
//!   from the slot meanwhile.
//!
//! ## Compare-and-swap across threads and processes
//!
//! `save` and `create` take an exclusive `flock(2)` on `dossiers/<NUMERO>.lock` (opened anew
//! for each operation, so two threads of one process exclude each other as two processes
//! do), read the current record, compare versions, write the new record, and release the
//! lock. `load` takes no lock: it reads both slots, and a slot being written reads as
//! unreadable (its checksum), so the reader takes the other one — or, since an unreadable
//! slot may also be damage, reads again under the lock and asks the journal.
//!
//! ## Crashes
//!
//! A crash leaves at worst temporary files, which no reader ever opens (their names are not
//! ids), a torn slot (above), a torn journal line (ended by the next append, skipped by
//! readers) and contents that no record lists (written before the record update that would
//! have listed them). [`FsStore::open`] removes temporary files older than an hour;
//! [`FsStore::recover`] removes them all, for use when no writer is running.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use depot_core::ports::{CleContenu, ContenuStocke, FluxOctets, Random, SystemRandom, Versionne};
use depot_core::{
    ClePublique, Cles, CredentialStore, Dossier, DossierStore, Evenement, FichierId,
    HashMotDePasse, KeyStore, NumeroDossier, PieceStore, Sha256, StorageError,
};
use emplacements::Emplacement;
use futures_util::StreamExt;
use sha2::Digest;
use zeroize::Zeroizing;

mod emplacements;
mod groupe;
pub mod sessions;

/// The format this version writes and reads.
///
/// Format 3 keeps each dossier's record in two slots of one file (`.slots`), overwritten in
/// turn, instead of a file replaced at each save (`.rec`, format 2). A format-1 or format-2
/// directory opens and is marked 3: its records load as they are and move to a `.slots`
/// file at their next write (format 1's journal moves out of the record at the same time,
/// depot-core's record format). An earlier depot refuses a format-3 directory rather than
/// miss the records it cannot see.
pub const FORMAT: &str = "depot-fs 3\n";
/// The previous formats, upgraded in place by [`FsStore::open`].
const FORMATS_ANCIENS: [&str; 2] = ["depot-fs 1\n", "depot-fs 2\n"];
const MARQUEUR: &str = "depot-fs.format";
const ENTETE: &str = "depot-fs-rec 1";
/// A dossier's record file (format 3), and the one format 2 wrote.
const SUFFIXE: &str = ".slots";
const SUFFIXE_2: &str = ".rec";
/// Size of the chunks contents are read in.
pub const TAILLE_MORCEAU: usize = 64 * 1024;
/// Temporary files older than this are removed at open.
pub const AGE_TEMPORAIRES: Duration = Duration::from_secs(3600);

/// A depot store on a data directory. Cheap to clone.
#[derive(Clone, Debug)]
pub struct FsStore {
    inner: Arc<Interieur>,
}

#[derive(Debug)]
struct Interieur {
    racine: PathBuf,
    /// The group commit of `dossiers/`'s fsync (see [`groupe`]).
    sync_dossiers: groupe::GroupeSync,
}

/// Converts an I/O error into depot-core's semantic storage error, naming what failed.
fn conv(quoi: &str, e: io::Error) -> StorageError {
    use io::ErrorKind as K;
    let detail = format!("{quoi} : {e}");
    match e.kind() {
        K::NotFound => StorageError::NotFound(detail),
        K::AlreadyExists => StorageError::AlreadyExists(detail),
        K::PermissionDenied | K::ReadOnlyFilesystem => StorageError::Denied(detail),
        K::StorageFull | K::QuotaExceeded => {
            StorageError::Unavailable(format!("{quoi} : espace disque insuffisant ({e})"))
        }
        _ => StorageError::Unavailable(detail),
    }
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Refuses a path component that is a symbolic link (a data directory pointing elsewhere).
fn verifier_pas_lien(p: &Path) -> Result<(), StorageError> {
    match fs::symlink_metadata(p) {
        Ok(m) if m.file_type().is_symlink() => Err(StorageError::Denied(format!(
            "{} est un lien symbolique : refusé pour l'écriture",
            p.display()
        ))),
        Ok(m) if !m.is_dir() => Err(StorageError::Corrupt(format!(
            "{} n'est pas un répertoire",
            p.display()
        ))),
        Ok(_) => Ok(()),
        Err(e) => Err(conv(&p.display().to_string(), e)),
    }
}

/// Directories are the service's alone (`rwx------`): no other local user may list the n°
/// de dossier and file ids they are named after.
const MODE_REPERTOIRE: u32 = 0o700;

/// Creates `dir` if missing (and syncs its parent so the new entry survives a crash).
fn assurer_dir(dir: &Path) -> Result<(), StorageError> {
    match fs::DirBuilder::new().mode(MODE_REPERTOIRE).create(dir) {
        Ok(()) => {
            if let Some(parent) = dir.parent() {
                fsync_dir(parent).map_err(|e| conv("fsync du répertoire parent", e))?;
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => verifier_pas_lien(dir),
        Err(e) => Err(conv(&format!("création de {}", dir.display()), e)),
    }
}

fn nom_temporaire(base: &str) -> String {
    let mut r = [0u8; 8];
    SystemRandom.remplir(&mut r);
    let suffixe = hex::encode(r);
    format!(".{base}.{suffixe}.tmp")
}

/// Creates `tmp` (0600, never an existing file), writes `octets` and syncs them.
fn ecrire_synchronise(tmp: &Path, octets: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)?;
    f.write_all(octets)?;
    f.sync_all()
}

/// Writes `octets` durably under `dir/nom`, replacing any previous file atomically.
fn ecrire_remplacer(dir: &Path, nom: &str, octets: &[u8]) -> Result<(), StorageError> {
    remplacer_sans_fsync_du_repertoire(dir, nom, octets)?;
    fsync_dir(dir).map_err(|e| conv(&format!("écriture de {nom}"), e))
}

/// [`ecrire_remplacer`] but the directory's `fsync`, which the caller owes: the new
/// content is synced, then renamed over the old one.
fn remplacer_sans_fsync_du_repertoire(
    dir: &Path,
    nom: &str,
    octets: &[u8],
) -> Result<(), StorageError> {
    let tmp = dir.join(nom_temporaire(nom));
    let resultat = ecrire_synchronise(&tmp, octets).and_then(|()| fs::rename(&tmp, dir.join(nom)));
    if resultat.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    resultat.map_err(|e| conv(&format!("écriture de {nom}"), e))
}

fn lire_sans_lien(p: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(p)
}

/// A record file must hold the dossier its name says.
fn verifier_numero(attendu: &NumeroDossier, lu: &NumeroDossier) -> Result<(), StorageError> {
    if lu == attendu {
        return Ok(());
    }
    Err(StorageError::Corrupt(format!(
        "dossier {attendu} : le fichier contient le dossier {lu}"
    )))
}

/// Frames a record as format 2 did: header line with length and SHA-256, then the body.
#[cfg(test)]
fn encadrer(corps: &[u8]) -> Vec<u8> {
    let sha = Sha256::de(corps);
    let mut o = format!("{ENTETE} {} {}\n", corps.len(), sha.hex()).into_bytes();
    o.extend_from_slice(corps);
    o
}

/// Checks a framed record and returns its body.
fn desencadrer<'a>(quoi: &str, octets: &'a [u8]) -> Result<&'a [u8], StorageError> {
    let corrompu = |raison: &str| StorageError::Corrupt(format!("{quoi} : {raison}"));
    let fin = octets
        .iter()
        .position(|b| *b == b'\n')
        .ok_or_else(|| corrompu("en-tête absent"))?;
    let entete = std::str::from_utf8(&octets[..fin]).map_err(|_| corrompu("en-tête illisible"))?;
    let mut parts = entete.rsplitn(3, ' ');
    let (Some(sha), Some(longueur), Some(prefixe)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(corrompu("en-tête incomplet"));
    };
    if prefixe != ENTETE {
        return Err(corrompu("format d'enregistrement inconnu"));
    }
    let longueur: usize = longueur
        .parse()
        .map_err(|_| corrompu("longueur illisible"))?;
    let corps = &octets[fin + 1..];
    if corps.len() != longueur {
        return Err(corrompu("longueur incohérente (enregistrement tronqué)"));
    }
    let attendu = Sha256::parse(sha).map_err(|_| corrompu("empreinte illisible"))?;
    if Sha256::de(corps) != attendu {
        return Err(corrompu("empreinte incohérente"));
    }
    Ok(corps)
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Enregistrement {
    version: u64,
    dossier: Dossier,
}

/// Reads a small file where the caller runs, without the trip to a blocking thread:
/// a session (~150 bytes), a password hash (~100 bytes), a dossier record (a few KiB: its
/// journal lives apart). Such a read is served by the page cache in the normal case (the
/// file was written or read moments before by this process) and costs less than the trip's
/// two wake-ups and two context switches, which during a login rush interrupt the argon2
/// threads. Measured with the counters' single trip (`perf stat` on the server, rush
/// N=2000, two runs each): context switches 782 k and 764 k → 606 k and 619 k per run,
/// `futex` calls 655 k and 645 k → 386 k and 399 k; the server's CPU time did not move
/// (75 s either way). A read that misses the cache waits for the disk on an executor
/// thread: the price is accepted for these three reads only. Anything that writes, syncs,
/// takes a lock or lists a directory goes through [`bloquant`]: it can wait on the disk's
/// flushes or on another holder.
///
/// A loop of such reads (a round over every dossier: the mail worker's, an export) would
/// never give its thread back, each read being ready at once: every read spends one unit
/// of the task's cooperative budget, so that the loop yields to the other tasks every
/// hundred reads or so, as it did at each trip.
async fn lecture_en_place<T>(
    f: impl FnOnce() -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    let r = f();
    tokio::task::coop::consume_budget().await;
    r
}

/// Runs blocking filesystem work off the async executor.
async fn bloquant<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, StorageError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StorageError::Unavailable(format!("tâche de stockage interrompue : {e}")))?
}

impl FsStore {
    /// Opens (creating if needed) a data directory, checks its format marker and that its
    /// subdirectories are real directories, and removes stale temporary files and format-2
    /// records that a slots file superseded.
    pub fn open(racine: impl AsRef<Path>) -> Result<Self, StorageError> {
        let racine = racine.as_ref().to_path_buf();
        fs::DirBuilder::new()
            .recursive(true)
            .mode(MODE_REPERTOIRE)
            .create(&racine)
            .map_err(|e| conv(&racine.display().to_string(), e))?;
        let marqueur = racine.join(MARQUEUR);
        match fs::read_to_string(&marqueur) {
            Ok(s) if s == FORMAT => {}
            Ok(s) if FORMATS_ANCIENS.contains(&s.as_str()) => {
                ecrire_remplacer(&racine, MARQUEUR, FORMAT.as_bytes())?;
            }
            Ok(s) => {
                return Err(StorageError::Corrupt(format!(
                    "{} : format « {} » inconnu de cette version (attendu « {} »)",
                    marqueur.display(),
                    s.trim(),
                    FORMAT.trim()
                )));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                ecrire_remplacer(&racine, MARQUEUR, FORMAT.as_bytes())?;
            }
            Err(e) => return Err(conv(&marqueur.display().to_string(), e)),
        }
        for sous in ["dossiers", "identifiants", "pieces"] {
            assurer_dir(&racine.join(sous))?;
        }
        let store = Self {
            inner: Arc::new(Interieur {
                racine,
                sync_dossiers: groupe::GroupeSync::default(),
            }),
        };
        store.nettoyer_temporaires(AGE_TEMPORAIRES)?;
        Ok(store)
    }

    /// The data directory.
    pub fn racine(&self) -> &Path {
        &self.inner.racine
    }

    /// Removes every temporary file left by a crash. Call it when no other process writes
    /// to this directory (a running writer's in-flight temporary files would be removed).
    /// Returns how many were removed.
    pub fn recover(&self) -> Result<usize, StorageError> {
        self.nettoyer_temporaires(Duration::ZERO)
    }

    fn nettoyer_temporaires(&self, age_min: Duration) -> Result<usize, StorageError> {
        let maintenant = SystemTime::now();
        let mut retires = 0;
        let dossiers = self.dir_dossiers();
        let mut dirs = vec![
            self.racine().to_path_buf(),
            self.dir_dossiers(),
            self.racine().join("identifiants"),
            self.racine().join("sessions"),
        ];
        let pieces = self.racine().join("pieces");
        for e in fs::read_dir(&pieces).map_err(|e| conv("lecture de pieces", e))? {
            let e = e.map_err(|e| conv("lecture de pieces", e))?;
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                dirs.push(e.path());
            }
        }
        for dir in dirs {
            let Ok(entrees) = fs::read_dir(&dir) else {
                continue;
            };
            for e in entrees.flatten() {
                let nom = e.file_name();
                let nom = nom.to_string_lossy();
                if let Some(numero) = nom.strip_suffix(SUFFIXE_2)
                    && dir == dossiers
                    && fs::symlink_metadata(dir.join(format!("{numero}{SUFFIXE}"))).is_ok()
                {
                    // A format-2 record superseded by its slots file (its removal was lost
                    // in a crash): no reader takes it any more.
                    let _ = fs::remove_file(e.path());
                    continue;
                }
                if !(nom.starts_with('.') && nom.ends_with(".tmp")) {
                    continue;
                }
                let vieux = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .map(|t| maintenant.duration_since(t).unwrap_or_default() >= age_min)
                    .unwrap_or(true);
                if vieux && fs::remove_file(e.path()).is_ok() {
                    retires += 1;
                }
            }
        }
        Ok(retires)
    }

    fn dir_dossiers(&self) -> PathBuf {
        self.racine().join("dossiers")
    }

    fn dir_pieces(&self, numero: &NumeroDossier) -> PathBuf {
        self.racine().join("pieces").join(numero.as_str())
    }

    fn verrouiller(&self, numero: &NumeroDossier) -> Result<File, StorageError> {
        let dir = self.dir_dossiers();
        verifier_pas_lien(&dir)?;
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(dir.join(format!("{}.lock", numero.as_str())))
            .map_err(|e| conv("verrou du dossier", e))?;
        f.lock().map_err(|e| conv("verrou du dossier", e))?;
        Ok(f)
    }

    fn chemin_fiche(&self, numero: &NumeroDossier) -> PathBuf {
        self.dir_dossiers().join(nom_fiche(numero))
    }

    fn chemin_ancien(&self, numero: &NumeroDossier) -> PathBuf {
        self.dir_dossiers()
            .join(format!("{}{SUFFIXE_2}", numero.as_str()))
    }

    /// Reads a dossier's record: its two-slot file (format 3), or else the `.rec` file an
    /// earlier version wrote (format 2). Checks what can be checked without the lock: the
    /// newest readable slot is whole, in its place, of this dossier and not a placeholder.
    /// Whether an unreadable other slot is harmless is for [`verifier_autre`] to say, under
    /// the lock.
    ///
    /// [`verifier_autre`]: Self::verifier_autre
    fn lire_fiche(&self, numero: &NumeroDossier) -> Result<Fiche, StorageError> {
        match self.lire_fiche_une_fois(numero) {
            // A save moving a format-2 record to its slots file renames the new file into
            // place, then removes the old one: a reader that found neither in between
            // finds the new one now.
            Err(StorageError::NotFound(_))
                if fs::symlink_metadata(self.chemin_fiche(numero)).is_ok() =>
            {
                self.lire_fiche_une_fois(numero)
            }
            r => r,
        }
    }

    fn lire_fiche_une_fois(&self, numero: &NumeroDossier) -> Result<Fiche, StorageError> {
        let quoi = format!("dossier {numero}");
        let corrompu = |raison: String| StorageError::Corrupt(format!("{quoi} : {raison}"));
        let mut octets = Vec::new();
        match lire_sans_lien(&self.chemin_fiche(numero)) {
            Ok(mut f) => f.read_to_end(&mut octets).map_err(|e| conv(&quoi, e))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return self.lire_ancien(numero),
            Err(e) => return Err(conv(&quoi, e)),
        };
        let [a, b] = emplacements::separer(&octets)
            .ok_or_else(|| corrompu(format!("taille de fichier incohérente ({})", octets.len())))?;
        let taille = a.len();
        let (indice, recent, autre) = match (emplacements::decoder(a), emplacements::decoder(b)) {
            (Emplacement::Valide(x), Emplacement::Valide(y)) => {
                if x.version == y.version {
                    return Err(corrompu("deux emplacements de même version".into()));
                }
                if x.version > y.version {
                    (0, x, None)
                } else {
                    (1, y, None)
                }
            }
            (Emplacement::Valide(x), Emplacement::Illisible(r)) => (0, x, Some(r)),
            (Emplacement::Illisible(r), Emplacement::Valide(y)) => (1, y, Some(r)),
            (Emplacement::Illisible(r), Emplacement::Illisible(_)) => {
                return Err(corrompu(format!("aucun emplacement lisible ({r})")));
            }
        };
        if recent.numero != numero.as_str() {
            return Err(corrompu(format!(
                "le fichier contient le dossier {}",
                recent.numero
            )));
        }
        if recent.version % 2 != indice {
            return Err(corrompu(format!(
                "la version {} dans l'emplacement {indice}",
                recent.version
            )));
        }
        if recent.est_reserve() {
            return Err(corrompu(format!(
                "la version {} n'est pas lisible",
                recent.version + 1
            )));
        }
        Ok(Fiche {
            version: recent.version,
            corps: recent.corps.to_vec(),
            emplacements: Some(Emplacements {
                taille,
                debut: recent.debut,
                journal: recent.journal.to_vec(),
                autre_illisible: autre,
            }),
        })
    }

    /// A record written by format 2: `depot-fs-rec 1 <length> <sha256>` then the body.
    fn lire_ancien(&self, numero: &NumeroDossier) -> Result<Fiche, StorageError> {
        #[derive(serde::Deserialize)]
        struct Numero {
            numero: NumeroDossier,
        }
        #[derive(serde::Deserialize)]
        struct Version {
            version: u64,
            dossier: Numero,
        }
        let quoi = format!("dossier {numero}");
        let mut octets = Vec::new();
        lire_sans_lien(&self.chemin_ancien(numero))
            .and_then(|mut f| f.read_to_end(&mut octets))
            .map_err(|e| conv(&quoi, e))?;
        let corps = desencadrer(&quoi, &octets)?;
        let v: Version = serde_json::from_slice(corps)
            .map_err(|e| StorageError::Corrupt(format!("{quoi} : {e}")))?;
        verifier_numero(numero, &v.dossier.numero)?;
        Ok(Fiche {
            version: v.version,
            corps: corps.to_vec(),
            emplacements: None,
        })
    }

    /// With one slot unreadable, tells a slot torn by a crash (harmless: its save was never
    /// acknowledged, the other slot is the record) from a slot damaged after its save (the
    /// newest version is lost: reported, never served as the previous one). A save appends
    /// to the journal only once its slot is durable, so a journal longer than the readable
    /// slot's end means a later slot was written whole. Call it under the dossier's lock.
    fn verifier_autre(&self, numero: &NumeroDossier, fiche: &Fiche) -> Result<(), StorageError> {
        let Some(e) = &fiche.emplacements else {
            return Ok(());
        };
        let Some(raison) = e.autre_illisible else {
            return Ok(());
        };
        let longueur = self.longueur_journal(numero)?;
        let fin = e.fin();
        if longueur > fin {
            return Err(StorageError::Corrupt(format!(
                "dossier {numero} : l'emplacement de la version {} est illisible ({raison}) \
                 alors que le journal la suit ({longueur} octets, {fin} à la version {}) : \
                 enregistrement endommagé",
                fiche.version + 1,
                fiche.version
            )));
        }
        Ok(())
    }

    fn longueur_journal(&self, numero: &NumeroDossier) -> Result<u64, StorageError> {
        match fs::symlink_metadata(self.chemin_journal(numero)) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(conv(&format!("journal du dossier {numero}"), e)),
        }
    }

    /// The record of [`lire_fiche`](Self::lire_fiche), checked under the lock when a slot
    /// is unreadable.
    async fn charger(&self, numero: &NumeroDossier) -> Result<Fiche, StorageError> {
        let fiche = lecture_en_place(|| self.lire_fiche(numero)).await?;
        if fiche
            .emplacements
            .as_ref()
            .is_none_or(|e| e.autre_illisible.is_none())
        {
            return Ok(fiche);
        }
        // Rare (after a crash or damage): a save may also be writing that slot right now,
        // so read again under the lock, where no save is under way.
        let s = self.clone();
        let n = numero.clone();
        bloquant(move || {
            let _verrou = s.verrouiller(&n)?;
            let fiche = s.lire_fiche(&n)?;
            s.verifier_autre(&n, &fiche)?;
            Ok(fiche)
        })
        .await
    }

    fn chemin_journal(&self, numero: &NumeroDossier) -> PathBuf {
        self.dir_dossiers()
            .join(format!("{}.journal", numero.as_str()))
    }

    /// Opens the dossier's journal for appending (creating it) and brings it to where the
    /// record says it ends: the entries of the record's own save are appended again if a
    /// crash stopped their append (after the slot was durable). Returns the file and its
    /// length. Under the dossier's lock.
    fn ouvrir_journal(
        &self,
        numero: &NumeroDossier,
        fiche: Option<&Fiche>,
    ) -> Result<(File, u64), StorageError> {
        let quoi = format!("journal du dossier {numero}");
        let f = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(self.chemin_journal(numero))
            .map_err(|e| conv(&quoi, e))?;
        let longueur = f.metadata().map_err(|e| conv(&quoi, e))?.len();
        let Some(e) = fiche.and_then(|f| f.emplacements.as_ref()) else {
            return Ok((f, longueur));
        };
        let fin = e.fin();
        if longueur == fin {
            return Ok((f, longueur));
        }
        if !(e.debut..fin).contains(&longueur) {
            return Err(StorageError::Corrupt(format!(
                "{quoi} : {longueur} octets, {fin} attendus d'après l'enregistrement"
            )));
        }
        // The record's entries were being appended when the process stopped.
        let mut f = f;
        f.set_len(e.debut)
            .and_then(|()| f.write_all(&e.journal))
            .and_then(|()| f.sync_data())
            .map_err(|e| conv(&quoi, e))?;
        Ok((f, fin))
    }

    fn lire_journal(&self, numero: &NumeroDossier) -> Result<Vec<Evenement>, StorageError> {
        let quoi = format!("journal du dossier {numero}");
        // The record first: the journal read after it holds at least its save's
        // predecessors. If the journal stops short of the record's own save's entries (their
        // append was cut by a crash, or is under way), they are taken from the slot. Only
        // then: a journal line altered in place must break the chain, not be masked by the
        // slot's copy.
        let recent = match self.lire_fiche(numero) {
            Ok(f) => f.emplacements,
            Err(StorageError::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        let mut octets = Vec::new();
        match lire_sans_lien(&self.chemin_journal(numero)) {
            Ok(mut f) => {
                f.read_to_end(&mut octets).map_err(|e| conv(&quoi, e))?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(conv(&quoi, e)),
        }
        if let Some(e) = recent
            && (octets.len() as u64) < e.fin()
        {
            octets.extend_from_slice(&e.journal);
        }
        Ok(octets
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .filter_map(|l| serde_json::from_slice(l).ok())
            .collect())
    }

    /// Writes `dossier` as `version` and appends its journal entries: the slot
    /// `version mod 2` overwritten in place and synced when the record file has room, else
    /// a new record file (this version and a placeholder for the previous one) made
    /// visible atomically; then the entries appended to the journal and synced. Under the
    /// dossier's lock, after the version check.
    fn ecrire(
        &self,
        dossier: &Dossier,
        version: u64,
        fiche: Option<&Fiche>,
    ) -> Result<(), StorageError> {
        #[derive(serde::Serialize)]
        struct Ref<'a> {
            version: u64,
            dossier: &'a Dossier,
        }
        let numero = dossier.numero();
        let serialisation =
            |e: serde_json::Error| StorageError::Corrupt(format!("sérialisation : {e}"));
        let (mut journal, debut) = self.ouvrir_journal(numero, fiche)?;
        let entrees = octets_des_entrees(dossier, version)?;
        reserver(&journal, debut, entrees.len())
            .map_err(|e| conv(&format!("journal du dossier {numero}"), e))?;
        let corps = serde_json::to_vec(&Ref { version, dossier }).map_err(serialisation)?;
        let slot = emplacements::encoder(numero, version, debut, &corps, &entrees);
        let nom = nom_fiche(numero);
        let ecriture = |e| conv(&format!("écriture de {nom}"), e);
        match fiche.and_then(|f| f.emplacements.as_ref()) {
            Some(e) if slot.len() <= e.taille => {
                use std::os::unix::fs::FileExt;
                let f = OpenOptions::new()
                    .write(true)
                    .custom_flags(libc::O_NOFOLLOW)
                    .open(self.chemin_fiche(numero))
                    .map_err(ecriture)?;
                let position = (version % 2) * e.taille as u64;
                f.write_all_at(&slot, position)
                    .and_then(|()| f.sync_data())
                    .map_err(ecriture)?;
            }
            _ => {
                let taille = emplacements::taille_pour(slot.len());
                let reserve =
                    emplacements::encoder(numero, version.saturating_sub(1), debut, &[], &[]);
                let mut octets = vec![0u8; 2 * taille];
                let ici = usize::from(version % 2 == 1) * taille;
                let la = taille - ici;
                octets[ici..ici + slot.len()].copy_from_slice(&slot);
                octets[la..la + reserve.len()].copy_from_slice(&reserve);
                let dir = self.dir_dossiers();
                remplacer_sans_fsync_du_repertoire(&dir, &nom, &octets)?;
                // The directory's fsync (shared with the saves arriving at the same time)
                // makes the new name durable, and the journal's if it was just created.
                self.inner
                    .sync_dossiers
                    .synchroniser(&dir)
                    .map_err(ecriture)?;
                if fiche.is_some_and(|f| f.emplacements.is_none()) {
                    // The format-2 record is superseded: readers take the slots file when
                    // both exist, so a removal that fails (or is lost in a crash) leaves a
                    // stale file, not a wrong record — and the save, durable now, must not
                    // be reported failed for it.
                    let _ = fs::remove_file(self.chemin_ancien(numero));
                }
            }
        }
        journal
            .write_all(&entrees)
            .and_then(|()| journal.sync_data())
            .map_err(|e| conv(&format!("journal du dossier {numero}"), e))
    }
}

/// The name of a dossier's record file (format 3).
fn nom_fiche(numero: &NumeroDossier) -> String {
    format!("{}{SUFFIXE}", numero.as_str())
}

/// A dossier's record as read from its file.
#[derive(Debug)]
struct Fiche {
    version: u64,
    /// `{version, dossier}`.
    corps: Vec<u8>,
    /// Format 3's slot file; `None` for a format-2 `.rec`.
    emplacements: Option<Emplacements>,
}

#[derive(Debug)]
struct Emplacements {
    /// Size of one slot.
    taille: usize,
    /// The journal's length before the newest save's entries.
    debut: u64,
    /// The newest save's journal bytes.
    journal: Vec<u8>,
    /// Why the other slot is unreadable, if it is.
    autre_illisible: Option<&'static str>,
}

impl Emplacements {
    /// The journal's length once the newest save's entries are appended.
    fn fin(&self) -> u64 {
        self.debut.saturating_add(self.journal.len() as u64)
    }
}

impl Fiche {
    fn enregistrement(&self, numero: &NumeroDossier) -> Result<Versionne<Dossier>, StorageError> {
        let e: Enregistrement = serde_json::from_slice(&self.corps)
            .map_err(|e| StorageError::Corrupt(format!("dossier {numero} : {e}")))?;
        verifier_numero(numero, e.dossier.numero())?;
        if e.version != self.version {
            return Err(StorageError::Corrupt(format!(
                "dossier {numero} : version {} dans l'enregistrement, {} dans son en-tête",
                e.version, self.version
            )));
        }
        Ok(Versionne {
            valeur: e.dossier,
            version: e.version,
        })
    }
}

/// Reserves the room of `longueur` bytes at `position` in the journal, before the slot is
/// written: the slot needs no new space, the journal's append may, and once the slot is
/// written the save is in the record — a full disk must refuse it before that, never after
/// (an error that means nothing changed). Only when the append reaches past the blocks the
/// file already has (a journal is written in sequence, without holes): `fallocate` costs
/// even on a range already allocated (measured: ~0.04 ms of CPU and +3 ms of p99 per save
/// at 64 at once), and a 300-byte entry crosses into a new 4 KiB block about once in
/// fourteen saves. A filesystem without `fallocate` is not refused:
/// there the append can still fail after the slot, and the save is then reported failed
/// though in the record (as with any error after a commit point: the outcome is unknown).
fn reserver(journal: &File, position: u64, longueur: usize) -> io::Result<()> {
    use nix::errno::Errno;
    use nix::fcntl::{FallocateFlags, fallocate};
    use std::os::unix::fs::MetadataExt;
    let alloue = journal.metadata()?.blocks().saturating_mul(512);
    if position.saturating_add(longueur as u64) <= alloue {
        return Ok(());
    }
    let (Ok(position), Ok(longueur)) = (i64::try_from(position), i64::try_from(longueur)) else {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    };
    match fallocate(
        journal,
        FallocateFlags::FALLOC_FL_KEEP_SIZE,
        position,
        longueur,
    ) {
        Ok(()) | Err(Errno::EOPNOTSUPP | Errno::ENOSYS) => Ok(()),
        Err(e) => Err(io::Error::from(e)),
    }
}

/// The lines a save of `version` appends to the journal: one per new entry, each preceded
/// by a line break (a line torn by a crash is ended by the next append and, unreadable,
/// left out by readers). A save without an entry appends a line that is no entry,
/// `{"enregistrement":<version>}`, so that every save lengthens the journal: that is how a
/// damaged slot is told from a torn one.
fn octets_des_entrees(dossier: &Dossier, version: u64) -> Result<Vec<u8>, StorageError> {
    let mut octets = Vec::new();
    let entrees = dossier.entrees_a_ecrire();
    for e in entrees {
        octets.push(b'\n');
        serde_json::to_writer(&mut octets, e)
            .map_err(|e| StorageError::Corrupt(format!("sérialisation : {e}")))?;
    }
    if entrees.is_empty() {
        octets.extend_from_slice(format!("\n{{\"enregistrement\":{version}}}").as_bytes());
    }
    octets.push(b'\n');
    Ok(octets)
}

#[async_trait]
impl DossierStore for FsStore {
    async fn create(&self, dossier: &Dossier) -> Result<(), StorageError> {
        let s = self.clone();
        let d = dossier.clone();
        bloquant(move || {
            let _verrou = s.verrouiller(d.numero())?;
            match s.lire_fiche(d.numero()) {
                Err(StorageError::NotFound(_)) => s.ecrire(&d, 1, None),
                Ok(_) => Err(StorageError::AlreadyExists(format!(
                    "dossier {}",
                    d.numero()
                ))),
                Err(e) => Err(e),
            }
        })
        .await
    }

    async fn load(&self, numero: &NumeroDossier) -> Result<Versionne<Dossier>, StorageError> {
        self.charger(numero).await?.enregistrement(numero)
    }

    async fn save(&self, dossier: &Dossier, expected: u64) -> Result<u64, StorageError> {
        let s = self.clone();
        let d = dossier.clone();
        bloquant(move || {
            let _verrou = s.verrouiller(d.numero())?;
            let fiche = s.lire_fiche(d.numero())?;
            if fiche.version != expected {
                return Err(StorageError::Conflict(format!(
                    "dossier {} : version {expected} attendue, {} trouvée",
                    d.numero(),
                    fiche.version
                )));
            }
            s.verifier_autre(d.numero(), &fiche)?;
            s.ecrire(&d, expected + 1, Some(&fiche))?;
            Ok(expected + 1)
        })
        .await
    }

    async fn journal(&self, numero: &NumeroDossier) -> Result<Vec<Evenement>, StorageError> {
        let s = self.clone();
        let n = numero.clone();
        bloquant(move || s.lire_journal(&n)).await
    }

    async fn list(&self) -> Result<Vec<NumeroDossier>, StorageError> {
        let dir = self.dir_dossiers();
        bloquant(move || {
            let mut out = std::collections::BTreeSet::new();
            for e in fs::read_dir(&dir).map_err(|e| conv("liste des dossiers", e))? {
                let e = e.map_err(|e| conv("liste des dossiers", e))?;
                let nom = e.file_name();
                if let Some(n) = nom
                    .to_str()
                    .and_then(|n| {
                        n.strip_suffix(SUFFIXE)
                            .or_else(|| n.strip_suffix(SUFFIXE_2))
                    })
                    .and_then(|n| NumeroDossier::parse(n).ok())
                {
                    out.insert(n);
                }
            }
            Ok(out.into_iter().collect())
        })
        .await
    }
}

#[async_trait]
impl PieceStore for FsStore {
    async fn put(
        &self,
        cle: &CleContenu,
        mut contenu: FluxOctets,
    ) -> Result<ContenuStocke, StorageError> {
        let dir = self.dir_pieces(&cle.numero);
        let racine_pieces = self.racine().join("pieces");
        let id = cle.fichier.as_str().to_owned();
        let final_ = dir.join(&id);
        let tmp = dir.join(nom_temporaire(&id));
        // One blocking task for the whole write (a thread hop per chunk, then per fsync,
        // showed as context switches in the rush profile); the stream is polled from it.
        let runtime = tokio::runtime::Handle::current();
        bloquant(move || {
            verifier_pas_lien(&racine_pieces)?;
            assurer_dir(&dir)?;
            if fs::symlink_metadata(&final_).is_ok() {
                return Err(StorageError::AlreadyExists(format!(
                    "contenu {}",
                    final_.display()
                )));
            }
            let mut fichier = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(|e| conv("fichier temporaire", e))?;
            let resultat = (|| {
                // Stream to disk with bounded memory, hashing as we go.
                let mut hacheur = sha2::Sha256::new();
                let mut taille = 0u64;
                while let Some(morceau) = runtime.block_on(contenu.next()) {
                    let morceau = morceau?;
                    hacheur.update(&morceau);
                    taille += morceau.len() as u64;
                    fichier
                        .write_all(&morceau)
                        .map_err(|e| conv("écriture du contenu", e))?;
                }
                fichier
                    .sync_all()
                    .map_err(|e| conv("fsync du contenu", e))?;
                // link(2) fails if the name exists: write-once even between processes.
                fs::hard_link(&tmp, &final_)
                    .map_err(|e| conv(&format!("publication de {}", final_.display()), e))?;
                fsync_dir(&dir).map_err(|e| conv("fsync du répertoire", e))?;
                Ok(ContenuStocke {
                    taille,
                    sha256: Sha256::depuis_octets(hacheur.finalize().into()),
                })
            })();
            drop(fichier);
            let _ = fs::remove_file(&tmp);
            resultat
        })
        .await
    }

    async fn get(&self, cle: &CleContenu) -> Result<FluxOctets, StorageError> {
        let chemin = self.dir_pieces(&cle.numero).join(cle.fichier.as_str());
        let quoi = format!("contenu {}", cle.fichier);
        let q2 = quoi.clone();
        let f = bloquant(move || lire_sans_lien(&chemin).map_err(|e| conv(&q2, e))).await?;
        let f = tokio::fs::File::from_std(f);
        let flux = futures_util::stream::unfold(Some(f), move |etat| {
            let quoi = quoi.clone();
            async move {
                use tokio::io::AsyncReadExt;
                let mut f = etat?;
                let mut tampon = vec![0u8; TAILLE_MORCEAU];
                match f.read(&mut tampon).await {
                    Ok(0) => None,
                    Ok(n) => {
                        tampon.truncate(n);
                        Some((Ok(Bytes::from(tampon)), Some(f)))
                    }
                    Err(e) => Some((Err(conv(&quoi, e)), None)),
                }
            }
        });
        Ok(Box::pin(flux))
    }

    async fn delete(&self, cle: &CleContenu) -> Result<(), StorageError> {
        let dir = self.dir_pieces(&cle.numero);
        let chemin = dir.join(cle.fichier.as_str());
        bloquant(move || match fs::remove_file(&chemin) {
            Ok(()) => fsync_dir(&dir).map_err(|e| conv("fsync du répertoire", e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(conv("suppression du contenu", e)),
        })
        .await
    }

    async fn list(&self, numero: &NumeroDossier) -> Result<Vec<FichierId>, StorageError> {
        let dir = self.dir_pieces(numero);
        bloquant(move || {
            let entrees = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(conv("liste des contenus", e)),
            };
            let mut out = Vec::new();
            for e in entrees {
                let e = e.map_err(|e| conv("liste des contenus", e))?;
                if let Some(id) = e
                    .file_name()
                    .to_str()
                    .and_then(|n| FichierId::parse(n).ok())
                {
                    out.push(id);
                }
            }
            Ok(out)
        })
        .await
    }
}

#[async_trait]
impl CredentialStore for FsStore {
    async fn definir(
        &self,
        numero: &NumeroDossier,
        hash: &HashMotDePasse,
    ) -> Result<(), StorageError> {
        let dir = self.racine().join("identifiants");
        let nom = format!("{}.phc", numero.as_str());
        let phc = hash.phc().to_owned();
        bloquant(move || {
            verifier_pas_lien(&dir)?;
            ecrire_remplacer(&dir, &nom, phc.as_bytes())
        })
        .await
    }

    async fn lire(&self, numero: &NumeroDossier) -> Result<Option<HashMotDePasse>, StorageError> {
        let chemin = self
            .racine()
            .join("identifiants")
            .join(format!("{}.phc", numero.as_str()));
        let quoi = format!("identifiant {numero}");
        lecture_en_place(|| {
            let mut s = String::new();
            match lire_sans_lien(&chemin).and_then(|mut f| f.read_to_string(&mut s)) {
                Ok(_) if s.starts_with("$argon2") => Ok(Some(HashMotDePasse::depuis_phc(s))),
                Ok(_) => Err(StorageError::Corrupt(format!("{quoi} : hachage illisible"))),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(conv(&quoi, e)),
            }
        })
        .await
    }

    async fn effacer(&self, numero: &NumeroDossier) -> Result<(), StorageError> {
        let dir = self.racine().join("identifiants");
        let chemin = dir.join(format!("{}.phc", numero.as_str()));
        bloquant(move || match fs::remove_file(&chemin) {
            Ok(()) => fsync_dir(&dir).map_err(|e| conv("fsync du répertoire", e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(conv("effacement du mot de passe", e)),
        })
        .await
    }
}

const GRAINE: &str = "recepisse.ed25519";
const PUBLIEES: &str = "publiques.json";

impl FsStore {
    fn dir_cles(&self) -> PathBuf {
        self.racine().join("cles")
    }
}

/// Reads the published keys: absent is an empty list, unreadable is an error.
fn lire_publiees(dir: &Path) -> Result<Cles, StorageError> {
    let chemin = dir.join(PUBLIEES);
    let mut octets = Vec::new();
    match lire_sans_lien(&chemin).and_then(|mut f| f.read_to_end(&mut octets)) {
        Ok(_) => serde_json::from_slice(&octets)
            .map_err(|e| StorageError::Corrupt(format!("{} illisible : {e}", chemin.display()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Cles::default()),
        Err(e) => Err(conv(&chemin.display().to_string(), e)),
    }
}

/// Reads a stored seed: 64 hexadecimal characters.
fn lire_graine(chemin: &Path) -> io::Result<Result<Zeroizing<[u8; 32]>, StorageError>> {
    let mut texte = Zeroizing::new(String::new());
    lire_sans_lien(chemin)?.read_to_string(&mut texte)?;
    let mut graine = Zeroizing::new([0u8; 32]);
    Ok(hex::decode_to_slice(texte.trim(), &mut *graine)
        .map(|()| graine)
        .map_err(|_| {
            StorageError::Corrupt(format!(
                "{} : clé illisible (64 caractères hexadécimaux attendus)",
                chemin.display()
            ))
        }))
}

#[async_trait]
impl KeyStore for FsStore {
    async fn graine_ou_creer(
        &self,
        proposee: Zeroizing<[u8; 32]>,
    ) -> Result<Zeroizing<[u8; 32]>, StorageError> {
        let dir = self.dir_cles();
        bloquant(move || {
            assurer_dir(&dir)?;
            let chemin = dir.join(GRAINE);
            let quoi = chemin.display().to_string();
            match lire_graine(&chemin) {
                Ok(lue) => return lue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(conv(&quoi, e)),
            }
            // Written whole and synced under a temporary name, then linked: link(2) fails
            // if another instance published its seed first, and then that one is used.
            let tmp = dir.join(nom_temporaire(GRAINE));
            let ecrit = (|| {
                let texte = Zeroizing::new(hex::encode(*proposee) + "\n");
                ecrire_synchronise(&tmp, texte.as_bytes())?;
                match fs::hard_link(&tmp, &chemin) {
                    Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                    _ => {}
                }
                fsync_dir(&dir)
            })();
            let _ = fs::remove_file(&tmp);
            ecrit.map_err(|e| conv(&quoi, e))?;
            lire_graine(&chemin).map_err(|e| conv(&quoi, e))?
        })
        .await
    }

    async fn publiees(&self) -> Result<Cles, StorageError> {
        let dir = self.dir_cles();
        bloquant(move || lire_publiees(&dir)).await
    }

    async fn publier(&self, cle: ClePublique) -> Result<Cles, StorageError> {
        let dir = self.dir_cles();
        bloquant(move || {
            assurer_dir(&dir)?;
            // One writer at a time, between processes too; readers need no lock (the list
            // is replaced with rename(2)).
            let verrou = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(dir.join(".verrou"))
                .map_err(|e| conv("verrou des clés", e))?;
            verrou.lock().map_err(|e| conv("verrou des clés", e))?;
            let mut cles = lire_publiees(&dir)?;
            if !cles.cles.iter().any(|c| c.id == cle.id) {
                cles.cles.push(cle);
                let texte = serde_json::to_vec_pretty(&cles)
                    .map_err(|e| StorageError::Corrupt(format!("clés publiées : {e}")))?;
                ecrire_remplacer(&dir, PUBLIEES, &texte)?;
            }
            Ok(cles)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cadre_detecte_troncature_et_alteration() {
        let c = encadrer(b"{\"a\":1}");
        assert_eq!(desencadrer("x", &c).unwrap(), b"{\"a\":1}");
        for n in 0..c.len() {
            assert!(desencadrer("x", &c[..n]).is_err(), "truncated at {n}");
        }
        let mut alt = c.clone();
        let l = alt.len();
        alt[l - 2] ^= 1;
        assert!(matches!(
            desencadrer("x", &alt),
            Err(StorageError::Corrupt(_))
        ));
    }
}
