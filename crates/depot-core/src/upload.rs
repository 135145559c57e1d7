//! Receiving one file: check while streaming, publish only an accepted content.
//!
//! # Design
//!
//! The caller's stream may borrow from its request (axum's multipart field does), while a
//! store's [`PieceStore::put`] wants an owned `'static` stream it may poll from another
//! thread. A channel bridges the two: this module reads the caller's chunks, feeds each to
//! the [`AnalyseFlux`] and forwards it to the store, and both run in the same future
//! (`join`) — no task is spawned, no runtime named. The store's stream **ends only on an
//! explicit end-of-file message**, sent after the analysis accepted the whole file; any
//! other way the channel closes (a refusal, a read error, the future dropped because the
//! client went away) turns into an error in the store's stream, so by the store's contract
//! nothing is published.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use futures_channel::mpsc;
use futures_core::Stream;
use futures_util::stream::FuturesUnordered;
use futures_util::{SinkExt, StreamExt};

use chrono::{DateTime, Utc};

use crate::antivirus::{AnalyseAntivirus, AnalyseEnCours, Antivirus, StatutAnalyse, Verdict};
use crate::config::PieceSpec;
use crate::erreur::{ErreurEnvoi, ErreurEspace, Refus, StorageError};
use crate::format::{Analyse, AnalyseFlux, Examen, Rejet};
use crate::ids::Sha256;
use crate::ports::{Blocking, CleContenu, ContenuStocke, FluxOctets, PieceStore, executer};

/// What travels to the store: chunks, or the end of an accepted file.
enum Morceau {
    /// Chunks read and analysed, in order: grouped up to [`LOT`] bytes.
    Donnees(Vec<Bytes>),
    Fin,
}

/// Chunks are handed to the store in lots of about this many bytes. A store that writes
/// from another thread is woken once per lot instead of once per chunk the client's
/// connection delivered (about 12 KiB on loopback: ~17 wake-ups each way for a 200 KiB
/// file, the largest item of the upload's profile with the thread switches). At most four
/// lots per upload are in memory: one filling, two in the channel, one being written.
pub(crate) const LOT: usize = 128 * 1024;

/// One of the two halves, finished.
enum Issue {
    Ecrit(Result<ContenuStocke, StorageError>),
    Lu(Lecture),
}

/// How reading the caller's stream ended.
enum Lecture {
    /// The whole file was read and accepted (and its antivirus analysis, when one is
    /// configured); the store was told the file ended.
    Acceptee(Examen, Option<AnalyseAntivirus>),
    /// The file was refused or its bytes stopped: the store was told nothing more.
    Refusee(ErreurEspace),
    /// The store stopped taking chunks before the end: its own error is the answer.
    StockageArrete,
}

