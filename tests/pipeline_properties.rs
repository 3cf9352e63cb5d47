//! Invariants of the whole pipeline (plan, apply, reports) over generated files and
//! configurations. The parse stage has its own in `properties.rs`, map and validate in
//! `validate_properties.rs`.
//!
//! - every row ends in exactly one outcome, and the counts add up to the rows;
//! - issues are sorted by row and name real columns;
//! - applying a plan twice, or importing the same file twice, changes nothing the second time;
//! - the creation order puts every superior before its subordinates;
//! - no plain password of the file appears in any byte of any report (JSON, CSV, the unzipped
//!   XLSX), in the store's log, in an error message or in any `Debug` output;
//! - every cell of a CSV or XLSX report that starts with `=`, `+`, `-`, `@`, tab or CR is
//!   neutralised.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

use calamine::{open_workbook_auto, Reader};
use proptest::prelude::*;
use user_import::{
    apply, Action, ApplyOptions, Catalog, ErrorPolicy, Field, ImportConfig, Importer, IssueCode, MemoryStore, Mode,
    Report, RowResult, Schema, User,
};

const HEADER: [&str; 8] =
    ["First Name", "Last Name", "Login Name", "Email", "Password", "Roles", "Superior User", "Notes"];

/// A cell that a spreadsheet program would take for a formula, or a harmless one.
fn note() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z ]{1,10}",
        "[=+@-][A-Z0-9(),:!]{0,10}",
        Just("\tTab".to_string()),
        Just("\rReturn".to_string()),
        Just("=HYPERLINK(\"http://x\",\"y\")".to_string()),
    ]
}

/// Passwords with a shape no other generated cell has (`Sx` + letters and digits), some that
/// look like formulas, some too weak for the policy.
fn password() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => Just(String::new()),
        4 => "Sx[A-Za-z0-9]{6,10}#[0-9]",
        1 => "=Sx[a-z0-9]{6,8}",
        1 => "Sx[a-z]{1,3}",
    ]
}

/// One generated row: indices into a small pool of logins (so that duplicates, superiors and
/// cycles happen), and the other cells.
#[derive(Clone, Debug)]
struct GenRow {
    login: usize,
    superior: Option<usize>,
    email_ok: bool,
    password: String,
    role: usize,
    note: String,
    blank_first: bool,
}

fn gen_row() -> impl Strategy<Value = GenRow> {
    (
        0usize..24,
        proptest::option::weighted(0.6, 0usize..24),
        any::<bool>(),
        password(),
        0usize..5,
        note(),
        any::<bool>(),
    )
        .prop_map(|(login, superior, email_ok, password, role, note, blank)| GenRow {
            login,
            superior,
            email_ok: email_ok || login % 5 != 0,
            password,
            role,
            note,
            blank_first: blank && login % 7 == 0,
        })
}

/// The configuration knobs that change the pipeline's paths.
#[derive(Clone, Debug)]
struct GenConfig {
    mode: Mode,
    require_password: bool,
    accept_unknown: bool,
    continue_as_is: bool,
}

fn gen_config() -> impl Strategy<Value = GenConfig> {
    (0usize..3, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(mode, require_password, accept_unknown, cont)| GenConfig {
            mode: [Mode::Upsert, Mode::CreateOnly, Mode::UpdateOnly][mode],
            require_password,
            accept_unknown,
            continue_as_is: cont,
        },
    )
}

fn csv_text(rows: &[GenRow]) -> String {
    const ROLES: [&str; 5] = ["Admin", "editor", "Viewer;Editor", "Astronaut", ""];
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(HEADER).unwrap();
    for row in rows {
        let login = format!("user{}", row.login);
        let email = if row.email_ok { format!("{login}@example.com") } else { format!("{login}@") };
        let superior = row.superior.map(|s| format!("user{s}")).unwrap_or_default();
        let first = if row.blank_first { String::new() } else { format!("First{}", row.login) };
        let cells = [
            first,
            "Last".to_string(),
            login,
            email,
            row.password.clone(),
            ROLES[row.role].to_string(),
            superior,
            row.note.clone(),
        ];
        writer.write_record(&cells).unwrap();
    }
    String::from_utf8(writer.into_inner().unwrap()).unwrap()
}

