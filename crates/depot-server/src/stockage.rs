//! Where records and state live (`--stockage-dossiers fs|s3|postgres`) and where contents
//! live (`--stockage-pieces fs|s3`): opened the same way by the server and by the
//! subcommands that read records (`journal verifier`, `base migrer`).

use std::path::PathBuf;
use std::sync::Arc;

use clap::ValueEnum;
use depot_core::{CompteurStore, CredentialStore, DossierStore, KeyStore, SessionStore};
use depot_fs::FsStore;

use crate::ErreurServeur;

/// Where dossier records, password hashes, sessions, throttling counts and the signing key
/// live.
#[derive(Debug, Clone, Copy, PartialEq, ValueEnum)]
pub(crate) enum StockageDossiers {
    /// The data directory (depot-fs): one server.
    Fs,
    /// S3-compatible object storage (depot-s3), configured by --s3 and DEPOT_S3_*.
    S3,
    /// PostgreSQL (depot-postgres), at --postgres or DEPOT_POSTGRES_URL: several servers.
    Postgres,
}

/// Where file contents live.
#[derive(Debug, Clone, Copy, PartialEq, ValueEnum)]
pub(crate) enum StockagePieces {
    /// The data directory (depot-fs): one server.
    Fs,
    /// S3-compatible object storage (depot-s3).
    S3,
}

/// The storage options, shared by the server and its subcommands.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct OptionsStockage {
    /// Data directory (dossiers, pieces, password hashes, sessions when on fs).
    #[arg(long, value_name = "DIR", default_value = "depot-data")]
    pub(crate) data: PathBuf,
    /// Where dossier records, password hashes, sessions, throttling counts and the signing
    /// key live. S3 requires a server that applies conditional writes (checked at start).
    #[arg(long, value_enum, default_value = "fs")]
    pub(crate) stockage_dossiers: StockageDossiers,
    /// S3 settings: a TOML file with an `[s3]` section (endpoint, region, bucket, prefix,
    /// access_key_id, secret_access_key_file, allow_http, timeout_s, max_retries,
    /// retry_timeout_s); DEPOT_S3_* variables override it; the secret comes from
    /// DEPOT_S3_SECRET_ACCESS_KEY or secret_access_key_file, never from the file itself.
    #[arg(long, value_name = "FICHIER")]
    pub(crate) s3: Option<PathBuf>,
    /// PostgreSQL: `postgres://user@host:port/base`. Prefer DEPOT_POSTGRES_URL for a URL
    /// holding a password (a command line is visible to every local user).
    #[arg(long, value_name = "URL")]
    pub(crate) postgres: Option<String>,
    /// A PostgreSQL schema of depot's own (created if missing).
    #[arg(long, value_name = "NOM")]
    pub(crate) postgres_schema: Option<String>,
    /// Connections of the PostgreSQL pool.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub(crate) postgres_connexions: usize,
    /// With `sslmode=require` in the PostgreSQL URL: the authorities (PEM) that sign the
    /// server's certificate.
    /// (or `DEPOT_POSTGRES_CA`).
    #[arg(long, value_name = "FICHIER")]
    pub(crate) postgres_ca: Option<PathBuf>,
}

/// The stores of records and state, opened.
#[derive(Clone)]
pub(crate) struct Enregistrements {
    pub(crate) dossiers: Arc<dyn DossierStore>,
    pub(crate) identifiants: Arc<dyn CredentialStore>,
    pub(crate) cles: Arc<dyn KeyStore>,
    pub(crate) sessions: Arc<dyn SessionStore>,
    pub(crate) compteurs: Arc<dyn CompteurStore>,
    /// The staff's search from an index (PostgreSQL), or `None` (every dossier read).
    pub(crate) recherche: Option<Arc<dyn depot_core::Recherche>>,
    /// Shared by every instance (false: per process or per machine).
    pub(crate) partages: bool,
}

/// Records on S3 used to keep the signing key in the data directory: when that directory
/// holds one, it becomes the key on S3 if S3 has none yet, and every key it published is
/// published on S3 — récépissés already signed keep verifying. Nothing to do without it.
async fn reprendre_cle_locale(
    data: &std::path::Path,
    s3: &depot_s3::S3Store,
) -> Result<(), ErreurServeur> {
    if !data.join("cles").join("recepisse.ed25519").exists() {
        return Ok(());
    }
    let fs = FsStore::open(data)?;
    // The stored seed (it exists: nothing is proposed for real).
    let locale = fs
        .graine_ou_creer(zeroize::Zeroizing::new([0u8; 32]))
        .await?;
    let retenue = s3.graine_ou_creer(locale.clone()).await?;
    for cle in fs.publiees().await?.cles {
        s3.publier(cle).await?;
    }
    println!(
        "clé de signature du répertoire de données reprise sur S3{}",
        if *retenue == *locale {
            ""
        } else {
            " (S3 en avait déjà une : seules ses clés publiques sont reprises)"
        }
    );
    Ok(())
}