/// Streams `flux` into `pieces` under `cle`, checking it against `piece`'s rules on the
/// way. On success the content is published and its analysis (with the SHA-256 the store
/// computed) returned; on any error nothing is left under `cle`.
#[allow(clippy::too_many_arguments)] // the upload's parts, each a port or a rule
pub(crate) async fn recevoir<S>(
    pieces: &dyn PieceStore,
    blocking: &dyn Blocking,
    antivirus: Option<&dyn Antivirus>,
    cle: &CleContenu,
    piece: &PieceSpec,
    nom: &str,
    flux: S,
    now: DateTime<Utc>,
) -> Result<Analyse, ErreurEspace>
where
    S: Stream<Item = Result<Bytes, ErreurEnvoi>> + Send,
{
    // One chunk waiting in the channel, one being written: memory stays bounded.
    let (envoi, reception) = mpsc::channel::<Morceau>(1);
    let ecriture = pieces.put(cle, flux_du_stockage(reception));
    let analyse = AnalyseFlux::new(nom, &piece.formats, piece.taille_max_mo);
    let lecture = lire(flux, analyse, piece, blocking, antivirus, envoi, now);
    // Both run in this future; each is polled only when its own waker fired (a plain
    // `join` polls both on every wake-up, the store's handle included, for every chunk).
    let mut deux: FuturesUnordered<Pin<Box<dyn Future<Output = Issue> + Send + '_>>> =
        FuturesUnordered::new();
    deux.push(Box::pin(async move { Issue::Ecrit(ecriture.await) }));
    deux.push(Box::pin(async move { Issue::Lu(lecture.await) }));
    let (mut ecrit, mut lu) = (None, None);
    while let Some(issue) = deux.next().await {
        match issue {
            Issue::Ecrit(r) => ecrit = Some(r),
            Issue::Lu(l) => lu = Some(l),
        }
    }
    let (Some(ecrit), Some(lu)) = (ecrit, lu) else {
        // Both futures ran to their end above.
        return Err(StorageError::Unavailable("dépôt interrompu".into()).into());
    };
    let (examen, antivirus) = match lu {
        Lecture::Acceptee(examen, antivirus) => (examen, antivirus),
        Lecture::Refusee(e) => {
            if ecrit.is_ok() {
                // Cannot happen (no end-of-file was sent); never leave it behind.
                let _ = pieces.delete(cle).await;
            }
            return Err(e);
        }
        Lecture::StockageArrete => {
            return Err(match ecrit {
                Err(e) => e.into(),
                Ok(_) => {
                    let _ = pieces.delete(cle).await;
                    StorageError::Unavailable("le stockage a cessé de lire le fichier".into())
                        .into()
                }
            });
        }
    };
    let stocke = ecrit?;
    if stocke.taille != examen.taille {
        let _ = pieces.delete(cle).await;
        return Err(StorageError::Corrupt(format!(
            "le contenu stocké pour {} n'a pas la taille reçue",
            cle.fichier
        ))
        .into());
    }
    let mut analyse = Analyse::new(examen, stocke.sha256);
    analyse.antivirus = antivirus;
    Ok(analyse)
}

/// The antivirus' side of an upload: a scan fed the same chunks, or, once the scanner
/// failed, nothing more (the file will be scanned again later).
struct Balayage {
    en_cours: Option<Box<dyn AnalyseEnCours>>,
    /// SHA-256 of what was read, for the journal of an infected file.
    empreinte: sha2::Sha256,
}

impl Balayage {
    async fn ouvrir(antivirus: &dyn Antivirus) -> Self {
        use sha2::Digest;
        // Unavailable: the file is recorded pending and scanned again later.
        let en_cours = antivirus.ouvrir().await.ok();
        Self {
            en_cours,
            empreinte: sha2::Sha256::new(),
        }
    }

    async fn nourrir(&mut self, morceau: &Bytes) {
        use sha2::Digest;
        self.empreinte.update(morceau);
        if let Some(a) = self.en_cours.as_mut()
            && a.nourrir(morceau.clone()).await.is_err()
        {
            self.en_cours = None;
        }
    }

    /// The verdict: clean or pending (recorded with the file), or the infected file's
    /// refusal.
    async fn conclure(
        self,
        antivirus: &dyn Antivirus,
        nom: &str,
        now: DateTime<Utc>,
    ) -> Result<AnalyseAntivirus, Refus> {
        use sha2::Digest;
        let en_attente = AnalyseAntivirus {
            statut: StatutAnalyse::EnAttente,
            moteur: None,
            le: now,
            tentatives: 0,
        };
        let Some(a) = self.en_cours else {
            return Ok(en_attente);
        };
        match a.verdict().await {
            Ok(Verdict::Sain) => Ok(AnalyseAntivirus {
                statut: StatutAnalyse::Saine,
                moteur: antivirus.moteur().await.ok(),
                le: now,
                tentatives: 0,
            }),
            Ok(Verdict::Infecte { signature }) => Err(Refus::VirusDetecte {
                nom: nom.to_owned(),
                signature,
                sha256: Sha256::depuis_octets(self.empreinte.finalize().into()),
            }),
            Err(_) => Ok(en_attente),
        }
    }
}

/// The store's side of the channel: chunks until the end-of-file message; a channel closed
/// without it is an error, so the store publishes nothing.
fn flux_du_stockage(reception: mpsc::Receiver<Morceau>) -> FluxOctets {
    Box::pin(futures_util::stream::unfold(
        Some((reception, Vec::new().into_iter())),
        |etat| async move {
            let (mut r, mut lot) = etat?;
            loop {
                if let Some(b) = lot.next() {
                    return Some((Ok(b), Some((r, lot))));
                }
                match r.next().await {
                    Some(Morceau::Donnees(l)) => lot = l.into_iter(),
                    Some(Morceau::Fin) => return None,
                    None => {
                        return Some((
                            Err(StorageError::Unavailable(
                                "dépôt interrompu avant la fin du fichier".into(),
                            )),
                            None,
                        ));
                    }
                }
            }
        },
    ))
}

