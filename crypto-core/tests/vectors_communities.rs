//! Communities: `protocol/protocol-communities.md` §11, vectors C1–C6 (C1 and C2 are the rows
//! of `vectors-onion.md` V4 and V5), each as a test named after it, plus round trips and
//! hostile inputs.

use crypto_core::community::auth::signed_message;
use crypto_core::community::{
    AuthError, AuthPolicy, Blind15Nonce, BlindedKeys, DmError, PostError, RequestAuth, RequestKey, blind15_factor,
    blind15_ids, blind25_id, blinded_id_matches, inbox_body, open_blinded_dm, open_post, seal_blinded_dm, sign_post,
    sign_request, unblind15, verify_request,
};
use crypto_core::identity::{IdPrefix, Identity, SessionId, verify_ed25519};
use crypto_core::message::text_message;
use crypto_core::padding;
use rand_core::{CryptoRng, RngCore};

fn h32(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}

fn h64(s: &str) -> [u8; 64] {
    hex::decode(s).unwrap().try_into().unwrap()
}

fn id(s: &str) -> SessionId {
    s.parse().unwrap()
}

/// An "RNG" that hands out given bytes in order (then zeros): a vector's nonce.
struct Replay(Vec<u8>);

impl RngCore for Replay {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for d in dest {
            *d = if self.0.is_empty() { 0 } else { self.0.remove(0) };
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for Replay {}

/// C1: libsession-util `tests/test_blinding.cpp` (vectors-onion V4).
mod c1 {
    use super::*;

    const SEED1: &str = "fecd9a6034bc9aba273925dee7062b123334587c3c6257341afae2d7fe85e122";
    const SEED2: &str = "8659efdcbe0949e0f81141e6d397e8be75f45d09262f209d5950e97989eb43c7";
    const SESSION1: &str = "05fe94b7ad4b7f1cc1bb92671f1f0d243f226e115b33770465e82b503fc3e96e1f";
    const SESSION2: &str = "0505c9a9bf178fa644d44bebf628716dc7f2df3d0842e97881962c723699152073";
    const SERVERS: [&str; 6] = [
        "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
        "00cdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
        "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
        "999def0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
        "888def0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
        "777def0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
    ];

    fn identity(seed: &str) -> Identity {
        Identity::from_ed25519_seed(&h32(seed))
    }

    #[test]
    fn c1_blinding_session_ids_of_the_seeds() {
        assert_eq!(identity(SEED1).session_id(), id(SESSION1));
        assert_eq!(identity(SEED2).session_id(), id(SESSION2));
        assert_eq!(identity(SEED2).ed25519_public()[31], 0x81, "seed2's key is negative");
    }

    #[test]
    fn c1_blinding_blind25_ids() {
        for (session, server, expected) in [
            (SESSION1, SERVERS[0], "253b991dcbba44cfdb45d5b38880d95cff723309e3ece6fd01415ad5fa1dccc7ac"),
            (SESSION1, SERVERS[1], "2598589c7885b56cbeae6ab7b4224f202815520a54995872cb1833b44db6401c8d"),
            (SESSION2, SERVERS[0], "25a69cc6884530bf8498d22892e563716c4742f2845a7eb608de2aecbe7b6b5996"),
        ] {
            assert_eq!(blind25_id(&id(session), &h32(server)).unwrap(), id(expected));
            assert!(blinded_id_matches(&id(expected), &id(session), &h32(server)));
        }
    }

    #[test]
    fn c1_blinding_blind15_ids_and_factor() {
        let server = h32(SERVERS[0]);
        assert_eq!(
            hex::encode(blind15_factor(&server)),
            "8004a3cd98cca3f808a3071eb1dd2ace1c5911b4b0f45c44305b0d4d52ffa207"
        );
        let ids1 = blind15_ids(&id(SESSION1), &server).unwrap();
        assert_eq!(ids1[0], id("15b74ed205f1f931e1bb1291183778a9456b835937d923b0f2e248aa3a44c07844"));
        assert_eq!(ids1[1], id("15b74ed205f1f931e1bb1291183778a9456b835937d923b0f2e248aa3a44c078c4"));
        let ids2 = blind15_ids(&id(SESSION2), &server).unwrap();
        assert_eq!(ids2[0], id("1561e070286ff7a71f167e92b18c709882b148d8238c8872caf414b301ba0564fd"));
        // seed2's Ed25519 key is negative, so its real 15 id is the negative form.
        assert_eq!(ids2[1], id("1561e070286ff7a71f167e92b18c709882b148d8238c8872caf414b301ba05647d"));
        assert_eq!(BlindedKeys::blind15(&identity(SEED1), &server).id(), ids1[0]);
        assert_eq!(BlindedKeys::blind15(&identity(SEED2), &server).id(), ids2[1]);
    }

