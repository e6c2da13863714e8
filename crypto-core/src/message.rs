//! The whole 1:1 message pipeline, from `Content` to the storage `data` string and back.
//!
//! Sending: `Content` (with `sigTimestamp` = T) → pad → seal → `Envelope` {type 6, timestamp T,
//! sourceDevice 1} → `WebSocketMessage` {REQUEST, verb "", path "", requestId 0} → base64.
//! Receiving reverses every step and checks that `sigTimestamp`, when present, equals the
//! envelope's timestamp.

use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use prost::Message;
use rand_core::CryptoRngCore;

use crate::identity::{Identity, SessionId};
use crate::padding;
use crate::seal::{self, OpenError, SealError};
use crate::wire::{
    Content, DataMessage, DecodeError, Envelope, FLAG_EXPIRATION_TIMER_UPDATE, LokiProfile, Quote, Reaction,
    ReceiptMessage, TypingMessage, UnsendRequest, WebSocketMessage, WebSocketRequestMessage, content, envelope,
    reaction, receipt_message, typing_message, web_socket_message,
};

/// The time a 1:1 message waits in a swarm: 14 days, in milliseconds.
pub const DEFAULT_TTL_MS: u64 = 14 * 24 * 60 * 60 * 1000;
/// The largest message `data` a node stores, in bytes before base64.
pub const MAX_DATA_LEN: usize = 76_800;
/// The longest text body a person may send, in characters.
pub const MAX_BODY_CHARS: usize = 2_000;

/// A received message, opened and checked.
pub struct Received {
    /// Who sent it (from the key that signed it).
    pub sender: SessionId,
    /// The sender's Ed25519 public key.
    pub sender_ed25519: [u8; 32],
    /// What it says.
    pub content: Content,
    /// The envelope's sent time, in milliseconds.
    pub timestamp_ms: u64,
}

impl fmt::Debug for Received {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Received")
            .field("sender", &self.sender)
            .field("timestamp_ms", &self.timestamp_ms)
            .finish_non_exhaustive()
    }
}

/// Why stored `data` is not a message for us.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ReceiveError {
    /// The frame, envelope or content is malformed.
    Decode(DecodeError),
    /// The ciphertext could not be decrypted or its signature verified.
    Open(OpenError),
    /// `sigTimestamp` differs from the envelope's timestamp: the message is dropped.
    TimestampMismatch,
}

impl fmt::Display for ReceiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReceiveError::Decode(e) => write!(f, "malformed message: {e}"),
            ReceiveError::Open(e) => e.fmt(f),
            ReceiveError::TimestampMismatch => f.write_str("the message's signed time does not match its envelope"),
        }
    }
}

impl std::error::Error for ReceiveError {}

impl From<DecodeError> for ReceiveError {
    fn from(e: DecodeError) -> Self {
        ReceiveError::Decode(e)
    }
}

impl From<OpenError> for ReceiveError {
    fn from(e: OpenError) -> Self {
        ReceiveError::Open(e)
    }
}

