//! `depot-bench`: load tools that measure depot against the machine's floor.
//!
//! `depot-bench rush` simulates the last evening before the deadline (see [`depot_bench::rush`]).

use std::path::PathBuf;

use clap::Parser;

/// Load tools for depot.
#[derive(Debug, Parser)]
#[command(name = "depot-bench")]
enum Commande {
    /// The deadline rush: N candidates through pré-inscription, login, K uploads, dossier view
    /// and closure, with C requests in flight; then every dossier read back.
    Rush {
        /// Number of candidates.
        #[arg(long, default_value_t = 2000)]
        candidates: usize,
        /// Files uploaded per candidate.
        #[arg(long, default_value_t = 3)]
        files: usize,
        /// Size of each file, KiB.
        #[arg(long, default_value_t = 200)]
        size_kb: usize,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Target a running depot-server instead of starting one in this process.
        #[arg(long)]
        url: Option<String>,
        /// With --url: the server's process id, to read its peak RSS.
        #[arg(long)]
        pid: Option<u32>,
        /// Start this depot-server binary as a child process (its peak RSS is then the
        /// server's alone) instead of serving from this process.
        #[arg(long, conflicts_with = "url")]
        server_bin: Option<PathBuf>,
        /// Working directory (the in-process server's data, the raw floor's files); with
        /// --url, give a directory on the server's data disk. Removed at the end unless
        /// --keep. Default: a new directory under ./target.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Keep the working directory.
        #[arg(long)]
        keep: bool,
    },
}

fn main() {
    let Commande::Rush {
        candidates,
        files,
        size_kb,
        concurrency,
        url,
        pid,
        server_bin,
        dir,
        keep,
    } = Commande::parse();
    let (repertoire, cree) = match dir {
        Some(d) => {
            let cree = !d.exists();
            (d, cree)
        }
        None => {
            let d = PathBuf::from("target").join(format!("rush-{}", std::process::id()));
            (d, true)
        }
    };
    if !cree && !keep && url.is_none() {
        eprintln!(
            "depot-bench rush : {} existe déjà ; choisissez un répertoire neuf (ou --keep)",
            repertoire.display()
        );
        std::process::exit(2);
    }
    let options = depot_bench::rush::Options {
        candidats: candidates,
        fichiers: files,
        taille_ko: size_kb,
        concurrence: concurrency,
        url,
        pid,
        binaire_serveur: server_bin,
        repertoire: repertoire.clone(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("depot-bench rush : {e}");
            std::process::exit(1);
        }
    };
    let resultat = runtime.block_on(depot_bench::rush::executer(options));
    if cree && !keep {
        let _ = std::fs::remove_dir_all(&repertoire);
    }
    match resultat {
        Ok(r) => {
            print!("{}", r.tableau());
            println!("{}", r.ligne(candidates));
            if r.erreurs() > 0 || r.perdus > 0 {
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("depot-bench rush : {e}");
            std::process::exit(1);
        }
    }
}
