//! ConvoInfoVolatile, namespace 4 (§3.3; libsession `convo_info_volatile.cpp`): when each
//! conversation was last read, and whether it is marked unread.
//!
//! | key | conversation | key below it |
//! |---|---|---|
//! | `1` | 1:1 | 33-byte `05` Session ID |
//! | `g` | group | 33-byte `03` group ID |
//! | `C` | legacy group | 33-byte `05` group ID |
//! | `o` | community | canonical base URL → `{#: 32-byte server key, R: {room (lower case) → …}}` |
//!
//! Each conversation's dict holds `r`, the last-read time in unix milliseconds, and `u` = 1 when
//! marked unread. Newer keys (`b` blinded 1:1s, Pro fields in 1:1 entries) are kept as they are.
//!
//! Pruning, as libsession does: a last-read time older than 30 days is not recorded (unless it
//! moves an existing one back), and entries older than 45 days that are not marked unread are
//! removed before each push ([`ConvoInfoVolatileMut::prune`]).

use crate::config::data::{DataDict, DataValue};
use crate::identity::{IdPrefix, SessionId};

use super::{EditError, bytes, dict, id_key, int, set_bytes, set_flag, set_int, with_dict};

/// A last-read time older than this (before now) is not recorded (`PRUNE_LOW`, 30 days).
pub const PRUNE_LOW_MS: i64 = 30 * 24 * 3600 * 1000;
/// Entries read longer ago than this, and not marked unread, are removed at push time
/// (`PRUNE_HIGH`, 45 days).
pub const PRUNE_HIGH_MS: i64 = 45 * 24 * 3600 * 1000;
/// The longest canonical community base URL (`BASE_URL_MAX_LENGTH`: `https://`, a 253-byte
/// host name and `:` with a 5-digit port).
pub const BASE_URL_MAX_LENGTH: usize = 267;
/// The longest community room token (`ROOM_MAX_LENGTH`).
pub const ROOM_MAX_LENGTH: usize = 64;

/// A conversation's read state.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct ReadState {
    /// When it was last read, unix milliseconds (0: never).
    pub last_read_ms: i64,
    /// Marked unread.
    pub unread: bool,
}

impl ReadState {
    fn load(info: &DataDict) -> ReadState {
        ReadState { last_read_ms: int(info, b"r").unwrap_or(0), unread: int(info, b"u").unwrap_or(0) != 0 }
    }

    /// `set_base`: `r` moves back freely, forward only when within [`PRUNE_LOW_MS`] of now.
    fn store(self, info: &mut DataDict, now_ms: i64) {
        match int(info, b"r") {
            Some(current) if self.last_read_ms < current => set_int(info, b"r", self.last_read_ms),
            _ => {
                if self.last_read_ms > now_ms.saturating_sub(PRUNE_LOW_MS) {
                    set_int(info, b"r", self.last_read_ms);
                }
            }
        }
        set_flag(info, b"u", self.unread);
    }

    fn is_stale(self, cutoff_ms: i64) -> bool {
        !self.unread && self.last_read_ms < cutoff_ms
    }
}

/// A community room: its canonical base URL and lower-case room token.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct CommunityRoom {
    base_url: String,
    room: String,
}

impl CommunityRoom {
    /// The room `room` on the server at `base_url`, both made canonical as libsession does:
    /// scheme and host lower-cased, the default port (80 for http, 443 for https) and a trailing
    /// `/` dropped, no path; the room token lower-cased.
    pub fn new(base_url: &str, room: &str) -> Result<CommunityRoom, EditError> {
        Ok(CommunityRoom { base_url: canonical_url(base_url)?, room: canonical_room(room)? })
    }

    /// A room as stored (already canonical, not checked again).
    pub(super) fn from_stored(base_url: String, room: String) -> CommunityRoom {
        CommunityRoom { base_url, room }
    }

