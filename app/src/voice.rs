//! Voice messages: the composer's record button and the recording panel.
//!
//! With a mouse or the keyboard, a click starts and a click (or Send) stops and sends, and Escape
//! cancels; on touch,
//! press and hold records, release sends, and sliding away (or Cancel) cancels. While recording
//! the panel shows the microphone's level, the length so far, Cancel and Send; at
//! [`MAX_SECONDS`] the recording stops and is sent, as Session Desktop does.
//!
//! How: the microphone's samples come from an `AudioWorklet` (`voice/voice-capture.js`) at
//! 48 kHz mono and go, as they come, to the voice worker (`voice/`, a Web Worker in Rust), which
//! encodes them to MP3 while the person speaks; at the end it hands back the file, sent alone with
//! an empty body and the voice flag (`Engine::send_files`). The worker and the worklet are fetched
//! only when a recording starts. Nothing is kept: the file goes to the engine, which seals it.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::{Text, t, tf};
use crate::session::use_app;

/// The longest voice message, seconds (Session Desktop's `MAX_VOICE_MESSAGE_DURATION`). A page
/// opened with `?voice-max-seconds=N` stops at N seconds instead, if N is shorter (the end-to-end
/// tests use it to see the limit work without waiting five minutes).
pub const MAX_SECONDS: u32 = 300;

/// The MIME type and file name Session Desktop gives a voice message (protocol-files §4.5; the
/// voice crate's `CONTENT_TYPE` and `FILE_NAME`, which the app does not link).
const CONTENT_TYPE: &str = "audio/mp3";
const FILE_NAME: &str = "session-audio-message";

/// A touch that lets go sooner than this was a tap, not a recording: nothing is sent, and the
/// panel says to hold.
const SHORTEST_HOLD_MS: u64 = 700;

/// How far (CSS pixels) a finger holding the button may move before the recording is cancelled.
const SLIDE_TO_CANCEL_PX: f64 = 60.0;

/// Where the recorder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    /// Asking for the microphone and loading the worker.
    Starting,
    Recording,
    Sending,
}

/// Why the microphone could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Natively there is no microphone to refuse or to miss.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub enum MicProblem {
    /// The person (or the browser's settings) refused it.
    Refused,
    /// There is no microphone.
    Missing,
    /// Anything else: in use elsewhere, no audio support, the encoder did not load.
    Unavailable,
}

fn problem_text(problem: MicProblem) -> &'static str {
    t(match problem {
        MicProblem::Refused => Text::VoiceMicRefused,
        MicProblem::Missing => Text::VoiceMicMissing,
        MicProblem::Unavailable => Text::VoiceMicUnavailable,
    })
}

/// The limit for this page: [`MAX_SECONDS`], or less if the address asks (see there).
fn max_seconds() -> u32 {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("voice-max-seconds="))
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| *n > 0)
        .map_or(MAX_SECONDS, |n| n.min(MAX_SECONDS))
}

/// `m:ss` of a length in milliseconds.
fn clock(millis: u64) -> String {
    let seconds = millis / 1000;
    let (m, s) = (seconds / 60, seconds % 60);
    tf(Text::VoiceElapsed, &[("minutes", &m.to_string()), ("seconds", &format!("{s:02}"))])
}

