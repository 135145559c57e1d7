//! Sessions (tokens) and login throttling.
//!
//! - Tokens are 256 random bits, given to the client once (base64url) and kept server-side
//!   only as their SHA-256. Idle expiry 30 minutes, absolute 12 hours, dead at logout. A
//!   token is scoped to one dossier. Sessions live in memory: a restart logs everyone out.
//! - Throttling ([`Limiteur`]) counts each attempt before its password is checked; per (n°,
//!   client address), 10 failures in a sliding 15 minutes; per n° across addresses, beyond
//!   100 failures in an hour, a delay that doubles up to a minute (never a lock-out); per
//!   address, 100 failures in an hour. Unknown numbers are counted like known ones.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use depot_core::{NumeroDossier, Random, Sha256};

fn verrou<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Idle expiry.
pub const INACTIVITE: Duration = Duration::minutes(30);
/// Absolute expiry.
pub const DUREE_MAX: Duration = Duration::hours(12);

#[derive(Debug, Clone)]
struct Session<T> {
    titulaire: T,
    creee: DateTime<Utc>,
    vue: DateTime<Utc>,
    csrf: String,
}

/// A valid session, as seen by a request.
#[derive(Debug, Clone)]
pub struct SessionOuverte<T = NumeroDossier> {
    /// Whose it is: the dossier a candidate's session is scoped to, or the staff member.
    pub titulaire: T,
    /// The anti-CSRF token of its forms.
    pub csrf: String,
    /// When it expires if unused.
    pub expire_le: DateTime<Utc>,
}

/// Server-side sessions: the candidates' (scoped to a dossier) and the staff's pages'.
#[derive(Debug)]
pub struct Sessions<T = NumeroDossier>(Mutex<HashMap<[u8; 32], Session<T>>>);

impl<T> Default for Sessions<T> {
    fn default() -> Self {
        Self(Mutex::default())
    }
}

fn aleatoire(hasard: &dyn Random) -> String {
    let mut octets = [0u8; 32];
    hasard.remplir(&mut octets);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(octets)
}

fn cle(jeton: &str) -> [u8; 32] {
    *Sha256::de(jeton.as_bytes()).octets()
}

fn expiration<T>(s: &Session<T>) -> DateTime<Utc> {
    (s.vue + INACTIVITE).min(s.creee + DUREE_MAX)
}

impl<T: Clone> Sessions<T> {
    /// Opens a session for `titulaire`; returns the token (shown once) and the session.
    pub fn ouvrir(
        &self,
        titulaire: T,
        now: DateTime<Utc>,
        hasard: &dyn Random,
    ) -> (String, SessionOuverte<T>) {
        let jeton = aleatoire(hasard);
        let s = Session {
            titulaire,
            creee: now,
            vue: now,
            csrf: aleatoire(hasard),
        };
        let ouverte = SessionOuverte {
            titulaire: s.titulaire.clone(),
            csrf: s.csrf.clone(),
            expire_le: expiration(&s),
        };
        let mut m = verrou(&self.0);
        if m.len() > 10_000 {
            m.retain(|_, s| expiration(s) > now);
        }
        m.insert(cle(&jeton), s);
        (jeton, ouverte)
    }

    /// Checks a token and refreshes its idle expiry.
    pub fn verifier(&self, jeton: &str, now: DateTime<Utc>) -> Option<SessionOuverte<T>> {
        let mut m = verrou(&self.0);
        let k = cle(jeton);
        let s = m.get_mut(&k)?;
        if expiration(s) <= now {
            m.remove(&k);
            return None;
        }
        s.vue = now;
        Some(SessionOuverte {
            titulaire: s.titulaire.clone(),
            csrf: s.csrf.clone(),
            expire_le: expiration(s),
        })
    }

