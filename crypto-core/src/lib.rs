//! The Hush protocol core.
//!
//! Everything Hush says on the wire is built and checked here, once, for both the browser
//! (`wasm32-unknown-unknown`) and the node: identities and recovery phrases, sealing and opening
//! 1:1 messages, the storage RPC's signed strings and message hashes, swarm selection and onion
//! layers.
//!
//! The crate is *sans-I/O*: it never fetches, stores, sleeps, reads a clock or seeds its own
//! randomness. Callers pass a cryptographic RNG and the current (network) time.
//! Untrusted input never panics; decode failures are typed and cryptographic failures are one
//! opaque error.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

mod curve;
pub mod identity;
pub mod message;
pub mod mnemonic;
pub mod network;
pub mod onion;
pub mod padding;
pub mod seal;
pub mod storage;
pub mod swarm;
pub mod vault;
pub mod wire;

#[doc(hidden)]
pub mod internal;
