//! The upload, shared by the API and the pages: a multipart field handed as a `Stream` to
//! [`Espace::deposer_flux`](depot_core::Espace::deposer_flux), which checks, stores and
//! records it. Nothing of the upload's protocol lives here.

use axum::extract::Multipart;
use axum::extract::multipart::{Field, MultipartError};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
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
    let fichier = operation(
        etat,
        numero,
        etat.espace.deposer_flux(numero, code, &nom, octets),
    )
    .await
    .inspect_err(|e| {
        if e.code == "virus_detecte" {
            crate::metriques::verdict_antivirus("infectee");
        }
    })?;
    crate::metriques::fichier_enregistre(fichier.taille);
    if let Some(a) = &fichier.antivirus {
        crate::metriques::verdict_antivirus(a.statut.code());
    }
    Ok(fichier)
}

/// A deposit or a deletion, within the dossier's hourly allowance (each rewrites its
/// record); the allowance is given back when nothing was done.
pub(crate) async fn operation<T>(
    etat: &SharedState,
    numero: &NumeroDossier,
    action: impl std::future::Future<Output = Result<T, depot_core::ErreurEspace>>,
) -> Result<T, ErreurApi> {
    let place = etat
        .operations
        .reserver(numero, etat.now())
        .await
        .map_err(|r| crate::session::retenue(r, ErreurApi::trop_d_operations))?;
    let r = action.await;
    if r.is_err()
        && let Err(e) = etat.operations.rendre(place).await
    {
        tracing::warn!(code = e.code(), "quota d'opérations non rendu");
    }
    Ok(r?)
}

/// After a refusal decided before the end of the body (a wrong format seen in the first
/// bytes, a dossier already closed…), reads and discards what the client is still sending,
/// within the route's body limit: otherwise the connection closes under a client that is
/// still writing, which then reports a reset instead of the French refusal.
///
/// A body that cannot be read to its end (over the limit, cut) leaves the connection
/// unusable: the answer then says `Connection: close`, so that the client does not send
/// its next request on a connection the server is closing.
pub(crate) async fn vider(corps: &mut Multipart, reponse: &mut Response) {
    // Over the limit, the rest cannot be read: answer at once, and close.
    let lu = reponse.status() != StatusCode::PAYLOAD_TOO_LARGE
        && 'corps: loop {
            match corps.next_field().await {
                Ok(Some(mut champ)) => loop {
                    match champ.chunk().await {
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(_) => break 'corps false,
                    }
                },
                Ok(None) => break true,
                Err(_) => break false,
            }
        };
    if !lu {
        reponse
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
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
