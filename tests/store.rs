//! The stores: round trips of every field, transactions, passwords at rest, migrations, crash
//! safety (a child process killed in the middle of an import) and two imports at once.
#![cfg(feature = "sqlite")]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use chrono::NaiveDate;
use user_import::{
    hash_passwords, verify_password, Argon2Params, CustomField, CustomKind, CustomValue, Directory, HqRole,
    ImportLogEntry, MemoryStore, Mode, Password, ProductAccess, Role, SqliteStore, Status, User, UserStore,
};

const CHEAP: Argon2Params = Argon2Params { memory_kib: 256, iterations: 1, parallelism: 1 };

fn integrity(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap()
}

fn user(login: &str) -> User {
    let mut user = User::new(login, "First", format!("Last {login}"));
    user.email = Some(format!("{login}@example.com"));
    user
}

fn users(prefix: &str, count: usize) -> Vec<User> {
    (0..count).map(|i| user(&format!("{prefix}{i}"))).collect()
}

fn import(store: &mut dyn UserStore, users: &[User]) -> user_import::Result<()> {
    store.begin()?;
    let written = store.create_users(users).and_then(|()| store.log_import(&ImportLogEntry::new(Mode::CreateOnly)));
    match written {
        Ok(()) => store.commit(),
        Err(err) => {
            store.rollback()?;
            Err(err)
        }
    }
}

/// A user with every field set.
fn full_user() -> User {
    let mut ada = User::new("Ada.L", "Ada", "Lovelace");
    ada.email = Some("Ada@example.com".into());
    ada.password = Some(Password::new("$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"));
    ada.roles = vec![Role::new("Admin"), Role::new("Editor")];
    ada.superior = Some("boss".into());
    ada.timezone = Some(chrono_tz::Europe::Paris);
    ada.hq_role = Some(HqRole::Admin);
    ada.status = Status::Pending;
    ada.reference = Some("10045".into());
    ada.groups = vec!["Ops".into(), "R&D".into()];
    ada.products.insert("hire".into(), ProductAccess::Role(Role::new("Recruiter")));
    ada.products.insert("perform".into(), ProductAccess::Granted);
    ada.products.insert("learn".into(), ProductAccess::None);
    ada.custom.insert("dept".into(), CustomValue::Text("R&D".into()));
    ada.custom.insert("badge".into(), CustomValue::Number(7.5));
    ada.custom.insert("start".into(), CustomValue::Date(NaiveDate::from_ymd_opt(2024, 1, 15).unwrap()));
    ada.custom.insert("remote".into(), CustomValue::Bool(true));
    ada
}

/// What a store gives back: no entry for products without access.
fn as_stored(user: &User) -> User {
    let mut user = user.clone();
    user.products.retain(|_, access| access.has_access());
    user
}

fn round_trip(store: &mut dyn UserStore) -> User {
    import(store, &[User::new("boss", "Big", "Boss")]).unwrap();
    let ada = full_user();
    import(store, std::slice::from_ref(&ada)).unwrap();
    let found = store.find_by_logins(&["ADA.l"]).unwrap();
    assert_eq!(found, vec![as_stored(&ada)]);
    assert_eq!(store.find_by_emails(&[" ada@EXAMPLE.com "]).unwrap(), vec![as_stored(&ada)]);

    let mut changed = User::new("ada.l", "Augusta Ada", "King");
    changed.roles = vec![Role::new("Viewer")];
    changed.products.insert("learn".into(), ProductAccess::Granted);
    changed.custom.insert("dept".into(), CustomValue::Text("Sales".into()));
    store.begin().unwrap();
    store.update_users(std::slice::from_ref(&changed)).unwrap();
    store.commit().unwrap();
    let after = store.find_by_logins(&["ada.l"]).unwrap().remove(0);
    assert_eq!(after.password, ada.password, "an update without a password keeps the stored one");
    changed.password = ada.password.clone();
    assert_eq!(after, changed);
    assert!(store.find_by_emails(&["ada@example.com"]).unwrap().is_empty(), "the email went with the update");
    after
}

