//! The URL clients reach Stigward at, for documents that contain it (the API definition's
//! server, the built-in issuer's key URL). Behind a reverse proxy that is told by
//! `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-Prefix`; values that do not look
//! like a scheme, a host or a path are ignored rather than echoed into documents.

use axum::http::HeaderMap;

/// The external base URL (no trailing slash): `configured` adjusted by forwarding headers.
pub fn external_base(headers: &HeaderMap, configured: &str) -> String {
    let (configured_scheme, configured_rest) =
        configured.split_once("://").unwrap_or(("http", configured));
    let configured_host = configured_rest.split('/').next().unwrap_or_default();
    let scheme = first(headers, "x-forwarded-proto")
        .filter(|p| matches!(*p, "http" | "https"))
        .unwrap_or(configured_scheme);
    let host = first(headers, "x-forwarded-host").filter(|h| is_host(h)).unwrap_or(configured_host);
    let prefix = first(headers, "x-forwarded-prefix")
        .filter(|p| is_path(p))
        .map(|p| p.trim_end_matches('/'))
        .unwrap_or_default();
    format!("{scheme}://{host}{prefix}")
}

/// The first value of a header that proxies may have appended to (`a, b`).
fn first<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let value = headers.get(name)?.to_str().ok()?;
    let first = value.split(',').next()?.trim();
    (!first.is_empty()).then_some(first)
}

fn is_host(text: &str) -> bool {
    text.len() <= 255 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
}

fn is_path(text: &str) -> bool {
    text.starts_with('/')
        && !text.contains("//")
        && !text.contains("..")
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-._~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, axum::http::HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn forwarding_headers_override_the_configured_base() {
        let base = "http://localhost:54000";
        assert_eq!(external_base(&headers(&[]), base), base);
        let proxied = headers(&[
            ("x-forwarded-proto", "https, http"),
            ("x-forwarded-host", "stig.example.org"),
            ("x-forwarded-prefix", "/stigman/"),
        ]);
        assert_eq!(external_base(&proxied, base), "https://stig.example.org/stigman");
    }

    #[test]
    fn odd_values_are_ignored() {
        let base = "http://localhost:54000";
        let odd = headers(&[
            ("x-forwarded-proto", "javascript"),
            ("x-forwarded-host", "evil.org/path"),
            ("x-forwarded-prefix", "/../x"),
        ]);
        assert_eq!(external_base(&odd, base), base);
    }
}
