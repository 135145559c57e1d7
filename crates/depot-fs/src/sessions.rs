//! Sessions and throttling counts on the data directory: a restart of the server keeps every
//! candidate logged in, and several processes on one machine share the counts.
//!
//! ```text
//! <data>/sessions/<espece>-<SHA-256 of the token, hex>   one file per session (JSON: holder,
//!                                    creation, CSRF); its modification time is the last use
//! <data>/compteurs/<SHA-256 of the key, hex>             one file per throttling key (JSON
//!                                    list of instants), rewritten under flock(2)
//! ```
//!
//! - A session file is written once (temporary file, rename) and **not synced**: a login
//!   survives a restart or a crash of the server (the page cache keeps it), not a crash of
//!   the machine in the seconds that follow it — the candidate then logs in again. Two
//!   flushes per login were ~10 % of the login's time besides argon2 in the deadline rush
//!   (issue 20). A file a crash left empty or torn reads as no session (fail closed).
//!   A logout, by contrast, is durable (unlink, then fsync of the directory): a machine
//!   crash must not bring a closed session back. Its last use is its mtime:
//!   [`SessionStore::toucher`] sets it on the open file (`futimens`), which needs no
//!   rewrite, no fsync, and cannot bring back a file a logout removed.
//! - A counter file is read and rewritten in place under an exclusive `flock`, the keys of
//!   one call locked in the order of their file names (no deadlock between two calls), in
//!   one visit to a blocking thread: lock, read, apply the change, write, unlock — never a
//!   lock held while the caller's task waits to run again. Its
//!   loss in a crash forgets a few failed attempts: it is not synced. A file emptied is
//!   removed while locked; a caller that was waiting for its lock sees it unlinked and opens
//!   the name again.
//! - No name derives from what a client typed: keys and tokens are hashed.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use depot_core::limitation::{CompteurStore, Instants, Modification};
use depot_core::session::{EspeceSession, SessionStockee, SessionStore};
use depot_core::{Sha256, StorageError};

use crate::{
    FsStore, assurer_dir, bloquant, conv, fsync_dir, lecture_en_place, lire_sans_lien,
    nom_temporaire,
};

#[derive(serde::Serialize, serde::Deserialize)]
struct FichierSession {
    titulaire: String,
    creee: DateTime<Utc>,
    csrf: String,
}

fn nom_session(espece: EspeceSession, empreinte: &Sha256) -> String {
    format!("{}-{}", espece.code(), empreinte.hex())
}

impl FsStore {
    fn dir_sessions(&self) -> PathBuf {
        self.racine().join("sessions")
    }

    fn dir_compteurs(&self) -> PathBuf {
        self.racine().join("compteurs")
    }
}

fn lire_session(chemin: &Path) -> Result<Option<SessionStockee>, StorageError> {
    let mut f = match lire_sans_lien(chemin) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(conv("lecture de session", e)),
    };
    let vue = f
        .metadata()
        .and_then(|m| m.modified())
        .map_err(|e| conv("lecture de session", e))?;
    let mut octets = Vec::new();
    f.read_to_end(&mut octets)
        .map_err(|e| conv("lecture de session", e))?;
    // Written without fsync: a machine crash may leave it empty or torn, which is no
    // session (the holder logs in again), never an error that locks them out.
    let Ok(s) = serde_json::from_slice::<FichierSession>(&octets) else {
        return Ok(None);
    };
    Ok(Some(SessionStockee {
        titulaire: s.titulaire,
        creee: s.creee,
        vue: DateTime::<Utc>::from(vue),
        csrf: s.csrf,
    }))
}

