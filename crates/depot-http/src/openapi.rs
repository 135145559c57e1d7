//! The API contract as an OpenAPI 3 document, generated from the handlers and view types.
//! `docs/openapi.json` is this document; a test checks that the committed file matches.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct Jeton;

impl Modify for Jeton {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let composants = doc.components.get_or_insert_with(Default::default);
        composants.add_security_scheme(
            "jeton",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "depot — espace sécurisé de dépôt des dossiers d'inscription",
        description = "Errors are always `{\"code\", \"message\", ...details}`; instants are RFC 3339 with the Paris offset."
    ),
    paths(
        crate::api::preinscrire,
        crate::api::connexion,
        crate::api::deconnexion,
        crate::api::dossier,
        crate::api::deposer,
        crate::api::voir,
        crate::api::supprimer,
        crate::api::cloturer,
        crate::api::transmettre,
        crate::api::recepisse,
        crate::api::concours,
        crate::api::cles,
    ),
    modifiers(&Jeton)
)]
struct Api;

/// The OpenAPI document, pretty-printed JSON.
pub fn document() -> String {
    #[allow(clippy::expect_used)] // a document built by utoipa into memory: cannot fail
    Api::openapi()
        .to_pretty_json()
        .expect("document OpenAPI sérialisable")
}
