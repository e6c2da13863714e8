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

use crypto_core::community::CommunityUrl;
use crypto_core::identity::SessionId;
use crypto_core::message::{self, Received};
use crypto_core::network::Failure;
use serde::{Deserialize, Serialize};

use crate::attachments;
pub use crate::attachments::{Attachment, AttachmentKind, AttachmentState, Avatar};
use crate::storage::{Backend, Read, StorageError, Vault, index, stores};
use crate::text;

/// The longest text a person may send, in characters.
pub const MAX_CHARS: usize = message::MAX_BODY_CHARS;
/// The most files one message may carry (Session's desktop sends up to 32 pictures at once).
pub const MAX_ATTACHMENTS: usize = 32;
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
    pub peer: SessionId,
    /// Their display name, from their messages.
    pub name: Option<String>,
    /// Time of the last message, ms.
    pub last_activity: u64,
    /// Unread incoming messages.
    pub unread: u32,
    /// The last message's text, shortened ([`Shown`]'s English when it is not text).
    pub preview: String,
    /// Accepted, request or blocked.
    pub standing: Standing,
    /// How many index pages the conversation has (see the module docs).
    #[serde(default)]
    pub pages: u32,
    /// Listed at the top.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub pinned: bool,
    /// Its messages notify no one.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub muted: bool,
    /// The name this account gave them, shown instead of theirs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// How this account's messages in it disappear (none: they stay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disappearing: Option<Disappearing>,
    /// What the last message is when it is not text (deleted, a notice, content Hush cannot show),
    /// for front ends to word; none for text, whose `preview` is the text. Records filed before
    /// it was kept read as none: their `preview` is shown as a text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_shown: Option<Shown>,
    /// The peer's profile picture, as their messages last said it (boxed: most have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<Box<Avatar>>,
    /// When the peer's profile last changed, as their messages say (s; 0: never said).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub profile_updated_s: u64,
}

/// How messages disappear: a number of seconds after they were read, or after they were sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Disappearing {
    /// Seconds after the recipient read it (the sender's own copy: after it was sent).
    AfterRead(u32),
    /// Seconds after it was sent.
    AfterSend(u32),
}

/// The timers Session's clients offer for "after read", in seconds: 5 minutes, 1 hour, 12 hours,
/// 1 day, 1 week, 2 weeks.
pub const AFTER_READ_TIMERS: [u32; 6] = [300, 3_600, 43_200, 86_400, 604_800, 1_209_600];
/// The timers offered for "after send": 12 hours, 1 day, 1 week, 2 weeks.
pub const AFTER_SEND_TIMERS: [u32; 4] = [43_200, 86_400, 604_800, 1_209_600];
/// The longest timer taken from a peer (anything stored lasts at most 30 days).
pub const MAX_TIMER_S: u32 = 30 * 24 * 60 * 60;

impl Disappearing {
    /// The timer, in seconds.
    pub fn seconds(self) -> u32 {
        match self {
            Disappearing::AfterRead(s) | Disappearing::AfterSend(s) => s,
        }
    }

    /// The timer, in milliseconds.
    pub fn millis(self) -> u64 {
        u64::from(self.seconds()) * 1_000
    }

    /// As the wire says it.
    pub fn wire(self) -> message::Expiration {
        match self {
            Disappearing::AfterRead(timer_s) => message::Expiration::AfterRead { timer_s },
            Disappearing::AfterSend(timer_s) => message::Expiration::AfterSend { timer_s },
        }
    }

    /// What a received `Content` says, with a timer no longer than [`MAX_TIMER_S`].
    pub fn of(content: &crypto_core::wire::Content) -> Option<Disappearing> {
        Some(match message::Expiration::of(content)? {
            message::Expiration::AfterRead { timer_s } => Disappearing::AfterRead(timer_s.min(MAX_TIMER_S)),
            message::Expiration::AfterSend { timer_s } => Disappearing::AfterSend(timer_s.min(MAX_TIMER_S)),
        })
    }
}

/// A line in a conversation that is not a message: what changed about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Notice {
    /// The disappearing-messages setting was set to this (none: off) by the message's author.
    Disappearing(Option<Disappearing>),
}

impl Conversation {
    /// A new conversation.
    pub fn new(peer: &SessionId, standing: Standing) -> Conversation {
        Conversation {
            peer: *peer,
            name: None,
            last_activity: 0,
            unread: 0,
            preview: String::new(),
            standing,
            pages: 0,
            pinned: false,
            muted: false,
            nickname: None,
            disappearing: None,
            preview_shown: None,
            avatar: None,
            profile_updated_s: 0,
        }
    }

    /// Whether this is the account's Note to Self (`me`: the account's ID).
    pub fn is_note_to_self(&self, me: &SessionId) -> bool {
        self.peer == *me
    }

    /// The name to show: the nickname this account gave, else their display name (made inert by
    /// [`text::name`], also for records filed before that rule), else the start and end of the ID.
    pub fn title(&self) -> String {
        self.nickname
            .as_deref()
            .and_then(text::name)
            .or_else(|| self.name.as_deref().and_then(text::name))
            .unwrap_or_else(|| short_id(&self.peer))
    }

    fn touch(&mut self, message: &Message) {
        if message.timestamp >= self.last_activity {
            self.last_activity = message.timestamp;
            self.show(Some(message));
        }
    }

    /// What the list shows of the last message: the text of the preview, or what the message is.
    pub fn preview(&self) -> Shown {
        self.preview_shown.clone().unwrap_or_else(|| Shown::Text(self.preview.clone()))
    }

    /// Shows `last` (none: nothing) as the preview. Whether anything changed.
    fn show(&mut self, last: Option<&Message>) -> bool {
        let shown = last.map(Message::shown);
        let text = shown.as_ref().map(|s| preview(&s.to_string())).unwrap_or_default();
        let kind = shown.filter(|s| s.text().is_none());
        let changed = self.preview != text || self.preview_shown != kind;
        self.preview = text;
        self.preview_shown = kind;
        changed
    }
}

/// Why typed text is not a Session ID this account can start a conversation with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecipientError {
    /// Nothing typed yet.
    Empty,
    /// Not a Session ID (yet).
    Invalid(crypto_core::identity::SessionIdError),
    /// A Session ID of another kind (a blinded or group ID): only `05` IDs take 1:1 messages.
    NotAnAccount,
}

impl core::fmt::Display for RecipientError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RecipientError::Empty => f.write_str("66 characters, starting with 05."),
            RecipientError::Invalid(e) => write!(f, "Not a Session ID yet: {e}."),
            RecipientError::NotAnAccount => f.write_str("Only Session IDs starting with 05 can receive messages."),
        }
    }
}

impl std::error::Error for RecipientError {}

/// The Session ID in `text` if it can be written to: a standard (`05`) ID; this account's own is its
/// Note to Self.
pub fn recipient(text: &str) -> Result<SessionId, RecipientError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(RecipientError::Empty);
    }
    match text.parse::<SessionId>() {
        Ok(peer) if peer.prefix() != crypto_core::identity::IdPrefix::Standard => Err(RecipientError::NotAnAccount),
        Ok(peer) => Ok(peer),
        Err(e) => Err(RecipientError::Invalid(e)),
    }
}

/// A Session ID shortened for a title: its first 8 and last 8 characters.
pub fn short_id(id: &SessionId) -> String {
    let text = id.to_string();
    format!("{}…{}", text.get(..8).unwrap_or(&text), text.get(58..).unwrap_or(""))
}

/// Delivery state of an outgoing message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Written to the outbox; not yet stored in the recipient's swarm.
    Sending,
    /// Stored in the recipient's swarm.
    Sent,
    /// Sending failed for now; it is tried again when the network is back, or at once on Retry.
    Failed,
    /// Deleted by its sender for everyone: only the marker stays ("This message was deleted").
    Deleted,
}

impl Status {
    /// The `data-status` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Failed => "failed",
            Status::Deleted => "deleted",
        }
    }
}

