//! The network client: every storage request onion-routed through a 3-hop path and the relay.
//! Decisions (paths, strikes, swarms, time) come from `crypto_core::network`; bytes go out through
//! `crate::net`.

use std::cell::RefCell;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_core::identity::{Identity, SessionId};
use crypto_core::network::{Network, NodeRecord, PollState, parse_swarm};
use crypto_core::onion::{self, Destination, EncType, PathFailure};
use crypto_core::storage::{Namespace, requests};
use rand_core::{OsRng, RngCore};
use serde_json::Value;

use crate::net::{self, NetError};

/// Why a request failed after retries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// The relay could not be reached or gave no usable node list.
    Net(NetError),
    /// No path could be built.
    NoPath(String),
    /// The destination answered with an error.
    Rejected { status: u16, body: String },
    /// The clock is too far off the network's.
    Clock,
    /// Every member of the swarm failed.
    Unreachable,
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Net(e) => e.fmt(f),
            ClientError::NoPath(e) => write!(f, "no onion path: {e}"),
            ClientError::Rejected { status, body } => write!(f, "the service node refused ({status}): {body}"),
            ClientError::Clock => f.write_str("this device's clock is too far off the network's"),
            ClientError::Unreachable => f.write_str("no node of the swarm could be reached"),
        }
    }
}

impl std::error::Error for ClientError {}

/// A retrieved message.
#[derive(Clone, Debug)]
pub struct Stored {
    /// Its storage hash.
    pub hash: String,
    /// The base64 `data`.
    pub data: String,
}

/// The client: node pool, paths, swarms, network time, polling state.
#[derive(Debug, Default)]
pub struct Client {
    relay: String,
    network: RefCell<Network>,
    poll: RefCell<PollState>,
    /// Onion requests sent (for the idle-rate figure).
    pub requests: std::cell::Cell<u64>,
}

fn local_now() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now() as u64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}

impl Client {
    /// A client using the relay at `relay` (empty: the page's origin).
    pub fn new(relay: &str) -> Client {
        Client { relay: relay.to_owned(), ..Client::default() }
    }

    /// The current paths, for Settings: (guard, hops) as hex keys and addresses.
    pub fn paths(&self) -> Vec<Vec<(String, String)>> {
        self.network
            .borrow()
            .paths()
            .iter()
            .map(|p| p.hops.iter().map(|h| (hex::encode(h.ed25519), format!("{}:{}", h.ip, h.port))).collect())
            .collect()
    }

    /// Network time now.
    pub fn now(&self) -> u64 {
        self.network.borrow().network_now(local_now())
    }

    async fn ensure_paths(&self) -> Result<(), ClientError> {
        if self.network.borrow().paths().len() >= crypto_core::network::PATH_COUNT {
            return Ok(());
        }
        if self.network.borrow_mut().build_paths(&mut OsRng).is_ok() {
            return Ok(());
        }
        let pool = net::nodes(&self.relay).await.map_err(ClientError::Net)?;
        let mut network = self.network.borrow_mut();
        network.set_pool(pool);
        network.build_paths(&mut OsRng).map_err(|e| ClientError::NoPath(e.to_string()))
    }

    /// Sends one storage RPC to `dest` through a path avoiding it. Path failures get strikes and
    /// a retry on another path; the destination's own answer is returned as it is.
    pub async fn rpc(&self, dest: &NodeRecord, request: &Value) -> Result<onion::NodeReply, ClientError> {
        let body = request.to_string();
        let mut last = ClientError::Unreachable;
        for _ in 0..4 {
            self.ensure_paths().await?;
            let (index, keys, guard) = {
                let network = self.network.borrow();
                let Some((index, path)) = network.path_avoiding(&mut OsRng, &dest.ed25519) else {
                    return Err(ClientError::NoPath("every path contains the destination".into()));
                };
                (index, path.keys(), path.guard().map(|g| g.ed25519).unwrap_or_default())
            };
            let onion =
                onion::build(&mut OsRng, &keys, &Destination::Node(dest.keys()), body.as_bytes(), EncType::XChaCha20)
                    .map_err(|e| ClientError::NoPath(e.to_string()))?;
            self.requests.set(self.requests.get() + 1);
            match net::onion(&self.relay, &guard, onion.body).await {
                Err(e) => {
                    self.network.borrow_mut().strike_path(index);
                    last = ClientError::Net(e);
                }
                Ok((200, bytes)) => match onion::unwrap_node_reply(&onion.reply_key, &bytes) {
                    Ok(reply) => {
                        let mut network = self.network.borrow_mut();
                        network.path_succeeded(index);
                        if let Some(t) = serde_json::from_slice::<Value>(&reply.body).ok().and_then(|v| v["t"].as_u64())
                        {
                            network.record_time(local_now(), t);
                        }
                        return Ok(reply);
                    }
                    Err(_) => {
                        self.network.borrow_mut().strike_path(index);
                        last = ClientError::Unreachable;
                    }
                },
                // The relay could not reach the guard at all: that guard is gone.
                Ok((502, bytes)) if bytes.as_slice() == b"Service node unreachable" => {
                    self.network.borrow_mut().drop_node(&guard);
                    last = ClientError::Unreachable;
                }
                Ok((status, bytes)) => match onion::classify_path_failure(status, &bytes) {
                    PathFailure::NextNodeNotFound(key) => {
                        self.network.borrow_mut().drop_node(&key);
                        if key == dest.ed25519 {
                            return Err(ClientError::Unreachable);
                        }
                    }
                    PathFailure::ClockOutOfSync => return Err(ClientError::Clock),
                    _ => {
                        self.network.borrow_mut().strike_path(index);
                        last = ClientError::Rejected { status, body: String::from_utf8_lossy(&bytes).into_owned() };
                    }
                },
            }
        }
        Err(last)
    }

