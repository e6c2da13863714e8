//! The server's side of a v4 onion request (a file server, a community server): the last hop POSTs
//! the whole layer it decrypted, `len (u32 LE) ‖ blob ‖ json`, to the server's `/oxen/v4/lsrpc`.
//! The JSON's `ephemeral_key` and `enc_type` (default `aes-gcm`) are the server's; its other keys
//! were for the hop. The server agrees the layer key with its X25519 secret — trying each of its
//! keys in turn, as the real file server holds two — decrypts the blob to the v4 request bytes
//! ([`super::v4::decode_request`]) and encrypts its v4 response with the same key and cipher and a
//! fresh nonce ([`seal_response`]), raw bytes, no base64.
//!
//! [`file_id`] is the file server's id for what it stores.
//!
//! A body that does not frame, names no usable key, or opens with none of the server's keys is one
//! [`RequestError`]: the real servers answer all of them with a plain HTTP 400.

use core::fmt;

use rand_core::CryptoRngCore;
use serde_json::Value;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use super::{EncType, LayerKey, MAX_BODY_LEN, split_frame};
use crate::identity::Identity;

/// A v4 request a server opened: the request bytes and the key its reply is encrypted with.
pub struct ServerRequest {
    /// The decrypted v4 request (`l…e`, see [`super::v4::decode_request`]). Zeroized on drop.
    pub request: Zeroizing<Vec<u8>>,
    /// The layer key, which also encrypts the reply ([`seal_response`]). Zeroized on drop.
    pub reply_key: LayerKey,
}

impl fmt::Debug for ServerRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerRequest")
            .field("request_len", &self.request.len())
            .field("reply_key", &self.reply_key)
            .finish()
    }
}

/// Why a server could not open an onion request. Every case is a plain HTTP 400 at the real
/// servers (`abort(400)` when their parser throws).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum RequestError {
    /// Not `len ‖ blob ‖ json`, the JSON not an object, or no usable `ephemeral_key`/`enc_type`.
    Malformed,
    /// Larger than 10 MiB.
    TooLarge,
    /// None of the server's keys opens the blob.
    Undecryptable,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RequestError::Malformed => "the onion request is malformed",
            RequestError::TooLarge => "the onion request is larger than 10 MiB",
            RequestError::Undecryptable => "the onion request does not decrypt with this server's keys",
        })
    }
}

impl std::error::Error for RequestError {}

/// Opens the body of a POST to a server's `/oxen/v4/lsrpc` with the first of `secrets` (the
/// server's X25519 secret keys) that decrypts it. Never panics.
pub fn open_request<'a>(
    secrets: impl IntoIterator<Item = &'a StaticSecret>,
    body: &[u8],
) -> Result<ServerRequest, RequestError> {
    if body.len() > MAX_BODY_LEN {
        return Err(RequestError::TooLarge);
    }
    let (blob, json) = split_frame(body).map_err(|_| RequestError::Malformed)?;
    let ephemeral = match json.get("ephemeral_key") {
        Some(Value::String(hex_key)) if hex_key.len() == 64 => {
            let mut key = [0u8; 32];
            hex::decode_to_slice(hex_key, &mut key).map_err(|_| RequestError::Malformed)?;
            key
        }
        _ => return Err(RequestError::Malformed),
    };
    let enc = match json.get("enc_type") {
        None => EncType::AesGcm,
        Some(Value::String(name)) => EncType::parse(name).ok_or(RequestError::Malformed)?,
        Some(_) => return Err(RequestError::Malformed),
    };
    for secret in secrets {
        let public = PublicKey::from(secret).to_bytes();
        let key = LayerKey::for_node(secret, &public, &ephemeral, enc);
        if let Ok(request) = key.decrypt(blob) {
            return Ok(ServerRequest { request, reply_key: key });
        }
    }
    Err(RequestError::Undecryptable)
}

/// [`open_request`] for a server whose one key pair is `identity`'s: an Ed25519 key published as
/// the server's key, its X25519 key derived from it (Edwards → Montgomery), as the file server's.
pub fn open_request_as(identity: &Identity, body: &[u8]) -> Result<ServerRequest, RequestError> {
    open_request([identity.x25519_secret()], body)
}

/// The server's reply: `response` (the bencoded v4 response, [`super::v4::encode_response`])
/// encrypted with the request's key and cipher under a fresh nonce — `iv(12) ‖ ct ‖ tag(16)` for
/// aes-gcm, `nonce(24) ‖ ct ‖ tag(16)` for xchacha20 — sent as the raw HTTP 200 body.
pub fn seal_response(rng: &mut impl CryptoRngCore, key: &LayerKey, response: &[u8]) -> Vec<u8> {
    key.encrypt(rng, response)
}

