//! Sessions: who a token belongs to, kept by a [`SessionStore`] so that every instance of a
//! server — and the same server after a restart — knows it.
//!
//! - A token is 256 random bits, given to the client once (base64url) and stored only as its
//!   SHA-256: whoever reads the store cannot use what they read.
//! - Idle expiry [`INACTIVITE`] (30 minutes), absolute expiry [`DUREE_MAX`] (12 hours), dead
//!   at logout. Both are computed from the instants the store holds (creation, last use), so
//!   any instance enforces them alike.
//! - The last use is written back at most once per [`RAFRAICHISSEMENT`] (a minute): a
//!   request does not cost a durable write. A session may therefore expire up to a minute
//!   earlier than 30 minutes after its very last request, never later.

use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::erreur::StorageError;
use crate::ids::{NumeroDossier, Sha256};
use crate::instruction::Gestionnaire;
use crate::ports::Random;

/// Idle expiry.
pub const INACTIVITE: Duration = Duration::minutes(30);
/// Absolute expiry.
pub const DUREE_MAX: Duration = Duration::hours(12);
/// The last use is stored again only when it is older than this.
pub const RAFRAICHISSEMENT: Duration = Duration::minutes(1);

/// Whose sessions: the two kinds never share a token space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EspeceSession {
    /// A candidate's, scoped to one dossier.
    Candidat,
    /// A staff member's, on the staff pages.
    Gestion,
}

impl EspeceSession {
    /// Its stable name in stores.
    pub fn code(self) -> &'static str {
        match self {
            Self::Candidat => "candidat",
            Self::Gestion => "gestion",
        }
    }
}

/// A session as stored: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStockee {
    /// Whose it is, as [`Titulaire::encoder`] wrote it.
    pub titulaire: String,
    /// Opened at.
    pub creee: DateTime<Utc>,
    /// Last use stored (at most [`RAFRAICHISSEMENT`] behind the real one).
    pub vue: DateTime<Utc>,
    /// The anti-CSRF token of its forms.
    pub csrf: String,
}

impl SessionStockee {
    /// When it expires if unused from now on.
    pub fn expire_le(&self) -> DateTime<Utc> {
        (self.vue + INACTIVITE).min(self.creee + DUREE_MAX)
    }

    /// Whether it is still open for a store's `purger` and `compter`: last used at or after
    /// `inactive_avant`, created at or after `creee_avant`.
    pub fn ouverte(&self, inactive_avant: DateTime<Utc>, creee_avant: DateTime<Utc>) -> bool {
        self.vue >= inactive_avant && self.creee >= creee_avant
    }
}

/// Where sessions live, keyed by the SHA-256 of their token.
///
/// The contract (checked by `testkit::conformite_sessions`):
/// - [`creer`](Self::creer) is durable when it returns: a restart keeps the session;
/// - [`toucher`](Self::toucher) moves the last use forward, never back, and never brings
///   back a deleted session (a logout that races a request stays a logout);
/// - [`supprimer`](Self::supprimer) of what is not there succeeds;
/// - [`purger`](Self::purger) removes every session idle since `inactive_avant` or created
///   before `creee_avant`, and only those;
/// - [`supprimer_titulaire`](Self::supprimer_titulaire) removes every session of one holder,
///   and only those.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session.
    async fn creer(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
        session: &SessionStockee,
    ) -> Result<(), StorageError>;

    /// The session, or `None` when there is none (never was, logged out, purged).
    async fn lire(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
    ) -> Result<Option<SessionStockee>, StorageError>;

    /// Records a use at `vue` (a later instant than the stored one; otherwise nothing).
    async fn toucher(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
        vue: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Ends a session.
    async fn supprimer(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
    ) -> Result<(), StorageError>;

    /// Ends every session of `titulaire` (as [`Titulaire::encoder`] wrote it), e.g. after
    /// a password reset; returns how many. Not on a request's path: a store may read every
    /// session to answer.
    async fn supprimer_titulaire(
        &self,
        espece: EspeceSession,
        titulaire: &str,
    ) -> Result<u64, StorageError>;

    /// Removes the expired sessions; returns how many.
    async fn purger(
        &self,
        inactive_avant: DateTime<Utc>,
        creee_avant: DateTime<Utc>,
    ) -> Result<u64, StorageError>;

    /// How many sessions of `espece` are alive: last used at or after `inactive_avant`,
    /// created at or after `creee_avant`. For the operators' gauge
    /// ([`sessions_ouvertes`]); a store may read every session to answer (depot-fs), or
    /// approximate from what its listing gives (depot-s3: the last use only), so it is never
    /// on a request's path.
    async fn compter(
        &self,
        espece: EspeceSession,
        inactive_avant: DateTime<Utc>,
        creee_avant: DateTime<Utc>,
    ) -> Result<u64, StorageError>;
}

