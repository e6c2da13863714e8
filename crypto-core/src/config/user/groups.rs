//! UserGroups, namespace 5 (§3.4; libsession `user_groups.cpp`): the groups, communities and
//! legacy groups the account is in.
//!
//! Every entry has `+` priority, `j` joined at (unix s), `@` notifications (0–3), `!` muted until
//! (unix s) and `i` = 1 while an invite is pending.
//!
//! - `g` → 33-byte `03` group ID → `K` (the group's 32-byte seed for an admin, else the empty
//!   string — always present), `s` (100-byte subaccount auth data, non-admins), `n` (name from the
//!   invite), `r` (1 kicked, 2 group destroyed).
//! - `o` → canonical base URL → `{#: server key, R: {lower-case room → {n: the room's name with
//!   its case, …}}}`.
//! - `C` → legacy group `05` ID → `{n, k, K (X25519 pair), m / a (member / admin ID sets), E}`;
//!   read only (legacy groups are history now).
//!
//! Until Hush has groups this config is mostly carried: read typed, merged and pushed with every
//! key kept. A group's entry can be written as libsession writes it ([`UserGroupsMut::set_group`])
//! for joining a group (§5(b) step 1).

use core::fmt;

use ed25519_dalek::SigningKey;
use zeroize::Zeroize;

use crate::config::data::{DataDict, DataValue, Scalar};
use crate::identity::{IdPrefix, SessionId};

use super::convo::{CommunityRoom, canonical_room};
use super::{
    EditError, MAX_NAME_LENGTH, Notify, SecretKey32, bytes, dict, id_key, int, set_bytes, set_flag, set_nonempty,
    set_nonzero_int, set_positive_int, text, utf8_truncate, with_dict,
};

/// The subaccount authentication data a group member holds (§4.4: `03 ‖ flags ‖ 00 00 ‖ k ‖
/// admin signature`, 100 bytes). Zeroized on drop; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Zeroize)]
pub struct GroupAuthData([u8; 100]);

wipe_on_drop!(GroupAuthData);

#[cfg(test)]
impl crate::SecretFields for GroupAuthData {
    fn secret_fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        let GroupAuthData(data) = self;
        vec![("0", data.to_vec())]
    }
}

impl fmt::Debug for GroupAuthData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GroupAuthData(<redacted>)")
    }
}

impl GroupAuthData {
    /// The auth data of these bytes.
    pub fn from_bytes(data: [u8; 100]) -> GroupAuthData {
        GroupAuthData(data)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; 100] {
        &self.0
    }
}

/// The keys every kind of entry has.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct GroupCommon {
    /// −1 hidden, 0 normal, > 0 pinned.
    pub priority: i64,
    /// When joined, unix seconds (0: unknown).
    pub joined_at: i64,
    /// Notifications.
    pub notify: Notify,
    /// Muted until, unix seconds (0: not muted).
    pub mute_until: i64,
    /// An invite is pending (not yet accepted).
    pub invited: bool,
}

impl GroupCommon {
    fn load(info: &DataDict) -> GroupCommon {
        GroupCommon {
            priority: int(info, b"+").unwrap_or(0),
            joined_at: int(info, b"j").unwrap_or(0).max(0),
            notify: Notify::from_value(int(info, b"@").unwrap_or(0)),
            mute_until: int(info, b"!").unwrap_or(0),
            invited: int(info, b"i").unwrap_or(0) != 0,
        }
    }

    /// `set_base`.
    fn store(&self, info: &mut DataDict) {
        set_nonzero_int(info, b"+", self.priority);
        set_positive_int(info, b"j", self.joined_at);
        set_positive_int(info, b"@", self.notify.value());
        set_positive_int(info, b"!", self.mute_until);
        set_flag(info, b"i", self.invited);
    }
}

/// Whether the account is still in a group (`r`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum Removed {
    /// Still a member (absent).
    #[default]
    No,
    /// Removed by an admin (1).
    Kicked,
    /// The group was destroyed (2).
    Destroyed,
}

impl Removed {
    fn value(self) -> i64 {
        match self {
            Removed::No => 0,
            Removed::Kicked => 1,
            Removed::Destroyed => 2,
        }
    }
}

/// A group (`g`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Group {
    /// The group's `03` ID.
    pub id: SessionId,
    /// The name from the invite, used until the group's Info is read (possibly empty).
    pub name: String,
    /// The group's seed, for an admin: only when it regenerates the group's key.
    pub seed: Option<SecretKey32>,
    /// The member's subaccount auth data.
    pub auth_data: Option<GroupAuthData>,
    /// Removed status.
    pub removed: Removed,
    /// The common keys.
    pub common: GroupCommon,
}

