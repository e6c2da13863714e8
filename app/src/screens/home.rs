//! Home: the account (its Session ID shortened, to copy or show as a QR code), starting a
//! conversation, search, message requests and the conversations, each row with its menu (pin,
//! mute, nickname, copy the ID), and the communities joined. The Note to Self is always one click
//! away.

use crypto_core::identity::SessionId;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{Debounce, Menu, Notice, Problem, day, give_focus_back};
use hush_client::conversations::{AttachmentState, Conversation, Found, Message, RecipientError, Standing, recipient};

use crate::avatar::{self, Avatar, note_to_self, row_avatar};
use crate::i18n::{Text, around, t, tf, tn};
use crate::messaging;
use crate::qr::QrCode;
use crate::session::{AppState, Screen, unlocked, use_app};
use leptos::tachys::view::any_view::AnyView;

/// How long typing pauses before the search runs.
const SEARCH_AFTER_MS: u64 = 250;

/// Opens the conversation with `peer`; an error stays on Home next to what was clicked.
fn open(app: AppState, peer: SessionId, error: RwSignal<Option<String>>) {
    error.set(None);
    open_conversation(app, peer);
}

/// The QR code of `id` (Home and Settings both show it through this one function).
#[inline(never)]
pub fn session_id_qr(id: SessionId) -> Option<AnyView> {
    QrCode::new(&id.to_string()).map(|q| q.view().into_any())
}

/// Opens the conversation with `peer` from outside Home (a notification); an error is the
/// notice.
#[inline(never)]
pub fn open_conversation(app: AppState, peer: SessionId) {
    if app.open_room.get_untracked().is_some() {
        crate::communities::close(app);
    }
    app.go(Screen::Conversation);
    spawn_local(async move {
        if let Err(e) = messaging::open(app, peer).await {
            app.notice.set(Some(crate::words::error_text(&e)));
        }
    });
}

/// What is wrong with a typed Session ID (the engine's `RecipientError`, in the person's language;
/// why the text is not an ID is crypto-core's sentence).
fn recipient_problem(e: RecipientError) -> String {
    match e {
        RecipientError::Empty => t(Text::HomeIdEmpty).to_owned(),
        RecipientError::NotAnAccount => t(Text::HomeIdNotAccount).to_owned(),
        RecipientError::Invalid(why) => tf(Text::HomeIdInvalid, &[("problem", &crate::words::session_id_text(why))]),
        other => other.to_string(),
    }
}

/// What the last copy said.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Copied {
    /// It is on the clipboard: what was copied.
    Done(&'static str),
    /// The browser refused: the ID, shown to copy by hand.
    Refused(String),
}

/// Copies a Session ID, then says so in `copied`.
fn copy_id(id: String, what: &'static str, copied: RwSignal<Option<Copied>>) {
    spawn_local(async move {
        let ok = crate::clipboard::write(&id).await;
        let said = if ok { Copied::Done(what) } else { Copied::Refused(id) };
        copied.set(Some(said.clone()));
        // "Copied" goes after a while (an ID to copy by hand stays).
        if ok {
            set_timeout(
                move || {
                    if copied.try_get_untracked().flatten() == Some(said) {
                        copied.set(None);
                    }
                },
                std::time::Duration::from_secs(6),
            );
        }
    });
}