/// How many sessions of `espece` are open at `now`, under the expiry rules of [`Sessions`].
pub async fn sessions_ouvertes(
    store: &dyn SessionStore,
    espece: EspeceSession,
    now: DateTime<Utc>,
) -> Result<u64, StorageError> {
    store
        .compter(espece, now - INACTIVITE, now - DUREE_MAX)
        .await
}

/// What a session can belong to.
pub trait Titulaire: Clone + Send + Sync + Sized {
    /// Its token space.
    const ESPECE: EspeceSession;
    /// As stored.
    fn encoder(&self) -> String;
    /// From what [`encoder`](Self::encoder) wrote; `None` when unreadable (the session is
    /// then treated as absent).
    fn decoder(s: &str) -> Option<Self>;
}

impl Titulaire for NumeroDossier {
    const ESPECE: EspeceSession = EspeceSession::Candidat;
    fn encoder(&self) -> String {
        self.as_str().to_owned()
    }
    fn decoder(s: &str) -> Option<Self> {
        NumeroDossier::parse(s).ok()
    }
}

impl Titulaire for Gestionnaire {
    const ESPECE: EspeceSession = EspeceSession::Gestion;
    fn encoder(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
    fn decoder(s: &str) -> Option<Self> {
        serde_json::from_str(s).ok()
    }
}

/// A valid session, as seen by a request.
#[derive(Debug, Clone)]
pub struct SessionOuverte<T = NumeroDossier> {
    /// Whose it is.
    pub titulaire: T,
    /// The anti-CSRF token of its forms.
    pub csrf: String,
    /// When it expires if unused.
    pub expire_le: DateTime<Utc>,
}

/// The sessions of one kind of holder, on a store.
pub struct Sessions<T = NumeroDossier> {
    store: Arc<dyn SessionStore>,
    _titulaire: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Sessions<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sessions { .. }")
    }
}

fn aleatoire(hasard: &dyn Random) -> String {
    let mut octets = [0u8; 32];
    hasard.remplir(&mut octets);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(octets)
}

fn empreinte(jeton: &str) -> Sha256 {
    Sha256::de(jeton.as_bytes())
}

impl<T: Titulaire> Sessions<T> {
    /// Sessions kept by `store`.
    pub fn new(store: Arc<dyn SessionStore>) -> Self {
        Self {
            store,
            _titulaire: PhantomData,
        }
    }

    /// Opens a session for `titulaire`; returns the token (shown once) and the session.
    pub async fn ouvrir(
        &self,
        titulaire: T,
        now: DateTime<Utc>,
        hasard: &dyn Random,
    ) -> Result<(String, SessionOuverte<T>), StorageError> {
        let jeton = aleatoire(hasard);
        let s = SessionStockee {
            titulaire: titulaire.encoder(),
            creee: now,
            vue: now,
            csrf: aleatoire(hasard),
        };
        self.store.creer(T::ESPECE, &empreinte(&jeton), &s).await?;
        let expire_le = s.expire_le();
        Ok((
            jeton,
            SessionOuverte {
                titulaire,
                csrf: s.csrf,
                expire_le,
            },
        ))
    }

