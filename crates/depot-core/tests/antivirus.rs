//! The antivirus in the core, with the in-memory marker scanner: an infected upload refused
//! with nothing stored and the refusal journaled; a clean one recorded `saine`; with the
//! scanner down, accepted `en_attente`, closable, refused to staff, then scanned again by the
//! worker (back-off while still down); a pending file found infected quarantined — served to
//! nobody, replaceable after closure, journaled.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::sync::Arc;

use bytes::Bytes;
use chrono::Duration;
use depot_core::antivirus::{AntivirusMarqueur, StatutAnalyse};
use depot_core::exemples::pdf_minimal;
use depot_core::memoire::{MemoireDossiers, MemoireIdentifiants, MemoirePieces};
use depot_core::testkit::{concours_du_seed, preinscrire_candidat};
use depot_core::{
    ErreurEnvoi, ErreurEspace, Espace, Gestionnaire, HorlogeFixe, NumeroDossier, Ports, Quoi,
    Refus, Role, Sha256,
};
use futures_executor::block_on;

const MARQUEUR: &[u8] = b"DEPOT-TEST-MARQUEUR-VIRAL-0001";

struct Banc {
    espace: Espace,
    pieces: Arc<MemoirePieces>,
    av: AntivirusMarqueur,
    horloge: Arc<HorlogeFixe>,
    numero: NumeroDossier,
}

fn banc() -> Banc {
    let horloge = Arc::new(HorlogeFixe::new(
        "2025-04-01T10:00:00+02:00".parse().unwrap(),
    ));
    let pieces = Arc::new(MemoirePieces::new());
    let av = AntivirusMarqueur::new(MARQUEUR, "Depot.Test.Marqueur");
    let ports = Ports::avec_stores(
        Arc::new(MemoireDossiers::new()),
        pieces.clone(),
        Arc::new(MemoireIdentifiants::new()),
    )
    .avec_horloge(horloge.clone())
    .avec_antivirus(Arc::new(av.clone()));
    let espace = Espace::new(vec![concours_du_seed()], ports).unwrap();
    let numero = block_on(preinscrire_candidat(
        &espace,
        "Durand",
        "camille@exemple.fr",
    ));
    horloge.regler("2025-04-10T10:00:00+02:00".parse().unwrap());
    Banc {
        espace,
        pieces,
        av,
        horloge,
        numero,
    }
}

/// A valid PDF carrying the marker (after its end, where the format allows a little data).
fn pdf_infecte() -> Vec<u8> {
    let mut pdf = pdf_minimal();
    pdf.extend_from_slice(b"%");
    pdf.extend_from_slice(MARQUEUR);
    pdf.extend_from_slice(b"\n");
    pdf
}

fn instructeur() -> Gestionnaire {
    Gestionnaire {
        id: "agent-1".into(),
        role: Role::Instruction,
    }
}

fn par_morceaux(
    octets: &[u8],
    taille: usize,
) -> impl futures_core::Stream<Item = Result<Bytes, ErreurEnvoi>> + Send + use<> {
    let morceaux: Vec<_> = octets
        .chunks(taille)
        .map(|m| Ok(Bytes::copy_from_slice(m)))
        .collect();
    futures_util::stream::iter(morceaux)
}

#[test]
fn un_fichier_infecte_est_refuse_et_rien_n_est_garde() {
    let b = banc();
    let pdf = pdf_infecte();
    // In chunks of 7 bytes: the marker straddles chunks.
    let r = block_on(b.espace.deposer_flux(
        &b.numero,
        "piece-identite",
        "CNI.pdf",
        par_morceaux(&pdf, 7),
    ));
    let Err(ErreurEspace::Refus(refus)) = r else {
        panic!("{r:?}")
    };
    assert_eq!(refus.code(), "virus_detecte");
    assert!(
        refus
            .message()
            .contains("« CNI.pdf » est détecté comme contenant un virus (Depot.Test.Marqueur)"),
        "{}",
        refus.message()
    );
    assert_eq!(b.pieces.nombre(), 0, "nothing stored");
    let c = block_on(b.espace.consulter(&b.numero)).unwrap();
    assert!(c.dossier.fichiers().is_empty());
    // Journaled with the content's SHA-256 and the signature.
    let j = block_on(b.espace.journal(&b.numero)).unwrap();
    let trouve = j.entrees.iter().any(|e| {
        matches!(&e.quoi, Quoi::VirusDetecte { sha256, signature, nom, .. }
            if *sha256 == Sha256::de(&pdf) && signature == "Depot.Test.Marqueur" && nom == "CNI.pdf")
    });
    assert!(trouve, "{:#?}", j.entrees);
    // A clean file is recorded as found clean, with the engine.
    let f =
        block_on(
            b.espace
                .deposer(&b.numero, "piece-identite", "CNI.pdf", pdf_minimal().into()),
        )
        .unwrap();
    let a = f.antivirus.unwrap();
    assert_eq!(a.statut, StatutAnalyse::Saine);
    assert_eq!(a.moteur.unwrap().nom, "marqueur (mémoire)");
    assert_eq!(b.av.analyses(), 2);
}

