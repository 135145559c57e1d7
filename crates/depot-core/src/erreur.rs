//! Errors: refusals a candidate reads, and storage failures adapters convert into.
//!
//! Every [`Refus`] has a stable machine [`code`](Refus::code) that clients branch on, and a
//! French [`message`](Refus::message) a candidate understands, naming the file, the limit or
//! the deadline, and saying what to do.

use serde::Serialize;

use depot_format::Rejet;

use crate::ids::CodePiece;
use crate::ports::PoolFermee;
use crate::signature::ErreurSignature;

/// A piece named in a refusal (missing pieces at closure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PieceNommee {
    /// Code of the piece.
    pub code: CodePiece,
    /// Its label, as the CDG wrote it.
    pub libelle: String,
}

/// A rule of the procedure refused the candidate's action. Nothing stored was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refus {
    /// The file is not a PDF or JPEG this piece accepts (format, size, content): the
    /// verdict of [`depot_format`].
    #[error(transparent)]
    Format(#[from] Rejet),
    /// The piece already has its maximum number of files.
    #[error("trop de fichiers pour « {piece} »")]
    TropDeFichiers {
        /// Label of the piece.
        piece: String,
        /// Its maximum number of files.
        max: u32,
    },
    /// No such piece is requested for this dossier.
    #[error("pièce inconnue : {code}")]
    PieceInconnue {
        /// The code as received.
        code: String,
    },
    /// No such file in this dossier.
    #[error("fichier inconnu")]
    FichierInconnu,
    /// The dossier is closed: this action is no longer possible.
    #[error("dossier clôturé")]
    DossierCloture,
    /// The deadline for this action has passed.
    #[error("délai dépassé : {date_limite}")]
    DelaiDepasse {
        /// The deadline in words (« jeudi 17 avril 2025 à minuit (heure de Paris) »).
        date_limite: String,
    },
    /// Closure refused: required pieces have no file.
    #[error("pièces manquantes")]
    PiecesManquantes {
        /// The missing pieces, in the configuration's order.
        manquantes: Vec<PieceNommee>,
    },
    /// Pré-inscription is not open at this instant.
    #[error("préinscription fermée")]
    PreinscriptionFermee {
        /// The window in words.
        periode: String,
    },
    /// The chosen password does not meet the policy.
    #[error("mot de passe trop faible")]
    MotDePasseFaible {
        /// Why, in French.
        raison: String,
    },
    /// Unknown n° de dossier or wrong password (deliberately indistinguishable).
    #[error("identifiants invalides")]
    IdentifiantsInvalides,
    /// A field of a form is invalid.
    #[error("champ invalide : {champ}")]
    ChampInvalide {
        /// The field's name in the API (`email`, `voie`…).
        champ: &'static str,
        /// What is wrong, in French.
        raison: String,
    },
    /// The staff member's role does not allow this action.
    #[error("action non autorisée")]
    ActionNonAutorisee,
    /// The dossier's state does not allow this transition.
    #[error("transition interdite : {action} depuis {etat}")]
    TransitionInterdite {
        /// The state code the dossier reads.
        etat: &'static str,
        /// The action, in words.
        action: &'static str,
    },
    /// The concours is not hosted here.
    #[error("concours inconnu : {code}")]
    ConcoursInconnu {
        /// The code as received.
        code: String,
    },
    /// A password-reset link that is unknown, expired, used or replaced by a newer one.
    #[error("lien de réinitialisation invalide")]
    JetonInvalide,
    /// The antivirus found a signature in the file: nothing was stored.
    #[error("virus détecté dans « {nom} » : {signature}")]
    VirusDetecte {
        /// Display name of the file.
        nom: String,
        /// The signature's name.
        signature: String,
        /// SHA-256 of the refused content (journaled).
        sha256: crate::ids::Sha256,
    },
    /// Staff: the file was not scanned yet (the antivirus was unavailable); it is served
    /// once found clean.
    #[error("analyse antivirus en attente")]
    AnalyseEnAttente,
    /// Staff: the file was found infected after it was recorded; it is quarantined.
    #[error("fichier infecté")]
    FichierInfecte,
    /// The file's content was purged at the end of its retention period.
    #[error("fichier purgé")]
    FichierPurge {
        /// When, in words.
        le: String,
    },
}

/// What kind of refusal: what an adapter needs to choose its answer (an HTTP status), so
/// that it never compares codes as strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Categorie {
    /// Unknown n° de dossier or wrong password.
    Identifiants,
    /// What the request names does not exist (or is not the candidate's).
    Introuvable,
    /// The action is not possible in the dossier's state or at this instant (closed,
    /// deadline passed, pieces missing, a full piece, a transition refused).
    Etat,
    /// The staff member's role does not allow it.
    Interdit,
    /// A field of a form is wrong: the candidate corrects it.
    Saisie,
    /// The file itself, by the nature of its problem (size, type, content).
    Fichier(crate::format::Nature),
}

