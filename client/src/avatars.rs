//! Profile pictures: this account's (encrypted with its profile key and uploaded, the URL and key
//! carried in the profile of every message it sends, as Session's clients do), and its peers'
//! (as their messages last said: fetched when first shown, checked, kept sealed in the vault).
//!
//! A peer's message that carries a profile changes the picture as Session's clients apply it: a
//! URL and a key set it (unchanged ones change nothing), a profile without them removes it; a
//! profile older than the one applied (its `last_profile_update_seconds`) is not applied. Pictures
//! are encrypted with AES-256-GCM under the 32-byte profile key, as every client reads them; a URL
//! with `d` is the deterministic scheme (personal `Session_Prof_Pic`), read too.

use crypto_core::attachment::{self, AttachmentKey, FileUrl, MAX_FILE_BYTES};
use crypto_core::identity::SessionId;
use crypto_core::wire::LokiProfile;
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

use crate::attachments::{self, AttachmentState, Avatar, KeyBytes};
use crate::conversations;
use crate::error::Error;
use crate::event::Event;
use crate::files::{self, FileError};
use crate::platform::Platform;
use crate::session::Session;

/// The vault's piece kind for profile pictures (see [`attachments`]); this account's is kept
/// under its own Session ID.
const KIND: char = 'a';

/// What a received profile says of the picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// This picture (URL and 32-byte key), as of `updated_s`.
    Set { url: String, key: Vec<u8>, updated_s: u64 },
    /// No picture, as of `updated_s`.
    Remove { updated_s: u64 },
}

/// The change a profile (and the message's profile key) says, if it carries one. A URL that is
/// not a file server's or a key that is not 32 bytes is no picture.
pub(crate) fn change_of(profile: Option<&LokiProfile>, key: Option<&[u8]>) -> Option<Change> {
    let profile = profile?;
    let updated_s = profile.last_profile_update_seconds.unwrap_or(0);
    let url = profile.profile_picture.as_deref().filter(|u| !u.is_empty());
    match (url, key.filter(|k| !k.is_empty())) {
        (Some(url), Some(key)) if key.len() == 32 && FileUrl::parse(url).is_ok() => {
            Some(Change::Set { url: url.to_owned(), key: key.to_vec(), updated_s })
        }
        (Some(_), Some(_)) => None,
        _ => Some(Change::Remove { updated_s }),
    }
}

/// Applies `change` to the conversation with `peer` (if there is one): see the module docs.
/// Returns whether it changed.
pub(crate) async fn apply<P: Platform>(session: &Session<P>, peer: &SessionId, change: Change) -> bool {
    let _guard = session.writes.lock().await;
    let Ok(Some(mut c)) = conversations::conversation(&session.vault, peer).await else { return false };
    let updated_s = match &change {
        Change::Set { updated_s, .. } | Change::Remove { updated_s } => *updated_s,
    };
    // Session's rule: a newer profile wins; two that say no time both apply.
    if !(updated_s > c.profile_updated_s || (updated_s == 0 && c.profile_updated_s == 0)) {
        return false;
    }
    let old = c.avatar.take();
    c.avatar = match change {
        Change::Set { url, key, updated_s } => {
            if let Some(same) = old.as_ref().filter(|o| o.url == url && o.key.as_bytes() == key.as_slice()) {
                // The same picture: only the time moves on.
                c.avatar = Some(same.clone());
                c.profile_updated_s = updated_s;
                save(session, &c).await;
                return false;
            }
            Some(Box::new(Avatar {
                url,
                key: KeyBytes::from(key.as_slice()),
                updated_s,
                size: 0,
                state: AttachmentState::Remote,
            }))
        }
        Change::Remove { .. } => None,
    };
    c.profile_updated_s = updated_s;
    if c.avatar.is_none() && old.is_none() {
        save(session, &c).await;
        return false;
    }
    if let Some(old) = old.filter(|o| o.state == AttachmentState::Saved) {
        session.kept(attachments::free(&session.vault, KIND, &peer.to_string(), 0, old.size as usize).await);
    }
    save(session, &c).await
}

async fn save<P: Platform>(session: &Session<P>, c: &conversations::Conversation) -> bool {
    let saved = conversations::save(&session.vault, c).await;
    let ok = saved.is_ok();
    session.kept(saved);
    if ok {
        session.emit(Event::Conversations);
    }
    ok
}

