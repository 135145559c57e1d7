//! A JPEG read as it arrives: where its image ends is decided by parsing, not by looking
//! for the last `FF D9` of the file.
//!
//! The walker reads the header segments (keeping those needed to decode the headers, and
//! the two metadata segments that say what may follow the image: the MPF index of a
//! multi-picture file and the XMP that declares a motion photo's video), then the
//! entropy-coded data of every scan up to the first image's end marker (EOI). What follows
//! that marker is the *trailer*, and only three things may be there:
//!
//! - the other images an MPF index declares (MPO stereo pairs, the gain map of an Ultra HDR
//!   photo), each at its declared offset and size, each itself a JPEG walked the same way
//!   whose EOI ends exactly its declared size;
//! - after them, the video a motion photo's XMP declares (`GCamera:MicroVideoOffset`, or a
//!   `Container:Item` of semantic `MotionPhoto` and its `Item:Length`): exactly that many
//!   bytes, an MP4 whose top-level boxes, `ftyp` first, chain to its end;
//! - otherwise at most [`TRAILER_JPEG_MAX`] bytes of padding carrying no other format's
//!   signature (what cameras leave).
//!
//! So a ZIP appended to a photo is refused even when it ends in `FF D9` (a ZIP comment can),
//! and an image that declares no video cannot carry one.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::{
    Caracteristiques, JPEG_ENTETES_MAX, LIMITE_MEGAPIXELS, PIXELS_PAR_OCTET_MAX,
    PLAFOND_MEGAPIXELS, Rejet, SIGNATURES_CACHEES, TRAILER_JPEG_MAX, contient,
};

/// Stray bytes tolerated between a JPEG's header segments, in all. Some editors (Photoshop
/// among them) leave a few; libjpeg skips them with a warning and every viewer opens the
/// image. More is no editor's slip, and could carry something: refused.
pub(crate) const OCTETS_PARASITES_MAX: usize = 64;
/// At most this many images in an MPF index (stereo pairs, gain maps: 2 or 3).
const MPF_IMAGES_MAX: usize = 16;
const PREFIXE_XMP: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const PREFIXE_MPF: &[u8] = b"MPF\0";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Marche {
    /// The two bytes of SOI still to skip.
    Soi(u8),
    /// Expecting 0xFF.
    Marqueur,
    /// 0xFF seen: expecting the marker code.
    Code,
    /// Reading a segment's length: marker, bytes read, first byte.
    Longueur(u8, u8, u8),
    /// In a segment: marker, bytes left, whether it is kept for the headers' decoding.
    Segment(u8, usize, bool),
    /// In entropy-coded data.
    Scan,
    /// In entropy-coded data, just after a 0xFF.
    ScanFF,
    /// After the image's EOI: the trailer.
    Fin,
}

/// A metadata segment being read: its marker, the bytes so far, the absolute offset of its
/// payload, whether it is still wanted (decided once its prefix is known).
#[derive(Debug)]
struct Meta {
    code: u8,
    octets: Vec<u8>,
    debut: u64,
}

/// A JPEG read as it arrives.
#[derive(Debug)]
pub(crate) struct JpegFlux {
    entetes: Vec<u8>,
    marche: Marche,
    invalide: bool,
    /// Stray bytes met between segments (see [`OCTETS_PARASITES_MAX`]).
    parasites: usize,
    /// Bytes read so far.
    lus: u64,
    /// Offset of the first scan's data, once met.
    avant_scan: Option<u64>,
    /// Offset just after the image's EOI, once met.
    fin_image: Option<u64>,
    /// An image inside another's trailer reads no metadata and plans no trailer.
    enfant: bool,
    meta: Option<Meta>,
    /// The MPF index's payload (after `MPF\0`) and the absolute offset its offsets count
    /// from.
    mpf: Option<(Vec<u8>, u64)>,
    xmp: Option<Vec<u8>>,
    traine: Option<Box<Traine>>,
}

/// What follows the image, as planned at its EOI.
#[derive(Debug)]
struct Traine {
    /// The other images the MPF index declares: absolute [start, end), in order.
    images: VecDeque<(u64, u64)>,
    /// The walker of the image being read.
    image: Option<JpegFlux>,
    /// Bytes that belong to no declared image (kept up to the padding limit).
    libres: Vec<u8>,
    libres_total: u64,
    /// The declared video's length, and the walk of its boxes.
    video: Option<(u64, Mp4)>,
}

