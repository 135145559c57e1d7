//! # depot-format — « Les pièces à transmettre doivent être au format PDF ou JPEG »
//!
//! Decides, by content and while the file streams in, whether a file is a PDF or a JPEG a
//! Centre de gestion may accept. It knows nothing of dossiers or deadlines: a vendor who
//! only needs this check depends on this crate alone, and `depot-core` maps a [`Rejet`]
//! into its own refusals.
//!
//! A file is accepted only when all of these hold (each refusal has its own code):
//!
//! 1. its size is at most the piece's limit (checked while receiving, see [`AnalyseFlux`]);
//! 2. it is not empty;
//! 3. its content is PDF (`%PDF-1.` or `%PDF-2.` **at offset 0**) or JPEG (`FF D8 FF`),
//!    and a format the piece accepts — whatever the client said its type was;
//! 4. its name's extension agrees with the content (`.pdf`; `.jpg`, `.jpeg`, `.jpe`, and
//!    `.jfif` — the name Chrome and Windows give a JPEG saved from the web —, any case);
//! 5. a PDF has `%%EOF` in its last KiB, trailing NUL/white-space padding aside (not
//!    truncated), opens without a password (one encrypted with an owner password only is
//!    decrypted by the whole parse and checked whole; without the whole parse, refused),
//!    has at least one page its page tree reaches (the whole parse walks it; the scan
//!    counts page dictionaries), and carries no active content: `/JavaScript`, `/JS`, `/Launch`,
//!    `/EmbeddedFile(s)`, an embedded file stream `/EF` or a `/FileAttachment` annotation
//!    (attachments by structure, with or without their optional `/Type`),
//!    `/RichMedia`, `/XFA`, actions that import, submit or open another file (`/ImportData`,
//!    `/SubmitForm`, `/GoToR`, `/GoToE`) — judged by what they do, so additional actions
//!    (`/AA`) that only navigate are accepted — as keys
//!    or as names, hex-escaped or inside object streams. This is checked **as the file
//!    streams in** by a scanner that reads every object in file order, decompresses object
//!    streams, and refuses a cross-reference that points inside another stream's data (an
//!    object the scan skipped); a PDF of at most [`PDF_ANALYSE_COMPLETE_MAX`] is **also**
//!    parsed whole by lopdf (per-stream decompression limit, parser panics contained),
//!    and both must accept it. Larger files are decided by the scan alone, so memory stays
//!    bounded whatever the size;
//! 6. a JPEG's headers decode, it has at most [`LIMITE_MEGAPIXELS`] megapixels — or, up to
//!    [`PLAFOND_MEGAPIXELS`] (phones shoot 108 and 200 MP), as many as its compressed image
//!    data can carry: at most [`PIXELS_PAR_OCTET_MAX`] pixels per byte after the first scan
//!    header, which tells a real photo from a pixel bomb (a few bytes declaring gigapixels)
//!    —, and its image ends with the `FF D9` marker, found **by parsing** (the first
//!    image's end after its scans, not the last `FF D9` of the file). **What follows the
//!    image**: the other images its MPF index declares (stereo pairs, an Ultra HDR gain
//!    map), each a JPEG ending exactly at its declared size; then the video its XMP declares
//!    (a motion photo), an MP4 of that length; otherwise up to [`TRAILER_JPEG_MAX`] bytes of
//!    padding carrying no other format's signature (see `jpeg_flux.rs`). A JPEG that also
//!    announces `%PDF-` in its first KiB (where PDF readers look for it) is a polyglot and
//!    refused. Only its header segments (metadata left out but for the MPF index and the
//!    XMP packet) are kept while it streams.
//!
//! [`AnalyseFlux`] applies these rules chunk by chunk (depot-core's upload uses it to check a
//! file while the store writes it); [`analyser`] applies them to a file in memory. Both
//! give the same verdict whatever the chunking — the tests and the fuzzer check it.
//!
//! The original name is kept only as display metadata, normalised by [`normaliser_nom`]; it
//! never becomes a path or a key.

use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

pub mod exemples;
mod jpeg_flux;
mod js_af;
mod noms;
mod pdf_flux;
mod rejet;

