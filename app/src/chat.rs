//! Conversations and messages: the records the vault keeps, and how sending and receiving change
//! them. Pure logic here; `session` does the I/O.

use crypto_core::identity::SessionId;
use crypto_core::message::Received;
use serde::{Deserialize, Serialize};

/// The longest text a person may send, in characters.
pub const MAX_CHARS: usize = crypto_core::message::MAX_BODY_CHARS;
/// Messages loaded at a time when scrolling back.
pub const PAGE: usize = 50;

/// Whether a conversation is an accepted contact, a message request, or blocked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Standing {
    /// Talking.
    Accepted,
    /// Someone not in the contacts wrote: accept, block or delete.
    Request,
    /// Messages from this ID are dropped.
    Blocked,
}

/// A conversation with one Session ID.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// The other person's Session ID.
    pub peer: String,
    /// Their display name, from their messages.
    pub name: Option<String>,
    /// Time of the last message, ms.
    pub last_activity: u64,
    /// Unread incoming messages.
    pub unread: u32,
    /// The last message's text, shortened.
    pub preview: String,
    /// Accepted, request or blocked.
    pub standing: Standing,
    /// Message ids, oldest first.
    pub messages: Vec<String>,
}

impl Conversation {
    /// A new conversation.
    pub fn new(peer: &SessionId, standing: Standing) -> Conversation {
        Conversation {
            peer: peer.to_string(),
            name: None,
            last_activity: 0,
            unread: 0,
            preview: String::new(),
            standing,
            messages: Vec::new(),
        }
    }

    /// The name to show: the display name, else the start of the ID.
    pub fn title(&self) -> String {
        match &self.name {
            Some(n) if !n.trim().is_empty() => n.clone(),
            _ => format!("{}…{}", self.peer.get(..8).unwrap_or(&self.peer), self.peer.get(58..).unwrap_or("")),
        }
    }

    fn touch(&mut self, message: &Message) {
        if !self.messages.contains(&message.id) {
            self.messages.push(message.id.clone());
        }
        if message.timestamp >= self.last_activity {
            self.last_activity = message.timestamp;
            self.preview = preview(&message.body);
        }
    }
}

/// Delivery state of an outgoing message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Written to the outbox; not yet stored in the recipient's swarm.
    Sending,
    /// Stored in the recipient's swarm.
    Sent,
    /// Sending failed; can be retried.
    Failed,
}

impl Status {
    /// The `data-status` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Failed => "failed",
        }
    }
}

/// One message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `out/<peer>/<timestamp>` or `in/<hash>`.
    pub id: String,
    /// The conversation's peer.
    pub peer: String,
    /// Sent by this account.
    pub outgoing: bool,
    /// The text.
    pub body: String,
    /// Sent time (network time, ms).
    pub timestamp: u64,
    /// Delivery state (incoming messages are `Sent`).
    pub status: Status,
    /// The sender's display name at the time.
    pub sender_name: Option<String>,
    /// While sending: the sealed storage `data` for the recipient, kept so a retry stores the
    /// very same bytes (the swarm then answers "already" and the recipient sees it once).
    pub outbox: Option<Outbox>,
}

/// What an outgoing message still has to store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outbox {
    /// For the recipient's swarm.
    pub data: String,
    /// The sync copy for this account's own swarm.
    pub sync_data: String,
    /// Whether the recipient's copy is already stored.
    pub delivered: bool,
}

/// The id of an outgoing message.
pub fn outgoing_id(peer: &str, timestamp: u64) -> String {
    format!("out/{peer}/{timestamp}")
}

/// The id of an incoming message.
pub fn incoming_id(hash: &str) -> String {
    format!("in/{hash}")
}

fn preview(body: &str) -> String {
    let line: String = body.chars().take(80).map(|c| if c.is_control() { ' ' } else { c }).collect();
    if body.chars().count() > 80 { format!("{line}…") } else { line }
}

/// A new outgoing message in the outbox.
pub fn outgoing(peer: &SessionId, body: &str, timestamp: u64, name: &str, data: String, sync_data: String) -> Message {
    Message {
        id: outgoing_id(&peer.to_string(), timestamp),
        peer: peer.to_string(),
        outgoing: true,
        body: body.to_owned(),
        timestamp,
        status: Status::Sending,
        sender_name: Some(name.to_owned()),
        outbox: Some(Outbox { data, sync_data, delivered: false }),
    }
}

/// What to do with an opened message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// Add this message to the conversation with `peer` (creating it with `standing` if new).
    Add { message: Message, name: Option<String>, unread: bool },
    /// Nothing to show (not a text message).
    Ignore,
}

/// Turns an opened message into a change. `me` is this account's ID.
pub fn incoming(received: &Received, hash: &str, me: &SessionId) -> Incoming {
    let Some(data) = &received.content.data_message else { return Incoming::Ignore };
    let Some(body) = data.body.as_ref().filter(|b| !b.is_empty()) else { return Incoming::Ignore };
    let name = data.profile.as_ref().and_then(|p| p.display_name.clone());
    if received.sender == *me {
        // A sync copy from another of this account's devices (or this one).
        let Some(peer) = data.sync_target.as_ref().and_then(|t| t.parse::<SessionId>().ok()) else {
            return Incoming::Ignore;
        };
        let message = Message {
            id: outgoing_id(&peer.to_string(), received.timestamp_ms),
            peer: peer.to_string(),
            outgoing: true,
            body: body.clone(),
            timestamp: received.timestamp_ms,
            status: Status::Sent,
            sender_name: name,
            outbox: None,
        };
        return Incoming::Add { message, name: None, unread: false };
    }
    let message = Message {
        id: incoming_id(hash),
        peer: received.sender.to_string(),
        outgoing: false,
        body: body.clone(),
        timestamp: received.timestamp_ms,
        status: Status::Sent,
        sender_name: name.clone(),
        outbox: None,
    };
    Incoming::Add { message, name, unread: true }
}

