//! The export of a selection: a ZIP streamed to the client (a CSV of the dossiers, then
//! each dossier's files and récépissé), memory bounded whatever its size.

use std::io::Write;

use axum::extract::State;
use axum::response::Response;
use depot_core::{Consultation, Espace, Gestionnaire};

use crate::extraction::Corps;
use crate::gestion::api::{Filtres, filtre, rechercher};
use crate::gestion::auth::{AuthGestion, audit};
use crate::zip_flux::{self, VersCanal};
use crate::{ErreurApi, SharedState};

/// A cell a spreadsheet would read as a formula (OWASP, « CSV injection »: it begins with
/// `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, which spreadsheets
/// show as text: the name stays readable and nothing runs.
fn cellule(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

fn csv_dossiers(liste: &[Consultation]) -> Result<Vec<u8>, std::io::Error> {
    // UTF-8 BOM and `;`: what French spreadsheet software expects.
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record([
        "n° de dossier",
        "nom",
        "prénom",
        "voie",
        "état",
        "clôturé le (heure de Paris)",
        "pièces manquantes",
        "fichiers non exportés (antivirus, conservation)",
    ])?;
    for c in liste {
        let d = &c.dossier;
        let cloture = d
            .cloture_le()
            .map(|t| {
                t.with_timezone(&chrono_tz::Europe::Paris)
                    .format("%d/%m/%Y %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default();
        let manquantes = d
            .pieces_manquantes(&c.concours)
            .iter()
            .map(|p| p.libelle.clone())
            .collect::<Vec<_>>()
            .join(", ");
        // Fails closed: a file not found clean is not in the ZIP, but named here with why.
        let retenus = d
            .fichiers()
            .iter()
            .filter(|f| !f.servable_au_service())
            .map(|f| {
                let statut = if f.purge_le.is_some() {
                    "purgé"
                } else {
                    f.antivirus.as_ref().map_or("", |a| a.statut.code())
                };
                format!("{} ({statut})", f.nom)
            })
            .collect::<Vec<_>>()
            .join(", ");
        w.write_record(
            [
                cellule(d.numero().as_str()),
                cellule(d.identite().nom()),
                cellule(d.identite().prenom()),
                cellule(d.voie().code()),
                cellule(d.etat_lu(&c.concours, c.maintenant).code()),
                cellule(&cloture),
                cellule(&manquantes),
                cellule(&retenus),
            ]
            .iter()
            .map(|c| c.as_bytes()),
        )?;
    }
    w.into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))
}

fn ecrire_zip(
    sortie: VersCanal,
    liste: Vec<Consultation>,
    espace: &Espace,
    qui: &Gestionnaire,
    rt: &tokio::runtime::Handle,
) -> Result<(), std::io::Error> {
    let autre = |e: zip::result::ZipError| std::io::Error::other(e.to_string());
    let mut z = zip::ZipWriter::new_stream(sortie);
    let compresse = zip_flux::options(false);
    z.start_file("dossiers.csv", compresse).map_err(autre)?;
    z.write_all(&csv_dossiers(&liste)?)?;
    for c in &liste {
        let d = &c.dossier;
        let n = d.numero();
        // Journaled before its files are read: a dossier that cannot be journaled is not
        // exported (the export stops with an error).
        rt.block_on(espace.journaliser_export(qui, n))
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        zip_flux::ecrire_fichiers(&mut z, espace, rt, c, n.as_str(), |f| {
            f.servable_au_service()
        })?;
        if let Some(r) = d.recepisse() {
            z.start_file(format!("{n}/recepisse.json"), compresse)
                .map_err(autre)?;
            z.write_all(&serde_json::to_vec_pretty(r).map_err(std::io::Error::other)?)?;
        }
    }
    let mut fin = z.finish().map_err(autre)?;
    fin.flush()
}

/// Export of a selection (the list's filters, or `numeros`) as a ZIP streamed to the client:
/// one folder per dossier with `<code-piece>-<n>.<ext>` files and the signed récépissé, and a
/// `dossiers.csv` (`;`, UTF-8 BOM) for spreadsheets.
#[utoipa::path(post, path = "/api/v1/gestion/export", tag = "gestion", security(("jeton" = [])),
    request_body = Filtres,
    responses((status = 200, description = "a ZIP, streamed", content_type = "application/zip")))]
pub(crate) async fn exporter(
    State(etat): State<SharedState>,
    AuthGestion(qui): AuthGestion,
    Corps(f): Corps<Filtres>,
) -> Result<Response, ErreurApi> {
    zip_selection(&etat, qui, &f).await
}

/// The ZIP of the dossiers `f` selects, streamed (the API's export and the list page's
/// button).
pub(crate) async fn zip_selection(
    etat: &SharedState,
    qui: Gestionnaire,
    f: &Filtres,
) -> Result<Response, ErreurApi> {
    let (selection, _) = filtre(f)?;
    let (_, liste) = rechercher(etat, selection, depot_core::Page::TOUT).await?;
    for c in &liste {
        audit(&qui, "export", c.dossier.numero().as_str(), None);
    }
    let espace = etat.espace.clone();
    Ok(crate::zip_flux::repondre(
        "export-dossiers.zip",
        move |sortie, rt| ecrire_zip(sortie, liste, &espace, &qui, rt),
    ))
}

// ---- Staff pages (minimal): a list, a dossier with its journal and the decision buttons --

#[cfg(test)]
mod tests {
    use super::cellule;

    #[test]
    fn une_formule_devient_du_texte() {
        for f in ["=1+1", "+33 6", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(cellule(f), format!("'{f}"));
        }
        assert_eq!(cellule("Durand"), "Durand");
        assert_eq!(cellule(""), "");
    }
}
