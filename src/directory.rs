//! The host's existing users, looked up in batches.

use std::collections::HashMap;
use std::path::Path;

use crate::config::ImportConfig;
use crate::error::Result;
use crate::mapping::Mapping;
use crate::model::{login_key, HqRole, Role, Status, User};
use crate::schema::Field;
use crate::source::{SourceBuilder, Table};

/// The host's existing users.
///
/// Lookups are batched (a few hundred to a thousand keys a call) so that a directory behind a
/// database, a web API or a language binding costs one round trip per batch, not per row.
/// Logins and emails are compared ignoring case and surrounding spaces; users not found are
/// simply absent from the answer.
pub trait Directory {
    /// The existing users with these logins.
    fn find_by_logins(&self, logins: &[&str]) -> Result<Vec<User>>;
    /// The existing users with these email addresses.
    fn find_by_emails(&self, emails: &[&str]) -> Result<Vec<User>>;

    /// A fingerprint of the current state of the users with these logins (present or absent):
    /// it changes when any of them is created, changed or removed. A plan keeps the fingerprint it
    /// was computed against, and applying it to a directory whose fingerprint differs is refused.
    ///
    /// The default looks the users up and hashes their fields; a store with a version per user
    /// can do it more cheaply.
    fn fingerprint(&self, logins: &[&str]) -> Result<u64> {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for &b in bytes {
                hash ^= u64::from(b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
            hash ^= 0xff;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        };
        for chunk in logins.chunks(1000) {
            let mut users = self.find_by_logins(chunk)?;
            users.sort_by_key(User::login_key);
            for user in &users {
                eat(user.login_key().as_bytes());
                eat(serde_json::to_string(user).unwrap_or_default().as_bytes());
                if let Some(password) = &user.password {
                    eat(password.expose().as_bytes());
                }
            }
        }
        Ok(hash)
    }
}

impl<D: Directory + ?Sized> Directory for &D {
    fn find_by_logins(&self, logins: &[&str]) -> Result<Vec<User>> {
        (**self).find_by_logins(logins)
    }
    fn find_by_emails(&self, emails: &[&str]) -> Result<Vec<User>> {
        (**self).find_by_emails(emails)
    }
    fn fingerprint(&self, logins: &[&str]) -> Result<u64> {
        (**self).fingerprint(logins)
    }
}

/// A [`Directory`] in memory: for tests, small hosts, and a CSV export of existing users.
///
/// ```
/// use user_import::{Directory, MemoryDirectory, User};
///
/// # fn main() -> Result<(), user_import::Error> {
/// let mut directory = MemoryDirectory::new();
/// let mut ada = User::new("ada", "Ada", "Lovelace");
/// ada.email = Some("ada@example.com".into());
/// directory.insert(ada);
/// assert_eq!(directory.find_by_logins(&["ADA", "bob"])?.len(), 1);
/// assert_eq!(directory.find_by_emails(&["Ada@Example.com"])?[0].login, "ada");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryDirectory {
    users: Vec<User>,
    by_login: HashMap<String, usize>,
    by_email: HashMap<String, usize>,
}

