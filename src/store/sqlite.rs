//! The embedded default store: one SQLite file, versioned schema, one transaction per import.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rusqlite::types::ToSql;
use rusqlite::{params, params_from_iter, CachedStatement, Connection, ErrorCode, OptionalExtension, Row};

use crate::config::Mode;
use crate::directory::{sorted_keys, Directory, SetHash};
use crate::error::{Error, Result};
use crate::model::{login_key, login_key_cow, CustomValue, HqRole, Password, ProductAccess, Role, Status, User};
use crate::schema::{CustomField, CustomKind};
use crate::store::{
    already_in_transaction, check_writable, custom_field_for, missing_superior, no_transaction, ImportLogEntry,
    UserStore,
};

/// `PRAGMA application_id` of a user-import database: "UIMP".
const APPLICATION_ID: i32 = 0x5549_4d50;

/// Keys (logins, emails, ids) sent to SQLite in one query.
const BATCH: usize = 500;

/// How long [`UserStore::begin`] waits for another import into the same file, by default.
const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The schema, as the ordered scripts that build it: `PRAGMA user_version` is the number of
/// scripts applied. A script is never changed once released; a change is a new script.
const MIGRATIONS: &[&str] = &[
    // 1: users and what they are given.
    r#"
    CREATE TABLE users (
        id                 INTEGER PRIMARY KEY,
        login              TEXT    NOT NULL,
        login_key          TEXT    NOT NULL UNIQUE,      -- trimmed, lowercased: how logins compare
        first_name         TEXT    NOT NULL,
        last_name          TEXT    NOT NULL,
        name_key           TEXT    NOT NULL,             -- "first last", lowercased: what search reads
        email              TEXT,
        email_key          TEXT    UNIQUE,
        password_hash      TEXT,                         -- a PHC string, never a password
        status             TEXT    NOT NULL CHECK (status IN ('active', 'pending', 'expired', 'blocked', 'disabled')),
        hq_role            TEXT    CHECK (hq_role IN ('basic', 'admin')),
        timezone           TEXT,
        reference          TEXT,
        superior_id        INTEGER REFERENCES users (id),
        created_at         TEXT    NOT NULL,             -- RFC 3339, UTC, nanoseconds
        updated_at         TEXT    NOT NULL,
        version            INTEGER NOT NULL DEFAULT 1,   -- plus one on every write
        invitation_sent_at TEXT,
        invitations_sent   INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX users_superior ON users (superior_id);

    CREATE TABLE roles (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE user_roles (
        user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        role_id  INTEGER NOT NULL REFERENCES roles (id),
        position INTEGER NOT NULL,
        PRIMARY KEY (user_id, role_id)
    ) WITHOUT ROWID;

    CREATE TABLE products (id TEXT PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE user_products (               -- no row: no access
        user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        product_id TEXT    NOT NULL REFERENCES products (id),
        role       TEXT,                       -- NULL: access to a product without roles
        PRIMARY KEY (user_id, product_id)
    ) WITHOUT ROWID;

    CREATE TABLE groups (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE user_groups (
        user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        group_id INTEGER NOT NULL REFERENCES groups (id),
        position INTEGER NOT NULL,
        PRIMARY KEY (user_id, group_id)
    ) WITHOUT ROWID;

    CREATE TABLE custom_fields (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE,
        kind       TEXT NOT NULL,
        definition TEXT NOT NULL               -- the CustomField, as JSON
    );
    CREATE TABLE user_custom_values (          -- no row: not set
        user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        field_id INTEGER NOT NULL REFERENCES custom_fields (id),
        value    TEXT    NOT NULL,
        PRIMARY KEY (user_id, field_id)
    ) WITHOUT ROWID;
    "#,
    // 2: the import log, and versions that move even when another program edits a user row.
    r#"
    CREATE TABLE import_log (
        id        INTEGER PRIMARY KEY,
        at        TEXT    NOT NULL,
        file_name TEXT,
        comment   TEXT,
        mode      TEXT    NOT NULL,
        created   INTEGER NOT NULL,
        updated   INTEGER NOT NULL,
        unchanged INTEGER NOT NULL,
        skipped   INTEGER NOT NULL,
        failed    INTEGER NOT NULL
    );
    CREATE TRIGGER users_version AFTER UPDATE ON users WHEN NEW.version = OLD.version
    BEGIN
        UPDATE users SET version = OLD.version + 1 WHERE id = NEW.id;
    END;
    "#,
];

/// The columns of a user row, as `read_user` reads them (`u` is the user, `s` its superior).
const USER_COLUMNS: &str = "u.id, u.login, u.first_name, u.last_name, u.email, u.password_hash, u.status, u.hq_role, \
     u.timezone, u.reference, s.login, u.created_at, u.updated_at, u.version, u.invitation_sent_at, u.invitations_sent";

/// A user as the SQLite store has it: the [`User`] plus what the store knows about its record.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct StoredUser {
    /// The user; `password` holds the PHC hash, `custom` the values that are set.
    pub user: User,
    /// Every custom field of the store, with this user's value (`None`: not set).
    pub custom_fields: BTreeMap<String, Option<CustomValue>>,
    /// The row id.
    pub id: i64,
    /// When the user was created.
    pub created_at: SystemTime,
    /// When the user was last written.
    pub updated_at: SystemTime,
    /// 1 when created, plus one for every write (by an import, a deactivation, an invitation).
    pub version: u64,
    /// When the last invitation was sent again, if ever.
    pub invitation_sent_at: Option<SystemTime>,
    /// How many times the invitation was sent again.
    pub invitations_sent: u32,
}

/// The embedded [`UserStore`]: users, roles, product access, groups, custom fields and the import
/// log in one SQLite file (feature `sqlite`).
///
/// - **Durable and safe**: write-ahead log, `synchronous=NORMAL`, foreign keys on; one SQL
///   transaction from [`begin`](UserStore::begin) to [`commit`](UserStore::commit), so a crash
///   or a kill in the middle of an import leaves the users as they were before it. Each write
///   call is all-or-nothing within the import (a refused user undoes that call only).
/// - **One import at a time**: a second import into the same file waits in `begin` (10 s by
///   default, see [`SqliteStore::set_busy_timeout`]), then proceeds or fails with
///   `users.db: the database is locked by another import; try again when it has finished`.
/// - **Versioned schema**: opening a file written by an older version upgrades it; a file from a
///   newer version, or another application's database, is refused with a clear error.
/// - Superiors are found by login (earlier calls or earlier in the same slice); groups named by
///   users and custom fields they have values for are added to the store; product access
///   [`None`](ProductAccess::None) is kept as no row; custom values are read back as their
///   field's kind.
///
/// ```
/// use user_import::{Directory, SqliteStore, Status, User, UserStore};
///
/// # fn main() -> Result<(), user_import::Error> {
/// let mut store = SqliteStore::open_in_memory()?; // or SqliteStore::open("users.db")
/// let mut ada = User::new("ada", "Ada", "Lovelace");
/// ada.email = Some("ada@example.com".into());
/// store.begin()?;
/// store.create_users(&[ada])?;
/// store.commit()?;
///
/// assert_eq!(store.find_by_emails(&["ADA@example.com"])?[0].login, "ada");
/// assert!(store.deactivate("Ada")?);
/// let stored = store.get("ada")?.expect("just created");
/// assert_eq!((stored.user.status, stored.version), (Status::Disabled, 2));
/// # Ok(())
/// # }
/// ```
pub struct SqliteStore {
    conn: Connection,
    /// The file name, for messages; `None` in memory.
    name: Option<String>,
    in_transaction: bool,
    /// A failed write call could not be undone: only a rollback may follow.
    poisoned: bool,
    ids: Ids,
}

/// How a write call is undone when one of its users is refused.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Undo {
    /// Roll back to a savepoint taken before the call.
    Savepoint,
    /// Delete the rows the call added (it changed none).
    DeleteAdded,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("name", &self.name)
            .field("in_transaction", &self.in_transaction)
            .finish_non_exhaustive()
    }
}

/// Ids the current transaction already looked up or created (cleared whenever rows may vanish).
#[derive(Default)]
struct Ids {
    /// Users by login key: superiors looked up, and users created, in this transaction.
    users: HashMap<String, i64>,
    roles: HashMap<String, i64>,
    groups: HashMap<String, i64>,
    products: HashSet<String>,
    fields: HashMap<String, (i64, CustomKind)>,
}

impl Ids {
    fn clear(&mut self) {
        self.users.clear();
        self.roles.clear();
        self.groups.clear();
        self.products.clear();
        self.fields.clear();
    }
}

impl SqliteStore {
    /// The latest schema version this build knows (`PRAGMA user_version` of the files it writes).
    pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

    /// Opens the database at `path`, creating it when it does not exist and upgrading its schema
    /// when an older version wrote it.
    ///
    /// # Errors
    ///
    /// A store error naming the file when it cannot be opened, is not a SQLite database, belongs
    /// to another application, comes from a newer version of this library, or is locked for
    /// longer than the busy timeout.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        let conn = Connection::open(path).map_err(|err| sql_error(err, Some(&name)))?;
        Self::setup(conn, Some(name))
    }

    /// How many rows this connection has inserted, updated or deleted since it was opened
    /// (SQLite's `total_changes`): an import that changes nothing leaves it as it was.
    pub fn total_changes(&self) -> u64 {
        self.conn.total_changes()
    }

    /// A new, empty database in memory (gone when the store is dropped).
    ///
    /// # Errors
    ///
    /// Only when SQLite cannot allocate it.
    pub fn open_in_memory() -> Result<Self> {
        let conn = Connection::open_in_memory().map_err(|err| sql_error(err, None))?;
        Self::setup(conn, None)
    }

    fn setup(conn: Connection, name: Option<String>) -> Result<Self> {
        let fail = |err| sql_error(err, name.as_deref());
        conn.busy_timeout(DEFAULT_BUSY_TIMEOUT).map_err(fail)?;
        conn.set_prepared_statement_cache_capacity(64);
        // Pages of 16 KiB (new files only): bulk imports write fewer, fuller pages than with 4 KiB.
        conn.execute_batch("PRAGMA page_size = 16384").map_err(fail)?;
        // The first statement that reads the file: a file that is not a database fails here.
        // Switching a new file to WAL takes an exclusive lock that SQLite does not wait for: when
        // two imports create the same store at once, the second retries (up to the busy timeout).
        let started = Instant::now();
        loop {
            match conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0)) {
                Ok(_) => break,
                Err(rusqlite::Error::SqliteFailure(failure, _))
                    if failure.code == ErrorCode::DatabaseBusy && started.elapsed() < DEFAULT_BUSY_TIMEOUT =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(err) => return Err(fail(err)),
            }
        }
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
        )
            .map_err(fail)?;
        let store = SqliteStore { conn, name, in_transaction: false, poisoned: false, ids: Ids::default() };
        store.migrate(MIGRATIONS.len())?;
        Ok(store)
    }

    /// Brings the schema to `target` scripts, one transaction per script; refuses files this
    /// build cannot read.
    fn migrate(&self, target: usize) -> Result<()> {
        let conn = &self.conn;
        loop {
            let (version, application) = self.header()?;
            if application != 0 && application != APPLICATION_ID {
                return Err(self.error(format!(
                    "this database belongs to another application (application id {application:#x}), not to \
                     user-import; choose another file"
                )));
            }
            if version > MIGRATIONS.len() {
                return Err(self.error(format!(
                    "the database was written by a newer version of user-import (schema version {version}; this \
                     version reads up to {}); upgrade user-import to open it",
                    MIGRATIONS.len()
                )));
            }
            if version >= target {
                return Ok(());
            }
            conn.execute_batch("BEGIN IMMEDIATE").map_err(|err| self.sql(err))?;
            let applied = (|| {
                // Another process may have upgraded the file while this one waited for the lock:
                // then there is nothing to do here, and the transaction must not stay open.
                let (now, _) = self.header()?;
                if now != version {
                    return conn.execute_batch("ROLLBACK").map_err(|err| self.sql(err));
                }
                // Tables in a file without our version are another application's. Counted inside
                // the transaction: outside it, another import creating this store could commit
                // its tables between the two reads, and they would be taken for a stranger's.
                if now == 0 {
                    let tables: i64 = conn
                        .query_row("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'", [], |r| {
                            r.get(0)
                        })
                        .map_err(|err| self.sql(err))?;
                    if tables > 0 {
                        return Err(self.error(
                            "this database holds another application's tables, not user-import's; choose another \
                             file",
                        ));
                    }
                }
                let script = MIGRATIONS.get(version).copied().unwrap_or_default();
                conn.execute_batch(script).map_err(|err| self.sql(err))?;
                let next = i64::try_from(version + 1).unwrap_or(i64::MAX);
                conn.pragma_update(None, "user_version", next).map_err(|err| self.sql(err))?;
                conn.pragma_update(None, "application_id", APPLICATION_ID).map_err(|err| self.sql(err))?;
                conn.execute_batch("COMMIT").map_err(|err| self.sql(err))
            })();
            if let Err(err) = applied {
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                return Err(err);
            }
        }
    }

    /// `(user_version, application_id)`.
    fn header(&self) -> Result<(usize, i32)> {
        let version: i64 =
            self.conn.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(|err| self.sql(err))?;
        let application: i32 =
            self.conn.pragma_query_value(None, "application_id", |row| row.get(0)).map_err(|err| self.sql(err))?;
        Ok((usize::try_from(version).unwrap_or(usize::MAX), application))
    }

    /// The schema version of the open file (see [`SqliteStore::SCHEMA_VERSION`]).
    ///
    /// # Errors
    ///
    /// When the database cannot be read.
    pub fn schema_version(&self) -> Result<u32> {
        let (version, _) = self.header()?;
        Ok(u32::try_from(version).unwrap_or(u32::MAX))
    }

    /// How long [`begin`](UserStore::begin) (and any other write) waits for another import into
    /// the same file before failing with the "locked" error. 10 s by default.
    ///
    /// # Errors
    ///
    /// When SQLite refuses the setting.
    pub fn set_busy_timeout(&mut self, timeout: Duration) -> Result<()> {
        self.conn.busy_timeout(timeout).map_err(|err| self.sql(err))
    }

    fn error(&self, message: impl Into<String>) -> Error {
        named(Error::store(message), self.name.as_deref())
    }

    fn sql(&self, err: rusqlite::Error) -> Error {
        sql_error(err, self.name.as_deref())
    }

    /// Checks that an import's transaction is open (and was not ended by SQLite after an I/O
    /// error), so that no write ever lands outside it.
    fn writable(&self) -> Result<()> {
        if !self.in_transaction {
            return Err(named(no_transaction(), self.name.as_deref()));
        }
        if self.poisoned {
            return Err(self.error(
                "a failed write could not be undone, so this import cannot go on; roll it back and run it again",
            ));
        }
        if self.conn.is_autocommit() {
            return Err(self.error(
                "the import's transaction was ended by an earlier error; roll it back and run the import again",
            ));
        }
        Ok(())
    }

    /// Runs one write call: all of it, or nothing of it. Calls that only add rows undo themselves
    /// by deleting what they added (cheaper than a savepoint, whose journal copies every page the
    /// call touches); calls that change rows run inside a savepoint.
    fn batch(&mut self, undo: Undo, write: impl FnOnce(&mut Writer<'_>) -> Result<()>) -> Result<()> {
        self.writable()?;
        if undo == Undo::Savepoint {
            self.conn.execute_batch("SAVEPOINT write_call").map_err(|err| self.sql(err))?;
        }
        let now = timestamp(SystemTime::now());
        let mut writer = Writer::new(&self.conn, &mut self.ids, self.name.as_deref(), &now);
        let written = write(&mut writer);
        let undone = match (&written, undo) {
            (Err(_), Undo::DeleteAdded) => writer.delete_added(),
            _ => Ok(()),
        };
        drop(writer);
        match written {
            Ok(()) if undo == Undo::Savepoint => {
                self.conn.execute_batch("RELEASE write_call").map_err(|err| self.sql(err))
            }
            Ok(()) => Ok(()),
            Err(err) => {
                self.ids.clear();
                if undo == Undo::Savepoint && !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK TO write_call; RELEASE write_call");
                }
                if undone.is_err() {
                    self.poisoned = true;
                }
                Err(err)
            }
        }
    }

    /// The user with this login (ignoring case), with the store's record of it.
    ///
    /// # Errors
    ///
    /// When the database cannot be read.
    pub fn get(&self, login: &str) -> Result<Option<StoredUser>> {
        let mut users = self.query_users("u.login_key = ?1", &[&login_key(login)], "")?;
        Ok(users.pop())
    }

    /// The users whose login, email or name ("first last") contains `query`, ignoring case, in
    /// order of login.
    ///
    /// # Errors
    ///
    /// When the database cannot be read.
    pub fn search(&self, query: &str) -> Result<Vec<StoredUser>> {
        let needle = login_key(query);
        self.query_users(
            "instr(u.login_key, ?1) > 0 OR instr(u.email_key, ?1) > 0 OR instr(u.name_key, ?1) > 0",
            &[&needle],
            "ORDER BY u.login_key",
        )
    }

    /// The users with this status, in order of login.
    ///
    /// # Errors
    ///
    /// When the database cannot be read.
    pub fn list_by_status(&self, status: Status) -> Result<Vec<StoredUser>> {
        self.query_users("u.status = ?1", &[&status.as_str()], "ORDER BY u.login_key")
    }

    /// A page of users in order of login: at most `limit`, after skipping `offset`.
    ///
    /// # Errors
    ///
    /// When the database cannot be read.
    pub fn list(&self, offset: usize, limit: usize) -> Result<Vec<StoredUser>> {
        let (offset, limit) = (i64::try_from(offset).unwrap_or(i64::MAX), i64::try_from(limit).unwrap_or(i64::MAX));
        self.query_users("1", &[&limit, &offset], "ORDER BY u.login_key LIMIT ?1 OFFSET ?2")
    }

    /// The number of users.
    ///
    /// # Errors
    ///
    /// When the database cannot be read.
    pub fn count(&self) -> Result<u64> {
        let count: i64 =
            self.conn.query_row("SELECT count(*) FROM users", [], |row| row.get(0)).map_err(|err| self.sql(err))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Sets the user's status to disabled; `false` when there is no such user. Inside an import's
    /// transaction it is part of it; otherwise it is saved at once.
    ///
    /// # Errors
    ///
    /// When the database cannot be written (locked by an import for longer than the timeout).
    pub fn deactivate(&self, login: &str) -> Result<bool> {
        let now = timestamp(SystemTime::now());
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE users SET status = 'disabled', updated_at = ?2, version = version + 1 WHERE login_key = ?1",
            )
            .and_then(|mut statement| statement.execute(params![login_key(login), now]))
            .map_err(|err| self.sql(err))?;
        Ok(changed > 0)
    }

    /// Records that the user's invitation was sent again (the time, and one more to the count);
    /// `false` when there is no such user.
    ///
    /// # Errors
    ///
    /// When the database cannot be written.
    pub fn mark_invitation_resent(&self, login: &str) -> Result<bool> {
        let now = timestamp(SystemTime::now());
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE users SET invitation_sent_at = ?2, invitations_sent = invitations_sent + 1, updated_at = ?2, \
                 version = version + 1 WHERE login_key = ?1",
            )
            .and_then(|mut statement| statement.execute(params![login_key(login), now]))
            .map_err(|err| self.sql(err))?;
        Ok(changed > 0)
    }

    /// The custom fields every user has, by name.
    ///
    /// # Errors
    ///
    /// When the database cannot be read.
    pub fn custom_fields(&self) -> Result<Vec<CustomField>> {
        let mut statement =
            self.conn.prepare_cached("SELECT definition FROM custom_fields ORDER BY name").map_err(|e| self.sql(e))?;
        let definitions = statement
            .query_map([], |row| row.get::<_, String>(0))
            .and_then(Iterator::collect::<rusqlite::Result<Vec<String>>>)
            .map_err(|err| self.sql(err))?;
        definitions
            .iter()
            .map(|json| serde_json::from_str(json).map_err(|err| self.damaged(format!("a custom field: {err}"))))
            .collect()
    }

    /// The groups, by name.
    ///
    /// # Errors
    ///
    /// When the database cannot be read.
    pub fn groups(&self) -> Result<Vec<String>> {
        let mut statement =
            self.conn.prepare_cached("SELECT name FROM groups ORDER BY name").map_err(|e| self.sql(e))?;
        statement
            .query_map([], |row| row.get(0))
            .and_then(Iterator::collect::<rusqlite::Result<Vec<String>>>)
            .map_err(|err| self.sql(err))
    }

    /// The imports recorded, oldest first.
    ///
    /// # Errors
    ///
    /// When the database cannot be read.
    pub fn import_log(&self) -> Result<Vec<ImportLogEntry>> {
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT at, file_name, comment, mode, created, updated, unchanged, skipped, failed FROM import_log \
                 ORDER BY id",
            )
            .map_err(|err| self.sql(err))?;
        let rows = statement
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, String>(3)?,
                    [row.get::<_, i64>(4)?, row.get(5)?, row.get(6)?, row.get(7)?, row.get(8)?],
                ))
            })
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
            .map_err(|err| self.sql(err))?;
        rows.into_iter()
            .map(|(at, file_name, comment, mode, counts)| {
                let mode: Mode = serde_json::from_value(serde_json::Value::String(mode))
                    .map_err(|err| self.damaged(format!("an import's mode: {err}")))?;
                let [created, updated, unchanged, skipped, failed] = counts.map(|n| u64::try_from(n).unwrap_or(0));
                Ok(ImportLogEntry {
                    at: self.time(&at)?,
                    file_name,
                    comment,
                    mode,
                    created,
                    updated,
                    unchanged,
                    skipped,
                    failed,
                })
            })
            .collect()
    }

    fn damaged(&self, what: String) -> Error {
        self.error(format!("the database is damaged: {what} cannot be read; restore it from a backup"))
    }

    fn time(&self, text: &str) -> Result<SystemTime> {
        DateTime::parse_from_rfc3339(text)
            .map(SystemTime::from)
            .map_err(|err| self.damaged(format!("the time '{text}' ({err})")))
    }

    /// Reads the users a filter selects, with everything they are given.
    fn query_users(&self, filter: &str, args: &[&dyn rusqlite::ToSql], tail: &str) -> Result<Vec<StoredUser>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u LEFT JOIN users s ON s.id = u.superior_id WHERE {filter} {tail}"
        );
        let mut statement = self.conn.prepare_cached(&sql).map_err(|err| self.sql(err))?;
        let rows = statement
            .query_map(args, RawUser::read)
            .and_then(Iterator::collect::<rusqlite::Result<Vec<RawUser>>>)
            .map_err(|err| self.sql(err))?;
        let mut users = rows.into_iter().map(|raw| raw.into_stored(self)).collect::<Result<Vec<_>>>()?;
        self.attach_details(&mut users)?;
        Ok(users)
    }

    /// Fills roles, groups, products and custom values of users read from the users table.
    fn attach_details(&self, users: &mut [StoredUser]) -> Result<()> {
        if users.is_empty() {
            return Ok(());
        }
        let fields = self.field_kinds()?;
        let at: HashMap<i64, usize> = users.iter().enumerate().map(|(i, u)| (u.id, i)).collect();
        for user in users.iter_mut() {
            user.custom_fields = fields.keys().map(|name| (name.clone(), None)).collect();
        }
        let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
        for chunk in ids.chunks(BATCH) {
            let json = json_array(chunk);
            self.for_each_row(
                "SELECT ur.user_id, r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
                 WHERE ur.user_id IN (SELECT value FROM json_each(?1)) ORDER BY ur.user_id, ur.position",
                &json,
                |row| {
                    if let Some(user) = at.get(&row.get(0)?).and_then(|&i| users.get_mut(i)) {
                        user.user.roles.push(Role::new(row.get_ref(1)?.as_str()?));
                    }
                    Ok(())
                },
            )?;
            self.for_each_row(
                "SELECT ug.user_id, g.name FROM user_groups ug JOIN groups g ON g.id = ug.group_id \
                 WHERE ug.user_id IN (SELECT value FROM json_each(?1)) ORDER BY ug.user_id, ug.position",
                &json,
                |row| {
                    if let Some(user) = at.get(&row.get(0)?).and_then(|&i| users.get_mut(i)) {
                        user.user.groups.push(row.get(1)?);
                    }
                    Ok(())
                },
            )?;
            self.for_each_row(
                "SELECT user_id, product_id, role FROM user_products WHERE user_id IN (SELECT value FROM json_each(?1))",
                &json,
                |row| {
                    if let Some(user) = at.get(&row.get(0)?).and_then(|&i| users.get_mut(i)) {
                        let access = match row.get_ref(2)?.as_str_or_null()? {
                            Some(role) => ProductAccess::Role(Role::new(role)),
                            None => ProductAccess::Granted,
                        };
                        user.user.products.insert(row.get(1)?, access);
                    }
                    Ok(())
                },
            )?;
            self.for_each_row(
                "SELECT v.user_id, f.name, f.kind, v.value FROM user_custom_values v \
                 JOIN custom_fields f ON f.id = v.field_id WHERE v.user_id IN (SELECT value FROM json_each(?1))",
                &json,
                |row| {
                    if let Some(user) = at.get(&row.get(0)?).and_then(|&i| users.get_mut(i)) {
                        let name: String = row.get(1)?;
                        let value = decode_custom(kind_from_sql(row.get_ref(2)?.as_str()?), row.get_ref(3)?.as_str()?);
                        user.user.custom.insert(name.clone(), value.clone());
                        user.custom_fields.insert(name, Some(value));
                    }
                    Ok(())
                },
            )?;
        }
        Ok(())
    }

    fn for_each_row(
        &self,
        sql: &str,
        json: &str,
        mut each: impl FnMut(&Row<'_>) -> rusqlite::Result<()>,
    ) -> Result<()> {
        let mut statement = self.conn.prepare_cached(sql).map_err(|err| self.sql(err))?;
        let mut rows = statement.query([json]).map_err(|err| self.sql(err))?;
        while let Some(row) = rows.next().map_err(|err| self.sql(err))? {
            each(row).map_err(|err| self.sql(err))?;
        }
        Ok(())
    }

    /// Every custom field's kind, by name.
    fn field_kinds(&self) -> Result<BTreeMap<String, CustomKind>> {
        let mut statement =
            self.conn.prepare_cached("SELECT name, kind FROM custom_fields").map_err(|e| self.sql(e))?;
        statement
            .query_map([], |row| Ok((row.get::<_, String>(0)?, kind_from_sql(row.get_ref(1)?.as_str()?))))
            .and_then(Iterator::collect::<rusqlite::Result<BTreeMap<_, _>>>)
            .map_err(|err| self.sql(err))
    }

    /// The users whose `column` (a key column) is one of `keys`, in batches.
    /// Whether the store has any user (a first import asks about a million logins of an empty
    /// store: one indexed read answers them all).
    fn has_users(&self) -> Result<bool> {
        let mut statement =
            self.conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM users)").map_err(|err| self.sql(err))?;
        statement.query_row([], |row| row.get(0)).map_err(|err| self.sql(err))
    }

    fn find_by(&self, column: &str, keys: &[&str]) -> Result<Vec<User>> {
        if keys.is_empty() || !self.has_users()? {
            return Ok(Vec::new());
        }
        let keys = sorted_keys(keys);
        let mut found = Vec::new();
        for chunk in keys.chunks(BATCH) {
            let json = json_array(chunk);
            let filter = format!("u.{column} IN (SELECT value FROM json_each(?1))");
            found.extend(self.query_users(&filter, &[&json], "")?.into_iter().map(|stored| stored.user));
        }
        Ok(found)
    }
}

