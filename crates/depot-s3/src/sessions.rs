//! Sessions on S3, for a server whose records are on S3: a restart keeps every candidate
//! logged in.
//!
//! ```text
//! <prefix>/sessions/<espece>-<SHA-256 of the token, hex>.json   holder, creation, last use, CSRF
//! ```
//!
//! A session is created with `If-None-Match: *`; its last use is moved with `If-Match:
//! <etag>`, so a use never brings back a session a logout deleted (the conditional update of
//! an absent object fails), and two uses racing keep the later instant (the loser reads again).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use depot_core::session::{EspeceSession, SessionStockee, SessionStore};
use depot_core::{Sha256, StorageError};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutPayload, UpdateVersion};

use crate::S3Store;

impl S3Store {
    fn cle_session(&self, espece: EspeceSession, empreinte: &Sha256) -> Path {
        self.chemin(&format!(
            "sessions/{}-{}.json",
            espece.code(),
            empreinte.hex()
        ))
    }

    /// The session at `cle` and its ETag, or `None`.
    async fn lire_session(
        &self,
        cle: &Path,
    ) -> Result<Option<(SessionStockee, Option<String>)>, StorageError> {
        self.lire_json(cle).await
    }
}

fn corps(s: &SessionStockee) -> Result<PutPayload, StorageError> {
    serde_json::to_vec(s)
        .map(PutPayload::from)
        .map_err(|e| StorageError::Corrupt(format!("session : {e}")))
}

#[async_trait]
impl SessionStore for S3Store {
    async fn creer(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
        session: &SessionStockee,
    ) -> Result<(), StorageError> {
        self.s3
            .put_opts(
                &self.cle_session(espece, empreinte),
                corps(session)?,
                PutMode::Create.into(),
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    async fn lire(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
    ) -> Result<Option<SessionStockee>, StorageError> {
        Ok(self
            .lire_session(&self.cle_session(espece, empreinte))
            .await?
            .map(|(s, _)| s))
    }

    async fn toucher(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
        vue: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let cle = self.cle_session(espece, empreinte);
        for _ in 0..4 {
            let Some((mut s, Some(etag))) = self.lire_session(&cle).await? else {
                // Gone (logged out): stays gone. No ETag: nothing safe to do.
                return Ok(());
            };
            if s.vue >= vue {
                return Ok(());
            }
            s.vue = vue;
            let mode = PutMode::Update(UpdateVersion {
                e_tag: Some(etag),
                version: None,
            });
            match self.s3.put_opts(&cle, corps(&s)?, mode.into()).await {
                Ok(_) => return Ok(()),
                // Changed meanwhile (another use, a logout): read again.
                Err(object_store::Error::Precondition { .. })
                | Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(self.err(e)),
            }
        }
        // Others keep moving it: their later use is as good as ours.
        Ok(())
    }

    async fn supprimer(
        &self,
        espece: EspeceSession,
        empreinte: &Sha256,
    ) -> Result<(), StorageError> {
        match self.s3.delete(&self.cle_session(espece, empreinte)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err(e)),
        }
    }

    async fn supprimer_titulaire(
        &self,
        espece: EspeceSession,
        titulaire: &str,
    ) -> Result<u64, StorageError> {
        let prefixe = format!("{}-", espece.code());
        let mut n = 0;
        for m in self.lister("sessions").await? {
            if !m
                .location
                .filename()
                .is_some_and(|f| f.starts_with(&prefixe))
            {
                continue;
            }
            if let Some((s, _)) = self.lire_session(&m.location).await?
                && s.titulaire == titulaire
            {
                match self.s3.delete(&m.location).await {
                    Ok(()) => n += 1,
                    Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(self.err(e)),
                }
            }
        }
        Ok(n)
    }

    async fn purger(
        &self,
        inactive_avant: DateTime<Utc>,
        creee_avant: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        let metas = self.lister("sessions").await?;
        let mut n = 0;
        for m in metas {
            let perimee = match self.lire_session(&m.location).await {
                Ok(Some((s, _))) => !s.ouverte(inactive_avant, creee_avant),
                Ok(None) => false,
                // What cannot be read can never be used again.
                Err(StorageError::Corrupt(_)) => true,
                Err(e) => return Err(e),
            };
            if perimee {
                match self.s3.delete(&m.location).await {
                    Ok(()) => n += 1,
                    Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(self.err(e)),
                }
            }
        }
        Ok(n)
    }

    /// From the listing alone (no read per session): the sessions whose object was written
    /// at or after `inactive_avant` — the object is rewritten when its recorded last use
    /// moves, so its modification time is that last use (the server's clock). The 12-hour
    /// limit (`creee_avant`) is not applied: a session used without a break for longer is
    /// counted until its next use refuses it and a purge removes it.
    async fn compter(
        &self,
        espece: EspeceSession,
        inactive_avant: DateTime<Utc>,
        _creee_avant: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        let prefixe = format!("{}-", espece.code());
        let metas = self.lister("sessions").await?;
        Ok(metas
            .iter()
            .filter(|m| {
                m.location
                    .filename()
                    .is_some_and(|f| f.starts_with(&prefixe))
                    && m.last_modified >= inactive_avant
            })
            .count() as u64)
    }
}
