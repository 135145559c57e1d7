//! Passwords and authentication: « votre mot de passe choisi lors de votre préinscription ».
//!
//! - [`MotDePasse`] is wiped on drop and has no `Debug`/`Display`: it cannot be logged by
//!   accident. It is verified exactly as typed (no trimming, no case folding).
//! - Policy ([`MotDePasse::verifier_politique`]): 12 to 128 characters, no composition
//!   rules, and a zxcvbn score of at least 3 (guessable passwords refused), taking the
//!   candidate's own name and e-mail into account.
//! - Hashing: argon2id, m = 19456 KiB, t = 2, p = 1, stored as a PHC string, behind the
//!   [`Hacheur`] port so an HTTP server can run it on a bounded blocking pool.
//! - [`Argon2Authenticator`] checks an unknown n° de dossier against a dummy hash, so that
//!   the time taken does not reveal which numbers exist.

use std::fmt;
use std::sync::{Arc, OnceLock};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::erreur::{ErreurEspace, Refus, StorageError};
use crate::ids::NumeroDossier;
use crate::ports::{Random, SystemRandom};

/// Fewest characters in a password.
pub const MOT_DE_PASSE_MIN: usize = 12;
/// Most characters in a password.
pub const MOT_DE_PASSE_MAX: usize = 128;
/// Lowest acceptable zxcvbn score (0–4).
pub const SCORE_MIN: u8 = 3;

/// Weak patterns of French users that zxcvbn's English dictionaries and QWERTY graphs miss:
/// AZERTY keyboard rows and common French passwords. Given to zxcvbn as extra dictionary
/// words.
const MOTS_FAIBLES_FRANCAIS: &[&str] = &[
    "azerty",
    "azertyuiop",
    "qsdfghjklm",
    "qsdfgh",
    "wxcvbn",
    "wxcvbnqsdf",
    "azertyqsdfgh",
    "aqwzsxedc",
    "motdepasse",
    "bonjour",
    "soleil",
    "chocolat",
    "doudou",
    "loulou",
    "jetaime",
    "marseille",
    "nicolas",
    "camille",
    "concours",
    "inscription",
    "animateur",
    "territorial",
    "mayenne",
    "laval",
    "fonctionpublique",
    "centredegestion",
    "france",
    "princesse",
    "coucou",
    "vacances",
];

/// A password as typed. Wiped from memory on drop; never printed.
pub struct MotDePasse(Zeroizing<String>);

impl MotDePasse {
    /// Wraps what the candidate typed, exactly.
    pub fn new(saisie: String) -> Self {
        Self(Zeroizing::new(saisie))
    }

    /// The secret, for hashing only.
    pub fn exposer(&self) -> &str {
        &self.0
    }

    /// Checks the pré-inscription policy. `indices` are the candidate's own words (name,
    /// e-mail) that must not make the password guessable.
    pub fn verifier_politique(&self, indices: &[&str]) -> Result<(), Refus> {
        let n = self.0.chars().count();
        if n < MOT_DE_PASSE_MIN {
            return Err(Refus::MotDePasseFaible {
                raison: format!(
                    "il compte {n} caractère(s), il en faut au moins {MOT_DE_PASSE_MIN}."
                ),
            });
        }
        if n > MOT_DE_PASSE_MAX {
            return Err(Refus::MotDePasseFaible {
                raison: format!("il dépasse {MOT_DE_PASSE_MAX} caractères."),
            });
        }
        // zxcvbn compares lower-case tokens: give it each word of the name and e-mail too.
        let mut propres: Vec<String> = Vec::new();
        for i in indices {
            let bas = i.to_lowercase();
            propres.extend(
                bas.split(|c: char| !c.is_alphanumeric())
                    .filter(|t| t.chars().count() >= 3)
                    .map(str::to_owned),
            );
            propres.push(bas);
        }
        // NIST SP 800-63B: refuse context-specific words. What is left of the password once
        // the candidate's own words are taken out must still be substantial.
        let mut reste: String = self
            .0
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        for t in propres
            .iter()
            .filter(|t| t.chars().all(char::is_alphanumeric))
        {
            reste = reste.replace(t.as_str(), "");
        }
        if !propres.is_empty() && reste.chars().count() < 6 {
            return Err(Refus::MotDePasseFaible {
                raison: "il reprend votre nom, votre prénom ou votre adresse électronique."
                    .to_owned(),
            });
        }
        let mut mots: Vec<&str> = propres.iter().map(String::as_str).collect();
        mots.extend_from_slice(MOTS_FAIBLES_FRANCAIS);
        let score = u8::from(zxcvbn::zxcvbn(&self.0, &mots).score());
        if score < SCORE_MIN {
            return Err(Refus::MotDePasseFaible {
                raison: "il est trop facile à deviner (mot courant, suite de caractères, répétition, date ou élément de votre nom ou de votre adresse)."
                    .to_owned(),
            });
        }
        Ok(())
    }
}