/// A user row as read, before its times are parsed.
struct RawUser {
    id: i64,
    user: User,
    created_at: String,
    updated_at: String,
    version: i64,
    invitation_sent_at: Option<String>,
    invitations_sent: i64,
}

impl RawUser {
    fn read(row: &Row<'_>) -> rusqlite::Result<RawUser> {
        let mut user = User::new(row.get::<_, String>(1)?, row.get::<_, String>(2)?, row.get::<_, String>(3)?);
        user.email = row.get(4)?;
        user.password = row.get::<_, Option<String>>(5)?.map(Password::new);
        user.status = row.get_ref(6)?.as_str()?.parse().unwrap_or_default();
        user.hq_role = row.get_ref(7)?.as_str_or_null()?.and_then(|role| role.parse::<HqRole>().ok());
        user.timezone = row.get_ref(8)?.as_str_or_null()?.and_then(|tz| tz.parse::<chrono_tz::Tz>().ok());
        user.reference = row.get(9)?;
        user.superior = row.get(10)?;
        Ok(RawUser {
            id: row.get(0)?,
            user,
            created_at: row.get(11)?,
            updated_at: row.get(12)?,
            version: row.get(13)?,
            invitation_sent_at: row.get(14)?,
            invitations_sent: row.get(15)?,
        })
    }

