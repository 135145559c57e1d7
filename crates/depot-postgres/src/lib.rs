//! # depot-postgres — depot's records and state on PostgreSQL
//!
//! [`PgStore`] implements depot-core's [`DossierStore`], [`CredentialStore`], [`KeyStore`],
//! [`SessionStore`] and [`CompteurStore`] on one PostgreSQL database, so that several
//! depot-server instances serve the same concours: whichever instance a request reaches
//! sees the same dossiers, the same sessions, the same throttling counts and signs with the
//! same key. File contents stay on S3 (depot-s3).
//!
//! ## The client, chosen
//!
//! `tokio-postgres` with a `deadpool-postgres` pool: plain SQL strings checked by the tests
//! against a real server, no compile-time database (sqlx's macros need one at build time,
//! or a committed cache), a small dependency tree, and the PostgreSQL types depot needs
//! (`timestamptz`, `jsonb`, arrays) through its chrono and serde_json features.
//! Connections are made without TLS unless the URL says `sslmode=require`: then with TLS
//! (rustls), the server's certificate and name verified against the authorities given in
//! [`ConfigPg::ca`] — a database reached across a shared network. Without it, use a Unix
//! socket, the loopback or a private network.
//!
//! ## How each contract is kept
//!
//! - **Records**: one row per dossier, the record as `jsonb` (the same JSON as depot-fs'
//!   and depot-s3's records), a `version` column, and columns copied from the record for
//!   the staff's search (concours, voie, état, closure instant). `save` is one
//!   `UPDATE … WHERE numero = $1 AND version = $2`: compare-and-swap in one statement; no
//!   row updated is `Conflict` (or `NotFound`).
//! - **Journals**: one row per entry (`journal`), inserted by the same statement as the
//!   record (a data-modifying `WITH`: the entries go in only if the record's write did),
//!   never updated.
//! - **Signing key**: `INSERT … ON CONFLICT DO NOTHING` then a read: the first instance to
//!   start creates it, every other reads the same one.
//! - **Sessions**: the token's SHA-256 as key; `toucher` is `vue = GREATEST(vue, $)`, an
//!   update of an existing row that cannot bring back a deleted one.
//! - **Throttling counts**: one transaction that creates the missing rows, locks the rows
//!   of the call's keys in key order (`SELECT … FOR UPDATE`), and writes them back; a
//!   deadlock or serialisation failure runs it again.
//! - **Migrations** ([`migrer`](PgStore::migrer)) are numbered SQL files embedded in the binary, applied in
//!   order in one transaction under an advisory lock (instances starting together apply
//!   them once), and recorded in `depot_migrations`.
//!
//! The connection URL may hold a password: this crate never logs or displays it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use depot_core::limitation::{CompteurStore, Instants, Modification};
use depot_core::ports::Versionne;
use depot_core::recherche::{Filtre, Indexeur, Page, Recherche};
use depot_core::session::{EspeceSession, SessionStockee, SessionStore};
use depot_core::{
    ClePublique, Cles, CredentialStore, Dossier, DossierStore, EtatLu, Evenement, HashMotDePasse,
    KeyStore, NumeroDossier, Sha256, StorageError,
};
use tokio_postgres::NoTls;
use zeroize::Zeroizing;

/// The migrations, in order: (number, name, SQL).
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (2, "journal", include_str!("../migrations/0002_journal.sql")),
];

/// How to reach the database.
#[derive(Clone)]
pub struct ConfigPg {
    /// `postgres://user:password@host:port/base` (or key=value form).
    pub url: String,
    /// A schema of its own (created if missing); `None`: the user's default (`public`).
    /// Letters, digits and `_` only.
    pub schema: Option<String>,
    /// Connections in the pool.
    pub connexions: usize,
    /// The certificate authorities (PEM) that sign the server's certificate. Used when the
    /// URL asks for TLS (`sslmode=require`), which then verifies the server's certificate
    /// and name; required with it.
    pub ca: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for ConfigPg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: never shown.
        f.debug_struct("ConfigPg")
            .field("schema", &self.schema)
            .field("connexions", &self.connexions)
            .field("ca", &self.ca)
            .finish_non_exhaustive()
    }
}

