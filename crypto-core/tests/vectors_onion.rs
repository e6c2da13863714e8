//! Onion requests: `protocol/vectors-onion.md` V1–V3 and `vectors-core.md` §5, plus full
//! in-process round trips and hostile inputs to the node's parser.

use crypto_core::onion::{
    self, BuildError, Destination, EncType, LayerKey, NodeKeys, PathFailure, PeelError, Peeled, Protocol, ServerTarget,
    v4,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
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

        // Both sides derive exactly these keys: what one encrypts, the raw DERIVED key opens.
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for (raw, enc) in [(&gcm, EncType::AesGcm), (&xc, EncType::XChaCha20)] {
            for derived in [client_key(enc), node_key(enc)] {
                let sealed = derived.encrypt(&mut rng, b"Goodbye world");
                assert_eq!(&raw.decrypt(&sealed).unwrap()[..], b"Goodbye world");
            }
        }
    }

    /// The snode's reply goes back under the same key; the client opens it with (a, B).
    #[test]
    fn reply_round_trip_both_directions() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        for enc in [EncType::AesGcm, EncType::XChaCha20] {
            let reply = node_key(enc).encrypt(&mut rng, b"reply");
            assert_eq!(&client_key(enc).decrypt(&reply).unwrap()[..], b"reply");
            // The wrong cipher never opens it.
            let other = if enc == EncType::AesGcm { EncType::XChaCha20 } else { EncType::AesGcm };
            assert!(client_key(other).decrypt(&reply).is_err());
        }
    }

    /// Layout: nonce 12 (aes-gcm) / 24 (xchacha20) ‖ ciphertext ‖ tag 16.
    #[test]
    fn layout_lengths() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        assert_eq!(hex::decode(GCM).unwrap().len(), 12 + 11 + 16);
        assert_eq!(hex::decode(XCHACHA).unwrap().len(), 24 + 11 + 16);
        assert_eq!(client_key(EncType::AesGcm).encrypt(&mut rng, b"Hello world").len(), 39);
        assert_eq!(client_key(EncType::XChaCha20).encrypt(&mut rng, b"Hello world").len(), 51);
        // Every prefix of a valid blob (down to nothing) fails.
        for (blob, enc) in [(GCM, EncType::AesGcm), (XCHACHA, EncType::XChaCha20)] {
            let bytes = hex::decode(blob).unwrap();
            for len in 0..bytes.len() {
                assert!(node_key(enc).decrypt(&bytes[..len]).is_err(), "{enc:?} prefix {len}");
            }
        }
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
                for flip in [0x01, 0x80, 0xff] {
                    let mut bad = bytes.clone();
                    bad[i] ^= flip;
                    assert!(node_key(enc).decrypt(&bad).is_err(), "{enc:?} byte {i} ^ {flip:#x}");
                    assert!(client_key(enc).decrypt(&bad).is_err(), "{enc:?} byte {i} ^ {flip:#x}");
                }
            }
            // Dropping or appending a byte fails too.
            assert!(node_key(enc).decrypt(&bytes[..bytes.len() - 1]).is_err());
            assert!(node_key(enc).decrypt(&[&bytes[..], &[0]].concat()).is_err());
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
    /// decrypts the layer and then finds no instructions: a real node answers HTTP 200 with
    /// `{"body":"Invalid json","status":400}` encrypted with the layer key, which the client opens.
    #[test]
    fn peel_decrypts_and_reports_missing_instructions_encrypted() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        for (req, enc) in [(XCHACHA_REQ, EncType::XChaCha20), (GCM_REQ, EncType::AesGcm)] {
            let bytes = hex::decode(req).unwrap();
            let err = onion::peel_with_secret(&StaticSecret::from(h32(B_SEC)), &bytes).unwrap_err();
            assert!(matches!(err, PeelError::Inner { message: "Invalid json", .. }), "{err:?}");
            let (status, body) = err.response(&mut rng);
            assert_eq!(status, 200);
            let client = LayerKey::for_client(&StaticSecret::from(h32(A_SEC)), &h32(A), &h32(B), enc);
            let reply = onion::unwrap_node_reply(&client, &body).unwrap();
            assert_eq!((reply.status, reply.body.as_slice()), (400, &b"Invalid json"[..]));
        }
    }

    /// Any changed byte of the ciphertext part of the full request: the node answers
    /// 400 `Invalid ciphertext`; a changed length prefix is a parse error. Never Ok, never a panic.
    #[test]
    fn any_changed_ciphertext_byte_is_invalid_ciphertext() {
        for (req, n) in [(XCHACHA_REQ, 51usize), (GCM_REQ, 39)] {
            let bytes = hex::decode(req).unwrap();
            for i in 4..4 + n {
                let mut bad = bytes.clone();
                bad[i] ^= 0x01;
                let err = onion::peel(&StaticSecret::from(h32(B_SEC)), &h32(B), &bad).unwrap_err();
                assert_eq!((err.status(), err.message().as_str()), (400, "Invalid ciphertext"), "byte {i}");
            }
            for i in 0..4 {
                let mut bad = bytes.clone();
                bad[i] ^= 0x01;
                let err = onion::peel(&StaticSecret::from(h32(B_SEC)), &h32(B), &bad).unwrap_err();
                assert_eq!(err.status(), 400, "byte {i}");
                assert!(!matches!(err, PeelError::Inner { .. }), "byte {i}");
            }
            for i in 0..bytes.len() {
                let mut bad = bytes.clone();
                bad[i] ^= 0x01;
                assert!(onion::peel(&StaticSecret::from(h32(B_SEC)), &h32(B), &bad).is_err());
            }
        }
    }

    /// The wrong node key cannot open the layer.
    #[test]
    fn wrong_node_key_is_invalid_ciphertext() {
        let other = StaticSecret::from([0x42; 32]);
        let err = onion::peel_with_secret(&other, &hex::decode(XCHACHA_REQ).unwrap()).unwrap_err();
        assert_eq!(err.message(), "Invalid ciphertext");
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
    fn json_response_encodes_byte_exactly() {
        let headers = serde_json::json!({"content-type": "application/json"});
        assert_eq!(
            v4::encode_response(200, headers.as_object().unwrap(), br#"{"id": 123}"#),
            br#"l58:{"code":200,"headers":{"content-type":"application/json"}}11:{"id": 123}e"#
        );
    }

    #[test]
    fn requests_decode_on_the_server_side() {
        let get = v4::decode_request(
            br#"l79:{"method":"GET","endpoint":"/room/some-room","headers":{"Some-Header":"12345"}}e"#,
        )
        .unwrap();
        assert_eq!((get.metadata["method"].as_str(), get.body), (Some("GET"), None));
        assert_eq!(get.metadata["headers"]["Some-Header"], "12345");
        let post = v4::decode_request(
            br#"l72:{"method":"POST","endpoint":"/some/thing","headers":{"Some-Header":"a"}}14:post body heree"#,
        )
        .unwrap();
        assert_eq!(post.metadata["endpoint"], "/some/thing");
        assert_eq!(post.body.as_deref(), Some(&b"post body here"[..]));
        for bad in [
            &br#"l2:{}e"#[..],
            br#"l16:{"method":"GET"}e"#,
            br#"l33:{"method":"GET","endpoint":"x/y"}e"#,
            br#"l34:{"method":"GET","endpoint":"/x/y"}1:a1:be"#,
            b"l1:[e",
        ] {
            assert!(v4::decode_request(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
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
        let long = vec![node(&mut rng, 2).keys; 16];
        assert_eq!(
            onion::build(&mut rng, &long, &Destination::Node(n.keys), b"", EncType::XChaCha20).unwrap_err(),
            BuildError::PathTooLong
        );
        let huge = vec![0u8; onion::MAX_BODY_LEN + 1];
        assert_eq!(
            onion::build(&mut rng, &long[..3], &Destination::Node(n.keys), &huge, EncType::XChaCha20).unwrap_err(),
            BuildError::TooLarge
        );
    }

    /// A 15-node path is the longest a node accepts: the destination sees hop number 15.
    #[test]
    fn fifteen_hops_reach_the_destination() {
        let mut rng = ChaCha20Rng::seed_from_u64(17);
        let hops: Vec<Node> = (1..=15).map(|i| node(&mut rng, i)).collect();
        let dest = node(&mut rng, 99);
        let path: Vec<NodeKeys> = hops.iter().map(|n| n.keys).collect();
        let req = onion::build(&mut rng, &path, &Destination::Node(dest.keys), b"{}", EncType::AesGcm).unwrap();
        let mut body = req.body;
        for hop in &hops {
            let Peeled::Relay { body: next, .. } = onion::peel(&hop.secret, &hop.keys.x25519, &body).unwrap() else {
                panic!("expected a relay")
            };
            body = next;
        }
        let (_, json) = onion::split_frame(&body).unwrap();
        assert_eq!(json["hop_no"], 15);
        assert!(matches!(onion::peel(&dest.secret, &dest.keys.x25519, &body).unwrap(), Peeled::Final { .. }));
        // One more relay would carry hop number 16: refused.
        let (blob, mut json) = onion::split_frame(&body).unwrap();
        json.insert("hop_no".into(), 16.into());
        let err = onion::peel(&dest.secret, &dest.keys.x25519, &onion::frame(blob, &Value::Object(json))).unwrap_err();
        assert_eq!((err.status(), err.message().as_str()), (400, "onion request max path length exceeded"));
    }

    fn expect_err(n: &Node, body: &[u8], status: u16, message: &str) {
        let err = onion::peel(&n.secret, &n.keys.x25519, body).unwrap_err();
        assert_eq!((err.status(), err.message().as_str()), (status, message), "{:?}", String::from_utf8_lossy(body));
    }

    /// protocol-core §7 and protocol-onion §1.7: the real node's statuses and messages.
    #[test]
    fn hostile_inputs_to_peel() {
        let mut rng = ChaCha20Rng::seed_from_u64(16);
        let n = node(&mut rng, 1);
        let d = node(&mut rng, 2);
        let good =
            onion::build(&mut rng, &[n.keys], &Destination::Node(d.keys), b"{}", EncType::XChaCha20).unwrap().body;
        let (blob, _) = onion::split_frame(&good).unwrap();
        let eph = hex::encode([3u8; 32]);
        let with = |json: Value| onion::frame(blob, &json);

        expect_err(&n, b"", 400, "Error parsing onion request: Unexpected payload size; expected ciphertext size");
        expect_err(
            &n,
            b"\x01\x00\x00",
            400,
            "Error parsing onion request: Unexpected payload size; expected ciphertext size",
        );
        // Random bytes: a length prefix larger than the body.
        let garbage: Vec<u8> = (0..500u32).map(|i| (i * 7919 % 251) as u8).collect();
        let claimed = u32::from_le_bytes(garbage[..4].try_into().unwrap());
        expect_err(
            &n,
            &garbage,
            400,
            &format!("Error parsing onion request: Unexpected payload size 496, expected >= {claimed}"),
        );
        let mut long_prefix = good.clone();
        long_prefix[..4].copy_from_slice(&(good.len() as u32).to_le_bytes());
        expect_err(
            &n,
            &long_prefix,
            400,
            &format!(
                "Error parsing onion request: Unexpected payload size {}, expected >= {}",
                good.len() - 4,
                good.len()
            ),
        );
        // Every truncation is a 400 (framing or JSON), never a panic.
        for len in 0..good.len() {
            let err = onion::peel(&n.secret, &n.keys.x25519, &good[..len]).unwrap_err();
            assert_eq!(err.status(), 400, "truncated to {len}");
            assert!(err.message().starts_with("Error parsing onion request: "), "truncated to {len}");
        }
        // Bad JSON trailers.
        let mut bad_json = onion::frame(blob, &Value::Null);
        bad_json.truncate(4 + blob.len());
        bad_json.extend_from_slice(b"{\"ephemeral_key\": ");
        assert!(
            onion::peel(&n.secret, &n.keys.x25519, &bad_json)
                .unwrap_err()
                .message()
                .starts_with("Error parsing onion request: [json.exception.parse_error.101] parse error at line 1")
        );
        expect_err(
            &n,
            &with(serde_json::json!([1, 2])),
            400,
            "Error parsing onion request: [json.exception.type_error.304] cannot use at() with array",
        );
        expect_err(
            &n,
            &with(serde_json::json!({"enc_type": "xchacha20"})),
            400,
            "Error parsing onion request: [json.exception.out_of_range.403] key 'ephemeral_key' not found",
        );
        expect_err(
            &n,
            &with(serde_json::json!({"ephemeral_key": 5})),
            400,
            "Error parsing onion request: [json.exception.type_error.303] incompatible ReferenceType for get_ref, actual type is number",
        );
        expect_err(
            &n,
            &with(serde_json::json!({"ephemeral_key": "zz"})),
            400,
            "Error parsing onion request: Hex key data is invalid: data is not hex",
        );
        expect_err(
            &n,
            &with(serde_json::json!({"ephemeral_key": "abcd"})),
            400,
            "Error parsing onion request: Hex key data is invalid: expected 32 hex digits, received 4",
        );
        expect_err(
            &n,
            &with(serde_json::json!({"ephemeral_key": eph, "enc_type": "rot13"})),
            400,
            "Error parsing onion request: Invalid encryption type rot13",
        );
        expect_err(
            &n,
            &with(serde_json::json!({"ephemeral_key": eph, "hop_no": "3"})),
            400,
            "Error parsing onion request: [json.exception.type_error.302] type must be number, but is string",
        );
        expect_err(
            &n,
            &with(serde_json::json!({"ephemeral_key": eph, "hop_no": 16})),
            400,
            "onion request max path length exceeded",
        );
        // A negative hop number counts as 0; the (wrong) ephemeral key then fails to decrypt.
        expect_err(&n, &with(serde_json::json!({"ephemeral_key": eph, "hop_no": -4})), 400, "Invalid ciphertext");
        // Corrupted ciphertext, or the wrong node.
        let mut bad = good.clone();
        bad[10] ^= 1;
        expect_err(&n, &bad, 400, "Invalid ciphertext");
        let wrong_node = node(&mut rng, 3);
        expect_err(&wrong_node, &good, 400, "Invalid ciphertext");
        // The enc_type is part of the key: claiming aes-gcm for an xchacha20 layer fails.
        let (_, mut json) = onion::split_frame(&good).unwrap();
        json.insert("enc_type".into(), "aes-gcm".into());
        expect_err(&n, &with(Value::Object(json)), 400, "Invalid ciphertext");
        // Too large.
        let huge = vec![0u8; onion::MAX_BODY_LEN + 1];
        expect_err(&n, &huge, 413, "Request body too large");
        let mut rng2 = ChaCha20Rng::seed_from_u64(1);
        let err = onion::peel(&n.secret, &n.keys.x25519, &huge).unwrap_err();
        assert_eq!(err.response(&mut rng2), (413, b"Request body too large".to_vec()));
    }

    /// Hand-made layers whose instructions are unusable: answered encrypted with that layer's
    /// key, HTTP 200, `{"body": "Invalid json" | "Invalid url", "status": 400}`.
    #[test]
    fn unusable_instructions_are_answered_encrypted() {
        let mut rng = ChaCha20Rng::seed_from_u64(18);
        let n = node(&mut rng, 1);
        let eph_secret = StaticSecret::random_from_rng(&mut rng);
        let eph = PublicKey::from(&eph_secret).to_bytes();
        let client = LayerKey::for_client(&eph_secret, &eph, &n.keys.x25519, EncType::XChaCha20);
        let layer = |plain: &[u8], rng: &mut ChaCha20Rng| {
            onion::frame(
                &client.encrypt(rng, plain),
                &serde_json::json!({"ephemeral_key": hex::encode(eph), "enc_type": "xchacha20"}),
            )
        };
        let inner = |json: Value| onion::frame(b"inner", &json);
        let k = hex::encode([5u8; 32]);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"not framed".to_vec(), "Invalid json"),
            (inner(serde_json::json!({"ephemeral_key": k})), "Invalid json"),
            (inner(serde_json::json!({"destination": "zz", "ephemeral_key": k})), "Invalid json"),
            (inner(serde_json::json!({"destination": k, "ephemeral_key": "abc"})), "Invalid json"),
            (inner(serde_json::json!({"destination": k, "ephemeral_key": k, "enc_type": "rot13"})), "Invalid json"),
            (inner(serde_json::json!({"headers": "", "json": "yes"})), "Invalid json"),
            (inner(serde_json::json!({"host": 5, "target": "/oxen/v4/lsrpc"})), "Invalid json"),
            (inner(serde_json::json!({"host": "h"})), "Invalid json"),
            (inner(serde_json::json!({"host": "h", "target": "/oxen/v4/lsrpc", "port": "80"})), "Invalid json"),
            (inner(serde_json::json!({"host": "h", "target": "/other/lsrpc"})), "Invalid url"),
            (inner(serde_json::json!({"host": "h", "target": "/oxen/v4/lsrpc?x=1"})), "Invalid url"),
            (inner(serde_json::json!({"host": "h", "target": "/oxen/v4/lsrpc", "protocol": "ftp"})), "Invalid url"),
        ];
        for (plain, expected) in cases {
            let err = onion::peel(&n.secret, &n.keys.x25519, &layer(&plain, &mut rng)).unwrap_err();
            assert_eq!(err.message(), expected, "{:?}", String::from_utf8_lossy(&plain));
            let (status, body) = err.response(&mut rng);
            assert_eq!(status, 200);
            let reply = onion::unwrap_node_reply(&client, &body).unwrap();
            assert_eq!((reply.status, reply.body.as_slice()), (400, expected.as_bytes()));
        }
        // Defaults a real node applies: aes-gcm for the next layer, port 443 and https for a server.
        let relay = inner(serde_json::json!({"destination": k, "ephemeral_key": k}));
        let Peeled::Relay { destination, body } =
            onion::peel(&n.secret, &n.keys.x25519, &layer(&relay, &mut rng)).unwrap()
        else {
            panic!("expected a relay")
        };
        assert_eq!(destination, [5; 32]);
        let (blob, json) = onion::split_frame(&body).unwrap();
        assert_eq!(
            (blob, json["enc_type"].as_str(), json["hop_no"].as_u64()),
            (&b"inner"[..], Some("aes-gcm"), Some(1))
        );
        let proxy = inner(serde_json::json!({"host": "example.org", "target": "/loki/v3/lsrpc"}));
        let Peeled::Proxy { port, protocol, body, .. } =
            onion::peel(&n.secret, &n.keys.x25519, &layer(&proxy, &mut rng)).unwrap()
        else {
            panic!("expected a proxy")
        };
        assert_eq!((port, protocol, body), (443, Protocol::Https, proxy));
        let fin = inner(
            serde_json::json!({"body": null, "headers": {"Content-Type": "application/json"}, "json": true, "base64": false}),
        );
        let Peeled::Final { request, json, base64, .. } =
            onion::peel(&n.secret, &n.keys.x25519, &layer(&fin, &mut rng)).unwrap()
        else {
            panic!("expected the final destination")
        };
        assert_eq!((request.as_slice(), json, base64), (&b"inner"[..], true, false));
    }

    /// Mutations of a valid 3-hop onion at every hop: errors only, with real statuses, no panic.
    #[test]
    fn mutated_onions_never_panic() {
        let mut rng = ChaCha20Rng::seed_from_u64(19);
        let hops: Vec<Node> = (1..=3).map(|i| node(&mut rng, i)).collect();
        let dest = node(&mut rng, 9);
        let path: Vec<NodeKeys> = hops.iter().map(|n| n.keys).collect();
        let req = onion::build(&mut rng, &path, &Destination::Node(dest.keys), b"{}", EncType::XChaCha20).unwrap();
        for round in 0..2000u32 {
            let mut body = req.body.clone();
            let i = rng.next_u32() as usize % body.len();
            match round % 4 {
                0 => body[i] ^= 1 << (round % 8),
                1 => body.truncate(i),
                2 => body.insert(i, rng.next_u32() as u8),
                _ => body.drain(i..(i + 8).min(body.len())).for_each(drop),
            }
            onion::fuzzing::peel_onion(&body);
            if let Err(e) = onion::peel(&hops[0].secret, &hops[0].keys.x25519, &body) {
                assert!([200, 400, 413].contains(&e.status()));
                assert!(!e.message().is_empty());
            }
        }
    }

    #[test]
    fn path_failures_are_classified() {
        let key = hex::encode([0xab; 32]);
        assert_eq!(
            onion::classify_path_failure(502, format!("Next node not found: {key}").as_bytes()),
            PathFailure::NextNodeNotFound([0xab; 32])
        );
        assert_eq!(
            onion::classify_path_failure(503, format!("Snode not ready: {key}").as_bytes()),
            PathFailure::NodeNotReady([0xab; 32])
        );
        assert_eq!(onion::classify_path_failure(406, b"Timestamp error"), PathFailure::ClockOutOfSync);
        assert_eq!(onion::classify_path_failure(425, b""), PathFailure::ClockOutOfSync);
        assert_eq!(onion::classify_path_failure(421, b""), PathFailure::WrongSwarm);
        assert_eq!(onion::classify_path_failure(504, b"Request time out"), PathFailure::Timeout);
        assert_eq!(onion::classify_path_failure(413, b"Request body too large"), PathFailure::TooLarge);
        assert_eq!(onion::classify_path_failure(400, b"Invalid ciphertext"), PathFailure::Refused);
        assert_eq!(
            onion::classify_path_failure(400, b"Error parsing onion request: Unexpected payload size 3, expected >= 9"),
            PathFailure::Refused
        );
        assert_eq!(onion::classify_path_failure(500, b"Oxen Server error"), PathFailure::ServerError);
        assert_eq!(onion::classify_path_failure(502, b"Next node not found: zz"), PathFailure::Other);
        assert_eq!(onion::classify_path_failure(502, b"Couldn't connect to server"), PathFailure::Other);
        // The node's own error answers classify as what they are.
        let mut rng = ChaCha20Rng::seed_from_u64(20);
        let n = node(&mut rng, 1);
        let err = onion::peel(&n.secret, &n.keys.x25519, b"xy").unwrap_err();
        let (status, body) = err.response(&mut rng);
        assert_eq!(onion::classify_path_failure(status, &body), PathFailure::Refused);
    }

    #[test]
    fn node_reply_decoding_errors() {
        let mut rng = ChaCha20Rng::seed_from_u64(21);
        let key = LayerKey::from_bytes([5; 32], EncType::XChaCha20);
        let other = LayerKey::from_bytes([6; 32], EncType::XChaCha20);
        let reply = onion::seal_node_reply(&mut rng, &key, 200, "{}", false, true);
        assert_eq!(onion::unwrap_node_reply(&other, &reply), Err(onion::ReplyError::Decrypt));
        assert_eq!(onion::unwrap_node_reply(&key, b""), Err(onion::ReplyError::Decrypt));
        // base64 with a trailing newline, and raw bytes, both open.
        let mut with_newline = reply;
        with_newline.push(b'\n');
        assert_eq!(onion::unwrap_node_reply(&key, &with_newline).unwrap().status, 200);
        let raw = onion::seal_node_reply(&mut rng, &key, 404, "", false, false);
        assert_eq!(onion::unwrap_node_reply(&key, &raw).unwrap(), onion::NodeReply { status: 404, body: vec![] });
        // Old nodes wrote status_code.
        let old = onion::encrypt_reply(&mut rng, &key, br#"{"status_code":406,"body":"Timestamp error"}"#);
        assert_eq!(onion::unwrap_node_reply(&key, &old).unwrap().status, 406);
        for (plain, what) in [
            (&b"Hello world"[..], "the decrypted reply is not a JSON object"),
            (b"[200]", "the decrypted reply is not a JSON object"),
            (br#"{"body":"x"}"#, "the reply has no `status`"),
            (br#"{"status":"200"}"#, "the reply's `status` is not an HTTP status code"),
            (br#"{"status":70000}"#, "the reply's `status` is not an HTTP status code"),
        ] {
            let sealed = onion::encrypt_reply(&mut rng, &key, plain);
            assert_eq!(onion::unwrap_node_reply(&key, &sealed), Err(onion::ReplyError::Malformed(what)));
        }
        // A server reply that is not v4.
        let sealed = onion::encrypt_reply(&mut rng, &key, b"not bencode");
        assert!(matches!(onion::unwrap_server_reply(&key, &sealed), Err(onion::ReplyError::Malformed(_))));
        assert_eq!(onion::unwrap_server_reply(&other, &sealed), Err(onion::ReplyError::Decrypt));
    }

    /// Keys never show in Debug output.
    #[test]
    fn keys_are_redacted_in_debug() {
        let key = LayerKey::from_bytes([0xab; 32], EncType::AesGcm);
        let text = format!("{key:?}");
        assert!(!text.contains("171") && !text.to_lowercase().contains("ab, ab") && !text.contains("abab"), "{text}");
        let mut rng = ChaCha20Rng::seed_from_u64(22);
        let n = node(&mut rng, 1);
        let d = node(&mut rng, 2);
        let req = onion::build(&mut rng, &[n.keys], &Destination::Node(d.keys), b"{}", EncType::AesGcm).unwrap();
        assert!(format!("{req:?}").contains("LayerKey { enc: AesGcm, .. }"));
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

/// vectors-onion.md V11: the onion endpoints, and the default file server as an onion
/// destination (`http://filev2.getsession.org`, v4 target, its X25519 key).
mod vectors_onion_v11_constants {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(onion::ONION_ENDPOINT, "/onion_req/v2");
        assert_eq!(onion::V4_TARGET, "/oxen/v4/lsrpc");
        assert_eq!(onion::MAX_BODY_LEN, 10 * 1024 * 1024);
        assert_eq!(onion::MAX_HOPS, 15);
    }

    /// The last hop's instructions for the file server: host, v4 target, plain HTTP on port 80,
    /// and the server's own ephemeral key next to the blob it decrypts.
    #[test]
    fn file_server_destination() {
        let mut rng = ChaCha20Rng::seed_from_u64(30);
        let hops: Vec<(StaticSecret, NodeKeys)> = (1..=3u8)
            .map(|i| {
                let s = StaticSecret::random_from_rng(&mut rng);
                let x = PublicKey::from(&s).to_bytes();
                (s, NodeKeys { ed25519: [i; 32], x25519: x })
            })
            .collect();
        let server = ServerTarget {
            host: "filev2.getsession.org".into(),
            target: onion::V4_TARGET.into(),
            port: 80,
            protocol: Protocol::Http,
            x25519: h32("09324794aa9c11948189762d198c618148e9136ac9582068180661208927ef34"),
        };
        let path: Vec<NodeKeys> = hops.iter().map(|h| h.1).collect();
        let payload = v4::encode_request(r#"{"method":"GET","endpoint":"/file/1"}"#, None);
        let req = onion::build(&mut rng, &path, &Destination::Server(server), &payload, EncType::AesGcm).unwrap();
        let mut body = req.body;
        for (secret, keys) in &hops[..2] {
            let Peeled::Relay { body: next, .. } = onion::peel(secret, &keys.x25519, &body).unwrap() else { panic!() };
            body = next;
        }
        let Peeled::Proxy { host, target, port, protocol, body } =
            onion::peel(&hops[2].0, &hops[2].1.x25519, &body).unwrap()
        else {
            panic!("expected a proxy")
        };
        assert_eq!(
            (host.as_str(), target.as_str(), port, protocol),
            ("filev2.getsession.org", "/oxen/v4/lsrpc", 80, Protocol::Http)
        );
        let (blob, json) = onion::split_frame(&body).unwrap();
        assert_eq!(json["method"], "POST");
        assert_eq!(json["enc_type"], "aes-gcm");
        assert_eq!(json["ephemeral_key"].as_str().unwrap().len(), 64);
        assert_eq!(blob.len(), 12 + payload.len() + 16);
    }
}
