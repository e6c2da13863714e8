//! Communities (SOGS v4, protocol-communities): joining rooms by URL, reading them (kept in the
//! vault, older pages fetched from the server when the vault has no more), posting text, replies
//! and room files, reactions, edits and deletions, and blinded DMs through a server's inbox.
//!
//! Every request goes through an onion path ([`request`]): the server sees the path's last hop.
//! Polling is one `POST /batch` per server about every [`POLL_EVERY`] (each room's poll info and
//! new messages, then the inbox and outbox), and at once when a room is opened.
//!
//! Every post's signature is checked against its poster's id (`15`, `25`, or `05` by XEd25519);
//! a post that does not verify is dropped. Posts are signed, not encrypted: a room is public to
//! whoever may read it.
//!
//! In the vault (store [`stores::COMMUNITIES`]), every record sealed: the list of joined rooms,
//! one record per room (details, unread count, the last seqno seen), each room's ids in order, one
//! record per message, and per server the last inbox and outbox ids.

mod request;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crypto_core::community::reply::{
    self, DirectMessage, Message as ServerMessage, PollInfo, Room, RoomMessage as Update,
};
use crypto_core::community::{
    BlindedKeys, CommunityUrl, inbox_body, open_blinded_dm, open_post, seal_blinded_dm, sign_post,
};
use crypto_core::identity::{IdPrefix, SessionId};
use crypto_core::wire::{AttachmentPointer, Content, DataMessage, LokiProfile, Quote};
use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::conversations::{Invitation, Message, Standing};
use crate::error::Error;
use crate::event::Event;
use crate::files::NewFile;
use crate::platform::{Clock, Platform};
use crate::session::Session;
use crate::storage::stores;
use crate::{MAX_CHARS, images, inbox, messaging, text};

pub use request::DEADLINE;
use request::{Body, call, refused};

/// How often each server is polled while the engine runs (Session's desktop: 10 s).
pub const POLL_EVERY: Duration = Duration::from_secs(10);
/// Messages asked for at once when a room is first read, or a page further back.
pub const PAGE: usize = 100;
/// The most updates one poll asks for per room (the server's maximum).
const SINCE_LIMIT: usize = 256;
/// Reactors listed per emoji.
const REACTORS: u32 = 5;
/// The largest room file (the server's limit).
pub const MAX_ROOM_FILE: usize = 10_000_000;

/// A joined room, as the community list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Community {
    /// The room's URL (canonical: `server/room?public_key=…`): how every call names it.
    pub url: String,
    /// The server's base URL.
    pub server: String,
    /// The room's token.
    pub token: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Messages from others that arrived while the room was not open.
    pub unread: u32,
    /// This account's blinded id on the server (what others see).
    pub me: SessionId,
    /// The room's visible moderators (a badge beside their posts).
    pub moderators: Vec<SessionId>,
    /// The room's visible admins (a badge too).
    pub admins: Vec<SessionId>,
    /// Whether this account may read, write and upload files.
    pub read: bool,
    /// See [`Community::read`].
    pub write: bool,
    /// See [`Community::read`].
    pub upload: bool,
    /// Whether this account moderates the room (may delete others' posts).
    pub moderator: bool,
    /// Whether this account is an admin of the room (may also set its picture).
    #[serde(default)]
    pub admin: bool,
    /// When the newest message was posted (ms).
    pub last_posted: u64,
    /// The server's counter of room changes (what poll info compares).
    #[serde(default)]
    pub info_updates: i64,
    /// The room's picture: its room file's id (see `Engine::room_image`).
    #[serde(default)]
    pub image: Option<u64>,
    /// The ids of its pinned messages, in the order pinned.
    #[serde(default)]
    pub pinned: Vec<u64>,
}

impl Community {
    /// Whether `id` moderates or administers the room.
    pub fn is_moderator(&self, id: &SessionId) -> bool {
        self.moderators.contains(id) || self.admins.contains(id)
    }
}

/// A room's record: its list entry and where reading stands.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct RoomRecord {
    community: Community,
    /// The largest seqno seen (the next poll asks for updates after it); none before the first.
    since: Option<u64>,
    /// Whether the vault holds the room's history back to its first message.
    complete: bool,
    /// This account's posts filed when posted and not yet seen by a poll. A post made and deleted
    /// (by a moderator) after the last seqno seen comes back as nothing at all, not as a
    /// tombstone: one a complete poll does not list is gone.
    #[serde(default)]
    unseen: Vec<u64>,
}

/// Where a server's inbox and outbox stand.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct ServerRecord {
    inbox: Option<u64>,
    outbox: Option<u64>,
}

/// A file of a room message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomFile {
    /// Its id on the server (fetch it with `Engine::room_file`).
    pub id: u64,
    /// Its name.
    pub file_name: Option<String>,
    /// Its MIME type.
    pub content_type: String,
    /// Its size in bytes, as the poster said.
    pub size: u64,
    /// A picture's width and height, as the poster said.
    pub width: Option<u32>,
    /// See [`RoomFile::width`].
    pub height: Option<u32>,
}

/// A reaction to a room message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomReaction {
    /// The emoji.
    pub emoji: String,
    /// How many reacted with it.
    pub count: u64,
    /// Whether this account did.
    pub you: bool,
}

/// What a reply says of the message it answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomQuote {
    /// Who wrote it.
    pub author: SessionId,
    /// When it was posted (ms).
    pub timestamp: u64,
    /// The start of its text.
    pub text: String,
}

/// A room message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomMessage {
    /// Its room's URL.
    pub room: String,
    /// Its id on the server (ids grow with time).
    pub id: u64,
    /// Who posted it: their blinded id (`15…`) on this server.
    pub sender: SessionId,
    /// Their display name, as the post carried it.
    pub sender_name: Option<String>,
    /// Posted by this account.
    pub mine: bool,
    /// Whether the poster moderates the room (as the room lists them when read).
    pub moderator: bool,
    /// When it was posted (ms).
    pub posted: u64,
    /// When it was last edited (ms).
    pub edited: Option<u64>,
    /// Its text (inert).
    pub body: String,
    /// The message it replies to.
    pub quote: Option<RoomQuote>,
    /// Its files.
    pub files: Vec<RoomFile>,
    /// Its reactions, in the server's order.
    pub reactions: Vec<RoomReaction>,
}

/// The community URL `text` is (`server/room?public_key=…`, spaces around it ignored), or why not.
pub fn parse_url(text: &str) -> Result<CommunityUrl, Error> {
    CommunityUrl::parse(text.trim()).map_err(Error::CommunityUrl)
}

/// A room's key in the records: the server's key and the token.
fn room_key(url: &CommunityUrl) -> String {
    format!("{}/{}", hex::encode(url.server_key()), url.room())
}

fn record_id(kind: &str, key: &str) -> Vec<u8> {
    format!("{kind}/{key}").into_bytes()
}

