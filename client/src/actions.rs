//! What people do to messages besides writing them: reactions, deleting (for this device, or for
//! everyone), read receipts and typing indicators. Each is sent in the protocol's format
//! (protocol-core §3.4) and applied when it arrives, from the peer or from this account's other
//! devices (their sync copies).
//!
//! The protocol names a message by its author and sent time, so that is how targets are found
//! ([`conversations::find_sent`]). What changes a message is last-writer-wins per (emoji,
//! person) for reactions; an unsend request is honoured only from the message's author; receipts
//! and typing indicators are shown only with the matching setting on, as Session's clients do
//! (whoever does not send them does not see them).

use crypto_core::identity::{IdPrefix, SessionId};
use crypto_core::message::{self, Received, TYPING_TTL_MS};
use crypto_core::wire::{reaction, receipt_message, typing_message};
use rand_core::OsRng;

use crate::Error;
use crate::conversations::{self, Message, Standing, Status};
use crate::event::Event;
use crate::outbox;
use crate::platform::Platform;
use crate::session::Session;
use crate::storage::stores;

/// How often a typing indicator is sent again while a person keeps typing (ms).
pub const TYPING_RESEND_MS: u64 = 10_000;
/// How long a received "started typing" is shown unless renewed (ms).
pub const TYPING_SHOWN_MS: u64 = 15_000;
/// The most message times one read receipt names (the rest are sent in another).
pub const MAX_RECEIPT_TIMES: usize = 100;

/// The hash of the copy of `msg` in this account's own swarm, if known.
fn own_copy(msg: &Message) -> Option<String> {
    match msg.id.strip_prefix("in/") {
        Some(hash) => Some(hash.to_owned()),
        None => msg.swarm_hash.clone(),
    }
}

/// Whether messages from `peer` are dropped.
async fn blocked<P: Platform>(session: &Session<P>, peer: &SessionId) -> bool {
    matches!(
        conversations::conversation(&session.vault, peer).await,
        Ok(Some(c)) if c.standing == Standing::Blocked
    )
}

/// Applies what a received message does to other messages, if it is such a message: `None`
/// when it is not (text, a request's acceptance…), else whether anything changed. `arrival` is
/// the network time it was fetched at.
pub(crate) async fn receive<P: Platform>(session: &Session<P>, received: &Received, arrival: u64) -> Option<bool> {
    let content = &received.content;
    if let Some(reaction) = content.data_message.as_ref().and_then(|d| d.reaction.as_ref()) {
        let sync_target = content.data_message.as_ref().and_then(|d| d.sync_target.as_deref());
        return Some(receive_reaction(session, received, reaction, sync_target).await);
    }
    if let Some(unsend) = &content.unsend_request {
        let (Some(timestamp), Some(author)) = (unsend.timestamp, unsend.author.as_deref()) else { return Some(false) };
        // Only a message's author may delete it for everyone.
        if author.parse::<SessionId>().ok() != Some(received.sender) {
            return Some(false);
        }
        return Some(receive_unsend(session, received.sender, timestamp).await);
    }
    if let Some(receipt) = &content.receipt_message {
        if receipt.r#type != Some(receipt_message::Type::Read as i32) || received.sender == session.me() {
            return Some(false);
        }
        return Some(receive_read(session, received.sender, &receipt.timestamp, received.timestamp_ms).await);
    }
    if let Some(typing) = &content.typing_message {
        let fresh = received.timestamp_ms.saturating_add(TYPING_TTL_MS) >= arrival;
        if received.sender != session.me()
            && fresh
            && session.account.borrow().typing_indicators
            && !blocked(session, &received.sender).await
        {
            let typing = typing.action == Some(typing_message::Action::Started as i32);
            session.emit(Event::Typing { peer: received.sender, typing });
        }
        return Some(false);
    }
    None
}

async fn receive_reaction<P: Platform>(
    session: &Session<P>,
    received: &Received,
    reaction: &crypto_core::wire::Reaction,
    sync_target: Option<&str>,
) -> bool {
    let me = session.me();
    let peer = if received.sender == me {
        // From another of this account's devices; without a target, in its Note to Self.
        match sync_target.filter(|t| !t.is_empty()).map(str::parse::<SessionId>) {
            None => me,
            Some(Ok(peer)) => peer,
            Some(Err(_)) => return false,
        }
    } else {
        received.sender
    };
    let (Some(target), Some(author), Some(emoji)) = (
        reaction.id,
        reaction.author.as_deref().and_then(|a| a.parse::<SessionId>().ok()),
        reaction.emoji.as_deref().and_then(conversations::reaction_emoji),
    ) else {
        return false;
    };
    if author != me && author != peer {
        return false;
    }
    if received.sender != me && blocked(session, &peer).await {
        return false;
    }
    let on = reaction.action == Some(reaction::Action::React as i32);
    let _guard = session.writes.lock().await;
    let Ok(Some(mut msg)) = conversations::find_sent(&session.vault, &peer, author == me, target).await else {
        return false;
    };
    if !msg.react(&emoji, received.sender, received.timestamp_ms, on) {
        // A removal still moves the mark's time, so an older "add" arriving later stays ignored.
        session.kept(session.save(stores::MESSAGES, msg.id.as_bytes(), &msg).await);
        return false;
    }
    match conversations::update(&session.vault, &msg).await {
        Ok(()) => {
            session.emit(Event::Message { message: msg, arrived: false });
            true
        }
        Err(e) => {
            session.kept(Err(e));
            false
        }
    }
}

