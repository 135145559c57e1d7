//! depot-postgres on a real PostgreSQL server (`DEPOT_TEST_POSTGRES`, started by
//! `scripts/test.sh`): the conformance suites of every port, the fault sweep, compare-and-
//! swap across processes, migrations run by instances starting together. Each test works in
//! a schema of its own. Without the server these tests say they are skipped — except under
//! `CI=true`, where a missing server fails.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::sync::Arc;

use depot_core::testkit::{self, dossier_exemple};
use depot_core::{DossierStore, FichierId, StorageError, SystemRandom, Voie};
use depot_postgres::{ConfigPg, PgStore};

fn url() -> Option<String> {
    match std::env::var("DEPOT_TEST_POSTGRES") {
        Ok(u) => Some(u),
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true: DEPOT_TEST_POSTGRES is not set — scripts/test.sh starts PostgreSQL")
        }
        Err(_) => {
            eprintln!(
                "\n*** SKIPPED: DEPOT_TEST_POSTGRES not set (run scripts/test.sh to start PostgreSQL) ***\n"
            );
            None
        }
    }
}

fn schema_unique() -> String {
    format!(
        "test_{}",
        FichierId::generer(&SystemRandom).as_str().to_lowercase()
    )
}

async fn store_dans(schema: &str) -> Option<PgStore> {
    let s = PgStore::new(&ConfigPg {
        url: url()?,
        schema: Some(schema.to_owned()),
        connexions: 8,
        ca: None,
    })
    .unwrap();
    s.migrer().await.unwrap();
    Some(s)
}

