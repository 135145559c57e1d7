//! Errors as HTTP answers: always `{"code": "<stable code>", "message": "<French sentence>",
//! ...details}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use depot_core::{Categorie, ErreurEspace, Nature, Refus, StorageError};
use serde_json::{Value, json};

/// The HTTP status a refusal maps to: one exhaustive match on its category.
pub fn statut(refus: &Refus) -> StatusCode {
    match refus.categorie() {
        Categorie::Identifiants => StatusCode::UNAUTHORIZED,
        Categorie::Introuvable => StatusCode::NOT_FOUND,
        Categorie::Etat => StatusCode::CONFLICT,
        Categorie::Interdit => StatusCode::FORBIDDEN,
        Categorie::Saisie => StatusCode::UNPROCESSABLE_ENTITY,
        Categorie::Fichier(Nature::Taille) => StatusCode::PAYLOAD_TOO_LARGE,
        Categorie::Fichier(Nature::Type) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Categorie::Fichier(Nature::Contenu) => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// An error answer of the API.
#[derive(Debug)]
pub struct ErreurApi {
    /// HTTP status.
    pub statut: StatusCode,
    /// Stable code.
    pub code: &'static str,
    /// French sentence.
    pub message: String,
    /// Extra fields (e.g. `manquantes`).
    pub details: Option<Value>,
    /// `Retry-After` in seconds, for 429.
    pub reessayer_apres: Option<u64>,
}

impl ErreurApi {
    /// The codes of the answers the HTTP adapter gives itself (the rules' are
    /// [`Refus::codes`], the stores' `stockage_*`, the service's `signature_indisponible`,
    /// `service_indisponible`): [`catalogue`] holds one of each.
    pub const CODES: &'static [&'static str] = &[
        "requete_invalide",
        "non_authentifie",
        "dossier_inconnu",
        "route_inconnue",
        "pas_de_recepisse",
        "formulaire_expire",
        "corps_trop_volumineux",
        "trop_de_tentatives",
        "methode_non_autorisee",
        "erreur_interne",
        "trop_de_preinscriptions",
        "trop_d_operations",
        "trop_de_demandes",
    ];

    /// A plain error.
    pub fn new(statut: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            statut,
            code,
            message: message.into(),
            details: None,
            reessayer_apres: None,
        }
    }

    /// 401: no valid session.
    pub fn non_authentifie() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "non_authentifie",
            "Vous n'êtes pas connecté ou votre session a expiré : reconnectez-vous avec votre n° de dossier et votre mot de passe.",
        )
    }

    /// A 429 with `Retry-After`; `phrase` receives the wait in minutes (at least one).
    fn trop(code: &'static str, secondes: u64, phrase: impl FnOnce(u64) -> String) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            code,
            phrase(secondes.div_ceil(60).max(1)),
        );
        e.reessayer_apres = Some(secondes.max(1));
        e
    }

    /// 429 with the seconds to wait.
    pub fn trop_de_tentatives(secondes: u64) -> Self {
        Self::trop("trop_de_tentatives", secondes, |minutes| {
            format!(
                "Trop de tentatives de connexion ont échoué. Réessayez dans {minutes} minute(s), en vérifiant le n° de dossier et le mot de passe."
            )
        })
    }

    /// 429: too many pré-inscriptions from this address.
    pub fn trop_de_preinscriptions(secondes: u64) -> Self {
        Self::trop("trop_de_preinscriptions", secondes, |minutes| {
            format!(
                "Trop de préinscriptions ont été faites depuis votre connexion internet. Réessayez dans {minutes} minute(s), ou depuis une autre connexion."
            )
        })
    }

    /// 429: too many « oubli » requests (password, n°) for this n°, this address or from
    /// this connection in the last hour.
    pub fn trop_de_demandes(secondes: u64) -> Self {
        Self::trop("trop_de_demandes", secondes, |minutes| {
            format!(
                "Trop de demandes ont été faites en peu de temps pour ce dossier, cette adresse ou depuis votre connexion internet. Réessayez dans {minutes} minute(s) ; un courriel déjà envoyé reste valable."
            )
        })
    }

    /// 429: too many deposits and deletions on this dossier in the last hour.
    pub fn trop_d_operations(secondes: u64) -> Self {
        Self::trop("trop_d_operations", secondes, |minutes| {
            format!(
                "Vous avez déposé ou supprimé beaucoup de fichiers en peu de temps. Réessayez dans {minutes} minute(s) ; les fichiers déjà enregistrés sont conservés."
            )
        })
    }

    /// 404: the dossier is not closed yet, so there is no récépissé.
    pub fn pas_de_recepisse() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "pas_de_recepisse",
            "Votre dossier n'est pas encore clôturé : le récépissé est délivré à la clôture.",
        )
    }

    /// 404: no such dossier (the staff's side; a malformed n° answers the same).
    pub fn dossier_inconnu() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "dossier_inconnu",
            "Ce dossier n'existe pas.",
        )
    }

    /// 404: no such route under `/api/v1`.
    pub fn route_inconnue() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "route_inconnue",
            "Cette adresse n'existe pas.",
        )
    }

    /// The API's answer for an error the framework decided (a rejection of an extractor, a
    /// method the route does not take…), from its status and its own short explanation.
    pub fn depuis_statut(statut: StatusCode, detail: &str) -> Self {
        let mut e = match statut {
            StatusCode::NOT_FOUND => Self::route_inconnue(),
            StatusCode::METHOD_NOT_ALLOWED => Self::methode_non_autorisee(),
            StatusCode::PAYLOAD_TOO_LARGE => Self::corps_trop_volumineux(),
            StatusCode::UNPROCESSABLE_ENTITY => Self::new(
                statut,
                "champ_invalide",
                format!("Un champ est absent ou invalide : {detail}"),
            ),
            s if s.is_server_error() => Self::erreur_interne(),
            _ => Self::requete_invalide(detail),
        };
        e.statut = statut;
        e
    }

    /// 405: the route exists, not with this method.
    pub fn methode_non_autorisee() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "methode_non_autorisee",
            "Cette adresse n'accepte pas cette méthode (voir docs/api.md).",
        )
    }

    /// 500: a fault of depot itself (logged where it happens).
    pub fn erreur_interne() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "erreur_interne",
            "Une erreur inattendue s'est produite : votre action n'a peut-être pas été enregistrée. Vérifiez votre dossier, puis réessayez.",
        )
    }

    /// 413: a body larger than the route accepts.
    pub fn corps_trop_volumineux() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "corps_trop_volumineux",
            "La requête est trop volumineuse.",
        )
    }

    /// 403: a form whose CSRF token is not the session's (an old tab, or another site).
    pub fn formulaire_expire() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "formulaire_expire",
            "Ce formulaire a expiré. Rechargez la page, puis recommencez.",
        )
    }

    /// 400: the request itself is malformed.
    pub fn requete_invalide(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "requete_invalide", {
            let detail = detail.into();
            let fin = if detail.ends_with('.') { "" } else { "." };
            format!("La requête est invalide : {detail}{fin}")
        })
    }
}

