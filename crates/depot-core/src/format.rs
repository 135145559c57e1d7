//! « Les pièces à transmettre doivent être au format PDF ou JPEG » — decided by content.
//!
//! A file is accepted only when all of these hold (each refusal has its own code):
//!
//! 1. its size is at most the piece's limit (checked while receiving, see [`Reception`]);
//! 2. it is not empty;
//! 3. its content is PDF (`%PDF-1.` or `%PDF-2.` **at offset 0**) or JPEG (`FF D8 FF`),
//!    and a format the piece accepts — whatever the client said its type was;
//! 4. its name's extension agrees with the content (`.pdf`; `.jpg`, `.jpeg`, `.jpe`, any
//!    case);
//! 5. a PDF has `%%EOF` in its last KiB (not truncated), parses structurally (lopdf, with a
//!    per-stream decompression limit; a parser panic is contained and becomes a refusal),
//!    is not encrypted, has at least one page, and carries no active content: `/JavaScript`,
//!    `/JS`, `/Launch`, `/EmbeddedFile(s)`, `/AA`, `/RichMedia`, `/XFA`, `/ImportData`,
//!    `/GoToE` — as keys or as names, hex-escaped or inside object streams, since the check
//!    runs on the parsed objects;
//! 6. a JPEG's headers decode, it has at most [`LIMITE_MEGAPIXELS`] megapixels, and it ends
//!    with the `FF D9` marker. **Trailing data**: cameras and editors sometimes leave a few
//!    bytes after `FF D9`; up to [`TRAILER_JPEG_MAX`] bytes are tolerated when they carry no
//!    other format's signature. A JPEG that also announces `%PDF-` in its first KiB (where PDF
//!    readers look for it) is a polyglot and refused.
//!
//! The original name is kept only as display metadata, normalised by [`normaliser_nom`]; it
//! never becomes a path or a key.

use std::panic::{AssertUnwindSafe, catch_unwind};

use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::erreur::Refus;
use crate::ids::Sha256;

/// Pixel-bomb guard: larger JPEGs are refused.
pub const LIMITE_MEGAPIXELS: u64 = 50;
/// Bytes tolerated after a JPEG's end marker.
pub const TRAILER_JPEG_MAX: usize = 4096;
/// Largest size one PDF stream may decompress to while parsing.
pub const PDF_DECOMPRESSION_MAX: usize = 64 * 1024 * 1024;
/// Longest display name kept, in characters.
pub const NOM_MAX_CARACTERES: usize = 120;

/// The two formats the procedure accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Portable Document Format.
    Pdf,
    /// JPEG image.
    Jpeg,
}

impl Format {
    /// Parses a configuration value: `pdf` or `jpeg` (`jpg` accepted).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "pdf" => Some(Format::Pdf),
            "jpeg" | "jpg" => Some(Format::Jpeg),
            _ => None,
        }
    }

    /// The API code.
    pub fn code(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Jpeg => "jpeg",
        }
    }

    /// The media type served with the file.
    pub fn mime(self) -> mime::Mime {
        match self {
            Format::Pdf => mime::APPLICATION_PDF,
            Format::Jpeg => mime::IMAGE_JPEG,
        }
    }

    /// The name for candidates.
    pub fn libelle(self) -> &'static str {
        match self {
            Format::Pdf => "PDF",
            Format::Jpeg => "JPEG",
        }
    }

    /// Extensions that agree with this format (lower case, without the dot).
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Format::Pdf => &["pdf"],
            Format::Jpeg => &["jpg", "jpeg", "jpe"],
        }
    }

    /// The usual extension.
    pub fn extension(self) -> &'static str {
        self.extensions()[0]
    }
}

/// « PDF ou JPEG », « PDF »…
pub fn formats_en_mots(formats: &[Format]) -> String {
    formats
        .iter()
        .map(|f| f.libelle())
        .collect::<Vec<_>>()
        .join(" ou ")
}

