//! The screens. Everything shown is text; nothing is HTML built from data.

use crypto_core::identity::{IdPrefix, Identity, Seed, SessionId};
use crypto_core::mnemonic::{self, PhraseError};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use rand_core::{OsRng, RngCore};

use crate::account::{MIN_PASSPHRASE_CHARS, Strength, Theme, confirmation_positions, word_matches};
use crate::chat::{self, Conversation, Message, Standing, Status};
use crate::messaging;
use crate::qr::QrCode;
use crate::session::{self, Screen, use_app};

/// The notice line (errors and confirmations), announced to screen readers.
#[component]
pub fn Notice() -> impl IntoView {
    let app = use_app();
    view! {
        <Show when=move || app.notice.get().is_some()>
            <p class="notice" role="alert">{move || app.notice.get().unwrap_or_default()}</p>
        </Show>
    }
}

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
            <h2 id="welcome-title">"Welcome"</h2>
            <p>
                "No phone number, no e-mail. Your account is a key pair made on this device, "
                "and its public key is your Session ID."
            </p>
            <div class="row">
                <button class="primary" type="button" on:click=create>"Create account"</button>
                <button class="secondary" type="button" on:click=move |_| app.go(Screen::Restore)>
                    "Restore from recovery phrase"
                </button>
            </div>
        </section>
    }
}

/// The new account's Session ID and recovery phrase.
#[component]
pub fn ShowPhrase() -> impl IntoView {
    let app = use_app();
    let Some(seed) = app.pending_seed.with_value(Clone::clone) else {
        return view! { <p>"Nothing to show."</p> }.into_any();
    };
    let identity = Identity::from_seed(&seed);
    let phrase = mnemonic::encode_seed(&seed).as_str().to_owned();
    view! {
        <section class="card" aria-labelledby="id-title">
            <h2 id="id-title">"Your Session ID"</h2>
            <p>"Share it with the people you want to talk to."</p>
            <p class="mono" data-testid="session-id">{identity.session_id().to_string()}</p>
        </section>
        <section class="card" aria-labelledby="phrase-title">
            <h2 id="phrase-title">"Your recovery phrase"</h2>
            <p>"These 13 words are the only way back into your account. Write them down and keep them private."</p>
            <p class="mono phrase" data-testid="recovery-phrase">{phrase}</p>
            <div class="row">
                <button class="primary" type="button" on:click=move |_| app.go(Screen::ConfirmPhrase)>
                    "I have written it down"
                </button>
                <button class="secondary" type="button" on:click=move |_| app.go(Screen::Welcome)>"Back"</button>
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
        return view! { <p>"Nothing to confirm."</p> }.into_any();
    };
    let phrase = mnemonic::encode_seed(&seed).as_str().to_owned();
    let mut random = [0u8; 3];
    OsRng.fill_bytes(&mut random);
    let positions = confirmation_positions(random);
    let answers: [RwSignal<String>; 3] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let check = move |ev: SubmitEvent| {
        ev.prevent_default();
        let all = positions.iter().zip(answers.iter()).all(|(&p, a)| word_matches(&phrase, p, &a.get()));
        if all {
            app.go(Screen::Profile);
        } else {
            app.notice.set(Some("Those words do not match your recovery phrase. Check what you wrote down.".into()));
        }
    };
    let fields = positions
        .iter()
        .zip(answers)
        .map(|(&position, answer)| {
            let id = format!("word-{position}");
            view! {
                <label for=id.clone()>{format!("Word {position}")}</label>
                <input id=id type="text" autocomplete="off" autocapitalize="none" spellcheck="false" required
                    prop:value=move || answer.get() on:input=move |ev| answer.set(event_target_value(&ev)) />
            }
        })
        .collect_view();
    view! {
        <form class="card" on:submit=check aria-labelledby="confirm-title">
            <h2 id="confirm-title">"Check your recovery phrase"</h2>
            <p>"Type these words from the phrase you wrote down."</p>
            <div class="fields">{fields}</div>
            <Notice />
            <div class="row">
                <button class="primary" type="submit">"Continue"</button>
                <button class="secondary" type="button" on:click=move |_| app.go(Screen::ShowPhrase)>
                    "Show the phrase again"
                </button>
            </div>
        </form>
    }
    .into_any()
}