    /// The six `blind25_sign` signatures, each verifying with plain Ed25519 against the 25 key.
    #[test]
    fn c1_blinding_blind25_signatures() {
        for (seed, server, msg, sig, key) in [
            (
                SEED1,
                0,
                "hello",
                "e6c57de4ac0cd278abbeef815bd88b163a037085deae789ecaaf4805884c4c3d3db25f3afa856241366cb341a3a4c9bbaa2cda81d028079c956fab16a7fe6206",
                "3b991dcbba44cfdb45d5b38880d95cff723309e3ece6fd01415ad5fa1dccc7ac",
            ),
            (
                SEED1,
                1,
                "world",
                "4460b606e9f55a7cba0bbe24207fe2859c3422783373788b6b070b2fa62ceba4f2a50749a6cee68e095747a369927f9f4afa86edaf055cad68110e35e8b06607",
                "98589c7885b56cbeae6ab7b4224f202815520a54995872cb1833b44db6401c8d",
            ),
            (
                SEED2,
                2,
                "this",
                "57bb2f80c88ce2f677902ee58e02cbd83e4e1ec9e06e1c72a34b4ab76d0f5219cfd141ac5ce7016c73c8382db99df9f317f2bc0af6ca68edac2a9a7670938902",
                "a69cc6884530bf8498d22892e563716c4742f2845a7eb608de2aecbe7b6b5996",
            ),
            (
                SEED2,
                3,
                "is",
                "ecce032b27b09d2d3d6df4ebab8cae86656c64fd1e3e70d6f020cd7e1a8058c57e3df7b6b01e90ccd592ac4a845dde7a2fdceb1a328a6690686851583133ea0c",
                "f9019b00d3f9dbc8798c4041f1cba51aca702b06ca89353816667f93e5c131f4",
            ),
            (
                SEED2,
                4,
                "",
                "bf2fb9a511adbf5827e2e3bcf09f0a1cff80f85556fb76d8001aa8483b5f22e14539b170eaa0dbfa1489d1b8618ce8b48d7512cb5602c7eb8a05ce330a68350b",
                "ed0dc76e2ed7771e44bdfdc1b79e3ffd73275f1584a75c1d7be7d23abc95b3d5",
            ),
            (
                SEED1,
                5,
                "omg!",
                "322e280fbc3547c6b6512dbea4d60563d32acaa2df10d665c40a336c99fc3b8e4b13a7109dfdeadab2ab58b2cb314eb0510b947f43e5dfb6e0ce5bf1499d240f",
                "cfc0c8837dadd28104c504574f488c6626774ad1f5097e094927bdb1acf1f109",
            ),
        ] {
            let keys = BlindedKeys::blind25(&identity(seed), &h32(SERVERS[server]));
            assert_eq!(keys.public(), &h32(key), "{msg}");
            assert_eq!(keys.id().prefix(), IdPrefix::Blinded);
            let signature = keys.sign(msg.as_bytes());
            assert_eq!(hex::encode(signature), sig, "{msg}");
            assert!(verify_ed25519(&h32(key), msg.as_bytes(), &h64(sig)));
        }
    }

