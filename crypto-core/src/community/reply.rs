//! The server replies a client reads (protocol-communities §4–§5) as typed values: capabilities,
//! room objects, poll info, message lists (posts, tombstones, reaction updates), inbox/outbox
//! entries and batch results.
//!
//! Read leniently, as session-desktop does: optional fields of the wrong type read as absent,
//! flags as `false` unless `true`, and list entries that do not read are left out rather than
//! failing the whole list. Required fields missing or mistyped are a [`ReplyError`].

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

pub use crate::storage::rpc::ReplyError;

use crate::identity::SessionId;

/// `GET /capabilities`: the server's capabilities (`blind`, `reactions`, `sogs`, …) and, in a 412,
/// the required ones it lacks.
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
pub struct Capabilities {
    /// What the server supports.
    #[serde(deserialize_with = "lenient_list")]
    pub capabilities: Vec<String>,
    /// Required capabilities it lacks (412 only).
    #[serde(default, deserialize_with = "lenient_list")]
    pub missing: Vec<String>,
}

impl Capabilities {
    /// Reads a capabilities reply.
    pub fn parse(bytes: &[u8]) -> Result<Capabilities, ReplyError> {
        parse_as(bytes, "capabilities")
    }

    /// Whether the server requires blinded (`15`) ids.
    pub fn blinded(&self) -> bool {
        self.capabilities.iter().any(|c| c == "blind")
    }
}

/// A room object (`GET /room/<t>`, `details` of poll info, entries of `/rooms`).
#[derive(Clone, PartialEq, Debug, Deserialize)]
pub struct Room {
    /// The room token.
    pub token: String,
    /// The display name.
    pub name: String,
    /// The description.
    #[serde(default, deserialize_with = "lenient")]
    pub description: Option<String>,
    /// Bumped when the room's details change.
    pub info_updates: i64,
    /// The room's latest seqno.
    #[serde(default, deserialize_with = "lenient")]
    pub message_sequence: Option<i64>,
    /// Creation time, unix seconds.
    #[serde(default, deserialize_with = "lenient")]
    pub created: Option<f64>,
    /// Users active within `active_users_cutoff`.
    #[serde(default, deserialize_with = "lenient")]
    pub active_users: Option<u64>,
    /// The window of `active_users`, seconds.
    #[serde(default, deserialize_with = "lenient")]
    pub active_users_cutoff: Option<u64>,
    /// The room image's file id (`GET /room/<t>/file/<id>`).
    #[serde(default, deserialize_with = "lenient")]
    pub image_id: Option<u64>,
    /// Pinned messages.
    #[serde(default, deserialize_with = "lenient_list")]
    pub pinned_messages: Vec<PinnedMessage>,
    /// Visible moderators.
    #[serde(default, deserialize_with = "lenient_list")]
    pub moderators: Vec<SessionId>,
    /// Visible admins.
    #[serde(default, deserialize_with = "lenient_list")]
    pub admins: Vec<SessionId>,
    /// Hidden moderators (shown to moderators only).
    #[serde(default, deserialize_with = "lenient_list")]
    pub hidden_moderators: Vec<SessionId>,
    /// Hidden admins (shown to moderators only).
    #[serde(default, deserialize_with = "lenient_list")]
    pub hidden_admins: Vec<SessionId>,
    /// The caller's rights and roles.
    #[serde(flatten)]
    pub rights: Rights,
}

impl Room {
    /// Reads a room object.
    pub fn parse(bytes: &[u8]) -> Result<Room, ReplyError> {
        parse_as(bytes, "room")
    }
}

/// Reads `GET /rooms` (rooms that do not read are left out).
pub fn parse_rooms(bytes: &[u8]) -> Result<Vec<Room>, ReplyError> {
    let rooms: Lenient<Room> = parse_as(bytes, "rooms")?;
    Ok(rooms.0)
}

