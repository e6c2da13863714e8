//! Guards and onion paths (protocol-onion §1.2): saved guards are reused while the pool still
//! lists them; every node of every path is distinct and, while the pool allows, in its own /24;
//! strikes drop a path together with its guard, or a node from everywhere.

use std::collections::HashSet;

use rand_core::CryptoRngCore;

use super::{Network, NetworkError, NodeRecord, PATH_COUNT, PATH_LENGTH, STRIKE_LIMIT};
use crate::onion::NodeKeys;

/// A path: the guard first, then the other hops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    hops: Vec<NodeRecord>,
    strikes: u8,
    tested: bool,
}

impl Path {
    /// The hops, the guard first.
    pub fn hops(&self) -> &[NodeRecord] {
        &self.hops
    }

    /// The guard.
    pub fn guard(&self) -> Option<&NodeRecord> {
        self.hops.first()
    }

    /// The onion keys of the hops.
    pub fn keys(&self) -> Vec<NodeKeys> {
        self.hops.iter().map(NodeRecord::keys).collect()
    }

    /// Strikes since its last success.
    pub fn strikes(&self) -> u8 {
        self.strikes
    }

    /// Whether a request through it has been answered by its destination (a new path's first
    /// request is an `info`, which carries no identity).
    pub fn is_tested(&self) -> bool {
        self.tested
    }

    /// Whether it has all its hops (a dropped hop leaves a gap until it is repaired).
    pub fn is_complete(&self) -> bool {
        self.hops.len() == PATH_LENGTH
    }

    pub(super) fn contains(&self, key: &[u8; 32]) -> bool {
        self.hops.iter().any(|h| &h.ed25519 == key)
    }

    pub(super) fn guard_key(&self) -> Option<[u8; 32]> {
        self.guard().map(|g| g.ed25519)
    }

    pub(super) fn retain_hops(&mut self, keep: impl Fn(&NodeRecord) -> bool) {
        let before = self.hops.len();
        self.hops.retain(|h| keep(h));
        if self.hops.len() != before {
            self.tested = false;
        }
    }
}

/// A uniformly random element.
pub(super) fn pick<'a, T>(rng: &mut impl CryptoRngCore, items: &'a [T]) -> Option<&'a T> {
    let len = u64::try_from(items.len()).ok().filter(|&n| n > 0)?;
    items.get(usize::try_from(rng.next_u64() % len).ok()?)
}

impl Network {
    /// The current paths.
    pub fn paths(&self) -> &[Path] {
        &self.paths
    }

    /// The path whose guard is `guard`.
    pub fn path(&self, guard: &[u8; 32]) -> Option<&Path> {
        self.paths.iter().find(|p| p.guard_key().as_ref() == Some(guard))
    }

    /// The guards, in use or saved: what to keep across unlocks.
    pub fn guards(&self) -> &[[u8; 32]] {
        &self.guards
    }

    /// The guards saved last time; [`Network::build_paths`] reuses those the pool still lists.
    pub fn set_guards(&mut self, saved: impl IntoIterator<Item = [u8; 32]>) {
        let mut seen = HashSet::new();
        self.guards = saved.into_iter().filter(|g| seen.insert(*g)).take(PATH_COUNT).collect();
    }

    /// Repairs paths that lost a hop and builds new ones until there are [`PATH_COUNT`]: each of
    /// [`PATH_LENGTH`] nodes, every node of every path distinct, and — while the pool allows —
    /// every node in a different /24. A new path's guard is a saved guard if the pool still
    /// lists one, else a random node. Fails only when not even one path can be built.
    pub fn build_paths(&mut self, rng: &mut impl CryptoRngCore) -> Result<(), NetworkError> {
        let before = self.paths.clone();
        for i in 0..self.paths.len() {
            while self.paths.get(i).is_some_and(|p| !p.is_complete()) {
                let Some(node) = self.free_node(rng) else { break };
                if let Some(p) = self.paths.get_mut(i) {
                    p.hops.push(node);
                    p.tested = false;
                }
            }
        }
        self.paths.retain(Path::is_complete);
        while self.paths.len() < PATH_COUNT {
            let saved = self.guards.iter().filter(|g| !self.in_a_path(g)).find_map(|g| self.listed(g)).cloned();
            let Some(guard) = saved.or_else(|| self.free_node(rng)) else { break };
            self.paths.push(Path { hops: vec![guard], strikes: 0, tested: false });
            let last = self.paths.len() - 1;
            while self.paths.get(last).is_some_and(|p| !p.is_complete()) {
                let Some(node) = self.free_node(rng) else { break };
                if let Some(p) = self.paths.get_mut(last) {
                    p.hops.push(node);
                }
            }
            if self.paths.get(last).is_some_and(|p| !p.is_complete()) {
                self.paths.pop();
                break;
            }
        }
        if self.paths != before {
            self.revision += 1;
        }
        if !self.paths.is_empty() {
            self.guards = self.paths.iter().filter_map(Path::guard_key).collect();
        }
        if self.paths.is_empty() {
            return Err(NetworkError::NotEnoughNodes { have: self.pool.len(), need: PATH_LENGTH + 1 });
        }
        Ok(())
    }

