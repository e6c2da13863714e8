//! UserProfile, namespace 2 (§3.1; libsession `user_profile.cpp`).
//!
//! | key | meaning |
//! |---|---|
//! | `n` | display name, at most 100 bytes |
//! | `p` / `q` | picture URL / 32-byte key, set or cleared together |
//! | `+` | Note to Self priority: absent 0, −1 hidden, > 0 pinned |
//! | `e` | Note to Self disappearing timer, seconds (absent = off) |
//! | `M` | blinded message requests: 1 on, 0 off, absent = the client's default |
//! | `t` | unix seconds of the last profile change (newer clients) |
//! | `P` / `Q`, `T` | a re-uploaded picture and when; they win over `p`/`q` when `T > t` |
//!
//! The Pro keys (`f`, `E`, `s`) and anything else are kept as they are.
//!
//! The profile-change time `t`/`T`: current libsession writes it with every name, picture and
//! message-request change; the version the §6.2 vectors come from did not. The setters take it as
//! `Option`: pass the time (what current clients do, and what keeps a re-uploaded picture from
//! shadowing a newer one), or `None` to write what the older version wrote.

use crate::config::data::DataDict;

use super::{
    EditError, MAX_NAME_LENGTH, ProfilePic, bytes, int, set_int, set_nonempty, set_nonzero_int, set_picture_pair,
    set_positive_int, utf8_truncate,
};

/// A read view of a UserProfile data dict.
#[derive(Clone, Copy, Debug)]
pub struct UserProfile<'a> {
    data: &'a DataDict,
}

impl<'a> UserProfile<'a> {
    /// The view of `data`.
    pub fn new(data: &'a DataDict) -> UserProfile<'a> {
        UserProfile { data }
    }

    /// The display name (`n`), when set and not empty.
    pub fn name(&self) -> Option<String> {
        bytes(self.data, b"n").filter(|n| !n.is_empty()).map(|n| String::from_utf8_lossy(n).into_owned())
    }

    /// The picture: `p`/`q`, or the re-uploaded `P`/`Q` when `T` is newer than `t`.
    pub fn picture(&self) -> Option<ProfilePic> {
        if self.uses_primary_picture() {
            ProfilePic::read(self.data, b"p", b"q")
        } else {
            ProfilePic::read(self.data, b"P", b"Q")
        }
    }

    /// Note to Self's priority (`+`): 0 normal, −1 hidden, > 0 pinned (higher first).
    pub fn nts_priority(&self) -> i64 {
        int(self.data, b"+").unwrap_or(0)
    }

    /// Note to Self's disappearing timer in seconds (`e`), when on.
    pub fn nts_expiry(&self) -> Option<i64> {
        int(self.data, b"e").filter(|&e| e > 0)
    }

    /// Whether community (blinded) message requests are accepted (`M`); `None` = the client's
    /// default.
    pub fn blinded_msgreqs(&self) -> Option<bool> {
        int(self.data, b"M").map(|m| m != 0)
    }

    /// When the profile last changed, unix seconds (the newer of `t` and `T`; 0 when unknown).
    pub fn profile_updated(&self) -> i64 {
        match (int(self.data, b"t"), int(self.data, b"T")) {
            (Some(t), Some(upload)) if upload > t => upload,
            (Some(t), _) => t,
            _ => 0,
        }
    }

    fn uses_primary_picture(&self) -> bool {
        int(self.data, b"t").unwrap_or(0) >= int(self.data, b"T").unwrap_or(0)
    }
}

/// Edits of a UserProfile data dict (through [`crate::config::MutableConfigMessage::data_mut`]
/// or [`super::UserConfig::edit`]).
#[derive(Debug)]
pub struct UserProfileMut<'a> {
    data: &'a mut DataDict,
}

impl<'a> UserProfileMut<'a> {
    /// Edits of `data`.
    pub fn new(data: &'a mut DataDict) -> UserProfileMut<'a> {
        UserProfileMut { data }
    }

    /// The read view.
    pub fn view(&self) -> UserProfile<'_> {
        UserProfile::new(self.data)
    }

