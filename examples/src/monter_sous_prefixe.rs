//! Mounting the espace sécurisé inside an existing axum application, under `/concours`.
//!
//! The CDG's site keeps its own routes (`/`, `/actualites`…); depot's pages and API live
//! under the prefix, and [`depot_http::Config::prefixe`] makes its links, redirects and
//! cookie paths include it.

use std::sync::Arc;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use depot_core::{Concours, Espace, Ports};

/// The CDG's application with depot mounted under `/concours`.
pub fn application(concours: Concours, ports: Ports) -> Result<Router, depot_core::Refus> {
    let espace = Arc::new(Espace::new(vec![concours], ports)?);
    let depot = depot_http::router(
        espace,
        depot_http::Config {
            prefixe: "/concours".to_owned(),
            ..Default::default()
        },
    );
    Ok(Router::new()
        .route(
            "/",
            get(|| async {
                Html("<h1>Centre de gestion</h1><p><a href=\"/concours/connexion\">Accès sécurisé</a></p>")
            }),
        )
        .nest("/concours", depot))
}
