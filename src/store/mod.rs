//! Where imported users go: the [`UserStore`] trait, and the stores that come with the crate.
//!
//! A store is also a [`Directory`]: the users one import wrote are the existing users of the
//! next. Writes are batched and happen inside one transaction per import ([`UserStore::begin`]
//! … [`UserStore::commit`]); a store must make either all of them or none of them visible.
//! Passwords reach a store already hashed (PHC strings, see [`hash_passwords`]); a store never
//! sees a plain-text password.

mod memory;
mod password;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::config::Mode;
use crate::directory::Directory;
use crate::error::{Error, Result};
use crate::model::{CustomValue, User};
use crate::schema::{CustomField, CustomKind};

pub use self::memory::MemoryStore;
pub use self::password::{hash_passwords, verify_password, Argon2Params};
#[cfg(feature = "sqlite")]
pub use self::sqlite::{SqliteStore, StoredUser};

/// What an import tells the store's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImportLogEntry {
    /// When the import was applied.
    pub at: SystemTime,
    /// The file imported, as named by the person.
    pub file_name: Option<String>,
    /// The admin's comment (seed: "add comments in the entry field").
    pub comment: Option<String>,
    /// Create, update or both.
    pub mode: Mode,
    /// Users created.
    pub created: u64,
    /// Users updated.
    pub updated: u64,
    /// Rows whose user was already as the file says.
    pub unchanged: u64,
    /// Rows skipped (invalid, or their superior could not be imported).
    pub skipped: u64,
    /// Rows that failed when written.
    pub failed: u64,
}

impl ImportLogEntry {
    /// An entry for an import applied now, with all counts at zero.
    pub fn new(mode: Mode) -> Self {
        ImportLogEntry {
            at: SystemTime::now(),
            file_name: None,
            comment: None,
            mode,
            created: 0,
            updated: 0,
            unchanged: 0,
            skipped: 0,
            failed: 0,
        }
    }
}

/// Persistence of users, in batches, inside one transaction per import.
///
/// The apply stage calls, in this order: [`begin`](UserStore::begin), then any of
/// [`add_custom_fields`](UserStore::add_custom_fields), [`create_groups`](UserStore::create_groups),
/// [`create_users`](UserStore::create_users) (superiors always in an earlier call or earlier in
/// the same slice than their subordinates), [`update_users`](UserStore::update_users),
/// [`log_import`](UserStore::log_import), and finally [`commit`](UserStore::commit) — or
/// [`rollback`](UserStore::rollback) on any error. Users are matched by login, ignoring case.
///
/// The trait is object safe: hosts (and the Python and Kotlin bindings) implement it for their own
/// database.
pub trait UserStore: Directory {
    /// Starts the import's transaction.
    fn begin(&mut self) -> Result<()>;
    /// Creates users. `password` holds a PHC hash string, or nothing (the user is invited).
    fn create_users(&mut self, users: &[User]) -> Result<()>;
    /// Replaces every stored field of existing users by these values (matched by login). A
    /// `password` of `None` keeps the stored password.
    fn update_users(&mut self, users: &[User]) -> Result<()>;
    /// Creates groups that do not exist yet (existing names are left alone).
    fn create_groups(&mut self, groups: &[String]) -> Result<()>;
    /// Adds custom fields to the store: they become fields of every user, not only of the
    /// imported ones (existing names are left alone).
    fn add_custom_fields(&mut self, fields: &[CustomField]) -> Result<()>;
    /// Records the import in the store's log.
    fn log_import(&mut self, entry: &ImportLogEntry) -> Result<()>;
    /// Makes everything since [`begin`](UserStore::begin) durable and visible.
    fn commit(&mut self) -> Result<()>;
    /// Forgets everything since [`begin`](UserStore::begin).
    fn rollback(&mut self) -> Result<()>;
}

/// Refuses what no store may keep: a password in clear.
pub(crate) fn check_writable(user: &User) -> Result<()> {
    match &user.password {
        Some(password) if !password.is_phc_hash() => Err(Error::store(format!(
            "user '{}': the password is not hashed; call hash_passwords before writing users (a store never keeps a \
             password in clear)",
            user.login
        ))),
        _ => Ok(()),
    }
}

pub(crate) fn missing_superior(user: &User, superior: &str) -> Error {
    Error::store(format!(
        "user '{}': the superior '{superior}' is not in the store; superiors must be written before their subordinates",
        user.login
    ))
}

pub(crate) fn no_transaction() -> Error {
    Error::store("no import is in progress on this store: call begin first")
}

pub(crate) fn already_in_transaction() -> Error {
    Error::store("an import is already in progress on this store: commit or roll it back first")
}

/// The user as a store keeps it: no entry for products without access, no blank or repeated
/// group, no repeated role.
pub(crate) fn normalized(user: &User) -> User {
    let mut user = user.clone();
    user.products.retain(|_, access| access.has_access());
    let mut seen = Vec::with_capacity(user.groups.len());
    user.groups.retain(|group| {
        !group.trim().is_empty() && !seen.contains(group) && {
            seen.push(group.clone());
            true
        }
    });
    let mut seen = Vec::with_capacity(user.roles.len());
    user.roles.retain(|role| {
        !seen.contains(role) && {
            seen.push(role.clone());
            true
        }
    });
    user
}

/// The field a store registers for a value of a custom field it does not have: its kind is the
/// value's.
pub(crate) fn custom_field_for(name: &str, value: &CustomValue) -> CustomField {
    let kind = match value {
        CustomValue::Bool(_) => CustomKind::Boolean,
        CustomValue::Number(_) => CustomKind::Number,
        CustomValue::Date(_) => CustomKind::Date,
        CustomValue::Text(_) => CustomKind::Text,
    };
    CustomField::new(name, kind)
}
