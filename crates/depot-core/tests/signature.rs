//! The signed récépissé and the hash-chained journal: what a candidate, a CDG or a judge can
//! check without trusting anyone's word.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use depot_core::exemples::{jpeg_minimal, pdf_minimal};
use depot_core::signature::{
    Cles, ErreurVerification, Signataire, SignataireEd25519, verifier_recepisse,
};
use depot_core::testkit::{concours_du_seed, dossier_exemple, pendant_preinscription};
use depot_core::{
    DemandePreinscription, Espace, Evenement, HorlogeFixe, MotDePasse, Ports, Recepisse,
    SystemRandom, Voie, verifier_journal,
};
use futures_executor::block_on;
use proptest::prelude::*;
use serde_json::Value;

fn recepisse_signe(signataire: Arc<SignataireEd25519>) -> Recepisse {
    block_on(async {
        let h = Arc::new(HorlogeFixe::new(pendant_preinscription()));
        let e = Espace::new(
            vec![concours_du_seed()],
            Ports::en_memoire()
                .avec_horloge(h.clone())
                .avec_signataire(signataire),
        )
        .unwrap();
        let n = e
            .preinscrire(
                None,
                DemandePreinscription {
                    voie: Voie::Externe,
                    nom: "Lefèvre".into(),
                    prenom: "Zoé".into(),
                    email: "z@exemple.fr".into(),
                    declarations: vec![],
                    mot_de_passe: MotDePasse::from("lune verte sur le toit de Laval"),
                },
            )
            .await
            .unwrap();
        e.deposer(
            &n,
            "piece-identite",
            "carte d'identité é.pdf",
            Bytes::from(pdf_minimal()),
        )
        .await
        .unwrap();
        e.deposer(
            &n,
            "piece-identite",
            "verso.jpg",
            Bytes::from(jpeg_minimal()),
        )
        .await
        .unwrap();
        h.regler("2025-04-17T21:59:59.123Z".parse().unwrap());
        e.cloturer(&n).await.unwrap()
    })
}

fn cles(s: &SignataireEd25519) -> Cles {
    Cles {
        cles: vec![s.cle_publique()],
    }
}

#[test]
fn signer_puis_verifier() {
    let s = Arc::new(SignataireEd25519::generer(
        &SystemRandom,
        pendant_preinscription(),
    ));
    let r = recepisse_signe(s.clone());
    assert_eq!(r.algorithme, "ed25519");
    assert_eq!(r.cle_id, s.cle_id());
    let json = serde_json::to_vec_pretty(&r).unwrap();
    let c = verifier_recepisse(&json, &cles(&s)).unwrap();
    assert_eq!(c.cloture_le.to_rfc3339(), "2025-04-17T21:59:59.123+00:00");
    assert_eq!(c.fichiers.len(), 2);
    // Compact or pretty, key order changed: the same document verifies.
    let mut v: Value = serde_json::from_slice(&json).unwrap();
    let compact = serde_json::to_vec(&v).unwrap();
    verifier_recepisse(&compact, &cles(&s)).unwrap();
    // A key from elsewhere: refused as unknown.
    let autre = SignataireEd25519::generer(&SystemRandom, pendant_preinscription());
    assert!(matches!(
        verifier_recepisse(&json, &cles(&autre)),
        Err(ErreurVerification::CleInconnue(_))
    ));
    // A key with the right id but other bytes: the signature fails.
    let mut usurpee = autre.cle_publique();
    usurpee.id = s.cle_id().to_owned();
    assert_eq!(
        verifier_recepisse(
            &json,
            &Cles {
                cles: vec![usurpee]
            }
        ),
        Err(ErreurVerification::SignatureInvalide)
    );
    // Not a récépissé.
    assert!(matches!(
        verifier_recepisse(b"{}", &cles(&s)),
        Err(ErreurVerification::Illisible(_))
    ));
    v["algorithme"] = "rsa".into();
    assert!(matches!(
        verifier_recepisse(&serde_json::to_vec(&v).unwrap(), &cles(&s)),
        Err(ErreurVerification::AlgorithmeInconnu(_))
    ));
}

