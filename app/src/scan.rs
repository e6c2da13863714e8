//! Scanning a community's QR code: with the camera, or from a picture of it.
//!
//! The camera's frames (five a second) and the picture are drawn on a canvas, and their pixels go
//! to the scan worker (`scan/`, a Web Worker in Rust) that reads the code, so the decoder is not
//! part of the app's first download and the page never waits for it. The worker is fetched when a
//! scan starts and ends with it. Nothing is kept.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::{IntervalHandle, set_interval_with_handle};
use leptos::task::spawn_local;

use crate::i18n::{Text, t};

/// How often a camera frame is read, milliseconds.
pub const EVERY_MS: u64 = 200;

/// The longest side a frame is read at, pixels (a larger picture is scaled down first).
const MAX_SIDE: u32 = 1600;

/// Why the camera could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Natively there is no camera to refuse or to miss.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub enum CameraProblem {
    /// The person (or the browser's settings) refused it.
    Refused,
    /// There is no camera.
    Missing,
    /// Anything else: in use elsewhere, no video support, the decoder did not load.
    Unavailable,
}

/// What to tell the person about `problem`.
pub fn problem_text(problem: CameraProblem) -> &'static str {
    t(match problem {
        CameraProblem::Refused => Text::CommunityCameraRefused,
        CameraProblem::Missing => Text::CommunityCameraMissing,
        CameraProblem::Unavailable => Text::CommunityCameraUnavailable,
    })
}

/// `width` × `height` scaled down to fit [`MAX_SIDE`], never to nothing.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn fitted(width: u32, height: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= MAX_SIDE {
        return (width, height);
    }
    let scale = |side: u32| ((u64::from(side) * u64::from(MAX_SIDE) / u64::from(longest)) as u32).max(1);
    (scale(width), scale(height))
}

pub use browser::when_hidden;
use browser::{Camera, Reader, picture_frame};

/// A camera scan: the camera shown in a `<video>`, a frame read every [`EVERY_MS`]. The camera
/// goes off and the worker ends when it is dropped.
pub struct Scan {
    live: Rc<Live>,
}

/// What the scan's timer and reads share.
struct Live {
    camera: RefCell<Camera>,
    reader: Reader,
    video: web_sys::HtmlVideoElement,
    /// A frame is with the worker.
    busy: Cell<bool>,
    /// The scan ended: nothing more is read or said.
    ended: Cell<bool>,
    ticker: Cell<Option<IntervalHandle>>,
}

impl Scan {
    /// Turns the camera on in `video`; `found` gets the text of each code read (until the scan is
    /// dropped).
    pub async fn start(
        video: web_sys::HtmlVideoElement,
        found: impl Fn(String) + 'static,
    ) -> Result<Scan, CameraProblem> {
        // The worker loads while the person answers the browser's question.
        let reader = Reader::new().ok_or(CameraProblem::Unavailable)?;
        let camera = Camera::open().await?;
        camera.show(&video);
        let live = Rc::new(Live {
            camera: RefCell::new(camera),
            reader,
            video,
            busy: Cell::new(false),
            ended: Cell::new(false),
            ticker: Cell::new(None),
        });
        let found = Rc::new(found);
        let weak = Rc::downgrade(&live);
        let tick = move || {
            let Some(live) = weak.upgrade() else { return };
            if live.busy.get() || live.ended.get() {
                return;
            }
            let Some(frame) = live.camera.borrow_mut().frame(&live.video) else { return };
            live.busy.set(true);
            let found = found.clone();
            spawn_local(async move {
                let read = live.reader.read(frame).await;
                live.busy.set(false);
                if let Ok(Some(text)) = read
                    && !live.ended.get()
                {
                    found(text);
                }
            });
        };
        live.ticker.set(set_interval_with_handle(tick, Duration::from_millis(EVERY_MS)).ok());
        Ok(Scan { live })
    }
}

impl Drop for Scan {
    fn drop(&mut self) {
        let live = &self.live;
        live.ended.set(true);
        if let Some(ticker) = live.ticker.take() {
            ticker.clear();
        }
        live.reader.end();
        live.camera.borrow_mut().stop();
        browser::hide(&live.video);
    }
}

