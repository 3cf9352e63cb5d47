//! Plain data that crosses the boundary by value (uniffi records and enums), and their
//! conversions from and to the core types.
//!
//! Large results never cross whole: they stay in Rust behind objects ([`Validation`](crate::Validation),
//! [`Plan`](crate::Plan), [`Outcome`](crate::Outcome)) that hand out pages of these records.

use std::collections::HashMap;
use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Deserializer, Serialize};
use user_import as core;

/// An account's status.
///
/// In the packed form of a directory lookup (JSON), its name: `"ACTIVE"` (or `"active"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Can sign in.
    #[serde(alias = "active")]
    Active,
    /// Invited, has not completed sign-up yet.
    #[serde(alias = "pending")]
    Pending,
    /// Access has expired.
    #[serde(alias = "expired")]
    Expired,
    /// Legacy: blocked (kept for existing users only).
    #[serde(alias = "blocked")]
    Blocked,
    /// Legacy: disabled (kept for existing users only).
    #[serde(alias = "disabled")]
    Disabled,
}

impl From<core::Status> for Status {
    fn from(status: core::Status) -> Self {
        match status {
            core::Status::Active => Status::Active,
            core::Status::Pending => Status::Pending,
            core::Status::Expired => Status::Expired,
            core::Status::Blocked => Status::Blocked,
            core::Status::Disabled => Status::Disabled,
        }
    }
}

impl From<Status> for core::Status {
    fn from(status: Status) -> Self {
        match status {
            Status::Active => core::Status::Active,
            Status::Pending => core::Status::Pending,
            Status::Expired => core::Status::Expired,
            Status::Blocked => core::Status::Blocked,
            Status::Disabled => core::Status::Disabled,
        }
    }
}

/// The role in the host application's admin console.
///
/// In the packed form of a directory lookup (JSON), its name: `"ADMIN"` (or `"admin"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HqRole {
    /// Dashboard and product switcher.
    #[serde(alias = "basic")]
    Basic,
    /// Also configures authentication and manages users.
    #[serde(alias = "admin")]
    Admin,
}

impl From<core::HqRole> for HqRole {
    fn from(role: core::HqRole) -> Self {
        match role {
            core::HqRole::Basic => HqRole::Basic,
            core::HqRole::Admin => HqRole::Admin,
        }
    }
}

impl From<HqRole> for core::HqRole {
    fn from(role: HqRole) -> Self {
        match role {
            HqRole::Basic => core::HqRole::Basic,
            HqRole::Admin => core::HqRole::Admin,
        }
    }
}

/// A user's access to one product.
///
/// In the packed form of a directory lookup (JSON): `"NO_ACCESS"`, `"GRANTED"`, or
/// `{"ROLE": {"name": "Recruiter"}}`.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductAccess {
    /// No access.
    NoAccess,
    /// Access with this role of the product.
    Role {
        /// The role's name, in the catalog's spelling.
        name: String,
    },
    /// Access to a product that has no roles.
    Granted,
}

impl From<&core::ProductAccess> for ProductAccess {
    fn from(access: &core::ProductAccess) -> Self {
        match access {
            core::ProductAccess::None => ProductAccess::NoAccess,
            core::ProductAccess::Role(role) => ProductAccess::Role { name: role.name().to_string() },
            core::ProductAccess::Granted => ProductAccess::Granted,
        }
    }
}

impl From<ProductAccess> for core::ProductAccess {
    fn from(access: ProductAccess) -> Self {
        match access {
            ProductAccess::NoAccess => core::ProductAccess::None,
            ProductAccess::Role { name } => core::ProductAccess::Role(core::Role::new(name)),
            ProductAccess::Granted => core::ProductAccess::Granted,
        }
    }
}

