//! The pages' security without a browser: cookies, CSRF, headers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

mod commun;

use commun::csrf;

use std::sync::Arc;

use depot_core::exemples::pdf_minimal;
use depot_core::testkit::{concours_du_seed, pendant_preinscription};
use depot_core::{DemandePreinscription, Espace, HorlogeFixe, MotDePasse, Ports, Voie};

const MDP: &str = depot_core::testkit::MDP_CANDIDAT;

/// The seed's espace on `horloge`, with one candidate pré-inscrit (password [`MDP`]).
async fn espace_et_candidat(horloge: Arc<HorlogeFixe>) -> (Arc<Espace>, depot_core::NumeroDossier) {
    let espace = Arc::new(
        Espace::new(
            vec![concours_du_seed()],
            Ports::en_memoire().avec_horloge(horloge),
        )
        .unwrap(),
    );
    let numero = depot_core::testkit::preinscrire_candidat(&espace, "D", "c@exemple.fr").await;
    (espace, numero)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_csrf_et_en_tetes() {
    let horloge = Arc::new(HorlogeFixe::new(pendant_preinscription()));
    let (espace, numero) = espace_et_candidat(horloge).await;
    let mdp = MDP;
    espace
        .deposer(&numero, "piece-identite", "cni.pdf", pdf_minimal().into())
        .await
        .unwrap();
    let app = depot_http::router(
        espace.clone(),
        depot_http::Config {
            cookies_securises: true,
            ..Default::default()
        },
    );
    let base = commun::servir(app).await;
    let c = commun::client_sans_redirection();

    // The login form sets a CSRF cookie; security headers everywhere.
    let r = c.get(format!("{base}/connexion")).send().await.unwrap();
    let h = r.headers().clone();
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(
        !h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("unsafe-inline")
    );
    assert_eq!(h["x-frame-options"], "DENY");
    let cookie_csrf = h["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie_csrf.contains("HttpOnly")
            && cookie_csrf.contains("SameSite=Strict")
            && cookie_csrf.contains("Secure")
    );
    let page = r.text().await.unwrap();
    let jeton_form = csrf(&page);
    let paire = cookie_csrf.split(';').next().unwrap().to_owned();

    // Without the CSRF cookie (a cross-site form post), login is refused.
    let r = c
        .post(format!("{base}/connexion"))
        .form(&[
            ("csrf", jeton_form.as_str()),
            ("numero", numero.as_str()),
            ("mot_de_passe", mdp),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // With it, login sets the session cookie and redirects.
    let r = c
        .post(format!("{base}/connexion"))
        .header("cookie", &paire)
        .form(&[
            ("csrf", jeton_form.as_str()),
            ("numero", numero.as_str()),
            ("mot_de_passe", mdp),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let session = commun::cookie_pose(&r, "depot_session");
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Strict")
            && session.contains("Secure")
    );
    let session = session.split(';').next().unwrap().to_owned();

    // A full piece (2 files of 2): its files can still be deleted, to replace one.
    espace
        .deposer(&numero, "piece-identite", "verso.pdf", pdf_minimal().into())
        .await
        .unwrap();
    let plein = commun::page(
        &c,
        &format!("{base}/dossier/pieces/piece-identite"),
        &session,
    )
    .await;
    assert_eq!(plein.matches("/supprimer\"").count(), 2, "{plein}");
    assert!(
        plein.contains("au maximum") || plein.contains("le maximum"),
        "{plein}"
    );
    let page = commun::page(&c, &format!("{base}/dossier"), &session).await;
    assert!(page.contains("Déposer ou gérer"), "{page}");
    // The dossier page; its forms carry the session's CSRF token.
    let page = commun::page(&c, &format!("{base}/dossier"), &session).await;
    assert!(page.contains(numero.as_str()));
    let jeton = csrf(&page);
    // A closure posted with a wrong token is refused and closes nothing.
    let r = c
        .post(format!("{base}/dossier/cloture"))
        .header("cookie", &session)
        .form(&[("csrf", "faux")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(
        espace
            .consulter(&numero)
            .await
            .unwrap()
            .dossier
            .recepisse()
            .is_none()
    );
    // With the right one, it closes.
    let r = c
        .post(format!("{base}/dossier/cloture"))
        .header("cookie", &session)
        .form(&[("csrf", jeton.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let recepisse = espace
        .consulter(&numero)
        .await
        .unwrap()
        .dossier
        .recepisse()
        .cloned()
        .unwrap();
    // The récépissé as a PDF: it opens, and holds the n° and the fingerprint.
    let r = c
        .get(format!("{base}/dossier/recepisse.pdf"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let octets = r.bytes().await.unwrap();
    let doc = lopdf::Document::load_mem(&octets).unwrap();
    let texte = doc.extract_text(&[1]).unwrap();
    assert!(texte.contains(numero.as_str()), "{texte}");
    assert!(texte.contains(&recepisse.empreinte.hex()), "{texte}");
    assert!(texte.contains("Récépissé de clôture"), "{texte}");
    // It passes depot's own format check too.
    depot_core::analyser("recepisse.pdf", &octets, &[depot_core::Format::Pdf], 10).unwrap();
    // And as the signed JSON.
    let json = c
        .get(format!("{base}/dossier/recepisse.json"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let cles = depot_core::Cles {
        cles: vec![espace.cle_publique()],
    };
    depot_core::verifier_recepisse(&json, &cles).unwrap();
    // A refusal on a page is a French page with the refusal's status, not the API's JSON;
    // a malformed id reads exactly like an unknown one.
    for chemin in [
        "/dossier/fichiers/pas-un-id",
        "/dossier/fichiers/0123456789ABCDEF",
        "/dossier/fichiers/0123456789ABCDEF/supprimer",
    ] {
        let r = c
            .get(format!("{base}{chemin}"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{chemin}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{chemin}"
        );
        let page = r.text().await.unwrap();
        assert!(
            page.contains("Action impossible")
                && (page.contains("Ce fichier n&#39;existe pas dans votre dossier")
                    || page.contains("Ce fichier n'existe pas dans votre dossier")),
            "{chemin}: {page}"
        );
    }
    // Without a session, pages redirect to the login, which returns there afterwards; with
    // a session that ended, it says so.
    let r = c.get(format!("{base}/dossier")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/connexion?retour=/dossier");
    let r = c
        .get(format!("{base}/dossier/pieces/piece-identite"))
        .header("cookie", "depot_session=plus-valable")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"],
        "/connexion?retour=/dossier/pieces/piece-identite&expiree=1"
    );
    // The script's requests get 401, not a redirect they would follow.
    let r = c
        .get(format!("{base}/dossier/session"))
        .header("x-depot-script", "session")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Only the candidate's own pages are places to return to.
    for ailleurs in [
        "https%3A%2F%2Fexemple.org%2F",
        "%2F%2Fexemple.org%2Fdossier",
        "/dossier/../gestion",
        "/gestion",
    ] {
        let page = c
            .get(format!("{base}/connexion?retour={ailleurs}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!page.contains("name=\"retour\""), "{ailleurs}");
    }
    // The API does not accept the cookie (no CSRF protection there): Bearer only.
    let r = c
        .get(format!("{base}/api/v1/dossier"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preinscription_par_le_formulaire() {
    let horloge = Arc::new(HorlogeFixe::new(pendant_preinscription()));
    let espace = Arc::new(
        Espace::new(
            vec![concours_du_seed()],
            Ports::en_memoire().avec_horloge(horloge),
        )
        .unwrap(),
    );
    let base = commun::servir(depot_http::router(espace.clone(), Default::default())).await;
    let c = commun::client_sans_redirection();
    let r = c
        .get(format!("{base}/preinscription"))
        .send()
        .await
        .unwrap();
    let paire = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let jeton = csrf(&r.text().await.unwrap());
    let envoyer = |champs: Vec<(&'static str, &'static str)>| {
        let (c, base, paire, jeton) = (c.clone(), base.clone(), paire.clone(), jeton.clone());
        async move {
            let mut f = vec![("csrf", jeton.as_str())];
            f.extend(champs);
            c.post(format!("{base}/preinscription"))
                .header("cookie", &paire)
                .form(&f)
                .send()
                .await
                .unwrap()
        }
    };
    let identite = [
        ("nom", "Durand"),
        ("prenom", "Camille"),
        ("email", "camille@exemple.fr"),
        ("mot_de_passe", "lune verte sur le toit de Laval"),
        ("confirmation", "lune verte sur le toit de Laval"),
    ];
    // No voie chosen (a radio left empty sends nothing): the rules' French sentence, with
    // the form again, not a malformed-request error.
    let r = envoyer(identite.to_vec()).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("Voie d'accès : choisissez"), "{page}");
    // Every problem at once, each linked to its field, what was typed kept.
    let r = envoyer(vec![
        ("voie", "interne"),
        ("nom", "Durand"),
        ("prenom", ""),
        ("email", "camille"),
        ("mot_de_passe", "lune verte sur le toit de Laval"),
        ("confirmation", "lune verte sur le toit"),
    ])
    .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("Le formulaire contient 3 erreurs"), "{page}");
    for lien in ["href=\"#prenom\"", "href=\"#email\"", "href=\"#mdp2\""] {
        assert!(page.contains(lien), "{lien}: {page}");
    }
    assert!(page.contains("value=\"Durand\"") && page.contains("value=\"camille\""));
    assert!(page.contains("aria-describedby=\"email-erreur\""));
    assert!(
        !page.contains("lune verte"),
        "passwords are never written back"
    );
    // Two ticked boxes: two declarations.
    let mut champs = identite.to_vec();
    champs.extend([
        ("voie", "externe"),
        ("declarations", "demande_amenagement"),
        ("declarations", "parent_trois_enfants"),
    ]);
    let r = envoyer(champs).await;
    assert_eq!(r.status(), 201);
    let page = r.text().await.unwrap();
    let i = page.find("class=\"numero\">").unwrap() + 15;
    let numero = depot_core::NumeroDossier::parse(page[i..].split('<').next().unwrap()).unwrap();
    let d = espace.consulter(&numero).await.unwrap().dossier;
    let declarations: Vec<&str> = d.declarations().iter().map(|x| x.as_str()).collect();
    assert_eq!(
        declarations,
        ["demande_amenagement", "parent_trois_enfants"]
    );
}

/// Posts `champs` to `chemin` with the CSRF token of the form at `chemin` (GET first).
async fn formulaire(
    c: &reqwest::Client,
    base: &str,
    page: &str,
    cible: &str,
    champs: &[(&str, &str)],
    jeton_faux: bool,
) -> (u16, String) {
    let r = c.get(format!("{base}{page}")).send().await.unwrap();
    assert_eq!(r.status(), 200, "{page}");
    let paire = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let jeton = if jeton_faux {
        "0".repeat(48)
    } else {
        csrf(&r.text().await.unwrap())
    };
    let mut f = vec![("csrf", jeton.as_str())];
    f.extend_from_slice(champs);
    let r = c
        .post(format!("{base}{cible}"))
        .header("cookie", &paire)
        .form(&f)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mot_de_passe_et_numero_oublies_par_les_pages() {
    use depot_core::courriel::{Courriel, Courrier, ErreurMessagerie, Messagerie};
    #[derive(Default)]
    struct Boite(std::sync::Mutex<Vec<Courriel>>);
    #[async_trait::async_trait]
    impl Messagerie for Boite {
        async fn envoyer(&self, c: &Courriel) -> Result<(), ErreurMessagerie> {
            self.0.lock().unwrap().push(c.clone());
            Ok(())
        }
    }
    let boite = Arc::new(Boite::default());
    let horloge = Arc::new(HorlogeFixe::new(pendant_preinscription()));
    let espace = Arc::new(
        Espace::new(
            vec![concours_du_seed()],
            Ports::en_memoire()
                .avec_horloge(horloge)
                .avec_courrier(Courrier {
                    messagerie: boite.clone(),
                    url_publique: "https://concours.cdg-exemple.fr".into(),
                }),
        )
        .unwrap(),
    );
    let mdp = "lune verte sur le toit de Laval";
    let numero = espace
        .preinscrire(
            None,
            DemandePreinscription {
                voie: Voie::Externe,
                nom: "Durand".into(),
                prenom: "Camille".into(),
                email: "camille@exemple.fr".into(),
                declarations: vec![],
                mot_de_passe: MotDePasse::from(mdp),
            },
        )
        .await
        .unwrap();
    let base = commun::servir(depot_http::router(espace.clone(), Default::default())).await;
    let c = commun::client_sans_redirection();
    // The login page leads to both forms.
    let connexion = c
        .get(format!("{base}/connexion"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        connexion.contains("href=\"/mot-de-passe/oubli\"")
            && connexion.contains("href=\"/numero/oubli\"")
    );
    // A form whose token is not its cookie's: refused, nothing asked.
    let champs = [("numero", numero.as_str()), ("email", "camille@exemple.fr")];
    let (st, page) = formulaire(
        &c,
        &base,
        "/mot-de-passe/oubli",
        "/mot-de-passe/oubli",
        &champs,
        true,
    )
    .await;
    assert_eq!(st, 403);
    assert!(page.contains("Ce formulaire a expiré"), "{page}");
    // The request, then the link from the e-mail.
    let (st, page) = formulaire(
        &c,
        &base,
        "/mot-de-passe/oubli",
        "/mot-de-passe/oubli",
        &champs,
        false,
    )
    .await;
    assert_eq!(st, 200);
    assert!(page.contains("un courriel vient d'y être envoyé"), "{page}");
    let mut lien = None;
    for _ in 0..100 {
        espace.distribuer_courriels().await.unwrap();
        lien = boite
            .0
            .lock()
            .unwrap()
            .iter()
            .find(|m| m.sorte == "mot_de_passe")
            .map(|m| {
                let i = m.texte.find("/mot-de-passe/nouveau?jeton=").unwrap();
                m.texte[i..].split_whitespace().next().unwrap().to_owned()
            });
        if lien.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let lien = lien.expect("the reset e-mail");
    let jeton = lien.split("jeton=").nth(1).unwrap().to_owned();
    // Two different passwords: said, nothing changed.
    let nouveau = "grand phare bleu sur la digue de Brest";
    let (st, page) = formulaire(
        &c,
        &base,
        &lien,
        "/mot-de-passe/nouveau",
        &[
            ("jeton", &jeton),
            ("mot_de_passe", nouveau),
            ("confirmation", "autre chose encore"),
        ],
        false,
    )
    .await;
    assert_eq!(st, 422);
    assert!(
        page.contains("Les deux mots de passe saisis sont différents"),
        "{page}"
    );
    let (st, page) = formulaire(
        &c,
        &base,
        &lien,
        "/mot-de-passe/nouveau",
        &[
            ("jeton", &jeton),
            ("mot_de_passe", nouveau),
            ("confirmation", nouveau),
        ],
        false,
    )
    .await;
    assert_eq!(st, 200, "{page}");
    assert!(page.contains("Votre nouveau mot de passe est enregistré"));
    assert!(
        espace
            .connecter(numero.as_str(), &MotDePasse::from(nouveau))
            .await
            .is_ok()
    );
    // The link served once.
    let (st, page) = formulaire(
        &c,
        &base,
        &lien,
        "/mot-de-passe/nouveau",
        &[
            ("jeton", &jeton),
            ("mot_de_passe", "encore un autre long mot"),
            ("confirmation", "encore un autre long mot"),
        ],
        false,
    )
    .await;
    assert_eq!(st, 422);
    assert!(
        page.contains("Ce lien de réinitialisation n'est plus valable"),
        "{page}"
    );
    // « N° oublié »: the same confirmation whatever the address.
    for email in ["camille@exemple.fr", "personne@exemple.fr"] {
        let (st, page) = formulaire(
            &c,
            &base,
            "/numero/oubli",
            "/numero/oubli",
            &[("email", email)],
            false,
        )
        .await;
        assert_eq!(st, 200);
        assert!(
            page.contains("un courriel vient d'y être envoyé avec vos n° de dossier"),
            "{page}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn la_page_publique_verifie_un_recepisse() {
    let horloge = Arc::new(HorlogeFixe::new(pendant_preinscription()));
    let espace = Arc::new(
        Espace::new(
            vec![concours_du_seed()],
            Ports::en_memoire().avec_horloge(horloge),
        )
        .unwrap(),
    );
    let numero = espace
        .preinscrire(
            None,
            DemandePreinscription {
                voie: Voie::Externe,
                nom: "Durand".into(),
                prenom: "Camille".into(),
                email: "camille@exemple.fr".into(),
                declarations: vec![],
                mot_de_passe: MotDePasse::from("lune verte sur le toit de Laval"),
            },
        )
        .await
        .unwrap();
    let c = espace.consulter(&numero).await.unwrap();
    for p in c.dossier.pieces_manquantes(&c.concours) {
        espace
            .deposer(&numero, p.code.as_str(), "cni.pdf", pdf_minimal().into())
            .await
            .unwrap();
    }
    let r = espace.cloturer(&numero).await.unwrap();
    let base = commun::servir(depot_http::router(
        espace.clone(),
        depot_http::Config {
            cles_publiees: depot_core::signature::Cles {
                cles: vec![espace.cle_publique()],
            },
            ..Default::default()
        },
    ))
    .await;
    let c = reqwest::Client::new();
    let page = c.get(format!("{base}/verifier")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Vérifier un récépissé"));
    let envoyer = |champ: &'static str, octets: Vec<u8>| {
        let (c, base) = (c.clone(), base.clone());
        async move {
            let partie = if champ == "fichier" {
                reqwest::multipart::Part::bytes(octets).file_name("recepisse.json")
            } else {
                reqwest::multipart::Part::bytes(octets)
            };
            let r = c
                .post(format!("{base}/verifier"))
                .multipart(reqwest::multipart::Form::new().part(champ, partie))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    // Authentic, as a file or pasted: what it certifies.
    for champ in ["fichier", "texte"] {
        let (st, page) = envoyer(champ, r.json()).await;
        assert_eq!(st, 200, "{champ}: {page}");
        assert!(page.contains("Récépissé authentique."), "{page}");
        assert!(page.contains(numero.as_str()) && page.contains("Camille Durand"));
        assert!(page.contains(&r.contenu.cloture_le_libelle));
    }
    // One field changed: said so.
    let mut faux: serde_json::Value = serde_json::from_slice(&r.json()).unwrap();
    faux["contenu"]["nom"] = "Dupont".into();
    let (st, page) = envoyer("fichier", serde_json::to_vec(&faux).unwrap()).await;
    assert_eq!(st, 422);
    assert!(
        page.contains("n'est pas authentique") && page.contains("récépissé modifié"),
        "{page}"
    );
    // Signed by a key this espace does not publish.
    let autre =
        depot_core::SignataireEd25519::generer(&depot_core::SystemRandom, pendant_preinscription());
    let mut etranger: serde_json::Value = serde_json::from_slice(&r.json()).unwrap();
    etranger["cle_id"] = depot_core::Signataire::cle_id(&autre).into();
    let (st, page) = envoyer("fichier", serde_json::to_vec(&etranger).unwrap()).await;
    assert_eq!(st, 422);
    assert!(page.contains("clé de signature inconnue"), "{page}");
    // Not a récépissé at all, or nothing.
    let (st, page) = envoyer("fichier", b"%PDF-1.7 pas un json".to_vec()).await;
    assert_eq!(st, 422);
    assert!(page.contains("n'est pas un récépissé lisible"), "{page}");
    let (st, page) = envoyer("texte", b"   ".to_vec()).await;
    assert_eq!(st, 422);
    assert!(
        page.contains("Choisissez le fichier du récépissé"),
        "{page}"
    );
}

/// The deadline on the pages: the time left, a banner in the last 48 hours (hours and
/// minutes on the last day), the login page saying it too, nothing left to count after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn la_date_limite_et_le_temps_qui_reste() {
    let horloge = Arc::new(HorlogeFixe::new(pendant_preinscription()));
    let (espace, numero) = espace_et_candidat(horloge.clone()).await;
    let mdp = MDP;
    let base = commun::servir(depot_http::router(espace.clone(), Default::default())).await;
    let c = commun::client_sans_redirection();
    // Each instant: a fresh login (the clock jumps days), then the dossier page.
    let voir = |quand: &'static str| {
        let (c, base, horloge, numero) = (c.clone(), base.clone(), horloge.clone(), numero.clone());
        async move {
            horloge.regler(quand.parse().unwrap());
            let (connexion, session) =
                commun::connexion_par_les_pages(&c, &base, numero.as_str(), mdp).await;
            let dossier = commun::page(&c, &format!("{base}/dossier"), &session).await;
            (connexion, dossier)
        }
    };
    let (connexion, dossier) = voir("2025-04-10T10:00:00+02:00").await;
    assert!(connexion.contains("il vous reste 7 jours"), "{connexion}");
    assert!(dossier.contains("il vous reste 7 jours"));
    assert!(!dossier.contains("Date limite proche"));
    let (connexion, dossier) = voir("2025-04-16T12:00:00+02:00").await;
    assert!(dossier.contains("Date limite proche"), "{dossier}");
    assert!(dossier.contains("il vous reste 1 jour"));
    assert!(connexion.contains("echeance alerte attention"));
    let (_, dossier) = voir("2025-04-17T23:40:00+02:00").await;
    assert!(dossier.contains("Date limite proche"));
    assert!(dossier.contains("il vous reste 20 min"), "{dossier}");
    let (connexion, dossier) = voir("2025-04-18T00:00:00+02:00").await;
    assert!(!dossier.contains("Date limite proche") && !dossier.contains("il vous reste"));
    assert!(dossier.contains("n'a pas été clôturé"), "{dossier}");
    assert!(!connexion.contains("clôturez votre inscription au plus tard"));
}
