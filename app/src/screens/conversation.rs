//! One conversation: its messages with their status (links in them open after a question), what
//! people do to a message (reply, react, delete for this device or for everyone — deleting is
//! asked first), quotes that jump to their original, reactions, disappearing messages (the
//! setting, its notices, following a peer's), who is typing, "New messages" while scrolled up,
//! the message-request panel (accept, block, delete), blocking, unblocking and deleting (each
//! asked first), and the composer. Every rule is the engine's; this renders what it answers.

use crypto_core::identity::{IdPrefix, SessionId};
use hush_client::MAX_CHARS;
use hush_client::conversations::{
    AFTER_READ_TIMERS, AFTER_SEND_TIMERS, Disappearing, Message, Notice, Quoted, Standing, Status, quote_text, short_id,
};
use hush_client::text::MAX_RECEIVED_CHARS;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::attachments::{ChosenFiles, ClipIcon, MessageFiles, Viewer, Viewing, add_refusal, unreadable};
use super::invitation::InvitationCard;
use super::{Confirm, Debounce, Menu, Notice as NoticeLine, Problem, clock};
use crate::files::{self, Chosen};
use crate::i18n::{Part, Text, around, parts, t, tf, tn};
use crate::links::{self, Piece};
use crate::messaging;
use crate::session::{AppState, Screen, use_app};
use crate::when;

/// How long typing pauses before the draft is kept.
const KEEP_DRAFT_AFTER_MS: u64 = 300;

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
            Err(e) => error.set(Some(crate::words::error_text(&e))),
        }
        busy.set(false);
    });
}

/// What the conversation's messages share: the open conversation's title and the person's
/// choices that span messages (the reply being written, the open reaction picker, the message
/// whose actions a tap showed, the deletion being asked about, the link being asked about).
#[derive(Clone, Copy)]
struct Thread {
    /// The app's state.
    app: AppState,
    /// The conversation's title (their nickname or name).
    title: Signal<String>,
    /// Whether they are blocked (nothing can be sent to them: no reply, no reaction).
    blocked: Signal<bool>,
    /// Whether the conversation is accepted (its files are fetched as soon as they are shown).
    trusted: Signal<bool>,
    /// This account's Session ID.
    me: Option<SessionId>,
    /// The message being replied to.
    replying: RwSignal<Option<Message>>,
    /// The message whose reaction picker is open.
    picking: RwSignal<Option<String>>,
    /// The message whose actions a tap (or a click) shows.
    chosen: RwSignal<Option<String>>,
    /// The message whose deletion is asked about, and whether for everyone.
    deleting: RwSignal<Option<(String, bool)>>,
    /// The link the person clicked, asked about before it opens.
    opening_link: RwSignal<Option<String>>,
    /// The message list (to scroll to a quoted message).
    list: NodeRef<leptos::html::Ol>,
    /// The composer (focused when a reply starts).
    composer: NodeRef<leptos::html::Textarea>,
    /// Whether the list follows new messages (it is at the bottom).
    at_bottom: StoredValue<bool>,
    /// The picture open in the viewer.
    viewing: Viewing,
    /// A community member's DM (a blinded ID): only text goes through a server's inbox, so no
    /// files, reactions, deletion for everyone or timer are offered.
    text_only: Signal<bool>,
}

