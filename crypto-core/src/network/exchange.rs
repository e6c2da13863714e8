//! One logical request, driven to an answer: to a member of an account's swarm (learning the
//! swarm with `get_swarm` first when the cache is short) or to any node. The reactions to each
//! failure follow protocol-onion §1.7:
//!
//! | what came back | reaction |
//! |---|---|
//! | nothing (offline, relay down) | stop; no strike |
//! | relay 429 / 413 | stop (back off / too large); no strike |
//! | relay 404 (unknown guard) | fetch the node list, retry; the second time drop that guard |
//! | relay 502 `Service node unreachable` | strike the path (its guard only), retry on another |
//! | `Next node not found: X` | drop X from pool, swarms and paths at once, retry |
//! | 406 / 425 from a destination whose own `t` is off the time the other nodes agree on | its clock is wrong, not ours: try another member; pass it over as a destination for [`SLOW_FOR_MS`] while its swarm has another member; no strike |
//! | 406 / 425, at the guard or the destination | stop: clock error; all but the newest time samples are forgotten |
//! | `Oxen Server error` | stop |
//! | 421 with `snodes` | replace the cached swarm, strike the node, retry on another member |
//! | 421 without | remove the node from the swarm, strike it, retry on another member |
//! | destination 400–499 (not 406/421/425) | stop: the request itself was refused |
//! | destination 5xx | strike the node, retry on another member |
//! | any other path failure (504, parse errors, an unreadable 200) | retry through the other path; if that one gets through, strike the first path and each of its hops; if it fails too, the destination is to blame: strike it and try another member; when a second member fails the same way, strike both paths and their hops as well |
//! | no answer within the caller's deadline | a dead node still listed (a hop on the path, or the destination: its previous hop would answer 504 only after 30 s): strike the path and the destination once each, avoid that destination for a while ([`SLOW_FOR_MS`]) and that path for the rest of the exchange, and try another member through another path at once; after [`MAX_TIMEOUTS`] stop |
//!
//! A request for a server behind a path's last hop ([`Exchange::to_server`]) ends with whatever
//! the server answers; a failure on the way tries the next path and strikes nothing (the server
//! may be the one down), a relay 413 or 429 stops.
//!
//! A new path carries an `info` request (which names no account) before it carries anything
//! else: it tests the path and samples the network time before a request is signed.

use std::collections::HashSet;
use std::fmt;

use rand_core::CryptoRngCore;
use serde_json::Value;

use super::paths::pick;
use super::{Network, NetworkError, NodeRecord, parse_swarm, relay};
use crate::identity::SessionId;
use crate::onion::{NodeKeys, PathFailure, classify_path_failure};

/// Onion requests one exchange may send before it gives up.
pub const MAX_SENDS: u8 = 10;
/// Nodes one exchange may ask for a swarm.
pub const MAX_SWARM_ASKS: u8 = 2;
/// Path tests one exchange may send.
const MAX_TESTS: u8 = 4;
/// How much of a refusal's body is kept.
const EXCERPT_CHARS: usize = 200;
/// Requests one exchange may see go unanswered before it gives up (a relay that stalls must not
/// hold a send or a poll for [`MAX_SENDS`] deadlines).
pub const MAX_TIMEOUTS: u8 = 2;
/// How long a destination that left a request unanswered is passed over while its swarm has
/// another member (ms): long enough to spare the following sends and polls the same wait, short
/// enough that a node back up is used again.
pub const SLOW_FOR_MS: u64 = 10 * 60 * 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Swarm(SessionId),
    AnyNode,
    /// A server behind a path's last hop (a file or community server): the "destination" of a
    /// send is that hop, which makes the HTTP request.
    Server,
}

/// What goes inside the onion of a [`Send`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    /// The caller's own request, built for the destination (e.g. with that node's `last_hash`).
    Request,
    /// `get_swarm` for this account: swarm discovery.
    GetSwarm(SessionId),
    /// `info`, which names no account: a new path's test.
    Info,
}

/// One onion request to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Send {
    /// The guard (the relay's `/v1/onion/{guard}`).
    pub guard: [u8; 32],
    /// The path's onion keys, the guard first.
    pub hops: Vec<NodeKeys>,
    /// The node the request is for (never one of the hops).
    pub destination: NodeRecord,
    /// What to put in it.
    pub payload: Payload,
}