#[async_trait]
impl SessionStore for FsStore {
    async fn creer(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
        session: &SessionStockee,
    ) -> Result<(), StorageError> {
        let dir = self.dir_sessions();
        let nom = nom_session(espece, empreinte);
        let corps = serde_json::to_vec(&FichierSession {
            titulaire: session.titulaire.clone(),
            creee: session.creee,
            csrf: session.csrf.clone(),
        })
        .map_err(|e| StorageError::Unavailable(format!("session : {e}")))?;
        let vue = SystemTime::from(session.vue);
        bloquant(move || {
            assurer_dir(&dir)?;
            let tmp = dir.join(nom_temporaire(&nom));
            let r = (|| {
                let mut f = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&tmp)?;
                f.write_all(&corps)?;
                f.set_modified(vue)?;
                // Not synced: see the module's documentation.
                fs::rename(&tmp, dir.join(&nom))
            })();
            if r.is_err() {
                let _ = fs::remove_file(&tmp);
            }
            r.map_err(|e| conv("écriture de session", e))
        })
        .await
    }

    async fn lire(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
    ) -> Result<Option<SessionStockee>, StorageError> {
        let chemin = self.dir_sessions().join(nom_session(espece, empreinte));
        lecture_en_place(|| lire_session(&chemin)).await
    }

    async fn toucher(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
        vue: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let chemin = self.dir_sessions().join(nom_session(espece, empreinte));
        let vue = SystemTime::from(vue);
        bloquant(move || {
            let f = match lire_sans_lien(&chemin) {
                Ok(f) => f,
                // Logged out meanwhile: stays logged out.
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(conv("session", e)),
            };
            let avant = f
                .metadata()
                .and_then(|m| m.modified())
                .map_err(|e| conv("session", e))?;
            if vue > avant {
                f.set_modified(vue).map_err(|e| conv("session", e))?;
            }
            Ok(())
        })
        .await
    }

    async fn supprimer(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
    ) -> Result<(), StorageError> {
        let dir = self.dir_sessions();
        let chemin = dir.join(nom_session(espece, empreinte));
        bloquant(move || match fs::remove_file(&chemin) {
            // Durable: a machine crash must not bring a closed session back.
            Ok(()) => fsync_dir(&dir).map_err(|e| conv("fin de session", e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(conv("fin de session", e)),
        })
        .await
    }

    async fn supprimer_titulaire(
        &self,
        espece: EspeceSession,
        titulaire: &str,
    ) -> Result<u64, StorageError> {
        let dir = self.dir_sessions();
        let titulaire = titulaire.to_owned();
        bloquant(move || {
            let mut n = 0;
            for chemin in fichiers_de_session(&dir, espece.code())? {
                if let Ok(Some(s)) = lire_session(&chemin)
                    && s.titulaire == titulaire
                {
                    match fs::remove_file(&chemin) {
                        Ok(()) => n += 1,
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => return Err(conv("fin de session", e)),
                    }
                }
            }
            if n > 0 {
                fsync_dir(&dir).map_err(|e| conv("fin de session", e))?;
            }
            Ok(n)
        })
        .await
    }

    async fn purger(
        &self,
        inactive_avant: DateTime<Utc>,
        creee_avant: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        let dir = self.dir_sessions();
        bloquant(move || {
            let mut n = 0;
            for chemin in fichiers_de_session(&dir, "")? {
                let perimee = match lire_session(&chemin) {
                    Ok(Some(s)) => !s.ouverte(inactive_avant, creee_avant),
                    // Gone meanwhile (nothing to remove), or left empty or torn by a crash
                    // of the machine (no session, never usable again).
                    Ok(None) => true,
                    // What cannot be read can never be used again.
                    Err(_) => true,
                };
                if perimee && fs::remove_file(&chemin).is_ok() {
                    n += 1;
                }
            }
            Ok(n)
        })
        .await
    }

    async fn compter(
        &self,
        espece: EspeceSession,
        inactive_avant: DateTime<Utc>,
        creee_avant: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        let dir = self.dir_sessions();
        let prefixe = format!("{}-", espece.code());
        bloquant(move || {
            Ok(fichiers_de_session(&dir, &prefixe)?
                .iter()
                .filter(|c| {
                    matches!(lire_session(c), Ok(Some(s)) if s.ouverte(inactive_avant, creee_avant))
                })
                .count() as u64)
        })
        .await
    }
}

/// The session files of `dir` whose name starts with `prefixe` (temporary files, named
/// with a leading dot, left out); none when the directory does not exist yet.
fn fichiers_de_session(dir: &Path, prefixe: &str) -> Result<Vec<PathBuf>, StorageError> {
    let entrees = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(conv("lecture des sessions", e)),
    };
    Ok(entrees
        .flatten()
        .filter(|e| {
            let nom = e.file_name();
            let nom = nom.to_string_lossy();
            !nom.starts_with('.') && nom.starts_with(prefixe)
        })
        .map(|e| e.path())
        .collect())
}

