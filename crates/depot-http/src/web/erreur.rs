//! Errors on pages: the same [`ErreurApi`] the API answers, shown as a French page.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
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

/// The error layer of the whole router, so that every error answer speaks depot's language:
///
/// - under `/api/`, an answer that is not already `{code, message}` (a rejection of axum's
///   extractors, a method not allowed…) becomes one, by its status;
/// - on pages, an error returned with `?` (an [`ErreurApi`]) becomes the French « Action
///   impossible » page with the same status, leading back to where the person came from, and
///   any other error answer that is not already a page (an unknown address, a malformed
///   form) becomes that page too.
pub(crate) async fn habiller_erreurs(
    State(etat): State<SharedState>,
    requete: axum::extract::Request,
    suite: axum::middleware::Next,
) -> Response {
    let chemin = requete.uri().path().to_owned();
    let r = suite.run(requete).await;
    let statut = r.status();
    if !(statut.is_client_error() || statut.is_server_error()) {
        return r;
    }
    // The health checks answer load balancers in their own JSON.
    if chemin.starts_with("/sante/") {
        return r;
    }
    let refus = r.extensions().get::<Refusee>().cloned();
    if chemin.starts_with("/api/") {
        return match refus {
            Some(_) => r,
            None => {
                let garder = garder_entetes(&r);
                let detail = lire_detail(r).await;
                let mut e = ErreurApi::depuis_statut(statut, &detail).into_response();
                e.headers_mut().extend(garder);
                e
            }
        };
    }
    let message = match refus {
        Some(refus) => refus.message,
        None if est_html(&r) => return r,
        None => message_de_statut(statut).to_owned(),
    };
    let garder = garder_entetes(&r);
    let mut page = page_refus(&etat, statut, &message, &chemin);
    page.headers_mut().extend(garder);
    page
}

/// `Retry-After` (429, 503) and `Allow` (405) say what to do next: kept.
fn garder_entetes(r: &Response) -> axum::http::HeaderMap {
    let mut h = axum::http::HeaderMap::new();
    for nom in [header::RETRY_AFTER, header::ALLOW] {
        if let Some(v) = r.headers().get(&nom) {
            h.insert(nom, v.clone());
        }
    }
    h
}

fn est_html(r: &Response) -> bool {
    r.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// The framework's own explanation (a short English sentence), at most 512 bytes of it.
async fn lire_detail(r: Response) -> String {
    let octets = axum::body::to_bytes(r.into_body(), 4096)
        .await
        .unwrap_or_default();
    let texte = String::from_utf8_lossy(&octets);
    texte.trim().chars().take(512).collect()
}

fn message_de_statut(statut: StatusCode) -> &'static str {
    match statut {
        StatusCode::NOT_FOUND => {
            "Cette page n'existe pas. Vérifiez l'adresse, ou revenez à l'accueil."
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            "Cette adresse ne s'utilise pas ainsi. Revenez à la page précédente."
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            "Ce que vous avez envoyé est trop volumineux. Revenez à la page précédente."
        }
        s if s.is_server_error() => {
            "Le service est momentanément indisponible : réessayez dans quelques instants."
        }
        _ => "Votre demande n'a pas pu être lue : rechargez la page, puis recommencez.",
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
