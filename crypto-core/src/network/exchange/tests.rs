//! Every decision of an exchange, against a scripted network.

use serde_json::json;

use super::*;
use crate::network::Path;
use crate::network::paths::tests::node;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// What the scripted network answers to one send.
enum Answer {
    Unsent,
    TimedOut,
    Http(u16, Vec<u8>),
    Unreadable,
    Reply(u16, Vec<u8>),
}

fn http(status: u16, body: &str) -> Answer {
    Answer::Http(status, body.as_bytes().to_vec())
}

fn pool() -> Vec<NodeRecord> {
    (1..=12).map(|i| node(i, i)).collect()
}

fn members(range: std::ops::RangeInclusive<u8>) -> Vec<NodeRecord> {
    range.map(|i| node(i, i)).collect()
}

fn owner() -> SessionId {
    format!("05{}", "ab".repeat(32)).parse().unwrap()
}

fn swarm_json(members: &[NodeRecord]) -> Vec<u8> {
    let snodes: Vec<Value> = members
        .iter()
        .map(|n| {
            json!({"ip": n.ip, "port_https": n.port, "port": n.port.to_string(),
                "pubkey_ed25519": hex::encode(n.ed25519), "pubkey_x25519": hex::encode(n.x25519)})
        })
        .collect();
    // No `swarm` id: the records then equal the pool's, which have none.
    json!({"snodes": snodes, "t": 5_000}).to_string().into_bytes()
}

/// A network where everything works and `swarm` is the account's swarm: other nodes answer
/// requests with 421 and the right swarm, as real nodes do.
fn healthy(swarm: Vec<NodeRecord>) -> impl FnMut(&Send) -> Answer {
    move |send| match send.payload {
        Payload::Info => Answer::Reply(200, br#"{"version":[2,6,2],"timestamp":5000,"t":5000}"#.to_vec()),
        Payload::GetSwarm(_) => Answer::Reply(200, swarm_json(&swarm)),
        Payload::Request if swarm.contains(&send.destination) => {
            Answer::Reply(200, br#"{"hash":"h","t":5000}"#.to_vec())
        }
        Payload::Request => Answer::Reply(421, swarm_json(&swarm)),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Fetch,
    Info,
    GetSwarm,
    Request,
}

/// Drives `ex` to its end; returns how it ended and every step taken.
fn run(
    net: &mut Network,
    ex: &mut Exchange,
    rng: &mut ChaCha20Rng,
    answer: impl FnMut(&Send) -> Answer,
) -> (Result<(), Failure>, Vec<Step>) {
    run_at(net, ex, rng, 0, answer)
}

/// [`run`] at local time `now`.
fn run_at(
    net: &mut Network,
    ex: &mut Exchange,
    rng: &mut ChaCha20Rng,
    now: u64,
    mut answer: impl FnMut(&Send) -> Answer,
) -> (Result<(), Failure>, Vec<Step>) {
    let mut log = Vec::new();
    for _ in 0..100 {
        let step = net.next_step(ex, rng, now);
        log.push(step.clone());
        let report = match &step {
            Step::FetchNodes => net.report(ex, Attempt::Nodes(pool()), now),
            Step::Failed(f) => return (Err(f.clone()), log),
            Step::Send(send) => {
                assert!(send.hops.iter().all(|h| h.ed25519 != send.destination.ed25519), "destination in its path");
                assert_eq!(send.hops.len(), 3);
                assert_eq!(send.hops.first().map(|h| h.ed25519), Some(send.guard));
                match answer(send) {
                    Answer::Unsent => net.report(ex, Attempt::Unsent, now),
                    Answer::TimedOut => net.report(ex, Attempt::TimedOut, now),
                    Answer::Http(status, body) => net.report(ex, Attempt::Http { status, body: &body }, now),
                    Answer::Unreadable => net.report(ex, Attempt::Unreadable, now),
                    Answer::Reply(status, body) => net.report(ex, Attempt::Reply { status, body: &body }, now),
                }
            }
        };
        match report {
            Report::Done => return (Ok(()), log),
            Report::Failed(f) => return (Err(f), log),
            Report::Continue => {}
        }
    }
    panic!("the exchange never ended: {log:?}");
}

fn kinds(log: &[Step]) -> Vec<Kind> {
    log.iter()
        .filter_map(|s| match s {
            Step::FetchNodes => Some(Kind::Fetch),
            Step::Send(s) => Some(match s.payload {
                Payload::Info => Kind::Info,
                Payload::GetSwarm(_) => Kind::GetSwarm,
                Payload::Request => Kind::Request,
            }),
            Step::Failed(_) => None,
        })
        .collect()
}

fn sends(log: &[Step]) -> Vec<&Send> {
    log.iter()
        .filter_map(|s| match s {
            Step::Send(s) => Some(s),
            _ => None,
        })
        .collect()
}

fn requests(log: &[Step]) -> Vec<&Send> {
    sends(log).into_iter().filter(|s| s.payload == Payload::Request).collect()
}

/// A network with tested paths and `swarm` cached for [`owner`].
fn ready(swarm: &[NodeRecord], rng: &mut ChaCha20Rng) -> Network {
    let mut net = Network::default();
    let (result, _) = run(&mut net, &mut Exchange::to_swarm(owner()), rng, healthy(swarm.to_vec()));
    assert_eq!(result, Ok(()));
    assert_eq!(net.swarm(&owner()), swarm);
    assert!(net.paths().iter().all(Path::is_tested));
    net
}

fn all_strikes(net: &Network) -> Vec<u8> {
    let mut s: Vec<u8> = pool().iter().map(|n| net.node_strikes(&n.ed25519)).collect();
    s.extend(net.paths().iter().map(Path::strikes));
    s
}

/// Pool nodes in no path (so no success through a path forgives their strikes).
fn outside_paths(net: &Network) -> Vec<NodeRecord> {
    pool().into_iter().filter(|n| net.paths().iter().all(|p| p.hops().iter().all(|h| h.ed25519 != n.ed25519))).collect()
}

fn guard_of(net: &Network, i: usize) -> [u8; 32] {
    net.paths()[i].hops()[0].ed25519
}

#[test]
fn the_swarm_is_learned_with_get_swarm_then_cached() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let swarm = members(9..=12);
    let mut net = Network::default();
    let (result, log) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, healthy(swarm.clone()));
    assert_eq!(result, Ok(()), "{:?}", kinds(&log));
    // The node list, one `info` through each new path, `get_swarm` to a random node, the request.
    assert_eq!(kinds(&log), [Kind::Fetch, Kind::Info, Kind::Info, Kind::GetSwarm, Kind::Request]);
    assert_eq!(sends(&log)[2].payload, Payload::GetSwarm(owner()));
    assert_eq!(net.swarm(&owner()), swarm);
    assert!(swarm.contains(&requests(&log)[0].destination));
    assert_eq!(net.network_now(0), 5_000, "the nodes' `t` sets the network time");
    // Cached and tested: the next exchange is the request alone.
    let (result, log) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, healthy(swarm));
    assert_eq!(result, Ok(()));
    assert_eq!(kinds(&log), [Kind::Request]);
}