impl Thread {
    /// Who `by` is, as a message or reaction names them: "You", or the conversation's title.
    fn who(&self, by: &SessionId) -> String {
        if Some(*by) == self.me {
            t(Text::ConversationYou).to_owned()
        } else if Some(*by) == self.app.open_peer.get_untracked() {
            self.title.get_untracked()
        } else {
            short_id(by)
        }
    }
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
    let me = app.session_id();
    let note_to_self = move || me.is_some() && peer() == me;
    let text_only = Signal::derive(move || {
        peer().is_some_and(|p| matches!(p.prefix(), IdPrefix::Blinded | IdPrefix::BlindedLegacy))
    });
    let setting = Memo::new(move |_| current().and_then(|c| c.disappearing));
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
        if standing() != Standing::Accepted || they_wrote() || note_to_self() {
            return None;
        }
        Some(around(
            if approved.get().unwrap_or(false) {
                Text::ConversationRequestAccepted
            } else if we_wrote() {
                Text::ConversationRequestPending
            } else {
                Text::ConversationRequestFirst
            },
            "name",
        ))
    };

    let list = NodeRef::<leptos::html::Ol>::new();
    let composer = NodeRef::<leptos::html::Textarea>::new();
    let at_bottom = StoredValue::new(true);
    let title_signal = Signal::derive(title);
    let thread = Thread {
        app,
        title: title_signal,
        blocked: Signal::derive(move || standing() == Standing::Blocked),
        trusted: Signal::derive(move || standing() == Standing::Accepted),
        me,
        replying: RwSignal::new(None),
        picking: RwSignal::new(None),
        chosen: RwSignal::new(None),
        deleting: RwSignal::new(None),
        opening_link: RwSignal::new(None),
        list,
        composer,
        at_bottom,
        viewing: RwSignal::new(None),
        text_only,
    };
    let replying = thread.replying;
    // The files chosen for the next message (picker, paste, drop), not yet sent.
    let chosen = RwSignal::new_local(Vec::<Chosen>::new());
    let next_file = StoredValue::new(0u64);
    let dragging = RwSignal::new(false);
    let picker = NodeRef::<leptos::html::Input>::new();
    // A reply whose message is deleted meanwhile (here, or for everyone) is left.
    Effect::new(move |_| {
        let gone = replying.with(|r| {
            r.as_ref().is_some_and(|m| {
                app.messages.with(|list| !list.iter().any(|x| x.id == m.id && x.status != Status::Deleted))
            })
        });
        if gone {
            replying.set(None);
        }
    });
    // A reply started in one conversation does not follow the person into another.
    Effect::new(move |previous: Option<Option<SessionId>>| {
        let now = peer();
        if previous.is_some_and(|p| p != now) {
            replying.set(None);
            thread.picking.set(None);
            thread.chosen.set(None);
            thread.viewing.set(None);
            forget_chosen(chosen);
        }
        now
    });

    // The draft is kept (sealed) for each conversation, so it survives a reload: loaded when the
    // conversation opens, saved a moment after the person stops typing.
    let pause = Debounce::new(KEEP_DRAFT_AFTER_MS);
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
        let Some(p) = app.open_peer.get_untracked() else {
            draft.set(text);
            return;
        };
        // The engine decides whether (the setting) and how often the peer is told.
        spawn_local(messaging::typing(app, p, !text.trim().is_empty()));
        draft.set(text);
        pause.then(move || {
            let Some(text) = draft.try_get_untracked() else { return };
            spawn_local(async move {
                let _ = messaging::keep_draft(app, p, &text).await;
            });
        });
    };
    let stopped_typing = move |_| {
        if let Some(p) = app.open_peer.get_untracked() {
            spawn_local(messaging::typing(app, p, false));
        }
    };
    let send_error = RwSignal::new(None::<String>);
    let action_error = RwSignal::new(None::<String>);
    let acting = RwSignal::new(false);
    let sending = RwSignal::new(false);
    let count = move || draft.with(|d| d.chars().count());
    let sendable =
        move || (!draft.with(|d| d.trim().is_empty()) || chosen.with(|c| !c.is_empty())) && count() <= MAX_CHARS;
    // Files are added one by one; one too large (or one too many) is said, and left out, before
    // anything is uploaded.
    let add_files = move |list: Vec<web_sys::File>| {
        for file in list {
            let (name, size) = (file.name(), file.size() as u64);
            if let Some(why) = add_refusal(&name, size, chosen.with_untracked(Vec::len)) {
                send_error.set(Some(why));
                continue;
            }
            let id = next_file.get_value();
            next_file.set_value(id + 1);
            chosen.update(|c| c.push(Chosen::new(id, file)));
        }
    };
    let send = move || {
        if sending.get_untracked() || !sendable() {
            return;
        }
        let Some(p) = app.open_peer.get_untracked() else { return };
        let text = draft.get_untracked();
        let reply_to = replying.get_untracked().map(|m| m.id);
        let attached = chosen.get_untracked();
        sending.set(true);
        send_error.set(None);
        spawn_local(async move {
            let sent = if attached.is_empty() {
                match &reply_to {
                    Some(id) => messaging::send_reply(app, p, &text, id).await,
                    None => messaging::send(app, p, &text).await,
                }
            } else {
                let mut ready = Vec::with_capacity(attached.len());
                for c in &attached {
                    match files::prepare(c).await {
                        Some(file) => ready.push(file),
                        None => {
                            send_error.set(Some(unreadable(&c.name)));
                            sending.set(false);
                            return;
                        }
                    }
                }
                let sent = messaging::send_files(app, p, &text, reply_to.as_deref(), ready).await;
                if sent.is_ok() {
                    let ids: Vec<u64> = attached.iter().map(|c| c.id).collect();
                    chosen.try_update(|c| c.retain(|c| !ids.contains(&c.id)));
                }
                sent
            };
            match sent {
                // The text is cleared only once it is safe in the outbox (and only if the person
                // has not typed something else meanwhile; the engine removed the kept draft).
                Ok(_) => {
                    pause.forget();
                    if replying.try_get_untracked().flatten().map(|m| m.id) == reply_to {
                        replying.set(None);
                    }
                    if draft.try_get_untracked().is_some_and(|d| d == text) {
                        draft.set(String::new());
                    } else if let Some(now) = draft.try_get_untracked() {
                        let _ = messaging::keep_draft(app, p, &now).await;
                    }
                    messaging::typing(app, p, false).await;
                }
                Err(e) => send_error.set(Some(crate::words::error_text(&e))),
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
    // (Chinese, Japanese, …) does neither. Escape leaves a reply.
    let keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() && ev.key_code() != 229 {
            ev.prevent_default();
            send();
        } else if ev.key() == "Escape" && replying.with_untracked(Option::is_some) {
            ev.prevent_default();
            replying.set(None);
        }
    };

    let asking_block = RwSignal::new(false);
    let asking_delete = RwSignal::new(false);
    let choosing_timer = RwSignal::new(false);
    let opening_link = thread.opening_link;
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
    let deleting = thread.deleting;
    let delete_message = move |everyone: bool| {
        let Some((id, _)) = deleting.get_untracked() else { return };
        action_error.set(None);
        spawn_local(async move {
            let done = if everyone {
                messaging::delete_for_everyone(app, &id).await
            } else {
                messaging::delete_for_me(app, &id).await
            };
            match done {
                // The message's actions are gone with it: the list keeps the focus.
                Ok(()) => {
                    if let Some(el) = list.try_get_untracked().flatten() {
                        let _ = el.focus();
                    }
                }
                Err(e) => action_error.set(Some(crate::words::error_text(&e))),
            }
        });
    };
    let set_timer = move |new: Option<Disappearing>| {
        let Some(p) = app.open_peer.get_untracked() else { return };
        action_error.set(None);
        spawn_local(async move {
            if let Err(e) = messaging::set_disappearing(app, p, new).await {
                action_error.set(Some(crate::words::error_text(&e)));
            }
        });
    };
    // The peer's latest change of the setting, when it is not this account's: "Follow setting".
    let to_follow = Memo::new(move |_| {
        let theirs = app.messages.with(|list| {
            list.iter()
                .rev()
                .find(|m| !m.outgoing && m.notice.is_some())
                .and_then(|m| m.notice.map(|Notice::Disappearing(s)| (m.id.clone(), s)))
        })?;
        (theirs.1 != setting.get()).then_some(theirs)
    });

    // The message pane scrolls on its own: it opens at the newest message, follows new ones while
    // the person is at the bottom (and always after they send), and loads older history from the
    // vault when they scroll near the top, keeping what they were reading in place. What arrives
    // while they read further up is counted on a "New messages" button.
    let loading_older = StoredValue::new(false);
    // What was loaded when the person left the bottom (the oldest time, and the ids): messages
    // from them that came after are unseen (older history paged in since is not).
    let seen = RwSignal::new(None::<(u64, std::collections::HashSet<String>)>);
    let unseen = Memo::new(move |_| {
        let n = seen.with(|seen| {
            let (oldest, ids) = seen.as_ref()?;
            Some(app.messages.with(|list| {
                list.iter().filter(|m| !m.outgoing && m.timestamp >= *oldest && !ids.contains(&m.id)).count()
            }))
        })?;
        (n > 0).then_some(n)
    });
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
                action_error.set(Some(crate::words::error_text(&e)));
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
        let bottom = el.scroll_height() - el.scroll_top() - el.client_height() < 48;
        at_bottom.set_value(bottom);
        if bottom {
            if seen.with_untracked(Option::is_some) {
                seen.set(None);
            }
        } else if seen.with_untracked(Option::is_none) {
            let loaded = app.messages.with_untracked(|list| {
                let oldest = list.first().map_or(0, |m| m.timestamp);
                (oldest, list.iter().map(|m| m.id.clone()).collect())
            });
            seen.set(Some(loaded));
        }
        if el.scroll_top() < 64 {
            load_older();
        }
    };
    let to_newest = move |_| {
        seen.set(None);
        at_bottom.set_value(true);
        if let Some(el) = list.try_get_untracked().flatten() {
            el.set_scroll_top(el.scroll_height());
            let _ = el.focus();
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
            announcement.set(Some((from, crate::words::shown_text(&m.shown()))));
        }
        id
    });
    let typing = move || peer().is_some_and(|p| app.typing.with(|t| t.iter().any(|(x, _)| *x == p)));
    let replying_to = move || {
        replying.get().map(|m| {
            let name = if m.outgoing { t(Text::ConversationYourself).to_owned() } else { title() };
            let snippet = if m.body.is_empty() { crate::words::shown_text(&m.shown()) } else { quote_text(&m.body) };
            (name, snippet)
        })
    };
    let cancel_reply = move |_| {
        replying.set(None);
        if let Some(el) = composer.try_get_untracked().flatten() {
            let _ = el.focus();
        }
    };

    // Files dropped anywhere on the conversation are added to the next message.
    let has_files = |ev: &leptos::ev::DragEvent| {
        ev.data_transfer().is_some_and(|d| d.types().includes(&wasm_bindgen::JsValue::from_str("Files"), 0))
    };
    let drag_over = move |ev: leptos::ev::DragEvent| {
        if has_files(&ev) && standing() != Standing::Blocked && !text_only.get_untracked() {
            ev.prevent_default();
            dragging.set(true);
        }
    };
    let drag_leave = move |ev: leptos::ev::DragEvent| {
        use wasm_bindgen::JsCast;
        let inside = ev.related_target().and_then(|t| t.dyn_into::<web_sys::Node>().ok());
        let section = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Node>().ok());
        if !section.is_some_and(|s| s.contains(inside.as_ref())) {
            dragging.set(false);
        }
    };
    let dropped = move |ev: leptos::ev::DragEvent| {
        dragging.set(false);
        if !has_files(&ev) || standing() == Standing::Blocked || text_only.get_untracked() {
            return;
        }
        ev.prevent_default();
        add_files(files::list(ev.data_transfer().and_then(|d| d.files())));
    };
    // Pasted files (a copied picture) are added too; pasted text goes into the text as usual.
    let pasted = move |ev: leptos::ev::ClipboardEvent| {
        let list = files::list(ev.clipboard_data().and_then(|d| d.files()));
        if !list.is_empty() && !text_only.get_untracked() {
            ev.prevent_default();
            add_files(list);
        }
    };
    let picked = move |_| {
        let Some(input) = picker.get_untracked() else { return };
        add_files(files::list(input.files()));
        // The same file can be chosen again.
        input.set_value("");
    };
    let attach = move |_| {
        if let Some(input) = picker.get_untracked() {
            input.click();
        }
    };

    view! {
        <section class="card conversation-view" aria-labelledby="conversation-title" class:dragging=move || dragging.get()
            on:dragover=drag_over on:dragleave=drag_leave on:drop=dropped>
            <div class="conversation-head">
                <button class="secondary" type="button" on:click=back>{t(Text::CommonBack)}</button>
                <h2 id="conversation-title" title=title><bdi dir="auto" data-testid="name">{title}</bdi></h2>
                <Show when=move || standing() == Standing::Accepted && current().is_some()>
                    <Show when=move || !text_only.get()>
                    {move || setting.get().map(|s| view! {
                        <span class="timer-now" data-testid="disappearing-now" title=timer_sentence(s)>
                            <TimerIcon />{duration(s.seconds())}
                        </span>
                    })}
                    <button class="secondary timer-button" type="button" title=t(Text::CommonDisappearingMessages)
                        aria-label=t(Text::CommonDisappearingMessages) aria-haspopup="dialog"
                        on:click=move |_| choosing_timer.set(true)>
                        <TimerIcon />
                    </button>
                    </Show>
                    <Menu label=t(Text::ConversationOptions)>
                        <button class="secondary" type="button" prop:disabled=move || acting.get() on:click=block>
                            {t(Text::CommonBlock)}
                        </button>
                        <button class="secondary" type="button" prop:disabled=move || acting.get() on:click=delete>
                            {t(Text::ConversationDelete)}
                        </button>
                    </Menu>
                </Show>
            </div>
            <p class="mono small peer-id" dir="ltr">{move || peer().map(|p| p.to_string()).unwrap_or_default()}</p>
            <Confirm open=asking_block title=t(Text::ConversationBlockTitle) action=t(Text::CommonBlock)
                on_confirm=move || act(app, action_error, acting, None, messaging::block)
                on_close=move || asking_block.set(false)>
                <p>{named(Text::ConversationBlockText, title_signal)}</p>
            </Confirm>
            <Confirm open=asking_delete title=t(Text::ConversationDeleteTitle) action=t(Text::CommonDelete) danger=true
                on_confirm=move || act(app, action_error, acting, Some(Screen::Home), messaging::delete)
                on_close=move || asking_delete.set(false)>
                <p>{named(Text::ConversationDeleteText, title_signal)}</p>
            </Confirm>
            <Confirm open=Signal::derive(move || deleting.with(|d| matches!(d, Some((_, false)))))
                title=t(Text::ConversationDeleteForMeTitle) action=t(Text::CommonDelete) danger=true
                on_confirm=move || delete_message(false)
                on_close=move || deleting.set(None)>
                {move || if note_to_self() {
                    view! { <p>{t(Text::ConversationDeleteForMeNote)}</p> }.into_any()
                } else {
                    view! { <p>{named(Text::ConversationDeleteForMeText, title_signal)}</p> }.into_any()
                }}
            </Confirm>
            <Confirm open=Signal::derive(move || deleting.with(|d| matches!(d, Some((_, true)))))
                title=t(Text::ConversationDeleteForEveryoneTitle) action=t(Text::MessageDeleteForEveryone) danger=true
                on_confirm=move || delete_message(true)
                on_close=move || deleting.set(None)>
                {move || if note_to_self() {
                    view! { <p>{t(Text::ConversationDeleteForEveryoneNote)}</p> }.into_any()
                } else {
                    view! { <p>{named(Text::ConversationDeleteForEveryoneText, title_signal)}</p> }.into_any()
                }}
            </Confirm>
            <Viewer viewing=thread.viewing />
            <TimerDialog open=choosing_timer current=setting note_to_self=Signal::derive(note_to_self)
                title=Signal::derive(title) on_set=set_timer />
            <Confirm open=Signal::derive(move || opening_link.with(Option::is_some)) title=t(Text::ConversationLinkTitle)
                action=t(Text::ConversationLinkOpen)
                on_confirm=move || {
                    if let Some(url) = opening_link.get_untracked() {
                        open_in_new_tab(&url);
                    }
                }
                on_close=move || opening_link.set(None)>
                <p class="mono link-address" dir="ltr" data-testid="link-address">
                    {move || opening_link.get().unwrap_or_default()}
                </p>
                <p>{t(Text::ConversationLinkText)}</p>
            </Confirm>
            <Show when=move || standing() == Standing::Request>
                <div class="request" role="group" aria-label=t(Text::ConversationRequest)>
                    <p data-testid="request-sentence">{request_sentence(title_signal)}</p>
                    <div class="row">
                        <button class="primary" type="button" prop:disabled=move || acting.get() on:click=accept>
                            {t(Text::ConversationAccept)}
                        </button>
                        <button class="secondary" type="button" prop:disabled=move || acting.get() on:click=block>
                            {t(Text::CommonBlock)}
                        </button>
                        <button class="danger" type="button" prop:disabled=move || acting.get() on:click=delete>
                            {t(Text::CommonDelete)}
                        </button>
                    </div>
                </div>
            </Show>
            <Show when=move || standing() == Standing::Blocked>
                <div class="request blocked" role="group" aria-label=t(Text::ConversationBlocked)>
                    <p>{named(Text::ConversationBlockedText, title_signal)}</p>
                    <div class="row">
                        <button class="primary" type="button" prop:disabled=move || acting.get() on:click=unblock>
                            {t(Text::CommonUnblock)}
                        </button>
                        <button class="danger" type="button" prop:disabled=move || acting.get() on:click=delete>
                            {t(Text::ConversationDeleteMessages)}
                        </button>
                    </div>
                </div>
            </Show>
            <Problem error=action_error />
            <NoticeLine />
            {move || request_note().map(|(before, after)| view! {
                <p class="note request-note">{before}<bdi class="name" dir="auto" title=title>{title}</bdi>{after}</p>
            })}
            <Show when=move || app.has_older.get()>
                <button class="secondary older" type="button" on:click=move |_| load_older()>
                    {t(Text::ConversationOlder)}
                </button>
            </Show>
            <div class="pane">
                <ol class="messages" node_ref=list on:scroll=scrolled tabindex="0" aria-label=t(Text::ConversationMessages)>
                    <For each=move || app.messages.get() key=|m| (m.id.clone(), m.status.as_str())
                        children=move |m: Message| {
                            if m.notice.is_some() {
                                view! { <NoticeItem message=m thread=thread to_follow=to_follow on_follow=set_timer /> }.into_any()
                            } else {
                                view! { <Bubble message=m thread=thread /> }.into_any()
                            }
                        } />
                </ol>
                <Show when=move || unseen.get().is_some()>
                    <button class="primary new-messages" type="button" on:click=to_newest>
                        {t(Text::ConversationNewMessages)}
                        <span class="badge">{move || crate::i18n::number(unseen.get().unwrap_or_default() as u64)}</span>
                    </button>
                </Show>
            </div>
            <p class="visually-hidden" role="status" aria-live="polite">
                {move || announcement.get().map(|(from, text)| {
                    parts(Text::ConversationAnnouncement)
                        .into_iter()
                        .map(|part| match part {
                            Part::Placeholder("name") => view! { <bdi dir="auto">{from.clone()}</bdi> }.into_any(),
                            Part::Placeholder("text") => view! { <bdi dir="auto">{text.clone()}</bdi> }.into_any(),
                            Part::Placeholder(other) => format!("{{{other}}}").into_any(),
                            Part::Words(words) => words.into_any(),
                        })
                        .collect_view()
                })}
            </p>
            <p class="typing" role="status" data-testid="typing">
                {move || typing().then(|| named(Text::ConversationTyping, title_signal))}
            </p>
            <Show when=move || standing() != Standing::Blocked>
                <form class="composer" on:submit=submit>
                    {move || replying_to().map(|(name, snippet)| view! {
                        <div class="replying" data-testid="replying">
                            <p>{named(Text::ConversationReplyingTo, Signal::derive(move || name.clone()))}<span class="snippet" dir="auto">{snippet}</span></p>
                            <button class="cancel-reply" type="button" aria-label=t(Text::ConversationCancelReply)
                                title=t(Text::ConversationCancelReply)
                                on:click=cancel_reply>"×"</button>
                        </div>
                    })}
                    <ChosenFiles chosen=chosen />
                    <Show when=move || dragging.get()>
                        <p class="drop-hint" aria-hidden="true">{t(Text::AttachDrop)}</p>
                    </Show>
                    <label for="composer" class="visually-hidden">{t(Text::ConversationMessage)}</label>
                    <div class="compose-row">
                        <Show when=move || !text_only.get()>
                            <input type="file" multiple hidden data-testid="attach" node_ref=picker on:change=picked />
                            <button class="secondary attach-button" type="button" aria-label=t(Text::AttachButton)
                                title=t(Text::AttachButton) on:click=attach>
                                <ClipIcon />
                            </button>
                            // The voice recorder (app/src/voice.rs): its "Record voice message" button here,
                            // beside the attach button, and its panel while recording.
                            <crate::voice::VoiceRecorder />
                        </Show>
                        <textarea id="composer" data-testid="composer" rows="1" placeholder=t(Text::ConversationMessage) dir="auto"
                            node_ref=composer data-autofocus="" aria-describedby="composer-count"
                            prop:value=move || draft.get() on:input=move |ev| typed(event_target_value(&ev))
                            on:keydown=keydown on:blur=stopped_typing on:paste=pasted></textarea>
                        <button class="primary" type="submit" data-testid="send"
                            prop:disabled=move || !sendable() || sending.get()>{t(Text::ConversationSend)}</button>
                    </div>
                    <div class="compose-meta">
                        <span id="composer-count" class={move || if count() > MAX_CHARS { "count over" } else { "count" }}>
                            {move || match count() {
                                0 => String::new(),
                                n => tf(
                                    if n > MAX_CHARS { Text::ConversationCountOver } else { Text::ConversationCount },
                                    &[("count", &crate::i18n::digits(n as u64)), ("max", &crate::i18n::digits(MAX_CHARS as u64))],
                                ),
                            }}
                        </span>
                        <span class="keys">{t(Text::ConversationKeys)}</span>
                    </div>
                    <Problem error=send_error />
                </form>
            </Show>
        </section>
    }
}

