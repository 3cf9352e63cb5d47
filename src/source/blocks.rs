//! Delimited text a block at a time: the fast path of the validate stage.
//!
//! [`Blocks`] cuts the rest of a UTF-8 delimited file into blocks of whole records (about
//! 512 KiB each), ending exactly where `csv-core` would end a record; a [`BlockReader`] reads the
//! rows of one block. Blocks are independent of each other: several threads can read them at
//! once, and each row keeps the number it has in the file, because every block knows the line it
//! starts on.
//!
//! A record without a quote character is split in place: its cells are slices of the block. Any
//! other record (quotes, bytes that are not UTF-8), and any row that needs shaping (ragged, too
//! wide, an over-long cell), goes through `csv-core` and [`shape_row`] into a [`Row`], exactly
//! as [`Table::read_row`](super::Table::read_row) reads it. `tests/source.rs` checks that both
//! ways give the same rows.

use std::borrow::Cow;
use std::io::BufRead;

use csv_core::ReadRecordResult;
use memchr::{memchr, memchr3, memrchr2};

use crate::error::Result;
use crate::issue::Issue;
use crate::source::delimited::{fill_row, DelimitedRows, Input, LineCounter};
use crate::source::{limit_error, shape_row, Limits, Row, TextEncoding};

/// The size a block aims at (a record longer than that makes its block longer).
const BLOCK_BYTES: usize = 512 * 1024;

/// How rows are fitted to the header (see [`shape_row`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape<'a> {
    pub(crate) headers: &'a [String],
    pub(crate) limits: &'a Limits,
    /// Delimited text: a row with fewer cells than the header is flagged.
    pub(crate) short_rows_are_ragged: bool,
}

/// Whole records of a delimited file, and the line the first one starts on.
pub(crate) struct Block<'t> {
    bytes: Cow<'t, [u8]>,
    lines: LineCounter,
}

impl Block<'_> {
    /// The block's size in bytes.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }
}

/// Cuts the rest of a UTF-8 delimited file into [`Block`]s.
pub(crate) struct Blocks<'t> {
    input: BlockInput<'t>,
    lines: LineCounter,
    delimiter: u8,
    quote: u8,
    /// The size a block aims at.
    block_bytes: usize,
}