/// The top-level boxes of an MP4, walked as the bytes arrive.
#[derive(Debug, Default)]
struct Mp4 {
    /// Bytes of the current box header read so far (8, or 16 with a 64-bit size).
    entete: Vec<u8>,
    /// Bytes left in the current box (`None`: a box of size 0 runs to the end).
    reste: Option<u64>,
    boites: u32,
    invalide: bool,
}

impl Mp4 {
    fn lire(&mut self, mut m: &[u8]) {
        while !m.is_empty() && !self.invalide {
            match self.reste {
                None if self.boites > 0 && self.entete.is_empty() => return, // size 0: to the end
                Some(r) if r > 0 => {
                    let n = r.min(m.len() as u64);
                    self.reste = Some(r - n);
                    m = &m[n as usize..];
                }
                _ => {
                    let voulu = if self.entete.len() >= 8
                        && u32::from_be_bytes([
                            self.entete[0],
                            self.entete[1],
                            self.entete[2],
                            self.entete[3],
                        ]) == 1
                    {
                        16
                    } else {
                        8
                    };
                    let n = (voulu - self.entete.len()).min(m.len());
                    self.entete.extend_from_slice(&m[..n]);
                    m = &m[n..];
                    if self.entete.len() == 8 && voulu == 8 {
                        let taille = u32::from_be_bytes([
                            self.entete[0],
                            self.entete[1],
                            self.entete[2],
                            self.entete[3],
                        ]);
                        if taille == 1 {
                            continue; // a 64-bit size follows
                        }
                        self.ouvrir(u64::from(taille), 8);
                    } else if self.entete.len() == 16 {
                        let mut t = [0u8; 8];
                        t.copy_from_slice(&self.entete[8..16]);
                        self.ouvrir(u64::from_be_bytes(t), 16);
                    }
                }
            }
        }
    }

    fn ouvrir(&mut self, taille: u64, entete: u64) {
        let genre = &self.entete[4..8];
        let lisible = genre
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b' ');
        if !lisible || (self.boites == 0 && genre != b"ftyp") {
            self.invalide = true;
            return;
        }
        self.boites += 1;
        self.entete.clear();
        self.reste = match taille {
            0 => None,
            t if t < entete => {
                self.invalide = true;
                Some(0)
            }
            t => Some(t - entete),
        };
    }

    /// Whether the boxes ended exactly with the data.
    fn complet(&self) -> bool {
        !self.invalide
            && self.boites > 0
            && self.entete.is_empty()
            && self.reste.is_none_or(|r| r == 0)
    }
}

impl JpegFlux {
    pub(crate) fn new() -> Self {
        Self {
            entetes: vec![0xFF, 0xD8],
            marche: Marche::Soi(2),
            invalide: false,
            parasites: 0,
            lus: 0,
            avant_scan: None,
            fin_image: None,
            enfant: false,
            meta: None,
            mpf: None,
            xmp: None,
            traine: None,
        }
    }

    fn enfant() -> Self {
        Self {
            enfant: true,
            ..Self::new()
        }
    }

    fn garder(&mut self, b: &[u8]) {
        if self.entetes.len() + b.len() > JPEG_ENTETES_MAX {
            self.invalide = true;
        } else {
            self.entetes.extend_from_slice(b);
        }
    }

