//! Getting back in: « Mot de passe oublié ? » and « N° de dossier oublié ? », as API routes
//! and as pages.
//!
//! - The answer says nothing of whether the n° and the address match: always 202, the same
//!   body, and the same work before answering (the throttling counts) — the lookup and the
//!   message are done **after** the answer, in a task of their own, so the time to answer
//!   does not depend on a match either.
//! - Throttled: 3 requests an hour per n° and per address typed, 20 an hour per client
//!   address. The counts are kept whether or not anything matched.
//! - The reset link's token is checked before the new password is judged or hashed.

use std::net::IpAddr;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use depot_core::MotDePasse;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use crate::extraction::{Corps, Ip};
use crate::web::csrf::{COOKIE_CANDIDAT, page_avec_jeton};
use crate::web::layout::{alerte, page, rendu};
use crate::{ErreurApi, SharedState};

/// Requests per hour per n° and per e-mail address typed.
pub const PAR_CLE_ET_HEURE: usize = 3;
/// Requests per hour per client address.
pub const PAR_IP_ET_HEURE: usize = 20;

/// What every « oubli » request answers, whatever matched.
pub const MESSAGE_MOT_DE_PASSE: &str = "Si ce n° de dossier et cette adresse électronique correspondent à une inscription, un courriel vient d'y être envoyé avec un lien pour choisir un nouveau mot de passe, valable 30 minutes. Pensez à regarder dans les courriers indésirables.";
/// The same for the n°.
pub const MESSAGE_NUMERO: &str = "Si cette adresse électronique correspond à une inscription, un courriel vient d'y être envoyé avec vos n° de dossier. Pensez à regarder dans les courriers indésirables.";

/// The routes: API and pages.
pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/api/v1/mot-de-passe/oubli", post(api_oubli_mot_de_passe))
        .route(
            "/api/v1/mot-de-passe/nouveau",
            post(api_nouveau_mot_de_passe),
        )
        .route("/api/v1/numero/oubli", post(api_oubli_numero))
        .route(
            "/mot-de-passe/oubli",
            get(page_oubli_mot_de_passe).post(form_oubli_mot_de_passe),
        )
        .route(
            "/mot-de-passe/nouveau",
            get(page_nouveau_mot_de_passe).post(form_nouveau_mot_de_passe),
        )
        .route(
            "/numero/oubli",
            get(page_oubli_numero).post(form_oubli_numero),
        )
}

fn cle_numero(n: &str) -> String {
    n.trim().to_uppercase().chars().take(32).collect()
}

fn cle_email(e: &str) -> String {
    e.trim().to_lowercase().chars().take(254).collect()
}

/// A field of an « oubli » form: present, and not longer than anything depot ever issued.
fn champ(champ: &'static str, valeur: &str, max: usize) -> Result<(), ErreurApi> {
    let n = valeur.trim().chars().count();
    if n == 0 || valeur.chars().count() > max {
        return Err(depot_core::Refus::ChampInvalide {
            champ,
            raison: if n == 0 {
                "ce champ est obligatoire.".to_owned()
            } else {
                format!("au plus {max} caractères.")
            },
        }
        .into());
    }
    Ok(())
}

/// Counts a request of `ip` on `cles` (each its own hourly count); 429 when one is over.
async fn compter(etat: &SharedState, ip: IpAddr, cles: &[String]) -> Result<(), ErreurApi> {
    let now = etat.now();
    let trop = |r| crate::session::retenue(r, ErreurApi::trop_de_demandes);
    etat.oublis_ip.reserver(&ip, now).await.map_err(trop)?;
    for c in cles {
        etat.oublis.reserver(c, now).await.map_err(trop)?;
    }
    Ok(())
}

/// The lookup and the message, after the answer: the time to answer says nothing.
fn en_arriere_plan<F>(nom: &'static str, f: F)
where
    F: std::future::Future<Output = Result<(), depot_core::ErreurEspace>> + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(e) = f.await {
            tracing::warn!(demande = nom, erreur = %e, "demande d'oubli non traitée");
        }
    });
}

async fn oubli_mot_de_passe(
    etat: &SharedState,
    ip: IpAddr,
    numero: &str,
    email: &str,
) -> Result<(), ErreurApi> {
    champ("numero", numero, 64)?;
    champ("email", email, 254)?;
    compter(
        etat,
        ip,
        &[
            format!("n:{}", cle_numero(numero)),
            format!("m:{}", cle_email(email)),
        ],
    )
    .await?;
    let (espace, numero, email) = (etat.espace.clone(), numero.to_owned(), email.to_owned());
    en_arriere_plan("mot_de_passe", async move {
        espace
            .demander_reinitialisation(&numero, &email)
            .await
            .map(|_| ())
    });
    Ok(())
}

