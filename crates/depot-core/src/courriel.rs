//! E-mail: what depot tells a candidate, and the outbox that makes sure it is told.
//!
//! - **The outbox is in the dossier's record.** A message to send is an entry of
//!   [`Dossier::courriels`], written by the same compare-and-swap as the state change that
//!   causes it (the closure and its accusé de réception are one write), on every store.
//!   [`Espace::distribuer_courriels`](crate::Espace::distribuer_courriels) sends them: it
//!   reserves an entry for a few minutes (a compare-and-swap, so that with several instances
//!   one sends it), renders it from the dossier as it is then, hands it to the
//!   [`Messagerie`] port, and removes it with a journal entry ([`Quoi::Courriel`]: kind,
//!   Message-ID, instant — never the body). A temporary failure waits and tries again
//!   (1, 2, 4… minutes, at most an hour between tries) for 24 hours, then the message is
//!   given up and journaled so. Delivery is *at least once*: a crash after the SMTP server
//!   took a message and before the record says so sends it again, with the same Message-ID.
//! - **Reminders** ([`Dossier::rappel_du`]): to a dossier still open, at 12:00 Paris 7 days
//!   before the last day, the day before and on the last day, every day of the week; after a
//!   downtime only the latest due slot is sent, and none whose slot came before the dossier
//!   existed. To a dossier asked for complements, 2 days before their deadline; to a closed
//!   dossier still missing a deferred piece, 7 days before `pieces_differees_cloture`. The
//!   record remembers the slots sent, so that a slot is sent once whatever the instances.
//! - **Getting back in**: a password-reset link carries a 256-bit token; the record keeps
//!   its SHA-256 and expiry ([`Dossier::demander_reinitialisation`]); the token itself is in
//!   the outbox entry only until the message leaves.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendrier::{DateLimite, paris_local};
use crate::config::Concours;
use crate::dossier::{Acteur, Dossier, Etat, Quoi, StatutPiece};
use crate::erreur::Refus;
use crate::ids::{NumeroDossier, Sha256};
use crate::instruction::StatutInstruction;
use crate::ports::Random;

mod distribution;
mod redaction;

pub use distribution::{BilanDistribution, Courrier};
pub use redaction::{SORTES, apercu, rediger};

/// How long a password-reset link works.
pub const VALIDITE_REINITIALISATION: Duration = Duration::minutes(30);
/// A message not sent within this delay of its creation is given up.
pub const ABANDON_APRES: Duration = Duration::hours(24);
/// The longest wait between two tries of a message.
pub const ATTENTE_MAX: Duration = Duration::hours(1);
/// How long an instance holds a message it is sending before another may take it.
pub const RESERVATION: Duration = Duration::minutes(5);
/// The hour (Paris) reminders are due at.
pub const HEURE_RAPPEL: u32 = 12;

/// Which deposit reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Echeance {
    /// 7 days before the last day.
    J7,
    /// The day before the last day.
    J1,
    /// The last day.
    Jour,
}

impl Echeance {
    /// Days before the last day.
    fn jours_avant(self) -> u64 {
        match self {
            Echeance::J7 => 7,
            Echeance::J1 => 1,
            Echeance::Jour => 0,
        }
    }
}

/// What a message is about. The body is rendered when it is sent, from the dossier as it
/// is then; a message that no longer applies (a reminder to a dossier closed since) is
/// dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "sorte", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SorteCourriel {
    /// Pré-inscription: n°, concours, deadline, pieces, link.
    Preinscription,
    /// Closure: the accusé de réception with the récépissé attached.
    Cloture,
    /// A reminder to close before the deadline.
    Rappel {
        /// Which one.
        echeance: Echeance,
    },
    /// The CDG asked for complements.
    Complements,
    /// The complements are still expected, 2 days before their deadline.
    RappelComplements,
    /// Deferred pieces still expected, 7 days before their deadline.
    PiecesDifferees,
    /// A password-reset link.
    MotDePasse {
        /// The link's token (only until the message leaves).
        jeton: JetonLien,
        /// Its end of validity.
        expire_le: DateTime<Utc>,
    },
    /// The n° of the dossiers registered with the candidate's address.
    Numeros {
        /// Each dossier: its n° and its concours' title.
        dossiers: Vec<(NumeroDossier, String)>,
    },
    /// A file recorded while the antivirus was unavailable was found infected: it is
    /// quarantined, the candidate deposits another copy.
    FichierInfecte {
        /// The file.
        fichier: crate::ids::FichierId,
    },
}

