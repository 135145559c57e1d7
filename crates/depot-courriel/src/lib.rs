//! The [`Messagerie`] of depot: a rendered [`Courriel`] as a MIME message (lettre), handed
//! to an SMTP server ([`Smtp`]) or written as an `.eml` file ([`Repertoire`], the demo's
//! and developers' default).
//!
//! Every message: UTF-8, a `text/plain` and a `text/html` alternative, attachments beside
//! them, `Date`, `Message-ID` (the same on every try), `Auto-Submitted: auto-generated`
//! (RFC 3834: no vacation auto-reply comes back), the CDG as sender name. The SMTP password
//! is a [`SecretString`], never printed.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use depot_core::courriel::{Courriel, ErreurMessagerie, Messagerie};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

/// How long one SMTP exchange may take before it counts as a temporary failure.
pub const DELAI_SMTP: Duration = Duration::from_secs(30);

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ErreurConfiguration {
    /// The `--smtp` URL.
    #[error("adresse SMTP invalide « {url} » : {raison}")]
    Url {
        /// The URL, without its password.
        url: String,
        /// What is wrong.
        raison: String,
    },
    /// The `--expediteur` address.
    #[error(
        "expéditeur invalide « {0} » : attendu « Nom <adresse@exemple.fr> » ou « adresse@exemple.fr »"
    )]
    Expediteur(String),
    /// The directory of `.eml` files.
    #[error("répertoire des courriels {chemin} : {source}")]
    Repertoire {
        /// Which.
        chemin: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// `Auto-Submitted: auto-generated` (RFC 3834).
#[derive(Debug, Clone, Copy)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// The sender: `--expediteur "CDG de la Mayenne <concours@exemple.fr>"`.
#[derive(Debug, Clone)]
pub struct Expediteur(Mailbox);

impl Expediteur {
    /// Parses `Nom <adresse>` or a bare address.
    pub fn parse(texte: &str) -> Result<Self, ErreurConfiguration> {
        texte
            .trim()
            .parse::<Mailbox>()
            .map(Expediteur)
            .map_err(|_| ErreurConfiguration::Expediteur(texte.to_owned()))
    }

    /// The address alone.
    pub fn adresse(&self) -> String {
        self.0.email.to_string()
    }

    /// The mailbox for `courriel`: the given name, or the concours' organiser (the CDG).
    fn pour(&self, courriel: &Courriel) -> Mailbox {
        let nom = self
            .0
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| courriel.expediteur_nom.clone());
        Mailbox::new(Some(nom), self.0.email.clone())
    }
}

fn rejet(e: impl std::fmt::Display) -> ErreurMessagerie {
    ErreurMessagerie::Definitive(format!("message impossible à construire : {e}"))
}

/// The MIME message of `courriel` from `expediteur`.
pub fn mime(courriel: &Courriel, expediteur: &Expediteur) -> Result<Message, ErreurMessagerie> {
    let a = Mailbox::new(
        Some(courriel.a_nom.clone()),
        courriel.a.parse().map_err(|e| {
            ErreurMessagerie::Definitive(format!("adresse du destinataire refusée : {e}"))
        })?,
    );
    let constructeur = Message::builder()
        .from(expediteur.pour(courriel))
        .to(a)
        .subject(courriel.sujet.clone())
        .date(SystemTime::from(courriel.date))
        .message_id(Some(courriel.message_id.clone()))
        .header(AutoSubmitted);
    let corps = MultiPart::alternative_plain_html(courriel.texte.clone(), courriel.html.clone());
    let message = if courriel.pieces_jointes.is_empty() {
        constructeur.multipart(corps)
    } else {
        let mut mixte = MultiPart::mixed().multipart(corps);
        for p in &courriel.pieces_jointes {
            let type_ = ContentType::parse(p.type_mime).map_err(rejet)?;
            mixte = mixte.singlepart(Attachment::new(p.nom.clone()).body(p.octets.clone(), type_));
        }
        constructeur.multipart(mixte)
    };
    message.map_err(rejet)
}

/// How the server is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Securite {
    /// `smtp://`: no TLS (a relay on the same machine, tests).
    Aucune,
    /// `smtp+starttls://`: STARTTLS required (port 587 by default).
    StartTls,
    /// `smtps://`: TLS from the start (port 465 by default).
    Tls,
}

/// An SMTP server, from `--smtp URL`.
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    expediteur: Expediteur,
    /// For the start-up line: the URL without any password.
    description: String,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp")
            .field("serveur", &self.description)
            .finish_non_exhaustive()
    }
}

