//! The CDG's side over HTTP, `/api/v1/gestion`: staff accounts with a role, lists with
//! filters and paging, the forclos dossiers apart, a dossier with its journal, any file,
//! decisions, and an export of a selection as a ZIP streamed to the client.
//!
//! Staff authenticate with `Authorization: Bearer <jeton>`; tokens come from the server
//! configuration, which stores only their SHA-256 (they are 256-bit random, so a fast hash
//! suffices). Staff and candidates never share a token.

pub mod api;
pub mod auth;
pub(crate) mod export;
pub mod pages;

pub use api::routes;
pub use auth::{AuthGestion, AuthGestionPage, CompteGestionnaire};
pub use pages::routes_pages;
