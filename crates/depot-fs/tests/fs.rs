//! depot-fs against the storage conformance suite, faults, races, corruption, hostile
//! directories, a full or read-only disk, and other processes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use bytes::Bytes;
use depot_core::exemples::pdf_minimal;
use depot_core::memoire::MemoireIdentifiants;
use depot_core::ports::{CleContenu, flux_de};
use depot_core::testkit::{self, concours_du_seed, dossier_exemple};
use depot_core::{
    DossierStore, Espace, FichierId, HorlogeFixe, PieceStore, Ports, StorageError, SystemRandom,
    Voie,
};
use depot_fs::FsStore;

fn store() -> (tempfile::TempDir, FsStore) {
    let dir = tempfile::tempdir().unwrap();
    let s = FsStore::open(dir.path().join("data")).unwrap();
    (dir, s)
}

fn espace(s: &FsStore) -> Espace {
    espace_de(s, concours_du_seed())
}

fn espace_de(s: &FsStore, concours: depot_core::Concours) -> Espace {
    let ports = Ports::avec_stores(
        Arc::new(s.clone()),
        Arc::new(s.clone()),
        Arc::new(MemoireIdentifiants::new()),
    )
    .avec_horloge(Arc::new(
        HorlogeFixe::new(testkit::pendant_preinscription()),
    ));
    Espace::new(vec![concours], ports).unwrap()
}

#[tokio::test]
async fn conformite() {
    let (_d, s) = store();
    testkit::conformite_dossiers(&s).await;
    testkit::conformite_pieces(&s).await;
    testkit::conformite_identifiants(&s).await;
    testkit::conformite_cles(&s).await;
    testkit::conformite_sessions(&s).await;
    testkit::conformite_compte_sessions(&s, true).await;
    testkit::conformite_compteurs(&s).await;
}

/// Two stores on one directory (as two processes of one machine would open it) count the
/// same attempts: 10 callers each, at once, on 4 threads; none is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn compteurs_partages_entre_deux_ouvertures() {
    use depot_core::limitation::{Instants, appliquer};
    let (dir, a) = store();
    let b = FsStore::open(dir.path().join("data")).unwrap();
    let t = testkit::pendant_preinscription();
    let taches: Vec<_> = (0..20)
        .map(|i| {
            let s = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                for _ in 0..10 {
                    appliquer(
                        &s,
                        &["ip:192.0.2.1".to_owned()],
                        move |l: &mut [Instants]| l[0].push(t),
                    )
                    .await
                    .unwrap();
                }
            })
        })
        .collect();
    for t in taches {
        t.await.unwrap();
    }
    let n = appliquer(&a, &["ip:192.0.2.1".to_owned()], |l: &mut [Instants]| {
        l[0].len()
    })
    .await
    .unwrap();
    assert_eq!(n, 200);
    // No file name shows the key.
    for e in std::fs::read_dir(dir.path().join("data/compteurs")).unwrap() {
        let nom = e.unwrap().file_name().into_string().unwrap();
        assert!(
            nom.len() == 64 && nom.bytes().all(|c| c.is_ascii_hexdigit()),
            "{nom}"
        );
    }
}

/// Finding 11 of the outside test: directories were 0755, so any local user could list
/// every n° de dossier and file id. Every directory of the store is now 0700.
#[tokio::test]
async fn repertoires_reserves_au_service() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, s) = store();
    let e = espace(&s);
    let d = dossier_exemple(Voie::Externe);
    let n = d.numero().clone();
    s.create(&d).await.unwrap();
    e.deposer(&n, "piece-identite", "cni.pdf", Bytes::from(pdf_minimal()))
        .await
        .unwrap();
    testkit::conformite_cles(&s).await;
    let mut vus = 0;
    let mut pile = vec![dir.path().join("data")];
    while let Some(d) = pile.pop() {
        let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", d.display());
        vus += 1;
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                pile.push(e.path());
            }
        }
    }
    assert!(
        vus >= 4,
        "the root, records, contents and the dossier's own: {vus}"
    );
}

/// An unreadable key file or published list stops the server instead of being replaced:
/// a récépissé signed with a forgotten key could no longer be verified.
#[tokio::test]
async fn cles_illisibles_refusees_jamais_remplacees() {
    use depot_core::KeyStore;
    use zeroize::Zeroizing;
    let (_d, s) = store();
    let cles = s.racine().join("cles");
    std::fs::create_dir_all(&cles).unwrap();
    std::fs::write(cles.join("recepisse.ed25519"), "pas une clé\n").unwrap();
    let e = s
        .graine_ou_creer(Zeroizing::new([3; 32]))
        .await
        .unwrap_err();
    assert!(matches!(e, StorageError::Corrupt(_)), "{e:?}");
    assert_eq!(
        std::fs::read_to_string(cles.join("recepisse.ed25519")).unwrap(),
        "pas une clé\n",
        "left as it was"
    );
    std::fs::write(cles.join("publiques.json"), "{\"cles\": [tronqué").unwrap();
    assert!(matches!(s.publiees().await, Err(StorageError::Corrupt(_))));
    let signataire =
        depot_core::SignataireEd25519::depuis_graine(&[4; 32], testkit::pendant_preinscription());
    let cle = depot_core::Signataire::cle_publique(&signataire);
    assert!(matches!(
        s.publier(cle).await,
        Err(StorageError::Corrupt(_))
    ));
    assert_eq!(
        std::fs::read_to_string(cles.join("publiques.json")).unwrap(),
        "{\"cles\": [tronqué",
        "never reset"
    );
}

