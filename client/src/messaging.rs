//! Conversations as a person uses them: reading, sending, drafts, message requests, blocking and
//! deleting. Sending only writes the outbox (sealed) and files the message; the outbox's worker
//! delivers it.
//!
//! Message requests: someone not in the conversations who writes arrives as a request. Accepting
//! it, or replying to it, makes it a conversation and tells them so with the protocol's
//! `MessageRequestResponse` (approved, with our display name), through the outbox like any other
//! message; when theirs arrives, they are marked as having accepted ours. Blocking drops what they
//! send; deleting forgets the conversation and its messages on this device.

use crypto_core::identity::SessionId;
use crypto_core::message;
use crypto_core::wire::{Content, MessageRequestResponse};

use crate::Error;
use crate::account::NotificationContent;
use crate::conversations::{self, Conversation, Invitation, Message, Quoted, Shown, Standing, Status};
use crate::disappearing;
use crate::event::Event;
use crate::files::{self, NewFile};
use crate::inbox;
use crate::outbox;
use crate::platform::Platform;
use crate::session::Session;
use crate::storage::stores;
use crate::sync;

/// The longest text a person may send, in characters.
pub const MAX_CHARS: usize = message::MAX_BODY_CHARS;
/// The longest draft kept, in characters (a draft may be over the sending limit while edited).
const MAX_DRAFT_CHARS: usize = 4 * MAX_CHARS;

fn draft_id(peer: &SessionId) -> Vec<u8> {
    format!("draft/{peer}").into_bytes()
}

/// Every conversation, most recent first (blocked ones last).
pub(crate) async fn list<P: Platform>(session: &Session<P>) -> Result<Vec<Conversation>, Error> {
    conversations::list(&session.vault).await.map_err(Error::ConversationsUnreadable)
}

/// Marks the conversation with `peer` read (a conversation record is made only by its first
/// message). Not fatal: a count that could not be written stays until the next time.
pub(crate) async fn mark_read<P: Platform>(session: &Session<P>, peer: &SessionId) {
    let mut read = Vec::new();
    let mut marked = false;
    {
        let _guard = session.writes.lock().await;
        if let Ok(Some(mut c)) = conversations::conversation(&session.vault, peer).await
            && c.unread > 0
        {
            if let Ok((messages, _)) =
                conversations::latest(&session.vault, peer, (c.unread as usize).min(PAGE_FOR_RECEIPTS)).await
            {
                read = messages.into_iter().filter(|m| !m.outgoing && m.status != Status::Deleted).collect();
            }
            c.unread = 0;
            let saved = conversations::save(&session.vault, &c).await;
            if saved.is_ok() {
                session.emit(Event::Conversations);
                marked = true;
            }
            session.kept(saved);
        }
    }
    if marked {
        sync::read(session, peer).await;
    }
    let times: Vec<u64> = read.iter().map(Message::sent_at).collect();
    crate::actions::send_read(session, peer, &times).await;
    disappearing::read(session, &read).await;
}

/// The most unread messages a read receipt is sent for when a conversation is opened.
const PAGE_FOR_RECEIPTS: usize = 200;

/// Sends `body` to `peer`: sealed, written to the outbox and filed before this returns; the
/// outbox's worker then delivers it (sending → sent, or failed with the reason). An error means
/// nothing was kept, so the caller keeps the person's text. Replying to a message request
/// accepts it.
pub(crate) async fn send<P: Platform>(
    session: &Session<P>,
    peer: &SessionId,
    body: &str,
    reply_to: Option<&str>,
) -> Result<Message, Error> {
    send_files(session, peer, body, reply_to, Vec::new()).await
}

/// [`send`] with files: they are encrypted and kept (with their encrypted bytes, for the outbox)
/// before this returns; the outbox uploads them, then seals and sends the message.
pub(crate) async fn send_files<P: Platform>(
    session: &Session<P>,
    peer: &SessionId,
    body: &str,
    reply_to: Option<&str>,
    files: Vec<NewFile>,
) -> Result<Message, Error> {
    send_new(session, peer, body, reply_to, files, None).await
}

