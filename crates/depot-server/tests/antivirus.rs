//! The real depot-server with the real clamd (`DEPOT_TEST_CLAMD`, started by
//! `scripts/test.sh` with its test signatures; fails under `CI=true` without it):
//!
//! - a valid PDF carrying the marker inside a compressed stream, and a valid JPEG carrying
//!   it in a comment segment, are refused `virus_detecte` with nothing left on disk; clean
//!   files are recorded `saine`;
//! - clamd unreachable (a proxy in front of it, cut): the upload is accepted `en_attente`,
//!   the dossier can be closed, staff get 409 `analyse_en_attente`; clamd reachable again:
//!   within a bounded time the worker finds the file clean and staff can download it; a
//!   pending file carrying the marker is found infected, quarantined (409 `fichier_infecte`
//!   to everyone) and flagged on the staff list;
//! - 20 uploads at once, scanned: every verdict right, the server's peak memory printed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

mod commun;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use depot_core::exemples::{jpeg_commentaire, pdf_minimal, pdf_texte_compresse};

const MARQUEUR: &str = "DEPOT-TEST-MARQUEUR-VIRAL-0001";

/// Files under the data directory's contents (what an upload leaves on disk).
fn fichiers_sous(dir: &std::path::Path) -> usize {
    let Ok(l) = std::fs::read_dir(dir) else {
        return 0;
    };
    l.flatten()
        .map(|e| {
            if e.path().is_dir() {
                fichiers_sous(&e.path())
            } else {
                1
            }
        })
        .sum()
}

/// A TCP proxy to clamd that can be cut (new connections are closed at once) and restored.
struct Coupure {
    adresse: String,
    ouvert: Arc<AtomicBool>,
}

async fn proxy(vers: String) -> Coupure {
    let ecoute = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let adresse = format!("tcp://{}", ecoute.local_addr().unwrap());
    let ouvert = Arc::new(AtomicBool::new(true));
    let o = ouvert.clone();
    tokio::spawn(async move {
        loop {
            let (mut client, _) = ecoute.accept().await.unwrap();
            if !o.load(Ordering::SeqCst) {
                drop(client);
                continue;
            }
            let vers = vers.clone();
            tokio::spawn(async move {
                if let Ok(mut clamd) = tokio::net::TcpStream::connect(vers).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut clamd).await;
                }
            });
        }
    });
    Coupure { adresse, ouvert }
}

