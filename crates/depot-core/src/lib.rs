//! # depot-core — the rules of the *dépôt dématérialisé*
//!
//! This crate states, with no I/O of its own, the procedure a Centre de gestion (CDG)
//! describes to candidates of a territorial concours:
//!
//! 1. the candidate logs into a secure space with the n° de dossier and the password chosen
//!    at pré-inscription ([`Espace::connecter`]);
//! 2. for each requested pièce justificative they upload files — « au format PDF ou JPEG »
//!    only, decided by content ([`mod@format`]) — see « fichier enregistré », view a file (the
//!    eye, [`Espace::voir`]) or delete it (the bin, [`Espace::supprimer`]);
//! 3. they must click « Clôturer mon inscription » ([`Espace::cloturer`]) before the deadline,
//!    « avant minuit, heure métropolitaine » ([`DateLimite`]); without closure the
//!    registration is not taken into account ([`EtatLu::NonClotureHorsDelai`]);
//! 4. some pieces may be sent later, even after closure ([`Exigence::Differable`]);
//! 5. then they read « votre dossier est clôturé, il est en cours d'instruction ».
//!
//! Storage, passwords, time and randomness are ports ([`ports`], [`auth`]); adapters
//! implement them. Every refusal is a [`Refus`] with a stable `code()` and a French
//! `message()`.
//!
//! ## The whole flow
//!
//! ```
//! use std::sync::Arc;
//! use bytes::Bytes;
//! use chrono::{DateTime, Utc};
//! use depot_core::{Concours, DemandePreinscription, Espace, HorlogeFixe, MotDePasse, Ports, Voie};
//!
//! # futures_executor::block_on(async {
//! let concours = Concours::from_toml(include_str!("../../../examples/concours/animateur-2025.toml"))?;
//! let horloge = Arc::new(HorlogeFixe::new("2025-04-01T10:00:00Z".parse::<DateTime<Utc>>()?));
//! let espace = Espace::new(vec![concours], Ports::en_memoire().avec_horloge(horloge.clone()))?;
//!
//! // Pré-inscription, then login with the n° de dossier and the password.
//! let numero = espace.preinscrire(None, DemandePreinscription {
//!     voie: Voie::Externe,
//!     nom: "Durand".into(), prenom: "Camille".into(), email: "camille@exemple.fr".into(),
//!     declarations: vec![],
//!     mot_de_passe: MotDePasse::from("lune verte sur le toit de Laval"),
//! }).await?;
//! let moi = espace.connecter(numero.as_str(), &MotDePasse::from("lune verte sur le toit de Laval")).await?;
//!
//! // Closure is refused while a required piece is missing…
//! let refus = espace.cloturer(&moi).await.unwrap_err();
//! assert_eq!(refus.code(), "pieces_manquantes");
//!
//! // …so deposit it: « Fichier enregistré ».
//! let pdf = depot_core::exemples::pdf_minimal();
//! let fichier = espace.deposer(&moi, "piece-identite", "CNI.pdf", Bytes::from(pdf)).await?;
//! assert_eq!(fichier.nom, "CNI.pdf");
//!
//! // « Clôturer mon inscription », one second before midnight, Paris time.
//! horloge.regler("2025-04-17T23:59:59+02:00".parse::<DateTime<Utc>>()?.into());
//! let recepisse = espace.cloturer(&moi).await?;
//! assert!(recepisse.empreinte_valide());
//! let vue = espace.consulter(&moi).await?;
//! assert_eq!(vue.dossier.message_etat(&vue.concours, vue.maintenant),
//!            "Votre dossier est clôturé, il est en cours d'instruction.");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

pub mod antivirus;
pub mod auth;
pub mod calendrier;
pub mod config;
pub mod conservation;
pub mod courriel;
pub mod dossier;
pub mod erreur;
pub use depot_format::exemples;
pub mod format;
pub mod ids;
pub mod instruction;
pub mod limitation;
pub mod memoire;
pub mod pool;
pub mod ports;
pub mod recepisse;
mod recepisse_pdf;
pub mod recherche;
pub mod service;
pub mod session;
pub mod signature;
#[cfg(feature = "testkit")]
pub mod testkit;
mod upload;

pub use auth::{
    Argon2Authenticator, Argon2id, Authenticator, CredentialStore, Hacheur, HashMotDePasse,
    MemoireArgon2, MotDePasse,
};
pub use calendrier::{DateLimite, DateSaisie, ErreurDate};
pub use config::{Calendrier, Concours, Declaration, ErreurConfig, Exigence, PieceSpec, Voie};
pub use dossier::{
    Acteur, Dossier, Etat, EtatLu, Evenement, Fichier, Identite, Journal, Quoi, RuptureJournal,
    StatutPiece, reconstituer_journal, verifier_journal,
};
pub use erreur::{Categorie, ErreurEnvoi, ErreurEspace, PieceNommee, Refus, StorageError};
pub use format::{Analyse, AnalyseFlux, Caracteristiques, Examen, Format, Nature, Rejet, analyser};
pub use ids::{CodeConcours, CodeDeclaration, CodePiece, FichierId, NumeroDossier, Sha256};
pub use instruction::{
    Decision, DecisionSaisie, Gestionnaire, MotifRejet, RegistreMemoire, RegistreNational, Role,
    SansRegistre, StatutInstruction, TypeDecision,
};
pub use limitation::{CompteurStore, Limiteur, Quota, Regles, Retenue, Tentative};
pub use pool::{PoolArgon2, ThreadPool};
pub use ports::{
    Blocking, CleContenu, Clock, ContenuStocke, DossierStore, EnLigne, FluxOctets, HorlogeFixe,
    HorlogeSysteme, PieceStore, PoolFermee, Random, SystemRandom, Versionne,
};
pub use recepisse::{ContenuRecepisse, LigneRecepisse, Recepisse};
pub use recherche::{Filtre, IndexDossier, Indexeur, Page, Recherche};
pub use service::{Consultation, DemandePreinscription, Espace, Ports};
pub use session::{SessionOuverte, SessionStore, Sessions};
pub use signature::{
    ClePublique, Cles, ErreurSignature, ErreurVerification, KeyStore, Signataire,
    SignataireEd25519, ouvrir_signataire, verifier_recepisse,
};