    fn listed(&self, key: &[u8; 32]) -> Option<&NodeRecord> {
        self.pool.iter().find(|n| &n.ed25519 == key)
    }

    fn in_a_path(&self, key: &[u8; 32]) -> bool {
        self.paths.iter().any(|p| p.contains(key))
    }

    /// A random pool node in no path, in a /24 no path uses if there is one. Saved guards not
    /// in a path yet are kept for their own paths unless nothing else is free.
    fn free_node(&self, rng: &mut impl CryptoRngCore) -> Option<NodeRecord> {
        let taken: HashSet<&str> = self.paths.iter().flat_map(|p| p.hops.iter()).map(NodeRecord::subnet).collect();
        let mut free: Vec<&NodeRecord> =
            self.pool.iter().filter(|n| !self.in_a_path(&n.ed25519) && !self.guards.contains(&n.ed25519)).collect();
        if free.is_empty() {
            free = self.pool.iter().filter(|n| !self.in_a_path(&n.ed25519)).collect();
        }
        let diverse: Vec<&NodeRecord> = free.iter().copied().filter(|n| !taken.contains(n.subnet())).collect();
        pick(rng, if diverse.is_empty() { &free } else { &diverse }).map(|n| (*n).clone())
    }

    /// A random complete path that does not contain `destination` and whose guard is not in
    /// `excluded` (paths already tried for it).
    pub fn path_for(
        &self,
        rng: &mut impl CryptoRngCore,
        destination: &[u8; 32],
        excluded: &HashSet<[u8; 32]>,
    ) -> Option<&Path> {
        let usable: Vec<&Path> = self
            .paths
            .iter()
            .filter(|p| p.is_complete() && !p.contains(destination))
            .filter(|p| p.guard_key().is_some_and(|g| !excluded.contains(&g)))
            .collect();
        pick(rng, &usable).copied()
    }

    /// A path for `destination` as [`Network::path_for`] gives, or, when every path contains it
    /// (a network so small that the paths take up all other nodes), a new one built without it in
    /// place of one that contains it. For requests to a node that may be on the paths, such as
    /// the relay check's to its anchors.
    pub fn path_avoiding(
        &mut self,
        rng: &mut impl CryptoRngCore,
        destination: &[u8; 32],
        excluded: &HashSet<[u8; 32]>,
    ) -> Option<Path> {
        if let Some(path) = self.path_for(rng, destination, excluded) {
            return Some(path.clone());
        }
        let blocking = self.paths.iter().find(|p| p.contains(destination)).and_then(Path::guard_key)?;
        self.discard_path(&blocking);
        let at = self.pool.iter().position(|n| &n.ed25519 == destination)?;
        let held = self.pool.remove(at);
        let built = self.build_paths(rng);
        self.pool.insert(at, held);
        built.ok()?;
        self.path_for(rng, destination, excluded).cloned()
    }

    /// A failure on the path of `guard`. After [`STRIKE_LIMIT`] the path is dropped and its guard
    /// with it (from the pool, the swarms and the saved guards). With `hops_too`, every other hop
    /// gets a node strike as well (the failure could be any of them).
    pub fn strike_path(&mut self, guard: &[u8; 32], hops_too: bool) {
        let Some(path) = self.paths.iter_mut().find(|p| p.guard_key().as_ref() == Some(guard)) else { return };
        path.strikes = path.strikes.saturating_add(1);
        let limit = path.strikes >= STRIKE_LIMIT;
        let hops: Vec<[u8; 32]> = path.hops.iter().skip(1).map(|h| h.ed25519).collect();
        if limit {
            self.drop_node(guard);
        }
        if hops_too {
            for h in hops {
                self.strike_node(&h);
            }
        }
    }

