//! # depot-client — the JSON API of depot, typed
//!
//! For vendors who integrate a CDG's espace over HTTP, and for depot's own tests and load
//! tools: one method per route of `docs/api.md`, answers deserialised into the types below,
//! every refusal an [`Erreur::Api`] with the stable `code` and the French `message` the
//! server sent.
//!
//! ```no_run
//! use depot_client::{Client, Preinscription};
//!
//! # async fn f() -> Result<(), depot_client::Erreur> {
//! let client = Client::new("https://concours.cdg-exemple.fr")?;
//! let numero = client
//!     .preinscrire(&Preinscription {
//!         concours: None,
//!         voie: "externe".into(),
//!         nom: "Durand".into(),
//!         prenom: "Camille".into(),
//!         email: "camille@exemple.fr".into(),
//!         declarations: vec![],
//!         mot_de_passe: "lune verte sur le toit de Laval".into(),
//!     })
//!     .await?;
//! let session = client.connecter(&numero, "lune verte sur le toit de Laval").await?;
//! let pdf = std::fs::read("CNI.pdf").unwrap_or_default();
//! let fichier = session.deposer("piece-identite", "CNI.pdf", pdf).await?; // « Fichier enregistré »
//! match session.cloturer().await {
//!     Ok(c) => println!("{}", c.message), // « Votre dossier est clôturé, il est en cours d'instruction. »
//!     Err(depot_client::Erreur::Api { code, message, .. }) if code == "pieces_manquantes" => {
//!         println!("{message}")
//!     }
//!     Err(e) => return Err(e),
//! }
//! # let _ = fichier;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What went wrong with a call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Erreur {
    /// The server refused, with its stable code and French sentence (`docs/api.md`).
    #[error("{statut} {code} : {message}")]
    Api {
        /// HTTP status.
        statut: u16,
        /// Stable machine code (`pieces_manquantes`, `delai_depasse`…).
        code: String,
        /// The sentence for the candidate.
        message: String,
        /// The whole error body (details such as `manquantes` or `champ`).
        corps: Value,
        /// `Retry-After` in seconds, for 429.
        reessayer_apres: Option<u64>,
    },
    /// The request could not be sent, or the answer not read.
    #[error("transport : {0}")]
    Transport(#[from] reqwest::Error),
    /// The server answered something this client does not understand.
    #[error("réponse inattendue ({statut}) : {detail}")]
    Reponse {
        /// HTTP status.
        statut: u16,
        /// What was wrong with it.
        detail: String,
    },
}

impl Erreur {
    /// The server's stable code, for an [`Erreur::Api`].
    pub fn code(&self) -> Option<&str> {
        match self {
            Erreur::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// A pré-inscription (`POST /api/v1/preinscriptions`).
#[derive(Clone, Serialize)]
pub struct Preinscription {
    /// Concours code (needed when the server hosts several).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concours: Option<String>,
    /// `externe` | `interne` | `troisieme_concours`.
    pub voie: String,
    /// Family name.
    pub nom: String,
    /// Given name.
    pub prenom: String,
    /// E-mail.
    pub email: String,
    /// Codes of the declarations made.
    pub declarations: Vec<String>,
    /// The chosen password.
    pub mot_de_passe: String,
}

impl fmt::Debug for Preinscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Preinscription")
            .field("concours", &self.concours)
            .field("voie", &self.voie)
            .finish_non_exhaustive()
    }
}

/// A deposited file, as the dossier view and the upload's answer give it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Fichier {
    /// Id (for `voir` and `supprimer`).
    pub id: String,
    /// Display name.
    pub nom: String,
    /// `pdf` or `jpeg`.
    pub format: String,
    /// Size in bytes.
    pub taille: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// When recorded, RFC 3339 with the Paris offset.
    pub depose_le: String,
    /// The antivirus' analysis, when the espace scans uploads.
    #[serde(default)]
    pub analyse: Option<Analyse>,
}

