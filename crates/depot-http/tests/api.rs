//! Black-box tests of the JSON API: the real router on port 0, spoken to over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

mod commun;

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use depot_core::exemples::{jpeg_minimal, pdf_minimal, png_minimal};
use depot_core::testkit::concours_du_seed;
use depot_core::{Espace, HorlogeFixe, Ports};
use reqwest::multipart::{Form, Part};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

struct App {
    url: String,
    horloge: Arc<HorlogeFixe>,
    client: Client,
    espace: Arc<Espace>,
}

async fn spawn_app() -> App {
    spawn_app_avec(depot_http::Config::default()).await
}

async fn spawn_app_avec(config: depot_http::Config) -> App {
    let horloge = Arc::new(HorlogeFixe::new(t("2025-04-01T10:00:00+02:00")));
    let mut ports = Ports::en_memoire().avec_horloge(horloge.clone());
    let pool: Arc<dyn depot_core::Hacheur> = Arc::new(depot_core::PoolArgon2::new());
    ports.authentificateur = Arc::new(depot_core::Argon2Authenticator::new(
        ports.identifiants.clone(),
        pool.clone(),
    ));
    ports.hacheur = pool;
    let espace = Arc::new(Espace::new(vec![concours_du_seed()], ports).unwrap());
    let app = depot_http::router(espace.clone(), config);
    let racine = commun::servir(app).await;
    App {
        url: format!("{racine}/api/v1"),
        horloge,
        client: Client::new(),
        espace,
    }
}

const MDP: &str = "lune verte sur le toit de Laval";