#[test]
fn every_field_round_trips_through_both_stores() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.db");
    let mut sqlite = SqliteStore::open(&path).unwrap();
    let mut memory = MemoryStore::new();
    assert_eq!(round_trip(&mut sqlite), round_trip(&mut memory));

    let stored = sqlite.get("ADA.L").unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert!(stored.updated_at >= stored.created_at);
    assert_eq!((stored.invitation_sent_at, stored.invitations_sent), (None, 0));
    let fields: Vec<(&str, bool)> = stored.custom_fields.iter().map(|(name, v)| (name.as_str(), v.is_some())).collect();
    assert_eq!(fields, [("badge", false), ("dept", true), ("remote", false), ("start", false)]);
    assert_eq!(sqlite.groups().unwrap(), ["Ops", "R&D"]);
    assert_eq!(sqlite.import_log().unwrap().len(), 2);
    drop(sqlite);
    assert_eq!(integrity(&path), "ok");
}

#[test]
fn accepted_custom_fields_become_fields_of_every_user() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    import(&mut store, &users("u", 3)).unwrap();
    store.begin().unwrap();
    let department = CustomField::new("department", CustomKind::OneOf).with_values(["Sales", "R&D"]);
    store.add_custom_fields(&[department.clone(), CustomField::new("badge", CustomKind::Number)]).unwrap();
    store.add_custom_fields(&[CustomField::new("department", CustomKind::Text)]).unwrap();
    store.commit().unwrap();
    assert_eq!(store.custom_fields().unwrap()[1], department, "an existing name is left alone");
    for stored in store.list(0, 10).unwrap() {
        assert_eq!(stored.custom_fields.keys().collect::<Vec<_>>(), ["badge", "department"]);
        assert!(stored.custom_fields.values().all(Option::is_none));
        assert!(stored.user.custom.is_empty());
    }
}

#[test]
fn lookups_ignore_case_and_are_batched_beyond_500_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.db");
    let mut store = SqliteStore::open(&path).unwrap();
    let mut all = users("user", 1_234);
    all.push(user("Zoë"));
    import(&mut store, &all).unwrap();
    let mut logins: Vec<String> = all.iter().map(|u| u.login.to_uppercase()).collect();
    logins.extend((0..300).map(|i| format!("missing{i}")));
    logins.push("USER7".into()); // asked twice, found once
    let logins: Vec<&str> = logins.iter().map(String::as_str).collect();
    let found = store.find_by_logins(&logins).unwrap();
    assert_eq!(found.len(), 1_235);
    assert!(store.find_by_logins(&["ZOË"]).unwrap()[0].login == "Zoë");
    let emails: Vec<String> = all.iter().map(|u| format!(" {} ", u.email.as_deref().unwrap().to_uppercase())).collect();
    let emails: Vec<&str> = emails.iter().map(String::as_str).collect();
    assert_eq!(store.find_by_emails(&emails).unwrap().len(), 1_235);
    assert!(store.find_by_logins(&[]).unwrap().is_empty());
    drop(store);
    assert_eq!(integrity(&path), "ok");
}

