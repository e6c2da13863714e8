//! Serving the built app (`dist/`) the way a good static host does.
//!
//! - **Precompressed**: the build writes `name.br` and `name.gz` next to each compressible file
//!   (`scripts/trunk-post-build.mjs`); a client that accepts brotli or gzip gets those bytes with
//!   `Content-Encoding`, any other client the plain file. Every response says
//!   `Vary: Accept-Encoding`, so a shared cache keeps the variants apart.
//! - **Cached**: files whose name carries a content hash (Trunk's `app-<hash>_bg.wasm`,
//!   `app-<hash>.js`, `hush-<hash>.css`, the build's `start-<hash>.js`) never change, so they are
//!   `public, max-age=31536000, immutable`; everything else (`/`, `index.html`, `sw.js`, the
//!   manifest, icons) and every error is `no-cache`: the browser revalidates it each time, so a new
//!   build is seen at once. The service worker keeps the versioned shell for offline use either way.
//! - **Locked down**: the page's own Content-Security-Policy plus `frame-ancestors 'none'`,
//!   `Referrer-Policy: no-referrer` and `X-Content-Type-Options: nosniff` on every file.

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy sent with the app (the page carries the same policy as a `<meta>`
/// for static hosts; `frame-ancestors` only works as a header).
pub const APP_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
img-src 'self' blob:; media-src 'self' blob:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'none'; frame-ancestors 'none'";

/// `Cache-Control` of a file whose name carries its content's hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `Cache-Control` of everything else: stored, but revalidated before each use.
pub const REVALIDATE: &str = "no-cache";

/// The files in `dir`, served as described in the module's documentation. The policy is read from
/// `dir/index.html` once, now.
pub fn router(dir: &Path) -> Router {
    let files = ServeDir::new(dir).append_index_html_on_directories(true).precompressed_br().precompressed_gzip();
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(caching))
        .layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, app_csp(dir)))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
}

/// Sets `Cache-Control` by the requested name and the outcome, and `Vary: Accept-Encoding`.
async fn caching(request: Request, next: Next) -> Response {
    let hashed = is_hashed(request.uri().path());
    let mut response = next.run(request).await;
    let found = matches!(response.status(), StatusCode::OK | StatusCode::NOT_MODIFIED | StatusCode::PARTIAL_CONTENT);
    let policy = if hashed && found { IMMUTABLE } else { REVALIDATE };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    response
}

/// Whether the last segment of `path` names a file whose content is fixed by its name:
/// `<stem>-<hash><suffix>.<js|wasm|css>`, the hash being 12 to 16 lower-case hex digits (Trunk
/// writes a 64-bit hash in hex without leading zeros) and the suffix empty or `_bg` (the
/// wasm-bindgen module). The same rule is written as a pattern in `deploy/`'s configurations.
pub fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some((stem, extension)) = name.rsplit_once('.') else { return false };
    if !matches!(extension, "js" | "wasm" | "css") {
        return false;
    }
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    let Some((base, hash)) = stem.rsplit_once('-') else { return false };
    !base.is_empty()
        && (12..=16).contains(&hash.len())
        && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The policy sent with the app in `dir`: the one its `index.html` carries (a build made for a
/// relay on another origin names that relay in `connect-src`, and a header stricter than the page
/// would block it), plus `frame-ancestors 'none'`, which only works as a header. [`APP_CSP`] when
/// the page carries none. Read once, when the relay starts.
fn app_csp(dir: &Path) -> HeaderValue {
    const ATTRIBUTE: &str = "http-equiv=\"Content-Security-Policy\"";
    const CONTENT: &str = "content=\"";
    let from_page = std::fs::read_to_string(dir.join("index.html")).ok().and_then(|html| {
        let tag = html.get(html.find(ATTRIBUTE)?..)?;
        let tag = tag.get(..tag.find('>')?)?;
        let policy = tag.get(tag.find(CONTENT)? + CONTENT.len()..)?;
        let policy = policy.get(..policy.find('"')?)?.trim().trim_end_matches(';');
        if policy.is_empty() || policy.contains("frame-ancestors") {
            return None;
        }
        HeaderValue::from_str(&format!("{policy}; frame-ancestors 'none'")).ok()
    });
    from_page.unwrap_or_else(|| HeaderValue::from_static(APP_CSP))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csp_for(index_html: Option<&str>) -> String {
        let dir = tempfile::tempdir().expect("temp dir");
        if let Some(html) = index_html {
            std::fs::write(dir.path().join("index.html"), html).expect("write index.html");
        }
        app_csp(dir.path()).to_str().expect("ASCII").to_owned()
    }

    /// The header is the page's own policy plus `frame-ancestors`, so a build for a relay on
    /// another origin is not blocked by a stricter header; without a usable policy in the page,
    /// the built-in one.
    #[test]
    fn the_app_is_served_with_its_own_policy_and_frame_ancestors() {
        let page = |policy: &str| {
            format!(
                "<!doctype html><head><meta charset=\"utf-8\" />\n<meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\" /></head>"
            )
        };
        let policy = "default-src 'self'; connect-src 'self' https://relay.example:8443; object-src 'none'";
        assert_eq!(csp_for(Some(&page(policy))), format!("{policy}; frame-ancestors 'none'"));
        assert_eq!(csp_for(Some(&page(&format!("{policy};")))), format!("{policy}; frame-ancestors 'none'"));
        assert_eq!(csp_for(None), APP_CSP);
        assert_eq!(csp_for(Some("<!doctype html><p>no policy</p>")), APP_CSP);
        assert_eq!(csp_for(Some(&page(""))), APP_CSP);
        assert_eq!(csp_for(Some(&page("default-src 'self'; frame-ancestors *"))), APP_CSP);
        assert_eq!(csp_for(Some(&page("default-src 'self'\u{7}"))), APP_CSP, "not a header value");
    }

    #[test]
    fn hashed_names_are_the_builds_content_addressed_files() {
        for hashed in [
            "/app-1b2c3d4e5f607182_bg.wasm",
            "/app-1b2c3d4e5f607182.js",
            "/hush-0123456789abcdef.css",
            "/start-0123456789abcdef.js",
            "/snippets/x/app-b2c3d4e5f607182.js",
        ] {
            assert!(is_hashed(hashed), "{hashed}");
        }
        for other in [
            "/",
            "/index.html",
            "/sw.js",
            "/manifest.webmanifest",
            "/icons/icon-192.png",
            "/icons/hush.svg",
            "/app-1B2C3D4E5F607182.js",
            "/app-1b2c3d4e5f6.js",
            "/-1b2c3d4e5f607182.js",
            "/app-1b2c3d4e5f607182.html",
            "/app-1b2c3d4e5f607182_bg.wasm.br",
            "/app-1b2c3d4e5f6071820.js",
            "/v1/nodes",
        ] {
            assert!(!is_hashed(other), "{other}");
        }
    }
}