/// Content of a received message that Hush cannot show yet. The message is kept, and shown as a
/// clear sentence in its place, never dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unsupported {
    /// One or more pictures.
    Photo,
    /// A video.
    Video,
    /// A voice message.
    Voice,
    /// Other audio.
    Audio,
    /// A file, or several attachments of different kinds.
    File,
    /// An invitation to a community whose URL is not a community's (or one filed before Hush
    /// read invitations).
    CommunityInvitation,
    /// Content of a kind Hush does not know.
    Other,
}

impl Unsupported {
    /// The sentence shown in the message's place.
    pub fn describe(self) -> &'static str {
        match self {
            Unsupported::Photo => "A photo — Hush cannot show attachments yet.",
            Unsupported::Video => "A video — Hush cannot show attachments yet.",
            Unsupported::Voice => "A voice message — Hush cannot play voice messages yet.",
            Unsupported::Audio => "An audio file — Hush cannot show attachments yet.",
            Unsupported::File => "A file — Hush cannot show attachments yet.",
            Unsupported::CommunityInvitation => "An invitation to a community whose address Hush cannot read.",
            Unsupported::Other => "A message Hush cannot show yet.",
        }
    }
}

/// One message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `out/<peer>/<timestamp>` or `in/<hash>`.
    pub id: String,
    /// The conversation's peer.
    pub peer: SessionId,
    /// Sent by this account.
    pub outgoing: bool,
    /// The text (for a message with content Hush cannot show, its caption, if any).
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
    /// Why the last attempt to send it failed, in English words (only while failed): what the
    /// command line shows, and all that records filed before [`Message::failure`] have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// The same reason, typed, for a front end to word in its own language.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "kept_failure")]
    pub failure: Option<Failure>,
    /// What the message holds that Hush cannot show yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsupported: Option<Unsupported>,
    /// What Hush changed in a received message to keep it inert (records from before have none).
    #[serde(default, skip_serializing_if = "Adjusted::is_empty")]
    pub adjusted: Adjusted,
    /// The message this one replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<Quoted>,
    /// Reactions: the latest change of each (emoji, person); see [`Message::reactions`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<ReactionMark>,
    /// When the recipient read it (outgoing messages, when both sides send read receipts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<u64>,
    /// The hash of this message's copy in this account's own swarm (an outgoing message's sync
    /// copy), so deleting it can delete that copy too. An incoming message's is in its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swarm_hash: Option<String>,
    /// How this message disappears, as it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disappearing: Option<Disappearing>,
    /// When it disappears (network time, ms): set when its timer starts (sent, or read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// What this line says instead of a message (a setting changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<Notice>,
    /// Its files, in the order sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// The community it invites to (the protocol's `openGroupInvitation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation: Option<Invitation>,
}

/// An invitation to a community, as a message carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// The room's URL, canonical (`server/room?public_key=…`): what joining takes.
    pub url: String,
    /// The room's name as the inviter gave it (inert).
    pub name: String,
}

impl Invitation {
    /// The invitation a data message carries, if any: `Err` when it carries one whose URL is not
    /// a community's (shown as [`Unsupported::CommunityInvitation`]).
    fn of(data: &crypto_core::wire::DataMessage) -> Result<Option<Invitation>, ()> {
        let Some(invitation) = &data.open_group_invitation else { return Ok(None) };
        let url = invitation.url.as_deref().map(CommunityUrl::parse).ok_or(())?.map_err(|_| ())?;
        // A name that is empty or all control characters: the room's token stands in.
        let name = invitation.name.as_deref().and_then(text::name).unwrap_or_else(|| url.room().to_owned());
        Ok(Some(Invitation { url: url.to_string(), name }))
    }

    /// The server's address, as the invitation shows it beside the name.
    pub fn server(&self) -> String {
        CommunityUrl::parse(&self.url).map(|u| u.server()).unwrap_or_default()
    }
}

/// What a reply says of the message it quotes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quoted {
    /// Who wrote the quoted message.
    pub author: SessionId,
    /// When it was sent (network time, ms): how the protocol names it.
    pub timestamp: u64,
    /// The start of its text (inert), or empty when neither the reply nor this device has it.
    pub text: String,
    /// The quoted message's id on this device, when it is here (a click jumps to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// The latest reaction change of one person with one emoji. Kept also when removed, so that an
/// older change arriving late (a sync copy, a slow node) does not undo a newer one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionMark {
    /// The emoji.
    pub emoji: String,
    /// Who reacted.
    pub by: SessionId,
    /// When (the change's sent time, ms).
    pub at: u64,
    /// Whether the reaction stands (false: removed).
    pub on: bool,
}

/// The longest quote text kept, in characters.
pub const QUOTE_CHARS: usize = 100;
/// The most distinct (emoji, person) reaction changes a message keeps.
pub const MAX_REACTION_MARKS: usize = 64;
/// The longest emoji accepted in a reaction, in bytes (a flag or a family is about 25).
pub const MAX_EMOJI_BYTES: usize = 32;
/// The text shown in place of a message deleted for everyone.
pub const DELETED_TEXT: &str = "This message was deleted.";

/// A reaction's emoji made inert: trimmed, one short run without control or format characters
/// other than the joiners emoji use; `None` if nothing is left or it is too long.
pub fn reaction_emoji(raw: &str) -> Option<String> {
    let emoji = text::name(raw)?;
    (!emoji.contains(' ') && emoji.len() <= MAX_EMOJI_BYTES).then_some(emoji)
}

/// The start of a message's text, for a quote.
pub fn quote_text(body: &str) -> String {
    let (body, _) = text::body(body);
    let line: String = body.chars().take(QUOTE_CHARS).map(|c| if c.is_control() { ' ' } else { c }).collect();
    if body.chars().count() > QUOTE_CHARS { format!("{line}…") } else { line }
}

/// What Hush changed in a received message to keep it inert ([`text`]): its text was cut, or
/// its sent time was not believable. Nothing for what this device wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjusted {
    /// The text was longer than [`text::MAX_RECEIVED_CHARS`] and only its start is kept: the view
    /// says so.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub shortened: bool,
    /// The sent time the sender gave, when it was too far in the future or the past; the
    /// message's `timestamp` is then the time it arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_timestamp: Option<u64>,
}

impl Adjusted {
    /// Nothing was changed.
    pub fn is_empty(&self) -> bool {
        *self == Adjusted::default()
    }
}

/// What a message shows in a list, a notification or a quote: its text, or what it is instead.
/// Front ends word it; its `Display` is the English the command line shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Shown {
    /// Its text (for a message with content Hush cannot show, its caption).
    Text(String),
    /// It was deleted for everyone.
    Deleted,
    /// A notice: the disappearing-messages setting was set to this (none: off).
    Disappearing(Option<Disappearing>),
    /// Content Hush cannot show yet, without a caption.
    Unsupported(Unsupported),
    /// Files without a caption: how many, and of what kind (the first's, or
    /// [`AttachmentKind::File`] when they differ).
    Attachments { kind: AttachmentKind, count: usize },
    /// An invitation to the community of this name.
    Invitation(String),
}

impl Shown {
    /// The text, if it is one.
    pub fn text(&self) -> Option<&str> {
        match self {
            Shown::Text(text) => Some(text),
            _ => None,
        }
    }
}

impl core::fmt::Display for Shown {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Shown::Text(text) => text,
            Shown::Deleted => DELETED_TEXT,
            Shown::Disappearing(None) => "Disappearing messages turned off.",
            Shown::Disappearing(Some(Disappearing::AfterRead(_))) => "Messages disappear after they are read.",
            Shown::Disappearing(Some(Disappearing::AfterSend(_))) => "Messages disappear after they are sent.",
            Shown::Unsupported(u) => u.describe(),
            Shown::Invitation(name) => return write!(f, "Community invitation: {name}"),
            Shown::Attachments { kind, count } => match (kind, count) {
                (AttachmentKind::Image, 1) => "A photo.",
                (AttachmentKind::Image, _) => "Photos.",
                (AttachmentKind::Video, _) => "A video.",
                (AttachmentKind::Voice, _) => "A voice message.",
                (AttachmentKind::Audio, _) => "An audio file.",
                (AttachmentKind::File, 1) => "A file.",
                (AttachmentKind::File, _) => "Files.",
            },
        })
    }
}

