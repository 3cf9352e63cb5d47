//! A [`UserStore`] in memory, with real transactions: for tests, examples and small hosts.

use std::collections::{BTreeMap, HashMap};

use crate::directory::{sorted_keys, Directory, SetHash};
use crate::error::{Error, Result};
use crate::model::{login_key, User};
use crate::schema::CustomField;
use crate::store::{
    already_in_transaction, check_writable, custom_field_for, missing_superior, no_transaction, normalized,
    ImportLogEntry, UserStore,
};

/// A [`UserStore`] that keeps everything in memory.
///
/// It behaves as the SQLite store does, without the file: [`begin`](UserStore::begin) takes a
/// snapshot, [`rollback`](UserStore::rollback) restores it and [`commit`](UserStore::commit)
/// keeps the changes; each write call is all-or-nothing (a refused user leaves nothing of that
/// call behind); logins and emails are unique ignoring case; passwords must arrive hashed.
/// Groups named by users and custom values of fields the store does not have yet are added to
/// the store. Product access [`None`](crate::ProductAccess::None) is kept as no entry.
///
/// ```
/// use user_import::{Directory, ImportLogEntry, MemoryStore, Mode, User, UserStore};
///
/// # fn main() -> Result<(), user_import::Error> {
/// let mut store = MemoryStore::new();
/// store.begin()?;
/// store.create_users(&[User::new("ada", "Ada", "Lovelace")])?;
/// store.log_import(&ImportLogEntry::new(Mode::CreateOnly))?;
/// store.commit()?;
///
/// store.begin()?;
/// store.create_users(&[User::new("bob", "Bob", "Smith")])?;
/// store.rollback()?;
/// assert_eq!(store.find_by_logins(&["ADA", "bob"])?.len(), 1);
/// assert_eq!(store.log().len(), 1);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    state: State,
    snapshot: Option<State>,
}

#[derive(Clone, Debug, Default)]
struct State {
    /// By login key, so that listings come sorted.
    users: BTreeMap<String, Entry>,
    /// Email key → login key.
    emails: HashMap<String, String>,
    groups: Vec<String>,
    custom_fields: Vec<CustomField>,
    log: Vec<ImportLogEntry>,
}

#[derive(Clone, Debug)]
struct Entry {
    user: User,
    /// 1 when created, plus one for every write.
    version: u64,
}

/// What a write call changed, to undo it when a later user of the same call is refused.
#[derive(Default)]
struct Undo {
    users: Vec<(String, Option<Entry>)>,
    groups: usize,
    custom_fields: usize,
}

impl State {
    /// Puts an entry under its login key, keeping the email index right; returns the old entry.
    fn put(&mut self, key: String, entry: Entry) -> Option<Entry> {
        let email = entry.user.email.as_deref().map(login_key);
        let old = self.users.insert(key.clone(), entry);
        if let Some(old_email) = old.as_ref().and_then(|old| old.user.email.as_deref()).map(login_key) {
            if self.emails.get(&old_email) == Some(&key) {
                self.emails.remove(&old_email);
            }
        }
        if let Some(email) = email {
            self.emails.insert(email, key);
        }
        old
    }

    fn restore(&mut self, undo: Undo) {
        for (key, old) in undo.users.into_iter().rev() {
            match old {
                Some(entry) => {
                    self.put(key, entry);
                }
                None => {
                    if let Some(email) =
                        self.users.remove(&key).and_then(|gone| gone.user.email.as_deref().map(login_key))
                    {
                        self.emails.remove(&email);
                    }
                }
            }
        }
        self.groups.truncate(undo.groups);
        self.custom_fields.truncate(undo.custom_fields);
    }

    fn undo_point(&self) -> Undo {
        Undo { users: Vec::new(), groups: self.groups.len(), custom_fields: self.custom_fields.len() }
    }

