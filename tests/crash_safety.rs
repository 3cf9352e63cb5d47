//! The `user-import` command line killed with SIGKILL in the middle of large imports, and two
//! imports into the same store at once: the SQLite store stays intact and holds every user once.
#![cfg(all(feature = "cli", unix))]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

const CONFIG: &str = r#"
[schema]
fields = [
    { field = "first_name", required = true },
    { field = "last_name", required = true },
    { field = "login", required = true },
    { field = "email" },
    { field = "roles" },
    { field = "superior" },
]

[catalog]
roles = ["Admin", "Editor", "Viewer"]
"#;

/// Users in the large files.
const USERS: usize = 10_000;

fn binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("user-import")
}

/// A users file: `prefix0`..; each user's superior is an earlier one. With `bad`, every 97th row
/// names an unknown role (it fails; with its subordinates skipped under continue-as-is).
fn users_csv(dir: &Path, name: &str, prefix: &str, bad: bool) -> PathBuf {
    let mut csv = String::from("First Name,Last Name,Login Name,Email,Roles,Superior User\n");
    for i in 0..USERS {
        let superior = if i == 0 { String::new() } else { format!("{prefix}{}", i / 10) };
        let role = if bad && i % 97 == 5 { "Astronaut" } else { "Editor" };
        csv.push_str(&format!("User,N{i},{prefix}{i},{prefix}{i}@example.com,{role},{superior}\n"));
    }
    let path = dir.join(name);
    std::fs::write(&path, csv).unwrap();
    path
}

fn import(dir: &Path, file: &Path, db: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(binary());
    command
        .args(["import"])
        .arg(file)
        .arg("--db")
        .arg(db)
        .arg("--config")
        .arg(dir.join("config.toml"))
        .arg("--quiet")
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), CONFIG).unwrap();
    dir
}

/// `PRAGMA integrity_check`, the number of users, and the number of logins stored more than once.
/// A store killed while it was being created may have no tables yet: it holds no user.
fn check(db: &Path) -> (String, u64, u64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'users'", [], |row| row.get(0))
        .unwrap();
    if tables == 0 {
        return (integrity, 0, 0);
    }
    let users: i64 = conn.query_row("SELECT count(*) FROM users", [], |row| row.get(0)).unwrap();
    let duplicates: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT lower(login) FROM users GROUP BY lower(login) HAVING count(*) > 1)",
            [],
            |row| row.get(0),
        )
        .unwrap();
    (integrity, users as u64, duplicates as u64)
}

/// A small deterministic generator seeded from the clock: the kill points differ from run to
/// run, and each run prints them.
struct SplitMix(u64);

impl SplitMix {
    fn from_clock() -> Self {
        SplitMix(SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(7, |d| d.as_nanos() as u64))
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n.max(1)
    }
}

/// How long a whole import of `file` into a fresh store takes, and how long its preview takes
/// (the write begins after about that).
fn timings(dir: &Path, file: &Path, extra: &[&str]) -> (Duration, Duration) {
    let db = dir.join("timing.db");
    let started = Instant::now();
    let preview = import(dir, file, &db, &[&["--dry-run"], extra].concat()).output().unwrap();
    let plan = started.elapsed();
    assert!(preview.status.code().is_some_and(|c| c <= 1), "{preview:?}");
    let started = Instant::now();
    import(dir, file, &db, extra).output().unwrap();
    let whole = started.elapsed();
    std::fs::remove_file(&db).unwrap();
    (plan, whole)
}

/// Starts the import, kills it (SIGKILL) after `delay` unless it finished, and says whether it
/// was still running.
fn kill_after(mut command: Command, delay: Duration) -> bool {
    let mut child: Child = command.spawn().unwrap();
    std::thread::sleep(delay);
    let running = child.try_wait().unwrap().is_none();
    child.kill().ok(); // SIGKILL: no destructor, no rollback, no flush
    child.wait().unwrap();
    running
}

/// A kill time: mostly inside the write (after the preview time), sometimes before or after.
fn kill_point(random: &mut SplitMix, plan: Duration, whole: Duration) -> Duration {
    let from = plan.as_millis() as u64 * 8 / 10;
    let to = whole.as_millis() as u64 * 12 / 10 + 1;
    Duration::from_millis(from + random.below(to.saturating_sub(from)))
}

