//! Proof of closure, black-box: the récépissé returned by the API verifies with the CLI and
//! the key from `/api/v1/recepisse/cles`; a changed copy does not; the journals verify.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

mod commun;

use std::process::Command;

use depot_core::exemples::pdf_minimal;
use serde_json::Value;

fn cli(args: &[&str]) -> (bool, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_depot-server"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).trim().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn le_recepisse_se_verifie_hors_ligne() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let serveur = commun::lancer(&data, &[], &[]).await.unwrap();
    let (numero, mdp) = serveur.demo();
    let s = commun::connexion(&serveur.url, &numero, &mdp).await;
    commun::deposer(&s, "piece-identite", "CNI.pdf", pdf_minimal())
        .await
        .unwrap();
    let cloture = s.cloturer().await.unwrap();
    let recepisse = &cloture.recepisse;
    assert_eq!(recepisse["algorithme"], "ed25519");
    // The same bytes every time.
    let a = s.recepisse().await.unwrap();
    let b = s.recepisse().await.unwrap();
    assert_eq!(a, b);
    assert_eq!(&serde_json::from_slice::<Value>(&a).unwrap(), recepisse);
    let fichier = dir.path().join("recepisse.json");
    std::fs::write(&fichier, &a).unwrap();
    let v = commun::cles(&serveur.url).await;
    let cles = serde_json::to_vec(&v).unwrap();
    assert_eq!(v["cles"][0]["id"], recepisse["cle_id"]);
    let fichier_cles = dir.path().join("cles.json");
    std::fs::write(&fichier_cles, &cles).unwrap();
    drop(serveur);

    // The CLI, with the key as served.
    let (ok, sortie) = cli(&[
        "recepisse",
        "verifier",
        fichier.to_str().unwrap(),
        "--cle",
        fichier_cles.to_str().unwrap(),
    ]);
    assert!(ok, "{sortie}");
    assert!(
        sortie.starts_with(&format!("récépissé valide : dossier {numero}, clôturé le ")),
        "{sortie}"
    );
    println!("{sortie}");
    // With the data directory's published keys.
    let (ok, _) = cli(&[
        "recepisse",
        "verifier",
        fichier.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    assert!(ok);
    // A copy whose closure time was moved back one minute: refused, saying why.
    let mut falsifie: Value = serde_json::from_slice(&a).unwrap();
    let instant = falsifie["contenu"]["cloture_le"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut t: chrono::DateTime<chrono::Utc> = instant.parse().unwrap();
    t -= chrono::Duration::minutes(1);
    falsifie["contenu"]["cloture_le"] =
        Value::from(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    std::fs::write(&fichier, serde_json::to_vec(&falsifie).unwrap()).unwrap();
    let (ok, sortie) = cli(&[
        "recepisse",
        "verifier",
        fichier.to_str().unwrap(),
        "--cle",
        fichier_cles.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        sortie.starts_with("récépissé invalide : récépissé modifié"),
        "{sortie}"
    );
    println!("{sortie}");
    // A key the CDG never published.
    std::fs::write(&fichier, &a).unwrap();
    std::fs::write(&fichier_cles, r#"{"cles": []}"#).unwrap();
    let (ok, sortie) = cli(&[
        "recepisse",
        "verifier",
        fichier.to_str().unwrap(),
        "--cle",
        fichier_cles.to_str().unwrap(),
    ]);
    assert!(
        !ok && sortie.contains("clé de signature inconnue"),
        "{sortie}"
    );

    // The journals of the data directory are intact.
    let (ok, sortie) = cli(&["journal", "verifier", "--data", data.to_str().unwrap()]);
    assert!(ok, "{sortie}");
    assert!(
        sortie.contains(&format!("dossier {numero} : journal intègre")),
        "{sortie}"
    );
    println!("{sortie}");
    // The journal lives beside the record, one line per entry: an entry altered there
    // breaks the chain the record's head names, at its position.
    let chemin_journal = data.join(format!("dossiers/{numero}.journal"));
    let texte = std::fs::read_to_string(&chemin_journal).unwrap();
    assert!(texte.contains(r#""voie":"externe""#), "{texte}");
    std::fs::write(
        &chemin_journal,
        texte.replacen(r#""voie":"externe""#, r#""voie":"interne""#, 1),
    )
    .unwrap();
    let (ok, sortie) = cli(&["journal", "verifier", "--data", data.to_str().unwrap()]);
    assert!(!ok, "{sortie}");
    assert!(
        sortie.contains(&format!("dossier {numero} : journal rompu à la position 0")),
        "{sortie}"
    );
    std::fs::write(&chemin_journal, texte).unwrap();
    // The signing key file is private.
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(data.join("cles/recepisse.ed25519"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}
