//! Sending, receiving and keeping messages: the outbox is written (sealed) before any network
//! call, the poll loop fetches namespace 0 of the account's swarm, and everything lands in the
//! vault.
//!
//! Message requests: someone not in the conversations who writes arrives as a request. Accepting
//! it, or replying to it, makes it a conversation and tells them so with the protocol's
//! `MessageRequestResponse` (approved, with our display name); when theirs arrives, they are
//! marked as having accepted ours. Blocking drops what they send; deleting forgets the
//! conversation and its messages on this device.

use std::rc::Rc;

use crypto_core::identity::SessionId;
use crypto_core::message::{self, Received};
use crypto_core::wire::{Content, LokiProfile, MessageRequestResponse};
use leptos::prelude::*;
use leptos::task::spawn_local;
use rand_core::OsRng;

use crate::chat::{self, Conversation, Incoming, Message, Standing, Status};
use crate::session::{AppState, Session};
use crate::storage::{StorageError, stores};

const SEEN_ID: &[u8] = b"seen-hashes";
const SEEN_KEEP: usize = 5_000;
/// `account` record: the ids of outgoing messages not yet sent, so an unlock resumes them
/// without reading every message.
const OUTBOX_ID: &[u8] = b"outbox";
/// `account` record: the peers whose `MessageRequestResponse` (approved) arrived.
const APPROVED_ME_ID: &[u8] = b"approved-me";

const LOCKED: &str = "Hush is locked.";

async fn load<T: serde::de::DeserializeOwned>(session: &Session, store: &str, id: &[u8]) -> Option<T> {
    let bytes = session.vault.get(store, id).await.ok()??;
    serde_json::from_slice(&bytes).ok()
}

async fn save<T: serde::Serialize>(session: &Session, store: &str, id: &[u8], value: &T) -> Result<(), StorageError> {
    let bytes = zeroize::Zeroizing::new(serde_json::to_vec(value).unwrap_or_default());
    session.vault.put(store, id, &bytes).await
}

/// A storage failure, as the person reads it next to what they tried.
fn kept_nothing(e: &StorageError) -> String {
    format!("This device's storage refused the change ({e}). Nothing was changed.")
}

/// Every conversation, most recent first (blocked ones last).
pub async fn conversations(session: &Session) -> Vec<Conversation> {
    chat::list(&session.vault).await.unwrap_or_default()
}

thread_local! {
    // Reference-counted, not owned by whichever view first asked for it.
    static ARRIVED: ArcRwSignal<Option<Message>> = ArcRwSignal::new(None);
}

/// The last message that arrived in the open conversation while it was open (never history paged
/// in from the vault): what the conversation view reads out to screen readers.
pub fn arrived() -> ArcRwSignal<Option<Message>> {
    ARRIVED.with(Clone::clone)
}

/// Shows `msg` in the open conversation (replacing the copy with its id), without reloading.
fn upsert_shown(app: AppState, msg: &Message) {
    if app.open_peer.get_untracked().as_deref() != Some(msg.peer.as_str()) {
        return;
    }
    let mut fresh = false;
    app.messages.update(|list| match list.iter_mut().find(|m| m.id == msg.id) {
        Some(existing) => *existing = msg.clone(),
        None => {
            fresh = !msg.outgoing;
            list.push(msg.clone());
            list.sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));
        }
    });
    if fresh {
        arrived().set(Some(msg.clone()));
    }
}

/// Refreshes the conversation list shown (and the open conversation). A storage failure is
/// shown as the notice.
pub async fn refresh(app: AppState) {
    let Some(session) = app.current() else { return };
    match chat::list(&session.vault).await {
        Ok(list) => app.conversations.set(list),
        Err(e) => app.notice.set(Some(format!("Your conversations could not be read: {e}."))),
    }
    if let Some(peer) = app.open_peer.get_untracked()
        && let Err(e) = show(app, &session, &peer, app.shown_count.get_untracked()).await
    {
        app.notice.set(Some(e));
    }
}

