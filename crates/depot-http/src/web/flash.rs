//! One-time messages after an action (post/redirect/get): « Fichier « CNI-recto.pdf »
//! enregistré » shows once on the page the action leads to, not again on reload.
//!
//! The message travels in a short-lived cookie (`HttpOnly`, `SameSite=Strict`, a minute):
//! its kind and, hex-encoded, the file's display name (already normalised by depot-format,
//! bounded here). The page that shows it deletes it in the same answer.

use axum::http::{HeaderMap, HeaderValue};

use crate::SharedState;
use crate::web::cookies::{cookie, poser_cookie};

const COOKIE_FLASH: &str = "depot_flash";
/// Longest name kept (in bytes, cut on a character boundary).
const NOM_MAX: usize = 240;

/// What the candidate just did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Flash {
    /// A file was recorded (its name).
    Enregistre(String),
    /// A file was deleted (its name).
    Supprime(String),
    /// The complements were sent to the service concours.
    Transmis,
}

impl Flash {
    fn encoder(&self) -> String {
        let (sorte, nom) = match self {
            Flash::Enregistre(n) => ('e', n.as_str()),
            Flash::Supprime(n) => ('s', n.as_str()),
            Flash::Transmis => ('t', ""),
        };
        let mut fin = nom.len().min(NOM_MAX);
        while !nom.is_char_boundary(fin) {
            fin -= 1;
        }
        format!("{sorte}.{}", hex::encode(&nom.as_bytes()[..fin]))
    }

    fn decoder(v: &str) -> Option<Self> {
        let (sorte, nom) = v.split_once('.')?;
        let nom = String::from_utf8(hex::decode(nom).ok()?).ok()?;
        if nom.len() > NOM_MAX || nom.chars().any(char::is_control) {
            return None;
        }
        match sorte {
            "e" if !nom.is_empty() => Some(Flash::Enregistre(nom)),
            "s" if !nom.is_empty() => Some(Flash::Supprime(nom)),
            "t" => Some(Flash::Transmis),
            _ => None,
        }
    }

    /// The `Set-Cookie` that carries it to the next page.
    pub(crate) fn cookie(&self, etat: &SharedState) -> HeaderValue {
        poser_cookie(etat, COOKIE_FLASH, &self.encoder(), Some(60))
    }
}

/// The message the request carries, if any, and the `Set-Cookie` that deletes it (to add to
/// the answer that shows it).
pub(crate) fn prendre(etat: &SharedState, headers: &HeaderMap) -> Option<(Flash, HeaderValue)> {
    let v = cookie(headers, COOKIE_FLASH)?;
    let effacer = poser_cookie(etat, COOKIE_FLASH, "", Some(0));
    Some((Flash::decoder(&v)?, effacer))
}

#[cfg(test)]
mod tests {
    use super::Flash;

    #[test]
    fn aller_retour_et_refus() {
        for f in [
            Flash::Enregistre("CNI recto « 2 ».pdf".into()),
            Flash::Supprime("été.jpg".into()),
            Flash::Transmis,
        ] {
            assert_eq!(Flash::decoder(&f.encoder()), Some(f));
        }
        // Long names are cut on a character boundary.
        let long = "é".repeat(500);
        match Flash::decoder(&Flash::Enregistre(long).encoder()) {
            Some(Flash::Enregistre(n)) => assert_eq!(n.chars().count(), 120),
            autre => panic!("{autre:?}"),
        }
        for mauvais in ["", "e", "e.", "x.41", "e.zz", "e.ff", "e.0a41"] {
            assert_eq!(Flash::decoder(mauvais), None, "{mauvais}");
        }
    }
}