fn importer(config: &GenConfig) -> Importer {
    let mut import = ImportConfig::default();
    let mut schema = Schema::new().require([Field::FirstName, Field::LastName, Field::Login]).optional([
        Field::Email,
        Field::Roles,
        Field::Superior,
    ]);
    schema =
        if config.require_password { schema.require([Field::Password]) } else { schema.optional([Field::Password]) };
    import.schema = schema;
    import.catalog = Catalog::new().roles(["Admin", "Editor", "Viewer"]);
    import.options.mode = config.mode;
    import.options.accept_unknown_columns = config.accept_unknown;
    Importer::new(import)
}

fn options(config: &GenConfig) -> ApplyOptions {
    let mut options = ApplyOptions::default();
    options.policy = if config.continue_as_is { ErrorPolicy::ContinueAsIs } else { ErrorPolicy::AllOrNothing };
    options.passwords.memory_kib = 8;
    options.passwords.iterations = 1;
    options.batch_size = 7;
    options
}

/// Every text of every entry of a zip (an XLSX), unzipped.
fn unzipped(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            (entry.name().map(|n| n.to_string()).unwrap_or_default(), bytes)
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn dangerous(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// The store's users, comparable.
fn snapshot(store: &MemoryStore) -> Vec<(User, Option<u64>)> {
    let mut users: Vec<_> = store.users().map(|u| (u.clone(), store.version(&u.login))).collect();
    users.sort_by(|a, b| a.0.login.cmp(&b.0.login));
    users
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_pipeline_keeps_its_promises(
        rows in proptest::collection::vec(gen_row(), 1..24),
        existing in proptest::collection::vec(0usize..24, 0..6),
        config in gen_config(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("users.csv");
        std::fs::write(&source, csv_text(&rows)).unwrap();
        let secrets: HashSet<&str> = rows.iter().map(|r| r.password.as_str()).filter(|p| !p.is_empty()).collect();
        let importer = importer(&config);
        let options = options(&config);

        // Users already in the store (so that updates, unchanged rows and conflicts happen).
        let mut store = MemoryStore::with_users(
            &existing.iter().map(|&i| User::new(format!("user{i}"), format!("First{i}"), "Last")).collect::<Vec<_>>(),
        )
        .unwrap_or_else(|_| MemoryStore::new());
        let before = snapshot(&store);

        let plan = importer.plan_path(&source, &store).unwrap();
        let summary = plan.summary();

        // Exactly one outcome per row, counts adding up.
        let planned: Vec<_> = plan.rows().collect();
        let numbers: Vec<u64> = planned.iter().map(|r| r.row).collect();
        let mut unique = numbers.clone();
        unique.dedup();
        prop_assert_eq!(&unique, &numbers, "rows in order, each once");
        prop_assert_eq!(numbers.len() as u64, summary.rows);
        prop_assert_eq!(summary.rows, rows.len() as u64, "no row lost (no generated row is blank)");
        prop_assert_eq!(summary.valid + summary.invalid, summary.rows);
        prop_assert_eq!(summary.create + summary.update + summary.unchanged + summary.skip + summary.fail, summary.rows);

        // Issues sorted (file-level first, then by row) and naming real columns.
        let mut last = (false, 0);
        for issue in plan.issues() {
            let at = (issue.row.is_some(), issue.row.unwrap_or(0));
            prop_assert!(at >= last, "issues out of order at {:?}", issue);
            last = at;
            if let Some(row) = issue.row {
                prop_assert!(numbers.binary_search(&row).is_ok(), "an issue on no row: {:?}", issue);
            }
            if let Some(index) = issue.column_index {
                prop_assert_eq!(issue.column.as_deref(), HEADER.get(index).copied(), "{:?}", issue);
            }
        }

        // The creation order puts every superior before its subordinates.
        let order: Vec<(u64, Action, User)> = plan.writes().collect();
        let position: HashMap<String, usize> =
            order.iter().enumerate().map(|(i, (_, _, user))| (user.login.to_lowercase(), i)).collect();
        for (i, (_, action, user)) in order.iter().enumerate() {
            if let (Action::Create, Some(superior)) = (action, &user.superior) {
                if let Some(&at) = position.get(&superior.to_lowercase()) {
                    prop_assert!(at < i, "{} is created before its superior {}", user.login, superior);
                }
            }
        }

        // Apply: the outcome matches the plan, row by row.
        let outcome = apply(&plan, &mut store, &options).unwrap();
        let s = outcome.summary;
        prop_assert_eq!(s.created + s.updated + s.unchanged + s.skipped + s.failed, s.rows);
        prop_assert_eq!(outcome.rows.len() as u64, s.rows);
        prop_assert_eq!(outcome.rows.iter().map(|(row, _)| *row).collect::<Vec<_>>(), numbers.clone());
        let written = outcome.refused.is_none();
        for ((row, result), planned) in outcome.rows.iter().zip(&planned) {
            let expected = match (planned.action, written) {
                (Action::Create, true) => RowResult::Created,
                (Action::Update, true) => RowResult::Updated,
                (Action::Unchanged, _) => RowResult::Unchanged,
                (Action::Fail, _) => RowResult::Failed,
                _ => RowResult::Skipped,
            };
            prop_assert_eq!(*result, expected, "row {}", row);
        }
        if !written {
            prop_assert_eq!(snapshot(&store), before.clone(), "a refused import writes nothing");
        }
        for user in store.users() {
            if let Some(password) = &user.password {
                prop_assert!(password.is_phc_hash(), "{} kept a password in clear", user.login);
            }
            if let Some(superior) = &user.superior {
                prop_assert!(store.get(superior).is_some(), "{}'s superior {} is not stored", user.login, superior);
            }
        }

        // The same plan again, then the same file again: nothing changes.
        let after = snapshot(&store);
        let log = store.log().len();
        match apply(&plan, &mut store, &options) {
            Ok(_) => {}
            Err(err) => prop_assert_eq!(err.code(), IssueCode::StalePlan, "{}", err),
        }
        prop_assert_eq!(snapshot(&store), after.clone(), "applying a plan twice changes nothing");
        let again = importer.plan_path(&source, &store).unwrap();
        if written {
            let second = again.summary();
            prop_assert_eq!((second.create, second.update), (0, 0), "the same file again changes nothing");
        }
        let reapplied = apply(&again, &mut store, &options).unwrap();
        if written {
            prop_assert_eq!((reapplied.summary.created, reapplied.summary.updated), (0, 0));
            prop_assert_eq!(snapshot(&store), after.clone());
            prop_assert_eq!(store.log().len(), log);
        }

        // Reports: JSON, CSV, XLSX, Display; then every Debug output and message.
        let report = Report::from_outcome(&plan, &outcome);
        let json = report.to_json();
        let mut csv_report = Vec::new();
        report.write_csv(&mut csv_report).unwrap();
        let xlsx = dir.path().join("report.xlsx");
        report.write_xlsx(&source, &importer.source_builder(), &xlsx).unwrap();
        let parts = unzipped(&xlsx);
        let mut texts: Vec<(String, Vec<u8>)> = vec![
            ("JSON report".into(), json.into_bytes()),
            ("CSV report".into(), csv_report.clone()),
            ("report line".into(), report.to_string().into_bytes()),
            ("plan Debug".into(), format!("{plan:?}").into_bytes()),
            ("outcome Debug".into(), format!("{outcome:?}").into_bytes()),
            ("report Debug".into(), format!("{report:?}").into_bytes()),
            ("store Debug".into(), format!("{store:?} {:?}", store.log()).into_bytes()),
            ("rows Debug".into(), format!("{:?}", plan.rows().collect::<Vec<_>>()).into_bytes()),
            ("writes Debug".into(), format!("{:?}", plan.writes().collect::<Vec<_>>()).into_bytes()),
        ];
        texts.extend(plan.issues().iter().map(|i| ("issue".to_string(), i.to_string().into_bytes())));
        texts.extend(parts.iter().map(|(name, bytes)| (format!("XLSX {name}"), bytes.clone())));
        for secret in &secrets {
            for (what, bytes) in &texts {
                prop_assert!(!contains(bytes, secret), "the password {:?} is in the {}", secret, what);
            }
        }

        // Neutralised cells: the CSV report read back, and every cell of every sheet of the XLSX.
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(csv_report.as_slice());
        for record in reader.records() {
            for cell in record.unwrap().iter() {
                prop_assert!(!dangerous(cell), "CSV cell {:?}", cell);
            }
        }
        let mut workbook = open_workbook_auto(&xlsx).unwrap();
        for name in workbook.sheet_names() {
            let range = workbook.worksheet_range(&name).unwrap();
            for cell in range.used_cells() {
                let text = cell.2.to_string();
                prop_assert!(!dangerous(&text), "XLSX cell {:?} of {}", text, name);
            }
        }
        prop_assert!(!parts.iter().any(|(_, bytes)| contains(bytes, "<f>")), "no formula in the XLSX report");
    }
}