    /// The canonical base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The lower-case room token.
    pub fn room(&self) -> &str {
        &self.room
    }
}

/// A conversation, by where it is kept.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Conversation {
    /// A 1:1 conversation (`05` ID).
    OneToOne(SessionId),
    /// A group (`03` ID).
    Group(SessionId),
    /// A legacy group (`05` ID).
    LegacyGroup(SessionId),
    /// A community room, with the server's key when known.
    Community {
        /// The room.
        room: CommunityRoom,
        /// The server's 32-byte public key (`#`).
        server_pubkey: Option<[u8; 32]>,
    },
}

/// A read view of a ConvoInfoVolatile data dict.
#[derive(Clone, Copy, Debug)]
pub struct ConvoInfoVolatile<'a> {
    data: &'a DataDict,
}

impl<'a> ConvoInfoVolatile<'a> {
    /// The view of `data`.
    pub fn new(data: &'a DataDict) -> ConvoInfoVolatile<'a> {
        ConvoInfoVolatile { data }
    }

    /// A 1:1 conversation's state.
    pub fn one_to_one(&self, id: &SessionId) -> Option<ReadState> {
        self.entry(b"1", id)
    }

    /// A group's state.
    pub fn group(&self, id: &SessionId) -> Option<ReadState> {
        self.entry(b"g", id)
    }

    /// A legacy group's state.
    pub fn legacy_group(&self, id: &SessionId) -> Option<ReadState> {
        self.entry(b"C", id)
    }

    /// A community room's state.
    pub fn community(&self, room: &CommunityRoom) -> Option<ReadState> {
        let server = dict(dict(self.data, b"o")?, room.base_url.as_bytes())?;
        dict(dict(server, b"R")?, room.room.as_bytes()).map(ReadState::load)
    }

    /// Every conversation with its state: 1:1s, groups, communities, then legacy groups (the
    /// reference's order). Entries libsession would skip (wrong ID length or prefix, not a dict)
    /// are skipped.
    pub fn iter(&self) -> Vec<(Conversation, ReadState)> {
        let mut out = Vec::new();
        let by_id = |key: &[u8], prefix: IdPrefix, make: fn(SessionId) -> Conversation, out: &mut Vec<_>| {
            for (id, value) in dict(self.data, key).into_iter().flatten() {
                if let (DataValue::Dict(info), Ok(id)) = (value, SessionId::from_bytes(id))
                    && id.prefix() == prefix
                {
                    out.push((make(id), ReadState::load(info)));
                }
            }
        };
        by_id(b"1", IdPrefix::Standard, Conversation::OneToOne, &mut out);
        by_id(b"g", IdPrefix::Group, Conversation::Group, &mut out);
        for (base_url, server) in dict(self.data, b"o").into_iter().flatten() {
            let DataValue::Dict(server) = server else { continue };
            let server_pubkey = bytes(server, b"#").and_then(|k| <[u8; 32]>::try_from(k).ok());
            for (room, value) in dict(server, b"R").into_iter().flatten() {
                if let DataValue::Dict(info) = value {
                    let room = CommunityRoom::from_stored(
                        String::from_utf8_lossy(base_url).into_owned(),
                        String::from_utf8_lossy(room).into_owned(),
                    );
                    out.push((Conversation::Community { room, server_pubkey }, ReadState::load(info)));
                }
            }
        }
        by_id(b"C", IdPrefix::Standard, Conversation::LegacyGroup, &mut out);
        out
    }

    fn entry(&self, key: &[u8], id: &SessionId) -> Option<ReadState> {
        dict(dict(self.data, key)?, &id.to_bytes()).map(ReadState::load)
    }
}

/// Edits of a ConvoInfoVolatile data dict. `now_ms` is the current (network) time, unix ms.
#[derive(Debug)]
pub struct ConvoInfoVolatileMut<'a> {
    data: &'a mut DataDict,
}

