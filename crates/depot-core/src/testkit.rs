//! Test kit for adapters (feature `testkit`): the storage conformance suite every
//! `DossierStore` / `PieceStore` / `CredentialStore` runs, and [`Defaillant`], a wrapper that
//! fails the Nth storage operation.
//!
//! The suite functions are `async` and runtime-agnostic; they panic with a message naming the
//! broken property. They create dossiers with random numbers, so they can run against a
//! shared or persistent store (a bucket, a directory) without cleaning it first.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::auth::{CredentialStore, HashMotDePasse};
use crate::config::{Concours, Voie};
use crate::dossier::{Dossier, Evenement, Identite};
use crate::erreur::StorageError;
use crate::format::analyser;
use crate::ids::{FichierId, NumeroDossier, Sha256};
use crate::limitation::CompteurStore;
use crate::ports::{
    CleContenu, ContenuStocke, DossierStore, FluxOctets, PieceStore, SystemRandom, Versionne,
    flux_de, lire_tout,
};
use crate::session::SessionStore;
use crate::signature::KeyStore;

/// The seed's concours (`examples/concours/animateur-2025.toml`).
pub fn concours_du_seed() -> Concours {
    #[allow(clippy::expect_used)]
    Concours::from_toml(include_str!(
        "../../../examples/concours/animateur-2025.toml"
    ))
    .expect("le concours du seed se charge")
}

/// An instant inside the seed's pré-inscription window.
pub fn pendant_preinscription() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_743_500_000, 0).unwrap_or_default() // 2025-04-01
}

/// The password [`preinscrire_candidat`] chooses.
pub const MDP_CANDIDAT: &str = "lune verte sur le toit de Laval";

/// Pré-inscribes Camille `nom` (`email`) by the externe voie with password
/// [`MDP_CANDIDAT`], at the espace's now: the candidate most tests start from.
pub async fn preinscrire_candidat(
    espace: &crate::Espace,
    nom: &str,
    email: &str,
) -> crate::NumeroDossier {
    #[allow(clippy::expect_used)] // a test kit: a refusal here is the test's failure
    espace
        .preinscrire(
            None,
            crate::DemandePreinscription {
                voie: Voie::Externe,
                nom: nom.into(),
                prenom: "Camille".into(),
                email: email.into(),
                declarations: vec![],
                mot_de_passe: crate::MotDePasse::from(MDP_CANDIDAT),
            },
        )
        .await
        .expect("préinscription de test")
}

/// A fresh dossier of the seed's concours with a random number.
pub fn dossier_exemple(voie: Voie) -> Dossier {
    let c = concours_du_seed();
    let numero = NumeroDossier::generer(c.session, &c.code, &SystemRandom);
    #[allow(clippy::expect_used)]
    let identite = Identite::parse("Durand", "Camille", "camille@exemple.fr").expect("identité");
    #[allow(clippy::expect_used)]
    let (d, _) = Dossier::preinscrire(numero, &c, voie, identite, &[], pendant_preinscription())
        .expect("préinscription");
    d
}

/// The same dossier with one more file deposited (a change to save).
pub fn avec_un_fichier(d: &Dossier) -> Dossier {
    let mut d = d.tel_qu_enregistre();
    deposer_un_fichier(&mut d);
    d
}

fn deposer_un_fichier(d: &mut Dossier) {
    let c = concours_du_seed();
    #[allow(clippy::expect_used)]
    let a = analyser(
        "a.pdf",
        &crate::exemples::pdf_minimal(),
        &c.pieces[0].formats,
        10,
    )
    .expect("pdf valide");
    let _ = d.deposer(
        &c,
        "piece-identite",
        FichierId::generer(&SystemRandom),
        &a,
        pendant_preinscription(),
    );
}