impl SorteCourriel {
    /// Its stable code (journal, metrics, `courriels apercu`).
    pub fn code(&self) -> &'static str {
        match self {
            SorteCourriel::Preinscription => "preinscription",
            SorteCourriel::Cloture => "cloture",
            SorteCourriel::Rappel { .. } => "rappel",
            SorteCourriel::Complements => "complements",
            SorteCourriel::RappelComplements => "rappel_complements",
            SorteCourriel::PiecesDifferees => "pieces_differees",
            SorteCourriel::MotDePasse { .. } => "mot_de_passe",
            SorteCourriel::Numeros { .. } => "numeros",
            SorteCourriel::FichierInfecte { .. } => "fichier_infecte",
        }
    }
}

impl std::fmt::Display for SorteCourriel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A reset link's token: printed by `Debug` as `***`, so that a dossier or an outbox entry
/// written to a log never carries it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JetonLien(String);

impl JetonLien {
    /// The token, for the link.
    pub fn exposer(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for JetonLien {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JetonLien(***)")
    }
}

/// An instance sending a message holds it until `jusqu_a`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// The instance.
    pub par: String,
    /// Until when.
    pub jusqu_a: DateTime<Utc>,
}

/// A message in the outbox of a dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourrielEnAttente {
    /// Unique (128 random bits, hex): the left part of its Message-ID, the same on every
    /// try.
    pub id: String,
    /// What it is about.
    #[serde(flatten)]
    pub sorte: SorteCourriel,
    /// When it was queued.
    pub cree_le: DateTime<Utc>,
    /// Tries that failed.
    #[serde(default)]
    pub essais: u32,
    /// Not to be tried before.
    pub prochain_essai: DateTime<Utc>,
    /// Held by an instance sending it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<Reservation>,
    /// The last failure, for the staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erreur: Option<String>,
}

impl CourrielEnAttente {
    /// Whether an instance may take it at `now`.
    pub fn a_envoyer(&self, now: DateTime<Utc>) -> bool {
        self.prochain_essai <= now && self.reservation.as_ref().is_none_or(|r| r.jusqu_a <= now)
    }
}

/// What happened to a message, as the journal says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "issue", rename_all = "snake_case")]
#[non_exhaustive]
pub enum IssueCourriel {
    /// Handed to the mail server.
    Envoye,
    /// Given up: refused for good, or not sent within [`ABANDON_APRES`].
    Abandonne {
        /// The last failure.
        raison: String,
    },
}

/// A password-reset request as the record keeps it: never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reinitialisation {
    /// SHA-256 of the token.
    pub empreinte: Sha256,
    /// End of validity.
    pub expire_le: DateTime<Utc>,
}

/// A message ready to leave: what the [`Messagerie`] turns into MIME.
#[derive(Clone, PartialEq, Eq)]
pub struct Courriel {
    /// The Message-ID, with its angle brackets.
    pub message_id: String,
    /// Its kind.
    pub sorte: &'static str,
    /// The `Date` header.
    pub date: DateTime<Utc>,
    /// The sender's display name: the CDG organising the concours.
    pub expediteur_nom: String,
    /// The recipient's address.
    pub a: String,
    /// The recipient's name.
    pub a_nom: String,
    /// The subject.
    pub sujet: String,
    /// The plain-text alternative.
    pub texte: String,
    /// The HTML alternative.
    pub html: String,
    /// Attached files.
    pub pieces_jointes: Vec<PieceJointe>,
}

impl std::fmt::Debug for Courriel {
    /// Never the body: it may hold a reset link.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Courriel")
            .field("message_id", &self.message_id)
            .field("sorte", &self.sorte)
            .finish_non_exhaustive()
    }
}

/// An attached file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PieceJointe {
    /// File name.
    pub nom: String,
    /// MIME type.
    pub type_mime: &'static str,
    /// Content.
    pub octets: Vec<u8>,
}

/// Why a message did not leave.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErreurMessagerie {
    /// Worth trying again later (server unreachable, 4xx reply, timeout).
    #[error("échec temporaire : {0}")]
    Temporaire(String),
    /// Never worth trying again (5xx reply: the address is refused).
    #[error("refus définitif : {0}")]
    Definitive(String),
}

/// Sends rendered messages: SMTP, a directory of `.eml` files, a test double.
#[async_trait::async_trait]
pub trait Messagerie: Send + Sync {
    /// Hands `courriel` over; `Ok` once the server (or the disk) has it.
    async fn envoyer(&self, courriel: &Courriel) -> Result<(), ErreurMessagerie>;
}

/// 128 random bits, hex.
pub(crate) fn identifiant(hasard: &dyn Random) -> String {
    let mut o = [0u8; 16];
    hasard.remplir(&mut o);
    hex::encode(o)
}

