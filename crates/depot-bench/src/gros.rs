//! One large upload and the server's memory: how much one file of S MB adds to the peak RSS
//! of a depot-server process, measured against a 1 MB upload in the same run.
//!
//! The server runs as a child process (the load generator's memory is not counted), with the
//! demo concours whose size limit is raised above S. Before each upload the child's peak RSS
//! is reset to its current RSS (`/proc/PID/clear_refs`), so the figure is what that upload
//! alone added at its worst moment.

use std::path::Path;

use serde_json::{Value, json};

use crate::rush::{Enfant, lancer_serveur_avec, memoire};

/// What one upload added to the server's peak RSS, MiB.
#[derive(Debug, Clone)]
pub struct Mesure {
    /// What was uploaded.
    pub quoi: String,
    /// Its size, bytes.
    pub octets: usize,
    /// Peak RSS during the upload minus RSS before it, MiB.
    pub ajout_mo: f64,
    /// The server's answer.
    pub statut: u16,
}

async fn poster(client: &reqwest::Client, url: &str, corps: Value) -> Result<Value, String> {
    client
        .post(url)
        .json(&corps)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())
}

fn remettre_pic(pid: u32) -> Result<(), String> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
        .map_err(|e| format!("remise à zéro du pic de mémoire du serveur : {e}"))
}

/// Uploads a 1 MB and an `taille_mo` MB PDF, and a `taille_mo` MB JPEG, to a fresh server.
pub async fn executer(
    binaire: &Path,
    repertoire: &Path,
    taille_mo: usize,
) -> Result<Vec<Mesure>, String> {
    std::fs::create_dir_all(repertoire).map_err(|e| e.to_string())?;
    let aujourd_hui = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    let limite = taille_mo + taille_mo / 5 + 2;
    let toml = depot_server::concours_demo_toml(aujourd_hui)
        .replace("taille_max_mo = 10", &format!("taille_max_mo = {limite}"));
    let config = repertoire.join("concours.toml");
    std::fs::write(&config, toml).map_err(|e| e.to_string())?;
    let (base, enfant): (String, Enfant) = lancer_serveur_avec(
        binaire,
        &repertoire.join("depot-data"),
        &["--config".as_ref(), config.as_os_str()],
    )?;
    let pid = enfant.pid();
    // Building the large files leaves the connection idle: drop it before the server does.
    let client = reqwest::Client::builder()
        .pool_idle_timeout(depot_client::INACTIVITE_MAX)
        .build()
        .map_err(|e| e.to_string())?;
    let mdp = "gros-fichier-mesure-memoire-7c1e";
    let r = poster(
        &client,
        &format!("{base}/api/v1/preinscriptions"),
        json!({"voie": "externe", "nom": "Mesure", "prenom": "Memoire",
            "email": "mesure@exemple.fr", "mot_de_passe": mdp}),
    )
    .await?;
    let numero = r["numero"]
        .as_str()
        .ok_or(format!("préinscription : {r}"))?;
    let r = poster(
        &client,
        &format!("{base}/api/v1/connexion"),
        json!({"numero": numero, "mot_de_passe": mdp}),
    )
    .await?;
    let jeton = r["jeton"]
        .as_str()
        .ok_or(format!("connexion : {r}"))?
        .to_owned();
    let octets = taille_mo * 1_000_000;
    let cas: Vec<(String, &str, &str, Vec<u8>)> = vec![
        (
            "PDF 1 MB (baseline)".into(),
            "diplome",
            "petit.pdf",
            depot_core::exemples::pdf_image(1_000_000),
        ),
        (
            format!("PDF {taille_mo} MB"),
            "piece-identite",
            "gros.pdf",
            depot_core::exemples::pdf_image(octets),
        ),
        (
            format!("JPEG {taille_mo} MB"),
            "piece-identite",
            "gros.jpg",
            depot_core::exemples::jpeg_gris(4000, 3000, octets),
        ),
    ];
    let mut mesures = Vec::new();
    for (quoi, piece, nom, contenu) in cas {
        let taille = contenu.len();
        // Let the allocator settle, then take the baseline.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        remettre_pic(pid)?;
        let avant = memoire("VmRSS:", Some(pid)).ok_or("mémoire du serveur illisible")?;
        let partie = reqwest::multipart::Part::bytes(contenu)
            .file_name(nom)
            .mime_str(if nom.ends_with(".pdf") {
                "application/pdf"
            } else {
                "image/jpeg"
            })
            .map_err(|e| e.to_string())?;
        let r = client
            .post(format!("{base}/api/v1/dossier/pieces/{piece}"))
            .bearer_auth(&jeton)
            .multipart(reqwest::multipart::Form::new().part("fichier", partie))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let statut = r.status().as_u16();
        let _ = r.bytes().await;
        let pic = memoire("VmHWM:", Some(pid)).ok_or("mémoire du serveur illisible")?;
        mesures.push(Mesure {
            quoi,
            octets: taille,
            ajout_mo: pic - avant,
            statut,
        });
    }
    drop(enfant);
    Ok(mesures)
}
