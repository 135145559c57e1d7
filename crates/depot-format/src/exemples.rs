//! Real, small PDF and JPEG files built in memory, for tests, documentation, benchmarks
//! and load tools. Nothing here is used by the rules.

use std::fmt::Write as _;

/// Assembles a PDF from numbered object bodies (`objets[0]` is object 1), computing the
/// cross-reference table. `racine` is the catalogue's object number; `trailer_extra` is
/// added to the trailer dictionary (e.g. `/Encrypt 5 0 R`).
pub fn pdf_depuis_objets(objets: &[Vec<u8>], racine: usize, trailer_extra: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut positions = Vec::with_capacity(objets.len());
    for (i, corps) in objets.iter().enumerate() {
        positions.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(corps);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objets.len() + 1);
    for p in positions {
        let _ = writeln!(table, "{p:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root {racine} 0 R {trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n",
        objets.len() + 1
    );
    out.extend_from_slice(table.as_bytes());
    out
}

fn flux(dict: &str, contenu: &[u8]) -> Vec<u8> {
    let mut o = format!("<< {dict} /Length {} >>\nstream\n", contenu.len()).into_bytes();
    o.extend_from_slice(contenu);
    o.extend_from_slice(b"\nendstream");
    o
}

/// A PDF of `pages` pages whose content streams together hold about `octets_texte` bytes of
/// uncompressed text drawing, plus `catalogue_extra` in the catalogue dictionary.
pub fn pdf_pages(pages: usize, octets_texte: usize, catalogue_extra: &str) -> Vec<u8> {
    let pages = pages.max(1);
    // 1: catalogue, 2: page tree, 3: font, then a page and its content per page.
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    let mut objets = vec![
        format!("<< /Type /Catalog /Pages 2 0 R {catalogue_extra} >>").into_bytes(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            kids.join(" ")
        )
        .into_bytes(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ];
    let par_page = octets_texte / pages;
    for i in 0..pages {
        let mut texte = format!(
            "BT /F1 12 Tf 72 720 Td (Dossier d'inscription, page {}) Tj ET\n",
            i + 1
        );
        let mut ligne = 0;
        while texte.len() < par_page {
            let _ = writeln!(
                texte,
                "BT /F1 9 Tf 72 {} Td (Ligne {ligne} du justificatif, texte de remplissage.) Tj ET",
                700 - (ligne % 60) * 11
            );
            ligne += 1;
        }
        objets.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                5 + 2 * i
            )
            .into_bytes(),
        );
        objets.push(flux("", texte.as_bytes()));
    }
    pdf_depuis_objets(&objets, 1, "")
}

/// A valid one-page PDF.
pub fn pdf_minimal() -> Vec<u8> {
    pdf_pages(1, 0, "")
}

/// A valid PDF carrying one embedded image stream of `octets_image` pseudo-random bytes
/// (incompressible, like a scan), on one page.
pub fn pdf_image(octets_image: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let image: Vec<u8> = (0..octets_image)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let cote = ((octets_image / 3) as f64).sqrt().max(1.0) as usize;
    let objets = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 4 0 R >> >> /Contents 5 0 R >>".to_vec(),
        flux(
            &format!("/Type /XObject /Subtype /Image /Width {cote} /Height {cote} /ColorSpace /DeviceRGB /BitsPerComponent 8"),
            &image,
        ),
        flux("", b"q 595 0 0 842 0 0 cm /Im1 Do Q"),
    ];
    pdf_depuis_objets(&objets, 1, "")
}

/// A baseline greyscale JPEG of the given size (uniform grey), decodable by any viewer.
///
/// Built by hand: one quantisation table, one-code Huffman tables (DC difference 0, AC
/// end-of-block), so every 8×8 block costs two bits. `remplissage` bytes of comment
/// segments are added to reach a realistic file size.
pub fn jpeg_gris(largeur: u16, hauteur: u16, remplissage: usize) -> Vec<u8> {
    jpeg_uniforme(largeur, hauteur, remplissage, 1)
}

/// A greyscale JPEG whose image data is as dense as a phone photo's: the same uniform grey
/// as [`jpeg_gris`], coded with 16-bit Huffman codes, so every 8×8 block costs 4 bytes
/// (16 pixels per byte of image data; phone photos have 3 to 8).
pub fn jpeg_dense(largeur: u16, hauteur: u16) -> Vec<u8> {
    jpeg_uniforme(largeur, hauteur, 0, 16)
}