/// A file's antivirus analysis.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Analyse {
    /// `saine`, `en_attente` (scanned again automatically) or `infectee` (quarantined).
    pub statut: String,
    /// The engine, once scanned.
    #[serde(default)]
    pub moteur: Option<String>,
    /// Its signature database's version, when known.
    #[serde(default)]
    pub base: Option<String>,
    /// The signature, if infected.
    #[serde(default)]
    pub signature: Option<String>,
    /// When, RFC 3339 with the Paris offset.
    pub le: String,
}

/// A requested piece and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Piece {
    /// Code.
    pub code: String,
    /// Label.
    pub libelle: String,
    /// `obligatoire` | `facultative` | `differable`.
    pub exigence: String,
    /// Whether it blocks closure for this dossier.
    pub requise: bool,
    /// `manquante` | `deposee` | `attendue_apres_cloture` | `facultative`.
    pub statut: String,
    /// Files allowed.
    pub max_fichiers: u32,
    /// MiB per file.
    pub taille_max_mo: u32,
    /// Accepted formats.
    pub formats: Vec<String>,
    /// Whether a file can be added now.
    pub depot_possible: bool,
    /// Its files.
    pub fichiers: Vec<Fichier>,
}

/// The concours of a dossier.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Concours {
    /// Code.
    pub code: String,
    /// Title.
    pub intitule: String,
    /// Session year.
    pub session: u16,
    /// Organising CDG.
    pub organisateur: String,
}

/// The dossier view (`GET /api/v1/dossier`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Dossier {
    /// N° de dossier.
    pub numero: String,
    /// Concours.
    pub concours: Concours,
    /// Voie code.
    pub voie: String,
    /// `ouvert` | `cloture` | `non_cloture_hors_delai` | instruction states.
    pub etat: String,
    /// The French status sentence.
    pub message: String,
    /// The dépôt deadline, RFC 3339 with the Paris offset.
    pub date_limite: String,
    /// The deadline in words.
    pub date_limite_libelle: String,
    /// Deferred pieces' deadline in words, if any.
    pub date_limite_pieces_differees_libelle: Option<String>,
    /// Closure instant.
    pub cloture_le: Option<String>,
    /// Requested pieces.
    pub pieces: Vec<Piece>,
    /// Codes of required pieces without a file.
    pub pieces_manquantes: Vec<String>,
    /// Whether « Clôturer mon inscription » would succeed now.
    pub cloturable: bool,
}

impl Dossier {
    /// Every file of every piece.
    pub fn fichiers(&self) -> impl Iterator<Item = &Fichier> {
        self.pieces.iter().flat_map(|p| p.fichiers.iter())
    }
}

/// The answer to « Clôturer mon inscription ».
#[derive(Debug, Clone, Deserialize)]
pub struct Cloture {
    /// `cloture`.
    pub etat: String,
    /// « Votre dossier est clôturé, il est en cours d'instruction. »
    pub message: String,
    /// Closure instant, RFC 3339 with the Paris offset.
    pub cloture_le: String,
    /// The signed récépissé, as JSON.
    pub recepisse: Value,
}

#[derive(Deserialize)]
struct Numero {
    numero: String,
}

#[derive(Deserialize)]
struct Connexion {
    jeton: String,
    expire_le: String,
}

#[derive(Deserialize)]
struct Depot {
    fichier: Fichier,
}

/// How long [`Client::new`] keeps an idle connection for the next request.
///
/// depot-server closes a kept-alive connection on which no request starts within
/// `--delai-entetes-s` seconds (10 by default). A client that keeps it longer may send its
/// next request just as the server closes it: the request fails with a transport error,
/// and an upload (a `POST`) is not sent again by the HTTP stack. Dropping idle connections
/// well before the server does removes that race. With a `reqwest::Client` of your own
/// ([`Client::avec_client`]), set its `pool_idle_timeout` below the server's delay too.
pub const INACTIVITE_MAX: Duration = Duration::from_secs(5);