/// Runs every `DossierStore` property.
pub async fn conformite_dossiers(store: &dyn DossierStore) {
    let d = dossier_exemple(Voie::Externe);
    // NotFound before creation.
    match store.load(d.numero()).await {
        Err(StorageError::NotFound(_)) => {}
        autre => panic!("load of an unknown dossier must be NotFound, got {autre:?}"),
    }
    match store.save(&d, 1).await {
        Err(StorageError::NotFound(_)) => {}
        autre => panic!("save of an unknown dossier must be NotFound, got {autre:?}"),
    }
    // Create → version 1, read back equal.
    store
        .create(&d)
        .await
        .unwrap_or_else(|e| panic!("create: {e}"));
    let lu = store
        .load(d.numero())
        .await
        .unwrap_or_else(|e| panic!("load: {e}"));
    assert_eq!(
        lu,
        Versionne {
            valeur: d.tel_qu_enregistre(),
            version: 1
        },
        "create then load"
    );
    assert!(
        lu.valeur.entrees_a_ecrire().is_empty(),
        "a loaded record has no entry left to write"
    );
    assert_eq!(
        journal_de(store, &lu.valeur).await,
        vec!["preinscription"],
        "create writes the first journal entry"
    );
    // Create again → AlreadyExists, nothing changed.
    match store.create(&avec_un_fichier(&d)).await {
        Err(StorageError::AlreadyExists(_)) => {}
        autre => panic!("a second create must be AlreadyExists, got {autre:?}"),
    }
    assert_eq!(
        store.load(d.numero()).await.ok().map(|v| v.valeur),
        Some(d.tel_qu_enregistre())
    );
    // Save with the right version → +1.
    let d2 = avec_un_fichier(&d);
    assert_eq!(
        store.save(&d2, 1).await,
        Ok(2),
        "save at the current version"
    );
    assert_eq!(
        store.load(d.numero()).await.ok(),
        Some(Versionne {
            valeur: d2.tel_qu_enregistre(),
            version: 2
        })
    );
    // A stale version is a Conflict and writes nothing.
    let d3 = avec_un_fichier(&d2);
    match store.save(&d3, 1).await {
        Err(StorageError::Conflict(_)) => {}
        autre => panic!("a stale save must be Conflict, got {autre:?}"),
    }
    match store.save(&d3, 7).await {
        Err(StorageError::Conflict(_)) => {}
        autre => panic!("a future version must be Conflict, got {autre:?}"),
    }
    assert_eq!(
        store.load(d.numero()).await.ok(),
        Some(Versionne {
            valeur: d2.tel_qu_enregistre(),
            version: 2
        }),
        "a refused save must not change the record"
    );
    assert_eq!(
        journal_de(store, &d2).await,
        vec!["preinscription", "depot"],
        "save appends its entry; a refused save adds nothing to the chain"
    );
    // The outbox, the reminders sent and a reset request travel with the record, exactly.
    let mut avec_courriels = d2.clone();
    avec_courriels.demander_reinitialisation(
        format!("{}.{}", d2.numero(), "A".repeat(43)),
        "0123456789abcdef0123456789abcdef".into(),
        pendant_preinscription(),
    );
    avec_courriels.programmer_courriel(
        crate::courriel::SorteCourriel::Numeros {
            dossiers: vec![(d2.numero().clone(), "« Concours », session 2025".into())],
        },
        "fedcba9876543210fedcba9876543210".into(),
        pendant_preinscription(),
    );
    assert_eq!(
        store.save(&avec_courriels, 2).await,
        Ok(3),
        "save with an outbox"
    );
    assert_eq!(
        store.load(d.numero()).await.ok().map(|v| v.valeur),
        Some(avec_courriels.tel_qu_enregistre()),
        "the outbox read back as written"
    );
    assert_eq!(
        journal_de(store, &avec_courriels).await,
        vec!["preinscription", "depot", "demande_reinitialisation"],
        "the reset request is journaled with the record"
    );
    // Unknown dossier: an empty journal.
    match store.journal(autre_numero()).await {
        Ok(v) if v.is_empty() => {}
        autre => panic!("the journal of an unknown dossier is empty, got {autre:?}"),
    }
    // A record of an earlier version, whole journal inside: its entries move to the
    // store's journal at its next write, entries already there written again harmlessly.
    let mut a = dossier_exemple(Voie::Externe);
    deposer_un_fichier(&mut a);
    let ancien = enregistrement_ancien(&a);
    assert_eq!(
        ancien.entrees_a_ecrire().len(),
        2,
        "the earlier record's entries"
    );
    store
        .create(&ancien)
        .await
        .unwrap_or_else(|e| panic!("create of an earlier record: {e}"));
    deposer_un_fichier(&mut a);
    let encore = enregistrement_ancien(&a);
    assert_eq!(encore.entrees_a_ecrire().len(), 3);
    assert_eq!(store.save(&encore, 1).await, Ok(2), "entries written again");
    let relu = store
        .load(ancien.numero())
        .await
        .unwrap_or_else(|e| panic!("load: {e}"));
    assert_eq!(relu.valeur.longueur_journal(), 3);
    assert_eq!(
        journal_de(store, &relu.valeur).await,
        vec!["preinscription", "depot", "depot"],
        "the earlier record's journal, moved"
    );
    // Listed.
    let liste = store.list().await.unwrap_or_else(|e| panic!("list: {e}"));
    assert!(
        liste.contains(d.numero()),
        "list must contain a created dossier"
    );
    // Two dossiers are independent.
    let autre = dossier_exemple(Voie::Interne);
    store
        .create(&autre)
        .await
        .unwrap_or_else(|e| panic!("create: {e}"));
    assert_eq!(store.save(&avec_un_fichier(&autre), 1).await, Ok(2));
    assert_eq!(store.load(d.numero()).await.map(|v| v.version), Ok(3));
    // Round trip keeps a closed dossier's récépissé exactly.
    let c = concours_du_seed();
    let mut ferme = avec_un_fichier(&dossier_exemple(Voie::Externe));
    let signataire =
        crate::signature::SignataireEd25519::generer(&SystemRandom, pendant_preinscription());
    #[allow(clippy::expect_used)]
    let (r, _) = ferme
        .cloturer(&c, pendant_preinscription(), &signataire)
        .expect("clôture");
    store
        .create(&ferme)
        .await
        .unwrap_or_else(|e| panic!("create: {e}"));
    let relu = store
        .load(ferme.numero())
        .await
        .unwrap_or_else(|e| panic!("load: {e}"));
    assert_eq!(
        relu.valeur.recepisse(),
        Some(&r),
        "the récépissé survives storage"
    );
    assert!(r.empreinte_valide());
}

/// The kinds of a dossier's journal, read back from `store` and rebuilt from its head.
async fn journal_de(store: &dyn DossierStore, d: &Dossier) -> Vec<String> {
    let entrees = store
        .journal(d.numero())
        .await
        .unwrap_or_else(|e| panic!("journal: {e}"));
    let j = crate::dossier::reconstituer_journal(entrees, d.derniere_entree())
        .unwrap_or_else(|e| panic!("the stored journal must rebuild from the record's head: {e}"));
    j.entrees
        .iter()
        .map(|e| {
            serde_json::to_value(&e.quoi)
                .ok()
                .and_then(|v| v.get("type").and_then(|t| t.as_str().map(str::to_owned)))
                .unwrap_or_default()
        })
        .collect()
}

fn autre_numero() -> &'static NumeroDossier {
    static N: std::sync::OnceLock<NumeroDossier> = std::sync::OnceLock::new();
    N.get_or_init(|| {
        let c = concours_du_seed();
        NumeroDossier::generer(c.session, &c.code, &SystemRandom)
    })
}