    /// The six `blind15_sign` signatures (libsession's nonce rule), each verifying against the 15
    /// key (the negative form for seed2).
    #[test]
    fn c1_blinding_blind15_signatures() {
        for (seed, server, msg, sig, key) in [
            (
                SEED1,
                0,
                "hello",
                "1a5ade20b43af0e16b3e591d6f86303938d7557c0ac54469dd4f5aea759f82d22cafa42587251756e133acdddd8cbec2f707a9ce09a49f2193f46a91502c5006",
                "b74ed205f1f931e1bb1291183778a9456b835937d923b0f2e248aa3a44c07844",
            ),
            (
                SEED1,
                1,
                "world",
                "d357f74c5ec5536840aec575051f71fdb22d70f35ef31db1715f5f694842de3b39aa647c84aa8e28ec56eb762d237c9e030639c83f429826d419ac719cd4df03",
                "8de23f5a1e1f196e3dc59d04c60e108cbf82d3b75e10eff2a64ec697501f7ba1",
            ),
            (
                SEED2,
                2,
                "this",
                "dacf91dfb411e99cd8ef4cb07b195b49289cf1a724fef122c73462818560bc29832a98d870ec4feb79dedca5b59aba6a466d3ce8f3e35adf25a1813f6989fd0a",
                "61e070286ff7a71f167e92b18c709882b148d8238c8872caf414b301ba05647d",
            ),
            (
                SEED2,
                3,
                "is",
                "8339ea9887d3e44131e33403df160539cdc7a0a8107772172c311e95773660a0d39ed0a6c2b2c794dde1fdc640943e403497aa02c4d1a21a7d9030742beabb05",
                "b1723781f94d8b8f1f03482059c5226e64a7034ae06e846b0a95895326311026",
            ),
            (
                SEED2,
                4,
                "",
                "8b0d6447decff3a21ec1809141580139c4a51e24977b0605fe7984439993f5377ebc9681e4962593108d03cc8b6873c5c5ba8c30287188137d2dee9ab10afd0f",
                "f8a97f0b7294d41b5fc66115eb909e61b00e55d2b65c3d6fd902231545987e86",
            ),
            (
                SEED1,
                5,
                "omg!",
                "946725055399376ecebb605c79f845fbf689a47f98507c2a1f239516fd9c9104e19fe533631c27ba4e7444574f0e4f0f0d422b7256ed63681a3ab2fe7e040601",
                "57726d98106bb6fb1d3401886e0ed7c15d72c6f797a2114901cb1dfbb4adec42",
            ),
        ] {
            let server = h32(SERVERS[server]);
            let keys = BlindedKeys::blind15_with(&identity(seed), &server, Blind15Nonce::Libsession);
            assert_eq!(keys.public(), &h32(key), "{msg}");
            assert_eq!(hex::encode(keys.sign(msg.as_bytes())), sig, "{msg}");
            assert!(verify_ed25519(&h32(key), msg.as_bytes(), &h64(sig)));
            // The desktop rule gives other bytes that verify as well.
            let desktop = BlindedKeys::blind15(&identity(seed), &server).sign(msg.as_bytes());
            assert_ne!(hex::encode(desktop), sig);
            assert!(verify_ed25519(&h32(key), msg.as_bytes(), &desktop));
            // The account is recoverable from its 15 id and the server key.
            assert_eq!(unblind15(&keys.id(), &server).unwrap(), identity(seed).session_id());
        }
    }
}

/// C2: session-pysogs `tests/test_blinding.py` (vectors-onion V5): 20 seeds and their 15 ids,
/// from the private key and as one of the two forms from the Session ID.
#[test]
fn c2_pysogs_blinded_id_table() {
    let server = h32("6a32c7b491f4199dd1260a4cc60ae51c6bd71dad939cc521e738409f53f943be");
    assert_eq!(
        hex::encode(blind15_factor(&server)),
        "52f2b25544f805cfd7be34f3581be33d0f16e25048fe29f2abc14f4e8fe2000d"
    );
    let table = [
        (
            "880adf5164a79bce71f7387fbc2cb2693c0bf0ab4cb42bf1edafddade7527a66",
            "15cef185d46b60a548641bd8c5baa4b7cf90b7da8e883c0ac774c703d249086479",
        ),
        (
            "67416582e0700081604860d270bc986011fc5e62c53de908a9a5af2cb497c528",
            "15f8fbeb20cdde5e0cc0ec84e0b3705ca6090c7b23e8132589970473a5592ba388",
        ),
        (
            "a5ad71709cfa315d147921e377186270367fd06926f4dbfe33f519dec6b016f7",
            "15758e10dc51210d7a36ea6076e2aa84d9f87283bddb508364272dce0a7618f92a",
        ),
        (
            "c929a389a0dcf375ae8177891655b3835773e3a2d6d27490de8b8a160ca472f8",
            "1515ad8f8c5e56b31078a4a5ae73938bd523b1c86ea36033d564759e4495fbb64d",
        ),
        (
            "0576076b8a82aae0fa1d0f00e97b538b43205f63759a972f26b851a55b60b5d0",
            "15375a56d4cbf0538f4b326e54917fd1953e9e3dfe076eb8b35929a8d869a15c13",
        ),
        (
            "0a5db01db307ffd1bbe3cdd0d47c71e8837c60b38983d1df1b187301959095c9",
            "151a821dd107ac68845f82085efb1f88d046a084a63f7fc381ec07a367e6bc5aac",
        ),
        (
            "d9b4ff572d4ebbcf26b07329f9029462f0606087d64e8932e698aa0a98231ce3",
            "15a4acf4c814fd1bcf83ebbe42c276630a63e32365633cb57089544b3a60b5e4ac",
        ),
        (
            "dbcf64e7e6323ace8a75327119c13ef0b41e0efb94e594a6424ba41472987844",
            "1503e60a1fbde2a930e11db0898220ceb41e5ea9161f61ff1dc7d83be3e9b96993",
        ),
        (
            "2e90f20775370121a2db8413a68bb41c3618e63c744c865d8b03ca2cb9d52e9e",
            "150bfdf09d985453d70b07b779ac7de982c0b6190c19126df74e8ca3adbfb87fec",
        ),
        (
            "0b19b8b2f006f73810a86244697ac3feb3500af22f97434bf1e4bac575e95d2f",
            "15c430f8cf5e3ca4a3d0fa79d75fe60b3dc21212b4467ddd01fc1173c738161628",
        ),
        (
            "32c58327a3856acb77ca0e97993100b4a14475b2d5cd3804213ae2d6f2515709",
            "150fdb6a400ade0aa2d261999fc51aa0151201d30626b30ec94d3a06a927948523",
        ),
        (
            "f5c57e9949bbb87b3ae9fa374bc05b8e945c33141b7eb19c5125d17023120287",
            "15cdda69401f8ca32c4760b025b8315967ce9f5c53d4b75239b26d8ff9db5852f8",
        ),
        (
            "3aacbfb5059e1df00d11ff5742f8a5b91cdb9fe163f38906d7dfaae29ad30c0c",
            "152701bb6cf273f7c30a0b2bb3a4b027415aab3fdff5d44b7b50af269aaa46007d",
        ),
        (
            "cce2487f4f1a01a54811204e8c774e7380c080f5f40cda0ef395752ef96dd35c",
            "15c92aa80e809a84d97323f911355d5015e916f3d5bebc297a17b4c44bad487ad6",
        ),
        (
            "a414c2990f36a115308f74bbcb56c4238135c0578abf8de0505b08e9c7b69134",
            "150e51c490bc7c570310276b7fdaeb9e0e14ab4674ce8217df5418b621b52c5c31",
        ),
        (
            "cbf84283c5d4a906b81e7533005fdd832d9d3712e71d5ee8247e3d32c1e2e38c",
            "157b0487fa9bc7449a167d66b56eb3e3fc628101d84a08f3f510f46de90de2e3a4",
        ),
        (
            "e75399dac3b5b3675874ba1708d1effc6ab9bbd5b0fac4cf78a3c2b36af9cfc5",
            "15f277d3d6afbecc15c71d16c3f183e6dbb772b176f3c818265f4459aa649b9d80",
        ),
        (
            "6cef60808348898f17123eb4f47556f22ae0e7bd1988455da6d4b685ea0f93d0",
            "152d766ba9a19fd108e8f397b7fddaad2473cf13192858b8fd28f641e6c817c7c1",
        ),
        (
            "9396176367912b4bc9b2fca427bf7fea97293ee9db75e521e31e4618e2da061c",
            "15a2308a015da570bd749348991d4fee7b0ea5816f372a6c584581964680c9d46a",
        ),
        (
            "b9ac6f130f0ef218e1fbd9484b38ba3a0a8ec5657744732b0a4a9e7f6c80a62e",
            "1513533ac53ea094b0c0e907046ffc2ade32122da069df503583bf89d6af01e127",
        ),
    ];
    for (seed, expected) in table {
        let identity = Identity::from_ed25519_seed(&h32(seed));
        assert_eq!(BlindedKeys::blind15(&identity, &server).id(), id(expected), "{seed}");
        assert!(blind15_ids(&identity.session_id(), &server).unwrap().contains(&id(expected)), "{seed}");
        assert!(blinded_id_matches(&id(expected), &identity.session_id(), &server));
        assert_eq!(unblind15(&id(expected), &server).unwrap(), identity.session_id());
    }
}

/// C3: session-desktop `OpenGroupAuthentication_test.ts` (vectors-onion V6).
mod c3 {
    use super::*;

