//! The conversation screens' glue: each function asks the engine and shows what it answers in
//! the app's signals. Sending, delivery, requests and blocking are the engine's
//! (`hush_client`); nothing here decides anything.

use crypto_core::identity::SessionId;
use hush_client::Error;
use hush_client::conversations::Message;
use leptos::prelude::*;

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
