//! The client's view of the network, as state machines without I/O: the node pool, guards and
//! onion paths with strikes, swarm caches, the network-time offset, and polling state.
//!
//! The app feeds in what it fetched (node lists, replies, failures) and asks what to do next
//! (which path, which node); it performs every request itself.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;

use rand_core::CryptoRngCore;
use serde_json::Value;

use crate::identity::SessionId;
use crate::onion::NodeKeys;
use crate::swarm;

/// Hops per path (guard + 2).
pub const PATH_LENGTH: usize = 3;
/// Paths kept (one per guard).
pub const PATH_COUNT: usize = 2;
/// Failures before a node or path is dropped.
pub const STRIKE_LIMIT: u8 = 3;
/// Network-time samples kept for the rolling mean.
pub const TIME_SAMPLES: usize = 10;

/// A service node as the client knows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeRecord {
    /// Ed25519 key (its name).
    pub ed25519: [u8; 32],
    /// X25519 key (what onion layers are encrypted to).
    pub x25519: [u8; 32],
    /// IPv4 address.
    pub ip: String,
    /// HTTPS port.
    pub port: u16,
    /// Swarm id, when the list gave one.
    pub swarm_id: Option<u64>,
}

impl NodeRecord {
    /// The onion keys.
    pub fn keys(&self) -> NodeKeys {
        NodeKeys { ed25519: self.ed25519, x25519: self.x25519 }
    }

    /// The /24 "subnet": the address up to its last dot.
    pub fn subnet(&self) -> &str {
        self.ip.rsplit_once('.').map_or(self.ip.as_str(), |(head, _)| head)
    }
}

/// Why a node list or swarm reply could not be used.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum NetworkError {
    /// The JSON is not of the expected shape.
    Malformed(&'static str),
    /// Not enough usable nodes to build paths.
    NotEnoughNodes { have: usize, need: usize },
}

impl fmt::Display for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetworkError::Malformed(what) => write!(f, "unexpected reply from the network: {what}"),
            NetworkError::NotEnoughNodes { have, need } => {
                write!(f, "the network lists {have} usable service nodes; {need} are needed")
            }
        }
    }
}

impl std::error::Error for NetworkError {}

fn hex32(v: &Value) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(v.as_str()?, &mut out).ok()?;
    Some(out)
}

fn record(v: &Value, ip_key: &str, port_key: &str) -> Option<NodeRecord> {
    let ip = v.get(ip_key)?.as_str()?;
    if ip.is_empty() || ip == "0.0.0.0" {
        return None;
    }
    let port = match v.get(port_key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .and_then(|p| u16::try_from(p).ok())?;
    Some(NodeRecord {
        ed25519: hex32(v.get("pubkey_ed25519")?)?,
        x25519: hex32(v.get("pubkey_x25519")?)?,
        ip: ip.to_owned(),
        port,
        swarm_id: v.get("swarm_id").and_then(Value::as_u64).filter(|&id| id != swarm::INVALID_SWARM_ID),
    })
}

/// Parses a node list: the relay's `{"nodes": [...]}`, a seed's `{"result": {"service_node_states"}}`
/// or `oxend_request`'s `{"result": {...}}`. Unusable entries are skipped.
pub fn parse_node_list(json: &[u8]) -> Result<Vec<NodeRecord>, NetworkError> {
    let v: Value = serde_json::from_slice(json).map_err(|_| NetworkError::Malformed("node list is not JSON"))?;
    let list = v
        .get("nodes")
        .or_else(|| v.get("result").and_then(|r| r.get("service_node_states")))
        .or_else(|| v.get("service_node_states"))
        .and_then(Value::as_array)
        .ok_or(NetworkError::Malformed("no node list"))?;
    Ok(list.iter().filter_map(|n| record(n, "public_ip", "storage_port")).collect())
}

/// Parses a swarm: a `get_swarm` reply or a 421 body (`{"snodes": [...], "swarm": "<hex>"}`).
pub fn parse_swarm(json: &[u8]) -> Result<Vec<NodeRecord>, NetworkError> {
    let v: Value = serde_json::from_slice(json).map_err(|_| NetworkError::Malformed("swarm is not JSON"))?;
    let swarm_id = v.get("swarm").and_then(Value::as_str).and_then(|s| u64::from_str_radix(s, 16).ok());
    let list = v.get("snodes").and_then(Value::as_array).ok_or(NetworkError::Malformed("no snodes"))?;
    let nodes: Vec<NodeRecord> = list
        .iter()
        .filter_map(|n| record(n, "ip", "port_https"))
        .map(|mut n| {
            n.swarm_id = n.swarm_id.or(swarm_id);
            n
        })
        .collect();
    if nodes.is_empty() {
        return Err(NetworkError::Malformed("empty swarm"));
    }
    Ok(nodes)
}

/// A path: the guard first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    /// The hops.
    pub hops: Vec<NodeRecord>,
    strikes: u8,
}