/// The unlocked home screen.
#[component]
pub fn Home() -> impl IntoView {
    let app = use_app();
    let Some(me) = app.session_id() else {
        return view! { <p>{t(Text::CommonLocked)}</p> }.into_any();
    };
    let id = me.to_string();
    let name = move || {
        app.revision.track();
        app.account().map(|a| a.display_name.clone()).unwrap_or_default()
    };
    let composing = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let copied = RwSignal::new(None::<Copied>);
    let showing_qr = RwSignal::new(false);
    let nicknaming = RwSignal::new(None::<Conversation>);
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
    let own_id = id.clone();
    let copy_own = move |_| copy_id(own_id.clone(), t(Text::HomeCopiedOwn), copied);
    let requests =
        move || app.conversations.get().into_iter().filter(|c| c.standing == Standing::Request).collect::<Vec<_>>();
    let talking =
        move || app.conversations.get().into_iter().filter(|c| c.standing == Standing::Accepted).collect::<Vec<_>>();
    let has_note = move || app.conversations.with(|list| list.iter().any(|c| c.is_note_to_self(&me)));

    // Search: a moment after typing stops, the engine opens the sealed records and answers.
    let query = RwSignal::new(String::new());
    let results = RwSignal::new(None::<(String, Vec<Found>)>);
    let search_error = RwSignal::new(None::<String>);
    let pause = Debounce::new(SEARCH_AFTER_MS);
    let search = move |text: String| {
        query.set(text);
        pause.then(move || {
            let Some(text) = query.try_get_untracked() else { return };
            if text.trim().is_empty() {
                results.set(None);
                return;
            }
            spawn_local(async move {
                let found = match unlocked(app) {
                    Ok(engine) => engine.search(&text).await,
                    Err(e) => Err(e),
                };
                if query.try_get_untracked().as_deref() != Some(text.as_str()) {
                    return;
                }
                match found {
                    Ok(found) => {
                        search_error.set(None);
                        results.set(Some((text, found)));
                    }
                    Err(e) => search_error.set(Some(crate::words::error_text(&e))),
                }
            });
        });
    };
    let (hello, hello_after) = around(Text::HomeHello, "name");
    let searching = move || !query.with(|q| q.trim().is_empty());

    view! {
        <section class="home-head" aria-labelledby="home-title">
            <h2 id="home-title" class="one-line" title=name>{hello}<bdi dir="auto">{name}</bdi>{hello_after}</h2>
            <div class="id-line" role="group" aria-label=t(Text::CommonYourSessionId)>
                <p class="mono session-id" data-testid="session-id" dir="ltr" title=id>
                    <span class="id-start">{id.get(..58).unwrap_or(&id).to_owned()}</span>
                    <span class="id-end">{id.get(58..).unwrap_or_default().to_owned()}</span>
                </p>
                <button class="secondary small" type="button" on:click=copy_own>{t(Text::CommonCopyId)}</button>
                <button class="secondary small" type="button" aria-expanded=move || showing_qr.get().to_string()
                    aria-controls="home-qr" on:click=move |_| showing_qr.update(|s| *s = !*s)>
                    {move || t(if showing_qr.get() { Text::HomeHideQr } else { Text::HomeShowQr })}
                </button>
            </div>
            {move || showing_qr.get().then(|| view! { <div class="qr" id="home-qr">{session_id_qr(me)}</div> })}
            <div class="row home-actions">
                <button class="primary" type="button" data-testid="new-conversation"
                    aria-expanded=move || composing.get().to_string() aria-controls="new-conversation"
                    on:click=toggle>{t(Text::HomeNewConversation)}</button>
                <button class="secondary" type="button" on:click=move |_| app.go(Screen::Settings)>
                    {t(Text::CommonSettings)}
                </button>
                <button class="secondary" type="button" on:click=move |_| app.lock()>{t(Text::CommonLockNow)}</button>
            </div>
            {move || composing.get().then(|| view! {
                <form class="new-conversation" id="new-conversation" on:submit=start>
                    <label for="recipient">{t(Text::HomeTheirId)}</label>
                    <input id="recipient" type="text" data-testid="recipient-id" autocomplete="off" spellcheck="false"
                        autocapitalize="none" placeholder="05…" node_ref=field aria-describedby="recipient-hint"
                        aria-invalid=move || wrong().to_string()
                        prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) />
                    <p class="hint" id="recipient-hint" aria-live="polite"
                        class:bad=wrong>
                        {move || match validation() {
                            Ok(peer) if peer == me => t(Text::HomeOwnId).to_owned(),
                            Ok(_) => t(Text::HomeLooksGood).to_owned(),
                            Err(e) => recipient_problem(e),
                        }}
                    </p>
                    <div class="row">
                        <button class="primary" type="submit" prop:disabled=move || validation().is_err()>
                            {t(Text::HomeStart)}
                        </button>
                        <button class="secondary" type="button" on:click=move |_| composing.set(false)>
                            {t(Text::CommonCancel)}
                        </button>
                    </div>
                </form>
            })}
            <p class="status copied" role="status">
                {move || match copied.get() {
                    Some(Copied::Done(what)) => view! { {what} }.into_any(),
                    Some(Copied::Refused(id)) => view! {
                        {t(Text::HomeCopyRefused)}
                        <span class="mono small selectable" dir="ltr">{id}</span>
                    }
                    .into_any(),
                    None => ().into_any(),
                }}
            </p>
            <Problem error=error />
            <Notice />
        </section>
        <div class="search" role="search">
            <label for="search" class="visually-hidden">{t(Text::HomeSearch)}</label>
            <input id="search" type="search" autocomplete="off" spellcheck="false" placeholder=t(Text::HomeSearch)
                prop:value=move || query.get() on:input=move |ev| search(event_target_value(&ev)) />
        </div>
        {move || if searching() {
            view! {
                <SearchResults results=results error=error copied=copied nicknaming=nicknaming />
                <Problem error=search_error />
            }
            .into_any()
        } else { view! {
            {move || (!requests().is_empty()).then(|| view! {
                <section class="card requests" aria-labelledby="requests-title">
                    <h2 id="requests-title">{t(Text::HomeRequests)}</h2>
                    <p class="note">{t(Text::HomeRequestsNote)}</p>
                    <Rows list=Signal::derive(requests) error=error copied=copied nicknaming=nicknaming />
                </section>
            })}
            <section class="card" aria-labelledby="conversations-title">
                <h2 id="conversations-title">{t(Text::CommonConversations)}</h2>
                {move || (!has_note()).then(|| view! {
                    <ul class="conversations">
                        <li class="conversation-item">
                            <button type="button" class="conversation" data-testid="note-to-self"
                                on:click=move |_| open(app, me, error)>
                                {row_avatar(me, note_to_self(), Some(&me), false)}
                                <span class="title">{note_to_self()}</span>
                                <span class="preview">{t(Text::HomeNotePreview)}</span>
                            </button>
                        </li>
                    </ul>
                })}
                <Rows list=Signal::derive(talking) error=error copied=copied nicknaming=nicknaming />
                {move || talking().iter().all(|c| c.is_note_to_self(&me)).then(|| view! {
                    <p class="note">{t(Text::HomeEmpty)}</p>
                })}
            </section>
            <super::community::CommunityList />
        }.into_any() }}
        <NicknameDialog target=nicknaming />
    }
    .into_any()
}