/// Lets go of the files chosen and not sent (their previews' URLs too).
fn forget_chosen(chosen: RwSignal<Vec<Chosen>, LocalStorage>) {
    chosen.update(|list| {
        for url in list.iter().filter_map(|c| c.preview.as_ref()) {
            files::revoke(url);
        }
        list.clear();
    });
}

/// A stopwatch: disappearing messages (drawn, so it shows without an emoji font).
#[component]
fn TimerIcon() -> impl IntoView {
    view! {
        <svg class="timer-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="none"
            stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
            <circle cx="12" cy="13" r="8" />
            <path d="M12 9v4l2.5 2.5M9.5 2.5h5M12 2.5V5" />
        </svg>
    }
}

/// The message `id`, sent at `timestamp`, as the list now holds it. The list is in time order,
/// so it is looked for there first; a message whose time changed is found anyway.
fn find_in(list: &[Message], timestamp: u64, id: &str) -> Option<Message> {
    let at = list.partition_point(|m| (m.timestamp, m.id.as_str()) < (timestamp, id));
    match list.get(at) {
        Some(m) if m.id == id => Some(m.clone()),
        _ => list.iter().find(|m| m.id == id).cloned(),
    }
}

/// How far below the top of the message list `list` the top of `element` (inside it) is.
fn offset_in(list: &web_sys::HtmlElement, element: &web_sys::HtmlElement) -> i32 {
    use wasm_bindgen::JsCast;
    let mut top = element.offset_top();
    let mut parent = element.offset_parent().and_then(|p| p.dyn_into::<web_sys::HtmlElement>().ok());
    // At most a few steps: the list is positioned, and so is each message in it.
    while let Some(p) = parent {
        if p == *list {
            break;
        }
        top += p.offset_top();
        parent = p.offset_parent().and_then(|p| p.dyn_into::<web_sys::HtmlElement>().ok());
    }
    top
}

