//! Signing the récépissé, and checking it without trusting anyone's word.
//!
//! The seed tells candidates « Pensez à bien vérifier que la manipulation de clôture de votre
//! dossier est effective ». The récépissé issued at closure is signed with Ed25519 over the
//! canonical form of its content ([`ContenuRecepisse::forme_canonique`]): a candidate, a CDG
//! or a judge can check, with the CDG's published public key, that it was issued as is —
//! every field, the closure instant to the millisecond, every file's SHA-256.
//!
//! [`Signataire`] is a port: the default [`SignataireEd25519`] holds its key in memory; a CDG
//! can plug an HSM behind the same trait.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::erreur::StorageError;
use crate::ids::Sha256;
use crate::ports::Random;
use crate::recepisse::{ContenuRecepisse, Recepisse};

/// The only algorithm depot signs with.
pub const ALGORITHME: &str = "ed25519";

/// A public key as `GET /api/v1/recepisse/cles` publishes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClePublique {
    /// Key id: the first 16 hex characters of the SHA-256 of the public key.
    pub id: String,
    /// `ed25519`.
    pub algorithme: String,
    /// The 32-byte public key, base64.
    pub cle_publique: String,
    /// Since when it signs.
    pub valide_depuis: DateTime<Utc>,
}

/// The published set of keys (current and previous ones, for rotation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cles {
    /// The keys.
    pub cles: Vec<ClePublique>,
}

/// A récépissé could not be signed (the key is unreachable: a hardware module or a remote
/// signing service that failed). Nothing was closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signature impossible : {0}")]
pub struct ErreurSignature(pub String);

/// Where the récépissé signing key and the list of every published key are kept.
///
/// The contract (checked by `testkit::conformite_cles`):
/// - the seed is created **once**: [`graine_ou_creer`](Self::graine_ou_creer) stores the
///   proposed seed only if none exists (a conditional create), and every caller — several
///   instances starting together included — gets the one stored;
/// - the published list only grows: [`publier`](Self::publier) adds a key that is not in it
///   and never drops one, so a récépissé signed before a rotation still verifies;
/// - what cannot be read is an error (`Corrupt`, `Unavailable`), never an empty list or a
///   new key: a server refuses to start rather than forget a key.
#[async_trait::async_trait]
pub trait KeyStore: Send + Sync {
    /// The stored seed; when there is none yet, `proposee` is stored first.
    async fn graine_ou_creer(
        &self,
        proposee: Zeroizing<[u8; 32]>,
    ) -> Result<Zeroizing<[u8; 32]>, StorageError>;

    /// Every key ever published, in the order they were added.
    async fn publiees(&self) -> Result<Cles, StorageError>;

    /// Adds `cle` to the published list unless a key with its id is there; returns the list.
    async fn publier(&self, cle: ClePublique) -> Result<Cles, StorageError>;
}

/// The signer of an espace, from its key store: the stored key (created at first start),
/// or `graine_imposee` when the operator gives one; its public key is published before it
/// signs anything. Returns the signer and every published key.
pub async fn ouvrir_signataire(
    store: &dyn KeyStore,
    graine_imposee: Option<Zeroizing<[u8; 32]>>,
    hasard: &dyn Random,
    now: DateTime<Utc>,
) -> Result<(SignataireEd25519, Cles), StorageError> {
    let graine = match graine_imposee {
        Some(g) => g,
        None => {
            let mut proposee = Zeroizing::new([0u8; 32]);
            hasard.remplir(&mut *proposee);
            store.graine_ou_creer(proposee).await?
        }
    };
    let signataire = SignataireEd25519::depuis_graine(&graine, now);
    let cles = store.publier(signataire.cle_publique()).await?;
    Ok((signataire, cles))
}

/// Signs récépissés.
pub trait Signataire: Send + Sync {
    /// The id of the key that signs.
    fn cle_id(&self) -> &str;
    /// Signs `message`; a failure (an HSM unreachable) is reported, never ignored.
    fn signer(&self, message: &[u8]) -> Result<Vec<u8>, ErreurSignature>;
    /// The public key, as published.
    fn cle_publique(&self) -> ClePublique;
}

/// Ed25519 with the key in memory (wiped on drop).
pub struct SignataireEd25519 {
    cle: SigningKey,
    id: String,
    valide_depuis: DateTime<Utc>,
}

impl std::fmt::Debug for SignataireEd25519 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SignataireEd25519 {{ id: {} }}", self.id)
    }
}