/// Applies a message to its conversation record (which must be for the same peer).
pub fn apply(conversation: &mut Conversation, message: &Message, name: Option<String>, unread: bool) {
    conversation.touch(message);
    if let Some(n) = name.filter(|n| !n.trim().is_empty()) {
        conversation.name = Some(n.chars().take(64).collect());
    }
    if unread {
        conversation.unread = conversation.unread.saturating_add(1);
    }
}

/// A moment in the person's local calendar (month and day from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime {
    /// Year.
    pub year: u32,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute, 0–59.
    pub minute: u32,
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// How a time reads next to a message (`with_clock`) or in the conversation list: `14:03` today;
/// `26 Nov 14:03` (list: `26 Nov`) earlier this year; `26 Nov 2025 14:03` (list: `26 Nov 2025`)
/// before that.
pub fn time_label(now: LocalTime, at: LocalTime, with_clock: bool) -> String {
    let clock = format!("{:02}:{:02}", at.hour, at.minute);
    if (at.year, at.month, at.day) == (now.year, now.month, now.day) {
        return clock;
    }
    let month = MONTHS.get(at.month.wrapping_sub(1) as usize).copied().unwrap_or("?");
    let date =
        if at.year == now.year { format!("{} {month}", at.day) } else { format!("{} {month} {}", at.day, at.year) };
    if with_clock { format!("{date} {clock}") } else { date }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto_core::identity::Identity;
    use crypto_core::message;
    use rand_core::OsRng;

    fn received(from: &Identity, to: &Identity, content: crypto_core::wire::Content, t: u64) -> Received {
        let data = message::seal_message(&mut OsRng, from, &to.session_id(), content, t).unwrap();
        message::open_message(to, &data).unwrap()
    }

    #[test]
    fn an_incoming_text_becomes_an_unread_message_with_the_senders_name() {
        let (a, b) = (Identity::generate(&mut OsRng), Identity::generate(&mut OsRng));
        let r = received(&a, &b, message::text_message("hi", Some("Alice")), 1_700_000_000_000);
        let Incoming::Add { message, name, unread } = incoming(&r, "HASH", &b.session_id()) else { panic!() };
        assert_eq!((message.id.as_str(), message.outgoing, unread), ("in/HASH", false, true));
        assert_eq!(name.as_deref(), Some("Alice"));
        let mut c = Conversation::new(&a.session_id(), Standing::Request);
        apply(&mut c, &message, name, unread);
        apply(&mut c, &message, None, false);
        assert_eq!((c.unread, c.messages.len(), c.title().as_str()), (1, 1, "Alice"));
        assert_eq!(c.preview, "hi");
    }

    #[test]
    fn a_sync_copy_becomes_a_sent_outgoing_message_with_the_same_id() {
        let (me, bob) = (Identity::generate(&mut OsRng), Identity::generate(&mut OsRng));
        let t = 1_700_000_000_123;
        let copy = message::sync_copy(&message::text_message("to bob", None), &bob.session_id());
        let r = received(&me, &me, copy, t);
        let Incoming::Add { message, unread, .. } = incoming(&r, "H", &me.session_id()) else { panic!() };
        assert_eq!(message.id, outgoing_id(&bob.session_id().to_string(), t));
        assert!(message.outgoing && !unread && message.status == Status::Sent);
    }

    #[test]
    fn non_text_content_is_ignored() {
        let (a, b) = (Identity::generate(&mut OsRng), Identity::generate(&mut OsRng));
        let r = received(&a, &b, crypto_core::wire::Content::default(), 1);
        assert_eq!(incoming(&r, "H", &b.session_id()), Incoming::Ignore);
    }

    #[test]
    fn previews_are_short_single_lines_and_titles_fall_back_to_the_id() {
        assert_eq!(preview("a\nb"), "a b");
        assert_eq!(preview(&"x".repeat(100)).chars().count(), 81);
        let id: SessionId = format!("05{}", "ab".repeat(32)).parse().unwrap();
        assert_eq!(Conversation::new(&id, Standing::Accepted).title(), "05ababab…abababab");
    }

    #[test]
    fn time_labels_show_the_date_only_when_it_is_not_today() {
        let now = LocalTime { year: 2026, month: 11, day: 26, hour: 23, minute: 50 };
        let today = LocalTime { hour: 9, minute: 5, ..now };
        assert_eq!(time_label(now, today, true), "09:05");
        assert_eq!(time_label(now, today, false), "09:05");
        let earlier = LocalTime { month: 3, day: 2, ..today };
        assert_eq!(time_label(now, earlier, true), "2 Mar 09:05");
        assert_eq!(time_label(now, earlier, false), "2 Mar");
        let last_year = LocalTime { year: 2025, ..earlier };
        assert_eq!(time_label(now, last_year, true), "2 Mar 2025 09:05");
        assert_eq!(time_label(now, LocalTime { month: 13, ..last_year }, false), "2 ? 2025");
    }
}
