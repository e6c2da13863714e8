//! The URL stored in an attachment pointer (protocol-files §2.6):
//! `<scheme>://<host>[:port]/file/<id>[#<fragment>]`, the fragment `&`-separated items
//! `p=<64 hex>` (the file server's Ed25519 key), `d` or `d=` (deterministic encryption) and
//! `e=<hex>` (a profile key).

use core::fmt;

use crate::identity::ed25519_to_x25519_public;

/// The longest URL read: far above any real one (about 200 characters with every item).
const MAX_URL_LEN: usize = 2048;
/// The longest file id read.
const MAX_ID_LEN: usize = 128;
/// The longest host name (DNS).
const MAX_HOST_LEN: usize = 253;

/// A file's URL, parsed. [`FileUrl::parse`] reads it; `Display` and [`FileUrl::to_url`] write
/// `scheme://host[:port]/file/<id>`, then `#` and the items that apply, joined with `&`:
/// `p=<hex>`, bare `d`, `e=<hex>`. `Debug` leaves out the profile key.
#[derive(Clone, PartialEq, Eq)]
pub struct FileUrl {
    /// `http` or `https` (lower case).
    pub scheme: String,
    /// The host name or address (lower case; an IPv6 address in brackets).
    pub host: String,
    /// The port, when the URL names one.
    pub port: Option<u16>,
    /// The file id: 1 to 128 of `[A-Za-z0-9_-]`.
    pub id: String,
    /// `p=`: the file server's Ed25519 key; `None` means the default server's.
    pub server_ed25519: Option<[u8; 32]>,
    /// `d` or `d=`: the file is encrypted with the deterministic scheme.
    pub deterministic: bool,
    /// `e=`: a profile key (profile pictures, desktop).
    pub profile_key: Option<Vec<u8>>,
}

/// Why a file URL was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum UrlError {
    /// Longer than 2,048 characters.
    TooLong,
    /// The scheme is not `http://` or `https://`.
    Scheme,
    /// The URL carries a user name or password (`user@host`).
    UserInfo,
    /// The host is empty or not a host name or bracketed IPv6 address.
    Host,
    /// The port is empty, not a number, or not 1 to 65535.
    Port,
    /// The URL has a query (`?`).
    Query,
    /// The path is not `/file/<id>` (or the older `/files/<id>`).
    Path,
    /// The file id is not 1 to 128 of `[A-Za-z0-9_-]`.
    Id,
    /// `p=` is not 64 hex digits, or appears twice.
    ServerKey,
    /// `e=` is not an even, non-zero number of hex digits, or appears twice.
    ProfileKey,
    /// `d` carries a value (only `d` and `d=` mean deterministic).
    Deterministic,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlError::TooLong => "the file URL is longer than 2048 characters",
            UrlError::Scheme => "the file URL does not start with http:// or https://",
            UrlError::UserInfo => "the file URL carries a user name",
            UrlError::Host => "the file URL's host is not a host name or address",
            UrlError::Port => "the file URL's port is not a number from 1 to 65535",
            UrlError::Query => "the file URL has a query",
            UrlError::Path => "the file URL's path is not /file/<id>",
            UrlError::Id => "the file URL's id is not 1 to 128 letters, digits, '-' or '_'",
            UrlError::ServerKey => "the file URL's p= is not one 64-digit hex key",
            UrlError::ProfileKey => "the file URL's e= is not one hex key",
            UrlError::Deterministic => "the file URL's d item carries a value",
        })
    }
}

impl std::error::Error for UrlError {}

