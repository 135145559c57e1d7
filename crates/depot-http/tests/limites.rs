//! Finding 3 of the outside test: connections never timed out (a half-sent request line
//! stayed open forever; 200 stalled sockets held 300 file descriptors). Served by
//! `depot_http::serveur::servir` with short limits, a slow client is disconnected, a
//! stalled upload is aborted with nothing stored, idle connections beyond the cap wait, and
//! the server keeps serving everyone else.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::sync::Arc;
use std::time::{Duration, Instant};

use depot_core::testkit::{concours_du_seed, pendant_preinscription};
use depot_core::{DemandePreinscription, Espace, HorlogeFixe, MotDePasse, Ports, Voie};
use depot_http::serveur::{Limites, servir};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MDP: &str = "lune verte sur le toit de Laval";

async fn demarrer(limites: Limites) -> (String, Arc<Espace>) {
    let (adresse, espace, _) = demarrer_avec_arret(limites, std::future::pending()).await;
    (adresse, espace)
}

async fn demarrer_avec_arret(
    limites: Limites,
    arret: impl std::future::Future<Output = ()> + Send + 'static,
) -> (String, Arc<Espace>, tokio::task::JoinHandle<()>) {
    let espace = Arc::new(
        Espace::new(
            vec![concours_du_seed()],
            Ports::en_memoire().avec_horloge(Arc::new(HorlogeFixe::new(pendant_preinscription()))),
        )
        .unwrap(),
    );
    let app = depot_http::router(espace.clone(), Default::default());
    let ecoute = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let adresse = ecoute.local_addr().unwrap().to_string();
    let serveur = tokio::spawn(servir(ecoute, app, limites, arret));
    (adresse, espace, serveur)
}

async fn candidat_connecte(
    adresse: &str,
    espace: &Espace,
) -> (depot_core::NumeroDossier, depot_client::Session) {
    let numero = espace
        .preinscrire(
            None,
            DemandePreinscription {
                voie: Voie::Externe,
                nom: "D".into(),
                prenom: "C".into(),
                email: "c@exemple.fr".into(),
                declarations: vec![],
                mot_de_passe: MotDePasse::from(MDP),
            },
        )
        .await
        .unwrap();
    let session = depot_client::Client::new(&format!("http://{adresse}"))
        .unwrap()
        .connecter(numero.as_str(), MDP)
        .await
        .unwrap();
    (numero, session)
}

/// An upload of `pdf` as raw HTTP: the head (with the multipart part's head) and the
/// closing boundary, to send around the file's bytes.
fn envoi_brut(jeton: &str, pdf: &[u8]) -> (String, String) {
    let limite = "frontiere";
    let partie = format!(
        "--{limite}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"scan.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    );
    let fin = format!("\r\n--{limite}--\r\n");
    let longueur = partie.len() + pdf.len() + fin.len();
    (
        format!(
            "POST /api/v1/dossier/pieces/piece-identite HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {jeton}\r\nContent-Type: multipart/form-data; boundary={limite}\r\nContent-Length: {longueur}\r\nConnection: close\r\n\r\n{partie}"
        ),
        fin,
    )
}

