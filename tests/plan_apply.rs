//! Plan and apply against the in-memory store: outcomes, error policies, thresholds,
//! idempotent re-imports and stale plans.

use user_import::{
    apply, Action, ApplyOptions, Catalog, Directory, ErrorKind, ErrorPolicy, Field, ImportConfig, Importer, IssueCode,
    MemoryStore, Plan, RowResult, Schema, Status, Threshold, User, UserStore,
};

fn importer() -> Importer {
    let mut config = ImportConfig::default();
    config.schema = Schema::new().require([Field::FirstName, Field::LastName, Field::Login]).optional([
        Field::Email,
        Field::Password,
        Field::Roles,
        Field::Superior,
    ]);
    config.catalog = Catalog::new().roles(["Admin", "Editor", "Viewer"]);
    Importer::new(config)
}

fn fast() -> ApplyOptions {
    let mut options = ApplyOptions::default();
    // Tests do not need production-strength hashing.
    options.passwords.memory_kib = 64;
    options.passwords.iterations = 1;
    options
}

const GOOD: &str = "First Name,Last Name,Login,Email,Password,Roles,Superior User\n\
Grace,Hopper,grace,grace@x.io,Compiler#1952,Editor,ada\n\
Ada,Lovelace,ada,ada@x.io,,Admin,\n\
Alan,Turing,alan,alan@x.io,Enigma#1912,Viewer,grace\n";

const SOME_BAD: &str = "First Name,Last Name,Login,Email,Password,Roles,Superior User\n\
Ada,Lovelace,ada,ada@x.io,,Admin,\n\
Boss,B,boss,boss@,,Admin,\n\
Kid,K,kid,kid@x.io,,Viewer,boss\n\
Eve,E,eve,eve@x.io,,Viewer,ada\n";

fn plan(store: &MemoryStore, csv: &'static str) -> Plan {
    importer().plan_bytes(csv, store).unwrap()
}

#[test]
fn a_clean_file_is_created_superiors_first() {
    let mut store = MemoryStore::new();
    let p = plan(&store, GOOD);
    let outcome = apply(&p, &mut store, &fast()).unwrap();
    assert_eq!(outcome.refused, None);
    assert_eq!((outcome.summary.rows, outcome.summary.created), (3, 3));
    assert_eq!(outcome.invitations, ["ada"], "no password: invited");
    let found = store.find_by_logins(&["grace", "ada", "alan"]).unwrap();
    assert_eq!(found.len(), 3);
    let grace = found.iter().find(|u| u.login == "grace").unwrap();
    assert_eq!(grace.superior.as_deref(), Some("ada"));
    let password = grace.password.as_ref().unwrap();
    assert!(password.is_phc_hash(), "stored hashed");
    assert!(!password.expose().contains("Compiler"));
    let ada = found.iter().find(|u| u.login == "ada").unwrap();
    assert_eq!(ada.status, Status::Pending);
}

#[test]
fn importing_the_same_file_twice_changes_nothing_the_second_time() {
    let mut store = MemoryStore::new();
    apply(&plan(&store, GOOD), &mut store, &fast()).unwrap();
    let before = store.clone();
    let second = plan(&store, GOOD);
    assert!(second.rows().all(|r| r.action == Action::Unchanged), "{:?}", second.rows().collect::<Vec<_>>());
    let outcome = apply(&second, &mut store, &fast()).unwrap();
    assert_eq!(outcome.summary.unchanged, 3);
    assert_eq!(store.log().len(), before.log().len(), "not even a log entry");
    assert_eq!(store.find_by_logins(&["grace"]).unwrap(), before.find_by_logins(&["grace"]).unwrap());
}

#[test]
fn all_or_nothing_writes_nothing_when_a_row_fails() {
    let mut store = MemoryStore::new();
    let p = plan(&store, SOME_BAD);
    let outcome = apply(&p, &mut store, &fast()).unwrap();
    assert!(outcome.refused.as_deref().unwrap().contains("all-or-nothing"));
    assert_eq!(outcome.summary.created, 0);
    assert!(store.find_by_logins(&["ada", "eve"]).unwrap().is_empty());
    let s = outcome.summary;
    assert_eq!(s.created + s.updated + s.unchanged + s.skipped + s.failed, s.rows);
}