/// What a search found: conversations (as rows) and messages (name, the text around the match,
/// time); choosing a message opens its conversation.
#[component]
fn SearchResults(
    /// The query answered and what was found (`None` while the first answer is awaited).
    results: RwSignal<Option<(String, Vec<Found>)>>,
    /// Where an error opening one is shown.
    error: RwSignal<Option<String>>,
    /// What the last copy said.
    copied: RwSignal<Option<Copied>>,
    /// The conversation whose nickname is being set.
    nicknaming: RwSignal<Option<Conversation>>,
) -> impl IntoView {
    let app = use_app();
    let me = app.session_id();
    let conversations = move || {
        results.with(|r| {
            r.iter()
                .flat_map(|(_, found)| found.iter())
                .filter_map(|f| match f {
                    Found::Conversation(c) => Some(c.clone()),
                    Found::Message(_) => None,
                })
                .collect::<Vec<_>>()
        })
    };
    let messages = move || {
        results.with(|r| {
            r.iter()
                .flat_map(|(query, found)| found.iter().map(move |f| (query, f)))
                .filter_map(|(query, f)| match f {
                    Found::Message(m) => Some((query.clone(), (**m).clone())),
                    Found::Conversation(_) => None,
                })
                .collect::<Vec<_>>()
        })
    };
    let count = move || results.with(|r| r.as_ref().map(|(_, found)| found.len()));
    let title_of = move |peer: SessionId| {
        app.conversations
            .with_untracked(|list| list.iter().find(|c| c.peer == peer).map(|c| avatar::title(c, me.as_ref())))
            .unwrap_or_else(|| hush_client::conversations::short_id(&peer))
    };
    view! {
        <section class="card results" aria-labelledby="results-title">
            <h2 id="results-title">{t(Text::HomeSearch)}</h2>
            <p class="note" role="status">
                {move || match count() {
                    None => t(Text::HomeSearching).to_owned(),
                    Some(0) => t(Text::HomeNothingFound).to_owned(),
                    Some(n) => tn(Text::HomeResults, n as u64, &[]),
                }}
            </p>
            {move || (!conversations().is_empty()).then(|| view! {
                <h3>{t(Text::CommonConversations)}</h3>
                <Rows list=Signal::derive(conversations) error=error copied=copied nicknaming=nicknaming />
            })}
            {move || (!messages().is_empty()).then(|| view! {
                <h3>{t(Text::HomeMessages)}</h3>
                <ul class="conversations hits">
                    <For each=messages key=|(query, m): &(String, Message)| (query.clone(), m.id.clone())
                        children=move |(query, m): (String, Message)| {
                            let peer = m.peer;
                            let title = title_of(peer);
                            let (before, hit, after) = snippet(&m.body, &query);
                            let full_title = title.clone();
                            view! {
                                <li class="conversation-item">
                                    <button type="button" class="conversation hit" data-testid="search-hit"
                                        on:click=move |_| open(app, peer, error)>
                                        <Avatar peer=peer title=title.clone() />
                                        <span class="title" title=full_title><bdi dir="auto">{title}</bdi></span>
                                        <span class="meta"><span class="time">{day(m.timestamp)}</span></span>
                                        <span class="preview snippet">
                                            <bdi dir="auto">{before}<mark>{hit}</mark>{after}</bdi>
                                        </span>
                                    </button>
                                </li>
                            }
                        } />
                </ul>
            })}
        </section>
    }
}