fn message_id(key: &str, id: u64) -> Vec<u8> {
    format!("msg/{key}/{id}").into_bytes()
}

const LIST: &[u8] = b"list";

async fn list<P: Platform>(session: &Session<P>) -> Vec<String> {
    session.load(stores::COMMUNITIES, LIST).await.unwrap_or_default()
}

async fn room<P: Platform>(session: &Session<P>, key: &str) -> Option<RoomRecord> {
    session.load(stores::COMMUNITIES, &record_id("room", key)).await
}

async fn save_room<P: Platform>(session: &Session<P>, key: &str, room: &RoomRecord) -> Result<(), Error> {
    session.save(stores::COMMUNITIES, &record_id("room", key), room).await.map_err(Error::NotKept)
}

async fn ids<P: Platform>(session: &Session<P>, key: &str) -> Vec<u64> {
    session.load(stores::COMMUNITIES, &record_id("ids", key)).await.unwrap_or_default()
}

async fn save_ids<P: Platform>(session: &Session<P>, key: &str, ids: &[u64]) -> Result<(), Error> {
    session.save(stores::COMMUNITIES, &record_id("ids", key), &ids).await.map_err(Error::NotKept)
}

/// The joined room `url` names, or [`Error::NotJoined`].
async fn joined<P: Platform>(session: &Session<P>, text: &str) -> Result<(CommunityUrl, String, RoomRecord), Error> {
    let url = parse_url(text)?;
    let key = room_key(&url);
    let record = room(session, &key).await.ok_or(Error::NotJoined)?;
    Ok((url, key, record))
}

fn seconds_ms(seconds: f64) -> u64 {
    let ms = (seconds * 1000.0).round();
    // `as` saturates, and maps NaN to 0.
    if ms > 0.0 { ms as u64 } else { 0 }
}

/// The list entry for `room` on the server of `url`, keeping what `old` counted.
fn community_of<P: Platform>(
    session: &Session<P>,
    url: &CommunityUrl,
    room: &Room,
    old: Option<&Community>,
) -> Community {
    Community {
        url: url.to_string(),
        server: url.server(),
        token: url.room().to_owned(),
        name: text::name(&room.name).unwrap_or_else(|| url.room().to_owned()),
        description: room.description.as_deref().map(|d| text::body(d).0),
        unread: old.map_or(0, |c| c.unread),
        me: BlindedKeys::blind15(&session.identity, url.server_key()).id(),
        moderators: room.moderators.clone(),
        admins: room.admins.clone(),
        read: room.rights.read,
        write: room.rights.write,
        upload: room.rights.upload,
        moderator: room.rights.moderator
            || room.rights.admin
            || room.rights.global_moderator
            || room.rights.global_admin,
        admin: room.rights.admin || room.rights.global_admin,
        last_posted: old.map_or(0, |c| c.last_posted),
        info_updates: room.info_updates,
        image: room.image_id,
        pinned: room.pinned_messages.iter().map(|p| p.id).collect(),
    }
}

/// Joins the room at `text` (a community URL): its details fetched through an onion path, the
/// room kept in the vault, then its latest messages fetched. Joining a joined room refreshes it.
pub(crate) async fn join<P: Platform>(session: &Session<P>, text: &str) -> Result<Community, Error> {
    let url = parse_url(text)?;
    let key = room_key(&url);
    let path = format!("/room/{}", url.room());
    let answer = call(session, &url, "GET", &path, Body::Empty).await?;
    if answer.code != 200 {
        return Err(refused(answer.code));
    }
    let details = Room::parse(&answer.body).map_err(|_| Error::CommunityRefused { status: answer.code })?;
    {
        let _lock = session.communities.lock.lock().await;
        let old = room(session, &key).await;
        let community = community_of(session, &url, &details, old.as_ref().map(|r| &r.community));
        let record = match old {
            Some(old) => RoomRecord { community, ..old },
            None => RoomRecord { community, since: None, complete: false, unseen: Vec::new() },
        };
        save_room(session, &key, &record).await?;
        let mut rooms = list(session).await;
        let canonical = url.to_string();
        if !rooms.contains(&canonical) {
            rooms.push(canonical);
            session.save(stores::COMMUNITIES, LIST, &rooms).await.map_err(Error::NotKept)?;
        }
    }
    session.emit(Event::Communities);
    // The room opens with its messages; a failure here leaves them to the next poll.
    let _ = poll_server(session, &url).await;
    room(session, &key).await.map(|r| r.community).ok_or(Error::NotJoined)
}

/// Invites `peer` (a Session ID) to the joined room `room` (its URL): a message with the room's
/// canonical URL and name, sent and filed as any other.
pub(crate) async fn invite<P: Platform>(session: &Session<P>, peer: &SessionId, room: &str) -> Result<Message, Error> {
    if is_blinded(peer) {
        return Err(Error::TextOnlyThroughCommunity);
    }
    let (url, _, record) = joined(session, room).await?;
    let invitation = Invitation { url: url.to_string(), name: record.community.name };
    messaging::send_invitation(session, peer, invitation).await
}

/// Leaves the room: its records and messages leave this device.
pub(crate) async fn leave<P: Platform>(session: &Session<P>, text: &str) -> Result<(), Error> {
    let url = parse_url(text)?;
    let key = room_key(&url);
    {
        let _lock = session.communities.lock.lock().await;
        let canonical = url.to_string();
        let mut rooms = list(session).await;
        rooms.retain(|r| *r != canonical);
        session.save(stores::COMMUNITIES, LIST, &rooms).await.map_err(Error::NotKept)?;
        for id in ids(session, &key).await {
            session.kept(session.remove(stores::COMMUNITIES, &message_id(&key, id)).await);
        }
        session.kept(session.remove(stores::COMMUNITIES, &record_id("ids", &key)).await);
        session.kept(session.remove(stores::COMMUNITIES, &record_id("room", &key)).await);
        free_files(session, &key).await;
        if session.communities.viewing.borrow().as_deref() == Some(key.as_str()) {
            *session.communities.viewing.borrow_mut() = None;
        }
    }
    session.emit(Event::Communities);
    Ok(())
}

/// Every joined room, in the order joined.
pub(crate) async fn communities<P: Platform>(session: &Session<P>) -> Vec<Community> {
    let mut out = Vec::new();
    for text in list(session).await {
        let Ok(url) = parse_url(&text) else { continue };
        if let Some(record) = room(session, &room_key(&url)).await {
            out.push(record.community);
        }
    }
    out
}