    pub(super) const SEED: &str = "c010d89eccbaf5d1c6d19df766c6eedf965d4a28a56f87c9fc819edb59896dd9";
    pub(super) const SERVER: &str = "c3b3c6f32f0ab5a57f853cc4f30f5da7fda5624b0c77b3fb0829de562ada081d";
    pub(super) const NONCE: &str = "09d0799f2295990182c3ab3406fbfc5b";
    pub(super) const TS: u64 = 1_642_472_103;
    const PATH: &str = "/room/the-best-room/messages/recent?limit=25";
    const BODY: &str = "hello 🎂";

    fn sign(key: RequestKey<'_>, body: &[u8]) -> crypto_core::community::SignedHeaders {
        let mut rng = Replay(hex::decode(NONCE).unwrap());
        sign_request(&mut rng, key, &h32(SERVER), TS, "GET", PATH, body)
    }

    #[test]
    fn c3_request_signing_signed_bytes() {
        let nonce: [u8; 16] = hex::decode(NONCE).unwrap().try_into().unwrap();
        let msg = signed_message(&h32(SERVER), &nonce, "1642472103", "GET", PATH, b"");
        assert_eq!(
            hex::encode(&msg),
            "c3b3c6f32f0ab5a57f853cc4f30f5da7fda5624b0c77b3fb0829de562ada081d09d0799f2295990182c3ab3406fbfc5b313634323437323130334745542f726f6f6d2f7468652d626573742d726f6f6d2f6d657373616765732f726563656e743f6c696d69743d3235"
        );
        let with_body = signed_message(&h32(SERVER), &nonce, "1642472103", "GET", PATH, BODY.as_bytes());
        assert_eq!(
            hex::encode(&with_body[msg.len()..]),
            "ebd4b1e09185d583c287c21772fd08dc7eff2b66789851b3d39c1794ab796c1d57e17d56394c173f76ac988e0bdb5db06a219b0255d67bd30fa7bb0efca2186b"
        );
    }

