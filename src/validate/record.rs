//! A validated row, stored compactly: the texts of one user in one allocation, role sets
//! shared between users, the time zone in two bytes.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono_tz::Tz;
use zeroize::Zeroizing;

use crate::model::{login_key, CustomValue, HqRole, Password, ProductAccess, Role, Status, User};

/// The text fields of a record, in storage order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Text {
    FirstName = 0,
    LastName,
    Login,
    Email,
    Password,
    Superior,
    Reference,
    Mirror,
}

const TEXTS: usize = 8;

/// Fields that few rows have: kept out of line so that common rows stay small.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Extras {
    pub(crate) groups: Vec<String>,
    pub(crate) products: BTreeMap<String, ProductAccess>,
    pub(crate) custom: BTreeMap<String, CustomValue>,
}

const INVALID: u8 = 1;
const EXISTS: u8 = 2;

/// One valid row of the file, typed: what the plan stage turns into a [`User`].
///
/// Values are cleaned (names trimmed and folded, email domain lowercased, roles in the catalog's
/// spelling, time zone canonical). An empty optional cell reads as `None`; an empty product cell
/// is absent from [`UserRecord::products`] (the plan gives the product's default). The password
/// never appears in `Debug` output and is wiped from memory when the record is dropped.
#[derive(Clone, PartialEq)]
pub struct UserRecord {
    row: u64,
    text: Zeroizing<Box<str>>,
    ends: [u32; TEXTS],
    roles: Arc<[Role]>,
    timezone: Option<Tz>,
    status: Option<Status>,
    hq_role: Option<HqRole>,
    flags: u8,
    extras: Option<Box<Extras>>,
}

impl UserRecord {
    fn text(&self, field: Text) -> &str {
        let i = field as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..self.ends[i] as usize).unwrap_or("")
    }

    fn optional(&self, field: Text) -> Option<&str> {
        Some(self.text(field)).filter(|s| !s.is_empty())
    }

    /// The row number in the file.
    pub fn row(&self) -> u64 {
        self.row
    }

    /// Given name.
    pub fn first_name(&self) -> &str {
        self.text(Text::FirstName)
    }

    /// Family name.
    pub fn last_name(&self) -> &str {
        self.text(Text::LastName)
    }

    /// The login (the email when the file has no login).
    pub fn login(&self) -> &str {
        self.text(Text::Login)
    }

    /// The login as compared: lowercased.
    pub fn login_key(&self) -> String {
        login_key(self.login())
    }

    /// Email address, domain lowercased.
    pub fn email(&self) -> Option<&str> {
        self.optional(Text::Email)
    }

    /// The initial password, when the row has one.
    pub fn password(&self) -> Option<Password> {
        self.optional(Text::Password).map(Password::new)
    }

    /// True when the row has a password (without exposing it).
    pub fn has_password(&self) -> bool {
        self.optional(Text::Password).is_some()
    }

    /// The superior's login.
    pub fn superior(&self) -> Option<&str> {
        self.optional(Text::Superior)
    }

    /// External reference.
    pub fn reference(&self) -> Option<&str> {
        self.optional(Text::Reference)
    }

    /// The existing user whose permissions are to be copied.
    pub fn mirror(&self) -> Option<&str> {
        self.optional(Text::Mirror)
    }

    /// Roles, in the catalog's spelling.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// Time zone.
    pub fn timezone(&self) -> Option<Tz> {
        self.timezone
    }

    /// Status, when the file gives one.
    pub fn status(&self) -> Option<Status> {
        self.status
    }

    /// HQ role, when the file gives one.
    pub fn hq_role(&self) -> Option<HqRole> {
        self.hq_role
    }

    /// Groups named in the row.
    pub fn groups(&self) -> &[String] {
        self.extras.as_ref().map_or(&[], |e| &e.groups)
    }

    /// Product access given in the row, by product id (empty cells are absent).
    pub fn products(&self) -> impl Iterator<Item = (&str, &ProductAccess)> {
        self.extras.iter().flat_map(|e| e.products.iter().map(|(k, v)| (k.as_str(), v)))
    }

    /// Custom field values, by name.
    pub fn custom(&self) -> impl Iterator<Item = (&str, &CustomValue)> {
        self.extras.iter().flat_map(|e| e.custom.iter().map(|(k, v)| (k.as_str(), v)))
    }

    /// True when the directory already has a user with this login.
    pub fn exists(&self) -> bool {
        self.flags & EXISTS != 0
    }

    pub(crate) fn set_exists(&mut self) {
        self.flags |= EXISTS;
    }

    pub(crate) fn is_invalid(&self) -> bool {
        self.flags & INVALID != 0
    }

    pub(crate) fn invalidate(&mut self) {
        self.flags |= INVALID;
    }

    /// The record as a [`User`] (status active when the file gives none).
    pub fn to_user(&self) -> User {
        let mut user = User::new(self.login(), self.first_name(), self.last_name());
        user.email = self.email().map(str::to_string);
        user.password = self.password();
        user.roles = self.roles.to_vec();
        user.superior = self.superior().map(str::to_string);
        user.timezone = self.timezone;
        user.hq_role = self.hq_role;
        user.status = self.status.unwrap_or_default();
        user.reference = self.reference().map(str::to_string);
        if let Some(extras) = &self.extras {
            user.groups = extras.groups.clone();
            user.products = extras.products.clone();
            user.custom = extras.custom.clone();
        }
        user
    }
}

impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("row", &self.row)
            .field("first_name", &self.first_name())
            .field("last_name", &self.last_name())
            .field("login", &self.login())
            .field("email", &self.email())
            .field("password", &self.has_password().then_some(Password::REDACTED))
            .field("roles", &self.roles)
            .field("superior", &self.superior())
            .field("timezone", &self.timezone)
            .field("status", &self.status)
            .field("hq_role", &self.hq_role)
            .field("reference", &self.reference())
            .field("mirror", &self.mirror())
            .field("extras", &self.extras)
            .finish()
    }
}

/// Assembles a record: the validate stage fills it cell by cell.
#[derive(Default)]
pub(crate) struct RecordBuilder {
    texts: [String; TEXTS],
    pub(crate) roles: Option<Arc<[Role]>>,
    pub(crate) timezone: Option<Tz>,
    pub(crate) status: Option<Status>,
    pub(crate) hq_role: Option<HqRole>,
    pub(crate) extras: Extras,
}

impl RecordBuilder {
    pub(crate) fn clear(&mut self) {
        for text in &mut self.texts {
            text.clear();
        }
        // The password scratch may hold a secret: wipe it, not just forget it.
        zeroize::Zeroize::zeroize(&mut self.texts[Text::Password as usize]);
        self.roles = None;
        self.timezone = None;
        self.status = None;
        self.hq_role = None;
        self.extras = Extras::default();
    }

    pub(crate) fn set(&mut self, field: Text, value: &str) {
        let text = &mut self.texts[field as usize];
        text.clear();
        text.push_str(value);
    }

    pub(crate) fn get(&self, field: Text) -> &str {
        &self.texts[field as usize]
    }

    pub(crate) fn build(&mut self, row: u64, empty_roles: &Arc<[Role]>) -> UserRecord {
        let len: usize = self.texts.iter().map(String::len).sum();
        let mut text = String::with_capacity(len);
        let mut ends = [0u32; TEXTS];
        for (i, part) in self.texts.iter().enumerate() {
            text.push_str(part);
            ends[i] = u32::try_from(text.len()).unwrap_or(u32::MAX);
        }
        let extras = std::mem::take(&mut self.extras);
        let extras = (extras != Extras::default()).then(|| Box::new(extras));
        let record = UserRecord {
            row,
            text: Zeroizing::new(text.into_boxed_str()),
            ends,
            roles: self.roles.take().unwrap_or_else(|| Arc::clone(empty_roles)),
            timezone: self.timezone,
            status: self.status,
            hq_role: self.hq_role,
            flags: 0,
            extras,
        };
        self.clear();
        record
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_small() {
        // One heap allocation for the texts, shared role sets: keep the inline part small.
        assert!(std::mem::size_of::<UserRecord>() <= 88, "{}", std::mem::size_of::<UserRecord>());
    }

    #[test]
    fn texts_round_trip_and_the_password_stays_hidden() {
        let mut builder = RecordBuilder::default();
        builder.set(Text::FirstName, "Ada");
        builder.set(Text::Login, "ada");
        builder.set(Text::Password, "Analytical#1");
        builder.set(Text::Mirror, "grace");
        let record = builder.build(2, &Arc::from(Vec::new()));
        assert_eq!((record.first_name(), record.last_name(), record.login()), ("Ada", "", "ada"));
        assert_eq!(record.email(), None);
        assert_eq!(record.mirror(), Some("grace"));
        assert_eq!(record.password().map(|p| p.expose().to_string()).as_deref(), Some("Analytical#1"));
        let debug = format!("{record:?}");
        assert!(!debug.contains("Analytical"), "{debug}");
        assert!(builder.get(Text::Password).is_empty());
        let user = record.to_user();
        assert_eq!(user.status, Status::Active);
        assert!(!format!("{user:?}").contains("Analytical"));
    }
}
