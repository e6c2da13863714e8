//! The screens. Everything shown is text; nothing is HTML built from data.
//!
//! `onboarding` (welcome, phrase, confirmation, restore, profile), `unlock` (with "Forgot
//! passphrase?" and deleting the account while locked), `home` (the conversation list and
//! starting a conversation), `community` (the rooms joined, joining, one room), `conversation` (one conversation, its message request panel and the
//! composer), `settings`, and `other_tab` ("Hush is open in another tab"). What they share is
//! here: notices and errors, menus, confirmations, secret text, times, the pause after typing, and
//! the engine's enums (connection, passphrase strength) in words.

mod attachments;
mod community;
mod conversation;
mod home;
mod invitation;
mod onboarding;
mod other_tab;
mod settings;
mod unlock;

pub use community::RoomView;
pub use conversation::ConversationView;
pub use home::{Home, open_conversation};
use leptos::prelude::*;
pub use onboarding::{ChooseName, ConfirmPhrase, Profile, Restore, ShowPhrase, Welcome};
pub use other_tab::OtherTab;
pub use settings::Settings;
pub use unlock::Unlock;
use zeroize::Zeroizing;

use hush_client::account::{Strength, Theme};
use hush_client::network::Connection;

use crate::i18n::{Text, t};
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
        Connection::Connecting => t(Text::ConnectionWhyConnecting),
        Connection::Offline => t(Text::ConnectionWhyOffline),
        Connection::ClockOutOfSync => t(Text::ConnectionWhyClock),
        Connection::RelayRefused => t(Text::ConnectionWhyRelayRefused),
        Connection::Connected => "",
    };
    view! {
        <p class="connection" role="status" class:shown=move || shown.get().is_some()>
            {move || shown.get().map(|c| view! {
                <span class=format!("dot {}", match c { Connection::Offline | Connection::RelayRefused => "offline", Connection::ClockOutOfSync => "clock", _ => "connecting" })></span>
                <strong>{connection_label(c)}</strong>
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

/// A small menu under a button (a conversation's Options). It closes when one of its buttons is
/// chosen, on a click outside it, and on Escape, which gives focus back to its button.
#[component]
pub fn Menu(
    /// The button's text.
    label: &'static str,
    /// The button's accessible name, when its text alone does not say whose menu it is.
    #[prop(optional, into)]
    name: Option<String>,
    /// The menu's buttons.
    children: Children,
) -> impl IntoView {
    let details = NodeRef::<leptos::html::Details>::new();
    let summary = NodeRef::<leptos::html::Summary>::new();
    let is_open = move || details.try_get_untracked().flatten().is_some_and(|d| d.open());
    let close = move |refocus: bool| {
        let Some(d) = details.try_get_untracked().flatten() else { return };
        if !d.open() {
            return;
        }
        d.set_open(false);
        if refocus && let Some(s) = summary.try_get_untracked().flatten() {
            let _ = s.focus();
        }
    };
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && is_open() {
            ev.prevent_default();
            close(true);
        }
    });
    let outside = window_event_listener(leptos::ev::pointerdown, move |ev| {
        let inside = details.try_get_untracked().flatten().is_some_and(|d| within(&d, ev.target()));
        if !inside {
            close(false);
        }
    });
    on_cleanup(move || {
        escape.remove();
        outside.remove();
    });
    // A chosen button closes the menu (after its own handler ran) and focus goes back to the
    // menu's button, where a confirmation that opens next returns it.
    let chosen = move |ev: leptos::ev::MouseEvent| {
        use wasm_bindgen::JsCast;
        let on_button = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("button").ok().flatten())
            .is_some();
        if on_button {
            close(true);
        }
    };
    view! {
        <details class="options" node_ref=details>
            <summary node_ref=summary aria-label=name>{label}</summary>
            <div class="options-panel" on:click=chosen>{children()}</div>
        </details>
    }
}

/// Whether an event's `target` is `element` or inside it.
fn within(element: &web_sys::HtmlElement, target: Option<web_sys::EventTarget>) -> bool {
    use wasm_bindgen::JsCast;
    target.and_then(|t| t.dyn_into::<web_sys::Node>().ok()).is_some_and(|node| element.contains(Some(&node)))
}

/// A question asked before an action that cannot simply be taken back (blocking, deleting,
/// leaving Hush for a link): a modal dialog with a heading, a sentence (the children) and two
/// buttons, "Cancel" (focused first) and the action's name. Escape cancels; focus goes back to
/// what had it before.
#[component]
pub fn Confirm(
    /// Whether the question is asked.
    #[prop(into)]
    open: Signal<bool>,
    /// The question, as the dialog's heading.
    title: &'static str,
    /// The action's name, on its button.
    action: &'static str,
    /// Whether the action destroys something (a red button).
    #[prop(optional)]
    danger: bool,
    /// Takes the action.
    #[prop(into)]
    on_confirm: Callback<()>,
    /// Hides the question (after Cancel, Escape, or the action).
    #[prop(into)]
    on_close: Callback<()>,
    /// The sentence that says what the action does.
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let cancel_button = NodeRef::<leptos::html::Button>::new();
    let id = next_id("confirm");
    let (title_id, text_id) = (format!("{id}-title"), format!("{id}-text"));
    let had_focus = StoredValue::new_local(None::<web_sys::Element>);
    Effect::new(move |_| {
        let wanted = open.get();
        let Some(el) = dialog.get() else { return };
        if wanted && !el.open() {
            had_focus.set_value(web_sys::window().and_then(|w| w.document()).and_then(|d| d.active_element()));
            if el.show_modal().is_ok()
                && let Some(button) = cancel_button.try_get_untracked().flatten()
            {
                let _ = button.focus();
            }
        } else if !wanted && el.open() {
            el.close();
            give_focus_back(had_focus.try_get_value().flatten());
        }
    });
    let confirm = move |_| {
        on_confirm.run(());
        on_close.run(());
    };
    view! {
        <dialog class="dialog" role="alertdialog" aria-modal="true" aria-labelledby=title_id
            aria-describedby=text_id node_ref=dialog
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    ev.prevent_default();
                    on_close.run(());
                }
            }
            on:close=move |_| {
                // The browser closed it on its own: hide it. (A close the app asked for has hidden
                // it already; a dialog opened again since stays; a screen that is gone has
                // nothing left to hide.)
                let closed = dialog.try_get_untracked().flatten().is_some_and(|d| !d.open());
                if closed && open.try_get_untracked() == Some(true) {
                    give_focus_back(had_focus.try_get_value().flatten());
                    on_close.run(());
                }
            }>
            <h2 id=title_id.clone()>{title}</h2>
            <div class="dialog-text" id=text_id.clone()>{children()}</div>
            <div class="row">
                <button class="secondary" type="button" node_ref=cancel_button on:click=move |_| on_close.run(())>
                    {t(Text::CommonCancel)}
                </button>
                <button class=if danger { "danger" } else { "primary" } type="button" on:click=confirm>{action}</button>
            </div>
        </dialog>
    }
}

