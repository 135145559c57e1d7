//! The use cases of e-mail: queueing reminders, sending the outbox, getting back in.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{
    IssueCourriel, Messagerie, SorteCourriel, identifiant, nouveau_jeton, numero_du_jeton, rediger,
};
use crate::auth::MotDePasse;
use crate::config::Concours;
use crate::dossier::Dossier;
use crate::erreur::{ErreurEspace, Refus, StorageError};
use crate::ids::NumeroDossier;
use crate::service::Espace;
use crate::session::Sessions;

/// Where messages go, and the public address their links start with.
#[derive(Clone)]
pub struct Courrier {
    /// Sends them.
    pub messagerie: Arc<dyn Messagerie>,
    /// `https://concours.cdg-exemple.fr` (with a prefix if depot is mounted under one).
    pub url_publique: String,
}

impl std::fmt::Debug for Courrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Courrier")
            .field("url_publique", &self.url_publique)
            .finish_non_exhaustive()
    }
}

/// What a round of [`Espace::distribuer_courriels`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BilanDistribution {
    /// Reminders queued.
    pub rappels: u32,
    /// Messages handed to the mail server.
    pub envoyes: u32,
    /// Messages that failed and wait for another try.
    pub reportes: u32,
    /// Messages given up (journaled).
    pub abandonnes: u32,
    /// Messages dropped because they no longer applied.
    pub sans_objet: u32,
    /// Dossiers skipped for this round (storage failure): the next round tries again.
    pub dossiers_en_echec: u32,
}

impl BilanDistribution {
    fn ajouter(&mut self, autre: BilanDistribution) {
        self.rappels += autre.rappels;
        self.envoyes += autre.envoyes;
        self.reportes += autre.reportes;
        self.abandonnes += autre.abandonnes;
        self.sans_objet += autre.sans_objet;
        self.dossiers_en_echec += autre.dossiers_en_echec;
    }
}

