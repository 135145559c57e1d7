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
        /// Target a running depot-server instead of starting one in this process; repeat
        /// for several instances of one espace (requests go round-robin, a request that
        /// finds an instance down goes to the next one).
        #[arg(long)]
        url: Vec<String>,
        /// With one --url: the server's process id, to read its peak RSS.
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
        /// With --server-bin: run the server, and the floors' server side, on these CPUs
        /// only (a list as `taskset -c` takes it: `0-1,3`)…
        #[arg(long, requires_all = ["server_bin", "tool_cpus"])]
        server_cpus: Option<String>,
        /// …and this tool's load generator on these, disjoint from --server-cpus. Without
        /// the pair, both share every core and the generator's CPU competes with the
        /// server's.
        #[arg(long, requires = "server_cpus")]
        tool_cpus: Option<String>,
    },
    /// One large upload: what a PDF and a JPEG of --size-mb MB add to a depot-server's peak
    /// RSS, against a 1 MB PDF in the same run.
    GrosFichier {
        /// Size of the large files, MB.
        #[arg(long, default_value_t = 50)]
        size_mb: usize,
        /// The depot-server binary to start (its limit raised above the size).
        #[arg(long)]
        server_bin: PathBuf,
        /// Working directory (removed at the end). Default: a new directory under ./target.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("depot-bench : {e}");
            std::process::exit(1);
        }
    }
}

fn gros_fichier(size_mb: usize, server_bin: PathBuf, dir: Option<PathBuf>) {
    let repertoire =
        dir.unwrap_or_else(|| PathBuf::from("target").join(format!("gros-{}", std::process::id())));
    if repertoire.exists() {
        eprintln!(
            "depot-bench gros-fichier : {} existe déjà ; choisissez un répertoire neuf",
            repertoire.display()
        );
        std::process::exit(2);
    }
    let r = runtime().block_on(depot_bench::gros::executer(
        &server_bin,
        &repertoire,
        size_mb,
    ));
    let _ = std::fs::remove_dir_all(&repertoire);
    let mesures = match r {
        Ok(m) => m,
        Err(e) => {
            eprintln!("depot-bench gros-fichier : {e}");
            std::process::exit(1);
        }
    };
    println!(
        "{:<22} {:>12} {:>7} {:>22}",
        "upload", "bytes", "status", "added to peak RSS MiB"
    );
    for m in &mesures {
        println!(
            "{:<22} {:>12} {:>7} {:>22.1}",
            m.quoi, m.octets, m.statut, m.ajout_mo
        );
    }
    let ajout = |i: usize| mesures.get(i).map_or(f64::NAN, |m| m.ajout_mo);
    println!(
        "gros-fichier: size_mb={size_mb} baseline_1mb_added_mb={:.1} pdf_added_mb={:.1} jpeg_added_mb={:.1}",
        ajout(0),
        ajout(1),
        ajout(2)
    );
    if mesures.iter().any(|m| m.statut != 201) {
        eprintln!("depot-bench gros-fichier : un dépôt a été refusé");
        std::process::exit(1);
    }
}

fn main() {
    let commande = Commande::parse();
    if let Commande::GrosFichier {
        size_mb,
        server_bin,
        dir,
    } = commande
    {
        gros_fichier(size_mb, server_bin, dir);
        return;
    }
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
        server_cpus,
        tool_cpus,
    } = commande
    else {
        return;
    };
    if let (Some(serveur), Some(outil)) = (server_cpus, tool_cpus) {
        // Before the runtime starts: its threads inherit the generator's CPUs.
        let partage = depot_bench::coeurs::Partage::new(&serveur, &outil)
            .and_then(depot_bench::coeurs::installer);
        if let Err(e) = partage {
            eprintln!("depot-bench rush : --server-cpus/--tool-cpus : {e}");
            std::process::exit(2);
        }
    }
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
    if !cree && !keep && url.is_empty() {
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
        urls: url,
        pid,
        binaire_serveur: server_bin,
        repertoire: repertoire.clone(),
        progression: None,
    };
    let runtime = runtime();
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
