//! The staff's JSON API, `/api/v1/gestion`: lists with filters and paging, the forclos
//! dossiers apart, a dossier with its journal, any file, decisions (the export is in
//! [`super::export`]).

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use depot_core::calendrier::{DateSaisie, rfc3339_paris};
use depot_core::{Consultation, Decision, DecisionSaisie, NumeroDossier, Refus, Voie};
use serde::Deserialize;
use serde_json::json;

use crate::chemin::{IdFichier, Numero};
use crate::extraction::Corps;
use crate::gestion::auth::{AuthGestion, audit};
use crate::gestion::export::exporter;
use crate::reponse::reponse_fichier;
use crate::vue::vue_dossier;
use crate::{ErreurApi, SharedState};

/// The staff routes.
pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/api/v1/gestion/dossiers", get(lister))
        .route("/api/v1/gestion/forclos", get(forclos))
        .route("/api/v1/gestion/dossiers/{numero}", get(dossier))
        .route(
            "/api/v1/gestion/dossiers/{numero}/fichiers/{id}",
            get(fichier),
        )
        .route("/api/v1/gestion/dossiers/{numero}/decision", post(decider))
        .route("/api/v1/gestion/export", post(exporter))
}

/// Filters of the list.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filtres {
    etat: Option<String>,
    voie: Option<String>,
    pieces_attendues: Option<bool>,
    cloture_du: Option<String>,
    cloture_au: Option<String>,
    #[serde(default)]
    numeros: Vec<String>,
    page: Option<usize>,
    par_page: Option<usize>,
}

fn date(
    champ: &'static str,
    s: &str,
    fin: bool,
) -> Result<chrono::DateTime<chrono::Utc>, ErreurApi> {
    let d = DateSaisie::parse(s).map_err(|e| Refus::ChampInvalide {
        champ,
        raison: e.to_string(),
    })?;
    let r = if fin {
        d.comme_limite().map(|l| l.instant())
    } else {
        d.comme_debut()
    };
    r.map_err(|e| {
        Refus::ChampInvalide {
            champ,
            raison: e.to_string(),
        }
        .into()
    })
}

pub(crate) fn selectionner(
    tous: Vec<Consultation>,
    f: &Filtres,
) -> Result<Vec<Consultation>, ErreurApi> {
    let voie = match &f.voie {
        Some(v) => Some(Voie::parse(v).ok_or(Refus::ChampInvalide {
            champ: "voie",
            raison: "externe, interne ou troisieme_concours.".into(),
        })?),
        None => None,
    };
    let du = f
        .cloture_du
        .as_deref()
        .map(|s| date("cloture_du", s, false))
        .transpose()?;
    let au = f
        .cloture_au
        .as_deref()
        .map(|s| date("cloture_au", s, true))
        .transpose()?;
    Ok(tous
        .into_iter()
        .filter(|c| {
            let d = &c.dossier;
            f.etat
                .as_deref()
                .is_none_or(|e| d.etat_lu(&c.concours, c.maintenant).code() == e)
                && voie.is_none_or(|v| d.voie() == v)
                && f.pieces_attendues
                    .is_none_or(|a| a != d.pieces_attendues(&c.concours).is_empty())
                && du.is_none_or(|t| d.cloture_le().is_some_and(|l| l >= t))
                && au.is_none_or(|t| d.cloture_le().is_some_and(|l| l < t))
                && (f.numeros.is_empty()
                    || f.numeros
                        .iter()
                        .any(|n| n.eq_ignore_ascii_case(d.numero().as_str())))
        })
        .collect())
}

fn ligne(c: &Consultation) -> serde_json::Value {
    let d = &c.dossier;
    json!({
        "numero": d.numero().as_str(),
        "nom": d.identite().nom(),
        "prenom": d.identite().prenom(),
        "voie": d.voie().code(),
        "etat": d.etat_lu(&c.concours, c.maintenant).code(),
        "cloture_le": d.cloture_le().map(rfc3339_paris),
        "pieces_manquantes": d.pieces_manquantes(&c.concours).iter().map(|p| p.code.as_str()).collect::<Vec<_>>(),
        "pieces_attendues": d.pieces_attendues(&c.concours).iter().map(|p| p.code.as_str()).collect::<Vec<_>>(),
    })
}