    pub(crate) fn lire(&mut self, m: &[u8]) {
        let base = self.lus;
        self.lus += m.len() as u64;
        let mut i = 0;
        while i < m.len() && !self.invalide {
            let b = m[i];
            match self.marche {
                Marche::Fin => {
                    self.lire_traine(&m[i..], base + i as u64);
                    return;
                }
                Marche::Scan => match m[i..].iter().position(|&x| x == 0xFF) {
                    Some(j) => {
                        i += j + 1;
                        self.marche = Marche::ScanFF;
                    }
                    None => return,
                },
                Marche::ScanFF => {
                    i += 1;
                    match b {
                        // Stuffed zero, restart marker: still data. Fill bytes: still 0xFF.
                        0x00 | 0xD0..=0xD7 => self.marche = Marche::Scan,
                        0xFF => {}
                        0xD9 => self.fin(base + i as u64),
                        // A segment between scans (progressive JPEGs: tables, the next SOS).
                        code => self.marche = Marche::Longueur(code, 0, 0),
                    }
                }
                Marche::Soi(n) => {
                    self.marche = if n > 1 {
                        Marche::Soi(n - 1)
                    } else {
                        Marche::Marqueur
                    };
                    i += 1;
                }
                Marche::Marqueur => {
                    i += 1;
                    if b == 0xFF {
                        self.marche = Marche::Code;
                    } else {
                        // A stray byte before the next marker, as libjpeg tolerates.
                        self.parasites += 1;
                        self.invalide |= self.parasites > OCTETS_PARASITES_MAX;
                    }
                }
                Marche::Code => {
                    i += 1;
                    match b {
                        // Fill bytes.
                        0xFF => {}
                        // Standalone markers.
                        0x01 | 0xD0..=0xD7 => self.marche = Marche::Marqueur,
                        // The end, after a segment that followed a scan.
                        0xD9 if self.avant_scan.is_some() => self.fin(base + i as u64),
                        // SOI again, EOI before any scan, or a stuffed zero: not headers.
                        0xD8 | 0xD9 | 0x00 => self.invalide = true,
                        code => self.marche = Marche::Longueur(code, 0, 0),
                    }
                }
                Marche::Longueur(code, 0, _) => {
                    self.marche = Marche::Longueur(code, 1, b);
                    i += 1;
                }
                Marche::Longueur(code, _, haut) => {
                    i += 1;
                    let longueur = usize::from(u16::from_be_bytes([haut, b]));
                    if longueur < 2 {
                        self.invalide = true;
                        continue;
                    }
                    let avant = self.avant_scan.is_none();
                    // Metadata (APPn, COM) is not needed to read the headers, nor is anything
                    // after the first scan's header.
                    let garde = avant && !matches!(code, 0xE0..=0xEF | 0xFE);
                    if garde {
                        self.garder(&[0xFF, code, haut, b]);
                    }
                    let voulu = match code {
                        0xE1 => self.xmp.is_none(),
                        0xE2 => self.mpf.is_none(),
                        _ => false,
                    };
                    if avant && !self.enfant && voulu {
                        self.meta = Some(Meta {
                            code,
                            octets: Vec::new(),
                            debut: base + i as u64,
                        });
                    }
                    self.marche = if longueur == 2 {
                        self.apres_segment(code, base + i as u64)
                    } else {
                        Marche::Segment(code, longueur - 2, garde)
                    };
                }
                Marche::Segment(code, reste, garde) => {
                    let n = reste.min(m.len() - i);
                    let morceau = &m[i..i + n];
                    if garde {
                        self.garder(morceau);
                    }
                    self.lire_meta(morceau);
                    i += n;
                    self.marche = if n == reste {
                        self.apres_segment(code, base + i as u64)
                    } else {
                        Marche::Segment(code, reste - n, garde)
                    };
                }
            }
        }
    }

    /// Collects a wanted metadata segment, giving up as soon as its prefix says it is not
    /// the XMP packet or the MPF index.
    fn lire_meta(&mut self, morceau: &[u8]) {
        let Some(meta) = self.meta.as_mut() else {
            return;
        };
        meta.octets.extend_from_slice(morceau);
        let prefixe = if meta.code == 0xE1 {
            PREFIXE_XMP
        } else {
            PREFIXE_MPF
        };
        let n = prefixe.len().min(meta.octets.len());
        if meta.octets[..n] != prefixe[..n] {
            self.meta = None;
        }
    }

    fn apres_segment(&mut self, code: u8, position: u64) -> Marche {
        if let Some(meta) = self.meta.take() {
            match meta.code {
                0xE1 if meta.octets.starts_with(PREFIXE_XMP) => {
                    self.xmp = Some(meta.octets[PREFIXE_XMP.len()..].to_vec());
                }
                0xE2 if meta.octets.starts_with(PREFIXE_MPF) => {
                    let origine = meta.debut + PREFIXE_MPF.len() as u64;
                    self.mpf = Some((meta.octets[PREFIXE_MPF.len()..].to_vec(), origine));
                }
                _ => {}
            }
        }
        if code == 0xDA {
            self.avant_scan.get_or_insert(position);
            Marche::Scan
        } else {
            Marche::Marqueur
        }
    }

    /// The image's EOI ends at `position`: plans the trailer.
    fn fin(&mut self, position: u64) {
        self.marche = Marche::Fin;
        self.fin_image = Some(position);
        if self.enfant {
            return;
        }
        let mut images: Vec<(u64, u64)> = self
            .mpf
            .as_ref()
            .and_then(|(p, origine)| images_mpf(p, *origine))
            .unwrap_or_default();
        images.sort_unstable();
        // Declared images must follow the first one, in order, without overlapping.
        let mut apres = position;
        for (debut, fin) in &images {
            if *debut < apres || fin <= debut {
                self.invalide = true;
                return;
            }
            apres = *fin;
        }
        let video = self
            .xmp
            .as_deref()
            .and_then(video_declaree)
            .map(|l| (l, Mp4::default()));
        self.traine = Some(Box::new(Traine {
            images: images.into(),
            image: None,
            libres: Vec::new(),
            libres_total: 0,
            video,
        }));
    }

