//! Sessions (tokens) and login throttling.
//!
//! - Tokens are 256 random bits, given to the client once (base64url) and kept server-side
//!   only as their SHA-256. Idle expiry 30 minutes, absolute 12 hours, dead at logout. A
//!   token is scoped to one dossier. Sessions live in memory: a restart logs everyone out.
//! - Throttling never locks the real candidate out for good: per n° de dossier (known or
//!   not, counted alike), at most 10 failures in a sliding 15 minutes; per client IP, at most
//!   100 failures in an hour. A success resets the n°'s count.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
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
struct Session {
    numero: NumeroDossier,
    creee: DateTime<Utc>,
    vue: DateTime<Utc>,
    csrf: String,
}

/// A valid session, as seen by a request.
#[derive(Debug, Clone)]
pub struct SessionOuverte {
    /// The dossier it is scoped to.
    pub numero: NumeroDossier,
    /// The anti-CSRF token of its forms.
    pub csrf: String,
    /// When it expires if unused.
    pub expire_le: DateTime<Utc>,
}

/// Server-side sessions.
#[derive(Debug, Default)]
pub struct Sessions(Mutex<HashMap<[u8; 32], Session>>);

fn aleatoire(hasard: &dyn Random) -> String {
    let mut octets = [0u8; 32];
    hasard.remplir(&mut octets);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(octets)
}

fn cle(jeton: &str) -> [u8; 32] {
    *Sha256::de(jeton.as_bytes()).octets()
}

fn expiration(s: &Session) -> DateTime<Utc> {
    (s.vue + INACTIVITE).min(s.creee + DUREE_MAX)
}

impl Sessions {
    /// Opens a session for a dossier; returns the token (shown once) and the session.
    pub fn ouvrir(
        &self,
        numero: NumeroDossier,
        now: DateTime<Utc>,
        hasard: &dyn Random,
    ) -> (String, SessionOuverte) {
        let jeton = aleatoire(hasard);
        let s = Session {
            numero,
            creee: now,
            vue: now,
            csrf: aleatoire(hasard),
        };
        let ouverte = SessionOuverte {
            numero: s.numero.clone(),
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
    pub fn verifier(&self, jeton: &str, now: DateTime<Utc>) -> Option<SessionOuverte> {
        let mut m = verrou(&self.0);
        let k = cle(jeton);
        let s = m.get_mut(&k)?;
        if expiration(s) <= now {
            m.remove(&k);
            return None;
        }
        s.vue = now;
        Some(SessionOuverte {
            numero: s.numero.clone(),
            csrf: s.csrf.clone(),
            expire_le: expiration(s),
        })
    }

    /// Ends a session (logout).
    pub fn fermer(&self, jeton: &str) {
        verrou(&self.0).remove(&cle(jeton));
    }
}

/// Failures per key in a sliding window.
#[derive(Debug)]
struct Fenetre<K> {
    echecs: Mutex<HashMap<K, VecDeque<DateTime<Utc>>>>,
    max: usize,
    duree: Duration,
}

impl<K: Eq + Hash + Clone> Fenetre<K> {
    fn new(max: usize, duree: Duration) -> Self {
        Self {
            echecs: Mutex::new(HashMap::new()),
            max,
            duree,
        }
    }

    /// `Some(seconds to wait)` when the key is over its limit.
    fn bloque(&self, k: &K, now: DateTime<Utc>) -> Option<u64> {
        let mut m = verrou(&self.echecs);
        let v = m.get_mut(k)?;
        while v.front().is_some_and(|t| *t + self.duree <= now) {
            v.pop_front();
        }
        if v.len() >= self.max {
            let libre = v.front().map(|t| *t + self.duree - now).unwrap_or_default();
            Some(libre.num_seconds().max(1) as u64)
        } else {
            None
        }
    }

    fn echec(&self, k: K, now: DateTime<Utc>) {
        let mut m = verrou(&self.echecs);
        if m.len() > 100_000 {
            let duree = self.duree;
            m.retain(|_, v| v.back().is_some_and(|t| *t + duree > now));
        }
        let v = m.entry(k).or_default();
        v.push_back(now);
        while v.len() > self.max {
            v.pop_front();
        }
    }

    fn compter(&self, k: &K, now: DateTime<Utc>) -> usize {
        verrou(&self.echecs)
            .get(k)
            .map_or(0, |v| v.iter().filter(|t| **t + self.duree > now).count())
    }

    fn effacer(&self, k: &K) {
        verrou(&self.echecs).remove(k);
    }
}

/// Login throttling.
#[derive(Debug)]
pub struct Limiteur {
    par_numero: Fenetre<String>,
    par_ip: Fenetre<IpAddr>,
}

impl Default for Limiteur {
    fn default() -> Self {
        Self {
            par_numero: Fenetre::new(10, Duration::minutes(15)),
            par_ip: Fenetre::new(100, Duration::hours(1)),
        }
    }
}

/// The key a typed n° is counted under: unknown numbers are counted like known ones.
fn cle_numero(saisie: &str) -> String {
    saisie.trim().to_uppercase().chars().take(32).collect()
}

impl Limiteur {
    /// `Err(seconds)` when this n° or this IP must wait.
    pub fn autoriser(&self, numero: &str, ip: IpAddr, now: DateTime<Utc>) -> Result<(), u64> {
        let a = self.par_numero.bloque(&cle_numero(numero), now);
        let b = self.par_ip.bloque(&ip, now);
        match a.max(b) {
            Some(s) => Err(s),
            None => Ok(()),
        }
    }

    /// Counts a failed login.
    pub fn echec(&self, numero: &str, ip: IpAddr, now: DateTime<Utc>) {
        self.par_numero.echec(cle_numero(numero), now);
        self.par_ip.echec(ip, now);
    }

    /// A successful login resets the n°'s count; returns the failures it erased.
    pub fn succes(&self, numero: &str, now: DateTime<Utc>) -> u32 {
        let k = cle_numero(numero);
        let n = self.par_numero.compter(&k, now);
        self.par_numero.effacer(&k);
        u32::try_from(n).unwrap_or(u32::MAX)
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

    #[test]
    fn limiteur() {
        let l = Limiteur::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for i in 0..10 {
            assert!(l.autoriser("2025-ani-aaaaaa", ip, t0()).is_ok(), "{i}");
            l.echec("2025-ani-aaaaaa", ip, t0() + Duration::seconds(i));
        }
        let attente = l
            .autoriser("2025-ANI-AAAAAA ", ip, t0() + Duration::seconds(20))
            .unwrap_err();
        assert_eq!(attente, 15 * 60 - 20);
        // The window slides.
        assert!(
            l.autoriser("2025-ANI-AAAAAA", ip, t0() + Duration::minutes(15))
                .is_ok()
        );
        // Success resets, and says how many failures were still in the window (the check
        // at +15 min slid the first one out).
        assert_eq!(l.succes("2025-ANI-AAAAAA", t0() + Duration::minutes(1)), 9);
        assert!(l.autoriser("2025-ANI-AAAAAA", ip, t0()).is_ok());
        // Per IP: 100 failures over many numbers.
        for i in 0..100 {
            l.echec(&format!("X{i}"), ip, t0());
        }
        assert!(l.autoriser("autre", ip, t0()).is_err());
        assert!(
            l.autoriser("autre", "127.0.0.2".parse().unwrap(), t0())
                .is_ok()
        );
    }
}
