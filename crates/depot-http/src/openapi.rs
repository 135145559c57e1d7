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

/// The answers every operation of a kind can give, added where a handler's annotation does
/// not list them: 401 on authenticated routes, 400/413/422 on routes with a body, 404 on
/// routes with an id in the path, 429 where a quota applies.
struct Communes;

fn reponse(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    utoipa::openapi::ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("Erreur")))
                .build(),
        )
        .build()
        .into()
}

impl Modify for Communes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for (chemin, item) in doc.paths.paths.iter_mut() {
            let operations = [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("delete", item.delete.as_mut()),
            ];
            for (methode, op) in operations {
                let Some(op) = op else { continue };
                let r = &mut op.responses.responses;
                let mut ajouter = |code: &str, d: &str| {
                    r.entry(code.to_owned()).or_insert_with(|| reponse(d));
                };
                if op.security.is_some() {
                    ajouter("401", "non_authentifie");
                }
                if op.request_body.is_some() {
                    ajouter("400", "requete_invalide (a malformed body)");
                    ajouter("413", "corps_trop_volumineux");
                    ajouter("422", "champ_invalide");
                }
                if chemin.contains('{') {
                    ajouter("404", "an unknown or malformed id");
                }
                if op.parameters.as_ref().is_some_and(|p| !p.is_empty()) && methode == "get" {
                    ajouter("400", "requete_invalide (a malformed query string)");
                    ajouter("422", "champ_invalide (a filter's value)");
                }
                if chemin == "/api/v1/preinscriptions" {
                    ajouter("429", "trop_de_preinscriptions, with Retry-After");
                }
                if chemin.starts_with("/api/v1/dossier/pieces/")
                    || (chemin == "/api/v1/dossier/fichiers/{id}" && methode == "delete")
                {
                    ajouter("429", "trop_d_operations, with Retry-After");
                }
            }
        }
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
        crate::api::exporter,
        crate::api::concours,
        crate::api::cles,
        crate::candidat::oubli::api_oubli_mot_de_passe,
        crate::candidat::oubli::api_nouveau_mot_de_passe,
        crate::candidat::oubli::api_oubli_numero,
        crate::gestion::api::lister,
        crate::gestion::api::forclos,
        crate::gestion::api::dossier,
        crate::gestion::api::fichier,
        crate::gestion::api::decider,
        crate::gestion::api::conservation,
        crate::gestion::api::purges_a_venir,
        crate::gestion::export::exporter,
    ),
    modifiers(&Jeton, &Communes)
)]
struct Api;

/// The OpenAPI document, pretty-printed JSON.
pub fn document() -> String {
    #[allow(clippy::expect_used)] // a document built by utoipa into memory: cannot fail
    Api::openapi()
        .to_pretty_json()
        .expect("document OpenAPI sérialisable")
}
