//! What the engine tells its front ends: typed events, delivered in order on the front end's
//! thread through the callback given to `Engine::on_event`.

use crate::conversations::Message;
use crate::network::NetStatus;

/// Something changed that a front end may show.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "made at most a few times a second and handed straight to the front end; a box would only add an allocation"
)]
pub enum Event {
    /// The conversation list changed (a message filed, a request accepted, a conversation
    /// deleted): read it again with `Engine::conversations`.
    Conversations,
    /// A message was filed or changed (a new message, a status, a failure's reason).
    Message {
        /// The message as the vault now holds it.
        message: Message,
        /// Whether it is a newly received message (not one sent here, nor a change of one).
        arrived: bool,
    },
    /// A message was deleted from this device ("delete for me"): take it off the screen.
    Removed {
        /// Its conversation.
        peer: crypto_core::identity::SessionId,
        /// Its id.
        id: String,
    },
    /// `peer` started (`typing`) or stopped typing to this account. A start holds for
    /// [`TYPING_SHOWN_MS`](crate::TYPING_SHOWN_MS) unless renewed; only sent with typing
    /// indicators on.
    Typing {
        /// Who.
        peer: crypto_core::identity::SessionId,
        /// Started (true) or stopped.
        typing: bool,
    },
    /// A file of the outgoing message `id` is uploading: `sent` of the `total` bytes of its
    /// request went out (`total` counts the onion around the file; the fraction is what to show).
    Upload {
        /// The message's id.
        id: String,
        /// Which of its files.
        index: usize,
        /// Bytes sent so far.
        sent: u64,
        /// Bytes in all.
        total: u64,
    },
    /// The community list changed (a room joined or left, its details or unread count): read it
    /// again with `Engine::communities`.
    Communities,
    /// A room's messages changed (new posts, edits, deletions, reactions): read them again with
    /// `Engine::room_messages`.
    Community {
        /// The room's URL, as `Community::url` gives it.
        room: String,
    },
    /// The network client's status changed.
    Network(NetStatus),
    /// The account record changed (created, unlocked, its settings saved).
    Account,
    /// The account was locked or deleted: the session is gone.
    Locked,
    /// Background work could not write to the device's storage (what it was doing goes on and
    /// is tried again; the person should know their storage is refusing).
    Problem(crate::Error),
}
