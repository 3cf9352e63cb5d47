//! The `user-import` command line, end to end: exit codes, output, written reports and stores.
#![cfg(feature = "cli")]

use std::path::PathBuf;

use assert_cmd::Command;

fn root(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Runs the binary (through assert_cmd) and returns its exit code, stdout and stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::cargo_bin("user-import")
        .expect("the user-import binary")
        .args(args)
        .current_dir(root(""))
        .output()
        .expect("run");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

#[test]
fn help_version_and_usage_errors() {
    Command::cargo_bin("user-import").unwrap().arg("--help").assert().success();
    Command::cargo_bin("user-import").unwrap().arg("--version").assert().success();
    Command::cargo_bin("user-import").unwrap().arg("frobnicate").assert().failure().code(2);
    Command::cargo_bin("user-import")
        .unwrap()
        .args(["validate", "examples/data/hq_users.csv", "--config", "examples/configs/hq.toml", "--quiet"])
        .current_dir(root(""))
        .assert()
        .success()
        .stdout("");
}

#[test]
fn validate_exit_codes_0_1_2() {
    let (code, out, _) = run(&["validate", "examples/data/hq_users.csv", "--config", "examples/configs/hq.toml"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim(), "4 rows: 4 valid");

    let (code, out, _) = run(&["validate", "tests/data/formulas.xlsx"]);
    assert_eq!(code, 1);
    assert!(out.contains("[invalid_value] row 4, column 'E-mail Address'"), "{out}");

    let (code, out, err) = run(&["validate", "tests/data/png_renamed.csv"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "one clear line: {err}");
    assert!(err.starts_with("user-import: tests/data/png_renamed.csv: this is a PNG image"), "{err}");
}

#[test]
fn validate_writes_json_csv_and_xlsx_reports() {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["json", "csv", "xlsx"] {
        let out = dir.path().join(format!("report.{ext}"));
        let (code, _, err) = run(&["validate", "tests/data/formulas.xlsx", "--report", out.to_str().unwrap()]);
        assert_eq!(code, 1, "{err}");
        assert!(out.exists(), "{ext}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(json["summary"]["rows"], 5);
    assert_eq!(json["issues"][0]["code"], "invalid_value");
    let (_, out, _) = run(&["validate", "tests/data/formulas.xlsx", "--json"]);
    let printed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(printed["summary"], json["summary"]);
}

#[test]
fn map_and_sheet_options_reach_the_library() {
    let (code, out, _) = run(&["validate", "tests/data/hidden_first_sheet.xlsx", "--sheet", "3", "--quiet"]);
    assert_eq!((code, out.as_str()), (0, ""));
    let (code, out, _) = run(&["validate", "examples/data/users.csv", "--map", "Employee ID=ignore", "--json"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("\"column\": \"Employee ID\",\n      \"field\": null"), "{out}");
    let (code, _, err) = run(&["validate", "examples/data/users.csv", "--map", "nonsense"]);
    assert_eq!(code, 2);
    assert!(err.contains("'Column=field'"), "{err}");
}

#[test]
fn import_dry_run_then_import_then_reimport() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("users.db");
    let db = db.to_str().unwrap();
    let args = ["import", "examples/data/cmo_users.xlsx", "--config", "examples/configs/cmo.toml", "--db", db];

    let (code, out, _) = run(&[&args[..], &["--dry-run"]].concat());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("5 rows: 5 created") && out.contains("dry run: nothing was written"), "{out}");
    let (_, listed, _) = run(&["users", "--db", db, "list"]);
    assert!(listed.contains("0 user(s)"), "{listed}");

    let (code, out, _) = run(&[&args[..], &["--comment", "onboarding"]].concat());
    assert_eq!((code, out.trim()), (0, "5 rows: 5 created"));
    let (code, out, _) = run(&args);
    assert_eq!((code, out.trim()), (0, "5 rows: 5 unchanged"));

    let (_, listed, _) = run(&["users", "--db", db, "list"]);
    assert!(listed.contains("5 user(s)"), "{listed}");
    let (_, found, _) = run(&["users", "--db", db, "search", "hopper"]);
    assert!(found.starts_with("ghopper") && found.contains("1 user(s)"), "{found}");
    let (code, out, _) = run(&["users", "--db", db, "deactivate", "ghopper"]);
    assert_eq!((code, out.trim()), (0, "deactivated ghopper"));
    let (_, disabled, _) = run(&["users", "--db", db, "list", "--status", "disabled"]);
    assert!(disabled.contains("ghopper") && disabled.contains("1 user(s)"), "{disabled}");
    let (code, _, err) = run(&["users", "--db", db, "resend-invitation", "nobody"]);
    assert_eq!(code, 1);
    assert!(err.contains("there is no user 'nobody'"));
}

#[test]
fn an_import_with_failing_rows_is_refused_or_continued() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    std::fs::write(&file, "First Name,Last Name,Login Name,Password,Roles\nAda,L,ada,Analytical#1843,Administrator\nBo,B,bo,x,Administrator\n").unwrap();
    let db = dir.path().join("users.db");
    let base =
        ["import", file.to_str().unwrap(), "--config", "examples/configs/cmo.toml", "--db", db.to_str().unwrap()];
    let (code, out, _) = run(&base);
    assert_eq!(code, 1);
    assert!(out.contains("not imported:") && out.contains("all-or-nothing"), "{out}");
    let (code, out, _) = run(&[&base[..], &["--on-error", "continue"]].concat());
    assert_eq!(code, 1, "a row still failed");
    assert!(out.starts_with("2 rows: 1 created, 1 failed (1 weak password)"), "{out}");
}

#[test]
fn templates_are_written_and_import_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["csv", "xlsx"] {
        let out = dir.path().join(format!("template.{format}"));
        let (code, _, err) =
            run(&["template", "--config", "examples/configs/hq.toml", "--format", format, "-o", out.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let (code, out, _) = run(&["validate", out.to_str().unwrap(), "--config", "examples/configs/hq.toml"]);
        assert_eq!(code, 0, "{format}: {out}");
    }
}

#[test]
fn a_dry_run_lists_the_updates_with_their_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("users.db");
    let db = db.to_str().unwrap();
    let file = dir.path().join("users.csv");
    let file = file.to_str().unwrap();
    let header = "First Name,Last Name,Login Name,Password,Roles\n";
    std::fs::write(
        file,
        format!("{header}Ada,Byron,ada,Analytical#1843,Administrator\nBo,B,bo,Bo#long-enough1,Administrator\n"),
    )
    .unwrap();
    let args = ["import", file, "--config", "examples/configs/cmo.toml", "--db", db];
    let (code, out, _) = run(&args);
    assert_eq!((code, out.trim()), (0, "2 rows: 2 created"));

    // Ada's last name changes, Bo stays, Cy is new.
    std::fs::write(
        file,
        format!("{header}Ada,Lovelace,ada,Analytical#1843,Administrator\nBo,B,bo,Bo#long-enough1,Administrator\nCy,C,cy,Cy#long-enough1,Administrator\n"),
    )
    .unwrap();
    let (code, out, _) = run(&[&args[..], &["--dry-run"]].concat());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("row 2: update ada") && out.contains("last_name: 'Byron' -> 'Lovelace'"), "{out}");
    assert!(!out.contains("update bo") && !out.contains("update cy"), "{out}");
}
