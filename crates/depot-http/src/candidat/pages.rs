//! The candidate's pages, in French, server-rendered, usable without JavaScript.
//!
//! They follow the seed's steps: « connexion espace sécurisé » → the list of requested
//! pieces, each with its folder (« Cliquez sur le dossier à droite de la pièce demandée ») →
//! « Gestion du document »: « choisir un fichier », « ajouter le fichier », « Fichier
//! enregistré » then « OK », the eye and the bin, « fermer » → « Clôturer mon inscription »
//! with a confirmation that says it is final → « Votre dossier est clôturé, il est en cours
//! d'instruction. » and the printable récépissé.
//!
//! Cookies are `HttpOnly`, `SameSite=Strict` (and `Secure` when configured); every form
//! carries an anti-CSRF token.

use axum::Router;
use axum::extract::{Form, FromRequestParts, Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use depot_core::calendrier::instant_en_lettres;
use depot_core::{Consultation, MotDePasse, NumeroDossier, Refus};
use maud::{Markup, html};
use serde::Deserialize;

use crate::candidat::api::{CorpsPreinscription, ouvrir_session, preinscrire_depuis};
use crate::chemin::IdFichier;
use crate::depot::{deposer_champ, erreur_corps, vider};
use crate::extraction::Ip;
use crate::reponse::reponse_fichier;
use crate::session::SessionOuverte;
use crate::vue::est_ouvert;
use crate::web::cookies::{cookie, poser_cookie};
use crate::web::csrf::page_avec_jeton;
use crate::web::erreur::page_erreur;
use crate::web::layout::{alerte, page, rendu, taille_en_mots};
use crate::{ErreurApi, SharedState};

const COOKIE_SESSION: &str = "depot_session";

const COOKIE_CSRF: &str = crate::web::csrf::COOKIE_CANDIDAT;

/// The page routes (the upload POST is routed in [`crate::router`]).
pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/", get(accueil))
        .route("/connexion", get(connexion_page).post(connexion))
        .route("/deconnexion", axum::routing::post(deconnexion))
        .route(
            "/preinscription",
            get(preinscription_page).post(preinscription),
        )
        .route("/dossier", get(dossier))
        .route("/dossier/pieces/{code}", get(piece))
        .route("/dossier/fichiers/{id}", get(voir))
        .route(
            "/dossier/fichiers/{id}/supprimer",
            get(supprimer_page).post(supprimer),
        )
        .route("/dossier/cloture", get(cloture_page).post(cloturer))
        .route("/dossier/complements", axum::routing::post(transmettre))
        .route("/dossier/recepisse", get(recepisse))
        .route("/dossier/recepisse.pdf", get(recepisse_fichier))
        .route("/dossier/recepisse.json", get(recepisse_fichier))
}

/// A page request with a valid session cookie.
pub struct AuthPage {
    session: SessionOuverte,
}

impl AuthPage {
    fn numero(&self) -> &NumeroDossier {
        &self.session.titulaire
    }
}

impl FromRequestParts<SharedState> for AuthPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, etat: &SharedState) -> Result<Self, Response> {
        let vers_connexion = || Redirect::to(&etat.chemin("/connexion")).into_response();
        let jeton = cookie(&parts.headers, COOKIE_SESSION).ok_or_else(vers_connexion)?;
        match etat.sessions.verifier(&jeton, etat.now()).await {
            Ok(Some(session)) => Ok(Self { session }),
            Ok(None) => Err(vers_connexion()),
            Err(e) => Err(ErreurApi::from(e).into_response()),
        }
    }
}

fn verifier_csrf(auth: &AuthPage, recu: &str) -> Result<(), ErreurApi> {
    if crate::web::csrf::jeton_valide(recu, &auth.session.csrf) {
        Ok(())
    } else {
        Err(ErreurApi::formulaire_expire())
    }
}

async fn accueil(
    State(etat): State<SharedState>,
    headers: HeaderMap,
) -> Result<Redirect, ErreurApi> {
    let connecte = match cookie(&headers, COOKIE_SESSION) {
        Some(j) => etat.sessions.verifier(&j, etat.now()).await?.is_some(),
        None => false,
    };
    Ok(Redirect::to(&etat.chemin(if connecte {
        "/dossier"
    } else {
        "/connexion"
    })))
}

