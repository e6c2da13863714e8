//! The client's view of the network, as state machines without I/O: the node pool, guards and
//! onion paths with strikes, swarm caches filled by `get_swarm`, the network-time offset, what
//! each failure means, and the poll's memory and back-off.
//!
//! The app performs every request; this module decides. One logical request is an
//! [`Exchange`]: the app asks [`Network::next_step`] what to do ([`Step`]: fetch the relay's node
//! list, or send one onion request through a given path to a given node), performs it, and hands
//! what happened to [`Network::report`] ([`Attempt`]), which applies strikes, drops nodes,
//! replaces swarms, records the node's time and says whether to go on ([`Report`]).
//!
//! - [`paths`](Path): guards (saved across unlocks, reused while still listed), 3-hop paths,
//!   strikes, dropping a path *and* its guard after [`STRIKE_LIMIT`];
//! - [`swarms`](Network::swarm): the cache of `get_swarm` answers, re-asked below
//!   [`MIN_SWARM_SIZE`] members, corrected by 421 replies;
//! - [`exchange`](Exchange): one request to a swarm or to any node, with the protocol's
//!   reactions to every failure (protocol-onion §1.7);
//! - [`poll`](PollState): `last_hash` per node, de-duplication by hash, and [`Backoff`];
//! - [`anchors`]: the relay's node list checked against the network, with trusted nodes as anchors.

pub mod anchors;
mod exchange;
mod paths;
mod poll;
mod swarms;
mod time;

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;

use serde_json::Value;

use crate::identity::SessionId;
use crate::onion::NodeKeys;
use crate::swarm;

pub use exchange::{
    Attempt, Exchange, Failure, MAX_SENDS, MAX_SWARM_ASKS, MAX_TIMEOUTS, Payload, Report, SLOW_FOR_MS, Send, Step,
};
pub use paths::Path;
pub use poll::{
    Backoff, HIDDEN_POLL_INTERVAL_MS, LAST_HASH_LIMIT, MAX_POLL_INTERVAL_MS, POLL_INTERVAL_MS, PollState, SEEN_LIMIT,
};
pub use time::{AGREE_MS, KEEP_ON_CLOCK_ERROR_MS, MAX_SKEW_MS, SAMPLE_MAX_AGE_MS};

/// Hops per path (guard + 2): `ONION_REQUEST_HOPS`.
pub const PATH_LENGTH: usize = 3;
/// Paths kept, one per guard: `desiredGuardCount`.
pub const PATH_COUNT: usize = 2;
/// Strikes before a path (with its guard) or a node is dropped: `pathFailureThreshold` and
/// `snodeFailureThreshold`.
pub const STRIKE_LIMIT: u8 = 3;
/// Fewer cached swarm members than this and the swarm is asked for again: `minSwarmSnodeCount`.
pub const MIN_SWARM_SIZE: usize = 3;
/// Fewer pool nodes than this and the node list is fetched again: `minSnodePoolCount`.
pub const MIN_POOL_SIZE: usize = 8;
/// The shortest time between two node-list fetches made because the pool is small.
pub const POOL_REFETCH_MS: u64 = 60_000;
/// Nodes whose last network-time sample is kept (see [`time`](Network::network_now)).
pub const TIME_SAMPLES: usize = 10;

/// The relay's own plain-text answers (as opposed to a guard's, which it passes on unchanged).
/// None of them says anything about a service node, so none of them earns a strike.
pub mod relay {
    /// 429: this client sends too fast; back off.
    pub const TOO_MANY_REQUESTS: &str = "Too many requests";
    /// 404: the relay does not know the guard; its node list is newer than ours.
    pub const UNKNOWN_NODE: &str = "Unknown service node";
    /// 413: the body is over 10 MiB.
    pub const TOO_LARGE: &str = "Request body too large";
    /// 502: the relay could not connect to the guard (the guard's fault, not the hops').
    pub const GUARD_UNREACHABLE: &str = "Service node unreachable";
}

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
    /// Swarm id, when the list gave one (informational: swarms come from `get_swarm`).
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
    /// Not enough usable nodes to build a path.
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
    .and_then(|p| u16::try_from(p).ok())
    .filter(|&p| p != 0)?;
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
    let mut seen = HashSet::new();
    let nodes: Vec<NodeRecord> = list
        .iter()
        .filter_map(|n| record(n, "ip", "port_https"))
        .filter(|n| seen.insert(n.ed25519))
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

/// The node pool, the guards and paths, the swarm caches and the network time.
#[derive(Clone, Debug, Default)]
pub struct Network {
    pool: Vec<NodeRecord>,
    paths: Vec<Path>,
    /// Guard keys in use or saved (from the vault), in order of preference.
    guards: Vec<[u8; 32]>,
    node_strikes: HashMap<[u8; 32], u8>,
    /// Destinations that left a request unanswered, and until when (local ms) they are passed
    /// over while another member of their swarm is left.
    slow: HashMap<[u8; 32], u64>,
    swarms: HashMap<SessionId, Vec<NodeRecord>>,
    time_samples: VecDeque<time::TimeSample>,
    pool_fetched_at: Option<u64>,
    revision: u64,
}

impl Network {
    /// A network with this node pool and no paths yet.
    pub fn new(pool: Vec<NodeRecord>) -> Network {
        let mut net = Network::default();
        net.set_pool(pool);
        net
    }