/// What the analysis recorded about an accepted file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Caracteristiques {
    /// A PDF and its page count.
    Pdf {
        /// Number of pages.
        pages: u32,
    },
    /// A JPEG and its dimensions.
    Jpeg {
        /// Width in pixels.
        largeur: u32,
        /// Height in pixels.
        hauteur: u32,
    },
}

/// An accepted file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analyse {
    /// Its format, from its content.
    pub format: Format,
    /// Its display name, normalised.
    pub nom: String,
    /// Its size in bytes.
    pub taille: u64,
    /// SHA-256 of its content.
    pub sha256: Sha256,
    /// Pages or dimensions.
    pub caracteristiques: Caracteristiques,
}

/// Receives an upload chunk by chunk and refuses it as soon as it exceeds the limit, before
/// the rest is read. Memory held is at most the limit.
#[derive(Debug)]
pub struct Reception {
    nom: String,
    limite: u64,
    taille_max_mo: u32,
    tampon: BytesMut,
}

impl Reception {
    /// Starts receiving a file for a piece limited to `taille_max_mo` MiB.
    pub fn new(nom: &str, taille_max_mo: u32) -> Self {
        Self {
            nom: normaliser_nom(nom),
            limite: u64::from(taille_max_mo) * 1024 * 1024,
            taille_max_mo,
            tampon: BytesMut::new(),
        }
    }

    /// Adds a chunk; refuses with `fichier_trop_volumineux` once the total exceeds the limit.
    pub fn recevoir(&mut self, morceau: &[u8]) -> Result<(), Refus> {
        let total = self.tampon.len() as u64 + morceau.len() as u64;
        if total > self.limite {
            return Err(Refus::FichierTropVolumineux {
                nom: self.nom.clone(),
                taille_max_mo: self.taille_max_mo,
            });
        }
        self.tampon.extend_from_slice(morceau);
        Ok(())
    }

    /// Bytes received so far.
    pub fn taille(&self) -> u64 {
        self.tampon.len() as u64
    }

    /// The whole content.
    pub fn terminer(self) -> Bytes {
        self.tampon.freeze()
    }
}

/// Normalises a client-supplied file name for display: last path component only, Unicode
/// NFC, control and bidirectional-override characters and path separators removed, spaces
/// trimmed, length capped (keeping the extension). Never used as a path or key.
pub fn normaliser_nom(brut: &str) -> String {
    let dernier = brut.rsplit(['/', '\\']).next().unwrap_or_default();
    let propre: String = dernier
        .nfc()
        .filter(|c| {
            !c.is_control()
                && !matches!(c,
                    '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
                    | '\u{FEFF}' | '/' | '\\' | ':' | '"' | '<' | '>' | '|' | '*' | '?')
        })
        .collect();
    let propre = propre.trim().trim_start_matches('.').trim().to_owned();
    if propre.chars().count() <= NOM_MAX_CARACTERES {
        return if propre.is_empty() {
            "fichier".to_owned()
        } else {
            propre
        };
    }
    let (base, ext) = match propre.rsplit_once('.') {
        Some((b, e)) if e.chars().count() <= 5 && !b.is_empty() => (b, Some(e)),
        _ => (propre.as_str(), None),
    };
    let garde = NOM_MAX_CARACTERES - ext.map_or(0, |e| e.chars().count() + 1);
    let mut court: String = base.chars().take(garde).collect();
    if let Some(e) = ext {
        court.push('.');
        court.push_str(e);
    }
    court
}

