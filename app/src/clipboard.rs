//! The clipboard: copying a Session ID, and selecting it for the person to copy where the browser
//! will not.

/// Writes `text` to the clipboard; whether the browser confirmed it.
pub async fn write(text: &str) -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        let Some(window) = web_sys::window() else { return false };
        let navigator = window.navigator();
        let present = js_sys::Reflect::get(&navigator, &"clipboard".into()).is_ok_and(|c| c.is_object());
        if !present {
            return false;
        }
        wasm_bindgen_futures::JsFuture::from(navigator.clipboard().write_text(text)).await.is_ok()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = text;
        false
    }
}

/// Selects the text of `element`, for the person to copy themselves.
pub fn select(element: &web_sys::Element) {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        let Some(window) = web_sys::window() else { return };
        let call = |target: &wasm_bindgen::JsValue, name: &str, arg: &wasm_bindgen::JsValue| {
            js_sys::Reflect::get(target, &name.into())
                .ok()
                .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
                .and_then(|f| f.call1(target, arg).ok())
        };
        if let Some(selection) = call(&window, "getSelection", &wasm_bindgen::JsValue::UNDEFINED) {
            call(&selection, "selectAllChildren", element);
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = element;
}
