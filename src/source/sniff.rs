//! Detection from content: the container (zip, compound file, text), the workbook format inside
//! a zip, the text encoding and the delimiter.

use std::io::{Read, Seek, SeekFrom};

use crate::error::{Error, ErrorKind, Result};
use crate::source::{Format, Limit, Limits, TextEncoding};

/// What the first bytes of a file say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Delimited text (any encoding).
    Text,
    /// A zip archive: XLSX, XLSB or ODS (decided from its directory).
    Zip,
    /// An OLE compound file: XLS (or an encrypted OOXML workbook).
    Cfb,
}

const CFB_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Signatures of common files that are not spreadsheets, with what a person would call them.
const NOT_SPREADSHEETS: &[(&[u8], &str)] = &[
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xFF\xD8\xFF", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1F\x8B", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"7z\xBC\xAF\x27\x1C", "a 7-Zip archive"),
    (b"Rar!\x1A\x07", "a RAR archive"),
    (b"\x7FELF", "a program (ELF executable)"),
    (b"MZ", "a Windows program"),
    (b"{\\rtf", "an RTF document"),
    (b"SQLite format 3\0", "an SQLite database"),
    (b"\x00\x00\x01\x00", "an icon image"),
    (b"RIFF", "a media file (RIFF)"),
];

/// Decides what kind of file the head of its bytes shows.
pub(crate) fn detect(head: &[u8]) -> Result<Kind> {
    if head.is_empty() {
        return Err(Error::empty("the file is empty (0 bytes)"));
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") || head.starts_with(b"PK\x07\x08") {
        return Ok(Kind::Zip);
    }
    if head.starts_with(CFB_MAGIC) {
        return Ok(Kind::Cfb);
    }
    if let Some((_, what)) = NOT_SPREADSHEETS.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Err(Error::wrong_format(*what, "save the users as CSV or as an Excel or LibreOffice workbook"));
    }
    if bom(head).is_some() {
        return Ok(Kind::Text);
    }
    let sample = &head[..head.len().min(8192)];
    if sample.contains(&0) && utf16_without_bom(sample).is_none() {
        return Err(Error::wrong_format("binary data", "save the users as CSV or as an Excel or LibreOffice workbook"));
    }
    let start = trimmed_start(sample);
    let lower: Vec<u8> = start.iter().take(512).map(u8::to_ascii_lowercase).collect();
    if lower.starts_with(b"<!doctype html") || lower.starts_with(b"<html") || lower.starts_with(b"<table") {
        return Err(Error::wrong_format(
            "an HTML page (some web applications save these with an .xls name)",
            "open it in Excel or LibreOffice and save it as .xlsx or CSV",
        ));
    }
    if lower.starts_with(b"<?xml") {
        let hint = if memchr_find(&lower, b"urn:schemas-microsoft-com:office:spreadsheet") {
            ("an Excel 2003 XML spreadsheet", "open it in Excel or LibreOffice and save it as .xlsx or CSV")
        } else {
            ("an XML document", "")
        };
        return Err(Error::wrong_format(hint.0, hint.1));
    }
    Ok(Kind::Text)
}

fn trimmed_start(bytes: &[u8]) -> &[u8] {
    let skip = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &bytes[skip..]
}

fn memchr_find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The encoding announced by a byte-order mark, with the BOM's length.
pub(crate) fn bom(head: &[u8]) -> Option<(TextEncoding, usize)> {
    if head.starts_with(b"\xEF\xBB\xBF") {
        Some((TextEncoding::Utf8Bom, 3))
    } else if head.starts_with(b"\xFF\xFE") {
        Some((TextEncoding::Utf16Le, 2))
    } else if head.starts_with(b"\xFE\xFF") {
        Some((TextEncoding::Utf16Be, 2))
    } else {
        None
    }
}

/// UTF-16 without a BOM: most ASCII characters leave a zero byte on one side.
fn utf16_without_bom(sample: &[u8]) -> Option<TextEncoding> {
    let pairs = sample.len() / 2;
    if pairs < 4 {
        return None;
    }
    let (mut even, mut odd) = (0usize, 0usize);
    for pair in sample.chunks_exact(2) {
        even += usize::from(pair[0] == 0);
        odd += usize::from(pair[1] == 0);
    }
    if odd * 10 >= pairs * 7 && even * 10 <= pairs {
        Some(TextEncoding::Utf16Le)
    } else if even * 10 >= pairs * 7 && odd * 10 <= pairs {
        Some(TextEncoding::Utf16Be)
    } else {
        None
    }
}

/// The encoding of a text file's head: BOM first, then UTF-16 patterns, then UTF-8 validity
/// (a character cut at the end of the sample is fine), else Windows-1252.
pub(crate) fn encoding(head: &[u8]) -> TextEncoding {
    if let Some((enc, _)) = bom(head) {
        return enc;
    }
    if let Some(enc) = utf16_without_bom(&head[..head.len().min(8192)]) {
        return enc;
    }
    match std::str::from_utf8(head) {
        Ok(_) => TextEncoding::Utf8,
        Err(e) if e.error_len().is_none() => TextEncoding::Utf8,
        Err(_) => TextEncoding::Windows1252,
    }
}

