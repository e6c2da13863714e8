//! Every text the app shows, from the catalogue (`app/i18n/*.json`, one file per locale, turned
//! into Rust by `build.rs`), in the locale chosen once at start from the browser's languages;
//! counts take their plural form from `Intl.PluralRules` and numbers, dates and times are written
//! by `Intl`. A text a locale lacks is English.
//!
//! `t(Text::CommonCancel)` is a text; `tf(Text::X, &[("name", name)])` fills its placeholders
//! (`{name}`); `tn(Text::X, n, &[])` is the plural form for `n`, with `{count}` written as a number.
//! A placeholder nobody fills stays visible as `{name}`.

use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/catalogue.rs"));

/// A text in one locale: one text, or plural forms (behind a reference, so that a table's row
/// takes the room of a text, not of six).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A text.
    Text(&'static str),
    /// The forms of a count, by CLDR plural category.
    Plural(&'static Forms),
}

/// The forms of a count; a category a language does not use is `None` ("other" always exists).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forms {
    /// CLDR "zero".
    pub zero: Option<&'static str>,
    /// CLDR "one".
    pub one: Option<&'static str>,
    /// CLDR "two".
    pub two: Option<&'static str>,
    /// CLDR "few".
    pub few: Option<&'static str>,
    /// CLDR "many".
    pub many: Option<&'static str>,
    /// CLDR "other".
    pub other: &'static str,
}

/// A CLDR plural category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// "zero".
    Zero,
    /// "one".
    One,
    /// "two".
    Two,
    /// "few".
    Few,
    /// "many".
    Many,
    /// "other".
    Other,
}

impl Category {
    /// The category `Intl.PluralRules#select` names (anything unknown is "other").
    pub fn named(name: &str) -> Category {
        match name {
            "zero" => Category::Zero,
            "one" => Category::One,
            "two" => Category::Two,
            "few" => Category::Few,
            "many" => Category::Many,
            _ => Category::Other,
        }
    }

    /// English's category for a whole number: "one" for exactly 1, "other" for the rest, 0
    /// included ("0 minutes").
    pub fn english(n: u64) -> Category {
        if n == 1 { Category::One } else { Category::Other }
    }
}

impl Forms {
    /// The form for `category`, "other" when the locale has none for it.
    pub fn pick(&self, category: Category) -> &'static str {
        let form = match category {
            Category::Zero => self.zero,
            Category::One => self.one,
            Category::Two => self.two,
            Category::Few => self.few,
            Category::Many => self.many,
            Category::Other => None,
        };
        form.unwrap_or(self.other)
    }
}

/// Which texts the app shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Speech {
    /// English.
    English,
    /// The pseudo-locale `en-XA`: English in `⟦…⟧`.
    Pseudo,
    /// A translation: its row in `TRANSLATIONS`.
    Translation(usize),
}

/// The tag of the pseudo-locale.
const PSEUDO: &str = "en-XA";

/// The locale the app speaks.
#[derive(Debug)]
struct Locale {
    /// Its texts.
    speech: Speech,
    /// The browser's tag that chose it (`en-GB` for `en`), which `Intl` writes numbers and dates
    /// for; the locale's own tag when English was the fallback.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    format_tag: String,
}

static LOCALE: OnceLock<Locale> = OnceLock::new();

/// Chooses the locale from the browser's languages (once; later calls change nothing) and says it
/// in `<html lang>`.
pub fn start() {
    let locale = LOCALE.get_or_init(|| choose(&browser_languages()));
    #[cfg(target_arch = "wasm32")]
    if let Some(html) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        let _ = html.set_attribute("lang", tag_of(locale.speech));
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = locale;
}

/// The browser's languages, most wanted first.
fn browser_languages() -> Vec<String> {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window()
            .map(|w| w.navigator().languages().iter().filter_map(|l| l.as_string()).collect())
            .unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Vec::new()
    }
}

