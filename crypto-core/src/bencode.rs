//! Strict bencode ("bt", as oxenc writes it): the encoding of config messages (protocol-config-groups
//! §1.1).
//!
//! A value is an integer `i<decimal>e`, a byte string `<len>:<bytes>`, a list `l…e` or a dict
//! `d…e` whose keys are byte strings in strictly ascending bytewise order. Only the canonical form
//! is accepted: no leading zeros or `-0` in integers or lengths, no unsorted or repeated keys, no
//! trailing bytes, and nesting at most [`MAX_DEPTH`] deep. So decoding then encoding gives back the
//! same bytes, which is what message hashes and signatures rely on.
//!
//! Integers are kept in the range bt carries in practice: `i64::MIN ..= u64::MAX` (oxenc reads an
//! integer as either a signed or an unsigned 64-bit value).

use core::fmt;
use std::collections::BTreeMap;

/// How deep lists and dicts may nest. Config messages nest about 6 deep (outer dict, `<`, an entry,
/// its diff, a record, a set diff); oxenc has no limit of its own, so this only keeps recursion
/// bounded on hostile input.
pub const MAX_DEPTH: usize = 64;

/// A bt dict: byte-string keys, kept sorted (the order bt requires).
pub type Dict = BTreeMap<Vec<u8>, Value>;

/// One bt value.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Value {
    /// An integer, within `i64::MIN ..= u64::MAX`.
    Int(i128),
    /// A byte string.
    Bytes(Vec<u8>),
    /// A list.
    List(Vec<Value>),
    /// A dict with sorted, unique keys.
    Dict(Dict),
}

impl Value {
    /// The value as bt bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Appends the value's bt bytes to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Value::Int(i) => encode_int(*i, out),
            Value::Bytes(b) => encode_bytes(b, out),
            Value::List(items) => {
                out.push(b'l');
                for item in items {
                    item.encode_into(out);
                }
                out.push(b'e');
            }
            Value::Dict(dict) => {
                out.push(b'd');
                for (key, value) in dict {
                    encode_bytes(key, out);
                    value.encode_into(out);
                }
                out.push(b'e');
            }
        }
    }

    /// The byte string, if this is one.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The integer, if this is one that fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => i64::try_from(*i).ok(),
            _ => None,
        }
    }
}

/// Appends `i<n>e`.
pub fn encode_int(i: i128, out: &mut Vec<u8>) {
    out.push(b'i');
    out.extend_from_slice(i.to_string().as_bytes());
    out.push(b'e');
}

/// Appends `<len>:<bytes>`.
pub fn encode_bytes(b: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(b);
}

/// Decodes exactly one canonical bt value filling all of `input`.
pub fn decode(input: &[u8]) -> Result<Value, BtError> {
    let mut reader = Reader { input, pos: 0 };
    let value = reader.value(0)?;
    if reader.pos != input.len() {
        return Err(reader.error(BtErrorKind::TrailingData));
    }
    Ok(value)
}

/// Why bytes are not canonical bt, and where.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct BtError {
    /// What is wrong.
    pub kind: BtErrorKind,
    /// The byte offset in the input where it was found.
    pub offset: usize,
}

/// What is wrong with bt input.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum BtErrorKind {
    /// The input ends inside a value.
    UnexpectedEnd,
    /// A byte that starts no value (not `i`, `l`, `d` or a digit).
    UnexpectedByte(u8),
    /// An integer that is empty, not decimal, has a leading zero or is `-0`.
    BadInteger,
    /// An integer outside `i64::MIN ..= u64::MAX`.
    IntegerOutOfRange,
    /// A string length that is not decimal or has a leading zero.
    BadLength,
    /// A dict key that is not a byte string.
    KeyNotString,
    /// A dict key not after the one before it (unsorted or repeated).
    UnsortedKey,
    /// Lists and dicts nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Bytes after the value.
    TrailingData,
}