/// The key id of a public key.
pub fn id_de_cle(publique: &[u8; 32]) -> String {
    Sha256::de(publique).hex()[..16].to_owned()
}

impl SignataireEd25519 {
    /// From a 32-byte seed (the secret key).
    pub fn depuis_graine(graine: &[u8; 32], valide_depuis: DateTime<Utc>) -> Self {
        let cle = SigningKey::from_bytes(graine);
        let id = id_de_cle(cle.verifying_key().as_bytes());
        Self {
            cle,
            id,
            valide_depuis,
        }
    }

    /// A new random key.
    pub fn generer(hasard: &dyn Random, valide_depuis: DateTime<Utc>) -> Self {
        let mut graine = Zeroizing::new([0u8; 32]);
        hasard.remplir(&mut *graine);
        Self::depuis_graine(&graine, valide_depuis)
    }

    /// The seed, to store (with 0600 permissions).
    pub fn graine(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.cle.to_bytes())
    }
}

impl Signataire for SignataireEd25519 {
    fn cle_id(&self) -> &str {
        &self.id
    }

    fn signer(&self, message: &[u8]) -> Result<Vec<u8>, ErreurSignature> {
        Ok(self.cle.sign(message).to_bytes().to_vec())
    }

    fn cle_publique(&self) -> ClePublique {
        ClePublique {
            id: self.id.clone(),
            algorithme: ALGORITHME.to_owned(),
            cle_publique: B64.encode(self.cle.verifying_key().as_bytes()),
            valide_depuis: self.valide_depuis,
        }
    }
}

/// Signs a récépissé's content: `(key id, base64 signature)`.
pub fn signer_contenu(
    s: &dyn Signataire,
    contenu: &ContenuRecepisse,
) -> Result<(String, String), ErreurSignature> {
    let sig = s.signer(&contenu.forme_canonique())?;
    Ok((s.cle_id().to_owned(), B64.encode(sig)))
}

/// Why a récépissé does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErreurVerification {
    /// Not a récépissé (JSON unreadable or fields missing).
    #[error("ce fichier n'est pas un récépissé lisible : {0}")]
    Illisible(String),
    /// Signed with an algorithm depot does not use.
    #[error("algorithme de signature inconnu : {0}")]
    AlgorithmeInconnu(String),
    /// Signed by a key that is not among the published ones.
    #[error(
        "clé de signature inconnue : {0} (elle ne figure pas parmi les clés publiées par le centre de gestion)"
    )]
    CleInconnue(String),
    /// A field was changed: the fingerprint no longer matches the content.
    #[error(
        "récépissé modifié : l'empreinte ne correspond plus au contenu (un champ a été changé)"
    )]
    EmpreinteAlteree,
    /// The signature does not match the content.
    #[error(
        "signature invalide : le contenu a été modifié après la signature, ou n'a pas été signé par cette clé"
    )]
    SignatureInvalide,
}

/// Verifies a récépissé (the JSON as served) against published keys; returns its content.
pub fn verifier_recepisse(
    json: &[u8],
    cles: &Cles,
) -> Result<ContenuRecepisse, ErreurVerification> {
    let r: Recepisse =
        serde_json::from_slice(json).map_err(|e| ErreurVerification::Illisible(e.to_string()))?;
    if r.algorithme != ALGORITHME {
        return Err(ErreurVerification::AlgorithmeInconnu(r.algorithme));
    }
    let canonique = r.contenu.forme_canonique();
    if Sha256::de(&canonique) != r.empreinte {
        return Err(ErreurVerification::EmpreinteAlteree);
    }
    let cle = cles
        .cles
        .iter()
        .find(|c| c.id == r.cle_id && c.algorithme == ALGORITHME)
        .ok_or_else(|| ErreurVerification::CleInconnue(r.cle_id.clone()))?;
    let octets: [u8; 32] = B64
        .decode(&cle.cle_publique)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| ErreurVerification::Illisible("clé publique mal formée".into()))?;
    let publique = VerifyingKey::from_bytes(&octets)
        .map_err(|_| ErreurVerification::Illisible("clé publique invalide".into()))?;
    let sig: [u8; 64] = B64
        .decode(&r.signature)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or(ErreurVerification::SignatureInvalide)?;
    publique
        .verify(&canonique, &Signature::from_bytes(&sig))
        .map_err(|_| ErreurVerification::SignatureInvalide)?;
    Ok(r.contenu)
}
