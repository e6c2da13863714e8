//! The config message: its outer dict, increments with the lag window, signatures and the merge of
//! concurrent versions (§1.2, §1.4, §1.5).

use core::fmt;
use std::collections::BTreeMap;

use blake2::Blake2b;
use blake2::digest::{Digest, consts::U32};

use crate::bencode::{self, Value};
use crate::identity::verify_ed25519;
use crate::seal::OpenError;

use super::ConfigError;
use super::data::{self, DataDict, Diff};

/// How many versions of diffs a message carries, its own included (`DEFAULT_DIFF_LAGS`; the same
/// for every config type).
pub const LAG: i64 = 5;

/// A message hash: unkeyed BLAKE2b-256 of the serialized message, signature included.
pub type MessageHash = [u8; 32];

/// Signs the bytes a config signature covers (the group Ed25519 key for group configs).
pub type Signer<'a> = &'a dyn Fn(&[u8]) -> [u8; 64];

/// The message hash of serialized bytes.
pub fn message_hash(serialized: &[u8]) -> MessageHash {
    Blake2b::<U32>::digest(serialized).into()
}

/// A config message as read (or as produced by a merge): read-only.
///
/// `Debug` shows the seqno and the hash, never the data.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfigMessage {
    seqno: i64,
    hash: MessageHash,
    data: DataDict,
    diff: Diff,
    /// Earlier versions' diffs by (seqno, hash). After a merge this holds every replayed diff;
    /// serialising keeps only those within the lag window, as the reference does.
    lagged: BTreeMap<(i64, MessageHash), Diff>,
    /// Top-level keys this version does not know, kept and written back in place.
    unknown: bencode::Dict,
    signature: Option<[u8; 64]>,
}

impl fmt::Debug for ConfigMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigMessage")
            .field("seqno", &self.seqno)
            .field("hash", &hex::encode(self.hash))
            .finish_non_exhaustive()
    }
}

impl ConfigMessage {
    /// Parses a serialized message with the reference's rules (`ConfigMessage(serialized, …)`).
    ///
    /// With `verifier` (the Ed25519 public key of a signed config type) the `~` signature is
    /// required and checked; without one a signature is not checked, and not kept.
    pub fn parse(serialized: &[u8], verifier: Option<&[u8; 32]>) -> Result<ConfigMessage, ConfigError> {
        let hash = message_hash(serialized);
        let Value::Dict(outer) = bencode::decode(serialized)? else {
            return Err(ConfigError::BadMessage("the message is not a dict"));
        };
        let mut entries = outer.into_iter().peekable();
        let seqno = match entries.next() {
            Some((key, value)) if key == b"#" => {
                value.as_i64().ok_or(ConfigError::BadMessage("the seqno \"#\" is not a 64-bit integer"))?
            }
            _ => return Err(ConfigError::BadMessage("the first key is not \"#\"")),
        };
        let mut unknown = bencode::Dict::new();
        let mut data = None;
        let mut lagged = BTreeMap::new();
        let mut diff = Diff::new();
        let mut signature = None;
        for (key, value) in entries {
            if signature.is_some() {
                return Err(ConfigError::BadMessage("a key follows the signature \"~\""));
            }
            match key.as_slice() {
                b"&" => data = Some(data::data_from_value(&value, true).map_err(|e| e.under("&"))?),
                b"<" => lagged = parse_lagged(&value, seqno)?,
                b"=" => diff = data::diff_from_value(&value).map_err(|e| e.under("="))?,
                b"~" => match value {
                    Value::Bytes(sig) => {
                        signature =
                            Some(<[u8; 64]>::try_from(sig.as_slice()).map_err(|_| ConfigError::BadSignatureLength)?)
                    }
                    _ => return Err(ConfigError::BadSignatureLength),
                },
                k if k > b"~".as_slice() => {
                    return Err(ConfigError::BadMessage("a key sorts after the signature \"~\""));
                }
                _ => {
                    if data.is_none() && key.as_slice() > b"&".as_slice() {
                        return Err(ConfigError::BadMessage("the data dict \"&\" is missing"));
                    }
                    unknown.insert(key, value);
                }
            }
        }
        let data = data.ok_or(ConfigError::BadMessage("the data dict \"&\" is missing"))?;
        let signature = match (verifier, signature) {
            (Some(public), Some(sig)) => {
                let signed = serialized.get(..serialized.len().saturating_sub(SIGNATURE_SUFFIX)).unwrap_or_default();
                if !verify_ed25519(public, signed, &sig) {
                    return Err(ConfigError::Open(OpenError));
                }
                Some(sig)
            }
            (Some(_), None) => return Err(ConfigError::MissingSignature),
            (None, _) => None,
        };
        Ok(ConfigMessage { seqno, hash, data, diff, lagged, unknown, signature })
    }