fn formulaire_connexion(
    etat: &SharedState,
    csrf: &str,
    numero: &str,
    erreur: Option<&str>,
) -> Markup {
    page(
        etat,
        "Connexion à votre espace sécurisé",
        html! {
            @if let Some(e) = erreur { (alerte(e)) }
            form method="post" action=(etat.chemin("/connexion")) class="carte" {
                input type="hidden" name="csrf" value=(csrf);
                p {
                    label for="numero" { "Identifiant (n° de dossier présent sur votre dossier d'inscription)" }
                    input id="numero" name="numero" type="text" required autocomplete="username" value=(numero) placeholder="2025-ANI-7K3Q9P";
                }
                p {
                    label for="mot_de_passe" { "Mot de passe choisi lors de votre préinscription" }
                    input id="mot_de_passe" name="mot_de_passe" type="password" required autocomplete="current-password";
                }
                p { button type="submit" class="principal" { "Connexion" } }
            }
            p {
                a href=(etat.chemin("/mot-de-passe/oubli")) { "Mot de passe oublié ?" }
                " · "
                a href=(etat.chemin("/numero/oubli")) { "N° de dossier oublié ?" }
            }
            p { "Pas encore de dossier ? " a href=(etat.chemin("/preinscription")) { "Se préinscrire" } }
        },
    )
}

async fn connexion_page(State(etat): State<SharedState>) -> Response {
    page_avec_jeton(&etat, StatusCode::OK, COOKIE_CSRF, |csrf| {
        formulaire_connexion(&etat, csrf, "", None)
    })
}

#[derive(Deserialize)]
struct FormConnexion {
    csrf: String,
    numero: String,
    mot_de_passe: MotDePasse,
}

async fn connexion(
    State(etat): State<SharedState>,
    Ip(ip): Ip,
    headers: HeaderMap,
    Form(f): Form<FormConnexion>,
) -> Response {
    // Double-submit token: the hidden field must match the cookie set with the form.
    let csrf_ok = crate::web::csrf::double_soumission_valide(&headers, COOKIE_CSRF, &f.csrf);
    if !csrf_ok {
        return page_avec_jeton(&etat, StatusCode::FORBIDDEN, COOKIE_CSRF, |csrf| {
            formulaire_connexion(
                &etat,
                csrf,
                &f.numero,
                Some("Ce formulaire a expiré. Saisissez de nouveau votre mot de passe."),
            )
        });
    }
    match ouvrir_session(&etat, ip, &f.numero, f.mot_de_passe).await {
        Ok((jeton, _)) => {
            let mut r = Redirect::to(&etat.chemin("/dossier")).into_response();
            r.headers_mut().append(
                header::SET_COOKIE,
                poser_cookie(&etat, COOKIE_SESSION, &jeton, None),
            );
            r.headers_mut().append(
                header::SET_COOKIE,
                poser_cookie(&etat, COOKIE_CSRF, "", Some(0)),
            );
            r
        }
        Err(e) => {
            let statut = e.statut;
            let mut r = rendu(
                statut,
                formulaire_connexion(&etat, &f.csrf, &f.numero, Some(&e.message)),
            );
            if let Some(s) = e.reessayer_apres {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(s));
            }
            r
        }
    }
}

#[derive(Deserialize)]
struct FormCsrf {
    csrf: String,
}

async fn deconnexion(
    State(etat): State<SharedState>,
    auth: AuthPage,
    headers: HeaderMap,
    Form(f): Form<FormCsrf>,
) -> Result<Response, ErreurApi> {
    verifier_csrf(&auth, &f.csrf)?;
    if let Some(j) = cookie(&headers, COOKIE_SESSION) {
        etat.sessions.fermer(&j).await?;
        crate::metriques::session(false);
    }
    let mut r = Redirect::to(&etat.chemin("/connexion")).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        poser_cookie(&etat, COOKIE_SESSION, "", Some(0)),
    );
    Ok(r)
}