/// The room's messages before the message `before` (none: the newest), at most `limit`, oldest
/// first, and whether older ones exist. When the vault has fewer, an older page is fetched from
/// the server first.
pub(crate) async fn messages<P: Platform>(
    session: &Session<P>,
    text: &str,
    before: Option<u64>,
    limit: usize,
) -> Result<(Vec<RoomMessage>, bool), Error> {
    let (url, key, _) = joined(session, text).await?;
    let _lock = session.communities.lock.lock().await;
    let mut all = ids(session, &key).await;
    let mut earlier: Vec<u64> = all.iter().copied().filter(|id| before.is_none_or(|b| *id < b)).collect();
    let mut record = room(session, &key).await.ok_or(Error::NotJoined)?;
    if earlier.len() < limit && !record.complete {
        let oldest = all.first().copied().or(before);
        let want = (limit - earlier.len()).clamp(1, SINCE_LIMIT);
        let path = match oldest {
            Some(id) => format!("/room/{}/messages/before/{id}?limit={want}&reactors={REACTORS}", url.room()),
            None => format!("/room/{}/messages/recent?limit={want}&reactors={REACTORS}", url.room()),
        };
        let answer = call(session, &url, "GET", &path, Body::Empty).await?;
        if answer.code != 200 {
            return Err(refused(answer.code));
        }
        let got = reply::parse_messages(&answer.body).map_err(|_| Error::CommunityRefused { status: answer.code })?;
        record.complete = got.len() < want;
        let mut changed = Changes::default();
        for entry in got {
            if let Update::Post(m) = entry {
                file_post(session, &key, &record.community, &m, &mut all, &mut changed, false).await?;
            }
        }
        save_ids(session, &key, &all).await?;
        save_room(session, &key, &record).await?;
        earlier = all.iter().copied().filter(|id| before.is_none_or(|b| *id < b)).collect();
    }
    let start = earlier.len().saturating_sub(limit);
    let older = start > 0 || !record.complete;
    let mut out = Vec::with_capacity(earlier.len() - start);
    for id in earlier.get(start..).unwrap_or_default() {
        if let Some(mut m) = session.load::<RoomMessage>(stores::COMMUNITIES, &message_id(&key, *id)).await {
            m.moderator = record.community.is_moderator(&m.sender);
            out.push(m);
        }
    }
    Ok((out, older))
}

/// Opens the room (none: closes the one open): its messages arrive read, its unread count is
/// cleared, and its server is polled at once.
pub(crate) async fn open<P: Platform>(session: &Session<P>, text: Option<&str>) -> Result<(), Error> {
    let Some(text) = text else {
        *session.communities.viewing.borrow_mut() = None;
        return Ok(());
    };
    let (url, key, _) = joined(session, text).await?;
    *session.communities.viewing.borrow_mut() = Some(key.clone());
    mark_read(session, text).await?;
    poll_server(session, &url).await
}

/// Clears the room's unread count.
pub(crate) async fn mark_read<P: Platform>(session: &Session<P>, text: &str) -> Result<(), Error> {
    let (_, key, _) = joined(session, text).await?;
    let _lock = session.communities.lock.lock().await;
    let Some(mut record) = room(session, &key).await else { return Err(Error::NotJoined) };
    if record.community.unread != 0 {
        record.community.unread = 0;
        save_room(session, &key, &record).await?;
        session.emit(Event::Communities);
    }
    Ok(())
}

/// What a poll changed, to tell once at its end.
#[derive(Default)]
struct Changes {
    rooms: BTreeSet<String>,
    list: bool,
    conversations: bool,
}

/// Reads a post into a room message; `None` when its signature does not verify or it carries no
/// visible message.
fn room_message(community: &Community, m: &ServerMessage) -> Option<RoomMessage> {
    let content = open_post(&m.session_id, &m.data, &m.signature).ok()?;
    let data = content.data_message?;
    let body = text::body(data.body.as_deref().unwrap_or_default()).0;
    let quote = data.quote.and_then(|q| {
        Some(RoomQuote {
            author: q.author.as_deref()?.parse().ok()?,
            timestamp: q.id?,
            text: text::body(q.text.as_deref().unwrap_or_default()).0.chars().take(200).collect(),
        })
    });
    let files: Vec<RoomFile> = data
        .attachments
        .iter()
        .filter_map(|a| {
            // The id is the URL's last segment (desktop's `/room/<t>/file/<id>`, Android's
            // `/file/<id>`), else the pointer's id.
            let from_url = a.url.as_deref().and_then(|u| u.rsplit('/').next()).and_then(|s| s.parse().ok());
            Some(RoomFile {
                id: from_url.or(a.id)?,
                file_name: a.file_name.as_deref().and_then(crate::attachments::file_name),
                content_type: a.content_type.clone().unwrap_or_else(|| "application/octet-stream".into()),
                size: u64::from(a.size.unwrap_or(0)),
                width: a.width,
                height: a.height,
            })
        })
        .collect();
    if body.is_empty() && files.is_empty() {
        return None;
    }
    Some(RoomMessage {
        room: community.url.clone(),
        id: m.id,
        sender: m.session_id,
        sender_name: data.profile.and_then(|p| p.display_name).and_then(|n| text::name(&n)),
        mine: m.session_id == community.me,
        moderator: false,
        posted: m.posted_ms(),
        edited: m.edited.map(seconds_ms),
        body,
        quote,
        files,
        reactions: reactions_of(&m.reactions),
    })
}

fn reactions_of(reactions: &BTreeMap<String, reply::Reaction>) -> Vec<RoomReaction> {
    let mut out: Vec<(i64, RoomReaction)> = reactions
        .iter()
        .filter(|(_, r)| r.count.unwrap_or(0) > 0)
        .map(|(emoji, r)| {
            (
                r.index.unwrap_or(i64::MAX),
                RoomReaction { emoji: emoji.clone(), count: r.count.unwrap_or(0), you: r.you },
            )
        })
        .collect();
    out.sort_by_key(|(index, _)| *index);
    out.into_iter().map(|(_, r)| r).collect()
}

/// Files one post (new or edited); `fresh` posts from others count as unread unless the room is
/// open. Unverifiable posts are dropped.
async fn file_post<P: Platform>(
    session: &Session<P>,
    key: &str,
    community: &Community,
    m: &ServerMessage,
    ids: &mut Vec<u64>,
    changes: &mut Changes,
    fresh: bool,
) -> Result<Option<RoomMessage>, Error> {
    let Some(msg) = room_message(community, m) else { return Ok(None) };
    let known = match ids.binary_search(&m.id) {
        Ok(_) => true,
        Err(at) => {
            ids.insert(at, m.id);
            false
        }
    };
    session.save(stores::COMMUNITIES, &message_id(key, m.id), &msg).await.map_err(Error::NotKept)?;
    changes.rooms.insert(key.to_owned());
    Ok((!known && fresh).then_some(msg))
}

/// Polls every joined room: one batched request per server.
pub(crate) async fn poll_all<P: Platform>(session: &Session<P>) -> Result<(), Error> {
    let mut servers: BTreeMap<[u8; 32], CommunityUrl> = BTreeMap::new();
    for text in list(session).await {
        if let Ok(url) = parse_url(&text) {
            servers.entry(*url.server_key()).or_insert(url);
        }
    }
    let mut result = Ok(());
    for url in servers.values() {
        if let Err(e) = poll_server(session, url).await {
            result = Err(e);
        }
    }
    result
}