/// The most characters a snippet keeps before the match.
const BEFORE: usize = 12;

/// The part of `text` around the first case-insensitive match of `query`: what comes before it
/// (at most [`BEFORE`] characters, "…" when cut), the match as written in `text`, and the rest
/// (the view cuts it to one line). No match: the whole text comes first.
pub fn snippet(text: &str, query: &str) -> (String, String, String) {
    let needle = query.trim().to_lowercase();
    // The text in lower case, with, for each of its bytes, where the character it comes from
    // starts in `text` (lowering can change a character's length).
    let mut lower = String::new();
    let mut origin = Vec::new();
    for (at, c) in text.char_indices() {
        for l in c.to_lowercase() {
            let before = lower.len();
            lower.push(l);
            origin.extend(std::iter::repeat_n(at, lower.len() - before));
        }
    }
    let found = (!needle.is_empty()).then(|| lower.find(&needle)).flatten();
    let Some(start) = found else { return (text.to_owned(), String::new(), String::new()) };
    let from = origin.get(start).copied().unwrap_or(0);
    // The match ends where the character after its last byte starts.
    let to = origin.get(start + needle.len()).copied().unwrap_or(text.len()).max(from);
    let (head, rest) = text.split_at(from);
    let (hit, tail) = rest.split_at(to - from);
    let kept: Vec<char> = head.chars().rev().take(BEFORE + 1).collect();
    let before = if kept.len() > BEFORE {
        let mut cut: String = kept.into_iter().take(BEFORE).collect::<Vec<_>>().into_iter().rev().collect();
        cut.insert(0, '…');
        cut
    } else {
        head.to_owned()
    };
    (before.replace('\n', " "), hit.to_owned(), tail.replace('\n', " "))
}

/// Rows of conversations, each opening its conversation, with its menu.
#[component]
fn Rows(
    /// The conversations, in order.
    list: Signal<Vec<Conversation>>,
    /// Where an error opening one is shown.
    error: RwSignal<Option<String>>,
    /// What the last copy said.
    copied: RwSignal<Option<Copied>>,
    /// The conversation whose nickname is being set.
    nicknaming: RwSignal<Option<Conversation>>,
) -> impl IntoView {
    let app = use_app();
    let me = app.session_id();
    // Which conversation is open, as one selector: opening another wakes only the two rows it
    // concerns, not every row of a long list (each row asking the screen and the open peer made
    // opening from a list of 1,000 take 80–145 ms more; BENCHMARKS.md).
    let open_now =
        Selector::new(move || (app.screen.get() == Screen::Conversation).then(|| app.open_peer.get()).flatten());
    view! {
        <ul class="conversations">
            <For each=move || list.get()
                key=|c| (c.peer, c.last_activity, c.unread, c.standing as u8, c.name.clone(), c.nickname.clone(),
                    c.pinned, c.muted, c.preview.clone(), c.avatar.as_ref().map(|a| (a.url.clone(), a.state as u8)))
                children=move |c: Conversation| {
                    let peer = c.peer;
                    let request = c.standing == Standing::Request;
                    let note = me.is_some_and(|me| c.is_note_to_self(&me));
                    let (unread, last, pinned, muted) = (c.unread, c.last_activity, c.pinned, c.muted);
                    let picture = c.avatar.as_ref().is_some_and(|a| matches!(a.state, AttachmentState::Remote | AttachmentState::Saved));
                    let title = avatar::title(&c, me.as_ref());
                    let preview = crate::words::preview_text(&c);
                    let preview = if preview.is_empty() { t(Text::HomeNoMessagesYet).to_owned() } else { preview };
                    let is_open = {
                        let open_now = open_now.clone();
                        Signal::derive(move || open_now.selected(&Some(peer)))
                    };
                    view! {
                        <li class="conversation-item" class:open=is_open>
                            <button type="button" class="conversation" data-testid="conversation"
                                aria-current=move || is_open.get().then_some("true")
                                on:click=move |_| open(app, peer, error)>
                                {row_avatar(peer, &title, me.as_ref(), picture)}
                                <span class="title" title=title.clone()>
                                    <bdi dir="auto" data-testid="name">{title.clone()}</bdi>
                                </span>
                                // A row is made anew when any of this changes (its key).
                                <span class="meta">
                                    {pinned.then(|| view! { <span class="mark" role="img" aria-label=t(Text::HomePinned) title=t(Text::HomePinned)>"📌"</span> })}
                                    {muted.then(|| view! { <span class="mark" role="img" aria-label=t(Text::HomeMuted) title=t(Text::HomeMuted)>"🔕"</span> })}
                                    {(last != 0).then(|| view! { <span class="time">{day(last)}</span> })}
                                </span>
                                <span class="preview">
                                    {request.then(|| view! { <span class="tag">{t(Text::HomeRequestTag)}</span> })}
                                    <bdi dir="auto">{preview}</bdi>
                                </span>
                                {(unread != 0).then(|| view! {
                                    <span class="unread">
                                        {crate::i18n::number(u64::from(unread))}
                                        <span class="visually-hidden">{t(Text::HomeUnread)}</span>
                                    </span>
                                })}
                            </button>
                            <RowMenu conversation=c title=title note=note copied=copied nicknaming=nicknaming />
                        </li>
                    }
                } />
        </ul>
    }
}

