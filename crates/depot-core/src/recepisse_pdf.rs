//! The récépissé as a small PDF: the text, the fingerprint, the key id and the signature, so
//! that a printed or archived copy carries what is needed to check it.

use crate::recepisse::Recepisse;
use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Document, Object, Stream, dictionary};

/// Encodes text for a Type1 font with WinAnsiEncoding (French letters included).
fn winansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            '’' => 0x92,
            '«' => 0xAB,
            '»' => 0xBB,
            'œ' => 0x9C,
            'Œ' => 0x8C,
            '€' => 0x80,
            '—' => 0x97,
            '–' => 0x96,
            '\u{a0}' | '\u{202f}' => b' ',
            c if (c as u32) < 0x100 => c as u32 as u8,
            _ => b'?',
        })
        .collect()
}

fn ligne(ops: &mut Vec<Operation>, taille: f32, texte: &str) {
    ops.push(Operation::new("Tf", vec!["F1".into(), taille.into()]));
    ops.push(Operation::new(
        "Tj",
        vec![Object::String(winansi(texte), lopdf::StringFormat::Literal)],
    ));
    ops.push(Operation::new("T*", vec![]));
}

/// The PDF bytes: what the espace serves and the closure e-mail attaches.
pub(crate) fn recepisse_pdf(r: &Recepisse) -> Vec<u8> {
    let c = &r.contenu;
    let mut ops = vec![
        Operation::new("BT", vec![]),
        Operation::new("TL", vec![16.into()]),
        Operation::new("Td", vec![50.into(), 790.into()]),
    ];
    ligne(
        &mut ops,
        16.0,
        "Récépissé de clôture du dossier d'inscription",
    );
    ligne(&mut ops, 10.0, "");
    ligne(&mut ops, 11.0, &c.organisateur);
    ligne(
        &mut ops,
        11.0,
        &format!(
            "{} — session {} — {}",
            c.concours_intitule,
            c.session,
            c.voie.libelle()
        ),
    );
    ligne(
        &mut ops,
        11.0,
        &format!("Dossier n° {} — {} {}", c.numero, c.prenom, c.nom),
    );
    ligne(
        &mut ops,
        11.0,
        &format!("Clôturé le {}", c.cloture_le_libelle),
    );
    ligne(
        &mut ops,
        9.0,
        &format!(
            "({})",
            c.cloture_le
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        ),
    );
    ligne(&mut ops, 10.0, "");
    ligne(&mut ops, 11.0, "Pièces transmises :");
    for f in &c.fichiers {
        ligne(
            &mut ops,
            9.0,
            &format!(
                "- {} : {} ({} octets)",
                f.piece_libelle.chars().take(70).collect::<String>(),
                f.nom,
                f.taille
            ),
        );
        ligne(&mut ops, 8.0, &format!("  SHA-256 {}", f.sha256));
    }
    ligne(&mut ops, 10.0, "");
    ligne(
        &mut ops,
        9.0,
        &format!("Empreinte du récépissé (SHA-256) : {}", r.empreinte),
    );
    ligne(&mut ops, 9.0, &format!("Journal : {}", c.journal));
    ligne(
        &mut ops,
        9.0,
        &format!("Signature {} (clé {}) :", r.algorithme, r.cle_id),
    );
    let (a, b) = r.signature.split_at(r.signature.len().min(60));
    ligne(&mut ops, 8.0, a);
    ligne(&mut ops, 8.0, b);
    ligne(&mut ops, 10.0, "");
    ligne(
        &mut ops,
        10.0,
        "Votre dossier est clôturé, il est en cours d'instruction.",
    );
    ops.push(Operation::new("ET", vec![]));

    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let police = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let ressources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => police } });
    let contenu = Content { operations: ops };
    let flux = doc.add_object(Stream::new(
        Dictionary::new(),
        #[allow(clippy::expect_used)] // operations built above, written to memory
        contenu.encode().expect("opérations PDF encodables"),
    ));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => flux, "Resources" => ressources,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
        ),
    );
    let catalogue = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalogue);
    let mut out = Vec::new();
    let _ = doc.save_to(&mut out);
    out
}