fn formulaire_preinscription(etat: &SharedState, csrf: &str, erreur: Option<&str>) -> Markup {
    page(
        etat,
        "Préinscription",
        html! {
            @if let Some(e) = erreur { (alerte(e)) }
            form method="post" action=(etat.chemin("/preinscription")) class="carte" {
                input type="hidden" name="csrf" value=(csrf);
                @let plusieurs = etat.espace.concours().count() > 1;
                @for c in etat.espace.concours() {
                    fieldset {
                        legend { (c.intitule) " — session " (c.session) " (" (c.organisateur) ")" }
                        @if plusieurs {
                            p { label { input type="radio" name="concours" value=(c.code.as_str()) required; " Ce concours" } }
                        }
                        p { "Voie d'accès :" }
                        @for v in &c.voies {
                            p { label { input type="radio" name="voie" value=(v.code()) required; " " (v.libelle()) } }
                        }
                        @for d in &c.declarations {
                            p { label { input type="checkbox" name="declarations" value=(d.code.as_str()); " " (d.libelle) } }
                        }
                    }
                }
                p { label for="nom" { "Nom" } input id="nom" name="nom" required autocomplete="family-name"; }
                p { label for="prenom" { "Prénom" } input id="prenom" name="prenom" required autocomplete="given-name"; }
                p { label for="email" { "Adresse électronique" } input id="email" name="email" type="email" required autocomplete="email"; }
                p {
                    label for="mdp" { "Mot de passe (au moins 12 caractères ; une phrase facile à retenir convient)" }
                    input id="mdp" name="mot_de_passe" type="password" required minlength="12" maxlength="128" autocomplete="new-password";
                }
                p { button type="submit" class="principal" { "Me préinscrire" } }
            }
        },
    )
}

async fn preinscription_page(State(etat): State<SharedState>) -> Response {
    page_avec_jeton(&etat, StatusCode::OK, COOKIE_CSRF, |csrf| {
        formulaire_preinscription(&etat, csrf, None)
    })
}

/// The pré-inscription form as a browser sends it: a box ticked once per declaration, and
/// a field left empty or absent is the rules' « ce champ est obligatoire », not a
/// malformed request.
#[derive(Deserialize, Default)]
#[serde(default)]
struct FormPreinscription {
    csrf: String,
    concours: Option<String>,
    voie: String,
    nom: String,
    prenom: String,
    email: String,
    declarations: Vec<String>,
    mot_de_passe: MotDePasse,
}

async fn preinscription(
    State(etat): State<SharedState>,
    Ip(ip): Ip,
    headers: HeaderMap,
    axum_extra::extract::Form(f): axum_extra::extract::Form<FormPreinscription>,
) -> Response {
    let csrf = f.csrf;
    let c = CorpsPreinscription {
        concours: f.concours,
        voie: f.voie,
        nom: f.nom,
        prenom: f.prenom,
        email: f.email,
        declarations: f.declarations,
        mot_de_passe: f.mot_de_passe,
    };
    if !crate::web::csrf::double_soumission_valide(&headers, COOKIE_CSRF, &csrf) {
        return rendu(
            StatusCode::FORBIDDEN,
            formulaire_preinscription(
                &etat,
                &csrf,
                Some("Ce formulaire a expiré. Rechargez la page, puis recommencez."),
            ),
        );
    }
    match preinscrire_depuis(&etat, ip, c).await {
        Ok(numero) => rendu(
            StatusCode::CREATED,
            page(
                &etat,
                "Préinscription enregistrée",
                html! {
                    div class="alerte succes" role="status" {
                        p { "Votre n° de dossier est " strong class="numero" { (numero) } "." }
                        p { "Notez-le : c'est votre identifiant pour vous connecter à votre espace sécurisé, avec le mot de passe que vous venez de choisir." }
                    }
                    p { a class="bouton principal" href=(etat.chemin("/connexion")) { "Connexion espace sécurisé" } }
                },
            ),
        ),
        Err(e) => {
            let mut r = rendu(
                e.statut,
                formulaire_preinscription(&etat, &csrf, Some(&e.message)),
            );
            if let Some(s) = e.reessayer_apres {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(s));
            }
            r
        }
    }
}