    /// Sets the display name; an empty name removes it. Refused when longer than 100 bytes.
    /// Setting the current name changes nothing; otherwise `now` (unix seconds) is recorded as the
    /// profile-change time.
    pub fn set_name(&mut self, name: &str, now: Option<i64>) -> Result<(), EditError> {
        if name.len() > MAX_NAME_LENGTH {
            return Err(EditError::NameTooLong);
        }
        if bytes(self.data, b"n").filter(|n| !n.is_empty()) == Some(name.as_bytes()) {
            return Ok(());
        }
        set_nonempty(self.data, b"n", name.as_bytes());
        self.stamp_change(now);
        Ok(())
    }

    /// Sets the display name cut to 100 bytes (at a character boundary).
    pub fn set_name_truncated(&mut self, name: &str, now: Option<i64>) {
        // Cannot fail: the name is cut to the limit first.
        let _ = self.set_name(utf8_truncate(name, MAX_NAME_LENGTH), now);
    }

    /// Sets (or with `None` clears) the picture `p`/`q`. Clearing it also clears a re-uploaded
    /// `P`/`Q`. Unless nothing changed, `now` becomes `t`.
    pub fn set_picture(&mut self, picture: Option<&ProfilePic>, now: Option<i64>) {
        if !pair_changes(self.data, b"p", b"q", picture) {
            return;
        }
        set_picture_pair(self.data, b"p", b"q", picture);
        if picture.is_none_or(|p| p.url.is_empty()) {
            self.set_reupload_picture(None, now);
        }
        if let Some(now) = now {
            set_int(self.data, b"t", now);
        }
    }

    /// Sets (or clears) the re-uploaded picture `P`/`Q` (the same picture uploaded again so that
    /// it does not expire); unless nothing changed, `now` becomes `T`.
    pub fn set_reupload_picture(&mut self, picture: Option<&ProfilePic>, now: Option<i64>) {
        if !pair_changes(self.data, b"P", b"Q", picture) {
            return;
        }
        set_picture_pair(self.data, b"P", b"Q", picture);
        if let Some(now) = now {
            set_int(self.data, b"T", now);
        }
    }

    /// Sets Note to Self's priority (0 removes it).
    pub fn set_nts_priority(&mut self, priority: i64) {
        set_nonzero_int(self.data, b"+", priority);
    }

    /// Sets Note to Self's disappearing timer in seconds (`None` or ≤ 0 removes it).
    pub fn set_nts_expiry(&mut self, seconds: Option<i64>) {
        set_positive_int(self.data, b"e", seconds.unwrap_or(0));
    }

    /// Sets whether community message requests are accepted (`None`: the client's default).
    /// Unless nothing changed, `now` is recorded as the profile-change time.
    pub fn set_blinded_msgreqs(&mut self, value: Option<bool>, now: Option<i64>) {
        let current = self.data.contains_key(b"M".as_slice()).then(|| int(self.data, b"M").unwrap_or(0) != 0);
        if current == value {
            return;
        }
        match value {
            Some(on) => set_int(self.data, b"M", i64::from(on)),
            None => {
                self.data.remove(b"M".as_slice());
            }
        }
        self.stamp_change(now);
    }

    /// Records a change in `t`, or in `T` when that is the newer one (as libsession does).
    fn stamp_change(&mut self, now: Option<i64>) {
        let Some(now) = now else { return };
        let key: &[u8] = if self.view().uses_primary_picture() { b"t" } else { b"T" };
        set_int(self.data, key, now);
    }
}

/// Whether writing `picture` to the pair changes it (libsession compares the stored strings, a
/// missing one as empty, with the new URL and key, empty when clearing).
fn pair_changes(data: &DataDict, url_key: &[u8], key_key: &[u8], picture: Option<&ProfilePic>) -> bool {
    let current_url = bytes(data, url_key).unwrap_or_default();
    let current_key = bytes(data, key_key).unwrap_or_default();
    match picture {
        Some(p) => current_url != p.url.as_bytes() || current_key != p.key.as_bytes(),
        None => !current_url.is_empty() || !current_key.is_empty(),
    }
}