#[test]
fn a_swarm_with_fewer_than_three_members_is_asked_for_again() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let swarm = members(9..=12);
    let mut net = ready(&swarm, &mut rng);
    net.set_swarm(owner(), members(9..=10));
    let (result, log) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, healthy(swarm.clone()));
    assert_eq!(result, Ok(()));
    assert_eq!(kinds(&log), [Kind::GetSwarm, Kind::Request]);
    assert_eq!(net.swarm(&owner()), swarm);
    net.set_swarm(owner(), members(9..=11));
    let (_, log) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, healthy(swarm));
    assert_eq!(kinds(&log), [Kind::Request], "three are enough");
}

#[test]
fn a_failed_get_swarm_asks_another_node_then_uses_what_is_left() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let swarm = members(9..=12);
    let mut net = ready(&swarm, &mut rng);
    net.set_swarm(owner(), members(9..=10));
    let mut asked = Vec::new();
    let mut inner = healthy(swarm);
    let (result, log) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, |send| match send.payload {
        Payload::GetSwarm(_) => {
            asked.push(send.destination.ed25519);
            Answer::Reply(503, b"Service node is not ready".to_vec())
        }
        _ => inner(send),
    });
    assert_eq!(result, Ok(()));
    assert_eq!(kinds(&log), [Kind::GetSwarm, Kind::GetSwarm, Kind::Request]);
    assert_ne!(asked[0], asked[1], "another node the second time");
    let served = &requests(&log)[0].destination;
    assert!(members(9..=10).contains(served), "the two known members still serve");
    for a in &asked {
        // Each refusing node got a strike, unless it then answered the request (and was forgiven).
        assert_eq!(net.node_strikes(a), u8::from(*a != served.ed25519));
    }
}

#[test]
fn a_421_with_snodes_replaces_the_swarm_and_retries_on_another_member() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let mut net = ready(&members(9..=12), &mut rng);
    let outside = outside_paths(&net);
    let (stale, right) = (outside[..3].to_vec(), outside[3..].to_vec());
    net.set_swarm(owner(), stale.clone());
    let (result, log) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, healthy(right.clone()));
    assert_eq!(result, Ok(()));
    let tried = requests(&log);
    assert_eq!(tried.len(), 2, "one 421, then the right swarm");
    assert!(stale.contains(&tried[0].destination));
    assert!(right.contains(&tried[1].destination));
    assert_eq!(net.swarm(&owner()), right, "replaced by the 421's list");
    assert_eq!(net.node_strikes(&tried[0].destination.ed25519), 1, "and a strike on the node");
    assert!(net.paths().iter().all(|p| p.strikes() == 0), "the path did nothing wrong");
}

