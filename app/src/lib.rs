//! Hush in the browser: the Leptos client-side-rendered app.
//!
//! Everything shown is text; nothing is HTML built from data.

mod links;
pub mod messaging;
mod nav;
pub mod net;
pub mod platform;
mod pwa;
mod qr;
mod screens;
pub mod session;
pub mod storage;
mod tabs;
mod when;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::screens::{
    ConfirmPhrase, ConversationView, Home, OtherTab, Profile, Restore, Settings, ShowPhrase, Ui, Unlock, Welcome,
};
use crate::session::{AppState, Screen};
use crate::tabs::Tab;
use hush_client::account::Theme;

/// The root component.
#[component]
pub fn App() -> impl IntoView {
    let app = AppState::new();
    let ui = Ui::new();
    provide_context(app);
    provide_context(ui);
    let tab = tabs::start(app);
    spawn_local(session::start(app));
    session::follow_open_conversation(app);
    idle_lock(app);
    nav::install(app, ui);
    let update = pwa::register();

    // The theme of the unlocked account; kept (in memory) while locked, and across the reload
    // that locking makes.
    if let Some(relocked) = session::relocked() {
        ui.theme.set(relocked.theme);
    }
    Effect::new(move |_| {
        app.revision.track();
        if let Some(account) = app.account() {
            ui.theme.set(account.theme);
        }
    });
    let theme_class = move || match ui.theme.get() {
        Theme::Light => "theme-light",
        Theme::Dark => "theme-dark",
        Theme::System => "theme-system",
    };

    // When the screen changes, focus moves to its first field (marked `data-autofocus`) or its
    // heading, so keyboard and screen-reader users start where the new screen starts.
    Effect::new(move |previous: Option<(Screen, screens::UnlockPanel, Tab)>| {
        let now = (app.screen.get(), ui.unlock_panel.get(), tab.get());
        if previous != Some(now) {
            request_animation_frame(focus_screen);
        }
        now
    });

    view! {
        <div class=theme_class>
            <main>
                <pwa::UpdateBanner update=update />
                <header class="brand">
                    <h1>"Hush"</h1>
                    <p class="tagline">"Private messages, right in your browser."</p>
                    <screens::ConnectionStatus />
                </header>
                {move || match tab.get() {
                    Tab::Asking => view! { <p class="note" role="status">"Opening…"</p> }.into_any(),
                    Tab::Elsewhere => view! { <OtherTab tab=tab /> }.into_any(),
                    Tab::Active => match app.screen.get() {
                        Screen::Loading => view! { <p class="note" role="status">"Opening…"</p> }.into_any(),
                        Screen::Welcome => view! { <Welcome /> }.into_any(),
                        Screen::ShowPhrase => view! { <ShowPhrase /> }.into_any(),
                        Screen::ConfirmPhrase => view! { <ConfirmPhrase /> }.into_any(),
                        Screen::Restore => view! { <Restore /> }.into_any(),
                        Screen::Profile => view! { <Profile /> }.into_any(),
                        Screen::Unlock => view! { <Unlock /> }.into_any(),
                        Screen::Home => view! { <Home /> }.into_any(),
                        Screen::Conversation => view! { <ConversationView /> }.into_any(),
                        Screen::Settings => view! { <Settings /> }.into_any(),
                    },
                }}
            </main>
        </div>
    }
}

/// Focuses the current screen's `[data-autofocus]` element, else its first heading.
fn focus_screen() {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let find = |selector: &str| document.query_selector(selector).ok().flatten();
    let Some(target) = find("main [data-autofocus]").or_else(|| find("main h2")) else { return };
    if target.tag_name() == "H2" {
        let _ = target.set_attribute("tabindex", "-1");
    }
    if let Ok(element) = target.dyn_into::<web_sys::HtmlElement>() {
        let _ = element.focus();
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
            let Some(minutes) = app.account().map(|a| a.idle_lock_minutes) else { return };
            if minutes > 0 && now_ms() - last_activity.get_value() > f64::from(minutes) * 60_000.0 {
                app.lock_because(session::Locked::Idle);
            }
        },
        std::time::Duration::from_secs(10),
    );
}

use crate::platform::now_ms;
