//! Child process for depot-fs's crash and cross-process tests (not a user tool).
//!
//! - `depot-fs-torture run DIR`: concurrent pré-inscriptions, uploads, closures and deferred
//!   uploads, forever, printing one line per acknowledged operation (after it returned):
//!   `DEPOT <numero> <id> <sha256>` and `CLOTURE <numero> <empreinte>`. The parent kills it
//!   with SIGKILL and checks that everything acknowledged survived.
//! - `depot-fs-torture cas DIR NUMERO N`: N compare-and-swap saves on one dossier, retrying
//!   on conflict; prints `SAUVES <count>`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use depot_core::exemples::pdf_minimal;
use depot_core::memoire::MemoireIdentifiants;
use depot_core::{
    Concours, Dossier, DossierStore, Espace, HorlogeFixe, Identite, NumeroDossier, Ports,
    StorageError, SystemRandom, Voie,
};
use depot_fs::FsStore;

fn ecrire(sortie: &Mutex<std::io::Stdout>, ligne: String) {
    let s = sortie.lock().unwrap_or_else(|p| p.into_inner());
    let mut l = s.lock();
    let _ = writeln!(l, "{ligne}");
    let _ = l.flush();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("runtime : {e}");
            std::process::exit(2);
        }
    };
    let code = match args.get(1).map(String::as_str) {
        Some("run") if args.len() == 3 => runtime.block_on(run(&args[2])),
        Some("cas") if args.len() == 5 => runtime.block_on(cas(&args[2], &args[3], &args[4])),
        _ => {
            eprintln!("usage : depot-fs-torture run DIR | cas DIR NUMERO N");
            2
        }
    };
    std::process::exit(code);
}

fn concours() -> Concours {
    match Concours::from_toml(include_str!(
        "../../../../examples/concours/animateur-2025.toml"
    )) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    }
}

/// Pré-inscription happens while it is open (1 April 2025)…
fn preinscription() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_743_500_000, 0).unwrap_or_default()
}

/// …and deposits and closures a week before the deadline.
fn maintenant() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_744_286_400, 0).unwrap_or_default() // 2025-04-10T12:00Z
}

async fn run(dir: &str) -> i32 {
    let store = match FsStore::open(dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let c = concours();
    let ports = Ports::avec_stores(
        Arc::new(store.clone()),
        Arc::new(store.clone()),
        Arc::new(MemoireIdentifiants::new()),
    )
    .avec_horloge(Arc::new(HorlogeFixe::new(maintenant())));
    let espace = match Espace::new(vec![c.clone()], ports) {
        Ok(e) => Arc::new(e),
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let sortie = Arc::new(Mutex::new(std::io::stdout()));
    let pdf = Bytes::from(pdf_minimal());
    let mut taches = Vec::new();
    for t in 0..4usize {
        let (espace, store, sortie, pdf, c) = (
            espace.clone(),
            store.clone(),
            sortie.clone(),
            pdf.clone(),
            c.clone(),
        );
        taches.push(tokio::spawn(async move {
            loop {
                let voie = if t % 2 == 0 {
                    Voie::Externe
                } else {
                    Voie::Interne
                };
                let n = NumeroDossier::generer(c.session, &c.code, &SystemRandom);
                let Ok(identite) = Identite::parse("Torture", "Test", "t@exemple.fr") else {
                    return;
                };
                let Ok((d, _)) =
                    Dossier::preinscrire(n.clone(), &c, voie, identite, &[], preinscription())
                else {
                    eprintln!("préinscription refusée");
                    return;
                };
                if store.create(&d).await.is_err() {
                    continue;
                }
                // Upload and closure race on the same dossier.
                let e2 = espace.clone();
                let (n2, p2) = (n.clone(), pdf.clone());
                let premier = espace
                    .deposer(&n, "piece-identite", "cni.pdf", pdf.clone())
                    .await;
                if let Ok(f) = &premier {
                    ecrire(&sortie, format!("DEPOT {n} {} {}", f.id, f.sha256));
                }
                let course = tokio::spawn(async move {
                    e2.deposer(&n2, "piece-identite", "verso.pdf", p2).await
                });
                let cloture = espace.cloturer(&n).await;
                if let Ok(Ok(f)) = course.await {
                    ecrire(&sortie, format!("DEPOT {n} {} {}", f.id, f.sha256));
                }
                if let Ok(r) = cloture {
                    ecrire(&sortie, format!("CLOTURE {n} {}", r.empreinte));
                    if voie == Voie::Interne
                        && let Ok(f) = espace
                            .deposer(&n, "arretes", "arrete.pdf", pdf.clone())
                            .await
                    {
                        ecrire(&sortie, format!("DEPOT {n} {} {}", f.id, f.sha256));
                    }
                }
            }
        }));
    }
    for t in taches {
        let _ = t.await;
    }
    0
}

async fn cas(dir: &str, numero: &str, n: &str) -> i32 {
    let (Ok(store), Ok(numero), Ok(n)) = (
        FsStore::open(dir),
        NumeroDossier::parse(numero),
        n.parse::<usize>(),
    ) else {
        eprintln!("arguments invalides");
        return 2;
    };
    let mut sauves = 0;
    while sauves < n {
        let v = match store.load(&numero).await {
            Ok(v) => v,
            Err(e) => {
                eprintln!("{e}");
                return 1;
            }
        };
        match store.save(&v.valeur, v.version).await {
            Ok(_) => sauves += 1,
            Err(StorageError::Conflict(_)) => {}
            Err(e) => {
                eprintln!("{e}");
                return 1;
            }
        }
    }
    println!("SAUVES {sauves}");
    0
}