/// The configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ErreurConfigPg {
    /// The URL does not parse (its text is not repeated: it may hold a password).
    #[error(
        "adresse PostgreSQL illisible (format attendu : postgres://utilisateur@hôte:port/base)"
    )]
    Url,
    /// A schema name with other characters than letters, digits and `_`.
    #[error("nom de schéma invalide « {0} » (lettres, chiffres et _ seulement)")]
    Schema(String),
    /// TLS asked without the authorities to check the server with, or unreadable ones.
    #[error("TLS vers PostgreSQL : {0}")]
    Tls(String),
    /// The pool could not be built.
    #[error("pool de connexions PostgreSQL : {0}")]
    Pool(String),
}

/// The TLS connector that trusts the authorities of `ca` (PEM) only.
fn connecteur_tls(
    ca: Option<&std::path::Path>,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect, ErreurConfigPg> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let ca = ca.ok_or_else(|| {
        ErreurConfigPg::Tls(
            "sslmode=require demande les autorités qui signent le certificat du serveur (--postgres-ca FICHIER.pem)".to_owned(),
        )
    })?;
    let mut racines = rustls::RootCertStore::empty();
    let certificats: Vec<_> = CertificateDer::pem_file_iter(ca)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| ErreurConfigPg::Tls(format!("{} : {e}", ca.display())))?;
    for c in certificats {
        racines
            .add(c)
            .map_err(|e| ErreurConfigPg::Tls(format!("{} : {e}", ca.display())))?;
    }
    if racines.is_empty() {
        return Err(ErreurConfigPg::Tls(format!(
            "{} : aucun certificat",
            ca.display()
        )));
    }
    let fournisseur = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(fournisseur)
        .with_safe_default_protocol_versions()
        .map_err(|e| ErreurConfigPg::Tls(e.to_string()))?
        .with_root_certificates(racines)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// depot's stores on PostgreSQL. Cheap to clone (a pool).
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    schema: Option<String>,
    indexeur: Option<std::sync::Arc<Indexeur>>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

fn schema_valide(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        && !s.as_bytes()[0].is_ascii_digit()
}

/// A PostgreSQL error as depot understands it; never the statement's parameters.
fn conv(quoi: &str, e: tokio_postgres::Error) -> StorageError {
    use tokio_postgres::error::SqlState;
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => {
            StorageError::AlreadyExists(format!("{quoi} : existe déjà"))
        }
        Some(c) if *c == SqlState::INSUFFICIENT_PRIVILEGE => {
            StorageError::Denied(format!("{quoi} : {e}"))
        }
        _ => StorageError::Unavailable(format!("{quoi} : PostgreSQL : {e}")),
    }
}

fn conv_pool(e: deadpool_postgres::PoolError) -> StorageError {
    StorageError::Unavailable(format!("PostgreSQL injoignable : {e}"))
}

fn reessayable(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    e.code().is_some_and(|c| {
        *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE
    })
}

impl PgStore {
    /// A pool on the database (no connection is made before the first use).
    pub fn new(config: &ConfigPg) -> Result<Self, ErreurConfigPg> {
        let mut pg: tokio_postgres::Config = config.url.parse().map_err(|_| ErreurConfigPg::Url)?;
        if let Some(s) = &config.schema {
            if !schema_valide(s) {
                return Err(ErreurConfigPg::Schema(s.clone()));
            }
            pg.options(format!("-c search_path={s}"));
        }
        pg.application_name("depot");
        let gestion = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        // TLS when the URL requires it (`sslmode=require`), with the server's certificate
        // and name verified against `ca`; otherwise none is attempted (`prefer`, the
        // default, would accept a server whose certificate nobody checked).
        let manager = if pg.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
            Manager::from_config(pg, connecteur_tls(config.ca.as_deref())?, gestion)
        } else {
            pg.ssl_mode(tokio_postgres::config::SslMode::Disable);
            Manager::from_config(pg, NoTls, gestion)
        };
        let pool = Pool::builder(manager)
            .max_size(config.connexions.max(1))
            .wait_timeout(Some(std::time::Duration::from_secs(10)))
            .create_timeout(Some(std::time::Duration::from_secs(10)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| ErreurConfigPg::Pool(e.to_string()))?;
        Ok(Self {
            pool,
            schema: config.schema.clone(),
            indexeur: None,
        })
    }

