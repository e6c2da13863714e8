//! The data inside a config message (`&`) and the diffs between versions (§1.1, §1.3), and how a
//! diff is applied to data in a merge (§1.5).

use std::collections::{BTreeMap, BTreeSet};

use crate::bencode::{self, Value};

use super::ConfigError;

/// A scalar: a signed 64-bit integer or a byte string. The derived order is the set order the
/// reference uses: integers first, numerically, then strings, bytewise.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Scalar {
    /// An integer.
    Int(i64),
    /// A byte string.
    Bytes(Vec<u8>),
}

/// A value in the data dict.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum DataValue {
    /// An integer or a string.
    Scalar(Scalar),
    /// A set of scalars (a bt list, sorted, no duplicates, never empty when written).
    Set(BTreeSet<Scalar>),
    /// A nested dict (never empty when written).
    Dict(DataDict),
}

/// A data dict: byte-string keys in bytewise order.
pub type DataDict = BTreeMap<Vec<u8>, DataValue>;

/// A change to one key in a diff.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum DiffValue {
    /// `""`: the scalar was set or changed.
    Assigned,
    /// `"-"`: the scalar was removed.
    Removed,
    /// Changes inside a dict.
    Dict(Diff),
    /// `[[added…], [removed…]]`: changes to a set.
    Set {
        /// Elements added.
        added: BTreeSet<Scalar>,
        /// Elements removed.
        removed: BTreeSet<Scalar>,
    },
}

/// A diff: what one version changed, key by key.
pub type Diff = BTreeMap<Vec<u8>, DiffValue>;

impl DataValue {
    /// Shorthand for a string value.
    pub fn bytes(b: impl Into<Vec<u8>>) -> DataValue {
        DataValue::Scalar(Scalar::Bytes(b.into()))
    }

    /// Shorthand for an integer value.
    pub fn int(i: i64) -> DataValue {
        DataValue::Scalar(Scalar::Int(i))
    }
}

pub(crate) fn scalar_to_value(s: &Scalar) -> Value {
    match s {
        Scalar::Int(i) => Value::Int(i128::from(*i)),
        Scalar::Bytes(b) => Value::Bytes(b.clone()),
    }
}

fn scalar_of(v: &Value) -> Option<Scalar> {
    match v {
        Value::Int(i) => i64::try_from(*i).ok().map(Scalar::Int),
        Value::Bytes(b) => Some(Scalar::Bytes(b.clone())),
        _ => None,
    }
}

fn set_to_value(set: &BTreeSet<Scalar>) -> Value {
    Value::List(set.iter().map(scalar_to_value).collect())
}

/// The data dict as bt.
pub fn data_to_value(dict: &DataDict) -> Value {
    Value::Dict(
        dict.iter()
            .map(|(k, v)| {
                let value = match v {
                    DataValue::Scalar(s) => scalar_to_value(s),
                    DataValue::Set(s) => set_to_value(s),
                    DataValue::Dict(d) => data_to_value(d),
                };
                (k.clone(), value)
            })
            .collect(),
    )
}

/// Reads the data dict with the reference's rules: only i64 integers, strings, dicts and sets; no
/// empty dict or set below the top level; sets sorted and without duplicates.
pub fn data_from_value(value: &Value, top_level: bool) -> Result<DataDict, ConfigError> {
    let Value::Dict(dict) = value else {
        return Err(bad_data("the data is not a dict"));
    };
    if !top_level && dict.is_empty() {
        return Err(bad_data("data contains an unpruned, empty dict"));
    }
    let mut out = DataDict::new();
    for (key, v) in dict {
        let value = match v {
            Value::Int(i) => i64::try_from(*i).map(DataValue::int).map_err(|_| bad_data("an integer is out of range")),
            Value::Bytes(b) => Ok(DataValue::bytes(b.clone())),
            Value::Dict(_) => data_from_value(v, false).map(DataValue::Dict),
            Value::List(items) => set_from_list(items).map(DataValue::Set),
        };
        out.insert(key.clone(), value.map_err(|e| e.within(key))?);
    }
    Ok(out)
}