/// SIGTERM on deadline night: an upload in flight finishes and is stored; one that would
/// never finish is abandoned after the bound (nothing of it stored); the server exits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l_arret_laisse_finir_les_envois_dans_un_delai_borne() {
    let (declencher, signal) = tokio::sync::oneshot::channel::<()>();
    let (adresse, espace, serveur) = demarrer_avec_arret(
        Limites {
            inactivite_corps: Duration::from_secs(10),
            arret_max: Duration::from_secs(2),
            ..courtes()
        },
        async {
            let _ = signal.await;
        },
    )
    .await;
    let (numero, session) = candidat_connecte(&adresse, &espace).await;
    let pdf = depot_core::exemples::pdf_image(300_000);
    let (tete, fin) = envoi_brut(session.jeton(), &pdf);
    // Upload A: half sent before the stop, the rest after.
    let mut a = TcpStream::connect(&adresse).await.unwrap();
    a.write_all(tete.as_bytes()).await.unwrap();
    a.write_all(&pdf[..pdf.len() / 2]).await.unwrap();
    // Upload B: a trickle that would outlast any bound.
    let mut b = TcpStream::connect(&adresse).await.unwrap();
    b.write_all(tete.as_bytes()).await.unwrap();
    b.write_all(&pdf[..1000]).await.unwrap();
    let goutte = tokio::spawn(async move {
        for octet in &pdf[1000..] {
            if b.write_all(&[*octet]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let debut = Instant::now();
    declencher.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pdf = depot_core::exemples::pdf_image(300_000);
    a.write_all(&pdf[pdf.len() / 2..]).await.unwrap();
    a.write_all(fin.as_bytes()).await.unwrap();
    let reponse = lire_jusqu_a_fermeture(&mut a, Duration::from_secs(10))
        .await
        .unwrap();
    let texte = String::from_utf8_lossy(&reponse);
    assert!(texte.starts_with("HTTP/1.1 201"), "{texte}");
    // The server exits once the bound has passed, B abandoned.
    tokio::time::timeout(Duration::from_secs(20), serveur)
        .await
        .expect("servir returns after the bound")
        .unwrap();
    let duree = debut.elapsed();
    assert!(
        duree >= Duration::from_secs(2),
        "B was given the bound: {duree:?}"
    );
    goutte.abort();
    let fichiers = espace
        .consulter(&numero)
        .await
        .unwrap()
        .dossier
        .fichiers()
        .len();
    assert_eq!(fichiers, 1, "A stored, nothing of B");
}

/// Reads until the server closes the connection (or `max` passes): the bytes read.
async fn lire_jusqu_a_fermeture(tcp: &mut TcpStream, max: Duration) -> Option<Vec<u8>> {
    let mut tout = Vec::new();
    let mut tampon = [0u8; 4096];
    let fin = tokio::time::timeout(max, async {
        loop {
            match tcp.read(&mut tampon).await {
                Ok(0) | Err(_) => break,
                Ok(n) => tout.extend_from_slice(&tampon[..n]),
            }
        }
    })
    .await;
    fin.ok().map(|()| tout)
}

async fn concours_repond(adresse: &str) {
    let r = reqwest::get(format!("http://{adresse}/api/v1/concours"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

fn courtes() -> Limites {
    Limites {
        lecture_entetes: Duration::from_millis(800),
        inactivite_corps: Duration::from_millis(800),
        connexions_max: 8,
        arret_max: Duration::from_secs(30),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn un_client_trop_lent_est_deconnecte() {
    let (adresse, _) = demarrer(courtes()).await;
    let mut lent = TcpStream::connect(&adresse).await.unwrap();
    lent.write_all(b"GET /api/v1/concours HTTP/1.1\r\nHost: x")
        .await
        .unwrap();
    // Others are served meanwhile.
    concours_repond(&adresse).await;
    let debut = Instant::now();
    let lu = lire_jusqu_a_fermeture(&mut lent, Duration::from_secs(10)).await;
    assert!(lu.is_some(), "a half-sent head is disconnected");
    assert!(debut.elapsed() < Duration::from_secs(5));
    // An idle kept-alive connection is closed too.
    let mut oisif = TcpStream::connect(&adresse).await.unwrap();
    oisif
        .write_all(b"GET /api/v1/concours HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let lu = lire_jusqu_a_fermeture(&mut oisif, Duration::from_secs(10))
        .await
        .expect("closed after the idle time");
    assert!(lu.starts_with(b"HTTP/1.1 200"), "answered first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn un_envoi_qui_s_arrete_est_abandonne_sans_rien_garder() {
    let (adresse, espace) = demarrer(courtes()).await;
    let (_, session) = candidat_connecte(&adresse, &espace).await;
    let pdf = depot_core::exemples::pdf_image(400_000);
    let (tete, _) = envoi_brut(session.jeton(), &pdf);
    let mut tcp = TcpStream::connect(&adresse).await.unwrap();
    tcp.write_all(tete.as_bytes()).await.unwrap();
    tcp.write_all(&pdf[..pdf.len() / 2]).await.unwrap();
    // Then nothing: the upload is abandoned within the idle limit.
    let lu = lire_jusqu_a_fermeture(&mut tcp, Duration::from_secs(10))
        .await
        .expect("the server ends the request");
    let texte = String::from_utf8_lossy(&lu);
    assert!(
        texte.is_empty() || texte.starts_with("HTTP/1.1 400"),
        "{texte}"
    );
    let d = session.dossier().await.unwrap();
    assert_eq!(d.fichiers().count(), 0, "nothing stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn au_dela_du_plafond_les_connexions_attendent() {
    let (adresse, _) = demarrer(Limites {
        connexions_max: 3,
        ..courtes()
    })
    .await;
    // Three silent connections take every place…
    let mut muettes = Vec::new();
    for _ in 0..3 {
        muettes.push(TcpStream::connect(&adresse).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // …a fourth client is served once the silent ones are dropped for their slowness.
    let debut = Instant::now();
    concours_repond(&adresse).await;
    assert!(
        debut.elapsed() >= Duration::from_millis(500),
        "it waited for a place: {:?}",
        debut.elapsed()
    );
    for mut m in muettes {
        assert!(
            lire_jusqu_a_fermeture(&mut m, Duration::from_secs(5))
                .await
                .is_some()
        );
    }
}
