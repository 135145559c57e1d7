//! Ids in paths, parsed by extractors: a handler receives a [`FichierId`] or a
//! [`NumeroDossier`], never a string to check. A malformed id answers exactly like an
//! unknown one (`fichier_inconnu`, `dossier_inconnu`), so the form of an id tells nothing.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use depot_core::{FichierId, NumeroDossier, Refus};

use crate::ErreurApi;

/// The `{id}` of a file in the path.
#[derive(Debug)]
pub(crate) struct IdFichier(pub(crate) FichierId);

impl<S: Send + Sync> FromRequestParts<S> for IdFichier {
    type Rejection = ErreurApi;

    async fn from_request_parts(parts: &mut Parts, etat: &S) -> Result<Self, ErreurApi> {
        let inconnu = || ErreurApi::from(Refus::FichierInconnu);
        let Path(segments) = Path::<Vec<(String, String)>>::from_request_parts(parts, etat)
            .await
            .map_err(|_| inconnu())?;
        segments
            .iter()
            .find(|(nom, _)| nom == "id")
            .and_then(|(_, v)| FichierId::parse(v).ok())
            .map(Self)
            .ok_or_else(inconnu)
    }
}

/// The `{numero}` of a dossier in the staff's paths.
#[derive(Debug)]
pub(crate) struct Numero(pub(crate) NumeroDossier);

impl<S: Send + Sync> FromRequestParts<S> for Numero {
    type Rejection = ErreurApi;

    async fn from_request_parts(parts: &mut Parts, etat: &S) -> Result<Self, ErreurApi> {
        let Path(segments) = Path::<Vec<(String, String)>>::from_request_parts(parts, etat)
            .await
            .map_err(|_| ErreurApi::dossier_inconnu())?;
        segments
            .iter()
            .find(|(nom, _)| nom == "numero")
            .and_then(|(_, v)| NumeroDossier::parse(v).ok())
            .map(Self)
            .ok_or_else(ErreurApi::dossier_inconnu)
    }
}
