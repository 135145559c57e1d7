//! Examples for integrators. Each module is a complete, tested example:
//!
//! - [`monter_sous_prefixe`]: mount depot-http's router inside an existing axum
//!   application under `/concours`.
//! - [`store_sqlite`]: implement depot-core's storage ports on one's own database
//!   (SQLite here), proven by the same conformance suite as depot's own stores.

pub mod monter_sous_prefixe;
pub mod store_sqlite;
