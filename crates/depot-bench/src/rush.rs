//! The deadline rush: N candidates, C at a time, through the whole procedure over HTTP —
//! pré-inscription, login, K uploads, dossier view, closure — then every dossier read back.
//!
//! Each phase runs for every candidate before the next starts, so each has its own wall
//! time. Two floors are measured in the same run, before the rush, on the same disk and the
//! same cores: the raw durable write of the same bytes (write + fsync + rename + fsync of
//! the directory, with the same concurrency) and N argon2id hashes on all cores.
//!
//! Against several instances (`--url` repeated), requests go round-robin and a candidate's
//! token is used on whichever instance the next request reaches. A request that meets an
//! instance down (connection refused or cut, 502/503/504) is sent again to the next one:
//! it counts in `retried`, not in `errors`; an upload sent again is then reconciled by its
//! content (the first try may have been recorded by an instance that died before answering:
//! one copy is kept, the others removed). The read-back then checks every acknowledged
//! file and closure, and verifies every récépissé with the published keys.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use depot_core::{Argon2id, MemoireArgon2, MotDePasse, Sha256};
use tokio::sync::Semaphore;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Number of candidates.
    pub candidats: usize,
    /// Files uploaded per candidate.
    pub fichiers: usize,
    /// Size of each file, in KiB.
    pub taille_ko: usize,
    /// Requests in flight at once.
    pub concurrence: usize,
    /// Running servers to target instead of starting one in this process: several
    /// instances of one espace, used round-robin.
    pub urls: Vec<String>,
    /// The server's process id (with `url`), to read its peak RSS.
    pub pid: Option<u32>,
    /// Start this depot-server binary as a child process (so that its peak RSS is the
    /// server's alone) instead of serving from this process.
    pub binaire_serveur: Option<PathBuf>,
    /// Working directory: the in-process server's data and the raw floor's files live here
    /// (give the server's data disk with `url`).
    pub repertoire: PathBuf,
    /// Counts the uploads acknowledged so far (for a test that acts in the middle of them).
    pub progression: Option<Arc<AtomicUsize>>,
}

/// One phase's figures.
#[derive(Debug, Clone)]
pub struct Phase {
    /// Its name.
    pub nom: &'static str,
    /// Operations attempted.
    pub operations: usize,
    /// Operations that failed.
    pub erreurs: usize,
    /// Wall time of the whole phase.
    pub duree: Duration,
    /// Latencies of the successful operations, sorted.
    pub latences: Vec<Duration>,
    /// The server's resident memory at the end of the phase, MiB, when it can be read.
    pub rss_mo: Option<f64>,
    /// CPU time the server process used during the phase (user + system), when it can be
    /// read (in-process, it includes the load generator).
    pub cpu: Option<Duration>,
    /// Of [`cpu`](Self::cpu), what the server's password-hashing threads (`argon2-*`) used.
    pub cpu_argon2: Option<Duration>,
    /// CPU time this tool's process (the load generator) used during the phase, when the
    /// server is another process: on one machine, the two share its cores.
    pub cpu_outil: Option<Duration>,
}

/// The latency below which a share `q` of sorted `latences` fall.
fn quantile(latences: &[Duration], q: f64) -> Duration {
    if latences.is_empty() {
        return Duration::ZERO;
    }
    let i = ((latences.len() as f64 * q).ceil() as usize).clamp(1, latences.len());
    latences[i - 1]
}

impl Phase {
    /// The latency below which a share `q` of the operations fall.
    pub fn quantile(&self, q: f64) -> Duration {
        quantile(&self.latences, q)
    }

    /// Operations per second over the phase's wall time.
    pub fn par_seconde(&self) -> f64 {
        self.operations as f64 / self.duree.as_secs_f64().max(1e-9)
    }
}

/// The run's result.
#[derive(Debug, Clone)]
pub struct Rapport {
    /// The phases, in order.
    pub phases: Vec<Phase>,
    /// Raw durable floor: wall time to write the same bytes (the median of three
    /// measurements: disks in virtual machines vary by more than 2× from one minute to the
    /// next).
    pub plancher_ecriture: Duration,
    /// The raw floor measured before the rush, just before the uploads, and after.
    pub plancher_mesures: [Duration; 3],
    /// Bytes uploaded (and written by the floor).
    pub octets: u64,
    /// Argon2 floor: wall time of N hashes on all cores.
    pub plancher_argon2: Duration,
    /// CPU time of the argon2 floor's threads (user + system).
    pub plancher_argon2_cpu: Option<Duration>,
    /// The closure's floor (`plancher_cloture`): latencies of the durable steps of a
    /// closure's save alone, sorted, measured just before the closures.
    pub plancher_cloture: Vec<Duration>,
    /// CPU floor of the uploads: the CPU time of their irreducible work on the same bytes
    /// ([`plancher_cpu`]), measured just before the uploads.
    pub plancher_cpu: Duration,
    /// Cores used by the argon2 floor: the server's cores.
    pub coeurs: usize,
    /// The load generator's cores when it runs apart from the server (`--tool-cpus`, see
    /// [`crate::coeurs`]); `None` when both share the `coeurs`.
    pub coeurs_outil: Option<usize>,
    /// Requests in flight at once (and the floors' threads).
    pub concurrence: usize,
    /// Files or closures acknowledged but missing or different when read back, and
    /// récépissés that do not verify.
    pub perdus: usize,
    /// Requests sent again to another instance after one was found down.
    pub reessais: usize,
    /// Peak resident memory of the server, MiB (`None` when it cannot be read).
    pub pic_rss_mo: Option<f64>,
    /// Where the peak RSS comes from.
    pub source_rss: &'static str,
    /// First error messages, for diagnosis.
    pub exemples_erreurs: Vec<String>,
}

impl Rapport {
    fn phase(&self, nom: &str) -> Option<&Phase> {
        self.phases.iter().find(|p| p.nom == nom)
    }

    /// Failed operations in all phases.
    pub fn erreurs(&self) -> usize {
        self.phases.iter().map(|p| p.erreurs).sum()
    }

    /// The lowest `upload_ratio_vs_raw` this machine allows with this tool, whatever the
    /// server: the upload phase cannot take less wall time than the CPU floor of the
    /// uploads and the tool's own CPU in that phase shared over the cores (server and load
    /// generator on the same ones; on separate cores, the slower of the two sides), and the
    /// closure phase's wall adds to it. `None` when the tool's CPU is not known (server
    /// in-process).
    pub fn borne_cpu_televersement(&self) -> Option<f64> {
        let outil = self.phase("depot")?.cpu_outil?;
        let cloture = self.phase("cloture").map_or(Duration::ZERO, |p| p.duree);
        let coeurs = self.coeurs.max(1) as f64;
        let depot = match self.coeurs_outil {
            None => (self.plancher_cpu + outil).as_secs_f64() / coeurs,
            Some(c) => (self.plancher_cpu.as_secs_f64() / coeurs)
                .max(outil.as_secs_f64() / c.max(1) as f64),
        };
        Some((depot + cloture.as_secs_f64()) / self.plancher_ecriture.as_secs_f64().max(1e-9))
    }

