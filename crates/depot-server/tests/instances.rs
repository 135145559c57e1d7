//! Several depot-server instances on one PostgreSQL database (records, sessions, counts,
//! key) and one S3 bucket (moto, contents): a candidate logs in on one, uploads on another,
//! closes on the third; throttling counts across instances; the récépissé verifies with the
//! keys any instance serves. And readiness follows PostgreSQL: 503 while it is stopped, 200
//! again when it is back, without a restart of depot-server.
//!
//! Needs `DEPOT_TEST_POSTGRES`, `DEPOT_TEST_S3_MOTO` and, for the readiness test,
//! `DEPOT_TEST_POSTGRES_BIN` (all set by `scripts/test.sh`); without them the tests say
//! they are skipped, except under `CI=true`, where they fail.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

mod commun;

use std::path::Path;

use depot_core::exemples::pdf_minimal;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trois_instances_un_seul_espace() {
    let (Some(pg), Some(moto)) = (
        commun::requis("DEPOT_TEST_POSTGRES"),
        commun::requis("DEPOT_TEST_S3_MOTO"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let s3 = commun::config_s3_moto(
        dir.path(),
        &moto,
        &format!("instances-{}", commun::unique()),
    );
    let schema = format!("instances_{}", commun::unique());
    let (jeton_agent, bloc) = commun::jeton_gestionnaire("agent", "lecture");
    let comptes = dir.path().join("gestionnaires.toml");
    std::fs::write(&comptes, bloc).unwrap();
    let comptes = comptes.to_str().unwrap().to_owned();
    let args = [
        "--stockage-dossiers",
        "postgres",
        "--postgres-schema",
        &schema,
        "--stockage-pieces",
        "s3",
        "--s3",
        &s3,
        "--instances-multiples",
        "--gestionnaires",
        &comptes,
    ];
    let envs = [
        ("DEPOT_POSTGRES_URL", pg.as_str()),
        ("DEPOT_S3_SECRET_ACCESS_KEY", "test"),
    ];
    let mut serveurs = Vec::new();
    for i in 0..3 {
        let s = commun::lancer(&dir.path().join(format!("data-{i}")), &args, &envs)
            .await
            .unwrap_or_else(|(statut, journal)| panic!("instance {i}: {statut}\n{journal}"));
        serveurs.push(s);
    }
    let (a, b, c) = (&serveurs[0].url, &serveurs[1].url, &serveurs[2].url);
    let (numero, mdp) = serveurs[0].demo();

    // Log in on A, upload on B, close on C: one session, one dossier.
    let session = commun::connexion(a, &numero, &mdp).await;
    let jeton = session.jeton().to_owned();
    let sur = |url: &str| {
        depot_client::Client::new(url)
            .unwrap()
            .reprendre(jeton.clone())
    };
    let f = commun::deposer(&sur(b), "piece-identite", "CNI.pdf", pdf_minimal())
        .await
        .unwrap();
    assert_eq!(
        sur(a).voir(&f.id).await.unwrap().len(),
        pdf_minimal().len(),
        "the content uploaded through B is read through A"
    );
    let cloture = sur(c).cloturer().await.unwrap();
    assert_eq!(sur(a).dossier().await.unwrap().etat, "cloture");

    // The staff's search (SQL on the index) sees the closure made through C, from B.
    let liste: Value = reqwest::Client::new()
        .get(format!(
            "{b}/api/v1/gestion/dossiers?etat=cloture&par_page=20"
        ))
        .bearer_auth(&jeton_agent)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(liste["total"], 1, "{liste}");
    assert_eq!(liste["dossiers"][0]["numero"], numero.as_str());
    let ouverts: Value = reqwest::Client::new()
        .get(format!("{a}/api/v1/gestion/dossiers?etat=ouvert"))
        .bearer_auth(&jeton_agent)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        ouverts["total"], 2,
        "the two other demo dossiers: {ouverts}"
    );

    // Every instance publishes the same keys, and the récépissé verifies with them.
    let mut listes = Vec::new();
    for url in [a, b, c] {
        listes.push(commun::cles(url).await);
    }
    assert!(listes.iter().all(|l| *l == listes[0]), "{listes:?}");
    let cles: depot_core::Cles = serde_json::from_value(listes[0].clone()).unwrap();
    let octets = sur(b).recepisse().await.unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&octets).unwrap(),
        cloture.recepisse
    );
    depot_core::verifier_recepisse(&octets, &cles).expect("the récépissé verifies");

    // Logout on C ends the session on A.
    sur(c).deconnecter().await.unwrap();
    assert!(sur(a).dossier().await.is_err(), "logged out everywhere");

    // Throttling counts across instances: 10 failures spread over A, B, C, then the 11th
    // attempt is held back whichever instance it reaches.
    for i in 0..10 {
        let url = &serveurs[i % 3].url;
        assert_eq!(commun::essai_refuse(url, &numero).await, 401, "attempt {i}");
    }
    for url in [a, b, c] {
        assert_eq!(
            commun::essai_refuse(url, &numero).await,
            429,
            "held back on {url}"
        );
    }

    // The records' CLI reads the same database.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_depot-server"))
        .args(["journal", "verifier", "--stockage-dossiers", "postgres"])
        .args(["--postgres-schema", &schema, "--dossier", &numero])
        .env("DEPOT_POSTGRES_URL", &pg)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let texte = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && texte.contains("journal intègre"),
        "{texte}"
    );
    assert!(
        !dir.path().join("depot-data").exists(),
        "no data directory created where nothing is stored"
    );
    let fichier = dir.path().join("recepisse.json");
    std::fs::write(&fichier, &octets).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_depot-server"))
        .args(["recepisse", "verifier"])
        .arg(&fichier)
        .args([
            "--stockage-dossiers",
            "postgres",
            "--postgres-schema",
            &schema,
        ])
        .env("DEPOT_POSTGRES_URL", &pg)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_multiples_refuse_ce_qui_est_local() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--instances-multiples"][..],
        &["--instances-multiples", "--stockage-dossiers", "postgres"][..],
    ] {
        let (statut, journal) = commun::lancer(
            &dir.path().join("data"),
            args,
            &[("DEPOT_POSTGRES_URL", "postgres://depot@127.0.0.1:1/x")],
        )
        .await
        .err()
        .expect("refused at start");
        assert!(!statut.success());
        assert!(journal.contains("--instances-multiples"), "{journal}");
    }
}

