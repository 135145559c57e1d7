//! Threads for CPU-heavy work, with no runtime: the [`Blocking`] pool that ends a file's
//! analysis, and the argon2 pool that hashes passwords.
//!
//! # Design
//!
//! Both are a fixed set of named threads fed by a queue, answering through a one-shot
//! channel the caller awaits. A flood of work queues instead of multiplying threads, so
//! CPU and memory stay bounded whatever the load; the caller's event loop never runs the
//! work itself. The argon2 pool is its own pool because each of its threads keeps argon2's
//! 19 MiB of working memory from one hash to the next (allocating it per hash on a
//! runtime's blocking threads let the allocator keep a copy per thread arena: 900 MiB in a
//! login rush).

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures_channel::oneshot;

use crate::auth::{Argon2id, Hacheur, HashMotDePasse, MemoireArgon2, MotDePasse};
use crate::erreur::StorageError;
use crate::ports::{Blocking, PoolFermee};

/// Starts `fils` threads named `nom-N` that take jobs from one queue and run them with a
/// per-thread state made by `etat`. Returns the queue's sender.
fn demarrer<J: Send + 'static, E: 'static>(
    nom: &str,
    fils: usize,
    etat: impl Fn() -> E + Send + Sync + 'static,
    travail: impl Fn(&mut E, J) + Send + Sync + 'static,
) -> mpsc::Sender<J> {
    let (envoi, reception) = mpsc::channel::<J>();
    let reception = Arc::new(Mutex::new(reception));
    let etat = Arc::new(etat);
    let travail = Arc::new(travail);
    for n in 0..fils.max(1) {
        let (reception, etat, travail) = (reception.clone(), etat.clone(), travail.clone());
        // A thread that cannot start leaves fewer workers; with none at all, the jobs'
        // one-shot channels are dropped and every caller gets `PoolFermee`.
        let _ = std::thread::Builder::new()
            .name(format!("{nom}-{n}"))
            .spawn(move || {
                let mut e = etat();
                loop {
                    let job = match reception.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(j) => travail(&mut e, j),
                        Err(_) => return,
                    }
                }
            });
    }
    envoi
}

/// The number of cores, 2 when it cannot be known.
fn coeurs() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

type Travail = Box<dyn FnOnce() + Send>;

/// A [`Blocking`] pool of threads: at most as many jobs run at once as it has threads,
/// the others wait their turn.
pub struct ThreadPool {
    envoi: Mutex<mpsc::Sender<(Travail, oneshot::Sender<()>)>>,
}

impl ThreadPool {
    /// Two threads per core: the end of an analysis is CPU work, with short waits for
    /// memory.
    pub fn new() -> Self {
        Self::avec_fils(2 * coeurs())
    }

    /// A pool of `fils` threads (at least one).
    pub fn avec_fils(fils: usize) -> Self {
        let envoi = demarrer(
            "depot-travail",
            fils,
            || (),
            |_, (travail, fait): (Travail, oneshot::Sender<()>)| {
                // A panicking job loses its answer (the caller gets `PoolFermee`), not the
                // thread.
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(travail)).is_ok() {
                    let _ = fait.send(());
                }
            },
        );
        Self {
            envoi: Mutex::new(envoi),
        }
    }
}

impl Default for ThreadPool {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ThreadPool { .. }")
    }
}

#[async_trait]
impl Blocking for ThreadPool {
    async fn run(&self, work: Box<dyn FnOnce() + Send>) -> Result<(), PoolFermee> {
        let (fait, attente) = oneshot::channel();
        let envoye = self
            .envoi
            .lock()
            .is_ok_and(|e| e.send((work, fait)).is_ok());
        if !envoye {
            return Err(PoolFermee);
        }
        attente.await.map_err(|_| PoolFermee)
    }
}

enum Argon2Job {
    Hacher(
        MotDePasse,
        oneshot::Sender<Result<HashMotDePasse, StorageError>>,
    ),
    Verifier(HashMotDePasse, MotDePasse, oneshot::Sender<bool>),
}

/// Two queues, one lock: verifications (logins) are always taken before hashes
/// (pré-inscriptions), so that a candidate logging in never waits behind a burst of
/// pré-inscriptions. Closed when the pool is dropped.
#[derive(Default)]
struct Files {
    etat: Mutex<(
        std::collections::VecDeque<Argon2Job>,
        std::collections::VecDeque<Argon2Job>,
        bool,
    )>,
    signal: std::sync::Condvar,
}

impl Files {
    fn pousser(&self, job: Argon2Job) -> bool {
        let Ok(mut e) = self.etat.lock() else {
            return false;
        };
        if e.2 {
            return false;
        }
        match job {
            j @ Argon2Job::Verifier(..) => e.0.push_back(j),
            j @ Argon2Job::Hacher(..) => e.1.push_back(j),
        }
        self.signal.notify_one();
        true
    }

    /// The next job, verifications first; `None` once closed.
    fn prendre(&self) -> Option<Argon2Job> {
        let mut e = self.etat.lock().ok()?;
        loop {
            if let Some(j) = e.0.pop_front().or_else(|| e.1.pop_front()) {
                return Some(j);
            }
            if e.2 {
                return None;
            }
            e = self.signal.wait(e).ok()?;
        }
    }