/// Scrolls the message list `list` just enough to show all of `element` (inside it).
fn keep_in_view(list: &web_sys::HtmlElement, element: &web_sys::HtmlElement) {
    let top = offset_in(list, element);
    let bottom = top + element.offset_height();
    let (seen_top, seen_bottom) = (list.scroll_top(), list.scroll_top() + list.client_height());
    if bottom > seen_bottom {
        list.set_scroll_top((bottom - list.client_height()).min(top));
    } else if top < seen_top {
        list.set_scroll_top(top);
    }
}

/// The message `id`'s element in the list, if it is shown.
fn element_of(list: &web_sys::HtmlElement, id: &str) -> Option<web_sys::HtmlElement> {
    use wasm_bindgen::JsCast;
    let quoted = id.replace('\\', "\\\\").replace('"', "\\\"");
    list.query_selector(&format!("[data-id=\"{quoted}\"]")).ok().flatten()?.dyn_into().ok()
}

/// One message: its quote, what it says, when, for one's own its delivery state (with Retry when
/// failed), its reactions and what can be done to it.
#[component]
fn Bubble(
    /// The message as it was when this view of it was made (its status is fixed; the rest
    /// follows the list).
    message: Message,
    /// What the conversation's messages share.
    thread: Thread,
) -> impl IntoView {
    let app = use_app();
    let error = RwSignal::new(None::<String>);
    let m = message;
    let id = m.id.clone();
    let (timestamp, key) = (m.timestamp, m.id.clone());
    let initial = m.clone();
    let live = Memo::new(move |_| app.messages.with(|list| find_in(list, timestamp, &key)));
    let now = move || live.get().unwrap_or_else(|| initial.clone());
    let failed = m.status == Status::Failed;
    let deleted = m.status == Status::Deleted;
    let when_line = {
        let now = now.clone();
        move || {
            let m = now();
            if !m.outgoing || deleted {
                return clock(m.timestamp);
            }
            let state = t(match m.status {
                Status::Sending => Text::MessageSending,
                Status::Sent if m.read_at.is_some() => Text::MessageRead,
                Status::Sent => Text::MessageSent,
                Status::Failed => Text::MessageNotSent,
                Status::Deleted => Text::MessageDeletedState,
            });
            tf(Text::MessageWhenState, &[("time", &clock(m.timestamp)), ("state", state)])
        }
    };
    let retry = {
        let id = id.clone();
        move |_| {
            let id = id.clone();
            spawn_local(async move {
                if let Err(e) = messaging::retry(app, &id).await {
                    error.set(Some(crate::words::error_text(&e)));
                }
            });
        }
    };
    // A 1:1 conversation's header names the peer: their name is not repeated over each message,
    // but screen readers hear it (as it was when they sent the message).
    let sender = if m.outgoing { None } else { Some(m.sender_name.clone().unwrap_or_default()) };
    // Why it was not sent, in the catalogue's words; a record from before reasons were typed has
    // only the engine's English.
    let problem = m.failure.as_ref().map(crate::words::failure_text).or_else(|| m.problem.clone());
    // What the engine changed to keep a peer's message inert is said, not hidden.
    let shortened = m.adjusted.shortened.then(|| tn(Text::MessageShortened, MAX_RECEIVED_CHARS as u64, &[]));
    let arrival_time = m.adjusted.claimed_timestamp.is_some();
    let timer = m.disappearing.filter(|_| !deleted).map(|d| {
        let sentence = match d {
            Disappearing::AfterRead(_) => Text::MessageDisappearsAfterRead,
            Disappearing::AfterSend(_) => Text::MessageDisappearsAfterSend,
        };
        (duration(d.seconds()), tf(sentence, &[("time", &duration(d.seconds()))]))
    });
    let reactions = {
        let now = now.clone();
        move || if deleted { Vec::new() } else { now().reactions() }
    };
    let mine = {
        let reactions = reactions.clone();
        Signal::derive(move || {
            reactions()
                .into_iter()
                .filter(|(_, by)| thread.me.is_some_and(|me| by.contains(&me)))
                .map(|(e, _)| e)
                .collect()
        })
    };
    let chosen = {
        let id = id.clone();
        Memo::new(move |_| thread.chosen.with(|c| c.as_deref() == Some(id.as_str())))
    };
    let picking = {
        let id = id.clone();
        Memo::new(move |_| thread.picking.with(|p| p.as_deref() == Some(id.as_str())))
    };
    // A tap (or click) on the message, not on one of its buttons or links, shows its actions.
    let tap = {
        let id = id.clone();
        move |ev: leptos::ev::MouseEvent| {
            use wasm_bindgen::JsCast;
            let on_control = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest("button, a, input, form").ok().flatten())
                .is_some();
            if on_control || deleted {
                return;
            }
            let id = id.clone();
            thread.chosen.update(|c| *c = if c.as_deref() == Some(id.as_str()) { None } else { Some(id) });
        }
    };
    let files = (!deleted && !m.attachments.is_empty()).then(|| {
        let now = now.clone();
        (id.clone(), Signal::derive(move || now().attachments))
    });
    let sending_now = {
        let now = now.clone();
        Signal::derive(move || now().status == Status::Sending)
    };
    let reply = move |_| {
        thread.replying.set(Some(now()));
        thread.chosen.set(None);
        if let Some(el) = thread.composer.try_get_untracked().flatten() {
            let _ = el.focus();
        }
    };
    let react_toggle = {
        let id = id.clone();
        move |_| {
            let id = id.clone();
            thread.picking.update(|p| *p = if p.as_deref() == Some(id.as_str()) { None } else { Some(id) });
        }
    };
    let ask_delete = {
        let id = id.clone();
        move |everyone: bool| thread.deleting.set(Some((id.clone(), everyone)))
    };
    let ask_delete_everyone = ask_delete.clone();
    let toggle_reaction = {
        let id = id.clone();
        move |emoji: String, on: bool| {
            let id = id.clone();
            spawn_local(async move {
                if let Err(e) = messaging::react(app, &id, &emoji, on).await {
                    error.set(Some(crate::words::error_text(&e)));
                }
            });
        }
    };
    let close_picker = {
        let id = id.clone();
        Callback::new(move |refocus: bool| {
            thread.picking.set(None);
            if refocus
                && let Some(list) = thread.list.try_get_untracked().flatten()
                && let Some(li) = element_of(&list, &id)
                && let Ok(Some(button)) = li.query_selector(".react-button")
                && let Ok(button) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(button)
            {
                let _ = button.focus();
            }
        })
    };
    // A tapped message's actions, and an open picker, are scrolled into view.
    Effect::new({
        let id = id.clone();
        move |_| {
            if !(chosen.get() || picking.get()) {
                return;
            }
            let id = id.clone();
            request_animation_frame(move || {
                let Some(list) = thread.list.try_get_untracked().flatten() else { return };
                let Some(li) = element_of(&list, &id) else { return };
                let picker = li.query_selector(".picker").ok().flatten();
                let target = picker.and_then(|p| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(p).ok());
                keep_in_view(&list, target.as_ref().unwrap_or(&li));
            });
        }
    });
    let outgoing = m.outgoing;
    let body = m.body.clone();
    let unsupported = m.unsupported;
    let invitation = m.invitation.clone();
    // The conversation's peer does not change under a message.
    let text_only = thread.text_only.get_untracked();
    let quote = m.quote.clone().filter(|_| !deleted);
    let picker_id = id.clone();

    view! {
        <li class=if outgoing { "message out" } else { "message in" } class:failed=failed class:deleted=deleted
            class:chosen=move || chosen.get() data-testid="message" data-id=id
            data-direction=if outgoing { "out" } else { "in" } data-status=m.status.as_str() on:click=tap>
            {sender.map(|name| view! {
                <span class="sender visually-hidden" title=name><bdi dir="auto" data-testid="name">{name.clone()}</bdi></span>
            })}
            {quote.map(|q| view! { <QuoteBlock quote=q thread=thread /> })}
            {files.map(|(file_id, attachments)| view! {
                <MessageFiles message_id=file_id attachments=attachments sending=sending_now viewing=thread.viewing error=error
                    trusted=thread.trusted />
            })}
            {if deleted {
                view! { <p class="body deleted-text" data-testid="body">{t(Text::MessageDeleted)}</p> }.into_any()
            } else {
                view! {
                    {unsupported.map(|u| view! { <p class="body unsupported" data-testid="unsupported">{crate::words::unsupported_text(u)}</p> })}
                    {invitation.map(|i| view! { <InvitationCard invitation=i error=error /> })}
                    {(!body.is_empty()).then(|| view! {
                        <p class="body" dir="auto" data-testid="body">{message_text(&body, thread.opening_link)}</p>
                    })}
                }.into_any()
            }}
            {shortened.map(|note| view! { <p class="shortened" data-testid="shortened">{note}</p> })}
            <span class="when">
                {when_line}
                {arrival_time.then(|| view! {
                    <span data-testid="time-adjusted"
                        title=t(Text::MessageTimeAdjusted)>
                        {t(Text::MessageWhenItArrived)}
                    </span>
                })}
                {timer.map(|(short, long)| view! {
                    {t(Text::MessageSeparator)}<span class="timer" data-testid="timer" title=long>
                        <TimerIcon /><span class="visually-hidden">{long.clone()}</span>
                        <span aria-hidden="true">{short}</span>
                    </span>
                })}
            </span>
            <Show when=move || failed>
                {problem.clone().map(|p| view! { <span class="problem-reason">{tf(Text::MessageNotSentBecause, &[("problem", &p)])}</span> })}
                <button class="retry" type="button" on:click=retry.clone()>{t(Text::MessageRetry)}</button>
            </Show>
            {
                move || {
                    let list = reactions();
                    (!list.is_empty()).then(|| {
                        let toggle_reaction = toggle_reaction.clone();
                        view! {
                            <div class="reactions" role="group" aria-label=t(Text::MessageReactions)>
                                {list.into_iter().map(|(emoji, by)| {
                                    let names: Vec<String> = by.iter().map(|b| thread.who(b)).collect();
                                    let mine = thread.me.is_some_and(|me| by.contains(&me));
                                    let names = names.join(t(Text::MessageListSeparator));
                                    let count = crate::i18n::number(by.len() as u64);
                                    let label = tf(
                                        Text::MessageReaction,
                                        &[("emoji", &emoji), ("count", &count), ("names", &names)],
                                    );
                                    let toggle_reaction = toggle_reaction.clone();
                                    let e = emoji.clone();
                                    view! {
                                        <button class="reaction" type="button" data-testid="reaction" data-emoji=emoji
                                            aria-pressed=if mine { "true" } else { "false" } title=names
                                            aria-label=label prop:disabled=move || thread.blocked.get()
                                            on:click=move |_| toggle_reaction(e.clone(), !mine)>
                                            <span class="emoji">{emoji.clone()}</span>" "<span class="count">{count}</span>
                                        </button>
                                    }
                                }).collect_view()}
                            </div>
                        }
                    })
                }
            }
            {(!deleted).then(|| view! {
                <div class="actions" role="group" aria-label=t(Text::MessageActions)>
                    <Show when=move || !thread.blocked.get()>
                        <button type="button" on:click=reply.clone()>{t(Text::MessageReply)}</button>
                        {(!text_only).then(|| view! {
                            <button class="react-button" type="button" aria-haspopup="dialog"
                                aria-expanded=move || if picking.get() { "true" } else { "false" }
                                on:click=react_toggle.clone()>{t(Text::MessageReact)}</button>
                        })}
                    </Show>
                    <button class="delete" type="button" on:click=move |_| ask_delete(false)>
                        {t(Text::MessageDeleteForMe)}
                    </button>
                    {(outgoing && !text_only).then(|| view! {
                        <button class="delete" type="button" on:click=move |_| ask_delete_everyone(true)>
                            {t(Text::MessageDeleteForEveryone)}
                        </button>
                    })}
                </div>
            })}
            <Show when=move || picking.get()>
                <ReactionPicker id=picker_id.clone() mine=mine on_close=close_picker error=error />
            </Show>
            <Problem error=error />
        </li>
    }
}

