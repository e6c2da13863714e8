//! A person's avatar: a circle coloured from their Session ID, with the initials of the name shown
//! for them, or, for a name without letters (or no name at all), a small symmetric pattern drawn
//! from the ID; the account's own Note to Self has a note. Also the title Hush shows for a
//! conversation, so that the Note to Self reads "Note to Self" everywhere.
//!
//! A person who set a profile picture (and this account, if it set one) has it drawn over that
//! circle once the engine has it (from this device, or fetched, checked and kept), through an
//! object URL revoked as soon as it is drawn.
//!
//! The avatar is decorative (`aria-hidden`): the name is always written next to it.

use crypto_core::identity::SessionId;
use hush_client::conversations::{Conversation, short_id};
use leptos::prelude::*;
use leptos::tachys::view::any_view::AnyView;
use leptos::task::spawn_local;

use crate::session::use_app;

/// The title of the account's own conversation.
pub fn note_to_self() -> &'static str {
    crate::i18n::t(crate::i18n::Text::CommonNoteToSelf)
}

/// How many background colours avatars take (`.avatar.hue-N` in the style sheet). Each keeps
/// white initials at a contrast of at least 4.5:1 (`every_colour_keeps_white_initials_readable`).
pub const HUES: usize = 12;

/// The colours, in the order of their `hue-N` classes (for the contrast test; the style sheet
/// holds the same values).
#[cfg(test)]
const COLOURS: [&str; HUES] = [
    "#1f6f6b", "#2f5fa8", "#6a4bb0", "#9b3d7a", "#b03a3a", "#a0501c", "#7a6410", "#3e7a2c", "#1d6e8c", "#5a5f8a",
    "#8a4f32", "#4f6b5a",
];

/// The name Hush shows for a conversation: "Note to Self" for the account's own, else the
/// engine's title (nickname, display name, or the short ID).
pub fn title(conversation: &Conversation, me: Option<&SessionId>) -> String {
    if me.is_some_and(|me| conversation.is_note_to_self(me)) {
        return note_to_self().to_owned();
    }
    conversation.title()
}

/// The colour class of `peer`'s avatar: the same ID always gives the same colour.
pub fn hue(peer: &SessionId) -> usize {
    // FNV-1a over the key: every byte counts, and nearby keys spread.
    let hash = peer.key().iter().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(*b)).wrapping_mul(0x0100_0193));
    (hash % HUES as u32) as usize
}

/// The initials of `name`: the first letter of each of its first two words that have one, in
/// capitals. Empty when the name has no letter at all.
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().find(|c| c.is_alphabetic()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

/// The pattern drawn for `peer` when there are no initials: 5 × 5 cells, mirrored left to right,
/// from the first 15 bits of the key (`true`: filled). Never empty.
pub fn pattern(peer: &SessionId) -> [[bool; 5]; 5] {
    let key = peer.key();
    let bit = |i: usize| key.get(i / 8).is_some_and(|b| b >> (i % 8) & 1 == 1);
    let mut cells = [[false; 5]; 5];
    for (row, line) in cells.iter_mut().enumerate() {
        for col in 0..3 {
            let on = bit(row * 3 + col);
            if let Some(cell) = line.get_mut(col) {
                *cell = on;
            }
            if let Some(cell) = line.get_mut(4 - col) {
                *cell = on;
            }
        }
    }
    if cells.iter().flatten().all(|c| !c) {
        // A key whose first bits are all zero still gets a mark: the centre.
        cells[2][2] = true;
    }
    cells
}

/// What the circle shows.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Face {
    /// Up to two letters.
    Initials(String),
    /// The ID's pattern.
    Pattern([[bool; 5]; 5]),
    /// The Note to Self's note.
    Note,
}