async fn conversation(session: &Session, peer: &str) -> Option<Conversation> {
    chat::conversation(&session.vault, peer).await.ok().flatten()
}

/// Loads the last `count` messages of `peer` into the open-conversation view.
async fn show(app: AppState, session: &Session, peer: &str, count: usize) -> Result<(), String> {
    let (messages, older) =
        chat::latest(&session.vault, peer, count).await.map_err(|e| format!("The messages could not be read: {e}."))?;
    // The person may have moved on while the vault was read.
    if app.open_peer.get_untracked().as_deref() == Some(peer) {
        app.has_older.set(older);
        app.messages.set(messages);
    }
    Ok(())
}

/// Opens the conversation with `peer` (a conversation record is made only by its first message)
/// and marks it read.
pub async fn open(app: AppState, peer: SessionId) -> Result<(), String> {
    let session = app.current().ok_or(LOCKED)?;
    let key = peer.to_string();
    app.messages.set(Vec::new());
    app.has_older.set(false);
    app.open_peer.set(Some(key.clone()));
    app.shown_count.set(chat::PAGE);
    {
        let _guard = session.writes.lock().await;
        if let Ok(Some(mut c)) = chat::conversation(&session.vault, &key).await
            && c.unread > 0
        {
            c.unread = 0;
            // Not fatal: the count stays until the next time.
            let _ = save(&session, stores::CONVERSATIONS, key.as_bytes(), &c).await;
        }
    }
    let shown = show(app, &session, &key, chat::PAGE).await;
    app.conversations.set(conversations(&session).await);
    shown
}

/// Shows older messages of the open conversation.
pub async fn older(app: AppState) -> Result<(), String> {
    let (Some(session), Some(peer)) = (app.current(), app.open_peer.get_untracked()) else { return Ok(()) };
    let count = app.shown_count.get_untracked() + chat::PAGE;
    app.shown_count.set(count);
    show(app, &session, &peer, count).await
}

/// Sends `body` to `peer`. Returns once the message is sealed and written to the outbox in the
/// vault; delivery then goes on in the background (sending → sent or failed). An error means
/// nothing was kept, so the caller keeps the person's text. Replying to a message request
/// accepts it.
pub async fn send(app: AppState, peer: SessionId, body: String) -> Result<(), String> {
    let session = app.current().ok_or(LOCKED)?;
    let body: String = body.chars().take(chat::MAX_CHARS).collect();
    let name = session.account.borrow().display_name.clone();
    let now = session.next_timestamp();
    let content = message::text_message(&body, Some(&name));
    let sync = message::sync_copy(&content, &peer);
    let (Ok(data), Ok(sync_data)) = (
        message::seal_message(&mut OsRng, &session.identity, &peer, content, now),
        message::seal_message(&mut OsRng, &session.identity, &session.identity.session_id(), sync, now),
    ) else {
        return Err("This message could not be encrypted, so it was not sent.".into());
    };
    let msg = chat::outgoing(&peer, &body, now, &name, data, sync_data);
    let not_kept = |e: StorageError| format!("Not sent: this device's storage refused the message ({e}).");
    outbox(&session, |ids| ids.push(msg.id.clone())).await.map_err(not_kept)?;
    if let Err(e) = record(&session, &msg, None, false, Standing::Accepted).await {
        let _ = outbox(&session, |ids| ids.retain(|id| *id != msg.id)).await;
        return Err(not_kept(e));
    }
    upsert_shown(app, &msg);
    let key = peer.to_string();
    if let Ok(Some(Standing::Request)) = set_standing(&session, &key, Standing::Accepted).await {
        spawn_local(tell_accepted(session.clone(), peer));
    }
    app.conversations.set(conversations(&session).await);
    let background = session.clone();
    spawn_local(async move {
        deliver(app, background, msg).await;
    });
    Ok(())
}

/// Writes a message and updates its conversation (see `chat::file`), under `session.writes`, so
/// messages filed at the same moment (a send while the poll files incoming ones) all stay in it.
pub async fn record(
    session: &Session,
    msg: &Message,
    name: Option<String>,
    unread: bool,
    standing: Standing,
) -> Result<(), StorageError> {
    let _guard = session.writes.lock().await;
    chat::file(&session.vault, msg, name, unread, standing).await
}

