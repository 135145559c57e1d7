//! A real browser (headless Chromium driven through chromedriver) walks the seed procedure
//! on the pages: login, upload through the file input with its progress bar, « Fichier
//! « … » enregistré », the eye, the bin, upload again, « Clôturer mon inscription », the
//! closed message, the récépissé; the pré-inscription form that keeps what was typed; the
//! session warning and the return after expiry; the staff's pages.
//!
//! Every page and state is checked at 1,280, 390 and 320 px wide: **axe-core** (WCAG 2.1 A
//! and AA rules) finds no violation, and at phone widths the page does not scroll
//! sideways. Screenshots of each are saved under `target/tmp/pages/`.
//!
//! Needs `chromium` and `chromium-driver` (Debian) and axe-core (npm, its `axe.min.js` named
//! by `DEPOT_TEST_AXE`): `scripts/test.sh` installs them. Without them the test fails under
//! `CI=true` and is skipped loudly elsewhere.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

mod commun;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use depot_core::exemples::{pdf_image, pdf_minimal};
use depot_core::testkit::concours_du_seed;
use depot_core::{
    DemandePreinscription, Espace, HorlogeFixe, MotDePasse, Ports, Role, Sha256, Voie,
};
use depot_http::gestion::CompteGestionnaire;
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

/// The widths every page is checked at: a desktop, a phone, the narrowest WCAG asks for.
const LARGEURS: [(u32, u32); 3] = [(1280, 900), (390, 844), (320, 720)];

/// axe-core and what it found, page after page.
struct Controle {
    axe: String,
    /// chromedriver's address (for full-page screenshots through CDP).
    pilote: String,
    dossier: PathBuf,
    problemes: Vec<String>,
    pages: usize,
}

impl Controle {
    /// Checks the current page at each width: axe-core's WCAG 2.1 A/AA rules, no sideways
    /// scroll on a phone; a screenshot of each.
    async fn page(&mut self, c: &fantoccini::Client, nom: &str) {
        for (l, h) in LARGEURS {
            c.set_window_size(l, h).await.unwrap();
            tokio::time::sleep(Duration::from_millis(150)).await;
            let mesures = c
                .execute(
                    "return [document.documentElement.scrollWidth, window.innerWidth];",
                    vec![],
                )
                .await
                .unwrap();
            let (defile, visible) = (mesures[0].as_u64().unwrap(), mesures[1].as_u64().unwrap());
            if l < 1000 && defile > visible {
                self.problemes.push(format!(
                    "{nom} at {l} px: the page is {defile} px wide for a {visible} px viewport"
                ));
            }
            c.execute(&format!("{}\nreturn true;", self.axe), vec![])
                .await
                .unwrap();
            let rapport = c
                .execute_async(
                    r#"const fini = arguments[arguments.length - 1];
                    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
                      .then(r => fini(JSON.stringify(r.violations.map(v => ({ id: v.id, aide: v.help, noeuds: v.nodes.slice(0, 4).map(n => n.target.join(" ")) })))))
                      .catch(e => fini("axe: " + e));"#,
                    vec![],
                )
                .await
                .unwrap();
            let rapport = rapport.as_str().unwrap_or_default().to_owned();
            if rapport != "[]" {
                self.problemes
                    .push(format!("{nom} at {l} px: axe-core: {rapport}"));
            }
            let chemin = self.dossier.join(format!("{nom}-{l}.png"));
            std::fs::write(&chemin, page_entiere(&self.pilote, c).await).unwrap();
        }
        c.set_window_size(LARGEURS[0].0, LARGEURS[0].1)
            .await
            .unwrap();
        self.pages += 1;
    }
}

