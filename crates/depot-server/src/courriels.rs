//! E-mail: the options, the transport they choose, the worker that sends, the subcommands.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use depot_core::Espace;
use depot_core::courriel::{Courrier, Messagerie};
use depot_courriel::{Expediteur, Repertoire, Smtp};
use secrecy::SecretString;

use crate::ErreurServeur;

/// E-mail settings.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct OptionsCourriel {
    /// SMTP server: smtp://host:port (no TLS), smtp+starttls://user@host:587 or
    /// smtps://user@host:465 (or DEPOT_SMTP_URL); its password from DEPOT_SMTP_MOT_DE_PASSE
    /// or --smtp-mot-de-passe-fichier, never from the URL. Without it, every message is
    /// written as an .eml file under <data>/courriels/.
    #[arg(long, value_name = "URL")]
    smtp: Option<String>,
    /// A file holding the SMTP password.
    #[arg(long, value_name = "FICHIER")]
    smtp_mot_de_passe_fichier: Option<PathBuf>,
    /// The sender: « CDG de la Mayenne <concours@exemple.fr> »; without a name, the
    /// concours' organiser is the sender's name.
    #[arg(
        long,
        value_name = "ADRESSE",
        default_value = "ne-pas-repondre@depot.invalid"
    )]
    expediteur: String,
    /// The espace's public address, for the links in messages
    /// (https://concours.cdg-exemple.fr); default: the address the server listens on.
    #[arg(long, value_name = "URL")]
    url_publique: Option<String>,
}

impl OptionsCourriel {
    /// The transport and the public address these options choose; says which on stdout.
    pub(crate) fn courrier(
        &self,
        data: &Path,
        url_defaut: &str,
    ) -> Result<Courrier, ErreurServeur> {
        let expediteur = Expediteur::parse(&self.expediteur)?;
        let url = self
            .smtp
            .clone()
            .or_else(|| std::env::var("DEPOT_SMTP_URL").ok())
            .filter(|u| !u.trim().is_empty());
        let messagerie: Arc<dyn Messagerie> = match url {
            Some(url) => {
                let mot_de_passe = match &self.smtp_mot_de_passe_fichier {
                    Some(f) => Some(
                        std::fs::read_to_string(f)
                            .map_err(ErreurServeur::lecture(f))?
                            .trim_end_matches(['\n', '\r'])
                            .to_owned(),
                    ),
                    None => std::env::var("DEPOT_SMTP_MOT_DE_PASSE").ok(),
                }
                .map(SecretString::from);
                let smtp = Smtp::depuis_url(&url, mot_de_passe, expediteur)?;
                println!("courriels : envoyés par {}", smtp.description());
                Arc::new(smtp)
            }
            None => {
                let r = Repertoire::new(&data.join("courriels"), expediteur)?;
                println!(
                    "courriels : aucun serveur SMTP (--smtp) : chaque courriel est écrit dans {}",
                    r.dir().display()
                );
                Arc::new(r)
            }
        };
        Ok(Courrier {
            messagerie,
            url_publique: self
                .url_publique
                .clone()
                .unwrap_or_else(|| url_defaut.to_owned())
                .trim_end_matches('/')
                .to_owned(),
        })
    }
}

/// Requests in progress from which the mail worker steps aside.
pub(crate) const OCCUPE: usize = 16;
/// The longest the worker steps aside: what was queued leaves at most this late (plus a
/// round) however busy the server stays.
pub(crate) const REPORT_MAX: Duration = Duration::from_secs(30);

/// The mail worker: every two seconds, what this instance queued; every `intervalle_s`
/// (and at start, which sends what a crash left), every dossier's reminders and messages.
///
/// While the server answers [`OCCUPE`] requests or more (the deadline rush), a round waits,
/// for [`REPORT_MAX`] at most: each message costs two durable record writes and a
/// rendering, which the candidates closing their dossier at that minute would wait behind
/// (measured: closure p99 48–63 ms with the worker sending during the rush, 41 ms without;
/// README, Performance).
pub(crate) async fn facteur(
    espace: Arc<Espace>,
    intervalle_s: u64,
    activite: depot_http::Activite,
) {
    let mut rapide = tokio::time::interval(Duration::from_secs(2));
    let mut complet = tokio::time::interval(Duration::from_secs(intervalle_s.max(1)));
    let mut retenue = Retenue::default();
    loop {
        let complete = tokio::select! {
            _ = complet.tick() => true,
            _ = rapide.tick() => false,
        };
        if retenue.attendre(activite.en_cours(), std::time::Instant::now()) {
            continue;
        }
        let bilan = if complete {
            espace.distribuer_courriels().await
        } else {
            espace.distribuer_courriels_recents().await
        };
        match bilan {
            Ok(b) if b == Default::default() => {}
            Ok(b) => {
                metrics::counter!("depot_courriels_envoyes_total").increment(b.envoyes.into());
                metrics::counter!("depot_courriels_abandonnes_total")
                    .increment(b.abandonnes.into());
                tracing::info!(
                    rappels = b.rappels,
                    envoyes = b.envoyes,
                    reportes = b.reportes,
                    abandonnes = b.abandonnes,
                    sans_objet = b.sans_objet,
                    dossiers_en_echec = b.dossiers_en_echec,
                    "courriels"
                );
            }
            Err(e) => tracing::warn!(erreur = %e, "tournée des courriels"),
        }
    }
}

