//! The community screens' glue: each function asks the engine and puts what it answers into the
//! app's signals (the joined rooms, the open room's messages). Joining, reading, posting,
//! reactions, edits, deletions and blinded DMs are the engine's (`hush_client::communities`);
//! nothing here decides anything.

use hush_client::communities::{Community, RoomMessage};
use hush_client::conversations::Conversation;
use hush_client::{Error, NewFile};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::session::{AppState, ROOM_PAGE, Screen, refresh_communities, reread_room, unlocked};

/// Joins the room at `url` (a community URL as pasted) and opens it.
pub async fn join(app: AppState, url: &str) -> Result<Community, Error> {
    let room = unlocked(app)?.join_community(url).await?;
    refresh_communities(app);
    open(app, room.url.clone()).await?;
    Ok(room)
}

/// Opens the room `room` (its URL): the newest page of its messages, its unread count cleared
/// and its server polled at once (the engine's `open_room`).
pub async fn open(app: AppState, room: String) -> Result<(), Error> {
    let engine = unlocked(app)?;
    app.open_peer.set(None);
    app.room_messages.set(Vec::new());
    app.room_has_older.set(false);
    app.open_room.set(Some(room.clone()));
    app.go(Screen::Room);
    reread_room(app, &room).await?;
    engine.open_room(Some(&room)).await
}

/// Leaves the open room's screen (the room stays joined).
pub fn close(app: AppState) {
    app.open_room.set(None);
    app.room_messages.set(Vec::new());
    if let Ok(engine) = unlocked(app) {
        spawn_local(async move {
            let _ = engine.open_room(None).await;
        });
    }
}

/// Shows a page of older messages of the open room.
pub async fn older(app: AppState) -> Result<(), Error> {
    let Some(room) = app.open_room.get_untracked() else { return Ok(()) };
    let oldest = app.room_messages.with_untracked(|list| list.first().map(|m| m.id));
    let (mut page, older) = unlocked(app)?.room_messages(&room, oldest, ROOM_PAGE).await?;
    if app.open_room.get_untracked().as_deref() == Some(room.as_str()) {
        app.room_messages.update(|list| {
            page.retain(|m| !list.iter().any(|x| x.id == m.id));
            page.append(list);
            *list = page;
        });
        app.room_has_older.set(older);
    }
    Ok(())
}

/// Leaves the room `room`: it and its messages leave this device.
pub async fn leave(app: AppState, room: &str) -> Result<(), Error> {
    unlocked(app)?.leave_community(room).await?;
    if app.open_room.get_untracked().as_deref() == Some(room) {
        close(app);
        app.go(Screen::Home);
    }
    Ok(())
}

/// Puts `message` (as the engine answered it) in place of its old self in the open room.
fn replace(app: AppState, message: RoomMessage) {
    if app.open_room.get_untracked().as_deref() != Some(message.room.as_str()) {
        return;
    }
    app.room_messages.update(|list| match list.iter_mut().find(|m| m.id == message.id) {
        Some(old) => *old = message,
        None => {
            list.push(message);
            list.sort_by_key(|m| m.id);
        }
    });
}

/// Posts `text` (with `reply_to` as a reply) and, with `files`, the files, to `room`.
pub async fn post(
    app: AppState,
    room: &str,
    text: &str,
    reply_to: Option<u64>,
    files: Vec<NewFile>,
) -> Result<(), Error> {
    let engine = unlocked(app)?;
    let posted = if files.is_empty() {
        engine.post(room, text, reply_to).await?
    } else {
        engine.post_files(room, text, reply_to, files).await?
    };
    replace(app, posted);
    // The room's last post is now this one.
    refresh_communities(app);
    Ok(())
}

/// Adds (`on`) or removes this account's reaction `emoji` to the message `id` of `room`.
pub async fn react(app: AppState, room: &str, id: u64, emoji: &str, on: bool) -> Result<(), Error> {
    let message = unlocked(app)?.room_react(room, id, emoji, on).await?;
    replace(app, message);
    Ok(())
}

/// Replaces the text of this account's message `id`.
pub async fn edit(app: AppState, room: &str, id: u64, text: &str) -> Result<(), Error> {
    let message = unlocked(app)?.room_edit(room, id, text).await?;
    replace(app, message);
    Ok(())
}

/// Deletes the message `id` of `room` (one's own, or anyone's for a moderator).
pub async fn delete(app: AppState, room: &str, id: u64) -> Result<(), Error> {
    unlocked(app)?.room_delete(room, id).await?;
    app.room_messages.update(|list| list.retain(|m| m.id != id));
    Ok(())
}

/// The bytes of the room file `id`.
pub async fn file(app: AppState, room: &str, id: u64) -> Result<Vec<u8>, Error> {
    unlocked(app)?.room_file(room, id).await
}

/// Pins (`on`) or unpins the message `id` of `room` (admins only) and reads the joined rooms again.
pub async fn pin(app: AppState, room: &str, id: u64, on: bool) -> Result<(), Error> {
    unlocked(app)?.room_pin(room, id, on).await?;
    refresh_communities(app);
    Ok(())
}

/// Sets the picture of `room` (its URL; admins only) and reads the joined rooms again.
pub async fn set_picture(app: AppState, room: &str, picture: NewFile) -> Result<(), Error> {
    unlocked(app)?.set_room_image(room, picture).await?;
    refresh_communities(app);
    Ok(())
}

/// Invites each of `peers` to `room` (its URL), one message each: how many were sent, and the
/// first error (the others are still tried).
pub async fn invite(app: AppState, room: &str, peers: &[crypto_core::identity::SessionId]) -> (usize, Option<Error>) {
    let engine = match unlocked(app) {
        Ok(engine) => engine,
        Err(e) => return (0, Some(e)),
    };
    let (mut sent, mut first) = (0, None);
    for peer in peers {
        match engine.invite_to_community(peer, room).await {
            Ok(_) => sent += 1,
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    (sent, first)
}

/// Opens a direct message with the member `member` of `room` (through the server's inbox).
pub async fn message_member(
    app: AppState,
    room: &str,
    member: &crypto_core::identity::SessionId,
) -> Result<Conversation, Error> {
    unlocked(app)?.message_member(room, member).await
}