    /// The seqno.
    pub fn seqno(&self) -> i64 {
        self.seqno
    }

    /// The message hash (of the bytes read, or of the merged message).
    pub fn hash(&self) -> &MessageHash {
        &self.hash
    }

    /// The data dict `&`.
    pub fn data(&self) -> &DataDict {
        &self.data
    }

    /// This version's own diff `=`.
    pub fn diff(&self) -> &Diff {
        &self.diff
    }

    /// The earlier versions' diffs held, by (seqno, hash), ascending.
    pub fn lagged(&self) -> impl Iterator<Item = (i64, &MessageHash, &Diff)> {
        self.lagged.iter().map(|((seqno, hash), diff)| (*seqno, hash, diff))
    }

    /// The top-level keys this version does not know.
    pub fn unknown(&self) -> &bencode::Dict {
        &self.unknown
    }

    /// The verified signature, when the message was read with a verifier or signed in a merge.
    pub fn signature(&self) -> Option<&[u8; 64]> {
        self.signature.as_ref()
    }

    /// The message's bytes. A message read is written back byte for byte (a signature is kept when
    /// it was verified).
    pub fn serialize(&self) -> Vec<u8> {
        serialize(self.seqno, &self.data, &self.lagged, &self.diff, &self.unknown, Sig::Fixed(self.signature.as_ref()))
    }

    /// The next version, to edit: seqno + 1, the same data, this version's diff moved into the lag
    /// window and an empty diff (`increment`).
    pub fn increment(&self) -> MutableConfigMessage {
        MutableConfigMessage::following(self.seqno, self.hash, &self.diff, &self.lagged, &self.data, &self.unknown)
    }
}

/// A config version being edited. Its diff is what changed in its data since it was made.
///
/// `Debug` shows the seqno only.
#[derive(Clone)]
pub struct MutableConfigMessage {
    seqno: i64,
    data: DataDict,
    base: DataDict,
    lagged: BTreeMap<(i64, MessageHash), Diff>,
    unknown: bencode::Dict,
}

impl fmt::Debug for MutableConfigMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MutableConfigMessage").field("seqno", &self.seqno).finish_non_exhaustive()
    }
}

impl MutableConfigMessage {
    /// An empty config at `seqno` (0 for a new account's configs).
    pub fn new(seqno: i64) -> MutableConfigMessage {
        MutableConfigMessage {
            seqno,
            data: DataDict::new(),
            base: DataDict::new(),
            lagged: BTreeMap::new(),
            unknown: bencode::Dict::new(),
        }
    }

    /// The version to edit after reading `inputs` (`MutableConfigMessage(vector…)`): the merge of
    /// them when one was needed (already at the next seqno), else the next version of the one
    /// adopted.
    pub fn from_messages(
        inputs: &[&[u8]],
        verifier: Option<&[u8; 32]>,
        signer: Option<Signer<'_>>,
    ) -> Result<(MutableConfigMessage, Merged), ConfigError> {
        let merged = merge(inputs, verifier, signer)?;
        let m = &merged.message;
        let mutable = if merged.merged {
            MutableConfigMessage {
                seqno: m.seqno,
                data: m.data.clone(),
                base: m.data.clone(),
                lagged: m.lagged.clone(),
                unknown: m.unknown.clone(),
            }
        } else {
            m.increment()
        };
        Ok((mutable, merged))
    }

