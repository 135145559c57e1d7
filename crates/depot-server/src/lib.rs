//! depot-server: the candidate's espace sécurisé, ready to run.
//!
//! With no arguments: `http://127.0.0.1:8080`, filesystem storage in `./depot-data`, and a
//! demo concours whose calendar is relative to today, with one demo dossier whose n° and
//! password are printed.
//!
//! The binary is [`principal`]; [`construire`] gives the same application as a router, for
//! tools that run the server in their own process (the rush tool of `depot-bench`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use depot_core::{
    Argon2Authenticator, Concours, DemandePreinscription, DossierStore, Espace, Hacheur,
    HorlogeSysteme, MotDePasse, Ports, SystemRandom, Voie,
};
use depot_fs::FsStore;
use zeroize::Zeroizing;

mod admin;
mod cles;
mod courriels;
mod erreur;
mod stockage;
mod verification;

pub use erreur::ErreurServeur;
use stockage::{OptionsStockage, StockageDossiers, StockagePieces};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatJournal {
    Text,
    Json,
}

/// L'espace sécurisé de dépôt des dossiers d'inscription aux concours.
#[derive(Debug, clap::Subcommand)]
enum Commande {
    /// Récépissés.
    Recepisse {
        #[command(subcommand)]
        action: ActionRecepisse,
    },
    /// Dossier journals.
    Journal {
        #[command(subcommand)]
        action: ActionJournal,
    },
    /// The PostgreSQL database.
    Base {
        #[command(subcommand)]
        action: ActionBase,
    },
    /// Staff accounts of the service concours.
    Gestionnaire {
        #[command(subcommand)]
        action: ActionGestionnaire,
    },
    /// E-mails to candidates.
    Courriels {
        #[command(subcommand)]
        action: ActionCourriels,
    },
    /// The antivirus (--antivirus).
    Antivirus {
        #[command(subcommand)]
        action: ActionAntivirus,
    },
    /// Retention: purges what the concours' `[conservation]` section says is due (the server
    /// also does it daily); --a-blanc lists it and changes nothing.
    Conservation {
        #[command(flatten)]
        espace: OptionsEspace,
        /// List what is due, change nothing.
        #[arg(long)]
        a_blanc: bool,
    },
}

#[derive(Debug, clap::Subcommand)]
enum ActionAntivirus {
    /// Scans again the files found clean, after a signature database update: by default
    /// those found clean by another database version than clamd's current one (when clamd
    /// says it), with --tout every one. A file now infected is quarantined and its
    /// candidate told. Run it from a scheduler after freshclam.
    Reanalyser {
        #[command(flatten)]
        espace: OptionsEspace,
        /// Every file found clean, whatever the database that scanned it.
        #[arg(long)]
        tout: bool,
    },
}

#[derive(Debug, clap::Subcommand)]
enum ActionCourriels {
    /// Queues the reminders due now and sends every message due (idempotent: the server's
    /// worker does the same every minute); with --a-blanc, only lists the reminders due.
    Rappels {
        #[command(flatten)]
        espace: OptionsEspace,
        /// List, change nothing, send nothing.
        #[arg(long)]
        a_blanc: bool,
    },
    /// Prints a message as it would be sent to a fictitious candidate, for proofreading:
    /// preinscription, cloture, rappel, complements, rappel_complements, pieces_differees,
    /// mot_de_passe, numeros.
    Apercu {
        /// The kind of message.
        sorte: String,
        /// The concours (default: the demo concours).
        #[arg(long = "config", value_name = "FICHIER")]
        config: Option<PathBuf>,
        #[command(flatten)]
        courriel: courriels::OptionsCourriel,
        /// The whole MIME message (what the SMTP server receives) instead of its text.
        #[arg(long)]
        mime: bool,
    },
}

/// What serves the espace: concours, storage, e-mail. Shared by the server and the
/// subcommands that act on dossiers.
#[derive(Debug, clap::Args)]
pub struct OptionsEspace {
    /// A concours file (TOML, see examples/concours/); repeat for several concours.
    /// Without it, a demo concours relative to today is served.
    #[arg(long = "config", value_name = "FICHIER")]
    config: Vec<PathBuf>,
    #[command(flatten)]
    stockage: OptionsStockage,
    /// Where file contents live.
    #[arg(long, value_enum, default_value = "fs")]
    stockage_pieces: StockagePieces,
    #[command(flatten)]
    courriel: courriels::OptionsCourriel,
    #[command(flatten)]
    antivirus: OptionsAntivirus,
}

