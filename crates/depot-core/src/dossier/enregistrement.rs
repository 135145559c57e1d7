//! The record format of a dossier.
//!
//! The state tag, then the instruction and the reopening as two optional fields beside it
//! (the format since the first version; [`Etat`] now holds them, so that no impossible
//! combination can be built in memory, and this module translates).
//!
//! The journal is no longer in the record: the record keeps its last entry (`journal`), the
//! store keeps the entries apart ([`Dossier::entrees_a_ecrire`]). A record of an earlier
//! version, with its whole journal in `evenements`, still loads: its entries become entries
//! to write, so the first write of the dossier moves them into the store's journal and the
//! record shrinks. An instance of an earlier version cannot read a record without
//! `evenements`: upgrade every instance together (docs/architecture.md).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Dossier, Etat, Evenement, Fichier, Identite};
use crate::config::Voie;
use crate::courriel::{CourrielEnAttente, Reinitialisation};
use crate::ids::{CodeConcours, CodeDeclaration, NumeroDossier};
use crate::instruction::{Instruction, Reouverture};
use crate::recepisse::Recepisse;

/// The state tag as stored.
#[derive(Serialize, Deserialize)]
#[serde(tag = "etat", rename_all = "snake_case")]
enum EtatEnregistre<R> {
    Ouvert,
    Cloture { le: DateTime<Utc>, recepisse: R },
}

/// A dossier as read from a record.
#[derive(Deserialize)]
pub(super) struct Enregistrement {
    numero: NumeroDossier,
    concours: CodeConcours,
    voie: Voie,
    identite: Identite,
    declarations: BTreeSet<CodeDeclaration>,
    etat: EtatEnregistre<Box<Recepisse>>,
    fichiers: Vec<Fichier>,
    cree_le: DateTime<Utc>,
    /// Records of earlier versions: the whole journal.
    #[serde(default)]
    evenements: Vec<Evenement>,
    /// The journal's last entry.
    #[serde(default)]
    journal: Option<Evenement>,
    #[serde(default)]
    instruction: Option<Instruction>,
    #[serde(default)]
    reouverture: Option<Reouverture>,
    #[serde(default)]
    courriels: Vec<CourrielEnAttente>,
    #[serde(default)]
    rappels: BTreeSet<String>,
    #[serde(default)]
    reinitialisation: Option<Reinitialisation>,
    #[serde(default)]
    conservation_suspendue: Option<crate::conservation::Suspension>,
    #[serde(default)]
    efface_le: Option<DateTime<Utc>>,
}

/// A dossier as written, borrowed (saving does not copy the dossier). Same fields, same
/// order as [`Enregistrement`].
#[derive(Serialize)]
struct EnregistrementRef<'a> {
    numero: &'a NumeroDossier,
    concours: &'a CodeConcours,
    voie: Voie,
    identite: &'a Identite,
    declarations: &'a BTreeSet<CodeDeclaration>,
    etat: EtatEnregistre<&'a Recepisse>,
    fichiers: &'a [Fichier],
    cree_le: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    journal: Option<&'a Evenement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instruction: Option<&'a Instruction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reouverture: Option<&'a Reouverture>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    courriels: &'a [CourrielEnAttente],
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    rappels: &'a BTreeSet<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reinitialisation: Option<&'a Reinitialisation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conservation_suspendue: Option<&'a crate::conservation::Suspension>,
    #[serde(skip_serializing_if = "Option::is_none")]
    efface_le: Option<DateTime<Utc>>,
}

impl From<Enregistrement> for Dossier {
    /// Two combinations the previous format could hold are not states: an instruction on an
    /// open dossier (only a supersession by the national registry could write one, and a
    /// registration that was never closed is not superseded), and a reopening kept after
    /// closure (it no longer governs anything). Both stay in the journal; the state keeps what
    /// the rules read.
    fn from(e: Enregistrement) -> Self {
        let etat = match e.etat {
            EtatEnregistre::Ouvert => Etat::Ouvert {
                reouverture: e.reouverture,
            },
            EtatEnregistre::Cloture { le, recepisse } => Etat::Cloture {
                le,
                recepisse,
                instruction: e.instruction,
            },
        };
        Dossier {
            numero: e.numero,
            concours: e.concours,
            voie: e.voie,
            identite: e.identite,
            declarations: e.declarations,
            etat,
            fichiers: e.fichiers,
            cree_le: e.cree_le,
            tete: e.evenements.last().cloned().or(e.journal),
            a_ecrire: e.evenements,
            courriels: e.courriels,
            rappels: e.rappels,
            reinitialisation: e.reinitialisation,
            conservation_suspendue: e.conservation_suspendue,
            efface_le: e.efface_le,
        }
    }
}

impl Serialize for Dossier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (etat, instruction, reouverture) = match &self.etat {
            Etat::Ouvert { reouverture } => (EtatEnregistre::Ouvert, None, reouverture.as_ref()),
            Etat::Cloture {
                le,
                recepisse,
                instruction,
            } => (
                EtatEnregistre::Cloture {
                    le: *le,
                    recepisse: &**recepisse,
                },
                instruction.as_ref(),
                None,
            ),
        };
        EnregistrementRef {
            numero: &self.numero,
            concours: &self.concours,
            voie: self.voie,
            identite: &self.identite,
            declarations: &self.declarations,
            etat,
            fichiers: &self.fichiers,
            cree_le: self.cree_le,
            journal: self.tete.as_ref(),
            instruction,
            reouverture,
            courriels: &self.courriels,
            rappels: &self.rappels,
            reinitialisation: self.reinitialisation.as_ref(),
            conservation_suspendue: self.conservation_suspendue.as_ref(),
            efface_le: self.efface_le,
        }
        .serialize(s)
    }
}