fn vue_dossier_page(
    etat: &SharedState,
    auth: &AuthPage,
    c: &Consultation,
    erreur: Option<&str>,
) -> Markup {
    let d = &c.dossier;
    let k = &c.concours;
    let ouvert = est_ouvert(c);
    page(
        etat,
        "Mon dossier d'inscription",
        html! {
            @if let Some(e) = erreur { (alerte(e)) }
            section class="carte" aria-labelledby="titre-concours" {
                h2 id="titre-concours" { (k.intitule) " — session " (k.session) }
                p { (k.organisateur) }
                p { "N° de dossier : " strong class="numero" { (d.numero()) } " · " (d.voie().libelle()) }
                @let cloture = d.cloture_le().is_some();
                div class=(if cloture { "alerte succes" } else if ouvert { "alerte info" } else { "alerte erreur" }) role="status" id="etat" {
                    p { (d.message_etat(k, c.maintenant)) }
                }
                @if let Some(le) = d.cloture_le() {
                    p { "Clôturé le " (instant_en_lettres(le)) ". " a href=(etat.chemin("/dossier/recepisse")) { "Voir et imprimer le récépissé" } }
                } @else {
                    p { "Date limite de clôture : " strong { (d.limite_depot(k).libelle()) } "." }
                }
            }
            section aria-labelledby="titre-pieces" {
                h2 id="titre-pieces" { "Pièces justificatives demandées" }
                p class="aide" { "Les pièces doivent être au format PDF ou JPEG. Cliquez sur le dossier à droite de la pièce pour déposer, vérifier ou supprimer un fichier." }
                table class="pieces" {
                    thead { tr { th scope="col" { "Pièce" } th scope="col" { "Statut" } th scope="col" { "Fichiers" } th scope="col" { span class="invisible" { "Gérer" } } } }
                    tbody {
                        @for p in d.pieces(k) {
                            @let statut = d.statut(p);
                            tr {
                                td { (p.libelle) br; small { (p.exigence.libelle()) } }
                                td { span class=(format!("statut {}", statut.code())) { (statut.libelle()) } }
                                td { (d.fichiers_de(&p.code).count()) " / " (p.max_fichiers) }
                                td { a class="dossier" href=(etat.chemin(&format!("/dossier/pieces/{}", p.code))) aria-label=(format!("Gérer la pièce : {}", p.libelle)) { "Ouvrir" } }
                            }
                        }
                    }
                }
            }
            @if d.etat_lu(k, c.maintenant) == depot_core::EtatLu::Incomplet {
                section class="carte" aria-labelledby="titre-complements" {
                    h2 id="titre-complements" { "Compléments demandés" }
                    p { "Déposez les pièces demandées (ouvrez leur dossier ci-dessus), puis transmettez-les au service concours." }
                    form method="post" action=(etat.chemin("/dossier/complements")) {
                        input type="hidden" name="csrf" value=(auth.session.csrf);
                        button type="submit" class="principal" id="transmettre" { "Transmettre les compléments" }
                    }
                }
            }
            @if ouvert {
                section class="carte" aria-labelledby="titre-cloture" {
                    h2 id="titre-cloture" { "Finaliser l'envoi de votre dossier" }
                    @let manquantes = d.pieces_manquantes(k);
                    @if !manquantes.is_empty() {
                        p { "Avant de clôturer, déposez : " }
                        ul { @for p in &manquantes { li { (p.libelle) } } }
                    }
                    p { "Sans clôture avant le " (d.limite_depot(k).libelle()) ", votre inscription ne sera pas prise en compte." }
                    p { a class="bouton principal" id="cloturer" href=(etat.chemin("/dossier/cloture")) { "Clôturer mon inscription" } }
                }
            }
            form method="post" action=(etat.chemin("/deconnexion")) {
                input type="hidden" name="csrf" value=(auth.session.csrf);
                button type="submit" class="lien" { "Se déconnecter" }
            }
        },
    )
}

async fn dossier(State(etat): State<SharedState>, auth: AuthPage) -> Result<Response, ErreurApi> {
    let c = etat.espace.consulter(auth.numero()).await?;
    Ok(rendu(
        StatusCode::OK,
        vue_dossier_page(&etat, &auth, &c, None),
    ))
}

#[derive(Deserialize)]
struct ParamsPiece {
    enregistre: Option<String>,
}