#[test]
fn a_killed_all_or_nothing_import_leaves_all_or_nothing() {
    let dir = setup();
    let file = users_csv(dir.path(), "users.csv", "u", false);
    let (plan, whole) = timings(dir.path(), &file, &[]);
    let mut random = SplitMix::from_clock();
    let mut landed = [0usize; 2];
    for round in 0..12 {
        let db = dir.path().join(format!("all{round}.db"));
        let delay = kill_point(&mut random, plan, whole);
        let running = kill_after(import(dir.path(), &file, &db, &[]), delay);
        if !db.exists() {
            continue; // killed before the store was even created
        }
        let (integrity, users, duplicates) = check(&db);
        eprintln!("all-or-nothing round {round}: killed at {delay:?} (running: {running}): {users} users");
        assert_eq!(integrity, "ok", "round {round}");
        assert_eq!(duplicates, 0);
        assert!(users == 0 || users == USERS as u64, "round {round}: {users} users, not all or nothing");
        landed[usize::from(users > 0)] += 1;
        // Whatever the kill left, the same import then finishes with every user once.
        let done = import(dir.path(), &file, &db, &[]).output().unwrap();
        assert_eq!(done.status.code(), Some(0), "{}", String::from_utf8_lossy(&done.stderr));
        assert_eq!(check(&db), ("ok".to_string(), USERS as u64, 0));
    }
    eprintln!(
        "all-or-nothing: {} kills left nothing, {} left everything (preview {plan:?}, import {whole:?})",
        landed[0], landed[1]
    );
}

#[test]
fn a_killed_continue_as_is_import_reruns_to_every_valid_user_once() {
    let dir = setup();
    let file = users_csv(dir.path(), "users.csv", "c", true);
    let continue_ = ["--on-error", "continue"];
    let (plan, whole) = timings(dir.path(), &file, &continue_);
    // The users a complete import writes.
    let reference = dir.path().join("reference.db");
    let output = import(dir.path(), &file, &reference, &continue_).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "some rows fail");
    let (_, valid, _) = check(&reference);
    assert!(valid > 0 && valid < USERS as u64, "{valid}");

    let mut random = SplitMix::from_clock();
    let db = dir.path().join("continue.db");
    for round in 0..12 {
        let delay = kill_point(&mut random, plan, whole);
        let running = kill_after(import(dir.path(), &file, &db, &continue_), delay);
        if !db.exists() {
            continue;
        }
        let (integrity, users, duplicates) = check(&db);
        eprintln!("continue-as-is round {round}: killed at {delay:?} (running: {running}): {users} users");
        assert_eq!(integrity, "ok", "round {round}");
        assert_eq!(duplicates, 0);
        assert!(users == 0 || users == valid, "round {round}: {users} users of {valid}");
        let done = import(dir.path(), &file, &db, &continue_).output().unwrap();
        assert_eq!(done.status.code(), Some(1), "{}", String::from_utf8_lossy(&done.stderr));
        assert_eq!(check(&db), ("ok".to_string(), valid, 0), "round {round}: the re-run finishes, no duplicate");
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn two_imports_into_one_store_at_once_both_land_or_one_is_refused_cleanly() {
    let dir = setup();
    let left = users_csv(dir.path(), "left.csv", "left", false);
    let right = users_csv(dir.path(), "right.csv", "right", false);

    // Different users: the second waits for the first and both land.
    let db = dir.path().join("both.db");
    let a = import(dir.path(), &left, &db, &[]).spawn().unwrap();
    let b = import(dir.path(), &right, &db, &[]).spawn().unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert_eq!(b.status.code(), Some(0), "{}", stderr(&b));
    assert_eq!(check(&db), ("ok".to_string(), 2 * USERS as u64, 0), "no lost row");

    // The same file twice at once: one creates the users; the other finds them unchanged (it
    // planned after the commit), or is refused because its plan went stale, or — when the other
    // committed while it was planning — its first create is refused and rolled back. Never a
    // duplicate, never a damaged store.
    for round in 0..3 {
        let db = dir.path().join(format!("same{round}.db"));
        let a = import(dir.path(), &left, &db, &[]).spawn().unwrap();
        let b = import(dir.path(), &left, &db, &[]).spawn().unwrap();
        let outputs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
        for output in &outputs {
            match output.status.code() {
                Some(0) => {}
                Some(2) => {
                    let message = stderr(output);
                    let stale = "user-import: the users in the store changed since this plan was made; make the plan \
                                 again (re-run the preview) and check it";
                    let exists = format!("user-import: same{round}.db: user 'left0' already exists");
                    assert!(message.trim() == stale || message.trim() == exists, "round {round}: {message}");
                }
                other => panic!("round {round}: exit {other:?}: {}", stderr(output)),
            }
        }
        assert!(outputs.iter().any(|o| o.status.success()));
        eprintln!(
            "same file twice, round {round}: exits {:?}",
            outputs.iter().map(|o| o.status.code()).collect::<Vec<_>>()
        );
        assert_eq!(check(&db), ("ok".to_string(), USERS as u64, 0), "round {round}");
    }
}
