//! The voice worker: a Web Worker that encodes a recording to MP3 while it is being made.
//!
//! The page starts it (`voice-worker_loader.js`) when a recording starts and ends it when the
//! recording is sent or cancelled. Messages from the page, in order:
//! - `[rate, max_seconds]` (an array of two numbers): a new recording;
//! - a `Float32Array`: mono samples in [-1, 1];
//! - `"finish"`: the worker answers the MP3 file as a `Uint8Array` (its buffer transferred);
//! - `"cancel"`: the recording is dropped.
//!
//! It answers `"ready"` once loaded, and `"error"` (then nothing) on a message it cannot take.

#[cfg(target_arch = "wasm32")]
mod worker {
    use std::cell::RefCell;

    use voice::Recording;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    thread_local! {
        static RECORDING: RefCell<Option<Recording>> = const { RefCell::new(None) };
    }

    pub fn run() {
        let Ok(scope) = js_sys::global().dyn_into::<DedicatedWorkerGlobalScope>() else { return };
        let answer = scope.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if take(event.data(), &answer).is_err() {
                RECORDING.with_borrow_mut(|r| *r = None);
                let _ = answer.post_message(&"error".into());
            }
        });
        scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // The worker lives as long as the page keeps it: so does its one handler.
        on_message.forget();
        let _ = scope.post_message(&"ready".into());
    }

    fn take(data: JsValue, scope: &DedicatedWorkerGlobalScope) -> Result<(), JsValue> {
        if let Some(samples) = data.dyn_ref::<js_sys::Float32Array>() {
            let samples = samples.to_vec();
            return RECORDING.with_borrow_mut(|r| match r {
                Some(recording) => {
                    recording.push(&samples);
                    Ok(())
                }
                None => Err(JsValue::NULL),
            });
        }
        if let Some(start) = data.dyn_ref::<js_sys::Array>() {
            let number = |i| start.get(i).as_f64().filter(|n| n.is_finite() && *n >= 0.0 && *n <= f64::from(u32::MAX));
            let (Some(rate), Some(max)) = (number(0), number(1)) else { return Err(JsValue::NULL) };
            let recording = Recording::new(rate as u32, max as u32).map_err(|_| JsValue::NULL)?;
            RECORDING.with_borrow_mut(|r| *r = Some(recording));
            return Ok(());
        }
        match data.as_string().as_deref() {
            Some("finish") => {
                let recording = RECORDING.with_borrow_mut(Option::take).ok_or(JsValue::NULL)?;
                let mp3 = js_sys::Uint8Array::from(recording.finish().as_slice());
                let transfer = js_sys::Array::of1(&mp3.buffer());
                scope.post_message_with_transfer(&mp3, &transfer)
            }
            Some("cancel") => {
                RECORDING.with_borrow_mut(|r| *r = None);
                Ok(())
            }
            _ => Err(JsValue::NULL),
        }
    }
}

fn main() {
    #[cfg(target_arch = "wasm32")]
    worker::run();
}