#[test]
fn continue_as_is_writes_the_valid_rows_and_skips_the_subordinates_of_failed_ones() {
    let mut store = MemoryStore::new();
    let p = plan(&store, SOME_BAD);
    let mut options = fast();
    options.policy = ErrorPolicy::ContinueAsIs;
    let outcome = apply(&p, &mut store, &options).unwrap();
    assert_eq!(
        outcome.rows,
        [(2, RowResult::Created), (3, RowResult::Failed), (4, RowResult::Failed), (5, RowResult::Created)]
    );
    let kid = outcome.issues.iter().find(|i| i.row == Some(4)).unwrap();
    assert_eq!(kid.code, IssueCode::SuperiorNotImported);
    assert_eq!(store.find_by_logins(&["ada", "eve", "kid", "boss"]).unwrap().len(), 2);
}

#[test]
fn a_threshold_refuses_too_many_failures() {
    let mut store = MemoryStore::new();
    let p = plan(&store, SOME_BAD);
    let mut options = fast();
    options.policy = ErrorPolicy::ContinueAsIs;
    options.threshold = Threshold::max_rows(1);
    let outcome = apply(&p, &mut store, &options).unwrap();
    assert!(outcome.refused.as_deref().unwrap().contains("2 rows fail, more than the 1 allowed"));
    assert!(store.find_by_logins(&["ada"]).unwrap().is_empty());
    options.threshold = Threshold::max_percent(60.0);
    let outcome = apply(&p, &mut store, &options).unwrap();
    assert_eq!(outcome.refused, None, "50% is under 60%");
}

#[test]
fn a_plan_made_before_the_users_changed_is_refused() {
    let mut store = MemoryStore::new();
    apply(&plan(&store, GOOD), &mut store, &fast()).unwrap();
    let stale = plan(&store, "First Name,Last Name,Login\nGrace,Hopper-Smith,grace\n");
    // Someone edits grace after the preview was made.
    store.begin().unwrap();
    let mut grace = store.find_by_logins(&["grace"]).unwrap().remove(0);
    grace.first_name = "Amazing Grace".into();
    grace.password = None;
    store.update_users(&[grace]).unwrap();
    store.commit().unwrap();
    let err = apply(&stale, &mut store, &fast()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::StalePlan), "{err}");
    assert_eq!(store.find_by_logins(&["grace"]).unwrap()[0].first_name, "Amazing Grace");
}

/// A first import into an empty store: its plan's fingerprint is 0 (no login read for it); a user
/// created for another login keeps it valid, a user created for one of its logins makes it stale.
#[test]
fn a_plan_made_against_an_empty_store_goes_stale_only_for_its_own_users() {
    let mut store = MemoryStore::new();
    let first = plan(&store, GOOD);
    assert_eq!(first.fingerprint(), 0);
    let other = plan(&store, "First Name,Last Name,Login\nOther,User,someone.else\n");
    apply(&other, &mut store, &fast()).unwrap();
    let outcome = apply(&first, &mut store, &fast()).unwrap();
    assert!(outcome.summary.created > 0, "another user does not make the plan stale");

    let mut store = MemoryStore::new();
    let first = plan(&store, GOOD);
    let grace = plan(&store, "First Name,Last Name,Login\nGrace,Hopper,grace\n");
    apply(&grace, &mut store, &fast()).unwrap();
    let err = apply(&first, &mut store, &fast()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::StalePlan), "{err}");
}

