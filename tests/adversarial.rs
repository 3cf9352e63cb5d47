//! Hostile files, generated at test time: each is refused, or read, with a clear outcome in
//! bounded time and memory.
//!
//! Every file is opened by a child process (this test binary again, running
//! `adversarial_child`), which validates it with the default configuration and reports its
//! outcome, its time and its peak resident memory (`VmHWM`). The parent kills a child that runs
//! past [`TIME_LIMIT`] or grows past the case's memory bound, so a hang or a blow-up fails the
//! test instead of the machine. The bounds are deliberately generous: they catch hangs and
//! unbounded growth, not slowness. Run with `--nocapture` to see the figures.
#![cfg(target_os = "linux")]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use user_import::{ImportConfig, Importer, MemoryDirectory};

/// Set in the child: the file it opens.
const CHILD_FILE: &str = "USER_IMPORT_ADVERSARIAL_FILE";
/// The test the child process runs: `adversarial_child` below.
const CHILD_TEST: &str = "adversarial_child";
/// No case may take longer (debug build, loaded machine).
const TIME_LIMIT: Duration = Duration::from_secs(180);
const MIB: u64 = 1024;

/// Not a test of its own: the child process of every case. Validates the file, then prints
/// its outcome, time and peak memory.
#[test]
fn adversarial_child() {
    let Some(path) = std::env::var_os(CHILD_FILE) else {
        return;
    };
    let started = Instant::now();
    let importer = Importer::new(ImportConfig::default());
    let outcome = match importer.validate_path(PathBuf::from(path), &MemoryDirectory::new()) {
        Ok(validation) => {
            let mut codes: Vec<String> = validation.issues().iter().map(|i| i.code.to_string()).collect();
            codes.dedup();
            format!("ok rows={} issues={}", validation.rows(), codes.join(","))
        }
        Err(err) => format!("err {} {}", err.code(), err.to_string().replace('\n', " ")),
    };
    let elapsed = started.elapsed().as_millis();
    println!("\nadversarial-outcome: {outcome}");
    println!("adversarial-elapsed-ms: {elapsed}");
    println!("adversarial-peak-kib: {}", status_kib("self", "VmHWM").unwrap_or(0));
}