/// Read from a request body straight into the wiped buffer (`{"mot_de_passe": "…"}`).
impl<'de> Deserialize<'de> for MotDePasse {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::new)
    }
}

/// Nothing typed (a form's missing field): refused by the password policy.
impl Default for MotDePasse {
    fn default() -> Self {
        Self::new(String::new())
    }
}

impl From<&str> for MotDePasse {
    fn from(s: &str) -> Self {
        Self::new(s.to_owned())
    }
}

/// An argon2id hash in PHC string form. Not a secret, but not shown in logs either.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashMotDePasse(String);

impl HashMotDePasse {
    /// Wraps a PHC string read from storage (checked when verifying).
    pub fn depuis_phc(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string, for storage.
    pub fn phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for HashMotDePasse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HashMotDePasse(…)")
    }
}

/// Password hashing, as a port: the default runs argon2id inline; a server runs it on a
/// bounded pool of blocking threads.
#[async_trait]
pub trait Hacheur: Send + Sync {
    /// Hashes a new password.
    async fn hacher(&self, mdp: &MotDePasse) -> Result<HashMotDePasse, StorageError>;
    /// Verifies a password against a stored hash; a malformed hash verifies nothing.
    async fn verifier(&self, hash: &HashMotDePasse, mdp: &MotDePasse) -> bool;
}

/// argon2id with the OWASP-recommended parameters (m = 19456 KiB, t = 2, p = 1).
#[derive(Clone)]
pub struct Argon2id {
    argon2: Argon2<'static>,
    hasard: Arc<dyn Random>,
}

impl fmt::Debug for Argon2id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Argon2id { m: 19456, t: 2, p: 1 }")
    }
}

impl Default for Argon2id {
    fn default() -> Self {
        Self::new(Arc::new(SystemRandom))
    }
}

impl Argon2id {
    /// The production parameters.
    pub fn new(hasard: Arc<dyn Random>) -> Self {
        #[allow(clippy::expect_used)] // constant, valid parameters
        let params = Params::new(19_456, 2, 1, None).expect("paramètres argon2 valides");
        Self {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            hasard,
        }
    }

    /// Hashes synchronously (CPU-bound, about 15–50 ms), with fresh working memory.
    pub fn hacher_sync(&self, mdp: &MotDePasse) -> Result<HashMotDePasse, StorageError> {
        self.hacher_avec(mdp, &mut MemoireArgon2::default())
    }

    /// Verifies synchronously, with fresh working memory. The parameters are read from the
    /// PHC string.
    pub fn verifier_sync(&self, hash: &HashMotDePasse, mdp: &MotDePasse) -> bool {
        self.verifier_avec(hash, mdp, &mut MemoireArgon2::default())
    }

