//! The verdict on a refused file: what is wrong with it, with a stable code and a French
//! sentence that tells the candidate what to do.

/// Why a file is not a PDF or JPEG a CDG may accept. Nothing about the file is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejet {
    /// The content is neither PDF nor JPEG, or not a format this piece accepts.
    #[error("format refusé pour « {nom} »")]
    FormatRefuse {
        /// Display name of the file.
        nom: String,
        /// What the content was recognised as, when known (« une image PNG »).
        detecte: Option<&'static str>,
        /// Formats the piece accepts, in words (« PDF ou JPEG »).
        admis: String,
    },
    /// The extension of the file name contradicts its content.
    #[error("extension incohérente pour « {nom} »")]
    ExtensionIncoherente {
        /// Display name of the file.
        nom: String,
        /// The format found in the content.
        format: &'static str,
        /// The extensions that fit that format.
        attendues: &'static str,
    },
    /// The PDF is encrypted or password-protected.
    #[error("PDF chiffré : « {nom} »")]
    PdfChiffre {
        /// Display name of the file.
        nom: String,
    },
    /// The PDF carries active content (script, launch action, embedded file…).
    #[error("PDF à contenu actif : « {nom} » ({element})")]
    PdfContenuActif {
        /// Display name of the file.
        nom: String,
        /// The PDF name that was found, e.g. `/JavaScript`.
        element: String,
    },
    /// The PDF cannot be read (truncated, damaged, no page).
    #[error("PDF illisible : « {nom} »")]
    PdfIllisible {
        /// Display name of the file.
        nom: String,
    },
    /// The JPEG does not decode (truncated, damaged, or hiding another format).
    #[error("JPEG invalide : « {nom} »")]
    JpegInvalide {
        /// Display name of the file.
        nom: String,
    },
    /// The image has more pixels than the limit.
    #[error("image trop grande : « {nom} »")]
    ImageTropGrande {
        /// Display name of the file.
        nom: String,
        /// Its size in megapixels (rounded).
        megapixels: u64,
        /// The limit in megapixels.
        limite: u64,
    },
    /// The file is empty.
    #[error("fichier vide : « {nom} »")]
    FichierVide {
        /// Display name of the file.
        nom: String,
    },
    /// The file is larger than the piece allows.
    #[error("fichier trop volumineux : « {nom} »")]
    FichierTropVolumineux {
        /// Display name of the file.
        nom: String,
        /// The piece's limit in MiB.
        taille_max_mo: u32,
    },
}

/// The kind of problem, for a caller choosing an answer (HTTP: 413, 415, 422).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Nature {
    /// Larger than the limit.
    Taille,
    /// Not a format the piece accepts, or a name that contradicts the content.
    Type,
    /// The right format, but a content that cannot be accepted.
    Contenu,
}

