//! Hush in the browser.
use leptos::prelude::*;

/// The root component.
#[component]
pub fn App() -> impl IntoView {
    view! { <main><h1>"Hush"</h1></main> }
}
