//! Retention (RGPD): what candidates sent is kept as long as the CDG set for the concours
//! (`[conservation]` in its file, decided with its archives service), then purged **with
//! proof**: the content leaves the store, the file's record stays with its SHA-256, and the
//! dossier's hash-chained journal gets an entry listing what was removed — the chain and the
//! récépissé still verify, and the CDG can show what existed and when it was destroyed.
//!
//! Implemented: the files of pieces marked `identite = true`,
//! `pieces_identite_apres_decision` days after the instruction's decision (recevable or
//! rejet) — the CNIL considers a copy of an identity document excessive once checked.
//! A purged file answers `fichier_purge` to the candidate and to staff.

use chrono::{DateTime, Duration, Utc};

use crate::config::Concours;
use crate::dossier::{Dossier, Evenement, Fichier, Quoi};
use crate::ids::{FichierId, NumeroDossier, Sha256};
use crate::instruction::StatutInstruction;

/// Why files are purged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MotifPurge {
    /// Identity documents, after the instruction's decision.
    PiecesIdentite,
    /// A dossier never closed, after its deadline: everything personal.
    DossierNonCloture,
    /// Every dossier of the session, after the end of the concours: everything personal.
    FinDeConservation,
}

impl MotifPurge {
    /// Its code in the journal.
    pub fn code(self) -> &'static str {
        match self {
            MotifPurge::PiecesIdentite => "pieces_identite",
            MotifPurge::DossierNonCloture => "dossier_non_cloture",
            MotifPurge::FinDeConservation => "fin_de_conservation",
        }
    }

    /// Whether the candidate's identity, declarations and password go too.
    pub fn dossier_entier(self) -> bool {
        !matches!(self, MotifPurge::PiecesIdentite)
    }

    /// In words, for staff.
    pub fn libelle(self) -> &'static str {
        match self {
            MotifPurge::PiecesIdentite => "pièces d'identité, après la décision",
            MotifPurge::DossierNonCloture => "dossier jamais clôturé",
            MotifPurge::FinDeConservation => "fin de la durée de conservation",
        }
    }
}

/// A purge a dossier is scheduled for: when, why, which files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgePrevue {
    /// The dossier.
    pub numero: NumeroDossier,
    /// Why.
    pub motif: MotifPurge,
    /// From when it is due.
    pub le: DateTime<Utc>,
    /// The files it removes (not purged yet).
    pub fichiers: Vec<FichierId>,
}

/// Retention on hold for a dossier (a dispute): who, when, why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Suspension {
    /// Why.
    pub raison: String,
    /// Since when.
    pub le: DateTime<Utc>,
    /// The staff member who put it on hold.
    pub par: String,
}

impl Dossier {
    /// Whether retention is on hold, and why.
    pub fn conservation_suspendue(&self) -> Option<&Suspension> {
        self.conservation_suspendue.as_ref()
    }

