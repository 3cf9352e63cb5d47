//! Reading one cell: names, lists, yes/no, time zones, custom values, and suggestions.

use std::borrow::Cow;
use std::str::FromStr;

use chrono_tz::Tz;

use crate::model::CustomValue;
use crate::schema::{CustomField, CustomKind};

/// White space as people paste it: spaces, tabs, no-break spaces, line breaks.
fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{A0}' || c == '\u{2007}' || c == '\u{202F}'
}

/// A value trimmed of all white space (no-break spaces too).
#[inline(always)]
pub(crate) fn trim(value: &str) -> &str {
    // Nearly every cell starts and ends with a printable character: nothing to trim. Each end is
    // looked at on its own, and a non-ASCII end is decoded only as far as its one character.
    let bytes = value.as_bytes();
    let start_plain = match bytes.first() {
        None => return value,
        Some(&a) if a.is_ascii_graphic() => true,
        Some(&a) if a.is_ascii() => false,
        Some(_) => value.chars().next().is_some_and(|c| !is_space(c)),
    };
    let end_plain = match bytes.last() {
        Some(&b) if b.is_ascii_graphic() => true,
        Some(&b) if b.is_ascii() => false,
        _ => value.chars().next_back().is_some_and(|c| !is_space(c)),
    };
    match (start_plain, end_plain) {
        (true, true) => value,
        (true, false) => value.trim_end_matches(is_space),
        (false, true) => value.trim_start_matches(is_space),
        (false, false) => value.trim_matches(is_space),
    }
}

/// A name trimmed, with inner runs of white space folded into one space. Borrows when the
/// value needs no change (the common case).
#[inline(always)]
pub(crate) fn clean_name(value: &str) -> Cow<'_, str> {
    let trimmed = trim(value);
    // Fast path: printable characters with single spaces need no change. Bytes of characters
    // beyond ASCII are fine unless they can start a space or a control character (lead bytes
    // 0xC2 for U+0080 to U+00BF, 0xE1 to 0xE3 for the spaces of U+1680 to U+3000): letters such as
    // é, ø or ü (lead byte 0xC3) stay on the fast path.
    let mut previous_space = false;
    let plain = trimmed.bytes().all(|b| {
        let ok =
            b.is_ascii_graphic() || (b == b' ' && !previous_space) || (b >= 0x80 && !matches!(b, 0xC2 | 0xE1..=0xE3));
        previous_space = b == b' ';
        ok
    });
    if plain {
        return Cow::Borrowed(trimmed);
    }
    fold_name(trimmed)
}

/// True when a trimmed name needs no change and is short enough to be taken as it is (what
/// [`clean_name`] borrows, at most 200 bytes).
#[inline(always)]
pub(crate) fn is_plain_name(trimmed: &str) -> bool {
    trimmed.len() <= 200 && matches!(clean_name(trimmed), Cow::Borrowed(name) if name.len() == trimmed.len())
}

/// [`clean_name`] for a name that may need a change.
#[cold]
fn fold_name(trimmed: &str) -> Cow<'_, str> {
    let mut previous_space = false;
    let needs_change = trimmed.chars().any(|c| {
        let odd = (is_space(c) && (previous_space || c != ' ')) || c.is_control();
        previous_space = is_space(c);
        odd
    });
    if !needs_change {
        return Cow::Borrowed(trimmed);
    }
    let mut out = String::with_capacity(trimmed.len());
    let mut space = false;
    for c in trimmed.chars() {
        if is_space(c) || c.is_control() {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The items of a list cell (`Admin; Editor`), trimmed, empty ones dropped.
pub(crate) fn split_list<'a>(value: &'a str, separators: &'a [char]) -> impl Iterator<Item = &'a str> + 'a {
    value.split(separators).map(trim).filter(|item| !item.is_empty())
}

/// `yes/no/y/n/true/false/1/0/x` (and `-` for no), ignoring case.
pub(crate) fn yes_no(value: &str) -> Option<bool> {
    const YES: [&str; 6] = ["yes", "y", "true", "1", "x", "✓"];
    const NO: [&str; 5] = ["no", "n", "false", "0", "-"];
    let value = trim(value);
    if YES.iter().any(|y| y.eq_ignore_ascii_case(value)) {
        Some(true)
    } else if NO.iter().any(|n| n.eq_ignore_ascii_case(value)) {
        Some(false)
    } else {
        None
    }
}

/// The ASCII bytes a login may hold (letters, digits, `. _ - @ + '`), as a lookup table.
const LOGIN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'@' | b'+' | b'\'');
        b += 1;
    }
    table
};

/// Why a login is not acceptable, if it is not: 1 to 100 characters, letters (any script),
/// digits and `. _ - @ + '`, no spaces.
#[inline(always)]
pub(crate) fn login_problem(login: &str) -> Option<String> {
    if is_plain_login(login) {
        return None;
    }
    login_problem_slow(login)
}

