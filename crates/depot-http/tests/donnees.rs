//! « Télécharger mes données » (RGPD, droit d'accès): the candidate's ZIP holds their
//! identity, declarations, files (byte for byte), journal and récépissé — and nothing of
//! another dossier. The same ZIP from the API and from the page.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

mod commun;

use std::io::Read;
use std::sync::Arc;

use depot_core::exemples::{jpeg_minimal, pdf_image, pdf_minimal};
use depot_core::testkit::concours_du_seed;
use depot_core::{DemandePreinscription, Espace, HorlogeFixe, MotDePasse, Ports, Voie};

const MDP: &str = "lune verte sur le toit de Laval";

fn entrees(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut a = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    (0..a.len())
        .map(|i| {
            let mut f = a.by_index(i).unwrap();
            let mut o = Vec::new();
            f.read_to_end(&mut o).unwrap();
            (f.name().unwrap().to_string(), o)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mes_donnees_et_rien_d_autre() {
    let horloge = Arc::new(HorlogeFixe::new(
        "2025-04-01T10:00:00+02:00".parse().unwrap(),
    ));
    let espace = Arc::new(
        Espace::new(
            vec![concours_du_seed()],
            Ports::en_memoire().avec_horloge(horloge.clone()),
        )
        .unwrap(),
    );
    let inscrire = |nom: &'static str, email: &'static str| {
        let espace = espace.clone();
        async move {
            espace
                .preinscrire(
                    None,
                    DemandePreinscription {
                        voie: Voie::Externe,
                        nom: nom.into(),
                        prenom: "Camille".into(),
                        email: email.into(),
                        declarations: vec!["demande_amenagement".into()],
                        mot_de_passe: MotDePasse::from(MDP),
                    },
                )
                .await
                .unwrap()
        }
    };
    let a = inscrire("Durand", "camille.durand@exemple.fr").await;
    let b = inscrire("Martin", "camille.martin@exemple.fr").await;
    horloge.regler("2025-04-10T10:00:00+02:00".parse().unwrap());
    let (cni, photo) = (pdf_image(30_000), jpeg_minimal());
    espace
        .deposer(&a, "piece-identite", "CNI.pdf", cni.clone().into())
        .await
        .unwrap();
    espace
        .deposer(&a, "piece-identite", "photo.jpg", photo.clone().into())
        .await
        .unwrap();
    // The declaration asks for a medical certificate.
    espace
        .deposer(
            &a,
            "certificat-medical",
            "certificat.pdf",
            pdf_minimal().into(),
        )
        .await
        .unwrap();
    espace.cloturer(&a).await.unwrap();
    let autre = pdf_image(12_345);
    espace
        .deposer(&b, "piece-identite", "autre.pdf", autre.clone().into())
        .await
        .unwrap();

    let base = commun::servir(depot_http::router(espace.clone(), Default::default())).await;
    let client = depot_client::Client::new(&base).unwrap();
    let session = client.connecter(a.as_str(), MDP).await.unwrap();
    let r = reqwest::Client::new()
        .get(format!("{base}/api/v1/dossier/export"))
        .bearer_auth(session.jeton())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("mes-donnees-{a}.zip"))
    );
    let zip = r.bytes().await.unwrap().to_vec();
    let e = entrees(&zip);
    let mut noms: Vec<&str> = e.iter().map(|(n, _)| n.as_str()).collect();
    noms.sort_unstable();
    assert_eq!(
        noms,
        [
            "donnees.json",
            "fichiers/certificat-medical-1.pdf",
            "fichiers/piece-identite-1.pdf",
            "fichiers/piece-identite-2.jpg",
            "journal.json",
            "recepisse.json",
            "recepisse.pdf",
        ]
    );
    let contenu = |nom: &str| e.iter().find(|(n, _)| n == nom).unwrap().1.clone();
    assert_eq!(
        contenu("fichiers/piece-identite-1.pdf"),
        cni,
        "byte for byte"
    );
    assert_eq!(contenu("fichiers/piece-identite-2.jpg"), photo);
    let d: serde_json::Value = serde_json::from_slice(&contenu("donnees.json")).unwrap();
    assert_eq!(d["identite"]["email"], "camille.durand@exemple.fr");
    assert_eq!(d["declarations"][0], "demande_amenagement");
    assert_eq!(d["dossier"]["numero"], a.as_str());
    assert_eq!(d["dossier"]["etat"], "cloture");
    let journal: serde_json::Value = serde_json::from_slice(&contenu("journal.json")).unwrap();
    assert!(journal.as_array().unwrap().len() >= 4, "{journal}");
    // The récépissé is the one the API serves.
    let recepisse = reqwest::Client::new()
        .get(format!("{base}/api/v1/dossier/recepisse"))
        .bearer_auth(session.jeton())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(contenu("recepisse.json"), recepisse.to_vec());
    // Nothing of the other dossier, anywhere.
    for (nom, octets) in &e {
        for aiguille in [
            b.as_str().as_bytes(),
            b"camille.martin@exemple.fr",
            b"autre.pdf",
        ] {
            assert!(
                !octets.windows(aiguille.len()).any(|w| w == aiguille),
                "{nom} holds {}",
                String::from_utf8_lossy(aiguille)
            );
        }
        assert_ne!(octets, &autre, "{nom} is the other dossier's file");
    }

    // The page's link gives the same entries to the logged-in candidate only.
    let c = commun::client_sans_redirection();
    let r = c
        .get(format!("{base}/dossier/export"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "no session: to the login");
    let sans = reqwest::Client::new()
        .get(format!("{base}/api/v1/dossier/export"))
        .send()
        .await
        .unwrap();
    assert_eq!(sans.status(), 401);
}
