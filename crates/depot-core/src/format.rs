//! « Les pièces à transmettre doivent être au format PDF ou JPEG » — decided by content in
//! [`depot_format`], which this module re-exports; here the verdict meets the dossier: an
//! accepted file gets its SHA-256 ([`Analyse`]), a [`Rejet`] becomes a [`Refus`].
//!
//! [`Refus`]: crate::Refus

pub use depot_format::{
    AnalyseFlux, Caracteristiques, Examen, Format, JPEG_ENTETES_MAX, LIMITE_MEGAPIXELS,
    NOM_MAX_CARACTERES, Nature, PDF_ANALYSE_COMPLETE_MAX, PDF_DECOMPRESSION_MAX,
    PIXELS_PAR_OCTET_MAX, PLAFOND_MEGAPIXELS, Rejet, TRAILER_JPEG_MAX, formats_en_mots,
    normaliser_nom,
};

use crate::erreur::Refus;
use crate::ids::Sha256;

/// An accepted file, with the SHA-256 of its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analyse {
    /// Its format, from its content.
    pub format: Format,
    /// Its display name, normalised.
    pub nom: String,
    /// Its size in bytes.
    pub taille: u64,
    /// SHA-256 of its content.
    pub sha256: Sha256,
    /// Pages or dimensions.
    pub caracteristiques: Caracteristiques,
    /// The antivirus' analysis, when one is configured.
    pub antivirus: Option<crate::antivirus::AnalyseAntivirus>,
}

impl Analyse {
    /// The analysis of a content whose SHA-256 is `sha256` (computed by the store while it
    /// wrote the bytes, or over bytes in memory).
    pub fn new(examen: Examen, sha256: Sha256) -> Self {
        Self {
            format: examen.format,
            nom: examen.nom,
            taille: examen.taille,
            sha256,
            caracteristiques: examen.caracteristiques,
            antivirus: None,
        }
    }
}

/// [`depot_format::analyser`] on a file in memory, plus its SHA-256.
pub fn analyser(
    nom_brut: &str,
    contenu: &[u8],
    formats_admis: &[Format],
    taille_max_mo: u32,
) -> Result<Analyse, Refus> {
    let examen = depot_format::analyser(nom_brut, contenu, formats_admis, taille_max_mo)?;
    Ok(Analyse::new(examen, Sha256::de(contenu)))
}
