//! One conversation: its messages with their status (links in them open after a question), the
//! message-request panel (accept, block, delete), blocking, unblocking and deleting (each asked
//! first), and the composer.

use crypto_core::identity::SessionId;
use hush_client::MAX_CHARS;
use hush_client::conversations::{Message, Standing, Status, short_id};
use hush_client::text::MAX_RECEIVED_CHARS;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{Confirm, Menu, Notice, Problem, clock};
use crate::links::{self, Piece};
use crate::messaging;
use crate::session::{AppState, Screen, use_app};

/// Runs a change of the open conversation (accept, block, …) on its peer; its error goes to
/// `error`.
fn act<F, Fut>(app: AppState, error: RwSignal<Option<String>>, busy: RwSignal<bool>, then: Option<Screen>, change: F)
where
    F: FnOnce(AppState, SessionId) -> Fut,
    Fut: Future<Output = Result<(), hush_client::Error>> + 'static,
{
    let Some(peer) = app.open_peer.get_untracked() else { return };
    error.set(None);
    busy.set(true);
    let change = change(app, peer);
    spawn_local(async move {
        match change.await {
            Ok(()) => {
                if let Some(screen) = then {
                    app.open_peer.set(None);
                    app.go(screen);
                }
            }
            Err(e) => error.set(Some(e.to_string())),
        }
        busy.set(false);
    });
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
    let title = move || current().map(|c| c.title()).or_else(|| peer().map(|p| short_id(&p))).unwrap_or_default();
    let standing = move || current().map_or(Standing::Accepted, |c| c.standing);
    // Whether they accepted our message request: they wrote to us, or their response came.
    let approved = LocalResource::new(move || {
        app.conversations.track();
        let p = peer();
        async move {
            match p {
                Some(p) => messaging::approved_me(app, p).await,
                None => false,
            }
        }
    });
    let they_wrote = move || app.messages.with(|m| m.iter().any(|m| !m.outgoing));
    let we_wrote = move || app.messages.with(|m| m.iter().any(|m| m.outgoing));
    // Hush's sentences around a name: the name is isolated (`<bdi>`), so it cannot reorder them.
    let request_note = move || {
        if standing() != Standing::Accepted || they_wrote() {
            return None;
        }
        Some(if approved.get().unwrap_or(false) {
            ("", " accepted your message request.")
        } else if we_wrote() {
            ("", " sees your messages as a message request until they accept it.")
        } else {
            ("Your first message reaches ", " as a message request.")
        })
    };

    // The draft is kept (sealed) for each conversation, so it survives a reload: loaded when the
    // conversation opens, saved a moment after the person stops typing.
    let typed_at = StoredValue::new(0u64);
    Effect::new(move |_| {
        let Some(p) = peer() else { return };
        spawn_local(async move {
            let kept = messaging::draft(app, p).await;
            if !kept.is_empty() && draft.try_get_untracked().is_some_and(|d| d.is_empty()) {
                draft.set(kept);
            }
        });
    });
    let typed = move |text: String| {
        draft.set(text);
        let Some(p) = app.open_peer.get_untracked() else { return };
        let stamp = typed_at.get_value().wrapping_add(1);
        typed_at.set_value(stamp);
        set_timeout(
            move || {
                if typed_at.try_get_value() != Some(stamp) {
                    return;
                }
                let Some(text) = draft.try_get_untracked() else { return };
                spawn_local(async move {
                    let _ = messaging::keep_draft(app, p, &text).await;
                });
            },
            std::time::Duration::from_millis(300),
        );
    };
    let send_error = RwSignal::new(None::<String>);
    let action_error = RwSignal::new(None::<String>);
    let acting = RwSignal::new(false);
    let sending = RwSignal::new(false);
    let composer = NodeRef::<leptos::html::Textarea>::new();
    let count = move || draft.with(|d| d.chars().count());
    let sendable = move || !draft.with(|d| d.trim().is_empty()) && count() <= MAX_CHARS;
    let send = move || {
        if sending.get_untracked() || !sendable() {
            return;
        }
        let Some(p) = app.open_peer.get_untracked() else { return };
        let text = draft.get_untracked();
        sending.set(true);
        send_error.set(None);
        spawn_local(async move {
            match messaging::send(app, p, &text).await {
                // The text is cleared only once it is safe in the outbox (and only if the person
                // has not typed something else meanwhile; the engine removed the kept draft).
                Ok(_) => {
                    typed_at.set_value(typed_at.get_value().wrapping_add(1));
                    if draft.try_get_untracked().is_some_and(|d| d == text) {
                        draft.set(String::new());
                    } else if let Some(now) = draft.try_get_untracked() {
                        let _ = messaging::keep_draft(app, p, &now).await;
                    }
                }
                Err(e) => send_error.set(Some(e.to_string())),
            }
            sending.set(false);
            if let Some(el) = composer.try_get_untracked().flatten() {
                let _ = el.focus();
            }
        });
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send();
    };
    // Enter sends; Shift+Enter is a new line; Enter that ends an input method's composition
    // (Chinese, Japanese, …) does neither.
    let keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() && ev.key_code() != 229 {
            ev.prevent_default();
            send();
        }
    };

    let asking_block = RwSignal::new(false);
    let asking_delete = RwSignal::new(false);
    let opening_link = RwSignal::new(None::<String>);
    let accept = move |_| {
        act(app, action_error, acting, None, messaging::accept);
        request_animation_frame(move || {
            if let Some(el) = composer.try_get_untracked().flatten() {
                let _ = el.focus();
            }
        });
    };
    let block = move |_| asking_block.set(true);
    let unblock = move |_| act(app, action_error, acting, None, messaging::unblock);
    let delete = move |_| asking_delete.set(true);
    let back = move |_| {
        app.open_peer.set(None);
        app.go(Screen::Home);
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
                if let Some(el) = list.try_get_untracked().flatten() {
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
        let from_bottom = list.try_get_untracked().flatten().map(|el| el.scroll_height() - el.scroll_top());
        spawn_local(async move {
            if let Err(e) = messaging::older(app).await {
                action_error.set(Some(e.to_string()));
            }
            request_animation_frame(move || {
                if let (Some(el), Some(d)) = (list.try_get_untracked().flatten(), from_bottom) {
                    el.set_scroll_top(el.scroll_height() - d);
                }
                loading_older.set_value(false);
            });
        });
    };
    let scrolled = move |_| {
        let Some(el) = list.try_get_untracked().flatten() else { return };
        at_bottom.set_value(el.scroll_height() - el.scroll_top() - el.client_height() < 48);
        if el.scroll_top() < 64 {
            load_older();
        }
    };

    // New incoming messages are read out; history paged in from the vault is not.
    let announcement = RwSignal::new(None::<(String, String)>);
    Effect::new(move |previous: Option<Option<String>>| {
        let arrived = app.arrived.get();
        let id = arrived.as_ref().map(|m| m.id.clone());
        if let Some(m) = arrived
            && previous.is_some_and(|p| p != id)
            && app.open_peer.get_untracked() == Some(m.peer)
        {
            let from = m.sender_name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| untrack(title));
            announcement.set(Some((from, m.shown_text())));
        }
        id
    });

    view! {
        <section class="card conversation-view" aria-labelledby="conversation-title">
            <div class="conversation-head">
                <button class="secondary" type="button" on:click=back>"Back"</button>
                <h2 id="conversation-title" title=title><bdi dir="auto" data-testid="name">{title}</bdi></h2>
                <Show when=move || standing() == Standing::Accepted && current().is_some()>
                    <Menu label="Options">
                        <button class="secondary" type="button" prop:disabled=move || acting.get() on:click=block>
                            "Block"
                        </button>
                        <button class="secondary" type="button" prop:disabled=move || acting.get() on:click=delete>
                            "Delete conversation"
                        </button>
                    </Menu>
                </Show>
            </div>
            <p class="mono small peer-id" dir="ltr">{move || peer().map(|p| p.to_string()).unwrap_or_default()}</p>
            <Confirm open=asking_block title="Block this person?" action="Block"
                on_confirm=move || act(app, action_error, acting, None, messaging::block)
                on_close=move || asking_block.set(false)>
                <p>"Messages from "<bdi class="name" dir="auto" title=title>{title}</bdi>
                    " will no longer reach you. You can unblock them later in Settings."</p>
            </Confirm>
            <Confirm open=asking_delete title="Delete this conversation?" action="Delete" danger=true
                on_confirm=move || act(app, action_error, acting, Some(Screen::Home), messaging::delete)
                on_close=move || asking_delete.set(false)>
                <p>"Every message with "<bdi class="name" dir="auto" title=title>{title}</bdi>
                    " will be deleted from this device. This cannot be undone."</p>
            </Confirm>
            <Confirm open=Signal::derive(move || opening_link.with(Option::is_some)) title="Open this link?" action="Open"
                on_confirm=move || {
                    if let Some(url) = opening_link.get_untracked() {
                        open_in_new_tab(&url);
                    }
                }
                on_close=move || opening_link.set(None)>
                <p class="mono link-address" dir="ltr" data-testid="link-address">
                    {move || opening_link.get().unwrap_or_default()}
                </p>
                <p>"It opens in a new tab, outside Hush. Open links only from people you trust."</p>
            </Confirm>
            <Show when=move || standing() == Standing::Request>
                <div class="request" role="group" aria-label="Message request">
                    <p data-testid="request-sentence"><bdi class="name" dir="auto" title=title data-testid="name">{title}</bdi>
                        " is not in your conversations yet. Accept to talk, or just reply."</p>
                    <div class="row">
                        <button class="primary" type="button" prop:disabled=move || acting.get() on:click=accept>"Accept"</button>
                        <button class="secondary" type="button" prop:disabled=move || acting.get() on:click=block>"Block"</button>
                        <button class="danger" type="button" prop:disabled=move || acting.get() on:click=delete>"Delete"</button>
                    </div>
                </div>
            </Show>
            <Show when=move || standing() == Standing::Blocked>
                <div class="request blocked" role="group" aria-label="Blocked">
                    <p>"You blocked "<bdi class="name" dir="auto" title=title>{title}</bdi>". Messages they send do not reach you."</p>
                    <div class="row">
                        <button class="primary" type="button" prop:disabled=move || acting.get() on:click=unblock>"Unblock"</button>
                        <button class="danger" type="button" prop:disabled=move || acting.get() on:click=delete>"Delete messages"</button>
                    </div>
                </div>
            </Show>
            <Problem error=action_error />
            <Notice />
            {move || request_note().map(|(before, after)| view! {
                <p class="note request-note">{before}<bdi class="name" dir="auto" title=title>{title}</bdi>{after}</p>
            })}
            <Show when=move || app.has_older.get()>
                <button class="secondary older" type="button" on:click=move |_| load_older()>
                    "Show older messages"
                </button>
            </Show>
            <ol class="messages" node_ref=list on:scroll=scrolled tabindex="0" aria-label="Messages">
                <For each=move || app.messages.get() key=|m| (m.id.clone(), m.status.as_str())
                    children=move |m: Message| view! { <Bubble message=m opening_link=opening_link /> } />
            </ol>
            <p class="visually-hidden" role="status" aria-live="polite">
                {move || announcement.get().map(|(from, text)| view! { <bdi dir="auto">{from}</bdi>": "<bdi dir="auto">{text}</bdi> })}
            </p>
            <Show when=move || standing() != Standing::Blocked>
                <form class="composer" on:submit=submit>
                    <label for="composer" class="visually-hidden">"Message"</label>
                    <div class="compose-row">
                        <textarea id="composer" data-testid="composer" rows="1" placeholder="Message" dir="auto"
                            node_ref=composer data-autofocus="" aria-describedby="composer-count"
                            prop:value=move || draft.get() on:input=move |ev| typed(event_target_value(&ev))
                            on:keydown=keydown></textarea>
                        <button class="primary" type="submit" data-testid="send"
                            prop:disabled=move || !sendable() || sending.get()>"Send"</button>
                    </div>
                    <div class="compose-meta">
                        <span id="composer-count" class={move || if count() > MAX_CHARS { "count over" } else { "count" }}>
                            {move || match count() {
                                0 => String::new(),
                                n if n > MAX_CHARS => format!("{n} / {} — too long", MAX_CHARS),
                                n => format!("{n} / {}", MAX_CHARS),
                            }}
                        </span>
                        <span class="keys">"Enter sends · Shift+Enter: new line"</span>
                    </div>
                    <Problem error=send_error />
                </form>
            </Show>
        </section>
    }
}

