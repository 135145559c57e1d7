//! The CDG's side over HTTP, `/api/v1/gestion`: staff accounts with a role, lists with
//! filters and paging, the forclos dossiers apart, a dossier with its journal, any file,
//! decisions, and an export of a selection as a ZIP streamed to the client.
//!
//! Staff authenticate with `Authorization: Bearer <jeton>`; tokens come from the server
//! configuration, which stores only their SHA-256 (they are 256-bit random, so a fast hash
//! suffices). Staff and candidates never share a token.

use std::io::Write;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use depot_core::calendrier::{DateSaisie, rfc3339_paris};
use depot_core::{
    Consultation, Decision, DecisionSaisie, Espace, EtatLu, Format, Gestionnaire, MotifRejet,
    NumeroDossier, Refus, Role, Sha256, Voie,
};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::{Corps, reponse_fichier};
use crate::chemin::{IdFichier, Numero};
use crate::vue::vue_dossier;
use crate::{ErreurApi, SharedState};

/// A staff account from the server configuration.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CompteGestionnaire {
    /// Their id, recorded in journals.
    pub id: String,
    /// `lecture` or `instruction`.
    pub role: Role,
    /// SHA-256 (hex) of their token.
    pub jeton_sha256: Sha256,
}

/// A request by a member of staff.
pub struct AuthGestion(pub Gestionnaire);

impl FromRequestParts<SharedState> for AuthGestion {
    type Rejection = ErreurApi;

    async fn from_request_parts(parts: &mut Parts, etat: &SharedState) -> Result<Self, ErreurApi> {
        let jeton = crate::jeton_bearer(parts).ok_or_else(ErreurApi::non_authentifie)?;
        let h = Sha256::de(jeton.trim().as_bytes());
        etat.config
            .gestionnaires
            .iter()
            .find(|c| c.jeton_sha256 == h)
            .map(|c| {
                Self(Gestionnaire {
                    id: c.id.clone(),
                    role: c.role,
                })
            })
            .ok_or_else(ErreurApi::non_authentifie)
    }
}

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

fn selectionner(tous: Vec<Consultation>, f: &Filtres) -> Result<Vec<Consultation>, ErreurApi> {
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

async fn consulter(etat: &SharedState, n: &NumeroDossier) -> Result<Consultation, ErreurApi> {
    etat.espace.consulter(n).await.map_err(|e| match e {
        depot_core::ErreurEspace::Stockage(depot_core::StorageError::NotFound(_)) => {
            ErreurApi::dossier_inconnu()
        }
        autre => autre.into(),
    })
}

async fn dossier(
    State(etat): State<SharedState>,
    _qui: AuthGestion,
    Numero(n): Numero,
) -> Result<Response, ErreurApi> {
    let c = consulter(&etat, &n).await?;
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
    _qui: AuthGestion,
    Numero(n): Numero,
    IdFichier(id): IdFichier,
) -> Result<Response, ErreurApi> {
    let (f, flux) = etat.espace.voir(&n, &id).await?;
    Ok(reponse_fichier(&f, flux))
}

async fn decider(
    State(etat): State<SharedState>,
    AuthGestion(qui): AuthGestion,
    Numero(n): Numero,
    Corps(saisie): Corps<DecisionSaisie>,
) -> Result<Response, ErreurApi> {
    let decision = Decision::try_from(saisie)?;
    consulter(&etat, &n).await?;
    etat.espace.decider(&qui, &n, decision).await?;
    let c = etat.espace.consulter(&n).await?;
    Ok(Json(json!({
        "numero": n.as_str(),
        "etat": c.dossier.etat_lu(&c.concours, c.maintenant).code(),
        "message": c.dossier.message_etat(&c.concours, c.maintenant),
    }))
    .into_response())
}

/// Sends what the ZIP writer produces through a bounded channel, 64 KiB at a time: memory
/// stays bounded whatever the size of the export.
struct VersCanal {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    tampon: Vec<u8>,
}

impl Write for VersCanal {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tampon.extend_from_slice(buf);
        if self.tampon.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.tampon.is_empty() {
            return Ok(());
        }
        let morceau = Bytes::from(std::mem::take(&mut self.tampon));
        self.tx
            .blocking_send(Ok(morceau))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client parti"))
    }
}

