//! An in-memory backend: the same contract as IndexedDB, for native tests.

use std::cell::RefCell;
use std::collections::BTreeMap;

use super::{Backend, StorageError};

/// Records in memory.
#[derive(Debug, Default)]
pub struct MemoryBackend {
    records: RefCell<BTreeMap<(String, String), Vec<u8>>>,
}

impl Backend for MemoryBackend {
    async fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.records.borrow().get(&(store.to_owned(), key.to_owned())).cloned())
    }

    async fn put(&self, store: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
        self.records.borrow_mut().insert((store.to_owned(), key.to_owned()), value.to_vec());
        Ok(())
    }

    async fn delete(&self, store: &str, key: &str) -> Result<(), StorageError> {
        self.records.borrow_mut().remove(&(store.to_owned(), key.to_owned()));
        Ok(())
    }

    async fn keys(&self, store: &str) -> Result<Vec<String>, StorageError> {
        Ok(self.records.borrow().keys().filter(|(s, _)| s == store).map(|(_, k)| k.clone()).collect())
    }

    async fn clear(&self) -> Result<(), StorageError> {
        self.records.borrow_mut().clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::MemoryBackend;
    use crate::storage::conformance as suite;
    use futures::executor::block_on;

    #[test]
    fn create_then_unlock() {
        block_on(suite::create_then_unlock(MemoryBackend::default()));
    }
    #[test]
    fn wrong_passphrase_changes_nothing() {
        block_on(suite::wrong_passphrase_changes_nothing(MemoryBackend::default()));
    }
    #[test]
    fn nothing_is_stored_in_the_clear() {
        block_on(suite::nothing_is_stored_in_the_clear(MemoryBackend::default()));
    }
    #[test]
    fn a_damaged_record_loses_nothing_else() {
        block_on(suite::a_damaged_record_loses_nothing_else(MemoryBackend::default()));
    }
    #[test]
    fn refusals() {
        block_on(suite::refusals(MemoryBackend::default()));
    }
    #[test]
    fn change_passphrase_and_wipe() {
        block_on(suite::change_passphrase_and_wipe(MemoryBackend::default()));
    }
}
