//! The staff's search: dossiers by state, voie, closure day, expected pieces, n°, a page at a
//! time ([`Espace::rechercher`](crate::Espace::rechercher)).
//!
//! What a filter needs is computed by the core from a dossier and its concours:
//! [`IndexDossier`]. A store with an index (PostgreSQL) keeps it beside each record, written
//! with the record by an [`Indexeur`], and answers the [`Recherche`] port in SQL; without
//! one, the espace reads every dossier and filters ([`filtrer`]) — the same answer, slower.
//! The only part that depends on the time of the question, open or forclos, is decided from
//! the stored deadline at the time asked.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::config::{Concours, Voie};
use crate::dossier::{Dossier, Etat, EtatLu};
use crate::erreur::StorageError;
use crate::ids::{NumeroDossier, Sha256};

/// What the staff's filters read of a dossier, at any time.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDossier {
    /// The concours code.
    pub concours: String,
    /// The voie.
    pub voie: Voie,
    /// `ouvert` for an open dossier; for a closed one, the state it reads
    /// (`cloture`, `incomplet`, `recevable`, `rejete`): none of these depends on time.
    pub etat: &'static str,
    /// For an open dossier, the deadline from which it reads forclos
    /// (`non_cloture_hors_delai`): the concours', or its reopening's.
    pub limite: DateTime<Utc>,
    /// Closure instant.
    pub cloture_le: Option<DateTime<Utc>>,
    /// A deferred piece is still expected.
    pub pieces_attendues: bool,
}

impl IndexDossier {
    /// The index of `dossier` under its `concours`.
    pub fn de(dossier: &Dossier, concours: &Concours) -> Self {
        // Any instant: a closed dossier's state does not depend on it.
        let etat = match dossier.etat() {
            Etat::Ouvert { .. } => "ouvert",
            _ => dossier.etat_lu(concours, dossier.cree_le()).code(),
        };
        Self {
            concours: dossier.concours().as_str().to_owned(),
            voie: dossier.voie(),
            etat,
            limite: dossier.limite_depot(concours).instant(),
            cloture_le: dossier.cloture_le(),
            pieces_attendues: !dossier.pieces_attendues(concours).is_empty(),
        }
    }

    /// The state it reads at `now`, as [`Dossier::etat_lu`] says.
    pub fn etat_lu(&self, now: DateTime<Utc>) -> &'static str {
        match self.etat {
            "ouvert" if now >= self.limite => EtatLu::NonClotureHorsDelai.code(),
            e => e,
        }
    }
}

/// Computes the index of a dossier with its concours: what an indexing store is given.
#[derive(Debug, Clone, Default)]
pub struct Indexeur {
    concours: BTreeMap<String, Arc<Concours>>,
    empreinte: String,
}

impl Indexeur {
    /// For these concours.
    pub fn new<'c>(concours: impl IntoIterator<Item = &'c Arc<Concours>>) -> Self {
        let concours: BTreeMap<String, Arc<Concours>> = concours
            .into_iter()
            .map(|c| (c.code.as_str().to_owned(), c.clone()))
            .collect();
        // What the index depends on: deadlines and pieces of each concours.
        let mut texte = String::new();
        for (code, c) in &concours {
            texte.push_str(&format!(
                "{code}|{:?}|",
                c.calendrier.depot_cloture.instant()
            ));
            for p in &c.pieces {
                texte.push_str(&format!(
                    "{}:{:?}:{:?}:{:?};",
                    p.code, p.exigence, p.voies, p.si
                ));
            }
        }
        Self {
            concours,
            empreinte: Sha256::de(texte.as_bytes()).hex(),
        }
    }

    /// The index of `dossier`, `None` when its concours is not hosted.
    pub fn indexer(&self, dossier: &Dossier) -> Option<IndexDossier> {
        let c = self.concours.get(dossier.concours().as_str())?;
        Some(IndexDossier::de(dossier, c))
    }

    /// Changes when what the index depends on changes (a deadline moved in a concours
    /// file): a store compares it with the one its rows were computed with and indexes
    /// them again.
    pub fn empreinte(&self) -> &str {
        &self.empreinte
    }
}

/// The staff's filters, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filtre {
    /// The state read now.
    pub etat: Option<EtatLu>,
    /// The voie.
    pub voie: Option<Voie>,
    /// Only dossiers still expecting (`true`) or not expecting (`false`) a deferred piece.
    pub pieces_attendues: Option<bool>,
    /// Closed at or after.
    pub cloture_du: Option<DateTime<Utc>>,
    /// Closed before.
    pub cloture_avant: Option<DateTime<Utc>>,
    /// These n° only (empty: all).
    pub numeros: Vec<NumeroDossier>,
}

