//! The récépissé signing key: created once, at first start, in the data directory's key
//! store (`cles/`, see depot-fs), or given as a 64-hex-character seed in
//! `DEPOT_CLE_SIGNATURE`. Every key ever used stays published, so récépissés signed before
//! a rotation still verify; an unreadable key file stops the start instead of being
//! replaced.

use depot_core::signature::{Cles, SignataireEd25519};
use depot_core::{Clock, HorlogeSysteme, KeyStore, SystemRandom, ouvrir_signataire};
use zeroize::Zeroizing;

use crate::ErreurServeur;

/// A seed given by the operator, as 64 hexadecimal characters.
fn graine_hex(texte: &str) -> Option<Zeroizing<[u8; 32]>> {
    let mut graine = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(texte.trim(), &mut *graine).ok()?;
    Some(graine)
}

/// Loads (or creates) the signing key and publishes it; returns it with every published
/// key.
pub(crate) async fn charger(
    store: &dyn KeyStore,
    depuis_env: Option<Zeroizing<String>>,
) -> Result<(SignataireEd25519, Cles), ErreurServeur> {
    let imposee = match depuis_env {
        Some(h) => Some(graine_hex(&h).ok_or(ErreurServeur::CleImposee)?),
        None => None,
    };
    Ok(ouvrir_signataire(store, imposee, &SystemRandom, HorlogeSysteme.now()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graine_de_l_operateur() {
        assert_eq!(graine_hex(&"ab".repeat(32)).map(|g| *g), Some([0xab; 32]));
        assert!(graine_hex(&"ab".repeat(31)).is_none());
        assert!(graine_hex(&"zz".repeat(32)).is_none());
    }
}