impl From<Refus> for ErreurApi {
    fn from(r: Refus) -> Self {
        let details = match &r {
            Refus::PiecesManquantes { manquantes } => Some(json!({ "manquantes": manquantes })),
            Refus::ChampInvalide { champ, .. } => Some(json!({ "champ": champ })),
            _ => None,
        };
        Self {
            statut: statut(&r),
            code: r.code(),
            message: r.message(),
            details,
            reessayer_apres: None,
        }
    }
}

impl From<ErreurEspace> for ErreurApi {
    fn from(e: ErreurEspace) -> Self {
        match e {
            ErreurEspace::Refus(r) => r.into(),
            ErreurEspace::Stockage(s) => s.into(),
            ErreurEspace::Envoi(e) => Self::requete_invalide(e.to_string()),
            e @ (ErreurEspace::Signature(_) | ErreurEspace::Arret(_)) => {
                tracing::error!(code = e.code(), erreur = %e, "service");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, e.code(), e.message())
            }
            autre => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "erreur_interne",
                autre.message(),
            ),
        }
    }
}

impl From<StorageError> for ErreurApi {
    fn from(s: StorageError) -> Self {
        // Details go to the logs, never to the client.
        tracing::error!(code = s.code(), erreur = %s, "stockage");
        let message = ErreurEspace::Stockage(s.clone()).message();
        Self::new(StatusCode::SERVICE_UNAVAILABLE, s.code(), message)
    }
}

/// Every error answer the API can give, one of each with realistic data: the rules'
/// refusals, the stores' failures, the service's, and the adapter's own. What
/// `docs/api.md` lists and the message test prints.
pub fn catalogue() -> Vec<ErreurApi> {
    let mut v: Vec<ErreurApi> = Refus::exemples().into_iter().map(ErreurApi::from).collect();
    v.extend(
        [
            StorageError::NotFound("dossiers/X".into()),
            StorageError::AlreadyExists("dossiers/X".into()),
            StorageError::Conflict("dossiers/X".into()),
            StorageError::Unavailable("s3".into()),
            StorageError::Denied("s3".into()),
            StorageError::Corrupt("dossiers/X".into()),
        ]
        .map(ErreurApi::from),
    );
    v.extend(
        [
            ErreurEspace::Signature(depot_core::ErreurSignature("clé absente".into())),
            ErreurEspace::Arret(depot_core::PoolFermee),
        ]
        .map(ErreurApi::from),
    );
    v.extend([
        ErreurApi::requete_invalide("corps JSON mal formé"),
        ErreurApi::non_authentifie(),
        ErreurApi::dossier_inconnu(),
        ErreurApi::route_inconnue(),
        ErreurApi::pas_de_recepisse(),
        ErreurApi::formulaire_expire(),
        ErreurApi::corps_trop_volumineux(),
        ErreurApi::trop_de_tentatives(600),
        ErreurApi::methode_non_autorisee(),
        ErreurApi::erreur_interne(),
        ErreurApi::trop_de_preinscriptions(3000),
        ErreurApi::trop_d_operations(1200),
        ErreurApi::trop_de_demandes(3600),
    ]);
    v
}

/// Marks an error answer with its sentence, so that the pages' layer
/// ([`crate::web::layout::habiller_erreurs`]) can show it as a French page instead of JSON: one
/// error type for the API and the pages, handlers use `?` in both.
#[derive(Debug, Clone)]
pub(crate) struct Refusee {
    pub(crate) message: String,
}

impl IntoResponse for ErreurApi {
    fn into_response(self) -> Response {
        let refusee = Refusee {
            message: self.message.clone(),
        };
        let mut corps = json!({ "code": self.code, "message": self.message });
        if let (Some(Value::Object(extra)), Value::Object(c)) = (self.details, &mut corps) {
            c.extend(extra);
        }
        let mut r = (self.statut, Json(corps)).into_response();
        if let Some(s) = self.reessayer_apres
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r.extensions_mut().insert(refusee);
        r
    }
}
