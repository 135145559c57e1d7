//! The CDG's side over HTTP, `/api/v1/gestion`: staff accounts with a role, lists with
//! filters and paging, the forclos dossiers apart, a dossier with its journal, any file,
//! decisions, and an export of a selection as a ZIP streamed to the client.
//!
//! Staff authenticate with `Authorization: Bearer <jeton>`; tokens come from the server
//! configuration, which stores only their SHA-256 (they are 256-bit random, so a fast hash
//! suffices). Staff and candidates never share a token.

use std::io::Write;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use depot_core::calendrier::{DateSaisie, rfc3339_paris};
use depot_core::{
    Consultation, Decision, Espace, FichierId, Format, Gestionnaire, MotifRejet, NumeroDossier,
    Refus, Role, Sha256, Voie,
};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::{Corps, reponse_fichier};
use crate::vue::vue_dossier;
use crate::{ErreurApi, EtatPartage};

/// A staff account from the server configuration.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CompteGestionnaire {
    /// Their id, recorded in journals.
    pub id: String,
    /// `lecture` or `instruction`.
    pub role: Role,
    /// SHA-256 (hex) of their token.
    pub jeton_sha256: Sha256,
}

/// A request by a member of staff.
pub struct AuthGestion(pub Gestionnaire);

impl FromRequestParts<EtatPartage> for AuthGestion {
    type Rejection = ErreurApi;

    async fn from_request_parts(parts: &mut Parts, etat: &EtatPartage) -> Result<Self, ErreurApi> {
        let jeton = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(ErreurApi::non_authentifie)?;
        let h = Sha256::de(jeton.trim().as_bytes());
        etat.config
            .gestionnaires
            .iter()
            .find(|c| c.jeton_sha256 == h)
            .map(|c| {
                Self(Gestionnaire {
                    id: c.id.clone(),
                    role: c.role,
                })
            })
            .ok_or_else(ErreurApi::non_authentifie)
    }
}

/// The staff routes.
pub fn routes() -> Router<EtatPartage> {
    Router::new()
        .route("/api/v1/gestion/dossiers", get(lister))
        .route("/api/v1/gestion/forclos", get(forclos))
        .route("/api/v1/gestion/dossiers/{numero}", get(dossier))
        .route(
            "/api/v1/gestion/dossiers/{numero}/fichiers/{id}",
            get(fichier),
        )
        .route("/api/v1/gestion/dossiers/{numero}/decision", post(decider))
        .route("/api/v1/gestion/export", post(exporter))
}

/// Filters of the list.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filtres {
    etat: Option<String>,
    voie: Option<String>,
    pieces_attendues: Option<bool>,
    cloture_du: Option<String>,
    cloture_au: Option<String>,
    #[serde(default)]
    numeros: Vec<String>,
    page: Option<usize>,
    par_page: Option<usize>,
}

fn date(
    champ: &'static str,
    s: &str,
    fin: bool,
) -> Result<chrono::DateTime<chrono::Utc>, ErreurApi> {
    let d = DateSaisie::parse(s).map_err(|e| Refus::ChampInvalide {
        champ,
        raison: e.to_string(),
    })?;
    let r = if fin {
        d.comme_limite().map(|l| l.instant())
    } else {
        d.comme_debut()
    };
    r.map_err(|e| {
        Refus::ChampInvalide {
            champ,
            raison: e.to_string(),
        }
        .into()
    })
}

fn selectionner(tous: Vec<Consultation>, f: &Filtres) -> Result<Vec<Consultation>, ErreurApi> {
    let voie = match &f.voie {
        Some(v) => Some(Voie::parse(v).ok_or(Refus::ChampInvalide {
            champ: "voie",
            raison: "externe, interne ou troisieme_concours.".into(),
        })?),
        None => None,
    };
    let du = f
        .cloture_du
        .as_deref()
        .map(|s| date("cloture_du", s, false))
        .transpose()?;
    let au = f
        .cloture_au
        .as_deref()
        .map(|s| date("cloture_au", s, true))
        .transpose()?;
    Ok(tous
        .into_iter()
        .filter(|c| {
            let d = &c.dossier;
            f.etat
                .as_deref()
                .is_none_or(|e| d.etat_lu(&c.concours, c.maintenant).code() == e)
                && voie.is_none_or(|v| d.voie() == v)
                && f.pieces_attendues
                    .is_none_or(|a| a != d.pieces_attendues(&c.concours).is_empty())
                && du.is_none_or(|t| d.cloture_le().is_some_and(|l| l >= t))
                && au.is_none_or(|t| d.cloture_le().is_some_and(|l| l < t))
                && (f.numeros.is_empty()
                    || f.numeros
                        .iter()
                        .any(|n| n.eq_ignore_ascii_case(d.numero().as_str())))
        })
        .collect())
}

