//! A dossier's record file in format 3: two slots, overwritten in turn.
//!
//! The file `dossiers/<NUMERO>.slots` is `2 × S` bytes (`S` a multiple of [`BLOC`]); slot
//! `k` starts at `k × S`. A save of version `v` overwrites slot `v mod 2` in place and
//! `fdatasync`s the file: the file keeps its size, so no name, inode or directory changes
//! and no journal commit of the filesystem's metadata is needed. The other slot still holds
//! version `v − 1`, whole, while slot `v mod 2` is being written.
//!
//! A slot is a header line, a line with the SHA-256 of everything else in the slot, the
//! record's body (`{version, dossier}`, the JSON of format 2's records) and the journal
//! bytes the save appends to the dossier's `.journal` after writing the slot:
//!
//! ```text
//! depot-fs-slot 1 <NUMERO> <version> <journal-start> <body-length> <journal-length>\n
//! <sha256 of the line above, the body and the journal bytes, hex>\n
//! <body><journal bytes>
//! ```
//!
//! A slot whose lengths or checksum do not match is *unreadable*: torn by a crash while it
//! was written, or damaged since. Which of the two it is, the journal tells (the store's
//! `verifier_autre`): the journal is appended only once the slot is durable, so a journal
//! that goes past the readable slot's end means a later slot was written whole.
//!
//! A slot whose body is empty is a *placeholder*: it says that its version existed and
//! holds nothing (the other slot of a file just created or rewritten).

use depot_core::NumeroDossier;
use sha2::Digest;

/// Slot sizes are multiples of this (the page and the usual sector size).
pub(crate) const BLOC: usize = 4096;
const ENTETE: &str = "depot-fs-slot 1";
/// Longest header line read: prefix, n°, four 20-digit numbers and spaces, with room.
const ENTETE_MAX: usize = 256;

/// A readable slot, borrowing the file's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Valide<'a> {
    pub(crate) numero: &'a str,
    pub(crate) version: u64,
    /// The journal's length before this save's entries.
    pub(crate) debut: u64,
    /// The record's body; empty for a placeholder.
    pub(crate) corps: &'a [u8],
    /// The bytes this save appends to the journal at `debut`.
    pub(crate) journal: &'a [u8],
}

impl Valide<'_> {
    pub(crate) fn est_reserve(&self) -> bool {
        self.corps.is_empty()
    }
}

/// What a slot holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Emplacement<'a> {
    Valide(Valide<'a>),
    /// Not a whole slot: why.
    Illisible(&'static str),
}

/// The bytes of a slot (not padded: the rest of the slot keeps whatever it held).
pub(crate) fn encoder(
    numero: &NumeroDossier,
    version: u64,
    debut: u64,
    corps: &[u8],
    journal: &[u8],
) -> Vec<u8> {
    let ligne = format!(
        "{ENTETE} {} {version} {debut} {} {}\n",
        numero.as_str(),
        corps.len(),
        journal.len()
    );
    let mut h = sha2::Sha256::new();
    h.update(ligne.as_bytes());
    h.update(corps);
    h.update(journal);
    let sha = hex::encode(h.finalize());
    let mut o = Vec::with_capacity(ligne.len() + 65 + corps.len() + journal.len());
    o.extend_from_slice(ligne.as_bytes());
    o.extend_from_slice(sha.as_bytes());
    o.push(b'\n');
    o.extend_from_slice(corps);
    o.extend_from_slice(journal);
    o
}

/// The size of a slot for `besoin` bytes: room for the record to double, in whole blocks.
pub(crate) fn taille_pour(besoin: usize) -> usize {
    besoin
        .saturating_mul(2)
        .max(BLOC)
        .div_ceil(BLOC)
        .min(usize::MAX / BLOC)
        * BLOC
}

/// Reads one slot.
pub(crate) fn decoder(octets: &[u8]) -> Emplacement<'_> {
    use Emplacement::Illisible;
    let debut_entete = &octets[..octets.len().min(ENTETE_MAX)];
    let Some(fin_ligne) = debut_entete.iter().position(|b| *b == b'\n') else {
        return Illisible(if octets.iter().all(|b| *b == 0) {
            "jamais écrit"
        } else {
            "en-tête absent"
        });
    };
    let Ok(ligne) = std::str::from_utf8(&octets[..fin_ligne]) else {
        return Illisible("en-tête illisible");
    };
    let Some(reste) = ligne.strip_prefix(ENTETE).and_then(|r| r.strip_prefix(' ')) else {
        return Illisible("format d'emplacement inconnu");
    };
    let champs: Vec<&str> = reste.split(' ').collect();
    let [numero, version, debut, lc, lj] = champs.as_slice() else {
        return Illisible("en-tête incomplet");
    };
    let (Ok(version), Ok(debut), Ok(lc), Ok(lj)) = (
        version.parse::<u64>(),
        debut.parse::<u64>(),
        lc.parse::<usize>(),
        lj.parse::<usize>(),
    ) else {
        return Illisible("en-tête illisible");
    };
    let debut_sha = fin_ligne + 1;
    let debut_corps = debut_sha + 65;
    let Some(fin) = debut_corps
        .checked_add(lc)
        .and_then(|f| f.checked_add(lj))
        .filter(|f| *f <= octets.len())
    else {
        return Illisible("longueurs incohérentes (emplacement tronqué)");
    };
    // The hex as this module writes it, lower case: one spelling only.
    let Some(sha) = octets
        .get(debut_sha..debut_corps)
        .filter(|s| s.last() == Some(&b'\n'))
        .map(|s| &s[..64])
    else {
        return Illisible("empreinte illisible");
    };
    let corps = &octets[debut_corps..debut_corps + lc];
    let journal = &octets[debut_corps + lc..fin];
    let mut h = sha2::Sha256::new();
    h.update(&octets[..debut_sha]);
    h.update(corps);
    h.update(journal);
    if hex::encode(h.finalize()).as_bytes() != sha {
        return Illisible("empreinte incohérente");
    }
    Emplacement::Valide(Valide {
        numero,
        version,
        debut,
        corps,
        journal,
    })
}

