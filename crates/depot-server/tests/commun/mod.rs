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
    c.args(["--listen", "127.0.0.1:0", "--log-format", "json", "--data"])
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
            });
        }
        sortie.push(l);
    }
    let out = enfant.wait_with_output().await.unwrap();
    Err((
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// `POST /api/v1/connexion` on a running server; the token, or a panic with the answer.
pub(crate) async fn connexion(url: &str, numero: &str, mdp: &str) -> String {
    let r: serde_json::Value = reqwest::Client::new()
        .post(format!("{url}/api/v1/connexion"))
        .json(&serde_json::json!({"numero": numero, "mot_de_passe": mdp}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["jeton"]
        .as_str()
        .unwrap_or_else(|| panic!("login: {r}"))
        .to_owned()
}

/// Uploads a file for a piece through the API: the status and the answer's JSON.
pub(crate) async fn deposer(
    url: &str,
    jeton: &str,
    piece: &str,
    nom: &str,
    octets: Vec<u8>,
) -> (u16, serde_json::Value) {
    let form = reqwest::multipart::Form::new().part(
        "fichier",
        reqwest::multipart::Part::bytes(octets).file_name(nom.to_owned()),
    );
    let r = reqwest::Client::new()
        .post(format!("{url}/api/v1/dossier/pieces/{piece}"))
        .bearer_auth(jeton)
        .multipart(form)
        .send()
        .await
        .unwrap();
    (
        r.status().as_u16(),
        r.json().await.unwrap_or(serde_json::Value::Null),
    )
}

/// `POST /api/v1/dossier/cloture`: the answer's JSON.
pub(crate) async fn cloturer(url: &str, jeton: &str) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!("{url}/api/v1/dossier/cloture"))
        .bearer_auth(jeton)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `GET` with the candidate's token: the body's bytes (panics on a transport error).
pub(crate) async fn lire(url: &str, jeton: &str) -> Vec<u8> {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(jeton)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

/// `GET` with the candidate's token: the body as JSON.
pub(crate) async fn lire_json(url: &str, jeton: &str) -> serde_json::Value {
    serde_json::from_slice(&lire(url, jeton).await).unwrap()
}
