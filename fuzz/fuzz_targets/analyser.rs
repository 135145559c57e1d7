//! Fuzzes the format validator: any bytes, under a PDF or a JPEG name, must get a verdict
//! (accepted or a refusal with a code), never a panic, a hang or an unbounded allocation.
#![no_main]

use depot_core::{Format, analyser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for nom in ["x.pdf", "x.jpg"] {
        if let Err(r) = analyser(nom, data, &[Format::Pdf, Format::Jpeg], 10) {
            assert!(!r.code().is_empty());
        }
    }
});
