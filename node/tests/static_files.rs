//! The built app as `hush-node` serves it, over a real loopback socket: precompressed variants
//! chosen by `Accept-Encoding` (and the plain bytes for a client that names none), `Vary`,
//! immutable caching for content-hashed names only, and the page's policy as a header.

use std::path::Path;

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use tempfile::TempDir;

const WASM: &str = "app-0123456789abcdef_bg.wasm";
const JS: &str = "app-0123456789abcdef.js";
const POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; object-src 'none'";

/// A stand-in for `dist/`: each compressible file with a `.br` and a `.gz` beside it whose bytes
/// say which one they are (the server must pick the file, not transform it), `sw.js` without
/// variants (as the build leaves it), the manifest and an icon.
fn dist() -> TempDir {
    let dir = tempfile::Builder::new().prefix("hush-static-test-").tempdir().unwrap();
    let page = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\" />\n<meta http-equiv=\"Content-Security-Policy\" \
         content=\"{POLICY}\" />\n<script type=\"module\" src=\"/start-00112233445566ff.js\"></script></head></html>\n"
    );
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    for (name, plain) in [("index.html", page.as_bytes()), (WASM, b"\0asm plain wasm".as_slice()), (JS, b"plain js")] {
        write(name, plain);
        write(&format!("{name}.br"), format!("brotli of {name}").as_bytes());
        write(&format!("{name}.gz"), format!("gzip of {name}").as_bytes());
    }
    write("sw.js", b"const VERSION = \"1\";");
    write("manifest.webmanifest", b"{\"name\":\"Hush\"}");
    write("icons/icon-192.png", b"\x89PNG");
    dir
}

/// Serves `dir` through the relay's static branch on a loopback port; returns its base URL.
async fn serve(dir: &Path) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = hush_node::static_files::router(dir);
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// GETs `path` with the given `Accept-Encoding` (none when `None`). reqwest is built without its
/// decompression features here, so it neither adds `Accept-Encoding` nor decodes the body.
async fn get(base: &str, path: &str, accept: Option<&str>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = reqwest::Client::new().get(format!("{base}{path}"));
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT_ENCODING, accept);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.bytes().await.unwrap().to_vec())
}

fn value(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

fn assert_varies(headers: &HeaderMap, what: &str) {
    let vary = value(headers, header::VARY).unwrap_or_default().to_ascii_lowercase();
    assert!(vary.split(',').any(|v| v.trim() == "accept-encoding"), "{what}: Vary is {vary:?}");
}

#[tokio::test]
async fn hashed_files_go_out_precompressed_and_immutable() {
    let dir = dist();
    let base = serve(dir.path()).await;
    let immutable = Some("public, max-age=31536000, immutable");
    for (name, content_type) in [(WASM, "application/wasm"), (JS, "text/javascript")] {
        let path = format!("/{name}");
        for (accept, encoding, body) in [
            (Some("gzip, deflate, br, zstd"), Some("br"), format!("brotli of {name}").into_bytes()),
            (Some("br"), Some("br"), format!("brotli of {name}").into_bytes()),
            (Some("gzip"), Some("gzip"), format!("gzip of {name}").into_bytes()),
            (Some("br;q=0, gzip"), Some("gzip"), format!("gzip of {name}").into_bytes()),
            (Some("identity"), None, std::fs::read(dir.path().join(name)).unwrap()),
            (None, None, std::fs::read(dir.path().join(name)).unwrap()),
        ] {
            let what = format!("{path} with Accept-Encoding {accept:?}");
            let (status, headers, got) = get(&base, &path, accept).await;
            assert_eq!(status, StatusCode::OK, "{what}");
            assert_eq!(value(&headers, header::CONTENT_ENCODING), encoding, "{what}");
            assert_eq!(got, body, "{what}");
            assert_eq!(value(&headers, header::CONTENT_LENGTH), Some(body.len().to_string().as_str()), "{what}");
            assert!(value(&headers, header::CONTENT_TYPE).unwrap().starts_with(content_type), "{what}: {headers:?}");
            assert_eq!(value(&headers, header::CACHE_CONTROL), immutable, "{what}");
            assert_varies(&headers, &what);
            assert_eq!(value(&headers, header::X_CONTENT_TYPE_OPTIONS), Some("nosniff"), "{what}");
        }
    }
}

#[tokio::test]
async fn the_page_and_unhashed_files_are_revalidated_and_carry_the_policy() {
    let dir = dist();
    let base = serve(dir.path()).await;
    let page = std::fs::read(dir.path().join("index.html")).unwrap();
    let policy = format!("{POLICY}; frame-ancestors 'none'");
    for path in ["/", "/index.html"] {
        for (accept, encoding, body) in [
            (Some("br, gzip"), Some("br"), b"brotli of index.html".to_vec()),
            (Some("gzip"), Some("gzip"), b"gzip of index.html".to_vec()),
            (None, None, page.clone()),
        ] {
            let what = format!("{path} with Accept-Encoding {accept:?}");
            let (status, headers, got) = get(&base, path, accept).await;
            assert_eq!(status, StatusCode::OK, "{what}");
            assert_eq!(value(&headers, header::CONTENT_ENCODING), encoding, "{what}");
            assert_eq!(got, body, "{what}");
            assert!(value(&headers, header::CONTENT_TYPE).unwrap().starts_with("text/html"), "{what}");
            assert_eq!(value(&headers, header::CACHE_CONTROL), Some("no-cache"), "{what}");
            assert_varies(&headers, &what);
            assert_eq!(value(&headers, header::CONTENT_SECURITY_POLICY), Some(policy.as_str()), "{what}");
            assert_eq!(value(&headers, header::REFERRER_POLICY), Some("no-referrer"), "{what}");
        }
    }

    // The service worker has no variants (it is checked for updates byte by byte and is small):
    // plain bytes whatever the client accepts, revalidated like the manifest and the icons.
    for (path, plain) in [
        ("/sw.js", b"const VERSION = \"1\";".as_slice()),
        ("/manifest.webmanifest", b"{\"name\":\"Hush\"}"),
        ("/icons/icon-192.png", b"\x89PNG"),
    ] {
        let (status, headers, got) = get(&base, path, Some("gzip, deflate, br, zstd")).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(got, plain, "{path}");
        assert_eq!(value(&headers, header::CONTENT_ENCODING), None, "{path}");
        assert_eq!(value(&headers, header::CACHE_CONTROL), Some("no-cache"), "{path}");
        assert_eq!(value(&headers, header::CONTENT_SECURITY_POLICY), Some(policy.as_str()), "{path}");
    }

    // Revalidation works: the unchanged page answers 304, still no-cache.
    let (_, headers, _) = get(&base, "/index.html", Some("br")).await;
    let modified = value(&headers, header::LAST_MODIFIED).unwrap().to_owned();
    let response = reqwest::Client::new()
        .get(format!("{base}/index.html"))
        .header(header::ACCEPT_ENCODING, "br")
        .header(header::IF_MODIFIED_SINCE, modified)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(value(response.headers(), header::CACHE_CONTROL), Some("no-cache"));
}

#[tokio::test]
async fn a_missing_hashed_file_is_not_cached() {
    let dir = dist();
    let base = serve(dir.path()).await;
    let (status, headers, _) = get(&base, "/app-fedcba9876543210_bg.wasm", Some("br")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(value(&headers, header::CACHE_CONTROL), Some("no-cache"));
    assert_eq!(value(&headers, header::CONTENT_ENCODING), None);
}