fn phrase_error_message(e: PhraseError) -> String {
    match e {
        PhraseError::UnknownWord { position } => {
            format!("Word {position} is not a recovery-phrase word. Check its spelling.")
        }
        PhraseError::BadChecksum => {
            "The last word does not match the others: one of the words is wrong, or two are swapped.".into()
        }
        PhraseError::WrongWordCount { found, .. } => {
            format!("A recovery phrase has 13 words; you entered {found}.")
        }
        PhraseError::InvalidTriple { word } => {
            format!("Words {word} to {} do not fit together: one of them is wrong.", word + 2)
        }
        other => other.to_string(),
    }
}

/// Restore an account from its 13 words.
#[component]
pub fn Restore() -> impl IntoView {
    let app = use_app();
    let phrase = RwSignal::new(String::new());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match mnemonic::decode_seed(&phrase.get()) {
            Ok(seed) => {
                phrase.set(String::new());
                app.pending_seed.set_value(Some(seed));
                app.restoring.set(true);
                app.go(Screen::Profile);
            }
            Err(e) => app.notice.set(Some(phrase_error_message(e))),
        }
    };
    view! {
        <form class="card" on:submit=submit aria-labelledby="restore-title">
            <h2 id="restore-title">"Restore your account"</h2>
            <p>"Enter the 13 words of your recovery phrase, separated by spaces."</p>
            <label for="phrase">"Recovery phrase"</label>
            <textarea id="phrase" rows="3" autocomplete="off" autocapitalize="none" spellcheck="false" required
                prop:value=move || phrase.get() on:input=move |ev| phrase.set(event_target_value(&ev))></textarea>
            <Notice />
            <div class="row">
                <button class="primary" type="submit">"Restore"</button>
                <button class="secondary" type="button" on:click=move |_| app.go(Screen::Welcome)>"Back"</button>
            </div>
        </form>
    }
}

/// Display name and passphrase; then the vault is created.
#[component]
pub fn Profile() -> impl IntoView {
    let app = use_app();
    let name = RwSignal::new(String::new());
    let pass = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let strength = move || Strength::of(&pass.get());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if name.get().trim().is_empty() {
            return app.notice.set(Some("Choose a display name.".into()));
        }
        if pass.get().chars().count() < MIN_PASSPHRASE_CHARS {
            return app.notice.set(Some(Strength::TooShort.hint().into()));
        }
        if pass.get() != again.get() {
            return app.notice.set(Some("The two passphrases differ.".into()));
        }
        busy.set(true);
        app.notice.set(None);
        let (n, p) = (name.get(), pass.get());
        spawn_local(async move {
            session::create_account(app, n, p).await;
            busy.set(false);
        });
    };
    view! {
        <form class="card" on:submit=submit aria-labelledby="profile-title">
            <h2 id="profile-title">{move || if app.restoring.get() { "Welcome back" } else { "Almost done" }}</h2>
            <p>"Your passphrase locks Hush on this device. It never leaves it and cannot be recovered: "
               "if you forget it, restore from your recovery phrase."</p>
            <label for="display-name">"Display name"</label>
            <input id="display-name" type="text" maxlength="64" autocomplete="nickname" required
                prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            <label for="passphrase">"Passphrase"</label>
            <input id="passphrase" type="password" autocomplete="new-password" required
                prop:value=move || pass.get() on:input=move |ev| pass.set(event_target_value(&ev)) />
            <p class="hint" aria-live="polite">{move || if pass.get().is_empty() { "" } else { strength().hint() }}</p>
            <label for="passphrase-again">"Passphrase again"</label>
            <input id="passphrase-again" type="password" autocomplete="new-password" required
                prop:value=move || again.get() on:input=move |ev| again.set(event_target_value(&ev)) />
            <Notice />
            <div class="row">
                <button class="primary" type="submit" prop:disabled=move || busy.get()>
                    {move || if busy.get() { "Securing…" } else { "Finish" }}
                </button>
            </div>
        </form>
    }
}

