//! A stored file as an HTTP answer, with the safe download headers.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use depot_core::Fichier;
use depot_core::ports::FluxOctets;

/// A file as an HTTP answer: exact type, inline with an RFC 6266 file name, no sniffing, no
/// caching. Shared with the pages.
pub(crate) fn reponse_fichier(f: &Fichier, flux: FluxOctets) -> Response {
    let ascii: String = f
        .nom
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encode: String = f
        .nom
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let disposition = format!("inline; filename=\"{ascii}\"; filename*=UTF-8''{encode}");
    let mut r = Response::new(Body::from_stream(flux));
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(f.format.mime().as_ref()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(f.taille));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}