/// The API of one server.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// A client of the server at `racine` (`https://host` or `https://host/prefix`, where
    /// depot is mounted; `/api/v1` is added).
    pub fn new(racine: &str) -> Result<Self, Erreur> {
        Ok(Self::avec_client(
            racine,
            reqwest::Client::builder()
                .pool_idle_timeout(INACTIVITE_MAX)
                .build()?,
        ))
    }

    /// The same, over a `reqwest::Client` you configured (timeouts, proxies, pool size;
    /// keep its `pool_idle_timeout` under the server's idle delay: [`INACTIVITE_MAX`]).
    pub fn avec_client(racine: &str, http: reqwest::Client) -> Self {
        Self {
            base: format!("{}/api/v1", racine.trim_end_matches('/')),
            http,
        }
    }

    fn url(&self, chemin: &str) -> String {
        format!("{}{chemin}", self.base)
    }

    /// The hosted concours (`GET /concours`), as JSON.
    pub async fn concours(&self) -> Result<Value, Erreur> {
        json(
            self.http.get(self.url("/concours")).send().await?,
            StatusCode::OK,
        )
        .await
    }

    /// « Préinscription »: returns the n° de dossier.
    pub async fn preinscrire(&self, p: &Preinscription) -> Result<String, Erreur> {
        let r = self
            .http
            .post(self.url("/preinscriptions"))
            .json(p)
            .send()
            .await?;
        Ok(json::<Numero>(r, StatusCode::CREATED).await?.numero)
    }

    /// « Connexion » with the n° de dossier and the password.
    pub async fn connecter(&self, numero: &str, mot_de_passe: &str) -> Result<Session, Erreur> {
        let corps = serde_json::json!({ "numero": numero, "mot_de_passe": mot_de_passe });
        let r = self
            .http
            .post(self.url("/connexion"))
            .json(&corps)
            .send()
            .await?;
        let c: Connexion = json(r, StatusCode::OK).await?;
        Ok(Session {
            client: self.clone(),
            jeton: c.jeton,
            expire_le: c.expire_le,
        })
    }

    /// A session opened earlier — before a restart of the server, or on another instance
    /// of it — from its token. Its expiry is not known here (`expire_le` is empty); a dead
    /// token answers `non_authentifie` on its first call.
    pub fn reprendre(&self, jeton: impl Into<String>) -> Session {
        Session {
            client: self.clone(),
            jeton: jeton.into(),
            expire_le: String::new(),
        }
    }

    /// The published récépissé keys (`GET /recepisse/cles`), as JSON.
    pub async fn cles(&self) -> Result<Value, Erreur> {
        json(
            self.http.get(self.url("/recepisse/cles")).send().await?,
            StatusCode::OK,
        )
        .await
    }
}

/// A logged-in candidate: every call carries the session's token.
#[derive(Clone)]
pub struct Session {
    client: Client,
    jeton: String,
    expire_le: String,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("expire_le", &self.expire_le)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// When the session expires if unused (RFC 3339, Paris offset).
    pub fn expire_le(&self) -> &str {
        &self.expire_le
    }

    /// The bearer token, for a call this client does not cover.
    pub fn jeton(&self) -> &str {
        &self.jeton
    }

    fn get(&self, chemin: &str) -> reqwest::RequestBuilder {
        self.client
            .http
            .get(self.client.url(chemin))
            .bearer_auth(&self.jeton)
    }

    fn post(&self, chemin: &str) -> reqwest::RequestBuilder {
        self.client
            .http
            .post(self.client.url(chemin))
            .bearer_auth(&self.jeton)
    }

    /// The dossier view.
    pub async fn dossier(&self) -> Result<Dossier, Erreur> {
        json(self.get("/dossier").send().await?, StatusCode::OK).await
    }

