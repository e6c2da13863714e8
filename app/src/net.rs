//! The only module that performs fetch: the engine's [`Transport`] in the browser. Every request
//! is aborted at its deadline through an `AbortController`, so a relay that accepts a connection
//! and then stalls cannot hold the page's polling or delivery. A post whose progress is watched
//! (a file's upload) goes by `XMLHttpRequest`, the one browser API that tells how much of a body
//! went out; it has the same deadline.
//!
//! What leaves the page here is what the engine hands over: the relay's node-list URL, and onion
//! bytes posted to the relay's onion endpoint for a guard; never a Session ID, a destination or
//! content. Besides, [`network`] reads the network's trust anchors and file server from the page's
//! own origin.

use core::time::Duration;

use crypto_core::network::anchors::Anchors;
use hush_client::attachments::FileServer;
use hush_client::platform::{Clock, Progress, Reply, Transport, TransportError};

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

    async fn post_observed(
        &self,
        url: &str,
        body: Vec<u8>,
        deadline: Duration,
        progress: Progress<'_>,
    ) -> Result<Reply, TransportError> {
        imp::post_observed(url, body, deadline, progress).await
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

    /// What an `XMLHttpRequest` told.
    enum Told {
        /// Bytes of the body sent, of all.
        Sent(u64, u64),
        /// The reply is in.
        Loaded,
        /// It failed (or was aborted).
        Failed,
        /// Its deadline passed.
        TimedOut,
    }

    /// An `XMLHttpRequest` under way, with its handlers; aborted and let go when dropped (the
    /// reply came, or the engine gave up on it).
    struct Xhr {
        request: web_sys::XmlHttpRequest,
        _handlers: Vec<wasm_bindgen::closure::Closure<dyn FnMut()>>,
        _on_progress: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::ProgressEvent)>,
    }

    impl Drop for Xhr {
        fn drop(&mut self) {
            self.request.set_onload(None);
            self.request.set_onerror(None);
            self.request.set_onabort(None);
            self.request.set_ontimeout(None);
            if let Ok(upload) = self.request.upload() {
                upload.set_onprogress(None);
            }
            if self.request.ready_state() != web_sys::XmlHttpRequest::DONE {
                let _ = self.request.abort();
            }
        }
    }

    /// A POST by `XMLHttpRequest`, telling `progress` as the body goes out.
    pub(super) async fn post_observed(
        url: &str,
        body: Vec<u8>,
        deadline: Duration,
        progress: hush_client::platform::Progress<'_>,
    ) -> Result<Reply, TransportError> {
        use futures::StreamExt;
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        use web_sys::{ProgressEvent, XmlHttpRequest, XmlHttpRequestResponseType};

        let failed = |e: wasm_bindgen::JsValue| TransportError::Unreachable(format!("{e:?}"));
        let request = XmlHttpRequest::new().map_err(failed)?;
        request.open("POST", url).map_err(failed)?;
        request.set_request_header("Content-Type", "application/octet-stream").map_err(failed)?;
        request.set_response_type(XmlHttpRequestResponseType::Arraybuffer);
        request.set_timeout(u32::try_from(deadline.as_millis()).unwrap_or(u32::MAX));
        let upload = request.upload().map_err(failed)?;

        // The handlers are 'static and `progress` is not: what they tell crosses a channel.
        let (tell, mut told) = futures::channel::mpsc::unbounded::<Told>();
        let handler = |what: fn() -> Told| {
            let tell = tell.clone();
            Closure::<dyn FnMut()>::new(move || {
                let _ = tell.unbounded_send(what());
            })
        };
        let on_load = handler(|| Told::Loaded);
        let on_error = handler(|| Told::Failed);
        let on_abort = handler(|| Told::Failed);
        let on_timeout = handler(|| Told::TimedOut);
        let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
            let _ = tell.unbounded_send(Told::Sent(e.loaded() as u64, e.total() as u64));
        });
        request.set_onload(Some(on_load.as_ref().unchecked_ref()));
        request.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        request.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
        request.set_ontimeout(Some(on_timeout.as_ref().unchecked_ref()));
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        let xhr = Xhr { request, _handlers: vec![on_load, on_error, on_abort, on_timeout], _on_progress: on_progress };

        {
            // As a Blob: the browser keeps its bytes, so the page holds no copy of them while the
            // request goes out (an ArrayBuffer body is copied by the request, twice). The Blob is
            // made straight from the bytes in the WebAssembly memory, which it copies at once:
            // no JS copy of them is left for the collector either.
            let memory = wasm_bindgen::memory().unchecked_into::<js_sys::WebAssembly::Memory>();
            let at = u32::try_from(body.as_ptr() as usize).map_err(|_| TransportError::TooLarge)?;
            let len = u32::try_from(body.len()).map_err(|_| TransportError::TooLarge)?;
            let view = js_sys::Uint8Array::new_with_byte_offset_and_length(&memory.buffer(), at, len);
            let blob = web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&view)).map_err(failed)?;
            drop(view);
            drop(body);
            xhr.request.send_with_opt_blob(Some(&blob)).map_err(failed)?;
        }
        while let Some(event) = told.next().await {
            match event {
                Told::Sent(sent, total) => progress(sent, total),
                Told::Loaded => {
                    let status = xhr.request.status().map_err(failed)?;
                    let response = xhr.request.response().map_err(failed)?;
                    let body = js_sys::Uint8Array::new(&response).to_vec();
                    return Ok(Reply { status, body });
                }
                Told::Failed => break,
                Told::TimedOut => return Err(TransportError::TimedOut),
            }
        }
        Err(TransportError::Unreachable("the upload failed".into()))
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

    pub(super) async fn post_observed(
        url: &str,
        body: Vec<u8>,
        deadline: Duration,
        _progress: hush_client::platform::Progress<'_>,
    ) -> Result<Reply, TransportError> {
        request(url, Some(body), deadline).await
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
