//! Contacts, namespace 3 (§3.2; libsession `contacts.cpp`).
//!
//! `c` → the 33-byte Session ID (`05` ‖ X25519 key) → a dict:
//!
//! | key | meaning |
//! |---|---|
//! | `n` | name; always written, possibly empty, so that the dict is never pruned |
//! | `N` | nickname (absent when empty) |
//! | `p` / `q` | picture URL / 32-byte key, set or cleared together |
//! | `a` / `A` / `b` | 1 = I approved them / they approved me / blocked (absent = 0) |
//! | `+` | priority: −1 hidden, absent 0, > 0 pinned |
//! | `@` / `!` | notifications (1 all, 2 disabled; 3 is written as 1) / muted until, unix seconds |
//! | `e` / `E` | disappearing mode (1 after send, 2 after read) / timer seconds, as a pair |
//! | `j` | created, unix seconds |
//!
//! An edit reads the contact as libsession reads it and writes every one of these keys back as
//! libsession's `set` does (so values libsession would normalise are normalised the same way);
//! any other key in the contact's dict, and every other contact, is left alone.

use crate::config::data::{DataDict, DataValue};
use crate::identity::{IdPrefix, SessionId};

use super::{
    EditError, Expiration, MAX_NAME_LENGTH, Notify, ProfilePic, dict, id_key, int, set_flag, set_nonzero_int,
    set_picture_pair, set_positive_int, set_text_keeping, text, utf8_truncate, with_dict,
};

/// Priority of a hidden conversation.
pub const PRIORITY_HIDDEN: i64 = -1;

/// One contact, as libsession reads it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Contact {
    /// Their Session ID (`05…`).
    pub session_id: SessionId,
    /// The name they gave themselves (possibly empty).
    pub name: String,
    /// The nickname given to them here (empty: none).
    pub nickname: String,
    /// Their profile picture.
    pub picture: Option<ProfilePic>,
    /// I approved them (accepted their message request, or wrote to them first).
    pub approved: bool,
    /// They approved me.
    pub approved_me: bool,
    /// Blocked.
    pub blocked: bool,
    /// −1 hidden, 0 normal, > 0 pinned (higher first).
    pub priority: i64,
    /// Notifications ([`Notify::MentionsOnly`] is read and written as [`Notify::All`]).
    pub notify: Notify,
    /// Muted until, unix seconds (0: not muted).
    pub mute_until: i64,
    /// Disappearing messages.
    pub expiration: Expiration,
    /// When the contact was created, unix seconds (0: unknown).
    pub created: i64,
}

impl Contact {
    /// A contact with nothing set (`contact_info{id}`).
    pub fn new(session_id: SessionId) -> Contact {
        Contact {
            session_id,
            name: String::new(),
            nickname: String::new(),
            picture: None,
            approved: false,
            approved_me: false,
            blocked: false,
            priority: 0,
            notify: Notify::Default,
            mute_until: 0,
            expiration: Expiration::Off,
            created: 0,
        }
    }

    /// Whether this is a real contact rather than a message request (§5(a): `a = 1`).
    pub fn is_request(&self) -> bool {
        !self.approved
    }

    /// Whether the conversation is hidden (priority −1).
    pub fn is_hidden(&self) -> bool {
        self.priority < 0
    }

    /// The contact in `info` (`contact_info::load`).
    fn load(session_id: SessionId, info: &DataDict) -> Contact {
        let notify = match Notify::from_value(int(info, b"@").unwrap_or(0)) {
            Notify::MentionsOnly => Notify::All,
            other => other,
        };
        Contact {
            session_id,
            name: text(info, b"n").unwrap_or_default(),
            nickname: text(info, b"N").unwrap_or_default(),
            picture: ProfilePic::read(info, b"p", b"q"),
            approved: int(info, b"a").unwrap_or(0) != 0,
            approved_me: int(info, b"A").unwrap_or(0) != 0,
            blocked: int(info, b"b").unwrap_or(0) != 0,
            priority: int(info, b"+").unwrap_or(0),
            notify,
            mute_until: int(info, b"!").unwrap_or(0),
            expiration: Expiration::read(info),
            created: int(info, b"j").unwrap_or(0),
        }
    }

    /// Writes the contact into `info` (`Contacts::set`).
    fn store(&self, info: &mut DataDict) {
        set_text_keeping(info, b"n", utf8_truncate(&self.name, MAX_NAME_LENGTH), false);
        set_text_keeping(info, b"N", utf8_truncate(&self.nickname, MAX_NAME_LENGTH), true);
        set_picture_pair(info, b"p", b"q", self.picture.as_ref());
        set_flag(info, b"a", self.approved);
        set_flag(info, b"A", self.approved_me);
        set_flag(info, b"b", self.blocked);
        set_nonzero_int(info, b"+", self.priority);
        let notify = match self.notify {
            Notify::MentionsOnly => Notify::All,
            other => other,
        };
        set_positive_int(info, b"@", notify.value());
        set_positive_int(info, b"!", self.mute_until);
        self.expiration.write(info);
        set_positive_int(info, b"j", self.created);
    }
}

/// A read view of a Contacts data dict.
#[derive(Clone, Copy, Debug)]
pub struct Contacts<'a> {
    data: &'a DataDict,
}

