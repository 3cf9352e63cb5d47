//! `inspect`: open any file and print what the parse stage sees.
//!
//! ```text
//! cargo run --example inspect -- FILE [--sheet NAME|INDEX] [--header-row N] [--rows N]
//! ```
//!
//! Prints the detected format, encoding, delimiter and sheet, the header row with each column's
//! letter and the built-in field its name suggests, the first rows with the row numbers a person
//! sees in Excel or LibreOffice, the issues the parse stage found, and the number of data rows.
//! Exits with 2 when the file cannot be read, 1 when rows have issues, 0 otherwise.

use std::process::ExitCode;

use user_import::{column_letter, Field, HeaderRow, SheetSelector, SourceBuilder};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut builder = SourceBuilder::new();
    let mut show = 10usize;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--sheet" => {
                let value = args.next().unwrap_or_default();
                builder.sheet(match value.parse::<usize>() {
                    Ok(index) => SheetSelector::Index(index),
                    Err(_) => SheetSelector::Name(value),
                });
            }
            "--header-row" => match args.next().and_then(|v| v.parse().ok()) {
                Some(n) => {
                    builder.header_row(HeaderRow::At(n));
                }
                None => return usage("--header-row takes a row number"),
            },
            "--rows" => match args.next().and_then(|v| v.parse().ok()) {
                Some(n) => show = n,
                None => return usage("--rows takes a number"),
            },
            "-h" | "--help" => return usage(""),
            _ if path.is_none() => path = Some(arg),
            _ => return usage(&format!("unexpected argument '{arg}'")),
        }
    }
    let Some(path) = path else {
        return usage("a file is needed");
    };

    let mut table = match builder.from_path(&path) {
        Ok(table) => table,
        Err(err) => {
            eprintln!("error [{}]: {err}", err.code());
            return ExitCode::from(2);
        }
    };

    let info = table.info().clone();
    println!("file:       {path}");
    println!("format:     {}", info.format);
    if let Some(encoding) = info.encoding {
        println!("encoding:   {encoding}");
    }
    if let Some(delimiter) = info.delimiter {
        println!("delimiter:  {}", if delimiter == '\t' { "tab".to_string() } else { format!("'{delimiter}'") });
    }
    if let Some(sheet) = &info.sheet {
        let sheets: Vec<String> = info
            .sheets
            .iter()
            .map(|s| if s.visible { s.name.clone() } else { format!("{} (hidden)", s.name) })
            .collect();
        println!("sheet:      {sheet}   [workbook: {}]", sheets.join(", "));
    }
    println!("header row: {}", table.header_row());
    for (i, header) in table.headers().iter().enumerate() {
        let field = Field::from_header(header).map_or_else(|| "?".to_string(), |f| f.key().to_string());
        println!("  {:>3}  {header:<28} -> {field}", column_letter(i));
    }
    for issue in table.issues() {
        println!("note [{}]: {issue}", issue.code);
    }

    // Passwords are never printed: cells under a password header are masked.
    let secret: Vec<bool> = table.headers().iter().map(|h| Field::from_header(h) == Some(Field::Password)).collect();

    println!();
    let mut issues = Vec::new();
    let mut rows = 0u64;
    for row in table.rows() {
        let mut row = match row {
            Ok(row) => row,
            Err(err) => {
                eprintln!("error [{}]: {err}", err.code());
                return ExitCode::from(2);
            }
        };
        rows += 1;
        if rows as usize <= show {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if secret.get(i).copied().unwrap_or(false) && !c.is_empty() {
                        user_import::Password::REDACTED.to_string()
                    } else {
                        format!("{c:?}")
                    }
                })
                .collect();
            println!("row {:>5}: {}", row.number(), cells.join(" | "));
        }
        issues.extend(row.take_issues());
    }
    if rows as usize > show {
        println!("…");
    }
    println!("\n{rows} data row(s), {} issue(s)", issues.len());
    for issue in &issues {
        println!("  [{}] {}: {issue}", issue.code, issue.severity.as_str());
    }
    if issues.iter().any(|i| i.is_error()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn usage(problem: &str) -> ExitCode {
    if !problem.is_empty() {
        eprintln!("error: {problem}");
    }
    eprintln!("usage: inspect FILE [--sheet NAME|INDEX] [--header-row N] [--rows N]");
    ExitCode::from(2)
}
