//! # depot-http — the espace sécurisé over HTTP
//!
//! An axum [`Router`] with the JSON API under `/api/v1` (for vendors) and the candidate's
//! pages (server-rendered, French, working without JavaScript). It has no rules of its own:
//! every request is parsed into depot-core types and decided by [`depot_core::Espace`].
//!
//! ```no_run
//! # async fn f(espace: std::sync::Arc<depot_core::Espace>) {
//! let app = depot_http::router(espace, depot_http::Config::default());
//! let ecoute = tokio::net::TcpListener::bind("127.0.0.1:8080").await.unwrap();
//! axum::serve(ecoute, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
//!     .await
//!     .unwrap();
//! # }
//! ```
//!
//! Mounted inside another application under a prefix, set [`Config::prefixe`] to that
//! prefix so that links, redirects and cookie paths include it (see
//! `examples/monter_sous_prefixe.rs`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, Request};
use axum::http::{HeaderValue, header, request::Parts};
use axum::middleware;
use axum::response::Response;
use axum::routing::{get, post};
use depot_core::{Espace, NumeroDossier};
use tower_http::set_header::SetResponseHeaderLayer;

pub mod candidat;
mod chemin;
mod depot;
pub mod erreur;
mod extraction;
pub mod gestion;
mod metriques;
pub mod openapi;
mod reponse;
mod sante;
pub mod serveur;
pub mod session;
pub mod vue;
mod web;
mod zip_flux;

pub use candidat::{api, pages};
pub use extraction::{Corps, Ip};

pub use erreur::ErreurApi;
use session::{Limiteur, SessionOuverte, Sessions};
pub use web::marque::{Couleur, Logo, Marque};

/// HTTP-level settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Path prefix the router is mounted under (`""` at the root, `"/concours"`…).
    pub prefixe: String,
    /// Mark cookies `Secure` (behind TLS).
    pub cookies_securises: bool,
    /// Largest request body for routes other than uploads.
    pub corps_max: usize,
    /// Public keys published at `/api/v1/recepisse/cles` (previous keys, for rotation); the
    /// current signer's key is always added.
    pub cles_publiees: depot_core::Cles,
    /// Staff accounts of `/api/v1/gestion` (tokens stored as their SHA-256).
    pub gestionnaires: Vec<gestion::CompteGestionnaire>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (the client address then comes
    /// from it); from anyone else the header is ignored.
    pub proxys_de_confiance: Vec<ipnet::IpNet>,
    /// Login throttling rules.
    pub limitation: session::Regles,
    /// Pré-inscriptions allowed per client address per hour (0: no limit).
    pub preinscriptions_par_heure: usize,
    /// File operations (deposits and deletions) allowed per dossier per hour (0: no limit).
    pub operations_par_heure: usize,
    /// The CDG's name, logo and colour on the pages.
    pub marque: web::marque::Marque,
    /// Requests being answered now, for background work that yields to them.
    pub activite: Activite,
}

/// The number of requests this router is answering now. Background work (depot-server's
/// mail worker) reads it to step aside while candidates wait: on deadline night, an
/// accusé de réception can leave a few seconds later, a closure should not.
#[derive(Debug, Clone, Default)]
pub struct Activite(Arc<std::sync::atomic::AtomicUsize>);

