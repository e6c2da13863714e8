//! Native benchmarks of the attachment ciphers on a 10 MB file, the largest any client sends:
//! the legacy scheme (zero padding, AES-256-CBC, HMAC-SHA256, SHA-256 digest) and the
//! deterministic one (BLAKE2b-448 key derivation, then secretstream), each way.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crypto_core::attachment::{self, Domain, MAX_FILE_BYTES};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

fn benches(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut file = vec![0u8; MAX_FILE_BYTES];
    rng.fill_bytes(&mut file);
    let seed = [7u8; 32];

    let mut group = c.benchmark_group("attachment 10 MB");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(file.len() as u64));

    let legacy = attachment::encrypt_legacy(&mut rng, &file).unwrap();
    let digest = legacy.digest.unwrap();
    group.bench_function("encrypt_legacy", |b| b.iter(|| attachment::encrypt_legacy(&mut rng, black_box(&file))));
    group.bench_function("decrypt_legacy", |b| {
        b.iter(|| {
            attachment::decrypt_legacy(black_box(&legacy.data), &legacy.key, Some(&digest), Some(file.len() as u64))
                .unwrap()
        })
    });

    let deterministic = attachment::encrypt_deterministic(&seed, &file, Domain::Attachment).unwrap();
    group.bench_function("encrypt_deterministic", |b| {
        b.iter(|| attachment::encrypt_deterministic(&seed, black_box(&file), Domain::Attachment).unwrap())
    });
    group.bench_function("decrypt_deterministic", |b| {
        b.iter(|| attachment::decrypt_deterministic(black_box(&deterministic.data), &deterministic.key).unwrap())
    });
    group.finish();
}

criterion_group!(attachment_benches, benches);
criterion_main!(attachment_benches);