pub use noms::PDF_DECOMPRESSION_MAX;
pub use rejet::{Nature, Rejet};

use jpeg_flux::JpegFlux;

use noms::{CLES_ACTIVES, NOMS_ACTIFS};

/// Pixel-bomb guard: a JPEG of up to this many megapixels is accepted whatever its size.
pub const LIMITE_MEGAPIXELS: u64 = 50;
/// Above [`LIMITE_MEGAPIXELS`], a JPEG is accepted up to this many megapixels (the largest
/// phone sensors are 200 MP) when its image data is dense enough ([`PIXELS_PAR_OCTET_MAX`]).
pub const PLAFOND_MEGAPIXELS: u64 = 210;
/// Above [`LIMITE_MEGAPIXELS`], at most this many pixels per byte of image data (the bytes
/// from the first scan to the end). Phone photos of 108 and 200 MP carry 3 to 8 pixels per
/// byte; a pixel bomb thousands (a uniform 60 MP image needs 234 KB: 256 pixels per byte).
pub const PIXELS_PAR_OCTET_MAX: u64 = 32;

/// Bytes tolerated after a JPEG's end marker.
pub const TRAILER_JPEG_MAX: usize = 4096;
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
            Format::Jpeg => &["jpg", "jpeg", "jpe", "jfif"],
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

/// Whether `c` is invisible formatting that can make a text read otherwise than it is:
/// bidirectional overrides, embeddings and isolates, marks, zero-width characters, the BOM.
/// Stripped from file names here and from the identity typed at pré-inscription.
pub fn invisible_trompeur(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
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
                && !invisible_trompeur(*c)
                && !matches!(c, '/' | '\\' | ':' | '"' | '<' | '>' | '|' | '*' | '?')
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
///
/// The same checks as [`AnalyseFlux`], on a file already in memory.
///
/// ```
/// use depot_format::{Format, analyser, exemples};
///
/// let examen = analyser("CNI.pdf", &exemples::pdf_minimal(), &[Format::Pdf, Format::Jpeg], 10)?;
/// assert_eq!(examen.format, Format::Pdf);
///
/// let refus = analyser("photo.pdf", &exemples::jpeg_minimal(), &[Format::Pdf, Format::Jpeg], 10)
///     .unwrap_err();
/// assert_eq!(refus.code(), "extension_incoherente");
/// # Ok::<(), depot_format::Rejet>(())
/// ```
pub fn analyser(
    nom_brut: &str,
    contenu: &[u8],
    formats_admis: &[Format],
    taille_max_mo: u32,
) -> Result<Examen, Rejet> {
    let mut a = AnalyseFlux::new(nom_brut, formats_admis, taille_max_mo);
    a.nourrir(contenu)?;
    a.terminer()
}

/// Up to this size a PDF is also parsed whole by lopdf (cross-references, page tree) after
/// the streaming scan, from a copy kept while it arrives; larger ones are checked by the
/// scan alone, so that memory stays bounded whatever the size.
pub const PDF_ANALYSE_COMPLETE_MAX: usize = 4 * 1024 * 1024;
/// Most bytes of JPEG headers kept (metadata segments are not kept).
pub const JPEG_ENTETES_MAX: usize = 1024 * 1024;

/// An accepted file: what the analysis found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Examen {
    /// Its format, from its content.
    pub format: Format,
    /// Its display name, normalised.
    pub nom: String,
    /// Its size in bytes.
    pub taille: u64,
    /// Pages or dimensions.
    pub caracteristiques: Caracteristiques,
}

/// Keeps the last `max` bytes seen.
#[derive(Debug, Default)]
struct Queue {
    octets: Vec<u8>,
    max: usize,
}

impl Queue {
    fn new(max: usize) -> Self {
        Self {
            octets: Vec::with_capacity(max),
            max,
        }
    }

    fn pousser(&mut self, m: &[u8]) {
        if m.len() >= self.max {
            self.octets.clear();
            self.octets.extend_from_slice(&m[m.len() - self.max..]);
            return;
        }
        let exces = (self.octets.len() + m.len()).saturating_sub(self.max);
        self.octets.drain(..exces);
        self.octets.extend_from_slice(m);
    }
}

