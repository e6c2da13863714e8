//! Plaintext padding for 1:1 messages: `0x80` then zero bytes up to a multiple of 160.

/// The padding block size.
pub const BLOCK: usize = 160;

/// Pads the way libsession does: `msg ‖ 0x80 ‖ 0x00…` to the next multiple of 160, always adding
/// at least the `0x80` (a whole extra block when `len + 1` is already a multiple).
pub fn pad(msg: &[u8]) -> Vec<u8> {
    let total = ((msg.len() + 1) / BLOCK + 1) * BLOCK;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(msg);
    out.push(0x80);
    out.resize(total, 0);
    out
}

/// Removes padding of either style (libsession's, or the older `ceil((L+2)/160)·160 − 1`): skips
/// trailing zero bytes, and cuts at a `0x80` found there. A message without that marker is
/// returned with only its trailing zeros removed, as the reference implementation does; clients
/// do not enforce padding.
pub fn unpad(padded: &[u8]) -> &[u8] {
    let end = padded.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let trimmed = padded.get(..end).unwrap_or(padded);
    match trimmed.split_last() {
        Some((0x80, rest)) => rest,
        _ => trimmed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// vectors-core §3.2: padded totals for libsession and old desktop.
    #[test]
    fn padding_lengths_vectors_core_3_2() {
        for (len, libsession, old_desktop) in [
            (0, 160, 159),
            (5, 160, 159),
            (158, 160, 159),
            (159, 320, 319),
            (160, 320, 319),
            (318, 320, 319),
            (319, 480, 479),
        ] {
            let msg: Vec<u8> = (0..len).map(|i| (i % 250 + 1) as u8).collect();
            let padded = pad(&msg);
            assert_eq!(padded.len(), libsession, "len {len}");
            assert_eq!(padded[len], 0x80);
            assert!(padded[len + 1..].iter().all(|&b| b == 0));
            assert_eq!(unpad(&padded), &msg[..]);

            let mut old = msg.clone();
            old.push(0x80);
            old.resize(old_desktop, 0);
            assert_eq!(unpad(&old), &msg[..], "old style, len {len}");
        }
    }

    #[test]
    fn unpad_is_lenient() {
        assert_eq!(unpad(b""), b"");
        assert_eq!(unpad(b"\0\0\0"), b"");
        assert_eq!(unpad(b"abc"), b"abc");
        assert_eq!(unpad(b"abc\0\0"), b"abc");
        assert_eq!(unpad(b"\x80"), b"");
        assert_eq!(unpad(b"ab\x80c"), b"ab\x80c");
    }
}