    /// A reply came back through the path of `guard`: its strikes are forgiven, and it counts
    /// as tested. (Its nodes' own strikes stay: a node is forgiven when it answers itself.)
    pub fn path_succeeded(&mut self, guard: &[u8; 32]) {
        let Some(path) = self.paths.iter_mut().find(|p| p.guard_key().as_ref() == Some(guard)) else { return };
        path.strikes = 0;
        path.tested = true;
    }

    /// Gives up the path of `guard` at once, keeping its nodes in the pool (which of them failed
    /// is not known): the guard is no longer a saved one, and [`Network::build_paths`] builds a
    /// new path from random nodes. For throwaway paths, such as the relay check's, where a path
    /// that failed once is not worth its strikes.
    pub fn discard_path(&mut self, guard: &[u8; 32]) {
        let before = self.paths.len();
        self.paths.retain(|p| p.guard_key().as_ref() != Some(guard));
        self.guards.retain(|g| g != guard);
        if self.paths.len() != before {
            self.revision += 1;
        }
    }

    /// A failure of one node. After [`STRIKE_LIMIT`] it leaves the pool, the swarms and the paths.
    pub fn strike_node(&mut self, key: &[u8; 32]) {
        let strikes = self.node_strikes.entry(*key).or_insert(0);
        *strikes = strikes.saturating_add(1);
        if *strikes >= STRIKE_LIMIT {
            self.drop_node(key);
        }
    }

    /// A node answered: its strikes are forgiven.
    pub fn node_succeeded(&mut self, key: &[u8; 32]) {
        self.node_strikes.remove(key);
    }

    /// The strikes a node has.
    pub fn node_strikes(&self, key: &[u8; 32]) -> u8 {
        self.node_strikes.get(key).copied().unwrap_or(0)
    }