impl<'a> ConvoInfoVolatileMut<'a> {
    /// Edits of `data`.
    pub fn new(data: &'a mut DataDict) -> ConvoInfoVolatileMut<'a> {
        ConvoInfoVolatileMut { data }
    }

    /// The read view.
    pub fn view(&self) -> ConvoInfoVolatile<'_> {
        ConvoInfoVolatile::new(self.data)
    }

    /// Sets a 1:1 conversation's state (`05` ID).
    pub fn set_one_to_one(&mut self, id: &SessionId, state: ReadState, now_ms: i64) -> Result<(), EditError> {
        self.set_entry(b"1", id_key(id, IdPrefix::Standard)?, state, now_ms);
        Ok(())
    }

    /// Sets a group's state (`03` ID).
    pub fn set_group(&mut self, id: &SessionId, state: ReadState, now_ms: i64) -> Result<(), EditError> {
        self.set_entry(b"g", id_key(id, IdPrefix::Group)?, state, now_ms);
        Ok(())
    }

    /// Sets a legacy group's state (`05` ID).
    pub fn set_legacy_group(&mut self, id: &SessionId, state: ReadState, now_ms: i64) -> Result<(), EditError> {
        self.set_entry(b"C", id_key(id, IdPrefix::Standard)?, state, now_ms);
        Ok(())
    }

    /// Sets a community room's state, and the server's key (`#`).
    pub fn set_community(&mut self, room: &CommunityRoom, server_pubkey: &[u8; 32], state: ReadState, now_ms: i64) {
        with_dict(self.data, b"o", |servers| {
            with_dict(servers, room.base_url.as_bytes(), |server| {
                set_bytes(server, b"#", server_pubkey);
                with_dict(server, b"R", |rooms| {
                    with_dict(rooms, room.room.as_bytes(), |info| state.store(info, now_ms))
                })
            })
        });
    }

    /// Removes a 1:1 conversation; whether it was there.
    pub fn erase_one_to_one(&mut self, id: &SessionId) -> bool {
        erase(self.data, b"1", &id.to_bytes())
    }

    /// Removes a group; whether it was there.
    pub fn erase_group(&mut self, id: &SessionId) -> bool {
        erase(self.data, b"g", &id.to_bytes())
    }

    /// Removes a legacy group; whether it was there.
    pub fn erase_legacy_group(&mut self, id: &SessionId) -> bool {
        erase(self.data, b"C", &id.to_bytes())
    }

    /// Removes a community room (and its server when it was the last room); whether it was there.
    pub fn erase_community(&mut self, room: &CommunityRoom) -> bool {
        let Some(DataValue::Dict(servers)) = self.data.get_mut(b"o".as_slice()) else { return false };
        let Some(DataValue::Dict(server)) = servers.get_mut(room.base_url.as_bytes()) else { return false };
        let gone = erase(server, b"R", room.room.as_bytes());
        if gone && dict(server, b"R").is_none_or(DataDict::is_empty) {
            servers.remove(room.base_url.as_bytes());
        }
        gone
    }

