//! The rush tool at a small size, as CI runs it: every request succeeds and nothing
//! acknowledged is lost. Speed is reported, not asserted.

use std::collections::HashMap;
use std::process::Command;

#[test]
fn rush_de_cent_candidats_sans_erreur_ni_perte() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let travail = dir.path().join("rush");
    let sortie = Command::new(env!("CARGO_BIN_EXE_depot-bench"))
        .args([
            "rush",
            "--candidates",
            "100",
            "--concurrency",
            "32",
            "--dir",
        ])
        .arg(&travail)
        .output()
        .unwrap();
    let texte = String::from_utf8_lossy(&sortie.stdout);
    println!("{texte}");
    eprintln!("{}", String::from_utf8_lossy(&sortie.stderr));
    let derniere = texte
        .lines()
        .last()
        .filter(|l| l.starts_with("rush: "))
        .unwrap_or_else(|| panic!("no summary line:\n{texte}"));
    let champs: HashMap<&str, &str> = derniere["rush: ".len()..]
        .split(' ')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    assert_eq!(champs["candidates"], "100");
    assert_eq!(champs["errors"], "0", "{derniere}");
    assert_eq!(champs["lost"], "0", "{derniere}");
    for cle in [
        "closures_per_s",
        "p99_close_ms",
        "p99_close_floor_ms",
        "upload_ratio_vs_raw",
        "upload_cpu_ratio",
        "login_ratio_vs_argon2",
        "peak_rss_mb",
    ] {
        let v: f64 = champs[cle]
            .parse()
            .unwrap_or_else(|_| panic!("{cle} is not a number: {derniere}"));
        assert!(v > 0.0, "{cle} = {v}");
    }
    // Every phase ran for every candidate (100 each, 300 uploads).
    for (phase, ops) in [("preinscription", 100), ("depot", 300), ("cloture", 100)] {
        let ligne = texte
            .lines()
            .find(|l| l.starts_with(phase))
            .unwrap_or_else(|| panic!("no {phase} row"));
        assert_eq!(
            ligne.split_whitespace().nth(1),
            Some(ops.to_string().as_str())
        );
    }
    // The floors' lines, and the login's CPU split (the server runs as a child here).
    for debut in ["closure floor (", "login CPU: argon2 threads "] {
        assert!(
            texte.lines().any(|l| l.starts_with(debut)),
            "no line starting with {debut:?}:\n{texte}"
        );
    }
    assert!(sortie.status.success(), "exit status {}", sortie.status);
    assert!(!travail.exists(), "the working directory is removed");
}
