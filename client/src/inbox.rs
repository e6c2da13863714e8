//! Receiving: the poll loop fetches namespace 0 of the account's swarm, opens each message, files
//! what a person reads (text, and a placeholder for what Hush cannot show yet) and applies what
//! the protocol says besides (a message request accepted).
//!
//! The hashes seen and the `last_hash` per node are kept in memory and written to the vault only
//! when they changed, after the messages they cover are filed (so a reload never skips one).

use std::rc::Rc;
use std::time::Duration;

use crypto_core::identity::SessionId;
use crypto_core::message::{self, Received};
use crypto_core::network::{Backoff, Failure};

use crate::conversations::{self, Incoming, Message, Standing};
use crate::event::Event;
use crate::platform::{Clock, Platform};
use crate::session::Session;
use crate::storage::stores;

/// `account` record: the hashes of messages already handled.
const SEEN_ID: &[u8] = b"seen-hashes";
/// How many handled hashes are kept.
const SEEN_KEEP: usize = 5_000;
/// The longest the poll loop sleeps before it looks again whether its session is still alive.
const STILL_ALIVE_MS: u64 = 1_500;
/// `account` record: the peers whose `MessageRequestResponse` (approved) arrived.
pub(crate) const APPROVED_ME_ID: &[u8] = b"approved-me";

/// Whether the `MessageRequestResponse` of `peer` (accepting this account's message request)
/// arrived.
pub(crate) async fn approved_me<P: Platform>(session: &Session<P>, peer: &SessionId) -> bool {
    let approved: Vec<SessionId> = session.load(stores::ACCOUNT, APPROVED_ME_ID).await.unwrap_or_default();
    approved.contains(peer)
}

/// Files what a received message says besides text: a `MessageRequestResponse` (approved) marks
/// its sender as having accepted our message request and carries their display name. Returns
/// whether anything changed. Messages from blocked people and from this account itself change
/// nothing.
async fn file_control<P: Platform>(session: &Session<P>, received: &Received) -> bool {
    let Some(response) = &received.content.message_request_response else { return false };
    if response.is_approved != Some(true) || received.sender == session.me() {
        return false;
    }
    let peer = received.sender;
    let _guard = session.writes.lock().await;
    let Ok(Some(mut c)) = conversations::conversation(&session.vault, &peer).await else { return false };
    if c.standing == Standing::Blocked {
        return false;
    }
    let mut approved: Vec<SessionId> = session.load(stores::ACCOUNT, APPROVED_ME_ID).await.unwrap_or_default();
    let mut changed = false;
    if !approved.contains(&peer) {
        approved.push(peer);
        changed = session.save(stores::ACCOUNT, APPROVED_ME_ID, &approved).await.is_ok();
    }
    let name = response.profile.as_ref().and_then(|p| p.display_name.as_deref()).map(str::trim).unwrap_or_default();
    if !name.is_empty() && c.name.as_deref() != Some(name) {
        c.name = Some(name.chars().take(64).collect());
        changed |= conversations::save(&session.vault, &c).await.is_ok();
    }
    changed
}

/// Writes a message and updates its conversation, under the session's write lock, so messages
/// filed at the same moment (a send while the poll files incoming ones) all stay in it.
pub(crate) async fn record<P: Platform>(
    session: &Session<P>,
    msg: &Message,
    name: Option<String>,
    unread: bool,
    standing: Standing,
) -> Result<(), crate::storage::StorageError> {
    let _guard = session.writes.lock().await;
    conversations::file(&session.vault, msg, name, unread, standing).await
}

/// Fetches and files new messages once. Malformed or undecryptable items are skipped and never
/// block the others. Returns the messages filed (new ones, oldest first); an error is the network
/// client's (the poll loop backs off on it).
pub(crate) async fn poll_once<P: Platform>(session: &Session<P>) -> Result<Vec<Message>, Failure> {
    let items = match session.client.poll(&session.identity).await {
        Ok(items) => items,
        Err(e) => {
            // Paths may have changed (new guards) even though the poll failed.
            let _ = session.client.persist(&session.vault).await;
            return Err(e);
        }
    };
    let me = session.me();
    let mut changed = false;
    let mut filed_all = true;
    let mut filed = Vec::new();
    for item in &items {
        let Ok(received) = message::open_message(&session.identity, &item.data) else { continue };
        changed |= file_control(session, &received).await;
        let Incoming::Add { message, name, unread } = conversations::incoming(&received, &item.hash, &me) else {
            continue;
        };
        if session.load::<Message>(stores::MESSAGES, message.id.as_bytes()).await.is_some() {
            continue;
        }
        let existing = conversations::conversation(&session.vault, &message.peer).await.ok().flatten();
        if existing.as_ref().is_some_and(|c| c.standing == Standing::Blocked) {
            continue;
        }
        let viewing = session.viewing.get() == Some(message.peer);
        let standing = if message.outgoing { Standing::Accepted } else { Standing::Request };
        if record(session, &message, name, unread && !viewing, standing).await.is_ok() {
            changed = true;
            filed.push(message);
        } else {
            filed_all = false;
        }
    }
    for m in &filed {
        session.emit(Event::Message { message: m.clone(), arrived: !m.outgoing });
    }
    if changed {
        session.emit(Event::Conversations);
    }
    // A message that could not be filed must come again after a reload: then nothing is saved.
    if filed_all {
        if let Some(seen) = session.client.seen_to_save(SEEN_KEEP)
            && session.save(stores::ACCOUNT, SEEN_ID, &seen).await.is_err()
        {
            session.client.seen_not_saved();
        }
        let _ = session.client.persist(&session.vault).await;
    }
    Ok(filed)
}

/// Restores what the poll remembers after an unlock: the hashes already handled, and the network
/// client's guards and `last_hash` per node; new guards are saved as soon as they are chosen.
pub(crate) async fn restore<P: Platform>(session: &Rc<Session<P>>) {
    let seen: Vec<String> = session.load(stores::ACCOUNT, SEEN_ID).await.unwrap_or_default();
    session.client.remember(seen);
    session.client.restore(&session.vault).await;
}

/// Polls about every 1.5 s while a person is looking, every 10 s when not (and at once when they
/// look again), until `alive` says the session is over; after failures it waits longer (doubling
/// up to 30 s), and returns to the normal period after a success. A success after failures tells
/// the outbox the network is back.
pub(crate) async fn poll_loop<P: Platform>(session: Rc<Session<P>>, alive: impl Fn() -> bool) {
    let clock = &session.world.clock;
    let mut backoff = Backoff::default();
    let mut failing = false;
    loop {
        if !alive() {
            return;
        }
        let started = clock.now_ms();
        match poll_once(&session).await {
            Ok(_) => {
                backoff.succeeded();
                if failing {
                    failing = false;
                    session.retry_failed.set(true);
                    session.wake_outbox();
                }
            }
            Err(e) => {
                failing = true;
                backoff.failed(&e);
            }
        }
        // The period is counted from the start of one poll to the next, and looked at again
        // whenever visibility changes: a page that comes back polls at once instead of finishing
        // the hidden period's wait.
        let mut least = 50;
        loop {
            if !alive() {
                return;
            }
            let visible = clock.visible();
            let period = backoff.delay_ms(visible);
            let left = period.saturating_sub(clock.now_ms().saturating_sub(started)).max(least);
            if left == 0 {
                break;
            }
            // In steps of at most a normal period, so a session that ended (a lock) is let go of
            // soon even while a long back-off runs.
            clock.nap(Duration::from_millis(left.min(STILL_ALIVE_MS))).await;
            least = 0;
        }
    }
}
