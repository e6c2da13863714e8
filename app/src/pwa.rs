//! The installable app: registers the service worker, and announces a new version, which is
//! applied only when the person agrees.

use leptos::prelude::*;

use crate::i18n::{Text, t};

/// Whether a new version is installed and waiting.
#[derive(Clone, Copy, Debug)]
pub struct Update {
    /// True when a new version waits for the person's consent.
    pub ready: RwSignal<bool>,
}

/// Registers `sw.js` and watches for a waiting update.
pub fn register() -> Update {
    let update = Update { ready: RwSignal::new(false) };
    #[cfg(target_arch = "wasm32")]
    wasm::register(update);
    update
}

/// Tells the waiting version to take over; the page reloads when it has.
pub fn apply(update: Update) {
    update.ready.set(false);
    #[cfg(target_arch = "wasm32")]
    wasm::apply();
}

#[cfg(target_arch = "wasm32")]
mod wasm {
    use leptos::prelude::*;

    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{ServiceWorkerContainer, ServiceWorkerRegistration, ServiceWorkerState};

    use super::Update;

    thread_local! {
        /// Set when the person asked for the update: only then does a controller change reload.
        static APPLYING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    fn controlled(container: &ServiceWorkerContainer) -> bool {
        container.controller().is_some()
    }

    fn container() -> Option<ServiceWorkerContainer> {
        let navigator = web_sys::window()?.navigator();
        // Absent where service workers are unavailable (e.g. some private modes).
        js_sys::Reflect::has(&navigator, &"serviceWorker".into()).ok().filter(|&b| b)?;
        Some(navigator.service_worker())
    }

    pub(super) fn register(update: Update) {
        let Some(container) = container() else { return };
        // Reload once the new version the person agreed to has taken over (not when the very
        // first version starts controlling the page).
        let on_change = Closure::<dyn FnMut()>::new(move || {
            if APPLYING.with(std::cell::Cell::get)
                && let Some(window) = web_sys::window()
            {
                let _ = window.location().reload();
            }
        });
        container.set_oncontrollerchange(Some(on_change.as_ref().unchecked_ref()));
        on_change.forget();

        leptos::task::spawn_local(async move {
            let Ok(registration) = JsFuture::from(container.register("sw.js")).await else { return };
            let registration: ServiceWorkerRegistration = registration.unchecked_into();
            if registration.waiting().is_some() && controlled(&container) {
                update.ready.set(true);
            }
            let reg = registration.clone();
            let watched = container.clone();
            let on_found = Closure::<dyn FnMut()>::new(move || {
                let container = watched.clone();
                let Some(installing) = reg.installing() else { return };
                let worker = installing.clone();
                let on_state = Closure::<dyn FnMut()>::new(move || {
                    if worker.state() == ServiceWorkerState::Installed && controlled(&container) {
                        update.ready.set(true);
                    }
                });
                installing.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
                on_state.forget();
            });
            registration.set_onupdatefound(Some(on_found.as_ref().unchecked_ref()));
            on_found.forget();
        });
    }

    pub(super) fn apply() {
        let Some(container) = container() else { return };
        APPLYING.with(|a| a.set(true));
        leptos::task::spawn_local(async move {
            let Ok(registration) = JsFuture::from(
                container.ready().unwrap_or_else(|_| js_sys::Promise::resolve(&wasm_bindgen::JsValue::NULL)),
            )
            .await
            else {
                return;
            };
            let registration: ServiceWorkerRegistration = registration.unchecked_into();
            if let Some(waiting) = registration.waiting() {
                let _ = waiting.post_message(&"apply-update".into());
            }
        });
    }
}

/// The banner that offers a waiting update.
#[component]
pub fn UpdateBanner(
    /// The update state.
    update: Update,
) -> impl IntoView {
    view! {
        <Show when=move || update.ready.get()>
            <div class="update" role="status">
                <span>{t(Text::AppUpdateReady)}</span>
                <button class="primary" type="button" on:click=move |_| apply(update)>{t(Text::AppUpdateNow)}</button>
                <button class="secondary" type="button" on:click=move |_| update.ready.set(false)>{t(Text::AppUpdateLater)}</button>
            </div>
        </Show>
    }
}
