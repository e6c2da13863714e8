//! Known-answer tests for the storage RPC: `protocol/vectors-core.md` §4.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_core::identity::{Identity, SessionId};
use crypto_core::storage::to_sign::{self, ExpireMode};
use crypto_core::storage::{Namespace, NamespaceSelector, message_hash, sign_request, verify_request};
use crypto_core::swarm::{select_swarm, swarm_for_bytes, swarm_space, swarm_space_of_bytes};

fn id(hex_str: &str) -> SessionId {
    hex_str.parse().unwrap()
}

/// Storage server `unit_test/service_node.cpp` (vectors-core §4.1).
mod storage_server_unit_test_service_node {
    use super::*;

    const PUBKEY: &str = "05ffba630924aa1224bb930dde21c0d11bf004608f2812217f8ac812d6c7e3ad48";
    const DATA: &str = "CAES1gIKA1BVVBIPL2FwaS92MS9tZXNzYWdlGrsCCAYovfqZv4YvQq8CVwutUBbhRzZw80TvR6uTYMKg9DSagrtpeEpY31L7VxawfS8aSya0SiDa4J025SkjP13YX8g5pxgQ8Z6hgfNArMqr/tSijJ9miVKVDJ63YWE85O8kyWF8tdtZR5j0Vxb+JH5U8Rg1bp7ftKk3OSf7JJMcrUUrDnctQHe540zJ2OTDJ03DfubkX5NmKqEu5nhXGxeeDv3mTiL63fjtCvZYcikfjf6Nh1AX++HTgJ9SGoEIMastGUorFrmmXb2sbjHxNiJn0Radj/VzcA9VxYwBW5+AbGQ2d9+vvm7X+8vh+jIenJfjxf+8CWER+9adNfb4YUH07I+godNCV0O0J05gzqfKdT7J8MBZzFBtKrbk8oCagPpTsq/wZyYFKFKKD+q+zh704dYBILvs5yXUA96pIAA=";

    #[test]
    fn message_hash_namespace_0() {
        let data = STANDARD.decode(DATA).unwrap();
        let hash = message_hash(&id(PUBKEY).to_bytes(), Namespace::DEFAULT, &data);
        assert_eq!(hash, "4sMyAuaZlMwww3oFvfhazfw7ASx/7TDtO+TVc8aAjHs");
        assert_eq!(hash.len(), 43);
        assert!(crypto_core::storage::is_message_hash(&hash));
    }

    /// [derived] The same message in namespace −10.
    #[test]
    fn message_hash_namespace_minus_10() {
        let data = STANDARD.decode(DATA).unwrap();
        assert_eq!(
            message_hash(&id(PUBKEY).to_bytes(), Namespace(-10), &data),
            "RKfzPoxgrGv0+bnaytg85gAqKN+/g2sRHtNB1ZrkTkE"
        );
    }

    /// The old-style frame inside decodes to an envelope (verb PUT, path /api/v1/message).
    #[test]
    fn real_old_style_frame_decodes() {
        let envelope = crypto_core::message::decode_data(DATA).unwrap();
        assert_eq!(envelope.r#type, Some(6));
        assert!(envelope.content.is_some());
    }
}

/// Storage server `unit_test/swarm.cpp` "pubkey to swarm space" (vectors-core §4.2).
mod storage_server_unit_test_swarm_space {
    use super::*;