    /// Ends a session (logout).
    pub fn fermer(&self, jeton: &str) {
        verrou(&self.0).remove(&cle(jeton));
    }
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

/// Drops the instants older than `duree`.
fn glisser(v: &mut VecDeque<DateTime<Utc>>, duree: Duration, now: DateTime<Utc>) {
    while v.front().is_some_and(|t| *t + duree <= now) {
        v.pop_front();
    }
}

/// Removes one attempt counted at `quand` (the most recent such).
fn retirer(v: Option<&mut VecDeque<DateTime<Utc>>>, quand: DateTime<Utc>) {
    if let Some(v) = v
        && let Some(i) = v.iter().rposition(|t| *t == quand)
    {
        v.remove(i);
    }
}

#[derive(Debug, Default)]
struct Compteurs {
    numero_ip: HashMap<(String, IpAddr), VecDeque<DateTime<Utc>>>,
    numero: HashMap<String, VecDeque<DateTime<Utc>>>,
    ip: HashMap<IpAddr, VecDeque<DateTime<Utc>>>,
    /// Failures since the last success, for the journal.
    depuis_succes: HashMap<String, u32>,
}

/// Login throttling: every attempt is counted, atomically, **before** the password is
/// checked (increment-and-check), so that however many requests arrive together at most the
/// allowed number of verifications ever run. A success then takes its attempt back.
#[derive(Debug, Default)]
pub struct Limiteur {
    compteurs: Mutex<Compteurs>,
    regles: Regles,
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

/// The key a typed n° is counted under: unknown numbers are counted like known ones.
fn cle_numero(saisie: &str) -> String {
    saisie.trim().to_uppercase().chars().take(32).collect()
}

fn attente(jusqu_a: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    (jusqu_a - now).num_seconds().max(1) as u64
}

impl Limiteur {
    /// With other rules (tests, a CDG's policy).
    pub fn new(regles: Regles) -> Self {
        Self {
            compteurs: Mutex::default(),
            regles,
        }
    }

    /// Counts an attempt on `numero` from `ip`, or says how many seconds to wait.
    pub fn tenter(&self, numero: &str, ip: IpAddr, now: DateTime<Utc>) -> Result<Tentative, u64> {
        let r = &self.regles;
        let numero = cle_numero(numero);
        let mut c = verrou(&self.compteurs);
        if c.numero_ip.len() + c.numero.len() + c.ip.len() > 300_000 {
            let f = r.fenetre_numero_ip;
            c.numero_ip
                .retain(|_, v| v.back().is_some_and(|t| *t + f > now));
            c.numero
                .retain(|_, v| v.back().is_some_and(|t| *t + HEURE > now));
            c.ip.retain(|_, v| v.back().is_some_and(|t| *t + HEURE > now));
        }
        let Compteurs {
            numero_ip,
            numero: par_numero,
            ip: par_ip,
            depuis_succes,
        } = &mut *c;
        let v_ip = par_ip.entry(ip).or_default();
        glisser(v_ip, HEURE, now);
        if v_ip.len() >= r.max_ip {
            let premier = v_ip.front().copied().unwrap_or(now);
            return Err(attente(premier + HEURE, now));
        }
        let v_ni = numero_ip.entry((numero.clone(), ip)).or_default();
        glisser(v_ni, r.fenetre_numero_ip, now);
        if v_ni.len() >= r.max_numero_ip {
            let premier = v_ni.front().copied().unwrap_or(now);
            return Err(attente(premier + r.fenetre_numero_ip, now));
        }
        let v_n = par_numero.entry(numero.clone()).or_default();
        glisser(v_n, HEURE, now);
        if v_n.len() >= r.plafond_numero {
            // 1 s after the ceiling, then 2, 4… up to the maximum.
            let au_dela = u32::try_from(v_n.len() - r.plafond_numero).unwrap_or(u32::MAX);
            let delai = Duration::seconds(1i64 << au_dela.min(30)).min(r.delai_max);
            let dernier = v_n.back().copied().unwrap_or(now);
            if now < dernier + delai {
                return Err(attente(dernier + delai, now));
            }
        }
        v_ip.push_back(now);
        v_ni.push_back(now);
        v_n.push_back(now);
        *depuis_succes.entry(numero.clone()).or_default() += 1;
        Ok(Tentative {
            numero,
            ip,
            quand: now,
        })
    }

    /// The password was right: the attempt was no failure, the (n°, address) count starts
    /// again; returns the failures on this n° since its previous success (for the journal).
    pub fn reussie(&self, t: Tentative) -> u32 {
        let mut c = verrou(&self.compteurs);
        c.numero_ip.remove(&(t.numero.clone(), t.ip));
        retirer(c.numero.get_mut(&t.numero), t.quand);
        retirer(c.ip.get_mut(&t.ip), t.quand);
        c.depuis_succes
            .remove(&t.numero)
            .unwrap_or(1)
            .saturating_sub(1)
    }

