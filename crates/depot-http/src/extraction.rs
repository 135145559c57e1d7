//! Extractors shared by the API and the pages: a JSON body that answers in the API's error
//! format, and the client's address.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, request::Parts};

use crate::{ErreurApi, SharedState, ip_client};

/// A JSON body whose rejection speaks the API's error format.
pub struct Corps<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Corps<T> {
    type Rejection = ErreurApi;

    async fn from_request(req: Request, etat: &S) -> Result<Self, ErreurApi> {
        match Json::<T>::from_request(req, etat).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(JsonRejection::JsonDataError(e)) => Err(ErreurApi::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "champ_invalide",
                format!("Un champ est absent ou invalide : {}", e.body_text()),
            )),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ErreurApi::corps_trop_volumineux())
            }
            Err(e) => Err(ErreurApi::requete_invalide(e.body_text())),
        }
    }
}

/// The client IP of a request, as an extractor.
pub struct Ip(pub std::net::IpAddr);

impl FromRequestParts<SharedState> for Ip {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        etat: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(ip_client(parts, &etat.config.proxys_de_confiance)))
    }
}
