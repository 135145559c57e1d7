//! Sessions and throttling as the router uses them: the rules and their stores are in
//! core ([`depot_core::session`], [`depot_core::limitation`]), on the espace's ports, so
//! that every instance of a server shares them and a restart logs nobody out.

pub use depot_core::limitation::{Limiteur, Quota, Regles, Retenue};
pub use depot_core::session::{DUREE_MAX, INACTIVITE, SessionOuverte, Sessions};

use crate::ErreurApi;

/// A throttling verdict as an answer: `Attendre` with the action's 429, a store that cannot
/// count as its storage error (nothing is let through unchecked).
pub(crate) fn retenue(r: Retenue, trop: fn(u64) -> ErreurApi) -> ErreurApi {
    match r {
        Retenue::Attendre(s) => trop(s),
        Retenue::Stockage(e) => e.into(),
    }
}
