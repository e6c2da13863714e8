//! The commands that work on an unlocked account: `id`, `conversations`, `send`, `save`,
//! `avatar`, `accept` and `inbox`.
//!
//! "New" messages, for `inbox`, are the incoming messages the engine filed as unread that `inbox`
//! has not printed yet: it prints them, remembers their ids (sealed in the vault, per
//! conversation, at most the latest [`WINDOW`] more than the unread count), and marks the
//! conversation read. So a message filed while `send` or `accept` ran is printed by the next
//! `inbox`, once, and messages delivered out of order are all printed.

use std::collections::HashSet;
use std::future::Future;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use crypto_core::identity::SessionId;
use futures::StreamExt;
use hush_client::conversations::{Message, Standing, Status, short_id};
use hush_client::network::Connection;
use hush_client::platform::native::SqliteBackend;
use hush_client::storage::{Vault, stores};
use hush_client::{Engine, Event, NewFile};
use serde::Serialize;

use crate::account::{Opened, RouteChoice, records};
use crate::error::Failure;
use crate::net::connect;
use crate::platform::Cli;

/// How many messages before the unread ones `inbox` looks at in a conversation (messages that
/// arrive late, with an older timestamp than ones already shown).
const WINDOW: usize = 1000;
/// How long `inbox` waits for its poll.
const POLL_DEADLINE: Duration = Duration::from_secs(60);
/// How often the outbox record is looked at while waiting for a control message to leave.
const OUTBOX_CHECK: Duration = Duration::from_millis(250);

/// What a write to stdout returns: a closed pipe ends the command quietly.
#[derive(Debug)]
pub enum Printed {
    /// Everything was written.
    Done,
    /// The reader went away.
    Closed,
}

fn print(line: &str) -> Printed {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{line}").and_then(|()| out.flush()) {
        Ok(()) => Printed::Done,
        Err(_) => Printed::Closed,
    }
}

/// `id`: the Session ID.
pub fn id(opened: &Opened) -> Result<(), Failure> {
    let id = opened.engine.session_id().ok_or(Failure::Engine(hush_client::Error::Locked))?;
    print(&id.to_string());
    Ok(())
}

fn standing(s: Standing) -> &'static str {
    match s {
        Standing::Accepted => "accepted",
        Standing::Request => "request",
        Standing::Blocked => "blocked",
    }
}

#[derive(Serialize)]
struct ConversationLine<'a> {
    peer: String,
    name: Option<&'a str>,
    standing: &'static str,
    unread: u32,
    last_activity: u64,
    preview: &'a str,
}

/// `conversations`: every conversation, most recent first (blocked ones last).
pub async fn conversations(opened: &Opened, json: bool) -> Result<(), Failure> {
    for c in opened.engine.conversations().await? {
        let line = if json {
            serde_json::to_string(&ConversationLine {
                peer: c.peer.to_string(),
                name: c.name.as_deref(),
                standing: standing(c.standing),
                unread: c.unread,
                last_activity: c.last_activity,
                preview: &c.preview,
            })
            .unwrap_or_default()
        } else {
            format!("{}  {:<8}  {:>3} new  {}: {}", c.peer, standing(c.standing), c.unread, c.title(), c.preview)
        };
        if let Printed::Closed = print(&line) {
            break;
        }
    }
    Ok(())
}

/// Whether the outbox still holds something for `peer` of the kind `prefix` (`ctl`: control
/// messages such as a request's acceptance; `out`: messages).
async fn in_outbox(vault: &Vault<&SqliteBackend>, prefix: &str, peer: &SessionId) -> Result<bool, Failure> {
    let ids: Vec<String> = vault.read(stores::ACCOUNT, b"outbox").await?.found().unwrap_or_default();
    let start = format!("{prefix}/{peer}/");
    Ok(ids.iter().any(|id| id.starts_with(&start)))
}

/// Waits until the outbox holds no control message for `peer`.
async fn control_delivered(vault: &Vault<&SqliteBackend>, peer: &SessionId) -> Result<(), Failure> {
    while in_outbox(vault, "ctl", peer).await? {
        tokio::time::sleep(OUTBOX_CHECK).await;
    }
    Ok(())
}

/// Resolves when the engine refuses its relay (its node list is no longer the network's).
async fn relay_refused(engine: &Engine<Cli>) -> Failure {
    loop {
        if let Some(status) = engine.net_status()
            && status.connection == Connection::RelayRefused
        {
            return Failure::RelayRefused(status.problem().unwrap_or_default());
        }
        tokio::time::sleep(OUTBOX_CHECK).await;
    }
}

