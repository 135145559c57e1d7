//! Who a staff request comes from: a bearer token (the API) or the same token kept in an
//! `HttpOnly; SameSite=Strict` cookie (the pages). One lookup for both.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use depot_core::{Gestionnaire, Role, Sha256};
use serde::{Deserialize, Serialize};

use crate::{ErreurApi, SharedState};

/// A staff account from the server configuration.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CompteGestionnaire {
    /// Their id, recorded in journals.
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

/// The staff pages' cookie, holding the token.
pub(crate) const COOKIE_GESTION: &str = "depot_gestion";

/// A staff page request: the token is kept in an `HttpOnly; SameSite=Strict` cookie; forms
/// carry a CSRF token derived from it.
pub struct AuthGestionPage {
    pub(crate) qui: Gestionnaire,
    pub(crate) csrf: String,
}

fn csrf_de(jeton: &str) -> String {
    Sha256::de(format!("csrf:{jeton}").as_bytes()).hex()
}

impl FromRequestParts<SharedState> for AuthGestionPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, etat: &SharedState) -> Result<Self, Response> {
        let jeton = crate::web::cookies::cookie(&parts.headers, COOKIE_GESTION).unwrap_or_default();
        match gestionnaire(etat, &jeton) {
            Some(qui) => Ok(Self {
                qui,
                csrf: csrf_de(&jeton),
            }),
            None => Err(
                axum::response::Redirect::to(&etat.chemin("/gestion/connexion")).into_response(),
            ),
        }
    }
}
