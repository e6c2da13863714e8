//! The protobuf messages of the Session protocol (`SessionProtos`, `WebSocketProtos`), with the
//! field numbers used on the wire today.
//!
//! The schema is proto2. Fields the schema marks `required` are `Option`s here so that a decoded
//! message can be checked: [`Envelope::decode_checked`] and [`Content::decode_checked`] reject a
//! message that lacks one, saying which. Messages the client does not interpret yet (Pro data,
//! group updates) are kept as opaque bytes, so re-encoding keeps them; fields this schema does not
//! name at all are dropped on decoding (prost keeps no unknown fields), which is harmless because
//! nothing decoded here is re-encoded and forwarded.

use core::fmt;

use prost::Message;

/// A malformed wire message: what was being decoded and what was wrong.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum DecodeError {
    /// The text is not standard base64.
    Base64,
    /// The bytes are not a valid protobuf encoding of this message.
    Protobuf { message: &'static str },
    /// A field the schema requires is absent.
    MissingField { message: &'static str, field: &'static str },
    /// The input is larger than this limit.
    TooLarge { what: &'static str, max: usize },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Base64 => f.write_str("not valid base64"),
            DecodeError::Protobuf { message } => write!(f, "malformed {message}"),
            DecodeError::MissingField { message, field } => {
                write!(f, "{message} lacks its required field {field}")
            }
            DecodeError::TooLarge { what, max } => write!(f, "{what} is larger than {max} bytes"),
        }
    }
}

impl std::error::Error for DecodeError {}

fn decode<M: Message + Default>(bytes: &[u8], message: &'static str) -> Result<M, DecodeError> {
    M::decode(bytes).map_err(|_| DecodeError::Protobuf { message })
}

fn require<T>(value: &Option<T>, message: &'static str, field: &'static str) -> Result<(), DecodeError> {
    match value {
        Some(_) => Ok(()),
        None => Err(DecodeError::MissingField { message, field }),
    }
}

/// The outer frame of a stored 1:1 message (`WebSocketProtos.WebSocketMessage`).
#[derive(Clone, PartialEq, Message)]
pub struct WebSocketMessage {
    #[prost(enumeration = "web_socket_message::Type", optional, tag = "1")]
    pub r#type: Option<i32>,
    #[prost(message, optional, tag = "2")]
    pub request: Option<WebSocketRequestMessage>,
    #[prost(message, optional, tag = "3")]
    pub response: Option<WebSocketResponseMessage>,
}

/// Nested types of [`WebSocketMessage`].
pub mod web_socket_message {
    /// The frame's kind.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum Type {
        Unknown = 0,
        Request = 1,
        Response = 2,
    }
}

/// A request frame; its `body` is the serialized [`Envelope`].
#[derive(Clone, PartialEq, Message)]
pub struct WebSocketRequestMessage {
    #[prost(string, optional, tag = "1")]
    pub verb: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub path: Option<String>,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub body: Option<Vec<u8>>,
    #[prost(string, repeated, tag = "5")]
    pub headers: Vec<String>,
    #[prost(uint64, optional, tag = "4")]
    pub request_id: Option<u64>,
}

/// A response frame (not used for stored messages; kept for completeness of the schema).
#[derive(Clone, PartialEq, Message)]
pub struct WebSocketResponseMessage {
    #[prost(uint64, optional, tag = "1")]
    pub id: Option<u64>,
    #[prost(uint32, optional, tag = "2")]
    pub status: Option<u32>,
    #[prost(string, optional, tag = "3")]
    pub message: Option<String>,
    #[prost(string, repeated, tag = "5")]
    pub headers: Vec<String>,
    #[prost(bytes = "vec", optional, tag = "4")]
    pub body: Option<Vec<u8>>,
}

/// `SessionProtos.Envelope`: the sealed content and its timestamp.
#[derive(Clone, PartialEq, Message)]
pub struct Envelope {
    /// Required.
    #[prost(enumeration = "envelope::Type", optional, tag = "1")]
    pub r#type: Option<i32>,
    #[prost(string, optional, tag = "2")]
    pub source: Option<String>,
    /// Required: sent time in milliseconds (network time).
    #[prost(uint64, optional, tag = "5")]
    pub timestamp: Option<u64>,
    #[prost(uint32, optional, tag = "7")]
    pub source_device: Option<u32>,
    #[prost(bytes = "vec", optional, tag = "8")]
    pub content: Option<Vec<u8>>,
    #[prost(uint64, optional, tag = "10")]
    pub server_timestamp: Option<u64>,
    #[prost(bytes = "vec", optional, tag = "11")]
    pub pro_sig: Option<Vec<u8>>,
}