    /// « Ajouter le fichier » for a piece: returns the recorded file (« Fichier
    /// enregistré »). The content type is taken from the name's extension; the server
    /// decides by content anyway.
    pub async fn deposer(
        &self,
        piece: &str,
        nom: &str,
        octets: impl Into<Bytes>,
    ) -> Result<Fichier, Erreur> {
        let octets: Bytes = octets.into();
        let mime = if nom.to_ascii_lowercase().ends_with(".pdf") {
            "application/pdf"
        } else if [".jpg", ".jpeg", ".jpe", ".jfif"]
            .iter()
            .any(|e| nom.to_ascii_lowercase().ends_with(e))
        {
            "image/jpeg"
        } else {
            "application/octet-stream"
        };
        let partie = reqwest::multipart::Part::stream_with_length(
            reqwest::Body::from(octets.clone()),
            octets.len() as u64,
        )
        .file_name(nom.to_owned())
        .mime_str(mime)?;
        let form = reqwest::multipart::Form::new().part("fichier", partie);
        let r = self
            .post(&format!("/dossier/pieces/{}", segment(piece)))
            .multipart(form)
            .send()
            .await?;
        Ok(json::<Depot>(r, StatusCode::CREATED).await?.fichier)
    }

    /// « Voir » (the eye): the file's bytes.
    pub async fn voir(&self, id: &str) -> Result<Bytes, Erreur> {
        let r = self
            .get(&format!("/dossier/fichiers/{}", segment(id)))
            .send()
            .await?;
        if r.status() == StatusCode::OK {
            Ok(r.bytes().await?)
        } else {
            Err(erreur(r).await)
        }
    }

    /// « Supprimer » (the bin).
    pub async fn supprimer(&self, id: &str) -> Result<(), Erreur> {
        let r = self
            .client
            .http
            .delete(
                self.client
                    .url(&format!("/dossier/fichiers/{}", segment(id))),
            )
            .bearer_auth(&self.jeton)
            .send()
            .await?;
        vide(r).await
    }

    /// « Clôturer mon inscription ».
    pub async fn cloturer(&self) -> Result<Cloture, Erreur> {
        json(self.post("/dossier/cloture").send().await?, StatusCode::OK).await
    }

    /// The signed récépissé, byte for byte as served (to verify its signature).
    pub async fn recepisse(&self) -> Result<Bytes, Erreur> {
        let r = self.get("/dossier/recepisse").send().await?;
        if r.status() == StatusCode::OK {
            Ok(r.bytes().await?)
        } else {
            Err(erreur(r).await)
        }
    }

    /// « Déconnexion »: the token stops working.
    pub async fn deconnecter(self) -> Result<(), Erreur> {
        vide(self.post("/deconnexion").send().await?).await
    }
}

/// An id or code as one URL path segment: only the characters ids and codes are made of
/// pass; anything else is percent-encoded, so a value can never change the route.
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn erreur(r: reqwest::Response) -> Erreur {
    let statut = r.status().as_u16();
    let reessayer_apres = r
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let corps: Value = match r.bytes().await {
        Ok(o) => serde_json::from_slice(&o).unwrap_or(Value::Null),
        Err(e) => return Erreur::Transport(e),
    };
    match (corps["code"].as_str(), corps["message"].as_str()) {
        (Some(code), Some(message)) => Erreur::Api {
            statut,
            code: code.to_owned(),
            message: message.to_owned(),
            reessayer_apres,
            corps,
        },
        _ => Erreur::Reponse {
            statut,
            detail: "réponse d'erreur sans code ni message".to_owned(),
        },
    }
}

async fn json<T: DeserializeOwned>(r: reqwest::Response, attendu: StatusCode) -> Result<T, Erreur> {
    let statut = r.status();
    if statut != attendu {
        return Err(erreur(r).await);
    }
    let octets = r.bytes().await?;
    serde_json::from_slice(&octets).map_err(|e| Erreur::Reponse {
        statut: statut.as_u16(),
        detail: e.to_string(),
    })
}

async fn vide(r: reqwest::Response) -> Result<(), Erreur> {
    if r.status() == StatusCode::NO_CONTENT {
        Ok(())
    } else {
        Err(erreur(r).await)
    }
}

#[cfg(test)]
mod tests {
    use super::segment;

    #[test]
    fn un_identifiant_ne_change_jamais_la_route() {
        assert_eq!(segment("piece-identite"), "piece-identite");
        assert_eq!(segment("../cloture"), "%2E%2E%2Fcloture");
        assert_eq!(segment("a b?c"), "a%20b%3Fc");
    }
}