    #[test]
    fn c3_request_signing_headers() {
        let identity = Identity::from_ed25519_seed(&h32(SEED));
        assert_eq!(
            hex::encode(identity.ed25519_public()),
            "bac6e71efd7dfa4a83c98ed24f254ab2c267f9ccdb172a5280a0444ad24e89cc"
        );
        let keys = BlindedKeys::blind15(&identity, &h32(SERVER));
        for (key, body, pubkey, signature) in [
            (
                RequestKey::Blinded(&keys),
                "",
                "1598932d4bccbe595a8789d7eb1629cefc483a0eaddc7e20e8fe5c771efafd9af5",
                "gYqpWZX6fnF4Gb2xQM3xaXs0WIYEI49+B8q4mUUEg8Rw0ObaHUWfoWjMHMArAtP9QlORfiydsKWz1o6zdPVeCQ==",
            ),
            (
                RequestKey::Blinded(&keys),
                BODY,
                "1598932d4bccbe595a8789d7eb1629cefc483a0eaddc7e20e8fe5c771efafd9af5",
                "hZCg5pEoy9t98umaY6fNarzcLP5UKUF8chz5mIjwwrRIQLy1kinRoYcNPdFOpJu8heA0val4viymXRTp1DGeBg==",
            ),
            (
                RequestKey::Unblinded(&identity),
                "",
                "00bac6e71efd7dfa4a83c98ed24f254ab2c267f9ccdb172a5280a0444ad24e89cc",
                "xxLpXHbomAJMB9AtGMyqvBsXrdd2040y+Ol/IKzElWfKJa3EYZRv1GLO6CTLhrDFUwVQe8PPltyGs54Kd7O5Cg==",
            ),
            (
                RequestKey::Unblinded(&identity),
                BODY,
                "00bac6e71efd7dfa4a83c98ed24f254ab2c267f9ccdb172a5280a0444ad24e89cc",
                "uumZNee7NUb0lVufegjzgjjnj4pe3kAe6OYw7iVTJrcxxxdIxUCgt5/xliBWqPlgY6ReUZRAuptNa4nprv7nCA==",
            ),
        ] {
            let headers = sign(key, body.as_bytes());
            assert_eq!(headers.pubkey, pubkey);
            assert_eq!(headers.nonce, "CdB5nyKVmQGCw6s0Bvv8Ww==");
            assert_eq!(headers.timestamp, "1642472103");
            assert_eq!(headers.signature, signature, "{pubkey} {body:?}");

            // The server's side accepts it, at the signing time and within 24 h of it.
            let lax = AuthPolicy { require_blinded: false, accept_blind25: false };
            for now in [TS, TS + 86_400, TS - 86_400] {
                let now = i64::try_from(now).unwrap();
                let verified =
                    verify_request(headers.pairs(), &h32(SERVER), "GET", PATH, body.as_bytes(), now, lax).unwrap();
                let expected = if pubkey.starts_with("15") { keys.id() } else { identity.session_id() };
                assert_eq!(verified, Some(expected));
            }
            let late = i64::try_from(TS + 86_401).unwrap();
            let error = verify_request(headers.pairs(), &h32(SERVER), "GET", PATH, body.as_bytes(), late, lax);
            assert_eq!(error.map_err(|e| e.status()), Err(425));
        }
    }