/// Signatures of formats that are refused, with how the refusal names them.
const AUTRES_FORMATS: &[(&[u8], &str)] = &[
    (b"\x89PNG\r\n\x1a\n", "une image PNG"),
    (b"GIF87a", "une image GIF"),
    (b"GIF89a", "une image GIF"),
    (b"PK\x03\x04", "une archive ZIP ou un document Office"),
    (
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
        "un document Word ou Excel ancien",
    ),
    (b"{\\rtf", "un document RTF"),
    (b"MZ", "un programme Windows"),
    (b"\x7FELF", "un programme exécutable"),
    (b"#!", "un script"),
    (b"II*\x00", "une image TIFF"),
    (b"MM\x00*", "une image TIFF"),
    (b"BM", "une image BMP"),
    (b"Rar!", "une archive RAR"),
    (b"7z\xBC\xAF\x27\x1C", "une archive 7-Zip"),
    (b"\x1F\x8B", "une archive gzip"),
    (b"%!PS", "un fichier PostScript"),
];

/// Signatures that must not hide in a JPEG's trailing bytes.
const SIGNATURES_CACHEES: &[&[u8]] = &[
    b"%PDF-",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\x89PNG",
    b"<html",
    b"<HTML",
    b"<script",
    b"<SCRIPT",
    b"<svg",
    b"MZ",
    b"\x7FELF",
    b"GIF8",
];

fn contient(botte: &[u8], aiguille: &[u8]) -> bool {
    botte.windows(aiguille.len()).any(|w| w == aiguille)
}

fn detecter_autre(contenu: &[u8]) -> Option<&'static str> {
    if let Some((_, nom)) = AUTRES_FORMATS
        .iter()
        .find(|(sig, _)| contenu.starts_with(sig))
    {
        return Some(nom);
    }
    if contenu.len() >= 12 && &contenu[4..8] == b"ftyp" {
        let marque = &contenu[8..12];
        if [b"heic", b"heix", b"mif1", b"msf1", b"hevc", b"avif"]
            .iter()
            .any(|m| marque == *m)
        {
            return Some("une image HEIC ou AVIF (format des téléphones)");
        }
        return Some("une vidéo ou un fichier multimédia");
    }
    let debut: Vec<u8> = contenu
        .iter()
        .take(512)
        .map(u8::to_ascii_lowercase)
        .collect();
    let debut_texte = debut.trim_ascii_start();
    if [
        &b"<!doctype html"[..],
        b"<html",
        b"<script",
        b"<svg",
        b"<?xml",
    ]
    .iter()
    .any(|s| debut_texte.starts_with(s))
    {
        return Some("une page web ou un document XML");
    }
    if contient(&contenu[..contenu.len().min(1024)], b"%PDF-") {
        return Some("un PDF précédé d'autres données");
    }
    None
}

fn sniffer(contenu: &[u8]) -> Option<Format> {
    if contenu.starts_with(b"%PDF-1.") || contenu.starts_with(b"%PDF-2.") {
        Some(Format::Pdf)
    } else if contenu.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else {
        None
    }
}

/// Checks a received file against the format rules, in the order the API documents:
/// size (413), then not PDF/JPEG or wrong extension (415), then content (422).
pub fn analyser(
    nom_brut: &str,
    contenu: &[u8],
    formats_admis: &[Format],
    taille_max_mo: u32,
) -> Result<Analyse, Refus> {
    let nom = normaliser_nom(nom_brut);
    if contenu.len() as u64 > u64::from(taille_max_mo) * 1024 * 1024 {
        return Err(Refus::FichierTropVolumineux { nom, taille_max_mo });
    }
    let admis = formats_en_mots(formats_admis);
    let Some(format) = sniffer(contenu) else {
        if contenu.is_empty() {
            return Err(Refus::FichierVide { nom });
        }
        return Err(Refus::FormatRefuse {
            nom,
            detecte: detecter_autre(contenu),
            admis,
        });
    };
    if !formats_admis.contains(&format) {
        return Err(Refus::FormatRefuse {
            nom,
            detecte: Some(match format {
                Format::Pdf => "un PDF",
                Format::Jpeg => "une image JPEG",
            }),
            admis,
        });
    }
    let extension = nom
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if !format.extensions().contains(&extension.as_str()) {
        return Err(Refus::ExtensionIncoherente {
            nom,
            format: format.libelle(),
            attendues: match format {
                Format::Pdf => "« .pdf »",
                Format::Jpeg => "« .jpg » ou « .jpeg »",
            },
        });
    }
    let caracteristiques = match format {
        Format::Pdf => analyser_pdf(&nom, contenu)?,
        Format::Jpeg => analyser_jpeg(&nom, contenu)?,
    };
    Ok(Analyse {
        format,
        taille: contenu.len() as u64,
        sha256: Sha256::de(contenu),
        nom,
        caracteristiques,
    })
}