fn face(peer: &SessionId, title: &str, me: Option<&SessionId>) -> Face {
    if me == Some(peer) {
        return Face::Note;
    }
    // No name (the title is the ID itself): the pattern, not letters of hex.
    let letters = if title == short_id(peer) { String::new() } else { initials(title) };
    if letters.is_empty() { Face::Pattern(pattern(peer)) } else { Face::Initials(letters) }
}

/// A round avatar for `peer`, whose name as shown is `title` (which may change: a conversation's
/// header).
#[component]
pub fn Avatar(
    /// Whose avatar.
    peer: SessionId,
    /// The name shown for them (the conversation's title).
    #[prop(into)]
    title: Signal<String>,
    /// A larger circle (a conversation's header).
    #[prop(optional)]
    large: bool,
    /// They have a profile picture: draw it over the circle once it is here.
    #[prop(optional)]
    picture: bool,
) -> impl IntoView {
    let me = use_app().session_id();
    let class = format!("avatar hue-{}{}", hue(&peer), if large { " large" } else { "" });
    let photo = picture.then(|| photo(Some(peer).filter(|p| me.as_ref() != Some(p))));
    view! { <span class=class aria-hidden="true">{move || drawn(face(&peer, &title.get(), me.as_ref()))}{photo}</span> }
}

/// The avatar of a list's row, whose title does not change while it is shown (a row is made
/// anew when it does): no reactive parts, so many rows cost little. `picture`: they have a
/// profile picture.
pub fn row_avatar(peer: SessionId, title: &str, me: Option<&SessionId>, picture: bool) -> AnyView {
    let class = format!("avatar hue-{}", hue(&peer));
    let photo = picture.then(|| photo(Some(peer).filter(|p| me != Some(p))));
    view! { <span class=class aria-hidden="true">{drawn(face(&peer, title, me))}{photo}</span> }.into_any()
}

/// This account's own avatar with its picture, as Settings shows it: the picture, else the
/// initials of its display name. `revision` changes when the picture does.
pub fn own_avatar(me: SessionId, name: &str, has_picture: bool) -> AnyView {
    let class = format!("avatar large hue-{}", hue(&me));
    let letters = initials(name);
    let face = if letters.is_empty() { Face::Pattern(pattern(&me)) } else { Face::Initials(letters) };
    let photo = has_picture.then(|| photo(None));
    view! { <span class=class aria-hidden="true">{drawn(face)}{photo}</span> }.into_any()
}

/// The profile picture of `peer` (none: this account's), drawn over the circle once the engine
/// has it; nothing while it has not, or cannot (expired, damaged, offline): the circle shows.
fn photo(peer: Option<SessionId>) -> AnyView {
    let src = RwSignal::new(None::<String>);
    let app = use_app();
    spawn_local(async move {
        let Some(engine) = app.unlocked() else { return };
        if let Ok(Some(bytes)) = engine.avatar(peer.as_ref()).await
            && let Some(url) = crate::files::object_url(&bytes, "image/*")
            // The row went away meanwhile.
            && src.try_set(Some(url.clone())).is_some()
        {
            crate::files::revoke(&url);
        }
    });
    let drawn = move |_| {
        if let Some(url) = src.get_untracked() {
            crate::files::revoke(&url);
        }
    };
    on_cleanup(move || {
        if let Some(url) = src.try_get_untracked().flatten() {
            crate::files::revoke(&url);
        }
    });
    view! {
        <Show when=move || src.get().is_some()>
            <img class="picture" alt="" data-testid="avatar-picture" src=move || src.get() on:load=drawn />
        </Show>
    }
    .into_any()
}

