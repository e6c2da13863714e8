//! Attachments and the file server: `protocol/protocol-files.md` §6, vectors F1, F2, F3 and F5,
//! plus tamper tests of both schemes beside them.

use crypto_core::attachment::{
    self, AttachmentKey, Domain, MAX_DETERMINISTIC_BYTES, MAX_FILE_BYTES, OpenError, TooLarge, decrypt_deterministic,
    decrypt_legacy, deterministic_len, encrypt_deterministic, encrypt_legacy, encrypt_legacy_with, padded_len,
};
use crypto_core::onion::v4;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};

fn seed() -> [u8; 32] {
    hex::decode("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef").unwrap().try_into().unwrap()
}

/// upstream `make_data(N)`: byte `i` is `(7 i) mod 256`.
fn make_data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (7 * i % 256) as u8).collect()
}

/// F1: libsession-util `tests/test_attachment_encrypt.cpp` @`02663c06`, the encrypted sizes
/// (the last, 25,000,000, only through the size formula: upstream needs `allow_large` for it).
mod libsession_test_attachment_encrypt {
    use super::*;

    const SIZES: &[(usize, usize)] = &[
        (0, 4096),
        (1, 4096),
        (2, 4096),
        (10, 4096),
        (100, 4096),
        (1000, 4096),
        (2000, 4096),
        (4000, 4096),
        (4053, 4096),
        (4054, 8192),
        (8149, 8192),
        (8150, 12288),
        (33333, 36864),
        (261_982, 262_144),
        (261_983, 270_336),
        (523_990, 524_288),
        (523_991, 540_672),
        (6_543_210, 6_553_600),
        (10_218_286, 10_223_616),
        (60000, 61440),
        (10_000_000, 10_223_616),
        // The header comment's example.
        (1_000_000, 1_015_808),
    ];

    #[test]
    fn f1_deterministic_encrypted_sizes() {
        for &(n, size) in SIZES {
            assert_eq!(deterministic_len(n), size, "deterministic_len({n})");
        }
        assert_eq!(deterministic_len(25_000_000), 25_165_824);
        assert_eq!(MAX_DETERMINISTIC_BYTES, 10_218_286);
    }

    /// The sizes hold for real output, not only the formula (a few of them: each is a full
    /// encryption in a debug build).
    #[test]
    fn f1_sizes_of_real_output() {
        for &(n, size) in SIZES.iter().filter(|(n, _)| *n <= 523_991) {
            let out = encrypt_deterministic(&seed(), &make_data(n), Domain::Attachment).unwrap();
            assert_eq!(out.data.len(), size, "n = {n}");
        }
    }

    #[test]
    fn f1_limit() {
        let too_big = vec![0u8; MAX_DETERMINISTIC_BYTES + 1];
        assert_eq!(
            encrypt_deterministic(&seed(), &too_big, Domain::Attachment).unwrap_err(),
            TooLarge { len: MAX_DETERMINISTIC_BYTES + 1, max: MAX_DETERMINISTIC_BYTES }
        );
    }
}

/// F2: deterministic encryption bytes, [derived] in protocol-files §6 (decrypted there with
/// libsodium's own secretstream pull): seed `0123…ef`, data `make_data(N)`.
mod protocol_files_f2 {
    use super::*;

    fn check(n: usize, domain: Domain, key: &str, size: usize, sha256: &str, first: &str) {
        let data = make_data(n);
        let out = encrypt_deterministic(&seed(), &data, domain).unwrap();
        assert_eq!(hex::encode(out.key.as_bytes()), key, "key, N = {n}");
        assert_eq!(out.data.len(), size, "size, N = {n}");
        assert_eq!(hex::encode(Sha256::digest(&out.data)), sha256, "SHA-256, N = {n}");
        assert_eq!(hex::encode(&out.data[..25]), first, "first 25 bytes, N = {n}");
        assert_eq!(out.digest, None);
        // Deterministic: the same seed and data give the same bytes again.
        assert_eq!(encrypt_deterministic(&seed(), &data, domain).unwrap().data, out.data);
        // Decryption needs the key alone (a fresh copy, as it arrives in a pointer).
        let key = AttachmentKey::from_bytes(&hex::decode(key).unwrap()).unwrap();
        assert_eq!(*decrypt_deterministic(&out.data, &key).unwrap(), data);
        assert_eq!(*attachment::decrypt(&out.data, &key, None, Some(n as u64), true).unwrap(), data);
    }