/// An unsend request from `author` for their message sent at `timestamp`.
async fn receive_unsend<P: Platform>(session: &Session<P>, author: SessionId, timestamp: u64) -> bool {
    let me = session.me();
    let found = if author == me {
        // From another of this account's devices: the conversation is not named, so each is
        // looked in (by the message's id, which its sent time gives).
        let mut found = None;
        for c in conversations::list(&session.vault).await.unwrap_or_default() {
            let id = conversations::outgoing_id(&c.peer, timestamp);
            if let Some(m) = session.load::<Message>(stores::MESSAGES, id.as_bytes()).await {
                found = Some(m);
                break;
            }
        }
        found
    } else {
        conversations::find_sent(&session.vault, &author, false, timestamp).await.ok().flatten()
    };
    let Some(msg) = found else { return false };
    mark_deleted(session, msg).await.is_ok()
}

/// Turns `msg` into the "deleted" marker, here and in this account's swarm.
async fn mark_deleted<P: Platform>(session: &Session<P>, mut msg: Message) -> Result<Message, Error> {
    if msg.status == Status::Deleted {
        return Ok(msg);
    }
    let copy = own_copy(&msg);
    let pending = msg.outbox.is_some();
    let files = msg.mark_deleted();
    {
        let _guard = session.writes.lock().await;
        conversations::update(&session.vault, &msg).await.map_err(Error::NotKept)?;
        // After the record no longer names them: an interrupted free leaves pieces, never a
        // record that points at missing ones.
        session.kept(crate::attachments::free_all(&session.vault, &msg.id, &files).await);
    }
    if pending {
        session.kept(outbox::change(session, |ids| ids.retain(|id| *id != msg.id)).await);
    }
    if let Some(hash) = copy
        && let Err(e) = outbox::delete_from_swarm(session, vec![hash]).await
    {
        session.emit(Event::Problem(e));
    }
    session.emit(Event::Message { message: msg.clone(), arrived: false });
    session.emit(Event::Conversations);
    Ok(msg)
}

/// A read receipt from `peer` for this account's messages sent at `times`, read at `read_at`.
async fn receive_read<P: Platform>(session: &Session<P>, peer: SessionId, times: &[u64], read_at: u64) -> bool {
    if !session.account.borrow().read_receipts {
        return false;
    }
    let mut changed = false;
    for &t in times.iter().take(MAX_RECEIPT_TIMES) {
        let _guard = session.writes.lock().await;
        let id = conversations::outgoing_id(&peer, t);
        let Some(mut msg) = session.load::<Message>(stores::MESSAGES, id.as_bytes()).await else { continue };
        if msg.read_at.is_some() || msg.status == Status::Deleted {
            continue;
        }
        msg.read_at = Some(read_at);
        let saved = session.save(stores::MESSAGES, msg.id.as_bytes(), &msg).await;
        if saved.is_ok() {
            changed = true;
            session.emit(Event::Message { message: msg, arrived: false });
        }
        session.kept(saved);
    }
    changed
}

/// Adds (`on`) or removes this account's reaction `emoji` to the message `id`, and tells the
/// peer and this account's other devices.
pub(crate) async fn react<P: Platform>(
    session: &Session<P>,
    id: &str,
    emoji: &str,
    on: bool,
) -> Result<Message, Error> {
    let emoji = conversations::reaction_emoji(emoji).ok_or(Error::NotAnEmoji)?;
    let me = session.me();
    let msg = session.load::<Message>(stores::MESSAGES, id.as_bytes()).await.ok_or(Error::MessageGone)?;
    if msg.status == Status::Deleted {
        return Err(Error::MessageGone);
    }
    let name = session.account.borrow().display_name.clone();
    let content = message::reaction_message(msg.sent_at(), &msg.author(&me), &emoji, on, Some(&name));
    let at = outbox::send_control_synced(session, msg.peer, content).await?;
    let _guard = session.writes.lock().await;
    // Read again under the lock: a poll may have changed it meanwhile.
    let mut msg = session.load::<Message>(stores::MESSAGES, id.as_bytes()).await.ok_or(Error::MessageGone)?;
    msg.react(&emoji, me, at, on);
    conversations::update(&session.vault, &msg).await.map_err(Error::NotKept)?;
    if on {
        session.account.borrow_mut().used_reaction(&emoji);
        session.kept(session.save_account().await);
        session.emit(Event::Account);
    }
    session.emit(Event::Message { message: msg.clone(), arrived: false });
    Ok(msg)
}

