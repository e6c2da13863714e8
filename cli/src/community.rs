//! `hush community …`: joining a community room by its URL, listing the rooms joined, reading a
//! room and posting to it — the engine's communities, every request through an onion path.
//!
//! A room is named by its URL, or by its token (`lobby`) when one joined room has it.

use std::io::Write as _;

use clap::Subcommand;
use hush_client::communities::{Community, RoomMessage};
use serde::Serialize;

use crate::account::{Opened, RouteChoice};
use crate::error::Failure;
use crate::net::connect;

/// What `hush community` does.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Joins the room at URL (`http[s]://host[:port]/room?public_key=<64 hex>`) and prints its
    /// URL and name.
    Join {
        /// The room's URL.
        url: String,
    },
    /// Lists the rooms joined: URL, unread count, name.
    List {
        /// One JSON object per line: {"url","name","unread","me"}.
        #[arg(long)]
        json: bool,
    },
    /// Posts TEXT to ROOM (its URL, or its token) and prints the post's id.
    Post {
        /// The room: its URL, or its token when one joined room has it.
        room: String,
        /// The message.
        text: String,
        /// The id of a message of the room to reply to.
        #[arg(long, value_name = "ID")]
        reply_to: Option<u64>,
    },
    /// Prints ROOM's latest messages (after polling it), oldest first.
    Read {
        /// The room: its URL, or its token when one joined room has it.
        room: String,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// One JSON object per line: {"id","from","name","text","posted","moderator"}.
        #[arg(long)]
        json: bool,
    },
    /// Leaves ROOM: it and its messages leave this device.
    Leave {
        /// The room: its URL, or its token when one joined room has it.
        room: String,
    },
}

#[derive(Serialize)]
struct RoomLine<'a> {
    url: &'a str,
    name: &'a str,
    unread: u32,
    me: String,
}

#[derive(Serialize)]
struct MessageLine<'a> {
    id: u64,
    from: String,
    name: Option<&'a str>,
    text: &'a str,
    posted: u64,
    moderator: bool,
}

fn print(line: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe ends the output quietly.
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// The joined room `room` names: a URL as it is, a token when one joined room has it.
async fn resolve(opened: &Opened, room: &str) -> Result<String, Failure> {
    if room.contains("://") {
        return Ok(room.to_owned());
    }
    let joined: Vec<Community> = opened.engine.communities().await?;
    let mut matching = joined.into_iter().filter(|c| c.token == room);
    match (matching.next(), matching.next()) {
        (Some(c), None) => Ok(c.url),
        _ => Err(Failure::Engine(hush_client::Error::NotJoined)),
    }
}

/// Runs `hush community ACTION`.
pub async fn run(opened: &Opened, choice: &RouteChoice, action: Action) -> Result<(), Failure> {
    match action {
        Action::List { json } => {
            for c in opened.engine.communities().await? {
                let line = if json {
                    serde_json::to_string(&RoomLine {
                        url: &c.url,
                        name: &c.name,
                        unread: c.unread,
                        me: c.me.to_string(),
                    })
                    .unwrap_or_default()
                } else {
                    format!("{}  {:>3} new  {}", c.url, c.unread, c.name)
                };
                print(&line);
            }
            return Ok(());
        }
        Action::Leave { room } => {
            let url = resolve(opened, &room).await?;
            return Ok(opened.engine.leave_community(&url).await?);
        }
        _ => {}
    }
    connect(opened, choice).await?;
    match action {
        Action::Join { url } => {
            let room = opened.engine.join_community(&url).await?;
            print(&format!("{}  {}", room.url, room.name));
        }
        Action::Post { room, text, reply_to } => {
            let url = resolve(opened, &room).await?;
            let posted = opened.engine.post(&url, &text, reply_to).await?;
            print(&posted.id.to_string());
        }
        Action::Read { room, limit, json } => {
            let url = resolve(opened, &room).await?;
            opened.engine.open_room(Some(&url)).await?;
            let (messages, _) = opened.engine.room_messages(&url, None, limit).await?;
            for m in &messages {
                print(&message_line(m, json));
            }
        }
        Action::List { .. } | Action::Leave { .. } => {}
    }
    Ok(())
}

fn message_line(m: &RoomMessage, json: bool) -> String {
    if json {
        let line = MessageLine {
            id: m.id,
            from: m.sender.to_string(),
            name: m.sender_name.as_deref(),
            text: &m.body,
            posted: m.posted,
            moderator: m.moderator,
        };
        return serde_json::to_string(&line).unwrap_or_default();
    }
    let badge = if m.moderator { " (moderator)" } else { "" };
    let name = m.sender_name.clone().unwrap_or_else(|| m.sender.to_string());
    format!("{}  {name}{badge}: {}", m.id, m.body)
}
