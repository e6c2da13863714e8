//! The recovery phrase: bytes ⇄ words from the 1626-word English list, with a checksum word.
//!
//! Every 4 bytes (read little-endian) become 3 words; a checksum word, a copy of one of the data
//! words chosen by CRC-32 of the words' 3-letter prefixes, follows. Decoding is tolerant the way
//! the reference implementation is: case does not matter, and only the first 3 letters of a word
//! count, so typos after the third letter and bare prefixes work.
//!
//! Errors never contain the words themselves: a phrase is a secret.

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::identity::Seed;

/// The number of words in the list.
const N: u32 = 1626;
/// The number of words in the list, as a length.
const WORD_COUNT: usize = N as usize;
/// Words are identified by this many leading letters.
const PREFIX_LEN: usize = 3;

/// The English word list, one word per line (see `mnemonic/README.md` for its origin).
const ENGLISH: &str = include_str!("mnemonic/english.txt");

/// Where each word sits in [`ENGLISH`] (start, end), and each word's 3-letter prefix. Both are
/// computed at compile time, so a list that is not exactly 1626 lower-case words of at least 3
/// letters with strictly increasing (hence distinct) prefixes does not build.
struct Table {
    spans: [(u16, u16); WORD_COUNT],
    prefixes: [[u8; PREFIX_LEN]; WORD_COUNT],
}

// Indexing here runs only at compile time: an out-of-range index is a build error, not a panic.
#[allow(clippy::indexing_slicing)]
const fn build_table() -> Table {
    let bytes = ENGLISH.as_bytes();
    assert!(bytes.len() <= u16::MAX as usize, "word list too long for u16 offsets");
    let mut spans = [(0u16, 0u16); WORD_COUNT];
    let mut prefixes = [[0u8; PREFIX_LEN]; WORD_COUNT];
    let mut n = 0;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\n' {
            assert!(n < WORD_COUNT, "more than 1626 words");
            assert!(i - start >= PREFIX_LEN, "a word shorter than its prefix");
            spans[n] = (start as u16, i as u16);
            prefixes[n] = [bytes[start], bytes[start + 1], bytes[start + 2]];
            if n > 0 {
                let (a, p) = (prefixes[n - 1], prefixes[n]);
                let increasing = a[0] < p[0] || (a[0] == p[0] && (a[1] < p[1] || (a[1] == p[1] && a[2] < p[2])));
                assert!(increasing, "3-letter prefixes are not strictly increasing");
            }
            n += 1;
            start = i + 1;
        } else {
            assert!(b.is_ascii_lowercase(), "a word has a character other than a-z");
        }
        i += 1;
    }
    assert!(start == bytes.len(), "the list must end with a newline");
    assert!(n == WORD_COUNT, "fewer than 1626 words");
    Table { spans, prefixes }
}

static TABLE: Table = build_table();

fn word(index: u32) -> &'static str {
    let span = TABLE.spans.get(index as usize).copied().unwrap_or_default();
    ENGLISH.get(usize::from(span.0)..usize::from(span.1)).unwrap_or("")
}

fn prefix_of(index: u32) -> &'static [u8] {
    TABLE.prefixes.get(index as usize).map_or(&[], |p| p.as_slice())
}

/// The index of the word whose first 3 letters match those of `typed` (ASCII case ignored).
/// Anything after the third letter is ignored; fewer than 3 letters match nothing.
fn lookup(typed: &str) -> Option<u32> {
    let key = match typed.as_bytes() {
        [a, b, c, ..] => [a.to_ascii_lowercase(), b.to_ascii_lowercase(), c.to_ascii_lowercase()],
        _ => return None,
    };
    let index = TABLE.prefixes.binary_search(&key).ok()?;
    u32::try_from(index).ok()
}

/// A recovery phrase: words separated by single spaces. Zeroized on drop; never printed;
/// compared in constant time.
#[derive(Clone, Zeroize)]
pub struct Phrase(Zeroizing<String>);

