//! # depot-clamav — the [`Antivirus`] port on clamd
//!
//! Each upload opens a connection to clamd and sends its chunks as they arrive with the
//! `INSTREAM` command (`zINSTREAM\0`, then each chunk prefixed by its length as a 4-byte
//! big-endian integer, then a zero length); clamd answers `stream: OK`, `stream: <signature>
//! FOUND`, or an error. The connection is the only state: memory stays bounded whatever the
//! file's size (one chunk in flight), and a file never touches clamd's disk.
//!
//! Addresses: `tcp://127.0.0.1:3310` or `unix:///run/clamav/clamd.ctl`. Every operation
//! (connecting, each write, the verdict) must finish within the configured delay (default
//! 30 s); otherwise the scan is [`Indisponible`] and depot records the file pending, to scan
//! it again later — an infrastructure fault never costs a candidate their registration.
//!
//! clamd refuses a stream longer than its `StreamMaxLength` (25 MB by default) by closing
//! the connection: set it at least to the largest piece a concours accepts, or those files
//! stay pending. Its `MaxFileSize` and `MaxScanSize` bound what it scans inside a file.
//!
//! A small module rather than a crate from crates.io: the protocol is a few lines of
//! framing, and owning it lets every wait carry the same deadline.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use depot_core::antivirus::{AnalyseEnCours, Antivirus, Indisponible, Moteur, Verdict};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest answer read from clamd (a signature name is short).
const REPONSE_MAX: usize = 4096;
/// Largest chunk sent in one frame (clamd reads frames of any size up to its limit; this
/// keeps each write bounded).
const TRAME_MAX: usize = 1024 * 1024;

/// Where clamd listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adresse {
    /// `host:port`.
    Tcp(String),
    /// A Unix socket.
    Unix(PathBuf),
}

/// The antivirus address is not one depot understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "adresse d'antivirus « {0} » : attendu tcp://HÔTE:PORT ou unix:///chemin/du/socket (clamd)"
)]
pub struct AdresseInvalide(pub String);

impl Adresse {
    /// `tcp://host:port` or `unix:///path`.
    pub fn parse(url: &str) -> Result<Self, AdresseInvalide> {
        if let Some(hote) = url.strip_prefix("tcp://") {
            let hote = hote.trim_end_matches('/');
            let port_valide = hote
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
            if port_valide {
                return Ok(Self::Tcp(hote.to_owned()));
            }
        } else if let Some(chemin) = url.strip_prefix("unix://")
            && chemin.starts_with('/')
        {
            return Ok(Self::Unix(PathBuf::from(chemin)));
        }
        Err(AdresseInvalide(url.to_owned()))
    }
}

impl std::fmt::Display for Adresse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Adresse::Tcp(h) => write!(f, "tcp://{h}"),
            Adresse::Unix(p) => write!(f, "unix://{}", p.display()),
        }
    }
}

trait Flux: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Flux for T {}

/// clamd, reached at an [`Adresse`].
#[derive(Debug, Clone)]
pub struct Clamd {
    adresse: Adresse,
    delai: Duration,
}

impl Clamd {
    /// clamd at `adresse`; each operation must finish within `delai`.
    pub fn new(adresse: Adresse, delai: Duration) -> Self {
        Self { adresse, delai }
    }

    /// Its address.
    pub fn adresse(&self) -> &Adresse {
        &self.adresse
    }

    async fn delai<T>(
        &self,
        quoi: &str,
        f: impl std::future::Future<Output = std::io::Result<T>>,
    ) -> Result<T, Indisponible> {
        match tokio::time::timeout(self.delai, f).await {
            Ok(Ok(x)) => Ok(x),
            Ok(Err(e)) => Err(Indisponible(format!(
                "clamd ({}) : {quoi} : {e}",
                self.adresse
            ))),
            Err(_) => Err(Indisponible(format!(
                "clamd ({}) : {quoi} : pas de réponse en {} s",
                self.adresse,
                self.delai.as_secs()
            ))),
        }
    }

    async fn connecter(&self) -> Result<Box<dyn Flux>, Indisponible> {
        let adresse = self.adresse.clone();
        self.delai("connexion", async move {
            Ok::<Box<dyn Flux>, std::io::Error>(match adresse {
                Adresse::Tcp(h) => Box::new(tokio::net::TcpStream::connect(h).await?),
                #[cfg(unix)]
                Adresse::Unix(p) => Box::new(tokio::net::UnixStream::connect(p).await?),
                #[cfg(not(unix))]
                Adresse::Unix(_) => {
                    return Err(std::io::Error::other("socket Unix indisponible ici"));
                }
            })
        })
        .await
    }

    /// Sends a `z` command and reads its NUL-terminated answer.
    async fn commande(&self, commande: &[u8]) -> Result<String, Indisponible> {
        let mut c = self.connecter().await?;
        self.delai("commande", c.write_all(commande)).await?;
        lire_reponse(self, &mut c).await
    }
}

