//! Throttling of logins and of costly actions, on a [`CompteurStore`] that every instance
//! of a server shares: the counts are the same whichever instance a request reaches.
//!
//! - [`Limiteur`] counts each login attempt **before** its password is checked
//!   (increment-and-check, atomic in the store), so that however many requests arrive
//!   together — on however many instances — at most the allowed number of verifications
//!   ever run. Per (n°, client address), 10 failures in a sliding 15 minutes; per n° across
//!   addresses, beyond 100 failures in an hour, a delay that doubles up to a minute (never a
//!   lock-out); per address, 100 failures in an hour. Unknown numbers are counted like known
//!   ones. The reasoning is in docs/rules.md.
//! - [`Quota`]: costly actions per key in a sliding hour (pré-inscriptions per address, file
//!   operations per dossier), reserved before the work and given back when it did not
//!   happen.
//!
//! Keys are strings built here (`ip:…`, `n:…`); a store must not use them as paths.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::erreur::StorageError;

/// The instants recorded under one key, oldest first.
pub type Instants = Vec<DateTime<Utc>>;

/// What [`CompteurStore::modifier`] applies to the lists of its keys. Owned, so that a
/// store can run it where the lists are: depot-fs reads, changes and writes its locked
/// files in one visit to a blocking thread, instead of holding the locks across a return to
/// the caller's task. [`appliquer`] gives back what it computes.
pub type Modification = Box<dyn FnMut(&mut [Instants]) + Send>;

/// Lists of instants under string keys, changed atomically.
///
/// The contract (checked by `testkit::conformite_compteurs`):
/// - instants are kept to the microsecond at least (the rules count in whole microseconds,
///   so that an attempt taken back is found again in a store that keeps no finer, as
///   PostgreSQL's `timestamptz`);
/// - [`modifier`](Self::modifier) gives `f` the lists of `cles`, in that order (empty for an
///   unknown key), and stores what `f` leaves, as one atomic step against every other call
///   naming one of these keys, on any instance: no update is lost. A store may call `f`
///   again after a conflict, so `f` computes from its argument only;
/// - a list `f` empties removes its key;
/// - [`nettoyer`](Self::nettoyer) removes the keys whose latest instant is before `avant`.
#[async_trait]
pub trait CompteurStore: Send + Sync {
    /// Applies `f` to the lists of `cles`, atomically.
    async fn modifier(&self, cles: &[String], f: Modification) -> Result<(), StorageError>;

    /// Removes what nobody counted since `avant`; returns how many keys.
    async fn nettoyer(&self, avant: DateTime<Utc>) -> Result<u64, StorageError>;
}

/// Applies `f` to the lists of `cles` in `store`, atomically, and returns what its last run
/// returned (a store may run it again after a conflict).
pub async fn appliquer<R: Send + 'static>(
    store: &dyn CompteurStore,
    cles: &[String],
    mut f: impl FnMut(&mut [Instants]) -> R + Send + 'static,
) -> Result<R, StorageError> {
    let sortie = Arc::new(std::sync::Mutex::new(None));
    let s = sortie.clone();
    store
        .modifier(
            cles,
            Box::new(move |l: &mut [Instants]| {
                let r = f(l);
                *s.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(r);
            }),
        )
        .await?;
    let r = sortie
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    r.ok_or_else(|| StorageError::Unavailable("compteurs : modification non appliquée".to_owned()))
}

