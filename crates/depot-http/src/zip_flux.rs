//! A ZIP written by a blocking task and streamed to the client through a bounded channel:
//! memory stays bounded whatever the export's size (the staff's export, the candidate's
//! own data).

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use std::io::Write;

/// Sends what the ZIP writer produces through a bounded channel, 64 KiB at a time: memory
/// stays bounded whatever the size of the export.
pub(crate) struct VersCanal {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    tampon: Vec<u8>,
}

impl Write for VersCanal {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tampon.extend_from_slice(buf);
        if self.tampon.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.tampon.is_empty() {
            return Ok(());
        }
        let morceau = Bytes::from(std::mem::take(&mut self.tampon));
        self.tx
            .blocking_send(Ok(morceau))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client parti"))
    }
}

/// Answers a ZIP named `nom` that `ecrire` writes into the given sink, on a blocking thread
/// (it may wait on the runtime it is given for store reads). An error while writing ends the
/// stream with an error (the client sees a cut download), and is logged.
pub(crate) fn repondre(
    nom: &str,
    ecrire: impl FnOnce(VersCanal, &tokio::runtime::Handle) -> std::io::Result<()> + Send + 'static,
) -> Response {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let rt = tokio::runtime::Handle::current();
    let erreurs = tx.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = ecrire(
            VersCanal {
                tx,
                tampon: Vec::new(),
            },
            &rt,
        ) {
            tracing::error!(erreur = %e, "export interrompu");
            let _ = erreurs.blocking_send(Err(e));
        }
    });
    let flux = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut r = Response::new(Body::from_stream(flux));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    // `nom` is ASCII built by depot (no client input).
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{nom}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