/// `d` as a record of an earlier version wrote it: the whole journal inside, under
/// `evenements` (here: every entry `d` has still to write).
pub fn enregistrement_ancien(d: &Dossier) -> Dossier {
    #[allow(clippy::expect_used)]
    let mut v = serde_json::to_value(d).expect("dossier sérialisable");
    if let Some(o) = v.as_object_mut() {
        o.remove("journal");
        #[allow(clippy::expect_used)]
        o.insert(
            "evenements".to_owned(),
            serde_json::to_value(d.entrees_a_ecrire()).expect("entrées sérialisables"),
        );
    }
    #[allow(clippy::expect_used)]
    serde_json::from_value(v).expect("un enregistrement ancien se relit")
}

/// Runs the compare-and-swap race: `taches` concurrent savers from the same version, exactly
/// one wins. `lancer` spawns a future on the adapter's runtime and returns its result.
pub async fn conformite_cas_concurrent<F, Fut>(
    store: Arc<dyn DossierStore>,
    taches: usize,
    lancer: F,
) where
    F: Fn(futures_util::future::BoxFuture<'static, bool>) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let d = dossier_exemple(Voie::Externe);
    store
        .create(&d)
        .await
        .unwrap_or_else(|e| panic!("create: {e}"));
    let mut futurs = Vec::new();
    for _ in 0..taches {
        let s = store.clone();
        let d2 = avec_un_fichier(&d);
        futurs.push(lancer(Box::pin(
            async move { s.save(&d2, 1).await.is_ok() },
        )));
    }
    let gagnants = futures_util::future::join_all(futurs)
        .await
        .into_iter()
        .filter(|g| *g)
        .count();
    assert_eq!(
        gagnants, 1,
        "exactly one concurrent save from the same version wins"
    );
    let v = store
        .load(d.numero())
        .await
        .unwrap_or_else(|e| panic!("load: {e}"));
    assert_eq!(v.version, 2);
    assert_eq!(
        journal_de(&*store, &v.valeur).await,
        vec!["preinscription", "depot"],
        "the winner's entry is on the chain, the losers' are not"
    );
}

/// Runs every `PieceStore` property.
pub async fn conformite_pieces(store: &dyn PieceStore) {
    let d = dossier_exemple(Voie::Externe);
    let cle = CleContenu {
        numero: d.numero().clone(),
        fichier: FichierId::generer(&SystemRandom),
    };
    match store.get(&cle).await {
        Err(StorageError::NotFound(_)) => {}
        Err(e) => panic!("get of unknown content must be NotFound, got {e:?}"),
        Ok(_) => panic!("get of unknown content must be NotFound, got content"),
    }
    // Several chunks, one of them empty, streamed in.
    let morceaux: Vec<Bytes> = vec![
        Bytes::from_static(b"%PDF-1.7\n"),
        Bytes::new(),
        Bytes::from(vec![b'x'; 300_000]),
        Bytes::from_static(b"\n%%EOF\n"),
    ];
    let tout: Vec<u8> = morceaux.iter().flat_map(|b| b.to_vec()).collect();
    let flux: FluxOctets = Box::pin(futures_util::stream::iter(
        morceaux.into_iter().map(Ok::<_, StorageError>),
    ));
    let stocke = store
        .put(&cle, flux)
        .await
        .unwrap_or_else(|e| panic!("put: {e}"));
    assert_eq!(
        stocke,
        ContenuStocke {
            taille: tout.len() as u64,
            sha256: Sha256::de(&tout)
        },
        "put reports the size and SHA-256 of what it wrote"
    );
    let relu = match store.get(&cle).await {
        Ok(f) => lire_tout(f).await.unwrap_or_else(|e| panic!("read: {e}")),
        Err(e) => panic!("get: {e}"),
    };
    assert!(relu == tout, "get returns exactly what was put");
    // Write-once.
    match store.put(&cle, flux_de(Bytes::from_static(b"autre"))).await {
        Err(StorageError::AlreadyExists(_)) => {}
        autre => panic!("a second put on the same key must be AlreadyExists, got {autre:?}"),
    }
    let relu = match store.get(&cle).await {
        Ok(f) => lire_tout(f).await.unwrap_or_else(|e| panic!("read: {e}")),
        Err(e) => panic!("get: {e}"),
    };
    assert!(relu == tout, "a refused put must not change the content");
    // A failing stream leaves nothing visible.
    let cle_ratee = CleContenu {
        numero: d.numero().clone(),
        fichier: FichierId::generer(&SystemRandom),
    };
    let flux_rate: FluxOctets = Box::pin(futures_util::stream::iter(vec![
        Ok(Bytes::from_static(b"%PDF-1.7 debut")),
        Err(StorageError::Unavailable("client parti".to_owned())),
    ]));
    assert!(
        store.put(&cle_ratee, flux_rate).await.is_err(),
        "a failing stream fails the put"
    );
    assert!(
        matches!(store.get(&cle_ratee).await, Err(StorageError::NotFound(_))),
        "a failed put leaves nothing visible"
    );
    // Empty content is storable (the rules refuse it, not the store).
    let cle_vide = CleContenu {
        numero: d.numero().clone(),
        fichier: FichierId::generer(&SystemRandom),
    };
    let s = store
        .put(&cle_vide, flux_de(Bytes::new()))
        .await
        .unwrap_or_else(|e| panic!("put vide: {e}"));
    assert_eq!(s.taille, 0);
    // list.
    let mut ids = store
        .list(d.numero())
        .await
        .unwrap_or_else(|e| panic!("list: {e}"));
    ids.sort();
    let mut attendu = vec![cle.fichier.clone(), cle_vide.fichier.clone()];
    attendu.sort();
    assert_eq!(ids, attendu, "list returns the dossier's stored ids");
    // Delete, idempotent.
    store
        .delete(&cle)
        .await
        .unwrap_or_else(|e| panic!("delete: {e}"));
    assert!(
        matches!(store.get(&cle).await, Err(StorageError::NotFound(_))),
        "deleted"
    );
    store
        .delete(&cle)
        .await
        .unwrap_or_else(|e| panic!("a second delete must succeed: {e}"));
    store
        .delete(&cle_vide)
        .await
        .unwrap_or_else(|e| panic!("delete: {e}"));
    assert_eq!(store.list(d.numero()).await.map(|v| v.len()), Ok(0));
}

