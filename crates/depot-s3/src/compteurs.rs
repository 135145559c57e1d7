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
//! Within one instance, the callers of a key first queue in arrival order (a FIFO lock per
//! key, `FilesLocales`); only the head of the queue asks S3 for the lease. A lease is no
//! queue: a caller giving one back and asking again for its next change took it at once,
//! while the others slept between their tries (up to 50 ms), and one of them could wait past
//! [`ATTENTE_MAX`] behind its neighbours (8 callers × 20 changes of the same keys on moto_server,
//! the conformance test: 1 run in 3 failed so on a slow morning). Between instances the
//! leases stay first come, first served at each try, with the same bound.
//!
//! The price: about four requests per key and call (lease, read, write, release), where
//! PostgreSQL needs one transaction — PostgreSQL is the store for several busy instances;
//! this one makes S3-only deployments correct.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

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

/// Per key, the queue of this instance's callers: a FIFO lock (tokio's `Mutex` serves its
/// waiters in order). A key's entry lives while a caller holds or waits for it.
#[derive(Clone, Debug, Default)]
pub(crate) struct FilesLocales(Arc<std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>);

/// The head of a key's queue; leaving it lets the next caller in, and removes the key's
/// entry when nobody waits. (A waiter whose call is dropped while it waits leaves the entry
/// behind, empty, until the key's next caller leaves.)
struct Place {
    garde: Option<tokio::sync::OwnedMutexGuard<()>>,
    nom: String,
    files: FilesLocales,
}

impl FilesLocales {
    async fn attendre(&self, nom: &str) -> Place {
        let file = {
            let mut files = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            files.entry(nom.to_owned()).or_default().clone()
        };
        Place {
            garde: Some(file.lock_owned().await),
            nom: nom.to_owned(),
            files: self.clone(),
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        drop(self.garde.take());
        let mut files = self.files.0.lock().unwrap_or_else(PoisonError::into_inner);
        // Only the map's own reference left: nobody holds or waits for this key.
        if files
            .get(&self.nom)
            .is_some_and(|f| Arc::strong_count(f) == 1)
        {
            files.remove(&self.nom);
        }
    }
}

impl S3Store {
    fn cle_compteur(&self, nom: &str, suffixe: &str) -> Path {
        self.chemin(&format!("compteurs/{nom}.{suffixe}"))
    }

    fn occupe(&self, nom: &str) -> StorageError {
        StorageError::Unavailable(format!(
            "s3://{}/{} : compteur occupé depuis plus de {} s",
            self.bucket,
            self.cle_compteur(nom, "verrou"),
            ATTENTE_MAX.as_secs()
        ))
    }

    /// Takes the lease of `nom` for `porteur`, waiting while another holds it, until
    /// [`ATTENTE_MAX`] after `debut`.
    async fn prendre(&self, nom: &str, porteur: &str, debut: Instant) -> Result<(), StorageError> {
        let cle = self.cle_compteur(nom, "verrou");
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
                return Err(self.occupe(nom));
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

    /// Runs `travail` holding the leases of `noms` (taken in sorted order, each after this
    /// instance's earlier callers of the key), and gives them back whatever happens.
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
        let debut = Instant::now();
        let mut places = Vec::new();
        let mut pris = Vec::new();
        let mut resultat = Ok(());
        for nom in ordre {
            let reste = ATTENTE_MAX.saturating_sub(debut.elapsed());
            match tokio::time::timeout(reste, self.files_compteurs.attendre(nom)).await {
                Ok(place) => places.push(place),
                Err(_) => {
                    resultat = Err(self.occupe(nom));
                    break;
                }
            }
            match self.prendre(nom, &porteur, debut).await {
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
        // The next caller of this instance asks for a lease given back.
        drop(places);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cles(files: &FilesLocales) -> usize {
        files.0.lock().unwrap().len()
    }

    #[tokio::test]
    async fn file_locale_dans_l_ordre_d_arrivee_puis_retiree() {
        let files = FilesLocales::default();
        let tete = files.attendre("k").await;
        let ordre = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut attentes = Vec::new();
        for i in 0..4 {
            let (files, ordre) = (files.clone(), ordre.clone());
            attentes.push(tokio::spawn(async move {
                let _place = files.attendre("k").await;
                ordre.lock().unwrap().push(i);
                // Give the others every chance to pass before this one leaves.
                for _ in 0..10 {
                    tokio::task::yield_now().await;
                }
            }));
            // Each waiter in the queue before the next one is started.
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
        }
        // Another key is not held up by this one.
        drop(files.attendre("autre").await);
        assert_eq!(cles(&files), 1, "a key nobody waits for is removed");
        assert!(ordre.lock().unwrap().is_empty(), "all wait behind the head");
        drop(tete);
        for a in attentes {
            a.await.unwrap();
        }
        assert_eq!(*ordre.lock().unwrap(), [0, 1, 2, 3]);
        assert_eq!(cles(&files), 0, "no entry left once all have left");
    }
}
