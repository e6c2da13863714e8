//! Peers' text made inert before it is filed: the display names, bodies and sent times another
//! client chose. One rule for every front end, applied where received messages and profiles are
//! filed (`conversations::incoming`, `conversations::apply`, the inbox's acceptances) and again
//! where records are read back, so records filed before it are shown the same way.
//!
//! - A **name** loses every control character and every format character (Unicode category Cf:
//!   the bidirectional embeddings, overrides, isolates and marks, zero-width spaces, soft hyphens,
//!   the byte-order mark…) except the joiners that emoji and some scripts need (ZWJ, ZWNJ) and the
//!   tag characters of subdivision flags. Runs of white space become one space, it is trimmed, and
//!   it is cut to [`MAX_NAME_BYTES`], the protocol's own bound. A name is then one plain line that
//!   cannot reorder or hide the words around it. (The view also isolates it.)
//! - A **body** keeps its format characters — right-to-left text legitimately uses marks,
//!   embeddings and isolates, and the view isolates each body so they cannot reach past it — but
//!   loses control characters other than newline and tab (line ends become `\n`), which also keeps
//!   the command line's terminal safe; it is cut to [`MAX_RECEIVED_CHARS`], and the record says so.
//! - A **sent time** is the sender's claim: one later than the arrival plus
//!   [`FUTURE_TOLERANCE_MS`], or earlier than the arrival minus [`MAX_AGE_MS`], is replaced by the
//!   arrival time, which then orders the message and its conversation; the claim is kept.

/// The longest display name kept, in bytes of UTF-8: the protocol's bound on a display name
/// (`contact_info::MAX_NAME_LENGTH`, 100 bytes; protocol-config-groups §3.1).
pub const MAX_NAME_BYTES: usize = 100;

/// The longest received text kept, in characters: five times the 2,000 characters Hush (like
/// Session's clients) lets a person send, so longer messages from clients with higher limits stay
/// whole, while the ~76,000 characters the wire can carry do not.
pub const MAX_RECEIVED_CHARS: usize = 10_000;

/// How far after its arrival a message's sent time may be: senders use the network's time, which
/// the nodes hold to ±60 s of their own, so two minutes is a clock a little off, not a lie.
pub const FUTURE_TOLERANCE_MS: u64 = 2 * 60 * 1000;

/// How far before its arrival a message's sent time may be: 30 days, the longest anything stays
/// in a swarm (14 days in the namespace of messages; 30 in the private ones).
pub const MAX_AGE_MS: u64 = 30 * 24 * 60 * 60 * 1000;

/// Unicode's format characters (general category Cf, Unicode 16), as inclusive ranges. The test
/// `the_format_table_is_unicodes` checks it against ICU's data.
const FORMAT: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),
    ('\u{0600}', '\u{0605}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{06DD}', '\u{06DD}'),
    ('\u{070F}', '\u{070F}'),
    ('\u{0890}', '\u{0891}'),
    ('\u{08E2}', '\u{08E2}'),
    ('\u{180E}', '\u{180E}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFF9}', '\u{FFFB}'),
    ('\u{110BD}', '\u{110BD}'),
    ('\u{110CD}', '\u{110CD}'),
    ('\u{13430}', '\u{1343F}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0001}', '\u{E0001}'),
    ('\u{E0020}', '\u{E007F}'),
];

/// Whether `c` is a format character (Cf).
fn is_format(c: char) -> bool {
    FORMAT.iter().any(|&(first, last)| (first..=last).contains(&c))
}

/// The format characters a name keeps: ZWNJ and ZWJ (emoji sequences such as 👩‍💻, and the
/// shaping of Persian, Indic and other scripts) and the tag characters of subdivision flags
/// (🏴󠁧󠁢󠁳󠁣󠁴󠁿). None of them changes direction or hides text.
fn kept_in_names(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}' | '\u{E0020}'..='\u{E007F}')
}