/// Why a picture's code could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PictureProblem {
    /// It is not a picture the browser can open, or the decoder did not load.
    Unreadable,
    /// No code reads in it.
    NoCode,
}

/// The text of the code in a picture.
pub async fn read_picture(file: &web_sys::Blob) -> Result<String, PictureProblem> {
    let frame = picture_frame(file).await.ok_or(PictureProblem::Unreadable)?;
    let reader = Reader::new().ok_or(PictureProblem::Unreadable)?;
    let read = reader.read(frame).await;
    reader.end();
    read.map_err(|()| PictureProblem::Unreadable)?.ok_or(PictureProblem::NoCode)
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use std::cell::RefCell;
    use std::rc::Rc;

    use js_sys::{Array, Function, Object, Promise, Reflect};
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{
        DomException, HtmlVideoElement, MediaStream, MediaStreamConstraints, MediaStreamTrack, MessageEvent,
        OffscreenCanvas, OffscreenCanvasRenderingContext2d, Worker,
    };

    use super::{CameraProblem, fitted};

    /// The worker's start script (Trunk's loader for `scan-worker`).
    const WORKER: &str = "/scan-worker_loader.js";

    /// A frame to read: width, height and its RGBA pixels (a `Uint8ClampedArray`).
    pub type Frame = (u32, u32, JsValue);

    /// The scan worker, while a scan lasts (until [`Reader::end`], or dropped).
    pub struct Reader {
        worker: Worker,
        inner: Rc<RefCell<Inner>>,
        // Kept alive while the worker lives.
        _on_message: Closure<dyn FnMut(MessageEvent)>,
        _on_error: Closure<dyn FnMut(JsValue)>,
    }

    /// What the handlers share.
    #[derive(Default)]
    struct Inner {
        /// The worker said "ready".
        ready: bool,
        /// The worker failed to load or run.
        failed: bool,
        /// Waiting for "ready", or for a frame's answer.
        waiting: Vec<Function>,
    }

    impl Inner {
        fn wake(&mut self, with: &JsValue) {
            for resolve in std::mem::take(&mut self.waiting) {
                let _ = resolve.call1(&JsValue::NULL, with);
            }
        }
    }

    impl Reader {
        /// Starts the worker (it loads while the first frame is taken).
        pub fn new() -> Option<Reader> {
            let worker = Worker::new(WORKER).ok()?;
            let inner = Rc::new(RefCell::new(Inner::default()));
            let on_message = {
                let inner = inner.clone();
                Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                    let data = event.data();
                    let mut inner = inner.borrow_mut();
                    if data.as_string().as_deref() == Some("ready") {
                        inner.ready = true;
                    }
                    inner.wake(&data);
                })
            };
            worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            let on_error = {
                let inner = inner.clone();
                Closure::<dyn FnMut(JsValue)>::new(move |_| {
                    let mut inner = inner.borrow_mut();
                    inner.failed = true;
                    inner.wake(&JsValue::UNDEFINED);
                })
            };
            worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            Some(Reader { worker, inner, _on_message: on_message, _on_error: on_error })
        }

        /// The next message from the worker (undefined if it failed).
        async fn answer(&self) -> JsValue {
            if self.inner.borrow().failed {
                return JsValue::UNDEFINED;
            }
            let next = Promise::new(&mut |resolve, _| self.inner.borrow_mut().waiting.push(resolve));
            JsFuture::from(next).await.unwrap_or(JsValue::UNDEFINED)
        }

        /// The text of the code in `frame` (its pixels are handed to the worker), `Ok(None)` if
        /// none reads; `Err` if the worker failed. One frame at a time.
        pub async fn read(&self, frame: Frame) -> Result<Option<String>, ()> {
            while !self.inner.borrow().ready {
                if self.answer().await.is_undefined() {
                    return Err(());
                }
            }
            let (width, height, pixels) = frame;
            let buffer = Reflect::get(&pixels, &"buffer".into()).map_err(|_| ())?;
            let message = Array::of3(&width.into(), &height.into(), &pixels);
            self.worker.post_message_with_transfer(&message, &Array::of1(&buffer)).map_err(|_| ())?;
            let said = self.answer().await;
            match said.dyn_ref::<Array>() {
                Some(text) => Ok(text.get(0).as_string()),
                None if said.as_string().as_deref() == Some("none") => Ok(None),
                None => Err(()),
            }
        }

        /// Ends the worker; a read waiting for it fails.
        pub fn end(&self) {
            self.worker.terminate();
            let mut inner = self.inner.borrow_mut();
            inner.failed = true;
            inner.wake(&JsValue::UNDEFINED);
        }
    }

    impl Drop for Reader {
        fn drop(&mut self) {
            // A scan that never started (the camera refused) ends its worker too.
            self.worker.terminate();
            self.worker.set_onmessage(None);
            self.worker.set_onerror(None);
        }
    }

    /// The camera, while it is on.
    pub struct Camera {
        stream: MediaStream,
        canvas: Option<OffscreenCanvas>,
    }

    impl Camera {
        /// Asks for the camera (the one facing away from the person, where there are two).
        pub async fn open() -> Result<Camera, CameraProblem> {
            let window = web_sys::window().ok_or(CameraProblem::Unavailable)?;
            let navigator = window.navigator();
            let has_devices = Reflect::get(&navigator, &"mediaDevices".into()).is_ok_and(|d| d.is_object());
            if !has_devices {
                return Err(CameraProblem::Unavailable);
            }
            let devices = navigator.media_devices().map_err(|_| CameraProblem::Unavailable)?;
            let video = Object::new();
            let _ = Reflect::set(&video, &"facingMode".into(), &"environment".into());
            let constraints = MediaStreamConstraints::new();
            constraints.set_video(&video);
            let asked =
                devices.get_user_media_with_constraints(&constraints).map_err(|_| CameraProblem::Unavailable)?;
            match JsFuture::from(asked).await {
                Ok(stream) => {
                    Ok(Camera { stream: stream.dyn_into().map_err(|_| CameraProblem::Unavailable)?, canvas: None })
                }
                Err(e) => Err(match e.dyn_ref::<DomException>().map(|e| e.name()).as_deref() {
                    Some("NotAllowedError" | "SecurityError") => CameraProblem::Refused,
                    Some("NotFoundError" | "OverconstrainedError") => CameraProblem::Missing,
                    _ => CameraProblem::Unavailable,
                }),
            }
        }

        /// Shows the camera in `video`.
        pub fn show(&self, video: &HtmlVideoElement) {
            video.set_muted(true);
            video.set_src_object(Some(&self.stream));
            // Playing is refused when the scan ends first (the stream is taken away): that is no
            // error, but a promise nobody awaits would report it.
            if let Ok(playing) = video.play() {
                wasm_bindgen_futures::spawn_local(async move {
                    let _ = JsFuture::from(playing).await;
                });
            }
        }

        /// What `video` shows now, once it shows something.
        pub fn frame(&mut self, video: &HtmlVideoElement) -> Option<Frame> {
            let (width, height) = fitted(video.video_width(), video.video_height());
            if width == 0 || height == 0 {
                return None;
            }
            let canvas = match self.canvas.take() {
                Some(c) if c.width() == width && c.height() == height => c,
                _ => OffscreenCanvas::new(width, height).ok()?,
            };
            let context = context(&canvas)?;
            context
                .draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, width.into(), height.into())
                .ok()?;
            self.canvas = Some(canvas);
            pixels(&context, width, height)
        }

        /// Turns the camera off.
        pub fn stop(&mut self) {
            for track in self.stream.get_tracks() {
                if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
                    track.stop();
                }
            }
            self.canvas = None;
        }
    }

    /// Empties `video`.
    pub fn hide(video: &HtmlVideoElement) {
        video.set_src_object(None);
    }

    /// Runs a function each time the page is hidden, until dropped.
    pub struct Hidden {
        listener: Closure<dyn FnMut()>,
    }

    /// Calls `then` each time the page is hidden (another tab, the phone locked).
    pub fn when_hidden(then: impl Fn() + 'static) -> Option<Hidden> {
        let document = web_sys::window()?.document()?;
        let listener = {
            let document = document.clone();
            Closure::<dyn FnMut()>::new(move || {
                if document.hidden() {
                    then();
                }
            })
        };
        document.add_event_listener_with_callback("visibilitychange", listener.as_ref().unchecked_ref()).ok()?;
        Some(Hidden { listener })
    }

    impl Drop for Hidden {
        fn drop(&mut self) {
            if let Some(document) = web_sys::window().and_then(|w| w.document()) {
                let _ = document
                    .remove_event_listener_with_callback("visibilitychange", self.listener.as_ref().unchecked_ref());
            }
        }
    }

    fn context(canvas: &OffscreenCanvas) -> Option<OffscreenCanvasRenderingContext2d> {
        canvas.get_context("2d").ok()??.dyn_into().ok()
    }

    /// The canvas's pixels, left in the browser's memory (the worker takes them from there).
    fn pixels(context: &OffscreenCanvasRenderingContext2d, width: u32, height: u32) -> Option<Frame> {
        let image = context.get_image_data(0.0, 0.0, width.into(), height.into()).ok()?;
        let data = Reflect::get(&image, &"data".into()).ok()?;
        Some((width, height, data))
    }

    /// A picture's pixels, upright on white.
    pub async fn picture_frame(file: &web_sys::Blob) -> Option<Frame> {
        let window = web_sys::window()?;
        let bitmap: web_sys::ImageBitmap =
            JsFuture::from(window.create_image_bitmap_with_blob(file).ok()?).await.ok()?.dyn_into().ok()?;
        let (width, height) = fitted(bitmap.width(), bitmap.height());
        let drawn = (|| {
            let canvas = OffscreenCanvas::new(width, height).ok()?;
            let context = context(&canvas)?;
            context.set_fill_style_str("#fff");
            context.fill_rect(0.0, 0.0, width.into(), height.into());
            context.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, width.into(), height.into()).ok()?;
            pixels(&context, width, height)
        })();
        bitmap.close();
        drawn
    }
}

