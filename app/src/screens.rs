//! The screens. Everything shown is text; nothing is HTML built from data.
//!
//! `onboarding` (welcome, phrase, confirmation, restore, profile), `unlock` (with "Forgot
//! passphrase?" and deleting the account while locked), `home` (the conversation list and
//! starting a conversation), `conversation` (one conversation, its message request panel and the
//! composer), `settings`, and `other_tab` ("Hush is open in another tab"). What they share is
//! here: notices and errors, secret text, times.

mod conversation;
mod home;
mod onboarding;
mod other_tab;
mod settings;
mod unlock;

pub use conversation::ConversationView;
pub use home::Home;
use leptos::prelude::*;
pub use onboarding::{ConfirmPhrase, Profile, Restore, ShowPhrase, Welcome};
pub use other_tab::OtherTab;
pub use settings::Settings;
pub use unlock::Unlock;
use zeroize::Zeroizing;

use hush_client::account::{Strength, Theme};
use hush_client::network::Connection;

use crate::platform::local_time;
use crate::session::use_app;
use crate::when as chat;

/// The parts of the unlock screen; Back returns from the others to the passphrase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnlockPanel {
    /// Unlock with the passphrase.
    Passphrase,
    /// "Forgot passphrase?": the recovery phrase and a new passphrase.
    Forgot,
    /// Delete the account on this device, without unlocking.
    Delete,
}

/// What the screens share besides `AppState`.
#[derive(Clone, Copy, Debug)]
pub struct Ui {
    /// The unlock screen's panel.
    pub unlock_panel: RwSignal<UnlockPanel>,
    /// The theme last chosen in this tab. It is kept in memory only (nothing but the wrapped key
    /// is stored unencrypted), so it stays while the tab is locked and a fresh tab follows the
    /// system until unlocked.
    pub theme: RwSignal<Theme>,
}

impl Ui {
    /// Fresh state.
    pub fn new() -> Ui {
        Ui { unlock_panel: RwSignal::new(UnlockPanel::Passphrase), theme: RwSignal::new(Theme::System) }
    }
}

impl Default for Ui {
    fn default() -> Self {
        Self::new()
    }
}

/// The shared screen state from context.
pub fn use_ui() -> Ui {
    expect_context::<Ui>()
}

/// The app-wide notice line (errors and confirmations not tied to one form), announced to
/// screen readers.
#[component]
pub fn Notice() -> impl IntoView {
    let app = use_app();
    view! {
        <Show when=move || app.notice.get().is_some()>
            <p class="notice" role="alert">{move || sentence(&app.notice.get().unwrap_or_default())}</p>
        </Show>
    }
}

/// The connection, in the header while unlocked: nothing while connected; otherwise what is
/// happening, with a short explanation. "Connecting…" shows only when it lasts.
#[component]
pub fn ConnectionStatus() -> impl IntoView {
    let app = use_app();
    let connection = move || {
        app.screen.track();
        app.revision.track();
        let status = app.net.get();
        app.unlocked().map(|_| status.map_or(Connection::Connecting, |s| s.connection))
    };
    let shown = RwSignal::new(None::<Connection>);
    Effect::new(move |_| match connection() {
        Some(Connection::Connecting) => set_timeout(
            move || {
                if untrack(connection) == Some(Connection::Connecting) {
                    shown.set(Some(Connection::Connecting));
                }
            },
            std::time::Duration::from_millis(2_000),
        ),
        other => shown.set(other.filter(|c| *c != Connection::Connected)),
    });
    let explanation = |c: Connection| match c {
        Connection::Connecting => "Building private paths.",
        Connection::Offline => "Cannot reach the relay.",
        Connection::ClockOutOfSync => "Set this device's clock right to send and receive.",
        Connection::RelayRefused => "Its node list is not the network's: nothing is sent through it.",
        Connection::Connected => "",
    };
    view! {
        <p class="connection" role="status" class:shown=move || shown.get().is_some()>
            {move || shown.get().map(|c| view! {
                <span class=format!("dot {}", match c { Connection::Offline | Connection::RelayRefused => "offline", Connection::ClockOutOfSync => "clock", _ => "connecting" })></span>
                <strong>{c.label()}</strong>
                " "
                <span class="why">{explanation(c)}</span>
            })}
        </p>
    }
}

/// An error shown next to the action that caused it, announced to screen readers.
#[component]
pub fn Problem(
    /// The error, if any.
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    view! {
        <Show when=move || error.get().is_some()>
            <p class="error" role="alert">{move || sentence(&error.get().unwrap_or_default())}</p>
        </Show>
    }
}

/// `text` as a sentence: a capital first letter and a full stop (messages from lower layers read
/// like "that passphrase does not unlock this account").
pub fn sentence(text: &str) -> String {
    hush_client::Sentence(text).to_string()
}

/// A secret shown on screen (a recovery phrase). It is kept in a `Zeroizing<String>`, wiped when
/// the view goes away, and handed to the page as it is, with no copy left in Rust's memory (the
/// page's own copy is out of Rust's reach).
#[component]
pub fn SecretText(
    /// The secret.
    text: Zeroizing<String>,
    /// The `data-testid`.
    testid: &'static str,
) -> impl IntoView {
    let node = NodeRef::<leptos::html::P>::new();
    let text = StoredValue::new(text);
    node.on_load(move |el| text.with_value(|t| el.set_text_content(Some(t))));
    view! { <p class="mono phrase" data-testid=testid node_ref=node></p> }
}

/// The value of a secret input (a passphrase, a recovery phrase), in a `Zeroizing<String>`.
pub fn secret_value(node: NodeRef<leptos::html::Input>) -> Zeroizing<String> {
    Zeroizing::new(node.try_get_untracked().flatten().map(|el| el.value()).unwrap_or_default())
}

/// Empties secret inputs.
pub fn clear(nodes: &[NodeRef<leptos::html::Input>]) {
    for node in nodes {
        if let Some(el) = node.try_get_untracked().flatten() {
            el.set_value("");
        }
    }
}

/// A passphrase's strength as the person types it (`None` while empty), without keeping the text.
pub fn strength_of(ev: &leptos::ev::Event) -> Option<Strength> {
    let typed = Zeroizing::new(event_target_value(ev));
    (!typed.is_empty()).then(|| Strength::of(&typed))
}

fn now_ms() -> u64 {
    crate::platform::now_ms() as u64
}

/// A message's time: the clock today, with the date before today.
fn clock(timestamp: u64) -> String {
    chat::time_label(local_time(now_ms()), local_time(timestamp), true)
}

/// A conversation's last activity for the list: the clock today, the date before.
fn day(timestamp: u64) -> String {
    chat::time_label(local_time(now_ms()), local_time(timestamp), false)
}
