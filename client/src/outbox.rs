//! The outbox: everything this account sends goes through it — messages, and the control
//! messages that carry no text (accepting a message request, and those later features add).
//!
//! An entry is written, sealed, before any network call, so a reload or a crash never loses it;
//! one worker per session delivers what is due, several at once, and keeps trying: five rounds
//! 1.5, 3, 6 and 12 s apart, after which a message shows as failed (with the reason) but stays
//! in the outbox and is tried again every [`RETRY_EVERY`], at once when a poll shows the network
//! is back, and at once on Retry. Only an answer that will never change (the node refused the
//! message itself) takes an entry out without delivering it; the message then waits for Retry.
//!
//! A clock error (406/425: a node found the sealed timestamp too far from its clock) re-seals the
//! entry at a fresh network time before it is tried again, rather than sending bytes that were
//! refused and would be again: the copies still to store are sealed anew, the message keeps its
//! id (what the front end knows it by) and takes the new sent time, as does its conversation's
//! last activity if it was this message's. The sync copy this device will fetch back then carries
//! the new time, so its id would be another: that id is remembered (`resealed`) so the copy is
//! not filed twice.
//!
//! Records: the `account` store's `outbox` lists the ids still to deliver. A message's entry is
//! its own record (`Message::outbox` holds the sealed bytes for the recipient and the sync copy);
//! a control message's is `outbox/<id>` in the `account` store. `resealed` lists the ids under
//! which re-sealed messages' sync copies come back, for [`DEFAULT_TTL_MS`] (as long as a copy is
//! stored).

use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_core::identity::SessionId;
use crypto_core::message::{self, DEFAULT_TTL_MS};
use crypto_core::network::Failure;
use crypto_core::wire::Content;
use futures::StreamExt;
use futures::future::{Either, LocalBoxFuture, select};
use futures::stream::FuturesUnordered;
use rand_core::OsRng;
use serde::{Deserialize, Serialize};

use crate::attachments::Attachment;
use crate::conversations::{self, Disappearing, Message, Outbox, Quoted, Status, outgoing_id};
use crate::event::Event;
use crate::files::{self, FileError};
use crate::platform::{Clock, Platform};
use crate::session::Session;
use crate::storage::{StorageError, stores};

/// `account` record: the ids of entries not yet delivered.
const OUTBOX_ID: &[u8] = b"outbox";
/// `account` record: (id, network time) of the sync copies of re-sealed messages.
const RESEALED_ID: &[u8] = b"resealed";
/// The most entries `resealed` keeps.
const RESEALED_KEEP: usize = 1_000;
/// Rounds before a message shows as failed.
pub const ROUNDS: u32 = 5;
/// The wait before round `n + 1` (n from 1): 1.5 s, doubling.
fn round_delay(rounds_failed: u32) -> Duration {
    if rounds_failed >= ROUNDS {
        return RETRY_EVERY;
    }
    Duration::from_millis(1_500u64 << rounds_failed.saturating_sub(1).min(4))
}
/// How often a failed entry is tried again while nothing says the network is back.
pub const RETRY_EVERY: Duration = Duration::from_secs(30);

/// A control message waiting in the outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Control {
    /// The recipient.
    pub to: SessionId,
    /// The sealed storage `data`.
    pub data: String,
    /// Its timestamp.
    pub timestamp: u64,
    /// The content (protobuf, base64), to seal it again after a clock error (entries from before
    /// it was kept have none and are sent as they are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The sealed copy for this account's own swarm, for what its other devices must also apply
    /// (a reaction, an unsend request); none for what only the recipient needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<String>,
}

/// A change to copies of this account's messages in its own swarm, waiting in the outbox
/// (`del/<n>` entries), so a change made offline still reaches the swarm: their deletion, or
/// their expiry shortened (a disappearing message read).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwarmChange {
    /// The message hashes.
    pub hashes: Vec<String>,
    /// Shorten their expiry to this (ms) instead of deleting them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shorten_to: Option<u64>,
}

fn control_record(id: &str) -> Vec<u8> {
    format!("outbox/{id}").into_bytes()
}

/// The ids of entries still to deliver. A vault from before this list existed has none yet: its
/// messages are read once to make it.
pub(crate) async fn ids<P: Platform>(session: &Session<P>) -> Result<Vec<String>, StorageError> {
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
    session.save(stores::ACCOUNT, OUTBOX_ID, &ids).await?;
    Ok(ids)
}

/// Changes the list of entries still to deliver, under the session's write lock.
pub(crate) async fn change<P: Platform>(
    session: &Session<P>,
    change: impl FnOnce(&mut Vec<String>),
) -> Result<(), StorageError> {
    let _guard = session.writes.lock().await;
    let mut list = ids(session).await?;
    change(&mut list);
    let mut seen = HashSet::new();
    list.retain(|id| seen.insert(id.clone()));
    session.save(stores::ACCOUNT, OUTBOX_ID, &list).await
}