fn page(liste: Vec<Consultation>, f: &Filtres) -> serde_json::Value {
    let par_page = f.par_page.unwrap_or(50).clamp(1, 500);
    let page = f.page.unwrap_or(1).max(1);
    let total = liste.len();
    let lignes: Vec<_> = liste
        .iter()
        .skip((page - 1) * par_page)
        .take(par_page)
        .map(ligne)
        .collect();
    json!({ "total": total, "page": page, "par_page": par_page, "dossiers": lignes })
}

async fn lister(
    State(etat): State<SharedState>,
    _qui: AuthGestion,
    Query(f): Query<Filtres>,
) -> Result<Response, ErreurApi> {
    let liste = selectionner(etat.espace.lister().await?, &f)?;
    Ok(Json(page(liste, &f)).into_response())
}

/// Dossiers not closed by the deadline, listed apart (nothing is deleted).
async fn forclos(
    State(etat): State<SharedState>,
    _qui: AuthGestion,
    Query(mut f): Query<Filtres>,
) -> Result<Response, ErreurApi> {
    f.etat = Some("non_cloture_hors_delai".into());
    let liste = selectionner(etat.espace.lister().await?, &f)?;
    Ok(Json(page(liste, &f)).into_response())
}

/// On the staff's side a n° that names no dossier is `dossier_inconnu` (404), not a store
/// failure: the record store's `NotFound` can only mean that (a missing content of a listed
/// file is reported as corrupt by the core).
pub(crate) fn dossier_inconnu_si_absent(e: depot_core::ErreurEspace) -> ErreurApi {
    match e {
        depot_core::ErreurEspace::Stockage(depot_core::StorageError::NotFound(_)) => {
            ErreurApi::dossier_inconnu()
        }
        autre => autre.into(),
    }
}

pub(crate) async fn consulter(
    etat: &SharedState,
    n: &NumeroDossier,
) -> Result<Consultation, ErreurApi> {
    etat.espace
        .consulter(n)
        .await
        .map_err(dossier_inconnu_si_absent)
}

async fn dossier(
    State(etat): State<SharedState>,
    AuthGestion(qui): AuthGestion,
    Numero(n): Numero,
) -> Result<Response, ErreurApi> {
    let c = consulter(&etat, &n).await?;
    audit(&qui, "dossier", n.as_str(), None);
    let d = &c.dossier;
    Ok(Json(json!({
        "dossier": vue_dossier(&c),
        "identite": { "nom": d.identite().nom(), "prenom": d.identite().prenom(), "email": d.identite().email() },
        "declarations": d.declarations().iter().map(|x| x.as_str()).collect::<Vec<_>>(),
        "instruction": d.instruction(),
        "pieces_attendues": d.pieces_attendues(&c.concours).iter().map(|p| p.code.as_str()).collect::<Vec<_>>(),
        "recepisse": d.recepisse(),
        "journal": d.evenements(),
    }))
    .into_response())
}

async fn fichier(
    State(etat): State<SharedState>,
    AuthGestion(qui): AuthGestion,
    Numero(n): Numero,
    IdFichier(id): IdFichier,
) -> Result<Response, ErreurApi> {
    audit(&qui, "fichier", n.as_str(), Some(id.as_str()));
    let (f, flux) = etat
        .espace
        .voir(&n, &id)
        .await
        .map_err(dossier_inconnu_si_absent)?;
    Ok(reponse_fichier(&f, flux))
}

async fn decider(
    State(etat): State<SharedState>,
    AuthGestion(qui): AuthGestion,
    Numero(n): Numero,
    Corps(saisie): Corps<DecisionSaisie>,
) -> Result<Response, ErreurApi> {
    let decision = Decision::try_from(saisie)?;
    etat.espace
        .decider(&qui, &n, decision)
        .await
        .map_err(dossier_inconnu_si_absent)?;
    let c = etat.espace.consulter(&n).await?;
    Ok(Json(json!({
        "numero": n.as_str(),
        "etat": c.dossier.etat_lu(&c.concours, c.maintenant).code(),
        "message": c.dossier.message_etat(&c.concours, c.maintenant),
    }))
    .into_response())
}
