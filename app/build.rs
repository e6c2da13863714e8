//! Turns the string catalogue, `i18n/*.json`, into Rust (`$OUT_DIR/catalogue.rs`, included by
//! `src/i18n.rs`): a `Text` enum with one variant per key of `en.json`, so that a key misspelt in
//! the code does not compile, and one table per locale. A locale is a file: `fr.json` is picked up
//! without a change here. The pseudo-locale `en-XA` (every English text in `⟦…⟧`) is made from
//! `en.json`, to find text that does not come from the catalogue.
//!
//! A catalogue maps flat keys (`home.search.placeholder`) to a text or, for a count, to its CLDR
//! plural forms (`{"one": "{count} minute", "other": "{count} minutes"}`). The build stops, naming
//! the file and key, when a file is not such an object, when a translation has a key English does
//! not have, other placeholders than English, a text where English has plural forms (or the
//! reverse), a plural category CLDR does not have, or plural forms without "other".

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The plural categories CLDR names, in its order.
const CATEGORIES: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];

/// The language every key has, and falls back to.
const ENGLISH: &str = "en";

/// The pseudo-locale made from English.
const PSEUDO: &str = "en-XA";

/// A locale's tag and its entries by key.
type Locale = (String, BTreeMap<String, Entry>);

/// One key's text in one locale.
#[derive(Debug, Clone)]
enum Entry {
    /// A text.
    Text(String),
    /// Plural forms by category.
    Plural(BTreeMap<String, String>),
}

impl Entry {
    /// The placeholders (`{name}`) its texts use.
    fn placeholders(&self) -> BTreeSet<String> {
        match self {
            Entry::Text(text) => placeholders(text),
            Entry::Plural(forms) => forms.values().flat_map(|f| placeholders(f)).collect(),
        }
    }

    /// Every text wrapped as the pseudo-locale shows it.
    fn pseudo(&self) -> Entry {
        let wrap = |text: &String| format!("⟦{text}⟧");
        match self {
            Entry::Text(text) => Entry::Text(wrap(text)),
            Entry::Plural(forms) => Entry::Plural(forms.iter().map(|(c, f)| (c.clone(), wrap(f))).collect()),
        }
    }
}

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into())).join("i18n");
    println!("cargo::rerun-if-changed={}", dir.display());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("catalogue.rs");
    let generated = read_all(&dir).and_then(|locales| generate(&locales));
    match generated.and_then(|code| std::fs::write(&out, code).map_err(|e| format!("{}: {e}", out.display()))) {
        Ok(()) => {}
        Err(problem) => {
            eprintln!("error: the string catalogue (app/i18n) is not valid: {problem}");
            std::process::exit(1);
        }
    }
}

/// Every locale's entries, English first, then the others by tag.
fn read_all(dir: &Path) -> Result<Vec<Locale>, String> {
    let mut files = Vec::new();
    for item in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = item.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.extension().and_then(|e| e.to_str()) == Some("json") {
            let tag = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
            files.push((tag, path));
        }
    }
    files.sort();
    let mut locales = Vec::new();
    for (tag, path) in &files {
        let valid_tag =
            !tag.is_empty() && tag.split('-').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()));
        if !valid_tag || tag == PSEUDO {
            return Err(format!(
                "{}: the file name must be a language tag (\"fr.json\", \"pt-BR.json\"); {PSEUDO} is made from en.json",
                path.display()
            ));
        }
        locales.push((tag.clone(), read(path)?));
    }
    let english = locales.iter().position(|(tag, _)| tag == ENGLISH).ok_or("en.json is missing")?;
    let english = locales.remove(english);
    // English is stored in the pseudo-locale's brackets and read without them.
    for (key, entry) in &english.1 {
        let texts: Vec<&String> = match entry {
            Entry::Text(text) => vec![text],
            Entry::Plural(forms) => forms.values().collect(),
        };
        if texts.iter().any(|t| t.starts_with('⟦') || t.ends_with('⟧')) {
            return Err(format!("en.json: key {key:?}: a text may not start with ⟦ or end with ⟧"));
        }
    }
    for (tag, entries) in &locales {
        check(tag, entries, &english.1)?;
    }
    locales.insert(0, english);
    Ok(locales)
}

/// One catalogue file's entries.
fn read(path: &Path) -> Result<BTreeMap<String, Entry>, String> {
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| format!("{name}: not valid JSON: {e}"))?;
    let Value::Object(map) = value else { return Err(format!("{name}: must be one object of keys")) };
    let mut entries = BTreeMap::new();
    for (key, value) in map {
        let good_key = !key.is_empty()
            && key.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        if !good_key {
            return Err(format!("{name}: key {key:?}: keys are dotted words (\"home.search.placeholder\")"));
        }
        let entry = match value {
            Value::String(text) => Entry::Text(text),
            Value::Object(forms) => {
                let mut plural = BTreeMap::new();
                for (category, form) in forms {
                    if !CATEGORIES.contains(&category.as_str()) {
                        return Err(format!(
                            "{name}: key {key:?}: {category:?} is not a CLDR plural category (zero, one, two, few, many, other)"
                        ));
                    }
                    let Value::String(form) = form else {
                        return Err(format!("{name}: key {key:?}: the form {category:?} must be a string"));
                    };
                    plural.insert(category, form);
                }
                if !plural.contains_key("other") {
                    return Err(format!("{name}: key {key:?}: plural forms need \"other\""));
                }
                Entry::Plural(plural)
            }
            _ => return Err(format!("{name}: key {key:?}: must be a string or an object of plural forms")),
        };
        entries.insert(key, entry);
    }
    Ok(entries)
}

