//! `/verifier`: anyone — the CDG, a tribunal, the candidate — drops a récépissé's JSON and
//! reads whether it is authentic (signed by a key this espace publishes, unchanged since)
//! and what it certifies. Nothing is stored and nothing changes: no session, no CSRF token.

use axum::Router;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use depot_core::ContenuRecepisse;
use maud::{Markup, html};

use crate::SharedState;
use crate::web::layout::{alerte, page, rendu};

/// The largest récépissé read (a real one is a few KiB).
const TAILLE_MAX: usize = 256 * 1024;

/// The routes.
pub fn routes() -> Router<SharedState> {
    Router::new().route("/verifier", get(formulaire).post(verifier))
}

fn corps(etat: &SharedState, resultat: Option<Markup>) -> Markup {
    page(
        etat,
        "Vérifier un récépissé",
        html! {
            @if let Some(r) = resultat { (r) }
            p { "Un récépissé de clôture est délivré au candidat quand il clôture son inscription : il est signé par le centre de gestion. Déposez ici le fichier « recepisse-….json » (ou collez son contenu) pour savoir s'il est authentique et ce qu'il atteste. Rien n'est enregistré." }
            form method="post" action=(etat.chemin("/verifier")) enctype="multipart/form-data" class="carte" {
                p {
                    label for="fichier" { "Fichier du récépissé (JSON)" }
                    input id="fichier" name="fichier" type="file" accept="application/json,.json";
                }
                p {
                    label for="texte" { "ou son contenu, collé ici" }
                    textarea id="texte" name="texte" rows="6" {}
                }
                p { button type="submit" class="principal" { "Vérifier" } }
            }
        },
    )
}

async fn formulaire(State(etat): State<SharedState>) -> Response {
    rendu(StatusCode::OK, corps(&etat, None))
}

fn atteste(c: &ContenuRecepisse, cle: &str) -> Markup {
    html! {
        div class="alerte succes" role="status" {
            p { strong { "Récépissé authentique." } " Il a été signé par " (c.organisateur) " (clé " (cle) ") et n'a pas été modifié depuis." }
        }
        dl class="carte" {
            dt { "Dossier" } dd { "n° " (c.numero) " — " (c.prenom) " " (c.nom) }
            dt { "Concours" } dd { (c.concours_intitule) ", session " (c.session) ", " (c.voie.libelle()) }
            dt { "Clôturé le" } dd { (c.cloture_le_libelle) }
            dt { "Pièces transmises" }
            dd {
                ul {
                    @for f in &c.fichiers {
                        li { (f.piece_libelle) " : " (f.nom) " (" (f.taille) " octets, SHA-256 " code { (f.sha256) } ")" }
                    }
                }
            }
        }
    }
}

async fn verifier(State(etat): State<SharedState>, mut m: Multipart) -> Response {
    let mut octets: Vec<u8> = Vec::new();
    loop {
        let champ = match m.next_field().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(_) => {
                return rendu(
                    StatusCode::BAD_REQUEST,
                    corps(
                        &etat,
                        Some(alerte(
                            "Le formulaire n'a pas été reçu en entier. Réessayez.",
                        )),
                    ),
                );
            }
        };
        let nom = champ.name().unwrap_or_default().to_owned();
        let Ok(valeur) = champ.bytes().await else {
            return rendu(
                StatusCode::BAD_REQUEST,
                corps(
                    &etat,
                    Some(alerte(
                        "Le formulaire n'a pas été reçu en entier. Réessayez.",
                    )),
                ),
            );
        };
        if valeur.len() > TAILLE_MAX {
            return rendu(
                StatusCode::PAYLOAD_TOO_LARGE,
                corps(
                    &etat,
                    Some(alerte(
                        "Ce fichier est bien plus grand qu'un récépissé : vérifiez que vous avez choisi le fichier « recepisse-….json ».",
                    )),
                ),
            );
        }
        // The file wins over the pasted text; an empty one counts for nothing.
        if (nom == "fichier" || (nom == "texte" && octets.is_empty()))
            && !valeur.iter().all(u8::is_ascii_whitespace)
        {
            octets = valeur.to_vec();
        }
    }
    if octets.is_empty() {
        return rendu(
            StatusCode::UNPROCESSABLE_ENTITY,
            corps(
                &etat,
                Some(alerte(
                    "Choisissez le fichier du récépissé ou collez son contenu, puis cliquez sur « Vérifier ».",
                )),
            ),
        );
    }
    match depot_core::signature::verifier_recepisse(&octets, &etat.config.cles_publiees) {
        Ok(c) => {
            let cle = serde_json::from_slice::<serde_json::Value>(&octets)
                .ok()
                .and_then(|v| v["cle_id"].as_str().map(str::to_owned))
                .unwrap_or_default();
            rendu(StatusCode::OK, corps(&etat, Some(atteste(&c, &cle))))
        }
        Err(e) => rendu(
            StatusCode::UNPROCESSABLE_ENTITY,
            corps(
                &etat,
                Some(alerte(&format!(
                    "Ce récépissé n'est pas authentique : {e}."
                ))),
            ),
        ),
    }
}
