//! The JSON report, written by hand in the shape and bytes `serde_json`'s pretty printer gives it
//! (a test holds the two to the same output), at a third of its cost: a dry run of a million-row
//! file writes 150,000 issues, and serde's per-token formatting and byte-by-byte escaping took
//! 45–52 ms of it (13–17 ms now).

use std::io::{self, Write};

use crate::issue::{Issue, IssueCode};

use super::Report;

/// Writes `report` as pretty JSON (two-space indents, `"key": value`), as
/// `serde_json::to_writer_pretty` writes the contract's struct.
pub(super) fn write_report(report: &Report, out: &mut impl Write) -> io::Result<()> {
    out.write_all(b"{\n  \"summary\": {")?;
    let mut itoa = itoa::Buffer::new();
    for (k, (key, count)) in report.summary.named().into_iter().enumerate() {
        out.write_all(if k == 0 { b"\n    \"" } else { b",\n    \"" })?;
        out.write_all(key.as_bytes())?;
        out.write_all(b"\": ")?;
        out.write_all(itoa.format(count).as_bytes())?;
    }
    out.write_all(b"\n  },\n  \"issues\": ")?;
    array(out, &report.issues, |out, issue| write_issue(out, issue, &mut itoa))?;
    out.write_all(b",\n  \"mapping\": ")?;
    array(out, &report.mapping, |out, (column, field)| {
        out.write_all(b"{\n      \"column\": ")?;
        string(out, column)?;
        out.write_all(b",\n      \"field\": ")?;
        optional_string(out, field.as_deref())?;
        out.write_all(b"\n    }")
    })?;
    out.write_all(b",\n  \"custom_fields\": ")?;
    array(out, &report.custom_fields, |out, header| string(out, header))?;
    out.write_all(b"\n}")
}

/// An array at the second level (its items indented by four spaces): `[]` when empty.
fn array<W: Write, T>(out: &mut W, items: &[T], mut item: impl FnMut(&mut W, &T) -> io::Result<()>) -> io::Result<()> {
    if items.is_empty() {
        return out.write_all(b"[]");
    }
    for (k, value) in items.iter().enumerate() {
        out.write_all(if k == 0 { b"[\n    " } else { b",\n    " })?;
        item(out, value)?;
    }
    out.write_all(b"\n  ]")
}

/// One issue, as an object of the issues array.
fn write_issue(out: &mut impl Write, issue: &Issue, itoa: &mut itoa::Buffer) -> io::Result<()> {
    out.write_all(b"{\n      \"row\": ")?;
    match issue.row {
        Some(row) => out.write_all(itoa.format(row).as_bytes())?,
        None => out.write_all(b"null")?,
    }
    out.write_all(b",\n      \"column\": ")?;
    optional_string(out, issue.column.as_deref())?;
    out.write_all(b",\n      \"field\": ")?;
    optional_string(out, issue.field.as_deref())?;
    out.write_all(b",\n      \"code\": ")?;
    // A custom code's text is "custom:" and its name, as `Display` writes it.
    match &issue.code {
        IssueCode::Custom(name) => {
            out.write_all(b"\"custom:")?;
            escaped(out, name)?;
            out.write_all(b"\"")?;
        }
        code => string(out, code.as_str())?,
    }
    out.write_all(b",\n      \"severity\": ")?;
    string(out, issue.severity.as_str())?;
    out.write_all(b",\n      \"message\": ")?;
    string(out, &issue.message)?;
    out.write_all(b",\n      \"value\": ")?;
    optional_string(out, issue.value.as_deref())?;
    out.write_all(b"\n    }")
}

/// A JSON string, or `null`.
fn optional_string(out: &mut impl Write, text: Option<&str>) -> io::Result<()> {
    match text {
        Some(text) => string(out, text),
        None => out.write_all(b"null"),
    }
}

/// A JSON string.
fn string(out: &mut impl Write, text: &str) -> io::Result<()> {
    out.write_all(b"\"")?;
    escaped(out, text)?;
    out.write_all(b"\"")
}

/// The contents of a JSON string, escaped as serde_json escapes them: `"` and `\` with a
/// backslash, the control characters by their short escape or `\u00XX` (lowercase hex); every
/// other character (non-ASCII and DEL included) as it is.
fn escaped(out: &mut impl Write, text: &str) -> io::Result<()> {
    let bytes = text.as_bytes();
    // Nearly every text needs no escape: one pass without a branch a byte finds out.
    if !bytes.iter().fold(false, |any, &b| any | needs_escape(b)) {
        return out.write_all(bytes);
    }
    let mut start = 0;
    for (at, &b) in bytes.iter().enumerate() {
        if !needs_escape(b) {
            continue;
        }
        out.write_all(bytes.get(start..at).unwrap_or_default())?;
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            _ => b"",
        };
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let hex = |nibble: u8| HEX.get(usize::from(nibble)).copied().unwrap_or(b'0');
            out.write_all(&[b'\\', b'u', b'0', b'0', hex(b >> 4), hex(b & 0xf)])?;
        } else {
            out.write_all(short)?;
        }
        start = at + 1;
    }
    out.write_all(bytes.get(start..).unwrap_or_default())
}

fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;
    use serde::Serialize;

    use super::*;
    use crate::apply::Summary;
    use crate::issue::Severity;

    /// The contract's shape as serde writes it: what the hand-written JSON must equal.
    #[derive(Serialize)]
    struct Contract<'a> {
        summary: &'a Summary,
        issues: &'a [Issue],
        mapping: Vec<Column<'a>>,
        custom_fields: &'a [String],
    }

    #[derive(Serialize)]
    struct Column<'a> {
        column: &'a str,
        field: Option<&'a str>,
    }

    fn serde_json_of(report: &Report) -> String {
        let mapping = report.mapping.iter().map(|(column, field)| Column { column, field: field.as_deref() }).collect();
        let contract = Contract {
            summary: &report.summary,
            issues: &report.issues,
            mapping,
            custom_fields: &report.custom_fields,
        };
        serde_json::to_string_pretty(&contract).unwrap()
    }

    /// Texts with what JSON escapes (quotes, backslashes, every control character), DEL,
    /// non-ASCII letters and emoji.
    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just('"'),
                Just('\\'),
                Just('\u{7f}'),
                Just('/'),
                (0u8..0x20).prop_map(char::from),
                proptest::char::range('a', 'z'),
                Just('é'),
                Just('Ж'),
                Just('😀'),
                Just(' '),
            ],
            0..12,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    fn issue() -> impl Strategy<Value = Issue> {
        (
            proptest::option::of(any::<u64>()),
            proptest::option::of(text()),
            proptest::option::of(text()),
            prop_oneof![(0..IssueCode::BUILT_IN.len()).prop_map(Some), Just(None)],
            text(),
            any::<bool>(),
            text(),
            proptest::option::of(text()),
        )
            .prop_map(|(row, column, field, built_in, custom, warning, message, value)| {
                let code = match built_in.and_then(|k| IssueCode::BUILT_IN.get(k)) {
                    Some(code) => code.clone(),
                    None => IssueCode::Custom(custom),
                };
                let severity = if warning { Severity::Warning } else { Severity::Error };
                let mut issue = Issue::new(code, severity, message);
                issue.row = row;
                issue.column = column.map(Arc::from);
                issue.field = field.map(Arc::from);
                issue.value = value;
                issue
            })
    }

    fn report() -> impl Strategy<Value = Report> {
        (
            proptest::collection::vec(any::<u64>(), 8),
            proptest::collection::vec(issue(), 0..4),
            proptest::collection::vec((text(), proptest::option::of(text())), 0..3),
            proptest::collection::vec(text(), 0..3),
        )
            .prop_map(|(counts, issues, mapping, custom_fields)| {
                let count = |k: usize| counts.get(k).copied().unwrap_or(0);
                let summary = Summary {
                    rows: count(0),
                    valid: count(1),
                    invalid: count(2),
                    created: count(3),
                    updated: count(4),
                    unchanged: count(5),
                    skipped: count(6),
                    failed: count(7),
                };
                Report { summary, issues, mapping, custom_fields }
            })
    }

    proptest! {
        /// Byte for byte what serde_json's pretty printer writes, in memory and through a writer.
        #[test]
        fn the_json_is_serde_jsons(report in report()) {
            let expected = serde_json_of(&report);
            prop_assert_eq!(report.to_json(), expected.clone());
            let mut written = Vec::new();
            report.write_json(&mut written).unwrap();
            prop_assert_eq!(String::from_utf8(written).unwrap(), expected);
        }
    }

    #[test]
    fn every_control_character_is_escaped_as_serde_escapes_it() {
        let every: String = (0u8..0x80).map(char::from).collect();
        let mut issue = Issue::error(IssueCode::Custom(every.clone()), every.clone());
        issue.value = Some(every.clone());
        let report = Report {
            summary: Summary::default(),
            issues: vec![issue],
            mapping: vec![(every.clone(), None)],
            custom_fields: vec![every],
        };
        let json = report.to_json();
        assert_eq!(json, serde_json_of(&report));
        assert!(json.contains(r#"\u0000\u0001"#) && json.contains(r#"\b\t\n\u000b\f\r"#));
        assert!(json.contains(r##"!\"#$"##) && json.contains(r"[\\]") && json.contains("~\u{7f}"), "{json}");
    }

    #[test]
    fn an_empty_report_has_empty_arrays() {
        let report =
            Report { summary: Summary::default(), issues: Vec::new(), mapping: Vec::new(), custom_fields: Vec::new() };
        assert_eq!(report.to_json(), serde_json_of(&report));
        assert!(report.to_json().contains("\"issues\": [],\n  \"mapping\": [],\n  \"custom_fields\": []\n}"));
    }
}
