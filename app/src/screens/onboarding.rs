//! Onboarding: welcome, the new account's phrase, proving it was saved, restoring from a phrase,
//! and the profile (display name and passphrase) that creates the vault.

use crypto_core::identity::{Identity, Seed};
use crypto_core::mnemonic::{self, PhraseError};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

use super::{Notice, Problem, SecretText, clear, secret_value, strength_hint, strength_of};
use crate::i18n::{Text, t, tf};
use crate::session::{self, Screen, use_app};
use hush_client::account::{MIN_PASSPHRASE_CHARS, Strength, confirmation_positions, word_matches};

/// No account yet: create or restore.
#[component]
pub fn Welcome() -> impl IntoView {
    let app = use_app();
    let create = move |_| {
        app.pending_seed.set_value(Some(Seed::generate(&mut OsRng)));
        app.restoring.set(false);
        app.go(Screen::ShowPhrase);
    };
    view! {
        <section class="card" aria-labelledby="welcome-title">
            <h2 id="welcome-title">{t(Text::WelcomeTitle)}</h2>
            <p>{t(Text::WelcomeText)}</p>
            <div class="row">
                <button class="primary" type="button" on:click=create>{t(Text::WelcomeCreate)}</button>
                <button class="secondary" type="button" on:click=move |_| app.go(Screen::Restore)>
                    {t(Text::WelcomeRestore)}
                </button>
            </div>
            <Notice />
        </section>
    }
}

/// The new account's Session ID and recovery phrase.
#[component]
pub fn ShowPhrase() -> impl IntoView {
    let app = use_app();
    let Some(seed) = app.pending_seed.with_value(Clone::clone) else {
        return view! { <p>{t(Text::PhraseNothing)}</p> }.into_any();
    };
    let identity = Identity::from_seed(&seed);
    let phrase = Zeroizing::new(mnemonic::encode_seed(&seed).as_str().to_owned());
    view! {
        <section class="card" aria-labelledby="id-title">
            <h2 id="id-title">{t(Text::CommonYourSessionId)}</h2>
            <p>{t(Text::PhraseShare)}</p>
            <p class="mono" data-testid="session-id">{identity.session_id().to_string()}</p>
        </section>
        <section class="card" aria-labelledby="phrase-title">
            <h2 id="phrase-title">{t(Text::PhraseTitle)}</h2>
            <p>{t(Text::PhraseText)}</p>
            <SecretText text=phrase testid="recovery-phrase" />
            <div class="row">
                <button class="primary" type="button" on:click=move |_| app.go(Screen::ConfirmPhrase)>
                    {t(Text::PhraseWritten)}
                </button>
                <button class="secondary" type="button" on:click=move |_| app.go(Screen::Welcome)>{t(Text::CommonBack)}</button>
            </div>
        </section>
    }
    .into_any()
}

/// Proof that the phrase was saved: three of its words, typed back.
#[component]
pub fn ConfirmPhrase() -> impl IntoView {
    let app = use_app();
    let Some(seed) = app.pending_seed.with_value(Clone::clone) else {
        return view! { <p>{t(Text::ConfirmPhraseNothing)}</p> }.into_any();
    };
    let mut random = [0u8; 3];
    OsRng.fill_bytes(&mut random);
    let positions = confirmation_positions(random);
    let inputs: [NodeRef<leptos::html::Input>; 3] = std::array::from_fn(|_| NodeRef::new());
    let error = RwSignal::new(None::<String>);
    let check = move |ev: SubmitEvent| {
        ev.prevent_default();
        let phrase = mnemonic::encode_seed(&seed);
        let all = positions
            .iter()
            .zip(inputs.iter())
            .all(|(&p, &input)| word_matches(phrase.as_str(), p, &secret_value(input)));
        if all {
            clear(&inputs);
            app.go(Screen::Profile);
        } else {
            error.set(Some(t(Text::ConfirmPhraseMismatch).into()));
        }
    };
    let fields = positions
        .iter()
        .zip(inputs)
        .enumerate()
        .map(|(i, (&position, input))| {
            let id = format!("word-{position}");
            view! {
                <label for=id.clone()>{tf(Text::ConfirmPhraseWord, &[("position", &position.to_string())])}</label>
                <input id=id type="text" autocomplete="off" autocapitalize="none" spellcheck="false" required
                    node_ref=input data-autofocus=(i == 0).then_some("") />
            }
        })
        .collect_view();
    view! {
        <form class="card" on:submit=check aria-labelledby="confirm-title">
            <h2 id="confirm-title">{t(Text::ConfirmPhraseTitle)}</h2>
            <p>{t(Text::ConfirmPhraseText)}</p>
            <div class="fields">{fields}</div>
            <Problem error=error />
            <div class="row">
                <button class="primary" type="submit">{t(Text::CommonContinue)}</button>
                <button class="secondary" type="button" on:click=move |_| app.go(Screen::ShowPhrase)>
                    {t(Text::ConfirmPhraseShowAgain)}
                </button>
            </div>
        </form>
    }
    .into_any()
}

