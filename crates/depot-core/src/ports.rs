//! Ports: what the core needs from the outside world, as traits.
//!
//! Adapters implement them (`depot-fs`, `depot-s3`, a CDG's own database); the core never
//! names an adapter. In-memory implementations live in [`crate::memoire`].

use std::pin::Pin;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_core::Stream;

use crate::dossier::{Dossier, Evenement};
use crate::erreur::StorageError;
use crate::ids::{FichierId, NumeroDossier, Sha256};

/// The current instant. Rules never read the system clock: the service asks this port,
/// tests fix it.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct HorlogeSysteme;

impl Clock for HorlogeSysteme {
    fn now(&self) -> DateTime<Utc> {
        DateTime::<Utc>::from(std::time::SystemTime::now())
    }
}

/// A clock that says what it is told: for tests, demos and replay.
#[derive(Debug)]
pub struct HorlogeFixe(Mutex<DateTime<Utc>>);

impl HorlogeFixe {
    /// A clock stopped at `instant`.
    pub fn new(instant: DateTime<Utc>) -> Self {
        Self(Mutex::new(instant))
    }

    /// Moves the clock to `instant`.
    pub fn regler(&self, instant: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = instant;
    }
}

impl Clock for HorlogeFixe {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Source of randomness for identifiers and salts.
pub trait Random: Send + Sync {
    /// Fills `octets` with unpredictable bytes.
    fn remplir(&self, octets: &mut [u8]);
}

/// The operating system's generator.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRandom;

impl Random for SystemRandom {
    fn remplir(&self, octets: &mut [u8]) {
        // getrandom only fails when the OS has no entropy source at all; there is no
        // sensible way to continue issuing identifiers then.
        #[allow(clippy::expect_used)]
        getrandom::fill(octets).expect("le système ne fournit pas d'aléa");
    }
}

/// Runs CPU-heavy work (the end of a PDF's analysis, a whole-file parse) away from the
/// caller's event loop, with as many at once as the machine can take. The core names no
/// runtime: an adapter supplies the pool (depot-http: tokio's blocking threads behind a
/// semaphore); [`EnLigne`] runs the work in place.
#[async_trait]
pub trait Blocking: Send + Sync {
    /// Runs `work` to completion. `Err` only when the pool no longer accepts work (the
    /// server is shutting down).
    async fn run(&self, work: Box<dyn FnOnce() + Send>) -> Result<(), PoolFermee>;
}

/// The pool of [`Blocking`] work is shut down.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("le serveur s'arrête : le travail n'a pas été exécuté")]
pub struct PoolFermee;

/// Runs blocking work in place, on the caller's thread: for tests and for callers without
/// an event loop to protect.
#[derive(Debug, Default, Clone, Copy)]
pub struct EnLigne;

#[async_trait]
impl Blocking for EnLigne {
    async fn run(&self, work: Box<dyn FnOnce() + Send>) -> Result<(), PoolFermee> {
        work();
        Ok(())
    }
}

/// Runs `f` through `pool` and returns what it returned.
pub(crate) async fn executer<T: Send + 'static>(
    pool: &dyn Blocking,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PoolFermee> {
    let sortie = std::sync::Arc::new(Mutex::new(None));
    let s = sortie.clone();
    pool.run(Box::new(move || {
        let r = f();
        *s.lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
    }))
    .await?;
    // A pool that returned Ok without running the work broke its contract.
    let r = sortie.lock().unwrap_or_else(|p| p.into_inner()).take();
    r.ok_or(PoolFermee)
}

/// A stored value with the version the store holds it at.
#[derive(Debug, Clone, PartialEq)]
pub struct Versionne<T> {
    /// The value.
    pub valeur: T,
    /// Its version: 1 after creation, +1 on each successful save.
    pub version: u64,
}

/// Persistence of dossier records, with compare-and-swap on the version, and of their
/// journals, append-only.
///
/// A record keeps the journal's last entry; the entries themselves are kept apart, so that
/// the record every operation rewrites does not grow with the history. `create` and `save`
/// append [`Dossier::entrees_a_ecrire`] to the dossier's journal **in the same transaction
/// as the record, or before it** (see that method), never after.
#[async_trait]
pub trait DossierStore: Send + Sync {
    /// Stores a new dossier at version 1, with its journal's first entries. A taken number
    /// is `AlreadyExists`.
    async fn create(&self, dossier: &Dossier) -> Result<(), StorageError>;

