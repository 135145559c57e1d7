//! # depot-s3 — dossiers and pieces in S3-compatible object storage
//!
//! For CDGs whose several application servers share one concours: AWS S3, MinIO, Garage,
//! OVHcloud, Scaleway… Built on [`object_store`] (no hand-written S3 client).
//!
//! ## Keys
//!
//! ```text
//! <prefix>/dossiers/<NUMERO>.json      one record per dossier (JSON, compare-and-swap)
//! <prefix>/journal/<NUMERO>/<POSITION>-<SHA256>.json  one journal entry (write-once)
//! <prefix>/identifiants/<NUMERO>.phc   password hash (PHC string)
//! <prefix>/pieces/<NUMERO>/<ID>        one object per content, write-once
//! <prefix>/sonde/<random>              the start-up probe's sentinel (deleted after)
//! <prefix>/sessions/…                  sessions, by the token's SHA-256 (see [`sessions`])
//! <prefix>/cles/recepisse.ed25519     the récépissé signing key's seed, created once
//! <prefix>/cles/publiees.json         every public key ever published (compare-and-swap)
//! <prefix>/compteurs/…                throttling counts, changed under leases (see [`compteurs`])
//! ```
//!
//! Every key is derived from ids the core generated and validated; nothing comes from a
//! candidate's file name.
//!
//! ## Records: a real compare-and-swap
//!
//! A record is created with `PutMode::Create` (`If-None-Match: *`) and replaced with
//! `PutMode::Update` (`If-Match: <etag>`), never blindly overwritten. Each write stamps a
//! random write id (`ecriture`) into the object: when the outcome of a conditional PUT is
//! unknown — the write happened but the reply was lost, and the retry got `412` — the store
//! reads the object back and reports success if the stored write id is its own.
//!
//! A record keeps only its journal's last entry; the entries are objects of their own, keyed
//! by position and hash and written (`PutMode::Create`) **before** the record that names
//! them. An entry whose record write then lost its compare-and-swap stays as an orphan
//! beside the chain, which readers rebuild from the record's head (depot-core's
//! `reconstituer_journal`); writing an entry again is harmless, its key names its content.
//!
//! Some servers silently ignore conditional headers (Garage 2.5 does). [`S3Store::sonder`]
//! checks, with a sentinel key, that a second create and a stale update both fail; depot-server
//! refuses to keep records on a server that fails the probe. Pieces need no conditional
//! writes (their keys carry 80 random bits), so they are allowed on any server.
//!
//! ## Pieces: streamed
//!
//! Contents are hashed while streaming. Up to [`SEUIL_MULTIPART`] they are sent in one PUT
//! carrying `x-amz-meta-sha256` and `x-amz-meta-taille`; larger ones go as a multipart
//! upload in parts of that size (aborted on any error), and their hash is then written to a
//! small `<ID>.sha256` object beside them (metadata must be known before a multipart upload
//! starts). Memory held per upload is at most one part.

use std::sync::Arc;
use std::time::Duration;

mod cles;
pub mod compteurs;
pub mod sessions;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use depot_core::ports::{CleContenu, ContenuStocke, FluxOctets, Random, SystemRandom, Versionne};
use depot_core::{
    CredentialStore, Dossier, DossierStore, Evenement, FichierId, HashMotDePasse, NumeroDossier,
    PieceStore, Sha256, StorageError,
};
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder, S3ConditionalPut};
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutMode,
    PutOptions, PutPayload, RetryConfig, UpdateVersion, WriteMultipart,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Digest;

/// Contents larger than this go as multipart uploads, in parts of this size.
pub const SEUIL_MULTIPART: usize = 8 * 1024 * 1024;

/// S3 settings. The secret is a [`SecretString`]: never printed, wiped on drop.
#[derive(Clone, Default)]
pub struct ConfigS3 {
    /// Endpoint URL (`http://127.0.0.1:9000`); empty for AWS.
    pub endpoint: Option<String>,
    /// Region (`us-east-1`, `garage`, `fr-par`…).
    pub region: String,
    /// Bucket.
    pub bucket: String,
    /// Key prefix inside the bucket (`depot/animateur-2025`), may be empty.
    pub prefix: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: SecretString,
    /// Allow plain HTTP endpoints (tests, a private network).
    pub allow_http: bool,
    /// Timeout of one request.
    pub timeout: Option<Duration>,
    /// Retries of a failed request (object_store's backoff).
    pub max_retries: Option<usize>,
    /// Give up retrying after this long.
    pub retry_timeout: Option<Duration>,
    /// Keep no idle connection (each request on a new one): for tests of faulty networks.
    pub sans_connexions_persistantes: bool,
}