/// Instances starting together on one directory agree on one key.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn premier_demarrage_simultane_une_seule_cle() {
    use depot_core::KeyStore;
    use zeroize::Zeroizing;
    let (_d, s) = store();
    let mut taches = Vec::new();
    for i in 0..16u8 {
        let s = FsStore::open(s.racine()).unwrap();
        taches.push(tokio::spawn(async move {
            let graine = *s.graine_ou_creer(Zeroizing::new([i; 32])).await.unwrap();
            let signataire = depot_core::SignataireEd25519::depuis_graine(
                &graine,
                testkit::pendant_preinscription(),
            );
            s.publier(depot_core::Signataire::cle_publique(&signataire))
                .await
                .unwrap();
            graine
        }));
    }
    let mut graines = Vec::new();
    for t in taches {
        graines.push(t.await.unwrap());
    }
    graines.dedup();
    assert_eq!(graines.len(), 1, "every instance got the same seed");
    assert_eq!(s.publiees().await.unwrap().cles.len(), 1);
    let restes: Vec<_> = std::fs::read_dir(s.racine().join("cles"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(restes.is_empty(), "no temporary file left: {restes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cas_entre_threads() {
    let (_d, s) = store();
    for _ in 0..20 {
        testkit::conformite_cas_concurrent(Arc::new(s.clone()), 8, |f| async move {
            tokio::spawn(f).await.unwrap_or(false)
        })
        .await;
    }
}

#[tokio::test]
async fn cas_entre_processus() {
    let (d, s) = store();
    let dossier = dossier_exemple(Voie::Externe);
    s.create(&dossier).await.unwrap();
    let (processus, par_processus) = (3, 60);
    let mut lances: Vec<_> = (0..processus)
        .map(|_| {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_depot-fs-torture"))
                .args([
                    "cas",
                    d.path().join("data").to_str().unwrap(),
                    dossier.numero().as_str(),
                    &par_processus.to_string(),
                ])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut total = 0;
    for enfant in lances.drain(..) {
        let sortie = enfant.wait_with_output().await.unwrap();
        assert!(sortie.status.success(), "{sortie:?}");
        let texte = String::from_utf8(sortie.stdout).unwrap();
        total += texte
            .trim()
            .strip_prefix("SAUVES ")
            .unwrap()
            .parse::<u64>()
            .unwrap();
    }
    assert_eq!(total, processus * par_processus);
    // No lost update: every successful save moved the version by exactly one.
    assert_eq!(s.load(dossier.numero()).await.unwrap().version, 1 + total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balayage_des_pannes() {
    let (_d, s) = store();
    let r = testkit::balayage_pannes(Arc::new(s.clone()), Arc::new(s.clone())).await;
    eprintln!("fault sweep on depot-fs: {r:?}");
    assert!(
        r.depot >= 3 && r.suppression >= 3 && r.cloture >= 2,
        "{r:?}"
    );
}

/// 1,000 rounds each of upload-vs-closure and closure-vs-closure on one dossier, with real
/// threads (a two-worker runtime).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn courses() {
    let (_d, s) = store();
    let e = Arc::new(espace(&s));
    let pdf = Bytes::from(pdf_minimal());
    let (mut avant, mut apres) = (0, 0);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..1000 {
        let d = dossier_exemple(Voie::Externe);
        let n = d.numero().clone();
        s.create(&d).await.unwrap();
        let chrono_depot = std::time::Instant::now();
        e.deposer(&n, "piece-identite", "cni.pdf", pdf.clone())
            .await
            .unwrap();
        let duree_depot = chrono_depot.elapsed().as_micros().max(1) as u64;
        let (e1, e2, e3, n1, n2, n3, p) = (
            e.clone(),
            e.clone(),
            e.clone(),
            n.clone(),
            n.clone(),
            n.clone(),
            pdf.clone(),
        );
        let depot = tokio::spawn(async move { e1.deposer(&n1, "diplome", "d.pdf", p).await });
        // Closures start after a varying delay, up to twice an upload's measured length on
        // this machine, so that both orders — upload first, closure first — happen.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let attente = std::time::Duration::from_micros(x % (2 * duree_depot));
        let c1 = tokio::spawn(async move {
            tokio::time::sleep(attente).await;
            e2.cloturer(&n2).await
        });
        let c2 = tokio::spawn(async move {
            tokio::time::sleep(attente).await;
            e3.cloturer(&n3).await
        });
        let (depot, c1, c2) = (
            depot.await.unwrap(),
            c1.await.unwrap().unwrap(),
            c2.await.unwrap().unwrap(),
        );
        assert_eq!(c1, c2, "two closures, one récépissé");
        let record = s.load(&n).await.unwrap().valeur;
        assert_eq!(
            record.recepisse(),
            Some(&c1),
            "exactly one closure recorded"
        );
        assert_eq!(
            c1.contenu.fichiers.len(),
            record.fichiers().len(),
            "récépissé lists exactly the record's files"
        );
        match depot {
            Ok(f) => {
                avant += 1;
                assert!(
                    record.fichier(&f.id).is_some(),
                    "acknowledged upload recorded"
                );
                assert!(
                    c1.contenu
                        .fichiers
                        .iter()
                        .any(|l| l.sha256 == f.sha256 && l.piece.as_str() == "diplome")
                );
            }
            Err(err) => {
                apres += 1;
                assert_eq!(err.code(), "dossier_cloture");
            }
        }
        let mut stockes = PieceStore::list(&s, &n).await.unwrap();
        stockes.sort();
        let mut listes: Vec<FichierId> = record.fichiers().iter().map(|f| f.id.clone()).collect();
        listes.sort();
        assert_eq!(stockes, listes, "no stray content");
    }
    eprintln!(
        "races on depot-fs: 1000 rounds, upload before closure {avant}, refused after {apres}"
    );
    assert!(
        avant > 0 && apres > 0,
        "both orders happen ({avant} / {apres})"
    );
}

fn chemin_fiche(d: &tempfile::TempDir, numero: &depot_core::NumeroDossier) -> std::path::PathBuf {
    d.path()
        .join("data/dossiers")
        .join(format!("{}.slots", numero.as_str()))
}

fn chemin_journal(d: &tempfile::TempDir, numero: &depot_core::NumeroDossier) -> std::path::PathBuf {
    d.path()
        .join("data/dossiers")
        .join(format!("{}.journal", numero.as_str()))
}

/// Flips one bit of slot `k`'s body (the slot is half the file).
fn abimer_emplacement(chemin: &Path, k: usize) {
    let mut o = std::fs::read(chemin).unwrap();
    let taille = o.len() / 2;
    o[k * taille + 200] ^= 0x04;
    std::fs::write(chemin, o).unwrap();
}

async fn chaine_entiere(s: &FsStore, numero: &depot_core::NumeroDossier) -> usize {
    let journal = s.journal(numero).await.unwrap();
    let relu = s.load(numero).await.unwrap().valeur;
    depot_core::reconstituer_journal(journal, relu.derniere_entree())
        .unwrap()
        .entrees
        .len()
}

#[tokio::test]
async fn corruption_detectee() {
    let (d, s) = store();
    let dossier = dossier_exemple(Voie::Externe);
    s.create(&dossier).await.unwrap();
    let chemin = chemin_fiche(&d, dossier.numero());
    let original = std::fs::read(&chemin).unwrap();
    // A flipped bit anywhere in the newest slot (version 1, slot 1; slot 0 holds the
    // placeholder of version 0, which is no record).
    let taille = original.len() / 2;
    for i in [taille + 10, taille + 300, taille + 500] {
        let mut abime = original.clone();
        abime[i] ^= 0x04;
        std::fs::write(&chemin, &abime).unwrap();
        assert!(
            matches!(
                s.load(dossier.numero()).await,
                Err(StorageError::Corrupt(_))
            ),
            "byte {i}"
        );
        // A save on a corrupt record is refused too: nothing is overwritten blindly.
        assert!(matches!(
            s.save(&dossier, 1).await,
            Err(StorageError::Corrupt(_))
        ));
    }
    // Truncated, or a size that is not two slots.
    for n in [original.len() - 10, taille, 0] {
        std::fs::write(&chemin, &original[..n]).unwrap();
        assert!(
            matches!(
                s.load(dossier.numero()).await,
                Err(StorageError::Corrupt(_))
            ),
            "{n} bytes"
        );
    }
    // A record file copied under another dossier's name.
    std::fs::write(&chemin, &original).unwrap();
    let autre = dossier_exemple(Voie::Externe);
    std::fs::copy(&chemin, chemin_fiche(&d, autre.numero())).unwrap();
    assert!(matches!(
        s.load(autre.numero()).await,
        Err(StorageError::Corrupt(_))
    ));
    assert!(matches!(
        s.save(&autre, 1).await,
        Err(StorageError::Corrupt(_))
    ));
    // The two slots swapped: each version must sit in its own slot.
    let mut croise = original[taille..].to_vec();
    croise.extend_from_slice(&original[..taille]);
    std::fs::write(&chemin, &croise).unwrap();
    assert!(matches!(
        s.load(dossier.numero()).await,
        Err(StorageError::Corrupt(_))
    ));
    std::fs::write(&chemin, &original).unwrap();
    assert!(s.load(dossier.numero()).await.is_ok());
}

/// A dossier created, then saved once with one more file: (directory, store, n°, version
/// 1, version 2).
async fn deux_versions() -> (
    tempfile::TempDir,
    FsStore,
    depot_core::NumeroDossier,
    depot_core::Dossier,
    depot_core::Dossier,
) {
    let (d, s) = store();
    let v1 = dossier_exemple(Voie::Externe);
    s.create(&v1).await.unwrap();
    let v2 = testkit::avec_un_fichier(&v1);
    assert_eq!(s.save(&v2, 1).await, Ok(2));
    (d, s, v1.numero().clone(), v1, v2)
}

/// A save torn by a crash while it wrote its slot: the other slot is the record (the
/// save was never acknowledged), and the next save writes over the torn slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn un_emplacement_dechire_laisse_la_version_precedente() {
    let (d, s, n, _, _) = deux_versions().await;
    // Version 3 would go to slot 1 (over version 1): torn there.
    abimer_emplacement(&chemin_fiche(&d, &n), 1);
    let lu = s.load(&n).await.unwrap();
    assert_eq!(lu.version, 2);
    assert_eq!(lu.valeur.fichiers().len(), 1);
    let v3 = testkit::avec_un_fichier(&lu.valeur);
    assert_eq!(s.save(&v3, 2).await, Ok(3));
    let lu = s.load(&n).await.unwrap();
    assert_eq!((lu.version, lu.valeur.fichiers().len()), (3, 2));
    assert_eq!(chaine_entiere(&s, &n).await, 3);
}

/// A slot damaged after its save was acknowledged: the journal goes past the other slot,
/// so the record is reported corrupt — never served one version behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn un_emplacement_abime_apres_son_acquit_est_signale() {
    let (d, s, n, v1, _) = deux_versions().await;
    let v3 = testkit::avec_un_fichier(&s.load(&n).await.unwrap().valeur);
    assert_eq!(s.save(&v3, 2).await, Ok(3));
    // Version 3 is in slot 1; version 2 in slot 0.
    abimer_emplacement(&chemin_fiche(&d, &n), 1);
    let e = s.load(&n).await.unwrap_err();
    assert!(
        matches!(&e, StorageError::Corrupt(m) if m.contains("version 3 est illisible")),
        "{e:?}"
    );
    assert!(matches!(
        s.save(&v3, 2).await,
        Err(StorageError::Corrupt(_))
    ));
    // Also when the save had no journal entry of its own (an outbox change).
    let (d, s) = store();
    s.create(&v1).await.unwrap();
    let meme = v1.tel_qu_enregistre();
    assert_eq!(s.save(&meme, 1).await, Ok(2));
    abimer_emplacement(&chemin_fiche(&d, &n), 0);
    assert!(matches!(s.load(&n).await, Err(StorageError::Corrupt(_))));
}

/// A crash after a slot was durable and before its journal entries were: the journal
/// reads them from the slot, the next save appends them first, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn un_crash_entre_emplacement_et_journal() {
    let (d, s) = store();
    let v1 = dossier_exemple(Voie::Externe);
    let n = v1.numero().clone();
    s.create(&v1).await.unwrap();
    let apres_creation = std::fs::metadata(chemin_journal(&d, &n)).unwrap().len();
    let v2 = testkit::avec_un_fichier(&v1);
    assert_eq!(s.save(&v2, 1).await, Ok(2));
    // The append of version 2's entry cut in the middle.
    let journal = chemin_journal(&d, &n);
    let plein = std::fs::metadata(&journal).unwrap().len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&journal)
        .unwrap();
    f.set_len(apres_creation + (plein - apres_creation) / 2)
        .unwrap();
    drop(f);
    assert_eq!(s.load(&n).await.unwrap().version, 2);
    assert_eq!(chaine_entiere(&s, &n).await, 2, "the slot's entry is read");
    let v3 = testkit::avec_un_fichier(&s.load(&n).await.unwrap().valeur);
    assert_eq!(s.save(&v3, 2).await, Ok(3));
    assert_eq!(chaine_entiere(&s, &n).await, 3);
    // Each entry once in the file: three entries and nothing else.
    let texte = std::fs::read_to_string(&journal).unwrap();
    let lignes: Vec<&str> = texte.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lignes.len(), 3, "{texte}");
    // A save without an entry (here, nothing changed) appends a line that is none; cut
    // entirely, it is appended again by the next save, once.
    let avant = std::fs::metadata(&journal).unwrap().len();
    let v4 = s.load(&n).await.unwrap().valeur.tel_qu_enregistre();
    assert_eq!(s.save(&v4, 3).await, Ok(4));
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&journal)
        .unwrap();
    f.set_len(avant).unwrap();
    drop(f);
    assert_eq!(chaine_entiere(&s, &n).await, 3);
    assert_eq!(s.save(&v4, 4).await, Ok(5));
    assert_eq!(chaine_entiere(&s, &n).await, 3);
    let texte = std::fs::read_to_string(&journal).unwrap();
    let lignes: Vec<&str> = texte.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lignes[3..],
        ["{\"enregistrement\":4}", "{\"enregistrement\":5}"],
        "{texte}"
    );
}

