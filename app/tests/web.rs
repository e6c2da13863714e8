//! The storage conformance suite against real IndexedDB in headless Chromium.
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p app --target wasm32-unknown-unknown --test web`

#![cfg(target_arch = "wasm32")]

use app::storage::{IdbBackend, conformance as suite};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

async fn fresh(name: &str) -> IdbBackend {
    let backend = IdbBackend::open(&format!("hush-test-{name}")).await.unwrap();
    use app::storage::Backend;
    backend.clear().await.unwrap();
    backend
}

#[wasm_bindgen_test]
async fn create_then_unlock() {
    suite::create_then_unlock(fresh("create").await).await;
}

#[wasm_bindgen_test]
async fn wrong_passphrase_changes_nothing() {
    suite::wrong_passphrase_changes_nothing(fresh("wrong").await).await;
}

#[wasm_bindgen_test]
async fn nothing_is_stored_in_the_clear() {
    suite::nothing_is_stored_in_the_clear(fresh("clear").await).await;
}

#[wasm_bindgen_test]
async fn a_damaged_record_loses_nothing_else() {
    suite::a_damaged_record_loses_nothing_else(fresh("damaged").await).await;
}

#[wasm_bindgen_test]
async fn refusals() {
    suite::refusals(fresh("refusals").await).await;
}

#[wasm_bindgen_test]
async fn change_passphrase_and_wipe() {
    suite::change_passphrase_and_wipe(fresh("wipe").await).await;
}

/// The data survives closing and reopening the database.
#[wasm_bindgen_test]
async fn records_survive_reopening() {
    use app::storage::{Vault, stores};
    use crypto_core::vault::KdfParams;
    let vault = Vault::create(fresh("reopen").await, "p", KdfParams::INSECURE_FOR_TESTS).await.unwrap();
    vault.put(stores::ACCOUNT, b"k", b"kept").await.unwrap();
    drop(vault);
    let vault = Vault::unlock(IdbBackend::open("hush-test-reopen").await.unwrap(), "p").await.unwrap();
    assert_eq!(&vault.get(stores::ACCOUNT, b"k").await.unwrap().unwrap()[..], b"kept");
}