/// What to do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Fetch the relay's node list; report it as [`Attempt::Nodes`].
    FetchNodes,
    /// Send this onion request; report what came back.
    Send(Send),
    /// The exchange is over without an answer.
    Failed(Failure),
}

/// What came back from the last [`Step`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt<'a> {
    /// The request never reached the relay (offline, relay down, aborted).
    Unsent,
    /// The relay's node list (empty if it was unusable).
    Nodes(Vec<NodeRecord>),
    /// A status other than 200 with a plain-text body: the relay's own answer, or an error a hop
    /// returned through the guard.
    Http { status: u16, body: &'a [u8] },
    /// HTTP 200, but the reply did not open with the request's key.
    Unreadable,
    /// The relay took the request, but no answer came back within the caller's deadline.
    TimedOut,
    /// The destination's decrypted answer: its RPC status and body.
    Reply { status: u16, body: &'a [u8] },
}

/// What [`Network::report`] concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Report {
    /// Ask [`Network::next_step`] again.
    Continue,
    /// The reply just reported is the answer to the caller's request.
    Done,
    /// The exchange is over without an answer.
    Failed(Failure),
}

/// Why an exchange ended without an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The relay could not be reached: back off. No node is to blame.
    Offline,
    /// The relay is rate-limiting this device (429): back off.
    RateLimited,
    /// The relay refused with its own status.
    Relay(u16),
    /// 406/425: this device's clock is too far off the network's; re-sync, do not retry.
    ClockOutOfSync,
    /// `Oxen Server error`: a node gave up on the request; retrying will not help.
    ServerError,
    /// The request is over the network's 10 MiB limit (413).
    TooLarge,
    /// The destination refused the request itself (its status and the start of its answer).
    Rejected { status: u16, body: String },
    /// Not even one path could be built.
    NoPath(NetworkError),
    /// No destination could be reached.
    Unreachable,
    /// Requests went unanswered within their deadline.
    TimedOut,
    /// The relay's node list is not the network's (see [`super::anchors`]): nothing is sent
    /// through it.
    NodeListRefused(super::anchors::Refusal),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Offline => f.write_str("the relay could not be reached"),
            Failure::RateLimited => f.write_str("the relay asks this device to slow down"),
            Failure::Relay(status) => write!(f, "the relay refused (HTTP {status})"),
            Failure::ClockOutOfSync => f.write_str("this device's clock is too far off the network's"),
            Failure::ServerError => f.write_str("a service node gave up on the request"),
            Failure::TooLarge => f.write_str("the request is larger than the network accepts"),
            Failure::Rejected { status, body } => write!(f, "the service node refused ({status}): {body}"),
            Failure::NoPath(e) => write!(f, "no onion path: {e}"),
            Failure::Unreachable => f.write_str("no service node could be reached"),
            Failure::TimedOut => f.write_str("the service nodes did not answer in time"),
            Failure::NodeListRefused(r) => r.fmt(f),
        }
    }
}

impl std::error::Error for Failure {}

fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(EXCERPT_CHARS).collect()
}

/// The search for one destination: which nodes and paths were tried, and which path is
/// suspected of a failure that could also have been the destination's.
#[derive(Clone, Debug, Default)]
struct Leg {
    dest: Option<NodeRecord>,
    tried_nodes: HashSet<[u8; 32]>,
    tried_paths: HashSet<[u8; 32]>,
    suspect: Option<[u8; 32]>,
}

impl Leg {
    /// Moves on from the current destination.
    fn next_destination(&mut self) {
        if let Some(d) = self.dest.take() {
            self.tried_nodes.insert(d.ed25519);
        }
        self.tried_paths.clear();
        self.suspect = None;
    }
}

#[derive(Clone, Debug)]
struct InFlight {
    guard: [u8; 32],
    destination: NodeRecord,
    payload: Payload,
}