wipe_on_drop!(Phrase);

#[cfg(test)]
impl crate::SecretFields for Phrase {
    fn secret_fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        // `zeroize` overwrites the text's whole buffer, then leaves it empty.
        let Phrase(words) = self;
        vec![("0", words.as_bytes().to_vec())]
    }
}

impl PartialEq for Phrase {
    fn eq(&self, other: &Phrase) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Phrase {}

impl Phrase {
    /// The phrase as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The words, in order.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.0.split(' ')
    }
}

impl fmt::Debug for Phrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Phrase(<redacted>)")
    }
}

/// The `expected` of [`PhraseError::WrongWordCount`] from [`decode_seed`].
pub const SEED_WORDS: &str = "13";
/// The `expected` of [`PhraseError::WrongWordCount`] from [`decode`].
pub const ANY_WORDS: &str = "a multiple of 3 (plus 1 for the checksum word)";

/// Why a phrase cannot be decoded, or bytes cannot be encoded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum PhraseError {
    /// The checksum word does not match the other words (a word is wrong or out of order).
    BadChecksum,
    /// Only whole multiples of 4 bytes can be encoded.
    InvalidLength { bytes: usize },
    /// The three words starting at this 1-based position do not encode a 32-bit value.
    InvalidTriple { word: usize },
    /// The word at this 1-based position is not in the list.
    UnknownWord { position: usize },
    /// The phrase does not have a usable number of words.
    WrongWordCount { found: usize, expected: &'static str },
}

impl fmt::Display for PhraseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhraseError::BadChecksum => {
                f.write_str("the last word does not match the others: check each word and their order")
            }
            PhraseError::InvalidLength { bytes } => {
                write!(f, "only multiples of 4 bytes can be encoded; got {bytes}")
            }
            PhraseError::InvalidTriple { word } => {
                write!(f, "words {word} to {} do not form a valid group: one of them is wrong", word + 2)
            }
            PhraseError::UnknownWord { position } => {
                write!(f, "word {position} is not a recovery-phrase word")
            }
            PhraseError::WrongWordCount { found: 0, .. } => f.write_str("no words were given"),
            PhraseError::WrongWordCount { found: 12, expected: SEED_WORDS } => f.write_str(
                "a recovery phrase has 13 words; this has 12: the last word, which checks the others, is missing",
            ),
            PhraseError::WrongWordCount { found, expected } => {
                write!(f, "a recovery phrase has {expected} words; this has {found}")
            }
        }
    }
}

impl std::error::Error for PhraseError {}

/// Encodes `bytes` (a multiple of 4) as words plus the checksum word.
pub fn encode(bytes: &[u8]) -> Result<Phrase, PhraseError> {
    let mut indices = Zeroizing::new(data_indices(bytes)?);
    if let Some(check) = checksum_index(&indices) {
        indices.push(check);
    }
    Ok(join(&indices))
}

/// Encodes `bytes` (a multiple of 4) as words, without a checksum word.
pub fn encode_without_checksum(bytes: &[u8]) -> Result<Phrase, PhraseError> {
    let indices = Zeroizing::new(data_indices(bytes)?);
    Ok(join(&indices))
}

/// The 13-word phrase of a 16-byte seed.
pub fn encode_seed(seed: &Seed) -> Phrase {
    let mut indices = Zeroizing::new(Vec::with_capacity(13));
    push_chunks(seed.as_bytes(), &mut indices);
    if let Some(check) = checksum_index(&indices) {
        indices.push(check);
    }
    join(&indices)
}

fn data_indices(bytes: &[u8]) -> Result<Vec<u32>, PhraseError> {
    if !bytes.len().is_multiple_of(4) {
        return Err(PhraseError::InvalidLength { bytes: bytes.len() });
    }
    let mut indices = Vec::with_capacity(bytes.len() / 4 * 3 + 1);
    push_chunks(bytes, &mut indices);
    Ok(indices)
}

