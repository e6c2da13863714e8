//! Disappearing messages, as Session's clients do them (protocol-core §3.4, `Content` fields 12
//! and 13): every message carries its conversation's setting; a change is a data message with
//! only the flag `EXPIRATION_TIMER_UPDATE`, also sent to this account's other devices.
//!
//! - A change made here, or on another device of this account (its sync copy), sets the
//!   conversation's setting. A change the peer made is shown as a notice only: Session's clients
//!   do not let a peer change this account's setting (the person may follow it).
//! - A message's timer starts when it is sent (the sender's own copies, in both modes, and every
//!   "after send" message), or when the recipient reads an "after read" one. Then it leaves the
//!   screen and the vault when its time comes ([`run`]), and the swarm: the sender stores an
//!   "after send" message for no longer than its timer and every sync copy for its timer, and a
//!   reader shortens the expiry of its own copy of an "after read" message to the moment it
//!   disappears (the storage `expire` with `shorten`).
//!
//! Records: the `account` store's `expiring` lists (time, message id) of every message whose
//! timer runs, soonest first.

use std::rc::Rc;
use std::time::Duration;

use crypto_core::identity::SessionId;
use crypto_core::message;

use crate::Error;
use crate::conversations::{self, Disappearing, Message, Notice, Standing, Status};
use crate::event::Event;
use crate::outbox;
use crate::platform::{Clock, Platform};
use crate::session::Session;
use crate::storage::stores;

/// `account` record: (expiry, message id) of the messages whose timer runs, soonest first.
const EXPIRING_ID: &[u8] = b"expiring";
/// The longest the sweeper sleeps before it looks again whether its session is still alive.
const STILL_ALIVE_MS: u64 = 1_500;
/// The shortest time a store may keep a message: a node refuses a TTL under 10 s.
const MIN_TTL_MS: u64 = 10_000;

/// How long the recipient's copy of a message with `setting` is stored (none: the default).
pub(crate) fn recipient_ttl(setting: Option<Disappearing>) -> Option<u64> {
    match setting {
        Some(d @ Disappearing::AfterSend(_)) => Some(d.millis().clamp(MIN_TTL_MS, message::DEFAULT_TTL_MS)),
        _ => None,
    }
}

/// How long the sync copy of a message with `setting` is stored (none: the default).
pub(crate) fn sync_ttl(setting: Option<Disappearing>) -> Option<u64> {
    setting.map(|d| d.millis().clamp(MIN_TTL_MS, message::DEFAULT_TTL_MS))
}

/// Starts counting down `id`, which disappears at `at`.
pub(crate) async fn track<P: Platform>(session: &Session<P>, id: &str, at: u64) {
    let _guard = session.writes.lock().await;
    let mut list: Vec<(u64, String)> = session.load(stores::ACCOUNT, EXPIRING_ID).await.unwrap_or_default();
    if list.iter().any(|(_, x)| x == id) {
        return;
    }
    let place = list.partition_point(|(t, _)| *t <= at);
    list.insert(place, (at, id.to_owned()));
    let saved = session.save(stores::ACCOUNT, EXPIRING_ID, &list).await;
    if saved.is_ok() {
        session.next_expiry.set(session.next_expiry.get().min(at));
    }
    session.kept(saved);
}

/// Removes the messages whose time has come, from the vault and the screen; returns how many.
pub(crate) async fn sweep<P: Platform>(session: &Session<P>) -> usize {
    let now = session.client.now();
    let mut removed = Vec::new();
    {
        let _guard = session.writes.lock().await;
        let mut list: Vec<(u64, String)> = session.load(stores::ACCOUNT, EXPIRING_ID).await.unwrap_or_default();
        let due = list.partition_point(|(t, _)| *t <= now);
        for (_, id) in list.iter().take(due) {
            let Some(msg) = session.load::<Message>(stores::MESSAGES, id.as_bytes()).await else { continue };
            match conversations::forget_message(&session.vault, &msg).await {
                Ok(()) => removed.push(msg),
                Err(e) => session.kept(Err(e)),
            }
        }
        list.drain(..due);
        session.next_expiry.set(list.first().map_or(u64::MAX, |(t, _)| *t));
        session.kept(session.save(stores::ACCOUNT, EXPIRING_ID, &list).await);
    }
    for msg in &removed {
        session.emit(Event::Removed { peer: msg.peer, id: msg.id.clone() });
    }
    if !removed.is_empty() {
        session.emit(Event::Conversations);
    }
    removed.len()
}