/// Network conditions for the browser (chromedriver's CDP passthrough): `debit` bytes per
/// second up and down, `None` for no throttling.
async fn reseau(pilote: &str, c: &fantoccini::Client, debit: Option<u64>) {
    let session = c.session_id().await.unwrap().unwrap();
    let d = debit.map_or(-1, |d| d as i64);
    for (cmd, params) in [
        ("Network.enable", serde_json::json!({})),
        (
            "Network.emulateNetworkConditions",
            serde_json::json!({ "offline": false, "latency": 20, "downloadThroughput": d, "uploadThroughput": d }),
        ),
    ] {
        let r = reqwest::Client::new()
            .post(format!("{pilote}/session/{session}/goog/cdp/execute"))
            .json(&serde_json::json!({ "cmd": cmd, "params": params }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{cmd}: {:?}", r.text().await);
    }
}

/// A PNG of the whole page, not only what the window shows (CDP's `captureBeyondViewport`).
async fn page_entiere(pilote: &str, c: &fantoccini::Client) -> Vec<u8> {
    use base64::Engine;
    let session = c.session_id().await.unwrap().unwrap();
    let cdp = |cmd: &'static str, params: serde_json::Value| {
        let url = format!("{pilote}/session/{session}/goog/cdp/execute");
        async move {
            let r: serde_json::Value = reqwest::Client::new()
                .post(url)
                .json(&serde_json::json!({ "cmd": cmd, "params": params }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r["value"].clone()
        }
    };
    let mesures = cdp("Page.getLayoutMetrics", serde_json::json!({})).await;
    let (l, h) = (
        mesures["cssContentSize"]["width"]
            .as_f64()
            .unwrap_or(1280.0),
        mesures["cssContentSize"]["height"]
            .as_f64()
            .unwrap_or(900.0),
    );
    let image = cdp(
        "Page.captureScreenshot",
        serde_json::json!({ "format": "png", "captureBeyondViewport": true,
            "clip": { "x": 0, "y": 0, "width": l, "height": h, "scale": 1 } }),
    )
    .await;
    base64::engine::general_purpose::STANDARD
        .decode(image["data"].as_str().unwrap_or_default())
        .unwrap()
}

async fn saisir(c: &fantoccini::Client, id: &str, texte: &str) {
    let e = attendre(c, Locator::Id(id)).await;
    e.clear().await.unwrap();
    e.send_keys(texte).await.unwrap();
}

async fn cliquer(c: &fantoccini::Client, l: Locator<'_>) {
    attendre(c, l).await.click().await.unwrap();
}

/// The text of an element once it is displayed (up to 20 s).
async fn texte_visible(c: &fantoccini::Client, css: &str) -> String {
    for _ in 0..200 {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && e.is_displayed().await.unwrap_or(false)
        {
            let t = e.text().await.unwrap_or_default();
            if !t.trim().is_empty() {
                return t;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{css} never showed; page: {}",
        c.source().await.unwrap_or_default()
    );
}

async fn valeur(c: &fantoccini::Client, id: &str) -> String {
    attendre(c, Locator::Id(id))
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

const JETON_INSTRUCTEUR: &str = "jeton-instructeur-0123456789abcdef0123456789abcdef";

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
    let axe = match std::env::var_os("DEPOT_TEST_AXE").map(|p| std::fs::read_to_string(&p)) {
        Some(Ok(a)) => a,
        autre => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "CI=true: DEPOT_TEST_AXE must name axe.min.js (scripts/test.sh installs it): {autre:?}"
                );
            }
            eprintln!(
                "\n*** SKIPPED: browser test needs axe-core: DEPOT_TEST_AXE=…/axe.min.js (npm install axe-core; scripts/test.sh does it) ***\n"
            );
            return;
        }
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
    let config = depot_http::Config {
        gestionnaires: vec![CompteGestionnaire {
            id: "agent-instruction".into(),
            role: Role::Instruction,
            jeton_sha256: Sha256::de(JETON_INSTRUCTEUR.as_bytes()),
        }],
        ..Default::default()
    };
    let app = depot_http::router(espace, config);
    let base = commun::servir(app).await;

    let dir = tempfile::tempdir().unwrap();
    let fichier = dir.path().join("CNI recto.pdf");
    std::fs::write(&fichier, pdf_minimal()).unwrap();
    // 5 MB: long enough, on a throttled link, for the progress bar to show.
    let gros = dir.path().join("Diplôme scanné.pdf");
    std::fs::write(&gros, pdf_image(5_000_000)).unwrap();
    let vide = dir.path().join("vide.pdf");
    std::fs::write(&vide, b"").unwrap();
    let faux = dir.path().join("photo.pdf");
    std::fs::write(&faux, b"\x89PNG\r\n\x1a\n0000000000000000").unwrap();

    let port = port_libre();
    let _pilote = Pilote(
        Command::new(&pilote)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let adresse_pilote = format!("http://127.0.0.1:{port}");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--disable-quic", "--window-size=1280,900", "--hide-scrollbars",
                     format!("--user-data-dir={}", dir.path().join("profil").display())]
        }),
    );
    let mut client = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&adresse_pilote)
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
    let captures = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pages");
    std::fs::create_dir_all(&captures).unwrap();
    let mut ctl = Controle {
        axe,
        pilote: adresse_pilote.clone(),
        dossier: captures.clone(),
        problemes: Vec::new(),
        pages: 0,
    };

    // The checker can fail: a page without a language and with an image without text.
    c.goto("data:text/html,<!doctype html><html><body><img src=x><p>x</p></body></html>")
        .await
        .unwrap();
    let mut temoin = Controle {
        axe: ctl.axe.clone(),
        pilote: adresse_pilote.clone(),
        dossier: captures.clone(),
        problemes: Vec::new(),
        pages: 0,
    };
    temoin.page(&c, "temoin").await;
    let trouve = temoin.problemes.join("\n");
    assert!(
        trouve.contains("html-has-lang") && trouve.contains("image-alt"),
        "axe-core did not run: {trouve}"
    );

    // Pages anyone can open.
    c.goto(&format!("{base}/connexion")).await.unwrap();
    attendre_texte(&c, "il vous reste 7 jours").await;
    ctl.page(&c, "connexion").await;
    for (chemin, nom) in [
        ("/mot-de-passe/oubli", "mot-de-passe-oubli"),
        ("/numero/oubli", "numero-oubli"),
        ("/verifier", "verifier"),
        ("/accessibilite", "accessibilite"),
        ("/cette-page-n-existe-pas", "introuvable"),
    ] {
        c.goto(&format!("{base}{chemin}")).await.unwrap();
        attendre(&c, Locator::Css("main h1")).await;
        ctl.page(&c, nom).await;
    }

    // The pré-inscription form keeps what was typed and says every problem at once.
    c.goto(&format!("{base}/preinscription")).await.unwrap();
    ctl.page(&c, "preinscription").await;
    cliquer(&c, Locator::Css("input[name=voie][value=interne]")).await;
    saisir(&c, "nom", "Martin").await;
    saisir(&c, "prenom", "Dominique").await;
    saisir(&c, "email", "dominique.martin").await;
    saisir(&c, "mdp", "court").await;
    saisir(&c, "mdp2", "court").await;
    cliquer(&c, Locator::Css("form.carte button[type=submit]")).await;
    let resume = texte_visible(&c, "#resume-erreurs").await;
    assert!(resume.contains("2 erreurs"), "{resume}");
    assert!(
        resume.contains("Adresse électronique") && resume.contains("Mot de passe"),
        "{resume}"
    );
    assert_eq!(valeur(&c, "nom").await, "Martin");
    assert_eq!(valeur(&c, "prenom").await, "Dominique");
    assert_eq!(valeur(&c, "email").await, "dominique.martin");
    let voie = attendre(&c, Locator::Css("input[name=voie][value=interne]")).await;
    assert_eq!(voie.prop("checked").await.unwrap().as_deref(), Some("true"));
    ctl.page(&c, "preinscription-erreurs").await;

    // 1–2) Connexion with the n° de dossier and the password.
    c.goto(&format!("{base}/connexion")).await.unwrap();
    saisir(&c, "numero", numero.as_str()).await;
    saisir(&c, "mot_de_passe", mdp).await;
    cliquer(&c, Locator::Css("form.carte button[type=submit]")).await;
    attendre_url(&c, "/dossier").await;
    attendre_texte(&c, numero.as_str()).await;
    // The deadline with the time left, the pieces still missing, no closure button yet.
    let echeance = texte_visible(&c, "#echeance").await;
    assert!(
        echeance.contains(
            "au plus tard le jeudi 17 avril 2025 à 23 h 59, heure de Paris — il vous reste 7 jours"
        ),
        "{echeance}"
    );
    assert!(texte_visible(&c, "#manquantes").await.contains("reste"));
    assert!(c.find(Locator::Id("cloturer")).await.is_err());
    texte_visible(&c, "#cloture-impossible").await;
    ctl.page(&c, "dossier").await;

    // 3) The folder of the requested piece.
    cliquer(&c, Locator::Css("a.dossier")).await;
    attendre_texte(&c, "Gestion du document").await;
    let piece = c.current_url().await.unwrap().path().to_owned();
    ctl.page(&c, "piece-vide").await;

    // Checked in the browser before sending, with the server's sentences.
    attendre(&c, Locator::Id("fichier"))
        .await
        .send_keys(vide.to_str().unwrap())
        .await
        .unwrap();
    cliquer(&c, Locator::Id("ajouter")).await;
    let refus = texte_visible(&c, ".retour-envoi").await;
    assert!(refus.contains("« vide.pdf » est vide"), "{refus}");
    // Refused by the server: shown in place, the page kept.
    attendre(&c, Locator::Id("fichier"))
        .await
        .send_keys(faux.to_str().unwrap())
        .await
        .unwrap();
    cliquer(&c, Locator::Id("ajouter")).await;
    let mut refus = String::new();
    for _ in 0..100 {
        refus = texte_visible(&c, ".retour-envoi").await;
        if refus.contains("photo.pdf") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        refus.contains("« photo.pdf »") && refus.contains("PNG"),
        "{refus}"
    );
    ctl.page(&c, "piece-refus").await;

    // 4–6) A 5 MB file on a slow link: the progress bar moves, the button waits, then
    // « Fichier « … » enregistré » → OK.
    reseau(&adresse_pilote, &c, Some(1_500_000)).await;
    attendre(&c, Locator::Id("fichier"))
        .await
        .send_keys(gros.to_str().unwrap())
        .await
        .unwrap();
    cliquer(&c, Locator::Id("ajouter")).await;
    let mut vus = Vec::new();
    for _ in 0..400 {
        let etat = c
            .execute(
                "const p = document.querySelector('.progression progress'); const b = document.getElementById('ajouter');
                 return p ? [p.value, p.closest('.progression').hidden, b ? b.disabled : null] : null;",
                vec![],
            )
            .await
            .unwrap_or_default();
        if etat.is_null() {
            break; // the next page
        }
        if etat[1] == false {
            vus.push((
                etat[0].as_f64().unwrap_or(0.0),
                etat[2].as_bool().unwrap_or(false),
            ));
        }
        if c.find(Locator::Id("fichier-enregistre")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    reseau(&adresse_pilote, &c, None).await;
    assert!(
        vus.iter()
            .any(|(v, desactive)| *v > 0.0 && *v < 100.0 && *desactive),
        "the progress bar showed between 0 and 100 % with the button disabled: {vus:?}"
    );
    let fenetre = texte_visible(&c, "#fichier-enregistre").await;
    assert!(
        fenetre.contains("Fichier « Diplôme scanné.pdf » enregistré"),
        "{fenetre}"
    );
    ctl.page(&c, "piece-enregistre").await;
    cliquer(&c, Locator::Id("ok")).await;
    attendre_texte(&c, "Diplôme scanné.pdf").await;
    // Shown once: not again on reload.
    c.refresh().await.unwrap();
    attendre_texte(&c, "Diplôme scanné.pdf").await;
    assert!(c.find(Locator::Id("fichier-enregistre")).await.is_err());

    // 7) The eye opens the file in a new window.
    let fenetres_avant = c.windows().await.unwrap();
    cliquer(&c, Locator::Css("a.oeil")).await;
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

    // The bin, with its confirmation, then « supprimé » once, then upload again.
    cliquer(&c, Locator::Css("a.poubelle")).await;
    attendre(&c, Locator::Id("confirmer-suppression")).await;
    ctl.page(&c, "supprimer").await;
    cliquer(&c, Locator::Id("confirmer-suppression")).await;
    let supprime = texte_visible(&c, "#fichier-supprime").await;
    assert!(
        supprime.contains("Fichier « Diplôme scanné.pdf » supprimé"),
        "{supprime}"
    );
    attendre_texte(&c, "Aucun fichier déposé").await;
    ctl.page(&c, "piece-supprime").await;
    attendre(&c, Locator::Id("fichier"))
        .await
        .send_keys(fichier.to_str().unwrap())
        .await
        .unwrap();
    cliquer(&c, Locator::Id("ajouter")).await;
    let fenetre = texte_visible(&c, "#fichier-enregistre").await;
    assert!(
        fenetre.contains("Fichier « CNI recto.pdf » enregistré"),
        "{fenetre}"
    );
    cliquer(&c, Locator::Id("ok")).await;
    attendre_texte(&c, "CNI recto.pdf").await;
    ctl.page(&c, "piece-avec-fichier").await;
    // 8) « Fermer ».
    cliquer(&c, Locator::Id("fermer")).await;
    attendre(&c, Locator::Id("cloturer")).await;
    ctl.page(&c, "dossier-complet").await;

    // 10) « Clôturer mon inscription », confirmed.
    cliquer(&c, Locator::Id("cloturer")).await;
    attendre_texte(&c, "la clôture est définitive").await;
    ctl.page(&c, "cloture").await;
    cliquer(&c, Locator::Id("confirmer-cloture")).await;
    let etat = texte_visible(&c, "#etat").await;
    assert_eq!(
        etat.trim(),
        "Votre dossier est clôturé, il est en cours d'instruction."
    );
    ctl.page(&c, "dossier-cloture").await;
    // The printable récépissé lists the file.
    cliquer(&c, Locator::LinkText("Voir et imprimer le récépissé")).await;
    attendre_texte(&c, "CNI recto.pdf").await;
    ctl.page(&c, "recepisse").await;

    // The session: kept open by use for nearly 12 hours (its absolute limit), the warning
    // shows five minutes before the end; « Rester connecté(e) » cannot pass the limit; past
    // it, the page says so, and the login returns where the candidate was.
    let debut: chrono::DateTime<chrono::Utc> = "2025-04-10T10:00:00+02:00".parse().unwrap();
    for pas in 1..=35 {
        horloge.regler(debut + chrono::Duration::minutes(20 * pas));
        c.goto(&format!("{base}/dossier/session")).await.unwrap();
    }
    horloge.regler(debut + chrono::Duration::minutes(12 * 60 - 4));
    c.goto(&format!("{base}/dossier")).await.unwrap();
    let avertissement = texte_visible(&c, "#session").await;
    assert!(
        avertissement.contains("Votre session va bientôt expirer"),
        "{avertissement}"
    );
    ctl.page(&c, "session-avertissement").await;
    cliquer(&c, Locator::Css("#session button")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        texte_visible(&c, "#session")
            .await
            .contains("va bientôt expirer")
    );
    horloge.regler(debut + chrono::Duration::minutes(12 * 60 + 1));
    cliquer(&c, Locator::Css("#session button")).await;
    let fin = texte_visible(&c, "#session .apres").await;
    assert!(fin.contains("Votre session a expiré"), "{fin}");
    c.goto(&format!("{base}{piece}")).await.unwrap();
    attendre_url(&c, "/connexion").await;
    let message = texte_visible(&c, "main .alerte.attention[role=status]").await;
    assert!(message.contains("Votre session a expiré"), "{message}");
    ctl.page(&c, "connexion-expiree").await;
    saisir(&c, "numero", numero.as_str()).await;
    saisir(&c, "mot_de_passe", mdp).await;
    cliquer(&c, Locator::Css("form.carte button[type=submit]")).await;
    attendre_url(&c, &piece).await;
    attendre_texte(&c, "Gestion du document").await;

    // The staff's pages.
    c.goto(&format!("{base}/gestion/connexion")).await.unwrap();
    ctl.page(&c, "gestion-connexion").await;
    saisir(&c, "jeton", JETON_INSTRUCTEUR).await;
    cliquer(&c, Locator::Css("form button[type=submit]")).await;
    attendre_texte(&c, numero.as_str()).await;
    ctl.page(&c, "gestion-liste").await;
    c.goto(&format!("{base}/gestion/dossiers/{numero}"))
        .await
        .unwrap();
    attendre_texte(&c, "CNI recto.pdf").await;
    // The journal as a table: the closure is one of its rows.
    let journal = texte_visible(&c, "table.journal").await;
    assert!(
        journal.contains("cloture") && journal.contains("le candidat"),
        "{journal}"
    );
    ctl.page(&c, "gestion-dossier").await;
    c.goto(&format!("{base}/gestion/conservation"))
        .await
        .unwrap();
    attendre_texte(&c, "Aucune purge prévue").await;
    ctl.page(&c, "gestion-purges").await;

    c.close().await.unwrap();
    eprintln!(
        "{} pages checked at {:?} px; screenshots in {}",
        ctl.pages,
        LARGEURS.map(|(l, _)| l),
        captures.display()
    );
    assert!(ctl.problemes.is_empty(), "{:#?}", ctl.problemes);
}
