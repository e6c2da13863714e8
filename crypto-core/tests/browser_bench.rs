//! Seal and open of a 1 KB message inside headless Chromium, timed with the page's clock.
//! Not a test of correctness: `scripts/bench-browser.sh` runs it, built with the profile the app
//! ships (`wasm-release`), and prints µs per operation.
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test --profile wasm-release -p crypto-core --target wasm32-unknown-unknown --test browser_bench -- --nocapture`

#![cfg(target_arch = "wasm32")]

use crypto_core::identity::{self, Identity};
use crypto_core::{mnemonic, seal};
use curve25519_dalek::montgomery::MontgomeryPoint;
use rand_core::OsRng;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// `performance.now()` in milliseconds (finer than `Date.now()`).
fn now() -> f64 {
    let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).unwrap();
    let now: js_sys::Function = js_sys::Reflect::get(&performance, &"now".into()).unwrap().into();
    now.call0(&performance).unwrap().as_f64().unwrap()
}

/// One operation to time: its name, how many calls make a batch, and the call.
struct Op<'a> {
    name: &'static str,
    batch: u32,
    run: Box<dyn FnMut() + 'a>,
    best: f64,
    total: f64,
    calls: u32,
}

impl<'a> Op<'a> {
    fn new(name: &'static str, batch: u32, run: impl FnMut() + 'a) -> Op<'a> {
        Op { name, batch, run: Box::new(run), best: f64::MAX, total: 0.0, calls: 0 }
    }
}

/// Warms up for two seconds (V8 runs WebAssembly in its baseline compiler first and swaps in
/// optimised code in the background), then times the operations in interleaved batches, so that
/// a busy moment of the machine falls on all of them alike. Prints the best batch and the mean.
fn time_all(ops: &mut [Op<'_>], rounds: u32) {
    let warm = now();
    while now() - warm < 2000.0 {
        for op in ops.iter_mut() {
            (op.run)();
        }
    }
    for _ in 0..rounds {
        for op in ops.iter_mut() {
            let start = now();
            for _ in 0..op.batch {
                (op.run)();
            }
            let micros = (now() - start) * 1000.0;
            op.best = op.best.min(micros / f64::from(op.batch));
            op.total += micros;
            op.calls += op.batch;
        }
    }
    for op in ops.iter() {
        console_log!("BENCH {} {:.2} {:.2}", op.name, op.best, op.total / f64::from(op.calls));
    }
}

#[wasm_bindgen_test]
fn seal_and_open_1kb_in_the_browser() {
    let alice = Identity::from_ed25519_seed(&[1; 32]);
    let bob = Identity::from_ed25519_seed(&[2; 32]);
    let bob_id = bob.session_id();
    let plaintext = vec![0x61u8; 1024];
    let sealed = seal::seal(&mut OsRng, &alice, &bob_id, &plaintext).unwrap();
    let phrase = "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi";

    // What seal and open are made of, for reading the figures above.
    let secret = [7u8; 32];
    let public = MontgomeryPoint::mul_base_clamped([9u8; 32]);
    let signed = vec![0x61u8; 1120];
    let signature = alice.sign(&signed);
    let alice_ed = *alice.ed25519_public();

    let mut ops = [
        Op::new("seal", 20, || {
            std::hint::black_box(seal::seal(&mut OsRng, &alice, &bob_id, &plaintext).unwrap());
        }),
        Op::new("open", 20, || {
            std::hint::black_box(seal::open(&bob, &sealed).unwrap());
        }),
        Op::new("phrase", 500, || {
            std::hint::black_box(mnemonic::decode_seed(phrase).unwrap());
        }),
        Op::new("part:x25519", 20, || {
            std::hint::black_box(public.mul_clamped(secret));
        }),
        Op::new("part:x25519_base", 20, || {
            std::hint::black_box(MontgomeryPoint::mul_base_clamped(secret));
        }),
        Op::new("part:ed25519_sign_1120", 20, || {
            std::hint::black_box(alice.sign(&signed));
        }),
        Op::new("part:ed25519_verify_1120", 20, || {
            std::hint::black_box(identity::verify_ed25519(&alice_ed, &signed, &signature));
        }),
        Op::new("part:ed25519_to_x25519", 20, || {
            std::hint::black_box(identity::ed25519_to_x25519_public(&alice_ed));
        }),
    ];
    time_all(&mut ops, 15);
}