async fn oubli_numero(etat: &SharedState, ip: IpAddr, email: &str) -> Result<(), ErreurApi> {
    champ("email", email, 254)?;
    compter(etat, ip, &[format!("m:{}", cle_email(email))]).await?;
    let (espace, email) = (etat.espace.clone(), email.to_owned());
    en_arriere_plan("numero", async move {
        espace.rappeler_numeros(&email).await.map(|_| ())
    });
    Ok(())
}

/// `POST /api/v1/mot-de-passe/oubli` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorpsOubliMotDePasse {
    /// The n° de dossier (white space around it is ignored: at least one other character).
    #[schema(min_length = 1, max_length = 64, pattern = "\\S")]
    pub numero: String,
    /// The address given at pré-inscription (white space around it is ignored).
    #[schema(min_length = 1, max_length = 254, pattern = "\\S")]
    pub email: String,
}

/// `POST /api/v1/numero/oubli` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorpsOubliNumero {
    /// The address given at pré-inscription (white space around it is ignored: at least
    /// one other character).
    #[schema(min_length = 1, max_length = 254, pattern = "\\S")]
    pub email: String,
}

/// `POST /api/v1/mot-de-passe/nouveau` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorpsNouveauMotDePasse {
    /// The token of the e-mailed link.
    #[schema(max_length = 200)]
    pub jeton: String,
    /// The new password: the pré-inscription policy applies.
    #[schema(value_type = String, min_length = 12, max_length = 128)]
    pub mot_de_passe: MotDePasse,
}

/// The same answer to every « oubli » request.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ReponseOubli {
    /// What the candidate reads.
    pub message: String,
}

fn accepte(message: &str) -> Response {
    (StatusCode::ACCEPTED, Json(json!({ "message": message }))).into_response()
}

/// « Mot de passe oublié » : a reset link to the address, if it matches the n°.
#[utoipa::path(post, path = "/api/v1/mot-de-passe/oubli", tag = "candidat", request_body = CorpsOubliMotDePasse,
    responses((status = 202, body = ReponseOubli, description = "the same whether or not they match"),
        (status = 429, description = "trop_de_demandes", body = crate::candidat::api::Erreur)))]
async fn api_oubli_mot_de_passe(
    State(etat): State<SharedState>,
    Ip(ip): Ip,
    Corps(c): Corps<CorpsOubliMotDePasse>,
) -> Result<Response, ErreurApi> {
    oubli_mot_de_passe(&etat, ip, &c.numero, &c.email).await?;
    Ok(accepte(MESSAGE_MOT_DE_PASSE))
}

/// « N° de dossier oublié » : the n° of the dossiers registered with the address.
#[utoipa::path(post, path = "/api/v1/numero/oubli", tag = "candidat", request_body = CorpsOubliNumero,
    responses((status = 202, body = ReponseOubli, description = "the same whether or not it matches"),
        (status = 429, description = "trop_de_demandes", body = crate::candidat::api::Erreur)))]
async fn api_oubli_numero(
    State(etat): State<SharedState>,
    Ip(ip): Ip,
    Corps(c): Corps<CorpsOubliNumero>,
) -> Result<Response, ErreurApi> {
    oubli_numero(&etat, ip, &c.email).await?;
    Ok(accepte(MESSAGE_NUMERO))
}

/// A new password from a reset link: every session of the dossier ends.
#[utoipa::path(post, path = "/api/v1/mot-de-passe/nouveau", tag = "candidat", request_body = CorpsNouveauMotDePasse,
    responses((status = 204, description = "password changed"),
        (status = 422, description = "jeton_invalide, mot_de_passe_faible", body = crate::candidat::api::Erreur),
        (status = 429, description = "trop_de_demandes", body = crate::candidat::api::Erreur)))]