fn vue_piece(
    etat: &SharedState,
    auth: &AuthPage,
    c: &Consultation,
    code: &str,
    enregistre: bool,
    erreur: Option<&str>,
) -> Result<Markup, ErreurApi> {
    let d = &c.dossier;
    let k = &c.concours;
    let p = d
        .pieces(k)
        .find(|p| p.code.as_str() == code)
        .ok_or(Refus::PieceInconnue {
            code: code.chars().take(64).collect(),
        })?;
    let possible = d.controler_depot(k, code, c.maintenant);
    let modifiable = est_ouvert(c);
    let accept = p
        .formats
        .iter()
        .map(|f| match f {
            depot_core::Format::Pdf => ".pdf,application/pdf",
            depot_core::Format::Jpeg => ".jpg,.jpeg,image/jpeg",
        })
        .collect::<Vec<_>>()
        .join(",");
    Ok(page(
        etat,
        "Gestion du document",
        html! {
            h2 { (p.libelle) }
            @if enregistre {
                div class="alerte succes fenetre" role="alertdialog" aria-labelledby="enregistre" id="fichier-enregistre" {
                    p id="enregistre" { strong { "Fichier enregistré" } }
                    p { a class="bouton principal" id="ok" href=(etat.chemin(&format!("/dossier/pieces/{code}"))) autofocus { "OK" } }
                }
            }
            @if let Some(e) = erreur { (alerte(e)) }
            @let fichiers: Vec<_> = d.fichiers_de(&p.code).collect();
            @if fichiers.is_empty() {
                p { "Aucun fichier déposé pour cette pièce." }
            } @else {
                ul class="fichiers" {
                    @for f in &fichiers {
                        li {
                            span class="nom" { (f.nom) } " "
                            small { "(" (f.format.libelle()) ", " (taille_en_mots(f.taille)) ", déposé le " (instant_en_lettres(f.depose_le)) ")" }
                            " "
                            a class="oeil" target="_blank" rel="noopener" href=(etat.chemin(&format!("/dossier/fichiers/{}", f.id))) aria-label=(format!("Voir le fichier {}", f.nom)) { "Voir" }
                            @if modifiable {
                                " "
                                a class="poubelle" href=(etat.chemin(&format!("/dossier/fichiers/{}/supprimer", f.id))) aria-label=(format!("Supprimer le fichier {}", f.nom)) { "Supprimer" }
                            }
                        }
                    }
                }
            }
            @match possible {
                Ok(_) => {
                    form method="post" enctype="multipart/form-data" action=(etat.chemin(&format!("/dossier/pieces/{code}"))) class="carte" {
                        input type="hidden" name="csrf" value=(auth.session.csrf);
                        p {
                            label for="fichier" { "Choisir un fichier" }
                            input id="fichier" name="fichier" type="file" required accept=(accept);
                            br; small { "Format " (depot_core::format::formats_en_mots(&p.formats)) ", " (p.taille_max_mo) " Mo au plus, " (p.max_fichiers) " fichier(s) au plus." }
                        }
                        p { button type="submit" class="principal" id="ajouter" { "Ajouter le fichier" } }
                    }
                }
                Err(r) => { p class="aide" { (r.message()) } }
            }
            p { a class="bouton" id="fermer" href=(etat.chemin("/dossier")) { "Fermer" } }
        },
    ))
}

async fn piece(
    State(etat): State<SharedState>,
    auth: AuthPage,
    Path(code): Path<String>,
    Query(q): Query<ParamsPiece>,
) -> Result<Response, ErreurApi> {
    let c = etat.espace.consulter(auth.numero()).await?;
    let m = vue_piece(&etat, &auth, &c, &code, q.enregistre.is_some(), None)?;
    Ok(rendu(StatusCode::OK, m))
}

/// `POST /dossier/pieces/{code}` from the page: the CSRF field comes first in the form.
pub async fn deposer(
    State(etat): State<SharedState>,
    auth: AuthPage,
    Path(code): Path<String>,
    mut corps: Multipart,
) -> Response {
    match recevoir(&etat, &auth, &code, &mut corps).await {
        Ok(()) => Redirect::to(&etat.chemin(&format!("/dossier/pieces/{code}?enregistre=1")))
            .into_response(),
        Err(e) => {
            let statut = e.statut;
            let mut r = match etat.espace.consulter(auth.numero()).await {
                Ok(c) => match vue_piece(&etat, &auth, &c, &code, false, Some(&e.message)) {
                    Ok(m) => rendu(statut, m),
                    Err(_) => page_erreur(&etat, e),
                },
                Err(_) => page_erreur(&etat, e),
            };
            vider(&mut corps, &mut r).await;
            r
        }
    }
}