/// One logical request (see the module docs).
#[derive(Clone, Debug)]
pub struct Exchange {
    target: Target,
    prefer: Option<[u8; 32]>,
    avoid: Option<[u8; 32]>,
    main: Leg,
    ask: Leg,
    asks: u8,
    tests: u8,
    sends: u8,
    fetched: bool,
    refetch: bool,
    unknown_to_relay: HashSet<[u8; 32]>,
    in_flight: Option<InFlight>,
    last: Option<Failure>,
    /// Destinations given up on because two paths failed to reach them.
    unreached: u8,
    /// Requests that went unanswered within their deadline.
    timeouts: u8,
    /// Paths that left a request unanswered: not used again in this exchange while another is.
    slow_paths: HashSet<[u8; 32]>,
}

impl Exchange {
    fn new(target: Target) -> Exchange {
        Exchange {
            target,
            prefer: None,
            avoid: None,
            main: Leg::default(),
            ask: Leg::default(),
            asks: 0,
            tests: 0,
            sends: 0,
            fetched: false,
            refetch: false,
            unknown_to_relay: HashSet::new(),
            in_flight: None,
            last: None,
            unreached: 0,
            timeouts: 0,
            slow_paths: HashSet::new(),
        }
    }

    /// A request for a member of `owner`'s swarm (store, retrieve).
    pub fn to_swarm(owner: SessionId) -> Exchange {
        Exchange::new(Target::Swarm(owner))
    }

    /// A request any node can answer (`info`, for the network time).
    pub fn to_any_node() -> Exchange {
        Exchange::new(Target::AnyNode)
    }

    /// A v4 request for a server behind a path's last hop (a file server, a community server).
    /// Each send goes through another path; whatever the server answers, errors included, is
    /// the answer ([`Report::Done`]): the caller reads its status. Failures on the way strike
    /// nothing, as they may be the server's (down, slow) rather than the path's, and a server
    /// that is down must not cost the messaging paths their nodes.
    pub fn to_server() -> Exchange {
        Exchange::new(Target::Server)
    }

    /// Prefers this destination while it is usable (the next page of a retrieve).
    pub fn prefer(mut self, node: Option<[u8; 32]>) -> Exchange {
        self.prefer = node;
        self
    }

    /// Passes this destination over while the swarm has another member (a second request sent
    /// beside a slow first one goes elsewhere).
    pub fn avoid(mut self, node: Option<[u8; 32]>) -> Exchange {
        self.avoid = node;
        self
    }

    /// Passes the path of this guard over while another path can reach the destination (a second
    /// request sent beside a slow first one goes another way too).
    pub fn avoid_path(mut self, guard: Option<[u8; 32]>) -> Exchange {
        if let Some(g) = guard {
            self.slow_paths.insert(g);
        }
        self
    }

    /// The destination of the caller's request at the moment, if one is chosen.
    pub fn destination(&self) -> Option<[u8; 32]> {
        self.main.dest.as_ref().map(|d| d.ed25519)
    }

    /// The guard of the path the last request went through, if one was sent.
    pub fn guard(&self) -> Option<[u8; 32]> {
        self.in_flight.as_ref().map(|f| f.guard)
    }

    /// Onion requests sent so far.
    pub fn sends(&self) -> u8 {
        self.sends
    }

    fn leg(&mut self, payload: Payload) -> Option<&mut Leg> {
        match payload {
            Payload::Request => Some(&mut self.main),
            Payload::GetSwarm(_) => Some(&mut self.ask),
            Payload::Info => None,
        }
    }

    fn give_up(&mut self) -> Failure {
        self.last.take().unwrap_or(Failure::Unreachable)
    }
}

impl Network {
    /// What `ex` should do next.
    pub fn next_step(&mut self, ex: &mut Exchange, rng: &mut impl CryptoRngCore, now_ms: u64) -> Step {
        ex.in_flight = None;
        if ex.sends >= MAX_SENDS {
            return Step::Failed(ex.give_up());
        }
        if ex.refetch || (!ex.fetched && self.pool_needs_fetch(now_ms)) {
            return self.fetch(ex, now_ms);
        }
        if let Err(e) = self.build_paths(rng) {
            if !ex.fetched {
                return self.fetch(ex, now_ms);
            }
            return Step::Failed(Failure::NoPath(e));
        }
        if ex.tests < MAX_TESTS
            && let Some(send) = self.test_send(rng)
        {
            ex.tests += 1;
            return self.launch(ex, send);
        }
        if let Target::Swarm(owner) = ex.target
            && self.swarm_is_short(&owner)
            && let Some(send) = self.leg_send(ex, Payload::GetSwarm(owner), rng, now_ms)
        {
            return self.launch(ex, send);
        }
        match self.leg_send(ex, Payload::Request, rng, now_ms) {
            Some(send) => self.launch(ex, send),
            None => Step::Failed(ex.give_up()),
        }
    }

