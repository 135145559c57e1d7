//! depot's messages through a real SMTP server (aiosmtpd, started by `scripts/test.sh`:
//! `DEPOT_TEST_SMTP` host:port, `DEPOT_TEST_SMTP_BOITE` the directory where it writes each
//! message), read back and parsed as MIME. Without them the tests say so loudly and skip;
//! under `CI=true` they fail.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use depot_core::courriel::{Courriel, Courrier, ErreurMessagerie, Messagerie, SORTES, apercu};
use depot_core::memoire::{MemoireDossiers, MemoireIdentifiants, MemoirePieces};
use depot_core::{Concours, DemandePreinscription, Espace, HorlogeFixe, MotDePasse, Ports, Voie};
use depot_courriel::{Expediteur, Repertoire, Smtp};
use mail_parser::{MessageParser, MimeHeaders};

fn requis(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) => Some(v),
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true: {var} is not set — scripts/test.sh starts aiosmtpd")
        }
        Err(_) => {
            eprintln!("\n*** SKIPPED: {var} not set (run scripts/test.sh) ***\n");
            None
        }
    }
}

fn serveur() -> Option<(String, PathBuf)> {
    Some((
        requis("DEPOT_TEST_SMTP")?,
        PathBuf::from(requis("DEPOT_TEST_SMTP_BOITE")?),
    ))
}

fn unique() -> String {
    depot_core::FichierId::generer(&depot_core::SystemRandom)
        .as_str()
        .to_lowercase()
}

fn expediteur() -> Expediteur {
    Expediteur::parse("concours@cdg-exemple.fr").unwrap()
}