    fn into_stored(self, store: &SqliteStore) -> Result<StoredUser> {
        Ok(StoredUser {
            id: self.id,
            created_at: store.time(&self.created_at)?,
            updated_at: store.time(&self.updated_at)?,
            version: u64::try_from(self.version).unwrap_or(0),
            invitation_sent_at: self.invitation_sent_at.as_deref().map(|at| store.time(at)).transpose()?,
            invitations_sent: u32::try_from(self.invitations_sent).unwrap_or(u32::MAX),
            user: self.user,
            custom_fields: BTreeMap::new(),
        })
    }
}

/// The statements every user written runs, prepared once per write call.
#[derive(Clone, Copy)]
enum Hot {
    InsertUser,
    UpdateUser,
    SuperiorId,
    /// One row of a detail table.
    Row(Detail),
    /// [`ROWS_PER_INSERT`] rows of a detail table.
    Rows(Detail),
}

/// The tables of what users are given, one row per role, group, product or custom value.
#[derive(Clone, Copy)]
enum Detail {
    Role,
    Group,
    Product,
    Custom,
}

/// Detail rows written by one multi-row INSERT.
const ROWS_PER_INSERT: usize = 64;

/// Detail rows gathered before they are written.
const DETAILS_BUFFERED: usize = 4 * 1024;