/// Deletes the message `id` from this device (and this account's own copy of it from its swarm,
/// so a restore elsewhere does not bring it back). The peer keeps theirs.
pub(crate) async fn delete_for_me<P: Platform>(session: &Session<P>, id: &str) -> Result<(), Error> {
    let msg = session.load::<Message>(stores::MESSAGES, id.as_bytes()).await.ok_or(Error::MessageGone)?;
    {
        let _guard = session.writes.lock().await;
        conversations::forget_message(&session.vault, &msg).await.map_err(Error::NotKept)?;
    }
    if msg.outbox.is_some() {
        session.kept(outbox::change(session, |ids| ids.retain(|x| x != id)).await);
    }
    if let Some(hash) = own_copy(&msg) {
        outbox::delete_from_swarm(session, vec![hash]).await?;
    }
    session.emit(Event::Removed { peer: msg.peer, id: msg.id });
    session.emit(Event::Conversations);
    Ok(())
}

/// Deletes this account's message `id` for everyone: the protocol's unsend request goes to the
/// peer and to this account's other devices, this account's copy leaves its swarm, and the
/// message becomes the "deleted" marker here. (The copy in the peer's swarm is theirs to delete:
/// their client does so on the request.)
pub(crate) async fn delete_for_everyone<P: Platform>(session: &Session<P>, id: &str) -> Result<Message, Error> {
    let msg = session.load::<Message>(stores::MESSAGES, id.as_bytes()).await.ok_or(Error::MessageGone)?;
    if !msg.outgoing {
        return Err(Error::NotYours);
    }
    if msg.status == Status::Deleted {
        return Ok(msg);
    }
    let me = session.me();
    outbox::send_control_synced(session, msg.peer, message::unsend_message(msg.sent_at(), &me)).await?;
    mark_deleted(session, msg).await
}

/// Whether `peer` is a community member's blinded id (`15`, `25`): reached only through their
/// server's inbox, with text, so no receipt or typing indicator goes to them.
fn blinded(peer: &SessionId) -> bool {
    matches!(peer.prefix(), IdPrefix::BlindedLegacy | IdPrefix::Blinded)
}

/// Tells `peer` what this account read: the sent times of `read` (their messages), when read
/// receipts are on and the conversation is accepted (never to a message request).
pub(crate) async fn send_read<P: Platform>(session: &Session<P>, peer: &SessionId, read: &[u64]) {
    // A community member (blinded id) is reached only through their server's inbox, with text.
    if read.is_empty() || !session.account.borrow().read_receipts || *peer == session.me() || blinded(peer) {
        return;
    }
    if !matches!(conversations::conversation(&session.vault, peer).await, Ok(Some(c)) if c.standing == Standing::Accepted)
    {
        return;
    }
    for chunk in read.chunks(MAX_RECEIPT_TIMES) {
        if let Err(e) = outbox::send_control(session, *peer, message::read_receipt(chunk)).await {
            session.emit(Event::Problem(e));
        }
    }
}

/// Tells `peer` that this account is (`typing`) or stopped typing, with typing indicators on: a
/// start at most every [`TYPING_RESEND_MS`], a stop only after a start. Straight to the network,
/// stored for 20 s; a failure is not worth telling.
pub(crate) async fn typing<P: Platform>(session: &Session<P>, peer: &SessionId, typing: bool) {
    if !session.account.borrow().typing_indicators || *peer == session.me() || blinded(peer) {
        return;
    }
    let now = session.client.now();
    {
        let mut sent = session.typing_sent.borrow_mut();
        if typing {
            if sent.get(peer).is_some_and(|&at| now.saturating_sub(at) < TYPING_RESEND_MS) {
                return;
            }
            sent.insert(*peer, now);
        } else if sent.remove(peer).is_none() {
            return;
        }
    }
    let timestamp = session.next_timestamp();
    let Ok(data) = message::seal_message(
        &mut OsRng,
        &session.identity,
        peer,
        message::typing_message(typing, timestamp),
        timestamp,
    ) else {
        return;
    };
    let _ = session.client.store_for(peer, &data, timestamp, TYPING_TTL_MS).await;
}