    /// Checks a user about to be written under `key` (refusing what the SQLite store's constraints
    /// refuse) and registers the groups and custom fields it names.
    fn admit(&mut self, key: &str, user: &User) -> Result<()> {
        check_writable(user)?;
        if let Some(email) = user.email.as_deref().map(login_key) {
            if let Some(owner) = self.emails.get(&email).filter(|owner| owner.as_str() != key) {
                let owner = self.users.get(owner).map_or(owner.as_str(), |entry| entry.user.login.as_str());
                return Err(Error::store(format!(
                    "user '{}': the email address '{}' is already used by user '{owner}'",
                    user.login,
                    user.email.as_deref().unwrap_or_default()
                )));
            }
        }
        if let Some(superior) = &user.superior {
            if !self.users.contains_key(&login_key(superior)) {
                return Err(missing_superior(user, superior));
            }
        }
        for group in &user.groups {
            if !group.trim().is_empty() && !self.groups.contains(group) {
                self.groups.push(group.clone());
            }
        }
        for (name, value) in &user.custom {
            if !self.custom_fields.iter().any(|field| &field.name == name) {
                self.custom_fields.push(custom_field_for(name, value));
            }
        }
        Ok(())
    }

    fn create(&mut self, user: &User, undo: &mut Undo) -> Result<()> {
        let key = user.login_key();
        if key.is_empty() {
            return Err(Error::store("a user without a login cannot be stored"));
        }
        if self.users.contains_key(&key) {
            return Err(Error::store(format!("user '{}' already exists", user.login)));
        }
        self.admit(&key, user)?;
        let old = self.put(key.clone(), Entry { user: normalized(user), version: 1 });
        undo.users.push((key, old));
        Ok(())
    }

    fn update(&mut self, user: &User, undo: &mut Undo) -> Result<()> {
        let key = user.login_key();
        let Some(existing) = self.users.get(&key) else {
            return Err(Error::store(format!("user '{}' cannot be updated: there is no such user", user.login)));
        };
        let (version, password) = (existing.version + 1, existing.user.password.clone());
        self.admit(&key, user)?;
        let mut next = normalized(user);
        if next.password.is_none() {
            next.password = password;
        }
        let old = self.put(key.clone(), Entry { user: next, version });
        undo.users.push((key, old));
        Ok(())
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding these users, written in one committed import (superiors first; passwords
    /// hashed or absent).
    pub fn with_users(users: &[User]) -> Result<Self> {
        let mut store = Self::new();
        store.begin()?;
        store.create_users(users)?;
        store.commit()?;
        Ok(store)
    }

    /// The user with this login (ignoring case), as stored: its password is the PHC hash.
    pub fn get(&self, login: &str) -> Option<&User> {
        self.state.users.get(&login_key(login)).map(|entry| &entry.user)
    }

    /// How many times the user with this login was written (1 once created), if it exists.
    pub fn version(&self, login: &str) -> Option<u64> {
        self.state.users.get(&login_key(login)).map(|entry| entry.version)
    }

    /// Every user, in order of login (ignoring case).
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.state.users.values().map(|entry| &entry.user)
    }

    /// The number of users.
    pub fn len(&self) -> usize {
        self.state.users.len()
    }

    /// True when there is no user.
    pub fn is_empty(&self) -> bool {
        self.state.users.is_empty()
    }

    /// The groups, in order of creation.
    pub fn groups(&self) -> &[String] {
        &self.state.groups
    }

    /// The custom fields every user has, in order of creation.
    pub fn custom_fields(&self) -> &[CustomField] {
        &self.state.custom_fields
    }

    /// The imports recorded, oldest first.
    pub fn log(&self) -> &[ImportLogEntry] {
        &self.state.log
    }

    /// True between [`begin`](UserStore::begin) and [`commit`](UserStore::commit) or
    /// [`rollback`](UserStore::rollback).
    pub fn in_transaction(&self) -> bool {
        self.snapshot.is_some()
    }

    fn writable(&mut self) -> Result<&mut State> {
        match self.snapshot {
            Some(_) => Ok(&mut self.state),
            None => Err(no_transaction()),
        }
    }

    fn write_all(&mut self, users: &[User], write: fn(&mut State, &User, &mut Undo) -> Result<()>) -> Result<()> {
        let state = self.writable()?;
        let mut undo = state.undo_point();
        for user in users {
            if let Err(err) = write(state, user, &mut undo) {
                state.restore(undo);
                return Err(err);
            }
        }
        Ok(())
    }
}

impl Directory for MemoryStore {
    fn is_empty(&self) -> Result<bool> {
        Ok(self.state.users.is_empty())
    }

