//! Entry points for the fuzz targets in `crypto-core/fuzz/` (not a stable API).

/// Fuzzing entry points: each feeds arbitrary bytes to a parser that sees untrusted input.
/// None of them may panic.
pub mod fuzzing {
    use std::sync::OnceLock;

    use crate::identity::Identity;
    use crate::wire::{Content, Envelope};
    use crate::{message, mnemonic, onion, padding, seal};

    fn recipient() -> &'static Identity {
        static RECIPIENT: OnceLock<Identity> = OnceLock::new();
        RECIPIENT.get_or_init(|| Identity::from_ed25519_seed(&[7; 32]))
    }

    /// Recovery-phrase decoding, as typed by a person.
    pub fn decode_phrase(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        let _ = mnemonic::decode(&text);
        let _ = mnemonic::decode_seed(&text);
    }

    /// Opening a message: the storage `data` text, a raw frame, and a raw sealed box.
    pub fn open_message(data: &[u8]) {
        let _ = message::open_message(recipient(), &String::from_utf8_lossy(data));
        if let Ok(envelope) = message::decode_frame(data) {
            let _ = message::open_envelope(recipient(), envelope);
        }
        if let Ok(opened) = seal::open(recipient(), data) {
            let _ = Content::decode_checked(padding::unpad(&opened.plaintext));
        }
    }

    /// The storage `data` wrapper and the protobuf messages inside it.
    pub fn decode_storage_data(data: &[u8]) {
        let _ = message::decode_data(&String::from_utf8_lossy(data));
        let _ = message::decode_frame(data);
        let _ = Envelope::decode_checked(data);
        let _ = Content::decode_checked(data);
        let _ = padding::unpad(data);
    }

    /// A node's parsing of an onion request body, and a client's reading of a reply.
    pub fn peel_onion(data: &[u8]) {
        let _ = onion::peel_as(recipient(), data);
        let _ = onion::split_frame(data);
        let _ = onion::v4::decode_response(data);
        let key = onion::LayerKey::from_bytes([9; 32], onion::EncType::XChaCha20);
        let _ = onion::unwrap_node_reply(&key, data);
        let _ = onion::classify_path_failure(502, data);
    }
}