/// Nested types of [`Envelope`].
pub mod envelope {
    /// The envelope's kind.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum Type {
        SessionMessage = 6,
        ClosedGroupMessage = 7,
    }
}

impl Envelope {
    /// Decodes an envelope and checks its required fields.
    pub fn decode_checked(bytes: &[u8]) -> Result<Envelope, DecodeError> {
        let envelope: Envelope = decode(bytes, "Envelope")?;
        require(&envelope.r#type, "Envelope", "type")?;
        require(&envelope.timestamp, "Envelope", "timestamp")?;
        Ok(envelope)
    }
}

/// `SessionProtos.Content`: what a message says.
#[derive(Clone, PartialEq, Message)]
pub struct Content {
    #[prost(message, optional, tag = "1")]
    pub data_message: Option<DataMessage>,
    #[prost(message, optional, tag = "3")]
    pub call_message: Option<CallMessage>,
    #[prost(message, optional, tag = "5")]
    pub receipt_message: Option<ReceiptMessage>,
    #[prost(message, optional, tag = "6")]
    pub typing_message: Option<TypingMessage>,
    #[prost(message, optional, tag = "8")]
    pub data_extraction_notification: Option<DataExtractionNotification>,
    #[prost(message, optional, tag = "9")]
    pub unsend_request: Option<UnsendRequest>,
    #[prost(message, optional, tag = "10")]
    pub message_request_response: Option<MessageRequestResponse>,
    #[prost(enumeration = "content::ExpirationType", optional, tag = "12")]
    pub expiration_type: Option<i32>,
    #[prost(uint32, optional, tag = "13")]
    pub expiration_timer: Option<u32>,
    /// Milliseconds; must equal the envelope's timestamp for 1:1 messages.
    #[prost(uint64, optional, tag = "15")]
    pub sig_timestamp: Option<u64>,
    /// `ProMessage`, kept opaque.
    #[prost(bytes = "vec", optional, tag = "16")]
    pub pro_message: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "17")]
    pub pro_sig_for_community_message_only: Option<Vec<u8>>,
}

/// Nested types of [`Content`].
pub mod content {
    /// How disappearing messages count down.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum ExpirationType {
        Unknown = 0,
        DeleteAfterRead = 1,
        DeleteAfterSend = 2,
    }
}

impl Content {
    /// Decodes content and checks the required fields of every part present.
    pub fn decode_checked(bytes: &[u8]) -> Result<Content, DecodeError> {
        let content: Content = decode(bytes, "Content")?;
        content.check()?;
        Ok(content)
    }