    /// Every row as written, the `ff`-prefixed one included (the storage server takes any network
    /// byte); the rows whose prefix a Session ID knows also through [`swarm_space`].
    #[test]
    fn every_row() {
        for (pubkey, space) in [
            ("053506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8", 17589930838143112648u64),
            ("05cf27da303a50ac8c4b2d43d27259505c9bcd73fc21cf2a57902c3d050730b604", 10370619079776428163),
            ("03d3511706b8b34f6e8411bf07bd22ba6b2435ca56846fbccf6eb1e166a6cd15cc", 2144983569669512198),
            ("ff0f06693428fca9102a451e3f28d9cc743d8ea60a89ab6aa69eb119470c11cbd3", 9690840703409570833),
            ("05ffba630924aa1224bb930dde21c0d11bf004608f2812217f8ac812d6c7e3ad48", 4532060000165252872),
            ("05eeeeeeeeeeeeeeee777777777777777711111111111111118888888888888888", 0),
            ("050123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0),
            ("05fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe", 1),
            ("05ffffffffffffffffffffffffffffffffffffffffffffffff7fffffffffffffff", 1 << 63),
            ("05000000000000000000000000000000000000000000000000ffffffffffffffff", u64::MAX),
            ("050000000000000000000000000000000000000000000000000123456789abcdef", 0x0123456789abcdef),
        ] {
            let mut bytes = [0u8; 33];
            hex::decode_to_slice(pubkey, &mut bytes).unwrap();
            assert_eq!(swarm_space_of_bytes(&bytes), space, "{pubkey}");
            if let Ok(session_id) = pubkey.parse::<SessionId>() {
                assert_eq!(swarm_space(&session_id), space, "{pubkey}");
            }
        }
    }

    /// The prefix byte does not count: the same 32 bytes under any network byte land in one place.
    #[test]
    fn the_network_byte_does_not_count() {
        let mut bytes = [0u8; 33];
        hex::decode_to_slice("ff0f06693428fca9102a451e3f28d9cc743d8ea60a89ab6aa69eb119470c11cbd3", &mut bytes).unwrap();
        for network in [0x00, 0x03, 0x05, 0x07, 0x15, 0x25, 0xff] {
            bytes[0] = network;
            assert_eq!(swarm_space_of_bytes(&bytes), 9690840703409570833, "{network:02x}");
            assert_eq!(swarm_for_bytes(&bytes, &[100, 9690840703409570833]), Some(9690840703409570833));
        }
        assert!("ff0f06693428fca9102a451e3f28d9cc743d8ea60a89ab6aa69eb119470c11cbd3".parse::<SessionId>().is_err());
    }
}

/// Storage server `unit_test/swarm.cpp` "pubkey to swarm id" (vectors-core §4.3).
mod storage_server_unit_test_swarm_id {
    use super::*;

    fn space(last: u64) -> u64 {
        swarm_space(&id(&format!("05{}{last:016x}", "0".repeat(48))))
    }

    #[test]
    fn every_row() {
        let mut ids = vec![100u64, 200, 300, 399, 498, 596, 694];
        let rows: &[(u64, u64)] = &[
            (0x64, 100),
            (0xc8, 200),
            (0x1f2, 498),
            (0, 100),
            (1, 100),
            (0x8000000000000000, 694),
            (0xa000000000000000, 100),
            (u64::MAX, 100),
            (u64::MAX - 1, 100),
            (0x95, 100),
            (0x96, 100),
            (0x97, 200),
            (0xf9, 200),
            (0xfa, 200),
            (0xfb, 300),
            (0x15d, 300),
            (0x15e, 399),
            (0x1c0, 399),
            (0x1c1, 498),
            (0x222, 498),
            (0x223, 498),
            (0x224, 596),
            (0x285, 596),
            (0x286, 694),
            (0x800000000000018c, 694),
            (0x800000000000018d, 694),
            (0x800000000000018e, 100),
        ];
        for &(last, swarm) in rows {
            assert_eq!(select_swarm(space(last), &ids), Some(swarm), "{last:#x}");
        }
        ids.push(u64::MAX - 19);
        for (last, swarm) in [(0x27, u64::MAX - 19), (0x28, u64::MAX - 19), (0x29, 100)] {
            assert_eq!(select_swarm(space(last), &ids), Some(swarm), "{last:#x}");
        }
        ids.push(0);
        for last in [u64::MAX, u64::MAX - 1] {
            assert_eq!(select_swarm(space(last), &ids), Some(0), "{last:#x}");
        }
    }

    #[test]
    fn edge_cases() {
        assert_eq!(select_swarm(5, &[]), None);
        assert_eq!(select_swarm(5, &[u64::MAX]), None);
        assert_eq!(select_swarm(5, &[42]), Some(42));
        assert_eq!(select_swarm(5, &[42, 42, u64::MAX]), Some(42));
        // Ties go to the swarm below, also across the wrap; order and duplicates do not matter.
        assert_eq!(select_swarm(150, &[200, 100, 100]), Some(100));
        assert_eq!(select_swarm(151, &[200, 100]), Some(200));
        // 2^64 − 100 and 100 are both 100 away from 0.
        assert_eq!(select_swarm(0, &[100, u64::MAX - 99]), Some(u64::MAX - 99));
        assert_eq!(select_swarm(1, &[100, u64::MAX - 99]), Some(100));
        assert_eq!(select_swarm(u64::MAX, &[100, u64::MAX - 99]), Some(u64::MAX - 99));
        assert_eq!(select_swarm(u64::MAX, &[0, u64::MAX]), Some(0));
    }
}

/// [derived] Request signatures (vectors-core §4.4); desktop `SnodeSignatures_test.ts` strings.
mod derived_request_signatures {
    use super::*;

