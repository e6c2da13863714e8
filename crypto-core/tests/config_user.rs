//! The typed user configs (`protocol/protocol-config-groups.md` §3.1–§3.4) and the whole-config
//! layer `UserConfig`: §6.2 C5 and C6 reproduced through typed edits, libsession's
//! `test_config_userprofile.cpp` name truncation and two-client conflict, the value rules of each
//! config, and keys Hush does not know kept byte for byte through its edits.

use std::collections::BTreeSet;

use crypto_core::bencode::{self, Value};
use crypto_core::config::data::encode_data;
use crypto_core::config::pipeline::{self, ConfigKey, Read};
use crypto_core::config::user::contacts::{Contact, Contacts};
use crypto_core::config::user::convo::{CommunityRoom, Conversation, PRUNE_HIGH_MS, PRUNE_LOW_MS, ReadState};
use crypto_core::config::user::groups::{Group, GroupAuthData, GroupCommon, Removed};
use crypto_core::config::user::profile::UserProfileMut;
use crypto_core::config::user::{EditError, Expiration, Notify, ProfilePic, SecretKey32};
use crypto_core::config::{
    ConfigKind, ConfigMessage, DataDict, DataValue, MutableConfigMessage, Push, Retrieved, Scalar, UserConfig, wrap,
};
use crypto_core::identity::{Identity, Seed, SessionId};
use sha2::{Digest, Sha256};

fn identity() -> Identity {
    let seed: [u8; 16] = hex::decode("0123456789abcdef0123456789abcdef").unwrap().try_into().unwrap();
    Identity::from_seed(&Seed::from_bytes(seed))
}

const HASH0: &str = "ea173b57beca8af18c3519a7bbf69c3e7a05d1c049fa9558341d8ebb48b0c965";

fn s(v: &str) -> DataValue {
    DataValue::bytes(v.as_bytes())
}

fn i(v: i64) -> DataValue {
    DataValue::int(v)
}

fn dict(items: &[(&[u8], DataValue)]) -> DataDict {
    items.iter().map(|(k, v)| (k.to_vec(), v.clone())).collect()
}

fn sub<'a>(d: &'a DataDict, key: &[u8]) -> &'a DataDict {
    match d.get(key) {
        Some(DataValue::Dict(d)) => d,
        other => panic!("{} is not a dict: {other:?}", key.escape_ascii()),
    }
}

fn sid(hex_id: &str) -> SessionId {
    hex_id.parse().unwrap()
}

/// The config message a push stores (its single blob unwrapped and decrypted).
fn pushed_message(identity: &Identity, kind: ConfigKind, push: &Push) -> Vec<u8> {
    assert_eq!(push.blobs.len(), 1);
    match pipeline::read_user_config(identity, kind, &push.blobs[0]).unwrap() {
        Read::Message(m) => m.as_bytes().to_vec(),
        Read::Part(_) => panic!("a part"),
    }
}

/// The raw (unwrapped) ciphertext of a push's single blob.
fn pushed_ciphertext(identity: &Identity, kind: ConfigKind, push: &Push) -> Vec<u8> {
    wrap::unwrap(identity, kind, &push.blobs[0]).unwrap()
}

/// The stored form of a message, as another client would push it (encrypted, wrapped).
fn stored(identity: &Identity, kind: ConfigKind, message: &[u8]) -> Vec<u8> {
    let seqno = ConfigMessage::parse(message, None).unwrap().seqno();
    let blobs = pipeline::push_user_config(identity, kind, seqno, message).unwrap();
    assert_eq!(blobs.len(), 1);
    blobs.into_iter().next().unwrap()
}

fn receive(config: &mut UserConfig, identity: &Identity, hash: &str, data: &[u8]) {
    let report = config.receive(identity, &[Retrieved { hash, data }], 0);
    assert!(report.unreadable.is_empty() && report.invalid.is_empty(), "{report:?}");
}

/// §6.2 C5 and libsession `tests/test_config_userprofile.cpp`.
mod userprofile {
    use super::*;

    const SEQNO1: &str = "9693a69686da3055f1ecdfb239c3bf8e746951a36d888c2fb7c02e856a5c2091b24e39a7e1af828f1fa09fe8bf7d274afde0a0847ba143c43ffb8722301b5ae32e2f078b9a5e19097403336e50b18c84aade446cd2823b011f97d6ad2116a53feb814efecc086bc172d31f4214b4d7c630b63bbe575b08682d146da44915063a07a78556ab5eff4f67f6aa26211e8d330b53d28567a931028c393709a325425de7486ccde24416a7fd4a8ba5fa73899c65f4276dfaddd5b2100adcf0f793104fb235b31ce32ec656056009a9ebf58d45d7d696b74e0c7ff0499c4d23204976f19561dc0dba6dc53a2497d28ce03498ea49bf122762d7bc1d6d9c02f6d54f8384";

    fn kallie_pic() -> ProfilePic {
        ProfilePic::new("http://example.org/omg-pic-123.bmp", *b"secret78901234567890123456789012")
    }

    /// C5: set_name, set_pic and set_nts_priority(9) on a new config push seqno 1, byte for byte
    /// the test's `exp_push1_decrypted` (the 8762e9d form, without `t`) and its 256-byte encrypted
    /// value.
    #[test]
    fn test_config_userprofile_c5_seqno_1_push_from_typed_edits() {
        let identity = identity();
        let mut conf = UserConfig::new(ConfigKind::UserProfile).unwrap();
        assert!(!conf.needs_push());
        assert_eq!(conf.profile().name(), None);
        assert_eq!(conf.profile().picture(), None);
        assert_eq!(conf.profile().nts_priority(), 0);
        assert_eq!(conf.profile().nts_expiry(), None);

        let mut profile = conf.profile_mut();
        profile.set_name("Kallie", None).unwrap();
        profile.set_picture(Some(&kallie_pic()), None);
        profile.set_nts_priority(9);
        assert_eq!(conf.profile().name().as_deref(), Some("Kallie"));
        assert_eq!(conf.profile().picture(), Some(kallie_pic()));
        assert_eq!(conf.profile().nts_priority(), 9);
        assert!(conf.needs_push());

        let push = conf.push(&identity, 0).unwrap().unwrap();
        assert_eq!(push.seqno, 1);
        assert!(push.obsolete.is_empty());
        let mut expected = b"d1:#i1e1:&d1:+i9e1:n6:Kallie1:p34:http://example.org/omg-pic-123.bmp1:q32:secret78901234567890123456789012e1:<lli0e32:".to_vec();
        expected.extend_from_slice(&hex::decode(HASH0).unwrap());
        expected.extend_from_slice(b"deee1:=d1:+0:1:n0:1:p0:1:q0:ee");
        assert_eq!(pushed_message(&identity, ConfigKind::UserProfile, &push), expected);
        let raw = pushed_ciphertext(&identity, ConfigKind::UserProfile, &push);
        assert_eq!(hex::encode(&raw), SEQNO1);
        assert_eq!(
            hex::encode(Sha256::digest(&raw)),
            "f7a63ba24abe0da28de397706d61b9528d5142352116094ec91ede0c5b18538e"
        );

        // Pushed, not yet confirmed: still to push. Confirmed: clean, with its hash active.
        assert!(conf.needs_push());
        conf.confirm_pushed(&push, &["fakehash1".to_owned()]);
        assert!(!conf.needs_push());
        assert_eq!(conf.active_hashes(), ["fakehash1"]);
        assert_eq!(conf.seqno(), 1);

        // A second client reads the C5 bytes as they are stored (raw) and needs no push.
        let mut conf2 = UserConfig::new(ConfigKind::UserProfile).unwrap();
        receive(&mut conf2, &identity, "fakehash1", &hex::decode(SEQNO1).unwrap());
        assert!(!conf2.needs_push());
        assert_eq!(conf2.profile().name().as_deref(), Some("Kallie"));
        assert_eq!(conf2.seqno(), 1);
        assert_eq!(conf2.active_hashes(), ["fakehash1"]);
    }

