//! The error type: raised only when a stage *cannot continue*.
//!
//! Bad data inside a readable file is never an error: it is an [`Issue`](crate::Issue). An
//! [`Error`] means the file as a whole could not be used (or, in later stages, that a
//! configuration or a store failed). Every error has a stable [`IssueCode`] and turns into a
//! file-level [`Issue`] with [`Error::to_issue`], so a host can report both the same way.

use std::fmt;
use std::io;

use crate::issue::{Issue, IssueCode};
use crate::source::{Format, Limit};

/// A specialised `Result` for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error that stops a stage, with the file it concerns when there is one.
///
/// ```
/// use user_import::{IssueCode, SourceBuilder};
///
/// let err = SourceBuilder::new().from_bytes(b"\x89PNG\r\n\x1a\n....".to_vec()).unwrap_err();
/// assert_eq!(err.code(), IssueCode::WrongFormat);
/// assert!(err.to_string().contains("PNG image"));
/// ```
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    file: Option<String>,
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be opened or read.
    #[error("cannot read the file: {0}")]
    Io(#[from] io::Error),
    /// The file has the signature of a spreadsheet but its content is damaged or incomplete.
    #[error(
        "the {format} file is damaged or incomplete ({reason}); open it in a spreadsheet program and save it again"
    )]
    Corrupt {
        /// The format the bytes announced.
        format: Format,
        /// What the reader reported.
        reason: String,
    },
    /// The workbook is encrypted with a password.
    #[error("the workbook is protected with a password; remove the protection (File > Info > Protect Workbook) and save it again")]
    Encrypted,
    /// The bytes are not a spreadsheet nor delimited text.
    #[error("this is {found}, not a spreadsheet or CSV file{hint}")]
    WrongFormat {
        /// What the bytes look like, e.g. "a PNG image".
        found: String,
        /// Advice for a person, starting with "; " when present.
        hint: String,
    },
    /// The file holds no data rows.
    #[error("{0}")]
    Empty(String),
    /// The text cannot be decoded with the encoding asked for.
    #[error("the text cannot be decoded: {0}")]
    Encoding(String),
    /// A configured limit was exceeded.
    #[error("{what} exceeds the limit of {max} ({found}); raise `Limits::{field}` if the file is genuine", what = limit.describe(), field = limit.field_name())]
    TooLarge {
        /// Which limit.
        limit: Limit,
        /// The limit's value.
        max: u64,
        /// What was found (a number, or a description).
        found: String,
    },
    /// The sheet asked for does not exist.
    #[error("there is no sheet {requested}; the workbook has: {}", .available.join(", "))]
    SheetNotFound {
        /// The sheet asked for, quoted or as a number.
        requested: String,
        /// The names of the sheets the workbook has.
        available: Vec<String>,
    },
    /// The header row asked for is blank or beyond the end of the file.
    #[error("row {0} is blank or beyond the end of the file, so it cannot be the header")]
    HeaderRowMissing(u64),
    /// The import configuration is not valid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The run was cancelled by its progress listener.
    #[error("cancelled")]
    Cancelled,
    /// The users changed since the plan was made: applying it would overwrite newer data.
    #[error("the users in the store changed since this plan was made; make the plan again (re-run the preview) and check it")]
    StalePlan,
    /// The host's directory of existing users failed.
    #[error("the directory of existing users failed: {0}")]
    Directory(String),
    /// A user store failed (locked, damaged, written by a newer version, a write it refused); the
    /// message says what to do.
    #[error("{0}")]
    Store(String),
    /// A report or template could not be written (a full disk, a folder that does not exist, a
    /// file open in another program).
    #[error("cannot write the file: {0}")]
    Write(String),
}

impl Error {
    /// Wraps a kind, with no file name.
    pub fn new(kind: ErrorKind) -> Self {
        Error(Box::new(Inner { kind, file: None }))
    }

    /// Names the file the error concerns (shown first in the message).
    #[must_use]
    pub fn with_file(mut self, file: impl Into<String>) -> Self {
        self.0.file = Some(file.into());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// The file the error concerns, when known.
    pub fn file(&self) -> Option<&str> {
        self.0.file.as_deref()
    }

    /// The stable issue code of this error.
    pub fn code(&self) -> IssueCode {
        match &self.0.kind {
            ErrorKind::Io(_) | ErrorKind::Corrupt { .. } | ErrorKind::Encrypted => IssueCode::Unreadable,
            ErrorKind::SheetNotFound { .. } => IssueCode::Unreadable,
            ErrorKind::WrongFormat { .. } => IssueCode::WrongFormat,
            ErrorKind::Empty(_) | ErrorKind::HeaderRowMissing(_) => IssueCode::Empty,
            ErrorKind::Encoding(_) => IssueCode::Encoding,
            ErrorKind::TooLarge { .. } => IssueCode::TooLarge,
            ErrorKind::Config(_) => IssueCode::InvalidConfig,
            ErrorKind::StalePlan => IssueCode::StalePlan,
            ErrorKind::Cancelled => IssueCode::Cancelled,
            ErrorKind::Directory(_) | ErrorKind::Store(_) | ErrorKind::Write(_) => IssueCode::Unreadable,
        }
    }

    /// The same failure as a file-level [`Issue`], for reports.
    pub fn to_issue(&self) -> Issue {
        Issue::error(self.code(), self.0.kind.to_string())
    }

    pub(crate) fn wrong_format(found: impl Into<String>, hint: impl Into<String>) -> Self {
        let hint = hint.into();
        let hint = if hint.is_empty() { hint } else { format!("; {hint}") };
        Error::new(ErrorKind::WrongFormat { found: found.into(), hint })
    }

    pub(crate) fn corrupt(format: Format, reason: impl fmt::Display) -> Self {
        Error::new(ErrorKind::Corrupt { format, reason: reason.to_string() })
    }

    pub(crate) fn empty(reason: impl Into<String>) -> Self {
        Error::new(ErrorKind::Empty(reason.into()))
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config(message.into()))
    }

    pub(crate) fn store(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Store(message.into()))
    }

    pub(crate) fn too_large(limit: Limit, max: u64, found: impl fmt::Display) -> Self {
        Error::new(ErrorKind::TooLarge { limit, max, found: found.to_string() })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.0.file {
            write!(f, "{file}: ")?;
        }
        fmt::Display::fmt(&self.0.kind, f)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error").field("kind", &self.0.kind).field("file", &self.0.file).finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0.kind)
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind)
    }
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Self {
        Error::new(ErrorKind::Io(err))
    }
}