impl Path {
    /// The guard.
    pub fn guard(&self) -> Option<&NodeRecord> {
        self.hops.first()
    }

    /// The onion keys of the hops.
    pub fn keys(&self) -> Vec<NodeKeys> {
        self.hops.iter().map(NodeRecord::keys).collect()
    }

    fn contains(&self, key: &[u8; 32]) -> bool {
        self.hops.iter().any(|h| &h.ed25519 == key)
    }
}

/// The node pool, the paths and the swarm caches.
#[derive(Clone, Debug, Default)]
pub struct Network {
    pool: Vec<NodeRecord>,
    paths: Vec<Path>,
    node_strikes: HashMap<[u8; 32], u8>,
    swarms: HashMap<SessionId, Vec<NodeRecord>>,
    time_offsets: VecDeque<i64>,
}

fn pick<'a>(rng: &mut impl CryptoRngCore, items: &[&'a NodeRecord]) -> Option<&'a NodeRecord> {
    if items.is_empty() {
        return None;
    }
    let i = usize::try_from(rng.next_u64() % items.len() as u64).ok()?;
    items.get(i).copied()
}

impl Network {
    /// A network with this node pool and no paths yet.
    pub fn new(pool: Vec<NodeRecord>) -> Network {
        let mut net = Network::default();
        net.set_pool(pool);
        net
    }

    /// Replaces the pool (keeps paths whose nodes are all still listed).
    pub fn set_pool(&mut self, pool: Vec<NodeRecord>) {
        let mut seen = HashSet::new();
        self.pool = pool.into_iter().filter(|n| seen.insert(n.ed25519)).collect();
        let keys: HashSet<[u8; 32]> = self.pool.iter().map(|n| n.ed25519).collect();
        self.paths.retain(|p| p.hops.iter().all(|h| keys.contains(&h.ed25519)));
    }

    /// The pool.
    pub fn pool(&self) -> &[NodeRecord] {
        &self.pool
    }

    /// The current paths.
    pub fn paths(&self) -> &[Path] {
        &self.paths
    }

    /// Builds paths until there are [`PATH_COUNT`]: each of [`PATH_LENGTH`] distinct nodes, every
    /// node of every path distinct, and — while the pool allows — every node in a different /24.
    pub fn build_paths(&mut self, rng: &mut impl CryptoRngCore) -> Result<(), NetworkError> {
        let need = PATH_COUNT * PATH_LENGTH;
        if self.pool.len() < need {
            return Err(NetworkError::NotEnoughNodes { have: self.pool.len(), need });
        }
        while self.paths.len() < PATH_COUNT {
            let used: HashSet<[u8; 32]> = self.paths.iter().flat_map(|p| p.hops.iter().map(|h| h.ed25519)).collect();
            let mut hops: Vec<NodeRecord> = Vec::with_capacity(PATH_LENGTH);
            while hops.len() < PATH_LENGTH {
                let taken_subnets: HashSet<&str> =
                    self.paths.iter().flat_map(|p| p.hops.iter()).chain(hops.iter()).map(NodeRecord::subnet).collect();
                let free: Vec<&NodeRecord> = self
                    .pool
                    .iter()
                    .filter(|n| !used.contains(&n.ed25519) && !hops.iter().any(|h| h.ed25519 == n.ed25519))
                    .collect();
                let diverse: Vec<&NodeRecord> =
                    free.iter().copied().filter(|n| !taken_subnets.contains(n.subnet())).collect();
                let chosen = pick(rng, if diverse.is_empty() { &free } else { &diverse })
                    .ok_or(NetworkError::NotEnoughNodes { have: self.pool.len(), need })?;
                hops.push(chosen.clone());
            }
            self.paths.push(Path { hops, strikes: 0 });
        }
        Ok(())
    }