/// The ids of outgoing messages still to send. A vault from before this list existed has none
/// yet: its messages are read once to make it.
async fn outbox_ids(session: &Session) -> Result<Vec<String>, StorageError> {
    if let Some(bytes) = session.vault.get(stores::ACCOUNT, OUTBOX_ID).await? {
        return Ok(serde_json::from_slice(&bytes).unwrap_or_default());
    }
    let ids: Vec<String> = session
        .vault
        .all(stores::MESSAGES)
        .await?
        .iter()
        .filter_map(|b| serde_json::from_slice::<Message>(b).ok())
        .filter(|m| m.outgoing && m.outbox.is_some() && m.status != Status::Sent)
        .map(|m| m.id)
        .collect();
    save(session, stores::ACCOUNT, OUTBOX_ID, &ids).await?;
    Ok(ids)
}

/// Changes the list of outgoing messages still to send, under `session.writes`.
async fn outbox(session: &Session, change: impl FnOnce(&mut Vec<String>)) -> Result<(), StorageError> {
    let _guard = session.writes.lock().await;
    let mut ids = outbox_ids(session).await?;
    change(&mut ids);
    ids.dedup();
    save(session, stores::ACCOUNT, OUTBOX_ID, &ids).await
}

/// Stores an outbox message in the recipient's and the own swarm; marks it sent or failed.
async fn deliver(app: AppState, session: Rc<Session>, mut msg: Message) {
    let Some(mut outbox_entry) = msg.outbox.clone() else { return };
    let Ok(peer) = msg.peer.parse::<SessionId>() else { return };
    let me = session.identity.session_id();
    let mut ok = false;
    let mut problem = None;
    // Five rounds, 1.5, 3, 6 and 12 s apart, before the message shows as failed: paths and
    // swarms heal between them (strikes, rebuilt paths, a node list fetched again).
    for round in 0..5 {
        if round > 0 {
            sleep(1_500 << (round - 1)).await;
        }
        if !outbox_entry.delivered {
            if let Err(e) = session.client.store(&peer, &outbox_entry.data, msg.timestamp).await {
                problem = Some(e.to_string());
                continue;
            }
            outbox_entry.delivered = true;
            msg.outbox = Some(outbox_entry.clone());
            let _ = save(&session, stores::MESSAGES, msg.id.as_bytes(), &msg).await;
        }
        // The sync copy lets this account's other browsers show the message.
        match session.client.store(&me, &outbox_entry.sync_data, msg.timestamp).await {
            Ok(_) => {
                ok = true;
                break;
            }
            Err(e) => problem = Some(e.to_string()),
        }
    }
    msg.status = if ok { Status::Sent } else { Status::Failed };
    msg.problem = if ok { None } else { problem };
    if ok {
        msg.outbox = None;
    }
    // A conversation deleted meanwhile keeps its message deleted.
    if load::<Message>(&session, stores::MESSAGES, msg.id.as_bytes()).await.is_some() {
        let _ = save(&session, stores::MESSAGES, msg.id.as_bytes(), &msg).await;
    }
    if ok {
        let _ = outbox(&session, |ids| ids.retain(|id| *id != msg.id)).await;
    }
    upsert_shown(app, &msg);
}

/// Retries a failed message with the very same sealed bytes.
pub async fn retry(app: AppState, id: String) -> Result<(), String> {
    let session = app.current().ok_or(LOCKED)?;
    let mut msg = load::<Message>(&session, stores::MESSAGES, id.as_bytes())
        .await
        .ok_or("This message is no longer on this device.")?;
    msg.status = Status::Sending;
    let not_kept = |e: StorageError| format!("Could not retry: this device's storage refused ({e}).");
    save(&session, stores::MESSAGES, msg.id.as_bytes(), &msg).await.map_err(not_kept)?;
    outbox(&session, |ids| ids.push(msg.id.clone())).await.map_err(not_kept)?;
    upsert_shown(app, &msg);
    spawn_local(deliver(app, session, msg));
    Ok(())
}

