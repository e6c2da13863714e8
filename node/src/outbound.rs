//! What the relay and the devnet send to other machines, and how they read what comes back.
//!
//! Every outbound client here follows no redirect (a 3xx is a failure, never a new request),
//! gives up on a connection after [`Outbound::connect_timeout`] and on a whole exchange (connect,
//! request, every byte of the answer) after its own whole-request timeout, and reads an answer
//! chunk by chunk up to a cap ([`read_capped`]), so a node that floods or trickles costs a bounded
//! amount of memory and time. The relay contacts only nodes at public addresses
//! ([`may_contact`]); loopback is allowed only for a local test network (the devnet's own relay,
//! or `hush-node relay --allow-loopback-nodes`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use anyhow::Context;

use crate::tls::Pin;

/// The largest answer taken from a node: the protocol's onion body limit (10 MiB).
pub const MAX_NODE_REPLY_LEN: usize = crypto_core::onion::MAX_BODY_LEN;

/// The largest node list taken from a seed. Mainnet's whole list is a few hundred KB.
pub const MAX_SEED_REPLY_LEN: usize = 8 * 1024 * 1024;

/// How the relay reaches out to seeds and nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outbound {
    /// Keep nodes the seed lists at a loopback address (127.0.0.0/8, `::1`). For a local test
    /// network only: a public relay must never be steered to its own machine's services.
    pub allow_loopback_nodes: bool,
    /// How long to wait for a connection to a seed or a node.
    pub connect_timeout: Duration,
    /// The longest one forward to a guard may take, from connecting to the last byte of its answer.
    pub node_timeout: Duration,
    /// The longest reading the node list from a seed may take.
    pub seed_timeout: Duration,
}

impl Default for Outbound {
    /// Public nodes only; 5 s to connect; 40 s for a forward (a hop waits up to 30 s for the next
    /// one before it answers 504, so the guard's answer comes well within it); 5 s for a seed.
    fn default() -> Outbound {
        Outbound {
            allow_loopback_nodes: false,
            connect_timeout: Duration::from_secs(5),
            node_timeout: Duration::from_secs(40),
            seed_timeout: Duration::from_secs(5),
        }
    }
}

impl Outbound {
    /// The defaults with loopback nodes allowed: for a local test network (the devnet) only.
    pub fn local_test_network() -> Outbound {
        Outbound { allow_loopback_nodes: true, ..Outbound::default() }
    }
}

/// An HTTP client that follows no redirect and gives up after `connect` to connect and `whole`
/// for a whole exchange (the answer's body included).
pub fn client_builder(connect: Duration, whole: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).connect_timeout(connect).timeout(whole)
}

/// Whether `ip` is an address on the public Internet: not unspecified, loopback, private
/// (RFC 1918), shared (CGNAT, 100.64.0.0/10), link-local, multicast, broadcast, reserved, for
/// documentation or benchmarking, nor an IPv6 unique-local, site-local or link-local address;
/// IPv6 must be global unicast (2000::/3) outside the ranges set aside for documentation and
/// tunnels, and an IPv4 address written as IPv6 (`::ffff:a.b.c.d`, NAT64) is judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let reserved = a == 0                          // "this network", 0.0.0.0/8
        || a == 10                                 // private
        || a == 127                                // loopback
        || (a == 100 && (64..128).contains(&b))    // shared address space (CGNAT)
        || (a == 169 && b == 254)                  // link-local
        || (a == 172 && (16..32).contains(&b))     // private
        || (a == 192 && b == 168)                  // private
        || (a == 192 && b == 0 && c == 0)          // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)          // documentation (TEST-NET-1)
        || (a == 192 && b == 88 && c == 99)        // 6to4 relay anycast
        || (a == 198 && (18..20).contains(&b))     // benchmarking
        || (a == 198 && b == 51 && c == 100)       // documentation (TEST-NET-2)
        || (a == 203 && b == 0 && c == 113)        // documentation (TEST-NET-3)
        || a >= 224; // multicast, reserved, broadcast
    !reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address: judge that.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [hi, lo] = [s[6].to_be_bytes(), s[7].to_be_bytes()];
        return is_public_v4(Ipv4Addr::new(hi[0], hi[1], lo[0], lo[1]));
    }
    let global_unicast = s[0] & 0xe000 == 0x2000;
    let set_aside = (s[0] == 0x2001 && (s[1] < 0x0200 || s[1] == 0x0db8)) // IETF assignments (Teredo, …), documentation
        || s[0] == 0x2002 // 6to4
        || s[0] & 0xfff0 == 0x3ff0; // documentation (3fff::/20)
    global_unicast && !set_aside
}

/// Whether the relay may contact a node the seed lists at `ip`: a public address, or a loopback
/// one when `allow_loopback` (a local test network).
pub fn may_contact(ip: IpAddr, allow_loopback: bool) -> bool {
    is_public(ip) || (allow_loopback && ip.to_canonical().is_loopback())
}

/// Why an answer could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// It was larger than the cap (declared so, or read so far).
    TooLarge,
    /// The whole-request timeout ran out while reading it.
    TimedOut,
    /// The connection failed while reading it.
    Failed,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReadError::TooLarge => "the answer is larger than the relay takes",
            ReadError::TimedOut => "the answer did not arrive in time",
            ReadError::Failed => "the connection failed while reading the answer",
        })
    }
}

