//! A check (`Importer::check_path`, `check_bytes`) counts the valid records instead of keeping
//! them: its report is exactly the one of a validation that keeps them.

#[path = "../benches/support/data.rs"]
mod data;

use user_import::{ImportConfig, Importer, Issue, IssueCode, MemoryDirectory, Report, Rule, User, UserRecord};

/// A host rule that reads texts the validate stage does not keep when it only counts records.
struct NoKnuthsAfterRow(u64);

impl Rule for NoKnuthsAfterRow {
    fn check_row(&self, record: &UserRecord) -> Vec<Issue> {
        if record.row() > self.0 && record.last_name() == "Knuth" {
            let issue = Issue::error(IssueCode::Custom("no_knuth".into()), "no Knuths");
            return vec![issue.at_row(record.row()).for_field("last_name")];
        }
        Vec::new()
    }

    fn check_table(&self, records: &[UserRecord]) -> Vec<Issue> {
        let firsts = records.iter().filter(|r| r.first_name() == "Grace").count();
        vec![Issue::warning(IssueCode::Custom("graces".into()), format!("{firsts} Graces"))]
    }
}

/// `check_bytes` and `check_path` count the valid records instead of keeping them: their report
/// is exactly the one of a validation that keeps them — duplicates, users found in the
/// directory, on one thread and two, by blocks and row by row, with host rules too.
#[test]
fn a_check_reports_what_a_kept_validation_reports() {
    let mut bytes = data::users_csv(30_000);
    bytes.extend_from_slice(
        b"Dup,A,user0000007,someone.new@example.com,,Admin,,UTC,active,1,2020-01-01\n\
          Has,Mail,fresh.login,taken@example.com,,Admin,,UTC,active,2,2020-01-01\n\
          Old,Status,old.status,old.status@example.com,,Admin,,UTC,blocked,3,2020-01-01\n",
    );
    let text = String::from_utf8(bytes.clone()).expect("UTF-8");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let path = std::env::temp_dir().join(format!("user-import-check-{}.csv", std::process::id()));
    std::fs::write(&path, &bytes).expect("write the file");

    let mut directory = MemoryDirectory::new();
    directory.insert(User::new("user0000042", "Already", "Here"));
    let mut owner = User::new("mail.owner", "Mail", "Owner");
    owner.email = Some("taken@example.com".into());
    directory.insert(owner);

    for threads in [1, 2] {
        let mut config: ImportConfig = data::bench_config();
        config.options.threads = threads;
        for importer in [Importer::new(config.clone()), Importer::new(config).with_rule(NoKnuthsAfterRow(20_000))] {
            let kept =
                Report::from_validation(&importer.validate_bytes(bytes.clone(), &directory).expect("validation"));
            let json = kept.to_json();
            for code in ["duplicate_in_file", "exists_in_directory", "legacy_status", "invalid_email"] {
                assert!(json.contains(code), "the file has a {code}");
            }
            assert_eq!(kept.summary.rows, 30_003);
            let checked = importer.check_bytes(bytes.clone(), &directory).expect("check");
            assert!(checked == kept, "{threads} thread(s): check_bytes differs");
            let by_rows = importer.check_bytes(utf16.clone(), &directory).expect("check");
            assert!(by_rows == kept, "{threads} thread(s): check_bytes of UTF-16 differs");
            let from_path = importer.check_path(&path, &directory).expect("check");
            assert!(from_path == kept, "{threads} thread(s): check_path differs");
        }
    }
    let with_rule = Importer::new(data::bench_config()).with_rule(NoKnuthsAfterRow(20_000));
    let json = with_rule.check_bytes(bytes, &directory).expect("check").to_json();
    assert!(json.contains("no_knuth") && json.contains("Graces"), "the host rules ran");
    let _ = std::fs::remove_file(&path);
}

/// The user to mirror is looked up in the directory after the row is checked: a check keeps it
/// for that, and reports a missing one as a kept validation does.
#[test]
fn a_check_still_looks_up_users_to_mirror() {
    let importer = Importer::new(ImportConfig::default());
    let csv = "Login,First Name,Last Name,Email,Copy Permissions From\n\
               ada,Ada,Lovelace,ada@example.com,grace\n\
               bob,Bob,B,bob@example.com,nobody\n";
    let mut directory = MemoryDirectory::new();
    directory.insert(User::new("grace", "Grace", "Hopper"));
    let kept = Report::from_validation(&importer.validate_bytes(csv, &directory).expect("validation"));
    assert!(
        kept.to_json().contains("there is no existing user 'nobody' to copy permissions from"),
        "{}",
        kept.to_json()
    );
    assert_eq!((kept.summary.valid, kept.summary.invalid), (1, 1));
    assert!(importer.check_bytes(csv, &directory).expect("check") == kept);
}
