//! Communities: the rooms joined (a section of Home, with "Join community" and its dialog) and
//! one room (its posts with their poster, blinded ID and moderator badge, replies, reactions,
//! edits, deletions, files, older posts paged in, Leave, "Message" opening a blinded DM, and the
//! composer). Every rule is the engine's (`hush_client::communities`); this renders what it
//! answers.

use crypto_core::identity::SessionId;
use hush_client::MAX_CHARS;
use hush_client::communities::{Community, RoomFile, RoomMessage};
use hush_client::conversations::{quote_text, short_id};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::attachments::{ChosenFiles, ClipIcon, add_refusal, unreadable};
use super::conversation::message_text;
use super::invitation::InviteDialog;
use super::{Confirm, Menu, Modal, Notice, Problem, clock, day};
use crate::communities;
use crate::files::{self, Chosen};
use crate::i18n::{Text, around, t, tf, tn};
use crate::messaging;
use crate::qr::QrCode;
use crate::scan::{PictureProblem, Scan};
use crate::session::{AppState, Screen, use_app};

/// The box a room's picture is shown in, in CSS pixels.
const THUMB_SIDE: u32 = 240;

/// Opens the room `room` from the list; an error is the notice.
fn open(app: AppState, room: String) {
    spawn_local(async move {
        if let Err(e) = communities::open(app, room).await {
            app.notice.set(Some(crate::words::error_text(&e)));
        }
    });
}

/// Home's section of joined rooms: each opens its room; "Join community" asks for a URL.
#[component]
pub fn CommunityList() -> impl IntoView {
    let app = use_app();
    let joining = RwSignal::new(false);
    let open_now = Selector::new(move || (app.screen.get() == Screen::Room).then(|| app.open_room.get()).flatten());
    view! {
        <section class="card communities" aria-labelledby="communities-title">
            <div class="section-head">
                <h2 id="communities-title">{t(Text::CommunityTitle)}</h2>
                <button class="secondary small" type="button" data-testid="join-community" aria-haspopup="dialog"
                    on:click=move |_| joining.set(true)>{t(Text::CommunityJoin)}</button>
            </div>
            <ul class="conversations">
                <For each=move || app.communities.get()
                    key=|c| (c.url.clone(), c.name.clone(), c.unread, c.last_posted, c.image)
                    children=move |c: Community| {
                        let url = c.url.clone();
                        let is_open = {
                            let open_now = open_now.clone();
                            let url = url.clone();
                            Signal::derive(move || open_now.selected(&Some(url.clone())))
                        };
                        let initials = crate::avatar::initials(&c.name);
                        let picture = c.image.map(|_| room_picture(url.clone()));
                        let unread = c.unread;
                        let last = c.last_posted;
                        view! {
                            <li class="conversation-item" class:open=is_open>
                                <button type="button" class="conversation" data-testid="community"
                                    aria-current=move || is_open.get().then_some("true")
                                    on:click=move |_| open(app, url.clone())>
                                    <span class="avatar hue-1" aria-hidden="true">{initials}{picture}</span>
                                    <span class="title" title=c.name.clone()>
                                        <bdi dir="auto" data-testid="name">{c.name.clone()}</bdi>
                                    </span>
                                    <span class="meta">
                                        {(last != 0).then(|| view! { <span class="time">{day(last)}</span> })}
                                    </span>
                                    <span class="preview">
                                        <bdi dir="auto">{c.description.clone().unwrap_or_else(|| c.server.clone())}</bdi>
                                    </span>
                                    {(unread != 0).then(|| view! {
                                        <span class="unread" data-testid="unread">
                                            {crate::i18n::number(u64::from(unread))}
                                            <span class="visually-hidden">{t(Text::HomeUnread)}</span>
                                        </span>
                                    })}
                                </button>
                            </li>
                        }
                    } />
            </ul>
            {move || app.communities.with(Vec::is_empty).then(|| view! {
                <p class="note">{t(Text::CommunityNone)}</p>
            })}
            <JoinDialog open=joining />
        </section>
    }
}

/// The room's picture over its initials, once fetched (the engine keeps it after the first time).
fn room_picture(room: String) -> impl IntoView {
    let src = RwSignal::new(None::<String>);
    let app = use_app();
    spawn_local(async move {
        let Some(engine) = app.unlocked() else { return };
        if let Ok(Some(bytes)) = engine.room_image(&room).await
            && let Some(url) = files::object_url(&bytes, "image/*")
            // The row went away meanwhile.
            && src.try_set(Some(url.clone())).is_some()
        {
            files::revoke(&url);
        }
    });
    on_cleanup(move || {
        if let Some(url) = src.try_get_untracked().flatten() {
            files::revoke(&url);
        }
    });
    view! {
        <Show when=move || src.get().is_some()>
            <img class="picture" alt="" data-testid="room-picture" src=move || src.get() />
        </Show>
    }
}