/// What the circle holds.
fn drawn(face: Face) -> AnyView {
    match face {
        Face::Initials(letters) => view! { <span class="initials">{letters}</span> }.into_any(),
        Face::Pattern(cells) => {
            let squares = cells
                .iter()
                .enumerate()
                .flat_map(|(row, line)| {
                    line.iter().enumerate().filter(|(_, on)| **on).map(move |(col, _)| {
                        view! { <rect x=col.to_string() y=row.to_string() width="1" height="1" /> }
                    })
                })
                .collect_view();
            view! {
                <svg class="pattern" viewBox="-1 -1 7 7" shape-rendering="crispEdges" fill="#ffffff">{squares}</svg>
            }
            .into_any()
        }
        Face::Note => view! {
            <svg class="note-glyph" viewBox="0 0 24 24" fill="none" stroke="#ffffff" stroke-width="2"
                stroke-linecap="round" stroke-linejoin="round">
                <path d="M6 3h9l3 3v15H6z" />
                <path d="M9 10h6M9 14h6M9 18h3" />
            </svg>
        }
        .into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(byte: u8) -> SessionId {
        SessionId::new(crypto_core::identity::IdPrefix::Standard, [byte; 32])
    }

    #[test]
    fn initials_take_the_first_letter_of_two_words() {
        assert_eq!(initials("Alice Liddell"), "AL");
        assert_eq!(initials("alice"), "A");
        assert_eq!(initials("Alice in Wonderland"), "AI");
        assert_eq!(initials("  bob   marley "), "BM");
        assert_eq!(initials("🙂 bob"), "B");
        assert_eq!(initials("(bob) 42"), "B");
        assert_eq!(initials("שלום עולם"), "שע");
        assert_eq!(initials("ßeta"), "SS");
        assert_eq!(initials("12345"), "");
        assert_eq!(initials("🙂🙂"), "");
        assert_eq!(initials(""), "");
    }

    #[test]
    fn a_name_without_letters_or_no_name_gets_the_pattern_and_mine_the_note() {
        let peer = id(0xa5);
        let me = id(0x11);
        assert_eq!(face(&peer, "Bob", Some(&me)), Face::Initials("B".into()));
        assert_eq!(face(&peer, "1234", Some(&me)), Face::Pattern(pattern(&peer)));
        assert_eq!(face(&peer, &short_id(&peer), Some(&me)), Face::Pattern(pattern(&peer)));
        assert_eq!(face(&me, note_to_self(), Some(&me)), Face::Note);
    }

    #[test]
    fn patterns_are_mirrored_never_empty_and_differ_between_ids() {
        for byte in [0u8, 1, 0x5a, 0xff] {
            let cells = pattern(&id(byte));
            assert!(cells.iter().flatten().any(|c| *c), "{byte:#x}: empty");
            for line in cells {
                assert_eq!(line[0], line[4]);
                assert_eq!(line[1], line[3]);
            }
        }
        assert_ne!(pattern(&id(0x5a)), pattern(&id(0xa5)));
    }

    #[test]
    fn colours_are_fixed_per_id_and_spread() {
        assert_eq!(hue(&id(7)), hue(&id(7)));
        // Keys as random as real ones (a key of one repeated byte is not).
        let varied = |n: u64| {
            let mut state = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            let key = core::array::from_fn(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            });
            SessionId::new(crypto_core::identity::IdPrefix::Standard, key)
        };
        let used: std::collections::BTreeSet<usize> = (0..256).map(|n| hue(&varied(n))).collect();
        assert_eq!(used.len(), HUES, "every colour is used");
    }

    /// WCAG 2's contrast ratio of two `#rrggbb` colours.
    fn contrast(a: &str, b: &str) -> f64 {
        let luminance = |hex: &str| {
            let channel = |i: usize| {
                let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
                if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
            };
            0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
        };
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    #[test]
    fn every_colour_keeps_white_initials_readable() {
        for colour in COLOURS {
            assert!(contrast(colour, "#ffffff") >= 4.5, "{colour}: {:.2}", contrast(colour, "#ffffff"));
        }
        let css = include_str!("../style/hush.css");
        for (n, colour) in COLOURS.iter().enumerate() {
            assert!(css.contains(&format!(".avatar.hue-{n} {{ background: {colour}; }}")), "hush.css lacks hue-{n}");
        }
    }
}
