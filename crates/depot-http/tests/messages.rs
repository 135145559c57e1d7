//! Every error answer of the API, printed (`--nocapture` to read them): a stable code, the
//! HTTP status, a French sentence; and `docs/api.md` names every code that is not a rule's
//! refusal (those are printed by depot-core's own message test, which the page points to).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::collections::BTreeSet;

use depot_core::Refus;
use depot_http::erreur::{ErreurApi, catalogue};

#[test]
fn chaque_reponse_d_erreur_a_un_code_un_statut_et_une_phrase() {
    let tout = catalogue();
    let codes: Vec<&str> = tout.iter().map(|e| e.code).collect();
    let uniques: BTreeSet<&str> = codes.iter().copied().collect();
    assert_eq!(
        uniques.len(),
        codes.len(),
        "one example per code: {codes:?}"
    );
    for c in Refus::codes().chain(ErreurApi::CODES.iter().copied()) {
        assert!(uniques.contains(c), "{c} is in the catalogue");
    }
    for e in &tout {
        println!("{} {:<26} {}", e.statut.as_u16(), e.code, e.message);
        assert!(
            e.statut.is_client_error() || e.statut.is_server_error(),
            "{}",
            e.code
        );
        assert!(
            e.message.chars().next().is_some_and(char::is_uppercase),
            "{}: a sentence: {}",
            e.code,
            e.message
        );
        assert!(
            e.message.ends_with('.'),
            "{}: a full sentence: {}",
            e.code,
            e.message
        );
        // Store failures say nothing of the store.
        if e.code.starts_with("stockage_") {
            assert!(!e.message.contains("s3") && !e.message.contains("dossiers/"));
        }
    }
}

#[test]
fn la_documentation_nomme_chaque_code_hors_refus() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md")).unwrap();
    let regles: BTreeSet<&str> = Refus::codes().collect();
    for e in catalogue() {
        if regles.contains(e.code) {
            continue;
        }
        let nomme = doc.contains(&format!("`{}`", e.code))
            || (e.code.starts_with("stockage_") && doc.contains("`stockage_*`"));
        assert!(nomme, "docs/api.md names `{}`", e.code);
    }
}
