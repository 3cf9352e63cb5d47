//! A whole import into a real SQLite file: plan, apply, re-import, passwords at rest.
#![cfg(feature = "sqlite")]

use std::path::PathBuf;

use user_import::{apply, Action, ApplyOptions, Directory, ImportConfig, Importer, RowResult, SqliteStore, Status};

fn path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn cmo() -> Importer {
    Importer::new(ImportConfig::from_path(path("examples/configs/cmo.toml")).unwrap())
}

fn options() -> ApplyOptions {
    let mut options = ApplyOptions::default();
    options.passwords.memory_kib = 1024;
    options.passwords.iterations = 1;
    options.file_name = Some("cmo_users.xlsx".into());
    options.comment = Some("quarterly onboarding".into());
    options
}

#[test]
fn a_seed_file_imports_into_sqlite_and_a_second_import_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("users.db");
    let importer = cmo();
    let sample = path("examples/data/cmo_users.xlsx");

    let mut store = SqliteStore::open(&db).unwrap();
    let plan = importer.plan_path(&sample, &store).unwrap();
    let outcome = apply(&plan, &mut store, &options()).unwrap();
    assert_eq!(outcome.refused, None);
    assert_eq!(outcome.summary.created, 5);
    let grace = store.get("GHOPPER").unwrap().unwrap();
    assert_eq!(grace.user.superior.as_deref(), Some("alovelace"), "a forward reference, resolved");
    assert_eq!(grace.user.status, Status::Active);
    let log = store.import_log().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].comment.as_deref(), Some("quarterly onboarding"));
    assert_eq!(log[0].created, 5);
    drop(store);

    // The same file again, through a fresh connection: every row unchanged, zero writes.
    let mut store = SqliteStore::open(&db).unwrap();
    let plan = importer.plan_path(&sample, &store).unwrap();
    assert!(plan.rows().all(|r| r.action == Action::Unchanged), "{:?}", plan.rows().collect::<Vec<_>>());
    let before = store.total_changes();
    let outcome = apply(&plan, &mut store, &options()).unwrap();
    assert_eq!(store.total_changes(), before, "a re-import writes nothing");
    assert!(outcome.rows.iter().all(|(_, r)| *r == RowResult::Unchanged));
    assert_eq!(store.import_log().unwrap().len(), 1);
}

#[test]
fn plain_passwords_never_reach_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("users.db");
    let mut store = SqliteStore::open(&db).unwrap();
    let plan = cmo().plan_path(path("examples/data/cmo_users.xlsx"), &store).unwrap();
    apply(&plan, &mut store, &options()).unwrap();
    let stored = store.find_by_logins(&["alovelace"]).unwrap().remove(0);
    assert!(stored.password.unwrap().is_phc_hash());
    drop(store);
    let mut bytes = std::fs::read(&db).unwrap();
    if let Ok(wal) = std::fs::read(dir.path().join("users.db-wal")) {
        bytes.extend(wal);
    }
    for plain in ["Compiler#1952", "Analytical#1843", "Enigma#1912", "Orbit#1918", "Shortest#1930"] {
        assert!(!bytes.windows(plain.len()).any(|w| w == plain.as_bytes()), "{plain} found in the database");
    }
}

#[test]
fn a_second_file_updates_what_the_first_created() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path().join("users.db")).unwrap();
    let importer = cmo();
    let plan = importer.plan_path(path("examples/data/cmo_users.xlsx"), &store).unwrap();
    apply(&plan, &mut store, &options()).unwrap();
    let csv = "First Name,Last Name,Login Name,Password,Roles,Superior User\nGrace,Hopper,ghopper,Compiler#1952,Administrator,alovelace\n";
    let plan = importer.plan_bytes(csv, &store).unwrap();
    let row = plan.rows().next().unwrap();
    assert_eq!(row.action, Action::Update);
    assert_eq!(row.changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(), ["roles"]);
    apply(&plan, &mut store, &options()).unwrap();
    let grace = store.get("ghopper").unwrap().unwrap();
    assert_eq!(grace.user.roles[0].name(), "Administrator");
    assert_eq!(grace.user.email.as_deref(), Some("grace@example.com"), "kept");
}

const APPLY_CHILD: &str = "USER_IMPORT_APPLY_CHILD_DB";
const CHILD_USERS: usize = 100_000;

fn big_csv() -> String {
    let mut csv = String::from("First Name,Last Name,Login Name,Roles,Superior User\n");
    for i in 0..CHILD_USERS {
        let superior = if i == 0 { String::new() } else { format!("big{}", i / 10) };
        csv.push_str(&format!("User,Number{i},big{i},Attorney,{superior}\n"));
    }
    csv
}

/// Not a test of its own: the child of `a_kill_during_a_large_import_leaves_the_store_unchanged`.
/// It plans 100,000 new users, says so, and applies the plan (all-or-nothing).
#[test]
fn apply_child_process() {
    let Some(db) = std::env::var_os(APPLY_CHILD) else {
        return;
    };
    let mut config = ImportConfig::from_path(path("examples/configs/cmo.toml")).unwrap();
    config.schema.fields.retain(|f| f.field != user_import::Field::Password);
    let importer = Importer::new(config);
    let mut store = SqliteStore::open(&db).unwrap();
    let plan = importer.plan_bytes(big_csv(), &store).unwrap();
    println!("planned");
    apply(&plan, &mut store, &ApplyOptions::default()).unwrap();
    println!("applied");
}

#[test]
fn a_kill_during_a_large_import_leaves_the_store_unchanged() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("users.db");
    let mut store = SqliteStore::open(&db).unwrap();
    let plan = cmo().plan_path(path("examples/data/cmo_users.xlsx"), &store).unwrap();
    apply(&plan, &mut store, &options()).unwrap();
    let before = store.count().unwrap();
    drop(store);

    for delay_ms in [0u64, 100, 400] {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["apply_child_process", "--exact", "--nocapture", "--test-threads=1"])
            .env(APPLY_CHILD, &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert!(lines.any(|l| l.is_ok_and(|l| l.ends_with("planned"))), "the child planned its import");
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL: no destructor, no rollback
        child.wait().unwrap();

        let store = SqliteStore::open(&db).unwrap();
        let count = store.count().unwrap();
        assert!(
            count == before || count == before + CHILD_USERS as u64,
            "all or nothing: {count} users after a kill at {delay_ms} ms"
        );
        assert_eq!(count, before, "the kill at {delay_ms} ms landed before the commit of a 100,000-user import");
        drop(store);
        let conn = rusqlite::Connection::open(&db).unwrap();
        let check: String = conn.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
        assert_eq!(check, "ok");
    }
}
