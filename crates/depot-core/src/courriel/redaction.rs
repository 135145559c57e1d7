//! The messages, in French, as one list of blocks rendered twice: plain text and HTML.

use chrono::{DateTime, Utc};

use super::{Courriel, CourrielEnAttente, Echeance, PieceJointe, SorteCourriel};
use crate::calendrier::instant_en_lettres;
use crate::config::{Concours, Exigence};
use crate::dossier::{Dossier, Etat, StatutPiece};
use crate::ids::Sha256;
use crate::instruction::StatutInstruction;

/// One block of a message.
enum Bloc {
    Paragraphe(String),
    /// A paragraph shown strongly (the n°, the deadline).
    Important(String),
    Liste(Vec<String>),
    /// A link: its sentence, then the address.
    Lien(String, String),
}

struct Message {
    sujet: String,
    blocs: Vec<Bloc>,
    pieces_jointes: Vec<PieceJointe>,
}

fn echapper(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const PIED: &str = "Ce message est envoyé automatiquement : merci de ne pas y répondre. Pour toute question, contactez le service concours du centre de gestion.";

impl Message {
    fn texte(&self, salutation: &str, signature: &str) -> String {
        let mut t = format!("{salutation}\n\n");
        for b in &self.blocs {
            match b {
                Bloc::Paragraphe(p) | Bloc::Important(p) => t.push_str(p),
                Bloc::Liste(l) => {
                    for (i, e) in l.iter().enumerate() {
                        if i > 0 {
                            t.push('\n');
                        }
                        t.push_str("- ");
                        t.push_str(e);
                    }
                }
                Bloc::Lien(phrase, url) => {
                    t.push_str(phrase);
                    t.push('\n');
                    t.push_str(url);
                }
            }
            t.push_str("\n\n");
        }
        t.push_str(&format!("{signature}\n\n-- \n{PIED}\n"));
        t
    }

    fn html(&self, salutation: &str, signature: &str) -> String {
        let mut h = format!(
            "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body style=\"font-family: sans-serif; line-height: 1.5; max-width: 40em\">\n<p>{}</p>\n",
            echapper(&self.sujet),
            echapper(salutation)
        );
        for b in &self.blocs {
            match b {
                Bloc::Paragraphe(p) => h.push_str(&format!("<p>{}</p>\n", echapper(p))),
                Bloc::Important(p) => {
                    h.push_str(&format!("<p><strong>{}</strong></p>\n", echapper(p)))
                }
                Bloc::Liste(l) => {
                    h.push_str("<ul>\n");
                    for e in l {
                        h.push_str(&format!("<li>{}</li>\n", echapper(e)));
                    }
                    h.push_str("</ul>\n");
                }
                Bloc::Lien(phrase, url) => h.push_str(&format!(
                    "<p>{}<br><a href=\"{}\">{}</a></p>\n",
                    echapper(phrase),
                    echapper(url),
                    echapper(url)
                )),
            }
        }
        h.push_str(&format!(
            "<p>{}</p>\n<hr>\n<p style=\"font-size: smaller; color: #555\">{}</p>\n</body></html>\n",
            echapper(signature),
            echapper(PIED)
        ));
        h
    }
}

/// The domain of the Message-IDs: the public address's host when it is a name, otherwise
/// a reserved name (an IP address or `localhost` is no domain of ours).
pub(crate) fn domaine(url_publique: &str) -> String {
    let sans_schema = url_publique
        .split_once("://")
        .map_or(url_publique, |(_, r)| r);
    let hote = sans_schema
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let hote = hote.rsplit_once('@').map_or(hote, |(_, h)| h);
    let hote = hote.split(':').next().unwrap_or_default().to_lowercase();
    let nom = hote.contains('.')
        && hote.chars().any(|c| c.is_ascii_alphabetic())
        && hote
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && hote.parse::<std::net::IpAddr>().is_err();
    if nom {
        hote
    } else {
        "depot.invalid".to_owned()
    }
}

fn lien(url_publique: &str, chemin: &str) -> String {
    format!("{}{chemin}", url_publique.trim_end_matches('/'))
}

/// « Concours d'animateur territorial », session 2025
fn intitule(concours: &Concours) -> String {
    format!("« {} », session {}", concours.intitule, concours.session)
}

fn pieces_demandees(dossier: &Dossier, concours: &Concours) -> Vec<String> {
    let differees = concours.calendrier.pieces_differees_cloture;
    dossier
        .pieces(concours)
        .map(|p| {
            let exigence = match p.exigence {
                Exigence::Obligatoire if dossier.est_requise(p) => "obligatoire".to_owned(),
                Exigence::Obligatoire | Exigence::Facultative => "facultative".to_owned(),
                Exigence::Differable => match differees {
                    Some(l) => format!(
                        "peut être transmise après la clôture, au plus tard {}",
                        l.au_plus_tard()
                    ),
                    None => "peut être transmise après la clôture".to_owned(),
                },
            };
            format!("{} ({exigence})", p.libelle)
        })
        .collect()
}

fn differees_attendues(dossier: &Dossier, concours: &Concours) -> Vec<String> {
    dossier
        .pieces(concours)
        .filter(|p| dossier.statut(p) == StatutPiece::AttendueApresCloture)
        .map(|p| p.libelle.clone())
        .collect()
}

fn libelles(concours: &Concours, codes: &[crate::ids::CodePiece]) -> Vec<String> {
    codes
        .iter()
        .map(|c| {
            concours
                .piece(c.as_str())
                .map_or_else(|| c.as_str().to_owned(), |p| p.libelle.clone())
        })
        .collect()
}

/// Renders the queued message `entree` for `dossier` at `now`; `None` when it no longer
/// applies (a reminder to a dossier closed since, complements already sent, an expired or
/// replaced reset link).
pub fn rediger(
    entree: &CourrielEnAttente,
    dossier: &Dossier,
    concours: &Concours,
    url_publique: &str,
    now: DateTime<Utc>,
) -> Option<Courriel> {
    let n = dossier.numero();
    let connexion = lien(url_publique, "/connexion");
    let lien_espace = Bloc::Lien("Votre espace sécurisé :".to_owned(), connexion.clone());
    let message = match &entree.sorte {
        SorteCourriel::Preinscription => {
            let limite = dossier.limite_depot(concours);
            Message {
                sujet: format!("Pré-inscription enregistrée — dossier n° {n}"),
                blocs: vec![
                    Bloc::Paragraphe(format!(
                        "Votre pré-inscription est enregistrée : {}, {}.",
                        intitule(concours),
                        dossier.voie().libelle()
                    )),
                    Bloc::Important(format!("Votre n° de dossier : {n}")),
                    Bloc::Paragraphe("Conservez ce numéro : avec le mot de passe que vous avez choisi, il vous permet de vous connecter à votre espace sécurisé.".to_owned()),
                    Bloc::Important(format!(
                        "Déposez vos pièces justificatives (PDF ou JPEG) puis cliquez sur « Clôturer mon inscription » au plus tard {}. Sans clôture, votre inscription ne sera pas prise en compte.",
                        limite.au_plus_tard()
                    )),
                    Bloc::Paragraphe("Pièces demandées :".to_owned()),
                    Bloc::Liste(pieces_demandees(dossier, concours)),
                    lien_espace,
                ],
                pieces_jointes: Vec::new(),
            }
        }
        SorteCourriel::Cloture => {
            let Etat::Cloture { le, recepisse, .. } = dossier.etat() else {
                return None;
            };
            let mut blocs = vec![
                Bloc::Important(
                    "Votre dossier est clôturé, il est en cours d'instruction.".to_owned(),
                ),
                Bloc::Paragraphe(format!(
                    "{} — dossier n° {n}. Clôture enregistrée le {}.",
                    intitule(concours),
                    instant_en_lettres(*le)
                )),
                Bloc::Paragraphe("Pièces transmises :".to_owned()),
                Bloc::Liste(
                    recepisse
                        .contenu
                        .fichiers
                        .iter()
                        .map(|f| format!("{} : {}", f.piece_libelle, f.nom))
                        .collect(),
                ),
            ];
            let attendues = differees_attendues(dossier, concours);
            if !attendues.is_empty() {
                let quand = concours
                    .calendrier
                    .pieces_differees_cloture
                    .map(|l| format!(", au plus tard {}", l.au_plus_tard()))
                    .unwrap_or_default();
                blocs.push(Bloc::Paragraphe(format!(
                    "Vous pouvez encore transmettre depuis votre espace{quand} :"
                )));
                blocs.push(Bloc::Liste(attendues));
            }
            blocs.push(Bloc::Paragraphe(format!(
                "Votre récépissé est joint à ce message, en PDF et en JSON signé (empreinte SHA-256 {}) : conservez-le, il prouve la clôture de votre inscription.",
                recepisse.empreinte
            )));
            blocs.push(lien_espace);
            Message {
                sujet: format!("Dossier clôturé — dossier n° {n}"),
                blocs,
                pieces_jointes: vec![
                    PieceJointe {
                        nom: format!("recepisse-{n}.pdf"),
                        type_mime: "application/pdf",
                        octets: recepisse.pdf(),
                    },
                    PieceJointe {
                        nom: format!("recepisse-{n}.json"),
                        type_mime: "application/json",
                        octets: recepisse.json(),
                    },
                ],
            }
        }
        SorteCourriel::Rappel { echeance } => {
            let Etat::Ouvert { .. } = dossier.etat() else {
                return None;
            };
            let limite = dossier.limite_depot(concours);
            if limite.est_depassee(now) {
                return None;
            }
            let sujet = match echeance {
                Echeance::Jour => format!(
                    "Dernier jour : clôturez votre inscription avant minuit — dossier n° {n}"
                ),
                _ => format!("Rappel : clôturez votre inscription — dossier n° {n}"),
            };
            let manquantes: Vec<String> = dossier
                .pieces_manquantes(concours)
                .iter()
                .map(|p| p.libelle.clone())
                .collect();
            let mut blocs = vec![
                Bloc::Paragraphe(format!(
                    "Votre inscription ({}) n'est pas encore clôturée. Sans clôture, elle ne sera pas prise en compte.",
                    intitule(concours)
                )),
                Bloc::Important(format!("Date limite : {}.", limite.au_plus_tard())),
            ];
            if manquantes.is_empty() {
                blocs.push(Bloc::Paragraphe("Toutes les pièces obligatoires sont déposées : il vous reste à cliquer sur « Clôturer mon inscription ».".to_owned()));
            } else {
                blocs.push(Bloc::Paragraphe(
                    "Pièces obligatoires encore à déposer :".to_owned(),
                ));
                let plusieurs = manquantes.len() > 1;
                blocs.push(Bloc::Liste(manquantes));
                blocs.push(Bloc::Paragraphe(if plusieurs {
                    "Déposez-les, puis cliquez sur « Clôturer mon inscription ».".to_owned()
                } else {
                    "Déposez-la, puis cliquez sur « Clôturer mon inscription ».".to_owned()
                }));
            }
            blocs.push(lien_espace);
            Message {
                sujet,
                blocs,
                pieces_jointes: Vec::new(),
            }
        }
        SorteCourriel::Complements | SorteCourriel::RappelComplements => {
            let Some(StatutInstruction::Incomplet(d)) = dossier.etat().statut_instruction() else {
                return None;
            };
            if d.date_limite.est_depassee(now) {
                return None;
            }
            let rappel = matches!(entree.sorte, SorteCourriel::RappelComplements);
            Message {
                sujet: if rappel {
                    format!("Rappel : compléments attendus — dossier n° {n}")
                } else {
                    format!("Compléments demandés — dossier n° {n}")
                },
                blocs: vec![
                    Bloc::Paragraphe(format!(
                        "Le service concours demande des compléments à votre dossier d'inscription ({}) :",
                        intitule(concours)
                    )),
                    Bloc::Liste(libelles(concours, &d.pieces)),
                    Bloc::Paragraphe(format!("Message du service concours : « {} »", d.message)),
                    Bloc::Important(format!(
                        "Déposez-les dans votre espace puis cliquez sur « Transmettre les compléments » au plus tard {}.",
                        d.date_limite.au_plus_tard()
                    )),
                    lien_espace,
                ],
                pieces_jointes: Vec::new(),
            }
        }
        SorteCourriel::PiecesDifferees => {
            let limite = concours.calendrier.pieces_differees_cloture?;
            let attendues = differees_attendues(dossier, concours);
            if limite.est_depassee(now) || attendues.is_empty() || dossier.cloture_le().is_none() {
                return None;
            }
            Message {
                sujet: format!("Pièces à transmettre avant le {} — dossier n° {n}", crate::calendrier::date_en_lettres(limite.dernier_jour())),
                blocs: vec![
                    Bloc::Paragraphe(format!(
                        "Votre dossier d'inscription ({}) est clôturé. Ces pièces, que vous pouviez transmettre plus tard, n'ont pas encore été déposées :",
                        intitule(concours)
                    )),
                    Bloc::Liste(attendues),
                    Bloc::Important(format!(
                        "Déposez-les depuis votre espace au plus tard {}.",
                        limite.au_plus_tard()
                    )),
                    lien_espace,
                ],
                pieces_jointes: Vec::new(),
            }
        }
        SorteCourriel::MotDePasse { jeton, expire_le } => {
            let en_vigueur = dossier.reinitialisation.as_ref().is_some_and(|r| {
                r.empreinte == Sha256::de(jeton.exposer().as_bytes()) && r.expire_le > now
            });
            if !en_vigueur || *expire_le <= now {
                return None;
            }
            Message {
                sujet: format!("Nouveau mot de passe — dossier n° {n}"),
                blocs: vec![
                    Bloc::Paragraphe(format!(
                        "Un nouveau mot de passe a été demandé pour votre dossier n° {n} ({}).",
                        intitule(concours)
                    )),
                    Bloc::Lien(
                        format!(
                            "Pour le choisir, suivez ce lien. Il ne sert qu'une fois et expire le {} :",
                            instant_en_lettres(*expire_le)
                        ),
                        lien(
                            url_publique,
                            &format!("/mot-de-passe/nouveau?jeton={}", jeton.exposer()),
                        ),
                    ),
                    Bloc::Paragraphe("Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de passe actuel reste valable.".to_owned()),
                ],
                pieces_jointes: Vec::new(),
            }
        }
        SorteCourriel::Numeros { dossiers } => Message {
            sujet: "Vos numéros de dossier".to_owned(),
            blocs: vec![
                Bloc::Paragraphe(format!(
                    "Voici les dossiers d'inscription enregistrés avec l'adresse {} :",
                    dossier.identite().email()
                )),
                Bloc::Liste(
                    dossiers
                        .iter()
                        .map(|(num, titre)| format!("n° {num} — {titre}"))
                        .collect(),
                ),
                Bloc::Paragraphe("Pour vous connecter, saisissez le n° de dossier et le mot de passe choisi lors de la pré-inscription. Mot de passe oublié : suivez « Mot de passe oublié ? » sur la page de connexion.".to_owned()),
                Bloc::Lien("Votre espace sécurisé :".to_owned(), connexion),
            ],
            pieces_jointes: Vec::new(),
        },
        SorteCourriel::FichierInfecte { fichier } => {
            // Still quarantined (not deleted since): otherwise there is nothing to say.
            let f = dossier.fichier(fichier).filter(|f| f.en_quarantaine())?;
            let piece = concours
                .piece(f.piece.as_str())
                .map_or_else(|| f.piece.to_string(), |p| p.libelle.clone());
            Message {
                sujet: format!("Fichier à remplacer — dossier n° {n}"),
                blocs: vec![
                    Bloc::Paragraphe(format!(
                        "Le fichier « {} », déposé le {} pour la pièce « {piece} » de votre dossier d'inscription ({}), a été détecté comme contenant un virus lors de son analyse. Il a été mis de côté : le service concours ne l'ouvrira pas.",
                        f.nom,
                        instant_en_lettres(f.depose_le),
                        intitule(concours)
                    )),
                    Bloc::Important("Analysez votre ordinateur ou votre téléphone avec un antivirus à jour, puis déposez une autre copie de ce document (par exemple une nouvelle numérisation) depuis votre espace, même si votre dossier est clôturé.".to_owned()),
                    lien_espace,
                ],
                pieces_jointes: Vec::new(),
            }
        }
    };
    let id = dossier.identite();
    let salutation = format!("Bonjour {} {},", id.prenom(), id.nom());
    let signature = format!("Le service concours — {}", concours.organisateur);
    Some(Courriel {
        message_id: format!("<{}@{}>", entree.id, domaine(url_publique)),
        sorte: entree.sorte.code(),
        date: now,
        expediteur_nom: concours.organisateur.clone(),
        a: id.email().to_owned(),
        a_nom: format!("{} {}", id.prenom(), id.nom()),
        texte: message.texte(&salutation, &signature),
        html: message.html(&salutation, &signature),
        sujet: message.sujet,
        pieces_jointes: message.pieces_jointes,
    })
}

/// Every kind of message, by code, for `courriels apercu`.
pub const SORTES: [&str; 9] = [
    "preinscription",
    "cloture",
    "rappel",
    "complements",
    "rappel_complements",
    "pieces_differees",
    "mot_de_passe",
    "numeros",
    "fichier_infecte",
];

/// A message of kind `code` as it would be sent to a fictitious candidate of `concours`:
/// an in-memory espace on a fixed clock runs the real use cases (pré-inscription, deposits,
/// closure, complements…) and renders the message they queued. For the CDG to proofread.
pub async fn apercu(
    concours: &Concours,
    code: &str,
    url_publique: &str,
) -> Result<Courriel, String> {
    super::distribution::apercu(concours, code, url_publique).await
}
