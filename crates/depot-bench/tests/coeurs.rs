//! The CPU split of `rush --server-cpus --tool-cpus`, in a process of its own (the split is
//! process-wide): a child is born on the server's CPUs, the spawning thread comes back to
//! the generator's, a floor's thread moves to the server's.

use depot_bench::coeurs;

/// The `Cpus_allowed_list` line of a `/proc/…/status` text.
fn cpus_permis(status: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn les_miens() -> String {
    cpus_permis(&std::fs::read_to_string("/proc/thread-self/status").unwrap_or_default())
}

#[test]
fn serveur_et_generateur_sur_des_cpu_separes() {
    let partage = match coeurs::Partage::new("0", "1") {
        Ok(p) => p,
        Err(e) => {
            // Needs two CPUs: CI's machines have them.
            assert!(
                std::env::var("CI").is_err(),
                "CI : il faut les CPU 0 et 1 ({e})"
            );
            eprintln!("IGNORÉ : séparation des CPU impossible ici ({e})");
            return;
        }
    };
    coeurs::installer(partage.clone()).unwrap();
    assert_eq!(les_miens(), "1");
    assert_eq!(std::thread::available_parallelism().unwrap().get(), 1);
    assert!(coeurs::installer(partage).is_err(), "once");

    // The child is born on the server's CPU…
    let sortie = coeurs::depuis_le_serveur(|| {
        std::process::Command::new("cat")
            .arg("/proc/self/status")
            .output()
    })
    .unwrap();
    assert!(sortie.status.success());
    assert_eq!(cpus_permis(&String::from_utf8_lossy(&sortie.stdout)), "0");
    // …and the thread that spawned it is back on the generator's.
    assert_eq!(les_miens(), "1");

    // A floor's thread moves itself; a new thread starts where its creator is.
    let (serveur, outil) = std::thread::spawn(|| {
        coeurs::cote_serveur();
        let serveur = les_miens();
        let outil = std::thread::spawn(|| {
            let herite = les_miens();
            coeurs::cote_outil();
            (herite, les_miens())
        })
        .join()
        .unwrap();
        (serveur, outil)
    })
    .join()
    .unwrap();
    assert_eq!(serveur, "0");
    assert_eq!(outil, ("0".to_owned(), "1".to_owned()));
}
