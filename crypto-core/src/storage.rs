//! The storage RPC's shared rules: namespaces, message hashes, the exact strings each method signs,
//! and request signatures (made by clients, checked by nodes).

use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};

use crate::identity::{IdPrefix, Identity, SessionId, ed25519_to_x25519_public, verify_ed25519};

pub mod rpc;

/// A day in milliseconds.
const DAY_MS: u64 = 24 * 60 * 60 * 1000;
/// The shortest TTL a node accepts.
pub const MIN_TTL_MS: u64 = 10_000;
/// The longest TTL in a public-inbox namespace (such as 0).
pub const MAX_PUBLIC_TTL_MS: u64 = 14 * DAY_MS;
/// The longest TTL in a private namespace.
pub const MAX_PRIVATE_TTL_MS: u64 = 30 * DAY_MS;
/// How far a signature timestamp may be from the node's clock.
pub const SIGNATURE_TOLERANCE_MS: u64 = 60_000;
/// How far in the future a store timestamp may be.
pub const STORE_FUTURE_TOLERANCE_MS: u64 = 10_000;
/// The largest message a node stores, in bytes (before base64).
pub const MAX_MESSAGE_LEN: usize = 76_800;

/// A storage namespace: a signed 16-bit number with rules attached to its value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Namespace(pub i16);

impl Namespace {
    /// Namespace 0: 1:1 messages and sync copies.
    pub const DEFAULT: Namespace = Namespace(0);

    /// Anyone may store here without a signature (multiples of 10).
    pub fn is_public_inbox(self) -> bool {
        self.0 % 10 == 0
    }

    /// Only the owner may store, anyone may read, one message is kept (−1, −21, −41, …).
    pub fn is_public_outbox(self) -> bool {
        self.0 < 0 && (-i32::from(self.0)) % 20 == 1
    }

    /// Revoked subaccounts may still read (−11, −111, …).
    pub fn is_unrevocable(self) -> bool {
        self.0 < 0 && (-i32::from(self.0)) % 100 == 11
    }

    /// Storing here needs the owner's signature.
    pub fn store_needs_signature(self) -> bool {
        !self.is_public_inbox()
    }

    /// Reading here needs the owner's signature (all but −10 and public outboxes).
    pub fn retrieve_needs_signature(self) -> bool {
        !(self.0 == -10 || self.is_public_outbox())
    }

    /// The longest TTL allowed here.
    pub fn max_ttl_ms(self) -> u64 {
        if self.is_public_inbox() { MAX_PUBLIC_TTL_MS } else { MAX_PRIVATE_TTL_MS }
    }

    /// The namespace as it appears in signed strings and hashes: empty for 0, else decimal.
    pub fn signing_str(self) -> String {
        if self.0 == 0 { String::new() } else { self.0.to_string() }
    }
}

/// A namespace, or every namespace (for `delete_all` and friends).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NamespaceSelector {
    /// One namespace.
    One(Namespace),
    /// Every namespace (`"all"`).
    All,
}

impl NamespaceSelector {
    /// The one namespace selected, or `None` for all.
    pub fn namespace(self) -> Option<Namespace> {
        match self {
            NamespaceSelector::One(ns) => Some(ns),
            NamespaceSelector::All => None,
        }
    }

    fn signing_str(self) -> String {
        match self {
            NamespaceSelector::One(ns) => ns.signing_str(),
            NamespaceSelector::All => "all".to_owned(),
        }
    }
}

/// The storage hash of a message: unpadded base64 of BLAKE2b-256(pubkey ‖ namespace ‖ data),
/// where the namespace is empty for 0 and decimal otherwise. Always 43 characters.
pub fn message_hash(pubkey: &[u8; 33], namespace: Namespace, data: &[u8]) -> String {
    let mut hasher = Blake2b::<U32>::new();
    hasher.update(pubkey);
    hasher.update(namespace.signing_str().as_bytes());
    hasher.update(data);
    STANDARD_NO_PAD.encode(hasher.finalize())
}

