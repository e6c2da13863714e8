//! Checking the relay's node list against the network itself, with a few long-lived service nodes
//! as the trust anchors — as Session clients trust their pinned seed nodes.
//!
//! The relay alone hands the client its node list, so a relay that listed only nodes it controls
//! would choose every hop of every path and see address, destination and timing together. The
//! client therefore takes nothing from that list on trust:
//!
//! 1. every record whose X25519 key is not the Montgomery form of its Ed25519 key is dropped
//!    ([`keys_match`]): real service nodes and the devnet's derive it so, and a relay that paired
//!    a real node's name with a key of its own could otherwise read that node's onion layer;
//! 2. a few anchors ([`ANCHORS_ASKED`] at a time) are asked, each through an ordinary onion path
//!    built from the relay's list with the anchor as the destination, for the service-node list
//!    (`oxend_request` → `get_service_nodes`, [`service_nodes_request`]) — as Session clients
//!    refresh theirs. Only the anchor can open the request and seal the answer, so a relay or a
//!    hop cannot forge one, only stop it. If too few answer, those that did not and the rest are
//!    asked once more, through paths rebuilt from the nodes an answer showed alive (the client's
//!    `ask_anchor` and `check`);
//! 3. [`judge`]: at least [`ANSWERS_NEEDED`] answers are required; the network's list is what a
//!    majority of them agree on; the relay's list is accepted only if it covers nearly all of the
//!    network's list ([`slack`]: a tenth, plus one node, for churn) and at least half of what it
//!    lists is confirmed; the pool used afterwards is the relay's nodes that the network
//!    confirmed, with the network's records, so nodes the network does not list (a stale list's
//!    stopped nodes, or a relay's own) are never used.
//!
//! This module decides; the client performs the requests.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde_json::{Value, json};

use super::NodeRecord;
use crate::identity::ed25519_to_x25519_public;
use crate::onion::NodeKeys;
use crate::storage::rpc::{OxendRequestParams, Request};

/// Anchors asked at once; a second round asks as many others if too few answered.
pub const ANCHORS_ASKED: usize = 3;
/// Answers needed before the relay's list is judged.
pub const ANSWERS_NEEDED: usize = 2;
/// The most anchors one pass of a check asks (a check makes at most two passes).
pub const MAX_ANCHORS_ASKED: usize = 2 * ANCHORS_ASKED;
/// The most anchors a file may list.
pub const MAX_ANCHORS: usize = 1024;

/// Mainnet's anchors: libsession-util's pinned seed service nodes, Ed25519 and X25519 keys.
/// Facts from `session::comms::SEEDS` in `include/session/comms/seeds.hpp` of libsession-util
/// (jagerman/libsession-util, commit `3ad3fca9647a`); the same keys are Session iOS's pinned seed
/// snodes, and the Ed25519 keys are those of protocol-core.md §5. Only the keys are used: a hop
/// reaches an anchor by its Ed25519 key with its own view of the network, so the addresses there
/// (which have changed before) are not needed.
const MAINNET: [(&str, &str); 5] = [
    (
        "1f000f09a7b07828dcb72af7cd16857050c10c02bd58afb0e38111fb6cda1fef",
        "be83fe1221fdd85e4d9d2b62e2a34ba82eaf73da45700185d25aff4575ec6018",
    ),
    (
        "1f101f0acee4db6f31aaa8b4df134e85ca8a4878efaef7f971e88ab144c1a7ce",
        "05c8c236cf6c4013b8ca930a343fdc62c413ba038a16bb12e75632e0179d404a",
    ),
    (
        "1f202f00f4d2d4acc01e20773999a291cf3e3136c325474d159814e06199919f",
        "22ced8efd4e5faf15531e9b9244b2c1de299342892b97d19268c4db69ab6350f",
    ),
    (
        "1f303f1d7523c46fa5398826740d13282d26b5de90fbae5749442f66afb6d78b",
        "330ad0d67b58f39a6f46fbeaf5c3622860dfa584e9d787f70c3702031712767a",
    ),
    (
        "1f604f1c858a121a681d8f9b470ef72e6946ee1b9c5ad15a35e16b50c28db7b0",
        "929c5fc60efa1834a2d4a77a4a33387c1c3d5afc2b192c2ba0e040b29388b216",
    ),
];

