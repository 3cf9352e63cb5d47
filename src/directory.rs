//! The host's existing users, looked up in batches.

use std::collections::HashMap;
use std::path::Path;

use crate::config::ImportConfig;
use crate::error::{ErrorKind, Result};
use crate::mapping::Mapping;
use crate::model::{login_key, shifted_in, HqRole, Role, Status, User};
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

    /// True when the directory certainly has no user at all (a first import into a new store):
    /// the stages then skip their lookups. The provided implementation answers `false`, which is
    /// always correct; a directory that knows it is empty can say so cheaply.
    fn is_empty(&self) -> Result<bool> {
        Ok(false)
    }

    /// A stable hash of the current state of the users with these logins: it changes when one of
    /// them is created, changed or removed, so that a plan made earlier can be refused when the
    /// directory moved under it. The order and case of the logins do not matter, and a login
    /// nobody has adds nothing: the fingerprint of logins none of whom exist is 0, so that a first
    /// import into an empty directory reads none of its logins for it (an implementation must
    /// keep to this: a plan made against an empty directory carries 0).
    ///
    /// The provided implementation looks the users up in batches and hashes each one's fields
    /// (a 64-bit hash of its JSON form), combining the users' hashes in an order-independent way.
    /// Passwords are not part of that form, so a store that keeps a change counter per user
    /// should hash that instead, as the stores of this crate do: it is cheaper and exact.
    ///
    /// ```
    /// use user_import::{Directory, MemoryDirectory, User};
    ///
    /// # fn main() -> Result<(), user_import::Error> {
    /// let mut directory = MemoryDirectory::new();
    /// assert_eq!(directory.fingerprint(&["ada", "bob"])?, 0);
    /// directory.insert(User::new("ada", "Ada", "Lovelace"));
    /// let before = directory.fingerprint(&["ada", "bob"])?;
    /// assert_eq!(before, directory.fingerprint(&["BOB", " Ada"])?);
    /// directory.insert(User::new("bob", "Bob", "Smith"));
    /// assert_ne!(before, directory.fingerprint(&["ada", "bob"])?);
    /// # Ok(())
    /// # }
    /// ```
    fn fingerprint(&self, logins: &[&str]) -> Result<u64> {
        if self.is_empty()? {
            return Ok(0);
        }
        let mut set = SetHash::with_capacity(logins.len());
        // A batch at a time: only the users of one batch are held.
        for chunk in logins.chunks(FINGERPRINT_BATCH) {
            let keys: Vec<std::borrow::Cow<'_, str>> = chunk.iter().map(|l| crate::model::login_key_cow(l)).collect();
            let found: HashMap<String, User> =
                self.find_by_logins(chunk)?.into_iter().map(|user| (user.login_key(), user)).collect();
            for key in &keys {
                set.add_user(key, found.get(key.as_ref()))?;
            }
        }
        Ok(set.finish())
    }

    /// [`Directory::fingerprint`] of the logins an iterator gives, for a caller that does not
    /// hold them in a slice (a plan of a million users would hold 16 MB of `&str` for it). It
    /// must equal `fingerprint` of the same logins: the provided implementation collects them
    /// and calls it; a directory that reads its users a batch at a time can take each batch from
    /// the iterator instead, as the stores of this crate do.
    ///
    /// ```
    /// use user_import::{Directory, MemoryDirectory, User};
    ///
    /// # fn main() -> Result<(), user_import::Error> {
    /// let mut directory = MemoryDirectory::new();
    /// directory.insert(User::new("ada", "Ada", "Lovelace"));
    /// let logins = ["ada", "bob"];
    /// assert_eq!(directory.fingerprint_iter(&mut logins.into_iter())?, directory.fingerprint(&logins)?);
    /// # Ok(())
    /// # }
    /// ```
    fn fingerprint_iter(&self, logins: &mut dyn Iterator<Item = &str>) -> Result<u64> {
        if self.is_empty()? {
            return Ok(0);
        }
        let logins: Vec<&str> = logins.collect();
        self.fingerprint(&logins)
    }
}

impl<D: Directory + ?Sized> Directory for &D {
    fn find_by_logins(&self, logins: &[&str]) -> Result<Vec<User>> {
        (**self).find_by_logins(logins)
    }
    fn find_by_emails(&self, emails: &[&str]) -> Result<Vec<User>> {
        (**self).find_by_emails(emails)
    }
    fn is_empty(&self) -> Result<bool> {
        (**self).is_empty()
    }
    fn fingerprint(&self, logins: &[&str]) -> Result<u64> {
        (**self).fingerprint(logins)
    }
    fn fingerprint_iter(&self, logins: &mut dyn Iterator<Item = &str>) -> Result<u64> {
        (**self).fingerprint_iter(logins)
    }
}