    /// The machine-readable last line.
    pub fn ligne(&self, candidats: usize) -> String {
        let cloture = self.phase("cloture");
        let depot = self.phase("depot").map_or(Duration::ZERO, |p| p.duree);
        let connexion = self.phase("connexion").map_or(Duration::ZERO, |p| p.duree);
        let cl = cloture.map_or(Duration::ZERO, |p| p.duree);
        let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
        let cpu_depot = self.phase("depot").and_then(|p| p.cpu);
        format!(
            "rush: candidates={candidats} closures_per_s={:.1} p99_close_ms={:.1} p99_close_floor_ms={:.1} errors={} lost={} retried={} upload_ratio_vs_raw={:.2} upload_cpu_ratio={} login_ratio_vs_argon2={:.2} peak_rss_mb={}",
            cloture.map_or(0.0, Phase::par_seconde),
            cloture.map_or(0.0, |p| p.quantile(0.99).as_secs_f64() * 1000.0),
            quantile(&self.plancher_cloture, 0.99).as_secs_f64() * 1000.0,
            self.erreurs(),
            self.perdus,
            self.reessais,
            ratio(depot + cl, self.plancher_ecriture),
            cpu_depot.map_or("inconnu".to_owned(), |c| format!(
                "{:.2}",
                ratio(c, self.plancher_cpu)
            )),
            ratio(connexion, self.plancher_argon2),
            self.pic_rss_mo
                .map_or("inconnu".to_owned(), |m| format!("{m:.1}")),
        ) + &self
            .coeurs_outil
            .map_or(String::new(), |c| format!(" cpus={}+{c}", self.coeurs))
    }

    /// The human-readable table.
    pub fn tableau(&self) -> String {
        let mut t = format!(
            "{:<16} {:>7} {:>9} {:>9} {:>9} {:>7} {:>8} {:>9} {:>9} {:>10}\n",
            "phase",
            "ops",
            "ops/s",
            "p50 ms",
            "p99 ms",
            "errors",
            "wall s",
            "rss MiB",
            "cpu s",
            "tool cpu s"
        );
        for p in &self.phases {
            t.push_str(&format!(
                "{:<16} {:>7} {:>9.1} {:>9.1} {:>9.1} {:>7} {:>8.2} {:>9} {:>9} {:>10}\n",
                p.nom,
                p.operations,
                p.par_seconde(),
                p.quantile(0.5).as_secs_f64() * 1000.0,
                p.quantile(0.99).as_secs_f64() * 1000.0,
                p.erreurs,
                p.duree.as_secs_f64(),
                p.rss_mo.map_or("-".to_owned(), |m| format!("{m:.1}")),
                p.cpu
                    .map_or("-".to_owned(), |d| format!("{:.2}", d.as_secs_f64())),
                p.cpu_outil
                    .map_or("-".to_owned(), |d| format!("{:.2}", d.as_secs_f64())),
            ));
        }
        let mo = self.octets as f64 / (1024.0 * 1024.0);
        t.push_str(&format!(
            "floor: raw durable write of {mo:.1} MiB in {:.2} s ({:.1} MiB/s; median of {:.2} s before the rush, {:.2} s before the uploads, {:.2} s after); argon2id: hashes on {} cores in {:.2} s\n",
            self.plancher_ecriture.as_secs_f64(),
            mo / self.plancher_ecriture.as_secs_f64().max(1e-9),
            self.plancher_mesures[0].as_secs_f64(),
            self.plancher_mesures[1].as_secs_f64(),
            self.plancher_mesures[2].as_secs_f64(),
            self.coeurs,
            self.plancher_argon2.as_secs_f64(),
        ));
        let plus_rapide = self
            .plancher_mesures
            .iter()
            .min()
            .copied()
            .unwrap_or_default();
        let televersement = ["depot", "cloture"]
            .iter()
            .filter_map(|n| self.phase(n))
            .map(|p| p.duree)
            .sum::<Duration>();
        t.push_str(&format!(
            "upload+closure wall / raw floor: {:.2} against the median floor, {:.2} against the fastest\n",
            televersement.as_secs_f64() / self.plancher_ecriture.as_secs_f64().max(1e-9),
            televersement.as_secs_f64() / plus_rapide.as_secs_f64().max(1e-9),
        ));
        t.push_str(&format!(
            "CPU floor of the uploads: {:.2} CPU-s (same bytes read from a loopback socket, SHA-256, depot's format check, write + fsync + rename){}\n",
            self.plancher_cpu.as_secs_f64(),
            self.phase("depot").and_then(|p| p.cpu).map_or(String::new(), |c| format!(
                "; the server spent {:.2} CPU-s in the upload phase: {:.2}× the floor",
                c.as_secs_f64(),
                c.as_secs_f64() / self.plancher_cpu.as_secs_f64().max(1e-9)
            )),
        ));
        if let Some(b) = self.borne_cpu_televersement() {
            let ou = self.coeurs_outil.map_or_else(
                || format!("on {} cores", self.coeurs),
                |c| format!("on their {} and {c} cores", self.coeurs),
            );
            t.push_str(&format!(
                "upload+closure wall / raw floor cannot go below {b:.2} here: the CPU floor of the uploads and this tool's CPU in the upload phase {ou}, plus the closure phase's wall\n",
            ));
        }
        if let Some(c) = self.coeurs_outil {
            t.push_str(&format!(
                "cores: the server and the floors' server side on {}, the load generator on {c} (--server-cpus, --tool-cpus)\n",
                self.coeurs
            ));
        }
        t.push_str(&format!(
            "closure floor (a record slot overwritten + fdatasync, a journal append + fdatasync; {} at {} at once, just before the closures): p50 {:.1} ms, p99 {:.1} ms\n",
            self.plancher_cloture.len(),
            self.concurrence,
            quantile(&self.plancher_cloture, 0.5).as_secs_f64() * 1000.0,
            quantile(&self.plancher_cloture, 0.99).as_secs_f64() * 1000.0,
        ));
        if let Some(p) = self.phase("connexion")
            && let (Some(cpu), Some(a2)) = (p.cpu, p.cpu_argon2)
        {
            let n = p.operations.max(1) as f64;
            let ms = |d: Duration| d.as_secs_f64() * 1000.0 / n;
            t.push_str(&format!(
                "login CPU: argon2 threads {:.2} ms per login{}, the server's other threads {:.2} ms per login\n",
                ms(a2),
                self.plancher_argon2_cpu.map_or(String::new(), |f| format!(
                    " (floor: {:.2} ms per hash)",
                    ms(f)
                )),
                ms(cpu.saturating_sub(a2)),
            ));
        }
        if let Some(m) = self.pic_rss_mo {
            t.push_str(&format!("peak RSS: {m:.1} MiB ({})\n", self.source_rss));
        }
        for e in &self.exemples_erreurs {
            t.push_str(&format!("error: {e}\n"));
        }
        t
    }
}

/// A candidate as the tool knows it.
#[derive(Debug, Default, Clone)]
struct Candidat {
    numero: String,
    mot_de_passe: String,
    /// The session's token, used on any instance.
    jeton: Option<String>,
    /// Acknowledged files: id and SHA-256.
    fichiers: Vec<(String, String)>,
    cloture: bool,
}

/// Where each of the K files goes, and in which format.
#[derive(Debug, Clone)]
pub struct Emplacement {
    piece: String,
    pdf: bool,
}

