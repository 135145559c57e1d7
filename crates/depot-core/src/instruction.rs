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

use crate::calendrier::{DateLimite, DateSaisie};
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
    /// The motifs staff choose from (a supersession is depot's own).
    pub const CHOIX: [MotifRejet; 4] = [
        MotifRejet::ConditionsNonRemplies,
        MotifRejet::DossierIncomplet,
        MotifRejet::HorsDelai,
        MotifRejet::Autre,
    ];

    /// The API code.
    pub fn code(self) -> &'static str {
        match self {
            MotifRejet::HorsDelai => "hors_delai",
            MotifRejet::ConditionsNonRemplies => "conditions_non_remplies",
            MotifRejet::DossierIncomplet => "dossier_incomplet",
            MotifRejet::InscriptionRemplacee => "inscription_remplacee",
            MotifRejet::Autre => "autre",
        }
    }

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

/// A decision of the CDG on a dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Ask for named pieces until a deadline.
    Complements {
        /// Piece codes.
        pieces: Vec<String>,
        /// Message to the candidate.
        message: String,
        /// Deadline (exclusive).
        date_limite: DateLimite,
    },
    /// Admis à concourir.
    Recevable,
    /// Rejected.
    Rejet {
        /// Why.
        motif: MotifRejet,
        /// Details (required for `autre`).
        texte: Option<String>,
    },
    /// Back to instruction, with a reason.
    Revision {
        /// Why.
        raison: String,
    },
    /// Reopen a forclos dossier until a new deadline.
    Reouverture {
        /// Why.
        raison: String,
        /// New deadline (exclusive).
        jusqu_au: DateLimite,
    },
}

/// Which decision (the `decision` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeDecision {
    /// [`Decision::Complements`].
    Complements,
    /// [`Decision::Recevable`].
    Recevable,
    /// [`Decision::Rejet`].
    Rejet,
    /// [`Decision::Revision`].
    Revision,
    /// [`Decision::Reouverture`].
    Reouverture,
}

/// A decision as staff enter it: the one shape of the staff API's JSON body and of the staff
/// page's form (fields a decision does not use are ignored). Dates are written as the
/// candidate-facing forms accept them ([`DateSaisie`]: `2025-05-15` means until the end of
/// that day, Paris time). [`Decision::try_from`] checks it, field by field, in French.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionSaisie {
    /// Which decision.
    pub decision: Option<TypeDecision>,
    /// Pieces asked for (complements); one value or a list.
    #[serde(default, deserialize_with = "un_ou_plusieurs")]
    pub pieces: Vec<String>,
    /// Message to the candidate (complements).
    pub message: Option<String>,
    /// Deadline of the complements.
    pub date_limite: Option<String>,
    /// Why a rejection.
    pub motif: Option<MotifRejet>,
    /// Details of a rejection (required for `autre`).
    pub texte: Option<String>,
    /// Why a revision or a reopening.
    pub raison: Option<String>,
    /// The new deadline of a reopened dossier.
    pub jusqu_au: Option<String>,
}

/// A form sends a repeated field once per value, and a single value as a plain string.
fn un_ou_plusieurs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum UnOuPlusieurs {
        Un(String),
        Plusieurs(Vec<String>),
    }
    Ok(match UnOuPlusieurs::deserialize(d)? {
        UnOuPlusieurs::Un(s) => vec![s],
        UnOuPlusieurs::Plusieurs(v) => v,
    })
}

fn requis(v: Option<String>, champ: &'static str) -> Result<String, Refus> {
    v.filter(|s| !s.trim().is_empty())
        .ok_or(Refus::ChampInvalide {
            champ,
            raison: "ce champ est obligatoire.".to_owned(),
        })
}

fn date(v: Option<String>, champ: &'static str) -> Result<DateLimite, Refus> {
    DateSaisie::parse(&requis(v, champ)?)
        .and_then(|d| d.comme_limite())
        .map_err(|e| Refus::ChampInvalide {
            champ,
            raison: e.to_string(),
        })
}

impl TryFrom<DecisionSaisie> for Decision {
    type Error = Refus;

