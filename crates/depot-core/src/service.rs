//! The candidate's espace sécurisé: the use cases of the seed procedure, over the ports.
//!
//! Every use case that changes a dossier loads it, asks the aggregate (with a fresh `now`
//! from the [`Clock`]), and saves it with compare-and-swap. On `Conflict` it starts again
//! from the load — re-checking every rule, the time included — so an upload racing a
//! closure is either listed in the récépissé or refused, never "accepted" and lost.
//!
//! Contents are written before the record that lists them. If the record update is refused
//! or fails, the content is deleted again — unless the outcome of the save is unknown (the
//! write may have happened), in which case the record is read back to decide, and the
//! content is kept whenever that cannot be known. A content is therefore never deleted while
//! a record may list it; the price is that a crash between the two writes can leave an
//! unlisted content, which is never served (only listed ids are readable).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_core::Stream;

use crate::auth::{
    Argon2Authenticator, Argon2id, Authenticator, CredentialStore, Hacheur, MotDePasse,
};
use crate::config::{Concours, Voie};
use crate::courriel::{Courrier, SorteCourriel};
use crate::dossier::{
    Dossier, Fichier, Identite, Journal, Quoi, RuptureJournal, reconstituer_journal,
};
use crate::erreur::{ErreurEnvoi, ErreurEspace, Refus, StorageError};
use crate::format::Analyse;
use crate::ids::{FichierId, NumeroDossier};
use crate::instruction::{Decision, Gestionnaire, RegistreNational, SansRegistre};
use crate::limitation::CompteurStore;
use crate::memoire::{
    MemoireCompteurs, MemoireDossiers, MemoireIdentifiants, MemoirePieces, MemoireSessions,
};
use crate::ports::{
    Blocking, CleContenu, Clock, DossierStore, EnLigne, FluxOctets, HorlogeSysteme, PieceStore,
    Random, SystemRandom, Versionne,
};
use crate::recepisse::Recepisse;
use crate::recherche::{Filtre, Page, Recherche, filtrer};
use crate::session::SessionStore;
use crate::signature::{Signataire, SignataireEd25519};

/// How many times a use case starts again after a version conflict before giving up.
pub const TENTATIVES_MAX: usize = 64;

/// The providers the espace runs on: a plain struct of trait objects.
#[derive(Clone)]
pub struct Ports {
    /// Dossier records.
    pub dossiers: Arc<dyn DossierStore>,
    /// File contents.
    pub pieces: Arc<dyn PieceStore>,
    /// Password hashes.
    pub identifiants: Arc<dyn CredentialStore>,
    /// Password hashing.
    pub hacheur: Arc<dyn Hacheur>,
    /// Login.
    pub authentificateur: Arc<dyn Authenticator>,
    /// Time.
    pub horloge: Arc<dyn Clock>,
    /// Randomness for identifiers.
    pub hasard: Arc<dyn Random>,
    /// Signs récépissés.
    pub signataire: Arc<dyn Signataire>,
    /// Runs CPU-heavy work (the end of a file's analysis) off the event loop.
    pub blocking: Arc<dyn Blocking>,
    /// The national registry of registrations (one per concours).
    pub registre: Arc<dyn RegistreNational>,
    /// Sessions of candidates and staff (shared by every instance of a server).
    pub sessions: Arc<dyn SessionStore>,
    /// Throttling counts (shared by every instance of a server).
    pub compteurs: Arc<dyn CompteurStore>,
    /// The staff's search from a store's index; `None`: every dossier is read and filtered.
    pub recherche: Option<Arc<dyn Recherche>>,
    /// E-mail: where messages go. `None`: the espace queues none (an integrator that sends
    /// its own); with it, every message is queued with its cause ([`crate::courriel`]).
    pub courrier: Option<Courrier>,
    /// The antivirus every upload goes through ([`crate::antivirus`]); `None`: files are
    /// recorded without an analysis.
    pub antivirus: Option<Arc<dyn crate::antivirus::Antivirus>>,
}

impl Ports {
    /// In-memory stores, argon2id inline, the system clock.
    pub fn en_memoire() -> Self {
        Self::avec_stores(
            Arc::new(MemoireDossiers::new()),
            Arc::new(MemoirePieces::new()),
            Arc::new(MemoireIdentifiants::new()),
        )
    }