impl Group {
    /// A group with nothing set.
    pub fn new(id: SessionId) -> Group {
        Group {
            id,
            name: String::new(),
            seed: None,
            auth_data: None,
            removed: Removed::No,
            common: GroupCommon::default(),
        }
    }

    fn load(id: SessionId, info: &DataDict) -> Group {
        let seed = bytes(info, b"K")
            .and_then(SecretKey32::from_slice)
            .filter(|seed| SigningKey::from_bytes(seed.as_bytes()).verifying_key().as_bytes() == id.key());
        let auth_data = bytes(info, b"s").and_then(|s| <[u8; 100]>::try_from(s).ok()).map(GroupAuthData);
        let removed = match int(info, b"r").unwrap_or(0) {
            1 => Removed::Kicked,
            2 => Removed::Destroyed,
            _ => Removed::No,
        };
        Group {
            id,
            name: text(info, b"n").unwrap_or_default(),
            seed,
            auth_data,
            removed,
            common: GroupCommon::load(info),
        }
    }

    /// `UserGroups::set(group_info)`.
    fn store(&self, info: &mut DataDict) {
        self.common.store(info);
        set_nonempty(info, b"n", utf8_truncate(&self.name, MAX_NAME_LENGTH).as_bytes());
        set_positive_int(info, b"r", self.removed.value());
        let admin_seed = self
            .seed
            .as_ref()
            .filter(|seed| SigningKey::from_bytes(seed.as_bytes()).verifying_key().as_bytes() == self.id.key());
        match admin_seed {
            Some(seed) => set_bytes(info, b"K", seed.as_bytes()),
            None => {
                set_bytes(info, b"K", b"");
                match &self.auth_data {
                    Some(auth) => set_bytes(info, b"s", auth.as_bytes()),
                    None => {
                        info.remove(b"s".as_slice());
                    }
                }
            }
        }
    }
}

/// A community room (`o`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Community {
    /// The room (canonical URL, lower-case token).
    pub room: CommunityRoom,
    /// The room's token with its original case (`n`).
    pub name: String,
    /// The server's key (`#`).
    pub server_pubkey: Option<[u8; 32]>,
    /// The common keys.
    pub common: GroupCommon,
}

/// A legacy group (`C`): read only.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LegacyGroup {
    /// The group's `05` ID.
    pub id: SessionId,
    /// Its name.
    pub name: String,
    /// Its X25519 encryption key pair (`k`, `K`), when both are 32 bytes.
    pub encryption_keys: Option<([u8; 32], SecretKey32)>,
    /// Members and whether each is an admin (`m`, `a`).
    pub members: Vec<(SessionId, bool)>,
    /// Disappearing timer, seconds (0: off).
    pub disappearing_timer: i64,
    /// The common keys.
    pub common: GroupCommon,
}

impl LegacyGroup {
    fn load(id: SessionId, info: &DataDict) -> LegacyGroup {
        let encryption_keys = match (bytes(info, b"k"), bytes(info, b"K").and_then(SecretKey32::from_slice)) {
            (Some(public), Some(secret)) => <[u8; 32]>::try_from(public).ok().map(|p| (p, secret)),
            _ => None,
        };
        let ids = |key: &[u8]| -> Vec<SessionId> {
            match info.get(key) {
                Some(DataValue::Set(set)) => set
                    .iter()
                    .filter_map(|s| match s {
                        Scalar::Bytes(b) if b.len() == 33 && b.first() == Some(&0x05) => SessionId::from_bytes(b).ok(),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            }
        };
        let mut members: Vec<(SessionId, bool)> = ids(b"m").into_iter().map(|id| (id, false)).collect();
        for admin in ids(b"a") {
            if !members.iter().any(|(id, _)| *id == admin) {
                members.push((admin, true));
            }
        }
        members.sort();
        LegacyGroup {
            id,
            name: text(info, b"n").unwrap_or_default(),
            encryption_keys,
            members,
            disappearing_timer: int(info, b"E").filter(|&e| e > 0).unwrap_or(0),
            common: GroupCommon::load(info),
        }
    }
}

/// A read view of a UserGroups data dict.
#[derive(Clone, Copy, Debug)]
pub struct UserGroups<'a> {
    data: &'a DataDict,
}

impl<'a> UserGroups<'a> {
    /// The view of `data`.
    pub fn new(data: &'a DataDict) -> UserGroups<'a> {
        UserGroups { data }
    }

    /// A group.
    pub fn group(&self, id: &SessionId) -> Option<Group> {
        dict(dict(self.data, b"g")?, &id.to_bytes()).map(|info| Group::load(*id, info))
    }

    /// Every group (entries with a 33-byte `03` ID holding a dict).
    pub fn groups(&self) -> Vec<Group> {
        entries(self.data, b"g", 0x03).map(|(id, info)| Group::load(id, info)).collect()
    }

    /// Every community room.
    pub fn communities(&self) -> Vec<Community> {
        let mut out = Vec::new();
        for (base_url, server) in dict(self.data, b"o").into_iter().flatten() {
            let DataValue::Dict(server) = server else { continue };
            let server_pubkey = bytes(server, b"#").and_then(|k| <[u8; 32]>::try_from(k).ok());
            for (room, value) in dict(server, b"R").into_iter().flatten() {
                if let DataValue::Dict(info) = value {
                    let token = String::from_utf8_lossy(room).into_owned();
                    let room = CommunityRoom::from_stored(String::from_utf8_lossy(base_url).into_owned(), token);
                    let name = text(info, b"n").unwrap_or_else(|| room.room().to_owned());
                    out.push(Community { room, name, server_pubkey, common: GroupCommon::load(info) });
                }
            }
        }
        out
    }

    /// Every legacy group.
    pub fn legacy_groups(&self) -> Vec<LegacyGroup> {
        entries(self.data, b"C", 0x05).map(|(id, info)| LegacyGroup::load(id, info)).collect()
    }
}

fn entries<'a>(data: &'a DataDict, key: &[u8], prefix: u8) -> impl Iterator<Item = (SessionId, &'a DataDict)> {
    dict(data, key).into_iter().flatten().filter_map(move |(id, value)| match value {
        DataValue::Dict(info) if id.len() == 33 && id.first() == Some(&prefix) => {
            SessionId::from_bytes(id).ok().map(|id| (id, info))
        }
        _ => None,
    })
}

/// Edits of a UserGroups data dict.
#[derive(Debug)]
pub struct UserGroupsMut<'a> {
    data: &'a mut DataDict,
}

