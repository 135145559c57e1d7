//! Every refusal, printed: a stable code and a French sentence that says what to do.
//! Run with `--nocapture` to read them all.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::collections::BTreeSet;

use depot_core::{CodePiece, ErreurEspace, PieceNommee, Refus, Rejet, StorageError};

fn tous() -> Vec<Refus> {
    let nom = || "CNI recto.pdf".to_owned();
    vec![
        Refus::from(Rejet::FormatRefuse {
            nom: nom(),
            detecte: Some("une image PNG"),
            admis: "PDF ou JPEG".into(),
        }),
        Refus::from(Rejet::ExtensionIncoherente {
            nom: nom(),
            format: "JPEG",
            attendues: "« .jpg » ou « .jpeg »",
        }),
        Refus::from(Rejet::PdfChiffre { nom: nom() }),
        Refus::from(Rejet::PdfContenuActif {
            nom: nom(),
            element: "/JavaScript".into(),
        }),
        Refus::from(Rejet::PdfIllisible { nom: nom() }),
        Refus::from(Rejet::JpegInvalide { nom: nom() }),
        Refus::from(Rejet::ImageTropGrande {
            nom: nom(),
            megapixels: 60,
            limite: 50,
        }),
        Refus::from(Rejet::FichierVide { nom: nom() }),
        Refus::from(Rejet::FichierTropVolumineux {
            nom: nom(),
            taille_max_mo: 10,
        }),
        Refus::TropDeFichiers {
            piece: "Copie d'une pièce d'identité".into(),
            max: 2,
        },
        Refus::PieceInconnue {
            code: "etat-des-services".into(),
        },
        Refus::FichierInconnu,
        Refus::DossierCloture,
        Refus::DelaiDepasse {
            date_limite: "jeudi 17 avril 2025 à minuit (heure de Paris)".into(),
        },
        Refus::PiecesManquantes {
            manquantes: vec![PieceNommee {
                code: CodePiece::parse("piece-identite").unwrap(),
                libelle: "Copie d'une pièce d'identité".into(),
            }],
        },
        Refus::PreinscriptionFermee {
            periode:
                "du mardi 11 mars 2025 jusqu'au mercredi 9 avril 2025 à minuit (heure de Paris)"
                    .into(),
        },
        Refus::MotDePasseFaible {
            raison: "il compte 8 caractère(s), il en faut au moins 12.".into(),
        },
        Refus::IdentifiantsInvalides,
        Refus::ChampInvalide {
            champ: "email",
            raison: "saisissez une adresse de la forme prenom.nom@exemple.fr.".into(),
        },
        Refus::ConcoursInconnu {
            code: "autre".into(),
        },
        Refus::ActionNonAutorisee,
        Refus::TransitionInterdite {
            etat: "recevable",
            action: "rejeter",
        },
    ]
}

#[test]
fn chaque_refus_a_un_code_stable_et_une_phrase_francaise() {
    let refus = tous();
    let codes: BTreeSet<&str> = refus.iter().map(Refus::code).collect();
    assert_eq!(codes.len(), refus.len(), "codes are unique");
    assert_eq!(
        codes,
        Refus::CODES.iter().copied().collect(),
        "every code is listed in Refus::CODES"
    );
    assert_eq!(
        &Refus::CODES[..Rejet::CODES.len()],
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
