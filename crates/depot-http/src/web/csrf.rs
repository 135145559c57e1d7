//! CSRF tokens: compared in constant time, an empty token never matches.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use maud::Markup;
use subtle::ConstantTimeEq;

use crate::SharedState;
use crate::web::cookies::poser_cookie;
use crate::web::layout::rendu;

/// The cookie of the candidate side's forms without a session (login, pré-inscription,
/// « oubli »).
pub(crate) const COOKIE_CANDIDAT: &str = "depot_csrf";

/// A form page without a session: `formulaire` drawn with a fresh token, and the token set
/// in the cookie `nom_cookie` (an hour), for the double submit.
pub(crate) fn page_avec_jeton(
    etat: &SharedState,
    statut: StatusCode,
    nom_cookie: &'static str,
    formulaire: impl FnOnce(&str) -> Markup,
) -> Response {
    let csrf = nouveau_jeton(etat);
    let mut r = rendu(statut, formulaire(&csrf));
    r.headers_mut().append(
        header::SET_COOKIE,
        poser_cookie(etat, nom_cookie, &csrf, Some(3600)),
    );
    r
}

/// A fresh token for a form without a session (logins, pré-inscription): 192 random bits in
/// hex, set both in a cookie and in the form's hidden field (double submit).
pub(crate) fn nouveau_jeton(etat: &SharedState) -> String {
    let mut o = [0u8; 24];
    etat.espace.hasard().remplir(&mut o);
    hex::encode(o)
}

/// Whether a form posted without a session carries the token of its cookie `nom_cookie`
/// (a form posted from another site has no such cookie).
pub(crate) fn double_soumission_valide(headers: &HeaderMap, nom_cookie: &str, recu: &str) -> bool {
    crate::web::cookies::cookie(headers, nom_cookie).is_some_and(|c| jeton_valide(recu, &c))
}

/// Whether the token a form sent is the expected one. The comparison takes the same time
/// wherever the first difference is, so its timing tells nothing of the expected token.
pub(crate) fn jeton_valide(recu: &str, attendu: &str) -> bool {
    !attendu.is_empty() && bool::from(recu.as_bytes().ct_eq(attendu.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::jeton_valide;

    #[test]
    fn egal_seulement_si_identique_et_non_vide() {
        assert!(jeton_valide("a1b2", "a1b2"));
        assert!(!jeton_valide("a1b3", "a1b2"));
        assert!(!jeton_valide("a1b", "a1b2"));
        assert!(!jeton_valide("", ""));
        assert!(!jeton_valide("x", ""));
    }
}