    /// Removes every conversation read more than [`PRUNE_HIGH_MS`] before `now_ms` and not marked
    /// unread (`prune_stale`, run by libsession before each push); whether anything was removed.
    /// 1:1 entries carrying a Pro proof (`g`, `e`) that has not expired by then are kept.
    pub fn prune(&mut self, now_ms: i64) -> bool {
        let cutoff = now_ms.saturating_sub(PRUNE_HIGH_MS);
        let mut removed = false;
        // The entries libsession's iterators visit: 1:1s (`05`), legacy groups (`05`), blinded
        // 1:1s (`b`, `15`/`25`; kept otherwise as they are) and groups (`03`).
        let kinds: [(&[u8], &[u8], bool); 4] =
            [(b"1", &[0x05], true), (b"C", &[0x05], false), (b"b", &[0x15, 0x25], true), (b"g", &[0x03], false)];
        for (key, prefixes, has_pro) in kinds {
            if let Some(DataValue::Dict(entries)) = self.data.get_mut(key) {
                let before = entries.len();
                entries.retain(|id, value| match value {
                    DataValue::Dict(info) if id.len() == 33 && id.first().is_some_and(|p| prefixes.contains(p)) => {
                        let pro_kept = has_pro
                            && bytes(info, b"g").is_some_and(|g| g.len() == 32)
                            && int(info, b"e").is_some_and(|e| e > 0 && e >= cutoff);
                        pro_kept || !ReadState::load(info).is_stale(cutoff)
                    }
                    _ => true,
                });
                removed |= entries.len() != before;
            }
        }
        let stale_rooms: Vec<CommunityRoom> = self
            .view()
            .iter()
            .into_iter()
            .filter_map(|(convo, state)| match convo {
                Conversation::Community { room, .. } if state.is_stale(cutoff) => Some(room),
                _ => None,
            })
            .collect();
        for room in &stale_rooms {
            removed |= self.erase_community(room);
        }
        removed
    }

    fn set_entry(&mut self, key: &[u8], id: Vec<u8>, state: ReadState, now_ms: i64) {
        with_dict(self.data, key, |entries| with_dict(entries, &id, |info| state.store(info, now_ms)));
    }
}

fn erase(data: &mut DataDict, key: &[u8], id: &[u8]) -> bool {
    match data.get_mut(key) {
        Some(DataValue::Dict(entries)) => entries.remove(id).is_some(),
        _ => false,
    }
}

/// `community::canonical_url`: `scheme://host[:port]`, scheme and host lower-cased, the default
/// port dropped, at most a trailing `/` after it.
pub fn canonical_url(url: &str) -> Result<String, EditError> {
    let (scheme, rest) = url.split_once("://").ok_or(EditError::BadCommunityUrl)?;
    let scheme = scheme.to_ascii_lowercase();
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if !path.is_empty() || authority.is_empty() || scheme.is_empty() {
        return Err(EditError::BadCommunityUrl);
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port.parse::<u16>().map_err(|_| EditError::BadCommunityUrl)?)),
        None => (authority, None),
    };
    if host.is_empty() {
        return Err(EditError::BadCommunityUrl);
    }
    let default_port = match scheme.as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    let mut out = format!("{scheme}://{}", host.to_ascii_lowercase());
    if let Some(port) = port.filter(|p| Some(*p) != default_port) {
        out.push(':');
        out.push_str(&port.to_string());
    }
    if out.len() > BASE_URL_MAX_LENGTH {
        return Err(EditError::BadCommunityUrl);
    }
    Ok(out)
}

/// `community::canonical_room`: lower case, 1–64 characters of `[-0-9_a-z]`.
pub fn canonical_room(room: &str) -> Result<String, EditError> {
    let room = room.to_ascii_lowercase();
    if room.is_empty()
        || room.len() > ROOM_MAX_LENGTH
        || !room.bytes().all(|b| b == b'-' || b == b'_' || b.is_ascii_digit() || b.is_ascii_lowercase())
    {
        return Err(EditError::BadCommunityRoom);
    }
    Ok(room)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn community_urls_are_made_canonical() {
        assert_eq!(canonical_url("HTTPS://Open.GetSession.org:443/").unwrap(), "https://open.getsession.org");
        assert_eq!(canonical_url("http://example.org:80").unwrap(), "http://example.org");
        assert_eq!(canonical_url("http://Example.org:8080").unwrap(), "http://example.org:8080");
        assert!(canonical_url("http://example.org/room").is_err());
        assert!(canonical_url("example.org").is_err());
        assert_eq!(canonical_room("Session-Updates_2").unwrap(), "session-updates_2");
        assert!(canonical_room("").is_err());
        assert!(canonical_room("a b").is_err());
    }
}