enum BlockInput<'t> {
    /// Bytes in memory: blocks are slices of them.
    Memory { bytes: &'t [u8], pos: usize },
    /// A stream: blocks are read into buffers; `carry` holds the start of a record read past the
    /// end of the last block.
    Stream { stream: &'t mut (dyn BufRead + Send), carry: Vec<u8>, eof: bool },
}

impl<'t> Blocks<'t> {
    /// The rest of `rows` as blocks, when it is UTF-8 text with an ASCII delimiter and quote
    /// (anything else is read row by row). The rows are read to their end: what the blocks do
    /// not give is not read.
    pub(crate) fn new(rows: &'t mut DelimitedRows) -> Option<Blocks<'t>> {
        let plain = |b: u8| b.is_ascii() && b != b'\n' && b != b'\r';
        let utf8 = matches!(rows.encoding, TextEncoding::Utf8 | TextEncoding::Utf8Bom);
        if !utf8 || !plain(rows.delimiter) || !plain(rows.quote) || rows.delimiter == rows.quote {
            return None;
        }
        let (lines, delimiter, quote) = (rows.lines, rows.delimiter, rows.quote);
        let input = match &mut rows.input {
            Input::Memory(cursor) => {
                let pos = usize::try_from(cursor.position()).unwrap_or(usize::MAX);
                let len = cursor.get_ref().as_ref().len();
                cursor.set_position(len as u64);
                let cursor: &'t std::io::Cursor<_> = cursor;
                let bytes = cursor.get_ref().as_ref();
                BlockInput::Memory { bytes, pos: pos.min(bytes.len()) }
            }
            Input::Stream(stream) => BlockInput::Stream { stream: &mut **stream, carry: Vec::new(), eof: false },
        };
        Some(Blocks { input, lines, delimiter, quote, block_bytes: BLOCK_BYTES })
    }

    /// How many bytes the blocks hold in all, when that is known (bytes in memory).
    pub(crate) fn total_bytes(&self) -> Option<usize> {
        match &self.input {
            BlockInput::Memory { bytes, pos } => Some(bytes.len().saturating_sub(*pos)),
            BlockInput::Stream { .. } => None,
        }
    }

    /// A reader for the blocks of this file.
    pub(crate) fn reader(&self) -> BlockReader {
        BlockReader::new(self.delimiter, self.quote)
    }

    /// The next block, or `None` at the end of the file.
    pub(crate) fn next_block(&mut self) -> Result<Option<Block<'t>>> {
        let (delimiter, quote, block_bytes) = (self.delimiter, self.quote, self.block_bytes);
        let bytes: Cow<'t, [u8]> = match &mut self.input {
            BlockInput::Memory { bytes, pos } => {
                let rest: &'t [u8] = bytes.get(*pos..).unwrap_or_default();
                if rest.is_empty() {
                    return Ok(None);
                }
                let mut want = block_bytes;
                let end = loop {
                    if want >= rest.len() {
                        break rest.len();
                    }
                    let region = rest.get(..want).unwrap_or(rest);
                    if let Some(end) = record_end(region, rest.get(want).copied(), delimiter, quote) {
                        break end;
                    }
                    want = want.saturating_mul(2);
                };
                *pos += end;
                Cow::Borrowed(rest.get(..end).unwrap_or(rest))
            }
            BlockInput::Stream { stream, carry, eof } => {
                let mut buf = std::mem::take(carry);
                let mut want = block_bytes;
                loop {
                    buf.reserve(want.saturating_sub(buf.len()));
                    while buf.len() < want && !*eof {
                        let chunk = stream.fill_buf().map_err(limit_error)?;
                        if chunk.is_empty() {
                            *eof = true;
                            break;
                        }
                        let n = chunk.len().min(want - buf.len());
                        buf.extend_from_slice(chunk.get(..n).unwrap_or(chunk));
                        stream.consume(n);
                    }
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    if *eof {
                        break;
                    }
                    if let Some(end) = record_end(&buf, None, delimiter, quote) {
                        *carry = buf.split_off(end);
                        break;
                    }
                    want = want.saturating_mul(2);
                }
                Cow::Owned(buf)
            }
        };
        let block = Block { bytes, lines: self.lines };
        self.lines.advance(&block.bytes);
        Ok(Some(block))
    }
}

/// The cells of a line without quotes, split at `delimiter`, eight bytes at a time (cells are
/// short: a call to a SIMD search per cell costs more than it saves). The delimiter is ASCII
/// ([`Blocks::new`] refuses any other), so every cut falls between two characters.
fn split_cells<'l>(line: &'l str, delimiter: u8, cells: &mut Vec<&'l str>) {
    let bytes = line.as_bytes();
    let splat = u64::from_ne_bytes([delimiter; 8]);
    let mut start = 0;
    let mut chunks = bytes.chunks_exact(8);
    for (k, chunk) in (&mut chunks).enumerate() {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else { continue };
        let mut found = zero_bytes(u64::from_le_bytes(word) ^ splat);
        while found != 0 {
            let at = k * 8 + (found.trailing_zeros() / 8) as usize;
            cells.push(line.get(start..at).unwrap_or_default());
            start = at + 1;
            found &= found - 1;
        }
    }
    let tail = bytes.len() - chunks.remainder().len();
    for (i, &b) in chunks.remainder().iter().enumerate() {
        if b == delimiter {
            cells.push(line.get(start..tail + i).unwrap_or_default());
            start = tail + i + 1;
        }
    }
    cells.push(line.get(start..).unwrap_or_default());
}