/// A field of `/proc/<pid>/status`, in KiB.
fn status_kib(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// What a child reported.
#[derive(Debug)]
struct Measured {
    outcome: String,
    millis: u64,
    peak_kib: u64,
}

/// Opens `path` in a child process; fails the test if the child runs past [`TIME_LIMIT`],
/// grows past `max_kib`, or dies without reporting.
fn measure(name: &str, path: &Path, max_kib: u64) -> Measured {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([CHILD_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_FILE, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let mut highest = 0;
    // Until the child has started the child test, its /proc entry may still show a copy of this
    // process (a test binary running other tests at once, hundreds of MiB): not the child's own
    // memory, which is only measured from then on.
    let mut running = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        running = running
            || std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| cmdline.windows(CHILD_TEST.len()).any(|w| w == CHILD_TEST.as_bytes()));
        let rss = if running { status_kib(&pid, "VmRSS").unwrap_or(0) } else { 0 };
        highest = highest.max(rss);
        if rss > max_kib || started.elapsed() > TIME_LIMIT {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!(
                "{name}: killed after {:?} at {} MiB resident (bound {} MiB)",
                started.elapsed(),
                rss / MIB,
                max_kib / MIB
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = reader.join().unwrap();
    let err = errors.join().unwrap();
    let field = |key: &str| {
        BufReader::new(out.as_bytes())
            .lines()
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix(key).map(|v| v.trim().to_string()))
    };
    let Some(outcome) = field("adversarial-outcome:") else {
        panic!("{name}: the child died ({status}) without an outcome\nstdout: {out}\nstderr: {err}");
    };
    let millis = field("adversarial-elapsed-ms:").and_then(|v| v.parse().ok()).unwrap_or(0);
    let peak_kib = field("adversarial-peak-kib:").and_then(|v| v.parse().ok()).unwrap_or(0).max(highest);
    let measured = Measured { outcome, millis, peak_kib };
    let file_kib = std::fs::metadata(path).map_or(0, |m| m.len() / 1024);
    eprintln!(
        "{name}: {file_kib} KiB file -> {} | {} ms, peak {} MiB",
        measured.outcome,
        measured.millis,
        measured.peak_kib / MIB
    );
    assert!(measured.peak_kib <= max_kib, "{name}: peak {} KiB over the bound of {max_kib} KiB", measured.peak_kib);
    assert!(u128::from(measured.millis) <= TIME_LIMIT.as_millis(), "{name}: {measured:?}");
    measured
}

fn assert_refused(measured: &Measured, code: &str, words: &str) {
    let prefix = format!("err {code} ");
    assert!(measured.outcome.starts_with(&prefix), "{measured:?}");
    assert!(measured.outcome.contains(words), "{measured:?}");
}

// ---------------------------------------------------------------------------------------------
// Building XLSX files by hand: a zip written byte by byte, so that it can lie.

/// One part of a zip: its name, method (0 stored, 8 deflated), CRC, data as stored, and the
/// uncompressed size its headers declare.
struct Part {
    name: String,
    method: u16,
    crc: u32,
    data: Vec<u8>,
    declared: u32,
}

impl Part {
    fn stored(name: &str, data: impl Into<Vec<u8>>) -> Part {
        let data = data.into();
        let crc = crc32fast::hash(&data);
        Part { name: name.into(), method: 0, crc, declared: u32::try_from(data.len()).unwrap(), data }
    }
}

fn zip(parts: &[Part]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for part in parts {
        let offset = u32::try_from(out.len()).unwrap();
        let compressed = u32::try_from(part.data.len()).unwrap();
        let name = part.name.as_bytes();
        let common = |v: &mut Vec<u8>| {
            v.extend(20u16.to_le_bytes()); // version needed
            v.extend(0u16.to_le_bytes()); // flags
            v.extend(part.method.to_le_bytes());
            v.extend(0u16.to_le_bytes()); // time
            v.extend(0x21u16.to_le_bytes()); // date: 1980-01-01
            v.extend(part.crc.to_le_bytes());
            v.extend(compressed.to_le_bytes());
            v.extend(part.declared.to_le_bytes());
            v.extend((name.len() as u16).to_le_bytes());
            v.extend(0u16.to_le_bytes()); // extra field length
        };
        out.extend(0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend(name);
        out.extend(&part.data);
        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend(20u16.to_le_bytes()); // version made by
        common(&mut central);
        central.extend([0; 10]); // comment length, disk, internal and external attributes
        central.extend(offset.to_le_bytes());
        central.extend(name);
    }
    let at = u32::try_from(out.len()).unwrap();
    let size = u32::try_from(central.len()).unwrap();
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0; 4]);
    out.extend((parts.len() as u16).to_le_bytes());
    out.extend((parts.len() as u16).to_le_bytes());
    out.extend(size.to_le_bytes());
    out.extend(at.to_le_bytes());
    out.extend([0; 2]);
    out
}

const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// The parts of a one-sheet workbook around `sheet` (and a shared-strings table if given).
fn workbook(sheet: Part, shared_strings: Option<Part>) -> Vec<Part> {
    let types = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>{}</Types>"#,
        if shared_strings.is_some() {
            r#"<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>"#
        } else {
            ""
        }
    );
    let rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
    );
    let book = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets><sheet name="Users" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    let book_rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>{}</Relationships>"#,
        if shared_strings.is_some() {
            format!(r#"<Relationship Id="rId2" Type="{REL_NS}/sharedStrings" Target="sharedStrings.xml"/>"#)
        } else {
            String::new()
        }
    );
    let mut parts = vec![
        Part::stored("[Content_Types].xml", types),
        Part::stored("_rels/.rels", rels),
        Part::stored("xl/workbook.xml", book),
        Part::stored("xl/_rels/workbook.xml.rels", book_rels),
        sheet,
    ];
    parts.extend(shared_strings);
    parts
}