/// "Room picture" (the room's admins): a picture chosen is drawn upright, at most 640 px, as a
/// JPEG (as a profile picture is) and set as the room's.
#[component]
fn RoomPictureButton(room: Room) -> impl IntoView {
    let picker = NodeRef::<leptos::html::Input>::new();
    let busy = RwSignal::new(false);
    let chosen = move |_| {
        let Some(input) = picker.get_untracked() else { return };
        let Some(file) = files::list(input.files()).into_iter().next() else { return };
        input.set_value("");
        busy.set(true);
        room.error.set(None);
        spawn_local(async move {
            let result = match files::profile_picture(&file).await {
                None => Err(t(Text::SettingsPictureNotAPicture).to_owned()),
                Some(bytes) => {
                    let picture = hush_client::NewFile {
                        file_name: "picture.jpg".into(),
                        content_type: "image/jpeg".into(),
                        bytes,
                        width: None,
                        height: None,
                        voice: false,
                    };
                    communities::set_picture(room.app, &room.url.get_value(), picture)
                        .await
                        .map_err(|e| crate::words::error_text(&e))
                }
            };
            busy.set(false);
            match result {
                Ok(()) => room.app.notice.set(Some(t(Text::CommunityPictureSaved).to_owned())),
                Err(e) => room.error.set(Some(e)),
            }
        });
    };
    view! {
        <input type="file" accept="image/*" hidden data-testid="room-picture-file" node_ref=picker on:change=chosen />
        <button class="secondary" type="button" data-testid="room-picture-button" prop:disabled=move || busy.get()
            on:click=move |_| {
                if let Some(input) = picker.get_untracked() {
                    input.click();
                }
            }>
            {t(Text::CommunityPicture)}
        </button>
    }
}

/// "Join community": a modal dialog with the community's URL, typed or pasted, or read from its QR
/// code by the camera ("Scan QR code") or in a picture ("Choose a picture"); a code that reads as
/// a community's URL joins at once. Escape or Cancel closes it (and turns the camera off); focus
/// goes back to where it was.
#[component]
fn JoinDialog(
    /// Whether it is shown.
    open: RwSignal<bool>,
) -> impl IntoView {
    let app = use_app();
    let field = NodeRef::<leptos::html::Input>::new();
    let video = NodeRef::<leptos::html::Video>::new();
    let picture = NodeRef::<leptos::html::Input>::new();
    let typed = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let had_focus = StoredValue::new_local(None::<web_sys::Element>);
    // The camera scan, while it runs (`scanning` is true from the click on).
    let scan = StoredValue::new_local(None::<Scan>);
    let scanning = RwSignal::new(false);
    let scan_note = RwSignal::new(None::<&'static str>);
    let stop_scan = move || {
        scan.try_update_value(Option::take);
        if scanning.try_get_untracked() == Some(true) {
            scanning.set(false);
        }
    };
    // The camera goes off when the page is hidden, and when the dialog goes away.
    let hidden = StoredValue::new_local(crate::scan::when_hidden(stop_scan));
    on_cleanup(move || {
        hidden.try_update_value(Option::take);
        stop_scan();
    });
    let join_url = move |url: String| {
        if url.trim().is_empty() || busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match communities::join(app, &url).await {
                // The room opened: focus goes to its composer, not back to the list.
                Ok(_) => {
                    typed.set(String::new());
                    had_focus.set_value(None);
                    open.set(false);
                }
                Err(e) => error.set(Some(crate::words::error_text(&e))),
            }
            busy.set(false);
        });
    };
    // A code read: a community's URL joins at once; anything else is said, and scanning goes on.
    let found = move |text: String| {
        if hush_client::communities::parse_url(&text).is_err() {
            scan_note.set(Some(t(Text::CommunityScanNotCommunity)));
            return;
        }
        stop_scan();
        scan_note.set(None);
        typed.set(text.clone());
        join_url(text);
    };
    let toggle_scan = move |_| {
        if scanning.get_untracked() {
            stop_scan();
            return;
        }
        let Some(el) = video.get_untracked() else { return };
        scanning.set(true);
        error.set(None);
        scan_note.set(Some(t(Text::CommunityScanHint)));
        spawn_local(async move {
            let started = Scan::start(el, found).await;
            // Stopped, or the dialog closed, while the browser asked: the camera goes off at once.
            match started {
                Ok(live) if scanning.try_get_untracked() == Some(true) => scan.set_value(Some(live)),
                Ok(_) => {}
                Err(problem) => {
                    scan_note.set(Some(crate::scan::problem_text(problem)));
                    stop_scan();
                }
            }
        });
    };
    let chose_picture = move |_| {
        let Some(input) = picture.get_untracked() else { return };
        let file = input.files().and_then(|list| list.get(0));
        input.set_value("");
        let Some(file) = file else { return };
        stop_scan();
        error.set(None);
        scan_note.set(None);
        spawn_local(async move {
            match crate::scan::read_picture(&file).await {
                Ok(text) => found(text),
                Err(PictureProblem::NoCode) => scan_note.set(Some(t(Text::CommunityScanNoCode))),
                Err(PictureProblem::Unreadable) => scan_note.set(Some(t(Text::CommunityScanUnreadable))),
            }
        });
    };
    view! {
        <Modal open=open labelledby="join-title" describedby="join-text" had_focus=had_focus
            on_open=move |()| {
                error.set(None);
                scan_note.set(None);
            }
            on_shown=move |()| {
                if let Some(input) = field.try_get_untracked().flatten() {
                    let _ = input.focus();
                }
            }
            on_hidden=move |()| stop_scan()>
            <form on:submit=move |ev: SubmitEvent| {
                ev.prevent_default();
                join_url(typed.get_untracked());
            }>
                <h2 id="join-title">{t(Text::CommunityJoin)}</h2>
                <p id="join-text">{t(Text::CommunityJoinText)}</p>
                <label for="community-url">{t(Text::CommunityUrl)}</label>
                <input id="community-url" type="url" data-testid="community-url" autocomplete="off" spellcheck="false"
                    autocapitalize="none" dir="ltr" placeholder=t(Text::CommunityUrlPlaceholder) node_ref=field
                    prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) />
                <div class="row scan-buttons">
                    <button class="secondary small" type="button" data-testid="scan-qr" aria-pressed=move || scanning.get().to_string()
                        on:click=toggle_scan>
                        {move || t(if scanning.get() { Text::CommunityScanStop } else { Text::CommunityScan })}
                    </button>
                    <button class="secondary small" type="button" on:click=move |_| {
                        if let Some(input) = picture.get_untracked() {
                            input.click();
                        }
                    }>{t(Text::CommunityScanPicture)}</button>
                    <input class="visually-hidden" type="file" accept="image/*" tabindex="-1" aria-hidden="true"
                        data-testid="scan-picture" node_ref=picture on:change=chose_picture />
                </div>
                <video class="scanner" data-testid="scanner" muted=true playsinline=true aria-label=t(Text::CommunityScanCamera)
                    node_ref=video hidden=move || !scanning.get()></video>
                <p class="note" role="status" data-testid="scan-note">{move || scan_note.get()}</p>
                <Problem error=error />
                <div class="row">
                    <button class="secondary" type="button" on:click=move |_| open.set(false)>{t(Text::CommonCancel)}</button>
                    <button class="primary" type="submit" prop:disabled=move || busy.get() || typed.with(|t| t.trim().is_empty())>
                        {move || t(if busy.get() { Text::CommunityJoining } else { Text::CommunityJoinButton })}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

