//! Hush in the browser: the Leptos client-side-rendered app.
//!
//! Everything shown is text; nothing is HTML built from data.

mod avatar;
mod clipboard;
pub mod communities;
mod files;
pub mod i18n;
mod links;
pub mod messaging;
mod nav;
pub mod net;
mod notify;
pub mod platform;
mod pwa;
mod qr;
mod scan;
mod screens;
pub mod session;
pub mod storage;
mod tabs;
mod voice;
mod when;
mod words;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::{Text, t};
use crate::screens::{
    ChooseName, ConfirmPhrase, ConversationView, Home, OtherTab, Profile, Restore, RoomView, Settings, ShowPhrase, Ui,
    Unlock, Welcome,
};
use crate::session::{AppState, Screen, use_app};
use crate::tabs::Tab;
use crypto_core::identity::SessionId;
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
    let wide = wide_window();

    // The unread total in the tab's title and on the app's badge, after every change of the list
    // (and "Hush" again once locked); a notification's click opens its conversation.
    Effect::new(move |_| {
        app.conversations.track();
        app.revision.track();
        notify::count_unread(app.unlocked());
    });
    notify::set_opener(move |peer| open_conversation(app, peer));

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

    // When the screen changes (or another conversation opens beside the list), focus moves to its
    // first field (marked `data-autofocus`) or its heading, so keyboard and screen-reader users
    // start where the new screen starts.
    Effect::new(move |previous: Option<Place>| {
        let now = (app.screen.get(), ui.unlock_panel.get(), tab.get(), app.open_peer.get(), app.open_room.get());
        if previous.as_ref() != Some(&now) {
            request_animation_frame(focus_screen);
        }
        now
    });

    // Home and a conversation share the shell (side by side in a wide window); the other screens
    // are pages of their own. Moving between Home and a conversation keeps the shell, and with it
    // the list as it was.
    let place = Memo::new(move |_| match app.screen.get() {
        Screen::Home | Screen::Conversation | Screen::Room => None,
        other => Some(other),
    });
    let in_chat = Memo::new(move |_| matches!(app.screen.get(), Screen::Conversation | Screen::Room));
    let unlocked_screen = Memo::new(move |_| {
        matches!(app.screen.get(), Screen::Home | Screen::Conversation | Screen::Room | Screen::Settings)
    });
    // Inside a conversation on a phone every line counts: no brand, only the connection if it is
    // not simply connected.
    let branded = move || !in_chat.get() || wide.get();

    view! {
        <div class=theme_class>
            <main class:shell=move || place.get().is_none() class:in-chat=in_chat>
                <pwa::UpdateBanner update=update />
                <header class="brand" class:compact=unlocked_screen class:bare=move || !branded()>
                    {move || branded().then(|| view! { <h1>{t(Text::AppName)}</h1> })}
                    {move || (!unlocked_screen.get()).then(|| view! {
                        <p class="tagline">{t(Text::AppTagline)}</p>
                    })}
                    <screens::ConnectionStatus />
                </header>
                {move || match tab.get() {
                    Tab::Asking => view! { <p class="note" role="status">{t(Text::AppOpening)}</p> }.into_any(),
                    Tab::Elsewhere => view! { <OtherTab tab=tab /> }.into_any(),
                    Tab::Active => match place.get() {
                        None | Some(Screen::Home | Screen::Conversation | Screen::Room) => view! { <Shell wide=wide /> }.into_any(),
                        Some(Screen::Loading) => view! { <p class="note" role="status">{t(Text::AppOpening)}</p> }.into_any(),
                        Some(Screen::Welcome) => view! { <Welcome /> }.into_any(),
                        Some(Screen::ShowPhrase) => view! { <ShowPhrase /> }.into_any(),
                        Some(Screen::ConfirmPhrase) => view! { <ConfirmPhrase /> }.into_any(),
                        Some(Screen::Restore) => view! { <Restore /> }.into_any(),
                        Some(Screen::Profile) => view! { <Profile /> }.into_any(),
                        Some(Screen::ChooseName) => view! { <ChooseName /> }.into_any(),
                        Some(Screen::Unlock) => view! { <Unlock /> }.into_any(),
                        Some(Screen::Settings) => view! { <Settings /> }.into_any(),
                    },
                }}
            </main>
        </div>
    }
}

/// Where the person is, as far as focus cares: the screen, the unlock panel, the tab, the open
/// conversation and the open room.
type Place = (Screen, screens::UnlockPanel, Tab, Option<SessionId>, Option<String>);

/// Home and the open conversation: side by side in a wide window, one at a time on a phone.
#[component]
fn Shell(
    /// Whether the window is wide enough for both.
    wide: Signal<bool>,
) -> impl IntoView {
    let app = use_app();
    let in_chat = Memo::new(move |_| matches!(app.screen.get(), Screen::Conversation | Screen::Room));
    let in_room = Memo::new(move |_| app.screen.get() == Screen::Room);
    let room = Memo::new(move |_| app.open_room.get());
    let list_shown = Memo::new(move |_| wide.get() || !in_chat.get());
    let chat_shown = Memo::new(move |_| wide.get() || in_chat.get());
    let peer = Memo::new(move |_| app.open_peer.get());
    view! {
        <div class="panes">
            {move || list_shown.get().then(|| view! {
                <div class="list-pane">
                    <Home />
                </div>
            })}
            {move || chat_shown.get().then(|| view! {
                <div class="chat-pane">
                    // A conversation opened in place of another starts afresh (its draft, its
                    // scroll position).
                    {move || if in_room.get() {
                        room.track();
                        view! { <RoomView /> }.into_any()
                    } else if in_chat.get() {
                        peer.track();
                        view! { <ConversationView /> }.into_any()
                    } else {
                        view! {
                            <section class="card empty-chat">
                                <p class="note">{t(Text::AppChooseConversation)}</p>
                            </section>
                        }
                        .into_any()
                    }}
                </div>
            })}
        </div>
    }
}

/// From this width (CSS pixels) Home and a conversation are side by side.
const WIDE: f64 = 900.0;

/// Whether the window is at least [`WIDE`], kept current as it is resized.
fn wide_window() -> Signal<bool> {
    let width = || web_sys::window().and_then(|w| w.inner_width().ok()).and_then(|w| w.as_f64()).unwrap_or(0.0);
    let wide = RwSignal::new(width() >= WIDE);
    let _ = window_event_listener(leptos::ev::resize, move |_| {
        let now = width() >= WIDE;
        if wide.get_untracked() != now {
            wide.set(now);
        }
    });
    wide.into()
}

/// Opens the conversation with `peer` (a notification was clicked), if Hush is unlocked.
fn open_conversation(app: AppState, peer: SessionId) {
    if app.unlocked().is_some() {
        screens::open_conversation(app, peer);
    }
}

/// Focuses the current screen's `[data-autofocus]` element, else its first heading; beside the
/// list, the open conversation's.
fn focus_screen() {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    // Never inside a closed dialog (the picture viewer waits in the page, closed, with its own
    // first button).
    let find =
        |selector: &str| document.query_selector(&format!("{selector}:not(dialog:not([open]) *)")).ok().flatten();
    let Some(target) = find(".chat-pane [data-autofocus]")
        .or_else(|| find("main [data-autofocus]"))
        .or_else(|| find(".chat-pane h2"))
        .or_else(|| find("main h2"))
    else {
        return;
    };
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