impl std::fmt::Debug for ConfigS3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigS3")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("allow_http", &self.allow_http)
            .finish_non_exhaustive()
    }
}

/// A depot store on an S3 bucket. Cheap to clone.
#[derive(Clone, Debug)]
pub struct S3Store {
    s3: Arc<AmazonS3>,
    bucket: String,
    prefix: String,
    /// This instance's callers waiting for a throttling key, in arrival order (see
    /// `compteurs`).
    files_compteurs: compteurs::FilesLocales,
}

fn conv(bucket: &str, e: object_store::Error) -> StorageError {
    use object_store::Error as E;
    // object_store's messages name the path, never the credentials.
    let detail = format!("s3://{bucket} : {e}");
    match e {
        E::NotFound { .. } => StorageError::NotFound(detail),
        E::AlreadyExists { .. } => StorageError::AlreadyExists(detail),
        E::Precondition { .. } | E::NotModified { .. } => StorageError::Conflict(detail),
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => StorageError::Denied(detail),
        _ => StorageError::Unavailable(detail),
    }
}

fn id_ecriture() -> String {
    let mut o = [0u8; 16];
    SystemRandom.remplir(&mut o);
    hex::encode(o)
}

#[derive(Serialize, Deserialize)]
struct Enregistrement {
    version: u64,
    ecriture: String,
    dossier: Dossier,
}