/// The antivirus every upload goes through (issue 18).
#[derive(Debug, clap::Args)]
struct OptionsAntivirus {
    /// clamd's address: tcp://HOST:PORT or unix:///path/to/clamd.ctl (or DEPOT_ANTIVIRUS).
    /// Without it, uploads are not scanned. clamd's StreamMaxLength must be at least the
    /// largest piece's size.
    #[arg(long, value_name = "URL")]
    antivirus: Option<String>,
    /// Seconds clamd has for each step of a scan (connecting, each chunk, the verdict);
    /// beyond, the file is accepted and recorded pending, scanned again later.
    #[arg(long, value_name = "S", default_value_t = 30)]
    antivirus_delai_s: u64,
}

impl OptionsAntivirus {
    fn charger(&self) -> Result<Option<depot_clamav::Clamd>, ErreurServeur> {
        let Some(url) = self.antivirus.clone().or_else(|| {
            std::env::var("DEPOT_ANTIVIRUS")
                .ok()
                .filter(|s| !s.is_empty())
        }) else {
            return Ok(None);
        };
        let adresse = depot_clamav::Adresse::parse(&url)
            .map_err(|e| ErreurServeur::Antivirus(e.to_string()))?;
        Ok(Some(depot_clamav::Clamd::new(
            adresse,
            Duration::from_secs(self.antivirus_delai_s.max(1)),
        )))
    }
}

#[derive(Debug, clap::Subcommand)]
enum ActionBase {
    /// Applies the migrations not applied yet and stops (the server also applies them at
    /// start).
    Migrer {
        #[command(flatten)]
        stockage: OptionsStockage,
    },
}

#[derive(Debug, clap::Subcommand)]
enum ActionGestionnaire {
    /// Mints a token for a staff member: prints it once, with the lines to add to the
    /// --gestionnaires file (which keeps only its SHA-256).
    Jeton {
        /// Their id (recorded in journals).
        #[arg(long)]
        id: String,
        /// lecture or instruction.
        #[arg(long, default_value = "lecture")]
        role: String,
    },
}

#[derive(Debug, clap::Subcommand)]
enum ActionRecepisse {
    /// Checks a récépissé (the JSON saved from the espace) against the published keys.
    Verifier {
        /// The récépissé file.
        fichier: PathBuf,
        /// The published keys (the body of GET /api/v1/recepisse/cles); default: the keys
        /// published in the records' store (--stockage-dossiers).
        #[arg(long)]
        cle: Option<PathBuf>,
        #[command(flatten)]
        stockage: OptionsStockage,
    },
}

#[derive(Debug, clap::Subcommand)]
enum ActionJournal {
    /// Walks the hash-chained journals and reports any break with its position.
    Verifier {
        #[command(flatten)]
        stockage: OptionsStockage,
        /// Only this dossier.
        #[arg(long)]
        dossier: Option<String>,
    },
}

/// depot-server : l'espace sécurisé de dépôt des dossiers d'inscription aux concours.
#[derive(Debug, Parser)]
#[command(name = "depot-server", version, args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    commande: Option<Commande>,
    #[command(flatten)]
    espace: OptionsEspace,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Serve Prometheus metrics at GET /metrics on this address (keep it off the public
    /// network); none by default.
    #[arg(long, value_name = "ADDR")]
    listen_admin: Option<SocketAddr>,
    /// Log format.
    #[arg(long, value_enum, default_value = "text")]
    log_format: FormatJournal,
    /// Mark cookies Secure (when served behind TLS).
    #[arg(long)]
    cookies_securises: bool,
    /// Several instances serve the same concours behind a load balancer: refuse at start
    /// the stores one instance alone can use (the data directory for records or contents,
    /// S3 records whose sessions stay in memory).
    #[arg(long)]
    instances_multiples: bool,
    /// Staff accounts: a TOML file of `[[gestionnaires]]` with id, role (lecture |
    /// instruction) and jeton_sha256 (see `depot-server gestionnaire jeton`).
    #[arg(long, value_name = "FICHIER")]
    gestionnaires: Option<PathBuf>,
    /// A reverse proxy in front of depot (an address or a network, e.g. 10.0.0.5 or
    /// 10.0.0.0/24); repeat for several. The client address used for throttling is then read
    /// from the X-Forwarded-For it adds; from anyone else that header is ignored.
    #[arg(long = "proxy-de-confiance", value_name = "ADDR/CIDR", value_parser = reseau)]
    proxys_de_confiance: Vec<ipnet::IpNet>,
    /// Seconds a client has to send a request's head (and to start the next one on a
    /// kept-alive connection) before it is disconnected.
    #[arg(long, value_name = "S", default_value_t = 10)]
    delai_entetes_s: u64,
    /// Seconds without a byte of a request body before the request (an upload) is aborted;
    /// nothing of it is stored.
    #[arg(long, value_name = "S", default_value_t = 30)]
    delai_corps_s: u64,
    /// Pré-inscriptions allowed per client address per hour (0: no limit).
    #[arg(long, value_name = "N", default_value_t = 10)]
    preinscriptions_par_heure: usize,
    /// At SIGTERM, seconds the requests in flight (uploads) have to finish before the server
    /// exits anyway.
    #[arg(long, value_name = "S", default_value_t = 30)]
    delai_arret_s: u64,
    /// Connections open at once; beyond, new ones wait to be accepted.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    connexions_max: usize,
    /// Seconds between two full rounds of the mail worker (reminders due, messages to
    /// retry); messages queued by this instance leave within seconds regardless. 0: this
    /// instance queues messages but sends none (another instance, or `depot-server
    /// courriels rappels` from a scheduler, sends them).
    #[arg(long, value_name = "S", default_value_t = 60)]
    courriels_intervalle_s: u64,
    #[command(flatten)]
    marque: OptionsMarque,
    /// Seconds between two rounds of the antivirus worker, which scans again the files
    /// recorded while clamd was unavailable. 0: this instance runs none.
    #[arg(long, value_name = "S", default_value_t = 60)]
    antivirus_intervalle_s: u64,
}

