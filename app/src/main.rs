fn main() {
    console_error_panic_hook::set_once();
    // The static "Opening Hush…" page that index.html shows while the app loads.
    if let Some(boot) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("boot")) {
        boot.remove();
    }
    app::i18n::start();
    leptos::mount::mount_to_body(app::App);
}
