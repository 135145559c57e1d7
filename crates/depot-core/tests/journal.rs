//! The journal lives apart from the dossier's record: the record keeps its last entry, the
//! store the entries (finding 12 of the outside test, its structural half), and the staff's
//! reads are journaled with who read what (finding 7).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use depot_core::dossier::Acteur;
use depot_core::exemples::pdf_minimal;
use depot_core::testkit::{concours_du_seed, dossier_exemple, pendant_preinscription};
use depot_core::{
    DemandePreinscription, Espace, Evenement, Gestionnaire, HorlogeFixe, MotDePasse, NumeroDossier,
    Ports, Quoi, Role, Voie, reconstituer_journal,
};
use futures_executor::block_on;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

struct Banc {
    espace: Espace,
    horloge: Arc<HorlogeFixe>,
}

fn banc() -> Banc {
    let horloge = Arc::new(HorlogeFixe::new(t("2025-04-01T10:00:00+02:00")));
    let ports = Ports::en_memoire().avec_horloge(horloge.clone());
    Banc {
        espace: Espace::new(vec![concours_du_seed()], ports).unwrap(),
        horloge,
    }
}

async fn preinscrit(e: &Espace) -> NumeroDossier {
    e.preinscrire(
        None,
        DemandePreinscription {
            voie: Voie::Externe,
            nom: "Durand".into(),
            prenom: "Camille".into(),
            email: "camille.durand@exemple.fr".into(),
            declarations: vec![],
            mot_de_passe: MotDePasse::from("lune verte sur le toit de Laval"),
        },
    )
    .await
    .unwrap()
}

fn record_size(e: &Espace, n: &NumeroDossier) -> usize {
    let d = block_on(e.ports().dossiers.load(n)).unwrap().valeur;
    serde_json::to_vec(&d).unwrap().len()
}

/// Before: every entry was in the record every operation rewrites, so 8,300 upload/delete
/// cycles grew it to 5.4 MB. Now the record's size does not depend on the history.
#[test]
fn le_dossier_ne_grossit_pas_avec_son_historique() {
    let b = banc();
    let e = &b.espace;
    let n = block_on(preinscrit(e));
    let cycle = || {
        let f = block_on(e.deposer(&n, "piece-identite", "CNI.pdf", pdf_minimal().into())).unwrap();
        block_on(e.supprimer(&n, &f.id)).unwrap();
    };
    for _ in 0..5 {
        cycle();
    }
    let apres_5 = record_size(e, &n);
    for _ in 0..300 {
        cycle();
    }
    let apres_305 = record_size(e, &n);
    assert!(
        apres_305 <= apres_5 + 16,
        "record after 305 cycles: {apres_305} bytes, after 5: {apres_5}"
    );
    // Nothing is lost: every operation is in the journal, chained.
    let j = block_on(e.journal(&n)).unwrap();
    assert_eq!(j.entrees.len(), 1 + 2 * 305);
    assert_eq!(j.orphelines, 0);
}

fn agent(id: &str) -> Gestionnaire {
    Gestionnaire {
        id: id.into(),
        role: Role::Lecture,
    }
}

fn lectures(j: &[Evenement]) -> Vec<(String, Quoi)> {
    j.iter()
        .filter_map(|e| match &e.acteur {
            Acteur::Gestionnaire { id } => Some((id.clone(), e.quoi.clone())),
            _ => None,
        })
        .collect()
}