/// The encoding_rs encoding for one of ours.
pub(crate) fn encoding_rs(enc: TextEncoding) -> &'static encoding_rs::Encoding {
    match enc {
        TextEncoding::Utf8 | TextEncoding::Utf8Bom => encoding_rs::UTF_8,
        TextEncoding::Utf16Le => encoding_rs::UTF_16LE,
        TextEncoding::Utf16Be => encoding_rs::UTF_16BE,
        TextEncoding::Windows1252 => encoding_rs::WINDOWS_1252,
    }
}

/// Decodes a sample for sniffing (replacement characters are fine here).
pub(crate) fn decode_sample(head: &[u8], enc: TextEncoding) -> String {
    let skip = bom(head).map_or(0, |(_, len)| len);
    let (text, _) = encoding_rs(enc).decode_without_bom_handling(&head[skip..]);
    text.into_owned()
}

/// An Excel `sep=;` first line: the delimiter it names.
pub(crate) fn sep_line(text: &str) -> Option<u8> {
    let first = text.lines().next()?;
    let rest = first.trim_end_matches('\r').strip_prefix("sep=")?;
    let mut chars = rest.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii() => Some(c as u8),
        _ => None,
    }
}

/// The candidates, in order of preference on a tie.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Picks the delimiter that splits the first lines most consistently.
///
/// For each candidate, count its occurrences outside quotes on each of the first 50 complete
/// lines (records spanning lines are followed through their quotes). The winner has the most
/// lines sharing its most common non-zero count; ties go to the order of [`DELIMITERS`], except
/// that UTF-16 text prefers tab (Excel's "Unicode text").
pub(crate) fn delimiter(text: &str, quote: u8, prefer_tab: bool) -> u8 {
    let mut counts: Vec<[usize; 4]> = Vec::new();
    let mut current = [0usize; 4];
    let mut in_quotes = false;
    let mut any = false;
    let bytes = text.as_bytes();
    let complete = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(end) => &bytes[..end],
        None => bytes,
    };
    for &b in complete {
        if b == quote {
            in_quotes = !in_quotes;
        } else if !in_quotes {
            if b == b'\n' {
                if any {
                    counts.push(current);
                }
                current = [0; 4];
                any = false;
                if counts.len() >= 50 {
                    break;
                }
                continue;
            }
            if let Some(i) = DELIMITERS.iter().position(|&d| d == b) {
                current[i] += 1;
            }
        }
        if !b.is_ascii_whitespace() {
            any = true;
        }
    }
    if any && counts.len() < 50 {
        counts.push(current);
    }
    let mut best: Option<(usize, usize, usize)> = None; // (lines agreeing, count, candidate)
    let order: [usize; 4] = if prefer_tab { [2, 0, 1, 3] } else { [0, 1, 2, 3] };
    for i in order {
        let mut per_count: Vec<(usize, usize)> = Vec::new(); // (count, lines)
        for line in &counts {
            let n = line[i];
            if n == 0 {
                continue;
            }
            match per_count.iter_mut().find(|(c, _)| *c == n) {
                Some(entry) => entry.1 += 1,
                None => per_count.push((n, 1)),
            }
        }
        let Some(&(count, lines)) = per_count.iter().max_by_key(|(c, lines)| (*lines, *c)) else {
            continue;
        };
        let better = match best {
            None => true,
            Some((best_lines, best_count, _)) => (lines, count) > (best_lines, best_count),
        };
        if better {
            best = Some((lines, count, i));
        }
    }
    best.map_or(b',', |(_, _, i)| DELIMITERS[i])
}

/// Opens a zip's directory (nothing is decompressed), checks the limits, and says which
/// workbook format it holds.
pub(crate) fn inspect_zip<R: Read + Seek>(reader: &mut R, limits: &Limits) -> Result<Format> {
    let detected = {
        let mut archive =
            zip::ZipArchive::new(&mut *reader).map_err(|e| Error::corrupt(Format::Xlsx, zip_reason(&e)))?;
        let mut total: u64 = 0;
        let has = |name: &str| archive.index_for_name(name).is_some();
        let format = if has("xl/workbook.xml") {
            Some(Format::Xlsx)
        } else if has("xl/workbook.bin") {
            Some(Format::Xlsb)
        } else if has("content.xml") && (has("mimetype") || has("META-INF/manifest.xml")) {
            Some(Format::Ods)
        } else {
            None
        };
        let Some(format) = format else {
            let what = if has("word/document.xml") {
                "a Word document"
            } else if has("ppt/presentation.xml") {
                "a PowerPoint presentation"
            } else if has("content.xml") {
                "an OpenDocument file that is not a spreadsheet"
            } else {
                "a zip archive"
            };
            return Err(Error::wrong_format(what, "save the users as CSV or as an Excel or LibreOffice workbook"));
        };
        for i in 0..archive.len() {
            let entry = archive.by_index_raw(i).map_err(|e| Error::corrupt(format, zip_reason(&e)))?;
            let size = entry.size();
            let compressed = entry.compressed_size().max(1);
            total = total.saturating_add(size);
            if total > limits.max_uncompressed_bytes {
                return Err(Error::too_large(
                    Limit::UncompressedBytes,
                    limits.max_uncompressed_bytes,
                    format!("{total} bytes or more"),
                ));
            }
            if size > 1 << 20 && size / compressed > limits.max_compression_ratio {
                return Err(Error::too_large(
                    Limit::CompressionRatio,
                    limits.max_compression_ratio,
                    format!(
                        "'{}' expands {} times, from {} to {} bytes",
                        entry.name().map(|n| n.into_owned()).unwrap_or_default(),
                        size / compressed,
                        compressed,
                        size
                    ),
                ));
            }
        }
        format
    };
    reader.seek(SeekFrom::Start(0))?;
    Ok(detected)
}