/// What an outgoing message says on the wire: its text, the sender's name, its quote and its
/// files' pointers.
pub(crate) fn content_of(
    body: &str,
    name: Option<&str>,
    quote: Option<&Quoted>,
    disappearing: Option<Disappearing>,
    files: &[Attachment],
) -> Content {
    let mut content = match quote {
        Some(q) => message::reply_message(body, name, q.timestamp, &q.author, &q.text),
        None => message::text_message(body, name),
    };
    if let Some(data) = content.data_message.as_mut() {
        // Files without a caption carry no body, as Session's clients send them.
        if body.is_empty() && !files.is_empty() {
            data.body = None;
        }
        data.attachments = files.iter().map(Attachment::pointer).collect();
    }
    message::Expiration::set(&mut content, disappearing.map(Disappearing::wire));
    content
}

/// The copy of `content` (sent to `to`) for this account's own swarm: a data message carries
/// its recipient (`syncTarget`); other content (an unsend request) goes as it is.
fn sync_content(content: &Content, to: &SessionId) -> Content {
    if content.data_message.is_some() { message::sync_copy(content, to) } else { content.clone() }
}

/// The hash the copy `data` (base64) gets in this account's own swarm.
pub(crate) fn own_hash<P: Platform>(session: &Session<P>, data: &str) -> Option<String> {
    let raw = STANDARD.decode(data).ok()?;
    Some(crypto_core::storage::message_hash(&session.me().to_bytes(), crypto_core::storage::Namespace::DEFAULT, &raw))
}

/// Seals the outgoing message `msg` (its text, the sender's name, its quote, timer and files) at
/// `timestamp`: the recipient's copy and the sync copy for this account's other devices.
pub(crate) fn seal_text<P: Platform>(
    session: &Session<P>,
    msg: &Message,
    timestamp: u64,
) -> Result<(String, String), crate::Error> {
    let mut content =
        content_of(&msg.body, msg.sender_name.as_deref(), msg.quote.as_ref(), msg.disappearing, &msg.attachments);
    // The profile as it is now: the name the message was written under, the picture of now.
    if let Some(data) = content.data_message.as_mut() {
        // An invitation goes as Session's clients send one: the room's URL and name, no text.
        if let Some(invitation) = &msg.invitation {
            data.body = None;
            data.open_group_invitation = Some(crypto_core::wire::OpenGroupInvitation {
                url: Some(invitation.url.clone()),
                name: Some(invitation.name.clone()),
            });
        }
        let (own, key) = crate::avatars::own_profile(session);
        let profile = data.profile.get_or_insert_with(Default::default);
        profile.profile_picture = own.profile_picture;
        profile.last_profile_update_seconds = own.last_profile_update_seconds;
        data.profile_key = key;
    }
    let sync = message::sync_copy(&content, &msg.peer);
    match (
        message::seal_message(&mut OsRng, &session.identity, &msg.peer, content, timestamp),
        message::seal_message(&mut OsRng, &session.identity, &session.me(), sync, timestamp),
    ) {
        (Ok(data), Ok(sync_data)) => Ok((data, sync_data)),
        _ => Err(crate::Error::Encryption),
    }
}

/// Seals `content` for `to` at a new timestamp, puts it in the outbox and wakes the worker.
pub(crate) async fn send_control<P: Platform>(
    session: &Session<P>,
    to: SessionId,
    content: Content,
) -> Result<(), crate::Error> {
    let timestamp = session.next_timestamp();
    let bytes = STANDARD.encode(content.to_bytes());
    let data = message::seal_message(&mut OsRng, &session.identity, &to, content, timestamp)
        .map_err(|_| crate::Error::Encryption)?;
    let id = format!("ctl/{to}/{timestamp}");
    let control = Control { to, data, timestamp, content: Some(bytes), sync: None };
    session.save(stores::ACCOUNT, &control_record(&id), &control).await.map_err(crate::Error::NotKept)?;
    change(session, |list| list.push(id)).await.map_err(crate::Error::NotKept)?;
    session.wake_outbox();
    Ok(())
}

/// [`send_control`] for what this account's other devices must also apply: a sync copy is
/// stored in its own swarm too. Returns the timestamp it is sent at.
pub(crate) async fn send_control_synced<P: Platform>(
    session: &Session<P>,
    to: SessionId,
    content: Content,
) -> Result<u64, crate::Error> {
    let timestamp = session.next_timestamp();
    let bytes = STANDARD.encode(content.to_bytes());
    let sync = sync_content(&content, &to);
    let me = session.me();
    let (Ok(data), Ok(sync)) = (
        message::seal_message(&mut OsRng, &session.identity, &to, content, timestamp),
        message::seal_message(&mut OsRng, &session.identity, &me, sync, timestamp),
    ) else {
        return Err(crate::Error::Encryption);
    };
    let id = format!("ctl/{to}/{timestamp}");
    // To this account itself (its Note to Self), the one copy is the sync copy.
    let (data, sync) = if to == me { (sync, None) } else { (data, Some(sync)) };
    let control = Control { to, data, timestamp, content: Some(bytes), sync };
    session.save(stores::ACCOUNT, &control_record(&id), &control).await.map_err(crate::Error::NotKept)?;
    change(session, |list| list.push(id)).await.map_err(crate::Error::NotKept)?;
    session.wake_outbox();
    Ok(timestamp)
}

/// Puts the deletion of these copies from this account's own swarm in the outbox.
pub(crate) async fn delete_from_swarm<P: Platform>(
    session: &Session<P>,
    hashes: Vec<String>,
) -> Result<(), crate::Error> {
    change_in_swarm(session, hashes, None).await
}