fn rollback_scenario(store: &mut dyn UserStore) {
    import(store, &users("first", 3)).unwrap();
    let before = store.find_by_logins(&["first0", "first1", "first2", "second0"]).unwrap();
    let fingerprint = store.fingerprint(&["first0", "second0"]).unwrap();

    store.begin().unwrap();
    store.create_users(&users("second", 2)).unwrap();
    let mut changed = user("first0");
    changed.status = Status::Disabled;
    changed.groups = vec!["Temp".into()];
    store.update_users(&[changed]).unwrap();
    store.create_groups(&["Other".into()]).unwrap();
    store.add_custom_fields(&[CustomField::new("temp", CustomKind::Text)]).unwrap();
    assert_eq!(store.find_by_logins(&["second0"]).unwrap().len(), 1, "the import reads its own writes");
    assert_ne!(store.fingerprint(&["first0", "second0"]).unwrap(), fingerprint);
    store.rollback().unwrap();

    assert_eq!(store.find_by_logins(&["first0", "first1", "first2", "second0"]).unwrap(), before);
    assert_eq!(store.fingerprint(&["second0", "FIRST0"]).unwrap(), fingerprint);

    // A refused user undoes its own call only; the import goes on.
    store.begin().unwrap();
    store.create_users(&users("third", 1)).unwrap();
    let err = store.create_users(&[user("fourth0"), user("FIRST1")]).unwrap_err();
    assert!(err.to_string().ends_with("user 'FIRST1' already exists"), "{err}");
    let mut taken = user("fifth");
    taken.email = Some("First2@Example.com".into());
    let err = store.create_users(&[taken]).unwrap_err();
    assert!(
        err.to_string().ends_with("the email address 'First2@Example.com' is already used by user 'first2'"),
        "{err}"
    );
    let mut orphan = user("sixth");
    orphan.superior = Some("nobody".into());
    let err = store.create_users(&[orphan]).unwrap_err();
    assert!(err.to_string().contains("the superior 'nobody' is not in the store"), "{err}");
    let err = store.update_users(&[user("nobody")]).unwrap_err();
    assert!(err.to_string().ends_with("user 'nobody' cannot be updated: there is no such user"), "{err}");
    store.commit().unwrap();
    assert_eq!(store.find_by_logins(&["third0", "fourth0", "fifth", "sixth"]).unwrap().len(), 1);
}

#[test]
fn rollback_leaves_the_store_unchanged_in_both_stores() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.db");
    let mut sqlite = SqliteStore::open(&path).unwrap();
    rollback_scenario(&mut sqlite);
    assert_eq!(sqlite.count().unwrap(), 4);
    assert!(sqlite.groups().unwrap().is_empty() && sqlite.custom_fields().unwrap().is_empty());
    assert_eq!(sqlite.import_log().unwrap().len(), 1);
    drop(sqlite);
    assert_eq!(integrity(&path), "ok");
    let mut memory = MemoryStore::new();
    rollback_scenario(&mut memory);
    assert_eq!(memory.len(), 4);
}

#[test]
fn a_second_import_sees_the_first_ones_users() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.db");
    let mut first = SqliteStore::open(&path).unwrap();
    import(&mut first, &users("a", 10)).unwrap();
    drop(first);
    let mut second = SqliteStore::open(&path).unwrap();
    assert_eq!(second.find_by_logins(&["A3", "b3"]).unwrap().len(), 1);
    let mut subordinate = user("b0");
    subordinate.superior = Some("A9".into());
    import(&mut second, &[subordinate]).unwrap();
    assert_eq!(second.get("b0").unwrap().unwrap().user.superior.as_deref(), Some("a9"));
    let log = second.import_log().unwrap();
    assert_eq!(log.len(), 2);
    assert!(log[0].at <= log[1].at && log[1].at <= SystemTime::now());
    drop(second);
    assert_eq!(integrity(&path), "ok");
}

#[test]
fn the_fingerprint_moves_with_every_write_and_only_then() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    import(&mut store, &users("u", 3)).unwrap();
    let logins = ["u0", "u1", "nobody"];
    let start = store.fingerprint(&logins).unwrap();
    assert_eq!(start, store.fingerprint(&["NOBODY", "u1", "U0", "u0"]).unwrap());
    import(&mut store, &users("other", 2)).unwrap();
    assert_eq!(start, store.fingerprint(&logins).unwrap(), "other users do not count");
    import(&mut store, &[user("nobody")]).unwrap();
    let created = store.fingerprint(&logins).unwrap();
    assert_ne!(start, created);
    assert!(store.mark_invitation_resent("u1").unwrap());
    let invited = store.fingerprint(&logins).unwrap();
    assert_ne!(created, invited);
    assert!(store.deactivate("U0").unwrap());
    assert_ne!(invited, store.fingerprint(&logins).unwrap());
    assert!(!store.deactivate("ghost").unwrap());
}

