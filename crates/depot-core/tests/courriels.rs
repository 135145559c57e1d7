//! E-mail in the core: every kind of message queued with its cause and rendered, reminders
//! on a controlled clock (a deadline on a Sunday that is also the day clocks go back), the
//! outbox under failures and with two instances, getting back in.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use depot_core::courriel::{
    Courriel, Courrier, Echeance, ErreurMessagerie, IssueCourriel, Messagerie, SorteCourriel,
};
use depot_core::memoire::{MemoireDossiers, MemoireIdentifiants, MemoirePieces};
use depot_core::session::Sessions;
use depot_core::{
    Concours, DemandePreinscription, Espace, HorlogeFixe, MotDePasse, NumeroDossier, Ports, Quoi,
    Refus, Voie,
};
use futures_executor::block_on;

const MDP: &str = "lune verte sur le toit de Laval";
const URL: &str = "https://concours.cdg-exemple.fr";

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// The seed's concours with its dépôt deadline on Sunday 26 October 2025, the night clocks
/// go back from 03:00 CEST to 02:00 CET.
fn concours_dimanche() -> Concours {
    let modele = include_str!("../../../examples/concours/animateur-2025.toml");
    let texte = modele
        .replace(
            "preinscription_ouverture = \"2025-03-11\"",
            "preinscription_ouverture = \"2025-09-01\"",
        )
        .replace(
            "preinscription_cloture   = \"2025-04-09\"",
            "preinscription_cloture   = \"2025-10-26\"",
        )
        .replace(
            "depot_cloture            = \"2025-04-17\"",
            "depot_cloture            = \"2025-10-26\"",
        )
        .replace(
            "pieces_differees_cloture = \"2025-06-19\"",
            "pieces_differees_cloture = \"2025-12-14\"",
        );
    let c = Concours::from_toml(&texte).unwrap();
    assert_eq!(
        c.calendrier.depot_cloture.instant(),
        t("2025-10-26T23:00:00Z"),
        "midnight after the Sunday, in CET"
    );
    c
}

/// Keeps what it is given; fails while told to.
#[derive(Default)]
struct Boite {
    recus: Mutex<Vec<Courriel>>,
    pannes: Mutex<Option<ErreurMessagerie>>,
}

impl Boite {
    fn prendre(&self) -> Vec<Courriel> {
        std::mem::take(&mut *self.recus.lock().unwrap())
    }
    fn en_panne(&self, e: Option<ErreurMessagerie>) {
        *self.pannes.lock().unwrap() = e;
    }
}

#[async_trait]
impl Messagerie for Boite {
    async fn envoyer(&self, c: &Courriel) -> Result<(), ErreurMessagerie> {
        if let Some(e) = self.pannes.lock().unwrap().clone() {
            return Err(e);
        }
        self.recus.lock().unwrap().push(c.clone());
        Ok(())
    }
}

struct Banc {
    espace: Espace,
    horloge: Arc<HorlogeFixe>,
    boite: Arc<Boite>,
    ports: Ports,
}

fn banc_sur(concours: Concours, debut: DateTime<Utc>) -> Banc {
    let horloge = Arc::new(HorlogeFixe::new(debut));
    let boite = Arc::new(Boite::default());
    let ports = Ports::avec_stores(
        Arc::new(MemoireDossiers::new()),
        Arc::new(MemoirePieces::new()),
        Arc::new(MemoireIdentifiants::new()),
    )
    .avec_horloge(horloge.clone())
    .avec_courrier(Courrier {
        messagerie: boite.clone(),
        url_publique: URL.into(),
    });
    Banc {
        espace: Espace::new(vec![concours], ports.clone()).unwrap(),
        horloge,
        boite,
        ports,
    }
}

fn banc() -> Banc {
    banc_sur(concours_dimanche(), t("2025-10-01T10:00:00+02:00"))
}

fn demande(email: &str) -> DemandePreinscription {
    demande_voie(email, Voie::Externe)
}

