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
    use crate::conformance as suite;
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
    fn costly_stored_parameters_are_refused() {
        block_on(suite::costly_stored_parameters_are_refused(MemoryBackend::default()));
    }

    #[test]
    fn change_passphrase_rewraps_only_the_passphrase_wrap() {
        block_on(suite::change_passphrase_rewraps_only_the_passphrase_wrap(MemoryBackend::default()));
    }

    #[test]
    fn the_recovery_phrase_opens_the_vault() {
        block_on(suite::the_recovery_phrase_opens_the_vault(MemoryBackend::default()));
    }

    #[test]
    fn writes_after_close_or_wipe_are_refused() {
        block_on(suite::writes_after_close_or_wipe_are_refused(MemoryBackend::default()));
    }

    #[test]
    fn messages_are_filed_in_pages_and_paged_back_in_order() {
        block_on(suite::messages_are_filed_in_pages_and_paged_back_in_order(MemoryBackend::default()));
    }

    #[test]
    fn late_messages_never_grow_a_page_past_its_limit() {
        block_on(suite::late_messages_never_grow_a_page_past_its_limit(MemoryBackend::default()));
    }

    #[test]
    fn messages_filed_at_once_under_the_lock_all_stay() {
        block_on(suite::messages_filed_at_once_under_the_lock_all_stay(MemoryBackend::default()));
    }

    #[test]
    fn large_values_of_one_size_each_read_back() {
        block_on(suite::large_values_of_one_size_each_read_back(MemoryBackend::default()));
    }

    #[test]
    fn forgetting_a_conversation_removes_it_and_nothing_else() {
        block_on(suite::forgetting_a_conversation_removes_it_and_nothing_else(MemoryBackend::default()));
    }

    #[test]
    fn a_damaged_index_page_hides_only_its_own_entries() {
        block_on(suite::a_damaged_index_page_hides_only_its_own_entries(MemoryBackend::default()));
    }

    #[test]
    fn a_schema_1_vault_upgrades_keeping_every_record() {
        block_on(suite::a_schema_1_vault_upgrades_keeping_every_record(MemoryBackend::default()));
    }

    #[test]
    fn an_interrupted_upgrade_resumes_at_the_next_unlock() {
        block_on(suite::an_interrupted_upgrade_resumes_at_the_next_unlock(MemoryBackend::default(), 1));
    }

    #[test]
    fn record_sizes_fall_in_buckets() {
        block_on(suite::record_sizes_fall_in_buckets(MemoryBackend::default()));
    }

    #[test]
    fn an_unpadded_vault_is_padded_at_the_next_unlock() {
        block_on(suite::an_unpadded_vault_is_padded_at_the_next_unlock(MemoryBackend::default(), 1));
    }

    #[test]
    fn damaged_padding_loses_nothing_else() {
        block_on(suite::damaged_padding_loses_nothing_else(MemoryBackend::default()));
    }

    #[test]
    fn an_upgrade_without_an_account_record_makes_no_recovery_wrap() {
        block_on(suite::an_upgrade_without_an_account_record_makes_no_recovery_wrap(MemoryBackend::default()));
    }
}
