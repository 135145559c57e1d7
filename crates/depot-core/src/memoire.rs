//! In-memory implementations of every port: for tests, demos, and as the reference the
//! conformance suite is checked against.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;

use crate::auth::{CredentialStore, HashMotDePasse};
use crate::dossier::{Dossier, Evenement};
use crate::erreur::StorageError;
use crate::ids::{FichierId, NumeroDossier, Sha256};
use crate::limitation::{CompteurStore, Instants, Modification};
use crate::ports::{
    CleContenu, ContenuStocke, DossierStore, FluxOctets, PieceStore, Versionne, flux_de,
};
use crate::session::{EspeceSession, SessionStockee, SessionStore};
use crate::signature::{ClePublique, Cles, KeyStore};
use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

fn verrou<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Dossier records in memory, with real compare-and-swap, and their journals.
#[derive(Debug, Default)]
pub struct MemoireDossiers(Mutex<Dossiers>);

#[derive(Debug, Default)]
struct Dossiers {
    enregistrements: BTreeMap<NumeroDossier, Versionne<Dossier>>,
    journaux: BTreeMap<NumeroDossier, Vec<Evenement>>,
}

impl Dossiers {
    fn journaliser(&mut self, d: &Dossier) {
        let j = self.journaux.entry(d.numero().clone()).or_default();
        for e in d.entrees_a_ecrire() {
            if !j.contains(e) {
                j.push(e.clone());
            }
        }
    }
}

impl MemoireDossiers {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl DossierStore for MemoireDossiers {
    async fn create(&self, dossier: &Dossier) -> Result<(), StorageError> {
        let mut m = verrou(&self.0);
        if m.enregistrements.contains_key(dossier.numero()) {
            return Err(StorageError::AlreadyExists(format!(
                "dossier {}",
                dossier.numero()
            )));
        }
        m.journaliser(dossier);
        m.enregistrements.insert(
            dossier.numero().clone(),
            Versionne {
                valeur: dossier.tel_qu_enregistre(),
                version: 1,
            },
        );
        Ok(())
    }

    async fn load(&self, numero: &NumeroDossier) -> Result<Versionne<Dossier>, StorageError> {
        verrou(&self.0)
            .enregistrements
            .get(numero)
            .cloned()
            .ok_or_else(|| StorageError::NotFound(format!("dossier {numero}")))
    }

    async fn save(&self, dossier: &Dossier, expected: u64) -> Result<u64, StorageError> {
        let mut m = verrou(&self.0);
        let actuel = m
            .enregistrements
            .get_mut(dossier.numero())
            .ok_or_else(|| StorageError::NotFound(format!("dossier {}", dossier.numero())))?;
        if actuel.version != expected {
            return Err(StorageError::Conflict(format!(
                "dossier {} : version {} attendue, {} trouvée",
                dossier.numero(),
                expected,
                actuel.version
            )));
        }
        actuel.valeur = dossier.tel_qu_enregistre();
        actuel.version = expected + 1;
        let version = actuel.version;
        m.journaliser(dossier);
        Ok(version)
    }

    async fn list(&self) -> Result<Vec<NumeroDossier>, StorageError> {
        Ok(verrou(&self.0).enregistrements.keys().cloned().collect())
    }

    async fn journal(&self, numero: &NumeroDossier) -> Result<Vec<Evenement>, StorageError> {
        Ok(verrou(&self.0)
            .journaux
            .get(numero)
            .cloned()
            .unwrap_or_default())
    }
}

/// File contents in memory.
#[derive(Debug, Default)]
pub struct MemoirePieces(Mutex<BTreeMap<CleContenu, Bytes>>);

impl MemoirePieces {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of contents held (for tests on leaks).
    pub fn nombre(&self) -> usize {
        verrou(&self.0).len()
    }
}

#[async_trait]
impl PieceStore for MemoirePieces {
    async fn put(
        &self,
        cle: &CleContenu,
        contenu: FluxOctets,
    ) -> Result<ContenuStocke, StorageError> {
        if verrou(&self.0).contains_key(cle) {
            return Err(StorageError::AlreadyExists(format!(
                "contenu {}",
                cle.fichier
            )));
        }
        let octets = crate::ports::lire_tout(contenu).await?;
        let stocke = ContenuStocke {
            taille: octets.len() as u64,
            sha256: Sha256::de(&octets),
        };
        let mut m = verrou(&self.0);
        if m.contains_key(cle) {
            return Err(StorageError::AlreadyExists(format!(
                "contenu {}",
                cle.fichier
            )));
        }
        m.insert(cle.clone(), Bytes::from(octets));
        Ok(stocke)
    }

    async fn get(&self, cle: &CleContenu) -> Result<FluxOctets, StorageError> {
        verrou(&self.0)
            .get(cle)
            .cloned()
            .map(flux_de)
            .ok_or_else(|| StorageError::NotFound(format!("contenu {}", cle.fichier)))
    }

    async fn delete(&self, cle: &CleContenu) -> Result<(), StorageError> {
        verrou(&self.0).remove(cle);
        Ok(())
    }

