//! An idle connection is dropped by the client before the server closes it.
//!
//! The fake server below answers the first request of a connection and treats any later
//! request on it as a server whose idle close crosses that request: it closes without an
//! answer. The client must therefore send a request that follows a pause longer than
//! [`depot_client::INACTIVITE_MAX`] on a new connection.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Reads until the end of a request head (these requests have no body); `false` at EOF.
fn lire_entete(flux: &mut std::net::TcpStream) -> bool {
    let mut recu = Vec::new();
    let mut tampon = [0u8; 1024];
    while !recu.windows(4).any(|w| w == b"\r\n\r\n") {
        match flux.read(&mut tampon) {
            Ok(0) | Err(_) => return false,
            Ok(n) => recu.extend_from_slice(&tampon[..n]),
        }
    }
    true
}

#[tokio::test]
async fn une_requete_apres_une_pause_part_sur_une_connexion_neuve() {
    let ecoute = TcpListener::bind("127.0.0.1:0").unwrap();
    let adresse = ecoute.local_addr().unwrap();
    let connexions = Arc::new(AtomicUsize::new(0));
    let compte = connexions.clone();
    std::thread::spawn(move || {
        for flux in ecoute.incoming() {
            let Ok(mut flux) = flux else { return };
            compte.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                if !lire_entete(&mut flux) {
                    return;
                }
                let reponse = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
                if flux.write_all(reponse).is_err() {
                    return;
                }
                // A second request on this connection: closed unanswered, as when the
                // server's idle timer fires while the request is on its way.
                let _ = lire_entete(&mut flux);
            });
        }
    });

    let client = depot_client::Client::new(&format!("http://{adresse}")).unwrap();
    client.concours().await.expect("première requête");
    tokio::time::sleep(depot_client::INACTIVITE_MAX + Duration::from_millis(500)).await;
    client
        .concours()
        .await
        .expect("la requête après la pause est partie sur la connexion inactive");
    assert_eq!(connexions.load(Ordering::SeqCst), 2);
}
