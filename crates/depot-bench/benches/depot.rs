//! `cargo bench -p depot-bench`: format validation throughput, the upload pipeline against
//! the raw durable-write floor (a ratio measured in the same run), an upload/delete cycle on
//! a dossier with a long history against a fresh one (the record must not grow with the
//! journal), the mail worker's round against reading every dossier, the rules on a 20-piece
//! dossier, and one argon2id hash (the login floor).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use depot_core::exemples::{jpeg_gris, pdf_image, pdf_pages};
use depot_core::memoire::MemoireIdentifiants;
use depot_core::testkit::pendant_preinscription;
use depot_core::{
    Concours, Dossier, DossierStore, ErreurEnvoi, Espace, Format, HorlogeFixe, Identite,
    MotDePasse, NumeroDossier, Ports, SystemRandom, ThreadPool, Voie, analyser,
};

fn validation(c: &mut Criterion) {
    let entrees: Vec<(&str, &str, Vec<u8>)> = vec![
        ("pdf-texte-1mo", "x.pdf", pdf_pages(20, 1 << 20, "")),
        ("pdf-texte-10mo", "x.pdf", pdf_pages(100, 10 << 20, "")),
        ("pdf-image-1mo", "x.pdf", pdf_image(1 << 20)),
        ("pdf-image-10mo", "x.pdf", pdf_image(10 << 20)),
        ("jpeg-1mp", "x.jpg", jpeg_gris(1280, 800, 400_000)),
        ("jpeg-12mp", "x.jpg", jpeg_gris(4000, 3000, 4_000_000)),
    ];
    let mut g = c.benchmark_group("validation");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    for (nom, fichier, octets) in &entrees {
        g.throughput(Throughput::Bytes(octets.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(nom), octets, |b, o| {
            b.iter(|| analyser(fichier, o, &[Format::Pdf, Format::Jpeg], 20).unwrap())
        });
    }
    g.finish();
}

/// A two-thread runtime and an espace on depot-fs in a temporary directory of the current
/// one (the disk the bench measures), for `concours`.
fn espace_fs(
    concours: &Concours,
) -> (
    tokio::runtime::Runtime,
    tempfile::TempDir,
    depot_fs::FsStore,
    Espace,
) {
    espace_fs_avec(concours, None)
}

/// The same, sending e-mail through `courrier`.
fn espace_fs_avec(
    concours: &Concours,
    courrier: Option<depot_core::courriel::Courrier>,
) -> (
    tokio::runtime::Runtime,
    tempfile::TempDir,
    depot_fs::FsStore,
    Espace,
) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir_in(std::env::current_dir().unwrap()).unwrap();
    let store = depot_fs::FsStore::open(dir.path().join("data")).unwrap();
    let ports = Ports::avec_stores(
        Arc::new(store.clone()),
        Arc::new(store.clone()),
        Arc::new(MemoireIdentifiants::new()),
    )
    .avec_horloge(Arc::new(HorlogeFixe::new(pendant_preinscription())))
    .avec_blocking(Arc::new(ThreadPool::new()));
    let ports = match courrier {
        Some(c) => ports.avec_courrier(c),
        None => ports,
    };
    let espace = Espace::new(vec![concours.clone()], ports).unwrap();
    (rt, dir, store, espace)
}

/// A new dossier of `concours`, not stored.
fn preinscrit(concours: &Concours) -> Dossier {
    let n = NumeroDossier::generer(concours.session, &concours.code, &SystemRandom);
    Dossier::preinscrire(
        n,
        concours,
        Voie::Externe,
        Identite::parse("A", "B", "a@b.fr").unwrap(),
        &[],
        pendant_preinscription(),
    )
    .unwrap()
    .0
}