#[test]
fn a_421_without_snodes_removes_that_node_from_the_swarm() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let mut net = ready(&members(9..=12), &mut rng);
    let swarm = outside_paths(&net)[..4].to_vec();
    net.set_swarm(owner(), swarm.clone());
    let mut first = None;
    let mut inner = healthy(swarm.clone());
    let (result, log) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, |send| {
        if send.payload == Payload::Request && first.is_none() {
            first = Some(send.destination.ed25519);
            return Answer::Reply(421, Vec::new());
        }
        inner(send)
    });
    assert_eq!(result, Ok(()));
    let gone = first.unwrap();
    assert_eq!(kinds(&log), [Kind::Request, Kind::Request], "three members left: no need to ask");
    assert_eq!(net.swarm(&owner()).len(), 3);
    assert!(net.swarm(&owner()).iter().all(|n| n.ed25519 != gone));
    assert_eq!(net.node_strikes(&gone), 1);
    assert_ne!(requests(&log)[1].destination.ed25519, gone);

    // With three members, the removal leaves two: the swarm is asked for again.
    net.set_swarm(owner(), swarm[..3].to_vec());
    let mut first = None;
    let mut inner = healthy(swarm);
    let (result, log) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, |send| {
        if send.payload == Payload::Request && first.is_none() {
            first = Some(send.destination.ed25519);
            return Answer::Reply(421, b"not json".to_vec());
        }
        inner(send)
    });
    assert_eq!(result, Ok(()));
    assert_eq!(kinds(&log), [Kind::Request, Kind::GetSwarm, Kind::Request]);
    assert_ne!(requests(&log)[1].destination.ed25519, first.unwrap(), "not the node that said 421");
}

#[test]
fn next_node_not_found_drops_that_node_from_pool_swarm_and_paths_at_once() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let swarm = members(9..=12);
    let mut net = ready(&swarm, &mut rng);
    // The destination is unknown to the last hop.
    let mut lost = None;
    let mut inner = healthy(swarm.clone());
    let (result, _) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, |send| {
        if send.payload == Payload::Request && lost.is_none() {
            lost = Some(send.destination.ed25519);
            return http(502, &format!("Next node not found: {}", hex::encode(send.destination.ed25519)));
        }
        inner(send)
    });
    assert_eq!(result, Ok(()));
    let lost = lost.unwrap();
    assert!(net.pool().iter().all(|n| n.ed25519 != lost));
    assert!(net.swarm(&owner()).iter().all(|n| n.ed25519 != lost));
    assert!(net.paths().iter().all(|p| p.strikes() == 0), "no strike for the path that reported it");

    // A hop of the path is unknown to the one before it: the path keeps its guard, gets a new hop.
    let mut net = ready(&swarm, &mut rng);
    let guards: Vec<[u8; 32]> = net.guards().to_vec();
    let hop = net.paths()[0].hops()[2].ed25519;
    let mut once = false;
    for _ in 0..50 {
        let mut inner = healthy(swarm.clone());
        let (result, log) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, |send| {
            if send.guard == guards[0] && !once {
                once = true;
                return http(502, &format!("Next node not found: {}", hex::encode(hop)));
            }
            inner(send)
        });
        assert_eq!(result, Ok(()));
        if once {
            assert!(kinds(&log).contains(&Kind::Info), "the repaired path is tested first");
            break;
        }
    }
    assert!(once, "the path was never used");
    assert!(net.pool().iter().all(|n| n.ed25519 != hop));
    assert!(net.paths().iter().all(|p| p.hops().iter().all(|h| h.ed25519 != hop)));
    assert_eq!(net.guards(), guards.as_slice(), "the guard stays");
    assert!(net.paths().iter().all(|p| p.strikes() == 0));
}

#[test]
fn clock_errors_stop_at_once_and_forget_the_time() {
    for answer in [
        http(406, "Timestamp error: check your clock"),
        http(425, ""),
        Answer::Reply(406, b"retrieve timestamp too far from current time".to_vec()),
        Answer::Reply(425, Vec::new()),
    ] {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let swarm = members(9..=12);
        let mut net = ready(&swarm, &mut rng);
        assert!(net.time_samples() > 0);
        let mut answer = Some(answer);
        let mut ex = Exchange::to_swarm(owner());
        // A minute after the samples were taken.
        let (result, log) = run_at(&mut net, &mut ex, &mut rng, 60_000, |_| answer.take().unwrap_or(Answer::Unsent));
        assert_eq!(result, Err(Failure::ClockOutOfSync));
        assert_eq!(ex.sends(), 1, "no retry");
        assert_eq!(requests(&log).len(), 1);
        assert_eq!(net.time_samples(), 0, "the time is to be re-synced");
        assert!(all_strikes(&net).iter().all(|&s| s == 0));
    }
}

