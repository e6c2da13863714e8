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
//! Records: the `account` store's `outbox` lists the ids still to deliver. A message's entry is
//! its own record (`Message::outbox` holds the sealed bytes for the recipient and the sync copy);
//! a control message's is `outbox/<id>` in the `account` store.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::time::Duration;

use crypto_core::identity::SessionId;
use crypto_core::network::Failure;
use futures::StreamExt;
use futures::future::{Either, LocalBoxFuture, select};
use futures::stream::FuturesUnordered;
use serde::{Deserialize, Serialize};

use crate::conversations::{Message, Status};
use crate::event::Event;
use crate::platform::{Clock, Platform};
use crate::session::Session;
use crate::storage::{StorageError, stores};

/// `account` record: the ids of entries not yet delivered.
const OUTBOX_ID: &[u8] = b"outbox";
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

/// Puts a control message for `to` in the outbox and wakes the worker.
pub(crate) async fn send_control<P: Platform>(
    session: &Session<P>,
    to: SessionId,
    data: String,
    timestamp: u64,
) -> Result<(), StorageError> {
    let id = format!("ctl/{to}/{timestamp}");
    session.save(stores::ACCOUNT, &control_record(&id), &Control { to, data, timestamp }).await?;
    change(session, |list| list.push(id)).await?;
    session.wake_outbox();
    Ok(())
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
    // 425) or a node that is not in the swarm (421) is handled by the network client and heals.
    matches!(failure, Failure::TooLarge | Failure::Rejected { status: 400 | 401 | 403 | 413, .. })
}

/// Stores a message's copies: the recipient's (once), then the sync copy for this account's other
/// devices.
async fn attempt<P: Platform>(session: &Session<P>, id: &str) -> Outcome {
    if id.starts_with("ctl/") {
        let Some(control) = session.load::<Control>(stores::ACCOUNT, &control_record(id)).await else {
            return Outcome::Gone;
        };
        return match session.client.store(&control.to, &control.data, control.timestamp).await {
            Ok(_) => Outcome::Delivered,
            Err(f) if is_permanent(&f) => Outcome::Refused(f),
            Err(f) => Outcome::Failed(f),
        };
    }
    let Some(mut msg) = session.load::<Message>(stores::MESSAGES, id.as_bytes()).await else { return Outcome::Gone };
    let Some(mut entry) = msg.outbox.clone() else { return Outcome::Gone };
    if !entry.delivered {
        match session.client.store(&msg.peer, &entry.data, msg.timestamp).await {
            Ok(_) => {}
            Err(f) if is_permanent(&f) => return Outcome::Refused(f),
            Err(f) => return Outcome::Failed(f),
        }
        entry.delivered = true;
        msg.outbox = Some(entry.clone());
        // Not fatal: without it, the next attempt stores the recipient's copy again, which the
        // swarm de-duplicates by hash.
        let _ = session.save(stores::MESSAGES, msg.id.as_bytes(), &msg).await;
    }
    match session.client.store(&session.me(), &entry.sync_data, msg.timestamp).await {
        Ok(_) => Outcome::Delivered,
        Err(f) if is_permanent(&f) => Outcome::Refused(f),
        Err(f) => Outcome::Failed(f),
    }
}

/// Writes what an attempt changed about a message (status, reason) and tells the front end. A
/// message deleted meanwhile stays deleted.
async fn settle_message<P: Platform>(session: &Session<P>, id: &str, status: Status, problem: Option<String>) {
    let Some(mut msg) = session.load::<Message>(stores::MESSAGES, id.as_bytes()).await else { return };
    if msg.status == status && msg.problem == problem && (status != Status::Sent || msg.outbox.is_none()) {
        return;
    }
    msg.status = status;
    msg.problem = problem;
    if status == Status::Sent {
        msg.outbox = None;
    }
    if session.save(stores::MESSAGES, msg.id.as_bytes(), &msg).await.is_ok() {
        session.emit(Event::Message { message: msg, arrived: false });
    }
}

/// Takes a delivered (or refused) entry out of the outbox.
async fn finish<P: Platform>(session: &Session<P>, id: &str) {
    if id.starts_with("ctl/") {
        let _ = session.remove(stores::ACCOUNT, &control_record(id)).await;
    }
    let _ = change(session, |list| list.retain(|x| x != id)).await;
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
                settle_message(&session, &id, Status::Failed, Some(failure.to_string())).await;
                finish(&session, &id).await;
            }
            Outcome::Failed(failure) => {
                let due = schedule.entry(id.clone()).or_default();
                due.failed = due.failed.saturating_add(1);
                due.at = now.saturating_add(round_delay(due.failed).as_millis() as u64);
                if due.failed >= ROUNDS {
                    settle_message(&session, &id, Status::Failed, Some(failure.to_string())).await;
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
