//! Conversations and messages: the records the vault keeps, how sending and receiving change
//! them, and how they are filed and paged ([`file`], [`latest`], [`forget`]).
//!
//! Each message is its own record (`messages`, by message id). A conversation record (one per
//! peer) holds only what the list shows, so it stays small however long the conversation grows.
//! Which messages a conversation has, in order, is its *index*: pages of (timestamp, message id)
//! in `message-pages`, page `n` of a peer holding messages no later than page `n + 1`. Filing a
//! message rewrites one page of at most [`PAGE_LIMIT`] entries and the conversation record, never
//! a record that grows with the history; the view reads pages from the newest back as the person
//! scrolls.

use crypto_core::identity::SessionId;
use crypto_core::message::Received;
use crypto_core::vault::VaultError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::storage::{Backend, StorageError, Vault, stores};

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
    /// How many index pages the conversation has (see the module docs).
    #[serde(default)]
    pub pages: u32,
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
            pages: 0,
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
    /// Why the last attempt to send it failed, in words for the person (only while failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
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
        problem: None,
    }
}

/// What to do with an opened message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "made once per received message and matched at once; a box buys nothing (the lint fires on 64-bit targets only)"
)]
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
            problem: None,
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
        problem: None,
    };
    Incoming::Add { message, name, unread: true }
}

/// Applies a message to what its conversation record shows (activity, preview, name, unread
/// count); the record must be for the same peer. [`file`] does this and files the message.
pub fn apply(conversation: &mut Conversation, message: &Message, name: Option<String>, unread: bool) {
    conversation.touch(message);
    if let Some(n) = name.filter(|n| !n.trim().is_empty()) {
        conversation.name = Some(n.chars().take(64).collect());
    }
    if unread {
        conversation.unread = conversation.unread.saturating_add(1);
    }
}

/// Entries an index page takes before the next message in order starts a new page.
pub const PAGE_ENTRIES: usize = 32;
/// The most entries a page holds. A message that arrives late (its timestamp before the newest
/// page's) goes into the older page where it belongs, which may grow past [`PAGE_ENTRIES`]; a page
/// at this limit takes no more, and such a message is filed with the newest instead. So no page,
/// and no write, grows without bound, whatever timestamps senders choose.
pub const PAGE_LIMIT: usize = 2 * PAGE_ENTRIES;

/// One page of a conversation's index: (timestamp, message id), sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Page {
    pub(crate) entries: Vec<(u64, String)>,
}

/// The record id of page `n` of the conversation with `peer`.
pub(crate) fn page_id(peer: &str, n: u32) -> Vec<u8> {
    format!("{peer}/{n}").into_bytes()
}

/// A record as read: missing, present but not readable (damaged), or parsed.
enum Read<T> {
    Missing,
    Damaged,
    Found(T),
}

/// Reads and parses a record. A record that does not open or parse is `Damaged` (never fatal);
/// only the browser's storage failing is an error.
async fn read<B: Backend, T: DeserializeOwned>(
    vault: &Vault<B>,
    store: &str,
    id: &[u8],
) -> Result<Read<T>, StorageError> {
    match vault.get(store, id).await {
        Ok(None) => Ok(Read::Missing),
        Ok(Some(bytes)) => Ok(serde_json::from_slice(&bytes).map_or(Read::Damaged, Read::Found)),
        Err(StorageError::Vault(_)) => Ok(Read::Damaged),
        Err(e) => Err(e),
    }
}

async fn write<B: Backend, T: Serialize>(
    vault: &Vault<B>,
    store: &str,
    id: &[u8],
    value: &T,
) -> Result<(), StorageError> {
    let bytes = Zeroizing::new(serde_json::to_vec(value).map_err(|_| VaultError::Malformed("record"))?);
    vault.put(store, id, &bytes).await
}

async fn read_page<B: Backend>(vault: &Vault<B>, peer: &str, n: u32) -> Result<Read<Page>, StorageError> {
    read(vault, stores::MESSAGE_PAGES, &page_id(peer, n)).await
}

