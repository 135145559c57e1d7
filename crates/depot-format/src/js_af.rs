//! The JavaScript a PDF form may carry and still be accepted: Acrobat's built-in field
//! formatting, one call of an `AF…` function with literal arguments.
//!
//! Official forms (CERFA among them) and LibreOffice's date or number fields format what is
//! typed with Acrobat's own functions — `AFNumber_Format(2, 0, 0, 0, "€", true)`,
//! `AFDate_FormatEx("dd/mm/yyyy")` — which run nothing of the author's. A field action is
//! accepted when its whole code is **one call** of a function of [`FONCTIONS_AF`] whose
//! arguments are literals (numbers, strings, booleans, `null`, arrays of strings written
//! `["a", "b"]` or `new Array("a", "b")`), optionally followed by `;`. The code is parsed
//! by the small grammar below, never matched against patterns: anything else — a second
//! statement, a variable, a nested call, a comment — is JavaScript, and refused.

/// Acrobat's formatting, keystroke, validation and calculation functions (AForm.js).
pub(crate) const FONCTIONS_AF: &[&str] = &[
    "AFNumber_Format",
    "AFNumber_Keystroke",
    "AFPercent_Format",
    "AFPercent_Keystroke",
    "AFDate_Format",
    "AFDate_FormatEx",
    "AFDate_Keystroke",
    "AFDate_KeystrokeEx",
    "AFTime_Format",
    "AFTime_FormatEx",
    "AFTime_Keystroke",
    "AFTime_KeystrokeEx",
    "AFSpecial_Format",
    "AFSpecial_Keystroke",
    "AFSpecial_KeystrokeEx",
    "AFSimple_Calculate",
    "AFRange_Validate",
];

/// Longest code examined (the calls are a few dozen bytes).
pub(crate) const CODE_AF_MAX: usize = 1024;

/// The text of a PDF string holding JavaScript: UTF-16BE after its byte order mark,
/// otherwise one character per byte.
pub(crate) fn texte_pdf(octets: &[u8]) -> String {
    match octets.strip_prefix(&[0xFE, 0xFF]) {
        Some(utf16) => char::decode_utf16(
            utf16
                .chunks(2)
                .map(|p| u16::from_be_bytes([p[0], *p.get(1).unwrap_or(&0)])),
        )
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect(),
        None => octets.iter().map(|b| char::from(*b)).collect(),
    }
}

/// Whether `code` is exactly one call of an allowed `AF…` function with literal arguments.
pub(crate) fn appel_af_admis(code: &str) -> bool {
    if code.len() > CODE_AF_MAX {
        return false;
    }
    let mut l = Lecteur {
        c: code.as_bytes(),
        i: 0,
    };
    l.blancs();
    let Some(nom) = l.identifiant() else {
        return false;
    };
    if !FONCTIONS_AF.contains(&nom) {
        return false;
    }
    if !l.liste(b'(', b')', Lecteur::argument) {
        return false;
    }
    l.blancs();
    if l.voir() == Some(b';') {
        l.i += 1;
        l.blancs();
    }
    l.i == l.c.len()
}

struct Lecteur<'a> {
    c: &'a [u8],
    i: usize,
}

impl<'a> Lecteur<'a> {
    fn voir(&self) -> Option<u8> {
        self.c.get(self.i).copied()
    }

    fn blancs(&mut self) {
        while self.voir().is_some_and(|b| b.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn identifiant(&mut self) -> Option<&'a str> {
        let debut = self.i;
        while self
            .voir()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            self.i += 1;
        }
        (self.i > debut)
            .then(|| std::str::from_utf8(&self.c[debut..self.i]).ok())
            .flatten()
    }

    /// `ouvre` items separated by commas `ferme`, each read by `item`.
    fn liste(&mut self, ouvre: u8, ferme: u8, item: fn(&mut Self) -> bool) -> bool {
        self.blancs();
        if self.voir() != Some(ouvre) {
            return false;
        }
        self.i += 1;
        self.blancs();
        if self.voir() == Some(ferme) {
            self.i += 1;
            return true;
        }
        loop {
            self.blancs();
            if !item(self) {
                return false;
            }
            self.blancs();
            match self.voir() {
                Some(b',') => self.i += 1,
                Some(b) if b == ferme => {
                    self.i += 1;
                    return true;
                }
                _ => return false,
            }
        }
    }

