//! The staff's JSON API, `/api/v1/gestion`: lists with filters and paging, the forclos
//! dossiers apart, a dossier with its journal, any file, decisions (the export is in
//! `gestion/export.rs`).

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use depot_core::calendrier::{DateSaisie, rfc3339_paris};
use depot_core::{Consultation, Decision, DecisionSaisie, Filtre, Page, Refus, Voie};
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
        .route(
            "/api/v1/gestion/dossiers/{numero}/conservation",
            post(conservation),
        )
        .route("/api/v1/gestion/conservation", get(purges_a_venir))
        .route("/api/v1/gestion/export", post(exporter))
}

/// Filters of the list (query string) and of the export (JSON body).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Filtres {
    /// A state: `ouvert`, `cloture`, `incomplet`, `recevable`, `rejete`,
    /// `non_cloture_hors_delai`.
    #[param(pattern = "^(ouvert|cloture|incomplet|recevable|rejete|non_cloture_hors_delai)$")]
    #[schema(pattern = "^(ouvert|cloture|incomplet|recevable|rejete|non_cloture_hors_delai)$")]
    pub(crate) etat: Option<String>,
    /// A voie: `externe`, `interne`, `troisieme_concours`.
    #[param(pattern = "^(externe|interne|troisieme_concours)$")]
    #[schema(pattern = "^(externe|interne|troisieme_concours)$")]
    voie: Option<String>,
    /// Only dossiers still expecting a deferred piece.
    pieces_attendues: Option<bool>,
    /// Closed on or after this day (`AAAA-MM-JJ`, Paris time).
    #[param(format = Date)]
    #[schema(format = Date)]
    cloture_du: Option<String>,
    /// Closed on or before this day.
    #[param(format = Date)]
    #[schema(format = Date)]
    cloture_au: Option<String>,
    /// These n° only (export body).
    #[serde(default)]
    #[param(ignore)]
    numeros: Vec<String>,
    /// Page, from 1.
    #[serde(default, deserialize_with = "entier")]
    #[param(minimum = 1, maximum = 1000000)]
    #[schema(minimum = 1, maximum = 1000000)]
    page: Option<usize>,
    /// Dossiers per page (at most 500).
    #[serde(default, deserialize_with = "entier")]
    #[param(minimum = 1, maximum = 500)]
    #[schema(minimum = 1, maximum = 500)]
    par_page: Option<usize>,
}

impl Filtres {
    /// The list page's selection: one state, or every dossier.
    pub(crate) fn par_etat(etat: Option<String>) -> Self {
        Self {
            etat,
            ..Self::default()
        }
    }
}

/// A whole number as JSON writes it (`5`, or `5.0`, which JSON Schema also calls an
/// integer) or as a query string does (`"5"`).
fn entier<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    use serde::de::Error;
    let v = Option::<serde_json::Value>::deserialize(d)?;
    let n = match &v {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::Number(n)) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        }),
        Some(serde_json::Value::String(s)) => s.trim().parse::<u64>().ok(),
        Some(_) => None,
    };
    n.and_then(|n| usize::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| D::Error::custom("un nombre entier positif est attendu"))
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