/// Builds the content of file `j` of candidate `i`: a valid PDF (an image-like stream) or
/// JPEG (comment padding) of about `taille` bytes, unique to (i, j) so that nothing can be
/// deduplicated. One model per format and size is built once; each file is a copy with its
/// own mark, so the load generator spends its CPU on copying, not on building files.
pub fn contenu(i: usize, j: usize, taille: usize, pdf: bool) -> Vec<u8> {
    type Modeles = std::collections::HashMap<(usize, bool), Arc<(Vec<u8>, usize)>>;
    static MODELES: std::sync::OnceLock<std::sync::Mutex<Modeles>> = std::sync::OnceLock::new();
    let modele = {
        let mut m = MODELES
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        m.entry((taille, pdf))
            .or_insert_with(|| Arc::new(modele(taille, pdf)))
            .clone()
    };
    let (octets, position) = &*modele;
    let mut o = octets.clone();
    let marque = format!("{i:010}-{j:04}-depot-rush");
    let fin = (position + marque.len()).min(o.len());
    if *position < fin {
        o[*position..fin].copy_from_slice(&marque.as_bytes()[..fin - position]);
    }
    o
}

/// A model file and where its mark goes (inside the PDF's image data, inside the JPEG's
/// first comment).
fn modele(taille: usize, pdf: bool) -> (Vec<u8>, usize) {
    if pdf {
        let o = depot_core::exemples::pdf_image(taille.saturating_sub(600).max(64));
        let p = trouver(&o, b"/Subtype /Image")
            .and_then(|d| trouver(&o[d..], b"stream\n").map(|s| d + s + 7))
            .unwrap_or(o.len());
        (o, p)
    } else {
        let o = depot_core::exemples::jpeg_gris(640, 480, taille.saturating_sub(400).max(64));
        // The first comment segment's data starts after SOI (2), APP0 (18) and its header (4).
        let p = if o.len() > 64 && o[20..22] == [0xFF, 0xFE] {
            24
        } else {
            o.len()
        };
        (o, p)
    }
}

fn trouver(botte: &[u8], aiguille: &[u8]) -> Option<usize> {
    botte.windows(aiguille.len()).position(|w| w == aiguille)
}

fn mot_de_passe(i: usize) -> String {
    let mut o = [0u8; 12];
    depot_core::Random::remplir(&depot_core::SystemRandom, &mut o);
    let h = hex::encode(o);
    format!("Rush-{i}-{h}")
}

/// Runs `f` for every index with at most `concurrence` in flight; one latency per success.
async fn phase<F, Fut>(
    nom: &'static str,
    n: usize,
    concurrence: usize,
    ctx: &Arc<Contexte>,
    f: F,
) -> (Phase, Vec<String>)
where
    F: Fn(Arc<Contexte>, usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    let permis = Arc::new(Semaphore::new(concurrence.max(1)));
    let debut = Instant::now();
    let outil_avant = cpu_de("/proc/self/stat");
    let mut taches = tokio::task::JoinSet::new();
    for i in 0..n {
        let (travail, permis) = (f(ctx.clone(), i), permis.clone());
        taches.spawn(async move {
            let _p = permis.acquire_owned().await.map_err(|e| e.to_string())?;
            let t = Instant::now();
            travail.await.map(|()| t.elapsed())
        });
    }
    let mut latences = Vec::with_capacity(n);
    let mut erreurs = 0;
    let mut messages = Vec::new();
    while let Some(r) = taches.join_next().await {
        match r.map_err(|e| e.to_string()).and_then(|r| r) {
            Ok(d) => latences.push(d),
            Err(e) => {
                erreurs += 1;
                if messages.len() < 5 {
                    messages.push(format!("{nom}: {e}"));
                }
            }
        }
    }
    let duree = debut.elapsed();
    let cpu_outil = cpu_de("/proc/self/stat")
        .zip(outil_avant)
        .map(|(a, b)| a.saturating_sub(b));
    latences.sort();
    (
        Phase {
            nom,
            operations: n,
            erreurs,
            duree,
            latences,
            rss_mo: None,
            cpu: None,
            cpu_argon2: None,
            cpu_outil,
        },
        messages,
    )
}

/// What every request of the rush needs, and what the candidates got back.
struct Contexte {
    /// One client per instance.
    clients: Vec<depot_client::Client>,
    /// Round-robin position.
    tour: AtomicUsize,
    reessais: AtomicUsize,
    progression: Option<Arc<AtomicUsize>>,
    /// The published keys, read once (for the récépissés' verification).
    cles: std::sync::OnceLock<depot_core::Cles>,
    code: String,
    voie: String,
    k: usize,
    taille: usize,
    candidats: Vec<tokio::sync::Mutex<Candidat>>,
    places: std::sync::OnceLock<Vec<Emplacement>>,
    perdus: AtomicUsize,
}

fn texte(e: depot_client::Erreur) -> String {
    e.to_string()
}

/// An instance down or going down: the request may go to another one.
fn instance_tombee(e: &depot_client::Erreur) -> bool {
    match e {
        depot_client::Erreur::Transport(_) => true,
        depot_client::Erreur::Api { statut, .. } | depot_client::Erreur::Reponse { statut, .. } => {
            matches!(statut, 502..=504)
        }
        _ => false,
    }
}

