//! What the fuzzing of crypto-core, hush-client and hush-node shares: the deterministic
//! randomness of their entry points, and the mutator their `tests/fuzz_smoke.rs` run the entry
//! points over (not a stable API).

use rand_core::{CryptoRng, RngCore};

/// Deterministic randomness for the entry points and their smoke tests (a SplitMix64 stream whose
/// state is the field); never used outside fuzzing.
#[derive(Debug)]
pub struct FuzzRng(pub u64);

impl FuzzRng {
    /// A stream from `seed`: the state starts at `seed` XOR the SplitMix64 increment.
    pub fn new(seed: u64) -> FuzzRng {
        FuzzRng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }
}

impl RngCore for FuzzRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(bytes.get(..chunk.len()).unwrap_or_default());
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for FuzzRng {}

/// One random change to `input`: a bit flipped, a cut, a byte inserted, a byte replaced by one of
/// `special` (bytes that matter to the input's syntax; never, if `special` is empty), or up to
/// 63 random bytes appended.
pub fn mutate(rng: &mut impl RngCore, input: &[u8], special: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    let kinds = if special.is_empty() { 4 } else { 5 };
    match rng.next_u32() % kinds {
        0 if !out.is_empty() => {
            let i = rng.next_u32() as usize % out.len();
            if let Some(byte) = out.get_mut(i) {
                *byte ^= 1 << (rng.next_u32() % 8);
            }
        }
        1 => out.truncate(rng.next_u32() as usize % (out.len() + 1)),
        2 => {
            let i = rng.next_u32() as usize % (out.len() + 1);
            out.insert(i, rng.next_u32() as u8);
        }
        3 if !special.is_empty() && !out.is_empty() => {
            let i = rng.next_u32() as usize % out.len();
            let replacement = special.get(rng.next_u32() as usize % special.len()).copied();
            if let (Some(byte), Some(replacement)) = (out.get_mut(i), replacement) {
                *byte = replacement;
            }
        }
        _ => {
            let mut junk = vec![0u8; (rng.next_u32() % 64) as usize];
            rng.fill_bytes(&mut junk);
            out.extend(junk);
        }
    }
    out
}

/// Runs `entry` over `rounds` inputs: the seeds in turn, each changed by 1 to 4 [`mutate`] steps.
pub fn run_mutated(
    rng: &mut impl RngCore,
    seeds: &[Vec<u8>],
    rounds: usize,
    special: &[u8],
    mut entry: impl FnMut(&[u8]),
) {
    for seed in seeds.iter().cycle().take(rounds) {
        let mut input = seed.clone();
        for _ in 0..(1 + rng.next_u32() % 4) {
            input = mutate(rng, &input, special);
        }
        entry(&input);
    }
}