/// `0x80` in each byte of `x` that is zero, and `0` in the others (exactly: no borrow crosses
/// bytes).
fn zero_bytes(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// Where the last whole record of `region` ends, reading it as `csv-core` does from the start of
/// a record: the position after the last line end that is outside quotes and does not split a
/// `\r\n` (`next` is the byte after the region, when known). `None` when the region holds no such
/// line end.
fn record_end(region: &[u8], next: Option<u8>, delimiter: u8, quote: u8) -> Option<usize> {
    // A line end at `p` can end a block unless it is a `\r` whose `\n` may follow.
    let cuts = |p: usize| -> bool {
        match region.get(p) {
            Some(b'\n') => true,
            _ => !matches!(region.get(p + 1).copied().or(next), Some(b'\n') | None),
        }
    };
    if memchr(quote, region).is_none() {
        // No quote: every line end ends a record.
        let mut end = region.len();
        while let Some(p) = memrchr2(b'\n', b'\r', region.get(..end).unwrap_or_default()) {
            if cuts(p) {
                return Some(p + 1);
            }
            end = p;
        }
        return None;
    }
    // Follow csv-core's states (quoting on, doubled quotes, no escape, no comments), jumping
    // from one byte that matters to the next.
    let mut last = None;
    let mut pos = 0;
    while pos < region.len() {
        // Outside quotes: the next quote or line end.
        let rest = region.get(pos..).unwrap_or_default();
        let Some(at) = memchr3(quote, b'\n', b'\r', rest).map(|i| pos + i) else {
            break;
        };
        if region.get(at) != Some(&quote) {
            if cuts(at) {
                last = Some(at + 1);
            }
            pos = at + 1;
            continue;
        }
        // A quote opens a quoted field only at the start of a field.
        let before = at.checked_sub(1).and_then(|p| region.get(p)).copied();
        let field_start = before.is_none_or(|b| b == delimiter || b == b'\n' || b == b'\r');
        if !field_start {
            pos = at + 1; // a quote inside an unquoted field is a plain character
            continue;
        }
        // Inside quotes until a quote that is not doubled.
        let mut inside = at + 1;
        loop {
            let rest = region.get(inside..).unwrap_or_default();
            let Some(close) = memchr(quote, rest).map(|i| inside + i) else {
                return last; // the region ends inside a quoted field
            };
            if region.get(close + 1) == Some(&quote) {
                inside = close + 2;
                continue;
            }
            pos = close + 1;
            break;
        }
        // After the closing quote: a delimiter, a line end, or more of the field (unquoted).
        match region.get(pos) {
            Some(&b) if b == b'\n' || b == b'\r' => {
                if cuts(pos) {
                    last = Some(pos + 1);
                }
                pos += 1;
            }
            Some(_) => pos += 1,
            None => break,
        }
    }
    last
}

/// Read access to one data row: a [`Row`], or cells split in place.
pub(crate) trait RowView {
    /// The row number as a person sees it.
    fn number(&self) -> u64;
    /// The cell at a column (empty up to the header's width).
    fn cell(&self, column: usize) -> Option<&str>;
    /// What the parse stage found wrong with the row.
    fn issues(&self) -> &[Issue];
    /// True if the parse stage flagged the cell at this column.
    fn cell_has_issue(&self, column: usize) -> bool;
}

impl RowView for Row {
    fn number(&self) -> u64 {
        self.number
    }

    fn cell(&self, column: usize) -> Option<&str> {
        self.get(column)
    }

    fn issues(&self) -> &[Issue] {
        &self.issues
    }

    fn cell_has_issue(&self, column: usize) -> bool {
        Row::cell_has_issue(self, column)
    }
}

/// A row whose cells are slices of its block: no issue, at most as wide as the header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CellsRow<'a> {
    number: u64,
    cells: &'a [&'a str],
    width: usize,
}

impl RowView for CellsRow<'_> {
    fn number(&self) -> u64 {
        self.number
    }

    fn cell(&self, column: usize) -> Option<&str> {
        match self.cells.get(column) {
            Some(cell) => Some(cell),
            None => (column < self.width).then_some(""),
        }
    }

    fn issues(&self) -> &[Issue] {
        &[]
    }

    fn cell_has_issue(&self, _column: usize) -> bool {
        false
    }
}

