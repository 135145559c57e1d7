//! Runs the example application: the CDG's site at `/`, depot under `/concours`, dossiers in
//! SQLite. `cargo run -p depot-exemples --bin monter-sous-prefixe` then open
//! http://127.0.0.1:8081/.

use std::net::SocketAddr;
use std::sync::Arc;

use depot_core::{Concours, Ports};
use depot_exemples::{monter_sous_prefixe, store_sqlite::StoreSqlite};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let concours = Concours::from_toml(include_str!("../../concours/animateur-2025.toml"))?;
    let base = StoreSqlite::open("depot-exemple.sqlite3")?;
    let ports = Ports::avec_stores(
        Arc::new(base.clone()),
        Arc::new(base.clone()),
        Arc::new(base),
    );
    let app = monter_sous_prefixe::application(concours, ports)?;
    let ecoute = tokio::net::TcpListener::bind("127.0.0.1:8081").await?;
    println!("listening on http://{}", ecoute.local_addr()?);
    axum::serve(
        ecoute,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