/// Runs `work` while the engine runs (polling and delivering), with a deadline; ends at once if
/// the relay is refused meanwhile.
async fn while_running<T>(
    engine: &Engine<Cli>,
    deadline: Duration,
    what: &'static str,
    work: impl Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    tokio::select! {
        () = engine.run() => Err(Failure::Engine(hush_client::Error::Locked)),
        refused = relay_refused(engine) => Err(refused),
        done = tokio::time::timeout(deadline, work) => {
            done.unwrap_or(Err(Failure::TimedOut { seconds: deadline.as_secs(), what }))
        }
    }
}

/// `send`: puts the message in the outbox, then runs the engine until it is stored in the
/// recipient's swarm (and, when the reply accepts a message request, until that acceptance left
/// too), it fails its rounds, or the deadline passes.
pub async fn send(
    opened: &Opened,
    choice: &RouteChoice,
    peer: &SessionId,
    text: &str,
    files: Vec<NewFile>,
    deadline: Duration,
) -> Result<(), Failure> {
    connect(opened, choice).await?;
    let engine = &opened.engine;
    let (events_tx, mut events) = futures::channel::mpsc::unbounded();
    engine.on_event(move |event| {
        let _ = events_tx.unbounded_send(event);
    });
    let vault = records(engine).await?;
    let sent = if files.is_empty() {
        engine.send(peer, text).await?
    } else {
        engine.send_files(peer, text, None, files).await?
    };
    while_running(engine, deadline, "the message", async {
        while let Some(event) = events.next().await {
            let Event::Message { message, .. } = event else { continue };
            if message.id != sent.id {
                continue;
            }
            match message.status {
                Status::Sending => {}
                Status::Sent => return control_delivered(&vault, peer).await,
                Status::Deleted => return Err(Failure::Engine(hush_client::Error::MessageGone)),
                Status::Failed => {
                    let kept = in_outbox(&vault, "out", peer).await.unwrap_or(true);
                    return Err(Failure::NotSent { problem: message.problem.unwrap_or_default(), kept });
                }
            }
        }
        Err(Failure::Engine(hush_client::Error::Locked))
    })
    .await
}

/// `accept`: accepts the message request of `peer` and runs the engine until the acceptance is
/// stored in their swarm, or the deadline passes.
pub async fn accept(
    opened: &Opened,
    choice: &RouteChoice,
    peer: &SessionId,
    deadline: Duration,
) -> Result<(), Failure> {
    connect(opened, choice).await?;
    let engine = &opened.engine;
    let vault = records(engine).await?;
    engine.accept(peer).await?;
    while_running(engine, deadline, "the acceptance", control_delivered(&vault, peer)).await
}

#[derive(Serialize)]
struct MessageLine<'a> {
    from: String,
    text: &'a str,
    timestamp: u64,
    hash: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    files: Vec<FileLine<'a>>,
}

/// A message's file, as `inbox --json` prints it.
#[derive(Serialize)]
struct FileLine<'a> {
    name: Option<&'a str>,
    content_type: &'a str,
    size: u64,
    kind: &'static str,
}

/// The files of `paths`, read whole, with their names and MIME types (from the extension).
pub fn read_files(paths: &[PathBuf]) -> Result<Vec<NewFile>, Failure> {
    paths
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path)
                .map_err(|e| Failure::Folder { what: format!("read {}", path.display()), error: e })?;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let extension = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
            Ok(NewFile {
                file_name: name,
                content_type: content_type(&extension).to_owned(),
                bytes: bytes.into(),
                width: None,
                height: None,
                voice: false,
            })
        })
        .collect()
}