#[test]
fn a_clock_error_from_a_node_whose_own_clock_is_off_is_its_own() {
    // Every node answers `t = 5000` at local time 0, but node 9's `t` is ten minutes ahead; it
    // refuses the request as a node judging by a fast clock does.
    let swarm = members(9..=12);
    let fast = swarm[0].ed25519;
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let mut net = ready(&swarm, &mut rng);
    assert!(net.time_agreed(0), "the other nodes agree");
    assert!(net.record_time(&fast, 0, 600_000));
    let mut inner = healthy(swarm.clone());
    let mut refused = 0;
    for _ in 0..3 {
        let (result, _) = run(&mut net, &mut Exchange::to_swarm(owner()).prefer(Some(fast)), &mut rng, |send| {
            if send.destination.ed25519 != fast {
                return inner(send);
            }
            if send.payload == Payload::Request {
                refused += 1;
                return Answer::Reply(406, b"retrieve timestamp too far from current time".to_vec());
            }
            match inner(send) {
                Answer::Reply(status, body) => {
                    Answer::Reply(status, String::from_utf8(body).unwrap().replace("5000", "600000").into_bytes())
                }
                other => other,
            }
        });
        assert_eq!(result, Ok(()), "another member answers");
    }
    assert_eq!(refused, 1, "asked first once, then passed over though preferred");
    assert_eq!(net.node_strikes(&fast), 0, "no strike: as a hop its clock does not matter");
    assert!(net.time_samples() > 1, "the samples are kept");
    assert_eq!(net.network_now(0), 5_000);
    // A node whose clock agrees with the others is believed: the error is this device's.
    let honest = swarm[1].ed25519;
    let (result, _) = run(&mut net, &mut Exchange::to_swarm(owner()).prefer(Some(honest)), &mut rng, |send| {
        if send.payload == Payload::Request { Answer::Reply(406, Vec::new()) } else { inner(send) }
    });
    assert_eq!(result, Err(Failure::ClockOutOfSync));
}

#[test]
fn oxen_server_error_stops_retrying() {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let mut net = ready(&members(9..=12), &mut rng);
    let mut ex = Exchange::to_swarm(owner());
    let (result, _) = run(&mut net, &mut ex, &mut rng, |_| http(500, "Oxen Server error"));
    assert_eq!(result, Err(Failure::ServerError));
    assert_eq!(ex.sends(), 1);
}

#[test]
fn the_relays_own_answers_strike_no_node() {
    for (answer, expected) in [
        (Answer::Unsent, Failure::Offline),
        (http(429, "Too many requests"), Failure::RateLimited),
        (http(413, "Request body too large"), Failure::TooLarge),
    ] {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let mut net = ready(&members(9..=12), &mut rng);
        let paths = net.paths().to_vec();
        let mut ex = Exchange::to_swarm(owner());
        let mut answer = Some(answer);
        let (result, _) = run(&mut net, &mut ex, &mut rng, |_| answer.take().unwrap_or(Answer::Unsent));
        assert_eq!(result, Err(expected));
        assert_eq!(ex.sends(), 1, "stop and back off");
        assert_eq!(net.paths(), paths.as_slice());
        assert!(all_strikes(&net).iter().all(|&s| s == 0));
    }
}

#[test]
fn an_unknown_guard_refreshes_the_node_list_and_is_dropped_the_second_time() {
    let mut rng = ChaCha20Rng::seed_from_u64(10);
    let swarm = members(9..=12);
    let mut net = ready(&swarm, &mut rng);
    let mut once = false;
    let mut inner = healthy(swarm.clone());
    let (result, log) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, |send| {
        if !once {
            once = true;
            return http(404, "Unknown service node");
        }
        inner(send)
    });
    assert_eq!(result, Ok(()));
    assert_eq!(kinds(&log), [Kind::Request, Kind::Fetch, Kind::Request], "fetch the list, then retry");
    assert!(all_strikes(&net).iter().all(|&s| s == 0));

    // The relay still does not know it after the refresh: that guard is not used again.
    let unknown = guard_of(&net, 0);
    for _ in 0..50 {
        if net.path(&unknown).is_none() {
            break;
        }
        let mut inner = healthy(swarm.clone());
        let (result, log) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, |send| {
            if send.guard == unknown { http(404, "Unknown service node") } else { inner(send) }
        });
        assert_eq!(result, Ok(()));
        if requests(&log)[0].guard == unknown {
            assert_eq!(kinds(&log)[..3], [Kind::Request, Kind::Fetch, Kind::Request]);
        }
    }
    assert!(net.path(&unknown).is_none());
    assert!(net.pool().iter().all(|n| n.ed25519 != unknown));
    assert!(all_strikes(&net).iter().all(|&s| s == 0), "a relay's 404 strikes nothing");
}

