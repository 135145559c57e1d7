//! Every refusal, printed: a stable code and a French sentence that says what to do.
//! Run with `--nocapture` to read them all.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::collections::BTreeSet;

use depot_core::{ErreurEspace, Refus, Rejet, StorageError};

#[test]
fn chaque_refus_a_un_code_stable_et_une_phrase_francaise() {
    let refus = Refus::exemples();
    let codes: BTreeSet<&str> = refus.iter().map(Refus::code).collect();
    assert_eq!(codes.len(), refus.len(), "codes are unique");
    assert_eq!(
        codes,
        Refus::codes().collect(),
        "every code is listed in Refus::codes()"
    );
    assert_eq!(
        Refus::codes().take(Rejet::CODES.len()).collect::<Vec<_>>(),
        Rejet::CODES,
        "the format's codes open the catalogue"
    );
    for r in &refus {
        let m = r.message();
        println!("{:<26} {m}", r.code());
        assert!(m.ends_with('.'), "{}: a full sentence", r.code());
        assert!(
            m.chars().next().is_some_and(char::is_uppercase),
            "{}",
            r.code()
        );
        assert!(
            !m.contains("{") && !m.contains("Some("),
            "{}: no formatting leak: {m}",
            r.code()
        );
        // Refusals about a file name it.
        if format!("{r:?}").contains("CNI recto.pdf") {
            assert!(
                m.contains("« CNI recto.pdf »"),
                "{}: names the file",
                r.code()
            );
        }
    }
    assert!(
        Refus::DelaiDepasse {
            date_limite: "jeudi 17 avril 2025 à minuit (heure de Paris)".into()
        }
        .message()
        .contains("jeudi 17 avril 2025 à minuit")
    );
    assert!(
        Refus::from(Rejet::FichierTropVolumineux {
            nom: "a.pdf".into(),
            taille_max_mo: 10
        })
        .message()
        .contains("10 Mo")
    );
}

#[test]
fn les_pannes_de_stockage_ne_fuient_pas_vers_le_candidat() {
    let e = ErreurEspace::from(StorageError::Unavailable("s3://bucket/clé secrète".into()));
    assert_eq!(e.code(), "stockage_indisponible");
    assert!(!e.message().contains("bucket"));
    println!("{:<26} {}", e.code(), e.message());
}

/// A form shows every field's problem at once: `Identite::erreurs` gives them all, in the
/// form's order, with the same rules as `Identite::parse` (which stops at the first).
#[test]
fn identite_toutes_les_erreurs_a_la_fois() {
    use depot_core::Identite;
    let champs = |n: &str, p: &str, e: &str| {
        Identite::erreurs(n, p, e)
            .into_iter()
            .map(|r| match r {
                Refus::ChampInvalide { champ, .. } => champ,
                autre => panic!("{autre:?}"),
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(champs("", " ", "x"), ["nom", "prenom", "email"]);
    assert_eq!(champs("Durand", "", "camille@exemple.fr"), ["prenom"]);
    assert_eq!(
        champs(&"a".repeat(101), "Camille", "pas une adresse"),
        ["nom", "email"]
    );
    assert!(champs("Durand", "Camille", "camille@exemple.fr").is_empty());
    assert!(Identite::parse("Durand", "Camille", "camille@exemple.fr").is_ok());
    // The first of `erreurs` is what `parse` refuses with.
    assert_eq!(
        Identite::parse("", "Camille", "x").unwrap_err(),
        Identite::erreurs("", "Camille", "x")[0]
    );
}
