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
/// Dossiers whose messages a round sends while the server is busy (one round every two
/// seconds: 8 per second at most).
pub(crate) const PAR_TOUR_OCCUPE: usize = 16;
/// The longest the full round (every dossier read) waits for a calm moment.
pub(crate) const REPORT_MAX: Duration = Duration::from_secs(300);

/// The mail worker: every two seconds, what this instance queued; every `intervalle_s`
/// (and at start, which sends what a crash left), every dossier's reminders and messages.
///
/// While the server answers [`OCCUPE`] requests or more (the deadline rush), it steps
/// aside: a round sends the messages of [`PAR_TOUR_OCCUPE`] dossiers at most, and the full
/// round waits, for [`REPORT_MAX`] at most. Each message costs two durable record writes
/// and a rendering, which the candidates closing their dossier at that minute would wait
/// behind (README, Performance).
pub(crate) async fn facteur(
    espace: Arc<Espace>,
    intervalle_s: u64,
    activite: depot_http::Activite,
) {
    let mut rapide = tokio::time::interval(Duration::from_secs(2));
    let mut complet = tokio::time::interval(Duration::from_secs(intervalle_s.max(1)));
    let mut retenue = Retenue::default();
    let mut complet_du = false;
    loop {
        tokio::select! {
            _ = complet.tick() => complet_du = true,
            _ = rapide.tick() => {}
        };
        let occupe = activite.en_cours() >= OCCUPE;
        let bilan = if complet_du && !retenue.attendre(occupe, std::time::Instant::now()) {
            complet_du = false;
            espace.distribuer_courriels().await
        } else if occupe {
            espace
                .distribuer_courriels_recents_au_plus(PAR_TOUR_OCCUPE)
                .await
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

/// How long the full round has waited for a calm moment.
#[derive(Debug, Default)]
struct Retenue {
    depuis: Option<std::time::Instant>,
}

impl Retenue {
    /// Whether the full round waits, the server being `occupe` at `maintenant`.
    fn attendre(&mut self, occupe: bool, maintenant: std::time::Instant) -> bool {
        if !occupe {
            self.depuis = None;
            return false;
        }
        let depuis = *self.depuis.get_or_insert(maintenant);
        if maintenant.duration_since(depuis) < REPORT_MAX {
            return true;
        }
        // Run now; the next wait starts afresh.
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
    fn la_tournee_complete_attend_le_calme_cinq_minutes_au_plus() {
        let t0 = Instant::now();
        let s = |n| t0 + Duration::from_secs(n);
        let mut r = Retenue::default();
        assert!(!r.attendre(false, t0), "calm: runs");
        assert!(r.attendre(true, t0), "busy: waits");
        assert!(r.attendre(true, s(299)));
        assert!(!r.attendre(true, s(300)), "after 5 min busy: runs anyway");
        assert!(r.attendre(true, s(302)), "then waits again");
        assert!(!r.attendre(false, s(303)), "calm again: runs");
        assert!(r.attendre(true, s(304)));
        assert!(r.attendre(true, s(603)), "a new wait of its own");
        assert!(!r.attendre(true, s(604)));
    }
}
