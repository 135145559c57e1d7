//! The CDG's presentation from the command line: its name on every page, its colour in
//! `/static/marque.css`, its logo at `/static/logo`; a colour too light for white text or
//! a logo that is not an image stops the server with a French sentence.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic to fail

mod commun;

#[tokio::test]
async fn nom_couleur_et_logo_du_cdg() {
    let dir = tempfile::tempdir().unwrap();
    let logo = dir.path().join("logo.svg");
    std::fs::write(
        &logo,
        br##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#00507a"/></svg>"##,
    )
    .unwrap();
    let s = commun::lancer(
        &dir.path().join("data"),
        &[
            "--organisme",
            "Centre de gestion de l'Exemple",
            "--couleur",
            "#00507A",
            "--logo",
            logo.to_str().unwrap(),
            "--contact-accessibilite",
            "accessibilite@cdg-exemple.fr",
        ],
        &[],
    )
    .await
    .unwrap();
    let c = reqwest::Client::new();
    let page = c
        .get(format!("{}/connexion", s.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(
            r#"<img class="logo" src="/static/logo" alt="Centre de gestion de l'Exemple">"#
        ),
        "{page}"
    );
    assert!(page.contains("/static/marque.css"), "{page}");
    let css = c
        .get(format!("{}/static/marque.css", s.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(css.trim(), ":root { --accent: #00507a; }");
    let r = c
        .get(format!("{}/static/logo", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    let declaration = c
        .get(format!("{}/accessibilite", s.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(declaration.contains("non conforme"));
    assert!(declaration.contains("accessibilite@cdg-exemple.fr"));

    // Refused at start, with what to do.
    let (statut, journal) =
        commun::lancer(&dir.path().join("data2"), &["--couleur", "#ffd700"], &[])
            .await
            .err()
            .expect("a light colour is refused");
    assert!(!statut.success());
    assert!(
        journal.contains("trop claire") && journal.contains("4,5:1"),
        "{journal}"
    );
    let pas_une_image = dir.path().join("logo.txt");
    std::fs::write(&pas_une_image, "bonjour").unwrap();
    let (_, journal) = commun::lancer(
        &dir.path().join("data3"),
        &["--logo", pas_une_image.to_str().unwrap()],
        &[],
    )
    .await
    .err()
    .expect("a logo that is no image is refused");
    assert!(journal.contains("PNG, JPEG ou SVG"), "{journal}");
}