/// Runs every `CredentialStore` property.
pub async fn conformite_identifiants(store: &dyn CredentialStore) {
    let d = dossier_exemple(Voie::Externe);
    assert_eq!(
        store.lire(d.numero()).await,
        Ok(None),
        "unknown number reads None"
    );
    let h1 = HashMotDePasse::depuis_phc("$argon2id$v=19$m=19456,t=2,p=1$AAAA$BBBB".to_owned());
    let h2 = HashMotDePasse::depuis_phc("$argon2id$v=19$m=19456,t=2,p=1$CCCC$DDDD".to_owned());
    store
        .definir(d.numero(), &h1)
        .await
        .unwrap_or_else(|e| panic!("definir: {e}"));
    assert_eq!(store.lire(d.numero()).await, Ok(Some(h1)));
    store
        .definir(d.numero(), &h2)
        .await
        .unwrap_or_else(|e| panic!("definir: {e}"));
    assert_eq!(
        store.lire(d.numero()).await,
        Ok(Some(h2)),
        "definir replaces"
    );
    store
        .effacer(d.numero())
        .await
        .unwrap_or_else(|e| panic!("effacer: {e}"));
    assert_eq!(store.lire(d.numero()).await, Ok(None), "effacer erases");
    store
        .effacer(d.numero())
        .await
        .unwrap_or_else(|e| panic!("effacer an unknown number: {e}"));
}

/// Runs every `KeyStore` property. The store must be empty (a new directory, a new
/// prefix): the first seed proposed is the one kept.
pub async fn conformite_cles(store: &dyn KeyStore) {
    use crate::signature::{ClePublique, Signataire, SignataireEd25519};
    use zeroize::Zeroizing;
    assert_eq!(
        store.publiees().await.map(|c| c.cles.len()),
        Ok(0),
        "an empty store publishes nothing"
    );
    let premiere = store
        .graine_ou_creer(Zeroizing::new([1; 32]))
        .await
        .unwrap_or_else(|e| panic!("graine_ou_creer: {e}"));
    assert_eq!(*premiere, [1; 32], "the first seed proposed is stored");
    let encore = store
        .graine_ou_creer(Zeroizing::new([2; 32]))
        .await
        .unwrap_or_else(|e| panic!("graine_ou_creer: {e}"));
    assert_eq!(*encore, [1; 32], "a seed is created once, then kept");
    let t = pendant_preinscription();
    let cle = |octet: u8| -> ClePublique {
        SignataireEd25519::depuis_graine(&[octet; 32], t).cle_publique()
    };
    let (a, b) = (cle(1), cle(2));
    let une = store
        .publier(a.clone())
        .await
        .unwrap_or_else(|e| panic!("publier: {e}"));
    assert_eq!(une.cles, vec![a.clone()]);
    let deux = store
        .publier(b.clone())
        .await
        .unwrap_or_else(|e| panic!("publier: {e}"));
    assert_eq!(
        deux.cles,
        vec![a.clone(), b.clone()],
        "keys are added in order"
    );
    let mut a_plus_tard = a.clone();
    a_plus_tard.valide_depuis = t + chrono::Duration::days(1);
    let encore = store
        .publier(a_plus_tard)
        .await
        .unwrap_or_else(|e| panic!("publier: {e}"));
    assert_eq!(
        encore.cles,
        vec![a, b],
        "a key already published is not added twice"
    );
    assert_eq!(
        store.publiees().await,
        Ok(encore),
        "publiees reads the list"
    );
}

/// Runs the search's properties on an **empty** indexing store: on a mix of open, closed,
/// reopened-free dossiers of every voie, each filter at several instants (before and after
/// the deadline) selects exactly what reading every dossier selects, page by page.
pub async fn conformite_recherche<S>(store: &S)
where
    S: DossierStore + crate::recherche::Recherche,
{
    use crate::dossier::EtatLu;
    use crate::recherche::{Filtre, Page, filtrer};
    let c = concours_du_seed();
    let signataire =
        crate::signature::SignataireEd25519::generer(&SystemRandom, pendant_preinscription());
    let mut tous = Vec::new();
    for i in 0..30 {
        let voie = [Voie::Externe, Voie::Interne][i % 2];
        let mut d = dossier_exemple(voie);
        if i % 4 == 1 {
            d = avec_un_fichier(&d);
        }
        if i % 4 == 2 {
            d = avec_un_fichier(&d);
            let t = pendant_preinscription() + chrono::Duration::hours(i as i64);
            #[allow(clippy::expect_used)]
            d.cloturer(&c, t, &signataire).expect("clôture");
        }
        store
            .create(&d)
            .await
            .unwrap_or_else(|e| panic!("create: {e}"));
        tous.push(d);
    }
    let limite = c.calendrier.depot_cloture.instant();
    let numeros: Vec<NumeroDossier> = tous.iter().take(5).map(|d| d.numero().clone()).collect();
    let mut filtres = vec![Filtre::default()];
    for e in EtatLu::TOUS {
        filtres.push(Filtre {
            etat: Some(e),
            ..Filtre::default()
        });
    }
    filtres.push(Filtre {
        voie: Some(Voie::Interne),
        pieces_attendues: Some(false),
        ..Filtre::default()
    });
    filtres.push(Filtre {
        cloture_du: Some(pendant_preinscription() + chrono::Duration::hours(5)),
        cloture_avant: Some(pendant_preinscription() + chrono::Duration::hours(20)),
        ..Filtre::default()
    });
    filtres.push(Filtre {
        numeros,
        etat: Some(EtatLu::Ouvert),
        ..Filtre::default()
    });
    for now in [
        pendant_preinscription(),
        limite - chrono::Duration::seconds(1),
        limite,
    ] {
        for f in &filtres {
            for page in [
                Page::TOUT,
                Page {
                    numero: 2,
                    par_page: 4,
                },
            ] {
                let attendu = filtrer(tous.iter().map(|d| (d, &c)), f, now, page);
                let obtenu = store
                    .rechercher(f, now, page)
                    .await
                    .unwrap_or_else(|e| panic!("rechercher: {e}"));
                assert_eq!(obtenu, attendu, "{f:?} at {now}, {page:?}");
            }
        }
    }
}