/// The number of index pages of `peer`, from the conversation record's count: pages past it
/// (written just before an interrupted update of the record, or after the record was lost) are
/// found by looking one further.
async fn page_count<B: Backend>(vault: &Vault<B>, peer: &str, recorded: u32) -> Result<u32, StorageError> {
    let mut count = recorded;
    while !matches!(read_page(vault, peer, count).await?, Read::Missing) {
        count = count.saturating_add(1);
    }
    Ok(count)
}

/// The conversation with `peer`, if it has a readable record.
pub async fn conversation<B: Backend>(vault: &Vault<B>, peer: &str) -> Result<Option<Conversation>, StorageError> {
    Ok(match read(vault, stores::CONVERSATIONS, peer.as_bytes()).await? {
        Read::Found(c) => Some(c),
        Read::Missing | Read::Damaged => None,
    })
}

/// Every conversation, most recent first (blocked ones last); damaged records are skipped.
pub async fn list<B: Backend>(vault: &Vault<B>) -> Result<Vec<Conversation>, StorageError> {
    let mut list: Vec<Conversation> =
        vault.all(stores::CONVERSATIONS).await?.iter().filter_map(|bytes| serde_json::from_slice(bytes).ok()).collect();
    list.sort_by(|a, b| {
        (a.standing == Standing::Blocked, b.last_activity).cmp(&(b.standing == Standing::Blocked, a.last_activity))
    });
    Ok(list)
}

/// Files `msg` in its conversation (creating it with `standing` if new): the message record, its
/// entry in the index, and the conversation's summary. Filing the same message again changes
/// nothing but the summary. Call it under `Session::writes`: the index page and the conversation
/// record are read, changed and written, and two tasks doing that at once would lose one's change.
///
/// The index entry is written first: should the tab close before the message record lands, the
/// entry points at nothing (the view skips it) and the message, not yet stored, is filed again
/// when it is fetched again.
pub async fn file<B: Backend>(
    vault: &Vault<B>,
    msg: &Message,
    name: Option<String>,
    unread: bool,
    standing: Standing,
) -> Result<(), StorageError> {
    let peer: SessionId = msg.peer.parse().map_err(|_| VaultError::Malformed("a message's peer"))?;
    let found = conversation(vault, &msg.peer).await?;
    let recorded = found.as_ref().map(|c| c.pages);
    let mut c = found.unwrap_or_else(|| Conversation::new(&peer, standing));
    c.pages = index(vault, &msg.peer, recorded, msg.timestamp, &msg.id).await?;
    write(vault, stores::MESSAGES, msg.id.as_bytes(), msg).await?;
    apply(&mut c, msg, name, unread);
    write(vault, stores::CONVERSATIONS, msg.peer.as_bytes(), &c).await
}

/// Adds (timestamp, id) to the index of `peer`, whose conversation record counts `recorded` pages
/// (`None`: no readable record, so the pages are counted); returns the page count.
async fn index<B: Backend>(
    vault: &Vault<B>,
    peer: &str,
    recorded: Option<u32>,
    timestamp: u64,
    id: &str,
) -> Result<u32, StorageError> {
    let mut count = match recorded {
        Some(n) => n,
        None => page_count(vault, peer, 0).await?,
    };
    loop {
        if place(vault, peer, count, timestamp, id).await? {
            return Ok(count);
        }
        // A new newest page; unless pages past the count are already there (written by a filing
        // cut short before it updated the conversation record): then file among them.
        let real = page_count(vault, peer, count).await?;
        if real == count {
            let page = Page { entries: vec![(timestamp, id.to_owned())] };
            write(vault, stores::MESSAGE_PAGES, &page_id(peer, count), &page).await?;
            return Ok(count.saturating_add(1));
        }
        count = real;
    }
}

