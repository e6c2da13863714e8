//! crypto-core inside a real browser (headless Chromium through wasm-bindgen-test), with
//! randomness from WebCrypto.
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p crypto-core --target wasm32-unknown-unknown --test browser`

#![cfg(target_arch = "wasm32")]

use crypto_core::identity::Identity;
use crypto_core::seal::{self, OpenError};
use crypto_core::{message, mnemonic, padding};
use rand_core::OsRng;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn seals_and_opens_a_message_in_the_browser() {
    let alice = Identity::generate(&mut OsRng);
    let bob = Identity::generate(&mut OsRng);
    let padded = padding::pad(b"hello from the browser");
    let sealed = seal::seal(&mut OsRng, &alice, &bob.session_id(), &padded).unwrap();
    let opened = seal::open(&bob, &sealed).unwrap();
    assert_eq!(opened.sender, alice.session_id());
    assert_eq!(padding::unpad(&opened.plaintext), b"hello from the browser");

    let mut tampered = sealed;
    tampered[40] ^= 1;
    assert_eq!(seal::open(&bob, &tampered).unwrap_err(), OpenError);
}

#[wasm_bindgen_test]
fn the_whole_pipeline_in_the_browser() {
    let alice = Identity::generate(&mut OsRng);
    let bob = Identity::generate(&mut OsRng);
    let content = message::text_message("hi Bob", Some("Alice"));
    let data = message::seal_message(&mut OsRng, &alice, &bob.session_id(), content, 1_764_000_000_000).unwrap();
    let received = message::open_message(&bob, &data).unwrap();
    assert_eq!(received.sender, alice.session_id());
    assert_eq!(received.content.data_message.unwrap().body.as_deref(), Some("hi Bob"));
}

#[wasm_bindgen_test]
fn phrases_round_trip_in_the_browser() {
    let identity = Identity::generate(&mut OsRng);
    let phrase = identity.phrase().unwrap();
    let seed = mnemonic::decode_seed(phrase.as_str()).unwrap();
    assert_eq!(Identity::from_seed(&seed).session_id(), identity.session_id());
}
