//! Deadlines « avant minuit, heure métropolitaine », to the instant.
//!
//! Seed: « au plus tard le 17 avril 2025 avant minuit (heure métropolitaine) dernier délai ».
//! A [`DateLimite`] is an **exclusive** instant in UTC: the deadline « 17 avril 2025 avant
//! minuit » is `2025-04-18T00:00:00+02:00` = `2025-04-17T22:00:00Z`; an action at
//! 23:59:59.999 Paris time is on time, one at 00:00:00.000 is late. Europe/Paris appears
//! only here, where the rule and the display need it.

use std::fmt;

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Timelike, Utc,
};
use chrono_tz::Europe::Paris;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// How the CDG wrote the deadline, which decides how it is said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// A day: the deadline is midnight ending that day.
    Jour,
    /// A precise instant.
    Instant,
}

/// An exclusive deadline: an action is on time iff `now < instant`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateLimite {
    instant: DateTime<Utc>,
    precision: Precision,
}

impl DateLimite {
    /// The deadline « avant minuit » ending `jour`, Paris time.
    pub fn fin_du_jour(jour: NaiveDate) -> Result<Self, ErreurDate> {
        let lendemain = jour.succ_opt().ok_or(ErreurDate::HorsLimites)?;
        Ok(Self {
            instant: debut_du_jour(lendemain)?,
            precision: Precision::Jour,
        })
    }

    /// A deadline at an exact instant.
    pub fn a_l_instant(instant: DateTime<Utc>) -> Self {
        Self {
            instant,
            precision: Precision::Instant,
        }
    }

    /// The first instant that is too late.
    pub fn instant(&self) -> DateTime<Utc> {
        self.instant
    }

    /// How it was written.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// `true` when `now` is at or after the deadline.
    pub fn est_depassee(&self, now: DateTime<Utc>) -> bool {
        now >= self.instant
    }

    /// The instant with the Paris offset, as the API shows it.
    pub fn paris(&self) -> DateTime<Tz> {
        self.instant.with_timezone(&Paris)
    }

    /// The deadline in words for a candidate: « jeudi 17 avril 2025 à minuit (heure de
    /// Paris) », or « jeudi 17 avril 2025 à 17 h 00 (heure de Paris) ».
    pub fn libelle(&self) -> String {
        format!("{} (heure de Paris)", self.libelle_dans(Paris))
    }

    /// The last day on time, in Paris: the day before the exclusive instant of a
    /// day-deadline, the instant's own day otherwise.
    pub fn dernier_jour(&self) -> NaiveDate {
        let p = self.paris();
        if self.precision == Precision::Jour {
            p.date_naive().pred_opt().unwrap_or(NaiveDate::MIN)
        } else {
            // An exact instant at 00:00 closes the day before.
            (p - chrono::Duration::nanoseconds(1)).date_naive()
        }
    }

    /// The last minute on time, as the pages and e-mails say it after « au plus tard »,
    /// without ambiguity about midnight: « le jeudi 17 avril 2025 à 23 h 59, heure de
    /// Paris »; for an exact instant, the minute before it (18:00 → « à 17 h 59 »; a
    /// reopening until 00:00 → the day before « à 23 h 59 »).
    pub fn au_plus_tard(&self) -> String {
        if self.precision == Precision::Jour {
            return format!(
                "le {} à 23 h 59, heure de Paris",
                date_en_lettres(self.dernier_jour())
            );
        }
        let p = (self.instant - chrono::Duration::seconds(1)).with_timezone(&Paris);
        format!(
            "le {} à {} h {:02}, heure de Paris",
            date_en_lettres(p.date_naive()),
            p.hour(),
            p.minute()
        )
    }

    /// What is left before the deadline, for a candidate looking at the page at `now`:
    /// « il vous reste 13 jours » (calendar days in Paris up to the last day on time), on the
    /// last day « il vous reste 5 h 12 min » (« il vous reste 8 min », « il vous reste moins
    /// d'une minute »), and « la date limite est dépassée » after it.
    pub fn temps_restant(&self, now: DateTime<Utc>) -> String {
        if self.est_depassee(now) {
            return "la date limite est dépassée".to_owned();
        }
        let aujourd_hui = now.with_timezone(&Paris).date_naive();
        let jours = (self.dernier_jour() - aujourd_hui).num_days();
        if jours > 1 {
            return format!("il vous reste {jours} jours");
        }
        if jours == 1 {
            return "il vous reste 1 jour".to_owned();
        }
        let minutes = (self.instant - now).num_minutes();
        match (minutes / 60, minutes % 60) {
            (0, 0) => "il vous reste moins d'une minute".to_owned(),
            (0, m) => format!("il vous reste {m} min"),
            (h, m) => format!("il vous reste {h} h {m:02} min"),
        }
    }