impl Smtp {
    /// `smtp://host:port`, `smtp+starttls://user@host:587`, `smtps://user@host:465`. The
    /// password is never in the URL (refused there): it comes as `mot_de_passe`.
    pub fn depuis_url(
        url: &str,
        mot_de_passe: Option<SecretString>,
        expediteur: Expediteur,
    ) -> Result<Self, ErreurConfiguration> {
        let erreur = |raison: &str| ErreurConfiguration::Url {
            url: url.split('@').next_back().unwrap_or_default().to_owned(),
            raison: raison.to_owned(),
        };
        let (schema, reste) = url
            .split_once("://")
            .ok_or_else(|| erreur("attendu smtp://, smtp+starttls:// ou smtps://"))?;
        let securite = match schema {
            "smtp" => Securite::Aucune,
            "smtp+starttls" => Securite::StartTls,
            "smtps" => Securite::Tls,
            _ => return Err(erreur("attendu smtp://, smtp+starttls:// ou smtps://")),
        };
        let autorite = reste.trim_end_matches('/');
        if autorite.contains(['/', '?', '#']) {
            return Err(erreur("ni chemin ni paramètre après l'hôte"));
        }
        let (utilisateur, hote_port) = match autorite.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, autorite),
        };
        if utilisateur.is_some_and(|u| u.contains(':')) {
            return Err(erreur(
                "le mot de passe ne s'écrit pas dans l'adresse : utilisez DEPOT_SMTP_MOT_DE_PASSE ou --smtp-mot-de-passe-fichier",
            ));
        }
        // `[::1]:25`, `host:25`, `host`.
        let (hote, port) = match hote_port.strip_prefix('[') {
            Some(v6) => {
                let (h, reste) = v6
                    .split_once(']')
                    .ok_or_else(|| erreur("crochet non fermé"))?;
                (h, reste.strip_prefix(':'))
            }
            None => match hote_port.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hote_port, None),
            },
        };
        let port = port
            .map(|p| p.parse::<u16>().map_err(|_| erreur("port invalide")))
            .transpose()?;
        if hote.is_empty() {
            return Err(erreur("hôte manquant"));
        }
        let mut b = match securite {
            Securite::Aucune => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(hote),
            Securite::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(hote)
                .map_err(|e| erreur(&e.to_string()))?,
            Securite::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(hote)
                .map_err(|e| erreur(&e.to_string()))?,
        };
        let port = port.unwrap_or(match securite {
            Securite::Aucune => 25,
            Securite::StartTls => 587,
            Securite::Tls => 465,
        });
        b = b.port(port).timeout(Some(DELAI_SMTP));
        match (utilisateur, mot_de_passe) {
            (Some(u), Some(m)) => {
                b = b.credentials(Credentials::new(u.to_owned(), m.expose_secret().to_owned()));
            }
            (Some(_), None) => {
                return Err(erreur(
                    "un utilisateur sans mot de passe : définissez DEPOT_SMTP_MOT_DE_PASSE",
                ));
            }
            (None, _) => {}
        }
        Ok(Self {
            transport: b.build(),
            expediteur,
            description: format!(
                "{schema}://{}{hote}:{port}",
                utilisateur.map(|u| format!("{u}@")).unwrap_or_default()
            ),
        })
    }

    /// The server, for the start-up line (never a password).
    pub fn description(&self) -> &str {
        &self.description
    }
}

#[async_trait]
impl Messagerie for Smtp {
    async fn envoyer(&self, courriel: &Courriel) -> Result<(), ErreurMessagerie> {
        let m = mime(courriel, &self.expediteur)?;
        match self.transport.send(m).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(ErreurMessagerie::Definitive(e.to_string())),
            Err(e) => Err(ErreurMessagerie::Temporaire(e.to_string())),
        }
    }
}

/// Messages written as `.eml` files in a directory (`<data>/courriels/`): what a newcomer
/// running the demo reads, in any mail client.
#[derive(Debug, Clone)]
pub struct Repertoire {
    dir: PathBuf,
    expediteur: Expediteur,
}

impl Repertoire {
    /// Writes into `dir` (created if needed).
    pub fn new(dir: &Path, expediteur: Expediteur) -> Result<Self, ErreurConfiguration> {
        std::fs::create_dir_all(dir).map_err(|source| ErreurConfiguration::Repertoire {
            chemin: dir.to_owned(),
            source,
        })?;
        Ok(Self {
            dir: dir.to_owned(),
            expediteur,
        })
    }

    /// Where the files go.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// The file name of a message: its date, kind and Message-ID's left part (random hex made
/// by the core; never a user's input).
fn nom_fichier(c: &Courriel) -> String {
    let id: String = c
        .message_id
        .trim_start_matches('<')
        .split('@')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(64)
        .collect();
    format!("{}-{}-{id}.eml", c.date.format("%Y%m%dT%H%M%SZ"), c.sorte)
}

#[async_trait]
impl Messagerie for Repertoire {
    async fn envoyer(&self, courriel: &Courriel) -> Result<(), ErreurMessagerie> {
        let octets = mime(courriel, &self.expediteur)?.formatted();
        let nom = nom_fichier(courriel);
        let final_ = self.dir.join(&nom);
        let tmp = self.dir.join(format!(".{nom}.tmp"));
        let ecrire = async {
            tokio::fs::write(&tmp, &octets).await?;
            tokio::fs::rename(&tmp, &final_).await
        };
        ecrire.await.map_err(|e| {
            ErreurMessagerie::Temporaire(format!("écriture de {} : {e}", final_.display()))
        })
    }
}
