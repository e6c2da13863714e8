//! Config sync (protocol-config-groups §1–§3): the account's profile, contacts, read state and
//! group list live in encrypted, mergeable config messages in its own swarm (namespaces 2–5), as
//! Session's clients keep them, so every device of the account converges.
//!
//! Each of the four user configs is a `crypto_core::config::UserConfig`, kept sealed in the
//! vault's account store (`config/<domain>`: the current version, the storage hashes holding it,
//! unpushed edits, the hashes to delete). The poll retrieves namespaces 2, 3, 5 and 4 beside 0 in
//! one `batch` (with an `expire` that keeps the active config messages alive for another 30 days,
//! at most every [`EXTEND_EVERY_MS`]); what arrives is merged as libsession merges it, then applied
//! to this device — only what changed in the config, so nothing the config does not speak about is
//! lost. Local changes (rename, picture, accept, block, nickname, read, delete) edit the config;
//! the next poll pushes it: one `sequence` storing each new version (TTL 30 days, signed as the
//! account), then deleting the superseded hashes; a push that fails is tried again at a later poll,
//! waiting longer after each failure.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_core::config::user::contacts::Contact;
use crypto_core::config::user::convo::{self, ReadState};
use crypto_core::config::user::{Expiration, ProfilePic};
use crypto_core::config::{ConfigKind, Push, Retrieved, Saved, UserConfig};
use crypto_core::identity::{IdPrefix, SessionId};
use crypto_core::network::Failure;
use crypto_core::storage::rpc::{ExpireParams, Expiry, Request, StoreReply};
use crypto_core::storage::to_sign::{self, ExpireMode};
use crypto_core::storage::{Namespace, requests, sign_request};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::avatars;
use crate::conversations::{self, Conversation, Disappearing, MAX_TIMER_S, Standing, Status};
use crate::event::Event;
use crate::network::Stored;
use crate::platform::Platform;
use crate::session::Session;
use crate::storage::{StorageError, stores};
use crate::text;

/// The user configs, in the order they are kept and pushed.
const KINDS: [ConfigKind; 4] =
    [ConfigKind::UserProfile, ConfigKind::Contacts, ConfigKind::ConvoInfoVolatile, ConfigKind::UserGroups];
/// What one poll retrieves, in Session desktop's order: messages, then the configs.
pub(crate) const POLL_NAMESPACES: [i16; 5] = [0, 2, 3, 5, 4];
/// The config namespaces alone (a restore's first pull).
pub(crate) const CONFIG_NAMESPACES: [i16; 4] = [2, 3, 5, 4];
/// How long a config message is stored, and how far its expiry is extended (30 days).
pub const CONFIG_TTL_MS: u64 = 30 * 24 * 60 * 60 * 1000;
/// How often the active config messages' expiry is extended (ms).
pub const EXTEND_EVERY_MS: u64 = 60 * 60 * 1000;
/// The longest wait before a failed push is tried again (ms).
const PUSH_BACKOFF_MAX_MS: u64 = 5 * 60 * 1000;
/// The most subrequests one `sequence` takes.
const MAX_SUBREQUESTS: usize = 20;
/// The most recent messages looked at when a read mark from another device is applied.
const READ_WINDOW: usize = 200;

/// What a restore found in the account's swarm.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Restored {
    /// Whether the swarm answered (if not, nothing was found yet; the poll keeps trying).
    pub reached: bool,
    /// The display name the account's profile config holds (none: the person chooses one).
    pub display_name: Option<String>,
    /// How many contacts the Contacts config holds (hidden ones included).
    pub contacts: usize,
}

/// The vault record (account store) of a config.
fn record_id(kind: ConfigKind) -> Vec<u8> {
    format!("config/{}", kind.domain()).into_bytes()
}

/// A config as the vault keeps it: [`Saved`], hex where it is bytes. Holds the config's plaintext:
/// zeroized on drop, never printed.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct Kept {
    current: String,
    current_hashes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending: Option<String>,
    #[serde(default)]
    obsolete: Vec<String>,
}

