//! Serving the router on a TCP listener with the limits a public service needs, which
//! `axum::serve` does not set: a client that sends its request head too slowly (or leaves a
//! kept-alive connection idle) is disconnected, an upload whose bytes stop coming is
//! aborted (nothing is stored), and the number of open connections is capped — beyond it,
//! new connections wait in the listen queue instead of taking a file descriptor each.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::Service;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// The connection limits.
#[derive(Debug, Clone, Copy)]
pub struct Limites {
    /// Time to send a request's head (and, on a kept-alive connection, the next one).
    pub lecture_entetes: Duration,
    /// Longest wait for the next bytes of a request body.
    pub inactivite_corps: Duration,
    /// Connections open at once.
    pub connexions_max: usize,
    /// At shutdown, how long the requests in flight (an upload) have to finish before the
    /// server exits anyway.
    pub arret_max: Duration,
}

impl Default for Limites {
    fn default() -> Self {
        Self {
            lecture_entetes: Duration::from_secs(10),
            inactivite_corps: Duration::from_secs(30),
            connexions_max: 1024,
            arret_max: Duration::from_secs(30),
        }
    }
}

/// Serves `app` on `ecoute` until `arret` completes, then stops accepting and lets the
/// requests in flight finish, for at most [`Limites::arret_max`]. Handlers see the client's
/// address (`ConnectInfo<SocketAddr>`).
pub async fn servir(
    ecoute: TcpListener,
    app: Router,
    limites: Limites,
    arret: impl Future<Output = ()>,
) {
    let app = app.layer(RequestBodyTimeoutLayer::new(limites.inactivite_corps));
    let mut fabrique: IntoMakeServiceWithConnectInfo<Router, SocketAddr> =
        app.into_make_service_with_connect_info::<SocketAddr>();
    let places = Arc::new(tokio::sync::Semaphore::new(limites.connexions_max.max(1)));
    let gracieux = GracefulShutdown::new();
    let mut arret = std::pin::pin!(arret);
    loop {
        // At the cap, stop accepting: connections wait in the kernel's queue.
        let place = tokio::select! {
            p = places.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut arret => break,
        };
        let (tcp, adresse) = tokio::select! {
            r = ecoute.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of descriptors, a connection reset before accept…: wait a little.
                    tracing::warn!(erreur = %e, "accept");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut arret => break,
        };
        let _ = tcp.set_nodelay(true);
        let service = match fabrique.call(adresse).await {
            Ok(s) => s,
            Err(e) => match e {},
        };
        let connexion = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limites.lecture_entetes)
            .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service));
        let connexion = gracieux.watch(connexion);
        tokio::spawn(async move {
            // A client gone or too slow: nothing to report.
            let _ = connexion.await;
            drop(place);
        });
    }
    let en_cours = gracieux.count();
    if en_cours > 0 {
        tracing::info!(connexions = en_cours, "arrêt : fin des requêtes en cours");
    }
    if tokio::time::timeout(limites.arret_max, gracieux.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            secondes = limites.arret_max.as_secs(),
            "arrêt : des requêtes n'ont pas fini dans le délai, elles sont abandonnées (rien de partiel n'est enregistré)"
        );
    }
}