fn set_from_list(items: &[Value]) -> Result<BTreeSet<Scalar>, ConfigError> {
    if items.is_empty() {
        return Err(bad_data("data contains an unpruned, empty set"));
    }
    sorted_scalars(items).ok_or(bad_data("data contains a set that is unsorted, repeats a value or holds a non-scalar"))
}

fn bad_data(what: &'static str) -> ConfigError {
    ConfigError::BadData { what, at: String::new() }
}

fn bad_diff(what: &'static str) -> ConfigError {
    ConfigError::BadDiff { what, at: String::new() }
}

/// Elements that must be scalars in strictly ascending set order.
fn sorted_scalars(items: &[Value]) -> Option<BTreeSet<Scalar>> {
    let mut set = BTreeSet::new();
    for item in items {
        let s = scalar_of(item)?;
        if set.last().is_some_and(|last| *last >= s) {
            return None;
        }
        set.insert(s);
    }
    Some(set)
}

/// The diff as bt.
pub fn diff_to_value(diff: &Diff) -> Value {
    Value::Dict(
        diff.iter()
            .map(|(k, v)| {
                let value = match v {
                    DiffValue::Assigned => Value::Bytes(Vec::new()),
                    DiffValue::Removed => Value::Bytes(b"-".to_vec()),
                    DiffValue::Dict(d) => diff_to_value(d),
                    DiffValue::Set { added, removed } => Value::List(vec![set_to_value(added), set_to_value(removed)]),
                };
                (k.clone(), value)
            })
            .collect(),
    )
}

/// Reads a diff (`load_diff`): `""`, `"-"`, a sub-diff, or a pair of sorted scalar lists.
pub fn diff_from_value(value: &Value) -> Result<Diff, ConfigError> {
    let Value::Dict(dict) = value else {
        return Err(bad_diff("a diff is not a dict"));
    };
    let mut out = Diff::new();
    for (key, v) in dict {
        let entry = match v {
            Value::Bytes(b) if b.is_empty() => Ok(DiffValue::Assigned),
            Value::Bytes(b) if b.as_slice() == b"-" => Ok(DiffValue::Removed),
            Value::Bytes(_) => Err(bad_diff("a diff string is neither \"\" nor \"-\"")),
            Value::Dict(_) => diff_from_value(v).map(DiffValue::Dict),
            Value::List(pair) => match pair.as_slice() {
                [Value::List(added), Value::List(removed)] => match (sorted_scalars(added), sorted_scalars(removed)) {
                    (Some(added), Some(removed)) => Ok(DiffValue::Set { added, removed }),
                    _ => Err(bad_diff("a set diff is unsorted, repeats a value or holds a non-scalar")),
                },
                _ => Err(bad_diff("a set diff is not a pair of lists")),
            },
            Value::Int(_) => Err(bad_diff("a diff holds an integer")),
        };
        out.insert(key.clone(), entry.map_err(|e| e.within(key))?);
    }
    Ok(out)
}

/// Removes empty sets and dicts, at every depth (`prune`).
pub fn prune(dict: &mut DataDict) {
    dict.retain(|_, v| match v {
        DataValue::Scalar(_) => true,
        DataValue::Set(s) => !s.is_empty(),
        DataValue::Dict(d) => {
            prune(d);
            !d.is_empty()
        }
    });
}

fn set_diff(old: &BTreeSet<Scalar>, new: &BTreeSet<Scalar>) -> Option<DiffValue> {
    let added: BTreeSet<Scalar> = new.difference(old).cloned().collect();
    let removed: BTreeSet<Scalar> = old.difference(new).cloned().collect();
    (!added.is_empty() || !removed.is_empty()).then_some(DiffValue::Set { added, removed })
}