/// Runs `a` then `b` 31 times, alternated so that both see the same disk conditions (this
/// virtual disk's fsync time changes by 4x from one minute to the next), and returns the
/// medians of each and the median ratio b/a of the pairs with its quartiles.
fn paires(
    mut a: impl FnMut(usize) -> Duration,
    mut b: impl FnMut(usize) -> Duration,
) -> (Duration, Duration, [f64; 3]) {
    let (mut ta, mut tb, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..31 {
        let x = a(i);
        let y = b(i);
        ta.push(x);
        tb.push(y);
        ratios.push(y.as_secs_f64() / x.as_secs_f64());
    }
    ta.sort();
    tb.sort();
    ratios.sort_by(f64::total_cmp);
    (ta[15], tb[15], [ratios[15], ratios[7], ratios[23]])
}

/// Upload pipeline (validate + SHA-256 + durable write + record) against a raw
/// write+fsync+rename of the same bytes in the same directory, alternated in the same run.
fn televersement(c: &mut Criterion) {
    let mut texte = include_str!("../../../examples/concours/animateur-2025.toml").to_owned();
    texte = texte.replace("taille_max_mo = 10", "taille_max_mo = 20");
    let concours = Concours::from_toml(&texte).unwrap();
    let (rt, dir, store, espace) = espace_fs(&concours);
    let brut = dir.path().join("brut");
    std::fs::create_dir_all(&brut).unwrap();
    let pdf = Bytes::from(pdf_image(10 << 20));
    let nouveau = || {
        let d = preinscrit(&concours);
        rt.block_on(store.create(&d)).unwrap();
        d.numero().clone()
    };
    // Ratio raw time / pipeline time: the pipeline's throughput relative to the raw floor.
    let (t_pipeline, t_brut, ratios) = paires(
        |_| {
            let n = nouveau();
            let t = Instant::now();
            rt.block_on(deposer_en_flux(&espace, &n, &pdf));
            t.elapsed()
        },
        |i| {
            let t = Instant::now();
            depot_bench::ecriture_brute(&brut, &format!("f{i}"), &pdf).unwrap();
            t.elapsed()
        },
    );
    println!(
        "upload pipeline, 10 MiB PDF, 31 alternated pairs: median {:.1} ms; raw write+fsync+rename median {:.1} ms; throughput ratio pipeline/raw: median of pairs {:.2} (quartiles {:.2}–{:.2})",
        t_pipeline.as_secs_f64() * 1e3,
        t_brut.as_secs_f64() * 1e3,
        ratios[0],
        ratios[1],
        ratios[2]
    );
    let mut g = c.benchmark_group("televersement-10mo");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Bytes(pdf.len() as u64));
    g.bench_function("pipeline", |bch| {
        bch.iter_batched(
            nouveau,
            |n| rt.block_on(deposer_en_flux(&espace, &n, &pdf)),
            criterion::BatchSize::PerIteration,
        )
    });
    let mut i = 0;
    g.bench_function("ecriture-brute", |bch| {
        bch.iter(|| {
            i += 1;
            depot_bench::ecriture_brute(&brut, &format!("g{i}"), &pdf).unwrap()
        })
    });
    g.finish();
}

/// An upload then a deletion on a dossier whose journal holds 4,000 entries, against the
/// same cycle on a fresh dossier, alternated in the same run (depot-fs, the default store).
/// While the journal lived in the record, every operation rewrote the whole history: the
/// ratio grew with it (the outside test: 4 ms on a fresh dossier, 111 ms after 8,300
/// cycles).
fn historique(c: &mut Criterion) {
    let concours = Concours::from_toml(include_str!(
        "../../../examples/concours/animateur-2025.toml"
    ))
    .unwrap();
    let (rt, _dir, store, espace) = espace_fs(&concours);
    let dossier = |entrees: usize| {
        let mut d = preinscrit(&concours);
        for i in 1..entrees {
            // A failure before each: every login is journaled.
            d.journaliser_connexion(
                1,
                pendant_preinscription() + chrono::Duration::seconds(i as i64),
            );
        }
        rt.block_on(store.create(&d)).unwrap();
        d.numero().clone()
    };
    let (neuf, ancien) = (dossier(1), dossier(4_000));
    let pdf = Bytes::from(depot_core::exemples::pdf_minimal());
    let cycle = |n: &NumeroDossier| {
        let t = Instant::now();
        rt.block_on(async {
            let f = espace
                .deposer(n, "piece-identite", "a.pdf", pdf.clone())
                .await
                .unwrap();
            espace.supprimer(n, &f.id).await.unwrap();
        });
        t.elapsed()
    };
    let (t_neuf, t_ancien, ratios) = paires(|_| cycle(&neuf), |_| cycle(&ancien));
    println!(
        "upload+delete cycle, 31 alternated pairs: fresh dossier median {:.1} ms; dossier with 4,000 journal entries median {:.1} ms; ratio long/fresh: median of pairs {:.2} (quartiles {:.2}–{:.2})",
        t_neuf.as_secs_f64() * 1e3,
        t_ancien.as_secs_f64() * 1e3,
        ratios[0],
        ratios[1],
        ratios[2]
    );
    let mut g = c.benchmark_group("historique");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    g.bench_function("cycle-dossier-neuf", |b| b.iter(|| cycle(&neuf)));
    g.bench_function("cycle-dossier-4000-entrees", |b| b.iter(|| cycle(&ancien)));
    g.finish();
}