/// The caller's rights in a room, as room objects and poll info carry them.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Deserialize)]
pub struct Rights {
    /// May read.
    #[serde(default, deserialize_with = "lenient_flag")]
    pub read: bool,
    /// May post.
    #[serde(default, deserialize_with = "lenient_flag")]
    pub write: bool,
    /// May upload files.
    #[serde(default, deserialize_with = "lenient_flag")]
    pub upload: bool,
    /// Is a moderator of the room.
    #[serde(default, deserialize_with = "lenient_flag")]
    pub moderator: bool,
    /// Is an admin of the room.
    #[serde(default, deserialize_with = "lenient_flag")]
    pub admin: bool,
    /// Is a global moderator.
    #[serde(default, deserialize_with = "lenient_flag")]
    pub global_moderator: bool,
    /// Is a global admin.
    #[serde(default, deserialize_with = "lenient_flag")]
    pub global_admin: bool,
}

/// A pinned message of a room.
#[derive(Clone, PartialEq, Debug, Deserialize)]
pub struct PinnedMessage {
    /// The message's id.
    pub id: u64,
    /// When it was pinned, unix seconds.
    #[serde(default, deserialize_with = "lenient")]
    pub pinned_at: Option<f64>,
    /// Who pinned it.
    #[serde(default, deserialize_with = "lenient")]
    pub pinned_by: Option<SessionId>,
}

/// `GET /room/<t>/pollInfo/<n>`: activity and rights, and the room's details when they changed.
#[derive(Clone, PartialEq, Debug, Deserialize)]
pub struct PollInfo {
    /// The room token.
    pub token: String,
    /// Active users.
    #[serde(default, deserialize_with = "lenient")]
    pub active_users: Option<u64>,
    /// The caller's rights and roles.
    #[serde(flatten)]
    pub rights: Rights,
    /// The full room object, when its `info_updates` differs from the one asked with.
    #[serde(default, deserialize_with = "lenient")]
    pub details: Option<Room>,
}

impl PollInfo {
    /// Reads a poll-info reply.
    pub fn parse(bytes: &[u8]) -> Result<PollInfo, ReplyError> {
        parse_as(bytes, "pollInfo")
    }
}

/// An entry of a message list (§5.2).
#[derive(Clone, PartialEq, Debug)]
pub enum RoomMessage {
    /// A message (new or edited).
    Post(Message),
    /// A deleted message (only in `/since`).
    Deleted {
        /// The message's id.
        id: u64,
        /// The update's seqno.
        seqno: u64,
    },
    /// A change of reactions only (`t=r`).
    Reactions {
        /// The message's id.
        id: u64,
        /// The update's seqno.
        seqno: u64,
        /// The message's reactions now.
        reactions: BTreeMap<String, Reaction>,
    },
}

impl RoomMessage {
    /// The message's id.
    pub fn id(&self) -> u64 {
        match self {
            RoomMessage::Post(m) => m.id,
            RoomMessage::Deleted { id, .. } | RoomMessage::Reactions { id, .. } => *id,
        }
    }

    /// The update's seqno (keep the largest as the next `since`).
    pub fn seqno(&self) -> u64 {
        match self {
            RoomMessage::Post(m) => m.seqno,
            RoomMessage::Deleted { seqno, .. } | RoomMessage::Reactions { seqno, .. } => *seqno,
        }
    }

    /// Reads one entry: a tombstone when `deleted` is `true` or `data` is `null`, a reaction
    /// update when it has exactly `id`, `seqno` and `reactions`, else a full message.
    fn from_value(value: Value) -> Option<RoomMessage> {
        let object = value.as_object()?;
        let id = object.get("id")?.as_u64()?;
        let seqno = object.get("seqno")?.as_u64()?;
        if object.get("deleted") == Some(&Value::Bool(true)) || object.get("data").is_some_and(Value::is_null) {
            return Some(RoomMessage::Deleted { id, seqno });
        }
        if object.len() == 3 && object.contains_key("reactions") {
            let reactions = reactions_from(object.get("reactions")?.clone());
            return Some(RoomMessage::Reactions { id, seqno, reactions });
        }
        Message::deserialize(value).ok().map(RoomMessage::Post)
    }
}

/// Reads a message list (`/messages/since`, `/recent`, `/before`); entries that do not read are
/// left out.
pub fn parse_messages(bytes: &[u8]) -> Result<Vec<RoomMessage>, ReplyError> {
    let values: Vec<Value> = parse_as(bytes, "messages")?;
    Ok(values.into_iter().filter_map(RoomMessage::from_value).collect())
}

