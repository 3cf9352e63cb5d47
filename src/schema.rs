//! The fields an import knows: their stable keys, labels and the header spellings people use.

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// A built-in field of a user record.
///
/// Each has a stable snake_case [`key`](Field::key), a [`label`](Field::label) for templates and
/// reports, and the header spellings people use for it ([`aliases`](Field::aliases)).
///
/// ```
/// use user_import::Field;
///
/// assert_eq!(Field::Email.key(), "email");
/// assert_eq!(Field::from_header("E-mail Address"), Some(Field::Email));
/// assert_eq!(Field::from_header("userName"), Some(Field::Login));
/// assert_eq!(Field::from_header("Superior User"), Some(Field::Superior));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Field {
    /// Given name.
    FirstName,
    /// Family name.
    LastName,
    /// Sign-in name.
    Login,
    /// Email address.
    Email,
    /// Initial password.
    Password,
    /// Roles in the host application.
    Roles,
    /// The superior's login.
    Superior,
    /// IANA time zone.
    Timezone,
    /// Role in the host's admin console.
    HqRole,
    /// Account status.
    Status,
    /// External reference.
    Reference,
    /// Groups.
    Groups,
    /// An existing user whose permissions are copied.
    Mirror,
}

impl Field {
    /// Every built-in field, in template order.
    pub const ALL: [Field; 13] = [
        Field::FirstName,
        Field::LastName,
        Field::Login,
        Field::Email,
        Field::Password,
        Field::Roles,
        Field::Superior,
        Field::Timezone,
        Field::HqRole,
        Field::Status,
        Field::Reference,
        Field::Groups,
        Field::Mirror,
    ];

    /// The stable key, e.g. `"first_name"`.
    pub fn key(self) -> &'static str {
        match self {
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::Login => "login",
            Field::Email => "email",
            Field::Password => "password",
            Field::Roles => "roles",
            Field::Superior => "superior",
            Field::Timezone => "timezone",
            Field::HqRole => "hq_role",
            Field::Status => "status",
            Field::Reference => "reference",
            Field::Groups => "groups",
            Field::Mirror => "mirror",
        }
    }

    /// The label used in templates and reports, e.g. `"First Name"`.
    pub fn label(self) -> &'static str {
        match self {
            Field::FirstName => "First Name",
            Field::LastName => "Last Name",
            Field::Login => "Login Name",
            Field::Email => "Email",
            Field::Password => "Password",
            Field::Roles => "Roles",
            Field::Superior => "Superior User",
            Field::Timezone => "Time Zone",
            Field::HqRole => "HQ Role",
            Field::Status => "Status",
            Field::Reference => "Reference",
            Field::Groups => "Groups",
            Field::Mirror => "Mirror User",
        }
    }

    /// Header spellings people use for this field, already [normalised](normalize_name).
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::FirstName => &["firstname", "first", "givenname", "forename", "name", "prenom", "vorname"],
            Field::LastName => &["lastname", "last", "surname", "familyname", "nom", "nachname"],
            Field::Login => &["login", "loginname", "username", "user", "userid", "signin", "account"],
            Field::Email => &["email", "emailaddress", "mail", "accessemail", "emailid", "workemail"],
            Field::Password => &["password", "pwd", "pass", "initialpassword"],
            Field::Roles => &["roles", "role", "userroles", "approles"],
            Field::Superior => &["superioruser", "superior", "manager", "reportsto", "supervisor", "managerlogin"],
            Field::Timezone => &["timezone", "tz", "zone"],
            Field::HqRole => &["hqrole", "roleinmitratechhq", "roleinhq", "hqaccess", "adminrole"],
            Field::Status => &["status", "state", "accountstatus"],
            Field::Reference => {
                &["reference", "externalreference", "employeeid", "employeenumber", "ref", "externalid"]
            }
            Field::Groups => &["groups", "group", "traininggroups", "teams"],
            Field::Mirror => &["mirroruser", "mirror", "copypermissionsfrom", "sameas"],
        }
    }

    /// The field a header names exactly (after normalisation), if any.
    pub fn from_header(header: &str) -> Option<Field> {
        let name = normalize_name(header);
        if name.is_empty() {
            return None;
        }
        Field::ALL
            .into_iter()
            .find(|field| normalize_name(field.key()) == name || field.aliases().contains(&name.as_str()))
    }

    /// The field with this key.
    pub fn from_key(key: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|field| field.key() == key)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The form under which header names are compared: accents folded, lowercased, letters and
/// digits only. `"E-mail Address"`, `"e_mail  address"` and `"EmailAddress"` all give
/// `"emailaddress"`; `"Prénom"` gives `"prenom"`.
///
/// ```
/// assert_eq!(user_import::normalize_name(" E-mail Address "), "emailaddress");
/// assert_eq!(user_import::normalize_name("Prénom"), "prenom");
/// ```
pub fn normalize_name(name: &str) -> String {
    name.nfd().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Every normalised header name of the built-in fields (keys and aliases), for header detection.
pub fn builtin_header_names() -> Vec<String> {
    let mut names: Vec<String> = Field::ALL
        .into_iter()
        .flat_map(|field| {
            std::iter::once(normalize_name(field.key())).chain(field.aliases().iter().map(|a| (*a).to_string()))
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_stored_normalised() {
        for field in Field::ALL {
            for alias in field.aliases() {
                assert_eq!(normalize_name(alias), *alias, "{field:?}");
            }
            assert_eq!(Field::from_key(field.key()), Some(field));
            assert_eq!(Field::from_header(field.label()), Some(field), "{field:?}");
        }
    }

    #[test]
    fn no_alias_belongs_to_two_fields() {
        let names = builtin_header_names();
        let total: usize = Field::ALL.iter().map(|f| f.aliases().len()).sum();
        assert!(names.len() >= total - Field::ALL.len());
        for (i, a) in Field::ALL.iter().enumerate() {
            for b in &Field::ALL[i + 1..] {
                for alias in a.aliases() {
                    assert!(!b.aliases().contains(alias), "{alias} in {a:?} and {b:?}");
                }
            }
        }
    }

    #[test]
    fn the_seed_headers_are_recognised() {
        let cases = [
            ("First Name", Field::FirstName),
            ("Last Name", Field::LastName),
            ("Login Name", Field::Login),
            ("Password", Field::Password),
            ("Roles", Field::Roles),
            ("Superior User", Field::Superior),
            ("E-mail Address", Field::Email),
            ("userName", Field::Login),
            ("reference", Field::Reference),
            ("Role in Mitratech HQ", Field::HqRole),
            ("Time zone", Field::Timezone),
            ("Given name", Field::FirstName),
            ("Surname", Field::LastName),
            ("Manager", Field::Superior),
        ];
        for (header, field) in cases {
            assert_eq!(Field::from_header(header), Some(field), "{header}");
        }
        assert_eq!(Field::from_header("Favourite colour"), None);
        assert_eq!(Field::from_header("  "), None);
    }
}