impl S3Store {
    /// Connects (no request is made; see [`S3Store::sonder`]).
    pub fn new(c: &ConfigS3) -> Result<Self, StorageError> {
        let mut options = ClientOptions::new()
            .with_allow_http(c.allow_http)
            .with_timeout(c.timeout.unwrap_or(Duration::from_secs(30)));
        if c.sans_connexions_persistantes {
            options = options.with_pool_max_idle_per_host(0);
        }
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(50),
                max_backoff: Duration::from_secs(2),
                base: 2.0,
            },
            max_retries: c.max_retries.unwrap_or(5),
            retry_timeout: c.retry_timeout.unwrap_or(Duration::from_secs(60)),
        };
        let mut b = AmazonS3Builder::new()
            .with_region(&c.region)
            .with_bucket_name(&c.bucket)
            .with_access_key_id(&c.access_key_id)
            .with_secret_access_key(c.secret_access_key.expose_secret())
            .with_allow_http(c.allow_http)
            .with_conditional_put(S3ConditionalPut::ETagMatch)
            .with_client_options(options)
            .with_retry(retry);
        if let Some(e) = &c.endpoint {
            b = b.with_endpoint(e);
        }
        let s3 = b.build().map_err(|e| conv(&c.bucket, e))?;
        Ok(Self {
            s3: Arc::new(s3),
            bucket: c.bucket.clone(),
            prefix: c.prefix.trim_matches('/').to_owned(),
            files_compteurs: compteurs::FilesLocales::default(),
        })
    }

    fn chemin(&self, suite: &str) -> Path {
        if self.prefix.is_empty() {
            Path::from(suite)
        } else {
            Path::from(format!("{}/{suite}", self.prefix))
        }
    }

    fn cle_dossier(&self, n: &NumeroDossier) -> Path {
        self.chemin(&format!("dossiers/{}.json", n.as_str()))
    }

    fn cle_entree(&self, n: &NumeroDossier, e: &Evenement) -> Path {
        self.chemin(&format!(
            "journal/{}/{:012}-{}.json",
            n.as_str(),
            e.position,
            e.empreinte().hex()
        ))
    }

    /// Writes the dossier's new journal entries, before its record.
    async fn ajouter_au_journal(&self, d: &Dossier) -> Result<(), StorageError> {
        let objets = d
            .entrees_a_ecrire()
            .iter()
            .map(|e| {
                serde_json::to_vec(e)
                    .map(|corps| (self.cle_entree(d.numero(), e), PutPayload::from(corps)))
                    .map_err(|x| StorageError::Corrupt(format!("sérialisation : {x}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let s3 = self.s3.clone();
        let bucket = self.bucket.clone();
        futures_util::stream::iter(objets)
            .map(move |(cle, corps)| {
                let s3 = s3.clone();
                let bucket = bucket.clone();
                async move {
                    match s3.put_opts(&cle, corps, PutMode::Create.into()).await {
                        // Written by an earlier attempt: the key names the content.
                        Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
                        Err(x) => Err(conv(&bucket, x)),
                    }
                }
            })
            .buffer_unordered(8)
            .try_collect::<Vec<()>>()
            .await
            .map(|_| ())
    }

    fn cle_piece(&self, c: &CleContenu) -> Path {
        self.chemin(&format!(
            "pieces/{}/{}",
            c.numero.as_str(),
            c.fichier.as_str()
        ))
    }

    /// The small object holding a multipart content's SHA-256.
    fn cle_temoin(&self, c: &CleContenu) -> Path {
        self.chemin(&format!(
            "pieces/{}/{}.sha256",
            c.numero.as_str(),
            c.fichier.as_str()
        ))
    }

    fn err(&self, e: object_store::Error) -> StorageError {
        conv(&self.bucket, e)
    }

    /// Every object under `suite`, with its listing's metadata.
    pub(crate) async fn lister(
        &self,
        suite: &str,
    ) -> Result<Vec<object_store::ObjectMeta>, StorageError> {
        self.s3
            .list(Some(&self.chemin(suite)))
            .try_collect()
            .await
            .map_err(|e| self.err(e))
    }

    /// The last component of every key under `suite` (dossier records, a dossier's
    /// contents).
    async fn noms_sous(&self, suite: &str) -> Result<Vec<String>, StorageError> {
        Ok(self
            .lister(suite)
            .await?
            .into_iter()
            .filter_map(|m| m.location.filename().map(str::to_owned))
            .collect())
    }

    /// The object at `cle` and its ETag, or `None` when there is none.
    pub(crate) async fn lire_objet(
        &self,
        cle: &Path,
    ) -> Result<Option<(Bytes, Option<String>)>, StorageError> {
        match self.s3.get(cle).await {
            Ok(r) => {
                let etag = r.meta.e_tag.clone();
                let octets = r.bytes().await.map_err(|e| self.err(e))?;
                Ok(Some((octets, etag)))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err(e)),
        }
    }

    /// The JSON object at `cle`, read, and its ETag, or `None` when there is none.
    pub(crate) async fn lire_json<T: serde::de::DeserializeOwned>(
        &self,
        cle: &Path,
    ) -> Result<Option<(T, Option<String>)>, StorageError> {
        let Some((octets, etag)) = self.lire_objet(cle).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&octets)
            .map(|v| Some((v, etag)))
            .map_err(|e| StorageError::Corrupt(format!("s3://{}/{cle} : {e}", self.bucket)))
    }

    /// Checks that the server applies conditional writes: a second create of a sentinel key
    /// and an update with a stale ETag must both fail. Records must not be kept on a server
    /// that fails this.
    pub async fn sonder(&self) -> Result<(), StorageError> {
        let cle = self.chemin(&format!("sonde/{}", id_ecriture()));
        let creer = |contenu: &'static str| {
            let s3 = self.s3.clone();
            let cle = cle.clone();
            async move {
                s3.put_opts(
                    &cle,
                    PutPayload::from_static(contenu.as_bytes()),
                    PutMode::Create.into(),
                )
                .await
            }
        };
        let resultat = async {
            let premier = creer("premier").await.map_err(|e| self.err(e))?;
            let second = creer("second").await;
            if second.is_ok() {
                return Err(StorageError::Denied(format!(
                    "ce serveur S3 n'applique pas les écritures conditionnelles : un second « If-None-Match: * » sur s3://{}/{cle} a écrasé l'objet au lieu d'échouer",
                    self.bucket
                )));
            }
            let a_jour = self
                .s3
                .put_opts(
                    &cle,
                    PutPayload::from_static(b"troisieme"),
                    PutMode::Update(UpdateVersion { e_tag: premier.e_tag.clone(), version: None }).into(),
                )
                .await
                .map_err(|e| self.err(e))?;
            let perime = self
                .s3
                .put_opts(
                    &cle,
                    PutPayload::from_static(b"quatrieme"),
                    PutMode::Update(UpdateVersion { e_tag: premier.e_tag, version: None }).into(),
                )
                .await;
            if perime.is_ok() || a_jour.e_tag.is_none() {
                return Err(StorageError::Denied(format!(
                    "ce serveur S3 n'applique pas les écritures conditionnelles : une mise à jour « If-Match » avec une ETag périmée sur s3://{}/{cle} a réussi",
                    self.bucket
                )));
            }
            Ok(())
        }
        .await;
        let _ = self.s3.delete(&cle).await;
        resultat
    }

    async fn lire(
        &self,
        n: &NumeroDossier,
    ) -> Result<(Enregistrement, Option<String>), StorageError> {
        let r = self
            .s3
            .get(&self.cle_dossier(n))
            .await
            .map_err(|e| self.err(e))?;
        let etag = r.meta.e_tag.clone();
        let octets = r.bytes().await.map_err(|e| self.err(e))?;
        let e: Enregistrement = serde_json::from_slice(&octets).map_err(|x| {
            StorageError::Corrupt(format!("s3://{}/dossiers/{n}.json : {x}", self.bucket))
        })?;
        if e.dossier.numero() != n {
            return Err(StorageError::Corrupt(format!(
                "s3://{}/dossiers/{n}.json contient le dossier {}",
                self.bucket,
                e.dossier.numero()
            )));
        }
        Ok((e, etag))
    }

    /// After an unknown outcome: did our write land?
    async fn est_notre_ecriture(&self, n: &NumeroDossier, ecriture: &str) -> bool {
        matches!(self.lire(n).await, Ok((e, _)) if e.ecriture == ecriture)
    }

    fn corps(version: u64, ecriture: &str, d: &Dossier) -> Result<PutPayload, StorageError> {
        #[derive(Serialize)]
        struct Ref<'a> {
            version: u64,
            ecriture: &'a str,
            dossier: &'a Dossier,
        }
        serde_json::to_vec(&Ref {
            version,
            ecriture,
            dossier: d,
        })
        .map(PutPayload::from)
        .map_err(|e| StorageError::Corrupt(format!("sérialisation : {e}")))
    }
}

#[async_trait]
impl DossierStore for S3Store {
    async fn create(&self, dossier: &Dossier) -> Result<(), StorageError> {
        self.ajouter_au_journal(dossier).await?;
        let ecriture = id_ecriture();
        let corps = Self::corps(1, &ecriture, dossier)?;
        match self
            .s3
            .put_opts(
                &self.cle_dossier(dossier.numero()),
                corps,
                PutMode::Create.into(),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = self.err(e);
                if self.est_notre_ecriture(dossier.numero(), &ecriture).await {
                    return Ok(());
                }
                Err(e)
            }
        }
    }

    async fn load(&self, numero: &NumeroDossier) -> Result<Versionne<Dossier>, StorageError> {
        let (e, _) = self.lire(numero).await?;
        Ok(Versionne {
            valeur: e.dossier,
            version: e.version,
        })
    }

    async fn save(&self, dossier: &Dossier, expected: u64) -> Result<u64, StorageError> {
        let n = dossier.numero();
        let (actuel, etag) = self.lire(n).await?;
        if actuel.version != expected {
            return Err(StorageError::Conflict(format!(
                "dossier {n} : version {expected} attendue, {} trouvée",
                actuel.version
            )));
        }
        let Some(etag) = etag else {
            return Err(StorageError::Unavailable(format!(
                "s3://{} : pas d'ETag pour le dossier {n}, comparaison impossible",
                self.bucket
            )));
        };
        self.ajouter_au_journal(dossier).await?;
        let ecriture = id_ecriture();
        let corps = Self::corps(expected + 1, &ecriture, dossier)?;
        let mode = PutMode::Update(UpdateVersion {
            e_tag: Some(etag),
            version: None,
        });
        match self
            .s3
            .put_opts(&self.cle_dossier(n), corps, mode.into())
            .await
        {
            Ok(_) => Ok(expected + 1),
            Err(e) => {
                let e = self.err(e);
                if self.est_notre_ecriture(n, &ecriture).await {
                    return Ok(expected + 1);
                }
                Err(e)
            }
        }
    }

    async fn list(&self) -> Result<Vec<NumeroDossier>, StorageError> {
        Ok(self
            .noms_sous("dossiers")
            .await?
            .iter()
            .filter_map(|f| NumeroDossier::parse(f.strip_suffix(".json")?).ok())
            .collect())
    }

    async fn journal(&self, numero: &NumeroDossier) -> Result<Vec<Evenement>, StorageError> {
        let metas = self.lister(&format!("journal/{}", numero.as_str())).await?;
        futures_util::stream::iter(metas)
            .map(|m| async move {
                match self.lire_json::<Evenement>(&m.location).await? {
                    Some((e, _)) => Ok(e),
                    None => Err(StorageError::NotFound(format!(
                        "s3://{}/{} : listée puis absente",
                        self.bucket, m.location
                    ))),
                }
            })
            .buffer_unordered(8)
            .try_collect()
            .await
    }
}