    fn fetch(&mut self, ex: &mut Exchange, now_ms: u64) -> Step {
        ex.refetch = false;
        ex.fetched = true;
        self.pool_fetched_at = Some(now_ms);
        Step::FetchNodes
    }

    fn launch(&self, ex: &mut Exchange, send: Send) -> Step {
        ex.in_flight =
            Some(InFlight { guard: send.guard, destination: send.destination.clone(), payload: send.payload });
        Step::Send(send)
    }

    /// An `info` through the first untested path, to a random node outside it.
    fn test_send(&self, rng: &mut impl CryptoRngCore) -> Option<Send> {
        let path = self.paths.iter().find(|p| p.is_complete() && !p.is_tested())?;
        let outside: Vec<&NodeRecord> = self.pool.iter().filter(|n| !path.contains(&n.ed25519)).collect();
        let destination = (*pick(rng, &outside)?).clone();
        Some(Send { guard: path.guard()?.ed25519, hops: path.keys(), destination, payload: Payload::Info })
    }

    /// The next send of the leg `payload` belongs to, or `None` when it has no destination left.
    fn leg_send(
        &mut self,
        ex: &mut Exchange,
        payload: Payload,
        rng: &mut impl CryptoRngCore,
        now_ms: u64,
    ) -> Option<Send> {
        let (target, prefer, asks, avoid) = (ex.target, ex.prefer, ex.asks, ex.avoid);
        let slow_paths = ex.slow_paths.clone();
        if target == Target::Server {
            return self.server_send(ex, payload, rng);
        }
        self.slow.retain(|_, until| *until > now_ms);
        loop {
            let source: &[NodeRecord] = match (payload, target) {
                (Payload::Request, Target::Swarm(owner)) => self.swarm(&owner),
                _ => &self.pool,
            };
            let leg = ex.leg(payload)?;
            if let Some(d) = &leg.dest
                && !source.iter().any(|n| n.ed25519 == d.ed25519)
            {
                // Dropped meanwhile (node not found, three strikes, a 421).
                leg.next_destination();
            }
            if leg.dest.is_none() {
                if matches!(payload, Payload::GetSwarm(_)) && asks >= MAX_SWARM_ASKS {
                    return None;
                }
                let untried: Vec<&NodeRecord> =
                    source.iter().filter(|n| !leg.tried_nodes.contains(&n.ed25519)).collect();
                // A node that recently left a request unanswered (or one the caller asked to avoid)
                // only if no other is left.
                let avoided = |n: &NodeRecord| payload == Payload::Request && avoid == Some(n.ed25519);
                let answering: Vec<&NodeRecord> =
                    untried.iter().copied().filter(|n| !self.slow.contains_key(&n.ed25519) && !avoided(n)).collect();
                let candidates = if answering.is_empty() { untried } else { answering };
                let preferred = prefer
                    .filter(|_| payload == Payload::Request)
                    .and_then(|p| candidates.iter().copied().find(|n| n.ed25519 == p));
                leg.dest = Some(preferred.or_else(|| pick(rng, &candidates).copied())?.clone());
                if matches!(payload, Payload::GetSwarm(_)) {
                    ex.asks += 1;
                }
            }
            let leg = ex.leg(payload)?;
            let dest = leg.dest.clone()?;
            // A path that left a request unanswered only if no other can reach the destination.
            let avoiding: HashSet<[u8; 32]> = leg.tried_paths.union(&slow_paths).copied().collect();
            let path = match self.path_for(rng, &dest.ed25519, &avoiding) {
                Some(path) => Some(path),
                None => self.path_for(rng, &dest.ed25519, &leg.tried_paths),
            };
            if let Some(path) = path {
                return Some(Send { guard: path.guard()?.ed25519, hops: path.keys(), destination: dest, payload });
            }
            // No path left that could reach it. A path that failed on the way is blamed, as
            // there is no other to tell whether it or the destination was at fault.
            let suspect = leg.suspect.take();
            leg.next_destination();
            if let Some(s) = suspect {
                self.strike_path(&s, true);
            }
        }
    }