fn csv_dossiers(liste: &[Consultation]) -> Result<Vec<u8>, std::io::Error> {
    // UTF-8 BOM and `;`: what French spreadsheet software expects.
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record([
        "n° de dossier",
        "nom",
        "prénom",
        "voie",
        "état",
        "clôturé le (heure de Paris)",
        "pièces manquantes",
    ])?;
    for c in liste {
        let d = &c.dossier;
        let cloture = d
            .cloture_le()
            .map(|t| {
                t.with_timezone(&chrono_tz::Europe::Paris)
                    .format("%d/%m/%Y %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default();
        let manquantes = d
            .pieces_manquantes(&c.concours)
            .iter()
            .map(|p| p.libelle.clone())
            .collect::<Vec<_>>()
            .join(", ");
        w.write_record([
            d.numero().as_str(),
            d.identite().nom(),
            d.identite().prenom(),
            d.voie().code(),
            d.etat_lu(&c.concours, c.maintenant).code(),
            &cloture,
            &manquantes,
        ])?;
    }
    w.into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))
}

fn ecrire_zip(
    sortie: VersCanal,
    liste: Vec<Consultation>,
    espace: &Espace,
    rt: &tokio::runtime::Handle,
) -> Result<(), std::io::Error> {
    use zip::write::SimpleFileOptions;
    let autre = |e: zip::result::ZipError| std::io::Error::other(e.to_string());
    let mut z = zip::ZipWriter::new_stream(sortie);
    let stocke = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    let compresse =
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    z.start_file("dossiers.csv", compresse).map_err(autre)?;
    z.write_all(&csv_dossiers(&liste)?)?;
    for c in &liste {
        let d = &c.dossier;
        let n = d.numero();
        for p in d.pieces(&c.concours) {
            for (i, f) in d.fichiers_de(&p.code).enumerate() {
                let ext = match f.format {
                    Format::Pdf => "pdf",
                    Format::Jpeg => "jpg",
                };
                z.start_file(format!("{n}/{}-{}.{ext}", p.code, i + 1), stocke)
                    .map_err(autre)?;
                let (_, mut flux) = rt
                    .block_on(espace.voir(n, &f.id))
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                while let Some(m) = rt.block_on(flux.next()) {
                    z.write_all(&m.map_err(|e| std::io::Error::other(e.to_string()))?)?;
                }
            }
        }
        if let Some(r) = d.recepisse() {
            z.start_file(format!("{n}/recepisse.json"), compresse)
                .map_err(autre)?;
            z.write_all(&serde_json::to_vec_pretty(r).map_err(std::io::Error::other)?)?;
        }
    }
    let mut fin = z.finish().map_err(autre)?;
    fin.flush()
}

/// Export of a selection (the list's filters, or `numeros`) as a ZIP streamed to the client:
/// one folder per dossier with `<code-piece>-<n>.<ext>` files and the signed récépissé, and a
/// `dossiers.csv` (`;`, UTF-8 BOM) for spreadsheets.
async fn exporter(
    State(etat): State<SharedState>,
    _qui: AuthGestion,
    Corps(f): Corps<Filtres>,
) -> Result<Response, ErreurApi> {
    let liste = selectionner(etat.espace.lister().await?, &f)?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let espace = etat.espace.clone();
    let rt = tokio::runtime::Handle::current();
    let erreurs = tx.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = ecrire_zip(
            VersCanal {
                tx,
                tampon: Vec::new(),
            },
            liste,
            &espace,
            &rt,
        ) {
            tracing::error!(erreur = %e, "export interrompu");
            let _ = erreurs.blocking_send(Err(e));
        }
    });
    let flux = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut r = Response::new(Body::from_stream(flux));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"export-dossiers.zip\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

// ---- Staff pages (minimal): a list, a dossier with its journal and the decision buttons --

const COOKIE_GESTION: &str = "depot_gestion";

/// A staff page request: the token is kept in an `HttpOnly; SameSite=Strict` cookie; forms
/// carry a CSRF token derived from it.
pub struct AuthGestionPage {
    qui: Gestionnaire,
    csrf: String,
}

fn csrf_de(jeton: &str) -> String {
    Sha256::de(format!("csrf:{jeton}").as_bytes()).hex()
}

fn compte<'a>(etat: &'a SharedState, jeton: &str) -> Option<&'a CompteGestionnaire> {
    let h = Sha256::de(jeton.trim().as_bytes());
    etat.config
        .gestionnaires
        .iter()
        .find(|c| c.jeton_sha256 == h)
}

impl FromRequestParts<SharedState> for AuthGestionPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, etat: &SharedState) -> Result<Self, Response> {
        let jeton = crate::pages::cookie(&parts.headers, COOKIE_GESTION).unwrap_or_default();
        match compte(etat, jeton) {
            Some(c) => Ok(Self {
                qui: Gestionnaire {
                    id: c.id.clone(),
                    role: c.role,
                },
                csrf: csrf_de(jeton),
            }),
            None => Err(
                axum::response::Redirect::to(&etat.chemin("/gestion/connexion")).into_response(),
            ),
        }
    }
}

