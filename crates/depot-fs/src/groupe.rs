//! Group commit of a directory's `fsync`: the saves that arrive together share one.
//!
//! Every record save ends with an `fsync` of `dossiers/`, which makes its `rename(2)`
//! durable. Under a burst (64 closures at once on deadline night) each save used to issue
//! its own; one `fsync` of the directory makes durable every entry the directory holds when
//! it is called, so a save whose rename is done only needs *an* `fsync` that **started after
//! its rename**. [`GroupeSync::synchroniser`] gives it that: if none is running, the caller
//! runs one for everybody who asked so far; if one is running (it may have started before
//! this rename), the caller waits for it to end, then for the next, which covers it.
//!
//! A failed `fsync` covers nobody: its error goes to the caller that ran it, and the others
//! waiting run their own.

use std::io;
use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// One directory's group commit. Shared by the threads of one store.
#[derive(Debug, Default)]
pub(crate) struct GroupeSync {
    etat: Mutex<Etat>,
    fini: Condvar,
}

#[derive(Debug, Default)]
struct Etat {
    /// Number given to the last request.
    demande: u64,
    /// Every request up to this number is durable.
    couvert: u64,
    /// An `fsync` is running.
    en_cours: bool,
}

impl GroupeSync {
    fn verrou(&self) -> MutexGuard<'_, Etat> {
        // The state is three integers, consistent after any panic of a holder.
        self.etat.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns once an `fsync` of `dir` started after this call has succeeded (by this
    /// thread or another). Call it after the change to make durable (the rename).
    pub(crate) fn synchroniser(&self, dir: &Path) -> io::Result<()> {
        self.synchroniser_avec(|| crate::fsync_dir(dir))
    }

    fn synchroniser_avec(&self, fsync: impl Fn() -> io::Result<()>) -> io::Result<()> {
        let mut e = self.verrou();
        e.demande += 1;
        let moi = e.demande;
        loop {
            if e.couvert >= moi {
                return Ok(());
            }
            if !e.en_cours {
                // Lead: everything asked so far is in the directory now.
                e.en_cours = true;
                let cible = e.demande;
                drop(e);
                let r = fsync();
                let mut e = self.verrou();
                e.en_cours = false;
                if r.is_ok() {
                    e.couvert = e.couvert.max(cible);
                }
                self.fini.notify_all();
                return r;
            }
            e = self.fini.wait(e).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    /// 16 threads × 50 requests: every request returns only after an fsync that started
    /// after it, and they share far fewer fsyncs than requests.
    #[test]
    fn chaque_demande_couverte_par_un_fsync_commence_apres_elle() {
        let groupe = Arc::new(GroupeSync::default());
        // A clock of events: each request takes a tick before asking; each fsync takes one
        // when it starts; a request is covered by an fsync whose start tick is later.
        let horloge = Arc::new(AtomicU64::new(0));
        let derniers_debuts = Arc::new(Mutex::new(Vec::<u64>::new()));
        let fsyncs = Arc::new(AtomicUsize::new(0));
        let fils: Vec<_> = (0..16)
            .map(|_| {
                let (g, h, d, n) = (
                    groupe.clone(),
                    horloge.clone(),
                    derniers_debuts.clone(),
                    fsyncs.clone(),
                );
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        // In this order: an fsync starting after `avant` ends after
                        // `debuts_avant` was read, so it is in the slice checked below.
                        let debuts_avant = d.lock().unwrap().len();
                        let avant = h.fetch_add(1, Ordering::SeqCst);
                        g.synchroniser_avec(|| {
                            let t = h.fetch_add(1, Ordering::SeqCst);
                            n.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_micros(200));
                            d.lock().unwrap().push(t);
                            Ok(())
                        })
                        .unwrap();
                        let debuts = d.lock().unwrap();
                        assert!(
                            debuts[debuts_avant..].iter().any(|t| *t > avant),
                            "returned without an fsync started after the request"
                        );
                    }
                })
            })
            .collect();
        for f in fils {
            f.join().unwrap();
        }
        let n = fsyncs.load(Ordering::SeqCst);
        assert!((1..800).contains(&n), "{n} fsyncs for 800 requests");
    }

    /// A failed fsync covers nobody: its caller gets the error, the next request runs its
    /// own fsync.
    #[test]
    fn un_fsync_en_echec_ne_couvre_personne() {
        let groupe = GroupeSync::default();
        let e = groupe
            .synchroniser_avec(|| Err(io::Error::other("disque")))
            .unwrap_err();
        assert_eq!(e.to_string(), "disque");
        let appele = AtomicUsize::new(0);
        groupe
            .synchroniser_avec(|| {
                appele.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
            .unwrap();
        assert_eq!(appele.load(Ordering::SeqCst), 1);
    }
}
