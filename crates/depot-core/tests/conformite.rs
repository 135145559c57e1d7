//! The storage conformance suite and the fault sweep, on the in-memory stores (the same
//! suite runs on the filesystem and S3 adapters).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::sync::Arc;

use depot_core::memoire::{MemoireDossiers, MemoireIdentifiants, MemoirePieces};
use depot_core::testkit::{
    balayage_pannes, conformite_cas_concurrent, conformite_dossiers, conformite_identifiants,
    conformite_pieces,
};
use futures_executor::block_on;

#[test]
fn memoire_dossiers() {
    block_on(conformite_dossiers(&MemoireDossiers::new()));
}

#[test]
fn memoire_cas_concurrent_avec_des_threads() {
    let store: Arc<dyn depot_core::DossierStore> = Arc::new(MemoireDossiers::new());
    block_on(conformite_cas_concurrent(store, 16, |f| async move {
        std::thread::spawn(move || block_on(f))
            .join()
            .unwrap_or(false)
    }));
}

#[test]
fn memoire_pieces() {
    block_on(conformite_pieces(&MemoirePieces::new()));
}

#[test]
fn memoire_identifiants() {
    block_on(conformite_identifiants(&MemoireIdentifiants::new()));
}

#[test]
fn memoire_balayage_des_pannes() {
    let r = block_on(balayage_pannes(
        Arc::new(MemoireDossiers::new()),
        Arc::new(MemoirePieces::new()),
    ));
    eprintln!("fault sweep on memory stores: {r:?}");
    // upload: load, put, load, save; delete: load, save, delete; closure: load, save.
    assert!(
        r.depot >= 3 && r.suppression >= 3 && r.cloture >= 2,
        "{r:?}"
    );
}

#[test]
fn memoire_cles() {
    block_on(depot_core::testkit::conformite_cles(
        &depot_core::memoire::MemoireCles::new(),
    ));
}

#[test]
fn memoire_sessions() {
    block_on(depot_core::testkit::conformite_sessions(
        &depot_core::memoire::MemoireSessions::default(),
    ));
    block_on(depot_core::testkit::conformite_compte_sessions(
        &depot_core::memoire::MemoireSessions::default(),
        true,
    ));
}

#[test]
fn memoire_compteurs() {
    block_on(depot_core::testkit::conformite_compteurs(
        &depot_core::memoire::MemoireCompteurs::default(),
    ));
}