impl Detail {
    fn insert(self) -> &'static str {
        match self {
            Detail::Role => "INSERT OR IGNORE INTO user_roles (user_id, role_id, position) VALUES ",
            Detail::Group => "INSERT OR IGNORE INTO user_groups (user_id, group_id, position) VALUES ",
            Detail::Product => "INSERT INTO user_products (user_id, product_id, role) VALUES ",
            Detail::Custom => "INSERT INTO user_custom_values (user_id, field_id, value) VALUES ",
        }
    }
}

impl Hot {
    const COUNT: usize = 11;

    fn index(self) -> usize {
        match self {
            Hot::InsertUser => 0,
            Hot::UpdateUser => 1,
            Hot::SuperiorId => 2,
            Hot::Row(detail) => 3 + detail as usize,
            Hot::Rows(detail) => 7 + detail as usize,
        }
    }

    fn sql(self) -> String {
        match self {
            Hot::InsertUser => {
                "INSERT INTO users (login, login_key, first_name, last_name, name_key, email, email_key, \
                 password_hash, status, hq_role, timezone, reference, superior_id, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)"
                    .to_string()
            }
            Hot::UpdateUser => {
                "UPDATE users SET login = ?2, first_name = ?3, last_name = ?4, name_key = ?5, email = ?6, \
                 email_key = ?7, password_hash = coalesce(?8, password_hash), status = ?9, hq_role = ?10, \
                 timezone = ?11, reference = ?12, superior_id = ?13, updated_at = ?14, version = version + 1 \
                 WHERE login_key = ?1 RETURNING id"
                    .to_string()
            }
            Hot::SuperiorId => "SELECT id FROM users WHERE login_key = ?1".to_string(),
            Hot::Row(detail) => format!("{}(?, ?, ?)", detail.insert()),
            Hot::Rows(detail) => format!("{}{}", detail.insert(), ["(?, ?, ?)"; ROWS_PER_INSERT].join(", ")),
        }
    }
}