/// What a retention round did, in words (the CLI's output and the server's log).
fn bilan_conservation(b: &depot_core::conservation::BilanConservation, a_blanc: bool) -> String {
    let mut t = format!(
        "conservation : {} purge(s) {}\n",
        b.faites.len(),
        if a_blanc {
            "dues (à blanc : rien n'est changé)"
        } else {
            "faites"
        }
    );
    for p in &b.faites {
        t.push_str(&format!(
            "- dossier {} : {} fichier(s), motif {}, dû depuis le {}\n",
            p.numero,
            p.fichiers.len(),
            p.motif.code(),
            depot_core::calendrier::instant_en_lettres(p.le)
        ));
    }
    if b.contenus_restants > 0 {
        t.push_str(&format!(
            "{} contenu(s) non supprimé(s) du stockage : nouvel essai à la prochaine tournée\n",
            b.contenus_restants
        ));
    }
    if b.dossiers_en_echec > 0 {
        t.push_str(&format!("{} dossier(s) en échec\n", b.dossiers_en_echec));
    }
    t
}

/// Retention, once a day (and at start): the purges due are done.
async fn conservation(espace: Arc<Espace>) {
    let mut tic = tokio::time::interval(Duration::from_secs(24 * 3600));
    loop {
        tic.tick().await;
        match espace.conserver(false).await {
            Ok(b) if b == Default::default() => {}
            Ok(b) => tracing::info!(bilan = %bilan_conservation(&b, false), "conservation"),
            Err(e) => tracing::warn!(erreur = %e, "tournée de conservation"),
        }
    }
}

/// The antivirus worker: every `intervalle_s`, the files recorded pending are scanned again.
async fn analyses(espace: Arc<Espace>, intervalle_s: u64) {
    let mut tic = tokio::time::interval(Duration::from_secs(intervalle_s.max(1)));
    loop {
        tic.tick().await;
        match espace.analyser_en_attente().await {
            Ok(b) if b == Default::default() => {}
            Ok(b) => {
                metrics::counter!("depot_antivirus_verdicts_total", "verdict" => "saine")
                    .increment(b.saines as u64);
                metrics::counter!("depot_antivirus_verdicts_total", "verdict" => "infectee")
                    .increment(b.infectees as u64);
                tracing::info!(
                    saines = b.saines,
                    infectees = b.infectees,
                    en_attente = b.en_attente,
                    dossiers_en_echec = b.dossiers_en_echec,
                    "analyses antivirus"
                );
            }
            Err(e) => tracing::warn!(erreur = %e, "tournée des analyses antivirus"),
        }
    }
}

/// How the pages present the CDG (no State branding: the DSFR is reserved to State
/// services).
#[derive(Debug, clap::Args)]
struct OptionsMarque {
    /// The CDG's name in the banner, the footer and the accessibility statement (or
    /// DEPOT_ORGANISME); default: the first concours' organiser.
    #[arg(long, value_name = "NOM")]
    organisme: Option<String>,
    /// Accent colour, #RRGGBB, dark enough for white text (contrast ≥ 4.5:1, checked; or
    /// DEPOT_COULEUR).
    #[arg(long, value_name = "#RRGGBB")]
    couleur: Option<String>,
    /// Logo shown in the banner (PNG, JPEG or SVG, 512 KB at most; or DEPOT_LOGO).
    #[arg(long, value_name = "FICHIER")]
    logo: Option<PathBuf>,
    /// Where to report an accessibility problem (an address, or an https:// page), given
    /// in the accessibility statement (or DEPOT_CONTACT_ACCESSIBILITE).
    #[arg(long, value_name = "CONTACT")]
    contact_accessibilite: Option<String>,
}