impl Contexte {
    /// Sends a request to the next instance; when it finds that instance down, to the
    /// following ones (each at most twice, 100 ms apart), counting the retries.
    async fn partout<T, F, Fut>(&self, f: F) -> Result<T, String>
    where
        F: Fn(depot_client::Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, depot_client::Erreur>>,
    {
        let n = self.clients.len();
        let debut = self.tour.fetch_add(1, Ordering::Relaxed);
        let mut derniere = String::new();
        for essai in 0..2 * n {
            if essai > 0 {
                self.reessais.fetch_add(1, Ordering::Relaxed);
                if essai % n == 0 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            match f(self.clients[(debut + essai) % n].clone()).await {
                Ok(v) => return Ok(v),
                Err(e) if n > 1 && instance_tombee(&e) => derniere = texte(e),
                Err(e) => return Err(texte(e)),
            }
        }
        Err(format!("aucune instance ne répond : {derniere}"))
    }

    async fn preinscrire(&self, nom: &str, email: &str, mdp: &str) -> Result<String, String> {
        let demande = depot_client::Preinscription {
            concours: Some(self.code.clone()),
            voie: self.voie.clone(),
            nom: nom.to_owned(),
            prenom: "Rush".to_owned(),
            email: email.to_owned(),
            declarations: Vec::new(),
            mot_de_passe: mdp.to_owned(),
        };
        self.partout(|c| {
            let demande = demande.clone();
            async move { c.preinscrire(&demande).await }
        })
        .await
    }

    async fn jeton(&self, i: usize) -> Result<String, String> {
        self.candidats[i]
            .lock()
            .await
            .jeton
            .clone()
            .ok_or_else(|| "pas connecté".to_owned())
    }

    async fn candidat_preinscrit(&self, i: usize) -> Result<(), String> {
        let mdp = mot_de_passe(i);
        let email = format!("candidat{i}@rush.exemple.fr");
        let numero = self
            .preinscrire(&format!("Candidat{i}"), &email, &mdp)
            .await?;
        let mut c = self.candidats[i].lock().await;
        c.numero = numero;
        c.mot_de_passe = mdp;
        Ok(())
    }

    async fn candidat_connecte(&self, i: usize) -> Result<(), String> {
        let (numero, mdp) = {
            let c = self.candidats[i].lock().await;
            (c.numero.clone(), c.mot_de_passe.clone())
        };
        if numero.is_empty() {
            return Err("pas pré-inscrit".into());
        }
        let session = self
            .partout(|c| {
                let (numero, mdp) = (numero.clone(), mdp.clone());
                async move { c.connecter(&numero, &mdp).await }
            })
            .await?;
        self.candidats[i].lock().await.jeton = Some(session.jeton().to_owned());
        Ok(())
    }

    /// Upload `x`: file `x % K` of candidate `x / K`.
    async fn fichier_depose(&self, x: usize) -> Result<(), String> {
        let (i, j) = (x / self.k, x % self.k);
        let jeton = self.jeton(i).await?;
        let place = self
            .places
            .get()
            .and_then(|p| p.get(j))
            .ok_or("emplacement inconnu")?;
        let octets = contenu(i, j, self.taille, place.pdf);
        let sha = Sha256::de(&octets).hex();
        let nom = if place.pdf { "piece.pdf" } else { "piece.jpg" };
        let envois = AtomicUsize::new(0);
        let envoi = self
            .partout(|c| {
                envois.fetch_add(1, Ordering::Relaxed);
                let (s, octets) = (c.reprendre(jeton.clone()), octets.clone());
                async move { s.deposer(&place.piece, nom, octets).await }
            })
            .await;
        let id = if envois.load(Ordering::Relaxed) > 1 {
            // Sent again after an instance went down: the first try may have been recorded
            // before the instance died without answering. Reconcile by content, as a careful
            // client does: keep one file with this content, remove the others.
            self.reconcilier(&jeton, &sha, envoi).await?
        } else {
            let fichier = envoi?;
            if fichier.sha256 != sha {
                return Err("empreinte annoncée différente de l'envoi".into());
            }
            fichier.id
        };
        self.candidats[i].lock().await.fichiers.push((id, sha));
        if let Some(p) = &self.progression {
            p.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// After an upload sent more than once: the id of the one file kept with content `sha`
    /// (the acknowledged one if an answer came, otherwise one the dossier lists), the other
    /// copies removed.
    async fn reconcilier(
        &self,
        jeton: &str,
        sha: &str,
        envoi: Result<depot_client::Fichier, String>,
    ) -> Result<String, String> {
        let v = self
            .partout(|c| {
                let s = c.reprendre(jeton.to_owned());
                async move { s.dossier().await }
            })
            .await?;
        let memes: Vec<String> = v
            .fichiers()
            .filter(|f| f.sha256 == sha)
            .map(|f| f.id.clone())
            .collect();
        let garde = match envoi {
            Ok(f) if f.sha256 == sha => f.id,
            Ok(_) => return Err("empreinte annoncée différente de l'envoi".into()),
            Err(e) => memes.first().cloned().ok_or(e)?,
        };
        for id in memes.iter().filter(|id| **id != garde) {
            self.partout(|c| {
                let (s, id) = (c.reprendre(jeton.to_owned()), id.clone());
                async move { s.supprimer(&id).await }
            })
            .await?;
        }
        Ok(garde)
    }

    async fn dossier_vu(&self, i: usize) -> Result<(), String> {
        let jeton = self.jeton(i).await?;
        let v = self
            .partout(|c| {
                let s = c.reprendre(jeton.clone());
                async move { s.dossier().await }
            })
            .await?;
        if !v.cloturable {
            return Err(format!(
                "dossier non clôturable : {:?}",
                v.pieces_manquantes
            ));
        }
        Ok(())
    }

    async fn dossier_cloture(&self, i: usize) -> Result<(), String> {
        let jeton = self.jeton(i).await?;
        let c = self
            .partout(|c| {
                let s = c.reprendre(jeton.clone());
                async move { s.cloturer().await }
            })
            .await?;
        if c.etat != "cloture" {
            return Err(format!("état après clôture : {}", c.etat));
        }
        self.candidats[i].lock().await.cloture = true;
        Ok(())
    }

    /// Reads a candidate's dossier back: every acknowledged file listed with its SHA-256
    /// and served with the same bytes, an acknowledged closure recorded. What is missing
    /// counts as lost.
    async fn dossier_relu(&self, i: usize) -> Result<(), String> {
        let cand = self.candidats[i].lock().await.clone();
        let Some(jeton) = cand.jeton else {
            return Ok(());
        };
        let lire = |c: depot_client::Client| {
            let s = c.reprendre(jeton.clone());
            async move { s.dossier().await }
        };
        let v = self.partout(lire).await?;
        let mut perdus = usize::from(cand.cloture && v.etat != "cloture");
        let listes: Vec<(&str, &str)> = v
            .fichiers()
            .map(|f| (f.id.as_str(), f.sha256.as_str()))
            .collect();
        for (id, sha) in &cand.fichiers {
            if !listes.contains(&(id.as_str(), sha.as_str())) {
                perdus += 1;
                continue;
            }
            let octets = self
                .partout(|c| {
                    let s = c.reprendre(jeton.clone());
                    let id = id.clone();
                    async move {
                        match s.voir(&id).await {
                            // Refused: counted as lost below, not retried.
                            Err(depot_client::Erreur::Api { statut, .. })
                                if !(502..=504).contains(&statut) =>
                            {
                                Ok(None)
                            }
                            r => r.map(Some),
                        }
                    }
                })
                .await?;
            if octets.is_none_or(|o| Sha256::de(&o).hex() != *sha) {
                perdus += 1;
            }
        }
        // An acknowledged closure has a récépissé that verifies with the published keys.
        if cand.cloture {
            let octets = self
                .partout(|c| {
                    let s = c.reprendre(jeton.clone());
                    async move { s.recepisse().await }
                })
                .await?;
            let valide = self
                .cles
                .get()
                .is_some_and(|cles| depot_core::verifier_recepisse(&octets, cles).is_ok());
            perdus += usize::from(!valide);
        }
        self.perdus.fetch_add(perdus, Ordering::Relaxed);
        Ok(())
    }
}

/// Runs `etape(i)` for every `i` in `0..n` on `concurrence` threads, each taking the next
/// `i` in turn: the floors' way of keeping `concurrence` operations in flight. A thread stops
/// at its first error, which is returned once all have ended; otherwise every step's
/// result, in no particular order.
fn en_parallele<T: Send>(
    n: usize,
    concurrence: usize,
    etape: impl Fn(usize) -> std::io::Result<T> + Sync,
) -> std::io::Result<Vec<T>> {
    let suivant = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let fils: Vec<_> = (0..concurrence.min(n).max(1))
            .map(|_| {
                s.spawn(|| {
                    crate::coeurs::cote_serveur();
                    let mut sorties = Vec::new();
                    loop {
                        let i = suivant.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            return Ok(sorties);
                        }
                        sorties.push(etape(i)?);
                    }
                })
            })
            .collect();
        let mut toutes = Vec::with_capacity(n);
        let mut echec = None;
        for f in fils {
            match f.join() {
                Ok(Ok(sorties)) => toutes.extend(sorties),
                Ok(Err(e)) => {
                    echec.get_or_insert(e);
                }
                Err(_) => {
                    echec.get_or_insert(std::io::Error::other("plancher : fil interrompu"));
                }
            }
        }
        echec.map_or(Ok(toutes), Err)
    })
}

/// The raw durable floor: the same files written with the same concurrency, by threads.
fn plancher_ecriture(
    dir: &Path,
    fichiers: usize,
    concurrence: usize,
    taille: usize,
    emplacements: &[Emplacement],
) -> std::io::Result<(Duration, u64)> {
    std::fs::create_dir_all(dir)?;
    let k = emplacements.len().max(1);
    let debut = Instant::now();
    let octets = en_parallele(fichiers, concurrence, |n| {
        let c = contenu(n / k, n % k, taille, emplacements[n % k].pdf);
        crate::ecriture_brute(dir, &format!("f{n}"), &c)?;
        Ok(c.len() as u64)
    })?;
    Ok((debut.elapsed(), octets.iter().sum()))
}

/// The closure's floor: the durable steps of a closure's save in depot-fs, on the same
/// disk, `n` times with `concurrence` at once, and nothing else — overwrite one slot of an
/// existing record file (4 KiB, about a closed rush dossier's record, in a file of two
/// 8 KiB slots) and `fdatasync` it, then append a journal entry (512 bytes) to an existing
/// file and `fdatasync` it. Returns each step's latency, sorted: what the disk alone makes
/// a closure wait, against which the closure phase's p99 reads.
fn plancher_cloture(dir: &Path, n: usize, concurrence: usize) -> std::io::Result<Vec<Duration>> {
    use std::io::Write;
    use std::os::unix::fs::FileExt;
    std::fs::create_dir_all(dir)?;
    let entree = vec![b'e'; 512];
    let enregistrement = vec![b'r'; 4096];
    for i in 0..n {
        std::fs::write(dir.join(format!("{i}.journal")), &entree)?;
        std::fs::write(dir.join(format!("{i}.slots")), vec![b'r'; 16 * 1024])?;
    }
    std::fs::File::open(dir)?.sync_all()?;
    // Nothing of the set-up left to flush when the measure starts.
    nix::unistd::sync();
    let mut latences = en_parallele(n, concurrence, |i| {
        let debut = Instant::now();
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join(format!("{i}.slots")))?;
        f.write_all_at(&enregistrement, 8 * 1024)?;
        f.sync_data()?;
        let mut j = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join(format!("{i}.journal")))?;
        j.write_all(&entree)?;
        j.sync_data()?;
        Ok(debut.elapsed())
    })?;
    latences.sort();
    Ok(latences)
}