/// A uniform grey JPEG whose two Huffman codes (DC difference 0, AC end-of-block) are
/// `bits_code` bits long each (1 to 16; all zeros, a valid canonical code).
fn jpeg_uniforme(largeur: u16, hauteur: u16, remplissage: usize, bits_code: usize) -> Vec<u8> {
    let mut o = vec![0xFF, 0xD8];
    // APP0 JFIF.
    o.extend_from_slice(&[
        0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00,
        0x01, 0x00, 0x00,
    ]);
    // Comment segments as padding (at most 65533 bytes each).
    let mut reste = remplissage;
    while reste > 0 {
        let n = reste.min(65_533);
        o.extend_from_slice(&[0xFF, 0xFE]);
        o.extend_from_slice(&((n + 2) as u16).to_be_bytes());
        o.extend(std::iter::repeat_n(b'.', n));
        reste -= n;
    }
    // DQT: table 0, all ones.
    o.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x43, 0x00]);
    o.extend_from_slice(&[1u8; 64]);
    // SOF0: 8-bit, one component, no subsampling, table 0.
    o.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x0B, 0x08]);
    o.extend_from_slice(&hauteur.to_be_bytes());
    o.extend_from_slice(&largeur.to_be_bytes());
    o.extend_from_slice(&[0x01, 0x01, 0x11, 0x00]);
    // DHT: DC table 0 and AC table 0, each a single `bits_code`-bit code for symbol 0.
    for classe in [0x00u8, 0x10] {
        o.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x14, classe]);
        let mut comptes = [0u8; 16];
        comptes[bits_code - 1] = 1;
        o.extend_from_slice(&comptes);
        o.push(0x00);
    }
    // SOS.
    o.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
    let blocs = usize::from(largeur.div_ceil(8)) * usize::from(hauteur.div_ceil(8));
    let bits = blocs * 2 * bits_code;
    o.extend(std::iter::repeat_n(0u8, bits / 8));
    if !bits.is_multiple_of(8) {
        // Pad the last byte with 1-bits, as the standard requires.
        o.push(0xFFu8 >> (bits % 8));
        if o.last() == Some(&0xFF) {
            o.push(0x00);
        }
    }
    o.extend_from_slice(&[0xFF, 0xD9]);
    o
}

/// A small valid JPEG.
pub fn jpeg_minimal() -> Vec<u8> {
    jpeg_gris(64, 48, 0)
}

/// A valid one-page PDF whose page draws `texte` from a FlateDecode content stream (the
/// text is not in the file's raw bytes: an antivirus must decompress to see it).
pub fn pdf_texte_compresse(texte: &str) -> Vec<u8> {
    use std::io::Write;
    // Enough repeated drawing around it that the compressor codes the text (a short
    // stream could be stored as is).
    let mut contenu = String::new();
    for i in 0..40 {
        let _ = writeln!(contenu, "0.9 g 72 {} 451 10 re f", 700 - 12 * i);
    }
    let _ = writeln!(contenu, "0 g BT /F1 12 Tf 72 720 Td ({texte}) Tj ET");
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = z.write_all(contenu.as_bytes());
    let comprime = z.finish().unwrap_or_default();
    let objets = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>".to_vec(),
        flux("/Filter /FlateDecode", &comprime),
    ];
    pdf_depuis_objets(&objets, 1, "")
}

/// A small valid JPEG carrying `commentaire` in a COM segment.
pub fn jpeg_commentaire(commentaire: &[u8]) -> Vec<u8> {
    let j = jpeg_minimal();
    let n = u16::try_from(commentaire.len() + 2).unwrap_or(u16::MAX);
    let mut o = j[..2].to_vec();
    o.extend_from_slice(&[0xFF, 0xFE]);
    o.extend_from_slice(&n.to_be_bytes());
    o.extend_from_slice(&commentaire[..usize::from(n) - 2]);
    o.extend_from_slice(&j[2..]);
    o
}

/// A PNG signature followed by an image header (enough to be recognised as PNG).
pub fn png_minimal() -> Vec<u8> {
    let mut o = b"\x89PNG\r\n\x1a\n".to_vec();
    o.extend_from_slice(&[0, 0, 0, 13]);
    o.extend_from_slice(b"IHDR");
    o.extend_from_slice(&[
        0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xDE,
    ]);
    o.extend_from_slice(&[0, 0, 0, 0]);
    o.extend_from_slice(b"IEND");
    o.extend_from_slice(&[0xAE, 0x42, 0x60, 0x82]);
    o
}