/// The message a reply quotes: who wrote it and the start of its text. A click shows the original
/// (paging in older history as needed) and marks it for a moment, or says it is not here.
#[component]
fn QuoteBlock(
    /// The quote.
    quote: Quoted,
    /// What the conversation's messages share.
    thread: Thread,
) -> impl IntoView {
    let app = use_app();
    let author = thread.who(&quote.author);
    // What a click could not show: the original is not here, or the vault did not answer.
    let note = RwSignal::new(None::<String>);
    let missing = move || note.set(Some(t(Text::MessageOriginalMissing).to_owned()));
    let text = if quote.text.is_empty() { None } else { Some(quote.text.clone()) };
    let jump = move |_| {
        note.set(None);
        let Some(id) = quote.id.clone() else {
            missing();
            return;
        };
        let timestamp = quote.timestamp;
        // The list stops following the newest message while it shows the original.
        thread.at_bottom.set_value(false);
        spawn_local(async move {
            match messaging::reveal(app, &id, timestamp).await {
                Ok(true) => request_animation_frame(move || {
                    let Some(list) = thread.list.try_get_untracked().flatten() else { return };
                    let Some(original) = element_of(&list, &id) else {
                        missing();
                        return;
                    };
                    let middle = offset_in(&list, &original) + original.offset_height() / 2 - list.client_height() / 2;
                    list.set_scroll_top(middle.max(0));
                    let _ = original.set_attribute("data-highlight", "");
                    set_timeout(
                        move || {
                            let _ = original.remove_attribute("data-highlight");
                        },
                        std::time::Duration::from_millis(2_000),
                    );
                }),
                Ok(false) => missing(),
                Err(e) => note.set(Some(super::sentence(&crate::words::error_text(&e)))),
            }
        });
    };
    view! {
        <button class="quote" type="button" data-testid="quote" on:click=jump
            title=t(Text::MessageShowOriginal)>
            <span class="quote-author"><bdi dir="auto">{author}</bdi></span>
            <span class="quote-text" dir="auto">{text.unwrap_or_else(|| t(Text::MessageAMessage).to_owned())}</span>
        </button>
        <Show when=move || note.with(Option::is_some)>
            <p class="quote-missing" role="status">{move || note.get().unwrap_or_default()}</p>
        </Show>
    }
}