/// The last KiB of a PDF before any trailing padding (NUL bytes and white space, which
/// some producers and transfers add after `%%EOF`): where `%%EOF` must stand.
#[derive(Debug)]
struct FinPdf {
    avant: Queue,
    rembourrage: Queue,
}

fn rembourrage(b: u8) -> bool {
    matches!(b, 0 | b' ' | b'\t' | b'\r' | b'\n' | 0x0C)
}

impl FinPdf {
    fn new() -> Self {
        Self {
            avant: Queue::new(1024),
            rembourrage: Queue::new(1024),
        }
    }

    fn pousser(&mut self, m: &[u8]) {
        match m.iter().rposition(|b| !rembourrage(*b)) {
            // Still padding (so far): it may yet be followed by content.
            None => self.rembourrage.pousser(m),
            Some(k) => {
                // The padding seen so far was inside the file after all.
                let avant = std::mem::take(&mut self.rembourrage.octets);
                self.avant.pousser(&avant);
                self.avant.pousser(&m[..=k]);
                self.rembourrage.pousser(&m[k + 1..]);
            }
        }
    }
}

/// Checks a file chunk by chunk as it arrives, in bounded memory (about
/// [`PDF_ANALYSE_COMPLETE_MAX`] at most, for a small PDF's copy): the size limit on every
/// chunk, the format from the first bytes, the content as it streams (see
/// [`crate`]'s rules). Rejetals other than the size wait for [`terminer`], so the
/// documented order holds (413, then 415, then 422) whatever the order in which problems
/// appear.
///
/// [`terminer`]: Self::terminer
#[derive(Debug)]
pub struct AnalyseFlux {
    nom: String,
    formats: Vec<Format>,
    taille_max_mo: u32,
    limite: u64,
    taille: u64,
    /// The first KiB (format detection, polyglots).
    debut: Vec<u8>,
    etat: EtatFlux,
    copie_max: usize,
}

#[derive(Debug)]
enum EtatFlux {
    /// Fewer than 8 bytes seen.
    Attente,
    /// Not PDF/JPEG, not admitted, or the wrong extension: known, reported at the end.
    Refuse(Rejet),
    /// Not PDF or JPEG: named at the end from the first KiB.
    Autre,
    Pdf {
        scanner: Box<crate::pdf_flux::ScannerPdf>,
        queue: FinPdf,
        copie: Option<Vec<u8>>,
    },
    Jpeg(Box<JpegFlux>),
}

impl AnalyseFlux {
    /// Starts the analysis of a file named `nom_brut` for a piece accepting `formats_admis`
    /// up to `taille_max_mo` MiB.
    pub fn new(nom_brut: &str, formats_admis: &[Format], taille_max_mo: u32) -> Self {
        Self {
            nom: normaliser_nom(nom_brut),
            formats: formats_admis.to_vec(),
            taille_max_mo,
            limite: u64::from(taille_max_mo) * 1024 * 1024,
            taille: 0,
            debut: Vec::new(),
            etat: EtatFlux::Attente,
            copie_max: PDF_ANALYSE_COMPLETE_MAX,
        }
    }

    /// Sets the size up to which a PDF is also parsed whole by lopdf, from a copy kept while
    /// it arrives (default [`PDF_ANALYSE_COMPLETE_MAX`]; 0: the streaming scan alone, in
    /// bounded memory for every size).
    pub fn analyse_complete_jusqu_a(mut self, octets: usize) -> Self {
        self.copie_max = octets;
        self
    }

    /// The normalised display name.
    pub fn nom(&self) -> &str {
        &self.nom
    }

    /// Bytes received so far.
    pub fn taille(&self) -> u64 {
        self.taille
    }

    /// Whether a refusal is already certain (the rest only matters for its size): the
    /// caller may stop storing the content.
    pub fn refus_certain(&self) -> bool {
        matches!(self.etat, EtatFlux::Refuse(_) | EtatFlux::Autre)
    }

