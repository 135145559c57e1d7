//! The JSON API, `/api/v1`. See `docs/api.md` for the contract.

use axum::Json;
use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use depot_core::calendrier::rfc3339_paris;
use depot_core::{DemandePreinscription, MotDePasse, Refus, Voie};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::chemin::IdFichier;
use crate::depot::{deposer_champ, erreur_corps, vider};
use crate::extraction::{Corps, Ip};
use crate::reponse::reponse_fichier;
use crate::session::SessionOuverte;
use crate::vue::{recepisse_json, vue_dossier};
use crate::{AuthApi, ErreurApi, SharedState};

/// The API routes (uploads are routed in [`crate::router`] with their own body limit).
pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/api/v1/preinscriptions", post(preinscrire))
        .route("/api/v1/connexion", post(connexion))
        .route("/api/v1/deconnexion", post(deconnexion))
        .route("/api/v1/dossier", get(dossier))
        .route("/api/v1/dossier/fichiers/{id}", get(voir).delete(supprimer))
        .route("/api/v1/dossier/cloture", post(cloturer))
        .route("/api/v1/dossier/complements", post(transmettre))
        .route("/api/v1/dossier/recepisse", get(recepisse))
        .route("/api/v1/dossier/export", get(exporter))
        .route("/api/v1/concours", get(concours))
        .route("/api/v1/recepisse/cles", get(cles))
        .route("/api/v1/{*reste}", any(route_inconnue))
}

async fn route_inconnue() -> ErreurApi {
    ErreurApi::route_inconnue()
}

/// `POST /preinscriptions` body.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorpsPreinscription {
    /// Concours code (needed when several are hosted).
    pub concours: Option<String>,
    /// `externe` | `interne` | `troisieme_concours`.
    #[schema(pattern = "^(externe|interne|troisieme_concours)$")]
    pub voie: String,
    /// Family name.
    #[schema(min_length = 1, max_length = 100)]
    pub nom: String,
    /// Given name.
    #[schema(min_length = 1, max_length = 100)]
    pub prenom: String,
    /// E-mail.
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    /// Declarations made.
    #[serde(default)]
    pub declarations: Vec<String>,
    /// Chosen password (wiped from memory once hashed): 12 to 128 characters, not guessable.
    #[schema(value_type = String, min_length = 12, max_length = 128)]
    pub mot_de_passe: MotDePasse,
}

/// Parses the form into the core's request (shared with the pages).
pub fn demande(
    c: CorpsPreinscription,
) -> Result<(Option<String>, DemandePreinscription), ErreurApi> {
    let voie = Voie::parse(&c.voie).ok_or_else(|| Refus::ChampInvalide {
        champ: "voie",
        raison: "choisissez externe, interne ou troisieme_concours.".to_owned(),
    })?;
    Ok((
        c.concours,
        DemandePreinscription {
            voie,
            nom: c.nom,
            prenom: c.prenom,
            email: c.email,
            declarations: c.declarations,
            mot_de_passe: c.mot_de_passe,
        },
    ))
}

/// A pré-inscription from a client address, within that address's hourly allowance (shared
/// by the API and the pages).
pub(crate) async fn preinscrire_depuis(
    etat: &SharedState,
    ip: std::net::IpAddr,
    c: CorpsPreinscription,
) -> Result<depot_core::NumeroDossier, ErreurApi> {
    let (concours, d) = demande(c)?;
    let place = etat
        .preinscriptions
        .reserver(&ip, etat.now())
        .await
        .map_err(|r| crate::session::retenue(r, ErreurApi::trop_de_preinscriptions))?;
    let r = etat.espace.preinscrire(concours.as_deref(), d).await;
    if r.is_err()
        && let Err(e) = etat.preinscriptions.rendre(place).await
    {
        tracing::warn!(code = e.code(), "quota de préinscriptions non rendu");
    }
    Ok(r?)
}