/// "Share": a modal dialog with the room's URL, "Copy URL", and its QR code (to scan in "Join
/// community"). Escape or Close closes it.
#[component]
fn ShareDialog(
    /// Whether it is shown.
    open: RwSignal<bool>,
    /// The room's URL.
    url: String,
) -> impl IntoView {
    let shown_url = NodeRef::<leptos::html::P>::new();
    let copied = RwSignal::new(None::<&'static str>);
    let copy = {
        let url = url.clone();
        move |_| {
            let url = url.clone();
            spawn_local(async move {
                if crate::clipboard::write(&url).await {
                    copied.set(Some(t(Text::CommunityCopied)));
                } else {
                    // Copying is refused: the URL is selected for the person to copy.
                    copied.set(Some(t(Text::CommunityCopyRefused)));
                    if let Some(el) = shown_url.get_untracked() {
                        crate::clipboard::select(&el);
                    }
                }
            });
        }
    };
    let qr = QrCode::new(&url).map(|q| q.view_as(t(Text::CommunityShareQr), Some("community-qr")).into_any());
    view! {
        <Modal open=open labelledby="share-title" describedby="share-text" class="share" on_open=move |()| copied.set(None)>
            <h2 id="share-title">{t(Text::CommunityShareTitle)}</h2>
            <p id="share-text">{t(Text::CommunityShareText)}</p>
            <p class="mono small link-address" dir="ltr" data-testid="community-share-url" node_ref=shown_url>{url}</p>
            <div class="qr">{qr}</div>
            <p class="note" role="status">{move || copied.get()}</p>
            <div class="row">
                <button class="secondary" type="button" on:click=move |_| open.set(false)>{t(Text::CommunityClose)}</button>
                <button class="primary" type="button" data-testid="copy-community-url" on:click=copy>
                    {t(Text::CommunityCopyUrl)}
                </button>
            </div>
        </Modal>
    }
}

/// What a room's posts share: the room, this account's part in it, and the person's choices that
/// span posts.
#[derive(Clone, Copy)]
struct Room {
    /// The app's state.
    app: AppState,
    /// The room's URL.
    url: StoredValue<String>,
    /// The room as the list holds it.
    community: Memo<Option<Community>>,
    /// The post being replied to.
    replying: RwSignal<Option<RoomMessage>>,
    /// The post being edited.
    editing: RwSignal<Option<RoomMessage>>,
    /// The post whose reaction picker is open.
    picking: RwSignal<Option<u64>>,
    /// The post whose actions a tap shows.
    chosen: RwSignal<Option<u64>>,
    /// The post whose deletion is asked about.
    deleting: RwSignal<Option<u64>>,
    /// The link asked about before it opens.
    opening_link: RwSignal<Option<String>>,
    /// The composer's text.
    draft: RwSignal<String>,
    /// The composer.
    composer: NodeRef<leptos::html::Textarea>,
    /// Where an action's error is shown.
    error: RwSignal<Option<String>>,
}

impl Room {
    /// The name a poster goes by: the name their latest loaded post carried, or their short ID.
    fn name_of(&self, id: &SessionId) -> String {
        self.app
            .room_messages
            .with_untracked(|list| list.iter().rev().find(|m| m.sender == *id).and_then(|m| m.sender_name.clone()))
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| short_id(id))
    }

    fn focus_composer(&self) {
        if let Some(el) = self.composer.try_get_untracked().flatten() {
            let _ = el.focus();
        }
    }

    /// Runs a change of a post; its error is shown on the room.
    fn run<Fut>(self, change: Fut)
    where
        Fut: Future<Output = Result<(), hush_client::Error>> + 'static,
    {
        self.error.set(None);
        spawn_local(async move {
            if let Err(e) = change.await {
                self.error.set(Some(crate::words::error_text(&e)));
            }
        });
    }
}