    /// The next chunk. Refuses with `fichier_trop_volumineux` as soon as the total exceeds
    /// the limit (the caller stops reading); every other refusal waits for `terminer`.
    pub fn nourrir(&mut self, morceau: &[u8]) -> Result<(), Rejet> {
        let total = self.taille + morceau.len() as u64;
        if total > self.limite {
            return Err(Rejet::FichierTropVolumineux {
                nom: self.nom.clone(),
                taille_max_mo: self.taille_max_mo,
            });
        }
        self.taille = total;
        let deja = self.debut.len();
        if deja < 1024 {
            let n = morceau.len().min(1024 - deja);
            self.debut.extend_from_slice(&morceau[..n]);
        }
        if matches!(self.etat, EtatFlux::Attente) {
            if self.debut.len() < 8 {
                return Ok(());
            }
            // Everything before this chunk is in `debut` (fewer than 8 bytes).
            let avant = self.debut[..deja].to_vec();
            self.decider();
            self.lire(&avant);
        }
        self.lire(morceau);
        Ok(())
    }

    /// Chooses the format from the first bytes.
    fn decider(&mut self) {
        let admis = formats_en_mots(&self.formats);
        let nom = self.nom.clone();
        self.etat = match sniffer(&self.debut) {
            None => EtatFlux::Autre,
            Some(format) if !self.formats.contains(&format) => {
                EtatFlux::Refuse(Rejet::FormatRefuse {
                    nom,
                    detecte: Some(match format {
                        Format::Pdf => "un PDF",
                        Format::Jpeg => "une image JPEG",
                    }),
                    admis,
                })
            }
            Some(format) => {
                let extension = nom
                    .rsplit_once('.')
                    .map(|(_, e)| e.to_ascii_lowercase())
                    .unwrap_or_default();
                if !format.extensions().contains(&extension.as_str()) {
                    EtatFlux::Refuse(Rejet::ExtensionIncoherente {
                        nom,
                        format: format.libelle(),
                        attendues: match format {
                            Format::Pdf => "« .pdf »",
                            Format::Jpeg => "« .jpg » ou « .jpeg »",
                        },
                    })
                } else if format == Format::Pdf {
                    EtatFlux::Pdf {
                        scanner: Box::default(),
                        queue: FinPdf::new(),
                        copie: (self.copie_max > 0).then(Vec::new),
                    }
                } else {
                    EtatFlux::Jpeg(Box::new(JpegFlux::new()))
                }
            }
        };
    }

    fn lire(&mut self, m: &[u8]) {
        let copie_max = self.copie_max;
        match &mut self.etat {
            EtatFlux::Pdf {
                scanner,
                queue,
                copie,
            } => {
                scanner.lire(m);
                queue.pousser(m);
                if let Some(c) = copie {
                    if c.len() + m.len() <= copie_max {
                        c.extend_from_slice(m);
                    } else {
                        *copie = None;
                    }
                }
            }
            EtatFlux::Jpeg(j) => j.lire(m),
            _ => {}
        }
    }

    /// The verdict once the whole file has been read.
    pub fn terminer(mut self) -> Result<Examen, Rejet> {
        if matches!(self.etat, EtatFlux::Attente) {
            let tout = self.debut.clone();
            self.decider();
            self.lire(&tout);
        }
        let nom = self.nom;
        let caracteristiques = match self.etat {
            EtatFlux::Attente | EtatFlux::Autre if self.taille == 0 => {
                return Err(Rejet::FichierVide { nom });
            }
            EtatFlux::Attente | EtatFlux::Autre => {
                return Err(Rejet::FormatRefuse {
                    nom,
                    detecte: detecter_autre(&self.debut),
                    admis: formats_en_mots(&self.formats),
                });
            }
            EtatFlux::Refuse(r) => return Err(r),
            EtatFlux::Pdf {
                scanner,
                queue,
                copie,
            } => verdict_pdf(&nom, *scanner, &queue.avant.octets, copie.as_deref())?,
            EtatFlux::Jpeg(j) => j.terminer(&nom, &self.debut)?,
        };
        Ok(Examen {
            format: match caracteristiques {
                Caracteristiques::Pdf { .. } => Format::Pdf,
                Caracteristiques::Jpeg { .. } => Format::Jpeg,
            },
            nom,
            taille: self.taille,
            caracteristiques,
        })
    }
}

