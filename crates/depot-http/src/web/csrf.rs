//! CSRF tokens: compared in constant time, an empty token never matches.

use axum::http::HeaderMap;
use subtle::ConstantTimeEq;

use crate::SharedState;

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