/// The open room: its posts and the composer.
#[component]
pub fn RoomView() -> impl IntoView {
    let app = use_app();
    let Some(url) = app.open_room.get_untracked() else {
        return view! { <section class="card empty-chat"><p class="note">{t(Text::AppChooseConversation)}</p></section> }
            .into_any();
    };
    let community = {
        let url = url.clone();
        Memo::new(move |_| app.communities.with(|list| list.iter().find(|c| c.url == url).cloned()))
    };
    let list = NodeRef::<leptos::html::Ol>::new();
    let room = Room {
        app,
        url: StoredValue::new(url),
        community,
        replying: RwSignal::new(None),
        editing: RwSignal::new(None),
        picking: RwSignal::new(None),
        chosen: RwSignal::new(None),
        deleting: RwSignal::new(None),
        opening_link: RwSignal::new(None),
        draft: RwSignal::new(String::new()),
        composer: NodeRef::new(),
        error: RwSignal::new(None),
    };
    let name = move || community.with(|c| c.as_ref().map(|c| c.name.clone())).unwrap_or_default();
    let asking_leave = RwSignal::new(false);
    let inviting = RwSignal::new(false);
    let sharing = RwSignal::new(false);
    let back = move |_| {
        communities::close(app);
        app.go(Screen::Home);
    };
    let leave = move || {
        let url = room.url.get_value();
        room.run(async move { communities::leave(app, &url).await });
    };
    let delete = move || {
        let Some(id) = room.deleting.get_untracked() else { return };
        let url = room.url.get_value();
        room.run(async move { communities::delete(app, &url, id).await });
    };

    // The list opens at the newest post, follows new ones while the person is at the bottom, and
    // pages in older posts near the top, keeping what they read in place.
    let at_bottom = StoredValue::new(true);
    let loading_older = StoredValue::new(false);
    Effect::new(move |_| {
        app.room_messages.track();
        if at_bottom.get_value() {
            request_animation_frame(move || {
                if let Some(el) = list.try_get_untracked().flatten() {
                    el.set_scroll_top(el.scroll_height());
                }
            });
        }
    });
    let load_older = move || {
        if loading_older.get_value() || !app.room_has_older.get_untracked() {
            return;
        }
        loading_older.set_value(true);
        let from_bottom = list.try_get_untracked().flatten().map(|el| el.scroll_height() - el.scroll_top());
        spawn_local(async move {
            if let Err(e) = communities::older(app).await {
                room.error.set(Some(crate::words::error_text(&e)));
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

    view! {
        <section class="card conversation-view room-view" aria-labelledby="room-title">
            <div class="conversation-head">
                <button class="secondary" type="button" on:click=back>{t(Text::CommonBack)}</button>
                <h2 id="room-title" title=name><bdi dir="auto" data-testid="name">{name}</bdi></h2>
                // Share, Invite, Room picture (its admins) and Leave: in a menu, so a narrow
                // screen keeps room for the name.
                <Menu label=t(Text::ConversationOptions)>
                    <button class="secondary" type="button" data-testid="share-community" aria-haspopup="dialog"
                        on:click=move |_| sharing.set(true)>
                        {t(Text::CommunityShare)}
                    </button>
                    <button class="secondary" type="button" data-testid="invite" aria-haspopup="dialog"
                        on:click=move |_| inviting.set(true)>
                        {t(Text::InvitationInvite)}
                    </button>
                    {move || community.with(|c| c.as_ref().is_some_and(|c| c.admin)).then(|| view! { <RoomPictureButton room=room /> })}
                    <button class="secondary" type="button" data-testid="leave-community" on:click=move |_| asking_leave.set(true)>
                        {t(Text::CommunityLeave)}
                    </button>
                </Menu>
            </div>
            <InviteDialog open=inviting room=room.url.get_value() name=Signal::derive(name) />
            <p class="mono small peer-id" dir="ltr">{move || community.with(|c| c.as_ref().map(|c| c.server.clone()))}</p>
            <ShareDialog open=sharing url=room.url.get_value() />
            <Confirm open=asking_leave title=t(Text::CommunityLeaveTitle) action=t(Text::CommunityLeave) danger=true
                on_confirm=move || leave() on_close=move || asking_leave.set(false)>
                <p>{move || {
                    let (before, after) = around(Text::CommunityLeaveText, "name");
                    view! { {before}<bdi class="name" dir="auto">{name()}</bdi>{after} }
                }}</p>
            </Confirm>
            <Confirm open=Signal::derive(move || room.deleting.with(Option::is_some)) title=t(Text::CommunityDeleteTitle)
                action=t(Text::CommonDelete) danger=true on_confirm=move || delete()
                on_close=move || room.deleting.set(None)>
                <p>{t(Text::CommunityDeleteText)}</p>
            </Confirm>
            <Confirm open=Signal::derive(move || room.opening_link.with(Option::is_some)) title=t(Text::ConversationLinkTitle)
                action=t(Text::ConversationLinkOpen)
                on_confirm=move || {
                    if let Some(url) = room.opening_link.get_untracked() {
                        super::conversation::open_in_new_tab(&url);
                    }
                }
                on_close=move || room.opening_link.set(None)>
                <p class="mono link-address" dir="ltr" data-testid="link-address">
                    {move || room.opening_link.get().unwrap_or_default()}
                </p>
                <p>{t(Text::ConversationLinkText)}</p>
            </Confirm>
            <Problem error=room.error />
            <Notice />
            <Show when=move || app.room_has_older.get()>
                <button class="secondary older" type="button" data-testid="older" on:click=move |_| load_older()>
                    {t(Text::ConversationOlder)}
                </button>
            </Show>
            <div class="pane">
                <ol class="messages" node_ref=list on:scroll=scrolled tabindex="0" aria-label=t(Text::ConversationMessages)>
                    <For each=move || app.room_messages.get()
                        key=|m| (m.id, m.edited, m.body.clone(), reactions_key(m), m.moderator, m.files.len())
                        children=move |m: RoomMessage| view! { <Post message=m room=room /> } />
                </ol>
            </div>
            {move || community.with(|c| c.as_ref().is_some_and(|c| !c.write)).then(|| view! {
                <p class="note">{t(Text::CommunityReadOnly)}</p>
            })}
            <Show when=move || community.with(|c| c.as_ref().is_none_or(|c| c.write))>
                <Composer room=room />
            </Show>
        </section>
    }
    .into_any()
}

/// What a post's reactions are, as a key: a post is drawn again when they change.
fn reactions_key(m: &RoomMessage) -> Vec<(String, u64, bool)> {
    m.reactions.iter().map(|r| (r.emoji.clone(), r.count, r.you)).collect()
}

/// The room's composer: text, a reply or an edit being written, and files.
#[component]
fn Composer(room: Room) -> impl IntoView {
    let app = room.app;
    let draft = room.draft;
    let chosen = RwSignal::new_local(Vec::<Chosen>::new());
    let next_file = StoredValue::new(0u64);
    let picker = NodeRef::<leptos::html::Input>::new();
    let sending = RwSignal::new(false);
    let send_error = RwSignal::new(None::<String>);
    let count = move || draft.with(|d| d.chars().count());
    let sendable =
        move || (!draft.with(|d| d.trim().is_empty()) || chosen.with(|c| !c.is_empty())) && count() <= MAX_CHARS;
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
        let url = room.url.get_value();
        let text = draft.get_untracked();
        let reply_to = room.replying.get_untracked().map(|m| m.id);
        let editing = room.editing.get_untracked().map(|m| m.id);
        let attached = chosen.get_untracked();
        sending.set(true);
        send_error.set(None);
        spawn_local(async move {
            let done = if let Some(id) = editing {
                communities::edit(app, &url, id, &text).await
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
                communities::post(app, &url, &text, reply_to, ready).await
            };
            match done {
                Ok(()) => {
                    room.replying.try_set(None);
                    room.editing.try_set(None);
                    if draft.try_get_untracked().is_some_and(|d| d == text) {
                        draft.try_set(String::new());
                    }
                    forget_chosen(chosen);
                }
                Err(e) => {
                    send_error.try_set(Some(crate::words::error_text(&e)));
                }
            }
            sending.try_set(false);
            room.focus_composer();
        });
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send();
    };
    let keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() && ev.key_code() != 229 {
            ev.prevent_default();
            send();
        } else if ev.key() == "Escape"
            && (room.replying.with_untracked(Option::is_some) || room.editing.with_untracked(Option::is_some))
        {
            ev.prevent_default();
            stop(room);
        }
    };
    let pasted = move |ev: leptos::ev::ClipboardEvent| {
        let list = files::list(ev.clipboard_data().and_then(|d| d.files()));
        if !list.is_empty() {
            ev.prevent_default();
            add_files(list);
        }
    };
    let picked = move |_| {
        let Some(input) = picker.get_untracked() else { return };
        add_files(files::list(input.files()));
        input.set_value("");
    };
    let attach = move |_| {
        if let Some(input) = picker.get_untracked() {
            input.click();
        }
    };
    let upload = move || room.community.with(|c| c.as_ref().is_none_or(|c| c.upload));
    // What the bar over the text says: the post answered, or the post being edited.
    let context = move || {
        if let Some(m) = room.editing.get() {
            return Some((t(Text::CommunityEditing).to_owned(), quote_text(&m.body)));
        }
        room.replying.get().map(|m| {
            let who = if m.mine { t(Text::ConversationYourself).to_owned() } else { room.name_of(&m.sender) };
            (tf(Text::CommunityReplyingTo, &[("name", &who)]), quote_text(&m.body))
        })
    };
    view! {
        <form class="composer" on:submit=submit>
            {move || context().map(|(line, snippet)| view! {
                <div class="replying" data-testid="replying">
                    <p>{line}<span class="snippet" dir="auto">{snippet}</span></p>
                    <button class="cancel-reply" type="button" aria-label=t(Text::CommonCancel) title=t(Text::CommonCancel)
                        on:click=move |_| stop(room)>"×"</button>
                </div>
            })}
            <ChosenFiles chosen=chosen />
            <label for="composer" class="visually-hidden">{t(Text::ConversationMessage)}</label>
            <div class="compose-row">
                <Show when=upload>
                    <input type="file" multiple hidden data-testid="attach" node_ref=picker on:change=picked />
                    <button class="secondary attach-button" type="button" aria-label=t(Text::AttachButton)
                        title=t(Text::AttachButton) on:click=attach>
                        <ClipIcon />
                    </button>
                </Show>
                <textarea id="composer" data-testid="composer" rows="1" placeholder=t(Text::ConversationMessage) dir="auto"
                    node_ref=room.composer data-autofocus="" prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev)) on:keydown=keydown on:paste=pasted></textarea>
                <button class="primary" type="submit" data-testid="send" prop:disabled=move || !sendable() || sending.get()>
                    {move || t(if room.editing.with(Option::is_some) { Text::CommonSave } else { Text::ConversationSend })}
                </button>
            </div>
            <Problem error=send_error />
        </form>
    }
}

