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

/// Messages filed at the same moment (sending while the poll files incoming ones) all stay in
/// their conversation: no read-modify-write of the conversation record is lost.
#[wasm_bindgen_test]
async fn messages_filed_at_once_all_stay_in_their_conversation() {
    use app::account::Account;
    use app::chat::{self, Standing};
    use app::client::Client;
    use app::messaging;
    use app::session::Session;
    use app::storage::Vault;
    use crypto_core::identity::{Identity, Seed};
    use crypto_core::vault::KdfParams;

    let vault = Vault::create(fresh("filing").await, "p", KdfParams::INSECURE_FOR_TESTS).await.unwrap();
    let seed = Seed::from_bytes([7; 16]);
    let session = Session::new(
        vault,
        Account::new(&seed, "Tester"),
        Identity::from_seed(&seed),
        Client::new("http://127.0.0.1:9"),
    );
    let peer = Identity::from_seed(&Seed::from_bytes([9; 16])).session_id();
    let messages: Vec<_> = (0..30u64)
        .map(|i| chat::outgoing(&peer, &format!("#{i}"), 1_000 + i, "Tester", String::new(), String::new()))
        .collect();
    let filed = futures::future::join_all(
        messages.iter().map(|m| messaging::record(&session, m, None, false, Standing::Accepted)),
    )
    .await;
    assert!(filed.iter().all(Result::is_ok));
    let conversations = messaging::conversations(&session).await;
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0].messages.len(), 30, "a message fell out of its conversation");
}

/// Two messages sent within the same millisecond still get distinct timestamps (and ids).
#[wasm_bindgen_test]
async fn outgoing_timestamps_never_repeat() {
    use app::account::Account;
    use app::client::Client;
    use app::session::Session;
    use app::storage::Vault;
    use crypto_core::identity::{Identity, Seed};
    use crypto_core::vault::KdfParams;

    let vault = Vault::create(fresh("stamps").await, "p", KdfParams::INSECURE_FOR_TESTS).await.unwrap();
    let seed = Seed::from_bytes([8; 16]);
    let session = Session::new(
        vault,
        Account::new(&seed, "Tester"),
        Identity::from_seed(&seed),
        Client::new("http://127.0.0.1:9"),
    );
    let stamps: Vec<u64> = (0..1_000).map(|_| session.next_timestamp()).collect();
    assert!(stamps.windows(2).all(|w| w[0] < w[1]));
}
