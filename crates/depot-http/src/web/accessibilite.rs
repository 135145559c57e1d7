//! `/accessibilite`: the accessibility statement a public service must publish (RGAA,
//! article 47 of the law of 11 February 2005), on the model of the RGAA's template, filled
//! with what is true of depot. Without an audit the service is « non conforme »: saying so is
//! the rule, and the statement says what is tested instead.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use crate::SharedState;
use crate::web::layout::{page, rendu};

pub(crate) async fn declaration(State(etat): State<SharedState>) -> Response {
    let nom = crate::web::marque::nom(&etat);
    let qui = if nom.is_empty() {
        "Le service concours".to_owned()
    } else {
        nom.clone()
    };
    let contact = etat.config.marque.contact_accessibilite.clone();
    rendu(
        StatusCode::OK,
        page(
            &etat,
            "Déclaration d'accessibilité",
            html! {
                p { (qui) " s'engage à rendre ses services numériques accessibles, conformément à l'article 47 de la loi n° 2005-102 du 11 février 2005." }
                p { "Cette déclaration d'accessibilité s'applique à l'espace sécurisé de dépôt des dossiers d'inscription aux concours." }
                h2 { "État de conformité" }
                p { "L'espace sécurisé est " strong { "non conforme" } " avec le référentiel général d'amélioration de l'accessibilité (RGAA) 4.1.2 : il n'a pas encore fait l'objet d'un audit de conformité." }
                h2 { "Résultats des tests" }
                p { "Aucun audit RGAA n'a encore été réalisé. Chaque version du logiciel est testée automatiquement avant d'être publiée : les pages du candidat, ouvertes dans le navigateur Chromium à 320, 390 et 1 280 pixels de large, sont analysées par axe-core (critères WCAG 2.1 de niveaux A et AA), et aucune erreur n'est admise ; la page ne doit pas défiler horizontalement à 320 pixels." }
                h2 { "Contenus non accessibles" }
                ul {
                    li { "Le récépissé au format PDF n'est pas balisé. La page « Récépissé de clôture » donne les mêmes informations en HTML." }
                    li { "Les tests avec un lecteur d'écran (NVDA, VoiceOver, TalkBack) restent à faire." }
                    li { "Les fichiers déposés par les candidats sont des contenus de tiers, non soumis à l'obligation d'accessibilité." }
                }
                h2 { "Établissement de cette déclaration" }
                p { "Cette déclaration a été établie le 2 décembre 2026 pour la version du logiciel qui sert cet espace." }
                h3 { "Technologies utilisées" }
                p { "HTML5, CSS et JavaScript. Les pages fonctionnent sans JavaScript ; le script ajoute la vérification du fichier avant l'envoi, la barre de progression et l'avertissement avant la fin de la session." }
                h3 { "Environnement de test" }
                p { "Chromium (Debian) piloté par chromedriver, avec axe-core." }
                h2 { "Retour d'information et contact" }
                p {
                    "Si vous n'arrivez pas à accéder à un contenu ou à un service, vous pouvez contacter "
                    @match &contact {
                        Some(c) if c.starts_with("https://") => { a href=(c) { (qui) } }
                        Some(c) => { (qui) " : " (c) }
                        None => { (qui) }
                    }
                    " pour être orienté vers une alternative accessible ou obtenir le contenu sous une autre forme. Avant la date limite, signalez-le sans attendre : le service concours peut recevoir votre dossier autrement."
                }
                h2 { "Voies de recours" }
                p { "Si vous avez signalé un défaut d'accessibilité qui vous empêche d'accéder à un contenu ou à un service et que vous n'avez pas obtenu de réponse satisfaisante, vous pouvez :" }
                ul {
                    li { "écrire un message au Défenseur des droits (formulaire en ligne sur defenseurdesdroits.fr) ;" }
                    li { "contacter le délégué du Défenseur des droits dans votre région ;" }
                    li { "envoyer un courrier par la poste (gratuit, ne pas mettre de timbre) : Défenseur des droits, Libre réponse 71120, 75342 Paris CEDEX 07." }
                }
            },
        ),
    )
}
