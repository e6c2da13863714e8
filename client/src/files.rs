//! Files through the file server: uploading an outgoing message's attachments before the message
//! is sealed, and downloading a received one when it is first shown.
//!
//! Every request is a v4 request to the file server, onion-routed: the path's last hop makes the
//! HTTP request, so the file server sees that node, never this device, and the nodes on the way
//! see only encrypted bytes. Files are encrypted here before they leave (the AES-CBC + HMAC scheme
//! Session's clients send; both schemes are read), and checked here before anything is shown: a
//! download whose digest, MAC or key check fails is [`AttachmentState::Damaged`], never shown.

use std::time::Duration;

use crypto_core::attachment::{self, AttachmentKey, FileUrl, MAX_FILE_BYTES};
use crypto_core::onion::{Protocol, ServerTarget, v4};
use rand_core::OsRng;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::attachments::{self, Attachment, AttachmentState, DEFAULT_ED25519, FileServer, KeyBytes};
use crate::conversations::{self, Message};
use crate::error::Error;
use crate::event::Event;
use crate::images;
use crate::network::ClientError;
use crate::platform::{Clock, Platform, Progress};
use crate::session::Session;
use crate::storage::stores;

/// How long one attempt of an upload or a download may take (Session's desktop waits 30 s).
pub const FILE_DEADLINE: Duration = Duration::from_secs(30);
/// How long files stay on the file server when uploaded (14 days, what the server keeps them).
pub const FILE_TTL_S: u64 = 14 * 24 * 60 * 60;

/// A file to send, as the front end gives it.
#[derive(Clone, PartialEq, Eq)]
pub struct NewFile {
    /// Its name.
    pub file_name: String,
    /// Its MIME type.
    pub content_type: String,
    /// Its bytes (already prepared: a picture's metadata stripped, a large one scaled).
    pub bytes: Zeroizing<Vec<u8>>,
    /// A picture's width and height.
    pub width: Option<u32>,
    /// See [`NewFile::width`].
    pub height: Option<u32>,
    /// A voice message.
    pub voice: bool,
}