/// Re-sends, in the background, what was still being sent when the tab closed (after a reload
/// mid-send). Only the outbox's own entries are read; failed messages wait for Retry.
pub async fn resume_outbox(app: AppState) {
    let Some(session) = app.current() else { return };
    spawn_local(async move {
        let Ok(ids) = outbox_ids(&session).await else { return };
        for id in ids {
            if !app.current().is_some_and(|s| Rc::ptr_eq(&s, &session)) {
                return;
            }
            match load::<Message>(&session, stores::MESSAGES, id.as_bytes()).await {
                Some(m) if m.status == Status::Sending && m.outbox.is_some() => deliver(app, session.clone(), m).await,
                Some(m) if m.status == Status::Failed && m.outbox.is_some() => {}
                _ => {
                    let _ = outbox(&session, |ids| ids.retain(|x| *x != id)).await;
                }
            }
        }
    });
}

/// Sets the standing of the conversation with `peer` (making its record if there is none yet);
/// returns the standing it had.
async fn set_standing(session: &Session, peer: &str, standing: Standing) -> Result<Option<Standing>, StorageError> {
    let id: SessionId = peer.parse().map_err(|_| StorageError::NoVault)?;
    let _guard = session.writes.lock().await;
    let existing = chat::conversation(&session.vault, peer).await?;
    let before = existing.as_ref().map(|c| c.standing);
    if before == Some(standing) {
        return Ok(before);
    }
    let mut c = existing.unwrap_or_else(|| Conversation::new(&id, standing));
    c.standing = standing;
    save(session, stores::CONVERSATIONS, peer.as_bytes(), &c).await?;
    Ok(before)
}

/// Tells `peer` we accepted their message request: a `MessageRequestResponse` (approved, with
/// our display name) stored in their swarm, in a few rounds as a message is.
async fn tell_accepted(session: Rc<Session>, peer: SessionId) {
    let name = session.account.borrow().display_name.clone();
    let content = Content {
        message_request_response: Some(MessageRequestResponse {
            is_approved: Some(true),
            profile: Some(LokiProfile { display_name: Some(name), ..Default::default() }),
            profile_key: None,
        }),
        ..Default::default()
    };
    let now = session.next_timestamp();
    let Ok(data) = message::seal_message(&mut OsRng, &session.identity, &peer, content, now) else { return };
    for round in 0..3 {
        if round > 0 {
            sleep(1_500).await;
        }
        if session.client.store(&peer, &data, now).await.is_ok() {
            return;
        }
    }
}

/// Accepts the message request of `peer`: it becomes a conversation, and they are told.
pub async fn accept(app: AppState, peer: String) -> Result<(), String> {
    let session = app.current().ok_or(LOCKED)?;
    let id: SessionId = peer.parse().map_err(|_| "Not a Session ID.")?;
    let before = set_standing(&session, &peer, Standing::Accepted).await.map_err(|e| kept_nothing(&e))?;
    if before != Some(Standing::Accepted) {
        spawn_local(tell_accepted(session.clone(), id));
    }
    refresh(app).await;
    Ok(())
}

/// Blocks `peer`: what they send from now on is dropped. The conversation stays (out of the
/// list) so Settings can list and unblock them.
pub async fn block(app: AppState, peer: String) -> Result<(), String> {
    let session = app.current().ok_or(LOCKED)?;
    set_standing(&session, &peer, Standing::Blocked).await.map_err(|e| kept_nothing(&e))?;
    refresh(app).await;
    Ok(())
}

/// Unblocks `peer`: a conversation again.
pub async fn unblock(app: AppState, peer: String) -> Result<(), String> {
    let session = app.current().ok_or(LOCKED)?;
    set_standing(&session, &peer, Standing::Accepted).await.map_err(|e| kept_nothing(&e))?;
    refresh(app).await;
    Ok(())
}

