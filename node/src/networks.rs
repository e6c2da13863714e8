//! The real Session networks by name: the seeds a relay reads the node list from, and the
//! certificate pins Session's own clients check them with.
//!
//! Sources (facts only, read from the public repositories):
//! - The seed URLs are the ones Session Desktop asks: `session-foundation/session-desktop`,
//!   `preload.js` (`window.getSeedNodeList`), at commit `1380d1eb1169c11985e354b4623505e6a7f433e7`
//!   (v1.17.14-120, 2026-04-01). Mainnet has three HTTPS seeds on port 4443; testnet has one, on
//!   plain HTTP. The JSON-RPC endpoint is the seed URL followed by `json_rpc`
//!   (`ts/session/apis/seed_node_api/SeedNodeAPI.ts`, `getSnodesFromSeedUrl`).
//! - The pins are Session Desktop's, same commit, `ts/session/apis/seed_node_api/SeedNodeAPI.ts`
//!   (`getSslAgentForSeedNode`): for each mainnet seed the SHA-256 of the certificate's public key
//!   in base64 and the SHA-256 of the whole certificate, and the certificate itself (self-signed,
//!   CN `seedN.getsession.org`, issued by "Oxen Privacy Tech Foundation", valid 2023-04-05 to
//!   2033-04-05). Desktop requires both pins to match; its comment notes that the certificate
//!   pinned is the 10-year one served on port 4443 (not the one on 4433).
//! - Newer libsession-util (`session-foundation/libsession-util`, `src/network.cpp` on its
//!   `libquic` branch, commit `776bac0b7aeba37a5d610759c6b05e3149b048fc`) bootstraps differently:
//!   over QUIC from five built-in service nodes known by their Ed25519 keys. That is not the
//!   seeds' JSON-RPC the relay speaks, so it is not used here.
//!
//! The relay pins each mainnet seed by its whole certificate, which fixes the public key as well,
//! so it is exactly as strict as Desktop's two checks together.

use std::fmt;
use std::str::FromStr;

use crate::relay::Seed;
use crate::tls::{Pin, PinError};

/// A seed of a real Session network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionSeed {
    /// The seed's URL as Session's clients write it (ending in `/`).
    pub url: &'static str,
    /// The SHA-256 of its certificate's public key (SubjectPublicKeyInfo), in base64; `None` for a
    /// plain-HTTP seed.
    pub public_key_pin: Option<&'static str>,
    /// The SHA-256 of its whole certificate, as `openssl x509 -fingerprint -sha256` prints it;
    /// `None` for a plain-HTTP seed.
    pub certificate_pin: Option<&'static str>,
}

impl SessionSeed {
    /// The JSON-RPC URL (`…/json_rpc`).
    pub fn json_rpc_url(&self) -> String {
        format!("{}json_rpc", self.url)
    }

    /// The pins a relay checks this seed's certificate against: the whole certificate's.
    pub fn pins(&self) -> Result<Vec<Pin>, PinError> {
        self.certificate_pin.map(str::parse).into_iter().collect()
    }

    /// The seed as a relay reads it.
    pub fn relay_seed(&self) -> Result<Seed, PinError> {
        Ok(Seed { url: self.json_rpc_url(), pins: self.pins()? })
    }
}

/// Session mainnet's seeds, with Session Desktop's pins.
pub const MAINNET_SEEDS: [SessionSeed; 3] = [
    SessionSeed {
        url: "https://seed1.getsession.org:4443/",
        public_key_pin: Some("mlYTXvkmIEYcpswANTpnBwlz9Cswi0py/RQKkbdQOZQ="),
        certificate_pin: Some(
            "36:EA:0B:25:35:37:98:85:51:EE:85:6E:4F:D2:0D:55:01:1E:9C:8B:27:EA:A2:F3:4B:8F:32:A0:BD:F0:4F:2D",
        ),
    },
    SessionSeed {
        url: "https://seed2.getsession.org:4443/",
        public_key_pin: Some("ZuUxe4wopBR83Yy5fePPNX0c00BnkQCu/49oapFpB0k="),
        certificate_pin: Some(
            "C5:90:8D:D4:13:9A:CD:96:AE:DD:1E:45:57:65:97:65:08:09:C8:A5:EA:02:AF:55:6D:48:53:D4:53:96:E0:E7",
        ),
    },
    SessionSeed {
        url: "https://seed3.getsession.org:4443/",
        public_key_pin: Some("4xe+8k1NjxerVTjUsWlZJNKt3PA7Y31pUls2tHYippA="),
        certificate_pin: Some(
            "8A:0A:F2:C7:12:34:2F:22:CE:00:E5:3C:16:01:41:0E:F8:D8:41:56:AE:E0:A9:80:9C:32:F6:F7:EF:BE:55:6E",
        ),
    },
];

/// Session testnet's seed: plain HTTP, so nothing to pin.
pub const TESTNET_SEEDS: [SessionSeed; 1] =
    [SessionSeed { url: "http://seed2.getsession.org:38157/", public_key_pin: None, certificate_pin: None }];

/// A real Session network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionNetwork {
    /// The network Session's apps use.
    Mainnet,
    /// Session's test network.
    Testnet,
}

impl SessionNetwork {
    /// Every network, by name.
    pub const ALL: [SessionNetwork; 2] = [SessionNetwork::Mainnet, SessionNetwork::Testnet];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            SessionNetwork::Mainnet => "mainnet",
            SessionNetwork::Testnet => "testnet",
        }
    }

    /// Its seeds.
    pub fn seeds(self) -> &'static [SessionSeed] {
        match self {
            SessionNetwork::Mainnet => &MAINNET_SEEDS,
            SessionNetwork::Testnet => &TESTNET_SEEDS,
        }
    }

    /// Its seeds as a relay reads them, each with its pins.
    pub fn relay_seeds(self) -> Result<Vec<Seed>, PinError> {
        self.seeds().iter().map(SessionSeed::relay_seed).collect()
    }
}

impl fmt::Display for SessionNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A network name that is not one of [`SessionNetwork::ALL`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownNetwork(pub String);

impl fmt::Display for UnknownNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a Session network: the networks are mainnet and testnet", self.0)
    }
}

impl std::error::Error for UnknownNetwork {}

impl FromStr for SessionNetwork {
    type Err = UnknownNetwork;

    fn from_str(name: &str) -> Result<SessionNetwork, UnknownNetwork> {
        SessionNetwork::ALL.into_iter().find(|n| n.name() == name).ok_or_else(|| UnknownNetwork(name.to_owned()))
    }
}