/// The value of a custom field.
///
/// In the packed form of a directory lookup (JSON), tagged by its kind: `{"BOOLEAN": {"value":
/// true}}`, `{"NUMBER": {"value": 4.5}}`, `{"DATE": {"iso": "2024-01-15"}}`, `{"TEXT": {"value":
/// "Sales"}}`.
#[derive(Clone, Debug, PartialEq, uniffi::Enum, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CustomValue {
    /// Yes or no.
    Boolean {
        /// The value.
        value: bool,
    },
    /// A number.
    Number {
        /// The value.
        value: f64,
    },
    /// A calendar date, ISO 8601 (`2024-01-15`).
    Date {
        /// The date as `YYYY-MM-DD`.
        iso: String,
    },
    /// Free text, or one of a fixed list.
    Text {
        /// The value.
        value: String,
    },
}

impl From<&core::CustomValue> for CustomValue {
    fn from(value: &core::CustomValue) -> Self {
        match value {
            core::CustomValue::Bool(value) => CustomValue::Boolean { value: *value },
            core::CustomValue::Number(value) => CustomValue::Number { value: *value },
            core::CustomValue::Date(date) => CustomValue::Date { iso: date.format("%Y-%m-%d").to_string() },
            core::CustomValue::Text(value) => CustomValue::Text { value: value.clone() },
        }
    }
}

impl CustomValue {
    fn into_core(self, login: &str, name: &str) -> Result<core::CustomValue, String> {
        Ok(match self {
            CustomValue::Boolean { value } => core::CustomValue::Bool(value),
            CustomValue::Number { value } => core::CustomValue::Number(value),
            CustomValue::Date { iso } => {
                let date = chrono::NaiveDate::parse_from_str(iso.trim(), "%Y-%m-%d").map_err(|_| {
                    format!("user '{login}': custom field '{name}': '{iso}' is not a date written YYYY-MM-DD")
                })?;
                core::CustomValue::Date(date)
            }
            CustomValue::Text { value } => core::CustomValue::Text(value),
        })
    }
}

/// A user account: what a `Directory` returns, what a `UserStore` writes, what a plan previews.
///
/// `password_hash` is only ever a password *hash* (a PHC string such as `$argon2id$v=19$…`):
/// plain-text passwords never cross the boundary. Users handed to a store carry the hash of their
/// initial password (or none: the user is invited); previews never carry one.
///
/// In the packed form of a directory lookup (JSON), an object with these fields (snake_case
/// names; only `login` and `status` are required, the others default as they do here; an
/// unknown field is an error, as a typo would otherwise lose data silently), or an array of all
/// the fields in this order.
#[derive(Clone, PartialEq, uniffi::Record, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The unique sign-in name (compared ignoring case).
    pub login: String,
    /// Given name.
    #[uniffi(default = "")]
    #[serde(default)]
    pub first_name: String,
    /// Family name.
    #[uniffi(default = "")]
    #[serde(default)]
    pub last_name: String,
    /// Account status.
    pub status: Status,
    /// Email address.
    #[uniffi(default = None)]
    #[serde(default)]
    pub email: Option<String>,
    /// Roles in the host application, in the catalog's spelling.
    #[uniffi(default = [])]
    #[serde(default)]
    pub roles: Vec<String>,
    /// The login of this user's superior.
    #[uniffi(default = None)]
    #[serde(default)]
    pub superior: Option<String>,
    /// IANA time zone, e.g. `Europe/Paris`.
    #[uniffi(default = None)]
    #[serde(default)]
    pub timezone: Option<String>,
    /// Role in the host application's admin console.
    #[uniffi(default = None)]
    #[serde(default)]
    pub hq_role: Option<HqRole>,
    /// An external reference (employee number, HR id).
    #[uniffi(default = None)]
    #[serde(default)]
    pub reference: Option<String>,
    /// Groups the user belongs to.
    #[uniffi(default = [])]
    #[serde(default)]
    pub groups: Vec<String>,
    /// Access per product id.
    #[uniffi(default)]
    #[serde(default)]
    pub products: HashMap<String, ProductAccess>,
    /// Custom fields by name.
    #[uniffi(default)]
    #[serde(default)]
    pub custom: HashMap<String, CustomValue>,
    /// The password's hash (PHC string), never a plain password.
    #[uniffi(default = None)]
    #[serde(default, deserialize_with = "password_hash")]
    pub password_hash: Option<String>,
}