/// Pré-inscription: creates a dossier and its password.
#[utoipa::path(post, path = "/api/v1/preinscriptions", tag = "candidat", request_body = CorpsPreinscription,
    responses((status = 201, body = ReponsePreinscription), (status = 404, description = "concours_inconnu", body = Erreur),
        (status = 409, description = "preinscription_fermee", body = Erreur),
        (status = 422, description = "mot_de_passe_faible, champ_invalide", body = Erreur)))]
async fn preinscrire(
    State(etat): State<SharedState>,
    Ip(ip): Ip,
    Corps(c): Corps<CorpsPreinscription>,
) -> Result<Response, ErreurApi> {
    let numero = preinscrire_depuis(&etat, ip, c).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "numero": numero.as_str() })),
    )
        .into_response())
}

/// `POST /connexion` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorpsConnexion {
    /// N° de dossier, as typed (case and surrounding spaces do not matter).
    numero: String,
    /// The password chosen at pré-inscription, exactly as typed.
    #[schema(value_type = String)]
    mot_de_passe: MotDePasse,
}

/// An error answer: always these two fields, plus details for some codes
/// (`manquantes` for `pieces_manquantes`, `champ` for `champ_invalide`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Erreur {
    /// Stable machine code, e.g. `delai_depasse`.
    pub code: String,
    /// French sentence for the candidate.
    pub message: String,
}

/// `201` of `POST /preinscriptions`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReponsePreinscription {
    /// The n° de dossier, the candidate's login.
    pub numero: String,
}

/// `200` of `POST /connexion`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReponseConnexion {
    /// Bearer token (256 random bits), to send as `Authorization: Bearer <jeton>`.
    pub jeton: String,
    /// When it expires if unused (idle 30 min, absolute 12 h), RFC 3339 Paris offset.
    pub expire_le: String,
}

/// The upload form: one file, nothing else.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // describes the multipart body for the contract; read as a stream
pub struct FormFichier {
    /// The PDF or JPEG file, with its name.
    #[schema(value_type = String, format = Binary)]
    fichier: Vec<u8>,
}

/// `201` of an upload.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReponseDepot {
    /// « Fichier enregistré ».
    pub message: &'static str,
    /// The recorded file.
    pub fichier: crate::vue::VueFichier,
}

/// `200` of `POST /dossier/cloture`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReponseCloture {
    /// `cloture`.
    pub etat: &'static str,
    /// « Votre dossier est clôturé, il est en cours d'instruction. »
    pub message: &'static str,
    /// Closure instant, RFC 3339 Paris offset.
    pub cloture_le: String,
    /// The récépissé: `contenu` (n°, identity, concours, voie, instant, files with SHA-256)
    /// and `empreinte` (SHA-256 of its canonical JSON form).
    #[schema(value_type = Object)]
    pub recepisse: serde_json::Value,
}

/// Login with throttling, shared by the API and the pages.
pub async fn ouvrir_session(
    etat: &SharedState,
    ip: std::net::IpAddr,
    numero: &str,
    mot_de_passe: MotDePasse,
) -> Result<(String, SessionOuverte), ErreurApi> {
    let tentative = etat
        .limiteur
        .tenter(numero, ip, etat.now())
        .await
        .map_err(|r| {
            if matches!(r, crate::session::Retenue::Attendre(_)) {
                tracing::warn!(%ip, "connexion limitée");
                crate::metriques::tentative_retenue();
            }
            crate::session::retenue(r, ErreurApi::trop_de_tentatives)
        })?;
    match etat.espace.connecter(numero, &mot_de_passe).await {
        Ok(n) => {
            let echecs = etat.limiteur.reussie(tentative).await?;
            // The journal keeps the count, nothing else; a failure to write it does not
            // refuse the login (a login changes no state).
            if let Err(e) = etat.espace.journaliser_connexion(&n, echecs).await {
                tracing::warn!(code = e.code(), "connexion non journalisée");
            }
            let ouverte = etat
                .sessions
                .ouvrir(n, etat.now(), etat.espace.hasard())
                .await?;
            crate::metriques::session(true);
            Ok(ouverte)
        }
        Err(depot_core::ErreurEspace::Refus(Refus::IdentifiantsInvalides)) => {
            etat.limiteur.echouee(tentative);
            crate::metriques::connexion_echouee();
            Err(Refus::IdentifiantsInvalides.into())
        }
        Err(e) => {
            if let Err(e) = etat.limiteur.annulee(tentative).await {
                tracing::warn!(code = e.code(), "tentative non rendue");
            }
            Err(e.into())
        }
    }
}