#[async_trait]
impl PieceStore for S3Store {
    async fn put(
        &self,
        cle: &CleContenu,
        mut contenu: FluxOctets,
    ) -> Result<ContenuStocke, StorageError> {
        let chemin = self.cle_piece(cle);
        // Ids carry 80 random bits; this check keeps write-once even on servers without
        // conditional writes.
        match self.s3.head(&chemin).await {
            Ok(_) => {
                return Err(StorageError::AlreadyExists(format!(
                    "s3://{}/{chemin}",
                    self.bucket
                )));
            }
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(self.err(e)),
        }
        let mut hacheur = sha2::Sha256::new();
        let mut taille = 0u64;
        let mut tampon = BytesMut::new();
        let mut envoi: Option<WriteMultipart> = None;
        let resultat: Result<(), StorageError> = async {
            while let Some(morceau) = contenu.next().await {
                let morceau = morceau?;
                hacheur.update(&morceau);
                taille += morceau.len() as u64;
                tampon.extend_from_slice(&morceau);
                if tampon.len() >= SEUIL_MULTIPART {
                    if envoi.is_none() {
                        let upload = self
                            .s3
                            .put_multipart(&chemin)
                            .await
                            .map_err(|e| self.err(e))?;
                        envoi = Some(WriteMultipart::new_with_chunk_size(upload, SEUIL_MULTIPART));
                    }
                    if let Some(w) = envoi.as_mut() {
                        // Bounded memory: at most two parts in flight.
                        w.wait_for_capacity(2).await.map_err(|e| self.err(e))?;
                        w.put(tampon.split().freeze());
                    }
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = resultat {
            if let Some(w) = envoi {
                let _ = w.abort().await;
            }
            return Err(e);
        }
        let sha = Sha256::depuis_octets(hacheur.finalize().into());
        match envoi {
            None => {
                let mut attributs = Attributes::new();
                attributs.insert(Attribute::Metadata("sha256".into()), sha.hex().into());
                attributs.insert(
                    Attribute::Metadata("taille".into()),
                    taille.to_string().into(),
                );
                let opts = PutOptions {
                    attributes: attributs,
                    ..Default::default()
                };
                self.s3
                    .put_opts(&chemin, PutPayload::from(tampon.freeze()), opts)
                    .await
                    .map_err(|e| self.err(e))?;
            }
            Some(mut w) => {
                if !tampon.is_empty() {
                    w.put(tampon.freeze());
                }
                if let Err(e) = w.finish().await {
                    // finish aborts on error.
                    return Err(self.err(e));
                }
                let temoin = self.cle_temoin(cle);
                self.s3
                    .put(
                        &temoin,
                        PutPayload::from(format!("{}  {taille}\n", sha.hex()).into_bytes()),
                    )
                    .await
                    .map_err(|e| self.err(e))?;
            }
        }
        Ok(ContenuStocke {
            taille,
            sha256: sha,
        })
    }

    async fn get(&self, cle: &CleContenu) -> Result<FluxOctets, StorageError> {
        let r = self
            .s3
            .get(&self.cle_piece(cle))
            .await
            .map_err(|e| self.err(e))?;
        let bucket = self.bucket.clone();
        Ok(Box::pin(
            r.into_stream()
                .map(move |m| m.map_err(|e| conv(&bucket, e))),
        ))
    }

    async fn delete(&self, cle: &CleContenu) -> Result<(), StorageError> {
        let temoin = self.cle_temoin(cle);
        for chemin in [self.cle_piece(cle), temoin] {
            match self.s3.delete(&chemin).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(self.err(e)),
            }
        }
        Ok(())
    }

    async fn list(&self, numero: &NumeroDossier) -> Result<Vec<FichierId>, StorageError> {
        Ok(self
            .noms_sous(&format!("pieces/{}", numero.as_str()))
            .await?
            .iter()
            .filter_map(|f| FichierId::parse(f).ok())
            .collect())
    }
}

#[async_trait]
impl CredentialStore for S3Store {
    async fn definir(
        &self,
        numero: &NumeroDossier,
        hash: &HashMotDePasse,
    ) -> Result<(), StorageError> {
        let cle = self.chemin(&format!("identifiants/{}.phc", numero.as_str()));
        self.s3
            .put(&cle, PutPayload::from(Bytes::from(hash.phc().to_owned())))
            .await
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    async fn lire(&self, numero: &NumeroDossier) -> Result<Option<HashMotDePasse>, StorageError> {
        let cle = self.chemin(&format!("identifiants/{}.phc", numero.as_str()));
        let Some((o, _)) = self.lire_objet(&cle).await? else {
            return Ok(None);
        };
        let s = String::from_utf8(o.to_vec()).map_err(|_| {
            StorageError::Corrupt(format!("s3://{}/{cle} : pas de l'UTF-8", self.bucket))
        })?;
        Ok(Some(HashMotDePasse::depuis_phc(s)))
    }

    async fn effacer(&self, numero: &NumeroDossier) -> Result<(), StorageError> {
        let cle = self.chemin(&format!("identifiants/{}.phc", numero.as_str()));
        match self.s3.delete(&cle).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err(e)),
        }
    }
}

/// The `[s3]` section of depot-server's S3 file. The secret is not accepted here: it comes
/// from `DEPOT_S3_SECRET_ACCESS_KEY` or from the file named by `secret_access_key_file`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SectionS3 {
    endpoint: Option<String>,
    region: Option<String>,
    bucket: Option<String>,
    prefix: Option<String>,
    access_key_id: Option<String>,
    secret_access_key_file: Option<String>,
    allow_http: Option<bool>,
    timeout_s: Option<u64>,
    max_retries: Option<usize>,
    retry_timeout_s: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FichierS3 {
    s3: SectionS3,
}

/// Why the S3 settings cannot be used; each says what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErreurConfigS3 {
    /// The secret key was written in the settings file.
    #[error(
        "la clé secrète S3 ne s'écrit pas dans le fichier : utilisez DEPOT_S3_SECRET_ACCESS_KEY ou secret_access_key_file"
    )]
    SecretDansLeFichier,
    /// The settings file is not valid TOML or has an unknown key.
    #[error("configuration S3 : {0}")]
    Toml(#[source] toml::de::Error),
    /// The file holding the secret key cannot be read.
    #[error("secret_access_key_file {chemin} : {source}")]
    FichierSecret {
        /// The file named by `secret_access_key_file`.
        chemin: String,
        /// Why it cannot be read.
        #[source]
        source: std::io::Error,
    },
    /// No secret key given.
    #[error("clé secrète S3 absente : DEPOT_S3_SECRET_ACCESS_KEY ou secret_access_key_file")]
    SecretAbsent,
    /// No bucket given.
    #[error("bucket S3 absent (bucket ou DEPOT_S3_BUCKET)")]
    BucketAbsent,
    /// No access key id given.
    #[error("access_key_id S3 absent (access_key_id ou DEPOT_S3_ACCESS_KEY_ID)")]
    IdentifiantAbsent,
}

