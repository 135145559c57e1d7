//! Replays the corpus of real files (`tests/corpus/`, provenance in its README): each gets
//! the verdict `verdicts.tsv` gives it, whole, in chunks, and byte by byte when small. Each
//! real JPEG with a ZIP appended whose comment ends in `FF D9` is refused (the image's end is
//! parsed, not searched).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use depot_format::{AnalyseFlux, Format, analyser};

const LES_DEUX: &[Format] = &[Format::Pdf, Format::Jpeg];

fn verdict(nom: &str, octets: &[u8]) -> &'static str {
    let entier = match analyser(nom, octets, LES_DEUX, 20) {
        Ok(_) => "accepte",
        Err(r) => r.code(),
    };
    let mut tailles = vec![1000, 65_536];
    if octets.len() < 64 * 1024 {
        tailles.push(1);
    }
    for t in tailles {
        let mut a = AnalyseFlux::new(nom, LES_DEUX, 20);
        let mut r = Ok(());
        for m in octets.chunks(t) {
            r = r.and_then(|()| a.nourrir(m));
        }
        let parties = match r.and_then(|()| a.terminer().map(drop)) {
            Ok(()) => "accepte",
            Err(x) => x.code(),
        };
        assert_eq!(parties, entier, "{nom}: chunks of {t}");
    }
    entier
}

#[test]
fn chaque_document_reel_a_son_verdict() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
    let liste = std::fs::read_to_string(format!("{dir}/verdicts.tsv")).unwrap();
    let mut vus = 0;
    let mut ecarts = Vec::new();
    for ligne in liste
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let mut champs = ligne.split('\t');
        let (attendu, fichier) = (champs.next().unwrap(), champs.next().unwrap());
        assert!(champs.next().is_some(), "{fichier}: its source is named");
        let octets = std::fs::read(format!("{dir}/{fichier}")).unwrap();
        let obtenu = verdict(fichier, &octets);
        if obtenu != attendu {
            ecarts.push(format!("{fichier}: {obtenu}, expected {attendu}"));
        }
        if fichier.ends_with(".jpg") && attendu == "accepte" {
            let mut poly = octets.clone();
            poly.extend_from_slice(b"PK\x03\x04\x14\x00 cache PK\x05\x06 \xFF\xD9");
            assert_eq!(verdict(fichier, &poly), "jpeg_invalide", "{fichier} + ZIP");
        }
        vus += 1;
    }
    assert!(ecarts.is_empty(), "{ecarts:#?}");
    // Every file of the directory is in the list (none forgotten).
    let fichiers = std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            let n = e.as_ref().unwrap().file_name();
            let n = n.to_string_lossy();
            !n.ends_with(".tsv") && !n.ends_with(".md")
        })
        .count();
    assert_eq!(vus, fichiers, "verdicts.tsv lists every file");
    eprintln!("corpus: {vus} real documents replayed");
}
