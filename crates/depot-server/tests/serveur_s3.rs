//! The espace running on S3, black-box: both stores on moto; records refused on Garage
//! (which ignores conditional writes) while pieces are accepted there.
//! Needs `DEPOT_TEST_S3_MOTO` / `DEPOT_TEST_S3_GARAGE` (set by scripts/test.sh); skipped
//! loudly without them, failing under `CI=true`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

mod commun;

use depot_core::exemples::{jpeg_minimal, pdf_minimal};

struct S3 {
    endpoint: String,
    region: String,
    bucket: String,
    key: String,
    secret: String,
}

fn serveur_s3(nom: &str) -> Option<S3> {
    let var = format!("DEPOT_TEST_S3_{nom}");
    let Ok(endpoint) = std::env::var(&var) else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true: {var} is not set — scripts/test.sh starts the S3 servers");
        }
        eprintln!("\n*** SKIPPED: {var} not set (run scripts/test.sh) ***\n");
        return None;
    };
    let lire =
        |s: &str, d: &str| std::env::var(format!("{var}_{s}")).unwrap_or_else(|_| d.to_owned());
    Some(S3 {
        endpoint,
        region: lire("REGION", "us-east-1"),
        bucket: lire("BUCKET", "depot-test"),
        key: lire("KEY", "test"),
        secret: lire("SECRET", "test"),
    })
}

fn fichier_s3(dir: &std::path::Path, s: &S3, prefixe: &str) -> std::path::PathBuf {
    let f = dir.join("s3.toml");
    std::fs::write(
        &f,
        format!(
            "[s3]\nendpoint = \"{}\"\nregion = \"{}\"\nbucket = \"{}\"\nprefix = \"{prefixe}\"\naccess_key_id = \"{}\"\nallow_http = true\nmax_retries = 3\n",
            s.endpoint, s.region, s.bucket, s.key
        ),
    )
    .unwrap();
    f
}

