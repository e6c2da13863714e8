//! What the devnet's two Python servers (the file server and the community server) share from
//! their WSGI stack: how request headers are folded, how a path or query is percent-decoded, and
//! how Python's `int()` reads text. Both servers answer exactly as theirs do, so these rules are
//! written once here.

use std::collections::HashMap;

use serde_json::Value;

/// Request headers: lower-case names with `_` as `-` (as WSGI folds them), first value kept.
pub type Headers = HashMap<String, String>;

/// A header's name as WSGI folds it.
pub fn header_name(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// A subrequest's headers from a v4 request's or a batch element's `headers` (absent: none).
/// `None` when it is not an object or a value is not text (a number counts as its digits).
pub fn subrequest_headers(value: Option<&Value>) -> Option<Headers> {
    let Some(value) = value else { return Some(Headers::new()) };
    let mut headers = Headers::new();
    for (name, value) in value.as_object()? {
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        headers.entry(header_name(name)).or_insert(value);
    }
    Some(headers)
}

/// `%xx` escapes decoded (a `%` without two hex digits stays as it is); `+` as a space when
/// `plus_is_space` (a query string).
pub fn percent_bytes(text: &str, plus_is_space: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            (b'+', _) if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Python's `int(str)`: surrounding whitespace, a sign, digits with single `_` between them.
/// `None` where Python raises `ValueError`; values beyond i128 saturate (all out of any range a
/// server keeps anyway).
pub fn python_int(text: &str) -> Option<i128> {
    let text = text.trim();
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, text.get(1..)?),
        Some(b'+') => (false, text.get(1..)?),
        _ => (false, text),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let mut value: i128 = 0;
    for c in digits.chars() {
        match c {
            '_' => {}
            '0'..='9' => {
                value = value.saturating_mul(10).saturating_add(i128::from(c as u8 - b'0'));
            }
            _ => return None,
        }
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int_accepts_what_python_accepts() {
        for (text, value) in
            [("5", 5), (" 12 ", 12), ("+7", 7), ("-3", -3), ("1_000", 1000), ("007", 7), (" -1_0 ", -10)]
        {
            assert_eq!(python_int(text), Some(value), "{text}");
        }
        for text in ["", " ", "1.5", "1e3", "_1", "1_", "1__0", "0x10", "abc", "- 1", "+"] {
            assert_eq!(python_int(text), None, "{text}");
        }
        assert!(python_int(&"9".repeat(60)).is_some_and(|v| v > 1 << 100));
    }

    #[test]
    fn percent_decoding_is_lenient() {
        assert_eq!(percent_bytes("/file/a%2Fb%zz%4", false), b"/file/a/b%zz%4");
        assert_eq!(percent_bytes("a+b%20c", true), b"a b c");
        assert_eq!(percent_bytes("a+b", false), b"a+b");
    }

    #[test]
    fn headers_fold_as_wsgi_does() {
        let h = subrequest_headers(Some(&serde_json::json!({"X_SOGS_Nonce": "n", "Content-Length": 3}))).unwrap();
        assert_eq!(h.get("x-sogs-nonce").map(String::as_str), Some("n"));
        assert_eq!(h.get("content-length").map(String::as_str), Some("3"));
        assert_eq!(subrequest_headers(Some(&serde_json::json!({"a": [1]}))), None);
        assert_eq!(subrequest_headers(None), Some(Headers::new()));
    }
}