/// The small panel of reactions under a message's React button: the quick six and any other one
/// emoji. Escape closes it (focus back on React), as does a click outside the message.
#[component]
fn ReactionPicker(
    /// The message reacted to.
    id: String,
    /// This account's reactions on it now.
    mine: Signal<Vec<String>>,
    /// Closes the picker (`true`: focus goes back to the React button).
    on_close: Callback<bool>,
    /// Where an error of a quick reaction is shown (the message's own line).
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let app = use_app();
    let panel = NodeRef::<leptos::html::Div>::new();
    let other = RwSignal::new(String::new());
    let other_error = RwSignal::new(None::<String>);
    let quick = messaging::quick_reactions(app);
    let choose = move |emoji: String, from_field: bool| {
        let on = !mine.with_untracked(|m| m.contains(&emoji));
        let id = id.clone();
        spawn_local(async move {
            match messaging::react(app, &id, &emoji, on).await {
                Ok(()) => on_close.run(true),
                Err(e) if from_field => other_error.set(Some(crate::words::error_text(&e))),
                Err(e) => {
                    error.set(Some(crate::words::error_text(&e)));
                    on_close.run(true);
                }
            }
        });
    };
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            on_close.run(true);
        }
    });
    let outside = window_event_listener(leptos::ev::pointerdown, move |ev| {
        use wasm_bindgen::JsCast;
        let Some(el) = panel.try_get_untracked().flatten() else { return };
        let message = el.closest("li").ok().flatten();
        let target = ev.target().and_then(|t| t.dyn_into::<web_sys::Node>().ok());
        if !message.is_some_and(|m| m.contains(target.as_ref())) {
            on_close.run(false);
        }
    });
    on_cleanup(move || {
        escape.remove();
        outside.remove();
    });
    panel.on_load(move |el| {
        request_animation_frame(move || {
            if let Ok(Some(first)) = el.query_selector("button")
                && let Ok(first) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(first)
            {
                let _ = first.focus();
            }
        });
    });
    let choose_other = choose.clone();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        other_error.set(None);
        let emoji = other.get_untracked().trim().to_owned();
        if emoji.is_empty() {
            other_error.set(Some(crate::words::error_text(&hush_client::Error::NotAnEmoji)));
            return;
        }
        choose_other(emoji, true);
    };
    view! {
        <div class="picker" role="dialog" aria-label=t(Text::MessageReact) node_ref=panel>
            <div class="quick">
                {quick.into_iter().map(|emoji| {
                    let choose = choose.clone();
                    let e = emoji.clone();
                    let pressed = {
                        let emoji = emoji.clone();
                        move || if mine.with(|m| m.contains(&emoji)) { "true" } else { "false" }
                    };
                    view! {
                        <button class="emoji" type="button" aria-pressed=pressed on:click=move |_| choose(e.clone(), false)>
                            {emoji}
                        </button>
                    }
                }).collect_view()}
            </div>
            <form class="other" on:submit=submit>
                <label class="visually-hidden" for="other-emoji">{t(Text::MessageOtherEmoji)}</label>
                <input id="other-emoji" type="text" placeholder=t(Text::MessageOtherEmoji) autocomplete="off" maxlength="32"
                    prop:value=move || other.get() on:input=move |ev| other.set(event_target_value(&ev)) />
                <button class="secondary" type="submit">{t(Text::MessageAdd)}</button>
            </form>
            <Problem error=other_error />
        </div>
    }
}