fn prefixe() -> String {
    let mut o = [0u8; 6];
    depot_core::Random::remplir(&depot_core::SystemRandom, &mut o);
    format!(
        "serveur-{}",
        o.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l_espace_sur_moto_de_bout_en_bout() {
    let Some(s3) = serveur_s3("MOTO") else { return };
    let dir = tempfile::tempdir().unwrap();
    let cfg = fichier_s3(dir.path(), &s3, &prefixe());
    let args = [
        "--stockage-dossiers",
        "s3",
        "--stockage-pieces",
        "s3",
        "--s3",
        cfg.to_str().unwrap(),
    ];
    let env = [("DEPOT_S3_SECRET_ACCESS_KEY", s3.secret.as_str())];
    let serveur = commun::lancer(&dir.path().join("a"), &args, &env)
        .await
        .unwrap();
    let (numero, mdp) = serveur.demo();
    let s = commun::connexion(&serveur.url, &numero, &mdp).await;
    commun::deposer(&s, "piece-identite", "cni.pdf", pdf_minimal())
        .await
        .unwrap();
    let jpg = commun::deposer(&s, "piece-identite", "verso.jpg", jpeg_minimal())
        .await
        .unwrap();
    assert_eq!(s.voir(&jpg.id).await.unwrap().to_vec(), jpeg_minimal());
    s.supprimer(&jpg.id).await.unwrap();
    commun::deposer(&s, "piece-identite", "verso.jpeg", jpeg_minimal())
        .await
        .unwrap();
    let r1 = s.cloturer().await.unwrap();
    assert_eq!(r1.etat, "cloture", "{r1:?}");
    let r2 = s.cloturer().await.unwrap();
    assert_eq!(r1.recepisse, r2.recepisse);
    let octets = s.recepisse().await.unwrap();
    let cles_a = commun::cles(&serveur.url).await;
    drop(serveur);
    // The signing key lives on S3, not on the first server's disk.
    assert!(!dir.path().join("a/cles/recepisse.ed25519").exists());

    // A second server, another machine's disk, the same bucket: the dossier is there, and
    // it signs with the same key (issue 15: the key on S3 with S3 records).
    let autre = commun::lancer(&dir.path().join("b"), &args, &env)
        .await
        .unwrap();
    let v = commun::connexion(&autre.url, &numero, &mdp)
        .await
        .dossier()
        .await
        .unwrap();
    assert_eq!(v.etat, "cloture");
    assert_eq!(v.fichiers().count(), 2);
    let cles_b = commun::cles(&autre.url).await;
    assert_eq!(cles_a, cles_b, "one key list for both servers");
    let cles: depot_core::Cles = serde_json::from_value(cles_b).unwrap();
    assert_eq!(cles.cles.len(), 1, "one key: the second server made none");
    depot_core::verifier_recepisse(&octets, &cles).expect("the récépissé verifies");
}

/// A server that kept S3 records with its signing key on its disk (before the key moved to
/// S3): at its next start the key goes to S3 and récépissés it signed keep verifying.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn la_cle_du_disque_passe_sur_s3() {
    let Some(s3) = serveur_s3("MOTO") else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a");
    // The key an earlier version kept in the data directory: an fs server's key.
    let ancien = commun::lancer(&data, &[], &[]).await.unwrap();
    let cles_disque = commun::cles(&ancien.url).await;
    drop(ancien);
    assert!(data.join("cles/recepisse.ed25519").exists());
    let cfg = fichier_s3(dir.path(), &s3, &prefixe());
    let env = [("DEPOT_S3_SECRET_ACCESS_KEY", s3.secret.as_str())];
    let args = ["--stockage-dossiers", "s3", "--s3", cfg.to_str().unwrap()];
    let repris = commun::lancer(&data, &args, &env).await.unwrap();
    assert!(
        repris
            .sortie
            .iter()
            .any(|l| l.contains("clé de signature du répertoire de données reprise sur S3")),
        "{:?}",
        repris.sortie
    );
    let cles_s3 = commun::cles(&repris.url).await;
    assert_eq!(cles_s3, cles_disque, "the same key, now from S3");
    drop(repris);
    // Another server, without that disk, signs with it too.
    let autre = commun::lancer(&dir.path().join("b"), &args, &env)
        .await
        .unwrap();
    let cles_autre = commun::cles(&autre.url).await;
    assert_eq!(cles_autre, cles_disque);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garage_refuse_les_dossiers_accepte_les_pieces() {
    let Some(s3) = serveur_s3("GARAGE") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = fichier_s3(dir.path(), &s3, &prefixe());
    let env = [("DEPOT_S3_SECRET_ACCESS_KEY", s3.secret.as_str())];
    let refus = commun::lancer(
        &dir.path().join("a"),
        &["--stockage-dossiers", "s3", "--s3", cfg.to_str().unwrap()],
        &env,
    )
    .await;
    let Err((statut, stderr)) = refus else {
        panic!("the server must refuse records on Garage")
    };
    assert!(!statut.success());
    eprintln!("depot-server on Garage with records: {}", stderr.trim());
    assert!(
        stderr.contains("ce serveur S3 n'applique pas les écritures conditionnelles"),
        "{stderr}"
    );
    // Records on the local disk, pieces on Garage: fine.
    let serveur = commun::lancer(
        &dir.path().join("b"),
        &["--stockage-pieces", "s3", "--s3", cfg.to_str().unwrap()],
        &env,
    )
    .await
    .unwrap();
    let (numero, mdp) = serveur.demo();
    let s = commun::connexion(&serveur.url, &numero, &mdp).await;
    let f = commun::deposer(&s, "piece-identite", "cni.pdf", pdf_minimal())
        .await
        .unwrap();
    assert_eq!(s.voir(&f.id).await.unwrap().to_vec(), pdf_minimal());
}

/// Issue 15: records on S3 serve several instances now that the throttling counts are on S3
/// too: `--instances-multiples` starts, a candidate's token works on both, and failures
/// spread over the two are counted together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deux_instances_sur_s3_seul() {
    let Some(s3) = serveur_s3("MOTO") else { return };
    let dir = tempfile::tempdir().unwrap();
    let cfg = fichier_s3(dir.path(), &s3, &prefixe());
    let env = [("DEPOT_S3_SECRET_ACCESS_KEY", s3.secret.as_str())];
    let args = [
        "--instances-multiples",
        "--stockage-dossiers",
        "s3",
        "--stockage-pieces",
        "s3",
        "--s3",
        cfg.to_str().unwrap(),
    ];
    let a = commun::lancer(&dir.path().join("a"), &args, &env)
        .await
        .unwrap_or_else(|(s, j)| panic!("{s}\n{j}"));
    let b = commun::lancer(&dir.path().join("b"), &args, &env)
        .await
        .unwrap_or_else(|(s, j)| panic!("{s}\n{j}"));
    let (numero, mdp) = a.demo();
    let session = commun::connexion(&a.url, &numero, &mdp).await;
    commun::deposer(&session, "piece-identite", "cni.pdf", pdf_minimal())
        .await
        .unwrap();
    let sur_b = depot_client::Client::new(&b.url)
        .unwrap()
        .reprendre(session.jeton().to_owned());
    assert_eq!(sur_b.dossier().await.unwrap().fichiers().count(), 1);
    for i in 0..10 {
        let url = if i % 2 == 0 { &a.url } else { &b.url };
        assert_eq!(commun::essai_refuse(url, &numero).await, 401, "attempt {i}");
    }
    for url in [&a.url, &b.url] {
        assert_eq!(
            commun::essai_refuse(url, &numero).await,
            429,
            "held back on {url}"
        );
    }
}