/// The newest save's entries are kept in its slot too, but only stand in for the journal's
/// lines when the journal stops short of them: a line altered in place still breaks the
/// chain (`journal verifier` reports it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn une_entree_alteree_n_est_pas_masquee_par_l_emplacement() {
    let (d, s, n, _, _) = deux_versions().await;
    let journal = chemin_journal(&d, &n);
    let mut octets = std::fs::read(&journal).unwrap();
    // The last digit of the last line, changed: same length, still JSON.
    let i = octets.iter().rposition(u8::is_ascii_digit).unwrap();
    octets[i] = if octets[i] == b'7' { b'8' } else { b'7' };
    std::fs::write(&journal, &octets).unwrap();
    let relu = s.load(&n).await.unwrap().valeur;
    let rupture =
        depot_core::reconstituer_journal(s.journal(&n).await.unwrap(), relu.derniere_entree())
            .unwrap_err();
    assert_eq!(rupture.position, 1, "{rupture:?}");
}

/// A journal longer or shorter than its record says (something else wrote to it, or a
/// journal and a record restored from different moments): saves are refused, nothing is
/// written over it; the record still reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn un_journal_incoherent_bloque_les_ecritures() {
    let (d, s, n, _, v2) = deux_versions().await;
    let journal = chemin_journal(&d, &n);
    let original = std::fs::read(&journal).unwrap();
    let mut plus = original.clone();
    plus.extend_from_slice(b"{\"position\":1,\"precedent\":\"ab");
    for contenu in [plus, Vec::new()] {
        std::fs::write(&journal, &contenu).unwrap();
        let e = s.save(&testkit::avec_un_fichier(&v2), 2).await.unwrap_err();
        assert!(
            matches!(&e, StorageError::Corrupt(m) if m.contains("attendus")),
            "{e:?}"
        );
        assert_eq!(std::fs::read(&journal).unwrap(), contenu, "left as it was");
        assert_eq!(s.load(&n).await.unwrap().version, 2);
    }
}

