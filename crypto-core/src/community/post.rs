//! Community messages (protocol-communities §6): signed, not encrypted. A post's `data` is the
//! padded `Content` in base64 and its `signature` a blinded signature over those padded bytes.

use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use curve25519_dalek::montgomery::MontgomeryPoint;
use prost::Message;

use super::blinding::BlindedKeys;
use crate::identity::{IdPrefix, SessionId, verify_ed25519};
use crate::padding;
use crate::wire::{Content, DecodeError};

/// A post ready for `POST /room/<token>/message`: `data` and `signature` in base64.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Post {
    /// The padded `Content`, base64.
    pub data: String,
    /// The blinded signature over the padded bytes, base64 (64 bytes).
    pub signature: String,
}

impl Post {
    /// The request body: `{"data":…,"signature":…,"files":[…]}`, compact, keys in this order
    /// (the bytes vector C5 hashes and signs).
    pub fn body(&self, files: &[u64]) -> String {
        let files: Vec<String> = files.iter().map(u64::to_string).collect();
        // Base64 has no character JSON would escape.
        format!(r#"{{"data":"{}","signature":"{}","files":[{}]}}"#, self.data, self.signature, files.join(","))
    }
}

/// Why a post was dropped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum PostError {
    /// `data` or `signature` is not base64 (`field` says which).
    Base64 { field: &'static str },
    /// The signature is not 64 bytes.
    SignatureLength { found: usize },
    /// The poster's id is not one a signature can be checked against (not `05`, `15` or `25`),
    /// or its key is not a curve point.
    UnknownSender,
    /// The signature does not verify against the poster's id.
    BadSignature,
    /// The unpadded data is not a `Content`.
    Decode(DecodeError),
}

impl fmt::Display for PostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PostError::Base64 { field } => write!(f, "the post's {field} is not base64"),
            PostError::SignatureLength { found } => write!(f, "a post's signature has 64 bytes, this one {found}"),
            PostError::UnknownSender => {
                f.write_str("the post's sender is not an id a signature can be checked against")
            }
            PostError::BadSignature => f.write_str("the post's signature does not verify"),
            PostError::Decode(e) => write!(f, "malformed post: {e}"),
        }
    }
}

impl std::error::Error for PostError {}

/// Pads `content` and signs the padded bytes with the blinded key (§6.1 steps 2–3).
pub fn sign_post(keys: &BlindedKeys, content: &Content) -> Post {
    let padded = padding::pad(&content.encode_to_vec());
    let signature = keys.sign(&padded);
    Post { data: STANDARD.encode(&padded), signature: STANDARD.encode(signature) }
}

/// Reads a received post (§6.2): decodes `data` and `signature` (base64), checks the signature
/// against `sender` (its `session_id`), strips the padding and parses the `Content`.
pub fn open_post(sender: &SessionId, data: &str, signature: &str) -> Result<Content, PostError> {
    let data = STANDARD.decode(data).map_err(|_| PostError::Base64 { field: "data" })?;
    let signature = STANDARD.decode(signature).map_err(|_| PostError::Base64 { field: "signature" })?;
    verify_post(sender, &data, &signature)?;
    Content::decode_checked(unpad(&data)).map_err(PostError::Decode)
}

/// Checks a post's signature over its (padded) data: plain Ed25519 against the key of a `15` or
/// `25` id, XEd25519 against the X25519 key of a `05` id.
pub fn verify_post(sender: &SessionId, data: &[u8], signature: &[u8]) -> Result<(), PostError> {
    let signature: [u8; 64] =
        signature.try_into().map_err(|_| PostError::SignatureLength { found: signature.len() })?;
    let verified = match sender.prefix() {
        IdPrefix::BlindedLegacy | IdPrefix::Blinded => verify_ed25519(sender.key(), data, &signature),
        IdPrefix::Standard => verify_xed25519(sender.key(), data, &signature).ok_or(PostError::UnknownSender)?,
        _ => return Err(PostError::UnknownSender),
    };
    if verified { Ok(()) } else { Err(PostError::BadSignature) }
}

/// XEd25519 verification against an X25519 key: the Ed25519 key is the Edwards point of `x25519`
/// whose sign is the top bit of the signature's last byte (0 in Signal's XEdDSA, the signer's
/// sign in curve25519-js, which stores it there); that bit is cleared before the Ed25519 check.
/// `None` when `x25519` has no Edwards point.
fn verify_xed25519(x25519: &[u8; 32], msg: &[u8], signature: &[u8; 64]) -> Option<bool> {
    let mut signature = *signature;
    let last = signature.last_mut()?;
    let sign = *last >> 7;
    *last &= 0x7f;
    let point = MontgomeryPoint(*x25519).to_edwards(sign)?;
    Some(verify_ed25519(&point.compress().to_bytes(), msg, &signature))
}

