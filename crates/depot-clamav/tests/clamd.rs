//! Against a real clamd (Debian's clamav-daemon, started by `scripts/test.sh` with the test
//! signature database it builds: the marker string and the EICAR file's hash), named by
//! `DEPOT_TEST_CLAMD`. Fails under `CI=true` without it; skips loudly elsewhere.
//!
//! Checks that clamd, fed through `INSTREAM` chunk by chunk, finds the marker inside a PDF's
//! compressed content stream (it decompresses PDF streams) and in a JPEG's comment segment,
//! both files the format check accepts; that clean files pass; that 20 scans at once all get
//! their right verdict; that a refused connection and a silent server give `Indisponible`
//! within the delay.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::time::{Duration, Instant};

use bytes::Bytes;
use depot_clamav::{Adresse, Clamd};
use depot_core::antivirus::{Antivirus, Verdict};
use depot_core::exemples::{jpeg_commentaire, jpeg_minimal, pdf_minimal, pdf_texte_compresse};
use depot_core::{Format, analyser};

const MARQUEUR: &str = "DEPOT-TEST-MARQUEUR-VIRAL-0001";

fn clamd() -> Option<Clamd> {
    match std::env::var("DEPOT_TEST_CLAMD") {
        Ok(url) => Some(Clamd::new(
            Adresse::parse(&url).unwrap(),
            Duration::from_secs(30),
        )),
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true: DEPOT_TEST_CLAMD must name the clamd scripts/test.sh starts")
        }
        Err(_) => {
            eprintln!(
                "\n*** SKIPPED: needs clamd with the test signatures (DEPOT_TEST_CLAMD=tcp://…; scripts/test.sh starts one) ***\n"
            );
            None
        }
    }
}

async fn scanner(c: &Clamd, octets: &[u8], morceau: usize) -> Verdict {
    let mut a = c.ouvrir().await.unwrap();
    for m in octets.chunks(morceau) {
        a.nourrir(Bytes::copy_from_slice(m)).await.unwrap();
    }
    a.verdict().await.unwrap()
}

fn eicar() -> Vec<u8> {
    // Assembled here (the repository holds no copy of the test file).
    let mut e = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-".to_vec();
    e.extend_from_slice(b"ANTIVIRUS-TEST-FILE!$H+H*");
    e
}

#[tokio::test]
async fn clamd_trouve_le_marqueur_dans_les_pdf_et_les_jpeg() {
    let Some(c) = clamd() else { return };
    let moteur = c.moteur().await.unwrap();
    assert!(moteur.nom.starts_with("ClamAV "), "{moteur:?}");

    let pdf = pdf_texte_compresse(MARQUEUR);
    let jpeg = jpeg_commentaire(MARQUEUR.as_bytes());
    // Files a candidate could really upload: the format check accepts both…
    let formats = [Format::Pdf, Format::Jpeg];
    analyser("attestation.pdf", &pdf, &formats, 10).unwrap();
    analyser("photo.jpg", &jpeg, &formats, 10).unwrap();
    // … and the PDF's marker is only inside its compressed stream.
    assert!(
        !pdf.windows(MARQUEUR.len())
            .any(|w| w == MARQUEUR.as_bytes())
    );
    let infecte = Verdict::Infecte {
        signature: "Depot.Test.Marqueur.UNOFFICIAL".into(),
    };
    for morceau in [7, 4096, 1 << 20] {
        assert_eq!(scanner(&c, &pdf, morceau).await, infecte, "PDF, {morceau}");
        assert_eq!(
            scanner(&c, &jpeg, morceau).await,
            infecte,
            "JPEG, {morceau}"
        );
    }
    assert_eq!(
        scanner(&c, &eicar(), 10).await,
        Verdict::Infecte {
            signature: "Depot.Test.EICAR.UNOFFICIAL".into()
        }
    );
    assert_eq!(scanner(&c, &pdf_minimal(), 100).await, Verdict::Sain);
    assert_eq!(scanner(&c, &jpeg_minimal(), 100).await, Verdict::Sain);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vingt_analyses_a_la_fois() {
    let Some(c) = clamd() else { return };
    let sain = pdf_minimal();
    let infecte = pdf_texte_compresse(MARQUEUR);
    let taches: Vec<_> = (0..20)
        .map(|i| {
            let c = c.clone();
            let octets = if i % 3 == 0 {
                infecte.clone()
            } else {
                sain.clone()
            };
            tokio::spawn(async move { (i, scanner(&c, &octets, 512).await) })
        })
        .collect();
    for t in taches {
        let (i, v) = t.await.unwrap();
        assert_eq!(
            matches!(v, Verdict::Infecte { .. }),
            i % 3 == 0,
            "scan {i}: {v:?}"
        );
    }
}

#[tokio::test]
async fn clamd_absent_ou_muet_est_indisponible_dans_le_delai() {
    // Refused: a port nobody listens on.
    let libre = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let adresse = libre.local_addr().unwrap();
    drop(libre);
    let c = Clamd::new(
        Adresse::parse(&format!("tcp://{adresse}")).unwrap(),
        Duration::from_secs(1),
    );
    assert!(c.ouvrir().await.is_err());
    assert!(c.moteur().await.is_err());
    // Silent: accepts, reads, never answers.
    let muet = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let adresse = muet.local_addr().unwrap();
    tokio::spawn(async move {
        let mut gardees = Vec::new();
        loop {
            let (s, _) = muet.accept().await.unwrap();
            gardees.push(s);
        }
    });
    let c = Clamd::new(
        Adresse::parse(&format!("tcp://{adresse}")).unwrap(),
        Duration::from_secs(1),
    );
    let debut = Instant::now();
    let mut a = c.ouvrir().await.unwrap();
    a.nourrir(Bytes::from_static(b"%PDF-1.7")).await.unwrap();
    let e = a.verdict().await.unwrap_err();
    assert!(e.to_string().contains("pas de réponse en 1 s"), "{e}");
    assert!(debut.elapsed() < Duration::from_secs(5));
}