/// A record that outgrows its slots moves to a larger file; versions and journal follow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn un_enregistrement_qui_grandit_change_de_fichier() {
    let (d, s) = store();
    // The seed's concours with room for more files per piece.
    let concours = depot_core::Concours::from_toml(
        &include_str!("../../../examples/concours/animateur-2025.toml")
            .replace("max_fichiers = 2", "max_fichiers = 10")
            .replace("max_fichiers = 3", "max_fichiers = 10"),
    )
    .unwrap();
    let e = espace_de(&s, concours.clone());
    let dossier = dossier_exemple(Voie::Externe);
    let n = dossier.numero().clone();
    s.create(&dossier).await.unwrap();
    let chemin = chemin_fiche(&d, &n);
    let taille_initiale = std::fs::metadata(&chemin).unwrap().len();
    let mut deposes = 0;
    for piece in &concours.pieces {
        for i in 0..piece.max_fichiers {
            if e.deposer(
                &n,
                piece.code.as_str(),
                &format!("p{i}.pdf"),
                pdf_minimal().into(),
            )
            .await
            .is_ok()
            {
                deposes += 1;
            }
        }
    }
    let taille = std::fs::metadata(&chemin).unwrap().len();
    assert!(
        taille > taille_initiale,
        "{taille_initiale} → {taille} after {deposes} uploads"
    );
    let lu = s.load(&n).await.unwrap();
    assert_eq!(lu.version, 1 + deposes);
    assert_eq!(lu.valeur.fichiers().len() as u64, deposes);
    assert_eq!(
        chaine_entiere(&s, &n).await as u64,
        lu.valeur.longueur_journal()
    );
    // And it is written in place again afterwards.
    let v = testkit::avec_un_fichier(&lu.valeur);
    s.save(&v, lu.version).await.unwrap();
    assert_eq!(std::fs::metadata(&chemin).unwrap().len(), taille);
}