/// Logins asked for at once by the provided [`Directory::fingerprint`].
const FINGERPRINT_BATCH: usize = 500;

/// The distinct login keys of these logins, sorted (built only for logins not already in that
/// form).
pub(crate) fn sorted_keys<'a>(logins: &[&'a str]) -> Vec<std::borrow::Cow<'a, str>> {
    let mut keys: Vec<std::borrow::Cow<'a, str>> =
        logins.iter().map(|login| crate::model::login_key_cow(login)).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// A hash of a set of keys and their states that depends neither on their order nor on
/// repetitions: each key's hash (of the key, then of its state) is mixed, the distinct hashes are
/// added. A million logins need no sort of strings, only of 64-bit numbers.
#[derive(Clone, Debug, Default)]
pub(crate) struct SetHash(Vec<u64>);

impl SetHash {
    /// A set with room for the hashes of `n` keys, as an iterator's size hint tells them (a
    /// million are known ahead: the vector is not grown by doubling, with its copies). A hint
    /// past 16M keys is not trusted that far: the vector then grows as it fills.
    pub(crate) fn with_capacity(n: usize) -> Self {
        SetHash(Vec::with_capacity(n.min(1 << 24)))
    }

    /// The set hash of these logins, each one's state added under its login key by `add`, one
    /// login at a time (for a directory that reads each user's state on its own).
    pub(crate) fn of_logins(
        logins: &mut dyn Iterator<Item = &str>,
        mut add: impl FnMut(&mut SetHash, &str) -> Result<()>,
    ) -> Result<u64> {
        let mut set = SetHash::with_capacity(logins.size_hint().0);
        for login in logins {
            add(&mut set, &crate::model::login_key_cow(login))?;
        }
        Ok(set.finish())
    }

    /// A hasher started with `key`: write the key's state into it, then [`SetHash::add`] it.
    pub(crate) fn key(&self, key: &str) -> KeyHasher {
        let mut hasher = KeyHasher::new();
        hasher.write_str(key);
        hasher
    }

    /// Adds the state of the user with login key `key` as the provided
    /// [`Directory::fingerprint`] hashes it: the user's JSON form; nothing when there is no user.
    pub(crate) fn add_user(&mut self, key: &str, user: Option<&User>) -> Result<()> {
        let Some(user) = user else { return Ok(()) };
        let mut hasher = self.key(key);
        serde_json::to_writer(&mut hasher, user)
            .map_err(|err| crate::Error::new(ErrorKind::Directory(format!("cannot hash user '{key}': {err}"))))?;
        self.add(hasher);
        Ok(())
    }

    /// Adds one key's hash.
    pub(crate) fn add(&mut self, hasher: KeyHasher) {
        self.0.push(hasher.finish());
    }

    /// The sum of the distinct hashes. Repetitions are rare (a login twice): only the hashes
    /// whose top 24 bits repeat are sorted to find them.
    pub(crate) fn finish(self) -> u64 {
        use crate::radix::RepeatedBuckets;
        let mut hashes = self.0;
        let bucket = |hash: u64| (hash >> 40) as u32;
        let mut maybe_repeated = if hashes.len() < RepeatedBuckets::WORTH_IT {
            std::mem::take(&mut hashes)
        } else {
            let repeated = RepeatedBuckets::new(hashes.iter().map(|&h| bucket(h)));
            let maybe: Vec<u64> = hashes.iter().copied().filter(|&h| repeated.repeated(bucket(h))).collect();
            hashes.retain(|&h| !repeated.repeated(bucket(h)));
            maybe
        };
        maybe_repeated.sort_unstable();
        maybe_repeated.dedup();
        hashes.iter().chain(&maybe_repeated).fold(0u64, |sum, h| sum.wrapping_add(*h))
    }
}

/// A 64-bit hash of bytes written in pieces, eight bytes at a time, finished with murmur3's
/// mixer. Deterministic across runs and platforms: plans may be applied by another process than
/// the one that made them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyHasher {
    hash: u64,
    word: u64,
    filled: u32,
    len: u64,
}

impl KeyHasher {
    pub(crate) fn new() -> Self {
        KeyHasher { hash: 0x243F_6A88_85A3_08D3, word: 0, filled: 0, len: 0 }
    }

    fn mix(&mut self, word: u64) {
        self.hash = (self.hash ^ word).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
    }