impl Kept {
    fn of(saved: &Saved) -> Kept {
        Kept {
            current: hex::encode(&saved.current),
            current_hashes: saved.current_hashes.clone(),
            pending: saved.pending.as_ref().map(hex::encode),
            obsolete: saved.obsolete.clone(),
        }
    }

    fn saved(&self) -> Option<Saved> {
        let pending = match &self.pending {
            Some(p) => Some(hex::decode(p).ok()?),
            None => None,
        };
        Some(Saved {
            current: hex::decode(&self.current).ok()?,
            current_hashes: self.current_hashes.clone(),
            pending,
            obsolete: self.obsolete.clone(),
        })
    }
}

/// Reads the configs from the vault once per session (a missing or damaged one starts empty:
/// the swarm holds it, and the next poll brings it back).
async fn load<P: Platform>(session: &Session<P>) {
    if session.configs.loaded.borrow().is_some() {
        return;
    }
    let mut configs = Vec::new();
    for kind in KINDS {
        let kept: Option<Kept> = session.load(stores::ACCOUNT, &record_id(kind)).await;
        let restored = kept.and_then(|k| k.saved()).and_then(|saved| UserConfig::restore(kind, &saved).ok());
        if let Some(config) = restored.or_else(|| UserConfig::new(kind).ok()) {
            configs.push(config);
        }
    }
    let mut loaded = session.configs.loaded.borrow_mut();
    if loaded.is_none() {
        *loaded = Some(configs);
    }
}

/// Runs `f` on the loaded config of `kind` (none before [`load`]).
fn with<P: Platform, R>(session: &Session<P>, kind: ConfigKind, f: impl FnOnce(&mut UserConfig) -> R) -> Option<R> {
    let mut loaded = session.configs.loaded.borrow_mut();
    loaded.as_mut()?.iter_mut().find(|c| c.kind() == kind).map(f)
}

/// Writes the config of `kind` to the vault as it is now.
async fn save<P: Platform>(session: &Session<P>, kind: ConfigKind) -> Result<(), StorageError> {
    let _saving = session.configs.saving.lock().await;
    // Taken under the lock: the state written last is the latest.
    let Some(saved) = with(session, kind, |c| c.save()) else { return Ok(()) };
    session.save(stores::ACCOUNT, &record_id(kind), &Kept::of(&saved)).await
}

/// Network time, ms, as the configs count it.
fn now_ms<P: Platform>(session: &Session<P>) -> i64 {
    i64::try_from(session.client.now()).unwrap_or(i64::MAX)
}

fn now_s<P: Platform>(session: &Session<P>) -> i64 {
    now_ms(session) / 1000
}

// Local edits.

/// Edits the config of `kind` and keeps it; the next poll pushes it.
async fn edit<P: Platform>(session: &Session<P>, kind: ConfigKind, change: impl FnOnce(&mut UserConfig)) {
    load(session).await;
    if with(session, kind, change).is_some() {
        session.kept(save(session, kind).await);
    }
}

/// The display name changed here.
pub(crate) async fn set_name<P: Platform>(session: &Session<P>, name: &str) {
    let now = now_s(session);
    edit(session, ConfigKind::UserProfile, |c| c.profile_mut().set_name_truncated(name, Some(now))).await;
}

/// This account's picture changed here (set or removed): the profile says what the account holds.
pub(crate) async fn set_picture<P: Platform>(session: &Session<P>) {
    let picture = session.account.borrow().avatar.as_ref().and_then(|a| {
        let key: [u8; 32] = a.key.as_bytes().try_into().ok()?;
        Some(ProfilePic::new(a.url.clone(), key))
    });
    let now = now_s(session);
    edit(session, ConfigKind::UserProfile, |c| c.profile_mut().set_picture(picture.as_ref(), Some(now))).await;
}