    /// A send for a server: through a complete path not yet tried in this exchange (one that left
    /// a request unanswered only if no other is left), the request ending at its last hop.
    fn server_send(&self, ex: &mut Exchange, payload: Payload, rng: &mut impl CryptoRngCore) -> Option<Send> {
        let tried = &ex.main.tried_paths;
        let usable = |avoid_slow: bool| -> Vec<&super::paths::Path> {
            self.paths
                .iter()
                .filter(|p| p.is_complete())
                .filter(|p| {
                    p.guard().is_some_and(|g| {
                        !(tried.contains(&g.ed25519) || (avoid_slow && ex.slow_paths.contains(&g.ed25519)))
                    })
                })
                .collect()
        };
        let fresh = usable(true);
        let candidates = if fresh.is_empty() { usable(false) } else { fresh };
        let path = *pick(rng, &candidates)?;
        let last = path.hops().last()?.clone();
        Some(Send { guard: path.guard()?.ed25519, hops: path.keys(), destination: last, payload })
    }

    /// What came back from a send to a server: its answer ends the exchange; anything else tries
    /// another path, striking nothing (see [`Exchange::to_server`]).
    fn server_report(&mut self, ex: &mut Exchange, flight: &InFlight, attempt: Attempt<'_>) -> Report {
        ex.main.tried_paths.insert(flight.guard);
        match attempt {
            Attempt::Unsent => Report::Failed(Failure::Offline),
            Attempt::Nodes(list) => {
                self.set_pool(list);
                Report::Continue
            }
            Attempt::Reply { .. } => {
                self.path_succeeded(&flight.guard);
                Report::Done
            }
            Attempt::TimedOut => {
                ex.timeouts = ex.timeouts.saturating_add(1);
                ex.slow_paths.insert(flight.guard);
                ex.last = Some(Failure::TimedOut);
                if ex.timeouts >= MAX_TIMEOUTS { Report::Failed(Failure::TimedOut) } else { Report::Continue }
            }
            Attempt::Unreadable => {
                ex.last = Some(Failure::Unreachable);
                Report::Continue
            }
            Attempt::Http { status, body } => match (status, classify_path_failure(status, body)) {
                (429, _) => Report::Failed(Failure::RateLimited),
                (413, _) | (_, PathFailure::TooLarge) => Report::Failed(Failure::TooLarge),
                (404, _) => {
                    // Only the relay answers 404: it does not know the guard.
                    ex.refetch = true;
                    Report::Continue
                }
                (_, PathFailure::NextNodeNotFound(key)) => {
                    self.drop_node(&key);
                    Report::Continue
                }
                (_, PathFailure::ClockOutOfSync) => {
                    ex.last = Some(Failure::ClockOutOfSync);
                    Report::Continue
                }
                _ => {
                    ex.last = Some(Failure::Unreachable);
                    Report::Continue
                }
            },
        }
    }

    /// Applies what came back from the last step of `ex` (local time `now_ms`).
    pub fn report(&mut self, ex: &mut Exchange, attempt: Attempt<'_>, now_ms: u64) -> Report {
        let Some(flight) = ex.in_flight.take() else {
            return match attempt {
                Attempt::Nodes(list) => {
                    self.set_pool(list);
                    Report::Continue
                }
                Attempt::Unsent | Attempt::TimedOut => Report::Failed(Failure::Offline),
                Attempt::Http { status: 429, .. } => Report::Failed(Failure::RateLimited),
                Attempt::Http { status, .. } => Report::Failed(Failure::Relay(status)),
                Attempt::Unreadable | Attempt::Reply { .. } => Report::Continue,
            };
        };
        ex.sends = ex.sends.saturating_add(1);
        if ex.target == Target::Server && flight.payload == Payload::Request {
            return self.server_report(ex, &flight, attempt);
        }
        match attempt {
            Attempt::Unsent => Report::Failed(Failure::Offline),
            Attempt::TimedOut => self.timed_out(ex, &flight, now_ms),
            Attempt::Nodes(list) => {
                self.set_pool(list);
                Report::Continue
            }
            Attempt::Http { status, body } => self.path_error(ex, &flight, status, body, now_ms),
            Attempt::Unreadable => {
                self.unexplained_failure(ex, &flight);
                Report::Continue
            }
            Attempt::Reply { status, body } => self.destination_answer(ex, &flight, status, body, now_ms),
        }
    }

