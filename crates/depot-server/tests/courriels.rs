//! E-mail through the real binary: the demo's `.eml` files, a password reset end to end
//! through aiosmtpd, the answers that tell nothing, throttling, and a message queued by a
//! server killed with SIGKILL before it could send, sent by the next start.
//!
//! Needs `DEPOT_TEST_SMTP` and `DEPOT_TEST_SMTP_BOITE` (set by `scripts/test.sh`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

mod commun;

use std::path::Path;
use std::time::{Duration, Instant};

use mail_parser::MessageParser;
use serde_json::{Value, json};

/// A message aiosmtpd received: its subject, plain text and raw bytes.
struct Recu {
    sujet: String,
    texte: String,
    octets: Vec<u8>,
}

/// The messages in aiosmtpd's directory addressed to `a`.
fn lire_boite(boite: &Path, a: &str) -> Vec<Recu> {
    std::fs::read_dir(boite)
        .unwrap()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| {
            let octets = std::fs::read(e.path()).ok()?;
            let m = MessageParser::default().parse(&octets)?;
            let pour = m.to()?.first()?.address()?.to_owned();
            let (sujet, texte) = (
                m.subject().unwrap_or_default().to_owned(),
                m.body_text(0).unwrap_or_default().into_owned(),
            );
            pour.eq_ignore_ascii_case(a).then_some(Recu {
                sujet,
                texte,
                octets,
            })
        })
        .collect()
}