    fn fermer(&self) {
        if let Ok(mut e) = self.etat.lock() {
            e.2 = true;
        }
        self.signal.notify_all();
    }
}

/// Password hashing on its own threads, one per core, each keeping argon2's working memory
/// from one hash to the next (see the module's design note). Logins go before
/// pré-inscriptions.
pub struct PoolArgon2 {
    files: Arc<Files>,
}

impl PoolArgon2 {
    /// A pool as wide as the machine.
    pub fn new() -> Self {
        Self::avec_fils(coeurs())
    }

    /// A pool of `fils` threads (at least one). If no thread can be started, every hash
    /// fails with `Unavailable` instead of waiting forever.
    pub fn avec_fils(fils: usize) -> Self {
        let files = Arc::new(Files::default());
        let mut demarres = 0;
        for n in 0..fils.max(1) {
            let files = files.clone();
            let fil = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    let (argon2, mut memoire) = (Argon2id::default(), MemoireArgon2::default());
                    while let Some(job) = files.prendre() {
                        match job {
                            Argon2Job::Hacher(mdp, reponse) => {
                                let _ = reponse.send(argon2.hacher_avec(&mdp, &mut memoire));
                            }
                            Argon2Job::Verifier(hash, mdp, reponse) => {
                                let _ =
                                    reponse.send(argon2.verifier_avec(&hash, &mdp, &mut memoire));
                            }
                        }
                    }
                });
            demarres += usize::from(fil.is_ok());
        }
        if demarres == 0 {
            files.fermer();
        }
        Self { files }
    }

    fn soumettre(&self, job: Argon2Job) -> bool {
        self.files.pousser(job)
    }
}

impl Drop for PoolArgon2 {
    fn drop(&mut self) {
        self.files.fermer();
    }
}

impl Default for PoolArgon2 {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for PoolArgon2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PoolArgon2 { .. }")
    }
}

#[async_trait]
impl Hacheur for PoolArgon2 {
    async fn hacher(&self, mdp: &MotDePasse) -> Result<HashMotDePasse, StorageError> {
        let (tx, rx) = oneshot::channel();
        let fermee = || StorageError::Unavailable("pool de hachage fermé".into());
        let copie = MotDePasse::new(mdp.exposer().to_owned());
        if !self.soumettre(Argon2Job::Hacher(copie, tx)) {
            return Err(fermee());
        }
        rx.await.map_err(|_| fermee())?
    }

    async fn verifier(&self, hash: &HashMotDePasse, mdp: &MotDePasse) -> bool {
        let (tx, rx) = oneshot::channel();
        let copie = MotDePasse::new(mdp.exposer().to_owned());
        self.soumettre(Argon2Job::Verifier(hash.clone(), copie, tx)) && rx.await.unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::executer;

    #[test]
    fn le_travail_tourne_sur_un_fil_du_pool() {
        let pool = ThreadPool::avec_fils(2);
        let nom = futures_executor::block_on(executer(&pool, || {
            std::thread::current().name().map(str::to_owned)
        }));
        assert_eq!(
            nom.unwrap()
                .as_deref()
                .map(|n| n.starts_with("depot-travail-")),
            Some(true)
        );
    }

    #[test]
    fn un_travail_qui_panique_ne_bloque_pas_l_appelant() {
        let pool = ThreadPool::avec_fils(1);
        let r = futures_executor::block_on(executer(&pool, || -> u8 { panic!("boum") }));
        assert_eq!(r, Err(PoolFermee));
        // The one thread survived and takes the next job.
        assert_eq!(futures_executor::block_on(executer(&pool, || 7)), Ok(7));
    }

    #[test]
    fn les_connexions_passent_avant_les_preinscriptions() {
        // Hashes queued first, then a verification: the verification is taken first; and a
        // closed queue still hands out what it holds, then ends.
        let files = Files::default();
        let hash = HashMotDePasse::depuis_phc("$argon2id$v=19$m=19456,t=2,p=1$c2Vs$aGFzaA".into());
        let mdp = || MotDePasse::from("x");
        for _ in 0..3 {
            assert!(files.pousser(Argon2Job::Hacher(mdp(), oneshot::channel().0)));
        }
        assert!(files.pousser(Argon2Job::Verifier(hash, mdp(), oneshot::channel().0)));
        assert!(matches!(files.prendre(), Some(Argon2Job::Verifier(..))));
        files.fermer();
        assert!(!files.pousser(Argon2Job::Hacher(mdp(), oneshot::channel().0)));
        for _ in 0..3 {
            assert!(matches!(files.prendre(), Some(Argon2Job::Hacher(..))));
        }
        assert!(files.prendre().is_none());
    }

    #[test]
    fn hacher_puis_verifier() {
        let pool = PoolArgon2::avec_fils(1);
        let mdp = MotDePasse::from("lune verte sur le toit de Laval");
        let h = futures_executor::block_on(pool.hacher(&mdp)).unwrap();
        assert!(futures_executor::block_on(pool.verifier(&h, &mdp)));
        let autre = MotDePasse::from("soleil rouge sous le pont");
        assert!(!futures_executor::block_on(pool.verifier(&h, &autre)));
    }
}
