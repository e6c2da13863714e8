//! The deterministic scheme (protocol-files §3.3; libsession `src/attachments.cpp`):
//! `'S' ‖ header (24) ‖ chunk_1 ‖ … ‖ chunk_k`, each chunk a libsodium secretstream
//! (XChaCha20-Poly1305) push of up to 32,768 bytes of `0x00 × (pad − 1) ‖ 0x01 ‖ data`, the last
//! with tag FINAL. The key and header are BLAKE2b-448 of the data keyed with the uploader's seed,
//! so equal files from one uploader encrypt to equal bytes.
//!
//! libsodium's `init_push` always draws a random header, so the push side is built here from its
//! parts (HChaCha20, ChaCha20-IETF, Poly1305), byte for byte as libsodium's; the pull side is the
//! same code run backwards.

use blake2::Blake2bMac;
use blake2::digest::FixedOutput;
use blake2::digest::consts::U56;
use chacha20::ChaCha20;
use chacha20::cipher::consts::U10;
use chacha20::cipher::generic_array::GenericArray;
use chacha20::cipher::{KeyIvInit, StreamCipher};
use poly1305::Poly1305;
use poly1305::universal_hash::{KeyInit, UniversalHash};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use super::{AttachmentKey, Encrypted, KeyBytes, OpenError, TooLarge};

/// The largest plaintext libsession encrypts without `allow_large`: 10,218,286 bytes, which
/// encrypt to exactly 10,223,616.
pub const MAX_DETERMINISTIC_BYTES: usize = 10_218_286;

/// The plaintext bytes in a full chunk.
const CHUNK: usize = 32_768;
/// Per chunk: the encrypted tag byte and the Poly1305 tag.
const ABYTES: usize = 17;
/// A full chunk as stored.
const SEALED_CHUNK: usize = CHUNK + ABYTES;
const HEADER: usize = 24;
const MAGIC: u8 = b'S';

const TAG_MESSAGE: u8 = 0;
const TAG_REKEY: u8 = 2;
const TAG_FINAL: u8 = 3;

/// Whose key rule: the BLAKE2b personalisation of the key and header derivation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Domain {
    /// Attachments (`SessionAttachmnt`).
    Attachment,
    /// Profile pictures (`Session_Prof_Pic`).
    ProfilePicture,
}

impl Domain {
    fn personal(self) -> &'static [u8; 16] {
        match self {
            Domain::Attachment => b"SessionAttachmnt",
            Domain::ProfilePicture => b"Session_Prof_Pic",
        }
    }
}

/// The front padding for `n` bytes of data (libsession's `encrypted_padding`), at least 1 (the
/// `0x01` marker). Computed wide: no input overflows it.
fn padding(n: u128) -> u128 {
    let chunk = CHUNK as u128;
    let sealed_chunk = SEALED_CHUNK as u128;
    let chunks = n.div_ceil(chunk);
    let e = n + 1 + HEADER as u128 + 1 + ABYTES as u128 * chunks;
    let floor = e.max(131_072);
    let f = (1u128 << (127 - floor.leading_zeros())) >> 5;
    let pad = e.div_ceil(f) * f - e + 1;
    let mut extra = pad / sealed_chunk * ABYTES as u128;
    if pad % sealed_chunk > chunks * chunk - n {
        extra += ABYTES as u128;
    }
    pad.saturating_sub(extra).max(1)
}

/// The encrypted size of `n` bytes of data: `1 + 24 + n + pad + 17 × ceil((n + pad) / 32768)`. Any
/// `n` (also beyond [`MAX_DETERMINISTIC_BYTES`]; saturates at `usize::MAX`).
pub fn deterministic_len(n: usize) -> usize {
    let n = n as u128;
    let plain = n + padding(n);
    let total = 1 + HEADER as u128 + plain + ABYTES as u128 * plain.div_ceil(CHUNK as u128);
    usize::try_from(total).unwrap_or(usize::MAX)
}