/// What each sub-request of a poll asked for.
enum Asked {
    Info(String),
    Messages(String),
    Inbox,
    Outbox,
}

/// Polls the server of `url` once: one `POST /batch` with each joined room's poll info and new
/// messages, then the inbox and outbox.
pub(crate) async fn poll_server<P: Platform>(session: &Session<P>, url: &CommunityUrl) -> Result<(), Error> {
    let _lock = session.communities.lock.lock().await;
    let server_hex = hex::encode(url.server_key());
    let mut rooms: Vec<(CommunityUrl, String, RoomRecord)> = Vec::new();
    for text in list(session).await {
        let Ok(u) = parse_url(&text) else { continue };
        if u.server_key() != url.server_key() {
            continue;
        }
        let key = room_key(&u);
        if let Some(record) = room(session, &key).await {
            rooms.push((u, key, record));
        }
    }
    let server: ServerRecord =
        session.load(stores::COMMUNITIES, &record_id("server", &server_hex)).await.unwrap_or_default();
    let mut batch = Vec::new();
    let mut asked = Vec::new();
    for (u, key, record) in &rooms {
        let token = u.room();
        batch.push(
            json!({"method": "GET", "path": format!("/room/{token}/pollInfo/{}", record.community.info_updates)}),
        );
        asked.push(Asked::Info(key.clone()));
        let path = match record.since {
            Some(seqno) => format!("/room/{token}/messages/since/{seqno}?t=r&reactors={REACTORS}&limit={SINCE_LIMIT}"),
            None => format!("/room/{token}/messages/recent?reactors={REACTORS}&limit={PAGE}"),
        };
        batch.push(json!({"method": "GET", "path": path}));
        asked.push(Asked::Messages(key.clone()));
    }
    let since = |what: &str, id: Option<u64>| match id {
        Some(id) => format!("/{what}/since/{id}"),
        None => format!("/{what}"),
    };
    batch.push(json!({"method": "GET", "path": since("inbox", server.inbox)}));
    asked.push(Asked::Inbox);
    batch.push(json!({"method": "GET", "path": since("outbox", server.outbox)}));
    asked.push(Asked::Outbox);

    let body = Value::Array(batch).to_string();
    session.communities.polls.set(session.communities.polls.get() + 1);
    let answer = call(session, url, "POST", "/batch", Body::Json(body.as_bytes())).await?;
    if answer.code != 200 {
        return Err(refused(answer.code));
    }
    let results = reply::parse_batch(&answer.body).map_err(|_| Error::CommunityRefused { status: answer.code })?;

    let mut changes = Changes::default();
    let mut server = server;
    let viewing = session.communities.viewing.borrow().clone();
    for (result, what) in results.iter().zip(&asked) {
        match what {
            Asked::Info(key) => {
                let Some((u, _, _)) = rooms.iter().find(|(_, k, _)| k == key) else { continue };
                if result.code != 200 {
                    continue;
                }
                let Ok(info) = PollInfo::parse(&result.body_json()) else { continue };
                let Some(mut record) = room(session, key).await else { continue };
                let before = record.community.clone();
                apply_info(session, u, &mut record, &info);
                if record.community != before {
                    save_room(session, key, &record).await?;
                    changes.list = true;
                    changes.rooms.insert(key.clone());
                }
            }
            Asked::Messages(key) => {
                if result.code != 200 {
                    continue;
                }
                let Ok(entries) = reply::parse_messages(&result.body_json()) else { continue };
                let Some(mut record) = room(session, key).await else { continue };
                let first = record.since.is_none();
                let mut all = ids(session, key).await;
                let mut fresh = 0u32;
                // `recent` is newest first: file oldest first.
                let mut entries = entries;
                entries.sort_by_key(Update::seqno);
                let listed: BTreeSet<u64> = entries.iter().map(Update::id).collect();
                for entry in &entries {
                    record.since = Some(record.since.unwrap_or(0).max(entry.seqno()));
                    match entry {
                        Update::Post(m) => {
                            let filed =
                                file_post(session, key, &record.community, m, &mut all, &mut changes, !first).await?;
                            if let Some(msg) = filed {
                                record.community.last_posted = record.community.last_posted.max(msg.posted);
                                if !msg.mine && viewing.as_deref() != Some(key.as_str()) {
                                    fresh += 1;
                                }
                            } else if let Some(msg) = room_message(&record.community, m) {
                                record.community.last_posted = record.community.last_posted.max(msg.posted);
                            }
                        }
                        Update::Deleted { id, .. } => {
                            if let Ok(at) = all.binary_search(id) {
                                all.remove(at);
                                session.kept(session.remove(stores::COMMUNITIES, &message_id(key, *id)).await);
                                changes.rooms.insert(key.clone());
                            }
                        }
                        Update::Reactions { id, reactions, .. } => {
                            let mid = message_id(key, *id);
                            if let Some(mut msg) = session.load::<RoomMessage>(stores::COMMUNITIES, &mid).await {
                                msg.reactions = reactions_of(reactions);
                                session.save(stores::COMMUNITIES, &mid, &msg).await.map_err(Error::NotKept)?;
                                changes.rooms.insert(key.clone());
                            }
                        }
                    }
                }
                let unseen = record.unseen.len();
                let whole = entries.len() < if first { PAGE } else { SINCE_LIMIT };
                let mut gone = Vec::new();
                record.unseen.retain(|id| {
                    let keep = !listed.contains(id) && !whole;
                    if !listed.contains(id) && whole {
                        gone.push(*id);
                    }
                    keep
                });
                for id in gone {
                    if let Ok(at) = all.binary_search(&id) {
                        all.remove(at);
                        session.kept(session.remove(stores::COMMUNITIES, &message_id(key, id)).await);
                        changes.rooms.insert(key.clone());
                    }
                }
                if first {
                    // The first read holds the newest page: older ones are fetched when read.
                    record.complete = entries.len() < PAGE;
                    if record.since.is_none() {
                        record.since = Some(0);
                    }
                }
                if fresh > 0 {
                    record.community.unread = record.community.unread.saturating_add(fresh);
                    changes.list = true;
                }
                if !entries.is_empty() || first || unseen != record.unseen.len() {
                    save_ids(session, key, &all).await?;
                    save_room(session, key, &record).await?;
                }
            }
            Asked::Inbox | Asked::Outbox => {
                // 304: nothing new.
                if result.code != 200 {
                    continue;
                }
                let Ok(list) = reply::parse_direct_messages(&result.body_json()) else { continue };
                let outgoing = matches!(what, Asked::Outbox);
                for dm in &list {
                    let last = if outgoing { &mut server.outbox } else { &mut server.inbox };
                    *last = Some(last.unwrap_or(0).max(dm.id));
                    if file_dm(session, url, dm).await? {
                        changes.conversations = true;
                    }
                }
                if !list.is_empty() {
                    session
                        .save(stores::COMMUNITIES, &record_id("server", &server_hex), &server)
                        .await
                        .map_err(Error::NotKept)?;
                }
            }
        }
    }
    drop(_lock);
    for key in &changes.rooms {
        if let Some((u, _, _)) = rooms.iter().find(|(_, k, _)| k == key) {
            session.emit(Event::Community { room: u.to_string() });
        }
    }
    if changes.list {
        session.emit(Event::Communities);
    }
    if changes.conversations {
        session.emit(Event::Conversations);
    }
    Ok(())
}