/// Before: staff reads went to a log line only. Now each read is a journal entry naming who
/// read what, written before the dossier or the file is returned; the same read again
/// within 15 minutes adds nothing.
#[test]
fn les_lectures_du_service_concours_sont_journalisees() {
    block_on(async {
        let b = banc();
        let e = &b.espace;
        let n = preinscrit(e).await;
        let f = e
            .deposer(&n, "piece-identite", "CNI.pdf", pdf_minimal().into())
            .await
            .unwrap();
        let (_, j) = e.consulter_en_gestion(&agent("agent-1"), &n).await.unwrap();
        assert_eq!(
            lectures(&j.entrees),
            vec![("agent-1".into(), Quoi::Consultation { fichier: None })],
            "the read is in the journal it returns"
        );
        // Reloaded 5 minutes later: nothing new. Another agent: journaled.
        b.horloge.regler(t("2025-04-01T10:05:00+02:00"));
        e.consulter_en_gestion(&agent("agent-1"), &n).await.unwrap();
        e.consulter_en_gestion(&agent("agent-2"), &n).await.unwrap();
        // A file, then an unknown file (refused, journaled nowhere), then an export.
        let _ = e
            .voir_en_gestion(&agent("agent-2"), &n, &f.id)
            .await
            .unwrap();
        let inconnu = depot_core::FichierId::generer(&depot_core::SystemRandom);
        let r = e.voir_en_gestion(&agent("agent-2"), &n, &inconnu).await;
        assert_eq!(r.err().map(|x| x.code()), Some("fichier_inconnu"));
        e.journaliser_export(&agent("agent-2"), &n).await.unwrap();
        // 16 minutes after the first read: journaled again.
        b.horloge.regler(t("2025-04-01T10:16:00+02:00"));
        e.consulter_en_gestion(&agent("agent-1"), &n).await.unwrap();
        let j = e.journal(&n).await.unwrap();
        assert_eq!(
            lectures(&j.entrees),
            vec![
                ("agent-1".into(), Quoi::Consultation { fichier: None }),
                ("agent-2".into(), Quoi::Consultation { fichier: None }),
                (
                    "agent-2".into(),
                    Quoi::Consultation {
                        fichier: Some(f.id.clone())
                    }
                ),
                ("agent-2".into(), Quoi::Export),
                ("agent-1".into(), Quoi::Consultation { fichier: None }),
            ]
        );
        // The candidate's closure still works after staff reads: the récépissé anchors the
        // journal's head, reads included.
        e.cloturer(&n).await.unwrap();
        let j = e.journal(&n).await.unwrap();
        depot_core::verifier_journal(&j.entrees, None).unwrap();
    });
}

fn chaine(n: usize) -> Vec<Evenement> {
    let mut d = dossier_exemple(Voie::Externe);
    for i in 0..n {
        d.journaliser_connexion(1, pendant_preinscription() + Duration::seconds(i as i64));
    }
    d.entrees_a_ecrire().to_vec()
}

#[test]
fn la_chaine_se_reconstitue_depuis_la_tete_du_dossier() {
    let j = chaine(5);
    let tete = j.last().cloned().unwrap();
    // Any order, repeats and orphans (a write that lost its compare-and-swap): the chain
    // the head names, orphans counted.
    let mut orpheline = j[3].clone();
    orpheline.quand += Duration::seconds(1000);
    let mut stockees = j.clone();
    stockees.reverse();
    stockees.push(j[2].clone());
    stockees.push(orpheline);
    let r = reconstituer_journal(stockees, Some(&tete)).unwrap();
    assert_eq!(r.entrees, j);
    assert_eq!(r.orphelines, 1);
    // An entry removed, or altered: the walk breaks at its position.
    for i in 0..j.len() {
        let mut sans = j.clone();
        sans.remove(i);
        let e = reconstituer_journal(sans, Some(&tete)).unwrap_err();
        assert_eq!(e.position, i as u64, "removed {i}");
        let mut altere = j.clone();
        altere[i].quoi = Quoi::Connexion { echecs_avant: 99 };
        let e = reconstituer_journal(altere, Some(&tete)).unwrap_err();
        assert_eq!(e.position, i as u64, "altered {i}");
    }
    // No head: nothing is on the chain.
    let r = reconstituer_journal(j.clone(), None).unwrap();
    assert!(r.entrees.is_empty());
    assert_eq!(r.orphelines, j.len());
}
