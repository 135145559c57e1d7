//! The staff's pages (minimal): a list with filters, a dossier with its files, journal and
//! decision forms.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use depot_core::{Decision, DecisionSaisie, EtatLu, MotifRejet, Role};
use maud::html;
use serde::Deserialize;

use crate::chemin::{IdFichier, Numero};
use crate::gestion::api::{Filtres, dossier_inconnu_si_absent, filtre, rechercher};
use crate::gestion::auth::{AuthGestionPage, COOKIE_GESTION, audit, gestionnaire};
use crate::reponse::reponse_fichier;
use crate::web::cookies::{cookie, poser_cookie};
use crate::web::layout::{alerte, page, rendu};
use crate::{ErreurApi, SharedState};

/// The staff page routes.
pub fn routes_pages() -> Router<SharedState> {
    Router::new()
        .route("/gestion/connexion", get(connexion_page).post(connexion))
        .route("/gestion/deconnexion", post(deconnexion))
        .route("/gestion", get(liste_page))
        .route("/gestion/dossiers/{numero}", get(dossier_page))
        .route("/gestion/dossiers/{numero}/decision", post(decision_page))
        .route("/gestion/export", post(export_page))
        .route(
            "/gestion/dossiers/{numero}/conservation",
            post(conservation_page),
        )
        .route("/gestion/conservation", get(purges_page))
        .route(
            "/gestion/dossiers/{numero}/fichiers/{id}",
            get(fichier_page),
        )
}

/// The login form's CSRF cookie (double submit: the form's hidden field must match it).
const COOKIE_CSRF_GESTION: &str = "depot_gestion_csrf";

fn formulaire_connexion(etat: &SharedState, csrf: &str, erreur: Option<&str>) -> maud::Markup {
    page(
        etat,
        "Service concours — connexion",
        html! {
            @if let Some(e) = erreur { (alerte(e)) }
            form method="post" action=(etat.chemin("/gestion/connexion")) class="carte" {
                input type="hidden" name="csrf" value=(csrf);
                p { label for="jeton" { "Jeton d'accès du gestionnaire" } input id="jeton" name="jeton" type="password" required autocomplete="off"; }
                p { button type="submit" class="principal" { "Connexion" } }
            }
        },
    )
}

fn avec_csrf(etat: &SharedState, statut: StatusCode, erreur: Option<&str>) -> Response {
    crate::web::csrf::page_avec_jeton(etat, statut, COOKIE_CSRF_GESTION, |csrf| {
        formulaire_connexion(etat, csrf, erreur)
    })
}

async fn connexion_page(State(etat): State<SharedState>) -> Response {
    avec_csrf(&etat, StatusCode::OK, None)
}

#[derive(Deserialize)]
struct FormJeton {
    #[serde(default)]
    csrf: String,
    jeton: String,
}

/// The staff token, once, opens a server-side session (idle 30 min, 12 h at most, ended by
/// « Se déconnecter »): the cookie holds that session's token, never the permanent one.
async fn connexion(
    State(etat): State<SharedState>,
    headers: axum::http::HeaderMap,
    axum::extract::Form(f): axum::extract::Form<FormJeton>,
) -> Response {
    let csrf_ok =
        crate::web::csrf::double_soumission_valide(&headers, COOKIE_CSRF_GESTION, &f.csrf);
    if !csrf_ok {
        return avec_csrf(
            &etat,
            StatusCode::FORBIDDEN,
            Some("Ce formulaire a expiré. Saisissez de nouveau votre jeton."),
        );
    }
    let Some(qui) = gestionnaire(&etat, &f.jeton) else {
        return avec_csrf(&etat, StatusCode::UNAUTHORIZED, Some("Jeton inconnu."));
    };
    tracing::info!(target: "depot::audit", gestionnaire = %qui.id, "connexion du service concours");
    let jeton = match etat
        .sessions_gestion
        .ouvrir(qui, etat.now(), etat.espace.hasard())
        .await
    {
        Ok((jeton, _)) => jeton,
        Err(e) => return ErreurApi::from(e).into_response(),
    };
    let mut r = axum::response::Redirect::to(&etat.chemin("/gestion")).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        poser_cookie(&etat, COOKIE_GESTION, &jeton, None),
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        poser_cookie(&etat, COOKIE_CSRF_GESTION, "", Some(0)),
    );
    r
}

