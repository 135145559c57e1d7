//! Prometheus metrics, recorded through the `metrics` facade: a server installs a recorder
//! and serves it apart (depot-server's `--listen-admin`); without one, recording costs
//! nothing. Labels are bounded: a route is its pattern (`/api/v1/dossier/fichiers/{id}`),
//! never a path with an id in it, and nothing personal is ever a label.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::SharedState;

/// Requests by route, method and status, and their latency by route; the requests in
/// progress ([`Activite`](crate::Activite)).
pub(crate) async fn mesurer(
    State(etat): State<SharedState>,
    requete: Request,
    suite: Next,
) -> Response {
    let _en_cours = etat.config.activite.entrer();
    let route = requete
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "inconnue".to_owned(), |m| m.as_str().to_owned());
    let methode = requete.method().as_str().to_owned();
    let debut = Instant::now();
    let reponse = suite.run(requete).await;
    let statut = reponse.status().as_u16().to_string();
    metrics::counter!("depot_requetes_total", "route" => route.clone(), "methode" => methode.clone(), "statut" => statut)
        .increment(1);
    metrics::histogram!("depot_requete_duree_secondes", "route" => route, "methode" => methode)
        .record(debut.elapsed().as_secs_f64());
    reponse
}

/// A file stored (« Fichier enregistré »).
pub(crate) fn fichier_enregistre(taille: u64) {
    metrics::counter!("depot_fichiers_enregistres_total").increment(1);
    metrics::counter!("depot_octets_deposes_total").increment(taille);
}

/// An upload's antivirus verdict: `saine`, `en_attente` (scanner unavailable) or
/// `infectee` (refused).
pub(crate) fn verdict_antivirus(verdict: &'static str) {
    metrics::counter!("depot_antivirus_verdicts_total", "verdict" => verdict).increment(1);
}

/// A closure (the first of a dossier or a repeated one: the récépissé is the same).
pub(crate) fn cloture() {
    metrics::counter!("depot_clotures_total").increment(1);
}

/// A login refused for its identifiers.
pub(crate) fn connexion_echouee() {
    metrics::counter!("depot_connexions_echouees_total").increment(1);
}

/// A login attempt held back by throttling.
pub(crate) fn tentative_retenue() {
    metrics::counter!("depot_tentatives_retenues_total").increment(1);
}

/// A session opened (candidate or staff), or ended by a logout.
pub(crate) fn session(ouverte: bool) {
    if ouverte {
        metrics::counter!("depot_sessions_ouvertes_total").increment(1);
    } else {
        metrics::counter!("depot_sessions_fermees_total").increment(1);
    }
}