/// Puts the shortening of these copies' expiry (in this account's own swarm) to `at` in the
/// outbox.
pub(crate) async fn shorten_in_swarm<P: Platform>(
    session: &Session<P>,
    hashes: Vec<String>,
    at: u64,
) -> Result<(), crate::Error> {
    change_in_swarm(session, hashes, Some(at)).await
}

async fn change_in_swarm<P: Platform>(
    session: &Session<P>,
    hashes: Vec<String>,
    shorten_to: Option<u64>,
) -> Result<(), crate::Error> {
    let hashes: Vec<String> = hashes.into_iter().filter(|h| crypto_core::storage::is_message_hash(h)).collect();
    if hashes.is_empty() {
        return Ok(());
    }
    let id = format!("del/{}", session.next_timestamp());
    session
        .save(stores::ACCOUNT, &control_record(&id), &SwarmChange { hashes, shorten_to })
        .await
        .map_err(crate::Error::NotKept)?;
    change(session, |list| list.push(id)).await.map_err(crate::Error::NotKept)?;
    session.wake_outbox();
    Ok(())
}

/// Whether `id` is the id a re-sealed message's sync copy comes back under (the message is
/// filed under its first id: the copy is not filed again).
pub(crate) async fn is_resealed_copy<P: Platform>(session: &Session<P>, id: &str) -> bool {
    let list: Vec<(String, u64)> = session.load(stores::ACCOUNT, RESEALED_ID).await.unwrap_or_default();
    list.iter().any(|(x, _)| x == id)
}

/// Seals the entry `id` anew at a fresh network time, after a clock error (see the module docs).
/// Returns whether it was; an entry gone, or a control message from before contents were kept,
/// is not.
async fn reseal<P: Platform>(session: &Session<P>, id: &str) -> bool {
    if id.starts_with("ctl/") {
        return reseal_control(session, id).await;
    }
    let _guard = session.writes.lock().await;
    let Some(mut msg) = session.load::<Message>(stores::MESSAGES, id.as_bytes()).await else { return false };
    let Some(mut entry) = msg.outbox.clone() else { return false };
    let before = msg.timestamp;
    let timestamp = session.next_timestamp();
    let Ok((data, sync_data)) = seal_text(session, &msg, timestamp) else {
        return false;
    };
    msg.swarm_hash = own_hash(session, &sync_data);
    // A recipient's copy already stored stays as it is (a second one would show twice).
    if !entry.delivered {
        entry.data = data;
    }
    entry.sync_data = sync_data;
    msg.outbox = Some(entry);
    msg.timestamp = timestamp;
    let copy_id = outgoing_id(&msg.peer, timestamp);
    if copy_id != msg.id {
        let mut list: Vec<(String, u64)> = session.load(stores::ACCOUNT, RESEALED_ID).await.unwrap_or_default();
        list.retain(|(_, at)| at.saturating_add(DEFAULT_TTL_MS) > timestamp);
        list.push((copy_id, timestamp));
        let excess = list.len().saturating_sub(RESEALED_KEEP);
        list.drain(..excess);
        // Written before the copy can be stored, so it is never filed as a message of its own.
        if let Err(e) = session.save(stores::ACCOUNT, RESEALED_ID, &list).await {
            session.kept(Err(e));
            return false;
        }
    }
    if let Err(e) = session.save(stores::MESSAGES, msg.id.as_bytes(), &msg).await {
        session.kept(Err(e));
        return false;
    }
    if let Ok(Some(mut c)) = conversations::conversation(&session.vault, &msg.peer).await
        && c.last_activity == before
        && before != timestamp
    {
        c.last_activity = timestamp;
        session.kept(conversations::save(&session.vault, &c).await);
        session.emit(Event::Conversations);
    }
    session.emit(Event::Message { message: msg, arrived: false });
    true
}

/// [`reseal`] for a control message.
async fn reseal_control<P: Platform>(session: &Session<P>, id: &str) -> bool {
    let record = control_record(id);
    let Some(mut control) = session.load::<Control>(stores::ACCOUNT, &record).await else { return false };
    let Some(content) = control.content.as_deref().and_then(|c| STANDARD.decode(c).ok()) else { return false };
    let Ok(content) = Content::decode_checked(&content) else { return false };
    let timestamp = session.next_timestamp();
    if control.sync.is_some() {
        let sync = sync_content(&content, &control.to);
        let Ok(sealed) = message::seal_message(&mut OsRng, &session.identity, &session.me(), sync, timestamp) else {
            return false;
        };
        control.sync = Some(sealed);
    }
    let Ok(data) = message::seal_message(&mut OsRng, &session.identity, &control.to, content, timestamp) else {
        return false;
    };
    control.data = data;
    control.timestamp = timestamp;
    let saved = session.save(stores::ACCOUNT, &record, &control).await;
    let ok = saved.is_ok();
    session.kept(saved);
    ok
}