    #[test]
    fn f2_deterministic_encryption_bytes_0() {
        check(
            0,
            Domain::Attachment,
            "c811e82fa9a353e0e9814faaa362e3563af2ba3300d31d6e7ea8319b4b17b8d5",
            4096,
            "28ca9a9e248a6bb759a44e4a9921d46313fa8a7ff4887120af8f15c1fcc803b9",
            "5357aaa43118daae1b068b7b2cfea7fbf2bc32ca4d99003ec0",
        );
    }

    #[test]
    fn f2_deterministic_encryption_bytes_1() {
        check(
            1,
            Domain::Attachment,
            "84c58d3911f1944d040597939b4bec9012285399781282c90e490c76246379ba",
            4096,
            "c51cf048ea036db5f0c005e038ace2ed3ace41b5197fe3b4731b76973cf38f4c",
            "537f0bc060e25f3af08264796714405064a810ba9c518d924c",
        );
    }

    #[test]
    fn f2_deterministic_encryption_bytes_100() {
        check(
            100,
            Domain::Attachment,
            "6bc2549f32011221c4c9f3efc94c296e03da1b3a2c765ee10ee2fbe8bee4922d",
            4096,
            "f70622a96fa99f0bcd9b9a1768f2f19d5a09ce89129432800edaccbf03e457dc",
            "53399eb75287599f19e44625aa7d62558d41b273acb4757ce8",
        );
    }

    #[test]
    fn f2_deterministic_encryption_bytes_4054() {
        check(
            4054,
            Domain::Attachment,
            "a7f34e51cd910e930e99b0b9b771b30de45d5843a801b3c95168b56635687fb2",
            8192,
            "ae4f15337d52cdbe18f4046082f70b4a484ebfe4ef197bfb89daa25abaabc14b",
            "5318d15305d113e2eed060aa94395c28946a40b0a4b990c401",
        );
    }

    #[test]
    fn f2_deterministic_encryption_bytes_33333() {
        check(
            33333,
            Domain::Attachment,
            "4ce68ba1f085312eae658f147058210a9c05771ece2c8ced686d54544be1e945",
            36864,
            "672f3bc44b2b1915b527d6429c86dd0b462a958aa1cad9afae0ad971e660002b",
            "53740be05f9db883402f152f8dca311c6797ac3a1fbd16e67b",
        );
    }

    #[test]
    fn f2_deterministic_encryption_bytes_70000() {
        check(
            70000,
            Domain::Attachment,
            "44e8f333e40d8678efdeb8ae919a9a489f67ed0618acff52ffa3cab3b342e699",
            73728,
            "4de07e0c846ed4aa15fcee467fcf2740e696741898c52dac5ec063a025f06f8b",
            "5353e825e28feffc8d305362357dc0ae65763141da938c9da6",
        );
    }

    #[test]
    fn f2_deterministic_encryption_bytes_100_profile_picture() {
        check(
            100,
            Domain::ProfilePicture,
            "09d26213504543523bcdf5c65d4071866e0ba9ee0f164808b271ce399a11171b",
            4096,
            "3bb2e0ae495c1ee06e9735bfd9d0cde05ee6fc7ffad9f428dfd4cccea0bb336b",
            "53fd37a3d9da8227941146968598611a1bc05ca260da9367b1",
        );
    }
}

/// F3: the legacy scheme, [derived] in protocol-files §6 (= V10c of vectors-onion.md): key
/// `000102…3f`, iv `a0a1…af`, plaintext `hello`.
mod protocol_files_f3 {
    use super::*;

    fn key() -> [u8; 64] {
        core::array::from_fn(|i| i as u8)
    }

    fn iv() -> [u8; 16] {
        core::array::from_fn(|i| 0xa0 + i as u8)
    }

