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
    tokio::spawn(servir(ecoute, app, limites, std::future::pending()));
    (adresse, espace)
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
    let pdf = depot_core::exemples::pdf_image(400_000);
    let limite = "frontiere";
    let partie = format!(
        "--{limite}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"scan.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    );
    let longueur = partie.len() + pdf.len() + limite.len() + 8;
    let mut tcp = TcpStream::connect(&adresse).await.unwrap();
    let tete = format!(
        "POST /api/v1/dossier/pieces/piece-identite HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary={limite}\r\nContent-Length: {longueur}\r\n\r\n{partie}",
        session.jeton()
    );
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