/// The texts of the locale tagged `tag` (any case), if the catalogue has them.
fn speech_of(tag: &str) -> Option<Speech> {
    if tag.eq_ignore_ascii_case("en") {
        Some(Speech::English)
    } else if tag.eq_ignore_ascii_case(PSEUDO) {
        Some(Speech::Pseudo)
    } else {
        TRANSLATIONS.iter().position(|(t, _)| t.eq_ignore_ascii_case(tag)).map(Speech::Translation)
    }
}

/// The first of `wanted` the catalogue has: by its exact tag (any case), else by its language
/// (`pt` for `pt-BR`); English when none is.
fn choose(wanted: &[String]) -> Locale {
    for tag in wanted.iter().filter(|t| well_formed(t)) {
        let language = tag.split('-').next().unwrap_or_default();
        if let Some(speech) = speech_of(tag).or_else(|| speech_of(language)) {
            return Locale { speech, format_tag: tag.clone() };
        }
    }
    Locale { speech: Speech::English, format_tag: "en".to_owned() }
}

/// Whether `tag` looks like a BCP 47 tag (letters, digits, subtags of 1–8 joined by `-`), as
/// `Intl` needs: it throws on anything else.
fn well_formed(tag: &str) -> bool {
    !tag.is_empty()
        && tag.split('-').all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// A locale's tag.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn tag_of(speech: Speech) -> &'static str {
    match speech {
        Speech::English => "en",
        Speech::Pseudo => PSEUDO,
        Speech::Translation(i) => TRANSLATIONS.get(i).map_or("en", |(tag, _)| tag),
    }
}

/// The chosen locale (English before `start`).
fn locale() -> &'static Locale {
    static DEFAULT: OnceLock<Locale> = OnceLock::new();
    LOCALE.get().unwrap_or_else(|| DEFAULT.get_or_init(|| choose(&[])))
}

/// The tag `Intl` formats for.
#[cfg(target_arch = "wasm32")]
fn format_tag() -> &'static str {
    &locale().format_tag
}

/// English as stored, without the pseudo-locale's brackets.
fn plain(stored: &'static str) -> &'static str {
    stored.strip_prefix('⟦').and_then(|s| s.strip_suffix('⟧')).unwrap_or(stored)
}

/// What `pick` takes from the entry of `text` in `translation`, or else from English (in brackets
/// for the pseudo-locale).
fn lookup(
    translation: Option<&'static [Option<Entry>; COUNT]>,
    pseudo: bool,
    text: Text,
    pick: impl Fn(Entry) -> &'static str,
) -> &'static str {
    let i = text as usize;
    if let Some(entry) = translation.and_then(|table| table[i]) {
        return pick(entry);
    }
    let stored = pick(ENGLISH[i]);
    if pseudo { stored } else { plain(stored) }
}

/// What `pick` takes from the entry of `text` in the chosen locale.
fn in_locale(text: Text, pick: impl Fn(Entry) -> &'static str) -> &'static str {
    match locale().speech {
        Speech::English => lookup(None, false, text, pick),
        Speech::Pseudo => lookup(None, true, text, pick),
        Speech::Translation(i) => lookup(TRANSLATIONS.get(i).map(|(_, table)| table), false, text, pick),
    }
}

/// A text (a text with plural forms gives its "other" form).
pub fn t(text: Text) -> &'static str {
    in_locale(text, |entry| match entry {
        Entry::Text(s) => s,
        Entry::Plural(forms) => forms.other,
    })
}

/// A text with its placeholders filled from `args` (`("name", value)`).
pub fn tf(text: Text, args: &[(&str, &str)]) -> String {
    fill(t(text), args)
}

/// The form of `text` for the count `n`, with `{count}` written as the locale writes numbers and
/// the other placeholders filled from `args`.
pub fn tn(text: Text, n: u64, args: &[(&str, &str)]) -> String {
    let category = category(n);
    let template = in_locale(text, |entry| match entry {
        Entry::Text(s) => s,
        Entry::Plural(forms) => forms.pick(category),
    });
    let count = number(n);
    let mut all = vec![("count", count.as_str())];
    all.extend_from_slice(args);
    fill(template, &all)
}