/// The same, waiting up to 15 s for `combien` of them.
async fn messages_pour(boite: &Path, a: &str, combien: usize) -> Vec<Recu> {
    let mut trouves = Vec::new();
    for _ in 0..150 {
        trouves = lire_boite(boite, a);
        if trouves.len() >= combien {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    trouves
}

/// aiosmtpd's address and directory, from `scripts/test.sh`.
fn smtp() -> Option<(String, std::path::PathBuf)> {
    Some((
        commun::requis("DEPOT_TEST_SMTP")?,
        commun::requis("DEPOT_TEST_SMTP_BOITE")?.into(),
    ))
}

async fn preinscrire(url: &str, email: &str, mdp: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{url}/api/v1/preinscriptions"))
        .json(&json!({ "voie": "externe", "nom": "Durand", "prenom": "Camille", "email": email, "mot_de_passe": mdp }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["numero"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn poster(url: &str, chemin: &str, corps: Value) -> (u16, String, Duration) {
    let debut = Instant::now();
    let r = reqwest::Client::new()
        .post(format!("{url}{chemin}"))
        .json(&corps)
        .send()
        .await
        .unwrap();
    let statut = r.status().as_u16();
    let texte = r.text().await.unwrap();
    (statut, texte, debut.elapsed())
}

async fn connexion(url: &str, numero: &str, mdp: &str) -> u16 {
    poster(
        url,
        "/api/v1/connexion",
        json!({ "numero": numero, "mot_de_passe": mdp }),
    )
    .await
    .0
}

fn mediane(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

const MDP: &str = "lune verte sur le toit de Laval";

#[tokio::test]
async fn sans_smtp_la_demo_ecrit_ses_courriels_en_eml() {
    let data = tempfile::tempdir().unwrap();
    let s = commun::lancer(data.path(), &[], &[]).await.unwrap();
    assert!(
        s.sortie
            .iter()
            .any(|l| l.starts_with("courriels : aucun serveur SMTP")),
        "{:?}",
        s.sortie
    );
    let (numero, _) = s.demo();
    let dir = data.path().join("courriels");
    let mut eml = Vec::new();
    for _ in 0..100 {
        eml = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        if !eml.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(eml.len(), 1, "the demo dossier's pré-inscription message");
    let octets = std::fs::read(&eml[0]).unwrap();
    let m = MessageParser::default().parse(&octets).unwrap();
    assert!(m.subject().unwrap().contains(&numero));
    assert!(m.body_text(0).unwrap().contains("23 h 59, heure de Paris"));
}

#[tokio::test]
async fn mot_de_passe_oublie_par_l_api_et_aiosmtpd() {
    let Some((smtp, boite)) = smtp() else {
        return;
    };
    let boite = boite.as_path();
    let data = tempfile::tempdir().unwrap();
    let s = commun::lancer(
        data.path(),
        &[
            "--smtp",
            &format!("smtp://{smtp}"),
            "--expediteur",
            "CDG de test <concours@cdg-test.fr>",
            "--url-publique",
            "https://concours.cdg-test.fr",
            "--preinscriptions-par-heure",
            "0",
        ],
        &[],
    )
    .await
    .unwrap();
    let url = &s.url;
    let lot = commun::unique();
    let email = |i: usize| format!("reinit{i}-{lot}@exemple.fr");
    let mut numeros = Vec::new();
    for i in 0..6 {
        numeros.push(preinscrire(url, &email(i), MDP).await);
    }
    // The pré-inscription message arrives by SMTP.
    let pre = messages_pour(boite, &email(0), 1).await;
    assert_eq!(pre.len(), 1);
    assert!(pre[0].sujet.contains(&numeros[0]) && pre[0].texte.contains(&numeros[0]));

    // No enumeration: matching pairs and non-matching ones get the same status and body,
    // in a similar time (the lookup runs after the answer).
    let mut avec = Vec::new();
    let mut sans = Vec::new();
    let mut corps = std::collections::BTreeSet::new();
    for (i, numero) in numeros.iter().enumerate().skip(1) {
        let (st, b, d) = poster(
            url,
            "/api/v1/mot-de-passe/oubli",
            json!({ "numero": numero, "email": email(i) }),
        )
        .await;
        assert_eq!(st, 202, "{b}");
        corps.insert(b);
        avec.push(d);
        let (st, b, d) = poster(url, "/api/v1/mot-de-passe/oubli", json!({ "numero": format!("2025-DEM-{}{i}", &lot[..5].to_uppercase()), "email": format!("inconnu{i}-{lot}@exemple.fr") })).await;
        assert_eq!(st, 202, "{b}");
        corps.insert(b);
        sans.push(d);
    }
    assert_eq!(corps.len(), 1, "one body for all: {corps:?}");
    let (ma, ms) = (mediane(avec), mediane(sans));
    println!("median time to answer: matching {ma:?}, not matching {ms:?}");
    let ecart = ma.abs_diff(ms);
    assert!(
        ecart < Duration::from_millis(25) + ma.min(ms) / 2,
        "matching {ma:?} vs not matching {ms:?}"
    );

    // The link, from the e-mail.
    let recus = messages_pour(boite, &email(1), 2).await;
    let texte = &recus
        .iter()
        .find(|r| r.sujet.starts_with("Nouveau mot de passe"))
        .expect("the reset e-mail")
        .texte;
    let debut = texte
        .find("https://concours.cdg-test.fr/mot-de-passe/nouveau?jeton=")
        .expect("the link");
    let lien = texte[debut..].split_whitespace().next().unwrap();
    let jeton = lien.split("jeton=").nth(1).unwrap();
    // The page of the link opens.
    let page = reqwest::get(format!("{url}/mot-de-passe/nouveau?jeton={jeton}"))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Choisir un nouveau mot de passe")
    );
    // A session open before the reset ends with it.
    let avant = commun::connexion(url, &numeros[1], MDP).await;
    let nouveau = "grand phare bleu sur la digue de Brest";
    let (st, b, _) = poster(
        url,
        "/api/v1/mot-de-passe/nouveau",
        json!({ "jeton": jeton, "mot_de_passe": nouveau }),
    )
    .await;
    assert_eq!(st, 204, "{b}");
    assert_eq!(
        connexion(url, &numeros[1], MDP).await,
        401,
        "the old password is refused"
    );
    assert_eq!(connexion(url, &numeros[1], nouveau).await, 200);
    assert!(
        avant.dossier().await.is_err(),
        "the session of before is closed"
    );
    let (st, b, _) = poster(
        url,
        "/api/v1/mot-de-passe/nouveau",
        json!({ "jeton": jeton, "mot_de_passe": "encore un autre long mot de passe" }),
    )
    .await;
    assert_eq!(st, 422);
    assert_eq!(
        serde_json::from_str::<Value>(&b).unwrap()["code"],
        "jeton_invalide"
    );

    // Throttling: a 4th request in the hour for one n°, whatever the address, waits.
    for i in 0..3 {
        let (st, _, _) = poster(
            url,
            "/api/v1/mot-de-passe/oubli",
            json!({ "numero": numeros[0], "email": format!("essai{i}-{lot}@exemple.fr") }),
        )
        .await;
        assert_eq!(st, 202);
    }
    let (st, b, _) = poster(
        url,
        "/api/v1/mot-de-passe/oubli",
        json!({ "numero": numeros[0], "email": email(0) }),
    )
    .await;
    assert_eq!(st, 429, "{b}");
    assert_eq!(
        serde_json::from_str::<Value>(&b).unwrap()["code"],
        "trop_de_demandes"
    );

    // « N° oublié »: the list arrives.
    let (st, _, _) = poster(url, "/api/v1/numero/oubli", json!({ "email": email(5) })).await;
    assert_eq!(st, 202);
    let recus = messages_pour(boite, &email(5), 3).await;
    assert!(
        recus
            .iter()
            .any(|r| r.sujet == "Vos numéros de dossier" && r.texte.contains(&numeros[5])),
        "{:?}",
        recus.iter().map(|r| &r.sujet).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn l_accuse_de_cloture_porte_le_recepisse_verifiable_avec_les_cles_publiees() {
    let Some((smtp, boite)) = smtp() else {
        return;
    };
    let boite = boite.as_path();
    let data = tempfile::tempdir().unwrap();
    let s = commun::lancer(data.path(), &["--smtp", &format!("smtp://{smtp}")], &[])
        .await
        .unwrap();
    let email = format!("cloture-{}@exemple.fr", commun::unique());
    let numero = preinscrire(&s.url, &email, MDP).await;
    let session = commun::connexion(&s.url, &numero, MDP).await;
    let d = session.dossier().await.unwrap();
    for code in &d.pieces_manquantes {
        commun::deposer(
            &session,
            code,
            "piece.pdf",
            depot_core::exemples::pdf_minimal(),
        )
        .await
        .unwrap();
    }
    session.cloturer().await.unwrap();
    let servi = session.recepisse().await.unwrap();
    // The accusé de réception, parsed as MIME: its JSON is the one the espace serves, and it
    // verifies with the keys the server publishes.
    let recus = messages_pour(boite, &email, 2).await;
    let octets = recus
        .iter()
        .find(|r| r.sujet.starts_with("Dossier clôturé"))
        .map(|r| r.octets.clone());
    let octets = octets.expect("the closure e-mail");
    let m = MessageParser::default().parse(&octets).unwrap();
    use mail_parser::MimeHeaders;
    let json = m
        .attachments()
        .find(|p| p.attachment_name().is_some_and(|n| n.ends_with(".json")))
        .expect("the JSON récépissé")
        .contents()
        .to_vec();
    assert_eq!(json, servi.to_vec(), "the bytes the espace serves");
    let cles: depot_core::signature::Cles =
        serde_json::from_value(commun::cles(&s.url).await).unwrap();
    let contenu = depot_core::signature::verifier_recepisse(&json, &cles).unwrap();
    assert_eq!(contenu.numero.as_str(), numero);
    assert!(m.attachments().any(|p| p.contents().starts_with(b"%PDF-")));
}

#[tokio::test]
async fn un_courriel_en_file_survit_a_kill_9() {
    let Some((smtp, boite)) = smtp() else {
        return;
    };
    let boite = boite.as_path();
    let data = tempfile::tempdir().unwrap();
    let smtp_url = format!("smtp://{smtp}");
    // This instance queues and does not send: the message waits in the record.
    let mut s = commun::lancer(
        data.path(),
        &["--smtp", &smtp_url, "--courriels-intervalle-s", "0"],
        &[],
    )
    .await
    .unwrap();
    let email = format!("kill9-{}@exemple.fr", commun::unique());
    let numero = preinscrire(&s.url, &email, MDP).await;
    s.enfant.start_kill().unwrap();
    s.enfant.wait().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        lire_boite(boite, &email).len(),
        0,
        "nothing sent before the crash"
    );
    // The next start sends it, once.
    let _s = commun::lancer(data.path(), &["--smtp", &smtp_url], &[])
        .await
        .unwrap();
    let recus = messages_pour(boite, &email, 1).await;
    assert_eq!(recus.len(), 1);
    assert!(recus[0].sujet.contains(&numero));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(lire_boite(boite, &email).len(), 1, "once");
}

#[test]
fn la_ligne_de_commande_des_courriels() {
    let bin = env!("CARGO_BIN_EXE_depot-server");
    // A message as it would leave, for proofreading.
    let o = std::process::Command::new(bin)
        .args([
            "courriels",
            "apercu",
            "cloture",
            "--expediteur",
            "CDG de test <concours@cdg-test.fr>",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let t = String::from_utf8(o.stdout).unwrap();
    assert!(t.contains("Subject: "), "{t}");
    assert!(t.contains("Auto-Submitted: auto-generated"), "{t}");
    assert!(
        t.contains("Pièce jointe: recepisse-") && t.contains(".pdf (application/pdf"),
        "{t}"
    );
    assert!(
        t.contains("Votre dossier est clôturé, il est en cours d'instruction."),
        "{t}"
    );
    let o = std::process::Command::new(bin)
        .args(["courriels", "apercu", "inconnue"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("sorte de courriel inconnue"));
    // The reminders due on the demo's data: none the day a dossier is created.
    let data = tempfile::tempdir().unwrap();
    for args in [vec!["--a-blanc"], vec![]] {
        let o = std::process::Command::new(bin)
            .args(["courriels", "rappels", "--data"])
            .arg(data.path())
            .args(&args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        let t = String::from_utf8(o.stdout).unwrap();
        if args.is_empty() {
            assert!(t.contains("rappels programmés : 0"), "{t}");
        } else {
            assert!(t.contains("0 rappel(s) dû(s)"), "{t}");
        }
    }
}