/// Reads clamd's answer up to its NUL (or the connection's end).
async fn lire_reponse(clamd: &Clamd, c: &mut Box<dyn Flux>) -> Result<String, Indisponible> {
    clamd
        .delai("réponse", async {
            let mut r = Vec::new();
            let mut tampon = [0u8; 512];
            loop {
                let n = c.read(&mut tampon).await?;
                if n == 0 {
                    break;
                }
                r.extend_from_slice(&tampon[..n]);
                if r.contains(&0) || r.len() > REPONSE_MAX {
                    break;
                }
            }
            let fin = r.iter().position(|b| *b == 0).unwrap_or(r.len());
            Ok(String::from_utf8_lossy(&r[..fin]).trim().to_owned())
        })
        .await
}

/// clamd's answer to `INSTREAM`: `stream: OK`, `stream: <signature> FOUND`, or an error.
pub fn interpreter(reponse: &str) -> Result<Verdict, Indisponible> {
    let corps = reponse.strip_prefix("stream:").map(str::trim);
    match corps {
        Some("OK") => Ok(Verdict::Sain),
        Some(x) if x.ends_with(" FOUND") => Ok(Verdict::Infecte {
            signature: x.trim_end_matches(" FOUND").trim().to_owned(),
        }),
        _ => Err(Indisponible(format!("réponse de clamd : « {reponse} »"))),
    }
}

/// clamd's answer to `VERSION`: « ClamAV 1.4.6/27500/Mon Dec  1 09:00:00 2026 », or
/// « ClamAV 1.4.6 » without the official database.
pub fn version(reponse: &str) -> Moteur {
    let mut parties = reponse.splitn(3, '/');
    let nom = parties.next().unwrap_or_default().trim().to_owned();
    let base = match (parties.next(), parties.next()) {
        (Some(v), Some(date)) => Some(format!("{} ({})", v.trim(), date.trim())),
        (Some(v), None) => Some(v.trim().to_owned()),
        _ => None,
    };
    Moteur { nom, base }
}

struct ScanClamd {
    clamd: Clamd,
    connexion: Box<dyn Flux>,
}

#[async_trait]
impl AnalyseEnCours for ScanClamd {
    async fn nourrir(&mut self, morceau: Bytes) -> Result<(), Indisponible> {
        for trame in morceau.chunks(TRAME_MAX) {
            let longueur = u32::try_from(trame.len()).unwrap_or(u32::MAX).to_be_bytes();
            let c = &mut self.connexion;
            self.clamd
                .delai("envoi", async {
                    c.write_all(&longueur).await?;
                    c.write_all(trame).await
                })
                .await?;
        }
        Ok(())
    }

    async fn verdict(mut self: Box<Self>) -> Result<Verdict, Indisponible> {
        let c = &mut self.connexion;
        self.clamd
            .delai("fin d'envoi", async {
                c.write_all(&0u32.to_be_bytes()).await?;
                c.flush().await
            })
            .await?;
        let r = lire_reponse(&self.clamd, &mut self.connexion).await?;
        interpreter(&r)
    }
}

#[async_trait]
impl Antivirus for Clamd {
    async fn ouvrir(&self) -> Result<Box<dyn AnalyseEnCours>, Indisponible> {
        let mut connexion = self.connecter().await?;
        self.delai("INSTREAM", connexion.write_all(b"zINSTREAM\0"))
            .await?;
        Ok(Box::new(ScanClamd {
            clamd: self.clone(),
            connexion,
        }))
    }

    async fn moteur(&self) -> Result<Moteur, Indisponible> {
        let r = self.commande(b"zVERSION\0").await?;
        if !r.starts_with("ClamAV") {
            return Err(Indisponible(format!("réponse de clamd : « {r} »")));
        }
        Ok(version(&r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adresses() {
        assert_eq!(
            Adresse::parse("tcp://127.0.0.1:3310").unwrap(),
            Adresse::Tcp("127.0.0.1:3310".into())
        );
        assert_eq!(
            Adresse::parse("unix:///run/clamav/clamd.ctl").unwrap(),
            Adresse::Unix("/run/clamav/clamd.ctl".into())
        );
        for mauvaise in [
            "",
            "127.0.0.1:3310",
            "tcp://127.0.0.1",
            "tcp://:3310",
            "tcp://h:0",
            "tcp://h:99999",
            "unix://relatif",
            "http://h:1",
        ] {
            assert!(Adresse::parse(mauvaise).is_err(), "{mauvaise}");
        }
    }

    #[test]
    fn reponses() {
        assert_eq!(interpreter("stream: OK").unwrap(), Verdict::Sain);
        assert_eq!(
            interpreter("stream: Win.Test.EICAR_HDB-1 FOUND").unwrap(),
            Verdict::Infecte {
                signature: "Win.Test.EICAR_HDB-1".into()
            }
        );
        assert!(interpreter("INSTREAM size limit exceeded. ERROR").is_err());
        assert!(interpreter("").is_err());
        assert_eq!(
            version("ClamAV 1.4.6/27500/Mon Dec  1 09:00:00 2026"),
            Moteur {
                nom: "ClamAV 1.4.6".into(),
                base: Some("27500 (Mon Dec  1 09:00:00 2026)".into())
            }
        );
        assert_eq!(version("ClamAV 1.4.6").base, None);
    }
}