/// `template` with every `{name}` that `args` names replaced by its value; other braces stay as
/// written (a text that names a placeholder the code does not fill shows it, rather than failing).
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after
            .find('}')
            .and_then(|close| args.iter().find(|(name, _)| *name == &after[..close]).map(|(_, v)| (close, *v)));
        match value {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A text around one placeholder, as the part before it and the part after it (for a view that
/// puts an element, a name in `<bdi>`, in its place); without the placeholder, the whole text and
/// nothing.
pub fn around(text: Text, name: &str) -> (&'static str, &'static str) {
    let whole = t(text);
    let mark = format!("{{{name}}}");
    match whole.find(&mark) {
        Some(at) => (&whole[..at], &whole[at + mark.len()..]),
        None => (whole, ""),
    }
}

/// A piece of a text cut at its placeholders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Words as they are.
    Words(&'static str),
    /// The place of a placeholder (its name).
    Placeholder(&'static str),
}

/// A text cut at its placeholders, in the order the language puts them (for a view that puts an
/// element in each place: two names, each in its `<bdi>`).
pub fn parts(text: Text) -> Vec<Part> {
    let mut out = Vec::new();
    let mut rest = t(text);
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let name = after.find('}').map(|close| &after[..close]).filter(|n| !n.is_empty() && !n.contains('{'));
        let Some(name) = name else {
            out.push(Part::Words(&rest[..open + 1]));
            rest = after;
            continue;
        };
        if open > 0 {
            out.push(Part::Words(&rest[..open]));
        }
        out.push(Part::Placeholder(name));
        rest = &after[name.len() + 1..];
    }
    if !rest.is_empty() {
        out.push(Part::Words(rest));
    }
    out
}

/// The plural category of `n` in the chosen locale.
pub fn category(n: u64) -> Category {
    #[cfg(target_arch = "wasm32")]
    {
        intl::plural(n)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Category::english(n)
    }
}

/// `n` as the chosen locale writes numbers ("1,234" in English).
pub fn number(n: u64) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        intl::number(n).unwrap_or_else(|| n.to_string())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        n.to_string()
    }
}

/// `tenths` / 10 as the chosen locale writes it, with one decimal unless whole ("1.2", "3").
pub fn decimal(tenths: u64) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        intl::decimal(tenths).unwrap_or_else(|| tenths_text(tenths))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        tenths_text(tenths)
    }
}

/// `tenths` / 10 written as English writes it.
fn tenths_text(tenths: u64) -> String {
    if tenths.is_multiple_of(10) { format!("{}", tenths / 10) } else { format!("{}.{}", tenths / 10, tenths % 10) }
}

/// `n` in the chosen locale's digits without grouping ("2001"), for a counter that changes as the
/// person types.
pub fn digits(n: u64) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        intl::digits(n).unwrap_or_else(|| n.to_string())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        n.to_string()
    }
}

/// How a date reads: the parts `Intl` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DateShape {
    /// The clock only ("14:03"), for today.
    Clock,
    /// Day and month ("26 Nov"), earlier this year; with the clock or not.
    DayMonth {
        /// With the clock.
        clock: bool,
    },
    /// Day, month and year ("26 Nov 2025"), before this year; with the clock or not.
    DayMonthYear {
        /// With the clock.
        clock: bool,
    },
}

/// The moment `timestamp` (ms since the epoch) in the shape `shape`, as `Intl.DateTimeFormat`
/// writes it for the chosen locale in the person's time zone (the clock with 24 hours, as Hush has
/// always shown it); `None` where there is no `Intl` (native tests).
pub fn date_time(timestamp: u64, shape: DateShape) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        intl::date_time(timestamp, shape)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (timestamp, shape);
        None
    }
}

/// The browser's `Intl` objects for the chosen locale, each made once.
#[cfg(target_arch = "wasm32")]
mod intl {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use js_sys::{Array, Date, Function, Intl, Object, Reflect};
    use wasm_bindgen::{JsCast, JsValue};

    use super::{Category, DateShape, format_tag};

