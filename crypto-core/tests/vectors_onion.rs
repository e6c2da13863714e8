//! Onion requests: `protocol/vectors-onion.md` V1–V3 and `vectors-core.md` §5, plus full
//! in-process round trips and hostile inputs to the node's parser.

use crypto_core::onion::{
    self, BuildError, Destination, EncType, LayerKey, NodeKeys, PathFailure, PeelError, Peeled, Protocol, ServerTarget,
    v4,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::Value;
use x25519_dalek::{PublicKey, StaticSecret};

fn h32(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}

/// libsession-util `tests/test_onionreq.cpp`, "Onion request encryption" (V1, vectors-core §5.1).
mod libsession_test_onionreq_encryption {
    use super::*;

    const A: &str = "bbdfc83022d0aff084a6f0c529a93d1c4d728bf7e41199afed0e01ae70d20540";
    const A_SEC: &str = "ccc335912da8939e2b44816728a5a4773063efa82bf7ae2d42a0abfa2caa452d";
    const B: &str = "caea52c5b0c316d85ffb53ea536826618b13dee40685f166f632653114526a78";
    const B_SEC: &str = "8fcd8ad3a15c76f76f1c56dff0c529999f8c59b4acda79e05666e54d5727dca1";
    const GCM: &str = "1eb6ae1cd72f60999486365749bd5dc15cc0b6a2a44d7d063daa5e93722f0c025fd00306403b61";
    const XCHACHA: &str =
        "9e1a3abe60eff3ea5c23556cc7e225b6f94355315f7281f66ecf4dbb06e7899a52b863e03cde3b287d1638d765db75de02b032";

    fn node_key(enc: EncType) -> LayerKey {
        LayerKey::for_node(&StaticSecret::from(h32(B_SEC)), &h32(B), &h32(A), enc)
    }

    fn client_key(enc: EncType) -> LayerKey {
        LayerKey::for_client(&StaticSecret::from(h32(A_SEC)), &h32(A), &h32(B), enc)
    }

    #[test]
    fn aes_gcm_blob_decrypts() {
        assert_eq!(&node_key(EncType::AesGcm).decrypt(&hex::decode(GCM).unwrap()).unwrap()[..], b"Hello world");
        assert_eq!(&client_key(EncType::AesGcm).decrypt(&hex::decode(GCM).unwrap()).unwrap()[..], b"Hello world");
    }

    #[test]
    fn xchacha20_blob_decrypts() {
        assert_eq!(&node_key(EncType::XChaCha20).decrypt(&hex::decode(XCHACHA).unwrap()).unwrap()[..], b"Hello world");
        assert_eq!(
            &client_key(EncType::XChaCha20).decrypt(&hex::decode(XCHACHA).unwrap()).unwrap()[..],
            b"Hello world"
        );
    }

    /// The derived keys of V1 (checked through the public API: a key built from raw bytes opens
    /// the same blob, and the derived key is what both sides compute).
    #[test]
    fn derived_keys() {
        let gcm = LayerKey::from_bytes(
            h32("4f310f62c43f14d7fea7c084819a4e394d9fc7005919275ac18d9eb8bf3e4231"),
            EncType::AesGcm,
        );
        assert_eq!(&gcm.decrypt(&hex::decode(GCM).unwrap()).unwrap()[..], b"Hello world");
        let xc = LayerKey::from_bytes(
            h32("37a3af90eb276c0b4069998e97edf956b6933bd3c77d330a072cdf274e757ab5"),
            EncType::XChaCha20,
        );
        assert_eq!(&xc.decrypt(&hex::decode(XCHACHA).unwrap()).unwrap()[..], b"Hello world");
    }

    #[test]
    fn broken_blobs_fail() {
        for broken in [
            "1eb6ae1cd72f60999486365759bd5dc15cc0b6a2a44d7d063daa5e93722f0c025fd00306403b61",
            "1eb6ae1cd72f60999486365749bd5dc15cc0b6a2a44d7d063daa5e93722f0c025fd00306403b69",
        ] {
            assert!(node_key(EncType::AesGcm).decrypt(&hex::decode(broken).unwrap()).is_err());
        }
        for broken in [
            "9e1a3abe60eff3ea5c23556cc7e225b6f94355315f7281f66ecf4dbb06e7899a52b863e03cde3b287d1638d765db75de02b033",
            "9e1a3abe60eff3ea5c23556ccfe225b6f94355315f7281f66ecf4dbb06e7899a52b863e03cde3b287d1638d765db75de02b032",
        ] {
            assert!(node_key(EncType::XChaCha20).decrypt(&hex::decode(broken).unwrap()).is_err());
            assert!(node_key(EncType::AesGcm).decrypt(&hex::decode(broken).unwrap()).is_err());
        }
    }

    #[test]
    fn any_single_changed_byte_fails() {
        for (blob, enc) in [(GCM, EncType::AesGcm), (XCHACHA, EncType::XChaCha20)] {
            let bytes = hex::decode(blob).unwrap();
            for i in 0..bytes.len() {
                let mut bad = bytes.clone();
                bad[i] ^= 0x01;
                assert!(node_key(enc).decrypt(&bad).is_err(), "{enc:?} byte {i}");
            }
        }
    }
}

/// libsession-util `tests/test_onionreq.cpp`, "Onion request parser" (V2, vectors-core §5.2).
mod libsession_test_onionreq_parser {
    use super::*;

    const A: &str = "8167e97672005c669a48858c69895f395ca235219ac3f7a4210022b1f910e652";
    const A_SEC: &str = "d2ee09e1a557a077d385fcb69a11ffb6909ecdcc8348def3e0e4172c8a1431c1";
    const B: &str = "8388de69bc0d4b6196133233ad9a46ba0473474bc67718aad96a3a33c257f726";
    const B_SEC: &str = "2f4d1c0d28e137777ec0a316e9f4f763e3e66662a6c51994c6315c9ef34b6deb";
    const GCM_REQ: &str = "270000009525d587d188c92a966eef0e7162bef99a6171a124575b998072a8ee7eb265e0b6f0930ed965047b22656e635f74797065223a20226165732d67636d222c2022657068656d6572616c5f6b6579223a202238313637653937363732303035633636396134383835386336393839356633393563613233353231396163336637613432313030323262316639313065363532227d";
    const XCHACHA_REQ: &str = "33000000e440bc244ddcafd947b86fc5a964aa58de54a6d75cc0f0f3840db14b6c1176a8e2e0a04d5fbdf98f23adee1edc8362ab99b10b7b22656e635f74797065223a2022786368616368613230222c2022657068656d6572616c5f6b6579223a202238313637653937363732303035633636396134383835386336393839356633393563613233353231396163336637613432313030323262316639313065363532227d";

    fn parse_and_decrypt(req: &str, expected_len: usize, enc: EncType, expected_key: &str) {
        let bytes = hex::decode(req).unwrap();
        let (blob, json) = onion::split_frame(&bytes).unwrap();
        assert_eq!(blob.len(), expected_len);
        assert_eq!(json.get("enc_type").and_then(Value::as_str), Some(enc.as_str()));
        assert_eq!(json.get("ephemeral_key").and_then(Value::as_str), Some(A));
        let key = LayerKey::for_node(&StaticSecret::from(h32(B_SEC)), &h32(B), &h32(A), enc);
        assert_eq!(&key.decrypt(blob).unwrap()[..], b"Hello world");
        let derived = LayerKey::from_bytes(h32(expected_key), enc);
        assert_eq!(&derived.decrypt(blob).unwrap()[..], b"Hello world");

        // Reply "Goodbye world": 41 bytes (aes-gcm) or 53 (xchacha20); the client opens it.
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let reply = key.encrypt(&mut rng, b"Goodbye world");
        assert_eq!(reply.len(), if enc == EncType::AesGcm { 41 } else { 53 });
        let client = LayerKey::for_client(&StaticSecret::from(h32(A_SEC)), &h32(A), &h32(B), enc);
        assert_eq!(&client.decrypt(&reply).unwrap()[..], b"Goodbye world");
    }

    #[test]
    fn aes_gcm_request() {
        parse_and_decrypt(
            GCM_REQ,
            39,
            EncType::AesGcm,
            "6215038efa8c2735db1aa5a086f75b51e972b8bdcf6926480bdec488cd4db99d",
        );
    }

    #[test]
    fn xchacha20_request() {
        parse_and_decrypt(
            XCHACHA_REQ,
            51,
            EncType::XChaCha20,
            "539091d458c3ba5ec79e5d2784452698e7c5f44138cdfeafca72e19c322e8fe5",
        );
    }

    /// The V2 requests carry "Hello world" directly (no inner framing), so a node peeling them
    /// reports unusable instructions, encrypted with the layer key — not a parse error.
    #[test]
    fn peel_of_a_payload_without_instructions_is_an_inner_error() {
        let bytes = hex::decode(XCHACHA_REQ).unwrap();
        let err = onion::peel(&StaticSecret::from(h32(B_SEC)), &h32(B), &bytes).unwrap_err();
        assert!(matches!(err, PeelError::Inner { message: "Invalid json", .. }));
        assert_eq!(err.status(), 400);
    }
}

/// pysogs `sogs/routes/onion_request.py` docstring (V3): v4 framing.
mod pysogs_onion_request_v4 {
    use super::*;

    #[test]
    fn get_request_without_body() {
        let meta = r#"{"method":"GET","endpoint":"/room/some-room","headers":{"Some-Header":"12345"}}"#;
        assert_eq!(
            v4::encode_request(meta, None),
            br#"l79:{"method":"GET","endpoint":"/room/some-room","headers":{"Some-Header":"12345"}}e"#
        );
    }

    #[test]
    fn post_request_with_body() {
        let meta = r#"{"method":"POST","endpoint":"/some/thing","headers":{"Some-Header":"a"}}"#;
        assert_eq!(
            v4::encode_request(meta, Some(b"post body here")),
            br#"l72:{"method":"POST","endpoint":"/some/thing","headers":{"Some-Header":"a"}}14:post body heree"#
        );
    }

    #[test]
    fn json_response() {
        let r =
            v4::decode_response(br#"l58:{"code":200,"headers":{"content-type":"application/json"}}11:{"id": 123}e"#)
                .unwrap();
        assert_eq!(r.code, 200);
        assert_eq!(r.body, br#"{"id": 123}"#);
        assert_eq!(r.metadata["headers"]["content-type"], "application/json");
    }

    #[test]
    fn malformed_responses_are_errors() {
        for bad in [
            &b""[..],
            b"l",
            b"le",
            b"l5:abce",
            b"l3:abce",
            b"l99999999999:e",
            b"i5e",
            b"l2:{}e",
            b"l1:xe",
            b"l2:{}2:abx",
        ] {
            assert!(v4::decode_response(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}

/// In-process networks: build with crypto-core, peel at each hop with crypto-core.
mod round_trips {
    use super::*;

    struct Node {
        secret: StaticSecret,
        keys: NodeKeys,
    }

    fn node(rng: &mut ChaCha20Rng, tag: u8) -> Node {
        let secret = StaticSecret::random_from_rng(&mut *rng);
        let x25519 = PublicKey::from(&secret).to_bytes();
        Node { secret, keys: NodeKeys { ed25519: [tag; 32], x25519 } }
    }

    fn run(enc: EncType) {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let hops: Vec<Node> = (1..=3).map(|i| node(&mut rng, i)).collect();
        let dest = node(&mut rng, 9);
        let path: Vec<NodeKeys> = hops.iter().map(|n| n.keys).collect();
        let payload = br#"{"method":"info","params":{}}"#;
        let req = onion::build(&mut rng, &path, &Destination::Node(dest.keys), payload, enc).unwrap();
        assert_eq!(req.guard, [1; 32]);

        let mut body = req.body.clone();
        for (i, hop) in hops.iter().enumerate() {
            match onion::peel(&hop.secret, &hop.keys.x25519, &body).unwrap() {
                Peeled::Relay { destination, body: next } => {
                    let expected = hops.get(i + 1).map_or(dest.keys.ed25519, |n| n.keys.ed25519);
                    assert_eq!(destination, expected);
                    let (_, json) = onion::split_frame(&next).unwrap();
                    assert_eq!(json["hop_no"], i as u64 + 1);
                    body = next;
                }
                other => panic!("hop {i}: {other:?}"),
            }
        }
        let Peeled::Final { request, json, base64, reply_key } =
            onion::peel(&dest.secret, &dest.keys.x25519, &body).unwrap()
        else {
            panic!("destination did not see a final request");
        };
        assert_eq!(request, payload);
        assert!(!json && base64);
        let reply = onion::seal_node_reply(&mut rng, &reply_key, 200, r#"{"version":[2,6,2]}"#, json, base64);
        let opened = onion::unwrap_node_reply(&req.reply_key, &reply).unwrap();
        assert_eq!(opened.status, 200);
        assert_eq!(opened.body, br#"{"version":[2,6,2]}"#);

        // Another request's key does not open this reply.
        let other = onion::build(&mut rng, &path, &Destination::Node(dest.keys), payload, enc).unwrap();
        assert!(onion::unwrap_node_reply(&other.reply_key, &reply).is_err());
    }

    #[test]
    fn three_hops_to_a_node_xchacha20() {
        run(EncType::XChaCha20);
    }

    #[test]
    fn three_hops_to_a_node_aes_gcm() {
        run(EncType::AesGcm);
    }

    #[test]
    fn embedded_json_reply() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let key = LayerKey::from_bytes([5; 32], EncType::XChaCha20);
        let reply = onion::seal_node_reply(&mut rng, &key, 421, r#"{"snodes":[]}"#, true, false);
        let opened = onion::unwrap_node_reply(&key, &reply).unwrap();
        assert_eq!(opened.status, 421);
        assert_eq!(opened.body, br#"{"snodes":[]}"#);
    }

    #[test]
    fn three_hops_to_a_server() {
        let mut rng = ChaCha20Rng::seed_from_u64(13);
        let hops: Vec<Node> = (1..=3).map(|i| node(&mut rng, i)).collect();
        let server_secret = StaticSecret::random_from_rng(&mut rng);
        let server = ServerTarget {
            host: "127.0.0.1".into(),
            target: "/oxen/v4/lsrpc".into(),
            port: 8081,
            protocol: Protocol::Http,
            x25519: PublicKey::from(&server_secret).to_bytes(),
        };
        let path: Vec<NodeKeys> = hops.iter().map(|n| n.keys).collect();
        let payload = v4::encode_request(r#"{"method":"GET","endpoint":"/capabilities"}"#, None);
        let req =
            onion::build(&mut rng, &path, &Destination::Server(server.clone()), &payload, EncType::XChaCha20).unwrap();
        let mut body = req.body.clone();
        for hop in &hops[..2] {
            let Peeled::Relay { body: next, .. } = onion::peel(&hop.secret, &hop.keys.x25519, &body).unwrap() else {
                panic!("expected a relay");
            };
            body = next;
        }
        let Peeled::Proxy { host, target, port, protocol, body: server_body } =
            onion::peel(&hops[2].secret, &hops[2].keys.x25519, &body).unwrap()
        else {
            panic!("expected a proxy");
        };
        assert_eq!(
            (host.as_str(), target.as_str(), port, protocol),
            ("127.0.0.1", "/oxen/v4/lsrpc", 8081, Protocol::Http)
        );
        // The server reads the same framing: blob ‖ JSON with its own ephemeral key.
        let (blob, json) = onion::split_frame(&server_body).unwrap();
        let eph = h32(json["ephemeral_key"].as_str().unwrap());
        let server_key = LayerKey::for_node(&server_secret, &server.x25519, &eph, EncType::XChaCha20);
        assert_eq!(&server_key.decrypt(blob).unwrap()[..], &payload[..]);
        let response = server_key.encrypt(&mut rng, br#"l25:{"code":200,"headers":{}}2:{}e"#);
        let opened = onion::unwrap_server_reply(&req.reply_key, &response).unwrap();
        assert_eq!((opened.code, opened.body.as_slice()), (200, &b"{}"[..]));
    }

    #[test]
    fn every_layer_uses_a_fresh_ephemeral_key() {
        let mut rng = ChaCha20Rng::seed_from_u64(14);
        let hops: Vec<Node> = (1..=3).map(|i| node(&mut rng, i)).collect();
        let dest = node(&mut rng, 9);
        let path: Vec<NodeKeys> = hops.iter().map(|n| n.keys).collect();
        let a = onion::build(&mut rng, &path, &Destination::Node(dest.keys), b"{}", EncType::XChaCha20).unwrap();
        let b = onion::build(&mut rng, &path, &Destination::Node(dest.keys), b"{}", EncType::XChaCha20).unwrap();
        assert_ne!(a.body, b.body);
        let mut seen = std::collections::HashSet::new();
        let mut body = a.body;
        for hop in &hops {
            let (_, json) = onion::split_frame(&body).unwrap();
            assert!(seen.insert(json["ephemeral_key"].as_str().unwrap().to_owned()));
            let Peeled::Relay { body: next, .. } = onion::peel(&hop.secret, &hop.keys.x25519, &body).unwrap() else {
                panic!()
            };
            body = next;
        }
        let (_, json) = onion::split_frame(&body).unwrap();
        assert!(seen.insert(json["ephemeral_key"].as_str().unwrap().to_owned()));
    }

    #[test]
    fn build_rejects_bad_paths() {
        let mut rng = ChaCha20Rng::seed_from_u64(15);
        let n = node(&mut rng, 1);
        assert_eq!(
            onion::build(&mut rng, &[], &Destination::Node(n.keys), b"", EncType::XChaCha20).unwrap_err(),
            BuildError::EmptyPath
        );
        assert_eq!(
            onion::build(&mut rng, &[n.keys], &Destination::Node(n.keys), b"", EncType::XChaCha20).unwrap_err(),
            BuildError::DestinationInPath
        );
        let long = vec![node(&mut rng, 2).keys; 15];
        assert_eq!(
            onion::build(&mut rng, &long, &Destination::Node(n.keys), b"", EncType::XChaCha20).unwrap_err(),
            BuildError::PathTooLong
        );
    }

    #[test]
    fn hostile_inputs_to_peel() {
        let mut rng = ChaCha20Rng::seed_from_u64(16);
        let n = node(&mut rng, 1);
        let d = node(&mut rng, 2);
        let peel = |body: &[u8]| onion::peel(&n.secret, &n.keys.x25519, body);
        let good =
            onion::build(&mut rng, &[n.keys], &Destination::Node(d.keys), b"{}", EncType::XChaCha20).unwrap().body;

        let err = peel(b"").unwrap_err();
        assert_eq!(
            (err.status(), err.message().as_str()),
            (400, "Error parsing onion request: Unexpected payload size")
        );
        let garbage: Vec<u8> = (0..500u32).map(|i| (i * 7919 % 251) as u8).collect();
        assert_eq!(peel(&garbage).unwrap_err().status(), 400);
        assert!(peel(&garbage).unwrap_err().message().starts_with("Error parsing onion request: "));
        for len in 0..good.len() {
            let err = peel(&good[..len]).unwrap_err();
            assert_eq!(err.status(), 400, "truncated to {len}");
        }
        let mut bad = good.clone();
        bad[10] ^= 1;
        assert_eq!(peel(&bad).unwrap_err().message(), "Invalid ciphertext");
        let (blob, _) = onion::split_frame(&good).unwrap();
        let wrong_enc =
            onion::frame(blob, &serde_json::json!({"ephemeral_key": hex::encode([3u8; 32]), "enc_type": "rot13"}));
        assert_eq!(peel(&wrong_enc).unwrap_err().message(), "Error parsing onion request: unknown enc_type");
        let no_key = onion::frame(blob, &serde_json::json!({"enc_type": "xchacha20"}));
        assert!(peel(&no_key).unwrap_err().message().starts_with("Error parsing onion request"));
        let too_far = onion::frame(blob, &serde_json::json!({"ephemeral_key": hex::encode([3u8; 32]), "hop_no": 16}));
        assert_eq!(peel(&too_far).unwrap_err().message(), "onion request max path length exceeded");
        let huge = vec![0u8; onion::MAX_BODY_LEN + 1];
        assert_eq!(peel(&huge).unwrap_err().status(), 413);
        let wrong_node = node(&mut rng, 3);
        assert_eq!(
            onion::peel(&wrong_node.secret, &wrong_node.keys.x25519, &good).unwrap_err().message(),
            "Invalid ciphertext"
        );
    }

    #[test]
    fn path_failures_are_classified() {
        let key = hex::encode([0xab; 32]);
        assert_eq!(
            onion::classify_path_failure(502, format!("Next node not found: {key}").as_bytes()),
            PathFailure::NextNodeNotFound([0xab; 32])
        );
        assert_eq!(onion::classify_path_failure(406, b"Timestamp error"), PathFailure::ClockOutOfSync);
        assert_eq!(onion::classify_path_failure(421, b""), PathFailure::WrongSwarm);
        assert_eq!(onion::classify_path_failure(400, b"Invalid ciphertext"), PathFailure::Other);
        assert_eq!(onion::classify_path_failure(502, b"Next node not found: zz"), PathFailure::Other);
    }
}

/// vectors-onion.md V11: network constants (desktop `FileServerTarget.ts`): a server's X25519
/// key is the Ed→X conversion of its Ed25519 key.
mod desktop_file_server_target {
    use crypto_core::identity::ed25519_to_x25519_public;

    #[test]
    fn default_file_server_keys() {
        let ed = super::h32("b8eef9821445ae16e2e97ef8aa6fe782fd11ad5253cd6723b281341dba22e371");
        assert_eq!(
            hex::encode(ed25519_to_x25519_public(&ed).unwrap()),
            "09324794aa9c11948189762d198c618148e9136ac9582068180661208927ef34"
        );
    }

    #[test]
    fn test_file_server_keys() {
        let ed = super::h32("ff86dcd4b26d1bfec944c59859494248626d6428efc12168749d65a1b92f5e28");
        assert_eq!(
            hex::encode(ed25519_to_x25519_public(&ed).unwrap()),
            "fc097b06821c98a2db75ce02e521cef5fd9d3446e42e81d843c4c8c4e9260f48"
        );
    }
}
