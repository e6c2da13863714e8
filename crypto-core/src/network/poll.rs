//! What polling remembers — the `last_hash` each node returned (so a node sends only what is
//! new) and the hashes already handled (de-duplication, the safety net when a node does not know
//! our `last_hash` and starts from the beginning) — and how long to wait between polls.

use std::collections::{HashMap, HashSet, VecDeque};

use super::Failure;

/// How many handled hashes are remembered for de-duplication.
pub const SEEN_LIMIT: usize = 10_000;
/// How many (node, namespace) `last_hash` entries are kept.
pub const LAST_HASH_LIMIT: usize = 256;
/// The poll period while the page is visible.
pub const POLL_INTERVAL_MS: u64 = 1_500;
/// The poll period while the page is hidden.
pub const HIDDEN_POLL_INTERVAL_MS: u64 = 10_000;
/// The longest wait after repeated failures.
pub const MAX_POLL_INTERVAL_MS: u64 = 30_000;

/// The poll's memory.
#[derive(Clone, Debug, Default)]
pub struct PollState {
    last_hash: HashMap<([u8; 32], i16), String>,
    /// The last hash any node returned, per namespace: what a node not asked before is sent, so
    /// that it too sends only what is newer (a swarm's members hold the same messages; one that
    /// does not know the hash sends everything, which the de-duplication takes care of).
    latest: HashMap<i16, String>,
    seen: HashSet<String>,
    order: VecDeque<String>,
    last_hash_changed: bool,
    seen_changed: bool,
}

impl PollState {
    /// The `last_hash` to send to `node` for `namespace`: the one it returned, or else the last
    /// one any node returned.
    pub fn last_hash(&self, node: &[u8; 32], namespace: i16) -> Option<&str> {
        self.last_hash.get(&(*node, namespace)).or_else(|| self.latest.get(&namespace)).map(String::as_str)
    }

    /// Records the last hash a node returned.
    pub fn set_last_hash(&mut self, node: &[u8; 32], namespace: i16, hash: &str) {
        if self.latest.get(&namespace).is_none_or(|h| h != hash) {
            self.latest.insert(namespace, hash.to_owned());
        }
        if self.last_hash.get(&(*node, namespace)).map(String::as_str) == Some(hash) {
            return;
        }
        if self.last_hash.len() >= LAST_HASH_LIMIT && !self.last_hash.contains_key(&(*node, namespace)) {
            let evict = self.last_hash.keys().next().copied();
            if let Some(k) = evict {
                self.last_hash.remove(&k);
            }
        }
        self.last_hash.insert((*node, namespace), hash.to_owned());
        self.last_hash_changed = true;
    }

    /// Every `last_hash` entry: (node, namespace, hash), for saving.
    pub fn last_hashes(&self) -> impl Iterator<Item = (&[u8; 32], i16, &str)> {
        self.last_hash.iter().map(|((node, ns), hash)| (node, *ns, hash.as_str()))
    }

    /// Restores saved `last_hash` entries (not counted as a change).
    pub fn restore_last_hashes<'a>(&mut self, entries: impl IntoIterator<Item = ([u8; 32], i16, &'a str)>) {
        for (node, ns, hash) in entries {
            if self.last_hash.len() < LAST_HASH_LIMIT {
                self.latest.entry(ns).or_insert_with(|| hash.to_owned());
                self.last_hash.insert((node, ns), hash.to_owned());
            }
        }
    }

    /// True the first time a hash is seen; false for a duplicate.
    pub fn first_sight(&mut self, hash: &str) -> bool {
        if !self.remember(hash) {
            return false;
        }
        self.seen_changed = true;
        true
    }

    /// Marks a hash as handled without counting it as a change (restored from the vault).
    pub fn remember(&mut self, hash: &str) -> bool {
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

    /// The last `limit` handled hashes, oldest first, for saving.
    pub fn recent(&self, limit: usize) -> Vec<String> {
        self.order.iter().skip(self.order.len().saturating_sub(limit)).cloned().collect()
    }

    /// Whether `last_hash` entries changed since the last call (then: save them).
    pub fn take_last_hash_changed(&mut self) -> bool {
        std::mem::take(&mut self.last_hash_changed)
    }

    /// Whether hashes were first seen since the last call (then: save them).
    pub fn take_seen_changed(&mut self) -> bool {
        std::mem::take(&mut self.seen_changed)
    }

    /// Marks the state as still unsaved (after saving failed).
    pub fn mark_unsaved(&mut self, last_hash: bool, seen: bool) {
        self.last_hash_changed |= last_hash;
        self.seen_changed |= seen;
    }
}

