//! The devnet's service nodes and how they find each other.
//!
//! All nodes of a devnet live in one process. Each serves real HTTPS on its own port; between
//! themselves they call each other directly (replicating a store to the swarm, passing an onion
//! request to the next hop), as real nodes do over their private node-to-node channel. A stopped
//! node is unreachable both ways. A node can also be killed while it stays listed, as a dead node
//! stays in the real network's list for a while: then whoever must reach it waits for it as a real
//! node does ([`Timeouts`]) before giving up.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context;
use crypto_core::identity::{Identity, SessionId};
use crypto_core::swarm;
use rand_core::{OsRng, RngCore};
use serde_json::{Value, json};

use crate::store::Store;

/// What the network knows about a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    /// IPv4 address it serves on.
    pub ip: String,
    /// HTTPS port.
    pub port: u16,
    /// Ed25519 public key.
    pub ed25519: [u8; 32],
    /// X25519 public key.
    pub x25519: [u8; 32],
    /// Swarm id.
    pub swarm_id: u64,
}

impl NodeInfo {
    /// The deprecated `address` of `get_swarm` records: the z-base-32 form of the node's legacy
    /// key and `.snode`, as the real server writes it. A devnet node's legacy key (its
    /// `service_node_pubkey`) is its Ed25519 key, as for every node registered on today's network.
    pub fn snode_address(&self) -> String {
        format!("{}.snode", base32::encode(base32::Alphabet::Z, &self.ed25519))
    }

    /// The record `get_swarm` and 421 replies list.
    pub fn swarm_entry(&self) -> Value {
        json!({
            "address": self.snode_address(),
            "pubkey_legacy": hex::encode(self.ed25519),
            "pubkey_x25519": hex::encode(self.x25519),
            "pubkey_ed25519": hex::encode(self.ed25519),
            "port": self.port.to_string(),
            "port_https": self.port,
            "port_omq": self.port,
            "port_quic": self.port,
            "ip": self.ip,
        })
    }

    /// The record the seed and `get_service_nodes` return, limited to the requested `fields`
    /// (all of them when `fields` is absent); `active` is whether the node is serving.
    pub fn service_node_state(&self, fields: Option<&serde_json::Map<String, Value>>, active: bool) -> Value {
        let all = json!({
            "public_ip": self.ip,
            "storage_port": self.port,
            "storage_https_port": self.port,
            "storage_lmq_port": self.port,
            "pubkey_x25519": hex::encode(self.x25519),
            "pubkey_ed25519": hex::encode(self.ed25519),
            "service_node_pubkey": hex::encode(self.ed25519),
            "swarm_id": self.swarm_id,
            "swarm": format!("{:x}", self.swarm_id),
            "requested_unlock_height": 0,
            "active": active,
            "funded": true,
            "storage_server_version": crate::VERSION,
        });
        match (fields, all) {
            (Some(fields), Value::Object(all)) => Value::Object(
                all.into_iter().filter(|(k, _)| fields.get(k).is_some_and(|v| v.as_bool() != Some(false))).collect(),
            ),
            (_, all) => all,
        }
    }
}

/// A node's clock, for tests of clients facing nodes whose time is wrong: by default the
/// machine's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NodeClock {
    /// The machine's clock.
    #[default]
    Right,
    /// Off by this many ms (positive: fast): the node reports it as `t` and judges request
    /// timestamps by it, as a real node with a wrong clock does.
    Off(i64),
    /// The machine's clock for judging requests, but every `t` (and `info`'s `timestamp`) it
    /// reports is this value: a node that lies.
    Reports(u64),
}

impl NodeClock {
    /// The time the node judges request timestamps by, when the machine's clock says `now`.
    pub fn judging(self, now: u64) -> u64 {
        match self {
            NodeClock::Off(ms) => now.saturating_add_signed(ms),
            NodeClock::Right | NodeClock::Reports(_) => now,
        }
    }

    /// The `t` the node reports, when the machine's clock says `now`.
    pub fn reported(self, now: u64) -> u64 {
        match self {
            NodeClock::Reports(t) => t,
            other => other.judging(now),
        }
    }
}