/// Changes the contact `peer` (made if the config has none), as a change here says. A
/// conversation accepted here is an approved contact (naming or pinning someone is talking to
/// them), and the contact carries the name known here when it has none.
pub(crate) async fn contact<P: Platform>(session: &Session<P>, peer: &SessionId, change: impl FnOnce(&mut Contact)) {
    if *peer == session.me() || peer.prefix() != IdPrefix::Standard {
        return;
    }
    let local = conversations::conversation(&session.vault, peer).await.ok().flatten();
    let accepted = local.as_ref().is_some_and(|c| c.standing == Standing::Accepted);
    let name = local.and_then(|c| c.name);
    edit(session, ConfigKind::Contacts, |c| {
        let _ = c.contacts_mut().update(peer, |contact| {
            if contact.name.is_empty()
                && let Some(name) = name
            {
                contact.name = name;
            }
            contact.approved |= accepted;
            change(contact);
        });
    })
    .await;
}

/// The conversation with `peer` was read here, up to now.
pub(crate) async fn read<P: Platform>(session: &Session<P>, peer: &SessionId) {
    if peer.prefix() != IdPrefix::Standard {
        return;
    }
    let now = now_ms(session);
    let state = ReadState { last_read_ms: now, unread: false };
    edit(session, ConfigKind::ConvoInfoVolatile, |c| {
        let _ = c.convo_mut().set_one_to_one(peer, state, now);
    })
    .await;
}

/// The conversation with `peer` was deleted here: hidden in the contacts (as Session's clients
/// delete a 1:1 conversation) and its read state dropped.
pub(crate) async fn deleted<P: Platform>(session: &Session<P>, peer: &SessionId) {
    let known = {
        load(session).await;
        with(session, ConfigKind::Contacts, |c| c.contacts().get(peer).is_some()).unwrap_or(false)
    };
    if known {
        contact(session, peer, |c| c.priority = -1).await;
    }
    edit(session, ConfigKind::ConvoInfoVolatile, |c| {
        if c.convo().one_to_one(peer).is_some() {
            c.convo_mut().erase_one_to_one(peer);
        }
    })
    .await;
}

/// Whether a message from `peer` sent at `sent_ms` was already read on another device (the read
/// state says it was read at or after that time).
pub(crate) fn read_elsewhere<P: Platform>(session: &Session<P>, peer: &SessionId, sent_ms: u64) -> bool {
    let sent = i64::try_from(sent_ms).unwrap_or(i64::MAX);
    with(session, ConfigKind::ConvoInfoVolatile, |c| c.convo().one_to_one(peer))
        .flatten()
        .is_some_and(|state| state.last_read_ms >= sent)
}

// Polling.

/// The `expire` subrequest that extends the active config messages to now + 30 days, when it is
/// due (see [`EXTEND_EVERY_MS`]).
pub(crate) async fn extend_request<P: Platform>(session: &Session<P>) -> Option<Value> {
    load(session).await;
    let now = session.client.now();
    let last = session.configs.extended_at.get();
    if last != 0 && now.saturating_sub(last) < EXTEND_EVERY_MS {
        return None;
    }
    let mut hashes: Vec<String> = {
        let loaded = session.configs.loaded.borrow();
        loaded.as_ref()?.iter().flat_map(UserConfig::active_hashes).collect()
    };
    if hashes.is_empty() {
        return None;
    }
    hashes.sort();
    hashes.dedup();
    let expiry = now.saturating_add(CONFIG_TTL_MS);
    let identity = &session.identity;
    let signature = sign_request(identity, &to_sign::expire(ExpireMode::Extend, &[expiry], &hashes));
    Some(
        Request::Expire(ExpireParams {
            expiry: Expiry::One(expiry),
            extend: true,
            messages: hashes,
            pubkey: identity.session_id().to_string(),
            pubkey_ed25519: Some(hex::encode(identity.ed25519_public())),
            shorten: false,
            signature,
        })
        .to_json(),
    )
}

