//! The relay: checking its URL, and its two endpoints (the node list and the onion endpoint),
//! each with a deadline.
//!
//! What leaves the device here is the guard's key (in the path) and onion bytes (the body); never
//! a Session ID, a destination or content.

use core::fmt;
use core::future::Future;
use core::time::Duration;

use crypto_core::network::{NetworkError, NodeRecord, parse_node_list};

use crate::platform::{Clock, MAX_REPLY_BYTES, Progress, Reply, Transport, TransportError, within};

/// A failure to reach the relay, or an unusable answer from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetError {
    /// The request did not complete (offline, refused, timed out).
    Transport(TransportError),
    /// The relay answered with this status instead of its node list.
    Status(u16),
    /// The relay's node list was not usable.
    Network(NetworkError),
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Transport(e) => e.fmt(f),
            NetError::Status(status) => write!(f, "the relay answered HTTP {status}"),
            NetError::Network(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for NetError {}

/// Why a relay URL was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RelayUrlError {
    /// It does not start with `https://` or `http://`.
    Scheme,
    /// It has no host, or the host has characters a host name cannot have.
    Host,
    /// The port is not a number from 1 to 65535.
    Port,
    /// It has a user name or password (`user@`).
    Credentials,
    /// It has a query (`?`) or a fragment (`#`).
    Extra,
    /// It contains spaces or control characters.
    Spaces,
    /// An `http://` relay other than this device cannot be reached from a page served over HTTPS.
    Insecure,
}

impl fmt::Display for RelayUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RelayUrlError::Scheme => "The relay URL must start with https:// (or http:// for this device).",
            RelayUrlError::Host => "The relay URL needs a host name or address after https://.",
            RelayUrlError::Port => "The relay URL's port must be a number from 1 to 65535.",
            RelayUrlError::Credentials => "The relay URL must not contain a user name or password.",
            RelayUrlError::Extra => "The relay URL must not contain ? or #.",
            RelayUrlError::Spaces => "The relay URL must not contain spaces.",
            RelayUrlError::Insecure => "This page is served over HTTPS, so the relay must be https:// too.",
        })
    }
}

impl std::error::Error for RelayUrlError {}