    #[test]
    fn c3_request_signing_server_refusals() {
        let identity = Identity::from_ed25519_seed(&h32(SEED));
        let keys = BlindedKeys::blind15(&identity, &h32(SERVER));
        let headers = sign(RequestKey::Blinded(&keys), BODY.as_bytes());
        let now = i64::try_from(TS).unwrap();
        let auth = RequestAuth::parse(headers.pairs(), now, AuthPolicy::default()).unwrap().unwrap();
        assert_eq!(hex::encode(auth.nonce()), NONCE);
        assert_eq!(auth.verify(&h32(SERVER), "GET", PATH, BODY.as_bytes()), Ok(keys.id()));
        for (method, path, body) in
            [("POST", PATH, BODY), ("GET", "/room/the-best-room/messages/recent?limit=26", BODY), ("GET", PATH, "")]
        {
            let error = auth.verify(&h32(SERVER), method, path, body.as_bytes()).unwrap_err();
            assert_eq!(error, AuthError::SignatureFailed);
            assert_eq!(
                (error.status(), error.to_string().as_str()),
                (401, "Invalid authentication: X-SOGS-Signature verification failed")
            );
        }
        assert_eq!(auth.verify(&[0; 32], "GET", PATH, BODY.as_bytes()), Err(AuthError::SignatureFailed));
        // An unblinded key on a server that requires blinding: 400 with pysogs' text.
        let unblinded = sign(RequestKey::Unblinded(&identity), b"");
        let error = RequestAuth::parse(unblinded.pairs(), now, AuthPolicy::default()).unwrap_err();
        assert_eq!(
            (error.status(), error.to_string().as_str()),
            (400, "Invalid authentication: this server requires the use of blinded ids")
        );
        // Headers in hex are accepted too.
        let nonce_hex = NONCE.to_string();
        let sig_hex = hex::encode(base64_decode(&headers.signature));
        let pairs = [
            ("x-sogs-pubkey", headers.pubkey.as_str()),
            ("x-sogs-nonce", nonce_hex.as_str()),
            ("x-sogs-timestamp", headers.timestamp.as_str()),
            ("x-sogs-signature", sig_hex.as_str()),
        ];
        let verified = verify_request(pairs, &h32(SERVER), "GET", PATH, BODY.as_bytes(), now, AuthPolicy::default());
        assert_eq!(verified, Ok(Some(keys.id())));
    }

    fn base64_decode(text: &str) -> Vec<u8> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.decode(text).unwrap()
    }
}

/// C4: session-desktop `knownBlindedKeys_test.ts`: a 15 id and the Session ID behind it, both ways.
#[test]
fn c4_blinded_id_to_session_id() {
    let session = id("055bcd2bb6e600c43741173e489d925a505a11ab2b971afde56e50272e430f8b37");
    let server = h32("1615317ca1d8ecdf12dad1bbf1d28d3a90c94fc0010043a7fdc1609ad1c5d111");
    let ids = blind15_ids(&session, &server).unwrap();
    assert_eq!(ids[0], id("1562b2368a1d5452cc25c713b9add4f29405e5e58f6c4aa83fde602a7308bae794"));
    assert_eq!(ids[1], id("1562b2368a1d5452cc25c713b9add4f29405e5e58f6c4aa83fde602a7308bae714"));
    // The test's expected id is [1]: matching tries both forms.
    assert!(blinded_id_matches(&ids[1], &session, &server));
    assert!(blinded_id_matches(&ids[0], &session, &server));
    // And back: either form gives the Session ID.
    assert_eq!(unblind15(&ids[1], &server).unwrap(), session);
    assert_eq!(unblind15(&ids[0], &server).unwrap(), session);
    // Another server, or another account, does not match.
    assert!(!blinded_id_matches(&ids[1], &session, &[0x11; 32]));
    let other = Identity::from_ed25519_seed(&[3; 32]).session_id();
    assert!(!blinded_id_matches(&ids[1], &other, &server));
    assert_ne!(unblind15(&ids[1], &[0x11; 32]).unwrap(), session);
}

/// C5 [derived]: a community post — padding, the blinded signature over the padded bytes, the
/// request body and its signed headers.
mod c5 {
    use super::c3::{NONCE, SEED, SERVER, TS};
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use prost::Message;