#[test]
fn antivirus_indisponible_accepte_puis_analyse_plus_tard() {
    let b = banc();
    b.av.rendre_disponible(false);
    let f =
        block_on(
            b.espace
                .deposer(&b.numero, "piece-identite", "CNI.pdf", pdf_minimal().into()),
        )
        .unwrap();
    assert_eq!(
        f.antivirus.as_ref().unwrap().statut,
        StatutAnalyse::EnAttente
    );
    // The candidate can close; staff cannot open the file yet.
    block_on(b.espace.cloturer(&b.numero)).unwrap();
    let r = block_on(b.espace.voir_en_gestion(&instructeur(), &b.numero, &f.id));
    assert!(
        matches!(r, Err(ErreurEspace::Refus(Refus::AnalyseEnAttente))),
        "{:?}",
        r.map(|x| x.0)
    );
    // Still down: one attempt, then none before its back-off.
    let bilan = block_on(b.espace.analyser_en_attente()).unwrap();
    assert_eq!((bilan.saines, bilan.en_attente), (0, 1));
    b.av.rendre_disponible(true);
    let bilan = block_on(b.espace.analyser_en_attente()).unwrap();
    assert_eq!((bilan.saines, bilan.en_attente), (0, 1), "not due yet");
    b.horloge.regler(b.horloge_plus(Duration::seconds(10)));
    let bilan = block_on(b.espace.analyser_en_attente()).unwrap();
    assert_eq!(bilan.saines, 1);
    let c = block_on(b.espace.consulter(&b.numero)).unwrap();
    let a = c.dossier.fichier(&f.id).unwrap().antivirus.clone().unwrap();
    assert_eq!(a.statut, StatutAnalyse::Saine);
    assert!(a.moteur.is_some());
    assert!(block_on(b.espace.voir_en_gestion(&instructeur(), &b.numero, &f.id)).is_ok());
    // Nothing left to do.
    assert_eq!(
        block_on(b.espace.analyser_en_attente()).unwrap(),
        Default::default()
    );
    let j = block_on(b.espace.journal(&b.numero)).unwrap();
    assert!(j.entrees.iter().any(|e| matches!(&e.quoi,
        Quoi::Analyse { statut, .. } if statut == "saine")));
}

#[test]
fn un_fichier_trouve_infecte_plus_tard_est_mis_en_quarantaine() {
    let b = banc();
    b.av.rendre_disponible(false);
    let f =
        block_on(
            b.espace
                .deposer(&b.numero, "piece-identite", "CNI.pdf", pdf_infecte().into()),
        )
        .unwrap();
    block_on(b.espace.cloturer(&b.numero)).unwrap();
    b.av.rendre_disponible(true);
    let bilan = block_on(b.espace.analyser_en_attente()).unwrap();
    assert_eq!(bilan.infectees, 1);
    // Kept (evidence), served to nobody.
    assert_eq!(b.pieces.nombre(), 1);
    for r in [
        block_on(b.espace.voir(&b.numero, &f.id)).map(drop),
        block_on(b.espace.voir_en_gestion(&instructeur(), &b.numero, &f.id)).map(drop),
    ] {
        assert!(
            matches!(r, Err(ErreurEspace::Refus(Refus::FichierInfecte))),
            "{r:?}"
        );
    }
    // The piece counts as missing again; its replacement is accepted after closure.
    let c = block_on(b.espace.consulter(&b.numero)).unwrap();
    let piece = c.concours.piece("piece-identite").unwrap().clone();
    assert_eq!(c.dossier.statut(&piece).code(), "manquante");
    let g = block_on(b.espace.deposer(
        &b.numero,
        "piece-identite",
        "CNI-nouvelle.pdf",
        pdf_minimal().into(),
    ))
    .unwrap();
    assert!(g.apres_cloture);
    assert_eq!(g.antivirus.unwrap().statut, StatutAnalyse::Saine);
    // Another piece stays closed.
    let r = block_on(
        b.espace
            .deposer(&b.numero, "diplome", "diplome.pdf", pdf_minimal().into()),
    );
    assert!(
        matches!(&r, Err(ErreurEspace::Refus(Refus::DossierCloture))),
        "{r:?}"
    );
    let j = block_on(b.espace.journal(&b.numero)).unwrap();
    assert!(j.entrees.iter().any(|e| matches!(&e.quoi,
        Quoi::Analyse { statut, signature: Some(s), .. } if statut == "infectee" && s == "Depot.Test.Marqueur")));
}

#[test]
fn antivirus_qui_tombe_pendant_l_envoi() {
    let b = banc();
    let pdf = pdf_minimal();
    let av = b.av.clone();
    // The scanner goes down after the first chunk.
    let morceaux: Vec<_> = pdf.chunks(64).map(Bytes::copy_from_slice).collect();
    let flux = futures_util::stream::iter(morceaux.into_iter().enumerate().map(move |(i, m)| {
        if i == 1 {
            av.rendre_disponible(false);
        }
        Ok::<_, ErreurEnvoi>(m)
    }));
    let f = block_on(
        b.espace
            .deposer_flux(&b.numero, "piece-identite", "CNI.pdf", flux),
    )
    .unwrap();
    assert_eq!(f.antivirus.unwrap().statut, StatutAnalyse::EnAttente);
}

impl Banc {
    fn horloge_plus(&self, d: Duration) -> chrono::DateTime<chrono::Utc> {
        use depot_core::Clock;
        self.horloge.now() + d
    }
}
