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
use crate::web::flash::Flash;
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
        .route("/dossier/session", get(session_restante))
        .route("/dossier/export", get(mes_donnees))
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

/// The header the pages' script sends with its requests: a refusal then comes as a status
/// the script reads, not as a redirect it would follow.
pub(crate) const ENTETE_SCRIPT: &str = "x-depot-script";

impl FromRequestParts<SharedState> for AuthPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, etat: &SharedState) -> Result<Self, Response> {
        let jeton = cookie(&parts.headers, COOKIE_SESSION);
        if let Some(j) = &jeton {
            match etat.sessions.verifier(j, etat.now()).await {
                Ok(Some(session)) => return Ok(Self { session }),
                Ok(None) => {}
                Err(e) => return Err(ErreurApi::from(e).into_response()),
            }
        }
        if parts.headers.contains_key(ENTETE_SCRIPT) {
            return Err(StatusCode::UNAUTHORIZED.into_response());
        }
        // Back to the login, which returns here afterwards; « expirée » when a session
        // cookie came (it ended while the candidate was away).
        let cible = match retour_valide(parts.uri.path()) {
            Some(r) if jeton.is_some() => format!("/connexion?retour={r}&expiree=1"),
            Some(r) => format!("/connexion?retour={r}"),
            None => "/connexion".to_owned(),
        };
        Err(Redirect::to(&etat.chemin(&cible)).into_response())
    }
}

/// A page of the candidate's own espace to return to after login: `/dossier` and below,
/// plain characters only (never another site, never a path a client could bend).
fn retour_valide(chemin: &str) -> Option<&str> {
    let propre = chemin.len() <= 200
        && (chemin == "/dossier" || chemin.starts_with("/dossier/"))
        && !chemin.contains("//")
        && !chemin.contains("..")
        && chemin
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'));
    // A form's address that has no page of its own leads to the dossier.
    propre.then_some(if chemin == "/dossier/complements" {
        "/dossier"
    } else {
        chemin
    })
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

/// Where the login form was reached from: the page to return to, and whether a session
/// had just expired.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ParamsConnexion {
    retour: Option<String>,
    expiree: Option<String>,
}

