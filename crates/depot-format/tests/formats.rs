//! Fixtures with their expected verdict: real small files built here, each refused (or
//! accepted) for the reason the procedure gives.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

use std::io::Write;

use depot_format::exemples::{
    jpeg_gris, jpeg_minimal, pdf_depuis_objets, pdf_image, pdf_minimal, pdf_pages, png_minimal,
};
use depot_format::{AnalyseFlux, Caracteristiques, Format, analyser, exemples};

const LES_DEUX: &[Format] = &[Format::Pdf, Format::Jpeg];

/// The verdict, checked to be the same whether the file arrives whole or in chunks of any
/// size, and whether a PDF is also parsed whole (lopdf) or only scanned as it streams.
fn code(nom: &str, contenu: &[u8]) -> &'static str {
    let entier = match analyser(nom, contenu, LES_DEUX, 10) {
        Ok(_) => "accepte",
        Err(r) => r.code(),
    };
    for (morceau, complete) in [
        (1, 0),
        (7, usize::MAX),
        (1000, 0),
        (65_536, 0),
        (usize::MAX, 0),
    ] {
        assert_eq!(
            par_morceaux(nom, contenu, morceau, complete),
            entier,
            "{nom}: chunks of {morceau}, whole parse up to {complete}"
        );
    }
    entier
}

fn par_morceaux(nom: &str, contenu: &[u8], morceau: usize, complete: usize) -> &'static str {
    let mut a = AnalyseFlux::new(nom, LES_DEUX, 10).analyse_complete_jusqu_a(complete);
    for m in contenu.chunks(morceau.min(contenu.len()).max(1)) {
        if let Err(r) = a.nourrir(m) {
            return r.code();
        }
    }
    match a.terminer() {
        Ok(_) => "accepte",
        Err(r) => r.code(),
    }
}

fn zlib(octets: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(octets).unwrap();
    e.finish().unwrap()
}

fn stream(dict: &str, contenu: &[u8]) -> Vec<u8> {
    let mut o = format!("<< {dict} /Length {} >>\nstream\n", contenu.len()).into_bytes();
    o.extend_from_slice(contenu);
    o.extend_from_slice(b"\nendstream");
    o
}