#[tokio::test]
async fn format_et_repertoires_hostiles() {
    let (d, s) = store();
    let racine = d.path().join("data");
    drop(s);
    // Another format version is refused.
    std::fs::write(racine.join("depot-fs.format"), "depot-fs 4\n").unwrap();
    assert!(matches!(
        FsStore::open(&racine),
        Err(StorageError::Corrupt(_))
    ));
    std::fs::write(racine.join("depot-fs.format"), depot_fs::FORMAT).unwrap();
    let s = FsStore::open(&racine).unwrap();
    // A pieces/<numero> directory that is a symlink to elsewhere is not written through.
    let ailleurs = d.path().join("ailleurs");
    std::fs::create_dir(&ailleurs).unwrap();
    let dossier = dossier_exemple(Voie::Externe);
    std::os::unix::fs::symlink(
        &ailleurs,
        racine.join("pieces").join(dossier.numero().as_str()),
    )
    .unwrap();
    let cle = CleContenu {
        numero: dossier.numero().clone(),
        fichier: FichierId::generer(&SystemRandom),
    };
    assert!(matches!(
        s.put(&cle, flux_de(Bytes::from_static(b"x"))).await,
        Err(StorageError::Denied(_))
    ));
    assert_eq!(
        std::fs::read_dir(&ailleurs).unwrap().count(),
        0,
        "nothing written outside"
    );
    // A content that is a symlink is not served.
    let autre = dossier_exemple(Voie::Externe);
    let cle2 = CleContenu {
        numero: autre.numero().clone(),
        fichier: FichierId::generer(&SystemRandom),
    };
    s.put(&cle2, flux_de(Bytes::from_static(b"ok")))
        .await
        .unwrap();
    let piege = FichierId::generer(&SystemRandom);
    std::os::unix::fs::symlink(
        "/etc/passwd",
        racine
            .join("pieces")
            .join(autre.numero().as_str())
            .join(piege.as_str()),
    )
    .unwrap();
    assert!(
        s.get(&CleContenu {
            numero: autre.numero().clone(),
            fichier: piege
        })
        .await
        .is_err()
    );
    // The data directory's own subdirectory as a symlink: refused at open.
    drop(s);
    let racine2 = d.path().join("data2");
    std::fs::create_dir(&racine2).unwrap();
    std::os::unix::fs::symlink(&ailleurs, racine2.join("dossiers")).unwrap();
    assert!(matches!(
        FsStore::open(&racine2),
        Err(StorageError::Denied(_))
    ));
}

#[tokio::test]
async fn temporaires_ignores_puis_nettoyes() {
    let (d, s) = store();
    let dossier = dossier_exemple(Voie::Externe);
    let cle = CleContenu {
        numero: dossier.numero().clone(),
        fichier: FichierId::generer(&SystemRandom),
    };
    s.put(&cle, flux_de(Bytes::from_static(b"contenu")))
        .await
        .unwrap();
    let dir = d.path().join("data/pieces").join(dossier.numero().as_str());
    std::fs::write(dir.join(".0123456789ABCDEF.deadbeef.tmp"), b"moitie").unwrap();
    std::fs::write(d.path().join("data/dossiers/.x.rec.00.tmp"), b"moitie").unwrap();
    assert_eq!(
        PieceStore::list(&s, dossier.numero()).await.unwrap(),
        vec![cle.fichier.clone()],
        "temporaries are never listed"
    );
    // Young temporaries survive open (another process may be writing them)…
    drop(s);
    let s = FsStore::open(d.path().join("data")).unwrap();
    assert!(dir.join(".0123456789ABCDEF.deadbeef.tmp").exists());
    // …and recover() removes them.
    assert_eq!(s.recover().unwrap(), 2);
    assert!(!dir.join(".0123456789ABCDEF.deadbeef.tmp").exists());
}