/// The messages the server received for `a`, waiting up to 10 s for `combien`.
async fn recus(boite: &Path, a: &str, combien: usize) -> Vec<Vec<u8>> {
    let mut trouves = Vec::new();
    for _ in 0..100 {
        trouves.clear();
        for e in std::fs::read_dir(boite).unwrap().flatten() {
            if e.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let octets = std::fs::read(e.path()).unwrap();
            let m = MessageParser::default().parse(&octets).unwrap();
            let pour = m
                .to()
                .and_then(|t| t.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_owned();
            if pour == a {
                trouves.push(octets);
            }
        }
        if trouves.len() >= combien {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    trouves
}

fn concours() -> Concours {
    Concours::from_toml(include_str!(
        "../../../examples/concours/animateur-2025.toml"
    ))
    .unwrap()
}

#[tokio::test]
async fn chaque_sorte_arrive_en_mime_complet() {
    let Some((adresse, boite)) = serveur() else {
        return;
    };
    let smtp = Smtp::depuis_url(&format!("smtp://{adresse}"), None, expediteur()).unwrap();
    let c = concours();
    for sorte in SORTES {
        let mut m = apercu(&c, sorte, "https://concours.cdg-exemple.fr")
            .await
            .unwrap();
        let a = format!("{sorte}-{}@exemple.fr", unique());
        m.a = a.clone();
        smtp.envoyer(&m)
            .await
            .unwrap_or_else(|e| panic!("{sorte}: {e}"));
        let octets = recus(&boite, &a, 1).await;
        assert_eq!(octets.len(), 1, "{sorte}: one message");
        let lu = MessageParser::default().parse(&octets[0]).unwrap();
        // Headers.
        assert_eq!(lu.subject(), Some(m.sujet.as_str()), "{sorte}");
        let de = lu.from().unwrap().first().unwrap();
        assert_eq!(de.address(), Some("concours@cdg-exemple.fr"));
        assert_eq!(
            de.name(),
            Some(c.organisateur.as_str()),
            "the CDG as sender name"
        );
        assert_eq!(
            lu.to().unwrap().first().unwrap().name(),
            Some("Camille Durand")
        );
        assert_eq!(lu.message_id(), Some(m.message_id.trim_matches(['<', '>'])));
        assert!(lu.date().is_some(), "{sorte}: Date");
        assert_eq!(
            lu.header_raw("Auto-Submitted").map(str::trim),
            Some("auto-generated")
        );
        // Both alternatives, UTF-8, as rendered.
        let texte = lu.body_text(0).unwrap();
        assert_eq!(
            texte.replace("\r\n", "\n").trim_end(),
            m.texte.trim_end(),
            "{sorte}"
        );
        let html = lu.body_html(0).unwrap();
        assert!(html.contains("<!DOCTYPE html>") && html.contains("Bonjour Camille Durand"));
        assert!(
            texte.contains("é") && texte.contains("«"),
            "{sorte}: UTF-8 kept"
        );
        // Attachments: byte for byte.
        let jointes: Vec<(String, String, Vec<u8>)> = lu
            .attachments()
            .map(|p| {
                (
                    p.attachment_name().unwrap_or_default().to_owned(),
                    p.content_type()
                        .map(|t| format!("{}/{}", t.ctype(), t.subtype().unwrap_or_default()))
                        .unwrap_or_default(),
                    p.contents().to_vec(),
                )
            })
            .collect();
        let attendues: Vec<(String, String, Vec<u8>)> = m
            .pieces_jointes
            .iter()
            .map(|p| (p.nom.clone(), p.type_mime.to_owned(), p.octets.clone()))
            .collect();
        assert_eq!(jointes, attendues, "{sorte}");
        if sorte == "cloture" {
            assert_eq!(jointes.len(), 2);
            assert!(jointes[0].2.starts_with(b"%PDF-"));
        }
    }
}

#[tokio::test]
async fn refus_definitif_et_serveur_injoignable() {
    let Some((adresse, _)) = serveur() else {
        return;
    };
    let smtp = Smtp::depuis_url(&format!("smtp://{adresse}"), None, expediteur()).unwrap();
    let mut m = apercu(&concours(), "preinscription", "https://x.fr")
        .await
        .unwrap();
    m.a = format!("refuse-{}@exemple.fr", unique());
    assert!(
        matches!(smtp.envoyer(&m).await, Err(ErreurMessagerie::Definitive(_))),
        "550: refused for good"
    );
    // Nothing listens on a port just freed.
    let libre = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = libre.local_addr().unwrap().port();
    drop(libre);
    let mort = Smtp::depuis_url(&format!("smtp://127.0.0.1:{port}"), None, expediteur()).unwrap();
    m.a = format!("x-{}@exemple.fr", unique());
    assert!(matches!(
        mort.envoyer(&m).await,
        Err(ErreurMessagerie::Temporaire(_))
    ));
}

#[test]
fn adresses_smtp() {
    let e = expediteur;
    assert!(Smtp::depuis_url("smtp://127.0.0.1:2525", None, e()).is_ok());
    let s = Smtp::depuis_url(
        "smtp+starttls://depot@smtp.exemple.fr:587",
        Some("s3cret".to_owned().into()),
        e(),
    )
    .unwrap();
    assert_eq!(s.description(), "smtp+starttls://depot@smtp.exemple.fr:587");
    assert!(!format!("{s:?}").contains("s3cret"));
    let s = Smtp::depuis_url(
        "smtps://depot@smtp.exemple.fr",
        Some("x".to_owned().into()),
        e(),
    )
    .unwrap();
    assert_eq!(s.description(), "smtps://depot@smtp.exemple.fr:465");
    for faux in [
        "http://h:25",
        "smtp://",
        "smtp://h:port",
        "smtp://u:motdepasse@h:25",
        "smtp://h:25/chemin",
        "smtps://depot@h",
    ] {
        let r = Smtp::depuis_url(faux, None, e());
        assert!(r.is_err(), "{faux}");
        assert!(!r.unwrap_err().to_string().contains("motdepasse"), "{faux}");
    }
    assert!(Expediteur::parse("CDG de la Mayenne <concours@cdg53.fr>").is_ok());
    assert!(Expediteur::parse("pas une adresse").is_err());
}

#[tokio::test]
async fn repertoire_eml() {
    let dir = tempfile::tempdir().unwrap();
    let r = Repertoire::new(&dir.path().join("courriels"), expediteur()).unwrap();
    let m = apercu(&concours(), "cloture", "https://x.fr")
        .await
        .unwrap();
    r.envoyer(&m).await.unwrap();
    let fichiers: Vec<_> = std::fs::read_dir(r.dir()).unwrap().flatten().collect();
    assert_eq!(fichiers.len(), 1);
    let nom = fichiers[0].file_name().to_string_lossy().into_owned();
    assert!(nom.ends_with(".eml") && nom.contains("-cloture-"), "{nom}");
    let octets = std::fs::read(fichiers[0].path()).unwrap();
    let lu = MessageParser::default().parse(&octets).unwrap();
    assert_eq!(lu.subject(), Some(m.sujet.as_str()));
    assert_eq!(lu.attachments().count(), 2);
}

/// Sends through whichever messagerie it is set to.
struct Aiguillage(Mutex<Arc<dyn Messagerie>>);

#[async_trait]
impl Messagerie for Aiguillage {
    async fn envoyer(&self, c: &Courriel) -> Result<(), ErreurMessagerie> {
        let m = self.0.lock().unwrap().clone();
        m.envoyer(c).await
    }
}

#[tokio::test]
async fn serveur_smtp_en_panne_puis_revenu_rien_de_perdu_rien_en_double() {
    let Some((adresse, boite)) = serveur() else {
        return;
    };
    let libre = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = libre.local_addr().unwrap().port();
    drop(libre);
    let mort: Arc<dyn Messagerie> = Arc::new(
        Smtp::depuis_url(&format!("smtp://127.0.0.1:{port}"), None, expediteur()).unwrap(),
    );
    let vivant: Arc<dyn Messagerie> =
        Arc::new(Smtp::depuis_url(&format!("smtp://{adresse}"), None, expediteur()).unwrap());
    let aiguillage = Arc::new(Aiguillage(Mutex::new(mort)));
    let debut = chrono::DateTime::parse_from_rfc3339("2025-04-01T10:00:00+02:00")
        .unwrap()
        .to_utc();
    let horloge = Arc::new(HorlogeFixe::new(debut));
    let ports = Ports::avec_stores(
        Arc::new(MemoireDossiers::new()),
        Arc::new(MemoirePieces::new()),
        Arc::new(MemoireIdentifiants::new()),
    )
    .avec_horloge(horloge.clone())
    .avec_courrier(Courrier {
        messagerie: aiguillage.clone(),
        url_publique: "https://concours.cdg-exemple.fr".into(),
    });
    let espace = Espace::new(vec![concours()], ports).unwrap();
    let lot = unique();
    let adresses: Vec<String> = (0..5).map(|i| format!("lot{i}-{lot}@exemple.fr")).collect();
    for a in &adresses {
        espace
            .preinscrire(
                None,
                DemandePreinscription {
                    voie: Voie::Externe,
                    nom: "Durand".into(),
                    prenom: "Camille".into(),
                    email: a.clone(),
                    declarations: vec![],
                    mot_de_passe: MotDePasse::from("lune verte sur le toit de Laval"),
                },
            )
            .await
            .unwrap();
    }
    // Down: every message waits.
    for minute in 0..3 {
        horloge.regler(debut + chrono::Duration::minutes(minute * 2));
        let b = espace.distribuer_courriels().await.unwrap();
        assert_eq!((b.envoyes, b.reportes), (0, 5), "minute {minute}");
    }
    // Back: each sent once, after its wait.
    *aiguillage.0.lock().unwrap() = vivant;
    horloge.regler(debut + chrono::Duration::minutes(30));
    assert_eq!(espace.distribuer_courriels().await.unwrap().envoyes, 5);
    assert_eq!(
        espace.distribuer_courriels().await.unwrap(),
        Default::default()
    );
    for a in &adresses {
        assert_eq!(recus(&boite, a, 1).await.len(), 1, "{a}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for a in &adresses {
        assert_eq!(recus(&boite, a, 1).await.len(), 1, "{a}: never twice");
    }
}