/// Removes disappearing messages when their time comes, until `alive` says the session is over.
pub(crate) async fn run<P: Platform>(session: Rc<Session<P>>, alive: impl Fn() -> bool) {
    // What was due while the account was locked goes at once.
    sweep(&session).await;
    loop {
        if !alive() {
            return;
        }
        let (next, now) = (session.next_expiry.get(), session.client.now());
        if next <= now {
            sweep(&session).await;
            continue;
        }
        let wait = next.saturating_sub(now).min(STILL_ALIVE_MS);
        // `sleep`, not `nap`: a nap is the poll loop's wait between polls (the command line
        // counts naps as finished polls).
        session.world.clock.sleep(Duration::from_millis(wait)).await;
    }
}

/// Starts the timers of "after read" messages from the peer that were just read (the person
/// opened their conversation, or was looking when they arrived), here and in this account's
/// swarm.
pub(crate) async fn read<P: Platform>(session: &Session<P>, messages: &[Message]) {
    let now = session.client.now();
    let mut shorten: Vec<(u64, String)> = Vec::new();
    for m in messages {
        let Some(d @ Disappearing::AfterRead(_)) = m.disappearing else { continue };
        if m.outgoing || m.expires_at.is_some() || m.status == Status::Deleted {
            continue;
        }
        let at = now.saturating_add(d.millis());
        {
            let _guard = session.writes.lock().await;
            let Some(mut fresh) = session.load::<Message>(stores::MESSAGES, m.id.as_bytes()).await else { continue };
            fresh.expires_at = Some(at);
            let saved = session.save(stores::MESSAGES, fresh.id.as_bytes(), &fresh).await;
            let ok = saved.is_ok();
            session.kept(saved);
            if !ok {
                continue;
            }
            session.emit(Event::Message { message: fresh, arrived: false });
        }
        track(session, &m.id, at).await;
        if let Some(hash) = m.id.strip_prefix("in/") {
            shorten.push((at, hash.to_owned()));
        }
    }
    for (at, hash) in shorten {
        if let Err(e) = outbox::shorten_in_swarm(session, vec![hash], at).await {
            session.emit(Event::Problem(e));
        }
    }
}

/// Sets how this account's messages to `peer` disappear (none: off), tells the peer and this
/// account's other devices, and files the notice. The Note to Self takes "after send" only, as
/// Session's clients offer it.
pub(crate) async fn set<P: Platform>(
    session: &Session<P>,
    peer: &SessionId,
    setting: Option<Disappearing>,
) -> Result<Message, Error> {
    if *peer == session.me() && matches!(setting, Some(Disappearing::AfterRead(_))) {
        return Err(Error::NotForNoteToSelf);
    }
    if setting.is_some_and(|d| d.seconds() == 0 || d.seconds() > conversations::MAX_TIMER_S) {
        return Err(Error::NotATimer);
    }
    {
        let _guard = session.writes.lock().await;
        let existing = conversations::conversation(&session.vault, peer).await.map_err(Error::NotKept)?;
        let mut c = existing.unwrap_or_else(|| conversations::Conversation::new(peer, Standing::Accepted));
        c.disappearing = setting;
        conversations::save(&session.vault, &c).await.map_err(Error::NotKept)?;
    }
    let timestamp =
        outbox::send_control_synced(session, *peer, message::timer_update(setting.map(Disappearing::wire))).await?;
    let mut notice = conversations::outgoing(peer, "", timestamp, "", String::new(), String::new());
    notice.outbox = None;
    notice.sender_name = None;
    notice.status = Status::Sent;
    notice.notice = Some(Notice::Disappearing(setting));
    notice.disappearing = setting;
    notice.expires_at = setting.map(|d| timestamp.saturating_add(d.millis()));
    {
        let _guard = session.writes.lock().await;
        conversations::file(&session.vault, &notice, None, false, Standing::Accepted).await.map_err(Error::NotKept)?;
    }
    if let Some(at) = notice.expires_at {
        track(session, &notice.id, at).await;
    }
    session.emit(Event::Message { message: notice.clone(), arrived: false });
    session.emit(Event::Conversations);
    Ok(notice)
}
