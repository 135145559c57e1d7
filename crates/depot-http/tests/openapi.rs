//! `docs/openapi.json` is the document generated from the code. After changing the API:
//! `DEPOT_ECRIRE_OPENAPI=1 cargo test -p depot-http --test openapi`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

#[test]
fn le_document_commite_correspond_au_code() {
    let chemin = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let genere = depot_http::openapi::document() + "\n";
    if std::env::var("DEPOT_ECRIRE_OPENAPI").is_ok() {
        std::fs::write(chemin, &genere).unwrap();
    }
    let commite = std::fs::read_to_string(chemin).unwrap_or_default();
    assert!(
        commite == genere,
        "docs/openapi.json is stale: run DEPOT_ECRIRE_OPENAPI=1 cargo test -p depot-http --test openapi"
    );
    // The contract names every route the API serves.
    let v: serde_json::Value = serde_json::from_str(&genere).unwrap();
    for chemin in [
        "/api/v1/preinscriptions",
        "/api/v1/connexion",
        "/api/v1/deconnexion",
        "/api/v1/dossier",
        "/api/v1/dossier/pieces/{code}",
        "/api/v1/dossier/fichiers/{id}",
        "/api/v1/dossier/cloture",
        "/api/v1/dossier/recepisse",
        "/api/v1/concours",
    ] {
        assert!(v["paths"][chemin].is_object(), "{chemin} missing");
    }
    assert!(
        v["components"]["schemas"]["VueDossier"]["properties"]["pieces_manquantes"].is_object()
    );
}