/// The staff page routes.
pub fn routes_pages() -> Router<SharedState> {
    Router::new()
        .route("/gestion/connexion", get(connexion_page).post(connexion))
        .route("/gestion", get(liste_page))
        .route("/gestion/dossiers/{numero}", get(dossier_page))
        .route("/gestion/dossiers/{numero}/decision", post(decision_page))
        .route(
            "/gestion/dossiers/{numero}/fichiers/{id}",
            get(fichier_page),
        )
}

use maud::html;

async fn connexion_page(State(etat): State<SharedState>) -> Response {
    crate::pages::rendu(
        StatusCode::OK,
        crate::pages::page(
            &etat,
            "Service concours — connexion",
            html! {
                form method="post" action=(etat.chemin("/gestion/connexion")) class="carte" {
                    p { label for="jeton" { "Jeton d'accès du gestionnaire" } input id="jeton" name="jeton" type="password" required autocomplete="off"; }
                    p { button type="submit" class="principal" { "Connexion" } }
                }
            },
        ),
    )
}

#[derive(Deserialize)]
struct FormJeton {
    jeton: String,
}

async fn connexion(
    State(etat): State<SharedState>,
    axum::extract::Form(f): axum::extract::Form<FormJeton>,
) -> Response {
    if compte(&etat, &f.jeton).is_none() {
        return crate::pages::rendu(
            StatusCode::UNAUTHORIZED,
            crate::pages::page(
                &etat,
                "Service concours — connexion",
                html! {
                    (crate::pages::alerte("Jeton inconnu."))
                    p { a href=(etat.chemin("/gestion/connexion")) { "Réessayer" } }
                },
            ),
        );
    }
    let mut r = axum::response::Redirect::to(&etat.chemin("/gestion")).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        crate::pages::poser_cookie(&etat, COOKIE_GESTION, f.jeton.trim(), Some(12 * 3600)),
    );
    r
}

async fn liste_page(
    State(etat): State<SharedState>,
    auth: AuthGestionPage,
    Query(f): Query<Filtres>,
) -> Response {
    let liste = match etat
        .espace
        .lister()
        .await
        .map_err(ErreurApi::from)
        .and_then(|l| selectionner(l, &f))
    {
        Ok(l) => l,
        Err(e) => {
            return crate::pages::rendu(
                e.statut,
                crate::pages::page(&etat, "Dossiers", crate::pages::alerte(&e.message)),
            );
        }
    };
    crate::pages::rendu(
        StatusCode::OK,
        crate::pages::page(
            &etat,
            "Dossiers d'inscription",
            html! {
                p { "Connecté : " (auth.qui.id) " (" (if auth.qui.role == Role::Instruction { "instruction" } else { "lecture" }) ")" }
                p {
                    "Filtrer : "
                    @for e in EtatLu::TOUS {
                        a href=(etat.chemin(&format!("/gestion?etat={}", e.code()))) { (e.libelle()) } " · "
                    }
                    a href=(etat.chemin("/gestion")) { "tous" }
                }
                table {
                    thead { tr { th { "N°" } th { "Nom" } th { "Voie" } th { "État" } th { "Clôturé le" } th { "Pièces manquantes" } } }
                    tbody {
                        @for c in &liste {
                            @let d = &c.dossier;
                            tr {
                                td { a href=(etat.chemin(&format!("/gestion/dossiers/{}", d.numero()))) { (d.numero()) } }
                                td { (d.identite().nom()) " " (d.identite().prenom()) }
                                td { (d.voie().libelle()) }
                                td { (d.etat_lu(&c.concours, c.maintenant).libelle()) }
                                td { (d.cloture_le().map(depot_core::calendrier::instant_en_lettres).unwrap_or_default()) }
                                td { (d.pieces_manquantes(&c.concours).iter().map(|p| p.libelle.as_str()).collect::<Vec<_>>().join(", ")) }
                            }
                        }
                    }
                }
            },
        ),
    )
}