/// Detail rows of users written in this call, before they are inserted many at a time.
#[derive(Default)]
struct Details<'u> {
    roles: Vec<[i64; 3]>,
    groups: Vec<[i64; 3]>,
    products: Vec<(i64, &'u str, Option<&'u str>)>,
    custom: Vec<(i64, i64, String)>,
}

impl Details<'_> {
    fn len(&self) -> usize {
        self.roles.len() + self.groups.len() + self.products.len() + self.custom.len()
    }
}

/// Writes of one call, inside its savepoint.
struct Writer<'a> {
    conn: &'a Connection,
    ids: &'a mut Ids,
    name: Option<&'a str>,
    now: &'a str,
    hot: [Option<CachedStatement<'a>>; Hot::COUNT],
    added: Added,
}

/// Rows a write call added, by table.
#[derive(Default)]
struct Added {
    users: Vec<i64>,
    roles: Vec<i64>,
    groups: Vec<i64>,
    products: Vec<String>,
    fields: Vec<i64>,
}

impl<'a> Writer<'a> {
    fn new(conn: &'a Connection, ids: &'a mut Ids, name: Option<&'a str>, now: &'a str) -> Self {
        Writer { conn, ids, name, now, hot: Default::default(), added: Added::default() }
    }

    /// One of the hot statements, prepared on first use in this call.
    fn hot(&mut self, which: Hot) -> Result<&mut CachedStatement<'a>> {
        let (conn, name) = (self.conn, self.name);
        match self.hot.get_mut(which.index()) {
            Some(Some(statement)) => Ok(statement),
            Some(slot) => Ok(slot.insert(conn.prepare_cached(&which.sql()).map_err(|err| sql_error(err, name))?)),
            None => Err(named(Error::store("internal error: no such statement"), name)),
        }
    }

    /// Deletes what this call added, so that a refused user leaves nothing of the call behind.
    fn delete_added(&mut self) -> Result<()> {
        let added = std::mem::take(&mut self.added);
        let users = json_array(&added.users);
        for table in ["user_roles", "user_groups", "user_products", "user_custom_values"] {
            self.delete_in(&format!("DELETE FROM {table} WHERE user_id IN (SELECT value FROM json_each(?1))"), &users)?;
        }
        // One statement: superiors and subordinates of the call go together.
        self.delete_in("DELETE FROM users WHERE id IN (SELECT value FROM json_each(?1))", &users)?;
        self.delete_in("DELETE FROM roles WHERE id IN (SELECT value FROM json_each(?1))", &json_array(&added.roles))?;
        self.delete_in("DELETE FROM groups WHERE id IN (SELECT value FROM json_each(?1))", &json_array(&added.groups))?;
        self.delete_in(
            "DELETE FROM products WHERE id IN (SELECT value FROM json_each(?1))",
            &json_array(&added.products),
        )?;
        self.delete_in(
            "DELETE FROM custom_fields WHERE id IN (SELECT value FROM json_each(?1))",
            &json_array(&added.fields),
        )
    }

    fn delete_in(&self, sql: &str, json: &str) -> Result<()> {
        if json == "[]" {
            return Ok(());
        }
        self.conn.execute(sql, [json]).map(drop).map_err(|err| self.sql(err))
    }

    fn create_all(&mut self, users: &[User]) -> Result<()> {
        let mut details = Details::default();
        for user in users {
            let id = self.create(user)?;
            self.added.users.push(id);
            self.gather(id, user, &mut details)?;
            if details.len() >= DETAILS_BUFFERED {
                self.flush(&mut details)?;
            }
        }
        self.flush(&mut details)
    }

    fn update_all(&mut self, users: &[User]) -> Result<()> {
        for user in users {
            // Written at once: a user updated twice in one call has its rows replaced twice.
            let mut details = Details::default();
            let id = self.update(user)?;
            self.gather(id, user, &mut details)?;
            self.flush(&mut details)?;
        }
        Ok(())
    }

    fn sql(&self, err: rusqlite::Error) -> Error {
        sql_error(err, self.name)
    }

    fn error(&self, message: String) -> Error {
        named(Error::store(message), self.name)
    }

    fn superior_id(&mut self, user: &User) -> Result<Option<i64>> {
        let Some(superior) = &user.superior else {
            return Ok(None);
        };
        let key = login_key_cow(superior);
        if let Some(&id) = self.ids.users.get(key.as_ref()) {
            return Ok(Some(id));
        }
        let name = self.name;
        let id: Option<i64> = self
            .hot(Hot::SuperiorId)?
            .query_row([key.as_ref()], |row| row.get(0))
            .optional()
            .map_err(|err| sql_error(err, name))?;
        match id {
            Some(id) => {
                self.ids.users.insert(key.into_owned(), id);
                Ok(Some(id))
            }
            None => Err(named(missing_superior(user, superior), self.name)),
        }
    }

    fn create(&mut self, user: &User) -> Result<i64> {
        check_writable(user).map_err(|err| named(err, self.name))?;
        let key = login_key_cow(&user.login);
        if key.is_empty() {
            return Err(self.error("a user without a login cannot be stored".into()));
        }
        let superior = self.superior_id(user)?;
        let email_key = user.email.as_deref().map(login_key_cow);
        let now = self.now;
        let written = self.hot(Hot::InsertUser)?.execute(params![
            user.login,
            key,
            user.first_name,
            user.last_name,
            name_key(user),
            user.email,
            email_key,
            user.password.as_ref().map(Password::expose),
            user.status.as_str(),
            user.hq_role.map(HqRole::as_str),
            user.timezone.map(|tz| tz.name()),
            user.reference,
            superior,
            now,
        ]);
        if let Err(err) = written {
            return Err(self.refused(err, user, true));
        }
        let id = self.conn.last_insert_rowid();
        self.ids.users.insert(key.into_owned(), id);
        Ok(id)
    }

    fn update(&mut self, user: &User) -> Result<i64> {
        check_writable(user).map_err(|err| named(err, self.name))?;
        let superior = self.superior_id(user)?;
        let email_key = user.email.as_deref().map(login_key_cow);
        let now = self.now;
        let updated = self
            .hot(Hot::UpdateUser)?
            .query_row(
                params![
                    login_key_cow(&user.login),
                    user.login,
                    user.first_name,
                    user.last_name,
                    name_key(user),
                    user.email,
                    email_key,
                    user.password.as_ref().map(Password::expose),
                    user.status.as_str(),
                    user.hq_role.map(HqRole::as_str),
                    user.timezone.map(|tz| tz.name()),
                    user.reference,
                    superior,
                    now,
                ],
                |row| row.get::<_, i64>(0),
            )
            .optional();
        let id = match updated {
            Ok(Some(id)) => id,
            Ok(None) => {
                return Err(self.error(format!("user '{}' cannot be updated: there is no such user", user.login)))
            }
            Err(err) => return Err(self.refused(err, user, false)),
        };
        for table in ["user_roles", "user_groups", "user_products", "user_custom_values"] {
            self.conn
                .prepare_cached(&format!("DELETE FROM {table} WHERE user_id = ?1"))
                .and_then(|mut statement| statement.execute([id]))
                .map_err(|err| self.sql(err))?;
        }
        Ok(id)
    }

    /// Names the rule a refused user row broke.
    fn refused(&self, err: rusqlite::Error, user: &User, creating: bool) -> Error {
        let message = match &err {
            rusqlite::Error::SqliteFailure(failure, Some(message))
                if failure.code == ErrorCode::ConstraintViolation =>
            {
                message.as_str()
            }
            _ => return self.sql(err),
        };
        let exists = || {
            self.conn
                .query_row("SELECT 1 FROM users WHERE login_key = ?1", [login_key_cow(&user.login)], |_| Ok(()))
                .optional()
                .is_ok_and(|found| found.is_some())
        };
        // SQLite names the first unique index it checks; the login is what a person looks at first.
        if creating && (message.contains("users.login_key") || exists()) {
            return self.error(format!("user '{}' already exists", user.login));
        }
        if message.contains("users.email_key") {
            let email = user.email.as_deref().unwrap_or_default();
            let owner: Option<String> = self
                .conn
                .query_row("SELECT login FROM users WHERE email_key = ?1", [login_key(email)], |row| row.get(0))
                .optional()
                .unwrap_or(None);
            let owner = owner.map(|login| format!(" by user '{login}'")).unwrap_or_default();
            return self.error(format!("user '{}': the email address '{email}' is already used{owner}", user.login));
        }
        self.error(format!("user '{}' cannot be written: {message}", user.login))
    }

    /// Resolves what the user is given to ids, as rows to insert.
    fn gather<'u>(&mut self, id: i64, user: &'u User, details: &mut Details<'u>) -> Result<()> {
        for (position, role) in (0_i64..).zip(&user.roles) {
            details.roles.push([id, self.role_id(role.name())?, position]);
        }
        for (position, group) in (0_i64..).zip(user.groups.iter().filter(|g| !g.trim().is_empty())) {
            details.groups.push([id, self.group_id(group)?, position]);
        }
        for (product, access) in &user.products {
            let role = match access {
                ProductAccess::None => continue,
                ProductAccess::Role(role) => Some(role.name()),
                ProductAccess::Granted => None,
            };
            self.ensure_product(product)?;
            details.products.push((id, product.as_str(), role));
        }
        for (field, value) in &user.custom {
            let (field_id, _) = self.field(field, value)?;
            details.custom.push((id, field_id, encode_custom(value)));
        }
        Ok(())
    }

    fn flush(&mut self, details: &mut Details<'_>) -> Result<()> {
        self.insert_rows(Detail::Role, &details.roles, |row, values| values.extend(row.iter().map(as_sql)))?;
        self.insert_rows(Detail::Group, &details.groups, |row, values| values.extend(row.iter().map(as_sql)))?;
        self.insert_rows(Detail::Product, &details.products, |(id, product, role), values| {
            values.extend([as_sql(id), as_sql(product), as_sql(role)]);
        })?;
        self.insert_rows(Detail::Custom, &details.custom, |(id, field, value), values| {
            values.extend([as_sql(id), as_sql(field), as_sql(value)]);
        })?;
        details.roles.clear();
        details.groups.clear();
        details.products.clear();
        details.custom.clear();
        Ok(())
    }

    /// Inserts rows [`ROWS_PER_INSERT`] at a time, then the rest one by one.
    fn insert_rows<'r, R>(
        &mut self,
        detail: Detail,
        rows: &'r [R],
        bind: impl Fn(&'r R, &mut Vec<&'r dyn ToSql>),
    ) -> Result<()> {
        let name = self.name;
        let mut values: Vec<&dyn ToSql> = Vec::with_capacity(3 * ROWS_PER_INSERT);
        let mut chunks = rows.chunks_exact(ROWS_PER_INSERT);
        for chunk in &mut chunks {
            values.clear();
            chunk.iter().for_each(|row| bind(row, &mut values));
            self.hot(Hot::Rows(detail))?.execute(params_from_iter(&values)).map_err(|err| sql_error(err, name))?;
        }
        for row in chunks.remainder() {
            values.clear();
            bind(row, &mut values);
            self.hot(Hot::Row(detail))?.execute(params_from_iter(&values)).map_err(|err| sql_error(err, name))?;
        }
        Ok(())
    }

    /// The id of the row named `name` in `table` (`roles` or `groups`), created when missing.
    fn named_id(&mut self, table: &str, name: &str) -> Result<i64> {
        let existing: Option<i64> = self
            .conn
            .prepare_cached(&format!("SELECT id FROM {table} WHERE name = ?1"))
            .and_then(|mut statement| statement.query_row([name], |row| row.get(0)).optional())
            .map_err(|err| self.sql(err))?;
        if let Some(id) = existing {
            return Ok(id);
        }
        self.conn
            .prepare_cached(&format!("INSERT INTO {table} (name) VALUES (?1)"))
            .and_then(|mut statement| statement.execute([name]))
            .map_err(|err| self.sql(err))?;
        let id = self.conn.last_insert_rowid();
        match table {
            "roles" => self.added.roles.push(id),
            _ => self.added.groups.push(id),
        }
        Ok(id)
    }

    fn role_id(&mut self, name: &str) -> Result<i64> {
        if let Some(&id) = self.ids.roles.get(name) {
            return Ok(id);
        }
        let id = self.named_id("roles", name)?;
        self.ids.roles.insert(name.to_string(), id);
        Ok(id)
    }

    fn group_id(&mut self, name: &str) -> Result<i64> {
        if let Some(&id) = self.ids.groups.get(name) {
            return Ok(id);
        }
        let id = self.named_id("groups", name)?;
        self.ids.groups.insert(name.to_string(), id);
        Ok(id)
    }

    fn ensure_product(&mut self, product: &str) -> Result<()> {
        if self.ids.products.contains(product) {
            return Ok(());
        }
        let inserted = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO products (id, name) VALUES (?1, ?1)")
            .and_then(|mut statement| statement.execute([product]))
            .map_err(|err| self.sql(err))?;
        if inserted > 0 {
            self.added.products.push(product.to_string());
        }
        self.ids.products.insert(product.to_string());
        Ok(())
    }

    /// The id and kind of a custom field, registered (with the value's kind) when missing.
    fn field(&mut self, name: &str, value: &CustomValue) -> Result<(i64, CustomKind)> {
        if let Some(&known) = self.ids.fields.get(name) {
            return Ok(known);
        }
        let existing: Option<(i64, String)> = self
            .conn
            .prepare_cached("SELECT id, kind FROM custom_fields WHERE name = ?1")
            .and_then(|mut statement| statement.query_row([name], |row| Ok((row.get(0)?, row.get(1)?))).optional())
            .map_err(|err| self.sql(err))?;
        let known = match existing {
            Some((id, kind)) => (id, kind_from_sql(&kind)),
            None => {
                let field = custom_field_for(name, value);
                self.add_field(&field)?;
                let id = self.conn.last_insert_rowid();
                self.added.fields.push(id);
                (id, field.kind)
            }
        };
        self.ids.fields.insert(name.to_string(), known);
        Ok(known)
    }

    /// Registers a custom field; an existing name is left alone.
    fn add_field(&self, field: &CustomField) -> Result<usize> {
        let definition = serde_json::to_string(field)
            .map_err(|err| self.error(format!("the custom field '{}' cannot be saved: {err}", field.name)))?;
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO custom_fields (name, kind, definition) VALUES (?1, ?2, ?3)")
            .and_then(|mut statement| statement.execute(params![field.name, kind_to_sql(field.kind), definition]))
            .map_err(|err| self.sql(err))
    }
}

