//! Certificates: each node's self-signed certificate, and a client that trusts a certificate only
//! by a pinned SHA-256 fingerprint of the certificate or of its public key.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use anyhow::Context;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

/// Installs the process-wide TLS provider (ring). Safe to call more than once.
pub fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The PEM certificate and key at `dir/cert.pem` and `dir/key.pem`, made on first use for `ip`.
pub fn load_or_create_cert(dir: &Path, ip: &str) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    if let (Ok(cert), Ok(key)) = (std::fs::read(&cert_path), std::fs::read(&key_path)) {
        return Ok((cert, key));
    }
    let certified = rcgen::generate_simple_self_signed(vec![ip.to_owned(), "localhost".to_owned()])
        .context("generating a self-signed certificate")?;
    let cert = certified.cert.pem().into_bytes();
    let key = certified.signing_key.serialize_pem().into_bytes();
    std::fs::write(&cert_path, &cert).with_context(|| format!("writing {}", cert_path.display()))?;
    std::fs::write(&key_path, &key).with_context(|| format!("writing {}", key_path.display()))?;
    Ok((cert, key))
}

/// SHA-256 of a certificate's DER bytes.
pub fn fingerprint(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// SHA-256 of a certificate's public key (its DER SubjectPublicKeyInfo), the pin Session Desktop
/// keeps for each seed; `None` when the certificate does not parse.
pub fn spki_fingerprint(der: &[u8]) -> Option<[u8; 32]> {
    let cert = CertificateDer::from(der);
    let parsed = webpki::EndEntityCert::try_from(&cert).ok()?;
    Some(Sha256::digest(parsed.subject_public_key_info().as_ref()).into())
}

/// A pinned certificate.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pin {
    /// SHA-256 of the whole certificate: 64 hex characters, colons allowed (as
    /// `openssl x509 -noout -fingerprint -sha256` prints it, `sha256 Fingerprint=` included or not).
    Certificate([u8; 32]),
    /// SHA-256 of the certificate's public key (SubjectPublicKeyInfo): 44 base64 characters,
    /// optionally after `sha256/` (protocol-core §5 lists the real seeds' pins in this form).
    PublicKey([u8; 32]),
}

/// Why a `--seed-pin` value is not a pin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinError(String);

impl fmt::Display for PinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a pin: give the certificate's SHA-256 as 64 hex characters, or its public key's \
             SHA-256 as 44 base64 characters",
            self.0
        )
    }
}

impl std::error::Error for PinError {}

impl FromStr for Pin {
    type Err = PinError;

    fn from_str(text: &str) -> Result<Pin, PinError> {
        use base64::Engine;
        let trimmed = text.trim();
        // `openssl x509 -fingerprint` prints `sha256 Fingerprint=AB:CD:…`; the name may be pasted too.
        let fingerprint = trimmed.split_once("Fingerprint=").map_or(trimmed, |(_, fp)| fp);
        let hex_digits = fingerprint.replace(':', "");
        let mut out = [0u8; 32];
        if hex_digits.len() == 64 && hex::decode_to_slice(&hex_digits, &mut out).is_ok() {
            return Ok(Pin::Certificate(out));
        }
        let b64 = trimmed.strip_prefix("sha256/").unwrap_or(trimmed);
        match base64::engine::general_purpose::STANDARD.decode(b64).map(<[u8; 32]>::try_from) {
            Ok(Ok(key)) => Ok(Pin::PublicKey(key)),
            _ => Err(PinError(text.to_owned())),
        }
    }
}

impl Pin {
    /// Whether the certificate with these DER bytes matches the pin.
    pub fn matches(&self, der: &[u8]) -> bool {
        match self {
            Pin::Certificate(fp) => fingerprint(der) == *fp,
            Pin::PublicKey(fp) => spki_fingerprint(der).is_some_and(|spki| spki == *fp),
        }
    }
}

/// The SHA-256 fingerprint of the first certificate in a PEM file.
pub fn pem_fingerprint(pem: &[u8]) -> Option<[u8; 32]> {
    let text = std::str::from_utf8(pem).ok()?;
    let start = text.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = text[start..].find("-----END CERTIFICATE-----")? + start;
    let b64: String = text[start..end].chars().filter(|c| !c.is_whitespace()).collect();
    use base64::Engine;
    let der = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    Some(fingerprint(&der))
}

/// Accepts exactly the certificates that match a pin; handshake signatures are still checked.
#[derive(Debug)]
pub struct PinnedVerifier {
    pins: Vec<Pin>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.pins.iter().any(|pin| pin.matches(end_entity.as_ref())) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("certificate is not pinned".into()))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// An HTTPS client that trusts only certificates that match one of these pins, and follows no
/// redirect.
pub fn pinned_client(pins: Vec<Pin>, timeout: std::time::Duration) -> anyhow::Result<reqwest::Client> {
    install_provider();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedVerifier { pins, provider }))
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(config)
        // A redirect would be a request to a host the pins were not meant for: never followed.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .context("building the HTTPS client")
}