    /// Removes a node at once (e.g. "Next node not found") from the pool, the swarms and the
    /// paths: a guard takes its path with it (and is no longer a saved guard); another hop
    /// leaves a gap that [`Network::build_paths`] fills.
    pub fn drop_node(&mut self, key: &[u8; 32]) {
        self.pool.retain(|n| &n.ed25519 != key);
        let before = self.paths.len();
        self.paths.retain(|p| p.guard_key().as_ref() != Some(key));
        let mut changed = self.paths.len() != before;
        for p in &mut self.paths {
            if p.contains(key) {
                p.retain_hops(|h| &h.ed25519 != key);
                changed = true;
            }
        }
        self.guards.retain(|g| g != key);
        for members in self.swarms.values_mut() {
            members.retain(|n| &n.ed25519 != key);
        }
        self.node_strikes.remove(key);
        if changed {
            self.revision += 1;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::identity::SessionId;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    pub(crate) fn node(i: u8, subnet: u8) -> NodeRecord {
        NodeRecord { ed25519: [i; 32], x25519: [i; 32], ip: format!("10.0.{subnet}.{i}"), port: 22100, swarm_id: None }
    }

    fn pool(n: u8) -> Vec<NodeRecord> {
        (1..=n).map(|i| node(i, i)).collect()
    }

    fn all_hops(net: &Network) -> Vec<[u8; 32]> {
        net.paths().iter().flat_map(|p| p.hops().iter().map(|h| h.ed25519)).collect()
    }

    #[test]
    fn paths_are_distinct_diverse_and_avoid_the_destination() {
        for seed in 0..50 {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let mut net = Network::new(pool(12));
            net.build_paths(&mut rng).unwrap();
            assert_eq!(net.paths().len(), 2);
            assert!(net.paths().iter().all(|p| p.hops().len() == 3 && !p.is_tested()));
            let distinct: HashSet<_> = all_hops(&net).into_iter().collect();
            assert_eq!(distinct.len(), 6, "every node distinct");
            let subnets: HashSet<_> =
                net.paths().iter().flat_map(|p| p.hops().iter().map(NodeRecord::subnet)).collect();
            assert_eq!(subnets.len(), 6, "distinct /24s when the pool allows");
            let dest = net.paths()[0].hops()[1].ed25519;
            for _ in 0..20 {
                let p = net.path_for(&mut rng, &dest, &HashSet::new()).unwrap();
                assert!(!p.contains(&dest));
            }
            let other = net.paths()[1].guard_key().unwrap();
            assert!(
                net.path_for(&mut rng, &dest, &HashSet::from([other])).is_none(),
                "the only other path is excluded"
            );
        }
    }

    #[test]
    fn one_subnet_still_builds_with_distinct_nodes_and_a_small_pool_builds_what_it_can() {
        let same: Vec<NodeRecord> = (1..=8).map(|i| node(i, 0)).collect();
        let mut net = Network::new(same);
        net.build_paths(&mut ChaCha20Rng::seed_from_u64(1)).unwrap();
        assert_eq!(all_hops(&net).into_iter().collect::<HashSet<_>>().len(), 6);
        let mut five = Network::new(pool(5));
        five.build_paths(&mut ChaCha20Rng::seed_from_u64(1)).unwrap();
        assert_eq!(five.paths().len(), 1, "one path is enough to proceed");
        let mut two = Network::new(pool(2));
        assert_eq!(
            two.build_paths(&mut ChaCha20Rng::seed_from_u64(1)),
            Err(NetworkError::NotEnoughNodes { have: 2, need: 4 })
        );
    }

    #[test]
    fn saved_guards_are_reused_while_the_pool_lists_them() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let mut first = Network::new(pool(12));
        first.build_paths(&mut rng).unwrap();
        let guards = first.guards().to_vec();
        assert_eq!(guards.len(), 2);
        for seed in 0..20 {
            let mut next = Network::new(pool(12));
            next.set_guards(guards.clone());
            next.build_paths(&mut ChaCha20Rng::seed_from_u64(seed)).unwrap();
            let now: Vec<[u8; 32]> = next.paths().iter().filter_map(Path::guard_key).collect();
            assert_eq!(now, guards, "the same guards after an unlock");
        }
        // One saved guard is gone from the list: the other is kept, a new one replaces it.
        let mut next = Network::new(pool(12).into_iter().filter(|n| n.ed25519 != guards[0]).collect());
        next.set_guards(guards.clone());
        next.build_paths(&mut rng).unwrap();
        assert!(next.guards().contains(&guards[1]));
        assert!(!next.guards().contains(&guards[0]));
        assert_eq!(next.guards().len(), 2);
    }

    #[test]
    fn a_discarded_path_is_rebuilt_from_the_pool_which_keeps_its_nodes() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let mut net = Network::new(pool(12));
        net.build_paths(&mut rng).unwrap();
        let (gone, kept) = (net.guards()[0], net.guards()[1]);
        let revision = net.revision;
        net.discard_path(&gone);
        assert_eq!(net.paths().len(), 1);
        assert!(!net.guards().contains(&gone));
        assert_ne!(net.revision, revision);
        assert_eq!(net.pool().len(), 12, "its nodes stay in the pool");
        net.build_paths(&mut rng).unwrap();
        assert_eq!(net.paths().len(), 2);
        assert!(net.guards().contains(&kept));
        // An unknown guard changes nothing.
        let revision = net.revision;
        net.discard_path(&[0xee; 32]);
        assert_eq!((net.paths().len(), net.revision), (2, revision));
    }

    #[test]
    fn in_a_four_node_network_every_node_gets_a_path_that_avoids_it() {
        for seed in 0..20 {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let mut net = Network::new(pool(4));
            net.build_paths(&mut rng).unwrap();
            assert_eq!(net.paths().len(), 1, "one path of three takes all but one node");
            for i in 1..=4 {
                let key = [i; 32];
                let path = net.path_avoiding(&mut rng, &key, &HashSet::new()).expect("a path without it");
                assert!(!path.contains(&key));
                assert!(path.is_complete());
                assert_eq!(net.pool().len(), 4, "the destination stays in the pool");
                // The path handed out is one of the network's, for the request's reply.
                assert!(net.path(&path.guard_key().unwrap()).is_some());
            }
        }
        // Nothing to build from: no path.
        let mut net = Network::new(pool(3));
        assert!(net.build_paths(&mut ChaCha20Rng::seed_from_u64(1)).is_ok());
        assert!(net.path_avoiding(&mut ChaCha20Rng::seed_from_u64(1), &[1; 32], &HashSet::new()).is_none());
    }