fn verdict_pdf(
    nom: &str,
    scanner: crate::pdf_flux::ScannerPdf,
    queue: &[u8],
    copie: Option<&[u8]>,
) -> Result<Caracteristiques, Rejet> {
    let illisible = || Rejet::PdfIllisible {
        nom: nom.to_owned(),
    };
    // Truncation: a complete PDF ends with %%EOF, followed at most by a little data or by
    // padding (NUL bytes, white space) of any length.
    if !contient(queue, b"%%EOF") {
        return Err(illisible());
    }
    let c = scanner.terminer();
    // Names and keys are never encrypted: what the scan found is active, encrypted or not.
    if let Some(element) = c.actif {
        return Err(Rejet::PdfContenuActif {
            nom: nom.to_owned(),
            element,
        });
    }
    if c.js_indirect && copie.is_none() {
        // Code in another object: only the whole parse resolves it to judge it.
        return Err(Rejet::PdfContenuActif {
            nom: nom.to_owned(),
            element: "/JavaScript".to_owned(),
        });
    }
    if c.chiffre {
        // Strings and stream data (object streams among them) are encrypted, so the scan saw
        // only part of the file. A document that opens without a password (an owner
        // password only: "no modification" permissions) is decrypted and scanned whole by
        // the full parse; without one (a large file), or if it needs a password, refused.
        return match copie {
            Some(tout) => analyser_pdf(nom, tout),
            None => Err(Rejet::PdfChiffre {
                nom: nom.to_owned(),
            }),
        };
    }
    if c.illisible.is_some() || c.pages == 0 {
        return Err(illisible());
    }
    match copie {
        Some(tout) => analyser_pdf(nom, tout),
        None => Ok(Caracteristiques::Pdf {
            pages: u32::try_from(c.pages).unwrap_or(u32::MAX),
        }),
    }
}

/// The whole-file parse by lopdf, after the streaming scan (which checked the `%%EOF`).
fn analyser_pdf(nom: &str, contenu: &[u8]) -> Result<Caracteristiques, Rejet> {
    let illisible = || Rejet::PdfIllisible {
        nom: nom.to_owned(),
    };
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
            return Err(Rejet::PdfChiffre {
                nom: nom.to_owned(),
            });
        }
        Ok(Err(_)) => return Err(illisible()),
        Ok(Ok(doc)) => doc,
    };
    // Encrypted and not decrypted with the empty user password: it needs a password to open.
    if doc.is_encrypted() && !doc.was_encrypted() {
        return Err(Rejet::PdfChiffre {
            nom: nom.to_owned(),
        });
    }
    // Decrypted, its object streams were read by this parse only (the scan saw them
    // encrypted): every object they hold must have loaded, or what failed could hide
    // anything.
    if doc.was_encrypted()
        && doc.reference_table.entries.iter().any(|(id, e)| {
            matches!(e, lopdf::xref::XrefEntry::Compressed { .. })
                && !doc.objects.keys().any(|(n, _)| n == id)
        })
    {
        return Err(illisible());
    }
    if let Some(element) = chercher_contenu_actif(&doc) {
        return Err(Rejet::PdfContenuActif {
            nom: nom.to_owned(),
            element,
        });
    }
    let pages = compter_pages(&doc);
    if pages == 0 {
        return Err(illisible());
    }
    Ok(Caracteristiques::Pdf {
        pages: u32::try_from(pages).unwrap_or(u32::MAX),
    })
}