impl App {
    /// The dossier's journal, as the CDG reads it.
    async fn journal(&self, numero: &str) -> Vec<Value> {
        let n = depot_core::NumeroDossier::parse(numero).unwrap();
        let j = self.espace.journal(&n).await.unwrap();
        serde_json::to_value(j.entrees)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    async fn preinscrire(&self, voie: &str, declarations: &[&str]) -> String {
        let r = self
            .client
            .post(format!("{}/preinscriptions", self.url))
            .json(&json!({"voie": voie, "nom": "Durand", "prenom": "Camille", "email": "camille@exemple.fr", "declarations": declarations, "mot_de_passe": MDP}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json::<Value>().await.unwrap()["numero"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn connexion(&self, numero: &str, mdp: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/connexion", self.url))
            .json(&json!({"numero": numero, "mot_de_passe": mdp}))
            .send()
            .await
            .unwrap()
    }

    async fn jeton(&self, numero: &str) -> String {
        let r = self.connexion(numero, MDP).await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert!(v["expire_le"].as_str().unwrap().ends_with("+02:00"), "{v}");
        v["jeton"].as_str().unwrap().to_owned()
    }

    async fn deposer(
        &self,
        jeton: &str,
        piece: &str,
        nom: &str,
        octets: Vec<u8>,
    ) -> (StatusCode, Value) {
        let form = Form::new().part("fichier", Part::bytes(octets).file_name(nom.to_owned()));
        let r = self
            .client
            .post(format!("{}/dossier/pieces/{piece}", self.url))
            .bearer_auth(jeton)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, jeton: &str, chemin: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{chemin}", self.url))
            .bearer_auth(jeton)
            .send()
            .await
            .unwrap()
    }

    async fn post(&self, jeton: &str, chemin: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .post(format!("{}{chemin}", self.url))
            .bearer_auth(jeton)
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn la_procedure_du_seed_par_l_api() {
    let app = spawn_app().await;
    let numero = app.preinscrire("interne", &[]).await;
    let jeton = app.jeton(&numero).await;

    let v: Value = app.get(&jeton, "/dossier").await.json().await.unwrap();
    assert_eq!(v["numero"], numero.as_str());
    assert_eq!(v["etat"], "ouvert");
    assert_eq!(v["date_limite"], "2025-04-18T00:00:00.000+02:00");
    assert_eq!(
        v["date_limite_libelle"],
        "jeudi 17 avril 2025 à minuit (heure de Paris)"
    );
    assert_eq!(v["cloturable"], false);
    assert_eq!(v["pieces_manquantes"], json!(["piece-identite"]));
    let pieces: Vec<&str> = v["pieces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(pieces, ["piece-identite", "etat-des-services", "arretes"]);
    assert_eq!(v["pieces"][1]["statut"], "attendue_apres_cloture");

    // Upload a PDF and a JPEG.
    let (s, pdf) = app
        .deposer(&jeton, "piece-identite", "CNI recto é.pdf", pdf_minimal())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{pdf}");
    assert_eq!(pdf["message"], "Fichier enregistré");
    let (s, jpg) = app
        .deposer(&jeton, "piece-identite", "verso.jpg", jpeg_minimal())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{jpg}");
    // Refused formats, in the documented order.
    let (s, e) = app
        .deposer(&jeton, "piece-identite", "trois.pdf", pdf_minimal())
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("trop_de_fichiers"))
    );
    let (s, e) = app
        .deposer(&jeton, "etat-des-services", "photo.jpg", png_minimal())
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("format_refuse"))
    );
    assert!(e["message"].as_str().unwrap().contains("PNG"));
    let (s, e) = app
        .deposer(&jeton, "etat-des-services", "etat.jpg", pdf_minimal())
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("extension_incoherente")
        )
    );
    let (s, e) = app
        .deposer(
            &jeton,
            "etat-des-services",
            "etat.pdf",
            b"%PDF-1.7 tronque".to_vec(),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("pdf_illisible"))
    );
    let (s, e) = app.deposer(&jeton, "diplome", "d.pdf", pdf_minimal()).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("piece_inconnue"))
    );

    // View: bytes and headers.
    let id = pdf["fichier"]["id"].as_str().unwrap();
    let r = app.get(&jeton, &format!("/dossier/fichiers/{id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/pdf");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(
        h["content-disposition"],
        "inline; filename=\"CNI recto _.pdf\"; filename*=UTF-8''CNI%20recto%20%C3%A9.pdf"
    );
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf_minimal());

    // Delete, then upload again.
    let jid = jpg["fichier"]["id"].as_str().unwrap();
    let r = app
        .client
        .delete(format!("{}/dossier/fichiers/{jid}", app.url))
        .bearer_auth(&jeton)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&jeton, &format!("/dossier/fichiers/{jid}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let (s, _) = app
        .deposer(&jeton, "piece-identite", "verso.jpeg", jpeg_minimal())
        .await;
    assert_eq!(s, StatusCode::CREATED);

    // Closure at 23:59:59.999, twice: the same récépissé. (Sessions follow the same clock:
    // after a jump of two weeks the candidate logs in again.)
    app.horloge.regler(t("2025-04-17T23:59:59.999+02:00"));
    assert_eq!(
        app.get(&jeton, "/dossier").await.status(),
        StatusCode::UNAUTHORIZED,
        "idle session expired"
    );
    let jeton = app.jeton(&numero).await;
    let (s, c1) = app.post(&jeton, "/dossier/cloture").await;
    assert_eq!(s, StatusCode::OK, "{c1}");
    assert_eq!(c1["etat"], "cloture");
    assert_eq!(
        c1["message"],
        "Votre dossier est clôturé, il est en cours d'instruction."
    );
    assert_eq!(c1["cloture_le"], "2025-04-17T23:59:59.999+02:00");
    let (_, c2) = app.post(&jeton, "/dossier/cloture").await;
    assert_eq!(c1["recepisse"], c2["recepisse"]);
    let r: Value = app
        .get(&jeton, "/dossier/recepisse")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r, c1["recepisse"]);
    assert_eq!(r["contenu"]["fichiers"].as_array().unwrap().len(), 2);

    // After closure: only the deferred pieces.
    let (s, e) = app
        .deposer(&jeton, "piece-identite", "x.pdf", pdf_minimal())
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("dossier_cloture"))
    );
    let r = app
        .client
        .delete(format!("{}/dossier/fichiers/{id}", app.url))
        .bearer_auth(&jeton)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let (s, f) = app
        .deposer(&jeton, "etat-des-services", "etat.pdf", pdf_minimal())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{f}");
    let v: Value = app.get(&jeton, "/dossier").await.json().await.unwrap();
    assert_eq!(v["etat"], "cloture");
    assert_eq!(v["pieces"][1]["statut"], "deposee");

    // Past the deferred deadline.
    app.horloge.regler(t("2025-06-20T00:00:00+02:00"));
    let jeton = app.jeton(&numero).await;
    let (s, e) = app.deposer(&jeton, "arretes", "a.pdf", pdf_minimal()).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("delai_depasse"))
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("jeudi 19 juin 2025")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloture_refusee_puis_hors_delai() {
    let app = spawn_app().await;
    let numero = app.preinscrire("externe", &["demande_amenagement"]).await;
    let jeton = app.jeton(&numero).await;
    let (s, e) = app.post(&jeton, "/dossier/cloture").await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("pieces_manquantes"))
    );
    let manquantes: Vec<&str> = e["manquantes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap())
        .collect();
    assert_eq!(manquantes, ["piece-identite", "certificat-medical"]);
    assert!(
        e["manquantes"][0]["libelle"]
            .as_str()
            .unwrap()
            .starts_with("Copie d'une pièce")
    );
    app.deposer(&jeton, "piece-identite", "cni.pdf", pdf_minimal())
        .await;
    app.deposer(&jeton, "certificat-medical", "c.pdf", pdf_minimal())
        .await;
    app.horloge.regler(t("2025-04-18T00:00:00+02:00"));
    let jeton = app.jeton(&numero).await;
    let (s, e) = app.post(&jeton, "/dossier/cloture").await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("delai_depasse"))
    );
    let v: Value = app.get(&jeton, "/dossier").await.json().await.unwrap();
    assert_eq!(v["etat"], "non_cloture_hors_delai");
    assert_eq!(
        v["pieces"][0]["fichiers"].as_array().unwrap().len(),
        1,
        "nothing deleted"
    );
    let r = app
        .client
        .delete(format!(
            "{}/dossier/fichiers/{}",
            app.url,
            v["pieces"][0]["fichiers"][0]["id"].as_str().unwrap()
        ))
        .bearer_auth(&jeton)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentification_et_propriete() {
    let app = spawn_app().await;
    let a = app.preinscrire("externe", &[]).await;
    let b = app.preinscrire("externe", &[]).await;
    let ja = app.jeton(&a).await;
    let jb = app.jeton(&b).await;
    // 401 before the body is read, with the API's error body.
    let r = app
        .client
        .post(format!("{}/dossier/pieces/piece-identite", app.url))
        .body(vec![0u8; 1000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "non_authentifie");
    assert_eq!(
        app.get("pas-un-jeton", "/dossier").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Another dossier's file is 404 to every method.
    let (_, f) = app
        .deposer(&ja, "piece-identite", "cni.pdf", pdf_minimal())
        .await;
    let id = f["fichier"]["id"].as_str().unwrap();
    assert_eq!(
        app.get(&jb, &format!("/dossier/fichiers/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let r = app
        .client
        .delete(format!("{}/dossier/fichiers/{id}", app.url))
        .bearer_auth(&jb)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&jb, "/dossier/fichiers/..%2F..%2Fetc%2Fpasswd")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&ja, &format!("/dossier/fichiers/{id}"))
            .await
            .status(),
        StatusCode::OK
    );
    // Logout kills the token.
    let (s, _) = app.post(&ja, "/deconnexion").await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&ja, "/dossier").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Field errors.
    let r = app
        .client
        .post(format!("{}/preinscriptions", app.url))
        .json(&json!({"voie": "externe"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.client.post(format!("{}/preinscriptions", app.url))
        .json(&json!({"voie": "externe", "nom": "A", "prenom": "B", "email": "a@b.fr", "mot_de_passe": "azertyuiop123"}))
        .send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "mot_de_passe_faible"
    );
    app.horloge.regler(t("2025-04-10T00:00:00+02:00"));
    let r = app.client.post(format!("{}/preinscriptions", app.url))
        .json(&json!({"voie": "externe", "nom": "A", "prenom": "B", "email": "a@b.fr", "mot_de_passe": MDP}))
        .send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "preinscription_fermee"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limitation_et_pas_d_enumeration() {
    let app = spawn_app().await;
    let numero = app.preinscrire("externe", &[]).await;
    // Wrong password and unknown number: same status, same body, similar time.
    let mut temps = [0f64; 2];
    let mut corps = Vec::new();
    for (i, n) in [numero.as_str(), "2025-ANI-ZZZZZZ"].iter().enumerate() {
        for _ in 0..4 {
            let debut = Instant::now();
            let r = app.connexion(n, "mauvais mot de passe").await;
            temps[i] += debut.elapsed().as_secs_f64();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
            corps.push(r.text().await.unwrap());
        }
    }
    assert!(
        corps.windows(2).all(|w| w[0] == w[1]),
        "identical bodies: {corps:?}"
    );
    let ratio = temps[1] / temps[0];
    assert!(
        (0.33..3.0).contains(&ratio),
        "unknown n° answered in {:.0}% of the time of a known one",
        ratio * 100.0
    );
    // 6 more failures on the known number make 10; the 11th attempt is 429, even with the
    // right password.
    for _ in 0..6 {
        assert_eq!(
            app.connexion(&numero, "mauvais mot de passe")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let r = app.connexion(&numero, MDP).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let attente: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&attente), "{attente}");
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "trop_de_tentatives"
    );
    // Unknown numbers are throttled alike (4 failures so far + 6 = 10).
    for _ in 0..6 {
        app.connexion("2025-ANI-ZZZZZZ", "x").await;
    }
    assert_eq!(
        app.connexion("2025-ANI-ZZZZZZ", "x").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // 15 minutes later the candidate gets in, and success resets the count.
    app.horloge.regler(t("2025-04-01T10:15:01+02:00"));
    assert_eq!(app.connexion(&numero, MDP).await.status(), StatusCode::OK);
    for _ in 0..9 {
        app.connexion(&numero, "mauvais").await;
    }
    assert_eq!(app.connexion(&numero, MDP).await.status(), StatusCode::OK);
}

/// Sends `entetes` then up to `total` body bytes while reading the answer, like a browser
/// that keeps uploading. Returns the status line's code, the answer's body and how many body
/// bytes were sent before the answer came.
async fn envoyer_en_flux(
    adresse: &str,
    entetes: String,
    debut: Vec<u8>,
    total: usize,
    chunked: bool,
) -> (u16, String, usize) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let flux = tokio::net::TcpStream::connect(adresse).await.unwrap();
    let (mut lecture, mut ecriture) = flux.into_split();
    let envoye = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let e2 = envoye.clone();
    let ecrivain = tokio::spawn(async move {
        if ecriture.write_all(entetes.as_bytes()).await.is_err() {
            return;
        }
        let bloc = vec![b'A'; 64 * 1024];
        let mut premier = Some(debut);
        while e2.load(std::sync::atomic::Ordering::SeqCst) < total {
            let morceau = premier.take().unwrap_or_else(|| bloc.clone());
            let r = if chunked {
                let mut c = format!("{:x}\r\n", morceau.len()).into_bytes();
                c.extend_from_slice(&morceau);
                c.extend_from_slice(b"\r\n");
                ecriture.write_all(&c).await
            } else {
                ecriture.write_all(&morceau).await
            };
            if r.is_err() {
                return;
            }
            e2.fetch_add(morceau.len(), std::sync::atomic::Ordering::SeqCst);
        }
    });
    let mut reponse = Vec::new();
    let mut tampon = [0u8; 4096];
    loop {
        match lecture.read(&mut tampon).await {
            Ok(0) | Err(_) => break,
            Ok(n) => reponse.extend_from_slice(&tampon[..n]),
        }
        let texte = String::from_utf8_lossy(&reponse);
        if let Some((tete, corps)) = texte.split_once("\r\n\r\n") {
            let longueur = tete.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")
                    .map(|v| v.trim().parse::<usize>().unwrap())
            });
            if longueur.is_some_and(|n| corps.len() >= n) {
                break;
            }
        }
    }
    let au_moment = envoye.load(std::sync::atomic::Ordering::SeqCst);
    ecrivain.abort();
    let texte = String::from_utf8_lossy(&reponse).into_owned();
    let code = texte
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let corps = texte
        .split_once("\r\n\r\n")
        .map(|(_, c)| c.to_owned())
        .unwrap_or_default();
    (code, corps, au_moment)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn televersement_trop_gros_refuse_en_flux() {
    let app = spawn_app().await;
    let numero = app.preinscrire("externe", &[]).await;
    let jeton = app.jeton(&numero).await;
    let adresse = app
        .url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    // Large enough that the loopback's buffers (several MiB each way, beyond the 10 MiB the
    // server reads) stay well under half of it.
    let total = 64 << 20;
    for chunked in [false, true] {
        // A 64 MiB upload to a piece limited to 10 MiB, announced or streamed: refused with
        // the API's 413 long before the whole body is sent.
        let debut = b"--X\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"gros.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n".to_vec();
        let longueur = if chunked {
            "Transfer-Encoding: chunked".to_owned()
        } else {
            format!("Content-Length: {total}")
        };
        let entetes = format!(
            "POST /api/v1/dossier/pieces/piece-identite HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {jeton}\r\nContent-Type: multipart/form-data; boundary=X\r\n{longueur}\r\n\r\n"
        );
        let (code, corps, envoye) = envoyer_en_flux(&adresse, entetes, debut, total, chunked).await;
        assert_eq!(code, 413, "chunked={chunked}: {corps}");
        assert_eq!(
            serde_json::from_str::<Value>(&corps).unwrap()["code"],
            "fichier_trop_volumineux"
        );
        assert!(
            envoye < total / 2,
            "chunked={chunked}: answered after {envoye} of {total} bytes"
        );
        eprintln!(
            "upload of 64 MiB (chunked={chunked}): 413 after {} MiB sent",
            envoye >> 20
        );
    }
    // A large body on another route hits the general limit, with the API's error body.
    let entetes = format!(
        "POST /api/v1/connexion HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {total}\r\n\r\n"
    );
    let (code, corps, envoye) =
        envoyer_en_flux(&adresse, entetes, b"{".to_vec(), total, false).await;
    assert_eq!(code, 413, "{corps}");
    assert_eq!(
        serde_json::from_str::<Value>(&corps).unwrap()["code"],
        "corps_trop_volumineux"
    );
    assert!(envoye < total / 2);
    // Nothing was recorded.
    let v: Value = app.get(&jeton, "/dossier").await.json().await.unwrap();
    assert_eq!(v["pieces"][0]["fichiers"].as_array().unwrap().len(), 0);
}

/// RFC 9110: the authentication scheme is case-insensitive; an empty token is no token.
#[tokio::test]
async fn schema_bearer_quelle_que_soit_la_casse() {
    let app = spawn_app().await;
    let numero = app.preinscrire("externe", &[]).await;
    let jeton = app.jeton(&numero).await;
    for entete in [
        format!("Bearer {jeton}"),
        format!("bearer {jeton}"),
        format!("BEARER  {jeton} "),
    ] {
        let r = app
            .client
            .get(format!("{}/dossier", app.url))
            .header("authorization", &entete)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{entete}");
    }
    for entete in ["Bearer ", "Basic abc", &format!("Token {jeton}")] {
        let r = app
            .client
            .get(format!("{}/dossier", app.url))
            .header("authorization", entete)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{entete}");
    }
}

/// Finding 1 and 2 of the outside test: 29 wrong passwords sent together used to get 29
/// verifications (and a journal saying 10); 10 failures from one address used to lock the
/// candidate out everywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limitation_atomique_et_par_adresse() {
    let app = spawn_app_avec(depot_http::Config {
        proxys_de_confiance: vec!["127.0.0.1/32".parse().unwrap()],
        ..Default::default()
    })
    .await;
    let numero = app.preinscrire("externe", &[]).await;
    let depuis = |ip: &'static str, mdp: &'static str| {
        let (c, url, numero) = (app.client.clone(), app.url.clone(), numero.clone());
        async move {
            c.post(format!("{url}/connexion"))
                .header("x-forwarded-for", ip)
                .json(&json!({"numero": numero, "mot_de_passe": mdp}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let ensemble: Vec<_> = (0..29)
        .map(|_| tokio::spawn(depuis("203.0.113.66", "mauvais mot de passe")))
        .collect();
    let mut statuts = Vec::new();
    for t in ensemble {
        statuts.push(t.await.unwrap());
    }
    let refuses = statuts
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let limites = statuts
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((refuses, limites), (10, 19), "{statuts:?}");
    // The attacker's address is held back, even with the right password…
    assert_eq!(
        depuis("203.0.113.66", MDP).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // …the candidate, elsewhere, gets in, and the journal holds the true count.
    assert_eq!(depuis("198.51.100.20", MDP).await, StatusCode::OK);
    let journal = app.journal(&numero).await;
    let connexions: Vec<u64> = journal
        .iter()
        .filter(|e| e["quoi"]["type"] == "connexion")
        .map(|e| e["quoi"]["echecs_avant"].as_u64().unwrap())
        .collect();
    assert_eq!(connexions.first(), Some(&10), "{connexions:?}");
    // Without a trusted proxy the header is the client's word: ignored.
    let sans = spawn_app().await;
    let n = sans.preinscrire("externe", &[]).await;
    for i in 0..10 {
        let r = sans
            .client
            .post(format!("{}/connexion", sans.url))
            .header("x-forwarded-for", format!("192.0.2.{i}"))
            .json(&json!({"numero": n, "mot_de_passe": "mauvais"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        sans.connexion(&n, MDP).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Finding 12 of the outside test: 8,300 upload/delete cycles on one dossier made each
/// upload 25 times slower. File operations are capped per dossier and per hour, with a
/// French 429; a refused file does not count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_de_fichiers_plafonnees() {
    let app = spawn_app_avec(depot_http::Config {
        operations_par_heure: 3,
        ..Default::default()
    })
    .await;
    let numero = app.preinscrire("externe", &[]).await;
    let j = app.jeton(&numero).await;
    let (s, v) = app
        .deposer(&j, "piece-identite", "image.pdf", png_minimal())
        .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{v}");
    let (s, v) = app
        .deposer(&j, "piece-identite", "a.pdf", pdf_minimal())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["fichier"]["id"].as_str().unwrap().to_owned();
    let r = app
        .client
        .delete(format!("{}/dossier/fichiers/{id}", app.url))
        .bearer_auth(&j)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (s, _) = app
        .deposer(&j, "piece-identite", "b.pdf", pdf_minimal())
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = app
        .deposer(&j, "piece-identite", "c.pdf", pdf_minimal())
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert_eq!(v["code"], "trop_d_operations");
    // An hour later the candidate goes on.
    app.horloge.regler(t("2025-04-01T11:00:01+02:00"));
    let j = app.jeton(&numero).await;
    let (s, _) = app
        .deposer(&j, "piece-identite", "c.pdf", pdf_minimal())
        .await;
    assert_eq!(s, StatusCode::CREATED);
}