/// Reads a password hash from the packed form without ever echoing it in an error: the
/// message of a value of the wrong type would quote the value.
fn password_hash<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(deserializer)
        .map_err(|_| serde::de::Error::custom("password_hash must be a string (a PHC hash) or null"))
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("login", &self.login)
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("status", &self.status)
            .field("email", &self.email)
            .field("roles", &self.roles)
            .field("superior", &self.superior)
            .field("groups", &self.groups)
            .field("password_hash", &self.password_hash.as_ref().map(|_| core::Password::REDACTED))
            .finish_non_exhaustive()
    }
}

impl User {
    /// The user as a store receives it: the password only when it is a hash.
    pub(crate) fn from_core(user: &core::User) -> Self {
        let password_hash = user.password.as_ref().filter(|p| p.is_phc_hash()).map(|p| p.expose().to_string());
        User { password_hash, ..User::preview(user) }
    }

    /// The user as a preview shows it: never a password, hashed or not.
    pub(crate) fn preview(user: &core::User) -> Self {
        User {
            login: user.login.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            status: user.status.into(),
            email: user.email.clone(),
            roles: user.roles.iter().map(|r| r.name().to_string()).collect(),
            superior: user.superior.clone(),
            timezone: user.timezone.map(|tz| tz.name().to_string()),
            hq_role: user.hq_role.map(Into::into),
            reference: user.reference.clone(),
            groups: user.groups.clone(),
            products: user.products.iter().map(|(id, access)| (id.clone(), access.into())).collect(),
            custom: user.custom.iter().map(|(name, value)| (name.clone(), value.into())).collect(),
            password_hash: None,
        }
    }

    /// The core user; an error names what a host gave that cannot be used.
    pub(crate) fn into_core(self) -> Result<core::User, String> {
        let login = self.login;
        if login.trim().is_empty() {
            return Err("a user has an empty login".to_string());
        }
        let timezone = match self.timezone.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            None => None,
            Some(name) => Some(
                name.parse::<chrono_tz::Tz>()
                    .map_err(|_| format!("user '{login}': '{name}' is not an IANA time zone (e.g. Europe/Paris)"))?,
            ),
        };
        let password = match self.password_hash {
            None => None,
            Some(hash) if core::looks_like_password_hash(&hash) => Some(core::Password::new(hash)),
            Some(_) => {
                return Err(format!(
                    "user '{login}': password_hash is not a password hash (a PHC string such as $argon2id$…); \
                     plain passwords are never exchanged"
                ))
            }
        };
        let mut custom = std::collections::BTreeMap::new();
        for (name, value) in self.custom {
            let value = value.into_core(&login, &name)?;
            custom.insert(name, value);
        }
        let mut user = core::User::new(login, self.first_name, self.last_name);
        user.email = self.email;
        user.password = password;
        user.roles = self.roles.iter().map(core::Role::new).collect();
        user.superior = self.superior;
        user.timezone = timezone;
        user.hq_role = self.hq_role.map(Into::into);
        user.status = self.status.into();
        user.reference = self.reference;
        user.groups = self.groups;
        user.products = self.products.into_iter().map(|(id, access)| (id, access.into())).collect();
        user.custom = custom;
        Ok(user)
    }
}

/// How serious an issue is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Severity {
    /// The row (or file) cannot be imported as it is.
    Error,
    /// Worth a look, but the row can be imported.
    Warning,
}

