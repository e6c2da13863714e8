//! The network client: every request onion-routed through a 3-hop path and the relay.
//!
//! `crypto_core::network` decides everything — which path, which node, what a failure means,
//! when the swarm must be asked for again — and this module performs its steps through
//! [`crate::relay`] (each request with a deadline), keeps what must survive a reload (guards and
//! `last_hash` per node) in the vault, and publishes a small [`NetStatus`] for the front ends.
//!
//! The relay sees the guard's key and onion bytes; the account's Session ID travels only inside
//! the onion (in `get_swarm`, `store` and `retrieve`), readable by the destination node alone.
//!
//! The relay's node list is never used as it comes: before any request uses it (at the first
//! request and at every later fetch of the list) it is checked against the network itself
//! (`crypto_core::network::anchors`): a few trusted nodes, the anchors, are asked through onion
//! paths for the network's list, and the pool becomes the relay's nodes that the network
//! confirms. A relay whose list the network does not confirm is refused: nothing is sent through
//! it, and the status says so ([`Connection::RelayRefused`]). The verdict is kept in memory for
//! the session, for the same list from the same relay ([`CONFIRMED_FOR`], [`REFUSED_FOR`], [`UNCONFIRMED_FOR`]).

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::fmt;
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_core::identity::{Identity, SessionId};
use crypto_core::network::anchors::{self, Anchor, Anchors, Refusal};
use crypto_core::network::relay::GUARD_UNREACHABLE;
use crypto_core::network::{
    Attempt, Exchange, Failure, Network, NodeRecord, Payload, PollState, Report, Step, parse_node_list,
};
use crypto_core::onion::{self, Destination, EncType, LayerKey, NodeReply, ServerTarget, v4};
use crypto_core::storage::rpc::{
    Affected, BatchReply, BatchResult, DeleteReply, ExpireReply, Request, RetrieveReply, StoreReply,
};
use crypto_core::storage::{Namespace, requests};
use futures::future::{Either, select};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::attachments::FileServer;
use crate::platform::{Clock, Platform, Progress, TransportError, World};
use crate::relay::{self, NetError, RelayUrlError};
use crate::storage::{Backend, StorageError, Vault, stores};

/// Why a request failed: what the network client concluded (see `crypto_core::network`).
pub type ClientError = Failure;

/// The vault record (in the account store) with the guards and the `last_hash` per node.
pub const NETWORK_STATE_ID: &[u8] = b"network-state";
/// Pages of `retrieve` one poll follows (`more: true`).
const MAX_PAGES: usize = 20;
/// The destination an exchange last sent the caller's request to.
type Tracked = Cell<Option<[u8; 32]>>;

/// What an exchange carries to its destination and how it opens the answer: a storage RPC for a
/// node, or a v4 request for a server.
trait Ask {
    /// The opened answer.
    type Answer;
    /// The request for this destination, and where the onion ends.
    fn request(&self, destination: &NodeRecord) -> (Destination, std::borrow::Cow<'_, [u8]>);
    /// The deadline of one attempt.
    fn deadline(&self) -> Duration;
    /// Opens the 200 body of an attempt.
    fn open(&self, key: &LayerKey, body: &[u8]) -> Option<Self::Answer>;
    /// The status and body of an answer, which the exchange judges.
    fn judged(answer: &Self::Answer) -> (u16, &[u8]);
    /// Where to tell how much of the request went out, if anywhere.
    fn progress(&self) -> Option<Progress<'_>> {
        None
    }
}

/// A storage RPC, built for the node it is sent to.
struct NodeAsk<'a>(&'a dyn Fn(&NodeRecord) -> Value);

impl Ask for NodeAsk<'_> {
    type Answer = NodeReply;

    fn request(&self, destination: &NodeRecord) -> (Destination, std::borrow::Cow<'_, [u8]>) {
        (Destination::Node(destination.keys()), (self.0)(destination).to_string().into_bytes().into())
    }

    fn deadline(&self) -> Duration {
        relay::ONION_DEADLINE
    }

    fn open(&self, key: &LayerKey, body: &[u8]) -> Option<NodeReply> {
        onion::unwrap_node_reply(key, body).ok()
    }

    fn judged(reply: &NodeReply) -> (u16, &[u8]) {
        (reply.status, &reply.body)
    }
}

/// A v4 request for a server behind the path's last hop.
struct ServerAsk<'a> {
    target: &'a ServerTarget,
    request: &'a [u8],
    deadline: Duration,
    progress: Option<Progress<'a>>,
}

impl Ask for ServerAsk<'_> {
    type Answer = v4::Response;

    fn request(&self, _: &NodeRecord) -> (Destination, std::borrow::Cow<'_, [u8]>) {
        // Borrowed: a file's upload is copied once, into the onion.
        (Destination::Server(self.target.clone()), self.request.into())
    }

    fn deadline(&self) -> Duration {
        self.deadline
    }

    fn open(&self, key: &LayerKey, body: &[u8]) -> Option<v4::Response> {
        onion::unwrap_server_reply(key, body).ok()
    }

    fn judged(response: &v4::Response) -> (u16, &[u8]) {
        (response.code, &response.body)
    }

    fn progress(&self) -> Option<Progress<'_>> {
        self.progress
    }
}

/// How long a request to a swarm member may go unanswered before the same request goes to another
/// member beside it (see [`Client::hedged`]). Above what a healthy member takes through a path.
pub const HEDGE_AFTER: Duration = Duration::from_secs(2);

/// How long a node list the network confirmed is taken again, unchanged from the same relay,
/// without asking the anchors: the relay's list changes when its own refresh brings changes, and
/// a list that stays the same for longer than this is checked again against the network's.
pub const CONFIRMED_FOR: Duration = Duration::from_secs(60 * 60);
/// How long a refused node list stays refused, unchanged from the same relay, before the anchors
/// are asked again (an anchor that was down may answer by then). Choosing the relay again in
/// Settings asks at once.
pub const REFUSED_FOR: Duration = Duration::from_secs(10 * 60);
/// How long a list stays refused when too few anchors answered ([`Refusal::Unconfirmed`]): that
/// is what a relay that keeps the anchors out looks like, and also a network with many nodes down
/// since the relay's last refresh, which heals. Asked again after a minute, such a relay costs a
/// few onion requests a minute.
pub const UNCONFIRMED_FOR: Duration = Duration::from_secs(60);

/// Paths one anchor is asked through before it counts as not answering (each failed path is
/// replaced by a new one, see [`Client::ask_anchor`]).
const ANCHOR_ATTEMPTS: usize = 3;

/// What the check concluded about one node list of one relay.
#[derive(Clone, Debug)]
struct Verdict {
    relay: String,
    /// The list as the relay gave it, sorted.
    listed: Vec<NodeRecord>,
    /// When (local ms).
    at: u64,
    /// The pool to use, or why the relay is refused.
    outcome: Result<Vec<NodeRecord>, Refusal>,
}

