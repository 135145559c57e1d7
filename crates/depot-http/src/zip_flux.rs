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

/// The ZIP being written into a [`VersCanal`].
pub(crate) type Zip = zip::ZipWriter<zip::write::StreamWriter<VersCanal>>;

/// A ZIP entry's options: contents stored as they are (PDF and JPEG do not compress),
/// the rest deflated.
pub(crate) fn options(stocke: bool) -> zip::write::SimpleFileOptions {
    let o = zip::write::SimpleFileOptions::default();
    if stocke {
        o.compression_method(zip::CompressionMethod::Stored)
            .large_file(true)
    } else {
        o.compression_method(zip::CompressionMethod::Deflated)
    }
}

/// Writes the files of `c`'s dossier that `garder` keeps, piece by piece, as
/// `{dossier}/{piece}-{rank}.pdf|jpg`, each streamed from the store.
pub(crate) fn ecrire_fichiers(
    z: &mut Zip,
    espace: &depot_core::Espace,
    rt: &tokio::runtime::Handle,
    c: &depot_core::Consultation,
    dossier: &str,
    garder: impl Fn(&depot_core::Fichier) -> bool,
) -> std::io::Result<()> {
    use futures_util::StreamExt;
    let d = &c.dossier;
    for p in d.pieces(&c.concours) {
        for (i, f) in d.fichiers_de(&p.code).enumerate() {
            if !garder(f) {
                continue;
            }
            let ext = match f.format {
                depot_core::Format::Pdf => "pdf",
                depot_core::Format::Jpeg => "jpg",
            };
            z.start_file(
                format!("{dossier}/{}-{}.{ext}", p.code, i + 1),
                options(true),
            )
            .map_err(|e| std::io::Error::other(e.to_string()))?;
            let (_, mut flux) = rt
                .block_on(espace.voir(d.numero(), &f.id))
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            while let Some(m) = rt.block_on(flux.next()) {
                z.write_all(&m.map_err(|e| std::io::Error::other(e.to_string()))?)?;
            }
        }
    }
    Ok(())
}