/// The picture of `peer` (none: this account's own): from the vault, or fetched, checked and
/// kept first. `Ok(None)`: there is none.
pub(crate) async fn picture<P: Platform>(
    session: &Session<P>,
    peer: Option<&SessionId>,
) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
    let me = session.me();
    let id = peer.copied().unwrap_or(me);
    let avatar = if id == me {
        session.account.borrow().avatar.clone()
    } else {
        conversations::conversation(&session.vault, &id).await?.and_then(|c| c.avatar.map(|a| *a))
    };
    let Some(avatar) = avatar else { return Ok(None) };
    match avatar.state {
        AttachmentState::Saved | AttachmentState::Uploading => {
            return attachments::read(&session.vault, KIND, &id.to_string(), 0, avatar.size as usize)
                .await
                .map_err(Error::Storage)?
                .map(Some)
                .ok_or(Error::FileDamaged);
        }
        AttachmentState::Expired => return Err(Error::FileExpired),
        AttachmentState::Damaged => return Err(Error::FileDamaged),
        // This account's own is kept when set here; set on another device (its profile config),
        // it is fetched like a peer's.
        AttachmentState::Remote => {}
    }
    let url = FileUrl::parse(&avatar.url).map_err(|_| Error::FileDamaged)?;
    let outcome = match files::download(session, &url).await {
        Ok(encrypted) => {
            let opened = if url.deterministic {
                AttachmentKey::from_bytes(avatar.key.as_bytes())
                    .map_err(|_| ())
                    .and_then(|k| attachment::decrypt_deterministic(&encrypted, &k).map_err(|_| ()))
            } else {
                attachment::decrypt_profile_picture(avatar.key.as_bytes(), &encrypted).map_err(|_| ())
            };
            match opened {
                Ok(bytes) if bytes.len() <= MAX_FILE_BYTES => Ok(bytes),
                _ => Err(AttachmentState::Damaged),
            }
        }
        Err(FileError::Gone) => Err(AttachmentState::Expired),
        Err(FileError::Network(f)) => return Err(Error::network(f)),
        Err(FileError::Refused(status)) => return Err(Error::FileRefused { status }),
    };
    if id == me {
        return keep_own(session, &avatar.url, outcome).await;
    }
    let _guard = session.writes.lock().await;
    let Ok(Some(mut c)) = conversations::conversation(&session.vault, &id).await else {
        return Err(Error::MessageGone);
    };
    // Changed meanwhile: what was fetched is not its picture any more.
    let Some(current) = c.avatar.as_mut().filter(|a| a.url == avatar.url) else { return Ok(None) };
    let result = match outcome {
        Ok(bytes) => {
            attachments::keep(&session.vault, KIND, &id.to_string(), 0, &bytes).await.map_err(Error::FileNotKept)?;
            current.state = AttachmentState::Saved;
            current.size = bytes.len() as u64;
            Ok(Some(bytes))
        }
        Err(state) => {
            current.state = state;
            Err(if state == AttachmentState::Expired { Error::FileExpired } else { Error::FileDamaged })
        }
    };
    save(session, &c).await;
    result
}

/// Keeps this account's picture fetched from `url` (or the state it was found in), unless the
/// account's picture changed meanwhile.
async fn keep_own<P: Platform>(
    session: &Session<P>,
    url: &str,
    outcome: Result<Zeroizing<Vec<u8>>, AttachmentState>,
) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
    if session.account.borrow().avatar.as_ref().is_none_or(|a| a.url != url) {
        return Ok(None);
    }
    let result = match outcome {
        Ok(bytes) => {
            let me = session.me().to_string();
            attachments::keep(&session.vault, KIND, &me, 0, &bytes).await.map_err(Error::FileNotKept)?;
            if let Some(current) = session.account.borrow_mut().avatar.as_mut().filter(|a| a.url == url) {
                current.state = AttachmentState::Saved;
                current.size = bytes.len() as u64;
            }
            Ok(Some(bytes))
        }
        Err(state) => {
            if let Some(current) = session.account.borrow_mut().avatar.as_mut().filter(|a| a.url == url) {
                current.state = state;
            }
            Err(if state == AttachmentState::Expired { Error::FileExpired } else { Error::FileDamaged })
        }
    };
    session.kept(session.save_account().await);
    result
}

/// Sets this account's picture: encrypted under a new profile key, uploaded through an onion
/// path, kept; every message from now on carries its URL and key.
pub(crate) async fn set_own<P: Platform>(session: &Session<P>, bytes: &[u8]) -> Result<(), Error> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Error::FileTooLarge { size: bytes.len() as u64, max: MAX_FILE_BYTES as u64 });
    }
    let mut key = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(key.as_mut());
    let encrypted = attachment::encrypt_profile_picture(&mut OsRng, &key, bytes);
    let server = session.client.file_server();
    let id = match files::upload(session, &server, &encrypted).await {
        Ok(id) => id,
        Err(FileError::Network(f)) => return Err(Error::network(f)),
        Err(FileError::Refused(status)) => return Err(Error::FileRefused { status }),
        Err(FileError::Gone) => return Err(Error::FileRefused { status: 404 }),
    };
    let me = session.me().to_string();
    let old = session.account.borrow().avatar.clone();
    if let Some(old) = old {
        session.kept(attachments::free(&session.vault, KIND, &me, 0, old.size as usize).await);
    }
    attachments::keep(&session.vault, KIND, &me, 0, bytes).await.map_err(Error::NotKept)?;
    let now_s = session.client.now() / 1000;
    {
        let mut account = session.account.borrow_mut();
        account.avatar = Some(Avatar {
            url: server.file_url(&id),
            key: KeyBytes::from(key.as_slice()),
            updated_s: now_s,
            size: bytes.len() as u64,
            state: AttachmentState::Saved,
        });
        account.profile_updated_s = now_s;
    }
    session.save_account().await.map_err(Error::NotKept)?;
    session.emit(Event::Account);
    Ok(())
}