impl Verdict {
    fn holds(&self, relay: &str, listed: &[NodeRecord], now_ms: u64) -> bool {
        let lasts = match self.outcome {
            Ok(_) => CONFIRMED_FOR,
            Err(Refusal::Unconfirmed { .. }) => UNCONFIRMED_FOR,
            Err(_) => REFUSED_FOR,
        };
        self.relay == relay && self.listed == listed && u128::from(now_ms.saturating_sub(self.at)) < lasts.as_millis()
    }
}

/// What one anchor said, asked through the relay.
enum AnchorAnswer {
    /// Its node list (records whose keys match).
    Nodes(Vec<NodeRecord>),
    /// It could not be reached, or did not answer with a list.
    Failed,
    /// Every path tried left the request unanswered within its deadline (a relay that stalls
    /// looks like this).
    TimedOut,
    /// The relay could not be reached.
    Offline,
    /// The relay asked to slow down.
    RateLimited,
}

/// `list` sorted, so two fetches of the same list compare equal.
fn sorted(mut list: Vec<NodeRecord>) -> Vec<NodeRecord> {
    list.sort_by(|a, b| (a.ed25519, a.x25519, &a.ip, a.port).cmp(&(b.ed25519, b.x25519, &b.ip, b.port)));
    list
}

/// `items` in a random order.
fn shuffled<T>(mut items: Vec<T>) -> Vec<T> {
    for i in (1..items.len()).rev() {
        let j = usize::try_from(OsRng.next_u64() % (i as u64 + 1)).unwrap_or(0);
        items.swap(i, j);
    }
    items
}

/// A retrieved message.
#[derive(Clone, Debug)]
pub struct Stored {
    /// Its storage hash.
    pub hash: String,
    /// The base64 `data`.
    pub data: String,
}

/// How the client is doing, for the header and Settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    /// No request has been answered yet, or the last one failed for a reason other than below.
    Connecting,
    /// The last request was answered.
    Connected,
    /// The relay could not be reached.
    Offline,
    /// The nodes refused this device's clock (406/425).
    ClockOutOfSync,
    /// The relay's node list is not the network's: nothing is sent through this relay.
    RelayRefused,
}

impl Connection {
    /// A short label.
    pub fn label(self) -> &'static str {
        match self {
            Connection::Connecting => "Connecting…",
            Connection::Connected => "Connected",
            Connection::Offline => "Offline",
            Connection::ClockOutOfSync => "Clock out of sync",
            Connection::RelayRefused => "Relay refused",
        }
    }
}

/// One hop of a path, for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    /// The node's Ed25519 key, hex.
    pub ed25519: String,
    /// `ip:port`.
    pub address: String,
    /// Whether it is the path's guard (the first hop; the only node that sees this device's address).
    pub guard: bool,
}

/// The client's state as the UI shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetStatus {
    /// Connected, connecting, offline or clock out of sync.
    pub connection: Connection,
    /// What went wrong last (`None` while connected), for a front end to word; [`NetStatus::problem`]
    /// is it in English.
    pub failure: Option<Failure>,
    /// The current paths, each guard first.
    pub paths: Vec<Vec<Hop>>,
    /// The relay in use (empty: this site's own).
    pub relay: String,
}

impl NetStatus {
    /// What went wrong last, in English words, as the command line shows it: the relay's refusal
    /// as a sentence, anything else as a clause.
    pub fn problem(&self) -> Option<String> {
        self.failure.as_ref().map(|f| match f {
            Failure::NodeListRefused(r) => crate::Error::RelayRefused(*r).to_string(),
            other => other.to_string(),
        })
    }

    fn new(relay: &str) -> NetStatus {
        NetStatus { connection: Connection::Connecting, failure: None, paths: Vec::new(), relay: relay.to_owned() }
    }
}

/// What the vault keeps for the client between unlocks.
#[derive(Serialize, Deserialize, Default)]
struct Saved {
    #[serde(default)]
    guards: Vec<String>,
    /// (node Ed25519 hex, namespace, last hash).
    #[serde(default)]
    last_hashes: Vec<(String, i16, String)>,
}

/// Told of every change of the status.
type StatusListener = Box<dyn Fn(&NetStatus)>;

/// The client: node pool, guards and paths, swarms, network time, polling state, status.
pub struct Client<P: Platform> {
    world: Rc<World<P>>,
    relay: RefCell<String>,
    network: RefCell<Network>,
    poll: RefCell<PollState>,
    status: RefCell<NetStatus>,
    /// Told of every change of the status.
    on_status: RefCell<Option<StatusListener>>,
    shown_revision: Cell<u64>,
    saved_guards: RefCell<Vec<[u8; 32]>>,
    /// The `last_hash` entries as the vault holds them (what `persist_guards` writes back).
    saved_last_hashes: RefCell<Vec<(String, i16, String)>>,
    /// One write of the network state at a time, so an older snapshot never lands last.
    saving: futures::lock::Mutex<()>,
    /// Called when the guards differ from the saved ones after an exchange (the session saves
    /// them at once, so a reload keeps the guards a person has been using).
    on_new_guards: RefCell<Option<Box<dyn Fn()>>>,
    /// Onion requests sent (for the idle-rate figure).
    pub requests: Cell<u64>,
    /// The trusted nodes the relay's node list is checked against (none: every list is refused).
    anchors: RefCell<Option<Rc<Anchors>>>,
    /// The last check's verdict.
    verdict: RefCell<Option<Verdict>>,
    /// One check at a time: a second request that needs the list waits for the first's verdict.
    checking: futures::lock::Mutex<()>,
    /// Where this account's files are uploaded.
    file_server: RefCell<FileServer>,
}

impl<P: Platform> fmt::Debug for Client<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("relay", &self.relay.borrow()).finish_non_exhaustive()
    }
}