/// A row's menu: pin, mute, nickname, copy the Session ID.
#[component]
fn RowMenu(
    /// The row's conversation.
    conversation: Conversation,
    /// Its title as shown.
    title: String,
    /// Whether it is the Note to Self (which needs no muting or nickname).
    note: bool,
    /// What the last copy said.
    copied: RwSignal<Option<Copied>>,
    /// The conversation whose nickname is being set.
    nicknaming: RwSignal<Option<Conversation>>,
) -> impl IntoView {
    let app = use_app();
    let peer = conversation.peer;
    let (pinned, muted) = (conversation.pinned, conversation.muted);
    let problem = move |e: hush_client::Error| app.notice.set(Some(crate::words::error_text(&e)));
    let pin = move |_| {
        spawn_local(async move {
            if let Err(e) = async { unlocked(app)?.set_pinned(&peer, !pinned).await }.await {
                problem(e);
            }
        });
    };
    let mute = move |_| {
        spawn_local(async move {
            if let Err(e) = async { unlocked(app)?.set_muted(&peer, !muted).await }.await {
                problem(e);
            }
        });
    };
    let copy = move |_| copy_id(peer.to_string(), t(Text::HomeCopiedTheirs), copied);
    let name = StoredValue::new(conversation);
    let nickname = move |_| nicknaming.set(Some(name.get_value()));
    view! {
        <Menu label="⋯" name=tf(Text::HomeOptionsFor, &[("name", &title)])>
            <button class="secondary" type="button" on:click=pin>
                {t(if pinned { Text::HomeUnpin } else { Text::HomePin })}
            </button>
            {(!note).then(|| view! {
                <button class="secondary" type="button" on:click=mute>
                    {t(if muted { Text::HomeUnmute } else { Text::HomeMute })}
                </button>
                <button class="secondary" type="button" on:click=nickname>{t(Text::HomeSetNickname)}</button>
            })}
            <button class="secondary" type="button" on:click=copy>{t(Text::CommonCopyId)}</button>
        </Menu>
    }
}