    thread_local! {
        static PLURALS: Intl::PluralRules = Intl::PluralRules::new(&locales(), &Object::new());
        static NUMBERS: Function = Intl::NumberFormat::new(&locales(), &Object::new()).format();
        static DIGITS: Function = {
            let options = Object::new();
            let _ = Reflect::set(&options, &"useGrouping".into(), &JsValue::FALSE);
            Intl::NumberFormat::new(&locales(), &options).format()
        };
        static DECIMALS: Function = {
            let options = Object::new();
            let _ = Reflect::set(&options, &"maximumFractionDigits".into(), &JsValue::from_f64(1.0));
            Intl::NumberFormat::new(&locales(), &options).format()
        };
        static DATES: RefCell<HashMap<DateShape, Function>> = RefCell::new(HashMap::new());
    }

    /// The chosen locale's tag, as `Intl` takes it.
    fn locales() -> Array {
        Array::of1(&format_tag().into())
    }

    /// `Intl.PluralRules#select(n)`.
    pub fn plural(n: u64) -> Category {
        PLURALS.with(|rules| Category::named(&String::from(rules.select(n as f64))))
    }

    /// `Intl.NumberFormat#format(n)`.
    pub fn number(n: u64) -> Option<String> {
        NUMBERS.with(|format| format.call1(&JsValue::NULL, &JsValue::from_f64(n as f64)).ok()?.as_string())
    }

    /// `Intl.NumberFormat#format(tenths / 10)` with at most one decimal.
    pub fn decimal(tenths: u64) -> Option<String> {
        DECIMALS.with(|format| format.call1(&JsValue::NULL, &JsValue::from_f64(tenths as f64 / 10.0)).ok()?.as_string())
    }

    /// `Intl.NumberFormat#format(n)` without grouping.
    pub fn digits(n: u64) -> Option<String> {
        DIGITS.with(|format| format.call1(&JsValue::NULL, &JsValue::from_f64(n as f64)).ok()?.as_string())
    }

    /// `Intl.DateTimeFormat#format` with the options of `shape`.
    pub fn date_time(timestamp: u64, shape: DateShape) -> Option<String> {
        let format = DATES.with(|dates| dates.borrow_mut().entry(shape).or_insert_with(|| formatter(shape)).clone());
        let date = Date::new(&JsValue::from_f64(timestamp as f64));
        format.call1(&JsValue::NULL, &date).ok()?.as_string()
    }

