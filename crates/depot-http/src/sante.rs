//! Health checks for load balancers and orchestrators (the pages' error layer lets their
//! JSON through):
//!
//! - `GET /sante/vivant`: the process answers (200);
//! - `GET /sante/pret`: every store answers within 2 s (200), otherwise 503 naming the part
//!   that fails (`dossiers`, `pieces`) — never its error's detail, which goes to the log.
//!   A store that comes back makes the answer 200 again, without a restart. The antivirus,
//!   when configured, is reported (`parties.antivirus`) but never makes it 503: uploads are
//!   accepted while it is down and scanned later.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use depot_core::{NumeroDossier, StorageError};
use serde_json::json;

use crate::SharedState;

/// How long a store may take to answer the probe.
const DELAI: Duration = Duration::from_secs(2);

pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/sante/vivant", get(vivant))
        .route("/sante/pret", get(pret))
}

async fn vivant() -> Json<serde_json::Value> {
    Json(json!({ "statut": "vivant" }))
}

/// `Ok` when the store answered (an unknown key is an answer).
async fn sonder<T>(
    partie: &str,
    f: impl std::future::Future<Output = Result<T, StorageError>>,
) -> Result<(), ()> {
    match tokio::time::timeout(DELAI, f).await {
        Ok(Ok(_)) | Ok(Err(StorageError::NotFound(_))) => Ok(()),
        Ok(Err(e)) => {
            tracing::warn!(partie, code = e.code(), erreur = %e, "sonde : stockage indisponible");
            Err(())
        }
        Err(_) => {
            tracing::warn!(partie, "sonde : stockage sans réponse en 2 s");
            Err(())
        }
    }
}

async fn pret(State(etat): State<SharedState>) -> Response {
    let p = etat.espace.ports();
    let Ok(sonde) = NumeroDossier::parse("2000-SAN-TE0000") else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let (dossiers, pieces) = tokio::join!(
        sonder("dossiers", p.dossiers.load(&sonde)),
        sonder("pieces", p.pieces.list(&sonde)),
    );
    let etat_de = |r: Result<(), ()>| if r.is_ok() { "ok" } else { "indisponible" };
    let mut parties = json!({ "dossiers": etat_de(dossiers), "pieces": etat_de(pieces) });
    // The antivirus is reported, never a reason to refuse traffic: uploads are accepted
    // (and scanned later) while it is down.
    if let Some(av) = &p.antivirus {
        let r = match tokio::time::timeout(DELAI, av.moteur()).await {
            Ok(Ok(_)) => "ok",
            Ok(Err(e)) => {
                tracing::warn!(erreur = %e, "sonde : antivirus indisponible");
                "indisponible"
            }
            Err(_) => "indisponible",
        };
        parties["antivirus"] = json!(r);
    }
    let corps = json!({
        "statut": if dossiers.is_ok() && pieces.is_ok() { "pret" } else { "indisponible" },
        "parties": parties,
    });
    let statut = if dossiers.is_ok() && pieces.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (statut, Json(corps)).into_response()
}