impl From<core::Severity> for Severity {
    fn from(severity: core::Severity) -> Self {
        match severity {
            core::Severity::Warning => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

impl From<Severity> for core::Severity {
    fn from(severity: Severity) -> Self {
        match severity {
            Severity::Error => core::Severity::Error,
            Severity::Warning => core::Severity::Warning,
        }
    }
}

/// One thing wrong with a file, a row or a cell: data, never an exception.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Issue {
    /// Row number as a person sees it in a spreadsheet program (the header row counts), or none
    /// for a file-level issue.
    pub row: Option<u64>,
    /// The column's header text, when the issue concerns a cell or a column.
    pub column: Option<String>,
    /// The field the column maps to (`email`, `product:hire`, `custom:department`).
    pub field: Option<String>,
    /// The stable code, e.g. `invalid_email` (host rules: `custom:<name>`).
    pub code: String,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, for a person, without the location.
    pub message: String,
    /// The cell's value, when it helps and is not a secret.
    pub value: Option<String>,
    /// The whole sentence, location first: `row 3, column 'E-mail': 'bob@' is not an email address`.
    pub description: String,
}

impl From<&core::Issue> for Issue {
    fn from(issue: &core::Issue) -> Self {
        Issue {
            row: issue.row,
            column: issue.column.as_deref().map(str::to_string),
            field: issue.field.as_deref().map(str::to_string),
            code: issue.code.to_string(),
            severity: issue.severity.into(),
            message: issue.message.clone(),
            value: issue.value.clone(),
            description: issue.to_string(),
        }
    }
}

/// A page of `items`: `limit` items from `offset` on (fewer at the end).
pub(crate) fn page<'a, T: 'a, U>(
    items: impl IntoIterator<Item = &'a T>,
    offset: u64,
    limit: u64,
    f: impl FnMut(&'a T) -> U,
) -> Vec<U> {
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    items.into_iter().skip(offset).take(limit).map(f).collect()
}

/// How a column was matched to its field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum MatchKind {
    /// The header is the template's label.
    Exact,
    /// The header is a known alias.
    Alias,
    /// The header has the label's words in another order.
    WordOrder,
    /// The header is close to a name (a typo).
    Fuzzy,
    /// Chosen by the host or a person.
    Override,
    /// An unknown column accepted as a custom field.
    CustomField,
    /// No field.
    Unmapped,
}

impl From<core::MatchKind> for MatchKind {
    fn from(kind: core::MatchKind) -> Self {
        match kind {
            core::MatchKind::Exact => MatchKind::Exact,
            core::MatchKind::Alias => MatchKind::Alias,
            core::MatchKind::WordOrder => MatchKind::WordOrder,
            core::MatchKind::Fuzzy => MatchKind::Fuzzy,
            core::MatchKind::Override => MatchKind::Override,
            core::MatchKind::CustomField => MatchKind::CustomField,
            _ => MatchKind::Unmapped,
        }
    }
}

/// One column of a file and the field it holds.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct MappingEntry {
    /// The 0-based position.
    pub index: u64,
    /// The header text.
    pub header: String,
    /// The field it holds (`email`, `product:hire`, `custom:department`), none when unmapped.
    pub target: Option<String>,
    /// How sure the match is, from 0 to 1.
    pub confidence: f32,
    /// How it was matched.
    pub how: MatchKind,
}

impl From<&core::ColumnMapping> for MappingEntry {
    fn from(column: &core::ColumnMapping) -> Self {
        MappingEntry {
            index: column.index as u64,
            header: column.header.clone(),
            target: column.target.as_ref().map(ToString::to_string),
            confidence: column.confidence,
            how: column.how.into(),
        }
    }
}

/// A column of a saved mapping: its header and the field it held.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SavedColumn {
    /// The header text.
    pub header: String,
    /// The field (`None`: ignored).
    pub target: Option<String>,
}

/// A confirmed mapping as a host stores it, to reapply it to files with the same header.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SavedMapping {
    /// The header signature it belongs to.
    pub signature: String,
    /// Every column, in file order.
    pub columns: Vec<SavedColumn>,
}

/// What the parse stage found out about a file.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SourceInfo {
    /// `CSV`, `XLSX`, `XLSB`, `XLS` or `ODS`.
    pub format: String,
    /// Text files: the encoding read (`UTF-8`, `UTF-16LE`, `Windows-1252`…).
    pub encoding: Option<String>,
    /// Text files: the delimiter.
    pub delimiter: Option<String>,
    /// Workbooks: the sheet read.
    pub sheet: Option<String>,
    /// Workbooks: every sheet's name, in order.
    pub sheets: Vec<String>,
    /// The header row, as a person sees it.
    pub header_row: u64,
}