/// Why an attempt is not let through.
#[derive(Debug, thiserror::Error)]
pub enum Retenue {
    /// Too many: wait this many seconds.
    #[error("trop de tentatives : réessayez dans {0} s")]
    Attendre(u64),
    /// The counts cannot be read: nothing is let through unchecked.
    #[error(transparent)]
    Stockage(#[from] StorageError),
}

/// The throttling rules (the reasoning is in docs/rules.md).
#[derive(Debug, Clone, Copy)]
pub struct Regles {
    /// Failures allowed per (n°, client address) in [`Regles::fenetre_numero_ip`].
    pub max_numero_ip: usize,
    /// The window of that count.
    pub fenetre_numero_ip: Duration,
    /// Failures per n° across every address in an hour beyond which each further attempt
    /// waits a delay that doubles, up to [`Regles::delai_max`]: a growing delay, never a
    /// lock-out of the candidate.
    pub plafond_numero: usize,
    /// The longest wait between two attempts on a n° over its ceiling.
    pub delai_max: Duration,
    /// Failures allowed per client address in an hour, whatever the n°.
    pub max_ip: usize,
}

impl Default for Regles {
    fn default() -> Self {
        Self {
            max_numero_ip: 10,
            fenetre_numero_ip: Duration::minutes(15),
            plafond_numero: 100,
            delai_max: Duration::seconds(60),
            max_ip: 100,
        }
    }
}

const HEURE: Duration = Duration::hours(1);
/// Failures since the last success kept for the journal, at most.
const ECHECS_MAX: usize = 10_000;

/// Drops the instants older than `duree`.
fn glisser(v: &mut Instants, duree: Duration, now: DateTime<Utc>) {
    let garder = v.iter().position(|t| *t + duree > now).unwrap_or(v.len());
    v.drain(..garder);
}

/// Removes one instant equal to `quand` (the most recent such).
fn retirer(v: &mut Instants, quand: DateTime<Utc>) {
    if let Some(i) = v.iter().rposition(|t| *t == quand) {
        v.remove(i);
    }
}

/// `now` to the whole microsecond: what every store keeps.
fn a_la_microseconde(now: DateTime<Utc>) -> DateTime<Utc> {
    chrono::DurationRound::duration_trunc(now, Duration::microseconds(1)).unwrap_or(now)
}

fn attente(jusqu_a: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    (jusqu_a - now).num_seconds().max(1) as u64
}

/// The key a typed n° is counted under: unknown numbers are counted like known ones.
fn cle_numero(saisie: &str) -> String {
    saisie.trim().to_uppercase().chars().take(32).collect()
}

/// Login throttling.
pub struct Limiteur {
    store: Arc<dyn CompteurStore>,
    regles: Regles,
}

impl std::fmt::Debug for Limiteur {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiteur")
            .field("regles", &self.regles)
            .finish_non_exhaustive()
    }
}

/// An attempt counted before its password is checked: end it with [`Limiteur::reussie`],
/// [`Limiteur::echouee`] or [`Limiteur::annulee`].
#[derive(Debug)]
#[must_use]
pub struct Tentative {
    numero: String,
    ip: IpAddr,
    quand: DateTime<Utc>,
}

impl Tentative {
    /// Keys: per address, per (n°, address), per n°, failures since the last success.
    fn cles(&self) -> [String; 4] {
        cles(&self.numero, self.ip)
    }
}

fn cles(numero: &str, ip: IpAddr) -> [String; 4] {
    [
        format!("ip:{ip}"),
        format!("ni:{numero}|{ip}"),
        format!("n:{numero}"),
        format!("e:{numero}"),
    ]
}

impl Limiteur {
    /// Counts kept by `store`, under `regles`.
    pub fn new(store: Arc<dyn CompteurStore>, regles: Regles) -> Self {
        Self { store, regles }
    }

    /// Counts an attempt on `numero` from `ip`, or says how long to wait.
    pub async fn tenter(
        &self,
        numero: &str,
        ip: IpAddr,
        now: DateTime<Utc>,
    ) -> Result<Tentative, Retenue> {
        let r = self.regles;
        let numero = cle_numero(numero);
        let now = a_la_microseconde(now);
        appliquer(
            &*self.store,
            &cles(&numero, ip),
            move |l: &mut [Instants]| compter(&r, l, now),
        )
        .await?
        .map_err(Retenue::Attendre)?;
        Ok(Tentative {
            numero,
            ip,
            quand: now,
        })
    }

    /// The password was right: the attempt was no failure, the (n°, address) count starts
    /// again; returns the failures on this n° since its previous success (for the journal).
    pub async fn reussie(&self, t: Tentative) -> Result<u32, StorageError> {
        let quand = t.quand;
        appliquer(&*self.store, &t.cles(), move |l: &mut [Instants]| {
            let [ip, ni, n, e] = l else { return 0 };
            ni.clear();
            retirer(n, quand);
            retirer(ip, quand);
            retirer(e, quand);
            let echecs = u32::try_from(e.len()).unwrap_or(u32::MAX);
            e.clear();
            echecs
        })
        .await
    }

    /// The password was wrong (or the n° unknown): the attempt stays counted.
    pub fn echouee(&self, t: Tentative) {
        drop(t);
    }