/// Whether `hash` has the shape of a message hash (43 characters of standard base64).
pub fn is_message_hash(hash: &str) -> bool {
    hash.len() == 43 && hash.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// The exact bytes each storage method signs.
pub mod to_sign {
    use super::{Namespace, NamespaceSelector};

    /// `method ‖ parts…`, all concatenated without separators.
    fn concat<'a>(method: &str, parts: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
        let mut out = method.as_bytes().to_vec();
        for part in parts {
            out.extend_from_slice(part);
        }
        out
    }

    /// `method ‖ ns ‖ number`: the shape of most signed strings.
    fn ns_then(method: &str, namespace: String, number: u64) -> Vec<u8> {
        concat(method, [namespace.as_bytes(), number.to_string().as_bytes()])
    }

    /// `store` (namespaces that need a signature): `"store" ‖ ns ‖ sig_timestamp`.
    pub fn store(namespace: Namespace, sig_timestamp_ms: u64) -> Vec<u8> {
        ns_then("store", namespace.signing_str(), sig_timestamp_ms)
    }

    /// `retrieve`: `"retrieve" ‖ ns ‖ timestamp`.
    pub fn retrieve(namespace: Namespace, timestamp_ms: u64) -> Vec<u8> {
        ns_then("retrieve", namespace.signing_str(), timestamp_ms)
    }

    /// `delete`: `"delete" ‖ hash₁ ‖ hash₂ ‖ …`.
    pub fn delete<S: AsRef<str>>(hashes: &[S]) -> Vec<u8> {
        concat("delete", hashes.iter().map(|h| h.as_ref().as_bytes()))
    }

    /// `delete_all`: `"delete_all" ‖ ns ‖ timestamp` (ns may be `all`).
    pub fn delete_all(namespace: NamespaceSelector, timestamp_ms: u64) -> Vec<u8> {
        ns_then("delete_all", namespace.signing_str(), timestamp_ms)
    }

    /// `delete_before`: `"delete_before" ‖ ns ‖ before`.
    pub fn delete_before(namespace: NamespaceSelector, before_ms: u64) -> Vec<u8> {
        ns_then("delete_before", namespace.signing_str(), before_ms)
    }

    /// How `expire` may change expiries.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub enum ExpireMode {
        /// Set the expiry as given.
        Set,
        /// Only shorten.
        Shorten,
        /// Only extend.
        Extend,
    }

    /// `expire`: `"expire" ‖ mode ‖ expiry (or every expiry, concatenated) ‖ hash₁ ‖ …`.
    pub fn expire<S: AsRef<str>>(mode: ExpireMode, expiries_ms: &[u64], hashes: &[S]) -> Vec<u8> {
        let mode: &[u8] = match mode {
            ExpireMode::Set => b"",
            ExpireMode::Shorten => b"shorten",
            ExpireMode::Extend => b"extend",
        };
        let expiries: String = expiries_ms.iter().map(u64::to_string).collect();
        let head = [mode, expiries.as_bytes()];
        concat("expire", head.into_iter().chain(hashes.iter().map(|h| h.as_ref().as_bytes())))
    }

    /// `expire_all`: `"expire_all" ‖ ns ‖ expiry`.
    pub fn expire_all(namespace: NamespaceSelector, expiry_ms: u64) -> Vec<u8> {
        ns_then("expire_all", namespace.signing_str(), expiry_ms)
    }

    /// `get_expiries`: `"get_expiries" ‖ timestamp ‖ hash₁ ‖ …`.
    pub fn get_expiries<S: AsRef<str>>(timestamp_ms: u64, hashes: &[S]) -> Vec<u8> {
        let timestamp = timestamp_ms.to_string();
        concat("get_expiries", [timestamp.as_bytes()].into_iter().chain(hashes.iter().map(|h| h.as_ref().as_bytes())))
    }

    /// `revoke_subaccount`: `"revoke_subaccount" ‖ timestamp ‖ token bytes…`.
    pub fn revoke_subaccount(timestamp_ms: u64, tokens: &[&[u8]]) -> Vec<u8> {
        let timestamp = timestamp_ms.to_string();
        concat("revoke_subaccount", [timestamp.as_bytes()].into_iter().chain(tokens.iter().copied()))
    }

    /// `unrevoke_subaccount`: `"unrevoke_subaccount" ‖ timestamp ‖ token bytes…`.
    pub fn unrevoke_subaccount(timestamp_ms: u64, tokens: &[&[u8]]) -> Vec<u8> {
        let timestamp = timestamp_ms.to_string();
        concat("unrevoke_subaccount", [timestamp.as_bytes()].into_iter().chain(tokens.iter().copied()))
    }
}

/// Signs a storage request: standard base64 (with padding) of the Ed25519 signature.
pub fn sign_request(identity: &Identity, to_sign: &[u8]) -> String {
    STANDARD.encode(identity.sign(to_sign))
}

/// Why a request signature was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature does not verify.
    Invalid,
    /// `pubkey_ed25519` does not belong to the `05` ID.
    KeyMismatch,
    /// The signature is not 64 bytes of base64.
    Malformed,
    /// A `05` ID needs `pubkey_ed25519` to check signatures.
    MissingEd25519Key,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureError::Invalid => "signature verification failed",
            SignatureError::KeyMismatch => "pubkey_ed25519 does not match pubkey",
            SignatureError::Malformed => "invalid signature: expected base64 of 64 bytes",
            SignatureError::MissingEd25519Key => "pubkey_ed25519 is required for 05 pubkeys",
        })
    }
}

