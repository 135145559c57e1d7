//! The CDG's side after closure: « votre dossier est clôturé, il est en cours
//! d'instruction ».
//!
//! States after closure (stored in [`Instruction`]): in instruction; `Incomplet` (the CDG
//! asks for named pieces, with a message and a deadline; the candidate uploads those pieces
//! only, until that deadline, then « Transmettre les compléments »); `Recevable` (admis à
//! concourir); `Rejete` with a motif. Every transition is guarded — who (the role) and from
//! which state — and returns the journal entry it produced, with the staff id as actor. A
//! decision can be revised by an `instruction` role with a reason (« repasser en
//! instruction »). A forclos dossier (not closed in time) can be reopened only by an explicit,
//! journalled decision with a reason and a new deadline; nothing is ever deleted.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendrier::DateLimite;
use crate::config::Concours;
use crate::dossier::{Acteur, Dossier, Etat, EtatLu, Evenement, Identite, Quoi};
use crate::erreur::{PieceNommee, Refus, StorageError};
use crate::ids::{CodeConcours, CodePiece, NumeroDossier};

/// What a member of the service concours may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read dossiers, journals and files; export.
    Lecture,
    /// Also decide: complements, recevable, rejet, revision, reopening.
    Instruction,
}

/// A member of the CDG's service concours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gestionnaire {
    /// Their id, recorded in the journal.
    pub id: String,
    /// Their role.
    pub role: Role,
}

impl Gestionnaire {
    fn peut_decider(&self) -> Result<(), Refus> {
        match self.role {
            Role::Instruction => Ok(()),
            Role::Lecture => Err(Refus::ActionNonAutorisee),
        }
    }

    fn acteur(&self) -> Acteur {
        Acteur::Gestionnaire {
            id: self.id.clone(),
        }
    }
}

/// Why a dossier is rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MotifRejet {
    /// Sent too late.
    HorsDelai,
    /// Conditions d'accès not met.
    ConditionsNonRemplies,
    /// Complements not sent.
    DossierIncomplet,
    /// Superseded by a later registration to the same concours elsewhere (one registration
    /// per concours: the latest supersedes).
    InscriptionRemplacee,
    /// Another reason, given in the text.
    Autre,
}

impl MotifRejet {
    /// For candidates.
    pub fn libelle(self) -> &'static str {
        match self {
            MotifRejet::HorsDelai => "dossier transmis hors délai",
            MotifRejet::ConditionsNonRemplies => "conditions d'accès au concours non remplies",
            MotifRejet::DossierIncomplet => "dossier incomplet",
            MotifRejet::InscriptionRemplacee => {
                "inscription remplacée par une inscription plus récente au même concours"
            }
            MotifRejet::Autre => "autre motif",
        }
    }
}

/// The CDG's request for complements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemandeComplements {
    /// The pieces asked for.
    pub pieces: Vec<CodePiece>,
    /// The message to the candidate.
    pub message: String,
    /// Until when (exclusive).
    pub date_limite: DateLimite,
    /// When it was asked.
    pub demandee_le: DateTime<Utc>,
}

/// Where the instruction of a closed dossier stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "statut", rename_all = "snake_case")]
pub enum StatutInstruction {
    /// Being checked.
    EnInstruction,
    /// Complements asked.
    Incomplet(DemandeComplements),
    /// Admis à concourir.
    Recevable,
    /// Rejected.
    Rejete {
        /// Why.
        motif: MotifRejet,
        /// Details for the candidate.
        texte: Option<String>,
    },
}

/// The instruction of a dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instruction {
    /// Where it stands.
    pub statut: StatutInstruction,
    /// Since when.
    pub depuis: DateTime<Utc>,
}

/// A forclos dossier reopened by the CDG.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reouverture {
    /// The dossier's own dépôt deadline.
    pub jusqu_au: DateLimite,
    /// Why (kept in the journal too).
    pub raison: String,
}

fn statut_de(d: &Dossier) -> Option<&StatutInstruction> {
    d.instruction.as_ref().map(|i| &i.statut)
}

fn interdit(d: &Dossier, concours: &Concours, now: DateTime<Utc>, action: &'static str) -> Refus {
    Refus::TransitionInterdite {
        etat: d.etat_lu(concours, now).code(),
        action,
    }
}

fn texte_requis(champ: &'static str, t: &str) -> Result<String, Refus> {
    let t = t.trim();
    if t.is_empty() {
        Err(Refus::ChampInvalide {
            champ,
            raison: "ce champ est obligatoire.".to_owned(),
        })
    } else {
        Ok(t.chars().take(2000).collect())
    }
}

impl Dossier {
    fn instruire(&mut self, statut: StatutInstruction, now: DateTime<Utc>) {
        self.instruction = Some(Instruction {
            statut,
            depuis: now,
        });
    }

