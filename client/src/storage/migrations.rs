//! The vault's data migrations: one function per schema step, run in order by `Vault::migrate`,
//! which writes the new version after each. A step may be cut short (the tab closes, the browser's
//! storage refuses a write); it then runs again from the start at the next unlock, so every step
//! derives what it writes from what is still there and can run any number of times.
//!
//! Each step reads the records as the schema before it wrote them, whatever the current types
//! look like: old formats are parsed here, not through today's structs.

use rand_core::OsRng;
use serde_json::Value;
use zeroize::Zeroizing;

use crypto_core::identity::Seed;
use crypto_core::vault::RecordFormat;

use super::{Backend, StorageError, Vault, index, stores};

/// The account record's id in the `account` store.
const ACCOUNT_ID: &[u8] = b"account";

/// Schema 1 → 2: a second wrap of the data key, by a key derived from the account's seed, so the
/// recovery phrase opens the vault when the passphrase is forgotten. The seed is in the account
/// record, readable only once the vault is open, so a schema-1 vault gets the wrap at its first
/// unlock. Without a readable account record there is nothing to wrap for (the unlock then fails
/// on the missing account anyway); the step does nothing.
pub(super) async fn v1_to_v2<B: Backend>(vault: &Vault<B>) -> Result<(), StorageError> {
    let record = match vault.get(stores::ACCOUNT, ACCOUNT_ID).await {
        Ok(Some(bytes)) => serde_json::from_slice::<Value>(&bytes).ok(),
        Ok(None) | Err(StorageError::Vault(_)) => None,
        Err(e) => return Err(e),
    };
    // The schema-1 account record keeps the 16-byte seed as `seed_hex`.
    let seed_hex = record.as_ref().and_then(|r| r.get("seed_hex")).and_then(Value::as_str).unwrap_or_default();
    let mut bytes = Zeroizing::new([0u8; 16]);
    if hex::decode_to_slice(seed_hex, bytes.as_mut_slice()).is_err() {
        return Ok(());
    }
    vault.set_recovery(&Seed::from_bytes(*bytes)).await
}

/// Schema 2 → 3: conversation records stop holding every message id. Each schema-2 record in
/// `conversations` (a JSON object whose `messages` lists its message ids, oldest first) becomes:
/// an index in `message-pages` (the ids with their messages' timestamps, sorted, in pages of
/// [`index::PAGE_ENTRIES`]); and a record in `conversations2` with every other field unchanged and
/// `pages` (the page count) in place of `messages`. The old record is deleted last, so a record
/// still in `conversations` has not been moved yet and is moved again (the same pages, the same
/// record). Ids whose message record is missing or damaged were never shown and are left out of
/// the index; the message records themselves are untouched. An old record that does not open or
/// is not a conversation stays where it is.
pub(super) async fn v2_to_v3<B: Backend>(vault: &Vault<B>) -> Result<(), StorageError> {
    for (lookup, plain) in vault.entries(stores::CONVERSATIONS_V1).await? {
        let Ok(Value::Object(mut record)) = serde_json::from_slice::<Value>(&plain) else { continue };
        let Some(peer) = record.get("peer").and_then(Value::as_str).map(str::to_owned) else { continue };
        let ids = match record.remove("messages") {
            Some(Value::Array(ids)) => ids,
            _ => Vec::new(),
        };
        let mut entries = Vec::with_capacity(ids.len());
        for id in ids.iter().filter_map(Value::as_str) {
            if let Some(timestamp) = timestamp_of(vault, id).await? {
                entries.push((timestamp, id.to_owned()));
            }
        }
        entries.sort();
        entries.dedup();
        let pages = index::write_index(vault, &peer, &entries).await?;
        record.insert("pages".to_owned(), pages.into());
        let bytes = Zeroizing::new(serde_json::to_vec(&record).unwrap_or_default());
        vault.put(stores::CONVERSATIONS, peer.as_bytes(), &bytes).await?;
        vault.writable()?;
        vault.backend.delete(stores::CONVERSATIONS_V1, &lookup).await?;
    }
    Ok(())
}

/// How many records [`v3_to_v4`] reads, then writes, together (IndexedDB answers requests issued
/// together much faster than one after another).
const REPAD_BATCH: usize = 64;

/// Schema 3 → 4: every record is padded. Schemas 1 to 3 sealed each value as it was, so a
/// record's stored size gave its value's to the byte; from schema 4 values are padded to size
/// buckets before they are sealed (`crypto_core::vault::padded_len`). Each record of every store
/// but `meta` that is still unpadded and opens is sealed again, padded, in its place (the same
/// lookup key, a fresh nonce); the value is unchanged. A record rewritten is padded and skipped by
/// a later run, one not yet rewritten is still readable as it was, so a step cut short loses
/// nothing and the next run finishes it. A record that does not open (damaged) is left as it is,
/// as every other step leaves it.
pub(super) async fn v3_to_v4<B: Backend>(vault: &Vault<B>) -> Result<(), StorageError> {
    for store in stores::ALL.iter().copied().filter(|s| *s != stores::META) {
        let keys = vault.backend.keys(store).await?;
        for batch in keys.chunks(REPAD_BATCH) {
            let read = futures::future::join_all(batch.iter().map(|lookup| vault.backend.get(store, lookup))).await;
            let mut resealed = Vec::with_capacity(batch.len());
            for (lookup, sealed) in batch.iter().zip(read) {
                let Some(sealed) = sealed? else { continue };
                if RecordFormat::of(&sealed) != Ok(RecordFormat::Unpadded) {
                    continue;
                }
                if let Ok(value) = vault.key.open_record(store, lookup, &sealed) {
                    resealed.push((lookup, vault.key.seal_record(&mut OsRng, store, lookup, &value)));
                }
            }
            vault.writable()?;
            let written = futures::future::join_all(
                resealed.iter().map(|(lookup, sealed)| vault.backend.put(store, lookup, sealed)),
            )
            .await;
            written.into_iter().collect::<Result<Vec<()>, StorageError>>()?;
        }
    }
    Ok(())
}

/// The `timestamp` of the message record `id`, if it opens.
async fn timestamp_of<B: Backend>(vault: &Vault<B>, id: &str) -> Result<Option<u64>, StorageError> {
    match vault.get(stores::MESSAGES, id.as_bytes()).await {
        Ok(Some(bytes)) => {
            Ok(serde_json::from_slice::<Value>(&bytes).ok().and_then(|m| m.get("timestamp").and_then(Value::as_u64)))
        }
        Ok(None) | Err(StorageError::Vault(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