/// How long to wait before the next poll: [`POLL_INTERVAL_MS`] while visible and
/// [`HIDDEN_POLL_INTERVAL_MS`] while hidden; after failures, doubling from the visible period up to
/// [`MAX_POLL_INTERVAL_MS`] (never shorter than the hidden period while hidden); back to normal
/// after a success.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// A poll succeeded.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }

    /// A poll failed. A rate limit (429) counts twice: the relay asked us to slow down.
    pub fn failed(&mut self, failure: &Failure) {
        let weight = if matches!(failure, Failure::RateLimited) { 2 } else { 1 };
        self.failures = self.failures.saturating_add(weight);
    }

    /// Consecutive failures counted.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The wait before the next poll.
    pub fn delay_ms(&self, visible: bool) -> u64 {
        let base = if visible { POLL_INTERVAL_MS } else { HIDDEN_POLL_INTERVAL_MS };
        if self.failures == 0 {
            return base;
        }
        let backed = POLL_INTERVAL_MS.saturating_mul(1u64 << self.failures.min(20)).min(MAX_POLL_INTERVAL_MS);
        backed.max(base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polling_dedupes_and_remembers_last_hash_per_node_and_namespace() {
        let mut poll = PollState::default();
        assert!(poll.first_sight("a"));
        assert!(!poll.first_sight("a"));
        poll.set_last_hash(&[1; 32], 0, "h1");
        assert_eq!(poll.last_hash(&[1; 32], 0), Some("h1"));
        assert_eq!(poll.last_hash(&[2; 32], 0), Some("h1"), "another node: the last any node returned");
        poll.set_last_hash(&[2; 32], 0, "h0");
        assert_eq!((poll.last_hash(&[1; 32], 0), poll.last_hash(&[2; 32], 0)), (Some("h1"), Some("h0")), "per node");
        assert_eq!(poll.last_hash(&[1; 32], 5), None, "per namespace");
        for i in 0..SEEN_LIMIT + 5 {
            poll.first_sight(&i.to_string());
        }
        assert!(poll.first_sight("a"), "forgotten after the limit");
    }

    #[test]
    fn only_changes_ask_to_be_saved() {
        let mut poll = PollState::default();
        poll.restore_last_hashes([([1; 32], 0, "h1")]);
        assert!(poll.remember("x"));
        assert!(!poll.take_last_hash_changed() && !poll.take_seen_changed(), "restoring is no change");
        poll.set_last_hash(&[1; 32], 0, "h1");
        assert!(!poll.take_last_hash_changed(), "the same hash again is no change");
        poll.set_last_hash(&[1; 32], 0, "h2");
        assert!(!poll.first_sight("x"));
        assert!(!poll.take_seen_changed(), "a duplicate is no change");
        assert!(poll.first_sight("y"));
        assert!(poll.take_last_hash_changed() && poll.take_seen_changed());
        assert!(!poll.take_last_hash_changed() && !poll.take_seen_changed(), "taken");
        poll.mark_unsaved(true, false);
        assert!(poll.take_last_hash_changed());
        assert_eq!(poll.recent(1), vec!["y".to_owned()]);
        assert_eq!(poll.recent(10), vec!["x".to_owned(), "y".to_owned()]);
        let saved: Vec<_> = poll.last_hashes().map(|(n, ns, h)| (*n, ns, h.to_owned())).collect();
        assert_eq!(saved, vec![([1; 32], 0, "h2".to_owned())]);
    }

    #[test]
    fn a_node_not_asked_before_is_sent_the_last_hash_any_node_returned() {
        let mut poll = PollState::default();
        assert_eq!(poll.last_hash(&[9; 32], 3), None);
        poll.set_last_hash(&[1; 32], 3, "c1");
        poll.set_last_hash(&[1; 32], 0, "m1");
        poll.set_last_hash(&[2; 32], 3, "c2");
        assert_eq!(poll.last_hash(&[9; 32], 3), Some("c2"), "the newest of the namespace");
        assert_eq!(poll.last_hash(&[9; 32], 0), Some("m1"));
        assert_eq!(poll.last_hash(&[9; 32], 5), None, "another namespace has none");
        assert_eq!(poll.last_hash(&[1; 32], 3), Some("c1"), "a node's own comes first");
        // Only what nodes returned is saved: the stand-in is not an entry of its own.
        assert_eq!(poll.last_hashes().count(), 3);
    }

    #[test]
    fn last_hash_entries_are_bounded() {
        let mut poll = PollState::default();
        for i in 0..LAST_HASH_LIMIT + 10 {
            let mut node = [0u8; 32];
            node[..8].copy_from_slice(&(i as u64).to_be_bytes());
            poll.set_last_hash(&node, 0, "h");
        }
        assert_eq!(poll.last_hashes().count(), LAST_HASH_LIMIT);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets_on_success() {
        let mut b = Backoff::default();
        assert_eq!((b.delay_ms(true), b.delay_ms(false)), (1_500, 10_000));
        let mut visible = Vec::new();
        let mut hidden = Vec::new();
        for _ in 0..7 {
            b.failed(&Failure::Offline);
            visible.push(b.delay_ms(true));
            hidden.push(b.delay_ms(false));
        }
        assert_eq!(visible, vec![3_000, 6_000, 12_000, 24_000, 30_000, 30_000, 30_000]);
        assert_eq!(hidden, vec![10_000, 10_000, 12_000, 24_000, 30_000, 30_000, 30_000]);
        b.succeeded();
        assert_eq!((b.failures(), b.delay_ms(true)), (0, 1_500));
        b.failed(&Failure::RateLimited);
        assert_eq!(b.delay_ms(true), 6_000, "a rate limit counts twice");
        for _ in 0..100 {
            b.failed(&Failure::ClockOutOfSync);
        }
        assert_eq!(b.delay_ms(true), MAX_POLL_INTERVAL_MS);
    }
}