/// The filters of a request, checked, as the core's search takes them; `None` when the
/// request names only n° that cannot exist (it selects nothing).
pub(crate) fn filtre(f: &Filtres) -> Result<(Option<Filtre>, Page), ErreurApi> {
    let hors = |v: Option<usize>, max: usize| v.is_some_and(|n| n == 0 || n > max);
    if hors(f.page, 1_000_000) || hors(f.par_page, 500) {
        return Err(Refus::ChampInvalide {
            champ: if hors(f.page, 1_000_000) {
                "page"
            } else {
                "par_page"
            },
            raison: "une page à partir de 1, au plus 500 dossiers par page.".into(),
        }
        .into());
    }
    let etat = match &f.etat {
        Some(e) => Some(
            *depot_core::EtatLu::TOUS
                .iter()
                .find(|x| x.code() == e)
                .ok_or(Refus::ChampInvalide {
                    champ: "etat",
                    raison:
                        "ouvert, cloture, incomplet, recevable, rejete ou non_cloture_hors_delai."
                            .into(),
                })?,
        ),
        None => None,
    };
    let voie = match &f.voie {
        Some(v) => Some(Voie::parse(v).ok_or(Refus::ChampInvalide {
            champ: "voie",
            raison: "externe, interne ou troisieme_concours.".into(),
        })?),
        None => None,
    };
    let cloture_du = f
        .cloture_du
        .as_deref()
        .map(|s| date("cloture_du", s, false))
        .transpose()?;
    let cloture_avant = f
        .cloture_au
        .as_deref()
        .map(|s| date("cloture_au", s, true))
        .transpose()?;
    let numeros: Vec<depot_core::NumeroDossier> = f
        .numeros
        .iter()
        .filter_map(|n| depot_core::NumeroDossier::parse(n).ok())
        .collect();
    let page = Page {
        numero: f.page.unwrap_or(1).max(1),
        par_page: f.par_page.unwrap_or(50).clamp(1, 500),
    };
    if !f.numeros.is_empty() && numeros.is_empty() {
        return Ok((None, page));
    }
    Ok((
        Some(Filtre {
            etat,
            voie,
            pieces_attendues: f.pieces_attendues,
            cloture_du,
            cloture_avant,
            numeros,
        }),
        page,
    ))
}

/// The page of the dossiers a request's filters select, and how many there are in all.
pub(crate) async fn rechercher(
    etat: &SharedState,
    filtre: Option<Filtre>,
    page: Page,
) -> Result<(usize, Vec<Consultation>), ErreurApi> {
    match filtre {
        Some(f) => Ok(etat.espace.rechercher(&f, page).await?),
        None => Ok((0, Vec::new())),
    }
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
        // Files staff cannot open yet (antivirus pending) or ever (infected, quarantined).
        "antivirus": {
            "en_attente": d.fichiers().iter().filter(|f| f.analyse_en_attente()).count(),
            "infectee": d.fichiers().iter().filter(|f| f.en_quarantaine()).count(),
        },
    })
}

fn page_json(total: usize, liste: &[Consultation], page: Page) -> serde_json::Value {
    let lignes: Vec<_> = liste.iter().map(ligne).collect();
    json!({ "total": total, "page": page.numero, "par_page": page.par_page, "dossiers": lignes })
}

/// The dossiers, filtered and paged.
#[utoipa::path(get, path = "/api/v1/gestion/dossiers", tag = "gestion", security(("jeton" = [])),
    params(Filtres),
    responses((status = 200, description = "`{total, page, par_page, dossiers: [...]}`", body = Object)))]
async fn lister(
    State(etat): State<SharedState>,
    _qui: AuthGestion,
    Query(f): Query<Filtres>,
) -> Result<Response, ErreurApi> {
    let (filtre, page) = filtre(&f)?;
    let (total, liste) = rechercher(&etat, filtre, page).await?;
    Ok(Json(page_json(total, &liste, page)).into_response())
}

/// Dossiers not closed by the deadline, listed apart (nothing is deleted).
#[utoipa::path(get, path = "/api/v1/gestion/forclos", tag = "gestion", security(("jeton" = [])),
    params(Filtres),
    responses((status = 200, description = "`{total, page, par_page, dossiers: [...]}`", body = Object)))]