/// Runs every `SessionStore` property. Sessions get random keys; the ones this suite
/// expects purged are dated from the year 2000, so a shared store loses nothing of others'.
pub async fn conformite_sessions(store: &dyn SessionStore) {
    use crate::ports::Random;
    use crate::session::{EspeceSession, SessionStockee};
    let cle = || {
        let mut o = [0u8; 32];
        SystemRandom.remplir(&mut o);
        Sha256::de(&o)
    };
    let t = pendant_preinscription();
    let s = SessionStockee {
        titulaire: "2025-ANI-AAAAAA".into(),
        creee: t,
        vue: t,
        csrf: "csrf-é".into(),
    };
    let k = cle();
    let (c, g) = (EspeceSession::Candidat, EspeceSession::Gestion);
    assert_eq!(store.lire(c, &k).await, Ok(None), "unknown key reads None");
    store
        .creer(c, &k, &s)
        .await
        .unwrap_or_else(|e| panic!("creer: {e}"));
    assert_eq!(
        store.lire(c, &k).await,
        Ok(Some(s.clone())),
        "creer then lire"
    );
    assert_eq!(
        store.lire(g, &k).await,
        Ok(None),
        "the two kinds of session never share a key"
    );
    let plus_tard = t + chrono::Duration::seconds(90);
    store
        .toucher(c, &k, plus_tard)
        .await
        .unwrap_or_else(|e| panic!("toucher: {e}"));
    let lue = store.lire(c, &k).await.ok().flatten();
    assert_eq!(
        lue.as_ref().map(|l| l.vue.timestamp()),
        Some(plus_tard.timestamp()),
        "toucher moves the last use"
    );
    assert_eq!(
        lue.map(|l| (l.creee, l.csrf, l.titulaire)),
        Some((s.creee, s.csrf.clone(), s.titulaire.clone())),
        "toucher changes nothing else"
    );
    store
        .toucher(c, &k, t)
        .await
        .unwrap_or_else(|e| panic!("toucher: {e}"));
    assert_eq!(
        store
            .lire(c, &k)
            .await
            .ok()
            .flatten()
            .map(|l| l.vue.timestamp()),
        Some(plus_tard.timestamp()),
        "toucher never moves the last use back"
    );
    store
        .supprimer(c, &k)
        .await
        .unwrap_or_else(|e| panic!("supprimer: {e}"));
    assert_eq!(store.lire(c, &k).await, Ok(None), "supprimer ends it");
    store
        .toucher(c, &k, plus_tard)
        .await
        .unwrap_or_else(|e| panic!("toucher after supprimer: {e}"));
    assert_eq!(
        store.lire(c, &k).await,
        Ok(None),
        "toucher never brings a deleted session back"
    );
    store
        .supprimer(c, &k)
        .await
        .unwrap_or_else(|e| panic!("supprimer twice: {e}"));
    // Purge: idle since before the bound, created before the bound, and a live one.
    let an_2000: DateTime<Utc> = DateTime::from_timestamp(946_684_800, 0).unwrap_or_default();
    let inactive = SessionStockee {
        creee: t,
        vue: an_2000,
        ..s.clone()
    };
    let ancienne = SessionStockee {
        creee: an_2000,
        vue: t,
        ..s.clone()
    };
    let (ki, ka, kv) = (cle(), cle(), cle());
    for (k, s) in [(&ki, &inactive), (&ka, &ancienne), (&kv, &s)] {
        store
            .creer(g, k, s)
            .await
            .unwrap_or_else(|e| panic!("creer: {e}"));
    }
    let un_jour = chrono::Duration::days(1);
    let purgees = store
        .purger(an_2000 + un_jour, an_2000 + un_jour)
        .await
        .unwrap_or_else(|e| panic!("purger: {e}"));
    assert!(purgees >= 2, "purger counts what it removed: {purgees}");
    assert_eq!(store.lire(g, &ki).await, Ok(None), "idle session purged");
    assert_eq!(store.lire(g, &ka).await, Ok(None), "too old session purged");
    assert_eq!(
        store.lire(g, &kv).await,
        Ok(Some(s.clone())),
        "a live session is kept"
    );
    store
        .supprimer(g, &kv)
        .await
        .unwrap_or_else(|e| panic!("supprimer: {e}"));
    // Every session of one holder, of one kind, and only those.
    let mut hasard = [0u8; 6];
    SystemRandom.remplir(&mut hasard);
    let lui = format!("2025-ANI-{}", hex::encode(hasard));
    let a_lui = SessionStockee {
        titulaire: lui.clone(),
        ..s.clone()
    };
    let (k1, k2, k3, k4) = (cle(), cle(), cle(), cle());
    for (e, k, s) in [
        (c, &k1, &a_lui),
        (c, &k2, &a_lui),
        (g, &k3, &a_lui),
        (c, &k4, &s),
    ] {
        store
            .creer(e, k, s)
            .await
            .unwrap_or_else(|e| panic!("creer: {e}"));
    }
    assert_eq!(
        store.supprimer_titulaire(c, &lui).await,
        Ok(2),
        "supprimer_titulaire ends the holder's two sessions"
    );
    assert_eq!(store.lire(c, &k1).await, Ok(None), "holder's session ended");
    assert_eq!(store.lire(c, &k2).await, Ok(None), "holder's session ended");
    assert!(
        matches!(store.lire(g, &k3).await, Ok(Some(_))),
        "the other kind is kept"
    );
    assert!(
        matches!(store.lire(c, &k4).await, Ok(Some(_))),
        "another holder's session is kept"
    );
    for (e, k) in [(g, &k3), (c, &k4)] {
        store
            .supprimer(e, k)
            .await
            .unwrap_or_else(|e| panic!("supprimer: {e}"));
    }
}