/// A full message object.
#[derive(Clone, PartialEq, Debug, Deserialize)]
pub struct Message {
    /// The server's id for it.
    pub id: u64,
    /// The poster (`15…` on blinded servers).
    pub session_id: SessionId,
    /// When it was posted, unix seconds (float).
    pub posted: f64,
    /// When it was last edited.
    #[serde(default, deserialize_with = "lenient")]
    pub edited: Option<f64>,
    /// The update's seqno.
    pub seqno: u64,
    /// The padded `Content`, base64 (see [`super::post::open_post`]).
    pub data: String,
    /// The poster's signature over the padded bytes, base64.
    pub signature: String,
    /// A whisper.
    #[serde(default, deserialize_with = "lenient_flag")]
    pub whisper: bool,
    /// A whisper to the moderators.
    #[serde(default, deserialize_with = "lenient_flag")]
    pub whisper_mods: bool,
    /// The whisper's recipient.
    #[serde(default, deserialize_with = "lenient")]
    pub whisper_to: Option<SessionId>,
    /// Reactions by emoji.
    #[serde(default, deserialize_with = "lenient_reactions")]
    pub reactions: BTreeMap<String, Reaction>,
}

impl Message {
    /// Reads one message (`GET /room/<t>/message/<id>`, and the 201 reply to a post).
    pub fn parse(bytes: &[u8]) -> Result<Message, ReplyError> {
        parse_as(bytes, "message")
    }

    /// The posted time in milliseconds, as the local copy keeps it (0 for a negative time).
    pub fn posted_ms(&self) -> u64 {
        seconds_to_ms(self.posted)
    }
}

/// The reactions with one emoji.
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
pub struct Reaction {
    /// Order of first use on the message.
    #[serde(default, deserialize_with = "lenient")]
    pub index: Option<i64>,
    /// How many reacted.
    #[serde(default, deserialize_with = "lenient")]
    pub count: Option<u64>,
    /// Some of who reacted.
    #[serde(default, deserialize_with = "lenient_list")]
    pub reactors: Vec<SessionId>,
    /// Whether the caller is one of them.
    #[serde(default, deserialize_with = "lenient_flag")]
    pub you: bool,
}

/// An inbox or outbox entry (§5.3), or the 201 reply to a send (without `message`).
#[derive(Clone, PartialEq, Debug, Deserialize)]
pub struct DirectMessage {
    /// The server's id for it (keep the highest for the next `/since`).
    pub id: u64,
    /// When it was sent, unix seconds.
    #[serde(default, deserialize_with = "lenient")]
    pub posted_at: Option<f64>,
    /// When the server drops it.
    #[serde(default, deserialize_with = "lenient")]
    pub expires_at: Option<f64>,
    /// The sender's `15` id.
    pub sender: SessionId,
    /// The recipient's `15` id.
    pub recipient: SessionId,
    /// The sealed message, base64 (see [`super::dm::open_blinded_dm`]).
    #[serde(default, deserialize_with = "lenient")]
    pub message: Option<String>,
}

impl DirectMessage {
    /// Reads the 201 reply to `POST /inbox/<id>`.
    pub fn parse(bytes: &[u8]) -> Result<DirectMessage, ReplyError> {
        parse_as(bytes, "inbox send")
    }

    /// The sealed message's bytes, when present and base64.
    pub fn message_bytes(&self) -> Option<Vec<u8>> {
        STANDARD.decode(self.message.as_deref()?).ok()
    }
}

/// Reads `GET /inbox[/since/<id>]` or `/outbox[…]`: an empty body (the 304 of `/since`) is no
/// messages; entries that do not read are left out.
pub fn parse_direct_messages(bytes: &[u8]) -> Result<Vec<DirectMessage>, ReplyError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let list: Lenient<DirectMessage> = parse_as(bytes, "inbox")?;
    Ok(list.0)
}

/// One result of `POST /batch` or `/sequence`.
#[derive(Clone, PartialEq, Debug, Deserialize)]
pub struct BatchResult {
    /// The sub-request's HTTP status.
    pub code: u16,
    /// Its headers (names as sent).
    #[serde(default, deserialize_with = "lenient_headers")]
    pub headers: BTreeMap<String, String>,
    /// Its body: JSON when the sub-reply was JSON, else a base64 string.
    #[serde(default)]
    pub body: Value,
}