    fn try_from(s: DecisionSaisie) -> Result<Self, Refus> {
        let Some(quoi) = s.decision else {
            return Err(Refus::ChampInvalide {
                champ: "decision",
                raison: "choisissez une décision.".to_owned(),
            });
        };
        Ok(match quoi {
            TypeDecision::Recevable => Decision::Recevable,
            TypeDecision::Complements => Decision::Complements {
                pieces: s
                    .pieces
                    .into_iter()
                    .filter(|p| !p.trim().is_empty())
                    .collect(),
                message: requis(s.message, "message")?,
                date_limite: date(s.date_limite, "date_limite")?,
            },
            TypeDecision::Rejet => Decision::Rejet {
                motif: s.motif.ok_or(Refus::ChampInvalide {
                    champ: "motif",
                    raison: "choisissez un motif.".to_owned(),
                })?,
                texte: s.texte,
            },
            TypeDecision::Revision => Decision::Revision {
                raison: requis(s.raison, "raison")?,
            },
            TypeDecision::Reouverture => Decision::Reouverture {
                raison: requis(s.raison, "raison")?,
                jusqu_au: date(s.jusqu_au, "jusqu_au")?,
            },
        })
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
    d.etat.statut_instruction()
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
    /// Sets the instruction of a closed dossier; an open dossier has none, and `false` says
    /// nothing changed (every caller has checked the state before).
    fn instruire(&mut self, statut: StatutInstruction, now: DateTime<Utc>) -> bool {
        match &mut self.etat {
            Etat::Cloture { instruction, .. } => {
                *instruction = Some(Instruction {
                    statut,
                    depuis: now,
                });
                true
            }
            Etat::Ouvert { .. } => false,
        }
    }

    /// Whether the dossier is closed and being checked (no decision pending on it).
    fn en_instruction(&self) -> bool {
        matches!(
            self.etat,
            Etat::Cloture {
                instruction: None
                    | Some(Instruction {
                        statut: StatutInstruction::EnInstruction,
                        ..
                    }),
                ..
            }
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

    /// A later registration to the same concours supersedes this one (by depot itself). Only
    /// a closed registration can be superseded: an open dossier, or one already rejected, is
    /// left as it is (`None`).
    pub fn remplacer(&mut self, now: DateTime<Utc>) -> Option<Evenement> {
        if matches!(statut_de(self), Some(StatutInstruction::Rejete { .. })) {
            return None;
        }
        let rejet = StatutInstruction::Rejete {
            motif: MotifRejet::InscriptionRemplacee,
            texte: None,
        };
        if !self.instruire(rejet, now) {
            return None;
        }
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
        ) {
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
        self.etat = Etat::Ouvert {
            reouverture: Some(Reouverture {
                jusqu_au,
                raison: raison.clone(),
            }),
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(v: serde_json::Value) -> Result<Decision, Refus> {
        Decision::try_from(serde_json::from_value::<DecisionSaisie>(v).map_err(|e| {
            Refus::ChampInvalide {
                champ: "corps",
                raison: e.to_string(),
            }
        })?)
    }

    fn champ(r: Result<Decision, Refus>) -> &'static str {
        match r {
            Err(Refus::ChampInvalide { champ, .. }) => champ,
            autre => panic!("un champ invalide attendu : {autre:?}"),
        }
    }

    #[test]
    fn une_decision_saisie_est_verifiee_champ_par_champ() {
        use serde_json::json;
        assert_eq!(
            decision(json!({"decision": "recevable"})),
            Ok(Decision::Recevable)
        );
        // A form sends one piece as a string, several as a list.
        let Ok(Decision::Complements { pieces, .. }) = decision(
            json!({"decision": "complements", "pieces": "diplome", "message": "m", "date_limite": "2025-05-15"}),
        ) else {
            panic!("complements");
        };
        assert_eq!(pieces, ["diplome"]);
        assert_eq!(
            champ(decision(
                json!({"decision": "complements", "pieces": ["a"], "message": " ", "date_limite": "2025-05-15"})
            )),
            "message"
        );
        assert_eq!(
            champ(decision(
                json!({"decision": "complements", "pieces": ["a"], "message": "m", "date_limite": "15/05"})
            )),
            "date_limite"
        );
        assert_eq!(champ(decision(json!({"decision": "rejet"}))), "motif");
        assert_eq!(champ(decision(json!({"decision": "revision"}))), "raison");
        assert_eq!(
            champ(decision(
                json!({"decision": "reouverture", "raison": "panne"})
            )),
            "jusqu_au"
        );
        assert_eq!(champ(decision(json!({}))), "decision");
        // Unknown decisions and unknown fields are malformed bodies.
        assert_eq!(champ(decision(json!({"decision": "admettre"}))), "corps");
        assert_eq!(
            champ(decision(json!({"decision": "recevable", "note": 1}))),
            "corps"
        );
    }

    #[test]
    fn le_code_d_un_motif_est_son_nom_serde() {
        for m in [
            MotifRejet::HorsDelai,
            MotifRejet::ConditionsNonRemplies,
            MotifRejet::DossierIncomplet,
            MotifRejet::InscriptionRemplacee,
            MotifRejet::Autre,
        ] {
            assert_eq!(
                serde_json::to_value(m).ok(),
                Some(serde_json::Value::from(m.code()))
            );
        }
    }
}