    /// The same store, writing the staff's search index with each record (computed by
    /// depot-core with the hosted concours) and answering [`Recherche`].
    pub fn avec_indexeur(mut self, indexeur: Indexeur) -> Self {
        self.indexeur = Some(std::sync::Arc::new(indexeur));
        self
    }

    /// Indexes again the rows whose index is missing or was computed with other concours
    /// settings (a deadline moved); returns how many. A row saved meanwhile keeps the index
    /// its save wrote.
    pub async fn preparer_index(&self) -> Result<usize, StorageError> {
        let Some(ix) = &self.indexeur else {
            return Ok(0);
        };
        let c = self.client().await?;
        let meta: Option<String> = c
            .query_opt("SELECT empreinte FROM index_meta", &[])
            .await
            .map_err(|e| conv("index", e))?
            .map(|l| l.get(0));
        let tout = meta.as_deref() != Some(ix.empreinte());
        let mut n = 0;
        let mut apres = String::new();
        loop {
            let lignes = c
                .query(
                    "SELECT numero, version, enregistrement FROM dossiers
                     WHERE numero > $1 AND ($2 OR etat IS NULL) ORDER BY numero LIMIT 500",
                    &[&apres, &tout],
                )
                .await
                .map_err(|e| conv("index", e))?;
            let Some(derniere) = lignes.last() else { break };
            apres = derniere.get(0);
            for l in &lignes {
                let numero: &str = l.get(0);
                let version: i64 = l.get(1);
                let Ok(d) = serde_json::from_value::<Dossier>(l.get(2)) else {
                    tracing::warn!(numero, "index : dossier illisible, laissé hors index");
                    continue;
                };
                let k = colonnes(Some(ix), &d);
                c.execute(
                    "UPDATE dossiers SET voie = $3, etat = $4, limite = $5, cloture_le = $6, pieces_attendues = $7
                     WHERE numero = $1 AND version = $2",
                    &[&numero, &version, &k.voie, &k.etat, &k.limite, &k.cloture_le, &k.pieces_attendues],
                )
                .await
                .map_err(|e| conv("index", e))?;
                n += 1;
            }
        }
        c.execute(
            "INSERT INTO index_meta (empreinte) VALUES ($1)
             ON CONFLICT (unique_ligne) DO UPDATE SET empreinte = EXCLUDED.empreinte",
            &[&ix.empreinte()],
        )
        .await
        .map_err(|e| conv("index", e))?;
        Ok(n)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StorageError> {
        self.pool.get().await.map_err(conv_pool)
    }

    /// Applies the migrations not applied yet, in order, in one transaction under an
    /// advisory lock; returns the numbers applied now (empty when up to date).
    pub async fn migrer(&self) -> Result<Vec<i32>, StorageError> {
        let mut c = self.client().await?;
        let t = c.transaction().await.map_err(|e| conv("migrations", e))?;
        t.execute("SELECT pg_advisory_xact_lock(4242424242)", &[])
            .await
            .map_err(|e| conv("migrations", e))?;
        if let Some(s) = &self.schema {
            // Validated at construction: letters, digits and _.
            t.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {s}"))
                .await
                .map_err(|e| conv("schéma", e))?;
        }
        t.batch_execute(
            "CREATE TABLE IF NOT EXISTS depot_migrations (
                version integer PRIMARY KEY,
                nom text NOT NULL,
                appliquee_le timestamptz NOT NULL DEFAULT now())",
        )
        .await
        .map_err(|e| conv("migrations", e))?;
        let faites: Vec<i32> = t
            .query("SELECT version FROM depot_migrations", &[])
            .await
            .map_err(|e| conv("migrations", e))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut appliquees = Vec::new();
        for (n, nom, sql) in MIGRATIONS {
            if faites.contains(n) {
                continue;
            }
            t.batch_execute(sql)
                .await
                .map_err(|e| conv(&format!("migration {n} ({nom})"), e))?;
            t.execute(
                "INSERT INTO depot_migrations (version, nom) VALUES ($1, $2)",
                &[n, nom],
            )
            .await
            .map_err(|e| conv("migrations", e))?;
            appliquees.push(*n);
        }
        if let Some(plus) = faites
            .iter()
            .max()
            .filter(|m| **m > MIGRATIONS.len() as i32)
        {
            return Err(StorageError::Corrupt(format!(
                "la base est à la migration {plus}, plus récente que cette version de depot ({})",
                MIGRATIONS.len()
            )));
        }
        t.commit().await.map_err(|e| conv("migrations", e))?;
        Ok(appliquees)
    }

