//! A concours session as a CDG describes it, loaded from TOML.
//!
//! The file format is documented in `docs/rules.md` and shipped as
//! `examples/concours/animateur-2025.toml`. Loading validates everything once; a
//! [`Concours`] in hand is consistent (dates in order, known voies and declarations, unique
//! codes), so the rules never re-check it.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendrier::{DateLimite, DateSaisie, ErreurDate};
use crate::format::Format;
use crate::ids::{CodeConcours, CodeDeclaration, CodePiece};

/// Voie d'accès to the concours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Voie {
    /// Concours externe.
    Externe,
    /// Concours interne (fonctionnaires et agents publics).
    Interne,
    /// Troisième concours (activité professionnelle, mandat, association).
    TroisiemeConcours,
}

impl Voie {
    /// The API code: `externe`, `interne`, `troisieme_concours`.
    pub fn code(self) -> &'static str {
        match self {
            Voie::Externe => "externe",
            Voie::Interne => "interne",
            Voie::TroisiemeConcours => "troisieme_concours",
        }
    }

    /// Parses the API code.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "externe" => Some(Voie::Externe),
            "interne" => Some(Voie::Interne),
            "troisieme_concours" => Some(Voie::TroisiemeConcours),
            _ => None,
        }
    }

    /// « concours externe »…
    pub fn libelle(self) -> &'static str {
        match self {
            Voie::Externe => "concours externe",
            Voie::Interne => "concours interne",
            Voie::TroisiemeConcours => "troisième concours",
        }
    }
}

/// How a piece is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exigence {
    /// Must have a file before closure.
    Obligatoire,
    /// May have files; never blocks closure.
    Facultative,
    /// May be sent after closure, until `pieces_differees_cloture` (seed: « vous pourrez
    /// les transmettre ultérieurement au service concours »); never blocks closure.
    Differable,
}

impl Exigence {
    /// The API code.
    pub fn code(self) -> &'static str {
        match self {
            Exigence::Obligatoire => "obligatoire",
            Exigence::Facultative => "facultative",
            Exigence::Differable => "differable",
        }
    }

    /// In words, for the pages.
    pub fn libelle(self) -> &'static str {
        match self {
            Exigence::Obligatoire => "obligatoire",
            Exigence::Facultative => "facultative",
            Exigence::Differable => "peut être transmise après la clôture",
        }
    }
}

/// A yes/no statement a candidate makes at pré-inscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Declaration {
    /// Its code.
    pub code: CodeDeclaration,
    /// The sentence the candidate ticks.
    pub libelle: String,
}

/// One requested pièce justificative and its rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PieceSpec {
    /// Its code.
    pub code: CodePiece,
    /// Its label for candidates.
    pub libelle: String,
    /// How it is required.
    pub exigence: Exigence,
    /// The voies it is asked of.
    pub voies: Vec<Voie>,
    /// Required (and shown) only when this declaration was made.
    pub si: Option<CodeDeclaration>,
    /// At most this many files.
    pub max_fichiers: u32,
    /// At most this many MiB per file.
    pub taille_max_mo: u32,
    /// Accepted formats.
    pub formats: Vec<Format>,
    /// An identity document (`identite = true`): its files are purged
    /// [`Conservation::pieces_identite_apres_decision`] days after the instruction's
    /// decision.
    pub identite: bool,
}

impl PieceSpec {
    /// The size limit in bytes.
    pub fn taille_max_octets(&self) -> u64 {
        u64::from(self.taille_max_mo) * 1024 * 1024
    }

    /// Whether this piece is asked of a dossier with this voie and these declarations.
    pub fn concerne(&self, voie: Voie, declarations: &BTreeSet<CodeDeclaration>) -> bool {
        self.voies.contains(&voie) && self.si.as_ref().is_none_or(|d| declarations.contains(d))
    }
}

/// The calendar of a session, as UTC instants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Calendrier {
    /// Pré-inscription opens at this instant (inclusive).
    pub preinscription_ouverture: DateTime<Utc>,
    /// Pré-inscription closes (exclusive).
    pub preinscription_cloture: DateLimite,
    /// « Clôturer mon inscription » must happen before this (exclusive).
    pub depot_cloture: DateLimite,
    /// Deferred pieces are accepted until this (exclusive).
    pub pieces_differees_cloture: Option<DateLimite>,
    /// The end of the concours (the end of that day, Paris): what
    /// [`Conservation::dossiers`] counts from.
    pub fin_concours: Option<DateLimite>,
}