/// Uploads the files of the message `id` that are not uploaded yet, then seals it with their
/// pointers. Returns the sealed message and its outbox entry (none: the message is gone).
async fn seal_with_files<P: Platform>(session: &Session<P>, id: &str) -> Result<Option<(Message, Outbox)>, FileError> {
    if files::upload_pending(session, id).await?.is_none() {
        return Ok(None);
    }
    let _guard = session.writes.lock().await;
    let Some(mut msg) = session.load::<Message>(stores::MESSAGES, id.as_bytes()).await else { return Ok(None) };
    let Some(mut entry) = msg.outbox.clone() else { return Ok(None) };
    if entry.data.is_empty() {
        let (data, sync_data) = seal_text(session, &msg, msg.timestamp).map_err(|_| FileError::Refused(0))?;
        msg.swarm_hash = own_hash(session, &sync_data);
        entry.data = data;
        entry.sync_data = sync_data;
        msg.outbox = Some(entry.clone());
        if let Err(e) = session.save(stores::MESSAGES, msg.id.as_bytes(), &msg).await {
            session.kept(Err(e));
            return Err(FileError::Refused(0));
        }
    }
    Ok(Some((msg, entry)))
}

/// How one delivery attempt of an entry ended.
enum Outcome {
    /// Stored in every swarm it had to reach.
    Delivered,
    /// Not this time.
    Failed(Failure),
    /// Refused for good (the node refused the message itself).
    Refused(Failure),
    /// The entry is no longer there (sent meanwhile, or its conversation deleted).
    Gone,
}

/// Whether a failure will never change however often the same bytes are sent.
fn is_permanent(failure: &Failure) -> bool {
    // 400: malformed; 401: bad signature; 403: not allowed; 413: too large. A clock error (406,
    // 425) re-seals the entry (see `failed`); a node that is not in the swarm (421) is handled by
    // the network client and heals.
    matches!(failure, Failure::TooLarge | Failure::Rejected { status: 400 | 401 | 403 | 413, .. })
}

/// What a failed store of entry `id` means: refused for good, or to be tried again — after a
/// clock error, with the entry re-sealed at a fresh network time (the network client has
/// re-synced the time by then).
async fn failed<P: Platform>(session: &Session<P>, id: &str, failure: Failure) -> Outcome {
    if is_permanent(&failure) {
        return Outcome::Refused(failure);
    }
    if failure == Failure::ClockOutOfSync {
        reseal(session, id).await;
    }
    Outcome::Failed(failure)
}

/// Stores a message's copies: the recipient's (once), then the sync copy for this account's other
/// devices.
async fn attempt<P: Platform>(session: &Session<P>, id: &str) -> Outcome {
    if id.starts_with("ctl/") {
        let Some(control) = session.load::<Control>(stores::ACCOUNT, &control_record(id)).await else {
            return Outcome::Gone;
        };
        if let Err(f) = session.client.store(&control.to, &control.data, control.timestamp).await {
            return failed(session, id, f).await;
        }
        // Stored again on a retry after the sync copy failed: the swarm keeps one (same hash).
        return match &control.sync {
            Some(sync) => match session.client.store(&session.me(), sync, control.timestamp).await {
                Ok(_) => Outcome::Delivered,
                Err(f) => failed(session, id, f).await,
            },
            None => Outcome::Delivered,
        };
    }
    if id.starts_with("del/") {
        let Some(change) = session.load::<SwarmChange>(stores::ACCOUNT, &control_record(id)).await else {
            return Outcome::Gone;
        };
        let done = match change.shorten_to {
            // A time already past: the copy is gone from the swarm, or goes at the node's next sweep.
            Some(at) if at <= session.client.now() => return Outcome::Delivered,
            Some(at) => session.client.shorten(&session.identity, &change.hashes, at).await,
            None => session.client.delete(&session.identity, &change.hashes).await.map(drop),
        };
        return match done {
            Ok(()) => Outcome::Delivered,
            Err(f) if is_permanent(&f) => Outcome::Refused(f),
            Err(f) => Outcome::Failed(f),
        };
    }
    let Some(mut msg) = session.load::<Message>(stores::MESSAGES, id.as_bytes()).await else { return Outcome::Gone };
    let Some(mut entry) = msg.outbox.clone() else { return Outcome::Gone };
    if entry.data.is_empty() {
        // Its files go to the file server first; it is sealed once they are all there.
        match seal_with_files(session, id).await {
            Ok(Some(sealed)) => (msg, entry) = sealed,
            Ok(None) => return Outcome::Gone,
            Err(FileError::Network(f)) => return failed(session, id, f).await,
            Err(FileError::Gone | FileError::Refused(_)) => {
                return Outcome::Refused(Failure::Rejected { status: 0, body: "the file server refused".to_owned() });
            }
        }
    }
    if !entry.delivered {
        let ttl = entry.ttl.unwrap_or(DEFAULT_TTL_MS);
        if let Err(f) = session.client.store_for(&msg.peer, &entry.data, msg.timestamp, ttl).await {
            return failed(session, id, f).await;
        }
        entry.delivered = true;
        msg.outbox = Some(entry.clone());
        // Not fatal: without it, the next attempt stores the recipient's copy again, which the
        // swarm de-duplicates by hash.
        session.kept(session.save(stores::MESSAGES, msg.id.as_bytes(), &msg).await);
    }
    let sync_ttl = entry.sync_ttl.unwrap_or(DEFAULT_TTL_MS);
    match session.client.store_for(&session.me(), &entry.sync_data, msg.timestamp, sync_ttl).await {
        Ok(_) => Outcome::Delivered,
        Err(f) => failed(session, id, f).await,
    }
}