#[test]
fn user_lists_search_filter_page_deactivate_and_resend() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let mut people =
        vec![User::new("jdoe", "Jane", "Doe"), User::new("bsmith", "Bob", "Smith"), User::new("Zoë", "Zoë", "Ünal")];
    people[0].email = Some("jane@corp.example".into());
    people[1].status = Status::Pending;
    people[2].status = Status::Pending;
    import(&mut store, &people).unwrap();
    let logins = |found: Vec<user_import::StoredUser>| found.into_iter().map(|s| s.user.login).collect::<Vec<_>>();
    assert_eq!(logins(store.search("CORP.").unwrap()), ["jdoe"]);
    assert_eq!(logins(store.search("jane d").unwrap()), ["jdoe"]);
    assert_eq!(logins(store.search("ÜNAL").unwrap()), ["Zoë"]);
    assert_eq!(logins(store.search("%").unwrap()), Vec::<String>::new());
    assert_eq!(logins(store.list_by_status(Status::Pending).unwrap()), ["bsmith", "Zoë"]);
    assert_eq!(logins(store.list(0, 2).unwrap()), ["bsmith", "jdoe"]);
    assert_eq!(logins(store.list(2, 2).unwrap()), ["Zoë"]);
    assert!(store.list(5, 2).unwrap().is_empty());
    assert_eq!(store.count().unwrap(), 3);

    assert!(store.deactivate("JDOE").unwrap());
    assert_eq!(logins(store.list_by_status(Status::Disabled).unwrap()), ["jdoe"]);
    assert!(store.mark_invitation_resent("bsmith").unwrap());
    assert!(store.mark_invitation_resent("bsmith").unwrap());
    let bob = store.get("bsmith").unwrap().unwrap();
    assert_eq!(bob.invitations_sent, 2);
    assert!(bob.invitation_sent_at.is_some());
    assert_eq!(bob.version, 3);
    assert!(store.get("nobody").unwrap().is_none());
}

#[test]
fn passwords_are_never_stored_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.db");
    let plain: Vec<String> = (0..40).map(|i| format!("Plain-Secret-{i:03}-Qz")).collect();
    let mut batch = users("p", plain.len());
    for (user, secret) in batch.iter_mut().zip(&plain) {
        user.password = Some(Password::new(secret.as_str()));
    }
    let mut refused = batch.clone();
    let mut store = SqliteStore::open(&path).unwrap();
    let err = import(&mut store, &refused[..1]).unwrap_err();
    assert!(err.to_string().contains("the password is not hashed"), "{err}");
    assert!(!err.to_string().contains("Plain-Secret"), "{err}");
    refused.clear();

    hash_passwords(&mut batch, &CHEAP).unwrap();
    import(&mut store, &batch).unwrap();
    let raw = |path: &Path| -> Vec<u8> {
        let mut bytes = std::fs::read(path).unwrap();
        bytes.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
        bytes
    };
    let contains = |haystack: &[u8], needle: &str| haystack.windows(needle.len()).any(|w| w == needle.as_bytes());
    let bytes = raw(&path);
    assert!(std::fs::metadata(path.with_extension("db-wal")).is_ok(), "the write-ahead log is scanned too");
    for (i, secret) in plain.iter().enumerate() {
        assert!(!contains(&bytes, secret), "{secret} is in the file");
        let stored = store.get(&format!("p{i}")).unwrap().unwrap().user.password.unwrap();
        assert!(contains(&bytes, stored.expose()), "the scan finds what is stored");
        assert!(verify_password(secret, stored.expose()));
        assert!(!verify_password(&plain[(i + 1) % plain.len()], stored.expose()));
    }
    drop(store);
    let bytes = raw(&path);
    assert!(plain.iter().all(|secret| !contains(&bytes, secret)));
    assert_eq!(integrity(&path), "ok");
}