impl MemoryDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// A directory holding these users.
    pub fn from_users(users: impl IntoIterator<Item = User>) -> Self {
        let mut directory = Self::new();
        for user in users {
            directory.insert(user);
        }
        directory
    }

    /// Adds a user, or replaces the one with the same login.
    pub fn insert(&mut self, user: User) {
        let key = user.login_key();
        let email = user.email.as_deref().map(login_key);
        let at = match self.by_login.get(&key) {
            Some(&at) => {
                if let Some(old) = self.users[at].email.as_deref().map(login_key) {
                    self.by_email.remove(&old);
                }
                self.users[at] = user;
                at
            }
            None => {
                self.users.push(user);
                self.users.len() - 1
            }
        };
        self.by_login.insert(key, at);
        if let Some(email) = email {
            self.by_email.insert(email, at);
        }
    }

    /// The users, in insertion order.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// The number of users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// True when there is no user.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The user with this login.
    pub fn get(&self, login: &str) -> Option<&User> {
        self.by_login.get(&login_key(login)).map(|&at| &self.users[at])
    }

    /// Loads existing users from a file (CSV or workbook) with at least a login or an email
    /// column; names, email, roles, status, superior and HQ role are read when present, as
    /// written (a directory export is trusted, not validated).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let table = SourceBuilder::new().from_path(path)?;
        Self::from_table(table)
    }

    /// Loads existing users from a parsed table (see [`MemoryDirectory::from_path`]).
    pub fn from_table(mut table: Table) -> Result<Self> {
        let mapping = Mapping::new(table.headers(), &ImportConfig::default())?;
        let column = |field: Field| mapping.column_of_field(field);
        let (login, email) = (column(Field::Login), column(Field::Email));
        if login.is_none() && email.is_none() {
            return Err(crate::Error::empty("the directory file has no login or email column"));
        }
        let mut directory = Self::new();
        for row in table.rows() {
            let row = row?;
            let cell = |c: Option<usize>| c.and_then(|i| row.get(i)).map(str::trim).filter(|s| !s.is_empty());
            let Some(key) = cell(login).or(cell(email)) else {
                continue;
            };
            let mut user = User::new(
                key,
                cell(column(Field::FirstName)).unwrap_or(""),
                cell(column(Field::LastName)).unwrap_or(""),
            );
            user.email = cell(email).map(str::to_string);
            user.superior = cell(column(Field::Superior)).map(str::to_string);
            user.reference = cell(column(Field::Reference)).map(str::to_string);
            if let Some(roles) = cell(column(Field::Roles)) {
                user.roles =
                    roles.split([';', ',', '|']).map(str::trim).filter(|r| !r.is_empty()).map(Role::new).collect();
            }
            if let Some(status) = cell(column(Field::Status)).and_then(|s| s.parse::<Status>().ok()) {
                user.status = status;
            }
            user.hq_role = cell(column(Field::HqRole)).and_then(|s| s.parse::<HqRole>().ok());
            directory.insert(user);
        }
        Ok(directory)
    }
}

impl Directory for MemoryDirectory {
    fn find_by_logins(&self, logins: &[&str]) -> Result<Vec<User>> {
        if self.users.is_empty() {
            return Ok(Vec::new());
        }
        Ok(logins.iter().filter_map(|l| self.by_login.get(&login_key(l))).map(|&at| self.users[at].clone()).collect())
    }

    fn find_by_emails(&self, emails: &[&str]) -> Result<Vec<User>> {
        if self.users.is_empty() {
            return Ok(Vec::new());
        }
        Ok(emails.iter().filter_map(|e| self.by_email.get(&login_key(e))).map(|&at| self.users[at].clone()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_loads_from_a_csv_export() {
        let csv = "Login,E-mail,First Name,Last Name,Roles,Status\nada,ada@example.com,Ada,Lovelace,Admin;Editor,active\n,bob@example.com,Bob,,,disabled\n,,,,,\n";
        let table = SourceBuilder::new().from_bytes(csv).unwrap();
        let directory = MemoryDirectory::from_table(table).unwrap();
        assert_eq!(directory.len(), 2);
        let ada = directory.get("ADA").unwrap();
        assert_eq!(ada.roles.len(), 2);
        let bob = directory.get("bob@example.com").unwrap();
        assert_eq!(bob.status, Status::Disabled);
    }

    #[test]
    fn replacing_a_user_moves_its_email() {
        let mut directory = MemoryDirectory::new();
        let mut ada = User::new("ada", "Ada", "L");
        ada.email = Some("old@example.com".into());
        directory.insert(ada.clone());
        ada.email = Some("new@example.com".into());
        directory.insert(ada);
        assert_eq!(directory.len(), 1);
        assert!(directory.find_by_emails(&["old@example.com"]).unwrap().is_empty());
        assert_eq!(directory.find_by_emails(&["new@example.com"]).unwrap().len(), 1);
    }
}
