//! Field checks shared by every write path (single mutations today, sync batches later):
//! formats of identifiers and the physically possible ranges of measurements.

use crate::error::{ApiResult, Problems};
use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;

/// The earliest date the service accepts for anything (births of the oldest living people).
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => panic!("valid date"),
};

/// A date that happened: not in the future, not before 1900.
pub fn past_date(p: &mut Problems, path: &str, date: NaiveDate, today: NaiveDate) {
    if date > today {
        p.add(path, "must not be in the future");
    } else if date < EARLIEST_DATE {
        p.add(path, "must not be before 1900-01-01");
    }
}

/// Mongolian civil registry number: two Cyrillic letters then eight digits (e.g. УБ99032512).
/// Returns the normalised (upper-case) form.
pub fn registry_number(p: &mut Problems, path: &str, raw: &str) -> String {
    // NFC first: Ё or Й typed as a letter and a combining mark is one letter.
    let value: String = raw.trim().nfc().collect::<String>().to_uppercase();
    let chars: Vec<char> = value.chars().collect();
    let ok = chars.len() == 10
        && chars[..2].iter().all(|c| ('А'..='Я').contains(c) || matches!(c, 'Ё' | 'Ө' | 'Ү'))
        && chars[2..].iter().all(|c| c.is_ascii_digit());
    if !ok {
        p.add(path, "must be two Cyrillic letters followed by eight digits");
    }
    value
}

/// A Mongolian phone number: eight digits, optionally after +976. Returns the eight digits.
pub fn phone(p: &mut Problems, path: &str, raw: &str) -> String {
    let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let local = digits.strip_prefix("+976").unwrap_or(&digits);
    if local.len() != 8 || !local.chars().all(|c| c.is_ascii_digit()) {
        p.add(path, "must be eight digits, optionally after +976");
    }
    local.to_string()
}

/// Ranges outside which a value cannot be a real measurement of a person: rejected. Values
/// inside them but outside WHO's tables are stored, with the z-scores left null.
pub const WEIGHT_KG: (f64, f64) = (0.2, 250.0);
pub const LENGTH_HEIGHT_CM: (f64, f64) = (20.0, 250.0);
pub const MUAC_MM: (f64, f64) = (50.0, 500.0);

pub fn in_range(p: &mut Problems, path: &str, value: Option<f64>, (lo, hi): (f64, f64), unit: &str) {
    if value.is_some_and(|v| !v.is_finite() || v < lo || v > hi) {
        p.add(path, format!("must be between {lo} and {hi} {unit}"));
    }
}

/// What a text field holds, which decides the characters it may hold. Every kind is trimmed,
/// normalised to NFC (a letter typed as base + combining mark is stored as the one precomposed
/// letter, so search, uniqueness and comparisons see one spelling), and refuses characters that
/// no registry field should hold: NUL and the other C0 and C1 control characters, bidirectional
/// controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), and the invisible
/// (default-ignorable) characters: zero-width space, joiners and word joiner (U+200B–U+200D,
/// U+2060–U+2064), byte-order mark (U+FEFF), soft hyphen, Hangul fillers, tag characters...
/// Nothing is silently stripped except what trimming and line-end normalisation remove: a
/// character refused is answered (VALIDATION, at the field's path, with its code point), so
/// what is stored is what the client sent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// One line: an address, a title, a provider, a purpose, a search term, a code.
    Line,
    /// Free text over lines: notes, narratives, objectives, a household's description. Tabs and
    /// line breaks are kept (CR LF, a lone CR and U+2028/U+2029 become LF), and so are variation
    /// selectors (U+FE00–U+FE0F, as in the emoji "❤️").
    Lines,
    /// The name of a person, a user or an organisation: one line, and no word mixes letters of
    /// the Latin, Cyrillic and Greek alphabets (see `mixed_word`).
    Name,
}

/// Letters of the alphabets a look-alike can be taken from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Script {
    Latin,
    Cyrillic,
    Greek,
}

impl Script {
    fn of(c: char) -> Option<Script> {
        match c {
            'A'..='Z' | 'a'..='z' => Some(Script::Latin),
            '\u{00D7}' | '\u{00F7}' => None,
            '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}' | '\u{2C60}'..='\u{2C7F}' | '\u{A720}'..='\u{A7FF}' => {
                Some(Script::Latin)
            }
            '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => Some(Script::Latin),
            '\u{0400}'..='\u{052F}' | '\u{1C80}'..='\u{1C8F}' | '\u{2DE0}'..='\u{2DFF}' | '\u{A640}'..='\u{A69F}' => {
                Some(Script::Cyrillic)
            }
            '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}' => Some(Script::Greek),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Script::Latin => "Latin",
            Script::Cyrillic => "Cyrillic",
            Script::Greek => "Greek",
        }
    }
}