/// This thread's CPU time so far (user + system; `CLOCK_THREAD_CPUTIME_ID`, nanoseconds).
fn cpu_du_fil() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map(Duration::from)
        .unwrap_or_default()
}

/// The CPU floor of the uploads: the CPU time of what a server cannot avoid doing with the
/// same files at the same concurrency — reading them from a loopback socket in 64 KiB reads,
/// their SHA-256, depot's format check (the streaming scan, and the whole parse of a small
/// PDF, as the server does), writing them to a temporary file, fsync, rename and fsync of the
/// directory. Only the receiving threads' CPU counts (sending is the client's work). The
/// files are left in `dir`: the caller removes them (see [`executer`] for when).
pub fn plancher_cpu(
    dir: &Path,
    fichiers: usize,
    concurrence: usize,
    taille: usize,
    emplacements: &[Emplacement],
) -> std::io::Result<Duration> {
    use std::io::{Read, Write};
    std::fs::create_dir_all(dir)?;
    let k = emplacements.len().max(1);
    let suivant = AtomicUsize::new(0);
    let total = std::sync::Mutex::new(Duration::ZERO);
    let echec = std::sync::Mutex::new(None::<std::io::Error>);
    let formats = [depot_core::Format::Pdf, depot_core::Format::Jpeg];
    let taille_max_mo = u32::try_from(taille / (1024 * 1024) + 2).unwrap_or(u32::MAX);
    std::thread::scope(|s| {
        for _ in 0..concurrence.min(fichiers).max(1) {
            s.spawn(|| {
                crate::coeurs::cote_serveur();
                let r = (|| -> std::io::Result<()> {
                    let ecoute = std::net::TcpListener::bind("127.0.0.1:0")?;
                    let adresse = ecoute.local_addr()?;
                    // The sender (the client's work, not counted): builds each file this
                    // worker takes and sends it, prefixed by its length.
                    let (tx, rx) = std::sync::mpsc::channel::<Option<(usize, bool)>>();
                    let emetteur = std::thread::spawn(move || -> std::io::Result<()> {
                        crate::coeurs::cote_outil();
                        let mut c = std::net::TcpStream::connect(adresse)?;
                        while let Ok(Some((n, pdf))) = rx.recv() {
                            let octets = contenu(n / k, n % k, taille, pdf);
                            c.write_all(&(octets.len() as u64).to_be_bytes())?;
                            c.write_all(&octets)?;
                        }
                        Ok(())
                    });
                    let (mut entree, _) = ecoute.accept()?;
                    let mut tampon = vec![0u8; 64 * 1024];
                    let debut = cpu_du_fil();
                    loop {
                        let n = suivant.fetch_add(1, Ordering::Relaxed);
                        if n >= fichiers {
                            let _ = tx.send(None);
                            break;
                        }
                        let pdf = emplacements[n % k].pdf;
                        let _ = tx.send(Some((n, pdf)));
                        let mut longueur = [0u8; 8];
                        entree.read_exact(&mut longueur)?;
                        let mut reste = u64::from_be_bytes(longueur) as usize;
                        let nom = format!("f{n}.{}", if pdf { "pdf" } else { "jpg" });
                        let mut analyse =
                            depot_core::AnalyseFlux::new(&nom, &formats, taille_max_mo);
                        let mut hache = <sha2::Sha256 as sha2::Digest>::new();
                        let tmp = dir.join(format!(".{nom}.tmp"));
                        let mut f = std::fs::File::create(&tmp)?;
                        while reste > 0 {
                            let lu = entree.read(&mut tampon[..reste.min(64 * 1024)])?;
                            if lu == 0 {
                                return Err(std::io::ErrorKind::UnexpectedEof.into());
                            }
                            let m = &tampon[..lu];
                            sha2::Digest::update(&mut hache, m);
                            analyse
                                .nourrir(m)
                                .map_err(|e| std::io::Error::other(e.message()))?;
                            f.write_all(m)?;
                            reste -= lu;
                        }
                        analyse
                            .terminer()
                            .map_err(|e| std::io::Error::other(e.message()))?;
                        let _ = sha2::Digest::finalize(hache);
                        f.sync_all()?;
                        std::fs::rename(&tmp, dir.join(&nom))?;
                        std::fs::File::open(dir)?.sync_all()?;
                    }
                    let cpu = cpu_du_fil().saturating_sub(debut);
                    drop(tx);
                    emetteur
                        .join()
                        .map_err(|_| std::io::Error::other("émetteur"))??;
                    if let Ok(mut t) = total.lock() {
                        *t += cpu;
                    }
                    Ok(())
                })();
                if let Err(e) = r
                    && let Ok(mut g) = echec.lock()
                {
                    g.get_or_insert(e);
                }
            });
        }
    });
    if let Some(e) = echec.into_inner().ok().flatten() {
        return Err(e);
    }
    Ok(total.into_inner().unwrap_or_default())
}