impl core::fmt::Debug for NewFile {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NewFile")
            .field("content_type", &self.content_type)
            .field("size", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// The server a file URL names: its own key (`#p=`), or Session's server's when it has none.
fn target_of(url: &FileUrl) -> Option<ServerTarget> {
    let x25519 = match url.server_ed25519 {
        Some(_) => url.server_x25519()?,
        None => FileUrl { server_ed25519: Some(DEFAULT_ED25519), ..url.clone() }.server_x25519()?,
    };
    let protocol = if url.scheme == "https" { Protocol::Https } else { Protocol::Http };
    let port = url.port.unwrap_or(if protocol == Protocol::Https { 443 } else { 80 });
    Some(ServerTarget { host: url.host.clone(), target: "/oxen/v4/lsrpc".to_owned(), port, protocol, x25519 })
}

/// Why a file request did not get the file.
#[derive(Debug)]
pub(crate) enum FileError {
    /// The network failed: try again later.
    Network(ClientError),
    /// The server does not have it (404): expired or never there.
    Gone,
    /// The server refused (its status) or answered nonsense.
    Refused(u16),
}

/// Encrypts the files of a new message and keeps, for each, its encrypted bytes in the vault:
/// what the outbox uploads, and afterwards the sender's own copy (opened with the key the message
/// holds when shown; keeping the file itself as well would write it twice). Nothing is kept when
/// any file is over the limit.
pub(crate) async fn prepare<P: Platform>(
    session: &Session<P>,
    message_id: &str,
    files: Vec<NewFile>,
) -> Result<Vec<Attachment>, Error> {
    if let Some(big) = files.iter().find(|f| f.bytes.len() > MAX_FILE_BYTES) {
        return Err(Error::FileTooLarge { size: big.bytes.len() as u64, max: MAX_FILE_BYTES as u64 });
    }
    let mut out = Vec::with_capacity(files.len());
    for (i, mut file) in files.into_iter().enumerate() {
        // A picture goes without its metadata; one that does not parse as its type goes as a file.
        if file.content_type.trim().to_ascii_lowercase().starts_with("image/") {
            match images::strip_metadata(&file.content_type, &file.bytes) {
                Some(clean) => file.bytes = Zeroizing::new(clean),
                None => {
                    file.content_type = "application/octet-stream".to_owned();
                    (file.width, file.height) = (None, None);
                }
            }
        }
        let encrypted = attachment::encrypt_legacy(&mut OsRng, &file.bytes)
            .map_err(|_| Error::FileTooLarge { size: file.bytes.len() as u64, max: MAX_FILE_BYTES as u64 })?;
        let kept = attachments::keep(&session.vault, 'u', message_id, i, &encrypted.data);
        let attachment = Attachment {
            file_name: attachments::file_name(&file.file_name),
            content_type: file.content_type.trim().to_ascii_lowercase(),
            size: file.bytes.len() as u64,
            width: file.width,
            height: file.height,
            voice: file.voice,
            url: None,
            key: KeyBytes::from(encrypted.key.as_bytes()),
            digest: encrypted.digest.map(|d| d.to_vec()),
            upload_len: Some(encrypted.data.len() as u64),
            state: AttachmentState::Uploading,
        };
        out.push(attachment);
        if let Err(e) = kept.await {
            session.kept(attachments::free_all(&session.vault, message_id, &out).await);
            return Err(Error::MessageNotKept(e));
        }
        // The request is built now, while the encrypted bytes are at hand; the one of the file
        // before (if the outbox has not taken it) is let go: it will be read from the vault.
        drop(file);
        let mut request = upload_head(encrypted.data.len());
        request.extend_from_slice(&encrypted.data);
        drop(encrypted);
        request.push(v4::REQUEST_END);
        session.fresh_upload.replace(Some((message_id.to_owned(), i, request)));
    }
    Ok(out)
}

/// The v4 request that uploads `len` bytes: its start, to which the caller appends the bytes and
/// then [`v4::REQUEST_END`] (so a large file is held once).
fn upload_head(len: usize) -> Vec<u8> {
    let meta = json!({
        "method": "POST",
        "endpoint": "/file",
        "headers": {"Content-Type": "application/octet-stream", "X-FS-TTL": FILE_TTL_S.to_string()},
    })
    .to_string();
    v4::request_head(&meta, len)
}

/// Uploads `bytes` to `server`: the file's id there.
pub(crate) async fn upload<P: Platform>(
    session: &Session<P>,
    server: &FileServer,
    bytes: &[u8],
) -> Result<String, FileError> {
    let mut request = upload_head(bytes.len());
    request.extend_from_slice(bytes);
    request.push(v4::REQUEST_END);
    send_upload(session, server, &request, None).await
}

/// Sends the upload `request` (see [`upload_head`]) to `server`, telling `progress` how it goes:
/// the file's id there.
async fn send_upload<P: Platform>(
    session: &Session<P>,
    server: &FileServer,
    request: &[u8],
    progress: Option<Progress<'_>>,
) -> Result<String, FileError> {
    let url = FileUrl::parse(&server.file_url("x")).map_err(|_| FileError::Refused(0))?;
    let target = target_of(&url).ok_or(FileError::Refused(0))?;
    let response =
        session.client.server_observed(&target, request, FILE_DEADLINE, progress).await.map_err(FileError::Network)?;
    if response.code != 200 {
        return Err(FileError::Refused(response.code));
    }
    // The id is a string, as Session's clients require.
    let reply: Value = serde_json::from_slice(&response.body).map_err(|_| FileError::Refused(response.code))?;
    let id = reply.get("id").and_then(Value::as_str).ok_or(FileError::Refused(response.code))?;
    let id_ok =
        !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !id_ok {
        return Err(FileError::Refused(response.code));
    }
    Ok(id.to_owned())
}

/// Downloads the file at `url` (its encrypted bytes).
pub(crate) async fn download<P: Platform>(session: &Session<P>, url: &FileUrl) -> Result<Vec<u8>, FileError> {
    let target = target_of(url).ok_or(FileError::Refused(0))?;
    let meta = json!({"method": "GET", "endpoint": format!("/file/{}", url.id), "headers": {}}).to_string();
    let request = v4::encode_request(&meta, None);
    let response = session.client.server(&target, &request, FILE_DEADLINE).await.map_err(FileError::Network)?;
    match response.code {
        200 => Ok(response.body),
        404 => Err(FileError::Gone),
        code => Err(FileError::Refused(code)),
    }
}

/// Uploads the files of the outgoing message `id` that are not on the file server yet, writing
/// each one's URL into the message as it goes. Returns the message with every file uploaded.
pub(crate) async fn upload_pending<P: Platform>(session: &Session<P>, id: &str) -> Result<Option<Message>, FileError> {
    let server = session.client.file_server();
    loop {
        let Some(msg) = session.load::<Message>(stores::MESSAGES, id.as_bytes()).await else { return Ok(None) };
        let Some(i) = msg.attachments.iter().position(|a| a.url.is_none()) else { return Ok(Some(msg)) };
        let Some(len) = msg.attachments.get(i).and_then(|a| a.upload_len) else { return Err(FileError::Refused(0)) };
        let fresh = session.fresh_upload.borrow_mut().take_if(|(m, index, _)| m == id && *index == i);
        let request = match fresh {
            Some((_, _, request)) => {
                // Encrypted a moment ago: the page draws the message before its onion is built.
                session.world.clock.sleep(Duration::from_millis(30)).await;
                request
            }
            None => {
                // The request is built around the encrypted bytes as they are read, so they are
                // held once.
                let mut request = upload_head(len as usize);
                // Without its encrypted bytes it cannot be sent as it was kept.
                let read = attachments::read_into(&session.vault, 'u', id, i, len as usize, &mut request).await;
                if !matches!(read, Ok(true)) {
                    return Err(FileError::Refused(0));
                }
                request.push(v4::REQUEST_END);
                request
            }
        };
        let told = |sent, total| session.emit(Event::Upload { id: id.to_owned(), index: i, sent, total });
        let file_id = send_upload(session, &server, &request, Some(&told)).await?;
        drop(request);
        let _guard = session.writes.lock().await;
        let Some(mut msg) = session.load::<Message>(stores::MESSAGES, id.as_bytes()).await else { return Ok(None) };
        if let Some(a) = msg.attachments.get_mut(i) {
            a.url = Some(server.file_url(&file_id));
            a.state = AttachmentState::Saved;
        }
        // With its URL kept, a reload uploads nothing twice; the encrypted bytes stay as the
        // sender's copy.
        if let Err(e) = conversations::update(&session.vault, &msg).await {
            session.kept(Err(e));
            return Err(FileError::Refused(0));
        }
        session.emit(Event::Message { message: msg, arrived: false });
    }
}

/// The file `index` of the message `id`: from the vault, or downloaded, checked and kept there
/// first. The message's record says how it went (an [`Event::Message`] when it changed).
pub(crate) async fn file<P: Platform>(
    session: &Session<P>,
    id: &str,
    index: usize,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let msg = session.load::<Message>(stores::MESSAGES, id.as_bytes()).await.ok_or(Error::MessageGone)?;
    let a = msg.attachments.get(index).ok_or(Error::MessageGone)?.clone();
    match a.state {
        // A file sent from here: its encrypted bytes, opened (vaults from before kept the file).
        AttachmentState::Saved | AttachmentState::Uploading if let Some(len) = a.upload_len => {
            let encrypted = match attachments::read(&session.vault, 'u', id, index, len as usize).await {
                Ok(Some(bytes)) => bytes,
                Ok(None) => return Err(Error::FileDamaged),
                Err(e) => return Err(Error::Storage(e)),
            };
            let key = AttachmentKey::from_bytes(a.key.as_bytes()).map_err(|_| Error::FileDamaged)?;
            return attachment::decrypt(&encrypted, &key, a.digest.as_deref(), Some(a.size), false)
                .map_err(|_| Error::FileDamaged);
        }
        AttachmentState::Saved | AttachmentState::Uploading => {
            return match attachments::read(&session.vault, 'f', id, index, a.size as usize).await {
                Ok(Some(bytes)) => Ok(bytes),
                Ok(None) => Err(Error::FileDamaged),
                Err(e) => Err(Error::Storage(e)),
            };
        }
        AttachmentState::Expired => return Err(Error::FileExpired),
        AttachmentState::Damaged => return Err(Error::FileDamaged),
        AttachmentState::Remote => {}
    }
    let url = a.url.as_deref().and_then(|u| FileUrl::parse(u).ok()).ok_or(Error::FileDamaged)?;
    let state = match download(session, &url).await {
        Ok(encrypted) => {
            let key = AttachmentKey::from_bytes(a.key.as_bytes()).map_err(|_| Error::FileDamaged);
            let opened = key.and_then(|key| {
                attachment::decrypt(&encrypted, &key, a.digest.as_deref(), Some(a.size), url.deterministic)
                    .map_err(|_| Error::FileDamaged)
            });
            match opened {
                Ok(bytes) => {
                    attachments::keep(&session.vault, 'f', id, index, &bytes).await.map_err(Error::FileNotKept)?;
                    set_state(session, id, index, AttachmentState::Saved).await;
                    return Ok(bytes);
                }
                Err(_) => AttachmentState::Damaged,
            }
        }
        Err(FileError::Gone) => AttachmentState::Expired,
        Err(FileError::Network(f)) => return Err(Error::network(f)),
        Err(FileError::Refused(code)) => return Err(Error::FileRefused { status: code }),
    };
    set_state(session, id, index, state).await;
    Err(if state == AttachmentState::Expired { Error::FileExpired } else { Error::FileDamaged })
}

async fn set_state<P: Platform>(session: &Session<P>, id: &str, index: usize, state: AttachmentState) {
    let _guard = session.writes.lock().await;
    let Some(mut msg) = session.load::<Message>(stores::MESSAGES, id.as_bytes()).await else { return };
    let Some(a) = msg.attachments.get_mut(index) else { return };
    if a.state == state {
        return;
    }
    a.state = state;
    match conversations::update(&session.vault, &msg).await {
        Ok(()) => session.emit(Event::Message { message: msg, arrived: false }),
        Err(e) => session.kept(Err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_server_is_reached_at_its_published_onion_key() {
        let url = FileUrl::parse("http://filev2.getsession.org/file/abc").unwrap();
        let target = target_of(&url).unwrap();
        assert_eq!(hex::encode(target.x25519), "09324794aa9c11948189762d198c618148e9136ac9582068180661208927ef34");
        assert_eq!((target.host.as_str(), target.port, target.protocol), ("filev2.getsession.org", 80, Protocol::Http));
    }
}
