//! A PDF scanner fed chunk by chunk, in bounded memory, so that an upload is checked while
//! it streams to storage (a 50 MB scan is never held whole in memory).
//!
//! It reads every object in file order, as a PDF reader rebuilding a damaged file would,
//! and:
//!
//! - notes active content — the keys and names of [`crate`]'s rule 5 — in every
//!   dictionary, at any depth, hex-escaped names decoded;
//! - decompresses object streams (`/Type /ObjStm`, FlateDecode or none) on the fly and scans
//!   their objects the same way; other streams' data (images, fonts, page contents) is
//!   skipped up to its `endstream`, whatever its `/Length` says — a lying length can only
//!   make the scanner read *more* as objects;
//! - reads the cross-reference tables and streams (PNG predictors included) and refuses a
//!   file whose cross-reference points inside a stream's data: an object a reader reaches
//!   there would be one the scan skipped. Only the sections a reader follows count — the
//!   *active chain*: the section the last `startxref` names, then each one's `/Prev` (and a
//!   hybrid file's `/XRefStm`). A section an earlier save left behind, which no reader
//!   follows, may hold stale entries (macOS Preview's append mode, PDFsam, signed files
//!   updated incrementally). When `startxref` names no section the file is judged on all of
//!   them, as before;
//! - notes `/Encrypt`, counts `/Type /Page` dictionaries, and refuses a file cut inside a
//!   string, a dictionary or a stream.
//!
//! Memory: the current token (names and keywords are capped at [`JETON_MAX`] bytes), the
//! container stack (at most [`PROFONDEUR_MAX`]), one decompression window, and 16 bytes per
//! stream and 8 per cross-reference entry (both capped).

use flate2::{Decompress, FlushDecompress, Status};

use crate::js_af::{CODE_AF_MAX, appel_af_admis, texte_pdf};
use crate::noms::{CLES_ACTIVES, NOMS_ACTIFS, PDF_DECOMPRESSION_MAX};

/// The bytes of a literal string from its raw text (between the parentheses): escapes
/// decoded (`\n`, `\(`, `\ddd`…, a backslash before a line break continues the line).
fn octets_chaine(brut: &[u8]) -> Vec<u8> {
    let mut o = Vec::with_capacity(brut.len());
    let mut i = 0;
    while i < brut.len() {
        let b = brut[i];
        i += 1;
        if b != b'\\' {
            o.push(b);
            continue;
        }
        let Some(&e) = brut.get(i) else { break };
        i += 1;
        match e {
            b'n' => o.push(b'\n'),
            b'r' => o.push(b'\r'),
            b't' => o.push(b'\t'),
            b'b' => o.push(0x08),
            b'f' => o.push(0x0C),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match brut.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                o.push((v & 0xFF) as u8);
            }
            b'\r' => {
                if brut.get(i) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\n' => {}
            autre => o.push(autre),
        }
    }
    o
}

/// The bytes of a hex string from its digits (white space ignored, an odd last digit
/// followed by 0).
fn octets_hex(brut: &[u8]) -> Vec<u8> {
    let chiffres: Vec<u8> = brut
        .iter()
        .filter_map(|b| (*b as char).to_digit(16).map(|d| d as u8))
        .collect();
    chiffres
        .chunks(2)
        .map(|p| p[0] << 4 | p.get(1).copied().unwrap_or(0))
        .collect()
}

/// Longest name or keyword kept; longer ones are still read, never matched.
pub(crate) const JETON_MAX: usize = 256;
/// Deepest nesting of dictionaries and arrays.
pub(crate) const PROFONDEUR_MAX: usize = 256;
/// Most streams (and most cross-reference entries) in one file.
pub(crate) const FLUX_MAX: usize = 1_000_000;

