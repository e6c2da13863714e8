//! The browser's storage: the vault's backend on IndexedDB. The only module that touches
//! IndexedDB; what it stores is sealed by the engine's vault before it gets here (store names,
//! keyed-hash lookup keys and ciphertext only). Besides, the tab's `sessionStorage` holds, for
//! the moment of a reload only, the mark a page that locked itself leaves for the next one (why
//! it locked and the theme: nothing of the account).

#[cfg(target_arch = "wasm32")]
mod idb;
#[cfg(target_arch = "wasm32")]
pub use idb::{IdbBackend, writing};

/// The IndexedDB database name.
pub const DB_NAME: &str = "hush";

/// Opens this device's storage, and asks the browser to keep it (`navigator.storage.persist()`).
/// The answer is not waited for: a browser that asks the person first must not hold the app on
/// its first screen until they answer.
#[cfg(target_arch = "wasm32")]
pub async fn open_device() -> Result<IdbBackend, hush_client::storage::StorageError> {
    if let Some(window) = web_sys::window()
        && let Ok(promise) = window.navigator().storage().persist()
    {
        wasm_bindgen_futures::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        });
    }
    IdbBackend::open_default().await
}

/// The `sessionStorage` key of the mark a page that locked itself leaves for the next one.
#[cfg(target_arch = "wasm32")]
const RELOCK_MARK: &str = "hush-relocked";

/// Leaves `mark` in this tab's `sessionStorage` for the page that loads next (nothing happens if
/// the browser refuses).
#[cfg(target_arch = "wasm32")]
pub fn set_relock_mark(mark: &str) {
    if let Some(storage) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) {
        let _ = storage.set_item(RELOCK_MARK, mark);
    }
}

/// Takes the mark [`set_relock_mark`] left, if any: it is removed as it is read.
#[cfg(target_arch = "wasm32")]
pub fn take_relock_mark() -> Option<String> {
    let storage = web_sys::window()?.session_storage().ok()??;
    let mark = storage.get_item(RELOCK_MARK).ok()??;
    let _ = storage.remove_item(RELOCK_MARK);
    Some(mark)
}
