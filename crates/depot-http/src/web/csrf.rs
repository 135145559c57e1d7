//! CSRF tokens: compared in constant time, an empty token never matches.

use subtle::ConstantTimeEq;

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