// ---- A full or read-only disk ------------------------------------------------------------

struct Montage(std::path::PathBuf);

impl Montage {
    /// A small tmpfs, when we may mount (root). Under CI a failure is an error; on a
    /// developer machine the test says loudly that it did not run.
    fn tmpfs(dir: &Path, taille: &str) -> Option<Self> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={taille}"), "tmpfs"])
            .arg(dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true: cannot mount a tmpfs for the disk-full test (run as root)");
            }
            eprintln!(
                "\n*** SKIPPED: disk-full / read-only test needs root to mount a tmpfs ***\n"
            );
            return None;
        }
        Some(Self(dir.to_path_buf()))
    }

    fn lecture_seule(&self) {
        assert!(
            Command::new("mount")
                .args(["-o", "remount,ro"])
                .arg(&self.0)
                .status()
                .unwrap()
                .success()
        );
    }
}

impl Drop for Montage {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[tokio::test]
async fn disque_plein_puis_lecture_seule_rien_n_est_perdu() {
    let d = tempfile::tempdir().unwrap();
    let Some(montage) = Montage::tmpfs(d.path(), "1m") else {
        return;
    };
    let s = FsStore::open(d.path().join("data")).unwrap();
    let e = espace(&s);
    let dossier = dossier_exemple(Voie::Externe);
    s.create(&dossier).await.unwrap();
    let n = dossier.numero().clone();
    let pdf = Bytes::from(pdf_minimal());
    let premier = e
        .deposer(&n, "piece-identite", "cni.pdf", pdf.clone())
        .await
        .unwrap();
    // Fill the disk with one large content.
    let gros = CleContenu {
        numero: n.clone(),
        fichier: FichierId::generer(&SystemRandom),
    };
    let err = s
        .put(&gros, flux_de(Bytes::from(vec![0u8; 2 << 20])))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StorageError::Unavailable(m) if m.contains("espace disque insuffisant")),
        "{err:?}"
    );
    assert!(
        matches!(s.get(&gros).await, Err(StorageError::NotFound(_))),
        "the failed content is not visible"
    );
    // Nearly full: fill what is left, then an upload must fail cleanly.
    let mut bouche = Vec::new();
    loop {
        let k = CleContenu {
            numero: n.clone(),
            fichier: FichierId::generer(&SystemRandom),
        };
        if s.put(&k, flux_de(Bytes::from(vec![0u8; 16 << 10])))
            .await
            .is_err()
        {
            break;
        }
        bouche.push(k);
    }
    // Then the last pages, one byte each (a record save rewrites its slot in place and
    // needs no new page: only a new content can fail).
    loop {
        let k = CleContenu {
            numero: n.clone(),
            fichier: FichierId::generer(&SystemRandom),
        };
        if s.put(&k, flux_de(Bytes::from_static(b"x"))).await.is_err() {
            break;
        }
        bouche.push(k);
    }
    let err = e
        .deposer(&n, "piece-identite", "verso.pdf", pdf.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "stockage_indisponible", "{err:?}");
    // What was stored is intact.
    let relu = s.load(&n).await.unwrap().valeur;
    assert_eq!(relu.fichiers().len(), 1);
    let (f, flux) = e.voir(&n, &premier.id).await.unwrap();
    assert_eq!(
        depot_core::ports::lire_tout(flux).await.unwrap(),
        pdf_minimal()
    );
    assert_eq!(f.sha256, premier.sha256);
    // Free space: the retry succeeds.
    for k in bouche {
        s.delete(&k).await.unwrap();
    }
    e.deposer(&n, "piece-identite", "verso.pdf", pdf.clone())
        .await
        .unwrap();
    // Read-only: writes are refused with Denied, reads still work.
    montage.lecture_seule();
    let err = e.cloturer(&n).await.unwrap_err();
    assert_eq!(err.code(), "stockage_refuse", "{err:?}");
    let k = CleContenu {
        numero: n.clone(),
        fichier: FichierId::generer(&SystemRandom),
    };
    assert!(matches!(
        s.put(&k, flux_de(pdf.clone())).await,
        Err(StorageError::Denied(_))
    ));
    assert_eq!(s.load(&n).await.unwrap().valeur.fichiers().len(), 2);
}

