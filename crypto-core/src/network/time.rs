//! Network time: the local clock corrected by the mean offset of the nodes' last `t` values
//! (protocol-core §4.6; desktop keeps a rolling mean over the last 10 replies).

use super::{Network, TIME_SAMPLES};

impl Network {
    /// Records a node's time `t` seen at local time `local_ms`.
    pub fn record_time(&mut self, local_ms: u64, node_ms: u64) {
        let offset = i64::try_from(node_ms).unwrap_or(i64::MAX).saturating_sub(i64::try_from(local_ms).unwrap_or(0));
        self.time_offsets.push_back(offset);
        while self.time_offsets.len() > TIME_SAMPLES {
            self.time_offsets.pop_front();
        }
    }

    /// Forgets every sample (after a clock error: the local clock may have jumped).
    pub fn forget_time(&mut self) {
        self.time_offsets.clear();
    }

    /// How many samples the mean is over.
    pub fn time_samples(&self) -> usize {
        self.time_offsets.len()
    }

    /// Network time: local time corrected by the mean offset of the last samples.
    pub fn network_now(&self, local_ms: u64) -> u64 {
        if self.time_offsets.is_empty() {
            return local_ms;
        }
        let sum: i128 = self.time_offsets.iter().map(|&o| i128::from(o)).sum();
        let count = i128::try_from(self.time_offsets.len()).unwrap_or(1);
        let mean = i64::try_from(sum / count).unwrap_or(0);
        u64::try_from(i64::try_from(local_ms).unwrap_or(i64::MAX).saturating_add(mean)).unwrap_or(local_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_time_is_a_rolling_mean() {
        let mut net = Network::default();
        assert_eq!(net.network_now(1000), 1000);
        net.record_time(1000, 3000);
        net.record_time(1000, 5000);
        assert_eq!(net.network_now(10_000), 13_000);
        for _ in 0..20 {
            net.record_time(0, 100);
        }
        assert_eq!(net.network_now(0), 100, "only the last 10 samples count");
        net.forget_time();
        assert_eq!((net.time_samples(), net.network_now(7)), (0, 7));
    }
}