impl<'a> Contacts<'a> {
    /// The view of `data`.
    pub fn new(data: &'a DataDict) -> Contacts<'a> {
        Contacts { data }
    }

    /// The contact with this ID.
    pub fn get(&self, id: &SessionId) -> Option<Contact> {
        let info = dict(dict(self.data, b"c")?, &id.to_bytes())?;
        Some(Contact::load(*id, info))
    }

    /// Every contact, in ID order; entries that are not a 33-byte ID holding a dict are skipped.
    pub fn iter(&self) -> impl Iterator<Item = Contact> + 'a {
        dict(self.data, b"c").into_iter().flatten().filter_map(|(key, value)| match value {
            DataValue::Dict(info) if key.len() == 33 => {
                SessionId::from_bytes(key).ok().map(|id| Contact::load(id, info))
            }
            _ => None,
        })
    }

    /// How many contacts there are.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

/// Edits of a Contacts data dict.
#[derive(Debug)]
pub struct ContactsMut<'a> {
    data: &'a mut DataDict,
}

impl<'a> ContactsMut<'a> {
    /// Edits of `data`.
    pub fn new(data: &'a mut DataDict) -> ContactsMut<'a> {
        ContactsMut { data }
    }

    /// The read view.
    pub fn view(&self) -> Contacts<'_> {
        Contacts::new(self.data)
    }

    /// The contact with this ID, or a new one with nothing set (`get_or_construct`).
    pub fn get_or_construct(&self, id: &SessionId) -> Contact {
        self.view().get(id).unwrap_or_else(|| Contact::new(*id))
    }

    /// Writes a contact (`set`): its fields replace the known keys of its entry; other keys in the
    /// entry stay. The ID must be a `05` account ID.
    pub fn set(&mut self, contact: &Contact) -> Result<(), EditError> {
        let key = id_key(&contact.session_id, IdPrefix::Standard)?;
        with_dict(self.data, b"c", |contacts| with_dict(contacts, &key, |info| contact.store(info)));
        Ok(())
    }

    /// Changes one contact: read (or made), changed by `change`, written back.
    pub fn update(&mut self, id: &SessionId, change: impl FnOnce(&mut Contact)) -> Result<(), EditError> {
        let mut contact = self.get_or_construct(id);
        change(&mut contact);
        self.set(&contact)
    }

    /// Sets the name they gave themselves, cut to 100 bytes.
    pub fn set_name(&mut self, id: &SessionId, name: &str) -> Result<(), EditError> {
        self.update(id, |c| c.name = utf8_truncate(name, MAX_NAME_LENGTH).to_owned())
    }

    /// Sets the nickname (empty removes it); refused when longer than 100 bytes.
    pub fn set_nickname(&mut self, id: &SessionId, nickname: &str) -> Result<(), EditError> {
        if nickname.len() > MAX_NAME_LENGTH {
            return Err(EditError::NameTooLong);
        }
        self.update(id, |c| c.nickname = nickname.to_owned())
    }

    /// Sets the nickname cut to 100 bytes.
    pub fn set_nickname_truncated(&mut self, id: &SessionId, nickname: &str) -> Result<(), EditError> {
        self.update(id, |c| c.nickname = utf8_truncate(nickname, MAX_NAME_LENGTH).to_owned())
    }

    /// Sets (or clears) their picture.
    pub fn set_picture(&mut self, id: &SessionId, picture: Option<ProfilePic>) -> Result<(), EditError> {
        self.update(id, |c| c.picture = picture)
    }

    /// Sets whether I approved them.
    pub fn set_approved(&mut self, id: &SessionId, approved: bool) -> Result<(), EditError> {
        self.update(id, |c| c.approved = approved)
    }

    /// Sets whether they approved me.
    pub fn set_approved_me(&mut self, id: &SessionId, approved_me: bool) -> Result<(), EditError> {
        self.update(id, |c| c.approved_me = approved_me)
    }

    /// Sets whether they are blocked.
    pub fn set_blocked(&mut self, id: &SessionId, blocked: bool) -> Result<(), EditError> {
        self.update(id, |c| c.blocked = blocked)
    }

    /// Sets the priority (−1 hidden, 0 normal, > 0 pinned).
    pub fn set_priority(&mut self, id: &SessionId, priority: i64) -> Result<(), EditError> {
        self.update(id, |c| c.priority = priority)
    }

    /// Sets the notification mode.
    pub fn set_notify(&mut self, id: &SessionId, notify: Notify) -> Result<(), EditError> {
        self.update(id, |c| c.notify = notify)
    }

    /// Sets the mute-until time, unix seconds (0: not muted).
    pub fn set_mute_until(&mut self, id: &SessionId, mute_until: i64) -> Result<(), EditError> {
        self.update(id, |c| c.mute_until = mute_until)
    }

    /// Sets disappearing messages.
    pub fn set_expiration(&mut self, id: &SessionId, expiration: Expiration) -> Result<(), EditError> {
        self.update(id, |c| c.expiration = expiration)
    }

    /// Sets the creation time, unix seconds.
    pub fn set_created(&mut self, id: &SessionId, created: i64) -> Result<(), EditError> {
        self.update(id, |c| c.created = created)
    }

    /// Removes a contact; whether it was there.
    pub fn erase(&mut self, id: &SessionId) -> bool {
        match self.data.get_mut(b"c".as_slice()) {
            Some(DataValue::Dict(contacts)) => contacts.remove(id.to_bytes().as_slice()).is_some(),
            _ => false,
        }
    }
}