    /// A plain-text answer instead of the destination's: the relay's own, or a hop's.
    fn path_error(&mut self, ex: &mut Exchange, flight: &InFlight, status: u16, body: &[u8], now_ms: u64) -> Report {
        let text = body.trim_ascii();
        match status {
            429 => return Report::Failed(Failure::RateLimited),
            // Only the relay answers 404 here: it does not know the guard.
            404 => {
                if ex.unknown_to_relay.insert(flight.guard) {
                    ex.refetch = true;
                } else {
                    self.drop_node(&flight.guard);
                }
                return Report::Continue;
            }
            413 => return Report::Failed(Failure::TooLarge),
            502 if text == relay::GUARD_UNREACHABLE.as_bytes() => {
                self.strike_path(&flight.guard, false);
                if let Some(leg) = ex.leg(flight.payload) {
                    leg.tried_paths.insert(flight.guard);
                }
                ex.last = Some(Failure::Unreachable);
                return Report::Continue;
            }
            _ => {}
        }
        match classify_path_failure(status, body) {
            PathFailure::NextNodeNotFound(key) => {
                self.drop_node(&key);
                Report::Continue
            }
            PathFailure::NodeNotReady(key) => {
                self.strike_node(&key);
                if let Some(leg) = ex.leg(flight.payload) {
                    if key == flight.destination.ed25519 {
                        leg.next_destination();
                    } else {
                        leg.tried_paths.insert(flight.guard);
                    }
                }
                Report::Continue
            }
            PathFailure::ClockOutOfSync => {
                self.forget_time(now_ms);
                Report::Failed(Failure::ClockOutOfSync)
            }
            PathFailure::ServerError => Report::Failed(Failure::ServerError),
            PathFailure::TooLarge => Report::Failed(Failure::TooLarge),
            PathFailure::WrongSwarm => {
                self.wrong_swarm(ex, flight, body);
                Report::Continue
            }
            PathFailure::Timeout | PathFailure::Refused | PathFailure::Other => {
                self.unexplained_failure(ex, flight);
                Report::Continue
            }
        }
    }

    /// No answer within the deadline: a node on the path or the destination is dead but still
    /// listed (see the module docs).
    fn timed_out(&mut self, ex: &mut Exchange, flight: &InFlight, now_ms: u64) -> Report {
        ex.timeouts = ex.timeouts.saturating_add(1);
        ex.last = Some(Failure::TimedOut);
        ex.slow_paths.insert(flight.guard);
        let Some(leg) = ex.leg(flight.payload) else {
            // A path test: the destination was random, the path is what is tested.
            self.strike_path(&flight.guard, true);
            return if ex.timeouts >= MAX_TIMEOUTS { Report::Failed(Failure::TimedOut) } else { Report::Continue };
        };
        leg.next_destination();
        let dest = flight.destination.ed25519;
        self.slow.insert(dest, now_ms.saturating_add(SLOW_FOR_MS));
        self.strike_node(&dest);
        self.strike_path(&flight.guard, false);
        if ex.timeouts >= MAX_TIMEOUTS { Report::Failed(Failure::TimedOut) } else { Report::Continue }
    }