impl OptionsMarque {
    fn charger(&self) -> Result<depot_http::Marque, ErreurServeur> {
        let ou_env = |v: &Option<String>, nom: &str| {
            v.clone()
                .or_else(|| std::env::var(nom).ok().filter(|s| !s.is_empty()))
        };
        let couleur = ou_env(&self.couleur, "DEPOT_COULEUR")
            .as_deref()
            .map(depot_http::Couleur::parse)
            .transpose()
            .map_err(ErreurServeur::Marque)?;
        let logo = self
            .logo
            .clone()
            .or_else(|| std::env::var_os("DEPOT_LOGO").map(PathBuf::from));
        let logo = match &logo {
            Some(f) => {
                let octets = std::fs::read(f).map_err(ErreurServeur::lecture(f))?;
                Some(
                    depot_http::Logo::depuis_octets(octets)
                        .map_err(|e| ErreurServeur::Marque(format!("{} : {e}", f.display())))?,
                )
            }
            None => None,
        };
        Ok(depot_http::Marque {
            nom: ou_env(&self.organisme, "DEPOT_ORGANISME").unwrap_or_default(),
            couleur,
            logo,
            contact_accessibilite: ou_env(
                &self.contact_accessibilite,
                "DEPOT_CONTACT_ACCESSIBILITE",
            ),
        })
    }
}

/// `10.0.0.0/24`, or one address (`10.0.0.5`, `::1`).
fn reseau(s: &str) -> Result<ipnet::IpNet, String> {
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("« {s} » : une adresse IP ou un réseau (10.0.0.0/24) attendu"))
}

/// The demo concours: the seed's pieces, with a calendar relative to `aujourd_hui`
/// (pré-inscription open, dépôt deadline in 14 days, deferred pieces in 60 days).
fn concours_demo(aujourd_hui: chrono::NaiveDate) -> Result<Concours, ErreurServeur> {
    Concours::from_toml(&concours_demo_toml(aujourd_hui)).map_err(|source| {
        ErreurServeur::Concours {
            chemin: PathBuf::from("demo"),
            source,
        }
    })
}

/// The demo concours as a concours file (TOML), for tools that adjust it and pass it with
/// `--config`.
pub fn concours_demo_toml(aujourd_hui: chrono::NaiveDate) -> String {
    let j = |n: i64| {
        (aujourd_hui + chrono::Duration::days(n))
            .format("%Y-%m-%d")
            .to_string()
    };
    let modele = include_str!("../../../examples/concours/animateur-2025.toml");
    let mut texte = String::with_capacity(modele.len());
    for ligne in modele.lines() {
        let cle = ligne.split('=').next().unwrap_or("").trim();
        let remplacee = match cle {
            "code" if ligne.contains("animateur-2025") => "code = \"demo-animateur\"".to_owned(),
            "intitule" if texte.contains("[concours]") && !texte.contains("intitule") => {
                "intitule = \"Concours de démonstration — animateur territorial\"".to_owned()
            }
            "session" => format!("session = {}", chrono::Datelike::year(&aujourd_hui)),
            "preinscription_ouverture" => format!("preinscription_ouverture = \"{}\"", j(-30)),
            "preinscription_cloture" => format!("preinscription_cloture = \"{}\"", j(14)),
            "depot_cloture" => format!("depot_cloture = \"{}\"", j(14)),
            "pieces_differees_cloture" => format!("pieces_differees_cloture = \"{}\"", j(60)),
            _ => ligne.to_owned(),
        };
        texte.push_str(&remplacee);
        texte.push('\n');
    }
    texte
}

fn phrase_de_passe() -> String {
    const MOTS: &[&str] = &[
        "lune", "verte", "toit", "riviere", "cerise", "nuage", "piano", "sable", "orange", "foret",
        "bateau", "neige", "violon", "prairie", "abeille", "falaise", "citron", "etoile", "moulin",
        "brume", "castor", "jardin", "lanterne", "miel",
    ];
    let mut o = [0u8; 5];
    depot_core::Random::remplir(&SystemRandom, &mut o);
    let mots: Vec<&str> = o[..4]
        .iter()
        .map(|b| MOTS[usize::from(*b) % MOTS.len()])
        .collect();
    format!("{}-{}", mots.join("-"), o[4] % 90 + 10)
}