    fn seed1() -> Identity {
        Identity::from_ed25519_seed(
            &hex::decode("0123456789abcdef0123456789abcdef00000000000000000000000000000000")
                .unwrap()
                .try_into()
                .unwrap(),
        )
    }

    fn desktop() -> Identity {
        let mut seed = [0u8; 32];
        seed[..16].copy_from_slice(&hex::decode("b0e12943e22e8f71774c2c4205fed598").unwrap());
        Identity::from_ed25519_seed(&seed)
    }

    fn check(identity: &Identity, to_sign: Vec<u8>, expected_string: &str, expected: &str) {
        assert_eq!(String::from_utf8(to_sign.clone()).unwrap(), expected_string);
        assert_eq!(sign_request(identity, &to_sign), expected);
        assert_eq!(verify_request(&identity.session_id(), Some(identity.ed25519_public()), &to_sign, expected), Ok(()));
    }

    #[test]
    fn seed1_signatures() {
        let s = seed1();
        let t = 1_700_000_000_000;
        check(
            &s,
            to_sign::retrieve(Namespace(0), t),
            "retrieve1700000000000",
            "WyOyu+IdImmQ8OV7AdFy6O5bTGN2pn7r6UQdyVYaZIkW25BqP1rzts9nJJOT85kCiurH2eozd2DV7Mhds7fGAg==",
        );
        check(
            &s,
            to_sign::retrieve(Namespace(2), t),
            "retrieve21700000000000",
            "S7ta+HqpLQgbDJD7ApyYSI/yIfQAf0Aa0y6eUkXIHoncSHSpWGo0tq6YmjsZWlj5pXqlTjzunQrBjPIcmDwUDw==",
        );
        check(
            &s,
            to_sign::store(Namespace(2), t),
            "store21700000000000",
            "KNaPUUhj78bGZlJG9+FEzvCg29VVlpZtpRR0RU5FP/BYxFZhKajtUp97U5Lsolfh7tAKXy38gBo4LcXKRdSSCg==",
        );
        check(
            &s,
            to_sign::delete_all(NamespaceSelector::All, t),
            "delete_allall1700000000000",
            "6yLmTE8A19eR6jg+Ued8wgxvrYxxYXbInwZ2mCF+ZA7GUd15mTCYxHMEODKQ1UCg9QArHU1NC7hPeojEMzy4AQ==",
        );
        check(
            &s,
            to_sign::delete(&["hash4321", "hash4221"]),
            "deletehash4321hash4221",
            "73LFAoitx6BRq239SzG8gMdHu47yQY4Ys4plA4grNrYK0I15JgPedV53VadxPKP82H+MnSxeXayTwJrfh5G4Cg==",
        );
        check(
            &s,
            to_sign::get_expiries(t, &["hash4321"]),
            "get_expiries1700000000000hash4321",
            "fGbAC7UWC+SnCLTIjqmhbnpIRPsnFQd3o/gGfgzZPF8vHe26X6+tCvVxzMXh5RFoXTqxYoWKXZOqjYE155qwBQ==",
        );
        check(
            &s,
            to_sign::expire(ExpireMode::Extend, &[t], &["hash4321"]),
            "expireextend1700000000000hash4321",
            "j9a7kSWDwSsOJYNaVKKY1YNCx6nV/WDNZGMkOR27AbqL7py08MFjTFpSx9FMnSru9wS8BFfrG4IzS/c50pgcBg==",
        );
    }

    #[test]
    fn desktop_key_signatures() {
        let d = desktop();
        assert_eq!(hex::encode(d.ed25519_public()), "bdd5eaf00eaf965ca63b7e8b119d8122d4647ffd5bb58daa1f78dfc54dd53989");
        check(
            &d,
            to_sign::retrieve(Namespace(0), 1234),
            "retrieve1234",
            "ci2Nh0HZBVWC8E/M/dA4XRdZxO2b6NP2v+ObwgSS0Md3w7LEuLzW3ooF5P4kStM4ZHYJ1h4qAFN+W7rayoG+Cg==",
        );
        check(
            &d,
            to_sign::expire(ExpireMode::Set, &[1234], &["hash4321", "hash4221"]),
            "expire1234hash4321hash4221",
            "8SyXGg9Aplb4ra+0Ipga+zA9mEZ2CxBRK8w4zAKrQ4PUXFkDuT4JrTIqYbqUFW/U/FeAahWjPxj6yl+vkF8uAA==",
        );
    }

