//! Uploads streamed to the filesystem store while they are checked: an accepted file is
//! stored whole with the SHA-256 the client computes; a refused one — early (wrong format),
//! late (active content at the end of a large PDF, a cut file) or for its size — leaves
//! nothing on disk, not even a temporary file.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

mod commun;

use commun::{connexion, deposer, lancer};
use depot_core::Sha256;
use depot_core::exemples::{jpeg_gris, pdf_image, pdf_pages, png_minimal};

fn fichiers(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[tokio::test]
async fn refus_sans_trace_et_acceptation_entiere() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("depot-data");
    let s = lancer(&data, &[], &[]).await.unwrap();
    let (numero, mdp) = s.demo();
    let session = connexion(&s.url, &numero, &mdp).await;
    let pieces = data.join("pieces").join(&numero);

    // Active content placed after 6 MB of page content: seen by the scan, past the size
    // up to which a PDF is also parsed whole.
    let mut grand_actif = pdf_pages(2, 6_000_000, "");
    let fin = String::from_utf8_lossy(&grand_actif[grand_actif.len() - 300..]).replace(
        "trailer\n<<",
        "trailer\n<< /AA << /WC << /S /JavaScript /JS (x) >> >>",
    );
    grand_actif.truncate(grand_actif.len() - 300);
    grand_actif.extend_from_slice(fin.as_bytes());
    let coupe = {
        let p = pdf_image(2_000_000);
        p[..p.len() / 2].to_vec()
    };
    let refus = [
        ("actif.pdf", grand_actif, 422, "pdf_contenu_actif"),
        ("image.pdf", png_minimal(), 415, "format_refuse"),
        ("coupe.pdf", coupe, 422, "pdf_illisible"),
        (
            "enorme.pdf",
            pdf_image(11 * 1024 * 1024),
            413,
            "fichier_trop_volumineux",
        ),
        (
            "photo.pdf",
            jpeg_gris(800, 600, 0),
            415,
            "extension_incoherente",
        ),
    ];
    for (nom, octets, statut, code) in refus {
        let r = deposer(&session, "piece-identite", nom, octets).await;
        assert_eq!(r, Err((statut, code.to_owned())), "{nom}");
        assert!(
            fichiers(&pieces).is_empty(),
            "{nom} left {:?}",
            fichiers(&pieces)
        );
    }

    // Accepted: a 9 MB scan (checked by the scan alone) and a JPEG.
    let mut attendus = Vec::new();
    for (nom, octets) in [
        ("scan.pdf", pdf_image(9_000_000)),
        ("photo.jpg", jpeg_gris(1600, 1200, 30_000)),
    ] {
        let sha = Sha256::de(&octets).hex();
        let f = deposer(&session, "piece-identite", nom, octets.clone())
            .await
            .unwrap_or_else(|e| panic!("{nom}: {e:?}"));
        assert_eq!(f.sha256, sha);
        assert_eq!(f.taille, octets.len() as u64);
        let lu = session.voir(&f.id).await.unwrap();
        assert_eq!(Sha256::de(&lu).hex(), sha, "{nom} served back intact");
        attendus.push(f.id);
    }
    attendus.sort();
    assert_eq!(
        fichiers(&pieces),
        attendus,
        "only the accepted contents, no temporary file"
    );
}

/// The client goes away in the middle of a valid PDF: the request is dropped, and the store
/// publishes nothing (its temporary file goes too).
#[tokio::test]
async fn client_parti_en_cours_de_route() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("depot-data");
    let s = lancer(&data, &[], &[]).await.unwrap();
    let (numero, mdp) = s.demo();
    let session = connexion(&s.url, &numero, &mdp).await;
    let jeton = session.jeton().to_owned();
    let pieces = data.join("pieces").join(&numero);
    let pdf = pdf_image(3_000_000);
    let limite = "XyZfrontiere";
    let entete_partie = format!(
        "--{limite}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"scan.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    );
    let longueur = entete_partie.len() + pdf.len() + limite.len() + 8;
    let hote = s.url.trim_start_matches("http://").to_owned();
    let mut tcp = tokio::net::TcpStream::connect(&hote).await.unwrap();
    let requete = format!(
        "POST /api/v1/dossier/pieces/piece-identite HTTP/1.1\r\nHost: {hote}\r\nAuthorization: Bearer {jeton}\r\nContent-Type: multipart/form-data; boundary={limite}\r\nContent-Length: {longueur}\r\n\r\n{entete_partie}"
    );
    tcp.write_all(requete.as_bytes()).await.unwrap();
    // Half the file, then the connection closes.
    tcp.write_all(&pdf[..pdf.len() / 2]).await.unwrap();
    tcp.flush().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(tcp);
    // The server notices and cleans up; wait for it (bounded).
    let mut restants = fichiers(&pieces);
    for _ in 0..50 {
        if restants.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        restants = fichiers(&pieces);
    }
    assert!(restants.is_empty(), "left on disk: {restants:?}");
    // And the dossier lists nothing.
    let v = session.dossier().await.unwrap();
    assert_eq!(v.fichiers().count(), 0, "{v:?}");
}