/// A worksheet's XML around `rows` (`<row>` elements), with an optional prologue (a DOCTYPE)
/// and `<dimension>`.
fn sheet_xml(prologue: &str, dimension: Option<&str>, rows: &str) -> Vec<u8> {
    let dimension = dimension.map(|d| format!(r#"<dimension ref="{d}"/>"#)).unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>{prologue}<worksheet xmlns="{MAIN_NS}">{dimension}<sheetData>{rows}</sheetData></worksheet>"#
    )
    .into_bytes()
}

fn inline(cell: &str, text: &str) -> String {
    format!(r#"<c r="{cell}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

/// A header row (Login Name, First Name) and `rows` users.
fn user_rows(rows: usize) -> String {
    let mut xml = format!(r#"<row r="1">{}{}</row>"#, inline("A1", "Login Name"), inline("B1", "First Name"));
    for i in 0..rows {
        let r = i + 2;
        xml.push_str(&format!(
            r#"<row r="{r}">{}{}</row>"#,
            inline(&format!("A{r}"), &format!("user{i}")),
            inline(&format!("B{r}"), "Ada")
        ));
    }
    xml
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

// ---------------------------------------------------------------------------------------------
// A zip bomb: raw deflate written bit by bit.

/// Bits, least significant first, as deflate packs them.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    len: u32,
}

impl Bits {
    fn put(&mut self, value: u64, count: u32) {
        self.acc |= value << self.len;
        self.len += count;
        while self.len >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.len -= 8;
        }
    }

    /// A Huffman code: most significant bit first.
    fn code(&mut self, code: u64, count: u32) {
        let reversed = (0..count).fold(0, |r, i| (r << 1) | ((code >> i) & 1));
        self.put(reversed, count);
    }

    /// Literals in a fixed-Huffman block (RFC 1951, 3.2.6).
    fn fixed_block(&mut self, last: bool, literals: &[u8]) {
        self.put(u64::from(last), 1);
        self.put(1, 2);
        for &b in literals {
            if b <= 143 {
                self.code(0x30 + u64::from(b), 8);
            } else {
                self.code(0x190 + u64::from(b) - 144, 9);
            }
        }
        self.code(0, 7); // end of block
    }

    fn finish(mut self) -> Vec<u8> {
        if self.len > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// Raw deflate data for `prefix`, then `1 + 258 * matches` spaces, then `suffix`: the spaces
/// are one literal and copies of 258 bytes at distance 1, each two bits in a dynamic block
/// whose only codes are those (the best ratio deflate allows, about 1:1032).
fn deflate_bomb(prefix: &[u8], matches: u64, suffix: &[u8]) -> Vec<u8> {
    let mut bits = Bits::default();
    bits.fixed_block(false, prefix);
    bits.put(0, 1); // not the last block
    bits.put(2, 2); // dynamic Huffman codes
    bits.put(29, 5); // 286 literal/length codes
    bits.put(1, 5); // 2 distance codes
    bits.put(14, 4); // 18 code length codes, in the order 16 17 18 0 8 7 9 6 10 5 11 4 12 3 13 2 14 1
    for length in [0u64, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2] {
        bits.put(length, 3);
    }
    // Code length codes: 18 = "0", 1 = "10", 2 = "11". Literal/length code lengths: 2 for the
    // space (32) and the end of block (256), 1 for length 258 (285); both distance codes 1.
    let zeros = |bits: &mut Bits, n: u64| {
        bits.code(0, 1);
        bits.put(n - 11, 7);
    };
    zeros(&mut bits, 32);
    bits.code(0b11, 2);
    zeros(&mut bits, 138);
    zeros(&mut bits, 85);
    bits.code(0b11, 2);
    zeros(&mut bits, 28);
    bits.code(0b10, 2);
    bits.code(0b10, 2);
    bits.code(0b10, 2);
    // Data: the space ("10"), then each copy: length 258 ("0") at distance 1 ("0").
    bits.code(0b10, 2);
    for _ in 0..matches / 8 {
        bits.put(0, 16);
    }
    for _ in 0..matches % 8 {
        bits.put(0, 2);
    }
    bits.code(0b11, 2); // end of block
    bits.fixed_block(true, suffix);
    bits.finish()
}

/// The CRC-32 of `n` spaces, by doubling (`n` can be gigabytes).
fn crc_of_spaces(n: u64) -> crc32fast::Hasher {
    let mut total = crc32fast::Hasher::new();
    let mut power = crc32fast::Hasher::new();
    power.update(b" ");
    let mut rest = n;
    while rest > 0 {
        if rest & 1 == 1 {
            total.combine(&power);
        }
        let copy = power.clone();
        power.combine(&copy);
        rest >>= 1;
    }
    total
}

/// An XLSX whose sheet is `prefix`, 3 GiB of spaces and `suffix`, with its real sizes declared
/// (`declared` = `None`) or a lie.
fn zip_bomb(declared: Option<u32>) -> Vec<u8> {
    let prefix = format!(r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}"><sheetData>"#);
    let suffix = b"</sheetData></worksheet>";
    let matches = (3u64 << 30) / 258;
    let spaces = 1 + 258 * matches;
    let data = deflate_bomb(prefix.as_bytes(), matches, suffix);
    let mut crc = crc32fast::Hasher::new();
    crc.update(prefix.as_bytes());
    crc.combine(&crc_of_spaces(spaces));
    let mut tail = crc32fast::Hasher::new();
    tail.update(suffix);
    crc.combine(&tail);
    let size = prefix.len() as u64 + spaces + suffix.len() as u64;
    let sheet = Part {
        name: "xl/worksheets/sheet1.xml".into(),
        method: 8,
        crc: crc.finalize(),
        data,
        declared: declared.unwrap_or_else(|| u32::try_from(size).unwrap()),
    };
    zip(&workbook(sheet, None))
}

#[test]
fn deflate_bomb_inflates_to_what_it_claims() {
    // The hand-made deflate stream is checked on a small size with the zip crate itself.
    let matches = 1000;
    let data = deflate_bomb(b"<a>", matches, b"</a>");
    let expected = format!("<a>{}</a>", " ".repeat(1 + 258 * matches as usize));
    let part = Part {
        name: "x.xml".into(),
        method: 8,
        crc: crc32fast::hash(expected.as_bytes()),
        data,
        declared: expected.len() as u32,
    };
    let bytes = zip(&[part]);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    archive.by_index(0).unwrap().read_to_string(&mut text).unwrap();
    assert_eq!(text, expected);
    let mut crc = crc32fast::Hasher::new();
    crc.update(b"<a>");
    crc.combine(&crc_of_spaces(1 + 258 * matches));
    let mut tail = crc32fast::Hasher::new();
    tail.update(b"</a>");
    crc.combine(&tail);
    assert_eq!(crc.finalize(), crc32fast::hash(expected.as_bytes()));
}

#[test]
fn an_xlsx_zip_bomb_is_refused_from_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bomb.xlsx", &zip_bomb(None));
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size < 4 << 20, "a tiny file: {size} bytes for 3 GiB");
    let measured = measure("zip bomb, 3 GiB declared", &path, 256 * MIB);
    assert_refused(&measured, "too_large", "expands");
}

#[test]
fn an_xlsx_zip_bomb_lying_about_its_size_stops_at_the_declared_size() {
    let dir = tempfile::tempdir().unwrap();
    // Declares under 1 MiB (so no ratio check applies) but inflates to 3 GiB.
    let path = write(dir.path(), "liar.xlsx", &zip_bomb(Some(1_000_000)));
    let measured = measure("zip bomb, 1 MB declared, 3 GiB inside", &path, 256 * MIB);
    assert_refused(&measured, "unreadable", "declared uncompressed size");
}

/// The classic entity expansion: nine levels of ten, a billion `lol`s from a kilobyte.
fn billion_laughs() -> String {
    let mut doctype = String::from(r#"<!DOCTYPE lolz [<!ENTITY lol0 "lol">"#);
    for level in 1..=9 {
        doctype.push_str(&format!(r#"<!ENTITY lol{level} "{}">"#, format!("&lol{};", level - 1).repeat(10)));
    }
    doctype.push_str("]>");
    doctype
}

#[test]
fn a_billion_laughs_entity_block_is_not_expanded() {
    let dir = tempfile::tempdir().unwrap();
    let laughs = billion_laughs();
    // In the sheet itself.
    let rows = format!(r#"<row r="1">{}</row><row r="2">{}</row>"#, inline("A1", "Login Name"), inline("A2", "&lol9;"));
    let sheet = Part::stored("xl/worksheets/sheet1.xml", sheet_xml(&laughs, None, &rows));
    let path = write(dir.path(), "laughs_sheet.xlsx", &zip(&workbook(sheet, None)));
    let measured = measure("billion laughs in the sheet", &path, 256 * MIB);
    assert_refused(&measured, "unreadable", "lol9");

    // In the shared strings, which are read when the workbook opens.
    let shared = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>{laughs}<sst xmlns="{MAIN_NS}" count="2" uniqueCount="2"><si><t>Login Name</t></si><si><t>&lol9;</t></si></sst>"#
    );
    let rows = r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>"#;
    let sheet = Part::stored("xl/worksheets/sheet1.xml", sheet_xml("", None, rows));
    let sst = Part::stored("xl/sharedStrings.xml", shared);
    let path = write(dir.path(), "laughs_sst.xlsx", &zip(&workbook(sheet, Some(sst))));
    let measured = measure("billion laughs in the shared strings", &path, 256 * MIB);
    assert_refused(&measured, "unreadable", "lol9");
}

#[test]
fn ten_million_shared_strings_are_read_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let mut shared = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}" count="10000000" uniqueCount="10000000"><si><t>Login Name</t></si>"#
    );
    for i in 1..10_000_000u32 {
        shared.push_str("<si><t>");
        shared.push_str(itoa_like(i).as_str());
        shared.push_str("</t></si>");
    }
    shared.push_str("</sst>");
    let rows = r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>9999999</v></c></row>"#;
    let sheet = Part::stored("xl/worksheets/sheet1.xml", sheet_xml("", None, rows));
    // Stored, not deflated: a table this repetitive would be refused for its compression ratio.
    let sst = Part::stored("xl/sharedStrings.xml", shared);
    let path = write(dir.path(), "sst.xlsx", &zip(&workbook(sheet, Some(sst))));
    let measured = measure("10 million shared strings", &path, 3 * 1024 * MIB);
    assert!(measured.outcome.starts_with("ok rows=1"), "{measured:?}");
}

/// `u` plus the number (a distinct short string each).
fn itoa_like(i: u32) -> String {
    format!("u{i}")
}

#[test]
fn a_sheet_claiming_a1_to_xfd1048576_reads_only_its_cells() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = Part::stored("xl/worksheets/sheet1.xml", sheet_xml("", Some("A1:XFD1048576"), &user_rows(3)));
    let path = write(dir.path(), "dimension.xlsx", &zip(&workbook(sheet, None)));
    let measured = measure("XLSX dimension A1:XFD1048576", &path, 128 * MIB);
    assert_eq!(measured.outcome, "ok rows=3 issues=", "{measured:?}");

    // Its .xls counterpart: a DIMENSIONS record of four billion rows (see tests/regressions.rs).
    let measured = measure(
        "XLS dimensions of 4 billion rows",
        &common::fixture("regressions/xls_dimensions_4g_rows.xls"),
        128 * MIB,
    );
    assert_refused(&measured, "unreadable", "an .xls file can hold");
}

#[test]
fn a_hundred_thousand_columns_are_cut_at_the_column_limit() {
    let dir = tempfile::tempdir().unwrap();
    // CSV: a header and a row of 100,000 cells.
    let header: Vec<String> =
        (0..100_000).map(|i| if i == 0 { "Login Name".to_string() } else { format!("c{i}") }).collect();
    let row: Vec<String> = (0..100_000).map(|i| format!("v{i}")).collect();
    let csv = format!("{}\n{}\n", header.join(","), row.join(","));
    let path = write(dir.path(), "columns.csv", csv.as_bytes());
    let measured = measure("CSV of 100,000 columns", &path, 512 * MIB);
    assert_refused(&measured, "too_large", "the number of columns");

    // XLSX: the same in cells A1.. (beyond XFD, where no spreadsheet program goes).
    let mut rows = String::from(r#"<row r="1">"#);
    for (i, text) in header.iter().enumerate() {
        rows.push_str(&inline(&format!("{}1", user_import::column_letter(i)), text));
    }
    rows.push_str(r#"</row><row r="2">"#);
    for (i, text) in row.iter().enumerate() {
        rows.push_str(&inline(&format!("{}2", user_import::column_letter(i)), text));
    }
    rows.push_str("</row>");
    let sheet = Part::stored("xl/worksheets/sheet1.xml", sheet_xml("", None, &rows));
    let path = write(dir.path(), "columns.xlsx", &zip(&workbook(sheet, None)));
    let measured = measure("XLSX of 100,000 columns", &path, 512 * MIB);
    assert_refused(&measured, "too_large", "the number of columns");
}

#[test]
fn a_hundred_megabyte_cell_is_cut_to_the_cell_limit() {
    let dir = tempfile::tempdir().unwrap();
    let big = "x".repeat(100 << 20);
    let csv = format!("Login Name,First Name\nada,{big}\ngrace,Grace\n");
    let path = write(dir.path(), "cell.csv", csv.as_bytes());
    let measured = measure("CSV with a 100 MB cell", &path, 1024 * MIB);
    assert!(
        measured.outcome.starts_with("ok rows=2 issues=") && measured.outcome.contains("too_large"),
        "{measured:?}"
    );

    let rows = format!(
        r#"<row r="1">{}{}</row><row r="2">{}{}</row>"#,
        inline("A1", "Login Name"),
        inline("B1", "First Name"),
        inline("A2", "ada"),
        inline("B2", &big)
    );
    drop(big);
    let sheet = Part::stored("xl/worksheets/sheet1.xml", sheet_xml("", None, &rows));
    let path = write(dir.path(), "cell.xlsx", &zip(&workbook(sheet, None)));
    let measured = measure("XLSX with a 100 MB cell", &path, 1024 * MIB);
    assert!(
        measured.outcome.starts_with("ok rows=1 issues=") && measured.outcome.contains("too_large"),
        "{measured:?}"
    );
}

#[test]
fn ten_million_empty_lines_are_an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut file = std::fs::File::create(dir.path().join("lines.csv")).unwrap();
    let lines = vec![b'\n'; 10_000_000];
    file.write_all(&lines).unwrap();
    drop(file);
    let measured = measure("CSV of 10 million empty lines", &dir.path().join("lines.csv"), 128 * MIB);
    assert_refused(&measured, "empty", "only blank lines");

    // The same lines between a header and one user: the user's row number counts them all.
    let mut text = b"Login Name,First Name\n".to_vec();
    text.extend(&lines);
    text.extend(b"ada,Ada\n");
    let path = write(dir.path(), "lines_and_user.csv", &text);
    let measured = measure("CSV header, 10 million empty lines, one user", &path, 128 * MIB);
    assert_eq!(measured.outcome, "ok rows=1 issues=", "{measured:?}");
    let table = user_import::SourceBuilder::new().from_path(&path).unwrap();
    assert_eq!(common::read_table(table).rows[0].0, 10_000_002);
}

#[test]
fn nul_bytes_and_invalid_utf8_in_xlsx_strings() {
    let dir = tempfile::tempdir().unwrap();
    // A NUL byte typed into the XML, and the `_x0000_` escape Excel writes for it.
    let mut rows = user_rows(0).into_bytes();
    rows.extend(br#"<row r="2"><c r="A2" t="inlineStr"><is><t>ada"#);
    rows.push(0);
    rows.extend(br#"x</t></is></c><c r="B2" t="inlineStr"><is><t>A_x0000_da</t></is></c></row>"#);
    let mut xml = sheet_xml("", None, "").to_vec();
    let at = xml.windows(12).position(|w| w == b"</sheetData>").unwrap();
    xml.splice(at..at, rows);
    let path =
        write(dir.path(), "nul.xlsx", &zip(&workbook(Part::stored("xl/worksheets/sheet1.xml", xml.clone()), None)));
    let measured = measure("XLSX strings with NUL", &path, 256 * MIB);
    assert!(
        measured.outcome.starts_with("ok rows=1 issues=") && measured.outcome.contains("invalid_value"),
        "{measured:?}"
    );

    // Bytes that are not UTF-8 inside a string.
    let bad =
        [&xml[..at], b"<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>ad\xC3\x28\xFF</t></is></c></row>", &xml[at..]]
            .concat();
    let path = write(dir.path(), "utf8.xlsx", &zip(&workbook(Part::stored("xl/worksheets/sheet1.xml", bad), None)));
    let measured = measure("XLSX strings with invalid UTF-8", &path, 256 * MIB);
    assert_refused(&measured, "unreadable", "XLSX");
}

#[test]
fn an_xls_with_a_corrupt_compound_file_header_is_unreadable() {
    let measured = measure("XLS with a corrupt header", &common::fixture("xls_corrupt_header.xls"), 128 * MIB);
    assert_refused(&measured, "unreadable", "compound-file structure is broken");
}

/// users.xls with a FILEPASS record (RC4 encryption) after its first BOF.
fn password_protected_xls() -> Vec<u8> {
    let original = std::fs::read(common::fixture("users.xls")).unwrap();
    let mut compound = cfb::CompoundFile::open(std::io::Cursor::new(original)).unwrap();
    let mut stream = Vec::new();
    compound.open_stream("/Workbook").unwrap().read_to_end(&mut stream).unwrap();
    let bof_len = usize::from(u16::from_le_bytes([stream[2], stream[3]]));
    let mut filepass = vec![0x2F, 0x00, 54, 0x00, 0x01, 0x00]; // FILEPASS, 54 bytes, RC4
    filepass.extend([0u8; 52]);
    stream.splice(4 + bof_len..4 + bof_len, filepass);
    let mut out = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
    out.create_stream("/Workbook").unwrap().write_all(&stream).unwrap();
    out.flush().unwrap();
    out.into_inner().into_inner()
}

/// An encrypted OOXML workbook: what Excel saves with "Encrypt with password" (a compound file
/// with the EncryptionInfo and EncryptedPackage streams instead of a zip).
fn password_protected_xlsx() -> Vec<u8> {
    let mut out = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
    out.create_stream("/EncryptionInfo").unwrap().write_all(&[4, 0, 4, 0, 0x40, 0, 0, 0]).unwrap();
    out.create_stream("/EncryptedPackage").unwrap().write_all(&[0x5A; 8192]).unwrap();
    out.flush().unwrap();
    out.into_inner().into_inner()
}

#[test]
fn password_protected_workbooks_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "protected.xls", &password_protected_xls());
    let measured = measure("password-protected XLS", &path, 128 * MIB);
    assert_refused(&measured, "unreadable", "protected with a password");

    let path = write(dir.path(), "protected.xlsx", &password_protected_xlsx());
    let measured = measure("password-protected XLSX", &path, 128 * MIB);
    assert_refused(&measured, "unreadable", "protected with a password");
}