    /// A `format` function for `shape`.
    fn formatter(shape: DateShape) -> Function {
        let options = Object::new();
        let set = |key: &str, value: &str| {
            let _ = Reflect::set(&options, &key.into(), &value.into());
        };
        let (date, year, clock) = match shape {
            DateShape::Clock => (false, false, true),
            DateShape::DayMonth { clock } => (true, false, clock),
            DateShape::DayMonthYear { clock } => (true, true, clock),
        };
        if date {
            set("day", "numeric");
            set("month", "short");
        }
        if year {
            set("year", "numeric");
        }
        if clock {
            set("hour", "2-digit");
            set("minute", "2-digit");
            set("hourCycle", "h23");
        }
        Intl::DateTimeFormat::new(&locales(), &options).format().unchecked_into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_by_name_and_unknown_ones_stay_visible() {
        assert_eq!(fill("Hello, {name}!", &[("name", "Ann")]), "Hello, Ann!");
        assert_eq!(fill("{a} and {b}", &[("b", "2"), ("a", "1")]), "1 and 2");
        assert_eq!(fill("{a}{a}", &[("a", "x")]), "xx");
        assert_eq!(fill("Hello, {name}!", &[]), "Hello, {name}!");
        assert_eq!(fill("{unclosed and {name}", &[("name", "Ann")]), "{unclosed and Ann");
        assert_eq!(fill("} {} {", &[("", "no")]), "} no {");
        assert_eq!(fill("ünï {name} cödé", &[("name", "ß")]), "ünï ß cödé");
    }

    #[test]
    fn counts_take_the_english_plural_form() {
        assert_eq!(Category::english(0), Category::Other);
        assert_eq!(Category::english(1), Category::One);
        assert_eq!(Category::english(2), Category::Other);
        assert_eq!(Category::english(21), Category::Other);
        assert_eq!(tn(Text::TimeMinutes, 1, &[]), "1 minute");
        assert_eq!(tn(Text::TimeMinutes, 5, &[]), "5 minutes");
        assert_eq!(tn(Text::TimeMinutes, 0, &[]), "0 minutes");
        assert_eq!(tn(Text::AppTitleUnread, 3, &[]), "(3) Hush");
    }

    #[test]
    fn a_category_a_locale_lacks_takes_other() {
        let forms = Forms { zero: None, one: Some("one"), two: None, few: Some("few"), many: None, other: "other" };
        assert_eq!(forms.pick(Category::One), "one");
        assert_eq!(forms.pick(Category::Few), "few");
        assert_eq!(forms.pick(Category::Two), "other");
        assert_eq!(forms.pick(Category::Other), "other");
        assert_eq!(Category::named("many"), Category::Many);
        assert_eq!(Category::named("whatever"), Category::Other);
    }

    #[test]
    fn a_text_a_locale_lacks_is_english() {
        let mut partial: [Option<Entry>; COUNT] = [const { None }; COUNT];
        partial[Text::CommonCancel as usize] = Some(Entry::Text("Abbrechen"));
        let partial: &'static [Option<Entry>; COUNT] = Box::leak(Box::new(partial));
        let text = |entry| match entry {
            Entry::Text(s) => s,
            Entry::Plural(forms) => forms.other,
        };
        assert_eq!(lookup(Some(partial), false, Text::CommonCancel, text), "Abbrechen");
        assert_eq!(lookup(Some(partial), false, Text::CommonSave, text), "Save");
        assert_eq!(lookup(None, false, Text::CommonSave, text), "Save");
    }

    #[test]
    fn the_locale_is_the_first_wanted_the_catalogue_has() {
        let tags = |wanted: &[&str]| {
            let l = choose(&wanted.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            (tag_of(l.speech), l.format_tag)
        };
        assert_eq!(tags(&[]), ("en", "en".to_owned()));
        assert_eq!(tags(&["en-XA"]), ("en-XA", "en-XA".to_owned()));
        assert_eq!(tags(&["en-xa"]), ("en-XA", "en-xa".to_owned()));
        assert_eq!(tags(&["en-GB", "en-XA"]), ("en", "en-GB".to_owned()));
        assert_eq!(tags(&["xx-YY", "not a tag", "en-XA"]), ("en-XA", "en-XA".to_owned()));
        assert_eq!(tags(&["xx"]), ("en", "en".to_owned()));
    }

    #[test]
    fn the_pseudo_locale_wraps_every_english_text_and_keeps_placeholders() {
        let one = |entry| match entry {
            Entry::Text(s) => s,
            Entry::Plural(forms) => forms.pick(Category::One),
        };
        assert_eq!(lookup(None, true, Text::CommonCancel, one), "⟦Cancel⟧");
        assert_eq!(lookup(None, true, Text::TimeMinutes, one), "⟦{count} minute⟧");
        assert_eq!(lookup(None, false, Text::TimeMinutes, one), "{count} minute");
        assert_eq!(plain("⟦⟧"), "");
        assert_eq!(plain("no brackets"), "no brackets");
    }

    #[test]
    fn a_text_cuts_at_its_placeholders_in_order() {
        use Part::{Placeholder, Words};
        assert_eq!(parts(Text::ConversationAnnouncement), [Placeholder("name"), Words(": "), Placeholder("text")]);
        assert_eq!(parts(Text::CommonCancel), [Words("Cancel")]);
        assert_eq!(
            parts(Text::HomeOptionsFor),
            [Words("Options for "), Placeholder("name")],
            "a placeholder at the end leaves no empty words"
        );
    }

    #[test]
    fn a_text_splits_around_its_placeholder() {
        assert_eq!(around(Text::HomeHello, "name"), ("Hello, ", ""));
        assert_eq!(around(Text::CommonCancel, "name"), ("Cancel", ""));
    }
}