/// Catalogue + pages + one page; `extra` goes into the catalogue, `objets_sup` follow as 4, 5…
fn pdf_avec(extra_catalogue: &str, objets_sup: Vec<Vec<u8>>, trailer: &str) -> Vec<u8> {
    let mut objets = vec![
        format!("<< /Type /Catalog /Pages 2 0 R {extra_catalogue} >>").into_bytes(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>".to_vec(),
    ];
    objets.extend(objets_sup);
    pdf_depuis_objets(&objets, 1, trailer)
}

/// A PDF whose catalogue points at object 4, stored compressed inside an object stream
/// (object 5) and indexed by a cross-reference stream (object 6).
fn pdf_objet_compresse(corps_objet_4: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut pos = Vec::new();
    let corps = [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>".to_vec(),
    ];
    for (i, c) in corps.iter().enumerate() {
        pos.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\nendobj\n");
    }
    let entete = "4 0 ";
    let contenu = format!("{entete}{corps_objet_4}");
    let objstm = zlib(contenu.as_bytes());
    let pos5 = out.len();
    out.extend_from_slice(b"5 0 obj\n");
    out.extend_from_slice(&stream(
        &format!(
            "/Type /ObjStm /N 1 /First {} /Filter /FlateDecode",
            entete.len()
        ),
        &objstm,
    ));
    out.extend_from_slice(b"\nendobj\n");
    // Cross-reference stream: W [1 4 2], objects 0..=6.
    let pos6 = out.len();
    let mut lignes = Vec::new();
    let mut ligne = |t: u8, a: u32, b: u16| {
        lignes.push(t);
        lignes.extend_from_slice(&a.to_be_bytes());
        lignes.extend_from_slice(&b.to_be_bytes());
    };
    ligne(0, 0, 65535);
    for p in &pos {
        ligne(1, *p as u32, 0);
    }
    ligne(2, 5, 0); // object 4: in object stream 5, index 0
    ligne(1, pos5 as u32, 0);
    ligne(1, pos6 as u32, 0);
    out.extend_from_slice(b"6 0 obj\n");
    out.extend_from_slice(&stream(
        "/Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode",
        &zlib(&lignes),
    ));
    out.extend_from_slice(format!("\nendobj\nstartxref\n{pos6}\n%%EOF\n").as_bytes());
    out
}

#[test]
fn pdf_valides() {
    let a = analyser("CNI.pdf", &pdf_minimal(), LES_DEUX, 10).unwrap();
    assert_eq!(a.format, Format::Pdf);
    assert_eq!(a.caracteristiques, Caracteristiques::Pdf { pages: 1 });
    let a = analyser("diplome.PDF", &pdf_pages(3, 20_000, ""), LES_DEUX, 10).unwrap();
    assert_eq!(a.caracteristiques, Caracteristiques::Pdf { pages: 3 });
    let a = analyser("scan.pdf", &pdf_image(300_000), LES_DEUX, 10).unwrap();
    assert_eq!(a.caracteristiques, Caracteristiques::Pdf { pages: 1 });
    // An object stream with harmless content is fine.
    assert_eq!(
        code(
            "ok.pdf",
            &pdf_objet_compresse("<< /Type /Action /S /GoTo /D [3 0 R /Fit] >>")
        ),
        "accepte"
    );
    // A link to a web page is not active content.
    assert_eq!(
        code(
            "lien.pdf",
            &pdf_avec(
                "/OpenAction << /S /URI /URI (https://cdg53.fr) >>",
                vec![],
                ""
            )
        ),
        "accepte"
    );
    // PDF 2.0 header.
    let mut v2 = pdf_minimal();
    v2[5..8].copy_from_slice(b"2.0");
    assert_eq!(code("v2.pdf", &v2), "accepte");
}

#[test]
fn jpeg_valides() {
    let a = analyser("photo.jpg", &jpeg_minimal(), LES_DEUX, 10).unwrap();
    assert_eq!(a.format, Format::Jpeg);
    assert_eq!(
        a.caracteristiques,
        Caracteristiques::Jpeg {
            largeur: 64,
            hauteur: 48
        }
    );
    for nom in ["x.JPG", "x.jpeg", "x.Jpe"] {
        assert_eq!(code(nom, &jpeg_minimal()), "accepte", "{nom}");
    }
    // A few padding bytes after the end marker are tolerated.
    let mut j = jpeg_minimal();
    j.extend_from_slice(&[0u8; 32]);
    assert_eq!(code("padding.jpg", &j), "accepte");
    // 12 megapixels is fine.
    assert_eq!(code("12mp.jpg", &jpeg_gris(4000, 3000, 0)), "accepte");
}

#[test]
fn contenu_actif_refuse() {
    let cas = [
        (
            "js",
            pdf_avec(
                "/OpenAction << /S /JavaScript /JS (app.alert(1)) >>",
                vec![],
                "",
            ),
        ),
        (
            "js-ref",
            pdf_avec(
                "/OpenAction 4 0 R",
                vec![
                    b"<< /S /JavaScript /JS 5 0 R >>".to_vec(),
                    stream("", b"app.alert(1)"),
                ],
                "",
            ),
        ),
        (
            "names",
            pdf_avec(
                "/Names << /JavaScript << /Names [(x) 4 0 R] >> >>",
                vec![b"<< /S /JavaScript /JS (1) >>".to_vec()],
                "",
            ),
        ),
        (
            "hex",
            pdf_avec(
                "/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>",
                vec![],
                "",
            ),
        ),
        (
            "launch",
            pdf_avec("/OpenAction << /S /Launch /F (calc.exe) >>", vec![], ""),
        ),
        // Additional actions are judged by what they do (issue 14, item 3).
        (
            "aa-javascript",
            pdf_avec(
                "/AA << /WC << /S /JavaScript /JS (app.alert(1)) >> >>",
                vec![],
                "",
            ),
        ),
        (
            "aa-envoi",
            pdf_avec(
                "/AA << /WC 4 0 R >>",
                vec![b"<< /S /SubmitForm /F << /FS /URL /F (https://exemple.invalid/x) >> >>".to_vec()],
                "",
            ),
        ),
        (
            "lien-vers-un-autre-fichier",
            pdf_avec(
                "",
                vec![b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /GoToR /F (autre.pdf) /D [0 /Fit] >> >>".to_vec()],
                "",
            ),
        ),
        (
            "embedded",
            pdf_avec(
                "/Names << /EmbeddedFiles << /Names [(a.exe) 4 0 R] >> >>",
                vec![b"<< /Type /Filespec /F (a.exe) >>".to_vec()],
                "",
            ),
        ),
        // Issue 14, false acceptance 1: attachments without `/Type /EmbeddedFile`.
        (
            "piece-jointe-annotation",
            pdf_avec(
                "",
                vec![
                    b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 10 10] /FS << /Type /Filespec /F (a.exe) /EF << /F 5 0 R >> >> >>".to_vec(),
                    stream("", b"MZ\x90\x00"),
                ],
                "",
            ),
        ),
        (
            "fichiers-associes",
            pdf_avec(
                "/AF [4 0 R]",
                vec![
                    b"<< /Type /Filespec /F (a.exe) /UF (a.exe) /EF << /F 5 0 R >> /AFRelationship /Data >>".to_vec(),
                    stream("", b"MZ\x90\x00"),
                ],
                "",
            ),
        ),
        (
            "xfa",
            pdf_avec(
                "/AcroForm << /Fields [] /XFA 4 0 R >>",
                vec![stream("", b"<xdp/>")],
                "",
            ),
        ),
        (
            "richmedia",
            pdf_avec(
                "",
                vec![b"<< /Type /Annot /Subtype /RichMedia >>".to_vec()],
                "",
            ),
        ),
        (
            "objstm",
            pdf_objet_compresse("<< /S /JavaScript /JS (app.alert(1)) >>"),
        ),
        ("objstm-hex", pdf_objet_compresse("<< /S /Launch /F (x) >>")),
    ];
    for (nom, pdf) in cas {
        assert_eq!(
            code(&format!("{nom}.pdf"), &pdf),
            "pdf_contenu_actif",
            "{nom}"
        );
    }
}

#[test]
fn pdf_chiffre_refuse() {
    // A standard security handler (RC4 40-bit, revision 2) whose /U does not match the
    // empty user password: the document needs a password to open. (Owner-password-only
    // files, which open without one, are accepted: the corpus' qpdf-proprietaire-*.pdf.)
    let o = "<28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A>";
    let u = "<3F71B7E0C71FE85AFA2F3B1AF1F4E8C32E6DAA1C1B11E0C4D0D8E6B5B3E8B9D1>";
    let encrypt = format!("<< /Filter /Standard /V 1 /R 2 /Length 40 /P -44 /O {o} /U {u} >>");
    let pdf = pdf_avec(
        "",
        vec![encrypt.into_bytes()],
        "/Encrypt 4 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>]",
    );
    assert_eq!(code("protege.pdf", &pdf), "pdf_chiffre");
}

#[test]
fn pdf_illisibles() {
    let pdf = pdf_pages(2, 50_000, "");
    assert_eq!(code("tronque.pdf", &pdf[..pdf.len() / 2]), "pdf_illisible");
    assert_eq!(code("entete.pdf", b"%PDF-1.4\n%%EOF\n"), "pdf_illisible");
    // No page at all.
    let vide = pdf_depuis_objets(
        &[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [] /Count 0 >>".to_vec(),
        ],
        1,
        "",
    );
    assert_eq!(code("sans-page.pdf", &vide), "pdf_illisible");
    // Garbage after a valid header.
    let mut g = b"%PDF-1.7\n".to_vec();
    g.extend(std::iter::repeat_n(0xA5u8, 5000));
    g.extend_from_slice(b"\n%%EOF\n");
    assert_eq!(code("bruit.pdf", &g), "pdf_illisible");
}

#[test]
fn bombe_de_decompression_refusee() {
    // 200 MiB of zeros in an object stream: over the per-stream limit.
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..200 {
        e.write_all(&zeros).unwrap();
    }
    let bombe = e.finish().unwrap();
    let pdf = pdf_avec(
        "",
        vec![stream(
            "/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode",
            &bombe,
        )],
        "",
    );
    assert_eq!(code("bombe.pdf", &pdf), "pdf_illisible");
}

/// Issue 14, item 5: a JPEG with a few stray bytes between segments (Photoshop's output;
/// libjpeg decodes it with a warning) is accepted; many are not.
#[test]
fn jpeg_octets_parasites_entre_segments() {
    let j = jpeg_gris(64, 48, 0);
    // After SOI, the first segment: its length is at offsets 4–5.
    let fin_segment = 4 + usize::from(u16::from_be_bytes([j[4], j[5]]));
    let avec = |n: usize| {
        let mut v = j[..fin_segment].to_vec();
        v.extend(std::iter::repeat_n(0x00u8, n));
        v.extend_from_slice(&j[fin_segment..]);
        v
    };
    assert_eq!(code("photoshop.jpg", &avec(4)), "accepte");
    assert_eq!(code("photoshop.jpg", &avec(64)), "accepte");
    assert_eq!(code("cache.jpg", &avec(65)), "jpeg_invalide");
}

#[test]
fn jpeg_refuses() {
    let j = jpeg_gris(640, 480, 20_000);
    assert_eq!(code("tronque.jpg", &j[..j.len() - 100]), "jpeg_invalide");
    assert_eq!(
        code("bombe.jpg", &jpeg_gris(10_000, 6_000, 0)),
        "image_trop_grande"
    );
    // Polyglot: a JPEG announcing a PDF in its first KiB.
    let mut poly = jpeg_minimal();
    poly.splice(20..20, b"\xFF\xFE\x00\x0E%PDF-1.7 xx".iter().copied());
    assert_eq!(code("poly.jpg", &poly), "jpeg_invalide");
    // A ZIP hidden after the end marker.
    let mut zip = jpeg_minimal();
    zip.extend_from_slice(b"PK\x03\x04 archive cachee");
    assert_eq!(code("zip.jpg", &zip), "jpeg_invalide");
    // Too much trailing data.
    let mut long = jpeg_minimal();
    long.extend(std::iter::repeat_n(b'a', 10_000));
    assert_eq!(code("traine.jpg", &long), "jpeg_invalide");
    // Only a header.
    assert_eq!(
        code("entete.jpg", &[0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xD9]),
        "jpeg_invalide"
    );
}

#[test]
fn autres_formats_refuses_quel_que_soit_le_nom() {
    let cas: Vec<(&str, Vec<u8>)> = vec![
        ("photo.jpg", png_minimal()),
        ("photo.png", png_minimal()),
        ("anim.jpg", b"GIF89a\x01\x00\x01\x00".to_vec()),
        (
            "iphone.jpg",
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic".to_vec(),
        ),
        (
            "cv.pdf",
            b"PK\x03\x04\x14\x00\x06\x00word/document.xml".to_vec(),
        ),
        (
            "ancien.pdf",
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00".to_vec(),
        ),
        (
            "page.pdf",
            b"<!DOCTYPE html><html><script>alert(1)</script>".to_vec(),
        ),
        (
            "image.pdf",
            b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>".to_vec(),
        ),
        ("script.pdf", b"#!/bin/sh\nrm -rf /\n".to_vec()),
        ("setup.pdf", b"MZ\x90\x00\x03\x00\x00\x00".to_vec()),
        ("prog.jpg", b"\x7FELF\x02\x01\x01\x00".to_vec()),
        ("texte.pdf", b"Bonjour, voici mon dossier".to_vec()),
        // %PDF not at offset 0.
        ("decale.pdf", {
            let mut v = b"JUNK\n".to_vec();
            v.extend(pdf_minimal());
            v
        }),
    ];
    for (nom, contenu) in cas {
        assert_eq!(code(nom, &contenu), "format_refuse", "{nom}");
    }
    let r = analyser("photo.jpg", &png_minimal(), LES_DEUX, 10).unwrap_err();
    assert!(r.message().contains("PNG"), "{}", r.message());
}

/// Issue 14, « Messages »: a refusal the candidate cannot act on says what to do.
#[test]
fn des_refus_qui_disent_quoi_faire() {
    let m = depot_format::Rejet::PdfChiffre {
        nom: "a.pdf".into(),
    }
    .message();
    assert!(
        m.contains("mot de passe") && m.contains("imprimez-le en PDF"),
        "{m}"
    );
    let m = depot_format::Rejet::PdfContenuActif {
        nom: "a.pdf".into(),
        element: "/EmbeddedFile".into(),
    }
    .message();
    assert!(
        m.contains("fichier joint") && m.contains("sans pièce jointe"),
        "{m}"
    );
    // A HEIC photo named .jpg: the phone setting to change.
    let mut heic = vec![0, 0, 0, 0x18];
    heic.extend_from_slice(b"ftypheic\0\0\0\0mif1heic");
    heic.resize(2000, 0);
    let r = analyser("photo.jpg", &heic, LES_DEUX, 10).unwrap_err();
    assert_eq!(r.code(), "format_refuse");
    assert!(
        r.message().contains("Le plus compatible"),
        "{}",
        r.message()
    );
}

/// Issue 14, item 8: a real Cairo PDF was followed by 20 KB of NUL bytes. Padding is no
/// payload; anything else after `%%EOF` stays limited.
#[test]
fn rembourrage_apres_eof() {
    for rembourrage in [vec![0u8; 20_000], b"\r\n \t".repeat(3000), vec![b'\n'; 5]] {
        let mut p = pdf_minimal();
        p.extend_from_slice(&rembourrage);
        assert_eq!(code("cairo.pdf", &p), "accepte");
    }
    // Data after %%EOF, then padding: still the last KiB's rule.
    let mut p = pdf_minimal();
    p.extend_from_slice(&[b'x'; 2000]);
    p.extend_from_slice(&[0u8; 20_000]);
    assert_eq!(code("cairo.pdf", &p), "pdf_illisible");
    // Padding in the middle is just content.
    let mut p = pdf_minimal();
    p.extend_from_slice(&[0u8; 5000]);
    p.extend_from_slice(b"%%EOF junk");
    p.extend_from_slice(&[0u8; 100]);
    assert_eq!(code("cairo.pdf", &p), "accepte");
}

/// Issue 14, item 7: what Chrome and Windows name a JPEG saved from the web.
#[test]
fn jfif_est_un_jpeg() {
    assert_eq!(code("photo.jfif", &jpeg_minimal()), "accepte");
    assert_eq!(code("PHOTO.JFIF", &jpeg_minimal()), "accepte");
    assert_eq!(code("scan.jfif", &pdf_minimal()), "extension_incoherente");
}

#[test]
fn extension_incoherente() {
    assert_eq!(code("CNI.jpg", &pdf_minimal()), "extension_incoherente");
    assert_eq!(code("photo.pdf", &jpeg_minimal()), "extension_incoherente");
    assert_eq!(
        code("sans-extension", &pdf_minimal()),
        "extension_incoherente"
    );
    assert_eq!(
        code("photo.jpg.exe", &jpeg_minimal()),
        "extension_incoherente"
    );
}

#[test]
fn vide_trop_gros_et_ordre_des_refus() {
    assert_eq!(code("vide.pdf", b""), "fichier_vide");
    let limite = 1024 * 1024;
    let mut gros = pdf_minimal();
    gros.resize(limite + 1, b' ');
    assert_eq!(
        analyser("gros.pdf", &gros, LES_DEUX, 1).unwrap_err().code(),
        "fichier_trop_volumineux"
    );
    // Size wins over format (413 before 415).
    let mut png = png_minimal();
    png.resize(limite + 1, 0);
    assert_eq!(
        analyser("gros.png", &png, LES_DEUX, 1).unwrap_err().code(),
        "fichier_trop_volumineux"
    );
    // Exactly at the limit is accepted (here: a valid JPEG padded to 1 MiB).
    let j = jpeg_gris(64, 48, 0);
    let exact = jpeg_gris(64, 48, limite - j.len() - 4 * (limite / 65_533 + 1));
    assert!(exact.len() <= limite);
    assert_eq!(
        analyser("exact.jpg", &exact, LES_DEUX, 1).map(|a| a.format),
        Ok(Format::Jpeg)
    );
    // A format the piece does not accept.
    assert_eq!(
        analyser("photo.jpg", &jpeg_minimal(), &[Format::Pdf], 10)
            .unwrap_err()
            .code(),
        "format_refuse"
    );
}

#[test]
fn le_nom_n_est_qu_un_affichage() {
    let a = analyser(
        "..\\..\\Windows\\system32\\CNI\u{202E}fdp.pdf",
        &pdf_minimal(),
        LES_DEUX,
        10,
    )
    .unwrap();
    // Last component only, the right-to-left override removed.
    assert_eq!(a.nom, "CNIfdp.pdf");
}

#[test]
fn le_corpus_du_fuzzer_rejoue_sans_panique() {
    // Inputs kept from the fuzzing corpus (each reached new code in the validator) and any
    // crash input ever found: each gets a verdict, never a panic, and — as the fuzz target
    // checks — the same whole and in chunks (their size from the first byte), with the
    // whole-file parse and with the scan alone.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let chemin = e.unwrap().path();
        let octets = std::fs::read(&chemin).unwrap();
        let morceau = usize::from(octets.first().copied().unwrap_or(1)) + 1;
        for nom in ["x.pdf", "x.jpg"] {
            let entier = match analyser(nom, &octets, LES_DEUX, 10) {
                Ok(_) => "accepte",
                Err(r) => r.code(),
            };
            assert_eq!(
                par_morceaux(nom, &octets, morceau, usize::MAX),
                entier,
                "{}",
                chemin.display()
            );
            assert_eq!(
                par_morceaux(nom, &octets, morceau, 0),
                par_morceaux(nom, &octets, octets.len().max(1), 0),
                "{}",
                chemin.display()
            );
        }
        n += 1;
    }
    assert!(n >= 20, "the corpus sample is present ({n} files)");
}

