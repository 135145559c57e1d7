//! Writes valid sample files (the seeds of the fuzz corpus) into a directory:
//! `cargo run -p depot-format --example corpus -- fuzz/corpus/analyser`.

use depot_format::exemples::{jpeg_gris, jpeg_minimal, pdf_image, pdf_minimal, pdf_pages};

fn main() -> std::io::Result<()> {
    let dossier = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "corpus".to_owned());
    std::fs::create_dir_all(&dossier)?;
    let fichiers: [(&str, Vec<u8>); 6] = [
        ("pdf-minimal", pdf_minimal()),
        ("pdf-3-pages", pdf_pages(3, 3_000, "")),
        (
            "pdf-action",
            pdf_pages(1, 0, "/OpenAction << /S /GoTo /D [4 0 R /Fit] >>"),
        ),
        ("pdf-image", pdf_image(2_000)),
        ("jpeg-minimal", jpeg_minimal()),
        ("jpeg-commentaire", jpeg_gris(320, 200, 300)),
    ];
    for (nom, octets) in fichiers {
        std::fs::write(std::path::Path::new(&dossier).join(nom), octets)?;
    }
    println!("6 fichiers écrits dans {dossier}");
    Ok(())
}