/// The account exists and is locked.
#[component]
pub fn Unlock() -> impl IntoView {
    let app = use_app();
    let pass = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        app.notice.set(None);
        let p = pass.get();
        spawn_local(async move {
            if let Err(message) = session::unlock(app, p).await {
                app.notice.set(Some(message));
            } else {
                pass.set(String::new());
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card" on:submit=submit aria-labelledby="unlock-title">
            <h2 id="unlock-title">"Unlock Hush"</h2>
            <label for="unlock-passphrase">"Passphrase"</label>
            <input id="unlock-passphrase" type="password" autocomplete="current-password" required
                prop:value=move || pass.get() on:input=move |ev| pass.set(event_target_value(&ev)) />
            <Notice />
            <div class="row">
                <button class="primary" type="submit" prop:disabled=move || busy.get()>
                    {move || if busy.get() { "Unlocking…" } else { "Unlock" }}
                </button>
            </div>
        </form>
    }
}

/// The unlocked home screen: the conversations, and starting a new one.
#[component]
pub fn Home() -> impl IntoView {
    let app = use_app();
    let Some(session) = app.current() else {
        return view! { <p>"Locked."</p> }.into_any();
    };
    let me = session.identity.session_id();
    let id = me.to_string();
    let name = move || {
        app.revision.track();
        app.current().map(|s| s.account.borrow().display_name.clone()).unwrap_or_default()
    };
    let composing = RwSignal::new(false);
    let recipient = RwSignal::new(String::new());
    let validation = move || {
        let text = recipient.get();
        if text.trim().is_empty() {
            return Err(String::new());
        }
        match text.parse::<SessionId>() {
            Ok(peer) if peer.prefix() != IdPrefix::Standard => {
                Err("Only Session IDs starting with 05 can receive messages.".to_owned())
            }
            Ok(peer) if peer == me => Err("That is your own Session ID.".to_owned()),
            Ok(peer) => Ok(peer),
            Err(e) => Err(format!("Not a Session ID yet: {e}.")),
        }
    };
    let start = move |ev: SubmitEvent| {
        ev.prevent_default();
        if let Ok(peer) = validation() {
            recipient.set(String::new());
            composing.set(false);
            app.go(Screen::Conversation);
            spawn_local(messaging::open(app, peer));
        }
    };
    let open_row = move |peer: String| {
        if let Ok(peer) = peer.parse::<SessionId>() {
            app.go(Screen::Conversation);
            spawn_local(messaging::open(app, peer));
        }
    };
    view! {
        <section class="card" aria-labelledby="home-title">
            <h2 id="home-title">{move || format!("Hello, {}", name())}</h2>
            <p>"Your Session ID"</p>
            <p class="mono" data-testid="session-id">{id}</p>
            <div class="row">
                <button class="primary" type="button" data-testid="new-conversation"
                    on:click=move |_| composing.update(|c| *c = !*c)>"New conversation"</button>
                <button class="secondary" type="button" on:click=move |_| app.go(Screen::Settings)>"Settings"</button>
                <button class="secondary" type="button" on:click=move |_| app.lock()>"Lock now"</button>
            </div>
            <Show when=move || composing.get()>
                <form class="new-conversation" on:submit=start>
                    <label for="recipient">"Their Session ID"</label>
                    <input id="recipient" type="text" data-testid="recipient-id" autocomplete="off" spellcheck="false"
                        autocapitalize="none" placeholder="05…"
                        prop:value=move || recipient.get() on:input=move |ev| recipient.set(event_target_value(&ev)) />
                    <p class="hint" aria-live="polite">{move || validation().err().unwrap_or_else(|| "Looks good.".into())}</p>
                    <div class="row">
                        <button class="primary" type="submit" prop:disabled=move || validation().is_err()>"Start"</button>
                    </div>
                </form>
            </Show>
        </section>
        <section class="card" aria-labelledby="conversations-title">
            <h2 id="conversations-title">"Conversations"</h2>
            <Show when=move || !app.conversations.get().is_empty()
                fallback=|| view! { <p class="note">"No conversations yet. Start one with someone's Session ID."</p> }>
                <ul class="conversations">
                    <For each=move || app.conversations.get() key=|c| (c.peer.clone(), c.last_activity, c.unread, c.standing as u8)
                        children=move |c: Conversation| {
                            let peer = c.peer.clone();
                            let label = match c.standing {
                                Standing::Request => "Message request",
                                Standing::Blocked => "Blocked",
                                Standing::Accepted => "",
                            };
                            view! {
                                <li>
                                    <button type="button" class="conversation" data-testid="conversation"
                                        on:click=move |_| open_row(peer.clone())>
                                        <span class="title">{c.title()}</span>
                                        <span class="meta">{label}
                                            <Show when={move || c.last_activity > 0}>
                                                <span class="time">{day(c.last_activity)}</span>
                                            </Show>
                                            <Show when={move || c.unread > 0}>
                                                <span class="unread" aria-label="unread messages">{c.unread}</span>
                                            </Show>
                                        </span>
                                        <span class="preview">{c.preview.clone()}</span>
                                    </button>
                                </li>
                            }
                        } />
                </ul>
            </Show>
        </section>
    }
    .into_any()
}

fn local_time(timestamp: u64) -> chat::LocalTime {
    #[cfg(target_arch = "wasm32")]
    {
        let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(timestamp as f64));
        chat::LocalTime {
            year: d.get_full_year(),
            month: d.get_month() + 1,
            day: d.get_date(),
            hour: d.get_hours(),
            minute: d.get_minutes(),
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let minutes = (timestamp / 60_000) as u32;
        chat::LocalTime { year: 1970, month: 1, day: 1, hour: (minutes / 60) % 24, minute: minutes % 60 }
    }
}

fn now_ms() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now() as u64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}

/// A message's time: the clock today, with the date before today.
fn clock(timestamp: u64) -> String {
    chat::time_label(local_time(now_ms()), local_time(timestamp), true)
}

/// A conversation's last activity for the list: the clock today, the date before.
fn day(timestamp: u64) -> String {
    chat::time_label(local_time(now_ms()), local_time(timestamp), false)
}

/// One conversation: messages with their status, and the composer.
#[component]
pub fn ConversationView() -> impl IntoView {
    let app = use_app();
    let draft = RwSignal::new(String::new());
    let peer = move || app.open_peer.get();
    let current = move || {
        let p = peer()?;
        app.conversations.get().into_iter().find(|c| c.peer == p)
    };
    let title = move || current().map(|c| c.title()).unwrap_or_else(|| peer().unwrap_or_default());
    let standing = move || current().map_or(Standing::Accepted, |c| c.standing);
    let count = move || draft.get().chars().count();
    let send = move || {
        let text = draft.get();
        if text.trim().is_empty() || count() > chat::MAX_CHARS {
            return;
        }
        let Some(p) = peer().and_then(|p| p.parse::<SessionId>().ok()) else { return };
        draft.set(String::new());
        spawn_local(messaging::send(app, p, text));
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send();
    };
    let keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() {
            ev.prevent_default();
            send();
        }
    };
    let decide = move |s: Option<Standing>| {
        if let Some(p) = peer() {
            if s.is_none() {
                app.go(Screen::Home);
            }
            spawn_local(messaging::set_standing(app, p, s));
        }
    };
    // The message pane scrolls on its own: it opens at the newest message, follows new ones while
    // the person is at the bottom (and always after they send), and loads older history from the
    // vault when they scroll near the top, keeping what they were reading in place.
    let list = NodeRef::<leptos::html::Ol>::new();
    let at_bottom = StoredValue::new(true);
    let loading_older = StoredValue::new(false);
    Effect::new(move |_| {
        let just_sent = app.messages.with(|m| m.last().is_some_and(|m| m.outgoing && m.status == Status::Sending));
        if at_bottom.get_value() || just_sent {
            request_animation_frame(move || {
                if let Some(el) = list.get_untracked() {
                    el.set_scroll_top(el.scroll_height());
                }
            });
        }
    });
    let load_older = move || {
        if loading_older.get_value() || !app.has_older.get_untracked() {
            return;
        }
        loading_older.set_value(true);
        let from_bottom = list.get_untracked().map(|el| el.scroll_height() - el.scroll_top());
        spawn_local(async move {
            messaging::older(app).await;
            request_animation_frame(move || {
                if let (Some(el), Some(d)) = (list.get_untracked(), from_bottom) {
                    el.set_scroll_top(el.scroll_height() - d);
                }
                loading_older.set_value(false);
            });
        });
    };
    let scrolled = move |_| {
        let Some(el) = list.get_untracked() else { return };
        at_bottom.set_value(el.scroll_height() - el.scroll_top() - el.client_height() < 48);
        if el.scroll_top() < 64 {
            load_older();
        }
    };
    view! {
        <section class="card conversation-view" aria-labelledby="conversation-title">
            <div class="row conversation-head">
                <button class="secondary" type="button" on:click=move |_| { app.open_peer.set(None); app.go(Screen::Home) }>"Back"</button>
                <h2 id="conversation-title">{title}</h2>
            </div>
            <p class="mono small">{move || peer().unwrap_or_default()}</p>
            <Show when=move || standing() == Standing::Request>
                <div class="request" role="region" aria-label="Message request">
                    <p>"This person is not in your conversations yet."</p>
                    <div class="row">
                        <button class="primary" type="button" on:click=move |_| decide(Some(Standing::Accepted))>"Accept"</button>
                        <button class="secondary" type="button" on:click=move |_| decide(Some(Standing::Blocked))>"Block"</button>
                        <button class="danger" type="button" on:click=move |_| decide(None)>"Delete"</button>
                    </div>
                </div>
            </Show>
            <Show when=move || app.has_older.get()>
                <button class="secondary older" type="button" on:click=move |_| load_older()>
                    "Show older messages"
                </button>
            </Show>
            <ol class="messages" aria-live="polite" node_ref=list on:scroll=scrolled tabindex="0"
                aria-label="Messages">
                <For each=move || app.messages.get() key=|m| (m.id.clone(), m.status.as_str())
                    children=move |m: Message| {
                        let id = m.id.clone();
                        let failed = m.status == Status::Failed;
                        view! {
                            <li class=if m.outgoing { "message out" } else { "message in" } data-testid="message"
                                data-direction=if m.outgoing { "out" } else { "in" } data-status=m.status.as_str()>
                                <Show when=move || !m.outgoing>
                                    <span class="sender">{m.sender_name.clone().unwrap_or_default()}</span>
                                </Show>
                                <p class="body">{m.body.clone()}</p>
                                <span class="when">{if m.outgoing { format!("{} · {}", clock(m.timestamp), m.status.as_str()) } else { clock(m.timestamp) }}</span>
                                <Show when=move || failed>
                                    <button class="secondary" type="button"
                                        on:click={let id = id.clone(); move |_| spawn_local(messaging::retry(app, id.clone()))}>"Retry"</button>
                                </Show>
                            </li>
                        }
                    } />
            </ol>
            <Show when=move || standing() != Standing::Blocked>
                <form class="composer" on:submit=submit>
                    <label for="composer" class="visually-hidden">"Message"</label>
                    <textarea id="composer" data-testid="composer" rows="2" placeholder="Message"
                        prop:value=move || draft.get() on:input=move |ev| draft.set(event_target_value(&ev))
                        on:keydown=keydown></textarea>
                    <div class="row">
                        <span class={move || if count() > chat::MAX_CHARS { "count over" } else { "count" }}>
                            {move || format!("{} / {}", count(), chat::MAX_CHARS)}
                        </span>
                        <button class="primary" type="submit" data-testid="send"
                            prop:disabled={move || draft.get().trim().is_empty() || count() > chat::MAX_CHARS}>"Send"</button>
                    </div>
                </form>
            </Show>
        </section>
    }
}