impl From<&core::SourceInfo> for SourceInfo {
    fn from(info: &core::SourceInfo) -> Self {
        SourceInfo {
            format: info.format.name().to_string(),
            encoding: info.encoding.map(|e| e.name().to_string()),
            delimiter: info.delimiter.map(String::from),
            sheet: info.sheet.clone(),
            sheets: info.sheets.iter().map(|s| s.name.clone()).collect(),
            header_row: info.header_row,
        }
    }
}

/// The counts of a validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ValidationSummary {
    /// Data rows in the file.
    pub rows: u64,
    /// Rows without an error.
    pub valid: u64,
    /// Rows with an error.
    pub invalid: u64,
    /// Issues found (errors and warnings).
    pub issues: u64,
    /// Of which errors.
    pub errors: u64,
    /// True when nothing at file level blocks the import.
    pub can_import: bool,
}

/// A row without an error, as host rules and previews see it.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct ValidRecord {
    /// The row number as a person sees it.
    pub row: u64,
    /// The user the row describes (no password).
    pub user: User,
}

/// The planned outcome of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Action {
    /// A new user.
    Create,
    /// An existing user whose stored values change.
    Update,
    /// An existing user already as the file says.
    Unchanged,
    /// A valid row that is not imported.
    Skip,
    /// A row with an error.
    Fail,
}

impl From<core::Action> for Action {
    fn from(action: core::Action) -> Self {
        match action {
            core::Action::Create => Action::Create,
            core::Action::Update => Action::Update,
            core::Action::Unchanged => Action::Unchanged,
            core::Action::Skip => Action::Skip,
            _ => Action::Fail,
        }
    }
}

/// One field an update changes.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct FieldChange {
    /// The field (`email`, `roles`, `product:hire`, `custom:department`).
    pub field: String,
    /// The stored value (empty when none; a password shows as `[redacted]`).
    pub old_value: String,
    /// The value after the import.
    pub new_value: String,
}

/// A planned row, as the preview shows it.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct PlannedRow {
    /// The row number in the file.
    pub row: u64,
    /// What happens to it.
    pub action: Action,
    /// The user's login (generated when the file has none).
    pub login: Option<String>,
    /// Why a row is skipped or fails.
    pub reason: Option<String>,
    /// For updates: what changes.
    pub changes: Vec<FieldChange>,
    /// A new user without a password: an invitation is to be sent.
    pub invitation: bool,
}

impl From<core::PlannedRow> for PlannedRow {
    fn from(row: core::PlannedRow) -> Self {
        PlannedRow {
            row: row.row,
            action: row.action.into(),
            login: row.login,
            reason: row.reason,
            changes: row
                .changes
                .into_iter()
                .map(|c| FieldChange { field: c.field, old_value: c.old, new_value: c.new })
                .collect(),
            invitation: row.invitation,
        }
    }
}

/// A user the import writes, in creation order.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct PlannedWrite {
    /// The row number in the file.
    pub row: u64,
    /// Create or update.
    pub action: Action,
    /// The user as it will be written (no password).
    pub user: User,
}

/// The counts of a plan (a dry run).
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct PlanSummary {
    /// Data rows in the file.
    pub rows: u64,
    /// Rows without a validation error.
    pub valid: u64,
    /// Rows with a validation error.
    pub invalid: u64,
    /// Users to create.
    pub create: u64,
    /// Users to update.
    pub update: u64,
    /// Users already as the file says.
    pub unchanged: u64,
    /// Valid rows not imported.
    pub skip: u64,
    /// Rows that fail.
    pub fail: u64,
    /// New users who will be invited (no password).
    pub invitations: u64,
    /// Issues found.
    pub issues: u64,
    /// True when nothing at file level blocks the import.
    pub can_import: bool,
}

/// The counts of an import, as reports give them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Summary {
    /// Data rows in the file.
    pub rows: u64,
    /// Rows without a validation error.
    pub valid: u64,
    /// Rows with a validation error.
    pub invalid: u64,
    /// Users created.
    pub created: u64,
    /// Users updated.
    pub updated: u64,
    /// Rows already as the store has them.
    pub unchanged: u64,
    /// Valid rows not written.
    pub skipped: u64,
    /// Rows with an error.
    pub failed: u64,
}

