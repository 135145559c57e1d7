//! The integrators' examples, run: the prefixed mount answers under `/concours` with
//! prefixed links and cookies; the SQLite store passes depot-core's conformance suite and
//! carries the whole procedure.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::net::SocketAddr;
use std::sync::Arc;

use depot_core::testkit;
use depot_core::{HorlogeFixe, Ports};
use depot_exemples::{monter_sous_prefixe, store_sqlite::StoreSqlite};
use serde_json::{Value, json};

#[tokio::test]
async fn sqlite_passe_la_suite_de_conformite() {
    let s = StoreSqlite::open(":memory:").unwrap();
    testkit::conformite_dossiers(&s).await;
    testkit::conformite_pieces(&s).await;
    testkit::conformite_identifiants(&s).await;
    let r = testkit::balayage_pannes(Arc::new(s.clone()), Arc::new(s)).await;
    assert!(r.depot >= 3, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depot_sous_le_prefixe_concours() {
    let base = StoreSqlite::open(":memory:").unwrap();
    let ports = Ports::avec_stores(
        Arc::new(base.clone()),
        Arc::new(base.clone()),
        Arc::new(base),
    )
    .avec_horloge(Arc::new(
        HorlogeFixe::new(testkit::pendant_preinscription()),
    ));
    let app = monter_sous_prefixe::application(testkit::concours_du_seed(), ports).unwrap();
    let ecoute = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", ecoute.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            ecoute,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // The host application keeps its own routes.
    let accueil = client
        .get(format!("{base_url}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(accueil.contains("Centre de gestion"));
    // depot's pages link and set cookies under the prefix.
    let r = client
        .get(format!("{base_url}/concours/connexion"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Path=/concours")
    );
    let page = r.text().await.unwrap();
    assert!(page.contains("action=\"/concours/connexion\""));
    assert!(page.contains("href=\"/concours/static/depot.css\""));
    let r = client
        .get(format!("{base_url}/concours"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/concours/connexion");
    // The API works under the prefix, on SQLite.
    let r = client
        .post(format!("{base_url}/concours/api/v1/preinscriptions"))
        .json(&json!({"voie": "externe", "nom": "Durand", "prenom": "Camille", "email": "c@exemple.fr", "mot_de_passe": "lune verte sur le toit de Laval"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let numero = r.json::<Value>().await.unwrap()["numero"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = client
        .post(format!("{base_url}/concours/api/v1/connexion"))
        .json(&json!({"numero": numero, "mot_de_passe": "lune verte sur le toit de Laval"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