    /// Given stores, with the default hasher, authenticator, clock and randomness.
    pub fn avec_stores(
        dossiers: Arc<dyn DossierStore>,
        pieces: Arc<dyn PieceStore>,
        identifiants: Arc<dyn CredentialStore>,
    ) -> Self {
        let hacheur: Arc<dyn Hacheur> = Arc::new(Argon2id::default());
        Self {
            authentificateur: Arc::new(Argon2Authenticator::new(
                identifiants.clone(),
                hacheur.clone(),
            )),
            dossiers,
            pieces,
            identifiants,
            hacheur,
            horloge: Arc::new(HorlogeSysteme),
            hasard: Arc::new(SystemRandom),
            // An ephemeral key: a server loads a persistent one (see depot-server).
            signataire: Arc::new(SignataireEd25519::generer(
                &SystemRandom,
                HorlogeSysteme.now(),
            )),
            registre: Arc::new(SansRegistre),
            blocking: Arc::new(EnLigne),
            sessions: Arc::new(MemoireSessions::default()),
            compteurs: Arc::new(MemoireCompteurs::default()),
            recherche: None,
            courrier: None,
            antivirus: None,
        }
    }

    /// The same ports with another signer.
    pub fn avec_signataire(mut self, signataire: Arc<dyn Signataire>) -> Self {
        self.signataire = signataire;
        self
    }

    /// The same ports with another pool for blocking work.
    pub fn avec_blocking(mut self, blocking: Arc<dyn Blocking>) -> Self {
        self.blocking = blocking;
        self
    }

    /// The same ports with other stores of sessions and throttling counts.
    pub fn avec_sessions(
        mut self,
        sessions: Arc<dyn SessionStore>,
        compteurs: Arc<dyn CompteurStore>,
    ) -> Self {
        self.sessions = sessions;
        self.compteurs = compteurs;
        self
    }

    /// The same ports, scanning every upload with `antivirus`.
    pub fn avec_antivirus(mut self, antivirus: Arc<dyn crate::antivirus::Antivirus>) -> Self {
        self.antivirus = Some(antivirus);
        self
    }

    /// The same ports, sending e-mail through `courrier`.
    pub fn avec_courrier(mut self, courrier: Courrier) -> Self {
        self.courrier = Some(courrier);
        self
    }

    /// The same ports with another clock.
    pub fn avec_horloge(mut self, horloge: Arc<dyn Clock>) -> Self {
        self.horloge = horloge;
        self
    }
}

impl fmt::Debug for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ports { .. }")
    }
}

/// A pré-inscription form.
pub struct DemandePreinscription {
    /// Chosen voie.
    pub voie: Voie,
    /// Family name.
    pub nom: String,
    /// Given name.
    pub prenom: String,
    /// E-mail.
    pub email: String,
    /// Codes of the declarations made.
    pub declarations: Vec<String>,
    /// The chosen password.
    pub mot_de_passe: MotDePasse,
}

impl fmt::Debug for DemandePreinscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemandePreinscription")
            .field("voie", &self.voie)
            .field("declarations", &self.declarations)
            .finish_non_exhaustive()
    }
}

/// A dossier as read at an instant, with its concours: what a page or the API shows.
#[derive(Debug, Clone)]
pub struct Consultation {
    /// The dossier.
    pub dossier: Dossier,
    /// Its concours.
    pub concours: Arc<Concours>,
    /// The instant it was read at.
    pub maintenant: DateTime<Utc>,
}

/// The journal of `dossier` as `store` holds it, rebuilt from the record's head: a storage
/// failure outside, a break of the chain inside. A record of an earlier version still holds
/// its entries until its next write: they count.
pub async fn lire_journal(
    store: &dyn DossierStore,
    dossier: &Dossier,
) -> Result<Result<Journal, RuptureJournal>, StorageError> {
    let mut entrees = store.journal(dossier.numero()).await?;
    entrees.extend(dossier.entrees_a_ecrire().iter().cloned());
    Ok(reconstituer_journal(entrees, dossier.derniere_entree()))
}

/// The espace sécurisé of one or more concours sessions.
pub struct Espace {
    concours: BTreeMap<String, Arc<Concours>>,
    ports: Ports,
    /// This process, in the reservations of the messages it sends.
    instance: String,
    /// Dossiers whose messages this process queued since its mail worker last looked.
    recents: std::sync::Mutex<std::collections::BTreeSet<NumeroDossier>>,
}

