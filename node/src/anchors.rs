//! The devnet's `/network.json`: the trust anchors of the app it serves.
//!
//! The app checks the relay's node list against the network, asking a few trusted service nodes
//! (its anchors) through onion paths; it reads them from its own origin, never from the relay.
//! A build's `public/network.json` holds mainnet's; a devnet, which serves the app and its relay
//! on one origin, answers this route instead with its own nodes' keys, so the same build works
//! against it. The standalone relay serves the build's file as it is.

use axum::Router;
use axum::http::header;
use axum::routing::get;
use serde_json::{Value, json};

use crate::network::Network;

/// Where the app reads its anchors (relative to its own origin).
pub const PATH: &str = "/network.json";

/// The file server a `network.json` names: where the app uploads files.
#[derive(Clone, Debug)]
pub struct FileServerEntry {
    /// `http://host:port`.
    pub url: String,
    /// Its Ed25519 key.
    pub ed25519: [u8; 32],
}

/// The `network.json` of `network`: every node's Ed25519 and X25519 key, and the file server
/// its app uploads to, when it has its own (without, the app uses Session's).
pub fn network_json(network: &Network, file_server: Option<&FileServerEntry>) -> Value {
    let anchors: Vec<Value> = network
        .nodes()
        .iter()
        .map(|n| json!({ "pubkey_ed25519": hex::encode(n.info.ed25519), "pubkey_x25519": hex::encode(n.info.x25519) }))
        .collect();
    let mut doc = json!({ "network": "devnet", "anchors": anchors });
    if let (Some(files), Some(map)) = (file_server, doc.as_object_mut()) {
        map.insert("file_server".into(), json!({ "url": files.url, "pubkey_ed25519": hex::encode(files.ed25519) }));
    }
    doc
}

/// `app` with [`PATH`] answered from `network` (ahead of any static file of that name).
pub fn serve(app: Router, network: &Network, file_server: Option<&FileServerEntry>) -> Router {
    let body = network_json(network, file_server).to_string();
    app.route(
        PATH,
        get(move || {
            let body = body.clone();
            async move {
                (
                    [
                        (header::CONTENT_TYPE, "application/json"),
                        (header::CACHE_CONTROL, "no-cache"),
                        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                    ],
                    body,
                )
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::network::Node;
    use crate::store::Store;

    #[test]
    fn network_json_lists_every_node_by_its_keys() {
        let nodes = (1..=3u8)
            .map(|i| Arc::new(Node::new(&[i; 32], "127.0.0.1".into(), 22100, 0, Store::in_memory().unwrap())))
            .collect();
        let network = Network::new(nodes);
        let files = FileServerEntry { url: "http://127.0.0.1:22024".into(), ed25519: [9; 32] };
        let doc = network_json(&network, Some(&files));
        assert_eq!(doc["file_server"]["url"], "http://127.0.0.1:22024");
        assert_eq!(doc["file_server"]["pubkey_ed25519"], hex::encode([9; 32]));
        assert!(network_json(&network, None).get("file_server").is_none());
        let anchors = doc["anchors"].as_array().unwrap();
        assert_eq!(anchors.len(), 3);
        for (a, n) in anchors.iter().zip(network.nodes()) {
            assert_eq!(a["pubkey_ed25519"], hex::encode(n.info.ed25519));
            assert_eq!(a["pubkey_x25519"], hex::encode(n.info.x25519));
        }
        let parsed = crypto_core::network::anchors::Anchors::parse(doc.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.len(), 3, "the app reads it as its anchors");
    }
}