impl Refus {
    /// The kind of refusal.
    pub fn categorie(&self) -> Categorie {
        match self {
            Refus::Format(r) => Categorie::Fichier(r.nature()),
            Refus::IdentifiantsInvalides => Categorie::Identifiants,
            Refus::PieceInconnue { .. }
            | Refus::FichierInconnu
            | Refus::ConcoursInconnu { .. }
            | Refus::FichierPurge { .. } => Categorie::Introuvable,
            Refus::JetonInvalide => Categorie::Saisie,
            Refus::TropDeFichiers { .. }
            | Refus::DossierCloture
            | Refus::DelaiDepasse { .. }
            | Refus::PiecesManquantes { .. }
            | Refus::PreinscriptionFermee { .. }
            | Refus::TransitionInterdite { .. }
            | Refus::AnalyseEnAttente
            | Refus::FichierInfecte => Categorie::Etat,
            Refus::VirusDetecte { .. } => Categorie::Fichier(crate::format::Nature::Contenu),
            Refus::ActionNonAutorisee => Categorie::Interdit,
            Refus::MotDePasseFaible { .. } | Refus::ChampInvalide { .. } => Categorie::Saisie,
        }
    }

    /// The codes of the rules' own refusals; [`Refus::codes`] adds the format's.
    const CODES_PROPRES: &'static [&'static str] = &[
        "trop_de_fichiers",
        "piece_inconnue",
        "fichier_inconnu",
        "dossier_cloture",
        "delai_depasse",
        "pieces_manquantes",
        "preinscription_fermee",
        "mot_de_passe_faible",
        "identifiants_invalides",
        "champ_invalide",
        "concours_inconnu",
        "action_non_autorisee",
        "transition_interdite",
        "jeton_invalide",
        "virus_detecte",
        "analyse_en_attente",
        "fichier_infecte",
        "fichier_purge",
    ];

    /// Every stable code a refusal can carry: the format's ([`Rejet::CODES`]) then the
    /// rules'. For documentation and for the test that prints every message.
    pub fn codes() -> impl Iterator<Item = &'static str> {
        Rejet::CODES.iter().chain(Self::CODES_PROPRES).copied()
    }

    /// One refusal of each kind, with the data a real one carries: the catalogue the
    /// documentation and the message tests print.
    pub fn exemples() -> Vec<Refus> {
        #[allow(clippy::expect_used)] // a literal code of the right shape
        let identite = || PieceNommee {
            code: CodePiece::parse("piece-identite").expect("code de pièce littéral"),
            libelle: "Copie d'une pièce d'identité".into(),
        };
        let mut v: Vec<Refus> = depot_format::Rejet::exemples()
            .into_iter()
            .map(Refus::Format)
            .collect();
        v.extend([
            Refus::TropDeFichiers {
                piece: "Copie d'une pièce d'identité".into(),
                max: 2,
            },
            Refus::PieceInconnue {
                code: "etat-des-services".into(),
            },
            Refus::FichierInconnu,
            Refus::DossierCloture,
            Refus::DelaiDepasse {
                date_limite: "jeudi 17 avril 2025 à minuit (heure de Paris)".into(),
            },
            Refus::PiecesManquantes {
                manquantes: vec![identite()],
            },
            Refus::PreinscriptionFermee {
                periode:
                    "du mardi 11 mars 2025 jusqu'au mercredi 9 avril 2025 à minuit (heure de Paris)"
                        .into(),
            },
            Refus::MotDePasseFaible {
                raison: "il compte 8 caractère(s), il en faut au moins 12.".into(),
            },
            Refus::IdentifiantsInvalides,
            Refus::ChampInvalide {
                champ: "email",
                raison: "saisissez une adresse de la forme prenom.nom@exemple.fr.".into(),
            },
            Refus::ConcoursInconnu {
                code: "autre".into(),
            },
            Refus::ActionNonAutorisee,
            Refus::TransitionInterdite {
                etat: "recevable",
                action: "rejeter",
            },
            Refus::JetonInvalide,
            Refus::VirusDetecte {
                nom: "CNI.pdf".into(),
                signature: "Win.Test.EICAR_HDB-1".into(),
                sha256: crate::ids::Sha256::de(b"X5O!P%@AP"),
            },
            Refus::AnalyseEnAttente,
            Refus::FichierInfecte,
            Refus::FichierPurge {
                le: "vendredi 17 octobre 2025".into(),
            },
        ]);
        v
    }

    /// The stable machine code, e.g. `delai_depasse`.
    pub fn code(&self) -> &'static str {
        match self {
            Refus::Format(r) => r.code(),
            Refus::TropDeFichiers { .. } => "trop_de_fichiers",
            Refus::PieceInconnue { .. } => "piece_inconnue",
            Refus::FichierInconnu => "fichier_inconnu",
            Refus::DossierCloture => "dossier_cloture",
            Refus::DelaiDepasse { .. } => "delai_depasse",
            Refus::PiecesManquantes { .. } => "pieces_manquantes",
            Refus::PreinscriptionFermee { .. } => "preinscription_fermee",
            Refus::MotDePasseFaible { .. } => "mot_de_passe_faible",
            Refus::IdentifiantsInvalides => "identifiants_invalides",
            Refus::ChampInvalide { .. } => "champ_invalide",
            Refus::ConcoursInconnu { .. } => "concours_inconnu",
            Refus::ActionNonAutorisee => "action_non_autorisee",
            Refus::TransitionInterdite { .. } => "transition_interdite",
            Refus::JetonInvalide => "jeton_invalide",
            Refus::VirusDetecte { .. } => "virus_detecte",
            Refus::AnalyseEnAttente => "analyse_en_attente",
            Refus::FichierInfecte => "fichier_infecte",
            Refus::FichierPurge { .. } => "fichier_purge",
        }
    }

    /// The sentence shown to the candidate: what happened and what to do.
    pub fn message(&self) -> String {
        match self {
            Refus::Format(r) => r.message(),
            Refus::TropDeFichiers { piece, max } => format!(
                "La pièce « {piece} » a déjà {max} fichier(s), le maximum. Supprimez un fichier (la poubelle) avant d'en ajouter un autre, ou regroupez les pages dans un seul PDF."
            ),
            Refus::PieceInconnue { .. } => {
                "Cette pièce n'est pas demandée pour votre dossier. Revenez à la liste des pièces de votre dossier.".to_owned()
            }
            Refus::FichierInconnu => {
                "Ce fichier n'existe pas dans votre dossier. Revenez à la liste des pièces de votre dossier.".to_owned()
            }
            Refus::DossierCloture => {
                "Votre dossier est clôturé, il est en cours d'instruction : il ne peut plus être modifié. Pour une pièce à transmettre ultérieurement, utilisez la pièce prévue à cet effet.".to_owned()
            }
            Refus::DelaiDepasse { date_limite } => format!(
                "Le délai est dépassé : la date limite était le {date_limite}. Cette action n'est plus possible ; contactez le service concours du centre de gestion."
            ),
            Refus::PiecesManquantes { manquantes } => {
                let liste = manquantes
                    .iter()
                    .map(|p| format!("« {} »", p.libelle))
                    .collect::<Vec<_>>()
                    .join(", ");
                let (article, reprise) = if manquantes.len() > 1 {
                    ("les pièces", "ces pièces")
                } else {
                    ("la pièce", "cette pièce")
                };
                format!(
                    "Votre inscription ne peut pas être clôturée : il manque {article} {liste}. Déposez {reprise}, puis cliquez de nouveau sur « Clôturer mon inscription »."
                )
            }
            Refus::PreinscriptionFermee { periode } => format!(
                "La préinscription n'est pas ouverte : elle est possible {periode}."
            ),
            Refus::MotDePasseFaible { raison } => format!(
                "Ce mot de passe n'est pas assez sûr : {raison} Choisissez une phrase de passe d'au moins 12 caractères, facile à retenir pour vous et difficile à deviner."
            ),
            Refus::IdentifiantsInvalides => {
                "Numéro de dossier ou mot de passe incorrect. Vérifiez le numéro indiqué sur votre dossier d'inscription et le mot de passe choisi lors de votre préinscription.".to_owned()
            }
            Refus::ChampInvalide { champ, raison } => {
                format!("Le champ « {champ} » est invalide : {raison}")
            }
            Refus::ActionNonAutorisee => {
                "Votre rôle ne permet pas cette action : elle est réservée aux gestionnaires chargés de l'instruction.".to_owned()
            }
            Refus::TransitionInterdite { etat, action } => format!(
                "Impossible de {action} : le dossier est dans l'état « {etat} »."
            ),
            Refus::ConcoursInconnu { code } => format!(
                "Le concours « {code} » n'est pas ouvert sur ce site. Vérifiez le lien suivi depuis le site du centre de gestion."
            ),
            Refus::JetonInvalide => {
                "Ce lien de réinitialisation n'est plus valable : il a expiré (30 minutes), a déjà servi ou a été remplacé par une demande plus récente. Demandez un nouveau lien depuis « Mot de passe oublié ? ».".to_owned()
            }
            Refus::VirusDetecte { nom, signature, .. } => format!(
                "Le fichier « {nom} » est détecté comme contenant un virus ({signature}) : il n'a pas été enregistré. Analysez votre ordinateur ou votre téléphone avec un antivirus à jour, puis envoyez une autre copie du document (par exemple une nouvelle numérisation)."
            ),
            Refus::AnalyseEnAttente => {
                "Ce fichier n'a pas encore été analysé par l'antivirus : il pourra être ouvert dès qu'il aura été trouvé sain (l'analyse est relancée automatiquement).".to_owned()
            }
            Refus::FichierInfecte => {
                "Ce fichier a été détecté comme infecté après son dépôt : il est en quarantaine et ne peut pas être ouvert. Le candidat a été invité à en déposer une autre copie.".to_owned()
            }
            Refus::FichierPurge { le } => format!(
                "Ce fichier a été supprimé le {le}, à la fin de sa durée de conservation fixée par le centre de gestion : il ne peut plus être ouvert. Son empreinte reste inscrite dans l'historique du dossier."
            ),
        }
    }
}

