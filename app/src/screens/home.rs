//! Home: the account, message requests, conversations, and starting a new conversation.

use crypto_core::identity::SessionId;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{Notice, Problem, day};
use hush_client::conversations::{Conversation, Standing, recipient};

use crate::messaging;
use crate::session::{AppState, Screen, use_app};

/// Opens the conversation with `peer`; an error stays on Home next to what was clicked.
fn open(app: AppState, peer: SessionId, error: RwSignal<Option<String>>) {
    error.set(None);
    app.go(Screen::Conversation);
    spawn_local(async move {
        if let Err(e) = messaging::open(app, peer).await {
            app.notice.set(Some(e.to_string()));
        }
    });
}

/// The unlocked home screen.
#[component]
pub fn Home() -> impl IntoView {
    let app = use_app();
    let Some(me) = app.session_id() else {
        return view! { <p>"Locked."</p> }.into_any();
    };
    let id = me.to_string();
    let name = move || {
        app.revision.track();
        app.account().map(|a| a.display_name.clone()).unwrap_or_default()
    };
    let composing = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let field = NodeRef::<leptos::html::Input>::new();
    let validation = move || recipient(&typed.get());
    // Red only when the text cannot become a Session ID by typing on (not merely incomplete).
    let wrong = move || {
        let text = typed.get();
        let text = text.trim();
        validation().is_err() && !text.is_empty() && !(text.len() < 66 && text.chars().all(|c| c.is_ascii_hexdigit()))
    };
    let start = move |ev: SubmitEvent| {
        ev.prevent_default();
        if let Ok(peer) = validation() {
            typed.set(String::new());
            composing.set(false);
            open(app, peer, error);
        }
    };
    let toggle = move |_| {
        composing.update(|c| *c = !*c);
        if composing.get_untracked() {
            request_animation_frame(move || {
                if let Some(el) = field.try_get_untracked().flatten() {
                    let _ = el.focus();
                }
            });
        }
    };
    let requests =
        move || app.conversations.get().into_iter().filter(|c| c.standing == Standing::Request).collect::<Vec<_>>();
    let talking =
        move || app.conversations.get().into_iter().filter(|c| c.standing == Standing::Accepted).collect::<Vec<_>>();
    view! {
        <section class="card" aria-labelledby="home-title">
            <h2 id="home-title" class="one-line" title=name>"Hello, "<bdi dir="auto">{name}</bdi></h2>
            <p>"Your Session ID"</p>
            <p class="mono" data-testid="session-id" dir="ltr">{id}</p>
            <div class="row">
                <button class="primary" type="button" data-testid="new-conversation"
                    aria-expanded=move || composing.get().to_string() aria-controls="new-conversation"
                    on:click=toggle>"New conversation"</button>
                <button class="secondary" type="button" on:click=move |_| app.go(Screen::Settings)>"Settings"</button>
                <button class="secondary" type="button" on:click=move |_| app.lock()>"Lock now"</button>
            </div>
            <Show when=move || composing.get()>
                <form class="new-conversation" id="new-conversation" on:submit=start>
                    <label for="recipient">"Their Session ID"</label>
                    <input id="recipient" type="text" data-testid="recipient-id" autocomplete="off" spellcheck="false"
                        autocapitalize="none" placeholder="05…" node_ref=field aria-describedby="recipient-hint"
                        aria-invalid=move || wrong().to_string()
                        prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) />
                    <p class="hint" id="recipient-hint" aria-live="polite"
                        class:bad=wrong>
                        {move || match validation() {
                            Ok(_) => "Looks good.".to_owned(),
                            Err(e) => e.to_string(),
                        }}
                    </p>
                    <div class="row">
                        <button class="primary" type="submit" prop:disabled=move || validation().is_err()>"Start"</button>
                        <button class="secondary" type="button" on:click=move |_| composing.set(false)>"Cancel"</button>
                    </div>
                </form>
            </Show>
            <Problem error=error />
            <Notice />
        </section>
        <Show when=move || !requests().is_empty()>
            <section class="card" aria-labelledby="requests-title">
                <h2 id="requests-title">"Message requests"</h2>
                <p class="note">"People not in your conversations yet. They do not know whether you read them until you accept or reply."</p>
                <Rows list=Signal::derive(requests) error=error />
            </section>
        </Show>
        <section class="card" aria-labelledby="conversations-title">
            <h2 id="conversations-title">"Conversations"</h2>
            <Show when=move || !talking().is_empty()
                fallback=|| view! { <p class="note">"No conversations yet. Start one with someone's Session ID."</p> }>
                <Rows list=Signal::derive(talking) error=error />
            </Show>
        </section>
    }
    .into_any()
}

/// Rows of conversations, each opening its conversation.
#[component]
fn Rows(
    /// The conversations, in order.
    list: Signal<Vec<Conversation>>,
    /// Where an error opening one is shown.
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let app = use_app();
    view! {
        <ul class="conversations">
            <For each=move || list.get() key=|c| (c.peer, c.last_activity, c.unread, c.standing as u8, c.name.clone())
                children=move |c: Conversation| {
                    let peer = c.peer;
                    let request = c.standing == Standing::Request;
                    let unread = c.unread;
                    let last = c.last_activity;
                    let title = c.title();
                    let full_title = title.clone();
                    let preview = if c.preview.is_empty() { "No messages yet".to_owned() } else { c.preview };
                    view! {
                        <li>
                            <button type="button" class="conversation" data-testid="conversation"
                                on:click=move |_| open(app, peer, error)>
                                <span class="title" title=full_title><bdi dir="auto" data-testid="name">{title}</bdi></span>
                                <span class="meta">
                                    <Show when=move || request>
                                        <span class="tag">"Message request"</span>
                                    </Show>
                                    <Show when=move || last != 0>
                                        <span class="time">{day(last)}</span>
                                    </Show>
                                    <Show when=move || unread != 0>
                                        <span class="unread">{unread}<span class="visually-hidden">" unread"</span></span>
                                    </Show>
                                </span>
                                <span class="preview"><bdi dir="auto">{preview}</bdi></span>
                            </button>
                        </li>
                    }
                } />
        </ul>
    }
}