/// Creates the demo dossier once, and prints its identifiers at every start.
async fn dossier_demo(espace: &Espace, data: &Path) -> Result<(), ErreurServeur> {
    let fichier = data.join("demo-identifiants.txt");
    if let Ok(t) = std::fs::read_to_string(&fichier) {
        println!("dossier de démonstration : {}", t.trim());
        return Ok(());
    }
    let mdp = phrase_de_passe();
    let numero = espace
        .preinscrire(
            Some("demo-animateur"),
            DemandePreinscription {
                voie: Voie::Externe,
                nom: "Démo".into(),
                prenom: "Camille".into(),
                email: "camille.demo@exemple.fr".into(),
                declarations: vec![],
                mot_de_passe: MotDePasse::new(mdp.clone()),
            },
        )
        .await
        .map_err(ErreurServeur::Demo)?;
    let ligne = format!("n° {numero}, mot de passe {mdp}");
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&fichier)
            .and_then(|mut f| writeln!(f, "{ligne}"))
            .map_err(|source| ErreurServeur::Ecriture {
                chemin: fichier.clone(),
                source,
            })?;
    }
    println!("dossier de démonstration créé : {ligne}");
    Ok(())
}

/// Every hour: expired sessions and stale throttling counts are removed from their stores.
async fn menage(
    sessions: Arc<dyn depot_core::SessionStore>,
    compteurs: Arc<dyn depot_core::CompteurStore>,
) {
    let mut horloge = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        horloge.tick().await;
        let now = depot_core::Clock::now(&HorlogeSysteme);
        match depot_core::session::purger_sessions(&*sessions, now).await {
            Ok(n) => tracing::info!(sessions = n, "sessions expirées retirées"),
            Err(e) => tracing::warn!(code = e.code(), "ménage des sessions"),
        }
        if let Err(e) = depot_core::limitation::nettoyer_compteurs(&*compteurs, now).await {
            tracing::warn!(code = e.code(), "ménage des compteurs");
        }
    }
}

async fn arret() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("arrêt demandé : fin des requêtes en cours");
}

/// Builds the whole application from command-line style arguments (storage opened, keys
/// loaded, demo dossier created when serving the demo): what `depot-server` serves.
pub async fn construire(args: &Args) -> Result<axum::Router, ErreurServeur> {
    let url_defaut = format!("http://{}", args.listen);
    let o = ouvrir(&args.espace, args.instances_multiples, &url_defaut).await?;
    let espace = o.espace;
    if args.espace.config.is_empty() {
        dossier_demo(&espace, &args.espace.stockage.data).await?;
    }
    let activite = depot_http::Activite::default();
    if args.courriels_intervalle_s > 0 {
        tokio::spawn(courriels::facteur(
            espace.clone(),
            args.courriels_intervalle_s,
            activite.clone(),
        ));
    } else {
        println!(
            "courriels : mis en file ici, envoyés par une autre instance (--courriels-intervalle-s 0)"
        );
    }
    if espace
        .concours()
        .any(|c| c.conservation != depot_core::config::Conservation::default())
    {
        tokio::spawn(conservation(espace.clone()));
    }
    if espace.ports().antivirus.is_some() && args.antivirus_intervalle_s > 0 {
        tokio::spawn(analyses(espace.clone(), args.antivirus_intervalle_s));
    }
    let n = o.liste.list().await.map(|v| v.len()).unwrap_or(0);
    println!(
        "données : {} ({n} dossier(s))",
        args.espace.stockage.data.display()
    );
    let gestionnaires = match &args.gestionnaires {
        Some(f) => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Fichier {
                gestionnaires: Vec<depot_http::gestion::CompteGestionnaire>,
            }
            let t = std::fs::read_to_string(f).map_err(ErreurServeur::lecture(f))?;
            toml::from_str::<Fichier>(&t)
                .map_err(|source| ErreurServeur::Gestionnaires {
                    chemin: f.clone(),
                    source,
                })?
                .gestionnaires
        }
        None => Vec::new(),
    };
    println!("gestionnaires : {}", gestionnaires.len());
    Ok(depot_http::router(
        espace,
        depot_http::Config {
            cookies_securises: args.cookies_securises,
            cles_publiees: o.cles,
            gestionnaires,
            proxys_de_confiance: args.proxys_de_confiance.clone(),
            preinscriptions_par_heure: args.preinscriptions_par_heure,
            marque: args.marque.charger()?,
            activite,
            ..Default::default()
        },
    ))
}

/// An espace opened on its stores.
struct Ouvert {
    espace: Arc<Espace>,
    cles: depot_core::Cles,
    liste: Arc<dyn DossierStore>,
}