    /// A path (its index and hops) whose nodes do not include `destination`.
    pub fn path_avoiding(&self, rng: &mut impl CryptoRngCore, destination: &[u8; 32]) -> Option<(usize, &Path)> {
        let usable: Vec<usize> =
            self.paths.iter().enumerate().filter(|(_, p)| !p.contains(destination)).map(|(i, _)| i).collect();
        let i = *usable.get(usize::try_from(rng.next_u64() % usable.len().max(1) as u64).ok()?)?;
        self.paths.get(i).map(|p| (i, p))
    }

    /// A failure on path `index`: after [`STRIKE_LIMIT`] the path is dropped (rebuild with
    /// [`Network::build_paths`]); every non-guard hop also gets a node strike.
    pub fn strike_path(&mut self, index: usize) {
        let Some(path) = self.paths.get_mut(index) else { return };
        path.strikes = path.strikes.saturating_add(1);
        let hops: Vec<[u8; 32]> = path.hops.iter().skip(1).map(|h| h.ed25519).collect();
        if path.strikes >= STRIKE_LIMIT {
            self.paths.remove(index);
        }
        for h in hops {
            self.strike_node(&h);
        }
    }

    /// A failure of one node: after [`STRIKE_LIMIT`] it leaves the pool, the swarms and the paths.
    pub fn strike_node(&mut self, key: &[u8; 32]) {
        let strikes = self.node_strikes.entry(*key).or_insert(0);
        *strikes = strikes.saturating_add(1);
        if *strikes >= STRIKE_LIMIT {
            self.drop_node(key);
        }
    }

    /// Removes a node at once (e.g. "Next node not found").
    pub fn drop_node(&mut self, key: &[u8; 32]) {
        self.pool.retain(|n| &n.ed25519 != key);
        self.paths.retain(|p| !p.contains(key));
        for members in self.swarms.values_mut() {
            members.retain(|n| &n.ed25519 != key);
        }
        self.node_strikes.remove(key);
    }

    /// A success through path `index`: its strikes are forgiven.
    pub fn path_succeeded(&mut self, index: usize) {
        if let Some(p) = self.paths.get_mut(index) {
            p.strikes = 0;
        }
    }

    /// The known members of `pubkey`'s swarm: from the cache, else computed from the pool's swarm ids.
    pub fn swarm(&self, pubkey: &SessionId) -> Vec<NodeRecord> {
        if let Some(members) = self.swarms.get(pubkey).filter(|m| !m.is_empty()) {
            return members.clone();
        }
        let ids: Vec<u64> = self.pool.iter().filter_map(|n| n.swarm_id).collect();
        match swarm::swarm_for(pubkey, &ids) {
            Some(id) => self.pool.iter().filter(|n| n.swarm_id == Some(id)).cloned().collect(),
            None => Vec::new(),
        }
    }

    /// Replaces the cached swarm of `pubkey` (from `get_swarm` or a 421 reply).
    pub fn set_swarm(&mut self, pubkey: SessionId, members: Vec<NodeRecord>) {
        self.swarms.insert(pubkey, members);
    }

    /// Records a node's time `t` seen at local time `local_ms`.
    pub fn record_time(&mut self, local_ms: u64, node_ms: u64) {
        let offset = i64::try_from(node_ms).unwrap_or(i64::MAX).saturating_sub(i64::try_from(local_ms).unwrap_or(0));
        self.time_offsets.push_back(offset);
        while self.time_offsets.len() > TIME_SAMPLES {
            self.time_offsets.pop_front();
        }
    }

    /// Network time: local time corrected by the mean offset of the last samples.
    pub fn network_now(&self, local_ms: u64) -> u64 {
        if self.time_offsets.is_empty() {
            return local_ms;
        }
        let sum: i128 = self.time_offsets.iter().map(|&o| i128::from(o)).sum();
        let mean = i64::try_from(sum / self.time_offsets.len() as i128).unwrap_or(0);
        u64::try_from(i64::try_from(local_ms).unwrap_or(i64::MAX).saturating_add(mean)).unwrap_or(local_ms)
    }
}

