//! Which swarm of service nodes holds an account's messages.

use crate::identity::SessionId;

/// The swarm id of a decommissioned node; such nodes belong to no swarm.
pub const INVALID_SWARM_ID: u64 = u64::MAX;

/// The position of a pubkey in swarm space: the XOR of the four big-endian u64 words of the 32
/// bytes after the prefix (the prefix itself does not count).
pub fn swarm_space(pubkey: &SessionId) -> u64 {
    xor_words(pubkey.key())
}

/// [`swarm_space`] for any 33-byte storage pubkey (network byte ‖ 32-byte key), whatever its first
/// byte: the storage server stores for every network byte, not only the prefixes a [`SessionId`]
/// knows (`05`, `03`, `15`, `25`).
pub fn swarm_space_of_bytes(pubkey: &[u8; 33]) -> u64 {
    xor_words(&pubkey[1..])
}

/// The XOR of the big-endian u64 words of the 32 bytes after a pubkey's prefix.
fn xor_words(key: &[u8]) -> u64 {
    key.chunks_exact(8).fold(0u64, |acc, chunk| {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        acc ^ u64::from_be_bytes(word)
    })
}

/// The swarm (from `swarm_ids`) responsible for swarm-space position `space`: the closest id in
/// wrapping u64 distance, the one below winning ties. Invalid ids are ignored; `None` when no
/// valid id is given.
pub fn select_swarm(space: u64, swarm_ids: &[u64]) -> Option<u64> {
    let mut ids: Vec<u64> = swarm_ids.iter().copied().filter(|&id| id != INVALID_SWARM_ID).collect();
    ids.sort_unstable();
    ids.dedup();
    let (&first, &last) = (ids.first()?, ids.last()?);
    let index = ids.partition_point(|&id| id < space);
    let right = ids.get(index).copied().unwrap_or(first);
    let left = index.checked_sub(1).and_then(|i| ids.get(i)).copied().unwrap_or(last);
    let to_right = right.wrapping_sub(space);
    let to_left = space.wrapping_sub(left);
    Some(if to_right < to_left { right } else { left })
}

/// The swarm responsible for `pubkey`.
pub fn swarm_for(pubkey: &SessionId, swarm_ids: &[u64]) -> Option<u64> {
    select_swarm(swarm_space(pubkey), swarm_ids)
}

/// The swarm responsible for any 33-byte storage pubkey (see [`swarm_space_of_bytes`]).
pub fn swarm_for_bytes(pubkey: &[u8; 33], swarm_ids: &[u64]) -> Option<u64> {
    select_swarm(swarm_space_of_bytes(pubkey), swarm_ids)
}