/// Testnet's anchors: `session::comms::TESTNET_SEEDS`, same file and commit.
const TESTNET: [(&str, &str); 2] = [
    (
        "decaf18aa6d2008994aaa5a997e7a10f688984127c532c98cca6166e3229b7ed",
        "6a1db6f30e5873bfb26e12e1f624427c16f1bc360db5632db01dadefc74ea730",
    ),
    (
        "decaf20025ca6389d8225bda6a32d7fc4ee5176d21e3b2e9e08c3505a48a811a",
        "af59dda94242e47cfa4dbd9f02fbb70e769418d9706480c6882f2f8e39c4fe5e",
    ),
];

/// A service node trusted to say what the network is: its keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Anchor {
    /// Ed25519 key: how a hop names it.
    pub ed25519: [u8; 32],
    /// X25519 key, the Montgomery form of the Ed25519 key: what its layer is encrypted to.
    pub x25519: [u8; 32],
}

impl Anchor {
    /// The anchor of this Ed25519 key (its X25519 key derived), or `None` if the key is no point.
    pub fn from_ed25519(ed25519: [u8; 32]) -> Option<Anchor> {
        Some(Anchor { ed25519, x25519: ed25519_to_x25519_public(&ed25519)? })
    }

    /// The onion keys.
    pub fn keys(&self) -> NodeKeys {
        NodeKeys { ed25519: self.ed25519, x25519: self.x25519 }
    }
}

/// Why an anchors file was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnchorsError {
    /// Not JSON, or no `anchors` (or `nodes`) list.
    Malformed(&'static str),
    /// An entry's key is not 64 hex digits of a valid Ed25519 key.
    BadKey,
    /// An entry's X25519 key is not the one its Ed25519 key gives.
    KeysDisagree,
    /// The list is empty.
    Empty,
    /// More than [`MAX_ANCHORS`] entries.
    TooMany,
}

impl fmt::Display for AnchorsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnchorsError::Malformed(what) => write!(f, "the list of trusted nodes is unreadable: {what}"),
            AnchorsError::BadKey => f.write_str("the list of trusted nodes has a key that is not an Ed25519 key"),
            AnchorsError::KeysDisagree => {
                f.write_str("the list of trusted nodes has a node whose two keys do not belong together")
            }
            AnchorsError::Empty => f.write_str("the list of trusted nodes is empty"),
            AnchorsError::TooMany => write!(f, "the list of trusted nodes has more than {MAX_ANCHORS} nodes"),
        }
    }
}

impl std::error::Error for AnchorsError {}

/// The trust anchors of one network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchors(Vec<Anchor>);