/// A combining mark: part of the word of the letter before it.
fn combining(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

/// The first word (a run of letters and their marks) that mixes alphabets, with the two
/// alphabets: "Бaт" with a Latin "a" looks like the Cyrillic name, but neither search nor the
/// duplicate checks would ever take it for it.
fn mixed_word(s: &str) -> Option<(&str, Script, Script)> {
    let mut start = 0;
    let mut first: Option<Script> = None;
    let mut mixed: Option<Script> = None;
    let mut end = 0;
    for (i, c) in s.char_indices().chain(std::iter::once((s.len(), ' '))) {
        let letter = c.is_alphabetic() || combining(c);
        if letter && i < s.len() {
            if let Some(script) = Script::of(c) {
                match first {
                    None => first = Some(script),
                    Some(f) if f != script && mixed.is_none() => mixed = Some(script),
                    _ => {}
                }
            }
            end = i + c.len_utf8();
            continue;
        }
        if let (Some(a), Some(b)) = (first, mixed) {
            return Some((&s[start..end], a, b));
        }
        start = i + c.len_utf8();
        (first, mixed) = (None, None);
    }
    None
}

/// A letter of the traditional Mongolian script, whose free variation selectors and vowel
/// separator (U+180B–U+180F) follow it.
fn mongolian_letter(c: char) -> bool {
    ('\u{1820}'..='\u{18AF}').contains(&c) || ('\u{180B}'..='\u{180F}').contains(&c)
}

/// Why `c` (after `prev`) may not be stored in text of this kind; None when it may.
fn refused(c: char, prev: Option<char>, kind: Kind) -> Option<&'static str> {
    match c {
        '\n' | '\t' if kind == Kind::Lines => None,
        '\0' => Some("the NUL character"),
        '\n' | '\r' | '\t' | '\u{2028}' | '\u{2029}' => Some("line breaks or tabs (it is one line)"),
        c if c.is_control() => Some("control characters"),
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
            Some("bidirectional controls")
        }
        '\u{FE00}'..='\u{FE0F}' if kind == Kind::Lines => None,
        '\u{180B}'..='\u{180F}' if prev.is_some_and(mongolian_letter) => None,
        '\u{00AD}'
        | '\u{034F}'
        | '\u{115F}'..='\u{1160}'
        | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200D}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}'
        | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFF8}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}' => Some("invisible characters"),
        '\u{FDD0}'..='\u{FDEF}' => Some("noncharacters"),
        c if (c as u32) & 0xFFFE == 0xFFFE => Some("noncharacters"),
        _ => None,
    }
}

/// The first character text of this kind may not hold, with why, and its position (counted in
/// characters from 1 in the trimmed text).
fn first_refused(s: &str, kind: Kind) -> Option<(char, usize, &'static str)> {
    let mut prev = None;
    for (n, c) in s.chars().enumerate() {
        if let Some(why) = refused(c, prev, kind) {
            return Some((c, n + 1, why));
        }
        prev = Some(c);
    }
    None
}

/// The stored form of `raw`: trimmed, line ends made LF (free text), NFC. What a valid input is
/// stored as, to compare a retried write with what is stored.
pub fn normalised(raw: &str, kind: Kind) -> String {
    let t = raw.trim();
    let t = if kind == Kind::Lines && t.contains(['\r', '\u{2028}', '\u{2029}']) {
        t.replace("\r\n", "\n").replace(['\r', '\u{2028}', '\u{2029}'], "\n")
    } else {
        t.to_string()
    };
    t.nfc().collect()
}

/// Text of this kind, normalised (`normalised`), with a problem at `path` for the first
/// character it may not hold and, for a name, for a word mixing alphabets. Neither blank nor
/// length is checked: see `text`, `lines`, `name`.
pub fn clean(p: &mut Problems, path: &str, raw: &str, kind: Kind) -> String {
    let t = normalised(raw, kind);
    if let Some((c, at, why)) = first_refused(&t, kind) {
        p.add(path, format!("must not contain {why} (U+{:04X} at character {at})", c as u32));
    } else if kind == Kind::Name
        && let Some((word, a, b)) = mixed_word(&t)
    {
        p.add(
            path,
            format!(
                "mixes {} and {} letters in one word ({word:?}): write each word in one alphabet",
                a.name(),
                b.name()
            ),
        );
    }
    t
}