/// What is wrong with a typed recovery phrase, in words for the person.
pub fn phrase_error_message(e: PhraseError) -> String {
    match e {
        PhraseError::UnknownWord { position } => {
            tf(Text::PhraseErrorUnknownWord, &[("position", &position.to_string())])
        }
        PhraseError::BadChecksum => t(Text::PhraseErrorChecksum).into(),
        PhraseError::WrongWordCount { found, .. } => tf(Text::PhraseErrorWordCount, &[("found", &found.to_string())]),
        PhraseError::InvalidTriple { word } => {
            tf(Text::PhraseErrorTriple, &[("first", &word.to_string()), ("last", &(word + 2).to_string())])
        }
        other => other.to_string(),
    }
}

/// Restore an account from its 13 words.
#[component]
pub fn Restore() -> impl IntoView {
    let app = use_app();
    let field = NodeRef::<leptos::html::Textarea>::new();
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(el) = field.try_get_untracked().flatten() else { return };
        let phrase = Zeroizing::new(el.value());
        match mnemonic::decode_seed(&phrase) {
            Ok(seed) => {
                el.set_value("");
                app.pending_seed.set_value(Some(seed));
                app.restoring.set(true);
                app.go(Screen::Profile);
            }
            Err(e) => error.set(Some(phrase_error_message(e))),
        }
    };
    view! {
        <form class="card" on:submit=submit aria-labelledby="restore-title">
            <h2 id="restore-title">{t(Text::RestoreTitle)}</h2>
            <p>{t(Text::RestoreText)}</p>
            <label for="phrase">{t(Text::CommonRecoveryPhrase)}</label>
            <textarea id="phrase" rows="3" autocomplete="off" autocapitalize="none" spellcheck="false" required
                node_ref=field data-autofocus=""></textarea>
            <Problem error=error />
            <div class="row">
                <button class="primary" type="submit">{t(Text::RestoreButton)}</button>
                <button class="secondary" type="button" on:click=move |_| app.go(Screen::Welcome)>{t(Text::CommonBack)}</button>
            </div>
        </form>
    }
}

/// The fields of a new passphrase: the passphrase with its strength hint, and again.
#[component]
pub fn NewPassphrase(
    /// The passphrase input.
    pass: NodeRef<leptos::html::Input>,
    /// The confirmation input.
    again: NodeRef<leptos::html::Input>,
    /// The first field's label.
    #[prop(default = Text::PassphraseLabel)]
    label: Text,
    /// The second field's label.
    #[prop(default = Text::PassphraseAgain)]
    again_label: Text,
    /// Prefix of the inputs' ids.
    id: &'static str,
) -> impl IntoView {
    let strength = RwSignal::new(None::<Strength>);
    let hint_id = format!("{id}-hint");
    view! {
        <label for=id>{t(label)}</label>
        <input id=id type="password" autocomplete="new-password" required node_ref=pass
            aria-describedby=hint_id.clone() on:input=move |ev| strength.set(strength_of(&ev)) />
        <p class="hint" id=hint_id aria-live="polite">{move || strength.get().map(strength_hint).unwrap_or_default()}</p>
        <label for=format!("{id}-again")>{t(again_label)}</label>
        <input id=format!("{id}-again") type="password" autocomplete="new-password" required node_ref=again />
    }
}