/// When the worker steps aside: since when it has.
#[derive(Debug, Default)]
struct Retenue {
    depuis: Option<std::time::Instant>,
}

impl Retenue {
    /// Whether this round waits, with `en_cours` requests in progress at `maintenant`.
    fn attendre(&mut self, en_cours: usize, maintenant: std::time::Instant) -> bool {
        if en_cours < OCCUPE {
            self.depuis = None;
            return false;
        }
        let depuis = *self.depuis.get_or_insert(maintenant);
        if maintenant.duration_since(depuis) < REPORT_MAX {
            return true;
        }
        // Sent now; the next wait starts afresh.
        self.depuis = None;
        false
    }
}

/// `depot-server courriels rappels [--a-blanc]`.
pub(crate) async fn rappels(espace: &Espace, a_blanc: bool) -> Result<String, ErreurServeur> {
    if a_blanc {
        let dus = espace
            .rappels_dus()
            .await
            .map_err(ErreurServeur::Courriels)?;
        let mut t = format!("{} rappel(s) dû(s) maintenant :\n", dus.len());
        for (n, sorte) in dus {
            t.push_str(&format!(
                "  {n} : {}\n",
                serde_json::to_string(&sorte).unwrap_or_default()
            ));
        }
        return Ok(t.trim_end().to_owned());
    }
    let b = espace
        .distribuer_courriels()
        .await
        .map_err(ErreurServeur::Courriels)?;
    Ok(format!(
        "rappels programmés : {} ; courriels envoyés : {}, reportés : {}, abandonnés : {}, sans objet : {} ; dossiers en échec : {}",
        b.rappels, b.envoyes, b.reportes, b.abandonnes, b.sans_objet, b.dossiers_en_echec
    ))
}

/// `depot-server courriels apercu SORTE`.
pub(crate) async fn apercu(
    sorte: &str,
    config: Option<&Path>,
    options: &OptionsCourriel,
    mime: bool,
) -> Result<String, ErreurServeur> {
    let concours = match config {
        Some(f) => {
            let texte = std::fs::read_to_string(f).map_err(ErreurServeur::lecture(f))?;
            depot_core::Concours::from_toml(&texte).map_err(|source| ErreurServeur::Concours {
                chemin: f.to_owned(),
                source,
            })?
        }
        None => crate::concours_demo(
            depot_core::Clock::now(&depot_core::HorlogeSysteme)
                .with_timezone(&chrono_tz::Europe::Paris)
                .date_naive(),
        )?,
    };
    let url = options
        .url_publique
        .clone()
        .unwrap_or_else(|| "https://concours.cdg-exemple.fr".to_owned());
    let c = depot_core::courriel::apercu(&concours, sorte, &url)
        .await
        .map_err(ErreurServeur::Apercu)?;
    let expediteur = Expediteur::parse(&options.expediteur)?;
    let message =
        depot_courriel::mime(&c, &expediteur).map_err(|e| ErreurServeur::Apercu(e.to_string()))?;
    if mime {
        return Ok(String::from_utf8_lossy(&message.formatted()).into_owned());
    }
    let mut t = String::new();
    for nom in [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "Auto-Submitted",
    ] {
        if let Some(valeur) = message.headers().get_raw(nom) {
            t.push_str(&format!("{nom}: {valeur}\n"));
        }
    }
    for p in &c.pieces_jointes {
        t.push_str(&format!(
            "Pièce jointe: {} ({}, {} octets)\n",
            p.nom,
            p.type_mime,
            p.octets.len()
        ));
    }
    t.push('\n');
    t.push_str(&c.texte);
    Ok(t.trim_end().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn le_facteur_s_efface_pendant_l_affluence_trente_secondes_au_plus() {
        let t0 = Instant::now();
        let mut r = Retenue::default();
        assert!(!r.attendre(OCCUPE - 1, t0), "calm: sends");
        assert!(r.attendre(OCCUPE, t0), "busy: waits");
        assert!(r.attendre(64, t0 + Duration::from_secs(29)));
        assert!(
            !r.attendre(64, t0 + REPORT_MAX),
            "after 30 s busy: sends anyway"
        );
        assert!(
            r.attendre(64, t0 + Duration::from_secs(32)),
            "then waits again"
        );
        assert!(
            !r.attendre(0, t0 + Duration::from_secs(33)),
            "calm again: sends"
        );
        assert!(r.attendre(20, t0 + Duration::from_secs(34)));
        assert!(
            r.attendre(20, t0 + Duration::from_secs(63)),
            "a new wait of its own"
        );
        assert!(!r.attendre(20, t0 + Duration::from_secs(64)));
    }
}
