//! Seal and open of a 1 KB message inside headless Chromium, timed with the page's clock.
//! Not a test of correctness: `scripts/bench-browser.sh` runs it (release build) and prints µs/op.
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test --release -p crypto-core --target wasm32-unknown-unknown --test browser_bench -- --nocapture`

#![cfg(target_arch = "wasm32")]

use crypto_core::identity::Identity;
use crypto_core::{mnemonic, seal};
use rand_core::OsRng;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn time(name: &str, iterations: u32, mut f: impl FnMut()) {
    for _ in 0..iterations / 10 {
        f();
    }
    let start = js_sys::Date::now();
    for _ in 0..iterations {
        f();
    }
    let micros = (js_sys::Date::now() - start) * 1000.0 / f64::from(iterations);
    console_log!("BENCH {name} {micros:.2}");
}

#[wasm_bindgen_test]
fn seal_and_open_1kb_in_the_browser() {
    let alice = Identity::from_ed25519_seed(&[1; 32]);
    let bob = Identity::from_ed25519_seed(&[2; 32]);
    let bob_id = bob.session_id();
    let plaintext = vec![0x61u8; 1024];
    let sealed = seal::seal(&mut OsRng, &alice, &bob_id, &plaintext).unwrap();
    time("seal", 400, || {
        std::hint::black_box(seal::seal(&mut OsRng, &alice, &bob_id, &plaintext).unwrap());
    });
    time("open", 400, || {
        std::hint::black_box(seal::open(&bob, &sealed).unwrap());
    });
    let phrase = "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi";
    time("phrase", 20000, || {
        std::hint::black_box(mnemonic::decode_seed(phrase).unwrap());
    });
}