    /// A failure that the path or the destination could have caused.
    fn unexplained_failure(&mut self, ex: &mut Exchange, flight: &InFlight) {
        ex.last = Some(Failure::Unreachable);
        let Some(leg) = ex.leg(flight.payload) else {
            // A path test: the destination was random, the path is what is tested.
            self.strike_path(&flight.guard, true);
            return;
        };
        match leg.suspect {
            Some(other) if other != flight.guard => {
                // Two paths with no node in common failed to reach it: the destination is down —
                // unless another member was just as unreachable through the same paths, when the
                // paths are the likelier cause (a dead hop in each): then they are struck too,
                // hops and all, so that they are rebuilt rather than every member dropped.
                leg.next_destination();
                self.strike_node(&flight.destination.ed25519);
                ex.unreached = ex.unreached.saturating_add(1);
                if ex.unreached >= 2 {
                    self.strike_path(&other, true);
                    self.strike_path(&flight.guard, true);
                }
            }
            _ => {
                leg.suspect = Some(flight.guard);
                leg.tried_paths.insert(flight.guard);
            }
        }
    }

    /// The destination answered (decrypted): the path works.
    fn destination_answer(
        &mut self,
        ex: &mut Exchange,
        flight: &InFlight,
        status: u16,
        body: &[u8],
        now_ms: u64,
    ) -> Report {
        // Another path failed to reach this destination, which this one just reached.
        if let Some(suspect) = ex.leg(flight.payload).and_then(|leg| leg.suspect.take()) {
            self.strike_path(&suspect, true);
        }
        self.path_succeeded(&flight.guard);
        self.slow.remove(&flight.destination.ed25519);
        if let Some(t) = serde_json::from_slice::<Value>(body).ok().and_then(|v| v.get("t").and_then(Value::as_u64)) {
            // A `t` far off the local clock is not kept (see `time`).
            self.record_time(&flight.destination.ed25519, now_ms, t);
        }
        let dest = flight.destination.ed25519;
        match status {
            200..=299 => {
                self.node_succeeded(&dest);
                match flight.payload {
                    Payload::Request => Report::Done,
                    Payload::Info => Report::Continue,
                    Payload::GetSwarm(owner) => {
                        match parse_swarm(body) {
                            Ok(members) => self.set_swarm(owner, members),
                            Err(_) => self.strike_node(&dest),
                        }
                        ex.ask.next_destination();
                        Report::Continue
                    }
                }
            }
            // A node whose own clock is off the time the others agree on judges by that clock:
            // the error is its own. Another member is asked, and it is passed over as a
            // destination while its swarm has another (as a slow one is). No strike: as a hop its
            // clock does not matter, and dropping it could leave a small network short of paths.
            406 | 425 if self.clock_is_off(&dest, now_ms) && ex.leg(flight.payload).is_some() => {
                self.slow.insert(dest, now_ms.saturating_add(SLOW_FOR_MS));
                if let Some(leg) = ex.leg(flight.payload) {
                    leg.next_destination();
                }
                ex.last = Some(Failure::ClockOutOfSync);
                Report::Continue
            }
            406 | 425 => {
                self.forget_time(now_ms);
                Report::Failed(Failure::ClockOutOfSync)
            }
            421 => {
                self.wrong_swarm(ex, flight, body);
                Report::Continue
            }
            400..=499 if flight.payload == Payload::Request => {
                Report::Failed(Failure::Rejected { status, body: excerpt(body) })
            }
            _ => {
                self.strike_node(&dest);
                if let Some(leg) = ex.leg(flight.payload) {
                    leg.next_destination();
                    ex.last = Some(Failure::Rejected { status, body: excerpt(body) });
                }
                Report::Continue
            }
        }
    }

    /// 421: the destination is not in the account's swarm. With `snodes`, the cached swarm is
    /// replaced; without, that node leaves it. Either way it gets a strike and another member
    /// is tried.
    fn wrong_swarm(&mut self, ex: &mut Exchange, flight: &InFlight, body: &[u8]) {
        let dest = flight.destination.ed25519;
        if let (Target::Swarm(owner), Payload::Request) = (ex.target, flight.payload) {
            match parse_swarm(body) {
                Ok(members) => self.set_swarm(owner, members),
                Err(_) => self.remove_from_swarm(&owner, &dest),
            }
        }
        self.strike_node(&dest);
        if let Some(leg) = ex.leg(flight.payload) {
            leg.next_destination();
        }
        ex.last = Some(Failure::Unreachable);
    }
}

#[cfg(test)]
mod tests;
