//! Hush in the browser: the Leptos client-side-rendered app.
//!
//! Everything shown is text; nothing is HTML built from data.

pub mod account;
pub mod storage;

use crypto_core::identity::Identity;
use leptos::prelude::*;
use rand_core::OsRng;

/// What the first screen shows once an account exists: public ID and the phrase to write down.
#[derive(Clone, Debug, PartialEq, Eq)]
struct NewAccount {
    session_id: String,
    phrase: String,
}

/// Makes a new account in the browser (randomness from WebCrypto through getrandom).
fn create_account() -> Option<NewAccount> {
    let identity = Identity::generate(&mut OsRng);
    let phrase = identity.phrase()?;
    Some(NewAccount { session_id: identity.session_id().to_string(), phrase: phrase.as_str().to_owned() })
}

/// The root component.
#[component]
pub fn App() -> impl IntoView {
    let (account, set_account) = signal(None::<NewAccount>);
    view! {
        <main>
            <header class="brand">
                <h1>"Hush"</h1>
                <p>"Private messages, right in your browser."</p>
            </header>
            <Show
                when=move || account.get().is_some()
                fallback=move || view! { <Welcome on_create=move || set_account.set(create_account()) /> }
            >
                {move || account.get().map(|a| view! { <AccountCreated account=a /> })}
            </Show>
        </main>
    }
}

/// The first screen.
#[component]
fn Welcome(
    /// Called when the person asks for a new account.
    on_create: impl Fn() + 'static,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="welcome-title">
            <h2 id="welcome-title">"Welcome"</h2>
            <p>
                "No phone number, no e-mail. Your account is a key pair made on this device, "
                "and its public key is your Session ID."
            </p>
            <button class="primary" type="button" on:click=move |_| on_create()>"Create account"</button>
        </section>
    }
}

/// The new account's ID and recovery phrase.
#[component]
fn AccountCreated(
    /// The account just made.
    account: NewAccount,
) -> impl IntoView {
    let (copied, set_copied) = signal(false);
    let id_for_copy = account.session_id.clone();
    let copy = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().clipboard().write_text(&id_for_copy);
            set_copied.set(true);
        }
    };
    view! {
        <section class="card" aria-labelledby="id-title">
            <h2 id="id-title">"Your Session ID"</h2>
            <p>"Share it with the people you want to talk to."</p>
            <p class="mono" data-testid="session-id">{account.session_id}</p>
            <div class="row">
                <button class="secondary" type="button" on:click=copy>"Copy Session ID"</button>
                <span class="status" role="status">{move || if copied.get() { "Copied" } else { "" }}</span>
            </div>
        </section>
        <section class="card" aria-labelledby="phrase-title">
            <h2 id="phrase-title">"Your recovery phrase"</h2>
            <p>"These 13 words are the only way back into your account. Write them down and keep them private."</p>
            <p class="mono phrase" data-testid="recovery-phrase">{account.phrase}</p>
        </section>
    }
}