    async fn list(&self, numero: &NumeroDossier) -> Result<Vec<FichierId>, StorageError> {
        Ok(verrou(&self.0)
            .keys()
            .filter(|k| &k.numero == numero)
            .map(|k| k.fichier.clone())
            .collect())
    }
}

/// Password hashes in memory.
#[derive(Debug, Default)]
pub struct MemoireIdentifiants(Mutex<BTreeMap<NumeroDossier, HashMotDePasse>>);

impl MemoireIdentifiants {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl CredentialStore for MemoireIdentifiants {
    async fn definir(
        &self,
        numero: &NumeroDossier,
        hash: &HashMotDePasse,
    ) -> Result<(), StorageError> {
        verrou(&self.0).insert(numero.clone(), hash.clone());
        Ok(())
    }

    async fn lire(&self, numero: &NumeroDossier) -> Result<Option<HashMotDePasse>, StorageError> {
        Ok(verrou(&self.0).get(numero).cloned())
    }

    async fn effacer(&self, numero: &NumeroDossier) -> Result<(), StorageError> {
        verrou(&self.0).remove(numero);
        Ok(())
    }
}

/// The signing key and published keys in memory.
#[derive(Debug, Default)]
pub struct MemoireCles(Mutex<(Option<[u8; 32]>, Cles)>);

impl MemoireCles {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl KeyStore for MemoireCles {
    async fn graine_ou_creer(
        &self,
        proposee: Zeroizing<[u8; 32]>,
    ) -> Result<Zeroizing<[u8; 32]>, StorageError> {
        let mut m = verrou(&self.0);
        Ok(Zeroizing::new(*m.0.get_or_insert(*proposee)))
    }

    async fn publiees(&self) -> Result<Cles, StorageError> {
        Ok(verrou(&self.0).1.clone())
    }

    async fn publier(&self, cle: ClePublique) -> Result<Cles, StorageError> {
        let mut m = verrou(&self.0);
        if !m.1.cles.iter().any(|c| c.id == cle.id) {
            m.1.cles.push(cle);
        }
        Ok(m.1.clone())
    }
}

/// Sessions in memory (a restart forgets them: tests and demos).
#[derive(Debug, Default)]
pub struct MemoireSessions {
    sessions: Mutex<std::collections::HashMap<(EspeceSession, [u8; 32]), SessionStockee>>,
    touchers: std::sync::atomic::AtomicUsize,
}

impl MemoireSessions {
    /// How many times a last use was written (tests of the once-a-minute refresh).
    pub fn touchers(&self) -> usize {
        self.touchers.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[async_trait]
impl SessionStore for MemoireSessions {
    async fn supprimer_titulaire(
        &self,
        espece: EspeceSession,
        titulaire: &str,
    ) -> Result<u64, StorageError> {
        let mut m = verrou(&self.sessions);
        let avant = m.len();
        m.retain(|(e, _), s| *e != espece || s.titulaire != titulaire);
        Ok((avant - m.len()) as u64)
    }

    async fn creer(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
        session: &SessionStockee,
    ) -> Result<(), StorageError> {
        verrou(&self.sessions).insert((espece, *empreinte.octets()), session.clone());
        Ok(())
    }

    async fn lire(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
    ) -> Result<Option<SessionStockee>, StorageError> {
        Ok(verrou(&self.sessions)
            .get(&(espece, *empreinte.octets()))
            .cloned())
    }

    async fn toucher(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
        vue: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.touchers
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Some(s) = verrou(&self.sessions).get_mut(&(espece, *empreinte.octets())) {
            s.vue = s.vue.max(vue);
        }
        Ok(())
    }

    async fn supprimer(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
    ) -> Result<(), StorageError> {
        verrou(&self.sessions).remove(&(espece, *empreinte.octets()));
        Ok(())
    }

    async fn purger(
        &self,
        inactive_avant: DateTime<Utc>,
        creee_avant: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        let mut m = verrou(&self.sessions);
        let avant = m.len();
        m.retain(|_, s| s.ouverte(inactive_avant, creee_avant));
        Ok((avant - m.len()) as u64)
    }

    async fn compter(
        &self,
        espece: EspeceSession,
        inactive_avant: DateTime<Utc>,
        creee_avant: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        Ok(verrou(&self.sessions)
            .iter()
            .filter(|((e, _), s)| *e == espece && s.ouverte(inactive_avant, creee_avant))
            .count() as u64)
    }
}

/// Throttling counts in memory.
#[derive(Debug, Default)]
pub struct MemoireCompteurs(Mutex<std::collections::HashMap<String, Instants>>);

#[async_trait]
impl CompteurStore for MemoireCompteurs {
    async fn modifier(&self, cles: &[String], mut f: Modification) -> Result<(), StorageError> {
        let mut m = verrou(&self.0);
        let mut listes: Vec<Instants> = cles
            .iter()
            .map(|c| m.get(c).cloned().unwrap_or_default())
            .collect();
        f(&mut listes);
        for (c, l) in cles.iter().zip(listes) {
            if l.is_empty() {
                m.remove(c);
            } else {
                m.insert(c.clone(), l);
            }
        }
        Ok(())
    }

    async fn nettoyer(&self, avant: DateTime<Utc>) -> Result<u64, StorageError> {
        let mut m = verrou(&self.0);
        let n = m.len();
        m.retain(|_, l| l.last().is_some_and(|t| *t >= avant));
        Ok((n - m.len()) as u64)
    }
}
