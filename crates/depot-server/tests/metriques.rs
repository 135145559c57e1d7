//! Prometheus metrics on the admin listener, never on the public port: requests by route
//! pattern and status, uploads, closures, failed logins, store latencies.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

mod commun;

use depot_core::exemples::pdf_minimal;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metriques_sur_l_ecoute_d_administration() {
    let dir = tempfile::tempdir().unwrap();
    let s = commun::lancer(
        &dir.path().join("data"),
        &["--listen-admin", "127.0.0.1:0"],
        &[],
    )
    .await
    .unwrap_or_else(|(s, j)| panic!("{s}\n{j}"));
    let admin = s
        .sortie
        .iter()
        .find_map(|l| l.strip_prefix("admin on "))
        .expect("prints the admin address")
        .to_owned();
    let (numero, mdp) = s.demo();
    let session = commun::connexion(&s.url, &numero, &mdp).await;
    let f = commun::deposer(&session, "piece-identite", "CNI.pdf", pdf_minimal())
        .await
        .unwrap();
    session.voir(&f.id).await.unwrap();
    session.cloturer().await.unwrap();
    assert!(
        depot_client::Client::new(&s.url)
            .unwrap()
            .connecter(&numero, "pas le bon mot de passe")
            .await
            .is_err()
    );
    let texte = reqwest::get(&admin).await.unwrap().text().await.unwrap();
    for attendu in [
        "depot_requetes_total{route=\"/api/v1/connexion\",methode=\"POST\",statut=\"200\"} 1",
        "depot_requetes_total{route=\"/api/v1/connexion\",methode=\"POST\",statut=\"401\"} 1",
        // A route is its pattern, never a path with an id in it.
        "route=\"/api/v1/dossier/fichiers/{id}\"",
        "depot_fichiers_enregistres_total 1",
        "depot_clotures_total 1",
        "depot_connexions_echouees_total 1",
        "depot_requete_duree_secondes_bucket{route=\"/api/v1/dossier/pieces/{code}\"",
        "depot_stockage_duree_secondes_bucket{port=\"dossiers\",operation=\"save\"",
        "depot_stockage_duree_secondes_bucket{port=\"pieces\",operation=\"put\"",
        "depot_stockage_duree_secondes_bucket{port=\"sessions\",operation=\"lire\"",
        // The candidate logged in above is still logged in; no staff member is.
        "depot_sessions_ouvertes{espace=\"candidat\"} 1",
        "depot_sessions_ouvertes{espace=\"gestion\"} 0",
    ] {
        assert!(
            texte.contains(attendu),
            "missing « {attendu} » in:\n{texte}"
        );
    }
    assert!(!texte.contains(&numero), "nothing personal in a label");
    let octets: u64 = texte
        .lines()
        .find_map(|l| l.strip_prefix("depot_octets_deposes_total "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(octets, pdf_minimal().len() as u64);
    // Not on the public port.
    let publique = reqwest::get(format!("{}/metrics", s.url)).await.unwrap();
    assert_eq!(publique.status(), 404);
}