/// Login with the n° de dossier and the password.
#[utoipa::path(post, path = "/api/v1/connexion", tag = "candidat", request_body = CorpsConnexion,
    responses((status = 200, body = ReponseConnexion),
        (status = 401, description = "identifiants_invalides (same body and similar time for an unknown n°)", body = Erreur),
        (status = 429, description = "trop_de_tentatives, with Retry-After", body = Erreur)))]
async fn connexion(
    State(etat): State<SharedState>,
    Ip(ip): Ip,
    Corps(c): Corps<CorpsConnexion>,
) -> Result<Response, ErreurApi> {
    let (jeton, s) = ouvrir_session(&etat, ip, &c.numero, c.mot_de_passe).await?;
    Ok(Json(ReponseConnexion {
        jeton,
        expire_le: rfc3339_paris(s.expire_le),
    })
    .into_response())
}

/// Logout: the token is dead.
#[utoipa::path(post, path = "/api/v1/deconnexion", tag = "candidat", security(("jeton" = [])),
    responses((status = 204), (status = 401, body = Erreur)))]
async fn deconnexion(
    State(etat): State<SharedState>,
    auth: AuthApi,
) -> Result<StatusCode, ErreurApi> {
    etat.sessions.fermer(&auth.jeton).await?;
    crate::metriques::session(false);
    Ok(StatusCode::NO_CONTENT)
}

/// The dossier: state, deadline, requested pieces and their files.
#[utoipa::path(get, path = "/api/v1/dossier", tag = "candidat", security(("jeton" = [])),
    responses((status = 200, body = crate::vue::VueDossier), (status = 401, body = Erreur)))]
async fn dossier(State(etat): State<SharedState>, auth: AuthApi) -> Result<Response, ErreurApi> {
    let c = etat.espace.consulter(&auth.numero).await?;
    Ok(Json(vue_dossier(&c)).into_response())
}

/// The public keys that sign récépissés (current and previous), as the verify command takes
/// them: `{"cles": [{"id", "algorithme", "cle_publique", "valide_depuis"}]}`.
#[utoipa::path(get, path = "/api/v1/recepisse/cles", tag = "verification", responses((status = 200, description = "the keys", body = Object)))]
async fn cles(State(etat): State<SharedState>) -> Response {
    Json(cles_publiees(&etat)).into_response()
}

/// The published keys: the configured ones plus the current signer's.
pub fn cles_publiees(etat: &SharedState) -> depot_core::Cles {
    let mut c = etat.config.cles_publiees.clone();
    let actuelle = etat.espace.cle_publique();
    if !c.cles.iter().any(|k| k.id == actuelle.id) {
        c.cles.push(actuelle);
    }
    c
}

/// The hosted concours, their voies, declarations and deadlines.
#[utoipa::path(get, path = "/api/v1/concours", tag = "candidat", responses((status = 200, description = "`{\"concours\": [...]}`", body = Object)))]
async fn concours(State(etat): State<SharedState>) -> Response {
    let liste: Vec<_> = etat
        .espace
        .concours()
        .map(|c| {
            json!({
                "code": c.code.as_str(),
                "intitule": c.intitule,
                "session": c.session,
                "organisateur": c.organisateur,
                "voies": c.voies.iter().map(|v| v.code()).collect::<Vec<_>>(),
                "declarations": c.declarations.iter().map(|d| json!({"code": d.code.as_str(), "libelle": d.libelle})).collect::<Vec<_>>(),
                "preinscription_cloture": rfc3339_paris(c.calendrier.preinscription_cloture.instant()),
                "date_limite": rfc3339_paris(c.calendrier.depot_cloture.instant()),
                "date_limite_libelle": c.calendrier.depot_cloture.libelle(),
            })
        })
        .collect();
    Json(json!({ "concours": liste })).into_response()
}