impl fmt::Display for BtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            BtErrorKind::UnexpectedEnd => "the data ends inside a value".to_owned(),
            BtErrorKind::UnexpectedByte(b) => format!("byte 0x{b:02x} starts no value"),
            BtErrorKind::BadInteger => "an integer is not canonical decimal".to_owned(),
            BtErrorKind::IntegerOutOfRange => "an integer is out of range".to_owned(),
            BtErrorKind::BadLength => "a string length is not canonical decimal".to_owned(),
            BtErrorKind::KeyNotString => "a dict key is not a string".to_owned(),
            BtErrorKind::UnsortedKey => "a dict key is out of order or repeated".to_owned(),
            BtErrorKind::TooDeep => "lists and dicts nest too deep".to_owned(),
            BtErrorKind::TrailingData => "bytes follow the value".to_owned(),
        };
        write!(f, "bad bencode at byte {}: {what}", self.offset)
    }
}

impl std::error::Error for BtError {}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn error(&self, kind: BtErrorKind) -> BtError {
        BtError { kind, offset: self.pos }
    }

    fn peek(&self) -> Result<u8, BtError> {
        self.input.get(self.pos).copied().ok_or(self.error(BtErrorKind::UnexpectedEnd))
    }

    fn value(&mut self, depth: usize) -> Result<Value, BtError> {
        match self.peek()? {
            b'i' => self.int().map(Value::Int),
            b'0'..=b'9' => self.bytes().map(Value::Bytes),
            b'l' => {
                let depth = self.enter(depth)?;
                let mut items = Vec::new();
                while self.peek()? != b'e' {
                    items.push(self.value(depth)?);
                }
                self.pos += 1;
                Ok(Value::List(items))
            }
            b'd' => {
                let depth = self.enter(depth)?;
                let mut dict = Dict::new();
                while self.peek()? != b'e' {
                    let at = self.pos;
                    if !self.peek()?.is_ascii_digit() {
                        return Err(self.error(BtErrorKind::KeyNotString));
                    }
                    let key = self.bytes()?;
                    if dict.last_key_value().is_some_and(|(last, _)| *last >= key) {
                        return Err(BtError { kind: BtErrorKind::UnsortedKey, offset: at });
                    }
                    let value = self.value(depth)?;
                    dict.insert(key, value);
                }
                self.pos += 1;
                Ok(Value::Dict(dict))
            }
            other => Err(self.error(BtErrorKind::UnexpectedByte(other))),
        }
    }

    fn enter(&mut self, depth: usize) -> Result<usize, BtError> {
        if depth >= MAX_DEPTH {
            return Err(self.error(BtErrorKind::TooDeep));
        }
        self.pos += 1;
        Ok(depth + 1)
    }

    /// The digits up to `end`, checked canonical; the position ends after `end`.
    fn digits(&mut self, end: u8, bad: BtErrorKind) -> Result<&[u8], BtError> {
        let start = self.pos;
        let rest = self.input.get(start..).unwrap_or_default();
        let len =
            rest.iter().position(|&b| b == end).ok_or(BtError { kind: BtErrorKind::UnexpectedEnd, offset: start })?;
        let digits = rest.get(..len).unwrap_or_default();
        let (negative, magnitude) = match digits.split_first() {
            Some((b'-', m)) if end == b'e' => (true, m),
            _ => (false, digits),
        };
        let canonical = match magnitude {
            [] => false,
            [b'0'] => !negative,
            [first, ..] => *first != b'0' && magnitude.iter().all(u8::is_ascii_digit),
        };
        if !canonical {
            return Err(BtError { kind: bad, offset: start });
        }
        self.pos = start + len + 1;
        Ok(digits)
    }

    fn int(&mut self) -> Result<i128, BtError> {
        self.pos += 1;
        let start = self.pos;
        let digits = self.digits(b'e', BtErrorKind::BadInteger)?;
        // At most 20 digits and a sign fit an i128 without overflow; longer is out of range anyway.
        let value = match core::str::from_utf8(digits).ok().filter(|d| d.len() <= 21) {
            Some(text) => text.parse::<i128>().ok(),
            None => None,
        };
        match value {
            Some(v) if (i128::from(i64::MIN)..=i128::from(u64::MAX)).contains(&v) => Ok(v),
            _ => Err(BtError { kind: BtErrorKind::IntegerOutOfRange, offset: start }),
        }
    }

    fn bytes(&mut self) -> Result<Vec<u8>, BtError> {
        let start = self.pos;
        let digits = self.digits(b':', BtErrorKind::BadLength)?;
        let len = core::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse::<usize>().ok())
            .ok_or(BtError { kind: BtErrorKind::BadLength, offset: start })?;
        let end = self.pos.checked_add(len).ok_or(BtError { kind: BtErrorKind::UnexpectedEnd, offset: start })?;
        let bytes = self.input.get(self.pos..end).ok_or(BtError { kind: BtErrorKind::UnexpectedEnd, offset: start })?;
        self.pos = end;
        Ok(bytes.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(input: &[u8]) -> BtErrorKind {
        decode(input).unwrap_err().kind
    }

    #[test]
    fn round_trips_canonical_input() {
        for input in [
            &b"i0e"[..],
            b"i-1e",
            b"i18446744073709551615e",
            b"i-9223372036854775808e",
            b"0:",
            b"3:abc",
            b"le",
            b"de",
            b"d0:i1e1:ali1e2:xye1:bdee",
            b"d1:#i0e1:&de1:<le1:=dee",
        ] {
            assert_eq!(decode(input).unwrap().encode(), input, "{}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn rejects_what_is_not_canonical() {
        assert_eq!(kind(b"i01e"), BtErrorKind::BadInteger);
        assert_eq!(kind(b"i-0e"), BtErrorKind::BadInteger);
        assert_eq!(kind(b"ie"), BtErrorKind::BadInteger);
        assert_eq!(kind(b"i-e"), BtErrorKind::BadInteger);
        assert_eq!(kind(b"i+1e"), BtErrorKind::BadInteger);
        assert_eq!(kind(b"i18446744073709551616e"), BtErrorKind::IntegerOutOfRange);
        assert_eq!(kind(b"i-9223372036854775809e"), BtErrorKind::IntegerOutOfRange);
        assert_eq!(kind(b"i99999999999999999999999999e"), BtErrorKind::IntegerOutOfRange);
        assert_eq!(kind(b"03:abc"), BtErrorKind::BadLength);
        assert_eq!(kind(b"-1:a"), BtErrorKind::UnexpectedByte(b'-'));
        assert_eq!(kind(b"4:abc"), BtErrorKind::UnexpectedEnd);
        assert_eq!(kind(b"99999999999999999999999:a"), BtErrorKind::BadLength);
        assert_eq!(kind(b"d1:bi1e1:ai2ee"), BtErrorKind::UnsortedKey);
        assert_eq!(kind(b"d1:ai1e1:ai2ee"), BtErrorKind::UnsortedKey);
        assert_eq!(kind(b"di1ei2ee"), BtErrorKind::KeyNotString);
        assert_eq!(kind(b"d1:ae"), BtErrorKind::UnexpectedByte(b'e'));
        assert_eq!(kind(b"d1:a"), BtErrorKind::UnexpectedEnd);
        assert_eq!(kind(b"l"), BtErrorKind::UnexpectedEnd);
        assert_eq!(kind(b"i1ex"), BtErrorKind::TrailingData);
        assert_eq!(kind(b""), BtErrorKind::UnexpectedEnd);
        assert_eq!(kind(b"x"), BtErrorKind::UnexpectedByte(b'x'));
        let deep = [vec![b'l'; MAX_DEPTH + 1], vec![b'e'; MAX_DEPTH + 1]].concat();
        assert_eq!(kind(&deep), BtErrorKind::TooDeep);
        let ok = [vec![b'l'; MAX_DEPTH], vec![b'e'; MAX_DEPTH]].concat();
        assert!(decode(&ok).is_ok());
    }

    #[test]
    fn errors_say_where() {
        let error = decode(b"d1:ai1e1:ai2ee").unwrap_err();
        assert_eq!(error.offset, 7);
        assert_eq!(error.to_string(), "bad bencode at byte 7: a dict key is out of order or repeated");
    }
}