/// The extension asked for with the poll went through.
pub(crate) fn extended<P: Platform>(session: &Session<P>) {
    session.configs.extended_at.set(session.client.now());
}

/// Takes in what a poll retrieved from the config namespaces: merged into each config, kept, then
/// what changed applied to this device. Returns whether everything was kept (if not, the poll
/// must not move its `last_hash` on).
pub(crate) async fn receive<P: Platform>(session: &Session<P>, polled: &[(i16, Vec<Stored>)]) -> bool {
    load(session).await;
    let now = now_ms(session);
    let mut kept = true;
    for (namespace, items) in polled {
        let Some(kind) = ConfigKind::from_namespace(*namespace).filter(|k| KINDS.contains(k)) else { continue };
        if items.is_empty() {
            continue;
        }
        let decoded: Vec<(String, Vec<u8>)> =
            items.iter().filter_map(|s| Some((s.hash.clone(), STANDARD.decode(&s.data).ok()?))).collect();
        let retrieved: Vec<Retrieved<'_>> =
            decoded.iter().map(|(hash, data)| Retrieved { hash: hash.as_str(), data: data.as_slice() }).collect();
        let outcome = with(session, kind, |c| {
            let before = c.data().clone();
            let report = c.receive(&session.identity, &retrieved, u64::try_from(now).unwrap_or(0));
            (before, report.changed)
        });
        let Some((before, changed)) = outcome else { continue };
        // Kept even when the data did not change: the hashes did.
        let saved = save(session, kind).await;
        kept &= saved.is_ok();
        session.kept(saved);
        if changed {
            apply(session, kind, &before).await;
        }
    }
    kept
}

