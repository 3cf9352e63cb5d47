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
    /// Product access as a list, e.g. `Hire: Recruiter; Perform` (a product without a role gets
    /// its default). Per-product columns are the other way to give access.
    Products,
}

impl Field {
    /// Every built-in field, in template order.
    pub const ALL: [Field; 14] = [
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
        Field::Products,
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
            Field::Products => "products",
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
            Field::Products => "Products",
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
            Field::Products => &["products", "product", "productaccess", "applications", "apps"],
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

/// What a column maps to: a built-in field, a product's access, or a custom field.
///
/// Written as a string in configs and reports: `"email"`, `"product:hire"`,
/// `"custom:department"`; `"ignore"` in an override means the column is not read.
///
/// ```
/// use user_import::{Field, Target};
///
/// assert_eq!("email".parse::<Target>(), Ok(Target::Field(Field::Email)));
/// assert_eq!("product:hire".parse::<Target>(), Ok(Target::Product("hire".into())));
/// assert_eq!(Target::Custom("department".into()).to_string(), "custom:department");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// A built-in field.
    Field(Field),
    /// Access to the product with this id.
    Product(String),
    /// The custom field with this name.
    Custom(String),
}

impl Target {
    /// The field, if this is a built-in one.
    pub fn field(&self) -> Option<Field> {
        match self {
            Target::Field(field) => Some(*field),
            _ => None,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Field(field) => f.write_str(field.key()),
            Target::Product(id) => write!(f, "product:{id}"),
            Target::Custom(name) => write!(f, "custom:{name}"),
        }
    }
}

/// The error returned for a string that names no target.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a field: use a built-in field ({fields}), product:<id> or custom:<name>", fields = builtin_keys())]
pub struct UnknownTarget(pub String);

fn builtin_keys() -> String {
    Field::ALL.iter().map(|f| f.key()).collect::<Vec<_>>().join(", ")
}

impl std::str::FromStr for Target {
    type Err = UnknownTarget;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if let Some(id) = t.strip_prefix("product:").filter(|id| !id.is_empty()) {
            return Ok(Target::Product(id.to_string()));
        }
        if let Some(name) = t.strip_prefix("custom:").filter(|n| !n.is_empty()) {
            return Ok(Target::Custom(name.to_string()));
        }
        Field::from_key(t)
            .or_else(|| Field::from_header(t))
            .map(Target::Field)
            .ok_or_else(|| UnknownTarget(s.to_string()))
    }
}

impl Serialize for Target {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A built-in field as one import uses it: required or not, its label, extra aliases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FieldSpec {
    /// Which field.
    pub field: Field,
    /// A row without a value is refused (`required_missing`), and a file without the column
    /// cannot be imported.
    #[serde(default)]
    pub required: bool,
    /// The column name in this product's template (default: [`Field::label`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// More header spellings that mean this field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

impl FieldSpec {
    /// An optional field with its default label.
    pub fn new(field: Field) -> Self {
        FieldSpec { field, required: false, label: None, aliases: Vec::new() }
    }

    /// The label used in templates and reports.
    pub fn label(&self) -> &str {
        self.label.as_deref().unwrap_or(self.field.label())
    }
}

/// The kind of a custom field's values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CustomKind {
    /// Any text.
    #[default]
    Text,
    /// A number (`12`, `-3.5`).
    Number,
    /// A date, ISO 8601 (`2024-01-15`); spreadsheet date cells arrive in that form.
    Date,
    /// Yes or no (`yes/no/y/n/true/false/1/0/x`).
    Boolean,
    /// One of a fixed list of values (see [`CustomField::values`]).
    OneOf,
}

/// A field the host defines: a name, a kind, required or not.
///
/// ```
/// use user_import::{CustomField, CustomKind};
///
/// let department = CustomField::new("department", CustomKind::OneOf).with_values(["Sales", "R&D"]);
/// assert_eq!(department.label(), "department");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CustomField {
    /// The stable name (what `custom:<name>` refers to).
    pub name: String,
    /// The kind of values.
    #[serde(default)]
    pub kind: CustomKind,
    /// The accepted values of a `one_of` field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// Whether a value is needed.
    #[serde(default)]
    pub required: bool,
    /// The column name in templates (default: the name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// More header spellings that mean this field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

impl CustomField {
    /// An optional custom field.
    pub fn new(name: impl Into<String>, kind: CustomKind) -> Self {
        CustomField { name: name.into(), kind, values: Vec::new(), required: false, label: None, aliases: Vec::new() }
    }

