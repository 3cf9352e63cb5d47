//! Issues: what is wrong with a file, a row or a cell, and why.
//!
//! Bad *data* is never an `Err` in this crate: it is an [`Issue`] value, collected in row order,
//! with a stable machine [`IssueCode`] and a message a person can act on.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A stable, snake_case identifier of what is wrong.
///
/// The string forms (see [`IssueCode::as_str`]) are a contract: they keep their meaning across
/// releases, and new codes may be added. A host's own rules use [`IssueCode::Custom`], which is
/// written with a `custom:` prefix.
///
/// ```
/// use user_import::IssueCode;
///
/// assert_eq!(IssueCode::InvalidEmail.as_str(), "invalid_email");
/// assert_eq!("ragged_row".parse::<IssueCode>(), Ok(IssueCode::RaggedRow));
/// assert_eq!(IssueCode::Custom("needs_end_date".into()).to_string(), "custom:needs_end_date");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum IssueCode {
    /// A required field is empty, or no column provides it.
    RequiredMissing,
    /// The value is not an email address.
    InvalidEmail,
    /// A role that the catalog does not know.
    UnknownRole,
    /// A product that the catalog does not know.
    UnknownProduct,
    /// Not an IANA time zone.
    InvalidTimezone,
    /// A value that does not fit its field (also: an error cell such as `#N/A`).
    InvalidValue,
    /// The same login or email appears earlier in the file.
    DuplicateInFile,
    /// The user already exists in the directory.
    ExistsInDirectory,
    /// The superior named is neither in the file nor in the directory.
    SuperiorNotFound,
    /// The superior's own row could not be imported.
    SuperiorNotImported,
    /// The row is part of a cycle of superiors.
    HierarchyCycle,
    /// A user named as their own superior.
    SelfReference,
    /// A legacy status (blocked, disabled) given to a new user.
    LegacyStatus,
    /// The password does not meet the policy.
    WeakPassword,
    /// The row has more or fewer cells than the header.
    RaggedRow,
    /// A column that maps to no field.
    UnknownColumn,
    /// Two columns hold the same field.
    DuplicateColumn,
    /// A group that the catalog does not know (and the import may not create).
    UnknownGroup,
    /// The import configuration is not valid.
    InvalidConfig,
    /// The users changed since the plan was made; the plan was not applied.
    StalePlan,
    /// The run was cancelled.
    Cancelled,
    /// The file cannot be read (I/O error, damaged file, missing sheet).
    Unreadable,
    /// The file holds no data rows.
    Empty,
    /// The file is not a spreadsheet or delimited text.
    WrongFormat,
    /// The text cannot be decoded.
    Encoding,
    /// A limit was exceeded (file size, uncompressed size, rows, columns, cell length).
    TooLarge,
    /// A host-defined code, written `custom:<name>`.
    Custom(String),
}

impl IssueCode {
    /// The stable string form, e.g. `"invalid_email"`.
    pub fn as_str(&self) -> &str {
        match self {
            IssueCode::RequiredMissing => "required_missing",
            IssueCode::InvalidEmail => "invalid_email",
            IssueCode::UnknownRole => "unknown_role",
            IssueCode::UnknownProduct => "unknown_product",
            IssueCode::InvalidTimezone => "invalid_timezone",
            IssueCode::InvalidValue => "invalid_value",
            IssueCode::DuplicateInFile => "duplicate_in_file",
            IssueCode::ExistsInDirectory => "exists_in_directory",
            IssueCode::SuperiorNotFound => "superior_not_found",
            IssueCode::SuperiorNotImported => "superior_not_imported",
            IssueCode::HierarchyCycle => "hierarchy_cycle",
            IssueCode::SelfReference => "self_reference",
            IssueCode::LegacyStatus => "legacy_status",
            IssueCode::WeakPassword => "weak_password",
            IssueCode::RaggedRow => "ragged_row",
            IssueCode::UnknownColumn => "unknown_column",
            IssueCode::DuplicateColumn => "duplicate_column",
            IssueCode::UnknownGroup => "unknown_group",
            IssueCode::InvalidConfig => "invalid_config",
            IssueCode::StalePlan => "stale_plan",
            IssueCode::Cancelled => "cancelled",
            IssueCode::Unreadable => "unreadable",
            IssueCode::Empty => "empty",
            IssueCode::WrongFormat => "wrong_format",
            IssueCode::Encoding => "encoding",
            IssueCode::TooLarge => "too_large",
            IssueCode::Custom(name) => name,
        }
    }

    /// Every built-in code, in a fixed order (for documentation and exhaustive tests).
    pub const BUILT_IN: [IssueCode; 26] = [
        IssueCode::RequiredMissing,
        IssueCode::InvalidEmail,
        IssueCode::UnknownRole,
        IssueCode::UnknownProduct,
        IssueCode::InvalidTimezone,
        IssueCode::InvalidValue,
        IssueCode::DuplicateInFile,
        IssueCode::ExistsInDirectory,
        IssueCode::SuperiorNotFound,
        IssueCode::SuperiorNotImported,
        IssueCode::HierarchyCycle,
        IssueCode::SelfReference,
        IssueCode::LegacyStatus,
        IssueCode::WeakPassword,
        IssueCode::RaggedRow,
        IssueCode::UnknownColumn,
        IssueCode::DuplicateColumn,
        IssueCode::UnknownGroup,
        IssueCode::InvalidConfig,
        IssueCode::StalePlan,
        IssueCode::Cancelled,
        IssueCode::Unreadable,
        IssueCode::Empty,
        IssueCode::WrongFormat,
        IssueCode::Encoding,
        IssueCode::TooLarge,
    ];