#[test]
fn a_guard_the_relay_cannot_reach_is_struck_alone_and_dropped_after_three() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let swarm = members(9..=12);
    let mut net = ready(&swarm, &mut rng);
    let down = guard_of(&net, 0);
    let down_hops: Vec<[u8; 32]> = net.paths()[0].hops().iter().skip(1).map(|h| h.ed25519).collect();
    let mut failures = 0;
    for _ in 0..100 {
        if net.path(&down).is_none() {
            break;
        }
        let mut inner = healthy(swarm.clone());
        let (result, _) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, |send| {
            if send.guard == down {
                failures += 1;
                return http(502, "Service node unreachable");
            }
            inner(send)
        });
        assert_eq!(result, Ok(()), "the other path carries it");
        if let Some(p) = net.path(&down) {
            assert_eq!(p.strikes(), failures);
        }
        assert!(down_hops.iter().all(|h| net.node_strikes(h) == 0), "its other hops are not struck");
    }
    assert_eq!(failures, 3);
    assert!(net.pool().iter().all(|n| n.ed25519 != down), "dropped with its path");
    assert!(!net.guards().contains(&down));
    assert_eq!(net.paths().len(), 2, "a new path replaces it");
}

#[test]
fn a_dead_destination_is_blamed_not_the_paths() {
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let mut net = ready(&members(9..=12), &mut rng);
    // Members in no path: a dead one breaks no path, only requests for it.
    let swarm = outside_paths(&net)[..4].to_vec();
    net.set_swarm(owner(), swarm.clone());
    let dead = swarm[0].ed25519;
    for round in 1..=3u8 {
        let mut inner = healthy(swarm.clone());
        let mut ex = Exchange::to_swarm(owner()).prefer(Some(dead));
        let (result, log) = run(&mut net, &mut ex, &mut rng, |send| {
            if send.destination.ed25519 == dead { http(504, "Request time out") } else { inner(send) }
        });
        assert_eq!(result, Ok(()));
        let tried = requests(&log);
        assert_eq!(tried.len(), 3, "both paths to the dead node, then another member");
        assert_ne!(tried[0].guard, tried[1].guard);
        assert!(net.paths().iter().all(|p| p.strikes() == 0), "the paths are not blamed");
        let hops: Vec<[u8; 32]> = net.paths().iter().flat_map(|p| p.hops().iter().map(|h| h.ed25519)).collect();
        assert!(hops.iter().all(|h| net.node_strikes(h) == 0));
        if round < 3 {
            assert_eq!(net.node_strikes(&dead), round);
        }
    }
    assert!(net.swarm(&owner()).iter().all(|n| n.ed25519 != dead), "three strikes: out of the swarm");
    assert!(net.pool().iter().all(|n| n.ed25519 != dead));
}

#[test]
fn members_unreachable_through_both_paths_get_the_paths_rebuilt() {
    let mut rng = ChaCha20Rng::seed_from_u64(21);
    let mut net = ready(&members(9..=12), &mut rng);
    let swarm = outside_paths(&net)[..4].to_vec();
    net.set_swarm(owner(), swarm.clone());
    // Each of today's paths has a dead hop: nothing sent through them gets an answer.
    let broken: Vec<[u8; 32]> = (0..2).map(|i| guard_of(&net, i)).collect();
    let mut outcomes = Vec::new();
    for _ in 0..6 {
        let mut inner = healthy(swarm.clone());
        let (result, _) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, |send| {
            if broken.contains(&send.guard) { http(504, "Request time out") } else { inner(send) }
        });
        outcomes.push(result.clone());
        if result.is_ok() {
            break;
        }
        assert!(
            net.paths().iter().all(|p| p.strikes() > 0 || !p.guard_key().is_some_and(|g| broken.contains(&g))),
            "the paths are struck"
        );
    }
    assert_eq!(outcomes.last(), Some(&Ok(())), "new paths carry the request: {outcomes:?}");
    assert!(
        net.paths().iter().all(|p| !p.guard_key().is_some_and(|g| broken.contains(&g))),
        "both broken paths were replaced"
    );
    assert!(swarm.iter().filter(|m| net.swarm(&owner()).contains(m)).count() >= 2, "the swarm was not emptied");
}

#[test]
fn a_failing_path_is_blamed_when_the_other_gets_through() {
    let mut rng = ChaCha20Rng::seed_from_u64(13);
    for _ in 0..20 {
        let mut net = ready(&members(9..=12), &mut rng);
        // Members in no path, so both paths can reach each of them.
        let swarm = outside_paths(&net)[..4].to_vec();
        net.set_swarm(owner(), swarm.clone());
        let bad = guard_of(&net, 0);
        let bad_hops: Vec<[u8; 32]> = net.paths()[0].hops().iter().skip(1).map(|h| h.ed25519).collect();
        let mut inner = healthy(swarm.clone());
        let (result, log) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, |send| {
            if send.guard == bad { http(504, "Request time out") } else { inner(send) }
        });
        assert_eq!(result, Ok(()));
        let tried = requests(&log);
        if tried[0].guard != bad {
            continue; // the good path was picked first: nothing to blame
        }
        assert_eq!(tried.len(), 2);
        assert_eq!(tried[0].destination, tried[1].destination, "the same node through the other path");
        assert_eq!(net.path(&bad).unwrap().strikes(), 1);
        assert!(bad_hops.iter().all(|h| net.node_strikes(h) == 1), "each of its hops struck");
        assert_eq!(net.node_strikes(&tried[0].destination.ed25519), 0, "the destination is fine");
        return;
    }
    panic!("the bad path was never picked first");
}