    /// Sets the accepted values (for [`CustomKind::OneOf`]).
    #[must_use]
    pub fn with_values<I, S>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.values = values.into_iter().map(Into::into).collect();
        self
    }

    /// Makes the field required.
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The label used in templates.
    pub fn label(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.name)
    }
}

/// The fields an import expects.
///
/// Built-in fields are listed with [`FieldSpec`]s (an empty list means every built-in field,
/// all optional); each product of the catalog gets an access column when
/// [`Schema::product_columns`] is on; custom fields are the host's own.
///
/// ```
/// use user_import::{Field, Schema};
///
/// // The CMO flow: First/Last/Login/Password/Roles required, Superior User optional.
/// let schema = Schema::new()
///     .require([Field::FirstName, Field::LastName, Field::Login, Field::Password, Field::Roles])
///     .optional([Field::Superior]);
/// assert!(schema.is_required(Field::Login));
/// assert!(!schema.is_required(Field::Superior));
/// assert!(schema.spec(Field::Email).is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Schema {
    /// The built-in fields, in template order.
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
    /// Host-defined fields.
    #[serde(default)]
    pub custom_fields: Vec<CustomField>,
    /// Whether each catalog product has its own access column (`yes`/`no` or a role).
    #[serde(default = "default_true")]
    pub product_columns: bool,
}

fn default_true() -> bool {
    true
}

impl Schema {
    /// A schema with no fields listed (which means: every built-in field, optional).
    pub fn new() -> Self {
        Schema { product_columns: true, ..Schema::default() }
    }

    /// Adds required fields.
    #[must_use]
    pub fn require(mut self, fields: impl IntoIterator<Item = Field>) -> Self {
        for field in fields {
            self.upsert(field).required = true;
        }
        self
    }

    /// Adds optional fields.
    #[must_use]
    pub fn optional(mut self, fields: impl IntoIterator<Item = Field>) -> Self {
        for field in fields {
            self.upsert(field);
        }
        self
    }

    /// Sets the template label of a field (adding it if needed).
    #[must_use]
    pub fn label(mut self, field: Field, label: impl Into<String>) -> Self {
        self.upsert(field).label = Some(label.into());
        self
    }

    /// Adds a custom field.
    #[must_use]
    pub fn custom(mut self, field: CustomField) -> Self {
        self.custom_fields.push(field);
        self
    }

    fn upsert(&mut self, field: Field) -> &mut FieldSpec {
        let at = match self.fields.iter().position(|s| s.field == field) {
            Some(at) => at,
            None => {
                self.fields.push(FieldSpec::new(field));
                self.fields.len() - 1
            }
        };
        &mut self.fields[at]
    }

    /// The spec of a built-in field, if this import uses it.
    pub fn spec(&self, field: Field) -> Option<&FieldSpec> {
        self.fields.iter().find(|s| s.field == field)
    }

    /// The built-in fields this import uses (every one when none is listed).
    pub fn field_specs(&self) -> Vec<FieldSpec> {
        if self.fields.is_empty() {
            Field::ALL.into_iter().map(FieldSpec::new).collect()
        } else {
            self.fields.clone()
        }
    }

    /// True if the field is listed as required.
    pub fn is_required(&self, field: Field) -> bool {
        self.spec(field).is_some_and(|s| s.required)
    }

    /// Every required target (built-in fields, then custom fields) with its label.
    pub fn required_targets(&self) -> Vec<(Target, String)> {
        let fields = self
            .field_specs()
            .into_iter()
            .filter(|s| s.required)
            .map(|s| (Target::Field(s.field), s.label().to_string()));
        let custom = self
            .custom_fields
            .iter()
            .filter(|c| c.required)
            .map(|c| (Target::Custom(c.name.clone()), c.label().to_string()));
        fields.chain(custom).collect()
    }

    /// The custom field with this name.
    pub fn custom_field(&self, name: &str) -> Option<&CustomField> {
        self.custom_fields.iter().find(|c| c.name == name)
    }
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