impl FileUrl {
    /// Parses a file URL. Strict about its shape — `http`/`https` only (either case), no user
    /// name, no query, the path exactly `/file/<id>` or `/files/<id>` — and lenient where the
    /// clients are: `d` and `d=` both mean deterministic, hex in either case, empty and unknown
    /// fragment items are ignored.
    pub fn parse(url: &str) -> Result<FileUrl, UrlError> {
        if url.len() > MAX_URL_LEN {
            return Err(UrlError::TooLong);
        }
        let (scheme, rest) = url.split_once("://").ok_or(UrlError::Scheme)?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(UrlError::Scheme);
        }
        let (rest, fragment) = match rest.split_once('#') {
            Some((rest, fragment)) => (rest, Some(fragment)),
            None => (rest, None),
        };
        if rest.contains('?') {
            return Err(UrlError::Query);
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.contains('@') {
            return Err(UrlError::UserInfo);
        }
        let (host, port) = split_host_port(authority)?;
        let id = path.strip_prefix("/file/").or_else(|| path.strip_prefix("/files/")).ok_or(UrlError::Path)?;
        if id.contains('/') {
            return Err(UrlError::Path);
        }
        if id.is_empty()
            || id.len() > MAX_ID_LEN
            || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(UrlError::Id);
        }
        let mut url = FileUrl {
            scheme,
            host,
            port,
            id: id.to_owned(),
            server_ed25519: None,
            deterministic: false,
            profile_key: None,
        };
        for item in fragment.unwrap_or_default().split('&') {
            match item.split_once('=') {
                None if item == "d" => url.deterministic = true,
                Some(("d", "")) => url.deterministic = true,
                Some(("d", _)) => return Err(UrlError::Deterministic),
                Some(("p", key)) => {
                    let key = hex::decode(key).ok().and_then(|k| <[u8; 32]>::try_from(k).ok());
                    if key.is_none() || url.server_ed25519.is_some() {
                        return Err(UrlError::ServerKey);
                    }
                    url.server_ed25519 = key;
                }
                Some(("e", key)) => {
                    let key = hex::decode(key).ok().filter(|k| !k.is_empty());
                    if key.is_none() || url.profile_key.is_some() {
                        return Err(UrlError::ProfileKey);
                    }
                    url.profile_key = key;
                }
                _ => {}
            }
        }
        Ok(url)
    }

    /// The URL as it goes into a message (the same as `Display`).
    pub fn to_url(&self) -> String {
        self.to_string()
    }

    /// The file server's X25519 key (the onion key), converted from `p=`'s Ed25519 key. `None`
    /// when the URL names no key (use the default server's) or it is not a usable point.
    pub fn server_x25519(&self) -> Option<[u8; 32]> {
        self.server_ed25519.as_ref().and_then(ed25519_to_x25519_public)
    }

    /// The pointer's `deprecated_id` (`id` in libsession and Android): the id's value when it is
    /// a decimal number that fits, else 0 (protocol-files §2.3).
    pub fn deprecated_id(&self) -> u64 {
        if self.id.bytes().all(|b| b.is_ascii_digit()) { self.id.parse().unwrap_or(0) } else { 0 }
    }
}

/// `host[:port]`, the host a name (letters, digits, `-`, `.`) or a bracketed IPv6 address.
fn split_host_port(authority: &str) -> Result<(String, Option<u16>), UrlError> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (address, after) = v6.split_once(']').ok_or(UrlError::Host)?;
        if address.is_empty() || !address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
            return Err(UrlError::Host);
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or(UrlError::Host)?),
        };
        (format!("[{address}]"), port)
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        let name = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
        if host.is_empty() || host.len() > MAX_HOST_LEN || !host.bytes().all(name) {
            return Err(UrlError::Host);
        }
        (host.to_owned(), port)
    };
    let port = match port {
        None => None,
        Some(port) => {
            if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err(UrlError::Port);
            }
            Some(port.parse::<u16>().ok().filter(|&p| p != 0).ok_or(UrlError::Port)?)
        }
    };
    Ok((host.to_ascii_lowercase(), port))
}

impl fmt::Display for FileUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        write!(f, "/file/{}", self.id)?;
        let mut separator = '#';
        if let Some(key) = &self.server_ed25519 {
            write!(f, "{separator}p={}", hex::encode(key))?;
            separator = '&';
        }
        if self.deterministic {
            write!(f, "{separator}d")?;
            separator = '&';
        }
        if let Some(key) = &self.profile_key {
            write!(f, "{separator}e={}", hex::encode(key))?;
        }
        Ok(())
    }
}