/// Set in the child process of the crash test: the database it imports into.
const CRASH_CHILD: &str = "USER_IMPORT_CRASH_CHILD_DB";

/// Not a test of its own: the child process of `a_killed_import_leaves_no_trace`. It begins an
/// import, says so, writes 200,000 users in batches and waits, never committing.
#[test]
fn crash_child_process() {
    let Some(path) = std::env::var_os(CRASH_CHILD) else {
        return;
    };
    let mut store = SqliteStore::open(&path).unwrap();
    store.begin().unwrap();
    println!("began");
    for batch in 0..200 {
        store.create_users(&users(&format!("crash{batch}x"), 1_000)).unwrap();
    }
    println!("written");
    thread::sleep(Duration::from_secs(60));
}

#[test]
fn a_killed_import_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.db");
    let mut store = SqliteStore::open(&path).unwrap();
    import(&mut store, &users("kept", 5)).unwrap();
    drop(store);

    let jitter = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos() % 50);
    let started = Instant::now();
    for (round, base) in [0u64, 30, 100, 250, 500, 900, 2_800].into_iter().enumerate() {
        let delay = Duration::from_millis(base + u64::from(jitter) * (round as u64 % 3));
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["crash_child_process", "--exact", "--nocapture", "--test-threads=1"])
            .env(CRASH_CHILD, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // The harness prints "test crash_child_process ... " first, on the same line.
        assert!(lines.any(|line| line.is_ok_and(|line| line.ends_with("began"))), "the child began its import");
        thread::sleep(delay);
        assert!(child.try_wait().unwrap().is_none(), "the child is still inside its transaction");
        let wal = std::fs::metadata(path.with_extension("db-wal")).map_or(0, |m| m.len());
        child.kill().unwrap(); // SIGKILL on Unix: no destructor, no rollback
        child.wait().unwrap();
        eprintln!("round {round}: killed after {delay:?}, write-ahead log at {wal} bytes");

        let mut store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.count().unwrap(), 5 + round as u64, "nothing of the killed import is visible");
        assert!(store.search("crash").unwrap().is_empty());
        import(&mut store, &[user(&format!("after{round}"))]).unwrap();
        drop(store);
        assert_eq!(integrity(&path), "ok");
    }
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
}

#[test]
fn two_imports_at_once_both_land() {
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("users.db"));
    drop(SqliteStore::open(path.as_ref()).unwrap());
    let barrier = Arc::new(Barrier::new(2));
    let workers: Vec<_> = ["left", "right"]
        .into_iter()
        .map(|side| {
            let (path, barrier) = (Arc::clone(&path), Arc::clone(&barrier));
            thread::spawn(move || {
                let mut store = SqliteStore::open(path.as_ref()).unwrap();
                let batch = users(side, 5_000);
                barrier.wait();
                for attempt in 1.. {
                    match import(&mut store, &batch) {
                        Ok(()) => return attempt,
                        Err(err) if attempt < 5 && err.to_string().contains("locked by another import") => {}
                        Err(err) => panic!("{err}"),
                    }
                }
                unreachable!()
            })
        })
        .collect();
    for worker in workers {
        assert!(worker.join().unwrap() <= 5);
    }
    let store = SqliteStore::open(path.as_ref()).unwrap();
    assert_eq!(store.count().unwrap(), 10_000);
    assert_eq!(store.import_log().unwrap().len(), 2);
    drop(store);
    assert_eq!(integrity(&path), "ok");
}

