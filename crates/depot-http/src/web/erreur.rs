//! Errors on pages: the same [`ErreurApi`] the API answers, shown as a French page.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::Response;
use maud::html;

use crate::erreur::Refusee;
use crate::web::layout::{alerte, page, rendu};
use depot_core::NumeroDossier;

use crate::{ErreurApi, SharedState};

pub(crate) fn page_erreur(etat: &SharedState, e: ErreurApi) -> Response {
    page_refus(etat, e.statut, &e.message, "/dossier")
}

/// Where the error page leads back to, from the path of the request that failed: the
/// staff's dossier or list, or the candidate's dossier.
fn retour(chemin: &str) -> (String, &'static str) {
    let mut s = chemin.trim_start_matches('/').split('/');
    match (s.next(), s.next(), s.next()) {
        (Some("gestion"), Some("dossiers"), Some(n)) if NumeroDossier::parse(n).is_ok() => (
            format!("/gestion/dossiers/{}", n.to_ascii_uppercase()),
            "Revenir au dossier",
        ),
        (Some("gestion"), ..) => ("/gestion".to_owned(), "Revenir à la liste des dossiers"),
        _ => ("/dossier".to_owned(), "Revenir à mon dossier"),
    }
}

fn page_refus(etat: &SharedState, statut: StatusCode, message: &str, chemin: &str) -> Response {
    let (lien, texte) = retour(chemin);
    rendu(
        statut,
        page(
            etat,
            "Action impossible",
            html! {
                (alerte(message))
                p { a href=(etat.chemin(&lien)) { (texte) } }
            },
        ),
    )
}

/// The pages' error layer: an error answer of a page route (an [`ErreurApi`] returned with
/// `?`) becomes the French « Action impossible » page with the same status, leading back
/// to where the person came from; the API's routes, without this layer, keep their JSON.
pub(crate) async fn habiller_erreurs(
    State(etat): State<SharedState>,
    requete: axum::extract::Request,
    suite: axum::middleware::Next,
) -> Response {
    let chemin = requete.uri().path().to_owned();
    let r = suite.run(requete).await;
    match r.extensions().get::<Refusee>() {
        Some(refus) => {
            let mut page = page_refus(&etat, r.status(), &refus.message, &chemin);
            if let Some(v) = r.headers().get(header::RETRY_AFTER) {
                page.headers_mut().insert(header::RETRY_AFTER, v.clone());
            }
            page
        }
        None => r,
    }
}

#[cfg(test)]
mod tests {
    use super::retour;

    #[test]
    fn la_page_d_erreur_ramene_d_ou_l_on_vient() {
        assert_eq!(retour("/dossier/cloture").0, "/dossier");
        assert_eq!(retour("/gestion").0, "/gestion");
        assert_eq!(
            retour("/gestion/dossiers/2025-ANI-7K3M9Q/decision").0,
            "/gestion/dossiers/2025-ANI-7K3M9Q"
        );
        assert_eq!(retour("/gestion/dossiers/%22%3E/decision").0, "/gestion");
    }
}