/// A counter file opened and locked; `None` content when new.
struct Verrouille {
    chemin: PathBuf,
    fichier: File,
    instants: Instants,
}

fn verrouiller_compteur(chemin: &Path) -> Result<Verrouille, StorageError> {
    loop {
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(chemin)
            .map_err(|e| conv("compteur", e))?;
        f.lock().map_err(|e| conv("verrou du compteur", e))?;
        // Removed by the holder we waited for: open the name again.
        if f.metadata().map_err(|e| conv("compteur", e))?.nlink() == 0 {
            continue;
        }
        let mut octets = Vec::new();
        f.read_to_end(&mut octets)
            .map_err(|e| conv("lecture du compteur", e))?;
        let instants = if octets.is_empty() {
            Vec::new()
        } else {
            serde_json::from_slice(&octets)
                .map_err(|e| StorageError::Corrupt(format!("compteur illisible : {e}")))?
        };
        return Ok(Verrouille {
            chemin: chemin.to_path_buf(),
            fichier: f,
            instants,
        });
    }
}

fn ecrire_compteur(v: &mut Verrouille) -> Result<(), StorageError> {
    if v.instants.is_empty() {
        return match fs::remove_file(&v.chemin) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(conv("compteur", e)),
        };
    }
    let octets =
        serde_json::to_vec(&v.instants).map_err(|e| StorageError::Unavailable(e.to_string()))?;
    let f = &mut v.fichier;
    (|| {
        f.set_len(0)?;
        f.rewind()?;
        f.write_all(&octets)
    })()
    .map_err(|e| conv("écriture du compteur", e))
}

#[async_trait]
impl CompteurStore for FsStore {
    async fn modifier(&self, cles: &[String], mut f: Modification) -> Result<(), StorageError> {
        let dir = self.dir_compteurs();
        // One file per distinct key, named by its hash.
        let noms: Vec<String> = cles
            .iter()
            .map(|c| Sha256::de(c.as_bytes()).hex())
            .collect();
        // Locked, read, changed and written in one visit to a blocking thread: the locks
        // are never held while this task waits to be scheduled again.
        bloquant(move || {
            assurer_dir(&dir)?;
            // Locked in name order: two calls never wait on each other in a cycle.
            let ordre: std::collections::BTreeSet<&String> = noms.iter().collect();
            let mut verrous = ordre
                .into_iter()
                .map(|n| verrouiller_compteur(&dir.join(n)).map(|v| (n.clone(), v)))
                .collect::<Result<BTreeMap<_, _>, _>>()?;
            let mut listes: Vec<Instants> = noms
                .iter()
                .map(|n| {
                    verrous
                        .get(n)
                        .map(|v| v.instants.clone())
                        .unwrap_or_default()
                })
                .collect();
            f(&mut listes);
            // A key named twice keeps what `f` left in its last position.
            for (n, l) in noms.iter().zip(listes) {
                if let Some(v) = verrous.get_mut(n) {
                    v.instants = l;
                }
            }
            for v in verrous.values_mut() {
                ecrire_compteur(v)?;
            }
            // Dropping the files releases the locks.
            Ok(())
        })
        .await
    }

    async fn nettoyer(&self, avant: DateTime<Utc>) -> Result<u64, StorageError> {
        let dir = self.dir_compteurs();
        bloquant(move || {
            let entrees = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
                Err(e) => return Err(conv("lecture des compteurs", e)),
            };
            let mut n = 0;
            for e in entrees.flatten() {
                let mut v = verrouiller_compteur(&e.path())?;
                if v.instants.last().is_none_or(|t| *t < avant) {
                    v.instants.clear();
                    ecrire_compteur(&mut v)?;
                    n += 1;
                }
            }
            Ok(n)
        })
        .await
    }
}