/// Encrypts `data` (at most [`MAX_DETERMINISTIC_BYTES`]) deterministically: the key and header
/// are `BLAKE2b-448(data, key = seed, personal = domain)`, so the same seed and data always give
/// the same bytes. `seed` is the uploader's 32-byte Ed25519 seed. No digest.
pub fn encrypt_deterministic(seed: &[u8; 32], data: &[u8], domain: Domain) -> Result<Encrypted, TooLarge> {
    let too_large = TooLarge { len: data.len(), max: MAX_DETERMINISTIC_BYTES };
    if data.len() > MAX_DETERMINISTIC_BYTES {
        return Err(too_large);
    }
    // Never `None`: the seed and the personal have lengths BLAKE2b takes.
    let (header, key) = derive(seed, data, domain).ok_or(too_large)?;
    // Below MAX_DETERMINISTIC_BYTES the padding is a few hundred KB at most.
    let pad = usize::try_from(padding(data.len() as u128)).map_err(|_| too_large)?;
    let plain_len = data.len() + pad;
    let chunks = plain_len.div_ceil(CHUNK);
    let mut out = Vec::with_capacity(1 + HEADER + plain_len + ABYTES * chunks);
    out.push(MAGIC);
    out.extend_from_slice(&header);
    let mut stream = Stream::new(&key, &header);
    let mut offset = 0;
    while offset < plain_len {
        let len = CHUNK.min(plain_len - offset);
        let start = out.len();
        out.resize(start + ABYTES + len, 0);
        let Some(slot) = out.get_mut(start..) else { break };
        let (first, rest) = slot.split_at_mut(1);
        let (message, mac) = rest.split_at_mut(len);
        fill_plain(message, offset, pad, data);
        let tag = if offset + len == plain_len { TAG_FINAL } else { TAG_MESSAGE };
        let (tag_byte, tag_mac) = stream.push(message, tag);
        first.copy_from_slice(&[tag_byte]);
        mac.copy_from_slice(&tag_mac);
        offset += len;
    }
    Ok(Encrypted { data: out, key: AttachmentKey { key: KeyBytes::Deterministic(*key) }, digest: None })
}

/// Opens a deterministic attachment with its 32-byte key: `'S'`, the header, then chunks of up to
/// 32,785 bytes; the leading `0x00` padding (possibly whole chunks) is skipped, a `0x01` must end
/// it, and tag FINAL must mark the last chunk and no other.
pub fn decrypt_deterministic(data: &[u8], key: &AttachmentKey) -> Result<Zeroizing<Vec<u8>>, OpenError> {
    let key = key.deterministic().ok_or(OpenError)?;
    let (&magic, rest) = data.split_first().ok_or(OpenError)?;
    let (header, mut body) = rest.split_first_chunk::<HEADER>().ok_or(OpenError)?;
    if magic != MAGIC || body.is_empty() {
        return Err(OpenError);
    }
    let mut stream = Stream::new(key, header);
    let mut out = Zeroizing::new(Vec::with_capacity(body.len()));
    let mut in_padding = true;
    while !body.is_empty() {
        let (chunk, rest) = body.split_at(body.len().min(SEALED_CHUNK));
        let start = out.len();
        let tag = stream.pull(chunk, &mut out)?;
        if (tag == TAG_FINAL) != rest.is_empty() {
            return Err(OpenError);
        }
        if in_padding {
            let pulled = out.get(start..).unwrap_or_default();
            match pulled.iter().position(|&b| b != 0) {
                None => out.truncate(start),
                Some(at) if pulled.get(at) == Some(&1) => {
                    out.drain(start..=start + at);
                    in_padding = false;
                }
                Some(_) => return Err(OpenError),
            }
        }
        body = rest;
    }
    if in_padding {
        return Err(OpenError);
    }
    Ok(out)
}

/// `h = BLAKE2b-448(data, key = seed, salt = 0, personal)`: `header = h[0..24]`, `key = h[24..56]`.
fn derive(seed: &[u8; 32], data: &[u8], domain: Domain) -> Option<([u8; HEADER], Zeroizing<[u8; 32]>)> {
    let mut mac = Blake2bMac::<U56>::new_with_salt_and_personal(seed, &[], domain.personal()).ok()?;
    blake2::digest::Update::update(&mut mac, data);
    let mut h = mac.finalize_fixed();
    let (header, key) = h.split_first_chunk::<HEADER>()?;
    let key: [u8; 32] = key.try_into().ok()?;
    let out = (*header, Zeroizing::new(key));
    h.zeroize();
    Some(out)
}

/// Writes bytes `offset..offset + dst.len()` of `0x00 × (pad − 1) ‖ 0x01 ‖ data` into `dst`, which
/// holds zeros.
fn fill_plain(dst: &mut [u8], offset: usize, pad: usize, data: &[u8]) {
    let end = offset + dst.len();
    let marker = pad.saturating_sub(1);
    if (offset..end).contains(&marker)
        && let Some(byte) = dst.get_mut(marker - offset)
    {
        *byte = 1;
    }
    let from = offset.max(pad);
    if from < end
        && let (Some(to), Some(from_data)) = (dst.get_mut(from - offset..), data.get(from - pad..end - pad))
    {
        to.copy_from_slice(from_data);
    }
}