/// One service node: its keys, its messages and whether it is up.
pub struct Node {
    /// Public facts.
    pub info: NodeInfo,
    identity: Identity,
    store: Mutex<Store>,
    up: AtomicBool,
    /// Down, but still in the node list (the seed's and its peers'), as a dead node on the real
    /// network is until the network notices.
    listed_while_down: AtomicBool,
    clock: Mutex<NodeClock>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").field("info", &self.info).finish_non_exhaustive()
    }
}

impl Node {
    /// A node with the given Ed25519 seed and store.
    pub fn new(seed: &[u8; 32], ip: String, port: u16, swarm_id: u64, store: Store) -> Node {
        // The node's X25519 key is derived from its Ed25519 key the way accounts derive theirs.
        let identity = Identity::from_ed25519_seed(seed);
        let info =
            NodeInfo { ip, port, ed25519: *identity.ed25519_public(), x25519: *identity.x25519_public(), swarm_id };
        Node {
            info,
            identity,
            store: Mutex::new(store),
            up: AtomicBool::new(true),
            listed_while_down: AtomicBool::new(false),
            clock: Mutex::new(NodeClock::Right),
        }
    }

    /// The node's clock.
    pub fn clock(&self) -> NodeClock {
        *self.clock.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sets the node's clock (for tests: a node that is fast, slow, or lies about the time).
    pub fn set_clock(&self, clock: NodeClock) {
        *self.clock.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = clock;
    }

    /// The node's keys (for peeling onion layers).
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Signs with the node's Ed25519 key.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.identity.sign(msg)
    }

    /// The message store.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the node is serving.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::SeqCst)
    }

    /// Marks the node up, or down and no longer listed (as a decommissioned node).
    pub fn set_up(&self, up: bool) {
        self.listed_while_down.store(false, Ordering::SeqCst);
        self.up.store(up, Ordering::SeqCst);
    }

    /// Marks the node down while it stays listed: the seed still lists it as active, and its
    /// swarm peers and the onion hops before it still try to reach it and wait for it in vain.
    pub fn set_down_but_listed(&self) {
        self.listed_while_down.store(true, Ordering::SeqCst);
        self.up.store(false, Ordering::SeqCst);
    }

    /// Whether the network lists the node: it is up, or down but not yet noticed.
    pub fn is_listed(&self) -> bool {
        self.is_up() || self.listed_while_down.load(Ordering::SeqCst)
    }

    /// Whether the node is down but still listed, so that reaching it costs a timeout.
    pub fn is_down_but_listed(&self) -> bool {
        !self.is_up() && self.is_listed()
    }
}

/// How long a real node waits for another before giving up on it. Only a node that is down but
/// still listed makes anyone wait; a stopped node is known to be gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// How long an onion hop waits for the next hop: the storage server's request timeout for
    /// `sn.onion_request` (30 s), after which it answers 504 `Request time out`.
    pub hop: Duration,
    /// How long the node that takes a recursive request (a `store`, a delete, an expiry) waits for
    /// each swarm peer it forwards it to, all in parallel (5 s), before replying with the peers
    /// that did not answer as `{"failed": true, "timeout": true}`.
    pub peer: Duration,
}

impl Default for Timeouts {
    /// The real storage server's: 30 s for the next onion hop, 5 s for a swarm peer.
    fn default() -> Timeouts {
        Timeouts { hop: Duration::from_secs(30), peer: Duration::from_secs(5) }
    }
}

/// Every node of a devnet.
#[derive(Debug, Default)]
pub struct Network {
    nodes: Vec<Arc<Node>>,
    timeouts: Timeouts,
}

impl Network {
    /// A network of these nodes, waiting for each other as long as the real network's do.
    pub fn new(nodes: Vec<Arc<Node>>) -> Network {
        Network { nodes, timeouts: Timeouts::default() }
    }

    /// The same network with other timeouts (shorter ones, for tests).
    pub fn with_timeouts(self, timeouts: Timeouts) -> Network {
        Network { timeouts, ..self }
    }