/// A storage port failed. Adapters convert their own errors into these semantic variants,
/// so callers branch on meaning, not on backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The record or content does not exist.
    #[error("introuvable : {0}")]
    NotFound(String),
    /// A create found the key already taken (write-once contents, new dossier).
    #[error("existe déjà : {0}")]
    AlreadyExists(String),
    /// A compare-and-swap found another version: someone else wrote first.
    #[error("conflit de version : {0}")]
    Conflict(String),
    /// The backend cannot be reached or failed transiently (after its own retries),
    /// or has no space left.
    #[error("stockage indisponible : {0}")]
    Unavailable(String),
    /// The backend refuses the operation (permissions, read-only medium).
    #[error("stockage refusé : {0}")]
    Denied(String),
    /// Stored data failed its integrity check; it is reported, never parsed as valid.
    #[error("données corrompues : {0}")]
    Corrupt(String),
}

impl StorageError {
    /// Stable machine code for logs and APIs.
    pub fn code(&self) -> &'static str {
        match self {
            StorageError::NotFound(_) => "stockage_introuvable",
            StorageError::AlreadyExists(_) => "stockage_existe_deja",
            StorageError::Conflict(_) => "stockage_conflit",
            StorageError::Unavailable(_) => "stockage_indisponible",
            StorageError::Denied(_) => "stockage_refuse",
            StorageError::Corrupt(_) => "stockage_corrompu",
        }
    }
}

