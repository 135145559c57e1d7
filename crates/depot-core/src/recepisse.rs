//! The récépissé: proof of what was closed, when.
//!
//! Its [`ContenuRecepisse`] has a **canonical form** so that it can be fingerprinted now and
//! signed later: UTF-8 JSON, no insignificant white space, object keys sorted by byte
//! order at every level, integers only (sizes in bytes, the session year), instants as
//! RFC 3339 UTC with exactly three fractional digits and `Z`
//! (`2025-04-17T21:59:59.123Z`), every string in Unicode NFC. The fingerprint is the
//! SHA-256 of those bytes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::calendrier::instant_en_lettres;
use crate::config::{Concours, Voie};
use crate::dossier::Identite;
use crate::ids::{CodeConcours, CodePiece, NumeroDossier, Sha256};
use crate::signature::{Signataire, signer_contenu};

/// One file listed in a récépissé.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LigneRecepisse {
    /// The piece's code.
    pub piece: CodePiece,
    /// The piece's label.
    pub piece_libelle: String,
    /// The file's display name.
    pub nom: String,
    /// Its size in bytes.
    pub taille: u64,
    /// Its SHA-256.
    pub sha256: Sha256,
}

/// What a récépissé states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContenuRecepisse {
    /// N° de dossier.
    pub numero: NumeroDossier,
    /// Candidate's family name.
    pub nom: String,
    /// Candidate's given name.
    pub prenom: String,
    /// Concours code.
    pub concours: CodeConcours,
    /// Concours title.
    pub concours_intitule: String,
    /// Session year.
    pub session: u16,
    /// Organising CDG.
    pub organisateur: String,
    /// Voie.
    pub voie: Voie,
    /// Closure instant, UTC, milliseconds.
    #[serde(with = "instant_ms")]
    pub cloture_le: DateTime<Utc>,
    /// Closure instant in words, Paris time.
    pub cloture_le_libelle: String,
    /// Every file, in the order of the pieces.
    pub fichiers: Vec<LigneRecepisse>,
    /// SHA-256 of the dossier's journal entry just before closure: the whole history up to
    /// closure is committed to by this récépissé (the closure entry then carries the
    /// récépissé's fingerprint).
    pub journal: Sha256,
}

/// A signed récépissé: its content, the fingerprint and the signature of the canonical form.
/// This JSON, saved as a file, is what [`crate::signature::verifier_recepisse`] takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recepisse {
    /// What it states.
    pub contenu: ContenuRecepisse,
    /// SHA-256 of the canonical form of `contenu`.
    pub empreinte: Sha256,
    /// Id of the signing key.
    pub cle_id: String,
    /// `ed25519`.
    pub algorithme: String,
    /// Signature of the canonical form of `contenu`, base64.
    pub signature: String,
}

fn nfc(s: &str) -> String {
    s.nfc().collect()
}

impl Recepisse {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn etablir(
        numero: NumeroDossier,
        concours: &Concours,
        voie: Voie,
        identite: &Identite,
        le: DateTime<Utc>,
        fichiers: Vec<LigneRecepisse>,
        journal: Sha256,
        signataire: &dyn Signataire,
    ) -> Result<Self, crate::signature::ErreurSignature> {
        // Truncate to the millisecond: the canonical form carries exactly three digits, and
        // the stored instant must be the one the fingerprint covers.
        let le = DateTime::<Utc>::from_timestamp_millis(le.timestamp_millis()).unwrap_or(le);
        let contenu = ContenuRecepisse {
            numero,
            nom: nfc(identite.nom()),
            prenom: nfc(identite.prenom()),
            concours: concours.code.clone(),
            concours_intitule: nfc(&concours.intitule),
            session: concours.session,
            organisateur: nfc(&concours.organisateur),
            voie,
            cloture_le: le,
            cloture_le_libelle: instant_en_lettres(le),
            fichiers: fichiers
                .into_iter()
                .map(|l| LigneRecepisse {
                    piece_libelle: nfc(&l.piece_libelle),
                    nom: nfc(&l.nom),
                    ..l
                })
                .collect(),
            journal,
        };
        let empreinte = Sha256::de(&contenu.forme_canonique());
        let (cle_id, signature) = signer_contenu(signataire, &contenu)?;
        Ok(Self {
            contenu,
            empreinte,
            cle_id,
            algorithme: crate::signature::ALGORITHME.to_owned(),
            signature,
        })
    }

    /// Whether the fingerprint matches the content.
    pub fn empreinte_valide(&self) -> bool {
        Sha256::de(&self.contenu.forme_canonique()) == self.empreinte
    }

    /// The signed JSON file, as the espace serves it and the closure e-mail attaches it:
    /// what [`crate::signature::verifier_recepisse`] takes.
    pub fn json(&self) -> Vec<u8> {
        #[allow(clippy::expect_used)] // a récépissé into memory: cannot fail
        serde_json::to_vec_pretty(self).expect("récépissé sérialisable")
    }

    /// The récépissé as a one-page PDF: the text, the fingerprint, the key id and the
    /// signature, so that a printed or archived copy carries what is needed to check it.
    pub fn pdf(&self) -> Vec<u8> {
        crate::recepisse_pdf::recepisse_pdf(self)
    }
}

impl ContenuRecepisse {
    /// The canonical bytes (see the module documentation).
    pub fn forme_canonique(&self) -> Vec<u8> {
        // serde_json's Value keeps objects in a BTreeMap (no `preserve_order`), so keys come
        // out sorted at every level; `to_vec` writes no white space.
        #[allow(clippy::expect_used)] // a struct of strings, numbers and dates: cannot fail
        let valeur = serde_json::to_value(self).expect("contenu de récépissé sérialisable");
        #[allow(clippy::expect_used)] // a Value into memory: cannot fail
        serde_json::to_vec(&valeur).expect("valeur JSON sérialisable")
    }
}

/// RFC 3339 UTC with exactly three fractional digits.
pub mod instant_ms {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialises `2025-04-17T21:59:59.123Z`.
    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    /// Parses any RFC 3339 instant.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}