/// Sends `peer` an invitation to the community `invitation` names, as Session's clients send one
/// (its URL and name, no text); it is filed as a message like any other.
pub(crate) async fn send_invitation<P: Platform>(
    session: &Session<P>,
    peer: &SessionId,
    invitation: Invitation,
) -> Result<Message, Error> {
    send_new(session, peer, "", None, Vec::new(), Some(invitation)).await
}

/// A new message: text, files, or an invitation (see [`send_files`]).
async fn send_new<P: Platform>(
    session: &Session<P>,
    peer: &SessionId,
    body: &str,
    reply_to: Option<&str>,
    files: Vec<NewFile>,
    invitation: Option<Invitation>,
) -> Result<Message, Error> {
    if body.trim().is_empty() && files.is_empty() && invitation.is_none() {
        return Err(Error::EmptyMessage);
    }
    if files.len() > conversations::MAX_ATTACHMENTS {
        return Err(Error::TooManyFiles { max: conversations::MAX_ATTACHMENTS });
    }
    let body = if body.trim().is_empty() { "" } else { body };
    if body.chars().count() > MAX_CHARS {
        return Err(Error::TooLong { max: MAX_CHARS });
    }
    let quote = match reply_to {
        Some(id) => Some(quoting(session, peer, id).await?),
        None => None,
    };
    let name = session.account.borrow().display_name.clone();
    let setting = conversations::conversation(&session.vault, peer).await.ok().flatten().and_then(|c| c.disappearing);
    let now = session.next_timestamp();
    let mut msg = conversations::outgoing(peer, body, now, &name, String::new(), String::new());
    msg.quote = quote;
    msg.disappearing = setting;
    msg.invitation = invitation;
    if files.is_empty() {
        let (data, sync_data) = outbox::seal_text(session, &msg, now)?;
        if let Some(entry) = msg.outbox.as_mut() {
            (entry.data, entry.sync_data) = (data, sync_data);
        }
    } else {
        // Sealed once its files are uploaded (until then its outbox entry has no data).
        msg.attachments = files::prepare(session, &msg.id, files).await?;
    }
    if let Some(entry) = msg.outbox.as_mut() {
        // Note to Self: the sync copy is the one copy (its target is this account).
        entry.delivered = *peer == session.me();
        entry.ttl = disappearing::recipient_ttl(setting);
        entry.sync_ttl = disappearing::sync_ttl(setting);
    }
    // The sender's own copy counts down from now, in both modes.
    msg.expires_at = setting.map(|d| now.saturating_add(d.millis()));
    msg.swarm_hash = msg.outbox.as_ref().and_then(|o| outbox::own_hash(session, &o.sync_data));
    outbox::change(session, |ids| ids.push(msg.id.clone())).await.map_err(Error::MessageNotKept)?;
    if let Err(e) = inbox::record(session, &msg, None, false, Standing::Accepted).await {
        // The entry points at a message that was not kept: the worker finds nothing and drops it.
        session.kept(outbox::change(session, |ids| ids.retain(|id| *id != msg.id)).await);
        session.kept(crate::attachments::free_all(&session.vault, &msg.id, &msg.attachments).await);
        return Err(Error::MessageNotKept(e));
    }
    if let Some(at) = msg.expires_at {
        disappearing::track(session, &msg.id, at).await;
    }
    session.emit(Event::Message { message: msg.clone(), arrived: false });
    session.wake_outbox();
    // The message says the typing is over; no "stopped" needs to follow.
    session.typing_sent.borrow_mut().remove(peer);
    if let Ok(Some(Standing::Request)) = set_standing(session, peer, Standing::Accepted).await {
        // Not fatal for this message, which is kept; the person hears why the acceptance was not.
        if let Err(e) = tell_accepted(session, peer).await {
            session.emit(Event::Problem(e));
        }
    }
    // Writing to someone approves them (and shows their conversation again), as in Session's
    // clients.
    sync::contact(session, peer, |c| {
        c.approved = true;
        c.priority = c.priority.max(0);
    })
    .await;
    if let Err(e) = clear_draft(session, peer).await {
        session.emit(Event::Problem(e));
    }
    session.emit(Event::Conversations);
    Ok(msg)
}