#[test]
fn three_failures_drop_a_path_and_its_guard() {
    let mut rng = ChaCha20Rng::seed_from_u64(14);
    let swarm = members(9..=12);
    let mut net = ready(&swarm, &mut rng);
    let bad = guard_of(&net, 0);
    for _ in 0..100 {
        if net.path(&bad).is_none() {
            break;
        }
        let mut inner = healthy(swarm.clone());
        let (result, _) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, |send| {
            if send.guard == bad { Answer::Unreadable } else { inner(send) }
        });
        assert_eq!(result, Ok(()));
    }
    assert!(net.path(&bad).is_none());
    assert!(net.pool().iter().all(|n| n.ed25519 != bad), "the guard goes with its path");
    assert!(!net.guards().contains(&bad));
    net.build_paths(&mut rng).unwrap();
    assert_eq!(net.paths().len(), 2, "and a new path replaces it");
}

#[test]
fn a_destination_refusal_is_final_and_strikes_nothing() {
    let mut rng = ChaCha20Rng::seed_from_u64(15);
    let mut net = ready(&members(9..=12), &mut rng);
    let mut ex = Exchange::to_swarm(owner());
    let (result, _) =
        run(&mut net, &mut ex, &mut rng, |_| Answer::Reply(401, b"retrieve: request signature required".to_vec()));
    assert_eq!(result, Err(Failure::Rejected { status: 401, body: "retrieve: request signature required".into() }));
    assert_eq!(ex.sends(), 1);
    assert!(all_strikes(&net).iter().all(|&s| s == 0));
}

#[test]
fn a_destination_server_error_strikes_it_and_tries_another_member() {
    let mut rng = ChaCha20Rng::seed_from_u64(16);
    let mut net = ready(&members(9..=12), &mut rng);
    let swarm = outside_paths(&net)[..4].to_vec();
    net.set_swarm(owner(), swarm.clone());
    let mut first = None;
    let mut inner = healthy(swarm);
    let (result, log) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, |send| {
        if first.is_none() {
            first = Some(send.destination.ed25519);
            return Answer::Reply(503, b"Service node is not ready".to_vec());
        }
        inner(send)
    });
    assert_eq!(result, Ok(()));
    let first = first.unwrap();
    assert_eq!(net.node_strikes(&first), 1);
    assert_ne!(requests(&log)[1].destination.ed25519, first);
}

#[test]
fn an_exchange_gives_up_within_its_budget() {
    let mut rng = ChaCha20Rng::seed_from_u64(17);
    let mut net = ready(&members(9..=12), &mut rng);
    let mut ex = Exchange::to_swarm(owner());
    let (result, _) = run(&mut net, &mut ex, &mut rng, |_| http(504, "Request time out"));
    assert_eq!(result, Err(Failure::Unreachable));
    assert!(ex.sends() <= MAX_SENDS);
}

#[test]
fn without_the_relay_or_nodes_nothing_is_sent() {
    let mut rng = ChaCha20Rng::seed_from_u64(18);
    let mut net = Network::default();
    let mut ex = Exchange::to_swarm(owner());
    assert_eq!(net.next_step(&mut ex, &mut rng, 0), Step::FetchNodes);
    assert_eq!(net.report(&mut ex, Attempt::Unsent, 0), Report::Failed(Failure::Offline));
    let mut ex = Exchange::to_swarm(owner());
    assert_eq!(net.next_step(&mut ex, &mut rng, 0), Step::FetchNodes);
    assert_eq!(net.report(&mut ex, Attempt::Nodes(Vec::new()), 0), Report::Continue);
    assert_eq!(
        net.next_step(&mut ex, &mut rng, 0),
        Step::Failed(Failure::NoPath(NetworkError::NotEnoughNodes { have: 0, need: 4 }))
    );
    let mut ex = Exchange::to_swarm(owner());
    assert_eq!(net.next_step(&mut ex, &mut rng, 0), Step::FetchNodes);
    assert_eq!(
        net.report(&mut ex, Attempt::Http { status: 429, body: b"Too many requests" }, 0),
        Report::Failed(Failure::RateLimited)
    );
}

#[test]
fn a_failed_path_test_strikes_the_path_and_tests_again() {
    let mut rng = ChaCha20Rng::seed_from_u64(19);
    let swarm = members(9..=12);
    let mut net = Network::default();
    let mut failed_guard = None;
    let mut inner = healthy(swarm);
    let (result, log) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, |send| {
        if send.payload == Payload::Info && failed_guard.is_none() {
            failed_guard = Some(send.guard);
            return http(504, "Request time out");
        }
        inner(send)
    });
    assert_eq!(result, Ok(()));
    assert_eq!(kinds(&log), [Kind::Fetch, Kind::Info, Kind::Info, Kind::Info, Kind::GetSwarm, Kind::Request]);
    let tests: Vec<&Send> = sends(&log).into_iter().filter(|s| s.payload == Payload::Info).collect();
    assert_eq!(tests[0].guard, tests[1].guard, "the same path, tested again");
    let guard = failed_guard.unwrap();
    assert_eq!(net.path(&guard).map(Path::strikes), Some(0), "forgiven once it got through");
}

