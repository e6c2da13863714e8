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

/// The data survives closing and reopening the database.
#[wasm_bindgen_test]
async fn records_survive_reopening() {
    use app::storage::{Vault, stores};
    use crypto_core::vault::KdfParams;
    let seed = crypto_core::identity::Seed::from_bytes([1; 16]);
    let vault = Vault::create(fresh("reopen").await, "p", &seed, KdfParams::INSECURE_FOR_TESTS).await.unwrap();
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

    let seed = Seed::from_bytes([7; 16]);
    let vault = Vault::create(fresh("filing").await, "p", &seed, KdfParams::INSECURE_FOR_TESTS).await.unwrap();
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
    let (filed, older) = chat::latest(&session.vault, &peer.to_string(), 100).await.unwrap();
    assert_eq!((filed.len(), older), (30, false), "a message fell out of its conversation");
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

    let seed = Seed::from_bytes([8; 16]);
    let vault = Vault::create(fresh("stamps").await, "p", &seed, KdfParams::INSECURE_FOR_TESTS).await.unwrap();
    let session = Session::new(
        vault,
        Account::new(&seed, "Tester"),
        Identity::from_seed(&seed),
        Client::new("http://127.0.0.1:9"),
    );
    let stamps: Vec<u64> = (0..1_000).map(|_| session.next_timestamp()).collect();
    assert!(stamps.windows(2).all(|w| w[0] < w[1]));
}

/// A database IndexedDB-versioned by schema 1 (its four stores only) gets the new stores when
/// opened, and its vault the current schema at the first unlock, every record kept.
#[wasm_bindgen_test]
async fn a_database_made_by_schema_1_upgrades_in_indexeddb() {
    use app::storage::Vault;
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
/// account works from the unlock screen, and while a poll is still filing messages.
#[wasm_bindgen_test]
async fn recovery_passphrase_change_and_delete_through_the_session() {
    use app::chat::{self, Standing};
    use app::session::{self, AppState, Screen};
    use app::storage::{self, Backend};
    use crypto_core::identity::{Identity, Seed};
    use crypto_core::mnemonic;
    use leptos::prelude::*;
    use zeroize::Zeroizing;

    // The session starts the poll loop (Leptos tasks): give Leptos its executor, as mounting does.
    mount_to_body(|| ());
    let z = |s: &str| Zeroizing::new(s.to_owned());
    storage::erase(&IdbBackend::open_default().await.unwrap()).await.unwrap();
    let seed = Seed::from_bytes([42; 16]);
    let phrase = mnemonic::encode_seed(&seed);
    let other = mnemonic::encode_seed(&Seed::from_bytes([43; 16]));
    let peer = Identity::from_seed(&Seed::from_bytes([44; 16])).session_id();

    let mut app = AppState::new();
    app.kdf = crypto_core::vault::KdfParams::INSECURE_FOR_TESTS;
    app.pending_seed.set_value(Some(seed.clone()));
    session::create_account(app, "Tester".into(), z("first passphrase")).await;
    let s = app.current().expect("created");
    let msg = chat::outgoing(&peer, "kept across recovery", 1_000, "Tester", String::new(), String::new());
    chat::file(&s.vault, &msg, None, false, Standing::Accepted).await.unwrap();
    drop(s);
    app.lock();

    let err = session::recover_with_phrase(app, z(other.as_str()), z("a new passphrase")).await.unwrap_err();
    assert!(err.contains("belongs to another account"), "{err}");
    assert!(app.current().is_none());
    assert!(session::check_passphrase(z("first passphrase")).await.is_ok());
    let err = session::recover_with_phrase(app, z("vexed enjoy"), z("a new passphrase")).await.unwrap_err();
    assert!(err.starts_with("A recovery phrase has 13 words"), "{err}");
    let err = session::recover_with_phrase(app, z(phrase.as_str()), z("short")).await.unwrap_err();
    assert_eq!(err, "Use at least 8 characters.");

    session::recover_with_phrase(app, z(phrase.as_str()), z("a new passphrase")).await.unwrap();
    let s = app.current().expect("unlocked by the phrase");
    assert_eq!(s.identity.session_id(), Identity::from_seed(&seed).session_id());
    assert_eq!(app.screen.get_untracked(), Screen::Home);
    let (history, _) = chat::latest(&s.vault, &peer.to_string(), 50).await.unwrap();
    assert_eq!(history.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["kept across recovery"]);
    drop(s);
    assert!(session::check_passphrase(z("first passphrase")).await.is_err());
    assert!(session::check_passphrase(z("a new passphrase")).await.is_ok());

    let err = session::change_passphrase(app, z("not the current one"), z("another passphrase")).await.unwrap_err();
    assert_eq!(err, "That is not your current passphrase.");
    session::change_passphrase(app, z("a new passphrase"), z("another passphrase")).await.unwrap();
    assert!(session::check_passphrase(z("a new passphrase")).await.is_err());
    assert!(session::check_passphrase(z("another passphrase")).await.is_ok());
    app.lock();
    session::recover_with_phrase(app, z(phrase.as_str()), z("a third passphrase")).await.unwrap();

    // Delete account while a poll is filing messages: nothing lands after the wipe.
    let s = app.current().unwrap();
    let incoming: Vec<_> = (0..20u64)
        .map(|i| chat::outgoing(&peer, &format!("#{i}"), 2_000 + i, "Tester", String::new(), String::new()))
        .collect();
    let filing = futures::future::join_all(incoming.iter().map(|m| async {
        let _guard = s.writes.lock().await;
        chat::file(&s.vault, m, None, false, Standing::Accepted).await
    }));
    let (filed, ()) = futures::future::join(filing, session::delete_account(app)).await;
    assert!(filed.iter().any(|r| r.is_err()));
    assert_eq!(app.screen.get_untracked(), Screen::Welcome);
    let backend = IdbBackend::open_default().await.unwrap();
    assert!(!storage::exists(&backend).await.unwrap());
    for store in storage::stores::ALL {
        assert!(backend.keys(store).await.unwrap().is_empty(), "{store} kept a record after Delete account");
    }
    drop(s);

    // From the unlock screen, with no session: everything goes.
    app.pending_seed.set_value(Some(seed.clone()));
    session::create_account(app, "Tester".into(), z("first passphrase")).await;
    app.lock();
    assert!(storage::exists(&backend).await.unwrap());
    session::delete_account(app).await;
    assert_eq!(app.screen.get_untracked(), Screen::Welcome);
    assert!(!storage::exists(&backend).await.unwrap());
}