fn demande_voie(email: &str, voie: Voie) -> DemandePreinscription {
    DemandePreinscription {
        voie,
        nom: "Durand".into(),
        prenom: "Camille".into(),
        email: email.into(),
        declarations: vec![],
        mot_de_passe: MotDePasse::from(MDP),
    }
}

impl Banc {
    fn preinscrire(&self, email: &str) -> NumeroDossier {
        block_on(self.espace.preinscrire(None, demande(email))).unwrap()
    }

    /// Every required piece gets a file, then the dossier is closed.
    fn completer_et_cloturer(&self, n: &NumeroDossier) {
        block_on(async {
            let c = self.espace.consulter(n).await.unwrap();
            for p in c.dossier.pieces_manquantes(&c.concours) {
                self.espace
                    .deposer(
                        n,
                        p.code.as_str(),
                        "piece.pdf",
                        depot_core::exemples::pdf_minimal().into(),
                    )
                    .await
                    .unwrap();
            }
            self.espace.cloturer(n).await.unwrap();
        });
    }

    fn tournee(&self) -> depot_core::courriel::BilanDistribution {
        block_on(self.espace.distribuer_courriels()).unwrap()
    }

    fn journal(&self, n: &NumeroDossier) -> Vec<Quoi> {
        block_on(self.espace.journal(n))
            .unwrap()
            .entrees
            .into_iter()
            .map(|e| e.quoi)
            .collect()
    }
}