impl Message {
    /// What a list or a notification shows: the body, else what the message is instead.
    pub fn shown(&self) -> Shown {
        if self.status == Status::Deleted {
            return Shown::Deleted;
        }
        if let Some(Notice::Disappearing(setting)) = self.notice {
            return Shown::Disappearing(setting);
        }
        if let Some(invitation) = &self.invitation {
            return Shown::Invitation(invitation.name.clone());
        }
        match (self.unsupported, self.body.is_empty(), self.attachments.first()) {
            (Some(u), true, _) => Shown::Unsupported(u),
            (None, true, Some(first)) => {
                let kind = first.kind();
                let same = self.attachments.iter().all(|a| a.kind() == kind);
                Shown::Attachments {
                    kind: if same { kind } else { AttachmentKind::File },
                    count: self.attachments.len(),
                }
            }
            _ => Shown::Text(self.body.clone()),
        }
    }

    /// [`Message::shown`] in English, as the command line shows it.
    pub fn shown_text(&self) -> String {
        self.shown().to_string()
    }
}

impl Message {
    /// A message as filed, sent (`status` Sent) with nothing else about it yet: no outbox, quote,
    /// reactions, timer or notice. The constructor the others (and tests) start from.
    pub fn filed(
        id: String,
        peer: &SessionId,
        outgoing: bool,
        body: String,
        timestamp: u64,
        sender_name: Option<String>,
    ) -> Message {
        Message {
            id,
            peer: *peer,
            outgoing,
            body,
            timestamp,
            status: Status::Sent,
            sender_name,
            outbox: None,
            problem: None,
            failure: None,
            unsupported: None,
            attachments: Vec::new(),
            adjusted: Adjusted::default(),
            quote: None,
            reactions: Vec::new(),
            read_at: None,
            swarm_hash: None,
            disappearing: None,
            expires_at: None,
            notice: None,
            invitation: None,
        }
    }

    /// The sent time its sender gave it: how the protocol names it (in quotes, reactions,
    /// receipts and unsend requests). For a received message whose time was not believable, the
    /// claim, not the arrival time it is ordered by.
    pub fn sent_at(&self) -> u64 {
        self.adjusted.claimed_timestamp.unwrap_or(self.timestamp)
    }

    /// Who wrote it (`me`: this account).
    pub fn author(&self, me: &SessionId) -> SessionId {
        if self.outgoing { *me } else { self.peer }
    }

    /// The reactions that stand, by emoji in the order each was first used, with who reacted.
    pub fn reactions(&self) -> Vec<(String, Vec<SessionId>)> {
        let mut out: Vec<(String, Vec<SessionId>)> = Vec::new();
        let mut marks: Vec<&ReactionMark> = self.reactions.iter().filter(|m| m.on).collect();
        marks.sort_by_key(|m| m.at);
        for mark in marks {
            match out.iter_mut().find(|(e, _)| *e == mark.emoji) {
                Some((_, by)) => by.push(mark.by),
                None => out.push((mark.emoji.clone(), vec![mark.by])),
            }
        }
        out
    }

    /// Applies a reaction change of `by` made at `at`; returns whether anything changed. A change
    /// older than the one kept for the same (emoji, person) is ignored, as is a new pair beyond
    /// [`MAX_REACTION_MARKS`] (the oldest removed ones make room first).
    pub fn react(&mut self, emoji: &str, by: SessionId, at: u64, on: bool) -> bool {
        if self.status == Status::Deleted {
            return false;
        }
        if let Some(mark) = self.reactions.iter_mut().find(|m| m.emoji == emoji && m.by == by) {
            if at < mark.at || (mark.on == on && at == mark.at) {
                return false;
            }
            let changed = mark.on != on;
            mark.at = at;
            mark.on = on;
            return changed;
        }
        if self.reactions.len() >= MAX_REACTION_MARKS {
            let oldest_removed = self.reactions.iter().enumerate().filter(|(_, m)| !m.on).min_by_key(|(_, m)| m.at);
            match oldest_removed {
                Some((i, _)) => {
                    self.reactions.remove(i);
                }
                None => return false,
            }
        }
        self.reactions.push(ReactionMark { emoji: emoji.to_owned(), by, at, on });
        on
    }

    /// Turns the message into the marker of a message deleted for everyone: its text, quote and
    /// reactions and files are gone; the record (its id and time) stays. Returns the files, whose
    /// bytes on this device the caller frees ([`crate::attachments`]).
    pub fn mark_deleted(&mut self) -> Vec<Attachment> {
        self.status = Status::Deleted;
        self.body.clear();
        self.quote = None;
        self.reactions.clear();
        self.unsupported = None;
        self.outbox = None;
        self.problem = None;
        self.failure = None;
        core::mem::take(&mut self.attachments)
    }
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
    /// How long the recipient's copy waits in their swarm (ms; none: 14 days): a message that
    /// disappears after it is sent waits no longer than its timer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
    /// How long the sync copy waits in this account's swarm (ms; none: 14 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_ttl: Option<u64>,
}

