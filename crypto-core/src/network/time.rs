//! Network time: the local clock corrected by the offset the nodes' `t` values agree on
//! (protocol-core §4.6). Desktop keeps the plain mean of the last 10 replies, so one node that
//! lies moves it as far as it likes (`t = u64::MAX`: 29 million years; a node 10 minutes fast:
//! 60 s, past the nodes' ±60 s signature tolerance). Here no single node can move it:
//!
//! - **A sample is bounded.** `t` more than [`MAX_SKEW_MS`] (2 days) from the local clock is
//!   discarded: a clock that is genuinely wrong is off by hours (a wrong time zone is at most
//!   26 h), and a browser whose clock is off by more than days fails TLS anyway.
//! - **One sample per node.** Each node's newest sample replaces its older one, so a node asked
//!   often (a swarm member polled every few seconds) counts once; the last [`TIME_SAMPLES`] nodes
//!   heard from are kept, and a sample older than [`SAMPLE_MAX_AGE_MS`] (10 min), or taken at a
//!   local time after now (the local clock went back), is not used.
//! - **Median, outliers dropped, agreement required.** The offset is the mean of the samples
//!   within [`AGREE_MS`] (10 s) of their median (for an even count, of the two middle samples the
//!   one nearer the local clock). At least two nodes must be among them; with fewer (one sample,
//!   or samples that all disagree) the local clock is used as it is. So one liar never sets the
//!   time, not even when it is the only node heard from; a liar within 10 s of the others moves
//!   it by at most half that; only a majority of the nodes heard from can move it further.
//! - **A clock error forgets what may be stale.** After a 406/425 the samples taken more than
//!   [`KEEP_ON_CLOCK_ERROR_MS`] (10 s) earlier are forgotten (the local clock may have jumped),
//!   while the newest are kept, so a device whose clock is hours off still gathers the two
//!   agreeing samples it needs. A 406/425 from a node whose own `t` disagrees with the agreed
//!   time is that node's clock error, not this device's ([`Network::clock_is_off`]): another
//!   member is asked, and that node is passed over as a destination for a while.

use super::{Network, TIME_SAMPLES};

/// The furthest a node's `t` may be from the local clock (ms): 2 days.
pub const MAX_SKEW_MS: u64 = 2 * 24 * 60 * 60 * 1000;
/// How close samples must be to the median to count (ms). Honest nodes agree to well under a
/// second; the rest is the reply's way back, seconds at most.
pub const AGREE_MS: u64 = 10_000;
/// How long a sample is used (local ms).
pub const SAMPLE_MAX_AGE_MS: u64 = 10 * 60 * 1000;
/// After a clock error, samples taken within this long before it are kept (local ms).
pub const KEEP_ON_CLOCK_ERROR_MS: u64 = 10_000;

/// One node's newest `t`, as an offset from the local clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimeSample {
    node: [u8; 32],
    /// `t` minus the local time it was seen at (ms).
    offset: i64,
    /// The local time it was seen at (ms).
    at: u64,
}

impl TimeSample {
    fn usable(&self, local_ms: u64) -> bool {
        self.at <= local_ms && local_ms - self.at <= SAMPLE_MAX_AGE_MS
    }
}

/// The offset of `node_ms` from `local_ms`, if within [`MAX_SKEW_MS`].
fn bounded_offset(local_ms: u64, node_ms: u64) -> Option<i64> {
    let offset = i128::from(node_ms) - i128::from(local_ms);
    if offset.unsigned_abs() > u128::from(MAX_SKEW_MS) {
        return None;
    }
    i64::try_from(offset).ok()
}

/// The agreed offset of `offsets` (see the module docs), or `None` if fewer than two agree.
fn agreed(mut offsets: Vec<i64>) -> Option<i64> {
    offsets.sort_unstable();
    let n = offsets.len();
    let median = if n % 2 == 1 {
        *offsets.get(n / 2)?
    } else {
        let (low, high) = (*offsets.get((n / 2).checked_sub(1)?)?, *offsets.get(n / 2)?);
        if high.unsigned_abs() < low.unsigned_abs() { high } else { low }
    };
    let inliers: Vec<i128> = offsets
        .iter()
        .filter(|&&o| (i128::from(o) - i128::from(median)).unsigned_abs() <= u128::from(AGREE_MS))
        .map(|&o| i128::from(o))
        .collect();
    if inliers.len() < 2 {
        return None;
    }
    let count = i128::try_from(inliers.len()).ok()?;
    i64::try_from(inliers.iter().sum::<i128>() / count).ok()
}

