//! Helpers shared by the HTTP tests.

#![allow(dead_code, clippy::unwrap_used)]

/// `GET` a page with a cookie: its HTML (panics on a transport error).
pub(crate) async fn page(c: &reqwest::Client, url: &str, cookie: &str) -> String {
    c.get(url)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Logs in through the pages (the login form's CSRF cookie, then the form): the login page
/// as shown, and the session cookie (`depot_session=…`). `c` must not follow redirects.
pub(crate) async fn connexion_par_les_pages(
    c: &reqwest::Client,
    racine: &str,
    numero: &str,
    mdp: &str,
) -> (String, String) {
    let r = c.get(format!("{racine}/connexion")).send().await.unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = r.text().await.unwrap();
    let r = c
        .post(format!("{racine}/connexion"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf(&page).as_str()),
            ("numero", numero),
            ("mot_de_passe", mdp),
        ])
        .send()
        .await
        .unwrap();
    let session = cookie_pose(&r, "depot_session");
    (page, session.split(';').next().unwrap().to_owned())
}

/// The whole `Set-Cookie` header an answer sets for the cookie `nom` (attributes included).
pub(crate) fn cookie_pose(r: &reqwest::Response, nom: &str) -> String {
    let prefixe = format!("{nom}=");
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(&prefixe))
        .unwrap()
}

/// A client that does not follow redirects (to see the pages' 303 answers).
pub(crate) fn client_sans_redirection() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The CSRF token of a page's first form.
pub(crate) fn csrf(page: &str) -> String {
    let i = page.find("name=\"csrf\" value=\"").unwrap() + 19;
    page[i..].split('"').next().unwrap().to_owned()
}

/// Serves `app` on a free port of 127.0.0.1 (with the client address, as the server does);
/// returns `http://ADDR`.
pub(crate) async fn servir(app: axum::Router) -> String {
    let ecoute = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let adresse = ecoute.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            ecoute,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    format!("http://{adresse}")
}