    /// Whether this store's connections are encrypted (TLS), as the server sees them.
    pub async fn session_chiffree(&self) -> Result<bool, StorageError> {
        let ligne = self
            .client()
            .await?
            .query_one(
                "SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)",
                &[],
            )
            .await
            .map_err(|e| conv("TLS", e))?;
        Ok(ligne.get(0))
    }

    /// Checks that the database answers (readiness).
    pub async fn sonder(&self) -> Result<(), StorageError> {
        self.client()
            .await?
            .simple_query("SELECT 1")
            .await
            .map_err(|e| conv("sonde", e))?;
        Ok(())
    }
}

/// The index columns of a record (NULL without an indexer).
struct Colonnes {
    concours: String,
    voie: Option<&'static str>,
    etat: Option<&'static str>,
    limite: Option<DateTime<Utc>>,
    cloture_le: Option<DateTime<Utc>>,
    pieces_attendues: Option<bool>,
}

fn colonnes(ix: Option<&std::sync::Arc<Indexeur>>, d: &Dossier) -> Colonnes {
    let i = ix.and_then(|ix| ix.indexer(d));
    Colonnes {
        concours: d.concours().as_str().to_owned(),
        voie: i.as_ref().map(|i| i.voie.code()),
        etat: i.as_ref().map(|i| i.etat),
        limite: i.as_ref().map(|i| i.limite),
        cloture_le: i.as_ref().and_then(|i| i.cloture_le),
        pieces_attendues: i.as_ref().map(|i| i.pieces_attendues),
    }
}

fn en_json(d: &Dossier) -> Result<serde_json::Value, StorageError> {
    serde_json::to_value(d).map_err(|e| StorageError::Unavailable(format!("dossier : {e}")))
}

/// The dossier's new journal entries as three arrays (positions, hashes, entries), for
/// `unnest`.
type Entrees = (Vec<i64>, Vec<String>, Vec<serde_json::Value>);

fn entrees(d: &Dossier) -> Result<Entrees, StorageError> {
    let mut out: Entrees = Default::default();
    for e in d.entrees_a_ecrire() {
        out.0.push(i64::try_from(e.position).map_err(|_| {
            StorageError::Corrupt(format!("dossier {} : position {}", d.numero(), e.position))
        })?);
        out.1.push(e.empreinte().hex());
        out.2.push(
            serde_json::to_value(e)
                .map_err(|x| StorageError::Unavailable(format!("journal : {x}")))?,
        );
    }
    Ok(out)
}

/// The CTE that appends the entries given as parameters `$k`, `$k+1`, `$k+2` (positions,
/// hashes, entries) to the journal of `numero = $1`, if the CTE `ecrit` (a row when the
/// record was written) did write.
fn ajout_journal(k: usize) -> String {
    format!(
        "ajout AS (
            INSERT INTO journal (numero, position, empreinte, entree)
            SELECT $1, p, h, e FROM unnest(${k}::bigint[], ${}::text[], ${}::jsonb[]) AS t(p, h, e)
            WHERE EXISTS (SELECT 1 FROM ecrit)
            ON CONFLICT DO NOTHING)",
        k + 1,
        k + 2
    )
}

#[async_trait]
impl DossierStore for PgStore {
    async fn create(&self, dossier: &Dossier) -> Result<(), StorageError> {
        let json = en_json(dossier)?;
        let c = colonnes(self.indexeur.as_ref(), dossier);
        let (p, h, e) = entrees(dossier)?;
        let n: i64 = self
            .client()
            .await?
            .query_one(
                &format!("WITH ecrit AS (
                    INSERT INTO dossiers (numero, version, enregistrement, concours, voie, etat, limite, cloture_le, pieces_attendues)
                    VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (numero) DO NOTHING RETURNING 1),
                 {}
                 SELECT count(*) FROM ecrit", ajout_journal(9)),
                &[&dossier.numero().as_str(), &json, &c.concours, &c.voie, &c.etat, &c.limite, &c.cloture_le, &c.pieces_attendues, &p, &h, &e],
            )
            .await
            .map_err(|e| conv("création du dossier", e))?
            .get(0);
        if n == 0 {
            return Err(StorageError::AlreadyExists(format!(
                "dossier {} : existe déjà",
                dossier.numero()
            )));
        }
        Ok(())
    }

