//! "Hush is open in another tab": only one tab of this browser runs Hush at a time.

use leptos::prelude::*;

use crate::i18n::{Text, t};
use crate::session::use_app;
use crate::tabs::{self, Tab};

/// Shown while another tab of this browser holds Hush.
#[component]
pub fn OtherTab(
    /// This tab's standing.
    tab: RwSignal<Tab>,
) -> impl IntoView {
    let app = use_app();
    view! {
        <section class="card" aria-labelledby="other-tab-title">
            <h2 id="other-tab-title">{t(Text::OtherTabTitle)}</h2>
            <p>{t(Text::OtherTabText)}</p>
            <div class="row">
                <button class="primary" type="button" data-autofocus="" on:click=move |_| tabs::use_here(app, tab)>
                    {t(Text::OtherTabUseHere)}
                </button>
            </div>
        </section>
    }
}
