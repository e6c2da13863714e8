//! Requests to a community server: each one a v4 request signed with this account's blinded key
//! for that server (`X-SOGS-*` headers inside the v4 metadata) and sent through a 3-hop onion
//! path, so the server sees the path's last hop, never this device.

use std::time::Duration;

use crypto_core::community::{BlindedKeys, CommunityUrl, RequestKey, sign_request};
use crypto_core::onion::{Protocol, ServerTarget, v4};
use rand_core::OsRng;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::platform::Platform;
use crate::session::Session;

/// How long one request to a community server may take.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A request's body.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Body<'a> {
    /// None (GET, DELETE).
    Empty,
    /// JSON.
    Json(&'a [u8]),
    /// A file's bytes, with its name.
    File(&'a [u8], Option<&'a str>),
}

/// A server's answer: its status and body.
#[derive(Debug)]
pub(crate) struct Reply {
    /// The HTTP status.
    pub code: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// Where the server of `url` is reached: its host behind the path's last hop, at its onion key.
pub(crate) fn target(url: &CommunityUrl) -> ServerTarget {
    let protocol = if url.is_https() { Protocol::Https } else { Protocol::Http };
    ServerTarget {
        host: url.host().to_owned(),
        target: "/oxen/v4/lsrpc".to_owned(),
        port: url.port(),
        protocol,
        x25519: *url.server_key(),
    }
}

/// A filename as `Content-Disposition` carries it (RFC 5987: UTF-8, percent-encoded).
fn disposition(name: &str) -> String {
    let mut out = String::from("attachment; filename*=UTF-8''");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Sends `method path` (the endpoint with its query, raw UTF-8: what is signed is what is sent)
/// with `body` to the server of `url`, signed with this account's blinded key for it.
pub(crate) async fn call<P: Platform>(
    session: &Session<P>,
    url: &CommunityUrl,
    method: &str,
    path: &str,
    body: Body<'_>,
) -> Result<Reply, Error> {
    let keys = BlindedKeys::blind15(&session.identity, url.server_key());
    let bytes = match body {
        Body::Empty => &[][..],
        Body::Json(b) | Body::File(b, _) => b,
    };
    let now_s = session.client.now() / 1000;
    let signed = sign_request(&mut OsRng, RequestKey::Blinded(&keys), url.server_key(), now_s, method, path, bytes);
    let mut headers = Map::new();
    for (name, value) in signed.pairs() {
        headers.insert(name.to_owned(), Value::String(value.to_owned()));
    }
    match body {
        Body::Empty => {}
        Body::Json(_) => {
            headers.insert("Content-Type".into(), "application/json".into());
        }
        Body::File(_, name) => {
            headers.insert("Content-Type".into(), "application/octet-stream".into());
            if let Some(name) = name {
                headers.insert("Content-Disposition".into(), Value::String(disposition(name)));
            }
        }
    }
    let mut meta = Map::new();
    meta.insert("method".into(), method.into());
    meta.insert("endpoint".into(), path.into());
    meta.insert("headers".into(), Value::Object(headers));
    let meta = Value::Object(meta).to_string();
    let request = v4::encode_request(&meta, if bytes.is_empty() { None } else { Some(bytes) });
    session.communities.requests.set(session.communities.requests.get() + 1);
    let response = session.client.server(&target(url), &request, DEADLINE).await.map_err(Error::network)?;
    Ok(Reply { code: response.code, body: response.body })
}

/// The error for a server's refusal of a room request.
pub(crate) fn refused(code: u16) -> Error {
    match code {
        403 => Error::CommunityForbidden,
        404 => Error::CommunityNotFound,
        429 => Error::CommunityRateLimited,
        status => Error::CommunityRefused { status },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_percent_encoded_as_utf8() {
        assert_eq!(disposition("a b é.png"), "attachment; filename*=UTF-8''a%20b%20%C3%A9.png");
    }

    #[test]
    fn a_room_is_reached_at_its_host_and_key() {
        let key = "c3b3c6f32f0ab5a57f853cc4f30f5da7fda5624b0c77b3fb0829de562ada081d";
        let url = CommunityUrl::parse(&format!("http://127.0.0.1:22025/lobby?public_key={key}")).unwrap();
        let t = target(&url);
        assert_eq!((t.host.as_str(), t.port, t.protocol), ("127.0.0.1", 22025, Protocol::Http));
        assert_eq!(hex::encode(t.x25519), key);
    }
}
