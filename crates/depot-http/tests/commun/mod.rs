//! Helpers shared by the HTTP tests.

#![allow(dead_code, clippy::unwrap_used)]

/// `GET` a page with a cookie: its HTML (panics on a transport error).
pub async fn page(c: &reqwest::Client, url: &str, cookie: &str) -> String {
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
pub fn csrf(page: &str) -> String {
    let i = page.find("name=\"csrf\" value=\"").unwrap() + 19;
    page[i..].split('"').next().unwrap().to_owned()
}