    /// Whether `now` is in the last 48 hours before the deadline (the pages then show a
    /// banner).
    pub fn est_proche(&self, now: DateTime<Utc>) -> bool {
        !self.est_depassee(now) && self.instant - now <= chrono::Duration::hours(48)
    }

    /// The same instant in another zone, e.g. a candidate in `America/Guadeloupe`:
    /// « jeudi 17 avril 2025 à 18 h 00 ». A day-deadline is said « à minuit » only in Paris,
    /// where that is what it means.
    pub fn libelle_dans(&self, zone: Tz) -> String {
        if self.precision == Precision::Jour && zone == Paris {
            // The last day on time is the day before the exclusive instant.
            let veille = self
                .paris()
                .date_naive()
                .pred_opt()
                .unwrap_or(NaiveDate::MIN);
            return format!("{} à minuit", date_en_lettres(veille));
        }
        let local = self.instant.with_timezone(&zone);
        format!(
            "{} à {} h {:02}",
            date_en_lettres(local.date_naive()),
            local.hour(),
            local.minute()
        )
    }
}

impl fmt::Display for DateLimite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.libelle())
    }
}

/// An instant cannot be placed on Paris' calendar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErreurDate {
    /// Not a date, a local date-time or a date-time with offset.
    #[error(
        "« {0} » n'est ni une date (2025-04-17), ni une date et heure (2025-04-17T17:00:00), ni une date et heure avec décalage (2025-10-26T02:30:00+01:00)"
    )]
    Syntaxe(String),
    /// Falls in the spring-forward gap: that local time never happens in Paris.
    #[error(
        "l'heure locale {0} n'existe pas à Paris (passage à l'heure d'été) : choisissez une autre heure"
    )]
    Inexistante(NaiveDateTime),
    /// Falls in the autumn overlap: that local time happens twice in Paris.
    #[error(
        "l'heure locale {0} existe deux fois à Paris (passage à l'heure d'hiver) : précisez le décalage, par exemple {0}+02:00 ou {0}+01:00"
    )]
    Ambigue(NaiveDateTime),
    /// Outside chrono's range.
    #[error("date hors limites")]
    HorsLimites,
}

/// 00:00 Paris time on `jour`, in UTC. (France changes time at 02:00/03:00, so midnight
/// always exists; the general case is still checked.)
pub fn debut_du_jour(jour: NaiveDate) -> Result<DateTime<Utc>, ErreurDate> {
    paris_local(jour.and_time(NaiveTime::MIN))
}

/// A Paris wall-clock time as a UTC instant; refuses a gap or an overlap.
pub fn paris_local(local: NaiveDateTime) -> Result<DateTime<Utc>, ErreurDate> {
    match Paris.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::None => Err(ErreurDate::Inexistante(local)),
        LocalResult::Ambiguous(_, _) => Err(ErreurDate::Ambigue(local)),
    }
}

/// A calendar value as written in a concours file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateSaisie {
    /// `2025-04-17`: a whole day.
    Jour(NaiveDate),
    /// `2025-04-17T17:00:00`, or with an offset: one instant.
    Instant(DateTime<Utc>),
}