/// How long depot keeps what candidates sent, set per concours by the CDG with its archives
/// service (`[conservation]`, in days; each optional: absent, kept until the CDG decides).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Conservation {
    /// The files of pieces marked `identite = true`, this many days after the dossier's
    /// instruction decision (recevable or rejet): an identity document once checked.
    pub pieces_identite_apres_decision: Option<u32>,
    /// Dossiers never closed, this many days after their dépôt deadline: every file and the
    /// candidate's identity, declarations and password.
    pub dossiers_non_clotures: Option<u32>,
    /// Every dossier of the session, this many days after `fin_concours`: the same; only the
    /// journal and the récépissé remain.
    pub dossiers: Option<u32>,
}

/// A concours session: identity, calendar, declarations and requested pieces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Concours {
    /// Its code, `[a-z0-9-]+`.
    pub code: CodeConcours,
    /// Its title.
    pub intitule: String,
    /// The session year.
    pub session: u16,
    /// The organising CDG.
    pub organisateur: String,
    /// Voies open in this session.
    pub voies: Vec<Voie>,
    /// Its calendar.
    pub calendrier: Calendrier,
    /// Declarations a candidate can make.
    pub declarations: Vec<Declaration>,
    /// Requested pieces, in display order.
    pub pieces: Vec<PieceSpec>,
    /// Retention of candidates' data.
    pub conservation: Conservation,
}

/// Default number of files per piece.
pub const MAX_FICHIERS_DEFAUT: u32 = 5;
/// Default size limit per file, in MiB.
pub const TAILLE_MAX_MO_DEFAUT: u32 = 10;
/// Largest size limit a configuration may set, in MiB.
pub const TAILLE_MAX_MO_PLAFOND: u32 = 200;
/// Largest number of files per piece a configuration may set.
pub const MAX_FICHIERS_PLAFOND: u32 = 50;

/// A concours file was refused; the message names the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErreurConfig {
    /// The key, as a TOML path (`calendrier.depot_cloture`, `pieces[2].si`).
    pub cle: String,
    /// What is wrong, in French.
    pub raison: String,
}

impl fmt::Display for ErreurConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.cle.is_empty() {
            write!(f, "configuration du concours invalide : {}", self.raison)
        } else {
            write!(
                f,
                "configuration du concours invalide, clé `{}` : {}",
                self.cle, self.raison
            )
        }
    }
}

impl std::error::Error for ErreurConfig {}

fn err(cle: impl Into<String>, raison: impl Into<String>) -> ErreurConfig {
    ErreurConfig {
        cle: cle.into(),
        raison: raison.into(),
    }
}

