//! The errors of the bindings: one enum for what a call cannot do, one for what a host callback
//! reports.
//!
//! Bad data in a file is never an error: it is an [`Issue`](crate::Issue) in a result. An error
//! means the call could not do its job, and its variant says what the caller can do about it.
//! The human text is in the `detail` field (never `message`, which clashes with
//! `Throwable.message` in Kotlin).

use user_import as core;
use user_import::ErrorKind;

/// Why a call could not do its job. Each variant names something the caller can act on; `detail`
/// says it in a sentence a person understands.
///
/// Python raises `UserImportError.<Variant>`, Kotlin throws `UserImportException.<Variant>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum UserImportError {
    /// The file cannot be opened or read: missing, unreadable, damaged, password-protected, or
    /// the sheet asked for does not exist. Check the path, or ask for the file again.
    #[error("{detail}")]
    UnreadableFile {
        /// What went wrong, for a person.
        detail: String,
    },
    /// The bytes are not a spreadsheet nor delimited text (an image, a PDF, random bytes).
    #[error("{detail}")]
    WrongFormat {
        /// What the bytes look like, and what to send instead.
        detail: String,
    },
    /// The file holds no data rows, or the header row asked for is blank.
    #[error("{detail}")]
    EmptyFile {
        /// What is missing.
        detail: String,
    },
    /// The text cannot be decoded with the encoding asked for.
    #[error("{detail}")]
    Encoding {
        /// What could not be decoded.
        detail: String,
    },
    /// A configured limit (file size, rows, columns, cell length) was exceeded.
    #[error("{detail}")]
    TooLarge {
        /// Which limit, and how to raise it if the file is genuine.
        detail: String,
    },
    /// The import configuration is not valid (TOML/JSON syntax, unknown field, bad rule).
    #[error("{detail}")]
    InvalidConfig {
        /// What is wrong, naming the setting.
        detail: String,
    },
    /// An argument of the call cannot be used: a column the file does not have, a target that is
    /// no field, a source already read.
    #[error("{detail}")]
    InvalidArgument {
        /// What is wrong with the argument.
        detail: String,
    },
    /// The users in the store changed since the plan was made: make the plan again and check it.
    #[error("{detail}")]
    StalePlan {
        /// What to do.
        detail: String,
    },
    /// The run was cancelled (by its cancel token or its progress listener).
    #[error("{detail}")]
    Cancelled {
        /// How far it went.
        detail: String,
    },
    /// The directory of existing users failed (a host `Directory` raised, or returned a user that
    /// cannot be used).
    #[error("{detail}")]
    Directory {
        /// What failed, with the host's own message.
        detail: String,
    },
    /// A user store failed (a host `UserStore` raised, or the SQLite store is locked, damaged or
    /// refused a write); nothing of the import was kept.
    #[error("{detail}")]
    Store {
        /// What failed, with the store's own message.
        detail: String,
    },
    /// A host callback other than a directory or store (a progress listener, a rule) raised.
    #[error("{detail}")]
    Callback {
        /// Which callback, and the host's own message.
        detail: String,
    },
    /// A report or template could not be written (a folder that does not exist, a full disk, a
    /// file open in another program).
    #[error("{detail}")]
    WriteFailed {
        /// What could not be written, and why.
        detail: String,
    },
}

impl From<core::Error> for UserImportError {
    fn from(err: core::Error) -> Self {
        let detail = err.to_string();
        match err.kind() {
            ErrorKind::WrongFormat { .. } => UserImportError::WrongFormat { detail },
            ErrorKind::Empty(_) | ErrorKind::HeaderRowMissing(_) => UserImportError::EmptyFile { detail },
            ErrorKind::Encoding(_) => UserImportError::Encoding { detail },
            ErrorKind::TooLarge { .. } => UserImportError::TooLarge { detail },
            ErrorKind::Config(_) => UserImportError::InvalidConfig { detail },
            ErrorKind::Cancelled => UserImportError::Cancelled { detail },
            ErrorKind::StalePlan => UserImportError::StalePlan { detail },
            ErrorKind::Directory(_) => UserImportError::Directory { detail },
            ErrorKind::Store(_) => UserImportError::Store { detail },
            ErrorKind::Write(_) => UserImportError::WriteFailed { detail },
            // Io, Corrupt, Encrypted, SheetNotFound, and kinds added to the core later.
            _ => UserImportError::UnreadableFile { detail },
        }
    }
}

impl UserImportError {
    pub(crate) fn invalid_argument(detail: impl Into<String>) -> Self {
        UserImportError::InvalidArgument { detail: detail.into() }
    }

    pub(crate) fn write_failed(what: &str, err: impl std::fmt::Display) -> Self {
        UserImportError::WriteFailed { detail: format!("cannot write {what}: {err}") }
    }
}

/// What a host callback (`Directory`, `UserStore`, `ProgressListener`, `Rule`) raises.
///
/// Raise `Failed` on purpose (`raise HostError.Failed("LDAP is down")` in Python,
/// `throw HostException.Failed("LDAP is down")` in Kotlin); any other exception arrives as
/// `Unexpected`, with its type and message. Either way the call that ran the callback fails with
/// a [`UserImportError`] that carries the host's text, and nothing is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum HostError {
    /// The host reports a failure it knows about.
    #[error("{detail}")]
    Failed {
        /// What failed, for a person.
        detail: String,
    },
    /// The callback raised an exception that is not a `HostError`.
    #[error("unexpected exception in a host callback: {detail}")]
    Unexpected {
        /// The exception, as the host language prints it.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for HostError {
    fn from(err: uniffi::UnexpectedUniFFICallbackError) -> Self {
        HostError::Unexpected { detail: err.reason }
    }
}

/// The core error for a host directory's failure.
pub(crate) fn directory_failed(err: impl std::fmt::Display) -> core::Error {
    core::Error::new(ErrorKind::Directory(err.to_string()))
}

/// The core error for a host store's failure.
pub(crate) fn store_failed(err: impl std::fmt::Display) -> core::Error {
    core::Error::new(ErrorKind::Store(format!("the user store failed: {err}")))
}

/// Locks a mutex, also after a panic elsewhere left it poisoned: every value kept behind these
/// locks stays consistent between statements, so there is nothing to repair.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_map_to_the_variant_a_caller_acts_on() {
        let garbage =
            core::SourceBuilder::new().from_bytes(b"\x89PNG\r\n\x1a\n....".to_vec()).expect_err("not a table");
        assert!(
            matches!(UserImportError::from(garbage), UserImportError::WrongFormat { detail } if detail.contains("PNG"))
        );
        let missing = core::SourceBuilder::new().from_path("/no/such/file.csv").expect_err("missing");
        assert!(matches!(UserImportError::from(missing), UserImportError::UnreadableFile { .. }));
        let config = core::ImportConfig::from_toml_str("[schema]\nfeilds = []").expect_err("bad config");
        assert!(
            matches!(UserImportError::from(config), UserImportError::InvalidConfig { detail } if detail.contains("feilds"))
        );
        assert!(matches!(
            UserImportError::from(core::Error::new(ErrorKind::StalePlan)),
            UserImportError::StalePlan { .. }
        ));
        assert!(
            matches!(UserImportError::from(store_failed("disk full")), UserImportError::Store { detail } if detail.contains("disk full"))
        );
        assert!(matches!(
            UserImportError::from(directory_failed(HostError::Failed { detail: "LDAP is down".into() })),
            UserImportError::Directory { detail } if detail.contains("LDAP is down")
        ));
    }
}
