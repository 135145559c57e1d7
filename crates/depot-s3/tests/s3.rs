//! depot-s3 on real S3 servers: moto (conditional writes supported) and Garage (ignores
//! them), plus a fault-injecting proxy. Endpoints come from `DEPOT_TEST_S3_MOTO` and
//! `DEPOT_TEST_S3_GARAGE` (set by `scripts/test.sh`, which starts both). Without them these
//! tests say they are skipped — except under `CI=true`, where a missing server fails.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use depot_core::ports::{CleContenu, lire_tout};
use depot_core::testkit::{self, dossier_exemple};
use depot_core::{DossierStore, FichierId, PieceStore, Sha256, StorageError, SystemRandom, Voie};
use depot_s3::{ConfigS3, S3Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn prefixe_unique() -> String {
    format!(
        "test-{}",
        FichierId::generer(&SystemRandom).as_str().to_lowercase()
    )
}

/// The server's configuration from the environment, or `None` (skipped loudly) — a panic
/// under CI.
fn serveur(nom: &str) -> Option<ConfigS3> {
    let var = format!("DEPOT_TEST_S3_{nom}");
    let Ok(endpoint) = std::env::var(&var) else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true: {var} is not set — scripts/test.sh starts the S3 servers");
        }
        eprintln!(
            "\n*** SKIPPED: {var} not set (run scripts/test.sh to start the S3 servers) ***\n"
        );
        return None;
    };
    let lire = |suffixe: &str, defaut: &str| {
        std::env::var(format!("{var}_{suffixe}")).unwrap_or_else(|_| defaut.to_owned())
    };
    Some(ConfigS3 {
        endpoint: Some(endpoint),
        region: lire("REGION", "us-east-1"),
        bucket: lire("BUCKET", "depot-test"),
        prefix: prefixe_unique(),
        access_key_id: lire("KEY", "test"),
        secret_access_key: lire("SECRET", "test").into(),
        allow_http: true,
        timeout: Some(Duration::from_secs(10)),
        max_retries: Some(5),
        retry_timeout: Some(Duration::from_secs(20)),
        sans_connexions_persistantes: false,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_conformite_complete() {
    let Some(c) = serveur("MOTO") else { return };
    let s = S3Store::new(&c).unwrap();
    s.sonder().await.expect("moto applies conditional writes");
    testkit::conformite_dossiers(&s).await;
    testkit::conformite_pieces(&s).await;
    testkit::conformite_identifiants(&s).await;
    testkit::conformite_sessions(&s).await;
    testkit::conformite_compte_sessions(&s, false).await;
    testkit::conformite_cles(&s).await;
    testkit::conformite_compteurs(&s).await;
    testkit::conformite_cas_concurrent(Arc::new(s.clone()), 8, |f| async move {
        tokio::spawn(f).await.unwrap_or(false)
    })
    .await;
    let r = testkit::balayage_pannes(Arc::new(s.clone()), Arc::new(s)).await;
    eprintln!("fault sweep on moto: {r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_multipart_en_flux() {
    let Some(c) = serveur("MOTO") else { return };
    let s = S3Store::new(&c).unwrap();
    // 20 MiB in 64 KiB chunks: three parts.
    let morceau = Bytes::from((0..65_536u32).map(|i| (i % 251) as u8).collect::<Vec<_>>());
    let n = 320;
    let flux = futures_util::stream::iter((0..n).map(move |_| Ok(morceau.clone())));
    let d = dossier_exemple(Voie::Externe);
    let cle = CleContenu {
        numero: d.numero().clone(),
        fichier: FichierId::generer(&SystemRandom),
    };
    let stocke = s.put(&cle, Box::pin(flux)).await.unwrap();
    assert_eq!(stocke.taille, n * 65_536);
    let relu = lire_tout(s.get(&cle).await.unwrap()).await.unwrap();
    assert_eq!(relu.len() as u64, stocke.taille);
    assert_eq!(Sha256::de(&relu), stocke.sha256);
    assert_eq!(
        PieceStore::list(&s, d.numero()).await.unwrap(),
        vec![cle.fichier.clone()],
        "the .sha256 sidecar is not listed"
    );
    s.delete(&cle).await.unwrap();
    assert!(PieceStore::list(&s, d.numero()).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garage_pieces_et_sonde_qui_refuse() {
    let Some(c) = serveur("GARAGE") else { return };
    let s = S3Store::new(&c).unwrap();
    testkit::conformite_pieces(&s).await;
    let e = s
        .sonder()
        .await
        .expect_err("Garage ignores conditional writes: the probe must refuse records");
    eprintln!("probe on Garage: {e}");
    assert!(
        e.to_string()
            .contains("n'applique pas les écritures conditionnelles"),
        "{e}"
    );
}

// ---- A proxy that misbehaves ---------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Action {
    Transmettre,
    Repondre503,
    Couper,
    PerdreLaReponse,
}

type Politique = Arc<dyn Fn(usize, &[u8]) -> Action + Send + Sync>;

async fn proxy(amont: String, politique: Politique) -> String {
    let amont: SocketAddr = amont.trim_start_matches("http://").parse().unwrap();
    let ecoute = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let adresse = ecoute.local_addr().unwrap();
    let compteur = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = ecoute.accept().await else {
                return;
            };
            let (politique, compteur) = (politique.clone(), compteur.clone());
            tokio::spawn(async move {
                let mut debut = vec![0u8; 8192];
                let n = match client.read(&mut debut).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                debut.truncate(n);
                match politique(compteur.fetch_add(1, Ordering::SeqCst), &debut) {
                    Action::Repondre503 => {
                        let _ = client
                            .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                            .await;
                    }
                    Action::Couper => {}
                    Action::Transmettre => {
                        let Ok(mut serveur) = TcpStream::connect(amont).await else {
                            return;
                        };
                        if serveur.write_all(&debut).await.is_ok() {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut serveur).await;
                        }
                    }
                    Action::PerdreLaReponse => {
                        // The request reaches the server; its answer never comes back.
                        let Ok(mut serveur) = TcpStream::connect(amont).await else {
                            return;
                        };
                        let _ = serveur.write_all(&debut).await;
                        let (mut cr, _cw) = client.split();
                        let (_sr, mut sw) = serveur.split();
                        let _ = tokio::time::timeout(
                            Duration::from_millis(500),
                            tokio::io::copy(&mut cr, &mut sw),
                        )
                        .await;
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            });
        }
    });
    format!("http://{adresse}")
}

fn via(c: &ConfigS3, endpoint: String) -> S3Store {
    let mut c2 = c.clone();
    c2.endpoint = Some(endpoint);
    c2.sans_connexions_persistantes = true;
    S3Store::new(&c2).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reponse_perdue_d_un_put_conditionnel_n_est_pas_un_conflit() {
    let Some(c) = serveur("MOTO") else { return };
    let direct = S3Store::new(&c).unwrap();
    let perdue = Arc::new(AtomicBool::new(false));
    let p = perdue.clone();
    let politique: Politique = Arc::new(move |_, debut: &[u8]| {
        let put_dossier =
            debut.starts_with(b"PUT ") && debut.windows(10).any(|w| w == b"/dossiers/");
        if put_dossier && !p.swap(true, Ordering::SeqCst) {
            Action::PerdreLaReponse
        } else {
            Action::Transmettre
        }
    });
    let s = via(&c, proxy(c.endpoint.clone().unwrap(), politique).await);
    // Create: the write lands, the reply is lost; the retry (or our read-back) sees our own
    // write, not somebody else's.
    let d = dossier_exemple(Voie::Externe);
    s.create(&d)
        .await
        .expect("a lost reply to our own create is a success");
    assert!(perdue.load(Ordering::SeqCst), "the proxy did drop a reply");
    assert_eq!(direct.load(d.numero()).await.unwrap().version, 1);
    // Update: the same.
    perdue.store(false, Ordering::SeqCst);
    let d2 = testkit::avec_un_fichier(&d);
    assert_eq!(
        s.save(&d2, 1).await,
        Ok(2),
        "a lost reply to our own update is a success"
    );
    assert_eq!(
        direct.load(d.numero()).await.unwrap().valeur,
        d2.tel_qu_enregistre()
    );
    // And a real conflict is still a conflict.
    assert!(matches!(
        s.save(&d, 1).await,
        Err(StorageError::Conflict(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pannes_reseau_reessayees_ou_indisponible_jamais_a_moitie() {
    let Some(c) = serveur("MOTO") else { return };
    let direct = S3Store::new(&c).unwrap();
    // One connection in three answers 503, one in five is cut: retries get through.
    let politique: Politique = Arc::new(|i, _: &[u8]| match (i % 3, i % 5) {
        (0, _) => Action::Repondre503,
        (_, 4) => Action::Couper,
        _ => Action::Transmettre,
    });
    let s = via(&c, proxy(c.endpoint.clone().unwrap(), politique).await);
    let (mut reussies, mut indisponibles) = (0, 0);
    for _ in 0..15 {
        let d = dossier_exemple(Voie::Externe);
        let suivant = testkit::avec_un_fichier(&d);
        for op in 0..2 {
            let r = if op == 0 {
                s.create(&d).await.map(|_| 1)
            } else {
                s.save(&suivant, 1).await
            };
            match r {
                Ok(_) => reussies += 1,
                Err(StorageError::Unavailable(_)) => indisponibles += 1,
                Err(e) => panic!("op {op}: {e:?}"),
            }
        }
        // Never half-updated: the record reads back whole, at one of its two versions.
        if let Ok(v) = direct.load(d.numero()).await {
            assert!(
                v == depot_core::Versionne {
                    valeur: d.tel_qu_enregistre(),
                    version: 1
                } || v
                    == depot_core::Versionne {
                        valeur: suivant.tel_qu_enregistre(),
                        version: 2
                    }
            );
        }
    }
    eprintln!(
        "faulty network: {reussies} operations succeeded after retries, {indisponibles} reported Unavailable"
    );
    assert!(
        reussies >= 25,
        "retries get most operations through ({reussies}/30)"
    );
    // A server that always fails: Unavailable, after the retries.
    let toujours: Politique = Arc::new(|_, _: &[u8]| Action::Repondre503);
    let mut c2 = c.clone();
    c2.max_retries = Some(2);
    c2.endpoint = Some(proxy(c.endpoint.clone().unwrap(), toujours).await);
    c2.sans_connexions_persistantes = true;
    let panne = S3Store::new(&c2).unwrap();
    let d = dossier_exemple(Voie::Externe);
    assert!(matches!(
        panne.create(&d).await,
        Err(StorageError::Unavailable(_))
    ));
    assert!(matches!(
        direct.load(d.numero()).await,
        Err(StorageError::NotFound(_))
    ));
}

/// Issue 15: with records on S3, every instance signs with the same key. Eight stores on
/// one prefix (eight instances starting together) propose eight seeds: one is stored, all
/// read it; each publishes a key of its own at the same time: none is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_cle_partagee_entre_instances() {
    use depot_core::SystemRandom;
    use depot_core::signature::{KeyStore, Signataire, SignataireEd25519};
    let Some(c) = serveur("MOTO") else { return };
    let taches: Vec<_> = (0..8u8)
        .map(|i| {
            let s = S3Store::new(&c).unwrap();
            tokio::spawn(async move {
                let graine = s
                    .graine_ou_creer(zeroize::Zeroizing::new([i; 32]))
                    .await
                    .unwrap();
                let cle =
                    SignataireEd25519::generer(&SystemRandom, testkit::pendant_preinscription())
                        .cle_publique();
                s.publier(cle.clone()).await.unwrap();
                (*graine, cle.id)
            })
        })
        .collect();
    let mut graines = std::collections::BTreeSet::new();
    let mut ids = Vec::new();
    for t in taches {
        let (g, id) = t.await.unwrap();
        graines.insert(g);
        ids.push(id);
    }
    assert_eq!(graines.len(), 1, "one seed for every instance");
    let publiees = S3Store::new(&c).unwrap().publiees().await.unwrap();
    for id in ids {
        assert!(publiees.cles.iter().any(|k| k.id == id), "key {id} kept");
    }
}

/// A lease left by an instance that died (lapsed) is taken over: the count goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_bail_d_une_instance_morte_repris() {
    use depot_core::limitation::{CompteurStore, Instants, appliquer};
    use object_store::ObjectStoreExt as _;
    let Some(c) = serveur("MOTO") else { return };
    let prefixe = c.prefix.clone();
    let s = S3Store::new(&c).unwrap();
    let cle = "ip:203.0.113.7".to_owned();
    let nom = depot_core::Sha256::de(cle.as_bytes()).hex();
    // The lease of a holder that died 40 s into a 30 s lease.
    let brut = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(c.endpoint.clone().unwrap())
        .with_region(&c.region)
        .with_bucket_name(&c.bucket)
        .with_access_key_id(&c.access_key_id)
        .with_secret_access_key(secrecy::ExposeSecret::expose_secret(&c.secret_access_key))
        .with_allow_http(true)
        .build()
        .unwrap();
    let bail = format!(
        r#"{{"porteur":"mort","jusqu_a":"{}"}}"#,
        (chrono::Utc::now() - chrono::Duration::seconds(10)).to_rfc3339()
    );
    let chemin = object_store::path::Path::from(format!("{prefixe}/compteurs/{nom}.verrou"));
    brut.put(&chemin, bail.clone().into_bytes().into())
        .await
        .unwrap();
    let debut = std::time::Instant::now();
    appliquer(&s, std::slice::from_ref(&cle), |l: &mut [Instants]| {
        l[0].push(testkit::pendant_preinscription())
    })
    .await
    .unwrap();
    assert!(debut.elapsed() < std::time::Duration::from_secs(5));
    assert!(
        brut.head(&chemin).await.is_err(),
        "the dead holder's lease was taken over, then given back"
    );
    let n = appliquer(&s, std::slice::from_ref(&cle), |l: &mut [Instants]| {
        l[0].len()
    })
    .await
    .unwrap();
    assert_eq!(n, 1);
    // A dead holder's lease on a key that has no count: the cleanup removes it.
    let autre = depot_core::Sha256::de(b"ip:198.51.100.9").hex();
    let chemin2 = object_store::path::Path::from(format!("{prefixe}/compteurs/{autre}.verrou"));
    brut.put(&chemin2, bail.clone().into_bytes().into())
        .await
        .unwrap();
    s.nettoyer(chrono::Utc::now() + chrono::Duration::minutes(1))
        .await
        .unwrap();
    assert!(
        brut.head(&chemin2).await.is_err(),
        "a dead holder's lease is cleaned up"
    );
}

/// Retention on S3 (records, passwords and contents on moto): an identity piece purged after
/// the decision leaves the bucket; a dossier never closed, erased after its deadline, leaves
/// no content and no password behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_conservation_efface_du_bucket() {
    use chrono::Duration as Duree;
    use depot_core::{Concours, Decision, Espace, Gestionnaire, HorlogeFixe, Ports, Role};
    let Some(c) = serveur("MOTO") else { return };
    let s = S3Store::new(&c).unwrap();
    let texte = include_str!("../../../examples/concours/animateur-2025.toml").replacen(
        "code = \"piece-identite\"",
        "code = \"piece-identite\"\nidentite = true",
        1,
    ) + "\n[conservation]\npieces_identite_apres_decision = 90\ndossiers_non_clotures = 365\n";
    let concours = Concours::from_toml(&texte).unwrap();
    let t = |x: &str| {
        chrono::DateTime::parse_from_rfc3339(x)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let horloge = Arc::new(HorlogeFixe::new(t("2025-04-01T10:00:00+02:00")));
    let ports = Ports::avec_stores(
        Arc::new(s.clone()),
        Arc::new(s.clone()),
        Arc::new(s.clone()),
    )
    .avec_horloge(horloge.clone());
    let e = Espace::new(vec![concours.clone()], ports).unwrap();
    let clos = testkit::preinscrire_candidat(&e, "Durand", "camille@exemple.fr").await;
    let ouvert = testkit::preinscrire_candidat(&e, "Martin", "dominique@exemple.fr").await;
    horloge.regler(t("2025-04-10T10:00:00+02:00"));
    let pdf = Bytes::from(depot_core::exemples::pdf_minimal());
    let cni = e
        .deposer(&clos, "piece-identite", "CNI.pdf", pdf.clone())
        .await
        .unwrap();
    e.deposer(&ouvert, "piece-identite", "CNI.pdf", pdf)
        .await
        .unwrap();
    e.cloturer(&clos).await.unwrap();
    let agent = Gestionnaire {
        id: "agent-1".into(),
        role: Role::Instruction,
    };
    e.decider(&agent, &clos, Decision::Recevable).await.unwrap();
    assert_eq!(
        PieceStore::list(&s, &clos).await.unwrap(),
        vec![cni.id.clone()]
    );
    horloge.regler(t("2025-04-10T10:00:00+02:00") + Duree::days(90));
    assert_eq!(e.conserver(false).await.unwrap().faites.len(), 1);
    assert!(
        PieceStore::list(&s, &clos).await.unwrap().is_empty(),
        "identity piece gone from the bucket"
    );
    let echeance = concours.calendrier.depot_cloture.instant() + Duree::days(365);
    horloge.regler(echeance);
    assert_eq!(e.conserver(false).await.unwrap().faites.len(), 1);
    assert!(PieceStore::list(&s, &ouvert).await.unwrap().is_empty());
    assert_eq!(
        depot_core::CredentialStore::lire(&s, &ouvert)
            .await
            .unwrap(),
        None,
        "password erased"
    );
}