impl BatchResult {
    /// The body as bytes to hand to the parsers above: JSON bodies serialised again.
    pub fn body_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.body).unwrap_or_default()
    }
}

/// Reads a batch reply (a result that does not read is a typed error: positions matter).
pub fn parse_batch(bytes: &[u8]) -> Result<Vec<BatchResult>, ReplyError> {
    parse_as(bytes, "batch")
}

/// Seconds (float) to whole milliseconds, saturating; negative or NaN reads as 0.
fn seconds_to_ms(seconds: f64) -> u64 {
    let ms = (seconds * 1000.0).round();
    // `as` saturates float-to-int conversions and maps NaN to 0.
    if ms > 0.0 { ms as u64 } else { 0 }
}

fn parse_as<T: DeserializeOwned>(bytes: &[u8], reply: &'static str) -> Result<T, ReplyError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let (line, column) = (e.line(), e.column());
        match e.classify() {
            serde_json::error::Category::Data => ReplyError::Malformed { reply, line, column },
            _ => ReplyError::NotJson { reply, line, column },
        }
    })
}

/// A list whose entries that do not read are left out.
struct Lenient<T>(Vec<T>);

impl<'de, T: DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient_list(d).map(Lenient)
    }
}

/// An optional field: absent, `null` or of the wrong type reads as `None`.
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    Ok(T::deserialize(Value::deserialize(d)?).ok())
}

/// A flag: anything but `true` reads as `false`.
fn lenient_flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Value::deserialize(d)? == Value::Bool(true))
}

/// A list whose entries that do not read are left out; not a list reads as empty.
fn lenient_list<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items.into_iter().filter_map(|v| T::deserialize(v).ok()).collect(),
        _ => Vec::new(),
    })
}

fn lenient_reactions<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Reaction>, D::Error> {
    Ok(reactions_from(Value::deserialize(d)?))
}

/// Reactions by emoji; entries that do not read are left out, not an object reads as none.
fn reactions_from(value: Value) -> BTreeMap<String, Reaction> {
    match value {
        Value::Object(map) => {
            map.into_iter().filter_map(|(emoji, v)| Reaction::deserialize(v).ok().map(|r| (emoji, r))).collect()
        }
        _ => BTreeMap::new(),
    }
}