/// What polling remembers: the last hash per (node, namespace) and the hashes already handled.
#[derive(Clone, Debug, Default)]
pub struct PollState {
    last_hash: HashMap<([u8; 32], i16), String>,
    seen: HashSet<String>,
    order: VecDeque<String>,
}

/// How many handled hashes are remembered for de-duplication.
pub const SEEN_LIMIT: usize = 10_000;

impl PollState {
    /// The `last_hash` to send to `node` for `namespace`.
    pub fn last_hash(&self, node: &[u8; 32], namespace: i16) -> Option<&str> {
        self.last_hash.get(&(*node, namespace)).map(String::as_str)
    }

    /// Records the last hash a node returned.
    pub fn set_last_hash(&mut self, node: &[u8; 32], namespace: i16, hash: &str) {
        self.last_hash.insert((*node, namespace), hash.to_owned());
    }

    /// True the first time a hash is seen; false for a duplicate.
    pub fn first_sight(&mut self, hash: &str) -> bool {
        if !self.seen.insert(hash.to_owned()) {
            return false;
        }
        self.order.push_back(hash.to_owned());
        while self.order.len() > SEEN_LIMIT {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn node(i: u8, subnet: u8, swarm: u64) -> NodeRecord {
        NodeRecord {
            ed25519: [i; 32],
            x25519: [i; 32],
            ip: format!("10.0.{subnet}.{i}"),
            port: 22100,
            swarm_id: Some(swarm),
        }
    }

    #[test]
    fn paths_are_distinct_diverse_and_avoid_the_destination() {
        let pool: Vec<NodeRecord> = (1..=12).map(|i| node(i, i, u64::from(i % 3))).collect();
        for seed in 0..50 {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let mut net = Network::new(pool.clone());
            net.build_paths(&mut rng).unwrap();
            assert_eq!(net.paths().len(), 2);
            let all: Vec<&NodeRecord> = net.paths().iter().flat_map(|p| p.hops.iter()).collect();
            let distinct: HashSet<_> = all.iter().map(|n| n.ed25519).collect();
            assert_eq!(distinct.len(), 6, "every node distinct");
            let subnets: HashSet<_> = all.iter().map(|n| n.subnet()).collect();
            assert_eq!(subnets.len(), 6, "distinct /24s when the pool allows");
            let dest = net.paths()[0].hops[1].ed25519;
            for _ in 0..20 {
                let (_, p) = net.path_avoiding(&mut rng, &dest).unwrap();
                assert!(!p.contains(&dest));
            }
        }
    }

    #[test]
    fn one_subnet_still_builds_with_distinct_nodes() {
        let pool: Vec<NodeRecord> = (1..=8).map(|i| node(i, 0, 0)).collect();
        let mut net = Network::new(pool);
        net.build_paths(&mut ChaCha20Rng::seed_from_u64(1)).unwrap();
        let all: HashSet<_> = net.paths().iter().flat_map(|p| p.hops.iter().map(|h| h.ed25519)).collect();
        assert_eq!(all.len(), 6);
        let mut small = Network::new((1..=5).map(|i| node(i, i, 0)).collect());
        assert_eq!(
            small.build_paths(&mut ChaCha20Rng::seed_from_u64(1)),
            Err(NetworkError::NotEnoughNodes { have: 5, need: 6 })
        );
    }

    #[test]
    fn three_strikes_drop_a_path_and_its_nodes() {
        let pool: Vec<NodeRecord> = (1..=12).map(|i| node(i, i, 0)).collect();
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let mut net = Network::new(pool);
        net.build_paths(&mut rng).unwrap();
        let hops: Vec<[u8; 32]> = net.paths()[0].hops.iter().map(|h| h.ed25519).collect();
        net.strike_path(0);
        net.strike_path(0);
        assert_eq!(net.paths().len(), 2);
        net.strike_path(0);
        assert_eq!(net.paths().len(), 1);
        assert!(net.pool().iter().all(|n| n.ed25519 != hops[1] && n.ed25519 != hops[2]), "hop nodes dropped");
        assert!(net.pool().iter().any(|n| n.ed25519 == hops[0]), "the guard stays in the pool");
        net.build_paths(&mut rng).unwrap();
        assert_eq!(net.paths().len(), 2);
    }

    #[test]
    fn dropping_a_node_removes_it_everywhere() {
        let pool: Vec<NodeRecord> = (1..=12).map(|i| node(i, i, 0)).collect();
        let mut net = Network::new(pool.clone());
        net.build_paths(&mut ChaCha20Rng::seed_from_u64(3)).unwrap();
        let victim = net.paths()[1].hops[0].ed25519;
        let id: SessionId = format!("05{}", "11".repeat(32)).parse().unwrap();
        net.set_swarm(id, pool);
        net.drop_node(&victim);
        assert_eq!(net.paths().len(), 1);
        assert!(net.swarm(&id).iter().all(|n| n.ed25519 != victim));
        assert!(net.pool().iter().all(|n| n.ed25519 != victim));
    }

    #[test]
    fn swarm_from_pool_uses_swarm_selection() {
        let pool: Vec<NodeRecord> = (1..=9).map(|i| node(i, i, u64::from(i % 3) * (u64::MAX / 3))).collect();
        let net = Network::new(pool);
        let id: SessionId = "05000000000000000000000000000000000000000000000000ffffffffffffffff".parse().unwrap();
        let members = net.swarm(&id);
        assert_eq!(members.len(), 3);
        let ids: Vec<u64> = net.pool().iter().filter_map(|n| n.swarm_id).collect();
        assert!(members.iter().all(|m| m.swarm_id == swarm::swarm_for(&id, &ids)));
    }

    #[test]
    fn network_time_is_a_rolling_mean() {
        let mut net = Network::default();
        assert_eq!(net.network_now(1000), 1000);
        net.record_time(1000, 3000);
        net.record_time(1000, 5000);
        assert_eq!(net.network_now(10_000), 13_000);
        for _ in 0..20 {
            net.record_time(0, 100);
        }
        assert_eq!(net.network_now(0), 100, "only the last 10 samples count");
    }

    #[test]
    fn node_lists_and_swarms_parse_and_skip_bad_entries() {
        let list = br#"{"nodes":[
            {"public_ip":"127.0.0.1","storage_port":22100,"pubkey_ed25519":"0101010101010101010101010101010101010101010101010101010101010101","pubkey_x25519":"0202020202020202020202020202020202020202020202020202020202020202","swarm_id":5},
            {"public_ip":"0.0.0.0","storage_port":1,"pubkey_ed25519":"01","pubkey_x25519":"02"},
            {"public_ip":"127.0.0.2","storage_port":"bad","pubkey_ed25519":"zz","pubkey_x25519":"02"}
        ]}"#;
        let nodes = parse_node_list(list).unwrap();
        assert_eq!(nodes.len(), 1);
        assert_eq!(nodes[0].swarm_id, Some(5));
        assert!(parse_node_list(b"[]").is_err());
        assert!(parse_node_list(b"garbage").is_err());
        let swarm = br#"{"snodes":[{"ip":"127.0.0.1","port_https":22101,"port":"22101","pubkey_ed25519":"0303030303030303030303030303030303030303030303030303030303030303","pubkey_x25519":"0404040404040404040404040404040404040404040404040404040404040404"}],"swarm":"ff"}"#;
        let members = parse_swarm(swarm).unwrap();
        assert_eq!((members[0].port, members[0].swarm_id), (22101, Some(255)));
        assert!(parse_swarm(br#"{"snodes":[],"swarm":"0"}"#).is_err());
    }

    #[test]
    fn polling_dedupes_and_remembers_last_hash_per_node() {
        let mut poll = PollState::default();
        assert!(poll.first_sight("a"));
        assert!(!poll.first_sight("a"));
        poll.set_last_hash(&[1; 32], 0, "h1");
        assert_eq!(poll.last_hash(&[1; 32], 0), Some("h1"));
        assert_eq!(poll.last_hash(&[2; 32], 0), None);
        for i in 0..SEEN_LIMIT + 5 {
            poll.first_sight(&i.to_string());
        }
        assert!(poll.first_sight("a"), "forgotten after the limit");
    }
}