/// Deletes the conversation with `peer` and its messages from this device. A blocked person
/// stays blocked: their record is kept, without messages.
pub async fn delete(app: AppState, peer: String) -> Result<(), String> {
    let session = app.current().ok_or(LOCKED)?;
    let id: SessionId = peer.parse().map_err(|_| "Not a Session ID.")?;
    {
        let _guard = session.writes.lock().await;
        let blocked = conversation(&session, &peer).await.filter(|c| c.standing == Standing::Blocked);
        chat::forget(&session.vault, &peer).await.map_err(|e| kept_nothing(&e))?;
        if let Some(c) = blocked {
            let kept = Conversation { name: c.name, ..Conversation::new(&id, Standing::Blocked) };
            let _ = save(&session, stores::CONVERSATIONS, peer.as_bytes(), &kept).await;
        }
    }
    if app.open_peer.get_untracked().as_deref() == Some(peer.as_str()) {
        app.messages.set(Vec::new());
        app.has_older.set(false);
    }
    app.conversations.set(conversations(&session).await);
    Ok(())
}

/// Whether the `MessageRequestResponse` of `peer` (accepting this account's message request)
/// arrived.
pub async fn approved_me(app: AppState, peer: String) -> bool {
    let Some(session) = app.current() else { return false };
    let approved: Vec<String> = load(&session, stores::ACCOUNT, APPROVED_ME_ID).await.unwrap_or_default();
    approved.contains(&peer)
}

/// Files what a received message says besides text, for content `chat::incoming` ignores: a
/// `MessageRequestResponse` (approved) marks its sender as having accepted our message request and
/// carries their display name. Returns whether anything changed. Messages from blocked people and
/// from this account itself change nothing.
pub async fn file_control(session: &Session, received: &Received) -> bool {
    let Some(response) = &received.content.message_request_response else { return false };
    if response.is_approved != Some(true) || received.sender == session.identity.session_id() {
        return false;
    }
    let peer = received.sender.to_string();
    let _guard = session.writes.lock().await;
    let Some(mut c) = conversation(session, &peer).await else { return false };
    if c.standing == Standing::Blocked {
        return false;
    }
    let mut approved: Vec<String> = load(session, stores::ACCOUNT, APPROVED_ME_ID).await.unwrap_or_default();
    let mut changed = false;
    if !approved.contains(&peer) {
        approved.push(peer.clone());
        changed = save(session, stores::ACCOUNT, APPROVED_ME_ID, &approved).await.is_ok();
    }
    let name = response.profile.as_ref().and_then(|p| p.display_name.as_deref()).map(str::trim).unwrap_or_default();
    if !name.is_empty() && c.name.as_deref() != Some(name) {
        c.name = Some(name.chars().take(64).collect());
        changed |= save(session, stores::CONVERSATIONS, peer.as_bytes(), &c).await.is_ok();
    }
    changed
}

/// Fetches and files new messages once; shows the new ones at once. Malformed or undecryptable
/// items are skipped and never block the others. Returns whether anything was filed; an error
/// is the network client's (the poll loop backs off on it).
///
/// The hashes seen and the `last_hash` per node are kept in memory and written to the vault only
/// when they changed, after the messages they cover are filed (so a reload never skips one).
pub async fn poll_once(app: AppState, session: &Session) -> Result<bool, crate::client::ClientError> {
    let polled = session.client.poll(&session.identity).await;
    let items = match polled {
        Ok(items) => items,
        Err(e) => {
            // Paths may have changed (new guards) even though the poll failed.
            let _ = session.client.persist(&session.vault).await;
            return Err(e);
        }
    };
    let me = session.identity.session_id();
    let mut changed = false;
    let mut filed_all = true;
    let mut shown = Vec::new();
    for item in &items {
        let Ok(received) = message::open_message(&session.identity, &item.data) else { continue };
        changed |= file_control(session, &received).await;
        let Incoming::Add { message, name, unread } = chat::incoming(&received, &item.hash, &me) else { continue };
        if load::<Message>(session, stores::MESSAGES, message.id.as_bytes()).await.is_some() {
            continue;
        }
        let existing = conversation(session, &message.peer).await;
        if existing.as_ref().is_some_and(|c| c.standing == Standing::Blocked) {
            continue;
        }
        let viewing = app.open_peer.get_untracked().as_deref() == Some(message.peer.as_str());
        let standing = if message.outgoing { Standing::Accepted } else { Standing::Request };
        if record(session, &message, name, unread && !viewing, standing).await.is_ok() {
            changed = true;
            if viewing {
                shown.push(message);
            }
        } else {
            filed_all = false;
        }
    }
    for m in &shown {
        upsert_shown(app, m);
    }
    // A message that could not be filed must come again after a reload: then nothing is saved.
    if filed_all {
        if let Some(seen) = session.client.seen_to_save(SEEN_KEEP)
            && save(session, stores::ACCOUNT, SEEN_ID, &seen).await.is_err()
        {
            session.client.seen_not_saved();
        }
        let _ = session.client.persist(&session.vault).await;
    }
    Ok(changed)
}