/// A modal dialog shown while `open` is true: opened with `show_modal` (`on_open` runs before, to
/// reset what it shows; `on_shown` after, to put the focus in it), closed by Escape, by the
/// browser, or by `open` going false (`on_hidden` runs then); focus goes back to where it was
/// (kept in `had_focus` when given, which the caller may clear to keep the focus it moved).
#[component]
pub fn Modal(
    /// Whether it is shown.
    open: RwSignal<bool>,
    /// The id of its title.
    labelledby: &'static str,
    /// The id of the sentence that says what it is for.
    describedby: &'static str,
    /// Its `data-testid`.
    #[prop(optional)]
    testid: Option<&'static str>,
    /// A class beside `dialog`.
    #[prop(optional)]
    class: Option<&'static str>,
    /// Runs each time it opens, before it is shown.
    #[prop(optional, into)]
    on_open: Option<Callback<()>>,
    /// Runs each time it is shown.
    #[prop(optional, into)]
    on_shown: Option<Callback<()>>,
    /// Runs whenever `open` is false (on start too).
    #[prop(optional, into)]
    on_hidden: Option<Callback<()>>,
    /// Where the focus was when it opened.
    #[prop(optional)]
    had_focus: Option<StoredValue<Option<web_sys::Element>, LocalStorage>>,
    /// What it shows.
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let had_focus = had_focus.unwrap_or_else(|| StoredValue::new_local(None));
    Effect::new(move |_| {
        let wanted = open.get();
        let Some(el) = dialog.get() else { return };
        if wanted && !el.open() {
            had_focus.set_value(web_sys::window().and_then(|w| w.document()).and_then(|d| d.active_element()));
            if let Some(on_open) = on_open {
                on_open.run(());
            }
            if el.show_modal().is_ok()
                && let Some(on_shown) = on_shown
            {
                on_shown.run(());
            }
        } else if !wanted {
            if let Some(on_hidden) = on_hidden {
                on_hidden.run(());
            }
            if el.open() {
                el.close();
                give_focus_back(had_focus.try_get_value().flatten());
            }
        }
    });
    view! {
        <dialog class=class.map_or_else(|| "dialog".to_owned(), |c| format!("dialog {c}")) aria-labelledby=labelledby
            aria-describedby=describedby node_ref=dialog data-testid=testid
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    ev.prevent_default();
                    open.set(false);
                }
            }
            on:close=move |_| {
                // The browser closed it on its own: hide it (see `Confirm`).
                let closed = dialog.try_get_untracked().flatten().is_some_and(|d| !d.open());
                if closed && open.try_get_untracked() == Some(true) {
                    give_focus_back(had_focus.try_get_value().flatten());
                    open.set(false);
                }
            }>
            {children()}
        </dialog>
    }
}