#[test]
fn preinscription_cloture_et_complements_partent_avec_leur_cause() {
    let b = banc();
    let n = b.preinscrire("camille.durand@exemple.fr");
    // Queued in the record written by the pré-inscription itself.
    let c = block_on(b.espace.consulter(&n)).unwrap();
    assert_eq!(c.dossier.courriels().len(), 1);
    assert_eq!(
        c.dossier.courriels()[0].sorte,
        SorteCourriel::Preinscription
    );
    // Sent by the quick round of this instance.
    let bilan = block_on(b.espace.distribuer_courriels_recents()).unwrap();
    assert_eq!(bilan.envoyes, 1);
    let recus = b.boite.prendre();
    let m = &recus[0];
    assert_eq!(m.a, "camille.durand@exemple.fr");
    assert_eq!(m.sorte, "preinscription");
    assert!(m.texte.contains(n.as_str()), "{}", m.texte);
    assert!(
        m.texte
            .contains("au plus tard le dimanche 26 octobre 2025 à 23 h 59, heure de Paris"),
        "{}",
        m.texte
    );
    assert!(
        m.texte.contains("Copie d'une pièce d'identité"),
        "{}",
        m.texte
    );
    assert!(m.texte.contains(&format!("{URL}/connexion")), "{}", m.texte);
    assert!(m.html.contains(n.as_str()) && m.html.starts_with("<!DOCTYPE html>"));
    assert!(m.message_id.starts_with('<') && m.message_id.ends_with("@concours.cdg-exemple.fr>"));
    assert!(!m.texte.contains(MDP), "never the password");
    // Out of the outbox, into the journal (kind and Message-ID, no body).
    let c = block_on(b.espace.consulter(&n)).unwrap();
    assert!(c.dossier.courriels().is_empty());
    assert!(b.journal(&n).contains(&Quoi::Courriel {
        sorte: "preinscription".into(),
        message_id: m.message_id.clone(),
        issue: IssueCourriel::Envoye,
    }));
    // A second round sends nothing again.
    assert_eq!(b.tournee().envoyes, 0);

    // Closure: the accusé de réception with the récépissé, PDF and signed JSON.
    b.completer_et_cloturer(&n);
    assert_eq!(
        block_on(b.espace.distribuer_courriels_recents())
            .unwrap()
            .envoyes,
        1
    );
    let m = b.boite.prendre().pop().unwrap();
    assert_eq!(m.sorte, "cloture");
    assert!(
        m.texte
            .contains("Votre dossier est clôturé, il est en cours d'instruction."),
        "{}",
        m.texte
    );
    let r = block_on(b.espace.consulter(&n))
        .unwrap()
        .dossier
        .recepisse()
        .cloned()
        .unwrap();
    assert!(
        m.texte
            .contains(&depot_core::calendrier::instant_en_lettres(
                r.contenu.cloture_le
            ))
    );
    let noms: Vec<&str> = m.pieces_jointes.iter().map(|p| p.nom.as_str()).collect();
    assert_eq!(
        noms,
        [format!("recepisse-{n}.pdf"), format!("recepisse-{n}.json")]
    );
    assert_eq!(
        m.pieces_jointes[1].octets,
        r.json(),
        "the same bytes the espace serves"
    );
    assert_eq!(m.pieces_jointes[0].octets, r.pdf());
    assert!(m.pieces_jointes[0].octets.starts_with(b"%PDF-"));
    let cles = depot_core::signature::Cles {
        cles: vec![b.espace.cle_publique()],
    };
    let verifie =
        depot_core::signature::verifier_recepisse(&m.pieces_jointes[1].octets, &cles).unwrap();
    assert_eq!(verifie.numero, n);

    // Complements asked by the CDG.
    let qui = depot_core::Gestionnaire {
        id: "agent".into(),
        role: depot_core::instruction::Role::Instruction,
    };
    let limite =
        depot_core::DateLimite::fin_du_jour(chrono::NaiveDate::from_ymd_opt(2025, 11, 12).unwrap())
            .unwrap();
    block_on(b.espace.decider(
        &qui,
        &n,
        depot_core::Decision::Complements {
            pieces: vec!["piece-identite".into()],
            message: "Copie illisible.".into(),
            date_limite: limite,
        },
    ))
    .unwrap();
    b.tournee();
    let m = b.boite.prendre().pop().unwrap();
    assert_eq!(m.sorte, "complements");
    assert!(
        m.texte.contains("Copie illisible.")
            && m.texte.contains("mercredi 12 novembre 2025 à 23 h 59"),
        "{}",
        m.texte
    );
    // Its reminder, 2 days before the last day at noon, once.
    b.horloge.regler(t("2025-11-10T10:59:00Z"));
    assert_eq!(b.tournee().rappels, 0);
    b.horloge.regler(t("2025-11-10T12:00:00+01:00"));
    assert_eq!(b.tournee().rappels, 1);
    assert_eq!(b.boite.prendre().pop().unwrap().sorte, "rappel_complements");
    b.horloge.regler(t("2025-11-11T12:00:00+01:00"));
    assert_eq!(b.tournee().rappels, 0);
    assert!(b.boite.prendre().is_empty());
}

/// Runs the worker every 10 minutes from `de` to `a`; returns, per dossier, the reminders
/// received with the instant of the round that sent them.
fn derouler(
    b: &Banc,
    de: DateTime<Utc>,
    a: DateTime<Utc>,
) -> BTreeMap<String, Vec<(DateTime<Utc>, String)>> {
    let mut recus: BTreeMap<String, Vec<(DateTime<Utc>, String)>> = BTreeMap::new();
    let mut now = de;
    while now <= a {
        b.horloge.regler(now);
        b.tournee();
        for m in b.boite.prendre() {
            recus
                .entry(m.a.clone())
                .or_default()
                .push((now, m.sujet.clone()));
        }
        now += Duration::minutes(10);
    }
    recus
}

