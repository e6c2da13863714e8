//! One running tab per browser. Hush unlocked in two tabs would poll and write twice, so only the
//! tab holding the Web Lock `hush-active` (`navigator.locks`) runs; another shows "Hush is open in
//! another tab" with "Use here", which takes the lock over: the tab that had it locks itself and
//! shows the same. A tab that waits gets the lock by itself once the other one closes. Where the
//! browser has no Web Locks, every tab runs.
//!
//! This is the only module that uses the Web Locks API.

use leptos::prelude::*;

use crate::session::AppState;

/// This tab's standing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    /// Asking for the lock (briefly, at start).
    Asking,
    /// This tab runs Hush.
    Active,
    /// Another tab runs Hush. (Only the browser build has other tabs.)
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    Elsewhere,
}

/// The name of the lock.
#[cfg(target_arch = "wasm32")]
const LOCK: &str = "hush-active";

/// Asks for the lock; resolves to the tab's standing, which changes as other tabs come and go.
/// A page loaded because this tab locked itself takes the lock back at once: reloading let it go,
/// and a tab waiting for it must not keep it (see `AppState::lock_because`).
pub fn start(app: AppState) -> RwSignal<Tab> {
    let tab = RwSignal::new(Tab::Asking);
    #[cfg(target_arch = "wasm32")]
    {
        let steal = crate::session::relocked().is_some_and(|r| r.why != crate::session::Locked::Elsewhere);
        if wasm::request(app, tab, steal) {
            // Granted at once unless another tab holds it (a reloading tab's lock is released a
            // moment after the new page asks, so wait a little before saying so).
            set_timeout(
                move || {
                    if tab.get_untracked() == Tab::Asking {
                        tab.set(Tab::Elsewhere);
                    }
                },
                std::time::Duration::from_millis(1_000),
            );
            return tab;
        }
    }
    let _ = app;
    tab.set(Tab::Active);
    tab
}

/// Takes the lock over from the tab that holds it.
pub fn use_here(app: AppState, tab: RwSignal<Tab>) {
    #[cfg(target_arch = "wasm32")]
    if wasm::request(app, tab, true) {
        return;
    }
    let _ = app;
    tab.set(Tab::Active);
}

#[cfg(target_arch = "wasm32")]
mod wasm {
    use std::cell::Cell;

    use js_sys::{Function, Object, Promise, Reflect};
    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};

    use super::{LOCK, Tab};
    use crate::session::{self, AppState};

    thread_local! {
        /// Whether a request waits in the lock's queue (so losing the lock does not add another).
        static QUEUED: Cell<bool> = const { Cell::new(false) };
    }

    fn lock_manager() -> Option<(JsValue, Function)> {
        let navigator = web_sys::window()?.navigator();
        let locks = Reflect::get(&navigator, &"locks".into()).ok().filter(|l| l.is_object())?;
        let request = Reflect::get(&locks, &"request".into()).ok()?.dyn_into::<Function>().ok()?;
        Some((locks, request))
    }

    /// `navigator.locks.request(LOCK, {steal}, …)`: while granted, this tab is active and holds the
    /// lock until it goes away or another tab steals it. Returns false without Web Locks.
    pub(super) fn request(app: AppState, tab: RwSignal<Tab>, steal: bool) -> bool {
        let Some((locks, request)) = lock_manager() else { return false };
        let options = Object::new();
        if steal && Reflect::set(&options, &"steal".into(), &JsValue::TRUE).is_err() {
            return false;
        }
        let granted = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
            if !steal {
                QUEUED.with(|q| q.set(false));
            }
            let before = tab.get_untracked();
            tab.set(Tab::Active);
            // The other tab may have made or deleted the account meanwhile.
            if before == Tab::Elsewhere && app.unlocked().is_none() {
                leptos::task::spawn_local(session::start(app));
            }
            // Never settles: the lock is held for as long as this page lives.
            Promise::new(&mut |_, _| {}).into()
        });
        let Ok(held) = request.call3(&locks, &LOCK.into(), &options, &granted) else { return false };
        let Ok(held) = held.dyn_into::<Promise>() else { return false };
        // The request's promise rejects when another tab steals the lock.
        let lost = Closure::<dyn FnMut(JsValue)>::new(move |_| lose(app, tab));
        let _ = held.catch(&lost);
        lost.forget();
        if !steal {
            QUEUED.with(|q| q.set(true));
        }
        true
    }

    fn lose(app: AppState, tab: RwSignal<Tab>) {
        if app.unlocked().is_some() {
            app.lock_because(session::Locked::Elsewhere);
        }
        tab.set(Tab::Elsewhere);
        if !QUEUED.with(Cell::get) {
            request(app, tab, false);
        }
    }
}