impl Directory for SqliteStore {
    fn is_empty(&self) -> Result<bool> {
        Ok(!self.has_users()?)
    }

    fn find_by_logins(&self, logins: &[&str]) -> Result<Vec<User>> {
        self.find_by("login_key", logins)
    }

    fn find_by_emails(&self, emails: &[&str]) -> Result<Vec<User>> {
        self.find_by("email_key", emails)
    }

    /// Hashes each login with its row id and version (bumped by every write, even by another
    /// program, through a trigger): exact, and one indexed read per 500 logins.
    fn fingerprint(&self, logins: &[&str]) -> Result<u64> {
        self.fingerprint_iter(&mut logins.iter().copied())
    }

    fn fingerprint_iter(&self, logins: &mut dyn Iterator<Item = &str>) -> Result<u64> {
        if !self.has_users()? {
            return Ok(0);
        }
        // A batch at a time: its keys are made once, looked up, and hashed (a million logins
        // would otherwise hold 24 MB of keys).
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT login_key, id, version FROM users WHERE login_key IN (SELECT value FROM json_each(?1))",
            )
            .map_err(|err| self.sql(err))?;
        let mut set = SetHash::with_capacity(logins.size_hint().0);
        let mut versions = HashMap::new();
        let mut chunk: Vec<&str> = Vec::with_capacity(BATCH);
        loop {
            chunk.clear();
            chunk.extend((&mut *logins).take(BATCH));
            if chunk.is_empty() {
                break;
            }
            let keys: Vec<std::borrow::Cow<'_, str>> = chunk.iter().map(|l| crate::model::login_key_cow(l)).collect();
            versions.clear();
            let mut rows = statement.query([json_array(&keys)]).map_err(|err| self.sql(err))?;
            while let Some(row) = rows.next().map_err(|err| self.sql(err))? {
                let read = (|| {
                    Ok::<_, rusqlite::Error>((row.get::<_, String>(0)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
                })();
                let (key, id, version) = read.map_err(|err| self.sql(err))?;
                versions.insert(key, (id, version));
            }
            drop(rows);
            // A login nobody has adds nothing.
            for key in &keys {
                let Some(&(id, version)) = versions.get(key.as_ref()) else { continue };
                let mut hasher = set.key(key);
                hasher.write_bytes(&id.to_le_bytes());
                hasher.write_bytes(&version.to_le_bytes());
                set.add(hasher);
            }
        }
        Ok(set.finish())
    }
}

impl UserStore for SqliteStore {
    fn begin(&mut self) -> Result<()> {
        if self.in_transaction {
            return Err(named(already_in_transaction(), self.name.as_deref()));
        }
        // IMMEDIATE takes the write lock now, waiting (busy timeout) for another import to finish,
        // rather than failing halfway through this one.
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(|err| self.sql(err))?;
        self.in_transaction = true;
        self.poisoned = false;
        self.ids.clear();
        Ok(())
    }