/// `POST /api/v1/dossier/pieces/{code}`: refusals about the dossier come before the body is
/// read; the size limit is enforced while reading.
/// Upload one file (`multipart/form-data`, field `fichier`) for a piece: « Fichier enregistré ».
/// Refusals win in this order: 401, 404 `piece_inconnue`, 409 state, 409 `trop_de_fichiers`,
/// 413, 415, 422.
#[utoipa::path(post, path = "/api/v1/dossier/pieces/{code}", tag = "candidat", security(("jeton" = [])),
    params(("code" = String, Path, description = "code of the piece")),
    request_body(content = FormFichier, content_type = "multipart/form-data", description = "field `fichier`: the PDF or JPEG file"),
    responses((status = 201, body = ReponseDepot), (status = 401, body = Erreur),
        (status = 404, description = "piece_inconnue", body = Erreur),
        (status = 409, description = "dossier_cloture, delai_depasse, trop_de_fichiers", body = Erreur),
        (status = 413, description = "fichier_trop_volumineux", body = Erreur),
        (status = 415, description = "format_refuse, extension_incoherente", body = Erreur),
        (status = 422, description = "pdf_chiffre, pdf_contenu_actif, pdf_illisible, jpeg_invalide, image_trop_grande, fichier_vide, virus_detecte (the antivirus found a signature: nothing stored)", body = Erreur)))]
pub async fn deposer(
    State(etat): State<SharedState>,
    auth: AuthApi,
    Path(code): Path<String>,
    mut corps: Multipart,
) -> Result<Response, ErreurApi> {
    match recevoir(&etat, &auth.numero, &code, &mut corps).await {
        Ok(f) => {
            let reponse = ReponseDepot {
                message: "Fichier enregistré",
                fichier: crate::vue::VueFichier::from(&f),
            };
            Ok((StatusCode::CREATED, Json(reponse)).into_response())
        }
        Err(e) => {
            let mut r = e.into_response();
            vider(&mut corps, &mut r).await;
            Ok(r)
        }
    }
}

async fn recevoir(
    etat: &SharedState,
    numero: &depot_core::NumeroDossier,
    code: &str,
    corps: &mut Multipart,
) -> Result<depot_core::Fichier, ErreurApi> {
    while let Some(champ) = corps.next_field().await.map_err(erreur_corps)? {
        if champ.name() == Some("fichier") {
            return deposer_champ(etat, numero, code, champ).await;
        }
    }
    Err(Refus::ChampInvalide {
        champ: "fichier",
        raison: "joignez le fichier dans le champ « fichier » du formulaire.".to_owned(),
    }
    .into())
}

/// The eye: the file's bytes (`application/pdf` or `image/jpeg`, inline, `nosniff`, `no-store`).
#[utoipa::path(get, path = "/api/v1/dossier/fichiers/{id}", tag = "candidat", security(("jeton" = [])),
    params(("id" = String, Path, description = "file id")),
    responses((status = 200, description = "the file", content(("application/pdf"), ("image/jpeg"))),
        (status = 404, description = "fichier_inconnu (also for another dossier's file), fichier_purge (end of its retention period)", body = Erreur),
        (status = 409, description = "fichier_infecte (found infected after it was recorded: quarantined)", body = Erreur)))]
async fn voir(
    State(etat): State<SharedState>,
    auth: AuthApi,
    IdFichier(id): IdFichier,
) -> Result<Response, ErreurApi> {
    let (f, flux) = etat.espace.voir(&auth.numero, &id).await?;
    Ok(reponse_fichier(&f, flux))
}