impl DateSaisie {
    /// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS]` (Paris time) or RFC 3339 with offset.
    pub fn parse(s: &str) -> Result<Self, ErreurDate> {
        let s = s.trim();
        if let Ok(jour) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(Self::Jour(jour));
        }
        if let Ok(t) = DateTime::<FixedOffset>::parse_from_rfc3339(s) {
            return Ok(Self::Instant(t.with_timezone(&Utc)));
        }
        for motif in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M:%S",
        ] {
            if let Ok(local) = NaiveDateTime::parse_from_str(s, motif) {
                return paris_local(local).map(Self::Instant);
            }
        }
        Err(ErreurDate::Syntaxe(s.chars().take(60).collect()))
    }

    /// As the start of a window (inclusive): a day starts at 00:00 Paris.
    pub fn comme_debut(&self) -> Result<DateTime<Utc>, ErreurDate> {
        match *self {
            Self::Jour(j) => debut_du_jour(j),
            Self::Instant(t) => Ok(t),
        }
    }

    /// As a deadline (exclusive): a day ends at the midnight that follows it.
    pub fn comme_limite(&self) -> Result<DateLimite, ErreurDate> {
        match *self {
            Self::Jour(j) => DateLimite::fin_du_jour(j),
            Self::Instant(t) => Ok(DateLimite::a_l_instant(t)),
        }
    }
}

const JOURS: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
const MOIS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// « jeudi 17 avril 2025 » (« 1er » for the first of the month, as French usage has it).
pub fn date_en_lettres(jour: NaiveDate) -> String {
    let nom_jour = JOURS[jour.weekday().num_days_from_monday() as usize];
    let nom_mois = MOIS[jour.month0() as usize];
    let quantieme = if jour.day() == 1 {
        "1er".to_owned()
    } else {
        jour.day().to_string()
    };
    format!("{nom_jour} {quantieme} {nom_mois} {}", jour.year())
}

/// An instant for a candidate, in Paris time: « jeudi 17 avril 2025 à 23 h 59 min 59 s ».
pub fn instant_en_lettres(instant: DateTime<Utc>) -> String {
    let p = instant.with_timezone(&Paris);
    format!(
        "{} à {} h {:02} min {:02} s (heure de Paris)",
        date_en_lettres(p.date_naive()),
        p.hour(),
        p.minute(),
        p.second()
    )
}