#[test]
fn the_preferred_member_is_used_while_it_answers() {
    let mut rng = ChaCha20Rng::seed_from_u64(20);
    let swarm = members(9..=12);
    let mut net = ready(&swarm, &mut rng);
    for m in &swarm {
        let (result, log) =
            run(&mut net, &mut Exchange::to_swarm(owner()).prefer(Some(m.ed25519)), &mut rng, healthy(swarm.clone()));
        assert_eq!(result, Ok(()));
        assert_eq!(requests(&log)[0].destination, *m);
    }
}

#[test]
fn any_node_exchanges_need_no_swarm() {
    let mut rng = ChaCha20Rng::seed_from_u64(21);
    let mut net = ready(&members(9..=12), &mut rng);
    let (result, log) = run(&mut net, &mut Exchange::to_any_node(), &mut rng, |_| {
        Answer::Reply(200, br#"{"timestamp":9000,"t":9000}"#.to_vec())
    });
    assert_eq!(result, Ok(()));
    assert_eq!(kinds(&log), [Kind::Request]);
}

/// A member that is dead but still listed leaves the request unanswered: the next send goes to
/// another member through the other path at once (no second deadline spent on it), and later
/// exchanges pass it over while another member is left; it is used again once it answers.
#[test]
fn a_destination_that_does_not_answer_in_time_is_passed_over() {
    let mut rng = ChaCha20Rng::seed_from_u64(41);
    let swarm = members(1..=4);
    let mut net = ready(&swarm, &mut rng);
    let mut dead = None;
    let mut answer = |send: &Send| {
        let d = *dead.get_or_insert(send.destination.ed25519);
        if send.destination.ed25519 == d { Answer::TimedOut } else { healthy(members(1..=4))(send) }
    };
    let (result, log) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, &mut answer);
    assert_eq!(result, Ok(()));
    let tried = requests(&log);
    assert_eq!(tried.len(), 2, "one deadline, then another member: {log:?}");
    assert_ne!(tried[0].destination, tried[1].destination);
    assert_ne!(tried[0].guard, tried[1].guard, "the path that saw no answer is avoided too");
    let dead = dead.unwrap();
    assert_eq!(net.node_strikes(&dead), 1);
    for _ in 0..20 {
        let (result, log) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, healthy(members(1..=4)));
        assert_eq!(result, Ok(()));
        assert!(requests(&log).iter().all(|s| s.destination.ed25519 != dead), "the slow member was chosen again");
    }
    // After its time out, it is a candidate again.
    let later = SLOW_FOR_MS + 1;
    let mut ex = Exchange::to_swarm(owner());
    let mut chosen = Vec::new();
    for _ in 0..40 {
        let Step::Send(send) = net.next_step(&mut ex, &mut rng, later) else { panic!("no send") };
        chosen.push(send.destination.ed25519);
        ex = Exchange::to_swarm(owner());
    }
    assert!(chosen.contains(&dead), "never chosen again after {SLOW_FOR_MS} ms");
}

/// A relay that takes requests and never answers ends the exchange after [`MAX_TIMEOUTS`]
/// deadlines, not [`MAX_SENDS`].
#[test]
fn an_exchange_stops_after_its_timeouts() {
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let mut net = ready(&members(1..=4), &mut rng);
    let (result, log) = run(&mut net, &mut Exchange::to_swarm(owner()), &mut rng, |_| Answer::TimedOut);
    assert_eq!(result, Err(Failure::TimedOut));
    assert_eq!(sends(&log).len(), usize::from(MAX_TIMEOUTS));
}

/// A second request sent beside a slow first one goes to another member while there is one.
#[test]
fn an_avoided_destination_is_passed_over_while_another_member_is_left() {
    let mut rng = ChaCha20Rng::seed_from_u64(43);
    let swarm = members(1..=4);
    let mut net = ready(&swarm, &mut rng);
    for _ in 0..20 {
        let first = Exchange::to_swarm(owner());
        let mut first = first;
        let Step::Send(send) = net.next_step(&mut first, &mut rng, 0) else { panic!("no send") };
        assert_eq!(first.destination(), Some(send.destination.ed25519));
        assert_eq!(first.guard(), Some(send.guard));
        let mut second = Exchange::to_swarm(owner()).avoid(first.destination()).avoid_path(first.guard());
        let Step::Send(other) = net.next_step(&mut second, &mut rng, 0) else { panic!("no send") };
        assert_ne!(other.destination, send.destination);
    }
    // A swarm of one: the avoided member is still used.
    let mut rng = ChaCha20Rng::seed_from_u64(44);
    let only = members(1..=1);
    let mut net = ready(&only, &mut rng);
    let mut ex = Exchange::to_swarm(owner()).avoid(Some(only[0].ed25519));
    let (result, log) = run(&mut net, &mut ex, &mut rng, healthy(only.clone()));
    assert_eq!(result, Ok(()));
    assert_eq!(requests(&log)[0].destination, only[0]);
}