    /// The content's protobuf bytes, as [`Content::decode_checked`] reads them.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode_to_vec()
    }

    fn check(&self) -> Result<(), DecodeError> {
        if let Some(data) = &self.data_message {
            data.check()?;
        }
        if let Some(call) = &self.call_message {
            require(&call.r#type, "CallMessage", "type")?;
            require(&call.uuid, "CallMessage", "uuid")?;
        }
        if let Some(receipt) = &self.receipt_message {
            require(&receipt.r#type, "ReceiptMessage", "type")?;
        }
        if let Some(typing) = &self.typing_message {
            require(&typing.timestamp, "TypingMessage", "timestamp")?;
            require(&typing.action, "TypingMessage", "action")?;
        }
        if let Some(notification) = &self.data_extraction_notification {
            require(&notification.r#type, "DataExtractionNotification", "type")?;
        }
        if let Some(unsend) = &self.unsend_request {
            require(&unsend.timestamp, "UnsendRequest", "timestamp")?;
            require(&unsend.author, "UnsendRequest", "author")?;
        }
        if let Some(response) = &self.message_request_response {
            require(&response.is_approved, "MessageRequestResponse", "isApproved")?;
        }
        Ok(())
    }
}

/// `SessionProtos.DataMessage`: a visible message.
#[derive(Clone, PartialEq, Message)]
pub struct DataMessage {
    #[prost(string, optional, tag = "1")]
    pub body: Option<String>,
    #[prost(message, repeated, tag = "2")]
    pub attachments: Vec<AttachmentPointer>,
    #[prost(uint32, optional, tag = "4")]
    pub flags: Option<u32>,
    #[prost(bytes = "vec", optional, tag = "6")]
    pub profile_key: Option<Vec<u8>>,
    #[prost(message, optional, tag = "8")]
    pub quote: Option<Quote>,
    #[prost(message, repeated, tag = "10")]
    pub preview: Vec<Preview>,
    #[prost(message, optional, tag = "11")]
    pub reaction: Option<Reaction>,
    #[prost(message, optional, tag = "101")]
    pub profile: Option<LokiProfile>,
    #[prost(message, optional, tag = "102")]
    pub open_group_invitation: Option<OpenGroupInvitation>,
    /// On the copy sent to one's own swarm: the recipient's Session ID.
    #[prost(string, optional, tag = "105")]
    pub sync_target: Option<String>,
    #[prost(bool, optional, tag = "106")]
    pub blocks_community_message_requests: Option<bool>,
    /// `GroupUpdateMessage`, kept opaque.
    #[prost(bytes = "vec", optional, tag = "120")]
    pub group_update_message: Option<Vec<u8>>,
}

impl DataMessage {
    fn check(&self) -> Result<(), DecodeError> {
        for attachment in &self.attachments {
            require(&attachment.id, "AttachmentPointer", "id")?;
        }
        if let Some(quote) = &self.quote {
            require(&quote.id, "Quote", "id")?;
            require(&quote.author, "Quote", "author")?;
        }
        for preview in &self.preview {
            require(&preview.url, "Preview", "url")?;
            if let Some(image) = &preview.image {
                require(&image.id, "AttachmentPointer", "id")?;
            }
        }
        if let Some(reaction) = &self.reaction {
            require(&reaction.id, "Reaction", "id")?;
            require(&reaction.author, "Reaction", "author")?;
            require(&reaction.action, "Reaction", "action")?;
        }
        Ok(())
    }
}

/// `DataMessage.flags` bit: this message updates the disappearing-messages timer.
pub const FLAG_EXPIRATION_TIMER_UPDATE: u32 = 2;

/// `LokiProfile`: the sender's display name and picture.
#[derive(Clone, PartialEq, Message)]
pub struct LokiProfile {
    #[prost(string, optional, tag = "1")]
    pub display_name: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub profile_picture: Option<String>,
    #[prost(uint64, optional, tag = "3")]
    pub last_profile_update_seconds: Option<u64>,
}

/// A quoted message.
#[derive(Clone, PartialEq, Message)]
pub struct Quote {
    /// Required: the quoted message's sent timestamp.
    #[prost(uint64, optional, tag = "1")]
    pub id: Option<u64>,
    /// Required: the quoted message's author.
    #[prost(string, optional, tag = "2")]
    pub author: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub text: Option<String>,
}

/// A link preview.
#[derive(Clone, PartialEq, Message)]
pub struct Preview {
    /// Required.
    #[prost(string, optional, tag = "1")]
    pub url: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub title: Option<String>,
    #[prost(message, optional, tag = "3")]
    pub image: Option<AttachmentPointer>,
}

/// An emoji reaction to a message.
#[derive(Clone, PartialEq, Message)]
pub struct Reaction {
    /// Required: the target message's sent timestamp.
    #[prost(uint64, optional, tag = "1")]
    pub id: Option<u64>,
    /// Required: the target message's author.
    #[prost(string, optional, tag = "2")]
    pub author: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub emoji: Option<String>,
    /// Required.
    #[prost(enumeration = "reaction::Action", optional, tag = "4")]
    pub action: Option<i32>,
}

/// Nested types of [`Reaction`].
pub mod reaction {
    /// Add or remove.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum Action {
        React = 0,
        Remove = 1,
    }
}

/// An invitation to a community.
#[derive(Clone, PartialEq, Message)]
pub struct OpenGroupInvitation {
    #[prost(string, optional, tag = "1")]
    pub url: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub name: Option<String>,
}

/// An attachment's location and key.
#[derive(Clone, PartialEq, Message)]
pub struct AttachmentPointer {
    /// Required (send 0 when there is nothing to say).
    #[prost(fixed64, optional, tag = "1")]
    pub id: Option<u64>,
    #[prost(string, optional, tag = "2")]
    pub content_type: Option<String>,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub key: Option<Vec<u8>>,
    #[prost(uint32, optional, tag = "4")]
    pub size: Option<u32>,
    #[prost(bytes = "vec", optional, tag = "6")]
    pub digest: Option<Vec<u8>>,
    #[prost(string, optional, tag = "7")]
    pub file_name: Option<String>,
    #[prost(uint32, optional, tag = "8")]
    pub flags: Option<u32>,
    #[prost(uint32, optional, tag = "9")]
    pub width: Option<u32>,
    #[prost(uint32, optional, tag = "10")]
    pub height: Option<u32>,
    #[prost(string, optional, tag = "11")]
    pub caption: Option<String>,
    #[prost(string, optional, tag = "101")]
    pub url: Option<String>,
}

/// Delivery and read receipts.
#[derive(Clone, PartialEq, Message)]
pub struct ReceiptMessage {
    /// Required.
    #[prost(enumeration = "receipt_message::Type", optional, tag = "1")]
    pub r#type: Option<i32>,
    #[prost(uint64, repeated, packed = "false", tag = "2")]
    pub timestamp: Vec<u64>,
}

/// Nested types of [`ReceiptMessage`].
pub mod receipt_message {
    /// Which receipt.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum Type {
        Delivery = 0,
        Read = 1,
    }
}