/// Headers: string values kept, others left out.
fn lenient_headers<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Object(map) => {
            map.into_iter().filter_map(|(name, v)| v.as_str().map(|v| (name, v.to_owned()))).collect()
        }
        _ => BTreeMap::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "1598932d4bccbe595a8789d7eb1629cefc483a0eaddc7e20e8fe5c771efafd9af5";

    #[test]
    fn reads_capabilities_and_rooms() {
        let caps = Capabilities::parse(br#"{"capabilities":["blind","reactions","sogs"]}"#).unwrap();
        assert!(caps.blinded());
        let caps = Capabilities::parse(br#"{"capabilities":["sogs"],"missing":["blind"]}"#).unwrap();
        assert!(!caps.blinded());
        assert_eq!(caps.missing, ["blind"]);
        assert!(matches!(Capabilities::parse(b"{}"), Err(ReplyError::Malformed { .. })));
        assert!(matches!(Capabilities::parse(b"{"), Err(ReplyError::NotJson { .. })));

        let room = format!(
            r#"{{"token":"lobby","name":"Lobby","info_updates":3,"message_sequence":7,"created":1.5,
            "active_users":2,"active_users_cutoff":604800,"image_id":"x","moderators":["{ID}","zz"],"admins":[],
            "pinned_messages":[{{"id":4,"pinned_at":1.0,"pinned_by":"{ID}"}},{{"id":-1}}],
            "read":true,"write":true,"upload":false,"moderator":1}}"#
        );
        let room = Room::parse(room.as_bytes()).unwrap();
        assert_eq!((room.token.as_str(), room.info_updates, room.message_sequence), ("lobby", 3, Some(7)));
        assert_eq!(room.image_id, None);
        assert_eq!(room.moderators.len(), 1);
        assert_eq!(room.pinned_messages.len(), 1);
        assert_eq!(
            room.rights,
            Rights { read: true, write: true, upload: false, moderator: false, admin: false, ..Default::default() }
        );
        let rooms = parse_rooms(br#"[{"token":"a","name":"A","info_updates":0},{"token":"b"}]"#).unwrap();
        assert_eq!(rooms.len(), 1);

        let poll = PollInfo::parse(
            br#"{"token":"a","active_users":1,"read":true,"write":false,"upload":false,
            "details":{"token":"a","name":"A","info_updates":2}}"#,
        )
        .unwrap();
        assert_eq!(poll.details.map(|d| d.info_updates), Some(2));
        assert!(poll.rights.read && !poll.rights.write);
    }

    #[test]
    fn reads_the_three_kinds_of_message_entries() {
        let list = format!(
            r#"[{{"id":1,"session_id":"{ID}","posted":1700000000.123,"seqno":5,"data":"AA==","signature":"BB==",
            "reactions":{{"👍":{{"index":0,"count":3,"reactors":["{ID}"],"you":true}},"x":5}}}},
            {{"id":2,"session_id":"{ID}","posted":1.0,"seqno":6,"data":null,"deleted":true}},
            {{"id":3,"seqno":7,"reactions":{{}}}},
            {{"id":4,"session_id":"nope","posted":1.0,"seqno":8,"data":"AA==","signature":"AA=="}},
            {{"id":"5","seqno":9}},
            7]"#
        );
        let messages = parse_messages(list.as_bytes()).unwrap();
        assert_eq!(messages.len(), 3);
        let Some(RoomMessage::Post(post)) = messages.first() else { panic!("{messages:?}") };
        assert_eq!(post.posted_ms(), 1_700_000_000_123);
        assert_eq!(post.reactions.len(), 1);
        assert!(post.reactions["👍"].you);
        assert_eq!(messages[1], RoomMessage::Deleted { id: 2, seqno: 6 });
        assert_eq!(messages[2], RoomMessage::Reactions { id: 3, seqno: 7, reactions: BTreeMap::new() });
        assert_eq!(messages.iter().map(RoomMessage::seqno).max(), Some(7));
        assert_eq!(messages.iter().map(RoomMessage::id).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(matches!(parse_messages(b"{}"), Err(ReplyError::Malformed { .. })));
        let single = format!(r#"{{"id":1,"session_id":"{ID}","posted":-3,"seqno":5,"data":"","signature":""}}"#);
        assert_eq!(Message::parse(single.as_bytes()).unwrap().posted_ms(), 0);
    }

    #[test]
    fn reads_inbox_entries_and_batches() {
        let entry = format!(
            r#"{{"id":9,"posted_at":1.5,"expires_at":2.5,"sender":"{ID}","recipient":"{ID}","message":"AAEC"}}"#
        );
        let list = parse_direct_messages(format!("[{entry},{{\"id\":1}}]").as_bytes()).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].message_bytes(), Some(vec![0, 1, 2]));
        assert_eq!(parse_direct_messages(b"").unwrap(), []);
        let sent = DirectMessage::parse(
            format!(r#"{{"id":9,"posted_at":1.5,"expires_at":2.5,"sender":"{ID}","recipient":"{ID}"}}"#).as_bytes(),
        )
        .unwrap();
        assert_eq!(sent.message_bytes(), None);

        let batch = parse_batch(
            br#"[{"code":200,"headers":{"content-type":"application/json","x":1},"body":{"capabilities":["sogs"]}},
            {"code":304,"body":""}]"#,
        )
        .unwrap();
        assert_eq!(batch[0].headers.len(), 1);
        assert_eq!(Capabilities::parse(&batch[0].body_json()).unwrap().capabilities, ["sogs"]);
        assert_eq!(batch[1].code, 304);
        assert!(parse_batch(br#"[{"code":"200"}]"#).is_err());
    }

    #[test]
    fn seconds_convert_to_milliseconds_without_panicking() {
        assert_eq!(seconds_to_ms(1.0005), 1001);
        assert_eq!(seconds_to_ms(f64::NAN), 0);
        assert_eq!(seconds_to_ms(f64::INFINITY), u64::MAX);
        assert_eq!(seconds_to_ms(-1.0), 0);
    }
}
