//! The only module that performs fetch: the engine's [`Transport`] in the browser. Every request
//! is aborted at its deadline through an `AbortController`, so a relay that accepts a connection
//! and then stalls cannot hold the page's polling or delivery.
//!
//! What leaves the page here is what the engine hands over: the relay's node-list URL, and onion
//! bytes posted to the relay's onion endpoint for a guard; never a Session ID, a destination or
//! content. Besides, [`network`] reads the network's trust anchors and file server from the page's
//! own origin.

use core::time::Duration;

use crypto_core::network::anchors::Anchors;
use hush_client::attachments::FileServer;
use hush_client::platform::{Clock, Reply, Transport, TransportError};

/// Where the trust anchors are: a file of the build (`public/network.json`, mainnet's), or what
/// the devnet serving the page answers in its place. Always from the page's own origin, never
/// from the relay (whose node list they are there to check). It may also name the network's file
/// server (`"file_server": {"url", "pubkey_ed25519"}`); without one, Session's is used.
pub const ANCHORS_URL: &str = "/network.json";
/// How long one read of [`ANCHORS_URL`] may take.
const ANCHORS_DEADLINE: Duration = Duration::from_secs(10);
/// The longest wait between two reads of [`ANCHORS_URL`] that could not reach it.
const ANCHORS_RETRY_MAX: Duration = Duration::from_secs(30);

/// What the page's own origin says of its network.
#[derive(Debug)]
pub struct Served {
    /// The trust anchors; `None` when the file is there but they are unusable: then the engine
    /// has no anchors and refuses every relay, saying why.
    pub anchors: Option<Anchors>,
    /// The network's file server, when it names one.
    pub file_server: Option<FileServer>,
}

/// What the page's own origin says of its network ([`ANCHORS_URL`]), read again (waiting 1 s,
/// doubling up to 30 s, on `clock`) while the origin cannot be reached. `None` when the build
/// has no such file.
pub async fn network(clock: &impl Clock) -> Option<Served> {
    let mut wait = Duration::from_secs(1);
    loop {
        match imp::request(ANCHORS_URL, None, ANCHORS_DEADLINE).await {
            Ok(reply) if reply.status == 200 => return Some(served(&reply.body)),
            // Not there at all: a build without the file.
            Ok(reply) if reply.status == 404 => return None,
            _ => {}
        }
        clock.sleep(wait).await;
        wait = (wait * 2).min(ANCHORS_RETRY_MAX);
    }
}

/// Reads [`ANCHORS_URL`]'s body.
fn served(body: &[u8]) -> Served {
    let file_server = serde_json::from_slice::<serde_json::Value>(body).ok().and_then(|v| {
        let server = v.get("file_server")?;
        FileServer::parse(server.get("url")?.as_str()?, server.get("pubkey_ed25519")?.as_str()?)
    });
    Served { anchors: Anchors::parse(body).ok(), file_server }
}

/// fetch, with `AbortController` deadlines.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fetch;

impl Transport for Fetch {
    async fn get(&self, url: &str, deadline: Duration) -> Result<Reply, TransportError> {
        imp::request(url, None, deadline).await
    }

    async fn post(&self, url: &str, body: Vec<u8>, deadline: Duration) -> Result<Reply, TransportError> {
        imp::request(url, Some(body), deadline).await
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use core::time::Duration;

    use gloo_net::http::Request;
    use hush_client::platform::{Reply, TransportError};

    /// Aborts its controller when dropped (the request ended, or the engine gave up on it).
    struct Abort {
        controller: Option<web_sys::AbortController>,
        timer: Option<i32>,
    }

    impl Drop for Abort {
        fn drop(&mut self) {
            if let Some(controller) = &self.controller {
                controller.abort();
            }
            if let (Some(window), Some(timer)) = (web_sys::window(), self.timer) {
                window.clear_timeout_with_handle(timer);
            }
        }
    }

    pub(super) async fn request(url: &str, body: Option<Vec<u8>>, deadline: Duration) -> Result<Reply, TransportError> {
        let controller = web_sys::AbortController::new().ok();
        let signal = controller.as_ref().map(web_sys::AbortController::signal);
        // The deadline aborts the fetch itself (the engine also stops waiting at its deadline).
        let timer = match (web_sys::window(), &controller) {
            (Some(window), Some(controller)) => {
                let abort = wasm_bindgen::closure::Closure::once_into_js({
                    let controller = controller.clone();
                    move || controller.abort()
                });
                let ms = i32::try_from(deadline.as_millis()).unwrap_or(i32::MAX);
                window.set_timeout_with_callback_and_timeout_and_arguments_0(abort.unchecked_ref_js(), ms).ok()
            }
            _ => None,
        };
        let guard = Abort { controller, timer };
        let unreachable = |e: gloo_net::Error| {
            if guard.controller.as_ref().is_some_and(|c| c.signal().aborted()) {
                TransportError::TimedOut
            } else {
                TransportError::Unreachable(e.to_string())
            }
        };
        let response = match body {
            None => Request::get(url).abort_signal(signal.as_ref()).send().await.map_err(unreachable)?,
            Some(body) => {
                let array = js_sys::Uint8Array::from(body.as_slice());
                Request::post(url)
                    .header("Content-Type", "application/octet-stream")
                    .abort_signal(signal.as_ref())
                    .body(array)
                    .map_err(unreachable)?
                    .send()
                    .await
                    .map_err(unreachable)?
            }
        };
        let status = response.status();
        let body = response.binary().await.map_err(unreachable)?;
        drop(guard);
        Ok(Reply { status, body })
    }

    trait UncheckedRef {
        fn unchecked_ref_js(&self) -> &js_sys::Function;
    }

    impl UncheckedRef for wasm_bindgen::JsValue {
        fn unchecked_ref_js(&self) -> &js_sys::Function {
            wasm_bindgen::JsCast::unchecked_ref(self)
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use core::time::Duration;

    use hush_client::platform::{Reply, TransportError};

    pub(super) async fn request(
        _url: &str,
        _body: Option<Vec<u8>>,
        _deadline: Duration,
    ) -> Result<Reply, TransportError> {
        Err(TransportError::Unreachable("the app reaches the network only in the browser".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_network_file_may_name_a_file_server() {
        let key = "ab".repeat(32);
        let body = format!(
            r#"{{"anchors": [], "file_server": {{"url": "http://127.0.0.1:22024", "pubkey_ed25519": "{key}"}}}}"#
        );
        let served = served(body.as_bytes());
        assert_eq!(served.file_server, FileServer::parse("http://127.0.0.1:22024", &key));
        assert!(served.file_server.is_some());
        let none = served_of(r#"{"anchors": []}"#);
        assert_eq!(none.file_server, None);
        assert_eq!(served_of(r#"{"file_server": {"url": "ftp://x", "pubkey_ed25519": "00"}}"#).file_server, None);
        assert_eq!(served_of("not json").file_server, None);
    }

    fn served_of(body: &str) -> Served {
        served(body.as_bytes())
    }
}