/// `SessionStore::compter`, against the real clock (a store may count from its listing's
/// modification times): an open session counts, a deleted one no longer does, the other
/// kind of session never does. A session whose *recorded* last use is too old is not
/// counted by an `exact` store; another (depot-s3) may count it until it is purged.
pub async fn conformite_compte_sessions(store: &dyn SessionStore, exact: bool) {
    use crate::ports::{Clock, Random};
    use crate::session::{EspeceSession, SessionStockee, sessions_ouvertes};
    let cle = || {
        let mut o = [0u8; 32];
        SystemRandom.remplir(&mut o);
        Sha256::de(&o)
    };
    let maintenant = crate::ports::HorlogeSysteme.now();
    let (c, g) = (EspeceSession::Candidat, EspeceSession::Gestion);
    let compte = |e| async move {
        sessions_ouvertes(store, e, maintenant)
            .await
            .unwrap_or_else(|x| panic!("compter: {x}"))
    };
    let (c0, g0) = (compte(c).await, compte(g).await);
    let ouverte = SessionStockee {
        titulaire: "2025-ANI-AAAAAA".into(),
        creee: maintenant,
        vue: maintenant,
        csrf: "x".into(),
    };
    let k = cle();
    store
        .creer(c, &k, &ouverte)
        .await
        .unwrap_or_else(|e| panic!("creer: {e}"));
    assert_eq!(compte(c).await, c0 + 1, "an open session counts");
    assert_eq!(compte(g).await, g0, "in its own kind only");
    let perimee = SessionStockee {
        vue: maintenant - chrono::Duration::hours(2),
        creee: maintenant - chrono::Duration::hours(2),
        ..ouverte.clone()
    };
    let k2 = cle();
    store
        .creer(c, &k2, &perimee)
        .await
        .unwrap_or_else(|e| panic!("creer: {e}"));
    let avec_perimee = compte(c).await;
    if exact {
        assert_eq!(avec_perimee, c0 + 1, "an idle session does not count");
    } else {
        assert!(
            (c0 + 1..=c0 + 2).contains(&avec_perimee),
            "at most the idle one more: {avec_perimee} for {c0} + 1"
        );
    }
    store
        .supprimer(c, &k)
        .await
        .unwrap_or_else(|e| panic!("supprimer: {e}"));
    assert_eq!(
        compte(c).await,
        avec_perimee - 1,
        "a closed session no longer counts"
    );
    let _ = store.supprimer(c, &k2).await;
}

/// Runs every `CompteurStore` property, under random keys: the increments of 8 concurrent
/// callers all count, and two keys change together.
pub async fn conformite_compteurs(store: &dyn CompteurStore) {
    use crate::limitation::{Instants, appliquer};
    let base = FichierId::generer(&SystemRandom).to_string();
    let (a, b) = (format!("test:{base}:a"), format!("test:{base}:b é/../x"));
    let t = pendant_preinscription();
    let vues = appliquer(store, &[a.clone(), b.clone()], |l: &mut [Instants]| {
        l.iter().map(Vec::len).collect::<Vec<_>>()
    })
    .await
    .unwrap_or_else(|e| panic!("modifier: {e}"));
    assert_eq!(vues, [0, 0], "unknown keys read empty");
    // 8 callers × 20 increments of both keys, at once.
    let appels = (0..8).map(|_| {
        let cles = [a.clone(), b.clone()];
        async move {
            for i in 0..20 {
                appliquer(store, &cles, move |l: &mut [Instants]| {
                    for v in l.iter_mut() {
                        v.push(t + chrono::Duration::seconds(i));
                    }
                })
                .await
                .unwrap_or_else(|e| panic!("modifier: {e}"));
            }
        }
    });
    futures_util::future::join_all(appels).await;
    let lues = appliquer(store, &[b.clone(), a.clone()], |l: &mut [Instants]| {
        l.to_vec()
    })
    .await
    .unwrap_or_else(|e| panic!("modifier: {e}"));
    assert_eq!(
        lues.iter().map(Vec::len).collect::<Vec<_>>(),
        [160, 160],
        "no increment is lost, and keys are given in the order asked"
    );
    assert!(
        lues[0]
            .iter()
            .all(|i| *i >= t && *i < t + chrono::Duration::seconds(20)),
        "instants are kept to the second"
    );
    // Emptied: gone.
    appliquer(store, std::slice::from_ref(&a), |l: &mut [Instants]| {
        l[0].clear()
    })
    .await
    .unwrap_or_else(|e| panic!("modifier: {e}"));
    let vide = appliquer(store, std::slice::from_ref(&a), |l: &mut [Instants]| {
        l[0].is_empty()
    })
    .await
    .unwrap_or_else(|e| panic!("modifier: {e}"));
    assert!(vide, "an emptied list reads empty");
    // nettoyer removes what nobody counted since the bound, and only that.
    let c = format!("test:{base}:c");
    let an_2000: DateTime<Utc> = DateTime::from_timestamp(946_684_800, 0).unwrap_or_default();
    appliquer(
        store,
        std::slice::from_ref(&c),
        move |l: &mut [Instants]| l[0] = vec![an_2000],
    )
    .await
    .unwrap_or_else(|e| panic!("modifier: {e}"));
    let n = store
        .nettoyer(an_2000 + chrono::Duration::days(1))
        .await
        .unwrap_or_else(|e| panic!("nettoyer: {e}"));
    assert!(n >= 1, "nettoyer counts what it removed");
    let restes = appliquer(store, &[c, b], |l: &mut [Instants]| {
        let restes: Vec<usize> = l.iter().map(Vec::len).collect();
        l[1].clear();
        restes
    })
    .await
    .unwrap_or_else(|e| panic!("modifier: {e}"));
    assert_eq!(restes, [0, 160], "only the stale key is removed");
}