/// Writes what an attempt changed about a message (status, reason) and tells the front end. A
/// message deleted meanwhile stays deleted.
async fn settle_message<P: Platform>(session: &Session<P>, id: &str, status: Status, failure: Option<&Failure>) {
    let problem = failure.map(Failure::to_string);
    let Some(mut msg) = session.load::<Message>(stores::MESSAGES, id.as_bytes()).await else { return };
    if msg.status == Status::Deleted {
        return;
    }
    if msg.status == status && msg.problem == problem && (status != Status::Sent || msg.outbox.is_none()) {
        return;
    }
    msg.status = status;
    msg.problem = problem;
    msg.failure = failure.cloned();
    if status == Status::Sent {
        msg.outbox = None;
    }
    match session.save(stores::MESSAGES, msg.id.as_bytes(), &msg).await {
        Ok(()) => session.emit(Event::Message { message: msg, arrived: false }),
        Err(e) => session.kept(Err(e)),
    }
}

/// Takes a delivered (or refused) entry out of the outbox.
async fn finish<P: Platform>(session: &Session<P>, id: &str) {
    if id.starts_with("ctl/") || id.starts_with("del/") {
        session.kept(session.remove(stores::ACCOUNT, &control_record(id)).await);
    }
    session.kept(change(session, |list| list.retain(|x| x != id)).await);
}

/// When an entry is next due, and how many rounds it has failed.
#[derive(Clone, Copy, Debug, Default)]
struct Due {
    failed: u32,
    at: u64,
}

/// Delivers the session's outbox until `alive` says the session is over. Runs beside the poll
/// loop; `Engine::run` starts both.
pub(crate) async fn work<P: Platform>(session: Rc<Session<P>>, alive: impl Fn() -> bool) {
    let mut wake = session.wake_channel();
    let mut schedule: HashMap<String, Due> = HashMap::new();
    let mut busy: HashSet<String> = HashSet::new();
    let mut in_flight: FuturesUnordered<LocalBoxFuture<'static, (String, Outcome)>> = FuturesUnordered::new();
    loop {
        if !alive() {
            return;
        }
        let now = session.world.clock.now_ms();
        if session.retry_failed.replace(false) {
            for due in schedule.values_mut() {
                due.at = now;
            }
        }
        let list = ids(&session).await.unwrap_or_default();
        schedule.retain(|id, _| list.contains(id));
        let mut next = now.saturating_add(RETRY_EVERY.as_millis() as u64);
        for id in list {
            if busy.contains(&id) {
                continue;
            }
            let due = schedule.entry(id.clone()).or_default();
            if due.at <= now {
                busy.insert(id.clone());
                let session = session.clone();
                in_flight.push(Box::pin(async move {
                    let outcome = attempt(&session, &id).await;
                    (id, outcome)
                }));
            } else {
                next = next.min(due.at);
            }
        }
        let wait = Duration::from_millis(next.saturating_sub(now).max(1));
        let finished = {
            let timer = Box::pin(session.world.clock.sleep(wait));
            let woken = Box::pin(wake.next());
            let either = select(timer, woken);
            if in_flight.is_empty() {
                either.await;
                None
            } else {
                match select(in_flight.next(), either).await {
                    Either::Left((done, _)) => done,
                    Either::Right(_) => None,
                }
            }
        };
        let Some((id, outcome)) = finished else { continue };
        busy.remove(&id);
        let now = session.world.clock.now_ms();
        match outcome {
            Outcome::Delivered => {
                schedule.remove(&id);
                settle_message(&session, &id, Status::Sent, None).await;
                finish(&session, &id).await;
            }
            Outcome::Gone => {
                schedule.remove(&id);
                finish(&session, &id).await;
            }
            Outcome::Refused(failure) => {
                schedule.remove(&id);
                settle_message(&session, &id, Status::Failed, Some(&failure)).await;
                finish(&session, &id).await;
            }
            Outcome::Failed(failure) => {
                let due = schedule.entry(id.clone()).or_default();
                due.failed = due.failed.saturating_add(1);
                due.at = now.saturating_add(round_delay(due.failed).as_millis() as u64);
                if due.failed >= ROUNDS {
                    settle_message(&session, &id, Status::Failed, Some(&failure)).await;
                }
            }
        }
    }
}

