//! Antivirus: every upload scanned **while it streams**, so that an infected file is
//! refused while the candidate is still there; the CDG never opens a file that was not
//! found clean.
//!
//! - [`Antivirus`] is the port (clamd in `depot-clamav`; a marker-matching fake in
//!   `testkit`): a scan is opened, fed the same chunks as the format check and the
//!   store, then asked its verdict — awaited **before** the content is published.
//! - **Infected** → the upload is refused (`virus_detecte`), nothing is stored, the dossier's
//!   journal records the file's SHA-256 and the signature.
//! - **Scanner unavailable or slow** (refused connection, timeout: the adapter's deadline) →
//!   the upload is **accepted** with its analysis [`StatutAnalyse::EnAttente`]: an
//!   infrastructure fault never costs a candidate their registration on deadline night.
//!   [`Espace::analyser_en_attente`](crate::Espace::analyser_en_attente) scans those files
//!   again until a verdict (next round, then 10 s, 20 s… at most ten minutes apart).
//! - The staff side **fails closed**: a file whose analysis is not [`StatutAnalyse::Saine`]
//!   is not served to staff nor exported. A file found infected later is quarantined (kept,
//!   never served, not even to the candidate), the candidate is told and may deposit a
//!   replacement for that piece even after closure.
//!
//! Without an antivirus configured, files carry no analysis and are served as before.

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a scan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing found.
    Sain,
    /// A signature matched.
    Infecte {
        /// The signature's name (« Win.Test.EICAR_HDB-1 »).
        signature: String,
    },
}

/// The scanning engine and its signature database, as recorded with each verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moteur {
    /// « ClamAV 1.4.6 ».
    pub nom: String,
    /// The signature database's version, when the engine says it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
}

/// The scanner could not give a verdict (connection refused, timeout, protocol error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("antivirus indisponible : {0}")]
pub struct Indisponible(pub String);

/// A scan in progress: fed chunk by chunk, then asked its verdict.
#[async_trait]
pub trait AnalyseEnCours: Send {
    /// The next chunk of the file.
    async fn nourrir(&mut self, morceau: Bytes) -> Result<(), Indisponible>;
    /// The end of the file: the verdict.
    async fn verdict(self: Box<Self>) -> Result<Verdict, Indisponible>;
}

/// The antivirus port.
#[async_trait]
pub trait Antivirus: Send + Sync {
    /// Starts scanning a file.
    async fn ouvrir(&self) -> Result<Box<dyn AnalyseEnCours>, Indisponible>;
    /// The engine and its database (for the record of each verdict and the readiness
    /// check).
    async fn moteur(&self) -> Result<Moteur, Indisponible>;
}

/// Where a file's analysis stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "statut", rename_all = "snake_case")]
pub enum StatutAnalyse {
    /// Found clean.
    Saine,
    /// Not scanned yet (the scanner was unavailable): never served to staff.
    EnAttente,
    /// Found infected after it was recorded: quarantined, never served.
    Infectee {
        /// The signature's name.
        signature: String,
    },
}

impl StatutAnalyse {
    /// The API code: `saine`, `en_attente`, `infectee`.
    pub fn code(&self) -> &'static str {
        match self {
            StatutAnalyse::Saine => "saine",
            StatutAnalyse::EnAttente => "en_attente",
            StatutAnalyse::Infectee { .. } => "infectee",
        }
    }
}

/// A file's antivirus analysis, recorded with the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalyseAntivirus {
    /// Where it stands.
    #[serde(flatten)]
    pub statut: StatutAnalyse,
    /// The engine that gave the verdict (none while pending).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moteur: Option<Moteur>,
    /// When the verdict was given, or when the file was recorded pending.
    pub le: DateTime<Utc>,
    /// Scans attempted while pending (for the worker's back-off).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tentatives: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl AnalyseAntivirus {
    /// Whether staff may open the file: found clean.
    pub fn servable(&self) -> bool {
        self.statut == StatutAnalyse::Saine
    }

    /// When the worker should try a pending file again: at its next round after the
    /// upload, then 10, 20, 40… seconds after each failed attempt, at most ten minutes
    /// apart (clamd restarted after an update is back within the minute).
    pub fn prochain_essai(&self) -> DateTime<Utc> {
        if self.tentatives == 0 {
            return self.le;
        }
        let secondes = 10i64 << (self.tentatives - 1).min(6);
        self.le + chrono::Duration::seconds(secondes.min(600))
    }
}

/// An in-memory antivirus that finds one marker: what the tests, the previews and the
/// benchmarks use (clamd is in `depot-clamav`). It finds `marqueur` wherever it is in the
/// bytes, across chunk boundaries; it can be made unavailable (every scan then fails, as a
/// clamd that is down) and counts the scans it completed. Clones share their state.
#[derive(Clone)]
pub struct AntivirusMarqueur(std::sync::Arc<Marqueur>);

struct Marqueur {
    marqueur: Vec<u8>,
    signature: String,
    disponible: std::sync::atomic::AtomicBool,
    analyses: std::sync::atomic::AtomicUsize,
}