/// An object hidden inside another stream's data, reached by the cross-reference table: a
/// reader following the table would run it, the scan would have skipped it. Refused, by
/// the scan alone too.
#[test]
fn reference_dans_les_donnees_d_un_flux_refusee() {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut pos = Vec::new();
    for (i, c) in [
        "<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    .iter()
    .enumerate()
    {
        pos.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{c}\nendobj\n", i + 1).as_bytes());
    }
    // Object 4: an "image" whose data carries object 5.
    let cache = b"5 0 obj\n<< /S /JavaSc#72ipt /J#53 (app.alert(1)) >>\nendobj\n";
    let mut donnees = vec![0x11u8; 64];
    let decalage = donnees.len();
    donnees.extend_from_slice(cache);
    donnees.extend(vec![0x22u8; 64]);
    pos.push(out.len());
    out.extend_from_slice(
        format!(
            "4 0 obj\n<< /Type /XObject /Subtype /Image /Length {} >>\nstream\n",
            donnees.len()
        )
        .as_bytes(),
    );
    let debut_donnees = out.len();
    out.extend_from_slice(&donnees);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    pos.push(debut_donnees + decalage);
    let xref = out.len();
    out.extend_from_slice(b"xref\n0 6\n0000000000 65535 f \n");
    for p in &pos {
        out.extend_from_slice(format!("{p:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    assert_ne!(code("cache.pdf", &out), "accepte");
    assert_eq!(par_morceaux("cache.pdf", &out, 4096, 0), "pdf_illisible");
}

/// Above the whole-parse size, the scan alone decides, in bounded memory: a 20 MB scan is
/// accepted, the same with JavaScript or encryption is not.
#[test]
fn grands_pdf_analyses_au_fil_de_l_eau() {
    let formats = &[Format::Pdf];
    let verdict = |pdf: &[u8]| {
        let mut a = AnalyseFlux::new("scan.pdf", formats, 30);
        for m in pdf.chunks(65_536) {
            a.nourrir(m).unwrap();
        }
        a.terminer().map_err(|r| r.code())
    };
    let grand = pdf_image(20_000_000);
    assert!(grand.len() > depot_format::PDF_ANALYSE_COMPLETE_MAX);
    let e = verdict(&grand).unwrap();
    assert_eq!(e.caracteristiques, Caracteristiques::Pdf { pages: 1 });
    assert_eq!(e.taille, grand.len() as u64);
    // The same image with an OpenAction script added before the image, and with /Encrypt in
    // the trailer (written by hand: the generator's trailer is at the end).
    let actif = String::from_utf8_lossy(&grand[..200]).replace(
        "/Type /Catalog",
        "/Type /Catalog /OpenAction << /S /JavaScript /JS (x) >>",
    );
    let mut avec_js = actif.as_bytes().to_vec();
    avec_js.extend_from_slice(&grand[200..]);
    assert_eq!(verdict(&avec_js).unwrap_err(), "pdf_contenu_actif");
    let fin = String::from_utf8_lossy(&grand[grand.len() - 200..]).replace(
        "/Root 1 0 R",
        "/Root 1 0 R /Encrypt << /Filter /Standard >>",
    );
    let mut chiffre = grand[..grand.len() - 200].to_vec();
    chiffre.extend_from_slice(fin.as_bytes());
    assert_eq!(verdict(&chiffre).unwrap_err(), "pdf_chiffre");
    // Cut in the middle of the image: unreadable.
    let mut coupe = grand[..grand.len() / 2].to_vec();
    coupe.extend_from_slice(b"\n%%EOF\n");
    assert_eq!(verdict(&coupe).unwrap_err(), "pdf_illisible");
}

/// Item 5 of the real-documents issue: phone photos above 50 MP (64, 108, 200 MP modes)
/// are accepted when their image data is as dense as a photo's; a pixel bomb — the same
/// dimensions in a few bytes — is still refused, and so is anything above 210 MP. Checked
/// whole and in chunks (not byte by byte: megabytes of image data).
#[test]
fn photos_de_plus_de_50_mp_mais_pas_de_bombe() {
    let verdict = |nom: &str, j: &[u8]| {
        let entier = match analyser(nom, j, LES_DEUX, 20) {
            Ok(e) => Ok(e.caracteristiques),
            Err(r) => Err(r.code()),
        };
        for morceau in [1000, 65_536] {
            let mut a = AnalyseFlux::new(nom, LES_DEUX, 20);
            let mut r = Ok(());
            for m in j.chunks(morceau) {
                r = r.and_then(|()| a.nourrir(m));
            }
            let parties = r.map_err(|x| x.code()).and_then(|()| {
                a.terminer()
                    .map(|e| e.caracteristiques)
                    .map_err(|x| x.code())
            });
            assert_eq!(parties, entier, "{nom}: chunks of {morceau}");
        }
        entier
    };
    // The dense fixture is a real JPEG: it decodes whole.
    let petit = exemples::jpeg_dense(64, 48);
    let mut d = zune_jpeg::JpegDecoder::new(&petit);
    assert_eq!(d.decode().unwrap().len(), 64 * 48);
    // 64 MP (9248 × 6936, a phone's 64 MP mode): 4 MB of image data, 16 pixels per byte.
    let photo = exemples::jpeg_dense(9248, 6936);
    assert_eq!(
        verdict("photo-64mp.jpg", &photo),
        Ok(Caracteristiques::Jpeg {
            largeur: 9248,
            hauteur: 6936
        })
    );
    // 108 MP (12000 × 9000): 6.75 MB.
    assert!(verdict("photo-108mp.jpg", &exemples::jpeg_dense(12_000, 9_000)).is_ok());
    // The same 64 MP as a uniform image in 230 KB (256 pixels per byte): a bomb.
    let bombe = exemples::jpeg_gris(9248, 6936, 0);
    assert!(bombe.len() < 300_000);
    assert_eq!(verdict("bombe.jpg", &bombe), Err("image_trop_grande"));
    // Comment padding is not image data: it does not buy pixels.
    let bombe_rembourree = exemples::jpeg_gris(9248, 6936, 5_000_000);
    assert_eq!(
        verdict("bombe-rembourree.jpg", &bombe_rembourree),
        Err("image_trop_grande")
    );
    // The message names the limit for this file.
    let r = analyser("bombe.jpg", &bombe, LES_DEUX, 20).unwrap_err();
    assert!(
        r.message().contains("65 mégapixels, au plus 50"),
        "{}",
        r.message()
    );
    // Above the ceiling, however dense: 16320 × 13000 = 212 MP.
    assert_eq!(
        verdict("capteur-212mp.jpg", &exemples::jpeg_dense(16_320, 13_000)),
        Err("image_trop_grande")
    );
}

/// Issue 14, item 3: `/AA` (additional actions) that only navigate inside the document — a
/// page's open action going to a page, a named action, a link — is no active content.
#[test]
fn actions_supplementaires_de_navigation_acceptees() {
    for (nom, pdf) in [
        (
            "aa-goto",
            pdf_avec("/AA << /WC << /S /GoTo /D [3 0 R /Fit] >> >>", vec![], ""),
        ),
        (
            "aa-named-ref",
            pdf_avec(
                "/AA << /WP 4 0 R >>",
                vec![b"<< /S /Named /N /FirstPage >>".to_vec()],
                "",
            ),
        ),
        (
            "lien-uri",
            pdf_avec(
                "",
                vec![b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /URI /URI (https://www.cdg.fr/) >> >>".to_vec()],
                "",
            ),
        ),
    ] {
        assert_eq!(code(&format!("{nom}.pdf"), &pdf), "accepte", "{nom}");
    }
}

/// `jpeg` with a segment `code` carrying `contenu` inserted right after SOI.
fn avec_segment(jpeg: &[u8], code: u8, contenu: &[u8]) -> Vec<u8> {
    let mut o = vec![0xFF, 0xD8, 0xFF, code];
    o.extend_from_slice(&((contenu.len() + 2) as u16).to_be_bytes());
    o.extend_from_slice(contenu);
    o.extend_from_slice(&jpeg[2..]);
    o
}

/// An MPF index (big-endian) declaring the first image (offset 0) and others at
/// `(size, offset)`, offsets counted from the TIFF header that follows `MPF\0`.
fn index_mpf(taille_premiere: u32, autres: &[(u32, u32)]) -> Vec<u8> {
    let n = 1 + autres.len() as u32;
    let mut o = b"MPF\0MM\0*\0\0\0\x08".to_vec();
    o.extend_from_slice(&3u16.to_be_bytes());
    let entrees = 8 + 2 + 3 * 12 + 4;
    for (tag, genre, nombre, valeur) in [
        (0xB000u16, 7u16, 4u32, u32::from_be_bytes(*b"0100")),
        (0xB001, 4, 1, n),
        (0xB002, 7, 16 * n, entrees),
    ] {
        o.extend_from_slice(&tag.to_be_bytes());
        o.extend_from_slice(&genre.to_be_bytes());
        o.extend_from_slice(&nombre.to_be_bytes());
        o.extend_from_slice(&valeur.to_be_bytes());
    }
    o.extend_from_slice(&0u32.to_be_bytes());
    for (taille, offset) in std::iter::once((taille_premiere, 0)).chain(autres.iter().copied()) {
        o.extend_from_slice(&0u32.to_be_bytes());
        o.extend_from_slice(&taille.to_be_bytes());
        o.extend_from_slice(&offset.to_be_bytes());
        o.extend_from_slice(&[0; 4]);
    }
    o
}

/// A multi-picture JPEG: `premiere` with an MPF index declaring `seconde` right after it
/// (`decalage` added to the declared offset, `ecart` bytes between the two).
fn mpo(premiere: &[u8], seconde: &[u8], decalage: i64, ecart: usize) -> Vec<u8> {
    // The index's size does not depend on its values: measure it, then fill it in.
    let longueur = avec_segment(premiere, 0xE2, &index_mpf(0, &[(0, 0)])).len();
    // The TIFF header starts after SOI, the APP2 marker and length, and `MPF\0`.
    let origine = 2 + 4 + 4;
    let offset = (longueur + ecart - origine) as i64 + decalage;
    let mut o = avec_segment(
        premiere,
        0xE2,
        &index_mpf(longueur as u32, &[(seconde.len() as u32, offset as u32)]),
    );
    o.extend(std::iter::repeat_n(0u8, ecart));
    o.extend_from_slice(seconde);
    o
}

/// Issue 14, false acceptance 2: the end of a JPEG is found by parsing (the first image's
/// EOI after its scans), not as the last `FF D9` of the file, so a ZIP whose comment ends
/// in `FF D9` no longer passes; what may follow is what an MPF index or a motion photo's XMP
/// declares, checked for what it is.
#[test]
fn la_fin_de_l_image_se_lit_dans_l_image() {
    let j = jpeg_gris(640, 480, 20_000);
    // JPEG + ZIP polyglot ending in FF D9 (accepted before: nothing after the last FF D9).
    let mut poly = j.clone();
    poly.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00 payload PK\x05\x06 commentaire \xFF\xD9");
    assert_eq!(code("poly.jpg", &poly), "jpeg_invalide");
    // Small padding after the end is still what cameras leave.
    let mut padding = j.clone();
    padding.extend_from_slice(&[0u8; 200]);
    assert_eq!(code("padding.jpg", &padding), "accepte");

    // A stereo pair / Ultra HDR gain map: a second image the MPF index declares.
    let seconde = jpeg_gris(320, 240, 0);
    assert_eq!(code("paire.jpg", &mpo(&j, &seconde, 0, 0)), "accepte");
    assert_eq!(code("paire-ecart.jpg", &mpo(&j, &seconde, 0, 3)), "accepte");
    // Declared one byte off, or with a ZIP where the image should be: refused.
    assert_eq!(
        code("paire-decalee.jpg", &mpo(&j, &seconde, 1, 0)),
        "jpeg_invalide"
    );
    let mut zip = b"PK\x03\x04".to_vec();
    zip.resize(seconde.len(), b'z');
    assert_eq!(code("paire-zip.jpg", &mpo(&j, &zip, 0, 0)), "jpeg_invalide");
    // A second image cut short (the file ends inside it).
    let coupee = mpo(&j, &seconde, 0, 0);
    assert_eq!(
        code("paire-coupee.jpg", &coupee[..coupee.len() - 10]),
        "jpeg_invalide"
    );
    // More than the declared images after them: refused like any trailer.
    let mut plus = mpo(&j, &seconde, 0, 0);
    plus.extend_from_slice(&vec![b'x'; 5000]);
    assert_eq!(code("paire-et-plus.jpg", &plus), "jpeg_invalide");

    // A motion photo: the XMP declares a video of N bytes, an MP4 follows the image.
    let mut video = Vec::new();
    video.extend_from_slice(&24u32.to_be_bytes());
    video.extend_from_slice(b"ftypmp42\0\0\0\0mp42isom");
    let mdat = 10_000u32;
    video.extend_from_slice(&mdat.to_be_bytes());
    video.extend_from_slice(b"mdat");
    video.extend(std::iter::repeat_n(0x42u8, mdat as usize - 8));
    let xmp = |n: usize| {
        let mut x = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
        x.extend_from_slice(
            format!(r#"<x:xmpmeta><rdf:Description GCamera:MotionPhoto="1" GCamera:MicroVideoOffset="{n}"/></x:xmpmeta>"#)
                .as_bytes(),
        );
        x
    };
    let photo_animee = |declare: usize, suite: &[u8]| {
        let mut o = avec_segment(&j, 0xE1, &xmp(declare));
        o.extend_from_slice(suite);
        o
    };
    assert_eq!(
        code("PXL_animee.jpg", &photo_animee(video.len(), &video)),
        "accepte"
    );
    // Not declared: a video is a trailer like any other (refused).
    let mut sans_xmp = j.clone();
    sans_xmp.extend_from_slice(&video);
    assert_eq!(code("sans-xmp.jpg", &sans_xmp), "jpeg_invalide");
    // Declared length wrong, or what follows is no MP4: refused.
    assert_eq!(
        code("longueur.jpg", &photo_animee(video.len() + 1, &video)),
        "jpeg_invalide"
    );
    let mut pas_mp4 = video.clone();
    pas_mp4[4..8].copy_from_slice(b"PK\x03\x04");
    assert_eq!(
        code("pas-mp4.jpg", &photo_animee(video.len(), &pas_mp4)),
        "jpeg_invalide"
    );
    // An MP4 whose boxes do not end with the data (a ZIP tucked after a short box).
    let mut deborde = video[..24].to_vec();
    deborde.extend_from_slice(&8u32.to_be_bytes());
    deborde.extend_from_slice(b"free");
    deborde.extend_from_slice(b"PK\x03\x04 reste");
    assert_eq!(
        code("deborde.jpg", &photo_animee(deborde.len(), &deborde)),
        "jpeg_invalide"
    );
}

/// A PDF whose file holds two cross-reference tables: one an earlier save left behind, whose
/// entry for object 4 points inside the image stream's data, and the active one, correct.
/// `prev`: the active trailer chains to the old table; `startxref`: where the last
/// `startxref` points (`None`: the active table).
fn pdf_a_deux_tables(prev: bool, startxref: Option<usize>) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut pos = Vec::new();
    for c in [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im 4 0 R >> >> >>",
    ] {
        pos.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{c}\nendobj\n", pos.len()).as_bytes());
    }
    let donnees = vec![0x11u8; 200];
    pos.push(out.len());
    out.extend_from_slice(
        format!(
            "4 0 obj\n<< /Type /XObject /Subtype /Image /Width 10 /Height 20 /BitsPerComponent 8 /ColorSpace /DeviceGray /Length {} >>\nstream\n",
            donnees.len()
        )
        .as_bytes(),
    );
    let debut_donnees = out.len();
    out.extend_from_slice(&donnees);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    let table = |out: &mut Vec<u8>, entrees: &[usize], extra: &str| {
        let debut = out.len();
        out.extend_from_slice(b"xref\n0 5\n0000000000 65535 f \n");
        for p in entrees {
            out.extend_from_slice(format!("{p:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(format!("trailer\n<< /Size 5 /Root 1 0 R {extra}>>\n").as_bytes());
        debut
    };
    // The earlier save's table: object 4 "inside" the image data (its offsets shifted since).
    let mut perimees = pos.clone();
    perimees[3] = debut_donnees + 50;
    let ancienne = table(&mut out, &perimees, "");
    out.extend_from_slice(format!("startxref\n{ancienne}\n%%EOF\n").as_bytes());
    let extra = if prev {
        format!("/Prev {ancienne} ")
    } else {
        String::new()
    };
    let active = table(&mut out, &pos, &extra);
    out.extend_from_slice(
        format!("startxref\n{}\n%%EOF\n", startxref.unwrap_or(active)).as_bytes(),
    );
    out
}

/// Issue 14, item 4: a cross-reference section no reader follows (left by an earlier save:
/// Preview's append mode, PDFsam, signed files) may hold stale entries; only the active
/// chain (the last `startxref`, then `/Prev`) is checked against the streams' data. The
/// object hidden in stream data of `reference_dans_les_donnees_d_un_flux_refusee` is still
/// refused, and so is a stale section the chain reaches, or any when `startxref` names none.
#[test]
fn seule_la_chaine_active_des_references_compte() {
    assert_eq!(
        code("sauve-deux-fois.pdf", &pdf_a_deux_tables(false, None)),
        "accepte"
    );
    assert_eq!(
        code("chaine-vers-l-ancienne.pdf", &pdf_a_deux_tables(true, None)),
        "pdf_illisible"
    );
    // startxref pointing nowhere: every section counts, the stale one refuses the file.
    assert_eq!(
        par_morceaux(
            "startxref-faux.pdf",
            &pdf_a_deux_tables(false, Some(7)),
            4096,
            0
        ),
        "pdf_illisible"
    );
}

/// Issue 14, item 1: an owner-password-only PDF is decrypted by the whole parse and
/// accepted when nothing active hides in it; above the whole-parse size the scan alone
/// cannot read its encrypted object streams, so it is refused as encrypted.
#[test]
fn chiffre_sans_mot_de_passe_d_ouverture() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
    // With the whole parse (files up to 4 MiB), the same verdict in any chunks.
    let entier = |nom: &str, pdf: &[u8]| -> &'static str {
        let v = match analyser(nom, pdf, LES_DEUX, 10) {
            Ok(_) => "accepte",
            Err(r) => r.code(),
        };
        for morceau in [1, 7, 1000] {
            let p = par_morceaux(nom, pdf, morceau, usize::MAX);
            assert_eq!(p, v, "{nom}: chunks of {morceau}");
        }
        v
    };
    let pdf = std::fs::read(format!("{dir}/qpdf-proprietaire-aes-256-objstm.pdf")).unwrap();
    assert_eq!(entier("attestation.pdf", &pdf), "accepte");
    assert_eq!(
        par_morceaux("attestation.pdf", &pdf, 4096, 0),
        "pdf_chiffre"
    );
    let js = std::fs::read(format!("{dir}/qpdf-proprietaire-aes-256-javascript.pdf")).unwrap();
    assert_eq!(entier("js.pdf", &js), "pdf_contenu_actif");
    assert_ne!(par_morceaux("js.pdf", &js, 4096, 0), "accepte");
}

/// A one-page PDF with a text field whose additional actions carry `actions`.
fn formulaire(actions: &str) -> Vec<u8> {
    pdf_avec(
        "/AcroForm << /Fields [4 0 R] >>",
        vec![format!(
            "<< /FT /Tx /T (date_naissance) /Rect [100 700 300 720] /Subtype /Widget /P 3 0 R /AA << {actions} >> >>"
        )
        .into_bytes()],
        "",
    )
}

/// Issue 14, item 2: official forms (CERFA) and LibreOffice fields format what is typed
/// with Acrobat's built-in `AF…` functions; a JavaScript action whose whole code is one such
/// call with literal arguments is accepted. Anything else stays refused.
#[test]
fn javascript_de_mise_en_forme_des_formulaires() {
    let utf16: String = [0xFEu8, 0xFF]
        .into_iter()
        .chain(
            "AFNumber_Keystroke(2, 0, 0, 0, \"€\", true);"
                .encode_utf16()
                .flat_map(u16::to_be_bytes),
        )
        .map(|b| format!("{b:02X}"))
        .collect();
    for (nom, actions) in [
        (
            "date",
            r#"/F << /S /JavaScript /JS (AFDate_FormatEx\("dd/mm/yyyy"\);) >> /K << /S /JavaScript /JS (AFDate_KeystrokeEx\("dd/mm/yyyy"\);) >>"#.to_owned(),
        ),
        (
            "montant-hex-utf16",
            format!("/K << /JS <{utf16}> /S /JavaScript >>"),
        ),
        (
            "somme",
            r#"/C << /S /JavaScript /JS (AFSimple_Calculate\("SUM", new Array \("a", "b"\)\);) >>"#.to_owned(),
        ),
        (
            "octal",
            r#"/F << /S /JavaScript /JS (AFSpecial_Format\(0\)\073) >>"#.to_owned(),
        ),
    ] {
        assert_eq!(code(&format!("{nom}.pdf"), &formulaire(&actions)), "accepte", "{nom}");
    }
    for (nom, actions) in [
        ("alerte", "/F << /S /JavaScript /JS (app.alert\\(1\\)) >>"),
        (
            "deux-instructions",
            r#"/F << /S /JavaScript /JS (AFDate_FormatEx\("dd/mm/yyyy"\); app.launchURL\("http://x"\);) >>"#,
        ),
        (
            "argument-calcule",
            r#"/F << /S /JavaScript /JS (AFDate_FormatEx\(this.getField\("x"\).value\)) >>"#,
        ),
        ("sans-code", "/F << /S /JavaScript >>"),
        ("code-en-flux", "/F << /S /JavaScript /JS 9 0 R >>"),
        (
            "js-sans-type",
            r#"/F << /JS (AFDate_FormatEx\("x"\); app.alert\(1\)) >>"#,
        ),
    ] {
        assert_eq!(
            code(&format!("{nom}.pdf"), &formulaire(actions)),
            "pdf_contenu_actif",
            "{nom}"
        );
    }
    // Document-level JavaScript is never formatting: refused whatever it holds.
    let doc = pdf_avec(
        "/Names << /JavaScript << /Names [(f) 4 0 R] >> >>",
        vec![br#"<< /S /JavaScript /JS (AFTime_Format\(0\)) >>"#.to_vec()],
        "",
    );
    assert_eq!(code("niveau-document.pdf", &doc), "pdf_contenu_actif");
}

/// A PDF whose page tree (objects 2 and 3) is stored in an object stream (object 4) whose
/// header gives object 3 at `decalage_3` (`None`: where it is), indexed by a
/// cross-reference stream (object 5) declaring `longueur_xref` (`None`: its true length).
fn arbre_en_flux_d_objets(decalage_3: Option<usize>, longueur_xref: Option<usize>) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let pos1 = out.len();
    out.extend_from_slice(b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    let (o2, o3) = (
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    );
    let entete = format!("2 0 3 {:<5}", decalage_3.unwrap_or(o2.len() + 1));
    let objstm = zlib(format!("{entete}{o2}\n{o3}").as_bytes());
    let pos4 = out.len();
    out.extend_from_slice(b"4 0 obj\n");
    out.extend_from_slice(&stream(
        &format!(
            "/Type /ObjStm /N 2 /First {} /Filter /FlateDecode",
            entete.len()
        ),
        &objstm,
    ));
    out.extend_from_slice(b"\nendobj\n");
    let pos5 = out.len();
    let mut lignes = Vec::new();
    for (t, a, b) in [
        (0u8, 0u32, 65535u16),
        (1, pos1 as u32, 0),
        (2, 4, 0),
        (2, 4, 1),
        (1, pos4 as u32, 0),
        (1, pos5 as u32, 0),
    ] {
        lignes.push(t);
        lignes.extend_from_slice(&a.to_be_bytes());
        lignes.extend_from_slice(&b.to_be_bytes());
    }
    let lignes = zlib(&lignes);
    let longueur = longueur_xref.unwrap_or(lignes.len());
    out.extend_from_slice(
        format!(
            "5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /Length {longueur} >>\nstream\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(&lignes);
    out.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{pos5}\n%%EOF\n").as_bytes());
    out
}

/// Issue 14, false acceptance 3: a page tree no reader can resolve. lopdf counts a kid that
/// does not load as a (blank) page; the whole parse walks the tree itself and counts only
/// pages that resolve. Decided by the whole parse: the streaming scan alone (files above
/// `PDF_ANALYSE_COMPLETE_MAX`) counts page dictionaries, wherever they are.
#[test]
fn arbre_des_pages_introuvable_illisible() {
    let complet = |nom: &str, pdf: &[u8]| match analyser(nom, pdf, LES_DEUX, 10) {
        Ok(_) => "accepte",
        Err(r) => r.code(),
    };
    assert_eq!(
        complet("sain.pdf", &arbre_en_flux_d_objets(None, None)),
        "accepte"
    );
    assert_eq!(
        complet("objet-perdu.pdf", &arbre_en_flux_d_objets(Some(9999), None)),
        "pdf_illisible"
    );
    // A cross-reference stream with a wrong `/Length` and one `endstream`: readers (and
    // lopdf) find its end and open the file; with its object stream broken too, nothing
    // resolves.
    for longueur in [3, 4000] {
        for (decalage, verdict) in [(None, "accepte"), (Some(9999), "pdf_illisible")] {
            assert_eq!(
                complet(
                    &format!("xref-longueur-{longueur}.pdf"),
                    &arbre_en_flux_d_objets(decalage, Some(longueur))
                ),
                verdict,
                "{longueur} {decalage:?}"
            );
        }
    }
    // A kid that is not there, while a page dictionary nobody points to is.
    let orphelin = pdf_depuis_objets(
        &[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [9 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /MediaBox [0 0 595 842] >>".to_vec(),
        ],
        1,
        "",
    );
    assert_eq!(complet("page-orpheline.pdf", &orphelin), "pdf_illisible");
    // A loop of /Kids ends, a leaf without /Type is a page, and a tree of two levels counts
    // its leaves.
    let boucle = pdf_depuis_objets(
        &[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R 2 0 R 4 0 R] /Count 3 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>".to_vec(),
            b"<< /Type /Pages /Kids [5 0 R 6 0 R] /Count 2 /Parent 2 0 R >>".to_vec(),
            b"<< /Type /Page /Parent 4 0 R /MediaBox [0 0 595 842] >>".to_vec(),
            b"<< /Parent 4 0 R /MediaBox [0 0 595 842] >>".to_vec(),
        ],
        1,
        "",
    );
    match analyser("boucle.pdf", &boucle, LES_DEUX, 10) {
        Ok(e) => assert!(
            matches!(e.caracteristiques, Caracteristiques::Pdf { pages: 3 }),
            "{e:?}"
        ),
        Err(r) => panic!("boucle.pdf: {r:?}"),
    }
}

/// Acrobat writes a field's formatting call in a stream (`/JS 5 0 R`): the whole parse
/// reads it and judges it; the streaming scan alone cannot reach it and refuses.
#[test]
fn javascript_de_mise_en_forme_dans_un_flux() {
    let avec_code = |code: &[u8], compresse: bool| {
        let flux = if compresse {
            stream("/Filter /FlateDecode", &zlib(code))
        } else {
            stream("", code)
        };
        pdf_avec(
            "/AcroForm << /Fields [4 0 R] >>",
            vec![
                b"<< /FT /Tx /T (montant) /Rect [100 700 300 720] /Subtype /Widget /P 3 0 R /AA << /F << /S /JavaScript /JS 5 0 R >> >> >>".to_vec(),
                flux,
            ],
            "",
        )
    };
    let format_af = br#"AFNumber_Format(2, 0, 0, 0, "", true);"#;
    for compresse in [false, true] {
        let pdf = avec_code(format_af, compresse);
        assert_eq!(
            analyser("cerfa.pdf", &pdf, LES_DEUX, 10).map(drop),
            Ok(()),
            "compressed: {compresse}"
        );
        for morceau in [1, 4096] {
            assert_eq!(
                par_morceaux("cerfa.pdf", &pdf, morceau, usize::MAX),
                "accepte"
            );
            assert_eq!(
                par_morceaux("cerfa.pdf", &pdf, morceau, 0),
                "pdf_contenu_actif",
                "scan alone, chunks of {morceau}"
            );
        }
        let alerte = avec_code(b"app.alert(1);", compresse);
        assert_eq!(code("alerte.pdf", &alerte), "pdf_contenu_actif");
    }
    // A key written twice: whichever a reader keeps, both codes must be allowed.
    for actions in [
        r#"/F << /S /JavaScript /JS (app.alert\(1\)) /JS (AFDate_FormatEx\("dd/mm/yyyy"\);) >>"#,
        r#"/F << /S /JavaScript /JS (AFDate_FormatEx\("dd/mm/yyyy"\);) /JS (app.alert\(1\)) >>"#,
        r#"/F << /S /JavaScript /JS (app.alert\(1\)) /JS 9 0 R >>"#,
    ] {
        assert_eq!(
            code("double.pdf", &formulaire(actions)),
            "pdf_contenu_actif",
            "{actions}"
        );
    }
}