    /// The attempt could not be decided (storage unavailable): it is not counted.
    pub async fn annulee(&self, t: Tentative) -> Result<(), StorageError> {
        let quand = t.quand;
        appliquer(&*self.store, &t.cles(), move |l: &mut [Instants]| {
            for v in l.iter_mut() {
                retirer(v, quand);
            }
        })
        .await
    }
}

/// The increment-and-check of one attempt on the lists `[ip, (n°, ip), n°, échecs]`.
fn compter(r: &Regles, l: &mut [Instants], now: DateTime<Utc>) -> Result<(), u64> {
    let [v_ip, v_ni, v_n, v_e] = l else {
        return Err(1);
    };
    glisser(v_ip, HEURE, now);
    if v_ip.len() >= r.max_ip {
        let premier = v_ip.first().copied().unwrap_or(now);
        return Err(attente(premier + HEURE, now));
    }
    glisser(v_ni, r.fenetre_numero_ip, now);
    if v_ni.len() >= r.max_numero_ip {
        let premier = v_ni.first().copied().unwrap_or(now);
        return Err(attente(premier + r.fenetre_numero_ip, now));
    }
    glisser(v_n, HEURE, now);
    if v_n.len() >= r.plafond_numero {
        // 1 s after the ceiling, then 2, 4… up to the maximum.
        let au_dela = u32::try_from(v_n.len() - r.plafond_numero).unwrap_or(u32::MAX);
        let delai = Duration::seconds(1i64 << au_dela.min(30)).min(r.delai_max);
        let dernier = v_n.last().copied().unwrap_or(now);
        if now < dernier + delai {
            return Err(attente(dernier + delai, now));
        }
    }
    v_ip.push(now);
    v_ni.push(now);
    v_n.push(now);
    if v_e.len() >= ECHECS_MAX {
        v_e.remove(0);
    }
    v_e.push(now);
    Ok(())
}

/// Costly actions per key in a sliding hour.
pub struct Quota {
    store: Arc<dyn CompteurStore>,
    espece: &'static str,
    max_par_heure: usize,
}

impl std::fmt::Debug for Quota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quota")
            .field("espece", &self.espece)
            .field("max_par_heure", &self.max_par_heure)
            .finish_non_exhaustive()
    }
}

/// A reservation made by [`Quota::reserver`].
#[derive(Debug, Clone)]
pub struct Place {
    cle: String,
    quand: DateTime<Utc>,
}

impl Quota {
    /// At most `max_par_heure` per key (0: no limit); `espece` names the action in the keys
    /// (`pre`, `op`…) so that two quotas never share a count.
    pub fn new(store: Arc<dyn CompteurStore>, espece: &'static str, max_par_heure: usize) -> Self {
        Self {
            store,
            espece,
            max_par_heure,
        }
    }

    /// Reserves one for `cle`, or says how long to wait.
    pub async fn reserver(
        &self,
        cle: &impl std::fmt::Display,
        now: DateTime<Utc>,
    ) -> Result<Option<Place>, Retenue> {
        if self.max_par_heure == 0 {
            return Ok(None);
        }
        let cle = format!("{}:{cle}", self.espece);
        let max = self.max_par_heure;
        let now = a_la_microseconde(now);
        appliquer(
            &*self.store,
            std::slice::from_ref(&cle),
            move |l: &mut [Instants]| {
                let [v] = l else { return Err(1) };
                glisser(v, HEURE, now);
                if v.len() >= max {
                    let premier = v.first().copied().unwrap_or(now);
                    Err(attente(premier + HEURE, now))
                } else {
                    v.push(now);
                    Ok(())
                }
            },
        )
        .await?
        .map_err(Retenue::Attendre)?;
        Ok(Some(Place { cle, quand: now }))
    }

    /// The action did not happen: the reservation is given back.
    pub async fn rendre(&self, place: Option<Place>) -> Result<(), StorageError> {
        let Some(p) = place else { return Ok(()) };
        let quand = p.quand;
        appliquer(
            &*self.store,
            std::slice::from_ref(&p.cle),
            move |l: &mut [Instants]| {
                for v in l.iter_mut() {
                    retirer(v, quand);
                }
            },
        )
        .await
    }
}