    fn argument(&mut self) -> bool {
        match self.voir() {
            Some(b'"' | b'\'') => self.chaine(),
            Some(b'-' | b'0'..=b'9' | b'.') => self.nombre(),
            Some(b'[') => self.liste(b'[', b']', Lecteur::chaine),
            Some(_) => match self.identifiant() {
                Some("true" | "false" | "null") => true,
                Some("new") => {
                    self.blancs();
                    self.identifiant() == Some("Array") && self.liste(b'(', b')', Lecteur::chaine)
                }
                _ => false,
            },
            None => false,
        }
    }

    fn nombre(&mut self) -> bool {
        if self.voir() == Some(b'-') {
            self.i += 1;
        }
        let debut = self.i;
        let mut point = false;
        while let Some(b) = self.voir() {
            match b {
                b'0'..=b'9' => {}
                b'.' if !point => point = true,
                _ => break,
            }
            self.i += 1;
        }
        self.c[debut..self.i].iter().any(u8::is_ascii_digit)
    }

    fn chaine(&mut self) -> bool {
        let Some(q @ (b'"' | b'\'')) = self.voir() else {
            return false;
        };
        self.i += 1;
        while let Some(b) = self.voir() {
            self.i += 1;
            match b {
                b'\\' => {
                    // An escaped character (\" \' \\ \n…): never a line break itself.
                    match self.voir() {
                        Some(b'\n' | b'\r') | None => return false,
                        Some(_) => self.i += 1,
                    }
                }
                b'\n' | b'\r' => return false,
                b if b == q => return true,
                _ => {}
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appels_admis() {
        for code in [
            r#"AFNumber_Format(2, 0, 0, 0, "€", true);"#,
            r#"AFNumber_Keystroke(2, 0, 0, 0, "", true);"#,
            r#"AFDate_FormatEx("dd/mm/yyyy");"#,
            r#"  AFDate_KeystrokeEx("dd/mm/yyyy")  "#,
            r#"AFSpecial_Keystroke(2);"#,
            r#"AFSimple_Calculate("SUM", new Array ("Montant1", "Montant2"));"#,
            r#"AFSimple_Calculate("SUM", ["a", 'b']);"#,
            r#"AFRange_Validate(true, 0, true, 100);"#,
            r#"AFPercent_Format(-1.5, 0)"#,
            r#"AFTime_Format(0);"#,
        ] {
            assert!(appel_af_admis(code), "{code}");
        }
    }

    #[test]
    fn tout_le_reste_est_du_javascript() {
        for code in [
            "",
            "app.alert(1)",
            r#"AFDate_FormatEx("dd/mm/yyyy"); app.alert(1)"#,
            r#"AFDate_FormatEx(app.alert(1))"#,
            r#"AFDate_FormatEx(x)"#,
            r#"AFDate_FormatEx("a" + "b")"#,
            r#"AFDate_FormatEx("dd/mm/yyyy") // commentaire"#,
            r#"AFDate_FormatEx("unterminated)"#,
            r#"AFSimple_Calculate("SUM", new Array(f()))"#,
            r#"AFNumber_Format(2,)"#,
            r#"AFMergeChange(event)"#,
            r#"eval("AFDate_FormatEx()")"#,
            "AFDate_FormatEx\u{2028}(\"x\")",
        ] {
            assert!(!appel_af_admis(code), "{code}");
        }
        // An escaped quote stays inside its string: what looks like code there is text.
        assert!(appel_af_admis(
            r#"AFDate_FormatEx("a\"); app.alert(1); //")"#
        ));
        assert!(!appel_af_admis(&"AFTime_Format(0);".repeat(100)));
    }

    #[test]
    fn texte_des_chaines_pdf() {
        assert_eq!(texte_pdf(b"AFTime_Format(0)"), "AFTime_Format(0)");
        let utf16: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("AF€".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(texte_pdf(&utf16), "AF€");
    }
}