/// A display name as Hush files and shows it (see the module docs); `None` if nothing is left.
pub fn name(raw: &str) -> Option<String> {
    let mut out = String::new();
    let mut space = false;
    for c in raw.chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if c.is_control() || (is_format(c) && !kept_in_names(c)) {
            continue;
        }
        let gap = usize::from(space);
        if out.len() + gap + c.len_utf8() > MAX_NAME_BYTES {
            break;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    // A cut may leave a joiner with nothing to join.
    while out.ends_with(['\u{200C}', '\u{200D}']) {
        out.pop();
    }
    (!out.is_empty()).then_some(out)
}

/// A received body as Hush files and shows it (see the module docs), and whether it was cut.
pub fn body(raw: &str) -> (String, bool) {
    let mut out = String::with_capacity(raw.len().min(MAX_RECEIVED_CHARS));
    let mut count = 0usize;
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        let c = match c {
            '\r' => {
                // \r\n and a lone \r are both one line end.
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                '\n'
            }
            '\n' | '\t' => c,
            c if c.is_control() => continue,
            c => c,
        };
        if count == MAX_RECEIVED_CHARS {
            return (out, true);
        }
        out.push(c);
        count += 1;
    }
    (out, false)
}

/// A received message's sent time as filed, given the time it arrived (network time, ms): the
/// claimed time if believable, else the arrival time with the claim (see the module docs).
pub fn sent_time(claimed: u64, arrival: u64) -> (u64, Option<u64>) {
    let earliest = arrival.saturating_sub(MAX_AGE_MS);
    let latest = arrival.saturating_add(FUTURE_TOLERANCE_MS);
    if (earliest..=latest).contains(&claimed) { (claimed, None) } else { (arrival, Some(claimed)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIDI: [char; 12] = [
        '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        '\u{200E}', '\u{200F}', '\u{061C}',
    ];

    #[test]
    fn a_right_to_left_override_is_stripped_from_names() {
        assert_eq!(name("Mallory\u{202E}gnp.exe").as_deref(), Some("Mallorygnp.exe"));
        for c in BIDI {
            let n = name(&format!("a{c}b{c}")).unwrap();
            assert_eq!(n, "ab", "U+{:04X} stays in a name", c as u32);
        }
        // Other controls and invisible format characters go too; a name of nothing but them is none.
        assert_eq!(name("\u{200B}Eve\u{FEFF}\u{00AD}\u{0007}\u{001B}[31m\u{0085}").as_deref(), Some("Eve[31m"));
        assert_eq!(name("\u{202E}\u{200B}\u{2066}\u{2069}"), None);
        assert_eq!(name("   "), None);
    }

    #[test]
    fn names_keep_right_to_left_letters_and_what_emoji_need() {
        assert_eq!(name("  مريم  ").as_deref(), Some("مريم"));
        // Woman technologist: woman, ZWJ, laptop.
        assert_eq!(name("Ada 👩\u{200D}💻").as_deref(), Some("Ada 👩\u{200D}💻"));
        // Red heart with its variation selector (a mark, not a format character).
        assert_eq!(name("❤\u{FE0F}").as_deref(), Some("❤\u{FE0F}"));
        // The flag of Scotland: black flag, tag letters g b s c t, cancel tag.
        let scotland = "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}";
        assert_eq!(name(scotland).as_deref(), Some(scotland));
        // Persian with a zero-width non-joiner.
        assert_eq!(name("می\u{200C}خواهم").as_deref(), Some("می\u{200C}خواهم"));
    }

    #[test]
    fn names_are_one_line_trimmed_and_capped_at_the_protocols_bound() {
        assert_eq!(name("\t Ann \n\n  Lee\u{2028}Jr \u{3000}").as_deref(), Some("Ann Lee Jr"));
        let long = "n".repeat(5_000);
        assert_eq!(name(&long).map(|n| n.len()), Some(MAX_NAME_BYTES));
        // Cut at a character boundary, never inside one.
        let wide = "é".repeat(3_000);
        let cut = name(&wide).unwrap();
        assert_eq!((cut.len(), cut.chars().count()), (MAX_NAME_BYTES, MAX_NAME_BYTES / 2));
        let emoji = "😀".repeat(30);
        assert_eq!(name(&emoji).unwrap().len(), 100);
        // A cut leaves no dangling joiner and no trailing space.
        let joined = format!("{}👩\u{200D}💻", "a".repeat(93));
        assert_eq!(name(&joined).unwrap(), format!("{}👩", "a".repeat(93)));
        let spaced = format!("{} b", "a".repeat(99));
        assert_eq!(name(&spaced).unwrap(), "a".repeat(99));
        // Cleaning again changes nothing.
        for raw in [long.as_str(), &wide, &joined, "Mallory\u{202E}x", " a  b "] {
            let once = name(raw).unwrap();
            assert_eq!(name(&once).as_deref(), Some(once.as_str()));
        }
    }

    #[test]
    fn the_issues_5000_character_override_name_becomes_a_short_plain_line() {
        let raw: String = core::iter::once('\u{202E}').chain("Mallory ".chars().cycle()).take(5_000).collect();
        let n = name(&raw).unwrap();
        assert!(n.len() <= MAX_NAME_BYTES, "{}", n.len());
        assert!(n.starts_with("Mallory Mallory"));
        assert!(!n.chars().any(|c| c.is_control() || is_format(c)));
    }

    #[test]
    fn a_75000_character_body_is_shortened_and_says_so() {
        let raw = "x".repeat(75_000);
        let (shown, cut) = body(&raw);
        assert!(cut);
        assert_eq!(shown.chars().count(), MAX_RECEIVED_CHARS);
        // Exactly the limit is kept whole; multi-byte text is counted in characters.
        assert_eq!(body(&"ж".repeat(MAX_RECEIVED_CHARS)), ("ж".repeat(MAX_RECEIVED_CHARS), false));
        let (shown, cut) = body(&"ж".repeat(MAX_RECEIVED_CHARS + 1));
        assert!(cut && shown.chars().count() == MAX_RECEIVED_CHARS);
        // Shortening again changes nothing more.
        let (again, cut_again) = body(&body(&raw).0);
        assert_eq!((again.len(), cut_again), (MAX_RECEIVED_CHARS, false));
    }

    #[test]
    fn bodies_keep_right_to_left_text_and_lose_control_characters() {
        let rtl = "שלום \u{2067}עולם\u{2069} \u{200F}ok\u{202E}txt";
        assert_eq!(body(rtl), (rtl.to_owned(), false), "a body's marks and isolates are kept (the view isolates it)");
        assert_eq!(body("a\r\nb\rc\nd\te\u{0000}\u{001B}[2J\u{007F}\u{009B}f").0, "a\nb\nc\nd\te[2Jf");
        assert_eq!(body("").0, "");
    }

    #[test]
    fn a_sent_time_in_2100_is_the_arrival_time_and_the_claim_is_kept() {
        let arrival = 1_800_000_000_000;
        let year_2100 = 4_102_444_800_000; // 1 Jan 2100, 00:00 UTC.
        assert_eq!(sent_time(year_2100, arrival), (arrival, Some(year_2100)));
        assert_eq!(sent_time(arrival + FUTURE_TOLERANCE_MS, arrival), (arrival + FUTURE_TOLERANCE_MS, None));
        assert_eq!(
            sent_time(arrival + FUTURE_TOLERANCE_MS + 1, arrival),
            (arrival, Some(arrival + FUTURE_TOLERANCE_MS + 1))
        );
        assert_eq!(sent_time(arrival - 5_000, arrival), (arrival - 5_000, None));
        assert_eq!(sent_time(arrival - MAX_AGE_MS, arrival), (arrival - MAX_AGE_MS, None));
        assert_eq!(sent_time(0, arrival), (arrival, Some(0)));
        assert_eq!(sent_time(u64::MAX, u64::MAX), (u64::MAX, None));
        assert_eq!(sent_time(u64::MAX, 0), (0, Some(u64::MAX)));
    }

    /// The table of format characters is Unicode's, as ICU knows it.
    #[test]
    fn the_format_table_is_unicodes() {
        use icu_properties::CodePointMapData;
        use icu_properties::props::GeneralCategory;
        let categories = CodePointMapData::<GeneralCategory>::new();
        for c in (0..=0x10_FFFF_u32).filter_map(char::from_u32) {
            assert_eq!(is_format(c), categories.get(c) == GeneralCategory::Format, "U+{:04X}", c as u32);
        }
    }
}