impl Network {
    /// Records the time `t` (`node_ms`) that `node` answered with, seen at local time `local_ms`.
    /// Returns whether it was kept: a `t` more than [`MAX_SKEW_MS`] from the local clock is not.
    pub fn record_time(&mut self, node: &[u8; 32], local_ms: u64, node_ms: u64) -> bool {
        let Some(offset) = bounded_offset(local_ms, node_ms) else { return false };
        self.time_samples.retain(|s| &s.node != node);
        self.time_samples.push_back(TimeSample { node: *node, offset, at: local_ms });
        while self.time_samples.len() > TIME_SAMPLES {
            self.time_samples.pop_front();
        }
        true
    }

    /// After a clock error: forgets the samples taken more than [`KEEP_ON_CLOCK_ERROR_MS`] before
    /// `local_ms`, or after it (the local clock may have jumped since).
    pub fn forget_time(&mut self, local_ms: u64) {
        self.time_samples.retain(|s| s.at <= local_ms && local_ms - s.at <= KEEP_ON_CLOCK_ERROR_MS);
    }

    /// How many samples are kept (usable or not).
    pub fn time_samples(&self) -> usize {
        self.time_samples.len()
    }

    /// The offset the usable samples agree on, if at least two nodes do.
    fn agreed_offset(&self, local_ms: u64) -> Option<i64> {
        agreed(self.time_samples.iter().filter(|s| s.usable(local_ms)).map(|s| s.offset).collect())
    }

    /// Whether the network time rests on agreeing nodes (rather than on the local clock alone).
    pub fn time_agreed(&self, local_ms: u64) -> bool {
        self.agreed_offset(local_ms).is_some()
    }

    /// Whether `node`'s own clock, by its last `t`, is more than [`AGREE_MS`] off the time the
    /// other nodes agree on: then a clock error from it is its own, not this device's.
    pub fn clock_is_off(&self, node: &[u8; 32], local_ms: u64) -> bool {
        let Some(agreed) = self.agreed_offset(local_ms) else { return false };
        self.time_samples
            .iter()
            .filter(|s| s.usable(local_ms))
            .find(|s| &s.node == node)
            .is_some_and(|s| (i128::from(s.offset) - i128::from(agreed)).unsigned_abs() > u128::from(AGREE_MS))
    }