    /// Whether the dossier is closed and being checked (no decision pending on it).
    fn en_instruction(&self) -> bool {
        matches!(self.etat, Etat::Cloture { .. })
            && matches!(
                statut_de(self),
                None | Some(StatutInstruction::EnInstruction)
            )
    }

    /// The CDG asks for named pieces of this dossier, with a message and a deadline.
    pub fn demander_complements(
        &mut self,
        concours: &Concours,
        qui: &Gestionnaire,
        pieces: &[String],
        message: &str,
        date_limite: DateLimite,
        now: DateTime<Utc>,
    ) -> Result<Evenement, Refus> {
        qui.peut_decider()?;
        if !self.en_instruction() {
            return Err(interdit(self, concours, now, "demander des compléments"));
        }
        let mut codes = Vec::new();
        for p in pieces {
            let spec = self
                .pieces(concours)
                .find(|s| s.code.as_str() == p)
                .ok_or_else(|| Refus::PieceInconnue {
                    code: p.chars().take(64).collect(),
                })?;
            if !codes.contains(&spec.code) {
                codes.push(spec.code.clone());
            }
        }
        if codes.is_empty() {
            return Err(Refus::ChampInvalide {
                champ: "pieces",
                raison: "nommez au moins une pièce.".to_owned(),
            });
        }
        if date_limite.est_depassee(now) {
            return Err(Refus::ChampInvalide {
                champ: "date_limite",
                raison: "la date limite doit être dans le futur.".to_owned(),
            });
        }
        let message = texte_requis("message", message)?;
        self.instruire(
            StatutInstruction::Incomplet(DemandeComplements {
                pieces: codes.clone(),
                message,
                date_limite,
                demandee_le: now,
            }),
            now,
        );
        Ok(self.journaliser(
            now,
            qui.acteur(),
            Quoi::DemandeComplements {
                pieces: codes,
                date_limite: date_limite.instant(),
            },
        ))
    }

    /// « Transmettre les compléments »: every requested piece has a file deposited since the
    /// request, and the deadline has not passed; the dossier returns to instruction.
    pub fn transmettre_complements(
        &mut self,
        concours: &Concours,
        now: DateTime<Utc>,
    ) -> Result<Evenement, Refus> {
        let Some(StatutInstruction::Incomplet(d)) = statut_de(self) else {
            return Err(interdit(self, concours, now, "transmettre des compléments"));
        };
        if d.date_limite.est_depassee(now) {
            return Err(Refus::DelaiDepasse {
                date_limite: d.date_limite.libelle(),
            });
        }
        let manquantes: Vec<PieceNommee> = d
            .pieces
            .iter()
            .filter(|c| {
                !self
                    .fichiers
                    .iter()
                    .any(|f| &f.piece == *c && f.depose_le >= d.demandee_le)
            })
            .map(|c| PieceNommee {
                code: c.clone(),
                libelle: concours
                    .piece(c.as_str())
                    .map_or_else(|| c.to_string(), |p| p.libelle.clone()),
            })
            .collect();
        if !manquantes.is_empty() {
            return Err(Refus::PiecesManquantes { manquantes });
        }
        self.instruire(StatutInstruction::EnInstruction, now);
        Ok(self.journaliser(now, Acteur::Candidat, Quoi::TransmissionComplements))
    }

    /// Admis à concourir.
    pub fn declarer_recevable(
        &mut self,
        concours: &Concours,
        qui: &Gestionnaire,
        now: DateTime<Utc>,
    ) -> Result<Evenement, Refus> {
        qui.peut_decider()?;
        if !self.en_instruction() {
            return Err(interdit(self, concours, now, "déclarer recevable"));
        }
        self.instruire(StatutInstruction::Recevable, now);
        Ok(self.journaliser(now, qui.acteur(), Quoi::Recevable))
    }