    #[test]
    fn f3_legacy_attachment() {
        let out = encrypt_legacy_with(&key(), &iv(), b"hello").unwrap();
        assert_eq!(out.data.len(), 592);
        assert_eq!(&out.data[..16], &iv());
        assert_eq!(hex::encode(&out.data[16..48]), "0f746795d537cf1831b61fa683be38708386ad385fafcff76410abc447505585");
        assert_eq!(
            hex::encode(&out.data[out.data.len() - 32..]),
            "bc48592d62f43fb586fa287a07d284930fa944c8c557fd20c4120d15da38b5c4"
        );
        let digest = "ad5cefa747d7958b3543d8369d479a3da46a1efd6154255a65212ee28b1b35d9";
        assert_eq!(hex::encode(out.digest.unwrap()), digest);
        assert_eq!(hex::encode(Sha256::digest(&out.data)), digest);
        assert_eq!(out.key.as_bytes(), &key());

        let key = AttachmentKey::from_bytes(&key()).unwrap();
        let digest = hex::decode(digest).unwrap();
        assert_eq!(&**decrypt_legacy(&out.data, &key, Some(&digest), Some(5)).unwrap(), b"hello");
        // Without a size the zero padding stays: 541 bytes.
        let padded = decrypt_legacy(&out.data, &key, Some(&digest), None).unwrap();
        assert_eq!(padded.len(), 541);
        assert!(padded[5..].iter().all(|&b| b == 0));
        assert_eq!(&**attachment::decrypt(&out.data, &key, Some(&digest), Some(5), false).unwrap(), b"hello");
    }

    #[test]
    fn f3_padded_sizes() {
        for (n, p) in [
            (0, 541),
            (1, 541),
            (5, 541),
            (541, 541),
            (542, 568),
            (1000, 1020),
            (100_000, 100_155),
            (1_000_000, 1_041_743),
            (9_999_999, 10_000_000),
            (10_000_000, 10_000_000),
        ] {
            assert_eq!(padded_len(n), p, "P({n})");
        }
        // Never shorter than the data; beyond the client limit no longer capped.
        assert!(padded_len(10_000_001) > 10_000_001);
        assert!((0..100_000).step_by(7).all(|n| padded_len(n) >= n));
    }

    #[test]
    fn f3_limit() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let too_big = vec![0u8; MAX_FILE_BYTES + 1];
        assert_eq!(
            encrypt_legacy(&mut rng, &too_big).unwrap_err(),
            TooLarge { len: MAX_FILE_BYTES + 1, max: MAX_FILE_BYTES }
        );
    }
}

/// F5: v4 requests for the file server, [derived] in protocol-files §6 (framing per V3).
mod protocol_files_f5 {
    use super::*;

    #[test]
    fn f5_v4_requests_for_the_file_server() {
        let upload = r#"{"method":"POST","endpoint":"/file","headers":{"Content-Type":"application/octet-stream","X-FS-TTL":"1209600"}}"#;
        assert_eq!(
            v4::encode_request(upload, Some(b"hello")),
            br#"l111:{"method":"POST","endpoint":"/file","headers":{"Content-Type":"application/octet-stream","X-FS-TTL":"1209600"}}5:helloe"#
        );
        let download = r#"{"method":"GET","endpoint":"/file/aGVsbG8","headers":{}}"#;
        assert_eq!(
            v4::encode_request(download, None),
            br#"l56:{"method":"GET","endpoint":"/file/aGVsbG8","headers":{}}e"#
        );
        let request = v4::decode_request(&v4::encode_request(upload, Some(b"hello"))).unwrap();
        assert_eq!(request.body.as_deref(), Some(&b"hello"[..]));
        assert_eq!(request.metadata["endpoint"], "/file");
    }
}

/// Any change to an attachment makes it fail to open, always with the same opaque error.
mod tamper {
    use super::*;