/// Splits a record file into its two slots; `None` if its size is not two whole slots.
pub(crate) fn separer(octets: &[u8]) -> Option<[&[u8]; 2]> {
    let s = octets.len() / 2;
    (s >= BLOC && s.is_multiple_of(BLOC) && octets.len() == 2 * s)
        .then(|| [&octets[..s], &octets[s..]])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numero() -> NumeroDossier {
        NumeroDossier::parse("2025-ANI-7K3Q9P").unwrap_or_else(|_| panic!("n°"))
    }

    #[test]
    fn un_emplacement_se_relit() {
        let o = encoder(&numero(), 7, 1234, b"{\"version\":7}", b"\n{}\n");
        let mut s = vec![0u8; BLOC];
        s[..o.len()].copy_from_slice(&o);
        assert_eq!(
            decoder(&s),
            Emplacement::Valide(Valide {
                numero: numero().as_str(),
                version: 7,
                debut: 1234,
                corps: b"{\"version\":7}",
                journal: b"\n{}\n",
            })
        );
    }

    /// Every byte flipped, every length cut: never valid, never a panic.
    #[test]
    fn toute_alteration_rend_illisible() {
        let o = encoder(
            &numero(),
            3,
            0,
            b"{\"version\":3,\"x\":[1,2,3]}",
            b"\nabc\n",
        );
        for i in 0..o.len() {
            for bit in [0x01, 0x80] {
                let mut a = o.clone();
                a[i] ^= bit;
                assert!(
                    matches!(decoder(&a), Emplacement::Illisible(_)),
                    "byte {i} bit {bit}"
                );
            }
        }
        for n in 0..o.len() {
            assert!(matches!(decoder(&o[..n]), Emplacement::Illisible(_)), "{n}");
        }
        assert_eq!(
            decoder(&[0u8; BLOC]),
            Emplacement::Illisible("jamais écrit")
        );
    }

    /// Arbitrary bytes, and valid slots with arbitrary bytes spliced in: never a panic,
    /// never valid unless whole.
    #[test]
    fn octets_quelconques() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut suivant = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let modele = encoder(&numero(), 9, 77, b"{\"version\":9}", b"\n{\"a\":1}\n");
        for _ in 0..20_000 {
            let n = (suivant() % 300) as usize;
            let quelconque: Vec<u8> = (0..n).map(|_| suivant() as u8).collect();
            assert!(matches!(decoder(&quelconque), Emplacement::Illisible(_)));
            let mut a = modele.clone();
            let debut = (suivant() as usize) % a.len();
            let fin = (debut + 1 + (suivant() as usize) % 8).min(a.len());
            for b in &mut a[debut..fin] {
                *b = suivant() as u8;
            }
            if a != modele {
                assert!(matches!(decoder(&a), Emplacement::Illisible(_)));
            }
        }
    }

    #[test]
    fn tailles() {
        assert_eq!(taille_pour(0), BLOC);
        assert_eq!(taille_pour(2048), BLOC);
        assert_eq!(taille_pour(2049), 2 * BLOC);
        assert_eq!(taille_pour(usize::MAX) % BLOC, 0);
        assert!(separer(&[0u8; 2 * BLOC]).is_some());
        assert!(separer(&[0u8; 3 * BLOC]).is_none());
        assert!(separer(&[0u8; 2 * BLOC + 2]).is_none());
        assert!(separer(&[]).is_none());
    }
}