impl From<core::Summary> for Summary {
    fn from(s: core::Summary) -> Self {
        Summary {
            rows: s.rows,
            valid: s.valid,
            invalid: s.invalid,
            created: s.created,
            updated: s.updated,
            unchanged: s.unchanged,
            skipped: s.skipped,
            failed: s.failed,
        }
    }
}

/// What happened to a row when a plan was applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum RowResult {
    /// The user was created.
    Created,
    /// The user was updated.
    Updated,
    /// The user was already as the file says.
    Unchanged,
    /// A valid row that was not written.
    Skipped,
    /// The row has an error.
    Failed,
}

impl From<core::RowResult> for RowResult {
    fn from(result: core::RowResult) -> Self {
        match result {
            core::RowResult::Created => RowResult::Created,
            core::RowResult::Updated => RowResult::Updated,
            core::RowResult::Unchanged => RowResult::Unchanged,
            core::RowResult::Skipped => RowResult::Skipped,
            _ => RowResult::Failed,
        }
    }
}

/// A row and what happened to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct RowOutcome {
    /// The row number in the file.
    pub row: u64,
    /// What happened.
    pub result: RowResult,
}

/// What an import does with existing and new users.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Mode {
    /// New users are created; a row for an existing user is an error.
    CreateOnly,
    /// Existing users are updated; rows for unknown users are skipped.
    UpdateOnly,
    /// New users are created, existing ones updated.
    Upsert,
}

impl From<core::Mode> for Mode {
    fn from(mode: core::Mode) -> Self {
        match mode {
            core::Mode::CreateOnly => Mode::CreateOnly,
            core::Mode::UpdateOnly => Mode::UpdateOnly,
            _ => Mode::Upsert,
        }
    }
}

impl From<Mode> for core::Mode {
    fn from(mode: Mode) -> Self {
        match mode {
            Mode::CreateOnly => core::Mode::CreateOnly,
            Mode::UpdateOnly => core::Mode::UpdateOnly,
            Mode::Upsert => core::Mode::Upsert,
        }
    }
}

/// How an update treats the values already stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum MergePolicy {
    /// A value in the file replaces the stored one (an empty cell keeps it).
    Overwrite,
    /// The file only fills fields that are empty in the store.
    FillEmpty,
}

impl From<MergePolicy> for core::MergePolicy {
    fn from(policy: MergePolicy) -> Self {
        match policy {
            MergePolicy::Overwrite => core::MergePolicy::Overwrite,
            MergePolicy::FillEmpty => core::MergePolicy::FillEmpty,
        }
    }
}

/// The kind of a custom field's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum CustomKind {
    /// Any text.
    Text,
    /// A number.
    Number,
    /// A date, ISO 8601.
    Date,
    /// Yes or no.
    Boolean,
    /// One of a fixed list of values.
    OneOf,
}

impl From<core::CustomKind> for CustomKind {
    fn from(kind: core::CustomKind) -> Self {
        match kind {
            core::CustomKind::Number => CustomKind::Number,
            core::CustomKind::Date => CustomKind::Date,
            core::CustomKind::Boolean => CustomKind::Boolean,
            core::CustomKind::OneOf => CustomKind::OneOf,
            _ => CustomKind::Text,
        }
    }
}

impl From<CustomKind> for core::CustomKind {
    fn from(kind: CustomKind) -> Self {
        match kind {
            CustomKind::Text => core::CustomKind::Text,
            CustomKind::Number => core::CustomKind::Number,
            CustomKind::Date => core::CustomKind::Date,
            CustomKind::Boolean => core::CustomKind::Boolean,
            CustomKind::OneOf => core::CustomKind::OneOf,
        }
    }
}