/// What a use case of the [`Espace`](crate::Espace) can return.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErreurEspace {
    /// A rule refused the action.
    #[error(transparent)]
    Refus(#[from] Refus),
    /// Storage failed; the dossier is in its old or its new state, never in between.
    #[error(transparent)]
    Stockage(#[from] StorageError),
    /// The bytes of an upload stopped before their end (the client went away, or sent a
    /// malformed body): nothing was stored.
    #[error(transparent)]
    Envoi(#[from] ErreurEnvoi),
    /// The récépissé could not be signed: the dossier was not closed.
    #[error(transparent)]
    Signature(#[from] ErreurSignature),
    /// The server is shutting down and did not run the work.
    #[error(transparent)]
    Arret(#[from] PoolFermee),
}

/// Why the bytes of an upload stopped coming: what the adapter reading them tells
/// [`Espace::deposer_flux`](crate::Espace::deposer_flux).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErreurEnvoi {
    /// The transport's own size limit cut the body: the piece's limit is the answer
    /// (`fichier_trop_volumineux`).
    #[error("corps de requête trop volumineux")]
    TropVolumineux,
    /// The body was cut or malformed.
    #[error("envoi interrompu : {0}")]
    Interrompu(String),
}

impl ErreurEspace {
    /// Stable code: the refusal's, or the storage error's.
    pub fn code(&self) -> &'static str {
        match self {
            ErreurEspace::Refus(r) => r.code(),
            ErreurEspace::Stockage(s) => s.code(),
            ErreurEspace::Envoi(_) => "requete_invalide",
            ErreurEspace::Signature(_) => "signature_indisponible",
            ErreurEspace::Arret(_) => "service_indisponible",
        }
    }

    /// French sentence for the candidate. Storage failures get a generic sentence: their
    /// details are for the logs.
    pub fn message(&self) -> String {
        match self {
            ErreurEspace::Refus(r) => r.message(),
            ErreurEspace::Stockage(_) | ErreurEspace::Signature(_) | ErreurEspace::Arret(_) => "Le service est momentanément indisponible : votre action n'a pas été enregistrée. Réessayez dans quelques instants.".to_owned(),
            ErreurEspace::Envoi(e) => format!("Le fichier n'a pas été reçu en entier ({e}) : rien n'a été enregistré. Déposez-le de nouveau."),
        }
    }
}