async fn store() -> Option<PgStore> {
    store_dans(&schema_unique()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformite_complete() {
    let Some(s) = store().await else { return };
    testkit::conformite_dossiers(&s).await;
    testkit::conformite_identifiants(&s).await;
    testkit::conformite_cles(&s).await;
    testkit::conformite_sessions(&s).await;
    testkit::conformite_compte_sessions(&s, true).await;
    testkit::conformite_compteurs(&s).await;
    testkit::conformite_cas_concurrent(Arc::new(s.clone()), 16, |f| async move {
        tokio::spawn(f).await.unwrap_or(false)
    })
    .await;
}

fn indexeur() -> depot_core::Indexeur {
    depot_core::Indexeur::new(&[Arc::new(testkit::concours_du_seed())])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recherche_comme_la_lecture_de_chaque_dossier() {
    let Some(s) = store().await else { return };
    let s = s.avec_indexeur(indexeur());
    testkit::conformite_recherche(&s).await;
}

/// Rows written without an index (or with other concours settings) are indexed at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_refait_au_demarrage() {
    use depot_core::recherche::{Filtre, Page, Recherche};
    let Some(sans) = store().await else { return };
    for v in [Voie::Externe, Voie::Interne, Voie::Externe] {
        sans.create(&dossier_exemple(v)).await.unwrap();
    }
    let avec = sans.clone().avec_indexeur(indexeur());
    let externes = Filtre {
        voie: Some(Voie::Externe),
        ..Filtre::default()
    };
    let t = testkit::pendant_preinscription();
    assert_eq!(
        avec.rechercher(&externes, t, Page::TOUT).await.unwrap().0,
        0
    );
    assert_eq!(avec.preparer_index().await.unwrap(), 3);
    assert_eq!(
        avec.rechercher(&externes, t, Page::TOUT).await.unwrap().0,
        2
    );
    assert_eq!(avec.preparer_index().await.unwrap(), 0, "up to date");
    assert!(
        sans.rechercher(&externes, t, Page::TOUT).await.is_err(),
        "no search without an index"
    );
}

/// Page 1 of 20 among 10,000 dossiers: the figure is printed (the test checks the answer,
/// not the time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recherche_parmi_dix_mille() {
    use depot_core::recherche::{Filtre, Page, Recherche};
    let Some(s) = store().await else { return };
    let s = s.avec_indexeur(indexeur());
    let debut = std::time::Instant::now();
    let taches: Vec<_> = (0..8)
        .map(|t| {
            let s = s.clone();
            tokio::spawn(async move {
                for i in 0..1250 {
                    let v = if (t * 1250 + i) % 4 == 0 {
                        Voie::Interne
                    } else {
                        Voie::Externe
                    };
                    // Random n° (32^6 of them): among 10,000, two alike about one run in
                    // twenty — drawn again, as the espace does.
                    loop {
                        match s.create(&dossier_exemple(v)).await {
                            Ok(()) => break,
                            Err(StorageError::AlreadyExists(_)) => continue,
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for t in taches {
        t.await.unwrap();
    }
    eprintln!("10,000 dossiers created in {:?}", debut.elapsed());
    let f = Filtre {
        voie: Some(Voie::Interne),
        etat: Some(depot_core::EtatLu::Ouvert),
        ..Filtre::default()
    };
    let now = testkit::pendant_preinscription();
    let page = Page {
        numero: 1,
        par_page: 20,
    };
    let mut durees = Vec::new();
    let mut r = (0, Vec::new());
    for _ in 0..10 {
        let t = std::time::Instant::now();
        r = s.rechercher(&f, now, page).await.unwrap();
        durees.push(t.elapsed());
    }
    durees.sort();
    eprintln!(
        "search, page 1 of 20 among 10,000 (2,500 match): median {:?}, max {:?}",
        durees[5], durees[9]
    );
    assert_eq!(r.0, 2500);
    assert_eq!(r.1.len(), 20);
    assert!(r.1.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balayage_des_pannes() {
    let Some(s) = store().await else { return };
    let r = testkit::balayage_pannes(
        Arc::new(s),
        Arc::new(depot_core::memoire::MemoirePieces::new()),
    )
    .await;
    eprintln!("fault sweep on PostgreSQL: {r:?}");
    assert!(r.depot >= 3 && r.cloture >= 2, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_une_seule_fois_meme_a_plusieurs() {
    let Some(url) = url() else { return };
    let schema = schema_unique();
    // Four instances start together on an empty database.
    let taches: Vec<_> = (0..4)
        .map(|_| {
            let (url, schema) = (url.clone(), schema.clone());
            tokio::spawn(async move {
                PgStore::new(&ConfigPg {
                    url,
                    schema: Some(schema),
                    connexions: 2,
                    ca: None,
                })
                .unwrap()
                .migrer()
                .await
                .unwrap()
            })
        })
        .collect();
    let mut appliquees = Vec::new();
    for t in taches {
        appliquees.extend(t.await.unwrap());
    }
    appliquees.sort_unstable();
    assert_eq!(appliquees, [1, 2], "each migration applied exactly once");
    let s = store_dans(&schema).await.unwrap();
    assert_eq!(s.migrer().await.unwrap(), Vec::<i32>::new(), "up to date");
}

#[tokio::test]
async fn configuration_refusee_sans_montrer_le_mot_de_passe() {
    let e = PgStore::new(&ConfigPg {
        url: "postgres://depot:secret-tres-long@[::1".into(),
        schema: None,
        connexions: 1,
        ca: None,
    })
    .unwrap_err();
    assert!(!e.to_string().contains("secret"), "{e}");
    let e = PgStore::new(&ConfigPg {
        url: "postgres://depot@127.0.0.1/x".into(),
        schema: Some("x; DROP TABLE dossiers".into()),
        connexions: 1,
        ca: None,
    })
    .unwrap_err();
    assert!(e.to_string().contains("schéma"), "{e}");
    let c = ConfigPg {
        url: "postgres://depot:secret-tres-long@127.0.0.1/x".into(),
        schema: None,
        connexions: 1,
        ca: None,
    };
    assert!(!format!("{c:?}").contains("secret"));
}

#[tokio::test]
async fn base_injoignable_indisponible() {
    // A port nobody listens on.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let s = PgStore::new(&ConfigPg {
        url: format!("postgres://depot@127.0.0.1:{port}/x"),
        schema: None,
        connexions: 1,
        ca: None,
    })
    .unwrap();
    let d = dossier_exemple(Voie::Externe);
    assert!(matches!(
        s.load(d.numero()).await,
        Err(StorageError::Unavailable(_))
    ));
    assert!(s.sonder().await.is_err());
}

/// Child of [`cas_entre_processus`]: N compare-and-swap saves on one dossier, retrying on
/// conflict. Runs only when the parent sets `DEPOT_PG_CAS_ENFANT`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child process of cas_entre_processus"]
async fn enfant_cas() {
    let Ok(param) = std::env::var("DEPOT_PG_CAS_ENFANT") else {
        return;
    };
    let mut p = param.split(' ');
    let (schema, numero, n) = (
        p.next().unwrap().to_owned(),
        depot_core::NumeroDossier::parse(p.next().unwrap()).unwrap(),
        p.next().unwrap().parse::<usize>().unwrap(),
    );
    let s = store_dans(&schema).await.unwrap();
    let mut sauves = 0;
    while sauves < n {
        let v = s.load(&numero).await.unwrap();
        match s.save(&v.valeur, v.version).await {
            Ok(_) => sauves += 1,
            Err(StorageError::Conflict(_)) => continue,
            Err(e) => panic!("{e}"),
        }
    }
    println!("SAUVES {sauves}");
}

/// 3 processes × 60 saves on one dossier: each save acknowledged is one version — two
/// saves acknowledged on the same version (a lost update) would leave fewer than 181.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cas_entre_processus() {
    let Some(url) = url() else { return };
    let schema = schema_unique();
    let s = store_dans(&schema).await.unwrap();
    let d = dossier_exemple(Voie::Externe);
    s.create(&d).await.unwrap();
    let exe = std::env::current_exe().unwrap();
    let enfants: Vec<_> = (0..3)
        .map(|_| {
            tokio::process::Command::new(&exe)
                .args(["--exact", "enfant_cas", "--ignored", "--nocapture"])
                .env("DEPOT_TEST_POSTGRES", &url)
                .env("DEPOT_PG_CAS_ENFANT", format!("{schema} {} 60", d.numero()))
                .output()
        })
        .collect();
    for e in enfants {
        let sortie = e.await.unwrap();
        let texte = String::from_utf8_lossy(&sortie.stdout);
        assert!(
            sortie.status.success() && texte.contains("SAUVES 60"),
            "{texte}\n{}",
            String::from_utf8_lossy(&sortie.stderr)
        );
    }
    let v = s.load(d.numero()).await.unwrap();
    assert_eq!(v.version, 181, "no lost update");
}

/// The URL with `sslmode=require` added.
fn avec_tls(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}sslmode=require")
}

/// With `sslmode=require` the connection is encrypted (`pg_stat_ssl`) and the server's
/// certificate checked against the given authorities (`DEPOT_TEST_POSTGRES_CA`, the
/// self-signed certificate scripts/test.sh gives the test server): another authority is
/// refused, and so is TLS asked without any. Without `sslmode`, no TLS is attempted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_verifie_le_serveur() {
    let Some(url) = url() else { return };
    let ca = match std::env::var("DEPOT_TEST_POSTGRES_CA") {
        Ok(c) => std::path::PathBuf::from(c),
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "CI=true: DEPOT_TEST_POSTGRES_CA is not set — scripts/test.sh gives the server a certificate"
            )
        }
        Err(_) => {
            eprintln!("\n*** SKIPPED: DEPOT_TEST_POSTGRES_CA not set (run scripts/test.sh) ***\n");
            return;
        }
    };
    let chiffre = |ca: Option<std::path::PathBuf>, url: String| async move {
        let s = PgStore::new(&ConfigPg {
            url,
            schema: None,
            connexions: 1,
            ca,
        })?;
        Ok::<_, depot_postgres::ErreurConfigPg>(s.session_chiffree().await)
    };
    assert_eq!(
        chiffre(Some(ca.clone()), avec_tls(&url)).await.unwrap(),
        Ok(true),
        "TLS with the server's authority"
    );
    assert_eq!(
        chiffre(None, url.clone()).await.unwrap(),
        Ok(false),
        "no TLS asked"
    );
    // Another authority: the server's certificate is refused.
    let dir = tempfile::tempdir().unwrap();
    let autre = dir.path().join("autre.pem");
    let o = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=autre", "-keyout"])
        .arg(dir.path().join("autre.key"))
        .arg("-out")
        .arg(&autre)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        chiffre(Some(autre), avec_tls(&url)).await.unwrap().is_err(),
        "a certificate signed by another authority is refused"
    );
    // TLS without an authority: refused at configuration.
    assert!(matches!(
        chiffre(None, avec_tls(&url)).await,
        Err(depot_postgres::ErreurConfigPg::Tls(_))
    ));
}