/// Loads the concours, opens the stores, the signing key and the mail, and builds the
/// espace (the server's and the subcommands').
async fn ouvrir(
    args: &OptionsEspace,
    instances_multiples: bool,
    url_defaut: &str,
) -> Result<Ouvert, ErreurServeur> {
    let demo = args.config.is_empty();
    let mut concours = Vec::new();
    if demo {
        let aujourd_hui = depot_core::Clock::now(&HorlogeSysteme)
            .with_timezone(&chrono_tz::Europe::Paris)
            .date_naive();
        concours.push(concours_demo(aujourd_hui)?);
    }
    for f in &args.config {
        let texte = std::fs::read_to_string(f).map_err(ErreurServeur::lecture(f))?;
        concours.push(
            Concours::from_toml(&texte).map_err(|source| ErreurServeur::Concours {
                chemin: f.clone(),
                source,
            })?,
        );
    }
    let o = &args.stockage;
    if instances_multiples {
        let local = match (o.stockage_dossiers, args.stockage_pieces) {
            (StockageDossiers::Fs, _) => Some("les dossiers sont dans le répertoire de données"),
            (_, StockagePieces::Fs) => Some("les pièces sont dans le répertoire de données"),
            _ => None,
        };
        if let Some(pourquoi) = local {
            return Err(ErreurServeur::InstancesMultiples(format!(
                "{pourquoi}, propre à une seule instance (--stockage-dossiers postgres ou s3, --stockage-pieces s3)"
            )));
        }
    }
    let store = FsStore::open(&o.data)?;
    let s3 = if o.stockage_dossiers == StockageDossiers::S3
        || args.stockage_pieces == StockagePieces::S3
    {
        Some(o.s3()?)
    } else {
        None
    };
    let hebergees: Vec<Arc<Concours>> = concours.iter().cloned().map(Arc::new).collect();
    let e = o
        .enregistrements(
            Some(&store),
            s3.as_ref(),
            Some(depot_core::Indexeur::new(&hebergees)),
        )
        .await?;
    let pieces: Arc<dyn depot_core::PieceStore> = match (&s3, args.stockage_pieces) {
        (Some(s), StockagePieces::S3) => Arc::new(s.clone()),
        _ => Arc::new(store.clone()),
    };
    let pieces: Arc<dyn depot_core::PieceStore> = Arc::new(admin::Mesure::new(pieces, "pieces"));
    println!(
        "stockage : dossiers {:?}, pièces {:?}{}",
        o.stockage_dossiers,
        args.stockage_pieces,
        if e.partages {
            " (partagés entre instances)"
        } else {
            ""
        }
    );
    let dossiers: Arc<dyn DossierStore> =
        Arc::new(admin::Mesure::new(e.dossiers.clone(), "dossiers"));
    let sessions: Arc<dyn depot_core::SessionStore> =
        Arc::new(admin::Mesure::new(e.sessions.clone(), "sessions"));
    let (identifiants, compteurs) = (e.identifiants.clone(), e.compteurs.clone());
    let cle_imposee = std::env::var("DEPOT_CLE_SIGNATURE")
        .ok()
        .map(Zeroizing::new);
    let (signataire, cles) = cles::charger(&*e.cles, cle_imposee).await?;
    println!(
        "clé de signature des récépissés : {}",
        depot_core::Signataire::cle_id(&signataire)
    );
    let signataire: Arc<dyn depot_core::Signataire> = Arc::new(signataire);
    let hacheur: Arc<dyn Hacheur> = Arc::new(depot_core::PoolArgon2::new());
    let liste = dossiers.clone();
    let ports = Ports {
        dossiers,
        pieces,
        authentificateur: Arc::new(Argon2Authenticator::new(
            identifiants.clone(),
            hacheur.clone(),
        )),
        identifiants,
        hacheur,
        horloge: Arc::new(HorlogeSysteme),
        hasard: Arc::new(SystemRandom),
        signataire: signataire.clone(),
        // No national registry is wired yet: a CDG plugs its own RegistreNational here.
        registre: Arc::new(depot_core::SansRegistre),
        // The end of each upload's analysis, off the async workers, two per core at most.
        blocking: Arc::new(depot_core::ThreadPool::new()),
        sessions: sessions.clone(),
        compteurs: compteurs.clone(),
        recherche: e.recherche.clone(),
        courrier: Some(args.courriel.courrier(&o.data, url_defaut)?),
        antivirus: match args.antivirus.charger()? {
            Some(c) => {
                match depot_core::antivirus::Antivirus::moteur(&c).await {
                    Ok(m) => println!("antivirus : {} sur {}", m.nom, c.adresse()),
                    // Not fatal: uploads are accepted pending and scanned once it answers.
                    Err(e) => println!("antivirus : {} ne répond pas encore ({e})", c.adresse()),
                }
                Some(Arc::new(c))
            }
            None => None,
        },
    };
    // For the operators' gauge of open sessions (a second build in one process keeps the
    // first store: only tests build twice).
    let _ = admin::SESSIONS.set(sessions.clone());
    tokio::spawn(menage(sessions, compteurs));
    let espace = Arc::new(Espace::new(concours, ports).map_err(ErreurServeur::Espace)?);
    for c in espace.concours() {
        println!(
            "concours {} : « {} », clôture des inscriptions le {}",
            c.code,
            c.intitule,
            c.calendrier.depot_cloture.libelle()
        );
    }
    let _ = demo;
    Ok(Ouvert {
        espace,
        cles,
        liste,
    })
}

