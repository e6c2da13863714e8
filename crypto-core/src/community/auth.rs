//! Request signing (protocol-communities §2): the four `X-SOGS-*` headers a client adds to every
//! request, and the server's check of them in pysogs' order, with the status and text pysogs
//! answers for each failure.
//!
//! The signed message is `S ‖ nonce ‖ timestamp ‖ METHOD ‖ path[?query] ‖ [BLAKE2b-512(body)]`:
//! the server's X25519 key, the 16 nonce bytes, the timestamp's ASCII exactly as sent, and the
//! body's hash only when there is a body.

use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use blake2::{Blake2b512, Digest};
use rand_core::CryptoRngCore;

use super::blinding::{BlindedKeys, prime_order_point};
use crate::identity::{IdPrefix, Identity, SessionId, ed25519_to_x25519_public, verify_ed25519};

/// How far a request's timestamp may be from the server's clock: 24 hours, in seconds.
pub const MAX_CLOCK_SKEW_S: i64 = 86_400;

/// The header names, as session-desktop writes them (servers compare them case-insensitively).
pub const HEADER_PUBKEY: &str = "X-SOGS-Pubkey";
/// The nonce header.
pub const HEADER_NONCE: &str = "X-SOGS-Nonce";
/// The timestamp header.
pub const HEADER_TIMESTAMP: &str = "X-SOGS-Timestamp";
/// The signature header.
pub const HEADER_SIGNATURE: &str = "X-SOGS-Signature";

/// The key a request is signed with.
#[derive(Clone, Copy, Debug)]
pub enum RequestKey<'a> {
    /// A blinded key pair (`15`, what blinded servers require; or `25`).
    Blinded(&'a BlindedKeys),
    /// The account's own Ed25519 key, sent as `00` ‖ key (servers that do not require blinding).
    Unblinded(&'a Identity),
}

/// The four headers of a signed request, encoded as session-desktop sends them: the key in hex,
/// the nonce and signature in padded base64, the timestamp in decimal.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SignedHeaders {
    /// `X-SOGS-Pubkey`: `15…`, `25…` or `00…`, 66 hex characters.
    pub pubkey: String,
    /// `X-SOGS-Nonce`: 16 bytes in base64.
    pub nonce: String,
    /// `X-SOGS-Timestamp`: unix seconds.
    pub timestamp: String,
    /// `X-SOGS-Signature`: 64 bytes in base64.
    pub signature: String,
}

impl SignedHeaders {
    /// The headers as (name, value) pairs, for the v4 request's `headers`.
    pub fn pairs(&self) -> [(&'static str, &str); 4] {
        [
            (HEADER_PUBKEY, &self.pubkey),
            (HEADER_NONCE, &self.nonce),
            (HEADER_TIMESTAMP, &self.timestamp),
            (HEADER_SIGNATURE, &self.signature),
        ]
    }
}

/// The bytes a request signature covers. `path` is the endpoint as sent, with its query (raw
/// UTF-8, not percent-encoded); `body` is hashed only when non-empty.
pub fn signed_message(
    server: &[u8; 32],
    nonce: &[u8; 16],
    timestamp: &str,
    method: &str,
    path: &str,
    body: &[u8],
) -> Vec<u8> {
    let mut msg = Vec::with_capacity(32 + 16 + timestamp.len() + method.len() + path.len() + 64);
    msg.extend_from_slice(server);
    msg.extend_from_slice(nonce);
    msg.extend_from_slice(timestamp.as_bytes());
    msg.extend_from_slice(method.as_bytes());
    msg.extend_from_slice(path.as_bytes());
    if !body.is_empty() {
        msg.extend_from_slice(&Blake2b512::digest(body));
    }
    msg
}

/// Signs a request at `now_s` (network time, unix seconds) with a fresh random nonce.
pub fn sign_request(
    rng: &mut impl CryptoRngCore,
    key: RequestKey<'_>,
    server: &[u8; 32],
    now_s: u64,
    method: &str,
    path: &str,
    body: &[u8],
) -> SignedHeaders {
    let mut nonce = [0u8; 16];
    rng.fill_bytes(&mut nonce);
    let timestamp = now_s.to_string();
    let msg = signed_message(server, &nonce, &timestamp, method, path, body);
    let (pubkey, signature) = match key {
        RequestKey::Blinded(keys) => (keys.id().to_string(), keys.sign(&msg)),
        RequestKey::Unblinded(identity) => {
            (format!("00{}", hex::encode(identity.ed25519_public())), identity.sign(&msg))
        }
    };
    SignedHeaders { pubkey, nonce: STANDARD.encode(nonce), timestamp, signature: STANDARD.encode(signature) }
}

/// What a server accepts (pysogs' `REQUIRE_BLIND_KEYS` and the newer pysogs' `25` keys).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AuthPolicy {
    /// Refuse `00` (unblinded) keys with 400. pysogs' default, and what desktop expects when the
    /// server lists the `blind` capability.
    pub require_blinded: bool,
    /// Accept `25` keys. The pysogs of protocol-communities §0 refuses them; a newer one takes them.
    pub accept_blind25: bool,
}