fn blanc(b: u8) -> bool {
    matches!(b, 0 | b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

fn delimiteur(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn nombre(j: &[u8]) -> Option<u64> {
    if j.is_empty() || j.len() > 19 || !j.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(j).ok()?.parse().ok()
}

/// Decodes `#xx` escapes of a name (invalid escapes are kept as typed).
fn decoder_nom(brut: &[u8]) -> Vec<u8> {
    let mut o = Vec::with_capacity(brut.len());
    let mut i = 0;
    while i < brut.len() {
        if brut[i] == b'#' && i + 2 < brut.len() {
            let h = std::str::from_utf8(&brut[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(b) = h {
                o.push(b);
                i += 3;
                continue;
            }
        }
        o.push(brut[i]);
        i += 1;
    }
    o
}

/// Lexer state between two bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Lex {
    Normal,
    Commentaire,
    /// A literal string: nesting depth, and whether the previous byte was a backslash.
    Chaine(u32, bool),
    /// `<` seen: a dictionary (`<<`) or a hex string.
    Chevron,
    Hex,
    /// `>` seen inside a dictionary context: expecting the second `>`.
    FinChevron,
    Nom,
    Mot,
}

/// What the scan has found so far about one dictionary being read at depth 1 (a top-level
/// object's dictionary, possibly a stream's).
#[derive(Debug, Default, Clone)]
struct InfoDict {
    type_: Option<Vec<u8>>,
    filtres: Vec<Vec<u8>>,
    w: Vec<u64>,
    predicteur: Option<u64>,
    colonnes: Option<u64>,
    prev: Option<u64>,
    xrefstm: Option<u64>,
}

#[derive(Debug)]
enum Conteneur {
    Dict {
        attend_cle: bool,
        /// The key whose value is being read.
        cle: Vec<u8>,
        /// A JavaScript action (`/S /JavaScript`, or a `/JS` key): judged when the
        /// dictionary closes, by its code ([`crate::js_af`]).
        javascript: bool,
        /// Its `/JS`: `Some(true)` when every literal string it was given (a key written
        /// twice counts twice: readers differ on which they keep) holds one allowed `AF…`
        /// call.
        code_admis: Option<bool>,
        /// Its `/JS` refers to another object (`/JS 12 0 R`, a stream in practice): only
        /// the whole-file parse can resolve it.
        reference: bool,
    },
    Tableau,
}

/// Findings, shared by the file and its object streams.
#[derive(Debug, Default)]
pub(crate) struct Constats {
    pub chiffre: bool,
    pub actif: Option<String>,
    pub illisible: Option<&'static str>,
    pub pages: u64,
    /// A JavaScript action whose code is another object (Acrobat writes a form field's
    /// formatting call in a stream): judged by the whole-file parse, refused without it.
    pub js_indirect: bool,
}

/// The cross-reference sections met, their entries, and the last `startxref`: what decides
/// which entries a reader follows.
#[derive(Debug, Default)]
pub(crate) struct Renvois {
    sections: Vec<Section>,
    /// In-use entries' offsets, with the section that holds them.
    entrees: Vec<(u32, u64)>,
    startxref: Option<u64>,
    /// More sections or entries than kept: some went unchecked, so the file is refused.
    deborde: bool,
}

/// Most cross-reference sections kept (a file saved incrementally has a few dozen).
pub(crate) const SECTIONS_MAX: usize = 4096;

/// One cross-reference section: where it starts (the `xref` keyword of a table, the
/// `N G obj` of a stream) and the sections it points to.
#[derive(Debug, Default, Clone, Copy)]
struct Section {
    debut: u64,
    prev: Option<u64>,
    xrefstm: Option<u64>,
}

impl Renvois {
    fn section(&mut self, debut: u64, prev: Option<u64>) -> Option<u32> {
        if self.sections.len() >= SECTIONS_MAX {
            self.deborde = true;
            return None;
        }
        self.sections.push(Section {
            debut,
            prev,
            xrefstm: None,
        });
        u32::try_from(self.sections.len() - 1).ok()
    }

    fn entree(&mut self, section: u32, offset: u64) {
        if self.entrees.len() < FLUX_MAX {
            self.entrees.push((section, offset));
        } else {
            self.deborde = true;
        }
    }

    /// The sections a reader follows, or `None` when `startxref` names none (then every
    /// section counts).
    fn chaine_active(&self) -> Option<Vec<bool>> {
        let trouver = |o: u64| self.sections.iter().rposition(|s| s.debut == o);
        let mut actives = vec![false; self.sections.len()];
        let mut a_suivre = vec![trouver(self.startxref?)?];
        while let Some(i) = a_suivre.pop() {
            if std::mem::replace(&mut actives[i], true) {
                continue; // a loop of /Prev
            }
            let s = self.sections[i];
            a_suivre.extend(s.prev.and_then(trouver));
            a_suivre.extend(s.xrefstm.and_then(trouver));
        }
        Some(actives)
    }
}

/// The syntax of objects: tokens, containers, keys and values. Used for the file itself and
/// for the content of its object streams.
#[derive(Debug)]
struct Syntaxe {
    lex: Lex,
    jeton: Vec<u8>,
    jeton_long: bool,
    pile: Vec<Conteneur>,
    /// The top-level dictionary being read, then the last one closed.
    dict: InfoDict,
    /// Path of keys from depth 1 while inside a top-level dictionary.
    cle_n1: Vec<u8>,
    /// Whether the last completed top-level value was a dictionary (a stream may follow).
    dernier_est_dict: bool,
    objstm: bool,
    /// Cross-reference table reading: numbers still expected in the current subsection.
    xref: Option<XrefTable>,
    attend_startxref: bool,
    /// Absolute offset of the first byte of the current `lire` call (the file's syntax).
    base: u64,
    /// Absolute offset where the current name or keyword started.
    debut_jeton: u64,
    /// The last two top-level numbers and where they started (`N G obj`).
    nombres: [Option<(u64, u64)>; 2],
    /// Where the current top-level object started.
    pub(crate) obj_debut: Option<u64>,
    /// The last table's section, until its trailer dictionary is read.
    table: Option<u32>,
    /// The section whose trailer dictionary is being read.
    trailer_de: Option<u32>,
    /// The raw bytes of a `/JS` string being read (escapes undecoded; hex digits for a hex
    /// string), up to a bound; `None` when no such string is being read.
    code_js: Option<(Vec<u8>, bool)>,
    /// The verdict on the `/JS` string just read.
    code_js_admis: Option<bool>,
}

#[derive(Debug, Default)]
struct XrefTable {
    section: Option<u32>,
    /// Entries left in the current subsection; `None` while reading a subsection header.
    restant: Option<u64>,
    entete: Vec<u64>,
    entree: Vec<u64>,
}

/// What the syntax asks the file scanner to do after a byte.
enum Action {
    Rien,
    /// `stream` keyword after a dictionary: data starts after the end of line.
    DebutFlux,
}

impl Syntaxe {
    fn new(objstm: bool) -> Self {
        Self {
            lex: Lex::Normal,
            jeton: Vec::new(),
            jeton_long: false,
            pile: Vec::new(),
            dict: InfoDict::default(),
            cle_n1: Vec::new(),
            dernier_est_dict: false,
            objstm,
            xref: None,
            attend_startxref: false,
            base: 0,
            debut_jeton: 0,
            nombres: [None; 2],
            obj_debut: None,
            table: None,
            trailer_de: None,
            code_js: None,
            code_js_admis: None,
        }
    }

    /// Whether the scan stopped inside something (cut file).
    fn inacheve(&self) -> bool {
        !self.pile.is_empty()
            || matches!(
                self.lex,
                Lex::Chaine(..) | Lex::Hex | Lex::Chevron | Lex::FinChevron
            )
    }

    fn pousser_jeton(&mut self, b: u8) {
        if self.jeton.len() < JETON_MAX {
            self.jeton.push(b);
        } else {
            self.jeton_long = true;
        }
    }

    /// Reads `octets`; stops early (returning how many were consumed) when a stream's data
    /// starts.
    fn lire(
        &mut self,
        octets: &[u8],
        base: u64,
        c: &mut Constats,
        xref: &mut Renvois,
    ) -> (usize, Action) {
        self.base = base;
        let mut i = 0;
        while i < octets.len() {
            let b = octets[i];
            i += 1;
            match self.lex {
                Lex::Commentaire => {
                    if b == b'\n' || b == b'\r' {
                        self.lex = Lex::Normal;
                    }
                }
                Lex::Chaine(prof, echap) => {
                    let fin = !echap && b == b')' && prof == 0;
                    if !fin && let Some((code, _)) = self.code_js.as_mut() {
                        if code.len() < 4 * CODE_AF_MAX {
                            code.push(b);
                        } else {
                            // Too long to be one formatting call.
                            self.code_js = None;
                            self.code_js_admis = Some(false);
                        }
                    }
                    self.lex = if echap {
                        Lex::Chaine(prof, false)
                    } else {
                        match b {
                            b'\\' => Lex::Chaine(prof, true),
                            b'(' => Lex::Chaine(prof.saturating_add(1), false),
                            b')' if prof == 0 => {
                                self.juger_code_js();
                                self.valeur_scalaire();
                                Lex::Normal
                            }
                            b')' => Lex::Chaine(prof - 1, false),
                            _ => Lex::Chaine(prof, false),
                        }
                    };
                }
                Lex::Hex => {
                    if b == b'>' {
                        self.lex = Lex::Normal;
                        self.juger_code_js();
                        self.valeur_scalaire();
                    } else if let Some((code, _)) = self.code_js.as_mut()
                        && code.len() < 8 * CODE_AF_MAX
                    {
                        code.push(b);
                    }
                }
                Lex::Chevron => {
                    if b == b'<' {
                        self.lex = Lex::Normal;
                        self.ouvrir(true, c);
                    } else {
                        self.lex = Lex::Hex;
                        self.commencer_code_js(true);
                        if b == b'>' {
                            self.lex = Lex::Normal;
                            self.juger_code_js();
                            self.valeur_scalaire();
                        } else if let Some((code, _)) = self.code_js.as_mut() {
                            code.push(b);
                        }
                    }
                }
                Lex::FinChevron => {
                    self.lex = Lex::Normal;
                    if b == b'>' {
                        self.fermer(true, c, xref);
                    } else {
                        // A lone '>' is not PDF syntax.
                        c.illisible.get_or_insert("chevron isolé");
                        i -= 1;
                    }
                }
                Lex::Nom | Lex::Mot => {
                    if blanc(b) || delimiteur(b) {
                        let action = self.fin_jeton(c, xref);
                        i -= 1;
                        if let Some(a) = action {
                            return (i, a);
                        }
                    } else {
                        self.pousser_jeton(b);
                    }
                }
                Lex::Normal => match b {
                    b'%' => self.lex = Lex::Commentaire,
                    b'(' => {
                        self.lex = Lex::Chaine(0, false);
                        self.commencer_code_js(false);
                    }
                    b'<' => self.lex = Lex::Chevron,
                    b'>' => self.lex = Lex::FinChevron,
                    b'[' => self.ouvrir(false, c),
                    b']' => self.fermer(false, c, xref),
                    b'{' | b'}' => {}
                    b'/' => {
                        self.lex = Lex::Nom;
                        self.jeton.clear();
                        self.jeton_long = false;
                    }
                    b if blanc(b) => {}
                    b => {
                        self.lex = Lex::Mot;
                        self.jeton.clear();
                        self.jeton_long = false;
                        self.jeton.push(b);
                        self.debut_jeton = self.base + i as u64 - 1;
                    }
                },
            }
        }
        (i, Action::Rien)
    }

    /// Ends the reading: a token cut by the end of the input is completed.
    fn finir(&mut self, c: &mut Constats, xref: &mut Renvois) -> Option<Action> {
        if matches!(self.lex, Lex::Nom | Lex::Mot) {
            return self.fin_jeton(c, xref);
        }
        if self.lex == Lex::Commentaire {
            self.lex = Lex::Normal;
        }
        None
    }

    /// Completes the current name or keyword; the keyword `stream` outside any container
    /// (after a top-level dictionary) starts stream data.
    fn fin_jeton(&mut self, c: &mut Constats, xref: &mut Renvois) -> Option<Action> {
        let etait_nom = self.lex == Lex::Nom;
        self.lex = Lex::Normal;
        if etait_nom {
            let nom = decoder_nom(&self.jeton);
            self.nom(nom, c);
            self.jeton.clear();
            return None;
        }
        let mot = std::mem::take(&mut self.jeton);
        let long = self.jeton_long;
        self.mot(&mot, long, xref);
        (!long && mot == b"stream" && self.pile.is_empty()).then_some(Action::DebutFlux)
    }

    fn nom(&mut self, nom: Vec<u8>, c: &mut Constats) {
        let profondeur = self.pile.len();
        match self.pile.last_mut() {
            Some(Conteneur::Dict {
                attend_cle,
                cle,
                javascript,
                ..
            }) if *attend_cle => {
                if nom == b"JS" {
                    // Judged with its code when the dictionary closes.
                    *javascript = true;
                } else if c.actif.is_none() && CLES_ACTIVES.contains(&nom.as_slice()) {
                    c.actif = Some(format!("/{}", String::from_utf8_lossy(&nom)));
                }
                if nom == b"Encrypt" {
                    c.chiffre = true;
                }
                *attend_cle = false;
                if profondeur == 1 {
                    self.cle_n1.clone_from(&nom);
                }
                *cle = nom;
            }
            _ => {
                let action_js = match self.pile.last_mut() {
                    Some(Conteneur::Dict {
                        cle, javascript, ..
                    }) if cle == b"S" && nom == b"JavaScript" => {
                        *javascript = true;
                        true
                    }
                    _ => false,
                };
                if !action_js && c.actif.is_none() && NOMS_ACTIFS.contains(&nom.as_slice()) {
                    c.actif = Some(format!("/{}", String::from_utf8_lossy(&nom)));
                }
                if let Some(Conteneur::Dict { cle, .. }) = self.pile.last()
                    && cle == b"Type"
                    && nom == b"Page"
                {
                    c.pages += 1;
                }
                self.noter(Some(&nom), None);
                self.valeur_scalaire();
            }
        }
    }

    /// Records what the top-level dictionary says about its stream.
    fn noter(&mut self, nom: Option<&[u8]>, n: Option<u64>) {
        let profondeur = self.pile.len();
        if profondeur == 0 {
            return;
        }
        let cle_locale = match self.pile.last() {
            Some(Conteneur::Dict { cle, .. }) => Some(cle.as_slice()),
            _ => None,
        };
        match (self.cle_n1.as_slice(), profondeur) {
            (b"Type", 1) => {
                if let Some(nom) = nom {
                    self.dict.type_ = Some(nom.to_vec());
                }
            }
            (b"Filter", 1 | 2) => {
                if let Some(nom) = nom {
                    self.dict.filtres.push(nom.to_vec());
                }
            }
            (b"W", 2) => {
                if let Some(n) = n {
                    self.dict.w.push(n);
                }
            }
            // The first number only: `/Prev 12 0 R` is no offset, and 0 would not mislead.
            (b"Prev", 1) if self.dict.prev.is_none() => self.dict.prev = n,
            (b"XRefStm", 1) if self.dict.xrefstm.is_none() => self.dict.xrefstm = n,
            (b"DecodeParms", _) if profondeur >= 2 => match (cle_locale, n) {
                (Some(b"Predictor"), Some(n)) => self.dict.predicteur = Some(n),
                (Some(b"Columns"), Some(n)) => self.dict.colonnes = Some(n),
                _ => {}
            },
            _ => {}
        }
    }

    fn mot(&mut self, mot: &[u8], long: bool, xref: &mut Renvois) {
        let n = if long { None } else { nombre(mot) };
        if self.pile.is_empty() {
            self.mot_haut(mot, n, xref);
            return;
        }
        if let Some(Conteneur::Dict { attend_cle, .. }) = self.pile.last()
            && *attend_cle
        {
            // A number or `R` of an indirect reference, in key position: not a key.
            return;
        }
        if let Some(Conteneur::Dict { cle, reference, .. }) = self.pile.last_mut()
            && cle == b"JS"
            && n.is_some()
        {
            // `/JS 12 0 R`: left to the whole-file parse, not refused here.
            *reference = true;
            self.code_js_admis = Some(true);
        }
        self.noter(None, n);
        self.valeur_scalaire();
    }

    /// A keyword or number outside any container: objects, cross-reference tables.
    fn mot_haut(&mut self, mot: &[u8], n: Option<u64>, xref: &mut Renvois) {
        if self.attend_startxref {
            self.attend_startxref = false;
            if n.is_some() {
                xref.startxref = n;
            }
            return;
        }
        if let Some(t) = self.xref.as_mut() {
            match (n, mot) {
                (Some(v), _) => match t.restant {
                    None => {
                        t.entete.push(v);
                        if t.entete.len() == 2 {
                            t.restant = Some(t.entete[1]);
                            t.entete.clear();
                            if t.restant == Some(0) {
                                t.restant = None;
                            }
                        }
                    }
                    Some(_) => t.entree.push(v),
                },
                (None, b"n" | b"f") => {
                    if mot == b"n"
                        && let [offset, _gen] = t.entree[..]
                        && let Some(section) = t.section
                    {
                        xref.entree(section, offset);
                    }
                    t.entree.clear();
                    t.restant = match t.restant {
                        Some(r) if r > 1 => Some(r - 1),
                        _ => None,
                    };
                }
                _ => self.xref = None,
            }
            if self.xref.is_some() {
                return;
            }
        }
        let [avant_dernier, dernier] = self.nombres;
        self.nombres = match n {
            Some(v) => [dernier, Some((v, self.debut_jeton))],
            None => [None, None],
        };
        match mot {
            b"xref" => {
                let section = xref.section(self.debut_jeton, None);
                self.table = section;
                self.xref = Some(XrefTable {
                    section,
                    ..XrefTable::default()
                });
            }
            b"trailer" => self.trailer_de = self.table.take(),
            b"startxref" => self.attend_startxref = true,
            b"obj" => {
                self.dict = InfoDict::default();
                self.dernier_est_dict = false;
                self.obj_debut = avant_dernier.zip(dernier).map(|((_, debut), _)| debut);
            }
            b"stream" => {}
            _ => self.dernier_est_dict = false,
        }
    }

    /// Starts keeping a string that is the value of a `/JS` key.
    fn commencer_code_js(&mut self, hex: bool) {
        if let Some(Conteneur::Dict {
            attend_cle: false,
            cle,
            ..
        }) = self.pile.last()
            && cle == b"JS"
        {
            self.code_js = Some((Vec::new(), hex));
        }
    }

    /// The `/JS` string just read: one allowed `AF…` call, or not.
    fn juger_code_js(&mut self) {
        if let Some((brut, hex)) = self.code_js.take() {
            let octets = if hex {
                octets_hex(&brut)
            } else {
                octets_chaine(&brut)
            };
            self.code_js_admis = Some(appel_af_admis(&texte_pdf(&octets)));
        }
    }

    fn valeur_scalaire(&mut self) {
        let admis = self.code_js_admis.take();
        match self.pile.last_mut() {
            Some(Conteneur::Dict {
                attend_cle,
                cle,
                code_admis,
                ..
            }) => {
                if cle == b"JS" {
                    // A string judged above, or a reference noted by `mot`; anything else (a
                    // name, a dictionary) is no code: not admitted.
                    *code_admis = Some(code_admis.unwrap_or(true) && admis.unwrap_or(false));
                }
                *attend_cle = true;
            }
            Some(Conteneur::Tableau) => {}
            None => self.dernier_est_dict = false,
        }
    }

    fn ouvrir(&mut self, dict: bool, c: &mut Constats) {
        if self.pile.len() >= PROFONDEUR_MAX {
            c.illisible.get_or_insert("imbrication trop profonde");
            return;
        }
        if self.pile.is_empty() && dict {
            self.dict = InfoDict::default();
            self.cle_n1.clear();
        }
        self.pile.push(if dict {
            Conteneur::Dict {
                attend_cle: true,
                cle: Vec::new(),
                javascript: false,
                code_admis: None,
                reference: false,
            }
        } else {
            Conteneur::Tableau
        });
    }

    fn fermer(&mut self, dict: bool, c: &mut Constats, xref: &mut Renvois) {
        match self.pile.pop() {
            Some(Conteneur::Dict {
                javascript,
                code_admis,
                reference,
                ..
            }) if dict => {
                if javascript && code_admis != Some(true) && c.actif.is_none() {
                    c.actif = Some("/JavaScript".to_owned());
                }
                c.js_indirect |= javascript && reference;
            }
            Some(Conteneur::Tableau) if !dict => {}
            _ => {
                c.illisible
                    .get_or_insert("dictionnaire ou tableau mal fermé");
                return;
            }
        }
        if self.pile.is_empty() {
            self.dernier_est_dict = dict;
            // A table's trailer: where its chain goes next.
            if let Some(k) = self.trailer_de.take().filter(|_| dict)
                && let Some(section) = xref.sections.get_mut(k as usize)
            {
                section.prev = self.dict.prev;
                section.xrefstm = self.dict.xrefstm;
            }
        } else {
            if self.pile.len() == 1 {
                self.cle_n1.clear();
            }
            self.valeur_scalaire();
        }
    }
}

/// Decodes a cross-reference stream's rows as they are decompressed.
#[derive(Debug)]
struct DecodeurXref {
    section: Option<u32>,
    w: [usize; 3],
    /// PNG predictor: row length including the filter byte.
    png: bool,
    ligne: Vec<u8>,
    precedente: Vec<u8>,
    rempli: usize,
}

impl DecodeurXref {
    fn new(info: &InfoDict) -> Option<Self> {
        let w: Vec<usize> = info
            .w
            .iter()
            .map(|v| usize::try_from(*v).unwrap_or(usize::MAX))
            .collect();
        let [a, b, c] = w[..] else {
            return None;
        };
        if a > 8 || b > 8 || c > 8 || a + b + c == 0 {
            return None;
        }
        let largeur = a + b + c;
        let png = matches!(info.predicteur, Some(10..=15));
        if png && info.colonnes.is_some_and(|col| col != largeur as u64) {
            return None;
        }
        if info
            .predicteur
            .is_some_and(|p| p > 1 && !(10..=15).contains(&p))
        {
            return None;
        }
        let longueur = largeur + usize::from(png);
        Some(Self {
            section: None,
            w: [a, b, c],
            png,
            ligne: vec![0; longueur],
            precedente: vec![0; largeur],
            rempli: 0,
        })
    }

    fn lire(&mut self, octets: &[u8], xref: &mut Renvois) -> Result<(), &'static str> {
        for &b in octets {
            self.ligne[self.rempli] = b;
            self.rempli += 1;
            if self.rempli == self.ligne.len() {
                self.rempli = 0;
                self.ligne_complete(xref)?;
            }
        }
        Ok(())
    }

    fn ligne_complete(&mut self, xref: &mut Renvois) -> Result<(), &'static str> {
        let donnees: Vec<u8> = if self.png {
            let filtre = self.ligne[0];
            let brut = &self.ligne[1..];
            let mut out = vec![0u8; brut.len()];
            for k in 0..brut.len() {
                let gauche = if k > 0 { out[k - 1] } else { 0 };
                let haut = self.precedente[k];
                let haut_gauche = if k > 0 { self.precedente[k - 1] } else { 0 };
                let pred = match filtre {
                    0 => 0,
                    1 => gauche,
                    2 => haut,
                    3 => ((u16::from(gauche) + u16::from(haut)) / 2) as u8,
                    4 => {
                        let p = i16::from(gauche) + i16::from(haut) - i16::from(haut_gauche);
                        let (pa, pb, pc) = (
                            (p - i16::from(gauche)).abs(),
                            (p - i16::from(haut)).abs(),
                            (p - i16::from(haut_gauche)).abs(),
                        );
                        if pa <= pb && pa <= pc {
                            gauche
                        } else if pb <= pc {
                            haut
                        } else {
                            haut_gauche
                        }
                    }
                    _ => return Err("prédicteur inconnu dans une table de références"),
                };
                out[k] = brut[k].wrapping_add(pred);
            }
            self.precedente.copy_from_slice(&out);
            out
        } else {
            self.ligne.clone()
        };
        let champ = |debut: usize, n: usize| {
            donnees[debut..debut + n]
                .iter()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
        };
        let [a, b, _] = self.w;
        let type_ = if a == 0 { 1 } else { champ(0, a) };
        if type_ == 1
            && let Some(section) = self.section
        {
            xref.entree(section, champ(a, b));
        }
        Ok(())
    }
}

/// What happens to a stream's data.
#[derive(Debug)]
enum Contenu {
    Ignore,
    ObjetsComprimes(Box<Decompress>, Box<Syntaxe>),
    ObjetsBruts(Box<Syntaxe>),
    XrefComprime(Box<Decompress>, DecodeurXref),
    XrefBrut(DecodeurXref),
}

#[derive(Debug)]
struct Flux {
    debut: u64,
    /// The end of line after `stream` is not data: 0 before it, 1 after its CR, 2 read.
    eol: u8,
    contenu: Contenu,
    /// Bytes held back because they may start `endstream`.
    retenue: Vec<u8>,
    decompresse: u64,
}

const FIN_FLUX: &[u8] = b"endstream";

/// The file scanner.
#[derive(Debug)]
pub(crate) struct ScannerPdf {
    syntaxe: Syntaxe,
    flux: Option<Flux>,
    position: u64,
    plages: Vec<(u64, u64)>,
    xref: Renvois,
    pub(crate) constats: Constats,
}

impl Default for ScannerPdf {
    fn default() -> Self {
        Self {
            syntaxe: Syntaxe::new(false),
            flux: None,
            position: 0,
            plages: Vec::new(),
            xref: Renvois::default(),
            constats: Constats::default(),
        }
    }
}

impl ScannerPdf {
    /// Reads the next bytes of the file.
    pub(crate) fn lire(&mut self, mut octets: &[u8]) {
        while !octets.is_empty() {
            if self.flux.is_some() {
                let n = self.lire_flux(octets);
                octets = &octets[n..];
                self.position += n as u64;
                continue;
            }
            let (n, action) =
                self.syntaxe
                    .lire(octets, self.position, &mut self.constats, &mut self.xref);
            octets = &octets[n..];
            self.position += n as u64;
            if let Action::DebutFlux = action {
                self.debut_flux();
            }
        }
    }

    fn debut_flux(&mut self) {
        let s = &mut self.syntaxe;
        if s.objstm || !s.dernier_est_dict {
            self.constats
                .illisible
                .get_or_insert("flux sans dictionnaire");
        }
        s.dernier_est_dict = false;
        let info = std::mem::take(&mut s.dict);
        let flate = match &info.filtres[..] {
            [] => Some(false),
            [f] if f == b"FlateDecode" || f == b"Fl" => Some(true),
            _ => None,
        };
        let saine = self.constats.illisible.is_none();
        let contenu = match (info.type_.as_deref(), flate) {
            (Some(b"ObjStm"), Some(comprime)) if saine => {
                let syntaxe = Box::new(Syntaxe::new(true));
                if comprime {
                    Contenu::ObjetsComprimes(Box::new(Decompress::new(true)), syntaxe)
                } else {
                    Contenu::ObjetsBruts(syntaxe)
                }
            }
            (Some(b"ObjStm"), None) => {
                self.constats
                    .illisible
                    .get_or_insert("flux d'objets dans un codage non pris en charge");
                Contenu::Ignore
            }
            (Some(b"XRef"), Some(comprime)) if saine => match DecodeurXref::new(&info) {
                Some(mut d) => {
                    let debut = self.syntaxe.obj_debut.unwrap_or(u64::MAX);
                    d.section = self.xref.section(debut, info.prev);
                    if comprime {
                        Contenu::XrefComprime(Box::new(Decompress::new(true)), d)
                    } else {
                        Contenu::XrefBrut(d)
                    }
                }
                None => {
                    self.constats
                        .illisible
                        .get_or_insert("table de références compressée illisible");
                    Contenu::Ignore
                }
            },
            (Some(b"XRef"), None) => {
                self.constats
                    .illisible
                    .get_or_insert("table de références dans un codage non pris en charge");
                Contenu::Ignore
            }
            _ => Contenu::Ignore,
        };
        self.flux = Some(Flux {
            debut: self.position,
            eol: 0,
            contenu,
            retenue: Vec::new(),
            decompresse: 0,
        });
    }

    /// Reads stream data up to `endstream`; returns the bytes consumed.
    fn lire_flux(&mut self, octets: &[u8]) -> usize {
        let Some(f) = self.flux.as_mut() else {
            return 0;
        };
        let mut eol = 0;
        // "stream" is followed by CRLF or LF (a lone CR is tolerated); the end of line may
        // be split between two chunks.
        while f.eol < 2 {
            match (f.eol, octets.get(eol)) {
                (_, None) => return eol,
                (0, Some(b'\r')) => {
                    f.eol = 1;
                    eol += 1;
                }
                (0 | 1, Some(b'\n')) => {
                    f.eol = 2;
                    eol += 1;
                }
                _ => f.eol = 2,
            }
            if f.eol == 2 {
                f.debut = self.position + eol as u64;
            }
        }
        let octets = &octets[eol..];
        let debut_morceau = self.position + eol as u64;
        let garde_max = FIN_FLUX.len() - 1;
        let mut fenetre = std::mem::take(&mut f.retenue);
        let deja = fenetre.len();
        fenetre.extend_from_slice(&octets[..octets.len().min(garde_max)]);
        // `endstream` starting in the held-back bytes.
        if let Some(p) = memchr::memmem::find(&fenetre, FIN_FLUX).filter(|p| *p < deja) {
            self.donnees(&fenetre[..p]);
            self.clore_flux((debut_morceau + p as u64).saturating_sub(deja as u64));
            return eol + p + FIN_FLUX.len() - deja;
        }
        if let Some(p) = memchr::memmem::find(octets, FIN_FLUX) {
            self.donnees(&fenetre[..deja]);
            self.donnees(&octets[..p]);
            self.clore_flux(debut_morceau + p as u64);
            return eol + p + FIN_FLUX.len();
        }
        // No end yet: pass everything but the last bytes, which may start `endstream`.
        let total = deja + octets.len();
        let passe = total - total.min(garde_max);
        let retenue = if passe <= deja {
            self.donnees(&fenetre[..passe]);
            let mut r = fenetre[passe..deja].to_vec();
            r.extend_from_slice(octets);
            r
        } else {
            self.donnees(&fenetre[..deja]);
            self.donnees(&octets[..passe - deja]);
            octets[passe - deja..].to_vec()
        };
        if let Some(f) = self.flux.as_mut() {
            f.retenue = retenue;
        }
        eol + octets.len()
    }

    fn clore_flux(&mut self, fin: u64) {
        let Some(f) = self.flux.take() else {
            return;
        };
        if self.plages.len() < FLUX_MAX {
            self.plages.push((f.debut, fin.max(f.debut)));
        } else {
            self.constats.illisible.get_or_insert("trop de flux");
        }
        match f.contenu {
            Contenu::ObjetsComprimes(_, mut s) | Contenu::ObjetsBruts(mut s) => {
                let mut rien = Renvois::default();
                s.finir(&mut self.constats, &mut rien);
            }
            _ => {}
        }
        self.syntaxe.dernier_est_dict = false;
    }

    /// Data of the current stream.
    fn donnees(&mut self, octets: &[u8]) {
        if octets.is_empty() {
            return;
        }
        let Some(f) = self.flux.as_mut() else {
            return;
        };
        let c = &mut self.constats;
        let xref = &mut self.xref;
        match &mut f.contenu {
            Contenu::Ignore => {}
            Contenu::ObjetsBruts(s) => {
                if !lire_objets(s, octets, c) {
                    f.contenu = Contenu::Ignore;
                }
            }
            Contenu::XrefBrut(d) => {
                if let Err(e) = d.lire(octets, xref) {
                    c.illisible.get_or_insert(e);
                    f.contenu = Contenu::Ignore;
                }
            }
            Contenu::ObjetsComprimes(z, s) => {
                let r = decompresser(z, octets, &mut f.decompresse, |morceau| {
                    if lire_objets(s, morceau, c) {
                        Ok(())
                    } else {
                        Err("flux dans un flux d'objets")
                    }
                });
                if let Err(e) = r {
                    c.illisible.get_or_insert(e);
                    f.contenu = Contenu::Ignore;
                }
            }
            Contenu::XrefComprime(z, d) => {
                let r = decompresser(z, octets, &mut f.decompresse, |morceau| {
                    d.lire(morceau, xref)
                });
                if let Err(e) = r {
                    c.illisible.get_or_insert(e);
                    f.contenu = Contenu::Ignore;
                }
            }
        }
    }

    /// Ends the scan: the findings, with a cut file or a cross-reference into stream data
    /// noted as unreadable.
    pub(crate) fn terminer(mut self) -> Constats {
        let mut xref = std::mem::take(&mut self.xref);
        if let Some(Action::DebutFlux) = self.syntaxe.finir(&mut self.constats, &mut xref) {
            self.constats
                .illisible
                .get_or_insert("fichier coupé dans un flux");
        }
        if self.flux.is_some() {
            self.constats
                .illisible
                .get_or_insert("fichier coupé dans un flux");
        }
        if self.syntaxe.inacheve() {
            self.constats
                .illisible
                .get_or_insert("fichier coupé dans un objet");
        }
        let mut plages = std::mem::take(&mut self.plages);
        plages.sort_unstable();
        let dedans = |o: u64| {
            let i = plages.partition_point(|(d, _)| *d <= o);
            i > 0 && plages.get(i - 1).is_some_and(|(d, f)| o >= *d && o < *f)
        };
        if xref.deborde {
            self.constats
                .illisible
                .get_or_insert("trop de tables de références pour les vérifier");
        }
        let actives = xref.chaine_active();
        let suivie = |k: u32| {
            actives
                .as_ref()
                .is_none_or(|a| a.get(k as usize).copied().unwrap_or(false))
        };
        if xref.entrees.iter().any(|(k, o)| suivie(*k) && dedans(*o)) {
            self.constats
                .illisible
                .get_or_insert("une table de références désigne l'intérieur d'un flux");
        }
        self.constats
    }
}

/// Reads data of an object stream; `false` when it holds a stream (not PDF): the file is
/// unreadable and the rest of this object stream is not read — whatever the chunking, so
/// that the verdict does not depend on where the chunks end (found by the fuzzer).
fn lire_objets(s: &mut Syntaxe, mut octets: &[u8], c: &mut Constats) -> bool {
    let mut rien = Renvois::default();
    while !octets.is_empty() {
        let (n, action) = s.lire(octets, 0, c, &mut rien);
        octets = &octets[n..];
        if let Action::DebutFlux = action {
            c.illisible.get_or_insert("flux dans un flux d'objets");
            return false;
        }
    }
    true
}

/// Inflates `entree`, handing the output to `sortie` in pieces, within the per-stream
/// limit. Data after the end of the compressed stream (the end of line before `endstream`)
/// is ignored.
fn decompresser(
    z: &mut Decompress,
    mut entree: &[u8],
    total: &mut u64,
    mut sortie: impl FnMut(&[u8]) -> Result<(), &'static str>,
) -> Result<(), &'static str> {
    let mut tampon = vec![0u8; 64 * 1024];
    loop {
        let (avant_in, avant_out) = (z.total_in(), z.total_out());
        let statut = z
            .decompress(entree, &mut tampon, FlushDecompress::None)
            .map_err(|_| "flux compressé illisible")?;
        let lu = usize::try_from(z.total_in() - avant_in).unwrap_or(entree.len());
        let ecrit = usize::try_from(z.total_out() - avant_out).unwrap_or(0);
        entree = &entree[lu.min(entree.len())..];
        *total += ecrit as u64;
        if *total > PDF_DECOMPRESSION_MAX as u64 {
            return Err("flux trop volumineux une fois décompressé");
        }
        sortie(&tampon[..ecrit])?;
        if statut == Status::StreamEnd
            || (lu == 0 && ecrit == 0)
            || (entree.is_empty() && ecrit < tampon.len())
        {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner(octets: &[u8], morceau: usize) -> Constats {
        let mut s = ScannerPdf::default();
        for m in octets.chunks(morceau) {
            s.lire(m);
        }
        s.terminer()
    }

    #[test]
    fn noms_decodes() {
        assert_eq!(decoder_nom(b"J#61vaScript"), b"JavaScript");
        assert_eq!(decoder_nom(b"A#2"), b"A#2");
        assert_eq!(decoder_nom(b"#zz"), b"#zz");
        assert_eq!(decoder_nom(b""), b"");
    }

    /// Rows of a cross-reference stream with the PNG "Up" predictor (12), as writers
    /// produce them, decode to the offsets written.
    #[test]
    fn predicteur_png_up() {
        let info = InfoDict {
            type_: Some(b"XRef".to_vec()),
            filtres: vec![],
            w: vec![1, 4, 2],
            predicteur: Some(12),
            colonnes: Some(7),
            ..InfoDict::default()
        };
        let lignes: [[u8; 7]; 3] = [
            [1, 0, 0, 0, 15, 0, 0],
            [1, 0, 0, 1, 0x2C, 0, 0],
            [2, 0, 0, 0, 5, 0, 1],
        ];
        let mut code = Vec::new();
        let mut precedente = [0u8; 7];
        for l in &lignes {
            code.push(2);
            for k in 0..7 {
                code.push(l[k].wrapping_sub(precedente[k]));
            }
            precedente = *l;
        }
        let mut d = DecodeurXref::new(&info).unwrap();
        d.section = Some(0);
        let mut xref = Renvois::default();
        for m in code.chunks(3) {
            d.lire(m, &mut xref).unwrap();
        }
        assert_eq!(
            xref.entrees,
            [(0, 15), (0, 0x12C)],
            "type-2 entries are not offsets"
        );
        // Widths that cannot be a cross-reference stream are refused.
        let mut faux = info.clone();
        faux.w = vec![1, 9, 2];
        assert!(DecodeurXref::new(&faux).is_none());
    }

    #[test]
    fn flux_et_fin_de_flux_a_cheval() {
        // `endstream` split across chunks, CRLF after `stream`, a lying /Length.
        let pdf = b"%PDF-1.7\n1 0 obj\n<< /Type /Page >>\nendobj\n2 0 obj\n<< /Length 3 >>\r\nstream\r\nxx endstrea endstream\nendobj\n3 0 obj\n<< /S /JavaScript >>\nendobj\n%%EOF\n";
        for morceau in 1..pdf.len() {
            let c = scanner(pdf, morceau);
            assert_eq!(c.pages, 1, "chunks of {morceau}");
            assert_eq!(
                c.actif.as_deref(),
                Some("/JavaScript"),
                "chunks of {morceau}"
            );
            assert!(
                c.illisible.is_none(),
                "chunks of {morceau}: {:?}",
                c.illisible
            );
        }
    }

    #[test]
    fn fichier_coupe() {
        for coupe in [
            &b"%PDF-1.7\n1 0 obj\n<< /Type /Page "[..],
            b"%PDF-1.7\n1 0 obj\n(une chaine",
            b"%PDF-1.7\n1 0 obj\n<< >>\nstream\ndonnees",
        ] {
            assert!(scanner(coupe, 5).illisible.is_some());
        }
    }

    /// The active chain is found for a cross-reference stream (its section starts at its
    /// `N G obj`) and through a table's `/Prev`, and not when `startxref` names nothing.
    #[test]
    fn chaine_active_trouvee() {
        let mut pdf = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n".to_vec();
        let table = pdf.len();
        pdf.extend_from_slice(
            b"xref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer\n<< /Size 2 >>\n",
        );
        let flux = pdf.len();
        let lignes = [0u8, 0, 0, 255, 1, 0, 9, 0];
        pdf.extend_from_slice(
            format!(
                "2 0 obj\n<< /Type /XRef /Size 2 /W [1 2 1] /Prev {table} /Length 8 >>\nstream\n"
            )
            .as_bytes(),
        );
        pdf.extend_from_slice(&lignes);
        pdf.extend_from_slice(
            format!("\nendstream\nendobj\nstartxref\n{flux}\n%%EOF\n").as_bytes(),
        );
        for morceau in [1, 7, pdf.len()] {
            let mut s = ScannerPdf::default();
            for m in pdf.chunks(morceau) {
                s.lire(m);
            }
            let actives = s.xref.chaine_active();
            assert_eq!(actives, Some(vec![true, true]), "chunks of {morceau}");
        }
        let mut s = ScannerPdf::default();
        s.lire(&pdf[..pdf.len() - 20]);
        s.lire(b"startxref\n3\n%%EOF\n");
        assert_eq!(s.xref.chaine_active(), None);
    }

    /// More cross-reference sections than the scanner keeps: what it did not keep went
    /// unchecked, so the file is unreadable — never accepted unchecked, never a memory
    /// blow-up (a few bytes per `xref` keyword would otherwise cost 40 per section).
    #[test]
    fn trop_de_sections_illisible() {
        let mut pdf = b"%PDF-1.7\n".to_vec();
        for _ in 0..=SECTIONS_MAX {
            pdf.extend_from_slice(b"xref\n0 0\n");
        }
        pdf.extend_from_slice(b"%%EOF\n");
        let mut s = ScannerPdf::default();
        s.lire(&pdf);
        assert!(s.xref.sections.len() <= SECTIONS_MAX);
        assert_eq!(
            s.terminer().illisible,
            Some("trop de tables de références pour les vérifier")
        );
    }
}
