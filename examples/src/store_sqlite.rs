//! depot-core's storage ports on SQLite: what a CDG does to keep dossiers in its own
//! database. The compare-and-swap is one `UPDATE … WHERE version = ?`, in the same
//! transaction as the journal's new entries (rows never updated); write-once contents are an
//! `INSERT` on a primary key. It passes `depot_core::testkit`'s conformance suite.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use depot_core::ports::{CleContenu, ContenuStocke, FluxOctets, Versionne, flux_de, lire_tout};
use depot_core::{
    CredentialStore, Dossier, DossierStore, Evenement, FichierId, HashMotDePasse, NumeroDossier,
    PieceStore, Sha256, StorageError,
};
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

/// Dossiers, contents and password hashes in one SQLite database.
#[derive(Clone)]
pub struct StoreSqlite(Arc<Mutex<Connection>>);

fn erreur(quoi: &str, e: rusqlite::Error) -> StorageError {
    match e.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => StorageError::AlreadyExists(quoi.to_owned()),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StorageError::Unavailable(format!("{quoi} : base occupée"))
        }
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied) => {
            StorageError::Denied(format!("{quoi} : {e}"))
        }
        _ => StorageError::Unavailable(format!("{quoi} : {e}")),
    }
}

impl StoreSqlite {
    /// Opens (or creates) the database at `chemin` (`":memory:"` for a private one).
    pub fn open(chemin: &str) -> Result<Self, StorageError> {
        let c = Connection::open(chemin).map_err(|e| erreur("ouverture", e))?;
        c.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS dossiers (numero TEXT PRIMARY KEY, version INTEGER NOT NULL, json TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS journal (numero TEXT NOT NULL, position INTEGER NOT NULL, empreinte TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (numero, position, empreinte));
             CREATE TABLE IF NOT EXISTS contenus (numero TEXT NOT NULL, id TEXT NOT NULL, octets BLOB NOT NULL, PRIMARY KEY (numero, id));
             CREATE TABLE IF NOT EXISTS identifiants (numero TEXT PRIMARY KEY, phc TEXT NOT NULL);",
        )
        .map_err(|e| erreur("schéma", e))?;
        Ok(Self(Arc::new(Mutex::new(c))))
    }

    fn avec<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let c = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&c)
    }
}

fn json(d: &Dossier) -> Result<String, StorageError> {
    serde_json::to_string(d).map_err(|e| StorageError::Corrupt(e.to_string()))
}

/// Appends the dossier's new journal entries (inside the caller's transaction).
fn journaliser(c: &Connection, d: &Dossier) -> Result<(), StorageError> {
    for e in d.entrees_a_ecrire() {
        let j = serde_json::to_string(e).map_err(|x| StorageError::Corrupt(x.to_string()))?;
        c.execute(
            "INSERT OR IGNORE INTO journal (numero, position, empreinte, json) VALUES (?1, ?2, ?3, ?4)",
            params![d.numero().as_str(), e.position as i64, e.empreinte().hex(), j],
        )
        .map_err(|x| erreur("journal", x))?;
    }
    Ok(())
}

#[async_trait]
impl DossierStore for StoreSqlite {
    async fn create(&self, dossier: &Dossier) -> Result<(), StorageError> {
        let j = json(dossier)?;
        self.avec(|c| {
            let t = c
                .unchecked_transaction()
                .map_err(|e| erreur("transaction", e))?;
            t.execute(
                "INSERT INTO dossiers (numero, version, json) VALUES (?1, 1, ?2)",
                params![dossier.numero().as_str(), j],
            )
            .map_err(|e| erreur(&format!("dossier {}", dossier.numero()), e))?;
            journaliser(&t, dossier)?;
            t.commit().map_err(|e| erreur("transaction", e))
        })
    }

