//! The browser's storage: the vault's backend on IndexedDB. The only module that touches
//! IndexedDB; what it stores is sealed by the engine's vault before it gets here (store names,
//! keyed-hash lookup keys and ciphertext only).

#[cfg(target_arch = "wasm32")]
mod idb;
#[cfg(target_arch = "wasm32")]
pub use idb::IdbBackend;

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