/// Applies what changed in the config of `kind` (from `before`) to this device.
async fn apply<P: Platform>(session: &Session<P>, kind: ConfigKind, before: &crypto_core::config::DataDict) {
    match kind {
        ConfigKind::UserProfile => apply_profile(session, before).await,
        ConfigKind::Contacts => {
            let before = crypto_core::config::user::contacts::Contacts::new(before);
            let changed: Vec<(Contact, Option<Contact>)> = with(session, kind, |c| {
                c.contacts()
                    .iter()
                    .filter_map(|after| {
                        let was = before.get(&after.session_id);
                        (was.as_ref() != Some(&after)).then_some((after, was))
                    })
                    .collect()
            })
            .unwrap_or_default();
            let mut any = false;
            for (contact, was) in &changed {
                any |= apply_contact(session, contact, was.as_ref()).await;
            }
            if any {
                session.emit(Event::Conversations);
            }
        }
        ConfigKind::ConvoInfoVolatile => {
            let before = convo::ConvoInfoVolatile::new(before);
            let changed: Vec<(SessionId, ReadState)> = with(session, kind, |c| {
                c.convo()
                    .iter()
                    .into_iter()
                    .filter_map(|(conversation, state)| match conversation {
                        convo::Conversation::OneToOne(id) if before.one_to_one(&id) != Some(state) => Some((id, state)),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
            let mut any = false;
            for (peer, state) in &changed {
                any |= apply_read(session, peer, *state).await;
            }
            if any {
                session.emit(Event::Conversations);
            }
        }
        // Kept and pushed back as it came (merged): Hush has no groups yet.
        _ => {}
    }
}

/// The profile's name and picture, when they changed, become the account's.
async fn apply_profile<P: Platform>(session: &Session<P>, before: &crypto_core::config::DataDict) {
    let before = crypto_core::config::user::profile::UserProfile::new(before);
    let Some((name, picture, updated)) = with(session, ConfigKind::UserProfile, |c| {
        (c.profile().name(), c.profile().picture(), c.profile().profile_updated())
    }) else {
        return;
    };
    let mut changed = false;
    if name != before.name()
        && let Some(name) = name.as_deref().and_then(text::name)
        && session.account.borrow().display_name != name
    {
        session.account.borrow_mut().display_name = name;
        changed = true;
    }
    let updated_s = u64::try_from(updated).unwrap_or(0);
    if updated_s > session.account.borrow().profile_updated_s {
        session.account.borrow_mut().profile_updated_s = updated_s;
        changed = true;
    }
    if changed {
        session.kept(session.save_account().await);
    }
    if picture != before.picture() {
        let picture = picture.map(|p| (p.url, p.key.as_bytes().to_vec()));
        changed |= avatars::set_own_from_config(session, picture, updated_s).await;
    }
    if changed {
        session.emit(Event::Account);
    }
}

/// A contact changed in the config: the conversation follows it. Returns whether it changed.
async fn apply_contact<P: Platform>(session: &Session<P>, contact: &Contact, before: Option<&Contact>) -> bool {
    let peer = contact.session_id;
    if peer == session.me() || peer.prefix() != IdPrefix::Standard {
        return false;
    }
    let _guard = session.writes.lock().await;
    let Ok(existing) = conversations::conversation(&session.vault, &peer).await else { return false };
    if contact.is_hidden() {
        // Hidden on another device after it was shown: deleted there, so here too (a blocked
        // person stays blocked, as a deletion here keeps them).
        let shown_before = before.is_some_and(|b| !b.is_hidden());
        let Some(c) = existing.filter(|_| shown_before) else { return false };
        if conversations::forget(&session.vault, &peer).await.is_err() {
            return false;
        }
        if c.standing == Standing::Blocked || contact.blocked {
            let kept = Conversation { name: c.name, ..Conversation::new(&peer, Standing::Blocked) };
            session.kept(conversations::save(&session.vault, &kept).await);
        }
        return true;
    }
    let mut c = match existing {
        Some(c) => c,
        None if contact.approved || contact.blocked => Conversation::new(&peer, Standing::Accepted),
        None => return false,
    };
    let original = c.clone();
    c.standing = if contact.blocked {
        Standing::Blocked
    } else if contact.approved {
        Standing::Accepted
    } else if c.standing == Standing::Blocked {
        Standing::Request
    } else {
        c.standing
    };
    c.nickname = text::name(&contact.nickname);
    if c.name.is_none() {
        c.name = text::name(&contact.name);
    }
    if c.avatar.is_none()
        && let Some(picture) = &contact.picture
        && let Some(change) = avatars::remote(&picture.url, picture.key.as_bytes())
    {
        c.avatar = Some(Box::new(change));
    }
    c.pinned = contact.priority > 0;
    let timer = |t: i64| u32::try_from(t).unwrap_or(MAX_TIMER_S).min(MAX_TIMER_S);
    match contact.expiration {
        Expiration::AfterSend(t) => c.disappearing = Some(Disappearing::AfterSend(timer(t))),
        Expiration::AfterRead(t) => c.disappearing = Some(Disappearing::AfterRead(timer(t))),
        // Off is also what a config that never spoke of it says: a setting made here stays.
        Expiration::Off => {}
    }
    if c == original {
        return false;
    }
    let saved = conversations::save(&session.vault, &c).await;
    let ok = saved.is_ok();
    session.kept(saved);
    ok
}

/// A read state changed in the config: messages sent before it are read here too. Returns
/// whether the conversation changed.
async fn apply_read<P: Platform>(session: &Session<P>, peer: &SessionId, state: ReadState) -> bool {
    let _guard = session.writes.lock().await;
    let Ok(Some(mut c)) = conversations::conversation(&session.vault, peer).await else { return false };
    let mut unread = c.unread;
    if unread > 0 {
        let last_read = u64::try_from(state.last_read_ms).unwrap_or(0);
        if let Ok((messages, _)) = conversations::latest(&session.vault, peer, (unread as usize).min(READ_WINDOW)).await
        {
            let still = messages
                .iter()
                .filter(|m| !m.outgoing && m.status != Status::Deleted && m.sent_at() > last_read)
                .count();
            unread = unread.min(u32::try_from(still).unwrap_or(u32::MAX));
        }
    }
    if state.unread {
        unread = unread.max(1);
    }
    if unread == c.unread {
        return false;
    }
    c.unread = unread;
    let saved = conversations::save(&session.vault, &c).await;
    let ok = saved.is_ok();
    session.kept(saved);
    ok
}

// Pushing.

/// An account that had a name before its profile config did (made before config sync, or a new
/// one): the profile gets it, so other devices and clients see one name.
fn seed_profile<P: Platform>(session: &Session<P>) {
    let (name, updated) = {
        let account = session.account.borrow();
        (account.display_name.clone(), account.profile_updated_s)
    };
    if name.is_empty() {
        return;
    }
    let updated = i64::try_from(updated).ok().filter(|&t| t > 0).unwrap_or_else(|| now_s(session));
    with(session, ConfigKind::UserProfile, |c| {
        if c.profile().name().is_none_or(|n| n.is_empty()) {
            c.profile_mut().set_name_truncated(&name, Some(updated));
        }
    });
}

/// An account whose conversations were made before config sync (or on a device that never
/// pushed its Contacts): once its poll found no Contacts config in the swarm, the conversations
/// accepted or blocked here, with their nicknames and pins, become its contacts, so its other
/// devices and clients see them. Once per session; nothing when the config holds anything.
pub(crate) async fn seed_contacts<P: Platform>(session: &Session<P>) {
    if session.configs.seeded.replace(true) {
        return;
    }
    load(session).await;
    let virgin = with(session, ConfigKind::Contacts, |c| {
        c.current().seqno() == 0
            && c.active_hashes().is_empty()
            && c.obsolete_hashes().is_empty()
            && c.contacts().is_empty()
    });
    if virgin != Some(true) {
        return;
    }
    let Ok(list) = conversations::list(&session.vault).await else { return };
    let me = session.me();
    let seeds: Vec<Conversation> = list
        .into_iter()
        .filter(|c| c.peer != me && c.peer.prefix() == IdPrefix::Standard && c.standing != Standing::Request)
        .collect();
    if seeds.is_empty() {
        return;
    }
    edit(session, ConfigKind::Contacts, |config| {
        let mut contacts = config.contacts_mut();
        for c in &seeds {
            let _ = contacts.update(&c.peer, |contact| {
                contact.approved = c.standing == Standing::Accepted;
                contact.blocked = c.standing == Standing::Blocked;
                contact.nickname = c.nickname.clone().unwrap_or_default();
                contact.name = c.name.clone().unwrap_or_default();
                contact.priority = i64::from(c.pinned);
            });
        }
    })
    .await;
}

/// Pushes every config that needs it, if a push is due: one `sequence` storing each new version
/// in its namespace, then deleting the superseded messages. Returns whether something was pushed;
/// a failure is tried again later (at a later poll, after a growing wait).
pub(crate) async fn push<P: Platform>(session: &Session<P>, force: bool) -> Result<bool, Failure> {
    load(session).await;
    let now = session.client.now();
    if session.configs.pushing.get() || (!force && now < session.configs.push_after.get()) {
        return Ok(false);
    }
    seed_profile(session);
    let mut pushes: Vec<(ConfigKind, Push)> = Vec::new();
    {
        let mut loaded = session.configs.loaded.borrow_mut();
        for config in loaded.iter_mut().flatten() {
            if let Ok(Some(push)) = config.push(&session.identity, now) {
                pushes.push((config.kind(), push));
            }
        }
    }
    if pushes.is_empty() {
        return Ok(false);
    }
    let me = session.me();
    let mut subrequests = Vec::new();
    let mut taken = Vec::new();
    for (kind, push) in pushes {
        if subrequests.len() + push.blobs.len() + 1 > MAX_SUBREQUESTS {
            continue; // The next push takes it.
        }
        for blob in &push.blobs {
            let data = STANDARD.encode(blob);
            let namespace = Namespace(kind.namespace());
            subrequests.push(requests::store(&me, namespace, &data, now, CONFIG_TTL_MS, Some(&session.identity)));
        }
        taken.push((kind, push));
    }
    if taken.is_empty() {
        return Ok(false);
    }
    let mut obsolete: Vec<String> = taken.iter().flat_map(|(_, p)| p.obsolete.iter().cloned()).collect();
    obsolete.sort();
    obsolete.dedup();
    if !obsolete.is_empty() {
        subrequests.push(requests::delete(&session.identity, &obsolete));
    }
    session.configs.pushing.set(true);
    let sent = session.client.sequence(&me, subrequests).await;
    session.configs.pushing.set(false);
    let results = match sent {
        Ok(results) => results,
        Err(e) => {
            failed(session);
            return Err(e);
        }
    };
    let mut next = results.iter();
    let mut all = true;
    for (kind, push) in &taken {
        let namespace = Namespace(kind.namespace());
        let hashes: Vec<String> = push
            .blobs
            .iter()
            .filter_map(|blob| {
                let result = next.next().filter(|r| r.is_success())?;
                let replied = StoreReply::parse(&result.body_bytes()).ok();
                let hash = replied.as_ref().and_then(StoreReply::stored_hash).map(str::to_owned);
                Some(hash.unwrap_or_else(|| crypto_core::storage::message_hash(&me.to_bytes(), namespace, blob)))
            })
            .collect();
        if hashes.len() == push.blobs.len() {
            with(session, *kind, |c| c.confirm_pushed(push, &hashes));
            session.kept(save(session, *kind).await);
        } else {
            all = false;
        }
    }
    if all {
        session.configs.push_failures.set(0);
        session.configs.push_after.set(0);
        Ok(true)
    } else {
        failed(session);
        Err(Failure::Rejected { status: 0, body: "a config store was refused".into() })
    }
}

/// A push failed: the next waits longer (doubling from 2 s up to [`PUSH_BACKOFF_MAX_MS`]).
fn failed<P: Platform>(session: &Session<P>) {
    let failures = session.configs.push_failures.get().saturating_add(1);
    session.configs.push_failures.set(failures);
    let wait = 1_000u64.saturating_mul(1 << failures.min(10)).min(PUSH_BACKOFF_MAX_MS);
    session.configs.push_after.set(session.client.now().saturating_add(wait));
}

/// Pulls the config namespaces now (all of them, from one swarm member), merges and applies
/// them, and says what the account's configs hold. A restore calls it before asking anything.
pub(crate) async fn pull<P: Platform>(session: &Session<P>) -> Result<Restored, Failure> {
    load(session).await;
    let (polled, _) = session.client.poll_batch(&session.identity, &CONFIG_NAMESPACES, &[]).await?;
    receive(session, &polled).await;
    session.kept(session.client.persist(&session.vault).await);
    Ok(state(session, true))
}

/// What the configs hold now.
pub(crate) fn state<P: Platform>(session: &Session<P>, reached: bool) -> Restored {
    let display_name =
        with(session, ConfigKind::UserProfile, |c| c.profile().name()).flatten().and_then(|n| text::name(&n));
    let contacts = with(session, ConfigKind::Contacts, |c| c.contacts().len()).unwrap_or(0);
    Restored { reached, display_name, contacts }
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;
    use rand_core::OsRng;

    use super::*;
    use crate::testing::offline_session;

    #[test]
    fn configs_survive_in_the_vault_with_their_unpushed_edits() {
        let s = offline_session();
        let bob = crypto_core::identity::Identity::generate(&mut OsRng).session_id();
        block_on(async {
            set_name(&s, "Alice").await;
            contact(&s, &bob, |c| c.nickname = "Bobby".into()).await;
            read(&s, &bob).await;
            *s.configs.loaded.borrow_mut() = None;
            load(&s).await;
            assert_eq!(state(&s, false).display_name.as_deref(), Some("Alice"));
            let nick = with(&s, ConfigKind::Contacts, |c| c.contacts().get(&bob).map(|c| c.nickname)).flatten();
            assert_eq!(nick.as_deref(), Some("Bobby"));
            assert!(read_elsewhere(&s, &bob, 1), "read up to now");
            assert!(with(&s, ConfigKind::UserProfile, UserConfig::needs_push).unwrap_or(false));
            let printed = format!("{:?}", s.configs.loaded.borrow());
            assert!(!printed.contains("Alice") && !printed.contains("Bobby"), "{printed}");
        });
    }

    #[test]
    fn conversations_from_before_config_sync_become_contacts_once() {
        let s = offline_session();
        let (bob, carol, dave) = (
            crypto_core::identity::Identity::generate(&mut OsRng).session_id(),
            crypto_core::identity::Identity::generate(&mut OsRng).session_id(),
            crypto_core::identity::Identity::generate(&mut OsRng).session_id(),
        );
        block_on(async {
            let mut b = Conversation::new(&bob, Standing::Accepted);
            b.nickname = Some("Bobby".into());
            b.pinned = true;
            conversations::save(&s.vault, &b).await.unwrap();
            conversations::save(&s.vault, &Conversation::new(&carol, Standing::Blocked)).await.unwrap();
            conversations::save(&s.vault, &Conversation::new(&dave, Standing::Request)).await.unwrap();
            seed_contacts(&s).await;
            let get = |id| with(&s, ConfigKind::Contacts, |c| c.contacts().get(id)).flatten();
            let b = get(&bob).unwrap();
            assert_eq!((b.approved, b.blocked, b.nickname.as_str(), b.priority), (true, false, "Bobby", 1));
            assert!(get(&carol).unwrap().blocked);
            assert!(get(&dave).is_none(), "a request is no contact");
            conversations::save(&s.vault, &Conversation::new(&dave, Standing::Accepted)).await.unwrap();
            seed_contacts(&s).await;
            assert!(get(&dave).is_none(), "once");
        });
    }

    /// A contact's change sets what the config speaks of and nothing else: the mute, unread count,
    /// preview and disappearing setting kept here stay.
    #[test]
    fn applying_a_contact_keeps_what_the_config_does_not_speak_of() {
        let s = offline_session();
        let bob = crypto_core::identity::Identity::generate(&mut OsRng).session_id();
        block_on(async {
            let mut c = Conversation::new(&bob, Standing::Request);
            c.muted = true;
            c.unread = 3;
            c.preview = "hello".into();
            c.name = Some("Bob".into());
            c.disappearing = Some(Disappearing::AfterRead(300));
            conversations::save(&s.vault, &c).await.unwrap();
            let mut contact = Contact::new(bob);
            contact.approved = true;
            contact.nickname = "Bobby".into();
            contact.name = "Robert".into();
            assert!(apply_contact(&s, &contact, None).await);
            let after = conversations::conversation(&s.vault, &bob).await.unwrap().unwrap();
            assert_eq!((after.standing, after.nickname.as_deref()), (Standing::Accepted, Some("Bobby")));
            assert_eq!(after.name.as_deref(), Some("Bob"), "the name their messages carry stays");
            assert_eq!((after.muted, after.unread, after.preview.as_str()), (true, 3, "hello"));
            assert_eq!(after.disappearing, Some(Disappearing::AfterRead(300)), "the config says nothing of it");
            assert!(!apply_contact(&s, &contact, None).await, "the same again changes nothing");
        });
    }

    #[test]
    fn deleting_hides_a_contact_and_drops_its_read_state() {
        let s = offline_session();
        let bob = crypto_core::identity::Identity::generate(&mut OsRng).session_id();
        block_on(async {
            contact(&s, &bob, |c| c.approved = true).await;
            read(&s, &bob).await;
            deleted(&s, &bob).await;
            let hidden = with(&s, ConfigKind::Contacts, |c| c.contacts().get(&bob).map(|c| c.is_hidden())).flatten();
            assert_eq!(hidden, Some(true));
            assert!(!read_elsewhere(&s, &bob, 1));
        });
    }
}