/// A field the host defines.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct CustomFieldSpec {
    /// The stable name (what `custom:<name>` refers to).
    pub name: String,
    /// The kind of values.
    pub kind: CustomKind,
    /// The accepted values of a `OneOf` field.
    #[uniffi(default = [])]
    pub values: Vec<String>,
    /// Whether a value is needed.
    #[uniffi(default = false)]
    pub required: bool,
    /// The column name in templates (default: the name).
    #[uniffi(default = None)]
    pub label: Option<String>,
    /// More header spellings that mean this field.
    #[uniffi(default = [])]
    pub aliases: Vec<String>,
}

impl From<&core::CustomField> for CustomFieldSpec {
    fn from(field: &core::CustomField) -> Self {
        CustomFieldSpec {
            name: field.name.clone(),
            kind: field.kind.into(),
            values: field.values.clone(),
            required: field.required,
            label: field.label.clone(),
            aliases: field.aliases.clone(),
        }
    }
}

impl From<CustomFieldSpec> for core::CustomField {
    fn from(spec: CustomFieldSpec) -> Self {
        let mut field = core::CustomField::new(spec.name, spec.kind.into()).with_values(spec.values);
        field.required = spec.required;
        field.label = spec.label;
        field.aliases = spec.aliases;
        field
    }
}

/// What an import tells the store's log.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ImportLogEntry {
    /// When the import was applied.
    pub at: SystemTime,
    /// The file imported, as named by the person.
    pub file_name: Option<String>,
    /// The admin's comment.
    pub comment: Option<String>,
    /// Create, update or both.
    pub mode: Mode,
    /// Users created.
    pub created: u64,
    /// Users updated.
    pub updated: u64,
    /// Rows whose user was already as the file says.
    pub unchanged: u64,
    /// Rows skipped.
    pub skipped: u64,
    /// Rows that failed.
    pub failed: u64,
}

impl From<&core::ImportLogEntry> for ImportLogEntry {
    fn from(entry: &core::ImportLogEntry) -> Self {
        ImportLogEntry {
            at: entry.at,
            file_name: entry.file_name.clone(),
            comment: entry.comment.clone(),
            mode: entry.mode.into(),
            created: entry.created,
            updated: entry.updated,
            unchanged: entry.unchanged,
            skipped: entry.skipped,
            failed: entry.failed,
        }
    }
}

/// What to do when some rows fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ErrorPolicy {
    /// Any failing row: nothing is written.
    AllOrNothing,
    /// The valid rows are written; failing rows and their subordinates are skipped.
    ContinueAsIs,
}

/// Password hashing parameters (argon2id). The defaults are the recommended ones; lower them only
/// in tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct PasswordHashing {
    /// Memory per hash, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

/// How a plan is applied.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct ApplyOptions {
    /// All-or-nothing, or continue as is.
    pub policy: ErrorPolicy,
    /// Refuse the import when more rows than this fail.
    #[uniffi(default = None)]
    pub max_failed_rows: Option<u64>,
    /// Refuse the import when more than this percentage of the rows fail (0 to 100).
    #[uniffi(default = None)]
    pub max_failed_percent: Option<f64>,
    /// The file's name, for the store's import log.
    #[uniffi(default = None)]
    pub file_name: Option<String>,
    /// The admin's comment, for the store's import log.
    #[uniffi(default = None)]
    pub comment: Option<String>,
    /// Users written per store call.
    #[uniffi(default = 1000)]
    pub batch_size: u32,
    /// Password hashing parameters (default: argon2id's recommended ones).
    #[uniffi(default = None)]
    pub password_hashing: Option<PasswordHashing>,
}

impl ApplyOptions {
    pub(crate) fn to_core(&self) -> core::ApplyOptions {
        let mut options = core::ApplyOptions::default();
        options.policy = match self.policy {
            ErrorPolicy::AllOrNothing => core::ErrorPolicy::AllOrNothing,
            ErrorPolicy::ContinueAsIs => core::ErrorPolicy::ContinueAsIs,
        };
        options.threshold.max_failed_rows = self.max_failed_rows;
        options.threshold.max_failed_percent = self.max_failed_percent;
        options.file_name.clone_from(&self.file_name);
        options.comment.clone_from(&self.comment);
        options.batch_size = usize::try_from(self.batch_size).unwrap_or(usize::MAX).max(1);
        if let Some(hashing) = self.password_hashing {
            options.passwords.memory_kib = hashing.memory_kib;
            options.passwords.iterations = hashing.iterations;
            options.passwords.parallelism = hashing.parallelism;
        }
        options
    }
}

