//! What the pages share: the frame, cookies, CSRF tokens, errors as pages.

pub(crate) mod accessibilite;
pub(crate) mod cookies;
pub(crate) mod csrf;
pub(crate) mod erreur;
pub(crate) mod flash;
pub(crate) mod layout;
pub(crate) mod marque;
