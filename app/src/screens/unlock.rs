//! The unlock screen: the passphrase; "Forgot passphrase?" (the recovery phrase opens the vault
//! and sets a new passphrase, history kept); and deleting the account without unlocking.

use crypto_core::mnemonic;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use zeroize::Zeroizing;

use super::onboarding::{NewPassphrase, check_new_passphrase, phrase_error_message};
use super::{Notice, Problem, UnlockPanel, clear, secret_value, use_ui};
use crate::i18n::{Text, t};
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
                    error.set(Some(crate::words::error_text(&e)));
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
            <h2 id="unlock-title">{t(Text::UnlockTitle)}</h2>
            <label for="unlock-passphrase">{t(Text::PassphraseLabel)}</label>
            <input id="unlock-passphrase" type="password" autocomplete="current-password" required
                node_ref=pass data-autofocus="" />
            <Problem error=error />
            <Notice />
            <div class="row">
                <button class="primary" type="submit" prop:disabled=move || busy.get()>
                    {move || t(if busy.get() { Text::UnlockUnlocking } else { Text::UnlockButton })}
                </button>
            </div>
            <div class="row links">
                <button class="link" type="button" on:click=move |_| ui.unlock_panel.set(UnlockPanel::Forgot)>
                    {t(Text::UnlockForgot)}
                </button>
                <button class="link" type="button" on:click=move |_| ui.unlock_panel.set(UnlockPanel::Delete)>
                    {t(Text::UnlockDelete)}
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
                    app.notice.set(Some(t(Text::UnlockNewSet).into()));
                }
                Err(e) => error.set(Some(crate::words::error_text(&e))),
            }
            busy.set(false);
        });
    };
    let back = move |_| ui.unlock_panel.set(UnlockPanel::Passphrase);
    view! {
        <form class="card" on:submit=submit aria-labelledby="forgot-title">
            <h2 id="forgot-title">{t(Text::UnlockForgotTitle)}</h2>
            <p>{t(Text::UnlockForgotText)}</p>
            <label for="forgot-phrase">{t(Text::CommonRecoveryPhrase)}</label>
            <textarea id="forgot-phrase" rows="3" autocomplete="off" autocapitalize="none" spellcheck="false" required
                node_ref=phrase data-autofocus=""></textarea>
            <NewPassphrase pass=pass again=again label=Text::PassphraseNew again_label=Text::PassphraseNewAgain
                id="forgot-passphrase" />
            <Problem error=error />
            <div class="row">
                <button class="primary" type="submit" prop:disabled=move || busy.get()>
                    {move || t(if busy.get() { Text::UnlockOpening } else { Text::UnlockRecover })}
                </button>
                <button class="secondary" type="button" on:click=back>{t(Text::CommonBack)}</button>
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
            return error.set(Some(t(Text::CommonTypeDeleteError).into()));
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            session::delete_account(app).await;
            if app.screen.get_untracked() == Screen::Welcome {
                ui.unlock_panel.set(UnlockPanel::Passphrase);
            } else {
                error.set(app.notice.get_untracked().or_else(|| Some(t(Text::CommonNotDeleted).into())));
                app.notice.set(None);
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card danger" on:submit=submit aria-labelledby="delete-locked-title">
            <h2 id="delete-locked-title">{t(Text::UnlockDelete)}</h2>
            <p>{t(Text::UnlockDeleteText)}</p>
            <label for="delete-locked-confirm">{t(Text::CommonTypeDelete)}</label>
            <input id="delete-locked-confirm" type="text" autocomplete="off" autocapitalize="characters"
                spellcheck="false" data-autofocus=""
                prop:value=move || confirm.get() on:input=move |ev| confirm.set(event_target_value(&ev)) />
            <Problem error=error />
            <div class="row">
                <button class="danger" type="submit" prop:disabled=move || busy.get()>{t(Text::CommonDeleteAccount)}</button>
                <button class="secondary" type="button" on:click=move |_| ui.unlock_panel.set(UnlockPanel::Passphrase)>
                    {t(Text::CommonCancel)}
                </button>
            </div>
        </form>
    }
}