/// The quote of the message `id` of the conversation with `peer`, for a reply to it.
async fn quoting<P: Platform>(session: &Session<P>, peer: &SessionId, id: &str) -> Result<Quoted, Error> {
    let quoted = session.load::<Message>(stores::MESSAGES, id.as_bytes()).await.ok_or(Error::MessageGone)?;
    if quoted.peer != *peer || quoted.status == Status::Deleted {
        return Err(Error::MessageGone);
    }
    Ok(Quoted {
        author: quoted.author(&session.me()),
        timestamp: quoted.sent_at(),
        text: conversations::quote_text(&quoted.shown_text()),
        id: Some(quoted.id),
    })
}

/// Sets the standing of the conversation with `peer` (making its record if there is none yet);
/// returns the standing it had.
async fn set_standing<P: Platform>(
    session: &Session<P>,
    peer: &SessionId,
    standing: Standing,
) -> Result<Option<Standing>, crate::storage::StorageError> {
    let _guard = session.writes.lock().await;
    let existing = conversations::conversation(&session.vault, peer).await?;
    let before = existing.as_ref().map(|c| c.standing);
    if before == Some(standing) {
        return Ok(before);
    }
    let mut c = existing.unwrap_or_else(|| Conversation::new(peer, standing));
    c.standing = standing;
    conversations::save(&session.vault, &c).await?;
    Ok(before)
}

/// Changes the record of the conversation with `peer` (making one, accepted, if there is none:
/// naming or pinning someone is talking to them).
pub(crate) async fn change<P: Platform>(
    session: &Session<P>,
    peer: &SessionId,
    change: impl FnOnce(&mut Conversation),
) -> Result<Conversation, Error> {
    let c = {
        let _guard = session.writes.lock().await;
        let existing = conversations::conversation(&session.vault, peer).await.map_err(Error::NotKept)?;
        let mut c = existing.unwrap_or_else(|| Conversation::new(peer, Standing::Accepted));
        change(&mut c);
        conversations::save(&session.vault, &c).await.map_err(Error::NotKept)?;
        c
    };
    session.emit(Event::Conversations);
    Ok(c)
}

/// A nickname as kept: made inert like a display name; empty means none.
pub(crate) fn nickname(raw: &str) -> Option<String> {
    crate::text::name(raw)
}

/// A system notification for a newly arrived message, as the account's settings say: none with
/// notifications off, for a muted, blocked or requesting conversation… (see [`Engine::notification`]).
pub(crate) async fn notification<P: Platform>(session: &Session<P>, message: &Message) -> Option<Notification> {
    let (on, content) = {
        let account = session.account.borrow();
        (account.notifications, account.notification_content)
    };
    if !on || message.outgoing || message.status == Status::Deleted {
        return None;
    }
    let c = conversations::conversation(&session.vault, &message.peer).await.ok()??;
    if c.muted || c.standing == Standing::Blocked {
        return None;
    }
    let request = c.standing == Standing::Request;
    Some(match content {
        NotificationContent::NameAndText if !request => {
            Notification { title: Some(c.title()), body: NotificationBody::Message(message.shown()) }
        }
        NotificationContent::NameAndText | NotificationContent::NameOnly => Notification {
            title: Some(c.title()),
            body: if request { NotificationBody::Request } else { NotificationBody::NewMessage },
        },
        NotificationContent::Nothing => Notification { title: None, body: NotificationBody::NewMessage },
    })
}

/// What a system notification says; front ends word it (the command line shows none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// Its title: the sender's name, or none for a notification that names no one (then the app's
    /// name, "Hush").
    pub title: Option<String>,
    /// Its text.
    pub body: NotificationBody,
}

/// The text of a system notification.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotificationBody {
    /// What the message shows.
    Message(Shown),
    /// That a message arrived ("New message"), without what it says.
    NewMessage,
    /// That a message request arrived ("Message request").
    Request,
}

