//! The directories and the store that come with the library: the SQLite store by path, and
//! in-memory directories (from users, or from a CSV/Excel export of existing users).

use std::sync::{Arc, Mutex};

use user_import as core;
use user_import::Directory as _;

use crate::error::{lock, HostError, UserImportError};
use crate::host::{pack_users, unpack_keys, unpack_users, PackedDirectory};
use crate::records::{CustomFieldSpec, ImportLogEntry, StoredUser, User};

/// The embedded SQLite user store: a file of users, groups, custom fields and an import log.
///
/// Plan against it with `as_directory()`, apply with `Plan.apply_sqlite`. One process may hold
/// it open while another imports: SQLite's locking keeps both consistent.
#[derive(uniffi::Object)]
pub struct SqliteStore {
    pub(crate) inner: Mutex<core::SqliteStore>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

#[uniffi::export]
impl SqliteStore {
    /// Opens (or creates) the store at this path.
    #[uniffi::constructor]
    pub fn open(path: String) -> Result<Arc<Self>, UserImportError> {
        Ok(Arc::new(SqliteStore { inner: Mutex::new(core::SqliteStore::open(path)?) }))
    }

    /// A store in memory, gone when dropped (for tests and previews).
    #[uniffi::constructor]
    pub fn open_in_memory() -> Result<Arc<Self>, UserImportError> {
        Ok(Arc::new(SqliteStore { inner: Mutex::new(core::SqliteStore::open_in_memory()?) }))
    }

    /// This store as the directory of existing users of a validation or a plan.
    pub fn as_directory(self: Arc<Self>) -> Arc<dyn PackedDirectory> {
        Arc::new(SqliteDirectory { store: self })
    }

    /// The number of users.
    pub fn count(&self) -> Result<u64, UserImportError> {
        Ok(lock(&self.inner).count()?)
    }

    /// The user with this login (ignoring case), with its bookkeeping.
    pub fn get(&self, login: String) -> Result<Option<StoredUser>, UserImportError> {
        Ok(lock(&self.inner).get(&login)?.as_ref().map(StoredUser::from))
    }

    /// A page of users, by login.
    pub fn list(&self, offset: u64, limit: u64) -> Result<Vec<User>, UserImportError> {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(lock(&self.inner).list(offset, limit)?.iter().map(|s| User::from_core(&s.user)).collect())
    }

    /// Users whose name, email or login contains this text.
    pub fn search(&self, query: String) -> Result<Vec<User>, UserImportError> {
        Ok(lock(&self.inner).search(&query)?.iter().map(|s| User::from_core(&s.user)).collect())
    }

    /// The groups of the store.
    pub fn groups(&self) -> Result<Vec<String>, UserImportError> {
        Ok(lock(&self.inner).groups()?)
    }

    /// The custom fields of the store.
    pub fn custom_fields(&self) -> Result<Vec<CustomFieldSpec>, UserImportError> {
        Ok(lock(&self.inner).custom_fields()?.iter().map(CustomFieldSpec::from).collect())
    }

    /// Every import applied to the store, oldest first.
    pub fn import_log(&self) -> Result<Vec<ImportLogEntry>, UserImportError> {
        Ok(lock(&self.inner).import_log()?.iter().map(ImportLogEntry::from).collect())
    }

    /// Deactivates a user (status disabled); false when there is no such user.
    pub fn deactivate(&self, login: String) -> Result<bool, UserImportError> {
        Ok(lock(&self.inner).deactivate(&login)?)
    }

    /// Marks a user's invitation as sent again; false when there is no such user.
    pub fn mark_invitation_resent(&self, login: String) -> Result<bool, UserImportError> {
        Ok(lock(&self.inner).mark_invitation_resent(&login)?)
    }
}

/// The answer of a built-in directory in the packed form (only a host that calls one itself
/// sees it: runs use the built-in directories directly).
fn lookup(result: core::Result<Vec<core::User>>) -> Result<String, HostError> {
    let failed = |detail: String| HostError::Failed { detail };
    let users: Vec<User> = result.map_err(|err| failed(err.to_string()))?.iter().map(User::from_core).collect();
    pack_users(&users).map_err(failed)
}

/// The SQLite store seen as a directory (`SqliteStore.as_directory()`).
pub struct SqliteDirectory {
    pub(crate) store: Arc<SqliteStore>,
}

impl PackedDirectory for SqliteDirectory {
    fn find_packed_by_logins(&self, logins: String) -> Result<String, HostError> {
        lookup(lock(&self.store.inner).find_by_logins(&unpack_keys(&logins)))
    }

    fn find_packed_by_emails(&self, emails: String) -> Result<String, HostError> {
        lookup(lock(&self.store.inner).find_by_emails(&unpack_keys(&emails)))
    }
}

/// Existing users held in memory by the library (`memory_directory`, `directory_from_path`).
pub struct MemoryDirectory {
    pub(crate) inner: core::MemoryDirectory,
}

impl PackedDirectory for MemoryDirectory {
    fn find_packed_by_logins(&self, logins: String) -> Result<String, HostError> {
        lookup(self.inner.find_by_logins(&unpack_keys(&logins)))
    }

    fn find_packed_by_emails(&self, emails: String) -> Result<String, HostError> {
        lookup(self.inner.find_by_emails(&unpack_keys(&emails)))
    }
}

/// A directory of these users, held by the library: the fastest way to hand over many existing
/// users at once (one call instead of a lookup per batch).
#[uniffi::export]
pub fn memory_directory(users: Vec<User>) -> Result<Arc<dyn PackedDirectory>, UserImportError> {
    let users = users
        .into_iter()
        .map(|user| user.into_core().map_err(UserImportError::invalid_argument))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(MemoryDirectory { inner: core::MemoryDirectory::from_users(users) }))
}

/// A directory of these users, given in the packed form of [`PackedDirectory`] (the JSON text of
/// an array of users): what the Python package's `memory_directory` sends, since 100,000 users
/// cross the boundary packed in a fraction of a second, and as records in several seconds.
#[uniffi::export]
pub fn memory_directory_packed(users: String) -> Result<Arc<dyn PackedDirectory>, UserImportError> {
    let users = unpack_users(&users).map_err(UserImportError::invalid_argument)?;
    Ok(Arc::new(MemoryDirectory { inner: core::MemoryDirectory::from_users(users) }))
}

/// A directory read from a CSV or Excel export of existing users (a login or an email column;
/// names, email, roles, status, superior and HQ role when present).
#[uniffi::export]
pub fn directory_from_path(path: String) -> Result<Arc<dyn PackedDirectory>, UserImportError> {
    Ok(Arc::new(MemoryDirectory { inner: core::MemoryDirectory::from_path(path)? }))
}