/// The page's upload form: the CSRF field first, then the file.
async fn recevoir(
    etat: &SharedState,
    auth: &AuthPage,
    code: &str,
    corps: &mut Multipart,
) -> Result<(), ErreurApi> {
    let mut csrf_ok = false;
    while let Some(champ) = corps.next_field().await.map_err(erreur_corps)? {
        match champ.name() {
            Some("csrf") => {
                let v = champ
                    .text()
                    .await
                    .map_err(|e| ErreurApi::requete_invalide(e.body_text()))?;
                verifier_csrf(auth, &v)?;
                csrf_ok = true;
            }
            Some("fichier") if csrf_ok => {
                deposer_champ(etat, auth.numero(), code, champ).await?;
                return Ok(());
            }
            Some("fichier") => return verifier_csrf(auth, ""),
            _ => {}
        }
    }
    Err(Refus::ChampInvalide {
        champ: "fichier",
        raison: "choisissez un fichier.".to_owned(),
    }
    .into())
}

async fn voir(
    State(etat): State<SharedState>,
    auth: AuthPage,
    IdFichier(id): IdFichier,
) -> Result<Response, ErreurApi> {
    let (f, flux) = etat.espace.voir(auth.numero(), &id).await?;
    Ok(reponse_fichier(&f, flux))
}

async fn supprimer_page(
    State(etat): State<SharedState>,
    auth: AuthPage,
    IdFichier(id): IdFichier,
) -> Result<Response, ErreurApi> {
    let c = etat.espace.consulter(auth.numero()).await?;
    let f = c
        .dossier
        .fichier(&id)
        .cloned()
        .ok_or(Refus::FichierInconnu)?;
    Ok(rendu(
        StatusCode::OK,
        page(
            &etat,
            "Supprimer un fichier",
            html! {
                p { "Voulez-vous supprimer le fichier « " (f.nom) " » ? Vous pourrez ensuite enregistrer de nouveau la bonne pièce." }
                form method="post" action=(etat.chemin(&format!("/dossier/fichiers/{}/supprimer", f.id))) {
                    input type="hidden" name="csrf" value=(auth.session.csrf);
                    button type="submit" class="danger" id="confirmer-suppression" { "Supprimer le fichier" }
                    " "
                    a class="bouton" href=(etat.chemin(&format!("/dossier/pieces/{}", f.piece))) { "Annuler" }
                }
            },
        ),
    ))
}

async fn supprimer(
    State(etat): State<SharedState>,
    auth: AuthPage,
    IdFichier(id): IdFichier,
    Form(f): Form<FormCsrf>,
) -> Result<Response, ErreurApi> {
    verifier_csrf(&auth, &f.csrf)?;
    let c = etat.espace.consulter(auth.numero()).await?;
    let piece = c
        .dossier
        .fichier(&id)
        .map(|f| f.piece.to_string())
        .ok_or(Refus::FichierInconnu)?;
    crate::depot::operation(
        &etat,
        auth.numero(),
        etat.espace.supprimer(auth.numero(), &id),
    )
    .await?;
    Ok(Redirect::to(&etat.chemin(&format!("/dossier/pieces/{piece}"))).into_response())
}

async fn cloture_page(
    State(etat): State<SharedState>,
    auth: AuthPage,
) -> Result<Response, ErreurApi> {
    let c = etat.espace.consulter(auth.numero()).await?;
    Ok(rendu(
        StatusCode::OK,
        page(
            &etat,
            "Clôturer mon inscription",
            html! {
                div class="alerte attention" role="note" {
                    p { strong { "Attention : la clôture est définitive." } }
                    p { "Après la clôture, vous ne pourrez plus ajouter ni supprimer de pièces (sauf les pièces qui peuvent être transmises ultérieurement). Votre dossier sera transmis au service concours." }
                }
                p { "Vérifiez avec l'œil que chaque fichier est la bonne pièce avant de confirmer. Date limite : " (c.dossier.limite_depot(&c.concours).libelle()) "." }
                form method="post" action=(etat.chemin("/dossier/cloture")) {
                    input type="hidden" name="csrf" value=(auth.session.csrf);
                    button type="submit" class="principal" id="confirmer-cloture" { "Je confirme : clôturer mon inscription" }
                    " "
                    a class="bouton" href=(etat.chemin("/dossier")) { "Annuler" }
                }
            },
        ),
    ))
}

