//! Hush in the browser: the Leptos client-side-rendered app.
//!
//! Everything shown is text; nothing is HTML built from data.

pub mod account;
pub mod chat;
pub mod client;
pub mod messaging;
pub mod net;
mod pwa;
mod qr;
mod screens;
pub mod session;
pub mod storage;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::account::Theme;
use crate::screens::{ConfirmPhrase, ConversationView, Home, Profile, Restore, Settings, ShowPhrase, Unlock, Welcome};
use crate::session::{AppState, Screen};

/// The root component.
#[component]
pub fn App() -> impl IntoView {
    let app = AppState::new();
    provide_context(app);
    spawn_local(session::start(app));
    idle_lock(app);
    let update = pwa::register();

    let theme_class = move || {
        app.revision.track();
        match app.current().map(|s| s.account.borrow().theme) {
            Some(Theme::Light) => "theme-light",
            Some(Theme::Dark) => "theme-dark",
            _ => "theme-system",
        }
    };
    view! {
        <div class=theme_class>
            <main>
                <pwa::UpdateBanner update=update />
                <header class="brand">
                    <h1>"Hush"</h1>
                    <p>"Private messages, right in your browser."</p>
                </header>
                {move || match app.screen.get() {
                    Screen::Loading => view! { <p class="note" role="status">"Opening…"</p> }.into_any(),
                    Screen::Welcome => view! { <Welcome /> <screens::Notice /> }.into_any(),
                    Screen::ShowPhrase => view! { <ShowPhrase /> }.into_any(),
                    Screen::ConfirmPhrase => view! { <ConfirmPhrase /> }.into_any(),
                    Screen::Restore => view! { <Restore /> }.into_any(),
                    Screen::Profile => view! { <Profile /> }.into_any(),
                    Screen::Unlock => view! { <Unlock /> }.into_any(),
                    Screen::Home => view! { <Home /> }.into_any(),
                    Screen::Conversation => view! { <ConversationView /> }.into_any(),
                    Screen::Settings => view! { <Settings /> }.into_any(),
                }}
            </main>
        </div>
    }
}

/// Locks the vault after the account's chosen minutes without a key press or pointer event.
fn idle_lock(app: AppState) {
    let last_activity = StoredValue::new(now_ms());
    let touch = move || last_activity.set_value(now_ms());
    let _ = window_event_listener(leptos::ev::keydown, move |_| touch());
    let _ = window_event_listener(leptos::ev::pointerdown, move |_| touch());
    let _ = set_interval_with_handle(
        move || {
            let Some(minutes) = app.current().map(|s| s.account.borrow().idle_lock_minutes) else { return };
            if minutes > 0 && now_ms() - last_activity.get_value() > f64::from(minutes) * 60_000.0 {
                app.lock();
                app.notice.set(Some("Locked after inactivity.".into()));
            }
        },
        std::time::Duration::from_secs(10),
    );
}

fn now_ms() -> f64 {
    js_sys_now()
}

#[cfg(target_arch = "wasm32")]
fn js_sys_now() -> f64 {
    js_sys::Date::now()
}

#[cfg(not(target_arch = "wasm32"))]
fn js_sys_now() -> f64 {
    0.0
}