    /// Loads a dossier and its version. Unknown number: `NotFound`.
    async fn load(&self, numero: &NumeroDossier) -> Result<Versionne<Dossier>, StorageError>;

    /// Replaces the dossier if the stored version is still `expected`, appends its new
    /// journal entries, and returns the new version (`expected + 1`). Another version
    /// stored: `Conflict`, the record unchanged (entries already appended are orphans).
    async fn save(&self, dossier: &Dossier, expected: u64) -> Result<u64, StorageError>;

    /// Every journal entry stored for the dossier, in any order, orphans and repeats
    /// included: [`crate::reconstituer_journal`] keeps the chain the record names. None:
    /// an empty list.
    async fn journal(&self, numero: &NumeroDossier) -> Result<Vec<Evenement>, StorageError>;

    /// Every dossier number held, in no particular order.
    async fn list(&self) -> Result<Vec<NumeroDossier>, StorageError>;
}

/// A stream of file content.
pub type FluxOctets = Pin<Box<dyn Stream<Item = Result<Bytes, StorageError>> + Send>>;

/// A one-chunk stream over bytes already in memory.
pub fn flux_de(octets: Bytes) -> FluxOctets {
    Box::pin(futures_util::stream::once(async move { Ok(octets) }))
}

/// Where one file's content lives: derived from ids the core generated, never from the
/// candidate's file name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CleContenu {
    /// The dossier.
    pub numero: NumeroDossier,
    /// The file.
    pub fichier: FichierId,
}

/// What a store reports after writing content: computed by the store while it streamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContenuStocke {
    /// Bytes written.
    pub taille: u64,
    /// SHA-256 of the bytes written.
    pub sha256: Sha256,
}

/// Persistence of file contents. Contents are write-once.
#[async_trait]
pub trait PieceStore: Send + Sync {
    /// Writes new content under `cle`, streaming, and reports its size and SHA-256.
    ///
    /// The contract every store keeps (the conformance suite checks it):
    /// - the content becomes visible under `cle` only once `contenu` has **ended** (returned
    ///   `None`) and every byte is durable; then it is returned whole by [`get`](Self::get);
    /// - a stream that yields an `Err`, or a `put` future **dropped** before it completes
    ///   (the client went away), publishes nothing: `cle` stays absent and any temporary
    ///   data is removed;
    /// - an existing key is `AlreadyExists` and is left untouched (write-once).
    async fn put(
        &self,
        cle: &CleContenu,
        contenu: FluxOctets,
    ) -> Result<ContenuStocke, StorageError>;

    /// Reads content as a stream. Unknown key: `NotFound`.
    async fn get(&self, cle: &CleContenu) -> Result<FluxOctets, StorageError>;

    /// Removes content. Removing what is not there succeeds (a retried delete is done).
    async fn delete(&self, cle: &CleContenu) -> Result<(), StorageError>;

    /// The file ids stored for a dossier (for garbage collection and audits).
    async fn list(&self, numero: &NumeroDossier) -> Result<Vec<FichierId>, StorageError>;
}

/// Reads a whole stream into memory (tests, small files).
pub async fn lire_tout(mut flux: FluxOctets) -> Result<Vec<u8>, StorageError> {
    use futures_util::StreamExt;
    let mut out = Vec::new();
    while let Some(morceau) = flux.next().await {
        out.extend_from_slice(&morceau?);
    }
    Ok(out)
}