/// Drives a server exchange: every send must end at its path's last hop.
fn run_server(
    net: &mut Network,
    ex: &mut Exchange,
    rng: &mut ChaCha20Rng,
    mut answer: impl FnMut(&Send) -> Answer,
) -> (Result<(), Failure>, Vec<Send>) {
    let mut sent = Vec::new();
    for _ in 0..100 {
        let report = match net.next_step(ex, rng, 0) {
            Step::FetchNodes => net.report(ex, Attempt::Nodes(pool()), 0),
            Step::Failed(f) => return (Err(f), sent),
            Step::Send(send) => {
                let answer = answer(&send);
                if send.payload == Payload::Request {
                    assert_eq!(send.hops.last().map(|h| h.ed25519), Some(send.destination.ed25519));
                    sent.push(send.clone());
                }
                match answer {
                    Answer::Unsent => net.report(ex, Attempt::Unsent, 0),
                    Answer::TimedOut => net.report(ex, Attempt::TimedOut, 0),
                    Answer::Http(status, body) => net.report(ex, Attempt::Http { status, body: &body }, 0),
                    Answer::Unreadable => net.report(ex, Attempt::Unreadable, 0),
                    Answer::Reply(status, body) => net.report(ex, Attempt::Reply { status, body: &body }, 0),
                }
            }
        };
        match report {
            Report::Done => return (Ok(()), sent),
            Report::Failed(f) => return (Err(f), sent),
            Report::Continue => {}
        }
    }
    panic!("the exchange never ended");
}

#[test]
fn a_servers_answer_ends_the_exchange_whatever_its_status() {
    let mut rng = ChaCha20Rng::seed_from_u64(40);
    let mut net = ready(&members(9..=12), &mut rng);
    for status in [200, 404, 413, 500] {
        let mut ex = Exchange::to_server();
        let (result, sent) = run_server(&mut net, &mut ex, &mut rng, |send| match send.payload {
            Payload::Request => Answer::Reply(status, b"{}".to_vec()),
            _ => Answer::Reply(200, br#"{"t":5000}"#.to_vec()),
        });
        assert_eq!(result, Ok(()));
        assert_eq!(sent.len(), 1);
    }
    assert!(all_strikes(&net).iter().all(|&s| s == 0));
}

#[test]
fn a_server_out_of_reach_is_tried_through_each_path_once_and_strikes_nothing() {
    let mut rng = ChaCha20Rng::seed_from_u64(41);
    let mut net = ready(&members(9..=12), &mut rng);
    let mut ex = Exchange::to_server();
    let (result, sent) = run_server(&mut net, &mut ex, &mut rng, |send| match send.payload {
        Payload::Request => http(502, "Server 127.0.0.1:9 is not reachable"),
        _ => Answer::Reply(200, br#"{"t":5000}"#.to_vec()),
    });
    assert_eq!(result, Err(Failure::Unreachable));
    let guards: HashSet<[u8; 32]> = sent.iter().map(|s| s.guard).collect();
    assert_eq!(guards.len(), sent.len(), "one try per path");
    assert_eq!(sent.len(), net.paths().len());
    assert!(all_strikes(&net).iter().all(|&s| s == 0));
}

#[test]
fn a_server_that_answers_through_the_second_path_is_reached() {
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let mut net = ready(&members(9..=12), &mut rng);
    let mut first = true;
    let (result, sent) = run_server(&mut net, &mut Exchange::to_server(), &mut rng, |send| match send.payload {
        Payload::Request if std::mem::take(&mut first) => Answer::TimedOut,
        _ => Answer::Reply(200, b"{}".to_vec()),
    });
    assert_eq!(result, Ok(()));
    assert_eq!(sent.len(), 2);
    assert_ne!(sent[0].guard, sent[1].guard);
}

#[test]
fn a_server_request_too_large_or_rate_limited_stops_at_once() {
    let mut rng = ChaCha20Rng::seed_from_u64(43);
    let mut net = ready(&members(9..=12), &mut rng);
    for (status, failure) in [(413, Failure::TooLarge), (429, Failure::RateLimited)] {
        let (result, sent) = run_server(&mut net, &mut Exchange::to_server(), &mut rng, |send| match send.payload {
            Payload::Request => http(status, ""),
            _ => Answer::Reply(200, b"{}".to_vec()),
        });
        assert_eq!(result, Err(failure));
        assert_eq!(sent.len(), 1);
    }
}
