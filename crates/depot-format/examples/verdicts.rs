//! Prints depot's verdict for every file under the directories given, one line each:
//! `accepte` or the refusal's code, a tab, the path (and, for a refusal, a tab and what it
//! says). For checking a set of real documents
//! against the rules: `cargo run -p depot-format --example verdicts -- DIR...`.

use std::path::{Path, PathBuf};

use depot_format::{Format, analyser};

fn fichiers(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entrees) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entrees.flatten() {
        let p = e.path();
        if p.is_dir() {
            fichiers(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn main() {
    let mut tous = Vec::new();
    for d in std::env::args().skip(1) {
        fichiers(Path::new(&d), &mut tous);
    }
    tous.sort();
    for p in tous {
        let Ok(octets) = std::fs::read(&p) else {
            continue;
        };
        let nom = p.file_name().map(|n| n.to_string_lossy().into_owned());
        match analyser(
            nom.as_deref().unwrap_or("?"),
            &octets,
            &[Format::Pdf, Format::Jpeg],
            200,
        ) {
            Ok(_) => println!("accepte\t{}", p.display()),
            Err(r) => println!("{}\t{}\t{r}", r.code(), p.display()),
        }
    }
}
