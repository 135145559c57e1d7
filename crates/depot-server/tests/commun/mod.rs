//! Starting the real depot-server binary and reading what it prints.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub(crate) struct Serveur {
    pub enfant: Child,
    pub url: String,
    pub sortie: Vec<String>,
    /// Its log (stderr), read as it comes: a pipe nobody reads fills up and blocks the
    /// server's next log line.
    pub journal: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Serveur {
    /// The demo dossier's n° and password, from « n° X, mot de passe Y ».
    pub(crate) fn demo(&self) -> (String, String) {
        let l = self
            .sortie
            .iter()
            .find(|l| l.starts_with("dossier de démonstration"))
            .expect("demo line");
        let reste = l.split(" : ").nth(1).unwrap();
        let numero = reste
            .split(',')
            .next()
            .unwrap()
            .trim_start_matches("n° ")
            .to_owned();
        let mdp = reste.split("mot de passe ").nth(1).unwrap().to_owned();
        (numero, mdp)
    }
}

/// Starts depot-server with `args` on a free port; returns once it listens, or the exit
/// status and stderr if it stopped before.
pub(crate) async fn lancer(
    data: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<Serveur, (std::process::ExitStatus, String)> {
    let mut c = Command::new(env!("CARGO_BIN_EXE_depot-server"));
    if !args.contains(&"--listen") {
        c.args(["--listen", "127.0.0.1:0"]);
    }
    c.args(["--log-format", "json", "--data"])
        .arg(data)
        .args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let mut enfant = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let journal = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    {
        let journal = journal.clone();
        let mut err = BufReader::new(enfant.stderr.take().unwrap()).lines();
        tokio::spawn(async move {
            while let Ok(Some(l)) = err.next_line().await {
                let mut j = journal.lock().unwrap();
                j.push_str(&l);
                j.push('\n');
            }
        });
    }
    let mut lignes = BufReader::new(enfant.stdout.take().unwrap()).lines();
    let mut sortie = Vec::new();
    while let Some(l) = lignes.next_line().await.unwrap() {
        if let Some(u) = l.strip_prefix("listening on ") {
            let url = u.to_owned();
            sortie.push(l);
            return Ok(Serveur {
                enfant,
                url,
                sortie,
                journal,
            });
        }
        sortie.push(l);
    }
    let statut = enfant.wait().await.unwrap();
    // Let the reader take the last lines.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let texte = journal.lock().unwrap().clone();
    Err((statut, texte))
}

/// Logs in on a running server through the typed client (panics on a refusal).
pub(crate) async fn connexion(url: &str, numero: &str, mdp: &str) -> depot_client::Session {
    depot_client::Client::new(url)
        .unwrap()
        .connecter(numero, mdp)
        .await
        .unwrap_or_else(|e| panic!("login: {e}"))
}

/// The signing keys a running server publishes (`GET /api/v1/recepisse/cles`).
pub(crate) async fn cles(url: &str) -> serde_json::Value {
    depot_client::Client::new(url)
        .unwrap()
        .cles()
        .await
        .unwrap()
}

/// A login with a wrong password on a running server: the answer's status (401, or 429
/// once held back).
pub(crate) async fn essai_refuse(url: &str, numero: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{url}/api/v1/connexion"))
        .json(&serde_json::json!({ "numero": numero, "mot_de_passe": "pas le bon mot de passe" }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Uploads a file for a piece: the recorded file, or the refusal's status and code.
pub(crate) async fn deposer(
    s: &depot_client::Session,
    piece: &str,
    nom: &str,
    octets: Vec<u8>,
) -> Result<depot_client::Fichier, (u16, String)> {
    s.deposer(piece, nom, octets).await.map_err(|e| match e {
        depot_client::Erreur::Api { statut, code, .. } => (statut, code),
        autre => panic!("upload of {nom}: {autre}"),
    })
}

/// Mints a staff token with the CLI, as an operator would: the token (shown once, on
/// stderr) and the `[[gestionnaires]]` block for the accounts file (stdout, only the hash).
pub(crate) fn jeton_gestionnaire(id: &str, role: &str) -> (String, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_depot-server"))
        .args(["gestionnaire", "jeton", "--id", id, "--role", role])
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let jeton = String::from_utf8(o.stderr)
        .unwrap()
        .trim()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_owned();
    (jeton, String::from_utf8(o.stdout).unwrap())
}

/// A test server's address from the environment (set by `scripts/test.sh`), or `None`,
/// said loudly — a panic under `CI=true`.
pub(crate) fn requis(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) => Some(v),
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true: {var} is not set — scripts/test.sh starts the servers")
        }
        Err(_) => {
            eprintln!("\n*** SKIPPED: {var} not set (run scripts/test.sh) ***\n");
            None
        }
    }
}

/// A random lowercase suffix, for a schema or an S3 prefix of a test's own.
pub(crate) fn unique() -> String {
    depot_core::FichierId::generer(&depot_core::SystemRandom)
        .as_str()
        .to_lowercase()
}

/// Writes the `--s3` file of a bucket on moto under a prefix of `prefixe`'s own; returns
/// its path (the secret comes from `DEPOT_S3_SECRET_ACCESS_KEY=test`).
pub(crate) fn config_s3_moto(dir: &Path, moto: &str, prefixe: &str) -> String {
    let f = dir.join("s3.toml");
    std::fs::write(
        &f,
        format!(
            "[s3]\nendpoint = \"{moto}\"\nregion = \"us-east-1\"\nbucket = \"depot-test\"\nprefix = \"{prefixe}\"\naccess_key_id = \"test\"\nallow_http = true\n"
        ),
    )
    .unwrap();
    f.to_str().unwrap().to_owned()
}