    pub(crate) fn write_bytes(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len() as u64;
        // First complete the word an earlier write began (the words mixed are the same whatever
        // the pieces: only the bytes' order counts).
        if self.filled > 0 {
            let take = (8 - self.filled as usize).min(bytes.len());
            let (head, rest) = bytes.split_at(take);
            self.word |= shifted_in(head) << (8 * self.filled);
            self.filled += take as u32;
            bytes = rest;
            if self.filled < 8 {
                return;
            }
            let word = self.word;
            self.mix(word);
            self.word = 0;
            self.filled = 0;
        }
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let tail = chunks.remainder();
        self.word = shifted_in(tail);
        self.filled = tail.len() as u32;
    }

    /// Writes a string and a terminator, so that `("ab", "c")` and `("a", "bc")` differ.
    pub(crate) fn write_str(&mut self, text: &str) {
        self.write_bytes(text.as_bytes());
        self.write_bytes(&[0xff]);
    }

    pub(crate) fn write_u64(&mut self, value: u64) {
        self.write_bytes(&value.to_le_bytes());
    }

    pub(crate) fn finish(&self) -> u64 {
        let mut h = self.hash ^ self.word ^ self.len.rotate_left(32);
        // murmur3's finaliser: every bit of the input moves every bit of the result.
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

impl std::io::Write for KeyHasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_bytes(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
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
    fn is_empty(&self) -> Result<bool> {
        Ok(self.users.is_empty())
    }

    fn find_by_logins(&self, logins: &[&str]) -> Result<Vec<User>> {
        if self.users.is_empty() {
            return Ok(Vec::new());
        }
        let found = logins.iter().filter_map(|l| self.by_login.get(crate::model::login_key_cow(l).as_ref()));
        Ok(found.map(|&at| self.users[at].clone()).collect())
    }

    fn find_by_emails(&self, emails: &[&str]) -> Result<Vec<User>> {
        if self.users.is_empty() {
            return Ok(Vec::new());
        }
        let found = emails.iter().filter_map(|e| self.by_email.get(crate::model::login_key_cow(e).as_ref()));
        Ok(found.map(|&at| self.users[at].clone()).collect())
    }

    fn fingerprint(&self, logins: &[&str]) -> Result<u64> {
        self.fingerprint_iter(&mut logins.iter().copied())
    }

    /// The provided fingerprint's value, one login at a time: no list of the logins, no copy of
    /// the users found.
    fn fingerprint_iter(&self, logins: &mut dyn Iterator<Item = &str>) -> Result<u64> {
        if self.users.is_empty() {
            return Ok(0);
        }
        SetHash::of_logins(logins, |set, key| {
            set.add_user(key, self.by_login.get(key).and_then(|&at| self.users.get(at)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plans carry fingerprints made by this hasher and may be applied by another build: its
    /// values must not change (these were made before writes were taken a word at a time).
    #[test]
    fn key_hashes_are_stable_whatever_the_pieces() {
        let cases: [(&[&[u8]], u64); 5] = [
            (&[b""], 0x06ff_db24_49af_5dc5),
            (&[b"ada"], 0x6e33_d408_2245_2d3d),
            (&[b"user0000001", b"\xff", b"\0absent"], 0xeba6_6842_5d57_8354),
            (&[b"abcdefgh", b"ijklmnopq", b"r", b"", b"stuvwxyz0123456789"], 0xb069_a56d_df26_12c7),
            (&["οδυσσεας@example.com".as_bytes(), b"\xff"], 0x4cba_ee64_b8e3_5a32),
        ];
        for (pieces, expected) in cases {
            let mut hasher = KeyHasher::new();
            for piece in pieces {
                hasher.write_bytes(piece);
            }
            hasher.write_u64(42);
            assert_eq!(hasher.finish(), expected, "{pieces:?}");
            // The same bytes in one piece, or one byte at a time, hash alike.
            let whole: Vec<u8> = pieces.concat();
            let mut one = KeyHasher::new();
            one.write_bytes(&whole);
            one.write_u64(42);
            let mut bytewise = KeyHasher::new();
            whole.iter().for_each(|b| bytewise.write_bytes(&[*b]));
            bytewise.write_u64(42);
            assert_eq!((one.finish(), bytewise.finish()), (expected, expected));
        }
        // A changed last byte changes the hash.
        let mut other = KeyHasher::new();
        other.write_bytes(b"user0000001\xff\0absenT");
        other.write_u64(42);
        assert_ne!(other.finish(), 0xeba6_6842_5d57_8354);
    }

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

    #[test]
    fn fingerprints_see_every_change_and_ignore_order_and_case() {
        let mut directory = MemoryDirectory::new();
        let logins: Vec<String> = (0..1_200).map(|i| format!("user{i}")).collect();
        let logins: Vec<&str> = logins.iter().map(String::as_str).collect();
        let empty = directory.fingerprint(&logins).unwrap();
        assert_eq!(empty, 0, "absent logins add nothing");
        directory.insert(User::new("someone.else", "First", "Last"));
        assert_eq!(directory.fingerprint(&logins).unwrap(), 0, "nor do other users");
        directory.insert(User::new("user1199", "First", "Last"));
        assert_ne!(directory.fingerprint(&logins).unwrap(), 0, "a user of these logins does");
        assert_ne!(directory.fingerprint(&logins).unwrap(), directory.fingerprint(&logins[..1_199]).unwrap());
        for login in &logins[..1_000] {
            directory.insert(User::new(*login, "First", "Last"));
        }
        let full = directory.fingerprint(&logins).unwrap();
        assert_ne!(full, empty);
        let mut shuffled: Vec<String> = logins.iter().rev().map(|l| l.to_uppercase()).collect();
        shuffled.push("USER3".into());
        let shuffled: Vec<&str> = shuffled.iter().map(String::as_str).collect();
        assert_eq!(full, directory.fingerprint(&shuffled).unwrap());
        let mut changed = User::new("user999", "First", "Last");
        changed.status = Status::Disabled;
        directory.insert(changed);
        let after = directory.fingerprint(&logins).unwrap();
        assert_ne!(full, after);
        assert_eq!(after, (&&directory).fingerprint(&logins).unwrap(), "references forward it");
    }

    /// A directory that answers lookups only: its fingerprint is the provided one.
    struct LookupsOnly<'d>(&'d MemoryDirectory);

    impl Directory for LookupsOnly<'_> {
        fn find_by_logins(&self, logins: &[&str]) -> Result<Vec<User>> {
            self.0.find_by_logins(logins)
        }
        fn find_by_emails(&self, emails: &[&str]) -> Result<Vec<User>> {
            self.0.find_by_emails(emails)
        }
    }

    #[test]
    fn the_memory_directory_streams_the_provided_fingerprint() {
        let mut directory = MemoryDirectory::new();
        // Past one batch of the provided implementation; absent, repeated and recased logins.
        let logins: Vec<String> =
            (0..1_300).map(|i| format!("User{i}")).chain([" user7 ".into(), "USER8".into()]).collect();
        let logins: Vec<&str> = logins.iter().map(String::as_str).collect();
        let provided = |directory: &MemoryDirectory| LookupsOnly(directory).fingerprint(&logins).unwrap();
        assert_eq!(directory.fingerprint(&logins).unwrap(), provided(&directory), "empty");
        for (i, login) in logins.iter().take(900).enumerate().filter(|(i, _)| i % 3 != 0) {
            let mut user = User::new(login.to_lowercase(), "First", format!("Last {i}"));
            user.email = Some(format!("{login}@example.com"));
            user.roles = vec![Role::new("Editor")];
            directory.insert(user);
        }
        // Logins stored in other forms than their keys (case, spaces, beyond ASCII), asked in others.
        for stored in [" Ada ", "ÉMILE", "MiXeD", "Zoë"] {
            directory.insert(User::new(stored, "First", "Last"));
        }
        let logins: Vec<&str> = logins.iter().copied().chain(["ada", " émile", "MIXED ", "ZOË", "ÉMILE"]).collect();
        let provided = |directory: &MemoryDirectory| LookupsOnly(directory).fingerprint(&logins).unwrap();
        let streamed = directory.fingerprint(&logins).unwrap();
        assert_eq!(streamed, provided(&directory));
        assert_eq!(streamed, directory.fingerprint_iter(&mut logins.iter().copied()).unwrap());
        assert_ne!(streamed, directory.fingerprint(&logins[..1_299]).unwrap());
    }

    #[test]
    fn set_hashes_ignore_order_and_repeats_past_the_prefilter() {
        let keys: Vec<String> = (0..10_000).map(|i| format!("user{i}")).collect();
        let set_hash = |keys: &mut dyn Iterator<Item = &String>| {
            let mut set = SetHash::default();
            for key in keys {
                let hasher = set.key(key);
                set.add(hasher);
            }
            set.finish()
        };
        let once = set_hash(&mut keys.iter());
        assert_eq!(once, set_hash(&mut keys.iter().rev().chain(keys.iter().step_by(7))), "order and repeats");
        assert_ne!(once, set_hash(&mut keys.iter().skip(1)), "a key less");
    }
}
