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
