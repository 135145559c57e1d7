//! Property tests where the rules have edges: deadlines around midnight and DST changes,
//! the récépissé's canonical form, the format validator on arbitrary bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc, Weekday};
use chrono_tz::Europe::Paris;
use depot_core::calendrier::DateSaisie;
use depot_core::{DateLimite, Format, analyser};
use proptest::prelude::*;

/// The oracle computes « avant minuit » without `from_local_datetime`: Paris is UTC+1 in
/// winter and UTC+2 in summer, so midnight starting day `j + 1` is one of two UTC instants;
/// it is the one that reads 00:00 on `j + 1` when converted *to* Paris time.
fn oracle_limite(jour: NaiveDate) -> DateTime<Utc> {
    let lendemain = jour.succ_opt().unwrap();
    let minuit_utc = lendemain.and_hms_opt(0, 0, 0).unwrap().and_utc();
    [1, 2]
        .into_iter()
        .map(|h| minuit_utc - Duration::hours(h))
        .find(|t| {
            let p = t.with_timezone(&Paris);
            p.date_naive() == lendemain && p.hour() == 0 && p.minute() == 0 && p.second() == 0
        })
        .expect("midnight exists in Paris")
}

/// The last Sunday of a month: the EU changes time on the last Sunday of March and October.
fn dernier_dimanche(annee: i32, mois: u32) -> NaiveDate {
    let mut j = NaiveDate::from_ymd_opt(annee, mois + 1, 1)
        .unwrap()
        .pred_opt()
        .unwrap();
    while j.weekday() != Weekday::Sun {
        j = j.pred_opt().unwrap();
    }
    j
}

fn jour_quelconque() -> impl Strategy<Value = NaiveDate> {
    (0i64..(16 * 366))
        .prop_map(|n| NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + Duration::days(n))
}

/// Every DST change day of 2020–2035 and the days around it.
fn jour_de_changement() -> impl Strategy<Value = NaiveDate> {
    (2020i32..=2035, prop::bool::ANY, -1i64..=1).prop_map(|(a, mars, decalage)| {
        dernier_dimanche(a, if mars { 3 } else { 10 }) + Duration::days(decalage)
    })
}

fn jour() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![jour_quelconque(), jour_de_changement()]
}

/// An offset within ±48 h, at millisecond precision, with the instants just around
/// midnight over-represented.
fn decalage_ms() -> impl Strategy<Value = i64> {
    prop_oneof![
        -172_800_000i64..=172_800_000,
        -2_000i64..=2_000,
        Just(-1),
        Just(0),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12_000))]

    #[test]
    fn la_decision_de_delai_suit_l_oracle(j in jour(), d in decalage_ms()) {
        let limite = DateLimite::fin_du_jour(j).unwrap();
        let attendu = oracle_limite(j);
        prop_assert_eq!(limite.instant(), attendu);
        let now = attendu + Duration::milliseconds(d);
        prop_assert_eq!(limite.est_depassee(now), d >= 0, "now = {}", now);
        // Parsing the date as a CDG writes it gives the same deadline.
        let saisie = DateSaisie::parse(&j.format("%Y-%m-%d").to_string()).unwrap();
        prop_assert_eq!(saisie.comme_limite().unwrap(), limite);
        // The label names the day itself, never the next one.
        prop_assert_eq!(
            limite.libelle(),
            format!("{} à minuit (heure de Paris)", depot_core::calendrier::date_en_lettres(j))
        );
    }

    #[test]
    fn une_heure_locale_est_refusee_ou_exacte(j in jour(), minutes in 0u32..(24 * 60)) {
        // A local Paris date-time either does not exist / is ambiguous (refused), or maps to
        // the one instant that reads that wall-clock time in Paris.
        let local = j.and_hms_opt(minutes / 60, minutes % 60, 0).unwrap();
        match DateSaisie::parse(&local.format("%Y-%m-%dT%H:%M:%S").to_string()) {
            Ok(DateSaisie::Instant(t)) => {
                prop_assert_eq!(t.with_timezone(&Paris).naive_local(), local);
                let autres = [t - Duration::hours(1), t + Duration::hours(1)];
                prop_assert!(autres.iter().all(|a| a.with_timezone(&Paris).naive_local() != local));
            }
            Ok(autre) => prop_assert!(false, "unexpected {:?}", autre),
            Err(_) => {
                // Refused: 0 or 2 instants read that time in Paris.
                let candidats = (-3..=3)
                    .map(|h| local.and_utc() - Duration::hours(h))
                    .filter(|t| t.with_timezone(&Paris).naive_local() == local)
                    .count();
                prop_assert!(candidats != 1, "refused a local time that exists once: {}", local);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn le_validateur_ne_panique_jamais(octets in prop::collection::vec(any::<u8>(), 0..4096), pdf in any::<bool>()) {
        // Arbitrary bytes behind a valid signature: a verdict, never a panic.
        let mut contenu = if pdf { b"%PDF-1.7\n".to_vec() } else { vec![0xFF, 0xD8, 0xFF] };
        contenu.extend_from_slice(&octets);
        let nom = if pdf { "x.pdf" } else { "x.jpg" };
        let _ = analyser(nom, &contenu, &[Format::Pdf, Format::Jpeg], 10);
        let _ = analyser(nom, &octets, &[Format::Pdf, Format::Jpeg], 10);
    }

    #[test]
    fn un_pdf_abime_n_est_jamais_accepte_en_silence(coupe in 0.0f64..1.0) {
        // Truncating a valid PDF anywhere before its end marker is refused.
        let pdf = depot_core::exemples::pdf_pages(2, 4000, "");
        let n = ((pdf.len() - 8) as f64 * coupe) as usize;
        let r = analyser("x.pdf", &pdf[..n], &[Format::Pdf], 10);
        prop_assert!(r.is_err());
    }
}

#[test]
fn les_jours_de_changement_sont_bien_ceux_de_paris() {
    // Sanity check of the oracle's calendar against chrono-tz: on each change day the Paris
    // offset differs between 00:00 UTC and 23:00 UTC.
    for a in 2020..=2035 {
        for m in [3, 10] {
            let j = dernier_dimanche(a, m);
            let matin = j
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
                .with_timezone(&Paris);
            let soir = j
                .and_hms_opt(23, 0, 0)
                .unwrap()
                .and_utc()
                .with_timezone(&Paris);
            assert_ne!(
                chrono::Offset::fix(matin.offset()),
                chrono::Offset::fix(soir.offset()),
                "{j}"
            );
        }
    }
}