    fn create_users(&mut self, users: &[User]) -> Result<()> {
        self.batch(Undo::DeleteAdded, |writer| writer.create_all(users))
    }

    fn update_users(&mut self, users: &[User]) -> Result<()> {
        self.batch(Undo::Savepoint, |writer| writer.update_all(users))
    }

    fn create_groups(&mut self, groups: &[String]) -> Result<()> {
        self.batch(Undo::Savepoint, |writer| {
            groups
                .iter()
                .filter(|group| !group.trim().is_empty())
                .try_for_each(|group| writer.group_id(group).map(drop))
        })
    }

    fn add_custom_fields(&mut self, fields: &[CustomField]) -> Result<()> {
        self.batch(Undo::Savepoint, |writer| fields.iter().try_for_each(|field| writer.add_field(field).map(drop)))
    }

    fn log_import(&mut self, entry: &ImportLogEntry) -> Result<()> {
        let mode = match entry.mode {
            Mode::CreateOnly => "create_only",
            Mode::UpdateOnly => "update_only",
            Mode::Upsert => "upsert",
        };
        let counts = [entry.created, entry.updated, entry.unchanged, entry.skipped, entry.failed]
            .map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        let at = timestamp(entry.at);
        self.batch(Undo::Savepoint, |writer| {
            writer
                .conn
                .prepare_cached(
                    "INSERT INTO import_log (at, file_name, comment, mode, created, updated, unchanged, skipped, failed) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .and_then(|mut statement| {
                    statement.execute(params![
                        at,
                        entry.file_name,
                        entry.comment,
                        mode,
                        counts[0],
                        counts[1],
                        counts[2],
                        counts[3],
                        counts[4]
                    ])
                })
                .map(drop)
                .map_err(|err| writer.sql(err))
        })
    }

    fn commit(&mut self) -> Result<()> {
        self.writable()?;
        self.conn.execute_batch("COMMIT").map_err(|err| self.sql(err))?;
        self.in_transaction = false;
        self.ids.clear();
        Ok(())
    }

    fn rollback(&mut self) -> Result<()> {
        self.ids.clear();
        self.poisoned = false;
        if !self.in_transaction {
            return Ok(());
        }
        self.in_transaction = false;
        if self.conn.is_autocommit() {
            return Ok(()); // SQLite already rolled back (after an I/O error, say)
        }
        self.conn.execute_batch("ROLLBACK").map_err(|err| self.sql(err))
    }
}

fn as_sql<T: ToSql>(value: &T) -> &dyn ToSql {
    value
}

fn named(err: Error, name: Option<&str>) -> Error {
    match name {
        Some(name) => err.with_file(name),
        None => err,
    }
}

/// A message a person can act on, for each way SQLite fails.
fn sql_error(err: rusqlite::Error, name: Option<&str>) -> Error {
    let message = match &err {
        rusqlite::Error::SqliteFailure(failure, detail) => match failure.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                "the database is locked by another import; try again when it has finished".to_string()
            }
            ErrorCode::NotADatabase => {
                "this file is not a SQLite database (or it is damaged); choose the users database".to_string()
            }
            ErrorCode::DatabaseCorrupt => {
                "the database is damaged; restore it from a backup (PRAGMA integrity_check tells what is wrong)"
                    .to_string()
            }
            ErrorCode::ReadOnly | ErrorCode::PermissionDenied => {
                "the database cannot be written; check the permissions of the file and of its folder".to_string()
            }
            ErrorCode::DiskFull => "the disk is full; free some space and run the import again".to_string(),
            ErrorCode::CannotOpen => {
                "the database cannot be opened; check that its folder exists and can be written".to_string()
            }
            ErrorCode::SystemIoFailure => "the database cannot be read or written (input/output error)".to_string(),
            _ => format!("the database failed: {}", detail.as_deref().unwrap_or("unknown SQLite error")),
        },
        other => format!("the database failed: {other}"),
    };
    named(Error::store(message), name)
}

/// RFC 3339 in UTC with nanoseconds: exact, and sorts as text.
fn timestamp(at: SystemTime) -> String {
    DateTime::<Utc>::from(at).to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn name_key(user: &User) -> String {
    let mut key = String::with_capacity(user.first_name.len() + user.last_name.len() + 1);
    key.push_str(user.first_name.trim());
    key.push(' ');
    key.push_str(user.last_name.trim());
    login_key(&key)
}

/// A JSON array of keys or ids, for `json_each`.
fn json_array<T: serde::Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_string())
}

fn kind_to_sql(kind: CustomKind) -> &'static str {
    match kind {
        CustomKind::Text => "text",
        CustomKind::Number => "number",
        CustomKind::Date => "date",
        CustomKind::Boolean => "boolean",
        CustomKind::OneOf => "one_of",
    }
}

fn kind_from_sql(kind: &str) -> CustomKind {
    match kind {
        "number" => CustomKind::Number,
        "date" => CustomKind::Date,
        "boolean" => CustomKind::Boolean,
        "one_of" => CustomKind::OneOf,
        _ => CustomKind::Text,
    }
}

/// A custom value as stored: plain text a person (or SQL) can read.
fn encode_custom(value: &CustomValue) -> String {
    match value {
        CustomValue::Bool(b) => b.to_string(),
        // `Display` of an f64 is the shortest text that parses back to the same number.
        CustomValue::Number(n) => n.to_string(),
        CustomValue::Date(d) => d.format("%Y-%m-%d").to_string(),
        CustomValue::Text(t) => t.clone(),
    }
}