    #[test]
    fn every_flipped_byte_of_a_legacy_attachment_fails_with_one_opaque_error() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let out = encrypt_legacy(&mut rng, b"tamper with me").unwrap();
        let digest = out.digest.unwrap();
        for i in 0..out.data.len() {
            let mut bad = out.data.clone();
            bad[i] ^= 0x01;
            // With the digest of the changed bytes, so that the MAC is what refuses them.
            let bad_digest: [u8; 32] = Sha256::digest(&bad).into();
            assert_eq!(decrypt_legacy(&bad, &out.key, Some(&bad_digest), Some(14)).unwrap_err(), OpenError, "{i}");
            assert_eq!(decrypt_legacy(&bad, &out.key, Some(&digest), Some(14)).unwrap_err(), OpenError, "{i}");
        }
        assert_eq!(&**decrypt_legacy(&out.data, &out.key, Some(&digest), Some(14)).unwrap(), b"tamper with me");
    }

    #[test]
    fn a_legacy_attachment_without_its_digest_fails() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let out = encrypt_legacy(&mut rng, b"x").unwrap();
        let mut wrong = out.digest.unwrap();
        wrong[31] ^= 1;
        assert_eq!(decrypt_legacy(&out.data, &out.key, None, None).unwrap_err(), OpenError);
        assert_eq!(decrypt_legacy(&out.data, &out.key, Some(&wrong), None).unwrap_err(), OpenError);
        assert_eq!(decrypt_legacy(&out.data, &out.key, Some(&wrong[..31]), None).unwrap_err(), OpenError);
        assert_eq!(decrypt_legacy(&out.data, &out.key, Some(&[]), None).unwrap_err(), OpenError);
        assert_eq!(attachment::decrypt(&out.data, &out.key, None, None, false).unwrap_err(), OpenError);
    }

    #[test]
    fn legacy_sizes_cut_and_refuse() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let out = encrypt_legacy(&mut rng, b"hello").unwrap();
        let digest = out.digest.as_ref().map(|d| &d[..]);
        assert_eq!(&**decrypt_legacy(&out.data, &out.key, digest, Some(3)).unwrap(), b"hel");
        assert_eq!(decrypt_legacy(&out.data, &out.key, digest, Some(541)).unwrap().len(), 541);
        assert_eq!(decrypt_legacy(&out.data, &out.key, digest, Some(542)).unwrap_err(), OpenError);
        assert_eq!(decrypt_legacy(&out.data, &out.key, digest, Some(u64::MAX)).unwrap_err(), OpenError);
    }

    #[test]
    fn legacy_truncations_and_short_inputs_fail() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let out = encrypt_legacy(&mut rng, b"").unwrap();
        for len in (0..out.data.len()).step_by(5).chain([48, 49, 64, 65]) {
            let cut = &out.data[..len];
            let digest: [u8; 32] = Sha256::digest(cut).into();
            assert_eq!(decrypt_legacy(cut, &out.key, Some(&digest), None).unwrap_err(), OpenError, "{len}");
        }
    }

    #[test]
    fn every_flipped_byte_of_a_deterministic_attachment_fails_with_one_opaque_error() {
        // Two chunks, so that the flips reach a chunk after the first.
        let data = make_data(40_000);
        let out = encrypt_deterministic(&seed(), &data, Domain::Attachment).unwrap();
        let len = out.data.len();
        let positions = (0..200).chain((32_700..33_000).step_by(3)).chain(len - 200..len);
        for i in positions {
            for bit in [0x01u8, 0x80] {
                let mut bad = out.data.clone();
                bad[i] ^= bit;
                assert_eq!(decrypt_deterministic(&bad, &out.key).unwrap_err(), OpenError, "byte {i} bit {bit:#x}");
            }
        }
        assert_eq!(*decrypt_deterministic(&out.data, &out.key).unwrap(), data);
    }

    #[test]
    fn deterministic_truncations_extensions_and_swaps_fail() {
        let data = make_data(70_000);
        let out = encrypt_deterministic(&seed(), &data, Domain::Attachment).unwrap();
        // Cut at every chunk boundary and around it: the FINAL tag is then missing.
        for len in [0, 1, 24, 25, 26, 41, 42, 32_810, 32_811, 65_595, 65_596, out.data.len() - 1] {
            assert_eq!(decrypt_deterministic(&out.data[..len], &out.key).unwrap_err(), OpenError, "length {len}");
        }
        let mut longer = out.data.clone();
        longer.extend_from_slice(&[0; 17]);
        assert_eq!(decrypt_deterministic(&longer, &out.key).unwrap_err(), OpenError);
        // Chunks swapped.
        let (head, chunks) = out.data.split_at(25);
        let mut swapped = head.to_vec();
        swapped.extend_from_slice(&chunks[32_785..65_570]);
        swapped.extend_from_slice(&chunks[..32_785]);
        swapped.extend_from_slice(&chunks[65_570..]);
        assert_eq!(decrypt_deterministic(&swapped, &out.key).unwrap_err(), OpenError);
        // Another key of the right length.
        let other = AttachmentKey::from_bytes(&[7; 32]).unwrap();
        assert_eq!(decrypt_deterministic(&out.data, &other).unwrap_err(), OpenError);
    }

    #[test]
    fn the_wrong_scheme_or_key_length_fails() {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let legacy = encrypt_legacy(&mut rng, b"legacy").unwrap();
        let deterministic = encrypt_deterministic(&seed(), b"deterministic", Domain::Attachment).unwrap();
        let digest = legacy.digest.as_ref().map(|d| &d[..]);
        assert_eq!(attachment::decrypt(&legacy.data, &legacy.key, digest, None, true).unwrap_err(), OpenError);
        assert_eq!(
            attachment::decrypt(&deterministic.data, &deterministic.key, None, None, false).unwrap_err(),
            OpenError
        );
        assert_eq!(decrypt_legacy(&legacy.data, &deterministic.key, digest, None).unwrap_err(), OpenError);
        assert_eq!(decrypt_deterministic(&deterministic.data, &legacy.key).unwrap_err(), OpenError);
        assert_eq!(AttachmentKey::from_bytes(&[1; 33]).unwrap_err().len, 33);
        assert!(AttachmentKey::from_bytes(&[]).is_err());
        // A deterministic plaintext held to the pointer's size.
        let key = &deterministic.key;
        assert_eq!(&**attachment::decrypt(&deterministic.data, key, None, Some(5), true).unwrap(), b"deter");
        assert_eq!(attachment::decrypt(&deterministic.data, key, None, Some(14), true).unwrap_err(), OpenError);
    }
}