/// A mail server that takes everything at once.
struct Avaloir;

#[async_trait::async_trait]
impl depot_core::courriel::Messagerie for Avaloir {
    async fn envoyer(
        &self,
        _: &depot_core::courriel::Courriel,
    ) -> Result<(), depot_core::courriel::ErreurMessagerie> {
        Ok(())
    }
}

/// The mail worker's full round over 2,000 dossiers with nothing due, against reading every
/// dossier (the floor of any round over the store), alternated; then what one message costs
/// to send (reserve, render, hand over, record: two record writes) on 200 dossiers.
fn courriels(c: &mut Criterion) {
    let concours = Concours::from_toml(include_str!(
        "../../../examples/concours/animateur-2025.toml"
    ))
    .unwrap();
    let courrier = depot_core::courriel::Courrier {
        messagerie: Arc::new(Avaloir),
        url_publique: "https://concours.cdg-exemple.fr".into(),
    };
    let (rt, _dir, store, espace) = espace_fs_avec(&concours, Some(courrier));
    for _ in 0..2_000 {
        rt.block_on(store.create(&preinscrit(&concours))).unwrap();
    }
    let lire_tout = |_| {
        let t = Instant::now();
        assert_eq!(rt.block_on(espace.lister()).unwrap().len(), 2_000);
        t.elapsed()
    };
    let tournee = |_| {
        let t = Instant::now();
        let b = rt.block_on(espace.distribuer_courriels()).unwrap();
        assert_eq!(b, Default::default());
        t.elapsed()
    };
    let (t_lire, t_tournee, ratios) = paires(lire_tout, tournee);
    println!(
        "mail worker round over 2,000 dossiers, nothing due: median {:.1} ms; reading every dossier: median {:.1} ms; ratio round/read: median of pairs {:.2} (quartiles {:.2}–{:.2})",
        t_tournee.as_secs_f64() * 1e3,
        t_lire.as_secs_f64() * 1e3,
        ratios[0],
        ratios[1],
        ratios[2]
    );
    let (rt2, _dir2, store2, espace2) = espace_fs_avec(
        &concours,
        Some(depot_core::courriel::Courrier {
            messagerie: Arc::new(Avaloir),
            url_publique: "https://x.fr".into(),
        }),
    );
    for i in 0..200 {
        let mut d = preinscrit(&concours);
        d.programmer_courriel(
            depot_core::courriel::SorteCourriel::Preinscription,
            format!("{i:032x}"),
            pendant_preinscription(),
        );
        rt2.block_on(store2.create(&d)).unwrap();
    }
    let t = Instant::now();
    let b = rt2.block_on(espace2.distribuer_courriels()).unwrap();
    let d = t.elapsed();
    assert_eq!(b.envoyes, 200);
    println!(
        "sending 200 queued messages (fs, fsync on): {:.1} ms, {:.2} ms per message",
        d.as_secs_f64() * 1e3,
        d.as_secs_f64() * 1e3 / 200.0
    );
    let mut g = c.benchmark_group("courriels");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.bench_function("tournee-2000-dossiers-rien-a-envoyer", |b| {
        b.iter(|| rt.block_on(espace.distribuer_courriels()).unwrap())
    });
    g.finish();
}