/// What one user typed into a form became: the user when nothing is wrong, and the issues.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct FormCheck {
    /// The user, when the form has no error (no password).
    pub user: Option<User>,
    /// Everything found (no row numbers: a form has none).
    pub issues: Vec<Issue>,
}

/// A column of a report's mapping.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ReportColumn {
    /// The header text.
    pub column: String,
    /// The field it maps to, none when unmapped.
    pub field: Option<String>,
}

/// A user stored in the built-in SQLite store, with its bookkeeping.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct StoredUser {
    /// The user (`password_hash` holds the stored hash).
    pub user: User,
    /// When the user was created.
    pub created_at: SystemTime,
    /// When the user was last written.
    pub updated_at: SystemTime,
    /// 1 when created, plus one for every write.
    pub version: u64,
}

impl From<&core::StoredUser> for StoredUser {
    fn from(stored: &core::StoredUser) -> Self {
        StoredUser {
            user: User::from_core(&stored.user),
            created_at: stored.created_at,
            updated_at: stored.updated_at,
            version: stored.version,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_round_trips_and_only_hashes_cross() {
        let mut core_user = core::User::new("ada", "Ada", "Lovelace");
        core_user.email = Some("ada@example.com".into());
        core_user.timezone = Some(chrono_tz::Europe::Paris);
        core_user.products.insert("hire".into(), core::ProductAccess::Role(core::Role::new("Recruiter")));
        core_user.custom.insert(
            "start".into(),
            core::CustomValue::Date(chrono::NaiveDate::from_ymd_opt(2024, 1, 15).expect("a date")),
        );
        core_user.password = Some(core::Password::new("Analytical#1"));
        let ffi = User::from_core(&core_user);
        assert_eq!(ffi.password_hash, None, "a plain password never crosses");
        assert_eq!(ffi.timezone.as_deref(), Some("Europe/Paris"));
        assert_eq!(ffi.custom["start"], CustomValue::Date { iso: "2024-01-15".into() });
        let mut back = ffi.clone().into_core().expect("a valid user");
        back.password = core_user.password.clone();
        assert_eq!(back, core_user);

        let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_string();
        core_user.password = Some(core::Password::new(hash.clone()));
        let with_hash = User::from_core(&core_user);
        assert_eq!(with_hash.password_hash.as_deref(), Some(hash.as_str()));
        assert!(!format!("{with_hash:?}").contains("argon2id"), "Debug hides the hash");
        assert_eq!(User::preview(&core_user).password_hash, None);
    }

    #[test]
    fn unusable_host_users_say_what_is_wrong() {
        let user = |f: fn(&mut User)| {
            let mut user = User::from_core(&core::User::new("ada", "Ada", "L"));
            f(&mut user);
            user.into_core().expect_err("refused")
        };
        assert!(user(|u| u.timezone = Some("Mars/Olympus".into())).contains("'Mars/Olympus' is not an IANA time zone"));
        let plain = user(|u| u.password_hash = Some("hunter2".into()));
        assert!(plain.contains("not a password hash") && !plain.contains("hunter2"));
        assert!(user(|u| u.login = " ".into()).contains("empty login"));
        assert!(user(|u| {
            u.custom.insert("start".into(), CustomValue::Date { iso: "15/01/2024".into() });
        })
        .contains("not a date written YYYY-MM-DD"));
    }

    #[test]
    fn pages_stop_at_the_end() {
        let items = [1, 2, 3, 4, 5];
        assert_eq!(page(&items, 1, 2, |x| *x), [2, 3]);
        assert_eq!(page(&items, 4, 10, |x| *x), [5]);
        assert!(page(&items, 9, 10, |x| *x).is_empty());
        assert_eq!(page(&items, 0, u64::MAX, |x| *x).len(), 5);
    }
}