fn meme_adresse(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

impl Espace {
    /// The mail settings, when the espace sends e-mail.
    pub fn courrier(&self) -> Option<&Courrier> {
        self.ports().courrier.as_ref()
    }

    /// Queues a message of kind `sorte` on `dossier` if the espace sends e-mail (called
    /// inside the compare-and-swap of the change that causes it).
    pub(crate) fn programmer(
        &self,
        dossier: &mut Dossier,
        sorte: SorteCourriel,
        now: chrono::DateTime<chrono::Utc>,
    ) {
        if self.courrier().is_some() {
            dossier.programmer_courriel(sorte, identifiant(self.hasard()), now);
            self.signaler(dossier.numero());
        }
    }

    /// One round of the mail worker over every dossier: queues the reminders due and sends
    /// every message due. Idempotent; several instances may run it at once (each message is
    /// reserved by one). A dossier that fails (storage) is skipped for this round.
    pub async fn distribuer_courriels(&self) -> Result<BilanDistribution, ErreurEspace> {
        let Some(courrier) = self.courrier().cloned() else {
            return Ok(BilanDistribution::default());
        };
        let mut bilan = BilanDistribution::default();
        for n in self.ports().dossiers.list().await? {
            match self.distribuer_dossier(&courrier, &n, true).await {
                Ok(b) => bilan.ajouter(b),
                Err(ErreurEspace::Stockage(StorageError::NotFound(_))) => {}
                Err(_) => bilan.dossiers_en_echec += 1,
            }
        }
        Ok(bilan)
    }

    /// Sends what this instance queued since the last call (a closure's accusé de
    /// réception leaves within seconds, without waiting for the next full round).
    pub async fn distribuer_courriels_recents(&self) -> Result<BilanDistribution, ErreurEspace> {
        self.distribuer_courriels_recents_au_plus(usize::MAX).await
    }

    /// [`distribuer_courriels_recents`](Self::distribuer_courriels_recents) for at most
    /// `max` dossiers; the others stay for the next call (a worker that must not compete
    /// with the requests of a rush sends a few at a time).
    pub async fn distribuer_courriels_recents_au_plus(
        &self,
        max: usize,
    ) -> Result<BilanDistribution, ErreurEspace> {
        let Some(courrier) = self.courrier().cloned() else {
            return Ok(BilanDistribution::default());
        };
        let numeros: Vec<NumeroDossier> = {
            let mut recents = self.recents();
            if recents.len() <= max {
                std::mem::take(&mut *recents).into_iter().collect()
            } else {
                let pris: Vec<_> = recents.iter().take(max).cloned().collect();
                for n in &pris {
                    recents.remove(n);
                }
                pris
            }
        };
        let mut bilan = BilanDistribution::default();
        for n in numeros {
            match self.distribuer_dossier(&courrier, &n, false).await {
                Ok(b) => bilan.ajouter(b),
                Err(ErreurEspace::Stockage(StorageError::NotFound(_))) => {}
                Err(_) => bilan.dossiers_en_echec += 1,
            }
        }
        Ok(bilan)
    }

    /// The reminders due now, dossier by dossier, without queueing them (`--a-blanc`).
    pub async fn rappels_dus(&self) -> Result<Vec<(NumeroDossier, SorteCourriel)>, ErreurEspace> {
        let now = self.maintenant();
        let mut dus = Vec::new();
        for n in self.ports().dossiers.list().await? {
            let c = match self.consulter(&n).await {
                Ok(c) => c,
                Err(ErreurEspace::Stockage(StorageError::NotFound(_))) => continue,
                Err(e) => return Err(e),
            };
            if let Some((_, sorte)) = c.dossier.rappel_du(&c.concours, now) {
                dus.push((n, sorte));
            }
        }
        dus.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(dus)
    }

    async fn distribuer_dossier(
        &self,
        courrier: &Courrier,
        numero: &NumeroDossier,
        rappels: bool,
    ) -> Result<BilanDistribution, ErreurEspace> {
        let mut bilan = BilanDistribution::default();
        let c = self.consulter(numero).await?;
        let now = self.maintenant();
        if rappels && c.dossier.rappel_du(&c.concours, now).is_some() {
            let programme = self
                .modifier(numero, |d, concours, now| {
                    Ok::<_, Refus>(d.programmer_rappel(concours, identifiant(self.hasard()), now))
                })
                .await
                .map_err(ErreurEspace::from)?;
            if programme {
                bilan.rappels += 1;
            }
        }
        // Read again only if a reminder was queued: its id is needed.
        let dossier = if bilan.rappels > 0 {
            self.consulter(numero).await?.dossier
        } else {
            c.dossier
        };
        let ids: Vec<String> = dossier
            .courriels()
            .iter()
            .filter(|e| e.a_envoyer(now))
            .map(|e| e.id.clone())
            .collect();
        for id in ids {
            let reserve = self
                .modifier(numero, |d, _, now| {
                    Ok::<_, Refus>(
                        d.reserver_courriel(&id, self.instance(), now)
                            .map(|e| (e, d.clone())),
                    )
                })
                .await
                .map_err(ErreurEspace::from)?;
            // Sent, or taken by another instance, meanwhile.
            let Some((entree, dossier)) = reserve else {
                continue;
            };
            let now = self.maintenant();
            let Some(message) =
                rediger(&entree, &dossier, &c.concours, &courrier.url_publique, now)
            else {
                self.modifier(numero, |d, _, _| {
                    d.courriel_sans_objet(&id);
                    Ok::<_, Refus>(())
                })
                .await
                .map_err(ErreurEspace::from)?;
                bilan.sans_objet += 1;
                continue;
            };
            let envoi = courrier.messagerie.envoyer(&message).await;
            let abandonne = self
                .modifier(numero, |d, _, now| {
                    match &envoi {
                        Ok(()) => {
                            d.courriel_termine(&id, &message.message_id, IssueCourriel::Envoye, now)
                        }
                        Err(e) => d.courriel_echoue(&id, &message.message_id, e, now),
                    }
                    Ok::<_, Refus>(d.courriels().iter().all(|e| e.id != id))
                })
                .await
                .map_err(ErreurEspace::from)?;
            match (&envoi, abandonne) {
                (Ok(()), _) => bilan.envoyes += 1,
                (Err(_), true) => bilan.abandonnes += 1,
                (Err(_), false) => bilan.reportes += 1,
            }
        }
        Ok(bilan)
    }

    /// « Mot de passe oublié »: when `numero` names a dossier registered with `email`, a
    /// reset link is queued (voiding an earlier one). Says nothing to the caller about the
    /// match on purpose; returns it for tests. Nothing is done when the espace sends no
    /// e-mail.
    pub async fn demander_reinitialisation(
        &self,
        numero: &str,
        email: &str,
    ) -> Result<bool, ErreurEspace> {
        if self.courrier().is_none() {
            return Ok(false);
        }
        let Ok(numero) = NumeroDossier::parse(numero.trim()) else {
            return Ok(false);
        };
        match self.ports().dossiers.load(&numero).await {
            Ok(v) if meme_adresse(v.valeur.identite().email(), email) => {}
            Ok(_) | Err(StorageError::NotFound(_)) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        self.modifier(&numero, |d, _, now| {
            if !meme_adresse(d.identite().email(), email) {
                return Ok::<_, Refus>(false);
            }
            let jeton = nouveau_jeton(d.numero(), self.hasard());
            d.demander_reinitialisation(jeton, identifiant(self.hasard()), now);
            self.signaler(d.numero());
            Ok(true)
        })
        .await
        .map_err(ErreurEspace::from)
    }

    /// « Choisir un nouveau mot de passe » from a reset link: the token must be valid (the
    /// latest requested, unexpired, unused) and the password meet the pré-inscription
    /// policy. The token is spent, the password replaced, and every session of the dossier
    /// ends. Returns the dossier's n°.
    pub async fn reinitialiser_mot_de_passe(
        &self,
        jeton: &str,
        mot_de_passe: &MotDePasse,
    ) -> Result<NumeroDossier, ErreurEspace> {
        let numero = numero_du_jeton(jeton).ok_or(Refus::JetonInvalide)?;
        let c = match self.consulter(&numero).await {
            Ok(c) => c,
            Err(ErreurEspace::Stockage(StorageError::NotFound(_))) => {
                return Err(Refus::JetonInvalide.into());
            }
            Err(e) => return Err(e),
        };
        let now = self.maintenant();
        // A dead link says so before the password is judged.
        let mut essai = c.dossier.clone();
        essai.reinitialiser(jeton, now)?;
        let id = c.dossier.identite();
        mot_de_passe.verifier_politique(&[
            id.nom(),
            id.prenom(),
            id.email(),
            &c.concours.intitule,
        ])?;
        let hash = self.ports().hacheur.hacher(mot_de_passe).await?;
        self.modifier(&numero, |d, _, now| d.reinitialiser(jeton, now))
            .await
            .map_err(ErreurEspace::from)?;
        self.ports().identifiants.definir(&numero, &hash).await?;
        Sessions::<NumeroDossier>::new(self.ports().sessions.clone())
            .fermer_toutes(&numero)
            .await?;
        Ok(numero)
    }

    /// « N° de dossier oublié »: queues, on the latest dossier registered with `email`, a
    /// message listing every dossier registered with it. Returns how many (for tests).
    /// Reads every dossier: it runs off the request's path.
    pub async fn rappeler_numeros(&self, email: &str) -> Result<usize, ErreurEspace> {
        if self.courrier().is_none() {
            return Ok(0);
        }
        let mut trouves: Vec<(chrono::DateTime<chrono::Utc>, NumeroDossier, String)> = Vec::new();
        for n in self.ports().dossiers.list().await? {
            let c = match self.consulter(&n).await {
                Ok(c) => c,
                Err(ErreurEspace::Stockage(StorageError::NotFound(_))) => continue,
                Err(e) => return Err(e),
            };
            if meme_adresse(c.dossier.identite().email(), email) {
                trouves.push((
                    c.dossier.cree_le(),
                    n,
                    format!(
                        "« {} », session {}",
                        c.concours.intitule, c.concours.session
                    ),
                ));
            }
        }
        trouves.sort();
        let Some((_, dernier, _)) = trouves.last().cloned() else {
            return Ok(0);
        };
        let dossiers: Vec<(NumeroDossier, String)> =
            trouves.into_iter().map(|(_, n, t)| (n, t)).collect();
        let combien = dossiers.len();
        self.modifier(&dernier, |d, _, now| {
            // One list waiting is enough: a newer request replaces it.
            let avant: BTreeSet<String> = d
                .courriels()
                .iter()
                .filter(|e| {
                    matches!(e.sorte, SorteCourriel::Numeros { .. }) && e.reservation.is_none()
                })
                .map(|e| e.id.clone())
                .collect();
            for id in &avant {
                d.courriel_sans_objet(id);
            }
            d.programmer_courriel(
                SorteCourriel::Numeros {
                    dossiers: dossiers.clone(),
                },
                identifiant(self.hasard()),
                now,
            );
            self.signaler(d.numero());
            Ok::<_, Refus>(())
        })
        .await
        .map_err(ErreurEspace::from)?;
        Ok(combien)
    }
}

/// See [`super::redaction::apercu`].
/// The marker the preview's in-memory antivirus finds.
const MARQUEUR_APERCU: &[u8] = b"APERCU-MARQUEUR-VIRAL";

pub(super) async fn apercu(
    concours: &Concours,
    code: &str,
    url_publique: &str,
) -> Result<super::Courriel, String> {
    use crate::calendrier::DateLimite;
    use crate::config::Voie;
    use crate::instruction::{Decision, Gestionnaire, Role};
    use crate::ports::{Clock, HorlogeFixe};
    use crate::service::{DemandePreinscription, Ports};

    /// Keeps what it is given, for the preview.
    #[derive(Default)]
    struct Garde(std::sync::Mutex<Vec<super::Courriel>>);
    #[async_trait::async_trait]
    impl Messagerie for Garde {
        async fn envoyer(&self, c: &super::Courriel) -> Result<(), super::ErreurMessagerie> {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(c.clone());
            Ok(())
        }
    }
    let e = |x: ErreurEspace| x.to_string();
    let cal = &concours.calendrier;
    let debut = cal.preinscription_ouverture;
    let horloge = Arc::new(HorlogeFixe::new(debut));
    let garde = Arc::new(Garde::default());
    let mut ports = Ports::en_memoire().avec_horloge(horloge.clone());
    ports.courrier = Some(Courrier {
        messagerie: garde.clone(),
        url_publique: url_publique.to_owned(),
    });
    // The quarantine message needs a file found infected after it was recorded.
    let marqueur =
        crate::antivirus::AntivirusMarqueur::new(MARQUEUR_APERCU, "Apercu.Test.Marqueur");
    if code == "fichier_infecte" {
        ports.antivirus = Some(Arc::new(marqueur.clone()));
    }
    let espace = Espace::new(vec![concours.clone()], ports).map_err(|x| x.to_string())?;
    // The deferred pieces' reminder needs a voie that has some.
    let voie = concours
        .voies
        .iter()
        .copied()
        .find(|v| {
            code != "pieces_differees"
                || concours.pieces.iter().any(|p| {
                    p.exigence == crate::config::Exigence::Differable && p.voies.contains(v)
                })
        })
        .unwrap_or(Voie::Externe);
    let numero = espace
        .preinscrire(
            Some(concours.code.as_str()),
            DemandePreinscription {
                voie,
                nom: "Durand".into(),
                prenom: "Camille".into(),
                email: "camille.durand@exemple.fr".into(),
                declarations: Vec::new(),
                mot_de_passe: MotDePasse::from("lune verte sur le toit de Laval"),
            },
        )
        .await
        .map_err(e)?;
    let vider = || std::mem::take(&mut *garde.0.lock().unwrap_or_else(|p| p.into_inner()));
    let sortie = |mut v: Vec<super::Courriel>| {
        v.pop()
            .ok_or_else(|| format!("aucun courriel « {code} » dans cet exemple"))
    };
    espace.distribuer_courriels().await.map_err(e)?;
    let preinscription = vider();
    let limite = espace
        .consulter(&numero)
        .await
        .map_err(e)?
        .dossier
        .limite_depot(concours);
    let a_midi = |jours: u64| super::midi_avant(limite.dernier_jour(), jours).unwrap_or(debut);
    match code {
        "preinscription" => return sortie(preinscription),
        "rappel" => {
            horloge.regler(a_midi(1));
            espace.distribuer_courriels().await.map_err(e)?;
            return sortie(vider());
        }
        "mot_de_passe" => {
            espace
                .demander_reinitialisation(numero.as_str(), "camille.durand@exemple.fr")
                .await
                .map_err(e)?;
            espace.distribuer_courriels().await.map_err(e)?;
            return sortie(vider());
        }
        "numeros" => {
            espace
                .rappeler_numeros("camille.durand@exemple.fr")
                .await
                .map_err(e)?;
            espace.distribuer_courriels().await.map_err(e)?;
            return sortie(vider());
        }
        "fichier_infecte" => {
            // Uploaded while the antivirus was down, found infected on the rescan.
            let dossier = espace.consulter(&numero).await.map_err(e)?.dossier;
            let p = dossier
                .pieces(concours)
                .find(|p| p.formats.contains(&crate::format::Format::Pdf))
                .ok_or("aucune pièce PDF dans ce concours")?;
            let mut pdf = crate::exemples::pdf_minimal();
            pdf.extend_from_slice(b"%");
            pdf.extend_from_slice(MARQUEUR_APERCU);
            pdf.extend_from_slice(b"\n");
            marqueur.rendre_disponible(false);
            espace
                .deposer(&numero, p.code.as_str(), "attestation.pdf", pdf.into())
                .await
                .map_err(e)?;
            marqueur.rendre_disponible(true);
            espace.analyser_en_attente().await.map_err(e)?;
            espace.distribuer_courriels().await.map_err(e)?;
            return sortie(vider());
        }
        "cloture" | "complements" | "rappel_complements" | "pieces_differees" => {}
        autre => {
            return Err(format!(
                "sorte de courriel inconnue : « {autre} » (connues : {})",
                super::SORTES.join(", ")
            ));
        }
    }
    // Every piece of the dossier gets an example file, but a deferred one when its
    // reminder is previewed.
    let dossier = espace.consulter(&numero).await.map_err(e)?.dossier;
    for p in dossier.pieces(concours) {
        if code == "pieces_differees" && p.exigence == crate::config::Exigence::Differable {
            continue;
        }
        let contenu = if p.formats.contains(&crate::format::Format::Pdf) {
            crate::exemples::pdf_minimal()
        } else {
            crate::exemples::jpeg_minimal()
        };
        espace
            .deposer(&numero, p.code.as_str(), "exemple.pdf", contenu.into())
            .await
            .map_err(e)?;
    }
    espace.cloturer(&numero).await.map_err(e)?;
    espace.distribuer_courriels().await.map_err(e)?;
    let cloture = vider();
    match code {
        "cloture" => sortie(cloture),
        "pieces_differees" => {
            let l = cal
                .pieces_differees_cloture
                .ok_or("ce concours n'a pas de date limite des pièces différées")?;
            horloge.regler(super::midi_avant(l.dernier_jour(), 7).unwrap_or(horloge.now()));
            espace.distribuer_courriels().await.map_err(e)?;
            sortie(vider())
        }
        _ => {
            let gestionnaire = Gestionnaire {
                id: "apercu".into(),
                role: Role::Instruction,
            };
            let piece = dossier
                .pieces(concours)
                .next()
                .map(|p| p.code.as_str().to_owned())
                .unwrap_or_default();
            let jusqu = DateLimite::fin_du_jour(
                (horloge.now() + chrono::Duration::days(10))
                    .with_timezone(&chrono_tz::Europe::Paris)
                    .date_naive(),
            )
            .map_err(|x| x.to_string())?;
            espace
                .decider(
                    &gestionnaire,
                    &numero,
                    Decision::Complements {
                        pieces: vec![piece],
                        message: "Le document déposé est illisible : merci d'en transmettre une copie lisible.".into(),
                        date_limite: jusqu,
                    },
                )
                .await
                .map_err(e)?;
            espace.distribuer_courriels().await.map_err(e)?;
            let complements = vider();
            if code == "complements" {
                return sortie(complements);
            }
            horloge.regler(super::midi_avant(jusqu.dernier_jour(), 2).unwrap_or(horloge.now()));
            espace.distribuer_courriels().await.map_err(e)?;
            sortie(vider())
        }
    }
}