/// The upload as every caller runs it, without HTTP: 64 KiB chunks handed to
/// `Espace::deposer_flux` (checked while the store writes, fsyncs and hashes them, then
/// recorded).
async fn deposer_en_flux(espace: &Espace, numero: &NumeroDossier, pdf: &Bytes) {
    let morceaux: Vec<Result<Bytes, ErreurEnvoi>> = (0..pdf.len())
        .step_by(65_536)
        .map(|debut| Ok(pdf.slice(debut..(debut + 65_536).min(pdf.len()))))
        .collect();
    espace
        .deposer_flux(
            numero,
            "piece-identite",
            "scan.pdf",
            futures_util::stream::iter(morceaux),
        )
        .await
        .unwrap();
}

/// The rules on a dossier of 20 pieces, each with a file.
fn regles(c: &mut Criterion) {
    let mut texte = String::from(
        "[concours]\ncode = \"bench\"\nintitule = \"Bench\"\nsession = 2025\norganisateur = \"CDG\"\nvoies = [\"externe\"]\n[calendrier]\npreinscription_ouverture = \"2025-03-01\"\npreinscription_cloture = \"2025-04-09\"\ndepot_cloture = \"2025-04-17\"\n",
    );
    for i in 0..20 {
        texte.push_str(&format!(
            "[[pieces]]\ncode = \"p{i}\"\nlibelle = \"Pièce {i}\"\nexigence = \"obligatoire\"\n"
        ));
    }
    let concours = Concours::from_toml(&texte).unwrap();
    let n = NumeroDossier::generer(2025, &concours.code, &SystemRandom);
    let (mut d, _) = Dossier::preinscrire(
        n,
        &concours,
        Voie::Externe,
        Identite::parse("A", "B", "a@b.fr").unwrap(),
        &[],
        pendant_preinscription(),
    )
    .unwrap();
    let a = analyser(
        "a.pdf",
        &depot_core::exemples::pdf_minimal(),
        &[Format::Pdf],
        10,
    )
    .unwrap();
    for i in 0..20 {
        d.deposer(
            &concours,
            &format!("p{i}"),
            depot_core::FichierId::generer(&SystemRandom),
            &a,
            pendant_preinscription(),
        )
        .unwrap();
    }
    let now = pendant_preinscription();
    let mut g = c.benchmark_group("regles-20-pieces");
    g.bench_function("date-limite", |b| {
        b.iter(|| {
            std::hint::black_box(
                concours
                    .calendrier
                    .depot_cloture
                    .est_depassee(std::hint::black_box(now)),
            )
        })
    });
    g.bench_function("controler-depot", |b| {
        b.iter(|| d.controler_depot(&concours, "p19", now).is_err())
    });
    g.bench_function("pieces-manquantes", |b| {
        b.iter(|| d.pieces_manquantes(&concours).len())
    });
    g.bench_function("cloturable", |b| b.iter(|| d.cloturable(&concours, now)));
    let signataire = depot_core::SignataireEd25519::generer(&SystemRandom, now);
    g.bench_function("cloturer-et-signer", |b| {
        b.iter_batched(
            || d.clone(),
            |mut x| x.cloturer(&concours, now, &signataire).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn argon2(c: &mut Criterion) {
    let a = depot_core::Argon2id::default();
    let mdp = MotDePasse::from("lune verte sur le toit de Laval");
    let h = a.hacher_sync(&mdp).unwrap();
    let mut g = c.benchmark_group("argon2id");
    g.sample_size(10);
    g.bench_function("hacher", |b| b.iter(|| a.hacher_sync(&mdp).unwrap()));
    g.bench_function("verifier", |b| b.iter(|| a.verifier_sync(&h, &mdp)));
    g.finish();
}

criterion_group!(
    benches,
    validation,
    televersement,
    historique,
    courriels,
    regles,
    argon2
);
criterion_main!(benches);