    async fn load(&self, numero: &NumeroDossier) -> Result<Versionne<Dossier>, StorageError> {
        let ligne = self
            .client()
            .await?
            .query_opt(
                "SELECT version, enregistrement FROM dossiers WHERE numero = $1",
                &[&numero.as_str()],
            )
            .await
            .map_err(|e| conv("lecture du dossier", e))?
            .ok_or_else(|| StorageError::NotFound(format!("dossier {numero}")))?;
        let version: i64 = ligne.get(0);
        let json: serde_json::Value = ligne.get(1);
        let valeur: Dossier = serde_json::from_value(json)
            .map_err(|e| StorageError::Corrupt(format!("dossier {numero} : {e}")))?;
        if valeur.numero() != numero {
            return Err(StorageError::Corrupt(format!(
                "dossier {numero} : l'enregistrement porte un autre numéro"
            )));
        }
        Ok(Versionne {
            valeur,
            version: u64::try_from(version)
                .map_err(|_| StorageError::Corrupt(format!("dossier {numero} : version")))?,
        })
    }

    async fn save(&self, dossier: &Dossier, expected: u64) -> Result<u64, StorageError> {
        let json = en_json(dossier)?;
        let c = colonnes(self.indexeur.as_ref(), dossier);
        let attendue = i64::try_from(expected).map_err(|_| {
            StorageError::Conflict(format!("dossier {} : version", dossier.numero()))
        })?;
        let (p, h, e) = entrees(dossier)?;
        let client = self.client().await?;
        let n: i64 = client
            .query_one(
                &format!("WITH ecrit AS (
                    UPDATE dossiers SET version = version + 1, enregistrement = $3, concours = $4, voie = $5,
                        etat = $6, limite = $7, cloture_le = $8, pieces_attendues = $9
                    WHERE numero = $1 AND version = $2 RETURNING 1),
                 {}
                 SELECT count(*) FROM ecrit", ajout_journal(10)),
                &[&dossier.numero().as_str(), &attendue, &json, &c.concours, &c.voie, &c.etat, &c.limite, &c.cloture_le, &c.pieces_attendues, &p, &h, &e],
            )
            .await
            .map_err(|e| conv("enregistrement du dossier", e))?
            .get(0);
        if n == 1 {
            return Ok(expected + 1);
        }
        let existe = client
            .query_opt(
                "SELECT 1 FROM dossiers WHERE numero = $1",
                &[&dossier.numero().as_str()],
            )
            .await
            .map_err(|e| conv("enregistrement du dossier", e))?
            .is_some();
        Err(if existe {
            StorageError::Conflict(format!(
                "dossier {} : modifié entre-temps (version attendue {expected})",
                dossier.numero()
            ))
        } else {
            StorageError::NotFound(format!("dossier {}", dossier.numero()))
        })
    }

    async fn list(&self) -> Result<Vec<NumeroDossier>, StorageError> {
        let lignes = self
            .client()
            .await?
            .query("SELECT numero FROM dossiers", &[])
            .await
            .map_err(|e| conv("liste des dossiers", e))?;
        lignes
            .iter()
            .map(|l| {
                let n: &str = l.get(0);
                NumeroDossier::parse(n).map_err(|_| {
                    StorageError::Corrupt(format!("numéro de dossier illisible « {n} »"))
                })
            })
            .collect()
    }

    async fn journal(&self, numero: &NumeroDossier) -> Result<Vec<Evenement>, StorageError> {
        self.client()
            .await?
            .query(
                "SELECT entree FROM journal WHERE numero = $1 ORDER BY position",
                &[&numero.as_str()],
            )
            .await
            .map_err(|e| conv("journal du dossier", e))?
            .into_iter()
            .map(|l| {
                serde_json::from_value(l.get(0)).map_err(|e| {
                    StorageError::Corrupt(format!("journal du dossier {numero} : {e}"))
                })
            })
            .collect()
    }
}