/// One message: who, what, when, and for one's own its delivery state (with Retry when failed).
#[component]
fn Bubble(
    /// The message.
    message: Message,
    /// The link the person clicked, asked about before it opens.
    opening_link: RwSignal<Option<String>>,
) -> impl IntoView {
    let app = use_app();
    let error = RwSignal::new(None::<String>);
    let m = message;
    let id = m.id.clone();
    let failed = m.status == Status::Failed;
    let clock_time = if m.outgoing {
        let state = match m.status {
            Status::Sending => "Sending…",
            Status::Sent => "Sent",
            Status::Failed => "Not sent",
            Status::Deleted => "Deleted",
        };
        format!("{} · {state}", clock(m.timestamp))
    } else {
        clock(m.timestamp)
    };
    let retry = move |_| {
        let id = id.clone();
        spawn_local(async move {
            if let Err(e) = messaging::retry(app, &id).await {
                error.set(Some(e.to_string()));
            }
        });
    };
    let sender = if m.outgoing { None } else { Some(m.sender_name.clone().unwrap_or_default()) };
    let problem = m.problem.clone();
    // What the engine changed to keep a peer's message inert is said, not hidden.
    let shortened = m.adjusted.shortened.then(|| {
        format!("Message shortened — Hush keeps only its first {} characters.", thousands(MAX_RECEIVED_CHARS))
    });
    let arrival_time = m.adjusted.claimed_timestamp.is_some();
    view! {
        <li class=if m.outgoing { "message out" } else { "message in" } class:failed=failed data-testid="message"
            data-direction=if m.outgoing { "out" } else { "in" } data-status=m.status.as_str()>
            {sender.map(|name| view! {
                <span class="sender" title=name><bdi dir="auto" data-testid="name">{name.clone()}</bdi></span>
            })}
            {m.unsupported.map(|u| view! { <p class="body unsupported" data-testid="unsupported">{u.describe()}</p> })}
            {(!m.body.is_empty()).then(|| view! {
                <p class="body" dir="auto" data-testid="body">{message_text(&m.body, opening_link)}</p>
            })}
            {shortened.map(|note| view! { <p class="shortened" data-testid="shortened">{note}</p> })}
            <span class="when">
                {clock_time}
                {arrival_time.then(|| view! {
                    <span data-testid="time-adjusted"
                        title="The time the sender's device gave cannot be right: this is when the message arrived.">
                        " · when it arrived"
                    </span>
                })}
            </span>
            <Show when=move || failed>
                {problem.clone().map(|p| view! { <span class="problem-reason">{format!("Not sent: {p}")}</span> })}
                <button class="retry" type="button" on:click=retry.clone()>"Retry"</button>
            </Show>
            <Problem error=error />
        </li>
    }
}

/// A message's text: plain text, and its web addresses as links that ask before they open (a
/// click, a middle click or Enter on one shows "Open this link?").
fn message_text(text: &str, opening_link: RwSignal<Option<String>>) -> impl IntoView + use<> {
    links::pieces(text)
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.to_owned().into_any(),
            Piece::Link(url) => {
                let url = url.to_owned();
                let ask = {
                    let url = url.clone();
                    move |ev: leptos::ev::MouseEvent| {
                        ev.prevent_default();
                        opening_link.set(Some(url.clone()));
                    }
                };
                let middle = {
                    let ask = ask.clone();
                    move |ev: leptos::ev::MouseEvent| {
                        if ev.button() == 1 {
                            ask(ev);
                        }
                    }
                };
                view! {
                    <a href=url rel="noopener noreferrer" target="_blank" data-testid="link"
                        on:click=ask on:auxclick=middle>{url.clone()}</a>
                }
                .into_any()
            }
        })
        .collect_view()
}

/// Opens `url` in a new tab, with no way back to this page (`noopener`) and no referrer.
fn open_in_new_tab(url: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.open_with_url_and_target_and_features(url, "_blank", "noopener,noreferrer");
    }
}

/// `n` with a comma between thousands (10,000).
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}