    /// "UserProfile": set_name refuses 101 bytes; set_name_truncated cuts at 100 bytes without
    /// splitting a character.
    #[test]
    fn test_config_userprofile_name_truncation() {
        let mut data = DataDict::new();
        let mut profile = UserProfileMut::new(&mut data);
        let digits = "1234567890".repeat(10);
        assert_eq!(profile.set_name(&format!("{digits}A"), None), Err(EditError::NameTooLong));
        profile.set_name_truncated(&format!("{digits}A"), None);
        assert_eq!(profile.view().name().unwrap(), digits);
        profile.set_name_truncated(&format!("{}🎂", &digits[..97]), None);
        assert_eq!(profile.view().name().unwrap(), &digits[..97]);
        profile.set_name_truncated(&format!("{}🎂🎂", &digits[..95]), None);
        assert_eq!(profile.view().name().unwrap(), format!("{}🎂", &digits[..95]));
        // An empty name removes `n`.
        profile.set_name("", None).unwrap();
        assert!(!data.contains_key(b"n".as_slice()));
    }

    /// "user profile C API": two clients change the profile concurrently at seqno 2; each merges
    /// the other's push into the same seqno-3 message. The name resolves to "Nibbler", as the
    /// test asserts (the higher message hash's diff is replayed last); the other fields, set on
    /// one side only, all survive.
    #[test]
    fn test_config_userprofile_conflict_resolves_as_libsession() {
        let identity = identity();
        let mut conf = UserConfig::new(ConfigKind::UserProfile).unwrap();
        let mut profile = conf.profile_mut();
        profile.set_name("Kallie", Some(1_700_000_000)).unwrap();
        profile.set_picture(Some(&kallie_pic()), Some(1_700_000_000));
        profile.set_nts_priority(9);
        conf.edit().insert(b"t".to_vec(), i(123));
        let push1 = conf.push(&identity, 0).unwrap().unwrap();
        conf.confirm_pushed(&push1, &["fakehash1".to_owned()]);

        let mut conf2 = UserConfig::new(ConfigKind::UserProfile).unwrap();
        receive(&mut conf2, &identity, "fakehash1", &hex::decode(SEQNO1).unwrap());
        assert!(!conf2.needs_push());

        conf.profile_mut().set_name("Nibbler", Some(1_700_000_100)).unwrap();
        conf.edit().insert(b"t".to_vec(), i(123));

        let mut p2 = conf2.profile_mut();
        p2.set_name("Raz", Some(1_700_000_100)).unwrap();
        let new_pic = ProfilePic::new("http://new.example.com/pic", *b"qwert\0yuio1234567890123456789012");
        p2.set_picture(Some(&new_pic), Some(1_700_000_100));
        p2.set_nts_expiry(Some(86400));
        assert_eq!(p2.view().blinded_msgreqs(), None);
        p2.set_blinded_msgreqs(Some(false), Some(1_700_000_100));
        assert_eq!(p2.view().blinded_msgreqs(), Some(false));
        p2.set_blinded_msgreqs(None, Some(1_700_000_100));
        assert_eq!(p2.view().blinded_msgreqs(), None);
        p2.set_blinded_msgreqs(Some(true), Some(1_700_000_100));
        conf2.edit().insert(b"t".to_vec(), i(124));

        let push_a = conf.push(&identity, 0).unwrap().unwrap();
        let push_b = conf2.push(&identity, 0).unwrap().unwrap();
        assert_eq!((push_a.seqno, push_b.seqno), (2, 2));
        assert_eq!(push_a.obsolete, ["fakehash1"]);
        assert_ne!(push_a.blobs, push_b.blobs);
        conf.confirm_pushed(&push_a, &["fakehash2".to_owned()]);
        conf2.confirm_pushed(&push_b, &["fakehash3".to_owned()]);

        receive(&mut conf2, &identity, "fakehash2", &push_a.blobs[0]);
        receive(&mut conf, &identity, "fakehash3", &push_b.blobs[0]);
        assert!(conf.needs_push() && conf2.needs_push());
        for c in [&conf, &conf2] {
            let view = c.profile();
            assert_eq!(view.name().as_deref(), Some("Nibbler"));
            let pic = view.picture().unwrap();
            assert_eq!(pic.url, "http://new.example.com/pic");
            assert_eq!(
                hex::encode(pic.key.as_bytes()),
                "7177657274007975696f31323334353637383930313233343536373839303132"
            );
            assert_eq!(view.nts_priority(), 9);
            assert_eq!(view.nts_expiry(), Some(86400));
            assert_eq!(view.blinded_msgreqs(), Some(true));
        }
        let merge_a = conf.push(&identity, 0).unwrap().unwrap();
        let merge_b = conf2.push(&identity, 0).unwrap().unwrap();
        assert_eq!((merge_a.seqno, merge_b.seqno), (3, 3));
        // The same bytes from both: the server stores them once.
        assert_eq!(merge_a.blobs, merge_b.blobs);
        assert_eq!(merge_a.obsolete, ["fakehash2", "fakehash3"]);
        assert_eq!(merge_b.obsolete, ["fakehash2", "fakehash3"]);
        conf.confirm_pushed(&merge_a, &["fakehash4".to_owned()]);
        conf2.confirm_pushed(&merge_b, &["fakehash4".to_owned()]);
        assert!(!conf.needs_push() && !conf2.needs_push());
        assert!(conf.obsolete_hashes().is_empty() && conf2.obsolete_hashes().is_empty());

        // Re-reading the versions already merged changes nothing.
        let report = conf.receive(
            &identity,
            &[
                Retrieved { hash: "fakehash2", data: &push_a.blobs[0] },
                Retrieved { hash: "fakehash3", data: &push_b.blobs[0] },
                Retrieved { hash: "fakehash4", data: &merge_a.blobs[0] },
            ],
            0,
        );
        assert!(!report.changed);
        assert!(!conf.needs_push());
    }