/// A PostgreSQL cluster of this test's own (it is stopped in the middle).
struct Grappe {
    bin: String,
    data: std::path::PathBuf,
    port: u16,
    root: bool,
}

impl Grappe {
    fn commande(&self, prog: &str) -> std::process::Command {
        let chemin = format!("{}/{prog}", self.bin);
        if self.root {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--", &chemin]);
            c
        } else {
            std::process::Command::new(chemin)
        }
    }

    fn creer(bin: String, dir: &Path) -> Self {
        let root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let data = dir.join("pg");
        std::fs::create_dir_all(&data).unwrap();
        if root {
            // The temporary directory and the cluster's, for the unprivileged user.
            for p in [dir, data.as_path()] {
                assert!(
                    std::process::Command::new("chown")
                        .args(["postgres"])
                        .arg(p)
                        .status()
                        .unwrap()
                        .success()
                );
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let g = Self {
            bin,
            data,
            port,
            root,
        };
        let o = g
            .commande("initdb")
            .args(["-U", "depot", "-A", "trust", "--no-sync", "-D"])
            .arg(&g.data)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        g.demarrer();
        g
    }

    fn demarrer(&self) {
        let o = self
            .commande("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-w", "-t", "60", "-l"])
            .arg(self.data.join("log"))
            .arg("-o")
            .arg(format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1",
                self.port,
                self.data.display()
            ))
            .arg("start")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }

    fn arreter(&self) {
        let _ = self
            .commande("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

impl Drop for Grappe {
    fn drop(&mut self) {
        self.arreter();
    }
}

async fn pret(url: &str) -> (u16, Value) {
    let r = reqwest::get(format!("{url}/sante/pret")).await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pret_suit_postgres() {
    let Some(bin) = commun::requis("DEPOT_TEST_POSTGRES_BIN") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let g = Grappe::creer(bin, dir.path());
    let url_pg = format!("postgres://depot@127.0.0.1:{}/postgres", g.port);
    let s = commun::lancer(
        &dir.path().join("data"),
        &["--stockage-dossiers", "postgres"],
        &[("DEPOT_POSTGRES_URL", url_pg.as_str())],
    )
    .await
    .unwrap_or_else(|(s, j)| panic!("{s}\n{j}"));
    let vivant = reqwest::get(format!("{}/sante/vivant", s.url))
        .await
        .unwrap();
    assert_eq!(vivant.status(), 200);
    assert_eq!(pret(&s.url).await.0, 200);

    g.arreter();
    let (statut, corps) = pret(&s.url).await;
    assert_eq!(statut, 503, "{corps}");
    assert_eq!(corps["parties"]["dossiers"], "indisponible");
    assert_eq!(corps["parties"]["pieces"], "ok");
    assert!(
        !corps.to_string().contains("127.0.0.1"),
        "no detail of the infrastructure: {corps}"
    );

    g.demarrer();
    let mut dernier = 0;
    for _ in 0..50 {
        dernier = pret(&s.url).await.0;
        if dernier == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(dernier, 200, "ready again without a restart");
}