impl Filtre {
    /// Whether the dossier of `numero`, indexed as `i`, is selected at `now`.
    pub fn accepte(&self, numero: &NumeroDossier, i: &IndexDossier, now: DateTime<Utc>) -> bool {
        self.etat.is_none_or(|e| i.etat_lu(now) == e.code())
            && self.voie.is_none_or(|v| i.voie == v)
            && self
                .pieces_attendues
                .is_none_or(|a| a == i.pieces_attendues)
            && self
                .cloture_du
                .is_none_or(|t| i.cloture_le.is_some_and(|l| l >= t))
            && self
                .cloture_avant
                .is_none_or(|t| i.cloture_le.is_some_and(|l| l < t))
            && (self.numeros.is_empty() || self.numeros.contains(numero))
    }
}

/// A page of results: from 1, `par_page` dossiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// From 1.
    pub numero: usize,
    /// Dossiers per page.
    pub par_page: usize,
}

impl Page {
    /// Every result at once (exports).
    pub const TOUT: Page = Page {
        numero: 1,
        par_page: usize::MAX,
    };

    /// How many results come before this page.
    pub fn decalage(&self) -> usize {
        self.numero.saturating_sub(1).saturating_mul(self.par_page)
    }
}

/// A store that answers the staff's search from its index.
#[async_trait]
pub trait Recherche: Send + Sync {
    /// The numbers of the dossiers `filtre` selects at `now`, in n° order: the `page`
    /// asked, and how many there are in all.
    async fn rechercher(
        &self,
        filtre: &Filtre,
        now: DateTime<Utc>,
        page: Page,
    ) -> Result<(usize, Vec<NumeroDossier>), StorageError>;
}

/// The search without an index: the selection among `dossiers` (sorted here by n°), and the
/// page of it.
pub fn filtrer<'d>(
    dossiers: impl IntoIterator<Item = (&'d Dossier, &'d Concours)>,
    filtre: &Filtre,
    now: DateTime<Utc>,
    page: Page,
) -> (usize, Vec<NumeroDossier>) {
    let mut choisis: Vec<NumeroDossier> = dossiers
        .into_iter()
        .filter(|(d, c)| filtre.accepte(d.numero(), &IndexDossier::de(d, c), now))
        .map(|(d, _)| d.numero().clone())
        .collect();
    choisis.sort();
    let total = choisis.len();
    let page = choisis
        .into_iter()
        .skip(page.decalage())
        .take(page.par_page)
        .collect();
    (total, page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{avec_un_fichier, concours_du_seed, dossier_exemple};

    #[test]
    fn l_index_dit_ce_que_dit_le_dossier_a_tout_instant() {
        let c = concours_du_seed();
        let d = dossier_exemple(Voie::Externe);
        let i = IndexDossier::de(&d, &c);
        let limite = c.calendrier.depot_cloture.instant();
        for now in [
            limite - chrono::Duration::seconds(1),
            limite,
            limite + chrono::Duration::days(3),
        ] {
            assert_eq!(i.etat_lu(now), d.etat_lu(&c, now).code(), "{now}");
        }
        let avec = avec_un_fichier(&d);
        assert_eq!(IndexDossier::de(&avec, &c).voie, Voie::Externe);
    }

    #[test]
    fn filtre_et_page() {
        let c = concours_du_seed();
        let ds: Vec<Dossier> = (0..7)
            .map(|i| {
                dossier_exemple(if i % 2 == 0 {
                    Voie::Externe
                } else {
                    Voie::Interne
                })
            })
            .collect();
        let now = c.calendrier.depot_cloture.instant() - chrono::Duration::days(1);
        let f = Filtre {
            voie: Some(Voie::Externe),
            etat: Some(EtatLu::Ouvert),
            ..Filtre::default()
        };
        let (total, page) = filtrer(
            ds.iter().map(|d| (d, &c)),
            &f,
            now,
            Page {
                numero: 2,
                par_page: 3,
            },
        );
        assert_eq!(total, 4);
        assert_eq!(page.len(), 1);
        let (_, tout) = filtrer(ds.iter().map(|d| (d, &c)), &f, now, Page::TOUT);
        assert!(tout.windows(2).all(|w| w[0] < w[1]), "in n° order");
        let forclos = Filtre {
            etat: Some(EtatLu::NonClotureHorsDelai),
            ..Filtre::default()
        };
        assert_eq!(
            filtrer(ds.iter().map(|d| (d, &c)), &forclos, now, Page::TOUT).0,
            0
        );
    }
}