    /// The profile-change time as current libsession writes it: set with each change (to `T` when
    /// a re-upload is newer), not when nothing changed; a re-upload with a newer `T` is what is
    /// shown, until a new picture is set.
    #[test]
    fn test_config_userprofile_change_times_and_reupload() {
        let mut data = DataDict::new();
        let mut p = UserProfileMut::new(&mut data);
        let pic = ProfilePic::new("http://example.com/huge.bmp", *b"qwerty78901234567890123456789012");
        p.set_name("Nibbler", Some(100)).unwrap();
        p.set_blinded_msgreqs(Some(true), Some(100));
        p.set_picture(Some(&pic), Some(100));
        assert_eq!(p.view().profile_updated(), 100);
        p.set_name("Nibbler", Some(200)).unwrap();
        p.set_blinded_msgreqs(Some(true), Some(200));
        p.set_picture(Some(&pic), Some(200));
        assert_eq!(p.view().profile_updated(), 100);
        p.set_name("Nibbler1", Some(300)).unwrap();
        assert_eq!(p.view().profile_updated(), 300);

        let reupload = ProfilePic::new("testUrl", *b"secret78901234567890123456789000");
        p.set_reupload_picture(Some(&reupload), Some(400));
        assert_eq!(p.view().picture(), Some(reupload.clone()));
        // A name change now stamps `T`, the newer one.
        p.set_name("Nibbler2", Some(500)).unwrap();
        assert_eq!(data.get(b"T".as_slice()), Some(&i(500)));
        assert_eq!(data.get(b"t".as_slice()), Some(&i(300)));
        let mut p = UserProfileMut::new(&mut data);
        let newer = ProfilePic::new("testNewUrl", *b"secret78901234567890123456789111");
        p.set_picture(Some(&newer), Some(600));
        assert_eq!(p.view().picture(), Some(newer));
        // Clearing the picture clears the re-upload too.
        p.set_picture(None, Some(700));
        assert_eq!(p.view().picture(), None);
        for key in [b"p", b"q", b"P", b"Q"] {
            assert!(!data.contains_key(key.as_slice()));
        }
    }

    /// Defaults are removed rather than stored.
    #[test]
    fn test_config_userprofile_defaults_are_not_stored() {
        let mut data = DataDict::new();
        let mut p = UserProfileMut::new(&mut data);
        p.set_nts_priority(-1);
        p.set_nts_expiry(Some(3600));
        assert_eq!((p.view().nts_priority(), p.view().nts_expiry()), (-1, Some(3600)));
        p.set_nts_priority(0);
        p.set_nts_expiry(Some(0));
        p.set_blinded_msgreqs(Some(false), None);
        assert_eq!(data, dict(&[(b"M", i(0))]));
        UserProfileMut::new(&mut data).set_blinded_msgreqs(None, None);
        assert!(data.is_empty());
    }
}

/// §6.2 C6 and libsession `contacts.cpp`'s value rules.
mod contacts {
    use super::*;

    const C6: &str = "3405cf3fd062bcc920fbaac7bf15c7f5bd962870fe7872703301277865a8a443d00e80ca3b55546c1bb8f1972b9003dc25141d94d061cdd8c503dfd33367c60ea3eef598b9bd2d473e75c844a5d5ea024cd55c464b4dc7d50b118073db0ebe611c43539bdde93cb3794e56334d8386dba6a33cfb7c90367f3ce15e9855b7d29e9997a83eb51473a3726bbaa1f3397b93632d991eca0940ac9792c05375f85ea3c8ec0eaabb2d6dc09c2d6c304e8452a9473f60b32d736ff18824570cf4bde2a15ddde9d02bb47694edb62c08b71016695e998bd5a02ad8ea2fe348caeeb4d08ecec875dda3aee999ccbf91fca32f7c607f21472a75401bc014b8f5c3d096b601";

    fn alice() -> SessionId {
        // The contact of C6 (its ID is given abbreviated in the note): read from the vector.
        let identity = identity();
        let Read::Message(m) =
            pipeline::read_user_config(&identity, ConfigKind::Contacts, &hex::decode(C6).unwrap()).unwrap()
        else {
            panic!("a part")
        };
        let m = ConfigMessage::parse(m.as_bytes(), None).unwrap();
        let id = sub(m.data(), b"c").keys().next().unwrap().clone();
        SessionId::from_bytes(&id).unwrap()
    }

    /// C6: Alice, approved both ways, created 1700000000, written through the typed edits, pushes
    /// the vector's ciphertext.
    #[test]
    fn test_config_contacts_c6_from_typed_edits() {
        let identity = identity();
        let alice = alice();
        assert!(alice.to_string().starts_with("05aa654f"));
        let mut conf = UserConfig::new(ConfigKind::Contacts).unwrap();
        conf.contacts_mut()
            .update(&alice, |c| {
                c.name = "Alice".into();
                c.approved = true;
                c.approved_me = true;
                c.created = 1_700_000_000;
            })
            .unwrap();
        let push = conf.push(&identity, 0).unwrap().unwrap();
        assert_eq!(hex::encode(pushed_ciphertext(&identity, ConfigKind::Contacts, &push)), C6);

        // Read back by another client.
        let mut other = UserConfig::new(ConfigKind::Contacts).unwrap();
        receive(&mut other, &identity, "h1", &hex::decode(C6).unwrap());
        let contact = other.contacts().get(&alice).unwrap();
        assert_eq!(contact.name, "Alice");
        assert!(contact.approved && contact.approved_me && !contact.blocked && !contact.is_request());
        assert_eq!(contact.created, 1_700_000_000);
        assert_eq!(other.contacts().iter().collect::<Vec<_>>(), [contact]);
    }