/// The record button, and the recording panel beside it while recording.
#[component]
pub fn VoiceRecorder() -> impl IntoView {
    let app = use_app();
    let phase = RwSignal::new(Phase::Idle);
    let millis = RwSignal::new(0u64);
    let level = RwSignal::new(0.0f64);
    // A finger holds the button (press and hold), from where.
    let holding = RwSignal::new(false);
    let origin = StoredValue::new((0.0f64, 0.0f64));
    // A touch started the last press: the click that follows it is not a click.
    let touched = StoredValue::new(false);
    let hint = RwSignal::new(None::<Text>);
    let error = RwSignal::new(None::<String>);
    let live = StoredValue::new_local(None::<browser::Live>);
    let ticker = StoredValue::new_local(None::<IntervalHandle>);

    let stop_ticker = move || {
        if let Some(handle) = ticker.try_update_value(Option::take).flatten() {
            handle.clear();
        }
    };

    let cancel = move || {
        stop_ticker();
        if let Some(recording) = live.try_update_value(Option::take).flatten() {
            recording.cancel();
        }
        if phase.get_untracked() != Phase::Sending {
            phase.set(Phase::Idle);
        }
        millis.set(0);
        level.set(0.0);
    };

    let send = move || {
        if phase.get_untracked() != Phase::Recording {
            return;
        }
        stop_ticker();
        let Some(recording) = live.try_update_value(Option::take).flatten() else { return };
        phase.set(Phase::Sending);
        level.set(0.0);
        spawn_local(async move {
            let outcome = match recording.finish().await {
                Ok(bytes) => match (crate::session::unlocked(app), app.open_peer.get_untracked()) {
                    (Ok(engine), Some(peer)) => {
                        let file = hush_client::NewFile {
                            file_name: FILE_NAME.to_owned(),
                            content_type: CONTENT_TYPE.to_owned(),
                            bytes: zeroize::Zeroizing::new(bytes),
                            width: None,
                            height: None,
                            voice: true,
                        };
                        engine
                            .send_files(&peer, "", None, vec![file])
                            .await
                            .map(drop)
                            .map_err(|e| crate::words::error_text(&e))
                    }
                    (Err(e), _) => Err(crate::words::error_text(&e)),
                    (_, None) => Ok(()),
                },
                Err(()) => Err(t(Text::VoiceFailed).to_owned()),
            };
            if let Err(text) = outcome {
                error.set(Some(text));
            }
            millis.set(0);
            phase.set(Phase::Idle);
        });
    };

    let start = move || {
        if phase.get_untracked() != Phase::Idle {
            return;
        }
        phase.set(Phase::Starting);
        error.set(None);
        hint.set(None);
        millis.set(0);
        let limit = max_seconds();
        spawn_local(async move {
            match browser::start(limit).await {
                // Cancelled (or the finger let go) while the microphone was being asked for.
                Ok(recording) if phase.get_untracked() != Phase::Starting => recording.cancel(),
                Ok(recording) => {
                    live.set_value(Some(recording));
                    phase.set(Phase::Recording);
                    let tick = move || {
                        let Some((ms, now, full)) =
                            live.with_value(|l| l.as_ref().map(|l| (l.millis(), l.level(), l.full())))
                        else {
                            return;
                        };
                        millis.set(ms);
                        level.set(now);
                        if full {
                            send();
                        }
                    };
                    if let Ok(handle) = set_interval_with_handle(tick, std::time::Duration::from_millis(100)) {
                        ticker.set_value(Some(handle));
                    }
                }
                Err(problem) => {
                    if phase.get_untracked() == Phase::Starting {
                        error.set(Some(problem_text(problem).to_owned()));
                    }
                    phase.set(Phase::Idle);
                }
            }
        });
    };

    on_cleanup(cancel);

    // A click (mouse, pen, keyboard) starts, and stops and sends.
    let click = move |_| {
        if touched.get_value() {
            touched.set_value(false);
            return;
        }
        match phase.get_untracked() {
            Phase::Idle => start(),
            Phase::Recording => send(),
            Phase::Starting | Phase::Sending => {}
        }
    };
    // Press and hold on touch.
    let pointer_down = move |ev: web_sys::PointerEvent| {
        if ev.pointer_type() != "touch" {
            touched.set_value(false);
            return;
        }
        ev.prevent_default();
        touched.set_value(true);
        if phase.get_untracked() != Phase::Idle {
            return;
        }
        holding.set(true);
        origin.set_value((f64::from(ev.client_x()), f64::from(ev.client_y())));
        start();
    };
    let pointer_move = move |ev: web_sys::PointerEvent| {
        if !holding.get_untracked() {
            return;
        }
        let (x, y) = origin.get_value();
        let (dx, dy) = (f64::from(ev.client_x()) - x, f64::from(ev.client_y()) - y);
        if dx.hypot(dy) > SLIDE_TO_CANCEL_PX {
            holding.set(false);
            cancel();
        }
    };
    let pointer_up = move |_: web_sys::PointerEvent| {
        if !holding.get_untracked() {
            return;
        }
        holding.set(false);
        match phase.get_untracked() {
            Phase::Recording if millis.get_untracked() >= SHORTEST_HOLD_MS => send(),
            Phase::Recording | Phase::Starting => {
                cancel();
                hint.set(Some(Text::VoiceHold));
            }
            Phase::Idle | Phase::Sending => {}
        }
    };
    let pointer_cancel = move |_: web_sys::PointerEvent| {
        if holding.get_untracked() {
            holding.set(false);
            cancel();
        }
    };

    // Escape cancels, from the record button or the panel's buttons.
    let escape = move |ev: web_sys::KeyboardEvent| {
        if ev.key() == "Escape" && matches!(phase.get_untracked(), Phase::Starting | Phase::Recording) {
            ev.prevent_default();
            holding.set(false);
            cancel();
        }
    };

    let recording = move || matches!(phase.get(), Phase::Starting | Phase::Recording);
    view! {
        <Show when=move || phase.get() != Phase::Idle>
            <div class="voice-recording" role="group" aria-label=t(Text::VoiceRecording) data-testid="voice-recording"
                on:keydown=escape>
                <span class="voice-dot" aria-hidden="true"></span>
                <span class="voice-time" role="timer" data-testid="voice-elapsed">{move || clock(millis.get())}</span>
                <meter class="voice-level" min="0" max="1" aria-label=t(Text::VoiceLevel) prop:value=move || level.get()></meter>
                <span class="voice-hint" aria-live="polite">
                    {move || match phase.get() {
                        Phase::Sending => t(Text::VoiceSending),
                        _ if holding.get() => t(Text::VoiceSlideToCancel),
                        _ => "",
                    }}
                </span>
                <Show when=move || !holding.get() && phase.get() != Phase::Sending>
                    <button type="button" data-testid="voice-cancel" on:click=move |_| cancel()>{t(Text::VoiceCancel)}</button>
                    <button type="button" class="primary" data-testid="voice-send"
                        prop:disabled=move || phase.get() != Phase::Recording
                        on:click=move |_| send()>{t(Text::VoiceSend)}</button>
                </Show>
            </div>
        </Show>
        <button type="button" class="secondary record" data-testid="record" aria-label=t(Text::VoiceRecord) title=t(Text::VoiceRecord)
            aria-pressed=move || if recording() { "true" } else { "false" }
            prop:disabled=move || phase.get() == Phase::Sending
            style:touch-action="none"
            on:click=click on:pointerdown=pointer_down on:pointermove=pointer_move on:pointerup=pointer_up
            on:pointercancel=pointer_cancel on:contextmenu=move |ev| ev.prevent_default() on:keydown=escape>
            <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false" fill="none" stroke="currentColor"
                stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                <rect x="9" y="3" width="6" height="11" rx="3"></rect>
                <path d="M5 11a7 7 0 0 0 14 0"></path>
                <path d="M12 18v3"></path>
            </svg>
        </button>
        <Show when=move || hint.get().is_some() || error.get().is_some()>
            <p class="error voice-note" role="alert" data-testid="voice-problem">
                {move || error.get().unwrap_or_else(|| hint.get().map(t).unwrap_or_default().to_owned())}
            </p>
        </Show>
    }
}