/// The chunks read since the last lot was sent.
#[derive(Default)]
struct Lot {
    morceaux: Vec<Bytes>,
    octets: usize,
}

impl Lot {
    /// Adds a chunk; returns the lot to send once it holds [`LOT`] bytes.
    fn ajouter(&mut self, morceau: Bytes) -> Option<Vec<Bytes>> {
        self.octets += morceau.len();
        self.morceaux.push(morceau);
        (self.octets >= LOT).then(|| self.vider())
    }

    fn vider(&mut self) -> Vec<Bytes> {
        self.octets = 0;
        std::mem::take(&mut self.morceaux)
    }
}

async fn lire<S>(
    flux: S,
    mut analyse: AnalyseFlux,
    piece: &PieceSpec,
    blocking: &dyn Blocking,
    antivirus: Option<&dyn Antivirus>,
    envoi: mpsc::Sender<Morceau>,
    now: DateTime<Utc>,
) -> Lecture
where
    S: Stream<Item = Result<Bytes, ErreurEnvoi>> + Send,
{
    let mut flux = std::pin::pin!(flux);
    let mut envoi = Some(envoi);
    let mut lot = Lot::default();
    let mut balayage = match antivirus {
        Some(a) => Some(Balayage::ouvrir(a).await),
        None => None,
    };
    while let Some(morceau) = flux.next().await {
        let morceau = match morceau {
            Ok(m) => m,
            Err(ErreurEnvoi::TropVolumineux) => {
                let trop_gros = Rejet::FichierTropVolumineux {
                    nom: analyse.nom().to_owned(),
                    taille_max_mo: piece.taille_max_mo,
                };
                return Lecture::Refusee(Refus::from(trop_gros).into());
            }
            Err(e) => return Lecture::Refusee(e.into()),
        };
        if let Err(rejet) = analyse.nourrir(&morceau) {
            return Lecture::Refusee(Refus::from(rejet).into());
        }
        // A certain refusal still reads on (the size limit decides the answer first), but
        // stores nothing more: dropping the sender makes the store abort now.
        if analyse.refus_certain() {
            envoi = None;
            balayage = None;
            lot = Lot::default();
        }
        if let Some(b) = balayage.as_mut() {
            b.nourrir(&morceau).await;
        }
        if let Some(e) = envoi.as_mut()
            && let Some(plein) = lot.ajouter(morceau)
            && e.send(Morceau::Donnees(plein)).await.is_err()
        {
            return Lecture::StockageArrete;
        }
    }
    // The last lot goes to the store before the analysis concludes: both finish together.
    if let Some(e) = envoi.as_mut()
        && lot.octets > 0
        && e.send(Morceau::Donnees(lot.vider())).await.is_err()
    {
        return Lecture::StockageArrete;
    }
    let nom = analyse.nom().to_owned();
    let verdict = match executer(blocking, move || analyse.terminer()).await {
        Ok(v) => v,
        Err(arret) => return Lecture::Refusee(arret.into()),
    };
    match (verdict, envoi) {
        (Ok(examen), Some(mut e)) => {
            // The antivirus' verdict is awaited before the content is published.
            let analyse_antivirus = match (balayage, antivirus) {
                (Some(b), Some(a)) => match b.conclure(a, &nom, now).await {
                    Ok(x) => Some(x),
                    Err(refus) => return Lecture::Refusee(refus.into()),
                },
                _ => None,
            };
            if e.send(Morceau::Fin).await.is_err() {
                return Lecture::StockageArrete;
            }
            Lecture::Acceptee(examen, analyse_antivirus)
        }
        // Accepted, but nothing was forwarded: cannot happen (only a refusal stops the
        // forwarding); the store aborted, so report its error.
        (Ok(_), None) => Lecture::StockageArrete,
        (Err(rejet), _) => Lecture::Refusee(Refus::from(rejet).into()),
    }
}
