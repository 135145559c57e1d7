//! Staff accounts from the server's configuration, black-box: a token minted by the CLI
//! opens `/api/v1/gestion`; only its hash is in the file.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

mod commun;

use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jeton_de_gestionnaire_de_bout_en_bout() {
    let dir = tempfile::tempdir().unwrap();
    let (jeton, bloc) = commun::jeton_gestionnaire("agent-1", "instruction");
    // Finding 14: an id that would need escaping in the TOML file is refused, not written.
    let refus = std::process::Command::new(env!("CARGO_BIN_EXE_depot-server"))
        .args(["gestionnaire", "jeton", "--id", "x\"\nrole = \"instruction"])
        .output()
        .unwrap();
    assert!(!refus.status.success());
    assert!(!String::from_utf8_lossy(&refus.stdout).contains("[[gestionnaires]]"));
    assert_eq!(jeton.len(), 64, "a 256-bit token, in hex");
    assert!(
        bloc.starts_with("[[gestionnaires]]"),
        "only TOML on stdout: {bloc}"
    );
    assert!(!bloc.contains(&jeton), "only the hash goes to the file");
    let fichier = dir.path().join("gestionnaires.toml");
    std::fs::write(&fichier, &bloc).unwrap();
    let serveur = commun::lancer(
        &dir.path().join("data"),
        &["--gestionnaires", fichier.to_str().unwrap()],
        &[],
    )
    .await
    .unwrap();
    assert!(serveur.sortie.iter().any(|l| l == "gestionnaires : 1"));
    let c = reqwest::Client::new();
    let r = c
        .get(format!("{}/api/v1/gestion/dossiers", serveur.url))
        .bearer_auth(&jeton)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["total"], 1, "the demo dossier");
    let r = c
        .get(format!("{}/api/v1/gestion/dossiers", serveur.url))
        .bearer_auth("autre")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Finding 7: every staff read is in the audit log, with the staff id.
    let (numero, _) = serveur.demo();
    let r = c
        .get(format!("{}/api/v1/gestion/dossiers/{numero}", serveur.url))
        .bearer_auth(&jeton)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut enfant = serveur.enfant;
    let pid = enfant.id().unwrap();
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    enfant.wait().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let journal = serveur.journal.lock().unwrap().clone();
    let lectures: Vec<Value> = journal
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["target"] == "depot::audit")
        .collect();
    assert!(
        lectures
            .iter()
            .any(|v| v["fields"]["gestionnaire"] == "agent-1"
                && v["fields"]["action"] == "dossier"
                && v["fields"]["dossier"] == numero.as_str()),
        "{journal}"
    );
    assert!(!journal.contains(&jeton), "never the token");
}