#[test]
fn a_second_import_waits_then_fails_clearly_and_readers_see_the_last_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.db");
    let mut first = SqliteStore::open(&path).unwrap();
    let mut second = SqliteStore::open(&path).unwrap();
    second.set_busy_timeout(Duration::from_millis(200)).unwrap();
    import(&mut first, &users("base", 2)).unwrap();

    first.begin().unwrap();
    first.create_users(&users("pending", 3)).unwrap();
    let waited = Instant::now();
    let err = second.begin().unwrap_err();
    assert!(waited.elapsed() >= Duration::from_millis(150), "begin waited for the other import");
    assert_eq!(err.to_string(), "users.db: the database is locked by another import; try again when it has finished");
    assert_eq!(err.code(), user_import::IssueCode::Unreadable);
    second.rollback().unwrap();
    assert_eq!(second.count().unwrap(), 2, "readers see the last commit, not the import in progress");
    first.commit().unwrap();

    import(&mut second, &users("later", 1)).unwrap();
    assert_eq!(first.count().unwrap(), 6);
    drop((first, second));
    assert_eq!(integrity(&path), "ok");
}

#[test]
fn the_store_traits_are_object_safe() {
    let mut stores: Vec<Box<dyn UserStore>> =
        vec![Box::new(MemoryStore::new()), Box::new(SqliteStore::open_in_memory().unwrap())];
    for store in &mut stores {
        import(store.as_mut(), &users("x", 2)).unwrap();
        let found: BTreeMap<String, User> =
            store.find_by_logins(&["x0", "x1"]).unwrap().into_iter().map(|u| (u.login.clone(), u)).collect();
        assert_eq!(found.len(), 2);
    }
}

#[test]
fn the_fingerprint_of_logins_handed_over_one_by_one_is_that_of_the_slice() {
    // 1,600 logins over four batches of the stores' lookups: 700 users exist, the rest do not
    // (and add nothing); repetitions and case changes fall in other batches than their first
    // occurrence. The last login before the repetitions, u0, exists.
    let mut logins: Vec<String> = (0..1_600).rev().map(|i| format!("u{i}")).collect();
    logins.extend(["U3".to_string(), "u1599".to_string(), "U650".to_string()]);
    let logins: Vec<&str> = logins.iter().map(String::as_str).collect();
    let mut sqlite = SqliteStore::open_in_memory().unwrap();
    import(&mut sqlite, &users("u", 700)).unwrap();
    let memory = MemoryStore::with_users(&users("u", 700)).unwrap();
    let directory = user_import::MemoryDirectory::from_users(users("u", 700));
    let stores: [(&str, &dyn Directory); 3] =
        [("sqlite", &sqlite), ("memory store", &memory), ("directory", &directory)];
    for (name, store) in stores {
        let whole = store.fingerprint(&logins).unwrap();
        assert_eq!(store.fingerprint_iter(&mut logins.iter().copied()).unwrap(), whole, "{name}");
        assert_eq!(store.fingerprint_iter(&mut logins.iter().rev().copied()).unwrap(), whole, "{name}: any order");
        assert_eq!(store.fingerprint(&logins[..1_600]).unwrap(), whole, "{name}: repetitions do not count");
        assert_ne!(store.fingerprint_iter(&mut logins[..1_599].iter().copied()).unwrap(), whole, "{name}");
        assert_eq!(store.fingerprint(&logins[..900]).unwrap(), 0, "{name}: absent users add nothing");
    }
    // An empty store's fingerprint is 0 for any logins, read or not.
    let empty_sqlite = SqliteStore::open_in_memory().unwrap();
    let empty_memory = MemoryStore::with_users(&[]).unwrap();
    let empty_directory = user_import::MemoryDirectory::new();
    let empty: [(&str, &dyn Directory); 3] =
        [("sqlite", &empty_sqlite), ("memory store", &empty_memory), ("directory", &empty_directory)];
    for (name, store) in empty {
        assert_eq!(store.fingerprint(&logins).unwrap(), 0, "{name}");
        assert_eq!(store.fingerprint_iter(&mut logins.iter().copied()).unwrap(), 0, "{name}");
    }
}
