//! The browser's (and the phone's) Back button inside the app, through the History API.
//!
//! Every screen has a depth in a small tree: a conversation, a room and Settings are under Home, the
//! onboarding steps under Welcome, "Forgot passphrase?" and deleting while locked under Unlock.
//! Going deeper pushes history entries; Back goes one level up; going up inside the app (its own
//! Back buttons, locking) goes back in the history as far. An entry holds only its depth: no data,
//! and the URL never changes.
//!
//! This is the only module that uses the History API.

use leptos::prelude::*;

use crate::screens::{Ui, UnlockPanel};
use crate::session::{AppState, Screen};

/// How deep a place is in the tree.
fn depth(screen: Screen, panel: UnlockPanel, restoring: bool) -> u32 {
    match screen {
        Screen::ShowPhrase | Screen::Restore | Screen::Conversation | Screen::Room | Screen::Settings => 1,
        Screen::ConfirmPhrase => 2,
        Screen::Profile if restoring => 2,
        Screen::Profile => 3,
        Screen::Unlock if panel != UnlockPanel::Passphrase => 1,
        Screen::Loading | Screen::Welcome | Screen::Unlock | Screen::Home | Screen::ChooseName => 0,
    }
}

/// Goes one level up from where the person is.
fn up(app: AppState, ui: Ui) {
    match app.screen.get_untracked() {
        Screen::ShowPhrase | Screen::Restore => app.go(Screen::Welcome),
        Screen::ConfirmPhrase => app.go(Screen::ShowPhrase),
        Screen::Profile if app.restoring.get_untracked() => app.go(Screen::Restore),
        Screen::Profile => app.go(Screen::ConfirmPhrase),
        Screen::Conversation | Screen::Settings => {
            app.open_peer.set(None);
            app.go(Screen::Home);
        }
        Screen::Room => {
            crate::communities::close(app);
            app.go(Screen::Home);
        }
        Screen::Unlock => ui.unlock_panel.set(UnlockPanel::Passphrase),
        Screen::Loading | Screen::Welcome | Screen::Home | Screen::ChooseName => {}
    }
}

/// Keeps the history in step with the screens, and makes Back go up.
pub fn install(app: AppState, ui: Ui) {
    #[cfg(target_arch = "wasm32")]
    wasm::install(app, ui);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (app, ui, depth as fn(Screen, UnlockPanel, bool) -> u32, up as fn(AppState, Ui));
}

#[cfg(target_arch = "wasm32")]
mod wasm {
    use std::cell::Cell;

    use leptos::prelude::*;
    use wasm_bindgen::JsValue;

    use super::{depth, up};
    use crate::screens::Ui;
    use crate::session::AppState;

    thread_local! {
        /// The depth of the current history entry, as this page made it.
        static DEPTH: Cell<u32> = const { Cell::new(0) };
        /// History moves this page made itself, whose `popstate` is not the person's Back.
        static OWN_MOVES: Cell<u32> = const { Cell::new(0) };
    }

    fn history() -> Option<web_sys::History> {
        web_sys::window()?.history().ok()
    }

    pub(super) fn install(app: AppState, ui: Ui) {
        let Some(start) = history() else { return };
        // A reload starts at the top, whatever entry it was on.
        let _ = start.replace_state(&JsValue::from_f64(0.0), "");

        Effect::new(move |_| {
            let want = depth(app.screen.get(), ui.unlock_panel.get(), app.restoring.get());
            let have = DEPTH.with(Cell::get);
            let Some(history) = history() else { return };
            if want > have {
                for d in have + 1..=want {
                    let _ = history.push_state(&JsValue::from_f64(f64::from(d)), "");
                }
            } else if want < have {
                OWN_MOVES.with(|m| m.set(m.get() + 1));
                let _ = history.go_with_delta(i32::try_from(want).unwrap_or(0) - i32::try_from(have).unwrap_or(0));
            }
            DEPTH.with(|d| d.set(want));
        });

        let _ = window_event_listener(leptos::ev::popstate, move |ev| {
            let to = ev.state().as_f64().map_or(0, |d| d.max(0.0) as u32);
            if OWN_MOVES.with(Cell::get) > 0 {
                OWN_MOVES.with(|m| m.set(m.get() - 1));
                return;
            }
            let have = DEPTH.with(Cell::get);
            if to < have {
                // The person went back: up as many levels.
                DEPTH.with(|d| d.set(to));
                for _ in to..have {
                    up(app, ui);
                }
            } else if to > have {
                // Forward has nothing to show again: stay where the app is.
                OWN_MOVES.with(|m| m.set(m.get() + 1));
                if let Some(history) = history() {
                    let _ = history.go_with_delta(i32::try_from(have).unwrap_or(0) - i32::try_from(to).unwrap_or(0));
                }
            }
        });
    }
}