#[async_trait]
impl CredentialStore for PgStore {
    async fn definir(
        &self,
        numero: &NumeroDossier,
        hash: &HashMotDePasse,
    ) -> Result<(), StorageError> {
        self.client()
            .await?
            .execute(
                "INSERT INTO identifiants (numero, phc) VALUES ($1, $2)
                 ON CONFLICT (numero) DO UPDATE SET phc = EXCLUDED.phc",
                &[&numero.as_str(), &hash.phc()],
            )
            .await
            .map_err(|e| conv("mot de passe", e))?;
        Ok(())
    }

    async fn lire(&self, numero: &NumeroDossier) -> Result<Option<HashMotDePasse>, StorageError> {
        Ok(self
            .client()
            .await?
            .query_opt(
                "SELECT phc FROM identifiants WHERE numero = $1",
                &[&numero.as_str()],
            )
            .await
            .map_err(|e| conv("mot de passe", e))?
            .map(|l| HashMotDePasse::depuis_phc(l.get(0))))
    }

    async fn effacer(&self, numero: &NumeroDossier) -> Result<(), StorageError> {
        self.client()
            .await?
            .execute(
                "DELETE FROM identifiants WHERE numero = $1",
                &[&numero.as_str()],
            )
            .await
            .map_err(|e| conv("mot de passe", e))?;
        Ok(())
    }
}