impl OptionsStockage {
    /// The S3 store, when S3 is named for records or contents.
    pub(crate) fn s3(&self) -> Result<depot_s3::S3Store, ErreurServeur> {
        let texte = match &self.s3 {
            Some(f) => Some(std::fs::read_to_string(f).map_err(ErreurServeur::lecture(f))?),
            None => None,
        };
        let c = depot_s3::ConfigS3::charger(texte.as_deref(), |k| std::env::var(k).ok())?;
        tracing::info!(config = ?c, "stockage S3");
        Ok(depot_s3::S3Store::new(&c)?)
    }

    /// The PostgreSQL store (its password never printed), migrations not applied.
    pub(crate) fn postgres(&self) -> Result<depot_postgres::PgStore, ErreurServeur> {
        let url = match (&self.postgres, std::env::var("DEPOT_POSTGRES_URL")) {
            (Some(u), _) => u.clone(),
            (None, Ok(u)) => u,
            (None, Err(_)) => return Err(ErreurServeur::PostgresSansUrl),
        };
        Ok(depot_postgres::PgStore::new(&depot_postgres::ConfigPg {
            url,
            schema: self.postgres_schema.clone(),
            connexions: self.postgres_connexions,
            ca: self
                .postgres_ca
                .clone()
                .or_else(|| std::env::var_os("DEPOT_POSTGRES_CA").map(PathBuf::from)),
        })?)
    }

    /// Opens the records' store (probing S3, migrating PostgreSQL). The data directory is
    /// opened (created) only when something lives in it: `fs`, or `None` to open it here.
    pub(crate) async fn enregistrements(
        &self,
        fs: Option<&FsStore>,
        s3: Option<&depot_s3::S3Store>,
        indexeur: Option<depot_core::Indexeur>,
    ) -> Result<Enregistrements, ErreurServeur> {
        let ouvrir_fs = || -> Result<FsStore, ErreurServeur> {
            Ok(match fs {
                Some(f) => f.clone(),
                None => FsStore::open(&self.data)?,
            })
        };
        Ok(match self.stockage_dossiers {
            StockageDossiers::Fs => {
                let fs = ouvrir_fs()?;
                Enregistrements {
                    dossiers: Arc::new(fs.clone()),
                    identifiants: Arc::new(fs.clone()),
                    cles: Arc::new(fs.clone()),
                    sessions: Arc::new(fs.clone()),
                    compteurs: Arc::new(fs),
                    recherche: None,
                    partages: false,
                }
            }
            StockageDossiers::S3 => {
                let s = match s3 {
                    Some(s) => s.clone(),
                    None => self.s3()?,
                };
                s.sonder().await?;
                reprendre_cle_locale(&self.data, &s).await?;
                Enregistrements {
                    dossiers: Arc::new(s.clone()),
                    identifiants: Arc::new(s.clone()),
                    // Sessions, the signing key and the throttling counts on S3 too (the
                    // counts under leases: depot_s3::compteurs): several instances share
                    // them, at the price of a few requests per login (PostgreSQL: one
                    // transaction).
                    cles: Arc::new(s.clone()),
                    sessions: Arc::new(s.clone()),
                    compteurs: Arc::new(s),
                    recherche: None,
                    partages: true,
                }
            }
            StockageDossiers::Postgres => {
                let mut pg = self.postgres()?;
                let faites = pg.migrer().await?;
                if !faites.is_empty() {
                    println!("PostgreSQL : migration(s) appliquée(s) : {faites:?}");
                }
                let indexe = indexeur.is_some();
                if let Some(ix) = indexeur {
                    pg = pg.avec_indexeur(ix);
                    let n = pg.preparer_index().await?;
                    if n > 0 {
                        println!("PostgreSQL : {n} dossier(s) indexé(s) pour la recherche");
                    }
                }
                Enregistrements {
                    dossiers: Arc::new(pg.clone()),
                    identifiants: Arc::new(pg.clone()),
                    cles: Arc::new(pg.clone()),
                    sessions: Arc::new(pg.clone()),
                    compteurs: Arc::new(pg.clone()),
                    recherche: if indexe { Some(Arc::new(pg)) } else { None },
                    partages: true,
                }
            }
        })
    }
}