impl fmt::Debug for FileUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileUrl")
            .field("scheme", &self.scheme)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("id", &self.id)
            .field("server_ed25519", &self.server_ed25519.map(hex::encode))
            .field("deterministic", &self.deterministic)
            .field("profile_key", &self.profile_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT_ED: &str = "b8eef9821445ae16e2e97ef8aa6fe782fd11ad5253cd6723b281341dba22e371";

    #[test]
    fn reads_what_the_clients_write() {
        let url = FileUrl::parse("http://filev2.getsession.org/file/aGVsbG8").unwrap();
        assert_eq!(
            url,
            FileUrl {
                scheme: "http".into(),
                host: "filev2.getsession.org".into(),
                port: None,
                id: "aGVsbG8".into(),
                server_ed25519: None,
                deterministic: false,
                profile_key: None,
            }
        );
        assert_eq!(url.server_x25519(), None);
        assert_eq!(url.deprecated_id(), 0);

        // Desktop writes `d=`, Android and libsession bare `d`; both mean deterministic.
        for fragment in ["d", "d=", "p=PKEY&d", "d=&p=PKEY", "p=PKEY&d="] {
            let text = format!("https://files.example:8443/file/abc_-9#{}", fragment.replace("PKEY", DEFAULT_ED));
            let url = FileUrl::parse(&text).unwrap();
            assert!(url.deterministic, "{text}");
            assert_eq!(url.port, Some(8443));
            if fragment.contains('p') {
                assert_eq!(
                    hex::encode(url.server_x25519().unwrap()),
                    "09324794aa9c11948189762d198c618148e9136ac9582068180661208927ef34"
                );
            }
        }
        // The older `/files/<id>` path, a numeric id.
        let url = FileUrl::parse("http://filev2.getsession.org/files/4503599627370495").unwrap();
        assert_eq!(url.deprecated_id(), 4_503_599_627_370_495);
        assert_eq!(url.to_url(), "http://filev2.getsession.org/file/4503599627370495");
        assert_eq!(FileUrl::parse("http://h/file/99999999999999999999").unwrap().deprecated_id(), 0);
        // Case: scheme and host are case-insensitive, hex in either case.
        let url =
            FileUrl::parse(&format!("HTTP://FileV2.GetSession.org/file/X#p={}", DEFAULT_ED.to_uppercase())).unwrap();
        assert_eq!(url.to_url(), format!("http://filev2.getsession.org/file/X#p={DEFAULT_ED}"));
        // Empty and unknown items are ignored.
        let url = FileUrl::parse("http://h/file/x#&future=1&&d&").unwrap();
        assert!(url.deterministic);
        assert_eq!(url.to_url(), "http://h/file/x#d");
        // A profile key, IPv6.
        let url = FileUrl::parse("http://[::1]:3000/file/x#e=00ff").unwrap();
        assert_eq!((url.host.as_str(), url.port), ("[::1]", Some(3000)));
        assert_eq!(url.profile_key.as_deref(), Some(&[0x00, 0xff][..]));
        assert!(!format!("{url:?}").contains("00ff"), "Debug shows the profile key");
    }

    #[test]
    fn writes_bare_d_and_round_trips() {
        for text in [
            "http://filev2.getsession.org/file/aGVsbG8",
            "http://filev2.getsession.org/file/aGVsbG8#d",
            "https://127.0.0.1:8080/file/123#p=b8eef9821445ae16e2e97ef8aa6fe782fd11ad5253cd6723b281341dba22e371",
            "https://h.example/file/a#p=b8eef9821445ae16e2e97ef8aa6fe782fd11ad5253cd6723b281341dba22e371&d&e=0102",
            "http://[fe80::1]/file/Z#e=ab",
        ] {
            let url = FileUrl::parse(text).unwrap();
            assert_eq!(url.to_url(), text);
            assert_eq!(url.to_string(), text);
            assert_eq!(FileUrl::parse(&url.to_url()).unwrap(), url);
        }
        assert_eq!(FileUrl::parse("http://h/file/x#d=").unwrap().to_url(), "http://h/file/x#d");
    }

    #[test]
    fn refuses_what_is_not_a_file_url() {
        let long = format!("http://h/file/{}", "a".repeat(2100));
        let id_129 = format!("http://h/file/{}", "a".repeat(129));
        for (text, error) in [
            ("", UrlError::Scheme),
            ("filev2.getsession.org/file/x", UrlError::Scheme),
            ("ftp://h/file/x", UrlError::Scheme),
            ("javascript://h/file/x", UrlError::Scheme),
            (long.as_str(), UrlError::TooLong),
            ("http://user@h/file/x", UrlError::UserInfo),
            ("http://user:pw@h/file/x", UrlError::UserInfo),
            ("http:///file/x", UrlError::Host),
            ("http://h_h/file/x", UrlError::Host),
            ("http://h%41/file/x", UrlError::Host),
            ("http://[::1/file/x", UrlError::Host),
            ("http://[]/file/x", UrlError::Host),
            ("http://[::1]x/file/x", UrlError::Host),
            ("http://h:/file/x", UrlError::Port),
            ("http://h:0/file/x", UrlError::Port),
            ("http://h:65536/file/x", UrlError::Port),
            ("http://h:+80/file/x", UrlError::Port),
            ("http://h:80:80/file/x", UrlError::Port),
            ("http://h/file/x?y=1", UrlError::Query),
            ("http://h?/file/x", UrlError::Query),
            ("http://h", UrlError::Path),
            ("http://h/", UrlError::Path),
            ("http://h/x/file/y", UrlError::Path),
            ("http://h/file/x/", UrlError::Path),
            ("http://h/file/x/info", UrlError::Path),
            ("http://h/file/", UrlError::Id),
            ("http://h/file/a.b", UrlError::Id),
            ("http://h/file/%41", UrlError::Id),
            (id_129.as_str(), UrlError::Id),
            ("http://h/file/x#p=00", UrlError::ServerKey),
            ("http://h/file/x#p=", UrlError::ServerKey),
            ("http://h/file/x#p=zz", UrlError::ServerKey),
            ("http://h/file/x#e=", UrlError::ProfileKey),
            ("http://h/file/x#e=abc", UrlError::ProfileKey),
            ("http://h/file/x#e=ab&e=cd", UrlError::ProfileKey),
            ("http://h/file/x#d=1", UrlError::Deterministic),
        ] {
            assert_eq!(FileUrl::parse(text).unwrap_err(), error, "{text}");
        }
        let twice = format!("http://h/file/x#p={DEFAULT_ED}&p={DEFAULT_ED}");
        assert_eq!(FileUrl::parse(&twice).unwrap_err(), UrlError::ServerKey);
        assert_eq!(FileUrl::parse(&id_129[..id_129.len() - 1]).unwrap().id.len(), 128);
        // A key that is no usable point (here of small order) parses, but has no X25519 form.
        let url = FileUrl::parse(&format!("http://h/file/x#p={}", "00".repeat(32))).unwrap();
        assert_eq!(url.server_x25519(), None);
    }

    /// Bad inputs never panic, and whatever parses writes back to a URL that parses the same.
    #[test]
    fn mutated_urls_never_panic_and_round_trip() {
        use crate::internal::fuzz_support::{FuzzRng, mutate};
        let seeds = [
            format!("https://filev2.getsession.org:443/file/aGVsbG8#p={DEFAULT_ED}&d=&e=0102"),
            "http://[::1]:80/files/12#d".to_owned(),
        ];
        let mut rng = FuzzRng::new(5);
        for i in 0..20_000 {
            let Some(seed) = seeds.get(i % seeds.len()) else { continue };
            let mut input = seed.as_bytes().to_vec();
            for _ in 0..(i % 4 + 1) {
                input = mutate(&mut rng, &input, b":/#&=?@[]%dp");
            }
            let text = String::from_utf8_lossy(&input);
            if let Ok(url) = FileUrl::parse(&text) {
                assert_eq!(FileUrl::parse(&url.to_url()).as_ref(), Ok(&url), "{text}");
                let _ = (url.server_x25519(), url.deprecated_id());
            }
        }
    }
}
