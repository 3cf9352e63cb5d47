//! Reports: the JSON contract, the CSV of issues, the XLSX a person fixes and re-imports, the
//! one-line summary, formula neutralisation and the absence of passwords.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};

use calamine::{open_workbook_auto, Data, Reader};
use user_import::{
    apply, ApplyOptions, ImportConfig, Importer, MemoryDirectory, MemoryStore, Plan, Report, SourceBuilder,
    ERRORS_HEADER, SUMMARY_SHEET,
};

fn example(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples").join(path)
}

fn importer(config: &str) -> Importer {
    Importer::new(ImportConfig::from_path(example(&format!("configs/{config}"))).expect("config"))
}

/// Every entry of a zip, unzipped, by name.
fn unzip(path: &Path) -> Vec<(String, String)> {
    let file = std::fs::File::open(path).expect("open");
    let mut archive = zip::ZipArchive::new(file).expect("zip");
    let mut entries = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("entry");
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read");
        entries.push((
            entry.name().map(|n| n.to_string()).unwrap_or_default(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    entries
}

fn entry<'a>(entries: &'a [(String, String)], name: &str) -> &'a str {
    entries.iter().find(|(n, _)| n == name).map(|(_, text)| text.as_str()).unwrap_or_else(|| panic!("no {name}"))
}

/// A sheet as text cells (numbers as written by Display).
fn sheet(path: &Path, name: &str) -> Vec<Vec<String>> {
    let mut workbook = open_workbook_auto(path).expect("workbook");
    let range = workbook.worksheet_range(name).expect("sheet");
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

const SMALL: &str =
    "First Name,Last Name,Login,Email,Shoe size\nAda,Lovelace,ada,ada@example.com,42\nBob,B,bob,bob@,43\n";

#[test]
fn json_follows_the_contract_exactly() {
    let validation = Importer::new(ImportConfig::default()).validate_bytes(SMALL, &MemoryDirectory::new()).unwrap();
    let report = Report::from_validation(&validation);
    let expected = r#"{
  "summary": {
    "rows": 2,
    "valid": 1,
    "invalid": 1,
    "created": 0,
    "updated": 0,
    "unchanged": 0,
    "skipped": 0,
    "failed": 0
  },
  "issues": [
    {
      "row": null,
      "column": "Shoe size",
      "field": null,
      "code": "unknown_column",
      "severity": "warning",
      "message": "the column matches no field; accept it as a custom field, map it, or it is ignored",
      "value": null
    },
    {
      "row": 3,
      "column": "Email",
      "field": "email",
      "code": "invalid_email",
      "severity": "error",
      "message": "'bob@' is not an email address",
      "value": "bob@"
    }
  ],
  "mapping": [
    {
      "column": "First Name",
      "field": "first_name"
    },
    {
      "column": "Last Name",
      "field": "last_name"
    },
    {
      "column": "Login",
      "field": "login"
    },
    {
      "column": "Email",
      "field": "email"
    },
    {
      "column": "Shoe size",
      "field": null
    }
  ],
  "custom_fields": [
    "Shoe size"
  ]
}"#;
    assert_eq!(report.to_json(), expected);
    let mut written = Vec::new();
    report.write_json(&mut written).unwrap();
    assert_eq!(String::from_utf8(written).unwrap(), expected);
    assert_eq!(report.to_string(), "2 rows: 1 valid, 1 invalid (1 invalid email)");
}

#[test]
fn csv_reads_back_one_line_per_issue_with_formulas_neutralised() {
    let csv = "First Name,Last Name,Login,Email\nAda,Lovelace,ada,=HYPERLINK(\"http://evil\")\n,B,@bob,bob@x.io\n";
    let validation = Importer::new(ImportConfig::default()).validate_bytes(csv, &MemoryDirectory::new()).unwrap();
    let report = Report::from_validation(&validation);
    assert!(!report.issues.is_empty());
    let mut written = Vec::new();
    report.write_csv(&mut written).unwrap();

    let mut reader = csv::Reader::from_reader(written.as_slice());
    assert_eq!(reader.headers().unwrap(), vec!["row", "column", "field", "code", "severity", "message", "value"]);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), report.issues.len());
    for (record, issue) in records.iter().zip(&report.issues) {
        assert_eq!(record[0], issue.row.map(|r| r.to_string()).unwrap_or_default());
        assert_eq!(record[3], issue.code.to_string());
        for cell in record.iter() {
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "unsafe cell {cell:?}");
        }
    }
    let email = records.iter().find(|r| &r[3] == "invalid_email").expect("invalid email issue");
    assert_eq!(&email[6], "'=HYPERLINK(\"http://evil\")");
}