/// One measurement of the raw floor, its files left in `dir` (see [`executer`]).
async fn mesurer_plancher(
    dir: &Path,
    fichiers: usize,
    concurrence: usize,
    taille: usize,
    places: &Arc<Vec<Emplacement>>,
) -> Result<Duration, String> {
    let (dir2, places) = (dir.to_path_buf(), places.clone());
    let r = tokio::task::spawn_blocking(move || {
        plancher_ecriture(&dir2, fichiers, concurrence, taille, &places)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("plancher d'écriture : {e}"));
    r.map(|(d, _)| d)
}

/// The argon2 floor: `n` hashes with depot's parameters, on every core. Returns its wall
/// time, its threads' CPU time (when it can be read) and the number of cores.
fn plancher_argon2(n: usize) -> (Duration, Option<Duration>, usize) {
    let coeurs = crate::coeurs::partage().map_or_else(
        || std::thread::available_parallelism().map_or(2, |c| c.get()),
        crate::coeurs::Partage::coeurs_serveur,
    );
    let suivant = AtomicUsize::new(0);
    let debut = Instant::now();
    let cpu = std::thread::scope(|s| {
        let fils: Vec<_> = (0..coeurs)
            .map(|_| {
                s.spawn(|| {
                    crate::coeurs::cote_serveur();
                    let avant = cpu_de("/proc/thread-self/stat");
                    // The best case: one working memory per thread, reused.
                    let a = Argon2id::default();
                    let mut memoire = MemoireArgon2::default();
                    let mdp = MotDePasse::new("plancher-argon2-rush".to_owned());
                    while suivant.fetch_add(1, Ordering::Relaxed) < n {
                        let _ = a.hacher_avec(&mdp, &mut memoire);
                    }
                    cpu_de("/proc/thread-self/stat")
                        .zip(avant)
                        .map(|(a, b)| a.saturating_sub(b))
                })
            })
            .collect();
        fils.into_iter()
            .map(|f| f.join().ok().flatten())
            .sum::<Option<Duration>>()
    });
    (debut.elapsed(), cpu, coeurs)
}

/// User + system CPU time in a `/proc/…/stat` file (a process's or a thread's), with the
/// command name; clock ticks of 10 ms.
fn stat_cpu(chemin: &str) -> Option<(String, Duration)> {
    let s = std::fs::read_to_string(chemin).ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let nom = s.get(s.find('(')? + 1..s.rfind(')')?)?.to_owned();
    let apres = s.get(s.rfind(')')? + 2..)?;
    let champs: Vec<&str> = apres.split_whitespace().collect();
    let ticks: u64 = champs.get(11)?.parse::<u64>().ok()? + champs.get(12)?.parse::<u64>().ok()?;
    Some((nom, Duration::from_millis(ticks * 10)))
}

fn cpu_de(chemin: &str) -> Option<Duration> {
    stat_cpu(chemin).map(|(_, d)| d)
}

/// CPU time so far of a process's threads named `argon2-…` (depot-core's hashing pool).
fn temps_cpu_argon2(pid: u32) -> Option<Duration> {
    let taches = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    Some(
        taches
            .flatten()
            .filter_map(|t| stat_cpu(&format!("{}/stat", t.path().display())))
            .filter(|(nom, _)| nom.starts_with("argon2-"))
            .map(|(_, d)| d)
            .sum(),
    )
}

/// Peak RSS (`VmHWM`) of a process (this one by default), MiB.
pub fn pic_rss(pid: Option<u32>) -> Option<f64> {
    memoire("VmHWM:", pid)
}

/// User + system CPU time of a process so far (`/proc/PID/stat`, in clock ticks of 10 ms).
fn temps_cpu(pid: u32) -> Option<Duration> {
    cpu_de(&format!("/proc/{pid}/stat"))
}

/// A memory line of `/proc/PID/status` (`VmRSS:`, `VmHWM:`…), MiB.
pub fn memoire(champ: &str, pid: Option<u32>) -> Option<f64> {
    let chemin = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".to_owned(),
    };
    let s = std::fs::read_to_string(chemin).ok()?;
    let ligne = s.lines().find(|l| l.starts_with(champ))?;
    let ko: f64 = ligne.split_whitespace().nth(1)?.parse().ok()?;
    Some(ko / 1024.0)
}

/// Resets this process's peak RSS to its current RSS (Linux `clear_refs` 5).
fn remettre_pic_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Starts depot-server in this process, on its own runtime and threads, on a free port, with
/// the default configuration (filesystem storage, demo concours). Returns its base URL.
fn demarrer_serveur(data: &Path) -> Result<String, String> {
    let args = <depot_server::Args as clap::Parser>::try_parse_from([
        "depot-server".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
        // Every simulated candidate comes from this machine's one address.
        "--preinscriptions-par-heure".as_ref(),
        "0".as_ref(),
        // A server in this process cannot be stopped before its data directory is removed:
        // its mail worker is off (messages are still queued with their causes). With
        // --server-bin the child sends them, as in production.
        "--courriels-intervalle-s".as_ref(),
        "0".as_ref(),
    ])
    .map_err(|e| e.to_string())?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("depot-server".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            };
            rt.block_on(async move {
                let pret = async {
                    let app = depot_server::construire(&args)
                        .await
                        .map_err(|e| e.to_string())?;
                    let ecoute = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .map_err(|e| e.to_string())?;
                    let adresse = ecoute.local_addr().map_err(|e| e.to_string())?;
                    Ok::<_, String>((app, ecoute, adresse))
                };
                match pret.await {
                    Ok((app, ecoute, adresse)) => {
                        let _ = tx.send(Ok(format!("http://{adresse}")));
                        let _ = axum::serve(
                            ecoute,
                            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
                        )
                        .await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            });
        })
        .map_err(|e| e.to_string())?;
    rx.recv().map_err(|e| e.to_string())?
}

/// A child server, killed when dropped.
pub struct Enfant(std::process::Child);