impl Default for AuthPolicy {
    /// Blinded `15` keys only, as pysogs by default.
    fn default() -> Self {
        AuthPolicy { require_blinded: true, accept_blind25: false }
    }
}

/// Why a request's authentication was refused. [`AuthError::status`] is the HTTP status pysogs
/// answers and [`AuthError::message`] its exact `text/plain` body.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum AuthError {
    /// Some but not all of the four headers (empty counts as missing): 400.
    MissingHeaders { missing: u8 },
    /// The key is not 33 bytes of hex or base64: 400.
    BadPubkey,
    /// The key's prefix is not one the server takes (`00`, `15`, and `25` if allowed): 400.
    BadPrefix,
    /// The key is not a valid Ed25519 point: 400.
    InvalidPoint,
    /// An unblinded (`00`) key on a server that requires blinded ones: 400.
    BlindingRequired,
    /// The nonce is not 16 bytes of hex or base64: 400.
    BadNonce,
    /// The signature is not 64 bytes of hex or base64: 400.
    BadSignatureEncoding,
    /// The timestamp is not an integer: 400.
    BadTimestamp,
    /// The timestamp is more than 24 hours from the server's clock: 425.
    TimestampOutOfRange,
    /// The nonce was used before by this user (the server's nonce table decides): 425.
    NonceReused,
    /// The signature does not verify: 401.
    SignatureFailed,
}

impl AuthError {
    /// The HTTP status pysogs answers.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::TimestampOutOfRange | AuthError::NonceReused => 425,
            AuthError::SignatureFailed => 401,
            _ => 400,
        }
    }

    /// pysogs' `text/plain` body for this failure.
    pub fn message(&self) -> String {
        let text = match self {
            AuthError::MissingHeaders { missing } => {
                return format!("Invalid authentication headers: missing {missing}/4 required X-SOGS-* headers");
            }
            AuthError::BadPubkey => "Invalid authentication: X-SOGS-Pubkey is not a valid 66-hex digit id",
            AuthError::BadPrefix => "Invalid authentication: X-SOGS-Pubkey must be 00- or 15- prefixed",
            AuthError::InvalidPoint => "Invalid authentication: given X-SOGS-Pubkey is not a valid Ed25519 pubkey",
            AuthError::BlindingRequired => "Invalid authentication: this server requires the use of blinded ids",
            AuthError::BadNonce => "Invalid authentication: X-SOGS-Nonce must be 16 bytes (encoded as base64 or hex)",
            AuthError::BadSignatureEncoding => "Invalid authentication: X-SOGS-Signature is not base64[88]",
            AuthError::BadTimestamp => "Invalid authentication: X-SOGS-Timestamp is not a valid timestamp",
            AuthError::TimestampOutOfRange => "Invalid authentication: X-SOGS-Timestamp is too far from current time",
            AuthError::NonceReused => "Invalid authentication: X-SOGS-Nonce cannot be reused",
            AuthError::SignatureFailed => "Invalid authentication: X-SOGS-Signature verification failed",
        };
        text.to_owned()
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for AuthError {}

/// A request's authentication headers, decoded and checked up to (not including) the signature:
/// what the server needs for its own checks in between (ban list, nonce table), then
/// [`RequestAuth::verify`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct RequestAuth {
    /// The user's id: the `15`/`25` id as sent, or `05` ‖ X25519 of a `00` key.
    id: SessionId,
    /// The Ed25519 key the signature must verify under.
    key: [u8; 32],
    nonce: [u8; 16],
    timestamp_text: String,
    timestamp: i64,
    signature: [u8; 64],
}

