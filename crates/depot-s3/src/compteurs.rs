//! Throttling counts on S3, for servers whose records are on S3.
//!
//! ```text
//! <prefix>/compteurs/<SHA-256 of the key, hex>.json     the key's instants
//! <prefix>/compteurs/<SHA-256 of the key, hex>.verrou   a lease, while a call changes it
//! ```
//!
//! `CompteurStore::modifier` changes the lists of several keys atomically; S3 changes one
//! object at a time. So a call first takes a **lease** on each of its keys, in one order
//! (the keys' hashes sorted: two calls never wait for each other in a circle): a lease is an
//! object created with `If-None-Match: *`, naming its holder and when it lapses. Holding them
//! all, the call reads the lists, applies its change, writes them back, then gives the
//! leases back. A lease whose holder died lapses after [`BAIL`]; the next caller takes it
//! over with `If-Match: <etag>` — only one of several callers can. Lapsing is judged on each
//! instance's clock: the instances' clocks must agree within a few seconds (NTP), far less
//! than the lease. Waiting for a lease is
//! bounded ([`ATTENTE_MAX`]): beyond it the call fails as unavailable, and the login it
//! counts for is refused, never let through unchecked.
//!
//! The price: about four requests per key and call (lease, read, write, release), where
//! PostgreSQL needs one transaction — PostgreSQL is the store for several busy instances;
//! this one makes S3-only deployments correct.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use depot_core::limitation::{CompteurStore, Instants, Modification};
use depot_core::ports::{Random, SystemRandom};
use depot_core::{Sha256, StorageError};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};

use crate::S3Store;

/// How long a lease lasts: far longer than a call (a few requests), so only a holder that
/// died loses it.
pub const BAIL: chrono::TimeDelta = chrono::TimeDelta::seconds(30);
/// How long a call waits for a key another call holds.
pub const ATTENTE_MAX: Duration = Duration::from_secs(10);

#[derive(Serialize, Deserialize)]
struct Bail {
    porteur: String,
    jusqu_a: DateTime<Utc>,
}

impl S3Store {
    fn cle_compteur(&self, nom: &str, suffixe: &str) -> Path {
        self.chemin(&format!("compteurs/{nom}.{suffixe}"))
    }