    fn find_by_logins(&self, logins: &[&str]) -> Result<Vec<User>> {
        Ok(sorted_keys(logins)
            .iter()
            .filter_map(|key| self.state.users.get(key.as_ref()))
            .map(|e| e.user.clone())
            .collect())
    }

    fn find_by_emails(&self, emails: &[&str]) -> Result<Vec<User>> {
        Ok(sorted_keys(emails)
            .iter()
            .filter_map(|email| self.state.emails.get(email.as_ref()))
            .filter_map(|key| self.state.users.get(key))
            .map(|entry| entry.user.clone())
            .collect())
    }

    /// Hashes each login with its user's version: exact (password changes count) and cheap.
    fn fingerprint(&self, logins: &[&str]) -> Result<u64> {
        self.fingerprint_iter(&mut logins.iter().copied())
    }

    fn fingerprint_iter(&self, logins: &mut dyn Iterator<Item = &str>) -> Result<u64> {
        if self.state.users.is_empty() {
            return Ok(0);
        }
        SetHash::of_logins(logins, |set, key| {
            if let Some(entry) = self.state.users.get(key) {
                let mut hasher = set.key(key);
                hasher.write_u64(entry.version);
                set.add(hasher);
            }
            Ok(())
        })
    }
}

impl UserStore for MemoryStore {
    fn begin(&mut self) -> Result<()> {
        if self.snapshot.is_some() {
            return Err(already_in_transaction());
        }
        self.snapshot = Some(self.state.clone());
        Ok(())
    }

    fn create_users(&mut self, users: &[User]) -> Result<()> {
        self.write_all(users, State::create)
    }

    fn update_users(&mut self, users: &[User]) -> Result<()> {
        self.write_all(users, State::update)
    }

    fn create_groups(&mut self, groups: &[String]) -> Result<()> {
        let state = self.writable()?;
        for group in groups {
            if !group.trim().is_empty() && !state.groups.contains(group) {
                state.groups.push(group.clone());
            }
        }
        Ok(())
    }

    fn add_custom_fields(&mut self, fields: &[CustomField]) -> Result<()> {
        let state = self.writable()?;
        for field in fields {
            if !state.custom_fields.iter().any(|known| known.name == field.name) {
                state.custom_fields.push(field.clone());
            }
        }
        Ok(())
    }

    fn log_import(&mut self, entry: &ImportLogEntry) -> Result<()> {
        self.writable()?.log.push(entry.clone());
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        match self.snapshot.take() {
            Some(_) => Ok(()),
            None => Err(no_transaction()),
        }
    }

