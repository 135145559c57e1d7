//! Retention on disk: an identity piece purged by `Espace::conserver` leaves no content file
//! under the data directory, while its record (and SHA-256) and the other pieces stay.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use depot_core::exemples::pdf_minimal;
use depot_core::memoire::MemoireIdentifiants;
use depot_core::testkit::preinscrire_candidat;
use depot_core::{Concours, Decision, Espace, Gestionnaire, HorlogeFixe, Ports, Role};
use depot_fs::FsStore;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn fichiers_sous(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    if let Ok(l) = std::fs::read_dir(dir) {
        for e in l.flatten() {
            if e.path().is_dir() {
                v.extend(fichiers_sous(&e.path()));
            } else {
                v.push(e.path());
            }
        }
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn la_purge_efface_le_contenu_du_disque() {
    let texte = include_str!("../../../examples/concours/animateur-2025.toml").replacen(
        "code = \"piece-identite\"",
        "code = \"piece-identite\"\nidentite = true",
        1,
    ) + "\n[conservation]\npieces_identite_apres_decision = 30\n";
    let concours = Concours::from_toml(&texte).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = FsStore::open(dir.path()).unwrap();
    let horloge = Arc::new(HorlogeFixe::new(t("2025-04-01T10:00:00+02:00")));
    let ports = Ports::avec_stores(
        Arc::new(store.clone()),
        Arc::new(store.clone()),
        Arc::new(MemoireIdentifiants::new()),
    )
    .avec_horloge(horloge.clone());
    let e = Espace::new(vec![concours], ports).unwrap();
    let n = preinscrire_candidat(&e, "Durand", "camille@exemple.fr").await;
    horloge.regler(t("2025-04-10T10:00:00+02:00"));
    let cni = e
        .deposer(&n, "piece-identite", "CNI.pdf", pdf_minimal().into())
        .await
        .unwrap();
    e.deposer(&n, "diplome", "diplome.pdf", pdf_minimal().into())
        .await
        .unwrap();
    e.cloturer(&n).await.unwrap();
    let agent = Gestionnaire {
        id: "agent-1".into(),
        role: Role::Instruction,
    };
    e.decider(&agent, &n, Decision::Recevable).await.unwrap();
    let contenus = dir.path().join("pieces");
    assert_eq!(fichiers_sous(&contenus).len(), 2);
    horloge.regler(t("2025-04-10T10:00:00+02:00") + Duration::days(30));
    let b = e.conserver(false).await.unwrap();
    assert_eq!(b.faites.len(), 1);
    let restants = fichiers_sous(&contenus);
    assert_eq!(restants.len(), 1, "{restants:?}");
    assert!(
        !restants
            .iter()
            .any(|p| p.to_string_lossy().contains(cni.id.as_str())),
        "{restants:?}"
    );
    // The record is still there, with its SHA-256 and the instant of the purge.
    let d = e.consulter(&n).await.unwrap().dossier;
    assert_eq!(d.fichier(&cni.id).unwrap().sha256, cni.sha256);
    assert!(d.fichier(&cni.id).unwrap().purge_le.is_some());
}