/// Wraps stores and fails the Nth storage operation (counting from 1 across every wrapped
/// store) with `Unavailable`, before it reaches the real store. `0` never fails.
#[derive(Debug, Clone)]
pub struct Defaillant<S> {
    interieur: S,
    compteur: Arc<AtomicUsize>,
    echec_a: Arc<AtomicUsize>,
}

impl<S> Defaillant<S> {
    /// Wraps `interieur`, sharing the counter with `autre` wrappers built by [`Self::voisin`].
    pub fn new(interieur: S) -> Self {
        Self {
            interieur,
            compteur: Arc::new(AtomicUsize::new(0)),
            echec_a: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Another wrapper that shares this one's counter and failure point.
    pub fn voisin<T>(&self, interieur: T) -> Defaillant<T> {
        Defaillant {
            interieur,
            compteur: self.compteur.clone(),
            echec_a: self.echec_a.clone(),
        }
    }

    /// Fails operation number `n` from now on (the counter restarts at 0); `0` disarms.
    pub fn armer(&self, n: usize) {
        self.compteur.store(0, Ordering::SeqCst);
        self.echec_a.store(n, Ordering::SeqCst);
    }

    /// Operations counted since the last `armer`.
    pub fn operations(&self) -> usize {
        self.compteur.load(Ordering::SeqCst)
    }

    fn passer(&self, op: &str) -> Result<(), StorageError> {
        let n = self.compteur.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.echec_a.load(Ordering::SeqCst) {
            Err(StorageError::Unavailable(format!(
                "panne injectée à l'opération {n} ({op})"
            )))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl DossierStore for Defaillant<Arc<dyn DossierStore>> {
    async fn create(&self, dossier: &Dossier) -> Result<(), StorageError> {
        self.passer("create")?;
        self.interieur.create(dossier).await
    }
    async fn load(&self, numero: &NumeroDossier) -> Result<Versionne<Dossier>, StorageError> {
        self.passer("load")?;
        self.interieur.load(numero).await
    }
    async fn save(&self, dossier: &Dossier, expected: u64) -> Result<u64, StorageError> {
        self.passer("save")?;
        self.interieur.save(dossier, expected).await
    }
    async fn list(&self) -> Result<Vec<NumeroDossier>, StorageError> {
        self.passer("list")?;
        self.interieur.list().await
    }
    async fn journal(&self, numero: &NumeroDossier) -> Result<Vec<Evenement>, StorageError> {
        self.passer("journal")?;
        self.interieur.journal(numero).await
    }
}

#[async_trait]
impl PieceStore for Defaillant<Arc<dyn PieceStore>> {
    async fn put(
        &self,
        cle: &CleContenu,
        contenu: FluxOctets,
    ) -> Result<ContenuStocke, StorageError> {
        self.passer("put")?;
        self.interieur.put(cle, contenu).await
    }
    async fn get(&self, cle: &CleContenu) -> Result<FluxOctets, StorageError> {
        self.passer("get")?;
        self.interieur.get(cle).await
    }
    async fn delete(&self, cle: &CleContenu) -> Result<(), StorageError> {
        self.passer("delete")?;
        self.interieur.delete(cle).await
    }
    async fn list(&self, numero: &NumeroDossier) -> Result<Vec<FichierId>, StorageError> {
        self.passer("list")?;
        self.interieur.list(numero).await
    }
}

/// How many failure points a sweep tried, per use case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RapportBalayage {
    /// Failure points tried during « ajouter le fichier » (3 since one read serves the
    /// whole upload: the read, the content, the save).
    pub depot: usize,
    /// Failure points tried during « supprimer ».
    pub suppression: usize,
    /// Failure points tried during « clôturer mon inscription ».
    pub cloture: usize,
}

/// Checks that every file a record lists has its content, with the recorded hash.
async fn verifier_coherence(
    dossiers: &dyn DossierStore,
    pieces: &dyn PieceStore,
    numero: &NumeroDossier,
) -> Dossier {
    let d = dossiers
        .load(numero)
        .await
        .unwrap_or_else(|e| panic!("load after fault: {e}"))
        .valeur;
    for f in d.fichiers() {
        let cle = CleContenu {
            numero: numero.clone(),
            fichier: f.id.clone(),
        };
        let flux = pieces
            .get(&cle)
            .await
            .unwrap_or_else(|e| panic!("listed file {} has no content: {e}", f.id));
        let octets = lire_tout(flux)
            .await
            .unwrap_or_else(|e| panic!("read: {e}"));
        assert_eq!(
            Sha256::de(&octets),
            f.sha256,
            "listed file {} has the recorded SHA-256",
            f.id
        );
    }
    d
}

/// The fault sweep: for every N, fails the Nth storage operation of an upload, a deletion
/// and a closure on the given stores, and checks that the dossier is left in its old or its
/// new state, that the error reaches the caller as a storage error, that every listed file
/// has its content, and that a retry succeeds.
pub async fn balayage_pannes(
    dossiers: Arc<dyn DossierStore>,
    pieces: Arc<dyn PieceStore>,
) -> RapportBalayage {
    use crate::erreur::ErreurEspace;
    use crate::ports::HorlogeFixe;
    use crate::service::{Espace, Ports};

    let d_panne = Defaillant::new(dossiers.clone());
    let p_panne = d_panne.voisin(pieces.clone());
    let ports = Ports::avec_stores(
        Arc::new(d_panne.clone()),
        Arc::new(p_panne),
        Arc::new(crate::memoire::MemoireIdentifiants::new()),
    )
    .avec_horloge(Arc::new(HorlogeFixe::new(pendant_preinscription())));
    #[allow(clippy::expect_used)]
    let espace = Espace::new(vec![concours_du_seed()], ports).expect("espace");
    let pdf = Bytes::from(crate::exemples::pdf_minimal());
    let nouveau = || async {
        let d = dossier_exemple(Voie::Externe);
        dossiers
            .create(&d)
            .await
            .unwrap_or_else(|e| panic!("create: {e}"));
        d.numero().clone()
    };
    let est_stockage = |e: &ErreurEspace| matches!(e, ErreurEspace::Stockage(_));
    let mut rapport = RapportBalayage::default();

    // Upload.
    let n0 = nouveau().await;
    d_panne.armer(0);
    espace
        .deposer(&n0, "piece-identite", "a.pdf", pdf.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let ops = d_panne.operations();
    for n in 1..=ops {
        let numero = nouveau().await;
        d_panne.armer(n);
        let r = espace
            .deposer(&numero, "piece-identite", "a.pdf", pdf.clone())
            .await;
        d_panne.armer(0);
        let apres = verifier_coherence(&*dossiers, &*pieces, &numero).await;
        match &r {
            Ok(f) => assert!(
                apres.fichier(&f.id).is_some(),
                "upload fault {n}: success but not recorded"
            ),
            Err(e) => {
                assert!(
                    est_stockage(e),
                    "upload fault {n}: {e:?} is not a storage error"
                );
                assert!(
                    apres.fichiers().is_empty(),
                    "upload fault {n}: error but recorded"
                );
            }
        }
        espace
            .deposer(&numero, "piece-identite", "b.pdf", pdf.clone())
            .await
            .unwrap_or_else(|e| panic!("upload fault {n}: retry failed: {e}"));
        rapport.depot += 1;
    }

    // Deletion.
    let n0 = nouveau().await;
    let f0 = espace
        .deposer(&n0, "piece-identite", "a.pdf", pdf.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    d_panne.armer(0);
    espace
        .supprimer(&n0, &f0.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let ops = d_panne.operations();
    for n in 1..=ops {
        let numero = nouveau().await;
        let f = espace
            .deposer(&numero, "piece-identite", "a.pdf", pdf.clone())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        d_panne.armer(n);
        let r = espace.supprimer(&numero, &f.id).await;
        d_panne.armer(0);
        let apres = verifier_coherence(&*dossiers, &*pieces, &numero).await;
        match &r {
            Ok(()) => assert!(
                apres.fichier(&f.id).is_none(),
                "delete fault {n}: success but still listed"
            ),
            Err(e) => {
                assert!(
                    est_stockage(e),
                    "delete fault {n}: {e:?} is not a storage error"
                );
                assert!(
                    apres.fichier(&f.id).is_some(),
                    "delete fault {n}: error but removed"
                );
                espace
                    .supprimer(&numero, &f.id)
                    .await
                    .unwrap_or_else(|e| panic!("delete fault {n}: retry failed: {e}"));
            }
        }
        rapport.suppression += 1;
    }

    // Closure.
    let n0 = nouveau().await;
    espace
        .deposer(&n0, "piece-identite", "a.pdf", pdf.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    d_panne.armer(0);
    espace.cloturer(&n0).await.unwrap_or_else(|e| panic!("{e}"));
    let ops = d_panne.operations();
    for n in 1..=ops {
        let numero = nouveau().await;
        espace
            .deposer(&numero, "piece-identite", "a.pdf", pdf.clone())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        d_panne.armer(n);
        let r = espace.cloturer(&numero).await;
        d_panne.armer(0);
        let apres = verifier_coherence(&*dossiers, &*pieces, &numero).await;
        let recepisse = match &r {
            Ok(rec) => {
                assert_eq!(
                    apres.recepisse(),
                    Some(rec),
                    "closure fault {n}: success but not recorded"
                );
                Some(rec.clone())
            }
            Err(e) => {
                assert!(
                    est_stockage(e),
                    "closure fault {n}: {e:?} is not a storage error"
                );
                assert!(
                    apres.recepisse().is_none(),
                    "closure fault {n}: error but closed"
                );
                None
            }
        };
        let encore = espace
            .cloturer(&numero)
            .await
            .unwrap_or_else(|e| panic!("closure fault {n}: retry failed: {e}"));
        if let Some(rec) = recepisse {
            assert_eq!(
                rec, encore,
                "closure fault {n}: a second closure returns the same récépissé"
            );
        }
        rapport.cloture += 1;
    }
    rapport
}