impl Enfant {
    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Enfant {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a depot-server binary on a free port with the default configuration; returns its
/// base URL once it listens.
fn lancer_serveur(binaire: &Path, data: &Path) -> Result<(String, Enfant), String> {
    // Every simulated candidate comes from this machine's one address.
    lancer_serveur_avec(
        binaire,
        data,
        &["--preinscriptions-par-heure".as_ref(), "0".as_ref()],
    )
}

/// Starts a depot-server binary on a free port with `args` added to `--data DIR`; returns
/// its base URL once it listens, and the child (killed when dropped).
pub fn lancer_serveur_avec(
    binaire: &Path,
    data: &Path,
    args: &[&std::ffi::OsStr],
) -> Result<(String, Enfant), String> {
    use std::io::BufRead;
    let mut c = crate::coeurs::depuis_le_serveur(|| {
        std::process::Command::new(binaire)
            .arg("--data")
            .arg(data)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
    })
    .map_err(|e| format!("{} : {e}", binaire.display()))?;
    let sortie = c.stdout.take().ok_or("pas de sortie standard")?;
    let enfant = Enfant(c);
    let mut lignes = std::io::BufReader::new(sortie).lines();
    for ligne in lignes.by_ref() {
        let ligne = ligne.map_err(|e| e.to_string())?;
        if let Some(url) = ligne.strip_prefix("listening on ") {
            let url = url.trim().to_owned();
            // Keep draining its output so that it never blocks on a full pipe.
            std::thread::spawn(move || lignes.for_each(drop));
            return Ok((url, enfant));
        }
    }
    Err(format!("{} s'est arrêté sans écouter", binaire.display()))
}

/// Chooses where the K files go from a dossier view: required pieces first (up to their
/// file limit), then optional ones; formats alternate where a piece accepts both.
fn emplacements(
    pieces: &[depot_client::Piece],
    k: usize,
    taille_ko: usize,
) -> Result<Vec<Emplacement>, String> {
    let requises: Vec<&depot_client::Piece> = pieces.iter().filter(|p| p.requise).collect();
    let autres = pieces.iter().filter(|p| !p.requise && p.depot_possible);
    if requises.len() > k {
        return Err(format!(
            "le concours exige {} pièces pour cette voie : donnez --files {} au moins",
            requises.len(),
            requises.len()
        ));
    }
    let mut places = Vec::new();
    // One file per required piece first, then fill up.
    let ordre: Vec<&depot_client::Piece> = requises.iter().copied().chain(autres).collect();
    let mut pris = vec![0u64; ordre.len()];
    'remplir: while places.len() < k {
        let mut progres = false;
        for (n, p) in ordre.iter().enumerate() {
            if places.len() >= k {
                break 'remplir;
            }
            if pris[n] >= u64::from(p.max_fichiers)
                || (taille_ko as u64) > u64::from(p.taille_max_mo) * 1024
            {
                continue;
            }
            let accepte = |f: &str| p.formats.iter().any(|x| x == f);
            let pdf = match (accepte("pdf"), accepte("jpeg")) {
                (true, true) => places.len() % 2 == 0,
                (true, false) => true,
                (false, true) => false,
                (false, false) => continue,
            };
            places.push(Emplacement {
                piece: p.code.clone(),
                pdf,
            });
            pris[n] += 1;
            progres = true;
        }
        if !progres {
            return Err(format!(
                "les pièces de ce concours n'acceptent pas {k} fichiers de {taille_ko} Kio"
            ));
        }
    }
    Ok(places)
}

/// Removes a directory when dropped (on every way out of [`executer`]).
struct Menage(PathBuf);

impl Drop for Menage {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the rush and returns its figures. The floors' files stay on disk until it ends
/// (about three times the uploaded bytes besides the server's data: 3.5 GiB at the
/// defaults), so that no phase follows a mass removal.
pub async fn executer(o: Options) -> Result<Rapport, String> {
    let n = o.candidats;
    let k = o.fichiers;
    let taille = o.taille_ko * 1024;
    std::fs::create_dir_all(&o.repertoire).map_err(|e| e.to_string())?;
    let plancher_dir = o.repertoire.join("plancher-brut");
    let _menage = Menage(plancher_dir.clone());

    // The argon2 floor first, while nothing else runs.
    let (plancher_argon2, plancher_argon2_cpu, coeurs) =
        tokio::task::spawn_blocking(move || plancher_argon2(n))
            .await
            .map_err(|e| e.to_string())?;

    let mut enfant = None;
    let (base, source_rss) = match o.urls.first() {
        None if o.binaire_serveur.is_some() => {
            let (url, c) = lancer_serveur(
                o.binaire_serveur
                    .as_deref()
                    .unwrap_or(Path::new("depot-server")),
                &o.repertoire.join("depot-data"),
            )?;
            enfant = Some(c);
            (url, "depot-server child process, VmHWM since its start")
        }
        Some(u) => (
            u.trim_end_matches('/').to_owned(),
            if o.pid.is_some() && o.urls.len() == 1 {
                "server process, VmHWM since its start"
            } else {
                "not measured (give --pid)"
            },
        ),
        None => (
            demarrer_serveur(&o.repertoire.join("depot-data"))?,
            "this process (server and load generator), VmHWM from the rush's start",
        ),
    };
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(o.concurrence)
        // The floors between two phases leave every connection idle for seconds: drop them
        // before the server does, or the next phase's first requests race its close.
        .pool_idle_timeout(depot_client::INACTIVITE_MAX)
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| e.to_string())?;
    let mut bases = vec![base];
    bases.extend(
        o.urls
            .iter()
            .skip(1)
            .map(|u| u.trim_end_matches('/').to_owned()),
    );
    let clients: Vec<depot_client::Client> = bases
        .iter()
        .map(|b| depot_client::Client::avec_client(b, http.clone()))
        .collect();
    let client = clients[0].clone();
    let concours = client.concours().await.map_err(texte)?;
    let premier = &concours["concours"][0];
    let code = premier["code"]
        .as_str()
        .ok_or("aucun concours servi")?
        .to_owned();
    let voies: Vec<String> = premier["voies"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let voie = if voies.iter().any(|v| v == "externe") {
        "externe".to_owned()
    } else {
        voies.first().cloned().ok_or("concours sans voie")?
    };

    let ctx = Arc::new(Contexte {
        clients,
        tour: AtomicUsize::new(0),
        reessais: AtomicUsize::new(0),
        progression: o.progression.clone(),
        cles: std::sync::OnceLock::new(),
        code,
        voie,
        k,
        taille,
        candidats: (0..n).map(|_| Default::default()).collect(),
        places: std::sync::OnceLock::new(),
        perdus: AtomicUsize::new(0),
    });
    let mut phases = Vec::new();
    let mut exemples_erreurs = Vec::new();
    // Whose resident memory the table shows after each phase.
    let pid_serveur = match (&enfant, o.urls.is_empty()) {
        (Some(e), _) => Some(e.0.id()),
        (None, false) => o.pid,
        (None, true) => Some(std::process::id()),
    };
    let mut cpu_avant = pid_serveur.and_then(temps_cpu);
    let mut argon2_avant = pid_serveur.and_then(temps_cpu_argon2);
    // The tool's own CPU means something only when the server is another process of this
    // machine (a child, or `--pid`).
    let serveur_a_part = pid_serveur.is_some_and(|p| p != std::process::id());
    let mut garder = |(mut p, m): (Phase, Vec<String>)| {
        if !serveur_a_part {
            p.cpu_outil = None;
        }
        p.rss_mo = pid_serveur.and_then(|pid| memoire("VmRSS:", Some(pid)));
        let cpu = pid_serveur.and_then(temps_cpu);
        p.cpu = cpu.zip(cpu_avant).map(|(a, b)| a.saturating_sub(b));
        cpu_avant = cpu;

        let argon2 = pid_serveur.and_then(temps_cpu_argon2);
        p.cpu_argon2 = argon2.zip(argon2_avant).map(|(a, b)| a.saturating_sub(b));
        argon2_avant = argon2;
        phases.push(p);
        exemples_erreurs.extend(m);
    };

    // Where the files go: from a first candidate's view (all get the same voie).
    let sonde = {
        let mdp = mot_de_passe(n);
        let numero = ctx
            .preinscrire("Sonde", "sonde.rush@exemple.fr", &mdp)
            .await?;
        let session = client.connecter(&numero, &mdp).await.map_err(texte)?;
        session.dossier().await.map_err(texte)?
    };
    let places = emplacements(&sonde.pieces, k, o.taille_ko)?;
    let _ = ctx.places.set(places.clone());
    let places = Arc::new(places);

    // The raw durable floor, same bytes and concurrency, next to the server's data.
    let octets = (0..k)
        .map(|j| contenu(0, j, taille, places[j].pdf).len() as u64)
        .sum::<u64>()
        * n as u64;
    // Each floor writes in a directory of its own, and every floor's files are removed at
    // the end only: removing thousands of files just before a phase makes the server's file
    // creations of the next half-minute slower on ext4 without a journal (its inode
    // allocator steps over the inodes freed in the last `dirty_expire_centisecs`), which
    // charged the server for the tool's own clean-up (issue 20).
    let plancher_avant = mesurer_plancher(
        &plancher_dir.join("avant"),
        n * k,
        o.concurrence,
        taille,
        &places,
    )
    .await?;
    let rss_remis = o.urls.is_empty() && remettre_pic_rss();

    let c = o.concurrence;
    garder(
        phase("preinscription", n, c, &ctx, |ctx, i| async move {
            ctx.candidat_preinscrit(i).await
        })
        .await,
    );
    garder(
        phase("connexion", n, c, &ctx, |ctx, i| async move {
            ctx.candidat_connecte(i).await
        })
        .await,
    );
    let plancher_milieu =
        mesurer_plancher(&plancher_dir.join("milieu"), n * k, c, taille, &places).await?;
    // The CPU floor in the minute of the uploads too: the CPU the same work costs moves
    // with the disk's mood (2.2 to 5.9 CPU-s for these 6,000 files on this machine).
    let plancher_cpu = {
        let (dir, places) = (plancher_dir.join("cpu"), places.clone());
        tokio::task::spawn_blocking(move || plancher_cpu(&dir, n * k, c, taille, &places))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("plancher CPU : {e}"))?
    };
    garder(
        phase("depot", n * k, c, &ctx, |ctx, x| async move {
            ctx.fichier_depose(x).await
        })
        .await,
    );
    garder(
        phase("consultation", n, c, &ctx, |ctx, i| async move {
            ctx.dossier_vu(i).await
        })
        .await,
    );
    // The closure's floor, in the same minute as the closures, the server idle.
    let plancher_cloture = {
        let dir = plancher_dir.join("cloture");
        tokio::task::spawn_blocking(move || plancher_cloture(&dir, n, c))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("plancher de clôture : {e}"))?
    };
    garder(
        phase("cloture", n, c, &ctx, |ctx, i| async move {
            ctx.dossier_cloture(i).await
        })
        .await,
    );

