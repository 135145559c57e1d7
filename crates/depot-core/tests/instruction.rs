//! The CDG's side: every transition and its guards (who, from which state), the candidate's
//! complements, forclusion and reopening, and registrations superseded through the national
//! registry.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use depot_core::exemples::pdf_minimal;
use depot_core::testkit::concours_du_seed;
use depot_core::{
    DateLimite, Decision, DemandePreinscription, Espace, EtatLu, Gestionnaire, HorlogeFixe,
    Identite, MotDePasse, MotifRejet, NumeroDossier, Ports, RegistreMemoire, RegistreNational,
    Role, StorageError, Voie, verifier_journal,
};
use futures_executor::block_on;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn instructeur() -> Gestionnaire {
    Gestionnaire {
        id: "agent-42".into(),
        role: Role::Instruction,
    }
}

fn lecteur() -> Gestionnaire {
    Gestionnaire {
        id: "stagiaire".into(),
        role: Role::Lecture,
    }
}

struct Banc {
    e: Espace,
    h: Arc<HorlogeFixe>,
}

fn banc(registre: Arc<dyn RegistreNational>) -> Banc {
    let h = Arc::new(HorlogeFixe::new(t("2025-04-01T10:00:00+02:00")));
    let mut ports = Ports::en_memoire().avec_horloge(h.clone());
    ports.registre = registre;
    Banc {
        e: Espace::new(vec![concours_du_seed()], ports).unwrap(),
        h,
    }
}

async fn dossier(b: &Banc, voie: Voie, email: &str) -> NumeroDossier {
    b.h.regler(t("2025-04-01T10:00:00+02:00"));
    let n =
        b.e.preinscrire(
            None,
            DemandePreinscription {
                voie,
                nom: "Durand".into(),
                prenom: "Camille".into(),
                email: email.into(),
                declarations: vec![],
                mot_de_passe: MotDePasse::from("lune verte sur le toit de Laval"),
            },
        )
        .await
        .unwrap();
    b.e.deposer(&n, "piece-identite", "cni.pdf", Bytes::from(pdf_minimal()))
        .await
        .unwrap();
    n
}

async fn etat(b: &Banc, n: &NumeroDossier) -> EtatLu {
    let c = b.e.consulter(n).await.unwrap();
    c.dossier.etat_lu(&c.concours, c.maintenant)
}

fn limite(s: &str) -> DateLimite {
    DateLimite::a_l_instant(t(s))
}

fn complements() -> Decision {
    Decision::Complements {
        pieces: vec!["diplome".into()],
        message: "Joignez la copie de votre diplôme.".into(),
        date_limite: limite("2025-05-15T23:59:59+02:00"),
    }
}

