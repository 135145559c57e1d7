//! The export of 500 dossiers streams: the process's peak memory grows by far less than the
//! size of the ZIP. Alone in its test binary so that nothing else moves the peak.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

mod commun;

use std::sync::Arc;

use bytes::Bytes;
use depot_core::memoire::MemoireIdentifiants;
use depot_core::testkit::{concours_du_seed, pendant_preinscription};
use depot_core::{
    Dossier, DossierStore, Espace, HorlogeFixe, Identite, NumeroDossier, Ports, Role, Sha256,
    SystemRandom, Voie,
};
use depot_http::gestion::CompteGestionnaire;
use futures_util::StreamExt;

fn pic_mo() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = s
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    kb / 1024.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_de_500_dossiers_en_memoire_bornee() {
    let dir = tempfile::tempdir().unwrap();
    let store = depot_fs::FsStore::open(dir.path()).unwrap();
    let h = Arc::new(HorlogeFixe::new(pendant_preinscription()));
    let ports = Ports::avec_stores(
        Arc::new(store.clone()),
        Arc::new(store.clone()),
        Arc::new(MemoireIdentifiants::new()),
    )
    .avec_horloge(h);
    let c = concours_du_seed();
    let espace = Arc::new(Espace::new(vec![c.clone()], ports).unwrap());
    let scan = Bytes::from(depot_core::exemples::pdf_image(100_000));
    for _ in 0..500 {
        let n = NumeroDossier::generer(c.session, &c.code, &SystemRandom);
        let (d, _) = Dossier::preinscrire(
            n.clone(),
            &c,
            Voie::Externe,
            Identite::parse("Durand", "Camille", "c@exemple.fr").unwrap(),
            &[],
            pendant_preinscription(),
        )
        .unwrap();
        store.create(&d).await.unwrap();
        espace
            .deposer(&n, "piece-identite", "scan.pdf", scan.clone())
            .await
            .unwrap();
    }
    let jeton = "jeton-export-0123456789abcdef0123456789abcdef";
    let config = depot_http::Config {
        gestionnaires: vec![CompteGestionnaire {
            id: "export".into(),
            role: Role::Lecture,
            jeton_sha256: Sha256::de(jeton.as_bytes()),
        }],
        ..Default::default()
    };
    let url = format!(
        "{}/api/v1/gestion/export",
        commun::servir(depot_http::router(espace, config)).await
    );

    let avant = pic_mo();
    let r = reqwest::Client::new()
        .post(url)
        .bearer_auth(jeton)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut flux = r.bytes_stream();
    let mut total = 0usize;
    while let Some(m) = flux.next().await {
        total += m.unwrap().len();
    }
    let apres = pic_mo();
    let croissance = apres - avant;
    eprintln!(
        "export of 500 dossiers: {:.1} MB streamed; peak RSS {avant:.1} MB before, {apres:.1} MB after (+{croissance:.1} MB)",
        total as f64 / 1_048_576.0
    );
    assert!(
        total > 50_000_000,
        "the ZIP holds every file ({total} bytes)"
    );
    assert!(
        croissance < 16.0,
        "peak memory grew by {croissance:.1} MB for a {:.0} MB export",
        total as f64 / 1_048_576.0
    );
}
