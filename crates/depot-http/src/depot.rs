//! The upload, shared by the API and the pages: a multipart field handed as a `Stream` to
//! [`Espace::deposer_flux`](depot_core::Espace::deposer_flux), which checks, stores and
//! records it. Nothing of the upload's protocol lives here.

use axum::extract::multipart::{Field, MultipartError};
use axum::http::StatusCode;
use depot_core::{ErreurEnvoi, Fichier, NumeroDossier};
use futures_util::TryStreamExt;

use crate::{ErreurApi, SharedState};

/// Deposits the file of a multipart field (« Ajouter le fichier »).
pub(crate) async fn deposer_champ(
    etat: &SharedState,
    numero: &NumeroDossier,
    code: &str,
    champ: Field<'_>,
) -> Result<Fichier, ErreurApi> {
    let nom = champ.file_name().unwrap_or("fichier").to_owned();
    let octets = champ.map_err(erreur_envoi);
    Ok(etat.espace.deposer_flux(numero, code, &nom, octets).await?)
}

/// A read error of the file's bytes, as the upload understands it.
fn erreur_envoi(e: MultipartError) -> ErreurEnvoi {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ErreurEnvoi::TropVolumineux
    } else {
        ErreurEnvoi::Interrompu(e.body_text())
    }
}

/// A read error of the multipart body outside a file (between fields).
pub(crate) fn erreur_corps(e: MultipartError) -> ErreurApi {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ErreurApi::corps_trop_volumineux()
    } else {
        ErreurApi::requete_invalide(e.body_text())
    }
}