async fn forclos(
    State(etat): State<SharedState>,
    _qui: AuthGestion,
    Query(f): Query<Filtres>,
) -> Result<Response, ErreurApi> {
    // The other filters apply too (a state filter other than forclos selects nothing).
    let (filtre, page) = filtre(&f)?;
    let forclos = depot_core::EtatLu::NonClotureHorsDelai;
    let filtre = filtre
        .filter(|x| x.etat.is_none_or(|e| e == forclos))
        .map(|x| Filtre {
            etat: Some(forclos),
            ..x
        });
    let (total, liste) = rechercher(&etat, filtre, page).await?;
    Ok(Json(page_json(total, &liste, page)).into_response())
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

/// A dossier with its identity, declarations, instruction, récépissé and journal.
#[utoipa::path(get, path = "/api/v1/gestion/dossiers/{numero}", tag = "gestion", security(("jeton" = [])),
    params(("numero" = String, Path, description = "n° de dossier")),
    responses((status = 200, description = "`{dossier, identite, declarations, instruction, pieces_attendues, recepisse, journal}`", body = Object),
        (status = 404, description = "dossier_inconnu", body = crate::api::Erreur)))]
async fn dossier(
    State(etat): State<SharedState>,
    AuthGestion(qui): AuthGestion,
    Numero(n): Numero,
) -> Result<Response, ErreurApi> {
    audit(&qui, "dossier", n.as_str(), None);
    let (c, journal) = etat
        .espace
        .consulter_en_gestion(&qui, &n)
        .await
        .map_err(dossier_inconnu_si_absent)?;
    let d = &c.dossier;
    Ok(Json(json!({
        "dossier": vue_dossier(&c),
        "identite": { "nom": d.identite().nom(), "prenom": d.identite().prenom(), "email": d.identite().email() },
        "declarations": d.declarations().iter().map(|x| x.as_str()).collect::<Vec<_>>(),
        "instruction": d.instruction(),
        "pieces_attendues": d.pieces_attendues(&c.concours).iter().map(|p| p.code.as_str()).collect::<Vec<_>>(),
        "recepisse": d.recepisse(),
        "conservation": {
            "suspendue": d.conservation_suspendue(),
            "purges_prevues": purges_json(&c),
        },
        "journal": journal.entrees,
    }))
    .into_response())
}

/// Any file of a dossier.
#[utoipa::path(get, path = "/api/v1/gestion/dossiers/{numero}/fichiers/{id}", tag = "gestion", security(("jeton" = [])),
    params(("numero" = String, Path, description = "n° de dossier"), ("id" = String, Path, description = "file id")),
    responses((status = 200, description = "the file", content(("application/pdf"), ("image/jpeg"))),
        (status = 404, description = "dossier_inconnu, fichier_inconnu, fichier_purge", body = crate::api::Erreur),
        (status = 409, description = "analyse_en_attente (not scanned yet), fichier_infecte (quarantined)", body = crate::api::Erreur)))]
async fn fichier(
    State(etat): State<SharedState>,
    AuthGestion(qui): AuthGestion,
    Numero(n): Numero,
    IdFichier(id): IdFichier,
) -> Result<Response, ErreurApi> {
    audit(&qui, "fichier", n.as_str(), Some(id.as_str()));
    let (f, flux) = etat
        .espace
        .voir_en_gestion(&qui, &n, &id)
        .await
        .map_err(dossier_inconnu_si_absent)?;
    Ok(reponse_fichier(&f, flux))
}

/// A decision: `{"decision": "complements" | "recevable" | "rejet" | "revision" |
/// "reouverture", ...}` with `pieces`, `message`, `date_limite` (complements), `motif`,
/// `texte` (rejet), `raison` (revision, reouverture), `jusqu_au` (reouverture).
#[utoipa::path(post, path = "/api/v1/gestion/dossiers/{numero}/decision", tag = "gestion", security(("jeton" = [])),
    params(("numero" = String, Path, description = "n° de dossier")),
    request_body(content = Object, description = "the decision (see docs/api.md)"),
    responses((status = 200, description = "`{numero, etat, message}`", body = Object),
        (status = 403, description = "action_non_autorisee (a `lecture` account)", body = crate::api::Erreur),
        (status = 404, description = "dossier_inconnu, piece_inconnue", body = crate::api::Erreur),
        (status = 409, description = "transition_interdite", body = crate::api::Erreur)))]
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