fn code<T: std::fmt::Debug>(r: Result<T, depot_core::ErreurEspace>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

#[test]
fn incomplet_complements_puis_recevable() {
    block_on(async {
        let b = banc(Arc::new(depot_core::SansRegistre));
        let n = dossier(&b, Voie::Externe, "a@exemple.fr").await;
        b.h.regler(t("2025-04-10T10:00:00+02:00"));
        b.e.cloturer(&n).await.unwrap();
        assert_eq!(etat(&b, &n).await, EtatLu::Cloture);
        // A reader cannot decide.
        assert_eq!(
            code(b.e.decider(&lecteur(), &n, complements()).await),
            "action_non_autorisee"
        );
        // Ask for the diploma.
        b.h.regler(t("2025-04-20T10:00:00+02:00"));
        b.e.decider(&instructeur(), &n, complements())
            .await
            .unwrap();
        assert_eq!(etat(&b, &n).await, EtatLu::Incomplet);
        let c = b.e.consulter(&n).await.unwrap();
        let message = c.dossier.message_etat(&c.concours, c.maintenant);
        assert!(
            message.contains("Joignez la copie de votre diplôme")
                && message.contains("Copie du diplôme"),
            "{message}"
        );
        // Only the requested piece can be uploaded; « transmettre » needs it.
        assert_eq!(
            code(
                b.e.deposer(&n, "piece-identite", "x.pdf", Bytes::from(pdf_minimal()))
                    .await
            ),
            "dossier_cloture"
        );
        assert_eq!(
            code(b.e.transmettre_complements(&n).await),
            "pieces_manquantes"
        );
        b.e.deposer(&n, "diplome", "diplome.pdf", Bytes::from(pdf_minimal()))
            .await
            .unwrap();
        b.e.transmettre_complements(&n).await.unwrap();
        assert_eq!(etat(&b, &n).await, EtatLu::Cloture, "back to instruction");
        assert_eq!(
            code(
                b.e.deposer(&n, "diplome", "x.pdf", Bytes::from(pdf_minimal()))
                    .await
            ),
            "dossier_cloture"
        );
        // Recevable, in French for the candidate; the journal carries the staff id.
        b.e.decider(&instructeur(), &n, Decision::Recevable)
            .await
            .unwrap();
        let c = b.e.consulter(&n).await.unwrap();
        assert_eq!(
            c.dossier.etat_lu(&c.concours, c.maintenant),
            EtatLu::Recevable
        );
        assert!(
            c.dossier
                .message_etat(&c.concours, c.maintenant)
                .contains("admis(e) à concourir")
        );
        let journal = b.e.journal(&n).await.unwrap();
        let j = serde_json::to_string(&journal.entrees).unwrap();
        assert!(j.contains("agent-42"), "{j}");
        verifier_journal(&journal.entrees, None).unwrap();
        // A second decision needs a revision first.
        assert_eq!(
            code(
                b.e.decider(
                    &instructeur(),
                    &n,
                    Decision::Rejet {
                        motif: MotifRejet::ConditionsNonRemplies,
                        texte: None
                    }
                )
                .await
            ),
            "transition_interdite"
        );
        assert_eq!(
            code(
                b.e.decider(
                    &instructeur(),
                    &n,
                    Decision::Revision {
                        raison: "  ".into()
                    }
                )
                .await
            ),
            "champ_invalide"
        );
        b.e.decider(
            &instructeur(),
            &n,
            Decision::Revision {
                raison: "Diplôme étranger : équivalence à vérifier".into(),
            },
        )
        .await
        .unwrap();
        assert_eq!(etat(&b, &n).await, EtatLu::Cloture);
        b.e.decider(
            &instructeur(),
            &n,
            Decision::Rejet {
                motif: MotifRejet::ConditionsNonRemplies,
                texte: Some("Diplôme non reconnu".into()),
            },
        )
        .await
        .unwrap();
        let c = b.e.consulter(&n).await.unwrap();
        assert!(
            c.dossier
                .message_etat(&c.concours, c.maintenant)
                .contains("conditions d'accès au concours non remplies")
        );
        // Rejected: no deferred upload either.
        assert_eq!(
            code(
                b.e.deposer(&n, "diplome", "x.pdf", Bytes::from(pdf_minimal()))
                    .await
            ),
            "dossier_cloture"
        );
    });
}

#[test]
fn complements_hors_delai_puis_rejet() {
    block_on(async {
        let b = banc(Arc::new(depot_core::SansRegistre));
        let n = dossier(&b, Voie::Interne, "b@exemple.fr").await;
        b.e.cloturer(&n).await.unwrap();
        // Unknown piece, past deadline, empty message: refused.
        let mauvais = Decision::Complements {
            pieces: vec!["diplome".into()],
            message: "x".into(),
            date_limite: limite("2025-05-15T00:00:00Z"),
        };
        assert_eq!(
            code(b.e.decider(&instructeur(), &n, mauvais).await),
            "piece_inconnue",
            "diplome is not an interne piece"
        );
        let passe = Decision::Complements {
            pieces: vec!["etat-des-services".into()],
            message: "x".into(),
            date_limite: limite("2025-03-01T00:00:00Z"),
        };
        assert_eq!(
            code(b.e.decider(&instructeur(), &n, passe).await),
            "champ_invalide"
        );
        let d = Decision::Complements {
            pieces: vec!["etat-des-services".into()],
            message: "L'état des services signé.".into(),
            date_limite: limite("2025-04-20T00:00:00+02:00"),
        };
        b.e.decider(&instructeur(), &n, d).await.unwrap();
        b.h.regler(t("2025-04-20T00:00:00+02:00"));
        assert_eq!(
            code(
                b.e.deposer(&n, "etat-des-services", "e.pdf", Bytes::from(pdf_minimal()))
                    .await
            ),
            "delai_depasse"
        );
        assert_eq!(code(b.e.transmettre_complements(&n).await), "delai_depasse");
        b.e.decider(
            &instructeur(),
            &n,
            Decision::Rejet {
                motif: MotifRejet::DossierIncomplet,
                texte: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(etat(&b, &n).await, EtatLu::Rejete);
        assert_eq!(
            code(
                b.e.decider(
                    &instructeur(),
                    &n,
                    Decision::Rejet {
                        motif: MotifRejet::Autre,
                        texte: None
                    }
                )
                .await
            ),
            "transition_interdite"
        );
    });
}

#[test]
fn forclusion_et_reouverture() {
    block_on(async {
        let b = banc(Arc::new(depot_core::SansRegistre));
        let n = dossier(&b, Voie::Externe, "c@exemple.fr").await;
        // Open dossiers cannot be decided on.
        assert_eq!(
            code(b.e.decider(&instructeur(), &n, Decision::Recevable).await),
            "transition_interdite"
        );
        b.h.regler(t("2025-04-18T00:00:00+02:00"));
        assert_eq!(etat(&b, &n).await, EtatLu::NonClotureHorsDelai);
        // Forclos: not admitted, not reopened by a reader, nothing deleted.
        assert_eq!(
            code(b.e.decider(&instructeur(), &n, Decision::Recevable).await),
            "transition_interdite"
        );
        let rouvrir = Decision::Reouverture {
            raison: "Panne du site le 17 avril de 22 h à minuit, constatée".into(),
            jusqu_au: limite("2025-04-22T00:00:00+02:00"),
        };
        assert_eq!(
            code(b.e.decider(&lecteur(), &n, rouvrir.clone()).await),
            "action_non_autorisee"
        );
        assert_eq!(b.e.consulter(&n).await.unwrap().dossier.fichiers().len(), 1);
        b.e.decider(&instructeur(), &n, rouvrir.clone())
            .await
            .unwrap();
        assert_eq!(etat(&b, &n).await, EtatLu::Ouvert);
        let c = b.e.consulter(&n).await.unwrap();
        let m = c.dossier.message_etat(&c.concours, c.maintenant);
        assert!(
            m.contains("au plus tard le lundi 21 avril 2025 à 23 h 59, heure de Paris"),
            "{m}"
        );
        // Reopening an open dossier is not a thing.
        assert_eq!(
            code(b.e.decider(&instructeur(), &n, rouvrir).await),
            "transition_interdite"
        );
        b.e.cloturer(&n).await.unwrap();
        assert_eq!(etat(&b, &n).await, EtatLu::Cloture);
        let j = serde_json::to_string(&b.e.journal(&n).await.unwrap().entrees).unwrap();
        assert!(j.contains("Panne du site"));
    });
}

#[test]
fn une_inscription_plus_recente_remplace_l_ancienne() {
    block_on(async {
        let b = banc(Arc::new(RegistreMemoire::default()));
        let ancienne = dossier(&b, Voie::Externe, "meme@exemple.fr").await;
        let autre = dossier(&b, Voie::Externe, "autre@exemple.fr").await;
        let recente = dossier(&b, Voie::Interne, "meme@exemple.fr").await;
        b.h.regler(t("2025-04-10T10:00:00+02:00"));
        b.e.cloturer(&ancienne).await.unwrap();
        b.e.cloturer(&autre).await.unwrap();
        b.e.cloturer(&recente).await.unwrap();
        let c = b.e.consulter(&ancienne).await.unwrap();
        assert_eq!(c.dossier.etat_lu(&c.concours, c.maintenant), EtatLu::Rejete);
        assert!(
            c.dossier
                .message_etat(&c.concours, c.maintenant)
                .contains("inscription remplacée")
        );
        assert_eq!(etat(&b, &autre).await, EtatLu::Cloture);
        assert_eq!(etat(&b, &recente).await, EtatLu::Cloture);
        let j = serde_json::to_string(&b.e.journal(&ancienne).await.unwrap().entrees).unwrap();
        assert!(
            j.contains("\"systeme\"") && j.contains("inscription_remplacee"),
            "{j}"
        );
    });
}

mockall::mock! {
    Registre {}
    #[async_trait]
    impl RegistreNational for Registre {
        async fn declarer(&self, concours: &depot_core::CodeConcours, numero: &NumeroDossier, identite: &Identite) -> Result<Option<NumeroDossier>, StorageError>;
    }
}

#[test]
fn le_registre_est_appele_a_chaque_cloture() {
    block_on(async {
        let mut r = MockRegistre::new();
        // Declared at closure, and again on a double click (idempotent), so that a declaration
        // that failed is retried.
        r.expect_declarer().times(2).returning(|_, _, _| Ok(None));
        let b = banc(Arc::new(r));
        let n = dossier(&b, Voie::Externe, "d@exemple.fr").await;
        b.e.cloturer(&n).await.unwrap();
        b.e.cloturer(&n).await.unwrap();
    });
}

#[test]
fn seul_un_dossier_cloture_peut_etre_remplace() {
    // An open dossier is not a registration yet: a supersession leaves it as it is (the
    // previous version recorded a rejection beside the open state and let it be closed).
    block_on(async {
        let b = banc(Arc::new(depot_core::SansRegistre));
        let n = dossier(&b, Voie::Externe, "f@exemple.fr").await;
        let mut d = b.e.consulter(&n).await.unwrap().dossier;
        let avant = d.clone();
        assert!(d.remplacer(t("2025-04-02T10:00:00+02:00")).is_none());
        assert_eq!(d, avant);
        b.e.cloturer(&n).await.unwrap();
        let mut d = b.e.consulter(&n).await.unwrap().dossier;
        assert!(d.remplacer(t("2025-04-02T10:00:00+02:00")).is_some());
        assert!(
            d.remplacer(t("2025-04-02T10:00:00+02:00")).is_none(),
            "once"
        );
        let c = b.e.consulter(&n).await.unwrap();
        assert_eq!(d.etat_lu(&c.concours, c.maintenant), EtatLu::Rejete);
    });
}