    /// libsession's `set`: `n` always written (even empty), flags as 1 or absent, zero values
    /// absent, mentions-only written as all, the expiry pair written together.
    #[test]
    fn test_config_contacts_value_rules() {
        let bob = sid(&format!("05{}", "b0".repeat(32)));
        let mut data = DataDict::new();
        let mut contacts = crypto_core::config::user::contacts::ContactsMut::new(&mut data);
        contacts.set_approved(&bob, true).unwrap();
        let c = contacts.view().get(&bob).unwrap();
        assert_eq!(c, Contact { approved: true, ..Contact::new(bob) });
        let entry = |data: &DataDict| sub(sub(data, b"c"), &bob.to_bytes()).clone();
        assert_eq!(entry(&data), dict(&[(b"a", i(1)), (b"n", s(""))]));

        let mut contacts = crypto_core::config::user::contacts::ContactsMut::new(&mut data);
        contacts.set_nickname(&bob, "Bobby").unwrap();
        assert_eq!(contacts.set_nickname(&bob, &"x".repeat(101)), Err(EditError::NameTooLong));
        contacts.set_nickname_truncated(&bob, &format!("{}é", "x".repeat(99))).unwrap();
        assert_eq!(contacts.view().get(&bob).unwrap().nickname, "x".repeat(99));
        contacts.set_name(&bob, &"y".repeat(150)).unwrap();
        contacts.set_notify(&bob, Notify::MentionsOnly).unwrap();
        contacts.set_expiration(&bob, Expiration::AfterRead(300)).unwrap();
        contacts.set_priority(&bob, -1).unwrap();
        contacts.set_mute_until(&bob, 1_800_000_000).unwrap();
        let pic = ProfilePic::new("http://x/y", [7; 32]);
        contacts.set_picture(&bob, Some(pic.clone())).unwrap();
        let c = contacts.view().get(&bob).unwrap();
        assert_eq!(c.name, "y".repeat(100));
        assert_eq!(c.notify, Notify::All);
        assert_eq!(c.expiration, Expiration::AfterRead(300));
        assert!(c.is_hidden());
        assert_eq!(c.picture, Some(pic));
        assert_eq!(
            entry(&data),
            dict(&[
                (b"!", i(1_800_000_000)),
                (b"+", i(-1)),
                (b"@", i(1)),
                (b"E", i(300)),
                (b"N", s(&"x".repeat(99))),
                (b"a", i(1)),
                (b"e", i(2)),
                (b"n", s(&"y".repeat(100))),
                (b"p", s("http://x/y")),
                (b"q", DataValue::bytes([7; 32])),
            ])
        );

        // Back to the defaults: everything but `n` goes.
        let mut contacts = crypto_core::config::user::contacts::ContactsMut::new(&mut data);
        contacts
            .update(&bob, |c| {
                *c = Contact { name: c.name.clone(), ..Contact::new(bob) };
            })
            .unwrap();
        assert_eq!(entry(&data), dict(&[(b"n", s(&"y".repeat(100)))]));
        // A timer of 0 is off.
        let mut contacts = crypto_core::config::user::contacts::ContactsMut::new(&mut data);
        contacts.set_expiration(&bob, Expiration::AfterSend(0)).unwrap();
        assert_eq!(contacts.view().get(&bob).unwrap().expiration, Expiration::Off);
        // Only 05 IDs are contacts.
        let group = sid(&format!("03{}", "b0".repeat(32)));
        assert_eq!(contacts.set_approved(&group, true), Err(EditError::WrongIdPrefix));
        assert!(contacts.erase(&bob));
        assert!(!contacts.erase(&bob));
        assert!(Contacts::new(&data).is_empty());
    }

    /// What libsession normalises when it reads and rewrites a contact is normalised the same
    /// way: a picture URL without a 32-byte key is dropped, notify 3 becomes 1, a mode without a
    /// positive timer is dropped.
    #[test]
    fn test_config_contacts_normalised_as_libsession_on_rewrite() {
        let bob = sid(&format!("05{}", "b1".repeat(32)));
        let mut data = dict(&[(
            b"c",
            DataValue::Dict(dict(&[(
                &bob.to_bytes(),
                DataValue::Dict(dict(&[(b"@", i(3)), (b"e", i(1)), (b"n", s("Bob")), (b"p", s("http://u"))])),
            )])),
        )]);
        crypto_core::config::user::contacts::ContactsMut::new(&mut data).set_blocked(&bob, true).unwrap();
        assert_eq!(sub(sub(&data, b"c"), &bob.to_bytes()), &dict(&[(b"@", i(1)), (b"b", i(1)), (b"n", s("Bob"))]));
    }
}

/// Keys Hush does not know — at the top level of the message, of the data and inside a
/// contact — survive its edits byte for byte.
mod unknown_keys {
    use super::*;

    fn future_contacts(bob: &SessionId, carol: &SessionId) -> Vec<u8> {
        let future_value = DataValue::Dict(dict(&[
            (b"deep", DataValue::Set([Scalar::Int(-5), Scalar::Bytes(b"zz".to_vec())].into_iter().collect())),
            (b"k", i(42)),
        ]));
        let data = dict(&[
            (
                b"c",
                DataValue::Dict(dict(&[
                    (
                        &bob.to_bytes(),
                        DataValue::Dict(dict(&[
                            (b"n", s("Bob")),
                            (b"a", i(1)),
                            (b"x", s("a newer client's key")),
                            (b"~future", future_value.clone()),
                            (b"P", i(-7)),
                        ])),
                    ),
                    (&carol.to_bytes(), DataValue::Dict(dict(&[(b"n", s("Carol")), (b"zz", i(9))]))),
                    // An entry that is not a Session ID at all.
                    (b"not-an-id", DataValue::Dict(dict(&[(b"n", s("?"))]))),
                ])),
            ),
            (b"Z", future_value),
            (b"v", s("top-level data key")),
        ]);
        // A version 7 with an unknown outer key between `=` and `~`.
        let mut m = MutableConfigMessage::new(6).increment(None);
        *m.data_mut() = data;
        let bytes = m.serialize(None);
        let Value::Dict(mut outer) = bencode::decode(&bytes).unwrap() else { panic!() };
        outer.insert(b"?".to_vec(), Value::List(vec![Value::Int(1), Value::Bytes(b"outer".to_vec())]));
        Value::Dict(outer).encode()
    }

    /// Everything but the keys `keys` of `entry` in contact `id`.
    fn without(data: &DataDict, id: &SessionId, keys: &[&[u8]]) -> DataDict {
        let mut data = data.clone();
        if let Some(DataValue::Dict(c)) = data.get_mut(b"c".as_slice())
            && let Some(DataValue::Dict(entry)) = c.get_mut(id.to_bytes().as_slice())
        {
            for k in keys {
                entry.remove(*k);
            }
        }
        data
    }