#[test]
fn trois_rappels_par_dossier_ouvert_un_dimanche_de_changement_d_heure() {
    let b = banc();
    let ouvert = b.preinscrire("ouvert@exemple.fr");
    let ferme = b.preinscrire("ferme@exemple.fr");
    b.completer_et_cloturer(&ferme);
    b.tournee();
    b.boite.prendre();
    let recus = derouler(&b, t("2025-10-18T00:00:00Z"), t("2025-10-27T12:00:00Z"));
    let a_l_ouvert = &recus["ouvert@exemple.fr"];
    let instants: Vec<DateTime<Utc>> = a_l_ouvert.iter().map(|(t, _)| *t).collect();
    assert_eq!(
        instants,
        [
            // Sunday 19 at 12:00 CEST, Saturday 25 at 12:00 CEST, Sunday 26 at 12:00 CET.
            t("2025-10-19T10:00:00Z"),
            t("2025-10-25T10:00:00Z"),
            t("2025-10-26T11:00:00Z"),
        ],
        "{a_l_ouvert:?}"
    );
    assert!(a_l_ouvert[2].1.starts_with("Dernier jour"));
    assert!(
        !recus.contains_key("ferme@exemple.fr"),
        "none after closure: {recus:?}"
    );
    // The journal of the open dossier says three reminders left.
    let rappels = b
        .journal(&ouvert)
        .into_iter()
        .filter(|q| matches!(q, Quoi::Courriel { sorte, .. } if sorte == "rappel"))
        .count();
    assert_eq!(rappels, 3);
}

#[test]
fn apres_une_panne_seul_le_dernier_rappel_du_part_et_un_seul() {
    let b = banc();
    let n = b.preinscrire("camille@exemple.fr");
    b.tournee();
    b.boite.prendre();
    // Down from before J-7 until J-1 at 15:00: one reminder, the J-1 one.
    b.horloge.regler(t("2025-10-25T15:00:00+02:00"));
    let bilan = b.tournee();
    assert_eq!((bilan.rappels, bilan.envoyes), (1, 1));
    let c = block_on(b.espace.consulter(&n)).unwrap();
    assert_eq!(c.dossier.rappels_programmes().len(), 1);
    assert!(b.boite.prendre()[0].sujet.starts_with("Rappel"));
    // Two instances running the worker at once: the last day's reminder leaves once.
    b.horloge.regler(t("2025-10-26T12:30:00+01:00"));
    let autre = Espace::new(vec![concours_dimanche()], b.ports.clone()).unwrap();
    let (x, y) = block_on(futures_util::future::join(
        b.espace.distribuer_courriels(),
        autre.distribuer_courriels(),
    ));
    assert_eq!(x.unwrap().envoyes + y.unwrap().envoyes, 1);
    assert_eq!(b.boite.prendre().len(), 1);
    // After the deadline, nothing.
    b.horloge.regler(t("2025-10-27T00:00:00+01:00"));
    assert_eq!(b.tournee(), Default::default());

    // A dossier created after the J-1 slot gets only the last day's reminder.
    let b = banc();
    b.horloge.regler(t("2025-10-25T18:00:00+02:00"));
    let _ = b.preinscrire("tardif@exemple.fr");
    let recus = derouler(
        &b,
        t("2025-10-25T18:00:00+02:00"),
        t("2025-10-27T00:00:00Z"),
    );
    let sujets: Vec<&str> = recus["tardif@exemple.fr"]
        .iter()
        .map(|(_, s)| s.as_str())
        .collect();
    assert_eq!(
        sujets.len(),
        2,
        "pré-inscription, then the last day: {sujets:?}"
    );
    assert!(sujets[1].starts_with("Dernier jour"));
}

#[test]
fn pieces_differees_rappelees_sept_jours_avant_aux_dossiers_clotures_qui_les_doivent() {
    let b = banc();
    // Deferred pieces (état des services…) are asked of the voie interne.
    let n = block_on(
        b.espace
            .preinscrire(None, demande_voie("camille@exemple.fr", Voie::Interne)),
    )
    .unwrap();
    let externe = b.preinscrire("externe@exemple.fr");
    b.completer_et_cloturer(&n);
    b.completer_et_cloturer(&externe);
    b.tournee();
    b.boite.prendre();
    // 7 days before Sunday 14 December: Sunday 7 December at 12:00 CET.
    let recus = derouler(&b, t("2025-12-06T00:00:00Z"), t("2025-12-15T00:00:00Z"));
    let v = &recus["camille@exemple.fr"];
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].0, t("2025-12-07T11:00:00Z"));
    assert!(v[0].1.starts_with("Pièces à transmettre"), "{v:?}");
    assert!(
        !recus.contains_key("externe@exemple.fr"),
        "nothing deferred is asked of it"
    );
}

