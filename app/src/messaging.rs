//! Sending, receiving and keeping messages: the outbox is written (sealed) before any network
//! call, the poll loop fetches namespace 0 of the account's swarm, and everything lands in the
//! vault.

use std::rc::Rc;

use crypto_core::identity::SessionId;
use crypto_core::message;
use leptos::prelude::*;
use leptos::task::spawn_local;
use rand_core::OsRng;

use crate::chat::{self, Conversation, Incoming, Message, Standing, Status};
use crate::session::{AppState, Session};
use crate::storage::{StorageError, stores};

const SEEN_ID: &[u8] = b"seen-hashes";
const SEEN_KEEP: usize = 5_000;

async fn load<T: serde::de::DeserializeOwned>(session: &Session, store: &str, id: &[u8]) -> Option<T> {
    let bytes = session.vault.get(store, id).await.ok()??;
    serde_json::from_slice(&bytes).ok()
}

async fn save<T: serde::Serialize>(session: &Session, store: &str, id: &[u8], value: &T) -> Result<(), StorageError> {
    let bytes = zeroize::Zeroizing::new(serde_json::to_vec(value).unwrap_or_default());
    session.vault.put(store, id, &bytes).await
}

/// Every conversation, most recent first (blocked ones last).
pub async fn conversations(session: &Session) -> Vec<Conversation> {
    let mut list: Vec<Conversation> = session
        .vault
        .all(stores::CONVERSATIONS)
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|bytes| serde_json::from_slice(bytes).ok())
        .collect();
    list.sort_by(|a, b| {
        (a.standing == Standing::Blocked, b.last_activity).cmp(&(b.standing == Standing::Blocked, a.last_activity))
    });
    list
}

/// Shows `msg` in the open conversation (replacing the copy with its id), without reloading.
fn upsert_shown(app: AppState, msg: &Message) {
    if app.open_peer.get_untracked().as_deref() != Some(msg.peer.as_str()) {
        return;
    }
    app.messages.update(|list| match list.iter_mut().find(|m| m.id == msg.id) {
        Some(existing) => *existing = msg.clone(),
        None => {
            list.push(msg.clone());
            list.sort_by_key(|m| m.timestamp);
        }
    });
}

/// Refreshes the conversation list shown.
pub async fn refresh(app: AppState) {
    if let Some(session) = app.current() {
        app.conversations.set(conversations(&session).await);
        if let Some(peer) = app.open_peer.get_untracked() {
            show(app, &session, &peer, app.shown_count.get_untracked()).await;
        }
    }
}

async fn conversation(session: &Session, peer: &str) -> Option<Conversation> {
    load(session, stores::CONVERSATIONS, peer.as_bytes()).await
}

/// Loads the last `count` messages of `peer` into the open-conversation view.
async fn show(app: AppState, session: &Session, peer: &str, count: usize) {
    let Some(c) = conversation(session, peer).await else {
        app.messages.set(Vec::new());
        return;
    };
    let start = c.messages.len().saturating_sub(count);
    let mut messages = Vec::new();
    for id in c.messages.get(start..).unwrap_or_default() {
        if let Some(m) = load::<Message>(session, stores::MESSAGES, id.as_bytes()).await {
            messages.push(m);
        }
    }
    messages.sort_by_key(|m| m.timestamp);
    app.has_older.set(start > 0);
    app.messages.set(messages);
}

/// Opens (creating if needed) the conversation with `peer`.
pub async fn open(app: AppState, peer: SessionId) {
    let Some(session) = app.current() else { return };
    let key = peer.to_string();
    {
        let _guard = session.writes.lock().await;
        let mut c = conversation(&session, &key).await.unwrap_or_else(|| Conversation::new(&peer, Standing::Accepted));
        c.unread = 0;
        let _ = save(&session, stores::CONVERSATIONS, key.as_bytes(), &c).await;
    }
    app.open_peer.set(Some(key.clone()));
    app.shown_count.set(chat::PAGE);
    show(app, &session, &key, chat::PAGE).await;
    app.conversations.set(conversations(&session).await);
}

/// Shows older messages of the open conversation.
pub async fn older(app: AppState) {
    let (Some(session), Some(peer)) = (app.current(), app.open_peer.get_untracked()) else { return };
    let count = app.shown_count.get_untracked() + chat::PAGE;
    app.shown_count.set(count);
    show(app, &session, &peer, count).await;
}

/// Sends `body` to `peer`: sealed into the outbox first, then stored in both swarms.
pub async fn send(app: AppState, peer: SessionId, body: String) {
    let Some(session) = app.current() else { return };
    let body: String = body.chars().take(chat::MAX_CHARS).collect();
    let name = session.account.borrow().display_name.clone();
    let now = session.next_timestamp();
    let content = message::text_message(&body, Some(&name));
    let sync = message::sync_copy(&content, &peer);
    let (Ok(data), Ok(sync_data)) = (
        message::seal_message(&mut OsRng, &session.identity, &peer, content, now),
        message::seal_message(&mut OsRng, &session.identity, &session.identity.session_id(), sync, now),
    ) else {
        return app.notice.set(Some("This message could not be encrypted.".into()));
    };
    let msg = chat::outgoing(&peer, &body, now, &name, data, sync_data);
    if let Err(e) = record(&session, &msg, None, false, Standing::Accepted).await {
        return app.notice.set(Some(e.to_string()));
    }
    upsert_shown(app, &msg);
    deliver(app, session.clone(), msg).await;
    app.conversations.set(conversations(&session).await);
}