fn push_chunks(bytes: &[u8], indices: &mut Vec<u32>) {
    for chunk in bytes.chunks_exact(4) {
        let mut quad = [0u8; 4];
        quad.copy_from_slice(chunk);
        let x = u32::from_le_bytes(quad);
        quad.zeroize();
        let w1 = x % N;
        let w2 = (x / N + w1) % N;
        let w3 = (x / N / N + w2) % N;
        indices.extend([w1, w2, w3]);
    }
}

/// The index of the checksum word among `data` word indices, or `None` when there are none.
fn checksum_index(data: &[u32]) -> Option<u32> {
    let position = checksum_position(data)?;
    data.get(position).copied()
}

/// Which data word the checksum word repeats.
fn checksum_position(data: &[u32]) -> Option<usize> {
    if data.is_empty() {
        return None;
    }
    let mut hasher = crc32fast::Hasher::new();
    for &i in data {
        hasher.update(prefix_of(i));
    }
    let crc = hasher.finalize();
    usize::try_from(crc).ok().map(|crc| crc % data.len())
}

fn join(indices: &[u32]) -> Phrase {
    let mut out = Zeroizing::new(String::with_capacity(indices.len() * 9));
    for (n, &i) in indices.iter().enumerate() {
        if n > 0 {
            out.push(' ');
        }
        out.push_str(word(i));
    }
    Phrase(out)
}

/// Decodes a phrase to its bytes. A multiple of 3 words has no checksum word; a multiple of 3
/// plus one has one, which must match.
///
/// Tolerant like the reference implementation: words are separated by any white space, ASCII case
/// is ignored, and only the first 3 letters of each word count (typos after the third letter and
/// bare prefixes decode).
pub fn decode(phrase: &str) -> Result<Zeroizing<Vec<u8>>, PhraseError> {
    decode_words(&typed_words(phrase), ANY_WORDS)
}

/// The words of `phrase`, split on any white space (ASCII input takes the faster byte-wise split;
/// other input also splits on Unicode spaces such as a pasted no-break space).
fn typed_words(phrase: &str) -> Vec<&str> {
    if phrase.is_ascii() { phrase.split_ascii_whitespace().collect() } else { phrase.split_whitespace().collect() }
}

/// [`decode`] of the typed words; `expected` goes into a word-count error.
fn decode_words(typed: &[&str], expected: &'static str) -> Result<Zeroizing<Vec<u8>>, PhraseError> {
    let found = typed.len();
    let has_checksum = match found % 3 {
        _ if found < 3 => return Err(PhraseError::WrongWordCount { found, expected }),
        0 => false,
        1 => true,
        _ => return Err(PhraseError::WrongWordCount { found, expected }),
    };
    let mut indices = Zeroizing::new(Vec::with_capacity(found));
    for (n, word) in typed.iter().enumerate() {
        indices.push(lookup(word).ok_or(PhraseError::UnknownWord { position: n + 1 })?);
    }
    let data_len = if has_checksum { found - 1 } else { found };
    let (data, check) = indices.split_at(data_len.min(indices.len()));

    let n = u64::from(N);
    let mut out = Zeroizing::new(Vec::with_capacity(data_len / 3 * 4));
    for (t, triple) in data.chunks_exact(3).enumerate() {
        let invalid = PhraseError::InvalidTriple { word: t * 3 + 1 };
        let &[w1, w2, w3] = triple else { return Err(invalid) };
        let (w1, w2, w3) = (u64::from(w1), u64::from(w2), u64::from(w3));
        let x = w1 + n * ((n - w1 + w2) % n) + n * n * ((n - w2 + w3) % n);
        let value = u32::try_from(x).map_err(|_| invalid)?;
        if u64::from(value) % n != w1 {
            return Err(invalid);
        }
        out.extend_from_slice(&value.to_le_bytes());
    }

    if let Some(&check) = check.first()
        && checksum_index(data) != Some(check)
    {
        return Err(PhraseError::BadChecksum);
    }
    Ok(out)
}