    let pic_rss_mo = match (o.urls.is_empty(), o.pid) {
        (true, _) if enfant.is_some() => pic_rss(pid_serveur),
        (true, _) if rss_remis => pic_rss(None),
        (true, _) => None,
        (false, Some(p)) => pic_rss(Some(p)),
        (false, None) => None,
    };

    // The keys every récépissé must verify with, from the first instance that answers.
    let cles = ctx.partout(|c| async move { c.cles().await }).await?;
    let cles: depot_core::Cles =
        serde_json::from_value(cles).map_err(|e| format!("liste de clés : {e}"))?;
    let _ = ctx.cles.set(cles);

    // Read everything back: every acknowledged file listed with its SHA-256 and served with
    // the same bytes, every acknowledged closure recorded.
    garder(
        phase("relecture", n, c, &ctx, |ctx, i| async move {
            ctx.dossier_relu(i).await
        })
        .await,
    );

    drop(enfant);
    // The floor again, after the rush.
    let plancher_apres =
        mesurer_plancher(&plancher_dir.join("apres"), n * k, c, taille, &places).await?;
    Ok(Rapport {
        phases,
        plancher_ecriture: {
            let mut m = [plancher_avant, plancher_milieu, plancher_apres];
            m.sort();
            m[1]
        },
        plancher_mesures: [plancher_avant, plancher_milieu, plancher_apres],
        octets,
        plancher_argon2,
        plancher_argon2_cpu,
        plancher_cpu,
        plancher_cloture,
        coeurs,
        coeurs_outil: crate::coeurs::partage().map(crate::coeurs::Partage::coeurs_outil),
        concurrence: c,
        perdus: ctx.perdus.load(Ordering::Relaxed),
        reessais: ctx.reessais.load(Ordering::Relaxed),
        pic_rss_mo,
        source_rss,
        exemples_erreurs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contenus_valides_uniques_et_de_la_bonne_taille() {
        let formats = [depot_core::Format::Pdf, depot_core::Format::Jpeg];
        let mut vus = std::collections::HashSet::new();
        for (i, j, pdf) in [(0, 0, true), (0, 1, false), (1, 0, true), (7, 2, false)] {
            let c = contenu(i, j, 200 * 1024, pdf);
            let nom = if pdf { "a.pdf" } else { "a.jpg" };
            let a = depot_core::analyser(nom, &c, &formats, 10).unwrap();
            assert!(
                (190 * 1024..=210 * 1024).contains(&c.len()),
                "size {}",
                c.len()
            );
            assert!(vus.insert(a.sha256.hex()), "({i}, {j}) is not unique");
        }
    }

    #[test]
    fn quantiles() {
        let p = Phase {
            nom: "x",
            operations: 100,
            erreurs: 0,
            duree: Duration::from_secs(2),
            latences: (1..=100).map(Duration::from_millis).collect(),
            rss_mo: None,
            cpu: None,
            cpu_argon2: None,
            cpu_outil: None,
        };
        assert_eq!(p.quantile(0.5), Duration::from_millis(50));
        assert_eq!(p.quantile(0.99), Duration::from_millis(99));
        assert!((p.par_seconde() - 50.0).abs() < 1e-9);
    }

    #[test]
    fn borne_du_televersement_par_le_cpu() {
        let phase = |nom, secondes, outil: Option<u64>| Phase {
            nom,
            operations: 10,
            erreurs: 0,
            duree: Duration::from_secs(secondes),
            latences: Vec::new(),
            rss_mo: None,
            cpu: None,
            cpu_argon2: None,
            cpu_outil: outil.map(Duration::from_secs),
        };
        let mut r = Rapport {
            phases: vec![phase("depot", 5, Some(3)), phase("cloture", 1, Some(1))],
            plancher_ecriture: Duration::from_secs(2),
            plancher_mesures: [Duration::from_secs(2); 3],
            octets: 0,
            plancher_argon2: Duration::from_secs(1),
            plancher_argon2_cpu: None,
            plancher_cloture: Vec::new(),
            plancher_cpu: Duration::from_secs(5),
            coeurs: 2,
            coeurs_outil: None,
            concurrence: 64,
            perdus: 0,
            reessais: 0,
            pic_rss_mo: None,
            source_rss: "",
            exemples_erreurs: Vec::new(),
        };
        // (5 CPU-s of floor + 3 of the tool) on 2 cores = 4 s, + 1 s of closures, / 2 s.
        let b = r.borne_cpu_televersement().unwrap();
        assert!((b - 2.5).abs() < 1e-9, "{b}");
        assert!(r.tableau().contains("cannot go below 2.50"));
        assert!(!r.ligne(10).contains("cpus="));
        // Apart: the slower side, max(5 CPU-s / 2 cores, 3 CPU-s / 1 core) = 3 s, + 1, / 2.
        r.coeurs_outil = Some(1);
        let b = r.borne_cpu_televersement().unwrap();
        assert!((b - 2.0).abs() < 1e-9, "{b}");
        assert!(r.tableau().contains("on their 2 and 1 cores"));
        assert!(r.ligne(10).ends_with(" cpus=2+1"));
        r.coeurs_outil = Some(3);
        let b = r.borne_cpu_televersement().unwrap();
        assert!((b - 1.75).abs() < 1e-9, "{b}");
        // Unknown without the tool's CPU (server in-process).
        r.phases[0].cpu_outil = None;
        assert!(r.borne_cpu_televersement().is_none());
        assert!(!r.tableau().contains("cannot go below"));
    }

    #[test]
    fn emplacements_requises_d_abord() {
        let piece = |code: &str, requise: bool, max_fichiers: u32| depot_client::Piece {
            code: code.to_owned(),
            libelle: code.to_owned(),
            exigence: String::new(),
            requise,
            statut: String::new(),
            max_fichiers,
            taille_max_mo: 10,
            formats: vec!["pdf".to_owned(), "jpeg".to_owned()],
            depot_possible: true,
            fichiers: Vec::new(),
        };
        let vue = [piece("facultative", false, 3), piece("identite", true, 2)];
        let p = emplacements(&vue, 3, 200).unwrap();
        let codes: Vec<&str> = p.iter().map(|e| e.piece.as_str()).collect();
        assert_eq!(codes, ["identite", "facultative", "identite"]);
        assert!(emplacements(&vue, 6, 200).is_err(), "only 5 files fit");
        assert!(emplacements(&vue, 1, 20_000).is_err(), "too big for 10 Mo");
    }
}