    /// Hashes in `memoire`, which a pool thread keeps from one hash to the next.
    pub fn hacher_avec(
        &self,
        mdp: &MotDePasse,
        memoire: &mut MemoireArgon2,
    ) -> Result<HashMotDePasse, StorageError> {
        let erreur =
            |e: &dyn fmt::Display| StorageError::Unavailable(format!("hachage argon2 : {e}"));
        let mut brut = [0u8; 16];
        self.hasard.remplir(&mut brut);
        let sel = SaltString::encode_b64(&brut).map_err(|e| erreur(&e))?;
        let params = self.argon2.params();
        let mut sortie = Zeroizing::new([0u8; Params::DEFAULT_OUTPUT_LEN]);
        self.argon2
            .hash_password_into_with_memory(
                mdp.exposer().as_bytes(),
                &brut,
                &mut sortie[..],
                memoire.blocs(params.block_count()),
            )
            .map_err(|e| erreur(&e))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(params).map_err(|e| erreur(&e))?,
            salt: Some(sel.as_salt()),
            hash: Some(Output::new(&sortie[..]).map_err(|e| erreur(&e))?),
        };
        Ok(HashMotDePasse(phc.to_string()))
    }

    /// Verifies in `memoire`. A malformed hash, or one whose parameters ask for more than
    /// [`MEMOIRE_ARGON2_MAX_KIO`], verifies nothing. The comparison is constant-time.
    pub fn verifier_avec(
        &self,
        hash: &HashMotDePasse,
        mdp: &MotDePasse,
        memoire: &mut MemoireArgon2,
    ) -> bool {
        let Ok(h) = PasswordHash::new(&hash.0) else {
            return false;
        };
        let (Some(sel), Some(attendu)) = (h.salt, h.hash) else {
            return false;
        };
        let (Ok(algorithme), Ok(params)) = (Algorithm::try_from(h.algorithm), Params::try_from(&h))
        else {
            return false;
        };
        let version = match h.version.map(Version::try_from) {
            None => Version::V0x13,
            Some(Ok(v)) => v,
            Some(Err(_)) => return false,
        };
        if params.m_cost() > MEMOIRE_ARGON2_MAX_KIO {
            return false;
        }
        let mut brut = [0u8; 64];
        let Ok(sel) = sel.decode_b64(&mut brut) else {
            return false;
        };
        let mut sortie = Zeroizing::new(vec![0u8; attendu.len()]);
        let blocs = params.block_count();
        let calcul = Argon2::new(algorithme, version, params).hash_password_into_with_memory(
            mdp.exposer().as_bytes(),
            sel,
            &mut sortie,
            memoire.blocs(blocs),
        );
        calcul.is_ok() && Output::new(&sortie).is_ok_and(|o| o == attendu)
    }
}

/// Most memory a stored hash may ask for when verified (4 × the production cost): a hash
/// altered in storage cannot make a login allocate gigabytes.
pub const MEMOIRE_ARGON2_MAX_KIO: u32 = 4 * 19_456;

/// argon2's working memory (19 MiB for the production parameters), kept by a hashing thread
/// and reused: allocating it for every hash from many threads lets the allocator keep one
/// copy per thread arena, which grew a server to 900 MiB during a login rush.
#[derive(Default)]
pub struct MemoireArgon2(Vec<argon2::Block>);

impl MemoireArgon2 {
    /// The first `n` blocks, growing the buffer if needed.
    fn blocs(&mut self, n: usize) -> &mut [argon2::Block] {
        if self.0.len() < n {
            self.0.resize(n, argon2::Block::default());
        }
        &mut self.0[..n]
    }
}

impl Drop for MemoireArgon2 {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(zeroize::Zeroize::zeroize);
    }
}

impl fmt::Debug for MemoireArgon2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemoireArgon2({} Kio)", self.0.len())
    }
}