#[test]
fn xlsx_report_holds_the_rows_as_sent_with_bad_cells_red_and_noted() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::fixture("formulas.xlsx");
    let importer = Importer::new(ImportConfig::default());
    let validation = importer.validate_path(&source, &MemoryDirectory::new()).unwrap();
    let report = Report::from_validation(&validation);
    let bad_cells: Vec<_> = report.issues.iter().filter(|i| i.row.is_some() && i.column_index.is_some()).collect();
    assert!(!bad_cells.is_empty(), "formulas.xlsx has error cells: {:?}", report.issues);

    let out = dir.path().join("report.xlsx");
    report.write_xlsx(&source, &importer.source_builder(), &out).unwrap();

    let workbook = open_workbook_auto(&out).unwrap();
    assert_eq!(workbook.sheet_names(), [SUMMARY_SHEET, "Users"]);
    let summary = sheet(&out, SUMMARY_SHEET);
    let count = |name: &str| summary.iter().find(|r| r[0] == name).map(|r| r[1].clone());
    assert_eq!(count("rows"), Some(validation.rows().to_string()));
    assert_eq!(count("invalid"), Some(validation.invalid().to_string()));
    for (code, n) in validation.counts_by_code() {
        assert_eq!(count(&code), Some(n.to_string()), "{code}");
    }

    // The data sheet: the same header and cells as the source, plus the Errors column.
    let original = common::read_table(SourceBuilder::new().from_path(&source).unwrap());
    let data = sheet(&out, "Users");
    let mut header = original.headers.clone();
    header.push(ERRORS_HEADER.to_string());
    assert_eq!(data[0], header);
    for (number, cells) in &original.rows {
        let row = &data[(*number - 1) as usize];
        assert_eq!(&row[..cells.len()], cells.as_slice(), "row {number}");
        let issues = validation.issues_for_row(*number);
        let errors = &row[cells.len()];
        if issues.is_empty() {
            assert_eq!(errors, "", "row {number} is valid");
        } else {
            for issue in issues {
                assert!(errors.contains(&issue.message), "row {number}: {errors}");
            }
        }
    }

    // Red fill and notes in the XML.
    let entries = unzip(&out);
    assert!(entry(&entries, "xl/styles.xml").contains("FFC7CE"), "red fill");
    let comments = entry(&entries, "xl/comments1.xml");
    for issue in &bad_cells {
        let message = issue.message.replace('&', "&amp;").replace('\'', "&apos;").replace('<', "&lt;");
        let plain = issue.message.replace('&', "&amp;").replace('<', "&lt;");
        assert!(comments.contains(&message) || comments.contains(&plain), "{message} in {comments}");
    }
    let sheet2 = entry(&entries, "xl/worksheets/sheet2.xml");
    assert!(!sheet2.contains("<f>"), "no formulas");

    // Re-importing the report as it is reads the data sheet and maps the same columns; the
    // reasons column is ignored without a warning.
    let table = importer.source_builder().from_path(&out).unwrap();
    assert_eq!(table.info().sheet.as_deref(), Some("Users"));
    let again = importer.map(&table).unwrap();
    assert!(again.issues().iter().all(|i| i.code != user_import::IssueCode::UnknownColumn), "{:?}", again.issues());
    let before: Vec<_> = validation.mapping().columns().iter().map(|c| (c.header.clone(), c.target.clone())).collect();
    let after: Vec<_> = again.columns().iter().map(|c| (c.header.clone(), c.target.clone())).collect();
    assert_eq!(&after[..before.len()], before.as_slice());
}

#[test]
fn xlsx_cells_that_look_like_formulas_are_neutralised_strings() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("evil.csv");
    std::fs::write(&source, "First Name,Last Name,Login,Email\n=1+2,+Lovelace,ada,@SUM(A1)\n-Bob,B,bob,bob@x.io\n")
        .unwrap();
    let importer = Importer::new(ImportConfig::default());
    let validation = importer.validate_path(&source, &MemoryDirectory::new()).unwrap();
    let report = Report::from_validation(&validation);
    let out = dir.path().join("report.xlsx");
    report.write_xlsx(&source, &importer.source_builder(), &out).unwrap();
    let data = sheet(&out, "Users");
    assert_eq!(data[1][..4], ["'=1+2", "'+Lovelace", "ada", "'@SUM(A1)"]);
    assert_eq!(data[2][0], "'-Bob");
    for (name, text) in unzip(&out) {
        assert!(!text.contains("<f>"), "formula in {name}");
    }
}

/// CMO flow: passwords in the file, some rows bad (one for its password).
const WITH_PASSWORDS: &str = "First Name,Last Name,Login Name,Password,Roles,Superior User,Email\n\
Ada,Lovelace,alovelace,Analytical#1843,Administrator,,ada@example.com\n\
Grace,Hopper,ghopper,short1,Attorney,alovelace,grace@example.com\n\
Alan,Turing,aturing,Enigma#1912,Astronaut,alovelace,alan@\n\
Edsger,Dijkstra,edijkstra,=Shortest#1930,Read Only,nobody,edsger@example.com\n";

const PASSWORDS: [&str; 4] = ["Analytical#1843", "short1", "Enigma#1912", "Shortest#1930"];