/// Checks a relay URL as a person typed it: empty (this site's own relay), or
/// `https://host[:port][/path]` (`http://` too, which a page served over HTTPS — `secure_page` —
/// can use only for this device). Returns it trimmed and without a trailing slash.
pub fn relay_base(input: &str, secure_page: bool) -> Result<String, RelayUrlError> {
    let url = input.trim();
    if url.is_empty() {
        return Ok(String::new());
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(RelayUrlError::Spaces);
    }
    let (scheme, rest) = url.split_once("://").ok_or(RelayUrlError::Scheme)?;
    let secure = match scheme.to_ascii_lowercase().as_str() {
        "https" => true,
        "http" => false,
        _ => return Err(RelayUrlError::Scheme),
    };
    if rest.contains(['?', '#']) {
        return Err(RelayUrlError::Extra);
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err(RelayUrlError::Credentials);
    }
    let (host, port) = match authority.strip_prefix('[') {
        // An IPv6 literal: `[…]` then an optional `:port`.
        Some(v6) => {
            let (addr, after) = v6.split_once(']').ok_or(RelayUrlError::Host)?;
            if addr.is_empty() || !addr.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
                return Err(RelayUrlError::Host);
            }
            match after {
                "" => (addr, None),
                p => (addr, Some(p.strip_prefix(':').ok_or(RelayUrlError::Host)?)),
            }
        }
        None => match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    let host_ok = |h: &str| {
        !h.is_empty()
            && h.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
    };
    if !authority.starts_with('[') && !host_ok(host) {
        return Err(RelayUrlError::Host);
    }
    if let Some(p) = port
        && !p.parse::<u16>().is_ok_and(|p| p > 0)
    {
        return Err(RelayUrlError::Port);
    }
    let local = matches!(host.to_ascii_lowercase().as_str(), "localhost" | "127.0.0.1" | "::1");
    if !secure && !local && secure_page {
        return Err(RelayUrlError::Insecure);
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// `base` with no trailing slash; empty means the page's own origin.
fn url(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

/// How long the relay's node list may take.
pub const NODES_DEADLINE: Duration = Duration::from_secs(10);
/// How long one onion request may take, end to end. Well under the 30 s a hop waits for a dead
/// next hop before it answers 504: a request that has not come back by then is abandoned and its
/// path and destination are suspected, rather than holding a send or a poll for half a minute.
/// Long enough for a `store` that waits up to 5 s for an unreachable member of its swarm.
pub const ONION_DEADLINE: Duration = Duration::from_secs(8);

/// The relay's node list.
pub async fn nodes(transport: &impl Transport, clock: &impl Clock, base: &str) -> Result<Vec<NodeRecord>, NetError> {
    let reply = request(clock, NODES_DEADLINE, transport.get(&url(base, "/v1/nodes"), NODES_DEADLINE)).await?;
    if reply.status != 200 {
        return Err(NetError::Status(reply.status));
    }
    parse_node_list(&reply.body).map_err(NetError::Network)
}

/// Posts an onion body for `guard` through the relay; returns the status and body that came
/// back (the guard's, or the relay's own when it refused).
pub async fn onion(
    transport: &impl Transport,
    clock: &impl Clock,
    base: &str,
    guard: &[u8; 32],
    body: Vec<u8>,
) -> Result<Reply, NetError> {
    onion_within(transport, clock, base, guard, body, ONION_DEADLINE, None).await
}

/// [`onion`] with its own deadline (a file's upload or download takes longer than a message),
/// telling `progress` (when given) how much of the body went out.
pub async fn onion_within(
    transport: &impl Transport,
    clock: &impl Clock,
    base: &str,
    guard: &[u8; 32],
    body: Vec<u8>,
    deadline: Duration,
    progress: Option<Progress<'_>>,
) -> Result<Reply, NetError> {
    let url = url(base, &format!("/v1/onion/{}", hex::encode(guard)));
    match progress {
        Some(progress) => request(clock, deadline, transport.post_observed(&url, body, deadline, progress)).await,
        None => request(clock, deadline, transport.post(&url, body, deadline)).await,
    }
}

/// One request, held to `deadline` by the engine's own clock as well as the transport's.
async fn request(
    clock: &impl Clock,
    deadline: Duration,
    request: impl Future<Output = Result<Reply, TransportError>>,
) -> Result<Reply, NetError> {
    let reply = within(clock, deadline, request).await.ok_or(NetError::Transport(TransportError::TimedOut))?;
    let reply = reply.map_err(NetError::Transport)?;
    if reply.body.len() > MAX_REPLY_BYTES {
        return Err(NetError::Transport(TransportError::TooLarge));
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_urls_are_checked_before_they_are_used() {
        for (input, out) in [
            ("", ""),
            ("   ", ""),
            ("https://relay.example", "https://relay.example"),
            (" https://relay.example/ ", "https://relay.example"),
            ("https://relay.example:8443/hush/", "https://relay.example:8443/hush"),
            ("HTTPS://Relay.Example", "HTTPS://Relay.Example"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://[::1]:8080", "http://[::1]:8080"),
        ] {
            assert_eq!(relay_base(input, true).as_deref(), Ok(out), "{input:?}");
        }
        for (input, error) in [
            ("relay.example", RelayUrlError::Scheme),
            ("ftp://relay.example", RelayUrlError::Scheme),
            ("javascript://alert(1)", RelayUrlError::Scheme),
            ("https://", RelayUrlError::Host),
            ("https:///path", RelayUrlError::Host),
            ("https://re lay.example", RelayUrlError::Spaces),
            ("https://relay..example", RelayUrlError::Host),
            ("https://-relay.example", RelayUrlError::Host),
            ("https://relay_example", RelayUrlError::Host),
            ("https://[zz]:1", RelayUrlError::Host),
            ("https://relay.example:0", RelayUrlError::Port),
            ("https://relay.example:65536", RelayUrlError::Port),
            ("https://relay.example:http", RelayUrlError::Port),
            ("https://user:pw@relay.example", RelayUrlError::Credentials),
            ("https://relay.example/?x=1", RelayUrlError::Extra),
            ("https://relay.example/#top", RelayUrlError::Extra),
        ] {
            assert_eq!(relay_base(input, false), Err(error), "{input:?}");
        }
        assert_eq!(relay_base("http://relay.example", true), Err(RelayUrlError::Insecure));
        assert_eq!(relay_base("http://relay.example", false).as_deref(), Ok("http://relay.example"));
        {}
    }
}