impl fmt::Debug for Espace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Espace")
            .field("concours", &self.concours.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Espace {
    /// An espace hosting these concours (codes must differ; a later duplicate is refused).
    pub fn new(concours: Vec<Concours>, ports: Ports) -> Result<Self, Refus> {
        let mut m = BTreeMap::new();
        for c in concours {
            let code = c.code.as_str().to_owned();
            if m.insert(code.clone(), Arc::new(c)).is_some() {
                return Err(Refus::ConcoursInconnu { code });
            }
        }
        let instance = crate::courriel::identifiant(&*ports.hasard);
        Ok(Self {
            concours: m,
            ports,
            instance,
            recents: std::sync::Mutex::default(),
        })
    }

    /// This process's id in the reservations of the messages it sends.
    pub(crate) fn instance(&self) -> &str {
        &self.instance
    }

    /// Notes that a message of `numero` was queued here: the mail worker's next quick
    /// round sends it.
    pub(crate) fn signaler(&self, numero: &NumeroDossier) {
        self.recents().insert(numero.clone());
    }

    pub(crate) fn recents(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::BTreeSet<NumeroDossier>> {
        self.recents.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Now, from the espace's clock: what the rules use, for the adapters' display.
    pub fn maintenant(&self) -> DateTime<Utc> {
        self.now()
    }

    /// The public key the espace signs récépissés with (published for verification).
    pub fn cle_publique(&self) -> crate::signature::ClePublique {
        self.ports.signataire.cle_publique()
    }

    /// The espace's source of randomness, for the adapters' tokens (sessions, CSRF).
    pub fn hasard(&self) -> &dyn Random {
        &*self.ports.hasard
    }

    /// The ports the espace runs on (adapters build their sessions and throttling on them).
    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    /// The hosted concours.
    pub fn concours(&self) -> impl Iterator<Item = &Arc<Concours>> {
        self.concours.values()
    }

    /// One hosted concours; `None` picks the only one when there is exactly one.
    pub fn trouver_concours(&self, code: Option<&str>) -> Result<&Arc<Concours>, Refus> {
        match code {
            Some(c) => self.concours.get(c).ok_or_else(|| Refus::ConcoursInconnu {
                code: c.chars().take(64).collect(),
            }),
            None if self.concours.len() == 1 => {
                self.concours
                    .values()
                    .next()
                    .ok_or_else(|| Refus::ConcoursInconnu {
                        code: String::new(),
                    })
            }
            None => Err(Refus::ChampInvalide {
                champ: "concours",
                raison: "précisez le concours auquel vous vous inscrivez.".to_owned(),
            }),
        }
    }

    fn concours_de(&self, dossier: &Dossier) -> Result<Arc<Concours>, StorageError> {
        self.concours
            .get(dossier.concours().as_str())
            .cloned()
            .ok_or_else(|| {
                StorageError::Corrupt(format!(
                    "le dossier {} désigne le concours {} qui n'est pas chargé",
                    dossier.numero(),
                    dossier.concours()
                ))
            })
    }

    fn now(&self) -> DateTime<Utc> {
        self.ports.horloge.now()
    }

    async fn charger(&self, numero: &NumeroDossier) -> Result<Versionne<Dossier>, ErreurEspace> {
        Ok(self.ports.dossiers.load(numero).await?)
    }

    /// « Préinscription »: creates a dossier and its password, returns the n° de dossier.
    pub async fn preinscrire(
        &self,
        concours: Option<&str>,
        demande: DemandePreinscription,
    ) -> Result<NumeroDossier, ErreurEspace> {
        let concours = self.trouver_concours(concours)?.clone();
        let identite = Identite::parse(&demande.nom, &demande.prenom, &demande.email)?;
        demande.mot_de_passe.verifier_politique(&[
            identite.nom(),
            identite.prenom(),
            identite.email(),
            &concours.intitule,
        ])?;
        // Check the window before spending an argon2 hash on it.
        let brouillon =
            NumeroDossier::generer(concours.session, &concours.code, &*self.ports.hasard);
        Dossier::preinscrire(
            brouillon,
            &concours,
            demande.voie,
            identite.clone(),
            &demande.declarations,
            self.now(),
        )?;
        let hash = self.ports.hacheur.hacher(&demande.mot_de_passe).await?;
        for _ in 0..TENTATIVES_MAX {
            let numero =
                NumeroDossier::generer(concours.session, &concours.code, &*self.ports.hasard);
            let now = self.now();
            let (mut dossier, _evt) = Dossier::preinscrire(
                numero.clone(),
                &concours,
                demande.voie,
                identite.clone(),
                &demande.declarations,
                now,
            )?;
            self.programmer(&mut dossier, SorteCourriel::Preinscription, now);
            match self.ports.dossiers.create(&dossier).await {
                Ok(()) => {
                    // The dossier exists before its password: if this write fails, nobody
                    // can log into it and the candidate retries, getting a new number.
                    self.ports.identifiants.definir(&numero, &hash).await?;
                    return Ok(numero);
                }
                Err(StorageError::AlreadyExists(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StorageError::Conflict("aucun n° de dossier libre trouvé".to_owned()).into())
    }

    /// « Connexion »: n° de dossier and password.
    pub async fn connecter(
        &self,
        numero: &str,
        mot_de_passe: &MotDePasse,
    ) -> Result<NumeroDossier, ErreurEspace> {
        self.ports
            .authentificateur
            .authentifier(numero, mot_de_passe)
            .await
    }

    /// Records a successful login in the dossier's journal, with the failed attempts that
    /// preceded it (counted by the caller's throttling).
    pub async fn journaliser_connexion(
        &self,
        numero: &NumeroDossier,
        echecs_avant: u32,
    ) -> Result<(), ErreurEspace> {
        self.modifier(numero, |dossier, _, now| {
            dossier.journaliser_connexion(echecs_avant, now);
            Ok::<_, Refus>(())
        })
        .await
        .map_err(ErreurEspace::from)
    }

    /// Every dossier with its concours, at now (for the CDG's lists and exports).
    pub async fn lister(&self) -> Result<Vec<Consultation>, ErreurEspace> {
        let mut out = Vec::new();
        for n in self.ports.dossiers.list().await? {
            out.push(self.consulter(&n).await?);
        }
        out.sort_by(|a, b| a.dossier.numero().cmp(b.dossier.numero()));
        Ok(out)
    }

    /// The staff's search: the `page` of the dossiers `filtre` selects now, in n° order,
    /// and how many there are in all. From the store's index when it has one
    /// ([`Ports::recherche`]), otherwise by reading every dossier.
    pub async fn rechercher(
        &self,
        filtre: &Filtre,
        page: Page,
    ) -> Result<(usize, Vec<Consultation>), ErreurEspace> {
        let now = self.now();
        let (total, numeros) = match &self.ports.recherche {
            Some(r) => r.rechercher(filtre, now, page).await?,
            None => {
                let tous = self.lister().await?;
                filtrer(
                    tous.iter().map(|c| (&c.dossier, &*c.concours)),
                    filtre,
                    now,
                    page,
                )
            }
        };
        let mut out = Vec::with_capacity(numeros.len());
        for n in numeros {
            match self.consulter(&n).await {
                Ok(c) => out.push(c),
                // Gone between the search and the read (a purge): not listed.
                Err(ErreurEspace::Stockage(StorageError::NotFound(_))) => {}
                Err(e) => return Err(e),
            }
        }
        Ok((total, out))
    }

    /// Reads a dossier with its concours, at now.
    pub async fn consulter(&self, numero: &NumeroDossier) -> Result<Consultation, ErreurEspace> {
        let v = self.charger(numero).await?;
        Ok(Consultation {
            concours: self.concours_de(&v.valeur)?,
            dossier: v.valeur,
            maintenant: self.now(),
        })
    }

    /// The dossier's whole journal, read from the store and checked: the chain its record
    /// names, from the first entry to the last. A missing or altered entry is `Corrupt`.
    pub async fn journal(&self, numero: &NumeroDossier) -> Result<Journal, ErreurEspace> {
        let v = self.charger(numero).await?;
        self.journal_de(&v.valeur).await
    }

    /// The journal of a dossier already loaded.
    pub async fn journal_de(&self, dossier: &Dossier) -> Result<Journal, ErreurEspace> {
        lire_journal(&*self.ports.dossiers, dossier)
            .await?
            .map_err(|r| {
                StorageError::Corrupt(format!("journal du dossier {} : {r}", dossier.numero()))
                    .into()
            })
    }

    /// A member of the service concours reads a dossier: the read is journaled (who, when)
    /// before the dossier is returned, with its journal.
    pub async fn consulter_en_gestion(
        &self,
        qui: &Gestionnaire,
        numero: &NumeroDossier,
    ) -> Result<(Consultation, Journal), ErreurEspace> {
        // The dossier as this read journaled it: no second load.
        let dossier = self
            .modifier(numero, |d, _, now| {
                d.journaliser_lecture(qui, Quoi::Consultation { fichier: None }, now)?;
                Ok::<_, Refus>(d.clone())
            })
            .await
            .map_err(ErreurEspace::from)?;
        let journal = self.journal_de(&dossier).await?;
        let c = Consultation {
            concours: self.concours_de(&dossier)?,
            dossier,
            maintenant: self.now(),
        };
        Ok((c, journal))
    }

    /// A member of the service concours downloads a file: journaled, then « voir ». An
    /// unknown file is `fichier_inconnu` and journals nothing.
    pub async fn voir_en_gestion(
        &self,
        qui: &Gestionnaire,
        numero: &NumeroDossier,
        id: &FichierId,
    ) -> Result<(Fichier, FluxOctets), ErreurEspace> {
        // Fails closed: a file not found clean by the antivirus is not opened.
        let v = self.charger(numero).await?;
        let f = v.valeur.fichier(id).ok_or(Refus::FichierInconnu)?;
        if let Some(le) = f.purge_le {
            return Err(Refus::FichierPurge {
                le: crate::calendrier::instant_en_lettres(le),
            }
            .into());
        }
        if f.en_quarantaine() {
            return Err(Refus::FichierInfecte.into());
        }
        if !f.servable_au_service() {
            return Err(Refus::AnalyseEnAttente.into());
        }
        self.journaliser_lecture(
            qui,
            numero,
            Quoi::Consultation {
                fichier: Some(id.clone()),
            },
        )
        .await?;
        self.voir(numero, id).await
    }

    /// A dossier goes into an export (its files and récépissé): journaled.
    pub async fn journaliser_export(
        &self,
        qui: &Gestionnaire,
        numero: &NumeroDossier,
    ) -> Result<(), ErreurEspace> {
        self.journaliser_lecture(qui, numero, Quoi::Export).await
    }

    /// Journals an upload the antivirus refused (best effort: the refusal stands even if
    /// the journal cannot be written now).
    async fn journaliser_virus(
        &self,
        numero: &NumeroDossier,
        code_piece: &str,
        nom: &str,
        signature: &str,
        sha256: crate::ids::Sha256,
    ) {
        let Ok(piece) = crate::ids::CodePiece::parse(code_piece) else {
            return;
        };
        let _ = self
            .modifier(numero, |d, _, now| {
                d.noter_virus(
                    piece.clone(),
                    nom.to_owned(),
                    sha256,
                    signature.to_owned(),
                    now,
                );
                Ok::<_, Refus>(())
            })
            .await;
    }

    async fn journaliser_lecture(
        &self,
        qui: &Gestionnaire,
        numero: &NumeroDossier,
        quoi: Quoi,
    ) -> Result<(), ErreurEspace> {
        self.modifier(numero, |d, _, now| {
            d.journaliser_lecture(qui, quoi.clone(), now)
        })
        .await
        .map(|_| ())
        .map_err(ErreurEspace::from)
    }

    /// « Ajouter le fichier » for a file already in memory: [`deposer_flux`] over one
    /// chunk.
    ///
    /// [`deposer_flux`]: Self::deposer_flux
    pub async fn deposer(
        &self,
        numero: &NumeroDossier,
        code_piece: &str,
        nom: &str,
        contenu: Bytes,
    ) -> Result<Fichier, ErreurEspace> {
        let un_morceau = futures_util::stream::iter([Ok(contenu)]);
        self.deposer_flux(numero, code_piece, nom, un_morceau).await
    }

    /// « Ajouter le fichier »: receives a file as a stream of chunks and, in one pass and
    /// bounded memory, checks it ([`AnalyseFlux`](crate::AnalyseFlux)), writes it to the
    /// [`PieceStore`] — which publishes it only once the whole file is accepted — and
    /// records it in the dossier. Returns the recorded file (« Fichier enregistré »).
    ///
    /// Refusals come in the order the API documents, whatever the order the problems
    /// appear in: the dossier's state and the piece before any byte is read; then the size
    /// (`fichier_trop_volumineux`, as soon as the limit is passed); then the format; then
    /// the content. A refused, cut or failed upload leaves nothing in the store and the
    /// dossier unchanged. The end of the analysis (a whole-PDF parse) runs on the
    /// [`Blocking`] port.
    ///
    /// Any caller — the HTTP API, the pages, a vendor's own server, the load tools — hands
    /// its body here as a `Stream`, mapping its own read errors into [`ErreurEnvoi`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use bytes::Bytes;
    /// # use depot_core::*;
    /// # futures_executor::block_on(async {
    /// # let concours = Concours::from_toml(include_str!("../../../examples/concours/animateur-2025.toml"))?;
    /// # let horloge = Arc::new(HorlogeFixe::new("2025-04-01T10:00:00Z".parse()?));
    /// # let espace = Espace::new(vec![concours], Ports::en_memoire().avec_horloge(horloge))?;
    /// # let mdp = || MotDePasse::from("lune verte sur le toit de Laval");
    /// # let numero = espace.preinscrire(None, DemandePreinscription { voie: Voie::Externe,
    /// #     nom: "Durand".into(), prenom: "Camille".into(), email: "camille@exemple.fr".into(),
    /// #     declarations: vec![], mot_de_passe: mdp() }).await?;
    /// let pdf = Bytes::from(depot_core::exemples::pdf_minimal());
    /// let morceaux = futures_util::stream::iter(
    ///     pdf.chunks(100).map(|m| Ok::<_, ErreurEnvoi>(Bytes::copy_from_slice(m))).collect::<Vec<_>>(),
    /// );
    /// let fichier = espace.deposer_flux(&numero, "piece-identite", "CNI.pdf", morceaux).await?;
    /// assert_eq!(fichier.taille, pdf.len() as u64);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn deposer_flux<S>(
        &self,
        numero: &NumeroDossier,
        code_piece: &str,
        nom: &str,
        flux: S,
    ) -> Result<Fichier, ErreurEspace>
    where
        S: Stream<Item = Result<Bytes, ErreurEnvoi>> + Send,
    {
        let v = self.charger(numero).await?;
        let concours = self.concours_de(&v.valeur)?;
        let piece = v
            .valeur
            .controler_depot(&concours, code_piece, self.now())?
            .clone();
        let cle = CleContenu {
            numero: numero.clone(),
            fichier: FichierId::generer(&*self.ports.hasard),
        };
        let analyse = crate::upload::recevoir(
            &*self.ports.pieces,
            &*self.ports.blocking,
            self.ports.antivirus.as_deref(),
            &cle,
            &piece,
            nom,
            flux,
            self.now(),
        )
        .await;
        let analyse = match analyse {
            Err(ErreurEspace::Refus(Refus::VirusDetecte {
                nom,
                signature,
                sha256,
            })) => {
                self.journaliser_virus(numero, code_piece, &nom, &signature, sha256)
                    .await;
                return Err(Refus::VirusDetecte {
                    nom,
                    signature,
                    sha256,
                }
                .into());
            }
            autre => autre?,
        };
        // The record read before the upload is the first attempt's: when nothing changed
        // meanwhile (the usual case) the upload reads its record once, and a change is
        // caught by the compare-and-swap, which reads it again.
        self.enregistrer_contenu(numero, code_piece, cle, analyse, v)
            .await
    }

    /// Records a file whose content is already stored under `cle` and whose analysis
    /// accepted it (with the SHA-256 the store computed while writing). The rules are
    /// checked again on every attempt of the record update; a refusal removes the content
    /// and nothing is recorded.
    async fn enregistrer_contenu(
        &self,
        numero: &NumeroDossier,
        code_piece: &str,
        cle: CleContenu,
        analyse: Analyse,
        lu: Versionne<Dossier>,
    ) -> Result<Fichier, ErreurEspace> {
        if cle.numero != *numero {
            return Err(StorageError::Corrupt(format!(
                "le contenu {} n'appartient pas au dossier {numero}",
                cle.fichier
            ))
            .into());
        }
        let resultat = self
            .modifier_depuis(numero, Some(lu), |dossier, concours, now| {
                dossier
                    .deposer(concours, code_piece, cle.fichier.clone(), &analyse, now)
                    .map(|(f, _evt)| f)
            })
            .await;
        match resultat {
            Ok(f) => Ok(f),
            Err(Echec::Regle(r)) => {
                self.effacer_contenu(&cle).await;
                Err(r.into())
            }
            Err(Echec::Autre(e)) => {
                self.effacer_contenu(&cle).await;
                Err(e)
            }
            Err(Echec::Stockage(e)) => {
                // Unknown outcome: read back. Listed → it worked; not listed → clean up;
                // unreadable → keep the content (an unlisted content is never served).
                if let Ok(v) = self.ports.dossiers.load(numero).await {
                    if let Some(f) = v.valeur.fichier(&cle.fichier) {
                        return Ok(f.clone());
                    }
                    self.effacer_contenu(&cle).await;
                }
                Err(e.into())
            }
        }
    }

    /// « Voir » (the eye): the file's record and its content. Another dossier's file is
    /// `fichier_inconnu`, exactly like a file that does not exist.
    pub async fn voir(
        &self,
        numero: &NumeroDossier,
        id: &FichierId,
    ) -> Result<(Fichier, FluxOctets), ErreurEspace> {
        let v = self.charger(numero).await?;
        let fichier = v.valeur.fichier(id).cloned().ok_or(Refus::FichierInconnu)?;
        if let Some(le) = fichier.purge_le {
            return Err(Refus::FichierPurge {
                le: crate::calendrier::instant_en_lettres(le),
            }
            .into());
        }
        // Quarantined: kept as evidence, served to nobody.
        if fichier.en_quarantaine() {
            return Err(Refus::FichierInfecte.into());
        }
        let cle = CleContenu {
            numero: numero.clone(),
            fichier: id.clone(),
        };
        let flux = self.ports.pieces.get(&cle).await.map_err(|e| match e {
            StorageError::NotFound(x) => {
                StorageError::Corrupt(format!("contenu listé mais absent : {x}"))
            }
            autre => autre,
        })?;
        Ok((fichier, flux))
    }

    /// « Supprimer » (the bin). The record is updated first; the content is deleted after.
    /// If that deletion fails, the content stays unlisted (never served) and the call still
    /// succeeds: the candidate's dossier is what they asked for.
    pub async fn supprimer(
        &self,
        numero: &NumeroDossier,
        id: &FichierId,
    ) -> Result<(), ErreurEspace> {
        let resultat = self
            .modifier(numero, |dossier, concours, now| {
                dossier.supprimer(concours, id, now).map(|_| ())
            })
            .await;
        match resultat {
            Ok(()) => {}
            Err(Echec::Regle(r)) => return Err(r.into()),
            Err(Echec::Autre(e)) => return Err(e),
            Err(Echec::Stockage(e)) => {
                let toujours_liste = match self.ports.dossiers.load(numero).await {
                    Ok(v) => v.valeur.fichier(id).is_some(),
                    Err(_) => true,
                };
                if toujours_liste {
                    return Err(e.into());
                }
            }
        }
        self.effacer_contenu(&CleContenu {
            numero: numero.clone(),
            fichier: id.clone(),
        })
        .await;
        Ok(())
    }

    /// « Clôturer mon inscription ». Returns the récépissé; calling it again returns the same.
    /// The closed registration is declared to the national registry; a registration it
    /// supersedes, if hosted here, becomes `Rejete` (`inscription_remplacee`).
    pub async fn cloturer(&self, numero: &NumeroDossier) -> Result<Recepisse, ErreurEspace> {
        // The identity comes from this load: after the closing save, only the registry is
        // asked, so a storage fault can never report an error for a closure that happened.
        let lu = self.charger(numero).await?;
        let avant = lu.valeur.clone();
        let r = match avant.recepisse() {
            Some(r) => r.clone(),
            // The record just read is the closure's first attempt (one read, not two).
            None => self.cloturer_seulement(numero, lu).await?,
        };
        // Declared on every call (idempotent): a declaration that failed is retried by the
        // candidate's next click, which returns the same récépissé.
        let Some(ancien) = self
            .ports
            .registre
            .declarer(avant.concours(), numero, avant.identite())
            .await?
        else {
            return Ok(r);
        };
        // The superseded registration, if hosted here (a closure elsewhere is not ours).
        let remplacement = self
            .modifier(&ancien, |dossier, _, now| {
                dossier.remplacer(now);
                Ok::<_, Refus>(())
            })
            .await;
        match remplacement {
            Ok(()) | Err(Echec::Stockage(StorageError::NotFound(_))) => Ok(r),
            Err(e) => Err(e.into()),
        }
    }

    /// A decision of the CDG on a dossier.
    pub async fn decider(
        &self,
        qui: &Gestionnaire,
        numero: &NumeroDossier,
        decision: Decision,
    ) -> Result<(), ErreurEspace> {
        self.modifier(numero, |d, c, now| {
            match &decision {
                Decision::Complements {
                    pieces,
                    message,
                    date_limite,
                } => d
                    .demander_complements(c, qui, pieces, message, *date_limite, now)
                    .inspect(|_| self.programmer(d, SorteCourriel::Complements, now)),
                Decision::Recevable => d.declarer_recevable(c, qui, now),
                Decision::Rejet { motif, texte } => {
                    d.rejeter(c, qui, *motif, texte.as_deref(), now)
                }
                Decision::Revision { raison } => d.reviser(c, qui, raison, now),
                Decision::Reouverture { raison, jusqu_au } => {
                    d.rouvrir(c, qui, raison, *jusqu_au, now)
                }
            }
            .map(|_| ())
        })
        .await
        .map_err(ErreurEspace::from)
    }

    /// « Transmettre les compléments ».
    pub async fn transmettre_complements(
        &self,
        numero: &NumeroDossier,
    ) -> Result<(), ErreurEspace> {
        self.modifier(numero, |d, c, now| {
            d.transmettre_complements(c, now).map(|_| ())
        })
        .await
        .map_err(ErreurEspace::from)
    }

    async fn cloturer_seulement(
        &self,
        numero: &NumeroDossier,
        lu: Versionne<Dossier>,
    ) -> Result<Recepisse, ErreurEspace> {
        let resultat = self
            .modifier_depuis(numero, Some(lu), |dossier, concours, now| {
                let (r, _evt) = dossier.cloturer(concours, now, &*self.ports.signataire)?;
                self.programmer(dossier, SorteCourriel::Cloture, now);
                Ok::<_, ErreurEspace>(r)
            })
            .await;
        match resultat {
            Ok(r) => Ok(r),
            Err(Echec::Regle(r)) => Err(r.into()),
            Err(Echec::Autre(e)) => Err(e),
            Err(Echec::Stockage(e)) => match self.ports.dossiers.load(numero).await {
                Ok(v) => match v.valeur.recepisse() {
                    Some(r) => Ok(r.clone()),
                    None => Err(e.into()),
                },
                Err(_) => Err(e.into()),
            },
        }
    }

    /// Load, apply, compare-and-swap; start again on conflict with a fresh `now`.
    /// A change that produces no event and touches no outbox (closing a closed dossier) is
    /// not saved.
    pub(crate) async fn modifier<T, E: Into<ErreurEspace>>(
        &self,
        numero: &NumeroDossier,
        regle: impl Fn(&mut Dossier, &Concours, DateTime<Utc>) -> Result<T, E>,
    ) -> Result<T, Echec> {
        self.modifier_depuis(numero, None, regle).await
    }

    /// [`modifier`](Self::modifier), whose first attempt starts from `lu` — a record the
    /// caller already read — instead of reading it again. A stale `lu` costs one conflict
    /// and a fresh read, never a lost update.
    pub(crate) async fn modifier_depuis<T, E: Into<ErreurEspace>>(
        &self,
        numero: &NumeroDossier,
        mut lu: Option<Versionne<Dossier>>,
        regle: impl Fn(&mut Dossier, &Concours, DateTime<Utc>) -> Result<T, E>,
    ) -> Result<T, Echec> {
        for _ in 0..TENTATIVES_MAX {
            let v = match lu.take() {
                Some(v) => v,
                None => self
                    .ports
                    .dossiers
                    .load(numero)
                    .await
                    .map_err(Echec::Stockage)?,
            };
            let concours = self.concours_de(&v.valeur).map_err(Echec::Stockage)?;
            let mut dossier = v.valeur.clone();
            let avant = dossier.longueur_journal();
            let sortie =
                regle(&mut dossier, &concours, self.now()).map_err(|e| match e.into() {
                    ErreurEspace::Refus(r) => Echec::Regle(r),
                    ErreurEspace::Stockage(s) => Echec::Stockage(s),
                    autre => Echec::Autre(autre),
                })?;
            let inchange = dossier.longueur_journal() == avant
                && dossier.courriels == v.valeur.courriels
                && dossier.rappels == v.valeur.rappels
                && dossier.reinitialisation == v.valeur.reinitialisation
                && dossier.fichiers() == v.valeur.fichiers();
            if inchange {
                return Ok(sortie);
            }
            match self.ports.dossiers.save(&dossier, v.version).await {
                Ok(_) => return Ok(sortie),
                Err(StorageError::Conflict(_)) => continue,
                Err(e) => return Err(Echec::Stockage(e)),
            }
        }
        Err(Echec::Stockage(StorageError::Conflict(format!(
            "dossier {numero} : trop de modifications concurrentes"
        ))))
    }

    async fn effacer_contenu(&self, cle: &CleContenu) {
        // Best effort: an unlisted content is never served.
        let _ = self.ports.pieces.delete(cle).await;
    }
}

pub(crate) enum Echec {
    /// A rule refused: nothing was written.
    Regle(Refus),
    /// Storage failed: the outcome of a save may be unknown.
    Stockage(StorageError),
    /// Anything else (signing): nothing was written.
    Autre(ErreurEspace),
}

impl From<Echec> for ErreurEspace {
    fn from(e: Echec) -> Self {
        match e {
            Echec::Regle(r) => r.into(),
            Echec::Stockage(s) => s.into(),
            Echec::Autre(e) => e,
        }
    }
}