/// `POST /api/v1/gestion/dossiers/{numero}/conservation` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CorpsConservation {
    /// `true`: retention on hold (no purge); `false`: resumed.
    pub suspendue: bool,
    /// Why (required to put on hold), at most 500 characters.
    #[schema(max_length = 500)]
    #[serde(default)]
    pub raison: Option<String>,
}

/// Puts a dossier's retention on hold (a dispute: no purge while on hold) or resumes it;
/// journaled. The answer gives the purges now scheduled.
#[utoipa::path(post, path = "/api/v1/gestion/dossiers/{numero}/conservation", tag = "gestion", security(("jeton" = [])),
    params(("numero" = String, Path, description = "n° de dossier")),
    request_body = CorpsConservation,
    responses((status = 200, description = "`{numero, suspendue, purges_prevues: [{motif, le, fichiers}]}`", body = Object),
        (status = 403, description = "action_non_autorisee (a `lecture` account)", body = crate::api::Erreur),
        (status = 404, description = "dossier_inconnu", body = crate::api::Erreur),
        (status = 422, description = "champ_invalide (no reason to put on hold)", body = crate::api::Erreur)))]
pub(crate) async fn conservation(
    State(etat): State<SharedState>,
    AuthGestion(qui): AuthGestion,
    Numero(n): Numero,
    Corps(c): Corps<CorpsConservation>,
) -> Result<Response, ErreurApi> {
    let raison = c.suspendue.then(|| c.raison.unwrap_or_default());
    etat.espace
        .suspendre_conservation(&qui, &n, raison)
        .await
        .map_err(dossier_inconnu_si_absent)?;
    let c = etat.espace.consulter(&n).await?;
    Ok(Json(json!({
        "numero": n.as_str(),
        "suspendue": c.dossier.conservation_suspendue().is_some(),
        "purges_prevues": purges_json(&c),
    }))
    .into_response())
}

/// A dossier's scheduled purges, for the API.
pub(crate) fn purges_json(c: &Consultation) -> serde_json::Value {
    c.dossier
        .purges_prevues(&c.concours)
        .iter()
        .map(|p| {
            json!({
                "motif": p.motif.code(),
                "le": rfc3339_paris(p.le),
                "fichiers": p.fichiers.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// `GET /api/v1/gestion/conservation` query.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ParamsPurges {
    /// Days ahead (default 30, 1 to 3650).
    #[param(minimum = 1, maximum = 3650)]
    jours: Option<i64>,
}

/// The purges scheduled in the next `jours` days (30 by default), those already due
/// included, soonest first.
#[utoipa::path(get, path = "/api/v1/gestion/conservation", tag = "gestion", security(("jeton" = [])),
    params(ParamsPurges),
    responses((status = 200, description = "`{purges: [{numero, motif, le, fichiers}]}`", body = Object),
        (status = 422, description = "champ_invalide (jours out of range)", body = crate::api::Erreur)))]
pub(crate) async fn purges_a_venir(
    State(etat): State<SharedState>,
    _qui: AuthGestion,
    Query(p): Query<ParamsPurges>,
) -> Result<Response, ErreurApi> {
    let jours = p.jours.unwrap_or(30);
    if !(1..=3650).contains(&jours) {
        return Err(depot_core::Refus::ChampInvalide {
            champ: "jours",
            raison: "entre 1 et 3650.".into(),
        }
        .into());
    }
    let v = etat
        .espace
        .purges_a_venir(chrono::Duration::days(jours))
        .await?;
    let purges: Vec<_> = v
        .iter()
        .map(|p| {
            json!({
                "numero": p.numero.as_str(),
                "motif": p.motif.code(),
                "le": rfc3339_paris(p.le),
                "fichiers": p.fichiers.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({ "jours": jours, "purges": purges })).into_response())
}
