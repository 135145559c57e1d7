//! Fuzzes the format validator: any bytes, under a PDF or a JPEG name, must get a verdict
//! (accepted or a refusal with a code), never a panic, a hang or an unbounded allocation —
//! and the same verdict whether the file arrives whole or in chunks, and (for the streaming
//! scan alone) whatever the chunk size.
#![no_main]

use depot_format::{AnalyseFlux, Format, analyser};
use libfuzzer_sys::fuzz_target;

const FORMATS: &[Format] = &[Format::Pdf, Format::Jpeg];

fn par_morceaux(nom: &str, data: &[u8], morceau: usize, complete: usize) -> Result<(), String> {
    let mut a = AnalyseFlux::new(nom, FORMATS, 10).analyse_complete_jusqu_a(complete);
    for m in data.chunks(morceau.max(1)) {
        a.nourrir(m).map_err(|r| r.code().to_owned())?;
    }
    a.terminer().map(drop).map_err(|r| r.code().to_owned())
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks a chunk size, so chunk boundaries land everywhere.
    let morceau = usize::from(data.first().copied().unwrap_or(1)) + 1;
    for nom in ["x.pdf", "x.jpg"] {
        let entier = analyser(nom, data, FORMATS, 10)
            .map(drop)
            .map_err(|r| r.code().to_owned());
        assert_eq!(par_morceaux(nom, data, morceau, usize::MAX), entier);
        assert_eq!(
            par_morceaux(nom, data, morceau, 0),
            par_morceaux(nom, data, data.len().max(1), 0)
        );
    }
});