impl Marqueur {
    fn verifier(&self) -> Result<(), Indisponible> {
        if self.disponible.load(std::sync::atomic::Ordering::SeqCst) {
            Ok(())
        } else {
            Err(Indisponible("connexion refusée (simulée)".into()))
        }
    }
}

impl AntivirusMarqueur {
    /// Finds `marqueur` (an empty one is taken as one NUL byte), reporting `signature`.
    pub fn new(marqueur: &[u8], signature: &str) -> Self {
        Self(std::sync::Arc::new(Marqueur {
            marqueur: if marqueur.is_empty() {
                b"\0".to_vec()
            } else {
                marqueur.to_vec()
            },
            signature: signature.to_owned(),
            disponible: std::sync::atomic::AtomicBool::new(true),
            analyses: std::sync::atomic::AtomicUsize::new(0),
        }))
    }

    /// Makes it answer, or fail every scan.
    pub fn rendre_disponible(&self, oui: bool) {
        self.0
            .disponible
            .store(oui, std::sync::atomic::Ordering::SeqCst);
    }

    /// Scans completed (a verdict given).
    pub fn analyses(&self) -> usize {
        self.0.analyses.load(std::sync::atomic::Ordering::SeqCst)
    }
}

struct AnalyseMarqueur {
    av: std::sync::Arc<Marqueur>,
    /// The last bytes seen (the marker may straddle two chunks).
    queue: Vec<u8>,
    trouve: bool,
}

#[async_trait]
impl AnalyseEnCours for AnalyseMarqueur {
    async fn nourrir(&mut self, morceau: Bytes) -> Result<(), Indisponible> {
        self.av.verifier()?;
        if !self.trouve {
            let mut fenetre = std::mem::take(&mut self.queue);
            fenetre.extend_from_slice(&morceau);
            let m = &self.av.marqueur;
            self.trouve = fenetre.windows(m.len()).any(|w| w == m.as_slice());
            let garde = m.len() - 1;
            self.queue = fenetre[fenetre.len().saturating_sub(garde)..].to_vec();
        }
        Ok(())
    }

    async fn verdict(self: Box<Self>) -> Result<Verdict, Indisponible> {
        self.av.verifier()?;
        self.av
            .analyses
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(if self.trouve {
            Verdict::Infecte {
                signature: self.av.signature.clone(),
            }
        } else {
            Verdict::Sain
        })
    }
}

#[async_trait]
impl Antivirus for AntivirusMarqueur {
    async fn ouvrir(&self) -> Result<Box<dyn AnalyseEnCours>, Indisponible> {
        self.0.verifier()?;
        Ok(Box::new(AnalyseMarqueur {
            av: self.0.clone(),
            queue: Vec::new(),
            trouve: false,
        }))
    }

    async fn moteur(&self) -> Result<Moteur, Indisponible> {
        self.0.verifier()?;
        Ok(Moteur {
            nom: "marqueur (mémoire)".into(),
            base: None,
        })
    }
}

/// What a round of the antivirus worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BilanAnalyses {
    /// Pending files found clean.
    pub saines: usize,
    /// Pending files found infected (quarantined, candidate told).
    pub infectees: usize,
    /// Files still pending (the scanner still unavailable), or not due yet.
    pub en_attente: usize,
    /// Dossiers skipped for a storage failure.
    pub dossiers_en_echec: usize,
}

/// Scans a stored content.
async fn analyser_contenu(
    antivirus: &dyn Antivirus,
    mut flux: crate::ports::FluxOctets,
) -> Result<Verdict, Indisponible> {
    use futures_util::StreamExt;
    let mut a = antivirus.ouvrir().await?;
    while let Some(m) = flux.next().await {
        let m = m.map_err(|e| Indisponible(format!("lecture du contenu : {e}")))?;
        a.nourrir(m).await?;
    }
    a.verdict().await
}

/// Which files a rescan takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reanalyse {
    /// Files found clean by another signature database than the scanner's current one
    /// (when the scanner says its database's version).
    BaseChangee,
    /// Every file found clean.
    Toutes,
}

impl crate::Espace {
    /// Scans again the files found clean (after a signature database update: a file that
    /// was clean yesterday may match a signature published today). Infected → quarantined,
    /// journaled, the candidate told, exactly as a pending file found infected; clean → its
    /// analysis updated. Files are read one by one from the store; scanner unavailable →
    /// the round stops, nothing changed for the files left.
    pub async fn reanalyser(&self, quoi: Reanalyse) -> Result<BilanAnalyses, crate::ErreurEspace> {
        let mut bilan = BilanAnalyses::default();
        let Some(antivirus) = self.ports().antivirus.clone() else {
            return Ok(bilan);
        };
        let actuel = antivirus
            .moteur()
            .await
            .map_err(|e| crate::StorageError::Unavailable(e.to_string()))?;
        self.parcourir(&mut bilan, |f| {
            let a = f
                .antivirus
                .as_ref()
                .filter(|a| a.statut == StatutAnalyse::Saine)?;
            let base_changee = actuel.base.is_some()
                && a.moteur.as_ref().and_then(|m| m.base.as_ref()) != actuel.base.as_ref();
            (quoi == Reanalyse::Toutes || base_changee).then_some(Some(a.tentatives))
        })
        .await?;
        Ok(bilan)
    }

