//! The browser glue the engine needs, in one place: the clock (`Date.now()`, `setTimeout`), the
//! page's visibility (polling slows down while it is hidden and wakes when it is shown), and the
//! [`Browser`] platform that ties them to [`crate::net`]'s fetch and [`crate::storage`]'s
//! IndexedDB. The engine's native twin is `hush_client::platform::native`.

use core::future::Future;
use core::time::Duration;

use hush_client::platform::{Clock, Platform, World};

/// The browser as the engine's platform.
#[derive(Debug)]
pub struct Browser;

impl Platform for Browser {
    type Transport = crate::net::Fetch;
    type Clock = PageClock;
    #[cfg(target_arch = "wasm32")]
    type Backend = crate::storage::IdbBackend;
    #[cfg(not(target_arch = "wasm32"))]
    type Backend = hush_client::storage::MemoryBackend;
}

/// The engine as the app uses it.
pub type AppEngine = hush_client::Engine<Browser>;

/// The page's world: fetch, its clock, and whether it was served over HTTPS.
pub fn world() -> World<Browser> {
    World { transport: crate::net::Fetch, clock: PageClock, secure_page: page_is_secure() }
}

/// The page's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct PageClock;

impl Clock for PageClock {
    fn now_ms(&self) -> u64 {
        now_ms() as u64
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
        wait(duration, false)
    }

    fn visible(&self) -> bool {
        page_visible()
    }

    fn nap(&self, duration: Duration) -> impl Future<Output = ()> {
        wait(duration, true)
    }
}

/// Milliseconds since the epoch, by this device's clock.
pub fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_millis() as f64)
    }
}

/// A moment (ms since the epoch) in the person's local calendar and time zone.
pub fn local_time(timestamp: u64) -> crate::when::LocalTime {
    #[cfg(target_arch = "wasm32")]
    {
        let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(timestamp as f64));
        crate::when::LocalTime {
            year: d.get_full_year(),
            month: d.get_month() + 1,
            day: d.get_date(),
            hour: d.get_hours(),
            minute: d.get_minutes(),
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let minutes = (timestamp / 60_000) as u32;
        crate::when::LocalTime { year: 1970, month: 1, day: 1, hour: (minutes / 60) % 24, minute: minutes % 60 }
    }
}

/// Whether the page is visible.
pub fn page_visible() -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window()
            .and_then(|w| w.document())
            .is_none_or(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        true
    }
}

/// Whether the page was served over HTTPS.
pub fn page_is_secure() -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window().and_then(|w| w.location().protocol().ok()).is_some_and(|p| p == "https:")
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        false
    }
}

/// Waits `duration`; with `wake_on_visibility`, also ends when the page is shown or hidden, or
/// when the browser says the network is back (`online`), so a poll that backed off during an
/// outage asks again at once.
async fn wait(duration: Duration, wake_on_visibility: bool) {
    #[cfg(target_arch = "wasm32")]
    {
        let ms = i32::try_from(duration.as_millis()).unwrap_or(i32::MAX);
        let Some(window) = web_sys::window() else { return };
        let document = window.document().filter(|_| wake_on_visibility);
        let mut wake = None;
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
            if let Some(d) = &document {
                let _ = d.add_event_listener_with_callback("visibilitychange", &resolve);
                let _ = window.add_event_listener_with_callback("online", &resolve);
            }
            wake = Some(resolve);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        if let (Some(d), Some(wake)) = (&document, &wake) {
            let _ = d.remove_event_listener_with_callback("visibilitychange", wake);
            let _ = window.remove_event_listener_with_callback("online", wake);
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (duration, wake_on_visibility);
        std::future::pending::<()>().await;
    }
}