/// RFC 3339 with the Paris offset and milliseconds: `2025-04-17T23:59:59.123+02:00`.
pub fn rfc3339_paris(instant: DateTime<Utc>) -> String {
    instant
        .with_timezone(&Paris)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn la_date_limite_du_seed_est_minuit_du_17_avril() {
        let d = DateSaisie::parse("2025-04-17")
            .unwrap()
            .comme_limite()
            .unwrap();
        assert_eq!(d.instant(), t("2025-04-17T22:00:00Z"));
        assert!(!d.est_depassee(t("2025-04-17T23:59:59.999+02:00")));
        assert!(d.est_depassee(t("2025-04-18T00:00:00.000+02:00")));
        assert_eq!(d.libelle(), "jeudi 17 avril 2025 à minuit (heure de Paris)");
        assert_eq!(rfc3339_paris(d.instant()), "2025-04-18T00:00:00.000+02:00");
    }

    #[test]
    fn temps_restant_en_jours_puis_en_heures() {
        let d = DateSaisie::parse("2026-12-14")
            .unwrap()
            .comme_limite()
            .unwrap();
        let reste = |s: &str| d.temps_restant(t(s));
        assert_eq!(reste("2026-12-01T08:00:00+01:00"), "il vous reste 13 jours");
        // Calendar days in Paris: 23:30 on the 12th is 2 days before the last day.
        assert_eq!(reste("2026-12-12T23:30:00+01:00"), "il vous reste 2 jours");
        assert_eq!(reste("2026-12-13T00:10:00+01:00"), "il vous reste 1 jour");
        assert_eq!(
            reste("2026-12-14T18:48:00+01:00"),
            "il vous reste 5 h 12 min"
        );
        assert_eq!(reste("2026-12-14T23:40:00+01:00"), "il vous reste 20 min");
        assert_eq!(
            reste("2026-12-14T23:59:30+01:00"),
            "il vous reste moins d'une minute"
        );
        assert_eq!(
            reste("2026-12-15T00:00:00+01:00"),
            "la date limite est dépassée"
        );
        assert!(!d.est_proche(t("2026-12-12T23:59:59+01:00")));
        assert!(d.est_proche(t("2026-12-13T00:00:00+01:00")));
        assert!(d.est_proche(t("2026-12-14T23:59:59+01:00")));
        assert!(!d.est_proche(t("2026-12-15T00:00:00+01:00")));
        // An exact-instant deadline at 17:00: its own day is the last.
        let h = DateLimite::a_l_instant(t("2026-03-29T17:00:00+02:00"));
        assert_eq!(
            h.temps_restant(t("2026-03-28T17:00:00+01:00")),
            "il vous reste 1 jour"
        );
        assert_eq!(
            h.temps_restant(t("2026-03-29T09:30:00+02:00")),
            "il vous reste 7 h 30 min"
        );
        assert_eq!(
            h.au_plus_tard(),
            "le dimanche 29 mars 2026 à 16 h 59, heure de Paris"
        );
        let minuit = DateLimite::a_l_instant(t("2025-04-22T00:00:00+02:00"));
        assert_eq!(
            minuit.au_plus_tard(),
            "le lundi 21 avril 2025 à 23 h 59, heure de Paris"
        );
    }

    #[test]
    fn en_hiver_minuit_est_23h_utc() {
        let d = DateSaisie::parse("2025-01-15")
            .unwrap()
            .comme_limite()
            .unwrap();
        assert_eq!(d.instant(), t("2025-01-15T23:00:00Z"));
        assert!(!d.est_depassee(t("2025-01-15T22:59:59.999Z")));
        assert!(d.est_depassee(t("2025-01-15T23:00:00Z")));
    }

    #[test]
    fn les_jours_de_changement_d_heure() {
        // 30 mars 2025: 02:00 → 03:00. The day is 23 h long; its midnight is still +02:00.
        let d = DateLimite::fin_du_jour(NaiveDate::from_ymd_opt(2025, 3, 30).unwrap()).unwrap();
        assert_eq!(d.instant(), t("2025-03-30T22:00:00Z"));
        // 26 octobre 2025: 03:00 → 02:00. The day is 25 h long; its midnight is +01:00.
        let d = DateLimite::fin_du_jour(NaiveDate::from_ymd_opt(2025, 10, 26).unwrap()).unwrap();
        assert_eq!(d.instant(), t("2025-10-26T23:00:00Z"));
        // The day before each change ends at the old offset.
        let d = DateLimite::fin_du_jour(NaiveDate::from_ymd_opt(2025, 3, 29).unwrap()).unwrap();
        assert_eq!(d.instant(), t("2025-03-29T23:00:00Z"));
    }

    #[test]
    fn heure_locale_inexistante_ou_ambigue() {
        assert!(matches!(
            DateSaisie::parse("2025-03-30T02:30:00"),
            Err(ErreurDate::Inexistante(_))
        ));
        assert!(matches!(
            DateSaisie::parse("2025-10-26T02:30:00"),
            Err(ErreurDate::Ambigue(_))
        ));
        let a = DateSaisie::parse("2025-10-26T02:30:00+01:00").unwrap();
        let b = DateSaisie::parse("2025-10-26T02:30:00+02:00").unwrap();
        assert_eq!(
            a.comme_limite().unwrap().instant() - b.comme_limite().unwrap().instant(),
            Duration::hours(1)
        );
        assert!(matches!(
            DateSaisie::parse("17/04/2025"),
            Err(ErreurDate::Syntaxe(_))
        ));
    }

    #[test]
    fn libelles() {
        let d = DateSaisie::parse("2025-04-17T17:00:00")
            .unwrap()
            .comme_limite()
            .unwrap();
        assert_eq!(d.instant(), t("2025-04-17T15:00:00Z"));
        assert_eq!(
            d.libelle(),
            "jeudi 17 avril 2025 à 17 h 00 (heure de Paris)"
        );
        let d = DateSaisie::parse("2025-04-17")
            .unwrap()
            .comme_limite()
            .unwrap();
        assert_eq!(
            d.libelle_dans(chrono_tz::America::Guadeloupe),
            "jeudi 17 avril 2025 à 18 h 00"
        );
        assert_eq!(
            d.libelle_dans(chrono_tz::Indian::Reunion),
            "vendredi 18 avril 2025 à 2 h 00"
        );
        assert_eq!(
            date_en_lettres(NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()),
            "dimanche 1er juin 2025"
        );
        assert_eq!(
            instant_en_lettres(t("2025-04-17T21:59:59Z")),
            "jeudi 17 avril 2025 à 23 h 59 min 59 s (heure de Paris)"
        );
    }
}