#[test]
fn l_envoi_reessaie_puis_abandonne_et_le_journal_le_dit() {
    let b = banc();
    let n = b.preinscrire("camille@exemple.fr");
    let debut = b.horloge.now_for_test();
    b.boite.en_panne(Some(ErreurMessagerie::Temporaire(
        "connexion refusée".into(),
    )));
    assert_eq!(b.tournee().reportes, 1);
    // Not tried again before its wait (1 minute, then 2…).
    assert_eq!(b.tournee(), Default::default());
    b.horloge.regler(debut + Duration::minutes(1));
    assert_eq!(b.tournee().reportes, 1);
    b.horloge.regler(debut + Duration::minutes(2));
    assert_eq!(b.tournee(), Default::default());
    let c = block_on(b.espace.consulter(&n)).unwrap();
    assert_eq!(c.dossier.courriels()[0].essais, 2);
    // The server comes back: sent once, with the Message-ID of every try.
    b.boite.en_panne(None);
    b.horloge.regler(debut + Duration::minutes(3));
    assert_eq!(b.tournee().envoyes, 1);
    assert_eq!(b.boite.prendre().len(), 1);

    // Down for more than a day: given up, and journaled.
    let n2 = b.preinscrire("autre@exemple.fr");
    let debut = b.horloge.now_for_test();
    b.boite
        .en_panne(Some(ErreurMessagerie::Temporaire("délai dépassé".into())));
    let mut now = debut;
    let mut abandonnes = 0;
    while now < debut + Duration::hours(26) {
        b.horloge.regler(now);
        abandonnes += b.tournee().abandonnes;
        now += Duration::minutes(5);
    }
    assert_eq!(abandonnes, 1);
    assert!(b.journal(&n2).iter().any(|q| matches!(
        q,
        Quoi::Courriel { sorte, issue: IssueCourriel::Abandonne { .. }, .. } if sorte == "preinscription"
    )));
    // Refused for good (a 5xx): given up at once.
    b.boite.en_panne(Some(ErreurMessagerie::Definitive(
        "550 boîte inconnue".into(),
    )));
    let _ = b.preinscrire("inconnu@exemple.fr");
    assert_eq!(b.tournee().abandonnes, 1);
}

trait Maintenant {
    fn now_for_test(&self) -> DateTime<Utc>;
}
impl Maintenant for HorlogeFixe {
    fn now_for_test(&self) -> DateTime<Utc> {
        depot_core::Clock::now(self)
    }
}