async fn api_nouveau_mot_de_passe(
    State(etat): State<SharedState>,
    Ip(ip): Ip,
    Corps(c): Corps<CorpsNouveauMotDePasse>,
) -> Result<StatusCode, ErreurApi> {
    nouveau_mot_de_passe(&etat, ip, &c.jeton, &c.mot_de_passe).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn nouveau_mot_de_passe(
    etat: &SharedState,
    ip: IpAddr,
    jeton: &str,
    mot_de_passe: &MotDePasse,
) -> Result<(), ErreurApi> {
    // Each try may cost a password hash: counted per client address.
    compter(etat, ip, &[]).await?;
    etat.espace
        .reinitialiser_mot_de_passe(jeton, mot_de_passe)
        .await?;
    Ok(())
}

// ---- Pages -------------------------------------------------------------------------------

fn avec_csrf(etat: &SharedState, statut: StatusCode, f: impl FnOnce(&str) -> Markup) -> Response {
    page_avec_jeton(etat, statut, COOKIE_CANDIDAT, f)
}

fn csrf_valide(headers: &HeaderMap, recu: &str) -> bool {
    crate::web::csrf::double_soumission_valide(headers, COOKIE_CANDIDAT, recu)
}

const FORMULAIRE_EXPIRE: &str = "Ce formulaire a expiré. Saisissez de nouveau vos informations.";

fn formulaire_mot_de_passe(
    etat: &SharedState,
    csrf: &str,
    numero: &str,
    email: &str,
    erreur: Option<&str>,
) -> Markup {
    page(
        etat,
        "Mot de passe oublié",
        html! {
            @if let Some(e) = erreur { (alerte(e)) }
            p { "Saisissez votre n° de dossier et l'adresse électronique donnée lors de la préinscription : vous recevrez un lien pour choisir un nouveau mot de passe, valable 30 minutes." }
            form method="post" action=(etat.chemin("/mot-de-passe/oubli")) class="carte" {
                input type="hidden" name="csrf" value=(csrf);
                p {
                    label for="numero" { "N° de dossier" }
                    input id="numero" name="numero" type="text" required autocomplete="username" value=(numero) placeholder="2025-ANI-7K3Q9P";
                }
                p {
                    label for="email" { "Adresse électronique" }
                    input id="email" name="email" type="email" required autocomplete="email" value=(email);
                }
                p { button type="submit" class="principal" { "Recevoir un lien" } }
            }
            p { a href=(etat.chemin("/numero/oubli")) { "N° de dossier oublié ?" } }
            p { a href=(etat.chemin("/connexion")) { "Revenir à la connexion" } }
        },
    )
}

fn formulaire_numero(etat: &SharedState, csrf: &str, email: &str, erreur: Option<&str>) -> Markup {
    page(
        etat,
        "N° de dossier oublié",
        html! {
            @if let Some(e) = erreur { (alerte(e)) }
            p { "Saisissez l'adresse électronique donnée lors de la préinscription : vous recevrez la liste de vos n° de dossier." }
            form method="post" action=(etat.chemin("/numero/oubli")) class="carte" {
                input type="hidden" name="csrf" value=(csrf);
                p {
                    label for="email" { "Adresse électronique" }
                    input id="email" name="email" type="email" required autocomplete="email" value=(email);
                }
                p { button type="submit" class="principal" { "Recevoir mes n° de dossier" } }
            }
            p { a href=(etat.chemin("/connexion")) { "Revenir à la connexion" } }
        },
    )
}

fn confirmation(etat: &SharedState, titre: &str, message: &str) -> Response {
    rendu(
        StatusCode::OK,
        page(
            etat,
            titre,
            html! {
                div class="alerte succes" role="status" { p { (message) } }
                p { a href=(etat.chemin("/connexion")) { "Revenir à la connexion" } }
            },
        ),
    )
}

async fn page_oubli_mot_de_passe(State(etat): State<SharedState>) -> Response {
    avec_csrf(&etat, StatusCode::OK, |c| {
        formulaire_mot_de_passe(&etat, c, "", "", None)
    })
}

#[derive(Deserialize)]
struct FormOubliMotDePasse {
    csrf: String,
    numero: String,
    email: String,
}

async fn form_oubli_mot_de_passe(
    State(etat): State<SharedState>,
    Ip(ip): Ip,
    headers: HeaderMap,
    Form(f): Form<FormOubliMotDePasse>,
) -> Response {
    repondre(
        &etat,
        &headers,
        &f.csrf,
        |c, e| formulaire_mot_de_passe(&etat, c, &f.numero, &f.email, e),
        oubli_mot_de_passe(&etat, ip, &f.numero, &f.email),
        ("Mot de passe oublié", MESSAGE_MOT_DE_PASSE),
    )
    .await
}

/// What a posted form of this module answers: the form again with a fresh token when its
/// token is not the cookie's (and `action` does not run), the confirmation when `action`
/// succeeded, the form with the error otherwise (and `Retry-After` when throttled).
async fn repondre(
    etat: &SharedState,
    headers: &HeaderMap,
    csrf: &str,
    formulaire: impl Fn(&str, Option<&str>) -> Markup,
    action: impl std::future::Future<Output = Result<(), ErreurApi>>,
    (titre, message): (&str, &str),
) -> Response {
    if !csrf_valide(headers, csrf) {
        return avec_csrf(etat, StatusCode::FORBIDDEN, |c| {
            formulaire(c, Some(FORMULAIRE_EXPIRE))
        });
    }
    match action.await {
        Ok(()) => confirmation(etat, titre, message),
        Err(e) => {
            let mut r = rendu(e.statut, formulaire(csrf, Some(&e.message)));
            if let Some(s) = e.reessayer_apres {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(s));
            }
            r
        }
    }
}

