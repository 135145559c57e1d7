//! The pages' cookies, read and written with the `cookie` crate: always `HttpOnly`,
//! `SameSite=Strict`, on the router's prefix, `Secure` when configured.

use axum::http::{HeaderMap, HeaderValue};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::SharedState;

/// The value of the cookie `nom` sent with the request, if any.
pub(crate) fn cookie(headers: &HeaderMap, nom: &str) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(nom)
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value: `max_age` in seconds (0 deletes it), none for a session cookie.
///
/// Values are tokens depot generated (hexadecimal) or a staff token checked against the
/// accounts before it is set; a value that cannot be a header (it never happens with those)
/// yields an expired, empty cookie rather than a broken header.
pub(crate) fn poser_cookie(
    etat: &SharedState,
    nom: &'static str,
    valeur: &str,
    max_age: Option<i64>,
) -> HeaderValue {
    let chemin = if etat.config.prefixe.is_empty() {
        "/".to_owned()
    } else {
        etat.config.prefixe.clone()
    };
    let mut c = Cookie::build((nom, valeur.to_owned()))
        .path(chemin)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(etat.config.cookies_securises);
    if let Some(s) = max_age {
        c = c.max_age(cookie::time::Duration::seconds(s));
    }
    HeaderValue::from_str(&c.build().to_string()).unwrap_or_else(|_| {
        HeaderValue::from_static("depot_invalide=; Max-Age=0; HttpOnly; SameSite=Strict")
    })
}
