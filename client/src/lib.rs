//! Hush's client engine: the messenger's rules, once, for every front end.
//!
//! The browser app (Leptos) and the `hush` command line are thin layers over [`Engine`]. It owns
//! the account's lifecycle, the vault, conversations and their records, sending through the
//! outbox, polling, message requests, blocking, and the network client. It reaches the world only
//! through the traits in [`platform`] — a [`Transport`](platform::Transport) to the relay (every
//! request with a deadline), a [`Clock`](platform::Clock), and the vault's
//! [`Backend`](storage::Backend) — and tells its front ends what changed through [`Event`]s.
//!
//! Module layers, each depending only on those before it: `platform`, `text` (peers' text made
//! inert), `storage` (with its `index` and `migrations`), `account`, `attachments`, `conversations`, `relay`,
//! `network`, `event`, `error`, `session`, `files`, `avatars`, `sync` (config sync), then `outbox`,
//! `disappearing`, `actions`, `inbox`, `messaging`, `communities`, and `engine` on top.

pub mod account;
mod actions;
pub mod attachments;
mod avatars;
pub mod communities;
#[cfg(any(test, feature = "conformance"))]
#[doc(hidden)]
pub mod conformance;
pub mod conversations;
mod disappearing;
mod engine;
mod error;
mod event;
mod files;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod images;
mod inbox;
mod messaging;
pub mod network;
mod outbox;
pub mod platform;
pub mod relay;
mod session;
pub mod storage;
mod sync;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text;

pub use actions::{TYPING_RESEND_MS, TYPING_SHOWN_MS};
pub use crypto_core::identity::SessionId;
pub use engine::{Engine, KDF};
pub use error::{Error, Sentence, megabytes};
pub use event::Event;
pub use files::{FILE_DEADLINE, NewFile};
pub use messaging::{MAX_CHARS, Notification, NotificationBody};
pub use outbox::{RETRY_EVERY, ROUNDS};
pub use sync::{CONFIG_TTL_MS, EXTEND_EVERY_MS, Restored};