    /// Bytes after the EOI, starting at absolute offset `position`.
    fn lire_traine(&mut self, mut m: &[u8], mut position: u64) {
        let Some(t) = self.traine.as_mut() else {
            // An image inside a trailer: nothing may follow its EOI within its region.
            self.invalide = true;
            return;
        };
        while !m.is_empty() {
            let n = match t.images.front().copied() {
                Some((debut, _)) if position < debut => {
                    // A gap before the next declared image: padding at most.
                    let n = (debut - position).min(m.len() as u64) as usize;
                    t.libre(&m[..n]);
                    n
                }
                Some((_, fin)) => {
                    let n = (fin - position).min(m.len() as u64) as usize;
                    let image = t.image.get_or_insert_with(JpegFlux::enfant);
                    image.lire(&m[..n]);
                    if position + n as u64 == fin {
                        t.images.pop_front();
                        let image = t.image.take();
                        if !image.is_some_and(|i| i.complete()) {
                            self.invalide = true;
                            return;
                        }
                    }
                    n
                }
                None => {
                    match t.video.as_mut() {
                        Some((_, mp4)) => {
                            mp4.lire(m);
                            t.libres_total += m.len() as u64;
                        }
                        None => t.libre(m),
                    }
                    m.len()
                }
            };
            if n == 0 {
                // Cannot happen (regions are consumed up to their end, then removed); a
                // walk that stops advancing would loop, so it refuses instead.
                self.invalide = true;
                return;
            }
            m = &m[n..];
            position += n as u64;
        }
        self.invalide |= t.libres_total > TRAILER_JPEG_MAX as u64 && t.video.is_none();
    }

    /// An image of a trailer that ended exactly at its EOI, with headers that decode.
    fn complete(self) -> bool {
        let (Some(scan), Some(fin)) = (self.avant_scan, self.fin_image) else {
            return false;
        };
        if self.invalide || self.lus != fin {
            return false;
        }
        let mut entetes = self.entetes;
        entetes.extend_from_slice(&[0xFF, 0xD9]);
        dimensions_jpeg("", &entetes, fin - scan).is_ok()
    }

    pub(crate) fn terminer(mut self, nom: &str, debut: &[u8]) -> Result<Caracteristiques, Rejet> {
        let invalide = || Rejet::JpegInvalide {
            nom: nom.to_owned(),
        };
        // A PDF reader looks for %PDF- in the first KiB: such a JPEG would also open as a PDF.
        if contient(debut, b"%PDF-") || self.invalide || self.marche != Marche::Fin {
            return Err(invalide());
        }
        let (Some(scan), Some(fin), Some(t)) = (self.avant_scan, self.fin_image, &self.traine)
        else {
            return Err(invalide());
        };
        if !t.images.is_empty() || t.image.is_some() {
            return Err(invalide());
        }
        let traine_ok = match &t.video {
            Some((longueur, mp4)) => t.libres_total == *longueur && mp4.complet(),
            None => {
                t.libres_total <= TRAILER_JPEG_MAX as u64
                    && !SIGNATURES_CACHEES.iter().any(|s| contient(&t.libres, s))
            }
        };
        if !traine_ok {
            return Err(invalide());
        }
        self.entetes.extend_from_slice(&[0xFF, 0xD9]);
        dimensions_jpeg(nom, &self.entetes, fin - scan)
    }
}

impl Traine {
    fn libre(&mut self, m: &[u8]) {
        self.libres_total += m.len() as u64;
        let place = (TRAILER_JPEG_MAX + 1).saturating_sub(self.libres.len());
        self.libres.extend_from_slice(&m[..m.len().min(place)]);
    }
}