async fn lancer(args: Args) -> Result<(), ErreurServeur> {
    // The recorder first: the stores' operations at start are measured too.
    let metriques = match args.listen_admin {
        Some(a) => Some((a, admin::installer()?)),
        None => None,
    };
    let app = construire(&args).await?;
    if let Some((adresse, handle)) = metriques {
        let ecoute = tokio::net::TcpListener::bind(adresse)
            .await
            .map_err(|source| ErreurServeur::Ecoute { adresse, source })?;
        let adresse = ecoute.local_addr().map_err(ErreurServeur::Serveur)?;
        println!("admin on http://{adresse}/metrics");
        tokio::spawn(admin::servir(ecoute, handle));
    }
    let ecoute = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| ErreurServeur::Ecoute {
            adresse: args.listen,
            source,
        })?;
    let adresse = ecoute.local_addr().map_err(ErreurServeur::Serveur)?;
    println!("listening on http://{adresse}");
    tracing::info!(%adresse, "serveur prêt");
    let limites = depot_http::serveur::Limites {
        lecture_entetes: std::time::Duration::from_secs(args.delai_entetes_s.max(1)),
        inactivite_corps: std::time::Duration::from_secs(args.delai_corps_s.max(1)),
        connexions_max: args.connexions_max.max(1),
        arret_max: std::time::Duration::from_secs(args.delai_arret_s),
    };
    depot_http::serveur::servir(ecoute, app, limites, arret()).await;
    Ok(())
}

/// Runs a subcommand's work on a runtime of its own.
fn en_tache<T>(
    f: impl std::future::Future<Output = Result<T, ErreurServeur>>,
) -> Result<T, ErreurServeur> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ErreurServeur::Serveur)?
        .block_on(f)
}