    /// One round of the antivirus worker: every file recorded pending (the scanner was
    /// unavailable when it was uploaded) whose next try is due is scanned again from the
    /// store. Clean → served to staff from now on; infected → quarantined, journaled, the
    /// candidate told by e-mail and allowed to deposit a replacement; still unavailable →
    /// tried again after 10, 20, 40… seconds (at most ten minutes apart). Idempotent; several
    /// instances may run it (a verdict is recorded by compare-and-swap).
    pub async fn analyser_en_attente(&self) -> Result<BilanAnalyses, crate::ErreurEspace> {
        let mut bilan = BilanAnalyses::default();
        let now = self.maintenant();
        self.parcourir(&mut bilan, |f| {
            let a = f
                .antivirus
                .as_ref()
                .filter(|a| a.statut == StatutAnalyse::EnAttente)?;
            // Not due yet: counted as still pending.
            Some((a.prochain_essai() <= now).then_some(a.tentatives.saturating_add(1)))
        })
        .await?;
        Ok(bilan)
    }

    /// Scans, dossier by dossier, the files `choisir` picks — `Some(Some(n))`: now, with
    /// `n` the attempt count to record; `Some(None)`: not now (counted pending) — and
    /// records each verdict.
    async fn parcourir(
        &self,
        bilan: &mut BilanAnalyses,
        choisir: impl Fn(&crate::Fichier) -> Option<Option<u32>>,
    ) -> Result<(), crate::ErreurEspace> {
        let Some(antivirus) = self.ports().antivirus.clone() else {
            return Ok(());
        };
        for n in self.ports().dossiers.list().await? {
            let v = match self.ports().dossiers.load(&n).await {
                Ok(v) => v,
                Err(crate::StorageError::NotFound(_)) => continue,
                Err(_) => {
                    bilan.dossiers_en_echec += 1;
                    continue;
                }
            };
            for f in v.valeur.fichiers() {
                let tentatives = match choisir(f) {
                    None => continue,
                    Some(None) => {
                        bilan.en_attente += 1;
                        continue;
                    }
                    Some(Some(t)) => t,
                };
                let cle = crate::ports::CleContenu {
                    numero: n.clone(),
                    fichier: f.id.clone(),
                };
                let verdict = match self.ports().pieces.get(&cle).await {
                    Ok(flux) => analyser_contenu(&*antivirus, flux).await,
                    Err(e) => Err(Indisponible(format!("contenu illisible : {e}"))),
                };
                let (statut, moteur) = match &verdict {
                    Ok(Verdict::Sain) => (StatutAnalyse::Saine, antivirus.moteur().await.ok()),
                    Ok(Verdict::Infecte { signature }) => (
                        StatutAnalyse::Infectee {
                            signature: signature.clone(),
                        },
                        antivirus.moteur().await.ok(),
                    ),
                    // No verdict: still pending (a clean file stays clean).
                    Err(_) if f.antivirus.as_ref().is_some_and(AnalyseAntivirus::servable) => {
                        bilan.en_attente += 1;
                        continue;
                    }
                    Err(_) => (StatutAnalyse::EnAttente, None),
                };
                let nouvelle = AnalyseAntivirus {
                    statut,
                    moteur,
                    le: self.maintenant(),
                    tentatives,
                };
                match self.enregistrer_analyse(&n, f, nouvelle).await {
                    Ok(false) => {}
                    Ok(true) => match verdict {
                        Ok(Verdict::Sain) => bilan.saines += 1,
                        Ok(Verdict::Infecte { .. }) => bilan.infectees += 1,
                        Err(_) => bilan.en_attente += 1,
                    },
                    Err(_) => bilan.dossiers_en_echec += 1,
                }
            }
        }
        Ok(())
    }

    /// Records a file's new analysis (and, if infected, queues the candidate's e-mail),
    /// only if the file still has the analysis it had when read: another instance may have
    /// been first. `true` when recorded.
    async fn enregistrer_analyse(
        &self,
        n: &crate::NumeroDossier,
        f: &crate::Fichier,
        nouvelle: AnalyseAntivirus,
    ) -> Result<bool, crate::ErreurEspace> {
        let (id, avant) = (f.id.clone(), f.antivirus.clone());
        let infecte = matches!(nouvelle.statut, StatutAnalyse::Infectee { .. });
        self.modifier(n, |d, _, now| {
            let inchangee = d.fichier(&id).is_some_and(|f| f.antivirus == avant);
            if inchangee {
                d.noter_analyse(&id, nouvelle.clone(), now);
                if infecte {
                    self.programmer(
                        d,
                        crate::courriel::SorteCourriel::FichierInfecte {
                            fichier: id.clone(),
                        },
                        now,
                    );
                }
            }
            Ok::<_, crate::Refus>(inchangee)
        })
        .await
        .map_err(crate::ErreurEspace::from)
    }
}
