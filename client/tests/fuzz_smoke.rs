//! The engine's fuzz entry points (`hush_client::fuzzing`: vault records and migrations) over
//! their seed inputs and mutations of them, as part of every test run (the real fuzzing runs are
//! `scripts/fuzz.sh`). The seeds are also the fuzz targets' starting corpus: `cargo test -p
//! hush-client --features fuzzing --test fuzz_smoke -- --ignored write_fuzz_seeds` writes them
//! to `fuzz/seeds/`.

use crypto_core::identity::Seed;
use crypto_core::internal::fuzz_support::run_mutated;
use hush_client::account::Account;
use hush_client::conversations::{self, Conversation, Standing};
use hush_client::fuzzing::{self, FuzzRng, Opened, SEED, TIMESTAMP, message_id, peer, record_slots};
use hush_client::storage::index::Page;
use serde_json::{Value, json};

/// Bytes that matter to JSON or to the inputs' own separators, for the mutator to write over a
/// byte.
const SPECIAL: &[u8] = b"{}[]\",:0-9eE.\\\x00\xff";

fn account() -> Vec<u8> {
    Account::new(&Seed::from_bytes(SEED), "Alice").to_bytes().to_vec()
}

fn message() -> Vec<u8> {
    let msg = conversations::outgoing(&peer(), "hi", TIMESTAMP, "Alice", "ZGF0YQ==".into(), String::new());
    assert_eq!(msg.id, message_id());
    serde_json::to_vec(&msg).unwrap()
}

fn conversation() -> Value {
    serde_json::to_value(Conversation::new(&peer(), Standing::Accepted)).unwrap()
}

/// A schema-2 conversation record: the conversation with every message id.
fn old_conversation() -> Vec<u8> {
    let mut old = conversation();
    let record = old.as_object_mut().unwrap();
    record.remove("pages");
    record.insert("messages".into(), json!([message_id(), "in/missing"]));
    old.to_string().into_bytes()
}

/// One plaintext per slot of `record_slots`, each after its slot's byte.
fn record_seeds() -> Vec<Vec<u8>> {
    let plaintexts: Vec<Vec<u8>> = vec![
        account(),
        json!(["hash-a", "hash-b"]).to_string().into_bytes(),
        json!({"guards": ["aa".repeat(32)], "last_hashes": [["bb".repeat(32), 0, "hash"]]}).to_string().into_bytes(),
        json!([message_id()]).to_string().into_bytes(),
        json!([peer().to_string()]).to_string().into_bytes(),
        json!("a draft").to_string().into_bytes(),
        json!(conversation()).to_string().into_bytes(),
        message(),
        serde_json::to_vec(&Page { entries: vec![(TIMESTAMP, message_id())] }).unwrap(),
        old_conversation(),
    ];
    assert_eq!(plaintexts.len(), record_slots().len());
    plaintexts
        .into_iter()
        .enumerate()
        .map(|(slot, plain)| {
            let mut seed = vec![slot as u8];
            seed.extend(plain);
            seed
        })
        .collect()
}

/// A migration input: `schema`, then records `(kind, id, plaintext)`.
fn migration_input(schema: u8, records: &[(u8, &[u8], &[u8])]) -> Vec<u8> {
    let mut out = vec![schema];
    for (kind, id, plain) in records {
        out.push(0xff);
        out.push(*kind);
        out.extend_from_slice(id);
        out.push(0);
        out.extend_from_slice(plain);
    }
    out
}

/// Vaults of schemas 0, 1 and 2 with an old conversation, its message and the account.
fn migration_seeds() -> Vec<Vec<u8>> {
    let (account, message, old) = (account(), message(), old_conversation());
    let (peer, id) = (peer().to_string(), message_id());
    let records: [(u8, &[u8], &[u8]); 3] =
        [(0, b"account", &account), (1, peer.as_bytes(), &old), (2, id.as_bytes(), &message)];
    let mut seeds: Vec<Vec<u8>> = (0..3).map(|schema| migration_input(schema, &records)).collect();
    // Schema 3 with a raw (unsealed) record and a damaged sealed one.
    seeds.push(migration_input(3, &[(0, b"account", &account), (10, b"x", b"not sealed"), (3, peer.as_bytes(), b"{")]));
    seeds
}

#[test]
fn vault_records_survive_mutated_plaintexts() {
    let seeds = record_seeds();
    assert!(fuzzing::vault_record(&seeds[0]).unwrap().account, "the account record is read");
    assert_eq!(fuzzing::vault_record(&seeds[5]).unwrap().draft, "a draft".len());
    assert_eq!(fuzzing::vault_record(&seeds[6]).unwrap().conversations, 1);
    assert_eq!(fuzzing::vault_record(&seeds[9]).unwrap().conversations, 1, "an old record is migrated");
    run_mutated(&mut FuzzRng(1), &seeds, 600, SPECIAL, |input| {
        fuzzing::vault_record(input);
    });
}

#[test]
fn migrations_survive_mutated_vaults() {
    let seeds = migration_seeds();
    for seed in &seeds[..3] {
        let opened = fuzzing::vault_migrations(seed).unwrap();
        assert_eq!(
            opened,
            Opened { account: true, conversations: 1, messages: 1, draft: 0 },
            "the old conversation is moved and its message found"
        );
    }
    assert_eq!(fuzzing::vault_migrations(&seeds[3]).unwrap().conversations, 0);
    run_mutated(&mut FuzzRng(2), &seeds, 400, SPECIAL, |input| {
        fuzzing::vault_migrations(input);
    });
}

/// Writes the seeds to `fuzz/seeds/<target>/` (run by hand when they change).
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    for (target, seeds) in [("vault_records", record_seeds()), ("vault_migrations", migration_seeds())] {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, seed) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:02}")), seed).unwrap();
        }
    }
}
