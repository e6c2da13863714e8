//! Links in message text: which parts of a text are web addresses a person may open.
//!
//! The rule is deliberately narrow. A link starts with `http://` or `https://` (in any case), not
//! glued to a letter or digit before it, and runs to the first whitespace or to a character that
//! has no place in an address as written (`<`, `>`, `"`, a control or an invisible formatting
//! character such as a direction override, which could make the address read as another). Trailing
//! punctuation that ends the sentence rather than the address (`.` `,` `:` `;` `!` `?` `'` `"`)
//! is left out, and so is a closing `)` `]` `}` that has no opening partner inside the address
//! (`(see https://example.org)` links `https://example.org`, while
//! `https://en.wikipedia.org/wiki/Hush_(film)` keeps its parenthesis). What remains must name a
//! host. Everything else stays text.

/// A piece of a message's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Plain text, shown as it is.
    Text(&'a str),
    /// A web address (`http` or `https`), exactly as written.
    Link(&'a str),
}

/// `text` cut into plain text and links, in order; joined again they give `text` back.
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut plain_from = 0;
    let mut at = 0;
    while let Some(found) = next_scheme(text, at) {
        let end = link_end(text, found);
        if end > found {
            if plain_from < found {
                out.push(Piece::Text(&text[plain_from..found]));
            }
            out.push(Piece::Link(&text[found..end]));
            plain_from = end;
            at = end;
        } else {
            at = found + 1;
        }
    }
    if plain_from < text.len() {
        out.push(Piece::Text(&text[plain_from..]));
    }
    out
}

