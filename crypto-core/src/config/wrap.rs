//! The protobuf wrapping of user configs (§2.5, libsession `protos.cpp`), from the outside in:
//! `WebSocketMessage{REQUEST, WebSocketRequestMessage{"", "", Envelope, 0}}`,
//! `Envelope{SESSION_MESSAGE, timestamp 1, box}`, the box a deterministic sealed box to oneself of
//! `Content{sharedConfigMessage{kind, seqno, data}} ‖ 0x80`.
//!
//! The outer frame is `wire`'s, as for stored messages; the envelope and content types are here
//! rather than in `wire`: they are the old shapes libsession still writes for configs (desktop's
//! current `SignalService.proto` reserves `sharedConfigMessage`).

use crate::identity::Identity;
use crate::seal::{self, OpenError};
use crate::wire::{WebSocketMessage, WebSocketRequestMessage};

use super::ConfigKind;

/// The `Envelope` fields a wrapped config uses.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ConfigEnvelope {
    /// SESSION_MESSAGE = 6.
    #[prost(int32, optional, tag = "1")]
    pub r#type: Option<i32>,
    /// Always 1.
    #[prost(uint64, optional, tag = "5")]
    pub timestamp: Option<u64>,
    /// The sealed box.
    #[prost(bytes = "vec", optional, tag = "8")]
    pub content: Option<Vec<u8>>,
}

/// The `Content` field a wrapped config uses.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ConfigContent {
    /// Field 11.
    #[prost(message, optional, tag = "11")]
    pub shared_config_message: Option<SharedConfigMessage>,
}

/// `SharedConfigMessage`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SharedConfigMessage {
    /// USER_PROFILE 1, CONTACTS 2, CONVO_INFO_VOLATILE 3, USER_GROUPS 4.
    #[prost(int32, optional, tag = "1")]
    pub kind: Option<i32>,
    /// The config's seqno.
    #[prost(int64, optional, tag = "2")]
    pub seqno: Option<i64>,
    /// The encrypted config (§2.3).
    #[prost(bytes = "vec", optional, tag = "3")]
    pub data: Option<Vec<u8>>,
}

const REQUEST: i32 = 1;
const SESSION_MESSAGE: i32 = 6;

/// Wraps an encrypted user config for `identity`'s own swarm. `None` for a group config kind (never
/// wrapped).
pub fn wrap(identity: &Identity, kind: ConfigKind, seqno: i64, encrypted: &[u8]) -> Option<Vec<u8>> {
    let content = ConfigContent {
        shared_config_message: Some(SharedConfigMessage {
            kind: Some(kind.protobuf_kind()?),
            seqno: Some(seqno),
            data: Some(encrypted.to_vec()),
        }),
    };
    let mut plaintext = prost::Message::encode_to_vec(&content);
    plaintext.push(0x80);
    let sealed = seal::seal_deterministic(identity, &identity.session_id(), &plaintext).ok()?;
    let envelope = ConfigEnvelope { r#type: Some(SESSION_MESSAGE), timestamp: Some(1), content: Some(sealed) };
    let message = WebSocketMessage {
        r#type: Some(REQUEST),
        request: Some(WebSocketRequestMessage {
            verb: Some(String::new()),
            path: Some(String::new()),
            body: Some(prost::Message::encode_to_vec(&envelope)),
            headers: Vec::new(),
            request_id: Some(0),
        }),
        response: None,
    };
    Some(prost::Message::encode_to_vec(&message))
}

/// Unwraps a user config: the request, the envelope, the box (which must open with `identity`'s key
/// and come from `identity` itself), the `0x80` end, and a kind matching `kind`, with the fields
/// libsession's proto2 parser requires. Any failure is the one opaque [`OpenError`]: the caller
/// then reads the bytes as they are.
pub fn unwrap(identity: &Identity, kind: ConfigKind, data: &[u8]) -> Result<Vec<u8>, OpenError> {
    let message: WebSocketMessage = prost::Message::decode(data).map_err(|_| OpenError)?;
    if message.r#type != Some(REQUEST) {
        return Err(OpenError);
    }
    let body = message.request.and_then(|r| r.body).ok_or(OpenError)?;
    let envelope: ConfigEnvelope = prost::Message::decode(body.as_slice()).map_err(|_| OpenError)?;
    // proto2 `required`: libsession's parser refuses an envelope without its type and timestamp.
    if envelope.r#type.is_none() || envelope.timestamp.is_none() {
        return Err(OpenError);
    }
    let sealed = envelope.content.ok_or(OpenError)?;
    let opened = seal::open(identity, &sealed)?;
    if opened.sender_ed25519 != *identity.ed25519_public() {
        return Err(OpenError);
    }
    let padded: &[u8] = &opened.plaintext;
    let end = padded.iter().rposition(|&b| b != 0).ok_or(OpenError)?;
    let (marker, content) = padded.get(..=end).and_then(<[u8]>::split_last).ok_or(OpenError)?;
    if *marker != 0x80 {
        return Err(OpenError);
    }
    let content: ConfigContent = prost::Message::decode(content).map_err(|_| OpenError)?;
    let shared = content.shared_config_message.ok_or(OpenError)?;
    // kind, seqno and data are all `required`.
    if shared.kind != kind.protobuf_kind() || shared.seqno.is_none() {
        return Err(OpenError);
    }
    shared.data.ok_or(OpenError)
}