/// The bin: removes a file while the dossier is open and before the deadline.
#[utoipa::path(delete, path = "/api/v1/dossier/fichiers/{id}", tag = "candidat", security(("jeton" = [])),
    params(("id" = String, Path, description = "file id")),
    responses((status = 204), (status = 404, description = "fichier_inconnu", body = Erreur),
        (status = 409, description = "dossier_cloture, delai_depasse", body = Erreur)))]
async fn supprimer(
    State(etat): State<SharedState>,
    auth: AuthApi,
    IdFichier(id): IdFichier,
) -> Result<StatusCode, ErreurApi> {
    crate::depot::operation(
        &etat,
        &auth.numero,
        etat.espace.supprimer(&auth.numero, &id),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// « Clôturer mon inscription ». Again → the same récépissé.
#[utoipa::path(post, path = "/api/v1/dossier/cloture", tag = "candidat", security(("jeton" = [])),
    responses((status = 200, body = ReponseCloture),
        (status = 409, description = "pieces_manquantes (with `manquantes`: [{code, libelle}]), delai_depasse", body = Erreur)))]
async fn cloturer(State(etat): State<SharedState>, auth: AuthApi) -> Result<Response, ErreurApi> {
    let r = etat.espace.cloturer(&auth.numero).await?;
    crate::metriques::cloture();
    Ok(Json(ReponseCloture {
        etat: "cloture",
        message: "Votre dossier est clôturé, il est en cours d'instruction.",
        cloture_le: rfc3339_paris(r.contenu.cloture_le),
        recepisse: recepisse_json(&r),
    })
    .into_response())
}

/// « Transmettre les compléments »: the pieces the CDG asked for are deposited; the dossier
/// returns to instruction.
#[utoipa::path(post, path = "/api/v1/dossier/complements", tag = "candidat", security(("jeton" = [])),
    responses((status = 200, description = "`{\"etat\": \"cloture\", \"message\"}`", body = Object),
        (status = 409, description = "transition_interdite, pieces_manquantes, delai_depasse", body = Erreur)))]
async fn transmettre(
    State(etat): State<SharedState>,
    auth: AuthApi,
) -> Result<Response, ErreurApi> {
    etat.espace.transmettre_complements(&auth.numero).await?;
    let c = etat.espace.consulter(&auth.numero).await?;
    Ok(Json(json!({
        "etat": c.dossier.etat_lu(&c.concours, c.maintenant).code(),
        "message": c.dossier.message_etat(&c.concours, c.maintenant),
    }))
    .into_response())
}

/// « Télécharger mes données » (droit d'accès): a ZIP, streamed, of everything depot holds
/// about the candidate — `donnees.json` (identity, declarations, the dossier view with every
/// file's record, the instruction), `journal.json`, the files under `fichiers/`, and the
/// récépissé (JSON and PDF) once closed. A quarantined file is listed, not copied.
#[utoipa::path(get, path = "/api/v1/dossier/export", tag = "candidat", security(("jeton" = [])),
    responses((status = 200, description = "a ZIP, streamed", content_type = "application/zip")))]
pub(crate) async fn exporter(
    State(etat): State<SharedState>,
    auth: AuthApi,
) -> Result<Response, ErreurApi> {
    crate::candidat::donnees::zip_du_candidat(&etat, &auth.numero).await
}

/// The récépissé of a closed dossier: the same bytes every time, and the same as the pages'
/// download and the closure e-mail's attachment.
#[utoipa::path(get, path = "/api/v1/dossier/recepisse", tag = "candidat", security(("jeton" = [])),
    responses((status = 200, description = "the récépissé", body = Object), (status = 404, description = "pas_de_recepisse", body = Erreur)))]
async fn recepisse(State(etat): State<SharedState>, auth: AuthApi) -> Result<Response, ErreurApi> {
    let c = etat.espace.consulter(&auth.numero).await?;
    match c.dossier.recepisse() {
        Some(r) => Ok((
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            r.json(),
        )
            .into_response()),
        None => Err(ErreurApi::pas_de_recepisse()),
    }
}