impl std::error::Error for ReadError {}

/// Reads `response`'s body chunk by chunk, stopping as soon as it is over `cap` bytes (or
/// declares a length over it): at most `cap` bytes are ever held.
pub async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, ReadError> {
    let declared = response.content_length();
    if declared.is_some_and(|n| n > cap as u64) {
        return Err(ReadError::TooLarge);
    }
    let mut body = Vec::with_capacity(declared.map_or(0, |n| usize::try_from(n).unwrap_or(cap).min(cap)));
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if chunk.len() > cap - body.len() {
                    return Err(ReadError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => return Err(ReadError::TimedOut),
            Err(_) => return Err(ReadError::Failed),
        }
    }
}

/// How a seed given on the command line may be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeedCheck {
    /// HTTPS, or plain HTTP on this machine: nothing to warn about.
    Fine,
    /// Plain HTTP to another machine, allowed by `--insecure-seed`: the warning to print.
    Insecure(String),
}

/// Checks a `--seed` URL and its pins before the relay trusts it: `http` or `https` only; a pin
/// only on HTTPS (plain HTTP has no certificate to pin, so a pin there would check nothing); and
/// plain HTTP only to a loopback host unless `insecure` (`--insecure-seed`), since whoever sits
/// between the relay and such a seed chooses every node the relay forwards to.
pub fn check_seed(url: &str, pins: &[Pin], insecure: bool) -> anyhow::Result<SeedCheck> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    let host = parsed.host_str().with_context(|| format!("the seed URL {url:?} has no host"))?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let loopback = match host.parse::<IpAddr>() {
        Ok(ip) => ip.to_canonical().is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    };
    match parsed.scheme() {
        "https" => Ok(SeedCheck::Fine),
        "http" if !pins.is_empty() => {
            anyhow::bail!("--seed-pin needs an https:// seed: plain HTTP has no certificate to check the pin against")
        }
        "http" if loopback => Ok(SeedCheck::Fine),
        "http" if insecure => Ok(SeedCheck::Insecure(format!(
            "WARNING: the seed {url} is read over plain HTTP (--insecure-seed): anyone on the way can \
             change the node list and so choose every node this relay forwards to. Use an https:// seed \
             with --seed-pin, or --network, for anything but a test."
        ))),
        "http" => anyhow::bail!(
            "the seed {url} speaks plain HTTP, so anyone on the way could choose the relay's nodes: give an \
             https:// seed (with --seed-pin for a self-signed certificate), or add --insecure-seed to accept \
             the risk for a test"
        ),
        other => anyhow::bail!("the seed URL must be http:// or https://, not {other}://"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        let public = ["1.1.1.1", "93.184.216.34", "100.63.255.255", "100.128.0.1", "172.32.0.1", "2a00:1450::1"];
        for ip in public {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        let not_public = [
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.1.2.3",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "2002:a00:1::1",
            "3fff::1",
            "100::1",
        ];
        for ip in not_public {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        assert!(is_public("::ffff:1.1.1.1".parse().unwrap()));
        assert!(is_public("64:ff9b::101:101".parse().unwrap()));
        assert!(may_contact("127.0.0.1".parse().unwrap(), true));
        assert!(may_contact("::1".parse().unwrap(), true));
        assert!(!may_contact("127.0.0.1".parse().unwrap(), false));
        assert!(!may_contact("10.0.0.1".parse().unwrap(), true), "the loopback flag allows loopback only");
    }

    #[test]
    fn plain_http_seeds_need_loopback_or_the_insecure_flag() {
        let pin: Pin =
            "36:EA:0B:25:35:37:98:85:51:EE:85:6E:4F:D2:0D:55:01:1E:9C:8B:27:EA:A2:F3:4B:8F:32:A0:BD:F0:4F:2D"
                .parse()
                .unwrap();
        assert_eq!(check_seed("https://seed.example:4443/json_rpc", &[], false).unwrap(), SeedCheck::Fine);
        assert_eq!(check_seed("https://seed.example:4443/json_rpc", &[pin], false).unwrap(), SeedCheck::Fine);
        for local in ["http://127.0.0.1:22023/json_rpc", "http://[::1]:22023/json_rpc", "http://localhost:1/json_rpc"] {
            assert_eq!(check_seed(local, &[], false).unwrap(), SeedCheck::Fine, "{local}");
        }
        let refused = check_seed("http://seed.example:38157/json_rpc", &[], false).unwrap_err().to_string();
        assert!(refused.contains("--insecure-seed") && refused.contains("plain HTTP"), "{refused}");
        let Ok(SeedCheck::Insecure(warning)) = check_seed("http://seed.example:38157/json_rpc", &[], true) else {
            panic!("allowed with --insecure-seed, with a warning")
        };
        assert!(warning.starts_with("WARNING") && warning.contains("plain HTTP"), "{warning}");
        let pinned = check_seed("http://127.0.0.1:1/json_rpc", &[pin], true).unwrap_err().to_string();
        assert!(pinned.contains("needs an https:// seed"), "{pinned}");
        assert!(check_seed("ftp://seed.example/json_rpc", &[], true).is_err());
        assert!(check_seed("not a url", &[], true).is_err());
    }
}