    /// Network time: local time corrected by the agreed offset (see the module docs), or the
    /// local time itself when no two nodes agree.
    pub fn network_now(&self, local_ms: u64) -> u64 {
        let offset = self.agreed_offset(local_ms).unwrap_or(0);
        u64::try_from(i128::from(local_ms) + i128::from(offset)).unwrap_or(local_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A realistic local time: 14 Nov 2023.
    const NOW: u64 = 1_700_000_000_000;
    const MINUTE: u64 = 60_000;

    fn node(i: u8) -> [u8; 32] {
        [i; 32]
    }

    /// A network that heard node i answer `t = NOW + offsets[i]` at `NOW`.
    fn heard(offsets: &[i64]) -> Network {
        let mut net = Network::default();
        for (i, &o) in offsets.iter().enumerate() {
            let t = u64::try_from(i128::from(NOW) + i128::from(o)).unwrap();
            assert!(net.record_time(&node(u8::try_from(i).unwrap()), NOW, t));
        }
        net
    }

    #[test]
    fn honest_nodes_set_the_time_by_the_mean_of_those_that_agree() {
        let net = heard(&[5_000, 5_400, 4_600]);
        assert_eq!(net.network_now(NOW), NOW + 5_000);
        assert!(net.time_agreed(NOW));
        // A device whose clock is five hours behind is corrected once two nodes agree.
        let hours = 5 * 60 * MINUTE as i64;
        let net = heard(&[hours, hours + 200]);
        assert_eq!(net.network_now(NOW), NOW + 5 * 60 * MINUTE + 100);
    }

    #[test]
    fn a_node_reporting_u64_max_or_zero_is_discarded() {
        let mut net = heard(&[0, 300]);
        assert!(!net.record_time(&node(9), NOW, u64::MAX));
        assert!(!net.record_time(&node(8), NOW, 0));
        assert!(!net.record_time(&node(7), NOW, NOW + MAX_SKEW_MS + 1), "over 2 days ahead");
        assert!(!net.record_time(&node(6), u64::MAX, 0), "a broken local clock");
        assert_eq!(net.time_samples(), 2);
        assert_eq!(net.network_now(NOW), NOW + 150);
        // Alone, too.
        let mut alone = Network::default();
        assert!(!alone.record_time(&node(1), NOW, u64::MAX));
        assert_eq!(alone.network_now(NOW), NOW);
        assert!(alone.record_time(&node(1), NOW, NOW + MAX_SKEW_MS), "2 days is still a wrong clock");
    }

    #[test]
    fn a_node_ten_minutes_fast_moves_nothing() {
        let fast = (10 * MINUTE) as i64;
        // Among honest nodes (the plain mean of these moved the time 60 s).
        let mut offsets = vec![0, 200, -300, 100, 50, -100, 250, 0, 120];
        offsets.push(fast);
        let net = heard(&offsets);
        assert!(net.network_now(NOW).abs_diff(NOW) < 1_000, "{}", net.network_now(NOW) as i128 - NOW as i128);
        assert!(net.clock_is_off(&node(9), NOW), "its clock errors are its own");
        assert!(!net.clock_is_off(&node(0), NOW));
        // With few samples: one honest node and the fast one, or the fast one alone.
        assert_eq!(heard(&[0, fast]).network_now(NOW), NOW);
        assert_eq!(heard(&[fast, 0]).network_now(NOW), NOW);
        assert_eq!(heard(&[fast]).network_now(NOW), NOW, "one node alone never sets the time");
        assert!(!heard(&[fast]).time_agreed(NOW));
        assert!(!heard(&[fast]).clock_is_off(&node(0), NOW), "nothing to judge it against");
        // Two honest and the fast one.
        assert_eq!(heard(&[0, fast, 400]).network_now(NOW), NOW + 200);
        // A liar within the agreement window moves the time by at most half of it.
        assert_eq!(heard(&[0, 10_000]).network_now(NOW), NOW + 5_000);
    }

    #[test]
    fn a_majority_of_liars_wins_only_within_two_days() {
        let fast = (10 * MINUTE) as i64;
        assert_eq!(heard(&[0, fast, fast + 100]).network_now(NOW), NOW + 10 * MINUTE + 50);
        // Half and half: the half nearer the local clock.
        assert_eq!(heard(&[0, 10, fast, fast]).network_now(NOW), NOW + 5);
    }

    #[test]
    fn each_node_counts_once_and_only_the_last_ten_nodes_count() {
        let mut net = heard(&[0, 100]);
        for _ in 0..20 {
            assert!(net.record_time(&node(7), NOW, NOW + 10 * MINUTE));
        }
        assert_eq!(net.time_samples(), 3);
        assert_eq!(net.network_now(NOW), NOW + 50, "a node asked often is still one node");
        for i in 10..30 {
            net.record_time(&node(i), NOW, NOW + 2_000);
        }
        assert_eq!(net.time_samples(), TIME_SAMPLES);
        assert_eq!(net.network_now(NOW), NOW + 2_000);
    }

    #[test]
    fn old_samples_and_samples_from_the_local_future_are_not_used() {
        let net = heard(&[3_000, 3_000]);
        assert_eq!(net.network_now(NOW + SAMPLE_MAX_AGE_MS), NOW + SAMPLE_MAX_AGE_MS + 3_000);
        assert_eq!(net.network_now(NOW + SAMPLE_MAX_AGE_MS + 1), NOW + SAMPLE_MAX_AGE_MS + 1, "too old");
        assert_eq!(net.network_now(NOW - 1), NOW - 1, "the local clock went back");
    }

    #[test]
    fn a_clock_error_forgets_all_but_the_newest_samples() {
        let mut net = heard(&[3_000, 3_100]);
        net.record_time(&node(5), NOW + 20_000, NOW + 20_000 + 3_050);
        net.record_time(&node(6), NOW + 25_000, NOW + 25_000 + 3_000);
        net.forget_time(NOW + 30_000);
        assert_eq!(net.time_samples(), 2, "the two taken in the last 10 s are kept");
        assert_eq!(net.network_now(NOW + 30_000), NOW + 30_000 + 3_025);
        net.forget_time(NOW + 1_000);
        assert_eq!(net.time_samples(), 0, "taken after now: the clock went back");
        assert_eq!(net.network_now(7), 7);
    }
}