    #[test]
    fn test_config_unknown_keys_survive_contact_edits() {
        let identity = identity();
        let bob = sid(&format!("05{}", "b0".repeat(32)));
        let carol = sid(&format!("05{}", "c0".repeat(32)));
        let message = future_contacts(&bob, &carol);
        let original = ConfigMessage::parse(&message, None).unwrap();
        assert_eq!(original.unknown().len(), 1);

        let mut conf = UserConfig::new(ConfigKind::Contacts).unwrap();
        receive(&mut conf, &identity, "h7", &stored(&identity, ConfigKind::Contacts, &message));
        assert_eq!(conf.seqno(), 7);
        assert_eq!(conf.contacts().len(), 2);
        let mut contacts = conf.contacts_mut();
        contacts.set_name(&bob, "Robert").unwrap();
        contacts.set_nickname(&bob, "Bobby").unwrap();
        contacts.set_blocked(&bob, true).unwrap();
        contacts.set_priority(&bob, 3).unwrap();
        contacts.set_expiration(&bob, Expiration::AfterSend(60)).unwrap();
        contacts.set_approved(&carol, true).unwrap();
        let push = conf.push(&identity, 0).unwrap().unwrap();
        assert_eq!(push.seqno, 8);
        assert_eq!(push.obsolete, ["h7"]);

        let pushed = pushed_message(&identity, ConfigKind::Contacts, &push);
        let m = ConfigMessage::parse(&pushed, None).unwrap();
        // The outer unknown key, in place, byte for byte.
        assert_eq!(m.unknown(), original.unknown());
        let outer: &[u8] = b"1:?li1e5:outere";
        assert!(pushed.windows(outer.len()).any(|w| w == outer));
        // Everything Hush did not edit is the same value, and encodes to the same bytes.
        let edited: &[&[u8]] = &[b"n", b"N", b"b", b"+", b"e", b"E"];
        assert_eq!(
            encode_data(&without(&without(m.data(), &bob, edited), &carol, &[b"a"])),
            encode_data(&without(&without(original.data(), &bob, edited), &carol, &[b"a"]))
        );
        let bob_entry = sub(sub(m.data(), b"c"), &bob.to_bytes());
        assert_eq!(bob_entry.get(b"x".as_slice()), Some(&s("a newer client's key")));
        assert_eq!(bob_entry.get(b"P".as_slice()), Some(&i(-7)));
        assert_eq!(bob_entry.get(b"n".as_slice()), Some(&s("Robert")));
        // The diff names only what changed.
        let diff_keys: BTreeSet<Vec<u8>> = match m.diff().get(b"c".as_slice()) {
            Some(crypto_core::config::DiffValue::Dict(c)) => c.keys().cloned().collect(),
            other => panic!("{other:?}"),
        };
        assert_eq!(diff_keys, [bob.to_bytes().to_vec(), carol.to_bytes().to_vec()].into_iter().collect());
        assert_eq!(m.diff().len(), 1);
    }

    /// A UserProfile with a newer client's keys (Pro dict, feature set, unknown scalars): a name
    /// change rewrites `n` only.
    #[test]
    fn test_config_unknown_keys_survive_profile_edits() {
        let mut data = dict(&[
            (b"E", i(1_900_000_000_000)),
            (b"f", DataValue::Set([Scalar::Int(1), Scalar::Int(4)].into_iter().collect())),
            (b"n", s("Old")),
            (
                b"s",
                DataValue::Dict(dict(&[
                    (b"p", DataValue::Dict(dict(&[(b"@", i(2)), (b"g", DataValue::bytes([1; 32]))]))),
                    (b"r", DataValue::bytes([2; 32])),
                ])),
            ),
            (b"w", s("unknown")),
        ]);
        let before = data.clone();
        let mut p = UserProfileMut::new(&mut data);
        p.set_name("New", None).unwrap();
        p.set_nts_priority(2);
        let mut expected = before;
        expected.insert(b"n".to_vec(), s("New"));
        expected.insert(b"+".to_vec(), i(2));
        assert_eq!(encode_data(&data), encode_data(&expected));
    }

    /// UserGroups, carried: a config full of entries Hush only reads goes through a merge and an
    /// unrelated edit unchanged.
    #[test]
    fn test_config_usergroups_round_trip_opaque() {
        let identity = identity();
        let group_id = sid(&format!("03{}", "9a".repeat(32)));
        let legacy = sid(&format!("05{}", "4c".repeat(32)));
        let member = sid(&format!("05{}", "11".repeat(32)));
        let data = dict(&[
            (
                b"C",
                DataValue::Dict(dict(&[(
                    &legacy.to_bytes(),
                    DataValue::Dict(dict(&[
                        (b"E", i(3600)),
                        (b"K", DataValue::bytes([5; 32])),
                        (b"k", DataValue::bytes([6; 32])),
                        (b"m", DataValue::Set([Scalar::Bytes(member.to_bytes().to_vec())].into_iter().collect())),
                        (b"n", s("Old group")),
                    ])),
                )])),
            ),
            (
                b"g",
                DataValue::Dict(dict(&[(
                    &group_id.to_bytes(),
                    DataValue::Dict(dict(&[
                        (b"K", s("")),
                        (b"j", i(1_700_000_000)),
                        (b"n", s("Invited")),
                        (b"s", DataValue::bytes([8; 100])),
                        (b"zz", s("newer")),
                    ])),
                )])),
            ),
            (
                b"o",
                DataValue::Dict(dict(&[(
                    b"https://open.getsession.org",
                    DataValue::Dict(dict(&[
                        (b"#", DataValue::bytes([9; 32])),
                        (
                            b"R",
                            DataValue::Dict(dict(&[(
                                b"session",
                                DataValue::Dict(dict(&[(b"+", i(1)), (b"n", s("Session"))])),
                            )])),
                        ),
                    ])),
                )])),
            ),
        ]);
        let mut m = MutableConfigMessage::new(2).increment(None);
        *m.data_mut() = data.clone();
        let message = m.serialize(None);
        let mut conf = UserConfig::new(ConfigKind::UserGroups).unwrap();
        receive(&mut conf, &identity, "g3", &stored(&identity, ConfigKind::UserGroups, &message));

        let groups = conf.groups().groups();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].name, "Invited");
        assert_eq!(groups[0].seed, None);
        assert_eq!(groups[0].auth_data, Some(GroupAuthData::from_bytes([8; 100])));
        assert_eq!(groups[0].common.joined_at, 1_700_000_000);
        let communities = conf.groups().communities();
        assert_eq!(communities[0].room.base_url(), "https://open.getsession.org");
        assert_eq!((communities[0].room.room(), communities[0].name.as_str()), ("session", "Session"));
        assert_eq!(communities[0].common.priority, 1);
        let legacy_groups = conf.groups().legacy_groups();
        assert_eq!(legacy_groups[0].members, [(member, false)]);
        assert_eq!(legacy_groups[0].disappearing_timer, 3600);

        // An edit of one entry leaves the rest as it was.
        let mut g = groups[0].clone();
        g.common.invited = true;
        conf.groups_mut().set_group(&g).unwrap();
        let push = conf.push(&identity, 0).unwrap().unwrap();
        let pushed = ConfigMessage::parse(&pushed_message(&identity, ConfigKind::UserGroups, &push), None).unwrap();
        let mut expected = data;
        if let Some(DataValue::Dict(gs)) = expected.get_mut(b"g".as_slice())
            && let Some(DataValue::Dict(entry)) = gs.get_mut(group_id.to_bytes().as_slice())
        {
            entry.insert(b"i".to_vec(), i(1));
        }
        assert_eq!(encode_data(pushed.data()), encode_data(&expected));
    }
}

/// ConvoInfoVolatile: last-read times, unread marks, and pruning as libsession does.
mod convo {
    use super::*;

    const NOW: i64 = 1_750_000_000_000;
    const DAY: i64 = 24 * 3600 * 1000;