    /// Desktop's strings for group namespaces: `retrieve${ns}${ts}`, `store${ns}${ts}`.
    #[test]
    fn desktop_group_namespace_strings() {
        for ns in [11i16, 12, 13] {
            assert_eq!(to_sign::retrieve(Namespace(ns), 1234), format!("retrieve{ns}1234").into_bytes());
            assert_eq!(to_sign::store(Namespace(ns), 1234), format!("store{ns}1234").into_bytes());
        }
        assert_eq!(to_sign::delete_all(NamespaceSelector::One(Namespace(0)), 5), b"delete_all5");
        assert_eq!(to_sign::delete_before(NamespaceSelector::One(Namespace(-10)), 5), b"delete_before-105");
        assert_eq!(to_sign::expire_all(NamespaceSelector::One(Namespace(3)), 5), b"expire_all35");
        assert_eq!(to_sign::expire(ExpireMode::Shorten, &[1, 2], &["a"]), b"expireshorten12a");
    }
}

/// Desktop `SnodeSignatures_test.ts` group key (vectors-core §1.4): a `03` ID is its own Ed25519
/// key, so a node checks the group's signature without `pubkey_ed25519`.
mod desktop_snode_signatures_test_group {
    use super::*;
    use crypto_core::identity::IdPrefix;
    use crypto_core::storage::SignatureError;

    const GROUP: &str = "030442ca9b758eefe0c42370696688b28f48f44bf44941fae4f3d5b41f6358c41d";
    const GROUP_SEED: &str = "4db38882cf0a0fffcbb971eb2b1420c92bc836c6946cd97bdc0c2787b806549d";

    #[test]
    fn group_key_signs_its_own_namespaces() {
        let group = Identity::from_ed25519_seed(&hex::decode(GROUP_SEED).unwrap().try_into().unwrap());
        let group_id = id(GROUP);
        assert_eq!(group_id.prefix(), IdPrefix::Group);
        assert_eq!(group.ed25519_public(), group_id.key());
        assert!(group.seed().is_none(), "a full 32-byte seed has no 13-word phrase");
        for ns in [11i16, 12, 13, 14] {
            let msg = to_sign::retrieve(Namespace(ns), 1234);
            let sig = sign_request(&group, &msg);
            assert_eq!(verify_request(&group_id, None, &msg, &sig), Ok(()));
            assert_eq!(
                verify_request(&group_id, None, &to_sign::store(Namespace(ns), 1234), &sig),
                Err(SignatureError::Invalid)
            );
        }
        // The group's signature does not pass for the member account's 05 ID.
        let msg = to_sign::retrieve(Namespace(11), 1234);
        let sig = sign_request(&group, &msg);
        assert_eq!(verify_request(&group.session_id(), None, &msg, &sig), Err(SignatureError::MissingEd25519Key));
        assert_eq!(verify_request(&group.session_id(), Some(group.ed25519_public()), &msg, &sig), Ok(()));
    }
}

/// What a node accepts as a request signature (protocol-core §4.4).
mod request_signature_checks {
    use super::*;
    use crypto_core::storage::SignatureError;

    fn seed1() -> Identity {
        Identity::from_ed25519_seed(
            &hex::decode("0123456789abcdef0123456789abcdef00000000000000000000000000000000")
                .unwrap()
                .try_into()
                .unwrap(),
        )
    }

    const SIG: &str = "WyOyu+IdImmQ8OV7AdFy6O5bTGN2pn7r6UQdyVYaZIkW25BqP1rzts9nJJOT85kCiurH2eozd2DV7Mhds7fGAg==";

    #[test]
    fn padded_and_unpadded_base64_both_verify() {
        let s = seed1();
        let msg = b"retrieve1700000000000";
        let unpadded = SIG.trim_end_matches('=');
        assert_eq!(unpadded.len(), 86);
        assert_eq!(verify_request(&s.session_id(), Some(s.ed25519_public()), msg, SIG), Ok(()));
        assert_eq!(verify_request(&s.session_id(), Some(s.ed25519_public()), msg, unpadded), Ok(()));
    }