/// 12:00 Paris, `jours` before `jour`.
fn midi_avant(jour: chrono::NaiveDate, jours: u64) -> Option<DateTime<Utc>> {
    let j = jour.checked_sub_days(chrono::Days::new(jours))?;
    paris_local(j.and_time(NaiveTime::from_hms_opt(HEURE_RAPPEL, 0, 0)?)).ok()
}

/// The wait after `essais` failed tries: 1, 2, 4… minutes, at most [`ATTENTE_MAX`].
pub fn attente_apres(essais: u32) -> Duration {
    let minutes = 1i64 << essais.saturating_sub(1).min(10);
    Duration::minutes(minutes).min(ATTENTE_MAX)
}

impl Dossier {
    /// The outbox: messages queued and not sent yet.
    pub fn courriels(&self) -> &[CourrielEnAttente] {
        &self.courriels
    }

    /// The reminder slots already queued (their keys).
    pub fn rappels_programmes(&self) -> &BTreeSet<String> {
        &self.rappels
    }

    /// Queues a message, to be sent from `now`.
    pub fn programmer_courriel(&mut self, sorte: SorteCourriel, id: String, now: DateTime<Utc>) {
        self.courriels.push(CourrielEnAttente {
            id,
            sorte,
            cree_le: now,
            essais: 0,
            prochain_essai: now,
            reservation: None,
            erreur: None,
        });
    }

    /// The reminder due at `now`, if any, with the key of its slot: the latest slot passed,
    /// not queued before, whose deadline is still ahead. See the module documentation.
    pub fn rappel_du(
        &self,
        concours: &Concours,
        now: DateTime<Utc>,
    ) -> Option<(String, SorteCourriel)> {
        let dernier_du = |limite: &DateLimite,
                          jours: &[(u64, SorteCourriel)],
                          apres: DateTime<Utc>,
                          prefixe: &str| {
            if limite.est_depassee(now) {
                return None;
            }
            let jour = limite.dernier_jour();
            jours
                .iter()
                .filter_map(|(j, sorte)| Some((midi_avant(jour, *j)?, sorte)))
                .filter(|(t, _)| *t <= now && *t > apres)
                .max_by_key(|(t, _)| *t)
                .map(|(t, sorte)| {
                    (
                        format!(
                            "{prefixe}:{}:{}",
                            limite.instant().timestamp(),
                            t.timestamp()
                        ),
                        sorte.clone(),
                    )
                })
        };
        let du = match &self.etat {
            Etat::Ouvert { .. } => {
                let limite = self.limite_depot(concours);
                let slots: Vec<(u64, SorteCourriel)> = [Echeance::J7, Echeance::J1, Echeance::Jour]
                    .into_iter()
                    .map(|e| (e.jours_avant(), SorteCourriel::Rappel { echeance: e }))
                    .collect();
                dernier_du(&limite, &slots, self.cree_le(), "depot")
            }
            Etat::Cloture { le, .. } => match self.etat.statut_instruction() {
                Some(StatutInstruction::Incomplet(d)) => dernier_du(
                    &d.date_limite,
                    &[(2, SorteCourriel::RappelComplements)],
                    d.demandee_le,
                    "complements",
                ),
                Some(StatutInstruction::Recevable | StatutInstruction::Rejete { .. }) => None,
                _ => {
                    let limite = concours.calendrier.pieces_differees_cloture?;
                    let attendue = self
                        .pieces(concours)
                        .any(|p| self.statut(p) == StatutPiece::AttendueApresCloture);
                    if !attendue {
                        return None;
                    }
                    dernier_du(
                        &limite,
                        &[(7, SorteCourriel::PiecesDifferees)],
                        *le,
                        "differees",
                    )
                }
            },
        }?;
        (!self.rappels.contains(&du.0)).then_some(du)
    }

    /// Queues the reminder due at `now`, if any; `true` when one was queued.
    pub fn programmer_rappel(
        &mut self,
        concours: &Concours,
        id: String,
        now: DateTime<Utc>,
    ) -> bool {
        let Some((cle, sorte)) = self.rappel_du(concours, now) else {
            return false;
        };
        self.rappels.insert(cle);
        // Only the latest reminder of a kind waits: an older one still queued says less.
        let code = sorte.code();
        self.courriels
            .retain(|c| c.sorte.code() != code || c.reservation.is_some());
        self.programmer_courriel(sorte, id, now);
        true
    }