fn ligne(c: &Consultation) -> serde_json::Value {
    let d = &c.dossier;
    json!({
        "numero": d.numero().as_str(),
        "nom": d.identite().nom(),
        "prenom": d.identite().prenom(),
        "voie": d.voie().code(),
        "etat": d.etat_lu(&c.concours, c.maintenant).code(),
        "cloture_le": d.cloture_le().map(rfc3339_paris),
        "pieces_manquantes": d.pieces_manquantes(&c.concours).iter().map(|p| p.code.as_str()).collect::<Vec<_>>(),
        "pieces_attendues": d.pieces_attendues(&c.concours).iter().map(|p| p.code.as_str()).collect::<Vec<_>>(),
    })
}

fn page(liste: Vec<Consultation>, f: &Filtres) -> serde_json::Value {
    let par_page = f.par_page.unwrap_or(50).clamp(1, 500);
    let page = f.page.unwrap_or(1).max(1);
    let total = liste.len();
    let lignes: Vec<_> = liste
        .iter()
        .skip((page - 1) * par_page)
        .take(par_page)
        .map(ligne)
        .collect();
    json!({ "total": total, "page": page, "par_page": par_page, "dossiers": lignes })
}

async fn lister(
    State(etat): State<EtatPartage>,
    _qui: AuthGestion,
    Query(f): Query<Filtres>,
) -> Result<Response, ErreurApi> {
    let liste = selectionner(etat.espace.lister().await?, &f)?;
    Ok(Json(page(liste, &f)).into_response())
}

/// Dossiers not closed by the deadline, listed apart (nothing is deleted).
async fn forclos(
    State(etat): State<EtatPartage>,
    _qui: AuthGestion,
    Query(mut f): Query<Filtres>,
) -> Result<Response, ErreurApi> {
    f.etat = Some("non_cloture_hors_delai".into());
    let liste = selectionner(etat.espace.lister().await?, &f)?;
    Ok(Json(page(liste, &f)).into_response())
}

fn numero(s: &str) -> Result<NumeroDossier, ErreurApi> {
    NumeroDossier::parse(s).map_err(|_| {
        ErreurApi::new(
            StatusCode::NOT_FOUND,
            "dossier_inconnu",
            "Ce dossier n'existe pas.",
        )
    })
}

async fn consulter(etat: &EtatPartage, n: &str) -> Result<Consultation, ErreurApi> {
    let n = numero(n)?;
    etat.espace.consulter(&n).await.map_err(|e| match e {
        depot_core::ErreurEspace::Stockage(depot_core::StorageError::NotFound(_)) => {
            ErreurApi::new(
                StatusCode::NOT_FOUND,
                "dossier_inconnu",
                "Ce dossier n'existe pas.",
            )
        }
        autre => autre.into(),
    })
}

async fn dossier(
    State(etat): State<EtatPartage>,
    _qui: AuthGestion,
    Path(n): Path<String>,
) -> Result<Response, ErreurApi> {
    let c = consulter(&etat, &n).await?;
    let d = &c.dossier;
    Ok(Json(json!({
        "dossier": vue_dossier(&c),
        "identite": { "nom": d.identite().nom(), "prenom": d.identite().prenom(), "email": d.identite().email() },
        "declarations": d.declarations().iter().map(|x| x.as_str()).collect::<Vec<_>>(),
        "instruction": d.instruction(),
        "pieces_attendues": d.pieces_attendues(&c.concours).iter().map(|p| p.code.as_str()).collect::<Vec<_>>(),
        "recepisse": d.recepisse(),
        "journal": d.evenements(),
    }))
    .into_response())
}

async fn fichier(
    State(etat): State<EtatPartage>,
    _qui: AuthGestion,
    Path((n, id)): Path<(String, String)>,
) -> Result<Response, ErreurApi> {
    let id = FichierId::parse(&id).map_err(|_| ErreurApi::from(Refus::FichierInconnu))?;
    let (f, flux) = etat.espace.voir(&numero(&n)?, &id).await?;
    Ok(reponse_fichier(&f, flux))
}

/// A decision, as posted.
#[derive(Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case", deny_unknown_fields)]
enum CorpsDecision {
    Complements {
        pieces: Vec<String>,
        message: String,
        date_limite: String,
    },
    Recevable,
    Rejet {
        motif: MotifRejet,
        texte: Option<String>,
    },
    Revision {
        raison: String,
    },
    Reouverture {
        raison: String,
        jusqu_au: String,
    },
}

fn limite(champ: &'static str, s: &str) -> Result<depot_core::DateLimite, ErreurApi> {
    DateSaisie::parse(s)
        .and_then(|d| d.comme_limite())
        .map_err(|e| {
            Refus::ChampInvalide {
                champ,
                raison: e.to_string(),
            }
            .into()
        })
}

