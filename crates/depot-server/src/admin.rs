//! The operators' side: Prometheus metrics on a listener of their own (`--listen-admin
//! ADDR`, never the public port), and the stores wrapped so that each operation's latency
//! and errors are measured.
//!
//! What is exported: requests by route, method and status and their latency (depot-http),
//! files stored and bytes uploaded, closures, failed and throttled logins, sessions opened
//! and ended, and for each store (`dossiers`, `pieces`, `sessions`) each operation's
//! latency and errors by code.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use depot_core::ports::{CleContenu, ContenuStocke, FluxOctets, Versionne};
use depot_core::session::{EspeceSession, SessionStockee, SessionStore};
use depot_core::{
    Dossier, DossierStore, Evenement, FichierId, NumeroDossier, PieceStore, Sha256, StorageError,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::ErreurServeur;

/// Installs the process's recorder; returns what renders it.
pub(crate) fn installer() -> Result<PrometheusHandle, ErreurServeur> {
    let recorder = PrometheusBuilder::new()
        .set_buckets(&[
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        ])
        .map_err(|e| ErreurServeur::Metriques(e.to_string()))?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|e| ErreurServeur::Metriques(e.to_string()))?;
    // Histograms are folded into their buckets from time to time.
    let entretien = handle.clone();
    tokio::spawn(async move {
        let mut t = tokio::time::interval(Duration::from_secs(5));
        loop {
            t.tick().await;
            entretien.run_upkeep();
        }
    });
    Ok(handle)
}

/// The sessions' store, for the gauge of open sessions (set once the application is built).
pub(crate) static SESSIONS: std::sync::OnceLock<Arc<dyn SessionStore>> = std::sync::OnceLock::new();

/// `depot_sessions_ouvertes{espace}`: the sessions open now, counted at each scrape (the
/// store answers from its index, its files or its listing; never on a request's path).
async fn jauger_sessions() {
    let Some(store) = SESSIONS.get() else {
        return;
    };
    let now = depot_core::Clock::now(&depot_core::HorlogeSysteme);
    for espece in [EspeceSession::Candidat, EspeceSession::Gestion] {
        match depot_core::session::sessions_ouvertes(&**store, espece, now).await {
            Ok(n) => {
                metrics::gauge!("depot_sessions_ouvertes", "espace" => espece.code()).set(n as f64)
            }
            Err(e) => tracing::warn!(code = e.code(), "compte des sessions ouvertes"),
        }
    }
}

/// Serves `GET /metrics` on `ecoute` until the process ends.
pub(crate) async fn servir(ecoute: tokio::net::TcpListener, handle: PrometheusHandle) {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let handle = handle.clone();
            async move {
                jauger_sessions().await;
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    handle.render(),
                )
            }
        }),
    );
    if let Err(e) = axum::serve(
        ecoute,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    {
        tracing::warn!(erreur = %e, "écoute d'administration");
    }
}

/// A store whose operations are measured.
#[derive(Debug, Clone)]
pub(crate) struct Mesure<S> {
    interieur: S,
    port: &'static str,
}

impl<S> Mesure<S> {
    pub(crate) fn new(interieur: S, port: &'static str) -> Self {
        Self { interieur, port }
    }

    async fn mesurer<T>(
        &self,
        operation: &'static str,
        f: impl Future<Output = Result<T, StorageError>>,
    ) -> Result<T, StorageError> {
        let debut = Instant::now();
        let r = f.await;
        metrics::histogram!("depot_stockage_duree_secondes", "port" => self.port, "operation" => operation)
            .record(debut.elapsed().as_secs_f64());
        if let Err(e) = &r {
            metrics::counter!("depot_stockage_erreurs_total", "port" => self.port, "operation" => operation, "code" => e.code())
                .increment(1);
        }
        r
    }
}

#[async_trait]
impl<S> DossierStore for Mesure<S>
where
    S: std::ops::Deref + Send + Sync,
    S::Target: DossierStore,
{
    async fn create(&self, dossier: &Dossier) -> Result<(), StorageError> {
        self.mesurer("create", self.interieur.create(dossier)).await
    }
    async fn load(&self, numero: &NumeroDossier) -> Result<Versionne<Dossier>, StorageError> {
        self.mesurer("load", self.interieur.load(numero)).await
    }
    async fn save(&self, dossier: &Dossier, expected: u64) -> Result<u64, StorageError> {
        self.mesurer("save", self.interieur.save(dossier, expected))
            .await
    }
    async fn list(&self) -> Result<Vec<NumeroDossier>, StorageError> {
        self.mesurer("list", self.interieur.list()).await
    }
    async fn journal(&self, numero: &NumeroDossier) -> Result<Vec<Evenement>, StorageError> {
        self.mesurer("journal", self.interieur.journal(numero))
            .await
    }
}

#[async_trait]
impl<S> PieceStore for Mesure<S>
where
    S: std::ops::Deref + Send + Sync,
    S::Target: PieceStore,
{
    async fn put(
        &self,
        cle: &CleContenu,
        contenu: FluxOctets,
    ) -> Result<ContenuStocke, StorageError> {
        self.mesurer("put", self.interieur.put(cle, contenu)).await
    }
    async fn get(&self, cle: &CleContenu) -> Result<FluxOctets, StorageError> {
        self.mesurer("get", self.interieur.get(cle)).await
    }
    async fn delete(&self, cle: &CleContenu) -> Result<(), StorageError> {
        self.mesurer("delete", self.interieur.delete(cle)).await
    }
    async fn list(&self, numero: &NumeroDossier) -> Result<Vec<FichierId>, StorageError> {
        self.mesurer("list", self.interieur.list(numero)).await
    }
}

#[async_trait]
impl<S> SessionStore for Mesure<S>
where
    S: std::ops::Deref + Send + Sync,
    S::Target: SessionStore,
{
    async fn creer(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
        session: &SessionStockee,
    ) -> Result<(), StorageError> {
        self.mesurer("creer", self.interieur.creer(espece, empreinte, session))
            .await
    }
    async fn lire(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
    ) -> Result<Option<SessionStockee>, StorageError> {
        self.mesurer("lire", self.interieur.lire(espece, empreinte))
            .await
    }
    async fn toucher(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
        vue: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.mesurer("toucher", self.interieur.toucher(espece, empreinte, vue))
            .await
    }
    async fn supprimer(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
    ) -> Result<(), StorageError> {
        self.mesurer("supprimer", self.interieur.supprimer(espece, empreinte))
            .await
    }
    async fn supprimer_titulaire(
        &self,
        espece: EspeceSession,
        titulaire: &str,
    ) -> Result<u64, StorageError> {
        self.mesurer(
            "supprimer_titulaire",
            self.interieur.supprimer_titulaire(espece, titulaire),
        )
        .await
    }
    async fn purger(
        &self,
        inactive_avant: DateTime<Utc>,
        creee_avant: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        self.mesurer("purger", self.interieur.purger(inactive_avant, creee_avant))
            .await
    }
    async fn compter(
        &self,
        espece: EspeceSession,
        inactive_avant: DateTime<Utc>,
        creee_avant: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        self.mesurer(
            "compter",
            self.interieur.compter(espece, inactive_avant, creee_avant),
        )
        .await
    }
}