    /// Replaces the pool. Paths whose guard is no longer listed are dropped; a hop no longer
    /// listed leaves its path, which [`Network::build_paths`] repairs. Swarms (from `get_swarm`)
    /// and strikes are kept. An empty list changes nothing.
    pub fn set_pool(&mut self, pool: Vec<NodeRecord>) {
        if pool.is_empty() {
            return;
        }
        let mut seen = HashSet::new();
        self.pool = pool.into_iter().filter(|n| seen.insert(n.ed25519)).collect();
        let listed: HashSet<[u8; 32]> = self.pool.iter().map(|n| n.ed25519).collect();
        let before = self.paths.clone();
        self.paths.retain(|p| p.guard().is_some_and(|g| listed.contains(&g.ed25519)));
        for p in &mut self.paths {
            p.retain_hops(|h| listed.contains(&h.ed25519));
        }
        if self.paths != before {
            self.revision += 1;
        }
    }

    /// Forgets the pool, the paths, the swarms, the strikes and the time samples (another relay
    /// may front another network). The saved guards stay: they are reused if the new list has them.
    pub fn forget_network(&mut self) {
        let guards = std::mem::take(&mut self.guards);
        *self = Network { guards, revision: self.revision + 1, ..Network::default() };
    }

    /// The pool.
    pub fn pool(&self) -> &[NodeRecord] {
        &self.pool
    }

    /// Bumped whenever the paths or guards change (to refresh what is shown and saved).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Whether the pool is small enough to fetch the list again, and the last fetch long enough ago.
    pub fn pool_needs_fetch(&self, now_ms: u64) -> bool {
        self.pool.len() < MIN_POOL_SIZE
            && self.pool_fetched_at.is_none_or(|at| now_ms.saturating_sub(at) >= POOL_REFETCH_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_lists_and_swarms_parse_and_skip_bad_entries() {
        let list = br#"{"nodes":[
            {"public_ip":"127.0.0.1","storage_port":22100,"pubkey_ed25519":"0101010101010101010101010101010101010101010101010101010101010101","pubkey_x25519":"0202020202020202020202020202020202020202020202020202020202020202","swarm_id":5},
            {"public_ip":"0.0.0.0","storage_port":1,"pubkey_ed25519":"01","pubkey_x25519":"02"},
            {"public_ip":"127.0.0.2","storage_port":"bad","pubkey_ed25519":"zz","pubkey_x25519":"02"},
            {"public_ip":"127.0.0.3","storage_port":0,"pubkey_ed25519":"0101010101010101010101010101010101010101010101010101010101010101","pubkey_x25519":"0202020202020202020202020202020202020202020202020202020202020202"}
        ]}"#;
        let nodes = parse_node_list(list).unwrap();
        assert_eq!(nodes.len(), 1);
        assert_eq!(nodes[0].swarm_id, Some(5));
        assert!(parse_node_list(b"[]").is_err());
        assert!(parse_node_list(b"garbage").is_err());
        let swarm = br#"{"snodes":[{"ip":"127.0.0.1","port_https":22101,"port":"22101","pubkey_ed25519":"0303030303030303030303030303030303030303030303030303030303030303","pubkey_x25519":"0404040404040404040404040404040404040404040404040404040404040404"},
            {"ip":"127.0.0.1","port_https":22101,"pubkey_ed25519":"0303030303030303030303030303030303030303030303030303030303030303","pubkey_x25519":"0404040404040404040404040404040404040404040404040404040404040404"}],"swarm":"ff"}"#;
        let members = parse_swarm(swarm).unwrap();
        assert_eq!(members.len(), 1, "a member listed twice counts once");
        assert_eq!((members[0].port, members[0].swarm_id), (22101, Some(255)));
        assert!(parse_swarm(br#"{"snodes":[],"swarm":"0"}"#).is_err());
        assert!(parse_swarm(b"Service node is not ready").is_err());
    }

    #[test]
    fn an_empty_node_list_keeps_the_pool() {
        let pool: Vec<NodeRecord> = (1..=3)
            .map(|i| NodeRecord {
                ed25519: [i; 32],
                x25519: [i; 32],
                ip: format!("10.0.{i}.1"),
                port: 1,
                swarm_id: None,
            })
            .collect();
        let mut net = Network::new(pool);
        net.set_pool(Vec::new());
        assert_eq!(net.pool().len(), 3);
    }

    #[test]
    fn a_small_pool_is_fetched_again_at_most_once_a_minute() {
        let mut net = Network::default();
        assert!(net.pool_needs_fetch(0), "nothing fetched yet");
        net.pool_fetched_at = Some(1_000);
        assert!(!net.pool_needs_fetch(1_000 + POOL_REFETCH_MS - 1));
        assert!(net.pool_needs_fetch(1_000 + POOL_REFETCH_MS));
        let big: Vec<NodeRecord> = (1..=MIN_POOL_SIZE as u8)
            .map(|i| NodeRecord {
                ed25519: [i; 32],
                x25519: [i; 32],
                ip: format!("10.0.{i}.1"),
                port: 1,
                swarm_id: None,
            })
            .collect();
        net.set_pool(big);
        assert!(!net.pool_needs_fetch(u64::MAX), "a pool of {MIN_POOL_SIZE} is enough");
    }
}
