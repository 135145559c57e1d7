//! The README's first command, for real: the binary starts with a demo concours and dossier,
//! prints where it listens, serves the espace, and stops cleanly on SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::process::Stdio;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test]
async fn demarre_sert_et_s_arrete_proprement() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("depot-data");
    let lancer = || {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_depot-server"))
            .args(["--listen", "127.0.0.1:0", "--log-format", "json", "--data"])
            .arg(&data)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut serveur = lancer();
    let mut lignes = BufReader::new(serveur.stdout.take().unwrap()).lines();
    let (mut url, mut demo) = (None, None);
    while let Some(l) = lignes.next_line().await.unwrap() {
        if let Some(x) = l.strip_prefix("dossier de démonstration créé : ") {
            demo = Some(x.to_owned());
        }
        if let Some(u) = l.strip_prefix("listening on ") {
            url = Some(u.to_owned());
            break;
        }
    }
    let url = url.expect("prints `listening on http://ADDR`");
    let demo = demo.expect("prints the demo dossier");
    // « n° 2026-DEM-XXXXXX, mot de passe a-b-c-d-42 »
    let numero = demo
        .split(',')
        .next()
        .unwrap()
        .trim_start_matches("n° ")
        .to_owned();
    let mdp = demo.split("mot de passe ").nth(1).unwrap().to_owned();

    let c = reqwest::Client::new();
    let session = depot_client::Client::new(&url)
        .unwrap()
        .connecter(&numero, &mdp)
        .await
        .unwrap();
    let jeton = session.jeton().to_owned();
    let v = session.dossier().await.unwrap();
    assert_eq!(v.etat, "ouvert");
    assert_eq!(v.concours.code, "demo-animateur");
    assert_eq!(
        c.get(format!("{url}/connexion"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // SIGTERM: graceful stop, exit 0; the log has one line per request, without secrets.
    let pid = serveur.id().unwrap();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let sortie = serveur.wait_with_output().await.unwrap();
    assert!(sortie.status.success(), "{sortie:?}");
    let journal = String::from_utf8(sortie.stderr).unwrap();
    let requetes: Vec<Value> = journal
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &Value| v["fields"]["message"] == "requête")
        .collect();
    assert_eq!(requetes.len(), 3, "{journal}");
    assert!(
        requetes
            .iter()
            .all(|r| r["fields"]["statut"].is_u64() && r["fields"]["duree_ms"].is_f64())
    );
    // Method and path come with each line (the request's span), never a query string.
    assert!(
        requetes.iter().all(|r| r["span"]["methode"].is_string()
            && r["span"]["chemin"]
                .as_str()
                .is_some_and(|c| c.starts_with('/') && !c.contains('?'))),
        "{journal}"
    );
    assert!(
        !journal.contains(&mdp) && !journal.contains(&jeton),
        "no secret in the logs"
    );

    // A second start reuses the data and the demo dossier…
    let mut serveur = lancer();
    let mut lignes = BufReader::new(serveur.stdout.take().unwrap()).lines();
    let (mut revu, mut url) = (false, None);
    while let Some(l) = lignes.next_line().await.unwrap() {
        revu |= l.contains(&numero);
        if let Some(u) = l.strip_prefix("listening on ") {
            url = Some(u.to_owned());
            break;
        }
    }
    assert!(revu, "the demo dossier is printed again, not recreated");
    // …and the candidate logged in before the restart is still logged in, with the same
    // token: on the API and on the pages (the pages' cookie holds such a token).
    let url = url.unwrap();
    let reprise = depot_client::Client::new(&url).unwrap().reprendre(&jeton);
    assert_eq!(reprise.dossier().await.unwrap().etat, "ouvert");
    let sans_suivre = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = sans_suivre
        .get(format!("{url}/dossier"))
        .header("cookie", format!("depot_session={jeton}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        200,
        "the page does not send back to the login"
    );
    assert!(page.text().await.unwrap().contains(&numero));
    // A logout is a logout after a restart too.
    reprise.deconnecter().await.unwrap();
    assert!(
        depot_client::Client::new(&url)
            .unwrap()
            .reprendre(&jeton)
            .dossier()
            .await
            .is_err()
    );
    serveur.kill().await.unwrap();
}