    /// Takes the lease of `nom` for `porteur`, waiting (bounded) while another holds it.
    async fn prendre(&self, nom: &str, porteur: &str) -> Result<(), StorageError> {
        let cle = self.cle_compteur(nom, "verrou");
        let debut = std::time::Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            let bail = Bail {
                porteur: porteur.to_owned(),
                jusqu_a: Utc::now() + BAIL,
            };
            let corps = serde_json::to_vec(&bail)
                .map_err(|e| StorageError::Corrupt(format!("bail : {e}")))?;
            match self
                .s3
                .put_opts(
                    &cle,
                    PutPayload::from(corps.clone()),
                    PutMode::Create.into(),
                )
                .await
            {
                Ok(_) => return Ok(()),
                Err(object_store::Error::AlreadyExists { .. }) => {}
                Err(e) => return Err(self.err(e)),
            }
            // Held: taken over if it lapsed (its holder died), otherwise wait.
            match self.lire_objet(&cle).await? {
                Some((octets, etag)) => {
                    let echu = serde_json::from_slice::<Bail>(&octets)
                        .map_or(true, |b| b.jusqu_a < Utc::now());
                    if echu && etag.is_some() {
                        let mode = PutMode::Update(UpdateVersion {
                            e_tag: etag,
                            version: None,
                        });
                        match self
                            .s3
                            .put_opts(&cle, PutPayload::from(corps), mode.into())
                            .await
                        {
                            Ok(_) => return Ok(()),
                            Err(object_store::Error::Precondition { .. })
                            | Err(object_store::Error::NotFound { .. }) => {}
                            Err(e) => return Err(self.err(e)),
                        }
                    }
                }
                // Given back meanwhile: try again at once.
                None => continue,
            }
            if debut.elapsed() > ATTENTE_MAX {
                return Err(StorageError::Unavailable(format!(
                    "s3://{}/{cle} : compteur occupé depuis plus de {} s",
                    self.bucket,
                    ATTENTE_MAX.as_secs()
                )));
            }
            // A little randomness, so that waiting callers do not retry in step.
            let mut alea = [0u8; 1];
            SystemRandom.remplir(&mut alea);
            tokio::time::sleep(pause + Duration::from_micros(u64::from(alea[0]) * 20)).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    async fn rendre(&self, nom: &str) {
        // A lease not given back lapses after BAIL: nothing to do on failure.
        let _ = self.s3.delete(&self.cle_compteur(nom, "verrou")).await;
    }

    async fn lire_compteur(&self, nom: &str) -> Result<Instants, StorageError> {
        Ok(self
            .lire_json(&self.cle_compteur(nom, "json"))
            .await?
            .map(|(l, _)| l)
            .unwrap_or_default())
    }

    async fn ecrire_compteur(&self, nom: &str, instants: &Instants) -> Result<(), StorageError> {
        let cle = self.cle_compteur(nom, "json");
        if instants.is_empty() {
            return match self.s3.delete(&cle).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(self.err(e)),
            };
        }
        let corps = serde_json::to_vec(instants)
            .map_err(|e| StorageError::Corrupt(format!("compteur : {e}")))?;
        self.s3
            .put(&cle, PutPayload::from(corps))
            .await
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Runs `travail` holding the leases of `noms` (taken in sorted order), and gives them
    /// back whatever happens.
    async fn sous_baux<T>(
        &self,
        noms: &[String],
        travail: impl std::future::Future<Output = Result<T, StorageError>>,
    ) -> Result<T, StorageError> {
        let mut ordre: Vec<&String> = noms.iter().collect();
        ordre.sort();
        ordre.dedup();
        let mut porteur = [0u8; 16];
        SystemRandom.remplir(&mut porteur);
        let porteur = hex::encode(porteur);
        let mut pris = Vec::new();
        let mut resultat = Ok(());
        for nom in ordre {
            match self.prendre(nom, &porteur).await {
                Ok(()) => pris.push(nom),
                Err(e) => {
                    resultat = Err(e);
                    break;
                }
            }
        }
        let sortie = match resultat {
            Ok(()) => travail.await,
            Err(e) => Err(e),
        };
        for nom in pris {
            self.rendre(nom).await;
        }
        sortie
    }
}

/// A key's name on S3: its SHA-256 (keys hold client addresses and n°, never written).
fn nom(cle: &str) -> String {
    Sha256::de(cle.as_bytes()).hex()
}

#[async_trait]
impl CompteurStore for S3Store {
    async fn modifier(&self, cles: &[String], mut f: Modification) -> Result<(), StorageError> {
        let noms: Vec<String> = cles.iter().map(|c| nom(c)).collect();
        self.sous_baux(&noms, async {
            let mut listes = Vec::with_capacity(noms.len());
            for n in &noms {
                listes.push(self.lire_compteur(n).await?);
            }
            let avant = listes.clone();
            f(&mut listes);
            for (n, (l, a)) in noms.iter().zip(listes.iter().zip(&avant)) {
                if l != a {
                    self.ecrire_compteur(n, l).await?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn nettoyer(&self, avant: DateTime<Utc>) -> Result<u64, StorageError> {
        let metas = self.lister("compteurs").await?;
        let mut n = 0;
        let comptes: std::collections::HashSet<String> = metas
            .iter()
            .filter_map(|m| {
                m.location
                    .filename()?
                    .strip_suffix(".json")
                    .map(str::to_owned)
            })
            .collect();
        for m in &metas {
            // A lease left by a holder that died, on a key with no count, last written
            // before `avant` (long lapsed: a lease lasts seconds): taken over the usual way
            // (so that no live holder could lose it) and given back, which removes it.
            if let Some(nom) = m
                .location
                .filename()
                .and_then(|f| f.strip_suffix(".verrou"))
                && !comptes.contains(nom)
                && m.last_modified < avant
            {
                let nom = [nom.to_owned()];
                self.sous_baux(&nom, async { Ok(()) }).await?;
            }
        }
        for m in metas {
            let Some(nom) = m
                .location
                .filename()
                .and_then(|f| f.strip_suffix(".json"))
                .map(str::to_owned)
            else {
                continue;
            };
            let nom = [nom];
            let retire = self
                .sous_baux(&nom, async {
                    let l = self.lire_compteur(&nom[0]).await?;
                    if l.last().is_none_or(|t| *t < avant) {
                        self.ecrire_compteur(&nom[0], &Vec::new()).await?;
                        return Ok(true);
                    }
                    Ok(false)
                })
                .await?;
            n += u64::from(retire);
        }
        Ok(n)
    }
}
