//! The swarm cache: who holds an account's messages, as the network said in a `get_swarm` reply
//! or a 421. Asked again when fewer than [`MIN_SWARM_SIZE`] members remain.

use std::collections::HashSet;

use super::{MIN_SWARM_SIZE, Network, NodeRecord};
use crate::identity::SessionId;

impl Network {
    /// The cached members of `owner`'s swarm (empty when not known yet).
    pub fn swarm(&self, owner: &SessionId) -> &[NodeRecord] {
        self.swarms.get(owner).map_or(&[], Vec::as_slice)
    }

    /// Whether `owner`'s swarm must be asked for: unknown, or fewer than [`MIN_SWARM_SIZE`] left.
    pub fn swarm_is_short(&self, owner: &SessionId) -> bool {
        self.swarm(owner).len() < MIN_SWARM_SIZE
    }

    /// Replaces the cached swarm of `owner` (from `get_swarm`, or a 421 that lists the right one).
    pub fn set_swarm(&mut self, owner: SessionId, members: Vec<NodeRecord>) {
        let mut seen = HashSet::new();
        self.swarms.insert(owner, members.into_iter().filter(|n| seen.insert(n.ed25519)).collect());
    }

    /// Removes one node from `owner`'s swarm (a 421 that did not say which swarm is right).
    pub fn remove_from_swarm(&mut self, owner: &SessionId, key: &[u8; 32]) {
        if let Some(members) = self.swarms.get_mut(owner) {
            members.retain(|n| &n.ed25519 != key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::paths::tests::node;

    #[test]
    fn a_swarm_is_short_until_three_members_are_known() {
        let id: SessionId = format!("05{}", "22".repeat(32)).parse().unwrap();
        let mut net = Network::default();
        assert!(net.swarm(&id).is_empty() && net.swarm_is_short(&id));
        net.set_swarm(id, vec![node(1, 1), node(2, 2), node(2, 2), node(3, 3)]);
        assert_eq!(net.swarm(&id).len(), 3, "duplicates count once");
        assert!(!net.swarm_is_short(&id));
        net.remove_from_swarm(&id, &[2; 32]);
        assert!(net.swarm_is_short(&id), "two left: ask again");
        net.set_swarm(id, vec![node(4, 4), node(5, 5), node(6, 6), node(7, 7)]);
        assert_eq!(
            net.swarm(&id).iter().map(|n| n.ed25519[0]).collect::<Vec<_>>(),
            vec![4, 5, 6, 7],
            "replaced, not merged"
        );
    }
}