/// libsodium's `crypto_secretstream_xchacha20poly1305` state: the subkey and the 12-byte nonce,
/// `counter (u32 LE) ‖ inonce (8)`.
struct Stream {
    key: Zeroizing<[u8; 32]>,
    nonce: Zeroizing<[u8; 12]>,
}

impl Stream {
    /// `init_push`/`init_pull`: `k = HChaCha20(key, header[0..16])`, counter 1,
    /// `inonce = header[16..24]`.
    fn new(key: &[u8; 32], header: &[u8; HEADER]) -> Stream {
        let (input, inonce) = header.split_at(16);
        let mut subkey = chacha20::hchacha::<U10>(key.into(), GenericArray::from_slice(input));
        let mut stream = Stream { key: Zeroizing::new(subkey.into()), nonce: Zeroizing::new([0; 12]) };
        subkey.zeroize();
        let (counter, rest) = stream.nonce.split_at_mut(4);
        counter.copy_from_slice(&1u32.to_le_bytes());
        rest.copy_from_slice(inonce);
        stream
    }

    /// Encrypts `message` in place; gives the encrypted tag byte and the MAC that frame it.
    fn push(&mut self, message: &mut [u8], tag: u8) -> (u8, [u8; 16]) {
        let (mut cipher, poly) = self.cipher();
        let mut block = [0u8; 64];
        block[0] = tag;
        cipher.apply_keystream(&mut block);
        cipher.apply_keystream(message);
        let mac = authenticate(poly, &block, message);
        self.advance(&mac, tag);
        let tag_byte = block[0];
        block.zeroize();
        (tag_byte, mac)
    }