impl RequestAuth {
    /// Reads the `X-SOGS-*` headers from `headers` (names case-insensitive; the first of a
    /// repeated name counts) and checks them in pysogs' order, steps 1–3 of §2, at `now_s`
    /// (the server's clock, unix seconds). `Ok(None)`: all four are absent, an anonymous request.
    pub fn parse<'a>(
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
        now_s: i64,
        policy: AuthPolicy,
    ) -> Result<Option<RequestAuth>, AuthError> {
        let mut found: [Option<&str>; 4] = [None; 4];
        let names = [HEADER_PUBKEY, HEADER_NONCE, HEADER_TIMESTAMP, HEADER_SIGNATURE];
        for (name, value) in headers {
            for (slot, wanted) in found.iter_mut().zip(names) {
                if slot.is_none() && name.eq_ignore_ascii_case(wanted) {
                    *slot = Some(value);
                }
            }
        }
        let [pubkey, nonce, timestamp, signature] = found.map(|v| v.filter(|v| !v.is_empty()));
        let missing = [pubkey, nonce, timestamp, signature].iter().filter(|v| v.is_none()).count();
        let (Some(pubkey), Some(nonce), Some(timestamp_text), Some(signature)) = (pubkey, nonce, timestamp, signature)
        else {
            return match missing {
                4 => Ok(None),
                n => Err(AuthError::MissingHeaders { missing: u8::try_from(n).unwrap_or(4) }),
            };
        };

        let raw: [u8; 33] = decode_hex_or_base64(pubkey).ok_or(AuthError::BadPubkey)?;
        let (&prefix, key) = raw.split_first().ok_or(AuthError::BadPubkey)?;
        let key: [u8; 32] = key.try_into().map_err(|_| AuthError::BadPubkey)?;
        let prefix = match prefix {
            0x00 => None,
            0x15 => Some(IdPrefix::BlindedLegacy),
            0x25 if policy.accept_blind25 => Some(IdPrefix::Blinded),
            _ => return Err(AuthError::BadPrefix),
        };
        if prime_order_point(&key).is_none() {
            return Err(AuthError::InvalidPoint);
        }
        let id = match prefix {
            Some(prefix) => SessionId::new(prefix, key),
            None if policy.require_blinded => return Err(AuthError::BlindingRequired),
            None => SessionId::new(IdPrefix::Standard, ed25519_to_x25519_public(&key).ok_or(AuthError::InvalidPoint)?),
        };

        let nonce: [u8; 16] = decode_hex_or_base64(nonce).ok_or(AuthError::BadNonce)?;
        let signature: [u8; 64] = decode_hex_or_base64(signature).ok_or(AuthError::BadSignatureEncoding)?;
        let timestamp: i64 = timestamp_text.trim().parse().map_err(|_| AuthError::BadTimestamp)?;
        if now_s.abs_diff(timestamp) > MAX_CLOCK_SKEW_S.unsigned_abs() {
            return Err(AuthError::TimestampOutOfRange);
        }
        Ok(Some(RequestAuth { id, key, nonce, timestamp_text: timestamp_text.to_owned(), timestamp, signature }))
    }

    /// The user: the `15`/`25` id as sent, or the `05` id of an unblinded key.
    pub fn id(&self) -> &SessionId {
        &self.id
    }

    /// The nonce, for the server's table of `(user, nonce)` (reuse is a 425, [`AuthError::NonceReused`];
    /// pysogs records it before checking the signature).
    pub fn nonce(&self) -> &[u8; 16] {
        &self.nonce
    }

    /// The timestamp, unix seconds.
    pub fn timestamp(&self) -> i64 {
        self.timestamp
    }

    /// Checks the signature over this request (step 6 of §2): `path` is the endpoint as received,
    /// percent-decoded, with its raw query; `body` the raw body. Returns the user's id.
    pub fn verify(&self, server: &[u8; 32], method: &str, path: &str, body: &[u8]) -> Result<SessionId, AuthError> {
        let msg = signed_message(server, &self.nonce, &self.timestamp_text, method, path, body);
        if verify_ed25519(&self.key, &msg, &self.signature) { Ok(self.id) } else { Err(AuthError::SignatureFailed) }
    }
}