    #[test]
    fn test_config_convo_info_volatile_last_read_rules() {
        let bob = sid(&format!("05{}", "b0".repeat(32)));
        let group = sid(&format!("03{}", "9a".repeat(32)));
        let mut data = DataDict::new();
        let mut c = crypto_core::config::user::convo::ConvoInfoVolatileMut::new(&mut data);
        c.set_one_to_one(&bob, ReadState { last_read_ms: NOW - DAY, unread: false }, NOW).unwrap();
        assert_eq!(c.view().one_to_one(&bob), Some(ReadState { last_read_ms: NOW - DAY, unread: false }));
        // Older than 30 days: not recorded, unless it moves an existing time back.
        c.set_one_to_one(&bob, ReadState { last_read_ms: NOW - PRUNE_LOW_MS - 1, unread: true }, NOW).unwrap();
        assert_eq!(c.view().one_to_one(&bob), Some(ReadState { last_read_ms: NOW - PRUNE_LOW_MS - 1, unread: true }));
        c.set_group(&group, ReadState { last_read_ms: NOW - PRUNE_LOW_MS - 1, unread: false }, NOW).unwrap();
        assert_eq!(c.view().group(&group), None);
        c.set_group(&group, ReadState { last_read_ms: NOW - PRUNE_LOW_MS - 1, unread: true }, NOW).unwrap();
        assert_eq!(c.view().group(&group), Some(ReadState { last_read_ms: 0, unread: true }));
        assert_eq!(c.set_group(&bob, ReadState::default(), NOW), Err(EditError::WrongIdPrefix));
        assert_eq!(c.set_one_to_one(&group, ReadState::default(), NOW), Err(EditError::WrongIdPrefix));
        // Exactly what libsession stores: `r` in ms, `u` only when set.
        assert_eq!(sub(sub(&data, b"1"), &bob.to_bytes()), &dict(&[(b"r", i(NOW - PRUNE_LOW_MS - 1)), (b"u", i(1))]));
        assert_eq!(sub(sub(&data, b"g"), &group.to_bytes()), &dict(&[(b"u", i(1))]));
    }

    #[test]
    fn test_config_convo_info_volatile_communities() {
        let mut data = DataDict::new();
        let mut c = crypto_core::config::user::convo::ConvoInfoVolatileMut::new(&mut data);
        let room = CommunityRoom::new("HTTPS://Open.GetSession.org:443", "Session-Updates").unwrap();
        c.set_community(&room, &[9; 32], ReadState { last_read_ms: NOW, unread: false }, NOW);
        let entries = c.view().iter();
        assert_eq!(
            entries,
            [(
                Conversation::Community { room: room.clone(), server_pubkey: Some([9; 32]) },
                ReadState { last_read_ms: NOW, unread: false }
            )]
        );
        assert_eq!(
            encode_data(&data),
            encode_data(&dict(&[(
                b"o",
                DataValue::Dict(dict(&[(
                    b"https://open.getsession.org",
                    DataValue::Dict(dict(&[
                        (b"#", DataValue::bytes([9; 32])),
                        (
                            b"R",
                            DataValue::Dict(dict(&[(b"session-updates", DataValue::Dict(dict(&[(b"r", i(NOW))])))]))
                        ),
                    ])),
                )])),
            )]))
        );
        let mut c = crypto_core::config::user::convo::ConvoInfoVolatileMut::new(&mut data);
        assert!(c.erase_community(&room));
        // The server goes with its last room.
        assert!(data.get(b"o".as_slice()).is_none_or(|o| *o == DataValue::Dict(DataDict::new())));
    }

    /// At push time entries read more than 45 days ago and not marked unread are removed (which
    /// is itself a change to push); unread ones stay.
    #[test]
    fn test_config_convo_info_volatile_prunes_at_push() {
        let identity = identity();
        let old = sid(&format!("05{}", "01".repeat(32)));
        let old_unread = sid(&format!("05{}", "02".repeat(32)));
        let recent = sid(&format!("05{}", "03".repeat(32)));
        let data = dict(&[(
            b"1",
            DataValue::Dict(dict(&[
                (&old.to_bytes(), DataValue::Dict(dict(&[(b"r", i(NOW - PRUNE_HIGH_MS - 1))]))),
                (&old_unread.to_bytes(), DataValue::Dict(dict(&[(b"r", i(NOW - 60 * DAY)), (b"u", i(1))]))),
                (&recent.to_bytes(), DataValue::Dict(dict(&[(b"r", i(NOW - 40 * DAY))]))),
            ])),
        )]);
        let mut m = MutableConfigMessage::new(0).increment(None);
        *m.data_mut() = data;
        let message = m.serialize(None);
        let mut conf = UserConfig::new(ConfigKind::ConvoInfoVolatile).unwrap();
        receive(&mut conf, &identity, "c1", &stored(&identity, ConfigKind::ConvoInfoVolatile, &message));
        assert!(!conf.needs_push());
        // Nothing is old enough yet 5 days earlier.
        assert!(conf.push(&identity, (NOW - 5 * DAY) as u64).unwrap().is_none());
        let push = conf.push(&identity, NOW as u64).unwrap().unwrap();
        assert_eq!(push.seqno, 2);
        assert_eq!(push.obsolete, ["c1"]);
        let ids: Vec<Conversation> = conf.convo().iter().into_iter().map(|(c, _)| c).collect();
        assert_eq!(ids, [Conversation::OneToOne(old_unread), Conversation::OneToOne(recent)]);
    }
}

/// UserGroups: a group's entry written as libsession writes it.
mod usergroups {
    use super::*;

    #[test]
    fn test_config_usergroups_group_entry_rules() {
        let seed = [0x42; 32];
        let pubkey = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key().to_bytes();
        let id = SessionId::new(crypto_core::identity::IdPrefix::Group, pubkey);
        let mut data = DataDict::new();
        let mut g = crypto_core::config::user::groups::UserGroupsMut::new(&mut data);

        // An invitee: `K` empty, `s` the auth data, `i` while pending.
        let mut group = Group::new(id);
        group.name = "Team".into();
        group.auth_data = Some(GroupAuthData::from_bytes([3; 100]));
        group.common = GroupCommon { invited: true, joined_at: 1_700_000_000, ..GroupCommon::default() };
        g.set_group(&group).unwrap();
        let entry = sub(sub(&data, b"g"), &id.to_bytes()).clone();
        assert_eq!(
            entry,
            dict(&[
                (b"K", s("")),
                (b"i", i(1)),
                (b"j", i(1_700_000_000)),
                (b"n", s("Team")),
                (b"s", DataValue::bytes([3; 100])),
            ])
        );

        // Promoted: the seed goes in `K` (the auth data stays, as libsession leaves it).
        let mut g = crypto_core::config::user::groups::UserGroupsMut::new(&mut data);
        group.seed = Some(SecretKey32::from_bytes(seed));
        group.common.invited = false;
        g.set_group(&group).unwrap();
        let read = g.view().group(&id).unwrap();
        assert_eq!(read.seed, Some(SecretKey32::from_bytes(seed)));
        assert_eq!(read.auth_data, Some(GroupAuthData::from_bytes([3; 100])));

        // A seed that is not this group's is not written, and not read.
        let mut g = crypto_core::config::user::groups::UserGroupsMut::new(&mut data);
        group.seed = Some(SecretKey32::from_bytes([0x43; 32]));
        group.auth_data = None;
        group.removed = Removed::Kicked;
        g.set_group(&group).unwrap();
        let entry = sub(sub(&data, b"g"), &id.to_bytes()).clone();
        assert_eq!(entry, dict(&[(b"K", s("")), (b"j", i(1_700_000_000)), (b"n", s("Team")), (b"r", i(1))]));
        let mut g = crypto_core::config::user::groups::UserGroupsMut::new(&mut data);
        assert_eq!(g.view().group(&id).unwrap().removed, Removed::Kicked);
        assert!(g.erase_group(&id));
        assert_eq!(g.set_group(&Group::new(sid(&format!("05{}", "00".repeat(32))))), Err(EditError::WrongIdPrefix));
    }
}