/// The `depot-server` command: parses the arguments, runs a subcommand or serves until
/// SIGINT/SIGTERM.
pub fn principal() {
    let args = Args::parse();
    if let Some(c) = &args.commande {
        let (texte, ok) = match c {
            Commande::Recepisse {
                action:
                    ActionRecepisse::Verifier {
                        fichier,
                        cle,
                        stockage,
                    },
            } => match en_tache(verification::recepisse(fichier, cle.as_deref(), stockage)) {
                Ok(t) => (t, true),
                Err(e) => (e.to_string(), false),
            },
            Commande::Base {
                action: ActionBase::Migrer { stockage },
            } => match en_tache(async {
                let faites = stockage.postgres()?.migrer().await?;
                Ok::<_, ErreurServeur>(if faites.is_empty() {
                    "la base est à jour".to_owned()
                } else {
                    format!("migration(s) appliquée(s) : {faites:?}")
                })
            }) {
                Ok(t) => (t, true),
                Err(e) => (e.to_string(), false),
            },
            Commande::Gestionnaire {
                action: ActionGestionnaire::Jeton { id, role },
            } => {
                if role != "lecture" && role != "instruction" {
                    (
                        "le rôle est « lecture » ou « instruction »".to_owned(),
                        false,
                    )
                } else if !depot_http::gestion::auth::id_gestionnaire_valide(id) {
                    (
                        "l'identifiant est fait de 1 à 64 caractères parmi a-z, 0-9, « . », « _ », « - »"
                            .to_owned(),
                        false,
                    )
                } else {
                    let mut o = [0u8; 32];
                    depot_core::Random::remplir(&SystemRandom, &mut o);
                    let jeton = hex::encode(o);
                    let h = depot_core::Sha256::de(jeton.as_bytes());
                    // The token on stderr (shown once), the TOML block on stdout, so that
                    // `>> gestionnaires.toml` keeps only the hash.
                    eprintln!("jeton (à remettre à {id}, affiché une seule fois) : {jeton}");
                    (
                        format!(
                            "[[gestionnaires]]\nid = \"{id}\"\nrole = \"{role}\"\njeton_sha256 = \"{h}\"\n"
                        ),
                        true,
                    )
                }
            }
            Commande::Journal {
                action: ActionJournal::Verifier { stockage, dossier },
            } => match en_tache(verification::journaux(stockage, dossier.as_deref())) {
                Ok((t, ok)) => (t.trim_end().to_owned(), ok),
                Err(e) => (e.to_string(), false),
            },
            Commande::Courriels {
                action: ActionCourriels::Rappels { espace, a_blanc },
            } => match en_tache(async {
                let o = ouvrir(espace, false, "http://127.0.0.1:8080").await?;
                courriels::rappels(&o.espace, *a_blanc).await
            }) {
                Ok(t) => (t, true),
                Err(e) => (e.to_string(), false),
            },
            Commande::Conservation { espace, a_blanc } => match en_tache(async {
                let o = ouvrir(espace, false, "http://127.0.0.1:8080").await?;
                let b = o
                    .espace
                    .conserver(*a_blanc)
                    .await
                    .map_err(ErreurServeur::Conservation)?;
                Ok::<_, ErreurServeur>(bilan_conservation(&b, *a_blanc))
            }) {
                Ok(t) => (t, true),
                Err(e) => (e.to_string(), false),
            },
            Commande::Antivirus {
                action: ActionAntivirus::Reanalyser { espace, tout },
            } => match en_tache(async {
                let o = ouvrir(espace, false, "http://127.0.0.1:8080").await?;
                if o.espace.ports().antivirus.is_none() {
                    return Err(ErreurServeur::Antivirus(
                        "donnez l'adresse de clamd (--antivirus ou DEPOT_ANTIVIRUS)".into(),
                    ));
                }
                let quoi = if *tout {
                    depot_core::antivirus::Reanalyse::Toutes
                } else {
                    depot_core::antivirus::Reanalyse::BaseChangee
                };
                let b = o
                    .espace
                    .reanalyser(quoi)
                    .await
                    .map_err(|e| ErreurServeur::Antivirus(e.to_string()))?;
                // Queued e-mails (a quarantine) leave now.
                let _ = o.espace.distribuer_courriels_recents().await;
                Ok::<_, ErreurServeur>(format!(
                    "réanalyse : {} fichier(s) sain(s), {} infecté(s) mis en quarantaine{}{}",
                    b.saines,
                    b.infectees,
                    if b.en_attente > 0 {
                        " ; antivirus interrompu, le reste à la prochaine réanalyse"
                    } else {
                        ""
                    },
                    if b.dossiers_en_echec > 0 {
                        format!(" ; {} dossier(s) en échec", b.dossiers_en_echec)
                    } else {
                        String::new()
                    }
                ))
            }) {
                Ok(t) => (t, true),
                Err(e) => (e.to_string(), false),
            },
            Commande::Courriels {
                action:
                    ActionCourriels::Apercu {
                        sorte,
                        config,
                        courriel,
                        mime,
                    },
            } => match en_tache(courriels::apercu(sorte, config.as_deref(), courriel, *mime)) {
                Ok(t) => (t, true),
                Err(e) => (e.to_string(), false),
            },
        };
        println!("{texte}");
        std::process::exit(if ok { 0 } else { 1 });
    }
    let filtre = tracing_subscriber::EnvFilter::try_from_env("DEPOT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let abonne = tracing_subscriber::fmt()
        .with_env_filter(filtre)
        .with_writer(std::io::stderr);
    match args.log_format {
        FormatJournal::Json => abonne.json().init(),
        FormatJournal::Text => abonne.with_ansi(false).init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("depot-server : {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(lancer(args)) {
        eprintln!("depot-server : {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn le_concours_de_demo_est_ouvert_aujourd_hui() {
        let j = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let c = concours_demo(j).unwrap();
        assert_eq!(c.code.as_str(), "demo-animateur");
        assert_eq!(c.session, 2026);
        assert!(c.intitule.contains("démonstration"));
        let midi = depot_core::calendrier::paris_local(j.and_hms_opt(12, 0, 0).unwrap()).unwrap();
        assert!(c.calendrier.preinscription_ouverture < midi);
        assert!(!c.calendrier.preinscription_cloture.est_depassee(midi));
        assert_eq!(
            c.calendrier.depot_cloture.libelle(),
            "samedi 12 décembre 2026 à minuit (heure de Paris)"
        );
        assert_eq!(c.pieces.len(), 9);
    }

    #[test]
    fn phrase_de_passe_acceptee_par_la_politique() {
        for _ in 0..20 {
            MotDePasse::new(phrase_de_passe())
                .verifier_politique(&["Démo", "Camille"])
                .unwrap();
        }
    }
}
