//! Communities (SOGS v4, protocol-communities): what a client and a devnet server compute for
//! them, sans-I/O.
//!
//! - [`url`]: community URLs (`http[s]://host[:port]/room?public_key=…`).
//! - [`blinding`]: the `15` and `25` blinded ids, blinded key pairs and their Ed25519-compatible
//!   signatures, and the checks that tie a blinded id to a Session ID.
//! - [`auth`]: request signing — the `X-SOGS-*` headers a client sends, and the server's check of
//!   them with pysogs' status codes.
//! - [`post`]: community messages — padded `Content` signed with the blinded key, and on receipt
//!   checked against the poster's id (`15`, `25`, or `05` by XEd25519) and unpadded.
//! - [`dm`]: blinded DMs through the server's inbox, sealed and opened from either side.
//! - [`reply`]: the JSON replies a client reads (capabilities, rooms, poll info, messages, inbox
//!   entries, batch results), typed and read leniently.

pub mod auth;
pub mod blinding;
pub mod dm;
pub mod post;
pub mod reply;
pub mod url;

pub use auth::{AuthError, AuthPolicy, RequestAuth, RequestKey, SignedHeaders, sign_request, verify_request};
pub use blinding::{
    Blind15Nonce, BlindedKeys, BlindingError, blind15_factor, blind15_ids, blind25_id, blinded_id_matches, unblind15,
};
pub use dm::{BlindedDm, DmError, inbox_body, open_blinded_dm, seal_blinded_dm};
pub use post::{Post, PostError, open_post, sign_post, verify_post};
pub use url::{CommunityUrl, UrlError};