/// Names that make a PDF active: as dictionary keys or as name values.
const CLES_ACTIVES: &[&[u8]] = &[
    b"JavaScript",
    b"JS",
    b"Launch",
    b"EmbeddedFile",
    b"EmbeddedFiles",
    b"AA",
    b"RichMedia",
    b"XFA",
];
const NOMS_ACTIFS: &[&[u8]] = &[
    b"JavaScript",
    b"Launch",
    b"EmbeddedFile",
    b"RichMedia",
    b"ImportData",
    b"GoToE",
];

fn analyser_pdf(nom: &str, contenu: &[u8]) -> Result<Caracteristiques, Refus> {
    let illisible = || Refus::PdfIllisible {
        nom: nom.to_owned(),
    };
    // Truncation: a complete PDF ends with %%EOF (possibly followed by a line end or a
    // little padding).
    let queue = &contenu[contenu.len().saturating_sub(1024)..];
    if !contient(queue, b"%%EOF") {
        return Err(illisible());
    }
    let options = lopdf::LoadOptions {
        max_decompressed_size: Some(PDF_DECOMPRESSION_MAX),
        ..Default::default()
    };
    let chargement = catch_unwind(AssertUnwindSafe(|| {
        lopdf::Document::load_mem_with_options(contenu, options)
    }));
    let doc = match chargement {
        Err(_panique) => return Err(illisible()),
        Ok(Err(lopdf::Error::Decryption(_))) => {
            return Err(Refus::PdfChiffre {
                nom: nom.to_owned(),
            });
        }
        Ok(Err(_)) => return Err(illisible()),
        Ok(Ok(doc)) => doc,
    };
    if doc.was_encrypted() || doc.is_encrypted() {
        return Err(Refus::PdfChiffre {
            nom: nom.to_owned(),
        });
    }
    if let Some(element) = chercher_contenu_actif(&doc) {
        return Err(Refus::PdfContenuActif {
            nom: nom.to_owned(),
            element,
        });
    }
    let pages =
        catch_unwind(AssertUnwindSafe(|| doc.get_pages().len())).map_err(|_| illisible())?;
    if pages == 0 {
        return Err(illisible());
    }
    Ok(Caracteristiques::Pdf {
        pages: u32::try_from(pages).unwrap_or(u32::MAX),
    })
}

/// Walks every parsed object (object streams included) without recursion, so a deeply
/// nested document cannot exhaust the stack.
fn chercher_contenu_actif(doc: &lopdf::Document) -> Option<String> {
    use lopdf::Object;
    fn nommer(n: &[u8]) -> String {
        format!("/{}", String::from_utf8_lossy(n))
    }
    fn cle_active(d: &lopdf::Dictionary) -> Option<String> {
        d.iter()
            .find(|(k, _)| CLES_ACTIVES.contains(&k.as_slice()))
            .map(|(k, _)| nommer(k))
    }
    let mut pile: Vec<&Object> = doc.objects.values().collect();
    pile.extend(doc.trailer.iter().map(|(_, v)| v));
    while let Some(o) = pile.pop() {
        let dict = match o {
            Object::Name(n) if NOMS_ACTIFS.contains(&n.as_slice()) => return Some(nommer(n)),
            Object::Array(a) => {
                pile.extend(a.iter());
                continue;
            }
            Object::Dictionary(d) => d,
            Object::Stream(s) => &s.dict,
            _ => continue,
        };
        if let Some(cle) = cle_active(dict) {
            return Some(cle);
        }
        pile.extend(dict.iter().map(|(_, v)| v));
    }
    None
}