#[test]
fn no_password_reaches_any_report() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("cmo.csv");
    std::fs::write(&source, WITH_PASSWORDS).unwrap();
    let importer = importer("cmo.toml");
    let directory = MemoryDirectory::new();
    let plan = importer.plan_path(&source, &directory).unwrap();
    let report = Report::from_plan(&plan);
    assert!(report.summary.failed >= 3, "{report}");
    assert!(report.issues.iter().any(|i| i.code.as_str() == "weak_password"), "{:?}", report.issues);

    let json = report.to_json();
    let mut csv = Vec::new();
    report.write_csv(&mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let out = dir.path().join("report.xlsx");
    report.write_xlsx(&source, &importer.source_builder(), &out).unwrap();
    let entries = unzip(&out);
    for password in PASSWORDS {
        assert!(!json.contains(password), "{password} in JSON");
        assert!(!csv.contains(password), "{password} in CSV");
        assert!(!report.to_string().contains(password));
        for (name, text) in &entries {
            assert!(!text.contains(password), "{password} in {name}");
        }
    }
    // The password column is there, empty, with a note saying why.
    let data = sheet(&out, "Users");
    assert_eq!(data[0][3], "Password");
    assert!(data[1..].iter().all(|row| row[3].is_empty()));
    assert!(entry(&entries, "xl/comments1.xml").contains("passwords are not copied into reports"));
}

#[test]
fn plan_and_outcome_reports_count_actions() {
    let importer = importer("hq.toml");
    let mut store = MemoryStore::new();
    let plan = importer.plan_path(example("data/hq_users.csv"), &store).unwrap();
    let report = Report::from_plan(&plan);
    assert_eq!(report.summary.rows, 4);
    assert_eq!(report.summary.created + report.summary.failed, 4);
    assert_eq!(report.mapping[5], ("Trakstar Hire".to_string(), Some("product:hire".to_string())));
    assert!(report.to_string().starts_with("4 rows: "), "{report}");

    let mut options = ApplyOptions::default();
    options.passwords.memory_kib = 64;
    options.passwords.iterations = 1;
    let outcome = apply(&plan, &mut store, &options).unwrap();
    let applied = Report::from_outcome(&plan, &outcome);
    assert_eq!(applied.summary, outcome.summary);
    assert_eq!(applied.to_string(), format!("4 rows: {} created", outcome.summary.created));

    // The same file again changes nothing.
    let again: Plan = importer.plan_path(example("data/hq_users.csv"), &store).unwrap();
    assert_eq!(Report::from_plan(&again).to_string(), "4 rows: 4 unchanged");
}

#[test]
fn a_fixed_report_reimports_as_it_is_even_under_strict_headers() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("portal.csv");
    std::fs::write(&source, "first name,last name,email\nAda,Lovelace,ada@\nGrace,Hopper,grace@example.com\n").unwrap();
    let importer = Importer::new(ImportConfig::from_path(fixture_path("examples/configs/portal.toml")).unwrap());
    let validation = importer.validate_path(&source, &MemoryDirectory::new()).unwrap();
    assert_eq!(validation.invalid(), 1);
    let out = dir.path().join("report.xlsx");
    Report::from_validation(&validation).write_xlsx(&source, &importer.source_builder(), &out).unwrap();
    // The person opens the report and re-imports it without fixing anything: the same issue,
    // nothing about the summary sheet or the reasons column.
    let again = importer.validate_path(&out, &MemoryDirectory::new()).unwrap();
    assert!(again.can_import(), "{:?}", again.issues());
    let codes: Vec<String> = again.issues().iter().map(|i| format!("{:?} {}", i.row, i.code)).collect();
    assert_eq!(codes, ["Some(2) invalid_email"]);
}

fn fixture_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A hostile file's huge values end up inside issue messages; the XLSX report is still written,
/// each text cut to the 32,767 characters a cell holds.
#[test]
fn huge_values_do_not_stop_the_xlsx_report() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("hq.csv");
    let zone = format!("Mars/{}", "x".repeat(32_700));
    let role = "y".repeat(32_760);
    let csv =
        format!("Name,Last Name,Email,Role in Mitratech HQ,Time Zone\nAda,Lovelace,ada@example.com,{role},{zone}\n");
    std::fs::write(&source, csv).unwrap();
    let importer = importer("hq.toml");
    let validation = importer.validate_path(&source, &MemoryDirectory::new()).unwrap();
    let report = Report::from_validation(&validation);
    assert!(report.issues.iter().any(|i| i.message.chars().count() > 32_767), "{:?}", report.issues);
    let out = dir.path().join("report.xlsx");
    report.write_xlsx(&source, &importer.source_builder(), &out).unwrap();
    let data = sheet(&out, "Users");
    let errors = data[1].last().unwrap();
    assert_eq!(errors.encode_utf16().count(), 32_767, "the Errors cell is cut to what a cell holds");
    assert!(errors.ends_with('…'));
}