/// A line that is not a message: a change of the disappearing-messages setting, and "Follow
/// setting" on the peer's latest change when it is not this account's.
#[component]
fn NoticeItem(
    /// The notice.
    message: Message,
    /// What the conversation's messages share.
    thread: Thread,
    /// The peer's latest change (its id and setting), when this account's setting differs.
    to_follow: Memo<Option<(String, Option<Disappearing>)>>,
    /// Takes a setting as this account's.
    #[prop(into)]
    on_follow: Callback<Option<Disappearing>>,
) -> impl IntoView {
    let Some(Notice::Disappearing(setting)) = message.notice else { return ().into_any() };
    let id = message.id.clone();
    let followable = move || to_follow.with(|f| f.as_ref().is_some_and(|(x, _)| *x == id));
    let sentence = notice_sentence(setting, message.outgoing);
    let title = thread.title;
    view! {
        <li class="notice-line" data-testid="notice" data-direction=if message.outgoing { "out" } else { "in" }>
            <p>{named(sentence, title)}</p>
            <Show when=followable>
                <button class="link" type="button" on:click=move |_| on_follow.run(setting)>
                    {t(Text::MessageFollow)}
                </button>
            </Show>
        </li>
    }
    .into_any()
}

/// What a notice of a setting change says, with `{name}` (the peer) and `{time}` (the timer)
/// filled.
fn notice_sentence(setting: Option<Disappearing>, by_me: bool) -> Sentence {
    let text = match (setting, by_me) {
        (None, true) => Text::TimerYouOff,
        (None, false) => Text::TimerTheyOff,
        (Some(Disappearing::AfterRead(_)), true) => Text::TimerYouAfterRead,
        (Some(Disappearing::AfterSend(_)), true) => Text::TimerYouAfterSend,
        (Some(Disappearing::AfterRead(_)), false) => Text::TimerTheyAfterRead,
        (Some(Disappearing::AfterSend(_)), false) => Text::TimerTheyAfterSend,
    };
    Sentence { text, time: setting.map(|d| duration(d.seconds())).unwrap_or_default() }
}

/// A sentence of the catalogue with its `{time}` filled, and a place for a name.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Sentence {
    /// The text.
    text: Text,
    /// What `{time}` says.
    time: String,
}

impl Sentence {
    /// The parts before and after `{name}`, `{time}` filled in both.
    fn around_name(&self) -> (String, String) {
        let (before, after) = around(self.text, "name");
        let args = [("time", self.time.as_str())];
        (crate::i18n::fill(before, &args), crate::i18n::fill(after, &args))
    }
}

impl From<Text> for Sentence {
    fn from(text: Text) -> Sentence {
        Sentence { text, time: String::new() }
    }
}

/// A sentence around a name: the name in `<bdi>` (so that it cannot reorder the sentence), with
/// its title in case it is cut.
fn named(sentence: impl Into<Sentence>, name: Signal<String>) -> impl IntoView {
    let (before, after) = sentence.into().around_name();
    view! { {before}<bdi class="name" dir="auto" title=name>{name}</bdi>{after} }
}

/// The request panel's sentence, with the name kept for tests (`data-testid="name"`).
fn request_sentence(name: Signal<String>) -> impl IntoView {
    let (before, after) = around(Text::ConversationRequestText, "name");
    view! { {before}<bdi class="name" dir="auto" title=name data-testid="name">{name}</bdi>{after} }
}

/// The header's sentence for this account's setting.
fn timer_sentence(setting: Disappearing) -> String {
    let text = match setting {
        Disappearing::AfterRead(_) => Text::TimerNowAfterRead,
        Disappearing::AfterSend(_) => Text::TimerNowAfterSend,
    };
    tf(text, &[("time", &duration(setting.seconds()))])
}

/// A timer in its largest whole unit: "5 minutes", "12 hours", "1 day", "1 week", "2 weeks".
fn duration(seconds: u32) -> String {
    when::seconds_label(u64::from(seconds))
}

/// Which kind of disappearing the dialog has chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Off,
    AfterRead,
    AfterSend,
}

/// The timers offered for `kind`, with `keep` among them (a setting followed from a peer may use
/// another).
fn timers(kind: Kind, keep: Option<u32>) -> Vec<u32> {
    let mut list: Vec<u32> = match kind {
        Kind::Off => Vec::new(),
        Kind::AfterRead => AFTER_READ_TIMERS.to_vec(),
        Kind::AfterSend => AFTER_SEND_TIMERS.to_vec(),
    };
    if let Some(t) = keep
        && kind != Kind::Off
        && !list.contains(&t)
    {
        let at = list.partition_point(|x| *x < t);
        list.insert(at, t);
    }
    list
}

/// The setting the dialog's choices make.
fn chosen_setting(kind: Kind, timer: u32) -> Option<Disappearing> {
    match kind {
        Kind::Off => None,
        Kind::AfterRead => Some(Disappearing::AfterRead(timer)),
        Kind::AfterSend => Some(Disappearing::AfterSend(timer)),
    }
}