    /// Reserves the message `id` for `par` at `now`; `None` when it is no longer to send
    /// (sent, reserved by another, not due).
    pub fn reserver_courriel(
        &mut self,
        id: &str,
        par: &str,
        now: DateTime<Utc>,
    ) -> Option<CourrielEnAttente> {
        let c = self.courriels.iter_mut().find(|c| c.id == id)?;
        if !c.a_envoyer(now) {
            return None;
        }
        c.reservation = Some(Reservation {
            par: par.to_owned(),
            jusqu_a: now + RESERVATION,
        });
        Some(c.clone())
    }

    /// The message `id` left (or, `issue` = abandoned, never will): out of the outbox,
    /// into the journal.
    pub fn courriel_termine(
        &mut self,
        id: &str,
        message_id: &str,
        issue: IssueCourriel,
        now: DateTime<Utc>,
    ) {
        let Some(i) = self.courriels.iter().position(|c| c.id == id) else {
            return;
        };
        let c = self.courriels.remove(i);
        self.journaliser(
            now,
            Acteur::Systeme,
            Quoi::Courriel {
                sorte: c.sorte.code().to_owned(),
                message_id: message_id.to_owned(),
                issue,
            },
        );
    }

    /// The message `id` no longer applies (a reminder to a dossier closed since): out of
    /// the outbox, nothing sent, nothing journaled.
    pub fn courriel_sans_objet(&mut self, id: &str) {
        self.courriels.retain(|c| c.id != id);
    }

    /// A try of message `id` failed at `now`: it waits ([`attente_apres`]), or, past
    /// [`ABANDON_APRES`] or refused for good, is given up and journaled.
    pub fn courriel_echoue(
        &mut self,
        id: &str,
        message_id: &str,
        erreur: &crate::courriel::ErreurMessagerie,
        now: DateTime<Utc>,
    ) {
        let Some(c) = self.courriels.iter_mut().find(|c| c.id == id) else {
            return;
        };
        c.essais = c.essais.saturating_add(1);
        let prochain = now + attente_apres(c.essais);
        let definitive = matches!(erreur, ErreurMessagerie::Definitive(_));
        if definitive || prochain > c.cree_le + ABANDON_APRES {
            let raison = erreur.to_string();
            self.courriel_termine(id, message_id, IssueCourriel::Abandonne { raison }, now);
            return;
        }
        c.prochain_essai = prochain;
        c.reservation = None;
        c.erreur = Some(erreur.to_string());
    }

    /// « Mot de passe oublié », when the n° and the address match: keeps the token's hash
    /// and expiry (voiding an earlier link) and queues the message with the token.
    pub fn demander_reinitialisation(&mut self, jeton: String, id: String, now: DateTime<Utc>) {
        let expire_le = now + VALIDITE_REINITIALISATION;
        self.reinitialisation = Some(Reinitialisation {
            empreinte: Sha256::de(jeton.as_bytes()),
            expire_le,
        });
        // An earlier link not sent yet is void: it will not be sent.
        self.courriels.retain(|c| {
            !matches!(c.sorte, SorteCourriel::MotDePasse { .. }) || c.reservation.is_some()
        });
        self.programmer_courriel(
            SorteCourriel::MotDePasse {
                jeton: JetonLien(jeton),
                expire_le,
            },
            id,
            now,
        );
        self.journaliser(now, Acteur::Candidat, Quoi::DemandeReinitialisation);
    }

    /// Spends a reset token: valid, unexpired, the latest requested. Once spent (or
    /// voided), `jeton_invalide`. The caller then stores the new password.
    pub fn reinitialiser(&mut self, jeton: &str, now: DateTime<Utc>) -> Result<(), Refus> {
        let valide = self.reinitialisation.as_ref().is_some_and(|r| {
            r.expire_le > now && subtle_eq(&r.empreinte, &Sha256::de(jeton.as_bytes()))
        });
        if !valide {
            return Err(Refus::JetonInvalide);
        }
        self.reinitialisation = None;
        self.journaliser(now, Acteur::Candidat, Quoi::Reinitialisation);
        Ok(())
    }
}

/// Constant-time comparison of two hashes.
fn subtle_eq(a: &Sha256, b: &Sha256) -> bool {
    let (a, b) = (a.octets(), b.octets());
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Splits a reset link's token into its dossier n° and its secret part: `N°.secret`.
pub fn numero_du_jeton(jeton: &str) -> Option<NumeroDossier> {
    let (n, secret) = jeton.rsplit_once('.')?;
    if secret.len() != 43 {
        return None;
    }
    NumeroDossier::parse(n).ok()
}

/// A new reset token for `numero`: `N°.` then 256 random bits in base64url.
pub(crate) fn nouveau_jeton(numero: &NumeroDossier, hasard: &dyn Random) -> String {
    use base64::Engine;
    let mut o = [0u8; 32];
    hasard.remplir(&mut o);
    format!(
        "{numero}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(o)
    )
}