impl Activite {
    /// Requests in progress.
    pub fn en_cours(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Counts one request until the guard is dropped (answered, or abandoned by its client).
    pub(crate) fn entrer(&self) -> impl Drop + use<> {
        struct Sortie(Arc<std::sync::atomic::AtomicUsize>);
        impl Drop for Sortie {
            fn drop(&mut self) {
                self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Sortie(self.0.clone())
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            prefixe: String::new(),
            cookies_securises: false,
            corps_max: 64 * 1024,
            cles_publiees: depot_core::Cles::default(),
            gestionnaires: Vec::new(),
            proxys_de_confiance: Vec::new(),
            limitation: session::Regles::default(),
            preinscriptions_par_heure: 10,
            operations_par_heure: 100,
            marque: web::marque::Marque::default(),
            activite: Activite::default(),
        }
    }
}

/// Shared state of the router.
pub struct AppState {
    /// The rules.
    pub espace: Arc<Espace>,
    /// Candidates' sessions.
    pub sessions: Sessions,
    /// Staff pages' sessions.
    pub sessions_gestion: Sessions<depot_core::Gestionnaire>,
    /// Login throttling.
    pub limiteur: Limiteur,
    /// Pré-inscriptions per address.
    pub preinscriptions: session::Quota,
    /// File operations per dossier.
    pub operations: session::Quota,
    /// « Oubli » requests per n° and per e-mail address typed.
    pub oublis: session::Quota,
    /// « Oubli » requests per client address.
    pub oublis_ip: session::Quota,
    /// Settings.
    pub config: Config,
}

/// The state as handlers receive it.
pub type SharedState = Arc<AppState>;

impl AppState {
    /// Now, from the espace's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.espace.maintenant()
    }

    /// A path under the prefix.
    pub fn chemin(&self, p: &str) -> String {
        format!("{}{p}", self.config.prefixe)
    }
}

/// The largest upload any hosted piece accepts, plus room for multipart framing.
fn corps_max_depot(espace: &Espace) -> usize {
    let mo = espace
        .concours()
        .flat_map(|c| c.pieces.iter().map(|p| p.taille_max_mo))
        .max()
        .unwrap_or(10);
    (mo as usize) * 1024 * 1024 + 256 * 1024
}

/// The router: JSON API under `/api/v1`, pages at the root.
pub fn router(espace: Arc<Espace>, config: Config) -> Router {
    let corps_depot = corps_max_depot(&espace);
    let corps_max = config.corps_max;
    let ports = espace.ports().clone();
    let etat = Arc::new(AppState {
        espace,
        sessions: Sessions::new(ports.sessions.clone()),
        sessions_gestion: Sessions::new(ports.sessions.clone()),
        limiteur: Limiteur::new(ports.compteurs.clone(), config.limitation),
        preinscriptions: session::Quota::new(
            ports.compteurs.clone(),
            "pre",
            config.preinscriptions_par_heure,
        ),
        operations: session::Quota::new(ports.compteurs.clone(), "op", config.operations_par_heure),
        oublis: session::Quota::new(
            ports.compteurs.clone(),
            "oubli",
            candidat::oubli::PAR_CLE_ET_HEURE,
        ),
        oublis_ip: session::Quota::new(
            ports.compteurs.clone(),
            "oubli-ip",
            candidat::oubli::PAR_IP_ET_HEURE,
        ),
        config,
    });
    let depots = Router::new()
        .route("/api/v1/dossier/pieces/{code}", post(api::deposer))
        .route("/dossier/pieces/{code}", post(pages::deposer))
        .layer(DefaultBodyLimit::max(corps_depot));
    let reste = Router::new()
        .merge(api::routes())
        .merge(candidat::oubli::routes())
        .merge(candidat::verifier::routes())
        .merge(gestion::routes())
        .merge(pages::routes())
        .merge(gestion::routes_pages())
        .layer(DefaultBodyLimit::max(corps_max));
    depots
        .merge(reste)
        .route("/static/depot.css", get(web::layout::css))
        .route("/static/depot.js", get(web::layout::js))
        .route("/static/marque.css", get(web::marque::css))
        .route("/static/logo", get(web::marque::logo))
        .route("/accessibilite", get(web::accessibilite::declaration))
        .merge(sante::routes())
        .layer(middleware::from_fn_with_state(
            etat.clone(),
            web::erreur::habiller_erreurs,
        ))
        // Answers carry tokens and personal data: no cache keeps them (the stylesheet says
        // otherwise for itself).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(middleware::from_fn_with_state(
            etat.clone(),
            metriques::mesurer,
        ))
        .layer(journal())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .with_state(etat)
}

/// One log line per request: method and path (the span), status and latency (the event).
/// Never headers, bodies or query strings: tokens, passwords and contents stay out of the
/// logs. Failures are not logged again (a 5xx is logged where it is decided, with its code).
type Journal = tower_http::trace::TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    fn(&Request) -> tracing::Span,
    (),
    fn(&Response, Duration, &tracing::Span),
    (),
    (),
    (),
>;