#[derive(Deserialize)]
struct FormCsrf {
    csrf: String,
}

/// « Se déconnecter »: the session ends now.
async fn deconnexion(
    State(etat): State<SharedState>,
    auth: AuthGestionPage,
    headers: axum::http::HeaderMap,
    axum::extract::Form(f): axum::extract::Form<FormCsrf>,
) -> Result<Response, ErreurApi> {
    if !crate::web::csrf::jeton_valide(&f.csrf, &auth.csrf) {
        return Err(ErreurApi::formulaire_expire());
    }
    if let Some(j) = cookie(&headers, COOKIE_GESTION) {
        etat.sessions_gestion.fermer(&j).await?;
    }
    let mut r = axum::response::Redirect::to(&etat.chemin("/gestion/connexion")).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        poser_cookie(&etat, COOKIE_GESTION, "", Some(0)),
    );
    Ok(r)
}

/// The logout button of every staff page.
fn bouton_deconnexion(etat: &SharedState, auth: &AuthGestionPage) -> maud::Markup {
    html! {
        form method="post" action=(etat.chemin("/gestion/deconnexion")) class="deconnexion" {
            input type="hidden" name="csrf" value=(auth.csrf);
            button type="submit" { "Se déconnecter" }
        }
    }
}

async fn liste_page(
    State(etat): State<SharedState>,
    auth: AuthGestionPage,
    Query(f): Query<Filtres>,
) -> Result<Response, ErreurApi> {
    let (selection, page_demandee) = filtre(&f)?;
    let (total, liste) = rechercher(&etat, selection, page_demandee).await?;
    let pages = total.div_ceil(page_demandee.par_page).max(1);
    // The same filters, another page.
    let vers = |p: usize| {
        let mut q = Vec::new();
        if let Some(e) = &f.etat {
            q.push(format!("etat={e}"));
        }
        q.push(format!("page={p}"));
        etat.chemin(&format!("/gestion?{}", q.join("&")))
    };
    Ok(rendu(
        StatusCode::OK,
        page(
            &etat,
            "Dossiers d'inscription",
            html! {
                p { "Connecté : " (auth.qui.id) " (" (if auth.qui.role == Role::Instruction { "instruction" } else { "lecture" }) ")" }
                (bouton_deconnexion(&etat, &auth))
                p {
                    "Filtrer : "
                    @for e in EtatLu::TOUS {
                        a href=(etat.chemin(&format!("/gestion?etat={}", e.code()))) { (e.libelle()) } " · "
                    }
                    a href=(etat.chemin("/gestion")) { "tous" }
                }
                p { a href=(etat.chemin("/gestion/conservation")) { "Purges prévues dans les 30 jours" } }
                form method="post" action=(etat.chemin("/gestion/export")) class="non-imprime" {
                    input type="hidden" name="csrf" value=(auth.csrf);
                    @if let Some(e) = &f.etat { input type="hidden" name="etat" value=(e); }
                    button type="submit" id="exporter" {
                        "Exporter "
                        @if f.etat.is_some() { "ces " (total) " dossier(s)" } @else { "les " (total) " dossier(s)" }
                        " (ZIP : tableau et fichiers)"
                    }
                }
                p {
                    (total) " dossier(s) — page " (page_demandee.numero) " sur " (pages)
                    @if page_demandee.numero > 1 { " · " a href=(vers(page_demandee.numero - 1)) { "page précédente" } }
                    @if page_demandee.numero < pages { " · " a href=(vers(page_demandee.numero + 1)) { "page suivante" } }
                }
                div class="table-defilante" role="region" aria-label="Liste des dossiers" tabindex="0" {
                table {
                    thead { tr { th scope="col" { "N°" } th scope="col" { "Nom" } th scope="col" { "Voie" } th scope="col" { "État" } th scope="col" { "Clôturé le" } th scope="col" { "Pièces manquantes" } th scope="col" { "Antivirus" } } }
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
                                td {
                                    @let attente = d.fichiers().iter().filter(|f| f.analyse_en_attente()).count();
                                    @let infectes = d.fichiers().iter().filter(|f| f.en_quarantaine()).count();
                                    @if infectes > 0 { span class="statut manquante" { (infectes) " infecté(s)" } " " }
                                    @if attente > 0 { span class="statut" { (attente) " en attente" } }
                                }
                            }
                        }
                    }
                }
                }
            },
        ),
    ))
}

