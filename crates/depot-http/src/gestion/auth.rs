//! Who a staff request comes from: a bearer token (the API) or the same token kept in an
//! `HttpOnly; SameSite=Strict` cookie (the pages). One lookup for both.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use depot_core::{Gestionnaire, Role, Sha256};
use serde::{Deserialize, Serialize};

use crate::{ErreurApi, SharedState};

/// Whether `id` can name a staff member: 1 to 64 of `a-z 0-9 . _ -`. It is written in
/// journals, logs and the accounts file, so nothing in it may need escaping.
pub fn id_gestionnaire_valide(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

fn id_valide<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let id = String::deserialize(d)?;
    if id_gestionnaire_valide(&id) {
        Ok(id)
    } else {
        Err(serde::de::Error::custom(format!(
            "identifiant de gestionnaire « {} » : 1 à 64 caractères parmi a-z, 0-9, « . », « _ », « - »",
            id.escape_default()
        )))
    }
}

/// A staff account from the server configuration.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CompteGestionnaire {
    /// Their id, recorded in journals (see [`id_gestionnaire_valide`]).
    #[serde(deserialize_with = "id_valide")]
    pub id: String,
    /// `lecture` or `instruction`.
    pub role: Role,
    /// SHA-256 (hex) of their token.
    pub jeton_sha256: Sha256,
}

/// The staff member a token belongs to: the one lookup of the API and the pages. Tokens are
/// 256-bit random, stored as their SHA-256; the comparison is of hashes, so its timing
/// tells nothing of a token.
pub(crate) fn gestionnaire(etat: &SharedState, jeton: &str) -> Option<Gestionnaire> {
    let h = Sha256::de(jeton.trim().as_bytes());
    etat.config
        .gestionnaires
        .iter()
        .find(|c| c.jeton_sha256 == h)
        .map(|c| Gestionnaire {
            id: c.id.clone(),
            role: c.role,
        })
}

/// A request by a member of staff (the API: `Authorization: Bearer <jeton>`).
pub struct AuthGestion(pub Gestionnaire);

impl FromRequestParts<SharedState> for AuthGestion {
    type Rejection = ErreurApi;

    async fn from_request_parts(parts: &mut Parts, etat: &SharedState) -> Result<Self, ErreurApi> {
        crate::jeton_bearer(parts)
            .and_then(|jeton| gestionnaire(etat, jeton))
            .map(Self)
            .ok_or_else(ErreurApi::non_authentifie)
    }
}

/// Who of the staff read what, when: one line of the `depot::audit` log per dossier view,
/// file download and export (an id, a n°, a file id; never a name or a content).
pub(crate) fn audit(
    qui: &Gestionnaire,
    action: &'static str,
    dossier: &str,
    fichier: Option<&str>,
) {
    tracing::info!(
        target: "depot::audit",
        gestionnaire = %qui.id,
        action,
        dossier,
        fichier = fichier.unwrap_or(""),
        "lecture du service concours"
    );
}

/// The staff pages' cookie, holding the session's token.
pub(crate) const COOKIE_GESTION: &str = "depot_gestion";

/// A staff page request, from the session its login opened (the cookie holds the session's
/// token); its forms carry the session's CSRF token.
pub struct AuthGestionPage {
    pub(crate) qui: Gestionnaire,
    pub(crate) csrf: String,
}

impl FromRequestParts<SharedState> for AuthGestionPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, etat: &SharedState) -> Result<Self, Response> {
        let vers_connexion =
            || axum::response::Redirect::to(&etat.chemin("/gestion/connexion")).into_response();
        let jeton = crate::web::cookies::cookie(&parts.headers, COOKIE_GESTION)
            .ok_or_else(vers_connexion)?;
        match etat.sessions_gestion.verifier(&jeton, etat.now()).await {
            Ok(Some(s)) => Ok(Self {
                qui: s.titulaire,
                csrf: s.csrf,
            }),
            Ok(None) => Err(vers_connexion()),
            Err(e) => Err(crate::ErreurApi::from(e).into_response()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::id_gestionnaire_valide;

    #[test]
    fn identifiants_de_gestionnaire() {
        for ok in ["agent-42", "c.martin", "x", "a_b"] {
            assert!(id_gestionnaire_valide(ok), "{ok}");
        }
        let long = "a".repeat(65);
        for ko in [
            "",
            "Agent",
            "a b",
            "a\"\nrole = \"instruction",
            "é",
            long.as_str(),
        ] {
            assert!(!id_gestionnaire_valide(ko), "{ko}");
        }
    }
}