/// The dialog that sets (or, left empty, removes) a conversation's nickname. Escape or Cancel
/// closes it; focus goes back to where it was.
#[component]
fn NicknameDialog(
    /// The conversation whose nickname is being set; `None` hides the dialog.
    target: RwSignal<Option<Conversation>>,
) -> impl IntoView {
    let app = use_app();
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let field = NodeRef::<leptos::html::Input>::new();
    let typed = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let had_focus = StoredValue::new_local(None::<web_sys::Element>);
    Effect::new(move |_| {
        let wanted = target.get();
        let Some(el) = dialog.get() else { return };
        match wanted {
            Some(c) if !el.open() => {
                had_focus.set_value(web_sys::window().and_then(|w| w.document()).and_then(|d| d.active_element()));
                typed.set(c.nickname.unwrap_or_default());
                error.set(None);
                if el.show_modal().is_ok()
                    && let Some(input) = field.try_get_untracked().flatten()
                {
                    let _ = input.focus();
                    input.select();
                }
            }
            None if el.open() => {
                el.close();
                give_focus_back(had_focus.try_get_value().flatten());
            }
            _ => {}
        }
    });
    let close = move || target.set(None);
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(c) = target.get_untracked() else { return };
        let text = typed.get_untracked();
        busy.set(true);
        spawn_local(async move {
            match async { unlocked(app)?.set_nickname(&c.peer, &text).await }.await {
                Ok(_) => target.set(None),
                Err(e) => error.set(Some(crate::words::error_text(&e))),
            }
            busy.set(false);
        });
    };
    let name = move || target.with(|t| t.as_ref().and_then(|c| c.name.clone())).filter(|n| !n.trim().is_empty());
    view! {
        <dialog class="dialog" aria-labelledby="nickname-title" aria-describedby="nickname-text" node_ref=dialog
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    ev.prevent_default();
                    close();
                }
            }
            on:close=move |_| {
                let closed = dialog.try_get_untracked().flatten().is_some_and(|d| !d.open());
                if closed && target.try_with_untracked(Option::is_some) == Some(true) {
                    give_focus_back(had_focus.try_get_value().flatten());
                    close();
                }
            }>
            <form on:submit=save>
                <h2 id="nickname-title">{t(Text::HomeSetNickname)}</h2>
                <p id="nickname-text">
                    {move || match name() {
                        Some(name) => {
                            let (before, after) = around(Text::HomeNicknameNamed, "name");
                            let shown = name.clone();
                            view! { {before}<bdi class="name" dir="auto" title=name>{shown}</bdi>{after} }
                                .into_any()
                        }
                        None => t(Text::HomeNicknameUnnamed).into_any(),
                    }}
                </p>
                <label for="nickname">{t(Text::HomeNickname)}</label>
                <input id="nickname" type="text" autocomplete="off" dir="auto" node_ref=field
                    prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) />
                <Problem error=error />
                <div class="row">
                    <button class="secondary" type="button" on:click=move |_| close()>{t(Text::CommonCancel)}</button>
                    <button class="primary" type="submit" prop:disabled=move || busy.get()>{t(Text::CommonSave)}</button>
                </div>
            </form>
        </dialog>
    }
}

#[cfg(test)]
mod tests {
    use super::snippet;

    fn parts(text: &str, query: &str) -> (String, String, String) {
        snippet(text, query)
    }

    #[test]
    fn the_snippet_holds_the_match_as_written_with_some_text_before_it() {
        assert_eq!(
            parts("Meet me at the Station at noon", "station"),
            ("…t me at the ".into(), "Station".into(), " at noon".into())
        );
        assert_eq!(parts("at the Station", "station"), ("at the ".into(), "Station".into(), String::new()));
        assert_eq!(parts("apples", "APP"), (String::new(), "app".into(), "les".into()));
        let long = format!("{} needle after", "x".repeat(40));
        let (before, hit, after) = parts(&long, "needle");
        assert_eq!(before, format!("…{}", "x".repeat(11) + " "));
        assert_eq!((hit.as_str(), after.as_str()), ("needle", " after"));
    }

    #[test]
    fn the_snippet_survives_letters_that_change_length_in_lower_case() {
        // "İ" lowers to two characters; what follows still lines up with the text.
        assert_eq!(parts("İstanbul trip", "trip"), ("İstanbul ".into(), "trip".into(), String::new()));
        assert_eq!(parts("Straße", "STRASSE"), ("Straße".into(), String::new(), String::new()));
        assert_eq!(parts("ÄRGER", "ärg"), (String::new(), "ÄRG".into(), "ER".into()));
        assert_eq!(parts("שלום עולם", "עולם"), ("שלום ".into(), "עולם".into(), String::new()));
    }

    #[test]
    fn no_match_or_an_empty_query_keeps_the_text_and_lines_become_one() {
        assert_eq!(parts("hello", "bye"), ("hello".into(), String::new(), String::new()));
        assert_eq!(parts("hello", "  "), ("hello".into(), String::new(), String::new()));
        assert_eq!(parts("a\nb needle\nc", "needle"), ("a b ".into(), "needle".into(), " c".into()));
    }
}