/// The id of an outgoing message.
pub fn outgoing_id(peer: &SessionId, timestamp: u64) -> String {
    format!("out/{peer}/{timestamp}")
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The id of an incoming message.
pub fn incoming_id(hash: &str) -> String {
    format!("in/{hash}")
}

/// How a message record keeps why it was not sent: the protocol core's [`Failure`] has no stored
/// form of its own, so it is written as [`Kept`], a kind and its numbers and text (a tuple, the
/// least code in the browser's download). A reason this version does not know (written by a later
/// one) or cannot read reads as none: the message keeps its English `problem`.
mod kept_failure {
    use crypto_core::network::anchors::Refusal;
    use crypto_core::network::{Failure, NetworkError};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// [`Failure`] as stored: its kind, up to three numbers, a text.
    #[derive(Serialize, Deserialize)]
    struct Kept(u8, usize, usize, usize, String);

    fn kept(f: &Failure) -> Option<Kept> {
        let kind = |k: u8| Kept(k, 0, 0, 0, String::new());
        Some(match f {
            Failure::Offline => kind(0),
            Failure::RateLimited => kind(1),
            Failure::Relay(status) => Kept(2, usize::from(*status), 0, 0, String::new()),
            Failure::ClockOutOfSync => kind(3),
            Failure::ServerError => kind(4),
            Failure::TooLarge => kind(5),
            Failure::Rejected { status, body } => Kept(6, usize::from(*status), 0, 0, body.clone()),
            // A reply of the wrong shape keeps its kind, not its detail.
            Failure::NoPath(NetworkError::NotEnoughNodes { have, need }) => Kept(7, *have, *need, 0, String::new()),
            Failure::NoPath(_) => kind(8),
            Failure::Unreachable => kind(9),
            Failure::TimedOut => kind(10),
            Failure::NodeListRefused(Refusal::NoAnchors) => kind(11),
            Failure::NodeListRefused(Refusal::Unconfirmed { answered, asked }) => {
                Kept(12, *answered, *asked, 0, String::new())
            }
            Failure::NodeListRefused(Refusal::ForgedKeys { listed, forged }) => {
                Kept(13, *listed, *forged, 0, String::new())
            }
            Failure::NodeListRefused(Refusal::Mismatch { listed, confirmed, network }) => {
                Kept(14, *listed, *confirmed, *network, String::new())
            }
            _ => return None,
        })
    }

    fn failure(Kept(kind, a, b, c, text): Kept) -> Option<Failure> {
        let status = || u16::try_from(a).ok();
        Some(match kind {
            0 => Failure::Offline,
            1 => Failure::RateLimited,
            2 => Failure::Relay(status()?),
            3 => Failure::ClockOutOfSync,
            4 => Failure::ServerError,
            5 => Failure::TooLarge,
            6 => Failure::Rejected { status: status()?, body: text },
            7 => Failure::NoPath(NetworkError::NotEnoughNodes { have: a, need: b }),
            8 => Failure::NoPath(NetworkError::Malformed("the node list")),
            9 => Failure::Unreachable,
            10 => Failure::TimedOut,
            11 => Failure::NodeListRefused(Refusal::NoAnchors),
            12 => Failure::NodeListRefused(Refusal::Unconfirmed { answered: a, asked: b }),
            13 => Failure::NodeListRefused(Refusal::ForgedKeys { listed: a, forged: b }),
            14 => Failure::NodeListRefused(Refusal::Mismatch { listed: a, confirmed: b, network: c }),
            _ => return None,
        })
    }

    pub(super) fn serialize<S: Serializer>(value: &Option<Failure>, s: S) -> Result<S::Ok, S::Error> {
        value.as_ref().and_then(kept).serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Failure>, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Ok(serde_json::from_value::<Option<Kept>>(value).ok().flatten().and_then(failure))
    }
}

fn preview(body: &str) -> String {
    let line: String = body.chars().take(80).map(|c| if c.is_control() { ' ' } else { c }).collect();
    if body.chars().count() > 80 { format!("{line}…") } else { line }
}

/// A new outgoing message in the outbox.
pub fn outgoing(peer: &SessionId, body: &str, timestamp: u64, name: &str, data: String, sync_data: String) -> Message {
    Message {
        status: Status::Sending,
        outbox: Some(Outbox { data, sync_data, delivered: false, ttl: None, sync_ttl: None }),
        ..Message::filed(outgoing_id(peer, timestamp), peer, true, body.to_owned(), timestamp, Some(name.to_owned()))
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
    /// Nothing to show: not a data message (a control message), or an empty one.
    Ignore,
}

/// What a data message invites to, and what of it Hush cannot show (an invitation whose URL is
/// not a community's).
fn invitation(data: &crypto_core::wire::DataMessage) -> (Option<Invitation>, Option<Unsupported>) {
    match Invitation::of(data) {
        Ok(invitation) => (invitation, None),
        Err(()) => (None, Some(Unsupported::CommunityInvitation)),
    }
}

/// Turns an opened message into a change. `me` is this account's ID; `arrival` the network time
/// it was fetched at (ms).
///
/// Text is shown; a data message with content Hush cannot show yet (attachments, an invitation)
/// is kept with [`Message::unsupported`] so it is shown as a placeholder, never dropped. What
/// carries no message for the person (a reaction, a profile update, the protocol's control
/// messages) is [`Incoming::Ignore`]d here; control messages are handled where they are filed.
/// The sender's name, text and sent time are made inert ([`text`]): what was changed is in
/// [`Message::adjusted`]. A sync copy keeps the id its sent time gives it, so it still matches
/// the message this device sent.
pub fn incoming(received: &Received, hash: &str, me: &SessionId, arrival: u64) -> Incoming {
    let Some(data) = &received.content.data_message else { return Incoming::Ignore };
    let disappearing = Disappearing::of(&received.content);
    let notice = message::is_timer_update(&received.content).then_some(Notice::Disappearing(disappearing));
    // A setting change carries no text (Session's clients drop what one might).
    let (body, shortened) =
        if notice.is_some() { (String::new(), false) } else { text::body(data.body.as_deref().unwrap_or_default()) };
    let (invitation, unsupported) = if notice.is_some() { (None, None) } else { invitation(data) };
    let attachments: Vec<Attachment> = if notice.is_some() {
        Vec::new()
    } else {
        data.attachments.iter().take(MAX_ATTACHMENTS).map(Attachment::from_pointer).collect()
    };
    if body.is_empty() && unsupported.is_none() && notice.is_none() && attachments.is_empty() && invitation.is_none() {
        return Incoming::Ignore;
    }
    // A notice disappears under the setting it announces, as Session's clients show it.
    let started = |from: u64, outgoing: bool| match disappearing {
        Some(d @ Disappearing::AfterSend(_)) => Some(from.saturating_add(d.millis())),
        Some(d @ Disappearing::AfterRead(_)) if outgoing => Some(from.saturating_add(d.millis())),
        _ => None,
    };
    let name = data.profile.as_ref().and_then(|p| p.display_name.as_deref()).and_then(text::name);
    let quote = data.quote.as_ref().and_then(|q| {
        Some(Quoted {
            author: q.author.as_deref()?.parse().ok()?,
            timestamp: q.id?,
            text: quote_text(q.text.as_deref().unwrap_or_default()),
            id: None,
        })
    });
    let (timestamp, claimed_timestamp) = text::sent_time(received.timestamp_ms, arrival);
    let adjusted = Adjusted { shortened, claimed_timestamp };
    if received.sender == *me {
        // A sync copy from another of this account's devices (or this one).
        // Without a target, a message to this account itself: its Note to Self.
        let peer = match data.sync_target.as_deref() {
            None | Some("") => *me,
            Some(target) => match target.parse::<SessionId>() {
                Ok(peer) => peer,
                Err(_) => return Incoming::Ignore,
            },
        };
        let message = Message {
            unsupported,
            attachments,
            adjusted,
            quote,
            swarm_hash: Some(hash.to_owned()),
            disappearing,
            // The sender's own copies count from when they were sent, in both modes.
            expires_at: started(received.timestamp_ms, true),
            notice,
            invitation,
            ..Message::filed(outgoing_id(&peer, received.timestamp_ms), &peer, true, body, timestamp, name)
        };
        return Incoming::Add { message, name: None, unread: false };
    }
    let message = Message {
        unsupported,
        attachments,
        adjusted,
        quote,
        disappearing,
        expires_at: started(received.timestamp_ms.min(timestamp), false),
        notice,
        invitation,
        ..Message::filed(incoming_id(hash), &received.sender, false, body, timestamp, name.clone())
    };
    Incoming::Add { message, name, unread: notice.is_none() }
}

/// Applies a message to what its conversation record shows (activity, preview, name, unread
/// count); the record must be for the same peer. [`file`] does this and files the message.
pub fn apply(conversation: &mut Conversation, message: &Message, name: Option<String>, unread: bool) {
    conversation.touch(message);
    if let Some(n) = name.as_deref().and_then(text::name) {
        conversation.name = Some(n);
    }
    if unread {
        conversation.unread = conversation.unread.saturating_add(1);
    }
}

/// The conversation with `peer`, if it has a readable record.
pub async fn conversation<B: Backend>(
    vault: &Vault<B>,
    peer: &SessionId,
) -> Result<Option<Conversation>, StorageError> {
    Ok(vault.read(stores::CONVERSATIONS, peer.to_string().as_bytes()).await?.found())
}

/// Writes the record of a conversation.
pub async fn save<B: Backend>(vault: &Vault<B>, conversation: &Conversation) -> Result<(), StorageError> {
    vault.write(stores::CONVERSATIONS, conversation.peer.to_string().as_bytes(), conversation).await
}

/// Every conversation: pinned ones first, then most recent first (blocked ones last); damaged
/// records are skipped.
pub async fn list<B: Backend>(vault: &Vault<B>) -> Result<Vec<Conversation>, StorageError> {
    let mut list: Vec<Conversation> =
        vault.all(stores::CONVERSATIONS).await?.iter().filter_map(|bytes| serde_json::from_slice(bytes).ok()).collect();
    let key = |c: &Conversation| (c.standing == Standing::Blocked, !c.pinned, core::cmp::Reverse(c.last_activity));
    list.sort_by_key(key);
    Ok(list)
}

/// One result of [`search`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// A conversation whose name (nickname, display name) or Session ID matches.
    Conversation(Conversation),
    /// A message whose text matches, in the conversation with its `peer`.
    Message(Box<Message>),
}

/// The most results [`search`] gives.
pub const SEARCH_LIMIT: usize = 100;

/// Conversations and messages matching `query` (case-insensitive, anywhere in the text):
/// conversations first, then messages, newest first, at most `limit` in all. It reads the sealed
/// records and opens them one by one: no index of words is kept, so nothing of the text is on
/// the disk unencrypted. Blocked conversations are not searched.
pub async fn search<B: Backend>(vault: &Vault<B>, query: &str, limit: usize) -> Result<Vec<Found>, StorageError> {
    let needle = query.trim().to_lowercase();
    if needle.is_empty() {
        return Ok(Vec::new());
    }
    let conversations: Vec<Conversation> =
        list(vault).await?.into_iter().filter(|c| c.standing != Standing::Blocked).collect();
    let mut found: Vec<Found> = conversations
        .iter()
        .filter(|c| c.title().to_lowercase().contains(&needle) || c.peer.to_string().contains(&needle))
        .take(limit)
        .cloned()
        .map(Found::Conversation)
        .collect();
    let mut messages = Vec::new();
    for c in &conversations {
        let peer = c.peer.to_string();
        let count = index::page_count(vault, &peer, c.pages).await?;
        for n in (0..count).rev() {
            let Read::Found(page) = index::read_page(vault, &peer, n).await? else { continue };
            let reads = futures::future::join_all(
                page.entries.iter().map(|(_, id)| vault.read::<Message>(stores::MESSAGES, id.as_bytes())),
            );
            for read in reads.await {
                if let Read::Found(m) = read?
                    && m.status != Status::Deleted
                    && m.body.to_lowercase().contains(&needle)
                {
                    messages.push(inert(m));
                }
            }
        }
    }
    messages.sort_by(|a, b| (b.timestamp, &b.id).cmp(&(a.timestamp, &a.id)));
    found.extend(messages.into_iter().map(|m| Found::Message(Box::new(m))));
    found.truncate(limit);
    Ok(found)
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
    let found = conversation(vault, &msg.peer).await?;
    let recorded = found.as_ref().map(|c| c.pages);
    let mut c = found.unwrap_or_else(|| Conversation::new(&msg.peer, standing));
    c.pages = index::add(vault, &msg.peer.to_string(), recorded, msg.timestamp, &msg.id).await?;
    vault.write(stores::MESSAGES, msg.id.as_bytes(), msg).await?;
    apply(&mut c, msg, name, unread);
    save(vault, &c).await
}

/// The last `count` messages of the conversation with `peer`, oldest first, and whether older
/// ones exist. Entries whose message record is missing or damaged are skipped.
pub async fn latest<B: Backend>(
    vault: &Vault<B>,
    peer: &SessionId,
    count: usize,
) -> Result<(Vec<Message>, bool), StorageError> {
    let Some(c) = conversation(vault, peer).await? else { return Ok((Vec::new(), false)) };
    let peer = &peer.to_string();
    let mut n = index::page_count(vault, peer, c.pages).await?;
    let mut entries: Vec<(u64, String)> = Vec::new();
    while n > 0 && entries.len() < count {
        n -= 1;
        if let Read::Found(p) = index::read_page(vault, peer, n).await? {
            entries.extend(p.entries);
        }
    }
    entries.sort();
    entries.dedup();
    let older = n > 0 || entries.len() > count;
    // Read together: the backend (IndexedDB) serves them in parallel, about twice as fast as one
    // after another.
    let wanted = entries.get(entries.len().saturating_sub(count)..).unwrap_or_default();
    let reads =
        futures::future::join_all(wanted.iter().map(|(_, id)| vault.read::<Message>(stores::MESSAGES, id.as_bytes())));
    let mut messages = Vec::new();
    for read in reads.await {
        if let Read::Found(m) = read? {
            messages.push(inert(m));
        }
    }
    messages.sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));
    Ok((messages, older))
}