/// Removes this account's picture: messages from now on carry none, which removes it at their
/// recipients.
pub(crate) async fn remove_own<P: Platform>(session: &Session<P>) -> Result<(), Error> {
    let old = {
        let mut account = session.account.borrow_mut();
        account.profile_updated_s = session.client.now() / 1000;
        account.avatar.take()
    };
    session.save_account().await.map_err(Error::NotKept)?;
    if let Some(old) = old {
        session.kept(attachments::free(&session.vault, KIND, &session.me().to_string(), 0, old.size as usize).await);
    }
    session.emit(Event::Account);
    Ok(())
}

/// A picture known by its URL and key, not fetched yet (`None`: not a file server's URL, or not a
/// 32-byte key).
pub(crate) fn remote(url: &str, key: &[u8]) -> Option<Avatar> {
    (key.len() == 32 && FileUrl::parse(url).is_ok()).then(|| Avatar {
        url: url.to_owned(),
        key: KeyBytes::from(key),
        updated_s: 0,
        size: 0,
        state: AttachmentState::Remote,
    })
}

/// This account's picture as its profile config says (set on another device; `None`: removed),
/// as of `updated_s`: fetched when first asked for. Returns whether it changed.
pub(crate) async fn set_own_from_config<P: Platform>(
    session: &Session<P>,
    picture: Option<(String, Vec<u8>)>,
    updated_s: u64,
) -> bool {
    let new = match &picture {
        Some((url, key)) => match remote(url, key) {
            Some(avatar) => Some(Avatar { updated_s, ..avatar }),
            None => return false,
        },
        None => None,
    };
    let old = {
        let mut account = session.account.borrow_mut();
        if account.avatar.as_ref().map(|a| (&a.url, a.key.as_bytes()))
            == new.as_ref().map(|a| (&a.url, a.key.as_bytes()))
        {
            return false;
        }
        std::mem::replace(&mut account.avatar, new)
    };
    session.kept(session.save_account().await);
    if let Some(old) = old.filter(|o| o.state == AttachmentState::Saved) {
        session.kept(attachments::free(&session.vault, KIND, &session.me().to_string(), 0, old.size as usize).await);
    }
    true
}

/// The profile this account's messages carry: its name and picture, and when they last changed;
/// and the profile key that goes beside it.
pub(crate) fn own_profile<P: Platform>(session: &Session<P>) -> (LokiProfile, Option<Vec<u8>>) {
    let account = session.account.borrow();
    let profile = LokiProfile {
        display_name: Some(account.display_name.clone()),
        profile_picture: account.avatar.as_ref().map(|a| a.url.clone()),
        last_profile_update_seconds: (account.profile_updated_s > 0).then_some(account.profile_updated_s),
    };
    (profile, account.avatar.as_ref().map(|a| a.key.as_bytes().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(url: Option<&str>, at: Option<u64>) -> LokiProfile {
        LokiProfile {
            display_name: Some("Ann".into()),
            profile_picture: url.map(str::to_owned),
            last_profile_update_seconds: at,
        }
    }

    #[test]
    fn a_profile_sets_removes_or_says_nothing_of_the_picture() {
        let url = "http://filev2.getsession.org/file/abc";
        assert_eq!(
            change_of(Some(&profile(Some(url), Some(5))), Some(&[1; 32])),
            Some(Change::Set { url: url.into(), key: vec![1; 32], updated_s: 5 })
        );
        assert_eq!(change_of(Some(&profile(None, None)), None), Some(Change::Remove { updated_s: 0 }));
        assert_eq!(change_of(Some(&profile(Some(url), None)), None), Some(Change::Remove { updated_s: 0 }));
        assert_eq!(change_of(Some(&profile(Some(url), None)), Some(&[1; 16])), None, "a bad key is no change");
        assert_eq!(change_of(Some(&profile(Some("javascript:x"), None)), Some(&[1; 32])), None);
        assert_eq!(change_of(None, Some(&[1; 32])), None, "no profile, no change");
    }
}
