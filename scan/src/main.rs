//! The scan worker: a Web Worker that reads QR codes in frames, off the page's thread.
//!
//! The page starts it (`scan-worker_loader.js`) when a scan starts and ends it when the scan
//! ends. It answers `"ready"` once loaded. Each message from the page is a frame:
//! `[width, height, Uint8ClampedArray]`, RGBA pixels as `getImageData` gives them (the page
//! transfers the buffer). To each frame it answers:
//! - `[text]` (an array of one string): the first code that reads;
//! - `"none"`: no code reads;
//! - `"error"`: the message is not such a frame.

#[cfg(target_arch = "wasm32")]
mod worker {
    use scan::Layout;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    pub fn run() {
        let Ok(scope) = js_sys::global().dyn_into::<DedicatedWorkerGlobalScope>() else { return };
        let answer = scope.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let said: JsValue = match read(&event.data()) {
                Some(Some(text)) => js_sys::Array::of1(&text.into()).into(),
                Some(None) => "none".into(),
                None => "error".into(),
            };
            let _ = answer.post_message(&said);
        });
        scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // The worker lives as long as the page keeps it: so does its one handler.
        on_message.forget();
        let _ = scope.post_message(&"ready".into());
    }

    /// The frame's code (`Some(None)`: none), or `None` if the message is not a frame.
    fn read(data: &JsValue) -> Option<Option<String>> {
        let frame = data.dyn_ref::<js_sys::Array>()?;
        let side = |i| frame.get(i).as_f64().filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= scan::MAX_SIDE as f64);
        let (width, height) = (side(0)? as usize, side(1)? as usize);
        let pixels = frame.get(2).dyn_into::<js_sys::Uint8ClampedArray>().ok()?.to_vec();
        scan::decode(width, height, Layout::Rgba, &pixels).ok()
    }
}

fn main() {
    #[cfg(target_arch = "wasm32")]
    worker::run();
}
