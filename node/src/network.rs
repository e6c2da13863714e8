//! The devnet's service nodes and how they find each other.
//!
//! All nodes of a devnet live in one process. Each serves real HTTPS on its own port; between
//! themselves they call each other directly (replicating a store to the swarm, passing an onion
//! request to the next hop), as real nodes do over their private node-to-node channel. A stopped
//! node is unreachable both ways.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

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

/// One service node: its keys, its messages and whether it is up.
pub struct Node {
    /// Public facts.
    pub info: NodeInfo,
    identity: Identity,
    store: Mutex<Store>,
    up: AtomicBool,
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
        Node { info, identity, store: Mutex::new(store), up: AtomicBool::new(true) }
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

    /// Marks the node up or down.
    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }
}

/// Every node of a devnet.
#[derive(Debug, Default)]
pub struct Network {
    nodes: Vec<Arc<Node>>,
}

impl Network {
    /// A network of these nodes.
    pub fn new(nodes: Vec<Arc<Node>>) -> Network {
        Network { nodes }
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
    /// every node, or with `active_only` only those serving (a stopped node is what the real
    /// network calls decommissioned), with the requested `fields`.
    pub fn service_node_states(&self, params: Option<&Value>) -> Vec<Value> {
        let fields = params.and_then(|p| p.get("fields")).and_then(Value::as_object);
        let active_only = params.and_then(|p| p.get("active_only")).and_then(Value::as_bool).unwrap_or(false);
        self.nodes
            .iter()
            .filter(|n| !active_only || n.is_up())
            .map(|n| n.info.service_node_state(fields, n.is_up()))
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
