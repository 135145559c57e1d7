//! A server dies on deadline night: the rush (300 candidates, 3 files each) against three
//! depot-server processes on PostgreSQL + moto, one of them killed with SIGKILL in the
//! middle of the uploads and restarted on its address. The client sends what failed to
//! another instance; at the end nothing failed that was retried, nothing acknowledged is
//! lost, and every closure's récépissé verifies with the published keys.
//!
//! Needs `DEPOT_TEST_POSTGRES` and `DEPOT_TEST_S3_MOTO` (set by `scripts/test.sh`); without
//! them the test says it is skipped, except under `CI=true`, where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

mod commun;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn port_libre() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// How to start instance `i` (again).
#[derive(Clone)]
struct Instance {
    racine: std::path::PathBuf,
    s3: String,
    schema: String,
    pg: String,
}

impl Instance {
    async fn demarrer(&self, i: usize, port: u16) -> commun::Serveur {
        let ecoute = format!("127.0.0.1:{port}");
        let args = [
            "--listen",
            ecoute.as_str(),
            "--stockage-dossiers",
            "postgres",
            "--postgres-schema",
            self.schema.as_str(),
            "--stockage-pieces",
            "s3",
            "--s3",
            self.s3.as_str(),
            "--instances-multiples",
            "--preinscriptions-par-heure",
            "0",
        ];
        let envs = [
            ("DEPOT_POSTGRES_URL", self.pg.as_str()),
            ("DEPOT_S3_SECRET_ACCESS_KEY", "test"),
        ];
        commun::lancer(&self.racine.join(format!("data-{i}")), &args, &envs)
            .await
            .unwrap_or_else(|(s, j)| panic!("instance {i}: {s}\n{j}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn une_instance_tuee_pendant_les_depots_personne_n_est_perdu() {
    let (Some(pg), Some(moto)) = (
        commun::requis("DEPOT_TEST_POSTGRES"),
        commun::requis("DEPOT_TEST_S3_MOTO"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let unique = commun::unique();
    let s3 = commun::config_s3_moto(dir.path(), &moto, &format!("panne-{unique}"));
    let schema = format!("panne_{unique}");
    let ports: Vec<u16> = (0..3).map(|_| port_libre()).collect();
    let instance = Instance {
        racine: dir.path().to_path_buf(),
        s3,
        schema,
        pg,
    };
    let mut serveurs = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        serveurs.push(instance.demarrer(i, *port).await);
    }
    let urls: Vec<String> = serveurs.iter().map(|s| s.url.clone()).collect();

    // In the middle of the uploads (450 of 900 acknowledged), B dies and comes back.
    let progression = Arc::new(AtomicUsize::new(0));
    let victime = serveurs.remove(1);
    let suivi = progression.clone();
    let (relance, port_b) = (instance.clone(), ports[1]);
    let fini = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let fin = fini.clone();
    let panne = tokio::spawn(async move {
        while suivi.load(Ordering::Relaxed) < 450 {
            if fin.load(Ordering::Relaxed) {
                // The rush ended before half of its uploads were acknowledged.
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut victime = victime;
        let pid = victime.enfant.id().unwrap();
        assert!(
            std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()
                .unwrap()
                .success()
        );
        let statut = victime.enfant.wait().await.unwrap();
        eprintln!(
            "instance B killed at {} uploads: {statut}",
            suivi.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        let revenue = relance.demarrer(1, port_b).await;
        eprintln!(
            "instance B back at {} uploads",
            suivi.load(Ordering::Relaxed)
        );
        Some(revenue)
    });

    let rapport = depot_bench::rush::executer(depot_bench::rush::Options {
        candidats: 300,
        fichiers: 3,
        taille_ko: 100,
        concurrence: 16,
        urls,
        pid: None,
        binaire_serveur: None,
        repertoire: dir.path().join("rush"),
        progression: Some(progression.clone()),
    })
    .await
    .unwrap();
    fini.store(true, Ordering::Relaxed);
    println!("{}", rapport.tableau());
    println!("{}", rapport.ligne(300));
    let revenue = panne.await.unwrap();
    assert!(
        revenue.is_some(),
        "B was killed in the middle of the uploads"
    );
    assert_eq!(rapport.erreurs(), 0, "{:?}", rapport.exemples_erreurs);
    assert_eq!(
        rapport.perdus, 0,
        "acknowledged and lost, or a récépissé that fails"
    );
    assert!(
        rapport.reessais > 0,
        "the kill was felt: some requests went to another instance"
    );
    assert_eq!(progression.load(Ordering::Relaxed), 900);
    drop(revenue);
}
