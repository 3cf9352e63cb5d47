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
