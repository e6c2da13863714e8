//! Native benchmarks of what every message costs: sealing and opening a 1 KB message (sign then
//! sealed box; open, verify, derive the sender), the whole 1:1 pipeline, phrase decoding, and the
//! two ways to an X25519 shared point.
//! `scripts/bench.sh` runs these next to libsodium (PyNaCl) in the same run.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use crypto_core::identity::Identity;
use crypto_core::{message, mnemonic, seal};
use curve25519_dalek::montgomery::MontgomeryPoint;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn benches(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let alice = Identity::from_ed25519_seed(&[1; 32]);
    let bob = Identity::from_ed25519_seed(&[2; 32]);
    let bob_id = bob.session_id();
    let plaintext = vec![0x61u8; 1024];
    let sealed = seal::seal(&mut rng, &alice, &bob_id, &plaintext).unwrap();

    c.bench_function("seal 1 KB (sign + sealed box)", |b| {
        b.iter(|| seal::seal(&mut rng, &alice, black_box(&bob_id), black_box(&plaintext)).unwrap())
    });
    c.bench_function("open 1 KB (sealed box open + verify + sender key)", |b| {
        b.iter(|| seal::open(&bob, black_box(&sealed)).unwrap())
    });

    let body = "a".repeat(1024);
    let data = message::seal_message(&mut rng, &alice, &bob_id, message::text_message(&body, None), 1_700_000_000_000)
        .unwrap();
    c.bench_function("seal_message 1 KB body (protobuf, pad, seal, frame, base64)", |b| {
        b.iter(|| {
            message::seal_message(
                &mut rng,
                &alice,
                &bob_id,
                message::text_message(black_box(&body), None),
                1_700_000_000_000,
            )
            .unwrap()
        })
    });
    c.bench_function("open_message 1 KB body", |b| b.iter(|| message::open_message(&bob, black_box(&data)).unwrap()));

    // Why seal.rs computes X25519 through the Edwards form: the two ways to the same shared point.
    let secret = [0x42u8; 32];
    let public = MontgomeryPoint(*bob.x25519_public());
    c.bench_function("x25519 shared point: Montgomery ladder", |b| {
        b.iter(|| black_box(public).mul_clamped(black_box(secret)))
    });
    c.bench_function("x25519 shared point: via Edwards", |b| {
        b.iter(|| black_box(public).to_edwards(0).unwrap().mul_clamped(black_box(secret)).to_montgomery())
    });

    let phrase = "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi";
    c.bench_function("decode 13-word phrase", |b| b.iter(|| mnemonic::decode_seed(black_box(phrase)).unwrap()));
}

criterion_group!(name = group; config = Criterion::default().sample_size(50); targets = benches);
criterion_main!(group);