fn zip_reason(err: &zip::result::ZipError) -> String {
    match err {
        zip::result::ZipError::Io(e) => format!("cannot read the zip container: {e}"),
        other => format!("the zip container is broken: {other}"),
    }
}

/// Checks a compound file is a workbook and not an encrypted OOXML package.
pub(crate) fn inspect_cfb<R: Read + Seek>(reader: &mut R) -> Result<()> {
    // The directory of an encrypted OOXML workbook names the stream "EncryptedPackage" (UTF-16).
    const ENCRYPTED: &[u8] = b"E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0";
    let mut buf = vec![0u8; 1 << 16];
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        carry.extend_from_slice(&buf[..n]);
        if memchr_find(&carry, ENCRYPTED) {
            return Err(ErrorKind::Encrypted.into());
        }
        let keep = carry.len().saturating_sub(ENCRYPTED.len());
        carry.drain(..keep);
    }
    reader.seek(SeekFrom::Start(0))?;
    Ok(())
}

/// The spreadsheet letter of a 0-based column index: 0 → `A`, 26 → `AA`.
///
/// ```
/// assert_eq!(user_import::column_letter(0), "A");
/// assert_eq!(user_import::column_letter(27), "AB");
/// assert_eq!(user_import::column_letter(16_383), "XFD");
/// ```
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_sniffed_from_consistent_counts() {
        assert_eq!(delimiter("a,b,c\n1,2,3\n", b'"', false), b',');
        assert_eq!(delimiter("a;b;c\n1,5;2;3\n4;5,5;6\n", b'"', false), b';');
        assert_eq!(delimiter("a\tb\n1\t2\n", b'"', false), b'\t');
        assert_eq!(delimiter("a|b|c\n\"x|y\"|2|3\n", b'"', false), b'|');
        assert_eq!(delimiter("Title, with comma\na;b;c\n1;2;3\n4;5;6\n", b'"', false), b';');
        assert_eq!(delimiter("single\ncolumn\n", b'"', false), b',');
        assert_eq!(delimiter("a,b\tc\n1,2\t3\n", b'"', true), b'\t');
    }

    #[test]
    fn quoted_newlines_do_not_split_lines_for_the_sniffer() {
        let text = "a;b;c\n\"multi\nline, with, commas\";2;3\n4;5;6\n";
        assert_eq!(delimiter(text, b'"', false), b';');
    }

    #[test]
    fn encodings_are_recognised() {
        assert_eq!(encoding(b"\xEF\xBB\xBFa,b"), TextEncoding::Utf8Bom);
        assert_eq!(encoding(b"\xFF\xFEa\0"), TextEncoding::Utf16Le);
        assert_eq!(encoding(b"\xFE\xFF\0a"), TextEncoding::Utf16Be);
        assert_eq!(encoding("Élodie".as_bytes()), TextEncoding::Utf8);
        assert_eq!(encoding(b"\xC9lodie;M\xFCller"), TextEncoding::Windows1252);
        assert_eq!(encoding(b"a\0b\0c\0,\0d\0"), TextEncoding::Utf16Le);
        // A multi-byte character cut by the end of the sample is still UTF-8.
        assert_eq!(encoding(&"aé".as_bytes()[..2]), TextEncoding::Utf8);
    }

    #[test]
    fn known_binary_files_are_named() {
        let err = detect(b"%PDF-1.7 ...").unwrap_err();
        assert!(err.to_string().contains("a PDF document"), "{err}");
        let err = detect(b"<html><table><tr><td>x</td></tr></table></html>").unwrap_err();
        assert!(err.to_string().contains("HTML"), "{err}");
        assert_eq!(detect(b"a,b\n1,2\n").unwrap(), Kind::Text);
        assert!(detect(b"a\0\x01\x02\x03binary").is_err());
    }

    #[test]
    fn sep_lines_name_the_delimiter() {
        assert_eq!(sep_line("sep=;\r\na;b\n"), Some(b';'));
        assert_eq!(sep_line("sep=\t\n"), Some(b'\t'));
        assert_eq!(sep_line("separator\n"), None);
    }

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }
}