// ---- The file as written -------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fichier {
    concours: SectionConcours,
    calendrier: SectionCalendrier,
    #[serde(default)]
    declarations: Vec<SectionDeclaration>,
    #[serde(default)]
    pieces: Vec<SectionPiece>,
    conservation: Option<SectionConservation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SectionConservation {
    pieces_identite_apres_decision: Option<u32>,
    dossiers_non_clotures: Option<u32>,
    dossiers: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SectionConcours {
    code: String,
    intitule: String,
    session: u16,
    organisateur: String,
    voies: Vec<Voie>,
}

/// A date written as a string, or as a TOML date/date-time literal.
#[derive(Deserialize)]
#[serde(untagged)]
enum ValeurDate {
    Texte(String),
    Toml(toml::value::Datetime),
}

impl ValeurDate {
    fn texte(&self) -> String {
        match self {
            ValeurDate::Texte(s) => s.clone(),
            ValeurDate::Toml(d) => d.to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SectionCalendrier {
    preinscription_ouverture: ValeurDate,
    preinscription_cloture: ValeurDate,
    depot_cloture: ValeurDate,
    pieces_differees_cloture: Option<ValeurDate>,
    fin_concours: Option<ValeurDate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SectionDeclaration {
    code: String,
    libelle: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SectionPiece {
    code: String,
    libelle: String,
    exigence: Exigence,
    voies: Option<Vec<Voie>>,
    si: Option<String>,
    max_fichiers: Option<u32>,
    taille_max_mo: Option<u32>,
    formats: Option<Vec<String>>,
    #[serde(default)]
    identite: bool,
}

fn date(cle: &str, v: &ValeurDate) -> Result<DateSaisie, ErreurConfig> {
    DateSaisie::parse(&v.texte())
        .map_err(|e: ErreurDate| err(format!("calendrier.{cle}"), e.to_string()))
}

fn limite(cle: &str, v: &ValeurDate) -> Result<DateLimite, ErreurConfig> {
    date(cle, v)?
        .comme_limite()
        .map_err(|e| err(format!("calendrier.{cle}"), e.to_string()))
}

fn texte_requis(cle: &str, s: &str) -> Result<String, ErreurConfig> {
    let t = s.trim();
    if t.is_empty() {
        Err(err(cle, "ne doit pas être vide"))
    } else {
        Ok(t.to_owned())
    }
}

impl Concours {
    /// Loads and validates a concours file.
    pub fn from_toml(texte: &str) -> Result<Self, ErreurConfig> {
        let f: Fichier = toml::from_str(texte).map_err(|e| {
            // toml names the unknown or missing key and the line; keep its words.
            err("", e.to_string().trim_end().to_owned())
        })?;
        Self::valider(f)
    }

    fn valider(f: Fichier) -> Result<Self, ErreurConfig> {
        let c = f.concours;
        let code = CodeConcours::parse(&c.code).map_err(|_| {
            err(
                "concours.code",
                "attendu : lettres minuscules, chiffres et tirets",
            )
        })?;
        if c.voies.is_empty() {
            return Err(err("concours.voies", "au moins une voie est requise"));
        }
        let mut voies = c.voies.clone();
        voies.sort();
        voies.dedup();
        if voies.len() != c.voies.len() {
            return Err(err("concours.voies", "une voie est répétée"));
        }

        let cal = &f.calendrier;
        let ouverture = date("preinscription_ouverture", &cal.preinscription_ouverture)?
            .comme_debut()
            .map_err(|e| err("calendrier.preinscription_ouverture", e.to_string()))?;
        let pre_cloture = limite("preinscription_cloture", &cal.preinscription_cloture)?;
        let depot = limite("depot_cloture", &cal.depot_cloture)?;
        let differees = cal
            .pieces_differees_cloture
            .as_ref()
            .map(|v| limite("pieces_differees_cloture", v))
            .transpose()?;
        if ouverture >= pre_cloture.instant() {
            return Err(err(
                "calendrier.preinscription_cloture",
                "doit être postérieure à preinscription_ouverture",
            ));
        }
        if pre_cloture.instant() > depot.instant() {
            return Err(err(
                "calendrier.depot_cloture",
                "ne peut pas précéder preinscription_cloture",
            ));
        }
        if let Some(d) = differees
            && depot.instant() > d.instant()
        {
            return Err(err(
                "calendrier.pieces_differees_cloture",
                "ne peut pas précéder depot_cloture",
            ));
        }

        let mut declarations = Vec::new();
        let mut vus = BTreeSet::new();
        for (i, d) in f.declarations.iter().enumerate() {
            let cle = format!("declarations[{i}].code");
            let code = CodeDeclaration::parse(&d.code)
                .map_err(|_| err(&cle, "attendu : lettres minuscules, chiffres, - et _"))?;
            if !vus.insert(code.clone()) {
                return Err(err(cle, format!("code « {code} » en double")));
            }
            declarations.push(Declaration {
                code,
                libelle: texte_requis(&format!("declarations[{i}].libelle"), &d.libelle)?,
            });
        }

        let mut pieces = Vec::new();
        let mut codes = BTreeSet::new();
        for (i, p) in f.pieces.iter().enumerate() {
            let k = |champ: &str| format!("pieces[{i}].{champ}");
            let code = CodePiece::parse(&p.code)
                .map_err(|_| err(k("code"), "attendu : lettres minuscules, chiffres, - et _"))?;
            if !codes.insert(code.clone()) {
                return Err(err(k("code"), format!("code « {code} » en double")));
            }
            let voies_piece = match &p.voies {
                None => voies.clone(),
                Some(v) if v.is_empty() => {
                    return Err(err(k("voies"), "au moins une voie est requise"));
                }
                Some(v) => {
                    if let Some(x) = v.iter().find(|x| !voies.contains(x)) {
                        return Err(err(
                            k("voies"),
                            format!(
                                "la voie « {} » n'est pas ouverte dans ce concours",
                                x.code()
                            ),
                        ));
                    }
                    v.clone()
                }
            };
            let si = match &p.si {
                None => None,
                Some(s) => {
                    let d = CodeDeclaration::parse(s).ok().filter(|d| vus.contains(d));
                    Some(d.ok_or_else(|| {
                        err(k("si"), format!("la déclaration « {s} » n'est pas définie"))
                    })?)
                }
            };
            let max_fichiers = p.max_fichiers.unwrap_or(MAX_FICHIERS_DEFAUT);
            if !(1..=MAX_FICHIERS_PLAFOND).contains(&max_fichiers) {
                return Err(err(
                    k("max_fichiers"),
                    format!("doit être entre 1 et {MAX_FICHIERS_PLAFOND}"),
                ));
            }
            let taille_max_mo = p.taille_max_mo.unwrap_or(TAILLE_MAX_MO_DEFAUT);
            if !(1..=TAILLE_MAX_MO_PLAFOND).contains(&taille_max_mo) {
                return Err(err(
                    k("taille_max_mo"),
                    format!("doit être entre 1 et {TAILLE_MAX_MO_PLAFOND}"),
                ));
            }
            let formats = match &p.formats {
                None => vec![Format::Pdf, Format::Jpeg],
                Some(v) if v.is_empty() => {
                    return Err(err(k("formats"), "au moins un format est requis"));
                }
                Some(v) => {
                    let mut out = Vec::new();
                    for s in v {
                        let f = Format::parse(s).ok_or_else(|| {
                            err(
                                k("formats"),
                                format!("« {s} » : seuls « pdf » et « jpeg » existent"),
                            )
                        })?;
                        if !out.contains(&f) {
                            out.push(f);
                        }
                    }
                    out
                }
            };
            if p.exigence == Exigence::Differable && differees.is_none() {
                return Err(err(
                    "calendrier.pieces_differees_cloture",
                    format!("requise, car la pièce « {code} » est « differable »"),
                ));
            }
            pieces.push(PieceSpec {
                code,
                libelle: texte_requis(&k("libelle"), &p.libelle)?,
                exigence: p.exigence,
                voies: voies_piece,
                si,
                max_fichiers,
                taille_max_mo,
                formats,
                identite: p.identite,
            });
        }

        let fin_concours = cal
            .fin_concours
            .as_ref()
            .map(|v| limite("fin_concours", v))
            .transpose()?;
        if let Some(fin) = fin_concours
            && fin.instant() < depot.instant()
        {
            return Err(err(
                "calendrier.fin_concours",
                "ne peut pas précéder depot_cloture",
            ));
        }
        let mut conservation = Conservation::default();
        if let Some(c) = &f.conservation {
            let jours = |cle: &str, v: Option<u32>| match v {
                Some(n) if !(1..=36_500).contains(&n) => Err(err(
                    format!("conservation.{cle}"),
                    "un nombre de jours entre 1 et 36500",
                )),
                autre => Ok(autre),
            };
            conservation.pieces_identite_apres_decision = jours(
                "pieces_identite_apres_decision",
                c.pieces_identite_apres_decision,
            )?;
            conservation.dossiers_non_clotures =
                jours("dossiers_non_clotures", c.dossiers_non_clotures)?;
            conservation.dossiers = jours("dossiers", c.dossiers)?;
            if conservation.dossiers.is_some() && fin_concours.is_none() {
                return Err(err(
                    "calendrier.fin_concours",
                    "requise, car conservation.dossiers compte à partir de la fin du concours",
                ));
            }
            if conservation.pieces_identite_apres_decision.is_some()
                && !pieces.iter().any(|p| p.identite)
            {
                return Err(err(
                    "conservation.pieces_identite_apres_decision",
                    "aucune pièce n'est marquée « identite = true »",
                ));
            }
        }

        Ok(Concours {
            code,
            intitule: texte_requis("concours.intitule", &c.intitule)?,
            session: c.session,
            organisateur: texte_requis("concours.organisateur", &c.organisateur)?,
            voies: c.voies,
            calendrier: Calendrier {
                preinscription_ouverture: ouverture,
                preinscription_cloture: pre_cloture,
                depot_cloture: depot,
                pieces_differees_cloture: differees,
                fin_concours,
            },
            declarations,
            pieces,
            conservation,
        })
    }

    /// The piece with this code, whatever the voie.
    pub fn piece(&self, code: &str) -> Option<&PieceSpec> {
        self.pieces.iter().find(|p| p.code.as_str() == code)
    }

    /// Whether a declaration with this code exists.
    pub fn declaration(&self, code: &str) -> Option<&Declaration> {
        self.declarations.iter().find(|d| d.code.as_str() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const SEED: &str = include_str!("../../../examples/concours/animateur-2025.toml");

    #[test]
    fn le_concours_du_seed_se_charge() {
        let c = Concours::from_toml(SEED).unwrap();
        assert_eq!(c.code.as_str(), "animateur-2025");
        assert_eq!(c.voies, vec![Voie::Externe, Voie::Interne]);
        assert_eq!(
            c.calendrier.depot_cloture.instant().to_rfc3339(),
            "2025-04-17T22:00:00+00:00"
        );
        let etat = c.piece("etat-des-services").unwrap();
        assert_eq!(etat.exigence, Exigence::Differable);
        assert_eq!(etat.voies, vec![Voie::Interne]);
        let id = c.piece("piece-identite").unwrap();
        assert_eq!(id.max_fichiers, 2);
        assert_eq!(id.formats, vec![Format::Pdf, Format::Jpeg]);
    }

    fn avec(remplacer: &str, par: &str) -> Result<Concours, ErreurConfig> {
        assert!(SEED.contains(remplacer), "{remplacer}");
        Concours::from_toml(&SEED.replacen(remplacer, par, 1))
    }

    #[test]
    fn cle_inconnue_nommee() {
        let e = avec("session = 2025", "session = 2025\nsesion = 2025").unwrap_err();
        assert!(e.to_string().contains("sesion"), "{e}");
        let e = avec("max_fichiers = 2", "max_fichiers = 2\nmax_fichier = 3").unwrap_err();
        assert!(e.to_string().contains("max_fichier"), "{e}");
    }

    #[test]
    fn dates_dans_l_ordre() {
        let e = avec(
            "depot_cloture            = \"2025-04-17\"",
            "depot_cloture = \"2025-04-01\"",
        )
        .unwrap_err();
        assert_eq!(e.cle, "calendrier.depot_cloture");
        let e = avec(
            "pieces_differees_cloture = \"2025-06-19\"",
            "pieces_differees_cloture = \"2025-04-16\"",
        )
        .unwrap_err();
        assert_eq!(e.cle, "calendrier.pieces_differees_cloture");
        let e = avec(
            "preinscription_cloture   = \"2025-04-09\"",
            "preinscription_cloture = \"2025-03-10\"",
        )
        .unwrap_err();
        assert_eq!(e.cle, "calendrier.preinscription_cloture");
        // Equal pré-inscription and dépôt deadlines are allowed.
        avec(
            "depot_cloture            = \"2025-04-17\"",
            "depot_cloture = \"2025-04-09\"",
        )
        .unwrap();
    }

    #[test]
    fn heures_d_ete_et_d_hiver() {
        let e = avec(
            "depot_cloture            = \"2025-04-17\"",
            "depot_cloture = \"2026-03-29T02:30:00\"",
        )
        .unwrap_err();
        assert_eq!(e.cle, "calendrier.depot_cloture");
        assert!(e.raison.contains("n'existe pas"), "{e}");
        let e = avec(
            "depot_cloture            = \"2025-04-17\"",
            "depot_cloture = \"2025-10-26T02:30:00\"",
        )
        .unwrap_err();
        assert!(e.raison.contains("deux fois"), "{e}");
        let c = avec(
            "depot_cloture            = \"2025-04-17\"",
            "depot_cloture = \"2025-04-17T17:00:00\"",
        )
        .unwrap();
        assert_eq!(
            c.calendrier.depot_cloture.libelle(),
            "jeudi 17 avril 2025 à 17 h 00 (heure de Paris)"
        );
        // A TOML date literal works as well as a string.
        let c = avec(
            "depot_cloture            = \"2025-04-17\"",
            "depot_cloture = 2025-04-17",
        )
        .unwrap();
        assert_eq!(
            c.calendrier.depot_cloture.instant().to_rfc3339(),
            "2025-04-17T22:00:00+00:00"
        );
    }

    #[test]
    fn references_et_doublons() {
        let e = avec("si = \"demande_amenagement\"", "si = \"inconnue\"").unwrap_err();
        assert!(e.cle.ends_with(".si"), "{e}");
        let e = avec("voies = [\"interne\"]", "voies = [\"troisieme_concours\"]").unwrap_err();
        assert!(e.cle.ends_with(".voies"), "{e}");
        let e = avec("code = \"certificat-medical\"", "code = \"piece-identite\"").unwrap_err();
        assert!(e.raison.contains("en double"), "{e}");
        let e = avec("formats = [\"pdf\", \"jpeg\"]", "formats = [\"png\"]").unwrap_err();
        assert!(e.cle.ends_with(".formats"), "{e}");
        let e = avec(
            "voies = [\"externe\", \"interne\"]",
            "voies = [\"externe\", \"autre\"]",
        )
        .unwrap_err();
        assert!(e.to_string().contains("autre"), "{e}");
    }

    #[test]
    fn differable_exige_une_date() {
        let e = avec("pieces_differees_cloture = \"2025-06-19\"", "").unwrap_err();
        assert_eq!(e.cle, "calendrier.pieces_differees_cloture");
    }
}
