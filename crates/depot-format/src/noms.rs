//! What makes a PDF active, shared by the whole-file parse and the streaming scan.

/// Largest size one PDF stream may decompress to while parsing.
pub const PDF_DECOMPRESSION_MAX: usize = 64 * 1024 * 1024;

/// Names that make a PDF active as dictionary keys.
pub(crate) const CLES_ACTIVES: &[&[u8]] = &[
    b"JavaScript",
    b"JS",
    b"Launch",
    b"EmbeddedFile",
    b"EmbeddedFiles",
    // A file specification's embedded file streams: the structure of an attachment,
    // whether or not the optional `/Type /EmbeddedFile` is written (an attachment
    // annotation, the catalogue's or a page's `/AF` associated files).
    b"EF",
    b"RichMedia",
    b"XFA",
];

/// Names that make a PDF active as name values (`/S /JavaScript`, `/Type /EmbeddedFile`…).
///
/// An action is judged by what it does (its `/S`), wherever it is attached — `/OpenAction`,
/// a link's `/A`, or the additional actions `/AA` that fire on opening a page or focusing a
/// field: running code (`JavaScript`), another program or file (`Launch`, `GoToR`, `GoToE`),
/// reading or sending data (`ImportData`, `SubmitForm`), rich media. Navigation inside the
/// document (`GoTo`, `Named`), links (`URI`), showing and hiding fields are not active
/// content: `/AA` holding only those is accepted (issue 14, item 3: PDF/A-4 files and
/// forms carry them).
pub(crate) const NOMS_ACTIFS: &[&[u8]] = &[
    b"JavaScript",
    b"Launch",
    b"EmbeddedFile",
    b"FileAttachment",
    b"RichMedia",
    b"ImportData",
    b"GoToE",
    b"GoToR",
    b"SubmitForm",
];
