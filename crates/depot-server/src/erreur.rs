//! Why depot-server cannot start or a subcommand cannot run. `main` prints the message and
//! exits with status 1; each error keeps its source.

use std::net::SocketAddr;
use std::path::PathBuf;

use depot_core::{ErreurConfig, ErreurEspace, ErreurSignature, Refus, StorageError};

/// An error of depot-server's start or of one of its subcommands.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErreurServeur {
    /// A file named on the command line cannot be read.
    #[error("{} : {source}", chemin.display())]
    Lecture {
        /// The file.
        chemin: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A concours file is not a valid concours.
    #[error("{} : {source}", chemin.display())]
    Concours {
        /// The file (`demo` for the embedded one).
        chemin: PathBuf,
        /// What is wrong in it.
        #[source]
        source: ErreurConfig,
    },
    /// The e-mail settings are wrong.
    #[error("courriels : {0}")]
    ConfigCourriel(#[from] depot_courriel::ErreurConfiguration),
    /// A round of the mail worker failed.
    #[error("courriels : {0}")]
    Courriels(#[source] ErreurEspace),
    /// A retention round failed.
    #[error("conservation : {0}")]
    Conservation(#[source] ErreurEspace),
    /// The antivirus settings are wrong.
    #[error("antivirus : {0}")]
    Antivirus(String),
    /// The CDG's presentation (colour, logo) is not usable.
    #[error("présentation : {0}")]
    Marque(String),
    /// A message cannot be previewed.
    #[error("aperçu : {0}")]
    Apercu(String),
    /// The staff accounts file is not valid.
    #[error("{} : {source}", chemin.display())]
    Gestionnaires {
        /// The file.
        chemin: PathBuf,
        /// What is wrong in it.
        #[source]
        source: toml::de::Error,
    },
    /// `--stockage-dossiers postgres` without `--postgres` or `DEPOT_POSTGRES_URL`.
    #[error(
        "--stockage-dossiers postgres : donnez l'adresse de la base (--postgres ou DEPOT_POSTGRES_URL)"
    )]
    PostgresSansUrl,
    /// The PostgreSQL settings are wrong.
    #[error(transparent)]
    ConfigPostgres(#[from] depot_postgres::ErreurConfigPg),
    /// `--instances-multiples` with a store that one instance alone can use.
    #[error("--instances-multiples : {0}")]
    InstancesMultiples(String),
    /// The metrics recorder cannot be installed.
    #[error("métriques : {0}")]
    Metriques(String),
    /// The S3 settings are incomplete or wrong.
    #[error(transparent)]
    ConfigS3(#[from] depot_s3::ErreurConfigS3),
    /// A store cannot be opened or answered with an error.
    #[error("stockage : {0}")]
    Stockage(#[from] StorageError),
    /// `DEPOT_CLE_SIGNATURE` is not 64 hexadecimal characters.
    #[error("DEPOT_CLE_SIGNATURE : 64 caractères hexadécimaux attendus")]
    CleImposee,
    /// The signing key cannot be loaded or created.
    #[error("clé de signature des récépissés : {0}")]
    Signature(#[from] ErreurSignature),
    /// The concours set is refused by the core (e.g. two concours with one code).
    #[error("{0}")]
    Espace(#[source] Refus),
    /// Creating the demo dossier failed.
    #[error("dossier de démonstration : {0}")]
    Demo(#[source] ErreurEspace),
    /// The demo identifiers cannot be written.
    #[error("{} : {source}", chemin.display())]
    Ecriture {
        /// The file.
        chemin: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The listening address cannot be bound.
    #[error("écoute sur {adresse} : {source}")]
    Ecoute {
        /// The address.
        adresse: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The server or its runtime stopped on an I/O error.
    #[error("serveur : {0}")]
    Serveur(#[source] std::io::Error),
    /// A n° de dossier given on the command line is malformed.
    #[error("{0}")]
    Numero(#[from] depot_core::ids::IdentifiantInvalide),
    /// A published key list is not a key list.
    #[error("{} : ce n'est pas une liste de clés : {source}", chemin.display())]
    ListeDeCles {
        /// The file.
        chemin: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The récépissé does not verify.
    #[error("récépissé invalide : {0}")]
    RecepisseInvalide(#[from] depot_core::ErreurVerification),
}

impl ErreurServeur {
    pub(crate) fn lecture(chemin: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self {
        let chemin = chemin.to_path_buf();
        move |source| ErreurServeur::Lecture { chemin, source }
    }
}
