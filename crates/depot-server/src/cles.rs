//! The récépissé signing key: generated at first start into `<data>/cles/` with 0600
//! permissions (or given as a 64-hex-character seed in `DEPOT_CLE_SIGNATURE`), with its id;
//! every key ever used stays published in `<data>/cles/publiques.json`, so récépissés signed
//! before a rotation still verify.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use depot_core::signature::{Cles, Signataire, SignataireEd25519};
use depot_core::{Clock, HasardSysteme, HorlogeSysteme};
use zeroize::Zeroizing;

fn hex(octets: &[u8]) -> String {
    octets.iter().map(|b| format!("{b:02x}")).collect()
}

fn depuis_hex(s: &str) -> Option<Zeroizing<[u8; 32]>> {
    let s = s.trim();
    if s.len() != 64 {
        return None;
    }
    let mut out = Zeroizing::new([0u8; 32]);
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Loads (or creates) the signing key and the published keys.
pub fn charger(
    data: &Path,
    depuis_env: Option<String>,
) -> Result<(SignataireEd25519, Cles), String> {
    let dir = data.join("cles");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{} : {e}", dir.display()))?;
    let maintenant = HorlogeSysteme.now();
    let signataire = match depuis_env {
        Some(h) => {
            let g = depuis_hex(&h)
                .ok_or("DEPOT_CLE_SIGNATURE : 64 caractères hexadécimaux attendus")?;
            SignataireEd25519::depuis_graine(&g, maintenant)
        }
        None => {
            let fichier = dir.join("recepisse.ed25519");
            match std::fs::read_to_string(&fichier) {
                Ok(t) => {
                    let g = depuis_hex(&t)
                        .ok_or_else(|| format!("{} : clé illisible", fichier.display()))?;
                    SignataireEd25519::depuis_graine(&g, maintenant)
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let s = SignataireEd25519::generer(&HasardSysteme, maintenant);
                    let mut f = std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .mode(0o600)
                        .open(&fichier)
                        .map_err(|e| format!("{} : {e}", fichier.display()))?;
                    let graine = s.graine();
                    writeln!(f, "{}", hex(&*graine)).map_err(|e| e.to_string())?;
                    f.sync_all().map_err(|e| e.to_string())?;
                    tracing::info!(cle = s.cle_id(), "clé de signature des récépissés créée");
                    s
                }
                Err(e) => return Err(format!("{} : {e}", fichier.display())),
            }
        }
    };
    let publiques = dir.join("publiques.json");
    let mut cles: Cles = match std::fs::read(&publiques) {
        Ok(o) => {
            serde_json::from_slice(&o).map_err(|e| format!("{} : {e}", publiques.display()))?
        }
        Err(_) => Cles::default(),
    };
    if !cles.cles.iter().any(|c| c.id == signataire.cle_id()) {
        cles.cles.push(signataire.cle_publique());
        let texte = serde_json::to_vec_pretty(&cles).map_err(|e| e.to_string())?;
        let tmp = dir.join(".publiques.json.tmp");
        std::fs::write(&tmp, texte)
            .and_then(|()| std::fs::rename(&tmp, &publiques))
            .map_err(|e| format!("{} : {e}", publiques.display()))?;
    }
    Ok((signataire, cles))
}