/// The whole check in one call, for servers without a ban list or nonce table in between:
/// `Ok(None)` for an anonymous request, `Ok(Some(id))` for a signed one.
pub fn verify_request<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    server: &[u8; 32],
    method: &str,
    path: &str,
    body: &[u8],
    now_s: i64,
    policy: AuthPolicy,
) -> Result<Option<SessionId>, AuthError> {
    RequestAuth::parse(headers, now_s, policy)?.map(|auth| auth.verify(server, method, path, body)).transpose()
}

/// `N` bytes given as `2N` hex characters or as base64 (padded or not), as pysogs'
/// `decode_hex_or_b64` takes them.
fn decode_hex_or_base64<const N: usize>(text: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    if text.len() == 2 * N && hex::decode_to_slice(text, &mut out).is_ok() {
        return Some(out);
    }
    let decoded = if text.ends_with('=') { STANDARD.decode(text) } else { STANDARD_NO_PAD.decode(text) }.ok()?;
    out = decoded.try_into().ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    const SERVER: [u8; 32] = [0x42; 32];

    fn signed(key: RequestKey<'_>, now: u64) -> SignedHeaders {
        sign_request(&mut ChaCha20Rng::seed_from_u64(3), key, &SERVER, now, "POST", "/room/r/message", b"{}")
    }

    #[test]
    fn a_signed_request_verifies_and_tampering_is_caught() {
        let identity = Identity::from_ed25519_seed(&[9; 32]);
        let keys = BlindedKeys::blind15(&identity, &SERVER);
        let headers = signed(RequestKey::Blinded(&keys), 1_700_000_000);
        let check = |method: &str, path: &str, body: &[u8], now: i64| {
            verify_request(headers.pairs(), &SERVER, method, path, body, now, AuthPolicy::default())
        };
        assert_eq!(check("POST", "/room/r/message", b"{}", 1_700_000_000), Ok(Some(keys.id())));
        assert_eq!(check("POST", "/room/r/message", b"{}", 1_700_086_400), Ok(Some(keys.id())));
        assert_eq!(check("GET", "/room/r/message", b"{}", 1_700_000_000), Err(AuthError::SignatureFailed));
        assert_eq!(check("POST", "/room/s/message", b"{}", 1_700_000_000), Err(AuthError::SignatureFailed));
        assert_eq!(check("POST", "/room/r/message", b"", 1_700_000_000), Err(AuthError::SignatureFailed));
        assert_eq!(check("POST", "/room/r/message", b"{}", 1_700_086_401), Err(AuthError::TimestampOutOfRange));
        assert_eq!(check("POST", "/room/r/message", b"{}", 1_699_913_599), Err(AuthError::TimestampOutOfRange));
        assert_eq!(AuthError::TimestampOutOfRange.status(), 425);
        assert_eq!(AuthError::SignatureFailed.status(), 401);

        let unblinded = signed(RequestKey::Unblinded(&identity), 1_700_000_000);
        let lax = AuthPolicy { require_blinded: false, accept_blind25: false };
        let verify = |policy| {
            verify_request(unblinded.pairs(), &SERVER, "POST", "/room/r/message", b"{}", 1_700_000_000, policy)
        };
        assert_eq!(verify(lax), Ok(Some(identity.session_id())));
        assert_eq!(verify(AuthPolicy::default()), Err(AuthError::BlindingRequired));

        let keys25 = BlindedKeys::blind25(&identity, &SERVER);
        let headers25 = signed(RequestKey::Blinded(&keys25), 1_700_000_000);
        let verify = |policy| {
            verify_request(headers25.pairs(), &SERVER, "POST", "/room/r/message", b"{}", 1_700_000_000, policy)
        };
        assert_eq!(verify(AuthPolicy::default()), Err(AuthError::BadPrefix));
        assert_eq!(verify(AuthPolicy { require_blinded: true, accept_blind25: true }), Ok(Some(keys25.id())));
    }

    #[test]
    fn malformed_headers_are_typed_errors_in_pysogs_order() {
        let keys = BlindedKeys::blind15(&Identity::from_ed25519_seed(&[9; 32]), &SERVER);
        let good = signed(RequestKey::Blinded(&keys), 1_000);
        let parse = |pairs: &[(&str, &str)]| RequestAuth::parse(pairs.iter().copied(), 1_000, AuthPolicy::default());
        let [p, n, t, s] = good.pairs();
        assert_eq!(parse(&[]), Ok(None));
        assert_eq!(parse(&[("x-sogs-pubkey", p.1)]), Err(AuthError::MissingHeaders { missing: 3 }));
        assert_eq!(parse(&[p, n, t, ("X-SOGS-SIGNATURE", "")]), Err(AuthError::MissingHeaders { missing: 1 }));
        let auth = parse(&[("x-sogs-pubkey", p.1), n, t, s]).unwrap().unwrap();
        assert_eq!(auth.id(), &keys.id());
        assert_eq!(auth.timestamp(), 1_000);
        assert_eq!(STANDARD.encode(auth.nonce()), n.1);
        let with = |i: usize, value: &str| {
            let mut pairs = [p, n, t, s];
            if let Some(pair) = pairs.get_mut(i) {
                pair.1 = value;
            }
            parse(&pairs)
        };
        assert_eq!(with(0, "15abcd"), Err(AuthError::BadPubkey));
        assert_eq!(with(0, &format!("05{}", &p.1[2..])), Err(AuthError::BadPrefix));
        let mut one = [0u8; 32];
        one[0] = 1;
        assert_eq!(with(0, &format!("15{}", hex::encode(one))), Err(AuthError::InvalidPoint));
        assert_eq!(with(0, &format!("15{}", "ff".repeat(32))), Err(AuthError::InvalidPoint));
        assert_eq!(with(1, "AAAA"), Err(AuthError::BadNonce));
        assert_eq!(with(1, "!!!!!!!!!!!!!!!!!!!!!!=="), Err(AuthError::BadNonce));
        assert!(with(1, &"ab".repeat(16)).is_ok(), "hex nonces are accepted");
        assert!(with(1, n.1.trim_end_matches('=')).is_ok(), "unpadded base64 is accepted");
        assert_eq!(with(3, &s.1[..80]), Err(AuthError::BadSignatureEncoding));
        assert_eq!(with(2, "12a"), Err(AuthError::BadTimestamp));
        assert_eq!(with(2, "99999999999999999999999"), Err(AuthError::BadTimestamp));
        assert_eq!(with(2, "90000"), Err(AuthError::TimestampOutOfRange));
        assert_eq!(AuthError::MissingHeaders { missing: 2 }.status(), 400);
        assert_eq!(
            AuthError::MissingHeaders { missing: 2 }.to_string(),
            "Invalid authentication headers: missing 2/4 required X-SOGS-* headers"
        );
        assert_eq!(
            RequestAuth::parse([p, n, t, s], i64::MIN, AuthPolicy::default()),
            Err(AuthError::TimestampOutOfRange)
        );
    }
}
