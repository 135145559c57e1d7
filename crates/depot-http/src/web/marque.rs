//! How the pages present the Centre de gestion: its name, logo and colour, from the server's
//! configuration. No State branding: the DSFR (Marianne, the « République française »
//! block) is reserved to State services, and a CDG is not one.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::SharedState;

/// The CDG's identity on the pages.
#[derive(Debug, Clone, Default)]
pub struct Marque {
    /// Its name in the banner, the footer and the accessibility statement (« Centre de
    /// gestion de la fonction publique territoriale de la Mayenne »). Empty: the first
    /// concours' organiser.
    pub nom: String,
    /// The accent colour (banner, buttons, links), checked by [`Couleur::parse`].
    pub couleur: Option<Couleur>,
    /// The logo shown in the banner, served at `/static/logo`.
    pub logo: Option<Logo>,
    /// Where to report an accessibility problem (an address or a URL), in the statement.
    pub contact_accessibilite: Option<String>,
}

/// A logo file's bytes and type.
#[derive(Debug, Clone)]
pub struct Logo {
    /// The file.
    pub octets: Vec<u8>,
    /// `image/png`, `image/jpeg` or `image/svg+xml`.
    pub type_mime: &'static str,
}

impl Logo {
    /// A logo from a file's bytes, typed by its content (PNG, JPEG) or, for SVG, by its
    /// first element; anything else is refused with a French sentence.
    pub fn depuis_octets(octets: Vec<u8>) -> Result<Self, String> {
        let type_mime = if octets.starts_with(b"\x89PNG\r\n\x1a\n") {
            "image/png"
        } else if octets.starts_with(&[0xFF, 0xD8, 0xFF]) {
            "image/jpeg"
        } else if String::from_utf8_lossy(&octets[..octets.len().min(1024)]).contains("<svg") {
            "image/svg+xml"
        } else {
            return Err("le logo doit être une image PNG, JPEG ou SVG".to_owned());
        };
        if octets.len() > 512 * 1024 {
            return Err("le logo dépasse 512 Ko : réduisez-le".to_owned());
        }
        Ok(Self { octets, type_mime })
    }
}

/// An accent colour `#RRGGBB` whose contrast with white is at least 4.5:1, so that white
/// text on it (the banner, the main buttons) and it on white (links) stay readable (WCAG
/// 1.4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Couleur([u8; 3]);

impl Couleur {
    /// Parses `#RRGGBB`; refuses, in French, a colour too light for white text.
    pub fn parse(s: &str) -> Result<Self, String> {
        let hex = s.strip_prefix('#').unwrap_or(s);
        let octets = (hex.len() == 6 && hex.is_ascii())
            .then(|| {
                (0..3)
                    .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
                    .collect::<Option<Vec<u8>>>()
            })
            .flatten();
        let Some([r, g, b]) = octets.as_deref().map(|o| [o[0], o[1], o[2]]) else {
            return Err(format!(
                "« {s} » n'est pas une couleur : écrivez-la #RRGGBB, par exemple #00507a"
            ));
        };
        let c = Self([r, g, b]);
        let contraste = c.contraste_avec_blanc();
        if contraste < 4.5 {
            return Err(format!(
                "la couleur {s} est trop claire : son contraste avec le blanc est de {contraste:.1}:1, il faut au moins 4,5:1 (WCAG 1.4.3) ; choisissez une teinte plus foncée"
            ));
        }
        Ok(c)
    }

    /// The WCAG contrast ratio with white.
    pub fn contraste_avec_blanc(self) -> f64 {
        let lin = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let [r, g, b] = self.0;
        let l = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
        1.05 / (l + 0.05)
    }

    /// `#rrggbb`.
    pub fn hex(self) -> String {
        let [r, g, b] = self.0;
        format!("#{r:02x}{g:02x}{b:02x}")
    }
}

/// The CDG's name: configured, or the first concours' organiser.
pub(crate) fn nom(etat: &SharedState) -> String {
    let m = &etat.config.marque;
    if !m.nom.trim().is_empty() {
        return m.nom.clone();
    }
    etat.espace
        .concours()
        .next()
        .map(|c| c.organisateur.clone())
        .unwrap_or_default()
}

/// `/static/marque.css`: the configured colour over the stylesheet's default.
pub(crate) async fn css(State(etat): State<SharedState>) -> Response {
    let corps = etat
        .config
        .marque
        .couleur
        .map(|c| format!(":root {{ --accent: {}; }}\n", c.hex()))
        .unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        corps,
    )
        .into_response()
}

/// `/static/logo`.
pub(crate) async fn logo(State(etat): State<SharedState>) -> Response {
    match &etat.config.marque.logo {
        Some(l) => (
            [
                (header::CONTENT_TYPE, l.type_mime),
                (header::CACHE_CONTROL, "max-age=3600"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'; sandbox",
                ),
            ],
            l.octets.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn couleurs_lisibles_seulement() {
        // The default accent (#000091) and a dark teal pass; a light yellow does not.
        assert!(Couleur::parse("#000091").unwrap().contraste_avec_blanc() > 14.0);
        assert_eq!(Couleur::parse("00507A").unwrap().hex(), "#00507a");
        let e = Couleur::parse("#ffd700").unwrap_err();
        assert!(e.contains("trop claire") && e.contains("4,5:1"), "{e}");
        // #767676 is the lightest grey at 4.5:1; #777777 is below.
        assert!(Couleur::parse("#767676").is_ok());
        assert!(Couleur::parse("#777777").is_err());
        for mauvais in ["", "#12345", "#12345g", "#é12345", "bleu"] {
            assert!(Couleur::parse(mauvais).is_err(), "{mauvais}");
        }
    }

    #[test]
    fn logo_par_contenu() {
        assert_eq!(
            Logo::depuis_octets(b"\x89PNG\r\n\x1a\n....".to_vec())
                .unwrap()
                .type_mime,
            "image/png"
        );
        assert_eq!(
            Logo::depuis_octets(
                b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec()
            )
            .unwrap()
            .type_mime,
            "image/svg+xml"
        );
        assert!(Logo::depuis_octets(b"GIF89a".to_vec()).is_err());
    }
}