#[async_trait]
impl KeyStore for PgStore {
    async fn graine_ou_creer(
        &self,
        proposee: Zeroizing<[u8; 32]>,
    ) -> Result<Zeroizing<[u8; 32]>, StorageError> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO cle_signature (graine) VALUES ($1) ON CONFLICT DO NOTHING",
            &[&&proposee[..]],
        )
        .await
        .map_err(|e| conv("clé de signature", e))?;
        let l = c
            .query_one("SELECT graine FROM cle_signature", &[])
            .await
            .map_err(|e| conv("clé de signature", e))?;
        let octets: Zeroizing<Vec<u8>> = Zeroizing::new(l.get(0));
        let mut graine = Zeroizing::new([0u8; 32]);
        if octets.len() != 32 {
            return Err(StorageError::Corrupt(
                "clé de signature : longueur incorrecte".into(),
            ));
        }
        graine.copy_from_slice(&octets);
        Ok(graine)
    }

    async fn publiees(&self) -> Result<Cles, StorageError> {
        let lignes = self
            .client()
            .await?
            .query("SELECT cle FROM cles_publiees ORDER BY rang", &[])
            .await
            .map_err(|e| conv("clés publiées", e))?;
        let cles = lignes
            .into_iter()
            .map(|l| {
                serde_json::from_value::<ClePublique>(l.get(0))
                    .map_err(|e| StorageError::Corrupt(format!("clé publiée illisible : {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Cles { cles })
    }

    async fn publier(&self, cle: ClePublique) -> Result<Cles, StorageError> {
        let json = serde_json::to_value(&cle)
            .map_err(|e| StorageError::Unavailable(format!("clé publiée : {e}")))?;
        self.client()
            .await?
            .execute(
                "INSERT INTO cles_publiees (id, cle) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
                &[&cle.id, &json],
            )
            .await
            .map_err(|e| conv("clés publiées", e))?;
        self.publiees().await
    }
}

#[async_trait]
impl SessionStore for PgStore {
    async fn supprimer_titulaire(
        &self,
        espece: EspeceSession,
        titulaire: &str,
    ) -> Result<u64, StorageError> {
        self.client()
            .await?
            .execute(
                "DELETE FROM sessions WHERE espece = $1 AND titulaire = $2",
                &[&espece.code(), &titulaire],
            )
            .await
            .map_err(|e| conv("session", e))
    }

    async fn creer(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
        s: &SessionStockee,
    ) -> Result<(), StorageError> {
        self.client()
            .await?
            .execute(
                "INSERT INTO sessions (espece, empreinte, titulaire, creee, vue, csrf)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &espece.code(),
                    &&empreinte.octets()[..],
                    &s.titulaire,
                    &s.creee,
                    &s.vue,
                    &s.csrf,
                ],
            )
            .await
            .map_err(|e| conv("session", e))?;
        Ok(())
    }

    async fn lire(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
    ) -> Result<Option<SessionStockee>, StorageError> {
        Ok(self
            .client()
            .await?
            .query_opt(
                "SELECT titulaire, creee, vue, csrf FROM sessions WHERE espece = $1 AND empreinte = $2",
                &[&espece.code(), &&empreinte.octets()[..]],
            )
            .await
            .map_err(|e| conv("session", e))?
            .map(|l| SessionStockee {
                titulaire: l.get(0),
                creee: l.get(1),
                vue: l.get(2),
                csrf: l.get(3),
            }))
    }

    async fn toucher(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
        vue: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.client()
            .await?
            .execute(
                "UPDATE sessions SET vue = GREATEST(vue, $3) WHERE espece = $1 AND empreinte = $2",
                &[&espece.code(), &&empreinte.octets()[..], &vue],
            )
            .await
            .map_err(|e| conv("session", e))?;
        Ok(())
    }

    async fn supprimer(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
    ) -> Result<(), StorageError> {
        self.client()
            .await?
            .execute(
                "DELETE FROM sessions WHERE espece = $1 AND empreinte = $2",
                &[&espece.code(), &&empreinte.octets()[..]],
            )
            .await
            .map_err(|e| conv("session", e))?;
        Ok(())
    }

    async fn purger(
        &self,
        inactive_avant: DateTime<Utc>,
        creee_avant: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        self.client()
            .await?
            .execute(
                "DELETE FROM sessions WHERE vue < $1 OR creee < $2",
                &[&inactive_avant, &creee_avant],
            )
            .await
            .map_err(|e| conv("sessions", e))
    }

    async fn compter(
        &self,
        espece: EspeceSession,
        inactive_avant: DateTime<Utc>,
        creee_avant: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        let n: i64 = self
            .client()
            .await?
            .query_one(
                "SELECT count(*) FROM sessions WHERE espece = $1 AND vue >= $2 AND creee >= $3",
                &[&espece.code(), &inactive_avant, &creee_avant],
            )
            .await
            .map_err(|e| conv("sessions", e))?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

#[async_trait]
impl CompteurStore for PgStore {
    async fn modifier(&self, cles: &[String], mut f: Modification) -> Result<(), StorageError> {
        let mut tri: Vec<String> = cles.to_vec();
        tri.sort();
        tri.dedup();
        let mut c = self.client().await?;
        let mut essais = 0;
        loop {
            essais += 1;
            match modifier_une_fois(&mut c, cles, &tri, &mut *f).await {
                Ok(()) => return Ok(()),
                Err(e) if reessayable(&e) && essais < 8 => continue,
                Err(e) => return Err(conv("compteurs", e)),
            }
        }
    }

    async fn nettoyer(&self, avant: DateTime<Utc>) -> Result<u64, StorageError> {
        self.client()
            .await?
            .execute(
                "DELETE FROM compteurs WHERE cardinality(instants) = 0
                    OR instants[cardinality(instants)] < $1",
                &[&avant],
            )
            .await
            .map_err(|e| conv("compteurs", e))
    }
}

async fn modifier_une_fois(
    c: &mut deadpool_postgres::Object,
    cles: &[String],
    tri: &[String],
    f: &mut (dyn FnMut(&mut [Instants]) + Send),
) -> Result<(), tokio_postgres::Error> {
    let t = c.transaction().await?;
    // Rows created in key order, then locked in key order: two calls never wait on each
    // other in a cycle.
    t.execute(
        "INSERT INTO compteurs (cle, instants)
         SELECT k, '{}'::timestamptz[] FROM unnest($1::text[]) WITH ORDINALITY AS u(k, i)
         ORDER BY i ON CONFLICT (cle) DO NOTHING",
        &[&tri],
    )
    .await?;
    let lignes = t
        .query(
            "SELECT cle, instants FROM compteurs WHERE cle = ANY($1) ORDER BY cle FOR UPDATE",
            &[&tri],
        )
        .await?;
    let mut listes: Vec<Instants> = cles
        .iter()
        .map(|k| {
            lignes
                .iter()
                .find(|l| l.get::<_, &str>(0) == k)
                .map(|l| l.get::<_, Vec<DateTime<Utc>>>(1))
                .unwrap_or_default()
        })
        .collect();
    f(&mut listes);
    for k in tri {
        // A key named twice keeps what `f` left in its last position.
        let l = cles
            .iter()
            .zip(&listes)
            .rev()
            .find(|(c, _)| *c == k)
            .map(|(_, l)| l.clone())
            .unwrap_or_default();
        if l.is_empty() {
            t.execute("DELETE FROM compteurs WHERE cle = $1", &[k])
                .await?;
        } else {
            t.execute(
                "UPDATE compteurs SET instants = $2 WHERE cle = $1",
                &[k, &l],
            )
            .await?;
        }
    }
    t.commit().await
}

#[async_trait]
impl Recherche for PgStore {
    async fn rechercher(
        &self,
        filtre: &Filtre,
        now: DateTime<Utc>,
        page: Page,
    ) -> Result<(usize, Vec<NumeroDossier>), StorageError> {
        use tokio_postgres::types::ToSql;
        if self.indexeur.is_none() {
            return Err(StorageError::Unavailable(
                "recherche : cette base n'a pas d'index (PgStore::avec_indexeur)".into(),
            ));
        }
        let mut conditions: Vec<String> = Vec::new();
        let mut params: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        fn p(
            v: Box<dyn ToSql + Sync + Send>,
            params: &mut Vec<Box<dyn ToSql + Sync + Send>>,
        ) -> String {
            params.push(v);
            format!("${}", params.len())
        }
        if let Some(e) = filtre.etat {
            conditions.push(match e {
                EtatLu::Ouvert => format!(
                    "etat = 'ouvert' AND limite > {}",
                    p(Box::new(now), &mut params)
                ),
                EtatLu::NonClotureHorsDelai => {
                    format!(
                        "etat = 'ouvert' AND limite <= {}",
                        p(Box::new(now), &mut params)
                    )
                }
                autre => format!("etat = {}", p(Box::new(autre.code()), &mut params)),
            });
        }
        if let Some(v) = filtre.voie {
            conditions.push(format!("voie = {}", p(Box::new(v.code()), &mut params)));
        }
        if let Some(a) = filtre.pieces_attendues {
            conditions.push(format!(
                "pieces_attendues = {}",
                p(Box::new(a), &mut params)
            ));
        }
        if let Some(t) = filtre.cloture_du {
            conditions.push(format!("cloture_le >= {}", p(Box::new(t), &mut params)));
        }
        if let Some(t) = filtre.cloture_avant {
            conditions.push(format!("cloture_le < {}", p(Box::new(t), &mut params)));
        }
        if !filtre.numeros.is_empty() {
            let n: Vec<String> = filtre
                .numeros
                .iter()
                .map(|n| n.as_str().to_owned())
                .collect();
            conditions.push(format!("numero = ANY({})", p(Box::new(n), &mut params)));
        }
        // Rows not indexed (NULL) are never selected by a filter on them; indexed at start.
        let ou = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let refs: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|b| &**b as &(dyn ToSql + Sync)).collect();
        let c = self.client().await?;
        let total: i64 = c
            .query_one(&format!("SELECT count(*) FROM dossiers {ou}"), &refs)
            .await
            .map_err(|e| conv("recherche", e))?
            .get(0);
        let limite = i64::try_from(page.par_page).unwrap_or(i64::MAX);
        let decalage = i64::try_from(page.decalage()).unwrap_or(i64::MAX);
        let mut refs = refs;
        let (il, id) = (refs.len() + 1, refs.len() + 2);
        refs.push(&limite);
        refs.push(&decalage);
        let lignes = c
            .query(
                &format!(
                    "SELECT numero FROM dossiers {ou} ORDER BY numero LIMIT ${il} OFFSET ${id}"
                ),
                &refs,
            )
            .await
            .map_err(|e| conv("recherche", e))?;
        let numeros = lignes
            .iter()
            .map(|l| {
                let n: &str = l.get(0);
                NumeroDossier::parse(n).map_err(|_| {
                    StorageError::Corrupt(format!("numéro de dossier illisible « {n} »"))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok((usize::try_from(total).unwrap_or(0), numeros))
    }
}