/// On a full disk, a save that cannot append its journal entries fails before its slot is
/// written: the error the caller gets means nothing changed (a slot needs no new space, so
/// without the journal's room reserved first, the save would be in the record and reported
/// failed).
#[tokio::test]
async fn disque_plein_une_sauvegarde_refusee_ne_change_rien() {
    let d = tempfile::tempdir().unwrap();
    let Some(_montage) = Montage::tmpfs(d.path(), "1m") else {
        return;
    };
    let s = FsStore::open(d.path().join("data")).unwrap();
    let dossier = dossier_exemple(Voie::Externe);
    let n = dossier.numero().clone();
    s.create(&dossier).await.unwrap();
    // Every page taken.
    for taille in [16 << 10, 1] {
        loop {
            let k = CleContenu {
                numero: n.clone(),
                fichier: FichierId::generer(&SystemRandom),
            };
            if s.put(&k, flux_de(Bytes::from(vec![0u8; taille])))
                .await
                .is_err()
            {
                break;
            }
        }
    }
    // Saves without an entry append a short line each: one of them needs a new page.
    let meme = dossier.tel_qu_enregistre();
    let mut version = 1;
    let erreur = loop {
        match s.save(&meme, version).await {
            Ok(v) => version = v,
            Err(e) => break e,
        }
        assert!(version < 10_000, "the journal never needed a new page");
    };
    assert!(
        matches!(&erreur, StorageError::Unavailable(m) if m.contains("espace disque insuffisant")),
        "{erreur:?}"
    );
    assert_eq!(
        s.load(&n).await.unwrap().version,
        version,
        "a refused save changed the record"
    );
}

/// A large content streamed in chunks of any size: the SHA-256 the store computes while
/// writing is the hash of the bytes at once, and so is what is read back.
#[tokio::test]
async fn grand_contenu_empreinte_exacte() {
    let (_dir, s) = store();
    let numero = dossier_exemple(Voie::Externe).numero().clone();
    let mut x: u32 = 7;
    let octets: Vec<u8> = (0..5 * 1024 * 1024 + 123)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect();
    let attendu = depot_core::Sha256::de(&octets);
    for morceau in [1000, 65_536, 3 * 1024 * 1024] {
        let cle = CleContenu {
            numero: numero.clone(),
            fichier: FichierId::generer(&SystemRandom),
        };
        let morceaux: Vec<Result<Bytes, StorageError>> = octets
            .chunks(morceau)
            .map(|m| Ok(Bytes::copy_from_slice(m)))
            .collect();
        let stocke = s
            .put(&cle, Box::pin(futures_util::stream::iter(morceaux)))
            .await
            .unwrap();
        assert_eq!(stocke.sha256, attendu, "chunks of {morceau}");
        assert_eq!(stocke.taille, octets.len() as u64);
        let mut lu = Vec::new();
        let mut flux = s.get(&cle).await.unwrap();
        while let Some(m) = futures_util::StreamExt::next(&mut flux).await {
            lu.extend_from_slice(&m.unwrap());
        }
        assert_eq!(depot_core::Sha256::de(&lu), attendu);
    }
}

/// Writes `dossier` as a record of formats 1 and 2 (`depot-fs-rec 1 <length> <sha256>`
/// then `{version, dossier}`) under `dossiers/<numero>.rec`, and returns its bytes.
fn ecrire_rec(dossiers: &Path, numero: &str, version: u64, dossier: &serde_json::Value) -> Vec<u8> {
    let corps =
        serde_json::to_vec(&serde_json::json!({"version": version, "dossier": dossier})).unwrap();
    let mut rec = format!(
        "depot-fs-rec 1 {} {}\n",
        corps.len(),
        depot_core::Sha256::de(&corps).hex()
    )
    .into_bytes();
    rec.extend_from_slice(&corps);
    std::fs::write(dossiers.join(format!("{numero}.rec")), &rec).unwrap();
    rec
}

/// A data directory of format 1 (journal inside each record), as depot wrote it before:
/// opens, is marked format 2, its record loads, and its journal moves to the dossier's
/// `.journal` file at the next write, chained and complete. An earlier depot would now
/// refuse the directory (its marker says 2) rather than misread records without a journal.
#[tokio::test]
async fn un_repertoire_au_format_1_se_met_a_niveau() {
    let dir = tempfile::tempdir().unwrap();
    let racine = dir.path().join("data");
    let dossiers = racine.join("dossiers");
    std::fs::create_dir_all(&dossiers).unwrap();
    std::fs::write(racine.join("depot-fs.format"), "depot-fs 1\n").unwrap();
    // The core's fixture of a record written by an earlier version, framed as format 1
    // framed it: `depot-fs-rec 1 <length> <sha256>` then `{version, dossier}`.
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../depot-core/tests/enregistrements/ouvert.json"
    ))
    .unwrap();
    let dossier: serde_json::Value = serde_json::from_str(&fixture).unwrap();
    let numero = dossier["numero"].as_str().unwrap().to_owned();
    let entrees = dossier["evenements"].as_array().unwrap().len();
    let rec = ecrire_rec(&dossiers, &numero, 3, &dossier);

    let s = FsStore::open(&racine).unwrap();
    assert_eq!(
        std::fs::read_to_string(racine.join("depot-fs.format")).unwrap(),
        depot_fs::FORMAT
    );
    let n = depot_core::NumeroDossier::parse(&numero).unwrap();
    let v = s.load(&n).await.unwrap();
    assert_eq!(v.version, 3);
    assert_eq!(v.valeur.entrees_a_ecrire().len(), entrees);
    assert!(s.journal(&n).await.unwrap().is_empty(), "not moved yet");
    // The next write moves the journal out of the record.
    let mut d = v.valeur.clone();
    d.journaliser_connexion(1, testkit::pendant_preinscription());
    assert_eq!(s.save(&d, 3).await, Ok(4));
    let relu = s.load(&n).await.unwrap().valeur;
    assert!(relu.entrees_a_ecrire().is_empty());
    let j = depot_core::reconstituer_journal(s.journal(&n).await.unwrap(), relu.derniere_entree())
        .unwrap();
    assert_eq!(j.entrees.len(), entrees + 1);
    // It now lives in a two-slot file, without its journal; the `.rec` is gone.
    let fiche = std::fs::read(dossiers.join(format!("{numero}.slots"))).unwrap();
    assert!(
        !String::from_utf8_lossy(&fiche).contains("\"evenements\""),
        "the record no longer holds the journal"
    );
    assert!(!dossiers.join(format!("{numero}.rec")).exists());
    // A crash between the new file and the old one's removal: the new file wins, the
    // dossier is listed once.
    std::fs::write(dossiers.join(format!("{numero}.rec")), &rec).unwrap();
    assert_eq!(DossierStore::list(&s).await.unwrap(), vec![n.clone()]);
    assert_eq!(s.load(&n).await.unwrap().version, 4);
    // The next opening removes the stale file.
    drop(s);
    let s = FsStore::open(&racine).unwrap();
    assert!(!dossiers.join(format!("{numero}.rec")).exists());
    assert_eq!(s.load(&n).await.unwrap().version, 4);
}