async fn dossier_page(
    State(etat): State<SharedState>,
    auth: AuthGestionPage,
    Numero(n): Numero,
) -> Result<Response, ErreurApi> {
    audit(&auth.qui, "dossier", n.as_str(), None);
    let (c, journal) = etat
        .espace
        .consulter_en_gestion(&auth.qui, &n)
        .await
        .map_err(dossier_inconnu_si_absent)?;
    let d = &c.dossier;
    let action = etat.chemin(&format!("/gestion/dossiers/{}/decision", d.numero()));
    Ok(rendu(
        StatusCode::OK,
        page(
            &etat,
            &format!("Dossier {}", d.numero()),
            html! {
                p { (d.identite().prenom()) " " (d.identite().nom()) " — " (d.identite().email()) " — " (d.voie().libelle()) }
                div class=(format!("alerte {}", crate::vue::classe_etat(d.etat_lu(&c.concours, c.maintenant)))) id="etat" { p { strong { (d.etat_lu(&c.concours, c.maintenant).libelle()) } " — " (d.message_etat(&c.concours, c.maintenant)) } }
                h2 { "Pièces" }
                ul {
                    @for p in d.pieces(&c.concours) {
                        li {
                            (p.libelle) " : "
                            @for f in d.fichiers_de(&p.code) {
                                @if let Some(le) = f.purge_le {
                                    span class="statut" { (f.nom) " — supprimé le " (depot_core::calendrier::instant_en_lettres(le)) " (fin de conservation)" } " "
                                } @else if f.servable_au_service() {
                                    a href=(etat.chemin(&format!("/gestion/dossiers/{}/fichiers/{}", d.numero(), f.id))) target="_blank" rel="noopener" { (f.nom) } " "
                                } @else if f.en_quarantaine() {
                                    span class="statut manquante" { (f.nom) " — infecté, en quarantaine (non ouvert)" } " "
                                } @else {
                                    span class="statut" { (f.nom) " — analyse antivirus en attente" } " "
                                }
                            }
                        }
                    }
                }
                @if auth.qui.role == Role::Instruction {
                    h2 { "Décisions" }
                    form method="post" action=(action) class="carte" data-confirmer=(format!("Déclarer le dossier {} recevable ? Le candidat en sera informé.", d.numero())) {
                        input type="hidden" name="csrf" value=(auth.csrf);
                        input type="hidden" name="decision" value="recevable";
                        button type="submit" class="principal" id="recevable" { "Déclarer recevable" }
                    }
                    form method="post" action=(action) class="carte" data-confirmer=(format!("Demander des compléments pour le dossier {} ? Le candidat en sera informé.", d.numero())) {
                        input type="hidden" name="csrf" value=(auth.csrf);
                        input type="hidden" name="decision" value="complements";
                        fieldset { legend { "Pièces demandées" }
                            @for p in d.pieces(&c.concours) {
                                p { input type="checkbox" name="pieces" id=(format!("piece-{}", p.code.as_str())) value=(p.code.as_str()); " " label for=(format!("piece-{}", p.code.as_str())) { (p.libelle) } }
                            } }
                        p { label for="message" { "Message au candidat" } input id="message" name="message" required; }
                        p { label for="date_limite" { "Date limite (jour inclus, heure de Paris)" } input id="date_limite" name="date_limite" type="date" required; }
                        button type="submit" id="complements" { "Demander des compléments" }
                    }
                    form method="post" action=(action) class="carte" data-confirmer=(format!("Rejeter le dossier {} ? Le candidat en sera informé.", d.numero())) {
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
                h2 { "Conservation des données" }
                @if let Some(susp) = d.conservation_suspendue() {
                    div class="alerte attention" { p { "Conservation suspendue le " (depot_core::calendrier::instant_en_lettres(susp.le)) " par " (susp.par) " : « " (susp.raison) " ». Aucune purge n'a lieu tant qu'elle est suspendue." } }
                } @else {
                    @let prevues = d.purges_prevues(&c.concours);
                    @if prevues.is_empty() {
                        p { "Aucune purge prévue pour ce dossier (voir la section [conservation] du concours)." }
                    } @else {
                        ul { @for p in &prevues { li { "Purge prévue le " (depot_core::calendrier::instant_en_lettres(p.le)) " (" (p.motif.libelle()) ") : " (p.fichiers.len()) " fichier(s)" @if p.motif.dossier_entier() { ", l'identité, les déclarations et le mot de passe" } "." } } }
                    }
                }
                @if auth.qui.role == Role::Instruction {
                    form method="post" action=(etat.chemin(&format!("/gestion/dossiers/{}/conservation", d.numero()))) class="carte" {
                        input type="hidden" name="csrf" value=(auth.csrf);
                        @if d.conservation_suspendue().is_some() {
                            input type="hidden" name="suspendue" value="false";
                            button type="submit" id="reprendre-conservation" { "Reprendre la conservation normale" }
                        } @else {
                            input type="hidden" name="suspendue" value="true";
                            p { label for="raison-suspension" { "Raison de la suspension (un recours, un contentieux)" } input id="raison-suspension" name="raison" required maxlength="500"; }
                            button type="submit" id="suspendre-conservation" { "Suspendre les purges de ce dossier" }
                        }
                    }
                }
                h2 { "Journal" }
                div class="table-defilante" role="region" aria-label="Journal du dossier" tabindex="0" {
                    table class="journal" {
                        thead { tr { th scope="col" { "N°" } th scope="col" { "Quand" } th scope="col" { "Par" } th scope="col" { "Événement" } th scope="col" { "Détail" } } }
                        tbody {
                            @for e in &journal.entrees {
                                @let (sorte, detail) = evenement_en_mots(&e.quoi);
                                tr {
                                    td { (e.position) }
                                    td { (depot_core::calendrier::instant_en_lettres(e.quand)) }
                                    td { (acteur_en_mots(&e.acteur)) }
                                    td { (sorte) }
                                    td { (detail) }
                                }
                            }
                        }
                    }
                }
                p { a href=(etat.chemin("/gestion")) { "Retour à la liste" } }
            },
        ),
    ))
}

/// Who acted, for the journal table.
fn acteur_en_mots(a: &depot_core::Acteur) -> String {
    match serde_json::to_value(a) {
        Ok(serde_json::Value::String(s)) if s == "candidat" => "le candidat".to_owned(),
        Ok(serde_json::Value::String(s)) if s == "systeme" => "depot".to_owned(),
        Ok(serde_json::Value::Object(o)) => o
            .get("gestionnaire")
            .and_then(|g| g.get("id"))
            .and_then(|i| i.as_str())
            .map_or_else(|| "?".to_owned(), |i| format!("gestionnaire {i}")),
        _ => "?".to_owned(),
    }
}

/// A journal entry's kind and its fields, readable: « depot_fichier » and « piece :
/// piece-identite · nom : CNI.pdf · … ».
fn evenement_en_mots(q: &depot_core::Quoi) -> (String, String) {
    let Ok(serde_json::Value::Object(mut o)) = serde_json::to_value(q) else {
        return ("?".to_owned(), String::new());
    };
    let sorte = match o.remove("type") {
        Some(serde_json::Value::String(t)) => t.replace('_', " "),
        _ => "?".to_owned(),
    };
    let detail = o
        .iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                autre => autre.to_string(),
            };
            format!("{} : {v}", k.replace('_', " "))
        })
        .collect::<Vec<_>>()
        .join(" · ");
    (sorte, detail)
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
) -> Result<Response, ErreurApi> {
    if !crate::web::csrf::jeton_valide(&f.csrf, &auth.csrf) {
        return Err(ErreurApi::formulaire_expire());
    }
    etat.espace
        .decider(&auth.qui, &n, Decision::try_from(f.decision)?)
        .await
        .map_err(dossier_inconnu_si_absent)?;
    Ok(
        axum::response::Redirect::to(&etat.chemin(&format!("/gestion/dossiers/{n}")))
            .into_response(),
    )
}