/// Leaves the reply or the edit being written (an edit's text goes with it).
fn stop(room: Room) {
    if room.editing.get_untracked().is_some() {
        room.draft.set(String::new());
    }
    room.replying.set(None);
    room.editing.set(None);
    room.focus_composer();
}

/// Lets go of the files chosen and not sent.
fn forget_chosen(chosen: RwSignal<Vec<Chosen>, LocalStorage>) {
    chosen.try_update(|list| {
        for url in list.iter().filter_map(|c| c.preview.as_ref()) {
            files::revoke(url);
        }
        list.clear();
    });
}

/// One post: who posted it (name, short blinded ID, moderator badge), what it answers, its files
/// and text, when (and whether edited), its reactions, and what can be done to it.
#[component]
fn Post(message: RoomMessage, room: Room) -> impl IntoView {
    let app = room.app;
    let m = message;
    let id = m.id;
    let mine = m.mine;
    let sender = m.sender;
    let full_id = sender.to_string();
    let name = m.sender_name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| short_id(&sender));
    let may_delete = move || mine || room.community.with(|c| c.as_ref().is_some_and(|c| c.moderator));
    let admin = move || room.community.with(|c| c.as_ref().is_some_and(|c| c.admin));
    let pinned = move || room.community.with(|c| c.as_ref().is_some_and(|c| c.pinned.contains(&id)));
    let pin = move |_| {
        let url = room.url.get_value();
        let on = !pinned();
        room.chosen.set(None);
        room.run(async move { communities::pin(app, &url, id, on).await });
    };
    let chosen = Memo::new(move |_| room.chosen.get() == Some(id));
    let picking = Memo::new(move |_| room.picking.get() == Some(id));
    let tap = move |ev: leptos::ev::MouseEvent| {
        use wasm_bindgen::JsCast;
        let on_control = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("button, a, input, form").ok().flatten())
            .is_some();
        if !on_control {
            room.chosen.update(|c| *c = if *c == Some(id) { None } else { Some(id) });
        }
    };
    let reply = {
        let m = m.clone();
        move |_| {
            room.editing.set(None);
            room.replying.set(Some(m.clone()));
            room.chosen.set(None);
            room.focus_composer();
        }
    };
    let edit = {
        let m = m.clone();
        move |_| {
            room.replying.set(None);
            room.draft.set(m.body.clone());
            room.editing.set(Some(m.clone()));
            room.chosen.set(None);
            room.focus_composer();
        }
    };
    let react = move |emoji: String, on: bool| {
        let url = room.url.get_value();
        room.picking.set(None);
        room.run(async move { communities::react(app, &url, id, &emoji, on).await });
    };
    let message_them = move |_| {
        let url = room.url.get_value();
        room.error.set(None);
        spawn_local(async move {
            match communities::message_member(app, &url, &sender).await {
                Ok(conversation) => {
                    communities::close(app);
                    super::open_conversation(app, conversation.peer);
                }
                Err(e) => room.error.set(Some(crate::words::error_text(&e))),
            }
        });
    };
    let quote = m.quote.clone().map(|q| {
        let author = if room.app.room_messages.with_untracked(|l| l.iter().any(|x| x.sender == q.author && x.mine)) {
            t(Text::ConversationYou).to_owned()
        } else {
            room.name_of(&q.author)
        };
        view! {
            <div class="quote" data-testid="quote">
                <span class="quote-author"><bdi dir="auto">{author}</bdi></span>
                <span class="quote-text" dir="auto">{if q.text.is_empty() { t(Text::MessageAMessage).to_owned() } else { q.text }}</span>
            </div>
        }
    });
    let files = (!m.files.is_empty()).then(|| {
        let count = m.files.len();
        view! {
            <div class="attachments" class:single=count == 1>
                {m.files.iter().cloned().map(|f| view! { <PostFile file=f room=room /> }).collect_view()}
            </div>
        }
    });
    let when = match m.edited {
        Some(_) => tf(Text::CommunityEditedAt, &[("time", &clock(m.posted))]),
        None => clock(m.posted),
    };
    let reactions = m.reactions.clone();
    let quick = messaging::quick_reactions(app);
    let own_reactions: Vec<String> = reactions.iter().filter(|r| r.you).map(|r| r.emoji.clone()).collect();
    view! {
        <li class=if mine { "message out" } else { "message in" } class:chosen=move || chosen.get()
            data-testid="message" data-id=id.to_string() data-direction=if mine { "out" } else { "in" }
            data-edited=m.edited.is_some().then_some("") on:click=tap>
            <span class="sender poster">
                <bdi dir="auto" data-testid="name">{name}</bdi>
                " "
                <span class="mono blinded" dir="ltr" title=full_id data-testid="blinded-id">{short_id(&sender)}</span>
                {m.moderator.then(|| view! { " "<span class="tag moderator" data-testid="moderator">{t(Text::CommunityModerator)}</span> })}
                <Show when=pinned>" "<span class="tag pinned" data-testid="pinned">{t(Text::CommunityPinned)}</span></Show>
            </span>
            {quote}
            {files}
            {(!m.body.is_empty()).then(|| view! {
                <p class="body" dir="auto" data-testid="body">{message_text(&m.body, room.opening_link)}</p>
            })}
            <span class="when">{when}</span>
            {(!reactions.is_empty()).then(|| view! {
                <div class="reactions" role="group" aria-label=t(Text::MessageReactions)>
                    {reactions.into_iter().map(|r| {
                        let count = crate::i18n::number(r.count);
                        let label = tn(Text::CommunityReaction, r.count, &[("emoji", &r.emoji)]);
                        let (emoji, shown, you) = (r.emoji.clone(), r.emoji.clone(), r.you);
                                                view! {
                            <button class="reaction" type="button" data-testid="reaction" data-emoji=r.emoji
                                aria-pressed=if you { "true" } else { "false" } aria-label=label
                                on:click=move |_| react(emoji.clone(), !you)>
                                <span class="emoji">{shown}</span>" "<span class="count">{count}</span>
                            </button>
                        }
                    }).collect_view()}
                </div>
            })}
            <div class="actions" role="group" aria-label=t(Text::MessageActions)>
                <button type="button" on:click=reply>{t(Text::MessageReply)}</button>
                <button class="react-button" type="button" aria-expanded=move || if picking.get() { "true" } else { "false" }
                    on:click=move |_| room.picking.update(|p| *p = if *p == Some(id) { None } else { Some(id) })>
                    {t(Text::MessageReact)}
                </button>
                {mine.then(|| view! { <button type="button" on:click=edit.clone()>{t(Text::CommunityEdit)}</button> })}
                {(!mine).then(|| view! {
                    <button type="button" data-testid="message-member" on:click=message_them>{t(Text::CommunityMessage)}</button>
                })}
                <Show when=admin>
                    <button type="button" data-testid="pin" on:click=pin>
                        {move || t(if pinned() { Text::CommunityUnpin } else { Text::CommunityPin })}
                    </button>
                </Show>
                <Show when=may_delete>
                    <button class="delete" type="button" on:click=move |_| room.deleting.set(Some(id))>
                        {t(Text::CommonDelete)}
                    </button>
                </Show>
            </div>
            <Show when=move || picking.get()>
                <div class="picker" role="group" aria-label=t(Text::MessageReact)>
                    <div class="quick">
                        {quick.iter().cloned().map(|emoji| {
                            let on = !own_reactions.contains(&emoji);
                                                        let e = emoji.clone();
                            view! {
                                <button class="emoji" type="button" aria-pressed=if on { "false" } else { "true" }
                                    on:click=move |_| react(e.clone(), on)>{emoji}</button>
                            }
                        }).collect_view()}
                    </div>
                </div>
            </Show>
        </li>
    }
}