    /// Opens one stored chunk (`tag byte ‖ ciphertext ‖ MAC`), appending its plaintext to `out`.
    fn pull(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<u8, OpenError> {
        let (&tag_byte, rest) = chunk.split_first().ok_or(OpenError)?;
        let (ciphertext, mac) = rest.split_last_chunk::<16>().ok_or(OpenError)?;
        let (mut cipher, poly) = self.cipher();
        let mut block = [0u8; 64];
        block[0] = tag_byte;
        cipher.apply_keystream(&mut block);
        let tag = block[0];
        block[0] = tag_byte;
        let expected = authenticate(poly, &block, ciphertext);
        block.zeroize();
        if !bool::from(expected.as_slice().ct_eq(mac.as_slice())) {
            return Err(OpenError);
        }
        let start = out.len();
        out.extend_from_slice(ciphertext);
        if let Some(plaintext) = out.get_mut(start..) {
            cipher.apply_keystream(plaintext);
        }
        self.advance(mac, tag);
        Ok(tag)
    }

    /// ChaCha20-IETF under the current key and nonce, with block 0 already taken for the Poly1305
    /// key: the next keystream byte is block 1's first.
    fn cipher(&self) -> (ChaCha20, Poly1305) {
        let mut cipher = ChaCha20::new((&*self.key).into(), (&*self.nonce).into());
        let mut block0 = Zeroizing::new([0u8; 64]);
        cipher.apply_keystream(&mut *block0);
        let poly = Poly1305::new_from_slice(block0.get(..32).unwrap_or_default())
            .unwrap_or_else(|_| Poly1305::new(&Default::default()));
        (cipher, poly)
    }

    /// After a chunk: `inonce ^= mac[0..8]`, counter + 1, and a rekey after REKEY or FINAL or when
    /// the counter wraps.
    fn advance(&mut self, mac: &[u8; 16], tag: u8) {
        let (counter, inonce) = self.nonce.split_at_mut(4);
        for (n, m) in inonce.iter_mut().zip(mac) {
            *n ^= m;
        }
        let mut count = [0u8; 4];
        count.copy_from_slice(counter);
        let next = u32::from_le_bytes(count).wrapping_add(1);
        counter.copy_from_slice(&next.to_le_bytes());
        if tag & TAG_REKEY != 0 || next == 0 {
            self.rekey();
        }
    }

    /// `(k ‖ inonce) = ChaCha20-IETF-xor(k, nonce, k ‖ inonce)`, counter back to 1.
    fn rekey(&mut self) {
        let mut both = Zeroizing::new([0u8; 40]);
        let (k, inonce) = both.split_at_mut(32);
        k.copy_from_slice(&*self.key);
        inonce.copy_from_slice(self.nonce.get(4..).unwrap_or_default());
        ChaCha20::new((&*self.key).into(), (&*self.nonce).into()).apply_keystream(&mut *both);
        let (k, inonce) = both.split_at(32);
        self.key.copy_from_slice(k);
        let (counter, rest) = self.nonce.split_at_mut(4);
        counter.copy_from_slice(&1u32.to_le_bytes());
        rest.copy_from_slice(inonce);
    }
}

/// libsodium's MAC of a chunk: Poly1305 over `block (64) ‖ c ‖ 0 × ((16 − 64 + |c|) mod 16) ‖
/// LE64(0) ‖ LE64(64 + |c|)` (no associated data). The odd padding length is libsodium's.
fn authenticate(mut poly: Poly1305, block: &[u8; 64], ciphertext: &[u8]) -> [u8; 16] {
    for piece in block.chunks_exact(16).chain(ciphertext.chunks_exact(16)) {
        poly.update(core::slice::from_ref(GenericArray::from_slice(piece)));
    }
    let rest = ciphertext.chunks_exact(16).remainder();
    // (16 − 64 + |c|) mod 16 is |c| mod 16: as many zeros as the last partial block has bytes.
    let pad = ciphertext.len() % 16;
    let mut tail = [0u8; 15 + 15 + 16];
    let (head, lengths) = tail.split_at_mut(rest.len() + pad);
    if let Some(to) = head.get_mut(..rest.len()) {
        to.copy_from_slice(rest);
    }
    let (_, total) = lengths.split_at_mut(8);
    let total_len = rest.len() + pad + 16;
    if let Some(total) = total.get_mut(..8) {
        total.copy_from_slice(&(64 + ciphertext.len() as u64).to_le_bytes());
    }
    poly.compute_unpadded(tail.get(..total_len).unwrap_or_default()).into()
}

/// A secretstream of the given pieces and tags under `key` and `header`, framed as an attachment
/// (`'S' ‖ header ‖ chunks`), whatever the pieces hold: for the fuzz entry point and tests, which
/// need streams the encryptor never makes.
pub(crate) fn seal_pieces(key: &[u8; 32], header: &[u8; HEADER], pieces: &[(&[u8], u8)]) -> Vec<u8> {
    let mut out = vec![MAGIC];
    out.extend_from_slice(header);
    let mut stream = Stream::new(key, header);
    for (piece, tag) in pieces {
        let mut message = piece.to_vec();
        let (tag_byte, mac) = stream.push(&mut message, *tag);
        out.push(tag_byte);
        out.extend_from_slice(&message);
        out.extend_from_slice(&mac);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make_data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (7 * i % 256) as u8).collect()
    }

    /// [derived]: a stream made by libsodium itself (PyNaCl 1.5.0,
    /// `crypto_secretstream_xchacha20poly1305_init_push` with key `00…1f`, then `push` of
    /// `make_data(len)` with these tags): odd lengths, an empty message, REKEY and PUSH tags
    /// mid-stream, then FINAL. The push here must give the same bytes and the pull the same
    /// messages and tags.
    #[test]
    fn secretstream_matches_libsodium_across_rekeys() {
        let key: [u8; 32] = core::array::from_fn(|i| i as u8);
        let header: [u8; HEADER] =
            hex::decode("e01153a35acde56d298b99429e3159f433eb6fa9cf7747a9").unwrap().try_into().unwrap();
        let chunks: [(usize, u8, &str); 5] = [
            (10, 2, "43e067fd8be53738ebc33fe9cdc70e18c5e4eacab05fdf9738b1a3"),
            (
                33,
                1,
                "157befba86b8f625ba689889c2a8c71140c6e1d8f64b8126525da57722f6c06bcb40b776aa8e1999896f4f4a2ad0b94e9ad9",
            ),
            (0, 0, "ca8455ddab38ecd52f59cdb3bbd43c3c84"),
            (16, 2, "60897fa68e162329dcbe4ed5e5474d93376d62c3b93fe8e72972c64ccaf72096c6"),
            (5, 3, "f0a28334bd85d0c4ec37d1ef5af6e45931bb8792e11a"),
        ];
        let mut push = Stream::new(&key, &header);
        let mut pull = Stream::new(&key, &header);
        for (len, tag, expected) in chunks {
            let mut message = make_data(len);
            let (tag_byte, mac) = push.push(&mut message, tag);
            let mut sealed = vec![tag_byte];
            sealed.extend_from_slice(&message);
            sealed.extend_from_slice(&mac);
            assert_eq!(hex::encode(&sealed), expected, "chunk of {len} with tag {tag}");
            let mut out = Vec::new();
            assert_eq!(pull.pull(&sealed, &mut out).unwrap(), tag);
            assert_eq!(out, make_data(len));
        }
    }