fn lien_du_courriel(m: &Courriel) -> String {
    let debut = m.texte.find("jeton=").expect("un lien") + "jeton=".len();
    m.texte[debut..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn mot_de_passe_oublie_de_bout_en_bout() {
    let b = banc();
    let n = b.preinscrire("Camille.Durand@exemple.fr");
    b.tournee();
    b.boite.prendre();
    let sessions = Sessions::<NumeroDossier>::new(b.ports.sessions.clone());
    let (session, _) = block_on(sessions.ouvrir(
        n.clone(),
        b.horloge.now_for_test(),
        &depot_core::SystemRandom,
    ))
    .unwrap();
    // Wrong address, unknown n°: nothing queued, nothing sent.
    assert!(
        !block_on(
            b.espace
                .demander_reinitialisation(n.as_str(), "autre@exemple.fr")
        )
        .unwrap()
    );
    assert!(
        !block_on(
            b.espace
                .demander_reinitialisation("2025-ANI-ZZZZZZ", "camille.durand@exemple.fr")
        )
        .unwrap()
    );
    assert_eq!(b.tournee().envoyes, 0);
    // The right pair (case and spaces do not matter in the address).
    assert!(
        block_on(
            b.espace
                .demander_reinitialisation(n.as_str(), " camille.durand@EXEMPLE.fr ")
        )
        .unwrap()
    );
    b.tournee();
    let m = b.boite.prendre().pop().unwrap();
    assert_eq!(m.sorte, "mot_de_passe");
    let jeton = lien_du_courriel(&m);
    assert!(
        m.texte
            .contains(&format!("{URL}/mot-de-passe/nouveau?jeton={jeton}"))
    );
    // The record keeps only the token's hash once the message left.
    let record = serde_json::to_string(&block_on(b.espace.consulter(&n)).unwrap().dossier).unwrap();
    assert!(!record.contains(&jeton));
    // While it waits, a log of the dossier never shows it.
    block_on(
        b.espace
            .demander_reinitialisation(n.as_str(), "camille.durand@exemple.fr"),
    )
    .unwrap();
    let en_attente = block_on(b.espace.consulter(&n)).unwrap().dossier;
    let SorteCourriel::MotDePasse { jeton: j, .. } = &en_attente.courriels()[0].sorte else {
        panic!("a reset link queued");
    };
    assert!(!format!("{en_attente:?}").contains(j.exposer()));
    b.tournee();
    let jeton = lien_du_courriel(&b.boite.prendre().pop().unwrap());
    // A weak password is refused and the link still works.
    let e = block_on(
        b.espace
            .reinitialiser_mot_de_passe(&jeton, &MotDePasse::from("court")),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            depot_core::ErreurEspace::Refus(Refus::MotDePasseFaible { .. })
        ),
        "{e:?}"
    );
    let nouveau = "grand phare bleu sur la digue de Brest";
    assert_eq!(
        block_on(
            b.espace
                .reinitialiser_mot_de_passe(&jeton, &MotDePasse::from(nouveau))
        )
        .unwrap(),
        n
    );
    // Old password refused, new one accepted, sessions ended, link dead.
    assert!(block_on(b.espace.connecter(n.as_str(), &MotDePasse::from(MDP))).is_err());
    assert_eq!(
        block_on(b.espace.connecter(n.as_str(), &MotDePasse::from(nouveau))).unwrap(),
        n
    );
    assert!(
        block_on(sessions.verifier(&session, b.horloge.now_for_test()))
            .unwrap()
            .is_none()
    );
    let e = block_on(b.espace.reinitialiser_mot_de_passe(
        &jeton,
        &MotDePasse::from("encore un autre long mot de passe"),
    ))
    .unwrap_err();
    assert!(matches!(
        e,
        depot_core::ErreurEspace::Refus(Refus::JetonInvalide)
    ));
    let j = b.journal(&n);
    assert!(j.contains(&Quoi::DemandeReinitialisation) && j.contains(&Quoi::Reinitialisation));

    // A newer request voids the older link; a link expires after 30 minutes.
    block_on(
        b.espace
            .demander_reinitialisation(n.as_str(), "camille.durand@exemple.fr"),
    )
    .unwrap();
    b.tournee();
    let premier = lien_du_courriel(&b.boite.prendre().pop().unwrap());
    block_on(
        b.espace
            .demander_reinitialisation(n.as_str(), "camille.durand@exemple.fr"),
    )
    .unwrap();
    b.tournee();
    let second = lien_du_courriel(&b.boite.prendre().pop().unwrap());
    let e = block_on(
        b.espace
            .reinitialiser_mot_de_passe(&premier, &MotDePasse::from("le vieux lien ne sert plus")),
    )
    .unwrap_err();
    assert!(matches!(
        e,
        depot_core::ErreurEspace::Refus(Refus::JetonInvalide)
    ));
    b.horloge
        .regler(b.horloge.now_for_test() + Duration::minutes(31));
    let e = block_on(
        b.espace
            .reinitialiser_mot_de_passe(&second, &MotDePasse::from("trop tard pour ce lien-là")),
    )
    .unwrap_err();
    assert!(matches!(
        e,
        depot_core::ErreurEspace::Refus(Refus::JetonInvalide)
    ));
    // A link that is not one.
    for faux in [
        "",
        "x",
        &format!("{n}.court"),
        &format!("{}.{}", n, "A".repeat(43)),
    ] {
        let e = block_on(
            b.espace
                .reinitialiser_mot_de_passe(faux, &MotDePasse::from("peu importe ce mot-ci")),
        )
        .unwrap_err();
        assert!(
            matches!(e, depot_core::ErreurEspace::Refus(Refus::JetonInvalide)),
            "{faux}"
        );
    }
}

#[test]
fn numero_oublie_liste_les_dossiers_de_l_adresse() {
    let b = banc();
    let n1 = b.preinscrire("camille@exemple.fr");
    let n2 = b.preinscrire("CAMILLE@exemple.fr");
    let _autre = b.preinscrire("autre@exemple.fr");
    b.tournee();
    b.boite.prendre();
    assert_eq!(
        block_on(b.espace.rappeler_numeros("inconnue@exemple.fr")).unwrap(),
        0
    );
    assert_eq!(
        block_on(b.espace.rappeler_numeros("camille@exemple.fr")).unwrap(),
        2
    );
    b.tournee();
    let recus = b.boite.prendre();
    assert_eq!(recus.len(), 1);
    let m = &recus[0];
    assert_eq!(m.sorte, "numeros");
    assert!(
        m.texte.contains(n1.as_str()) && m.texte.contains(n2.as_str()),
        "{}",
        m.texte
    );
    assert!(!m.texte.contains(_autre.as_str()));
}

#[test]
fn sans_courrier_rien_n_est_mis_en_file() {
    let ports = Ports::en_memoire()
        .avec_horloge(Arc::new(HorlogeFixe::new(t("2025-10-01T10:00:00+02:00"))));
    let espace = Espace::new(vec![concours_dimanche()], ports).unwrap();
    let n = block_on(espace.preinscrire(None, demande("x@exemple.fr"))).unwrap();
    assert!(
        block_on(espace.consulter(&n))
            .unwrap()
            .dossier
            .courriels()
            .is_empty()
    );
    assert_eq!(
        block_on(espace.distribuer_courriels()).unwrap(),
        Default::default()
    );
}

#[test]
fn chaque_sorte_a_son_apercu() {
    let c = concours_dimanche();
    for sorte in depot_core::courriel::SORTES {
        let m = block_on(depot_core::courriel::apercu(&c, sorte, URL))
            .unwrap_or_else(|e| panic!("{sorte}: {e}"));
        assert_eq!(m.sorte, sorte);
        assert!(
            m.texte.starts_with("Bonjour Camille Durand,"),
            "{sorte}: {}",
            m.texte
        );
        assert!(m.texte.contains("Ce message est envoyé automatiquement"));
        println!("==== {sorte}\nObjet : {}\n{}", m.sujet, m.texte);
    }
    assert!(block_on(depot_core::courriel::apercu(&c, "inconnue", URL)).is_err());
    let _ = Echeance::J7;
}

/// A busy worker sends a few dossiers' messages per round; the others wait for the next
/// rounds, none is lost or sent twice.
#[test]
fn une_tournee_limitee_laisse_le_reste_pour_la_suivante() {
    let b = banc();
    for i in 0..5 {
        b.preinscrire(&format!("candidat{i}@exemple.fr"));
    }
    let envoyes = |max| {
        block_on(b.espace.distribuer_courriels_recents_au_plus(max))
            .unwrap()
            .envoyes
    };
    assert_eq!(envoyes(2), 2);
    assert_eq!(envoyes(2), 2);
    assert_eq!(envoyes(2), 1);
    assert_eq!(envoyes(2), 0);
    let mut a: Vec<_> = b.boite.prendre().into_iter().map(|m| m.a).collect();
    a.sort();
    assert_eq!(
        a,
        (0..5)
            .map(|i| format!("candidat{i}@exemple.fr"))
            .collect::<Vec<_>>()
    );
}