/// One row of a block, as [`BlockReader::read`] hands it over.
pub(crate) enum BlockRow<'a> {
    /// Split in place.
    Cells(CellsRow<'a>),
    /// Parsed by `csv-core` and shaped.
    Row(&'a Row),
}

/// Reads the rows of blocks; one per thread.
pub(crate) struct BlockReader {
    core: csv_core::Reader,
    delimiter: u8,
    quote: u8,
    out: Vec<u8>,
    ends: Vec<usize>,
    row: Row,
}

impl BlockReader {
    fn new(delimiter: u8, quote: u8) -> Self {
        BlockReader {
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).quote(quote).build(),
            delimiter,
            quote,
            out: vec![0; 1 << 12],
            ends: vec![0; 64],
            row: Row::default(),
        }
    }

    /// Hands every data row of `block` to `visit`, in order (blank rows are skipped), fitted to
    /// the header as `shape` says; returns how many there were.
    pub(crate) fn read(
        &mut self,
        block: &Block<'_>,
        shape: &Shape<'_>,
        mut visit: impl FnMut(BlockRow<'_>) -> Result<()>,
    ) -> Result<u64> {
        let bytes: &[u8] = &block.bytes;
        // Valid UTF-8 as a whole (nearly always): records without quotes are split in place.
        let text = simdutf8::basic::from_utf8(bytes).ok();
        let mut lines = block.lines;
        let mut cells: Vec<&str> = Vec::with_capacity(shape.headers.len() + 1);
        let mut rows = 0;
        let mut pos = 0;
        while pos < bytes.len() {
            let rest = bytes.get(pos..).unwrap_or_default();
            let blank = rest.iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
            if blank > 0 {
                lines.advance(rest.get(..blank).unwrap_or_default());
                pos += blank;
                continue;
            }
            let number = lines.line;
            let stop = memchr3(self.quote, b'\n', b'\r', rest);
            let quoted = stop.is_some_and(|at| rest.get(at) == Some(&self.quote));
            if let (Some(text), false) = (text, quoted) {
                let len = stop.unwrap_or(rest.len());
                let line = text.get(pos..pos + len).unwrap_or_default();
                pos += len;
                match bytes.get(pos) {
                    Some(b'\n') => {
                        pos += 1;
                        lines.line += 1;
                        lines.after_cr = false;
                    }
                    Some(b'\r') if bytes.get(pos + 1) == Some(&b'\n') => {
                        pos += 2;
                        lines.line += 1;
                        lines.after_cr = false;
                    }
                    Some(_) => {
                        pos += 1;
                        lines.line += 1;
                        lines.after_cr = true;
                    }
                    None => {}
                }
                cells.clear();
                split_cells(line, self.delimiter, &mut cells);
                rows += u64::from(self.split_row(number, &cells, shape, &mut visit)?);
                continue;
            }
            // Quotes, or bytes that are not UTF-8: csv-core, as the row source reads them.
            let (consumed, outlen, endlen) = self.parse_record(rest, &mut lines);
            pos += consumed.max(1);
            self.row.clear();
            self.row.number = number;
            let (out, ends) = (self.out.get(..outlen).unwrap_or_default(), self.ends.get(..endlen).unwrap_or_default());
            fill_row(&mut self.row, out, ends, TextEncoding::Utf8);
            if self.row.is_blank() {
                continue;
            }
            rows += 1;
            shape_row(&mut self.row, shape);
            visit(BlockRow::Row(&self.row))?;
        }
        Ok(rows)
    }

    /// Hands over one record split in place: as cells when it fits the header, else as a shaped
    /// row. Returns false for a blank row, which is skipped.
    fn split_row(
        &mut self,
        number: u64,
        cells: &[&str],
        shape: &Shape<'_>,
        visit: &mut impl FnMut(BlockRow<'_>) -> Result<()>,
    ) -> Result<bool> {
        // Blank: every cell white space (a cell that starts with a printable ASCII byte is not).
        if cells.iter().all(|cell| !cell.as_bytes().first().is_some_and(u8::is_ascii_graphic) && cell.trim().is_empty())
        {
            return Ok(false);
        }
        let width = shape.headers.len();
        let (max_columns, max_chars) = (shape.limits.max_columns, shape.limits.max_cell_chars);
        let mut used = cells.len();
        while used > width && cells.get(used - 1).is_some_and(|c| c.trim().is_empty()) {
            used -= 1;
        }
        let fits = used <= max_columns
            && (used == width || used < width && !shape.short_rows_are_ragged)
            && cells.iter().all(|c| c.len() <= max_chars);
        if fits {
            visit(BlockRow::Cells(CellsRow { number, cells: cells.get(..used).unwrap_or_default(), width }))?;
        } else {
            self.row.clear();
            self.row.number = number;
            for cell in cells {
                self.row.cells.push_field(cell);
            }
            shape_row(&mut self.row, shape);
            visit(BlockRow::Row(&self.row))?;
        }
        Ok(true)
    }

    /// Parses the record at the start of `input` with `csv-core`, counting the lines it spans;
    /// returns the bytes consumed and the used lengths of the output and its field ends.
    fn parse_record(&mut self, input: &[u8], lines: &mut LineCounter) -> (usize, usize, usize) {
        self.core.reset();
        let (mut consumed, mut outlen, mut endlen) = (0, 0, 0);
        loop {
            let rest = input.get(consumed..).unwrap_or_default();
            let out = self.out.get_mut(outlen..).unwrap_or_default();
            let ends = self.ends.get_mut(endlen..).unwrap_or_default();
            let (result, nin, nout, nend) = self.core.read_record(rest, out, ends);
            lines.advance(rest.get(..nin).unwrap_or_default());
            consumed += nin;
            outlen += nout;
            endlen += nend;
            match result {
                ReadRecordResult::Record | ReadRecordResult::End => return (consumed, outlen, endlen),
                // The input ended (the next call, with nothing left, ends the record), or a buffer
                // is full.
                other => super::delimited::make_room(&other, &mut self.out, &mut self.ends),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{HeaderRow, SourceBuilder, Table};
    use proptest::prelude::*;

    /// A row as the tests compare them: number, cells, and the codes and columns of its issues.
    type Seen = (u64, Vec<String>, Vec<(String, Option<usize>, Option<String>)>);

    fn seen(number: u64, cells: impl Iterator<Item = String>, issues: &[Issue]) -> Seen {
        let issues = issues
            .iter()
            .map(|i| (i.message.clone(), i.column_index, i.column.as_deref().map(str::to_string)))
            .collect();
        (number, cells.collect(), issues)
    }

    /// The table of `data`, read as UTF-8 (a stray byte that is not is read as Windows-1252).
    fn open(data: &[u8], stream: bool) -> Table {
        let mut builder = SourceBuilder::new();
        builder.header_row(HeaderRow::At(1)).delimiter(b',').encoding(TextEncoding::Utf8);
        builder.limits(Limits { max_cell_chars: 6, max_columns: 5, ..Limits::default() });
        let table = if stream {
            builder.from_reader(std::io::Cursor::new(data.to_vec()))
        } else {
            builder.from_bytes(data.to_vec())
        };
        table.expect("a header on row 1")
    }

    /// Every row as `Table::read_row` gives them.
    fn by_rows(data: &[u8]) -> Vec<Seen> {
        let mut table = open(data, false);
        table
            .rows()
            .map(|row| row.expect("row"))
            .map(|row| seen(row.number(), row.iter().map(String::from), row.issues()))
            .collect()
    }

    /// Every row as blocks of about `size` bytes give them.
    fn by_blocks(data: &[u8], size: usize, stream: bool) -> Vec<Seen> {
        let mut table = open(data, stream);
        let (pending, mut blocks, shape) = table.blocks().expect("UTF-8 text");
        blocks.block_bytes = size;
        let mut out = Vec::new();
        for mut row in pending {
            shape_row(&mut row, &shape);
            out.push(seen(row.number(), row.iter().map(String::from), row.issues()));
        }
        let mut reader = blocks.reader();
        let width = shape.headers.len();
        while let Some(block) = blocks.next_block().expect("block") {
            reader
                .read(&block, &shape, |row| {
                    out.push(match row {
                        BlockRow::Cells(cells) => {
                            let texts = (0..width).map(|i| cells.cell(i).unwrap_or_default().to_string());
                            seen(cells.number(), texts, cells.issues())
                        }
                        BlockRow::Row(row) => seen(row.number(), row.iter().map(String::from), row.issues()),
                    });
                    Ok(())
                })
                .expect("read");
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// Blocks of any size, from memory or a stream, give exactly the rows of the row
        /// source: numbers, cells (quotes, CR/LF/CRLF, blank lines, ragged rows, long cells,
        /// bytes that are not UTF-8) and issues.
        #[test]
        fn blocks_give_the_rows_the_row_source_gives(
            body in proptest::collection::vec(prop_oneof![
                Just(b'a'), Just(b'b'), Just(b','), Just(b'"'), Just(b'\n'), Just(b'\r'), Just(b' '),
                Just(0xC3), Just(0xA9), Just(0xFF),
            ], 0..200),
            size in 1usize..64,
        ) {
            let mut data = b"h1,h2,h3\nx,y,z\n".to_vec();
            data.extend_from_slice(&body);
            let expected = by_rows(&data);
            prop_assert_eq!(&by_blocks(&data, size, false), &expected);
            prop_assert_eq!(&by_blocks(&data, size, true), &expected);
        }

        /// The word-at-a-time splitter cuts a line where `str::split` does, whatever the
        /// delimiter, the length (word boundaries) and the letters (multi-byte ones included).
        #[test]
        fn cells_are_split_as_str_split_splits(
            line in "[a-c,;\t|é€ ]{0,40}",
            delimiter in prop_oneof![Just(b','), Just(b';'), Just(b'\t'), Just(b'|')],
        ) {
            let mut cells = Vec::new();
            split_cells(&line, delimiter, &mut cells);
            let expected: Vec<&str> = line.split(char::from(delimiter)).collect();
            prop_assert_eq!(cells, expected);
        }
    }

    /// The ends of records as csv-core finds them, reading `data` whole.
    fn csv_core_ends(data: &[u8]) -> Vec<usize> {
        let mut reader = csv_core::Reader::new();
        let (mut out, mut ends) = (vec![0; 1 << 16], vec![0; 1024]);
        let mut pos = 0;
        let mut found = Vec::new();
        loop {
            let (result, nin, _, _) = reader.read_record(&data[pos..], &mut out, &mut ends);
            pos += nin;
            match result {
                ReadRecordResult::Record => found.push(pos),
                ReadRecordResult::End => return found,
                ReadRecordResult::InputEmpty => {}
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_block_ends_where_csv_core_ends_a_record() {
        let cases: [&[u8]; 8] = [
            b"a,b\nc,d\ne,f",
            b"a,\"b\nc\",d\ne,f\n",
            b"a,b\"c\nd,e\n",
            b"\"a\"\"\nb\",c\nd\n",
            b"\"a\"b\nc\n",
            b"a\r\nb\r\nc",
            b"a\rb\rc",
            b"\"x\ny\"\n\"z\n",
        ];
        for data in cases {
            let ends = csv_core_ends(data);
            for len in 1..=data.len() {
                let region = &data[..len];
                let next = data.get(len).copied();
                let got = record_end(region, next, b',', b'"');
                if let Some(end) = got {
                    // A cut csv-core agrees with: a record (with its line end) ends there, and
                    // the cut does not split a \r\n.
                    let cut_ok =
                        ends.iter().any(|&e| e <= end && data[e..end].iter().all(|b| *b == b'\n' || *b == b'\r'));
                    assert!(cut_ok, "{:?} cut at {end} (records end at {ends:?})", String::from_utf8_lossy(data));
                    assert!(!(data[end - 1] == b'\r' && data.get(end) == Some(&b'\n')));
                }
            }
        }
    }
}