fn apply_info<P: Platform>(session: &Session<P>, url: &CommunityUrl, record: &mut RoomRecord, info: &PollInfo) {
    let c = &mut record.community;
    match &info.details {
        Some(details) => *c = community_of(session, url, details, Some(c)),
        None => {
            c.read = info.rights.read;
            c.write = info.rights.write;
            c.upload = info.rights.upload;
            c.moderator =
                info.rights.moderator || info.rights.admin || info.rights.global_moderator || info.rights.global_admin;
        }
    }
}

/// The DM conversation's record of the server a blinded peer is reached through.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct DmPeer {
    /// A room URL of that server (its key and address).
    url: String,
}

/// A blinded DM's id in the conversation: the server's key (start) and the server's DM id.
fn dm_message_id(url: &CommunityUrl, id: u64) -> String {
    format!("dm/{}/{id}", hex::encode(url.server_key().get(..8).unwrap_or_default()))
}

/// Files an inbox or outbox entry into the conversation with the other side's blinded id: an
/// incoming one from someone new is a message request. Whether something was filed.
async fn file_dm<P: Platform>(session: &Session<P>, url: &CommunityUrl, dm: &DirectMessage) -> Result<bool, Error> {
    let Some(bytes) = dm.message_bytes() else { return Ok(false) };
    let Ok(opened) = open_blinded_dm(&session.identity, url.server_key(), &dm.sender, &dm.recipient, &bytes) else {
        return Ok(false);
    };
    let peer = if opened.outgoing { dm.recipient } else { dm.sender };
    let id = dm_message_id(url, dm.id);
    if session.load::<Message>(stores::MESSAGES, id.as_bytes()).await.is_some() {
        return Ok(false);
    }
    let Some(data) = opened.content.data_message else { return Ok(false) };
    let body = text::body(data.body.as_deref().unwrap_or_default()).0;
    if body.is_empty() {
        return Ok(false);
    }
    let existing = crate::conversations::conversation(&session.vault, &peer).await.ok().flatten();
    if existing.as_ref().is_some_and(|c| c.standing == Standing::Blocked) {
        return Ok(false);
    }
    remember_peer(session, &peer, url).await?;
    let name =
        if opened.outgoing { None } else { data.profile.and_then(|p| p.display_name).and_then(|n| text::name(&n)) };
    let posted = dm.posted_at.map_or_else(|| session.client.now(), seconds_ms);
    let sender_name = if opened.outgoing { Some(session.account.borrow().display_name.clone()) } else { name.clone() };
    let msg = Message::filed(id, &peer, opened.outgoing, body, posted, sender_name);
    let standing = if opened.outgoing { Standing::Accepted } else { Standing::Request };
    inbox::record(session, &msg, name, !opened.outgoing, standing).await.map_err(Error::NotKept)?;
    session.emit(Event::Message { message: msg, arrived: !opened.outgoing });
    Ok(true)
}

async fn remember_peer<P: Platform>(session: &Session<P>, peer: &SessionId, url: &CommunityUrl) -> Result<(), Error> {
    let record = DmPeer { url: url.to_string() };
    session.save(stores::COMMUNITIES, &record_id("dm", &peer.to_string()), &record).await.map_err(Error::NotKept)
}

/// Opens a DM with the room member `blinded` through the room's server: the conversation (keyed
/// by their blinded id) is made, and what is sent to it goes to their inbox there.
pub(crate) async fn message_member<P: Platform>(
    session: &Session<P>,
    text: &str,
    blinded: &SessionId,
) -> Result<crate::conversations::Conversation, Error> {
    let (url, _, _) = joined(session, text).await?;
    if blinded.prefix() != IdPrefix::BlindedLegacy {
        return Err(Error::NotBlinded);
    }
    remember_peer(session, blinded, &url).await?;
    messaging::change(session, blinded, |_| {}).await
}

/// Whether `peer` is reached through a community server's inbox.
pub(crate) fn is_blinded(peer: &SessionId) -> bool {
    matches!(peer.prefix(), IdPrefix::BlindedLegacy | IdPrefix::Blinded)
}

/// The room URL whose server the DM conversation with the blinded `peer` goes through.
pub(crate) async fn dm_room<P: Platform>(session: &Session<P>, peer: &SessionId) -> Option<String> {
    let record: DmPeer = session.load(stores::COMMUNITIES, &record_id("dm", &peer.to_string())).await?;
    Some(record.url)
}

/// Whether the message `id` (of a conversation) went through a community server's inbox.
pub(crate) fn is_dm_message(id: &str) -> bool {
    id.starts_with("dm/")
}