/// Round trips of both schemes across chunk and padding boundaries.
mod round_trips {
    use super::*;

    #[test]
    fn both_schemes_round_trip() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        for n in [0, 1, 15, 16, 17, 32_767, 32_768, 32_769, 65_536, 1_000_000] {
            let data = make_data(n);
            let legacy = encrypt_legacy(&mut rng, &data).unwrap();
            assert_eq!(legacy.key.as_bytes().len(), 64);
            assert_eq!(legacy.data.len(), 16 + (padded_len(n) / 16 + 1) * 16 + 32, "legacy length, n = {n}");
            let digest = legacy.digest.as_ref().map(|d| &d[..]);
            assert_eq!(*decrypt_legacy(&legacy.data, &legacy.key, digest, Some(n as u64)).unwrap(), data, "n = {n}");

            let det = encrypt_deterministic(&seed(), &data, Domain::Attachment).unwrap();
            assert_eq!(det.key.as_bytes().len(), 32);
            assert_eq!(det.data.len(), deterministic_len(n), "deterministic length, n = {n}");
            assert_eq!(det.data[0], b'S');
            assert_eq!(*decrypt_deterministic(&det.data, &det.key).unwrap(), data, "n = {n}");
        }
    }

    #[test]
    fn keys_differ_by_data_seed_and_domain() {
        let a = encrypt_deterministic(&seed(), b"a", Domain::Attachment).unwrap();
        let b = encrypt_deterministic(&seed(), b"b", Domain::Attachment).unwrap();
        let c = encrypt_deterministic(&[9; 32], b"a", Domain::Attachment).unwrap();
        let d = encrypt_deterministic(&seed(), b"a", Domain::ProfilePicture).unwrap();
        let keys = [&a, &b, &c, &d].map(|e| e.key.as_bytes().to_vec());
        for i in 0..4 {
            for j in i + 1..4 {
                assert_ne!(keys[i], keys[j]);
            }
        }
    }

    #[test]
    fn legacy_keys_and_ivs_are_fresh() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let a = encrypt_legacy(&mut rng, b"same").unwrap();
        let b = encrypt_legacy(&mut rng, b"same").unwrap();
        assert_ne!(a.key.as_bytes(), b.key.as_bytes());
        assert_ne!(a.data[..16], b.data[..16]);
    }

    #[test]
    fn profile_pictures_round_trip_and_refuse_changes() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let key = [0x42u8; 32];
        let sealed = attachment::encrypt_profile_picture(&mut rng, &key, b"avatar");
        assert_eq!(sealed.len(), 12 + 6 + 16);
        assert_eq!(&**attachment::decrypt_profile_picture(&key, &sealed).unwrap(), b"avatar");
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x10;
            assert_eq!(attachment::decrypt_profile_picture(&key, &bad).unwrap_err(), OpenError, "{i}");
        }
        assert_eq!(attachment::decrypt_profile_picture(&key[..31], &sealed).unwrap_err(), OpenError);
        assert_eq!(attachment::decrypt_profile_picture(&key, &sealed[..27]).unwrap_err(), OpenError);
    }
}
