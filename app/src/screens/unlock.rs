//! The unlock screen: the passphrase; "Forgot passphrase?" (the recovery phrase opens the vault
//! and sets a new passphrase, history kept); and deleting the account without unlocking.

use crypto_core::mnemonic;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use zeroize::Zeroizing;

use super::onboarding::{NewPassphrase, check_new_passphrase, phrase_error_message};
use super::{Notice, Problem, UnlockPanel, clear, secret_value, use_ui};
use crate::session::{self, Screen, use_app};

/// The account exists and is locked.
#[component]
pub fn Unlock() -> impl IntoView {
    let ui = use_ui();
    move || match ui.unlock_panel.get() {
        UnlockPanel::Passphrase => view! { <Passphrase /> }.into_any(),
        UnlockPanel::Forgot => view! { <Forgot /> }.into_any(),
        UnlockPanel::Delete => view! { <DeleteLocked /> }.into_any(),
    }
}

#[component]
fn Passphrase() -> impl IntoView {
    let app = use_app();
    let ui = use_ui();
    let pass = NodeRef::<leptos::html::Input>::new();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        app.notice.set(None);
        error.set(None);
        let p = secret_value(pass);
        spawn_local(async move {
            match session::unlock(app, p).await {
                Ok(()) => clear(&[pass]),
                Err(e) => {
                    error.set(Some(e.to_string()));
                    // Ready for another try.
                    if let Some(el) = pass.try_get_untracked().flatten() {
                        el.select();
                    }
                }
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card" on:submit=submit aria-labelledby="unlock-title">
            <h2 id="unlock-title">"Unlock Hush"</h2>
            <label for="unlock-passphrase">"Passphrase"</label>
            <input id="unlock-passphrase" type="password" autocomplete="current-password" required
                node_ref=pass data-autofocus="" />
            <Problem error=error />
            <Notice />
            <div class="row">
                <button class="primary" type="submit" prop:disabled=move || busy.get()>
                    {move || if busy.get() { "Unlocking…" } else { "Unlock" }}
                </button>
            </div>
            <div class="row links">
                <button class="link" type="button" on:click=move |_| ui.unlock_panel.set(UnlockPanel::Forgot)>
                    "Forgot passphrase?"
                </button>
                <button class="link" type="button" on:click=move |_| ui.unlock_panel.set(UnlockPanel::Delete)>
                    "Delete account on this device"
                </button>
            </div>
        </form>
    }
}

/// The recovery phrase opens the vault; a new passphrase replaces the forgotten one.
#[component]
fn Forgot() -> impl IntoView {
    let app = use_app();
    let ui = use_ui();
    let phrase = NodeRef::<leptos::html::Textarea>::new();
    let pass = NodeRef::<leptos::html::Input>::new();
    let again = NodeRef::<leptos::html::Input>::new();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let words = Zeroizing::new(phrase.try_get_untracked().flatten().map(|el| el.value()).unwrap_or_default());
        if let Err(e) = mnemonic::decode_seed(&words) {
            return error.set(Some(phrase_error_message(e)));
        }
        let (p, a) = (secret_value(pass), secret_value(again));
        if let Err(problem) = check_new_passphrase(&p, &a) {
            return error.set(Some(problem.into()));
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match session::recover_with_phrase(app, words, p).await {
                Ok(()) => {
                    ui.unlock_panel.set(UnlockPanel::Passphrase);
                    app.notice.set(Some("Your new passphrase is set.".into()));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let back = move |_| ui.unlock_panel.set(UnlockPanel::Passphrase);
    view! {
        <form class="card" on:submit=submit aria-labelledby="forgot-title">
            <h2 id="forgot-title">"Forgot your passphrase?"</h2>
            <p>"Your recovery phrase opens Hush on this device. Then choose a new passphrase; "
               "your conversations and messages stay as they are."</p>
            <label for="forgot-phrase">"Recovery phrase"</label>
            <textarea id="forgot-phrase" rows="3" autocomplete="off" autocapitalize="none" spellcheck="false" required
                node_ref=phrase data-autofocus=""></textarea>
            <NewPassphrase pass=pass again=again label="New passphrase" id="forgot-passphrase" />
            <Problem error=error />
            <div class="row">
                <button class="primary" type="submit" prop:disabled=move || busy.get()>
                    {move || if busy.get() { "Opening…" } else { "Recover" }}
                </button>
                <button class="secondary" type="button" on:click=back>"Back"</button>
            </div>
        </form>
    }
}

/// Deleting the account on this device without unlocking it, after typing DELETE.
#[component]
fn DeleteLocked() -> impl IntoView {
    let app = use_app();
    let ui = use_ui();
    let confirm = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if confirm.get().trim() != "DELETE" {
            return error.set(Some("Type DELETE to confirm.".into()));
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            session::delete_account(app).await;
            if app.screen.get_untracked() == Screen::Welcome {
                ui.unlock_panel.set(UnlockPanel::Passphrase);
            } else {
                error.set(app.notice.get_untracked().or_else(|| Some("The account could not be deleted.".into())));
                app.notice.set(None);
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card danger" on:submit=submit aria-labelledby="delete-locked-title">
            <h2 id="delete-locked-title">"Delete account on this device"</h2>
            <p>"This erases everything Hush keeps in this browser: your account and your messages. "
               "Your recovery phrase can restore the account later; without it, the account is gone."</p>
            <label for="delete-locked-confirm">"Type DELETE to confirm"</label>
            <input id="delete-locked-confirm" type="text" autocomplete="off" autocapitalize="characters"
                spellcheck="false" data-autofocus=""
                prop:value=move || confirm.get() on:input=move |ev| confirm.set(event_target_value(&ev)) />
            <Problem error=error />
            <div class="row">
                <button class="danger" type="submit" prop:disabled=move || busy.get()>"Delete account"</button>
                <button class="secondary" type="button" on:click=move |_| ui.unlock_panel.set(UnlockPanel::Passphrase)>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}