fn journal() -> Journal {
    fn span(req: &Request) -> tracing::Span {
        tracing::info_span!("requête", methode = %req.method(), chemin = %req.uri().path())
    }
    fn reponse(r: &Response, duree: Duration, _: &tracing::Span) {
        tracing::info!(
            statut = r.status().as_u16(),
            duree_ms = duree.as_secs_f64() * 1000.0,
            "requête"
        );
    }
    tower_http::trace::TraceLayer::new_for_http()
        .make_span_with(span as fn(&Request) -> tracing::Span)
        .on_request(())
        .on_response(reponse as fn(&Response, Duration, &tracing::Span))
        .on_body_chunk(())
        .on_eos(())
        .on_failure(())
}

/// The client's address (for throttling): the connection's peer, or — when the peer is a
/// proxy named in `de_confiance` — the right-most `X-Forwarded-For` entry that is not one of
/// those proxies (entries to its left are whatever the client claimed).
pub fn ip_client(parts: &Parts, de_confiance: &[ipnet::IpNet]) -> std::net::IpAddr {
    let pair = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let fiable = |ip: &std::net::IpAddr| de_confiance.iter().any(|r| r.contains(ip));
    if !fiable(&pair) {
        return pair;
    }
    let mut client = pair;
    let entrees = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect::<Vec<_>>();
    for e in entrees.iter().rev() {
        match e.trim().parse::<std::net::IpAddr>() {
            Ok(ip) if fiable(&ip) => client = ip,
            Ok(ip) => return ip,
            // Garbage: stop at the last hop a trusted proxy vouched for.
            Err(_) => return client,
        }
    }
    client
}

/// The token of an `Authorization: Bearer <jeton>` header (the scheme in any case).
pub fn jeton_bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        // RFC 9110 §11.1: the scheme is case-insensitive.
        .filter(|(schema, _)| schema.eq_ignore_ascii_case("bearer"))
        .map(|(_, jeton)| jeton.trim())
        .filter(|jeton| !jeton.is_empty())
}

/// A request authenticated by `Authorization: Bearer <jeton>` (the API).
#[derive(Debug)]
pub struct AuthApi {
    /// The dossier.
    pub numero: NumeroDossier,
    /// The raw token (for logout).
    pub jeton: String,
}

impl FromRequestParts<SharedState> for AuthApi {
    type Rejection = ErreurApi;

    async fn from_request_parts(parts: &mut Parts, etat: &SharedState) -> Result<Self, ErreurApi> {
        let jeton = jeton_bearer(parts).ok_or_else(ErreurApi::non_authentifie)?;
        let s: SessionOuverte = etat
            .sessions
            .verifier(jeton, etat.now())
            .await?
            .ok_or_else(ErreurApi::non_authentifie)?;
        Ok(Self {
            numero: s.titulaire,
            jeton: jeton.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(pair: &str, xff: &[&str]) -> Parts {
        let mut r = axum::http::Request::builder().uri("/");
        for x in xff {
            r = r.header("x-forwarded-for", *x);
        }
        let (mut p, ()) = r
            .body(())
            .map(|r| r.into_parts())
            .unwrap_or_else(|_| unreachable!());
        p.extensions.insert(ConnectInfo::<SocketAddr>(
            pair.parse().unwrap_or_else(|_| unreachable!()),
        ));
        p
    }

    fn ip(s: &str) -> std::net::IpAddr {
        s.parse().unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn x_forwarded_for_seulement_du_proxy_de_confiance() {
        let proxy: Vec<ipnet::IpNet> =
            vec!["10.0.0.0/8".parse().unwrap_or_else(|_| unreachable!())];
        // Anyone else's header is ignored.
        assert_eq!(
            ip_client(&parts("192.0.2.1:5000", &["203.0.113.5"]), &proxy),
            ip("192.0.2.1")
        );
        assert_eq!(
            ip_client(&parts("10.0.0.2:5000", &["203.0.113.5"]), &[]),
            ip("10.0.0.2")
        );
        // Through the proxy (and a second one of ours): the first address it did not add.
        assert_eq!(
            ip_client(
                &parts("10.0.0.2:5000", &["198.51.100.1, 203.0.113.5", "10.1.1.1"]),
                &proxy
            ),
            ip("203.0.113.5")
        );
        // Garbage stops at the last hop vouched for.
        assert_eq!(
            ip_client(&parts("10.0.0.2:5000", &["n'importe quoi"]), &proxy),
            ip("10.0.0.2")
        );
    }
}
