//! The dossier as the API and the pages show it.

use depot_core::calendrier::rfc3339_paris;
use depot_core::{Consultation, EtatLu, Fichier, Recepisse};
use serde::Serialize;
use utoipa::ToSchema;

/// `concours` in the dossier view.
#[derive(Debug, Serialize, ToSchema)]
pub struct VueConcours {
    /// Code.
    pub code: String,
    /// Title.
    pub intitule: String,
    /// Session year.
    pub session: u16,
    /// Organising CDG.
    pub organisateur: String,
}

/// A deposited file.
#[derive(Debug, Serialize, ToSchema)]
pub struct VueFichier {
    /// Id.
    pub id: String,
    /// Display name.
    pub nom: String,
    /// `pdf` or `jpeg`.
    pub format: &'static str,
    /// Size in bytes.
    pub taille: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// When recorded, RFC 3339 with the Paris offset.
    pub depose_le: String,
    /// The antivirus' analysis; absent when the espace scans nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analyse: Option<VueAnalyse>,
    /// When its content was purged (end of its retention period), RFC 3339, Paris offset:
    /// the record and its SHA-256 stay, the content is gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purge_le: Option<String>,
}

/// A file's antivirus analysis.
#[derive(Debug, Serialize, ToSchema)]
pub struct VueAnalyse {
    /// `saine` | `en_attente` (the scanner was unavailable: scanned again automatically) |
    /// `infectee` (quarantined: never served).
    #[schema(pattern = "^(saine|en_attente|infectee)$")]
    pub statut: &'static str,
    /// The engine (« ClamAV 1.4.6 »), once scanned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moteur: Option<String>,
    /// Its signature database's version, when it says it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// The signature found, if infected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// When the verdict was given (or the file recorded pending), RFC 3339, Paris offset.
    pub le: String,
}

impl From<&depot_core::antivirus::AnalyseAntivirus> for VueAnalyse {
    fn from(a: &depot_core::antivirus::AnalyseAntivirus) -> Self {
        Self {
            statut: a.statut.code(),
            moteur: a.moteur.as_ref().map(|m| m.nom.clone()),
            base: a.moteur.as_ref().and_then(|m| m.base.clone()),
            signature: match &a.statut {
                depot_core::antivirus::StatutAnalyse::Infectee { signature } => {
                    Some(signature.clone())
                }
                _ => None,
            },
            le: rfc3339_paris(a.le),
        }
    }
}

impl From<&Fichier> for VueFichier {
    fn from(f: &Fichier) -> Self {
        Self {
            id: f.id.as_str().to_owned(),
            nom: f.nom.clone(),
            format: f.format.code(),
            taille: f.taille,
            sha256: f.sha256.hex(),
            depose_le: rfc3339_paris(f.depose_le),
            analyse: f.antivirus.as_ref().map(VueAnalyse::from),
            purge_le: f.purge_le.map(rfc3339_paris),
        }
    }
}

/// A requested piece and where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct VuePiece {
    /// Code.
    pub code: String,
    /// Label.
    pub libelle: String,
    /// `obligatoire` | `facultative` | `differable`.
    pub exigence: &'static str,
    /// Whether it blocks closure for this dossier.
    pub requise: bool,
    /// `manquante` | `deposee` | `attendue_apres_cloture` | `facultative`.
    pub statut: &'static str,
    /// Files allowed.
    pub max_fichiers: u32,
    /// MiB per file.
    pub taille_max_mo: u32,
    /// Accepted formats.
    pub formats: Vec<&'static str>,
    /// Whether a file can be added now.
    pub depot_possible: bool,
    /// Its files.
    pub fichiers: Vec<VueFichier>,
}

/// The dossier view of `GET /api/v1/dossier`.
#[derive(Debug, Serialize, ToSchema)]
pub struct VueDossier {
    /// N° de dossier.
    pub numero: String,
    /// Concours.
    pub concours: VueConcours,
    /// Voie code.
    pub voie: &'static str,
    /// `ouvert` | `cloture` | `non_cloture_hors_delai`.
    pub etat: &'static str,
    /// The French status sentence.
    pub message: String,
    /// The dépôt deadline, RFC 3339 with the Paris offset.
    pub date_limite: String,
    /// The deadline in words.
    pub date_limite_libelle: String,
    /// Deferred pieces' deadline in words, if any.
    pub date_limite_pieces_differees_libelle: Option<String>,
    /// Closure instant, or null.
    pub cloture_le: Option<String>,
    /// Requested pieces.
    pub pieces: Vec<VuePiece>,
    /// Codes of required pieces without a file.
    pub pieces_manquantes: Vec<String>,
    /// Whether « Clôturer mon inscription » would succeed now.
    pub cloturable: bool,
}

/// Builds the view.
pub fn vue_dossier(c: &Consultation) -> VueDossier {
    let d = &c.dossier;
    let k = &c.concours;
    let now = c.maintenant;
    VueDossier {
        numero: d.numero().to_string(),
        concours: VueConcours {
            code: k.code.to_string(),
            intitule: k.intitule.clone(),
            session: k.session,
            organisateur: k.organisateur.clone(),
        },
        voie: d.voie().code(),
        etat: d.etat_lu(k, now).code(),
        message: d.message_etat(k, now),
        date_limite: rfc3339_paris(d.limite_depot(k).instant()),
        date_limite_libelle: d.limite_depot(k).libelle(),
        date_limite_pieces_differees_libelle: k
            .calendrier
            .pieces_differees_cloture
            .map(|l| l.libelle()),
        cloture_le: d.cloture_le().map(rfc3339_paris),
        pieces: d
            .pieces(k)
            .map(|p| VuePiece {
                code: p.code.to_string(),
                libelle: p.libelle.clone(),
                exigence: p.exigence.code(),
                requise: d.est_requise(p),
                statut: d.statut(p).code(),
                max_fichiers: p.max_fichiers,
                taille_max_mo: p.taille_max_mo,
                formats: p.formats.iter().map(|f| f.code()).collect(),
                depot_possible: d.controler_depot(k, p.code.as_str(), now).is_ok(),
                fichiers: d.fichiers_de(&p.code).map(VueFichier::from).collect(),
            })
            .collect(),
        pieces_manquantes: d
            .pieces_manquantes(k)
            .iter()
            .map(|p| p.code.to_string())
            .collect(),
        cloturable: d.cloturable(k, now),
    }
}

/// Whether the dossier is open before its deadline.
pub fn est_ouvert(c: &Consultation) -> bool {
    c.dossier.etat_lu(&c.concours, c.maintenant) == EtatLu::Ouvert
}

/// The récépissé as JSON (its content and fingerprint).
pub fn recepisse_json(r: &Recepisse) -> serde_json::Value {
    serde_json::to_value(r).unwrap_or(serde_json::Value::Null)
}

/// The colour of the state box: green only for good news.
pub(crate) fn classe_etat(e: depot_core::EtatLu) -> &'static str {
    use depot_core::EtatLu as E;
    match e {
        E::Cloture | E::Recevable => "succes",
        E::Ouvert => "info",
        E::Incomplet => "attention",
        E::NonClotureHorsDelai | E::Rejete => "erreur",
        _ => "info",
    }
}
