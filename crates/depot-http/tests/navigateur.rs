//! A real browser (headless Chromium driven through chromedriver) walks the seed procedure
//! on the pages: login, upload through the file input, « Fichier enregistré », the eye, the
//! bin, upload again, « Clôturer mon inscription », the closed message. Screenshots are
//! saved under `target/tmp/`.
//!
//! Needs `chromium` and `chromium-driver` (Debian): `scripts/test.sh` installs them. Without
//! them the test fails under `CI=true` and is skipped loudly elsewhere.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

mod commun;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use depot_core::exemples::pdf_minimal;
use depot_core::testkit::concours_du_seed;
use depot_core::{DemandePreinscription, Espace, HorlogeFixe, MotDePasse, Ports, Voie};
use fantoccini::{ClientBuilder, Locator};

struct Pilote(Child);

impl Drop for Pilote {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn trouver(noms: &[&str]) -> Option<PathBuf> {
    let chemins = std::env::var_os("PATH").unwrap_or_default();
    noms.iter().find_map(|n| {
        std::env::split_paths(&chemins)
            .map(|d| d.join(n))
            .find(|p| p.is_file())
    })
}

/// Waits (up to 10 s) for an element: after a click the page may still be navigating.
async fn attendre(c: &fantoccini::Client, l: Locator<'_>) -> fantoccini::elements::Element {
    let mut derniere = None;
    for _ in 0..100 {
        match c.find(l).await {
            Ok(e) => return e,
            Err(e) => derniere = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = c.source().await.unwrap_or_default();
    panic!("element {l:?} not found: {derniere:?}\npage: {page}");
}

/// Waits (up to 10 s) until the page's main content contains `attendu`.
async fn attendre_texte(c: &fantoccini::Client, attendu: &str) {
    let mut vu = String::new();
    for _ in 0..100 {
        if let Ok(m) = c.find(Locator::Css("main")).await {
            vu = m.text().await.unwrap_or_default();
            if vu.contains(attendu) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("« {attendu} » never appeared; the page says:\n{vu}");
}

/// Waits (up to 10 s) until the current URL's path contains `attendu`.
async fn attendre_url(c: &fantoccini::Client, attendu: &str) {
    let mut vu = String::new();
    for _ in 0..100 {
        if let Ok(u) = c.current_url().await {
            vu = u.path().to_owned();
            if vu.contains(attendu) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the browser never reached « {attendu} »; it is at {vu}");
}

fn port_libre() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn un_candidat_dans_chromium() {
    let (Some(pilote), Some(chromium)) = (
        trouver(&["chromedriver"]),
        trouver(&["chromium", "chromium-browser"]),
    ) else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "CI=true: chromium and chromedriver are required (apt-get install chromium chromium-driver)"
            );
        }
        eprintln!(
            "\n*** SKIPPED: browser test needs chromium and chromedriver (apt-get install chromium chromium-driver) ***\n"
        );
        return;
    };

    // The espace, with the seed's concours, a week before the deadline.
    let horloge = Arc::new(HorlogeFixe::new(
        "2025-04-10T10:00:00+02:00".parse().unwrap(),
    ));
    let espace = Arc::new(
        Espace::new(
            vec![concours_du_seed()],
            Ports::en_memoire().avec_horloge(horloge.clone()),
        )
        .unwrap(),
    );
    horloge.regler("2025-04-01T10:00:00+02:00".parse().unwrap());
    let mdp = "lune verte sur le toit de Laval";
    let numero = espace
        .preinscrire(
            None,
            DemandePreinscription {
                voie: Voie::Externe,
                nom: "Durand".into(),
                prenom: "Camille".into(),
                email: "camille@exemple.fr".into(),
                declarations: vec![],
                mot_de_passe: MotDePasse::from(mdp),
            },
        )
        .await
        .unwrap();
    horloge.regler("2025-04-10T10:00:00+02:00".parse().unwrap());
    let app = depot_http::router(espace, depot_http::Config::default());
    let base = commun::servir(app).await;

    let dir = tempfile::tempdir().unwrap();
    let fichier = dir.path().join("CNI recto.pdf");
    std::fs::write(&fichier, pdf_minimal()).unwrap();

    let port = port_libre();
    let _pilote = Pilote(
        Command::new(&pilote)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--disable-quic", "--window-size=1200,1000",
                     format!("--user-data-dir={}", dir.path().join("profil").display())]
        }),
    );
    let mut client = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let c = client.expect("chromedriver did not answer");
    let ecran = |c: &fantoccini::Client, nom: &str| {
        let (c, chemin) = (
            c.clone(),
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(nom),
        );
        async move {
            std::fs::write(&chemin, c.screenshot().await.unwrap()).unwrap();
            eprintln!("screenshot: {}", chemin.display());
        }
    };

    // 1–2) Connexion with the n° de dossier and the password.
    c.goto(&format!("{base}/connexion")).await.unwrap();
    attendre(&c, Locator::Id("numero"))
        .await
        .send_keys(numero.as_str())
        .await
        .unwrap();
    attendre(&c, Locator::Id("mot_de_passe"))
        .await
        .send_keys(mdp)
        .await
        .unwrap();
    attendre(&c, Locator::Css("button[type=submit]"))
        .await
        .click()
        .await
        .unwrap();
    attendre_url(&c, "/dossier").await;
    attendre_texte(&c, numero.as_str()).await;

    // 3) The folder to the right of the requested piece.
    attendre(&c, Locator::Css("a.dossier"))
        .await
        .click()
        .await
        .unwrap();
    attendre_texte(&c, "Gestion du document").await;
    // 4–6) « Choisir un fichier », « Ajouter le fichier », « Fichier enregistré » → OK.
    let deposer = || async {
        attendre(&c, Locator::Id("fichier"))
            .await
            .send_keys(fichier.to_str().unwrap())
            .await
            .unwrap();
        attendre(&c, Locator::Id("ajouter"))
            .await
            .click()
            .await
            .unwrap();
        let fenetre = attendre(&c, Locator::Id("fichier-enregistre"))
            .await
            .text()
            .await
            .unwrap();
        assert!(fenetre.contains("Fichier enregistré"), "{fenetre}");
        attendre(&c, Locator::Id("ok")).await.click().await.unwrap();
        attendre_texte(&c, "CNI recto.pdf").await;
    };
    deposer().await;

    // 7) The eye opens the file in a new window.
    let fenetres_avant = c.windows().await.unwrap();
    attendre(&c, Locator::Css("a.oeil"))
        .await
        .click()
        .await
        .unwrap();
    let mut nouvelle = None;
    for _ in 0..50 {
        let toutes = c.windows().await.unwrap();
        if let Some(w) = toutes.into_iter().find(|w| !fenetres_avant.contains(w)) {
            nouvelle = Some(w);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let nouvelle = nouvelle.expect("the eye opens a window");
    c.switch_to_window(nouvelle).await.unwrap();
    attendre_url(&c, "/dossier/fichiers/").await;
    c.close_window().await.unwrap();
    c.switch_to_window(fenetres_avant[0].clone()).await.unwrap();

    // The bin, with its confirmation, then upload again.
    attendre(&c, Locator::Css("a.poubelle"))
        .await
        .click()
        .await
        .unwrap();
    attendre(&c, Locator::Id("confirmer-suppression"))
        .await
        .click()
        .await
        .unwrap();
    attendre_texte(&c, "Aucun fichier déposé").await;
    deposer().await;
    // 8) « Fermer ».
    attendre(&c, Locator::Id("fermer"))
        .await
        .click()
        .await
        .unwrap();
    ecran(&c, "depot-dossier.png").await;

    // 10) « Clôturer mon inscription », confirmed.
    attendre(&c, Locator::Id("cloturer"))
        .await
        .click()
        .await
        .unwrap();
    attendre_texte(&c, "la clôture est définitive").await;
    attendre(&c, Locator::Id("confirmer-cloture"))
        .await
        .click()
        .await
        .unwrap();
    let etat = attendre(&c, Locator::Id("etat"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        etat.trim(),
        "Votre dossier est clôturé, il est en cours d'instruction."
    );
    ecran(&c, "depot-dossier-cloture.png").await;
    // The printable récépissé lists the file.
    attendre(&c, Locator::LinkText("Voir et imprimer le récépissé"))
        .await
        .click()
        .await
        .unwrap();
    attendre_texte(&c, "CNI recto.pdf").await;
    c.close().await.unwrap();
}