/// Where the next `http://` or `https://` (any case) starts at or after byte `from`, when it is
/// not the tail of a longer word (`xhttp://`).
fn next_scheme(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let starts = starts_with_ignoring_case(rest, b"https://") || starts_with_ignoring_case(rest, b"http://");
        // `i` is a char boundary: the scheme is ASCII, and the byte before is checked whole.
        if starts && text.is_char_boundary(i) && !text[..i].chars().next_back().is_some_and(char::is_alphanumeric) {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn starts_with_ignoring_case(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes.len() >= prefix.len() && bytes[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// The end (a byte index) of the link starting at `start`, or `start` when what follows the
/// scheme names no host.
fn link_end(text: &str, start: usize) -> usize {
    let rest = &text[start..];
    let after_scheme = rest.find("://").map_or(rest.len(), |i| i + 3);
    let mut end =
        rest[after_scheme..].char_indices().find(|&(_, c)| ends_link(c)).map_or(rest.len(), |(i, _)| after_scheme + i);
    // Sentence punctuation and unpartnered closing brackets at the end belong to the text. The
    // brackets are counted once (a peer's text can be long: no counting again for each one cut).
    let mut brackets = Brackets::count(&rest[..end]);
    while let Some(last) = rest[..end].chars().next_back() {
        let trailing = match last {
            '.' | ',' | ':' | ';' | '!' | '?' | '\'' | '*' | '_' | '~' | '。' | '、' | '，' | '！' | '？' => true,
            ')' | ']' | '}' => brackets.unpartnered(last),
            _ => false,
        };
        if !trailing {
            break;
        }
        brackets.remove(last);
        end -= last.len_utf8();
    }
    let host_starts = rest[after_scheme..end].chars().next().is_some_and(|c| c.is_alphanumeric() || c == '[');
    if end > after_scheme && host_starts { start + end } else { start }
}

/// Whether `c` cannot be part of a link as written.
fn ends_link(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c, '<' | '>' | '"' | '`')
        // Zero-width and direction-changing characters: an address cannot hold them visibly.
        || matches!(c, '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// How many of each bracket a link holds: `(` `)`, `[` `]`, `{` `}`.
struct Brackets([usize; 6]);

impl Brackets {
    const KINDS: [char; 6] = ['(', ')', '[', ']', '{', '}'];

    fn count(link: &str) -> Brackets {
        let mut counts = [0; 6];
        for c in link.chars() {
            if let Some(i) = Self::KINDS.iter().position(|&k| k == c) {
                counts[i] += 1;
            }
        }
        Brackets(counts)
    }

    /// Whether the link closes more `close` brackets than it opens.
    fn unpartnered(&self, close: char) -> bool {
        match Self::KINDS.iter().position(|&k| k == close) {
            Some(i) if i % 2 == 1 => self.0[i] > self.0[i - 1],
            _ => false,
        }
    }

    /// Takes `c` off the end of the link.
    fn remove(&mut self, c: char) {
        if let Some(i) = Self::KINDS.iter().position(|&k| k == c) {
            self.0[i] = self.0[i].saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Piece::{Link, Text};
    use super::*;

    fn links(text: &str) -> Vec<&str> {
        pieces(text)
            .into_iter()
            .filter_map(|p| match p {
                Link(l) => Some(l),
                Text(_) => None,
            })
            .collect()
    }

    #[test]
    fn text_without_links_is_one_piece() {
        assert_eq!(pieces("just words"), vec![Text("just words")]);
        assert_eq!(pieces(""), vec![]);
        assert_eq!(pieces("<b>not html</b>"), vec![Text("<b>not html</b>")]);
    }

    #[test]
    fn links_are_cut_out_and_the_text_around_them_kept() {
        assert_eq!(
            pieces("see https://example.org/a?b=c#d now"),
            vec![Text("see "), Link("https://example.org/a?b=c#d"), Text(" now")]
        );
        assert_eq!(pieces("http://example.org"), vec![Link("http://example.org")]);
        assert_eq!(
            pieces("https://a.example https://b.example"),
            vec![Link("https://a.example"), Text(" "), Link("https://b.example")]
        );
        assert_eq!(links("HTTPS://Example.ORG/Path"), vec!["HTTPS://Example.ORG/Path"]);
        assert_eq!(links("two\nlines https://example.org\tend"), vec!["https://example.org"]);
    }

    #[test]
    fn only_http_and_https_are_links() {
        for text in [
            "javascript:alert(1)",
            "ftp://example.org",
            "file:///etc/passwd",
            "mailto:a@example.org",
            "data:text/html,hi",
            "www.example.org",
            "example.org",
            "httpx://example.org",
        ] {
            assert_eq!(links(text), Vec::<&str>::new(), "{text}");
        }
        assert_eq!(links("xhttps://example.org"), Vec::<&str>::new());
        assert_eq!(links("2https://example.org"), Vec::<&str>::new());
        assert_eq!(links("(https://example.org)"), vec!["https://example.org"]);
    }

    #[test]
    fn trailing_punctuation_is_the_sentence_s() {
        assert_eq!(pieces("Look: https://example.org."), vec![Text("Look: "), Link("https://example.org"), Text(".")]);
        assert_eq!(links("https://example.org, then"), vec!["https://example.org"]);
        assert_eq!(links("is it https://example.org/?"), vec!["https://example.org/"]);
        assert_eq!(links("wow https://example.org/!"), vec!["https://example.org/"]);
        assert_eq!(links("'https://example.org/x'"), vec!["https://example.org/x"]);
        assert_eq!(links("\"https://example.org/x\""), vec!["https://example.org/x"]);
        assert_eq!(links("https://example.org/a.b.c..."), vec!["https://example.org/a.b.c"]);
        assert_eq!(links("https://example.org/q?x=1;"), vec!["https://example.org/q?x=1"]);
    }

    #[test]
    fn closing_brackets_stay_only_when_opened_inside() {
        assert_eq!(
            pieces("(see https://example.org/a)"),
            vec![Text("(see "), Link("https://example.org/a"), Text(")")]
        );
        assert_eq!(
            links("https://en.wikipedia.org/wiki/Hush_(film)"),
            vec!["https://en.wikipedia.org/wiki/Hush_(film)"]
        );
        assert_eq!(
            links("(https://en.wikipedia.org/wiki/Hush_(film))."),
            vec!["https://en.wikipedia.org/wiki/Hush_(film)"]
        );
        assert_eq!(links("[https://example.org/a]"), vec!["https://example.org/a"]);
        assert_eq!(links("https://example.org/a[1]"), vec!["https://example.org/a[1]"]);
        assert_eq!(links("{https://example.org/}"), vec!["https://example.org/"]);
    }

    #[test]
    fn links_stop_where_an_address_cannot_go_on() {
        assert_eq!(links("<https://example.org/a>"), vec!["https://example.org/a"]);
        assert_eq!(links("https://example.org/a\"onclick=x"), vec!["https://example.org/a"]);
        assert_eq!(links("https://example.org/a`b"), vec!["https://example.org/a"]);
        // A direction override or a zero-width space would make the address read as another.
        assert_eq!(links("https://example.org/\u{202E}gpj.exe"), vec!["https://example.org/"]);
        assert_eq!(links("https://exa\u{200B}mple.org"), vec!["https://exa"]);
        assert_eq!(links("https://example.org\u{00A0}next"), vec!["https://example.org"]);
        assert_eq!(links("https://example.org\u{3000}next"), vec!["https://example.org"]);
    }

    #[test]
    fn an_address_needs_a_host() {
        for text in ["https://", "http://.", "https:// example.org", "https:///path", "https://?q", "https://)"] {
            assert_eq!(links(text), Vec::<&str>::new(), "{text}");
        }
        assert_eq!(pieces("https://"), vec![Text("https://")]);
        assert_eq!(links("http://[::1]:8080/x"), vec!["http://[::1]:8080/x"]);
        assert_eq!(links("https://bücher.example/straße"), vec!["https://bücher.example/straße"]);
        assert_eq!(links("http://127.0.0.1:8080/"), vec!["http://127.0.0.1:8080/"]);
    }

    #[test]
    fn long_hostile_texts_are_cut_in_one_pass() {
        let brackets = format!("https://x.example/{}", ")".repeat(100_000));
        assert_eq!(links(&brackets), vec!["https://x.example/"]);
        let schemes = "https://".repeat(20_000);
        assert_eq!(links(&schemes).len(), 1);
        let spaced = "https:// ".repeat(20_000);
        assert_eq!(links(&spaced), Vec::<&str>::new());
        assert_eq!(links("日本 https://例え.テスト/パス。"), vec!["https://例え.テスト/パス"]);
    }

    #[test]
    fn pieces_give_the_text_back_whole() {
        for text in [
            "a https://x.example/(b)). c",
            "https://https://x.example",
            "é https://x.example/é?ü=1!",
            "http://\u{202E}x",
            "héllo https:// wörld",
            "日本 https://例え.テスト/パス。",
        ] {
            let joined: String = pieces(text)
                .into_iter()
                .map(|p| match p {
                    Link(s) | Text(s) => s,
                })
                .collect();
            assert_eq!(joined, text);
        }
    }
}