/// The whole-config layer: merges as libsession does, what becomes obsolete, save and restore.
mod user_config {
    use super::*;

    /// Several stored versions of one line (a device's history): the newest is adopted, the
    /// older ones become obsolete and are deleted with the next push; unreadable messages are
    /// reported and never deleted.
    #[test]
    fn test_user_config_adopts_newest_and_obsoletes_history() {
        let identity = identity();
        let mut device = UserConfig::new(ConfigKind::UserProfile).unwrap();
        let mut stored_versions = Vec::new();
        for (n, name) in ["A", "B", "C"].iter().enumerate() {
            device.profile_mut().set_name(name, None).unwrap();
            let push = device.push(&identity, 0).unwrap().unwrap();
            let hash = format!("v{}", n + 1);
            device.confirm_pushed(&push, std::slice::from_ref(&hash));
            stored_versions.push((hash, push.blobs[0].clone()));
        }
        let mut other = UserConfig::new(ConfigKind::UserProfile).unwrap();
        let mut retrieved: Vec<Retrieved> =
            stored_versions.iter().map(|(h, d)| Retrieved { hash: h, data: d }).collect();
        retrieved.push(Retrieved { hash: "garbage", data: b"not a config" });
        let report = other.receive(&identity, &retrieved, 0);
        assert!(report.changed);
        assert_eq!(report.unreadable.len(), 1);
        assert_eq!(report.unreadable[0].0, "garbage");
        assert_eq!(other.profile().name().as_deref(), Some("C"));
        assert!(!other.needs_push());
        assert_eq!(other.active_hashes(), ["v3"]);
        assert_eq!(other.obsolete_hashes(), ["v1", "v2"]);
        other.profile_mut().set_name("D", None).unwrap();
        let push = other.push(&identity, 0).unwrap().unwrap();
        assert_eq!(push.seqno, 4);
        assert_eq!(push.obsolete, ["v1", "v2", "v3"]);
        other.confirm_pushed(&push, &["v4".to_owned()]);
        assert!(other.obsolete_hashes().is_empty());
        assert_eq!(other.active_hashes(), ["v4"]);

        // The first device takes the new version as it is: no merge, nothing to push.
        receive(&mut device, &identity, "v4", &push.blobs[0]);
        assert_eq!(device.profile().name().as_deref(), Some("D"));
        assert!(!device.needs_push());
        assert_eq!(device.obsolete_hashes(), ["v3"]);
    }

    /// Edits made while a push is on its way go into the next push, on top of the pushed version.
    #[test]
    fn test_user_config_edits_during_a_push_follow_it() {
        let identity = identity();
        let mut conf = UserConfig::new(ConfigKind::UserProfile).unwrap();
        conf.profile_mut().set_name("First", None).unwrap();
        let push = conf.push(&identity, 0).unwrap().unwrap();
        conf.profile_mut().set_nts_priority(5);
        conf.confirm_pushed(&push, &["p1".to_owned()]);
        assert_eq!(conf.current().seqno(), 1);
        assert!(conf.needs_push());
        let next = conf.push(&identity, 0).unwrap().unwrap();
        assert_eq!(next.seqno, 2);
        assert_eq!(next.obsolete, ["p1"]);
        let m = ConfigMessage::parse(&pushed_message(&identity, ConfigKind::UserProfile, &next), None).unwrap();
        assert_eq!(m.lagged().map(|(s, _, _)| s).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(m.diff().keys().cloned().collect::<Vec<_>>(), [b"+".to_vec()]);
        // A stale confirmation (the first push again) is ignored.
        conf.confirm_pushed(&push, &["p1".to_owned()]);
        assert!(conf.needs_push());
    }

    /// An edit made before a concurrent version arrives is merged with it, not lost.
    #[test]
    fn test_user_config_local_edits_survive_a_merge() {
        let identity = identity();
        let bob = sid(&format!("05{}", "b0".repeat(32)));
        let carol = sid(&format!("05{}", "c0".repeat(32)));
        let mut a = UserConfig::new(ConfigKind::Contacts).unwrap();
        let mut b = UserConfig::new(ConfigKind::Contacts).unwrap();
        a.contacts_mut().set_name(&bob, "Bob").unwrap();
        let push_a = a.push(&identity, 0).unwrap().unwrap();
        a.confirm_pushed(&push_a, &["a1".to_owned()]);
        b.contacts_mut().set_name(&carol, "Carol").unwrap();
        receive(&mut b, &identity, "a1", &push_a.blobs[0]);
        assert_eq!(b.contacts().len(), 2);
        assert!(b.needs_push());
        let push_b = b.push(&identity, 0).unwrap().unwrap();
        assert_eq!(push_b.seqno, 2);
        assert_eq!(push_b.obsolete, ["a1"]);
        receive(&mut a, &identity, "b2", &push_b.blobs[0]);
        assert_eq!(a.contacts().len(), 2);
        assert!(!a.needs_push());
    }

    #[test]
    fn test_user_config_save_and_restore() {
        let identity = identity();
        let mut conf = UserConfig::new(ConfigKind::UserProfile).unwrap();
        conf.profile_mut().set_name("Saved", None).unwrap();
        let push = conf.push(&identity, 0).unwrap().unwrap();
        conf.confirm_pushed(&push, &["s1".to_owned()]);
        conf.profile_mut().set_nts_priority(4);
        let saved = conf.save();
        assert!(!format!("{saved:?}").contains("Saved\""));
        let mut restored = UserConfig::restore(ConfigKind::UserProfile, &saved).unwrap();
        assert_eq!(restored.profile().name().as_deref(), Some("Saved"));
        assert_eq!(restored.profile().nts_priority(), 4);
        assert_eq!(restored.active_hashes(), ["s1"]);
        let (p1, p2) = (conf.push(&identity, 0).unwrap().unwrap(), restored.push(&identity, 0).unwrap().unwrap());
        assert_eq!(p1.blobs, p2.blobs);
        assert!(UserConfig::new(ConfigKind::GroupInfo).is_err());
    }

    /// A multipart Contacts config (as a very large contact list is stored) is read, and all its
    /// parts' hashes are active, then obsolete once superseded.
    #[test]
    fn test_user_config_multipart() {
        let identity = identity();
        let mut big = MutableConfigMessage::new(0).increment(None);
        let mut contacts = crypto_core::config::user::contacts::ContactsMut::new(big.data_mut());
        for n in 0..1200u32 {
            let mut key = [0u8; 32];
            key[..4].copy_from_slice(&n.to_be_bytes());
            let id = SessionId::new(crypto_core::identity::IdPrefix::Standard, key);
            // Random-looking names so that the message is large.
            let name = hex::encode(Sha256::digest(n.to_be_bytes()));
            contacts.set_name(&id, &name).unwrap();
            contacts.set_nickname(&id, &name).unwrap();
        }
        let message = big.serialize(None);
        let blobs = pipeline::encrypt_for_push(&ConfigKey::for_account(&identity), b"Contacts", &message).unwrap();
        assert!(blobs.len() >= 2);
        let hashes: Vec<String> = (0..blobs.len()).map(|n| format!("part{n}")).collect();
        let mut conf = UserConfig::new(ConfigKind::Contacts).unwrap();
        let first = conf.receive(&identity, &[Retrieved { hash: &hashes[0], data: &blobs[0] }], 1000);
        assert!(!first.changed);
        assert_eq!(conf.active_hashes(), ["part0"]);
        let rest: Vec<Retrieved> =
            hashes.iter().zip(&blobs).skip(1).map(|(hash, data)| Retrieved { hash, data }).collect();
        assert!(conf.receive(&identity, &rest, 2000).changed);
        assert_eq!(conf.contacts().len(), 1200);
        assert_eq!(conf.active_hashes(), hashes);
        let first_id = conf.contacts().iter().next().unwrap().session_id;
        conf.contacts_mut().set_blocked(&first_id, true).unwrap();
        let push = conf.push(&identity, 3000).unwrap().unwrap();
        assert_eq!(push.obsolete, hashes);
    }
}

/// Arbitrary data (any key holding any type, as a buggy or newer client might write) never
/// panics the views or the edits, and an edit changes nothing outside the entry it writes.
mod arbitrary_data {
    use super::*;
    use crypto_core::config::user::contacts::ContactsMut;
    use crypto_core::config::user::convo::ConvoInfoVolatileMut;
    use crypto_core::config::user::groups::{UserGroups, UserGroupsMut};
    use crypto_core::config::user::profile::UserProfile;
    use rand_chacha::ChaCha20Rng;
    use rand_core::{RngCore, SeedableRng};