/// Format 2 appended a save's entries before writing its record: a crash in the middle of
/// an append left a torn line after the last record's entries. In a format-2 directory, the
/// next save (the one that moves the record to its slots) ends it; readers skip it, and
/// the chain is whole.
#[tokio::test]
async fn une_ligne_de_journal_dechiree_est_ignoree() {
    let dir = tempfile::tempdir().unwrap();
    let racine = dir.path().join("data");
    let dossiers = racine.join("dossiers");
    std::fs::create_dir_all(&dossiers).unwrap();
    std::fs::write(racine.join("depot-fs.format"), "depot-fs 2\n").unwrap();
    let dossier = dossier_exemple(Voie::Externe);
    let numero = dossier.numero().as_str().to_owned();
    // The record and journal format 2 wrote after the dossier's creation.
    let mut journal = Vec::new();
    for e in dossier.entrees_a_ecrire() {
        journal.push(b'\n');
        journal.extend_from_slice(&serde_json::to_vec(e).unwrap());
    }
    journal.push(b'\n');
    // A torn write: half an entry, no end of line.
    journal.extend_from_slice(b"{\"position\":1,\"precedent\":\"ab");
    std::fs::write(dossiers.join(format!("{numero}.journal")), journal).unwrap();
    ecrire_rec(
        &dossiers,
        &numero,
        1,
        &serde_json::to_value(dossier.tel_qu_enregistre()).unwrap(),
    );

    let s = FsStore::open(&racine).unwrap();
    let d2 = testkit::avec_un_fichier(&s.load(dossier.numero()).await.unwrap().valeur);
    assert_eq!(s.save(&d2, 1).await, Ok(2));
    let relu = s.load(dossier.numero()).await.unwrap().valeur;
    let j = depot_core::reconstituer_journal(
        s.journal(dossier.numero()).await.unwrap(),
        relu.derniere_entree(),
    )
    .unwrap();
    assert_eq!(j.entrees.len(), 2);
}

/// Sessions are written without fsync: after a machine crash a session file may be empty or
/// torn. Such a file is no session (the candidate logs in again), not an error.
#[tokio::test]
async fn une_session_dechiree_par_un_crash_n_est_pas_une_session() {
    use depot_core::session::{EspeceSession, SessionStockee, SessionStore};
    let (dir, s) = store();
    let t = testkit::pendant_preinscription();
    let empreinte = depot_core::Sha256::de(b"jeton");
    let session = SessionStockee {
        titulaire: "2025-ANI-AAAAAA".to_owned(),
        creee: t,
        vue: t,
        csrf: "csrf".to_owned(),
    };
    s.creer(EspeceSession::Candidat, &empreinte, &session)
        .await
        .unwrap();
    let heure = chrono::Duration::hours(1);
    assert_eq!(s.purger(t - heure, t - heure * 12).await.unwrap(), 0);
    assert!(
        s.lire(EspeceSession::Candidat, &empreinte)
            .await
            .unwrap()
            .is_some()
    );
    let fichier = std::fs::read_dir(dir.path().join("data/sessions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .ends_with(&empreinte.hex())
        })
        .unwrap();
    for dechire in [&b""[..], b"{\"titulaire\":\"2025-A", b"\0\0\0\0"] {
        std::fs::write(&fichier, dechire).unwrap();
        assert_eq!(
            s.lire(EspeceSession::Candidat, &empreinte).await.unwrap(),
            None
        );
    }
    // The hourly clean-up removes it, however recent (the intact one stayed, above).
    assert_eq!(s.purger(t - heure, t - heure * 12).await.unwrap(), 1);
    assert!(!fichier.exists());
}

/// Records are read in place (no trip to a blocking thread), yet a loop of reads — a round
/// over every dossier — still lets the other tasks of its thread run.
#[tokio::test(flavor = "current_thread")]
async fn une_boucle_de_lectures_laisse_passer_les_autres_taches() {
    let (_dir, s) = store();
    let d = dossier_exemple(Voie::Externe);
    s.create(&d).await.unwrap();
    let autre = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let a = autre.clone();
    tokio::spawn(async move { a.store(true, std::sync::atomic::Ordering::SeqCst) });
    let mut vu_a = None;
    for i in 0..1_000 {
        s.load(d.numero()).await.unwrap();
        if autre.load(std::sync::atomic::Ordering::SeqCst) {
            vu_a = Some(i);
            break;
        }
    }
    assert!(
        vu_a.is_some(),
        "the other task never ran during 1,000 reads on a one-thread runtime"
    );
}