    /// Runs `request` against `owner`'s swarm: members in random order, following a 421 to the
    /// right swarm once. Returns the first 2xx reply's JSON.
    async fn on_swarm(&self, owner: &SessionId, request: &Value) -> Result<Value, ClientError> {
        let mut followed_421 = false;
        let mut members = self.network.borrow().swarm(owner);
        if members.is_empty() {
            self.ensure_paths().await?;
            members = self.network.borrow().swarm(owner);
        }
        let start = (OsRng.next_u32() as usize) % members.len().max(1);
        members.rotate_left(start);
        let mut last = ClientError::Unreachable;
        let mut i = 0;
        while let Some(dest) = members.get(i).cloned() {
            i += 1;
            match self.rpc(&dest, request).await {
                Ok(reply) if (200..300).contains(&reply.status) => {
                    return serde_json::from_slice(&reply.body)
                        .map_err(|_| ClientError::Rejected { status: reply.status, body: "unreadable reply".into() });
                }
                Ok(reply) if reply.status == 421 && !followed_421 => {
                    followed_421 = true;
                    if let Ok(swarm) = parse_swarm(&reply.body) {
                        self.network.borrow_mut().set_swarm(*owner, swarm.clone());
                        members = swarm;
                        i = 0;
                    }
                }
                Ok(reply) if reply.status == 406 => return Err(ClientError::Clock),
                Ok(reply) if (400..500).contains(&reply.status) && reply.status != 421 => {
                    return Err(ClientError::Rejected {
                        status: reply.status,
                        body: String::from_utf8_lossy(&reply.body).into_owned(),
                    });
                }
                Ok(reply) => {
                    self.network.borrow_mut().strike_node(&dest.ed25519);
                    last = ClientError::Rejected {
                        status: reply.status,
                        body: String::from_utf8_lossy(&reply.body).into_owned(),
                    };
                }
                Err(ClientError::Clock) => return Err(ClientError::Clock),
                Err(e) => {
                    self.network.borrow_mut().strike_node(&dest.ed25519);
                    last = e;
                }
            }
        }
        Err(last)
    }

    /// Stores `data` (base64) for `recipient` in namespace 0 with the 14-day TTL.
    pub async fn store(&self, recipient: &SessionId, data: &str, timestamp: u64) -> Result<String, ClientError> {
        let request =
            requests::store(recipient, Namespace::DEFAULT, data, timestamp, crypto_core::message::DEFAULT_TTL_MS, None);
        let reply = self.on_swarm(recipient, &request).await?;
        Ok(reply["hash"].as_str().unwrap_or_default().to_owned())
    }

    /// New messages of `owner` in namespace 0 from one member of its swarm, de-duplicated.
    pub async fn poll(&self, owner: &Identity) -> Result<Vec<Stored>, ClientError> {
        let id = owner.session_id();
        let mut members = self.network.borrow().swarm(&id);
        if members.is_empty() {
            self.ensure_paths().await?;
            members = self.network.borrow().swarm(&id);
        }
        let dest =
            members.get((OsRng.next_u32() as usize) % members.len().max(1)).cloned().ok_or(ClientError::Unreachable)?;
        let mut out = Vec::new();
        loop {
            let last_hash = self.poll.borrow().last_hash(&dest.ed25519, 0).map(str::to_owned);
            let request = requests::retrieve(owner, Namespace::DEFAULT, self.now(), last_hash.as_deref());
            let reply = self.rpc(&dest, &request).await?;
            if reply.status == 421 {
                if let Ok(swarm) = parse_swarm(&reply.body) {
                    self.network.borrow_mut().set_swarm(id, swarm);
                }
                return Ok(out);
            }
            if !(200..300).contains(&reply.status) {
                self.network.borrow_mut().strike_node(&dest.ed25519);
                return Err(ClientError::Rejected {
                    status: reply.status,
                    body: String::from_utf8_lossy(&reply.body).into_owned(),
                });
            }
            let body: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
            let messages = body["messages"].as_array().cloned().unwrap_or_default();
            let mut poll = self.poll.borrow_mut();
            for m in &messages {
                let (Some(hash), Some(data)) = (m["hash"].as_str(), m["data"].as_str()) else { continue };
                poll.set_last_hash(&dest.ed25519, 0, hash);
                if poll.first_sight(hash) && STANDARD.decode(data).is_ok() {
                    out.push(Stored { hash: hash.to_owned(), data: data.to_owned() });
                }
            }
            drop(poll);
            if body["more"] != Value::Bool(true) || messages.is_empty() {
                return Ok(out);
            }
        }
    }

    /// Marks hashes as already handled (restored from the vault after a reload).
    pub fn remember(&self, hashes: impl IntoIterator<Item = String>) {
        let mut poll = self.poll.borrow_mut();
        for h in hashes {
            poll.first_sight(&h);
        }
    }
}