impl ConfigS3 {
    /// Reads the settings from an optional TOML text (`[s3]` section) and the environment
    /// (`DEPOT_S3_ENDPOINT`, `_REGION`, `_BUCKET`, `_PREFIX`, `_ACCESS_KEY_ID`,
    /// `_SECRET_ACCESS_KEY`), the environment winning. `env` is passed in for testability.
    pub fn charger(
        toml_texte: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ErreurConfigS3> {
        let section = match toml_texte {
            Some(t) => {
                if t.lines().any(|l| {
                    l.trim_start().starts_with("secret_access_key ")
                        || l.trim_start().starts_with("secret_access_key=")
                }) {
                    return Err(ErreurConfigS3::SecretDansLeFichier);
                }
                toml::from_str::<FichierS3>(t)
                    .map_err(ErreurConfigS3::Toml)?
                    .s3
            }
            None => SectionS3::default(),
        };
        let v = |cle: &str, fichier: Option<String>| env(&format!("DEPOT_S3_{cle}")).or(fichier);
        let secret = match env("DEPOT_S3_SECRET_ACCESS_KEY") {
            Some(s) => SecretString::from(s),
            None => match &section.secret_access_key_file {
                Some(f) => std::fs::read_to_string(f)
                    .map(|s| SecretString::from(s.trim()))
                    .map_err(|source| ErreurConfigS3::FichierSecret {
                        chemin: f.clone(),
                        source,
                    })?,
                None => return Err(ErreurConfigS3::SecretAbsent),
            },
        };
        let bucket = v("BUCKET", section.bucket).ok_or(ErreurConfigS3::BucketAbsent)?;
        Ok(Self {
            endpoint: v("ENDPOINT", section.endpoint),
            region: v("REGION", section.region).unwrap_or_else(|| "us-east-1".to_owned()),
            bucket,
            prefix: v("PREFIX", section.prefix).unwrap_or_default(),
            access_key_id: v("ACCESS_KEY_ID", section.access_key_id)
                .ok_or(ErreurConfigS3::IdentifiantAbsent)?,
            secret_access_key: secret,
            allow_http: section.allow_http.unwrap_or(false),
            timeout: section.timeout_s.map(Duration::from_secs),
            max_retries: section.max_retries,
            retry_timeout: section.retry_timeout_s.map(Duration::from_secs),
            sans_connexions_persistantes: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_fichier_et_environnement() {
        let t = "[s3]\nendpoint = \"http://127.0.0.1:3900\"\nregion = \"garage\"\nbucket = \"depot\"\naccess_key_id = \"GK1\"\nallow_http = true\n";
        let env = |k: &str| (k == "DEPOT_S3_SECRET_ACCESS_KEY").then(|| "chut".to_owned());
        let c = ConfigS3::charger(Some(t), env).unwrap();
        assert_eq!(
            (c.region.as_str(), c.bucket.as_str(), c.allow_http),
            ("garage", "depot", true)
        );
        assert_eq!(c.secret_access_key.expose_secret(), "chut");
        assert!(
            !format!("{c:?}").contains("chut"),
            "the secret is never printed"
        );
        // The environment wins.
        let c = ConfigS3::charger(Some(t), |k| match k {
            "DEPOT_S3_SECRET_ACCESS_KEY" => Some("x".into()),
            "DEPOT_S3_BUCKET" => Some("autre".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.bucket, "autre");
        // No secret in the file, no secret at all, unknown keys: refused with a clear error.
        let e =
            ConfigS3::charger(Some(&format!("{t}secret_access_key = \"x\"\n")), env).unwrap_err();
        assert!(matches!(e, ErreurConfigS3::SecretDansLeFichier));
        assert!(e.to_string().contains("DEPOT_S3_SECRET_ACCESS_KEY"), "{e}");
        let e = ConfigS3::charger(Some(t), |_| None).unwrap_err();
        assert!(matches!(e, ErreurConfigS3::SecretAbsent), "{e}");
        let e = ConfigS3::charger(Some(&format!("{t}regoin = \"x\"\n")), env).unwrap_err();
        assert!(matches!(e, ErreurConfigS3::Toml(_)));
        assert!(e.to_string().contains("regoin"), "{e}");
    }
}