/// Unread messages in conversations that are not muted (requests included, blocked ones not).
pub(crate) async fn unread_total<P: Platform>(session: &Session<P>) -> u32 {
    list(session)
        .await
        .unwrap_or_default()
        .iter()
        .filter(|c| !c.muted && c.standing != Standing::Blocked)
        .fold(0u32, |sum, c| sum.saturating_add(c.unread))
}

/// Puts a `MessageRequestResponse` (approved, with our display name) for `peer` in the outbox.
async fn tell_accepted<P: Platform>(session: &Session<P>, peer: &SessionId) -> Result<(), Error> {
    let (profile, profile_key) = crate::avatars::own_profile(session);
    let content = Content {
        message_request_response: Some(MessageRequestResponse {
            is_approved: Some(true),
            profile: Some(profile),
            profile_key,
        }),
        ..Default::default()
    };
    outbox::send_control(session, *peer, content).await
}

/// Accepts the message request of `peer`: it becomes a conversation, and they are told (through
/// the outbox, so it reaches them even if the network is down now).
pub(crate) async fn accept<P: Platform>(session: &Session<P>, peer: &SessionId) -> Result<(), Error> {
    let before = set_standing(session, peer, Standing::Accepted).await.map_err(Error::NotKept)?;
    if before != Some(Standing::Accepted) {
        tell_accepted(session, peer).await?;
    }
    sync::contact(session, peer, |c| {
        c.approved = true;
        c.blocked = false;
        c.priority = c.priority.max(0);
    })
    .await;
    session.emit(Event::Conversations);
    Ok(())
}

/// Blocks `peer`: what they send from now on is dropped. The conversation stays (out of the
/// list) so it can be listed and unblocked.
pub(crate) async fn block<P: Platform>(session: &Session<P>, peer: &SessionId) -> Result<(), Error> {
    set_standing(session, peer, Standing::Blocked).await.map_err(Error::NotKept)?;
    sync::contact(session, peer, |c| c.blocked = true).await;
    session.emit(Event::Conversations);
    Ok(())
}

/// Unblocks `peer`: a conversation again.
pub(crate) async fn unblock<P: Platform>(session: &Session<P>, peer: &SessionId) -> Result<(), Error> {
    set_standing(session, peer, Standing::Accepted).await.map_err(Error::NotKept)?;
    sync::contact(session, peer, |c| {
        c.blocked = false;
        c.approved = true;
    })
    .await;
    session.emit(Event::Conversations);
    Ok(())
}

/// Deletes the conversation with `peer` and its messages from this device. A blocked person
/// stays blocked: their record is kept, without messages.
pub(crate) async fn delete<P: Platform>(session: &Session<P>, peer: &SessionId) -> Result<(), Error> {
    {
        let _guard = session.writes.lock().await;
        let blocked = conversations::conversation(&session.vault, peer)
            .await
            .ok()
            .flatten()
            .filter(|c| c.standing == Standing::Blocked);
        conversations::forget(&session.vault, peer).await.map_err(Error::NotKept)?;
        if let Some(c) = blocked {
            let kept = Conversation { name: c.name, ..Conversation::new(peer, Standing::Blocked) };
            conversations::save(&session.vault, &kept).await.map_err(Error::NotKept)?;
        }
    }
    sync::deleted(session, peer).await;
    if let Err(e) = clear_draft(session, peer).await {
        session.emit(Event::Problem(e));
    }
    session.emit(Event::Conversations);
    Ok(())
}

/// The draft kept for `peer` (empty if none).
pub(crate) async fn draft<P: Platform>(session: &Session<P>, peer: &SessionId) -> String {
    session.load::<String>(stores::ACCOUNT, &draft_id(peer)).await.unwrap_or_default()
}

/// Keeps `text` as the draft for `peer` (sealed, like every record); an empty text removes it.
pub(crate) async fn set_draft<P: Platform>(session: &Session<P>, peer: &SessionId, text: &str) -> Result<(), Error> {
    if text.is_empty() {
        return clear_draft(session, peer).await;
    }
    let kept: String = text.chars().take(MAX_DRAFT_CHARS).collect();
    session.save(stores::ACCOUNT, &draft_id(peer), &kept).await.map_err(Error::NotKept)
}

