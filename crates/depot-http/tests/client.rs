//! The seed procedure through depot-client, the typed Rust client vendors use, against the
//! real router: every answer deserialises into the client's types (the wire contract), and
//! every refusal arrives as the server's code and sentence.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

mod commun;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use depot_client::{Client, Erreur, Preinscription};
use depot_core::exemples::{jpeg_minimal, pdf_minimal, png_minimal};
use depot_core::testkit::concours_du_seed;
use depot_core::{Espace, HorlogeFixe, Ports};

const MDP: &str = "lune verte sur le toit de Laval";

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn code(e: Erreur) -> String {
    match e {
        Erreur::Api { code, message, .. } => {
            assert!(message.ends_with('.'), "a French sentence: {message}");
            code
        }
        autre => panic!("expected a refusal of the API, got {autre}"),
    }
}

#[tokio::test]
async fn la_procedure_du_seed_par_le_client() {
    let horloge = Arc::new(HorlogeFixe::new(t("2025-04-01T10:00:00+02:00")));
    let ports = Ports::en_memoire().avec_horloge(horloge.clone());
    let espace = Arc::new(Espace::new(vec![concours_du_seed()], ports).unwrap());
    let racine = commun::servir(depot_http::router(espace, depot_http::Config::default())).await;
    let client = Client::new(&racine).unwrap();

    // 1) Pré-inscription, then login with the n° and the password.
    let demande = Preinscription {
        concours: None,
        voie: "externe".into(),
        nom: "Durand".into(),
        prenom: "Camille".into(),
        email: "camille@exemple.fr".into(),
        declarations: vec![],
        mot_de_passe: MDP.into(),
    };
    let numero = client.preinscrire(&demande).await.unwrap();
    assert!(
        !format!("{demande:?}").contains(MDP),
        "no password in Debug"
    );
    let e = client
        .connecter(&numero, "pas le bon mot de passe")
        .await
        .unwrap_err();
    assert_eq!(code(e), "identifiants_invalides");
    let session = client.connecter(&numero, MDP).await.unwrap();
    assert!(session.expire_le().ends_with("+02:00"));

    // 2) Files: PDF and JPEG accepted, a PNG refused; the eye serves the same bytes; the bin.
    let dossier = session.dossier().await.unwrap();
    assert_eq!(dossier.numero, numero);
    assert_eq!(dossier.etat, "ouvert");
    assert!(!dossier.cloturable);
    let refus = session.cloturer().await.unwrap_err();
    assert_eq!(code(refus), "pieces_manquantes");
    let e = session
        .deposer("piece-identite", "scan.png", png_minimal())
        .await
        .unwrap_err();
    assert_eq!(code(e), "format_refuse");
    let e = session
        .deposer("pas-une-piece", "a.pdf", pdf_minimal())
        .await
        .unwrap_err();
    assert_eq!(code(e), "piece_inconnue");
    let cni = session
        .deposer("piece-identite", "CNI.pdf", pdf_minimal())
        .await
        .unwrap();
    assert_eq!(cni.format, "pdf");
    assert_eq!(session.voir(&cni.id).await.unwrap(), pdf_minimal());
    let photo = session
        .deposer("piece-identite", "photo.jpg", jpeg_minimal())
        .await
        .unwrap();
    session.supprimer(&photo.id).await.unwrap();
    assert_eq!(
        code(session.voir(&photo.id).await.unwrap_err()),
        "fichier_inconnu"
    );
    assert_eq!(
        code(session.voir("../cloture").await.unwrap_err()),
        "fichier_inconnu"
    );
    for piece in session.dossier().await.unwrap().pieces_manquantes {
        session
            .deposer(&piece, "piece.pdf", pdf_minimal())
            .await
            .unwrap();
    }

    // 3) « Clôturer mon inscription », one second before midnight, Paris time.
    assert_eq!(
        code(session.recepisse().await.unwrap_err()),
        "pas_de_recepisse"
    );
    horloge.regler(t("2025-04-17T23:59:59+02:00"));
    // Sixteen days later the session has expired: the candidate logs in again.
    assert_eq!(
        code(session.dossier().await.unwrap_err()),
        "non_authentifie"
    );
    let session = client.connecter(&numero, MDP).await.unwrap();
    let cloture = session.cloturer().await.unwrap();
    assert_eq!(cloture.etat, "cloture");
    assert_eq!(
        cloture.message,
        "Votre dossier est clôturé, il est en cours d'instruction."
    );
    let recepisse = session.recepisse().await.unwrap();
    let v: serde_json::Value = serde_json::from_slice(&recepisse).unwrap();
    assert_eq!(v["contenu"]["numero"], numero.as_str());
    let dossier = session.dossier().await.unwrap();
    assert_eq!(dossier.etat, "cloture");
    assert!(dossier.fichiers().any(|f| f.sha256 == cni.sha256));

    // Logged out: the token no longer works.
    let copie = session.clone();
    session.deconnecter().await.unwrap();
    assert_eq!(code(copie.dossier().await.unwrap_err()), "non_authentifie");
}