/// Settings: ID with copy and QR, phrase behind the passphrase, name, relay, theme, lock, delete.
#[component]
pub fn Settings() -> impl IntoView {
    let app = use_app();
    let Some(session) = app.current() else {
        return view! { <p>"Locked."</p> }.into_any();
    };
    let id = session.identity.session_id().to_string();
    let qr = QrCode::new(&id);
    let copied = RwSignal::new(false);
    let id_for_copy = id.clone();
    let copy = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().clipboard().write_text(&id_for_copy);
            copied.set(true);
        }
    };

    let account = session.account.borrow().clone();
    let name = RwSignal::new(account.display_name.clone());
    let relay = RwSignal::new(account.relay_url.clone());
    let theme = RwSignal::new(account.theme);
    let idle = RwSignal::new(account.idle_lock_minutes);
    drop(account);
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(session) = app.current() else { return };
        {
            let mut account = session.account.borrow_mut();
            account.display_name = name.get().trim().to_owned();
            account.relay_url = relay.get().trim().to_owned();
            account.theme = theme.get();
            account.idle_lock_minutes = idle.get();
        }
        spawn_local(async move {
            match session.save().await {
                Ok(()) => {
                    app.revision.update(|r| *r += 1);
                    app.notice.set(Some("Saved.".into()));
                }
                Err(e) => app.notice.set(Some(e.to_string())),
            }
        });
    };

    let reveal_pass = RwSignal::new(String::new());
    let revealed = RwSignal::new(None::<String>);
    let reveal = move |ev: SubmitEvent| {
        ev.prevent_default();
        let p = reveal_pass.get();
        spawn_local(async move {
            match session::check_passphrase(p).await {
                Ok(()) => {
                    reveal_pass.set(String::new());
                    revealed.set(app.current().and_then(|s| s.identity.phrase()).map(|p| p.as_str().to_owned()));
                }
                Err(message) => app.notice.set(Some(message)),
            }
        });
    };

    let confirm_delete = RwSignal::new(String::new());
    let delete = move |ev: SubmitEvent| {
        ev.prevent_default();
        if confirm_delete.get().trim() != "DELETE" {
            return app.notice.set(Some("Type DELETE to confirm.".into()));
        }
        spawn_local(session::delete_account(app));
    };

    view! {
        <section class="card" aria-labelledby="settings-id-title">
            <h2 id="settings-id-title">"Your Session ID"</h2>
            <p class="mono" data-testid="session-id">{id}</p>
            <div class="row">
                <button class="secondary" type="button" on:click=copy>"Copy Session ID"</button>
                <span class="status" role="status">{move || if copied.get() { "Copied" } else { "" }}</span>
            </div>
            <div class="qr">{qr.map(|q| q.view())}</div>
        </section>
        <form class="card" on:submit=save aria-labelledby="settings-title">
            <h2 id="settings-title">"Settings"</h2>
            <label for="settings-name">"Display name"</label>
            <input id="settings-name" type="text" maxlength="64"
                prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            <label for="settings-relay">"Relay URL (empty: this site)"</label>
            <input id="settings-relay" type="url" placeholder="https://relay.example"
                prop:value=move || relay.get() on:input=move |ev| relay.set(event_target_value(&ev)) />
            <label for="settings-theme">"Theme"</label>
            <select id="settings-theme" on:change=move |ev| theme.set(match event_target_value(&ev).as_str() {
                "light" => Theme::Light, "dark" => Theme::Dark, _ => Theme::System })>
                <option value="system" selected=move || theme.get() == Theme::System>"Follow the system"</option>
                <option value="light" selected=move || theme.get() == Theme::Light>"Light"</option>
                <option value="dark" selected=move || theme.get() == Theme::Dark>"Dark"</option>
            </select>
            <label for="settings-idle">"Lock after inactivity"</label>
            <select id="settings-idle" on:change=move |ev| idle.set(event_target_value(&ev).parse().unwrap_or(15))>
                {[1u32, 5, 15, 60, 0].into_iter().map(|m| view! {
                    <option value=m.to_string() selected=move || idle.get() == m>
                        {if m == 0 { "Never".to_owned() } else { format!("{m} minutes") }}
                    </option>
                }).collect_view()}
            </select>
            <Notice />
            <div class="row">
                <button class="primary" type="submit">"Save"</button>
                <button class="secondary" type="button" on:click=move |_| app.go(Screen::Home)>"Back"</button>
                <button class="secondary" type="button" on:click=move |_| app.lock()>"Lock now"</button>
            </div>
        </form>
        <section class="card" aria-labelledby="path-title">
            <h2 id="path-title">"Onion paths"</h2>
            <p>"Every request goes through one of these paths of three service nodes; only the guard knows your address."</p>
            {move || {
                app.revision.track();
                let paths = app.current().map(|s| s.client.paths()).unwrap_or_default();
                if paths.is_empty() {
                    return view! { <p class="note">"No path yet: one is built with the first request."</p> }.into_any();
                }
                paths.into_iter().enumerate().map(|(i, hops)| view! {
                    <ol class="path" aria-label=format!("Path {}", i + 1)>
                        {hops.into_iter().enumerate().map(|(j, (key, addr))| view! {
                            <li><span class="hop">{if j == 0 { "Guard" } else { "Hop" }}</span>
                                " " <span class="mono small">{format!("{}… {}", key.get(..12).unwrap_or(&key), addr)}</span></li>
                        }).collect_view()}
                    </ol>
                }).collect_view().into_any()
            }}
        </section>
        <section class="card" aria-labelledby="reveal-title">
            <h2 id="reveal-title">"Recovery phrase"</h2>
            <Show when=move || revealed.get().is_some() fallback=move || view! {
                <form on:submit=reveal>
                    <label for="reveal-passphrase">"Enter your passphrase to show it"</label>
                    <input id="reveal-passphrase" type="password" autocomplete="current-password" required
                        prop:value=move || reveal_pass.get() on:input=move |ev| reveal_pass.set(event_target_value(&ev)) />
                    <div class="row"><button class="secondary" type="submit">"Show recovery phrase"</button></div>
                </form>
            }>
                <p class="mono phrase" data-testid="recovery-phrase">{move || revealed.get().unwrap_or_default()}</p>
                <div class="row">
                    <button class="secondary" type="button" on:click=move |_| revealed.set(None)>"Hide"</button>
                </div>
            </Show>
        </section>
        <form class="card danger" on:submit=delete aria-labelledby="delete-title">
            <h2 id="delete-title">"Delete account from this device"</h2>
            <p>"This erases everything Hush keeps here. Without your recovery phrase the account is gone."</p>
            <label for="delete-confirm">"Type DELETE to confirm"</label>
            <input id="delete-confirm" type="text" autocomplete="off"
                prop:value=move || confirm_delete.get() on:input=move |ev| confirm_delete.set(event_target_value(&ev)) />
            <div class="row"><button class="danger" type="submit">"Delete account"</button></div>
        </form>
    }
    .into_any()
}