impl std::error::Error for SignatureError {}

/// Decodes a request signature: 88 characters of padded or 86 of unpadded standard base64.
pub fn decode_signature(signature_b64: &str) -> Result<[u8; 64], SignatureError> {
    let bytes = match signature_b64.len() {
        88 => STANDARD.decode(signature_b64),
        86 => STANDARD_NO_PAD.decode(signature_b64),
        _ => return Err(SignatureError::Malformed),
    }
    .map_err(|_| SignatureError::Malformed)?;
    bytes.try_into().map_err(|_| SignatureError::Malformed)
}

/// Checks a request signature the way a node does: for `05` IDs with `pubkey_ed25519`, which must
/// map to the ID's X25519 key; for every other prefix (`03` groups, …) the 32 bytes after the
/// prefix are the Ed25519 key itself and `pubkey_ed25519` is not used.
pub fn verify_request(
    pubkey: &SessionId,
    pubkey_ed25519: Option<&[u8; 32]>,
    to_sign: &[u8],
    signature_b64: &str,
) -> Result<(), SignatureError> {
    let signature = decode_signature(signature_b64)?;
    let signer = match pubkey.prefix() {
        IdPrefix::Standard => {
            let ed = pubkey_ed25519.ok_or(SignatureError::MissingEd25519Key)?;
            if ed25519_to_x25519_public(ed).as_ref() != Some(pubkey.key()) {
                return Err(SignatureError::KeyMismatch);
            }
            *ed
        }
        _ => *pubkey.key(),
    };
    if verify_ed25519(&signer, to_sign, &signature) { Ok(()) } else { Err(SignatureError::Invalid) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_rules() {
        assert!(Namespace(0).is_public_inbox() && Namespace(-10).is_public_inbox() && Namespace(20).is_public_inbox());
        assert!(!Namespace(2).is_public_inbox());
        assert!(
            Namespace(-1).is_public_outbox() && Namespace(-21).is_public_outbox() && !Namespace(1).is_public_outbox()
        );
        assert!(Namespace(-11).is_unrevocable() && Namespace(-111).is_unrevocable() && !Namespace(11).is_unrevocable());
        assert!(!Namespace(-10).retrieve_needs_signature() && Namespace(0).retrieve_needs_signature());
        assert_eq!(Namespace(0).max_ttl_ms(), MAX_PUBLIC_TTL_MS);
        assert_eq!(Namespace(2).max_ttl_ms(), MAX_PRIVATE_TTL_MS);
        assert_eq!(Namespace(i16::MIN).signing_str(), "-32768");
        assert!(!Namespace(i16::MIN).is_public_outbox());
    }

    #[test]
    fn signatures_are_checked_against_the_right_key() {
        let a = Identity::from_ed25519_seed(&[1; 32]);
        let b = Identity::from_ed25519_seed(&[2; 32]);
        let msg = to_sign::retrieve(Namespace(0), 1_700_000_000_000);
        let sig = sign_request(&a, &msg);
        assert_eq!(sig.len(), 88);
        let id = a.session_id();
        assert_eq!(verify_request(&id, Some(a.ed25519_public()), &msg, &sig), Ok(()));
        assert_eq!(verify_request(&id, Some(a.ed25519_public()), &msg, sig.trim_end_matches('=')), Ok(()));
        assert_eq!(verify_request(&id, None, &msg, &sig), Err(SignatureError::MissingEd25519Key));
        assert_eq!(verify_request(&id, Some(b.ed25519_public()), &msg, &sig), Err(SignatureError::KeyMismatch));
        assert_eq!(verify_request(&id, Some(a.ed25519_public()), b"other", &sig), Err(SignatureError::Invalid));
        assert_eq!(verify_request(&id, Some(a.ed25519_public()), &msg, "abc"), Err(SignatureError::Malformed));
        assert_eq!(
            verify_request(&id, Some(a.ed25519_public()), &msg, &"!".repeat(88)),
            Err(SignatureError::Malformed)
        );
        let group = SessionId::new(IdPrefix::Group, *a.ed25519_public());
        assert_eq!(verify_request(&group, None, &msg, &sig), Ok(()));
    }
}

/// Storage RPC request bodies (`{"method", "params"}`), signed where the method needs it, as JSON
/// values; built from the typed [`rpc::Request`].
pub mod requests {
    use serde_json::Value;

    use super::rpc::{
        DeleteParams, ExpireParams, Expiry, GetSwarmParams, InfoParams, Request, RetrieveParams, StoreParams,
    };
    use super::{Namespace, sign_request, to_sign};
    use crate::identity::{Identity, SessionId};

    /// The typed `store` of base64 `data` for `recipient`. Namespaces that need a signature are
    /// signed by `owner` (which must then be the recipient's identity).
    pub fn store_request(
        recipient: &SessionId,
        namespace: Namespace,
        data_b64: &str,
        timestamp_ms: u64,
        ttl_ms: u64,
        owner: Option<&Identity>,
    ) -> Request {
        let mut params = StoreParams {
            data: data_b64.to_owned(),
            expiry: None,
            namespace,
            pubkey: recipient.to_string(),
            pubkey_ed25519: None,
            sig_timestamp: None,
            signature: None,
            timestamp: timestamp_ms,
            ttl: Some(ttl_ms),
        };
        if let Some(owner) = owner.filter(|_| namespace.store_needs_signature()) {
            params.sig_timestamp = Some(timestamp_ms);
            params.pubkey_ed25519 = Some(hex::encode(owner.ed25519_public()));
            params.signature = Some(sign_request(owner, &to_sign::store(namespace, timestamp_ms)));
        }
        Request::Store(params)
    }

    /// [`store_request`] as JSON.
    pub fn store(
        recipient: &SessionId,
        namespace: Namespace,
        data_b64: &str,
        timestamp_ms: u64,
        ttl_ms: u64,
        owner: Option<&Identity>,
    ) -> Value {
        store_request(recipient, namespace, data_b64, timestamp_ms, ttl_ms, owner).to_json()
    }

    /// The typed, signed `retrieve` of `owner`'s messages in `namespace` after `last_hash`.
    pub fn retrieve_request(
        owner: &Identity,
        namespace: Namespace,
        timestamp_ms: u64,
        last_hash: Option<&str>,
    ) -> Request {
        Request::Retrieve(RetrieveParams {
            last_hash: last_hash.unwrap_or_default().to_owned(),
            max_count: None,
            max_size: None,
            namespace,
            pubkey: owner.session_id().to_string(),
            pubkey_ed25519: Some(hex::encode(owner.ed25519_public())),
            signature: Some(sign_request(owner, &to_sign::retrieve(namespace, timestamp_ms))),
            timestamp: Some(timestamp_ms),
        })
    }

    /// [`retrieve_request`] as JSON.
    pub fn retrieve(owner: &Identity, namespace: Namespace, timestamp_ms: u64, last_hash: Option<&str>) -> Value {
        retrieve_request(owner, namespace, timestamp_ms, last_hash).to_json()
    }

    /// The signed `delete` of `owner`'s messages with these hashes (every namespace of its swarm).
    pub fn delete_request(owner: &Identity, hashes: &[String]) -> Request {
        Request::Delete(DeleteParams {
            messages: hashes.to_vec(),
            pubkey: owner.session_id().to_string(),
            pubkey_ed25519: Some(hex::encode(owner.ed25519_public())),
            required: false,
            signature: sign_request(owner, &to_sign::delete(hashes)),
        })
    }

    /// [`delete_request`] as JSON.
    pub fn delete(owner: &Identity, hashes: &[String]) -> Value {
        delete_request(owner, hashes).to_json()
    }

    /// The signed `expire` that shortens (never extends) the expiry of `owner`'s messages with
    /// these hashes to `expiry_ms`, as Session's clients shorten a read disappearing message.
    pub fn shorten_request(owner: &Identity, hashes: &[String], expiry_ms: u64) -> Request {
        Request::Expire(ExpireParams {
            expiry: Expiry::One(expiry_ms),
            extend: false,
            messages: hashes.to_vec(),
            pubkey: owner.session_id().to_string(),
            pubkey_ed25519: Some(hex::encode(owner.ed25519_public())),
            shorten: true,
            signature: sign_request(owner, &to_sign::expire(to_sign::ExpireMode::Shorten, &[expiry_ms], hashes)),
        })
    }

    /// [`shorten_request`] as JSON.
    pub fn shorten(owner: &Identity, hashes: &[String], expiry_ms: u64) -> Value {
        shorten_request(owner, hashes, expiry_ms).to_json()
    }

    /// `get_swarm` for `pubkey`.
    pub fn get_swarm(pubkey: &SessionId) -> Value {
        Request::GetSwarm(GetSwarmParams { pubkey: pubkey.to_string() }).to_json()
    }

    /// `info`.
    pub fn info() -> Value {
        Request::Info(InfoParams {}).to_json()
    }
}