/// Writes a message and updates its conversation. The conversation record is read, changed and
/// written under `session.writes`, so messages filed at the same moment (a send while the poll
/// files incoming ones) all stay in it.
pub async fn record(
    session: &Session,
    msg: &Message,
    name: Option<String>,
    unread: bool,
    standing: Standing,
) -> Result<(), StorageError> {
    let peer: SessionId = msg.peer.parse().map_err(|_| StorageError::NoVault)?;
    let _guard = session.writes.lock().await;
    let mut c = conversation(session, &msg.peer).await.unwrap_or_else(|| Conversation::new(&peer, standing));
    save(session, stores::MESSAGES, msg.id.as_bytes(), msg).await?;
    chat::apply(&mut c, msg, name, unread);
    save(session, stores::CONVERSATIONS, msg.peer.as_bytes(), &c).await
}

/// Stores an outbox message in the recipient's and the own swarm; marks it sent or failed.
async fn deliver(app: AppState, session: Rc<Session>, mut msg: Message) {
    let Some(mut outbox) = msg.outbox.clone() else { return };
    let Ok(peer) = msg.peer.parse::<SessionId>() else { return };
    let me = session.identity.session_id();
    let mut ok = false;
    // A few rounds before giving up: paths and swarms heal between them (strikes, rebuilt paths).
    for round in 0..3 {
        if round > 0 {
            sleep(1_500).await;
        }
        if !outbox.delivered {
            if session.client.store(&peer, &outbox.data, msg.timestamp).await.is_err() {
                continue;
            }
            outbox.delivered = true;
            msg.outbox = Some(outbox.clone());
            let _ = save(&session, stores::MESSAGES, msg.id.as_bytes(), &msg).await;
        }
        // The sync copy lets this account's other browsers show the message.
        if session.client.store(&me, &outbox.sync_data, msg.timestamp).await.is_ok() {
            ok = true;
            break;
        }
    }
    msg.status = if ok { Status::Sent } else { Status::Failed };
    if ok {
        msg.outbox = None;
    }
    let _ = save(&session, stores::MESSAGES, msg.id.as_bytes(), &msg).await;
    upsert_shown(app, &msg);
}

/// Retries a failed message with the very same sealed bytes.
pub async fn retry(app: AppState, id: String) {
    let Some(session) = app.current() else { return };
    let Some(mut msg) = load::<Message>(&session, stores::MESSAGES, id.as_bytes()).await else { return };
    msg.status = Status::Sending;
    let _ = save(&session, stores::MESSAGES, msg.id.as_bytes(), &msg).await;
    upsert_shown(app, &msg);
    deliver(app, session, msg).await;
}

/// Re-sends whatever is still in the outbox (after a reload mid-send).
pub async fn resume_outbox(app: AppState) {
    let Some(session) = app.current() else { return };
    let pending: Vec<Message> = session
        .vault
        .all(stores::MESSAGES)
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|b| serde_json::from_slice::<Message>(b).ok())
        .filter(|m| m.outgoing && m.outbox.is_some() && m.status != Status::Sent)
        .collect();
    for m in pending {
        deliver(app, session.clone(), m).await;
    }
}

/// Accepts, blocks or deletes a conversation.
pub async fn set_standing(app: AppState, peer: String, standing: Option<Standing>) {
    let Some(session) = app.current() else { return };
    let guard = session.writes.lock().await;
    match standing {
        Some(standing) => {
            if let Some(mut c) = conversation(&session, &peer).await {
                c.standing = standing;
                let _ = save(&session, stores::CONVERSATIONS, peer.as_bytes(), &c).await;
            }
        }
        None => {
            if let Some(c) = conversation(&session, &peer).await {
                for id in &c.messages {
                    let _ = session.vault.delete(stores::MESSAGES, id.as_bytes()).await;
                }
            }
            let _ = session.vault.delete(stores::CONVERSATIONS, peer.as_bytes()).await;
            app.open_peer.set(None);
        }
    }
    drop(guard);
    refresh(app).await;
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

/// Polls about every 1.5 s while the page is visible, every 10 s when hidden, until locked;
/// after failures it waits longer (doubling up to 30 s), and returns to the normal period after a
/// success.
pub fn start_polling(app: AppState) {
    spawn_local(async move {
        let Some(first) = app.current() else { return };
        restore_seen(&first).await;
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
            // The period is counted from the start of one poll to the next.
            let period = backoff.delay_ms(page_visible()) as f64;
            sleep((period - (now_ms() - started)).clamp(50.0, period) as i32).await;
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