/// A whole value as a fresh addition (or, with `removal`, as a removal).
fn whole(value: &DataValue, removal: bool) -> DiffValue {
    let empty_set = BTreeSet::new();
    let empty_dict = DataDict::new();
    match value {
        DataValue::Scalar(_) if removal => Some(DiffValue::Removed),
        DataValue::Scalar(_) => Some(DiffValue::Assigned),
        DataValue::Set(s) if removal => set_diff(s, &empty_set),
        DataValue::Set(s) => set_diff(&empty_set, s),
        DataValue::Dict(d) if removal => diff(d, &empty_dict).map(DiffValue::Dict),
        DataValue::Dict(d) => diff(&empty_dict, d).map(DiffValue::Dict),
    }
    // An empty set or dict has no members to add or remove; data is pruned first, so this
    // only happens for values that are about to be pruned.
    .unwrap_or_else(|| DiffValue::Dict(Diff::new()))
}

/// The structural diff from `old` to `new` (`diff_impl`); `None` when nothing changed.
pub fn diff(old: &DataDict, new: &DataDict) -> Option<Diff> {
    let mut out = Diff::new();
    for (key, o) in old {
        match (o, new.get(key)) {
            (_, None) => {
                out.insert(key.clone(), whole(o, true));
            }
            (DataValue::Scalar(a), Some(DataValue::Scalar(b))) => {
                if a != b {
                    out.insert(key.clone(), DiffValue::Assigned);
                }
            }
            (DataValue::Set(a), Some(DataValue::Set(b))) => {
                if let Some(d) = set_diff(a, b) {
                    out.insert(key.clone(), d);
                }
            }
            (DataValue::Dict(a), Some(DataValue::Dict(b))) => {
                if let Some(d) = diff(a, b) {
                    out.insert(key.clone(), DiffValue::Dict(d));
                }
            }
            // The type changed: written as a fresh add of the new value.
            (_, Some(n)) => {
                out.insert(key.clone(), whole(n, false));
            }
        }
    }
    for (key, n) in new {
        if !old.contains_key(key) {
            out.insert(key.clone(), whole(n, false));
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Applies `diff` to `data`, taking values from `source` (the data of the message the diff came
/// with): `apply_diff` of the reference. Empty sets and dicts are left for [`prune`].
pub fn apply_diff(data: &mut DataDict, diff: &Diff, source: &DataDict) {
    for (key, change) in diff {
        let source_value = source.get(key);
        let matching = matches!(
            (change, source_value),
            (DiffValue::Assigned | DiffValue::Removed, Some(DataValue::Scalar(_)))
                | (DiffValue::Set { .. }, Some(DataValue::Set(_)))
                | (DiffValue::Dict(_), Some(DataValue::Dict(_)))
        );
        if !matching {
            // Gone from the source, or of another type there: a later diff removes it or gives it
            // a new type, so it is removed now (§1.5).
            data.remove(key);
            continue;
        }
        match (change, source_value) {
            (DiffValue::Removed, _) => {
                data.remove(key);
            }
            (DiffValue::Assigned, Some(DataValue::Scalar(s))) => {
                data.insert(key.clone(), DataValue::Scalar(s.clone()));
            }
            (DiffValue::Dict(sub), Some(DataValue::Dict(sub_source))) => {
                let entry = data.entry(key.clone()).or_insert_with(|| DataValue::Dict(DataDict::new()));
                if !matches!(entry, DataValue::Dict(_)) {
                    *entry = DataValue::Dict(DataDict::new());
                }
                if let DataValue::Dict(target) = entry {
                    apply_diff(target, sub, sub_source);
                }
            }
            (DiffValue::Set { added, removed }, Some(DataValue::Set(_))) => {
                let entry = data.entry(key.clone()).or_insert_with(|| DataValue::Set(BTreeSet::new()));
                if !matches!(entry, DataValue::Set(_)) {
                    *entry = DataValue::Set(BTreeSet::new());
                }
                if let DataValue::Set(target) = entry {
                    target.extend(added.iter().cloned());
                    for r in removed {
                        target.remove(r);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Encodes the data dict.
pub fn encode_data(dict: &DataDict) -> Vec<u8> {
    data_to_value(dict).encode()
}

/// Decodes a data dict from bt bytes (as the top-level `&`).
pub fn decode_data(bytes: &[u8]) -> Result<DataDict, ConfigError> {
    data_from_value(&bencode::decode(bytes)?, true)
}