    /// True for the codes that concern a whole file rather than a row.
    pub fn is_file_level(&self) -> bool {
        matches!(
            self,
            IssueCode::Unreadable
                | IssueCode::Empty
                | IssueCode::WrongFormat
                | IssueCode::Encoding
                | IssueCode::TooLarge
                | IssueCode::InvalidConfig
        )
    }
}

impl fmt::Display for IssueCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let IssueCode::Custom(name) = self {
            write!(f, "custom:{name}")
        } else {
            f.write_str(self.as_str())
        }
    }
}

/// The error returned when a string is not a known issue code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an issue code (host codes start with 'custom:')")]
pub struct UnknownIssueCode(pub String);

impl FromStr for IssueCode {
    type Err = UnknownIssueCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(name) = s.strip_prefix("custom:") {
            if !name.is_empty() {
                return Ok(IssueCode::Custom(name.to_string()));
            }
        }
        IssueCode::BUILT_IN
            .iter()
            .find(|code| code.as_str() == s)
            .cloned()
            .ok_or_else(|| UnknownIssueCode(s.to_string()))
    }
}

impl Serialize for IssueCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IssueCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How serious an issue is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Severity {
    /// The row (or file) cannot be imported as it is.
    #[default]
    Error,
    /// Worth a look, but the row can be imported.
    Warning,
}

impl Severity {
    /// `"error"` or `"warning"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One thing wrong with a file, a row or a cell.
///
/// `row` is the row number a person sees in Excel or LibreOffice (1-based, the header row
/// counts; for CSV the line on which the record starts). `column` is the header text of the
/// cell's column as the file spells it, `field` the schema field it maps to. `message` says what
/// is wrong without repeating the location; [`Display`](fmt::Display) puts the location first:
///
/// ```
/// use user_import::{Issue, IssueCode};
///
/// let issue = Issue::error(IssueCode::InvalidEmail, "'bob@' is not an email address")
///     .at_row(14)
///     .in_column(3, "E-mail")
///     .with_value("bob@");
/// assert_eq!(issue.to_string(), "row 14, column 'E-mail': 'bob@' is not an email address");
/// ```
///
/// The `value` of a secret (a password) is never kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Issue {
    /// Row number as a person sees it, or `None` for a file-level issue.
    pub row: Option<u64>,
    /// The column's header text, when the issue concerns one cell or column (shared by the
    /// issues of a column).
    pub column: Option<Arc<str>>,
    /// The 0-based index of that column in the file (not part of the JSON contract).
    #[serde(skip)]
    pub column_index: Option<usize>,
    /// The schema field the column maps to, when known (shared like `column`).
    pub field: Option<Arc<str>>,
    /// What is wrong, as a stable code.
    pub code: IssueCode,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, for a person, without the location.
    pub message: String,
    /// The raw value of the cell, when it helps and is not a secret.
    pub value: Option<String>,
}

impl Issue {
    /// A new issue with the given severity, not yet tied to a row or column.
    pub fn new(code: IssueCode, severity: Severity, message: impl Into<String>) -> Self {
        Issue {
            row: None,
            column: None,
            column_index: None,
            field: None,
            code,
            severity,
            message: message.into(),
            value: None,
        }
    }

    /// A new error.
    pub fn error(code: IssueCode, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, message)
    }

    /// A new warning.
    pub fn warning(code: IssueCode, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, message)
    }

    /// Ties the issue to a row number (as a person sees it).
    #[must_use]
    pub fn at_row(mut self, row: u64) -> Self {
        self.row = Some(row);
        self
    }

    /// Ties the issue to a column, by 0-based index and header text.
    #[must_use]
    pub fn in_column(mut self, index: usize, header: impl Into<Arc<str>>) -> Self {
        self.column_index = Some(index);
        self.column = Some(header.into());
        self
    }

    /// Names the schema field concerned.
    #[must_use]
    pub fn for_field(mut self, field: impl Into<Arc<str>>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Keeps the offending raw value (never call this with a secret).
    #[must_use]
    pub fn with_value(mut self, value: impl Into<String>) -> Self {
        self.value = Some(value.into());
        self
    }

    /// True for errors, false for warnings.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.row, &self.column) {
            (Some(row), Some(column)) => write!(f, "row {row}, column '{column}': ")?,
            (Some(row), None) => write!(f, "row {row}: ")?,
            (None, Some(column)) => write!(f, "column '{column}': ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_code_round_trips_through_its_string() {
        for code in IssueCode::BUILT_IN {
            assert_eq!(code.as_str().parse::<IssueCode>(), Ok(code.clone()));
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn custom_codes_need_a_name() {
        assert!("custom:".parse::<IssueCode>().is_err());
        assert!("bogus".parse::<IssueCode>().is_err());
        let code: IssueCode = serde_json::from_str("\"custom:max_admins\"").unwrap();
        assert_eq!(code, IssueCode::Custom("max_admins".into()));
    }

    #[test]
    fn display_puts_the_location_first() {
        let file = Issue::error(IssueCode::Empty, "the file has no data rows");
        assert_eq!(file.to_string(), "the file has no data rows");
        let row = Issue::warning(IssueCode::RaggedRow, "3 cells, the header has 4").at_row(7);
        assert_eq!(row.to_string(), "row 7: 3 cells, the header has 4");
    }

    #[test]
    fn json_has_the_contract_fields_only() {
        let issue = Issue::error(IssueCode::InvalidValue, "#N/A is an error cell").at_row(3).in_column(2, "Email");
        let value = serde_json::to_value(&issue).unwrap();
        let mut keys: Vec<_> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["code", "column", "field", "message", "row", "severity", "value"]);
        assert_eq!(value["severity"], "error");
    }
}