async fn fichier_page(
    State(etat): State<SharedState>,
    auth: AuthGestionPage,
    Numero(n): Numero,
    IdFichier(id): IdFichier,
) -> Result<Response, ErreurApi> {
    audit(&auth.qui, "fichier", n.as_str(), Some(id.as_str()));
    let (f, flux) = etat
        .espace
        .voir_en_gestion(&auth.qui, &n, &id)
        .await
        .map_err(dossier_inconnu_si_absent)?;
    Ok(reponse_fichier(&f, flux))
}

#[derive(Deserialize)]
struct FormExport {
    csrf: String,
    etat: Option<String>,
}

/// « Exporter » on the list: the API's export of the list's selection, from the page's
/// session.
async fn export_page(
    State(etat): State<SharedState>,
    auth: AuthGestionPage,
    axum::extract::Form(f): axum::extract::Form<FormExport>,
) -> Result<Response, ErreurApi> {
    if !crate::web::csrf::jeton_valide(&f.csrf, &auth.csrf) {
        return Err(ErreurApi::formulaire_expire());
    }
    let filtres = crate::gestion::api::Filtres::par_etat(f.etat);
    crate::gestion::export::zip_selection(&etat, auth.qui, &filtres).await
}

#[derive(Deserialize)]
struct FormConservation {
    csrf: String,
    suspendue: bool,
    #[serde(default)]
    raison: Option<String>,
}