    /// How long nodes wait for each other.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// All nodes.
    pub fn nodes(&self) -> &[Arc<Node>] {
        &self.nodes
    }

    /// The node with this Ed25519 key.
    pub fn by_ed25519(&self, key: &[u8; 32]) -> Option<&Arc<Node>> {
        self.nodes.iter().find(|n| &n.info.ed25519 == key)
    }

    /// The distinct swarm ids.
    pub fn swarm_ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.nodes.iter().map(|n| n.info.swarm_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The swarm responsible for `pubkey`.
    pub fn swarm_of(&self, pubkey: &SessionId) -> Option<u64> {
        swarm::swarm_for(pubkey, &self.swarm_ids())
    }

    /// The swarm responsible for any 33-byte storage pubkey, whatever its network byte.
    pub fn swarm_for(&self, pubkey: &[u8; 33]) -> Option<u64> {
        swarm::swarm_for_bytes(pubkey, &self.swarm_ids())
    }

    /// The `service_node_states` of an oxend `get_n_service_nodes` / `get_service_nodes` answer:
    /// every node, or with `active_only` only the listed ones (a stopped node is what the real
    /// network calls decommissioned; a node that is down but still listed is, like a node that has
    /// just died, still active), with the requested `fields`.
    pub fn service_node_states(&self, params: Option<&Value>) -> Vec<Value> {
        let fields = params.and_then(|p| p.get("fields")).and_then(Value::as_object);
        let active_only = params.and_then(|p| p.get("active_only")).and_then(Value::as_bool).unwrap_or(false);
        self.nodes
            .iter()
            .filter(|n| !active_only || n.is_listed())
            .map(|n| n.info.service_node_state(fields, n.is_listed()))
            .collect()
    }

    /// Brings `node` up to date with the live members of its swarm, as a real node resyncs from
    /// its swarm when it starts: every message a live peer holds (all namespaces, not yet expired
    /// at `now`) that `node` lacks is added with the peer's hash, data, timestamp and expiry.
    /// Messages it already has are left as they are, so nothing is ever duplicated. Returns how
    /// many messages were added.
    pub fn catch_up(&self, node: &Node, now: u64) -> rusqlite::Result<usize> {
        let mut added = 0;
        for peer in self.members(node.info.swarm_id) {
            if peer.info.ed25519 == node.info.ed25519 || !peer.is_up() {
                continue;
            }
            let mut after = 0;
            loop {
                let page = peer.store().messages_after(after, CATCH_UP_PAGE, now)?;
                let Some(last) = page.last() else { break };
                after = last.id;
                added += node.store().insert_missing(&page)?;
            }
        }
        Ok(added)
    }

    /// The members of a swarm.
    pub fn members(&self, swarm_id: u64) -> impl Iterator<Item = &Arc<Node>> {
        self.nodes.iter().filter(move |n| n.info.swarm_id == swarm_id)
    }

    /// `{"snodes": [...], "swarm": "<hex>"}` for a swarm.
    pub fn swarm_json(&self, swarm_id: u64) -> Value {
        let snodes: Vec<Value> = self.members(swarm_id).map(|n| n.info.swarm_entry()).collect();
        json!({ "snodes": snodes, "swarm": format!("{swarm_id:x}") })
    }
}

/// Messages copied per step of a catch-up (each step holds one store's lock).
const CATCH_UP_PAGE: usize = 500;

/// Loads the node's 32-byte Ed25519 seed from `path`, creating it on first start.
pub fn load_or_create_seed(path: &Path) -> anyhow::Result<[u8; 32]> {
    if let Ok(bytes) = std::fs::read(path) {
        return bytes.try_into().map_err(|_| anyhow::anyhow!("{} is not a 32-byte key", path.display()));
    }
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    std::fs::write(path, seed).with_context(|| format!("writing {}", path.display()))?;
    Ok(seed)
}

/// Swarm ids for `count` swarms, spread evenly over the u64 space.
pub fn swarm_ids(count: usize) -> Vec<u64> {
    let count = count.max(1) as u64;
    let step = u64::MAX / count;
    (0..count).map(|i| i * step + step / 2).collect()
}