/// True when a login is valid for its bytes alone: at most 100 bytes of the ASCII a login may
/// hold (any other login is looked at by [`login_problem`]).
#[inline(always)]
pub(crate) fn is_plain_login(login: &str) -> bool {
    login.len() <= 100 && login.bytes().all(|b| LOGIN_BYTES[usize::from(b)])
}

/// [`login_problem`] for a login that is not plain ASCII or is long.
#[cold]
fn login_problem_slow(login: &str) -> Option<String> {
    let count = login.chars().count();
    if count > 100 {
        return Some(format!("it has {count} characters; at most 100 are allowed"));
    }
    if let Some(c) = login.chars().find(|&c| !(c.is_alphanumeric() || "._-@+'".contains(c))) {
        return Some(if is_space(c) {
            "it contains a space; logins may hold letters, digits and . _ - @ + '".to_string()
        } else {
            format!("it contains '{c}'; logins may hold letters, digits and . _ - @ + '")
        });
    }
    None
}

/// The closest of `candidates` to `value`, if it is close enough to be a likely typo
/// (normalised Levenshtein similarity of at least 0.6, ignoring case).
pub(crate) fn suggest<'a>(value: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let value = value.to_lowercase();
    let len = value.chars().count();
    candidates
        .into_iter()
        // Strings whose lengths differ by more than 40% cannot reach 0.6: skip them cheaply.
        .filter(|c| {
            let n = c.chars().count();
            n.abs_diff(len) * 5 <= n.max(len) * 2
        })
        .map(|c| (strsim::normalized_levenshtein(&value, &c.to_lowercase()), c))
        .filter(|(similarity, _)| *similarity >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// ", did you mean 'x'?" when there is a close candidate.
pub(crate) fn did_you_mean<'a>(value: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    suggest(value, candidates).map(|s| format!(" — did you mean '{s}'?")).unwrap_or_default()
}

/// An IANA time zone, ignoring case (`europe/paris`, `America/New York`); `Z` and `UTC+0` are
/// read as UTC.
pub(crate) fn timezone(value: &str) -> Option<Tz> {
    let value = trim(value);
    if let Ok(tz) = Tz::from_str(value) {
        return Some(tz);
    }
    if let Ok(tz) = Tz::from_str_insensitive(value) {
        return Some(tz);
    }
    if ["Z", "UTC+0", "UTC+00:00", "GMT+0"].iter().any(|a| a.eq_ignore_ascii_case(value)) {
        return Some(Tz::UTC);
    }
    if value.contains(' ') {
        return Tz::from_str_insensitive(&value.replace(' ', "_")).ok();
    }
    None
}

/// Why a value is not a time zone, with the closest zone name.
pub(crate) fn timezone_error(value: &str) -> String {
    let value = trim(value);
    let hint = did_you_mean(value, chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()));
    format!("'{value}' is not an IANA time zone such as 'Europe/Paris' or 'America/New_York'{hint}")
}

