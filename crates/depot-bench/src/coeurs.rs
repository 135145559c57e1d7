//! Separate cores for the server and the load generator (`rush --server-cpus --tool-cpus`).
//!
//! # Design
//!
//! By default the rush's load generator and its depot-server child share every core: the
//! generator's CPU competes with the server's in every phase, and the wall-time figures of
//! the server cannot be told from the generator's. With a split, the server runs on its
//! cores only, the generator on the others, and every floor is measured where its work would
//! run — the server's part (the hashes, the receiving and writing of the uploads' floor, the
//! durable writes) on the server's cores, the floor's sending side on the generator's. (On
//! this project's 2-core virtual machine a 1 | 1 split did not make the figures steadier:
//! README, issue 20's late-morning section. It is meant for a machine with cores to spare.)
//!
//! Linux keeps the allowed CPUs per thread, and a new thread (or a child process) starts
//! with its creator's. So: the main thread is pinned to the generator's cores before the
//! runtime starts (its threads inherit that), the child server is spawned from a thread
//! moved to the server's cores for the time of the `fork` (it is born there: its own
//! thread pools size themselves on that count), and each floor thread moves itself.

use std::sync::OnceLock;

use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;

/// The two disjoint sets of CPUs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partage {
    serveur: Vec<usize>,
    outil: Vec<usize>,
}

static PARTAGE: OnceLock<Partage> = OnceLock::new();

/// Reads a CPU list as `taskset -c` and `/sys/devices/system/cpu/online` write it: `0-1,3`.
/// Numbers past the last CPU the kernel's affinity calls can name are refused.
pub fn liste(texte: &str) -> Result<Vec<usize>, String> {
    let mut cpus = Vec::new();
    for morceau in texte.split(',').map(str::trim) {
        let nombre = |s: &str| {
            let n = s
                .trim()
                .parse::<usize>()
                .map_err(|_| format!("liste de CPU « {texte} » : « {s} » n'est pas un numéro"))?;
            if n >= CpuSet::count() {
                return Err(format!(
                    "liste de CPU « {texte} » : pas de CPU {n} (le dernier possible est {})",
                    CpuSet::count() - 1
                ));
            }
            Ok(n)
        };
        match morceau.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (nombre(a)?, nombre(b)?);
                if a > b {
                    return Err(format!("liste de CPU « {texte} » : {a}-{b} est vide"));
                }
                cpus.extend(a..=b);
            }
            None => cpus.push(nombre(morceau)?),
        }
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

impl Partage {
    /// The server's and the generator's CPUs: each non-empty, disjoint, and allowed to
    /// this process now.
    pub fn new(serveur: &str, outil: &str) -> Result<Self, String> {
        let (serveur, outil) = (liste(serveur)?, liste(outil)?);
        if serveur.is_empty() || outil.is_empty() {
            return Err("il faut au moins un CPU de chaque côté".into());
        }
        if let Some(c) = serveur.iter().find(|c| outil.contains(c)) {
            return Err(format!("le CPU {c} est des deux côtés"));
        }
        let permis = sched_getaffinity(Pid::from_raw(0))
            .map_err(|e| format!("CPU permis à ce processus : {e}"))?;
        for &c in serveur.iter().chain(&outil) {
            if !permis.is_set(c).unwrap_or(false) {
                return Err(format!("le CPU {c} n'est pas permis à ce processus"));
            }
        }
        Ok(Self { serveur, outil })
    }

    /// Number of CPUs on the server's side.
    pub fn coeurs_serveur(&self) -> usize {
        self.serveur.len()
    }

    /// Number of CPUs on the generator's side.
    pub fn coeurs_outil(&self) -> usize {
        self.outil.len()
    }
}

fn epingler(cpus: &[usize]) -> Result<(), String> {
    let mut ensemble = CpuSet::new();
    for &c in cpus {
        ensemble
            .set(c)
            .map_err(|e| format!("CPU {c} hors de portée : {e}"))?;
    }
    sched_setaffinity(Pid::from_raw(0), &ensemble).map_err(|e| format!("sched_setaffinity : {e}"))
}

/// Sets the split for this process (once) and moves the calling thread — the main thread,
/// before the runtime starts — to the generator's cores.
pub fn installer(p: Partage) -> Result<(), String> {
    epingler(&p.outil)?;
    PARTAGE
        .set(p)
        .map_err(|_| "le partage des CPU est déjà fait".to_owned())
}

/// The split, when one was installed.
pub fn partage() -> Option<&'static Partage> {
    PARTAGE.get()
}

/// Moves the calling thread to the server's cores (nothing without a split). For the
/// floors' threads, which measure the server's part of the work.
pub fn cote_serveur() {
    if let Some(p) = PARTAGE.get() {
        // The CPUs were checked at installation; a failure leaves the thread where it is.
        let _ = epingler(&p.serveur);
    }
}

/// Moves the calling thread to the generator's cores (nothing without a split).
pub fn cote_outil() {
    if let Some(p) = PARTAGE.get() {
        let _ = epingler(&p.outil);
    }
}

/// Runs `f` — a child's spawn — from the server's cores, then comes back: the child is born
/// on the server's cores and stays there (without a split, just `f`).
pub fn depuis_le_serveur<T>(f: impl FnOnce() -> T) -> T {
    cote_serveur();
    let r = f();
    cote_outil();
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listes_de_cpu() {
        assert_eq!(liste("0"), Ok(vec![0]));
        assert_eq!(liste("0-2,5"), Ok(vec![0, 1, 2, 5]));
        assert_eq!(liste(" 3 , 1-2,2"), Ok(vec![1, 2, 3]));
        assert!(liste("2-1").is_err());
        assert!(liste("a").is_err());
        assert!(liste("").is_err());
        assert!(liste("1-").is_err());
        // Bounded: no list of billions of numbers.
        assert!(liste("0-4000000000").unwrap_err().contains("pas de CPU"));
        let dernier = CpuSet::count() - 1;
        assert_eq!(liste(&dernier.to_string()), Ok(vec![dernier]));
    }

    #[test]
    fn partage_refuse_le_recouvrement_et_les_cpu_absents() {
        assert!(Partage::new("0", "0").unwrap_err().contains("deux côtés"));
        assert!(Partage::new("0", "100000").is_err());
        let p = Partage::new("0-0", "1");
        // On a single-CPU machine CPU 1 is not allowed; elsewhere the split is accepted.
        let permis = sched_getaffinity(Pid::from_raw(0)).unwrap();
        if permis.is_set(1).unwrap_or(false) && permis.is_set(0).unwrap_or(false) {
            let p = p.unwrap();
            assert_eq!((p.coeurs_serveur(), p.coeurs_outil()), (1, 1));
        } else {
            assert!(p.unwrap_err().contains("n'est pas permis"));
        }
    }

    #[test]
    fn un_fil_change_de_cpu() {
        // A thread of its own: the test harness's threads keep their CPUs.
        std::thread::spawn(|| {
            let permis = sched_getaffinity(Pid::from_raw(0)).unwrap();
            let premier = (0..CpuSet::count())
                .find(|&c| permis.is_set(c).unwrap_or(false))
                .unwrap();
            epingler(&[premier]).unwrap();
            let apres = sched_getaffinity(Pid::from_raw(0)).unwrap();
            let n = (0..CpuSet::count())
                .filter(|&c| apres.is_set(c).unwrap_or(false))
                .count();
            assert_eq!(n, 1);
            assert!(apres.is_set(premier).unwrap());
            assert_eq!(std::thread::available_parallelism().unwrap().get(), 1);
        })
        .join()
        .unwrap();
    }
}
