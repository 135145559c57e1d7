//! « Télécharger mes données » (RGPD, droit d'accès — issue 19): everything depot holds about
//! the candidate, as a ZIP streamed in bounded memory:
//!
//! - `donnees.json`: identity, concours, voie, declarations, state, the pieces and every file's
//!   record (with its antivirus analysis), the CDG's instruction when there is one;
//! - `fichiers/<piece>-<n>.<ext>`: each file's content (a quarantined file is listed in
//!   `donnees.json`, not copied: it is served to nobody);
//! - `journal.json`: the dossier's hash-chained journal;
//! - `recepisse.json` and `recepisse.pdf` once closed.
//!
//! Only the logged-in candidate's own dossier: the session names it, nothing in the request
//! does.

use std::io::Write;

use depot_core::{Consultation, Espace, Journal, NumeroDossier};
use serde_json::json;

use crate::zip_flux::{self, VersCanal};
use crate::{ErreurApi, SharedState};

/// The candidate's data as a streamed ZIP.
pub(crate) async fn zip_du_candidat(
    etat: &SharedState,
    numero: &NumeroDossier,
) -> Result<axum::response::Response, ErreurApi> {
    let c = etat.espace.consulter(numero).await?;
    let journal = etat.espace.journal(numero).await?;
    let espace = etat.espace.clone();
    let nom = format!("mes-donnees-{numero}.zip");
    Ok(crate::zip_flux::repondre(&nom, move |sortie, rt| {
        ecrire(sortie, &c, &journal, &espace, rt)
    }))
}

fn donnees(c: &Consultation) -> serde_json::Value {
    let d = &c.dossier;
    let id = d.identite();
    json!({
        "avertissement": "Données de votre dossier d'inscription, telles que l'espace sécurisé les conserve.",
        "identite": { "nom": id.nom(), "prenom": id.prenom(), "email": id.email() },
        "declarations": d.declarations().iter().map(|x| x.as_str()).collect::<Vec<_>>(),
        "preinscrit_le": depot_core::calendrier::rfc3339_paris(d.cree_le()),
        "instruction": d.instruction().map(|i| serde_json::to_value(i).unwrap_or_default()),
        "dossier": crate::vue::vue_dossier(c),
    })
}

fn ecrire(
    sortie: VersCanal,
    c: &Consultation,
    journal: &Journal,
    espace: &Espace,
    rt: &tokio::runtime::Handle,
) -> std::io::Result<()> {
    let autre = |e: zip::result::ZipError| std::io::Error::other(e.to_string());
    let mut z = zip::ZipWriter::new_stream(sortie);
    let (stocke, compresse) = (zip_flux::options(true), zip_flux::options(false));
    let d = &c.dossier;
    z.start_file("donnees.json", compresse).map_err(autre)?;
    z.write_all(&serde_json::to_vec_pretty(&donnees(c)).map_err(std::io::Error::other)?)?;
    z.start_file("journal.json", compresse).map_err(autre)?;
    z.write_all(&serde_json::to_vec_pretty(&journal.entrees).map_err(std::io::Error::other)?)?;
    if let Some(r) = d.recepisse() {
        z.start_file("recepisse.json", compresse).map_err(autre)?;
        z.write_all(&r.json())?;
        z.start_file("recepisse.pdf", stocke).map_err(autre)?;
        z.write_all(&r.pdf())?;
    }
    zip_flux::ecrire_fichiers(&mut z, espace, rt, c, "fichiers", |f| {
        !f.en_quarantaine() && f.purge_le.is_none()
    })?;
    let mut fin = z.finish().map_err(autre)?;
    fin.flush()
}
