//! The API contract, checked from outside: schemathesis (PyPI) generates requests from
//! `docs/openapi.json` and runs `--checks all` against a running depot-server — every answer
//! must be documented (status, content type, body schema), schema-valid data accepted unless
//! a rule refuses it (see `contrat/schemathesis.toml`), invalid data refused, no server
//! error. Finding 13 of the outside test.
//!
//! `scripts/test.sh` installs schemathesis and exports `DEPOT_TEST_SCHEMATHESIS`; without it
//! the test fails in CI and is skipped, loudly, elsewhere.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

mod commun;

use std::path::Path;
use std::process::Command;

fn schemathesis() -> Option<String> {
    match std::env::var("DEPOT_TEST_SCHEMATHESIS") {
        Ok(s) if !s.is_empty() => Some(s),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("DEPOT_TEST_SCHEMATHESIS is not set: scripts/test.sh installs schemathesis")
        }
        _ => {
            eprintln!(
                "SKIPPED contrat: DEPOT_TEST_SCHEMATHESIS is not set (run scripts/test.sh, which installs schemathesis)"
            );
            None
        }
    }
}

/// One schemathesis run over the operations `filtre` selects, with `jeton` as bearer.
fn executer(st: &str, url: &str, jeton: &str, filtre: &[&str], rapport: &Path) {
    let racine = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let sortie = Command::new(st)
        .arg("--config-file")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/contrat/schemathesis.toml"
        ))
        .arg("run")
        .arg(format!("{racine}/docs/openapi.json"))
        .args(["--url", url])
        .args(["--header", &format!("Authorization: Bearer {jeton}")])
        .args(["--checks", "all"])
        .args(["--max-examples", "40", "--seed", "20261202"])
        .args(["--workers", "1"])
        .args(["--report", "junit", "--report-dir"])
        .arg(rapport)
        .args(filtre)
        .env("NO_COLOR", "1")
        .output()
        .expect("schemathesis runs");
    let texte = String::from_utf8_lossy(&sortie.stdout);
    println!("{texte}");
    assert!(
        sortie.status.success(),
        "schemathesis found failures ({filtre:?}):\n{texte}\n{}",
        String::from_utf8_lossy(&sortie.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn le_contrat_openapi_tient_sous_schemathesis() {
    let Some(st) = schemathesis() else { return };
    let dir = tempfile::tempdir().unwrap();
    // A staff account, minted by the CLI as an operator would.
    let (staff, bloc) = commun::jeton_gestionnaire("contrat", "instruction");
    let comptes = dir.path().join("gestionnaires.toml");
    std::fs::write(&comptes, bloc).unwrap();
    let serveur = commun::lancer(
        &dir.path().join("data"),
        &[
            "--gestionnaires",
            comptes.to_str().unwrap(),
            // Generated pré-inscriptions all come from this one address.
            "--preinscriptions-par-heure",
            "0",
        ],
        &[],
    )
    .await
    .unwrap();
    let (numero, mdp) = serveur.demo();
    let candidat = commun::connexion(&serveur.url, &numero, &mdp).await;
    let rapport = dir.path().join("rapports");
    let url = serveur.url.clone();
    let jeton = candidat.jeton().to_owned();
    tokio::task::spawn_blocking(move || {
        // The candidate's routes (logging out would end the token the others use)…
        executer(
            &st,
            &url,
            &jeton,
            &["--exclude-path-regex", "^/api/v1/(gestion/|deconnexion$)"],
            &rapport,
        );
        // …the staff's…
        executer(
            &st,
            &url,
            &staff,
            &["--include-path-regex", "^/api/v1/gestion/"],
            &rapport,
        );
        // …and logging out, last, with the candidate's token.
        executer(
            &st,
            &url,
            &jeton,
            &["--include-path", "/api/v1/deconnexion"],
            &rapport,
        );
    })
    .await
    .unwrap();
}