async fn clear_draft<P: Platform>(session: &Session<P>, peer: &SessionId) -> Result<(), Error> {
    session.remove(stores::ACCOUNT, &draft_id(peer)).await.map_err(Error::NotKept)
}

#[cfg(test)]
mod tests {
    use crypto_core::identity::Identity;
    use futures::executor::block_on;
    use rand_core::OsRng;

    use super::*;
    use crate::testing::Offline;

    fn session() -> Session<Offline> {
        crate::testing::offline_session()
    }

    #[test]
    fn drafts_are_per_conversation_capped_and_removed_when_emptied() {
        let s = session();
        let (bob, carol) = (Identity::generate(&mut OsRng).session_id(), Identity::generate(&mut OsRng).session_id());
        block_on(async {
            assert_eq!(draft(&s, &bob).await, "");
            let long = "ü".repeat(MAX_DRAFT_CHARS + 10);
            set_draft(&s, &bob, &long).await.unwrap();
            assert_eq!(
                draft(&s, &bob).await.chars().count(),
                MAX_DRAFT_CHARS,
                "over the sending limit is kept, up to a cap"
            );
            set_draft(&s, &carol, "for Carol").await.unwrap();
            set_draft(&s, &bob, "").await.unwrap();
            assert_eq!(draft(&s, &bob).await, "");
            assert!(s.vault.get(stores::ACCOUNT, &draft_id(&bob)).await.unwrap().is_none(), "removed, not kept empty");
            assert_eq!(draft(&s, &carol).await, "for Carol");
            delete(&s, &carol).await.unwrap();
            assert_eq!(draft(&s, &carol).await, "", "deleting a conversation drops its draft");
        });
    }

    #[test]
    fn a_send_refused_by_storage_keeps_nothing() {
        let s = session();
        let bob = Identity::generate(&mut OsRng).session_id();
        block_on(async {
            set_draft(&s, &bob, "typed").await.unwrap();
            s.vault.close();
            assert!(matches!(send(&s, &bob, "typed", None).await, Err(Error::MessageNotKept(_))));
            assert_eq!(draft(&s, &bob).await, "typed", "the draft stays");
            assert!(list(&s).await.unwrap().is_empty());
        });
    }

    #[test]
    fn the_standing_is_set_once_and_reported() {
        let s = session();
        let bob = Identity::generate(&mut OsRng).session_id();
        block_on(async {
            assert_eq!(set_standing(&s, &bob, Standing::Request).await.unwrap(), None);
            assert_eq!(set_standing(&s, &bob, Standing::Blocked).await.unwrap(), Some(Standing::Request));
            assert_eq!(set_standing(&s, &bob, Standing::Blocked).await.unwrap(), Some(Standing::Blocked));
            mark_read(&s, &bob).await;
            assert_eq!(list(&s).await.unwrap().len(), 1);
        });
    }

    fn incoming_from(peer: &SessionId, body: &str, t: u64) -> Message {
        let mut m = conversations::outgoing(peer, body, t, "x", String::new(), String::new());
        m.id = format!("in/{peer}{t}");
        m.outgoing = false;
        m.outbox = None;
        m.status = Status::Sent;
        m
    }