/// A custom field's value, typed by its kind.
pub(crate) fn custom_value(field: &CustomField, value: &str) -> Result<CustomValue, String> {
    let value = trim(value);
    match field.kind {
        CustomKind::Text => Ok(CustomValue::Text(clean_name(value).into_owned())),
        CustomKind::Number => match value.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(CustomValue::Number(n)),
            _ => Err(format!("'{value}' is not a number")),
        },
        CustomKind::Date => {
            let day = value.get(..10).unwrap_or(value);
            super::record::parse_iso_date(day)
                .filter(|_| value.len() == 10 || value[10..].starts_with('T'))
                .map(CustomValue::Date)
                .ok_or_else(|| format!("'{value}' is not a date; write dates as YYYY-MM-DD, e.g. 2024-01-15"))
        }
        CustomKind::Boolean => {
            yes_no(value).map(CustomValue::Bool).ok_or_else(|| format!("'{value}' is not yes or no"))
        }
        CustomKind::OneOf => match field.values.iter().find(|v| crate::model::eq_ignore_case(v, value)) {
            Some(v) => Ok(CustomValue::Text(v.clone())),
            None => Err(format!(
                "'{value}' is not one of: {}{}",
                field.values.join(", "),
                did_you_mean(value, field.values.iter().map(String::as_str))
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_and_logins() {
        assert!(is_plain_name("Ada") && is_plain_name("Søren O'Brien") && is_plain_name(&"a".repeat(200)));
        assert!(!is_plain_name("Ada  Mary") && !is_plain_name("Ada\u{A0}Mary") && !is_plain_name(&"a".repeat(201)));
        assert!(is_plain_login("user.0001@example.com") && is_plain_login(&"u".repeat(100)));
        assert!(!is_plain_login("bob smith") && !is_plain_login("søren") && !is_plain_login(&"u".repeat(101)));
    }

    #[test]
    fn names_are_trimmed_and_folded() {
        assert!(matches!(clean_name("Ada"), Cow::Borrowed("Ada")));
        assert_eq!(clean_name("\u{A0} Ada \t  Mary\u{A0}"), "Ada Mary");
        assert_eq!(clean_name("Jean\u{A0}Paul"), "Jean Paul");
        assert_eq!(clean_name("a\nb"), "a b");
    }

    #[test]
    fn yes_no_values() {
        for yes in ["Yes", "y", "TRUE", "1", "x", "X"] {
            assert_eq!(yes_no(yes), Some(true), "{yes}");
        }
        for no in ["no", "N", "false", "0"] {
            assert_eq!(yes_no(no), Some(false), "{no}");
        }
        assert_eq!(yes_no("maybe"), None);
    }

    #[test]
    fn logins() {
        assert_eq!(login_problem("ada.lovelace@example.com"), None);
        assert_eq!(login_problem("élodie_m-1"), None);
        assert!(login_problem("ada lovelace").unwrap().contains("space"));
        assert!(login_problem("ada/l").unwrap().contains("'/'"));
    }

    #[test]
    fn time_zones_ignore_case_and_suggest() {
        assert_eq!(timezone("europe/paris"), Some(Tz::Europe__Paris));
        assert_eq!(timezone(" America/New York "), Some(Tz::America__New_York));
        assert_eq!(timezone("utc"), Some(Tz::UTC));
        assert_eq!(timezone("Europe/Pariss"), None);
        let err = timezone_error("Europe/Pariss");
        assert!(err.contains("did you mean 'Europe/Paris'?"), "{err}");
    }

    #[test]
    fn suggestions_only_for_close_values() {
        assert_eq!(suggest("Admn", ["Admin", "Viewer"]), Some("Admin"));
        assert_eq!(suggest("Superuser", ["Admin", "Viewer"]), None);
    }

    #[test]
    fn custom_values_follow_their_kind() {
        use chrono::NaiveDate;
        let date = CustomField::new("start", CustomKind::Date);
        assert_eq!(
            custom_value(&date, "2024-01-15"),
            Ok(CustomValue::Date(NaiveDate::from_ymd_opt(2024, 1, 15).unwrap()))
        );
        assert_eq!(
            custom_value(&date, "2024-01-15T08:00:00"),
            Ok(CustomValue::Date(NaiveDate::from_ymd_opt(2024, 1, 15).unwrap()))
        );
        assert!(custom_value(&date, "15/01/2024").is_err());
        let n = CustomField::new("n", CustomKind::Number);
        assert_eq!(custom_value(&n, "12.5"), Ok(CustomValue::Number(12.5)));
        assert!(custom_value(&n, "NaN").is_err());
        let dept = CustomField::new("dept", CustomKind::OneOf).with_values(["Sales", "R&D"]);
        assert_eq!(custom_value(&dept, "sales"), Ok(CustomValue::Text("Sales".into())));
        assert!(custom_value(&dept, "Sale").unwrap_err().contains("did you mean 'Sales'?"));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// What `clean_name` means, char by char: trimmed, every run of white space or control
    /// characters one space.
    fn reference(value: &str) -> String {
        let trimmed = value.trim_matches(is_space);
        let mut out = String::new();
        let mut gap = false;
        for c in trimmed.chars() {
            if is_space(c) || c.is_control() {
                gap = true;
            } else {
                if gap && !out.is_empty() {
                    out.push(' ');
                }
                gap = false;
                out.push(c);
            }
        }
        out
    }

    proptest! {
        #[test]
        fn names_are_cleaned_as_the_reference_does(
            value in "[ a-zA-Zé\u{A0}\u{85}\u{2007}\u{202F}\u{3000}\u{1680}\t\n\u{1}ÿ©Ω日]{0,12}",
        ) {
            prop_assert_eq!(clean_name(&value).into_owned(), reference(&value));
            prop_assert_eq!(trim(&value), value.trim_matches(is_space));
        }

        #[test]
        fn any_text_is_cleaned_as_the_reference_does(value in "\\PC{0,16}") {
            prop_assert_eq!(clean_name(&value).into_owned(), reference(&value));
            prop_assert_eq!(trim(&value), value.trim_matches(is_space));
        }

        /// A name or login taken at once by its byte test is one the full check takes as it is.
        #[test]
        fn plain_names_and_logins_need_no_change(
            value in prop_oneof!["\\PC{0,16}", "[a-zA-Z0-9._@+' -]{0,12}", "[a-z]{190,210}", "[a-z]{95,105}"],
        ) {
            let trimmed = trim(&value);
            if is_plain_name(trimmed) {
                prop_assert_eq!(reference(trimmed), trimmed);
                prop_assert!(trimmed.chars().count() <= 200);
            }
            if is_plain_login(trimmed) {
                prop_assert_eq!(login_problem_slow(trimmed), None);
                prop_assert!(trimmed.chars().count() <= 100);
            }
        }
    }
}