impl<'a> UserGroupsMut<'a> {
    /// Edits of `data`.
    pub fn new(data: &'a mut DataDict) -> UserGroupsMut<'a> {
        UserGroupsMut { data }
    }

    /// The read view.
    pub fn view(&self) -> UserGroups<'_> {
        UserGroups::new(self.data)
    }

    /// Writes a group's entry as libsession does: the common keys, `n` (cut to 100 bytes; absent
    /// when empty), `r`, and `K` = the seed when it matches the ID, else `K` = "" with `s` = the
    /// auth data (or removed). Other keys of the entry stay.
    pub fn set_group(&mut self, group: &Group) -> Result<(), EditError> {
        let key = id_key(&group.id, IdPrefix::Group)?;
        with_dict(self.data, b"g", |groups| with_dict(groups, &key, |info| group.store(info)));
        Ok(())
    }

    /// Removes a group; whether it was there.
    pub fn erase_group(&mut self, id: &SessionId) -> bool {
        match self.data.get_mut(b"g".as_slice()) {
            Some(DataValue::Dict(groups)) => groups.remove(id.to_bytes().as_slice()).is_some(),
            _ => false,
        }
    }

    /// Writes a community room's entry: the server's key, the common keys and `n` = `name` (the
    /// token with its case; it must match the room's token).
    pub fn set_community(
        &mut self,
        room: &CommunityRoom,
        name: &str,
        server_pubkey: &[u8; 32],
        common: &GroupCommon,
    ) -> Result<(), EditError> {
        if canonical_room(name)? != room.room() {
            return Err(EditError::BadCommunityRoom);
        }
        with_dict(self.data, b"o", |servers| {
            with_dict(servers, room.base_url().as_bytes(), |server| {
                set_bytes(server, b"#", server_pubkey);
                with_dict(server, b"R", |rooms| {
                    with_dict(rooms, room.room().as_bytes(), |info| {
                        common.store(info);
                        set_bytes(info, b"n", name.as_bytes());
                    })
                })
            })
        });
        Ok(())
    }

    /// Removes a community room (and its server when it was the last room); whether it was there.
    pub fn erase_community(&mut self, room: &CommunityRoom) -> bool {
        let Some(DataValue::Dict(servers)) = self.data.get_mut(b"o".as_slice()) else { return false };
        let Some(DataValue::Dict(server)) = servers.get_mut(room.base_url().as_bytes()) else { return false };
        let gone = match server.get_mut(b"R".as_slice()) {
            Some(DataValue::Dict(rooms)) => rooms.remove(room.room().as_bytes()).is_some(),
            _ => false,
        };
        if gone && dict(server, b"R").is_none_or(DataDict::is_empty) {
            servers.remove(room.base_url().as_bytes());
        }
        gone
    }

    /// Removes a legacy group; whether it was there.
    pub fn erase_legacy_group(&mut self, id: &SessionId) -> bool {
        match self.data.get_mut(b"C".as_slice()) {
            Some(DataValue::Dict(groups)) => groups.remove(id.to_bytes().as_slice()).is_some(),
            _ => false,
        }
    }
}