/// The staff page's « Suspendre les purges » / « Reprendre ».
async fn conservation_page(
    State(etat): State<SharedState>,
    auth: AuthGestionPage,
    Numero(n): Numero,
    axum::extract::Form(f): axum::extract::Form<FormConservation>,
) -> Result<Response, ErreurApi> {
    if !crate::web::csrf::jeton_valide(&f.csrf, &auth.csrf) {
        return Err(ErreurApi::formulaire_expire());
    }
    let raison = f.suspendue.then(|| f.raison.unwrap_or_default());
    etat.espace
        .suspendre_conservation(&auth.qui, &n, raison)
        .await
        .map_err(dossier_inconnu_si_absent)?;
    Ok(
        axum::response::Redirect::to(&etat.chemin(&format!("/gestion/dossiers/{n}")))
            .into_response(),
    )
}

/// « Purges prévues dans les 30 jours ».
async fn purges_page(
    State(etat): State<SharedState>,
    auth: AuthGestionPage,
) -> Result<Response, ErreurApi> {
    let v = etat
        .espace
        .purges_a_venir(chrono::Duration::days(30))
        .await?;
    Ok(rendu(
        StatusCode::OK,
        page(
            &etat,
            "Purges prévues dans les 30 jours",
            html! {
                (bouton_deconnexion(&etat, &auth))
                p { "Les contenus de ces fichiers seront supprimés à la date indiquée, selon la section [conservation] du concours ; leur empreinte reste dans l'historique du dossier. Un dossier en litige peut être suspendu depuis sa page." }
                @if v.is_empty() {
                    p { "Aucune purge prévue dans les 30 jours." }
                } @else {
                    div class="table-defilante" role="region" aria-label="Purges prévues" tabindex="0" {
                        table {
                            thead { tr { th scope="col" { "Dossier" } th scope="col" { "Date" } th scope="col" { "Motif" } th scope="col" { "Fichiers" } } }
                            tbody {
                                @for p in &v {
                                    tr {
                                        td { a href=(etat.chemin(&format!("/gestion/dossiers/{}", p.numero))) { (p.numero) } }
                                        td { (depot_core::calendrier::instant_en_lettres(p.le)) }
                                        td { (p.motif.libelle()) }
                                        td { (p.fichiers.len()) }
                                    }
                                }
                            }
                        }
                    }
                }
                p { a href=(etat.chemin("/gestion")) { "Retour à la liste" } }
            },
        ),
    ))
}
