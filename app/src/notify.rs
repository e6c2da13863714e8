//! What Hush tells a person who is not looking at it: the unread count in the tab's title
//! ("(3) Hush") and on the app's icon where the browser has a badge, and a system notification
//! for a message that arrives while the page is hidden. What a notification says, and whether
//! there is one at all, is the engine's answer (`Engine::notification`): nothing more is shown.
//! The browser's notification permission is asked only when the person turns notifications on.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crypto_core::identity::SessionId;
use hush_client::conversations::Message;
use leptos::task::spawn_local;

use crate::i18n::{Text, t, tn};
use crate::platform::{self, AppEngine};

/// The tab's title for `unread` messages: "Hush", or "(3) Hush".
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub fn title(unread: u32) -> String {
    if unread == 0 { t(Text::AppTitle).to_owned() } else { tn(Text::AppTitleUnread, u64::from(unread), &[]) }
}

/// Whether the browser lets this page show notifications.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub enum Permission {
    /// Allowed.
    Granted,
    /// Refused (by the person, or by the browser's settings): only the browser can change it.
    Denied,
    /// Not asked yet, or the question was dismissed.
    Ask,
    /// This browser has no notifications.
    Unsupported,
}

/// What clicking a notification does with its conversation's peer.
type Opener = Rc<dyn Fn(SessionId)>;

thread_local! {
    /// Opens a conversation: what clicking a notification does (set by the app at start).
    static OPENER: RefCell<Option<Opener>> = const { RefCell::new(None) };
    /// The latest count asked for; an older answer arriving late is not shown.
    static COUNTING: Cell<u64> = const { Cell::new(0) };
}

/// Sets what clicking a notification does with its conversation's peer.
pub fn set_opener(open: impl Fn(SessionId) + 'static) {
    OPENER.with(|o| *o.borrow_mut() = Some(Rc::new(open)));
}

/// Shows the unread total the engine counts (none while locked) in the tab's title and on the
/// app's badge.
pub fn count_unread(engine: Option<AppEngine>) {
    let asked = COUNTING.with(|c| {
        c.set(c.get().wrapping_add(1));
        c.get()
    });
    spawn_local(async move {
        let unread = match engine {
            Some(engine) => engine.unread_total().await,
            None => 0,
        };
        if COUNTING.with(Cell::get) == asked {
            show_unread(unread);
        }
    });
}

/// A message arrived: while the page is hidden, the system notification the engine says it
/// should raise, if any; one per conversation at a time (a newer one replaces it).
pub fn arrived(engine: AppEngine, message: &Message) {
    if platform::page_visible() {
        return;
    }
    let message = message.clone();
    spawn_local(async move {
        if permission() != Permission::Granted {
            return;
        }
        if let Some(notification) = engine.notification(&message).await {
            let (title, body) = crate::words::notification_text(&notification);
            show(&title, &body, message.peer);
        }
    });
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use js_sys::{Function, Object, Promise, Reflect};
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use super::Permission;

    fn get(target: &JsValue, name: &str) -> Option<JsValue> {
        Reflect::get(target, &name.into()).ok().filter(|v| !v.is_undefined() && !v.is_null())
    }

    /// The page's `Notification` constructor, where there is one.
    fn constructor() -> Option<Function> {
        get(&web_sys::window()?.into(), "Notification")?.dyn_into::<Function>().ok()
    }

    pub(super) fn permission() -> Permission {
        let Some(notification) = constructor() else { return Permission::Unsupported };
        match get(&notification, "permission").and_then(|p| p.as_string()).as_deref() {
            Some("granted") => Permission::Granted,
            Some("denied") => Permission::Denied,
            _ => Permission::Ask,
        }
    }

    pub(super) async fn ask() -> Permission {
        let Some(notification) = constructor() else { return Permission::Unsupported };
        let request = get(&notification, "requestPermission").and_then(|f| f.dyn_into::<Function>().ok());
        if let Some(answer) = request.and_then(|f| f.call0(&notification).ok())
            && let Ok(promise) = answer.dyn_into::<Promise>()
        {
            let _ = JsFuture::from(promise).await;
        }
        permission()
    }

    pub(super) fn show(title: &str, body: &str, tag: &str, on_click: impl FnOnce() + 'static) {
        let Some(notification) = constructor() else { return };
        let options = Object::new();
        let _ = Reflect::set(&options, &"body".into(), &body.into());
        let _ = Reflect::set(&options, &"tag".into(), &tag.into());
        let args = js_sys::Array::of2(&title.into(), &options);
        let Ok(shown) = Reflect::construct(&notification, &args) else { return };
        let target = shown.clone();
        let click = Closure::once_into_js(move || {
            if let Some(window) = web_sys::window() {
                let _ = window.focus();
            }
            if let Some(close) = get(&target, "close").and_then(|f| f.dyn_into::<Function>().ok()) {
                let _ = close.call0(&target);
            }
            on_click();
        });
        let _ = Reflect::set(&shown, &"onclick".into(), &click);
    }

    pub(super) fn show_unread(title: &str, unread: u32) {
        let Some(window) = web_sys::window() else { return };
        if let Some(document) = window.document() {
            document.set_title(title);
        }
        // The app's badge, where the browser has one (installed apps); a refusal changes nothing.
        let navigator: JsValue = window.navigator().into();
        let call = if unread == 0 {
            get(&navigator, "clearAppBadge")
                .and_then(|f| f.dyn_into::<Function>().ok())
                .and_then(|f| f.call0(&navigator).ok())
        } else {
            get(&navigator, "setAppBadge")
                .and_then(|f| f.dyn_into::<Function>().ok())
                .and_then(|f| f.call1(&navigator, &f64::from(unread).into()).ok())
        };
        if let Some(promise) = call.and_then(|p| p.dyn_into::<Promise>().ok()) {
            wasm_bindgen_futures::spawn_local(async move {
                let _ = JsFuture::from(promise).await;
            });
        }
    }
}

/// Whether the browser lets this page show notifications.
pub fn permission() -> Permission {
    #[cfg(target_arch = "wasm32")]
    return browser::permission();
    #[cfg(not(target_arch = "wasm32"))]
    Permission::Unsupported
}

/// Asks the browser's permission to show notifications (the browser asks the person, unless it
/// was answered before); the answer.
pub async fn ask() -> Permission {
    #[cfg(target_arch = "wasm32")]
    return browser::ask().await;
    #[cfg(not(target_arch = "wasm32"))]
    Permission::Unsupported
}

/// A system notification for the conversation with `peer`; clicking it brings the tab forward
/// and opens that conversation.
fn show(title: &str, body: &str, peer: SessionId) {
    let open = move || {
        if let Some(open) = OPENER.with(|o| o.borrow().clone()) {
            open(peer);
        }
    };
    #[cfg(target_arch = "wasm32")]
    browser::show(title, body, &peer.to_string(), open);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (title, body, open);
}

fn show_unread(unread: u32) {
    #[cfg(target_arch = "wasm32")]
    browser::show_unread(&title(unread), unread);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = unread;
}

#[cfg(test)]
mod tests {
    use super::title;

    #[test]
    fn the_title_counts_unread_messages_and_is_plain_at_zero() {
        assert_eq!(title(0), "Hush");
        assert_eq!(title(1), "(1) Hush");
        assert_eq!(title(3), "(3) Hush");
        assert_eq!(title(u32::MAX), format!("({}) Hush", u32::MAX));
    }
}