/// Focuses `element` again after a dialog closed, if it is still on the screen; an element in a
/// menu that has closed since (Block, chosen in Options) gives it to the menu's button.
fn give_focus_back(element: Option<web_sys::Element>) {
    use wasm_bindgen::JsCast;
    let Some(element) = element else { return };
    let in_closed_menu = element.closest("details:not([open])").ok().flatten();
    let target =
        in_closed_menu.and_then(|menu| menu.query_selector(":scope > summary").ok().flatten()).unwrap_or(element);
    if target.is_connected()
        && let Ok(target) = target.dyn_into::<web_sys::HtmlElement>()
    {
        let _ = target.focus();
    }
}

/// How the connection's state reads (the engine's `Connection::label`, in the person's language).
pub fn connection_label(connection: Connection) -> &'static str {
    t(match connection {
        Connection::Connecting => Text::ConnectionConnecting,
        Connection::Connected => Text::ConnectionConnected,
        Connection::Offline => Text::ConnectionOffline,
        Connection::ClockOutOfSync => Text::ConnectionClock,
        Connection::RelayRefused => Text::ConnectionRelayRefused,
    })
}

/// What a passphrase's strength says (the engine's `Strength::hint`, in the person's language).
pub fn strength_hint(strength: Strength) -> &'static str {
    t(match strength {
        Strength::TooShort => Text::PassphraseTooShort,
        Strength::Weak => Text::PassphraseWeak,
        Strength::Fair => Text::PassphraseFair,
        Strength::Strong => Text::PassphraseStrong,
    })
}

/// A fresh id for elements that refer to each other (`aria-labelledby`), unique in the page.
fn next_id(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
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

/// A pause after the last of a burst of calls (typing): `then` runs what it is given once no
/// other call came for the pause's length, and only the last one given. Home's search and the
/// conversation's draft share it.
#[derive(Clone, Copy, Debug)]
pub struct Debounce {
    /// Which call is the latest.
    latest: StoredValue<u64>,
    /// How long the pause is, in milliseconds.
    ms: u64,
}

impl Debounce {
    /// A pause of `ms` milliseconds.
    pub fn new(ms: u64) -> Debounce {
        Debounce { latest: StoredValue::new(0), ms }
    }

    /// Runs `action` after the pause unless another call comes first (or `forget`).
    pub fn then(self, action: impl FnOnce() + 'static) {
        let stamp = self.forget();
        set_timeout(
            move || {
                if self.latest.try_get_value() == Some(stamp) {
                    action();
                }
            },
            std::time::Duration::from_millis(self.ms),
        );
    }

    /// Drops the action waiting, if any; returns the new latest stamp.
    pub fn forget(self) -> u64 {
        let stamp = self.latest.get_value().wrapping_add(1);
        self.latest.set_value(stamp);
        stamp
    }
}

fn now_ms() -> u64 {
    crate::platform::now_ms() as u64
}

/// A message's time: the clock today, with the date before today.
fn clock(timestamp: u64) -> String {
    chat::time_label(local_time(now_ms()), local_time(timestamp), timestamp, true)
}

/// A conversation's last activity for the list: the clock today, the date before.
fn day(timestamp: u64) -> String {
    chat::time_label(local_time(now_ms()), local_time(timestamp), timestamp, false)
}
