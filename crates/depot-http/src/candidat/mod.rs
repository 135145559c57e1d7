//! The candidate's side: the JSON API for vendors and the French pages, on the same rules.

pub mod api;
pub(crate) mod donnees;
pub mod oubli;
pub mod pages;
pub mod verifier;