/// A received message read back, made inert as [`incoming`] makes new ones (a record filed before
/// that rule may hold a peer's text as it came; for one filed after, this changes nothing).
fn inert(mut m: Message) -> Message {
    if !m.outgoing {
        let (body, shortened) = text::body(&m.body);
        m.body = body;
        m.adjusted.shortened |= shortened;
        m.sender_name = m.sender_name.as_deref().and_then(text::name);
    }
    m
}

/// The message of the conversation with `peer` that its author sent at `sent` (`by_me`: this
/// account wrote it), as the protocol names messages (quotes, reactions, receipts, unsend
/// requests). Looks in the newest [`index::FIND_PAGES`] pages of the conversation.
pub async fn find_sent<B: Backend>(
    vault: &Vault<B>,
    peer: &SessionId,
    by_me: bool,
    sent: u64,
) -> Result<Option<Message>, StorageError> {
    if by_me
        && let Read::Found(m) = vault.read::<Message>(stores::MESSAGES, outgoing_id(peer, sent).as_bytes()).await?
        && m.outgoing
    {
        return Ok(Some(m));
    }
    let Some(c) = conversation(vault, peer).await? else { return Ok(None) };
    let key = peer.to_string();
    let count = index::page_count(vault, &key, c.pages).await?;
    for id in index::at_time(vault, &key, count, sent).await? {
        if let Read::Found(m) = vault.read::<Message>(stores::MESSAGES, id.as_bytes()).await?
            && m.outgoing == by_me
            && m.sent_at() == sent
        {
            return Ok(Some(m));
        }
    }
    Ok(None)
}

/// Deletes one message from this device: its record and its index entry; the conversation's
/// preview then shows the message before it. Call it under `Session::writes`.
pub async fn forget_message<B: Backend>(vault: &Vault<B>, msg: &Message) -> Result<(), StorageError> {
    let Some(mut c) = conversation(vault, &msg.peer).await? else {
        attachments::free_all(vault, &msg.id, &msg.attachments).await?;
        return vault.delete(stores::MESSAGES, msg.id.as_bytes()).await;
    };
    let key = msg.peer.to_string();
    let count = index::page_count(vault, &key, c.pages).await?;
    index::remove(vault, &key, count, msg.timestamp, &msg.id).await?;
    attachments::free_all(vault, &msg.id, &msg.attachments).await?;
    vault.delete(stores::MESSAGES, msg.id.as_bytes()).await?;
    let (last, _) = latest(vault, &msg.peer, 1).await?;
    c.show(last.first());
    save(vault, &c).await
}

/// Writes a changed message (a reaction, a receipt, a deletion for everyone) and, when it is the
/// conversation's last one, the preview. Call it under `Session::writes`.
pub async fn update<B: Backend>(vault: &Vault<B>, msg: &Message) -> Result<(), StorageError> {
    vault.write(stores::MESSAGES, msg.id.as_bytes(), msg).await?;
    if let Some(mut c) = conversation(vault, &msg.peer).await?
        && c.last_activity == msg.timestamp
        && c.show(Some(msg))
    {
        save(vault, &c).await?;
    }
    Ok(())
}