async fn decider(
    State(etat): State<EtatPartage>,
    AuthGestion(qui): AuthGestion,
    Path(n): Path<String>,
    Corps(c): Corps<CorpsDecision>,
) -> Result<Response, ErreurApi> {
    let decision = match c {
        CorpsDecision::Complements {
            pieces,
            message,
            date_limite,
        } => Decision::Complements {
            pieces,
            message,
            date_limite: limite("date_limite", &date_limite)?,
        },
        CorpsDecision::Recevable => Decision::Recevable,
        CorpsDecision::Rejet { motif, texte } => Decision::Rejet { motif, texte },
        CorpsDecision::Revision { raison } => Decision::Revision { raison },
        CorpsDecision::Reouverture { raison, jusqu_au } => Decision::Reouverture {
            raison,
            jusqu_au: limite("jusqu_au", &jusqu_au)?,
        },
    };
    let n = numero(&n)?;
    consulter(&etat, n.as_str()).await?;
    etat.espace.decider(&qui, &n, decision).await?;
    let c = etat.espace.consulter(&n).await?;
    Ok(Json(json!({
        "numero": n.as_str(),
        "etat": c.dossier.etat_lu(&c.concours, c.maintenant).code(),
        "message": c.dossier.message_etat(&c.concours, c.maintenant),
    }))
    .into_response())
}

/// Sends what the ZIP writer produces through a bounded channel, 64 KiB at a time: memory
/// stays bounded whatever the size of the export.
struct VersCanal {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    tampon: Vec<u8>,
}

impl Write for VersCanal {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tampon.extend_from_slice(buf);
        if self.tampon.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.tampon.is_empty() {
            return Ok(());
        }
        let morceau = Bytes::from(std::mem::take(&mut self.tampon));
        self.tx
            .blocking_send(Ok(morceau))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client parti"))
    }
}

fn csv_dossiers(liste: &[Consultation]) -> Result<Vec<u8>, std::io::Error> {
    // UTF-8 BOM and `;`: what French spreadsheet software expects.
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record([
        "n° de dossier",
        "nom",
        "prénom",
        "voie",
        "état",
        "clôturé le (heure de Paris)",
        "pièces manquantes",
    ])?;
    for c in liste {
        let d = &c.dossier;
        let cloture = d
            .cloture_le()
            .map(|t| {
                t.with_timezone(&chrono_tz::Europe::Paris)
                    .format("%d/%m/%Y %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default();
        let manquantes = d
            .pieces_manquantes(&c.concours)
            .iter()
            .map(|p| p.libelle.clone())
            .collect::<Vec<_>>()
            .join(", ");
        w.write_record([
            d.numero().as_str(),
            d.identite().nom(),
            d.identite().prenom(),
            d.voie().code(),
            d.etat_lu(&c.concours, c.maintenant).code(),
            &cloture,
            &manquantes,
        ])?;
    }
    w.into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))
}

fn ecrire_zip(
    sortie: VersCanal,
    liste: Vec<Consultation>,
    espace: &Espace,
    rt: &tokio::runtime::Handle,
) -> Result<(), std::io::Error> {
    use zip::write::SimpleFileOptions;
    let autre = |e: zip::result::ZipError| std::io::Error::other(e.to_string());
    let mut z = zip::ZipWriter::new_stream(sortie);
    let stocke = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    let compresse =
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    z.start_file("dossiers.csv", compresse).map_err(autre)?;
    z.write_all(&csv_dossiers(&liste)?)?;
    for c in &liste {
        let d = &c.dossier;
        let n = d.numero();
        for p in d.pieces(&c.concours) {
            for (i, f) in d.fichiers_de(&p.code).enumerate() {
                let ext = match f.format {
                    Format::Pdf => "pdf",
                    Format::Jpeg => "jpg",
                };
                z.start_file(format!("{n}/{}-{}.{ext}", p.code, i + 1), stocke)
                    .map_err(autre)?;
                let (_, mut flux) = rt
                    .block_on(espace.voir(n, &f.id))
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                while let Some(m) = rt.block_on(flux.next()) {
                    z.write_all(&m.map_err(|e| std::io::Error::other(e.to_string()))?)?;
                }
            }
        }
        if let Some(r) = d.recepisse() {
            z.start_file(format!("{n}/recepisse.json"), compresse)
                .map_err(autre)?;
            z.write_all(&serde_json::to_vec_pretty(r).map_err(std::io::Error::other)?)?;
        }
    }
    let mut fin = z.finish().map_err(autre)?;
    fin.flush()
}

/// Export of a selection (the list's filters, or `numeros`) as a ZIP streamed to the client:
/// one folder per dossier with `<code-piece>-<n>.<ext>` files and the signed récépissé, and a
/// `dossiers.csv` (`;`, UTF-8 BOM) for spreadsheets.
async fn exporter(
    State(etat): State<EtatPartage>,
    _qui: AuthGestion,
    Corps(f): Corps<Filtres>,
) -> Result<Response, ErreurApi> {
    let liste = selectionner(etat.espace.lister().await?, &f)?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let espace = etat.espace.clone();
    let rt = tokio::runtime::Handle::current();
    let erreurs = tx.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = ecrire_zip(
            VersCanal {
                tx,
                tampon: Vec::new(),
            },
            liste,
            &espace,
            &rt,
        ) {
            tracing::error!(erreur = %e, "export interrompu");
            let _ = erreurs.blocking_send(Err(e));
        }
    });
    let flux = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut r = Response::new(Body::from_stream(flux));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"export-dossiers.zip\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}