    /// The session of a token, if it is alive; records the use (at most once a minute).
    pub async fn verifier(
        &self,
        jeton: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionOuverte<T>>, StorageError> {
        let e = empreinte(jeton);
        let Some(mut s) = self.store.lire(T::ESPECE, &e).await? else {
            return Ok(None);
        };
        if s.expire_le() <= now {
            self.store.supprimer(T::ESPECE, &e).await?;
            return Ok(None);
        }
        let Some(titulaire) = T::decoder(&s.titulaire) else {
            return Ok(None);
        };
        if now - s.vue >= RAFRAICHISSEMENT {
            self.store.toucher(T::ESPECE, &e, now).await?;
            s.vue = now;
        }
        Ok(Some(SessionOuverte {
            titulaire,
            expire_le: s.expire_le(),
            csrf: s.csrf,
        }))
    }

    /// Ends a session (logout).
    pub async fn fermer(&self, jeton: &str) -> Result<(), StorageError> {
        self.store.supprimer(T::ESPECE, &empreinte(jeton)).await
    }

    /// Ends every session of `titulaire`; returns how many.
    pub async fn fermer_toutes(&self, titulaire: &T) -> Result<u64, StorageError> {
        self.store
            .supprimer_titulaire(T::ESPECE, &titulaire.encoder())
            .await
    }
}

/// Removes every expired session of `store` (run periodically by a server).
pub async fn purger_sessions(
    store: &dyn SessionStore,
    now: DateTime<Utc>,
) -> Result<u64, StorageError> {
    store.purger(now - INACTIVITE, now - DUREE_MAX).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memoire::MemoireSessions;
    use crate::ports::SystemRandom;

    fn t0() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_744_000_000, 0).unwrap()
    }

    #[test]
    fn expirations() {
        futures_executor::block_on(async {
            let store = Arc::new(MemoireSessions::default());
            let s = Sessions::new(store.clone());
            let n = NumeroDossier::parse("2025-ANI-AAAAAA").unwrap();
            let (jeton, o) = s.ouvrir(n.clone(), t0(), &SystemRandom).await.unwrap();
            assert_eq!(o.expire_le, t0() + INACTIVITE);
            assert!(jeton.len() >= 43);
            // Used every 29 minutes, it lives until the absolute limit.
            let mut t = t0();
            while t + Duration::minutes(29) < t0() + DUREE_MAX {
                t += Duration::minutes(29);
                assert!(s.verifier(&jeton, t).await.unwrap().is_some(), "{t}");
            }
            assert!(
                s.verifier(&jeton, t0() + DUREE_MAX)
                    .await
                    .unwrap()
                    .is_none()
            );
            // Idle for 30 minutes: dead.
            let (j2, _) = s.ouvrir(n, t0(), &SystemRandom).await.unwrap();
            assert!(s.verifier(&j2, t0() + INACTIVITE).await.unwrap().is_none());
            assert!(s.verifier("inconnu", t0()).await.unwrap().is_none());
            // A staff token is not a candidate's.
            let g: Sessions<Gestionnaire> = Sessions::new(store);
            let (j3, _) = g
                .ouvrir(
                    Gestionnaire {
                        id: "agent".into(),
                        role: crate::instruction::Role::Lecture,
                    },
                    t0(),
                    &SystemRandom,
                )
                .await
                .unwrap();
            assert!(s.verifier(&j3, t0()).await.unwrap().is_none());
            assert_eq!(
                g.verifier(&j3, t0()).await.unwrap().unwrap().titulaire.id,
                "agent"
            );
        });
    }

    #[test]
    fn la_derniere_utilisation_est_ecrite_au_plus_une_fois_par_minute() {
        futures_executor::block_on(async {
            let store = Arc::new(MemoireSessions::default());
            let s = Sessions::new(store.clone());
            let n = NumeroDossier::parse("2025-ANI-AAAAAA").unwrap();
            let (jeton, _) = s.ouvrir(n, t0(), &SystemRandom).await.unwrap();
            for i in 0..59 {
                s.verifier(&jeton, t0() + Duration::seconds(i))
                    .await
                    .unwrap();
            }
            assert_eq!(store.touchers(), 0);
            s.verifier(&jeton, t0() + Duration::seconds(61))
                .await
                .unwrap();
            assert_eq!(store.touchers(), 1);
        });
    }
}