/// Deletes the conversation with `peer`: its messages, its index, then its record (last, so an
/// interrupted delete can run again). Call it under `Session::writes`.
pub async fn forget<B: Backend>(vault: &Vault<B>, peer: &SessionId) -> Result<(), StorageError> {
    let recorded = conversation(vault, peer).await?.map_or(0, |c| c.pages);
    let peer = &peer.to_string();
    let count = index::page_count(vault, peer, recorded).await?;
    for n in (0..count).rev() {
        if let Read::Found(p) = index::read_page(vault, peer, n).await? {
            for (_, id) in &p.entries {
                // Its files first: the record is what says where they are.
                if let Ok(Read::Found(m)) = vault.read::<Message>(stores::MESSAGES, id.as_bytes()).await {
                    attachments::free_all(vault, id, &m.attachments).await?;
                }
                vault.delete(stores::MESSAGES, id.as_bytes()).await?;
            }
        }
        vault.delete(stores::MESSAGE_PAGES, &index::page_id(peer, n)).await?;
    }
    vault.delete(stores::CONVERSATIONS, peer.as_bytes()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto_core::identity::Identity;
    use rand_core::OsRng;

    fn received(from: &Identity, to: &Identity, content: crypto_core::wire::Content, t: u64) -> Received {
        let data = message::seal_message(&mut OsRng, from, &to.session_id(), content, t).unwrap();
        message::open_message(to, &data).unwrap()
    }

    #[test]
    fn an_incoming_text_becomes_an_unread_message_with_the_senders_name() {
        let (a, b) = (Identity::generate(&mut OsRng), Identity::generate(&mut OsRng));
        let r = received(&a, &b, message::text_message("hi", Some("Alice")), 1_700_000_000_000);
        let Incoming::Add { message, name, unread } = incoming(&r, "HASH", &b.session_id(), r.timestamp_ms) else {
            panic!()
        };
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
        let Incoming::Add { message, unread, .. } = incoming(&r, "H", &me.session_id(), r.timestamp_ms) else {
            panic!()
        };
        assert_eq!(message.id, outgoing_id(&bob.session_id(), t));
        assert!(message.outgoing && !unread && message.status == Status::Sent);
    }

    fn with_attachments(kinds: &[(&str, u32)], body: Option<&str>) -> crypto_core::wire::Content {
        use crypto_core::wire::{AttachmentPointer, Content, DataMessage};
        let attachments = kinds
            .iter()
            .map(|(content_type, flags)| AttachmentPointer {
                id: Some(7),
                content_type: Some((*content_type).to_owned()),
                flags: Some(*flags),
                ..Default::default()
            })
            .collect();
        Content {
            data_message: Some(DataMessage { body: body.map(str::to_owned), attachments, ..Default::default() }),
            ..Default::default()
        }
    }

    /// Files are kept as attachments of their kind, with any caption; a message of files alone
    /// says what it holds. Nothing is dropped.
    #[test]
    fn files_are_attachments_of_their_kind_and_a_message_of_files_says_what_it_holds() {
        let (a, b) = (Identity::generate(&mut OsRng), Identity::generate(&mut OsRng));
        let me = b.session_id();
        let kind = |kinds: &[(&str, u32)], body: Option<&str>| {
            let r = received(&a, &b, with_attachments(kinds, body), 5);
            let Incoming::Add { message, unread, .. } = incoming(&r, "H", &me, r.timestamp_ms) else {
                panic!("dropped")
            };
            assert!(unread);
            assert_eq!(message.unsupported, None);
            let kinds: Vec<AttachmentKind> = message.attachments.iter().map(Attachment::kind).collect();
            (kinds, message.body.clone(), message.shown_text())
        };
        use AttachmentKind::{Audio, File, Image, Voice};
        assert_eq!(kind(&[("image/jpeg", 0)], None), (vec![Image], String::new(), "A photo.".into()));
        assert_eq!(kind(&[("IMAGE/PNG", 0), ("image/webp", 0)], None).2, "Photos.");
        assert_eq!(kind(&[("video/mp4", 0)], None).2, "A video.");
        assert_eq!(kind(&[("audio/mpeg", 1)], None).0, vec![Voice], "flag 1 is a voice message");
        assert_eq!(kind(&[("audio/aac", 0)], None).0, vec![Audio]);
        assert_eq!(kind(&[("application/pdf", 0)], None).2, "A file.");
        assert_eq!(
            kind(&[("image/jpeg", 0), ("application/zip", 0)], None),
            (vec![Image, File], String::new(), "Files.".into())
        );
        assert_eq!(
            kind(&[("image/gif", 0)], Some("look at this")),
            (vec![Image], "look at this".into(), "look at this".into())
        );
        // A pointer without a URL or a key cannot be fetched: it is kept, and shows as damaged.
        let r = received(&a, &b, with_attachments(&[("image/png", 0)], None), 7);
        let Incoming::Add { message, .. } = incoming(&r, "D", &me, r.timestamp_ms) else { panic!("dropped") };
        assert_eq!(message.attachments[0].state, AttachmentState::Damaged);
        // A community invitation with no text.
        use crypto_core::wire::{Content, DataMessage, OpenGroupInvitation};
        let invite = Content {
            data_message: Some(DataMessage {
                open_group_invitation: Some(OpenGroupInvitation {
                    url: Some("https://x".into()),
                    name: Some("X".into()),
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let r = received(&a, &b, invite, 6);
        let Incoming::Add { message, .. } = incoming(&r, "I", &me, r.timestamp_ms) else { panic!("dropped") };
        assert_eq!(message.unsupported, Some(Unsupported::CommunityInvitation));
        // Every kind Hush cannot show says what it is and that Hush cannot show it yet (records
        // from before attachments were shown keep theirs).
        for u in [
            Unsupported::Photo,
            Unsupported::Video,
            Unsupported::Voice,
            Unsupported::Audio,
            Unsupported::File,
            Unsupported::CommunityInvitation,
            Unsupported::Other,
        ] {
            assert!(u.describe().contains("Hush cannot"), "{u:?}");
        }
        // The list's preview says what a message of files alone holds.
        let mut c = Conversation::new(&a.session_id(), Standing::Request);
        let r = received(&a, &b, with_attachments(&[("video/webm", 0)], None), 9);
        let Incoming::Add { message, name, unread } = incoming(&r, "V", &me, r.timestamp_ms) else { panic!("dropped") };
        apply(&mut c, &message, name, unread);
        assert_eq!(c.preview, "A video.");
    }

    #[test]
    fn non_text_content_is_ignored() {
        let (a, b) = (Identity::generate(&mut OsRng), Identity::generate(&mut OsRng));
        let r = received(&a, &b, crypto_core::wire::Content::default(), 1);
        assert_eq!(incoming(&r, "H", &b.session_id(), r.timestamp_ms), Incoming::Ignore);
    }

    #[test]
    fn recipients_are_standard_ids_ones_own_included() {
        let me = Identity::generate(&mut OsRng).session_id();
        let other = Identity::generate(&mut OsRng).session_id();
        assert_eq!(recipient(&format!("  {other}  ")), Ok(other));
        assert_eq!(recipient(&other.to_string().to_uppercase()), Ok(other));
        assert_eq!(recipient(""), Err(RecipientError::Empty));
        assert_eq!(recipient(&me.to_string()), Ok(me), "Note to Self");
        let blinded = format!("15{}", "ab".repeat(32));
        assert_eq!(recipient(&blinded), Err(RecipientError::NotAnAccount));
        assert!(matches!(recipient("05zz"), Err(RecipientError::Invalid(_))));
    }

    const NOW: u64 = 1_800_000_000_000;
    /// 1 Jan 2100, 00:00 UTC.
    const YEAR_2100: u64 = 4_102_444_800_000;

    fn override_name() -> String {
        core::iter::once('\u{202E}').chain("Mallory ".chars().cycle()).take(5_000).collect()
    }

    /// The hostile peer: a 5,000-character name with a right-to-left override, a
    /// 75,000-character body and a sent time in 2100 are filed inert, each change on the record.
    #[test]
    fn a_hostile_peers_name_body_and_sent_time_are_filed_inert() {
        let (mallory, me) = (Identity::generate(&mut OsRng), Identity::generate(&mut OsRng));
        let r = received(&mallory, &me, message::text_message("hi", Some(&override_name())), NOW - 1_000);
        let Incoming::Add { message, name, .. } = incoming(&r, "N", &me.session_id(), NOW) else { panic!() };
        let name = name.unwrap();
        assert!(name.len() <= text::MAX_NAME_BYTES, "{}", name.len());
        assert!(name.starts_with("Mallory Mallory") && !name.contains('\u{202E}'), "{name}");
        assert_eq!(message.sender_name.as_deref(), Some(name.as_str()), "the per-message name is capped too");
        assert!(message.adjusted.is_empty());
        let mut c = Conversation::new(&mallory.session_id(), Standing::Request);
        apply(&mut c, &message, Some(name.clone()), true);
        assert_eq!(c.title(), name);
        // A name set on a record some other way is made inert before it is kept.
        apply(&mut c, &message, Some(override_name()), false);
        assert_eq!(c.name.as_deref(), Some(name.as_str()));

        let r = received(&mallory, &me, message::text_message(&"x".repeat(75_000), None), NOW - 1_000);
        let Incoming::Add { message, .. } = incoming(&r, "B", &me.session_id(), NOW) else { panic!() };
        assert_eq!(message.body.chars().count(), text::MAX_RECEIVED_CHARS);
        assert_eq!(message.adjusted, Adjusted { shortened: true, claimed_timestamp: None });
        apply(&mut c, &message, None, true);
        assert_eq!(c.preview.chars().count(), 81, "the list's preview stays a short line");

        let r = received(&mallory, &me, message::text_message("from 2100", None), YEAR_2100);
        let Incoming::Add { message, .. } = incoming(&r, "F", &me.session_id(), NOW) else { panic!() };
        assert_eq!(message.timestamp, NOW, "the arrival time, not the claim");
        assert_eq!(message.adjusted, Adjusted { shortened: false, claimed_timestamp: Some(YEAR_2100) });
    }

    /// A sync copy from another device of this account whose clock is far off keeps the id its
    /// sent time gives it (so it still matches a message this device sent), ordered by arrival.
    #[test]
    fn a_sync_copy_dated_2100_keeps_its_id_and_is_ordered_by_arrival() {
        let (me, bob) = (Identity::generate(&mut OsRng), Identity::generate(&mut OsRng));
        let copy = message::sync_copy(&message::text_message("to bob", None), &bob.session_id());
        let r = received(&me, &me, copy, YEAR_2100);
        let Incoming::Add { message, .. } = incoming(&r, "H", &me.session_id(), NOW) else { panic!() };
        assert_eq!((message.id, message.timestamp), (outgoing_id(&bob.session_id(), YEAR_2100), NOW));
    }

    fn vault() -> Vault<std::rc::Rc<crate::storage::MemoryBackend>> {
        let seed = crypto_core::identity::Seed::generate(&mut OsRng);
        let backend = std::rc::Rc::new(crate::storage::MemoryBackend::default());
        futures::executor::block_on(Vault::create(
            backend,
            "p",
            &seed,
            crypto_core::vault::KdfParams::INSECURE_FOR_TESTS,
        ))
        .unwrap()
    }

    /// A message request dated 1 Jan 2100 does not pin itself above newer ones: the list is
    /// ordered by the time it arrived.
    #[test]
    fn a_request_dated_2100_does_not_sort_above_a_newer_one() {
        let vault = vault();
        let (future, later, me) =
            (Identity::generate(&mut OsRng), Identity::generate(&mut OsRng), Identity::generate(&mut OsRng));
        let me_id = me.session_id();
        futures::executor::block_on(async {
            let r = received(&future, &me, message::text_message("pinned?", Some("Future")), YEAR_2100);
            let Incoming::Add { message, name, unread } = incoming(&r, "F", &me_id, NOW) else { panic!() };
            file(&vault, &message, name, unread, Standing::Request).await.unwrap();
            let r = received(&later, &me, message::text_message("newer", Some("Later")), NOW + 60_000);
            let Incoming::Add { message, name, unread } = incoming(&r, "L", &me_id, NOW + 61_000) else { panic!() };
            file(&vault, &message, name, unread, Standing::Request).await.unwrap();
            let titles: Vec<String> = list(&vault).await.unwrap().iter().map(Conversation::title).collect();
            assert_eq!(titles, ["Later", "Future"]);
            // The record keeps what was changed.
            let (messages, _) = latest(&vault, &future.session_id(), 10).await.unwrap();
            assert_eq!(messages[0].adjusted.claimed_timestamp, Some(YEAR_2100));
        });
    }

    /// Records filed before these rules (no `adjusted`, a peer's text as it came) read back inert.
    #[test]
    fn records_from_before_read_back_inert() {
        let peer = Identity::generate(&mut OsRng).session_id();
        let old = serde_json::json!({
            "id": "in/OLD", "peer": peer, "outgoing": false, "body": "x".repeat(75_000), "timestamp": 7,
            "status": "Sent", "sender_name": override_name(), "outbox": null,
        });
        let m: Message = serde_json::from_value(old).unwrap();
        assert!(m.adjusted.is_empty(), "an older record reads with nothing adjusted");
        let vault = vault();
        futures::executor::block_on(async {
            file(&vault, &m, m.sender_name.clone(), true, Standing::Request).await.unwrap();
            let (messages, _) = latest(&vault, &peer, 10).await.unwrap();
            let shown = &messages[0];
            assert!(shown.adjusted.shortened);
            assert_eq!(shown.body.chars().count(), text::MAX_RECEIVED_CHARS);
            assert!(
                shown.sender_name.as_ref().is_some_and(|n| n.len() <= text::MAX_NAME_BYTES && !n.contains('\u{202E}'))
            );
            let mut c = conversation(&vault, &peer).await.unwrap().unwrap();
            c.name = Some(override_name());
            assert!(!c.title().contains('\u{202E}') && c.title().len() <= text::MAX_NAME_BYTES);
        });
        // What this device wrote is written as it was, with nothing to record.
        let mine = outgoing(&peer, "hi", 1, "Me", String::new(), String::new());
        assert!(!serde_json::to_string(&mine).unwrap().contains("adjusted"));
    }

    #[test]
    fn previews_are_short_single_lines_and_titles_fall_back_to_the_id() {
        assert_eq!(preview("a\nb"), "a b");
        assert_eq!(preview(&"x".repeat(100)).chars().count(), 81);
        let id: SessionId = format!("05{}", "ab".repeat(32)).parse().unwrap();
        assert_eq!(Conversation::new(&id, Standing::Accepted).title(), "05ababab…abababab");
    }

    /// The preview says what the last message is when it is not text, for front ends to word,
    /// and keeps its English for the command line; a record filed before it was kept reads its
    /// preview as a text, and a text preview adds nothing to the record.
    #[test]
    fn a_preview_says_what_the_last_message_is() {
        let id: SessionId = format!("05{}", "ab".repeat(32)).parse().unwrap();
        let mut c = Conversation::new(&id, Standing::Accepted);
        let mut m = outgoing(&id, "hi", 1, "Me", String::new(), String::new());
        c.touch(&m);
        assert_eq!((c.preview(), c.preview.as_str()), (Shown::Text("hi".into()), "hi"));
        assert!(!serde_json::to_string(&c).unwrap().contains("preview_shown"));
        m.mark_deleted();
        assert!(c.show(Some(&m)));
        assert!(!c.show(Some(&m)), "nothing changed");
        assert_eq!((c.preview(), c.preview.as_str()), (Shown::Deleted, DELETED_TEXT));
        let again: Conversation = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(again, c);
        m.status = Status::Sent;
        m.notice = Some(Notice::Disappearing(Some(Disappearing::AfterRead(300))));
        c.touch(&m);
        assert_eq!(c.preview(), Shown::Disappearing(Some(Disappearing::AfterRead(300))));
        assert_eq!(c.preview, "Messages disappear after they are read.");
        let mut old = serde_json::to_value(Conversation::new(&id, Standing::Accepted)).unwrap();
        old["preview"] = "This message was deleted.".into();
        let old: Conversation = serde_json::from_value(old).unwrap();
        assert_eq!(old.preview(), Shown::Text(DELETED_TEXT.into()), "an old record's preview stays a text");
        c.show(None);
        assert_eq!((c.preview(), c.preview_shown), (Shown::Text(String::new()), None));
    }

    /// Why a message was not sent is kept typed with it: each reason reads back as it was written
    /// (a path error of the wrong shape keeps its kind, not its detail); a record without it, or
    /// with a reason this version does not know, reads as none and keeps its English.
    #[test]
    fn a_failed_messages_reason_is_kept_typed() {
        use crypto_core::network::NetworkError;
        let id: SessionId = format!("05{}", "ab".repeat(32)).parse().unwrap();
        let reasons = crate::testing::failures();
        for reason in reasons {
            let mut m = outgoing(&id, "hi", 1, "Me", String::new(), String::new());
            m.status = Status::Failed;
            m.problem = Some(reason.to_string());
            m.failure = Some(reason.clone());
            let again: Message = serde_json::from_slice(&serde_json::to_vec(&m).unwrap()).unwrap();
            assert_eq!(again, m, "{reason}");
        }
        let mut m = outgoing(&id, "hi", 1, "Me", String::new(), String::new());
        m.failure = Some(Failure::NoPath(NetworkError::Malformed("the swarm reply")));
        let again: Message = serde_json::from_slice(&serde_json::to_vec(&m).unwrap()).unwrap();
        assert!(matches!(again.failure, Some(Failure::NoPath(NetworkError::Malformed(_)))), "{again:?}");

        let mut old = serde_json::to_value(outgoing(&id, "hi", 1, "Me", String::new(), String::new())).unwrap();
        old["problem"] = "the relay could not be reached".into();
        assert!(old.get("failure").is_none(), "no reason, no field");
        let read: Message = serde_json::from_value(old.clone()).unwrap();
        assert_eq!((read.failure, read.problem.as_deref()), (None, Some("the relay could not be reached")));
        old["failure"] = serde_json::json!([99, 1, 2, 3, "a reason from a later version"]);
        let read: Message = serde_json::from_value(old.clone()).unwrap();
        assert_eq!(read.failure, None, "an unknown reason reads as none, the message is kept");
        old["failure"] = serde_json::json!({ "Offline": null });
        let read: Message = serde_json::from_value(old).unwrap();
        assert_eq!(read.failure, None, "a reason of another shape reads as none");
    }

    /// What a message shows reads in English as it always has.
    #[test]
    fn what_a_message_shows_reads_in_english() {
        assert_eq!(Shown::Deleted.to_string(), "This message was deleted.");
        assert_eq!(Shown::Disappearing(None).to_string(), "Disappearing messages turned off.");
        assert_eq!(
            Shown::Disappearing(Some(Disappearing::AfterSend(60))).to_string(),
            "Messages disappear after they are sent."
        );
        assert_eq!(Shown::Unsupported(Unsupported::Video).to_string(), Unsupported::Video.describe());
        assert_eq!(Shown::Text("hi".into()).to_string(), "hi");
    }

    /// Reactions are last-writer-wins per (emoji, person): an older change arriving after a newer
    /// one changes nothing, a removal keeps its time, and a deleted message takes none.
    #[test]
    fn a_late_reaction_change_never_undoes_a_newer_one() {
        let (a, b) = (Identity::generate(&mut OsRng).session_id(), Identity::generate(&mut OsRng).session_id());
        let mut m = outgoing(&a, "hi", 1, "Me", String::new(), String::new());
        assert!(m.react("👍", b, 10, true));
        assert!(!m.react("👍", b, 10, true), "the same change again");
        assert!(m.react("❤️", a, 11, true));
        assert!(m.react("👍", a, 12, true));
        assert_eq!(m.reactions(), [("👍".to_owned(), vec![b, a]), ("❤️".to_owned(), vec![a])]);
        assert!(m.react("👍", b, 20, false));
        assert!(!m.react("👍", b, 15, true), "an add older than the removal");
        assert_eq!(
            m.reactions(),
            [("❤️".to_owned(), vec![a]), ("👍".to_owned(), vec![a])],
            "in the order of the oldest reaction that stands"
        );
        for i in 0..2 * MAX_REACTION_MARKS as u64 {
            m.react(&format!("{i}"), b, 100 + i, true);
        }
        assert_eq!(m.reactions.len(), MAX_REACTION_MARKS, "bounded");
        m.mark_deleted();
        assert!(!m.react("👍", b, 1_000, true));
        assert!(m.reactions().is_empty() && m.body.is_empty() && m.status == Status::Deleted);
        assert_eq!(m.shown_text(), DELETED_TEXT);
        assert_eq!(reaction_emoji(" 👍🏽 ").as_deref(), Some("👍🏽"));
        assert_eq!(reaction_emoji("\u{202E}👍").as_deref(), Some("👍"), "format characters go");
        assert_eq!(reaction_emoji("two words"), None);
        assert_eq!(reaction_emoji(&"👍".repeat(20)), None, "too long");
        assert_eq!(reaction_emoji(""), None);
    }

    /// A message is found by its author and sent time as the protocol names it (also a received
    /// one whose time was not believable, by the time its sender claimed), and deleting one for
    /// this device takes it out of the index and the preview.
    #[test]
    fn messages_are_found_by_sent_time_and_forgotten_one_by_one() {
        let vault = vault();
        let (peer, me) = (Identity::generate(&mut OsRng), Identity::generate(&mut OsRng));
        let me_id = me.session_id();
        futures::executor::block_on(async {
            let mut ids = Vec::new();
            for (i, t) in [NOW - 3_000, NOW - 2_000, YEAR_2100].into_iter().enumerate() {
                let r = received(&peer, &me, message::text_message(&format!("m{i}"), None), t);
                let Incoming::Add { message, name, unread } = incoming(&r, &format!("H{i}"), &me_id, NOW) else {
                    panic!()
                };
                file(&vault, &message, name, unread, Standing::Accepted).await.unwrap();
                ids.push(message.id);
            }
            let mine = outgoing(&peer.session_id(), "mine", NOW - 2_000, "Me", String::new(), String::new());
            file(&vault, &mine, None, false, Standing::Accepted).await.unwrap();
            let p = peer.session_id();
            let found = |by_me, t| {
                let vault = &vault;
                async move { find_sent(vault, &p, by_me, t).await.unwrap().map(|m| m.id) }
            };
            assert_eq!(
                found(false, NOW - 2_000).await.as_deref(),
                Some(ids[1].as_str()),
                "theirs, not mine at the same time"
            );
            assert_eq!(found(true, NOW - 2_000).await.as_deref(), Some(mine.id.as_str()));
            assert_eq!(found(false, NOW - 1).await, None);
            let claimed = find_sent(&vault, &p, false, YEAR_2100).await.unwrap();
            assert_eq!(claimed.map(|m| m.id), None, "filed at its arrival time: not looked for at the claim");

            let last = latest(&vault, &p, 10).await.unwrap().0;
            let newest = last.last().unwrap().clone();
            forget_message(&vault, &newest).await.unwrap();
            let after = latest(&vault, &p, 10).await.unwrap().0;
            assert_eq!(after.len(), 3);
            assert!(after.iter().all(|m| m.id != newest.id));
            let c = conversation(&vault, &p).await.unwrap().unwrap();
            assert_eq!(c.preview, after.last().unwrap().shown_text());
            let page = index::read_page(&vault, &p.to_string(), 0).await.unwrap();
            let Read::Found(page) = page else { panic!() };
            assert_eq!(page.entries.len(), 3, "the index entry went too");
        });
    }

    /// A community invitation is kept with its room's canonical URL and its name (inert), shown
    /// as one in the list; one whose URL is not a community's says so; its sync copy is this
    /// account's outgoing invitation.
    #[test]
    fn a_community_invitation_keeps_its_url_and_name() {
        use crypto_core::wire::{Content, DataMessage, OpenGroupInvitation};
        let (a, b) = (Identity::generate(&mut OsRng), Identity::generate(&mut OsRng));
        let me = b.session_id();
        let key = "a".repeat(64);
        let invite = |url: &str, name: Option<&str>| Content {
            data_message: Some(DataMessage {
                open_group_invitation: Some(OpenGroupInvitation {
                    url: Some(url.to_owned()),
                    name: name.map(str::to_owned),
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let r = received(
            &a,
            &b,
            invite(&format!("HTTP://Example.org:80/lobby?public_key={key}"), Some("Lobby\u{202e}!")),
            5,
        );
        let Incoming::Add { message, unread, .. } = incoming(&r, "I", &me, r.timestamp_ms) else { panic!("dropped") };
        assert!(unread);
        assert_eq!(message.unsupported, None);
        let invitation = message.invitation.clone().expect("kept");
        assert_eq!(invitation.url, format!("http://example.org/lobby?public_key={key}"));
        assert!(!invitation.name.contains('\u{202e}'), "the name is inert: {:?}", invitation.name);
        assert_eq!(invitation.server(), "http://example.org");
        assert_eq!(message.shown(), Shown::Invitation(invitation.name.clone()));
        let mut c = Conversation::new(&a.session_id(), Standing::Request);
        apply(&mut c, &message, None, true);
        assert_eq!(c.preview(), Shown::Invitation(invitation.name));
        // No name: the room's token.
        let r = received(&a, &b, invite(&format!("https://x.org/room_1?public_key={key}"), None), 6);
        let Incoming::Add { message, .. } = incoming(&r, "J", &me, r.timestamp_ms) else { panic!("dropped") };
        assert_eq!(message.invitation.map(|i| i.name), Some("room_1".to_owned()));
        // Not a community's URL: kept, and it says Hush cannot read it.
        for url in ["https://x.org/room", "javascript:alert(1)", ""] {
            let r = received(&a, &b, invite(url, Some("X")), 7);
            let Incoming::Add { message, .. } = incoming(&r, "K", &me, r.timestamp_ms) else { panic!("dropped") };
            assert_eq!((message.invitation, message.unsupported), (None, Some(Unsupported::CommunityInvitation)));
        }
        // A record from before invitations were read (no `invitation` field) still reads.
        let mut old = serde_json::to_value(Message::filed("in/h".into(), &me, false, String::new(), 1, None)).unwrap();
        old.as_object_mut().unwrap().remove("invitation");
        old["unsupported"] = serde_json::json!("CommunityInvitation");
        let old: Message = serde_json::from_value(old).unwrap();
        assert_eq!(old.shown(), Shown::Unsupported(Unsupported::CommunityInvitation));
    }
}