/// Whether `s` holds only characters one line of text may (for codes and identifiers that are
/// looked up as given: one that does not is no known code).
pub fn plain(s: &str) -> bool {
    first_refused(s, Kind::Line).is_none()
}

/// Text of a kind, with a problem when it is blank or longer than `max` characters.
fn checked(p: &mut Problems, path: &str, raw: &str, max: usize, kind: Kind) -> String {
    let mut own = Problems::default();
    let t = clean(&mut own, path, raw, kind);
    if !own.is_empty() {
        p.extend(own);
    } else if t.is_empty() {
        p.add(path, "must not be blank");
    } else if t.chars().count() > max {
        p.add(path, format!("must be at most {max} characters"));
    }
    t
}

/// One line of text (`Kind::Line`): trimmed, NFC, not blank, at most `max` characters.
pub fn text(p: &mut Problems, path: &str, raw: &str, max: usize) -> String {
    checked(p, path, raw, max, Kind::Line)
}

/// Free text over lines (`Kind::Lines`): notes, narratives, objectives, descriptions.
pub fn lines(p: &mut Problems, path: &str, raw: &str, max: usize) -> String {
    checked(p, path, raw, max, Kind::Lines)
}

/// A name (`Kind::Name`): of a person, a user, an organisation, whoever gave a consent.
pub fn name(p: &mut Problems, path: &str, raw: &str, max: usize) -> String {
    checked(p, path, raw, max, Kind::Name)
}