fn formulaire_connexion(
    etat: &SharedState,
    csrf: &str,
    numero: &str,
    erreur: Option<&str>,
    params: &ParamsConnexion,
) -> Markup {
    let retour = params.retour.as_deref().and_then(retour_valide);
    page(
        etat,
        "Connexion à votre espace sécurisé",
        html! {
            @if let Some(e) = erreur { (alerte(e)) }
            @else if params.expiree.is_some() {
                div class="alerte attention" role="status" {
                    p { strong { "Votre session a expiré" } " après 30 minutes sans activité, pour protéger votre dossier. Reconnectez-vous : vous reviendrez à la page où vous étiez. Un fichier que vous étiez en train d'envoyer n'a pas été enregistré : déposez-le de nouveau." }
                }
            }
            (echeances_connexion(etat))
            form method="post" action=(etat.chemin("/connexion")) class="carte" {
                input type="hidden" name="csrf" value=(csrf);
                @if let Some(r) = retour { input type="hidden" name="retour" value=(r); }
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

/// The deadlines of the concours served, on the login page: a candidate who has not logged
/// in yet sees how long is left.
fn echeances_connexion(etat: &SharedState) -> Markup {
    let now = etat.now();
    html! {
        @for k in etat.espace.concours() {
            @let limite = k.calendrier.depot_cloture;
            @if !limite.est_depassee(now) {
                p class=(if limite.est_proche(now) { "echeance alerte attention" } else { "echeance" }) {
                    (k.intitule) " : clôturez votre inscription au plus tard "
                    strong { (limite.au_plus_tard()) } " — " (limite.temps_restant(now)) "."
                }
            }
        }
    }
}

async fn connexion_page(
    State(etat): State<SharedState>,
    Query(params): Query<ParamsConnexion>,
) -> Response {
    page_avec_jeton(&etat, StatusCode::OK, COOKIE_CSRF, |csrf| {
        formulaire_connexion(&etat, csrf, "", None, &params)
    })
}

#[derive(Deserialize)]
struct FormConnexion {
    csrf: String,
    numero: String,
    mot_de_passe: MotDePasse,
    #[serde(default)]
    retour: Option<String>,
}

async fn connexion(
    State(etat): State<SharedState>,
    Ip(ip): Ip,
    headers: HeaderMap,
    Form(f): Form<FormConnexion>,
) -> Response {
    // Double-submit token: the hidden field must match the cookie set with the form.
    let csrf_ok = crate::web::csrf::double_soumission_valide(&headers, COOKIE_CSRF, &f.csrf);
    let params = ParamsConnexion {
        retour: f.retour.clone(),
        expiree: None,
    };
    if !csrf_ok {
        return page_avec_jeton(&etat, StatusCode::FORBIDDEN, COOKIE_CSRF, |csrf| {
            formulaire_connexion(
                &etat,
                csrf,
                &f.numero,
                Some("Ce formulaire a expiré. Saisissez de nouveau votre mot de passe."),
                &params,
            )
        });
    }
    match ouvrir_session(&etat, ip, &f.numero, f.mot_de_passe).await {
        Ok((jeton, _)) => {
            let cible = f
                .retour
                .as_deref()
                .and_then(retour_valide)
                .unwrap_or("/dossier");
            let mut r = Redirect::to(&etat.chemin(cible)).into_response();
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
                formulaire_connexion(&etat, &f.csrf, &f.numero, Some(&e.message), &params),
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

/// A field's problem on a form: the id of the field it is about, and what to do.
struct ErreurChamp {
    id: &'static str,
    message: String,
}

/// The summary of a form's problems, at the top, each linked to its field.
fn resume_erreurs(erreurs: &[ErreurChamp]) -> Markup {
    html! {
        @if !erreurs.is_empty() {
            div class="alerte erreur resume-erreurs" role="alert" id="resume-erreurs" tabindex="-1" {
                p { strong {
                    @if erreurs.len() == 1 { "Le formulaire contient une erreur :" }
                    @else { "Le formulaire contient " (erreurs.len()) " erreurs :" }
                } }
                ul { @for e in erreurs { li { a href=(format!("#{}", e.id)) { (e.message) } } } }
            }
        }
    }
}

/// The message next to field `id`, if it has one.
fn erreur_de<'e>(erreurs: &'e [ErreurChamp], id: &str) -> Option<&'e str> {
    erreurs
        .iter()
        .find(|e| e.id == id)
        .map(|e| e.message.as_str())
}

/// A text field with its label, required mark, message and `aria-describedby`.
fn champ_texte(
    id: &'static str,
    nom: &str,
    libelle: &str,
    type_: &str,
    autocomplete: &str,
    valeur: &str,
    erreurs: &[ErreurChamp],
) -> Markup {
    let erreur = erreur_de(erreurs, id);
    let id_erreur = format!("{id}-erreur");
    html! {
        p {
            label for=(id) { (libelle) " " span class="requis" aria-hidden="true" { "*" } }
            @if let Some(e) = erreur { span class="erreur-champ" id=(id_erreur) { (e) } }
            input id=(id) name=(nom) type=(type_) required autocomplete=(autocomplete) value=(valeur)
                aria-invalid=[erreur.map(|_| "true")] aria-describedby=[erreur.map(|_| id_erreur.as_str())];
        }
    }
}

fn formulaire_preinscription(
    etat: &SharedState,
    csrf: &str,
    valeurs: &FormPreinscription,
    erreurs: &[ErreurChamp],
    erreur: Option<&str>,
) -> Markup {
    let plusieurs = etat.espace.concours().count() > 1;
    page(
        etat,
        "Préinscription",
        html! {
            @if let Some(e) = erreur { (alerte(e)) }
            (resume_erreurs(erreurs))
            (echeances_connexion(etat))
            p { "Les champs marqués d'un astérisque (" span class="requis" { "*" } ") sont obligatoires." }
            form method="post" action=(etat.chemin("/preinscription")) class="carte" novalidate {
                input type="hidden" name="csrf" value=(csrf);
                @for (i, c) in etat.espace.concours().enumerate() {
                    @let code = c.code.as_str();
                    @let ce_concours = !plusieurs || valeurs.concours.as_deref() == Some(code);
                    fieldset class="choix" {
                        legend { (c.intitule) " — session " (c.session) " (" (c.organisateur) ")" }
                        @if plusieurs {
                            @let id = if i == 0 { "concours-0".to_owned() } else { format!("concours-{i}") };
                            p { label for=(id) { input type="radio" id=(id) name="concours" value=(code) required checked[ce_concours]; " Je m'inscris à ce concours" } }
                        }
                        fieldset class="choix" aria-describedby=[erreur_de(erreurs, "voie-0").map(|_| "voie-erreur")] {
                            legend { "Voie d'accès " span class="requis" aria-hidden="true" { "*" } }
                            @if let Some(e) = erreur_de(erreurs, "voie-0").filter(|_| ce_concours || i == 0) {
                                p class="erreur-champ" id="voie-erreur" { (e) }
                            }
                            @for (j, v) in c.voies.iter().enumerate() {
                                @let id = if i == 0 && j == 0 { "voie-0".to_owned() } else { format!("voie-{i}-{j}") };
                                label for=(id) { input type="radio" id=(id) name="voie" value=(v.code()) required checked[ce_concours && valeurs.voie == v.code()]; " " (v.libelle()) }
                            }
                        }
                        @if !c.declarations.is_empty() {
                            fieldset class="choix" {
                                legend { "Votre situation (cochez ce qui vous concerne)" }
                                @for (j, d) in c.declarations.iter().enumerate() {
                                    @let id = format!("declaration-{i}-{j}");
                                    label for=(id) { input type="checkbox" id=(id) name="declarations" value=(d.code.as_str()) checked[ce_concours && valeurs.declarations.iter().any(|x| x == d.code.as_str())]; " " (d.libelle) }
                                }
                            }
                        }
                    }
                }
                (champ_texte("nom", "nom", "Nom", "text", "family-name", &valeurs.nom, erreurs))
                (champ_texte("prenom", "prenom", "Prénom", "text", "given-name", &valeurs.prenom, erreurs))
                (champ_texte("email", "email", "Adresse électronique (exemple : prenom.nom@exemple.fr)", "email", "email", &valeurs.email, erreurs))
                @let e_mdp = erreur_de(erreurs, "mdp");
                p {
                    label for="mdp" { "Mot de passe " span class="requis" aria-hidden="true" { "*" } }
                    span class="aide" id="mdp-aide" { "Au moins 12 caractères ; une phrase facile à retenir pour vous convient, par exemple quatre mots sans rapport entre eux." }
                    @if let Some(e) = e_mdp { span class="erreur-champ" id="mdp-erreur" { (e) } }
                    input id="mdp" name="mot_de_passe" type="password" required minlength="12" maxlength="128" autocomplete="new-password"
                        aria-invalid=[e_mdp.map(|_| "true")] aria-describedby=(if e_mdp.is_some() { "mdp-aide mdp-erreur" } else { "mdp-aide" });
                    button type="button" class="lien" data-montrer="mdp" aria-pressed="false" hidden { "Afficher le mot de passe" }
                }
                @let e_conf = erreur_de(erreurs, "mdp2");
                p {
                    label for="mdp2" { "Confirmation du mot de passe " span class="requis" aria-hidden="true" { "*" } }
                    @if let Some(e) = e_conf { span class="erreur-champ" id="mdp2-erreur" { (e) } }
                    input id="mdp2" name="confirmation" type="password" required maxlength="128" autocomplete="new-password"
                        aria-invalid=[e_conf.map(|_| "true")] aria-describedby=[e_conf.map(|_| "mdp2-erreur")];
                    button type="button" class="lien" data-montrer="mdp2" aria-pressed="false" hidden { "Afficher la confirmation" }
                }
                p { button type="submit" class="principal" { "Me préinscrire" } }
            }
            p { "Déjà préinscrit(e) ? " a href=(etat.chemin("/connexion")) { "Connexion à votre espace sécurisé" } }
        },
    )
}

async fn preinscription_page(State(etat): State<SharedState>) -> Response {
    page_avec_jeton(&etat, StatusCode::OK, COOKIE_CSRF, |csrf| {
        formulaire_preinscription(&etat, csrf, &FormPreinscription::default(), &[], None)
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
    confirmation: MotDePasse,
}

/// Every problem of the form at once, with the core's rules, in the form's order.
fn erreurs_preinscription(etat: &SharedState, f: &FormPreinscription) -> Vec<ErreurChamp> {
    let mut erreurs = Vec::new();
    let plusieurs = etat.espace.concours().count() > 1;
    let concours = match &f.concours {
        Some(c) => etat.espace.concours().find(|k| k.code.as_str() == c),
        None if !plusieurs => etat.espace.concours().next(),
        None => None,
    };
    if concours.is_none() {
        erreurs.push(ErreurChamp {
            id: "concours-0",
            message: "Concours : choisissez le concours auquel vous vous inscrivez.".to_owned(),
        });
    }
    if depot_core::Voie::parse(&f.voie).is_none() {
        erreurs.push(ErreurChamp {
            id: "voie-0",
            message: "Voie d'accès : choisissez la voie par laquelle vous vous présentez (externe, interne ou troisième concours).".to_owned(),
        });
    }
    for r in depot_core::Identite::erreurs(&f.nom, &f.prenom, &f.email) {
        if let Refus::ChampInvalide { champ, raison } = r {
            let (id, libelle) = match champ {
                "nom" => ("nom", "Nom"),
                "prenom" => ("prenom", "Prénom"),
                _ => ("email", "Adresse électronique"),
            };
            erreurs.push(ErreurChamp {
                id,
                message: format!("{libelle} : {raison}"),
            });
        }
    }
    let intitule = concours.map(|k| k.intitule.as_str()).unwrap_or_default();
    if let Err(r) = f
        .mot_de_passe
        .verifier_politique(&[&f.nom, &f.prenom, &f.email, intitule])
    {
        erreurs.push(ErreurChamp {
            id: "mdp",
            message: format!("Mot de passe : {}", r.message()),
        });
    } else if f.confirmation.exposer() != f.mot_de_passe.exposer() {
        erreurs.push(ErreurChamp {
            id: "mdp2",
            message: "Confirmation : elle ne correspond pas au mot de passe ; saisissez deux fois le même.".to_owned(),
        });
    }
    erreurs
}

async fn preinscription(
    State(etat): State<SharedState>,
    Ip(ip): Ip,
    headers: HeaderMap,
    axum_extra::extract::Form(f): axum_extra::extract::Form<FormPreinscription>,
) -> Response {
    if !crate::web::csrf::double_soumission_valide(&headers, COOKIE_CSRF, &f.csrf) {
        return page_avec_jeton(&etat, StatusCode::FORBIDDEN, COOKIE_CSRF, |csrf| {
            formulaire_preinscription(
                &etat,
                csrf,
                &f,
                &[],
                Some(
                    "Ce formulaire a expiré. Vos réponses sont conservées : saisissez de nouveau le mot de passe, puis envoyez le formulaire.",
                ),
            )
        });
    }
    let erreurs = erreurs_preinscription(&etat, &f);
    if !erreurs.is_empty() {
        return rendu(
            StatusCode::UNPROCESSABLE_ENTITY,
            formulaire_preinscription(&etat, &f.csrf, &f, &erreurs, None),
        );
    }
    let c = CorpsPreinscription {
        concours: f.concours.clone(),
        voie: f.voie.clone(),
        nom: f.nom.clone(),
        prenom: f.prenom.clone(),
        email: f.email.clone(),
        declarations: f.declarations.clone(),
        mot_de_passe: MotDePasse::new(f.mot_de_passe.exposer().to_owned()),
    };
    match preinscrire_depuis(&etat, ip, c).await {
        Ok(numero) => rendu(
            StatusCode::CREATED,
            page(
                &etat,
                "Préinscription enregistrée",
                html! {
                    div class="alerte succes" role="status" {
                        p { "Votre n° de dossier est " strong class="numero" { (numero) } "." }
                        p {
                            "Notez-le : c'est votre identifiant pour vous connecter à votre espace sécurisé, avec le mot de passe que vous venez de choisir."
                            @if etat.espace.courrier().is_some() { " Il vous est aussi envoyé par courriel." }
                        }
                    }
                    p { a class="bouton principal" href=(etat.chemin("/connexion")) { "Connexion espace sécurisé" } }
                },
            ),
        ),
        Err(e) => {
            let mut r = rendu(
                e.statut,
                formulaire_preinscription(&etat, &f.csrf, &f, &[], Some(&e.message)),
            );
            if let Some(s) = e.reessayer_apres {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(s));
            }
            r
        }
    }
}

/// Icons drawn inline (no image request, no font): hidden from assistive technologies,
/// the text next to each says what it does.
fn icone(nom: &str) -> Markup {
    let chemin = match nom {
        // An eye.
        "oeil" => {
            "M12 5C6.5 5 2.7 9.4 1.5 12c1.2 2.6 5 7 10.5 7s9.3-4.4 10.5-7C21.3 9.4 17.5 5 12 5zm0 11.5a4.5 4.5 0 1 1 0-9 4.5 4.5 0 0 1 0 9zm0-2.5a2 2 0 1 0 0-4 2 2 0 0 0 0 4z"
        }
        // A bin.
        "poubelle" => {
            "M9 3h6l1 2h4v2H4V5h4l1-2zm-3 6h12l-1 12H7L6 9zm4 2v8h1.5v-8H10zm3.5 0v8H15v-8h-1.5z"
        }
        // A folder.
        _ => "M3 5h6l2 2h10v12H3V5z",
    };
    html! {
        svg class="icone" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false" {
            path d=(chemin) fill="currentColor" {}
        }
    }
}

/// Where a file's antivirus analysis stands, for the candidate (nothing when clean or when
/// the espace scans nothing).
fn etat_antivirus(f: &depot_core::Fichier) -> Markup {
    use depot_core::antivirus::StatutAnalyse;
    html! {
        @if let Some(le) = f.purge_le {
            p class="analyse" { "Fichier supprimé le " (instant_en_lettres(le)) ", à la fin de sa durée de conservation fixée par le centre de gestion." }
        }
        @match f.antivirus.as_ref().map(|a| &a.statut) {
            Some(StatutAnalyse::EnAttente) => {
                p class="analyse" { span class="badge facultative" { "analyse antivirus en cours" } " Le fichier est enregistré ; il sera analysé dès que possible." }
            }
            Some(StatutAnalyse::Infectee { signature }) => {
                div class="alerte erreur" {
                    p { strong { "Fichier mis en quarantaine." } " Un virus y a été détecté après son dépôt (" (signature) ") : le service concours ne l'ouvrira pas. Analysez votre ordinateur ou votre téléphone avec un antivirus à jour, puis déposez une autre copie de ce document, même si votre dossier est clôturé." }
                }
            }
            _ => {}
        }
    }
}

/// The deadline as the pages say it, with the time left: « au plus tard le lundi 14
/// décembre 2026 à 23 h 59, heure de Paris — il vous reste 13 jours ».
fn echeance(limite: &depot_core::DateLimite, now: chrono::DateTime<chrono::Utc>) -> Markup {
    html! {
        "au plus tard " strong { (limite.au_plus_tard()) }
        @if !limite.est_depassee(now) { " — " (limite.temps_restant(now)) }
    }
}

/// The warning shown (by the script) five minutes before the session ends, with a button
/// that keeps it open. Hidden without the script, which would not count down anyway.
fn avertissement_session(etat: &SharedState, auth: &AuthPage) -> Markup {
    let restante = (auth.session.expire_le - etat.now()).num_seconds().max(0);
    let retour = etat.chemin("/connexion?retour=/dossier&expiree=1");
    html! {
        div id="session" class="alerte attention fenetre" role="alertdialog" aria-labelledby="session-titre" aria-describedby="session-texte" hidden data-restante=(restante) data-url=(etat.chemin("/dossier/session")) {
            div class="avant" {
                p id="session-titre" { strong { "Votre session va bientôt expirer" } }
                p id="session-texte" { "Sans action de votre part, vous serez déconnecté(e) dans " span class="compte" { "5 min" } ". Vos fichiers déjà enregistrés sont conservés." }
                p { button type="button" class="principal" { "Rester connecté(e)" } }
            }
            div class="apres" hidden {
                p { strong { "Votre session a expiré." } " " a href=(retour) { "Reconnectez-vous" } " pour continuer." }
            }
        }
    }
}

fn vue_dossier_page(
    etat: &SharedState,
    auth: &AuthPage,
    c: &Consultation,
    erreur: Option<&str>,
    flash: Option<&Flash>,
) -> Markup {
    let d = &c.dossier;
    let k = &c.concours;
    let now = c.maintenant;
    let ouvert = est_ouvert(c);
    let cloture = d.cloture_le().is_some();
    let limite = d.limite_depot(k);
    let differees = k.calendrier.pieces_differees_cloture;
    let manquantes = d.pieces_manquantes(k);
    page(
        etat,
        "Mon dossier d'inscription",
        html! {
            (avertissement_session(etat, auth))
            @if let Some(e) = erreur { (alerte(e)) }
            @if let Some(Flash::Transmis) = flash {
                div class="alerte succes" role="status" { p { "Vos compléments ont été transmis au service concours." } }
            }
            @if ouvert && limite.est_proche(now) {
                div class="alerte attention bandeau-echeance" role="note" {
                    p { strong { "Date limite proche : " } "clôturez votre inscription " (echeance(&limite, now)) "." }
                }
            }
            section class="carte" aria-labelledby="titre-concours" {
                h2 id="titre-concours" { (k.intitule) " — session " (k.session) }
                p { (k.organisateur) }
                p { "N° de dossier : " strong class="numero" { (d.numero()) } " · " (d.voie().libelle()) }
                div class=(format!("alerte {}", crate::vue::classe_etat(d.etat_lu(k, now)))) role="status" id="etat" {
                    p { (d.message_etat(k, now)) }
                }
                @if let Some(le) = d.cloture_le() {
                    p { "Clôturé le " (instant_en_lettres(le)) ". " a href=(etat.chemin("/dossier/recepisse")) { "Voir et imprimer le récépissé" } }
                } @else if ouvert {
                    p id="echeance" { "Date limite de clôture : " (echeance(&limite, now)) "." }
                    p id="manquantes" {
                        @match manquantes.len() {
                            0 => { "Toutes les pièces obligatoires sont déposées." }
                            1 => { strong { "1 pièce obligatoire" } " reste à déposer." }
                            n => { strong { (n) " pièces obligatoires" } " restent à déposer." }
                        }
                    }
                }
            }
            section aria-labelledby="titre-pieces" {
                h2 id="titre-pieces" { "Pièces justificatives demandées" }
                p class="aide" {
                    @if ouvert {
                        "Les pièces doivent être au format PDF ou JPEG. Pour chaque pièce, « Déposer ou gérer » permet d'ajouter un fichier, de le voir (l'œil) ou de le supprimer (la poubelle)."
                    } @else if cloture {
                        "Votre dossier est clôturé : vous pouvez voir vos fichiers. Les pièces qui peuvent être transmises après la clôture restent ouvertes au dépôt jusqu'à leur date limite."
                    } @else {
                        "Le dépôt est fermé : vous pouvez voir vos fichiers."
                    }
                }
                ul class="pieces" {
                    @for p in d.pieces(k) {
                        @let statut = d.statut(p);
                        @let fichiers: Vec<_> = d.fichiers_de(&p.code).collect();
                        li class="piece" {
                            h3 { (p.libelle) }
                            p class="badges" {
                                span class=(format!("badge {}", statut.code())) { (statut.libelle()) }
                                @if statut.libelle() != p.exigence.libelle() {
                                    " " span class="badge exigence" { (p.exigence.libelle()) }
                                }
                            }
                            @if p.exigence == depot_core::Exigence::Differable {
                                @if let Some(l) = differees {
                                    p class="echeance-piece" { "À transmettre " (echeance(&l, now)) "." }
                                }
                            }
                            @if !fichiers.is_empty() {
                                ul class="fichiers-piece" {
                                    @for f in &fichiers {
                                        li {
                                            @if f.en_quarantaine() {
                                                span class="statut manquante" { (f.nom) " : infecté, à remplacer" }
                                            } @else if f.purge_le.is_some() {
                                                span class="statut" { (f.nom) " : supprimé (fin de conservation)" }
                                            } @else {
                                            a class="oeil" target="_blank" rel="noopener" href=(etat.chemin(&format!("/dossier/fichiers/{}", f.id))) {
                                                (icone("oeil")) span { "Voir " span class="nom" { (f.nom) } }
                                            }
                                            }
                                        }
                                    }
                                }
                            }
                            p {
                                a class="bouton dossier" href=(etat.chemin(&format!("/dossier/pieces/{}", p.code))) {
                                    (icone("dossier"))
                                    @if ouvert || d.controler_depot(k, p.code.as_str(), now).is_ok() { "Déposer ou gérer" } @else { "Voir" }
                                    span class="invisible" { " : " (p.libelle) }
                                }
                            }
                        }
                    }
                }
            }
            @if d.etat_lu(k, now) == depot_core::EtatLu::Incomplet {
                section class="carte" aria-labelledby="titre-complements" {
                    h2 id="titre-complements" { "Compléments demandés" }
                    p { "Déposez les pièces demandées (« Déposer ou gérer » ci-dessus), puis transmettez-les au service concours." }
                    form method="post" action=(etat.chemin("/dossier/complements")) {
                        input type="hidden" name="csrf" value=(auth.session.csrf);
                        button type="submit" class="principal" id="transmettre" { "Transmettre les compléments" }
                    }
                }
            }
            @if ouvert {
                section class="carte" aria-labelledby="titre-cloture" {
                    h2 id="titre-cloture" { "Finaliser l'envoi de votre dossier" }
                    @if manquantes.is_empty() {
                        p { "Sans clôture au plus tard " strong { (limite.au_plus_tard()) } ", votre inscription ne sera pas prise en compte." }
                        p { a class="bouton principal" id="cloturer" href=(etat.chemin("/dossier/cloture")) { "Clôturer mon inscription" } }
                    } @else {
                        p id="cloture-impossible" { "Vous pourrez clôturer votre inscription quand ces pièces obligatoires seront déposées :" }
                        ul { @for p in &manquantes { li { a href=(etat.chemin(&format!("/dossier/pieces/{}", p.code))) { (p.libelle) } } } }
                        p { "Sans clôture au plus tard " strong { (limite.au_plus_tard()) } ", votre inscription ne sera pas prise en compte." }
                    }
                }
            }
            p class="non-imprime" {
                a href=(etat.chemin("/dossier/export")) { "Télécharger mes données" }
                " (un fichier ZIP : votre identité, vos déclarations, vos fichiers, le récépissé et l'historique de votre dossier)"
            }
            form method="post" action=(etat.chemin("/deconnexion")) {
                input type="hidden" name="csrf" value=(auth.session.csrf);
                button type="submit" class="lien" { "Se déconnecter" }
            }
        },
    )
}

/// « Télécharger mes données ».
async fn mes_donnees(
    State(etat): State<SharedState>,
    auth: AuthPage,
) -> Result<Response, ErreurApi> {
    crate::candidat::donnees::zip_du_candidat(&etat, auth.numero()).await
}

async fn dossier(
    State(etat): State<SharedState>,
    auth: AuthPage,
    headers: HeaderMap,
) -> Result<Response, ErreurApi> {
    let c = etat.espace.consulter(auth.numero()).await?;
    let flash = crate::web::flash::prendre(&etat, &headers);
    let mut r = rendu(
        StatusCode::OK,
        vue_dossier_page(&etat, &auth, &c, None, flash.as_ref().map(|(f, _)| f)),
    );
    if let Some((_, effacer)) = flash {
        r.headers_mut().append(header::SET_COOKIE, effacer);
    }
    Ok(r)
}

/// `GET /dossier/session` (the script's « Rester connecté(e) »): using the session keeps it
/// open; answers how long it has left.
async fn session_restante(State(etat): State<SharedState>, auth: AuthPage) -> Response {
    let restante = (auth.session.expire_le - etat.now()).num_seconds().max(0);
    (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({ "restante_s": restante })),
    )
        .into_response()
}

fn vue_piece(
    etat: &SharedState,
    auth: &AuthPage,
    c: &Consultation,
    code: &str,
    flash: Option<&Flash>,
    erreur: Option<&str>,
) -> Result<Markup, ErreurApi> {
    let d = &c.dossier;
    let k = &c.concours;
    let now = c.maintenant;
    let p = d
        .pieces(k)
        .find(|p| p.code.as_str() == code)
        .ok_or(Refus::PieceInconnue {
            code: code.chars().take(64).collect(),
        })?;
    let possible = d.controler_depot(k, code, now);
    // The bin while the dossier is open, even when the piece is full (to replace a file).
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
    let extensions = p
        .formats
        .iter()
        .flat_map(|f| f.extensions().iter().copied())
        .collect::<Vec<_>>()
        .join(",");
    let admis = depot_core::format::formats_en_mots(&p.formats);
    const NOM: &str = "\u{ab}NOM\u{bb}";
    let msg_taille = depot_core::Rejet::FichierTropVolumineux {
        nom: NOM.to_owned(),
        taille_max_mo: p.taille_max_mo,
    }
    .message();
    let msg_format = depot_core::Rejet::FormatRefuse {
        nom: NOM.to_owned(),
        detecte: None,
        admis: admis.clone(),
    }
    .message();
    let msg_vide = depot_core::Rejet::FichierVide {
        nom: NOM.to_owned(),
    }
    .message();
    let msg_session = "Votre session a expiré (30 minutes sans activité) : le fichier n'a pas été enregistré. Rechargez la page pour vous reconnecter, puis déposez-le de nouveau.";
    Ok(page(
        etat,
        "Gestion du document",
        html! {
            (avertissement_session(etat, auth))
            h2 { (p.libelle) }
            p class="badges" {
                span class=(format!("badge {}", d.statut(p).code())) { (d.statut(p).libelle()) }
            }
            @match flash {
                Some(Flash::Enregistre(nom)) => {
                    div class="alerte succes fenetre" role="alertdialog" aria-labelledby="enregistre" id="fichier-enregistre" {
                        p id="enregistre" { strong { "Fichier « " (nom) " » enregistré" } }
                        p { a class="bouton principal" id="ok" href=(etat.chemin(&format!("/dossier/pieces/{code}"))) autofocus { "OK" } }
                    }
                }
                Some(Flash::Supprime(nom)) => {
                    div class="alerte succes" role="status" id="fichier-supprime" {
                        p { "Fichier « " (nom) " » supprimé." }
                    }
                }
                _ => {}
            }
            @if let Some(e) = erreur { (alerte(e)) }
            @let fichiers: Vec<_> = d.fichiers_de(&p.code).collect();
            @if fichiers.is_empty() {
                p { "Aucun fichier déposé pour cette pièce." }
            } @else {
                ul class="fichiers" {
                    @for f in &fichiers {
                        li {
                            p class="nom-fichier" { span class="nom" { (f.nom) } }
                            p { small { (f.format.libelle()) ", " (taille_en_mots(f.taille)) ", déposé le " (instant_en_lettres(f.depose_le)) } }
                            (etat_antivirus(f))
                            p class="actions" {
                                @if !f.en_quarantaine() && f.purge_le.is_none() {
                                a class="bouton oeil" target="_blank" rel="noopener" href=(etat.chemin(&format!("/dossier/fichiers/{}", f.id))) {
                                    (icone("oeil")) "Voir" span class="invisible" { " le fichier " (f.nom) }
                                }
                                }
                                @if modifiable {
                                    " "
                                    a class="bouton poubelle" href=(etat.chemin(&format!("/dossier/fichiers/{}/supprimer", f.id))) {
                                        (icone("poubelle")) "Supprimer" span class="invisible" { " le fichier " (f.nom) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @match possible {
                Ok(_) => {
                    form method="post" enctype="multipart/form-data" action=(etat.chemin(&format!("/dossier/pieces/{code}"))) class="carte" data-envoi
                        data-max-octets=(p.taille_max_octets()) data-extensions=(extensions)
                        data-message-taille=(msg_taille) data-message-format=(msg_format) data-message-vide=(msg_vide) data-message-session=(msg_session) {
                        input type="hidden" name="csrf" value=(auth.session.csrf);
                        p {
                            label for="fichier" { "Choisir un fichier" }
                            span class="aide" id="fichier-aide" { "Format " (admis) ", " (p.taille_max_mo) " Mo au plus, " (p.max_fichiers) " fichier(s) au plus pour cette pièce." }
                            input id="fichier" name="fichier" type="file" required accept=(accept) aria-describedby="fichier-aide";
                        }
                        div class="progression" hidden {
                            label for="progression" { "Envoi du fichier" }
                            progress id="progression" max="100" value="0" {}
                            span class="pourcent" aria-live="polite" { "0 %" }
                        }
                        div class="retour-envoi" role="alert" hidden {}
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
    headers: HeaderMap,
) -> Result<Response, ErreurApi> {
    let c = etat.espace.consulter(auth.numero()).await?;
    let flash = crate::web::flash::prendre(&etat, &headers);
    let m = vue_piece(
        &etat,
        &auth,
        &c,
        &code,
        flash.as_ref().map(|(f, _)| f),
        None,
    )?;
    let mut r = rendu(StatusCode::OK, m);
    if let Some((_, effacer)) = flash {
        r.headers_mut().append(header::SET_COOKIE, effacer);
    }
    Ok(r)
}

/// `POST /dossier/pieces/{code}` from the page: the CSRF field comes first in the form.
/// Recorded: to the piece's page with « Fichier « … » enregistré » (the script, which sends
/// [`ENTETE_SCRIPT`], gets 204 and that page's address in `X-Depot-Suite`); refused: the
/// piece's page with the refusal.
pub async fn deposer(
    State(etat): State<SharedState>,
    auth: AuthPage,
    Path(code): Path<String>,
    headers: HeaderMap,
    mut corps: Multipart,
) -> Response {
    match recevoir(&etat, &auth, &code, &mut corps).await {
        Ok(f) => {
            let suite = etat.chemin(&format!("/dossier/pieces/{code}"));
            let mut r = if headers.contains_key(ENTETE_SCRIPT) {
                let mut r = StatusCode::NO_CONTENT.into_response();
                if let Ok(v) = HeaderValue::from_str(&suite) {
                    r.headers_mut().insert("x-depot-suite", v);
                }
                r
            } else {
                Redirect::to(&suite).into_response()
            };
            r.headers_mut()
                .append(header::SET_COOKIE, Flash::Enregistre(f.nom).cookie(&etat));
            r
        }
        Err(e) => {
            let statut = e.statut;
            let mut r = match etat.espace.consulter(auth.numero()).await {
                Ok(c) => match vue_piece(&etat, &auth, &c, &code, None, Some(&e.message)) {
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
) -> Result<depot_core::Fichier, ErreurApi> {
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
                return deposer_champ(etat, auth.numero(), code, champ).await;
            }
            // The file before the token: not a form of this page.
            Some("fichier") => return Err(ErreurApi::formulaire_expire()),
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
    let (piece, nom) = c
        .dossier
        .fichier(&id)
        .map(|f| (f.piece.to_string(), f.nom.clone()))
        .ok_or(Refus::FichierInconnu)?;
    crate::depot::operation(
        &etat,
        auth.numero(),
        etat.espace.supprimer(auth.numero(), &id),
    )
    .await?;
    let mut r = Redirect::to(&etat.chemin(&format!("/dossier/pieces/{piece}"))).into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, Flash::Supprime(nom).cookie(&etat));
    Ok(r)
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
                    div class="alerte succes" role="status" {
                        p { strong { "Votre dossier est clôturé, il est en cours d'instruction." } }
                    }
                    p { strong { (x.organisateur) } }
                    p {
                        "Ce récépissé atteste que " strong { (x.prenom) " " (x.nom) } ", dossier n° "
                        strong class="numero" { (x.numero) } ", a clôturé son inscription au "
                        (x.concours_intitule) " — session " (x.session) " (" (x.voie.libelle()) ") le "
                        strong { (x.cloture_le_libelle) } "."
                    }
                    h2 { "Fichiers transmis" }
                    @if x.fichiers.is_empty() {
                        p { "Aucun fichier." }
                    } @else {
                        ul class="fichiers-recepisse" {
                            @for l in &x.fichiers {
                                li { (l.piece_libelle) " : " span class="nom" { (l.nom) } " (" (taille_en_mots(l.taille)) ")" }
                            }
                        }
                    }
                    h2 { "Vérification" }
                    p { "Ce récépissé est signé par le service concours. Chaque fichier y est identifié par son empreinte SHA-256 : un fichier modifié, même d'un octet, n'a plus la même empreinte." }
                    div class="table-defilante" role="region" aria-label="Empreintes des fichiers" tabindex="0" {
                        table {
                            thead { tr { th scope="col" { "Fichier" } th scope="col" { "SHA-256" } } }
                            tbody {
                                @for l in &x.fichiers {
                                    tr { td { (l.nom) } td { code { (l.sha256) } } }
                                }
                            }
                        }
                    }
                    p { "Clôture : " code { (x.cloture_le.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)) } " (UTC)." }
                    p { "Empreinte du récépissé (SHA-256) : " code id="empreinte" { (r.empreinte) } }
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
    let transmis = r.is_ok();
    let mut reponse = retour_au_dossier(&etat, &auth, r.map(|_| ())).await;
    if transmis {
        reponse
            .headers_mut()
            .append(header::SET_COOKIE, Flash::Transmis.cookie(&etat));
    }
    reponse
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
        Ok(c) => rendu(
            e.statut,
            vue_dossier_page(etat, auth, &c, Some(&e.message), None),
        ),
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