    /// Puts retention on hold (`Some(raison)`) or resumes it (`None`), journaled. Only a
    /// staff member who instructs; resuming what is not on hold, or holding again, changes
    /// nothing.
    pub fn suspendre_conservation(
        &mut self,
        qui: &crate::instruction::Gestionnaire,
        raison: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Option<Evenement>, crate::Refus> {
        if qui.role != crate::instruction::Role::Instruction {
            return Err(crate::Refus::ActionNonAutorisee);
        }
        let acteur = crate::dossier::Acteur::Gestionnaire { id: qui.id.clone() };
        match (raison, &self.conservation_suspendue) {
            (Some(r), None) => {
                let raison = r.trim().chars().take(500).collect::<String>();
                if raison.is_empty() {
                    return Err(crate::Refus::ChampInvalide {
                        champ: "raison",
                        raison: "dites pourquoi la conservation est suspendue.".into(),
                    });
                }
                self.conservation_suspendue = Some(Suspension {
                    raison: raison.clone(),
                    le: now,
                    par: qui.id.clone(),
                });
                Ok(Some(self.journaliser(
                    now,
                    acteur,
                    Quoi::ConservationSuspendue { raison },
                )))
            }
            (None, Some(_)) => {
                self.conservation_suspendue = None;
                Ok(Some(self.journaliser(
                    now,
                    acteur,
                    Quoi::ConservationReprise,
                )))
            }
            _ => Ok(None),
        }
    }

    /// The purges this dossier is scheduled for under `concours`' retention rules (none
    /// when nothing is left to purge, or while retention is on hold).
    pub fn purges_prevues(&self, concours: &Concours) -> Vec<PurgePrevue> {
        let mut v = Vec::new();
        if self.conservation_suspendue.is_some() || self.efface_le.is_some() {
            return v;
        }
        let non_purges = || -> Vec<FichierId> {
            self.fichiers()
                .iter()
                .filter(|f| f.purge_le.is_none())
                .map(|f| f.id.clone())
                .collect()
        };
        // The whole dossier: the earliest of its two rules.
        let mut entier: Option<(MotifPurge, DateTime<Utc>)> = None;
        if let Some(jours) = concours.conservation.dossiers_non_clotures
            && self.cloture_le().is_none()
        {
            let le = self.limite_depot(concours).instant() + Duration::days(i64::from(jours));
            entier = Some((MotifPurge::DossierNonCloture, le));
        }
        if let Some(jours) = concours.conservation.dossiers
            && let Some(fin) = concours.calendrier.fin_concours
        {
            let le = fin.instant() + Duration::days(i64::from(jours));
            if entier.is_none_or(|(_, avant)| le < avant) {
                entier = Some((MotifPurge::FinDeConservation, le));
            }
        }
        if let Some((motif, le)) = entier {
            v.push(PurgePrevue {
                numero: self.numero().clone(),
                motif,
                le,
                fichiers: non_purges(),
            });
        }
        if let Some(jours) = concours.conservation.pieces_identite_apres_decision
            && let Some(i) = self.instruction()
            && matches!(
                i.statut,
                StatutInstruction::Recevable | StatutInstruction::Rejete { .. }
            )
        {
            let fichiers: Vec<FichierId> = self
                .fichiers()
                .iter()
                .filter(|f| f.purge_le.is_none())
                .filter(|f| concours.piece(f.piece.as_str()).is_some_and(|p| p.identite))
                .map(|f| f.id.clone())
                .collect();
            if !fichiers.is_empty() {
                v.push(PurgePrevue {
                    numero: self.numero().clone(),
                    motif: MotifPurge::PiecesIdentite,
                    le: i.depuis + Duration::days(i64::from(jours)),
                    fichiers,
                });
            }
        }
        v
    }

    /// Marks `fichiers` purged at `now` and journals them with their SHA-256. Files already
    /// purged or unknown are skipped; `None` when nothing was left to purge.
    pub fn purger(
        &mut self,
        motif: MotifPurge,
        fichiers: &[FichierId],
        now: DateTime<Utc>,
    ) -> Option<Evenement> {
        if self.efface_le.is_some() {
            return None;
        }
        let mut purges: Vec<(FichierId, Sha256)> = Vec::new();
        for f in self.fichiers_mut() {
            if f.purge_le.is_none() && fichiers.contains(&f.id) {
                f.purge_le = Some(now);
                purges.push((f.id.clone(), f.sha256));
            }
        }
        let identite = motif.dossier_entier();
        if identite {
            self.effacer_identite();
            self.courriels.clear();
            self.rappels.clear();
            self.reinitialisation = None;
            self.efface_le = Some(now);
        } else if purges.is_empty() {
            return None;
        }
        Some(self.journaliser(
            now,
            crate::dossier::Acteur::Systeme,
            Quoi::Purge {
                motif: motif.code().to_owned(),
                fichiers: purges,
                identite,
            },
        ))
    }

    /// When its personal data were erased, if they were.
    pub fn efface_le(&self) -> Option<DateTime<Utc>> {
        self.efface_le
    }
}

/// What a retention round did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BilanConservation {
    /// The purges due (done, unless dry).
    pub faites: Vec<PurgePrevue>,
    /// Contents that could not be deleted from the store now (the record says purged: they
    /// are never served; the next round deletes them).
    pub contenus_restants: usize,
    /// Dossiers skipped for a storage failure.
    pub dossiers_en_echec: usize,
}