    /// Rejects a dossier in instruction or incomplete, with a motif (`autre` needs a text).
    pub fn rejeter(
        &mut self,
        concours: &Concours,
        qui: &Gestionnaire,
        motif: MotifRejet,
        texte: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Evenement, Refus> {
        qui.peut_decider()?;
        let possible = self.en_instruction()
            || matches!(statut_de(self), Some(StatutInstruction::Incomplet(_)));
        if !possible {
            return Err(interdit(self, concours, now, "rejeter"));
        }
        let texte = match (motif, texte) {
            (MotifRejet::Autre, t) => Some(texte_requis("texte", t.unwrap_or(""))?),
            (_, Some(t)) if !t.trim().is_empty() => Some(t.trim().chars().take(2000).collect()),
            _ => None,
        };
        self.instruire(StatutInstruction::Rejete { motif, texte }, now);
        Ok(self.journaliser(now, qui.acteur(), Quoi::Rejet { motif }))
    }

    /// A later registration to the same concours supersedes this one (by depot itself).
    pub fn remplacer(&mut self, now: DateTime<Utc>) -> Option<Evenement> {
        if matches!(statut_de(self), Some(StatutInstruction::Rejete { .. })) {
            return None;
        }
        self.instruire(
            StatutInstruction::Rejete {
                motif: MotifRejet::InscriptionRemplacee,
                texte: None,
            },
            now,
        );
        Some(self.journaliser(
            now,
            Acteur::Systeme,
            Quoi::Rejet {
                motif: MotifRejet::InscriptionRemplacee,
            },
        ))
    }

    /// « Repasser en instruction »: a decision (recevable, rejet) revised, with a reason.
    pub fn reviser(
        &mut self,
        concours: &Concours,
        qui: &Gestionnaire,
        raison: &str,
        now: DateTime<Utc>,
    ) -> Result<Evenement, Refus> {
        qui.peut_decider()?;
        if !matches!(
            statut_de(self),
            Some(StatutInstruction::Recevable | StatutInstruction::Rejete { .. })
        ) || !matches!(self.etat, Etat::Cloture { .. })
        {
            return Err(interdit(self, concours, now, "réviser la décision"));
        }
        let raison = texte_requis("raison", raison)?;
        self.instruire(StatutInstruction::EnInstruction, now);
        Ok(self.journaliser(now, qui.acteur(), Quoi::Revision { raison }))
    }

    /// Reopens a forclos dossier (not closed by the deadline) until `jusqu_au`, with a reason
    /// (e.g. a proven outage). The candidate can then deposit and close as before.
    pub fn rouvrir(
        &mut self,
        concours: &Concours,
        qui: &Gestionnaire,
        raison: &str,
        jusqu_au: DateLimite,
        now: DateTime<Utc>,
    ) -> Result<Evenement, Refus> {
        qui.peut_decider()?;
        if self.etat_lu(concours, now) != EtatLu::NonClotureHorsDelai {
            return Err(interdit(self, concours, now, "rouvrir"));
        }
        if jusqu_au.est_depassee(now) {
            return Err(Refus::ChampInvalide {
                champ: "jusqu_au",
                raison: "la nouvelle date limite doit être dans le futur.".to_owned(),
            });
        }
        let raison = texte_requis("raison", raison)?;
        self.reouverture = Some(Reouverture {
            jusqu_au,
            raison: raison.clone(),
        });
        Ok(self.journaliser(
            now,
            qui.acteur(),
            Quoi::Reouverture {
                raison,
                jusqu_au: jusqu_au.instant(),
            },
        ))
    }

    /// Deferred pieces of this dossier that still have no file (for the staff view).
    pub fn pieces_attendues<'c>(
        &self,
        concours: &'c Concours,
    ) -> Vec<&'c crate::config::PieceSpec> {
        self.pieces(concours)
            .filter(|p| {
                p.exigence == crate::config::Exigence::Differable
                    && self.fichiers_de(&p.code).next().is_none()
            })
            .collect()
    }
}

/// The national registry of registrations: one registration per concours, the latest
/// supersedes (CGFP L325-30, décret 2021-376). Called at closure; returns the registration
/// this one supersedes, if any.
#[async_trait]
pub trait RegistreNational: Send + Sync {
    /// Declares a closed registration.
    async fn declarer(
        &self,
        concours: &CodeConcours,
        numero: &NumeroDossier,
        identite: &Identite,
    ) -> Result<Option<NumeroDossier>, StorageError>;
}

/// No national registry: nothing is ever superseded.
#[derive(Debug, Default, Clone, Copy)]
pub struct SansRegistre;

#[async_trait]
impl RegistreNational for SansRegistre {
    async fn declarer(
        &self,
        _: &CodeConcours,
        _: &NumeroDossier,
        _: &Identite,
    ) -> Result<Option<NumeroDossier>, StorageError> {
        Ok(None)
    }
}

/// An in-memory registry keyed by concours and identity (name, given name, e-mail, folded).
#[derive(Debug, Default)]
pub struct RegistreMemoire(
    std::sync::Mutex<std::collections::HashMap<(String, String), NumeroDossier>>,
);

#[async_trait]
impl RegistreNational for RegistreMemoire {
    async fn declarer(
        &self,
        concours: &CodeConcours,
        numero: &NumeroDossier,
        id: &Identite,
    ) -> Result<Option<NumeroDossier>, StorageError> {
        let cle = (
            concours.to_string(),
            format!(
                "{}|{}|{}",
                id.nom().to_lowercase(),
                id.prenom().to_lowercase(),
                id.email().to_lowercase()
            ),
        );
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        Ok(m.insert(cle, numero.clone())
            .filter(|ancien| ancien != numero))
    }
}