/// Typing indicators.
#[derive(Clone, PartialEq, Message)]
pub struct TypingMessage {
    /// Required.
    #[prost(uint64, optional, tag = "1")]
    pub timestamp: Option<u64>,
    /// Required.
    #[prost(enumeration = "typing_message::Action", optional, tag = "2")]
    pub action: Option<i32>,
}

/// Nested types of [`TypingMessage`].
pub mod typing_message {
    /// Started or stopped.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum Action {
        Started = 0,
        Stopped = 1,
    }
}

/// A request to delete a sent message everywhere.
#[derive(Clone, PartialEq, Message)]
pub struct UnsendRequest {
    /// Required.
    #[prost(uint64, optional, tag = "1")]
    pub timestamp: Option<u64>,
    /// Required.
    #[prost(string, optional, tag = "2")]
    pub author: Option<String>,
}

/// Accepting a message request.
#[derive(Clone, PartialEq, Message)]
pub struct MessageRequestResponse {
    /// Required.
    #[prost(bool, optional, tag = "1")]
    pub is_approved: Option<bool>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub profile_key: Option<Vec<u8>>,
    #[prost(message, optional, tag = "3")]
    pub profile: Option<LokiProfile>,
}

/// Screenshot or media-saved notices.
#[derive(Clone, PartialEq, Message)]
pub struct DataExtractionNotification {
    /// Required.
    #[prost(enumeration = "data_extraction_notification::Type", optional, tag = "1")]
    pub r#type: Option<i32>,
    #[prost(uint64, optional, tag = "2")]
    pub timestamp: Option<u64>,
}

/// Nested types of [`DataExtractionNotification`].
pub mod data_extraction_notification {
    /// What happened.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum Type {
        Screenshot = 1,
        MediaSaved = 2,
    }
}

/// Call signalling.
#[derive(Clone, PartialEq, Message)]
pub struct CallMessage {
    /// Required.
    #[prost(enumeration = "call_message::Type", optional, tag = "1")]
    pub r#type: Option<i32>,
    #[prost(string, repeated, tag = "2")]
    pub sdps: Vec<String>,
    #[prost(uint32, repeated, packed = "false", tag = "3")]
    pub sdp_m_line_indexes: Vec<u32>,
    #[prost(string, repeated, tag = "4")]
    pub sdp_mids: Vec<String>,
    /// Required.
    #[prost(string, optional, tag = "5")]
    pub uuid: Option<String>,
}

/// Nested types of [`CallMessage`].
pub mod call_message {
    /// The signalling step.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum Type {
        PreOffer = 6,
        Offer = 1,
        Answer = 2,
        ProvisionalAnswer = 3,
        IceCandidates = 4,
        EndCall = 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_envelope_without_required_fields() {
        let envelope = Envelope { r#type: Some(6), ..Default::default() };
        assert_eq!(
            Envelope::decode_checked(&envelope.encode_to_vec()),
            Err(DecodeError::MissingField { message: "Envelope", field: "timestamp" })
        );
        let envelope = Envelope { timestamp: Some(1), ..Default::default() };
        assert_eq!(
            Envelope::decode_checked(&envelope.encode_to_vec()),
            Err(DecodeError::MissingField { message: "Envelope", field: "type" })
        );
    }

    #[test]
    fn rejects_garbage_with_the_message_name() {
        assert_eq!(Envelope::decode_checked(&[0xff, 0xff, 0xff]), Err(DecodeError::Protobuf { message: "Envelope" }));
        assert_eq!(Content::decode_checked(&[0x0a, 0x05, 0x01]), Err(DecodeError::Protobuf { message: "Content" }));
    }

    #[test]
    fn rejects_nested_missing_required_fields() {
        let content = Content {
            data_message: Some(DataMessage {
                quote: Some(Quote { id: Some(1), ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            Content::decode_checked(&content.encode_to_vec()),
            Err(DecodeError::MissingField { message: "Quote", field: "author" })
        );
    }

    #[test]
    fn keeps_unknown_enum_values_and_opaque_parts() {
        let content = Content { expiration_type: Some(9), pro_message: Some(vec![1, 2, 3]), ..Default::default() };
        assert_eq!(Content::decode_checked(&content.encode_to_vec()).unwrap(), content);
    }
}