/// The browser's side: microphone, audio graph, worklet and worker.
#[cfg(target_arch = "wasm32")]
mod browser {
    use std::cell::RefCell;
    use std::rc::Rc;

    use js_sys::{Array, Float32Array, Function, Promise, Uint8Array};
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{
        AnalyserNode, AudioContext, AudioContextOptions, AudioWorkletNode, AudioWorkletNodeOptions, DomException,
        MediaStream, MediaStreamConstraints, MediaStreamTrack, MessageEvent, Worker,
    };

    use super::MicProblem;

    /// The worker's start script (Trunk's loader for `voice-worker`) and the capture worklet.
    const WORKER: &str = "/voice-worker_loader.js";
    const WORKLET: &str = "/voice-capture.js";
    const SAMPLE_RATE: f32 = 48_000.0;

    /// A recording in progress.
    pub struct Live {
        inner: Rc<RefCell<Inner>>,
        stream: MediaStream,
        context: AudioContext,
        analyser: AnalyserNode,
        capture: AudioWorkletNode,
        worker: Worker,
        rate: f64,
        max_samples: u64,
        // Kept alive while the recording lasts.
        _on_capture: Closure<dyn FnMut(MessageEvent)>,
        _on_worker: Closure<dyn FnMut(MessageEvent)>,
        _on_error: Closure<dyn FnMut(JsValue)>,
    }