/// Decodes an account's 13-word phrase (12 words and a checksum word) to its 16-byte seed.
///
/// Only this form is accepted: it is the one every client reads and writes. A 12-word phrase,
/// without the checksum word, is refused as a wrong word count.
pub fn decode_seed(phrase: &str) -> Result<Seed, PhraseError> {
    let typed = typed_words(phrase);
    let found = typed.len();
    if found != 13 {
        return Err(PhraseError::WrongWordCount { found, expected: SEED_WORDS });
    }
    let bytes = decode_words(&typed, SEED_WORDS)?;
    let mut seed = [0u8; 16];
    if bytes.len() != seed.len() {
        return Err(PhraseError::WrongWordCount { found, expected: SEED_WORDS });
    }
    seed.copy_from_slice(&bytes);
    let out = Seed::from_bytes(seed);
    seed.zeroize();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn all_words() -> Vec<&'static str> {
        (0..N).map(word).collect()
    }

    /// vectors-core.md §2: SHA-256 of the words joined by "\n" with a trailing "\n", and the
    /// spot checks.
    #[test]
    fn word_list_matches_protocol_sha256_and_spot_checks() {
        let mut joined = all_words().join("\n");
        joined.push('\n');
        assert_eq!(
            hex::encode(Sha256::digest(joined.as_bytes())),
            "eaa6bce7dd92f4d6dd74f224264e0ef4ad21095d68ec77616b26ceb599baf4f7"
        );
        assert_eq!(ENGLISH.lines().count(), WORD_COUNT);
        for (i, w) in [(0, "abbey"), (1, "abducts"), (100, "arises"), (500, "foxes"), (1000, "opened"), (1625, "zoom")]
        {
            assert_eq!(word(i), w);
        }
        assert_eq!(word(N), "");
    }

    #[test]
    fn all_1626_prefixes_are_distinct() {
        let prefixes: std::collections::BTreeSet<&str> = all_words().iter().map(|w| &w[..PREFIX_LEN]).collect();
        assert_eq!(prefixes.len(), WORD_COUNT);
        for (i, w) in all_words().iter().enumerate() {
            assert_eq!(prefix_of(i as u32), &w.as_bytes()[..PREFIX_LEN]);
        }
    }

    #[test]
    fn lookup_uses_the_first_three_letters_only() {
        for (i, w) in all_words().iter().enumerate() {
            assert_eq!(lookup(w), Some(i as u32));
            assert_eq!(lookup(&w[..PREFIX_LEN]), Some(i as u32));
            assert_eq!(lookup(&w.to_uppercase()), Some(i as u32));
            assert_eq!(lookup(&format!("{}xyz", &w[..PREFIX_LEN])), Some(i as u32));
        }
        for bad in ["", "a", "ab", "zzz", "éab", "ab\u{e9}", "1ab"] {
            assert_eq!(lookup(bad), None, "{bad}");
        }
    }

    #[test]
    fn phrase_does_not_print() {
        let phrase = encode(&[0u8; 16]).unwrap();
        assert_eq!(format!("{phrase:?}"), "Phrase(<redacted>)");
    }

    #[test]
    fn word_count_errors_read_well() {
        let twelve = PhraseError::WrongWordCount { found: 12, expected: SEED_WORDS }.to_string();
        assert!(twelve.contains("13") && twelve.contains("missing"), "{twelve}");
        let two = PhraseError::WrongWordCount { found: 2, expected: SEED_WORDS }.to_string();
        assert_eq!(two, "a recovery phrase has 13 words; this has 2");
        assert_eq!(PhraseError::WrongWordCount { found: 0, expected: ANY_WORDS }.to_string(), "no words were given");
    }
}