/// A text message, optionally carrying the sender's display name.
pub fn text_message(body: &str, display_name: Option<&str>) -> Content {
    Content {
        data_message: Some(DataMessage {
            body: Some(body.to_owned()),
            profile: display_name.map(|name| LokiProfile { display_name: Some(name.to_owned()), ..Default::default() }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// How long a typing indicator waits in a swarm: 20 s, as Session's clients store it.
pub const TYPING_TTL_MS: u64 = 20_000;

/// How a conversation's messages disappear, as `Content` carries it (fields 12 and 13).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Expiration {
    /// `timer_s` seconds after the recipient read it (`DELETE_AFTER_READ`, 1).
    AfterRead { timer_s: u32 },
    /// `timer_s` seconds after it was sent (`DELETE_AFTER_SEND`, 2).
    AfterSend { timer_s: u32 },
}

impl Expiration {
    /// The seconds of its timer.
    pub fn timer_s(self) -> u32 {
        match self {
            Expiration::AfterRead { timer_s } | Expiration::AfterSend { timer_s } => timer_s,
        }
    }

    /// What `content` says (as Session's clients read it): off unless the timer is above 0 and the
    /// type known; any type but after-send with a timer is after-read.
    pub fn of(content: &Content) -> Option<Expiration> {
        let timer_s = content.expiration_timer.filter(|t| *t > 0)?;
        match content.expiration_type.and_then(|t| content::ExpirationType::try_from(t).ok()) {
            None | Some(content::ExpirationType::Unknown) => None,
            Some(content::ExpirationType::DeleteAfterSend) => Some(Expiration::AfterSend { timer_s }),
            Some(content::ExpirationType::DeleteAfterRead) => Some(Expiration::AfterRead { timer_s }),
        }
    }

    /// Writes `setting` into `content`: both fields always, zeros for off, as Session Desktop
    /// sends them.
    pub fn set(content: &mut Content, setting: Option<Expiration>) {
        let (kind, timer) = match setting {
            None => (content::ExpirationType::Unknown, 0),
            Some(Expiration::AfterRead { timer_s }) => (content::ExpirationType::DeleteAfterRead, timer_s),
            Some(Expiration::AfterSend { timer_s }) => (content::ExpirationType::DeleteAfterSend, timer_s),
        };
        content.expiration_type = Some(kind as i32);
        content.expiration_timer = Some(timer);
    }
}

/// A change of a conversation's disappearing-messages setting: a data message with only the flag
/// `EXPIRATION_TIMER_UPDATE` (no text, no profile), the new setting in `Content`.
pub fn timer_update(setting: Option<Expiration>) -> Content {
    let mut content = Content {
        data_message: Some(DataMessage { flags: Some(FLAG_EXPIRATION_TIMER_UPDATE), ..Default::default() }),
        ..Default::default()
    };
    Expiration::set(&mut content, setting);
    content
}

/// Whether `content` is a change of the disappearing-messages setting.
pub fn is_timer_update(content: &Content) -> bool {
    content.data_message.as_ref().and_then(|d| d.flags).is_some_and(|f| f & FLAG_EXPIRATION_TIMER_UPDATE != 0)
}

/// A reply: `body` quoting the message `author` sent at `quoted_timestamp_ms` (`snippet`: the
/// start of its text, for clients that show the quote's text from the message itself).
pub fn reply_message(
    body: &str,
    display_name: Option<&str>,
    quoted_timestamp_ms: u64,
    author: &SessionId,
    snippet: &str,
) -> Content {
    let mut content = text_message(body, display_name);
    if let Some(data) = content.data_message.as_mut() {
        data.quote = Some(Quote {
            id: Some(quoted_timestamp_ms),
            author: Some(author.to_string()),
            text: (!snippet.is_empty()).then(|| snippet.to_owned()),
        });
    }
    content
}

/// An emoji reaction (`add`) or its removal to the message `author` sent at `target_timestamp_ms`.
pub fn reaction_message(
    target_timestamp_ms: u64,
    author: &SessionId,
    emoji: &str,
    add: bool,
    display_name: Option<&str>,
) -> Content {
    let action = if add { reaction::Action::React } else { reaction::Action::Remove };
    Content {
        data_message: Some(DataMessage {
            reaction: Some(Reaction {
                id: Some(target_timestamp_ms),
                author: Some(author.to_string()),
                emoji: Some(emoji.to_owned()),
                action: Some(action as i32),
            }),
            profile: display_name.map(|name| LokiProfile { display_name: Some(name.to_owned()), ..Default::default() }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Asks the recipient (and the author's other devices) to delete the message `author` sent at
/// `target_timestamp_ms`.
pub fn unsend_message(target_timestamp_ms: u64, author: &SessionId) -> Content {
    Content {
        unsend_request: Some(UnsendRequest { timestamp: Some(target_timestamp_ms), author: Some(author.to_string()) }),
        ..Default::default()
    }
}

/// Says that the messages sent at these times were read.
pub fn read_receipt(timestamps_ms: &[u64]) -> Content {
    Content {
        receipt_message: Some(ReceiptMessage {
            r#type: Some(receipt_message::Type::Read as i32),
            timestamp: timestamps_ms.to_vec(),
        }),
        ..Default::default()
    }
}

/// Says that this account started (`started`) or stopped typing, at `timestamp_ms`.
pub fn typing_message(started: bool, timestamp_ms: u64) -> Content {
    let action = if started { typing_message::Action::Started } else { typing_message::Action::Stopped };
    Content {
        typing_message: Some(TypingMessage { timestamp: Some(timestamp_ms), action: Some(action as i32) }),
        ..Default::default()
    }
}

/// The copy of `content` for the sender's own swarm, marked with the real recipient.
pub fn sync_copy(content: &Content, recipient: &SessionId) -> Content {
    let mut copy = content.clone();
    let data = copy.data_message.get_or_insert_with(DataMessage::default);
    data.sync_target = Some(recipient.to_string());
    copy
}

fn frame(sealed: Vec<u8>, timestamp_ms: u64) -> String {
    let envelope = Envelope {
        r#type: Some(envelope::Type::SessionMessage as i32),
        timestamp: Some(timestamp_ms),
        source_device: Some(1),
        content: Some(sealed),
        ..Default::default()
    };
    let message = WebSocketMessage {
        r#type: Some(web_socket_message::Type::Request as i32),
        request: Some(WebSocketRequestMessage {
            verb: Some(String::new()),
            path: Some(String::new()),
            body: Some(envelope.encode_to_vec()),
            request_id: Some(0),
            ..Default::default()
        }),
        response: None,
    };
    STANDARD.encode(message.encode_to_vec())
}

fn padded_content(mut content: Content, timestamp_ms: u64) -> zeroize::Zeroizing<Vec<u8>> {
    content.sig_timestamp = Some(timestamp_ms);
    let plain = zeroize::Zeroizing::new(content.encode_to_vec());
    zeroize::Zeroizing::new(padding::pad(&plain))
}

/// Seals `content` from `sender` to `recipient` at network time `timestamp_ms` and returns the
/// storage `data` (base64). `sigTimestamp` is set to `timestamp_ms`.
pub fn seal_message(
    rng: &mut impl CryptoRngCore,
    sender: &Identity,
    recipient: &SessionId,
    content: Content,
    timestamp_ms: u64,
) -> Result<String, SealError> {
    let padded = padded_content(content, timestamp_ms);
    let sealed = seal::seal(rng, sender, recipient, &padded)?;
    Ok(frame(sealed, timestamp_ms))
}

/// [`seal_message`] with the deterministic sealed box: equal inputs give equal output.
pub fn seal_message_deterministic(
    sender: &Identity,
    recipient: &SessionId,
    content: Content,
    timestamp_ms: u64,
) -> Result<String, SealError> {
    let padded = padded_content(content, timestamp_ms);
    let sealed = seal::seal_deterministic(sender, recipient, &padded)?;
    Ok(frame(sealed, timestamp_ms))
}

/// Decodes the storage `data` wrapper down to the envelope, without decrypting.
pub fn decode_data(data: &str) -> Result<Envelope, DecodeError> {
    if data.len() > MAX_DATA_LEN.div_ceil(3) * 4 {
        return Err(DecodeError::TooLarge { what: "message data", max: MAX_DATA_LEN });
    }
    let raw = STANDARD.decode(data.trim()).map_err(|_| DecodeError::Base64)?;
    decode_frame(&raw)
}

/// Decodes a `WebSocketMessage` frame down to its envelope.
pub fn decode_frame(raw: &[u8]) -> Result<Envelope, DecodeError> {
    let frame = WebSocketMessage::decode(raw).map_err(|_| DecodeError::Protobuf { message: "WebSocketMessage" })?;
    let request = frame.request.ok_or(DecodeError::MissingField { message: "WebSocketMessage", field: "request" })?;
    let body = request.body.ok_or(DecodeError::MissingField { message: "WebSocketRequestMessage", field: "body" })?;
    Envelope::decode_checked(&body)
}

/// Opens the storage `data` of a message addressed to `recipient`.
pub fn open_message(recipient: &Identity, data: &str) -> Result<Received, ReceiveError> {
    let envelope = decode_data(data)?;
    open_envelope(recipient, envelope)
}

/// Opens an already decoded envelope addressed to `recipient`.
pub fn open_envelope(recipient: &Identity, envelope: Envelope) -> Result<Received, ReceiveError> {
    let timestamp_ms =
        envelope.timestamp.ok_or(DecodeError::MissingField { message: "Envelope", field: "timestamp" })?;
    let sealed = envelope.content.ok_or(DecodeError::MissingField { message: "Envelope", field: "content" })?;
    let opened = seal::open(recipient, &sealed)?;
    let content = Content::decode_checked(padding::unpad(&opened.plaintext))?;
    if content.sig_timestamp.is_some_and(|t| t != timestamp_ms) {
        return Err(ReceiveError::TimestampMismatch);
    }
    Ok(Received { sender: opened.sender, sender_ed25519: opened.sender_ed25519, content, timestamp_ms })
}