/// Sends `body` to the blinded `peer` through their server's inbox, at once (not through the
/// outbox: it needs the network now), and files it.
pub(crate) async fn send_dm<P: Platform>(session: &Session<P>, peer: &SessionId, body: &str) -> Result<Message, Error> {
    if body.trim().is_empty() {
        return Err(Error::EmptyMessage);
    }
    if body.chars().count() > MAX_CHARS {
        return Err(Error::TooLong { max: MAX_CHARS });
    }
    let record: DmPeer =
        session.load(stores::COMMUNITIES, &record_id("dm", &peer.to_string())).await.ok_or(Error::NotBlinded)?;
    let url = parse_url(&record.url)?;
    let name = session.account.borrow().display_name.clone();
    let content = Content {
        data_message: Some(DataMessage {
            body: Some(body.to_owned()),
            profile: Some(LokiProfile { display_name: Some(name.clone()), ..Default::default() }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let sealed = seal_blinded_dm(&mut OsRng, &session.identity, url.server_key(), peer, &content)
        .map_err(|_| Error::Encryption)?;
    let payload = inbox_body(&sealed);
    let answer = call(session, &url, "POST", &format!("/inbox/{peer}"), Body::Json(payload.as_bytes())).await?;
    if answer.code != 201 {
        return Err(refused(answer.code));
    }
    let sent = DirectMessage::parse(&answer.body).ok();
    let id = sent.as_ref().map_or_else(|| format!("dm/out/{}", session.client.now()), |s| dm_message_id(&url, s.id));
    let posted = sent.and_then(|s| s.posted_at).map_or_else(|| session.client.now(), seconds_ms);
    let msg = Message::filed(id, peer, true, body.to_owned(), posted, Some(name));
    inbox::record(session, &msg, None, false, Standing::Accepted).await.map_err(Error::MessageNotKept)?;
    // Replying accepts a request.
    let standing = crate::conversations::conversation(&session.vault, peer).await.ok().flatten().map(|c| c.standing);
    if standing == Some(Standing::Request) {
        messaging::change(session, peer, |c| c.standing = Standing::Accepted).await?;
    }
    session.emit(Event::Message { message: msg.clone(), arrived: false });
    session.emit(Event::Conversations);
    Ok(msg)
}

/// Posts `body` (with `reply_to`, as a reply to that message of the room; with `files`, uploaded
/// to the room first) to the room, and files the post as the server took it.
pub(crate) async fn post<P: Platform>(
    session: &Session<P>,
    text: &str,
    body: &str,
    reply_to: Option<u64>,
    files: Vec<NewFile>,
) -> Result<RoomMessage, Error> {
    if body.trim().is_empty() && files.is_empty() {
        return Err(Error::EmptyMessage);
    }
    if body.chars().count() > MAX_CHARS {
        return Err(Error::TooLong { max: MAX_CHARS });
    }
    if files.len() > crate::conversations::MAX_ATTACHMENTS {
        return Err(Error::TooManyFiles { max: crate::conversations::MAX_ATTACHMENTS });
    }
    if let Some(big) = files.iter().find(|f| f.bytes.len() > MAX_ROOM_FILE) {
        return Err(Error::FileTooLarge { size: big.bytes.len() as u64, max: MAX_ROOM_FILE as u64 });
    }
    let (url, key, record) = joined(session, text).await?;
    let quote = match reply_to {
        Some(id) => {
            let quoted = match session.load::<RoomMessage>(stores::COMMUNITIES, &message_id(&key, id)).await {
                Some(quoted) => quoted,
                None => fetch_one(session, &url, &record.community, id).await?,
            };
            Some(Quote {
                id: Some(quoted.posted),
                author: Some(quoted.sender.to_string()),
                text: Some(quoted.body.chars().take(100).collect()),
            })
        }
        None => None,
    };
    let mut pointers = Vec::with_capacity(files.len());
    let mut file_ids = Vec::with_capacity(files.len());
    for file in files {
        let (pointer, id) = upload(session, &url, file).await?;
        pointers.push(pointer);
        file_ids.push(id);
    }
    let name = session.account.borrow().display_name.clone();
    let content = Content {
        data_message: Some(DataMessage {
            body: (!body.trim().is_empty()).then(|| body.to_owned()),
            attachments: pointers,
            quote,
            profile: Some(LokiProfile { display_name: Some(name), ..Default::default() }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let keys = BlindedKeys::blind15(&session.identity, url.server_key());
    let signed = sign_post(&keys, &content).body(&file_ids);
    let path = format!("/room/{}/message", url.room());
    let answer = call(session, &url, "POST", &path, Body::Json(signed.as_bytes())).await?;
    if answer.code != 201 {
        return Err(refused(answer.code));
    }
    let posted = ServerMessage::parse(&answer.body).map_err(|_| Error::CommunityRefused { status: answer.code })?;
    let _lock = session.communities.lock.lock().await;
    let mut all = ids(session, &key).await;
    let mut changes = Changes::default();
    let msg = file_post(session, &key, &record.community, &posted, &mut all, &mut changes, true)
        .await?
        .or_else(|| room_message(&record.community, &posted))
        .ok_or(Error::CommunityRefused { status: answer.code })?;
    save_ids(session, &key, &all).await?;
    if let Some(mut record) = room(session, &key).await {
        record.community.last_posted = record.community.last_posted.max(msg.posted);
        record.unseen.push(msg.id);
        save_room(session, &key, &record).await?;
    }
    drop(_lock);
    session.emit(Event::Community { room: record.community.url.clone() });
    Ok(msg)
}

/// The room's message `id` fetched from the server (one not on this device yet), checked.
async fn fetch_one<P: Platform>(
    session: &Session<P>,
    url: &CommunityUrl,
    community: &Community,
    id: u64,
) -> Result<RoomMessage, Error> {
    let path = format!("/room/{}/message/{id}", url.room());
    let answer = call(session, url, "GET", &path, Body::Empty).await?;
    match answer.code {
        200 => {}
        404 => return Err(Error::MessageGone),
        code => return Err(refused(code)),
    }
    let message = ServerMessage::parse(&answer.body).map_err(|_| Error::MessageGone)?;
    room_message(community, &message).ok_or(Error::MessageGone)
}

/// The room's picture, if it has one: its room file (kept after the first fetch).
pub(crate) async fn room_image<P: Platform>(session: &Session<P>, text: &str) -> Result<Option<Vec<u8>>, Error> {
    let (_, _, record) = joined(session, text).await?;
    match record.community.image {
        Some(id) => room_file(session, text, id).await.map(Some),
        None => Ok(None),
    }
}

/// Sets the room's picture (its admins may): `picture` is uploaded as a room file, named the
/// room's image (`PUT /room/<t>`, which keeps that file for good), and the room's details read
/// again.
pub(crate) async fn set_room_image<P: Platform>(
    session: &Session<P>,
    text: &str,
    picture: NewFile,
) -> Result<Community, Error> {
    let (url, _, _) = joined(session, text).await?;
    let (_, id) = upload(session, &url, picture).await?;
    let body = json!({ "image": id }).to_string();
    let answer = call(session, &url, "PUT", &format!("/room/{}", url.room()), Body::Json(body.as_bytes())).await?;
    if answer.code != 200 {
        return Err(refused(answer.code));
    }
    join(session, text).await
}

/// Pins (`on`) or unpins the message `id` of the room (its admins may), then reads the room's
/// details again: the pinned list is theirs.
pub(crate) async fn pin<P: Platform>(session: &Session<P>, text: &str, id: u64, on: bool) -> Result<Community, Error> {
    let (url, _, _) = joined(session, text).await?;
    let path = format!("/room/{}/{}/{id}", url.room(), if on { "pin" } else { "unpin" });
    let answer = call(session, &url, "POST", &path, Body::Json(b"{}")).await?;
    match answer.code {
        200 => join(session, text).await,
        404 => Err(Error::MessageGone),
        code => Err(refused(code)),
    }
}

/// Uploads one file to the room: its pointer for the post, and its id.
async fn upload<P: Platform>(
    session: &Session<P>,
    url: &CommunityUrl,
    mut file: NewFile,
) -> Result<(AttachmentPointer, u64), Error> {
    if file.content_type.trim().to_ascii_lowercase().starts_with("image/") {
        match images::strip_metadata(&file.content_type, &file.bytes) {
            Some(clean) => file.bytes = zeroize::Zeroizing::new(clean),
            None => {
                file.content_type = "application/octet-stream".to_owned();
                (file.width, file.height) = (None, None);
            }
        }
    }
    let name = crate::attachments::file_name(&file.file_name);
    let path = format!("/room/{}/file", url.room());
    let answer = call(session, url, "POST", &path, Body::File(&file.bytes, name.as_deref())).await?;
    if answer.code != 201 {
        return Err(refused(answer.code));
    }
    let reply: Value = serde_json::from_slice(&answer.body).map_err(|_| Error::CommunityRefused { status: 201 })?;
    let id = reply
        .get("id")
        .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
        .ok_or(Error::CommunityRefused { status: 201 })?;
    let pointer = AttachmentPointer {
        id: Some(id),
        content_type: Some(file.content_type.trim().to_ascii_lowercase()),
        size: u32::try_from(file.bytes.len()).ok(),
        file_name: name,
        width: file.width,
        height: file.height,
        url: Some(format!("{}/room/{}/file/{id}", url.server(), url.room())),
        ..Default::default()
    };
    Ok((pointer, id))
}

/// The bytes of the room file `id`: fetched through an onion path the first time, then kept
/// sealed on this device until the room is left.
pub(crate) async fn room_file<P: Platform>(session: &Session<P>, text: &str, id: u64) -> Result<Vec<u8>, Error> {
    let (url, key, _) = joined(session, text).await?;
    let name = file_name(&key, id);
    let kept: Vec<(u64, u64)> = session.load(stores::COMMUNITIES, &record_id("files", &key)).await.unwrap_or_default();
    if let Some(&(_, len)) = kept.iter().find(|(kept_id, _)| *kept_id == id) {
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if let Ok(Some(bytes)) = crate::attachments::read(&session.vault, ROOM_FILE, &name, 0, len).await {
            return Ok(bytes.to_vec());
        }
    }
    let answer = call(session, &url, "GET", &format!("/room/{}/file/{id}", url.room()), Body::Empty).await?;
    match answer.code {
        200 => {
            keep_file(session, &key, id, &answer.body).await;
            Ok(answer.body)
        }
        404 => Err(Error::FileExpired),
        code => Err(refused(code)),
    }
}

/// The vault's kind of piece for a room file (see `attachments::keep`).
const ROOM_FILE: char = 'c';

/// How a room file's pieces are named in the vault.
fn file_name(key: &str, id: u64) -> String {
    format!("{key}/{id}")
}

/// Keeps a room file fetched, sealed, so it is shown again without the network; listed with its
/// length in the room's record of files, which leaving frees. Not fatal: it is fetched again.
async fn keep_file<P: Platform>(session: &Session<P>, key: &str, id: u64, bytes: &[u8]) {
    let _lock = session.communities.lock.lock().await;
    // Left meanwhile: nothing is kept for a room that is gone.
    if room(session, key).await.is_none() {
        return;
    }
    let mut kept: Vec<(u64, u64)> =
        session.load(stores::COMMUNITIES, &record_id("files", key)).await.unwrap_or_default();
    if kept.iter().any(|(kept_id, _)| *kept_id == id) {
        return;
    }
    let name = file_name(key, id);
    if crate::attachments::keep(&session.vault, ROOM_FILE, &name, 0, bytes).await.is_err() {
        // A copy only (the storage may be full): what was written goes, and it is fetched again.
        let _ = crate::attachments::free(&session.vault, ROOM_FILE, &name, 0, bytes.len()).await;
        return;
    }
    kept.push((id, bytes.len() as u64));
    let listed = session.save(stores::COMMUNITIES, &record_id("files", key), &kept).await;
    session.kept(listed);
}

/// Frees every room file kept for the room `key`.
async fn free_files<P: Platform>(session: &Session<P>, key: &str) {
    let kept: Vec<(u64, u64)> = session.load(stores::COMMUNITIES, &record_id("files", key)).await.unwrap_or_default();
    for (id, len) in kept {
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        session.kept(crate::attachments::free(&session.vault, ROOM_FILE, &file_name(key, id), 0, len).await);
    }
    session.kept(session.remove(stores::COMMUNITIES, &record_id("files", key)).await);
}

/// Replaces the text of this account's post `id`.
pub(crate) async fn edit<P: Platform>(
    session: &Session<P>,
    text: &str,
    id: u64,
    body: &str,
) -> Result<RoomMessage, Error> {
    if body.trim().is_empty() {
        return Err(Error::EmptyMessage);
    }
    if body.chars().count() > MAX_CHARS {
        return Err(Error::TooLong { max: MAX_CHARS });
    }
    let (url, key, _) = joined(session, text).await?;
    let mut msg: RoomMessage =
        session.load(stores::COMMUNITIES, &message_id(&key, id)).await.ok_or(Error::MessageGone)?;
    if !msg.mine {
        return Err(Error::NotYours);
    }
    let name = session.account.borrow().display_name.clone();
    let content = Content {
        data_message: Some(DataMessage {
            body: Some(body.to_owned()),
            profile: Some(LokiProfile { display_name: Some(name), ..Default::default() }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let keys = BlindedKeys::blind15(&session.identity, url.server_key());
    let post = sign_post(&keys, &content);
    let payload = json!({"data": post.data, "signature": post.signature}).to_string();
    let path = format!("/room/{}/message/{id}", url.room());
    let answer = call(session, &url, "PUT", &path, Body::Json(payload.as_bytes())).await?;
    if answer.code != 200 {
        return Err(refused(answer.code));
    }
    msg.body = text::body(body).0;
    msg.edited = Some(session.client.now());
    {
        let _lock = session.communities.lock.lock().await;
        session.save(stores::COMMUNITIES, &message_id(&key, id), &msg).await.map_err(Error::NotKept)?;
    }
    session.emit(Event::Community { room: msg.room.clone() });
    Ok(msg)
}

/// Deletes the post `id`: this account's own, or anyone's for a moderator.
pub(crate) async fn delete<P: Platform>(session: &Session<P>, text: &str, id: u64) -> Result<(), Error> {
    let (url, key, record) = joined(session, text).await?;
    let path = format!("/room/{}/message/{id}", url.room());
    let answer = call(session, &url, "DELETE", &path, Body::Empty).await?;
    if answer.code != 200 && answer.code != 404 {
        return Err(refused(answer.code));
    }
    {
        let _lock = session.communities.lock.lock().await;
        let mut all = ids(session, &key).await;
        if let Ok(at) = all.binary_search(&id) {
            all.remove(at);
            save_ids(session, &key, &all).await?;
        }
        session.kept(session.remove(stores::COMMUNITIES, &message_id(&key, id)).await);
    }
    session.emit(Event::Community { room: record.community.url });
    Ok(())
}

/// Adds (`on`) or removes this account's reaction `emoji` to the post `id`.
pub(crate) async fn react<P: Platform>(
    session: &Session<P>,
    text: &str,
    id: u64,
    emoji: &str,
    on: bool,
) -> Result<RoomMessage, Error> {
    let emoji = emoji.trim();
    let count = emoji.chars().count();
    if count == 0 || count > 12 || emoji.chars().any(|c| c.is_ascii_alphanumeric() || c.is_whitespace() || c == '/') {
        return Err(Error::NotAnEmoji);
    }
    let (url, key, _) = joined(session, text).await?;
    let path = format!("/room/{}/reaction/{id}/{emoji}", url.room());
    let answer = if on {
        call(session, &url, "PUT", &path, Body::Json(b"{}")).await?
    } else {
        call(session, &url, "DELETE", &path, Body::Empty).await?
    };
    if answer.code != 200 {
        return Err(refused(answer.code));
    }
    let reply: Value = serde_json::from_slice(&answer.body).unwrap_or_default();
    let changed = reply.get(if on { "added" } else { "removed" }).and_then(Value::as_bool).unwrap_or(false);
    let _lock = session.communities.lock.lock().await;
    let mid = message_id(&key, id);
    let mut msg: RoomMessage = session.load(stores::COMMUNITIES, &mid).await.ok_or(Error::MessageGone)?;
    if changed {
        match msg.reactions.iter_mut().find(|r| r.emoji == emoji) {
            Some(r) => {
                r.count = if on { r.count.saturating_add(1) } else { r.count.saturating_sub(1) };
                r.you = on;
            }
            None if on => msg.reactions.push(RoomReaction { emoji: emoji.to_owned(), count: 1, you: true }),
            None => {}
        }
        msg.reactions.retain(|r| r.count > 0);
        session.save(stores::COMMUNITIES, &mid, &msg).await.map_err(Error::NotKept)?;
    }
    drop(_lock);
    session.emit(Event::Community { room: msg.room.clone() });
    Ok(msg)
}

/// Batched polls sent so far (one per server per round), and every community request.
pub(crate) fn counts<P: Platform>(session: &Session<P>) -> (u64, u64) {
    (session.communities.polls.get(), session.communities.requests.get())
}

/// Polls every server about every [`POLL_EVERY`] until the session ends.
pub(crate) async fn poll_loop<P: Platform>(session: std::rc::Rc<Session<P>>, alive: impl Fn() -> bool) {
    let clock = &session.world.clock;
    loop {
        if !alive() {
            return;
        }
        let started = clock.now_ms();
        let _ = poll_all(&session).await;
        let period = u64::try_from(POLL_EVERY.as_millis()).unwrap_or(10_000);
        loop {
            if !alive() {
                return;
            }
            let left = period.saturating_sub(clock.now_ms().saturating_sub(started));
            if left == 0 {
                break;
            }
            // `sleep`, not `nap`: only the account's poll loop naps (a front end may count naps
            // as finished polls of the account, as the command line does).
            clock.sleep(Duration::from_millis(left.min(1_000))).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use crypto_core::identity::Identity;

    use super::*;

    const SERVER: [u8; 32] = [9; 32];

    fn community(me: SessionId) -> Community {
        Community {
            url: "http://127.0.0.1:1/lobby?public_key=09".into(),
            server: "http://127.0.0.1:1".into(),
            token: "lobby".into(),
            name: "Lobby".into(),
            description: None,
            unread: 0,
            me,
            moderators: Vec::new(),
            admins: Vec::new(),
            read: true,
            write: true,
            upload: true,
            moderator: false,
            admin: false,
            last_posted: 0,
            info_updates: 0,
            image: None,
            pinned: Vec::new(),
        }
    }

    /// A post by `keys` as the server lists it, with `signature` in place of the real one if
    /// given, and `reactions` (JSON).
    fn listed(keys: &BlindedKeys, body: &str, signature: Option<[u8; 64]>, reactions: Value) -> ServerMessage {
        use base64::Engine as _;
        let content = Content {
            data_message: Some(DataMessage {
                body: Some(body.into()),
                profile: Some(LokiProfile { display_name: Some("Alice".into()), ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let post = sign_post(keys, &content);
        let signature = signature.map_or(post.signature, |s| base64::engine::general_purpose::STANDARD.encode(s));
        let value = json!({
            "id": 7, "session_id": keys.id().to_string(), "posted": 1_700_000_000.5, "seqno": 3,
            "data": post.data, "signature": signature, "reactions": reactions,
        });
        ServerMessage::parse(value.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_signed_post_reads_with_its_poster_and_a_forged_one_is_dropped() {
        let alice = BlindedKeys::blind15(&Identity::generate(&mut OsRng), &SERVER);
        let me = BlindedKeys::blind15(&Identity::generate(&mut OsRng), &SERVER).id();
        let room = community(me);
        let reactions =
            json!({"🎉": {"index": 1, "count": 1}, "👍": {"index": 0, "count": 2, "you": true}, "x": {"count": 0}});
        let m = room_message(&room, &listed(&alice, "hi\u{7}", None, reactions)).unwrap();
        assert_eq!(
            (m.id, m.sender, m.sender_name.as_deref(), m.posted),
            (7, alice.id(), Some("Alice"), 1_700_000_000_500)
        );
        assert_eq!(m.body, "hi", "made inert");
        assert!(!m.mine && m.edited.is_none() && m.quote.is_none());
        let emoji: Vec<(&str, u64, bool)> = m.reactions.iter().map(|r| (r.emoji.as_str(), r.count, r.you)).collect();
        assert_eq!(emoji, [("👍", 2, true), ("🎉", 1, false)], "in the server's order, none at zero");
        assert!(room_message(&room, &listed(&alice, "hi", Some([7; 64]), json!({}))).is_none(), "forged");
        let mine = room_message(&community(alice.id()), &listed(&alice, "mine", None, json!({}))).unwrap();
        assert!(mine.mine);
    }

    #[test]
    fn a_room_is_keyed_by_its_server_key_and_token() {
        let key = "c3b3c6f32f0ab5a57f853cc4f30f5da7fda5624b0c77b3fb0829de562ada081d";
        let a = parse_url(&format!(" http://127.0.0.1:22025/lobby?public_key={key} ")).unwrap();
        let b = parse_url(&format!("http://127.0.0.1:22025/r/lobby?public_key={key}")).unwrap();
        assert_eq!(room_key(&a), format!("{key}/lobby"));
        assert_eq!(room_key(&a), room_key(&b));
        assert!(matches!(parse_url("http://localhost/lobby"), Err(Error::CommunityUrl(_))));
        assert_eq!(dm_message_id(&a, 5), "dm/c3b3c6f32f0ab5a5/5");
        assert_eq!(seconds_ms(1.2345), 1235);
        assert_eq!(seconds_ms(f64::NAN), 0);
    }
}