/// A file of a post: a picture drawn inline, another file with its name, size and Download.
#[component]
fn PostFile(file: RoomFile, room: Room) -> impl IntoView {
    let app = room.app;
    let url = RwSignal::new(None::<String>);
    let problem = RwSignal::new(None::<String>);
    let ready = RwSignal::new(false);
    let picture = files::shows_inline(&file.content_type) && file.content_type.starts_with("image/");
    let id = file.id;
    let content_type = file.content_type.clone();
    let name = files::label(file.file_name.as_deref());
    if picture {
        let content_type = content_type.clone();
        spawn_local(async move {
            let room_url = room.url.get_value();
            match communities::file(app, &room_url, id).await {
                Ok(bytes) => {
                    let made = files::object_url(&bytes, &content_type);
                    if url.try_set(made.clone()).is_some()
                        && let Some(made) = made
                    {
                        files::revoke(&made);
                    }
                }
                Err(e) => {
                    problem.try_set(Some(crate::words::error_text(&e)));
                }
            }
        });
    }
    on_cleanup(move || {
        if let Some(Some(u)) = url.try_get_untracked() {
            files::revoke(&u);
        }
    });
    let state = move || {
        if problem.with(Option::is_some) {
            "failed"
        } else if ready.get() || !picture {
            "ready"
        } else {
            "loading"
        }
    };
    if picture {
        let (width, height) = match (file.width, file.height) {
            (Some(w), Some(h)) => files::fit(w, h, THUMB_SIDE),
            _ => (THUMB_SIDE, THUMB_SIDE * 3 / 4),
        };
        view! {
            <figure class="attachment picture" data-testid="attachment" data-kind="image" data-state=state>
                <div class="thumb" style:width=format!("{width}px") style:aspect-ratio=format!("{width} / {height}")>
                    {move || url.get().map(|src| view! {
                        <img src=src alt=name.clone() on:load=move |_| ready.set(true)
                            on:error=move |_| problem.set(Some(t(Text::FileCannotShow).to_owned())) />
                    })}
                </div>
                {move || problem.get().map(|p| view! { <p class="attachment-failed" data-testid="attachment-problem">{p}</p> })}
            </figure>
        }
        .into_any()
    } else {
        let size = files::size_text(file.size);
        let shown_name = name.clone();
        let download = {
            let (name, content_type) = (name.clone(), content_type);
            move |_| {
                let (name, content_type) = (name.clone(), content_type.clone());
                spawn_local(async move {
                    let room_url = room.url.get_value();
                    match communities::file(app, &room_url, id).await {
                        Ok(bytes) => files::save(&bytes, &content_type, &name),
                        Err(e) => {
                            problem.try_set(Some(crate::words::error_text(&e)));
                        }
                    }
                });
            }
        };
        view! {
            <div class="attachment file" data-testid="attachment" data-kind="file" data-state=state>
                <span class="file-meta">
                    <bdi class="file-name" dir="auto" title=name>{shown_name}</bdi>
                    <span class="file-size">{size}</span>
                </span>
                <button class="secondary download" type="button" data-testid="download" on:click=download>
                    {t(Text::FileDownload)}
                </button>
                {move || problem.get().map(|p| view! { <p class="attachment-failed" data-testid="attachment-problem">{p}</p> })}
            </div>
        }
        .into_any()
    }
}