#[async_trait]
impl Hacheur for Argon2id {
    async fn hacher(&self, mdp: &MotDePasse) -> Result<HashMotDePasse, StorageError> {
        self.hacher_sync(mdp)
    }
    async fn verifier(&self, hash: &HashMotDePasse, mdp: &MotDePasse) -> bool {
        self.verifier_sync(hash, mdp)
    }
}

/// Password hashes per dossier.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// Sets (or replaces) the hash of a dossier's password.
    async fn definir(
        &self,
        numero: &NumeroDossier,
        hash: &HashMotDePasse,
    ) -> Result<(), StorageError>;
    /// The hash, or `None` for an unknown number.
    async fn lire(&self, numero: &NumeroDossier) -> Result<Option<HashMotDePasse>, StorageError>;
    /// Erases a dossier's hash (retention: the dossier's personal data are purged; nobody
    /// logs in to it again). An unknown number is not an error.
    async fn effacer(&self, numero: &NumeroDossier) -> Result<(), StorageError>;
}

/// N° de dossier + password → the authenticated dossier.
#[async_trait]
pub trait Authenticator: Send + Sync {
    /// Authenticates. Unknown number and wrong password give the same
    /// `identifiants_invalides`, after the same work.
    async fn authentifier(
        &self,
        numero: &str,
        mdp: &MotDePasse,
    ) -> Result<NumeroDossier, ErreurEspace>;
}

/// The default authenticator: credential store + argon2id, with a dummy hash for unknown
/// numbers.
pub struct Argon2Authenticator {
    identifiants: Arc<dyn CredentialStore>,
    hacheur: Arc<dyn Hacheur>,
    factice: OnceLock<HashMotDePasse>,
}

impl Argon2Authenticator {
    /// Builds it over a credential store and a hasher.
    pub fn new(identifiants: Arc<dyn CredentialStore>, hacheur: Arc<dyn Hacheur>) -> Self {
        Self {
            identifiants,
            hacheur,
            factice: OnceLock::new(),
        }
    }

    async fn hash_factice(&self) -> HashMotDePasse {
        if let Some(h) = self.factice.get() {
            return h.clone();
        }
        let mut octets = [0u8; 24];
        SystemRandom.remplir(&mut octets);
        let secret = MotDePasse::new(hex::encode(octets));
        // If hashing itself fails, a constant well-formed hash still costs a verification.
        let h = self.hacheur.hacher(&secret).await.unwrap_or_else(|_| {
            HashMotDePasse(
                "$argon2id$v=19$m=19456,t=2,p=1$c2VsZmFjdGljZTAwMDA$3p0V9bH2cD7o1v1nTQqv7iZ0L4wQJ9x2o3m1n8b2c5Y"
                    .to_owned(),
            )
        });
        self.factice.get_or_init(|| h).clone()
    }
}