/// Strips Session padding as community receivers do (§6.2): back over trailing zeros to a `0x80`,
/// which is cut off with them; when the scan meets any other byte (or none) the data is taken as
/// unpadded and returned whole.
pub fn unpad(data: &[u8]) -> &[u8] {
    match data.iter().rposition(|&b| b != 0) {
        Some(marker) if data.get(marker) == Some(&0x80) => data.get(..marker).unwrap_or(data),
        _ => data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;
    use crate::message::text_message;

    const SERVER: [u8; 32] = [0x21; 32];

    #[test]
    fn a_post_opens_for_its_sender_only() {
        let identity = Identity::from_ed25519_seed(&[4; 32]);
        for keys in [BlindedKeys::blind15(&identity, &SERVER), BlindedKeys::blind25(&identity, &SERVER)] {
            let post = sign_post(&keys, &text_message("hello", None));
            let content = open_post(&keys.id(), &post.data, &post.signature).unwrap();
            assert_eq!(content.data_message.unwrap().body.as_deref(), Some("hello"));
            let other = BlindedKeys::blind15(&Identity::from_ed25519_seed(&[5; 32]), &SERVER).id();
            assert_eq!(open_post(&other, &post.data, &post.signature), Err(PostError::BadSignature));
            assert_eq!(open_post(&identity.session_id(), &post.data, &post.signature), Err(PostError::BadSignature));
        }
    }

    #[test]
    fn unblinded_posts_verify_by_xed25519() {
        for seed in [[4u8; 32], [6; 32], [8; 32], [9; 32]] {
            let identity = Identity::from_ed25519_seed(&seed);
            let padded = padding::pad(&text_message("hi", None).encode_to_vec());
            let mut signature = identity.sign(&padded);
            // curve25519-js keeps the Ed25519 key's sign in the signature's top bit.
            let negative = identity.ed25519_public()[31] & 0x80;
            signature[63] |= negative;
            assert_eq!(verify_post(&identity.session_id(), &padded, &signature), Ok(()));
            signature[63] ^= 0x80;
            assert_eq!(verify_post(&identity.session_id(), &padded, &signature), Err(PostError::BadSignature));
        }
    }

    #[test]
    fn bad_posts_are_typed_errors() {
        let keys = BlindedKeys::blind15(&Identity::from_ed25519_seed(&[4; 32]), &SERVER);
        let post = sign_post(&keys, &text_message("x", None));
        let id = keys.id();
        assert_eq!(open_post(&id, "!!", &post.signature), Err(PostError::Base64 { field: "data" }));
        assert_eq!(open_post(&id, &post.data, "a"), Err(PostError::Base64 { field: "signature" }));
        assert_eq!(open_post(&id, &post.data, "AAAA"), Err(PostError::SignatureLength { found: 3 }));
        let group = SessionId::new(IdPrefix::Group, *id.key());
        assert_eq!(open_post(&group, &post.data, &post.signature), Err(PostError::UnknownSender));
        let mut minus_one = [0xffu8; 32];
        minus_one[0] = 0xec;
        minus_one[31] = 0x7f;
        let twist = SessionId::new(IdPrefix::Standard, minus_one);
        assert_eq!(open_post(&twist, &post.data, &post.signature), Err(PostError::UnknownSender));
        // Not a point: a 15 id whose key does not decompress.
        let mut two = [0u8; 32];
        two[0] = 2;
        let bad = SessionId::new(IdPrefix::BlindedLegacy, two);
        assert_eq!(open_post(&bad, &post.data, &post.signature), Err(PostError::BadSignature));
        // A validly signed post whose content is not protobuf.
        let junk = padding::pad(&[0xff, 0xff, 0xff]);
        let signature = STANDARD.encode(keys.sign(&junk));
        assert!(matches!(open_post(&id, &STANDARD.encode(&junk), &signature), Err(PostError::Decode(_))));
    }

    #[test]
    fn community_unpad_keeps_unmarked_data() {
        assert_eq!(unpad(b""), b"");
        assert_eq!(unpad(b"\0\0"), b"\0\0");
        assert_eq!(unpad(b"ab\x80\0\0"), b"ab");
        assert_eq!(unpad(b"ab\x80"), b"ab");
        assert_eq!(unpad(b"ab\0\0"), b"ab\0\0");
        assert_eq!(unpad(b"ab\x80c"), b"ab\x80c");
        // Old desktop padding (`160·⌈(len+2)/160⌉ − 1`) too.
        let mut old = b"hi".to_vec();
        old.push(0x80);
        old.resize(159, 0);
        assert_eq!(unpad(&old), b"hi");
    }

    #[test]
    fn post_body_lists_files() {
        let post = Post { data: "ZA==".into(), signature: "cw==".into() };
        assert_eq!(post.body(&[]), r#"{"data":"ZA==","signature":"cw==","files":[]}"#);
        assert_eq!(post.body(&[1, 22]), r#"{"data":"ZA==","signature":"cw==","files":[1,22]}"#);
    }
}