async fn statut_gestion(url: &str, jeton: &str, numero: &str, fichier: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .get(format!(
            "{url}/api/v1/gestion/dossiers/{numero}/fichiers/{fichier}"
        ))
        .bearer_auth(jeton)
        .send()
        .await
        .unwrap();
    let statut = r.status().as_u16();
    let corps = r.text().await.unwrap();
    let code = serde_json::from_str::<serde_json::Value>(&corps)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned))
        .unwrap_or_default();
    (statut, code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clamd_pendant_l_envoi_et_apres_une_panne() {
    let Some(clamd) = commun::requis("DEPOT_TEST_CLAMD") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let coupure = proxy(clamd.trim_start_matches("tcp://").to_owned()).await;
    let (jeton, bloc) = commun::jeton_gestionnaire("agent-1", "instruction");
    let comptes = dir.path().join("gestionnaires.toml");
    std::fs::write(&comptes, bloc).unwrap();
    let s = commun::lancer(
        &data,
        &[
            "--antivirus",
            &coupure.adresse,
            "--antivirus-delai-s",
            "5",
            "--antivirus-intervalle-s",
            "1",
            "--gestionnaires",
            comptes.to_str().unwrap(),
        ],
        &[],
    )
    .await
    .unwrap();
    assert!(
        s.sortie.iter().any(|l| l.starts_with("antivirus : ClamAV")),
        "{:?}",
        s.sortie
    );
    let (numero, mdp) = s.demo();
    let session = commun::connexion(&s.url, &numero, &mdp).await;
    let contenus = data.join("pieces");
    let avant = fichiers_sous(&contenus);

    // Refused while the candidate is there; nothing on disk.
    for (nom, octets) in [
        ("attestation.pdf", pdf_texte_compresse(MARQUEUR)),
        ("photo.jpg", jpeg_commentaire(MARQUEUR.as_bytes())),
    ] {
        let r = commun::deposer(&session, "piece-identite", nom, octets).await;
        assert_eq!(r.unwrap_err(), (422, "virus_detecte".to_owned()), "{nom}");
    }
    assert_eq!(fichiers_sous(&contenus), avant, "nothing stored");
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/dossier/pieces/piece-identite", s.url))
        .bearer_auth(session.jeton())
        .multipart(reqwest::multipart::Form::new().part(
            "fichier",
            reqwest::multipart::Part::bytes(pdf_texte_compresse(MARQUEUR)).file_name("CNI.pdf"),
        ))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("(Depot.Test.Marqueur.UNOFFICIAL)"),
        "{v}"
    );
    // Clean: recorded as found clean, by ClamAV.
    let propre = commun::deposer(&session, "piece-identite", "CNI.pdf", pdf_minimal())
        .await
        .unwrap();
    let a = propre.analyse.clone().unwrap();
    assert_eq!(a.statut, "saine");
    assert!(a.moteur.unwrap().starts_with("ClamAV"));
    assert_eq!(
        statut_gestion(&s.url, &jeton, &numero, &propre.id).await.0,
        200
    );

    // clamd cut: accepted, pending, closable; staff refused.
    coupure.ouvert.store(false, Ordering::SeqCst);
    let attente = commun::deposer(&session, "piece-identite", "CNI-verso.pdf", pdf_minimal())
        .await
        .unwrap();
    assert_eq!(attente.analyse.as_ref().unwrap().statut, "en_attente");
    let pret: serde_json::Value = reqwest::get(format!("{}/sante/pret", s.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pret["parties"]["antivirus"], "indisponible", "{pret}");
    assert_eq!(pret["statut"], "pret", "uploads still accepted: {pret}");
    // A pending file that carries the marker (a deferred piece may come after closure).
    let cache = commun::deposer(
        &session,
        "diplome",
        "diplome.pdf",
        pdf_texte_compresse(MARQUEUR),
    )
    .await
    .unwrap();
    assert_eq!(cache.analyse.as_ref().unwrap().statut, "en_attente");
    session.cloturer().await.unwrap();
    assert_eq!(
        statut_gestion(&s.url, &jeton, &numero, &attente.id).await,
        (409, "analyse_en_attente".to_owned())
    );

    // clamd back: within a bounded time, one found clean and served, one quarantined.
    coupure.ouvert.store(true, Ordering::SeqCst);
    let debut = Instant::now();
    let mut fini = false;
    while debut.elapsed() < Duration::from_secs(60) {
        let d = session.dossier().await.unwrap();
        let statuts: Vec<String> = d
            .pieces
            .iter()
            .flat_map(|p| p.fichiers.iter())
            .filter(|f| f.id == attente.id || f.id == cache.id)
            .filter_map(|f| f.analyse.as_ref().map(|a| a.statut.clone()))
            .collect();
        if statuts.len() == 2 && !statuts.iter().any(|x| x == "en_attente") {
            fini = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(fini, "the pending files got their verdict within 60 s");
    eprintln!(
        "pending files scanned {:.1} s after clamd came back",
        debut.elapsed().as_secs_f64()
    );
    assert_eq!(
        statut_gestion(&s.url, &jeton, &numero, &attente.id).await.0,
        200
    );
    assert_eq!(
        statut_gestion(&s.url, &jeton, &numero, &cache.id).await,
        (409, "fichier_infecte".to_owned())
    );
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/dossier/fichiers/{}", s.url, cache.id))
        .bearer_auth(session.jeton())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "quarantined: not even for the candidate");
    assert_eq!(fichiers_sous(&contenus), avant + 3, "kept as evidence");
    // Flagged on the staff list.
    let liste: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/gestion/dossiers", s.url))
        .bearer_auth(&jeton)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ligne = liste["dossiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["numero"] == numero.as_str())
        .unwrap();
    assert_eq!(ligne["antivirus"]["infectee"], 1, "{ligne}");
    assert_eq!(ligne["antivirus"]["en_attente"], 0, "{ligne}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vingt_envois_analyses_a_la_fois() {
    let Some(clamd) = commun::requis("DEPOT_TEST_CLAMD") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let s = commun::lancer(
        &dir.path().join("data"),
        &["--antivirus", &clamd, "--preinscriptions-par-heure", "0"],
        &[],
    )
    .await
    .unwrap();
    let (numero, mdp) = s.demo();
    let session = commun::connexion(&s.url, &numero, &mdp).await;
    // 20 uploads at once on one dossier, each refused or accepted by its content; the
    // accepted ones are deleted again so that the piece never fills up.
    let infecte = pdf_texte_compresse(MARQUEUR);
    let sain = depot_core::exemples::pdf_image(2_000_000);
    let taches: Vec<_> = (0..20)
        .map(|i| {
            let (session, octets) = (
                session.clone(),
                if i % 2 == 0 {
                    infecte.clone()
                } else {
                    sain.clone()
                },
            );
            tokio::spawn(async move {
                let r = session
                    .deposer("piece-identite", &format!("f{i}.pdf"), octets)
                    .await;
                if let Ok(f) = &r {
                    let _ = session.supprimer(&f.id).await;
                }
                (i, r)
            })
        })
        .collect();
    let (mut saines, mut infectees) = (0, 0);
    for t in taches {
        let (i, r) = t.await.unwrap();
        match r {
            Ok(f) => {
                assert_eq!(i % 2, 1, "f{i} accepted");
                assert_eq!(f.analyse.unwrap().statut, "saine");
                saines += 1;
            }
            Err(depot_client::Erreur::Api { code, .. }) if code == "virus_detecte" => {
                assert_eq!(i % 2, 0, "f{i} refused");
                infectees += 1;
            }
            // A full piece is refused before the body is read (the documented order),
            // whatever the file: no verdict then.
            Err(depot_client::Erreur::Api { code, .. }) if code == "trop_de_fichiers" => {}
            Err(e) => panic!("f{i}: {e}"),
        }
    }
    eprintln!("20 uploads at once: {saines} clean, {infectees} infected, the rest on a full piece");
    assert!(saines >= 2 && infectees >= 2, "{saines} {infectees}");
    let statut =
        std::fs::read_to_string(format!("/proc/{}/status", s.enfant.id().unwrap())).unwrap();
    let pic = statut
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap_or_default()
        .to_owned();
    eprintln!("server peak memory after 20 scanned uploads of 2 MB: {pic}");
}

/// A clamd of this test's own (`DEPOT_TEST_CLAMD_BIN`), on a database it can change.
struct ClamdPrive {
    _enfant: tokio::process::Child,
    url: String,
    db: std::path::PathBuf,
}

async fn clamd_prive(dir: &std::path::Path, signatures: &str) -> ClamdPrive {
    let bin = commun::requis("DEPOT_TEST_CLAMD_BIN").unwrap();
    let db = dir.join("db");
    std::fs::create_dir_all(&db).unwrap();
    std::fs::write(db.join("depot-test.ndb"), signatures).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = dir.join("clamd.conf");
    std::fs::write(
        &conf,
        format!(
            "Foreground yes\nDatabaseDirectory {}\nTCPSocket {port}\nTCPAddr 127.0.0.1\nLogFile {}\nStreamMaxLength 64M\n",
            db.display(),
            dir.join("clamd.log").display()
        ),
    )
    .unwrap();
    let enfant = tokio::process::Command::new(bin)
        .arg("-c")
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let debut = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            debut.elapsed() < Duration::from_secs(60),
            "clamd did not start"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    ClamdPrive {
        _enfant: enfant,
        url: format!("tcp://127.0.0.1:{port}"),
        db,
    }
}

fn signature(nom: &str, chaine: &str) -> String {
    let hex: String = chaine.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{nom}:0:*:{hex}\n")
}

/// A file found clean, then a signature published for it: `depot-server antivirus
/// reanalyser` (run after the database update) quarantines it, and it is flagged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reanalyse_apres_une_mise_a_jour_des_signatures() {
    if commun::requis("DEPOT_TEST_CLAMD").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let nouveau = "DEPOT-TEST-MARQUEUR-NOUVEAU-0002";
    let clamd = clamd_prive(
        dir.path(),
        &signature("Depot.Test.Ancien", "PAS-DANS-CE-FICHIER"),
    )
    .await;
    let data = dir.path().join("data");
    let (jeton, bloc) = commun::jeton_gestionnaire("agent-1", "instruction");
    let comptes = dir.path().join("gestionnaires.toml");
    std::fs::write(&comptes, bloc).unwrap();
    let s = commun::lancer(
        &data,
        &[
            "--antivirus",
            &clamd.url,
            "--antivirus-intervalle-s",
            "0",
            "--gestionnaires",
            comptes.to_str().unwrap(),
        ],
        &[],
    )
    .await
    .unwrap();
    let (numero, mdp) = s.demo();
    let session = commun::connexion(&s.url, &numero, &mdp).await;
    let f = commun::deposer(
        &session,
        "piece-identite",
        "CNI.pdf",
        pdf_texte_compresse(nouveau),
    )
    .await
    .unwrap();
    assert_eq!(
        f.analyse.unwrap().statut,
        "saine",
        "no signature for it yet"
    );

    // The signature is published; clamd reloads its database.
    std::fs::write(
        clamd.db.join("depot-test.ndb"),
        signature("Depot.Test.Ancien", "PAS-DANS-CE-FICHIER")
            + &signature("Depot.Test.Nouveau", nouveau),
    )
    .unwrap();
    let mut c = tokio::net::TcpStream::connect(clamd.url.trim_start_matches("tcp://"))
        .await
        .unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut c, b"zRELOAD\0")
        .await
        .unwrap();
    // Until clamd uses the new database.
    let verif = depot_clamav::Clamd::new(
        depot_clamav::Adresse::parse(&clamd.url).unwrap(),
        Duration::from_secs(10),
    );
    let debut = Instant::now();
    loop {
        use depot_core::antivirus::Antivirus;
        let mut a = verif.ouvrir().await.unwrap();
        a.nourrir(pdf_texte_compresse(nouveau).into())
            .await
            .unwrap();
        if matches!(
            a.verdict().await,
            Ok(depot_core::antivirus::Verdict::Infecte { .. })
        ) {
            break;
        }
        assert!(
            debut.elapsed() < Duration::from_secs(60),
            "clamd did not reload"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    let o = std::process::Command::new(env!("CARGO_BIN_EXE_depot-server"))
        .args([
            "antivirus",
            "reanalyser",
            "--tout",
            "--antivirus",
            &clamd.url,
            "--data",
        ])
        .arg(&data)
        .output()
        .unwrap();
    let sortie = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{sortie} {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        sortie.contains("1 infecté(s) mis en quarantaine"),
        "{sortie}"
    );

    let d = session.dossier().await.unwrap();
    let p = d
        .pieces
        .iter()
        .find(|p| p.code == "piece-identite")
        .unwrap();
    let a = p.fichiers[0].analyse.clone().unwrap();
    assert_eq!(a.statut, "infectee");
    assert_eq!(
        a.signature.as_deref(),
        Some("Depot.Test.Nouveau.UNOFFICIAL")
    );
    assert_eq!(p.statut, "manquante", "to replace");
    assert_eq!(
        statut_gestion(&s.url, &jeton, &numero, &f.id).await,
        (409, "fichier_infecte".to_owned())
    );
}