    fn following(
        seqno: i64,
        hash: MessageHash,
        diff: &Diff,
        lagged: &BTreeMap<(i64, MessageHash), Diff>,
        data: &DataDict,
        unknown: &bencode::Dict,
    ) -> MutableConfigMessage {
        let oldest = i128::from(seqno) - i128::from(LAG);
        let mut lagged: BTreeMap<_, _> = lagged
            .iter()
            .filter(|((s, _), _)| i128::from(*s) > oldest && *s < seqno)
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        lagged.insert((seqno, hash), diff.clone());
        MutableConfigMessage {
            seqno: seqno.saturating_add(1),
            data: data.clone(),
            base: data.clone(),
            lagged,
            unknown: unknown.clone(),
        }
    }

    /// The seqno.
    pub fn seqno(&self) -> i64 {
        self.seqno
    }

    /// The data.
    pub fn data(&self) -> &DataDict {
        &self.data
    }

    /// The data, to change. Empty sets and dicts left behind are pruned when the message is
    /// written.
    pub fn data_mut(&mut self) -> &mut DataDict {
        &mut self.data
    }

    /// The top-level keys this version does not know.
    pub fn unknown(&self) -> &bencode::Dict {
        &self.unknown
    }

    /// What changed since this version was made (after pruning).
    pub fn diff(&mut self) -> Diff {
        data::prune(&mut self.data);
        data::diff(&self.base, &self.data).unwrap_or_default()
    }

    /// The message's bytes, signed with `signer` when given.
    pub fn serialize(&mut self, signer: Option<Signer<'_>>) -> Vec<u8> {
        let diff = self.diff();
        serialize(self.seqno, &self.data, &self.lagged, &diff, &self.unknown, Sig::Sign(signer))
    }

    /// The hash of [`serialize`](Self::serialize)'s bytes.
    pub fn hash(&mut self, signer: Option<Signer<'_>>) -> MessageHash {
        message_hash(&self.serialize(signer))
    }

    /// The next version (`increment`): this one as it is now (signed with `signer`, which the hash
    /// in the new version's lag window covers) becomes its parent.
    pub fn increment(&mut self, signer: Option<Signer<'_>>) -> MutableConfigMessage {
        let hash = self.hash(signer);
        let diff = self.diff();
        MutableConfigMessage::following(self.seqno, hash, &diff, &self.lagged, &self.data, &self.unknown)
    }

    /// This version as a read-only message, as it would be read back after being pushed.
    pub fn freeze(&mut self, signer: Option<Signer<'_>>) -> ConfigMessage {
        let bytes = self.serialize(signer);
        let diff = self.diff();
        let signature = signer.map(|_| {
            let mut sig = [0u8; 64];
            if let Some(tail) = bytes.len().checked_sub(SIGNATURE_SUFFIX - 6).and_then(|at| bytes.get(at..at + 64)) {
                sig.copy_from_slice(tail);
            }
            sig
        });
        let window = i128::from(self.seqno) - i128::from(LAG);
        let lagged = self
            .lagged
            .iter()
            .filter(|((s, _), _)| i128::from(*s) > window && *s < self.seqno)
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        ConfigMessage {
            seqno: self.seqno,
            hash: message_hash(&bytes),
            data: self.data.clone(),
            diff,
            lagged,
            unknown: self.unknown.clone(),
            signature,
        }
    }
}

/// `1:~` `64:` signature `e`: what follows the signed bytes of a signed message.
const SIGNATURE_SUFFIX: usize = 3 + 3 + 64 + 1;