/// Restores what the poll remembers after an unlock: the hashes already handled, and the
/// network client's guards and `last_hash` per node.
pub async fn restore_seen(session: &Session) {
    let seen: Vec<String> = load(session, stores::ACCOUNT, SEEN_ID).await.unwrap_or_default();
    session.client.remember(seen);
    session.client.restore(&session.vault).await;
}

/// Polls about every 1.5 s while the page is visible, every 10 s when hidden (and at once when it
/// is shown again), until locked;
/// after failures it waits longer (doubling up to 30 s), and returns to the normal period after a
/// success.
pub fn start_polling(app: AppState) {
    spawn_local(async move {
        let Some(first) = app.current() else { return };
        restore_seen(&first).await;
        // New guards are saved as soon as they are chosen, whatever request chose them (held
        // weakly: the client belongs to the session).
        let weak = Rc::downgrade(&first);
        first.client.on_new_guards(move || {
            if let Some(session) = weak.upgrade() {
                spawn_local(async move {
                    let _ = session.client.persist_guards(&session.vault).await;
                });
            }
        });
        resume_outbox(app).await;
        let mut backoff = crypto_core::network::Backoff::default();
        loop {
            let Some(session) = app.current() else { return };
            if !Rc::ptr_eq(&session, &first) {
                return;
            }
            let started = now_ms();
            match poll_once(app, &session).await {
                Ok(changed) => {
                    backoff.succeeded();
                    if changed {
                        app.conversations.set(conversations(&session).await);
                    }
                }
                Err(e) => backoff.failed(&e),
            }
            drop(session);
            // The period is counted from the start of one poll to the next, and looked at again
            // whenever the page is shown or hidden: a page that comes back polls at once instead
            // of finishing the hidden period's wait.
            let mut least = 50.0;
            loop {
                let period = backoff.delay_ms(page_visible()) as f64;
                let left = (period - (now_ms() - started)).max(least);
                if left <= 0.0 || !sleep_unless_shown_or_hidden(left as i32).await {
                    break;
                }
                least = 0.0;
            }
        }
    });
}

fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0.0
    }
}

fn page_visible() -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window()
            .and_then(|w| w.document())
            .is_none_or(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        true
    }
}

/// Waits `ms`, or until the page is shown or hidden, whichever comes first. Returns whether it
/// waited at all (natively, where there is no page, it does not).
async fn sleep_unless_shown_or_hidden(ms: i32) -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        let Some(window) = web_sys::window() else { return false };
        let document = window.document();
        let mut wake = None;
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
            if let Some(d) = &document {
                let _ = d.add_event_listener_with_callback("visibilitychange", &resolve);
            }
            wake = Some(resolve);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        if let (Some(d), Some(wake)) = (&document, &wake) {
            let _ = d.remove_event_listener_with_callback("visibilitychange", wake);
        }
        true
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = ms;
        false
    }
}

async fn sleep(ms: i32) {
    #[cfg(target_arch = "wasm32")]
    {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            if let Some(w) = web_sys::window() {
                let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = ms;
    }
}