/// The other images an MPF index declares, as absolute [start, end): `p` is the payload
/// after `MPF\0` (a TIFF header and one IFD), whose offsets count from `origine`. `None`
/// when it cannot be read (the file is then judged without it).
fn images_mpf(p: &[u8], origine: u64) -> Option<Vec<(u64, u64)>> {
    let gros = match p.get(..4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let u16_a = |o: usize| -> Option<u16> {
        let b = [*p.get(o)?, *p.get(o + 1)?];
        Some(if gros {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_a = |o: usize| -> Option<u32> {
        let b = [*p.get(o)?, *p.get(o + 1)?, *p.get(o + 2)?, *p.get(o + 3)?];
        Some(if gros {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let ifd = u32_a(4)? as usize;
    let n = usize::from(u16_a(ifd)?);
    let (mut nombre, mut entrees) = (None, None);
    for k in 0..n.min(64) {
        let e = ifd + 2 + 12 * k;
        match u16_a(e)? {
            0xB001 => nombre = Some(u32_a(e + 8)? as usize),
            0xB002 => entrees = Some((u32_a(e + 4)? as usize, u32_a(e + 8)? as usize)),
            _ => {}
        }
    }
    let (octets, decalage) = entrees?;
    let nombre = nombre.unwrap_or(octets / 16);
    if nombre == 0 || nombre > MPF_IMAGES_MAX || octets < 16 * nombre {
        return None;
    }
    let mut out = Vec::new();
    for k in 0..nombre {
        let e = decalage + 16 * k;
        let (taille, offset) = (u64::from(u32_a(e + 4)?), u64::from(u32_a(e + 8)?));
        // Offset 0 is the first image itself.
        if offset != 0 {
            out.push((origine + offset, origine + offset + taille));
        }
    }
    Some(out)
}

/// The length of the video a motion photo's XMP declares: Google's
/// `GCamera:MicroVideoOffset` (bytes from the end of the file), or the `Item:Length` of the
/// `Container:Item` whose `Item:Semantic` is `MotionPhoto`.
fn video_declaree(xmp: &[u8]) -> Option<u64> {
    let texte = std::str::from_utf8(xmp).ok()?;
    if let Some(v) = valeur(texte, "MicroVideoOffset") {
        return Some(v).filter(|v| *v > 0);
    }
    let mut reste = texte;
    while let Some(k) = reste.find(":Item ") {
        let element = &reste[k..];
        let element = &element[..element.find('>').unwrap_or(element.len())];
        if element.contains("Semantic=\"MotionPhoto\"") {
            return valeur(element, "Length").filter(|v| *v > 0);
        }
        reste = &reste[k + 1..];
    }
    None
}

/// The number after `nom="` or `nom>` (attribute or element form) in `texte`.
fn valeur(texte: &str, nom: &str) -> Option<u64> {
    let apres = &texte[texte.find(&format!(":{nom}"))? + nom.len() + 1..];
    let apres = apres
        .strip_prefix("=\"")
        .or_else(|| apres.strip_prefix('>'))?;
    let chiffres = &apres[..apres.find(|c: char| !c.is_ascii_digit())?];
    chiffres.parse().ok()
}

/// The most pixels a JPEG whose image data is `octets_image` bytes long may have.
fn pixels_admis(octets_image: u64) -> u64 {
    octets_image.saturating_mul(PIXELS_PAR_OCTET_MAX).clamp(
        LIMITE_MEGAPIXELS * 1_000_000,
        PLAFOND_MEGAPIXELS * 1_000_000,
    )
}

/// Dimensions from the header segments (SOI … SOS, EOI), with the pixel limit for image
/// data of `octets_image` bytes.
pub(crate) fn dimensions_jpeg(
    nom: &str,
    contenu: &[u8],
    octets_image: u64,
) -> Result<Caracteristiques, Rejet> {
    let invalide = || Rejet::JpegInvalide {
        nom: nom.to_owned(),
    };
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
    let admis = pixels_admis(octets_image);
    if pixels > admis {
        return Err(Rejet::ImageTropGrande {
            nom: nom.to_owned(),
            megapixels: pixels.div_ceil(1_000_000),
            limite: admis / 1_000_000,
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
    fn video_declaree_par_le_xmp() {
        assert_eq!(
            video_declaree(br#"<x GCamera:MicroVideo="1" GCamera:MicroVideoOffset="12345"/>"#),
            Some(12345)
        );
        assert_eq!(
            video_declaree(b"<GCamera:MicroVideoOffset>77</GCamera:MicroVideoOffset>"),
            Some(77)
        );
        let conteneur = br#"<Container:Directory><rdf:Seq>
            <rdf:li><Container:Item Item:Mime="image/jpeg" Item:Semantic="Primary" Item:Length="0"/></rdf:li>
            <rdf:li><Container:Item Item:Mime="video/mp4" Item:Semantic="MotionPhoto" Item:Length="4096"/></rdf:li>
            </rdf:Seq></Container:Directory>"#;
        assert_eq!(video_declaree(conteneur), Some(4096));
        assert_eq!(video_declaree(b"<x GCamera:MicroVideoOffset=\"0\"/>"), None);
        assert_eq!(video_declaree(b"<x:xmpmeta/>"), None);
    }
}