#[test]
fn updates_write_the_merged_user() {
    let mut store = MemoryStore::new();
    apply(&plan(&store, GOOD), &mut store, &fast()).unwrap();
    let p = plan(&store, "First Name,Last Name,Login,Roles\nGrace,Hopper,grace,Admin\n");
    assert_eq!(p.rows().next().unwrap().action, Action::Update);
    let outcome = apply(&p, &mut store, &fast()).unwrap();
    assert_eq!(outcome.summary.updated, 1);
    let grace = store.find_by_logins(&["grace"]).unwrap().remove(0);
    assert_eq!(grace.roles[0].name(), "Admin");
    assert_eq!(grace.email.as_deref(), Some("grace@x.io"), "not in this file: kept");
    assert!(grace.password.is_some(), "an update without a password keeps the stored one");
    let _ = User::new("x", "y", "z");
}

#[test]
fn with_update_passwords_a_new_password_is_an_update_and_the_same_one_is_not() {
    let mut config = importer().config().clone();
    config.options.update_passwords = true;
    let importer = Importer::new(config);
    let mut store = MemoryStore::new();
    apply(&importer.plan_bytes(GOOD, &store).unwrap(), &mut store, &fast()).unwrap();
    let again = importer.plan_bytes(GOOD, &store).unwrap();
    assert!(again.rows().all(|r| r.action == Action::Unchanged), "{:?}", again.rows().collect::<Vec<_>>());
    let changed = GOOD.replace("Compiler#1952", "Compiler#2024");
    let p = importer.plan_bytes(changed, &store).unwrap();
    let grace = p.rows().next().unwrap();
    assert_eq!(grace.action, Action::Update);
    assert_eq!(grace.changes[0].field, "password");
    assert!(!format!("{:?}", grace.changes).contains("Compiler"), "never the password");
    apply(&p, &mut store, &fast()).unwrap();
    let stored = store.find_by_logins(&["grace"]).unwrap().remove(0);
    assert!(user_import::verify_password("Compiler#2024", stored.password.unwrap().expose()));
}

/// A store whose commit fails, as a database may (disk full, lost connection).
struct CommitFails(MemoryStore, usize);

impl Directory for CommitFails {
    fn find_by_logins(&self, logins: &[&str]) -> user_import::Result<Vec<User>> {
        self.0.find_by_logins(logins)
    }
    fn find_by_emails(&self, emails: &[&str]) -> user_import::Result<Vec<User>> {
        self.0.find_by_emails(emails)
    }
    fn fingerprint(&self, logins: &[&str]) -> user_import::Result<u64> {
        self.0.fingerprint(logins)
    }
}

impl UserStore for CommitFails {
    fn begin(&mut self) -> user_import::Result<()> {
        self.0.begin()
    }
    fn create_users(&mut self, users: &[User]) -> user_import::Result<()> {
        self.0.create_users(users)
    }
    fn update_users(&mut self, users: &[User]) -> user_import::Result<()> {
        self.0.update_users(users)
    }
    fn create_groups(&mut self, groups: &[String]) -> user_import::Result<()> {
        self.0.create_groups(groups)
    }
    fn add_custom_fields(&mut self, fields: &[user_import::CustomField]) -> user_import::Result<()> {
        self.0.add_custom_fields(fields)
    }
    fn log_import(&mut self, entry: &user_import::ImportLogEntry) -> user_import::Result<()> {
        self.0.log_import(entry)
    }
    fn commit(&mut self) -> user_import::Result<()> {
        Err(user_import::Error::new(ErrorKind::Store("the disk is full".into())))
    }
    fn rollback(&mut self) -> user_import::Result<()> {
        self.1 += 1;
        self.0.rollback()
    }
}

#[test]
fn a_failed_commit_is_rolled_back_and_reported() {
    let mut store = CommitFails(MemoryStore::new(), 0);
    let p = importer().plan_bytes(GOOD, &store).unwrap();
    let err = apply(&p, &mut store, &fast()).unwrap_err();
    assert!(err.to_string().contains("the disk is full"), "{err}");
    assert_eq!(store.1, 1, "rolled back once");
    assert!(store.0.find_by_logins(&["grace", "ada"]).unwrap().is_empty(), "nothing kept");
    store.0.begin().expect("no transaction left open");
}