/// Puts (timestamp, id) into one of the `count` existing pages, if one takes it: the page it
/// belongs in (the newest whose first entry is not after it, else the first; damaged pages are
/// passed over), unless that is the full newest page and it comes last (then a new page is due),
/// or a page at [`PAGE_LIMIT`] (then the newest takes it if it has room).
async fn place<B: Backend>(
    vault: &Vault<B>,
    peer: &str,
    count: u32,
    timestamp: u64,
    id: &str,
) -> Result<bool, StorageError> {
    let key = (timestamp, id);
    let position = |page: &Page| page.entries.binary_search_by(|(t, i)| (*t, i.as_str()).cmp(&key));
    let Some(newest) = count.checked_sub(1) else { return Ok(false) };
    let mut n = newest;
    let mut page = read_page(vault, peer, n).await?;
    loop {
        let fits = match &page {
            Read::Found(p) => p.entries.first().is_none_or(|(t, i)| (*t, i.as_str()) <= key),
            Read::Missing | Read::Damaged => false,
        };
        if fits || n == 0 {
            break;
        }
        n -= 1;
        page = read_page(vault, peer, n).await?;
    }
    let Read::Found(mut p) = page else { return Ok(false) };
    match position(&p) {
        Ok(_) => Ok(true),
        Err(at) if n == newest && at == p.entries.len() && p.entries.len() >= PAGE_ENTRIES => Ok(false),
        Err(at) if p.entries.len() < PAGE_LIMIT => {
            p.entries.insert(at, (timestamp, id.to_owned()));
            write(vault, stores::MESSAGE_PAGES, &page_id(peer, n), &p).await?;
            Ok(true)
        }
        Err(_) if n != newest => match read_page(vault, peer, newest).await? {
            Read::Found(mut p) if p.entries.len() < PAGE_ENTRIES => {
                if let Err(at) = position(&p) {
                    p.entries.insert(at, (timestamp, id.to_owned()));
                    write(vault, stores::MESSAGE_PAGES, &page_id(peer, newest), &p).await?;
                }
                Ok(true)
            }
            _ => Ok(false),
        },
        Err(_) => Ok(false),
    }
}

/// Writes `entries` (sorted) as the whole index of `peer`, [`PAGE_ENTRIES`] to a page; returns the
/// page count. Used by the migration that builds the index from the old message lists.
pub(crate) async fn write_index<B: Backend>(
    vault: &Vault<B>,
    peer: &str,
    entries: &[(u64, String)],
) -> Result<u32, StorageError> {
    let mut count = 0u32;
    for chunk in entries.chunks(PAGE_ENTRIES) {
        write(vault, stores::MESSAGE_PAGES, &page_id(peer, count), &Page { entries: chunk.to_vec() }).await?;
        count = count.saturating_add(1);
    }
    Ok(count)
}

/// The last `count` messages of the conversation with `peer`, oldest first, and whether older
/// ones exist. Entries whose message record is missing or damaged are skipped.
pub async fn latest<B: Backend>(
    vault: &Vault<B>,
    peer: &str,
    count: usize,
) -> Result<(Vec<Message>, bool), StorageError> {
    let Some(c) = conversation(vault, peer).await? else { return Ok((Vec::new(), false)) };
    let mut n = page_count(vault, peer, c.pages).await?;
    let mut entries: Vec<(u64, String)> = Vec::new();
    while n > 0 && entries.len() < count {
        n -= 1;
        if let Read::Found(p) = read_page(vault, peer, n).await? {
            entries.extend(p.entries);
        }
    }
    entries.sort();
    entries.dedup();
    let older = n > 0 || entries.len() > count;
    let mut messages = Vec::new();
    for (_, id) in entries.get(entries.len().saturating_sub(count)..).unwrap_or_default() {
        if let Read::Found(m) = read::<B, Message>(vault, stores::MESSAGES, id.as_bytes()).await? {
            messages.push(m);
        }
    }
    messages.sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));
    Ok((messages, older))
}

/// Deletes the conversation with `peer`: its messages, its index, then its record (last, so an
/// interrupted delete can run again). Call it under `Session::writes`.
pub async fn forget<B: Backend>(vault: &Vault<B>, peer: &str) -> Result<(), StorageError> {
    let recorded = conversation(vault, peer).await?.map_or(0, |c| c.pages);
    let count = page_count(vault, peer, recorded).await?;
    for n in (0..count).rev() {
        if let Read::Found(p) = read_page(vault, peer, n).await? {
            for (_, id) in &p.entries {
                vault.delete(stores::MESSAGES, id.as_bytes()).await?;
            }
        }
        vault.delete(stores::MESSAGE_PAGES, &page_id(peer, n)).await?;
    }
    vault.delete(stores::CONVERSATIONS, peer.as_bytes()).await
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
        assert_eq!((c.unread, c.last_activity, c.title().as_str()), (1, 1_700_000_000_000, "Alice"));
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
