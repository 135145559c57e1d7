//! `depot-server conservation`: with a `[conservation]` section in the concours file, the dry
//! run lists what is due (nothing on a fresh espace) and changes nothing; a section that
//! names no identity piece is refused at load with its key.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

#[test]
fn conservation_a_blanc_et_configuration_verifiee() {
    let dir = tempfile::tempdir().unwrap();
    let modele = include_str!("../../../examples/concours/animateur-2025.toml");
    let bon = dir.path().join("bon.toml");
    std::fs::write(
        &bon,
        modele.replacen(
            "code = \"piece-identite\"",
            "code = \"piece-identite\"\nidentite = true",
            1,
        ) + "\n[conservation]\npieces_identite_apres_decision = 90\n",
    )
    .unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_depot-server"))
        .args(["conservation", "--a-blanc", "--config"])
        .arg(&bon)
        .arg("--data")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    let sortie = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{sortie} {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        sortie.contains("conservation : 0 purge(s) dues (à blanc : rien n'est changé)"),
        "{sortie}"
    );
    let mauvais = dir.path().join("mauvais.toml");
    std::fs::write(
        &mauvais,
        modele.to_owned() + "\n[conservation]\npieces_identite_apres_decision = 90\n",
    )
    .unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_depot-server"))
        .args(["conservation", "--a-blanc", "--config"])
        .arg(&mauvais)
        .arg("--data")
        .arg(dir.path().join("data2"))
        .output()
        .unwrap();
    let sortie = String::from_utf8_lossy(&o.stdout);
    assert!(!o.status.success());
    assert!(
        sortie.contains("conservation.pieces_identite_apres_decision")
            && sortie.contains("identite = true"),
        "{sortie}"
    );
}
