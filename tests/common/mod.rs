//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use user_import::{Issue, SourceBuilder, SourceInfo, Table};

/// The path of a fixture in `tests/data`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("data").join(name)
}

/// Everything a table yields, in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub info: SourceInfo,
    pub headers: Vec<String>,
    pub rows: Vec<(u64, Vec<String>)>,
    pub issues: Vec<Issue>,
}

/// Reads a whole table.
pub fn read_table(mut table: Table) -> Parsed {
    let mut rows = Vec::new();
    let mut issues = Vec::new();
    for row in table.rows() {
        let mut row = row.expect("row");
        rows.push((row.number(), row.iter().map(str::to_string).collect()));
        issues.extend(row.take_issues());
    }
    Parsed { info: table.info().clone(), headers: table.headers().to_vec(), rows, issues }
}

/// Opens and reads a fixture with default options.
pub fn parse(name: &str) -> Parsed {
    read_table(SourceBuilder::new().from_path(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}")))
}

/// The canonical users' header.
pub const HEADER: [&str; 9] = [
    "First Name",
    "Last Name",
    "Login Name",
    "E-mail Address",
    "Password",
    "Roles",
    "Superior User",
    "Employee ID",
    "Start Date",
];

/// The canonical users, rows 2 to 6.
pub fn canonical_rows() -> Vec<(u64, Vec<String>)> {
    let rows: [[&str; 9]; 5] = [
        ["Ada", "Lovelace", "ada", "ada@example.com", "Analytical#1", "Admin", "", "10045", "2024-01-15"],
        ["Grace", "Hopper", "grace", "grace@example.com", "Compiler#2", "Admin;Editor", "ada", "10046", "2023-12-01"],
        ["Élodie", "Müller", "elodie", "elodie@example.com", "Résumé#3", "Editor", "grace", "00123", "2022-06-30"],
        ["Søren", "O'Brien", "soren", "soren@example.com", "", "Viewer", "grace", "10048", "2021-02-28"],
        ["Zoë", "\"Zed\" Ng", "zoe", "zoe@example.com", "Quote\"d,pw", "Viewer", "elodie", "10049", "2020-10-05"],
    ];
    rows.iter().enumerate().map(|(i, r)| (i as u64 + 2, r.iter().map(|c| c.to_string()).collect())).collect()
}

/// Asserts two row lists agree, naming the first differing cell.
pub fn assert_rows_eq(name: &str, got: &[(u64, Vec<String>)], want: &[(u64, Vec<String>)]) {
    assert_eq!(got.len(), want.len(), "{name}: number of rows");
    for ((gn, gr), (wn, wr)) in got.iter().zip(want) {
        assert_eq!(gn, wn, "{name}: row number");
        for (i, (g, w)) in gr.iter().zip(wr).enumerate() {
            assert_eq!(g, w, "{name}: row {gn}, column {}", i + 1);
        }
        assert_eq!(gr.len(), wr.len(), "{name}: row {gn} width");
    }
}
