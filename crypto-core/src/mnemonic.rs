//! The recovery phrase: bytes ⇄ words from the 1626-word English list, with a checksum word.
//!
//! Every 4 bytes (read little-endian) become 3 words; a checksum word, a copy of one of the data
//! words chosen by CRC-32 of the words' 3-letter prefixes, follows. Decoding is tolerant the way
//! the reference implementation is: case does not matter, and only the first 3 letters of a word
//! count, so typos after the third letter and bare prefixes work.
//!
//! Errors never contain the words themselves: a phrase is a secret.

use core::fmt;
use std::sync::OnceLock;

use zeroize::{Zeroize, Zeroizing};

use crate::identity::Seed;

/// The number of words in the list.
const N: u32 = 1626;
/// Words are identified by this many leading letters.
const PREFIX_LEN: usize = 3;

/// The English word list, one word per line (see `mnemonic/README.md` for its origin).
const ENGLISH: &str = include_str!("mnemonic/english.txt");

/// The word list, in order. The list is sorted, so it is also sorted by 3-letter prefix.
fn words() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| ENGLISH.lines().collect())
}

fn word(index: u32) -> &'static str {
    words().get(index as usize).copied().unwrap_or("")
}

fn prefix(word: &str) -> &str {
    word.get(..PREFIX_LEN).unwrap_or(word)
}

/// The index of the word whose first 3 letters match `typed` (already lower-case).
fn lookup(typed: &str) -> Option<u32> {
    let mut chars = typed.char_indices();
    let end = match chars.nth(PREFIX_LEN) {
        Some((i, _)) => i,
        None => typed.len(),
    };
    let key = typed.get(..end)?;
    if key.chars().count() != PREFIX_LEN {
        return None;
    }
    let index = words().binary_search_by(|w| prefix(w).cmp(key)).ok()?;
    u32::try_from(index).ok()
}

/// A recovery phrase: words separated by single spaces. Zeroized on drop; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Phrase(Zeroizing<String>);

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
        hasher.update(prefix(word(i)).as_bytes());
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
pub fn decode(phrase: &str) -> Result<Zeroizing<Vec<u8>>, PhraseError> {
    let lower = Zeroizing::new(phrase.to_lowercase());
    let typed: Vec<&str> = lower.split_whitespace().collect();
    let found = typed.len();
    let has_checksum = match found % 3 {
        _ if found == 0 => {
            return Err(PhraseError::WrongWordCount { found, expected: "13" });
        }
        0 => false,
        1 if found >= 4 => true,
        _ => return Err(PhraseError::WrongWordCount { found, expected: "13" }),
    };
    let mut indices = Zeroizing::new(Vec::with_capacity(found));
    for (n, w) in typed.iter().enumerate() {
        let index = lookup(w).ok_or(PhraseError::UnknownWord { position: n + 1 })?;
        indices.push(index);
    }
    let data_len = if has_checksum { found - 1 } else { found };
    let (data, check) = indices.split_at(data_len);

    let mut out = Zeroizing::new(Vec::with_capacity(data_len / 3 * 4));
    for (t, triple) in data.chunks_exact(3).enumerate() {
        let (w1, w2, w3) = match *triple {
            [a, b, c] => (u64::from(a), u64::from(b), u64::from(c)),
            _ => return Err(PhraseError::InvalidTriple { word: t * 3 + 1 }),
        };
        let n = u64::from(N);
        let x = w1 + n * ((n - w1 + w2) % n) + n * n * ((n - w2 + w3) % n);
        let value = u32::try_from(x).map_err(|_| PhraseError::InvalidTriple { word: t * 3 + 1 })?;
        if u64::from(value) % n != w1 {
            return Err(PhraseError::InvalidTriple { word: t * 3 + 1 });
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

/// Decodes the 13-word phrase of an account to its 16-byte seed.
pub fn decode_seed(phrase: &str) -> Result<Seed, PhraseError> {
    let found = phrase.split_whitespace().count();
    if found != 13 {
        return Err(PhraseError::WrongWordCount { found, expected: "13" });
    }
    let bytes = decode(phrase)?;
    let mut seed = [0u8; 16];
    if bytes.len() != seed.len() {
        return Err(PhraseError::WrongWordCount { found, expected: "13" });
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

    /// protocol-core.md §2.1: SHA-256 of the words joined by "\n" with a trailing "\n".
    #[test]
    fn word_list_matches_protocol_sha256() {
        let mut joined = words().join("\n");
        joined.push('\n');
        assert_eq!(
            hex::encode(Sha256::digest(joined.as_bytes())),
            "eaa6bce7dd92f4d6dd74f224264e0ef4ad21095d68ec77616b26ceb599baf4f7"
        );
        assert_eq!(words().len(), N as usize);
        for (i, w) in [(0, "abbey"), (1, "abducts"), (100, "arises"), (500, "foxes"), (1000, "opened"), (1625, "zoom")]
        {
            assert_eq!(word(i), w);
        }
    }

    #[test]
    fn prefixes_are_distinct_and_sorted_so_lookup_works() {
        for pair in words().windows(2) {
            assert!(prefix(pair[0]) < prefix(pair[1]), "{pair:?}");
        }
        for (i, w) in words().iter().enumerate() {
            assert_eq!(lookup(w), Some(i as u32));
            assert_eq!(lookup(prefix(w)), Some(i as u32));
        }
        assert_eq!(lookup("ab"), None);
        assert_eq!(lookup(""), None);
        assert_eq!(lookup("zzz"), None);
        assert_eq!(lookup("éab"), None);
    }

    #[test]
    fn phrase_does_not_print() {
        let phrase = encode(&[0u8; 16]).unwrap();
        assert_eq!(format!("{phrase:?}"), "Phrase(<redacted>)");
    }
}