#[async_trait]
impl Authenticator for Argon2Authenticator {
    async fn authentifier(
        &self,
        numero: &str,
        mdp: &MotDePasse,
    ) -> Result<NumeroDossier, ErreurEspace> {
        let stocke = match NumeroDossier::parse(numero) {
            Ok(n) => self.identifiants.lire(&n).await?.map(|h| (n, h)),
            Err(_) => None,
        };
        match stocke {
            Some((n, hash)) => {
                if self.hacheur.verifier(&hash, mdp).await {
                    Ok(n)
                } else {
                    Err(Refus::IdentifiantsInvalides.into())
                }
            }
            None => {
                let factice = self.hash_factice().await;
                let _ = self.hacheur.verifier(&factice, mdp).await;
                Err(Refus::IdentifiantsInvalides.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn politique() {
        let court = MotDePasse::from("Az9!Az9!");
        assert_eq!(
            court.verifier_politique(&[]).unwrap_err().code(),
            "mot_de_passe_faible"
        );
        let long = MotDePasse::new("x".repeat(129));
        assert_eq!(
            long.verifier_politique(&[]).unwrap_err().code(),
            "mot_de_passe_faible"
        );
        // Long enough but guessable.
        for faible in [
            "motdepasse123",
            "azertyuiopqsdf",
            "aaaaaaaaaaaaaaa",
            "123456789012",
            "Azerty123456",
        ] {
            assert!(
                MotDePasse::from(faible).verifier_politique(&[]).is_err(),
                "{faible} accepted"
            );
        }
        // Built from the candidate's own name.
        assert!(
            MotDePasse::from("camille.durand")
                .verifier_politique(&["Camille", "Durand", "camille.durand@exemple.fr"])
                .is_err()
        );
        assert!(
            MotDePasse::from("Durand-1975!!")
                .verifier_politique(&["Camille", "Durand", "camille.durand@exemple.fr"])
                .is_err()
        );
        // A passphrase, no composition rule needed.
        MotDePasse::from("lune verte sur le toit de Laval")
            .verifier_politique(&[])
            .unwrap();
        // Accents count as one character each.
        MotDePasse::from("Écureuil rôti à l'été")
            .verifier_politique(&[])
            .unwrap();
    }

    #[test]
    fn argon2id_aller_retour_et_parametres() {
        let a = Argon2id::default();
        let h = a
            .hacher_sync(&MotDePasse::from("lune verte sur le toit"))
            .unwrap();
        assert!(
            h.phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            h.phc()
        );
        assert!(a.verifier_sync(&h, &MotDePasse::from("lune verte sur le toit")));
        // Exactly as typed: no trimming, no case folding.
        assert!(!a.verifier_sync(&h, &MotDePasse::from("lune verte sur le toit ")));
        assert!(!a.verifier_sync(&h, &MotDePasse::from("Lune verte sur le toit")));
        assert!(!a.verifier_sync(
            &HashMotDePasse::depuis_phc("n'importe".into()),
            &MotDePasse::from("x")
        ));
        assert_eq!(format!("{h:?}"), "HashMotDePasse(…)");
    }

    /// The reused-memory path writes and reads the same PHC strings as the argon2 crate's
    /// own hasher, whatever parameters the stored hash carries.
    #[test]
    fn memoire_reutilisee_compatible_avec_argon2() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let a = Argon2id::default();
        let mut m = MemoireArgon2::default();
        let mdp = MotDePasse::from("cerise-moulin-brume-42");
        // Ours, checked by the crate.
        let h = a.hacher_avec(&mdp, &mut m).unwrap();
        let phc = PasswordHash::new(h.phc()).unwrap();
        assert!(
            a.argon2
                .verify_password(b"cerise-moulin-brume-42", &phc)
                .is_ok()
        );
        assert!(
            a.argon2
                .verify_password(b"cerise-moulin-brume-43", &phc)
                .is_err()
        );
        // The crate's, with other (smaller) parameters and argon2i, checked by ours with the
        // same memory.
        for (alg, m_cout) in [(Algorithm::Argon2id, 8_192), (Algorithm::Argon2i, 4_096)] {
            let autre = Argon2::new(
                alg,
                Version::V0x13,
                Params::new(m_cout, 1, 1, None).unwrap(),
            );
            let sel = SaltString::encode_b64(b"sel-de-seize-oct").unwrap();
            let h2 = HashMotDePasse(
                autre
                    .hash_password(b"cerise-moulin-brume-42", &sel)
                    .unwrap()
                    .to_string(),
            );
            assert!(a.verifier_avec(&h2, &mdp, &mut m), "{alg:?} m={m_cout}");
            assert!(!a.verifier_avec(&h2, &MotDePasse::from("cerise"), &mut m));
        }
        // A stored hash asking for too much memory verifies nothing (and allocates nothing).
        let gros = h.phc().replace("m=19456", "m=4000000");
        assert!(!a.verifier_avec(&HashMotDePasse(gros), &mdp, &mut m));
        assert_eq!(m.0.len(), 19_456, "the memory is reused, not grown");
    }
}