impl crate::Espace {
    /// Puts a dossier's retention on hold (`Some(raison)`: a dispute) or resumes it.
    pub async fn suspendre_conservation(
        &self,
        qui: &crate::instruction::Gestionnaire,
        numero: &NumeroDossier,
        raison: Option<String>,
    ) -> Result<(), crate::ErreurEspace> {
        self.modifier(numero, |d, _, now| {
            d.suspendre_conservation(qui, raison.clone(), now).map(drop)
        })
        .await
        .map_err(crate::ErreurEspace::from)
    }

    /// The purges scheduled from now to `horizon` ahead (those already due included), soonest
    /// first: what staff see as « expire dans les 30 jours ».
    pub async fn purges_a_venir(
        &self,
        horizon: Duration,
    ) -> Result<Vec<PurgePrevue>, crate::ErreurEspace> {
        let mut v = Vec::new();
        for n in self.ports().dossiers.list().await? {
            let c = match self.consulter(&n).await {
                Ok(c) => c,
                Err(crate::ErreurEspace::Stockage(crate::StorageError::NotFound(_))) => continue,
                Err(e) => return Err(e),
            };
            let limite = c.maintenant + horizon;
            v.extend(
                c.dossier
                    .purges_prevues(&c.concours)
                    .into_iter()
                    .filter(|p| p.le <= limite),
            );
        }
        v.sort_by(|a, b| a.le.cmp(&b.le).then_with(|| a.numero.cmp(&b.numero)));
        Ok(v)
    }

    /// The purges due at the espace's now, or performed with `a_blanc = false`: for each,
    /// the record first (files marked purged and journaled, by compare-and-swap), then the
    /// contents deleted from the store. Idempotent: a second round purges nothing more, and
    /// deletes any content a failed deletion left.
    pub async fn conserver(&self, a_blanc: bool) -> Result<BilanConservation, crate::ErreurEspace> {
        let mut bilan = BilanConservation::default();
        for n in self.ports().dossiers.list().await? {
            let c = match self.consulter(&n).await {
                Ok(c) => c,
                Err(crate::ErreurEspace::Stockage(crate::StorageError::NotFound(_))) => continue,
                Err(_) => {
                    bilan.dossiers_en_echec += 1;
                    continue;
                }
            };
            let dues: Vec<PurgePrevue> = c
                .dossier
                .purges_prevues(&c.concours)
                .into_iter()
                .filter(|p| p.le <= c.maintenant)
                .collect();
            if a_blanc {
                bilan.faites.extend(dues);
                continue;
            }
            for p in &dues {
                let r = self
                    .modifier(&n, |d, _, now| {
                        d.purger(p.motif, &p.fichiers, now);
                        Ok::<_, crate::Refus>(())
                    })
                    .await;
                if r.is_err() {
                    bilan.dossiers_en_echec += 1;
                }
            }
            // An erased dossier: nobody logs in to it again.
            if dues.iter().any(|p| p.motif.dossier_entier()) {
                if self.ports().identifiants.effacer(&n).await.is_err() {
                    bilan.dossiers_en_echec += 1;
                }
                let _ = self
                    .ports()
                    .sessions
                    .supprimer_titulaire(
                        crate::session::EspeceSession::Candidat,
                        &crate::session::Titulaire::encoder(&n),
                    )
                    .await;
            }
            // Every purged file's content leaves the store (again, if a deletion failed):
            // the record as this round left it — read again only if it purged something.
            let dossier = if dues.is_empty() {
                c.dossier
            } else {
                match self.ports().dossiers.load(&n).await {
                    Ok(v) => v.valeur,
                    Err(_) => {
                        bilan.dossiers_en_echec += 1;
                        bilan.faites.extend(dues);
                        continue;
                    }
                }
            };
            bilan.faites.extend(dues);
            let purges: Vec<&Fichier> = dossier
                .fichiers()
                .iter()
                .filter(|f| f.purge_le.is_some())
                .collect();
            if purges.is_empty() {
                continue;
            }
            let presents = self.ports().pieces.list(&n).await.unwrap_or_default();
            for f in purges {
                if !presents.contains(&f.id) {
                    continue;
                }
                let cle = crate::ports::CleContenu {
                    numero: n.clone(),
                    fichier: f.id.clone(),
                };
                match self.ports().pieces.delete(&cle).await {
                    Ok(()) | Err(crate::StorageError::NotFound(_)) => {}
                    Err(_) => bilan.contenus_restants += 1,
                }
            }
        }
        Ok(bilan)
    }
}