    /// The password was wrong (or the n° unknown): the attempt stays counted.
    pub fn echouee(&self, t: Tentative) {
        drop(t);
    }

    /// The attempt could not be decided (storage unavailable): it is not counted.
    pub fn annulee(&self, t: Tentative) {
        let mut c = verrou(&self.compteurs);
        retirer(c.numero_ip.get_mut(&(t.numero.clone(), t.ip)), t.quand);
        retirer(c.numero.get_mut(&t.numero), t.quand);
        retirer(c.ip.get_mut(&t.ip), t.quand);
        if let Some(n) = c.depuis_succes.get_mut(&t.numero) {
            *n = n.saturating_sub(1);
        }
    }
}

/// Costly actions per key in a sliding hour: pré-inscriptions per client address (each
/// costs an argon2 hash and a dossier), file operations per dossier (each rewrites its
/// record). Reserved before the work (increment-and-check, like logins) and given back when
/// the action did not happen.
#[derive(Debug)]
pub struct Quota<K> {
    par_ip: Mutex<HashMap<K, VecDeque<DateTime<Utc>>>>,
    max_par_heure: usize,
}

/// Pré-inscriptions per client address.
pub type LimitePreinscriptions = Quota<IpAddr>;

impl<K: std::hash::Hash + Eq + Clone> Quota<K> {
    /// At most `max_par_heure` per key (0: no limit).
    pub fn new(max_par_heure: usize) -> Self {
        Self {
            par_ip: Mutex::default(),
            max_par_heure,
        }
    }

    /// Reserves one for `ip`, or says how many seconds to wait.
    pub fn reserver(&self, ip: K, now: DateTime<Utc>) -> Result<DateTime<Utc>, u64> {
        if self.max_par_heure == 0 {
            return Ok(now);
        }
        let mut m = verrou(&self.par_ip);
        if m.len() > 100_000 {
            m.retain(|_, v| v.back().is_some_and(|t| *t + HEURE > now));
        }
        let v = m.entry(ip).or_default();
        glisser(v, HEURE, now);
        if v.len() >= self.max_par_heure {
            let premier = v.front().copied().unwrap_or(now);
            return Err(attente(premier + HEURE, now));
        }
        v.push_back(now);
        Ok(now)
    }

    /// The action did not happen: the reservation made at `quand` is given back.
    pub fn rendre(&self, ip: K, quand: DateTime<Utc>) {
        retirer(verrou(&self.par_ip).get_mut(&ip), quand);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use depot_core::SystemRandom;

    fn t0() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_744_000_000, 0).unwrap()
    }