/// Checks a translation against English.
fn check(tag: &str, entries: &BTreeMap<String, Entry>, english: &BTreeMap<String, Entry>) -> Result<(), String> {
    for (key, entry) in entries {
        let Some(original) = english.get(key) else {
            return Err(format!("{tag}.json: key {key:?} is not in en.json"));
        };
        match (entry, original) {
            (Entry::Text(_), Entry::Plural(_)) => {
                return Err(format!("{tag}.json: key {key:?}: English has plural forms here, so must this"));
            }
            (Entry::Plural(_), Entry::Text(_)) => {
                return Err(format!("{tag}.json: key {key:?}: English has one text here, so must this"));
            }
            _ => {}
        }
        let (theirs, ours) = (entry.placeholders(), original.placeholders());
        if theirs != ours {
            return Err(format!("{tag}.json: key {key:?}: has the placeholders {theirs:?}, but English has {ours:?}"));
        }
    }
    Ok(())
}

/// The names between braces in `text` (`{count}`, `{name}`).
fn placeholders(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if let Some(close) = rest.find('}') {
            let name = &rest[..close];
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                found.insert(name.to_owned());
                rest = &rest[close + 1..];
            }
        }
    }
    found
}

/// A key's variant name: `home.search.placeholder` is `HomeSearchPlaceholder`.
fn variant(key: &str) -> String {
    key.split(['.', '_'])
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

/// The Rust for all locales.
fn generate(locales: &[Locale]) -> Result<String, String> {
    let english = &locales.first().ok_or("no locales")?.1;
    let keys: Vec<&String> = english.keys().collect();
    let mut names = BTreeMap::new();
    for key in &keys {
        if let Some(other) = names.insert(variant(key), *key) {
            return Err(format!("en.json: the keys {other:?} and {key:?} make the same name in Rust"));
        }
    }
    let mut code = String::new();
    let w = &mut code;
    let _ = writeln!(w, "/// A text of the catalogue (`app/i18n/en.json`), one variant per key.");
    let _ = writeln!(w, "#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]");
    let _ = writeln!(w, "pub enum Text {{");
    for key in &keys {
        let _ = writeln!(w, "    /// `{key}`");
        let _ = writeln!(w, "    {},", variant(key));
    }
    let _ = writeln!(w, "}}\n");
    let _ = writeln!(w, "/// How many texts there are.");
    let _ = writeln!(w, "pub const COUNT: usize = {};\n", keys.len());
    // English is stored as the pseudo-locale shows it; English itself drops the brackets, so
    // en-XA costs six bytes a text.
    let _ = writeln!(w, "/// The English texts, by `Text as usize`, each in `⟦…⟧` as {PSEUDO} shows it.");
    let _ = writeln!(w, "pub static ENGLISH: [Entry; COUNT] = [");
    for key in &keys {
        if let Some(entry) = english.get(*key) {
            let _ = writeln!(w, "    {},", rust_entry(&entry.pseudo()));
        }
    }
    let _ = writeln!(w, "];\n");
    let translations = locales.get(1..).unwrap_or_default();
    let _ = writeln!(w, "/// Every translation (its tag) and its texts, by `Text as usize`; `None` is English.");
    let _ = writeln!(w, "pub static TRANSLATIONS: [(&str, [Option<Entry>; COUNT]); {}] = [", translations.len());
    for (tag, entries) in translations {
        let _ = writeln!(w, "    ({tag:?}, [");
        for key in &keys {
            match entries.get(*key) {
                None => {
                    let _ = writeln!(w, "        None,");
                }
                Some(entry) => {
                    let _ = writeln!(w, "        Some({}),", rust_entry(entry));
                }
            }
        }
        let _ = writeln!(w, "    ]),");
    }
    let _ = writeln!(w, "];");
    Ok(code)
}

/// An entry as a Rust expression of `i18n::Entry`.
fn rust_entry(entry: &Entry) -> String {
    match entry {
        Entry::Text(text) => format!("Entry::Text({text:?})"),
        Entry::Plural(forms) => {
            let form = |c: &str| forms.get(c).map_or("None".to_owned(), |f| format!("Some({f:?})"));
            format!(
                "Entry::Plural(&Forms {{ zero: {}, one: {}, two: {}, few: {}, many: {}, other: {:?} }})",
                form("zero"),
                form("one"),
                form("two"),
                form("few"),
                form("many"),
                forms.get("other").map_or("", String::as_str),
            )
        }
    }
}