fn hop_views(network: &Network) -> Vec<Vec<Hop>> {
    network
        .paths()
        .iter()
        .filter(|p| p.is_complete())
        .map(|p| {
            p.hops()
                .iter()
                .enumerate()
                .map(|(i, h)| Hop {
                    ed25519: hex::encode(h.ed25519),
                    address: format!("{}:{}", h.ip, h.port),
                    guard: i == 0,
                })
                .collect()
        })
        .collect()
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

impl<P: Platform> Client<P> {
    /// A client using the relay at `relay` (empty: the page's origin).
    pub fn new(world: Rc<World<P>>, relay: &str) -> Client<P> {
        Client {
            world,
            relay: RefCell::new(relay.trim().trim_end_matches('/').to_owned()),
            network: RefCell::default(),
            poll: RefCell::default(),
            status: RefCell::new(NetStatus::new(relay)),
            on_status: RefCell::default(),
            shown_revision: Cell::new(0),
            saved_guards: RefCell::default(),
            saved_last_hashes: RefCell::default(),
            saving: Default::default(),
            on_new_guards: RefCell::default(),
            requests: Cell::new(0),
            anchors: RefCell::default(),
            verdict: RefCell::default(),
            checking: Default::default(),
            file_server: RefCell::default(),
        }
    }

    /// Where files are uploaded (Session's file server unless told otherwise).
    pub fn file_server(&self) -> FileServer {
        self.file_server.borrow().clone()
    }

    /// Uploads files to `server` from now on.
    pub fn set_file_server(&self, server: FileServer) {
        *self.file_server.borrow_mut() = server;
    }

    /// The trusted nodes to check the relay's node list against. Until they are given, every
    /// relay is refused.
    pub fn set_anchors(&self, anchors: Rc<Anchors>) {
        *self.anchors.borrow_mut() = Some(anchors);
        *self.verdict.borrow_mut() = None;
    }

    /// The relay in use (empty: this site's own).
    pub fn relay(&self) -> String {
        self.relay.borrow().clone()
    }

    /// Switches to another relay (checked first; empty means this site's own). The node list,
    /// paths and swarms are fetched again through it; saved guards are kept if it lists them.
    /// Returns the URL as it will be used (save that in the account).
    pub fn set_relay(&self, url: &str) -> Result<String, RelayUrlError> {
        let url = relay::relay_base(url, self.world.secure_page)?;
        // Choosing a relay (again) asks the network anew.
        *self.verdict.borrow_mut() = None;
        if *self.relay.borrow() != url {
            *self.relay.borrow_mut() = url.clone();
            self.network.borrow_mut().forget_network();
            let paths = hop_views(&self.network.borrow());
            self.publish(NetStatus { paths, ..NetStatus::new(&url) });
        }
        Ok(url)
    }

    /// Calls `notify` with the status whenever it changes: connection, last problem, paths
    /// (guard marked), relay.
    pub fn on_status(&self, notify: impl Fn(&NetStatus) + 'static) {
        *self.on_status.borrow_mut() = Some(Box::new(notify));
    }

    /// The status now.
    pub fn status_now(&self) -> NetStatus {
        self.status.borrow().clone()
    }

    fn publish(&self, status: NetStatus) {
        *self.status.borrow_mut() = status.clone();
        if let Some(notify) = self.on_status.borrow().as_ref() {
            notify(&status);
        }
    }

    /// The current paths, for Settings: (key hex, address) per hop, the guard first.
    pub fn paths(&self) -> Vec<Vec<(String, String)>> {
        hop_views(&self.network.borrow())
            .into_iter()
            .map(|p| p.into_iter().map(|h| (h.ed25519, h.address)).collect())
            .collect()
    }

    /// Network time now.
    pub fn now(&self) -> u64 {
        self.network.borrow().network_now(self.world.clock.now_ms())
    }

    fn set_status(&self, connection: Connection, failure: Option<Failure>) {
        let revision = self.network.borrow().revision();
        let changed_paths = self.shown_revision.replace(revision) != revision;
        let paths = if changed_paths { Some(hop_views(&self.network.borrow())) } else { None };
        let relay = self.relay();
        let current = self.status_now();
        let differs = current.connection != connection
            || current.failure != failure
            || current.relay != relay
            || paths.as_ref().is_some_and(|p| *p != current.paths);
        if differs {
            let paths = paths.unwrap_or(current.paths);
            self.publish(NetStatus { connection, failure, paths, relay });
        }
    }

    fn show_outcome(&self, result: Result<(), &ClientError>) {
        match result {
            // A refusal is an answer: the network is reachable.
            Ok(_) | Err(Failure::Rejected { .. }) => self.set_status(Connection::Connected, None),
            Err(Failure::Offline) => self.set_status(Connection::Offline, Some(Failure::Offline)),
            Err(Failure::ClockOutOfSync) => self.set_status(Connection::ClockOutOfSync, Some(Failure::ClockOutOfSync)),
            Err(e @ Failure::NodeListRefused(_)) => self.set_status(Connection::RelayRefused, Some(e.clone())),
            Err(e) => self.set_status(Connection::Connecting, Some(e.clone())),
        }
    }

    /// Runs an exchange for a swarm member, and a second one beside it, to another member, when
    /// the first has not answered within [`HEDGE_AFTER`]: the first answer wins and the other is
    /// abandoned. So a member that is dead but still listed costs a send or a poll that much, not
    /// a whole deadline, even before it is known to be slow.
    async fn hedged(
        &self,
        make: impl Fn() -> Exchange,
        request: &dyn Fn(&NodeRecord) -> Value,
    ) -> Result<(NodeReply, NodeRecord), ClientError> {
        let (chosen, unused) = (Cell::new(None), Cell::new(None));
        let mut first = pin!(self.exchange_tracked(make(), request, &chosen));
        let timer = pin!(self.world.clock.sleep(HEDGE_AFTER));
        if let Either::Left((result, _)) = select(first.as_mut(), timer).await {
            return result;
        }
        let second = pin!(self.exchange_tracked(make().avoid(chosen.get()), request, &unused));
        match select(first, second).await {
            Either::Left((Ok(answer), _)) | Either::Right((Ok(answer), _)) => Ok(answer),
            Either::Left((Err(e), other)) | Either::Right((Err(e), other)) => other.await.map_err(|_| e),
        }
    }

    /// Runs one exchange to its end: the state machine's steps, performed. `request` builds the
    /// caller's RPC for the destination it is sent to.
    async fn exchange(
        &self,
        ex: Exchange,
        request: &dyn Fn(&NodeRecord) -> Value,
    ) -> Result<(NodeReply, NodeRecord), ClientError> {
        self.exchange_tracked(ex, request, &Cell::new(None)).await
    }

    /// [`Client::exchange`], keeping `chosen` told of the destination of the caller's request.
    async fn exchange_tracked(
        &self,
        ex: Exchange,
        request: &dyn Fn(&NodeRecord) -> Value,
        chosen: &Tracked,
    ) -> Result<(NodeReply, NodeRecord), ClientError> {
        self.run_exchange(ex, &NodeAsk(request), chosen).await
    }

    /// Sends a v4 request (`request`: its bencoded bytes, see `crypto_core::onion::v4`) to a server
    /// behind a path's last hop, which makes the HTTP request; each attempt may take `deadline`.
    /// The server's answer is returned whatever its code: the caller reads it.
    pub async fn server(
        &self,
        target: &ServerTarget,
        request: &[u8],
        deadline: Duration,
    ) -> Result<v4::Response, ClientError> {
        self.server_observed(target, request, deadline, None).await
    }

    /// [`Client::server`], telling `progress` (when given) how much of each attempt's onion went
    /// out: a file's upload shows how far it got.
    pub async fn server_observed(
        &self,
        target: &ServerTarget,
        request: &[u8],
        deadline: Duration,
        progress: Option<Progress<'_>>,
    ) -> Result<v4::Response, ClientError> {
        let ask = ServerAsk { target, request, deadline, progress };
        self.run_exchange(Exchange::to_server(), &ask, &Cell::new(None)).await.map(|(answer, _)| answer)
    }

    async fn run_exchange<A: Ask>(
        &self,
        mut ex: Exchange,
        ask: &A,
        chosen: &Tracked,
    ) -> Result<(A::Answer, NodeRecord), ClientError> {
        let result = self.drive(&mut ex, ask, chosen).await;
        self.show_outcome(result.as_ref().map(|_| ()));
        if self.network.borrow().guards() != self.saved_guards.borrow().as_slice()
            && let Some(notify) = self.on_new_guards.borrow().as_ref()
        {
            notify();
        }
        if matches!(result, Err(Failure::ClockOutOfSync)) {
            // The samples were forgotten: ask a node for the time before anything is signed again.
            let mut sync = Exchange::to_any_node();
            let _ = self.drive(&mut sync, &NodeAsk(&|_| requests::info()), &Cell::new(None)).await;
        }
        result
    }

    async fn drive<A: Ask>(
        &self,
        ex: &mut Exchange,
        ask: &A,
        chosen: &Tracked,
    ) -> Result<(A::Answer, NodeRecord), ClientError> {
        loop {
            let step = self.network.borrow_mut().next_step(ex, &mut OsRng, self.world.clock.now_ms());

            let send = match step {
                Step::Failed(f) => return Err(f),
                Step::FetchNodes => {
                    let relay = self.relay();
                    let attempt = match relay::nodes(&self.world.transport, &self.world.clock, &relay).await {
                        // Checked against the network before anything uses it.
                        Ok(nodes) => Attempt::Nodes(self.confirmed(&relay, nodes).await?),
                        Err(NetError::Transport(_)) => Attempt::Unsent,
                        Err(NetError::Status(status)) => Attempt::Http { status, body: b"" },
                        Err(NetError::Network(_)) => Attempt::Nodes(Vec::new()),
                    };
                    let report = self.network.borrow_mut().report(ex, attempt, self.world.clock.now_ms());
                    if let Report::Failed(f) = report {
                        return Err(f);
                    }
                    continue;
                }
                Step::Send(send) => send,
            };
            chosen.set(ex.destination());
            let node_body = |rpc: Value| {
                (Destination::Node(send.destination.keys()), std::borrow::Cow::Owned(rpc.to_string().into_bytes()))
            };
            let (destination, body) = match send.payload {
                Payload::Request => ask.request(&send.destination),
                Payload::GetSwarm(owner) => node_body(requests::get_swarm(&owner)),
                Payload::Info => node_body(requests::info()),
            };
            let built = onion::build(&mut OsRng, &send.hops, &destination, &body, EncType::XChaCha20);
            let Ok(onion) = built else { return Err(Failure::TooLarge) };
            self.requests.set(self.requests.get() + 1);
            let relay = self.relay();
            let deadline = if send.payload == Payload::Request { ask.deadline() } else { relay::ONION_DEADLINE };
            let response = relay::onion_within(
                &self.world.transport,
                &self.world.clock,
                &relay,
                &send.guard,
                onion.body,
                deadline,
                if send.payload == Payload::Request { ask.progress() } else { None },
            )
            .await
            .map(|reply| (reply.status, reply.body));
            let now = self.world.clock.now_ms();
            let mut answer = None;
            let report = {
                let mut network = self.network.borrow_mut();
                match &response {
                    // The relay took the request and nothing came back in time: a dead node
                    // still listed, on the path or as the destination.
                    Err(NetError::Transport(TransportError::TimedOut)) => network.report(ex, Attempt::TimedOut, now),
                    Err(_) => network.report(ex, Attempt::Unsent, now),
                    Ok((200, bytes)) if send.payload == Payload::Request => match ask.open(&onion.reply_key, bytes) {
                        Some(opened) => {
                            let (status, body) = A::judged(&opened);
                            let report = network.report(ex, Attempt::Reply { status, body }, now);
                            answer = Some(opened);
                            report
                        }
                        None => network.report(ex, Attempt::Unreadable, now),
                    },
                    Ok((200, bytes)) => match onion::unwrap_node_reply(&onion.reply_key, bytes) {
                        Ok(r) => network.report(ex, Attempt::Reply { status: r.status, body: &r.body }, now),
                        Err(_) => network.report(ex, Attempt::Unreadable, now),
                    },
                    Ok((status, bytes)) => network.report(ex, Attempt::Http { status: *status, body: bytes }, now),
                }
            };
            match (report, answer) {
                (Report::Done, Some(answer)) => return Ok((answer, send.destination)),
                (Report::Failed(f), _) => return Err(f),
                _ => {}
            }
        }
    }

    /// Fetches the relay's node list and checks it against the network now (or takes the verdict
    /// already reached for the same list), as the first request would. The status says how it
    /// went.
    pub async fn check_relay(&self) -> Result<(), ClientError> {
        let relay = self.relay();
        let result = match relay::nodes(&self.world.transport, &self.world.clock, &relay).await {
            Ok(listed) => self.confirmed(&relay, listed).await.map(|pool| self.network.borrow_mut().set_pool(pool)),
            Err(NetError::Transport(_)) => Err(Failure::Offline),
            Err(NetError::Status(429)) => Err(Failure::RateLimited),
            Err(NetError::Status(status)) => Err(Failure::Relay(status)),
            Err(NetError::Network(e)) => Err(Failure::NoPath(e)),
        };
        match &result {
            // No swarm has answered yet: "connected" waits for a request's answer, but a refusal
            // shown before is over.
            Ok(()) if self.status_now().connection == Connection::RelayRefused => {
                self.set_status(Connection::Connecting, None);
            }
            Ok(()) => {}
            Err(e) => self.show_outcome(Err(e)),
        }
        result
    }

    /// The pool to use from the relay's node list `listed`: the relay's nodes that the network
    /// confirms, asked of the anchors unless the same list from the same relay was judged lately.
    /// A refusal forgets the pool and paths, so nothing more goes through this relay.
    async fn confirmed(&self, relay: &str, listed: Vec<NodeRecord>) -> Result<Vec<NodeRecord>, ClientError> {
        let _one = self.checking.lock().await;
        let listed = sorted(listed);
        let now = self.world.clock.now_ms();
        let known = self.verdict.borrow().as_ref().filter(|v| v.holds(relay, &listed, now)).map(|v| v.outcome.clone());
        let outcome = match known {
            Some(outcome) => outcome,
            None => {
                let outcome = self.check(relay, &listed).await?;
                // Without anchors nothing was asked: nothing to remember about this relay.
                if outcome != Err(Refusal::NoAnchors) {
                    *self.verdict.borrow_mut() =
                        Some(Verdict { relay: relay.to_owned(), listed, at: now, outcome: outcome.clone() });
                }
                outcome
            }
        };
        if self.relay() != relay {
            // Another relay was chosen meanwhile: this list is not its list.
            return Err(Failure::Unreachable);
        }
        outcome.map_err(|refusal| {
            if !self.network.borrow().pool().is_empty() {
                self.network.borrow_mut().forget_network();
            }
            Failure::NodeListRefused(refusal)
        })
    }

    /// Asks the anchors, through paths built from `listed` alone, for the network's node list and
    /// judges `listed` by their answers. An error is a failure to reach the relay itself (or to
    /// build a path), which says nothing about its list.
    async fn check(&self, relay: &str, listed: &[NodeRecord]) -> Result<Result<Vec<NodeRecord>, Refusal>, ClientError> {
        let trusted = self.anchors.borrow().clone().filter(|a| !a.is_empty());
        let Some(trusted) = trusted else { return Ok(Err(Refusal::NoAnchors)) };
        if let Err(refusal) = anchors::prejudge(listed) {
            return Ok(Err(refusal));
        }
        // Paths for the check only, from the relay's list (the only nodes it forwards to), with
        // the guards in use when it still lists them. They carry no request that names anyone.
        let mut paths = Network::new(anchors::with_matching_keys(listed.to_vec()));
        paths.set_guards(self.network.borrow().guards().to_vec());
        paths.build_paths(&mut OsRng).map_err(Failure::NoPath)?;
        let paths = RefCell::new(paths);
        let mut order = shuffled(trusted.list().to_vec());
        let (mut answers, mut asked, mut offline, mut limited, mut stalled) = (Vec::new(), 0, false, false, 0);
        let (mut unanswered, mut budget, mut narrowed) = (Vec::new(), anchors::MAX_ANCHORS_ASKED, false);
        // Anchors asked at least once (the second pass may ask one again): what the refusal tells.
        let mut distinct = HashSet::new();
        while budget > 0 && !order.is_empty() {
            let round: Vec<Anchor> = order.drain(..anchors::ANCHORS_ASKED.min(budget).min(order.len())).collect();
            budget -= round.len();
            asked += round.len();
            distinct.extend(round.iter().map(|a| a.ed25519));
            let asking = round.iter().map(|anchor| self.ask_anchor(relay, &paths, anchor));
            for (anchor, answer) in round.iter().zip(futures::future::join_all(asking).await) {
                match answer {
                    AnchorAnswer::Nodes(list) => answers.push(list),
                    AnchorAnswer::Failed => unanswered.push(*anchor),
                    AnchorAnswer::TimedOut => {
                        stalled += 1;
                        unanswered.push(*anchor);
                    }
                    AnchorAnswer::Offline => offline = true,
                    AnchorAnswer::RateLimited => limited = true,
                }
            }
            // Enough answers; or none and nothing but silence, which more anchors asked through
            // the same relay would only repeat.
            if answers.len() >= anchors::ANSWERS_NEEDED || (answers.is_empty() && stalled == asked) {
                break;
            }
            // Too few answers, and not for silence: part of the network is down (nodes stopped
            // since the relay's last refresh are still in its list, on the paths and among the
            // anchors), or the relay keeps the anchors out. Once more, the anchors that did not
            // answer and the rest are asked, through paths that by now avoid the guards found
            // down; if an anchor answered, its list shows which nodes are alive, and the paths
            // are rebuilt from those and only the anchors it lists are asked. One answer only
            // steers where to ask; the verdict still needs [`anchors::ANSWERS_NEEDED`].
            if !narrowed {
                narrowed = true;
                let alive: HashSet<[u8; 32]> = answers.iter().flatten().map(|n| n.ed25519).collect();
                if !alive.is_empty() {
                    let through = listed.iter().filter(|n| alive.contains(&n.ed25519)).cloned().collect();
                    let mut fresh = Network::new(anchors::with_matching_keys(through));
                    fresh.set_guards(self.network.borrow().guards().to_vec());
                    if fresh.build_paths(&mut OsRng).is_ok() {
                        *paths.borrow_mut() = fresh;
                    }
                }
                order = unanswered
                    .drain(..)
                    .chain(order.drain(..))
                    .filter(|a| alive.is_empty() || alive.contains(&a.ed25519))
                    .collect();
                budget = anchors::MAX_ANCHORS_ASKED;
            }
        }
        if answers.len() < anchors::ANSWERS_NEEDED {
            if limited {
                return Err(Failure::RateLimited);
            }
            if offline {
                return Err(Failure::Offline);
            }
            // Nothing came back at all, not even an error: the relay (or the network behind it)
            // stalls. That is no verdict on its list.
            if answers.is_empty() && stalled == asked {
                return Err(Failure::TimedOut);
            }
        }
        Ok(anchors::judge(listed, &answers, distinct.len()))
    }

    /// Asks one anchor for the network's node list through a path of `paths` (another one if the
    /// first fails on the way). Only the anchor can open the request and seal the answer.
    async fn ask_anchor(&self, relay: &str, paths: &RefCell<Network>, anchor: &Anchor) -> AnchorAnswer {
        let request = anchors::service_nodes_request().to_string();
        let mut tried = HashSet::new();
        let mut outcome = AnchorAnswer::Failed;
        let (mut failures, mut sent) = (0, 0);
        while failures < ANCHOR_ATTEMPTS && sent < 2 * ANCHOR_ATTEMPTS {
            let path = paths
                .borrow_mut()
                .path_avoiding(&mut OsRng, &anchor.ed25519, &tried)
                .and_then(|p| Some((p.guard()?.ed25519, p.keys())));
            let Some((guard, hops)) = path else { break };
            tried.insert(guard);
            let built = onion::build(
                &mut OsRng,
                &hops,
                &Destination::Node(anchor.keys()),
                request.as_bytes(),
                EncType::XChaCha20,
            );
            let Ok(onion) = built else { break };
            self.requests.set(self.requests.get() + 1);
            sent += 1;
            match relay::onion(&self.world.transport, &self.world.clock, relay, &guard, onion.body).await {
                Err(NetError::Transport(TransportError::TimedOut)) => outcome = AnchorAnswer::TimedOut,
                Err(_) => return AnchorAnswer::Offline,
                Ok(reply) if reply.status == 429 => return AnchorAnswer::RateLimited,
                Ok(reply) if reply.status == 200 => {
                    if let Ok(answer) = onion::unwrap_node_reply(&onion.reply_key, &reply.body) {
                        paths.borrow_mut().path_succeeded(&guard);
                        return match parse_node_list(&answer.body) {
                            Ok(list) if answer.status == 200 && !list.is_empty() => {
                                AnchorAnswer::Nodes(anchors::with_matching_keys(list))
                            }
                            _ => AnchorAnswer::Failed,
                        };
                    }
                    // Unreadable: a hop's doing, or the relay's; another path may get through.
                    outcome = AnchorAnswer::Failed;
                }
                // The relay could not reach the guard: the guard is down (or the relay says so,
                // which only steers the check's paths; only the anchor can seal its answer). It
                // leaves the check's pool, and the try does not count against the anchor.
                Ok(reply) if reply.status == 502 && reply.body == GUARD_UNREACHABLE.as_bytes() => {
                    let mut paths = paths.borrow_mut();
                    paths.drop_node(&guard);
                    let _ = paths.build_paths(&mut OsRng);
                    continue;
                }
                // A hop's error (the next node not found, a timeout on the way): another path.
                Ok(_) => outcome = AnchorAnswer::Failed,
            }
            failures += 1;
            // The path failed somewhere after its guard, unless another ask got an answer
            // through it meanwhile: a hop or the anchor is down. The path is replaced by one of
            // random nodes, so the next try (for this anchor or another) does not take the same
            // dead hop.
            let mut paths = paths.borrow_mut();
            if !paths.path(&guard).is_some_and(|p| p.is_tested()) {
                paths.discard_path(&guard);
                let _ = paths.build_paths(&mut OsRng);
            }
        }
        outcome
    }

    /// Stores `data` (base64) for `recipient` in namespace 0 with the 14-day TTL; returns its hash.
    pub async fn store(&self, recipient: &SessionId, data: &str, timestamp: u64) -> Result<String, ClientError> {
        self.store_for(recipient, data, timestamp, crypto_core::message::DEFAULT_TTL_MS).await
    }

    /// [`Client::store`] for `ttl_ms` (a typing indicator is stored for 20 s, not 14 days).
    pub async fn store_for(
        &self,
        recipient: &SessionId,
        data: &str,
        timestamp: u64,
        ttl_ms: u64,
    ) -> Result<String, ClientError> {
        let request = requests::store(recipient, Namespace::DEFAULT, data, timestamp, ttl_ms, None);
        let (reply, _) = self.hedged(|| Exchange::to_swarm(*recipient), &|_| request.clone()).await?;
        let stored = StoreReply::parse(&reply.body)
            .map_err(|_| Failure::Rejected { status: reply.status, body: "an unreadable reply".into() })?;
        Ok(stored.stored_hash().unwrap_or_default().to_owned())
    }

    /// Deletes the messages with these hashes from `owner`'s swarm (its own copies: what others
    /// stored there, and its sync copies). The member asked deletes them from the whole swarm;
    /// returns the hashes it said it deleted.
    pub async fn delete(&self, owner: &Identity, hashes: &[String]) -> Result<Vec<String>, ClientError> {
        let request = requests::delete(owner, hashes);
        let (reply, _) = self.hedged(|| Exchange::to_swarm(owner.session_id()), &|_| request.clone()).await?;
        let deleted = DeleteReply::parse(&reply.body)
            .map_err(|_| Failure::Rejected { status: reply.status, body: "an unreadable reply".into() })?;
        let mut out: Vec<String> = deleted
            .swarm
            .values()
            .filter_map(|member| member.success())
            .flat_map(|member| match &member.deleted {
                Affected::List(list) => list.clone(),
                Affected::ByNamespace(by) => by.values().flatten().cloned().collect(),
            })
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Shortens the expiry of `owner`'s messages with these hashes to `expiry_ms` in its swarm
    /// (never lengthens it).
    pub async fn shorten(&self, owner: &Identity, hashes: &[String], expiry_ms: u64) -> Result<(), ClientError> {
        let request = requests::shorten(owner, hashes, expiry_ms);
        let (reply, _) = self.hedged(|| Exchange::to_swarm(owner.session_id()), &|_| request.clone()).await?;
        ExpireReply::parse(&reply.body)
            .map_err(|_| Failure::Rejected { status: reply.status, body: "an unreadable reply".into() })?;
        Ok(())
    }

    /// New messages of `owner` in namespace 0 from one member of its swarm, de-duplicated. Each
    /// node is asked only for what follows its own `last_hash`.
    pub async fn poll(&self, owner: &Identity) -> Result<Vec<Stored>, ClientError> {
        let id = owner.session_id();
        let mut out = Vec::new();
        let mut prefer = None;
        for _ in 0..MAX_PAGES {
            let retrieve = |dest: &NodeRecord| {
                let last = self.poll.borrow().last_hash(&dest.ed25519, Namespace::DEFAULT.0).map(str::to_owned);
                requests::retrieve(owner, Namespace::DEFAULT, self.now(), last.as_deref())
            };
            // The first page from any member (hedged); the next pages from the same one.
            let asked = match prefer {
                None => self.hedged(|| Exchange::to_swarm(id), &retrieve).await,
                Some(node) => self.exchange(Exchange::to_swarm(id).prefer(Some(node)), &retrieve).await,
            };
            let (reply, node) = match asked {
                Ok(r) => r,
                // What earlier pages brought is kept; the next poll continues from there.
                Err(_) if !out.is_empty() => return Ok(out),
                Err(e) => return Err(e),
            };
            // A reply that does not read brings nothing; the next poll asks again.
            let body = RetrieveReply::parse(&reply.body).unwrap_or_default();
            {
                let mut poll = self.poll.borrow_mut();
                for m in &body.messages {
                    poll.set_last_hash(&node.ed25519, Namespace::DEFAULT.0, &m.hash);
                    if poll.first_sight(&m.hash) && STANDARD.decode(&m.data).is_ok() {
                        out.push(Stored { hash: m.hash.clone(), data: m.data.clone() });
                    }
                }
            }
            if !body.more || body.messages.is_empty() {
                break;
            }
            prefer = Some(node.ed25519);
        }
        Ok(out)
    }

    /// New messages of `owner` in each of `namespaces`, from one member of its swarm, in one
    /// `batch` request per page as Session desktop polls (retrieves in the order given, each after
    /// that node's own `last_hash` for its namespace), with `extra` subrequests after the
    /// retrieves on the first page (the configs' `expire`). Namespace 0's messages are
    /// de-duplicated by the hashes already handled; the others are all returned (the configs know
    /// their own). Pages (`more: true`) continue with the namespaces that have more, from the same
    /// member. Returns the messages of each namespace (in the order given) and whether every
    /// `extra` subrequest succeeded.
    pub async fn poll_batch(
        &self,
        owner: &Identity,
        namespaces: &[i16],
        extra: &[Value],
    ) -> Result<(Vec<(i16, Vec<Stored>)>, bool), ClientError> {
        let id = owner.session_id();
        let mut out: Vec<(i16, Vec<Stored>)> = namespaces.iter().map(|&ns| (ns, Vec::new())).collect();
        let mut wanted: Vec<i16> = namespaces.to_vec();
        let mut extra_ok = extra.is_empty();
        let mut prefer = None;
        for page in 0..MAX_PAGES {
            let extras: &[Value] = if page == 0 { extra } else { &[] };
            let asked_for = wanted.clone();
            let batch = |dest: &NodeRecord| {
                let now = self.now();
                let mut subrequests: Vec<Value> = asked_for
                    .iter()
                    .map(|&ns| {
                        let last = self.poll.borrow().last_hash(&dest.ed25519, ns).map(str::to_owned);
                        let mut retrieve = requests::retrieve_request(owner, Namespace(ns), now, last.as_deref());
                        // The reply's budget split as desktop splits it: half for the messages, an
                        // eighth for each config.
                        if let Request::Retrieve(params) = &mut retrieve {
                            params.max_size = Some(if ns == Namespace::DEFAULT.0 { -2 } else { -8 });
                        }
                        retrieve.to_json()
                    })
                    .collect();
                subrequests.extend(extras.iter().cloned());
                serde_json::json!({ "method": "batch", "params": { "requests": subrequests } })
            };
            let asked = match prefer {
                None => self.hedged(|| Exchange::to_swarm(id), &batch).await,
                Some(node) => self.exchange(Exchange::to_swarm(id).prefer(Some(node)), &batch).await,
            };
            let (reply, node) = match asked {
                Ok(r) => r,
                Err(_) if page > 0 => break,
                Err(e) => return Err(e),
            };
            // A reply that does not read brings nothing; the next poll asks again.
            let results = BatchReply::parse(&reply.body).map(|b| b.results).unwrap_or_default();
            // A signed retrieve refused for this device's clock comes back inside the batch (the
            // batch itself is answered 200): the same as a single retrieve refused so, the time
            // samples go, a node is asked for the time, and the status says why.
            if results.iter().take(asked_for.len()).any(|r| matches!(r.code, 406 | 425)) {
                self.network.borrow_mut().forget_time(self.world.clock.now_ms());
                self.show_outcome(Err(&Failure::ClockOutOfSync));
                let mut sync = Exchange::to_any_node();
                let _ = self.drive(&mut sync, &NodeAsk(&|_| requests::info()), &Cell::new(None)).await;
                return Err(Failure::ClockOutOfSync);
            }
            if page == 0 && !extras.is_empty() {
                extra_ok = results.len() == asked_for.len() + extras.len()
                    && results.iter().skip(asked_for.len()).all(BatchResult::is_success);
            }
            wanted.clear();
            let mut poll = self.poll.borrow_mut();
            for (&ns, result) in asked_for.iter().zip(&results) {
                if !result.is_success() {
                    continue;
                }
                let body = RetrieveReply::parse(&result.body_bytes()).unwrap_or_default();
                let Some((_, kept)) = out.iter_mut().find(|(n, _)| *n == ns) else { continue };
                for m in &body.messages {
                    poll.set_last_hash(&node.ed25519, ns, &m.hash);
                    let new = ns != Namespace::DEFAULT.0 || poll.first_sight(&m.hash);
                    if new && STANDARD.decode(&m.data).is_ok() {
                        kept.push(Stored { hash: m.hash.clone(), data: m.data.clone() });
                    }
                }
                if body.more && !body.messages.is_empty() {
                    wanted.push(ns);
                }
            }
            if wanted.is_empty() {
                break;
            }
            prefer = Some(node.ed25519);
        }
        Ok((out, extra_ok))
    }

    /// Runs `subrequests` as one `sequence` on a member of `owner`'s swarm (in order, stopping at
    /// the first failure, as the storage server runs it): the result of each one run.
    pub async fn sequence(&self, owner: &SessionId, subrequests: Vec<Value>) -> Result<Vec<BatchResult>, ClientError> {
        let request = serde_json::json!({ "method": "sequence", "params": { "requests": subrequests } });
        let (reply, _) = self.hedged(|| Exchange::to_swarm(*owner), &|_| request.clone()).await?;
        let replied = BatchReply::parse(&reply.body)
            .map_err(|_| Failure::Rejected { status: reply.status, body: "an unreadable reply".into() })?;
        Ok(replied.results)
    }

    /// Marks hashes as already handled (restored from the vault after a reload).
    pub fn remember(&self, hashes: impl IntoIterator<Item = String>) {
        let mut poll = self.poll.borrow_mut();
        for h in hashes {
            poll.remember(&h);
        }
    }

    /// The last `limit` handled hashes if any were first seen since the last call (to save).
    pub fn seen_to_save(&self, limit: usize) -> Option<Vec<String>> {
        let mut poll = self.poll.borrow_mut();
        poll.take_seen_changed().then(|| poll.recent(limit))
    }

    /// Saving the seen hashes failed: offer them again next time.
    pub fn seen_not_saved(&self) {
        self.poll.borrow_mut().mark_unsaved(false, true);
    }

    /// Restores the guards and the `last_hash` per node saved by [`Client::persist`]. A missing
    /// or damaged record starts afresh (de-duplication by hash still holds).
    pub async fn restore<B: Backend>(&self, vault: &Vault<B>) {
        let Ok(Some(bytes)) = vault.get(stores::ACCOUNT, NETWORK_STATE_ID).await else { return };
        let Ok(saved) = serde_json::from_slice::<Saved>(&bytes) else { return };
        let guards: Vec<[u8; 32]> = saved.guards.iter().filter_map(|g| hex32(g)).collect();
        self.network.borrow_mut().set_guards(guards.clone());
        *self.saved_guards.borrow_mut() = guards;
        let entries = saved
            .last_hashes
            .iter()
            .filter(|(_, _, hash)| hash.len() <= 64)
            .filter_map(|(node, ns, hash)| hex32(node).map(|node| (node, *ns, hash.as_str())));
        self.poll.borrow_mut().restore_last_hashes(entries);
        *self.saved_last_hashes.borrow_mut() = saved.last_hashes;
    }

    /// What to do when the guards change (see [`Client::persist_guards`]).
    pub fn on_new_guards(&self, notify: impl Fn() + 'static) {
        *self.on_new_guards.borrow_mut() = Some(Box::new(notify));
    }

    /// Saves the guards if they changed, keeping the `last_hash` entries the vault already holds.
    /// Safe at any moment (after a send, say): a `last_hash` is only written by [`Client::persist`],
    /// after the messages it covers are filed.
    pub async fn persist_guards<B: Backend>(&self, vault: &Vault<B>) -> Result<(), StorageError> {
        let _saving = self.saving.lock().await;
        let guards = self.network.borrow().guards().to_vec();
        if guards == *self.saved_guards.borrow() {
            return Ok(());
        }
        let saved = Saved {
            guards: guards.iter().map(hex::encode).collect(),
            last_hashes: self.saved_last_hashes.borrow().clone(),
        };
        let bytes = zeroize::Zeroizing::new(serde_json::to_vec(&saved).unwrap_or_default());
        vault.put(stores::ACCOUNT, NETWORK_STATE_ID, &bytes).await?;
        *self.saved_guards.borrow_mut() = guards;
        Ok(())
    }

    /// Saves the guards and the `last_hash` per node, sealed in the vault, if they changed.
    /// Call it after the messages a poll brought are filed, so a reload never skips one.
    pub async fn persist<B: Backend>(&self, vault: &Vault<B>) -> Result<(), StorageError> {
        let _saving = self.saving.lock().await;
        let guards = self.network.borrow().guards().to_vec();
        let last_hash_changed = self.poll.borrow_mut().take_last_hash_changed();
        if !last_hash_changed && guards == *self.saved_guards.borrow() {
            return Ok(());
        }
        let saved = Saved {
            guards: guards.iter().map(hex::encode).collect(),
            last_hashes: self
                .poll
                .borrow()
                .last_hashes()
                .map(|(node, ns, hash)| (hex::encode(node), ns, hash.to_owned()))
                .collect(),
        };
        let bytes = zeroize::Zeroizing::new(serde_json::to_vec(&saved).unwrap_or_default());
        match vault.put(stores::ACCOUNT, NETWORK_STATE_ID, &bytes).await {
            Ok(()) => {
                *self.saved_guards.borrow_mut() = guards;
                *self.saved_last_hashes.borrow_mut() = saved.last_hashes;
                Ok(())
            }
            Err(e) => {
                self.poll.borrow_mut().mark_unsaved(last_hash_changed, false);
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryBackend;
    use crate::testing::{Offline, offline_world};

    fn offline_client(relay: &str) -> Client<Offline> {
        Client::new(Rc::new(offline_world()), relay)
    }
    use crypto_core::identity::Seed;
    use crypto_core::vault::KdfParams;
    use futures::executor::block_on;

    async fn vault() -> Vault<MemoryBackend> {
        Vault::create(MemoryBackend::default(), "p", &Seed::from_bytes([1; 16]), KdfParams::INSECURE_FOR_TESTS)
            .await
            .unwrap()
    }

    #[test]
    fn guards_and_last_hashes_survive_an_unlock_in_the_vault() {
        block_on(async {
            let vault = vault().await;
            let client = offline_client("");
            client.network.borrow_mut().set_guards([[1; 32], [2; 32]]);
            client.poll.borrow_mut().set_last_hash(&[3; 32], 0, "hash-on-node-3");
            client.persist(&vault).await.unwrap();
            for store in stores::ALL {
                for key in vault.backend().keys(store).await.unwrap() {
                    let raw = vault.backend().get(store, &key).await.unwrap().unwrap();
                    assert!(!raw.windows(14).any(|w| w == b"hash-on-node-3"), "sealed, not in the clear");
                    assert!(!raw.windows(6).any(|w| w == b"guards"));
                    assert!(!raw.windows(32).any(|w| w == [1; 32]), "no raw guard key");
                }
            }

            let again = offline_client("");
            again.restore(&vault).await;
            assert_eq!(again.network.borrow().guards(), [[1; 32], [2; 32]]);
            assert_eq!(again.poll.borrow().last_hash(&[3; 32], 0), Some("hash-on-node-3"));
        });
    }

    #[test]
    fn the_network_state_is_written_only_when_it_changes() {
        block_on(async {
            let vault = vault().await;
            let client = offline_client("");
            let before = vault.backend().keys(stores::ACCOUNT).await.unwrap();
            client.persist(&vault).await.unwrap();
            assert_eq!(vault.backend().keys(stores::ACCOUNT).await.unwrap(), before, "nothing to save yet");
            client.poll.borrow_mut().set_last_hash(&[3; 32], 0, "h");
            client.persist(&vault).await.unwrap();
            let keys = vault.backend().keys(stores::ACCOUNT).await.unwrap();
            let key = keys.into_iter().find(|k| !before.contains(k)).unwrap();
            let first = vault.backend().get(stores::ACCOUNT, &key).await.unwrap();
            client.persist(&vault).await.unwrap();
            assert_eq!(vault.backend().get(stores::ACCOUNT, &key).await.unwrap(), first, "unchanged: not rewritten");
            client.poll.borrow_mut().set_last_hash(&[3; 32], 0, "h2");
            client.persist(&vault).await.unwrap();
            assert_ne!(vault.backend().get(stores::ACCOUNT, &key).await.unwrap(), first);
        });
    }

    /// A guard replaced while sending is saved at once, without the `last_hash` of messages a
    /// poll has fetched but not filed yet.
    #[test]
    fn guards_are_saved_without_unfiled_last_hashes() {
        block_on(async {
            let vault = vault().await;
            let client = offline_client("");
            client.poll.borrow_mut().set_last_hash(&[3; 32], 0, "filed");
            client.persist(&vault).await.unwrap();
            client.poll.borrow_mut().set_last_hash(&[3; 32], 0, "fetched, not filed");
            client.network.borrow_mut().set_guards([[9; 32], [8; 32]]);
            client.persist_guards(&vault).await.unwrap();

            let later = offline_client("");
            later.restore(&vault).await;
            assert_eq!(later.network.borrow().guards(), &[[9; 32], [8; 32]]);
            assert_eq!(later.poll.borrow().last_hash(&[3; 32], 0), Some("filed"));
        });
    }

    #[test]
    fn a_damaged_network_state_starts_afresh() {
        block_on(async {
            let vault = vault().await;
            vault.put(stores::ACCOUNT, NETWORK_STATE_ID, b"{\"guards\":[\"zz\", 5]").await.unwrap();
            let client = offline_client("");
            client.restore(&vault).await;
            assert!(client.network.borrow().guards().is_empty());
            vault
                .put(stores::ACCOUNT, NETWORK_STATE_ID, br#"{"guards":["zz"],"last_hashes":[["01",0,"h"]]}"#)
                .await
                .unwrap();
            client.restore(&vault).await;
            assert!(client.network.borrow().guards().is_empty(), "bad keys are skipped");
            assert_eq!(client.poll.borrow().last_hashes().count(), 0);
        });
    }

    #[test]
    fn seen_hashes_are_offered_for_saving_only_after_new_ones() {
        let client = offline_client("");
        client.remember(["a".to_owned()]);
        assert_eq!(client.seen_to_save(10), None, "restored hashes are no change");
        client.poll.borrow_mut().first_sight("b");
        assert_eq!(client.seen_to_save(10), Some(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(client.seen_to_save(10), None);
        client.seen_not_saved();
        assert_eq!(client.seen_to_save(1), Some(vec!["b".to_owned()]));
    }

    #[test]
    fn switching_relays_checks_the_url_and_starts_over() {
        let client = offline_client("");
        assert_eq!(client.set_relay("ftp://relay.example"), Err(RelayUrlError::Scheme));
        assert_eq!(client.relay(), "");
        assert_eq!(client.set_relay("https://relay.example/").as_deref(), Ok("https://relay.example"));
        assert_eq!(client.relay(), "https://relay.example");
        let status = client.status_now();
        assert_eq!((status.connection, status.relay.as_str()), (Connection::Connecting, "https://relay.example"));
        assert_eq!(client.set_relay("").as_deref(), Ok(""));
    }

    #[test]
    fn without_a_network_a_request_fails_as_offline_and_says_so() {
        let client = offline_client("http://127.0.0.1:9");
        let me = Identity::from_seed(&Seed::from_bytes([5; 16]));
        assert_eq!(block_on(client.poll(&me)).unwrap_err(), Failure::Offline);
        let status = client.status_now();
        assert_eq!(status.connection, Connection::Offline);
        assert!(status.problem().is_some() && status.paths.is_empty());
    }
}
