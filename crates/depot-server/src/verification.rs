//! `depot-server recepisse verifier` and `depot-server journal verifier`.

use std::path::Path;

use depot_core::signature::{Cles, verifier_recepisse};
use depot_core::{Etat, NumeroDossier, Quoi, verifier_journal};

use crate::ErreurServeur;
use crate::stockage::{Enregistrements, OptionsStockage};

/// The records' store the options name.
async fn enregistrements(o: &OptionsStockage) -> Result<Enregistrements, ErreurServeur> {
    o.enregistrements(None, None, None).await
}

/// Checks a récépissé file against published keys: `--cle` (the body of
/// `GET /api/v1/recepisse/cles`) or the keys published in the records' store.
pub(crate) async fn recepisse(
    fichier: &Path,
    cle: Option<&Path>,
    stockage: &OptionsStockage,
) -> Result<String, ErreurServeur> {
    let json = std::fs::read(fichier).map_err(ErreurServeur::lecture(fichier))?;
    let cles: Cles = match cle {
        Some(source) => {
            let texte = std::fs::read(source).map_err(ErreurServeur::lecture(source))?;
            serde_json::from_slice(&texte).map_err(|e| ErreurServeur::ListeDeCles {
                chemin: source.to_path_buf(),
                source: e,
            })?
        }
        None => enregistrements(stockage).await?.cles.publiees().await?,
    };
    let c = verifier_recepisse(&json, &cles)?;
    Ok(format!(
        "récépissé valide : dossier {}, clôturé le {} ({} fichier(s))",
        c.numero,
        c.cloture_le_libelle,
        c.fichiers.len()
    ))
}

/// Walks every dossier's journal (or one), anchored at closure by the récépissé. Returns the
/// report and whether every journal is intact.
pub(crate) async fn journaux(
    stockage: &OptionsStockage,
    dossier: Option<&str>,
) -> Result<(String, bool), ErreurServeur> {
    let store = enregistrements(stockage).await?.dossiers;
    let numeros = match dossier {
        Some(n) => vec![NumeroDossier::parse(n)?],
        None => store.list().await?,
    };
    let mut rapport = String::new();
    let mut intacts = true;
    for n in numeros {
        let d = match store.load(&n).await {
            Ok(v) => v.valeur,
            Err(e) => {
                intacts = false;
                rapport.push_str(&format!("dossier {n} : illisible : {e}\n"));
                continue;
            }
        };
        // The chain the record's head names, rebuilt from the stored entries.
        let journal = match depot_core::service::lire_journal(&*store, &d).await {
            Ok(Ok(j)) => j,
            Ok(Err(e)) => {
                intacts = false;
                rapport.push_str(&format!("dossier {n} : {e}\n"));
                continue;
            }
            Err(e) => {
                intacts = false;
                rapport.push_str(&format!("dossier {n} : journal illisible : {e}\n"));
                continue;
            }
        };
        let entrees = &journal.entrees;
        // The récépissé anchors the history up to closure.
        let ancre = match d.etat() {
            Etat::Cloture { recepisse, .. } => entrees
                .iter()
                .find(|e| matches!(&e.quoi, Quoi::Cloture { empreinte } if *empreinte == recepisse.empreinte))
                .map(|e| (e.position.saturating_sub(1), recepisse.contenu.journal))
                .or(Some((u64::MAX, recepisse.contenu.journal))),
            _ => None,
        };
        match verifier_journal(entrees, ancre) {
            Ok(()) => rapport.push_str(&format!(
                "dossier {n} : journal intègre ({} entrées{})\n",
                entrees.len(),
                match journal.orphelines {
                    0 => String::new(),
                    k => format!(
                        ", et {k} entrée(s) d'écritures qui n'ont pas abouti, hors de la chaîne"
                    ),
                }
            )),
            Err(e) => {
                intacts = false;
                rapport.push_str(&format!("dossier {n} : {e}\n"));
            }
        }
    }
    Ok((rapport, intacts))
}