/// "Disappearing messages": a modal dialog with Off, after read, after send, and the timers.
/// Escape and Cancel change nothing; focus goes back to the header's button.
#[component]
fn TimerDialog(
    /// Whether it is shown.
    open: RwSignal<bool>,
    /// This account's setting in the conversation.
    current: Memo<Option<Disappearing>>,
    /// Whether the conversation is Note to Self (after send only).
    note_to_self: Signal<bool>,
    /// The conversation's title.
    title: Signal<String>,
    /// Sets the setting chosen.
    #[prop(into)]
    on_set: Callback<Option<Disappearing>>,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let kind = RwSignal::new(Kind::Off);
    let timer = RwSignal::new(0u32);
    let had_focus = StoredValue::new_local(None::<web_sys::HtmlElement>);
    Effect::new(move |_| {
        let wanted = open.get();
        let Some(el) = dialog.get() else { return };
        if wanted && !el.open() {
            let (k, t) = match current.get_untracked() {
                None => (Kind::Off, 0),
                Some(Disappearing::AfterRead(t)) => (Kind::AfterRead, t),
                Some(Disappearing::AfterSend(t)) => (Kind::AfterSend, t),
            };
            kind.set(k);
            timer.set(t);
            had_focus.set_value(
                web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.active_element())
                    .and_then(|e| wasm_bindgen::JsCast::dyn_into(e).ok()),
            );
            if el.show_modal().is_ok()
                && let Ok(Some(checked)) = el.query_selector("input:checked")
                && let Ok(checked) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(checked)
            {
                let _ = checked.focus();
            }
        } else if !wanted {
            // Closed by the app, or already by the browser (Escape): focus goes back either way.
            if el.open() {
                el.close();
            }
            if let Some(back) = had_focus.try_update_value(Option::take).flatten()
                && back.is_connected()
            {
                let _ = back.focus();
            }
        }
    });
    let pick_kind = move |k: Kind| {
        kind.set(k);
        let offered = timers(k, None);
        if !offered.contains(&timer.get_untracked()) {
            // Session's first choices: 12 hours after read, 1 day after send.
            timer.set(match k {
                Kind::Off => 0,
                Kind::AfterRead => 43_200,
                Kind::AfterSend => 86_400,
            });
        }
    };
    let set = move |_| {
        on_set.run(chosen_setting(kind.get_untracked(), timer.get_untracked()));
        open.set(false);
    };
    let kinds = move || {
        let mut list = vec![(Kind::Off, t(Text::TimerOff))];
        if !note_to_self.get() {
            list.push((Kind::AfterRead, t(Text::TimerAfterRead)));
        }
        list.push((Kind::AfterSend, t(Text::TimerAfterSend)));
        list
    };
    let hint = move || {
        t(match kind.get() {
            Kind::Off => Text::TimerHintOff,
            Kind::AfterRead => Text::TimerHintAfterRead,
            Kind::AfterSend => Text::TimerHintAfterSend,
        })
    };
    view! {
        <dialog class="dialog timer-dialog" aria-labelledby="timer-title" aria-describedby="timer-text" node_ref=dialog
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    ev.prevent_default();
                    open.set(false);
                }
            }
            on:close=move |_| {
                if open.try_get_untracked() == Some(true) && dialog.try_get_untracked().flatten().is_some_and(|d| !d.open()) {
                    open.set(false);
                }
            }>
            <h2 id="timer-title">{t(Text::CommonDisappearingMessages)}</h2>
            <p id="timer-text">
                {move || if note_to_self.get() {
                    t(Text::TimerNoteText).into_any()
                } else {
                    named(Text::TimerText, title).into_any()
                }}
            </p>
            <fieldset class="choices">
                <legend>{t(Text::TimerMessages)}</legend>
                {move || kinds().into_iter().map(|(k, label)| view! {
                    <label><input type="radio" name="timer-kind" prop:checked=move || kind.get() == k
                        on:change=move |_| pick_kind(k) />{label}</label>
                }).collect_view()}
            </fieldset>
            <Show when=move || kind.get() != Kind::Off>
                <fieldset class="choices">
                    <legend>{t(Text::TimerTimer)}</legend>
                    <p class="hint">{hint}</p>
                    {move || timers(kind.get(), current.get_untracked().map(Disappearing::seconds)).into_iter().map(|t| view! {
                        <label><input type="radio" name="timer-time" prop:checked=move || timer.get() == t
                            on:change=move |_| timer.set(t) />{duration(t)}</label>
                    }).collect_view()}
                </fieldset>
            </Show>
            <div class="row">
                <button class="secondary" type="button" on:click=move |_| open.set(false)>{t(Text::CommonCancel)}</button>
                <button class="primary" type="button" on:click=set>{t(Text::TimerSet)}</button>
            </div>
        </dialog>
    }
}

/// A message's text: plain text, and its web addresses as links that ask before they open (a
/// click, a middle click or Enter on one shows "Open this link?").
pub(super) fn message_text(text: &str, opening_link: RwSignal<Option<String>>) -> impl IntoView + use<> {
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
pub(super) fn open_in_new_tab(url: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.open_with_url_and_target_and_features(url, "_blank", "noopener,noreferrer");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_read_in_their_largest_whole_unit() {
        let read: Vec<String> = AFTER_READ_TIMERS.iter().map(|&t| duration(t)).collect();
        assert_eq!(read, ["5 minutes", "1 hour", "12 hours", "1 day", "1 week", "2 weeks"]);
        let send: Vec<String> = AFTER_SEND_TIMERS.iter().map(|&t| duration(t)).collect();
        assert_eq!(send, ["12 hours", "1 day", "1 week", "2 weeks"]);
        assert_eq!(duration(1), "1 second");
        assert_eq!(duration(90), "90 seconds");
        assert_eq!(duration(30 * 86_400), "30 days");
        assert_eq!(duration(0), "0 seconds");
    }

    #[test]
    fn notices_say_who_set_what() {
        let read = |s: Sentence| s.around_name();
        let day = Some(Disappearing::AfterRead(86_400));
        assert_eq!(
            read(notice_sentence(day, true)),
            ("You set messages to disappear 1 day after they have been read.".into(), String::new())
        );
        assert_eq!(
            read(notice_sentence(day, false)),
            (String::new(), " has set messages to disappear 1 day after they have been read.".into())
        );
        let week = Some(Disappearing::AfterSend(604_800));
        assert_eq!(
            read(notice_sentence(week, true)).0,
            "You set messages to disappear 1 week after they have been sent."
        );
        assert_eq!(read(notice_sentence(None, true)), ("You turned off disappearing messages.".into(), String::new()));
        assert_eq!(
            read(notice_sentence(None, false)),
            (
                String::new(),
                " has turned disappearing messages off. Messages they send will no longer disappear.".into()
            )
        );
    }

    #[test]
    fn the_dialog_offers_the_standard_timers_and_keeps_a_followed_one() {
        assert_eq!(timers(Kind::Off, Some(60)), Vec::<u32>::new());
        assert_eq!(timers(Kind::AfterSend, None), AFTER_SEND_TIMERS.to_vec());
        assert_eq!(timers(Kind::AfterSend, Some(86_400)), AFTER_SEND_TIMERS.to_vec());
        assert_eq!(timers(Kind::AfterRead, Some(60)), [60, 300, 3_600, 43_200, 86_400, 604_800, 1_209_600]);
        assert_eq!(chosen_setting(Kind::AfterRead, 300), Some(Disappearing::AfterRead(300)));
        assert_eq!(chosen_setting(Kind::Off, 300), None);
    }

    #[test]
    fn a_message_is_found_by_its_time_and_also_after_its_time_changed() {
        let peer: SessionId = format!("05{}", "ab".repeat(32)).parse().unwrap();
        let message = |id: &str, timestamp: u64| Message::filed(id.into(), &peer, true, id.into(), timestamp, None);
        let list = vec![message("a", 1), message("b", 2), message("c", 2), message("d", 9)];
        assert_eq!(find_in(&list, 2, "c").map(|m| m.id), Some("c".into()));
        assert_eq!(find_in(&list, 5, "d").map(|m| m.id), Some("d".into()));
        assert_eq!(find_in(&list, 2, "e"), None);
    }
}
