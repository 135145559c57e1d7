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

/// The script of the pages (progressive enhancement: every page works without it).
pub(crate) async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../../static/depot.js"),
    )
        .into_response()
}

pub(crate) fn page(etat: &SharedState, titre: &str, corps: Markup) -> Markup {
    let nom = crate::web::marque::nom(etat);
    let marque = &etat.config.marque;
    html! {
        (DOCTYPE)
        html lang="fr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (titre) " — Espace sécurisé" @if !nom.is_empty() { " — " (nom) } }
                link rel="stylesheet" href=(etat.chemin("/static/depot.css"));
                @if marque.couleur.is_some() {
                    link rel="stylesheet" href=(etat.chemin("/static/marque.css"));
                }
                script src=(etat.chemin("/static/depot.js")) defer {}
            }
            body {
                a class="evitement" href="#contenu" { "Aller au contenu" }
                header class="bandeau" {
                    @if marque.logo.is_some() {
                        img class="logo" src=(etat.chemin("/static/logo")) alt=(nom);
                    }
                    div {
                        @if !nom.is_empty() && marque.logo.is_none() {
                            p class="organisme" { (nom) }
                        }
                        p class="marque" { "Espace sécurisé — inscription aux concours" }
                    }
                }
                main id="contenu" tabindex="-1" {
                    h1 { (titre) }
                    (corps)
                }
                footer class="pied" {
                    ul {
                        @if !nom.is_empty() { li { (nom) } }
                        li { a href=(etat.chemin("/accessibilite")) { "Accessibilité : non conforme" } }
                        li { a href=(etat.chemin("/verifier")) { "Vérifier un récépissé" } }
                    }
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