async fn dossier_page(
    State(etat): State<SharedState>,
    auth: AuthGestionPage,
    Numero(n): Numero,
) -> Response {
    let c = match consulter(&etat, &n).await {
        Ok(c) => c,
        Err(e) => {
            return crate::pages::rendu(
                e.statut,
                crate::pages::page(&etat, "Dossier", crate::pages::alerte(&e.message)),
            );
        }
    };
    let d = &c.dossier;
    let action = etat.chemin(&format!("/gestion/dossiers/{}/decision", d.numero()));
    crate::pages::rendu(
        StatusCode::OK,
        crate::pages::page(
            &etat,
            &format!("Dossier {}", d.numero()),
            html! {
                p { (d.identite().prenom()) " " (d.identite().nom()) " — " (d.identite().email()) " — " (d.voie().libelle()) }
                div class="alerte info" id="etat" { p { strong { (d.etat_lu(&c.concours, c.maintenant).libelle()) } " — " (d.message_etat(&c.concours, c.maintenant)) } }
                h2 { "Pièces" }
                ul {
                    @for p in d.pieces(&c.concours) {
                        li {
                            (p.libelle) " : "
                            @for f in d.fichiers_de(&p.code) {
                                a href=(etat.chemin(&format!("/gestion/dossiers/{}/fichiers/{}", d.numero(), f.id))) target="_blank" rel="noopener" { (f.nom) } " "
                            }
                        }
                    }
                }
                @if auth.qui.role == Role::Instruction {
                    h2 { "Décisions" }
                    form method="post" action=(action) class="carte" {
                        input type="hidden" name="csrf" value=(auth.csrf);
                        input type="hidden" name="decision" value="recevable";
                        button type="submit" class="principal" id="recevable" { "Déclarer recevable" }
                    }
                    form method="post" action=(action) class="carte" {
                        input type="hidden" name="csrf" value=(auth.csrf);
                        input type="hidden" name="decision" value="complements";
                        fieldset { legend { "Pièces demandées" }
                            @for p in d.pieces(&c.concours) {
                                p { input type="checkbox" name="pieces" id=(format!("piece-{}", p.code.as_str())) value=(p.code.as_str()); " " label for=(format!("piece-{}", p.code.as_str())) { (p.libelle) } }
                            } }
                        p { label for="message" { "Message au candidat" } input id="message" name="message" required; }
                        p { label for="date_limite" { "Date limite (AAAA-MM-JJ)" } input id="date_limite" name="date_limite" required; }
                        button type="submit" id="complements" { "Demander des compléments" }
                    }
                    form method="post" action=(action) class="carte" {
                        input type="hidden" name="csrf" value=(auth.csrf);
                        input type="hidden" name="decision" value="rejet";
                        p { label for="motif" { "Motif" }
                            select id="motif" name="motif" {
                                @for m in MotifRejet::CHOIX {
                                    option value=(m.code()) { (m.libelle()) }
                                }
                            } }
                        p { label for="texte" { "Précision" } input id="texte" name="texte"; }
                        button type="submit" class="danger" id="rejeter" { "Rejeter" }
                    }
                    form method="post" action=(action) class="carte" {
                        input type="hidden" name="csrf" value=(auth.csrf);
                        input type="hidden" name="decision" value="revision";
                        p { label for="raison" { "Raison" } input id="raison" name="raison" required; }
                        button type="submit" id="reviser" { "Repasser en instruction" }
                    }
                }
                h2 { "Journal" }
                ol start="0" {
                    @for e in d.evenements() {
                        li { code { (serde_json::to_string(e).unwrap_or_else(|err| err.to_string())) } }
                    }
                }
                p { a href=(etat.chemin("/gestion")) { "Retour à la liste" } }
            },
        ),
    )
}

#[derive(Deserialize)]
struct FormDecision {
    csrf: String,
    #[serde(flatten)]
    decision: DecisionSaisie,
}

async fn decision_page(
    State(etat): State<SharedState>,
    auth: AuthGestionPage,
    Numero(n): Numero,
    axum_extra::extract::Form(f): axum_extra::extract::Form<FormDecision>,
) -> Response {
    let r = async {
        if !crate::csrf::jeton_valide(&f.csrf, &auth.csrf) {
            return Err(ErreurApi::formulaire_expire());
        }
        let decision = Decision::try_from(f.decision)?;
        etat.espace.decider(&auth.qui, &n, decision).await?;
        Ok(())
    }
    .await;
    match r {
        Ok(()) => axum::response::Redirect::to(&etat.chemin(&format!("/gestion/dossiers/{n}")))
            .into_response(),
        Err(e) => crate::pages::rendu(
            e.statut,
            crate::pages::page(
                &etat,
                "Décision impossible",
                html! {
                    (crate::pages::alerte(&e.message))
                    p { a href=(etat.chemin(&format!("/gestion/dossiers/{n}"))) { "Revenir au dossier" } }
                },
            ),
        ),
    }
}

async fn fichier_page(
    State(etat): State<SharedState>,
    _auth: AuthGestionPage,
    Numero(n): Numero,
    IdFichier(id): IdFichier,
) -> Result<Response, ErreurApi> {
    let (f, flux) = etat.espace.voir(&n, &id).await?;
    Ok(reponse_fichier(&f, flux))
}