async fn page_oubli_numero(State(etat): State<SharedState>) -> Response {
    avec_csrf(&etat, StatusCode::OK, |c| {
        formulaire_numero(&etat, c, "", None)
    })
}

#[derive(Deserialize)]
struct FormOubliNumero {
    csrf: String,
    email: String,
}

async fn form_oubli_numero(
    State(etat): State<SharedState>,
    Ip(ip): Ip,
    headers: HeaderMap,
    Form(f): Form<FormOubliNumero>,
) -> Response {
    repondre(
        &etat,
        &headers,
        &f.csrf,
        |c, e| formulaire_numero(&etat, c, &f.email, e),
        oubli_numero(&etat, ip, &f.email),
        ("N° de dossier oublié", MESSAGE_NUMERO),
    )
    .await
}

fn formulaire_nouveau(etat: &SharedState, csrf: &str, jeton: &str, erreur: Option<&str>) -> Markup {
    page(
        etat,
        "Choisir un nouveau mot de passe",
        html! {
            @if let Some(e) = erreur { (alerte(e)) }
            form method="post" action=(etat.chemin("/mot-de-passe/nouveau")) class="carte" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="jeton" value=(jeton);
                p {
                    label for="mot_de_passe" { "Nouveau mot de passe (au moins 12 caractères ; une phrase facile à retenir pour vous, difficile à deviner)" }
                    input id="mot_de_passe" name="mot_de_passe" type="password" required minlength="12" maxlength="128" autocomplete="new-password";
                }
                p {
                    label for="confirmation" { "Le même mot de passe, une seconde fois" }
                    input id="confirmation" name="confirmation" type="password" required minlength="12" maxlength="128" autocomplete="new-password";
                }
                p { button type="submit" class="principal" { "Enregistrer le nouveau mot de passe" } }
            }
            p { a href=(etat.chemin("/mot-de-passe/oubli")) { "Demander un nouveau lien" } }
        },
    )
}

#[derive(Deserialize)]
struct QueryJeton {
    #[serde(default)]
    jeton: String,
}

async fn page_nouveau_mot_de_passe(
    State(etat): State<SharedState>,
    Query(q): Query<QueryJeton>,
) -> Response {
    let jeton: String = q.jeton.chars().take(200).collect();
    avec_csrf(&etat, StatusCode::OK, |c| {
        formulaire_nouveau(&etat, c, &jeton, None)
    })
}

#[derive(Deserialize)]
struct FormNouveau {
    csrf: String,
    jeton: String,
    mot_de_passe: MotDePasse,
    confirmation: MotDePasse,
}

async fn form_nouveau_mot_de_passe(
    State(etat): State<SharedState>,
    Ip(ip): Ip,
    headers: HeaderMap,
    Form(f): Form<FormNouveau>,
) -> Response {
    let jeton: String = f.jeton.chars().take(200).collect();
    let action = async {
        if f.mot_de_passe.exposer() != f.confirmation.exposer() {
            return Err(ErreurApi::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "champ_invalide",
                "Les deux mots de passe saisis sont différents. Saisissez le même mot de passe deux fois.",
            ));
        }
        nouveau_mot_de_passe(&etat, ip, &jeton, &f.mot_de_passe).await
    };
    repondre(
        &etat,
        &headers,
        &f.csrf,
        |c, e| formulaire_nouveau(&etat, c, &jeton, e),
        action,
        (
            "Mot de passe changé",
            "Votre nouveau mot de passe est enregistré. Connectez-vous avec votre n° de dossier et ce mot de passe.",
        ),
    )
    .await
}
