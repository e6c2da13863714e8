//! Community URLs (protocol-communities §1.1):
//! `http[s]://<host>[:port]/<room>?public_key=<64 hex>`, or `/r/<room>` as libsession also takes.

use core::fmt;
use core::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

/// The longest room token.
pub const MAX_ROOM_LEN: usize = 64;

/// A community: its server (scheme, host, port), room token and the server's X25519 key.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct CommunityUrl {
    https: bool,
    host: String,
    port: Option<u16>,
    room: String,
    server_key: [u8; 32],
}

/// Why a text is not a community URL.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum UrlError {
    /// The scheme is not `http` or `https`.
    Scheme,
    /// The host is missing, not a dotted name or address (`localhost` is refused: clients
    /// require a dot), or has characters a host cannot have.
    Host,
    /// The port is not a number from 1 to 65535.
    Port,
    /// There is no room token after the host.
    MissingRoom,
    /// The room token is longer than 64 characters or has characters other than
    /// `0-9 A-Z a-z _ -`, or the path has more than the room.
    Room,
    /// There is no `public_key` parameter.
    MissingKey,
    /// `public_key` is not 64 hex characters (or 43/44 of base64) of a 32-byte key.
    Key,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlError::Scheme => "a community URL starts with http:// or https://",
            UrlError::Host => "the community URL's host is not a valid server name or address",
            UrlError::Port => "the community URL's port is not a number from 1 to 65535",
            UrlError::MissingRoom => "the community URL names no room",
            UrlError::Room => "a room name has 1 to 64 letters, digits, _ or -",
            UrlError::MissingKey => "the community URL has no public_key",
            UrlError::Key => "the community URL's public_key is not 64 hexadecimal characters",
        })
    }
}

impl std::error::Error for UrlError {}

impl CommunityUrl {
    /// A community from its parts; the host is lower-cased and checked, the room checked.
    pub fn new(
        https: bool,
        host: &str,
        port: Option<u16>,
        room: &str,
        server_key: [u8; 32],
    ) -> Result<CommunityUrl, UrlError> {
        let host = check_host(host)?;
        check_room(room)?;
        if port == Some(0) {
            return Err(UrlError::Port);
        }
        let default = if https { 443 } else { 80 };
        let port = port.filter(|&p| p != default);
        Ok(CommunityUrl { https, host, port, room: room.to_owned(), server_key })
    }

    /// Parses a community URL (surrounding white space ignored; a missing scheme means `http`).
    pub fn parse(text: &str) -> Result<CommunityUrl, UrlError> {
        let text = text.trim();
        let (https, rest) = match text.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => (true, rest),
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => (false, rest),
            Some(_) => return Err(UrlError::Scheme),
            None => (false, text),
        };
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = before_query.split_once('/').ok_or(UrlError::MissingRoom)?;
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => {
                let port: u16 = port.parse().map_err(|_| UrlError::Port)?;
                (host, Some(port))
            }
            None => (authority, None),
        };
        let path = path.strip_suffix('/').unwrap_or(path);
        let room = path.strip_prefix("r/").unwrap_or(path);
        if room.is_empty() {
            return Err(UrlError::MissingRoom);
        }
        let key = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("public_key="))
            .filter(|k| !k.is_empty())
            .ok_or(UrlError::MissingKey)?;
        let server_key = decode_key(key).ok_or(UrlError::Key)?;
        CommunityUrl::new(https, host, port, room, server_key)
    }

    /// Whether the server is reached over https.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// The host, lower-case.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port: the one given, or 80 / 443.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(if self.https { 443 } else { 80 })
    }

    /// The room token, as given (servers look tokens up case-sensitively).
    pub fn room(&self) -> &str {
        &self.room
    }

    /// The server's X25519 public key.
    pub fn server_key(&self) -> &[u8; 32] {
        &self.server_key
    }

    /// The server's base URL, `http[s]://host[:port]` (the port only when not the default).
    pub fn server(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        match self.port {
            Some(port) => format!("{scheme}://{}:{port}", self.host),
            None => format!("{scheme}://{}", self.host),
        }
    }
}

impl fmt::Display for CommunityUrl {
    /// The canonical form: `server/room?public_key=<hex>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}?public_key={}", self.server(), self.room, hex::encode(self.server_key))
    }
}

impl FromStr for CommunityUrl {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CommunityUrl::parse(s)
    }
}

/// Lower-cases and checks a host: a dotted name or IPv4 address of at least 4 characters, of
/// letters, digits, `.` and `-`.
fn check_host(host: &str) -> Result<String, UrlError> {
    let host = host.to_ascii_lowercase();
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
    let labels_ok = host.split('.').all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
    if host.len() < 4 || host.len() > 253 || !host.contains('.') || !host.chars().all(allowed) || !labels_ok {
        return Err(UrlError::Host);
    }
    Ok(host)
}