/// Marks a failed message as sending again and puts it back in the outbox, due at once.
pub(crate) async fn retry<P: Platform>(session: &Session<P>, id: &str) -> Result<Message, crate::Error> {
    let mut msg = session.load::<Message>(stores::MESSAGES, id.as_bytes()).await.ok_or(crate::Error::MessageGone)?;
    if msg.outbox.is_none() || msg.status == Status::Sent {
        return Err(crate::Error::MessageGone);
    }
    msg.status = Status::Sending;
    msg.problem = None;
    msg.failure = None;
    session.save(stores::MESSAGES, msg.id.as_bytes(), &msg).await.map_err(crate::Error::NotKept)?;
    change(session, |list| list.push(msg.id.clone())).await.map_err(crate::Error::NotKept)?;
    session.retry_failed.set(true);
    session.wake_outbox();
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_are_one_and_a_half_seconds_doubling_then_every_thirty() {
        let delays: Vec<u64> = (1..=6).map(|n| round_delay(n).as_millis() as u64).collect();
        assert_eq!(delays, [1_500, 3_000, 6_000, 12_000, 30_000, 30_000]);
    }

    #[test]
    fn only_refusals_of_the_message_itself_are_permanent() {
        let rejected = |status| Failure::Rejected { status, body: String::new() };
        assert!(is_permanent(&rejected(400)) && is_permanent(&rejected(413)));
        assert!(!is_permanent(&rejected(406)) && !is_permanent(&rejected(500)));
        assert!(!is_permanent(&Failure::Offline));
    }
}

/// The outbox's worker on a clock that jumps to each wake-up at once, so the schedule of rounds is
/// checked to the millisecond without waiting for it.
#[cfg(test)]
mod schedule_tests {
    use std::cell::{Cell, RefCell};
    use std::future::Future;
    use std::rc::Rc;
    use std::time::Duration;

    use crypto_core::identity::{Identity, Seed};
    use crypto_core::vault::KdfParams;
    use futures::executor::block_on;
    use rand_core::OsRng;

    use super::*;
    use crate::account::Account;
    use crate::messaging;
    use crate::platform::World;
    use crate::storage::{MemoryBackend, Vault};
    use crate::testing::{NoNetwork, Script, Scripted};

    const START: u64 = 1_700_000_000_000;

    /// A clock whose sleeps end at once, moving the time on by their length.
    #[derive(Clone, Debug)]
    struct Jumping(Rc<Cell<u64>>);

    impl Clock for Jumping {
        fn now_ms(&self) -> u64 {
            self.0.get()
        }

        fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
            let now = self.0.clone();
            async move { now.set(now.get() + duration.as_millis() as u64) }
        }
    }

    #[derive(Debug)]
    struct Test;

    impl Platform for Test {
        type Transport = Scripted<NoNetwork>;
        type Clock = Jumping;
        type Backend = MemoryBackend;
    }

    /// Events with the (jumping) time each was emitted at.
    type Timed = Rc<RefCell<Vec<(u64, Event)>>>;

    /// A session with no network on the jumping clock, and the events it emitted with their times.
    fn session() -> (Rc<Session<Test>>, Jumping, crate::testing::Control, Timed) {
        let clock = Jumping(Rc::new(Cell::new(START)));
        let (transport, control) = Scripted::new(NoNetwork);
        let world = Rc::new(World { transport, clock: clock.clone(), secure_page: false });
        let seed = Seed::generate(&mut OsRng);
        let vault =
            block_on(Vault::create(Rc::new(MemoryBackend::default()), "p", &seed, KdfParams::INSECURE_FOR_TESTS))
                .unwrap();
        let events: Rc<RefCell<Vec<(u64, Event)>>> = Rc::default();
        let log = events.clone();
        let at = clock.clone();
        let listener: crate::session::Listener = Rc::new(RefCell::new(Some(Rc::new(move |e: Event| {
            log.borrow_mut().push((at.now_ms(), e));
        }))));
        let session = Session::new(vault, Account::new(&seed, "Alice"), Identity::from_seed(&seed), world, listener);
        (Rc::new(session), clock, control, events)
    }

    fn statuses(events: &[(u64, Event)], id: &str) -> Vec<(u64, Status)> {
        events
            .iter()
            .filter_map(|(t, e)| match e {
                Event::Message { message, .. } if message.id == id => Some((*t - START, message.status)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn five_rounds_then_failed_with_the_reason_then_every_thirty_seconds() {
        let (session, clock, control, events) = session();
        let bob = Identity::generate(&mut OsRng).session_id();
        block_on(async {
            let sent = messaging::send(&session, &bob, "into the void", None).await.unwrap();
            let limit = START + 100_000;
            let c = clock.clone();
            work(session.clone(), move || c.now_ms() < limit).await;
            assert_eq!(statuses(&events.borrow(), &sent.id), [(0, Status::Sending), (22_500, Status::Failed)]);
            // Tries at 0, 1.5, 4.5, 10.5 and 22.5 s, then 52.5 and 82.5 s: one request each (the node
            // list, which no network gives).
            assert_eq!(control.requests(), 7);
            let kept: Message = session.load(stores::MESSAGES, sent.id.as_bytes()).await.unwrap();
            assert_eq!(kept.status, Status::Failed);
            assert!(kept.problem.as_deref().is_some_and(|p| !p.is_empty()), "the reason is kept: {kept:?}");
            assert!(kept.outbox.is_some(), "still to deliver");
            assert_eq!(ids(&session).await.unwrap(), [sent.id.as_str()]);
        });
    }

    #[test]
    fn a_retry_or_the_network_back_makes_failed_entries_due_at_once() {
        let (session, clock, control, _) = session();
        let bob = Identity::generate(&mut OsRng).session_id();
        block_on(async {
            let sent = messaging::send(&session, &bob, "again", None).await.unwrap();
            let c = clock.clone();
            let until = START + 30_000;
            work(session.clone(), move || c.now_ms() < until).await;
            let before = control.requests();
            // As a successful poll after failures does: the next pass tries at once, not at 52.5 s.
            session.retry_failed.set(true);
            let c = clock.clone();
            let from = clock.now_ms();
            work(session.clone(), move || c.now_ms() <= from).await;
            assert_eq!(control.requests(), before + 1, "tried at once");
            assert_eq!(retry(&session, &sent.id).await.unwrap().status, Status::Sending);
        });
    }

    #[test]
    fn control_messages_go_through_the_same_rounds_and_stay_until_delivered() {
        let (session, clock, control, _) = session();
        let bob = Identity::generate(&mut OsRng).session_id();
        block_on(async {
            send_control(&session, bob, acceptance()).await.unwrap();
            let id = format!("ctl/{bob}/{START}");
            assert_eq!(ids(&session).await.unwrap(), [id.as_str()]);
            let sealed: Control = session.load(stores::ACCOUNT, &control_record(&id)).await.unwrap();
            let c = clock.clone();
            let limit = START + 23_000;
            work(session.clone(), move || c.now_ms() < limit).await;
            assert_eq!(control.requests(), 5, "five rounds");
            assert_eq!(ids(&session).await.unwrap(), [id.as_str()], "kept");
            let kept: Control = session.load(stores::ACCOUNT, &control_record(&id)).await.unwrap();
            assert_eq!((kept.to, kept.timestamp), (bob, START));
            assert_eq!(kept, sealed, "the same bytes each round");
            finish(&session, &id).await;
            assert!(ids(&session).await.unwrap().is_empty());
            assert!(session.load::<Control>(stores::ACCOUNT, &control_record(&id)).await.is_none());
        });
    }

    /// A `MessageRequestResponse` (approved, named), as accepting a request sends.
    fn acceptance() -> Content {
        Content {
            message_request_response: Some(crypto_core::wire::MessageRequestResponse {
                is_approved: Some(true),
                profile: Some(crypto_core::wire::LokiProfile {
                    display_name: Some("Alice".into()),
                    ..Default::default()
                }),
                profile_key: None,
            }),
            ..Default::default()
        }
    }

    /// About 29 million years from now: where a node reporting `t = u64::MAX` put the network time
    /// when it was the plain mean of the samples.
    const FAR: u64 = START + 29_000_000 * 365 * 24 * 3_600_000;

    /// Sends `body` to `to` as [`messaging::send`] did while the network time was `FAR`.
    async fn sent_at_far(session: &Session<Test>, to: &SessionId, body: &str) -> Message {
        session.set_last_sent(FAR);
        let mut msg = conversations::outgoing(to, body, FAR, "Alice", String::new(), String::new());
        let (data, sync_data) = seal_text(session, &msg, FAR).unwrap();
        msg.outbox = Some(Outbox { data, sync_data, delivered: false, ttl: None, sync_ttl: None });
        change(session, |ids| ids.push(msg.id.clone())).await.unwrap();
        crate::inbox::record(session, &msg, None, false, conversations::Standing::Accepted).await.unwrap();
        msg
    }

    #[test]
    fn a_clock_error_reseals_a_message_at_a_fresh_time_keeping_its_id() {
        let (session, _, _, events) = session();
        let bob = Identity::generate(&mut OsRng);
        let to = bob.session_id();
        block_on(async {
            let sent = sent_at_far(&session, &to, "hello").await;
            assert_eq!(conversations::conversation(&session.vault, &to).await.unwrap().unwrap().last_activity, FAR);
            let before = sent.outbox.clone().unwrap();
            assert!(matches!(failed(&session, &sent.id, Failure::ClockOutOfSync).await, Outcome::Failed(_)));

            let msg: Message = session.load(stores::MESSAGES, sent.id.as_bytes()).await.unwrap();
            assert_eq!((msg.id.as_str(), msg.status, msg.body.as_str()), (sent.id.as_str(), Status::Sending, "hello"));
            assert_eq!(msg.timestamp, START, "the network time now");
            let entry = msg.outbox.clone().unwrap();
            assert!(entry.data != before.data && entry.sync_data != before.sync_data && !entry.delivered);
            // Both copies open, at the new time: the recipient's and the sync copy.
            let theirs = message::open_message(&bob, &entry.data).unwrap();
            assert_eq!(theirs.timestamp_ms, START);
            assert_eq!(theirs.content.data_message.and_then(|d| d.body).as_deref(), Some("hello"));
            let copy = message::open_message(&session.identity, &entry.sync_data).unwrap();
            assert_eq!(copy.timestamp_ms, START);
            assert_eq!(copy.content.data_message.and_then(|d| d.sync_target), Some(to.to_string()));
            // The conversation shows the new time; the front end is told, under the same id.
            let c = conversations::conversation(&session.vault, &to).await.unwrap().unwrap();
            assert_eq!(c.last_activity, START);
            let told = events.borrow().iter().rev().find_map(|(_, e)| match e {
                Event::Message { message, .. } => Some(message.clone()),
                _ => None,
            });
            assert_eq!(told.map(|m| (m.id, m.timestamp)), Some((sent.id.clone(), START)));
            // The sync copy coming back under its new id is known to be this message.
            assert!(is_resealed_copy(&session, &outgoing_id(&to, START)).await);
            assert!(!is_resealed_copy(&session, &sent.id).await);
            // The next message follows the network time, not the liar's.
            let next = messaging::send(&session, &to, "again", None).await.unwrap();
            assert_eq!(next.timestamp, START + 1);

            // A recipient's copy already stored is left as it is; the sync copy is sealed anew.
            let mut msg: Message = session.load(stores::MESSAGES, next.id.as_bytes()).await.unwrap();
            let mut entry = msg.outbox.clone().unwrap();
            entry.delivered = true;
            msg.outbox = Some(entry.clone());
            session.save(stores::MESSAGES, msg.id.as_bytes(), &msg).await.unwrap();
            assert!(matches!(failed(&session, &next.id, Failure::ClockOutOfSync).await, Outcome::Failed(_)));
            let after: Message = session.load(stores::MESSAGES, next.id.as_bytes()).await.unwrap();
            let after_entry = after.outbox.unwrap();
            assert_eq!(after_entry.data, entry.data);
            assert_ne!(after_entry.sync_data, entry.sync_data);
            assert_eq!(after.timestamp, START + 2);

            // Any other failure sends the same bytes again.
            assert!(matches!(failed(&session, &next.id, Failure::Offline).await, Outcome::Failed(_)));
            let same: Message = session.load(stores::MESSAGES, next.id.as_bytes()).await.unwrap();
            assert_eq!(same.outbox.unwrap().sync_data, after_entry.sync_data);
        });
    }

    #[test]
    fn a_clock_error_reseals_a_control_message_too() {
        let (session, _, _, _) = session();
        let bob = Identity::generate(&mut OsRng);
        let to = bob.session_id();
        block_on(async {
            // Sealed while the network time was far ahead.
            let id = format!("ctl/{to}/{FAR}");
            let data = message::seal_message(&mut OsRng, &session.identity, &to, acceptance(), FAR).unwrap();
            let content = Some(STANDARD.encode(acceptance().to_bytes()));
            let sealed = Control { to, data, timestamp: FAR, content, sync: None };
            session.save(stores::ACCOUNT, &control_record(&id), &sealed).await.unwrap();
            change(&session, |ids| ids.push(id.clone())).await.unwrap();
            session.set_last_sent(FAR);
            let before: Control = session.load(stores::ACCOUNT, &control_record(&id)).await.unwrap();
            assert!(matches!(failed(&session, &id, Failure::ClockOutOfSync).await, Outcome::Failed(_)));
            let after: Control = session.load(stores::ACCOUNT, &control_record(&id)).await.unwrap();
            assert_eq!(after.timestamp, START);
            assert_ne!(after.data, before.data);
            let opened = message::open_message(&bob, &after.data).unwrap();
            assert_eq!(opened.timestamp_ms, START);
            assert_eq!(opened.content, Content { sig_timestamp: Some(START), ..acceptance() });
            assert_eq!(ids(&session).await.unwrap(), [id.as_str()], "the same entry");

            // An entry from before contents were kept is sent as it is.
            let old = Control { content: None, ..after.clone() };
            session.save(stores::ACCOUNT, &control_record(&id), &old).await.unwrap();
            assert!(!reseal(&session, &id).await);
            assert_eq!(session.load::<Control>(stores::ACCOUNT, &control_record(&id)).await, Some(old));
        });
    }

    #[test]
    fn an_entry_whose_message_is_gone_leaves_the_outbox() {
        let (session, clock, control, _) = session();
        block_on(async {
            change(&session, |list| list.extend(["out/nobody/1".to_owned(), "ctl/nobody/2".to_owned()])).await.unwrap();
            let c = clock.clone();
            let limit = START + 1_000;
            work(session.clone(), move || c.now_ms() < limit).await;
            assert!(ids(&session).await.unwrap().is_empty());
            assert_eq!(control.requests(), 0, "nothing was sent for them");
        });
    }

    #[test]
    fn the_list_is_kept_without_duplicates_and_rebuilt_from_the_messages_if_missing() {
        let (session, _, control, _) = session();
        control.set(Script::Offline);
        let bob = Identity::generate(&mut OsRng).session_id();
        block_on(async {
            let a = messaging::send(&session, &bob, "one", None).await.unwrap();
            let b = messaging::send(&session, &bob, "two", None).await.unwrap();
            change(&session, |list| list.push(a.id.clone())).await.unwrap();
            assert_eq!(ids(&session).await.unwrap(), [a.id.clone(), b.id.clone()]);
            // A vault from before the list: it is made from the messages still to deliver.
            session.remove(stores::ACCOUNT, OUTBOX_ID).await.unwrap();
            settle_message(&session, &b.id, Status::Sent, None).await;
            assert_eq!(ids(&session).await.unwrap(), [a.id.as_str()]);
            assert!(session.vault.get(stores::ACCOUNT, OUTBOX_ID).await.unwrap().is_some(), "and written");
            let sent: Message = session.load(stores::MESSAGES, b.id.as_bytes()).await.unwrap();
            assert_eq!((sent.status, sent.outbox), (Status::Sent, None), "a sent message keeps no sealed copy");
        });
    }
}
