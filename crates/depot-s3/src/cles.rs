//! The récépissé signing key on S3, for servers whose records are on S3: every instance
//! signs with the same key and publishes the same list.
//!
//! ```text
//! <prefix>/cles/recepisse.ed25519   the seed (64 hex characters), created once
//! <prefix>/cles/publiees.json       every public key ever published
//! ```
//!
//! The seed is created with `If-None-Match: *`: the first instance to start writes it, every
//! other one (and every later start) reads that one. The published list is replaced with
//! `If-Match: <etag>` (created with `If-None-Match: *`), read again on a conflict, so two
//! instances publishing at once lose neither key.
//!
//! The seed is as secret as the dossiers in the same bucket: whoever reads the bucket can
//! sign. An operator who keeps it elsewhere gives it to depot-server instead
//! (`DEPOT_CLE_SIGNATURE`), and only the public keys live here.

use async_trait::async_trait;
use depot_core::StorageError;
use depot_core::signature::{ClePublique, Cles, KeyStore};
use object_store::{ObjectStore, PutMode, PutPayload, UpdateVersion};
use zeroize::Zeroizing;

use crate::S3Store;

const GRAINE: &str = "cles/recepisse.ed25519";
const PUBLIEES: &str = "cles/publiees.json";
/// Conflicting publications retried before giving up.
const ESSAIS: usize = 16;

impl S3Store {
    async fn lire_graine(&self) -> Result<Option<Zeroizing<[u8; 32]>>, StorageError> {
        let cle = self.chemin(GRAINE);
        let Some((octets, _)) = self.lire_objet(&cle).await? else {
            return Ok(None);
        };
        let octets = Zeroizing::new(octets.to_vec());
        let mut graine = Zeroizing::new([0u8; 32]);
        let texte = std::str::from_utf8(&octets).unwrap_or("");
        hex::decode_to_slice(texte.trim(), &mut *graine).map_err(|_| {
            StorageError::Corrupt(format!(
                "s3://{}/{cle} : clé illisible (64 caractères hexadécimaux attendus)",
                self.bucket
            ))
        })?;
        Ok(Some(graine))
    }

    /// The published list and its ETag (`None`: no list yet).
    async fn lire_publiees(&self) -> Result<(Cles, Option<String>), StorageError> {
        Ok(match self.lire_json(&self.chemin(PUBLIEES)).await? {
            Some((cles, etag)) => (cles, Some(etag.unwrap_or_default())),
            None => (Cles { cles: Vec::new() }, None),
        })
    }
}

#[async_trait]
impl KeyStore for S3Store {
    async fn graine_ou_creer(
        &self,
        proposee: Zeroizing<[u8; 32]>,
    ) -> Result<Zeroizing<[u8; 32]>, StorageError> {
        if let Some(g) = self.lire_graine().await? {
            return Ok(g);
        }
        let texte = Zeroizing::new(hex::encode(*proposee) + "\n");
        match self
            .s3
            .put_opts(
                &self.chemin(GRAINE),
                PutPayload::from(texte.as_bytes().to_vec()),
                PutMode::Create.into(),
            )
            .await
        {
            // Ours, or another instance's written first: the stored one either way.
            Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => {}
            Err(e) => return Err(self.err(e)),
        }
        self.lire_graine().await?.ok_or_else(|| {
            StorageError::Unavailable(format!(
                "s3://{}/{GRAINE} : écrite mais introuvable",
                self.bucket
            ))
        })
    }

    async fn publiees(&self) -> Result<Cles, StorageError> {
        Ok(self.lire_publiees().await?.0)
    }

    async fn publier(&self, cle: ClePublique) -> Result<Cles, StorageError> {
        for _ in 0..ESSAIS {
            let (mut cles, etag) = self.lire_publiees().await?;
            if cles.cles.iter().any(|c| c.id == cle.id) {
                return Ok(cles);
            }
            cles.cles.push(cle.clone());
            let corps = serde_json::to_vec_pretty(&cles)
                .map_err(|e| StorageError::Corrupt(format!("clés publiées : {e}")))?;
            let mode = match etag {
                Some(e) => PutMode::Update(UpdateVersion {
                    e_tag: Some(e),
                    version: None,
                }),
                None => PutMode::Create,
            };
            match self
                .s3
                .put_opts(&self.chemin(PUBLIEES), PutPayload::from(corps), mode.into())
                .await
            {
                Ok(_) => return Ok(cles),
                // Another instance published meanwhile: read its list again.
                Err(object_store::Error::Precondition { .. })
                | Err(object_store::Error::AlreadyExists { .. }) => continue,
                Err(e) => return Err(self.err(e)),
            }
        }
        Err(StorageError::Conflict(format!(
            "s3://{}/{PUBLIEES} : trop de publications concurrentes",
            self.bucket
        )))
    }
}