impl Rejet {
    /// Every stable code, in the order of the variants.
    pub const CODES: &'static [&'static str] = &[
        "format_refuse",
        "extension_incoherente",
        "pdf_chiffre",
        "pdf_contenu_actif",
        "pdf_illisible",
        "jpeg_invalide",
        "image_trop_grande",
        "fichier_vide",
        "fichier_trop_volumineux",
    ];

    /// The stable machine code, e.g. `pdf_chiffre`.
    pub fn code(&self) -> &'static str {
        match self {
            Rejet::FormatRefuse { .. } => "format_refuse",
            Rejet::ExtensionIncoherente { .. } => "extension_incoherente",
            Rejet::PdfChiffre { .. } => "pdf_chiffre",
            Rejet::PdfContenuActif { .. } => "pdf_contenu_actif",
            Rejet::PdfIllisible { .. } => "pdf_illisible",
            Rejet::JpegInvalide { .. } => "jpeg_invalide",
            Rejet::ImageTropGrande { .. } => "image_trop_grande",
            Rejet::FichierVide { .. } => "fichier_vide",
            Rejet::FichierTropVolumineux { .. } => "fichier_trop_volumineux",
        }
    }

    /// The kind of problem.
    pub fn nature(&self) -> Nature {
        match self {
            Rejet::FichierTropVolumineux { .. } => Nature::Taille,
            Rejet::FormatRefuse { .. } | Rejet::ExtensionIncoherente { .. } => Nature::Type,
            Rejet::PdfChiffre { .. }
            | Rejet::PdfContenuActif { .. }
            | Rejet::PdfIllisible { .. }
            | Rejet::JpegInvalide { .. }
            | Rejet::ImageTropGrande { .. }
            | Rejet::FichierVide { .. } => Nature::Contenu,
        }
    }

    /// The sentence shown to the candidate: what is wrong with the file and what to do.
    pub fn message(&self) -> String {
        match self {
            Rejet::FormatRefuse {
                nom,
                detecte,
                admis,
            } => match detecte {
                // A phone's photo: the setting that makes it send JPEG.
                Some(d) if d.contains("HEIC") => format!(
                    "Le fichier « {nom} » est {d}, qui n'est pas accepté : les pièces doivent être au format {admis}. Sur votre téléphone, réglez l'appareil photo sur « Le plus compatible » (ou envoyez une capture d'écran, qui est en JPEG), puis déposez la photo de nouveau."
                ),
                Some(d) => format!(
                    "Le fichier « {nom} » est {d}, qui n'est pas accepté : les pièces doivent être au format {admis}. Enregistrez ou numérisez le document en {admis}, puis déposez-le de nouveau."
                ),
                None => format!(
                    "Le fichier « {nom} » n'est pas au format {admis}. Enregistrez ou numérisez le document en {admis}, puis déposez-le de nouveau."
                ),
            },
            Rejet::ExtensionIncoherente {
                nom,
                format,
                attendues,
            } => format!(
                "Le nom du fichier « {nom} » ne correspond pas à son contenu, qui est un {format} : renommez-le avec l'extension {attendues}, puis déposez-le de nouveau."
            ),
            Rejet::PdfChiffre { nom } => format!(
                "Le PDF « {nom} » est protégé par un mot de passe ou un chiffrement que le service concours ne pourrait pas contrôler. Ouvrez-le (avec son mot de passe s'il en demande un), puis imprimez-le en PDF (Imprimer → Enregistrer au format PDF) et déposez ce nouveau fichier."
            ),
            Rejet::PdfContenuActif { nom, element }
                if element.contains("EmbeddedFile")
                    || element.contains("FileAttachment")
                    || element == "/EF" =>
            {
                format!(
                    "Le PDF « {nom} » contient un fichier joint, qui n'est pas accepté pour des raisons de sécurité. Imprimez-le en PDF (Imprimer → Enregistrer au format PDF) pour obtenir une copie sans pièce jointe, puis déposez-la."
                )
            }
            Rejet::PdfContenuActif { nom, element } => format!(
                "Le PDF « {nom} » contient un élément actif ({element}) qui n'est pas accepté pour des raisons de sécurité. Imprimez-le en PDF (Imprimer → Enregistrer au format PDF) ou numérisez le document, puis déposez le nouveau fichier."
            ),
            Rejet::PdfIllisible { nom } => format!(
                "Le PDF « {nom} » est illisible ou incomplet. Vérifiez qu'il s'ouvre sur votre ordinateur, enregistrez-le de nouveau, puis déposez-le."
            ),
            Rejet::JpegInvalide { nom } => format!(
                "L'image « {nom} » n'est pas un JPEG valide ou est incomplète. Enregistrez-la de nouveau en JPEG, puis déposez-la."
            ),
            Rejet::ImageTropGrande {
                nom,
                megapixels,
                limite,
            } => format!(
                "L'image « {nom} » est trop grande ({megapixels} mégapixels, au plus {limite}). Réduisez sa résolution, puis déposez-la de nouveau."
            ),
            Rejet::FichierVide { nom } => format!(
                "Le fichier « {nom} » est vide. Choisissez le bon fichier et déposez-le de nouveau."
            ),
            Rejet::FichierTropVolumineux { nom, taille_max_mo } => format!(
                "Le fichier « {nom} » dépasse la taille autorisée de {taille_max_mo} Mo. Réduisez sa taille (numérisation en 150 ou 200 ppp, compression), puis déposez-le de nouveau."
            ),
        }
    }
}

impl Rejet {
    /// One refusal of each kind, about a file named « CNI recto.pdf », in the order of
    /// [`Rejet::CODES`]: the catalogue the documentation and the message tests print.
    pub fn exemples() -> Vec<Rejet> {
        let nom = || "CNI recto.pdf".to_owned();
        vec![
            Rejet::FormatRefuse {
                nom: nom(),
                detecte: Some("une image PNG"),
                admis: "PDF ou JPEG".into(),
            },
            Rejet::ExtensionIncoherente {
                nom: nom(),
                format: "JPEG",
                attendues: "« .jpg » ou « .jpeg »",
            },
            Rejet::PdfChiffre { nom: nom() },
            Rejet::PdfContenuActif {
                nom: nom(),
                element: "/JavaScript".into(),
            },
            Rejet::PdfIllisible { nom: nom() },
            Rejet::JpegInvalide { nom: nom() },
            Rejet::ImageTropGrande {
                nom: nom(),
                megapixels: 60,
                limite: 50,
            },
            Rejet::FichierVide { nom: nom() },
            Rejet::FichierTropVolumineux {
                nom: nom(),
                taille_max_mo: 10,
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chaque_code_est_liste_une_fois() {
        let tous = Rejet::exemples();
        let codes: Vec<_> = tous.iter().map(Rejet::code).collect();
        assert_eq!(codes, Rejet::CODES);
        for r in &tous {
            assert!(r.message().contains("« CNI recto.pdf »"), "{}", r.message());
        }
    }
}
