//! Retention (`[conservation]`), on a controlled clock: identity pieces purged exactly after
//! the configured delay following the decision and not before; the dry run changes nothing;
//! a second run purges nothing more; after the purge the journal and the récépissé verify,
//! the purged file answers `fichier_purge` to candidate and staff, its content is gone from
//! the store, and the other pieces are untouched.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use depot_core::conservation::MotifPurge;
use depot_core::exemples::pdf_minimal;
use depot_core::memoire::{MemoireDossiers, MemoireIdentifiants, MemoirePieces};
use depot_core::testkit::{MDP_CANDIDAT, preinscrire_candidat};
use depot_core::{
    Concours, Decision, ErreurEspace, Espace, Gestionnaire, HorlogeFixe, MotDePasse, Ports, Quoi,
    Refus, Role, verifier_journal,
};
use futures_executor::block_on;

fn concours(conservation: &str) -> Concours {
    let modele = include_str!("../../../examples/concours/animateur-2025.toml");
    let texte = modele.replacen(
        "code = \"piece-identite\"",
        "code = \"piece-identite\"\nidentite = true",
        1,
    ) + conservation;
    Concours::from_toml(&texte).unwrap()
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn la_configuration_est_verifiee() {
    let c = concours("\n[conservation]\npieces_identite_apres_decision = 90\n");
    assert_eq!(c.conservation.pieces_identite_apres_decision, Some(90));
    assert!(c.piece("piece-identite").unwrap().identite);
    assert!(!c.piece("diplome").unwrap().identite);
    for (mauvais, cle) in [
        (
            "\n[conservation]\npieces_identite_apres_decision = 0\n",
            "conservation.pieces_identite_apres_decision",
        ),
        (
            "\n[conservation]\npieces_identite_apres_decision = 40000\n",
            "conservation.pieces_identite_apres_decision",
        ),
        ("\n[conservation]\ndossiers_oublies = 3\n", ""),
    ] {
        let texte = include_str!("../../../examples/concours/animateur-2025.toml").replacen(
            "code = \"piece-identite\"",
            "code = \"piece-identite\"\nidentite = true",
            1,
        ) + mauvais;
        let e = Concours::from_toml(&texte).unwrap_err();
        assert_eq!(e.cle, cle, "{mauvais}: {e:?}");
    }
    // A delay for identity pieces with none marked: a mistake, said.
    let sans = include_str!("../../../examples/concours/animateur-2025.toml").to_owned()
        + "\n[conservation]\npieces_identite_apres_decision = 90\n";
    let e = Concours::from_toml(&sans).unwrap_err();
    assert!(e.to_string().contains("identite = true"), "{e}");
}

/// An espace hosting `c` on memory stores, its clock on 1 April 2025, and its contents.
fn en_memoire(c: Concours) -> (Espace, Arc<HorlogeFixe>, Arc<MemoirePieces>) {
    let horloge = Arc::new(HorlogeFixe::new(t("2025-04-01T10:00:00+02:00")));
    let pieces = Arc::new(MemoirePieces::new());
    let ports = Ports::avec_stores(
        Arc::new(MemoireDossiers::new()),
        pieces.clone(),
        Arc::new(MemoireIdentifiants::new()),
    )
    .avec_horloge(horloge.clone());
    (Espace::new(vec![c], ports).unwrap(), horloge, pieces)
}

#[test]
fn pieces_d_identite_purgees_apres_la_decision() {
    let c = concours("\n[conservation]\npieces_identite_apres_decision = 90\n");
    let (e, horloge, pieces) = en_memoire(c);
    let n = block_on(preinscrire_candidat(&e, "Durand", "camille@exemple.fr"));
    horloge.regler(t("2025-04-10T10:00:00+02:00"));
    let cni = block_on(e.deposer(&n, "piece-identite", "CNI.pdf", pdf_minimal().into())).unwrap();
    let diplome = block_on(e.deposer(&n, "diplome", "diplome.pdf", pdf_minimal().into())).unwrap();
    let recepisse = block_on(e.cloturer(&n)).unwrap();
    let agent = Gestionnaire {
        id: "agent-1".into(),
        role: Role::Instruction,
    };
    // Nothing is due before a decision.
    horloge.regler(t("2025-09-01T10:00:00+02:00"));
    assert!(block_on(e.conserver(true)).unwrap().faites.is_empty());
    let decision = t("2025-09-01T10:00:00+02:00");
    block_on(e.decider(&agent, &n, Decision::Recevable)).unwrap();
    let prevues = block_on(e.consulter(&n))
        .unwrap()
        .dossier
        .purges_prevues(&block_on(e.consulter(&n)).unwrap().concours);
    assert_eq!(prevues.len(), 1);
    assert_eq!(prevues[0].le, decision + Duration::days(90));
    assert_eq!(prevues[0].fichiers, vec![cni.id.clone()]);
    assert_eq!(prevues[0].motif, MotifPurge::PiecesIdentite);

    // Staff's « in the next 30 days »: not yet at the decision, from 60 days after it.
    assert!(
        block_on(e.purges_a_venir(Duration::days(30)))
            .unwrap()
            .is_empty()
    );
    horloge.regler(decision + Duration::days(60));
    let bientot = block_on(e.purges_a_venir(Duration::days(30))).unwrap();
    assert_eq!(bientot.len(), 1);
    assert_eq!(bientot[0].numero, n);
    // On hold (a dispute): skipped when due, until resumed; a reader cannot.
    let lecteur = Gestionnaire {
        id: "agent-2".into(),
        role: Role::Lecture,
    };
    assert!(matches!(
        block_on(e.suspendre_conservation(&lecteur, &n, Some("recours".into()))),
        Err(ErreurEspace::Refus(Refus::ActionNonAutorisee))
    ));
    block_on(e.suspendre_conservation(
        &agent,
        &n,
        Some("recours au tribunal administratif".into()),
    ))
    .unwrap();
    horloge.regler(decision + Duration::days(200));
    assert!(block_on(e.conserver(false)).unwrap().faites.is_empty());
    assert_eq!(pieces.nombre(), 2);
    block_on(e.suspendre_conservation(&agent, &n, None)).unwrap();
    let j = block_on(e.journal(&n)).unwrap();
    assert!(j.entrees.iter().any(|ev| matches!(&ev.quoi,
        Quoi::ConservationSuspendue { raison } if raison == "recours au tribunal administratif")));
    assert!(
        j.entrees
            .iter()
            .any(|ev| matches!(ev.quoi, Quoi::ConservationReprise))
    );

    // One second before: nothing.
    horloge.regler(decision + Duration::days(90) - Duration::seconds(1));
    assert!(block_on(e.conserver(false)).unwrap().faites.is_empty());
    assert_eq!(pieces.nombre(), 2);
    // Due: the dry run says it and changes nothing.
    horloge.regler(decision + Duration::days(90));
    let avant = block_on(e.consulter(&n)).unwrap().dossier;
    let a_blanc = block_on(e.conserver(true)).unwrap();
    assert_eq!(a_blanc.faites.len(), 1);
    assert_eq!(block_on(e.consulter(&n)).unwrap().dossier, avant);
    assert_eq!(pieces.nombre(), 2);
    // Done: the content is gone, the other piece untouched.
    let bilan = block_on(e.conserver(false)).unwrap();
    assert_eq!(bilan.faites.len(), 1);
    assert_eq!(bilan.contenus_restants, 0);
    assert_eq!(pieces.nombre(), 1);
    assert!(block_on(e.voir(&n, &diplome.id)).is_ok());
    for r in [
        block_on(e.voir(&n, &cni.id)).map(drop),
        block_on(e.voir_en_gestion(&agent, &n, &cni.id)).map(drop),
    ] {
        match r {
            Err(ErreurEspace::Refus(r @ Refus::FichierPurge { .. })) => {
                assert_eq!(r.code(), "fichier_purge");
                assert!(
                    r.message().contains("durée de conservation"),
                    "{}",
                    r.message()
                );
            }
            autre => panic!("{autre:?}"),
        }
    }
    // The proof: the record keeps the file and its SHA-256, the journal says what went.
    let d = block_on(e.consulter(&n)).unwrap().dossier;
    let f = d.fichier(&cni.id).unwrap();
    assert_eq!(f.sha256, cni.sha256);
    assert_eq!(f.purge_le, Some(decision + Duration::days(90)));
    let j = block_on(e.journal(&n)).unwrap();
    assert!(j.entrees.iter().any(|ev| matches!(&ev.quoi,
        Quoi::Purge { motif, fichiers, identite: false } if motif == "pieces_identite" && fichiers == &vec![(cni.id.clone(), cni.sha256)])));
    let tete = d.derniere_entree().map(|x| (x.position, x.empreinte()));
    verifier_journal(&j.entrees, tete).unwrap();
    let cles = depot_core::Cles {
        cles: vec![e.ports().signataire.cle_publique()],
    };
    depot_core::signature::verifier_recepisse(&recepisse.json(), &cles).unwrap();
    // Running again purges nothing more.
    horloge.regler(decision + Duration::days(400));
    let encore = block_on(e.conserver(false)).unwrap();
    assert!(encore.faites.is_empty());
    assert_eq!(
        block_on(e.journal(&n)).unwrap().entrees.len(),
        j.entrees.len()
    );
}

/// Whole dossiers: one never closed is erased N days after its deadline (files, identity,
/// declarations, password; its sessions end), a closed one is not; with `fin_concours`,
/// every dossier of the session is, its récépissé and journal kept and verifying.
#[test]
fn dossiers_entiers_effaces() {
    // `dossiers` needs the end of the concours.
    let sans_fin = Concours::from_toml(
        &(include_str!("../../../examples/concours/animateur-2025.toml").to_owned()
            + "\n[conservation]\ndossiers = 730\n"),
    )
    .unwrap_err();
    assert_eq!(sans_fin.cle, "calendrier.fin_concours");
    let texte = include_str!("../../../examples/concours/animateur-2025.toml").replacen(
        "pieces_differees_cloture = \"2025-06-19\"",
        "pieces_differees_cloture = \"2025-06-19\"\nfin_concours = \"2025-12-31\"",
        1,
    ) + "\n[conservation]\ndossiers_non_clotures = 365\ndossiers = 730\n";
    let c = Concours::from_toml(&texte).unwrap();
    let (e, horloge, pieces) = en_memoire(c.clone());
    let ouvert = block_on(preinscrire_candidat(&e, "Durand", "camille@exemple.fr"));
    let clos = block_on(preinscrire_candidat(&e, "Martin", "dominique@exemple.fr"));
    horloge.regler(t("2025-04-10T10:00:00+02:00"));
    block_on(e.deposer(&ouvert, "piece-identite", "CNI.pdf", pdf_minimal().into())).unwrap();
    block_on(e.deposer(&clos, "piece-identite", "CNI.pdf", pdf_minimal().into())).unwrap();
    let recepisse = block_on(e.cloturer(&clos)).unwrap();
    block_on(e.connecter(ouvert.as_str(), &MotDePasse::from(MDP_CANDIDAT))).unwrap();
    let sessions =
        depot_core::session::Sessions::<depot_core::NumeroDossier>::new(e.ports().sessions.clone());
    let (jeton, _) =
        block_on(sessions.ouvrir(ouvert.clone(), horloge_now(&horloge), e.hasard())).unwrap();
    // The deadline is the end of 17 April 2025 (Paris): 365 days later.
    let echeance = c.calendrier.depot_cloture.instant() + Duration::days(365);
    horloge.regler(echeance - Duration::seconds(1));
    assert!(block_on(e.conserver(false)).unwrap().faites.is_empty());
    horloge.regler(echeance);
    let b = block_on(e.conserver(false)).unwrap();
    assert_eq!(b.faites.len(), 1);
    assert_eq!(b.faites[0].numero, ouvert);
    assert_eq!(b.faites[0].motif, MotifPurge::DossierNonCloture);
    assert_eq!(pieces.nombre(), 1, "the closed dossier's file stays");
    let d = block_on(e.consulter(&ouvert)).unwrap().dossier;
    assert_eq!(d.identite().nom(), "(effacé)");
    assert_eq!(d.identite().email(), "");
    assert!(d.declarations().is_empty());
    assert_eq!(d.efface_le(), Some(echeance));
    assert!(d.fichiers().iter().all(|f| f.purge_le.is_some()));
    // Nobody logs in to it again; its session ended.
    assert!(matches!(
        block_on(e.connecter(ouvert.as_str(), &MotDePasse::from(MDP_CANDIDAT))),
        Err(ErreurEspace::Refus(Refus::IdentifiantsInvalides))
    ));
    assert!(
        block_on(sessions.verifier(&jeton, echeance))
            .unwrap()
            .is_none()
    );
    let j = block_on(e.journal(&ouvert)).unwrap();
    assert!(j.entrees.iter().any(|ev| matches!(&ev.quoi,
        Quoi::Purge { motif, identite: true, .. } if motif == "dossier_non_cloture")));
    // The end of the conservation: the closed dossier too; its proof stays.
    let fin = c.calendrier.fin_concours.unwrap().instant() + Duration::days(730);
    horloge.regler(fin);
    let b = block_on(e.conserver(false)).unwrap();
    assert_eq!(b.faites.len(), 1);
    assert_eq!(b.faites[0].motif, MotifPurge::FinDeConservation);
    assert_eq!(pieces.nombre(), 0);
    let d = block_on(e.consulter(&clos)).unwrap().dossier;
    assert_eq!(d.identite().nom(), "(effacé)");
    assert_eq!(d.recepisse(), Some(&recepisse), "the récépissé is kept");
    let j = block_on(e.journal(&clos)).unwrap();
    let tete = d.derniere_entree().map(|x| (x.position, x.empreinte()));
    verifier_journal(&j.entrees, tete).unwrap();
    let cles = depot_core::Cles {
        cles: vec![e.ports().signataire.cle_publique()],
    };
    depot_core::signature::verifier_recepisse(&recepisse.json(), &cles).unwrap();
    // Nothing more afterwards.
    horloge.regler(fin + Duration::days(100));
    assert!(block_on(e.conserver(false)).unwrap().faites.is_empty());
}

fn horloge_now(h: &HorlogeFixe) -> DateTime<Utc> {
    use depot_core::Clock;
    h.now()
}