fn key32(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

fn built_in(list: &[(&str, &str)]) -> Anchors {
    Anchors(
        list.iter()
            .filter_map(|(ed, x)| Some(Anchor { ed25519: key32(ed)?, x25519: key32(x)? }))
            .filter(|a| ed25519_to_x25519_public(&a.ed25519) == Some(a.x25519))
            .collect(),
    )
}

impl Anchors {
    /// Mainnet's (see the constant's comment for where the keys come from).
    pub fn mainnet() -> Anchors {
        built_in(&MAINNET)
    }

    /// Testnet's.
    pub fn testnet() -> Anchors {
        built_in(&TESTNET)
    }

    /// These anchors, duplicates removed.
    pub fn new(anchors: impl IntoIterator<Item = Anchor>) -> Anchors {
        let mut seen = HashSet::new();
        Anchors(anchors.into_iter().filter(|a| seen.insert(a.ed25519)).collect())
    }

    /// Reads a `network.json` (`{"anchors": [...]}`) or a devnet's `devnet.json` (`{"nodes":
    /// [...]}`): each entry an Ed25519 key in hex, or an object with `pubkey_ed25519` and, if
    /// given, the matching `pubkey_x25519`. Anything else in the file is ignored.
    pub fn parse(json: &[u8]) -> Result<Anchors, AnchorsError> {
        let v: Value = serde_json::from_slice(json).map_err(|_| AnchorsError::Malformed("not JSON"))?;
        let list = v
            .get("anchors")
            .or_else(|| v.get("nodes"))
            .and_then(Value::as_array)
            .ok_or(AnchorsError::Malformed("no \"anchors\" list"))?;
        if list.len() > MAX_ANCHORS {
            return Err(AnchorsError::TooMany);
        }
        let mut anchors = Vec::with_capacity(list.len());
        for entry in list {
            let (ed, x) = match entry {
                Value::String(ed) => (ed.as_str(), None),
                Value::Object(o) => (
                    o.get("pubkey_ed25519").and_then(Value::as_str).ok_or(AnchorsError::BadKey)?,
                    o.get("pubkey_x25519").and_then(Value::as_str),
                ),
                _ => return Err(AnchorsError::Malformed("an entry is neither a key nor an object")),
            };
            let anchor = key32(ed).and_then(Anchor::from_ed25519).ok_or(AnchorsError::BadKey)?;
            if let Some(x) = x
                && key32(x) != Some(anchor.x25519)
            {
                return Err(AnchorsError::KeysDisagree);
            }
            anchors.push(anchor);
        }
        let anchors = Anchors::new(anchors);
        if anchors.0.is_empty() {
            return Err(AnchorsError::Empty);
        }
        Ok(anchors)
    }

    /// The `network.json` form: `{"anchors": [{"pubkey_ed25519", "pubkey_x25519"}, ...]}`.
    pub fn to_json(&self) -> Value {
        let list: Vec<Value> = self
            .0
            .iter()
            .map(|a| json!({ "pubkey_ed25519": hex::encode(a.ed25519), "pubkey_x25519": hex::encode(a.x25519) }))
            .collect();
        json!({ "anchors": list })
    }

    /// The anchors.
    pub fn list(&self) -> &[Anchor] {
        &self.0
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Whether a record's X25519 key is the Montgomery form of its Ed25519 key.
pub fn keys_match(node: &NodeRecord) -> bool {
    ed25519_to_x25519_public(&node.ed25519) == Some(node.x25519)
}

/// The records whose keys match ([`keys_match`]), each node once.
pub fn with_matching_keys(list: Vec<NodeRecord>) -> Vec<NodeRecord> {
    let mut seen = HashSet::new();
    list.into_iter().filter(|n| keys_match(n) && seen.insert(n.ed25519)).collect()
}

/// `oxend_request` → `get_service_nodes` for the active nodes, with the fields a node record needs
/// (those Session clients ask for when they refresh their list, protocol-onion §1.1; no swarm ids,
/// which the client takes from `get_swarm`, so each answer is smaller: about 200 bytes a node).
pub fn service_nodes_request() -> Value {
    let fields = json!({
        "public_ip": true,
        "storage_port": true,
        "pubkey_x25519": true,
        "pubkey_ed25519": true,
    });
    Request::OxendRequest(OxendRequestParams {
        endpoint: "get_service_nodes".to_owned(),
        params: Some(json!({ "active_only": true, "fields": fields })),
    })
    .to_json()
}

/// How many of `n` nodes may differ between two lists that agree: a tenth, plus one node. The
/// relay's list is at most its refresh period old (10 minutes by default) and the anchors' answers
/// are live; on the real network, of about 2,000 nodes, far fewer than a tenth join or leave in
/// that time, while a relay that hid more than a tenth of the network (or listed more than a tenth
/// of unknown nodes) is refused. The one node is for networks so small that a tenth is none, where
/// one node stopping between the relay's refresh and the check would otherwise refuse it.
pub fn slack(n: usize) -> usize {
    n / 10 + 1
}

/// Why the relay's list was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// There are no anchors to check with.
    NoAnchors,
    /// Fewer than [`ANSWERS_NEEDED`] of the anchors asked answered through the relay.
    Unconfirmed {
        /// Anchors that answered.
        answered: usize,
        /// Anchors asked.
        asked: usize,
    },
    /// More than [`slack`] of the relay's records pair a node's Ed25519 key with an X25519 key that
    /// is not its own.
    ForgedKeys {
        /// Nodes the relay lists.
        listed: usize,
        /// Of those, nodes with a key that is not theirs.
        forged: usize,
    },
    /// The relay's list and the network's differ by more than [`slack`].
    Mismatch {
        /// Nodes the relay lists.
        listed: usize,
        /// Of those, nodes the network confirms.
        confirmed: usize,
        /// Nodes the network lists.
        network: usize,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NoAnchors => f.write_str(
                "Hush has no trusted service nodes to check this relay's node list against, so it will not use \
                 this relay",
            ),
            Refusal::Unconfirmed { answered, asked } => write!(
                f,
                "the network could not confirm this relay's node list: {answered} of the {asked} trusted service \
                 nodes asked answered through it, and {ANSWERS_NEEDED} must. Hush will not use this relay"
            ),
            Refusal::ForgedKeys { listed, forged } => write!(
                f,
                "this relay's node list gives {forged} of the {listed} service nodes it lists a key that is not \
                 theirs. Hush will not use this relay"
            ),
            Refusal::Mismatch { listed, confirmed, network } => write!(
                f,
                "this relay's node list does not match the network's: the network confirms {confirmed} of the \
                 {listed} service nodes the relay lists, and has {network}. Hush will not use this relay"
            ),
        }
    }
}

impl std::error::Error for Refusal {}

/// The nodes on which a majority of `answers`, and at least [`ANSWERS_NEEDED`], agree (same
/// Ed25519 and X25519 keys), each with the record of the first answer that has it, in that order.
pub fn agreed(answers: &[Vec<NodeRecord>]) -> Vec<NodeRecord> {
    let needed = (answers.len() / 2 + 1).max(ANSWERS_NEEDED);
    let mut count: HashMap<([u8; 32], [u8; 32]), usize> = HashMap::new();
    for answer in answers {
        let mut once = HashSet::new();
        for n in answer.iter().filter(|n| once.insert(n.ed25519)) {
            *count.entry((n.ed25519, n.x25519)).or_default() += 1;
        }
    }
    let mut seen = HashSet::new();
    answers
        .iter()
        .flatten()
        .filter(|n| count.get(&(n.ed25519, n.x25519)).is_some_and(|&c| c >= needed) && seen.insert(n.ed25519))
        .cloned()
        .collect()
}

/// Refuses before asking anyone when so many of the relay's records have keys that do not match
/// that no answer could confirm the rest.
pub fn prejudge(listed: &[NodeRecord]) -> Result<(), Refusal> {
    let matching = listed.iter().filter(|n| keys_match(n)).map(|n| n.ed25519).collect::<HashSet<_>>().len();
    let distinct = listed.iter().map(|n| n.ed25519).collect::<HashSet<_>>().len();
    if distinct - matching > slack(distinct) {
        return Err(Refusal::ForgedKeys { listed: distinct, forged: distinct - matching });
    }
    Ok(())
}

/// The verdict on the relay's list `listed`, given the anchors' `answers` (each already read as a
/// node list): the pool to use — the relay's nodes that the network confirms, with the network's
/// records — or why the relay is refused.
pub fn judge(listed: &[NodeRecord], answers: &[Vec<NodeRecord>], asked: usize) -> Result<Vec<NodeRecord>, Refusal> {
    if answers.len() < ANSWERS_NEEDED {
        return Err(Refusal::Unconfirmed { answered: answers.len(), asked });
    }
    let network = agreed(answers);
    let listed: HashMap<[u8; 32], [u8; 32]> = listed.iter().map(|n| (n.ed25519, n.x25519)).collect();
    let pool: Vec<NodeRecord> =
        network.iter().filter(|n| listed.get(&n.ed25519).is_some_and(|x| *x == n.x25519)).cloned().collect();
    let (confirmed, listed, network) = (pool.len(), listed.len(), network.len());
    // Hiding part of the network is what would steer the client, so coverage is held to the
    // slack. Unknown nodes cannot steer it (the pool leaves them out); a list is stale by up to
    // the relay's refresh period, and a network that lost a third of its nodes since then (the
    // outage end-to-end test stops one node of every swarm) must not get its relay refused. A
    // list that is mostly unknown nodes is refused all the same: it is not this network's.
    if confirmed == 0 || listed - confirmed > listed / 2 || network - confirmed > slack(network) {
        return Err(Refusal::Mismatch { listed, confirmed, network });
    }
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;

    /// A node whose keys match, made from `i`.
    fn node(i: u8) -> NodeRecord {
        let id = Identity::from_ed25519_seed(&[i; 32]);
        NodeRecord {
            ed25519: *id.ed25519_public(),
            x25519: *id.x25519_public(),
            ip: format!("10.0.{i}.1"),
            port: 22100,
            swarm_id: None,
        }
    }

    fn nodes(range: std::ops::RangeInclusive<u8>) -> Vec<NodeRecord> {
        range.map(node).collect()
    }

    #[test]
    fn the_pinned_seeds_keys_belong_together() {
        // Every built-in X25519 key is the Montgomery form of its Ed25519 key (`built_in` would
        // drop one that is not, and these counts would fail).
        assert_eq!(Anchors::mainnet().len(), 5);
        assert_eq!(Anchors::testnet().len(), 2);
        let first = Anchors::mainnet().list()[0];
        assert_eq!(hex::encode(first.ed25519), "1f000f09a7b07828dcb72af7cd16857050c10c02bd58afb0e38111fb6cda1fef");
        assert_eq!(Anchor::from_ed25519(first.ed25519), Some(first));
    }

    #[test]
    fn the_apps_network_json_holds_the_mainnet_anchors() {
        let file = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../public/network.json"));
        assert_eq!(Anchors::parse(file), Ok(Anchors::mainnet()));
    }

    #[test]
    fn a_record_whose_x25519_key_is_not_its_ed25519_keys_is_dropped() {
        let good = node(1);
        let mut forged = node(2);
        forged.x25519 = node(3).x25519;
        let mut not_a_point = node(4);
        not_a_point.ed25519 = [0; 32];
        assert!(keys_match(&good));
        assert!(!keys_match(&forged) && !keys_match(&not_a_point));
        let kept = with_matching_keys(vec![good.clone(), forged, not_a_point, good.clone()]);
        assert_eq!(kept, [good], "the forged, the invalid and the repeated record are dropped");
    }

    #[test]
    fn anchors_files_are_read_from_network_json_or_devnet_json() {
        let a = node(1);
        let b = node(2);
        let network_json = Anchors::new([Anchor::from_ed25519(a.ed25519).unwrap()]).to_json().to_string();
        assert_eq!(Anchors::parse(network_json.as_bytes()).unwrap().list()[0].x25519, a.x25519);
        let devnet_json = json!({
            "seed_url": "http://127.0.0.1:1/json_rpc",
            "nodes": [
                {"public_ip": "127.0.0.1", "storage_port": 1, "pubkey_ed25519": hex::encode(a.ed25519),
                 "pubkey_x25519": hex::encode(a.x25519), "swarm_id": 0},
                hex::encode(b.ed25519),
                hex::encode(a.ed25519),
            ],
        });
        let parsed = Anchors::parse(devnet_json.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.len(), 2, "a repeated key counts once");
        assert_eq!(parsed.list()[1].x25519, b.x25519, "derived when not given");

        let bad_x =
            json!({"anchors": [{"pubkey_ed25519": hex::encode(a.ed25519), "pubkey_x25519": hex::encode(b.x25519)}]});
        for (text, error) in [
            (b"nonsense".to_vec(), AnchorsError::Malformed("not JSON")),
            (br#"{"anchors": 5}"#.to_vec(), AnchorsError::Malformed("no \"anchors\" list")),
            (br#"{"anchors": []}"#.to_vec(), AnchorsError::Empty),
            (br#"{"anchors": ["zz"]}"#.to_vec(), AnchorsError::BadKey),
            (br#"{"anchors": [{"pubkey_x25519": "00"}]}"#.to_vec(), AnchorsError::BadKey),
            (format!(r#"{{"anchors": ["{}"]}}"#, "00".repeat(32)).into_bytes(), AnchorsError::BadKey),
            (br#"{"anchors": [7]}"#.to_vec(), AnchorsError::Malformed("an entry is neither a key nor an object")),
            (bad_x.to_string().into_bytes(), AnchorsError::KeysDisagree),
        ] {
            assert_eq!(Anchors::parse(&text), Err(error), "{}", String::from_utf8_lossy(&text));
        }
        let many: Vec<String> = (0..=MAX_ANCHORS).map(|_| hex::encode(a.ed25519)).collect();
        assert_eq!(Anchors::parse(json!({ "anchors": many }).to_string().as_bytes()), Err(AnchorsError::TooMany));
    }

    #[test]
    fn the_network_is_what_a_majority_of_answers_agree_on() {
        // Three answers: 1–10 in all, 11 in two, 12 in one, 13 with another X25519 key in two.
        let mut odd = node(13);
        odd.x25519 = node(14).x25519;
        let first = [nodes(1..=10), vec![node(11), node(12), node(13)]].concat();
        let second = [nodes(1..=10), vec![node(11), odd.clone()]].concat();
        let third = [nodes(1..=10), vec![odd, node(13), node(1)]].concat();
        let keys = |list: Vec<NodeRecord>| list.into_iter().map(|n| n.ed25519).collect::<Vec<_>>();
        assert_eq!(
            keys(agreed(&[first.clone(), second.clone(), third])),
            keys([nodes(1..=11), vec![node(13)]].concat()),
            "13 as two answers give it; a node repeated in one answer counts once"
        );
        assert_eq!(keys(agreed(&[first.clone(), second])), keys(nodes(1..=11)), "two answers must both have it");
        assert!(agreed(&[first]).is_empty(), "one answer confirms nothing");
    }

    #[test]
    fn the_relays_list_must_be_confirmed_and_cover_the_network() {
        let network = nodes(1..=30);
        let answers = [network.clone(), network.clone(), network[..29].to_vec()];
        // The same list: accepted, and the pool is the network's records.
        let mut listed = network.clone();
        listed[0].ip = "10.9.9.9".into();
        let pool = judge(&listed, &answers, 3).unwrap();
        assert_eq!(pool.len(), 30);
        assert_eq!(pool[0].ip, "10.0.1.1", "the network's record, not the relay's");

        // Churn within the slack (a tenth, plus one): 4 of 30 missing, 4 unknown — accepted, and
        // the unknown ones are not used.
        let churned = [nodes(5..=30), nodes(31..=34)].concat();
        let pool = judge(&churned, &answers, 3).unwrap();
        assert_eq!(pool.len(), 26);
        assert!(pool.iter().all(|n| network.contains(n)));

        // A relay that lists only its own nodes.
        let own = nodes(101..=130);
        assert_eq!(judge(&own, &answers, 3), Err(Refusal::Mismatch { listed: 30, confirmed: 0, network: 30 }));
        // One that lists a chosen subset (it hides most of the network).
        assert_eq!(
            judge(&network[..20], &answers, 3),
            Err(Refusal::Mismatch { listed: 20, confirmed: 20, network: 30 })
        );
        // One that adds its own beside the real ones (or a stale list that still has nodes stopped
        // since): accepted, and none of them is used.
        let padded = [network.clone(), nodes(101..=110)].concat();
        let pool = judge(&padded, &answers, 3).unwrap();
        assert_eq!(pool.len(), 30);
        assert!(pool.iter().all(|n| network.contains(n)), "a node the network does not list is never used");
        // One that is mostly nodes of its own.
        let mostly_own = [network.clone(), nodes(101..=140)].concat();
        assert_eq!(judge(&mostly_own, &answers, 3), Err(Refusal::Mismatch { listed: 70, confirmed: 30, network: 30 }));
        // One that pairs real names with keys of its own.
        let mut rekeyed = network.clone();
        for n in rekeyed.iter_mut().take(10) {
            n.x25519 = [7; 32];
        }
        assert!(matches!(judge(&rekeyed, &answers, 3), Err(Refusal::Mismatch { confirmed: 20, .. })));
        // Too few answers.
        assert_eq!(
            judge(&network, &answers[..1], 3),
            Err(Refusal::Unconfirmed { answered: 1, asked: 3 }),
            "one anchor's word is not enough"
        );
        // Anchors that agree on nothing confirm nothing.
        assert!(judge(&network, &[nodes(1..=5), nodes(6..=10)], 2).is_err());
    }

    #[test]
    fn a_tiny_network_tolerates_one_node_of_churn() {
        let network = nodes(1..=6);
        let answers = [network.clone(), network.clone()];
        assert!(judge(&network[1..], &answers, 2).is_ok(), "one node stopped since the relay's refresh");
        assert!(judge(&network[2..], &answers, 2).is_err());
        assert_eq!(slack(2_000), 201);
    }

    #[test]
    fn a_list_of_mostly_forged_keys_is_refused_before_anyone_is_asked() {
        let mut list = nodes(1..=10);
        assert_eq!(prejudge(&list), Ok(()));
        for n in list.iter_mut().take(3) {
            n.x25519 = [9; 32];
        }
        assert_eq!(prejudge(&list), Err(Refusal::ForgedKeys { listed: 10, forged: 3 }));
    }

    #[test]
    fn the_request_asks_for_active_nodes_and_their_keys() {
        let r = service_nodes_request();
        assert_eq!(r["method"], "oxend_request");
        assert_eq!(r["params"]["endpoint"], "get_service_nodes");
        assert_eq!(r["params"]["params"]["active_only"], true);
        for field in ["public_ip", "storage_port", "pubkey_x25519", "pubkey_ed25519"] {
            assert_eq!(r["params"]["params"]["fields"][field], true, "{field}");
        }
    }

    #[test]
    fn refusals_read_as_what_happened() {
        let text = Refusal::Mismatch { listed: 6, confirmed: 0, network: 12 }.to_string();
        assert!(text.starts_with("this relay's node list does not match the network's"), "{text}");
        assert!(text.contains("Hush will not use this relay"));
        assert!(Refusal::Unconfirmed { answered: 0, asked: 6 }.to_string().contains("0 of the 6"));
    }
}
