//! The conversation screens' glue: each function asks the engine and shows what it answers in
//! the app's signals. Sending, replies, reactions, deleting, disappearing messages, delivery,
//! requests and blocking are the engine's (`hush_client`); nothing here decides anything.

use crypto_core::identity::SessionId;
use hush_client::conversations::{Disappearing, Message};
use hush_client::{Error, NewFile};
use leptos::prelude::*;
use zeroize::Zeroizing;

use crate::session::{AppState, PAGE, unlocked};

/// Loads the last `count` messages of `peer` into the open-conversation view.
async fn show(app: AppState, peer: SessionId, count: usize) -> Result<(), Error> {
    let (messages, older) = unlocked(app)?.history(&peer, count).await?;
    // The person may have moved on while the vault was read.
    if app.open_peer.get_untracked() == Some(peer) {
        app.has_older.set(older);
        app.messages.set(messages);
    }
    Ok(())
}

/// Opens the conversation with `peer` and marks it read.
pub async fn open(app: AppState, peer: SessionId) -> Result<(), Error> {
    let engine = unlocked(app)?;
    app.messages.set(Vec::new());
    app.has_older.set(false);
    app.open_peer.set(Some(peer));
    engine.set_viewing(Some(peer));
    app.shown_count.set(PAGE);
    engine.mark_read(&peer).await?;
    show(app, peer, PAGE).await
}

/// Shows older messages of the open conversation.
pub async fn older(app: AppState) -> Result<(), Error> {
    let Some(peer) = app.open_peer.get_untracked() else { return Ok(()) };
    let count = app.shown_count.get_untracked() + PAGE;
    app.shown_count.set(count);
    show(app, peer, count).await
}

/// Sends `text` to `peer`; returns once it is safe in the outbox (delivery goes on in the
/// background and shows through the engine's events).
pub async fn send(app: AppState, peer: SessionId, text: &str) -> Result<Message, Error> {
    unlocked(app)?.send(&peer, text).await
}

/// Sends `text` to `peer` as a reply to the message `reply_to` (an id), which it quotes.
pub async fn send_reply(app: AppState, peer: SessionId, text: &str, reply_to: &str) -> Result<Message, Error> {
    unlocked(app)?.send_reply(&peer, text, reply_to).await
}

/// Sends `files` to `peer` with `text` as their caption and, with `reply_to`, as a reply; returns
/// once the files and the message are safe in the vault (uploading and delivery go on in the
/// background and show through the engine's events).
pub async fn send_files(
    app: AppState,
    peer: SessionId,
    text: &str,
    reply_to: Option<&str>,
    files: Vec<NewFile>,
) -> Result<Message, Error> {
    unlocked(app)?.send_files(&peer, text, reply_to, files).await
}

/// The bytes of the file `index` of the message `id`: from the vault, or downloaded and checked
/// first.
pub async fn file(app: AppState, id: &str, index: usize) -> Result<Zeroizing<Vec<u8>>, Error> {
    unlocked(app)?.file(id, index).await
}

/// Adds (`on`) or removes this account's reaction `emoji` to the message `id`.
pub async fn react(app: AppState, id: &str, emoji: &str, on: bool) -> Result<(), Error> {
    unlocked(app)?.react(id, emoji, on).await.map(drop)
}

/// The reactions to offer first (the recent ones, then the defaults).
pub fn quick_reactions(app: AppState) -> Vec<String> {
    app.account().map(|a| a.quick_reactions()).unwrap_or_default()
}

/// Deletes the message `id` from this device; the engine's `Removed` event takes it off the
/// screen.
pub async fn delete_for_me(app: AppState, id: &str) -> Result<(), Error> {
    unlocked(app)?.delete_for_me(id).await
}

/// Deletes this account's message `id` for everyone; it stays as the "deleted" marker.
pub async fn delete_for_everyone(app: AppState, id: &str) -> Result<(), Error> {
    unlocked(app)?.delete_for_everyone(id).await.map(drop)
}

/// Sets how this account's messages to `peer` disappear (none: they stay).
pub async fn set_disappearing(app: AppState, peer: SessionId, setting: Option<Disappearing>) -> Result<(), Error> {
    unlocked(app)?.set_disappearing(&peer, setting).await.map(drop)
}

/// Tells `peer` that this account is typing (`typing`) or stopped (the engine decides whether
/// and how often anything is sent).
pub async fn typing(app: AppState, peer: SessionId, typing: bool) {
    if let Ok(engine) = unlocked(app) {
        engine.typing(&peer, typing).await;
    }
}

/// Loads older messages of the open conversation until the message `id`, sent at `timestamp`,
/// is among those shown, or no older one can be; returns whether it is shown.
pub async fn reveal(app: AppState, id: &str, timestamp: u64) -> Result<bool, Error> {
    loop {
        let (shown, oldest) =
            app.messages.with_untracked(|list| (list.iter().any(|m| m.id == id), list.first().map(|m| m.timestamp)));
        if shown {
            return Ok(true);
        }
        // History is in time order: nothing older than what is loaded can be it once the loaded
        // history reaches back past its time.
        if !app.has_older.get_untracked() || oldest.is_some_and(|t| t < timestamp) {
            return Ok(false);
        }
        older(app).await?;
    }
}

/// Tries a failed message again at once.
pub async fn retry(app: AppState, id: &str) -> Result<(), Error> {
    unlocked(app)?.retry(id).await.map(drop)
}

/// Accepts the message request of `peer`.
pub async fn accept(app: AppState, peer: SessionId) -> Result<(), Error> {
    unlocked(app)?.accept(&peer).await
}

/// Blocks `peer`.
pub async fn block(app: AppState, peer: SessionId) -> Result<(), Error> {
    unlocked(app)?.block(&peer).await
}

/// Unblocks `peer`.
pub async fn unblock(app: AppState, peer: SessionId) -> Result<(), Error> {
    unlocked(app)?.unblock(&peer).await
}

/// Deletes the conversation with `peer` from this device.
pub async fn delete(app: AppState, peer: SessionId) -> Result<(), Error> {
    unlocked(app)?.delete_conversation(&peer).await?;
    if app.open_peer.get_untracked() == Some(peer) {
        app.messages.set(Vec::new());
        app.has_older.set(false);
    }
    Ok(())
}

/// Whether `peer` accepted this account's message request.
pub async fn approved_me(app: AppState, peer: SessionId) -> bool {
    match unlocked(app) {
        Ok(engine) => engine.approved_me(&peer).await,
        Err(_) => false,
    }
}

/// The draft kept for `peer`.
pub async fn draft(app: AppState, peer: SessionId) -> String {
    match unlocked(app) {
        Ok(engine) => engine.draft(&peer).await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Keeps `text` as the draft for `peer`.
pub async fn keep_draft(app: AppState, peer: SessionId, text: &str) -> Result<(), Error> {
    unlocked(app)?.set_draft(&peer, text).await
}