/// The MIME type of a file extension (`application/octet-stream` when unknown).
fn content_type(extension: &str) -> &'static str {
    match extension {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "mp3" => "audio/mpeg",
        "m4a" | "mp4a" => "audio/mp4",
        "mp4" => "video/mp4",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// `avatar`: sets the profile picture (uploaded, encrypted, through an onion path), or removes it.
pub async fn avatar(opened: &Opened, choice: &RouteChoice, picture: Option<&[u8]>) -> Result<(), Failure> {
    connect(opened, choice).await?;
    match picture {
        Some(bytes) => opened.engine.set_avatar(bytes).await?,
        None => opened.engine.remove_avatar().await?,
    }
    Ok(())
}

/// `avatar --of`: writes the profile picture of `peer` to `to` (never over an existing file).
pub async fn save_avatar(
    opened: &Opened,
    choice: &RouteChoice,
    peer: &SessionId,
    to: &std::path::Path,
) -> Result<(), Failure> {
    connect(opened, choice).await?;
    let bytes = opened.engine.avatar(Some(peer)).await?.ok_or(Failure::NoPicture)?;
    write_new(to, &bytes)
}

/// Writes `bytes` to a new file `to`.
fn write_new(to: &std::path::Path, bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(|e| Failure::Folder { what: format!("create {}", to.display()), error: e })?;
    out.write_all(bytes).map_err(|e| Failure::Folder { what: format!("write {}", to.display()), error: e })
}

/// `save`: writes file `index` of the message `message` to `to` (never over an existing file).
pub async fn save(
    opened: &Opened,
    choice: &RouteChoice,
    message: &str,
    index: usize,
    to: &std::path::Path,
) -> Result<(), Failure> {
    connect(opened, choice).await?;
    let id = if message.starts_with("in/") || message.starts_with("out/") {
        message.to_owned()
    } else {
        format!("in/{message}")
    };
    let bytes = opened.engine.file(&id, index).await?;
    write_new(to, &bytes)
}

fn known_id(peer: &SessionId) -> Vec<u8> {
    format!("cli/inbox-shown/{peer}").into_bytes()
}

/// Prints the new incoming messages (oldest first), then remembers them and marks their
/// conversations read. Returns whether stdout is still open.
async fn print_new(engine: &Engine<Cli>, vault: &Vault<&SqliteBackend>, json: bool) -> Result<Printed, Failure> {
    let mut new: Vec<Message> = Vec::new();
    let mut seen: Vec<(SessionId, Vec<String>)> = Vec::new();
    for c in engine.conversations().await? {
        if c.unread == 0 || c.standing == Standing::Blocked {
            continue;
        }
        let (history, _) = engine.history(&c.peer, (c.unread as usize).saturating_add(WINDOW)).await?;
        let known: HashSet<String> = vault
            .read::<Vec<String>>(stores::ACCOUNT, &known_id(&c.peer))
            .await?
            .found()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let incoming: Vec<Message> = history.into_iter().filter(|m| !m.outgoing).collect();
        new.extend(incoming.iter().filter(|m| !known.contains(&m.id)).cloned());
        seen.push((c.peer, incoming.into_iter().map(|m| m.id).collect()));
    }
    new.sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));
    for m in &new {
        let text = m.shown_text();
        let line = if json {
            serde_json::to_string(&MessageLine {
                from: m.peer.to_string(),
                text: &text,
                timestamp: m.timestamp,
                hash: m.id.strip_prefix("in/").unwrap_or(&m.id),
                files: m
                    .attachments
                    .iter()
                    .map(|a| FileLine {
                        name: a.file_name.as_deref(),
                        content_type: &a.content_type,
                        size: a.size,
                        kind: a.kind().as_str(),
                    })
                    .collect(),
            })
            .unwrap_or_default()
        } else {
            let name = m.sender_name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| short_id(&m.peer));
            let files: String = m
                .attachments
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let file = a.file_name.as_deref().unwrap_or(&a.content_type);
                    format!(" [file {i}: {file}, {} MB]", hush_client::megabytes(a.size))
                })
                .collect();
            format!("{name} ({}): {text}{files}", m.peer)
        };
        if let Printed::Closed = print(&line) {
            return Ok(Printed::Closed);
        }
    }
    for (peer, ids) in seen {
        vault.write(stores::ACCOUNT, &known_id(&peer), &ids).await?;
        engine.mark_read(&peer).await?;
    }
    Ok(Printed::Done)
}

/// `inbox`: polls once (or, with `follow`, keeps polling until interrupted) and prints the new
/// incoming messages.
pub async fn inbox(opened: &mut Opened, choice: &RouteChoice, follow: bool, json: bool) -> Result<(), Failure> {
    connect(opened, choice).await?;
    let Opened { engine, polls, .. } = opened;
    let vault = records(engine).await?;
    if !follow {
        let polled = tokio::select! {
            () = engine.run() => false,
            polled = tokio::time::timeout(POLL_DEADLINE, polls.next()) => polled.is_ok(),
        };
        let status = engine.net_status();
        print_new(engine, &vault, json).await?;
        return match status {
            Some(s) if polled && s.connection == Connection::Connected => Ok(()),
            Some(s) if polled => {
                Err(Failure::NotChecked(s.problem().unwrap_or_else(|| s.connection.label().to_owned())))
            }
            _ => Err(Failure::NotChecked(format!("no answer within {} s", POLL_DEADLINE.as_secs()))),
        };
    }
    let mut problem: Option<String> = None;
    let watching = async {
        while polls.next().await.is_some() {
            let now = engine.net_status().and_then(|s| s.problem());
            if now != problem {
                if let Some(p) = &now {
                    eprintln!("hush: {}", Failure::NotChecked(p.clone()));
                }
                problem = now;
            }
            if let Printed::Closed = print_new(engine, &vault, json).await? {
                return Ok(());
            }
        }
        Ok(())
    };
    tokio::select! {
        () = engine.run() => Err(Failure::Engine(hush_client::Error::Locked)),
        refused = relay_refused(engine) => Err(refused),
        done = watching => done,
        () = interrupted() => Ok(()),
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