    #[test]
    fn three_strikes_drop_a_path_with_its_guard_and_strike_its_hops() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let mut net = Network::new(pool(12));
        net.build_paths(&mut rng).unwrap();
        let hops: Vec<[u8; 32]> = net.paths()[0].hops().iter().map(|h| h.ed25519).collect();
        let guard = hops[0];
        let revision = net.revision();
        net.strike_path(&guard, true);
        net.strike_path(&guard, true);
        assert_eq!(net.paths().len(), 2);
        assert_eq!(net.path(&guard).unwrap().strikes(), 2);
        net.strike_path(&guard, true);
        assert_eq!(net.paths().len(), 1);
        assert!(net.revision() > revision);
        assert!(net.pool().iter().all(|n| n.ed25519 != guard), "the guard leaves the pool with its path");
        assert!(!net.guards().contains(&guard), "and is no longer a saved guard");
        assert!(net.pool().iter().all(|n| n.ed25519 != hops[1] && n.ed25519 != hops[2]), "hop nodes dropped");
        net.build_paths(&mut rng).unwrap();
        assert_eq!(net.paths().len(), 2);
        assert!(!all_hops(&net).contains(&guard));
    }

    #[test]
    fn a_success_forgives_the_path_and_an_answer_forgives_the_node() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let mut net = Network::new(pool(12));
        net.build_paths(&mut rng).unwrap();
        let hops: Vec<[u8; 32]> = net.paths()[0].hops().iter().map(|h| h.ed25519).collect();
        net.strike_path(&hops[0], true);
        net.strike_path(&hops[0], true);
        assert_eq!(net.node_strikes(&hops[1]), 2);
        net.path_succeeded(&hops[0]);
        let path = net.path(&hops[0]).unwrap();
        assert_eq!((path.strikes(), path.is_tested()), (0, true));
        assert_eq!(net.node_strikes(&hops[1]), 2, "its hops' strikes stay");
        net.node_succeeded(&hops[1]);
        assert_eq!(net.node_strikes(&hops[1]), 0);
        net.node_succeeded(&hops[2]);
        // A guard-only failure (the relay could not connect to it) strikes no other hop.
        net.strike_path(&hops[0], false);
        assert_eq!(net.node_strikes(&hops[1]), 0);
        assert_eq!(net.path(&hops[0]).unwrap().strikes(), 1);
    }

    #[test]
    fn dropping_a_node_removes_it_everywhere_and_a_lost_hop_is_replaced() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut net = Network::new(pool(12));
        net.build_paths(&mut rng).unwrap();
        let id: SessionId = format!("05{}", "11".repeat(32)).parse().unwrap();
        net.set_swarm(id, pool(12));
        // A guard: its path goes.
        let guard = net.paths()[1].hops()[0].ed25519;
        net.drop_node(&guard);
        assert_eq!(net.paths().len(), 1);
        assert!(net.swarm(&id).iter().all(|n| n.ed25519 != guard));
        assert!(net.pool().iter().all(|n| n.ed25519 != guard));
        assert!(!net.guards().contains(&guard));
        // A middle hop: the path keeps its guard and gets a new hop on the next build.
        let kept = net.paths()[0].hops()[0].ed25519;
        let middle = net.paths()[0].hops()[1].ed25519;
        net.drop_node(&middle);
        assert!(!net.paths()[0].is_complete());
        assert!(net.path_for(&mut rng, &[0; 32], &HashSet::new()).is_none(), "an incomplete path is not used");
        net.build_paths(&mut rng).unwrap();
        assert_eq!(net.paths().len(), 2);
        assert_eq!(net.paths()[0].hops()[0].ed25519, kept, "same guard");
        assert!(net.paths().iter().all(|p| p.is_complete() && !p.contains(&middle)));
        assert_eq!(all_hops(&net).into_iter().collect::<HashSet<_>>().len(), 6);
    }

    #[test]
    fn a_new_pool_drops_paths_through_unlisted_nodes() {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let mut net = Network::new(pool(12));
        net.build_paths(&mut rng).unwrap();
        let guard = net.paths()[0].hops()[0].ed25519;
        let hop = net.paths()[1].hops()[2].ed25519;
        net.set_pool(pool(12).into_iter().filter(|n| n.ed25519 != guard && n.ed25519 != hop).collect());
        assert_eq!(net.paths().len(), 1);
        assert!(!net.paths()[0].is_complete());
        net.build_paths(&mut rng).unwrap();
        assert_eq!(net.paths().len(), 2);
        assert!(!all_hops(&net).contains(&guard) && !all_hops(&net).contains(&hop));
    }
}