/// A room token: 1–64 characters of `[0-9A-Za-z_-]`.
pub fn check_room(room: &str) -> Result<(), UrlError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if room.is_empty() {
        return Err(UrlError::MissingRoom);
    }
    if room.len() > MAX_ROOM_LEN || !room.chars().all(allowed) {
        return Err(UrlError::Room);
    }
    Ok(())
}

/// A 32-byte key as 64 hex characters, or 43/44 characters of base64.
fn decode_key(text: &str) -> Option<[u8; 32]> {
    let mut key = [0u8; 32];
    match text.len() {
        64 => hex::decode_to_slice(text, &mut key).ok().map(|()| key),
        43 => STANDARD_NO_PAD.decode(text).ok()?.try_into().ok(),
        44 => STANDARD.decode(text).ok()?.try_into().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "a03c383cf63c3c4efe67acc52112a6dd734b3a946b9545f488aaa93da7991238";

    #[test]
    fn parses_and_prints_the_default_community() {
        let text = format!("https://open.getsession.org/main?public_key={KEY}");
        let url = CommunityUrl::parse(&text).unwrap();
        assert!(url.is_https());
        assert_eq!((url.host(), url.port(), url.room()), ("open.getsession.org", 443, "main"));
        assert_eq!(hex::encode(url.server_key()), KEY);
        assert_eq!(url.to_string(), text);
        assert_eq!(url.server(), "https://open.getsession.org");
    }

    #[test]
    fn accepts_the_other_forms_and_canonicalises() {
        let upper = KEY.to_uppercase();
        for (text, canonical) in [
            (format!("HTTP://127.0.0.1:8080/r/lobby?public_key={upper}"), "http://127.0.0.1:8080/lobby"),
            (format!("http://Example.COM:80/Lobby_1/?public_key={KEY}&x=1"), "http://example.com/Lobby_1"),
            (format!(" example.org/a-b?x=2&public_key={KEY}#frag "), "http://example.org/a-b"),
        ] {
            let url = CommunityUrl::parse(&text).unwrap();
            assert_eq!(url.to_string(), format!("{canonical}?public_key={KEY}"), "{text}");
            assert_eq!(CommunityUrl::parse(&url.to_string()), Ok(url));
        }
        let b64 = STANDARD.encode(hex::decode(KEY).unwrap());
        let url = CommunityUrl::parse(&format!("https://a.bc/x?public_key={b64}")).unwrap();
        assert_eq!(hex::encode(url.server_key()), KEY);
        let url = CommunityUrl::parse(&format!("https://a.bc/x?public_key={}", b64.trim_end_matches('='))).unwrap();
        assert_eq!(hex::encode(url.server_key()), KEY);
    }

    #[test]
    fn rejects_bad_urls_saying_what_is_wrong() {
        let k = KEY;
        for (text, error) in [
            (format!("ftp://a.bc/x?public_key={k}"), UrlError::Scheme),
            (format!("http://localhost/x?public_key={k}"), UrlError::Host),
            (format!("http://a_b.cd/x?public_key={k}"), UrlError::Host),
            (format!("http://:80/x?public_key={k}"), UrlError::Host),
            (format!("http://a.bc:0/x?public_key={k}"), UrlError::Port),
            (format!("http://a.bc:99999/x?public_key={k}"), UrlError::Port),
            (format!("http://a.bc:x/x?public_key={k}"), UrlError::Port),
            (format!("http://a.bc?public_key={k}"), UrlError::MissingRoom),
            (format!("http://a.bc/?public_key={k}"), UrlError::MissingRoom),
            (format!("http://a.bc/a/b?public_key={k}"), UrlError::Room),
            (format!("http://a.bc/é?public_key={k}"), UrlError::Room),
            (format!("http://a.bc/{}?public_key={k}", "a".repeat(65)), UrlError::Room),
            ("http://a.bc/x".to_owned(), UrlError::MissingKey),
            ("http://a.bc/x?public_key=".to_owned(), UrlError::MissingKey),
            (format!("http://a.bc/x?public_key={}", &k[..62]), UrlError::Key),
            (format!("http://a.bc/x?public_key={}zz", &k[..62]), UrlError::Key),
        ] {
            assert_eq!(CommunityUrl::parse(&text), Err(error), "{text}");
        }
        assert!(CommunityUrl::parse(&format!("http://a.bc/{}?public_key={k}", "a".repeat(64))).is_ok());
    }
}