/// Checks a new passphrase typed twice: long enough, and the same both times.
pub fn check_new_passphrase(pass: &str, again: &str) -> Result<(), &'static str> {
    if pass.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(strength_hint(Strength::TooShort));
    }
    if pass != again {
        return Err(t(Text::PassphraseDiffer));
    }
    Ok(())
}

thread_local! {
    /// Whether the last restore reached the network (what the name step says if it is asked).
    static RESTORE_REACHED: core::cell::Cell<bool> = const { core::cell::Cell::new(true) };
}

/// Display name and passphrase; then the vault is created. A restored account is asked only for
/// the passphrase: its name, picture and contacts come from its swarm (or, when its profile holds
/// no name, the next step asks for one).
#[component]
pub fn Profile() -> impl IntoView {
    let app = use_app();
    let restoring = app.restoring.get_untracked();
    let name = RwSignal::new(String::new());
    let pass = NodeRef::<leptos::html::Input>::new();
    let again = NodeRef::<leptos::html::Input>::new();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if !restoring && name.get().trim().is_empty() {
            return error.set(Some(t(Text::CommonChooseDisplayName).into()));
        }
        let (p, a) = (secret_value(pass), secret_value(again));
        if let Err(problem) = check_new_passphrase(&p, &a) {
            return error.set(Some(problem.into()));
        }
        error.set(None);
        busy.set(true);
        app.notice.set(None);
        let n = name.get();
        spawn_local(async move {
            if restoring {
                let reached = session::restore_account(app, p).await;
                RESTORE_REACHED.set(reached);
            } else {
                session::create_account(app, n, p).await;
            }
            busy.set(false);
        });
    };
    let busy_text = if restoring { Text::ProfileLooking } else { Text::ProfileSecuring };
    view! {
        <form class="card" on:submit=submit aria-labelledby="profile-title">
            <h2 id="profile-title">{t(if restoring { Text::ProfileTitleRestoring } else { Text::ProfileTitleNew })}</h2>
            <p>{t(if restoring { Text::ProfileTextRestoring } else { Text::ProfileText })}</p>
            {(!restoring).then(|| view! {
                <label for="display-name">{t(Text::CommonDisplayName)}</label>
                <input id="display-name" type="text" maxlength="64" autocomplete="nickname" dir="auto" required data-autofocus=""
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            })}
            <NewPassphrase pass=pass again=again id="passphrase" />
            <Problem error=error />
            <Notice />
            <div class="row">
                <button class="primary" type="submit" prop:disabled=move || busy.get() aria-busy=move || busy.get().to_string()>
                    {move || t(if busy.get() { busy_text } else { Text::ProfileFinish })}
                </button>
            </div>
        </form>
    }
}

/// A restored account whose profile holds no display name (or whose swarm could not be reached):
/// one is chosen, and goes into the profile config for its other devices.
#[component]
pub fn ChooseName() -> impl IntoView {
    let app = use_app();
    let name = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let n = name.get().trim().to_owned();
        if n.is_empty() {
            return error.set(Some(t(Text::CommonChooseDisplayName).into()));
        }
        error.set(None);
        busy.set(true);
        spawn_local(async move {
            if let Err(e) = session::choose_name(app, n).await {
                error.set(Some(crate::words::error_text(&e)));
            }
            busy.set(false);
        });
    };
    let text = if RESTORE_REACHED.get() { Text::NameText } else { Text::NameTextUnreached };
    view! {
        <form class="card" on:submit=submit aria-labelledby="name-title">
            <h2 id="name-title">{t(Text::NameTitle)}</h2>
            <p>{t(text)}</p>
            <label for="display-name">{t(Text::CommonDisplayName)}</label>
            <input id="display-name" type="text" maxlength="64" autocomplete="nickname" dir="auto" required data-autofocus=""
                prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            <Problem error=error />
            <div class="row">
                <button class="primary" type="submit" prop:disabled=move || busy.get()>{t(Text::NameContinue)}</button>
            </div>
        </form>
    }
}