    /// What the handlers share.
    #[derive(Default)]
    struct Inner {
        /// The worker has loaded: messages go straight to it.
        ready: bool,
        /// Messages for the worker until it is ready (each with its transfer list).
        queue: Vec<(JsValue, Option<Array>)>,
        samples: u64,
        /// The worker failed (it said "error", or did not load).
        failed: bool,
        /// Waiting for the worker's file: (resolve, reject).
        file: Option<(Function, Function)>,
        /// Waiting for the worklet's last samples.
        flushed: Option<Function>,
        worker: Option<Worker>,
    }

    impl Inner {
        fn post(&mut self, message: JsValue, transfer: Option<Array>) {
            match (&self.worker, self.ready) {
                (Some(worker), true) => {
                    let _ = match &transfer {
                        Some(list) => worker.post_message_with_transfer(&message, list),
                        None => worker.post_message(&message),
                    };
                }
                _ => self.queue.push((message, transfer)),
            }
        }

        fn fail(&mut self) {
            self.failed = true;
            if let Some((_, reject)) = self.file.take() {
                let _ = reject.call0(&JsValue::NULL);
            }
        }
    }

    /// Asks for the microphone, loads the worker and the worklet, and starts recording; at most
    /// `max_seconds` are kept.
    pub async fn start(max_seconds: u32) -> Result<Live, MicProblem> {
        let window = web_sys::window().ok_or(MicProblem::Unavailable)?;
        let navigator = window.navigator();
        let has_devices = js_sys::Reflect::get(&navigator, &"mediaDevices".into()).is_ok_and(|d| d.is_object());
        if !has_devices {
            return Err(MicProblem::Unavailable);
        }
        let devices = navigator.media_devices().map_err(|_| MicProblem::Unavailable)?;

        // The worker loads while the person answers the browser's question.
        let worker = Worker::new(WORKER).map_err(|_| MicProblem::Unavailable)?;
        let inner = Rc::new(RefCell::new(Inner { worker: Some(worker.clone()), ..Inner::default() }));
        let on_worker = {
            let inner = inner.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let data = event.data();
                let mut inner = inner.borrow_mut();
                if data.as_string().as_deref() == Some("ready") {
                    inner.ready = true;
                    let queued = std::mem::take(&mut inner.queue);
                    for (message, transfer) in queued {
                        inner.post(message, transfer);
                    }
                } else if data.is_instance_of::<Uint8Array>() {
                    if let Some((resolve, _)) = inner.file.take() {
                        let _ = resolve.call1(&JsValue::NULL, &data);
                    }
                } else {
                    inner.fail();
                }
            })
        };
        worker.set_onmessage(Some(on_worker.as_ref().unchecked_ref()));
        let on_error = {
            let inner = inner.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |_| inner.borrow_mut().fail())
        };
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));

        let stream = match microphone(&devices).await {
            Ok(stream) => stream,
            Err(problem) => {
                worker.terminate();
                return Err(problem);
            }
        };
        let stop = |stream: &MediaStream, worker: &Worker| {
            stop_tracks(stream);
            worker.terminate();
        };
        let Some((context, source)) = audio_graph(&stream) else {
            stop(&stream, &worker);
            return Err(MicProblem::Unavailable);
        };
        let graph = async {
            let worklet = context.audio_worklet().ok()?;
            JsFuture::from(worklet.add_module(WORKLET).ok()?).await.ok()?;
            let options = AudioWorkletNodeOptions::new();
            options.set_number_of_inputs(1);
            options.set_number_of_outputs(0);
            options.set_channel_count(1);
            let capture = AudioWorkletNode::new_with_options(&context, "hush-voice-capture", &options).ok()?;
            let analyser = context.create_analyser().ok()?;
            analyser.set_fft_size(1024);
            source.connect_with_audio_node(&analyser).ok()?;
            source.connect_with_audio_node(&capture).ok()?;
            Some((capture, analyser))
        };
        let Some((capture, analyser)) = graph.await else {
            let _ = context.close();
            stop(&stream, &worker);
            return Err(MicProblem::Unavailable);
        };
        // A context made after an await may start suspended (Safari, or a browser's autoplay
        // rules): the microphone is on, so it may run.
        if let Ok(resumed) = context.resume() {
            let _ = JsFuture::from(resumed).await;
        }
        let rate = f64::from(context.sample_rate());
        let max_samples = u64::from(max_seconds) * rate as u64;
        inner.borrow_mut().post(Array::of2(&rate.into(), &f64::from(max_seconds).into()).into(), None);

        let on_capture = {
            let inner = inner.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let data = event.data();
                let mut inner = inner.borrow_mut();
                if let Some(samples) = data.dyn_ref::<Float32Array>() {
                    if inner.samples >= max_samples {
                        return;
                    }
                    inner.samples = (inner.samples + u64::from(samples.length())).min(max_samples);
                    let transfer = Array::of1(&samples.buffer());
                    inner.post(data, Some(transfer));
                } else if let Some(done) = inner.flushed.take() {
                    let _ = done.call0(&JsValue::NULL);
                }
            })
        };
        let Ok(port) = capture.port() else {
            let _ = context.close();
            stop(&stream, &worker);
            return Err(MicProblem::Unavailable);
        };
        port.set_onmessage(Some(on_capture.as_ref().unchecked_ref()));

        Ok(Live {
            inner,
            stream,
            context,
            analyser,
            capture,
            worker,
            rate,
            max_samples,
            _on_capture: on_capture,
            _on_worker: on_worker,
            _on_error: on_error,
        })
    }

    /// The microphone, or why not.
    async fn microphone(devices: &web_sys::MediaDevices) -> Result<MediaStream, MicProblem> {
        let constraints = MediaStreamConstraints::new();
        constraints.set_audio(&JsValue::TRUE);
        let asked = devices.get_user_media_with_constraints(&constraints).map_err(|_| MicProblem::Unavailable)?;
        match JsFuture::from(asked).await {
            Ok(stream) => stream.dyn_into::<MediaStream>().map_err(|_| MicProblem::Unavailable),
            Err(e) => Err(match e.dyn_ref::<DomException>().map(|e| e.name()).as_deref() {
                Some("NotAllowedError" | "SecurityError") => MicProblem::Refused,
                Some("NotFoundError" | "OverconstrainedError") => MicProblem::Missing,
                _ => MicProblem::Unavailable,
            }),
        }
    }

    /// An audio context at 48 kHz fed by `stream` (or at the browser's own rate, where it cannot
    /// join a microphone to a context at another rate).
    fn audio_graph(stream: &MediaStream) -> Option<(AudioContext, web_sys::MediaStreamAudioSourceNode)> {
        let options = AudioContextOptions::new();
        options.set_sample_rate(SAMPLE_RATE);
        if let Ok(context) = AudioContext::new_with_context_options(&options) {
            if let Ok(source) = context.create_media_stream_source(stream) {
                return Some((context, source));
            }
            let _ = context.close();
        }
        let context = AudioContext::new().ok()?;
        // The encoder takes MPEG-1's rates only.
        if ![32_000.0, 44_100.0, 48_000.0].contains(&context.sample_rate()) {
            let _ = context.close();
            return None;
        }
        let source = context.create_media_stream_source(stream).ok()?;
        Some((context, source))
    }

    fn stop_tracks(stream: &MediaStream) {
        for track in stream.get_tracks() {
            if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
                track.stop();
            }
        }
    }

    impl Live {
        /// The length recorded so far, milliseconds.
        pub fn millis(&self) -> u64 {
            (self.inner.borrow().samples as f64 * 1000.0 / self.rate) as u64
        }

        /// Whether the limit is reached.
        pub fn full(&self) -> bool {
            self.inner.borrow().samples >= self.max_samples
        }

        /// The microphone's level now, 0 (silence, -60 dB and below) to 1 (full scale).
        pub fn level(&self) -> f64 {
            let mut samples = vec![0.0f32; self.analyser.fft_size() as usize];
            self.analyser.get_float_time_domain_data(&mut samples);
            let power =
                samples.iter().map(|s| f64::from(*s) * f64::from(*s)).sum::<f64>() / samples.len().max(1) as f64;
            let db = 10.0 * power.max(1e-12).log10();
            ((db + 60.0) / 60.0).clamp(0.0, 1.0)
        }

        /// Stops recording: the MP3 file, once the worker has encoded the last samples.
        pub async fn finish(self) -> Result<Vec<u8>, ()> {
            // The worklet's last partial batch, then the microphone goes off.
            let flushed = Promise::new(&mut |resolve, _| self.inner.borrow_mut().flushed = Some(resolve));
            if let Ok(port) = self.capture.port() {
                let _ = port.post_message(&"flush".into());
                let waited = Promise::race(&Array::of2(&flushed, &timeout(1000)));
                let _ = JsFuture::from(waited).await;
            }
            self.close_audio();
            if self.inner.borrow().failed {
                self.worker.terminate();
                return Err(());
            }
            let file = Promise::new(&mut |resolve, reject| self.inner.borrow_mut().file = Some((resolve, reject)));
            self.inner.borrow_mut().post("finish".into(), None);
            let answer = JsFuture::from(file).await;
            self.worker.terminate();
            answer.ok().and_then(|bytes| bytes.dyn_into::<Uint8Array>().ok()).map(|bytes| bytes.to_vec()).ok_or(())
        }

        /// Stops recording and drops it.
        pub fn cancel(self) {
            self.close_audio();
            self.worker.terminate();
        }

        fn close_audio(&self) {
            if let Ok(port) = self.capture.port() {
                port.set_onmessage(None);
                port.close();
            }
            let _ = self.capture.disconnect();
            let _ = self.analyser.disconnect();
            stop_tracks(&self.stream);
            let _ = self.context.close();
        }
    }

    /// A promise that resolves after `ms` milliseconds.
    fn timeout(ms: i32) -> Promise {
        Promise::new(&mut |resolve, _| {
            if let Some(window) = web_sys::window() {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
            }
        })
    }
}

/// Natively (the app's unit tests) there is no microphone.
#[cfg(not(target_arch = "wasm32"))]
mod browser {
    use super::MicProblem;

    pub struct Live;

    pub async fn start(_max_seconds: u32) -> Result<Live, MicProblem> {
        Err(MicProblem::Unavailable)
    }

    impl Live {
        pub fn millis(&self) -> u64 {
            0
        }
        pub fn full(&self) -> bool {
            false
        }
        pub fn level(&self) -> f64 {
            0.0
        }
        pub async fn finish(self) -> Result<Vec<u8>, ()> {
            Err(())
        }
        pub fn cancel(self) {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_microphone_problem_is_said_its_own_way() {
        let said = [MicProblem::Refused, MicProblem::Missing, MicProblem::Unavailable].map(problem_text);
        assert!(said.iter().all(|s| !s.is_empty()));
        assert!(said[0] != said[1] && said[1] != said[2] && said[0] != said[2]);
    }

    #[test]
    fn the_clock_shows_minutes_and_two_digit_seconds() {
        assert_eq!(clock(0), "0:00");
        assert_eq!(clock(3_400), "0:03");
        assert_eq!(clock(61_000), "1:01");
        assert_eq!(clock(300_000), "5:00");
    }
}
