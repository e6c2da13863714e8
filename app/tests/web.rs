//! The storage conformance suite against real IndexedDB in headless Chromium.
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p app --target wasm32-unknown-unknown --test web`

#![cfg(target_arch = "wasm32")]

use app::storage::IdbBackend;
use hush_client::conformance as suite;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

async fn fresh(name: &str) -> IdbBackend {
    let backend = IdbBackend::open(&format!("hush-test-{name}")).await.unwrap();
    use hush_client::storage::Backend;
    backend.clear().await.unwrap();
    backend
}

#[wasm_bindgen_test]
async fn create_then_unlock() {
    suite::create_then_unlock(fresh("create_then_unlock").await).await;
}

#[wasm_bindgen_test]
async fn wrong_passphrase_changes_nothing() {
    suite::wrong_passphrase_changes_nothing(fresh("wrong_passphrase_changes_nothing").await).await;
}

#[wasm_bindgen_test]
async fn nothing_is_stored_in_the_clear() {
    suite::nothing_is_stored_in_the_clear(fresh("nothing_is_stored_in_the_clear").await).await;
}

#[wasm_bindgen_test]
async fn a_damaged_record_loses_nothing_else() {
    suite::a_damaged_record_loses_nothing_else(fresh("a_damaged_record_loses_nothing_else").await).await;
}

#[wasm_bindgen_test]
async fn refusals() {
    suite::refusals(fresh("refusals").await).await;
}

#[wasm_bindgen_test]
async fn costly_stored_parameters_are_refused() {
    suite::costly_stored_parameters_are_refused(fresh("costly_stored_parameters_are_refused").await).await;
}

#[wasm_bindgen_test]
async fn change_passphrase_rewraps_only_the_passphrase_wrap() {
    suite::change_passphrase_rewraps_only_the_passphrase_wrap(
        fresh("change_passphrase_rewraps_only_the_passphrase_wrap").await,
    )
    .await;
}

#[wasm_bindgen_test]
async fn the_recovery_phrase_opens_the_vault() {
    suite::the_recovery_phrase_opens_the_vault(fresh("the_recovery_phrase_opens_the_vault").await).await;
}

#[wasm_bindgen_test]
async fn writes_after_close_or_wipe_are_refused() {
    suite::writes_after_close_or_wipe_are_refused(fresh("writes_after_close_or_wipe_are_refused").await).await;
}

#[wasm_bindgen_test]
async fn messages_are_filed_in_pages_and_paged_back_in_order() {
    suite::messages_are_filed_in_pages_and_paged_back_in_order(
        fresh("messages_are_filed_in_pages_and_paged_back_in_order").await,
    )
    .await;
}

#[wasm_bindgen_test]
async fn late_messages_never_grow_a_page_past_its_limit() {
    suite::late_messages_never_grow_a_page_past_its_limit(
        fresh("late_messages_never_grow_a_page_past_its_limit").await,
    )
    .await;
}

#[wasm_bindgen_test]
async fn messages_filed_at_once_under_the_lock_all_stay() {
    suite::messages_filed_at_once_under_the_lock_all_stay(
        fresh("messages_filed_at_once_under_the_lock_all_stay").await,
    )
    .await;
}

#[wasm_bindgen_test]
async fn large_values_of_one_size_each_read_back() {
    suite::large_values_of_one_size_each_read_back(fresh("large_values_of_one_size_each_read_back").await).await;
}

#[wasm_bindgen_test]
async fn forgetting_a_conversation_removes_it_and_nothing_else() {
    suite::forgetting_a_conversation_removes_it_and_nothing_else(
        fresh("forgetting_a_conversation_removes_it_and_nothing_else").await,
    )
    .await;
}

#[wasm_bindgen_test]
async fn a_damaged_index_page_hides_only_its_own_entries() {
    suite::a_damaged_index_page_hides_only_its_own_entries(
        fresh("a_damaged_index_page_hides_only_its_own_entries").await,
    )
    .await;
}

#[wasm_bindgen_test]
async fn a_schema_1_vault_upgrades_keeping_every_record() {
    suite::a_schema_1_vault_upgrades_keeping_every_record(
        fresh("a_schema_1_vault_upgrades_keeping_every_record").await,
    )
    .await;
}

#[wasm_bindgen_test]
async fn an_interrupted_upgrade_resumes_at_the_next_unlock() {
    suite::an_interrupted_upgrade_resumes_at_the_next_unlock(fresh("interrupted").await, 6).await;
}

#[wasm_bindgen_test]
async fn an_upgrade_without_an_account_record_makes_no_recovery_wrap() {
    suite::an_upgrade_without_an_account_record_makes_no_recovery_wrap(
        fresh("an_upgrade_without_an_account_record_makes_no_recovery_wrap").await,
    )
    .await;
}

#[wasm_bindgen_test]
async fn record_sizes_fall_in_buckets() {
    suite::record_sizes_fall_in_buckets(fresh("record_sizes_fall_in_buckets").await).await;
}

#[wasm_bindgen_test]
async fn an_unpadded_vault_is_padded_at_the_next_unlock() {
    suite::an_unpadded_vault_is_padded_at_the_next_unlock(fresh("unpadded").await, 4).await;
}

#[wasm_bindgen_test]
async fn damaged_padding_loses_nothing_else() {
    suite::damaged_padding_loses_nothing_else(fresh("damaged_padding_loses_nothing_else").await).await;
}

/// The data survives closing and reopening the database.
#[wasm_bindgen_test]
async fn records_survive_reopening() {
    use crypto_core::vault::KdfParams;
    use hush_client::storage::{Vault, stores};
    let seed = crypto_core::identity::Seed::from_bytes([1; 16]);
    let vault = Vault::create(fresh("reopen").await, "p", &seed, KdfParams::INSECURE_FOR_TESTS).await.unwrap();
    vault.put(stores::ACCOUNT, b"k", b"kept").await.unwrap();
    drop(vault);
    let vault = Vault::unlock(IdbBackend::open("hush-test-reopen").await.unwrap(), "p").await.unwrap();
    assert_eq!(&vault.get(stores::ACCOUNT, b"k").await.unwrap().unwrap()[..], b"kept");
}

/// The engine on the device's own storage, unlocked with a fresh account.
async fn engine_on(name: &str, seed: u8) -> app::platform::AppEngine {
    let engine = app::platform::AppEngine::new(app::platform::world(), fresh(name).await);
    engine.set_kdf(crypto_core::vault::KdfParams::INSECURE_FOR_TESTS);
    let seed = crypto_core::identity::Seed::from_bytes([seed; 16]);
    engine.create(&seed, "Tester", "a passphrase").await.unwrap();
    engine
}

/// Messages sent at the same moment all stay in their conversation (no read-modify-write of the
/// conversation record or its index is lost), each with its own timestamp: a timestamp is a sent
/// message's identity for its recipients.
#[wasm_bindgen_test]
async fn messages_sent_at_once_all_stay_in_their_conversation_with_distinct_timestamps() {
    use crypto_core::identity::{Identity, Seed};
    let engine = engine_on("filing", 7).await;
    let peer = Identity::from_seed(&Seed::from_bytes([9; 16])).session_id();
    let texts: Vec<String> = (0..30).map(|i| format!("#{i}")).collect();
    let sent = futures::future::join_all(texts.iter().map(|t| engine.send(&peer, t))).await;
    let sent: Vec<_> = sent.into_iter().map(Result::unwrap).collect();
    let mut stamps: Vec<u64> = sent.iter().map(|m| m.timestamp).collect();
    stamps.sort_unstable();
    stamps.dedup();
    assert_eq!(stamps.len(), 30, "two messages shared a timestamp");
    assert_eq!(engine.conversations().await.unwrap().len(), 1);
    let (filed, older) = engine.history(&peer, 100).await.unwrap();
    assert_eq!((filed.len(), older), (30, false), "a message fell out of its conversation");
}

/// A database IndexedDB-versioned by schema 1 (its four stores only) gets the new stores when
/// opened, and its vault the current schema at the first unlock, every record kept.
#[wasm_bindgen_test]
async fn a_database_made_by_schema_1_upgrades_in_indexeddb() {
    use hush_client::storage::Vault;
    let name = "hush-test-made-by-schema-1";
    IdbBackend::delete_database(name).await.unwrap();
    let old = IdbBackend::open_version(name, 1).await.unwrap();
    let v1 = suite::build_v1(&old).await;
    drop(old);
    let backend = IdbBackend::open(name).await.unwrap();
    drop(Vault::unlock(&backend, suite::V1_PASSPHRASE).await.unwrap());
    suite::check_upgraded(&backend, &v1).await;
}

/// The app's own steps on the device's database: a forgotten passphrase is replaced through the
/// recovery phrase with the history kept (another account's phrase is refused and changes
/// nothing); the passphrase is changed from Settings (the phrase still opens the vault); Delete
/// account works from the unlock screen, and while messages are still being filed.
#[wasm_bindgen_test]
async fn recovery_passphrase_change_and_delete_through_the_session() {
    use app::session::{self, AppState, Screen};
    use crypto_core::identity::{Identity, Seed};
    use crypto_core::mnemonic;
    use hush_client::storage::{self, Backend};
    use leptos::prelude::*;
    use zeroize::Zeroizing;

    // The session starts its background work (Leptos tasks): give Leptos its executor, as
    // mounting does.
    mount_to_body(|| ());
    let z = |s: &str| Zeroizing::new(s.to_owned());
    storage::erase(&IdbBackend::open_default().await.unwrap()).await.unwrap();
    let seed = Seed::from_bytes([42; 16]);
    let phrase = mnemonic::encode_seed(&seed);
    let other = mnemonic::encode_seed(&Seed::from_bytes([43; 16]));
    let peer = Identity::from_seed(&Seed::from_bytes([44; 16])).session_id();

    let mut app = AppState::new();
    app.kdf = crypto_core::vault::KdfParams::INSECURE_FOR_TESTS;
    // Locking would reload the page, and with it this test.
    app.forget_on_lock = false;
    session::start(app).await;
    app.pending_seed.set_value(Some(seed.clone()));
    session::create_account(app, "Tester".into(), z("first passphrase")).await;
    let engine = app.unlocked().expect("created");
    engine.send(&peer, "kept across recovery").await.unwrap();
    app.lock();

    let err = session::recover_with_phrase(app, z(other.as_str()), z("a new passphrase")).await.unwrap_err();
    assert!(err.to_string().contains("belongs to another account"), "{err}");
    assert!(app.unlocked().is_none());
    assert!(session::check_passphrase(app, z("first passphrase")).await.is_ok());
    let err = session::recover_with_phrase(app, z("vexed enjoy"), z("a new passphrase")).await.unwrap_err();
    assert!(err.to_string().starts_with("A recovery phrase has 13 words"), "{err}");
    let err = session::recover_with_phrase(app, z(phrase.as_str()), z("short")).await.unwrap_err();
    assert_eq!(err.to_string(), "Use at least 8 characters.");

    session::recover_with_phrase(app, z(phrase.as_str()), z("a new passphrase")).await.unwrap();
    assert_eq!(app.session_id(), Some(Identity::from_seed(&seed).session_id()));
    assert_eq!(app.screen.get_untracked(), Screen::Home);
    let (history, _) = engine.history(&peer, 50).await.unwrap();
    assert_eq!(history.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["kept across recovery"]);
    assert!(session::check_passphrase(app, z("first passphrase")).await.is_err());
    assert!(session::check_passphrase(app, z("a new passphrase")).await.is_ok());

    let err = session::change_passphrase(app, z("not the current one"), z("another passphrase")).await.unwrap_err();
    assert_eq!(err.to_string(), "That is not your current passphrase.");
    session::change_passphrase(app, z("a new passphrase"), z("another passphrase")).await.unwrap();
    assert!(session::check_passphrase(app, z("a new passphrase")).await.is_err());
    assert!(session::check_passphrase(app, z("another passphrase")).await.is_ok());
    app.lock();
    session::recover_with_phrase(app, z(phrase.as_str()), z("a third passphrase")).await.unwrap();

    // Delete account while messages are being filed: nothing lands after the wipe.
    let texts: Vec<String> = (0..20).map(|i| format!("#{i}")).collect();
    let sending = futures::future::join_all(texts.iter().map(|t| engine.send(&peer, t)));
    let (sent, ()) = futures::future::join(sending, session::delete_account(app)).await;
    assert!(sent.iter().any(Result::is_err));
    assert_eq!(app.screen.get_untracked(), Screen::Welcome);
    let backend = IdbBackend::open_default().await.unwrap();
    assert!(!storage::exists(&backend).await.unwrap());
    for store in storage::stores::ALL {
        assert!(backend.keys(store).await.unwrap().is_empty(), "{store} kept a record after Delete account");
    }

    // From the unlock screen, with no session: everything goes.
    app.pending_seed.set_value(Some(seed.clone()));
    session::create_account(app, "Tester".into(), z("first passphrase")).await;
    app.lock();
    assert!(storage::exists(&backend).await.unwrap());
    session::delete_account(app).await;
    assert_eq!(app.screen.get_untracked(), Screen::Welcome);
    assert!(!storage::exists(&backend).await.unwrap());
}
