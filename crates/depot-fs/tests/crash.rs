//! Crash test: a child process uploads and closes concurrently in a loop; we SIGKILL it at
//! random moments, reopen the directory and check that nothing acknowledged was lost,
//! nothing is torn and every journal is whole. `DEPOT_FS_KILLS` raises the number of kills
//! (default 60).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use depot_core::ports::{CleContenu, lire_tout};
use depot_core::{DossierStore, NumeroDossier, PieceStore, Sha256};
use depot_fs::FsStore;

#[derive(Default)]
struct Acquits {
    depots: BTreeMap<(String, String), String>,
    clotures: BTreeMap<String, String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_ne_perd_ni_ne_dechire_rien() {
    let kills: usize = std::env::var("DEPOT_FS_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut acquis = Acquits::default();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut total_dossiers = 0;
    for tour in 0..kills {
        let mut enfant = Command::new(env!("CARGO_BIN_EXE_depot-fs-torture"))
            .args(["run", data.to_str().unwrap()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let sortie = enfant.stdout.take().unwrap();
        let lecteur = std::thread::spawn(move || {
            BufReader::new(sortie)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<String>>()
        });
        // A pseudo-random moment between 30 and 330 ms.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        std::thread::sleep(Duration::from_millis(30 + x % 300));
        enfant.kill().unwrap(); // SIGKILL
        enfant.wait().unwrap();
        for ligne in lecteur.join().unwrap() {
            let mots: Vec<&str> = ligne.split(' ').collect();
            match mots.as_slice() {
                ["DEPOT", n, id, sha] => {
                    acquis
                        .depots
                        .insert((n.to_string(), id.to_string()), sha.to_string());
                }
                ["CLOTURE", n, empreinte] => {
                    acquis.clotures.insert(n.to_string(), empreinte.to_string());
                }
                _ => panic!("unexpected line from the child: {ligne:?}"),
            }
        }
        total_dossiers = verifier(&data, &acquis, tour).await;
    }
    eprintln!(
        "crash test: {kills} SIGKILLs, {total_dossiers} dossiers, {} acknowledged uploads and {} acknowledged closures all intact",
        acquis.depots.len(),
        acquis.clotures.len()
    );
    assert!(
        !acquis.clotures.is_empty(),
        "the child must have made progress"
    );
}

async fn verifier(data: &std::path::Path, acquis: &Acquits, tour: usize) -> usize {
    let s = FsStore::open(data).unwrap();
    let numeros = DossierStore::list(&s).await.unwrap();
    let mut listes_partout = BTreeSet::new();
    for n in &numeros {
        let d = s
            .load(n)
            .await
            .unwrap_or_else(|e| panic!("kill {tour}: record {n} unreadable: {e}"))
            .valeur;
        // The journal is whole up to the record's head: a save cut between its slot and
        // its journal entries is completed from the slot.
        let journal = s.journal(n).await.unwrap();
        let j = depot_core::reconstituer_journal(journal, d.derniere_entree())
            .unwrap_or_else(|e| panic!("kill {tour}: journal of {n} broken: {e:?}"));
        assert_eq!(
            j.entrees.len() as u64,
            d.longueur_journal(),
            "kill {tour}: {n}"
        );
        let mut vus = BTreeSet::new();
        for f in d.fichiers() {
            assert!(
                vus.insert(f.id.clone()),
                "kill {tour}: {n} lists {} twice",
                f.id
            );
            let flux = s
                .get(&CleContenu {
                    numero: n.clone(),
                    fichier: f.id.clone(),
                })
                .await
                .unwrap_or_else(|e| {
                    panic!("kill {tour}: {n} lists {} but it is missing: {e}", f.id)
                });
            let octets = lire_tout(flux).await.unwrap();
            assert_eq!(
                Sha256::de(&octets),
                f.sha256,
                "kill {tour}: {n}/{} content differs",
                f.id
            );
            listes_partout.insert((n.as_str().to_owned(), f.id.as_str().to_owned()));
        }
        if let Some(r) = d.recepisse() {
            assert!(r.empreinte_valide(), "kill {tour}: {n} récépissé altered");
            assert_eq!(
                r.contenu.fichiers.len(),
                d.fichiers().iter().filter(|f| !f.apres_cloture).count()
            );
        }
    }
    for ((n, id), sha) in &acquis.depots {
        assert!(
            listes_partout.contains(&(n.clone(), id.clone())),
            "kill {tour}: acknowledged upload {n}/{id} lost"
        );
        let d = s
            .load(&NumeroDossier::parse(n).unwrap())
            .await
            .unwrap()
            .valeur;
        let f = d.fichiers().iter().find(|f| f.id.as_str() == id).unwrap();
        assert_eq!(&f.sha256.hex(), sha);
    }
    for (n, empreinte) in &acquis.clotures {
        let d = s
            .load(&NumeroDossier::parse(n).unwrap())
            .await
            .unwrap()
            .valeur;
        let r = d
            .recepisse()
            .unwrap_or_else(|| panic!("kill {tour}: acknowledged closure of {n} lost"));
        assert_eq!(
            &r.empreinte.hex(),
            empreinte,
            "kill {tour}: closed dossier {n} changed récépissé"
        );
    }
    numeros.len()
}