    fn rollback(&mut self) -> Result<()> {
        if let Some(snapshot) = self.snapshot.take() {
            self.state = snapshot;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Mode;
    use crate::model::{CustomValue, Password, ProductAccess, Role, Status};
    use crate::schema::CustomKind;

    fn user(login: &str) -> User {
        User::new(login, "First", login)
    }

    #[test]
    fn rollback_restores_the_snapshot_and_commit_keeps() {
        let mut store = MemoryStore::with_users(&[user("ada")]).unwrap();
        store.begin().unwrap();
        store.create_users(&[user("bob")]).unwrap();
        let mut ada = user("Ada");
        ada.status = Status::Disabled;
        store.update_users(&[ada]).unwrap();
        store.create_groups(&["Sales".into()]).unwrap();
        store.add_custom_fields(&[CustomField::new("dept", CustomKind::Text)]).unwrap();
        store.log_import(&ImportLogEntry::new(Mode::Upsert)).unwrap();
        assert_eq!((store.len(), store.version("ada")), (2, Some(2)));
        store.rollback().unwrap();
        assert_eq!((store.len(), store.version("ada")), (1, Some(1)));
        assert!(store.groups().is_empty() && store.custom_fields().is_empty() && store.log().is_empty());
        assert_eq!(store.get("ADA").unwrap().status, Status::Active);
        store.rollback().unwrap();
    }

    #[test]
    fn writes_need_a_transaction_and_transactions_do_not_nest() {
        let mut store = MemoryStore::new();
        let err = store.create_users(&[user("ada")]).unwrap_err();
        assert!(err.to_string().contains("call begin first"), "{err}");
        assert!(store.commit().is_err());
        store.begin().unwrap();
        assert!(store.begin().unwrap_err().to_string().contains("already in progress"));
        assert!(store.in_transaction());
    }

    #[test]
    fn a_refused_user_undoes_the_whole_call() {
        let mut store = MemoryStore::with_users(&[user("ada")]).unwrap();
        store.begin().unwrap();
        let mut carol = user("carol");
        carol.groups = vec!["New".into()];
        carol.email = Some("carol@example.com".into());
        let err = store.create_users(&[user("bob"), carol, user("ADA")]).unwrap_err();
        assert_eq!(err.to_string(), "user 'ADA' already exists");
        assert_eq!(store.len(), 1);
        assert!(store.groups().is_empty());
        assert!(store.find_by_emails(&["carol@example.com"]).unwrap().is_empty());

        let mut plain = user("dan");
        plain.password = Some(Password::new("secret"));
        let err = store.create_users(&[plain]).unwrap_err();
        assert!(err.to_string().contains("not hashed"), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");

        let mut orphan = user("erin");
        orphan.superior = Some("nobody".into());
        assert!(store.create_users(&[orphan]).unwrap_err().to_string().contains("superior 'nobody'"));
        let err = store.update_users(&[user("zed")]).unwrap_err();
        assert!(err.to_string().contains("no such user"), "{err}");
    }

    #[test]
    fn emails_are_unique_and_move_with_updates() {
        let mut ada = user("ada");
        ada.email = Some("ada@example.com".into());
        let mut store = MemoryStore::with_users(&[ada.clone()]).unwrap();
        store.begin().unwrap();
        let mut bob = user("bob");
        bob.email = Some("ADA@example.com".into());
        let err = store.create_users(&[bob]).unwrap_err();
        assert!(err.to_string().contains("already used by user 'ada'"), "{err}");
        ada.email = Some("lovelace@example.com".into());
        store.update_users(&[ada]).unwrap();
        assert!(store.find_by_emails(&["ada@example.com"]).unwrap().is_empty());
        assert_eq!(store.find_by_emails(&["Lovelace@Example.com"]).unwrap()[0].login, "ada");
    }

    #[test]
    fn updates_keep_the_stored_password_unless_given_and_register_what_users_name() {
        let hash = "$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$aGFzaA";
        let mut ada = user("ada");
        ada.password = Some(Password::new(hash));
        let mut store = MemoryStore::with_users(&[ada]).unwrap();
        store.begin().unwrap();
        let mut ada = user("ada");
        ada.roles = vec![Role::new("Admin")];
        ada.groups = vec!["Ops".into()];
        ada.products.insert("hire".into(), ProductAccess::None);
        ada.products.insert("perform".into(), ProductAccess::Granted);
        ada.custom.insert("badge".into(), CustomValue::Number(7.0));
        store.update_users(&[ada]).unwrap();
        store.commit().unwrap();
        let stored = store.get("ada").unwrap();
        assert_eq!(stored.password.as_ref().map(Password::expose), Some(hash));
        assert_eq!(stored.products.len(), 1, "no access is no entry");
        assert_eq!(store.groups(), ["Ops"]);
        assert_eq!(store.custom_fields()[0].kind, CustomKind::Number);
    }

    #[test]
    fn the_fingerprint_follows_versions() {
        let mut store = MemoryStore::with_users(&[user("ada")]).unwrap();
        let before = store.fingerprint(&["ada", "bob"]).unwrap();
        store.begin().unwrap();
        let mut ada = user("ada");
        ada.password = Some(Password::new("$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$aGFzaA"));
        store.update_users(&[ada]).unwrap();
        assert_ne!(before, store.fingerprint(&["bob", "ADA"]).unwrap(), "a new password counts");
        store.rollback().unwrap();
        assert_eq!(before, store.fingerprint(&["bob", "ADA"]).unwrap());
    }
}