    async fn load(&self, numero: &NumeroDossier) -> Result<Versionne<Dossier>, StorageError> {
        let ligne: Option<(i64, String)> = self.avec(|c| {
            c.query_row(
                "SELECT version, json FROM dossiers WHERE numero = ?1",
                [numero.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| erreur("lecture", e))
        })?;
        let (version, j) =
            ligne.ok_or_else(|| StorageError::NotFound(format!("dossier {numero}")))?;
        Ok(Versionne {
            valeur: serde_json::from_str(&j)
                .map_err(|e| StorageError::Corrupt(format!("dossier {numero} : {e}")))?,
            version: u64::try_from(version)
                .map_err(|_| StorageError::Corrupt("version négative".into()))?,
        })
    }

    async fn save(&self, dossier: &Dossier, expected: u64) -> Result<u64, StorageError> {
        let j = json(dossier)?;
        let n = dossier.numero().as_str();
        self.avec(|c| {
            let t = c
                .unchecked_transaction()
                .map_err(|e| erreur("transaction", e))?;
            let modifies = t
                .execute("UPDATE dossiers SET version = version + 1, json = ?1 WHERE numero = ?2 AND version = ?3", params![j, n, expected as i64])
                .map_err(|e| erreur("écriture", e))?;
            if modifies == 1 {
                journaliser(&t, dossier)?;
                t.commit().map_err(|e| erreur("transaction", e))?;
                return Ok(expected + 1);
            }
            let existe: bool = c
                .query_row("SELECT 1 FROM dossiers WHERE numero = ?1", [n], |_| Ok(true))
                .optional()
                .map_err(|e| erreur("lecture", e))?
                .unwrap_or(false);
            Err(if existe {
                StorageError::Conflict(format!("dossier {n} : version {expected} périmée"))
            } else {
                StorageError::NotFound(format!("dossier {n}"))
            })
        })
    }

    async fn list(&self) -> Result<Vec<NumeroDossier>, StorageError> {
        self.avec(|c| {
            let mut s = c
                .prepare("SELECT numero FROM dossiers")
                .map_err(|e| erreur("liste", e))?;
            let lignes = s
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(|e| erreur("liste", e))?;
            Ok(lignes
                .filter_map(|l| l.ok())
                .filter_map(|n| NumeroDossier::parse(&n).ok())
                .collect())
        })
    }

    async fn journal(&self, numero: &NumeroDossier) -> Result<Vec<Evenement>, StorageError> {
        self.avec(|c| {
            let mut s = c
                .prepare("SELECT json FROM journal WHERE numero = ?1")
                .map_err(|e| erreur("journal", e))?;
            let lignes = s
                .query_map([numero.as_str()], |r| r.get::<_, String>(0))
                .map_err(|e| erreur("journal", e))?;
            lignes
                .map(|l| {
                    let j = l.map_err(|e| erreur("journal", e))?;
                    serde_json::from_str(&j)
                        .map_err(|e| StorageError::Corrupt(format!("journal de {numero} : {e}")))
                })
                .collect()
        })
    }
}

#[async_trait]
impl PieceStore for StoreSqlite {
    async fn put(
        &self,
        cle: &CleContenu,
        contenu: FluxOctets,
    ) -> Result<ContenuStocke, StorageError> {
        // SQLite stores a BLOB whole: read the stream (bounded by the piece's size limit).
        let octets = lire_tout(contenu).await?;
        let stocke = ContenuStocke {
            taille: octets.len() as u64,
            sha256: Sha256::de(&octets),
        };
        self.avec(|c| {
            c.execute(
                "INSERT INTO contenus (numero, id, octets) VALUES (?1, ?2, ?3)",
                params![cle.numero.as_str(), cle.fichier.as_str(), octets],
            )
            .map(|_| stocke)
            .map_err(|e| erreur(&format!("contenu {}", cle.fichier), e))
        })
    }

    async fn get(&self, cle: &CleContenu) -> Result<FluxOctets, StorageError> {
        let octets: Option<Vec<u8>> = self.avec(|c| {
            c.query_row(
                "SELECT octets FROM contenus WHERE numero = ?1 AND id = ?2",
                [cle.numero.as_str(), cle.fichier.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| erreur("lecture", e))
        })?;
        octets
            .map(|o| flux_de(Bytes::from(o)))
            .ok_or_else(|| StorageError::NotFound(format!("contenu {}", cle.fichier)))
    }

    async fn delete(&self, cle: &CleContenu) -> Result<(), StorageError> {
        self.avec(|c| {
            c.execute(
                "DELETE FROM contenus WHERE numero = ?1 AND id = ?2",
                [cle.numero.as_str(), cle.fichier.as_str()],
            )
            .map(|_| ())
            .map_err(|e| erreur("suppression", e))
        })
    }

    async fn list(&self, numero: &NumeroDossier) -> Result<Vec<FichierId>, StorageError> {
        self.avec(|c| {
            let mut s = c
                .prepare("SELECT id FROM contenus WHERE numero = ?1")
                .map_err(|e| erreur("liste", e))?;
            let lignes = s
                .query_map([numero.as_str()], |r| r.get::<_, String>(0))
                .map_err(|e| erreur("liste", e))?;
            Ok(lignes
                .filter_map(|l| l.ok())
                .filter_map(|i| FichierId::parse(&i).ok())
                .collect())
        })
    }
}

#[async_trait]
impl CredentialStore for StoreSqlite {
    async fn definir(
        &self,
        numero: &NumeroDossier,
        hash: &HashMotDePasse,
    ) -> Result<(), StorageError> {
        self.avec(|c| {
            c.execute(
                "INSERT INTO identifiants (numero, phc) VALUES (?1, ?2) ON CONFLICT(numero) DO UPDATE SET phc = excluded.phc",
                [numero.as_str(), hash.phc()],
            )
            .map(|_| ())
            .map_err(|e| erreur("identifiant", e))
        })
    }

    async fn lire(&self, numero: &NumeroDossier) -> Result<Option<HashMotDePasse>, StorageError> {
        self.avec(|c| {
            c.query_row(
                "SELECT phc FROM identifiants WHERE numero = ?1",
                [numero.as_str()],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map(|o| o.map(HashMotDePasse::depuis_phc))
            .map_err(|e| erreur("identifiant", e))
        })
    }

    async fn effacer(&self, numero: &NumeroDossier) -> Result<(), StorageError> {
        self.avec(|c| {
            c.execute(
                "DELETE FROM identifiants WHERE numero = ?1",
                [numero.as_str()],
            )
            .map(|_| ())
            .map_err(|e| erreur("identifiant", e))
        })
    }
}
