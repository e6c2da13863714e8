//! Entry points for the fuzz targets in `crypto-core/fuzz/` (not a stable API).

pub mod fuzz_support;

/// Fuzzing entry points: each feeds arbitrary bytes to a parser that sees untrusted input.
/// None of them may panic.
pub mod fuzzing {
    use std::sync::OnceLock;

    use rand_core::{CryptoRng, RngCore};
    use serde_json::json;
    use x25519_dalek::{PublicKey, StaticSecret};

    use crate::identity::Identity;
    use crate::storage::rpc;
    use crate::wire::{Content, Envelope};
    use crate::{message, mnemonic, onion, padding, seal};

    fn recipient() -> &'static Identity {
        static RECIPIENT: OnceLock<Identity> = OnceLock::new();
        RECIPIENT.get_or_init(|| Identity::from_ed25519_seed(&[7; 32]))
    }

    /// The fixed client key of [`peel_onion`]'s layers, and its layer keys to the recipient for
    /// each cipher: computed once, so that each input costs the node's X25519 only.
    fn client_keys() -> &'static ([u8; 32], [onion::LayerKey; 2]) {
        static KEYS: OnceLock<([u8; 32], [onion::LayerKey; 2])> = OnceLock::new();
        KEYS.get_or_init(|| {
            let client = StaticSecret::from([3u8; 32]);
            let public = PublicKey::from(&client).to_bytes();
            let key = |enc| onion::LayerKey::for_client(&client, &public, recipient().x25519_public(), enc);
            (public, [key(onion::EncType::XChaCha20), key(onion::EncType::AesGcm)])
        })
    }

    /// Recovery-phrase decoding, as typed by a person.
    pub fn decode_phrase(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        let _ = mnemonic::decode(&text);
        let _ = mnemonic::decode_seed(&text);
    }

    /// Opening a message: the storage `data` text, a raw frame, and a raw sealed box.
    pub fn open_message(data: &[u8]) {
        let _ = message::open_message(recipient(), &String::from_utf8_lossy(data));
        if let Ok(envelope) = message::decode_frame(data) {
            let _ = message::open_envelope(recipient(), envelope);
        }
        if let Ok(opened) = seal::open(recipient(), data) {
            let _ = Content::decode_checked(padding::unpad(&opened.plaintext));
        }
    }

    /// The storage `data` wrapper and the protobuf messages inside it.
    pub fn decode_storage_data(data: &[u8]) {
        let _ = message::decode_data(&String::from_utf8_lossy(data));
        let _ = message::decode_frame(data);
        let _ = Envelope::decode_checked(data);
        let _ = Content::decode_checked(data);
        let _ = padding::unpad(data);
    }

    /// A client's reading of storage RPC replies (every reply type, and a 421 body), a batch's
    /// results read again as the replies they embed, and a node's reading of a typed request.
    pub fn parse_storage_replies(data: &[u8]) {
        let _ = rpc::StoreReply::parse(data).map(|r| r.stored_hash().map(str::len));
        let _ = rpc::RetrieveReply::parse(data);
        let _ = rpc::GetSwarmReply::parse(data)
            .map(|r| (r.swarm_id(), r.snodes.iter().filter_map(rpc::SwarmNode::https_port).max()));
        let _ = rpc::InfoReply::parse(data);
        let _ = rpc::DeleteReply::parse(data);
        let _ = rpc::ExpireReply::parse(data);
        let _ = rpc::ExpireAllReply::parse(data);
        let _ = rpc::GetExpiriesReply::parse(data);
        let _ = rpc::GetServiceNodesReply::parse(data);
        if let Ok(batch) = rpc::BatchReply::parse(data) {
            for result in &batch.results {
                let body = result.body_bytes();
                let _ = rpc::StoreReply::parse(&body);
                let _ = rpc::RetrieveReply::parse(&body);
            }
        }
        let _ = serde_json::from_slice::<rpc::Request>(data).map(|r| r.to_json());
    }

    /// A node's parsing of an onion request: the body as it arrives (framing and JSON, parsed
    /// before anything is decrypted), the same bytes as the plaintext of a layer properly
    /// encrypted to the node (so that the instruction parser behind the decryption is reached,
    /// which random bytes never get past), and a client's reading of replies.
    pub fn peel_onion(data: &[u8]) {
        onion::fuzzing::peel_onion(data);
        let node = recipient();
        let _ = onion::peel_as(node, data);
        let Some((selector, plaintext)) = data.split_first() else {
            return;
        };
        let enc = if selector & 1 == 0 { onion::EncType::XChaCha20 } else { onion::EncType::AesGcm };
        let (client_public, [xchacha, aes]) = client_keys();
        let key = if selector & 1 == 0 { xchacha } else { aes };
        let outer = match selector & 2 {
            0 => json!({ "ephemeral_key": hex::encode(client_public), "enc_type": enc.as_str() }),
            _ => {
                json!({ "ephemeral_key": hex::encode(client_public), "enc_type": enc.as_str(), "hop_no": selector >> 2 })
            }
        };
        let body = onion::frame(&key.encrypt(&mut FixedBytes, plaintext), &outer);
        match onion::peel_as(node, &body) {
            Ok(onion::Peeled::Final { request, reply_key, .. }) => {
                let _ = serde_json::from_slice::<serde_json::Value>(&request);
                let _ = onion::v4::decode_request(&request);
                let sealed = onion::encrypt_reply(&mut FixedBytes, &reply_key, &request);
                let _ = onion::unwrap_server_reply(&reply_key, &sealed);
                let _ = onion::unwrap_node_reply(&reply_key, &sealed);
            }
            Ok(_) => {}
            Err(error) => {
                let (_, reply) = error.response(&mut FixedBytes);
                let _ = onion::unwrap_node_reply(key, &reply);
            }
        }
    }

    /// Attachments (protocol-files §3): both decryptors and the profile-picture one with fixed
    /// keys on the bytes as they are; then, since random bytes never get past a MAC, the same
    /// bytes inside properly authenticated input, so that what runs after the MAC is reached — as
    /// the iv and ciphertext of a legacy attachment with its right MAC and digest (PKCS#7, the
    /// size cut), and as the content of a deterministic one's secretstream (the padding, the
    /// marker, the tags; a byte chooses whether a full chunk comes before the last, and the tags);
    /// and the file URL
    /// parser on the bytes as text, what it accepts written back and read again.
    pub fn decrypt_attachment(data: &[u8]) {
        use hmac::{Hmac, Mac};
        use sha2::{Digest, Sha256};

        use crate::attachment::{self, AttachmentKey, FileUrl};

        const LEGACY: [u8; 64] = [0x11; 64];
        const DETERMINISTIC: [u8; 32] = [0x22; 32];
        let (Ok(legacy), Ok(deterministic)) =
            (AttachmentKey::from_bytes(&LEGACY), AttachmentKey::from_bytes(&DETERMINISTIC))
        else {
            return;
        };
        let selector = data.first().copied().unwrap_or(0);
        let size = Some(u64::from(selector) * 5);

        let _ = attachment::decrypt_legacy(data, &legacy, Some(&Sha256::digest(data)), size);
        let _ = attachment::decrypt(data, &deterministic, None, size, true);
        let _ = attachment::decrypt_profile_picture(&DETERMINISTIC, data);

        let (_, mac_key) = LEGACY.split_at(32);
        if let Ok(mac) = <Hmac<Sha256> as Mac>::new_from_slice(mac_key) {
            let mut signed = data.to_vec();
            signed.extend_from_slice(&mac.chain_update(data).finalize().into_bytes());
            let digest = Sha256::digest(&signed);
            let _ = attachment::decrypt_legacy(&signed, &legacy, Some(&digest), size);
            let _ = attachment::decrypt_legacy(&signed, &legacy, Some(&digest), None);
        }

        let content = data.get(1..).unwrap_or_default();
        let (head, last) = content.split_at(content.len().min(16));
        let mut pieces: Vec<Vec<u8>> = head
            .chunks(16)
            .take(usize::from(selector & 0x0f == 0x0f))
            .map(|start| {
                let mut piece = start.to_vec();
                piece.resize(32_768, 0);
                piece
            })
            .collect();
        pieces.push(last.to_vec());
        let count = pieces.len();
        let tagged: Vec<(&[u8], u8)> = pieces
            .iter()
            .enumerate()
            .map(|(i, piece)| {
                let tag = match (i + 1 == count, selector & 0x80) {
                    (true, 0) => 3,
                    (true, _) => (selector >> 5) & 3,
                    (false, _) => (selector >> 4) & 3,
                };
                (piece.as_slice(), tag)
            })
            .collect();
        let sealed = attachment::seal_pieces(&DETERMINISTIC, &[0x33; 24], &tagged);
        let _ = attachment::decrypt(&sealed, &deterministic, None, size, true);

        let text = String::from_utf8_lossy(data);
        if let Ok(url) = FileUrl::parse(&text) {
            let _ = (FileUrl::parse(&url.to_url()), url.server_x25519(), url.deprecated_id());
        }
    }

    /// Bencode (protocol-config-groups §1.1): the strict decoder, what it accepts written back, and
    /// the same bytes read as config data and as a diff.
    pub fn decode_bencode(data: &[u8]) {
        use crate::{bencode, config};

        if let Ok(value) = bencode::decode(data) {
            let _ = value.encode();
            let _ = config::data::data_from_value(&value, true).map(|d| config::data::encode_data(&d));
            let _ = config::data::diff_from_value(&value).map(|d| config::data::diff_to_value(&d).encode());
        }
    }

    /// The config message parser (§1.2–§1.5), unsigned and with a verifier; what it accepts is
    /// written back, incremented with a change, and merged with two concurrent children of its own;
    /// a bt list of byte strings is also merged as a set of messages.
    pub fn parse_config_message(data: &[u8]) {
        use crate::bencode::{self, Value};
        use crate::config::{self, ConfigMessage, DataValue};

        let signer = |m: &[u8]| recipient().sign(m);
        let verifier = recipient().ed25519_public();
        for (verify, sign) in [(None, None), (Some(verifier), Some(&signer as config::Signer<'_>))] {
            let Ok(message) = ConfigMessage::parse(data, verify) else {
                continue;
            };
            let _ = message.serialize();
            let mut a = message.increment();
            a.data_mut().insert(b"fuzz".to_vec(), DataValue::int(1));
            let mut b = message.increment();
            b.data_mut().pop_first();
            let (a, b) = (a.serialize(sign), b.serialize(sign));
            if let Ok(merged) = config::merge(&[data, &a, &b], verify, sign) {
                let _ = merged.message.serialize();
                let _ = merged.message.increment().serialize(sign);
            }
        }
        if let Ok(Value::List(items)) = bencode::decode(data) {
            let inputs: Vec<&[u8]> = items.iter().filter_map(Value::as_bytes).collect();
            let _ = config::merge(&inputs, None, None).map(|m| m.message.serialize());
            let _ =
                config::MutableConfigMessage::from_messages(&inputs, None, None).map(|(mut m, _)| m.serialize(None));
        }
    }

    /// The whole read pipeline of a config (§2.2) with a fixed account: the bytes as retrieved
    /// (protobuf unwrapping, decryption); then, since random bytes never decrypt, the rest after a
    /// selector byte encrypted properly with that account's key — as they are, after `z`, after
    /// `m`, or padded, and wrapped or not — so what follows decryption runs (zstd, the part parser,
    /// the message parser); and the rest cut into the parts of a multipart message fed to a
    /// collector, so reassembly and what follows it run.
    pub fn read_config(data: &[u8]) {
        use blake2::digest::{Digest, consts::U32};

        use crate::bencode::Value;
        use crate::config::pipeline::{self, ConfigKey, Multipart, Part, Read};
        use crate::config::{ConfigKind, ConfigMessage, wrap};

        let identity = recipient();
        let kind = ConfigKind::Contacts;
        let _ = pipeline::read_user_config(identity, kind, data);
        let _ = wrap::unwrap(identity, kind, data);
        let Some((&selector, body)) = data.split_first() else {
            return;
        };
        let key = ConfigKey::for_account(identity);
        let plaintext = match selector & 3 {
            0 => body.to_vec(),
            1 => [b"z", body].concat(),
            2 => [b"m", body].concat(),
            _ => pipeline::pad(body),
        };
        let Ok(blob) = pipeline::encrypt(&key, kind.domain().as_bytes(), &plaintext) else {
            return;
        };
        let wrapped = if selector & 4 != 0 { wrap::wrap(identity, kind, 1, &blob) } else { None };
        let mut collector = Multipart::new();
        match pipeline::read_user_config(identity, kind, wrapped.as_deref().unwrap_or(&blob)) {
            Ok(Read::Message(m)) => {
                let _ = ConfigMessage::parse(m.as_bytes(), None);
            }
            Ok(Read::Part(part)) => {
                let _ = collector.add(part, 0);
            }
            Err(_) => {}
        }

        let count = (selector >> 4).max(1) + 1;
        let final_hash: [u8; 32] = blake2::Blake2b::<U32>::digest(body).into();
        let size = body.len().div_ceil(usize::from(count)).max(1);
        for (index, chunk) in (0..count).zip(body.chunks(size)) {
            let framed = Value::List(vec![
                Value::Bytes(final_hash.to_vec()),
                Value::Bytes(vec![index]),
                Value::Bytes(vec![count]),
                Value::Bytes(chunk.to_vec()),
            ]);
            let Ok(blob) =
                pipeline::encrypt(&key, kind.domain().as_bytes(), &[b"m".to_vec(), framed.encode()].concat())
            else {
                continue;
            };
            if let Ok(Read::Part(part)) = pipeline::read(core::slice::from_ref(&key), kind.domain().as_bytes(), &blob) {
                let Part { index, .. } = part;
                if let Ok(Some(whole)) = collector.add(part, u64::from(index)) {
                    let _ = ConfigMessage::parse(whole.as_bytes(), None);
                }
            }
        }
    }

    /// The community server key and the fixed account's blinded keys on it, computed once.
    fn community_keys() -> &'static ([u8; 32], crate::community::BlindedKeys) {
        static KEYS: OnceLock<([u8; 32], crate::community::BlindedKeys)> = OnceLock::new();
        KEYS.get_or_init(|| {
            let server = [0x5c; 32];
            (server, crate::community::BlindedKeys::blind15(recipient(), &server))
        })
    }

    /// A client's reading of community server replies (protocol-communities §4–§5): every reply
    /// type, each message read as a post (signature check, unpadding, `Content`), each inbox entry
    /// opened as a blinded DM, and a batch's bodies read again as the replies they embed. Since
    /// random signatures never verify, the bytes are also signed properly as a post's data, so
    /// that unpadding and the `Content` parser behind the signature check are reached.
    pub fn community_reply(data: &[u8]) {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD;

        use crate::community::reply::{self, RoomMessage};
        use crate::community::{open_blinded_dm, open_post};

        let (server, keys) = community_keys();
        let read_all = |bytes: &[u8]| {
            let _ = reply::Capabilities::parse(bytes).map(|c| c.blinded());
            let _ = reply::Room::parse(bytes);
            let _ = reply::parse_rooms(bytes);
            let _ = reply::PollInfo::parse(bytes);
            let mut posts: Vec<reply::Message> = reply::Message::parse(bytes).into_iter().collect();
            for message in reply::parse_messages(bytes).unwrap_or_default() {
                let _ = (message.id(), message.seqno());
                if let RoomMessage::Post(post) = message {
                    posts.push(post);
                }
            }
            for post in posts {
                let _ = (post.posted_ms(), open_post(&post.session_id, &post.data, &post.signature));
            }
            let mut entries = reply::parse_direct_messages(bytes).unwrap_or_default();
            entries.extend(reply::DirectMessage::parse(bytes));
            for entry in entries {
                if let Some(message) = entry.message_bytes() {
                    let _ = open_blinded_dm(recipient(), server, &entry.sender, &entry.recipient, &message);
                }
            }
        };
        read_all(data);
        if let Ok(batch) = reply::parse_batch(data) {
            for result in &batch {
                read_all(&result.body_json());
            }
        }
        let signature = STANDARD.encode(keys.sign(data));
        let _ = open_post(&keys.id(), &STANDARD.encode(data), &signature);
    }

    /// A server's reading of a signed request (protocol-communities §2): the bytes as text —
    /// `METHOD path`, then `Name: value` header lines, then a blank line and the body — through
    /// the header parser and signature check under both policies; the same request signed
    /// properly and verified, so the success path runs on any path and body; the first 33 bytes
    /// as an id through the blinding checks; and the text as a community URL.
    pub fn community_request(data: &[u8]) {
        use crate::community::{
            AuthPolicy, CommunityUrl, RequestAuth, RequestKey, blind15_ids, blind25_id, blinded_id_matches,
            sign_request, unblind15, verify_request,
        };
        use crate::identity::SessionId;

        const NOW: i64 = 1_700_000_000;
        let (server, keys) = community_keys();
        let text = String::from_utf8_lossy(data);
        let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let (method, path) = lines.next().and_then(|l| l.split_once(' ')).unwrap_or(("GET", "/"));
        let headers: Vec<(&str, &str)> =
            lines.filter_map(|l| l.split_once(':')).map(|(name, value)| (name.trim(), value.trim())).collect();
        let lax = AuthPolicy { require_blinded: false, accept_blind25: true };
        for policy in [AuthPolicy::default(), lax] {
            if let Ok(Some(auth)) = RequestAuth::parse(headers.iter().copied(), NOW, policy) {
                let _ = (auth.id(), auth.nonce(), auth.timestamp());
                let _ = auth.verify(server, method, path, body.as_bytes());
            }
        }
        let signed = sign_request(
            &mut FixedBytes,
            RequestKey::Blinded(keys),
            server,
            NOW.unsigned_abs(),
            method,
            path,
            body.as_bytes(),
        );
        let _ = verify_request(signed.pairs(), server, method, path, body.as_bytes(), NOW, AuthPolicy::default());

        if let Ok(id) = SessionId::from_bytes(data.get(..33).unwrap_or(data)) {
            let _ = (unblind15(&id, server), blind15_ids(&id, server), blind25_id(&id, server));
            let _ = blinded_id_matches(&id, &recipient().session_id(), server);
        }
        if let Ok(url) = CommunityUrl::parse(&text) {
            let _ = CommunityUrl::parse(&url.to_string());
        }
    }

    /// Nonces for the fuzzing entry points, which must be deterministic: a constant stream.
    /// Never used outside fuzzing.
    struct FixedBytes;

    impl RngCore for FixedBytes {
        fn next_u32(&mut self) -> u32 {
            0x5a5a_5a5a
        }
        fn next_u64(&mut self) -> u64 {
            0x5a5a_5a5a_5a5a_5a5a
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.fill(0x5a);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            dest.fill(0x5a);
            Ok(())
        }
    }

    impl CryptoRng for FixedBytes {}
}