/// Removes the counts nobody touched for a day (run periodically by a server).
pub async fn nettoyer_compteurs(
    store: &dyn CompteurStore,
    now: DateTime<Utc>,
) -> Result<u64, StorageError> {
    store.nettoyer(now - Duration::days(1)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memoire::MemoireCompteurs;
    use futures_executor::block_on;

    fn t0() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_744_000_000, 0).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn limiteur() -> Limiteur {
        Limiteur::new(Arc::new(MemoireCompteurs::default()), Regles::default())
    }

    fn attente_de(r: Result<Tentative, Retenue>) -> u64 {
        match r {
            Err(Retenue::Attendre(s)) => s,
            autre => panic!("{autre:?}"),
        }
    }

    #[test]
    fn par_numero_et_adresse() {
        block_on(async {
            let l = limiteur();
            let a = ip("192.0.2.1");
            for i in 0..10 {
                let t = l
                    .tenter("2025-ani-aaaaaa", a, t0() + Duration::seconds(i))
                    .await
                    .unwrap();
                l.echouee(t);
            }
            let s = attente_de(
                l.tenter("2025-ANI-AAAAAA ", a, t0() + Duration::seconds(20))
                    .await,
            );
            assert_eq!(s, 15 * 60 - 20);
            // Another address is not locked out by the first one's failures.
            let t = l
                .tenter("2025-ANI-AAAAAA", ip("198.51.100.7"), t0())
                .await
                .unwrap();
            assert_eq!(
                l.reussie(t).await.unwrap(),
                10,
                "the journal gets the true count"
            );
            // The window slides.
            let t = l
                .tenter("2025-ANI-AAAAAA", a, t0() + Duration::minutes(15))
                .await
                .unwrap();
            // Success resets the (n°, address) count.
            assert_eq!(l.reussie(t).await.unwrap(), 0);
            for _ in 0..9 {
                let t = l.tenter("2025-ANI-AAAAAA", a, t0()).await.unwrap();
                l.echouee(t);
            }
            let t = l.tenter("2025-ANI-AAAAAA", a, t0()).await.unwrap();
            l.annulee(t).await.unwrap();
            assert!(
                l.tenter("2025-ANI-AAAAAA", a, t0()).await.is_ok(),
                "a refund"
            );
        });
    }

    #[test]
    fn preinscriptions_par_adresse() {
        block_on(async {
            let store = Arc::new(MemoireCompteurs::default());
            let l = Quota::new(store.clone(), "pre", 10);
            let a = ip("192.0.2.1");
            for _ in 0..9 {
                l.reserver(&a, t0()).await.unwrap();
            }
            let q = l.reserver(&a, t0()).await.unwrap();
            assert!(matches!(
                l.reserver(&a, t0()).await,
                Err(Retenue::Attendre(3600))
            ));
            // Another action's count is its own.
            assert!(
                Quota::new(store, "op", 1)
                    .reserver(&a, t0())
                    .await
                    .unwrap()
                    .is_some()
            );
            l.rendre(q).await.unwrap();
            assert!(
                l.reserver(&a, t0()).await.is_ok(),
                "a refused form gives its place back"
            );
            assert!(l.reserver(&ip("192.0.2.2"), t0()).await.is_ok());
            assert!(
                l.reserver(&a, t0() + Duration::hours(1)).await.is_ok(),
                "the hour slides"
            );
            let sans = Quota::new(Arc::new(MemoireCompteurs::default()), "pre", 0);
            for _ in 0..1000 {
                assert!(sans.reserver(&a, t0()).await.unwrap().is_none());
            }
        });
    }

    /// A faulty store that answers without applying the change.
    struct Oublieux;

    #[async_trait]
    impl CompteurStore for Oublieux {
        async fn modifier(&self, _: &[String], _: Modification) -> Result<(), StorageError> {
            Ok(())
        }
        async fn nettoyer(&self, _: DateTime<Utc>) -> Result<u64, StorageError> {
            Ok(0)
        }
    }

    #[test]
    fn un_stockage_qui_n_applique_rien_ne_laisse_passer_personne() {
        block_on(async {
            let l = Limiteur::new(Arc::new(Oublieux), Regles::default());
            assert!(
                matches!(
                    l.tenter("2026-0001", ip("192.0.2.1"), t0()).await,
                    Err(Retenue::Stockage(StorageError::Unavailable(_)))
                ),
                "an attempt the store did not count is not let through unchecked"
            );
            let q = Quota::new(Arc::new(Oublieux), "op", 10);
            assert!(matches!(
                q.reserver(&"2026-0001", t0()).await,
                Err(Retenue::Stockage(StorageError::Unavailable(_)))
            ));
        });
    }

    /// A store that keeps instants to the microsecond only (as PostgreSQL does).
    #[derive(Default)]
    struct Microsecondes(MemoireCompteurs);

    #[async_trait]
    impl CompteurStore for Microsecondes {
        async fn modifier(&self, cles: &[String], mut f: Modification) -> Result<(), StorageError> {
            self.0
                .modifier(
                    cles,
                    Box::new(move |l: &mut [Instants]| {
                        f(l);
                        for v in l.iter_mut() {
                            for t in v.iter_mut() {
                                *t = DateTime::from_timestamp_micros(t.timestamp_micros())
                                    .unwrap_or(*t);
                            }
                        }
                    }),
                )
                .await
        }
        async fn nettoyer(&self, avant: DateTime<Utc>) -> Result<u64, StorageError> {
            self.0.nettoyer(avant).await
        }
    }

    #[test]
    fn une_reussite_reprend_sa_tentative_meme_arrondie_par_le_stockage() {
        block_on(async {
            let l = Limiteur::new(Arc::new(Microsecondes::default()), Regles::default());
            let a = ip("192.0.2.1");
            // 150 candidates log in from one address (a CDG's office), at instants with
            // nanoseconds: none is a failure, none is held back.
            for i in 0..150 {
                let t = t0() + Duration::nanoseconds(1_000 * i + 789);
                let essai = l.tenter(&format!("2025-ANI-{i:06}"), a, t).await.unwrap();
                assert_eq!(l.reussie(essai).await.unwrap(), 0);
            }
            let t = l.tenter("autre", a, t0()).await.unwrap();
            l.annulee(t).await.unwrap();
        });
    }

    #[test]
    fn par_adresse() {
        block_on(async {
            let l = limiteur();
            let a = ip("192.0.2.1");
            for i in 0..100 {
                l.echouee(l.tenter(&format!("X{i}"), a, t0()).await.unwrap());
            }
            assert!(l.tenter("autre", a, t0()).await.is_err());
            assert!(l.tenter("autre", ip("192.0.2.2"), t0()).await.is_ok());
        });
    }

    #[test]
    fn au_dela_du_plafond_un_delai_qui_croit() {
        block_on(async {
            let l = limiteur();
            let n = "2025-ANI-AAAAAA";
            // 100 failures from 100 addresses within the hour.
            for i in 0..100u8 {
                l.echouee(
                    l.tenter(n, IpAddr::from([10, 0, 0, i]), t0())
                        .await
                        .unwrap(),
                );
            }
            // Then each attempt waits 1 s, 2 s, 4 s… after the previous one, whoever sends it.
            let mut t = t0();
            let mut attentes = Vec::new();
            for i in 0..8u8 {
                let a = IpAddr::from([10, 0, 1, i]);
                let s = attente_de(l.tenter(n, a, t).await);
                attentes.push(s);
                t += Duration::seconds(s as i64);
                l.echouee(l.tenter(n, a, t).await.unwrap());
            }
            assert_eq!(attentes, [1, 2, 4, 8, 16, 32, 60, 60]);
            // The real candidate gets in after at most the maximum delay.
            let s = attente_de(l.tenter(n, ip("203.0.113.9"), t).await);
            assert!(s <= 60);
            let ok = l
                .tenter(n, ip("203.0.113.9"), t + Duration::seconds(s as i64))
                .await
                .unwrap();
            assert_eq!(l.reussie(ok).await.unwrap(), 108);
        });
    }

    #[test]
    fn des_tentatives_simultanees_sont_comptees_avant_la_verification() {
        // 29 attempts arrive together: only 10 are let through to a verification.
        let l = Arc::new(limiteur());
        let fils: Vec<_> = (0..29)
            .map(|_| {
                let l = l.clone();
                std::thread::spawn(move || {
                    block_on(l.tenter("2025-ANI-AAAAAA", ip("192.0.2.1"), t0())).ok()
                })
            })
            .collect();
        let passees: Vec<Tentative> = fils.into_iter().filter_map(|f| f.join().unwrap()).collect();
        assert_eq!(passees.len(), 10);
    }
}
