//! The examples are part of the documentation: each runs on the shipped sample files.

mod common;

use std::path::PathBuf;
use std::process::Command;

/// The path of a built example (cargo builds examples before running integration tests).
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(|deps| deps.parent()).expect("target dir");
    dir.join("examples").join(name)
}

#[test]
fn inspect_shows_what_the_parse_stage_sees() {
    let out = Command::new(example("inspect"))
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/data/users.xlsx"))
        .output()
        .expect("run inspect");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("format:     XLSX"), "{stdout}");
    assert!(stdout.contains("sheet:      Users"), "{stdout}");
    assert!(stdout.contains("row     2: \"Ada\""), "{stdout}");
    assert!(stdout.contains("5 data row(s), 0 issue(s)"), "{stdout}");
    // Passwords are masked.
    assert!(!stdout.contains("Analytical#1"), "{stdout}");
    assert!(stdout.contains("[redacted]"), "{stdout}");
}

#[test]
fn inspect_exits_2_on_an_unreadable_file_and_1_on_row_issues() {
    let out = Command::new(example("inspect")).arg(common::fixture("png_renamed.csv")).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[wrong_format]"));
    let out = Command::new(example("inspect")).arg(common::fixture("formulas.xlsx")).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("[invalid_value]"));
}

#[test]
fn quickstart_validates_a_seed_flow_in_one_call() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(example("quickstart"))
        .arg(root.join("examples/data/hq_users.csv"))
        .arg(root.join("examples/configs/hq.toml"))
        .output()
        .expect("run quickstart");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("4 rows: 4 valid, 0 invalid"), "{stdout}");

    let out = Command::new(example("quickstart")).arg(common::fixture("formulas.xlsx")).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("[invalid_value] row 4, column 'E-mail Address'"));

    let out = Command::new(example("quickstart")).arg("nope.csv").arg("missing.toml").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
}

fn run_example(name: &str) -> String {
    let out = Command::new(example(name)).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("run example");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{name}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
fn stages_composes_the_stages_with_a_host_rule() {
    let stdout = run_example("stages");
    assert!(stdout.contains("header on row 1"), "{stdout}");
    assert!(stdout.contains("creation order: alovelace → ghopper"), "{stdout}");
    assert!(stdout.contains("validated: 5 valid, 0 invalid"), "{stdout}");
    assert!(stdout.contains("applied: 5 created, 0 failed; 5 users in the store"), "{stdout}");
}

#[test]
fn custom_directory_finds_the_hosts_existing_users() {
    let stdout = run_example("custom_directory");
    assert!(stdout.contains("row 2: update alovelace"), "{stdout}");
    assert!(stdout.contains("last_name: 'Byron' -> 'Lovelace'"), "{stdout}");
    assert!(stdout.contains("row 3: create ghopper"), "{stdout}");
    assert!(stdout.contains("row 4: fail mallory"), "{stdout}");
    assert!(stdout.contains("[exists_in_directory] row 4, column 'Email': the email 'charles@example.com' already belongs to the existing user 'ceo'"), "{stdout}");
}

#[test]
fn error_report_writes_the_workbook_a_person_fixes() {
    let dir = std::env::temp_dir().join(format!("user-import-error-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("report.xlsx");
    let output = Command::new(example("error_report"))
        .arg(common::fixture("formulas.xlsx"))
        .arg(&out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run error_report");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.starts_with("5 rows:"), "{stdout}");
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"PK"), "an XLSX file");
    let default = run_example("error_report");
    assert!(default.contains("3 rows: 1 valid, 2 invalid"), "{default}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("error_report.xlsx"));
}