/// A stored custom value, read as its field's kind (text when it does not parse as that kind).
fn decode_custom(kind: CustomKind, text: &str) -> CustomValue {
    let typed = match kind {
        CustomKind::Boolean => match text {
            "true" => Some(CustomValue::Bool(true)),
            "false" => Some(CustomValue::Bool(false)),
            _ => None,
        },
        CustomKind::Number => text.parse::<f64>().ok().map(CustomValue::Number),
        CustomKind::Date => NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().map(CustomValue::Date),
        _ => None,
    };
    typed.unwrap_or_else(|| CustomValue::Text(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn integrity(conn: &Connection) -> String {
        conn.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap()
    }

    #[test]
    fn an_older_database_is_upgraded_and_keeps_its_users() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.db");
        {
            let store = SqliteStore::open(&path).unwrap();
            // Roll the file back to schema 1, as a release that knew only the first script wrote it.
            store
                .conn
                .execute_batch("DROP TRIGGER users_version; DROP TABLE import_log; PRAGMA user_version = 1;")
                .unwrap();
            store
                .conn
                .execute(
                    "INSERT INTO users (login, login_key, first_name, last_name, name_key, status, created_at, updated_at) \
                     VALUES ('Ada', 'ada', 'Ada', 'Lovelace', 'ada lovelace', 'active', ?1, ?1)",
                    [timestamp(SystemTime::now())],
                )
                .unwrap();
            assert_eq!(store.schema_version().unwrap(), 1);
        }
        let mut store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SqliteStore::SCHEMA_VERSION);
        assert_eq!(store.get("ADA").unwrap().unwrap().user.last_name, "Lovelace");
        store.begin().unwrap();
        store.log_import(&ImportLogEntry::new(Mode::Upsert)).unwrap();
        store.commit().unwrap();
        assert_eq!(store.import_log().unwrap().len(), 1);
        store.conn.execute("UPDATE users SET first_name = 'Augusta' WHERE login_key = 'ada'", []).unwrap();
        assert_eq!(store.get("ada").unwrap().unwrap().version, 2, "the trigger of schema 2 counts outside writes");
        assert_eq!(integrity(&store.conn), "ok");
    }

    #[test]
    fn a_database_from_a_newer_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.db");
        SqliteStore::open(&path).unwrap().conn.pragma_update(None, "user_version", 99).unwrap();
        let err = SqliteStore::open(&path).unwrap_err();
        assert_eq!(
            err.to_string(),
            "users.db: the database was written by a newer version of user-import (schema version 99; this version \
             reads up to 2); upgrade user-import to open it"
        );
        assert_eq!(err.code(), crate::IssueCode::Unreadable);
    }

    /// Several imports creating the same store at once: each opens it (one creates the tables,
    /// the others wait and find them), none takes the first one's tables for a stranger's.
    #[test]
    fn a_new_store_opened_by_many_at_once_opens_for_all() {
        let dir = tempfile::tempdir().unwrap();
        // The window is a few microseconds wide: the code before the fix failed within a few
        // hundred rounds.
        for round in 0..400 {
            let path = dir.path().join(format!("users{round}.db"));
            let start = std::sync::Barrier::new(6);
            std::thread::scope(|scope| {
                let opened: Vec<_> = (0..6)
                    .map(|_| {
                        scope.spawn(|| {
                            start.wait();
                            SqliteStore::open(&path).map(|_| ()).map_err(|err| err.to_string())
                        })
                    })
                    .collect();
                for opened in opened {
                    assert_eq!(opened.join().unwrap(), Ok(()), "round {round}");
                }
            });
        }
    }

    #[test]
    fn other_files_are_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("users.csv");
        std::fs::write(&csv, "login,email\nada,ada@example.com\n".repeat(100)).unwrap();
        let err = SqliteStore::open(&csv).unwrap_err();
        assert!(err.to_string().starts_with("users.csv: this file is not a SQLite database"), "{err}");
        assert_eq!(std::fs::read(&csv).unwrap(), "login,email\nada,ada@example.com\n".repeat(100).as_bytes());

        let other = dir.path().join("app.db");
        Connection::open(&other).unwrap().execute_batch("CREATE TABLE things (id INTEGER PRIMARY KEY)").unwrap();
        let err = SqliteStore::open(&other).unwrap_err();
        assert!(err.to_string().contains("another application's tables"), "{err}");
        Connection::open(&other).unwrap().pragma_update(None, "application_id", 42).unwrap();
        let err = SqliteStore::open(&other).unwrap_err();
        assert!(err.to_string().contains("belongs to another application"), "{err}");

        let missing = dir.path().join("no/such/folder/users.db");
        let err = SqliteStore::open(missing).unwrap_err();
        assert!(err.to_string().starts_with("users.db: the database cannot be opened"), "{err}");
    }

    #[test]
    fn custom_values_are_stored_as_text_and_read_as_their_kind() {
        let date = NaiveDate::from_ymd_opt(2024, 1, 15).unwrap();
        for (kind, value) in [
            (CustomKind::Boolean, CustomValue::Bool(true)),
            (CustomKind::Number, CustomValue::Number(-3.25)),
            (CustomKind::Number, CustomValue::Number(0.1 + 0.2)),
            (CustomKind::Date, CustomValue::Date(date)),
            (CustomKind::Text, CustomValue::Text("R&D".into())),
            (CustomKind::OneOf, CustomValue::Text("true".into())),
        ] {
            assert_eq!(decode_custom(kind, &encode_custom(&value)), value);
        }
        assert_eq!(decode_custom(CustomKind::Number, "n/a"), CustomValue::Text("n/a".into()));
        for kind in [CustomKind::Text, CustomKind::Number, CustomKind::Date, CustomKind::Boolean, CustomKind::OneOf] {
            assert_eq!(kind_from_sql(kind_to_sql(kind)), kind);
        }
    }

    #[test]
    fn timestamps_are_exact_and_sort_as_text() {
        let store = SqliteStore::open_in_memory().unwrap();
        let at = SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000, 5);
        assert_eq!(store.time(&timestamp(at)).unwrap(), at);
        assert!(timestamp(at) < timestamp(at + Duration::from_millis(500)));
        assert!(store.time("yesterday").unwrap_err().to_string().contains("damaged"));
    }

    #[test]
    fn writes_outside_an_import_are_refused_and_begin_does_not_nest() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        let err = store.create_users(&[User::new("ada", "Ada", "L")]).unwrap_err();
        assert!(err.to_string().contains("call begin first"), "{err}");
        store.rollback().unwrap();
        store.begin().unwrap();
        assert!(store.begin().unwrap_err().to_string().contains("already in progress"));
        store.rollback().unwrap();
        assert_eq!(store.count().unwrap(), 0);
    }

    #[test]
    fn a_refused_user_deletes_everything_its_call_added() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        store.begin().unwrap();
        store.create_users(&[User::new("boss", "Big", "Boss")]).unwrap();
        let tables = |store: &SqliteStore| -> Vec<i64> {
            ["users", "roles", "groups", "products", "custom_fields", "user_roles", "user_groups", "user_products"]
                .iter()
                .map(|table| store.conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap())
                .collect()
        };
        let before = tables(&store);
        let mut ada = User::new("ada", "Ada", "Lovelace");
        ada.superior = Some("boss".into());
        ada.roles = vec![Role::new("New role")];
        ada.groups = vec!["New group".into()];
        ada.products.insert("new-product".into(), ProductAccess::Granted);
        ada.custom.insert("new field".into(), CustomValue::Bool(true));
        let mut bob = User::new("bob", "Bob", "Smith");
        bob.superior = Some("ada".into());
        bob.roles = ada.roles.clone();
        let err = store.create_users(&[ada.clone(), bob.clone(), User::new("BOSS", "Dup", "")]).unwrap_err();
        assert!(err.to_string().contains("user 'BOSS' already exists"), "{err}");
        assert_eq!(tables(&store), before);
        // The caches forgot the deleted ids: the same users can be written now.
        store.create_users(&[ada, bob]).unwrap();
        store.commit().unwrap();
        assert_eq!(store.get("bob").unwrap().unwrap().user.roles, [Role::new("New role")]);
        assert_eq!(integrity(&store.conn), "ok");
        let violations: i64 =
            store.conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
        assert_eq!(violations, 0);
    }
}