/// A search term or a filter's text: one line, normalised, not blank; VALIDATION at `path`.
pub fn term(path: &str, raw: &str) -> ApiResult<String> {
    let mut p = Problems::default();
    let t = clean(&mut p, path, raw, Kind::Line);
    if p.is_empty() && t.is_empty() {
        p.add(path, "must not be blank");
    }
    p.into_result()?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_checked_and_normalised() {
        let mut p = Problems::default();
        assert_eq!(registry_number(&mut p, "r", " уб99032512 "), "УБ99032512");
        assert_eq!(phone(&mut p, "t", "+976 9911-2233"), "99112233");
        assert!(p.into_result().is_ok());
        let mut p = Problems::default();
        registry_number(&mut p, "r", "AB99032512");
        phone(&mut p, "t", "12345");
        in_range(&mut p, "w", Some(0.0), WEIGHT_KG, "kg");
        in_range(&mut p, "h", Some(400.0), LENGTH_HEIGHT_CM, "cm");
        in_range(&mut p, "m", Some(f64::NAN), MUAC_MM, "mm");
        let Err(crate::error::ApiError::Validation(errors)) = p.into_result() else { panic!() };
        assert_eq!(errors.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(), ["r", "t", "w", "h", "m"]);
    }

    fn problems(f: impl FnOnce(&mut Problems)) -> Vec<String> {
        let mut p = Problems::default();
        f(&mut p);
        match p.into_result() {
            Ok(()) => vec![],
            Err(crate::error::ApiError::Validation(errors)) => {
                errors.into_iter().map(|e| format!("{}: {}", e.path, e.message)).collect()
            }
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn control_bidirectional_and_invisible_characters_are_refused_at_the_path() {
        for (raw, why) in [
            ("Бат\0", "the NUL character (U+0000 at character 4)"),
            ("Ба\u{7}т", "control characters (U+0007 at character 3)"),
            ("Ба\u{85}т", "control characters (U+0085 at character 3)"),
            ("Бат\nболд", "line breaks or tabs (it is one line) (U+000A at character 4)"),
            ("\u{202E}тaБ", "bidirectional controls (U+202E at character 1)"),
            ("Бат\u{2067}", "bidirectional controls (U+2067 at character 4)"),
            ("Ба\u{200B}т", "invisible characters (U+200B at character 3)"),
            ("Ба\u{200D}т", "invisible characters (U+200D at character 3)"),
            ("Ба\u{2060}т", "invisible characters (U+2060 at character 3)"),
            ("Ба\u{FEFF}т", "invisible characters (U+FEFF at character 3)"),
            ("Ба\u{AD}т", "invisible characters (U+00AD at character 3)"),
            ("Ба\u{E0041}т", "invisible characters (U+E0041 at character 3)"),
            ("Ба\u{FFFF}т", "noncharacters (U+FFFF at character 3)"),
        ] {
            for kind in [Kind::Line, Kind::Name, Kind::Lines] {
                let got = problems(|p| drop(checked(p, "input.x", raw, 100, kind)));
                if raw.contains('\n') && kind == Kind::Lines {
                    assert!(got.is_empty(), "{raw:?}: {got:?}");
                } else {
                    assert_eq!(got, [format!("input.x: must not contain {why}")], "{raw:?} as {kind:?}");
                }
            }
        }
        // The first problem of a field is reported, not a blank or length one on top of it.
        assert_eq!(problems(|p| drop(text(p, "a", "\u{200B}", 5))).len(), 1);
        assert!(plain("УБ99032512") && !plain("УБ\u{0}") && !plain("a\u{200B}"));
    }

    #[test]
    fn free_text_keeps_its_lines_and_the_rest_is_one_line() {
        let mut p = Problems::default();
        let note = lines(&mut p, "n", "  Visit 1:\r\n\tweighed\rfed\u{2028}ok ❤️ ", 100);
        assert_eq!(note, "Visit 1:\n\tweighed\nfed\nok ❤️");
        assert!(p.into_result().is_ok());
        assert_eq!(problems(|p| drop(text(p, "a", "a\tb", 10))).len(), 1);
        assert_eq!(problems(|p| drop(text(p, "a", "ok \u{FE0F}", 10))).len(), 1);
        // Trimming is the only thing taken away: surrounding spaces and line breaks.
        let mut p = Problems::default();
        assert_eq!(text(&mut p, "a", "\n  Хан-Уул  \t", 10), "Хан-Уул");
        assert!(p.into_result().is_ok());
    }

    #[test]
    fn text_is_stored_in_nfc() {
        let mut p = Problems::default();
        // й as и + combining breve, é as e + combining acute: one character each once stored.
        let given = name(&mut p, "g", "Дулма\u{0438}\u{0306}", 100);
        assert_eq!(given, "Дулмай");
        assert_eq!(given.chars().count(), 6);
        assert_eq!(text(&mut p, "a", "Cafe\u{0301}", 4), "Café");
        assert_eq!(registry_number(&mut p, "r", "\u{0415}\u{0308}Б99032512"), "ЁБ99032512");
        assert!(p.into_result().is_ok());
        assert_eq!(normalised(" e\u{0301}\r\n", Kind::Lines), "é");
    }

    #[test]
    fn a_name_word_mixing_alphabets_is_refused() {
        // Latin "a" (U+0061) inside a Cyrillic name: looks the same, is not found by search.
        assert_eq!(
            problems(|p| drop(name(p, "input.givenName", "Бaт", 100))),
            [
                "input.givenName: mixes Cyrillic and Latin letters in one word (\"Бaт\"): write each word in one alphabet"
            ]
        );
        assert_eq!(problems(|p| drop(name(p, "n", "Anna Батболд", 100))).len(), 0);
        assert_eq!(problems(|p| drop(name(p, "n", "UNICEF-ийн Монгол", 100))).len(), 0);
        assert_eq!(problems(|p| drop(name(p, "n", "Бат-Эрдэнэ O'Brien Zoë", 100))).len(), 0);
        assert_eq!(problems(|p| drop(name(p, "n", "UNIСEF", 100))).len(), 1, "Cyrillic С in a Latin word");
        assert_eq!(problems(|p| drop(name(p, "n", "Дοрж", 100))).len(), 1, "Greek ο in a Cyrillic word");
        // Other text may mix (a note quoting a name half-typed on a Latin keyboard is still a note).
        assert_eq!(problems(|p| drop(text(p, "a", "Бaт", 100))).len(), 0);
        // Traditional Mongolian keeps its variation selectors after its letters, nowhere else.
        assert_eq!(problems(|p| drop(name(p, "n", "\u{182A}\u{1820}\u{180B}\u{1832}", 100))).len(), 0);
        assert_eq!(problems(|p| drop(name(p, "n", "Бат\u{180B}", 100))).len(), 1);
    }

    #[test]
    fn search_terms_are_checked_too() {
        assert_eq!(term("filter.name", "  Бат ").unwrap(), "Бат");
        let Err(crate::error::ApiError::Validation(e)) = term("where.name", "Ба\0т") else { panic!() };
        assert_eq!(e[0].path, "where.name");
        assert!(term("filter.name", "   ").is_err());
    }
}