/// Every leaf of the JSON, with a way to change it.
fn feuilles(v: &Value, chemin: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| feuilles(x, format!("{chemin}/{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| feuilles(x, format!("{chemin}/{i}"), out)),
        _ => out.push(chemin),
    }
}

fn alterer(v: &mut Value) {
    *v = match v.take() {
        Value::String(s) => {
            // Change one character, keeping the value well-formed where it has a shape.
            let mut c: Vec<char> = s.chars().collect();
            let i = c.len() / 2;
            if c.is_empty() {
                Value::String("x".into())
            } else {
                c[i] = match c[i] {
                    '0' => '1',
                    '1' => '0',
                    'a' => 'b',
                    'A' => 'B',
                    'é' => 'e',
                    _ if c[i].is_ascii_digit() => '0',
                    _ => 'Z',
                };
                Value::String(c.into_iter().collect())
            }
        }
        Value::Number(n) => Value::from(n.as_u64().unwrap_or(0) + 1),
        Value::Bool(b) => Value::Bool(!b),
        autre => autre,
    };
}

#[test]
fn chaque_champ_altere_est_detecte() {
    let s = Arc::new(SignataireEd25519::generer(
        &SystemRandom,
        pendant_preinscription(),
    ));
    let r = recepisse_signe(s.clone());
    let original: Value = serde_json::to_value(&r).unwrap();
    let mut chemins = Vec::new();
    feuilles(&original, String::new(), &mut chemins);
    assert!(chemins.len() >= 25, "{chemins:?}");
    for chemin in &chemins {
        let mut v = original.clone();
        alterer(v.pointer_mut(chemin).unwrap());
        assert_ne!(v, original, "{chemin} was not changed");
        let json = serde_json::to_vec(&v).unwrap();
        assert!(
            verifier_recepisse(&json, &cles(&s)).is_err(),
            "altering {chemin} went unnoticed"
        );
        // Even with the fingerprint recomputed, the signature catches a content change.
        if chemin.starts_with("/contenu") {
            let mut r2: Recepisse = match serde_json::from_value(v.clone()) {
                Ok(r2) => r2,
                Err(_) => continue, // not a well-formed value any more: refused as unreadable
            };
            r2.empreinte = depot_core::Sha256::de(&r2.contenu.forme_canonique());
            let json = serde_json::to_vec(&r2).unwrap();
            assert_eq!(
                verifier_recepisse(&json, &cles(&s)),
                Err(ErreurVerification::SignatureInvalide),
                "{chemin}"
            );
        }
    }
    eprintln!("{} single-field alterations, all detected", chemins.len());
}

#[test]
fn forme_canonique_stable() {
    let s = Arc::new(SignataireEd25519::generer(
        &SystemRandom,
        pendant_preinscription(),
    ));
    let r = recepisse_signe(s);
    let canon = r.contenu.forme_canonique();
    let texte = String::from_utf8(canon.clone()).unwrap();
    // Sorted keys, no white space, millisecond UTC instant, NFC strings.
    assert!(
        texte.starts_with("{\"cloture_le\":\"2025-04-17T21:59:59.123Z\","),
        "{texte}"
    );
    assert!(!texte.contains(": ") && !texte.contains(", "));
    assert!(texte.contains("Lef\u{e8}vre"));
    for _ in 0..3 {
        let relu: Recepisse =
            serde_json::from_slice(&serde_json::to_vec_pretty(&r).unwrap()).unwrap();
        assert_eq!(relu.contenu.forme_canonique(), canon);
        assert_eq!(relu, r);
    }
}

// ---- The journal ---------------------------------------------------------------------------

fn journal(n: usize, graine: u32) -> Vec<Evenement> {
    let mut d = dossier_exemple(Voie::Externe);
    let t0: DateTime<Utc> = pendant_preinscription();
    for i in 0..n {
        // At least one failure each: every login is journaled.
        d.journaliser_connexion(
            graine.wrapping_mul(i as u32 + 7) % 5 + 1,
            t0 + Duration::seconds(i as i64 * 61),
        );
    }
    d.entrees_a_ecrire().to_vec()
}

fn tete(j: &[Evenement]) -> Option<(u64, depot_core::Sha256)> {
    j.last().map(|e| (e.position, e.empreinte()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn toute_alteration_du_journal_est_detectee(n in 2usize..30, graine in any::<u32>(), i in any::<prop::sample::Index>(), j in any::<prop::sample::Index>(), mutation in 0u8..4) {
        let original = journal(n, graine);
        let ancre = tete(&original);
        prop_assert!(verifier_journal(&original, ancre).is_ok());
        let len = original.len();
        let (i, j) = (i.index(len), j.index(len));
        let mut m = original.clone();
        match mutation {
            0 => { m.remove(i); }
            1 => { m[i].quand += Duration::milliseconds(1); }
            2 => {
                prop_assume!(i != j && m[i] != m[j]);
                m.swap(i, j);
            }
            _ => { m.insert(i, original[j].clone()); }
        }
        let r = verifier_journal(&m, ancre);
        prop_assert!(r.is_err(), "mutation {} at {}/{} not detected", mutation, i, j);
        // Without an anchor, any change before the last entry is still detected.
        if i + 1 < len && mutation == 1 {
            prop_assert!(verifier_journal(&m, None).is_err());
        }
    }
}