fn analyser_jpeg(nom: &str, contenu: &[u8]) -> Result<Caracteristiques, Refus> {
    let invalide = || Refus::JpegInvalide {
        nom: nom.to_owned(),
    };
    // A PDF reader looks for %PDF- in the first KiB: such a JPEG would also open as a PDF.
    if contient(&contenu[..contenu.len().min(1024)], b"%PDF-") {
        return Err(invalide());
    }
    let fin = contenu
        .windows(2)
        .rposition(|w| w == [0xFF, 0xD9])
        .ok_or_else(invalide)?;
    let traine = &contenu[fin + 2..];
    if traine.len() > TRAILER_JPEG_MAX || SIGNATURES_CACHEES.iter().any(|s| contient(traine, s)) {
        return Err(invalide());
    }
    let options = zune_jpeg::zune_core::options::DecoderOptions::default()
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX));
    let entetes = catch_unwind(AssertUnwindSafe(|| {
        let mut d = zune_jpeg::JpegDecoder::new_with_options(contenu, options);
        d.decode_headers().ok()?;
        d.info().map(|i| (u64::from(i.width), u64::from(i.height)))
    }));
    let (largeur, hauteur) = match entetes {
        Ok(Some((l, h))) if l > 0 && h > 0 => (l, h),
        _ => return Err(invalide()),
    };
    let pixels = largeur * hauteur;
    if pixels > LIMITE_MEGAPIXELS * 1_000_000 {
        return Err(Refus::ImageTropGrande {
            nom: nom.to_owned(),
            megapixels: pixels.div_ceil(1_000_000),
            limite: LIMITE_MEGAPIXELS,
        });
    }
    Ok(Caracteristiques::Jpeg {
        largeur: u32::try_from(largeur).unwrap_or(u32::MAX),
        hauteur: u32::try_from(hauteur).unwrap_or(u32::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noms_normalises() {
        assert_eq!(normaliser_nom("C:\\Users\\moi\\CNI.pdf"), "CNI.pdf");
        assert_eq!(normaliser_nom("../../etc/passwd"), "passwd");
        assert_eq!(normaliser_nom("a\u{0}b\u{7}c.pdf"), "abc.pdf");
        assert_eq!(normaliser_nom("facture\u{202E}fdp.exe"), "facturefdp.exe");
        // NFD "é" (e + combining acute) becomes NFC.
        assert_eq!(normaliser_nom("e\u{301}tat.pdf"), "\u{e9}tat.pdf");
        assert_eq!(normaliser_nom("   "), "fichier");
        assert_eq!(normaliser_nom(".htaccess"), "htaccess");
        let long = format!("{}.pdf", "x".repeat(500));
        let n = normaliser_nom(&long);
        assert_eq!(n.chars().count(), NOM_MAX_CARACTERES);
        assert!(n.ends_with(".pdf"));
    }

    #[test]
    fn reception_refuse_des_le_depassement() {
        let mut r = Reception::new("gros.pdf", 1);
        r.recevoir(&vec![0u8; 1024 * 1024]).unwrap();
        assert_eq!(r.taille(), 1024 * 1024);
        let e = r.recevoir(b"x").unwrap_err();
        assert_eq!(e.code(), "fichier_trop_volumineux");
        assert_eq!(r.taille(), 1024 * 1024, "the refused chunk is not kept");
    }

    #[test]
    fn formats() {
        assert_eq!(Format::parse("JPG"), Some(Format::Jpeg));
        assert_eq!(Format::parse("png"), None);
        assert_eq!(Format::Pdf.mime().as_ref(), "application/pdf");
        assert_eq!(formats_en_mots(&[Format::Pdf, Format::Jpeg]), "PDF ou JPEG");
    }
}