    #[test]
    fn malformed_wrong_key_and_tampered_signatures_are_refused() {
        let s = seed1();
        let id = s.session_id();
        let ed = Some(s.ed25519_public());
        let msg = b"retrieve1700000000000";
        for bad in ["", "=", &SIG[..87], &format!("{SIG}A"), &SIG.replace('+', "-"), &format!("{}A", &SIG[..87])] {
            assert_eq!(verify_request(&id, ed, msg, bad), Err(SignatureError::Malformed), "{bad}");
        }
        let mut raw = STANDARD.decode(SIG).unwrap();
        raw[10] ^= 1;
        assert_eq!(verify_request(&id, ed, msg, &STANDARD.encode(&raw)), Err(SignatureError::Invalid));
        assert_eq!(verify_request(&id, ed, b"retrieve1700000000001", SIG), Err(SignatureError::Invalid));
        let other = Identity::from_ed25519_seed(&[9; 32]);
        assert_eq!(verify_request(&id, Some(other.ed25519_public()), msg, SIG), Err(SignatureError::KeyMismatch));
        // Bytes that are not a curve point cannot be anyone's pubkey_ed25519.
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        not_a_point[31] = 0x7f;
        assert_eq!(verify_request(&id, Some(&not_a_point), msg, SIG), Err(SignatureError::KeyMismatch));
    }
}

/// The signed strings of the methods not covered by a vector above (protocol-core §4.4).
mod signed_strings {
    use super::*;

    #[test]
    fn every_method() {
        let t = 1_700_000_000_000u64;
        let all = NamespaceSelector::All;
        let zero = NamespaceSelector::One(Namespace(0));
        let cases: Vec<(Vec<u8>, &[u8])> = vec![
            (to_sign::store(Namespace(0), t), b"store1700000000000"),
            (to_sign::store(Namespace(-11), t), b"store-111700000000000"),
            (to_sign::retrieve(Namespace(i16::MIN), 5), b"retrieve-327685"),
            (to_sign::delete::<&str>(&[]), b"delete"),
            (to_sign::delete_all(zero, t), b"delete_all1700000000000"),
            (to_sign::delete_all(NamespaceSelector::One(Namespace(5)), t), b"delete_all51700000000000"),
            (to_sign::delete_before(all, t), b"delete_beforeall1700000000000"),
            (to_sign::delete_before(zero, t), b"delete_before1700000000000"),
            (to_sign::expire(ExpireMode::Set, &[t], &["h1", "h2"]), b"expire1700000000000h1h2"),
            (to_sign::expire(ExpireMode::Shorten, &[t], &["h1"]), b"expireshorten1700000000000h1"),
            (to_sign::expire(ExpireMode::Extend, &[1, 22, 333], &["a", "b", "c"]), b"expireextend122333abc"),
            (to_sign::expire_all(all, t), b"expire_allall1700000000000"),
            (to_sign::expire_all(zero, t), b"expire_all1700000000000"),
            (to_sign::get_expiries(t, &["all"]), b"get_expiries1700000000000all"),
            (
                to_sign::revoke_subaccount(t, &[&[0x03, 0x01, 0, 0], &[0xff]]),
                b"revoke_subaccount1700000000000\x03\x01\x00\x00\xff",
            ),
            (to_sign::unrevoke_subaccount(t, &[&[0x03]]), b"unrevoke_subaccount1700000000000\x03"),
        ];
        for (got, want) in cases {
            assert_eq!(got, want, "{}", String::from_utf8_lossy(want));
        }
    }
}

/// Namespace rules from `oxenss/common/namespace.h` and the TTL limits (protocol-core §4.3, §4.5).
mod namespace_rules {
    use super::*;

    #[test]
    fn public_inboxes_outboxes_and_ttls() {
        const DAY: u64 = 24 * 60 * 60 * 1000;
        for n in [0i16, 10, -10, 20, -20, 30000, -32760] {
            let ns = Namespace(n);
            assert!(ns.is_public_inbox() && !ns.store_needs_signature(), "{n}");
            assert_eq!(ns.max_ttl_ms(), 14 * DAY, "{n}");
        }
        for n in [1i16, 2, 3, 4, 5, 11, 12, 13, 14, -1, -11, -3741, 9999, i16::MIN, i16::MAX] {
            let ns = Namespace(n);
            assert!(!ns.is_public_inbox() && ns.store_needs_signature(), "{n}");
            assert_eq!(ns.max_ttl_ms(), 30 * DAY, "{n}");
        }
        for n in [-1i16, -21, -41, -32761] {
            assert!(Namespace(n).is_public_outbox() && !Namespace(n).retrieve_needs_signature(), "{n}");
        }
        for n in [1i16, 21, -2, -20, -11, i16::MIN] {
            assert!(!Namespace(n).is_public_outbox(), "{n}");
        }
        for n in [-11i16, -111, -211, -32711] {
            assert!(Namespace(n).is_unrevocable(), "{n}");
        }
        for n in [11i16, -1, -12, -21, 0] {
            assert!(!Namespace(n).is_unrevocable(), "{n}");
        }
        assert!(!Namespace(-10).retrieve_needs_signature());
        for n in [0i16, 2, 11, -11, -20] {
            assert!(Namespace(n).retrieve_needs_signature(), "{n}");
        }
    }
}