    /// Padding longer than a whole chunk: the first chunk is all padding and is skipped.
    #[test]
    fn padding_over_a_whole_chunk_is_skipped() {
        let n = 2_096_979;
        assert_eq!(padding(n as u128), 64_562);
        let data = make_data(n);
        let out = encrypt_deterministic(&[5; 32], &data, Domain::Attachment).unwrap();
        assert_eq!(out.data.len(), 2_162_688);
        assert_eq!(*decrypt_deterministic(&out.data, &out.key).unwrap(), data);
    }

    #[test]
    fn the_padding_must_end_in_one_marker_and_the_tags_must_close_the_stream() {
        let key = [3u8; 32];
        let header = [4u8; HEADER];
        let open = |pieces: &[(&[u8], u8)]| {
            let sealed = seal_pieces(&key, &header, pieces);
            decrypt_deterministic(&sealed, &AttachmentKey::from_bytes(&key).unwrap()).map(|p| p.to_vec())
        };
        let full_padding = vec![0u8; CHUNK];
        assert_eq!(open(&[(b"\x00\x00\x01abc", TAG_FINAL)]).unwrap(), b"abc");
        assert_eq!(open(&[(b"\x01", TAG_FINAL)]).unwrap(), b"");
        // The marker may open a later chunk, after whole chunks of padding, and chunks may be
        // empty, or rekeyed.
        assert_eq!(open(&[(&full_padding, TAG_MESSAGE), (b"\x01hi", TAG_FINAL)]).unwrap(), b"hi");
        assert_eq!(open(&[(&full_padding, TAG_REKEY), (b"\x01hi", TAG_FINAL)]).unwrap(), b"hi");
        let mut marker_last = vec![0u8; CHUNK];
        marker_last[CHUNK - 1] = 1;
        assert_eq!(open(&[(&marker_last, TAG_MESSAGE), (b"\x00x", TAG_FINAL)]).unwrap(), b"\x00x");
        // No marker, another byte first, no FINAL, FINAL too early.
        assert_eq!(open(&[(b"\x00\x00", TAG_FINAL)]).unwrap_err(), OpenError);
        assert_eq!(open(&[(b"", TAG_FINAL)]).unwrap_err(), OpenError);
        assert_eq!(open(&[(b"\x00\x02abc", TAG_FINAL)]).unwrap_err(), OpenError);
        assert_eq!(open(&[(b"\x01abc", TAG_MESSAGE)]).unwrap_err(), OpenError);
        assert_eq!(open(&[(&full_padding, TAG_FINAL), (b"\x01hi", TAG_FINAL)]).unwrap_err(), OpenError);
        assert_eq!(open(&[]).unwrap_err(), OpenError);
        // A chunk shorter than a full one before the end is read as the last: its tag is not FINAL.
        assert_eq!(open(&[(b"\x01a", TAG_MESSAGE), (b"b", TAG_FINAL)]).unwrap_err(), OpenError);
        // The magic byte.
        let mut sealed = seal_pieces(&key, &header, &[(b"\x01abc", TAG_FINAL)]);
        sealed[0] = b'T';
        assert_eq!(decrypt_deterministic(&sealed, &AttachmentKey::from_bytes(&key).unwrap()).unwrap_err(), OpenError);
    }

    #[test]
    fn fill_plain_lays_out_padding_marker_and_data() {
        let data = make_data(100);
        for pad in [1, 2, 5, 40] {
            let total = pad + data.len();
            let mut whole = vec![0u8; pad - 1];
            whole.push(1);
            whole.extend_from_slice(&data);
            for piece in [1, 3, 16, 200] {
                let mut laid = Vec::new();
                let mut offset = 0;
                while offset < total {
                    let mut dst = vec![0u8; piece.min(total - offset)];
                    fill_plain(&mut dst, offset, pad, &data);
                    offset += dst.len();
                    laid.extend_from_slice(&dst);
                }
                assert_eq!(laid, whole, "pad {pad}, pieces of {piece}");
            }
        }
    }

    #[test]
    fn sizes_never_overflow() {
        assert_eq!(deterministic_len(usize::MAX), usize::MAX);
        assert!(padding(u64::MAX as u128) >= 1);
    }
}