    #[test]
    fn expirations() {
        let s = Sessions::default();
        let n = NumeroDossier::parse("2025-ANI-AAAAAA").unwrap();
        let (jeton, o) = s.ouvrir(n.clone(), t0(), &SystemRandom);
        assert_eq!(o.expire_le, t0() + INACTIVITE);
        assert!(jeton.len() >= 43);
        // Used every 29 minutes, it lives until the absolute limit.
        let mut t = t0();
        while t + Duration::minutes(29) < t0() + DUREE_MAX {
            t += Duration::minutes(29);
            assert!(s.verifier(&jeton, t).is_some(), "{t}");
        }
        assert!(s.verifier(&jeton, t0() + DUREE_MAX).is_none());
        // Idle for 30 minutes: dead.
        let (j2, _) = s.ouvrir(n, t0(), &SystemRandom);
        assert!(s.verifier(&j2, t0() + INACTIVITE).is_none());
        assert!(s.verifier("inconnu", t0()).is_none());
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn par_numero_et_adresse() {
        let l = Limiteur::default();
        let a = ip("192.0.2.1");
        for i in 0..10 {
            let t = l
                .tenter("2025-ani-aaaaaa", a, t0() + Duration::seconds(i))
                .unwrap();
            l.echouee(t);
        }
        let attente = l
            .tenter("2025-ANI-AAAAAA ", a, t0() + Duration::seconds(20))
            .unwrap_err();
        assert_eq!(attente, 15 * 60 - 20);
        // Another address is not locked out by the first one's failures.
        let t = l
            .tenter("2025-ANI-AAAAAA", ip("198.51.100.7"), t0())
            .unwrap();
        assert_eq!(l.reussie(t), 10, "the journal gets the true count");
        // The window slides.
        let t = l
            .tenter("2025-ANI-AAAAAA", a, t0() + Duration::minutes(15))
            .unwrap();
        // Success resets the (n°, address) count.
        assert_eq!(l.reussie(t), 0);
        for _ in 0..9 {
            let t = l.tenter("2025-ANI-AAAAAA", a, t0()).unwrap();
            l.echouee(t);
        }
        let t = l.tenter("2025-ANI-AAAAAA", a, t0()).unwrap();
        l.annulee(t);
        assert!(l.tenter("2025-ANI-AAAAAA", a, t0()).is_ok(), "a refund");
    }

    #[test]
    fn preinscriptions_par_adresse() {
        let l = LimitePreinscriptions::new(10);
        let a = ip("192.0.2.1");
        for _ in 0..9 {
            l.reserver(a, t0()).unwrap();
        }
        let q = l.reserver(a, t0()).unwrap();
        assert_eq!(l.reserver(a, t0()), Err(3600));
        l.rendre(a, q);
        assert!(
            l.reserver(a, t0()).is_ok(),
            "a refused form gives its place back"
        );
        assert!(l.reserver(ip("192.0.2.2"), t0()).is_ok());
        assert!(
            l.reserver(a, t0() + Duration::hours(1)).is_ok(),
            "the hour slides"
        );
        let sans = LimitePreinscriptions::new(0);
        for _ in 0..1000 {
            sans.reserver(a, t0()).unwrap();
        }
    }

    #[test]
    fn par_adresse() {
        let l = Limiteur::default();
        let a = ip("192.0.2.1");
        for i in 0..100 {
            l.echouee(l.tenter(&format!("X{i}"), a, t0()).unwrap());
        }
        assert!(l.tenter("autre", a, t0()).is_err());
        assert!(l.tenter("autre", ip("192.0.2.2"), t0()).is_ok());
    }

    #[test]
    fn au_dela_du_plafond_un_delai_qui_croit() {
        let l = Limiteur::default();
        let n = "2025-ANI-AAAAAA";
        // 100 failures from 100 addresses within the hour.
        for i in 0..100u8 {
            l.echouee(l.tenter(n, IpAddr::from([10, 0, 0, i]), t0()).unwrap());
        }
        // Then each attempt waits 1 s, 2 s, 4 s… after the previous one, whoever sends it.
        let mut t = t0();
        let mut attentes = Vec::new();
        for i in 0..8u8 {
            let a = IpAddr::from([10, 0, 1, i]);
            let s = l.tenter(n, a, t).unwrap_err();
            attentes.push(s);
            t += Duration::seconds(s as i64);
            l.echouee(l.tenter(n, a, t).unwrap());
        }
        assert_eq!(attentes, [1, 2, 4, 8, 16, 32, 60, 60]);
        // The real candidate gets in after at most the maximum delay.
        let s = l.tenter(n, ip("203.0.113.9"), t).unwrap_err();
        assert!(s <= 60);
        let ok = l
            .tenter(n, ip("203.0.113.9"), t + Duration::seconds(s as i64))
            .unwrap();
        assert_eq!(l.reussie(ok), 108);
    }

    #[test]
    fn des_tentatives_simultanees_sont_comptees_avant_la_verification() {
        // 29 attempts arrive together: only 10 are let through to a verification.
        let l = std::sync::Arc::new(Limiteur::default());
        let fils: Vec<_> = (0..29)
            .map(|_| {
                let l = l.clone();
                std::thread::spawn(move || l.tenter("2025-ANI-AAAAAA", ip("192.0.2.1"), t0()))
            })
            .collect();
        let passees: Vec<Tentative> = fils
            .into_iter()
            .filter_map(|f| f.join().unwrap().ok())
            .collect();
        assert_eq!(passees.len(), 10);
    }
}