    const KEYS: &[&[u8]] = &[
        b"1", b"C", b"g", b"o", b"c", b"n", b"N", b"p", b"q", b"P", b"Q", b"t", b"T", b"+", b"e", b"E", b"M", b"a",
        b"A", b"b", b"@", b"!", b"j", b"r", b"u", b"#", b"R", b"K", b"s", b"i", b"k", b"m",
    ];

    fn key(rng: &mut ChaCha20Rng) -> Vec<u8> {
        match rng.next_u32() % 4 {
            0 => {
                let mut id = vec![[0x03, 0x05, 0x15, 0x00][rng.next_u32() as usize % 4]];
                id.extend((0..32).map(|_| (rng.next_u32() % 3) as u8));
                id
            }
            _ => KEYS[rng.next_u32() as usize % KEYS.len()].to_vec(),
        }
    }

    fn value(rng: &mut ChaCha20Rng, depth: u32) -> DataValue {
        match rng.next_u32() % if depth > 3 { 3 } else { 5 } {
            0 => DataValue::int(i64::from(rng.next_u32() % 5) - 2),
            1 => DataValue::bytes((0..rng.next_u32() % 40).map(|_| rng.next_u32() as u8).collect::<Vec<_>>()),
            2 => DataValue::bytes([rng.next_u32() as u8; 32]),
            3 => DataValue::Set((0..1 + rng.next_u32() % 3).map(|n| Scalar::Int(i64::from(n))).collect()),
            _ => DataValue::Dict(data(rng, depth + 1)),
        }
    }

    fn data(rng: &mut ChaCha20Rng, depth: u32) -> DataDict {
        (0..1 + rng.next_u32() % 6).map(|_| (key(rng), value(rng, depth))).collect()
    }

    #[test]
    fn test_config_user_views_and_edits_on_arbitrary_data() {
        let mut rng = ChaCha20Rng::seed_from_u64(14);
        let bob = sid(&format!("05{}", "b0".repeat(32)));
        let group = sid(&format!("03{}", "9a".repeat(32)));
        for _ in 0..3000 {
            let original = data(&mut rng, 0);
            let profile = UserProfile::new(&original);
            let _ = (profile.name(), profile.picture(), profile.nts_priority(), profile.nts_expiry());
            let _ = (profile.blinded_msgreqs(), profile.profile_updated());
            let _ = Contacts::new(&original).iter().count();
            let _ = crypto_core::config::user::convo::ConvoInfoVolatile::new(&original).iter();
            let groups = UserGroups::new(&original);
            let _ = (groups.groups(), groups.communities(), groups.legacy_groups());

            // A contact edit touches `c`/bob only.
            let mut edited = original.clone();
            ContactsMut::new(&mut edited).set_nickname(&bob, "Bobby").unwrap();
            let rest = |d: &DataDict| {
                let mut d = d.clone();
                if let Some(DataValue::Dict(c)) = d.get_mut(b"c".as_slice()) {
                    c.remove(bob.to_bytes().as_slice());
                    if c.is_empty() {
                        d.remove(b"c".as_slice());
                    }
                } else {
                    d.remove(b"c".as_slice());
                }
                d
            };
            assert_eq!(rest(&edited), rest(&original));
            assert_eq!(Contacts::new(&edited).get(&bob).unwrap().nickname, "Bobby");

            let mut edited = original.clone();
            UserProfileMut::new(&mut edited).set_name("Name", Some(5)).unwrap();
            let mut edited = original.clone();
            let mut convo = ConvoInfoVolatileMut::new(&mut edited);
            convo.set_group(&group, ReadState { last_read_ms: 10, unread: true }, 20).unwrap();
            convo.prune(1_000_000_000_000);
            let mut edited = original.clone();
            UserGroupsMut::new(&mut edited).set_group(&Group::new(group)).unwrap();
            assert_eq!(UserGroups::new(&edited).group(&group).unwrap().name, "");
        }
    }
}
