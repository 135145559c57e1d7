//! The pages' frame: the document around a page's content, alerts, the HTML answer, the
//! stylesheet. Shared by the candidate's and the staff's pages.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use crate::SharedState;

/// The stylesheet.
pub(crate) async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../../static/depot.css"),
    )
        .into_response()
}

pub(crate) fn page(etat: &SharedState, titre: &str, corps: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="fr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (titre) " — Espace sécurisé" }
                link rel="stylesheet" href=(etat.chemin("/static/depot.css"));
            }
            body {
                a class="evitement" href="#contenu" { "Aller au contenu" }
                header class="bandeau" {
                    p class="marque" { "Espace sécurisé — inscription aux concours" }
                }
                main id="contenu" tabindex="-1" {
                    h1 { (titre) }
                    (corps)
                }
            }
        }
    }
}

pub(crate) fn alerte(message: &str) -> Markup {
    html! { div class="alerte erreur" role="alert" { p { (message) } } }
}

pub(crate) fn rendu(statut: StatusCode, m: Markup) -> Response {
    (
        statut,
        [(header::CACHE_CONTROL, "no-store")],
        axum::response::Html(m.into_string()),
    )
        .into_response()
}

pub(crate) fn taille_en_mots(octets: u64) -> String {
    if octets < 1024 {
        format!("{octets} o")
    } else if octets < 1024 * 1024 {
        format!("{:.1} Ko", octets as f64 / 1024.0).replace('.', ",")
    } else {
        format!("{:.1} Mo", octets as f64 / 1_048_576.0).replace('.', ",")
    }
}