    const SIGNATURE: &str = "F//3EjsQ6+iJTghP8kjQB9mH4X8vxVq/L56lPR+5SNZ7BeHNo1XTADvpwbdfRnBkCk7+ltnJgvHhjygor3QhDw==";

    #[test]
    fn c5_community_post_padding_lengths() {
        for (len, padded) in [(0, 160), (158, 160), (159, 320), (160, 320), (318, 320), (319, 480)] {
            assert_eq!(padding::pad(&vec![1u8; len]).len(), padded, "{len}");
        }
    }

    #[test]
    fn c5_community_post_signature_and_body() {
        let identity = Identity::from_ed25519_seed(&h32(SEED));
        let keys = BlindedKeys::blind15(&identity, &h32(SERVER));
        let content = text_message("hi", None);
        assert_eq!(hex::encode(content.encode_to_vec()), "0a040a026869");
        let post = sign_post(&keys, &content);
        let padded = STANDARD.decode(&post.data).unwrap();
        assert_eq!(padded.len(), 160);
        assert_eq!(hex::encode(&padded[..7]), "0a040a02686980");
        assert!(padded[7..].iter().all(|&b| b == 0));
        assert_eq!(post.data.len(), 216);
        assert!(post.data.starts_with("CgQKAmhpgAAA") && post.data.ends_with("AAA=="));
        assert_eq!(post.signature, SIGNATURE);

        let body = post.body(&[]);
        assert_eq!(body, format!(r#"{{"data":"{}","signature":"{SIGNATURE}","files":[]}}"#, post.data));
        let hash = <blake2::Blake2b512 as blake2::Digest>::digest(body.as_bytes());
        assert_eq!(
            hex::encode(hash),
            "586cf9efb5f601c7a10a77c777e23839303c71fd934a755d68ee70a8f22d4ad8efbeb09e0248bd5afd78f07cf1706111eed556c6d95a202a8e0fc887ccf95569"
        );
        let path = "/room/the-best-room/message";
        let mut rng = Replay(hex::decode(NONCE).unwrap());
        let headers =
            sign_request(&mut rng, RequestKey::Blinded(&keys), &h32(SERVER), TS, "POST", path, body.as_bytes());
        assert_eq!(
            headers.signature,
            "PEL9AHlsdTdf7AFbkq+k7tC26Rakj/6LkwtGNUhiRE0iP/5YACzb5hlC0cFpofRTqnluRFtRw2R1czqk3jIRBw=="
        );
        let now = i64::try_from(TS).unwrap();
        let verified =
            verify_request(headers.pairs(), &h32(SERVER), "POST", path, body.as_bytes(), now, AuthPolicy::default());
        assert_eq!(verified, Ok(Some(keys.id())));

        // Received back: the signature verifies against the poster's 15 id and the content reads.
        let received = open_post(&keys.id(), &post.data, SIGNATURE).unwrap();
        assert_eq!(received, content);
        let other = BlindedKeys::blind15(&Identity::from_ed25519_seed(&[1; 32]), &h32(SERVER)).id();
        assert_eq!(open_post(&other, &post.data, SIGNATURE), Err(PostError::BadSignature));
        let mut flipped = padded;
        flipped[0] ^= 1;
        assert_eq!(open_post(&keys.id(), &STANDARD.encode(&flipped), SIGNATURE), Err(PostError::BadSignature));
    }
}

/// C6 [derived]: a blinded DM from C3's account to C1's seed1 on C3's server.
mod c6 {
    use super::c3::{SEED, SERVER};
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use sha2::{Digest, Sha256};

    const MESSAGE: &str = "AD513eWFeU8QTQiUtUraTpbEnD2YxPoYYuxEim2+74snwWpwyprmnDSuSPAkkTeTSR1bDoYcMdsBkoSX1BgiI3/21u69yxwHLmsbFbxVc8OM5oJnc3ATvof/aKNXOy5aEXFVNw3Ch1gM4M/zsQPhzg5KUo53i0Lb1fAjIzdwviqtFfAcoX5LfPrQOTc7xunsYM8H5IPcyK/XqeMyU5eT5LOKsUzDkjrrlh4TRwvaGkH9yRMKeddpw16+MtgNVv+hptZ7S+w0OIL62d+7YEFc7CQAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhc=";

    fn parties() -> (Identity, Identity) {
        (
            Identity::from_ed25519_seed(&h32(SEED)),
            Identity::from_ed25519_seed(&h32("fecd9a6034bc9aba273925dee7062b123334587c3c6257341afae2d7fe85e122")),
        )
    }

    #[test]
    fn c6_blinded_dm_ids() {
        let (sender, recipient) = parties();
        assert_eq!(sender.session_id(), id("0588672ccb97f40bb57238989226cf429b575ba355443f47bc76c5ab144a96c65b"));
        assert_eq!(
            BlindedKeys::blind15(&sender, &h32(SERVER)).id(),
            id("1598932d4bccbe595a8789d7eb1629cefc483a0eaddc7e20e8fe5c771efafd9af5")
        );
        assert_eq!(
            BlindedKeys::blind15(&recipient, &h32(SERVER)).id(),
            id("150c3c10dca842918e1d7eb92b941bf4abe41fde1256d473d50f260c5c878f73d8")
        );
    }

    #[test]
    fn c6_blinded_dm_sealed_bytes() {
        let (sender, recipient) = parties();
        let to = BlindedKeys::blind15(&recipient, &h32(SERVER)).id();
        let mut rng = Replay((0u8..24).collect());
        let message = seal_blinded_dm(&mut rng, &sender, &h32(SERVER), &to, &text_message("hi", None)).unwrap();
        assert_eq!(message.len(), 233);
        assert_eq!(
            hex::encode(Sha256::digest(&message)),
            "c79a306bcb79a602cffb3a9d7ec13302e1581489376082966597d2ef760aedc4"
        );
        assert_eq!(STANDARD.encode(&message), MESSAGE);
        assert_eq!(inbox_body(&message), format!(r#"{{"message":"{MESSAGE}"}}"#));
    }

    #[test]
    fn c6_blinded_dm_opens_on_both_sides() {
        let (sender, recipient) = parties();
        let server = h32(SERVER);
        let from = BlindedKeys::blind15(&sender, &server).id();
        let to = BlindedKeys::blind15(&recipient, &server).id();
        let message = STANDARD.decode(MESSAGE).unwrap();
        let inbox = open_blinded_dm(&recipient, &server, &from, &to, &message).unwrap();
        assert_eq!(inbox.sender, id("0588672ccb97f40bb57238989226cf429b575ba355443f47bc76c5ab144a96c65b"));
        assert_eq!(&inbox.sender_ed25519, sender.ed25519_public());
        assert!(!inbox.outgoing);
        assert_eq!(inbox.content, text_message("hi", None));
        let outbox = open_blinded_dm(&sender, &server, &from, &to, &message).unwrap();
        assert_eq!((outbox.sender, outbox.outgoing), (sender.session_id(), true));
        // The key hashes the ids' exact bytes: the sender's id in its other sign does not open it.
        let mut other_sign = *from.key();
        other_sign[31] ^= 0x80;
        let flipped = SessionId::new(IdPrefix::BlindedLegacy, other_sign);
        assert_eq!(open_blinded_dm(&recipient, &server, &flipped, &to, &message), Err(DmError::Decrypt));
        // Someone else's keys, and wrong-prefix ids.
        let stranger = Identity::from_ed25519_seed(&[2; 32]);
        assert_eq!(open_blinded_dm(&stranger, &server, &from, &to, &message), Err(DmError::NotForUs));
        assert_eq!(open_blinded_dm(&recipient, &server, &sender.session_id(), &to, &message), Err(DmError::NotBlinded));
    }
}