/// Natively (the app's unit tests) there is no camera and no worker.
#[cfg(not(target_arch = "wasm32"))]
mod browser {
    use super::CameraProblem;

    pub struct Frame;

    pub struct Reader;

    impl Reader {
        pub fn new() -> Option<Reader> {
            None
        }
        pub async fn read(&self, _frame: Frame) -> Result<Option<String>, ()> {
            Err(())
        }
        pub fn end(&self) {}
    }

    pub struct Camera;

    impl Camera {
        pub async fn open() -> Result<Camera, CameraProblem> {
            Err(CameraProblem::Unavailable)
        }
        pub fn show(&self, _video: &web_sys::HtmlVideoElement) {}
        pub fn frame(&mut self, _video: &web_sys::HtmlVideoElement) -> Option<Frame> {
            None
        }
        pub fn stop(&mut self) {}
    }

    pub fn hide(_video: &web_sys::HtmlVideoElement) {}

    pub struct Hidden;

    pub fn when_hidden(_then: impl Fn() + 'static) -> Option<Hidden> {
        None
    }

    pub async fn picture_frame(_file: &web_sys::Blob) -> Option<Frame> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_camera_problem_is_said_its_own_way() {
        let said = [CameraProblem::Refused, CameraProblem::Missing, CameraProblem::Unavailable].map(problem_text);
        assert!(said.iter().all(|s| !s.is_empty()));
        assert!(said[0] != said[1] && said[1] != said[2] && said[0] != said[2]);
    }

    #[test]
    fn large_frames_are_scaled_down_in_proportion() {
        assert_eq!(fitted(640, 480), (640, 480));
        assert_eq!(fitted(3200, 1800), (1600, 900));
        assert_eq!(fitted(1800, 4000), (720, 1600));
        assert_eq!(fitted(100_000, 1), (1600, 1));
        assert_eq!(fitted(0, 0), (0, 0));
    }
}