enum Sig<'a, 'b> {
    Fixed(Option<&'a [u8; 64]>),
    Sign(Option<Signer<'b>>),
}

fn serialize(
    seqno: i64,
    data: &DataDict,
    lagged: &BTreeMap<(i64, MessageHash), Diff>,
    diff: &Diff,
    unknown: &bencode::Dict,
    sig: Sig<'_, '_>,
) -> Vec<u8> {
    let mut outer = unknown.clone();
    outer.insert(b"#".to_vec(), Value::Int(i128::from(seqno)));
    outer.insert(b"&".to_vec(), data::data_to_value(data));
    let window = i128::from(seqno) - i128::from(LAG);
    let lags = lagged
        .iter()
        .filter(|((s, _), _)| i128::from(*s) > window && *s < seqno)
        .map(|((s, hash), d)| {
            Value::List(vec![Value::Int(i128::from(*s)), Value::Bytes(hash.to_vec()), data::diff_to_value(d)])
        })
        .collect();
    outer.insert(b"<".to_vec(), Value::List(lags));
    outer.insert(b"=".to_vec(), data::diff_to_value(diff));
    let mut out = Value::Dict(outer).encode();
    let signature = match sig {
        Sig::Fixed(s) => s.copied(),
        Sig::Sign(signer) => signer.map(|sign| {
            out.pop();
            let s = sign(&out);
            out.push(b'e');
            s
        }),
    };
    if let Some(signature) = signature {
        out.pop();
        out.extend_from_slice(b"1:~64:");
        out.extend_from_slice(&signature);
        out.push(b'e');
    }
    out
}

fn parse_lagged(value: &Value, seqno: i64) -> Result<BTreeMap<(i64, MessageHash), Diff>, ConfigError> {
    let Value::List(rows) = value else {
        return Err(ConfigError::BadLag { what: "the lagged diffs \"<\" are not a list", index: 0 });
    };
    let oldest = i128::from(seqno) - i128::from(LAG);
    let mut lagged = BTreeMap::new();
    for (index, row) in rows.iter().enumerate() {
        let bad = |what| ConfigError::BadLag { what, index };
        let Value::List(items) = row else {
            return Err(bad("a lagged diff is not a list"));
        };
        let mut items = items.iter();
        let row_seqno = items.next().and_then(Value::as_i64).ok_or(bad("a lagged diff has no seqno"))?;
        if row_seqno >= seqno {
            return Err(bad("a lagged diff's seqno is not below the message's"));
        }
        if i128::from(row_seqno) <= oldest {
            // Too old for the window: dropped unread, as the reference does.
            continue;
        }
        let hash: MessageHash = items
            .next()
            .and_then(Value::as_bytes)
            .and_then(|h| h.try_into().ok())
            .ok_or(bad("a lagged diff's hash is not 32 bytes"))?;
        if lagged.last_key_value().is_some_and(|(last, _)| *last >= (row_seqno, hash)) {
            return Err(bad("lagged diffs are unsorted or repeated"));
        }
        let diff = data::diff_from_value(items.next().ok_or(bad("a lagged diff has no diff"))?)
            .map_err(|e| e.under(&format!("<{index}")))?;
        if items.next().is_some() {
            return Err(bad("a lagged diff has more than 3 elements"));
        }
        lagged.insert((row_seqno, hash), diff);
    }
    Ok(lagged)
}

/// The result of reading several versions of one config.
#[derive(Debug)]
pub struct Merged {
    /// The version adopted, or the new merged one.
    pub message: ConfigMessage,
    /// Whether a new version was produced (and so needs to be pushed).
    pub merged: bool,
    /// The input adopted as it is, when no merge was needed.
    pub adopted: Option<usize>,
    /// Inputs skipped as invalid, unverifiable or unsigned, by index, with why.
    pub skipped: Vec<(usize, ConfigError)>,
}

/// Reads and merges versions of one config (`ConfigMessage(vector…)`, §1.5).
///
/// Invalid inputs are skipped (listed in [`Merged::skipped`]); it fails only when none is valid.
/// With a `verifier` but no `signer` (a group member who is not an admin) the highest version is
/// adopted instead of merging. With a `signer` the merged message is signed.
pub fn merge(inputs: &[&[u8]], verifier: Option<&[u8; 32]>, signer: Option<Signer<'_>>) -> Result<Merged, ConfigError> {
    let mut skipped = Vec::new();
    let mut configs: Vec<(usize, ConfigMessage, bool)> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        match ConfigMessage::parse(input, verifier) {
            Ok(m) => configs.push((i, m, false)),
            Err(e) => skipped.push((i, e)),
        }
    }
    if configs.is_empty() {
        return Err(ConfigError::NoValidMessage);
    }
    let max_seqno = configs.iter().map(|(_, m, _)| m.seqno).max().unwrap_or(i64::MIN);

    // Redundant: included in another's lags, an exact duplicate of an earlier one, or too old.
    let keys: Vec<(i64, MessageHash)> = configs.iter().map(|(_, m, _)| (m.seqno, m.hash)).collect();
    for (i, key) in keys.iter().enumerate() {
        let included = configs.iter().enumerate().any(|(j, (_, other, _))| {
            i != j && (other.lagged.contains_key(key) || (j < i && keys.get(j) == Some(key)))
        });
        let too_old = i128::from(key.0) + i128::from(LAG) <= i128::from(max_seqno);
        if let Some((_, _, redundant)) = configs.get_mut(i) {
            *redundant = included || too_old;
        }
    }

    let current = configs.iter().filter(|(_, _, redundant)| !redundant).count();
    if current <= 1 || (verifier.is_some() && signer.is_none()) {
        // One left (or no right to merge): adopt the best, non-redundant first.
        let best = configs
            .into_iter()
            .max_by(|a, b| (!a.2, a.1.seqno, a.1.hash).cmp(&(!b.2, b.1.seqno, b.1.hash)))
            .ok_or(ConfigError::NoValidMessage)?;
        return Ok(Merged { message: best.1, merged: false, adopted: Some(best.0), skipped });
    }

    let mut configs: Vec<ConfigMessage> = configs.into_iter().filter(|c| !c.2).map(|c| c.1).collect();
    configs.sort_by_key(|m| core::cmp::Reverse((m.seqno, m.hash)));
    let mut data = configs.first().map(|m| m.data.clone()).unwrap_or_default();

    let mut replay: BTreeMap<(i64, MessageHash), (&DataDict, &Diff)> = BTreeMap::new();
    for conf in &configs {
        replay.entry((conf.seqno, conf.hash)).or_insert((&conf.data, &conf.diff));
        for (key, diff) in &conf.lagged {
            replay.entry(*key).or_insert((&conf.data, diff));
        }
    }
    let mut lagged = BTreeMap::new();
    for (key, (source, diff)) in &replay {
        data::apply_diff(&mut data, diff, source);
        lagged.insert(*key, (*diff).clone());
    }
    data::prune(&mut data);

    let seqno = max_seqno.saturating_add(1);
    // The reference builds the merged message afresh: unknown top-level keys do not survive a merge.
    let unknown = bencode::Dict::new();
    let diff = Diff::new();
    let bytes = serialize(seqno, &data, &lagged, &diff, &unknown, Sig::Sign(signer));
    let signature = signer.and_then(|_| {
        let at = bytes.len().checked_sub(SIGNATURE_SUFFIX - 6)?;
        bytes.get(at..at + 64)?.try_into().ok()
    });
    let message = ConfigMessage { seqno, hash: message_hash(&bytes), data, diff, lagged, unknown, signature };
    Ok(Merged { message, merged: true, adopted: None, skipped })
}