    /// Pinned conversations come first, a nickname replaces the display name everywhere it is
    /// shown, muted conversations neither notify nor count as unread, and the notification says
    /// what the account chose (a request only that it came).
    #[test]
    fn pins_nicknames_mutes_and_notifications_follow_the_settings() {
        let s = session();
        let (bob, carol, dave) = (
            Identity::generate(&mut OsRng).session_id(),
            Identity::generate(&mut OsRng).session_id(),
            Identity::generate(&mut OsRng).session_id(),
        );
        block_on(async {
            for (peer, t, standing) in
                [(&bob, 1, Standing::Accepted), (&carol, 2, Standing::Accepted), (&dave, 3, Standing::Request)]
            {
                let m = incoming_from(peer, &format!("hello {t}"), t);
                inbox::record(&s, &m, Some(format!("Name {t}")), true, standing).await.unwrap();
            }
            let order = |list: Vec<Conversation>| list.iter().map(|c| c.peer).collect::<Vec<_>>();
            assert_eq!(order(list(&s).await.unwrap()), [dave, carol, bob]);
            change(&s, &bob, |c| c.pinned = true).await.unwrap();
            assert_eq!(order(list(&s).await.unwrap()), [bob, dave, carol], "pinned first");
            let named = change(&s, &carol, |c| c.nickname = nickname("  Cee \u{202E} ")).await.unwrap();
            assert_eq!(named.title(), "Cee");
            assert_eq!(nickname("   "), None);
            assert_eq!(unread_total(&s).await, 3);
            change(&s, &carol, |c| c.muted = true).await.unwrap();
            assert_eq!(unread_total(&s).await, 2, "muted: not counted");

            let from_bob = incoming_from(&bob, "the text", 10);
            assert_eq!(notification(&s, &from_bob).await, None, "notifications are off by default");
            s.account.borrow_mut().notifications = true;
            let shown = |title: Option<&str>, body: NotificationBody| {
                Some(Notification { title: title.map(str::to_owned), body })
            };
            let text = |t: &str| NotificationBody::Message(Shown::Text(t.into()));
            assert_eq!(notification(&s, &from_bob).await, shown(Some("Name 1"), text("the text")));
            assert_eq!(notification(&s, &incoming_from(&carol, "x", 11)).await, None, "muted");
            assert_eq!(
                notification(&s, &incoming_from(&dave, "x", 12)).await,
                shown(Some("Name 3"), NotificationBody::Request)
            );
            s.account.borrow_mut().notification_content = NotificationContent::NameOnly;
            assert_eq!(notification(&s, &from_bob).await, shown(Some("Name 1"), NotificationBody::NewMessage));
            s.account.borrow_mut().notification_content = NotificationContent::Nothing;
            assert_eq!(notification(&s, &from_bob).await, shown(None, NotificationBody::NewMessage));
            let mine = conversations::outgoing(&bob, "mine", 13, "Me", String::new(), String::new());
            assert_eq!(notification(&s, &mine).await, None, "never for one's own message");
        });
    }

    /// Search opens the sealed records: it finds conversations by name and ID and messages by
    /// text, case-insensitively, newest first, never a deleted message or a blocked conversation.
    #[test]
    fn search_finds_names_and_text_but_not_deleted_or_blocked() {
        let s = session();
        let (bob, carol) = (Identity::generate(&mut OsRng).session_id(), Identity::generate(&mut OsRng).session_id());
        block_on(async {
            for (i, body) in ["Lunch on Friday?", "no", "friday works", "FRIDAY!"].iter().enumerate() {
                let m = incoming_from(&bob, body, 100 + i as u64);
                inbox::record(&s, &m, Some("Fridaymaker".into()), true, Standing::Accepted).await.unwrap();
            }
            let mut gone = incoming_from(&bob, "friday secret", 50);
            inbox::record(&s, &gone, None, true, Standing::Accepted).await.unwrap();
            gone.mark_deleted();
            conversations::update(&s.vault, &gone).await.unwrap();
            inbox::record(&s, &incoming_from(&carol, "friday from a blocked one", 200), None, true, Standing::Accepted)
                .await
                .unwrap();
            block(&s, &carol).await.unwrap();

            let found = conversations::search(&s.vault, " Friday ", 100).await.unwrap();
            let described: Vec<String> = found
                .iter()
                .map(|f| match f {
                    conversations::Found::Conversation(c) => format!("conversation {}", c.title()),
                    conversations::Found::Message(m) => m.body.clone(),
                })
                .collect();
            assert_eq!(described, ["conversation Fridaymaker", "FRIDAY!", "friday works", "Lunch on Friday?"]);
            assert_eq!(conversations::search(&s.vault, "", 100).await.unwrap(), []);
            assert_eq!(conversations::search(&s.vault, "friday", 2).await.unwrap().len(), 2, "limited");
            let by_id = conversations::search(&s.vault, &bob.to_string()[..20], 100).await.unwrap();
            assert!(matches!(by_id.as_slice(), [conversations::Found::Conversation(c)] if c.peer == bob));
        });
    }
}