async fn cloturer(
    State(etat): State<SharedState>,
    auth: AuthPage,
    Form(f): Form<FormCsrf>,
) -> Response {
    let r = async {
        verifier_csrf(&auth, &f.csrf)?;
        let r = etat.espace.cloturer(auth.numero()).await?;
        crate::metriques::cloture();
        Ok::<_, ErreurApi>(r)
    }
    .await;
    retour_au_dossier(&etat, &auth, r.map(|_| ())).await
}

async fn recepisse(State(etat): State<SharedState>, auth: AuthPage) -> Result<Response, ErreurApi> {
    let r = recepisse_de(&etat, &auth).await?;
    let x = &r.contenu;
    Ok(rendu(
        StatusCode::OK,
        page(
            &etat,
            "Récépissé de clôture",
            html! {
                    div class="recepisse" {
                        p { strong { (x.organisateur) } }
                        p { (x.concours_intitule) " — session " (x.session) " — " (x.voie.libelle()) }
                        p { "Dossier n° " strong class="numero" { (x.numero) } " — " (x.prenom) " " (x.nom) }
                        p { "Clôturé le " strong { (x.cloture_le_libelle) } " (" (x.cloture_le.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)) ")." }
                        table {
                            thead { tr { th { "Pièce" } th { "Fichier" } th { "Taille" } th { "SHA-256" } } }
                            tbody {
                                @for l in &x.fichiers {
                                    tr { td { (l.piece_libelle) } td { (l.nom) } td { (taille_en_mots(l.taille)) } td { code { (l.sha256) } } }
                                }
                            }
                        }
                        p { "Empreinte du récépissé (SHA-256) : " code id="empreinte" { (r.empreinte) } }
                        p { "Votre dossier est clôturé, il est en cours d'instruction." }
                    }
                    p class="non-imprime" {
                "Télécharger : "
                a href=(etat.chemin("/dossier/recepisse.pdf")) { "le récépissé en PDF" }
                " · "
                a href=(etat.chemin("/dossier/recepisse.json")) { "le récépissé signé (JSON, pour vérification)" }
            }
            p class="non-imprime" {
                "Quiconque peut vérifier ce récépissé (le fichier JSON) sur la page "
                a href=(etat.chemin("/verifier")) { "Vérifier un récépissé" } "."
            }
            p class="non-imprime" { a href=(etat.chemin("/dossier")) { "Revenir à mon dossier" } }
                },
        ),
    ))
}

async fn recepisse_fichier(
    State(etat): State<SharedState>,
    auth: AuthPage,
    uri: axum::http::Uri,
) -> Result<Response, ErreurApi> {
    let r = recepisse_de(&etat, &auth).await?;
    let (corps, type_, ext) = if uri.path().ends_with(".pdf") {
        (r.pdf(), "application/pdf", "pdf")
    } else {
        (r.json(), "application/json", "json")
    };
    let nom = format!(
        "attachment; filename=\"recepisse-{}.{ext}\"",
        r.contenu.numero
    );
    Ok((
        [
            (header::CONTENT_TYPE, type_.to_owned()),
            (header::CONTENT_DISPOSITION, nom),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        corps,
    )
        .into_response())
}

async fn transmettre(
    State(etat): State<SharedState>,
    auth: AuthPage,
    Form(f): Form<FormCsrf>,
) -> Response {
    let r = async {
        verifier_csrf(&auth, &f.csrf)?;
        Ok::<_, ErreurApi>(etat.espace.transmettre_complements(auth.numero()).await?)
    }
    .await;
    retour_au_dossier(&etat, &auth, r.map(|_| ())).await
}

/// After an action on the dossier page: back to it, or the page again with the refusal.
async fn retour_au_dossier(
    etat: &SharedState,
    auth: &AuthPage,
    r: Result<(), ErreurApi>,
) -> Response {
    let Err(e) = r else {
        return Redirect::to(&etat.chemin("/dossier")).into_response();
    };
    match etat.espace.consulter(auth.numero()).await {
        Ok(c) => rendu(e.statut, vue_dossier_page(etat, auth, &c, Some(&e.message))),
        Err(_) => page_erreur(etat, e),
    }
}

/// The candidate's récépissé, or why there is none.
async fn recepisse_de(
    etat: &SharedState,
    auth: &AuthPage,
) -> Result<depot_core::Recepisse, ErreurApi> {
    let c = etat.espace.consulter(auth.numero()).await?;
    c.dossier
        .recepisse()
        .cloned()
        .ok_or_else(ErreurApi::pas_de_recepisse)
}