/// The file server's id for `data`: `base64url(BLAKE2b(data, digest_size = 33, salt =
/// "SessionFileSvr\0\0"))`, 44 characters, no padding (session-file-server `generate_file_id`;
/// protocol-files §2.3). Equal uploads get the same id.
pub fn file_id(data: &[u8]) -> String {
    use base64::Engine;
    use blake2::Blake2bVarCore;
    use blake2::digest::core_api::{Buffer, UpdateCore, VariableOutputCore};
    // Salted and unkeyed: `Blake2bMac` would hash a zero key block even for an empty key.
    let mut core = Blake2bVarCore::new_with_params(b"SessionFileSvr\0\0", &[], 0, 33);
    let mut buffer = Buffer::<Blake2bVarCore>::default();
    buffer.digest_blocks(data, |blocks| core.update_blocks(blocks));
    let mut out = blake2::digest::Output::<Blake2bVarCore>::default();
    core.finalize_variable_core(&mut buffer, &mut out);
    base64::engine::general_purpose::URL_SAFE.encode(out.get(..33).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::onion::{Destination, NodeKeys, Protocol, ServerTarget, build, unwrap_server_reply, v4};

    fn h32(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).unwrap();
        out
    }

    const A: &str = "8167e97672005c669a48858c69895f395ca235219ac3f7a4210022b1f910e652";
    const A_SEC: &str = "d2ee09e1a557a077d385fcb69a11ffb6909ecdcc8348def3e0e4172c8a1431c1";
    const B: &str = "8388de69bc0d4b6196133233ad9a46ba0473474bc67718aad96a3a33c257f726";
    const B_SEC: &str = "2f4d1c0d28e137777ec0a316e9f4f763e3e66662a6c51994c6315c9ef34b6deb";
    const GCM_REQ: &str = "270000009525d587d188c92a966eef0e7162bef99a6171a124575b998072a8ee7eb265e0b6f0930ed965047b22656e635f74797065223a20226165732d67636d222c2022657068656d6572616c5f6b6579223a202238313637653937363732303035633636396134383835386336393839356633393563613233353231396163336637613432313030323262316639313065363532227d";
    const XCHACHA_REQ: &str = "33000000e440bc244ddcafd947b86fc5a964aa58de54a6d75cc0f0f3840db14b6c1176a8e2e0a04d5fbdf98f23adee1edc8362ab99b10b7b22656e635f74797065223a2022786368616368613230222c2022657068656d6572616c5f6b6579223a202238313637653937363732303035633636396134383835386336393839356633393563613233353231396163336637613432313030323262316639313065363532227d";

    /// libsession-util `tests/test_onionreq.cpp`, TEST_CASE "Onion request parser" (V2 of
    /// vectors-onion.md): the `OnionReqParser` the file server and SOGS use, i.e. exactly this
    /// module's job. Both requests open to `Hello world` with the server key `b`/`B` (also when
    /// the right key is the second one tried); the reply `Goodbye world` is 41 bytes (aes-gcm) or
    /// 53 (xchacha20) and the client (`a`/`A`) opens it with `B` as the peer key.
    #[test]
    fn v2_onion_request_parser() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let server = StaticSecret::from(h32(B_SEC));
        assert_eq!(PublicKey::from(&server).to_bytes(), h32(B));
        let other = StaticSecret::from([3u8; 32]);
        for (req, enc, blob_len, reply_len, derived) in [
            (GCM_REQ, EncType::AesGcm, 39, 41, "6215038efa8c2735db1aa5a086f75b51e972b8bdcf6926480bdec488cd4db99d"),
            (
                XCHACHA_REQ,
                EncType::XChaCha20,
                51,
                53,
                "539091d458c3ba5ec79e5d2784452698e7c5f44138cdfeafca72e19c322e8fe5",
            ),
        ] {
            let bytes = hex::decode(req).unwrap();
            for keys in [vec![&server], vec![&other, &server]] {
                let opened = open_request(keys, &bytes).unwrap();
                assert_eq!(opened.request.as_slice(), b"Hello world");
                assert_eq!(opened.reply_key.enc_type(), enc);
                let (blob, _) = split_frame(&bytes).unwrap();
                assert_eq!(blob.len(), blob_len);
                let expected = LayerKey::from_bytes(h32(derived), enc);
                assert_eq!(expected.decrypt(blob).unwrap().as_slice(), b"Hello world");

                let reply = seal_response(&mut rng, &opened.reply_key, b"Goodbye world");
                assert_eq!(reply.len(), reply_len);
                let client = LayerKey::for_client(&StaticSecret::from(h32(A_SEC)), &h32(A), &h32(B), enc);
                assert_eq!(client.decrypt(&reply).unwrap().as_slice(), b"Goodbye world");
            }
            // Not this server's key: undecryptable; any changed ciphertext byte too.
            assert_eq!(open_request([&other], &bytes).unwrap_err(), RequestError::Undecryptable);
            for i in 4..4 + blob_len {
                let mut bad = bytes.clone();
                bad[i] ^= 1;
                assert_eq!(open_request([&server], &bad).unwrap_err(), RequestError::Undecryptable);
            }
        }
    }

    /// F4 of protocol-files §6, the Python server's column (salt, not key). Its second row's data
    /// is F2's deterministic encryption of 0 bytes, which only the attachment cipher rebuilds, so
    /// the `hello` row is the one checked; every id is 44 base64url characters.
    #[test]
    fn f4_file_ids() {
        assert_eq!(file_id(b"hello"), "tKO2VVg1JPHwgZuvqK_7bDHJeSr4UJ_8i13ETlwAn0jB");
        for data in [&b""[..], b"x", &[7u8; 200][..], &[1u8; 100_000][..]] {
            let id = file_id(data);
            assert_eq!(id.len(), 44);
            assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{id}");
        }
        assert_ne!(file_id(b"hello"), file_id(b"hellp"));
    }

    #[test]
    fn malformed_bodies_are_one_error_and_never_panic() {
        let server = StaticSecret::from(h32(B_SEC));
        let frame = |json: &str| {
            super::super::frame(b"0123456789012345678901234567890123456789", &serde_json::from_str(json).unwrap())
        };
        for body in [
            Vec::new(),
            vec![1, 0, 0],
            vec![9, 0, 0, 0, 1],
            frame("{}"),
            frame(r#"{"ephemeral_key": 5}"#),
            frame(r#"{"ephemeral_key": "zz"}"#),
            frame(&format!(r#"{{"ephemeral_key": "{}"}}"#, "g".repeat(64))),
            frame(&format!(r#"{{"ephemeral_key": "{A}", "enc_type": "rot13"}}"#)),
            frame(&format!(r#"{{"ephemeral_key": "{A}", "enc_type": 1}}"#)),
            b"\x01\x00\x00\x00x[1,2]".to_vec(),
        ] {
            assert_eq!(open_request([&server], &body).unwrap_err(), RequestError::Malformed, "{body:?}");
        }
        assert_eq!(open_request([&server], &vec![0u8; MAX_BODY_LEN + 1]).unwrap_err(), RequestError::TooLarge);
        // No keys at all: nothing opens.
        let bytes = hex::decode(GCM_REQ).unwrap();
        assert_eq!(open_request([], &bytes).unwrap_err(), RequestError::Undecryptable);
    }

    /// A request built by the client for a server, peeled by three hops, is what the server opens;
    /// the server's sealed v4 response is what the client reads.
    #[test]
    fn a_built_server_request_opens_at_the_server_and_its_reply_at_the_client() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let server = Identity::from_ed25519_seed(&[5; 32]);
        let hops: Vec<Identity> = (0..3).map(|i| Identity::from_ed25519_seed(&[40 + i; 32])).collect();
        let path: Vec<NodeKeys> =
            hops.iter().map(|h| NodeKeys { ed25519: *h.ed25519_public(), x25519: *h.x25519_public() }).collect();
        let target = ServerTarget {
            host: "127.0.0.1".into(),
            target: "/oxen/v4/lsrpc".into(),
            port: 8,
            protocol: Protocol::Http,
            x25519: *server.x25519_public(),
        };
        for enc in [EncType::AesGcm, EncType::XChaCha20] {
            let payload = v4::encode_request(r#"{"method":"GET","endpoint":"/file/x","headers":{}}"#, None);
            let req = build(&mut rng, &path, &Destination::Server(target.clone()), &payload, enc).unwrap();
            let mut body = req.body.clone();
            for hop in &hops {
                body = match crate::onion::peel_as(hop, &body).unwrap() {
                    crate::onion::Peeled::Relay { body, .. } | crate::onion::Peeled::Proxy { body, .. } => body,
                    other => panic!("{other:?}"),
                };
            }
            let opened = open_request_as(&server, &body).unwrap();
            assert_eq!(opened.request.as_slice(), payload.as_slice());
            let response = v4::encode_response(404, &serde_json::Map::new(), br#"{"status_code": 404}"#);
            let reply =
                unwrap_server_reply(&req.reply_key, &seal_response(&mut rng, &opened.reply_key, &response)).unwrap();
            assert_eq!((reply.code, reply.body.as_slice()), (404, &br#"{"status_code": 404}"#[..]));
        }
    }
}