/// Pages a reader reaches from the catalogue: the trailer's `/Root`, its `/Pages`, then
/// `/Kids` down to the leaves, counting only the leaves that resolve to a dictionary.
///
/// lopdf's own count keeps a kid that does not load as a blank page (as MuPDF renders it),
/// so a page tree lost in a broken object stream still counted its pages; here a kid that
/// does not resolve counts for nothing, and a document with no page that resolves is
/// unreadable (issue 14). No recursion (a node stack), each node visited once (a loop of
/// `/Kids` ends), and at most as many steps as the document has objects.
fn compter_pages(doc: &lopdf::Document) -> usize {
    use lopdf::Object;
    type Noeud<'a> = (Option<lopdf::ObjectId>, &'a lopdf::Dictionary);
    fn resoudre<'a>(doc: &'a lopdf::Document, o: &'a Object) -> Option<Noeud<'a>> {
        match o {
            Object::Reference(id) => match doc.objects.get(id) {
                Some(Object::Dictionary(d)) => Some((Some(*id), d)),
                _ => None,
            },
            Object::Dictionary(d) => Some((None, d)),
            _ => None,
        }
    }
    let Some((_, catalogue)) = doc.trailer.get(b"Root").ok().and_then(|o| resoudre(doc, o)) else {
        return 0;
    };
    let Some(racine) = catalogue.get(b"Pages").ok().and_then(|o| resoudre(doc, o)) else {
        return 0;
    };
    let mut vus = std::collections::HashSet::new();
    let mut pile = vec![racine];
    let mut pas = doc.objects.len().saturating_add(1);
    let mut pages = 0usize;
    while let Some((id, noeud)) = pile.pop() {
        if pas == 0 {
            break;
        }
        pas -= 1;
        if id.is_some_and(|id| !vus.insert(id)) {
            continue;
        }
        let kids = match noeud.get(b"Kids") {
            Ok(Object::Array(a)) => Some(a),
            Ok(Object::Reference(r)) => match doc.objects.get(r) {
                Some(Object::Array(a)) => Some(a),
                _ => None,
            },
            _ => None,
        };
        match (noeud.get(b"Type"), kids) {
            (Ok(Object::Name(t)), _) if t == b"Page" => pages += 1,
            (_, Some(kids)) => pile.extend(kids.iter().filter_map(|k| resoudre(doc, k))),
            // A leaf without `/Type`: readers take it for a page.
            (Err(_), None) => pages += 1,
            _ => {}
        }
    }
    pages
}

/// Walks every parsed object (object streams included) without recursion, so a deeply
/// nested document cannot exhaust the stack. A JavaScript action whose code is one allowed
/// `AF…` formatting call ([`js_af`]) is not active content.
fn chercher_contenu_actif(doc: &lopdf::Document) -> Option<String> {
    use lopdf::Object;
    fn nommer(n: &[u8]) -> String {
        format!("/{}", String::from_utf8_lossy(n))
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
        let javascript =
            dict.has(b"JS") || matches!(dict.get(b"S"), Ok(Object::Name(n)) if n == b"JavaScript");
        let admis = javascript && code_af_admis(doc, dict);
        if javascript && !admis {
            return Some("/JavaScript".to_owned());
        }
        for (k, v) in dict.iter() {
            if admis && (k == b"JS" || k == b"S") {
                continue;
            }
            if CLES_ACTIVES.contains(&k.as_slice()) {
                return Some(nommer(k));
            }
            pile.push(v);
        }
    }
    None
}

/// Whether a JavaScript action's `/JS` (a string, or a stream it refers to) is one allowed
/// `AF…` call.
fn code_af_admis(doc: &lopdf::Document, action: &lopdf::Dictionary) -> bool {
    use lopdf::Object;
    let octets = match action.get(b"JS") {
        Ok(Object::String(s, _)) => s.clone(),
        Ok(Object::Reference(id)) => match doc.get_object(*id) {
            Ok(Object::String(s, _)) => s.clone(),
            Ok(Object::Stream(flux)) => {
                match catch_unwind(AssertUnwindSafe(|| flux.decompressed_content())) {
                    Ok(Ok(c)) => c,
                    // Not compressed, or not decodable: its raw bytes.
                    _ => flux.content.clone(),
                }
            }
            _ => return false,
        },
        _ => return false,
    };
    octets.len() <= 4 * js_af::CODE_AF_MAX && js_af::appel_af_admis(&js_af::texte_pdf(&octets))
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
        let mut r = AnalyseFlux::new("gros.pdf", &[Format::Pdf], 1);
        r.nourrir(&vec![0u8; 1024 * 1024]).unwrap();
        assert_eq!(r.taille(), 1024 * 1024);
        let e = r.nourrir(b"x").unwrap_err();
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
